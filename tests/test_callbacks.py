"""Schedules and callbacks: the rates the optimizer actually uses, against the papers' formulas.

The probe model has one weight `w`, starting at 0, and the loss |1e6 - w|, whose gradient is
exactly -1: plain SGD then moves `w` by the learning rate of each step, and SGD with momentum or
Adam by amounts a few lines of NumPy predict. The reference formulas below are written from
the papers, independently of the library's code.
"""

import math

import keras
import numpy as np
import pytest

from garden.callbacks import LRFinder, OneCycle, lr_range_test, plot_schedule, suggest_learning_rates
from garden.schedules import CyclicLR, OneCycleLR, Warmup, linear_scaling

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


@pytest.mark.parametrize(
    "mode, gamma", [("triangular", 1.0), ("triangular2", 1.0), ("exp_range", 0.97)]
)
def test_cyclic_lr_rates_follow_smiths_formula(mode, gamma):
    schedule = CyclicLR(base_lr=0.001, max_lr=0.006, step_size=4, mode=mode, gamma=gamma)
    recorder, _ = fit_probe(probe_model(keras.optimizers.SGD(schedule)), steps=24)
    expected = [smith_clr(i, 0.001, 0.006, 4, mode, gamma) for i in range(24)]
    np.testing.assert_allclose(rates_used(recorder), expected, rtol=1e-4)
    np.testing.assert_allclose(recorder.rates, expected, rtol=1e-6)


def test_cyclic_lr_triangular2_halves_amplitude_each_cycle():
    schedule = CyclicLR(base_lr=0.0, max_lr=1.0, step_size=10, mode="triangular2")
    peaks = [float(schedule(10 + 20 * k)) for k in range(4)]
    assert peaks == [1.0, 0.5, 0.25, 0.125]


def test_one_cycle_lr_rates_follow_the_policy():
    schedule = OneCycleLR(max_lr=0.5, total_steps=40, annihilation=0.2)
    recorder, _ = fit_probe(probe_model(keras.optimizers.SGD(schedule)), steps=44)
    expected = [smith_one_cycle(i, 40, 0.5, 0.05, 0.0005, 0.2)[0] for i in range(44)]
    # w reaches ~9 in float32 (spacing 1e-6), hence the absolute tolerance on its steps.
    np.testing.assert_allclose(rates_used(recorder), expected, rtol=1e-4, atol=2e-6)
    np.testing.assert_allclose(recorder.rates, expected, rtol=1e-6)


def test_one_cycle_cycles_sgd_momentum_exactly():
    # 3 epochs of 10 steps: the callback infers total_steps = 30 from fit.
    model = probe_model(keras.optimizers.SGD(0.1, momentum=0.9))
    callback = OneCycle(max_lr=0.3, initial_lr=0.03, final_lr=0.001, annihilation=0.2)
    recorder, history = fit_probe(model, steps=10, epochs=3, callbacks=[callback])
    assert callback.schedule.total_steps == 30
    velocity, expected_w = 0.0, [0.0]
    for i in range(30):
        lr, momentum = smith_one_cycle(i, 30, 0.3, 0.03, 0.001, 0.2)
        velocity = momentum * velocity + lr  # Keras SGD: v <- m v - lr g, with g = -1
        expected_w.append(expected_w[-1] + velocity)
    np.testing.assert_allclose(recorder.weights, expected_w, rtol=1e-5)
    np.testing.assert_allclose(
        recorder.rates, [smith_one_cycle(i, 30, 0.3, 0.03, 0.001, 0.2)[0] for i in range(30)],
        rtol=1e-6,
    )
    # Momentum set for the last step of each epoch (steps 9, 19, 29; the cycle is 24 long).
    expected = [0.95 - 0.1 * 9 / 12, 0.95 - 0.1 * 5 / 12, 0.95]
    assert history.history["momentum"] == pytest.approx(expected)
    assert model.optimizer.momentum == 0.9


