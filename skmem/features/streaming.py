"""Clips through a :class:`~skmem.CNNFeaturizer`: decoded as a stream, served from and saved to its store.

The one path from clip files to features, whichever way the clips come:
paths with the featurizer's own ``sampler``, or the
:class:`~skmem.video.SampledFrames` a :class:`~skmem.FrameSampler` returns
(a ``Pipeline`` of both). :func:`clip_source` tells which;
:func:`stream_outputs` reads what the store holds and computes the rest,
decoding a few clips ahead of the network (:func:`~skmem.video.stream_clips`).
"""

import warnings

import numpy as np
import torch
from tqdm.auto import tqdm

from skmem._validation import resolve_device
from skmem.video import ClipReport, SampledFrames, as_paths, stream_clips

__all__ = ["clip_source", "stream_outputs"]


def clip_source(featurizer, X):
    """``(paths, sampler)`` when ``X`` is clips for ``featurizer``; None when it is frames.

    ``X`` is clips when it is a :class:`~skmem.video.SampledFrames` (decoded
    by its own sampler) or when the featurizer has a ``sampler`` (``X``
    then holds paths).
    """
    if isinstance(X, SampledFrames):
        if featurizer.sampler is not None:
            raise ValueError(
                "two samplers: X holds frames of a FrameSampler (SampledFrames) and the featurizer has its "
                "own sampler; drop the featurizer's sampler, or give it clip paths"
            )
        return X.paths, X.sampler
    if featurizer.sampler is not None:
        return as_paths(X), featurizer.sampler
    return None


def stream_outputs(featurizer, paths, sampler, cache, keep, report, policy=True):
    """Outputs of ``paths`` from ``cache`` (a FeatureStore or None), computing what is missing.

    ``keep`` lists the outputs to return (empty: none are kept, None is
    returned). A clip is decoded by ``sampler`` and run through the network
    once for all outputs; every output goes to the store, a batch at a
    time. ``report`` (a :class:`~skmem.video.ClipReport`) receives the store
    counts, the failures and the damages; ``policy`` applies the sampler's
    policy (see :func:`~skmem.video.stream_clips`).
    """
    shapes = featurizer._clip_shapes(sampler)
    out = {name: np.zeros((len(paths),) + shapes[name], dtype=np.float32) for name in keep}
    todo = []
    for i, path in enumerate(paths):
        cached = cache.load(path, shapes) if cache is not None else None
        if cached is None:
            todo.append(i)
        else:
            for name in keep:
                out[name][i] = cached[name]
    report.hits, report.misses = len(paths) - len(todo), len(todo)
    report.corrupt = len(cache.corrupt_entries) if cache is not None else 0
    if todo:
        _compute(featurizer, paths, sampler, todo, shapes, cache, out, report, policy)
    return out or None


def _compute(featurizer, paths, sampler, todo, shapes, cache, out, report, policy):
    """Decode and featurize the clips ``todo``; fill ``out`` and the store."""
    device = torch.device(resolve_device(featurizer.device))
    batch_size = featurizer.batch_size_
    batches = stream_clips(
        paths,
        sampler,
        todo,
        clips_per_batch=max(1, batch_size // sampler.n_frames),
        n_workers=featurizer._n_workers(device),
        report=report,
        policy=policy,
    )
    progress = tqdm(
        total=len(paths), initial=len(paths) - len(todo), disable=not featurizer.verbose, desc="clips", unit="clip"
    )
    with progress, featurizer._running() as run:
        for batch in batches:
            good = [clip for clip in batch if clip.error is None]
            if good:
                frames = torch.cat([torch.from_numpy(clip.frames) for clip in good])
                runs = [run(frames[s : s + batch_size]) for s in range(0, len(frames), batch_size)]
                features = {
                    name: np.concatenate([r[name] for r in runs]).reshape((len(good),) + shape)
                    for name, shape in shapes.items()
                }
                for k, clip in enumerate(good):
                    if cache is not None:
                        cache.save(paths[clip.index], {name: features[name][k] for name in shapes})
                    for name in out:
                        out[name][clip.index] = features[name][k]
            progress.update(len(batch))


def extract_shard(featurizer, paths, sampler):
    """Fill ``featurizer``'s store for ``paths`` decoded by ``sampler`` (a task of :meth:`CNNFeaturizer.extract`).

    ``featurizer`` is an unfitted clone; it is fitted here. The sampler's
    policy is left to the caller, which applies it to the merged reports.

    Returns
    -------
    report : ClipReport
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        featurizer.fit()
    report = ClipReport()
    stream_outputs(featurizer, as_paths(paths), sampler, featurizer._cache(sampler), (), report, policy=False)
    return report
