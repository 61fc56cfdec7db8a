"""PrecomputedFeatureLoader: clip ids in, descriptor vectors read from disk out."""

import os
import warnings
from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from skmem._params import Interval, StrOptions
from skmem.features.precomputed.arrays import NpyFormat
from skmem.features.precomputed.ids import as_ids
from skmem.features.precomputed.matrix import MatrixFormat
from skmem.features.precomputed.reading import FileReader, ParsedFileCache
from skmem.features.precomputed.text import ChannelFormat, DenseFormat, RaggedFormat, RowFormat, SparseFormat

__all__ = ["KINDS", "PrecomputedFeatureLoader"]

#: The format family of each ``kind``, with the kind's own settings.
KINDS = {
    "C3D": DenseFormat,
    "HMP": partial(SparseFormat, dim=6075, base=1),
    "aesthetics": partial(DenseFormat, sep=","),
    "LBP": partial(DenseFormat, per_keyframe=True),
    "HOG": partial(RaggedFormat, per_keyframe=True),
    "InceptionV3": partial(SparseFormat, per_keyframe=True, dim=1000, base=0),
    "ColorHistogram": partial(ChannelFormat, per_keyframe=True, base=0),
    "ORB": partial(RowFormat, per_keyframe=True),
    "npy": NpyFormat,
    "matrix": MatrixFormat,
}


