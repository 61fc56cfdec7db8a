"""Read precomputed descriptors from disk: MediaEval files and ``.npy`` folders."""

import numbers
import os
import re
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted
from tqdm import tqdm

from skmem._validation import check_choice, check_positive_int
from skmem.features.descriptors import (
    DescriptorFormatError,
    channels_vector,
    dense_vector,
    parse_file,
    ragged_vector,
    raw_nbytes,
    rows_vector,
    sparse_vector,
)

__all__ = ["PrecomputedFeatureLoader", "DescriptorFormatError"]


@dataclass(frozen=True)
class _Kind:
    fmt: str  # how a vector is built: dense, sparse, channels, rows, ragged, npy
    per_keyframe: bool
    dim: int | None = None  # known dimension of sparse kinds
    base: int = 0  # first index of sparse kinds
    sep: str | None = None  # separator of dense values


_KINDS = {
    "C3D": _Kind("dense", False),
    "HMP": _Kind("sparse", False, dim=6075, base=1),
    "aesthetics": _Kind("dense", False, sep=","),
    "LBP": _Kind("dense", True),
    "HOG": _Kind("ragged", True),
    "InceptionV3": _Kind("sparse", True, dim=1000, base=0),
    "ColorHistogram": _Kind("channels", True, base=0),
    "ORB": _Kind("rows", True),
    "npy": _Kind("npy", False),
}
_PARSE_FORMAT = {"channels": "sparse", "ragged": "dense"}
_HISTOGRAM_BINS = 32
_PARALLEL_MIN_FILES = 64
_NPY_CACHE_NAME = re.compile(r"^(?P<stem>.+)__[0-9a-f]{16}\.npy$")


class _RawCache:
    """Least-recently-used cache of parsed files, bounded in bytes.

    Keys include the file's modification time and size, so an edited file is
    parsed again. Shared by all loaders (and their clones) in a process.
    """

    def __init__(self, max_bytes=64 * 2**20):
        self.max_bytes = max_bytes
        self._items = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            raw = self._items.get(key)
            if raw is not None:
                self._items.move_to_end(key)
            return raw

    def put(self, key, raw):
        size = raw_nbytes(raw)
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = raw
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, old = self._items.popitem(last=False)
                self._bytes -= raw_nbytes(old)

    def clear(self):
        with self._lock:
            self._items.clear()
            self._bytes = 0


_CACHE = _RawCache()


def _clip_name(item, row):
    """The file stem of a clip id: ``video10``, ``video10.webm``, ``10`` or a path."""
    if isinstance(item, (bool, np.bool_)):
        raise TypeError(f"X row {row}: expected a clip id or path, got {item!r}")
    if isinstance(item, numbers.Integral):
        return str(int(item))
    if isinstance(item, numbers.Real) and float(item).is_integer():
        return str(int(item))
    if isinstance(item, (str, os.PathLike)):
        name = Path(item).stem
        if name:
            return name
    raise TypeError(f"X row {row}: expected a clip id or path, got {item!r}")


def _as_ids(X):
    """Accept a 1-D sequence of ids or a single-column 2-D array / DataFrame."""
    if hasattr(X, "iloc") and getattr(X, "ndim", 1) == 2:
        if X.shape[1] != 1:
            raise ValueError(f"X must have one column of clip ids, got {X.shape[1]} columns")
        X = X.iloc[:, 0]
    if isinstance(X, (str, os.PathLike)):
        raise TypeError("X must be a sequence of clip ids or paths, not a single string")
    values = np.asarray(X, dtype=object)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise ValueError(f"X must be 1-D (one id per clip), got shape {values.shape}")
    if values.size == 0:
        raise ValueError("X is empty: no clip ids given")
    return list(values)


def _file_key(path):
    stat = os.stat(path)
    return (str(path), stat.st_mtime_ns, stat.st_size)



