"""The LSTM cell written from its equations (Hochreiter & Schmidhuber 1997, with the forget gate
of Gers, Schmidhuber & Cummins 2000), with optional peephole connections (Gers & Schmidhuber
2000) and a coupled input-forget gate (CIFG, Greff et al. 2017).

References:
    Hochreiter & Schmidhuber, "Long Short-Term Memory", Neural Computation 9(8), 1997.
    https://doi.org/10.1162/neco.1997.9.8.1735
    Gers, Schmidhuber & Cummins, "Learning to Forget: Continual Prediction with LSTM", 2000.
    https://doi.org/10.1162/089976600300015015
    Greff et al., "LSTM: A Search Space Odyssey", 2017. https://arxiv.org/abs/1503.04069
"""

import keras
from keras import ops

from garden.utils.checks import check_bool, check_int
from garden.utils.serialization import serializable


@serializable
class LSTMCell(keras.layers.Layer):
    """One LSTM step, for `keras.layers.RNN(LSTMCell(units))`.

    With input x_t, previous output h_{t-1} and cell state c_{t-1} (Greff et al.'s names):

        i_t = sigma(W_i x_t + R_i h_{t-1} + p_i * c_{t-1} + b_i)     input gate
        f_t = sigma(W_f x_t + R_f h_{t-1} + p_f * c_{t-1} + b_f)     forget gate (Gers 2000)
        z_t = g(W_z x_t + R_z h_{t-1} + b_z)                         block input
        c_t = f_t * c_t-1 + i_t * z_t                                cell state
        o_t = sigma(W_o x_t + R_o h_{t-1} + p_o * c_t + b_o)         output gate
        h_t = o_t * g(c_t)                                           block output

    sigma is `recurrent_activation` (logistic), g is `activation` (tanh), `*` is element-wise.
    The peephole weights p (vectors) exist only with `use_peepholes`; with `cifg` the forget gate
    is coupled to the input gate, f_t = 1 - i_t, and has no weights. The weight layout is
    `keras.layers.LSTMCell`'s: `kernel` (input, 4 units) and `recurrent_kernel` (units,
    4 units) hold W and R, `bias` (4 units) holds b, in the gate order i, f, z, o (i, z, o with
    `cifg`, 3 units wide), so Keras' LSTM weights load unchanged.

    Args:
        units: int. Size of h and c.
        activation: g, the block input and output activation. Defaults to `"tanh"`.
        recurrent_activation: sigma, the gate activation. Defaults to `"sigmoid"`.
        use_peepholes: bool. Whether the gates see the cell state. Defaults to False.
        cifg: bool. Whether f_t = 1 - i_t. Defaults to False.
        unit_forget_bias: bool. Whether b_f starts at 1 (Jozefowicz et al. 2015), as in
            Keras; no effect with `cifg`. Defaults to True.
        kernel_initializer: initializer of W. Defaults to `"glorot_uniform"`.
        recurrent_initializer: initializer of R. Defaults to `"orthogonal"`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:
    >>> lstm = keras.layers.RNN(LSTMCell(8, use_peepholes=True), return_sequences=True)
    >>> tuple(lstm(keras.ops.ones((2, 5, 3))).shape)
    (2, 5, 8)

    Reference:
        Hochreiter & Schmidhuber, "Long Short-Term Memory", 1997; Greff et al., "LSTM: A Search
        Space Odyssey", 2017. https://arxiv.org/abs/1503.04069
    """

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 use_peepholes=False, cifg=False, unit_forget_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 **kwargs):
        super().__init__(**kwargs)
        self.units = check_int("units", units)
        self.activation = keras.activations.get(activation)
        self.recurrent_activation = keras.activations.get(recurrent_activation)
        self.use_peepholes = check_bool("use_peepholes", use_peepholes)
        self.cifg = check_bool("cifg", cifg)
        self.unit_forget_bias = check_bool("unit_forget_bias", unit_forget_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.state_size = [self.units, self.units]
        self.output_size = self.units

    @property
    def gates(self):
        """The number of weight blocks: i, f, z, o (i, z, o with `cifg`)."""
        return 3 if self.cifg else 4

    def build(self, input_shape):
        width = self.gates * self.units
        self.kernel = self.add_weight(shape=(input_shape[-1], width),
                                      initializer=self.kernel_initializer, name="kernel")
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, width), initializer=self.recurrent_initializer,
            name="recurrent_kernel")
        units = self.units

        def bias_initializer(shape, dtype=None):
            forget = self.unit_forget_bias and not self.cifg
            ones = ops.ones((units,), dtype) if forget else ops.zeros((units,), dtype)
            return ops.concatenate([ops.zeros((units,), dtype), ones,
                                    ops.zeros((shape[0] - 2 * units,), dtype)])

        self.bias = self.add_weight(shape=(width,), initializer=bias_initializer, name="bias")
        if self.use_peepholes:
            # p_i, p_f, p_o (p_i, p_o with cifg), one vector per gate that sees c.
            self.peephole = self.add_weight(shape=(self.gates - 1, self.units),
                                            initializer="zeros", name="peephole")

    def call(self, inputs, states, training=False):
        h, c = states
        pre = ops.matmul(inputs, self.kernel) + ops.matmul(h, self.recurrent_kernel) + self.bias
        blocks = ops.split(pre, self.gates, axis=-1)
        if self.cifg:
            pre_i, pre_z, pre_o = blocks
        else:
            pre_i, pre_f, pre_z, pre_o = blocks
        if self.use_peepholes:
            pre_i = pre_i + self.peephole[0] * c
        i = self.recurrent_activation(pre_i)
        if self.cifg:
            f = 1.0 - i
        else:
            f = self.recurrent_activation(pre_f + self.peephole[1] * c if self.use_peepholes
                                          else pre_f)
        c = f * c + i * self.activation(pre_z)
        if self.use_peepholes:
            pre_o = pre_o + self.peephole[-1] * c
        h = self.recurrent_activation(pre_o) * self.activation(c)
        return h, [h, c]

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def multiply_adds(self, input_shape):
        """Multiply-adds of one step: W x and R h, and the element-wise products."""
        width = self.gates * self.units
        peepholes = (self.gates - 1) * self.units if self.use_peepholes else 0
        return (input_shape[-1] + self.units) * width + 3 * self.units + peepholes

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "recurrent_activation": keras.activations.serialize(self.recurrent_activation),
            "use_peepholes": self.use_peepholes,
            "cifg": self.cifg,
            "unit_forget_bias": self.unit_forget_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": keras.initializers.serialize(self.recurrent_initializer),
        }
