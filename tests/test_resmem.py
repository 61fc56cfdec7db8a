"""The optional resmem weights: real pretrained networks, offline."""

import importlib.util

import numpy as np
import pytest
import torch

from skmem import CNNFeaturizer

needs_resmem = pytest.mark.skipif(importlib.util.find_spec("resmem") is None, reason="resmem is not installed")
CAT_CLASSES = range(281, 286)  # ImageNet: tabby, tiger cat, Persian, Siamese, Egyptian cat


@pytest.fixture(scope="module")
def resnet152():
    return CNNFeaturizer("resmem_resnet152", batch_size=2).fit()


@needs_resmem
def test_imagenet_head_names_a_cat(resnet152):
    from skimage import data

    images = resnet152.preprocess(torch.from_numpy(data.chelsea()[None]), "cpu")
    assert images.shape == (1, 3, 227, 227) and 0 <= images.min() and images.max() <= 1  # no mean/std
    with torch.inference_mode():
        top = int(resnet152.network_(images).argmax())
    assert top in CAT_CLASSES


@needs_resmem
def test_pooled_features_and_weights_identity(resnet152):
    from skimage import data

    features = resnet152.transform(np.stack([data.chelsea(), data.coffee()[:300, :451]])[:, None])
    assert features.shape == (2, 1, 2048) and np.isfinite(features).all()
    assert resnet152.weights_id_.startswith("resmem-")


@needs_resmem
def test_resmem_memorability_head_scores_each_frame():
    from skimage import data

    model = CNNFeaturizer("resmem", batch_size=2).fit()
    frames = np.stack([data.chelsea(), data.coffee()[:300, :451], data.astronaut()[:300, :451]])
    scores = model.transform(frames[:, None])
    assert scores.shape == (3, 1, 1)
    assert ((scores > 0) & (scores < 1)).all() and np.ptp(scores) > 0.01


def test_missing_package_names_the_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "resmem" else real(name, *a))
    with pytest.raises(ImportError, match=r"skmem\[resmem\]"):
        CNNFeaturizer("resmem_resnet152").fit()


def test_resmem_backbones_reject_torchvision_weight_names():
    with pytest.raises(ValueError, match="resmem_resnet152 takes weights='DEFAULT'"):
        CNNFeaturizer("resmem_resnet152", weights="IMAGENET1K_V2").fit()
