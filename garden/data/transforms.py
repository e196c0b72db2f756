"""Seeded `tf.data` transforms: mixup, the corruptions of "rethinking generalization",
class-imbalance resampling, and enlarging a training set with shifted copies.

Each function here is a factory: it takes the transform's arguments and returns a callable from
a `tf.data.Dataset` to a `tf.data.Dataset`, which `garden.data.load(..., transforms=[...],
batch_transforms=[...])` applies and a recipe names in its `[data]` table, e.g.
`transforms = [{name = "random_labels", rate = 0.5, num_classes = 10}]`.

- `transforms` see unbatched `(image, label)` examples, after decoding and before cache,
  shuffle and batch, so a corruption is drawn once and stays fixed across epochs (as Zhang et
  al. fix theirs): `random_labels`, `shuffled_pixels`, `random_pixels`, `gaussian`,
  `step_imbalance`, `oversample`, `undersample`, `per_class`, `scale_pixels`,
  `augmented_copies`.
- `batch_transforms` see batches: `mixup`.

Randomness is stateless: what happens to example `i` depends only on `seed` and `i` (its
position in the input), never on a global random state, so the same seed gives the same
dataset. Resampling transforms read the labels once, when the dataset is transformed.

References:
    Zhang, Bengio, Hardt, Recht & Vinyals, "Understanding deep learning requires rethinking
    generalization", ICLR 2017. https://arxiv.org/abs/1611.03530
    Zhang, Cisse, Dauphin & Lopez-Paz, "mixup: Beyond Empirical Risk Minimization", ICLR 2018.
    https://arxiv.org/abs/1710.09412
    Buda, Maki & Mazurowski, "A systematic study of the class imbalance problem in
    convolutional neural networks", Neural Networks 2018. https://arxiv.org/abs/1710.05381
"""

import numpy as np
import tensorflow as tf

from garden.utils.checks import check_int, check_number


def _check_seed(seed):
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(f"seed={seed!r} is not allowed: use an int.")


def _example_seeds(seed, index, count):
    """`count` independent stateless seeds for example `index` of a transform seeded `seed`."""
    key = tf.random.experimental.stateless_fold_in(tf.constant([seed, 0], tf.int64), index)
    return tf.random.experimental.stateless_split(key, num=count)


def _image_shape(dataset):
    shape = dataset.element_spec[0].shape
    if not shape.is_fully_defined() or shape.rank != 3:
        raise ValueError(
            f"images of shape {shape} are not allowed: pixel corruptions need a fixed "
            "(height, width, channels)."
        )
    return shape.as_list()


def random_labels(rate, num_classes, seed=0):
    """Replaces each label, with probability `rate`, by a class drawn uniformly at random.

    Zhang et al.'s "partially corrupted labels": `rate=1` gives completely random labels. A
    replaced label may by chance equal the true one (probability 1 / num_classes).

    Args:
        rate: float. Probability that a label is replaced, in [0, 1].
        num_classes: int. Number of classes to draw from.
        seed: int. Seed of the corruption. Defaults to 0.

    Returns:
        A transform of unbatched `(image, label)` datasets.

    Example:
    >>> images, labels = tf.zeros((100, 2, 2, 1)), tf.zeros(100, tf.int64)
    >>> data = tf.data.Dataset.from_tensor_slices((images, labels))
    >>> labels = [int(y) for _, y in random_labels(1.0, 10, seed=3)(data)]
    >>> len(set(labels)) > 1
    True
    """
    check_number("rate", rate, minimum=0, maximum=1)
    check_int("num_classes", num_classes, minimum=2)
    _check_seed(seed)

    def corrupt(index, example):
        image, label = example
        coin, draw = tf.unstack(_example_seeds(seed, index, 2))
        replace = tf.random.stateless_uniform([], coin) < rate
        new = tf.random.stateless_uniform([], draw, 0, num_classes, dtype=tf.int64)
        return image, tf.where(replace, tf.cast(new, label.dtype), label)

    return lambda dataset: dataset.enumerate().map(corrupt)


