"""Learning-rate schedules: the rates the optimizer actually uses, against the papers' formulas,
their dtype and name as Keras' schedules, and their round trips."""

import keras
import numpy as np
import pytest

from garden.schedules import CyclicLR, OneCycleLR, Warmup, linear_scaling
from tests.harness.probe import fit_probe, probe_model, rates_used, smith_clr, smith_one_cycle


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
    ],
)
def test_bad_arguments_are_named(build, message):
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize(
    "build",
    [
        lambda lr: CyclicLR(lr, 4 * lr, 5, mode="triangular2"),
        lambda lr: OneCycleLR(lr, 50),
        lambda lr: Warmup(CyclicLR(0.01, 0.1, 5), warmup_steps=7, initial_lr=lr),
    ],
    ids=["cyclic", "one_cycle", "warmup"],
)
def test_schedules_compute_in_the_dtype_of_their_initial_rate(build):
    # As keras.optimizers.schedules.ExponentialDecay: float32 from a Python float, float64 from
    # a float64, and the float64 values are the float32 ones to float32 precision.
    single, double = build(0.01)(17), build(np.float64(0.01))(17)
    assert keras.backend.standardize_dtype(single.dtype) == "float32"
    assert keras.backend.standardize_dtype(double.dtype) == "float64"
    assert float(double) == pytest.approx(float(single), rel=1e-6)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedules_take_a_name_that_their_config_keeps(name):
    schedule = SCHEDULES[name]
    assert schedule.name == type(schedule).__name__
    renamed = type(schedule).from_config({**schedule.get_config(), "name": "phase_1"})
    assert renamed.name == "phase_1" and renamed.get_config()["name"] == "phase_1"