class PrecomputedFeatureLoader(TransformerMixin, BaseEstimator):
    """Turn clip ids or paths into descriptor vectors read from disk.

    Reads the descriptors shipped with MediaEval 2018 (``features/<kind>/``),
    folders of one ``.npy`` array per clip (e.g. the 2018 ``[8, 2048]`` files)
    and the cache written by :class:`skmem.CNNFeaturizer` (``cache_dir``).
    Files are parsed when needed, kept in a small in-memory cache (64 MiB,
    keyed by path, size and modification time) and parsed in parallel for
    large sets when ``n_jobs`` allows.

    Parameters
    ----------
    kind : {"C3D", "HMP", "LBP", "HOG", "InceptionV3", "ColorHistogram", \
"ORB", "aesthetics", "npy"}
        Descriptor family. Files are ``<root>/video<N>.txt`` for C3D, HMP and
        aesthetics (one per clip), ``<root>/video<N>-<k>.txt`` for the key-frame
        kinds, ``<root>/<id>.npy`` or ``<root>/<id>__<16 hex>.npy`` for ``npy``.
    root : str or Path
        Folder holding the files of this kind, or its parent ``features/``
        folder (then ``root/<kind>`` is used when it exists). For aesthetics,
        point at the ``..._mean`` or ``..._median`` folder.
    keyframes : tuple of int, default=(0, 56, 112)
        Key frames read for LBP, HOG, InceptionV3, ColorHistogram and ORB, in
        this order.
    aggregate : {"mean", "stack"}, default="mean"
        ``"mean"`` averages the key frames (npy: every axis but the last) into
        ``(n, D)``. ``"stack"`` keeps them: ``(n, K, D)`` for key-frame kinds,
        ``(n, 1, D)`` for one-file kinds, ``(n,) + shape`` for npy arrays
        (which must then share one shape).
    dim : int, optional
        Dimension of one key frame's vector. Sparse kinds: HMP 6,075 and
        InceptionV3 1,000 when None; ColorHistogram: bins per channel line,
        inferred at ``fit`` (largest index + 1) when None. Dense kinds (C3D,
        LBP, aesthetics, ORB rows): the expected length, inferred from the first
        file at ``fit`` when None; any other length is an error. HOG: the output
        length (see ``ragged``).
    ragged : {"resample", "pad", "histogram"}, default="resample"
        How HOG vectors, whose length depends on the frame size, become
        ``dim`` values: linear resampling at ``dim`` evenly spaced positions,
        zero-padding/truncation, or a normalised histogram of the values in
        ``dim`` bins over the value range seen at ``fit``. With ``dim=None``
        the length is the longest vector seen at ``fit`` (resample, pad) or
        32 bins (histogram).
    on_missing : {"raise", "zeros", "nan"}, default="raise"
        What to do when a clip has no file (or lacks one of its key-frame
        files): raise ``FileNotFoundError``, or fill its row with zeros / NaN
        and warn. Ids missing at ``fit`` are listed in ``missing_``. Malformed
        files always raise :class:`DescriptorFormatError`.
    n_jobs : int, optional
        Parallel parsing (joblib worker processes, each importing skmem once)
        when at least 64 files are not cached. Under
        ``joblib.parallel_config(backend="threading")`` threads are used instead.
    verbose : int, default=0
        Show a progress bar when > 0.

    Attributes
    ----------
    root_ : Path
        Folder the files are read from.
    dim_ : int
        Length of one key frame's vector (ColorHistogram: bins per channel).
    n_channels_ : int
        ColorHistogram only: histogram lines per file.
    value_range_ : tuple of float
        HOG with ``ragged="histogram"``: value range seen at fit.
    frame_shape_ : tuple of int
        npy only: shape of one clip's array seen at fit (1-D arrays as (1, D)).
    n_features_out_ : int
        Columns of the output's last axis.
    missing_ : list
        Ids whose files were absent at ``fit``.
    n_features_in_ : int
        Always 1 (one column of ids).

    Examples
    --------
    Route a multimodal DataFrame (one column of clip ids, one of captions)::

        from sklearn.compose import ColumnTransformer
        from sklearn.linear_model import Ridge
        from sklearn.pipeline import make_pipeline
        from skmem import PrecomputedFeatureLoader
        from skmem.text import CaptionVectorizer

        features = ColumnTransformer([
            ("c3d", PrecomputedFeatureLoader("C3D", "dev-set/features"), "video"),
            ("text", CaptionVectorizer(), "caption"),
        ])
        model = make_pipeline(features, Ridge()).fit(frame, frame["short_term"])
    """

    def __init__(
        self,
        kind,
        root,
        *,
        keyframes=(0, 56, 112),
        aggregate="mean",
        dim=None,
        ragged="resample",
        on_missing="raise",
        n_jobs=None,
        verbose=0,
    ):
        self.kind = kind
        self.root = root
        self.keyframes = keyframes
        self.aggregate = aggregate
        self.dim = dim
        self.ragged = ragged
        self.on_missing = on_missing
        self.n_jobs = n_jobs
        self.verbose = verbose

    # ------------------------------------------------------------------ setup
    def _check_params(self):
        check_choice(self.kind, "kind", tuple(_KINDS))
        check_choice(self.aggregate, "aggregate", ("mean", "stack"))
        check_choice(self.ragged, "ragged", ("resample", "pad", "histogram"))
        check_choice(self.on_missing, "on_missing", ("raise", "zeros", "nan"))
        check_positive_int(self.dim, "dim", allow_none=True)
        spec = _KINDS[self.kind]
        if spec.per_keyframe:
            frames = self.keyframes
            if (
                isinstance(frames, (str, bytes))
                or not hasattr(frames, "__len__")
                or len(frames) == 0
                or any(isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 0 for k in frames)
                or len(set(frames)) != len(frames)
            ):
                raise ValueError(
                    f"keyframes must be a non-empty sequence of distinct frame numbers >= 0, "
                    f"got {frames!r}"
                )
        root = Path(self.root)
        if not root.is_dir():
            raise FileNotFoundError(f"root {str(root)!r} is not a folder")
        if (root / self.kind).is_dir():
            root = root / self.kind
        return spec, root

    def _files(self, ids, spec, root):
        """Per clip: the list of its files, or None when one is missing."""
        files, missing = [], []
        if spec.fmt == "npy":
            index = self._npy_index(root)
        for row, item in enumerate(ids):
            name = _clip_name(item, row)
            if spec.fmt == "npy":
                candidates = [name] + ([f"video{int(name)}"] if name.isdigit() else [])
                found = next((index[c] for c in candidates if c in index), None)
                paths = [found] if found else None
                expected = root / f"{name}.npy"
            else:
                if name.isdigit():
                    name = f"video{int(name)}"
                if spec.per_keyframe:
                    paths = [root / f"{name}-{k}.txt" for k in self.keyframes]
                else:
                    paths = [root / f"{name}.txt"]
                absent = [p for p in paths if not p.is_file()]
                expected = absent[0] if absent else None
                paths = None if absent else paths
            if paths is None:
                if self.on_missing == "raise":
                    raise FileNotFoundError(
                        f"no {self.kind} descriptor for clip {item!r} (row {row}): "
                        f"{str(expected)!r} does not exist"
                    )
                missing.append(row)
            files.append(paths)
        return files, missing

    @staticmethod
    def _npy_index(root):
        """Map clip stem -> array file: ``<stem>.npy`` first, else the newest cache file."""
        plain, cached = {}, {}
        with os.scandir(root) as entries:
            for entry in entries:
                if not entry.name.endswith(".npy") or not entry.is_file():
                    continue
                match = _NPY_CACHE_NAME.match(entry.name)
                if match:
                    stem = match["stem"]
                    stamp = (entry.stat().st_mtime_ns, entry.name)
                    if stem not in cached or stamp > cached[stem][0]:
                        cached[stem] = (stamp, Path(entry.path))
                else:
                    plain[entry.name[: -len(".npy")]] = Path(entry.path)
        index = {stem: path for stem, (_, path) in cached.items()}
        index.update(plain)
        return index

    def _raws(self, files, spec):
        """Yield ``(path, raw)`` for every file, in order; cache misses are parsed."""
        fmt = _PARSE_FORMAT.get(spec.fmt, spec.fmt)
        flat = [p for paths in files if paths for p in paths]
        keys = [_file_key(p) for p in flat]
        hits = [_CACHE.get(k) for k in keys]
        todo = [p for p, hit in zip(flat, hits) if hit is None]
        n_jobs = self.n_jobs if len(todo) >= _PARALLEL_MIN_FILES else None
        if n_jobs in (None, 1):
            parsed = (parse_file(p, fmt, spec.sep) for p in todo)
        else:
            parsed = Parallel(n_jobs=n_jobs, return_as="generator")(
                delayed(parse_file)(p, fmt, spec.sep) for p in todo
            )
        with tqdm(total=len(todo), desc=f"{self.kind} files", disable=self.verbose <= 0) as bar:
            for path, key, raw in zip(flat, keys, hits):
                if raw is None:
                    raw = next(parsed)
                    _CACHE.put(key, raw)
                    bar.update()
                yield path, raw

    # -------------------------------------------------------------- learning
    def fit(self, X, y=None):
        """Locate and parse the files of ``X``; infer dimensions; record missing ids.

        Every file is validated here, so a malformed file fails at ``fit``.

        Parameters
        ----------
        X : sequence of clip ids or paths, or a one-column DataFrame
        y : ignored
        """
        spec, root = self._check_params()
        ids = _as_ids(X)
        files, missing = self._files(ids, spec, root)
        if len(missing) == len(ids):
            raise FileNotFoundError(
                f"none of the {len(ids)} clips has a {self.kind} file under {str(root)!r}"
            )
        self.root_ = root
        self.n_channels_ = None
        if spec.fmt == "npy":
            self.frame_shape_ = None
        self.dim_ = self.dim if self.dim is not None else spec.dim
        stats = {"longest": 0, "low": np.inf, "high": -np.inf, "max_index": spec.base - 1}
        for path, raw in self._raws(files, spec):
            self._learn(path, raw, spec, stats)
        if spec.fmt == "ragged":
            self.value_range_ = (stats["low"], stats["high"])
            if self.dim_ is None:
                self.dim_ = _HISTOGRAM_BINS if self.ragged == "histogram" else stats["longest"]
        elif spec.fmt == "channels" and self.dim_ is None:
            self.dim_ = stats["max_index"] - spec.base + 1
            if self.dim_ < 1:
                raise ValueError(f"the {self.kind} files under {str(root)!r} hold no histogram bins")
        self.dim_ = int(self.dim_)
        self.n_features_out_ = self.dim_ * (self.n_channels_ or 1)
        self.missing_ = [ids[row] for row in missing]
        self.n_features_in_ = 1
        self._warn_missing(self.missing_, "fit")
        return self

    def _learn(self, path, raw, spec, stats):
        """Update the fitted dimensions with one file and validate it."""
        if spec.fmt == "npy":
            if self.frame_shape_ is None:
                self.frame_shape_ = tuple(raw.shape)
                self.dim_ = raw.shape[-1] if self.dim_ is None else self.dim_
            self._npy_clip(raw, path)
        elif spec.fmt == "ragged":
            values = dense_vector(raw, path)
            stats["longest"] = max(stats["longest"], values.size)
            stats["low"] = min(stats["low"], float(values.min()))
            stats["high"] = max(stats["high"], float(values.max()))
        elif spec.fmt == "channels":
            if self.n_channels_ is None:
                self.n_channels_ = len(raw)
            if self.dim_ is not None:
                channels_vector(raw, path, self.dim_, self.n_channels_, spec.base)
                return
            if len(raw) != self.n_channels_:
                raise DescriptorFormatError(
                    path, f"has {len(raw)} histogram lines, expected {self.n_channels_}"
                )
            for number, (keys, _) in raw:
                if keys.size and keys.min() < spec.base:
                    raise DescriptorFormatError(
                        path, f"index {int(keys.min())} is below {spec.base}", number
                    )
                stats["max_index"] = max(stats["max_index"], int(keys.max(initial=-1)))
        else:
            if self.dim_ is None:
                self.dim_ = raw[0][1].size if spec.fmt == "rows" else dense_vector(raw, path).size
            self._vector(raw, path, spec)

    def _vector(self, raw, path, spec):
        if spec.fmt == "dense":
            return dense_vector(raw, path, self.dim_)
        if spec.fmt == "sparse":
            return sparse_vector(raw, path, self.dim_, spec.base)
        if spec.fmt == "channels":
            return channels_vector(raw, path, self.dim_, self.n_channels_, spec.base)
        if spec.fmt == "rows":
            return rows_vector(raw, path, self.dim_)
        values = dense_vector(raw, path)
        return ragged_vector(values, self.dim_, self.ragged, getattr(self, "value_range_", None))

    def _clip_shape(self, spec):
        if spec.fmt == "npy":
            return self.frame_shape_ if self.aggregate == "stack" else (self.dim_,)
        k = len(self.keyframes) if spec.per_keyframe else 1
        return (k, self.n_features_out_) if self.aggregate == "stack" else (self.n_features_out_,)

    def _npy_clip(self, array, path):
        if self.aggregate == "stack":
            if array.shape != self.frame_shape_:
                raise DescriptorFormatError(
                    path, f"has shape {array.shape}, expected {self.frame_shape_} (as at fit) "
                    "to stack; use aggregate='mean' for varying lengths"
                )
            return array
        if array.shape[-1] != self.dim_:
            raise DescriptorFormatError(path, f"has {array.shape[-1]} features, expected {self.dim_}")
        return array.reshape(-1, array.shape[-1]).mean(axis=0, dtype=np.float64)

    def _build(self, files, spec):
        shape = self._clip_shape(spec)
        fill = np.nan if self.on_missing == "nan" else 0.0
        out = np.full((len(files),) + shape, fill, dtype=np.float32)
        raws = self._raws(files, spec)
        for row, paths in enumerate(files):
            if paths is None:
                continue
            if spec.fmt == "npy":
                path, raw = next(raws)
                out[row] = self._npy_clip(raw, path)
                continue
            frames = [self._vector(raw, path, spec) for path, raw in (next(raws) for _ in paths)]
            out[row] = np.stack(frames) if self.aggregate == "stack" else np.mean(frames, axis=0)
        return out

    def _warn_missing(self, missing, stage):
        if missing:
            shown = ", ".join(repr(m) for m in missing[:5]) + (" ..." if len(missing) > 5 else "")
            warnings.warn(
                f"{len(missing)} clip(s) have no {self.kind} file at {stage} ({shown}); "
                f"their rows are filled with {self.on_missing}",
                UserWarning,
                stacklevel=3,
            )

    def transform(self, X):
        """Read the descriptors of ``X``.

        Returns
        -------
        features : ndarray of float32, shape (n, D) or (n, K, D)
        """
        check_is_fitted(self, "dim_")
        spec, _ = self._check_params()
        ids = _as_ids(X)
        files, missing = self._files(ids, spec, self.root_)
        out = self._build(files, spec)
        self._warn_missing([ids[row] for row in missing], "transform")
        return out

    def get_feature_names_out(self, input_features=None):
        """Names ``<kind>0 ... <kind>{D-1}`` of the output's last axis."""
        check_is_fitted(self, "dim_")
        prefix = self.kind.lower()
        return np.asarray([f"{prefix}{i}" for i in range(self.n_features_out_)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        tags.input_tags.string = True
        return tags
