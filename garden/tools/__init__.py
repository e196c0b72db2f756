"""Analysis tools: each takes a model, a loss and data; the `garden` command wraps them."""

from garden.tools.compute import (
    ComputePoint,
    format_points,
    plot_accuracy_vs_compute,
    power_law,
)
from garden.tools.conv_arithmetic import (
    RELATIONSHIPS,
    Arithmetic,
    animate,
    conv_arithmetic,
    pool_arithmetic,
    transposed_conv_arithmetic,
)
from garden.tools.deep_dream import (
    deep_dream,
    dream_model,
    dream_objective,
    load_image,
    save_image,
)
from garden.tools.crf import DenseCRF
from garden.tools.generative import (
    KID,
    ModeCoverage,
    image_grid,
    kernel_inception_distance,
    mmd2_unbiased,
    mode_coverage,
    polynomial_kernel,
    save_gif,
    save_grid,
)
from garden.tools.imbalance import class_priors, class_weights, move_threshold
from garden.tools.kkt import KKTResiduals, QPSolution, kkt_conditions, solve_qp
from garden.tools.landscape import (
    Curve,
    Surface,
    Trajectory,
    filter_normalized_direction,
    interpolate,
    loss_curve,
    loss_surface,
    plot_contour,
    plot_curves,
    plot_surface_3d,
    trainable_weights,
    trajectory,
)
from garden.tools.learning_curve import LearningCurve, learning_curve, plot_learning_curve
from garden.tools.mc_dropout import mc_dropout_predict
from garden.tools.profiler import LayerProfile, Profile, layer_multiply_adds, profile
from garden.tools.td_learning import TDRun, cue_reward_td, plot_td

__all__ = [
    "Arithmetic",
    "ComputePoint",
    "Curve",
    "DenseCRF",
    "KID",
    "KKTResiduals",
    "LayerProfile",
    "LearningCurve",
    "ModeCoverage",
    "Profile",
    "QPSolution",
    "RELATIONSHIPS",
    "Surface",
    "TDRun",
    "Trajectory",
    "animate",
    "class_priors",
    "class_weights",
    "conv_arithmetic",
    "cue_reward_td",
    "deep_dream",
    "dream_model",
    "dream_objective",
    "filter_normalized_direction",
    "format_points",
    "image_grid",
    "interpolate",
    "kernel_inception_distance",
    "kkt_conditions",
    "layer_multiply_adds",
    "learning_curve",
    "load_image",
    "loss_curve",
    "loss_surface",
    "mc_dropout_predict",
    "mmd2_unbiased",
    "mode_coverage",
    "move_threshold",
    "plot_accuracy_vs_compute",
    "plot_contour",
    "plot_curves",
    "plot_learning_curve",
    "plot_surface_3d",
    "polynomial_kernel",
    "plot_td",
    "pool_arithmetic",
    "power_law",
    "profile",
    "save_gif",
    "save_grid",
    "save_image",
    "solve_qp",
    "trainable_weights",
    "trajectory",
    "transposed_conv_arithmetic",
]
from garden.tools.text import sample_text  # noqa: E402

__all__ += ["sample_text"]
