"""Decode clips in background workers while the network runs."""

import collections
from concurrent.futures import ThreadPoolExecutor

import torch
from torch.utils.data import DataLoader, Dataset

from skmem.video import VideoDecodeError

__all__ = ["ClipDataset", "clip_loader"]


class ClipDataset(Dataset):
    """Clips decoded by a :class:`~skmem.FrameSampler`, one item per clip.

    An item is ``(index, frames, damage, error)``: ``frames`` a uint8 tensor
    ``(T, H, W, 3)`` and ``damage`` the sampler's
    :class:`~skmem.video.ClipDamage` or None; or ``frames`` None with
    ``error`` the :class:`VideoDecodeError` when the clip could not be read
    (so one bad clip never sinks a batch). The sampler's ``on_damaged`` is
    not applied here: the caller applies ``sampler.handle_damage(damage)`` in
    its own process.
    """

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
            return index, None, None, exc
        return index, torch.from_numpy(frames), damage, None


def _as_list(items):
    return items


def _threaded_batches(dataset, clips_per_batch, n_workers):
    """Lists of ``dataset`` items, in order, decoded by ``n_workers`` threads a few clips ahead."""
    with ThreadPoolExecutor(n_workers, thread_name_prefix="skmem-decode") as pool:
        pending = collections.deque()
        ahead = 2 * max(clips_per_batch, n_workers)
        batch = []
        for item in range(len(dataset)):
            pending.append(pool.submit(dataset.__getitem__, item))
            while len(pending) > ahead or (pending and item == len(dataset) - 1):
                batch.append(pending.popleft().result())
                if len(batch) == clips_per_batch or (not pending and item == len(dataset) - 1):
                    yield batch
                    batch = []


def clip_loader(paths, sampler, indices, *, clips_per_batch, n_workers, pin_memory, threads=False):
    """Lists of :class:`ClipDataset` items, in order, ``clips_per_batch`` at a time.

    ``n_workers`` processes decode ahead (a DataLoader); with ``threads`` (a
    daemonic process may not start processes) they are threads of this
    process instead.
    """
    if threads and n_workers > 0:
        return _threaded_batches(ClipDataset(paths, sampler, indices), clips_per_batch, n_workers)
    return DataLoader(
        ClipDataset(paths, sampler, indices),
        batch_size=clips_per_batch,
        shuffle=False,
        num_workers=n_workers,
        collate_fn=_as_list,
        pin_memory=pin_memory,
        prefetch_factor=2 if n_workers > 0 else None,
        persistent_workers=False,
    )
