"""The variational autoencoder: a Gaussian encoder q(z|x), a Bernoulli or Gaussian decoder p(x|z),
trained on the ELBO with the reparameterization trick.

Reference:
    Kingma and Welling, "Auto-Encoding Variational Bayes", ICLR 2014.
    https://arxiv.org/abs/1312.6114

The paper's networks (Appendix C): one hidden layer of tanh units in the encoder and in the
decoder (500 for MNIST); the encoder outputs the mean and log-variance of a diagonal Gaussian
q(z|x); z = mean + sigma * eps with eps ~ N(0, I) (the reparameterization trick, Section 2.4);
the prior p(z) is N(0, I), so the KL term of the bound is analytic (Appendix B):
-KL(q || p) = 1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2). One sample of z per example
(L = 1) estimates the reconstruction term. The decoder is Bernoulli (binary data: logits per
value) or Gaussian (a mean and a log-variance per value, Appendix C.2).
"""

import math

import keras
import numpy as np
from keras import layers, ops

from garden.models._registry import register_model
from garden.models._steps import StepModel
from garden.utils.checks import check_choice, check_int, check_ints, check_number
from garden.utils.serialization import serializable

LIKELIHOODS = ("bernoulli", "gaussian")
LOG_2PI = math.log(2 * math.pi)
# Bounds of the Gaussian decoder's log-variance: a collapsing variance on a constant pixel
# (the digits' borders) would otherwise send the likelihood to infinity.
MIN_LOG_VARIANCE, MAX_LOG_VARIANCE = -8.0, 8.0


def gaussian_kl(mean, log_variance):
    """KL(N(mean, exp(log_variance)) || N(0, I)) per example, summed over the last axis:
    -1/2 sum(1 + log sigma^2 - mu^2 - sigma^2) (Kingma and Welling, Appendix B)."""
    return -0.5 * ops.sum(1.0 + log_variance - ops.square(mean) - ops.exp(log_variance),
                          axis=-1)


def gaussian_log_density(x, mean, log_variance):
    """log N(x; mean, exp(log_variance)) per example, summed over all but the batch axis."""
    terms = -0.5 * (LOG_2PI + log_variance + ops.square(x - mean) / ops.exp(log_variance))
    return ops.sum(ops.reshape(terms, (ops.shape(terms)[0], -1)), axis=-1)


def bernoulli_log_likelihood(x, logits):
    """log p(x | logits) of Bernoulli values (x in [0, 1]) per example, summed over all but the
    batch axis: x * logits - softplus(logits), exact for large logits."""
    terms = x * logits - ops.softplus(logits)
    return ops.sum(ops.reshape(terms, (ops.shape(terms)[0], -1)), axis=-1)