def shuffled_pixels(seed=0):
    """Applies one fixed random permutation of the pixel positions to every image.

    Zhang et al.'s "shuffled pixels": the spatial structure is destroyed the same way for all
    images (channels move together), so the images stay consistent with each other.

    Args:
        seed: int. Seed of the permutation. Defaults to 0.

    Returns:
        A transform of unbatched `(image, label)` datasets with fixed image shape.
    """
    return _pixel_permutation(seed, per_image=False)


def random_pixels(seed=0):
    """Applies a different random permutation of the pixel positions to each image.

    Zhang et al.'s "random pixels": every image keeps its own pixel values in a random order.

    Args:
        seed: int. Seed of the permutations. Defaults to 0.

    Returns:
        A transform of unbatched `(image, label)` datasets with fixed image shape.
    """
    return _pixel_permutation(seed, per_image=True)


def _pixel_permutation(seed, per_image):
    """Permutes the pixel positions (channels together) by the order that sorts seeded uniform
    noise: one noise for every image, or each image's own."""
    _check_seed(seed)

    def transform(dataset):
        height, width, channels = _image_shape(dataset)

        def shuffle(index, example):
            image, label = example
            key = (_example_seeds(seed, index, 1)[0] if per_image
                   else tf.constant([seed, 1], tf.int64))
            noise = tf.random.stateless_uniform([height * width], key)
            pixels = tf.gather(tf.reshape(image, [height * width, channels]), tf.argsort(noise))
            return tf.reshape(pixels, [height, width, channels]), label

        return dataset.enumerate().map(shuffle)

    return transform


def gaussian(seed=0):
    """Replaces every image by Gaussian noise with the dataset's per-channel mean and variance.

    Zhang et al.'s "Gaussian": "a Gaussian distribution (with matching mean and variance to the
    original image dataset) is used to generate random pixels for each image". The statistics
    are computed over all pixels of the dataset when it is transformed; values are not clipped.

    Args:
        seed: int. Seed of the noise. Defaults to 0.

    Returns:
        A transform of unbatched `(image, label)` datasets with fixed image shape.
    """
    _check_seed(seed)

    def transform(dataset):
        shape = _image_shape(dataset)

        def accumulate(state, example):
            pixels = tf.reshape(tf.cast(example[0], tf.float64), [-1, shape[-1]])
            count, total, squares = state
            return (count + tf.cast(tf.shape(pixels)[0], tf.float64),
                    total + tf.reduce_sum(pixels, 0), squares + tf.reduce_sum(pixels**2, 0))

        zeros = tf.zeros([shape[-1]], tf.float64)
        count, total, squares = dataset.reduce((tf.constant(0.0, tf.float64), zeros, zeros),
                                               accumulate)
        mean = total / count
        std = tf.sqrt(tf.maximum(squares / count - mean**2, 0.0))
        dtype = dataset.element_spec[0].dtype
        mean, std = tf.cast(mean, dtype), tf.cast(std, dtype)

        def replace(index, example):
            key = _example_seeds(seed, index, 1)[0]
            noise = tf.random.stateless_normal(shape, key, dtype=dtype)
            return mean + std * noise, example[1]

        return dataset.enumerate().map(replace)

    return transform


def _labels(dataset):
    return np.array([int(y) for y in dataset.map(lambda image, label: label)], dtype=np.int64)


def _ranks_within_class(labels, seed):
    """A random rank of every example among the examples of its class (0 = first chosen)."""
    noise = tf.random.stateless_uniform([len(labels)], tf.constant([seed, 2], tf.int64)).numpy()
    ranks = np.empty(len(labels), dtype=np.int64)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        ranks[members[np.argsort(noise[members], kind="stable")]] = np.arange(len(members))
    return ranks


def _resample(dataset, copies):
    """Example `i` repeated `copies[i]` times (0 drops it), in the input order."""
    copies = tf.constant(copies, tf.int64)
    return dataset.enumerate().flat_map(
        lambda index, example: tf.data.Dataset.from_tensors(example).repeat(copies[index])
    )


