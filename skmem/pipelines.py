"""Ready-made estimators built from skmem and scikit-learn parts.

:func:`memorability_pipeline` is the multimodal preset: one call that returns
a strong, unfitted, fully inspectable scikit-learn estimator for a DataFrame
of captions and numeric features. :func:`make_model` gives the single-feature
models of the command line.
"""


import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import SVR

from skmem.features.pooling import TemporalPooling
from skmem.models.targets import AuxiliaryTargetRegressor

__all__ = [
    "AuxiliaryTargetRegressor",
    "make_model",
    "mean_over_locations",
    "memorability_pipeline",
    "per_block",
    "score_scaler",
    "signed_sqrt",
]

#: Ridge penalties tried by the early-fusion member (efficient leave-one-out).
RIDGE_ALPHAS = tuple(np.logspace(-2, 3, 11))


def signed_sqrt(X):
    """``sign(x) * sqrt(|x|)``: tames the long tail of detector scores and histograms."""
    return np.sign(X) * np.sqrt(np.abs(X))


def per_block(X):
    """Divide a standardised block by the square root of its width: rows of expected unit length."""
    return X / np.sqrt(X.shape[1])


def score_scaler():
    """Scale-robust transform of a block of score features (object/class scores, histograms).

    Signed square root (the Hellinger map for non-negative scores: a few very
    confident detections no longer dominate), per-column standardisation, then
    division by the square root of the block's width, so that every block of
    the early-fusion model has rows of expected unit length (as TF-IDF rows
    and sentence embeddings do) whatever its number of columns, while a clip
    with more or stronger detections keeps a longer row.
    """
    return make_pipeline(
        FunctionTransformer(signed_sqrt, feature_names_out="one-to-one"),
        StandardScaler(),
        FunctionTransformer(per_block, feature_names_out="one-to-one"),
    )


def _scaled_svr():
    """RBF SVR on a standardised target, so ``epsilon`` and ``C`` mean the same on every dataset."""
    return TransformedTargetRegressor(regressor=SVR(), transformer=StandardScaler())


def _kernel_ridge(random_state):
    """Nyström approximation of an RBF kernel, then a ridge whose penalty is chosen by leave-one-out.

    The kernel is ``exp(-0.5 * ||x - x'||^2)``. The preset's blocks have rows
    of expected unit length (see :func:`score_scaler`), where an SVR's
    default ``gamma="scale"`` is about 1; the wider kernel (0.5) ranked
    better for both the caption and the object-score members on generated
    data. The approximation by 500 landmark clips makes the fit linear in the
    number of clips where an SVR's is quadratic or worse.
    """
    return [
        ("nystroem", Nystroem(gamma=0.5, n_components=500, random_state=random_state)),
        ("ridgecv", RidgeCV(alphas=RIDGE_ALPHAS)),
    ]


def _text_blocks(text, embeddings, memory):
    from skmem.text import CaptionEmbedder, CaptionVectorizer

    blocks = [("words", CaptionVectorizer(), text)]
    if embeddings:
        blocks.append(("sentences", CaptionEmbedder(memory=memory), text))
    return blocks


def _feature_block(name, spec):
    """``(name, transformer, columns)`` for a ``features`` entry."""
    if isinstance(spec, tuple) and len(spec) == 2 and hasattr(spec[0], "fit"):
        transformer, columns = spec
    elif hasattr(spec, "fit"):
        transformer, columns = spec, "path"
    else:
        transformer, columns = None, list(spec) if isinstance(spec, (list, tuple, np.ndarray, pd.Index)) else []
        if not columns or not all(isinstance(c, str) for c in columns):
            raise ValueError(
                f"features[{name!r}] must be a list of column names, a transformer or a "
                f"(transformer, columns) pair; got {spec!r}"
            )
    # Pooled by the output's rank, whatever the transformer: frame or segment
    # features (n, T, ...) are averaged over time and locations, rows (n, D) kept.
    steps = [] if transformer is None else [clone(transformer), TemporalPooling("mean")]
    return name, make_pipeline(*steps, score_scaler()), columns


