"""Class priors, inverse-frequency class weights and threshold moving (Buda et al. 2018)."""

import numpy as np
import pytest

from garden.tools import class_priors, class_weights, move_threshold

LABELS = [0] * 90 + [1] * 9 + [2]


def test_priors_and_weights():
    np.testing.assert_allclose(class_priors(LABELS), [0.9, 0.09, 0.01])
    np.testing.assert_allclose(class_priors([1, 1], num_classes=3), [0.0, 1.0, 0.0])
    weights = class_weights(LABELS)
    assert weights == pytest.approx({0: 100 / 270, 1: 100 / 27, 2: 100 / 3})
    # Weighted, every class contributes the same total: n / classes.
    counts = np.bincount(LABELS)
    assert [weights[k] * counts[k] for k in range(3)] == pytest.approx([100 / 3] * 3)
    assert class_weights([0, 1, 2, 3]) == {0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0}


def test_threshold_moving_divides_by_priors():
    probabilities = np.array([[0.7, 0.2, 0.1], [0.98, 0.01, 0.01]])
    moved = move_threshold(probabilities, [0.9, 0.09, 0.01])
    scores = probabilities / [0.9, 0.09, 0.01]
    np.testing.assert_allclose(moved, scores / scores.sum(1, keepdims=True))
    assert list(moved.argmax(1)) == [2, 0]
    # Uniform priors change nothing.
    np.testing.assert_allclose(move_threshold(probabilities, [1 / 3] * 3), probabilities)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="priors of shape"):
        move_threshold([[0.5, 0.5]], [1.0, 0.0])
    with pytest.raises(ValueError, match="num_classes=2 is too small"):
        class_priors([0, 5], num_classes=2)
