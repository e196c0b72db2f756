"""garden's custom layers against the TensorFlow built-in each reduces to, forward and backward.

`python -m benchmarks.layers` times, on the TensorFlow backend, compiled (`tf.function`) forward
passes and forward + backward passes (gradients of a fixed random projection of the output with
respect to the input and the weights) of each garden layer and of its built-in twin on the same
input and weights, interleaved, after checking that both compute the same values:
- `LocalResponseNormalization` vs `tf.nn.local_response_normalization` (AlexNet's first LRN);
- `SubPixelConv2D` vs `Conv2D` + `tf.nn.depth_to_space` (ESPCN's last layer);
- the spatial transformer's `bilinear_sample` (at an affine grid) vs
  `tf.raw_ops.ImageProjectiveTransformV3` (bilinear, zero fill), forward only: TensorFlow has
  no gradient for it in the transform;
- `CapsuleLayer` (DigitCaps, 3 routings) vs the same routing written with `tf.matmul`, and the
  cost of one routing iteration (3 routings over 1).
Each row is garden's time over the built-in's (above 1.2 would need a fix or a reason).
"""


import keras
import numpy as np
import tensorflow as tf

from benchmarks import _timing
from garden import layers
from garden.layers.capsules import squash
from garden.layers.spatial_transformer import affine_grid, bilinear_sample

CALLS = 10  # calls per timed repetition


def compiled(function, x, variables, backward):
    """A no-argument callable running `function(x)` compiled, `CALLS` times; with `backward`,
    the gradients of a fixed projection of the output in `x` and `variables` too."""

    @tf.function
    def step():
        if not backward:
            return function(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = function(x)
            loss = tf.reduce_sum(y * tf.random.stateless_normal(tf.shape(y), seed=(1, 2)))
        return tape.gradient(loss, [x, *variables])

    def run():
        for _ in range(CALLS):
            result = step()
        return result

    return run


def compare(name, garden, builtin, x, variables, repeats, directions=(False, True)):
    """Rows of garden's time over the built-in's, after checking they agree on `x`;
    `variables` is the pair (garden's weights, the built-in's) the backward pass reaches."""
    np.testing.assert_allclose(garden(x), builtin(x), rtol=1e-4, atol=1e-5)
    result = []
    for backward in directions:
        seconds = _timing.interleave(
            {"garden": compiled(garden, x, variables[0], backward),
             "builtin": compiled(builtin, x, variables[1], backward)}, repeats=repeats, warmup=1)
        result.append(_timing.row(
            "layers", f"{name} {'forward + backward' if backward else 'forward'}: garden / "
            "built-in", _timing.ratios(seconds, "garden", "builtin"), "time ratio",
            input_shape=list(x.shape), calls=CALLS, repeats=repeats,
            garden_ms=1000 * float(np.median(seconds["garden"])) / CALLS,
            builtin_ms=1000 * float(np.median(seconds["builtin"])) / CALLS))
    return result


def lrn(batch, repeats):
    layer = layers.LocalResponseNormalization(n=5, k=2.0, alpha=1e-4, beta=0.75)
    x = tf.random.stateless_uniform((batch, 55, 55, 96), seed=(0, 0), maxval=10.0)
    return compare("LRN (n=5, 55x55x96)", layer, lambda x: tf.nn.local_response_normalization(
        x, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75), x, ([], []), repeats)


def subpixel(batch, repeats):
    layer = layers.SubPixelConv2D(1, 3, kernel_size=3)
    x = tf.random.stateless_uniform((batch, 64, 64, 32), seed=(0, 1))
    layer.build(x.shape)
    conv = keras.layers.Conv2D(9, 3, padding="same")
    conv.build(x.shape)
    conv.set_weights(layer.get_weights())
    return compare("sub-pixel shuffle (x3, 64x64x32)", layer,
                   lambda x: tf.nn.depth_to_space(conv(x), 3), x,
                   (layer.trainable_variables, conv.trainable_variables), repeats)


def sampler(batch, repeats):
    size = 64
    images = tf.random.stateless_uniform((batch, size, size, 3), seed=(0, 2))
    theta = tf.constant([[0.9, 0.1, 0.05, -0.1, 0.8, -0.1]] * batch)

    def garden(images):
        x_s, y_s = affine_grid(theta, size, size)
        return bilinear_sample(images, x_s, y_s)

    # The same map in pixels: x_pix = (x_s + 1) (W - 1) / 2 with x_t = 2 j / (W - 1) - 1, so
    # x_pix = t11 j + t12 i + (t11 + t12 + t13 + 1) (W - 1) / 2 - ... written out below.
    half = (size - 1) / 2.0
    t = theta.numpy()[0]
    transform = [t[0], t[1], half * (t[2] + 1 - t[0] - t[1]),
                 t[3], t[4], half * (t[5] + 1 - t[3] - t[4]), 0.0, 0.0]
    transforms = tf.constant([transform] * batch, tf.float32)

    def builtin(images):
        return tf.raw_ops.ImageProjectiveTransformV3(
            images=images, transforms=transforms, output_shape=[size, size], fill_value=0.0,
            interpolation="BILINEAR", fill_mode="CONSTANT")

    return compare(f"spatial transformer sampler ({size}x{size}x3)", garden, builtin, images,
                   ([], []), repeats, directions=(False,))


def capsules(batch, repeats):
    layer = layers.CapsuleLayer(10, dim=16, routings=3)
    x = tf.random.stateless_uniform((batch, 1152, 8), seed=(0, 3), minval=-0.2, maxval=0.2)
    layer.build(x.shape)

    def builtin(u):  # the routing of Sabour et al. with tf.matmul, as the reference codes do
        u_hat = tf.squeeze(tf.matmul(u[:, :, None, None, :], layer.kernel[None]), 3)  # b,i,j,e
        logits = tf.zeros(tf.shape(u_hat)[:3])
        for iteration in range(3):
            c = tf.nn.softmax(logits, axis=2)
            v = squash(tf.reduce_sum(c[..., None] * u_hat, axis=1))  # b,j,e
            if iteration < 2:
                logits = logits + tf.reduce_sum(u_hat * v[:, None], axis=-1)
        return v

    result = compare("capsule routing (1152x8 -> 10x16, 3 routings)", layer, builtin, x,
                     ([layer.kernel], [layer.kernel]), repeats)
    one = layers.CapsuleLayer(10, dim=16, routings=1)
    one.build(x.shape)
    one.set_weights(layer.get_weights())
    seconds = _timing.interleave({"3": compiled(layer, x, [layer.kernel], True),
                                  "1": compiled(one, x, [one.kernel], True)}, repeats=repeats)
    return result + [_timing.row(
        "layers", "capsule routing forward + backward: 3 routings / 1",
        _timing.ratios(seconds, "3", "1"), "time ratio", input_shape=list(x.shape),
        ms_per_extra_iteration=1000 * float(np.median(seconds["3"]) - np.median(seconds["1"]))
        / CALLS / 2)]


def rows(tiny=False, repeats=5):
    """Rows of every layer pair: garden's time over the built-in's."""
    batch, repeats = (1, 1) if tiny else (8, repeats)
    keras.utils.set_random_seed(0)
    return (lrn(batch, repeats) + subpixel(batch, repeats) + sampler(batch, repeats)
            + capsules(batch, repeats))


def main(argv=None):
    return _timing.repeats_main(rows, __doc__, argv)


if __name__ == "__main__":
    main()
