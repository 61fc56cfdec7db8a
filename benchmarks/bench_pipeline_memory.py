"""Peak memory of ``Pipeline(FrameSampler, CNNFeaturizer)`` against the dense frames it used to hold.

Prints one JSON object. In one process, on the same generated clips:

- ``dense``: the frames decoded into one array (``np.asarray`` of the
  sampler's output, what ``FrameSampler.transform`` returned before it
  became lazy), then through the featurizer;
- ``pipeline``: ``make_pipeline(FrameSampler, CNNFeaturizer).fit_transform``,
  which streams the clips through the network a batch at a time.

Peak memory is what :mod:`tracemalloc` sees (NumPy arrays, Python objects;
not the network's own tensors, the same in both). ``pipeline_over_dense``
below 1 is the saving; the dense peak grows with the number of clips, the
pipeline's with the batch size only. Features are checked equal.

Usage: ``python benchmarks/bench_pipeline_memory.py [--clips 64] [--frames 8]``.
"""

import argparse
import json
import tempfile
import time
import tracemalloc
import warnings

import numpy as np
from sklearn.pipeline import make_pipeline

from skmem import CNNFeaturizer, FrameSampler
from skmem.datasets import make_memorability_videos


def measured(function):
    """``(seconds, peak MiB, result)`` of ``function()``."""
    tracemalloc.start()
    start = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 2**20, result


def main_benchmark(n_clips, n_frames):
    with tempfile.TemporaryDirectory(prefix="skmem-memory-") as folder:
        paths, _ = make_memorability_videos(n_clips, folder, n_seconds=2, size=(128, 128), fps=12, random_state=0)
        paths = [str(p) for p in paths]
        sampler = FrameSampler(n_frames=n_frames, size=224)
        featurizer = CNNFeaturizer("resnet18", weights=None, random_state=0, device="cpu", batch_size=16, n_workers=2)

        def dense():
            frames = np.asarray(sampler.fit_transform(paths))
            return featurizer.transform(frames)

        def pipeline():
            return make_pipeline(sampler, featurizer).fit_transform(paths)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # random weights
            featurizer.fit()  # builds the network before any timing
            make_pipeline(sampler, featurizer).fit_transform(paths[:2])  # warms decoding and the network up
            dense_s, dense_mib, expected = measured(dense)
            pipe_s, pipe_mib, streamed = measured(pipeline)
    np.testing.assert_allclose(streamed, expected, rtol=1e-4, atol=1e-5)
    dense_frames = n_clips * n_frames * 224 * 224 * 3 / 2**20
    return {
        "clips": n_clips,
        "frames_per_clip": n_frames,
        "dense_frames_mib": round(dense_frames, 1),
        "dense_peak_mib": round(dense_mib, 1),
        "pipeline_peak_mib": round(pipe_mib, 1),
        "pipeline_over_dense": round(pipe_mib / dense_mib, 3),
        "dense_s": round(dense_s, 2),
        "pipeline_s": round(pipe_s, 2),
        "pipeline_time_over_dense": round(pipe_s / dense_s, 3),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=64)
    parser.add_argument("--frames", type=int, default=8)
    args = parser.parse_args()
    print(json.dumps(main_benchmark(args.clips, args.frames), indent=1))
