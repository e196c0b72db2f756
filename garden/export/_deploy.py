"""What of a model runs on a device: the network each exported file holds.

A classifier ships whole. A generative model ships the network that makes samples (a GAN's
generator, a VAE's decoder), which it names with a `deployable()` method. A recurrent language
model ships as a step model (one character and the recurrent state in, logits and the new state
out: what a keyboard runs) and, for a fixed sequence length, as an unrolled whole-sequence model;
TFLite has no builtin op for Keras 3's recurrent loop (tensorflow/tensorflow#73254).
"""

import dataclasses

import keras


@dataclasses.dataclass(frozen=True)
class Deployable:
    """One network to export from a model.

    Attributes:
        network: keras.Model. What the file holds.
        role: str. "model" (the model itself), "generator", "decoder", "step" or "sequence".
        suffix: str. Added to the file name's stem ("" for the main file).
        description: str. One line for reports and the CLI.
    """

    network: keras.Model
    role: str
    suffix: str
    description: str


def deployables(model):
    """The networks of `model` that `garden.export.tflite` writes, the main one first."""
    if callable(getattr(model, "deployable", None)):  # GAN, VAE, NVAE
        network = model.deployable()
        return [Deployable(network, network.name, "",
                           f"the {network.name} of {model.name} (what runs on a device)")]
    if any(isinstance(layer, keras.layers.RNN) for layer in model.layers):
        from garden.models.char_lstm import step_model, unrolled_model

        found = [Deployable(step_model(model), "step", "",
                            f"the step model of {model.name}: one character and the state in, "
                            "logits and the new state out")]
        length = model.inputs[0].shape[1]
        if length is not None:
            found.append(Deployable(unrolled_model(model), "sequence", "_sequence",
                                    f"{model.name} unrolled over {length} characters"))
        return found
    return [Deployable(model, "model", "", model.name)]
