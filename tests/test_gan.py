"""GAN, dcgan and wgan: DCGAN's architecture, WGAN's clipping and critic schedule, WGAN-GP's
penalty against a hand computation, the paper's optimizers, training steps on TensorFlow and JAX,
`.keras` round trips of trained models and argument errors."""

import json
import textwrap

import keras
import numpy as np
import pytest

from garden import models
from garden.models.gan import GAN, gradient_penalty, mlp_discriminator, mlp_generator
from tests.helpers import requires_torch, run_script

SMALL = dict(latent_dim=8, data_shape=(16, 16, 1), filters=8, blocks=2, seed=0)


def images(count=16, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (count, 16, 16, 1)).astype("float32")


def tiny_critic():
    """Critic f(x) = v . tanh(x K + b) + c on 2-D points, with fixed weights."""
    x = keras.Input((2,))
    critic = keras.Model(x, keras.layers.Dense(1)(keras.layers.Dense(3, activation="tanh")(x)))
    rng = np.random.default_rng(3)
    critic.set_weights([rng.normal(size=(2, 3)), rng.normal(size=3), rng.normal(size=(3, 1)),
                        rng.normal(size=1)])
    return critic


def penalty_by_hand(critic, real, fake, eps):
    kernel, bias, v, _ = critic.get_weights()
    x_hat = eps[:, None] * real + (1 - eps[:, None]) * fake
    t = np.tanh(x_hat @ kernel + bias)
    grads = ((1 - t**2) * v[:, 0]) @ kernel.T  # d f / d x_hat, one row per example
    return np.mean((np.linalg.norm(grads, axis=1) - 1) ** 2)


PENALTY_POINTS = [np.random.default_rng(s).normal(size=(5, 2)).astype("float32") for s in (1, 2)]
PENALTY_EPS = np.array([0.0, 0.25, 0.5, 0.9, 1.0], "float32")


def test_gradient_penalty_equals_hand_computation():
    critic = tiny_critic()
    real, fake = PENALTY_POINTS
    got = float(gradient_penalty(critic, real, fake, PENALTY_EPS))
    np.testing.assert_allclose(got, penalty_by_hand(critic, real, fake, PENALTY_EPS), rtol=1e-5)


def test_gradient_penalty_of_a_linear_critic_is_its_norm_gap():
    x = keras.Input((3,))
    critic = keras.Model(x, keras.layers.Dense(1)(x))
    critic.set_weights([np.array([[3.0], [0.0], [4.0]]), np.zeros(1)])  # |w| = 5 everywhere
    real, fake = np.ones((4, 3), "float32"), np.zeros((4, 3), "float32")
    assert float(gradient_penalty(critic, real, fake, np.full(4, 0.3, "float32"))) == 16.0


def test_dcgan_follows_figure_1_and_the_guidelines():
    gan = models.dcgan()
    generator, discriminator = gan.generator, gan.discriminator
    shapes = [tuple(layer.output.shape[1:]) for layer in generator.layers
              if layer.name.endswith("relu")] + [tuple(generator.output.shape[1:])]
    assert shapes == [(4, 4, 1024), (8, 8, 512), (16, 16, 256), (32, 32, 128), (64, 64, 3)]
    mirrored = [tuple(layer.output.shape[1:]) for layer in discriminator.layers
                if layer.name.endswith("lrelu")]
    assert mirrored == [(32, 32, 128), (16, 16, 256), (8, 8, 512), (4, 4, 1024)]
    # No pooling and no hidden fully connected layers; batch norm everywhere but the
    # generator's output and the discriminator's input layer.
    kinds = {type(layer).__name__ for model in (generator, discriminator)
             for layer in model.layers}
    assert not {k for k in kinds if "Pooling" in k}
    assert [layer.name for layer in discriminator.layers if type(layer).__name__ == "Dense"] == [
        "score"]
    assert "conv1_bn" not in [layer.name for layer in discriminator.layers]
    assert generator.layers[-1].activation.__name__ == "tanh"
    assert discriminator.get_layer("conv1_lrelu").negative_slope == pytest.approx(0.2)
    # Parameters by hand: 5x5 kernels, no biases before batch norm.
    g = (100 * 4 * 4 * 1024 + 2 * 1024 + sum(25 * a * b + 2 * b for a, b in
         ((1024, 512), (512, 256), (256, 128))) + 25 * 128 * 3 + 3)
    d = (25 * 3 * 128 + 128 + sum(25 * a * b + 2 * b for a, b in
         ((128, 256), (256, 512), (512, 1024))) + 4 * 4 * 1024 + 1)
    assert generator.count_params() - 2 * (1024 + 512 + 256 + 128) == g  # minus BN statistics
    assert discriminator.count_params() - 2 * (256 + 512 + 1024) == d
    kernel = generator.get_layer("deconv1").kernel.numpy()
    assert abs(kernel.std() - 0.02) < 0.001 and abs(kernel.mean()) < 0.001
    assert gan.noise_name == "uniform" and np.abs(gan.noise(1000, seed=0)).max() <= 1.0