def test_one_cycle_cycles_adam_beta_1(tmp_path):
    model = probe_model(keras.optimizers.Adam(0.01, beta_1=0.9))
    callback = OneCycle(max_lr=0.2, total_steps=20, annihilation=0.1)
    recorder, _ = fit_probe(model, steps=20, callbacks=[callback])
    lrs, betas = zip(*[smith_one_cycle(i, 20, 0.2, 0.02, 0.0002, 0.1) for i in range(20)])
    np.testing.assert_allclose(recorder.beta_1, betas, rtol=1e-6)
    # Keras' Adam written out with the cycled beta_1; gradient g = -1.
    m = v = w = 0.0
    expected_w = [w]
    for t, (lr, beta_1) in enumerate(zip(lrs, betas), start=1):
        m += (-1.0 - m) * (1 - beta_1)
        v += (1.0 - v) * (1 - 0.999)
        w -= lr * math.sqrt(1 - 0.999**t) / (1 - beta_1**t) * m / (math.sqrt(v) + 1e-7)
        expected_w.append(w)
    np.testing.assert_allclose(recorder.weights, expected_w, rtol=1e-5)
    # After fit beta_1 is the configured float again, and the model saves and loads.
    assert model.optimizer.beta_1 == 0.9
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert loaded.optimizer.get_config()["beta_1"] == 0.9
    assert len(loaded.optimizer.variables) == len(model.optimizer.variables)


def test_one_cycle_rejects_what_it_cannot_cycle():
    with pytest.raises(ValueError, match="momentum=0.0"):
        fit_probe(probe_model(keras.optimizers.SGD(0.1)), 2, [OneCycle(max_lr=0.1)])
    with pytest.raises(ValueError, match="float learning_rate"):
        fit_probe(probe_model(keras.optimizers.Adam(CyclicLR(0.1, 0.2, 2))), 2, [OneCycle(0.1)])
    with pytest.raises(ValueError, match="min_momentum=0.99"):
        OneCycle(max_lr=0.1, min_momentum=0.99)


def test_warmup_ramps_linearly_into_any_schedule():
    # Goyal et al.: from the small-batch rate 0.1 up to k * 0.1 = 0.4 in 5 steps, then the step
    # schedule (divided by 10 at step 12) on its own step count.
    decay = keras.optimizers.schedules.PiecewiseConstantDecay([12], [0.4, 0.04])
    schedule = Warmup(decay, warmup_steps=5, initial_lr=0.1)
    recorder, _ = fit_probe(probe_model(keras.optimizers.SGD(schedule)), steps=16)
    expected = [0.1 + 0.3 * i / 5 if i < 5 else (0.4 if i <= 12 else 0.04) for i in range(16)]
    np.testing.assert_allclose(rates_used(recorder), expected, rtol=1e-4)


def test_linear_scaling_rule():
    assert linear_scaling(0.1, batch_size=8192) == pytest.approx(3.2)
    assert linear_scaling(0.5, batch_size=64, base_batch_size=128) == 0.25
    with pytest.raises(ValueError, match="batch_size=0"):
        linear_scaling(0.1, batch_size=0)


