"""Losses the papers introduced, each registered serializable under package "garden".

`FocalLoss` (Lin et al. 2017) and `MarginLoss` (Sabour et al. 2017, capsules). Label smoothing
(Szegedy et al.; "Bag of Tricks") is the `label_smoothing` argument of Keras' own cross-entropy
losses, and soft labels from `garden.data.transforms.mixup` go with `categorical_crossentropy` or
`FocalLoss(mode="categorical")`.
"""

from garden.losses.focal import FocalLoss
from garden.losses.margin import MarginLoss, margin_loss
from garden.losses.perceptual import PerceptualLoss, StyleLoss, gram_matrix, total_variation

__all__ = ["FocalLoss", "MarginLoss", "margin_loss", "PerceptualLoss", "StyleLoss", "gram_matrix",
           "total_variation"]
