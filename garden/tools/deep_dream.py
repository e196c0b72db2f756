"""DeepDream: gradient ascent on an image to amplify what chosen layers of a classifier respond to.

The objective is the mean squared activation of the chosen layers. Each step adds the gradient
divided by its mean absolute value (gradient normalisation, so the step size is in units of
pixel values), computed on a randomly shifted copy of the image (jitter, which keeps the patterns
from aligning to the network's stride grid). Octaves run the ascent from a small scale up to the
full image, carrying the detail created at each scale to the next, so patterns appear at several
sizes.

Reference:
    Mordvintsev, Olah & Tyka, "Inceptionism: Going Deeper into Neural Networks", Google Research
    Blog, 2015. https://research.google/blog/inceptionism-going-deeper-into-neural-networks/
"""

import keras
import numpy as np
import tensorflow as tf

from garden.utils.files import atomic_path
from garden.utils.checks import check_choice, check_int, check_number


def dream_model(model, layers):
    """The model from the classifier's input to the outputs of `layers`, accepting any image
    size: convolutional features do not depend on the input size, so a model built for one
    size is rebuilt (same weights) on an input of unknown height and width.

    Args:
        model: keras.Model. A functional classifier.
        layers: list of str. Names of the layers whose activations the dream amplifies.

    Returns:
        A keras.Model with one output per layer.
    """
    if isinstance(layers, str) or not layers:
        raise ValueError(f"layers={layers!r} is not allowed: use a non-empty list of layer names.")
    names = [layer.name for layer in model.layers]
    unknown = [name for name in layers if name not in names]
    if unknown:
        raise ValueError(f"layers={layers!r} is not allowed: {model.name} has no layer "
                         f"{', '.join(map(repr, unknown))}; its layers are {', '.join(names)}.")
    features = keras.Model(model.input, [model.get_layer(name).output for name in layers])
    shape = features.input_shape
    if shape[1:-1] == (None,) * (len(shape) - 2):
        return features
    resizable = keras.models.clone_model(
        features, input_tensors=keras.Input((None,) * (len(shape) - 2) + shape[-1:])
    )
    resizable.set_weights(features.get_weights())
    return resizable


def deep_dream(model, image, layers, *, steps=20, step_size=0.01, octaves=3, octave_scale=1.4,
               jitter=8, seed=0):
    """Dreams `image` with the chosen layers of `model`.

    Args:
        model: keras.Model. A functional image classifier (any input size it was built for).
        image: array (height, width, channels) with values in [0, 1], matching the model's
            channels (e.g. `skimage.data.astronaut() / 255`).
        layers: list of str. Layer names whose mean squared activations are maximised.
        steps: int. Gradient-ascent steps per octave. Defaults to 20.
        step_size: float. Step in pixel units after gradient normalisation. Defaults to 0.01.
        octaves: int. Number of scales, the smallest `octave_scale ** (octaves - 1)` times
            smaller than the image. Defaults to 3.
        octave_scale: float. Ratio between consecutive scales. Defaults to 1.4.
        jitter: int. Maximum random shift in pixels before each step. Defaults to 8.
        seed: int. Seed of the jitter. Defaults to 0.

    Returns:
        The dreamed image, float32 in [0, 1], of the input's shape.

    Example:
    >>> from garden.models import mobilenet_v1
    >>> model = mobilenet_v1(alpha=0.25, input_shape=(64, 64, 3), classes=10)
    >>> image = np.random.default_rng(0).random((80, 96, 3)).astype("float32")
    >>> deep_dream(model, image, ["conv_pw_3_relu"], steps=2, octaves=2).shape
    (80, 96, 3)
    """
    image = np.asarray(image, dtype="float32")
    features = dream_model(model, layers)
    channels = features.input_shape[-1]
    if image.ndim != 3 or image.shape[-1] != channels:
        raise ValueError(f"image of shape {image.shape} is not allowed: use (height, width, "
                         f"{channels}) to match the model's input.")
    check_int("octaves", octaves)
    check_number("octave_scale", octave_scale, minimum=1, inclusive=False)
    ascend = _ascent_step(features)
    rng = np.random.default_rng(seed)
    full = np.array(image.shape[:2])
    sizes = [np.maximum(np.round(full / octave_scale**k), 1).astype(int)
             for k in reversed(range(octaves))]
    base = tf.constant(image)
    detail = tf.zeros((*sizes[0], channels))
    for size in sizes:
        base_here = tf.image.resize(base, size)
        dream = base_here + tf.image.resize(detail, size)
        for _ in range(steps):
            shift = rng.integers(-jitter, jitter + 1, 2) if jitter else np.zeros(2, int)
            dream = ascend(dream, tf.constant(shift, tf.int32), tf.constant(step_size))
        detail = dream - base_here
    return np.asarray(dream)


