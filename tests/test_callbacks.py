"""Callbacks: the rates and momenta the optimizer actually uses, against the papers' formulas
(the probe model of tests/harness/probe.py), and the LR range test."""

import json
import math
import re
import textwrap

import keras
import numpy as np
import pytest

from garden.callbacks import (
    LRFinder,
    OneCycle,
    lr_range_test,
    plot_schedule,
    suggest_learning_rates,
)
from garden.schedules import CyclicLR, OneCycleLR
from tests.harness.probe import fit_probe, probe_model, smith_one_cycle
from tests.helpers import run_script


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


@pytest.mark.parametrize(
    "build, message",
    [
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


def test_lr_range_test_stops_at_divergence_and_restores_everything(tmp_path, capsys):
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
    # Progress by default: a Keras Progbar with the rate and smoothed loss, closed at the stop.
    progress = capsys.readouterr().out
    assert f"{len(finder.losses)}/100" in progress and "smoothed_loss:" in progress
    lr_range_test(model, data, min_lr=1e-2, max_lr=0.1, steps=5, verbose=0)
    assert capsys.readouterr().out == ""


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
    listed = plot_schedule(list(schedules.values()), 30)
    assert [ax.get_ylabel() for ax in listed.axes] == ["OneCycleLR", "CyclicLR"]
    np.testing.assert_array_equal(listed.axes[1].lines[0].get_ydata(),
                                  figure.axes[1].lines[0].get_ydata())
    with pytest.raises(ValueError, match="schedules=3 is not allowed"):
        plot_schedule(3, 30)


def test_lr_range_test_takes_arrays_and_shows_the_current_rate(capsys):
    """Arrays (x, y) as `fit` takes them; the bar shows the step's own rate, not a mean."""
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.01), "mse")
    x = np.random.default_rng(0).normal(size=(20, 2))
    finder = lr_range_test(model, (x, x.sum(axis=1)), min_lr=1e-4, max_lr=1e-2, steps=9,
                           batch_size=8, divergence=1e9)
    assert len(finder.losses) == 9  # 3 batches an epoch, stopped after 9 steps
    np.testing.assert_allclose(finder.learning_rates, np.geomspace(1e-4, 1e-2, 9))
    shown = re.findall(r"lr: ([0-9.e+-]+)", capsys.readouterr().out)
    assert float(shown[-1]) == pytest.approx(finder.learning_rates[-1], rel=1e-3)
    with pytest.raises(ValueError, match="dataset=dict is not allowed"):
        lr_range_test(model, {"x": x})


ONE_CYCLE_ON_JAX = textwrap.dedent(
    """
    import json, sys
    import keras
    from garden.callbacks import OneCycle
    from tests.harness.probe import fit_probe, probe_model
    assert keras.backend.backend() == "jax", keras.backend.backend()
    model = probe_model(keras.optimizers.SGD(0.1, momentum=0.9))
    callback = OneCycle(max_lr=0.3, initial_lr=0.03, final_lr=0.001, annihilation=0.2)
    recorder, history = fit_probe(model, steps=10, epochs=3, callbacks=[callback])
    try:
        fit_probe(probe_model(keras.optimizers.Adam(0.01)), 2, [OneCycle(max_lr=0.1)])
        adam = ""
    except ValueError as error:
        adam = str(error)
    json.dump({"weights": recorder.weights, "rates": recorder.rates,
               "momentum": history.history["momentum"], "adam": adam}, sys.stdout)
    """
)


def test_one_cycle_runs_on_jax_through_the_optimizer_variables():
    # The SGD trajectory of test_one_cycle_cycles_sgd_momentum_exactly, on the JAX backend.
    done = run_script(ONE_CYCLE_ON_JAX, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    velocity, expected_w = 0.0, [0.0]
    for i in range(30):
        lr, momentum = smith_one_cycle(i, 30, 0.3, 0.03, 0.001, 0.2)
        velocity = momentum * velocity + lr
        expected_w.append(expected_w[-1] + velocity)
    np.testing.assert_allclose(result["weights"], expected_w, rtol=1e-5)
    assert result["momentum"] == pytest.approx([0.95 - 0.1 * 9 / 12, 0.95 - 0.1 * 5 / 12, 0.95])
    assert "only on the TensorFlow backend" in result["adam"]
