"""Shared fixtures: real encoded clips written once per test session."""

import signal
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


@pytest.fixture
def python_signal_handlers():
    """Python's own SIGINT and SIGTERM handling during the test, whatever the runner or a library installed."""
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    yield
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


def timed_frames(n_frames=CLIP_FPS * CLIP_SECONDS, size=(64, 80)):
    """Frames whose grey level encodes their index (and so their time)."""
    grey = (GREY_STEP * np.arange(n_frames)).astype(np.uint8)
    return np.broadcast_to(grey[:, None, None, None], (n_frames, *size, 3)).copy()


def moving_frames(n_frames, size=(64, 80)):
    """Frames that all differ: a grey level stepping with the index and a square moving over it."""
    height, width = size
    frames = np.empty((n_frames, height, width, 3), dtype=np.uint8)
    for i in range(n_frames):
        frames[i] = (3 * i) % 256
        top, left = (2 * i) % (height - 8), (5 * i) % (width - 8)
        frames[i, top : top + 8, left : left + 8] = 255 - (3 * i) % 256
    return frames


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
def h264_clip(tmp_path_factory):
    """A 10 s H.264 MP4 of :func:`moving_frames` with B-frames and a key frame every 2 s, 24 fps."""
    path = tmp_path_factory.mktemp("mp4") / "bframes_10s.mp4"
    write_video(path, moving_frames(240), fps=24, codec="h264", crf=4, options={"bf": 3, "g": 48})
    return str(path)


@pytest.fixture
def random_featurizer():
    """A fitted resnet18 featurizer with seeded random weights."""
    from skmem import CNNFeaturizer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return CNNFeaturizer("resnet18", weights=None, random_state=0, batch_size=4).fit()
