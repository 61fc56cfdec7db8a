"""Seek-aware frame sampling versus a full decode and versus the single pass.

Generates two 1080p clips once, in a temporary folder: a 60 s H.264 clip at
30 fps and 8 Mbit/s with a key frame every 2 s (x264 ``ultrafast``) and a 7 s
VP8 clip at 24 fps (the shape of a MediaEval clip, libvpx's default key-frame
interval). For each clip, in this one process, it times:

- ``full_decode``: decoding every frame (no conversion), the baseline;
- ``single_pass``: ``FrameSampler(n_frames=8, seek=False)``, one pass from
  the start up to the last target;
- ``seek_auto``: ``FrameSampler(n_frames=8)`` (``seek="auto"``);
- ``index``: demuxing the clip for its key frames, without decoding (part of
  both sampler figures).

and prints one JSON object with the times (best of ``--repeats``, measured
round-robin), the ratios against the full decode and of seek-aware against
single pass, and the key frames seeked to. Targets: the 60 s clip at most 0.2x a full decode; the 7 s
clip no slower than the single pass.

Usage: ``python benchmarks/bench_sampling.py [--repeats 3] [--quick]``.
"""

import argparse
import json
import os
import tempfile
import time

import av
import numpy as np

from bench_extraction import decode_everything  # the same full-decode baseline

from skmem import FrameSampler
from skmem.video import seek_points, write_video

HEIGHT, WIDTH = 1080, 1920


def moving_frames(n_frames, seed=0):
    """A smooth random texture panning across the picture, with a drifting brightness."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (HEIGHT // 8 + 2, WIDTH // 8 + 2, 3), dtype=np.uint8)
    texture = np.repeat(np.repeat(small, 8, axis=0), 8, axis=1)[: HEIGHT + 16, : WIDTH + 16]
    for i in range(n_frames):
        frame = np.roll(texture, (3 * i, 7 * i), axis=(0, 1))[:HEIGHT, :WIDTH]
        yield np.ascontiguousarray(frame // 2 + (i % 128))


def timed(functions, repeats):
    """Best time of each function, measured round-robin so that load drift hits them alike."""
    best = [float("inf")] * len(functions)
    for _ in range(repeats):
        for i, function in enumerate(functions):
            start = time.perf_counter()
            function()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def measure(path, repeats):
    single = FrameSampler(n_frames=8, size=224, seek=False)
    seeking = FrameSampler(n_frames=8, size=224)
    targets = (np.arange(8) + 0.5) * av.open(path).duration / av.time_base / 8
    full, one_pass, seek, index = timed(
        [lambda: decode_everything([path]), lambda: single.decode(path), lambda: seeking.decode(path),
         lambda: seek_points(path, targets)],
        repeats,
    )
    np.testing.assert_array_equal(single.decode(path)[0], seeking.decode(path)[0])
    return {
        "full_decode_s": round(full, 3),
        "single_pass_s": round(one_pass, 3),
        "seek_auto_s": round(seek, 3),
        "index_s": round(index, 3),
        "single_pass_vs_full": round(one_pass / full, 3),
        "seek_auto_vs_full": round(seek / full, 3),
        "seek_auto_vs_single_pass": round(seek / one_pass, 3),
        "seek_points": [round(t, 3) for t in seek_points(path, targets)],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a 20 s H.264 clip instead of 60 s")
    args = parser.parse_args()
    long_seconds = 20 if args.quick else 60
    with tempfile.TemporaryDirectory() as folder:
        long_clip = os.path.join(folder, "long_h264.mp4")
        start = time.perf_counter()
        write_video(
            long_clip, moving_frames(30 * long_seconds), fps=30, codec="h264", bit_rate=8_000_000,
            options={"preset": "ultrafast", "g": 60},
        )
        short_clip = os.path.join(folder, "mediaeval_vp8.webm")
        write_video(
            short_clip, moving_frames(24 * 7, seed=1), fps=24, codec="vp8", options={"deadline": "realtime", "cpu-used": 8}
        )
        generated = time.perf_counter() - start
        report = {
            "clips_generated_s": round(generated, 1),
            f"h264_1080p_{long_seconds}s_gop2s": measure(long_clip, args.repeats),
            "vp8_1080p_7s_24fps": measure(short_clip, args.repeats),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
