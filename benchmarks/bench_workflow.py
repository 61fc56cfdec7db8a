"""The whole workflow against decoding once plus the network once, on a few hundred generated clips.

Prints one JSON object. In one process, on the same clips:

- ``workflow``: what a user runs, through the command line in this process:
  ``skmem extract CLIPS --out FEATS --tags`` (features and class scores from
  one decode and one forward pass per clip, then captions from the stored
  class scores), then ``skmem cv --models multimodal`` (the preset, 5 folds,
  on the tag captions and the pooled features);
- ``decode_once``: every clip decoded once by a :class:`~skmem.FrameSampler`
  with one worker per core (the decoding floor);
- ``network_once``: the decoded frames through the network once, in memory
  (the network floor; built before the timing).

``workflow / (decode_once + network_once)`` is what the workflow costs over
the work it cannot avoid; ``extract / (decode_once + network_once)`` the same
for extraction alone (below 1 when decoding overlaps the network).

Usage: ``python benchmarks/bench_workflow.py [--clips 300] [--backbone resnet50]``.
"""

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from skmem import CNNFeaturizer, FrameSampler
from skmem.cli import main
from skmem.datasets import make_memorability_videos


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def run_cli(*argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        status = main([str(a) for a in argv])
    if status != 0:
        sys.exit(f"skmem {argv[0]} exited {status}:\n{out.getvalue()}")
    return out.getvalue()


def main_benchmark(n_clips, backbone, frames):
    with tempfile.TemporaryDirectory(prefix="skmem-workflow-") as folder:
        folder = Path(folder)
        paths, _ = make_memorability_videos(n_clips, folder / "clips", n_seconds=3, size=(180, 320), fps=12, random_state=0)
        paths = [str(p) for p in paths]
        sampler = FrameSampler(n_frames=frames, n_jobs=os.cpu_count())
        np.asarray(sampler.transform(paths[:2]))  # warm up the decoder and its workers
        decode, decoded = timed(lambda: np.asarray(sampler.fit().transform(paths)))  # decoded when read
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            network = CNNFeaturizer(backbone, weights=None, random_state=0).fit()
        network.transform(decoded[:2])  # builds the network and warms it up
        net, _ = timed(lambda: network.transform(decoded))
        extract, _ = timed(
            lambda: run_cli("extract", folder / "clips", "--out", folder / "feats", "--tags", "--backbone", backbone,
                            "--weights", "none", "--frames", frames)
        )
        cv, table = timed(
            lambda: run_cli("cv", "--features", folder / "feats", "--captions", folder / "feats" / "captions.csv",
                            "--labels", folder / "clips" / "ground-truth.csv", "--target", "short",
                            "--models", "multimodal")
        )
        floor = decode + net
        return {
            "clips": n_clips,
            "backbone": f"{backbone} (random weights), {frames} frames",
            "decode_once_s": round(decode, 2),
            "network_once_s": round(net, 2),
            "extract_with_tags_s": round(extract, 2),
            "cv_multimodal_s": round(cv, 2),
            "workflow_over_floor": round((extract + cv) / floor, 2),
            "extract_over_floor": round(extract / floor, 2),
            "cv_table": table.strip().splitlines(),
        }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=300)
    parser.add_argument("--backbone", default="resnet50")
    parser.add_argument("--frames", type=int, default=8)
    args = parser.parse_args()
    print(json.dumps(main_benchmark(args.clips, args.backbone, args.frames), indent=1))
