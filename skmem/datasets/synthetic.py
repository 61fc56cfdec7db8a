"""Generated clips with a planted memorability signal."""

import csv
import os

import numpy as np
from sklearn.utils import check_random_state

from skmem._validation import check_choice, check_positive_int
from skmem.video import CODECS, write_video

__all__ = ["make_memorability_videos", "GROUND_TRUTH_HEADER"]

GROUND_TRUTH_HEADER = (
    "video",
    "short-term_memorability",
    "nb_short-term_annotations",
    "long-term_memorability",
    "nb_long-term_annotations",
)


def make_memorability_videos(
    n_videos,
    directory,
    *,
    n_seconds=3,
    size=(128, 128),
    fps=12,
    codec="vp9",
    noise=0.02,
    encoder_options=None,
    random_state=None,
):
    """Write real encoded clips whose memorability score is planted.

    Each clip shows a textured background of random colour and a red disc
    that moves across it. The disc enters at a random time and leaves at a
    random later time. The short-term score is

    ``0.45 + 0.3 * s + 0.2 * v + e``, clipped to [0, 1],

    where ``s`` in [0, 1] is the disc's radius (from 5 % to 35 % of the
    frame's shorter side, rescaled to [0, 1]), ``v`` in [0, 1] the fraction of
    the clip during which it is on screen, and ``e`` Gaussian noise of standard
    deviation ``noise``: large discs that stay long are memorable. The
    long-term score is the short-term one minus 0.08 plus noise of three times
    that deviation, clipped to [0, 1] (noisier, as in real data).

    A ``ground-truth.csv`` in the MediaEval 2018 format is written beside the
    clips (``video,short-term_memorability,nb_short-term_annotations,...``).

    Parameters
    ----------
    n_videos : int
    directory : str or path-like
        Created if missing. Clips are named ``video1.webm``, ``video2.webm``...
    n_seconds : float, default=3
    size : (height, width), default=(128, 128)
        Both even.
    fps : int, default=12
    codec : str, default="vp9"
        One of :data:`skmem.video.CODECS`: VP8/VP9 in ``.webm``, H.264,
        HEVC and AV1 in ``.mp4``.
    noise : float, default=0.02
    encoder_options : dict, optional
        Passed to :func:`skmem.video.write_video` (e.g. a faster libvpx
        ``{"deadline": "realtime", "cpu-used": 8}`` for large clips).
    random_state : int, RandomState or None

    Returns
    -------
    paths : ndarray of str, shape (n_videos,)
    scores : ndarray of float, shape (n_videos,)
        Short-term memorability.
    """
    check_positive_int(n_videos, "n_videos")
    check_choice(codec, "codec", tuple(CODECS))
    height, width = size
    rng = check_random_state(random_state)
    os.makedirs(directory, exist_ok=True)
    extension = CODECS[codec][1]
    n_frames = max(1, int(round(n_seconds * fps)))
    phases = (np.arange(n_frames) + 0.5) / n_frames
    paths, scores, rows = [], [], []
    for i in range(n_videos):
        radius01 = rng.uniform()
        start, stop = np.sort(rng.uniform(0, 1, size=2))
        visible = (phases >= start) & (phases < stop)
        name = f"video{i + 1}{extension}"
        path = os.path.join(os.fspath(directory), name)
        frames = _render(rng, height, width, visible, radius01)  # rendered while encoded, frame by frame
        write_video(path, frames, fps=fps, codec=codec, options=encoder_options)
        score = float(np.clip(0.45 + 0.3 * radius01 + 0.2 * visible.mean() + rng.normal(0, noise), 0, 1))
        long_term = float(np.clip(score - 0.08 + rng.normal(0, 3 * noise), 0, 1))
        paths.append(path)
        scores.append(score)
        rows.append((name, f"{score:.4f}", rng.randint(30, 50), f"{long_term:.4f}", rng.randint(8, 14)))
    with open(os.path.join(os.fspath(directory), "ground-truth.csv"), "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(GROUND_TRUTH_HEADER)
        writer.writerows(rows)
    return np.asarray(paths, dtype=object), np.asarray(scores)


def _render(rng, height, width, visible, radius01):
    """Yield the uint8 ``(height, width, 3)`` frames of one clip; the disc shows where ``visible``."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = rng.uniform(20, 140, size=3).astype(np.float32)
    waves = rng.uniform(0.02, 0.12, size=2)
    texture = 25 * np.sin(xx * waves[0] + rng.uniform(0, 6.3)) * np.cos(yy * waves[1] + rng.uniform(0, 6.3))
    background = base + texture[..., None] * rng.uniform(0.5, 1.0, size=3)
    radius = (0.05 + 0.30 * radius01) * min(height, width)
    begin = rng.uniform([radius, radius], [height - radius, width - radius])
    end = rng.uniform([radius, radius], [height - radius, width - radius])
    colour = np.array([230, 30, 40], dtype=np.float32) + rng.normal(0, 8, size=3)
    on = np.flatnonzero(visible)
    for t in range(len(visible)):
        image = background + rng.normal(0, 4, size=(height, width, 1))
        if visible[t]:
            progress = (t - on[0]) / max(len(on) - 1, 1)
            cy, cx = begin + (end - begin) * progress
            disc = (yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2
            image[disc] = colour
        yield np.clip(image, 0, 255).astype(np.uint8)
