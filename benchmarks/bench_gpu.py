"""GPU figures in one call: featurization, training epochs and the ``gpu`` tests.

Run on a machine with a CUDA device (a few minutes)::

    python benchmarks/bench_gpu.py [--clips 24] [--workers 0 2 4 8] [--quick]

Prints one JSON object:

1. ``featurizing``: resnet50, 8 frames per generated 1080p VP8 clip, float32
   and bfloat16, for each number of decode workers: clips/s end to end, the
   fraction of wall time the GPU was busy (``nvidia-smi`` utilisation sampled
   every 0.1 s), and that rate over min(decode-only rate with all cores,
   network-only rate), both measured in this run.
2. ``training``: one LSTM and one AMNet epoch at the sizes of
   ``bench_training.py`` on CUDA and on the CPU (the CPU LSTM epoch on a
   subset, extrapolated).
3. ``backbones``: the per-backbone table of ``bench_backbones.py`` on CUDA
   (16 clips; float32 and bfloat16 clips/s).
4. ``gpu_tests``: exit status and summary of ``pytest -m gpu``.

Without a CUDA device it prints a message and exits with status 0.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_training import one_epoch, random_features  # noqa: E402

FAST_VP8 = {"deadline": "realtime", "cpu-used": 8}


class GpuBusy:
    """Fraction of wall time the GPU reports itself busy, sampled with nvidia-smi."""

    def __init__(self, interval=0.1):
        self.interval, self.samples = interval, []
        self._stop = threading.Event()

    def _sample(self):
        while not self._stop.is_set():
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits", "-i", "0"],
                capture_output=True, text=True,
            )
            if out.returncode == 0 and out.stdout.strip():
                self.samples.append(float(out.stdout.split()[0]) / 100)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread = threading.Thread(target=self._sample, daemon=True)
        if shutil.which("nvidia-smi"):
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.fraction = round(sum(self.samples) / len(self.samples), 3) if self.samples else None
        return False


def timed(function):
    torch.cuda.synchronize()
    start = time.perf_counter()
    function()
    torch.cuda.synchronize()
    return time.perf_counter() - start


def featurizing(paths, workers, n_frames):
    from skmem import CNNFeaturizer, FrameSampler

    sampler = FrameSampler(n_frames=n_frames, n_jobs=os.cpu_count())
    decode_s = timed(lambda: np.asarray(sampler.fit_transform(paths)))  # decoded when read
    frames = torch.from_numpy(np.asarray(sampler.fit_transform(paths[: min(8, len(paths))])))
    result = {"decode_only_all_cores_clips_per_s": round(len(paths) / decode_s, 2), "runs": []}
    for precision, autocast in (("float32", False), ("bfloat16", True)):
        model = CNNFeaturizer("resnet50", weights=None, device="cuda", autocast=autocast, batch_size=64).fit()
        model.transform(frames.numpy()[:1])  # build the network, warm up the kernels
        network_s = timed(lambda: model.transform(frames.numpy())) * len(paths) / len(frames)
        network_rate = len(paths) / network_s
        bound = min(len(paths) / decode_s, network_rate)
        for n_workers in workers:
            streaming = CNNFeaturizer(
                "resnet50", weights=None, device="cuda", autocast=autocast, batch_size=64,
                sampler=FrameSampler(n_frames=n_frames), n_workers=n_workers,
            ).fit()
            streaming.transform(paths[:1])
            with GpuBusy() as busy:
                seconds = timed(lambda: streaming.transform(paths))
            result["runs"].append({
                "precision": precision,
                "decode_workers": n_workers,
                "clips_per_s": round(len(paths) / seconds, 2),
                "network_only_clips_per_s": round(network_rate, 2),
                "fraction_of_min_decode_network": round(len(paths) / seconds / bound, 3),
                "gpu_busy_fraction": busy.fraction,
            })
    return result


def training(quick):
    from skmem import AMNetRegressor, LSTMRegressor

    lstm_shape, amnet_shape, hidden = ((512, 8, 256), (222, 49, 128), 128) if quick else (
        (8000, 8, 2048), (2000, 196, 1024), 1024)
    cpu_clips = lstm_shape[0] if quick else 1024
    X, y = random_features(lstm_shape, seed=0)
    Xa, ya = random_features(amnet_shape, seed=1)
    out = {"lstm_features": list(lstm_shape), "amnet_features": list(amnet_shape), "hidden_size": hidden}
    out["lstm_epoch_s_cuda"] = round(one_epoch(LSTMRegressor, X, y, hidden, 128, "cuda")[0], 2)
    cpu_s = one_epoch(LSTMRegressor, X[:cpu_clips], y[:cpu_clips], hidden, 128, "cpu")[0]
    out["lstm_epoch_s_cpu_extrapolated"] = round(cpu_s * lstm_shape[0] / cpu_clips, 2)
    out["amnet_epoch_s_cuda"] = round(one_epoch(AMNetRegressor, Xa, ya, hidden, 222, "cuda")[0], 2)
    amnet_cpu_clips = amnet_shape[0] if quick else 444
    cpu_s = one_epoch(AMNetRegressor, Xa[:amnet_cpu_clips], ya[:amnet_cpu_clips], hidden, 222, "cpu")[0]
    out["amnet_epoch_s_cpu_extrapolated"] = round(cpu_s * amnet_shape[0] / amnet_cpu_clips, 2)
    out["lstm_cuda_speedup"] = round(out["lstm_epoch_s_cpu_extrapolated"] / out["lstm_epoch_s_cuda"], 1)
    out["amnet_cuda_speedup"] = round(out["amnet_epoch_s_cpu_extrapolated"] / out["amnet_epoch_s_cuda"], 1)
    return out


def gpu_tests():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-m", "gpu", "-p", "no:cacheprovider", "tests"],
        cwd=root, capture_output=True, text=True,
    )
    return {"exit_status": run.returncode, "summary": (run.stdout.strip().splitlines() or [""])[-1]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=24, help="generated 1920x1080 VP8 clips, 7 s at 24 fps")
    parser.add_argument("--workers", type=int, nargs="+", default=None, help="decode worker counts (default 0..cores)")
    parser.add_argument("--quick", action="store_true", help="small clips and sizes, for a smoke run")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("bench_gpu: no CUDA device found; nothing to measure (run this on a GPU machine)")
        return 0
    warnings.simplefilter("ignore", UserWarning)
    from skmem.datasets import make_memorability_videos

    cores = os.cpu_count() or 1
    workers = args.workers or sorted({0, 2, max(1, cores // 2), max(1, cores - 1)})
    size, seconds = ((270, 480), 2) if args.quick else ((1080, 1920), 7)
    report = {"device": torch.cuda.get_device_name(0), "cpu_count": cores, "torch": torch.__version__}
    with tempfile.TemporaryDirectory() as workdir:
        begin = time.perf_counter()
        paths, _ = make_memorability_videos(
            args.clips, workdir, n_seconds=seconds, size=size, fps=24, codec="vp8",
            encoder_options=FAST_VP8, random_state=0,
        )
        report["clips"] = {"n": args.clips, "size": list(size), "seconds": seconds,
                           "generation_s": round(time.perf_counter() - begin, 1)}
        report["featurizing"] = featurizing(list(map(str, paths)), workers, n_frames=8)
    report["training"] = training(args.quick)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bench_backbones import BACKBONES, speed_table

    report["backbones"] = speed_table(BACKBONES, 4 if args.quick else 16, "cuda")
    report["gpu_tests"] = gpu_tests()
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
