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

    A :class:`~skmem.features.cnn.CNNFeaturizer` gives the class scores of
    every frame (its ``"logits"`` output), with its own sampler, store and
    device: a clip already in its store is tagged without decoding, and one
    featurizer computing both its features and ``"logits"`` gives the
    features and the tags from one pass. The class probabilities are
    averaged over the clip's frames and the ``top_k`` most probable labels,
    in order, become the caption (``"egyptian cat, tabby, tiger cat"``).
    Averaging probabilities rather than counting per-frame votes keeps how
    confident the network is (a label that is second everywhere still ranks
    high) and stays stable with few frames, where votes tie or flip on one
    frame.

    This follows the caption-less half of a MediaEval 2018 system: the ten
    most relevant Places365 scene categories and scene attributes of a clip
    joined into a caption and fed to a text model.

    Parameters
    ----------
    featurizer : CNNFeaturizer or None, default=None
        The network and how it is fed (backbone, weights, sampler, store,
        device, ...). It must compute ``"logits"`` (as its ``layer`` or in
        ``extra_outputs``) and, with attributes, ``"pooled"``; its backbone
        must have a classifier (not ``"resmem"``). Torchvision weights bring
        their ImageNet labels (offline); a checkpoint needs ``labels``. A
        clone is fitted. None: ``CNNFeaturizer("resnet50",
        layer="logits")`` (torchvision's ImageNet weights, ``"DEFAULT"``;
        frames in, no store), with ``extra_outputs=("pooled",)`` when
        ``attribute_weights`` is given.
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

    Attributes
    ----------
    featurizer_ : CNNFeaturizer
        The fitted clone of ``featurizer``. A refit reuses it, so the
        network it has built is kept while backbone, weights and outputs
        stay the same.
    attribute_matrix_ : ndarray of shape (n_attributes, D) or None
    labels_ : list of str
        Class names, as words.
    attribute_labels_ : list of str or None
    report_ : ClipReport
        When the featurizer has a ``sampler``, or ``transform`` is given the
        frames of a :class:`~skmem.FrameSampler`: what the last ``transform``
        of clips met (the featurizer's :class:`~skmem.video.ClipReport`;
        clips that could not be decoded are captioned ``""``). The only
        attribute ``transform`` sets.

    Examples
    --------
    >>> from skimage.data import chelsea  # doctest: +SKIP
    >>> from skmem import CNNFeaturizer  # doctest: +SKIP
    >>> network = CNNFeaturizer("resmem_resnet152", layer="logits")  # doctest: +SKIP
    >>> TagCaptioner(network, top_k=3).fit_transform(chelsea()[None])  # doctest: +SKIP
    array(['egyptian cat, lynx, tiger cat'], dtype=object)
    """

    _parameter_constraints = {
        "featurizer": [HasMethods(["transform_outputs", "output_names", "fit", "get_params"]), None],
        "labels": [str, os.PathLike, None],
        "top_k": [Interval(numbers.Integral, 1, None, closed="left")],
        "min_probability": [Interval(numbers.Real, 0, 1, closed="both")],
        "repeat": [StrOptions({"none", "rank", "probability"})],
        "attribute_weights": [str, os.PathLike, None],
        "attribute_labels": [str, os.PathLike, None],
    }

    def __init__(
        self,
        featurizer=None,
        labels=None,
        *,
        top_k=10,
        min_probability=0.0,
        repeat="none",
        attribute_weights=None,
        attribute_labels=None,
    ):
        self.featurizer = featurizer
        self.labels = labels
        self.top_k = top_k
        self.min_probability = min_probability
        self.repeat = repeat
        self.attribute_weights = attribute_weights
        self.attribute_labels = attribute_labels

    def _outputs(self):
        """The featurizer outputs read: ``"logits"``, and ``"pooled"`` with attributes."""
        return ["logits"] + (["pooled"] if self.attribute_weights is not None else [])

    def _template(self):
        """``featurizer``, or the default one."""
        if self.featurizer is not None:
            return self.featurizer
        return CNNFeaturizer("resnet50", layer="logits", extra_outputs=tuple(self._outputs()[1:]))

    def _featurizer(self, template, fitted):
        """A fitted clone of ``template``; ``fitted`` (the last fit's) is reused, keeping its network."""
        computed = template.output_names()
        missing = [name for name in self._outputs() if name not in computed]
        if missing:
            raise ValueError(
                f"featurizer computes {computed}, not {missing}: give it "
                f"extra_outputs={tuple(template.extra_outputs) + tuple(missing)!r}"
            )
        featurizer = clone(template)
        if type(fitted) is type(featurizer):
            # same class: a refit keeps the network it built while backbone, weights and outputs match
            featurizer = fitted.set_params(**featurizer.get_params(deep=False))
        return featurizer.fit()

    def fit(self, X=None, y=None):
        """Check the settings and read the labels; no weights are read, nothing is learned."""
        self._validate_params()
        template = self._template()
        if get_backbone(template.backbone).head is None:
            raise ValueError(
                f"backbone={template.backbone!r} has no classifier to take labels from; "
                "use an ImageNet backbone or a Places365 checkpoint"
            )
        if (self.attribute_weights is None) != (self.attribute_labels is None):
            raise ValueError("attribute_weights and attribute_labels go together: give both or neither")
        featurizer = self._featurizer(template, getattr(self, "featurizer_", None))
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
            self.attribute_matrix_ = self._read_attribute_matrix(featurizer)
            path = os.path.abspath(self.attribute_labels)
            self.attribute_labels_ = _check_count(
                read_labels(path), len(self.attribute_matrix_), path, "attribute weight rows"
            )
        self.featurizer_, self.labels_ = featurizer, labels
        return self

    def _read_attribute_matrix(self, featurizer):
        n_features = featurizer.output_shapes_["pooled"][-1]
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
                f"for {featurizer.backbone}'s pooled features"
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
            Frames or images; the frames of a :class:`~skmem.FrameSampler`
            (streamed by the featurizer); paths (a list, or a DataFrame with
            a ``path`` column) when the featurizer has a ``sampler``.

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