def memorability_pipeline(
    text="caption",
    features=None,
    *,
    embeddings=True,
    memory=None,
    auxiliary_target=None,
    auxiliary_weight=0.5,
    cv=5,
    random_state=0,
    n_jobs=None,
):
    """A strong multimodal memorability model for a DataFrame, unfitted.

    The design follows what won the MediaEval memorability tasks: caption
    features and deep visual/object features were the strongest single
    modalities, and late fusion of per-modality models beat every single
    model. Members, each readable and replaceable by name
    (``get_params``/``set_params``, e.g. ``early__ridgecv__alphas``):

    - ``early``: every modality side by side in one ridge regression (TF-IDF
      of caption words and word pairs, sentence embeddings, and each numeric
      block through :func:`score_scaler`), its penalty chosen by efficient
      leave-one-out;
    - ``text``: an RBF kernel ridge on the sentence embeddings (on TF-IDF
      when ``embeddings=False``);
    - one RBF kernel ridge per ``features`` entry, on that block alone.

    The MediaEval winners fitted an RBF SVR per modality; the kernel members
    here use the same RBF kernel through a Nyström approximation (500
    landmarks, ``nystroem__gamma``) and a ridge (``ridgecv__alphas``), which
    ranks as well on generated data and costs time linear in the number of
    clips. A :class:`~skmem.RankFusionRegressor` combines the members'
    rank-normalised predictions with non-negative weights chosen to maximise
    Spearman's ρ on out-of-fold predictions. As every member ends in a ridge
    whose penalty is chosen by efficient leave-one-out, and every step before
    it learns nothing from the target, the out-of-fold predictions are the
    ridges' exact leave-one-out predictions (``ridge_loo=True``): each member
    is fitted once per ``fit``. Feature steps that learn nothing (e.g. a
    :class:`~skmem.CNNFeaturizer`) run once per clip per ``fit`` and per
    ``predict``, however many members use them.

    Parameters
    ----------
    text : str, list of str or None, default="caption"
        Caption column(s) of ``X``; several columns (Memento10k's five
        captions) are read as several captions per clip. None: no text.
    features : dict or None
        Name -> a list of numeric columns, a transformer reading the
        ``"path"`` column (e.g. a :class:`~skmem.PrecomputedFeatureLoader` or a
        :class:`~skmem.CNNFeaturizer` with a ``sampler``), or a
        ``(transformer, columns)`` pair; a transformer's output is pooled by
        its rank (``(n, T, ...)`` averaged over frames or segments and
        locations, ``(n, D)`` kept). The
        transformers must not learn from the target: the members' out-of-fold
        predictions are the leave-one-out predictions of the ridges after them.
    embeddings : bool, default=True
        Add sentence embeddings of the captions (needs the ``text`` extra).
    memory : str, path-like, joblib.Memory or None
        Passed to :class:`~skmem.text.CaptionEmbedder`: each caption is embedded
        once across folds, searches and reruns.
    auxiliary_target : str or None
        A column of ``X`` holding a second, less noisy target used in
        training only, e.g. ``"short_term"`` when fitting long-term
        memorability (see :class:`AuxiliaryTargetRegressor`).
    auxiliary_weight : float, default=0.5
        Weight of the auxiliary target in the training target.
    cv : int or splitter, default=5
        Folds of the fusion's out-of-fold predictions for members that do not
        end in a ridge (after ``set_params`` replaced one).
    random_state : int, default=0
        Seeds the fusion folds and the Nyström landmarks.
    n_jobs : int or None
        Members (and folds) fitted in parallel by the fusion.

    Returns
    -------
    RankFusionRegressor, or AuxiliaryTargetRegressor around it

    Examples
    --------
    >>> from skmem.pipelines import memorability_pipeline
    >>> model = memorability_pipeline(
    ...     "caption", {"objects": [f"obj_{i}" for i in range(80)]}, embeddings=False)
    >>> [name for name, _ in model.estimators]
    ['early', 'text', 'objects']
    """
    from skmem.models.fusion import RankFusionRegressor

    if text is None and not features:
        raise ValueError("memorability_pipeline needs text columns, features, or both")
    text_blocks = _text_blocks(text, embeddings, memory) if text is not None else []
    feature_blocks = [_feature_block(name, spec) for name, spec in (features or {}).items()]
    reserved = {"early", "text"} & {name for name, _, _ in feature_blocks}
    if reserved:
        raise ValueError(f"features: the names {sorted(reserved)} are reserved for the preset's own members")
    early = Pipeline(
        [
            ("features", ColumnTransformer(text_blocks + feature_blocks)),
            ("ridgecv", RidgeCV(alphas=RIDGE_ALPHAS)),
        ]
    )
    members = [("early", early)]
    if text_blocks:
        members.append(("text", Pipeline([("features", ColumnTransformer([text_blocks[-1]]))] + _kernel_ridge(random_state))))
    for block in feature_blocks:
        members.append((block[0], Pipeline([("features", ColumnTransformer([block]))] + _kernel_ridge(random_state))))
    model = RankFusionRegressor(members, cv=cv, ridge_loo=True, random_state=random_state, n_jobs=n_jobs)
    if auxiliary_target is None:
        return model
    return AuxiliaryTargetRegressor(model, column=auxiliary_target, weight=auxiliary_weight)


def mean_over_locations(X):
    """``(n, T, L, C)`` spatial features to ``(n, T, C)`` (used before sequence models)."""
    return X.mean(axis=2)


def make_model(name, ndim, *, random_state=0, device="auto"):
    """The model ``name`` for features of rank ``ndim``.

    Parameters
    ----------
    name : {"ridge", "svr", "lstm", "amnet", "pairwise"}
        ``ridge`` and ``svr`` pool the frames (mean), standardise and regress
        (the SVR on a standardised target, so that its ``epsilon`` fits
        memorability's narrow spread); the others are the deep sequence models.
    ndim : {3, 4}
        Rank of the features: ``(n, T, D)`` or spatial ``(n, T, L, C)``
        (averaged over locations for every model but ``amnet``).
    random_state : int, default=0
        Seed of the deep models.
    device : str, default="auto"
        Device of the deep models.
    """
    from skmem.models import AMNetRegressor, LSTMRegressor, PairwiseRanker

    if name in ("ridge", "svr"):
        return make_pipeline(TemporalPooling("mean"), StandardScaler(), Ridge() if name == "ridge" else _scaled_svr())
    deep = {"lstm": LSTMRegressor, "amnet": AMNetRegressor, "pairwise": PairwiseRanker}[name]
    model = deep(random_state=random_state, device=device)
    if ndim == 4 and name != "amnet":
        return make_pipeline(FunctionTransformer(mean_over_locations), model)
    return model
