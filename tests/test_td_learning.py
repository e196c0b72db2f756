"""TD(0) on the cue-reward trial: Schultz et al.'s three facts about the prediction error."""

import numpy as np
import pytest

from garden.tools import cue_reward_td, plot_td


@pytest.fixture(scope="module")
def run():
    return cue_reward_td(trials=200, steps=20, cue=5, reward=15, alpha=0.2)


def test_before_training_the_error_is_at_the_reward(run):
    first = run.errors[0]
    assert first[run.reward] == pytest.approx(1.0)
    np.testing.assert_allclose(np.delete(first, run.reward), 0.0)


def test_over_training_the_error_moves_from_the_reward_to_the_cue(run):
    peak = run.errors.argmax(axis=1)
    assert peak[0] == run.reward and peak[-1] == run.cue
    assert np.all(np.diff(peak) <= 0)  # it travels back, never forwards
    last = run.errors[-1]
    assert last[run.cue] == pytest.approx(1.0, abs=1e-3)
    assert abs(last[run.reward]) < 1e-3


def test_omitting_the_reward_dips_below_zero_when_it_was_due(run):
    assert run.omission[run.reward] == pytest.approx(-1.0, abs=1e-3)
    assert run.omission[run.cue] == pytest.approx(1.0, abs=1e-3)
    assert run.omission.argmin() == run.reward


def test_equals_the_step_by_step_online_update():
    steps, cue, reward, alpha, gamma = 8, 2, 6, 0.3, 0.9
    run = cue_reward_td(trials=30, steps=steps, cue=cue, reward=reward, alpha=alpha, gamma=gamma)
    w = np.zeros(steps - cue)

    def value(t):
        return w[t - cue] if cue <= t < steps else 0.0

    for k in range(30):
        for t in range(steps + 1):
            delta = (t == reward) + gamma * value(t) - (value(t - 1) if t > 0 else 0.0)
            if t < steps:
                assert run.errors[k, t] == pytest.approx(delta)
            if t - 1 >= cue:
                w[t - 1 - cue] += alpha * delta
    np.testing.assert_allclose(run.weights, w)


def test_bad_timing_raises():
    with pytest.raises(ValueError, match="cue=5, reward=5"):
        cue_reward_td(cue=5, reward=5)


def test_plot_writes_a_png(run, tmp_path):
    path = plot_td(run, tmp_path / "td.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
