"""Learning curves: the log-linear fit, equal-step training on nested subsets, the plot."""

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits

from garden.tools import LearningCurve, learning_curve, plot_learning_curve


def test_fit_recovers_a_log_linear_trend():
    sizes = np.array([10, 100, 1000, 10000])
    scores = 0.3 + 0.1 * np.log10(sizes)[:, None] + np.array([[-0.01, 0.01]])  # two seeds
    curve = LearningCurve(sizes, scores, "accuracy")
    assert curve.fit == pytest.approx((0.3, 0.1))
    assert curve.as_dict()["slope"] == pytest.approx(0.1)


def test_accuracy_grows_with_data_at_equal_steps(tmp_path):
    x, y = load_digits(return_X_y=True)
    x = (x / 16).astype("float32")
    built = []

    def build():
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10)])
        model.compile(keras.optimizers.Adam(0.01),
                      keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
        built.append(model)
        return model

    curve = learning_curve(build, (x[:1200], y[:1200]), (x[1200:], y[1200:]),
                           [15, 60, 240, 960], steps=120, batch_size=32)
    assert curve.scores.shape == (4, 1)
    assert np.all(np.diff(curve.scores[:, 0]) > 0)
    assert curve.slope > 0.05  # accuracy points per tenfold more data
    assert [model.optimizer.iterations.numpy() for model in built] == [120] * 4
    path = plot_learning_curve(curve, tmp_path / "curve.png")
    assert path.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("sizes", [[10], [0, 10], [10, 5000]])
def test_bad_sizes_name_the_argument(sizes):
    with pytest.raises(ValueError, match="sizes="):
        learning_curve(None, (np.zeros((100, 2)), np.zeros(100)), None, sizes, steps=1)
