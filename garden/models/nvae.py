"""A small NVAE: a hierarchical VAE with NVAE's residual cells, top-down latent groups, residual
normal posteriors and KL warm-up.

Reference:
    Vahdat and Kautz, "NVAE: A Deep Hierarchical Variational Autoencoder", NeurIPS 2020.
    https://arxiv.org/abs/2007.03898

What is kept of the paper (Section 3, Figures 2-3):
- the bottom-up encoder's residual cell: BN - Swish - conv 3x3 - BN - Swish - conv 3x3 - SE;
- the top-down generative cell: BN - conv 1x1 (expand by `expansion`) - BN - Swish - depthwise
  conv 5x5 - BN - Swish - conv 1x1 - BN - SE, each cell adding its output to its input;
- latent groups z_1, ..., z_L (spatial maps) from the coarsest scale down: the top group's prior
  is N(0, I), every later prior p(z_l | z_<l) = N(mu_p, sigma_p) comes from the top-down state,
  which a trainable constant starts;
- the residual normal posterior q(z_l | x, z_<l) = N(mu_p + dmu, sigma_p * dsigma), dmu and
  dsigma from the encoder's feature of that group and the top-down state, so the KL term is
  1/2 sum((dmu / sigma_p)^2 + dsigma^2 - 1 - log dsigma^2) (Eq. 2);
- KL warm-up: the KL weight rises linearly from 0 to 1 over `kl_warmup_steps` updates;
- KL balancing during warm-up (Appendix A): group l's KL term is weighted by
  gamma_l ∝ (E_batch |KL_l| + 0.01) / alpha_l, the gammas averaging 1 over the groups and held
  constant in the gradient, where alpha_l is the group's spatial area over the number of groups
  at its scale (NVAE's "square" setting); groups that carry more KL per latent unit are pushed
  harder, so no group collapses to its prior early. After warm-up every gamma is 1.
Left out for size: the channel doubling between scales, batch-norm momentum tricks, spectral
regularization, the logistic-mixture output (the decoder is Bernoulli, for binarized images)
and the inverse autoregressive flows.
"""

import math

import keras
import numpy as np
from keras import layers, ops

from garden.models._registry import register_model
from garden.models._steps import StepModel
from garden.models.vae import bernoulli_log_likelihood, gaussian_log_density
from garden.utils.checks import check_bool, check_int, check_ints
from garden.utils.serialization import serializable


