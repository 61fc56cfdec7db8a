"""Captions for clips that have none: :class:`TagCaptioner`.

A classification backbone (ImageNet objects, or Places365 scenes from a
checkpoint and its category file) looks at every sampled frame; the labels
it is most confident about, over the whole clip, become a caption that
:class:`~skmem.text.CaptionVectorizer` or :class:`~skmem.text.CaptionEmbedder`
reads like any other.
"""

import numbers
import os
import re

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted

from skmem._params import HasMethods, Interval, StrOptions
from skmem.features.backbones import get_backbone
from skmem.features.cnn import CNNFeaturizer
from skmem.video import SampledFrames, as_paths

__all__ = ["TagCaptioner", "read_labels"]

_INDEXED_LINE = re.compile(r"^(?P<name>.+?)\s+(?P<index>\d+)$")
_PLACES_PREFIX = re.compile(r"^/[a-z]/")
_SEPARATORS = re.compile(r"[_/\s]+")


def label_words(name):
    """A class name as plain lower-case words.

    >>> label_words("/a/apartment_building/outdoor"), label_words("Egyptian cat")
    ('apartment building outdoor', 'egyptian cat')
    """
    return _SEPARATORS.sub(" ", _PLACES_PREFIX.sub("", name.strip())).strip().lower()


def read_labels(path):
    """Class names of a label file, in class order, as plain words.

    One name per line, or Places365's ``/a/airfield 0`` (name, then the class
    index; lines may come in any order). Empty lines are skipped.

    Raises
    ------
    FileNotFoundError
        The file is missing (named in the message).
    ValueError
        Indexed lines that do not number the classes ``0 .. n-1`` once each.
    """
    path = os.path.abspath(os.fspath(path))
    if not os.path.isfile(path):
        raise FileNotFoundError(f"label file not found: {path}")
    with open(path, encoding="utf-8") as fh:
        lines = [line.strip() for line in fh if line.strip()]
    matches = [_INDEXED_LINE.match(line) for line in lines]
    if lines and all(matches):
        indices = [int(m["index"]) for m in matches]
        if sorted(indices) != list(range(len(lines))):
            raise ValueError(f"{path}: class indices must number 0 .. {len(lines) - 1} once each")
        names = [None] * len(lines)
        for m, index in zip(matches, indices):
            names[index] = m["name"]
    else:
        names = lines
    return [label_words(name) for name in names]


def _check_count(labels, expected, path, what):
    if len(labels) != expected:
        raise ValueError(f"{path}: {len(labels)} labels for {expected} {what}")
    return labels


