"""The MediaEval 2018 text descriptor families: dense, sparse, channels, rows and ragged."""

import numbers

import numpy as np

from skmem._params import InvalidParameterError
from skmem.features.descriptors import (
    DescriptorFormatError,
    channels_vector,
    dense_vector,
    parse_file,
    ragged_vector,
    rows_vector,
    sparse_vector,
)
from skmem.features.precomputed.base import FileFormat

__all__ = ["ChannelFormat", "DenseFormat", "RaggedFormat", "RowFormat", "SparseFormat", "TextFormat"]

#: Histogram bins of ``ragged="histogram"`` when ``dim`` is None.
HISTOGRAM_BINS = 32


def _keyframes(value):
    frames = list(value)
    if (
        not frames
        or any(isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral) or k < 0 for k in frames)
        or len(set(frames)) != len(frames)
    ):
        raise InvalidParameterError(
            "The 'keyframes' parameter of PrecomputedFeatureLoader must be a non-empty sequence of "
            f"distinct frame numbers >= 0. Got {value!r} instead."
        )
    return tuple(int(k) for k in frames)


class TextFormat(FileFormat):
    """Text files ``<root>/<clip>.txt``, or ``<root>/<clip>-<k>.txt`` per key frame.

    A clip's row is the mean of its key frames' vectors, or their stack
    (``aggregate="stack"``); one-file kinds stack to one frame.
    """

    parse_as = "dense"

    def __init__(self, kind, params, *, per_keyframe=False, sep=None, dim=None):
        super().__init__(kind, params)
        self.keyframes = _keyframes(params["keyframes"]) if per_keyframe else None
        self.sep = sep
        self.dim = params["dim"] if params["dim"] is not None else dim

    @property
    def parser(self):
        return (parse_file, self.parse_as, self.sep)

    def files(self, root, key):
        if self.keyframes is None:
            return [root / f"{key}.txt"]
        return [root / f"{key}-{k}.txt" for k in self.keyframes]

    def vector(self, raw, path):
        """One key frame's vector of ``n_features_out`` values."""
        raise NotImplementedError

    def row(self, parsed):
        frames = [self.vector(raw, path) for path, raw in parsed]
        return np.stack(frames) if self.aggregate == "stack" else np.mean(frames, axis=0)

    @property
    def clip_shape(self):
        if self.aggregate == "mean":
            return (self.n_features_out,)
        return (len(self.keyframes or (0,)), self.n_features_out)


class DenseFormat(TextFormat):
    """Whitespace- or ``sep``-separated floats (C3D, LBP, aesthetics), of one length.

    The length is ``dim``, else the first file's; any other length is an error.
    """

    def learn(self, path, raw):
        if self.dim is None:
            self.dim = dense_vector(raw, path).size
        self.vector(raw, path)

    def vector(self, raw, path):
        return dense_vector(raw, path, self.dim)


class RowFormat(TextFormat):
    """One vector per line (ORB key points) of one width, averaged per file."""

    def learn(self, path, raw):
        if self.dim is None:
            self.dim = raw[0][1].size
        self.vector(raw, path)

    def vector(self, raw, path):
        return rows_vector(raw, path, self.dim)


class SparseFormat(TextFormat):
    """``index:value`` pairs scattered into ``dim`` values (HMP, InceptionV3).

    Parameters
    ----------
    base : int
        Index of the first value (HMP: 1, InceptionV3: 0).
    """

    parse_as = "sparse"

    def __init__(self, kind, params, *, base, **options):
        super().__init__(kind, params, **options)
        self.base = base

    def learn(self, path, raw):
        self.vector(raw, path)

    def vector(self, raw, path):
        return sparse_vector(raw, path, self.dim, self.base)


class ChannelFormat(TextFormat):
    """One sparse histogram line per colour channel (ColorHistogram), concatenated.

    Every file has the first file's number of lines; the bins per line are
    ``dim``, else the largest index seen at ``fit`` + 1.
    """

    parse_as = "sparse"

    def __init__(self, kind, params, *, base, **options):
        super().__init__(kind, params, **options)
        self.base = base
        self.n_channels = None
        self._largest = base - 1

    def learn(self, path, raw):
        if self.n_channels is None:
            self.n_channels = len(raw)
        if self.dim is not None:
            self.vector(raw, path)
            return
        if len(raw) != self.n_channels:
            raise DescriptorFormatError(path, f"has {len(raw)} histogram lines, expected {self.n_channels}")
        for number, (keys, _) in raw:
            if keys.size and keys.min() < self.base:
                raise DescriptorFormatError(path, f"index {int(keys.min())} is below {self.base}", number)
            self._largest = max(self._largest, int(keys.max(initial=-1)))

    def end_fit(self):
        if self.dim is None:
            self.dim = self._largest - self.base + 1
            if self.dim < 1:
                raise ValueError(f"the {self.kind} files hold no histogram bins")

    def vector(self, raw, path):
        return channels_vector(raw, path, self.dim, self.n_channels, self.base)

    @property
    def n_features_out(self):
        return self.dim * self.n_channels

    def attributes(self):
        return {"dim_": self.dim, "n_channels_": self.n_channels}


class RaggedFormat(TextFormat):
    """Floats whose count varies with the frame size (HOG), mapped to ``dim`` values.

    The loader's ``ragged`` policy maps them (see :func:`ragged_vector`);
    ``dim`` defaults to the longest vector seen at ``fit`` (resample, pad) or
    :data:`HISTOGRAM_BINS` (histogram), whose range is the values' range at ``fit``.
    """

    def __init__(self, kind, params, **options):
        super().__init__(kind, params, **options)
        self.policy = params["ragged"]
        self.value_range = None
        self._longest, self._low, self._high = 0, np.inf, -np.inf

    def learn(self, path, raw):
        values = dense_vector(raw, path)
        self._longest = max(self._longest, values.size)
        self._low = min(self._low, float(values.min()))
        self._high = max(self._high, float(values.max()))

    def end_fit(self):
        self.value_range = (self._low, self._high)
        if self.dim is None:
            self.dim = HISTOGRAM_BINS if self.policy == "histogram" else self._longest

    def vector(self, raw, path):
        return ragged_vector(dense_vector(raw, path), self.dim, self.policy, self.value_range)

    def attributes(self):
        return {"dim_": self.dim, "value_range_": self.value_range}
