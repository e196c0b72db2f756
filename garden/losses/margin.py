"""The margin loss of capsule networks.

Reference:
    Sabour, Frosst and Hinton, "Dynamic Routing Between Capsules", NeurIPS 2017.
    https://arxiv.org/abs/1710.09829
"""

import keras
from keras import ops

from garden.utils.serialization import serializable
from garden.utils.checks import check_number


def margin_loss(y_true, lengths, m_plus=0.9, m_minus=0.1, down_weight=0.5):
    """Eq. 4 of the paper, summed over the classes, one value per example.

        L_k = T_k max(0, m+ - |v_k|)^2 + lambda (1 - T_k) max(0, |v_k| - m-)^2

    `T_k = 1` when class `k` is present. The down-weighting `lambda` of absent classes stops the
    initial learning from shrinking every capsule.

    Args:
        y_true: int class labels `(batch,)`, or one-hot / multi-hot targets `(batch, classes)`.
        lengths: tensor `(batch, classes)`, capsule lengths `|v_k|`.
        m_plus: float. Length a present class must reach. Defaults to 0.9.
        m_minus: float. Length an absent class must stay under. Defaults to 0.1.
        down_weight: float. `lambda`, the weight of the absent classes. Defaults to 0.5.

    Returns:
        Tensor `(batch,)`.
    """
    lengths = ops.convert_to_tensor(lengths)
    y_true = ops.convert_to_tensor(y_true)
    if len(y_true.shape) < len(lengths.shape):
        y_true = ops.one_hot(ops.cast(y_true, "int32"), lengths.shape[-1], dtype=lengths.dtype)
    present = ops.cast(y_true, lengths.dtype)
    loss = present * ops.square(ops.relu(m_plus - lengths)) + down_weight * (
        1.0 - present
    ) * ops.square(ops.relu(lengths - m_minus))
    return ops.sum(loss, axis=-1)


@serializable
class MarginLoss(keras.losses.Loss):
    """The capsule margin loss (Eq. 4 of Sabour et al.) as a Keras loss; see `margin_loss`.

    Args:
        m_plus: float. Length a present class must reach. Defaults to 0.9.
        m_minus: float. Length an absent class must stay under. Defaults to 0.1.
        down_weight: float. Weight `lambda` of the absent classes. Defaults to 0.5.
        reduction: Keras loss reduction. Defaults to `"sum_over_batch_size"`.
        name: str. Defaults to `"margin_loss"`.
        dtype: dtype of the loss computation. Defaults to None (the float type of Keras).

    Example:
    >>> loss = MarginLoss()
    >>> round(float(loss(keras.ops.array([0]), keras.ops.array([[0.9, 0.1]]))), 6)
    0.0

    Reference:
        Sabour et al. 2017, https://arxiv.org/abs/1710.09829
    """

    def __init__(
        self, m_plus=0.9, m_minus=0.1, down_weight=0.5, reduction="sum_over_batch_size",
        name="margin_loss", dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.m_plus = check_number("m_plus", m_plus, minimum=0, maximum=1)
        self.m_minus = check_number("m_minus", m_minus, minimum=0, maximum=1)
        self.down_weight = check_number("down_weight", down_weight, minimum=0)

    def call(self, y_true, y_pred):
        return margin_loss(y_true, y_pred, self.m_plus, self.m_minus, self.down_weight)

    def get_config(self):
        return {
            **super().get_config(),
            "m_plus": self.m_plus,
            "m_minus": self.m_minus,
            "down_weight": self.down_weight,
        }
