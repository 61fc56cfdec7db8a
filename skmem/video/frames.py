"""Frames decoded when they are read: :class:`SampledFrames`, what :meth:`FrameSampler.transform` returns.

A :class:`SampledFrames` holds clip paths and the sampler that decodes them,
not pixels. Anything that reads it as an array (``np.asarray``, NumPy
functions and operators, scikit-learn's input checks) gets the frames of
every clip, decoded then; a :class:`~skmem.CNNFeaturizer` instead streams
the clips through its network a batch at a time (see
:mod:`skmem.video.stream`), so a ``Pipeline`` of a ``FrameSampler`` and a
featurizer holds a few clips in memory, not the whole dataset.
"""

import os
from numbers import Integral

import numpy as np
from joblib import effective_n_jobs
from numpy.lib.mixins import NDArrayOperatorsMixin
from tqdm.auto import tqdm

from skmem.video.errors import VideoDecodeError
from skmem.video.stream import ClipReport, stream_clips

__all__ = ["SampledFrames"]


class SampledFrames(NDArrayOperatorsMixin):
    """The frames of clips, decoded each time they are read; a read-only array-like.

    :meth:`FrameSampler.transform <skmem.FrameSampler.transform>` returns
    one. It stands for the uint8 array ``(n_clips, n_frames, H, W, 3)`` of
    the clips' frames without holding it: ``np.asarray(frames)`` (and every
    NumPy function or operator, which call it) decodes every clip, through
    the same loop and with the same ``on_error`` and ``on_damaged`` policy
    as an eager decode, and fills :attr:`report`. Nothing is kept: each
    ``np.asarray`` decodes again (keep its result to decode once), so that
    the memory used stays that of the consumer. A
    :class:`~skmem.CNNFeaturizer` given a ``SampledFrames`` streams its
    clips instead, as a featurizer with ``sampler=frames.sampler`` given
    ``frames.paths`` would, sharing its feature store.

    Parameters
    ----------
    paths : 1-D array of str
        Clip paths.
    sampler : FrameSampler
        Decodes the clips and holds the failure and damage policy; not
        copied (:meth:`FrameSampler.transform` passes a copy of itself).

    Attributes
    ----------
    paths : ndarray of shape (n_clips,), dtype object
        Read-only.
    sampler : FrameSampler
    report : ClipReport
        What the last decode of all the clips met (by ``np.asarray`` or a
        featurizer streaming them; emptied when one starts): the clips that
        failed with their :class:`~skmem.video.VideoDecodeError`
        (``on_error="warn"``), the damaged clips and, from a featurizer, its
        store counts. Empty until the frames are read. Reading one clip
        (``frames[i]``) or a selection does not change it.

    Notes
    -----
    Indexing follows NumPy's on the first axis without decoding: a slice, an
    array of ints or a boolean mask gives a ``SampledFrames`` of those clips
    (so scikit-learn's cross-validation splits stay lazy); an int decodes
    that one clip (as a transform of its path alone would); other indices
    (``frames[:, 0]``) select the clips first, then index their decoded
    frames. Iterating decodes one clip at a time.
    """

    def __init__(self, paths, sampler):
        paths = np.asarray(paths, dtype=object)
        if paths.ndim != 1:
            raise ValueError(f"paths must be 1-D, got shape {paths.shape}")
        paths = np.array([os.fspath(p) for p in paths], dtype=object)
        paths.flags.writeable = False
        self.paths = paths
        self.sampler = sampler
        self.report = ClipReport()

    def __len__(self):
        return len(self.paths)

    @property
    def dtype(self):
        """uint8."""
        return np.dtype(np.uint8)

    @property
    def ndim(self):
        """5."""
        return 5

    @property
    def shape(self):
        """``(n_clips, n_frames, H, W, 3)``; ``H`` and ``W`` are None when only decoding tells them.

        They are known for an int ``size`` with ``crop="center"`` and for a
        ``(height, width)`` pair; ``size=None`` keeps each clip's own size
        and ``crop=None`` its aspect ratio.
        """
        size, crop = self.sampler.size, self.sampler.crop
        if isinstance(size, (tuple, list)) and len(size) == 2:
            height, width = (int(s) for s in size)
        elif isinstance(size, Integral) and crop == "center":
            height = width = int(size)
        else:
            height = width = None
        return (len(self), int(self.sampler.n_frames), height, width, 3)

    def __array__(self, dtype=None, copy=None):
        # Every call decodes into a new array that nothing else holds, so ``copy`` changes nothing.
        frames = decode_all(self.paths, self.sampler, self.start_report())
        return frames if dtype is None else frames.astype(dtype, copy=False)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if any(isinstance(x, SampledFrames) for x in kwargs.get("out", ())):
            return NotImplemented  # read-only
        inputs = tuple(np.asarray(x) if isinstance(x, SampledFrames) else x for x in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)

    def astype(self, dtype):
        """The decoded frames as an ndarray of ``dtype``."""
        return np.asarray(self, dtype=dtype)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, key):
        key = key if isinstance(key, tuple) else (key,)
        first, rest = (key[0], key[1:]) if key else (slice(None), ())
        if first is Ellipsis or first is None or isinstance(first, (bool, np.bool_)):
            return np.asarray(self)[key]
        picked = np.arange(len(self))[first]  # which clips, by NumPy's rules (and its IndexError)
        whole = all(k is Ellipsis or (isinstance(k, slice) and k == slice(None)) for k in rest)
        if picked.ndim == 1 and whole:
            return SampledFrames(self.paths[picked], self.sampler)
        frames = np.asarray(SampledFrames(self.paths[picked.ravel()], self.sampler))
        if picked.ndim == 0:
            local = 0
        elif isinstance(first, slice):
            local = slice(None)
        else:
            local = np.arange(picked.size).reshape(picked.shape)
        return frames[(local,) + rest]

    def start_report(self):
        """:attr:`report`, emptied in place (its owners keep seeing it) for a decode of all the clips."""
        self.report.clear()
        return self.report

    def __repr__(self):
        shape = tuple("?" if d is None else d for d in self.shape)
        return f"SampledFrames({len(self)} clips, shape={shape}, dtype=uint8)"


