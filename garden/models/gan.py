"""GANs: the `GAN` model (one training step for the standard, Wasserstein and gradient-penalty
objectives), DCGAN's networks and the `dcgan` / `wgan` builders.

References:
    Radford, Metz and Chintala, "Unsupervised Representation Learning with Deep Convolutional
    Generative Adversarial Networks", ICLR 2016. https://arxiv.org/abs/1511.06434
    Arjovsky, Chintala and Bottou, "Wasserstein GAN", ICML 2017.
    https://arxiv.org/abs/1701.07875
    Gulrajani, Ahmed, Arjovsky, Dumoulin and Courville, "Improved Training of Wasserstein GANs",
    NeurIPS 2017. https://arxiv.org/abs/1704.00028

DCGAN's architecture guidelines (Section 3): strided convolutions in the discriminator and
fractionally-strided ones in the generator instead of pooling; batch normalization in both except
the generator's output and the discriminator's input layer; no fully connected hidden layers
(z is projected and reshaped to a 4x4x1024 map, the discriminator's last map is flattened into one
unit); ReLU in the generator with tanh at the output, LeakyReLU (slope 0.2) in the discriminator;
weights from N(0, 0.02); Adam with learning rate 0.0002 and beta_1 0.5. For 64x64 images the
generator goes 4x4x1024 -> 8x8x512 -> 16x16x256 -> 32x32x128 -> 64x64x3 (Figure 1).

WGAN (Algorithm 1) trains a critic without a sigmoid on E[f(x)] - E[f(G(z))], clips its weights
to [-0.01, 0.01] after every update, updates it n_critic = 5 times per generator update, and uses
RMSProp at 5e-5. WGAN-GP (Algorithm 1 of Gulrajani et al.) drops the clipping for the penalty
lambda E[(||grad f(x_hat)||_2 - 1)^2] on x_hat = eps x + (1 - eps) G(z), eps ~ U[0, 1] per
example, lambda 10, with Adam (1e-4, beta_1 0.5, beta_2 0.9) and no batch normalization in the
critic (layer normalization instead).
"""

import math

import keras
import numpy as np
from keras import layers, ops

from garden.models._registry import register_model
from garden.models._steps import StepModel, input_gradient
from garden.utils.checks import check_bool, check_choice, check_int, check_ints, check_number
from garden.utils.serialization import serializable

LOSSES = ("gan", "wasserstein")
NOISE = ("normal", "uniform")
ARCHITECTURES = ("dcgan", "mlp")
# The WGAN authors' schedule (their reference code, not Algorithm 1): 100 critic iterations for
# each of the first 25 generator iterations and for every 500th, to keep the critic near optimal.
BOOST_CRITIC_ITERATIONS = 100
BOOST_FIRST_GENERATOR_ITERATIONS = 25
BOOST_EVERY = 500


def gradient_penalty(critic, real, fake, epsilon, training=True):
    """Gulrajani et al.'s penalty: mean over the batch of (||grad_x_hat critic(x_hat)||_2 - 1)^2
    at x_hat = epsilon * real + (1 - epsilon) * fake.

    Args:
        critic: keras.Model from examples to one score each.
        real: tensor `(batch, ...)` of real examples.
        fake: tensor of generated examples, the shape of `real`.
        epsilon: tensor `(batch,)` of interpolation weights (U[0, 1] in the paper).
        training: bool. Whether the critic runs in training mode. Defaults to True.

    Returns:
        The penalty as a scalar tensor (without the weight lambda).
    """
    epsilon = ops.reshape(ops.cast(epsilon, real.dtype), (-1,) + (1,) * (len(real.shape) - 1))
    x_hat = epsilon * real + (1.0 - epsilon) * fake
    grads = input_gradient(lambda x: critic(x, training=training), x_hat, critic.variables)
    squared = ops.sum(ops.reshape(ops.square(grads), (ops.shape(grads)[0], -1)), axis=-1)
    # A tiny floor keeps the norm's gradient finite where the critic's gradient vanishes.
    return ops.mean(ops.square(ops.sqrt(squared + 1e-12) - 1.0))