def test_each_variant_compiles_with_its_papers_optimizers():
    def settings(gan):
        gan.compile()
        return [(type(o).__name__, round(float(o.learning_rate), 7),
                 getattr(o, "beta_1", None), getattr(o, "beta_2", None))
                for o in (gan.generator_optimizer, gan.discriminator_optimizer)]

    assert settings(models.dcgan(**SMALL)) == [("Adam", 2e-4, 0.5, 0.999)] * 2
    assert settings(models.wgan(**SMALL)) == [("RMSprop", 5e-5, None, None)] * 2
    assert settings(models.wgan(gradient_penalty=10.0, **SMALL)) == [("Adam", 1e-4, 0.5, 0.9)] * 2
    wgan = models.wgan(**SMALL)
    assert (wgan.n_critic, wgan.clip_value, wgan.gradient_penalty_weight) == (5, 0.01, None)
    gp = models.wgan(gradient_penalty=10.0, **SMALL)
    assert (gp.n_critic, gp.clip_value, gp.gradient_penalty_weight) == (5, None, 10.0)
    assert "conv2_ln" in [layer.name for layer in gp.discriminator.layers]  # no critic BN
    assert not gp.discriminator.get_layer("score").use_bias


def test_clipping_keeps_every_critic_weight_within_the_bound():
    gan = models.wgan(**SMALL)
    rng = np.random.default_rng(0)
    gan.discriminator.set_weights([rng.normal(0, 1, w.shape) for w in gan.discriminator.weights])
    gan.compile(run_eagerly=True)
    gan.train_on_batch(images(4))
    weights = [w.numpy() for w in gan.discriminator.trainable_weights]
    assert max(np.abs(w).max() for w in weights) <= 0.01
    assert sum(np.sum(np.abs(w) == np.float32(0.01)) for w in weights) > 0  # it did clip


def test_the_generator_updates_after_every_n_critic_critic_updates():
    gan = models.wgan(**SMALL)
    gan.compile()
    data = images(8)
    moved = []
    for _ in range(10):
        before = [w.numpy() for w in gan.generator.trainable_weights]
        gan.train_on_batch(data[:4])
        moved.append(any(not np.array_equal(a, w.numpy())
                         for a, w in zip(before, gan.generator.trainable_weights)))
    assert moved == [False] * 4 + [True] + [False] * 4 + [True]
    assert (int(gan.critic_steps.numpy()), int(gan.generator_steps.numpy())) == (0, 2)


def test_boost_critic_follows_the_authors_schedule():
    gan = models.wgan(boost_critic=True, **SMALL)
    counts = {}
    for g in (0, 24, 25, 499, 500, 501, 1000):
        gan.generator_steps.assign(g)
        counts[g] = int(gan.critic_iterations())
    assert counts == {0: 100, 24: 100, 25: 5, 499: 5, 500: 100, 501: 5, 1000: 100}
    assert int(models.wgan(**SMALL).critic_iterations()) == 5


