"""GoogLeNet against Table 1 of Szegedy et al., and its auxiliary classifiers: in the training
loss with weight 0.3, absent from inference, evaluation, saving and export."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from garden.layers import LocalResponseNormalization
from garden.models import GoogLeNet, googlenet
from tests.harness.models import full_model

SIZE = 65  # the smallest input the auxiliary heads accept


@pytest.fixture(scope="module")
def table_1_net():
    """The inference network of the full GoogLeNet (shared with tests/test_paper_figures.py)."""
    return full_model("googlenet").without_aux_heads()


@pytest.fixture(scope="module")
def small():
    """A GoogLeNet with auxiliary heads, compiled, and a batch of data."""
    model = googlenet(input_shape=(SIZE, SIZE, 3), classes=4, classifier_activation=None)
    model.compile(
        optimizer=keras.optimizers.SGD(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        run_eagerly=True,  # the same steps, without tracing graphs for a single batch
    )
    rng = np.random.default_rng(0)
    x = rng.random((8, SIZE, SIZE, 3), dtype=np.float32)
    y = rng.integers(0, 4, size=8)
    return model, x, y


def test_table_1_output_sizes(table_1_net):
    expected = {
        "conv1_relu": (112, 112, 64),
        "pool1": (56, 56, 64),
        "conv2_relu": (56, 56, 192),
        "pool2": (28, 28, 192),
        "inception3a_output": (28, 28, 256),
        "inception3b_output": (28, 28, 480),
        "pool4": (14, 14, 480),
        "inception4a_output": (14, 14, 512),
        "inception4b_output": (14, 14, 512),
        "inception4c_output": (14, 14, 512),
        "inception4d_output": (14, 14, 528),
        "inception4e_output": (14, 14, 832),
        "pool5": (7, 7, 832),
        "inception5a_output": (7, 7, 832),
        "inception5b_output": (7, 7, 1024),
        "avg_pool": (1024,),
        "predictions": (1000,),
    }
    assert {name: table_1_net.get_layer(name).output.shape[1:] for name in expected} == expected
    assert table_1_net.get_layer("dropout").rate == 0.4


def test_paper_network_has_biases_and_caffe_normalization(table_1_net):
    lrns = [layer for layer in table_1_net.layers if isinstance(layer, LocalResponseNormalization)]
    assert [(lrn.n, lrn.k, lrn.alpha, lrn.beta) for lrn in lrns] == [(5, 1.0, 2e-5, 0.75)] * 2
    convs = [layer for layer in table_1_net.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) == 3 + 9 * 6 and all(conv.use_bias for conv in convs)
    assert table_1_net.get_layer("inception3a_5x5").kernel_size == (5, 5)


def test_he_initialisation_keeps_the_signal(table_1_net):
    kernel = table_1_net.get_layer("inception5b_3x3").kernel.numpy()
    assert np.std(kernel) == pytest.approx(np.sqrt(2 / (3 * 3 * 192)), rel=0.05)
    x = np.random.default_rng(0).random((2, 224, 224, 3), dtype=np.float32)
    probe = keras.Model(table_1_net.input, table_1_net.get_layer("inception5b_output").output)
    assert np.std(probe(x)) > 0.1 * np.std(x)


def test_batch_norm_variant_replaces_biases_and_normalization():
    model = googlenet(batch_norm=True, aux_heads=False, input_shape=(32, 32, 3), classes=3)
    assert not any(isinstance(layer, LocalResponseNormalization) for layer in model.layers)
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            assert not layer.use_bias
            assert isinstance(model.get_layer(f"{layer.name}_bn"), keras.layers.BatchNormalization)


def test_training_loss_adds_the_auxiliary_losses_with_weight_0_3(small):
    model, x, y = small
    outputs = model(x, training=True)
    assert len(outputs) == 3
    cross_entropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    main, aux1, aux2 = (float(cross_entropy(y, out)) for out in outputs)
    loss = float(model.compute_loss(x, y, outputs, training=True))
    assert loss == pytest.approx(main + 0.3 * (aux1 + aux2), rel=1e-6)
    assert aux1 != pytest.approx(main) and aux2 != pytest.approx(main)


def test_inference_and_evaluation_see_only_the_main_classifier(small):
    model, x, y = small
    predicted = model.predict(x, verbose=0)
    assert isinstance(predicted, np.ndarray) and predicted.shape == (8, 4)
    cross_entropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    results = model.evaluate(x, y, verbose=0, return_dict=True)
    assert sorted(results) == ["accuracy", "loss"]
    assert results["loss"] == pytest.approx(float(cross_entropy(y, predicted)), rel=1e-5)


def test_fit_trains_every_head(small):
    model, x, y = small
    before = {w.path: w.numpy() for w in model.trainable_weights}
    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert sorted(history.history) == ["accuracy", "loss"]
    unchanged = [w.path for w in model.trainable_weights if np.array_equal(w.numpy(), before[w.path])]
    assert not unchanged
    assert any(w.path.startswith("aux1_fc") for w in model.trainable_weights)


def test_without_aux_heads_is_the_inference_network_with_shared_weights(small):
    model, x, _ = small
    inference = model.without_aux_heads()
    assert not isinstance(inference, GoogLeNet)
    assert len(inference.outputs) == 1 and inference.count_params() < model.count_params()
    assert all(any(w is v for v in model.weights) for w in inference.weights)
    np.testing.assert_array_equal(inference(x), model(x))


@pytest.fixture(scope="module")
def tiny():
    """A `GoogLeNet` around a three-output toy graph: the class's behaviour, cheaply."""
    inputs = keras.Input((6,))
    outputs = [keras.layers.Dense(3, name=name)(inputs) for name in ("main", "aux1", "aux2")]
    return GoogLeNet(inputs, outputs, aux_loss_weight=0.5)


def test_keras_file_keeps_the_class_and_loss_weight(tiny, tmp_path):
    tiny.save(tmp_path / "tiny.keras")
    loaded = keras.saving.load_model(tmp_path / "tiny.keras", safe_mode=True)
    assert type(loaded) is GoogLeNet and loaded.aux_loss_weight == 0.5
    x = np.ones((2, 6), "float32")
    for a, b in zip(tiny(x, training=True), loaded(x, training=True), strict=True):
        np.testing.assert_array_equal(a, b)


def test_saved_model_export_serves_the_main_output(tiny, tmp_path):
    tiny.export(tmp_path / "saved_model", format="tf_saved_model", verbose=False)
    loaded = tf.saved_model.load(str(tmp_path / "saved_model"))
    x = np.random.default_rng(1).random((2, 6), dtype=np.float32)
    np.testing.assert_allclose(loaded.serve(x).numpy(), tiny(x), rtol=1e-6)


def test_bad_loss_weight_names_the_argument(tiny):
    with pytest.raises(ValueError, match="aux_loss_weight=-1"):
        GoogLeNet(tiny.inputs, tiny.outputs, aux_loss_weight=-1)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(input_shape=(64, 64, 3)), "aux_heads=False"),
        (dict(weights="caffe"), "weights='caffe'"),
        (dict(aux_heads=False, input_shape=(31, 31, 3)), "at least 32"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        googlenet(**kwargs)
