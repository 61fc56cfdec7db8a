import importlib.util
import warnings

import numpy as np
import pytest
from matplotlib.figure import Figure

from skmem import CNNFeaturizer
from skmem.explain import class_activation_maps, network_view, plot_activation_maps


def test_shapes_range_and_targets(random_featurizer):
    frames = np.random.default_rng(0).integers(0, 256, (2, 3, 224, 224, 3), dtype=np.uint8)
    maps, targets = class_activation_maps(random_featurizer, frames, return_targets=True)
    assert maps.shape == (2, 3, 224, 224) and maps.dtype == np.float32 and targets.shape == (2, 3)
    np.testing.assert_allclose(maps.reshape(6, -1).min(axis=1), 0, atol=1e-6)
    np.testing.assert_allclose(maps.reshape(6, -1).max(axis=1), 1, atol=1e-6)
    fixed, used = class_activation_maps(random_featurizer, frames[:, 0], target=7, return_targets=True)
    assert fixed.shape == (2, 224, 224) and (used == 7).all()


def test_unsupported_backbone_and_bad_target(random_featurizer):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        alexnet = CNNFeaturizer("alexnet", weights=None).fit()
    frames = np.zeros((1, 224, 224, 3), np.uint8)
    with pytest.raises(ValueError, match="alexnet"):
        class_activation_maps(alexnet, frames)
    with pytest.raises(ValueError, match="target"):
        class_activation_maps(random_featurizer, frames, target=1000)


def test_plot_checks_shapes():
    with pytest.raises(ValueError, match="maps"):
        plot_activation_maps(np.zeros((2, 8, 8, 3), np.uint8), np.zeros((1, 4, 4)))


@pytest.mark.skipif(importlib.util.find_spec("resmem") is None, reason="resmem is not installed")
def test_real_weights_map_the_cat_and_plot(tmp_path):
    from skimage import data

    featurizer = CNNFeaturizer("resmem_resnet152", batch_size=2).fit()
    cat = data.chelsea()[None]
    maps, targets = class_activation_maps(featurizer, cat, return_targets=True)
    assert 281 <= targets[0] <= 285  # a cat class
    assert maps[0].max() / maps[0].mean() > 2  # far from flat
    figure = plot_activation_maps(network_view(featurizer, cat), maps, titles=["chelsea"])
    assert isinstance(figure, Figure)
    frame, heat = figure.axes[0].images  # the frame, and the map drawn over it
    np.testing.assert_array_equal(frame.get_array(), network_view(featurizer, cat)[0])
    assert heat.get_alpha() == 0.5 and heat.get_array().shape == frame.get_array().shape[:2]
    assert heat.get_array().max() / heat.get_array().mean() > 2 and figure.axes[0].get_title() == "chelsea"


def test_maps_of_a_featurizer_whose_network_is_not_built_yet(random_featurizer):
    frames = np.random.default_rng(1).integers(0, 256, (1, 224, 224, 3), dtype=np.uint8)
    maps = class_activation_maps(random_featurizer, frames)
    assert maps.shape == (1, 224, 224)
    np.testing.assert_array_equal(network_view(random_featurizer, frames).shape, (1, 224, 224, 3))


def test_default_batch_size_maps_more_frames_than_one_batch():
    with pytest.warns(UserWarning, match="random weights"):
        featurizer = CNNFeaturizer("resnet18", weights=None, random_state=0, device="cpu").fit()
    assert featurizer.batch_size == "auto" and featurizer.batch_size_ == 16
    frames = np.random.default_rng(1).integers(0, 256, (17, 64, 64, 3), dtype=np.uint8)
    maps = class_activation_maps(featurizer, frames)
    assert maps.shape == (17, 224, 224)  # maps are drawn on the frames the network sees
    np.testing.assert_allclose(maps[16], class_activation_maps(featurizer, frames[16:])[0], atol=1e-5)