def _class_resampling(seed, copies):
    """A transform repeating each example `copies(ranks, class_sizes)` times, where `ranks` is
    its random rank within its class and `class_sizes` its class's size (arrays per example)."""
    _check_seed(seed)

    def transform(dataset):
        labels = _labels(dataset)
        sizes = np.bincount(labels)
        return _resample(dataset, copies(_ranks_within_class(labels, seed), sizes[labels]))

    return transform


def step_imbalance(minority_classes, ratio, seed=0):
    """Makes `minority_classes` rare: each keeps `ceil(n / ratio)` of its `n` examples.

    Buda et al.'s "step imbalance" with imbalance ratio `ratio` (majority to minority size),
    used to build imbalanced training sets from balanced ones; which examples stay is random.

    Args:
        minority_classes: list of int. Classes to subsample.
        ratio: float. Imbalance ratio, >= 1.
        seed: int. Seed of the choice. Defaults to 0.

    Returns:
        A transform of unbatched `(image, label)` datasets.
    """
    if not ratio >= 1:
        raise ValueError(f"ratio={ratio!r} is not allowed: use a ratio >= 1.")
    if not minority_classes or not all(isinstance(c, int) for c in minority_classes):
        raise ValueError(
            f"minority_classes={minority_classes!r} is not allowed: use a list of class ids."
        )
    _check_seed(seed)

    def transform(dataset):
        labels = _labels(dataset)
        ranks = _ranks_within_class(labels, seed)
        keep = np.ones(len(labels), dtype=np.int64)
        for label in minority_classes:
            members = labels == label
            keep[members] = ranks[members] < np.ceil(members.sum() / ratio)
        return _resample(dataset, keep)

    return transform


def oversample(seed=0):
    """Random oversampling: every class is replicated up to the size of the largest class.

    Buda et al.'s best method in most settings. Each example of a class with `n` examples
    appears `target // n` times, and `target % n` randomly chosen ones once more, so every
    class ends with exactly `target` examples.

    Args:
        seed: int. Seed of the choice of extra copies. Defaults to 0.

    Returns:
        A transform of unbatched `(image, label)` datasets.
    """
    def copies(ranks, size):
        target = size.max()
        return target // size + (ranks < target % size)

    return _class_resampling(seed, copies)


def undersample(seed=0):
    """Random undersampling: every class is cut down to the size of the smallest class.

    Args:
        seed: int. Seed of the choice of examples kept. Defaults to 0.

    Returns:
        A transform of unbatched `(image, label)` datasets.
    """
    return _class_resampling(seed, lambda ranks, size: (ranks < size.min()).astype(np.int64))


def per_class(count, seed=0):
    """Keeps `count` random examples of each class (all of a class that has fewer): a few-shot
    training set, e.g. for fine-tuning a pretrained network on little data.

    Args:
        count: int. Examples kept per class, >= 1.
        seed: int. Seed of the choice. Defaults to 0.

    Returns:
        A transform of unbatched `(image, label)` datasets.
    """
    check_int("count", count)
    return _class_resampling(seed, lambda ranks, size: (ranks < count).astype(np.int64))


