"""HRNetV2 against the official ImageNet models' parameter counts, and its segmentation head."""

import numpy as np
import pytest

from garden import models
from tests.harness.models import full_model, run_model_test


def trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


# timm's hrnet_w18_small, hrnet_w18, hrnet_w32 (13.19M, 21.30M, 41.23M): the official
# HRNet-Image-Classification configurations; PyTorch counts no batch-norm statistics.
@pytest.mark.parametrize("name, count", [
    ("hrnet_w18_small", 13_187_464), ("hrnet_w18", 21_299_004), ("hrnet_w32", 41_232_680)])
def test_parameters_equal_the_official_imagenet_models(name, count):
    model = full_model(name)
    assert trainable(model) == count
    assert model.output_shape == (None, 1000)


def test_branches_run_at_one_quarter_to_one_thirty_second():
    model = full_model("hrnet_w18_small")
    sizes = [model.get_layer(f"stage4_module1_fuse{i}_out").output.shape[1:] for i in range(4)]
    assert sizes == [(56, 56, 16), (28, 28, 32), (14, 14, 64), (7, 7, 128)]


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