class PrecomputedFeatureLoader(TransformerMixin, BaseEstimator):
    """Turn clip ids or paths into descriptor vectors read from disk.

    Reads the descriptors shipped with MediaEval 2018 (``features/<kind>/``),
    folders of one ``.npy`` array per clip (e.g. the 2018 ``[8, 2048]`` files),
    the feature folders written by :class:`skmem.CNNFeaturizer`
    (``cache_dir``) and feature matrices shipped as one array plus an id list.
    Ids may be ``video10``, ``video10.webm``, ``10`` or a path; rows of ``X``
    are matched to files (or matrix rows) by that name. Files are parsed in
    parallel for large sets when ``n_jobs`` allows; ``fit_transform`` parses
    each file once.

    Parameters
    ----------
    kind : {"C3D", "HMP", "LBP", "HOG", "InceptionV3", "ColorHistogram", \
"ORB", "aesthetics", "npy", "matrix"}
        Descriptor family. Files are ``<root>/video<N>.txt`` for C3D, HMP and
        aesthetics (one per clip), ``<root>/video<N>-<k>.txt`` for the key-frame
        kinds, one ``.npy`` per clip for ``npy`` (see
        :func:`~skmem.features.precomputed.feature_index`), one array file for
        ``matrix``.
    root : str or path-like
        Folder holding the files of this kind, or its parent ``features/``
        folder (then ``root/<kind>`` is used when it exists). For aesthetics,
        point at the ``..._mean`` or ``..._median`` folder. For ``matrix``, the
        array file: ``.npy``, ``.npz`` holding one array, or text with one row
        of numbers per clip (``.csv``: comma-separated; else whitespace).
        Read again by every ``transform``, so a fitted loader can be pointed
        at the features of other clips with ``set_params(root=...)``.
    keyframes : sequence of int, default=(0, 56, 112)
        Key frames read for LBP, HOG, InceptionV3, ColorHistogram and ORB, in
        this order.
    aggregate : {"mean", "stack"}, default="mean"
        ``"mean"`` averages the key frames (npy, matrix: every axis but the
        last) into ``(n, D)``. ``"stack"`` keeps them: ``(n, K, D)`` for
        key-frame kinds, ``(n, 1, D)`` for one-file kinds and 2-D matrices,
        ``(n,) + shape`` for npy arrays (which must then share one shape) and
        rows of 3-D matrices.
    dim : int, optional
        Dimension of one key frame's vector. Sparse kinds: HMP 6,075 and
        InceptionV3 1,000 when None; ColorHistogram: bins per channel line,
        inferred at ``fit`` (largest index + 1) when None. Dense kinds (C3D,
        LBP, aesthetics, ORB rows, npy, matrix): the expected length, inferred
        from the first file at ``fit`` when None; any other length is an
        error. HOG: the output length (see ``ragged``).
    ragged : {"resample", "pad", "histogram"}, default="resample"
        How HOG vectors, whose length depends on the frame size, become
        ``dim`` values: linear resampling at ``dim`` evenly spaced positions,
        zero-padding/truncation, or a normalised histogram of the values in
        ``dim`` bins over the value range seen at ``fit``. With ``dim=None``
        the length is the longest vector seen at ``fit`` (resample, pad) or
        32 bins (histogram).
    ids_file : str or path-like, optional
        ``matrix`` only (and required there): the ids of the matrix's rows, in
        order: a text file with one id per line, or a CSV file (TSV for
        ``.tsv``) whose ``id_column`` holds them. Duplicate or empty ids are
        errors naming the file and line.
    id_column : str, optional
        The column of ``ids_file`` holding the ids; None reads one id per line.
    on_missing : {"raise", "zeros", "nan"}, default="raise"
        What to do when a clip has no file (a key-frame kind: lacks one of its
        files; matrix: is not listed): raise ``FileNotFoundError``, or fill its
        row with zeros / NaN and warn. Ids missing at ``fit`` are listed in
        ``missing_``. Malformed files always raise
        :class:`~skmem.features.descriptors.DescriptorFormatError`.
    cache_size : float, default=0
        Megabytes of parsed files this loader keeps in memory for later calls
        (least recently used dropped first; keyed by path, size, times and
        inode, so a rewritten file is parsed again). 0 keeps none. Each loader
        has its own cache: clones start empty, and it is not pickled. See
        :meth:`cache_info`.
    n_jobs : int, optional
        Parallel parsing (joblib worker processes, each importing skmem once)
        when at least 64 files are not cached. Under
        ``joblib.parallel_config(backend="threading")`` threads are used instead.
    verbose : int, default=0
        Show a progress bar when > 0.

    Attributes
    ----------
    root_ : Path
        Folder (matrix: file) read at ``fit``.
    dim_ : int
        Length of one key frame's vector (ColorHistogram: bins per channel).
    n_channels_ : int
        ColorHistogram only: histogram lines per file.
    value_range_ : tuple of float
        HOG only: value range seen at fit (the bins of ``ragged="histogram"``).
    frame_shape_ : tuple of int
        npy and matrix only: shape of one clip's array seen at fit (1-D
        arrays and rows of 2-D matrices as ``(1, D)``).
    feature_config_ : dict or None
        The feature configuration recorded in the folder read at ``fit`` (a
        :class:`skmem.CNNFeaturizer` cache, see
        :func:`skmem.features.store.read_config`); None for other folders and
        kinds. ``transform`` raises
        :class:`~skmem.features.store.FeatureConfigError`, naming both
        configurations, when ``root`` now records another one.
    format_ : DescriptorFormat
        The fitted reader of this kind's files.
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

    Read a matrix ``features.npy`` whose rows follow ``ids.txt``::

        loader = PrecomputedFeatureLoader("matrix", "features.npy", ids_file="ids.txt")
        X = loader.fit_transform(["video10.webm", "video12.webm"])
    """

    _parameter_constraints = {
        "kind": [StrOptions(set(KINDS))],
        "root": [str, os.PathLike],
        "keyframes": ["array-like"],
        "aggregate": [StrOptions({"mean", "stack"})],
        "dim": [Interval(Integral, 1, None, closed="left"), None],
        "ragged": [StrOptions({"resample", "pad", "histogram"})],
        "ids_file": [str, os.PathLike, None],
        "id_column": [str, None],
        "on_missing": [StrOptions({"raise", "zeros", "nan"})],
        "cache_size": [Interval(Real, 0, None, closed="left")],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        kind,
        root,
        *,
        keyframes=(0, 56, 112),
        aggregate="mean",
        dim=None,
        ragged="resample",
        ids_file=None,
        id_column=None,
        on_missing="raise",
        cache_size=0,
        n_jobs=None,
        verbose=0,
    ):
        self.kind = kind
        self.root = root
        self.keyframes = keyframes
        self.aggregate = aggregate
        self.dim = dim
        self.ragged = ragged
        self.ids_file = ids_file
        self.id_column = id_column
        self.on_missing = on_missing
        self.cache_size = cache_size
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _reader(self, ids, fitting):
        return FileReader(
            self.kind, ids, on_missing=self.on_missing, fitting=fitting, cache=self._cache(),
            n_jobs=self.n_jobs, verbose=self.verbose,
        )

    def _cache(self):
        """This loader's parsed-file cache (made on first use), or None when ``cache_size`` is 0."""
        max_bytes = int(self.cache_size * 2**20)
        cache = self.__dict__.get("_parsed_files")
        if max_bytes == 0:
            return None
        if cache is None or cache.max_bytes != max_bytes:
            cache = self._parsed_files = ParsedFileCache(max_bytes)
        return cache

    def _begin_fit(self, X):
        self._validate_params()
        ids = as_ids(X)
        fmt = KINDS[self.kind](self.kind, self.get_params(deep=False))
        root = fmt.resolve(self.root)
        return fmt, root, ids, self._reader(ids, fitting=True)

    def _end_fit(self, fmt, root, ids, reader):
        for name in [n for n in vars(self) if n.endswith("_") and not n.startswith("_")]:
            delattr(self, name)  # a refit of another kind keeps none of the old kind's attributes
        self.root_ = root
        self.format_ = fmt
        self.feature_config_ = None
        for name, value in fmt.attributes().items():
            setattr(self, name, value)
        self.dim_ = int(self.dim_)
        self.n_features_out_ = int(fmt.n_features_out)
        self.missing_ = [ids[row] for row in reader.missing_rows]
        self.n_features_in_ = 1
        self._warn_missing(self.missing_, "fit")

    def fit(self, X, y=None):
        """Locate and parse the files of ``X``; infer dimensions; record missing ids.

        Every file is validated here, so a malformed file fails at ``fit``.

        Parameters
        ----------
        X : sequence of clip ids or paths, or a one-column DataFrame
        y : ignored

        Returns
        -------
        self
        """
        fmt, root, ids, reader = self._begin_fit(X)
        fmt.fit(root, reader)
        self._end_fit(fmt, root, ids, reader)
        return self

    def fit_transform(self, X, y=None):
        """``fit(X).transform(X)``, parsing each file once.

        Returns
        -------
        features : ndarray of float32, shape (n, D) or (n, K, D)
        """
        fmt, root, ids, reader = self._begin_fit(X)
        out = fmt.fit_transform(root, reader)
        self._end_fit(fmt, root, ids, reader)
        return out

    def transform(self, X):
        """Read the descriptors of ``X`` from ``root``.

        Returns
        -------
        features : ndarray of float32, shape (n, D) or (n, K, D)
        """
        check_is_fitted(self, "format_")
        ids = as_ids(X)
        reader = self._reader(ids, fitting=False)
        out = self.format_.transform(self.format_.resolve(self.root), reader)
        self._warn_missing([ids[row] for row in reader.missing_rows], "transform")
        return out

    def cache_info(self):
        """Statistics of this loader's parsed-file cache, or None when ``cache_size`` is 0.

        Returns
        -------
        info : CacheInfo or None
            ``(hits, misses, files, nbytes, max_bytes)``.
        """
        cache = self._cache()
        return None if cache is None else cache.info()

    def _warn_missing(self, missing, stage):
        if missing:
            shown = ", ".join(repr(m) for m in missing[:5]) + (" ..." if len(missing) > 5 else "")
            warnings.warn(
                f"{len(missing)} clip(s) have no {self.kind} descriptor at {stage} ({shown}); "
                f"their rows are filled with {self.on_missing}",
                UserWarning,
                stacklevel=3,
            )

    def get_feature_names_out(self, input_features=None):
        """Names ``<kind>0 ... <kind>{D-1}`` of the output's last axis."""
        check_is_fitted(self, "format_")
        prefix = self.kind.lower()
        return np.asarray([f"{prefix}{i}" for i in range(self.n_features_out_)], dtype=object)

    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: the live loader keeps its cache
        state.pop("_parsed_files", None)
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        tags.input_tags.string = True
        return tags