class TagCaptioner(TransformerMixin, BaseEstimator):
    """Caption each clip with the labels a classification network sees in it.

    Every frame goes through the backbone (a
    :class:`~skmem.features.cnn.CNNFeaturizer` with ``layer="logits"``, so
    sampling, streaming and the per-clip store work the same), or the class
    scores of a given ``featurizer`` are reused (one decode and one forward
    pass give its features and the tags); its class probabilities are averaged over
    the clip's frames and the ``top_k`` most probable labels, in order, become
    the caption (``"egyptian cat, tabby, tiger cat"``). Averaging
    probabilities rather than counting per-frame votes keeps how confident the
    network is (a label that is second everywhere still ranks high) and stays
    stable with few frames, where votes tie or flip on one frame.

    This follows the caption-less half of a MediaEval 2018 system: the ten
    most relevant Places365 scene categories and scene attributes of a clip
    joined into a caption and fed to a text model.

    Parameters
    ----------
    backbone : str, default="resnet50"
        A classification backbone of :class:`CNNFeaturizer` (not ``"resmem"``).
    weights : str, path-like or None, default="DEFAULT"
        As in :class:`CNNFeaturizer`: torchvision weights (ImageNet labels
        come with them, offline), ``"DEFAULT"`` for ``resmem_resnet152``
        (ImageNet), a checkpoint (needs ``labels``) or None (random weights;
        ImageNet names unless ``labels`` is given).
    labels : str, path-like or None, default=None
        Label file, one class per line: a name, or Places365's
        ``/a/airfield 0`` (``categories_places365.txt``). Needed for a
        checkpoint; overrides the ImageNet names otherwise.
    top_k : int, default=10
        Labels per caption.
    min_probability : float, default=0.0
        Drop labels whose mean probability is below this floor.
    repeat : {"none", "rank", "probability"}, default="none"
        Each label once; or repeated so that term counts carry the ranking:
        ``top_k - rank`` times, or ``round(top_k * p / p_top)`` times (at
        least once). Attributes follow their rank in both repeated forms.
    attribute_weights : str, path-like or None, default=None
        A ``.npy`` matrix ``(n_attributes, D)`` mapping the pooled features
        to scene-attribute responses (Places365's
        ``W_sceneattribute_wideresnet18.npy``); needs ``attribute_labels``.
        The ``top_k`` attributes of the clip's mean features follow the class
        labels.
    attribute_labels : str, path-like or None, default=None
        Attribute names, one per line (``labels_sunattribute.txt``).
    sampler : FrameSampler or None, default=None
        When given, ``transform`` takes clip paths. Without one it also takes
        the frames of a :class:`~skmem.FrameSampler` (e.g. after one in a
        pipeline), streamed as with this sampler (see :class:`CNNFeaturizer`).
    cache_dir : str, path-like or None, default=None
        Per-clip store of the class scores (needs clips: ``sampler``, or the
        frames of a ``FrameSampler``; see
        :mod:`skmem.features.store`): a clip already there is tagged without
        building the network. With attributes, the pooled features are
        stored in the same entries.
    featurizer : CNNFeaturizer or None, default=None
        Take the class scores (its ``"logits"`` output: ``layer`` or
        ``extra_outputs``) and, with attributes, the pooled features
        (``"pooled"``) from a clone of this featurizer, with its sampler and
        store, instead of a featurizer of its own: a clip it has stored is
        tagged from its store, without decoding. ``backbone``, ``weights``,
        ``sampler``, ``cache_dir``, ``batch_size``, ``device``,
        ``n_workers`` and ``random_state`` are then its own, and the ones
        given here are ignored.
    batch_size : int or "auto", default="auto"
    device : str, default="auto"
    n_workers : int or "auto", default="auto"
        Decoding threads (see :class:`CNNFeaturizer`).
    random_state : int or None, default=None
        Seed of the random initialisation when ``weights=None``.
    verbose : int, default=0

    Attributes
    ----------
    featurizer_ : CNNFeaturizer
        The fitted featurizer of the class scores (``"logits"``) and, with
        attributes, of the pooled features (``"pooled"``), from one pass.
    attribute_matrix_ : ndarray of shape (n_attributes, D) or None
    labels_ : list of str
        Class names, as words.
    attribute_labels_ : list of str or None
    report_ : ClipReport
        With a ``sampler`` or the frames of a ``FrameSampler``: what the
        last ``transform`` of clips met (the featurizer's
        :class:`~skmem.video.ClipReport`; clips that could not be decoded
        are captioned ``""``). The only attribute ``transform`` sets.

    Examples
    --------
    >>> from skimage.data import chelsea  # doctest: +SKIP
    >>> TagCaptioner("resmem_resnet152", top_k=3).fit_transform(chelsea()[None])  # doctest: +SKIP
    array(['egyptian cat, lynx, tiger cat'], dtype=object)
    """

    _parameter_constraints = {
        "backbone": [str],
        "weights": [str, os.PathLike, None],
        "labels": [str, os.PathLike, None],
        "top_k": [Interval(numbers.Integral, 1, None, closed="left")],
        "min_probability": [Interval(numbers.Real, 0, 1, closed="both")],
        "repeat": [StrOptions({"none", "rank", "probability"})],
        "attribute_weights": [str, os.PathLike, None],
        "attribute_labels": [str, os.PathLike, None],
        "sampler": [HasMethods(["sample_clip"]), None],
        "cache_dir": [str, os.PathLike, None],
        "featurizer": [HasMethods(["transform_outputs", "fit"]), None],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "device": [str],
        "n_workers": [Interval(numbers.Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "random_state": [Interval(numbers.Integral, 0, None, closed="left"), None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        backbone="resnet50",
        weights="DEFAULT",
        labels=None,
        *,
        top_k=10,
        min_probability=0.0,
        repeat="none",
        attribute_weights=None,
        attribute_labels=None,
        sampler=None,
        cache_dir=None,
        featurizer=None,
        batch_size="auto",
        device="auto",
        n_workers="auto",
        random_state=None,
        verbose=0,
    ):
        self.backbone = backbone
        self.weights = weights
        self.labels = labels
        self.top_k = top_k
        self.min_probability = min_probability
        self.repeat = repeat
        self.attribute_weights = attribute_weights
        self.attribute_labels = attribute_labels
        self.sampler = sampler
        self.cache_dir = cache_dir
        self.featurizer = featurizer
        self.batch_size = batch_size
        self.device = device
        self.n_workers = n_workers
        self.random_state = random_state
        self.verbose = verbose

    def _featurizer(self, fitted):
        """The fitted featurizer of the class scores (and pooled features, with attributes)."""
        outputs = ["logits"] + (["pooled"] if self.attribute_weights is not None else [])
        if self.featurizer is not None:
            featurizer = clone(self.featurizer).fit()
            missing = [name for name in outputs if name not in featurizer.outputs_]
            if missing:
                raise ValueError(
                    f"featurizer computes {featurizer.outputs_}, not {missing}: give it "
                    f"extra_outputs={tuple(featurizer.extra_outputs) + tuple(missing)!r}"
                )
            return featurizer
        params = dict(
            backbone=self.backbone,
            weights=self.weights,
            layer="logits",
            extra_outputs=tuple(outputs[1:]),
            batch_size=self.batch_size,
            device=self.device,
            sampler=self.sampler,
            cache_dir=self.cache_dir,
            n_workers=self.n_workers,
            random_state=self.random_state,
            verbose=self.verbose,
        )
        featurizer = CNNFeaturizer(**params) if fitted is None else fitted.set_params(**params)
        return featurizer.fit()

    def fit(self, X=None, y=None):
        """Check the settings and read the labels; no weights are read, nothing is learned."""
        self._validate_params()
        backbone = self.backbone if self.featurizer is None else self.featurizer.backbone
        if get_backbone(backbone).head is None:
            raise ValueError(
                f"backbone={backbone!r} has no classifier to take labels from; "
                "use an ImageNet backbone or a Places365 checkpoint"
            )
        if (self.attribute_weights is None) != (self.attribute_labels is None):
            raise ValueError("attribute_weights and attribute_labels go together: give both or neither")
        featurizer = self._featurizer(getattr(self, "featurizer_", None))
        n_classes = featurizer.n_classes_
        if self.labels is not None:
            path = os.path.abspath(self.labels)
            labels = _check_count(read_labels(path), n_classes, path, "classes")
        elif featurizer.weights_id_.startswith("file:"):
            raise ValueError(
                f"weights={os.fspath(featurizer.weights)!r} is a checkpoint of a {n_classes}-class network: "
                "pass labels=<its label file> (e.g. categories_places365.txt)"
            )
        else:
            names = featurizer.backbone_spec_.categories()
            labels = _check_count([label_words(n) for n in names], n_classes, "ImageNet categories", "classes")
        self.attribute_matrix_ = self.attribute_labels_ = None
        if self.attribute_weights is not None:
            self.attribute_matrix_ = self._read_attribute_matrix(featurizer.output_shapes_["pooled"][-1])
            path = os.path.abspath(self.attribute_labels)
            self.attribute_labels_ = _check_count(
                read_labels(path), len(self.attribute_matrix_), path, "attribute weight rows"
            )
        self.featurizer_, self.labels_ = featurizer, labels
        return self

    def _read_attribute_matrix(self, n_features):
        path = os.path.abspath(self.attribute_weights)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"attribute weights file not found: {path}")
        try:
            matrix = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: not a readable .npy matrix ({exc})") from exc
        if matrix.ndim != 2 or matrix.shape[1] != n_features:
            raise ValueError(
                f"{path}: attribute weights of shape {matrix.shape}; expected (n_attributes, {n_features}) "
                f"for {self.backbone}'s pooled features"
            )
        return matrix.astype(np.float32)

    def _per_frame(self, X):
        """``{output: (n, T, D)}`` of the featurizer, from one pass (images count as one frame)."""
        outputs = self.featurizer_.transform_outputs(X)
        return {name: out[:, None] if out.ndim == 2 else out for name, out in outputs.items()}

    @staticmethod
    def _probabilities(logits):
        return torch.softmax(torch.from_numpy(logits), dim=-1).mean(dim=1).numpy()

    def tag_probabilities(self, X):
        """Class probabilities averaged over each clip's frames, ``(n, n_classes)``."""
        check_is_fitted(self, "labels_")
        return self._probabilities(self._per_frame(X)["logits"])

    def transform(self, X):
        """One caption per clip.

        Parameters
        ----------
        X : ndarray of shape (n, T, H, W, 3) or (n, H, W, 3), uint8; SampledFrames; or clip paths
            Frames or images; the frames of a :class:`~skmem.FrameSampler`;
            with a ``sampler``, paths (a list, or a DataFrame with a ``path``
            column).

        Returns
        -------
        captions : ndarray of shape (n,), dtype object
            Comma-separated labels, most probable first (``""`` for a clip
            that failed to decode).
        """
        check_is_fitted(self, "labels_")
        outputs = self._per_frame(X)
        probabilities = self._probabilities(outputs["logits"])
        failed = np.zeros(len(probabilities), bool)
        if self.featurizer_.sampler is not None or isinstance(X, SampledFrames):
            self.report_ = self.featurizer_.report_
            paths = X.paths if isinstance(X, SampledFrames) else as_paths(X)
            failed = np.isin(paths, self.report_.failed_paths)
        attributes = None
        if self.attribute_matrix_ is not None:
            attributes = outputs["pooled"].mean(axis=1) @ self.attribute_matrix_.T
        captions = np.empty(len(probabilities), dtype=object)
        for i, scores in enumerate(probabilities):
            words = [] if failed[i] else self._words(scores, self.labels_, floor=self.min_probability)
            if attributes is not None and not failed[i]:
                words += self._words(attributes[i], self.attribute_labels_, floor=None, by_rank=True)
            captions[i] = ", ".join(words)
        return captions

    def _words(self, scores, names, floor, by_rank=False):
        top = np.argsort(-scores, kind="stable")[: self.top_k]
        if floor is not None:
            top = top[scores[top] >= floor]
        if self.repeat == "none" or len(top) == 0:
            times = np.ones(len(top), dtype=int)
        elif self.repeat == "rank" or by_rank:
            times = self.top_k - np.arange(len(top))
        else:
            times = np.maximum(1, np.rint(self.top_k * scores[top] / scores[top[0]]).astype(int))
        return [names[k] for k, n in zip(top, times) for _ in range(n)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags
