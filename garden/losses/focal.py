"""Focal loss (Lin et al. 2017): cross-entropy that down-weights well-classified examples.

Reference:
    Lin, Goyal, Girshick, He & Dollar, "Focal Loss for Dense Object Detection", ICCV 2017.
    https://arxiv.org/abs/1708.02002
"""

import keras
from keras import ops

from garden.utils.serialization import serializable
from garden.utils.checks import check_choice, check_number

MODES = ("binary", "categorical", "sparse_categorical")


@serializable
class FocalLoss(keras.losses.Loss):
    """Focal loss, `FL(p_t) = -alpha_t (1 - p_t)**gamma log(p_t)` (Lin et al., Eq. 5).

    `p_t` is the probability the model gives the true class. The factor `(1 - p_t)**gamma`
    shrinks the loss of examples the model already gets right, so training concentrates on the
    hard ones; with `gamma=0` and no `alpha` the loss is exactly cross-entropy. The logarithms
    are computed from logits with `log_sigmoid` / `log_softmax`, so the loss stays finite and
    exact for confident predictions.

    - `"binary"`: one sigmoid per output unit (the paper's detector); labels are 0/1 (or soft)
      with the shape of the predictions; the loss is averaged over the last axis like
      `binary_crossentropy`. `alpha` weights positives and `1 - alpha` negatives (the paper's
      best: gamma 2, alpha 0.25).
    - `"categorical"`: softmax over the last axis, one-hot (or soft, e.g. mixup) labels; the
      loss of a soft label is the label-weighted sum of the per-class terms. `alpha` is a
      sequence of per-class weights (`alpha_t` is the weight of the true class).
    - `"sparse_categorical"`: the same with integer labels.

    Args:
        gamma: float. Focusing parameter, >= 0. Defaults to 2.0.
        alpha: None, a float in [0, 1] (`"binary"`) or a sequence of per-class weights
            (`"categorical"`, `"sparse_categorical"`). Defaults to None (no weighting).
        from_logits: bool. Whether predictions are logits rather than probabilities.
            Defaults to False.
        mode: str. `"binary"`, `"categorical"` or `"sparse_categorical"`.
            Defaults to `"categorical"`.
        reduction: str. Keras reduction over the batch. Defaults to `"sum_over_batch_size"`.
        name: str. Defaults to `"focal_loss"`.
        dtype: optional dtype of the loss computation.

    Example:
    >>> loss = FocalLoss(gamma=2.0, mode="sparse_categorical", from_logits=True)
    >>> round(float(loss([0], [[2.0, 0.0, 0.0]])), 5)
    0.01087

    Reference:
        Lin et al., "Focal Loss for Dense Object Detection", 2017.
        https://arxiv.org/abs/1708.02002
    """

    def __init__(
        self,
        gamma=2.0,
        alpha=None,
        from_logits=False,
        mode="categorical",
        reduction="sum_over_batch_size",
        name="focal_loss",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        check_choice("mode", mode, MODES)
        check_number("gamma", gamma, minimum=0)
        if mode == "binary" and alpha is not None:
            check_number("alpha", alpha, minimum=0, maximum=1)
        if mode != "binary" and alpha is not None and (
            isinstance(alpha, (int, float)) or any(not a >= 0 for a in alpha)
        ):
            raise ValueError(
                f"alpha={alpha!r} is not allowed with mode={mode!r}: use None or a sequence of "
                "non-negative per-class weights."
            )
        self.gamma = gamma
        self.alpha = list(alpha) if mode != "binary" and alpha is not None else alpha
        self.from_logits = from_logits
        self.mode = mode

    def call(self, y_true, y_pred):
        y_pred = ops.convert_to_tensor(y_pred)
        if self.mode == "binary":
            return self._binary(ops.cast(y_true, y_pred.dtype), y_pred)
        classes = y_pred.shape[-1]
        if self.alpha is not None and len(self.alpha) != classes:
            raise ValueError(
                f"alpha has {len(self.alpha)} weights but the predictions have {classes} classes."
            )
        y_true = ops.convert_to_tensor(y_true)
        if self.mode == "categorical" and (
            len(y_true.shape) != len(y_pred.shape) or y_true.shape[-1] not in (None, classes)
        ):
            raise ValueError(
                f"FocalLoss(mode='categorical') takes one-hot labels of shape {y_pred.shape}, "
                f"the predictions' shape; received labels of shape {y_true.shape}. For integer "
                "class labels use FocalLoss(mode='sparse_categorical')."
            )
        if self.mode == "sparse_categorical":
            labels = ops.reshape(ops.cast(y_true, "int32"), ops.shape(y_pred)[:-1])
            y_true = ops.one_hot(labels, classes, dtype=y_pred.dtype)
        return self._categorical(ops.cast(y_true, y_pred.dtype), y_pred)

    def _binary(self, y_true, y_pred):
        if self.from_logits:
            log_p, log_q = ops.log_sigmoid(y_pred), ops.log_sigmoid(-y_pred)
        else:
            p = ops.clip(y_pred, keras.config.epsilon(), 1.0 - keras.config.epsilon())
            log_p, log_q = ops.log(p), ops.log(1.0 - p)
        positive, negative = y_true * log_p, (1.0 - y_true) * log_q
        if self.gamma:  # (the factor is 1 at gamma 0; skipping it avoids 0 * inf gradients)
            positive = positive * ops.power(ops.exp(log_q), self.gamma)
            negative = negative * ops.power(ops.exp(log_p), self.gamma)
        if self.alpha is not None:
            positive, negative = self.alpha * positive, (1.0 - self.alpha) * negative
        return -ops.mean(positive + negative, axis=-1)

    def _categorical(self, y_true, y_pred):
        if self.from_logits:
            log_p = ops.log_softmax(y_pred, axis=-1)
        else:
            p = y_pred / ops.sum(y_pred, axis=-1, keepdims=True)
            log_p = ops.log(ops.clip(p, keras.config.epsilon(), 1.0))
        terms = y_true * log_p
        if self.gamma:
            terms = terms * ops.power(1.0 - ops.exp(log_p), self.gamma)
        if self.alpha is not None:
            terms = terms * ops.convert_to_tensor(self.alpha, dtype=y_pred.dtype)
        return -ops.sum(terms, axis=-1)

    def get_config(self):
        return {
            **super().get_config(),
            "gamma": self.gamma,
            "alpha": self.alpha,
            "from_logits": self.from_logits,
            "mode": self.mode,
        }