def test_losses_and_logs_of_each_objective():
    for gan in (models.dcgan(**SMALL), models.wgan(gradient_penalty=10.0, n_critic=1, **SMALL)):
        gan.compile()
        logs = gan.fit(images(), batch_size=8, epochs=1, verbose=0).history
        assert all(np.isfinite(v[-1]) for v in logs.values())
        if gan.loss_name == "gan":
            assert set(logs) == {"d_loss", "g_loss"}
            # The discriminator's loss is the cross-entropy of real as 1 and generated as 0
            # (Goodfellow et al.'s objective), against Keras' own loss on the same logits.
            real, fake = images(8, seed=1), gan.generate(gan.noise(8, seed=2))
            loss, _ = gan._critic_loss(real, fake)
            bce = keras.losses.BinaryCrossentropy(from_logits=True)
            expected = (bce(np.ones((8, 1)), gan.discriminator(real, training=True))
                        + bce(np.zeros((8, 1)), gan.discriminator(fake, training=True)))
            np.testing.assert_allclose(float(loss), float(expected), rtol=1e-5)
        else:
            assert set(logs) == {"d_loss", "g_loss", "wasserstein", "gradient_penalty"}
            np.testing.assert_allclose(
                logs["d_loss"][-1],
                -logs["wasserstein"][-1] + 10 * logs["gradient_penalty"][-1], rtol=1e-5)
    scores = gan.evaluate(images(8), batch_size=8, verbose=0, return_dict=True)
    assert set(scores) == {"d_loss", "g_loss", "wasserstein"}


def test_mlp_networks_and_labels_are_ignored():
    gan = GAN(mlp_generator(2, (2,), (16,)), mlp_discriminator((2,), (16,)), seed=0)
    gan.compile()
    points = np.random.default_rng(0).normal(size=(16, 2)).astype("float32")
    gan.fit(points, np.zeros(16), batch_size=8, epochs=1, verbose=0)
    assert gan.sample(5, seed=0).shape == (5, 2)
    np.testing.assert_array_equal(gan.sample(3, seed=1), gan.sample(3, seed=1))


@pytest.mark.parametrize("kwargs", [{}, {"gradient_penalty": 10.0}])
def test_trained_model_round_trip_gives_identical_samples(kwargs, tmp_path):
    gan = models.wgan(**SMALL, **kwargs)
    gan.compile()
    gan.fit(images(), batch_size=4, epochs=2, verbose=0)
    gan.save(tmp_path / "gan.keras")
    loaded = keras.saving.load_model(tmp_path / "gan.keras", safe_mode=True)
    z = gan.noise(6, seed=1)
    np.testing.assert_array_equal(gan(z), loaded(z))
    assert (loaded.n_critic, loaded.clip_value, loaded.gradient_penalty_weight) == (
        gan.n_critic, gan.clip_value, gan.gradient_penalty_weight)
    assert int(loaded.generator_steps.numpy()) == int(gan.generator_steps.numpy()) == 1
    for ours, theirs in ((gan.generator_optimizer, loaded.generator_optimizer),
                         (gan.discriminator_optimizer, loaded.discriminator_optimizer)):
        assert type(ours) is type(theirs)
        for a, b in zip(ours.variables, theirs.variables, strict=True):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    loaded.fit(images(), batch_size=4, epochs=1, verbose=0)  # training resumes
    assert int(loaded.generator_steps.numpy()) == 2


