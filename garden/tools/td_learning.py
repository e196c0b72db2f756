"""TD(0) on a cue-reward trial: the reward-prediction error of dopamine neurons.

Each trial has `steps` time steps; a cue appears at `cue` and a reward of 1 arrives at `reward`.
States from the cue on are a tapped delay line (one feature per step since the cue, the
"complete serial compound"); before the cue the learner cannot predict anything, so those states
have value 0. The prediction error at step t is `delta_t = r_t + gamma V_t - V_(t-1)`. Before
training it peaks at the reward; over training it moves to the cue; once the reward is
predicted, omitting it gives a negative error at the time it was due, the three facts of
Schultz, Dayan & Montague (1997) that Botvinick et al. (2020) start from.

Reference:
    Schultz, Dayan & Montague, "A Neural Substrate of Prediction and Reward", Science 1997.
    Botvinick et al., "Deep Reinforcement Learning and Its Neuroscientific Implications",
    Neuron 2020. https://arxiv.org/abs/2007.03750
"""

import dataclasses

import numpy as np
from keras import ops

from garden.utils.checks import check_int, check_number
from garden.utils.figures import pyplot, save_figure


@dataclasses.dataclass(frozen=True)
class TDRun:
    """`errors[k, t]`: the prediction error at step t of trial k; `omission`: the errors of one
    trial with the reward withheld after training; `weights`: the learned value of each step
    from the cue on."""

    errors: np.ndarray
    omission: np.ndarray
    weights: np.ndarray
    cue: int
    reward: int


def _errors(weights, rewards, cue, gamma):
    """delta_t for t = 0..steps: V_(-1) = 0 and V_steps = 0 (the trial ends after its last
    step, and that last transition is the one that updates the last state's value)."""
    zero = ops.zeros((1,), dtype="float64")
    values = ops.concatenate([ops.zeros((cue,), dtype="float64"), weights, zero])
    previous = ops.concatenate([zero, values[:-1]])
    return ops.concatenate([rewards, zero]) + gamma * values - previous


def cue_reward_td(trials=200, steps=20, cue=5, reward=15, alpha=0.2, gamma=1.0):
    """Trains TD(0) on `trials` cue-reward trials, then runs one trial without the reward.

    Within a trial each error updates the value of the step before it, which no earlier error of
    that trial has changed, so one trial's errors are computed at once from the weights it starts
    with; this equals the step-by-step online update.

    Args:
        trials: number of rewarded training trials. Defaults to 200.
        steps: time steps per trial. Defaults to 20.
        cue: step of the cue. Defaults to 5.
        reward: step of the reward, after the cue. Defaults to 15.
        alpha: learning rate. Defaults to 0.2.
        gamma: discount per step. Defaults to 1.

    Returns:
        A `TDRun`.

    Example:
        >>> run = cue_reward_td()
        >>> [round(float(run.errors[0, t]), 2) for t in (run.cue, run.reward)]
        [0.0, 1.0]
        >>> [round(float(run.errors[-1, t]), 2) for t in (run.cue, run.reward)]
        [1.0, 0.0]
        >>> round(float(run.omission[run.reward]), 2)
        -1.0
    """
    trials = check_int("trials", trials)
    steps = check_int("steps", steps, minimum=2)
    cue = check_int("cue", cue, minimum=1)
    reward = check_int("reward", reward, minimum=0)
    if not cue < reward < steps:
        raise ValueError(f"cue={cue}, reward={reward}, steps={steps} are not allowed: use "
                         "1 <= cue < reward < steps.")
    alpha = check_number("alpha", alpha, minimum=0, maximum=1, inclusive=(False, True))
    gamma = check_number("gamma", gamma, minimum=0, maximum=1)
    rewarded = ops.convert_to_tensor(np.eye(steps)[reward], dtype="float64")
    weights = ops.zeros((steps - cue,), dtype="float64")
    errors = []
    for _ in range(trials):
        delta = _errors(weights, rewarded, cue, gamma)
        errors.append(delta[:steps])
        # delta_t updates V_(t-1); the steps before the cue have no features to update.
        weights = weights + alpha * delta[cue + 1:]
    omission = _errors(weights, ops.zeros((steps,), dtype="float64"), cue, gamma)
    return TDRun(
        errors=ops.convert_to_numpy(ops.stack(errors)),
        omission=ops.convert_to_numpy(omission[:steps]),
        weights=ops.convert_to_numpy(weights),
        cue=cue,
        reward=reward,
    )


def plot_td(run, path, trials=None):
    """Writes the prediction error over a trial's steps for some training trials (by default the
    first, one early, and the last) and for the omission trial; returns `path`."""
    count = run.errors.shape[0]
    trials = trials if trials is not None else sorted({0, min(10, count - 1), count - 1})
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for k in trials:
        ax.plot(run.errors[k], marker="o", markersize=3, label=f"trial {k + 1}")
    ax.plot(run.omission, "k--", marker="x", label="reward omitted")
    for step, text in ((run.cue, "cue"), (run.reward, "reward")):
        ax.axvline(step, color="grey", lw=0.8)
        ax.text(step, ax.get_ylim()[1], text, ha="center", va="bottom")
    ax.set_xlabel("time step")
    ax.set_ylabel("prediction error $\\delta_t$")
    ax.legend(loc="lower left", fontsize="small")
    return save_figure(fig, path)
