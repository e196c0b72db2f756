"""Transfer learning: a new classifier on a (pretrained) backbone, then fine-tuning all of it.

The recipe's [model] is the backbone: a classifier built with `include_top=False, pooling="avg"`
and, for transfer, `weights="imagenet"` (or a local checkpoint file). As in Keras'
transfer-learning guide, a fresh dense classifier is trained on the frozen backbone, then the
whole network at a lower learning rate, its batch normalization kept in inference mode with the
pretrained statistics. That is done by keeping the `BatchNormalization` layers frozen (as
keras.io's EfficientNet fine-tuning example does): in Keras 3 a frozen one runs in inference
mode, whereas the guide's `base(x, training=False)` inside a functional model is overridden by
the outer model's `training` argument.

Reference:
    Yosinski, Clune, Bengio & Lipson, "How transferable are features in deep neural
    networks?", NeurIPS 2014. https://arxiv.org/abs/1411.1792
    Keras, "Transfer learning & fine-tuning",
    https://keras.io/guides/transfer_learning/
"""

import sys

import keras

from garden.recipes import build
from garden.recipes.procedures import REQUIRED, procedure
from garden.utils.checks import check_int
from garden.utils.files import atomic_path


def _phase_epochs(epochs):
    """`(head epochs, fine-tuning epochs)` from `[train] epochs`: a pair, or a total halved."""
    if isinstance(epochs, int):
        return epochs // 2, epochs - epochs // 2
    if len(epochs) != 2:
        raise ValueError(f"[train] epochs={epochs!r} is not allowed for fine-tuning: use "
                         "[head epochs, fine-tuning epochs] or a total split in halves.")
    return tuple(epochs)


def classifier_on(backbone, classes):
    """`backbone` (pooled features out) followed by a new softmax classifier of `classes`.

    Args:
        backbone: a model whose output is a feature vector per image (`include_top=False`
            with `pooling`).
        classes: int. Number of classes of the new classifier.
    """
    check_int("classes", classes)
    if len(backbone.output.shape) != 2:
        raise ValueError(f"the backbone's output shape {tuple(backbone.output.shape)} is not a "
                         "feature vector: build [model] with include_top=false and "
                         "pooling=\"avg\".")
    inputs = keras.Input(backbone.input.shape[1:])
    outputs = keras.layers.Dense(classes, activation="softmax", name="predictions")(
        backbone(inputs))
    return keras.Model(inputs, outputs, name=f"{backbone.name}_fine_tuned")


def _unfreeze(model, batch_norm):
    """Makes `model` trainable, its `BatchNormalization` layers only if `batch_norm`."""
    model.trainable = True
    stack = list(model.layers)
    while stack:
        layer = stack.pop()
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = batch_norm
        stack.extend(getattr(layer, "layers", ()))


def _fine_tuning_config(train_cfg, factor):
    """The [train] table with its optimizer's constant learning rate multiplied by `factor`."""
    optimizer = build.build_optimizer(train_cfg.get("optimizer", build.DEFAULT_OPTIMIZER))
    rate = optimizer.get_config()["learning_rate"]
    if not isinstance(rate, float):
        raise ValueError(f"[train] optimizer learning_rate={rate!r} is not allowed for "
                         "fine-tuning: use a constant rate (options.learning_rate_factor "
                         "scales it for the second phase).")
    config = {**optimizer.get_config(), "learning_rate": rate * factor}
    return {**train_cfg, "optimizer": {"class_name": type(optimizer).__name__,
                                       "config": config}}


@procedure(classes=REQUIRED, learning_rate_factor=0.1, inference_batch_norm=True)
def fine_tune(run):
    """Trains a new classifier on the frozen backbone, then the whole network.

    `[train] epochs` is `[head epochs, fine-tuning epochs]` (or a total split in halves).
    `[train] options`: `classes`, the new classifier's; `learning_rate_factor` (default 0.1)
    multiplies the recipe optimizer's (constant) learning rate for the second phase;
    `inference_batch_norm` (default true) keeps the backbone's batch normalization frozen, in
    inference mode, in the second phase too (false for a network from scratch, whose
    statistics are not learned yet).
    Returns the test metrics after the head phase (`head_test_*`, when it ran) and at the end
    (`test_*`); the whole classifier is saved as `classifier.keras` in the run directory (the
    runner's `model.keras` is the fine-tuned backbone).
    """
    options = run.options
    head_epochs, tune_epochs = _phase_epochs(run.epochs)
    train_cfg = run.recipe.get("train", {})
    backbone = run.model
    model = classifier_on(backbone, options["classes"])
    # BackupAndRestore cannot restore one phase's model into another's.
    callbacks = [c for c in run.callbacks if not isinstance(c, keras.callbacks.BackupAndRestore)]
    fit_args = dict(validation_data=run.test_data, callbacks=callbacks, shuffle=False,
               verbose=1 if sys.stdout.isatty() else 2)
    scores = {}
    if head_epochs:
        backbone.trainable = False
        build.compile_model(model, train_cfg)
        model.fit(run.train_data, epochs=head_epochs, **fit_args)
        head = model.evaluate(run.test_data, return_dict=True, verbose=0)
        scores.update({f"head_test_{k}": float(v) for k, v in head.items()})
    _unfreeze(backbone, batch_norm=not options["inference_batch_norm"])
    build.compile_model(model, _fine_tuning_config(train_cfg, options["learning_rate_factor"]))
    model.fit(run.train_data, initial_epoch=head_epochs, epochs=head_epochs + tune_epochs,
              **fit_args)
    final = model.evaluate(run.test_data, return_dict=True, verbose=0)
    scores.update({f"test_{k}": float(v) for k, v in final.items()})
    with atomic_path(run.run_dir / "classifier.keras") as tmp:
        model.save(tmp)
    return scores
