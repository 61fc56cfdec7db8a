"""Run a cached, streaming extraction in a separate process (used by the cache tests)."""

import sys
import warnings

from skmem import CNNFeaturizer, FrameSampler


def featurizer(cache_dir, **params):
    """A seeded resnet18 featurizer streaming 2 frames of 64x64 per clip."""
    settings = {
        "weights": None,
        "random_state": 0,
        "batch_size": 2,
        "sampler": FrameSampler(n_frames=2, size=64),
        "cache_dir": cache_dir,
        **params,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return CNNFeaturizer("resnet18", **settings).fit()


if __name__ == "__main__":
    featurizer(sys.argv[1]).transform(sys.argv[2:])
