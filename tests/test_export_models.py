"""Export of the models that are not one input to one output: several inputs (graphs), several
outputs (CapsNet), and the recurrent keyboard model (a step file run character by character, and
an unrolled whole-sequence file). Generative models: tests/test_generative_export.py."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from garden import export, models
from garden.export import _examples
from garden.layers import Mask
from garden.tools import sample_text
from tests.test_export_registry import builtin_ops


def assert_builtin_ops_only(*paths):
    """The registry's check (tests/test_export_registry.py) for the families tested here."""
    for path in paths:
        ops = builtin_ops(path)
        assert not any(op.startswith("Flex") or op == "CUSTOM" for op in ops), (path, ops)


@pytest.fixture(scope="module")
def gcn_files(small_model, tmp_path_factory):
    """The GCN's test instance (features and graph in) and its float and int8 files (the
    registry's export check for the GCN family: tests/test_export_registry.py)."""
    model = small_model("gcn")
    rng = np.random.default_rng(0)
    features = rng.random((6, 5, 6), dtype=np.float32)  # 6 graphs of 5 nodes
    graph = rng.random((6, 5, 5), dtype=np.float32)
    directory = tmp_path_factory.mktemp("gcn")
    files = {quantize: export.tflite(model, directory / f"{quantize}.tflite", quantize,
                                     representative_data={"graph": graph, "features": features})
             for quantize in ("float", "int8")}
    return model, [features, graph], files


def test_several_inputs_verify_and_run_by_name_in_every_form(gcn_files):
    model, (features, graph), files = gcn_files
    expected = model.predict([features, graph], verbose=0)
    as_list = export.run_tflite(files["float"], {"features": features, "graph": graph})
    np.testing.assert_allclose(as_list, expected, atol=1e-5)
    forms = [[features, graph], {"graph": graph, "features": features},
             tf.data.Dataset.from_tensor_slices(((features, graph),)).batch(4),
             lambda: ([features[i:i + 1], graph[i:i + 1]] for i in range(6))]
    for data in forms:
        report = export.verify(model, files["float"], data, latency_runs=1)
        assert report.num_samples == 6 and report.max_abs_diff < 1e-5
    report = export.verify(model, files["int8"], [features, graph], latency_runs=1)
    assert report.kind == "int8" and report.max_abs_diff < 0.05
    assert report.network == export.deployables(model)[0].description
    assert_builtin_ops_only(*files.values())


def test_several_inputs_data_errors_name_the_inputs(gcn_files):
    model, (features, graph), _ = gcn_files
    with pytest.raises(ValueError, match=r"has inputs \['features'\] but the model takes "
                                         r"\['features', 'graph'\]"):
        _examples.examples({"features": features}, model)
    with pytest.raises(ValueError, match=r"has \[6, 2\] examples of \['features', 'graph'\]"):
        _examples.examples([features, graph[:2]], model)
    with pytest.raises(ValueError, match=r"examples of shape \(5, 4\) but input 'features' "
                                         r"takes \(None, 6\)"):
        _examples.examples([features[..., :4], graph], model)


def test_several_outputs_are_each_compared(small_model, tmp_path):
    model = small_model("capsnet")
    x = np.random.default_rng(0).random((3, 20, 20, 1), dtype=np.float32)
    path = export.tflite(model, tmp_path / "capsnet.tflite")
    outputs = export.run_tflite(path, x)
    expected = model.predict(x, verbose=0)
    assert model.output_names == ["lengths", "digit_caps", "decoder"]
    assert sorted(outputs) == sorted(model.output_names)
    for name, want in zip(model.output_names, expected):
        np.testing.assert_allclose(outputs[name], want, atol=1e-5)


def test_capsule_mask_keeps_the_first_longest_capsule():
    capsules = np.random.default_rng(0).normal(size=(5, 4, 3)).astype("float32")
    capsules[0, 2] = capsules[0, 1]  # a tie: argmax keeps the first
    capsules[0, 1:3] *= 10
    masked = np.asarray(Mask()(capsules)).reshape(capsules.shape)
    longest = np.argmax(np.sum(capsules ** 2, axis=-1), axis=-1)
    np.testing.assert_array_equal(masked, capsules * np.eye(4)[longest][..., None])


