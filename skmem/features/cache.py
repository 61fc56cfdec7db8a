"""A resumable per-clip feature cache on disk.

Layout: one flat folder, one ``.npy`` file per clip and configuration::

    cache_dir/<clip stem>__<16 hex digits>.npy

The digest covers the clip (absolute path, size, modification time) and
everything that changes its features (the ``config``: sampler settings,
backbone, layer, weights identity and :data:`FORMAT_VERSION`). A changed
clip or setting therefore misses the cache, while the stem keeps the folder
readable by :class:`skmem.PrecomputedFeatureLoader` (``kind="npy"``). Keep one
folder per feature configuration to leave no doubt which file a reader picks.

Each entry is written to a temporary file in the same folder and renamed
into place, so an interrupted run never leaves a half-written entry, and
several processes may fill one cache at once (the last rename wins; every
version is complete).
"""

import hashlib
import json
import os
import tempfile
import warnings

import numpy as np

__all__ = ["FeatureCache", "FORMAT_VERSION"]

#: Bumped whenever the stored feature layout changes.
FORMAT_VERSION = 1


class FeatureCache:
    """Per-clip feature files in ``directory`` for one ``config``.

    Parameters
    ----------
    directory : str or path-like
        Created when missing.
    config : dict
        JSON-serialisable settings that determine the features.
    """

    def __init__(self, directory, config):
        self.directory = os.path.expanduser(os.fspath(directory))
        self.config = {"format_version": FORMAT_VERSION, **config}
        self._config_text = json.dumps(self.config, sort_keys=True, default=str)
        self.corrupt_entries = []
        os.makedirs(self.directory, exist_ok=True)

    def entry(self, clip_path):
        """Cache file of ``clip_path`` (its existence is not checked)."""
        clip_path = os.path.abspath(os.fspath(clip_path))
        try:
            stat = os.stat(clip_path)
            identity = (clip_path, stat.st_size, stat.st_mtime_ns)
        except OSError:
            identity = (clip_path, None, None)
        digest = hashlib.sha256(json.dumps([identity, self._config_text]).encode()).hexdigest()[:16]
        stem = os.path.splitext(os.path.basename(clip_path))[0]
        return os.path.join(self.directory, f"{stem}__{digest}.npy")

    def load(self, clip_path, expected_shape=None):
        """Features of ``clip_path``, or None when absent or corrupt.

        A corrupt entry (unreadable, wrong dtype or shape, non-finite values)
        is reported with a warning, listed in ``corrupt_entries``, removed and
        treated as missing.
        """
        path = self.entry(clip_path)
        if not os.path.exists(path):
            return None
        try:
            features = np.load(path, allow_pickle=False)
            problem = None
            if features.dtype != np.float32:
                problem = f"dtype {features.dtype}"
            elif expected_shape is not None and features.shape != tuple(expected_shape):
                problem = f"shape {features.shape} instead of {tuple(expected_shape)}"
            elif not np.isfinite(features).all():
                problem = "non-finite values"
        except (OSError, ValueError, EOFError) as exc:
            problem = f"unreadable ({exc})"
        if problem is not None:
            warnings.warn(f"corrupt cache entry {path} for {clip_path}: {problem}; recomputing", stacklevel=3)
            self.corrupt_entries.append(path)
            _remove(path)
            return None
        return features

    def save(self, clip_path, features):
        """Write the features of ``clip_path`` atomically; returns the entry path."""
        path = self.entry(clip_path)
        handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".npy", dir=self.directory)
        try:
            with os.fdopen(handle, "wb") as fh:
                np.save(fh, np.ascontiguousarray(features, dtype=np.float32), allow_pickle=False)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temporary, path)
        except BaseException:
            _remove(temporary)
            raise
        return path


def _remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
