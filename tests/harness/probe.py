"""A probe model whose rates can be read off its weight, and the papers' schedule formulas.

The probe model has one weight `w`, starting at 0, and the loss |1e6 - w|, whose gradient is
exactly -1: plain SGD then moves `w` by the learning rate of each step, and SGD with momentum or
Adam by amounts a few lines of NumPy predict. The reference formulas are written from the
papers, independently of the library's code.
"""

import math

import keras
import numpy as np

BATCH = 4


def probe_model(optimizer):
    model = keras.Sequential(
        [keras.Input((1,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")]
    )
    model.compile(optimizer=optimizer, loss="mae")
    return model


class Recorder(keras.callbacks.Callback):
    """The probe weight before every step and after the last, and the optimizer's hyperparameters
    as the step sees them."""

    def on_train_begin(self, logs=None):
        self.weights, self.rates, self.beta_1 = [], [], []

    def on_train_batch_begin(self, batch, logs=None):
        optimizer = self.model.optimizer
        self.weights.append(float(self.model.weights[0].numpy().item()))
        self.rates.append(float(optimizer.learning_rate))
        if hasattr(optimizer, "beta_1"):
            self.beta_1.append(float(optimizer.beta_1))

    def on_train_end(self, logs=None):
        self.weights.append(float(self.model.weights[0].numpy().item()))


def fit_probe(model, steps, callbacks=(), epochs=1):
    x = np.ones((steps * BATCH, 1), "float32")
    y = np.full((steps * BATCH, 1), 1e6, "float32")
    recorder = Recorder()
    history = model.fit(
        x, y, batch_size=BATCH, epochs=epochs, shuffle=False, verbose=0,
        callbacks=[*callbacks, recorder],
    )
    return recorder, history


def rates_used(recorder):
    """Plain SGD with gradient -1: each step moves w by exactly its learning rate."""
    return np.diff(recorder.weights)


# Smith 2015, Section 3.1, and the text describing triangular2 and exp_range.
def smith_clr(i, base_lr, max_lr, step_size, mode, gamma=1.0):
    cycle = math.floor(1 + i / (2 * step_size))
    x = abs(i / step_size - 2 * cycle + 1)
    scale = {"triangular": 1.0, "triangular2": 1 / 2 ** (cycle - 1), "exp_range": gamma**i}[mode]
    return base_lr + (max_lr - base_lr) * max(0.0, 1 - x) * scale


# Smith 2018: linear up, linear down, linear annihilation; momentum mirrored, then held high.
def smith_one_cycle(i, total, max_lr, initial_lr, final_lr, annihilation, momenta=(0.95, 0.85)):
    half = (1 - annihilation) * total / 2
    points = [0, half, 2 * half, total]
    lr = np.interp(i, points, [initial_lr, max_lr, initial_lr, final_lr])
    high, low = momenta
    return lr, np.interp(i, points, [high, low, high, high])