@serializable
class VAE(StepModel):
    """An encoder and a decoder trained on the evidence lower bound by `fit`.

    The encoder maps an example to `[mean, log_variance]` of q(z|x) (each `(batch,
    latent_dim)`); the decoder maps z to the likelihood's parameters: Bernoulli logits of the
    example's shape, or `[mean, log_variance]` for a Gaussian. `fit(x)` maximizes the ELBO
    (one reparameterized sample per example) with the KL term weighted by `beta`; the logs are
    `loss` (-ELBO in nats per example), `reconstruction` (-E_q log p(x|z)) and `kl`. Calling the
    model reconstructs: the decoder's mean at the encoder's mean.

    Args:
        encoder: keras.Model from examples to `[mean, log_variance]`.
        decoder: keras.Model from z to logits (Bernoulli) or `[mean, log_variance]` (Gaussian).
        likelihood: str. `"bernoulli"` or `"gaussian"`. Defaults to "bernoulli".
        beta: float. Weight of the KL term (1: the ELBO). Defaults to 1.0.
        seed: int or None. Seed of the training samples of z. Defaults to None.
        **kwargs: `name`, `trainable`, `dtype`.

    Example:
    >>> model = vae(input_shape=(8, 8, 1), latent_dim=2, units=(32,))
    >>> model.compile()  # Adam(1e-3)
    >>> x = (np.random.default_rng(0).random((64, 8, 8, 1)) > 0.5).astype("float32")
    >>> history = model.fit(x, batch_size=16, epochs=1, verbose=0)
    >>> model.elbo(x[:4]).shape, model.sample(3, seed=0).shape
    ((4,), (3, 8, 8, 1))
    """

    def __init__(self, encoder, decoder, likelihood="bernoulli", beta=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        for arg, value in (("encoder", encoder), ("decoder", decoder)):
            if not isinstance(value, keras.Model):
                raise ValueError(f"{arg}={value!r} is not allowed: use a keras.Model.")
        self.likelihood = check_choice("likelihood", likelihood, LIKELIHOODS)
        self.beta = check_number("beta", beta, minimum=0)
        self.seed = seed
        if len(encoder.outputs) != 2:
            raise ValueError("the encoder must output [mean, log_variance] of q(z|x).")
        self.latent_dim = encoder.outputs[0].shape[-1]
        self.data_shape = tuple(encoder.inputs[0].shape[1:])
        if len(decoder.outputs) != (1 if likelihood == "bernoulli" else 2):
            raise ValueError(f"a {likelihood} decoder outputs "
                             f"{'logits' if likelihood == 'bernoulli' else '[mean, log_variance]'}"
                             f"; this one has {len(decoder.outputs)} outputs.")
        if tuple(decoder.outputs[0].shape[1:]) != self.data_shape:
            raise ValueError(f"the decoder makes {tuple(decoder.outputs[0].shape[1:])}, the "
                             f"encoder takes {self.data_shape}: use the same example shape.")
        self.encoder, self.decoder = encoder, decoder
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.trackers = {name: keras.metrics.Mean(name=name)
                         for name in ("loss", "reconstruction", "kl")}
        self.built = True

    @property
    def inputs(self):
        return self.encoder.inputs

    @property
    def outputs(self):
        return self.decoder.outputs[:1]

    def default_optimizer(self):
        """Adam(1e-3), what `compile()` uses (the paper used Adagrad)."""
        return keras.optimizers.Adam(1e-3)

    # --- the model's distributions -----------------------------------------------------------

    def encode(self, x, training=False):
        """`[mean, log_variance]` of q(z|x)."""
        return self.encoder(x, training=training)

    def decode(self, z, training=False):
        """The likelihood's parameters at z: Bernoulli logits, or `[mean, log_variance]`
        (log-variance kept in [-8, 8])."""
        out = self.decoder(z, training=training)
        if self.likelihood == "bernoulli":
            return out
        mean, log_variance = out
        return [mean, ops.clip(log_variance, MIN_LOG_VARIANCE, MAX_LOG_VARIANCE)]

    def mean(self, parameters):
        """The mean of p(x|z) given `decode`'s parameters."""
        return ops.sigmoid(parameters) if self.likelihood == "bernoulli" else parameters[0]

    def log_likelihood(self, x, parameters):
        """log p(x|z) per example from `decode`'s parameters."""
        if self.likelihood == "bernoulli":
            return bernoulli_log_likelihood(x, parameters)
        return gaussian_log_density(x, *parameters)

    def call(self, x, training=False):
        return self.mean(self.decode(self.encode(x, training)[0], training))

    def generator(self, name="generator"):
        """A functional `keras.Model` from z to the mean of p(x|z), sharing the decoder's
        weights: what a phone runs to sample (`garden.export.tflite(vae.generator(), path)`)."""
        mean = self.decoder.outputs[0]
        if self.likelihood == "bernoulli":
            mean = layers.Activation("sigmoid", name="x_mean")(mean)
        return keras.Model(self.decoder.inputs, mean, name=name)

    def deployable(self):
        """The network a device runs to sample, `generator()`: what
        `garden.export.tflite(vae, path)` converts."""
        return self.generator()

    def noise(self, count, seed=None):
        """`count` draws of z from the prior N(0, I) as a float32 NumPy array."""
        shape = (check_int("count", count), self.latent_dim)
        return np.random.default_rng(seed).standard_normal(shape).astype("float32")

    def generate(self, z):
        """The mean of p(x|z) for each z, as a NumPy array."""
        return np.asarray(self.mean(self.decode(z)))

    def sample(self, count, seed=None):
        """The decoder's means at `count` draws from the prior (NumPy)."""
        return self.generate(self.noise(count, seed))

    def _terms(self, x, training, seed=None):
        """(-E_q log p(x|z), KL) per example, with one reparameterized sample of z."""
        mean, log_variance = self.encode(x, training)
        eps = keras.random.normal(ops.shape(mean), seed=self.seed_generator if seed is None
                                  else seed)
        z = mean + ops.exp(0.5 * log_variance) * eps
        reconstruction = -self.log_likelihood(x, self.decode(z, training))
        return reconstruction, gaussian_kl(mean, log_variance)

    def elbo(self, x, samples=1, seed=0):
        """The evidence lower bound per example in nats: the analytic KL and the reconstruction
        term averaged over `samples` draws of z (the paper's L). NumPy."""
        x = np.asarray(x, "float32")
        samples = check_int("samples", samples)
        tiled = ops.convert_to_tensor(np.concatenate([x] * samples))
        reconstruction, kl = self._terms(tiled, training=False, seed=seed)
        values = -np.asarray(reconstruction + kl, "float64").reshape(samples, len(x))
        return values.mean(axis=0)

    def negative_log_likelihood(self, x, samples=100, seed=0, batch_size=4096):
        """-log p(x) per example in nats, by importance sampling with q(z|x) as the proposal:
        -log (1/K sum_k p(x|z_k) p(z_k) / q(z_k|x)) over K = `samples` draws (the bound of
        Burda et al.'s IWAE, which tightens towards -log p(x) as K grows; the paper's
        marginal-likelihood estimates use importance sampling too). `batch_size` bounds the
        examples times samples decoded at once. NumPy."""
        samples = check_int("samples", samples)
        x = np.asarray(x, "float32")
        rng = np.random.default_rng(seed)
        mean, log_variance = (np.asarray(t, "float64") for t in self.encode(x))
        weights = np.empty((samples, len(x)))
        draws = max(1, batch_size // max(len(x), 1))  # samples decoded per call
        for first in range(0, samples, draws):
            k = min(draws, samples - first)
            eps = rng.standard_normal((k, *mean.shape))
            z = mean + np.exp(0.5 * log_variance) * eps
            flat = ops.convert_to_tensor(z.reshape(k * len(x), -1).astype("float32"))
            tiled = ops.convert_to_tensor(np.concatenate([x] * k))
            log_p_x = np.asarray(self.log_likelihood(tiled, self.decode(flat)), "float64")
            log_prior = -0.5 * np.sum(LOG_2PI + z**2, axis=-1)
            log_q = -0.5 * np.sum(LOG_2PI + log_variance + eps**2, axis=-1)
            weights[first:first + k] = log_p_x.reshape(k, len(x)) + log_prior - log_q
        top = weights.max(axis=0)
        return -(top + np.log(np.mean(np.exp(weights - top), axis=0)))

    # --- training ----------------------------------------------------------------------------

    def _loss(self, x):
        reconstruction, kl = self._terms(x, training=True)
        reconstruction, kl = ops.mean(reconstruction), ops.mean(kl)
        return reconstruction + self.beta * kl, (reconstruction, kl)

    def _track(self, reconstruction, kl):
        self.trackers["loss"].update_state(reconstruction + kl)  # -ELBO, whatever beta
        self.trackers["reconstruction"].update_state(reconstruction)
        self.trackers["kl"].update_state(kl)
        return self.logs()

    def step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        x = ops.cast(x, self.compute_dtype)
        variables = self.trainable_variables
        (_, terms), grads = self.value_and_grad(lambda: self._loss(x), variables)
        self.optimizer.apply(grads, variables)
        return self._track(*terms)

    def evaluation_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        reconstruction, kl = self._terms(ops.cast(x, self.compute_dtype), training=False)
        return self._track(ops.mean(reconstruction), ops.mean(kl))

    def get_config(self):
        serialize = keras.saving.serialize_keras_object
        return {"name": self.name, "trainable": self.trainable,
                "encoder": serialize(self.encoder), "decoder": serialize(self.decoder),
                "likelihood": self.likelihood, "beta": self.beta, "seed": self.seed}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        for key in ("encoder", "decoder"):
            config[key] = keras.saving.deserialize_keras_object(config[key],
                                                                custom_objects=custom_objects)
        return cls(**config)


def mlp_encoder(input_shape, latent_dim, units=(500,), activation="tanh", name="encoder"):
    """The paper's encoder: hidden layers of `units` (`activation`), then linear layers for the
    mean and the log-variance of q(z|x)."""
    x = inputs = keras.Input(tuple(input_shape), name="x")
    x = layers.Flatten(name="flatten")(x)
    for i, width in enumerate(units, start=1):
        x = layers.Dense(width, activation=activation, name=f"fc{i}")(x)
    mean = layers.Dense(latent_dim, name="z_mean")(x)
    log_variance = layers.Dense(latent_dim, name="z_log_variance")(x)
    return keras.Model(inputs, [mean, log_variance], name=name)


def mlp_decoder(latent_dim, output_shape, units=(500,), activation="tanh",
                likelihood="bernoulli", name="decoder"):
    """The paper's decoder: hidden layers of `units`, then Bernoulli logits or a Gaussian's
    mean and log-variance for every value of `output_shape`."""
    z = x = keras.Input((latent_dim,), name="z")
    for i, width in enumerate(units, start=1):
        x = layers.Dense(width, activation=activation, name=f"fc{i}")(x)
    size = math.prod(output_shape)

    def head(label):
        out = layers.Dense(size, name=f"x_{label}")(x)
        return layers.Reshape(tuple(output_shape), name=f"x_{label}_image")(out)

    outputs = head("logits") if likelihood == "bernoulli" else [head("mean"),
                                                                head("log_variance")]
    return keras.Model(z, outputs, name=name)


@register_model(
    paper="Kingma and Welling, Auto-Encoding Variational Bayes",
    year=2013,
    arxiv="https://arxiv.org/abs/1312.6114",
    input_shape=(28, 28, 1),
    task="generation",
    small_kwargs={"input_shape": (8, 8, 1), "latent_dim": 2, "units": (16,), "seed": 0},
)
def vae(input_shape=(28, 28, 1), latent_dim=20, units=(500,), activation="tanh",
        likelihood="bernoulli", beta=1.0, seed=None, name="vae"):
    """VAE (Kingma and Welling 2013): the paper's MLP encoder and decoder in a `VAE` trained
    on the ELBO; `compile()` gives Adam(1e-3).

    Args:
        input_shape: tuple. Shape of one example. Defaults to (28, 28, 1) (MNIST).
        latent_dim: int. Dimensions of z. Defaults to 20.
        units: tuple of int. Hidden layers of the encoder (the decoder mirrors them); empty
            for linear networks. Defaults to (500,).
        activation: str. Activation of the hidden layers. Defaults to "tanh".
        likelihood: str. `"bernoulli"` (binary data) or `"gaussian"` (continuous data).
            Defaults to "bernoulli".
        beta: float. Weight of the KL term. Defaults to 1.0 (the ELBO).
        seed: int or None. Seed of the training samples of z. Defaults to None.
        name: str. Model name.

    Example:
    >>> model = vae()
    >>> model.count_params()  # 784-500-(20, 20) and 20-500-784
    815824
    """
    input_shape = check_ints("input_shape", input_shape)
    latent_dim = check_int("latent_dim", latent_dim)
    units = () if units in ((), []) else check_ints("units", units)
    check_choice("likelihood", likelihood, LIKELIHOODS)
    encoder = mlp_encoder(input_shape, latent_dim, units, activation)
    decoder = mlp_decoder(latent_dim, input_shape, units[::-1], activation, likelihood)
    return VAE(encoder, decoder, likelihood=likelihood, beta=beta, seed=seed, name=name)
