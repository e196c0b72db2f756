"""Datasets: TFRecord writing and `tf.data` loading, and the embedded default data.

`prepare` writes a dataset once as TFRecord shards with a `manifest.json` (counts, shapes, a
SHA-256 per shard) under `tfrecords/`; `load` reads it back as a batched `tf.data.Dataset` of
`(float32 images in [0, 1], int64 labels)`, checking the shards first. scikit-learn's handwritten
digits are embedded (no download; prepared on first use); any image-classification dataset of
tensorflow-datasets is prepared with `garden data prepare tfds:NAME`. Datasets generated in memory
are added with `register_dataset` and loaded the same way; `list_datasets` names them all.

Example:

```python
from garden import data

train = data.load("digits", "train", image_size=(32, 32), channels=3, batch_size=64)
test = data.load("digits", "test", image_size=(32, 32), channels=3, batch_size=64)
classes = data.info("digits")["num_classes"]  # 10
```
"""

from garden.data._pipeline import info, list_datasets, load, prepare
from garden.data._records import CorruptShardError
from garden.data._registry import register_dataset
from garden.data.graphs import (
    Graph,
    diffusion_kernel,
    karate,
    planetoid,
    stochastic_block_model,
    write_planetoid,
)
from garden.data.segmentation import crop_to_output, unet_weight_map
from garden.data.text import char_encode, char_windows, python_docs

# Generated datasets, registered on import.
from garden.data import (  # noqa: E402, F401
    audio, distorted_digits, oov_words, photo_crops, ring, shapes, sr_patches)

__all__ = [
    "CorruptShardError",
    "Graph",
    "char_encode",
    "char_windows",
    "crop_to_output",
    "diffusion_kernel",
    "info",
    "karate",
    "list_datasets",
    "load",
    "planetoid",
    "prepare",
    "python_docs",
    "register_dataset",
    "stochastic_block_model",
    "unet_weight_map",
    "write_planetoid",
]
