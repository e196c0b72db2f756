"""Fine-tuning from a checkpoint file: the new classifier trains on the frozen backbone, then the
whole network trains at the scaled rate; the few-shot and pixel-scaling transforms it uses."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from garden import models, recipes
from garden.data import transforms
from garden.recipes import build
from garden.recipes.procedures.fine_tuning import _fine_tuning_config, classifier_on, fine_tune

TRAIN = {"epochs": [1, 1], "procedure": "garden.recipes.procedures.fine_tuning:fine_tune",
         "optimizer": {"class_name": "Adam", "config": {"learning_rate": 0.01}},
         "metrics": ["accuracy"], "options": {"classes": 3}}


@pytest.fixture(autouse=True)
def _eager(monkeypatch):
    """The procedure's models run eagerly: tracing the backbone's gradient takes longer than
    the tiny network's few steps."""
    compile_model = build.compile_model

    def compile_eager(model, train_cfg):
        compile_model(model, train_cfg)
        model.run_eagerly = True

    monkeypatch.setattr(build, "compile_model", compile_eager)


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory):
    """A depth-reduced ResNet-18 backbone's random weights in a Keras weights file."""
    keras.utils.set_random_seed(1)
    source = _backbone()
    path = tmp_path_factory.mktemp("checkpoint") / "backbone.weights.h5"
    source.save_weights(path)
    return path, source.get_weights()


def _backbone(weights=None):
    return models.get_entry("resnet18").tiny(
        include_top=False, pooling="avg", input_shape=(32, 32, 3), include_preprocessing=True,
        weights=weights)


def _data():
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (12, 32, 32, 3)).astype("float32")
    return tf.data.Dataset.from_tensor_slices((images, np.arange(12) % 3)).batch(6)


class _Snapshots(keras.callbacks.Callback):
    """The backbone's and the classifier's weights at the start and after every epoch, and the
    learning rate of every epoch."""

    def __init__(self, backbone):
        super().__init__()
        self.backbone, self.backbone_weights, self.head_weights, self.rates = backbone, [], [], []

    def _record(self):
        self.backbone_weights.append([w.copy() for w in self.backbone.get_weights()])
        self.head_weights.append(self.model.get_layer("predictions").get_weights())

    def on_train_begin(self, logs=None):
        if not self.backbone_weights:
            self._record()

    def on_epoch_begin(self, epoch, logs=None):
        self.rates.append(float(self.model.optimizer.learning_rate))

    def on_epoch_end(self, epoch, logs=None):
        self._record()


def _run(tmp_path, backbone, snapshots, **options):
    train = {**TRAIN, "options": {**TRAIN["options"], **options}}
    return recipes.Run(
        recipe={"train": train}, variant="default", seed=0, model=backbone, train_data=_data(),
        test_data=_data(), run_dir=tmp_path, callbacks=[snapshots],
        options=recipes.procedure_options(train),
    )


def _batch_norm(model):
    """Whether each of `model.weights` is a batch normalization's."""
    ids = {id(w) for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)
           for w in layer.weights}
    return [id(w) in ids for w in model.weights]


def test_the_head_trains_on_the_frozen_backbone_then_everything_trains(tmp_path, checkpoint):
    path, source_weights = checkpoint
    backbone = _backbone(weights=str(path))
    assert all(np.array_equal(a, b) for a, b in zip(backbone.get_weights(), source_weights))
    snapshots = _Snapshots(backbone)
    scores = fine_tune(_run(tmp_path, backbone, snapshots))

    start, after_head, after_all = snapshots.backbone_weights
    assert all(np.array_equal(a, b) for a, b in zip(start, after_head))  # frozen, BN included
    assert not np.array_equal(snapshots.head_weights[0][0], snapshots.head_weights[1][0])
    batch_norm = _batch_norm(backbone)
    for frozen, before, after in zip(batch_norm, after_head, after_all):
        # Batch normalization stays frozen, with the checkpoint's statistics; all else moves.
        assert np.array_equal(before, after) == frozen
    assert snapshots.rates == pytest.approx([0.01, 0.001])

    assert set(scores) == {"head_test_loss", "head_test_accuracy", "test_loss", "test_accuracy"}
    classifier = keras.saving.load_model(tmp_path / "classifier.keras")
    assert classifier.output.shape == (None, 3)
    images, labels = (np.concatenate(a) for a in zip(*_data().as_numpy_iterator()))
    probabilities = keras.ops.convert_to_numpy(classifier(images))
    assert probabilities.sum(axis=1) == pytest.approx(np.ones(12), abs=1e-5)
    assert scores["test_accuracy"] == pytest.approx(np.mean(probabilities.argmax(1) == labels))


