"""The preset catalogue: ready-made estimators built from skmem and scikit-learn parts.

:data:`PRESETS` maps each name to a small function of an
:class:`InputDescription` (the rank of the feature arrays, a featurizer that
makes them, the text and feature columns of a DataFrame, an auxiliary
target); :func:`make_model` builds one, unfitted and fully inspectable, with
an optional final estimator of the user's. The command line's model list,
``skmem demo`` and the documentation's examples all come from here, so a
preset changes in this file alone. :func:`memorability_pipeline` is the
multimodal preset for a DataFrame of captions and numeric features.
"""


import numbers
from dataclasses import dataclass, field

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
    "AUXILIARY_TARGETS",
    "PRESETS",
    "AuxiliaryTargetRegressor",
    "InputDescription",
    "describe_input",
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
    estimator=None,
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
    estimator : regressor, optional
        Replaces the kernel ridge of the per-modality members (step
        ``regressor``), e.g. the winners' ``SVR``; such members are then
        cross-validated on ``cv`` for the fusion.
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
    def member(blocks):
        regressor = _kernel_ridge(random_state) if estimator is None else [("regressor", clone(estimator))]
        return Pipeline([("features", ColumnTransformer(blocks))] + regressor)

    members = [("early", early)]
    if text_blocks:
        members.append(("text", member([text_blocks[-1]])))
    members += [(block[0], member([block])) for block in feature_blocks]
    model = RankFusionRegressor(members, cv=cv, ridge_loo=True, random_state=random_state, n_jobs=n_jobs)
    if auxiliary_target is None:
        return model
    return AuxiliaryTargetRegressor(model, column=auxiliary_target, weight=auxiliary_weight)


def mean_over_locations(X):
    """``(n, T, L, C)`` spatial features to ``(n, T, C)`` (before sequence models); other ranks unchanged."""
    X = np.asarray(X)
    return X.mean(axis=2) if X.ndim == 4 else X


# -- the catalogue -------------------------------------------------------------------------

#: Target -> the less noisy target trained with it by default. Long-term scores
#: rest on fewer annotations per clip; short-term-trained models rank them about
#: as well (MediaEval 2018-2019), and blending both raised long-term ρ on the
#: MediaEval 2018 dev set.
AUXILIARY_TARGETS = {"long_term": "short_term"}


@dataclass(frozen=True)
class InputDescription:
    """What a preset of :data:`PRESETS` needs to know of its input.

    Attributes
    ----------
    rank : int or None
        Rank of the feature arrays: 2 for ``(n, D)``, 3 for frame or segment
        features ``(n, T, D)``, 4 for spatial ones ``(n, T, L, C)``; None when
        unknown until they are computed (a ``featurizer``) or for a DataFrame.
    featurizer : transformer or None
        Applied first to the input (e.g. a :class:`~skmem.CNNFeaturizer`
        with a ``sampler``, reading clip paths).
    text : tuple of str
        Caption columns of a DataFrame input.
    features : dict
        Numeric blocks of a DataFrame input, as ``features`` of
        :func:`memorability_pipeline`.
    auxiliary : str or None
        Name of an auxiliary target to train with (``"short_term"`` when
        fitting long-term memorability): the preset is then wrapped in an
        :class:`~skmem.AuxiliaryTargetRegressor`, which reads it from that
        column of a DataFrame ``X`` or from ``fit(..., auxiliary=...)``.
    """

    rank: int = None
    featurizer: object = None
    text: tuple = ()
    features: dict = field(default_factory=dict)
    auxiliary: str = None


def describe_input(X=None, *, text=(), features=None, featurizer=None, target=None, auxiliary="auto"):
    """An :class:`InputDescription` of ``X`` for :func:`make_model`.

    Parameters
    ----------
    X : ndarray, DataFrame, clip paths or None
        A feature array (rank 2 to 4) gives its rank; clip paths or frames
        need a ``featurizer``; a DataFrame is read through ``text`` and
        ``features``.
    text : str or sequence of str, default=()
        Caption columns of a DataFrame ``X``.
    features : dict, optional
        Numeric blocks of a DataFrame ``X`` (see :func:`memorability_pipeline`).
    featurizer : transformer, optional
        Makes the features from ``X`` (clip paths, frames).
    target : str, optional
        The target being fitted (``"short_term"`` or ``"long_term"``).
    auxiliary : "auto", str or None, default="auto"
        ``"auto"``: the target :data:`AUXILIARY_TARGETS` pairs with
        ``target`` (``"short_term"`` for ``"long_term"``) when the DataFrame
        ``X`` has that column. None: no auxiliary target. A name: that
        target, from the column of ``X`` or given to ``fit``.
    """
    if auxiliary == "auto":
        auxiliary = AUXILIARY_TARGETS.get(target)
        auxiliary = auxiliary if auxiliary in getattr(X, "columns", ()) else None
    rank = None
    if featurizer is None and X is not None and not hasattr(X, "columns"):
        rank = int(X.ndim) if hasattr(X, "ndim") else int(np.ndim(X))  # never reads lazy frames
        if rank < 2 or rank > 4:
            what = "clip paths" if rank < 2 else "frames"
            raise ValueError(
                f"X of rank {rank} ({what}?) is not features: give the featurizer that makes them (featurizer=...)"
            )
    return InputDescription(
        rank=rank,
        featurizer=featurizer,
        text=(text,) if isinstance(text, str) else tuple(text or ()),
        features=dict(features or {}),
        auxiliary=auxiliary,
    )


