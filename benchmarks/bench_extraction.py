"""Frame sampling and feature extraction speed, and memory, on VideoMem-shaped clips.

Prints one JSON object. Every figure is a ratio against a baseline measured
in the same run, on the same clips:

1. ``sampling``: FrameSampler (8 frames) versus decoding every frame with no
   conversion (the lower bound), and the 2018 method (the ffmpeg command line
   writing one JPEG per second, then loading them with PIL) versus FrameSampler.
2. ``featurizing``: resnet50 on 8 frames at 224² on the CPU, the streaming
   featurizer (float32, and with ``autocast="auto"``: bfloat16 where the CPU
   has the instructions for it) versus a naive loop (one frame per model
   call, autograd on), and the float32 run versus the compute bound
   (measured float32 matmul FLOP/s over the model's FLOPs per clip).
3. ``memory``: peak resident memory featurizing many clips minus few clips.

Usage: ``python benchmarks/bench_extraction.py [--clips 10] [--quick]``.
"""

import argparse
import glob
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings

import av
import numpy as np
import torch

from skmem import CNNFeaturizer, FrameSampler
from skmem.datasets import make_memorability_videos
from skmem.features.cnn import resolve_autocast

RESNET50_GFLOPS = 8.2  # 4.1 G multiply-adds per 224² image
FAST_VP8 = {"deadline": "realtime", "cpu-used": 8}


def timed(function, repeats=1):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def decode_everything(paths):
    for path in paths:
        with av.open(path) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for _ in container.decode(stream):
                pass


def ffmpeg_jpegs_then_pil(paths, workdir):
    import imageio_ffmpeg
    from PIL import Image

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    for index, path in enumerate(paths):
        folder = os.path.join(workdir, f"clip{index}")
        os.makedirs(folder, exist_ok=True)
        subprocess.run(
            [ffmpeg, "-loglevel", "error", "-y", "-i", path, "-r", "1", os.path.join(folder, "%03d.jpg")], check=True
        )
        for image in sorted(glob.glob(os.path.join(folder, "*.jpg"))):
            np.asarray(Image.open(image).convert("RGB").resize((224, 224)))


def naive_features(paths, featurizer, sampler):
    model = featurizer.network_
    model.fc = torch.nn.Identity()
    for path in paths:
        frames = torch.from_numpy(sampler.sample_clip(path))
        for frame in frames:
            model(featurizer.preprocess(frame[None], "cpu"))


def matmul_flops(size=2048, repeats=5):
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    seconds = timed(lambda: torch.mm(a, b), repeats)
    return 2 * size**3 / seconds


def peak_memory_mb(n_clips, folder):
    code = (
        "import sys, resource, warnings, glob;"
        "warnings.simplefilter('ignore');"
        "from skmem import CNNFeaturizer, FrameSampler;"
        "paths = sorted(glob.glob(sys.argv[1] + '/*.webm'))[: int(sys.argv[2])];"
        "CNNFeaturizer('resnet18', weights=None, sampler=FrameSampler(n_frames=8), n_workers=1).fit().transform(paths);"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code, folder, str(n_clips)], check=True, capture_output=True, text=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=10, help="VideoMem-shaped clips (1920x1080 VP8, 24 fps, 7 s)")
    parser.add_argument("--memory-clips", type=int, nargs=2, default=(20, 200), metavar=("FEW", "MANY"))
    parser.add_argument("--quick", action="store_true", help="small clips and counts, for a smoke run")
    args = parser.parse_args()
    warnings.simplefilter("ignore", UserWarning)
    size, seconds, memory_clips = ((1080, 1920), 7, args.memory_clips)
    if args.quick:
        size, seconds, memory_clips, args.clips = (270, 480), 3, (4, 12), 3
    result = {"torch_threads": torch.get_num_threads(), "cpu_count": os.cpu_count()}
    with tempfile.TemporaryDirectory() as workdir:
        clips = os.path.join(workdir, "clips")
        begin = time.perf_counter()
        paths, _ = make_memorability_videos(
            args.clips, clips, n_seconds=seconds, size=size, fps=24, codec="vp8", encoder_options=FAST_VP8, random_state=0
        )
        paths = list(paths)
        result["clips"] = {"n": len(paths), "size": list(size), "seconds": seconds, "fps": 24, "codec": "vp8",
                           "generation_s": round(time.perf_counter() - begin, 1)}

        sampler = FrameSampler(n_frames=8)
        t_lower = timed(lambda: decode_everything(paths), 2)
        t_sampler = timed(lambda: sampler.fit_transform(paths), 2)
        t_2018 = timed(lambda: ffmpeg_jpegs_then_pil(paths, os.path.join(workdir, "jpegs")), 1)
        result["sampling"] = {
            "decode_all_frames_s": round(t_lower, 3),
            "frame_sampler_s": round(t_sampler, 3),
            "ffmpeg_jpeg_pil_s": round(t_2018, 3),
            "sampler_over_lower_bound": round(t_sampler / t_lower, 3),
            "method_2018_over_sampler": round(t_2018 / t_sampler, 3),
        }

        featurizer = CNNFeaturizer("resnet50", weights=None, sampler=sampler, n_workers=1).fit()
        t_stream = timed(lambda: featurizer.transform(paths), 1)
        fast = CNNFeaturizer("resnet50", weights=None, sampler=sampler, n_workers=1, autocast="auto").fit()
        t_fast = timed(lambda: fast.transform(paths), 1)
        naive = CNNFeaturizer("resnet50", weights=None).fit()
        t_naive = timed(lambda: naive_features(paths, naive, sampler), 1)
        flops = matmul_flops()
        bound = flops / (8 * RESNET50_GFLOPS * 1e9)
        result["featurizing"] = {
            "streaming_clips_per_s": round(len(paths) / t_stream, 3),
            "naive_clips_per_s": round(len(paths) / t_naive, 3),
            "streaming_over_naive": round(t_naive / t_stream, 2),
            "streaming_autocast_auto_clips_per_s": round(len(paths) / t_fast, 3),
            "autocast_auto_enabled": bool(resolve_autocast("auto", torch.device("cpu"))),
            "streaming_autocast_auto_over_naive": round(t_naive / t_fast, 2),
            "matmul_gflops": round(flops / 1e9, 1),
            "compute_bound_clips_per_s": round(bound, 3),
            "fraction_of_compute_bound_float32": round(len(paths) / t_stream / bound, 3),
        }

        small = os.path.join(workdir, "small")
        make_memorability_videos(memory_clips[1], small, n_seconds=2, size=(240, 320), fps=12, codec="vp8",
                                 encoder_options=FAST_VP8, random_state=1)
        few, many = (peak_memory_mb(n, small) for n in memory_clips)
        result["memory"] = {
            "clips": {"size": [240, 320], "seconds": 2, "backbone": "resnet18", "frames": 8},
            f"peak_mb_{memory_clips[0]}_clips": round(few, 1),
            f"peak_mb_{memory_clips[1]}_clips": round(many, 1),
            "difference_mb": round(many - few, 1),
        }
    result["own_peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
