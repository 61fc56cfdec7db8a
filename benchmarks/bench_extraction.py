"""Frame sampling and feature extraction speed, and memory, on VideoMem-shaped clips.

Prints one JSON object. Every figure is a ratio against a baseline measured
in the same run, on the same clips:

1. ``sampling``: FrameSampler (8 frames) versus decoding every frame with no
   conversion (the lower bound), and the 2018 method (the ffmpeg command line
   writing one JPEG per second, then loading them with PIL) versus FrameSampler.
2. ``featurizing``: resnet50 on 8 frames at 224² on the CPU. The streaming
   featurizer with its defaults (``autocast="auto"``: bfloat16 where the CPU
   has the instructions for it; decode workers overlapping the network) and
   in float32, versus a plain per-frame loop (every frame of the clip decoded
   to RGB, the 8 sampled frames through the network one per call, autograd
   on, the network built before the timing);
   the default run over min(decode-only rate with every core, network-only
   rate on decoded frames), both measured in this run; the float32 run
   versus the compute bound (float32 matmul FLOP/s over the model's FLOPs).
3. ``cached``: a fresh featurizer's ``fit_transform`` of clips that are all
   in its cache (100 small clips, resnet50), in seconds.
4. ``memory``: peak resident memory featurizing many clips minus few clips.
5. ``tags``: ``extract`` with tags (features and class scores from one pass,
   then the captions from the store, as ``skmem extract --tags`` does)
   versus a plain ``extract``, and the former two-featurizer way (a second
   decode and forward pass for the class scores) versus the same plain run;
   resnet50 on the same clips, networks built before the timing.

Usage: ``python benchmarks/bench_extraction.py [--clips 10] [--quick] [--only featurizing cached tags]``.
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
from skmem.text import TagCaptioner
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


def naive_features(paths, featurizer, model, n_frames=8):
    """A plain per-frame loop: decode every frame to RGB, then one sampled frame per model call, autograd on."""
    for path in paths:
        with av.open(path) as container:
            frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
        for index in np.linspace(0, len(frames) - 1, n_frames).round().astype(int):
            model(featurizer.preprocess(torch.from_numpy(frames[index])[None], "cpu"))


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


SECTIONS = ["sampling", "featurizing", "cached", "memory", "tags"]


def sampling(paths, sampler, workdir):
    t_lower = timed(lambda: decode_everything(paths), 2)
    t_sampler = timed(lambda: sampler.fit_transform(paths), 2)
    t_2018 = timed(lambda: ffmpeg_jpegs_then_pil(paths, os.path.join(workdir, "jpegs")), 1)
    return {
        "decode_all_frames_s": round(t_lower, 3),
        "frame_sampler_s": round(t_sampler, 3),
        "ffmpeg_jpeg_pil_s": round(t_2018, 3),
        "sampler_over_lower_bound": round(t_sampler / t_lower, 3),
        "method_2018_over_sampler": round(t_2018 / t_sampler, 3),
    }


def featurizing(paths, sampler):
    n = len(paths)
    t_decode = timed(lambda: np.asarray(FrameSampler(n_frames=8, n_jobs=-1).fit_transform(paths)), 1)
    frames = np.asarray(sampler.fit_transform(paths))  # the network alone, on decoded frames
    network = CNNFeaturizer("resnet50", weights=None).fit()
    network.transform(frames[:1])  # build the network once
    t_network = timed(lambda: network.transform(frames), 1)
    default = CNNFeaturizer("resnet50", weights=None, sampler=sampler).fit()
    default.transform(paths[:1])
    t_default = timed(lambda: default.transform(paths), 1)
    float32 = CNNFeaturizer("resnet50", weights=None, sampler=sampler, autocast=False).fit()
    float32.transform(paths[:1])
    t_float32 = timed(lambda: float32.transform(paths), 1)
    naive = CNNFeaturizer("resnet50", weights=None).fit()
    model = naive.network_  # built outside the timing
    model.fc = torch.nn.Identity()
    t_naive = timed(lambda: naive_features(paths, naive, model), 1)
    bound = matmul_flops() / (8 * RESNET50_GFLOPS * 1e9)
    floor = min(n / t_decode, n / t_network)
    return {
        "autocast_auto_enabled": bool(resolve_autocast("auto", torch.device("cpu"))),
        "default_n_workers": default.get_params()["n_workers"],
        "default_streaming_clips_per_s": round(n / t_default, 3),
        "naive_clips_per_s": round(n / t_naive, 3),
        "default_streaming_over_naive": round(t_naive / t_default, 2),
        "target_over_naive": 2.5,
        "decode_only_all_cores_clips_per_s": round(n / t_decode, 3),
        "network_only_clips_per_s": round(n / t_network, 3),
        "default_over_min_decode_network": round(n / t_default / floor, 3),
        "goal_over_min_decode_network": 0.8,
        "float32_streaming_clips_per_s": round(n / t_float32, 3),
        "float32_streaming_over_naive": round(t_naive / t_float32, 2),
        "compute_bound_float32_clips_per_s": round(bound, 3),
        "fraction_of_compute_bound_float32": round(n / t_float32 / bound, 3),
    }


def tags(paths, sampler, folder):
    """Seconds of a plain extract, of extract with tags from one pass, and of the former two passes."""
    settings = {"backbone": "resnet50", "weights": None, "sampler": sampler, "random_state": 0}

    def built(featurizer):
        featurizer.fit().network_  # the network is built before the timing
        return featurizer

    plain = built(CNNFeaturizer(**settings, cache_dir=os.path.join(folder, "plain")))
    t_plain = timed(lambda: plain.extract(paths), 1)
    tagged = built(CNNFeaturizer(**settings, extra_outputs=("logits",), cache_dir=os.path.join(folder, "tagged")))

    def one_pass():
        tagged.extract(paths)
        TagCaptioner(tagged).fit().transform(paths)

    t_one_pass = timed(one_pass, 1)
    second = TagCaptioner(CNNFeaturizer(**settings, layer="logits", cache_dir=os.path.join(folder, "tags"))).fit()
    second.featurizer_.network_
    t_second = timed(lambda: second.transform(paths), 1)
    return {
        "plain_extract_s": round(t_plain, 3),
        "extract_with_tags_one_pass_s": round(t_one_pass, 3),
        "one_pass_tags_over_plain": round(t_one_pass / t_plain, 3),
        "target_one_pass_tags_over_plain": 1.3,
        "two_pass_tags_over_plain": round((t_plain + t_second) / t_plain, 3),
    }


def cached_fit_transform(folder, n_clips):
    """Seconds of a fresh featurizer's fit_transform when every clip is cached."""
    paths, _ = make_memorability_videos(n_clips, os.path.join(folder, "clips"), n_seconds=2, size=(64, 64), fps=8,
                                        random_state=2)
    settings = {"backbone": "resnet50", "weights": None, "sampler": FrameSampler(n_frames=8, size=64),
                "cache_dir": os.path.join(folder, "cache")}
    CNNFeaturizer(**settings).fit_transform(list(paths))
    seconds = timed(lambda: CNNFeaturizer(**settings).fit_transform(list(paths)), 3)
    return {"clips": n_clips, "fit_transform_all_cached_s": round(seconds, 3)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=10, help="VideoMem-shaped clips (1920x1080 VP8, 24 fps, 7 s)")
    parser.add_argument("--memory-clips", type=int, nargs=2, default=(20, 200), metavar=("FEW", "MANY"))
    parser.add_argument("--quick", action="store_true", help="small clips and counts, for a smoke run")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=SECTIONS, help="sections to run")
    args = parser.parse_args()
    sections = set(args.only)
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
        if "sampling" in sections:
            result["sampling"] = sampling(paths, sampler, workdir)

        if "featurizing" in sections:
            result["featurizing"] = featurizing(paths, sampler)
        if "tags" in sections:
            result["tags"] = tags(paths, sampler, os.path.join(workdir, "tags"))
        if "cached" in sections:
            result["cached"] = cached_fit_transform(os.path.join(workdir, "cached"), 10 if args.quick else 100)
        if "memory" not in sections:
            print(json.dumps(result, indent=2))
            return
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