def _head(description):
    return [] if description.featurizer is None else [clone(description.featurizer)]


def _pooled(description, final):
    """Features pooled over frames (and locations) by their rank, standardised, then ``final``."""
    pool = [] if description.rank == 2 else [TemporalPooling("mean")]
    return make_pipeline(*_head(description), *pool, StandardScaler(), final)


def _sequences(description, final, *, spatial=False):
    """Frame features to ``final``, a sequence model (averaged over locations unless it reads them)."""
    if description.rank == 2:
        raise ValueError(f"{type(final).__name__} needs frame features (n, T, D); the input has rank 2")
    steps = _head(description)
    if not spatial and description.rank != 3:
        steps.append(FunctionTransformer(mean_over_locations))
    return make_pipeline(*steps, final) if steps else final


def _ridge(description, estimator, *, random_state, device):
    return _pooled(description, Ridge() if estimator is None else estimator)


def _svr(description, estimator, *, random_state, device):
    return _pooled(description, _scaled_svr() if estimator is None else estimator)


def _deep(kind, spatial=False):
    def preset(description, estimator, *, random_state, device):
        from skmem import models

        if estimator is None:
            estimator = getattr(models, kind)(random_state=random_state, device=device)
        return _sequences(description, estimator, spatial=spatial)

    preset.__doc__ = f"Frame features into a :class:`~skmem.{kind}`."
    return preset


def _multimodal(description, estimator, *, random_state, device, **options):
    if description.featurizer is not None:
        raise ValueError("the multimodal preset reads DataFrame columns: give its featurizers in features")
    return memorability_pipeline(
        list(description.text) or None, description.features, estimator=estimator, random_state=random_state, **options
    )


#: The presets by name: ``name -> function(description, estimator, *, random_state, device, **options)``.
#: ``ridge`` and ``svr`` pool the frames (mean), standardise and regress (the
#: SVR on a standardised target, so that its ``epsilon`` fits memorability's
#: narrow spread); ``lstm``, ``amnet`` and ``pairwise`` are the deep sequence
#: models (spatial features averaged over locations for all but ``amnet``);
#: ``multimodal`` is :func:`memorability_pipeline` over the text and feature
#: columns of a DataFrame.
PRESETS = {
    "ridge": _ridge,
    "svr": _svr,
    "lstm": _deep("LSTMRegressor"),
    "amnet": _deep("AMNetRegressor", spatial=True),
    "pairwise": _deep("PairwiseRanker"),
    "multimodal": _multimodal,
}


def make_model(name, data=None, *, estimator=None, auxiliary_weight=0.5, random_state=0, device="auto", **options):
    """The preset ``name`` for the input ``data``, unfitted.

    Parameters
    ----------
    name : str
        A key of :data:`PRESETS`.
    data : InputDescription, int, array-like, DataFrame or None
        The input, described (:func:`describe_input`), as the rank of its
        feature arrays, or itself (described with the defaults).
    estimator : regressor, optional
        Replaces the preset's final regressor: after pooling and scaling
        (``ridge``, ``svr``), after the frame features (sequence presets),
        or in each per-modality member (``multimodal``).
    auxiliary_weight : float, default=0.5
        Weight of the auxiliary target, when the description names one.
    random_state : int, default=0
    device : str, default="auto"
        Device of the deep models.
    **options
        Passed to the preset's function (``multimodal``: the keyword
        arguments of :func:`memorability_pipeline`, e.g. ``embeddings``).

    Examples
    --------
    >>> from skmem.pipelines import describe_input, make_model
    >>> make_model("ridge", 3)
    Pipeline(steps=[('temporalpooling', TemporalPooling()),
                    ('standardscaler', StandardScaler()), ('ridge', Ridge())])
    """
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}")
    if isinstance(data, InputDescription):
        description = data
    elif isinstance(data, numbers.Integral):
        description = InputDescription(rank=int(data))
    else:
        description = describe_input(data)
    model = PRESETS[name](description, estimator, random_state=random_state, device=device, **options)
    if description.auxiliary is None:
        return model
    return AuxiliaryTargetRegressor(model, column=description.auxiliary, weight=auxiliary_weight)
