"""`SampleGrid`: a grid of generated samples written after every epoch, and a GIF of them all."""

from pathlib import Path

import keras

from garden.tools.generative import image_grid, save_gif, save_grid
from garden.utils.checks import check_int


class SampleGrid(keras.callbacks.Callback):
    """Writes a PNG grid of samples from fixed noise before training and after every `every`
    epochs, and at the end of training an animated GIF of all the grids.

    The same noise is decoded each time, so the grids show how the samples of one z evolve
    (Radford et al.'s Figure 3; mode collapse shows as tiles turning alike). Works with any
    model that has `noise(count, seed)` and `generate(z)`: garden's `GAN` and `VAE`.

    Args:
        directory: str or Path. Where `epoch_000.png` (before training), `epoch_001.png`, ...
            and `samples.gif` go.
        count: int. Samples per grid. Defaults to 64.
        columns: int or None. Samples per row. Defaults to a square grid.
        seed: int. Seed of the fixed noise. Defaults to 0.
        every: int. Epochs between grids. Defaults to 1.
        value_range: (float, float). Sample values shown black and white. Defaults to (-1, 1),
            a tanh generator's range.
        scale: int. Pixels per sample pixel in the PNGs. Defaults to 2.
        gif: bool. Whether to write `samples.gif` at the end (at the samples' own size, so
            that many frames stay small). Defaults to True.

    Example:
    >>> from garden import models
    >>> gan = models.dcgan(latent_dim=8, data_shape=(16, 16, 1), filters=8, blocks=2)
    >>> gan.compile()
    >>> images = np.random.uniform(-1, 1, (32, 16, 16, 1)).astype("float32")
    >>> history = gan.fit(images, epochs=2, verbose=0, callbacks=[SampleGrid("/tmp/grids")])
    >>> sorted(p.name for p in Path("/tmp/grids").iterdir())
    ['epoch_000.png', 'epoch_001.png', 'epoch_002.png', 'samples.gif']
    """

    def __init__(self, directory, count=64, columns=None, seed=0, every=1,
                 value_range=(-1.0, 1.0), scale=2, gif=True):
        super().__init__()
        self.directory = Path(directory)
        self.count = check_int("count", count)
        self.columns = None if columns is None else check_int("columns", columns)
        self.seed = seed
        self.every = check_int("every", every)
        self.value_range = tuple(value_range)
        self.scale = check_int("scale", scale)
        self.gif = gif
        self.frames = []

    def _write(self, epoch):
        for method in ("noise", "generate"):
            if not hasattr(self.model, method):
                raise ValueError(f"SampleGrid needs a model with noise(count, seed) and "
                                 f"generate(z); {type(self.model).__name__} has no {method}.")
        grid = image_grid(self.model.generate(self.z), self.columns, self.value_range)
        save_grid(grid, self.directory / f"epoch_{epoch:03d}.png", self.scale)
        self.frames.append(grid)

    def on_train_begin(self, logs=None):
        self.z = self.model.noise(self.count, self.seed) if hasattr(self.model, "noise") else None
        self.frames = []
        self._write(0)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0:
            self._write(epoch + 1)

    def on_train_end(self, logs=None):
        if self.gif and self.frames:
            save_gif(self.frames, self.directory / "samples.gif")