class _Optimizers:
    """The two optimizers as the one `model.optimizer` Keras' trainers expect: on JAX the state
    passed to each step holds `optimizer.variables`, here both optimizers' variables."""

    def __init__(self, generator, discriminator):
        self.generator, self.discriminator = generator, discriminator

    @property
    def variables(self):
        return self.generator.variables + self.discriminator.variables

    @property
    def built(self):
        return self.generator.built and self.discriminator.built

    @property
    def iterations(self):  # one per training step (critic update), as a callback counts steps
        return self.discriminator.iterations

    def build(self, variables=None):
        pass  # built by GAN.compile, each on its own network's variables


@serializable
class GAN(StepModel):
    """A generator and a discriminator (or critic) trained adversarially by `fit`.

    Calling the model runs the generator: `gan(z)` maps noise `(batch, latent_dim)` to examples
    (`inputs`, `outputs`, `predict` and export are the generator's). `fit` takes real examples
    only (a dataset of images, or of `(images, labels)` whose labels are ignored). Every training
    step updates the discriminator once on the step's batch; the generator is updated after every
    `n_critic` discriminator updates (Algorithm 1 of the WGAN paper: each critic iteration sees a
    fresh batch of real data). The logs are `d_loss`, `g_loss` (mean over the generator updates
    of the epoch), and for the Wasserstein objective `wasserstein` (E[f(x)] - E[f(G(z))], the
    critic's estimate of the distance) and `gradient_penalty` when it is used.

    Args:
        generator: keras.Model from noise `(latent_dim,)` to examples.
        discriminator: keras.Model from examples to one unnormalized score (a logit for
            `loss="gan"`).
        loss: str. `"gan"`: the standard objective with the non-saturating generator loss
            -log D(G(z)) (Goodfellow et al. Section 3; DCGAN); `"wasserstein"`: the critic
            maximizes E[f(x)] - E[f(G(z))], the generator minimizes -E[f(G(z))]. Defaults to
            "gan".
        n_critic: int. Discriminator updates per generator update. Defaults to 1.
        clip_value: float or None. Clip every critic weight to [-clip_value, clip_value] after
            each critic update (WGAN: 0.01). Defaults to None.
        gradient_penalty: float or None. Weight lambda of the gradient penalty (WGAN-GP: 10).
            Defaults to None.
        boost_critic: bool. The WGAN authors' schedule: 100 critic updates for each of the first
            25 generator updates and every 500th. Defaults to False.
        noise: str. The prior of z: `"normal"` N(0, I) or `"uniform"` U[-1, 1] (DCGAN).
            Defaults to "normal".
        seed: int or None. Seed of the training noise. Defaults to None.
        **kwargs: `name`, `trainable`, `dtype`.

    Example:
    >>> gan = dcgan(latent_dim=8, data_shape=(16, 16, 1), filters=8, blocks=2)
    >>> gan.compile()  # the paper's Adam(2e-4, beta_1=0.5) for both networks
    >>> images = np.random.uniform(-1, 1, (32, 16, 16, 1)).astype("float32")
    >>> history = gan.fit(images, batch_size=16, epochs=1, verbose=0)
    >>> gan(gan.noise(4, seed=0)).shape
    TensorShape([4, 16, 16, 1])
    """

    def __init__(self, generator, discriminator, loss="gan", n_critic=1, clip_value=None,
                 gradient_penalty=None, boost_critic=False, noise="normal", seed=None, **kwargs):
        super().__init__(**kwargs)
        for arg, value in (("generator", generator), ("discriminator", discriminator)):
            if not isinstance(value, keras.Model):
                raise ValueError(f"{arg}={value!r} is not allowed: use a keras.Model.")
        self.loss_name = check_choice("loss", loss, LOSSES)
        self.n_critic = check_int("n_critic", n_critic)
        self.clip_value = None if clip_value is None else check_number(
            "clip_value", clip_value, minimum=0, inclusive=False)
        self.gradient_penalty_weight = None if gradient_penalty is None else check_number(
            "gradient_penalty", gradient_penalty, minimum=0)
        self.boost_critic = check_bool("boost_critic", boost_critic)
        self.noise_name = check_choice("noise", noise, NOISE)
        self.seed = seed
        if len(generator.inputs) != 1 or len(generator.inputs[0].shape) != 2:
            raise ValueError(f"generator takes {[tuple(t.shape) for t in generator.inputs]}: "
                             "use a generator of one noise input (batch, latent_dim).")
        self.latent_dim = generator.inputs[0].shape[1]
        self.data_shape = tuple(generator.outputs[0].shape[1:])
        if tuple(discriminator.inputs[0].shape[1:]) != self.data_shape:
            raise ValueError(
                f"discriminator takes {tuple(discriminator.inputs[0].shape[1:])}, the generator "
                f"makes {self.data_shape}: use networks of the same example shape.")
        self.generator, self.discriminator = generator, discriminator
        self.seed_generator = keras.random.SeedGenerator(seed)
        # Critic updates since the last generator update, and generator updates so far.
        self.critic_steps = self.add_variable((), "zeros", dtype="int32", trainable=False,
                                              name="critic_steps")
        self.generator_steps = self.add_variable((), "zeros", dtype="int32", trainable=False,
                                                 name="generator_steps")
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self._log_names()}
        self.built = True

    def _log_names(self):
        names = ["d_loss", "g_loss"]
        if self.loss_name == "wasserstein":
            names.append("wasserstein")
        if self.gradient_penalty_weight is not None:
            names.append("gradient_penalty")
        return names

    @property
    def inputs(self):
        return self.generator.inputs

    @property
    def outputs(self):
        return self.generator.outputs

    def call(self, z, training=False):
        return self.generator(z, training=training)

    def deployable(self):
        """The network a device runs to sample, the generator: what
        `garden.export.tflite(gan, path)` converts."""
        return self.generator

    def noise(self, count, seed=None):
        """`count` draws of z from the prior, as a float32 NumPy array (fixed by `seed`)."""
        rng = np.random.default_rng(seed)
        shape = (check_int("count", count), self.latent_dim)
        if self.noise_name == "uniform":
            return rng.uniform(-1.0, 1.0, shape).astype("float32")
        return rng.standard_normal(shape).astype("float32")

    def generate(self, z):
        """The generator's examples for noise `z`, as a NumPy array (inference mode)."""
        return np.asarray(self.generator(z, training=False))

    def sample(self, count, seed=None):
        """`count` generated examples as a NumPy array (inference mode)."""
        return self.generate(self.noise(count, seed))

    def _draw(self, batch):
        shape = (batch, self.latent_dim)
        if self.noise_name == "uniform":
            return keras.random.uniform(shape, -1.0, 1.0, seed=self.seed_generator)
        return keras.random.normal(shape, seed=self.seed_generator)

    def compile(self, generator_optimizer=None, discriminator_optimizer=None, **kwargs):
        """Configures training with one optimizer per network.

        Without optimizers, each network gets its paper's: Adam(2e-4, beta_1=0.5) for
        `loss="gan"` (DCGAN), RMSprop(5e-5) for the Wasserstein loss with clipping (WGAN; rho
        0.99 as the authors' PyTorch code), Adam(1e-4, beta_1=0.5, beta_2=0.9) with a gradient
        penalty (WGAN-GP).

        Args:
            generator_optimizer: a `keras.optimizers.Optimizer`, its name or config, or None.
            discriminator_optimizer: likewise, for the discriminator.
            **kwargs: `run_eagerly`, `jit_compile`, `steps_per_execution` (no loss or
                metrics: the model computes its own).
        """
        self.check_compile_options(kwargs, "generator_optimizer, discriminator_optimizer")
        self.generator_optimizer = keras.optimizers.get(
            generator_optimizer or self.default_optimizer())
        self.discriminator_optimizer = keras.optimizers.get(
            discriminator_optimizer or self.default_optimizer())
        if self.generator_optimizer is self.discriminator_optimizer:
            raise ValueError("generator_optimizer and discriminator_optimizer are one object: "
                             "give each network its own optimizer.")
        keras.Model.compile(self, optimizer=None, **kwargs)
        self.generator_optimizer.build(self.generator.trainable_variables)
        self.discriminator_optimizer.build(self.discriminator.trainable_variables)
        self.optimizer = _Optimizers(self.generator_optimizer, self.discriminator_optimizer)

    def default_optimizer(self):
        """A new instance of the paper's optimizer for this objective (see `compile`)."""
        if self.loss_name == "gan":
            return keras.optimizers.Adam(2e-4, beta_1=0.5)
        if self.gradient_penalty_weight is not None:
            return keras.optimizers.Adam(1e-4, beta_1=0.5, beta_2=0.9)
        return keras.optimizers.RMSprop(5e-5, rho=0.99)

    def get_compile_config(self):
        if not self.compiled:
            return None
        serialize = keras.saving.serialize_keras_object
        return {"generator_optimizer": serialize(self.generator_optimizer),
                "discriminator_optimizer": serialize(self.discriminator_optimizer)}

    def compile_from_config(self, config):
        deserialize = keras.saving.deserialize_keras_object
        self.compile(generator_optimizer=deserialize(config["generator_optimizer"]),
                     discriminator_optimizer=deserialize(config["discriminator_optimizer"]))

    # --- the training step -------------------------------------------------------------------

    def _critic_loss(self, real, fake):
        d_real = self.discriminator(real, training=True)
        d_fake = self.discriminator(fake, training=True)
        extras = {}
        if self.loss_name == "gan":
            # -log D(x) - log(1 - D(G(z))) with D = sigmoid(logit).
            loss = ops.mean(ops.softplus(-d_real)) + ops.mean(ops.softplus(d_fake))
        else:
            extras["wasserstein"] = ops.mean(d_real) - ops.mean(d_fake)
            loss = -extras["wasserstein"]
        if self.gradient_penalty_weight is not None:
            epsilon = keras.random.uniform((ops.shape(real)[0],), seed=self.seed_generator)
            extras["gradient_penalty"] = gradient_penalty(self.discriminator, real, fake,
                                                          epsilon)
            loss = loss + self.gradient_penalty_weight * extras["gradient_penalty"]
        return loss, extras

    def _critic_update(self, real):
        fake = ops.stop_gradient(self.generator(self._draw(ops.shape(real)[0]), training=True))
        variables = self.discriminator.trainable_variables
        (loss, extras), grads = self.value_and_grad(lambda: self._critic_loss(real, fake),
                                                    variables)
        self.discriminator_optimizer.apply(grads, variables)
        if self.clip_value is not None:
            for v in variables:
                v.assign(ops.clip(v, -self.clip_value, self.clip_value))
        self.trackers["d_loss"].update_state(loss)
        for name, value in extras.items():
            self.trackers[name].update_state(value)

    def _generator_loss(self, batch):
        d_fake = self.discriminator(self.generator(self._draw(batch), training=True),
                                    training=True)
        if self.loss_name == "gan":
            return ops.mean(ops.softplus(-d_fake)), ()  # non-saturating: -log D(G(z))
        return -ops.mean(d_fake), ()

    def _generator_update(self, batch):
        variables = self.generator.trainable_variables
        (loss, _), grads = self.value_and_grad(lambda: self._generator_loss(batch), variables)
        self.generator_optimizer.apply(grads, variables)
        self.trackers["g_loss"].update_state(loss)
        self.critic_steps.assign(0)
        self.generator_steps.assign_add(1)

    def critic_iterations(self):
        """Critic updates before the next generator update (a tensor): `n_critic`, or 100 at
        the boosted generator iterations of `boost_critic`."""
        if not self.boost_critic:
            return ops.convert_to_tensor(self.n_critic, "int32")
        g = self.generator_steps
        boosted = ops.logical_or(g < BOOST_FIRST_GENERATOR_ITERATIONS, g % BOOST_EVERY == 0)
        return ops.cast(ops.where(boosted, BOOST_CRITIC_ITERATIONS, self.n_critic), "int32")

    def step(self, data):
        real, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        real = ops.cast(real, self.compute_dtype)
        self._critic_update(real)
        self.critic_steps.assign_add(1)
        batch = ops.shape(real)[0]
        if self.n_critic == 1 and not self.boost_critic:
            self._generator_update(batch)
        else:
            self.run_if(self.critic_steps >= self.critic_iterations(),
                        lambda: self._generator_update(batch))
        return self.logs()

    def evaluation_step(self, data):
        real, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        real = ops.cast(real, self.compute_dtype)
        fake = self.generator(self._draw(ops.shape(real)[0]), training=False)
        d_real = self.discriminator(real, training=False)
        d_fake = self.discriminator(fake, training=False)
        if self.loss_name == "gan":
            self.trackers["d_loss"].update_state(
                ops.mean(ops.softplus(-d_real)) + ops.mean(ops.softplus(d_fake)))
            self.trackers["g_loss"].update_state(ops.mean(ops.softplus(-d_fake)))
        else:
            estimate = ops.mean(d_real) - ops.mean(d_fake)
            self.trackers["d_loss"].update_state(-estimate)
            self.trackers["g_loss"].update_state(-ops.mean(d_fake))
            self.trackers["wasserstein"].update_state(estimate)
        return {name: tracker.result() for name, tracker in self.trackers.items()
                if name != "gradient_penalty"}

    def get_config(self):
        serialize = keras.saving.serialize_keras_object
        return {
            "name": self.name,
            "trainable": self.trainable,
            "generator": serialize(self.generator),
            "discriminator": serialize(self.discriminator),
            "loss": self.loss_name,
            "n_critic": self.n_critic,
            "clip_value": self.clip_value,
            "gradient_penalty": self.gradient_penalty_weight,
            "boost_critic": self.boost_critic,
            "noise": self.noise_name,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        deserialize = keras.saving.deserialize_keras_object
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = deserialize(config[key], custom_objects=custom_objects)
        return cls(**config)


# --- networks ---------------------------------------------------------------------------------

def _init():
    return keras.initializers.RandomNormal(0.0, 0.02)  # DCGAN: all weights from N(0, 0.02)


def _start_size(data_shape, blocks):
    """The generator's first map size: the image size over 2^blocks, a whole number."""
    height, width = data_shape[:2]
    factor = 2**blocks
    if height % factor or width % factor:
        raise ValueError(
            f"data_shape={tuple(data_shape)!r} is not allowed with blocks={blocks}: the "
            f"generator doubles its map {blocks} times, so height and width must be multiples "
            f"of {factor}.")
    return height // factor, width // factor


def dcgan_generator(latent_dim, data_shape, filters=128, blocks=4, kernel_size=5,
                    output_activation="tanh", name="generator"):
    """DCGAN's generator: z projected to a (h/2^blocks) x (w/2^blocks) map of
    filters * 2^(blocks-1) channels, then `blocks` fractionally-strided convolutions (stride 2)
    halving the channels, batch normalization and ReLU on every layer but the output (tanh)."""
    start = _start_size(data_shape, blocks)
    z = keras.Input((latent_dim,), name="z")
    channels = filters * 2 ** (blocks - 1)
    x = layers.Dense(start[0] * start[1] * channels, use_bias=False, kernel_initializer=_init(),
                     name="project")(z)
    x = layers.Reshape((*start, channels), name="reshape")(x)
    x = layers.BatchNormalization(name="project_bn")(x)
    x = layers.ReLU(name="project_relu")(x)
    for block in range(1, blocks):
        channels //= 2
        x = layers.Conv2DTranspose(channels, kernel_size, strides=2, padding="same",
                                   use_bias=False, kernel_initializer=_init(),
                                   name=f"deconv{block}")(x)
        x = layers.BatchNormalization(name=f"deconv{block}_bn")(x)
        x = layers.ReLU(name=f"deconv{block}_relu")(x)
    x = layers.Conv2DTranspose(data_shape[2], kernel_size, strides=2, padding="same",
                               kernel_initializer=_init(), activation=output_activation,
                               name=f"deconv{blocks}")(x)
    return keras.Model(z, x, name=name)


def dcgan_discriminator(data_shape, filters=128, blocks=4, kernel_size=5,
                        normalization="batch", score_bias=True, name="discriminator"):
    """DCGAN's discriminator, the generator mirrored: `blocks` strided convolutions doubling the
    channels from `filters`, LeakyReLU(0.2), normalization on all but the input layer
    (`"batch"`, `"layer"` for WGAN-GP's critic, or None), then one linear unit on the flattened
    last map (a logit, or a critic's score; a Wasserstein critic needs no `score_bias`: it
    cancels in E[f(x)] - E[f(G(z))])."""
    _start_size(data_shape, blocks)
    x = inputs = keras.Input(tuple(data_shape), name="image")
    channels = filters
    for block in range(1, blocks + 1):
        x = layers.Conv2D(channels, kernel_size, strides=2, padding="same",
                          use_bias=block == 1 or normalization is None,
                          kernel_initializer=_init(), name=f"conv{block}")(x)
        if block > 1 and normalization == "batch":
            x = layers.BatchNormalization(name=f"conv{block}_bn")(x)
        elif block > 1 and normalization == "layer":
            x = layers.LayerNormalization(axis=(1, 2, 3), name=f"conv{block}_ln")(x)
        x = layers.LeakyReLU(0.2, name=f"conv{block}_lrelu")(x)
        channels *= 2
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(1, use_bias=score_bias, kernel_initializer=_init(), name="score")(x)
    return keras.Model(inputs, x, name=name)


def mlp_generator(latent_dim, data_shape, units=(512, 512, 512), output_activation=None,
                  name="generator"):
    """A fully connected generator: ReLU layers of `units`, then a linear (or
    `output_activation`) layer reshaped to `data_shape`."""
    z = x = keras.Input((latent_dim,), name="z")
    for i, width in enumerate(units, start=1):
        x = layers.Dense(width, activation="relu", name=f"fc{i}")(x)
    x = layers.Dense(math.prod(data_shape), activation=output_activation, name="out")(x)
    x = layers.Reshape(tuple(data_shape), name="example")(x)
    return keras.Model(z, x, name=name)


def mlp_discriminator(data_shape, units=(512, 512, 512), score_bias=True, name="discriminator"):
    """A fully connected discriminator: ReLU layers of `units`, then one linear score."""
    x = inputs = keras.Input(tuple(data_shape), name="example")
    x = layers.Flatten(name="flatten")(x)
    for i, width in enumerate(units, start=1):
        x = layers.Dense(width, activation="relu", name=f"fc{i}")(x)
    x = layers.Dense(1, use_bias=score_bias, name="score")(x)
    return keras.Model(inputs, x, name=name)


def _networks(latent_dim, data_shape, architecture, filters, blocks, kernel_size, units,
              normalization, score_bias):
    latent_dim = check_int("latent_dim", latent_dim)
    data_shape = check_ints("data_shape", data_shape)
    check_choice("architecture", architecture, ARCHITECTURES)
    units = check_ints("units", units)
    if architecture == "mlp":
        return (mlp_generator(latent_dim, data_shape, units),
                mlp_discriminator(data_shape, units, score_bias))
    if len(data_shape) != 3:
        raise ValueError(f"data_shape={data_shape!r} is not allowed with architecture='dcgan': "
                         "use (height, width, channels).")
    filters, blocks, kernel_size = (check_int(arg, value) for arg, value in (
        ("filters", filters), ("blocks", blocks), ("kernel_size", kernel_size)))
    if filters * 2 ** (blocks - 1) < 1:
        raise ValueError(f"filters={filters!r} is too few for {blocks} blocks.")
    return (dcgan_generator(latent_dim, data_shape, filters, blocks, kernel_size),
            dcgan_discriminator(data_shape, filters, blocks, kernel_size, normalization,
                                score_bias))


SMALL = {"latent_dim": 8, "data_shape": (16, 16, 1), "filters": 8, "blocks": 2, "seed": 0}


@register_model(
    paper="Radford et al., Unsupervised Representation Learning with Deep Convolutional GANs",
    year=2015,
    arxiv="https://arxiv.org/abs/1511.06434",
    input_shape=(100,),
    task="generation",
    small_kwargs=SMALL,
)
def dcgan(latent_dim=100, data_shape=(64, 64, 3), filters=128, blocks=4, kernel_size=5,
          architecture="dcgan", units=(512, 512, 512), noise="uniform", seed=None,
          name="dcgan"):
    """DCGAN (Radford et al. 2015): the paper's generator and discriminator in a `GAN` with the
    standard objective (non-saturating generator loss); `compile()` gives both Adam(2e-4,
    beta_1=0.5).

    Args:
        latent_dim: int. Dimensions of z. Defaults to 100.
        data_shape: tuple. One example: (height, width, channels), height and width multiples
            of 2^blocks; for `architecture="mlp"` any shape, e.g. (2,). Defaults to (64, 64, 3).
        filters: int. Channels of the discriminator's first and the generator's last hidden
            layer (doubled per block inwards). Defaults to 128 (the paper's 1024 at 4x4).
        blocks: int. Stride-2 layers in each network. Defaults to 4.
        kernel_size: int. Convolution kernel size. Defaults to 5.
        architecture: str. `"dcgan"` (convolutional) or `"mlp"` (fully connected, for toy
            data). Defaults to "dcgan".
        units: tuple of int. Hidden layers of the "mlp" networks. Defaults to (512, 512, 512).
        noise: str. Prior of z, `"uniform"` U[-1, 1] (the paper's) or `"normal"`. Defaults to
            "uniform".
        seed: int or None. Seed of the training noise. Defaults to None.
        name: str. Model name.

    Example:
    >>> gan = dcgan()
    >>> [tuple(layer.output.shape) for layer in gan.generator.layers if "relu" in layer.name]
    [(None, 4, 4, 1024), (None, 8, 8, 512), (None, 16, 16, 256), (None, 32, 32, 128)]
    >>> gan.generator.output.shape
    (None, 64, 64, 3)
    """
    generator, discriminator = _networks(latent_dim, data_shape, architecture, filters, blocks,
                                         kernel_size, units, "batch", score_bias=True)
    return GAN(generator, discriminator, loss="gan", noise=noise, seed=seed, name=name)


@register_model(
    paper="Arjovsky et al., Wasserstein GAN; Gulrajani et al., Improved Training of WGANs",
    year=2017,
    arxiv="https://arxiv.org/abs/1701.07875",
    input_shape=(100,),
    task="generation",
    small_kwargs={**SMALL, "n_critic": 1},  # one step updates both networks
)
def wgan(latent_dim=100, data_shape=(64, 64, 3), filters=128, blocks=4, kernel_size=5,
         architecture="dcgan", units=(512, 512, 512), n_critic=5, clip_value=None,
         gradient_penalty=None, boost_critic=False, noise="normal", seed=None, name="wgan"):
    """WGAN (Arjovsky et al. 2017, Algorithm 1), or WGAN-GP with `gradient_penalty=10.0`
    (Gulrajani et al. 2017): DCGAN's networks with a linear critic trained on the Wasserstein
    objective.

    WGAN clips the critic's weights to [-0.01, 0.01] and `compile()` gives RMSprop(5e-5);
    WGAN-GP penalizes the critic's gradient norm instead, normalizes the convolutional critic's
    layers with layer rather than batch normalization, and `compile()` gives Adam(1e-4,
    beta_1=0.5, beta_2=0.9).

    Args:
        latent_dim: int. Dimensions of z. Defaults to 100.
        data_shape: tuple. One example: (height, width, channels), height and width multiples
            of 2^blocks; for `architecture="mlp"` any shape. Defaults to (64, 64, 3).
        filters: int. Channels of the critic's first and the generator's last hidden layer.
            Defaults to 128.
        blocks: int. Stride-2 layers in each network. Defaults to 4.
        kernel_size: int. Convolution kernel size. Defaults to 5.
        architecture: str. `"dcgan"` or `"mlp"`. Defaults to "dcgan".
        units: tuple of int. Hidden layers of the "mlp" networks. Defaults to (512, 512, 512).
        n_critic: int. Critic updates per generator update. Defaults to 5.
        clip_value: float or None. Weight clipping bound. Defaults to None: 0.01 without a
            gradient penalty, no clipping with one.
        gradient_penalty: float or None. Weight of the gradient penalty (10.0 in WGAN-GP).
            Defaults to None (weight clipping, the original WGAN).
        boost_critic: bool. The authors' code's schedule: 100 critic updates per generator
            update for the first 25 and every 500th generator update. Defaults to False.
        noise: str. Prior of z, `"normal"` or `"uniform"`. Defaults to "normal".
        seed: int or None. Seed of the training noise. Defaults to None.
        name: str. Model name.

    Example:
    >>> gan = wgan(latent_dim=8, data_shape=(16, 16, 1), filters=8, blocks=2)
    >>> gan.n_critic, gan.clip_value, gan.gradient_penalty_weight
    (5, 0.01, None)
    >>> wgan(gradient_penalty=10.0, architecture="mlp", data_shape=(2,)).clip_value is None
    True
    """
    if gradient_penalty is not None:
        check_number("gradient_penalty", gradient_penalty, minimum=0)
    if clip_value is None and gradient_penalty is None:
        clip_value = 0.01
    normalization = "layer" if gradient_penalty is not None else "batch"
    generator, discriminator = _networks(latent_dim, data_shape, architecture, filters, blocks,
                                         kernel_size, units, normalization, score_bias=False)
    return GAN(generator, discriminator, loss="wasserstein", n_critic=n_critic,
               clip_value=clip_value, gradient_penalty=gradient_penalty,
               boost_critic=boost_critic, noise=noise, seed=seed, name=name)