VOCABULARY = "_abcdef"  # id 0 is padding for the keyboard's OOV model


@pytest.fixture(scope="module")
def keyboard(tmp_path_factory):
    """A trained-looking char LSTM (2 layers, fixed length) and its step and sequence files."""
    keras.utils.set_random_seed(1)
    model = models.char_lstm(vocabulary_size=7, embedding_dim=4, units=6, layers=2,
                             sequence_length=5)
    for layer in model.layers:  # larger weights than at initialisation: distinct logits
        layer.set_weights([3 * w for w in layer.get_weights()])
    sequences = np.random.default_rng(2).integers(0, 7, (6, 5)).astype("int32")
    path = export.tflite(model, tmp_path_factory.mktemp("lstm") / "keyboard.tflite")
    return model, sequences, path


def test_step_file_gives_keras_logits_at_every_position(keyboard):
    model, sequences, path = keyboard
    report = export.verify(model, path, sequences, latency_runs=1)
    assert report.network.startswith("the step model of char_lstm")
    assert report.max_abs_diff < 1e-4 and report.top1_agreement == 1.0
    steps = export.StepFile(path)
    assert sorted(steps.states) == ["c_1", "c_2", "h_1", "h_2"]
    np.testing.assert_allclose(steps.run(sequences[0]), model.predict(sequences[:1],
                                                                        verbose=0)[0], atol=1e-4)
    sequence_file = path.with_name("keyboard_sequence.tflite")
    report = export.verify(model, sequence_file, sequences, latency_runs=1)
    assert report.network == "char_lstm unrolled over 5 characters"
    np.testing.assert_allclose(export.run_tflite(sequence_file, sequences),
                               model.predict(sequences, verbose=0), atol=1e-4)
    assert_builtin_ops_only(path, sequence_file)


def test_sampling_from_the_step_file_writes_the_keras_text(keyboard):
    fixed, _, path = keyboard
    model = models.char_lstm(vocabulary_size=7, embedding_dim=4, units=6, layers=2)
    model.set_weights(fixed.get_weights())  # the same network, for texts of any length
    keras_text = sample_text(model, "ab", temperature=0, length=12, vocabulary=VOCABULARY)
    assert sample_text(path, "ab", temperature=0, length=12,
                       vocabulary=VOCABULARY) == keras_text
    assert sample_text(path, "ab", temperature=1.0, length=12, vocabulary=VOCABULARY,
                       seed=3) == sample_text(model, "ab", temperature=1.0, length=12,
                                              vocabulary=VOCABULARY, seed=3)


def test_padded_words_keep_the_state_in_the_step_file(tmp_path):
    keras.utils.set_random_seed(0)
    model = models.char_lstm(vocabulary_size=7, embedding_dim=4, units=5, layers=1,
                             cifg=True, mask_zero=True)
    words = np.array([[3, 1, 4, 0, 0, 0], [2, 5, 6, 1, 2, 0]], "int32")
    path = export.tflite(model, tmp_path / "oov.tflite")
    assert export.verify(model, path, words, latency_runs=1).max_abs_diff < 1e-5


def test_int8_step_file_calibrates_on_the_states_met_along_sequences(keyboard, tmp_path):
    model, sequences, _ = keyboard
    path = export.tflite(model, tmp_path / "q.tflite", "int8", representative_data=sequences)
    report = export.verify(model, path, sequences, latency_runs=1)
    assert report.kind == "int8" and report.max_abs_diff < 0.5
    assert report.top1_agreement >= 0.8
    assert_builtin_ops_only(path, path.with_name("q_sequence.tflite"))


def test_dynamic_range_warns_when_it_quantizes_nothing(small_model, tmp_path):
    with pytest.warns(UserWarning, match=r"quantize='dynamic' left espcn in float32"):
        path = export.tflite(small_model("espcn"), tmp_path / "m.tflite", "dynamic")
    assert export.verify(small_model("espcn"), path, np.zeros((1, 8, 8, 1), "float32"),
                         latency_runs=1).kind == "float32"
