"""Per-backbone featurizing speed on this machine: clips per second, random weights, small clips.

Prints one JSON object with, per backbone, clips/s of ``CNNFeaturizer.transform``
on decoded frames (8 frames per clip; video networks: 16, one segment) in
float32 and with ``autocast=True`` (bfloat16), the bfloat16 speed-up, and for
image networks the float32 speed-up of channels-last over contiguous memory
(the featurizer uses channels-last). ``relative_to_resnet50`` is the float32
rate over resnet50's, measured in the same run.

Usage: ``python benchmarks/bench_backbones.py [--clips 4] [--device cpu] [--backbones vit_b_16 ...]``.
"""

import argparse
import json
import sys
import time
import warnings

import numpy as np
import torch

from skmem import CNNFeaturizer

BACKBONES = [
    "resnet50", "vit_b_16", "convnext_tiny", "efficientnet_v2_s", "r2plus1d_18", "timm/resnet18",
    "open_clip/ViT-B-32",
]


def rate(featurizer, frames, repeats=1):
    """Clips per second of ``featurizer.transform(frames)`` (best of ``repeats``, after a warm-up)."""
    featurizer.transform(frames[:1])
    best = min(_seconds(lambda: featurizer.transform(frames)) for _ in range(repeats))
    return len(frames) / best


def _seconds(function):
    start = time.perf_counter()
    function()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start


def contiguous_rate(featurizer, frames, repeats=1):
    """Clips per second of the same network fed contiguous (not channels-last) float32 input."""
    batch = torch.from_numpy(frames.reshape((-1,) + frames.shape[2:]))
    device = torch.device(featurizer.device)
    extractor = featurizer.extractor_.to(device=device, memory_format=torch.contiguous_format)
    with torch.inference_mode():
        run = lambda: [  # noqa: E731
            extractor(featurizer.preprocess(batch[s : s + featurizer.batch_size_], device).contiguous())
            for s in range(0, len(batch), featurizer.batch_size_)
        ]
        run()
        best = min(_seconds(run) for _ in range(repeats))
    extractor.to("cpu")
    return len(frames) / best


def speed_table(backbones, n_clips, device):
    """``{backbone: row}`` of the figures the module docstring lists."""
    table = {}
    for name in backbones:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            fp32 = CNNFeaturizer(name, weights=None, device=device, autocast=False).fit()
            bf16 = CNNFeaturizer(name, weights=None, device=device, autocast=True).fit()
        n_frames = fp32.backbone_spec_.segment_frames or 8
        frames = np.random.default_rng(0).integers(0, 256, (n_clips, n_frames, 128, 160, 3), dtype=np.uint8)
        fp32._networks()
        bf16._built = fp32._built  # one network (the same weights) for both precisions
        row = {"frames_per_clip": n_frames, "input": fp32.backbone_spec_.crop_size}
        row["float32_clips_per_s"] = round(rate(fp32, frames), 3)
        row["bfloat16_clips_per_s"] = round(rate(bf16, frames), 3)
        row["bfloat16_speedup"] = round(row["bfloat16_clips_per_s"] / row["float32_clips_per_s"], 2)
        if fp32.backbone_spec_.memory_format == torch.channels_last:
            row["channels_last_speedup"] = round(row["float32_clips_per_s"] / contiguous_rate(fp32, frames), 2)
        table[name] = row
        print(name, json.dumps(row), file=sys.stderr, flush=True)  # progress: the table comes at the end
    if "resnet50" in table:
        for row in table.values():
            row["relative_to_resnet50"] = round(row["float32_clips_per_s"] / table["resnet50"]["float32_clips_per_s"], 3)
    return table


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--backbones", nargs="+", default=BACKBONES)
    args = parser.parse_args()
    torch.manual_seed(0)
    table = speed_table(args.backbones, args.clips, args.device)
    print(json.dumps({"device": args.device, "clips": args.clips, "backbones": table}, indent=1))


if __name__ == "__main__":
    main()
