"""The one clip stream: many clips decoded ahead in workers, the sampler's policy applied here.

:func:`stream_clips` yields batches of decoded clips, in order, decoded a
few clips ahead by threads (FFmpeg decodes and converts frames without
holding the GIL, so threads decode in parallel; unlike worker processes,
they need no ``if __name__ == "__main__"`` guard in scripts, work inside
the daemonic workers of Dask, Ray or a process pool, and cannot inherit
locks held by the decoder's or the network's threads, which made forked
workers crash) or in the calling thread. The sampler's ``on_error`` and
``on_damaged`` are applied once, in the caller; a failure is applied after
the caller has taken its batch, so a failed clip never discards the clips
decoded with it. What happened is recorded in a :class:`ClipReport`:
the clips that failed with their :class:`~skmem.video.VideoDecodeError`
(the reason, without a second decode), the damaged clips with their
:class:`~skmem.video.ClipDamage` and, for a featurizer with a store, its
hit, miss and corrupt counts. Reports of shards merge into one.
"""

import collections
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import NamedTuple

from skmem.video.errors import ClipDamage, VideoDecodeError

__all__ = ["Clip", "ClipReport", "stream_clips"]


class Clip(NamedTuple):
    """One decoded clip of a batch.

    Attributes
    ----------
    index : int
        Position of the clip in the ``paths`` given to :func:`stream_clips`.
    frames : ndarray of shape (n_frames, H, W, 3), uint8, or None
        None when the clip could not be read.
    damage : ClipDamage or None
    error : VideoDecodeError or None
    """

    index: int
    frames: object
    damage: ClipDamage | None
    error: VideoDecodeError | None


@dataclass
class ClipReport:
    """What one call met while decoding its clips.

    Attributes
    ----------
    failures : list of VideoDecodeError
        Clips that could not be read, each error naming its clip
        (``error.path``) and why (``error.cause``).
    damages : list of ClipDamage
        Damaged clips that were decoded (their frames were used).
    hits, misses, corrupt : int
        Feature store counts of a featurizer with a ``cache_dir``: clips
        read from the store, clips computed, entries found corrupt (and
        computed again). 0 without a store.
    """

    failures: list = field(default_factory=list)
    damages: list = field(default_factory=list)
    hits: int = 0
    misses: int = 0
    corrupt: int = 0

    @property
    def failed_paths(self):
        """Paths of the clips that failed, in order."""
        return [error.path for error in self.failures]

    @property
    def damaged_paths(self):
        """Paths of the damaged clips, in order."""
        return [damage.path for damage in self.damages]

    def clear(self):
        """Empty the report in place (whoever holds it sees the next call's)."""
        self.failures, self.damages = [], []
        self.hits = self.misses = self.corrupt = 0

    def add(self, other):
        """Append what ``other`` met (e.g. the report of one shard of an extraction) to this report."""
        self.failures += other.failures
        self.damages += other.damages
        self.hits += other.hits
        self.misses += other.misses
        self.corrupt += other.corrupt

    @classmethod
    def merge(cls, reports):
        """One report of several, in their order."""
        merged = cls()
        for report in reports:
            merged.add(report)
        return merged

    def apply(self, sampler):
        """Apply ``sampler``'s ``on_damaged`` to each damage, then its ``on_error`` to each failure.

        Raises the first :class:`~skmem.video.DamagedClipError` or
        :class:`~skmem.video.VideoDecodeError` the policy raises; warns otherwise.
        """
        for damage in self.damages:
            sampler.handle_damage(damage)
        for error in self.failures:
            sampler.handle_failure(error)


class _Decoded:
    """Item ``k`` is the :class:`Clip` of ``paths[indices[k]]``."""

    def __init__(self, paths, sampler, indices):
        self.paths = paths
        self.sampler = sampler
        self.indices = list(indices)

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, item):
        index = self.indices[item]
        try:
            frames, damage = self.sampler.decode(self.paths[index])
        except VideoDecodeError as exc:
            return Clip(index, None, None, exc)
        return Clip(index, frames, damage, None)


def _batches(clips, clips_per_batch, n_workers):
    """Lists of items of ``clips``, in order, decoded by ``n_workers`` threads a few clips ahead (0: here)."""
    if n_workers == 0:
        for start in range(0, len(clips), clips_per_batch):
            yield [clips[item] for item in range(start, min(start + clips_per_batch, len(clips)))]
        return
    with ThreadPoolExecutor(n_workers, thread_name_prefix="skmem-decode") as pool:
        pending = collections.deque()
        ahead = 2 * max(clips_per_batch, n_workers)
        batch = []
        for item in range(len(clips)):
            pending.append(pool.submit(clips.__getitem__, item))
            while len(pending) > ahead or (pending and item == len(clips) - 1):
                batch.append(pending.popleft().result())
                if len(batch) == clips_per_batch or (not pending and item == len(clips) - 1):
                    yield batch
                    batch = []


def stream_clips(paths, sampler, indices=None, *, clips_per_batch=1, n_workers=0, report=None, policy=True):
    """Decode clips a batch at a time, applying ``sampler``'s policy in this process.

    Parameters
    ----------
    paths : sequence of str
        Clip paths.
    sampler : FrameSampler
        Decodes each clip (:meth:`~skmem.FrameSampler.decode`, in the
        workers) and holds the policy (``on_error``, ``on_damaged``, applied
        here).
    indices : iterable of int or None, default=None
        Positions in ``paths`` of the clips to decode (None: all), in order.
    clips_per_batch : int, default=1
    n_workers : int, default=0
        Threads decoding ahead (FFmpeg decodes and converts frames without
        holding the GIL); 0 decodes in the calling thread.
    report : ClipReport or None, default=None
        Filled with the failures and damages met (a new one when None).
    policy : bool, default=True
        Apply the sampler's policy to each batch: ``on_damaged`` before the
        batch is yielded (``"raise"`` withholds the batch holding a damaged
        clip), ``on_error`` once it has been taken (``"raise"`` raises the
        batch's first failure when the next batch is asked for, so the clips
        decoded with a failed one still reach the caller).
        False records failures and damages only (e.g. in the task of a
        shard, whose report the caller merges and applies with
        :meth:`ClipReport.apply`).

    Yields
    ------
    batch : list of Clip
        Frames as uint8 arrays ``(n_frames, H, W, 3)``.
    """
    indices = range(len(paths)) if indices is None else indices
    report = ClipReport() if report is None else report
    for batch in _batches(_Decoded(paths, sampler, indices), clips_per_batch, n_workers):
        damaged = ClipReport(damages=[c.damage for c in batch if c.damage is not None])
        failed = ClipReport(failures=[c.error for c in batch if c.error is not None])
        report.damages += damaged.damages
        report.failures += failed.failures
        if policy:
            damaged.apply(sampler)
        yield batch
        if policy:
            failed.apply(sampler)
