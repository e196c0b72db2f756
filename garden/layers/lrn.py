"""Local response normalization across channels, from AlexNet.

Reference:
    Krizhevsky, Sutskever and Hinton, "ImageNet Classification with Deep Convolutional Neural
    Networks", NeurIPS 2012, section 3.3.
    https://papers.nips.cc/paper/4824-imagenet-classification-with-deep-convolutional-neural-networks
"""

import keras
import numpy as np
from keras import ops

from garden.utils.serialization import serializable
from garden.utils.checks import check_int, check_number


@serializable
class LocalResponseNormalization(keras.layers.Layer):
    """Divides each activation by the energy of its neighbours across channels.

    For the activity `a[i]` of channel `i` at one position, the layer returns (section 3.3 of the
    paper, with `N` channels)

        b[i] = a[i] / (k + alpha * sum(a[j] ** 2 for j in [max(0, i - n // 2),
                                                            min(N - 1, i + n // 2)])) ** beta

    This "brightness normalization" makes channels at the same position compete, as lateral
    inhibition does in real neurons. The sum runs over the `n` channels centred on `i`, truncated
    at the first and last channel. It has no weights.

    This is `tf.nn.local_response_normalization(x, depth_radius=(n - 1) // 2, bias=k,
    alpha=alpha, beta=beta)`. Caffe and `torch.nn.LocalResponseNorm` divide `alpha` by `n`
    (their `alpha` is `n` times the paper's), and PyTorch pads with zeros at the edges, which
    changes nothing.

    Args:
        n: int. Number of adjacent channels summed over, odd so the window is centred.
            Defaults to 5, the paper's value.
        k: float. Additive constant that keeps the divisor away from zero. Defaults to 2.0.
        alpha: float. Scale of the sum of squares. Defaults to 1e-4.
        beta: float. Exponent of the divisor. Defaults to 0.75.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a tensor whose last axis is the channel axis.

    Example:
    >>> import numpy as np
    >>> lrn = LocalResponseNormalization()
    >>> tuple(lrn(np.ones((1, 2, 2, 8), "float32")).shape)
    (1, 2, 2, 8)

    Reference:
        Krizhevsky et al., 2012, section 3.3.
    """

    def __init__(self, n=5, k=2.0, alpha=1e-4, beta=0.75, **kwargs):
        super().__init__(**kwargs)
        if check_int("n", n) % 2 == 0:
            raise ValueError(f"n={n!r} is not allowed: use an odd number so the window is centred.")
        check_number("k", k, minimum=0, inclusive=False)  # k > 0: the divisor cannot be zero
        check_number("alpha", alpha, minimum=0)
        check_number("beta", beta, minimum=0)
        self.n = n
        self.k = k
        self.alpha = alpha
        self.beta = beta

    def call(self, inputs):
        # The window sums are one matmul with a 0/1 band matrix (channel j sums channels within
        # n // 2 of it), and the power is exp(-beta log(.)) (the divisor is >= k > 0): n sliced
        # adds and ops.power trained 3-4x slower than tf.nn.local_response_normalization,
        # this is as fast or faster (benchmarks.layers).
        channels = np.arange(inputs.shape[-1])
        band = np.abs(channels[:, None] - channels[None, :]) <= self.n // 2
        window_sum = ops.matmul(ops.square(inputs), ops.cast(band, inputs.dtype))
        return inputs * ops.exp(-self.beta * ops.log(self.k + self.alpha * window_sum))

    def compute_output_shape(self, input_shape):
        return input_shape

    def multiply_adds(self, input_shape):
        """Multiply-adds per example as `garden.tools.profile` counts them: none, the layer has
        no weights (its element-wise work costs zero, as activations do)."""
        return 0


    def get_config(self):
        return {
            **super().get_config(),
            "n": self.n,
            "k": self.k,
            "alpha": self.alpha,
            "beta": self.beta,
        }