def decode_all(paths, sampler, report):
    """Every clip's frames, ``(n_clips, n_frames, H, W, 3)`` uint8, by ``sampler`` and its policy.

    Decodes in ``sampler.n_jobs`` threads (see :func:`~skmem.video.stream_clips`);
    ``report`` receives the failures and damages. A clip that failed under
    ``on_error="warn"`` is zeros.
    """
    clips = [None] * len(paths)
    n_workers = effective_n_jobs(sampler.n_jobs)
    batches = stream_clips(paths, sampler, n_workers=n_workers if n_workers > 1 else 0, report=report)
    with tqdm(total=len(paths), disable=not sampler.verbose, desc="decoding", unit="clip") as progress:
        for batch in batches:
            for clip in batch:
                clips[clip.index] = clip.frames
            progress.update(len(batch))
    return _stack_clips(clips, paths)


def _stack_clips(clips, paths):
    if not clips:
        raise ValueError("no clip to decode")
    shapes = {c.shape for c in clips if c is not None}
    if not shapes:
        raise VideoDecodeError(paths[0], "no clip could be decoded")
    if len(shapes) > 1:
        decoded = [(p, c.shape) for p, c in zip(paths, clips) if c is not None]
        odd, shape = next((p, s) for p, s in decoded if s != decoded[0][1])
        raise ValueError(
            f"{odd}: frames of shape {shape[1:]} differ "
            f"from the first clip's {decoded[0][1][1:]}; set size to an int or a (height, width) pair"
        )
    shape = shapes.pop()
    out = np.zeros((len(clips),) + shape, dtype=np.uint8)
    for i, clip in enumerate(clips):
        if clip is not None:
            out[i] = clip
    return out