def dream_objective(model, image, layers):
    """The dream's objective on `image`: mean squared activation of `layers`, averaged."""
    features = dream_model(model, layers)
    return float(_objective(features, tf.constant(np.asarray(image, "float32"))[None]))


def load_image(source, *, channels=3, size=None):
    """A photograph as float32 in [0, 1] with `channels` channels, the longer side resized to
    `size` if given.

    Args:
        source: str. The name of one of scikit-image's bundled photographs (`"astronaut"`,
            `"camera"`, `"coffee"`, `"chelsea"`, ...) or the path of an image file.
        channels: int. 1 or 3. Defaults to 3.
        size: int, optional. Length of the longer side after resizing.
    """
    import os

    from PIL import Image
    from skimage import data as photographs

    if os.path.isfile(str(source)):
        with Image.open(source) as opened:
            pixels = np.asarray(opened.convert("RGB"))
    elif callable(getattr(photographs, str(source), None)) and not str(source).startswith("_"):
        pixels = np.asarray(getattr(photographs, source)())
    else:
        raise ValueError(f"image={source!r} is not allowed: use an image file or a scikit-image "
                         "photograph name (astronaut, camera, coffee, chelsea, ...).")
    check_choice("channels", channels, (1, 3))
    pixels = pixels[..., None] if pixels.ndim == 2 else pixels[..., :3]
    image = tf.image.convert_image_dtype(pixels, tf.float32)
    if image.shape[-1] != channels:
        image = (tf.image.rgb_to_grayscale if channels == 1 else tf.image.grayscale_to_rgb)(image)
    if size is not None:
        scale = size / max(image.shape[:2])
        image = tf.image.resize(image, [round(d * scale) for d in image.shape[:2]],
                                antialias=True)
    return np.clip(np.asarray(image), 0, 1)


def save_image(image, path):
    """Writes a float image in [0, 1] as an 8-bit PNG or JPEG, atomically; returns `path`."""
    from PIL import Image

    pixels = np.clip(np.round(np.asarray(image) * 255), 0, 255).astype(np.uint8)
    pixels = pixels[..., 0] if pixels.shape[-1] == 1 else pixels
    with atomic_path(path) as tmp:
        Image.fromarray(pixels).save(tmp)
    return path


def _objective(features, batch):
    outputs = features(batch, training=False)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return tf.add_n([tf.reduce_mean(tf.square(output)) for output in outputs]) / len(outputs)


def _ascent_step(features):
    channels = features.input_shape[-1]

    @tf.function(input_signature=[tf.TensorSpec((None, None, channels), tf.float32),
                                  tf.TensorSpec((2,), tf.int32), tf.TensorSpec((), tf.float32)])
    def ascend(image, shift, step_size):
        shifted = tf.roll(image, shift, axis=(0, 1))
        with tf.GradientTape() as tape:
            tape.watch(shifted)
            objective = _objective(features, shifted[None])
        gradient = tape.gradient(objective, shifted)
        gradient /= tf.reduce_mean(tf.abs(gradient)) + 1e-8
        return tf.clip_by_value(image + step_size * tf.roll(gradient, -shift, axis=(0, 1)), 0, 1)

    return ascend