SCHEDULES = {
    "cyclic": CyclicLR(0.01, 0.1, 5, mode="exp_range", gamma=0.99),
    "one_cycle": OneCycleLR(0.3, 50, initial_lr=0.01),
    "warmup": Warmup(CyclicLR(0.01, 0.1, 5), warmup_steps=7, initial_lr=0.001),
    "warmup_constant": Warmup(0.2, warmup_steps=3),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_config_round_trip(name):
    schedule = SCHEDULES[name]
    config = keras.optimizers.schedules.serialize(schedule)
    restored = keras.optimizers.schedules.deserialize(config)
    assert type(restored) is type(schedule)
    assert keras.optimizers.schedules.serialize(restored) == config
    steps = np.arange(60)
    np.testing.assert_array_equal(
        [float(restored(s)) for s in steps], [float(schedule(s)) for s in steps]
    )


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_survives_model_save(name, tmp_path):
    model = probe_model(keras.optimizers.SGD(SCHEDULES[name], momentum=0.9))
    fit_probe(model, steps=6)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert loaded.optimizer.get_config()["learning_rate"] == (
        model.optimizer.get_config()["learning_rate"]
    )
    assert int(loaded.optimizer.iterations.numpy()) == 6
    assert float(loaded.optimizer.learning_rate) == float(model.optimizer.learning_rate)


def test_schedules_build_from_recipe_tables():
    # A TOML recipe's optimizer = {class_name = "SGD", config = {learning_rate = {class_name =
    # "Warmup", config = {warmup_steps = 5, schedule = {class_name = "CyclicLR", ...}}}}}:
    # the runner finds garden's schedules by bare name, and so does Warmup for its inner one.
    from garden.recipes import build_optimizer

    warmup = {
        "warmup_steps": 5,
        "schedule": {
            "class_name": "CyclicLR",
            "config": {"base_lr": 0.01, "max_lr": 0.1, "step_size": 4},
        },
    }
    expected = keras.optimizers.schedules.serialize(
        Warmup(CyclicLR(0.01, 0.1, 4), warmup_steps=5)
    )
    optimizer = build_optimizer(
        {"class_name": "SGD",
         "config": {"momentum": 0.9, "learning_rate": {"class_name": "Warmup", "config": warmup}}}
    )
    assert optimizer.get_config()["learning_rate"] == expected
    # Keras itself (keras.optimizers.get, saved configs) needs the registered name.
    optimizer = keras.optimizers.get(
        {"class_name": "SGD",
         "config": {"learning_rate": {"class_name": "garden>Warmup", "config": warmup}}}
    )
    assert optimizer.get_config()["learning_rate"] == expected


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: CyclicLR(0.1, 0.05, 10), "max_lr=0.05"),
        (lambda: CyclicLR(0.1, 0.5, 10, mode="triangle"), "mode='triangle'"),
        (lambda: CyclicLR(0.1, 0.5, 10, mode="exp_range", gamma=1.5), "gamma=1.5"),
        (lambda: OneCycleLR(0.1, total_steps=1), "total_steps=1"),
        (lambda: OneCycleLR(0.1, 100, annihilation=1.0), "annihilation=1.0"),
        (lambda: Warmup("cosine", 10), "schedule='cosine'"),
        (lambda: Warmup(0.1, 0), "warmup_steps=0"),
        (lambda: LRFinder(min_lr=1.0, max_lr=0.1), "min_lr=1.0"),
        (lambda: LRFinder(mode="cubic"), "mode='cubic'"),
    ],
)
def test_bad_arguments_are_named(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_lr_finder_sweeps_exponentially_and_stops_after_steps():
    model = probe_model(keras.optimizers.SGD(0.01))
    finder = LRFinder(min_lr=1e-4, max_lr=1e-1, steps=12)
    recorder, _ = fit_probe(model, steps=20, callbacks=[finder])
    expected = [1e-4 * 1000 ** (i / 11) for i in range(12)]
    np.testing.assert_allclose(finder.learning_rates, expected, rtol=1e-12)
    # The recorder saw 12 steps (fit stopped), each moving w by the rate LRFinder set, and w
    # back at 0 when training ended.
    assert len(recorder.weights) == 13 and recorder.weights[-1] == 0.0
    np.testing.assert_allclose(np.diff(recorder.weights[:12]), expected[:11], rtol=1e-4)
    # Per-batch losses, not the epoch's running mean: |1e6 - w| at each step.
    np.testing.assert_allclose(finder.losses, 1e6 - np.array(recorder.weights[:12]), rtol=1e-6)


def test_lr_finder_linear_sweep():
    finder = LRFinder(min_lr=0.1, max_lr=1.0, steps=10, mode="linear")
    assert [finder.learning_rate_at(i) for i in (0, 5, 9)] == pytest.approx([0.1, 0.6, 1.0])


def test_lr_range_test_stops_at_divergence_and_restores_everything(tmp_path):
    import tensorflow as tf

    # Batches of targets (-1, 1, -1, 1) give the loss w^2 + 1. Heavy-ball SGD with momentum 0.5
    # on this quadratic (curvature 2) is stable only for lr < 1 + 0.5: the loss must diverge
    # above lr = 1.5 and the test must stop there.
    model = keras.Sequential(
        [keras.Input((1,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")]
    )
    model.compile(keras.optimizers.SGD(0.05, momentum=0.5), "mse")
    targets = np.array([[-1.0], [1.0], [-1.0], [1.0]])
    data = tf.data.Dataset.from_tensor_slices((np.ones((4, 1)), targets)).batch(4)
    model.fit(data, epochs=2, shuffle=False, verbose=0)  # optimizer state worth restoring
    before_model = [v.numpy() for v in model.variables]
    before_optimizer = [v.numpy() for v in model.optimizer.variables]

    finder = lr_range_test(model, data, min_lr=1e-2, max_lr=100.0, steps=100,
                           smoothing=0.5, path=tmp_path / "lr.png")
    assert len(finder.losses) < 100
    assert finder.learning_rates[-1] > 1.5
    assert finder.smoothed_losses[-1] > 4 * min(finder.smoothed_losses)
    assert finder.suggestions()["max_lr"] < 1.5
    for variable, value in zip(model.variables, before_model):
        np.testing.assert_array_equal(variable.numpy(), value)
    for variable, value in zip(model.optimizer.variables, before_optimizer):
        np.testing.assert_array_equal(variable.numpy(), value)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.05)
    assert (tmp_path / "lr.png").stat().st_size > 1000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lr.png"]


def test_suggestions_on_a_known_curve():
    # loss(u) = 1.5 - 0.5 tanh(u - u0) on u = log(lr) up to the minimum at lr = 1, then rising.
    lrs = np.logspace(-6, 1, 701)
    u, u0 = np.log(lrs), np.log(1e-3)
    losses = 1.5 - 0.5 * np.tanh(u - u0) + np.where(lrs > 1, 10 * (lrs - 1), 0.0)
    suggested = suggest_learning_rates(lrs, losses)
    assert suggested["steepest"] == pytest.approx(1e-3, rel=0.03)
    assert suggested["minimum_div10"] == pytest.approx(0.1, rel=1e-9)
    # 10% and 90% of the total drop: tanh(u - u0) = 1 - 2 * (0.1 * drop / 0.5 ...), solved here.
    start, lowest = losses[0], losses[lrs <= 1].min()
    drop = start - lowest
    for key, level in (("base_lr", start - 0.1 * drop), ("max_lr", lowest + 0.1 * drop)):
        expected = np.exp(u0 + np.arctanh((1.5 - level) / 0.5))
        assert suggested[key] == pytest.approx(expected, rel=0.03)


def test_suggestions_need_a_falling_loss():
    with pytest.raises(ValueError, match="never decreased"):
        suggest_learning_rates([1e-3, 1e-2, 1e-1], [1.0, 2.0, 3.0])


def test_plot_schedule_draws_the_schedule_values(tmp_path):
    schedules = {"lr": OneCycleLR(1.0, 30), "clr": CyclicLR(0.1, 0.2, 5)}
    figure = plot_schedule(schedules, 30, path=tmp_path / "s.svg")
    assert len(figure.axes) == 2
    for ax, schedule in zip(figure.axes, schedules.values()):
        np.testing.assert_allclose(
            ax.lines[0].get_ydata(), [float(schedule(s)) for s in range(30)]
        )
    assert (tmp_path / "s.svg").read_text().startswith("<?xml")
