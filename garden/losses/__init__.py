"""Losses the papers introduced, each registered serializable under package "garden".

`FocalLoss` (Lin et al. 2017). Label smoothing (Szegedy et al.; "Bag of Tricks") is the
`label_smoothing` argument of Keras' own cross-entropy losses, and soft labels from
`garden.data.transforms.mixup` go with `categorical_crossentropy` or
`FocalLoss(mode="categorical")`.
"""

from garden.losses.focal import FocalLoss

__all__ = ["FocalLoss"]