@pytest.mark.parametrize("name, kwargs, message", [
    ("dcgan", {"latent_dim": 0}, "latent_dim=0 is not allowed"),
    ("dcgan", {"data_shape": (30, 30, 1), "blocks": 2}, "multiples of 4"),
    ("dcgan", {"data_shape": (64, 64, 3), "blocks": 7}, "multiples of 128"),
    ("dcgan", {"data_shape": (16,)}, "use \\(height, width, channels\\)"),
    ("dcgan", {"architecture": "resnet"}, "architecture='resnet'"),
    ("wgan", {"n_critic": 0}, "n_critic=0 is not allowed"),
    ("wgan", {"clip_value": -0.01}, "clip_value=-0.01"),
    ("wgan", {"gradient_penalty": -1.0}, "gradient_penalty=-1.0"),
    ("wgan", {"noise": "gaussian"}, "noise='gaussian'"),
    ("wgan", {"boost_critic": "yes"}, "boost_critic='yes'"),
])
def test_bad_arguments_are_value_errors(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        models.build(name, **{**SMALL, **kwargs})


def test_bad_networks_and_compile_arguments_are_value_errors():
    generator, discriminator = mlp_generator(2, (2,), (4,)), mlp_discriminator((3,), (4,))
    with pytest.raises(ValueError, match="same example shape"):
        GAN(generator, discriminator)
    with pytest.raises(ValueError, match="use a keras.Model"):
        GAN(generator, "critic")
    gan = models.dcgan(**SMALL)
    with pytest.raises(ValueError, match="does not take loss"):
        gan.compile(loss="mse")
    adam = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="one object"):
        gan.compile(generator_optimizer=adam, discriminator_optimizer=adam)


BACKEND_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import numpy as np
    import keras
    from keras import ops
    from garden import models
    from tests.test_gan import PENALTY_EPS, PENALTY_POINTS, SMALL, images, tiny_critic
    from garden.models.gan import gradient_penalty
    assert keras.backend.backend() == os.environ["KERAS_BACKEND"]
    penalty = gradient_penalty(tiny_critic(), *PENALTY_POINTS, PENALTY_EPS)
    out = {"penalty": float(ops.convert_to_numpy(ops.stop_gradient(penalty)))}
    for key, kwargs in (("wgan", {}), ("wgan_gp", {"gradient_penalty": 10.0})):
        gan = models.wgan(**SMALL, **kwargs)
        rng = np.random.default_rng(0)
        gan.discriminator.set_weights([rng.normal(0, 1, w.shape)
                                       for w in gan.discriminator.weights])
        gan.compile()
        before = [w.numpy() for w in gan.generator.trainable_weights]
        logs = gan.fit(images(20), batch_size=4, epochs=1, verbose=0).history
        out[key] = {
            "logs": {k: v[-1] for k, v in logs.items()},
            "steps": [int(gan.critic_steps.numpy()), int(gan.generator_steps.numpy())],
            "generator_moved": any(not np.array_equal(a, w.numpy())
                                   for a, w in zip(before, gan.generator.trainable_weights)),
            "max_critic_weight": max(float(np.abs(w.numpy()).max())
                                     for w in gan.discriminator.trainable_weights),
        }
    print("RESULT" + json.dumps(out))
    """
)


@pytest.mark.parametrize("backend", ["jax", pytest.param("torch", marks=requires_torch)])
def test_training_on_jax_and_torch_clips_schedules_and_penalizes(backend):
    done = run_script(BACKEND_SCRIPT, backend=backend)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.split("RESULT")[-1])
    real, fake = PENALTY_POINTS
    np.testing.assert_allclose(out["penalty"], penalty_by_hand(tiny_critic(), real, fake,
                                                               PENALTY_EPS), rtol=1e-5)
    for key in ("wgan", "wgan_gp"):
        result = out[key]
        assert all(np.isfinite(v) for v in result["logs"].values()), result
        assert result["steps"] == [0, 1] and result["generator_moved"]  # 5 critic steps, 1 G
    assert out["wgan"]["max_critic_weight"] <= 0.01
    assert out["wgan_gp"]["max_critic_weight"] > 0.01  # no clipping with the penalty
    assert out["wgan_gp"]["logs"]["gradient_penalty"] > 0
