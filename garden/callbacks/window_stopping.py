"""Kipf & Welling's early stopping: stop once the validation loss exceeds the mean of the
previous `window` epochs' (the GCN paper's "window of 10")."""

import keras
import numpy as np

from garden.utils.checks import check_int


class WindowEarlyStopping(keras.callbacks.Callback):
    """Stops training when `monitor` is above its mean over the previous `window` epochs.

    Args:
        window: int. Number of previous epochs averaged. Defaults to 10.
        monitor: str. The logged quantity. Defaults to `"val_loss"`.

    Reference:
        Kipf & Welling, "Semi-Supervised Classification with Graph Convolutional Networks",
        ICLR 2017. https://arxiv.org/abs/1609.02907
    """

    def __init__(self, window=10, monitor="val_loss"):
        super().__init__()
        self.window = check_int("window", window)
        self.monitor = monitor

    def on_train_begin(self, logs=None):
        self.history = []
        self.stopped_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor not in (logs or {}):
            raise ValueError(f"WindowEarlyStopping: {self.monitor!r} is not logged; logged: "
                             f"{', '.join(logs or {})}")
        self.history.append(float(logs[self.monitor]))
        if len(self.history) > self.window and self.history[-1] > np.mean(
                self.history[-self.window - 1:-1]):
            self.stopped_epoch = epoch
            self.model.stop_training = True