def _squeeze_excitation(x, name):
    channels = x.shape[-1]
    s = layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_se_pool")(x)
    s = layers.Dense(max(4, channels // 16), activation="relu", name=f"{name}_se_reduce")(s)
    s = layers.Dense(channels, activation="sigmoid", name=f"{name}_se_expand")(s)
    return layers.Multiply(name=f"{name}_se")([x, s])


def encoder_cell(shape, name):
    """NVAE's bottom-up residual cell (Figure 3b) as a model from a map to a map."""
    x = inputs = keras.Input(shape, name=f"{name}_in")
    for i in (1, 2):
        x = layers.BatchNormalization(name=f"{name}_bn{i}")(x)
        x = layers.Activation("swish", name=f"{name}_swish{i}")(x)
        x = layers.Conv2D(shape[-1], 3, padding="same", name=f"{name}_conv{i}")(x)
    x = _squeeze_excitation(x, name)
    return keras.Model(inputs, layers.Add(name=f"{name}_add")([inputs, x]), name=name)


def generative_cell(shape, expansion, name):
    """NVAE's top-down residual cell (Figure 3a) as a model from a map to a map."""
    channels = shape[-1]
    x = inputs = keras.Input(shape, name=f"{name}_in")
    x = layers.BatchNormalization(name=f"{name}_bn1")(x)
    x = layers.Conv2D(channels * expansion, 1, name=f"{name}_expand")(x)
    x = layers.BatchNormalization(name=f"{name}_bn2")(x)
    x = layers.Activation("swish", name=f"{name}_swish1")(x)
    x = layers.DepthwiseConv2D(5, padding="same", name=f"{name}_depthwise")(x)
    x = layers.BatchNormalization(name=f"{name}_bn3")(x)
    x = layers.Activation("swish", name=f"{name}_swish2")(x)
    x = layers.Conv2D(channels, 1, name=f"{name}_project")(x)
    x = layers.BatchNormalization(name=f"{name}_bn4")(x)
    x = _squeeze_excitation(x, name)
    return keras.Model(inputs, layers.Add(name=f"{name}_add")([inputs, x]), name=name)


def residual_normal_kl(delta_mean, delta_log_sigma, prior_log_sigma):
    """KL(N(mu_p + dmu, sigma_p dsigma) || N(mu_p, sigma_p)) per example (NVAE's Eq. 2),
    summed over all but the batch axis."""
    terms = 0.5 * (ops.square(delta_mean) * ops.exp(-2.0 * prior_log_sigma)
                   + ops.exp(2.0 * delta_log_sigma) - 1.0 - 2.0 * delta_log_sigma)
    return ops.sum(ops.reshape(terms, (ops.shape(terms)[0], -1)), axis=-1)


def kl_balancing_coefficients(kl, alpha):
    """NVAE's KL balancing coefficients gamma_l (Appendix A) of per-group KL terms `kl`
    `(batch, groups)`: (mean over the batch of |KL_l| + 0.01) / alpha_l, scaled to average 1."""
    kl = ops.convert_to_tensor(kl)
    coefficients = (ops.mean(ops.abs(kl), axis=0) + 0.01) / ops.convert_to_tensor(alpha, kl.dtype)
    return coefficients / ops.mean(coefficients)


@serializable
class NVAE(StepModel):
    """A small hierarchical VAE with NVAE's structure (see the module docstring).

    `fit(x)` maximizes the ELBO of binarized images with the KL weight warmed up; the logs are
    `loss` (-ELBO at full KL weight, nats per example), `reconstruction`, `kl` (summed over the
    groups) and `kl_weight`. Calling the model reconstructs x (posterior means); `noise(count)`
    and `generate(eps)` sample top-down with z_l = mu_p + sigma_p * eps_l; `elbo` and
    `negative_log_likelihood` (importance sampling) score examples in nats.

    Args:
        input_shape: tuple. (height, width, channels), height and width multiples of 4.
        channels: int. Channels of every cell. Defaults to 32.
        latent_channels: int. Channels of each latent group's map. Defaults to 4.
        groups: (int, int). Latent groups at 1/4 and at 1/2 of the input size. Defaults to
            (2, 2).
        expansion: int. Expansion of the generative cell's 1x1 convolution. Defaults to 3.
        kl_warmup_steps: int. Updates over which the KL weight rises from 0 to 1 (the paper:
            30% of training). Defaults to 1000.
        kl_balancing: bool. Balance the groups' KL terms during warm-up. Defaults to True.
        seed: int or None. Seed of the training samples. Defaults to None.
        **kwargs: `name`, `trainable`, `dtype`.
    """

    def __init__(self, input_shape, channels=32, latent_channels=4, groups=(2, 2),
                 expansion=3, kl_warmup_steps=1000, kl_balancing=True, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.data_shape = tuple(check_ints("input_shape", input_shape, length=3))
        height, width, colors = self.data_shape
        if height % 4 or width % 4:
            raise ValueError(f"input_shape={tuple(input_shape)!r} is not allowed: height and "
                             "width must be multiples of 4 (two scales of latent groups).")
        self.channels = check_int("channels", channels)
        self.latent_channels = check_int("latent_channels", latent_channels)
        self.groups = check_ints("groups", groups, length=2)
        self.expansion = check_int("expansion", expansion)
        self.kl_warmup_steps = check_int("kl_warmup_steps", kl_warmup_steps)
        self.kl_balancing = check_bool("kl_balancing", kl_balancing)
        self.seed = seed
        c, zc = self.channels, self.latent_channels
        # Scales from the coarsest (top of the hierarchy) down: 1/4, then 1/2 of the input.
        self.scales = [(height // 4, width // 4), (height // 2, width // 2)]
        self.stem = layers.Conv2D(c, 3, padding="same", name="stem")
        self.encoder_down = [layers.Conv2D(c, 3, strides=2, padding="same", name=f"enc_down{i}")
                             for i in (1, 2)]
        # Bottom-up: one encoder cell per group, at the group's scale (the 1/2 scale first).
        self.encoder_cells = [
            [encoder_cell((*self.scales[s], c), f"enc_s{s}_g{g}") for g in range(n)]
            for s, n in enumerate(self.groups)
        ]
        self.top = self.add_weight((*self.scales[0], c), "zeros", name="h0")
        self.priors, self.posteriors, self.combine, self.decoder_cells = [], [], [], []
        for s, n in enumerate(self.groups):
            for g in range(n):
                shape = (*self.scales[s], c)
                # Zero-initialized: every prior starts N(0, I) and every posterior at its prior.
                self.priors.append(layers.Conv2D(2 * zc, 3, padding="same",
                                                 kernel_initializer="zeros",
                                                 name=f"prior_s{s}_g{g}"))
                self.posteriors.append(layers.Conv2D(2 * zc, 3, padding="same",
                                                     kernel_initializer="zeros",
                                                     name=f"posterior_s{s}_g{g}"))
                self.combine.append(layers.Conv2D(c, 1, name=f"combine_s{s}_g{g}"))
                self.decoder_cells.append(generative_cell(shape, expansion, f"dec_s{s}_g{g}"))
        self.upsample = [layers.Conv2DTranspose(c, 3, strides=2, padding="same", name=f"up{i}")
                         for i in (1, 2)]
        self.post_cell = generative_cell((height, width, c), expansion, "dec_post")
        self.head = layers.Conv2D(colors, 3, padding="same", name="logits")
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.trackers = {name: keras.metrics.Mean(name=name)
                         for name in ("loss", "reconstruction", "kl", "kl_weight")}
        self.latent_shapes = [(*self.scales[s], zc) for s, n in enumerate(self.groups)
                              for _ in range(n)]
        self.latent_dim = sum(math.prod(shape) for shape in self.latent_shapes)
        # alpha_l: the group's spatial area over the groups at its scale, the smallest 1.
        alpha = [math.prod(self.scales[s]) / n for s, n in enumerate(self.groups) for _ in range(n)]
        self.balancing_alpha = np.array(alpha, "float32") / min(alpha)
        self.built = True
        self(ops.zeros((1, *self.data_shape)))  # creates every sublayer's weights

    @property
    def inputs(self):
        return [keras.KerasTensor((None, *self.data_shape), name="x")]

    @property
    def outputs(self):
        return [keras.KerasTensor((None, *self.data_shape), name="x_mean")]

    def default_optimizer(self):
        """Adamax(1e-2), what `compile()` uses (NVAE's optimizer, at the paper's initial rate)."""
        return keras.optimizers.Adamax(1e-2)

    # --- the hierarchy -----------------------------------------------------------------------

    def _bottom_up(self, x, training):
        """The encoder's feature for each group, in top-down order."""
        h = self.stem(x * 2.0 - 1.0)
        features = []
        for s in (1, 0):  # the 1/2 scale, then the 1/4 scale
            h = self.encoder_down[1 - s](h)
            for cell in self.encoder_cells[s]:
                h = cell(h, training=training)
                features.append((s, h))
        # Top-down order: coarsest scale first, and within a scale the last cell's feature first.
        return ([f for s, f in features if s == 0][::-1]
                + [f for s, f in features if s == 1][::-1])

    def _top_down(self, batch, training, features=None, eps=None, temperature=1.0,
                  sample=True, seed=None):
        """Runs the generative hierarchy. With `features` it takes each z from the posterior (a
        sample, or its mean without `sample`) and returns (logits, KL per example and group
        `(batch, groups)`, log p(z) - log q(z|x) per example); otherwise z = mu_p + t sigma_p
        eps_l with `eps` (a list per group, or drawn) and the last two are 0."""
        seed = seed or self.seed_generator
        h = ops.broadcast_to(ops.expand_dims(self.top, 0), (batch, *self.top.shape))
        kl, log_ratio = [], 0.0
        index = 0
        for s, n in enumerate(self.groups):
            if s == 1:
                h = self.upsample[0](h)
            for g in range(n):
                if index == 0:  # the top group's prior is N(0, I)
                    prior_mean = ops.zeros((batch, *self.latent_shapes[0]))
                    prior_log_sigma = ops.zeros_like(prior_mean)
                else:
                    prior_mean, prior_log_sigma = ops.split(self.priors[index](h), 2, axis=-1)
                if features is not None:
                    delta = self.posteriors[index](ops.concatenate([features[index], h], -1))
                    delta_mean, delta_log_sigma = ops.split(delta, 2, axis=-1)
                    mean = prior_mean + delta_mean
                    log_sigma = prior_log_sigma + delta_log_sigma
                    kl.append(residual_normal_kl(delta_mean, delta_log_sigma, prior_log_sigma))
                    noise = keras.random.normal(ops.shape(mean), seed=seed)
                    z = mean + ops.exp(log_sigma) * noise if sample else mean
                    log_ratio = (log_ratio
                                 + gaussian_log_density(z, prior_mean, 2.0 * prior_log_sigma)
                                 - gaussian_log_density(z, mean, 2.0 * log_sigma))
                else:
                    noise = eps[index] if eps is not None else keras.random.normal(
                        ops.shape(prior_mean), seed=seed)
                    z = prior_mean + temperature * ops.exp(prior_log_sigma) * noise
                h = self.decoder_cells[index](h + self.combine[index](z), training=training)
                index += 1
        h = self.post_cell(self.upsample[1](h), training=training)
        return self.head(h), ops.stack(kl, axis=-1) if kl else 0.0, log_ratio

    def call(self, x, training=False):
        features = self._bottom_up(x, training)
        logits, _, _ = self._top_down(ops.shape(x)[0], training, features, sample=False)
        return ops.sigmoid(logits)

    def _terms(self, x, training, seed=None):
        """(-log p(x|z), KL per group, log p(z) - log q(z|x)) per example, z sampled from q."""
        logits, kl, log_ratio = self._top_down(ops.shape(x)[0], training,
                                               self._bottom_up(x, training), seed=seed)
        return -bernoulli_log_likelihood(x, logits), kl, log_ratio

    def elbo(self, x, samples=1, seed=0):
        """The ELBO per example in nats: the groups' analytic KL terms and the reconstruction
        term averaged over `samples` draws of the latents (seeded by `seed`). NumPy."""
        x = np.asarray(x, "float32")
        samples = check_int("samples", samples)
        reconstruction, kl, _ = self._terms(ops.convert_to_tensor(np.concatenate([x] * samples)),
                                            training=False, seed=keras.random.SeedGenerator(seed))
        elbo = -np.asarray(reconstruction + ops.sum(kl, axis=-1), "float64")
        return elbo.reshape(samples, len(x)).mean(axis=0)

    def negative_log_likelihood(self, x, samples=100, seed=0, batch_size=2048):
        """-log p(x) per example in nats by importance sampling with the hierarchical posterior:
        -log mean_k p(x|z_k) p(z_k) / q(z_k|x) over `samples` draws. NumPy."""
        x = np.asarray(x, "float32")
        samples = check_int("samples", samples)
        seed = keras.random.SeedGenerator(seed)
        draws = max(1, batch_size // max(len(x), 1))
        weights = []
        for first in range(0, samples, draws):
            k = min(draws, samples - first)
            reconstruction, _, log_ratio = self._terms(
                ops.convert_to_tensor(np.concatenate([x] * k)), training=False, seed=seed)
            weights.append(np.asarray(log_ratio - reconstruction, "float64").reshape(k, len(x)))
        weights = np.concatenate(weights)
        top = weights.max(axis=0)
        return -(top + np.log(np.mean(np.exp(weights - top), axis=0)))

    def noise(self, count, seed=None):
        """`count` standard-normal draws of every group's eps, flattened: `(count,
        latent_dim)` float32."""
        shape = (check_int("count", count), self.latent_dim)
        return np.random.default_rng(seed).standard_normal(shape).astype("float32")

    def generate(self, eps, temperature=1.0):
        """Images (Bernoulli means) sampled top-down from flattened eps (`noise`), as NumPy."""
        return np.asarray(self._images(ops.convert_to_tensor(np.asarray(eps, "float32")),
                                       temperature))

    def _images(self, eps, temperature=1.0):
        """Bernoulli means of the images sampled top-down from flattened eps, a tensor."""
        parts, start = [], 0
        for shape in self.latent_shapes:
            size = math.prod(shape)
            parts.append(ops.reshape(eps[:, start:start + size], (-1, *shape)))
            start += size
        logits, _, _ = self._top_down(ops.shape(eps)[0], False, eps=parts,
                                      temperature=temperature)
        return ops.sigmoid(logits)

    def deployable(self):
        """The generator: a `keras.Model` from flattened eps (`noise`) to images at temperature
        1, sharing the model's weights; what a device runs to sample, and what
        `garden.export.tflite(nvae, path)` converts."""
        eps = keras.Input((self.latent_dim,), name="eps")
        return keras.Model(eps, _Sampler(self, name="x_mean")(eps), name="generator")

    def sample(self, count, seed=None, temperature=1.0):
        return self.generate(self.noise(count, seed), temperature)

    def kl_weight(self):
        """The KL weight of the current update: min(1, (iterations + 1) / kl_warmup_steps)."""
        step = ops.cast(self.optimizer.iterations, "float32") + 1.0
        return ops.minimum(1.0, step / self.kl_warmup_steps)

    def kl_term(self, kl, weight):
        """The KL part of the training loss, batch-averaged: `weight` times the groups' KL terms
        `kl` `(batch, groups)`, balanced while `weight < 1` (with `kl_balancing`)."""
        per_group = ops.mean(kl, axis=0)
        if not self.kl_balancing:
            return weight * ops.sum(per_group)
        gamma = ops.stop_gradient(kl_balancing_coefficients(kl, self.balancing_alpha))
        gamma = ops.where(weight < 1.0, gamma, ops.ones_like(gamma))
        return weight * ops.sum(gamma * per_group)

    def step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        x = ops.cast(x, self.compute_dtype)
        weight = self.kl_weight()

        def loss():
            reconstruction, kl, _ = self._terms(x, training=True)
            reconstruction = ops.mean(reconstruction)
            return reconstruction + self.kl_term(kl, weight), (reconstruction,
                                                                ops.mean(ops.sum(kl, axis=-1)))

        variables = self.trainable_variables
        (_, (reconstruction, kl)), grads = self.value_and_grad(loss, variables)
        self.optimizer.apply(grads, variables)
        return self._track(reconstruction, kl, weight)

    def evaluation_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        reconstruction, kl, _ = self._terms(ops.cast(x, self.compute_dtype), training=False)
        return self._track(ops.mean(reconstruction), ops.mean(ops.sum(kl, axis=-1)), ops.ones(()))

    def _track(self, reconstruction, kl, weight):
        self.trackers["loss"].update_state(reconstruction + kl)
        self.trackers["reconstruction"].update_state(reconstruction)
        self.trackers["kl"].update_state(kl)
        self.trackers["kl_weight"].update_state(weight)
        return self.logs()

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, "input_shape": self.data_shape,
                "channels": self.channels, "latent_channels": self.latent_channels,
                "groups": self.groups, "expansion": self.expansion,
                "kl_warmup_steps": self.kl_warmup_steps, "kl_balancing": self.kl_balancing,
                "seed": self.seed}


class _Sampler(layers.Layer):
    """An NVAE's top-down sampling path as one layer: flattened eps -> images."""

    def __init__(self, nvae, **kwargs):
        super().__init__(**kwargs)
        self.nvae = nvae

    def call(self, eps):
        return self.nvae._images(eps)

    def compute_output_shape(self, eps_shape):
        return (eps_shape[0], *self.nvae.data_shape)


@register_model(
    paper="Vahdat and Kautz, NVAE: A Deep Hierarchical Variational Autoencoder",
    year=2020,
    arxiv="https://arxiv.org/abs/2007.03898",
    input_shape=(32, 32, 1),
    task="generation",
    small_kwargs={"input_shape": (8, 8, 1), "channels": 8, "latent_channels": 2,
                  "groups": (1, 1), "seed": 0},
)
def nvae(input_shape=(32, 32, 1), channels=32, latent_channels=4, groups=(2, 2), expansion=3,
         kl_warmup_steps=1000, kl_balancing=True, seed=None, name="nvae"):
    """A small NVAE (Vahdat & Kautz 2020): residual cells with depthwise convolutions,
    squeeze-and-excitation, Swish and batch norm, top-down latent groups at two scales with
    residual normal posteriors, KL warm-up and balancing; `compile()` gives Adamax(1e-2).

    Args:
        input_shape: tuple. (height, width, channels), height and width multiples of 4.
            Defaults to (32, 32, 1).
        channels: int. Channels of every cell. Defaults to 32.
        latent_channels: int. Channels of each latent group's map. Defaults to 4.
        groups: (int, int). Latent groups at 1/4 and at 1/2 of the input size. Defaults to
            (2, 2).
        expansion: int. Expansion of the generative cell. Defaults to 3 (the paper's E).
        kl_warmup_steps: int. Updates of KL warm-up. Defaults to 1000.
        kl_balancing: bool. NVAE's KL balancing between groups during warm-up. Defaults to
            True.
        seed: int or None. Seed of the training samples. Defaults to None.
        name: str. Model name.

    Example:
    >>> model = nvae(input_shape=(16, 16, 1), channels=16)
    >>> model.latent_shapes
    [(4, 4, 4), (4, 4, 4), (8, 8, 4), (8, 8, 4)]
    """
    return NVAE(input_shape, channels, latent_channels, groups, expansion, kl_warmup_steps,
                kl_balancing, seed, name=name)
