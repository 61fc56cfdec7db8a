"""Run a cached, streaming extraction in a separate process (used by the cache tests).

``python _extract_worker.py CACHE_DIR CLIP...`` transforms the clips. With
``SKMEM_TEST_KILL_AT_SAVE=k`` the process SIGKILLs itself inside the k-th
entry save, after the temporary file is complete and before it is renamed.
"""

import json
import os
import signal
import sys
import warnings

import numpy as np

from skmem import CNNFeaturizer, FrameSampler
from skmem.features.store import FeatureStore, is_store


#: This script, for tests that run it in a subprocess.
WORKER = os.path.abspath(__file__)


def reference_features(clips):
    """Features of ``clips`` from frame arrays, without streaming or store (what every path must match)."""
    return featurizer(None, sampler=None).transform(FrameSampler(n_frames=2, size=64).fit_transform(clips))


def featurizer(cache_dir, **params):
    """A seeded resnet18 float32 featurizer streaming 2 frames of 64x64 per clip."""
    settings = {
        "weights": None,
        "random_state": 0,
        "batch_size": 2,
        "n_workers": 0,
        "autocast": False,
        "sampler": FrameSampler(n_frames=2, size=64),
        "cache_dir": cache_dir,
        **params,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return CNNFeaturizer("resnet18", **settings).fit()


def store_files(folder, output="pooled"):
    """``{clip file name: file of its output}`` of every entry of the feature store ``folder``."""
    if not is_store(folder):
        return {}
    with FeatureStore(folder) as store:
        return {os.path.basename(entry.path): entry.file(output) for entry in store.entries()}


def kill_inside_save(at):
    """SIGKILL this process when the ``at``-th entry is about to be renamed into place."""
    real_replace, seen = os.replace, []

    def replace(source, target):
        if os.path.basename(os.fspath(source)).startswith(".tmp-") and os.fspath(target).endswith(".npy"):
            seen.append(target)
            if len(seen) == at:
                os.kill(os.getpid(), signal.SIGKILL)
        return real_replace(source, target)

    os.replace = replace


if __name__ == "__main__":
    if os.environ.get("SKMEM_TEST_KILL_AT_SAVE"):
        kill_inside_save(int(os.environ["SKMEM_TEST_KILL_AT_SAVE"]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        features = featurizer(sys.argv[1]).transform(sys.argv[2:])
    if os.environ.get("SKMEM_TEST_REPORT"):  # features and warnings, for tests that cannot look inside
        np.save(os.environ["SKMEM_TEST_REPORT"], features)
        with open(os.environ["SKMEM_TEST_REPORT"] + ".json", "w") as fh:
            json.dump([str(w.message) for w in caught if "random weights" not in str(w.message)], fh)
