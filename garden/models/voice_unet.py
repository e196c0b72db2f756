"""The singing-voice separation U-Net of Jansson et al. on magnitude spectrograms.

Reference:
    Jansson, Humphrey, Montecchio, Bittner, Kumar and Weyde, "Singing Voice Separation with Deep
    U-Net Convolutional Networks", ISMIR 2017.
    https://ismir2017.smcnus.org/wp-content/uploads/2017/10/171_Paper.pdf

The encoder is six 5x5 convolutions of stride 2 (16, 32, 64, 128, 256, 512 channels), each with
batch normalization and leaky ReLU (slope 0.2). The decoder is six 5x5 transposed convolutions
of stride 2 with batch normalization and ReLU, dropout 0.5 on the first three, each (but the
last) followed by a concatenation with the encoder layer of the same size. The last one has a
single channel and a sigmoid: a soft mask, which multiplies the input magnitude. Train with the
L1 loss (`loss="mae"`) between the masked magnitude and the target source's magnitude. The
front end (STFT, 512 x 128 patches, the inverse with the mixture's phase) is
`garden.data.audio`.

Layer names: `enc{i}_{conv,bn,lrelu}`, `dec{i}_{deconv,bn,relu,dropout,concat}`, `mask`,
`masked`.
"""

import keras
from keras import layers

from garden.models._classifier import image_input
from garden.models._registry import figure, register_model
from garden.utils.checks import check_int, check_rate

DEPTH = 6


# The paper's input: 512 frequency bins x 128 frames of magnitude spectrogram (garden.data.audio's
# PATCH; a test ties the two). Not imported from garden.data, which loads TensorFlow.
PATCH = (512, 128)


@register_model(
    paper="Jansson et al., Singing Voice Separation with Deep U-Net Convolutional Networks",
    year=2017,
    arxiv="https://ismir2017.smcnus.org/wp-content/uploads/2017/10/171_Paper.pdf",
    input_shape=(*PATCH, 1),
    task="source-separation",
    small_kwargs={"input_shape": (64, 64, 1), "filters": 2},
    figures=[figure("parameters", 9_826_321, "Section 3's layers (the paper states no count)")],
)
def voice_unet(filters=16, dropout=0.5, input_shape=None, input_tensor=None, name="voice_unet"):
    """The singing-voice U-Net (Jansson et al. 2017): a magnitude patch to the masked
    magnitude of one source.

    Args:
        filters: int. Channels of the first encoder layer, doubled per layer (16 .. 512).
            Defaults to 16.
        dropout: float. Dropout rate of the first three decoder layers. Defaults to 0.5.
        input_shape: (bins, frames, 1), both divisible by 64 or None. Defaults to
            (512, 128, 1), the paper's patches.
        input_tensor: optional Keras tensor to use as the input.
        name: str. Model name.
    """
    check_int("filters", filters)
    check_rate("dropout", dropout)
    spectrogram, inputs = image_input(input_shape, input_tensor, default_shape=(*PATCH, 1),
                                      min_size=2**DEPTH)
    for size in spectrogram.shape[1:3]:
        if size is not None and size % 2**DEPTH:
            raise ValueError(f"input_shape={tuple(spectrogram.shape[1:])} is not allowed: bins "
                             f"and frames must be divisible by 2^{DEPTH} = {2**DEPTH}.")
    x, skips = spectrogram, []
    for i in range(DEPTH):
        x = layers.Conv2D(filters * 2**i, 5, strides=2, padding="same", name=f"enc{i + 1}_conv")(x)
        x = layers.BatchNormalization(name=f"enc{i + 1}_bn")(x)
        x = layers.LeakyReLU(0.2, name=f"enc{i + 1}_lrelu")(x)
        skips.append(x)
    for i in range(DEPTH - 1):
        x = layers.Conv2DTranspose(filters * 2 ** (DEPTH - 2 - i), 5, strides=2, padding="same",
                                   name=f"dec{i + 1}_deconv")(x)
        x = layers.BatchNormalization(name=f"dec{i + 1}_bn")(x)
        x = layers.ReLU(name=f"dec{i + 1}_relu")(x)
        if i < 3 and dropout:
            x = layers.Dropout(dropout, name=f"dec{i + 1}_dropout")(x)
        x = layers.Concatenate(name=f"dec{i + 1}_concat")([x, skips[DEPTH - 2 - i]])
    mask = layers.Conv2DTranspose(1, 5, strides=2, padding="same", activation="sigmoid",
                                  name="mask")(x)
    return keras.Model(inputs, layers.Multiply(name="masked")([mask, spectrogram]), name=name)
