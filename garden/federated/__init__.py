"""Federated learning for Keras 3 models: federated averaging with TensorFlow Federated's
semantics (`build_weighted_fed_avg`), Konečný et al.'s compressed updates
(`garden.federated.compression`), and a Flower deployment with TLS and SuperNode
authentication (`garden.federated.flower`, `garden.federated.deploy`)."""

from garden.federated import compression, deploy
from garden.federated.averaging import (
    ClientUpdate,
    ModelWeights,
    ServerState,
    WeightedFedAvg,
    build_weighted_fed_avg,
    validate_update,
    weighted_mean,
)
from garden.federated.compression import Chain, LowRank, Quantize, RandomMask, Rotate, Subsample

__all__ = [
    "Chain",
    "ClientUpdate",
    "LowRank",
    "ModelWeights",
    "Quantize",
    "RandomMask",
    "Rotate",
    "ServerState",
    "Subsample",
    "WeightedFedAvg",
    "build_weighted_fed_avg",
    "compression",
    "deploy",
    "validate_update",
    "weighted_mean",
]
