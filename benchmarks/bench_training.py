"""Training speed and peak memory of LSTMRegressor and AMNetRegressor.

LSTM: random features shaped like the MediaEval 2018 data (8,000 clips x 8
frames x 2048, hidden 1024). One batched epoch of ``LSTMRegressor`` (batch
128) is compared with the 2018 training loop (one clip per step:
``zero_grad`` / ``backward`` / ``step`` per sample, same module, Adam). The
per-sample loop runs on a subset (``--loop-clips``); both are compared per
clip, and the loop's full epoch is extrapolated from it. AMNet: one epoch on
2,000 x 196 x 1024 spatial features (ResNet50 ``layer3`` on 224² frames,
batch 222). Both runs happen in this process, one after the other.

Prediction: every forward pass runs on a full batch (the last one padded),
so a clip's score does not depend on the clips predicted with it; the
report gives the time to predict all clips and one clip (a padded batch).

Peak memory: on CUDA the peak allocated device memory; on the CPU the peak
resident set size of the process during the phase (reset through
``/proc/self/clear_refs``), which includes the feature tensor itself.

On a shared machine the load changes between the two phases, and a ratio of
two phases timed minutes apart moves with it. ``--repeat N`` runs the epoch
and the loop N times, taking turns, and keeps the fastest run of each.

    python benchmarks/bench_training.py            # full sizes
    python benchmarks/bench_training.py --quick    # small smoke run
    python benchmarks/bench_training.py --clips 1024 --loop-clips 32 --repeat 3 --lstm-only  # shared machine
"""

import argparse
import json
import time

import numpy as np
import torch

from skmem import AMNetRegressor, LSTMRegressor
from skmem._validation import resolve_device
from skmem.models.modules import SequenceRegressor


class PeakMemory:
    """Peak memory in MiB of the code run inside the block."""

    def __init__(self, device):
        self.cuda = device.startswith("cuda")

    def __enter__(self):
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        else:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
        return self

    def __exit__(self, *exc):
        if self.cuda:
            torch.cuda.synchronize()
            self.mib = torch.cuda.max_memory_allocated() / 2**20
        else:
            with open("/proc/self/status") as fh:
                line = next(ln for ln in fh if ln.startswith("VmHWM:"))
            self.mib = int(line.split()[1]) / 1024
        return False


def random_features(shape, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal(size=shape, dtype=np.float32)
    y = (0.86 + 0.08 * rng.standard_normal(size=shape[0])).astype(np.float32)
    return X, y


def one_epoch(estimator, X, y, hidden, batch_size, device):
    """Seconds and peak MiB of one training epoch of a skmem deep regressor class, and the model."""
    model = estimator(
        hidden_size=hidden, max_epochs=1, batch_size=batch_size, valid_size=None, device=device, random_state=0
    )
    with PeakMemory(device) as peak:
        start = time.perf_counter()
        model.fit(X, y)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    return seconds, peak.mib, model


def prediction_times(model, X):
    """Seconds to predict every clip of ``X`` and to predict one clip."""
    start = time.perf_counter()
    model.predict(X)
    all_s = time.perf_counter() - start
    start = time.perf_counter()
    model.predict(X[:1])
    return all_s, time.perf_counter() - start


def per_sample_loop(X, y, hidden, device):
    """The 2018 loop: one clip per optimiser step."""
    torch.manual_seed(0)
    module = SequenceRegressor(X.shape[-1], hidden_size=hidden).to(device).train()
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    criterion = torch.nn.MSELoss()
    with PeakMemory(device) as peak:
        start = time.perf_counter()
        for clip, target in zip(X, y):
            optimizer.zero_grad()
            prediction = module(torch.from_numpy(clip[None]).to(device))
            loss = criterion(prediction, torch.tensor([target], device=device))
            loss.backward()
            optimizer.step()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    return seconds, peak.mib


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (shared machines: 1)")
    parser.add_argument("--loop-clips", type=int, default=256)
    parser.add_argument("--clips", type=int, default=8000, help="clips of the LSTM epoch (full sizes)")
    parser.add_argument("--repeat", type=int, default=1, help="epoch and loop runs, taking turns; the fastest counts")
    parser.add_argument("--lstm-only", action="store_true", help="leave AMNet out")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    if args.quick:
        lstm_shape, amnet_shape, hidden, loop_clips = (512, 8, 256), (222, 49, 128), 128, 64
    else:
        lstm_shape, amnet_shape, hidden, loop_clips = (args.clips, 8, 2048), (2000, 196, 1024), 1024, args.loop_clips

    X, y = random_features(lstm_shape, seed=0)
    batched_s = loop_s = float("inf")
    for _ in range(args.repeat):
        seconds, batched_mib, lstm = one_epoch(LSTMRegressor, X, y, hidden, 128, device)
        batched_s = min(batched_s, seconds)
        seconds, loop_mib = per_sample_loop(X[:loop_clips], y[:loop_clips], hidden, device)
        loop_s = min(loop_s, seconds)
    predict_all_s, predict_one_s = prediction_times(lstm, X)
    del X
    per_clip_batched = batched_s / lstm_shape[0]
    per_clip_loop = loop_s / loop_clips

    amnet = None
    if not args.lstm_only:
        Xa, ya = random_features(amnet_shape, seed=1)
        amnet_s, amnet_mib, _ = one_epoch(AMNetRegressor, Xa, ya, hidden, 222, device)
        amnet = {
            "features": list(amnet_shape),
            "features_mib": np.prod(amnet_shape) * 4 / 2**20,
            "hidden_size": hidden,
            "batch_size": 222,
            "epoch_s": amnet_s,
            "per_clip_ms": 1e3 * amnet_s / amnet_shape[0],
            "peak_mib": amnet_mib,
            "epoch_s_vs_lstm_batched_epoch": amnet_s / batched_s,
        }

    report = {
        "device": device,
        "torch_threads": torch.get_num_threads(),
        "quick": args.quick,
        "repeat": args.repeat,
        "lstm": {
            "features": list(lstm_shape),
            "features_mib": np.prod(lstm_shape) * 4 / 2**20,
            "hidden_size": hidden,
            "batched": {"batch_size": 128, "epoch_s": batched_s, "per_clip_ms": 1e3 * per_clip_batched,
                        "peak_mib": batched_mib},
            "per_sample_loop_2018": {
                "clips_measured": loop_clips,
                "measured_s": loop_s,
                "per_clip_ms": 1e3 * per_clip_loop,
                "epoch_s_extrapolated": per_clip_loop * lstm_shape[0],
                "peak_mib": loop_mib,
            },
            "speedup_per_clip_batched_vs_loop": per_clip_loop / per_clip_batched,
            "target_speedup": 20.0,
            "predict": {
                "all_clips_s": predict_all_s,
                "per_clip_ms": 1e3 * predict_all_s / lstm_shape[0],
                "one_clip_ms": 1e3 * predict_one_s,
                "one_clip_vs_per_clip_of_all": predict_one_s / (predict_all_s / lstm_shape[0]),
            },
        },
        "amnet": amnet,
        "memory_note": "CUDA: peak allocated; CPU: peak RSS of the phase, feature tensors included",
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
