"""DeepDream: the ascent step against its formula, the objective rising on a photograph."""

import keras
import numpy as np
import pytest
from PIL import Image
from skimage import data as photos
from skimage.transform import resize

from garden.models import mobilenet_v1
from garden.tools import deep_dream, dream_model, dream_objective, load_image, save_image


@pytest.fixture(scope="module")
def classifier():
    keras.utils.set_random_seed(0)
    return mobilenet_v1(alpha=0.25, input_shape=(32, 32, 3), classes=10)


@pytest.fixture(scope="module")
def astronaut():
    return resize(photos.astronaut(), (72, 64), anti_aliasing=True).astype("float32")


def test_one_step_is_the_normalised_gradient():
    # A 1x1 convolution: activation a = x.w per pixel, objective mean(a^2), gradient 2 a w / N.
    inputs = keras.Input((None, None, 3))
    conv = keras.layers.Conv2D(1, 1, use_bias=False, name="linear")
    model = keras.Model(inputs, conv(inputs))
    w = np.array([0.5, -1.0, 2.0], "float32")
    conv.set_weights([w.reshape(1, 1, 3, 1)])
    image = np.random.default_rng(0).uniform(0.2, 0.8, (6, 5, 3)).astype("float32")
    result = deep_dream(model, image, ["linear"], steps=1, step_size=0.01, octaves=1, jitter=0)
    gradient = 2 * (image @ w)[..., None] * w / (6 * 5)
    expected = np.clip(image + 0.01 * gradient / np.abs(gradient).mean(), 0, 1)
    np.testing.assert_allclose(result, expected, atol=1e-6)


def test_dreaming_a_photograph_raises_the_layer_activations(astronaut):
    # An untrained MobileNet's batch norm (unit moving variance) shrinks deep activations to
    # ~1e-8, so the objective is checked on a plain He-initialised CNN.
    keras.utils.set_random_seed(0)
    inputs = keras.Input((32, 32, 3))
    x = inputs
    for k, filters in enumerate((16, 32, 32)):
        x = keras.layers.Conv2D(filters, 3, strides=1 + (k > 0), padding="same",
                                activation="relu", kernel_initializer="he_normal",
                                name=f"conv{k}")(x)
    head = keras.layers.Dense(4)(keras.layers.GlobalAveragePooling2D()(x))
    classifier = keras.Model(inputs, head)
    layers = ["conv1", "conv2"]
    dreamed = deep_dream(classifier, astronaut, layers, steps=8, octaves=2, step_size=0.02)
    assert dreamed.shape == astronaut.shape and dreamed.dtype == np.float32
    assert 0 <= dreamed.min() and dreamed.max() <= 1
    before = dream_objective(classifier, astronaut, layers)
    assert dream_objective(classifier, dreamed, layers) > 1.5 * before


def test_jitter_draws_from_the_seed(classifier, astronaut):
    kwargs = dict(steps=2, octaves=1)
    a = deep_dream(classifier, astronaut, ["conv_pw_2_relu"], seed=0, **kwargs)
    b = deep_dream(classifier, astronaut, ["conv_pw_2_relu"], seed=1, **kwargs)
    c = deep_dream(classifier, astronaut, ["conv_pw_2_relu"], seed=1, jitter=0, **kwargs)
    d = deep_dream(classifier, astronaut, ["conv_pw_2_relu"], seed=2, jitter=0, **kwargs)
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(c, d)


def test_a_fixed_size_classifier_dreams_at_any_size(classifier):
    features = dream_model(classifier, ["conv_pw_4_relu"])
    assert features.input_shape == (None, None, None, 3)
    x = np.random.default_rng(1).random((1, 32, 32, 3)).astype("float32")
    reference = keras.Model(classifier.input, classifier.get_layer("conv_pw_4_relu").output)
    np.testing.assert_allclose(features(x), reference(x), atol=1e-5)


@pytest.mark.parametrize(
    "layers, message", [(["nope"], "has no layer 'nope'"), ("conv1", "layers='conv1'")]
)
def test_bad_layers_name_the_argument(classifier, layers, message):
    with pytest.raises(ValueError, match=message):
        dream_model(classifier, layers)


def test_wrong_channels_are_refused(classifier):
    with pytest.raises(ValueError, match=r"image of shape \(8, 8, 1\)"):
        deep_dream(classifier, np.zeros((8, 8, 1)), ["conv1"])


def test_save_image_round_trips(tmp_path, astronaut):
    path = save_image(astronaut, tmp_path / "dream.png")
    with Image.open(path) as saved:
        np.testing.assert_array_equal(np.asarray(saved), np.round(astronaut * 255).astype("uint8"))


def test_load_image_names_files_channels_and_size(tmp_path):
    coffee = load_image("coffee", size=100)
    assert coffee.shape == (67, 100, 3) and coffee.dtype == np.float32  # 400x600 photograph
    camera = load_image("camera", channels=1)
    np.testing.assert_allclose(camera[..., 0], photos.camera() / 255, atol=1e-6)
    path = save_image(coffee, tmp_path / "coffee.png")
    np.testing.assert_allclose(load_image(path), coffee, atol=1 / 255)
    with pytest.raises(ValueError, match="image='nope'"):
        load_image("nope")


def test_command_line_dreams_a_photograph(tmp_path, capsys):
    from garden.cli import main

    output = tmp_path / "dream.png"
    assert main(["dream", "mobilenet_v1", "--layers", "conv1_relu", "--image", "chelsea",
                 "--size", "48", "--steps", "2", "--octaves", "1", "--output", str(output)]) == 0
    before, after = capsys.readouterr().out.split(": ")[1].split("\n")[0].split(" -> ")
    assert float(after) > float(before)
    with Image.open(output) as dreamed:
        assert dreamed.size == (48, 32)  # chelsea is 451 wide, 300 high
