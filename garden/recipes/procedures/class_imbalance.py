"""Training on imbalanced classes: how well the rare classes are found, before and after
threshold moving.

Reference:
    Buda, Maki and Mazurowski, "A systematic study of the class imbalance problem in
    convolutional neural networks", Neural Networks 2018. https://arxiv.org/abs/1710.05381
"""

import numpy as np

from garden.recipes.procedures import arrays, procedure
from garden.recipes.runner import fit
from garden.tools.imbalance import class_priors, move_threshold


def minority_classes(recipe):
    """The `minority_classes` of the recipe's `step_imbalance` transform."""
    for spec in recipe["data"].get("transforms", []):
        if spec.get("name") == "step_imbalance":
            return list(spec["minority_classes"])
    raise ValueError(
        "procedure imbalance_metrics needs a step_imbalance transform in [data] transforms: "
        "its minority_classes are the classes measured."
    )


@procedure()
def imbalance_metrics(run):
    """`fit`, then how well the rare classes are found, for training sets made imbalanced.

    The rare classes are the `minority_classes` of the recipe's `step_imbalance` transform (the
    test split stays balanced). Returns the test metrics, `macro_auc` (mean one-vs-rest ROC-AUC
    over all classes), `minority_auc` and `minority_recall` (means over the rare classes), and
    the accuracy and minority recall after threshold moving by the priors of the training split
    as the model saw it (Buda et al.; with oversampling the priors are uniform).
    """
    from sklearn.metrics import roc_auc_score

    minority = minority_classes(run.recipe)
    result = fit(run)
    _, train_labels = arrays(run.train_data)
    test_images, test_labels = arrays(run.test_data)
    probabilities = run.model.predict(test_images, verbose=0)
    classes = probabilities.shape[-1]
    aucs = [roc_auc_score(test_labels == k, probabilities[:, k]) for k in range(classes)]
    moved = move_threshold(probabilities, class_priors(train_labels, num_classes=classes))

    def recall(scores):
        hits = [np.mean(scores[test_labels == k].argmax(-1) == k) for k in minority]
        return float(np.mean(hits))

    return {
        **result,
        "macro_auc": float(np.mean(aucs)),
        "minority_auc": float(np.mean([aucs[k] for k in minority])),
        "minority_recall": recall(probabilities),
        "moved_accuracy": float(np.mean(moved.argmax(-1) == test_labels)),
        "moved_minority_recall": recall(moved),
    }