def test_from_scratch_batch_normalization_trains_too(tmp_path, checkpoint):
    backbone = _backbone()
    snapshots = _Snapshots(backbone)
    fine_tune(_run(tmp_path, backbone, snapshots, inference_batch_norm=False,
                   learning_rate_factor=1.0))
    start, after_head, after_all = snapshots.backbone_weights
    assert all(np.array_equal(a, b) for a, b in zip(start, after_head))
    assert all(not np.array_equal(a, b) for a, b in zip(after_head, after_all))
    assert snapshots.rates == pytest.approx([0.01, 0.01])


def test_a_backbone_without_pooling_or_a_scheduled_rate_is_refused():
    backbone = models.get_entry("resnet18").tiny(include_top=False, input_shape=(32, 32, 3))
    with pytest.raises(ValueError, match="include_top=false and pooling"):
        classifier_on(backbone, 3)
    schedule = {"class_name": "SGD", "config": {"learning_rate": {
        "class_name": "CosineDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": 9}}}}
    with pytest.raises(ValueError, match="use a constant rate"):
        _fine_tuning_config({"optimizer": schedule}, 0.1)
    with pytest.raises(ValueError, match="epochs=\\[1, 2, 3\\]"):
        fine_tune(recipes.Run(recipe={"train": {**TRAIN, "epochs": [1, 2, 3]}}, variant="d",
                              seed=0, model=backbone, train_data=None, test_data=None,
                              callbacks=[], run_dir=None, options={}))


def test_the_bundled_recipe_fine_tunes_imagenet_weights_against_scratch():
    variants = dict(recipes.variants(recipes.load_recipe("resnet18_finetune_digits")))
    assert variants["pretrained"]["model"]["weights"] == "imagenet"
    assert "weights" not in variants["scratch"]["model"]
    assert recipes.procedure_options(variants["pretrained"]["train"]) == {
        "classes": 10, "learning_rate_factor": 0.1, "inference_batch_norm": True}


def test_per_class_keeps_count_examples_of_each_class():
    labels = np.array([0, 1, 2, 0, 1, 0, 0, 1, 0, 0])
    data = tf.data.Dataset.from_tensor_slices((np.arange(10.0), labels))
    kept = [(float(x), int(y)) for x, y in transforms.per_class(2, seed=3)(data)]
    assert sorted(np.bincount([y for _, y in kept]).tolist()) == [1, 2, 2]  # class 2 has one
    assert all(labels[int(x)] == y for x, y in kept)
    assert kept == [(float(x), int(y)) for x, y in transforms.per_class(2, seed=3)(data)]
    with pytest.raises(ValueError, match="count"):
        transforms.per_class(0)


def test_scale_pixels_multiplies_the_images_only():
    data = tf.data.Dataset.from_tensor_slices((np.array([[0.0, 0.5, 1.0]]), np.array([7])))
    (image, label), = transforms.scale_pixels(255.0)(data).as_numpy_iterator()
    assert image.tolist() == [0.0, 127.5, 255.0] and label == 7
    with pytest.raises(ValueError, match="factor"):
        transforms.scale_pixels(0)