def augmented_copies(copies, max_shift=1, seed=0):
    """Enlarges a dataset `copies` times: every copy of every image randomly translated.

    The dataset is repeated `copies` times (all examples, then all again, so that a shuffle
    buffer smaller than the result still mixes different examples) and each of the
    `copies * n` images is shifted by a whole number of pixels drawn uniformly from
    `[-max_shift, max_shift]` on each axis, filling the uncovered border with zeros. The shifts
    are drawn once and stay fixed across epochs, so an epoch is `copies` times longer: e.g. a
    training set large enough for minibatches of a thousand on the 1,437 digits.

    Args:
        copies: int. Copies of each example, >= 1.
        max_shift: int. Largest shift in pixels along each axis, >= 0 (0: plain copies).
            Defaults to 1.
        seed: int. Seed of the shifts. Defaults to 0.

    Returns:
        A transform of unbatched `(image, label)` datasets with fixed image shape.

    Example:
    >>> data = tf.data.Dataset.from_tensor_slices((tf.ones((10, 8, 8, 1)), tf.range(10)))
    >>> int(augmented_copies(20, max_shift=1)(data).cardinality())
    200
    """
    copies = check_int("copies", copies)
    max_shift = check_int("max_shift", max_shift, minimum=0)
    _check_seed(seed)

    def transform(dataset):
        height, width, channels = _image_shape(dataset)
        if 2 * max_shift >= min(height, width):
            raise ValueError(f"max_shift={max_shift} is not allowed for {height}x{width} images: "
                             f"use a shift below half the image's side.")
        border = [[max_shift, max_shift], [max_shift, max_shift], [0, 0]]

        def shift(index, example):
            image, label = example
            key = _example_seeds(seed, index, 1)[0]
            dy, dx = tf.unstack(tf.random.stateless_uniform(
                [2], key, -max_shift, max_shift + 1, dtype=tf.int32))
            # out[y, x] = image[y - dy, x - dx], zero where that falls outside the image.
            padded = tf.pad(image, border)
            image = tf.slice(padded, [max_shift - dy, max_shift - dx, 0],
                             [height, width, channels])
            return image, label

        return dataset.repeat(copies).enumerate().map(shift)

    return transform


def scale_pixels(factor):
    """Multiplies the images by `factor`, e.g. 255 for models that take pixels in [0, 255]
    (`garden.data.load` gives [0, 1]; a model built with `include_preprocessing=True` takes RGB
    in [0, 255]).

    Args:
        factor: float. The multiplier, > 0.

    Returns:
        A transform of `(image, label)` datasets, batched or not.
    """
    factor = check_number("factor", factor, minimum=0, inclusive=False)
    return lambda dataset: dataset.map(lambda image, label: (image * factor, label))


def mixup(alpha, num_classes, seed=0):
    """mixup: each batch becomes convex combinations of pairs of its examples.

    For batch `b`, `lam ~ Beta(alpha, alpha)` and a random permutation `p` of the batch give
    `x = lam * x + (1 - lam) * x[p]` and `y = lam * y + (1 - lam) * y[p]`, with integer labels
    one-hot encoded first. The labels become soft: train with `categorical_crossentropy` (or
    `FocalLoss(mode="categorical")`) and metric `categorical_accuracy`, and give the
    evaluation data one-hot labels too.

    Args:
        alpha: float. Beta distribution parameter, > 0 (the paper uses 0.1 to 0.4 on ImageNet).
        num_classes: int. Number of classes, for the one-hot labels.
        seed: int. Seed of the mixing. Defaults to 0.

    Returns:
        A transform of batched `(images, labels)` datasets.

    Example:
    >>> data = tf.data.Dataset.from_tensor_slices((tf.eye(4), tf.range(4))).batch(4)
    >>> images, labels = next(iter(mixup(0.4, num_classes=4)(data)))
    >>> [round(float(s), 4) for s in tf.reduce_sum(labels, axis=1)]
    [1.0, 1.0, 1.0, 1.0]
    """
    check_number("alpha", alpha, minimum=0, inclusive=False)
    check_int("num_classes", num_classes, minimum=2)
    _check_seed(seed)

    def mix(index, batch):
        images, labels = batch
        if labels.dtype.is_integer:
            labels = tf.one_hot(labels, num_classes, dtype=images.dtype)
        first, second, order = tf.unstack(_example_seeds(seed, index, 3))
        a = tf.random.stateless_gamma([], first, alpha, dtype=images.dtype)
        b = tf.random.stateless_gamma([], second, alpha, dtype=images.dtype)
        lam = a / (a + b)
        partner = tf.argsort(tf.random.stateless_uniform([tf.shape(images)[0]], order))
        images = lam * images + (1 - lam) * tf.gather(images, partner)
        labels = lam * labels + (1 - lam) * tf.gather(labels, partner)
        return images, labels

    return lambda dataset: dataset.enumerate().map(mix)
