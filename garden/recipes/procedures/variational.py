"""VAE experiments: the test ELBO and importance-weighted negative log-likelihood in nats, and
the latent-space figures.

Reference:
    Kingma and Welling, "Auto-Encoding Variational Bayes", ICLR 2014 (Figures 2-5).
    https://arxiv.org/abs/1312.6114
"""

import sys

import numpy as np
from matplotlib.figure import Figure

from garden.callbacks import SampleGrid
from garden.recipes.procedures import arrays, procedure
from garden.tools import image_grid
from garden.utils.figures import save_figure


def _binarized(dataset, threshold):
    import tensorflow as tf

    return dataset.map(lambda x, y: (tf.cast(x > threshold, tf.float32), y))


@procedure(binarize=0.5, nll_samples=100, elbo_samples=10)
def vae_evaluation(run):
    """Trains a VAE and reports its bound and likelihood on the test split, in nats per example.

    The images are binarized at `binarize` (a number in (0, 1); the paper's MNIST is binary for
    the Bernoulli decoder), or kept as they are with `binarize = 0`. Returns the test and
    training ELBO (`elbo_samples` draws of z per example), the test negative log-likelihood by
    importance sampling with `nll_samples` draws (`VAE.negative_log_likelihood`), and the test
    KL term. Writes a sample grid per epoch (`samples/`), and for a 2-D latent space the learned
    manifold (decoded means on a grid of the prior's quantiles, the paper's Figure 4) and the
    test encodings by class (`latent.png`).
    """
    threshold = run.options["binarize"]
    train, test = run.train_data, run.test_data
    if threshold:
        train, test = _binarized(train, threshold), _binarized(test, threshold)
    grid = SampleGrid(run.run_dir / "samples", count=64, seed=0, value_range=(0.0, 1.0),
                      scale=3)
    run.model.fit(train, validation_data=test, epochs=run.epochs,
                  callbacks=[*run.callbacks, grid], shuffle=False,
                  verbose=1 if sys.stdout.isatty() else 2)
    (x_train, _), (x_test, y_test) = arrays(train), arrays(test)
    samples = run.options["elbo_samples"]
    scores = run.model.evaluate(test, verbose=0, return_dict=True)
    result = {
        "test_elbo": float(np.mean(run.model.elbo(x_test, samples=samples))),
        "train_elbo": float(np.mean(run.model.elbo(x_train, samples=samples))),
        "test_nll": float(np.mean(run.model.negative_log_likelihood(
            x_test, samples=run.options["nll_samples"], seed=run.seed))),
        "test_kl": float(scores["kl"]),
    }
    if run.model.latent_dim == 2:
        _plot_latent(run.model, x_test, y_test, run.run_dir / "latent.png")
    return result


def _plot_latent(model, x, labels, path, steps=15):
    from scipy.stats import norm

    quantiles = norm.ppf(np.linspace(0.05, 0.95, steps))
    z = np.array([[a, b] for b in quantiles[::-1] for a in quantiles], "float32")
    manifold = image_grid(model.generate(z), columns=steps, value_range=(0.0, 1.0))
    means = np.asarray(model.encode(x)[0])
    figure = Figure(figsize=(11, 5), layout="constrained")
    left, right = figure.subplots(1, 2)
    left.imshow(manifold[..., 0], cmap="gray")
    left.set(title="decoded means over the prior's quantiles", xticks=[], yticks=[])
    points = right.scatter(means[:, 0], means[:, 1], c=labels, cmap="tab10", s=8)
    right.set(title="test encodings (mean of q(z|x))", xlabel="z1", ylabel="z2")
    figure.colorbar(points, ax=right, label="digit")
    save_figure(figure, path)
