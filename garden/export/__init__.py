"""Export to SavedModel and TFLite (LiteRT), and parity checks of the exported files.

    import numpy as np
    from garden import export, models

    model = models.mobilenet_v1(alpha=0.25, input_shape=(32, 32, 3), classes=4)
    images = np.random.rand(100, 32, 32, 3).astype("float32")  # or a tf.data.Dataset of (x, y)
    export.saved_model(model, "saved_models/mobilenet")
    export.tflite(model, "saved_models/mobilenet.tflite")
    export.tflite(model, "saved_models/mobilenet_int8.tflite", quantize="int8",
                  representative_data=images)
    report = export.verify(model, "saved_models/mobilenet_int8.tflite", images)
    print(report.as_dict())  # kind, max_abs_diff, top1_agreement, size_bytes, latency_ms, ...

Every registered model converts with builtin TFLite ops only (what LiteRT on a phone runs), and
full-integer int8: what runs on a device is converted (`deployables`): a GAN's generator or a
VAE's decoder, and a recurrent language model as a step file (one character and the state in,
logits and the new state out; `StepFile` runs it, `garden.tools.sample_text(path, ...)` writes
text with it) plus, for a fixed sequence length, an unrolled `<stem>_sequence.tflite`. The files'
signatures name the model's inputs and outputs; `verify` and `run_tflite` run them by name, so
models of several inputs (graphs) and outputs (CapsNet) are checked output by output.

Every file is written atomically: an interrupted export never leaves a partial artifact under
the final name, and an earlier export there is replaced only by a complete new one. TFLite files
are run with LiteRT's interpreter (`ai_edge_litert`), the successor of `tf.lite.Interpreter`.
"""

from garden.export._convert import QUANTIZE, saved_model, tflite
from garden.export._deploy import Deployable, deployables
from garden.export._litert import StepFile, VerifyReport, run_tflite, verify

__all__ = ["QUANTIZE", "Deployable", "StepFile", "VerifyReport", "deployables", "run_tflite",
           "saved_model", "tflite", "verify"]
