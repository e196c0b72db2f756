"""HRNetV2's segmentation head and arguments (its parameter counts and branch sizes are registry
figures, asserted in tests/test_paper_figures.py)."""

import numpy as np
import pytest

from garden import models
from tests.harness.models import full_model, run_model_test


def test_segmentation_head_gives_scores_at_the_input_size():
    model = models.get_entry("hrnet_w18_small").tiny(
        head="segmentation", classes=4, input_shape=(32, 32, 3), classifier_activation=None)
    assert model.output_shape == (None, 32, 32, 4)
    assert model.get_layer("seg_concat").output.shape[-1] == 4 + 8 + 8 + 8
    run_model_test(model, np.random.default_rng(0).random((2, 32, 32, 3), np.float32))


def test_bad_head_is_named():
    with pytest.raises(ValueError, match="head='detection'"):
        models.hrnet_w18_small(head="detection")


def test_layer_names_map_to_the_official_modules():
    model = full_model("hrnet_w18_small")
    names = {layer.name for layer in model.layers}
    assert {"stem1_conv", "stem2_bn", "layer1_block1_downsample_conv", "transition2_branch1_conv",
            "transition4_branch3_conv", "stage3_module1_branch2_block2_2_conv",
            "stage4_module1_fuse0_3_conv", "stage4_module1_fuse3_0_down2_conv",
            "incre3_block1_3_conv", "downsamp2_conv", "final_conv", "predictions"} <= names
