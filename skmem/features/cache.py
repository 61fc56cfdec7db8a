"""A resumable per-clip feature cache on disk, with its provenance.

Layout: one flat folder per feature configuration::

    cache_dir/skmem-cache.json                        the configuration (CONFIG_FILE)
    cache_dir/<clip file name>__<16 hex digits>.npy   one entry per clip

:data:`CONFIG_FILE` records everything that determines the features (backbone,
weights identity, layer, sampler settings, precision and
:data:`FORMAT_VERSION`). Opening a folder recorded with another configuration
raises :class:`FeatureConfigError`, so one folder never mixes features of two
configurations. Entries are named by the clip's file name (``video10.webm``);
the digest names the clip's identity (``cache_key``):

- ``"stat"``: absolute path, size, modification and status-change times and
  inode, so a rewrite that keeps the size and modification time still misses;
- ``"content"``: size and a SHA-256 of the first, middle and last MiB, which
  survives moving or copying the dataset folder.

A folder holds one entry per clip file name (clips of one name in two folders
evict each other); :func:`cache_entries` lists them by clip name.

Guarantees:

- Entries and the configuration are written to a temporary file
  (``.tmp-<host>@<pid>@...``) in the folder and renamed into place, so a
  killed writer never leaves a partial entry, and several processes may fill
  one folder at once. The configuration is created with a hard link, which
  fails when another writer created it first: every writer then checks its
  configuration against the one recorded.
- Readers never treat temporary files as entries. Opening a cache removes the
  temporary files left by dead processes of this host, and those of other
  hosts older than :data:`STALE_TEMPORARY_SECONDS`; never the file of a live
  writer.
- A clip whose identity changed loses its old entry as soon as it misses,
  so a clip that fails to decode now is never served an old entry.
- Files are created with mode ``0o666`` minus the user's umask.
- In a folder that cannot be written (read-only mount, permissions) the cache
  serves the entries it can read and does not store new ones, warning once.
"""

import contextlib
import errno
import hashlib
import json
import os
import secrets
import socket
import time
import warnings

import numpy as np

__all__ = [
    "CACHE_KEYS",
    "CONFIG_FILE",
    "FORMAT_VERSION",
    "STALE_TEMPORARY_SECONDS",
    "FeatureCache",
    "FeatureConfigError",
    "cache_entries",
    "clip_identity",
    "read_config",
]

#: Bumped whenever the stored layout changes (2: entries named by clip file name, config file).
FORMAT_VERSION = 2
#: The configuration record in a cache folder.
CONFIG_FILE = "skmem-cache.json"
#: Temporary files of other hosts older than this (seconds) are removed on open.
STALE_TEMPORARY_SECONDS = 24 * 3600
#: Accepted ``cache_key`` values.
CACHE_KEYS = ("stat", "content")

_TEMPORARY_PREFIX = ".tmp-"
_ENTRY_SUFFIX = ".npy"
_DIGEST_LENGTH = 16
_CHUNK = 2**20
_READ_ONLY_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS}


class FeatureConfigError(ValueError):
    """A cache folder holds features of another configuration."""


def read_config(directory):
    """The configuration recorded in ``directory`` (a dict), or None when there is none.

    Raises ``ValueError`` naming the file when it is not a JSON object.
    """
    path = os.path.join(os.path.expanduser(os.fspath(directory)), CONFIG_FILE)
    try:
        with open(path, encoding="utf-8") as fh:
            config = json.load(fh)
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise ValueError(f"{path}: not a valid feature configuration ({exc})") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path}: not a valid feature configuration (a JSON object expected)")
    return config


def _entry_clip_name(file_name):
    """Clip file name of an entry file name, or None when it is not an entry."""
    if file_name.startswith(_TEMPORARY_PREFIX) or not file_name.endswith(_ENTRY_SUFFIX):
        return None
    clip, sep, digest = file_name[: -len(_ENTRY_SUFFIX)].rpartition("__")
    if not sep or not clip or len(digest) != _DIGEST_LENGTH or any(c not in "0123456789abcdef" for c in digest):
        return None
    return clip


def _scan(directory):
    """``{clip name: [entry paths]}`` of a cache folder."""
    found = {}
    with os.scandir(directory) as listing:
        for item in listing:
            clip = _entry_clip_name(item.name)
            if clip is not None and item.is_file():
                found.setdefault(clip, []).append(item.path)
    return found


def cache_entries(directory):
    """Entries of a cache folder: ``{clip file name: entry path}``.

    Temporary files are never listed. Raises ``ValueError`` naming the clip
    and the files when one clip name has two entries.
    """
    directory = os.path.expanduser(os.fspath(directory))
    entries = {}
    for clip, paths in sorted(_scan(directory).items()):
        if len(paths) > 1:
            raise ValueError(
                f"{directory}: clip {clip!r} has {len(paths)} cache entries ({', '.join(sorted(paths))}); "
                "remove the stale ones"
            )
        entries[clip] = paths[0]
    return entries


def clip_identity(clip_path, cache_key="stat"):
    """What names ``clip_path`` in a cache entry, as a JSON-serialisable list.

    ``"stat"``: absolute path, size, modification and status-change times
    (ns), device and inode. ``"content"``: size and a SHA-256 of the first,
    middle and last MiB. A missing clip has the identity ``[path, None]``.
    """
    clip_path = os.path.abspath(os.fspath(clip_path))
    try:
        stat = os.stat(clip_path)
        if cache_key == "stat":
            return [clip_path, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_dev, stat.st_ino]
        digest = hashlib.sha256()
        with open(clip_path, "rb") as fh:
            for offset in sorted({0, max(0, stat.st_size // 2 - _CHUNK // 2), max(0, stat.st_size - _CHUNK)}):
                fh.seek(offset)
                digest.update(fh.read(_CHUNK))
        return ["content", stat.st_size, digest.hexdigest()]
    except OSError:
        return [clip_path, None]


def _is_live_writer(host, pid):
    """Whether ``pid`` on ``host`` may still be writing (unknown hosts: yes)."""
    if host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class FeatureCache:
    """Per-clip feature files in ``directory`` for one ``config``.

    Parameters
    ----------
    directory : str or path-like
        Created when missing.
    config : dict
        JSON-serialisable settings that determine the features; recorded in
        :data:`CONFIG_FILE` (with :data:`FORMAT_VERSION`), or checked against
        the recorded one.
    cache_key : {"stat", "content"}, default="stat"
        How a clip is identified (see :func:`clip_identity`).

    Attributes
    ----------
    corrupt_entries : list of str
        Entries found corrupt (and treated as missing) so far.
    writable : bool
        False once the folder proved unwritable (one warning is given).

    Raises
    ------
    FeatureConfigError
        When the folder records another configuration.
    """

    def __init__(self, directory, config, cache_key="stat"):
        if cache_key not in CACHE_KEYS:
            raise ValueError(f"cache_key must be one of {CACHE_KEYS}, got {cache_key!r}")
        self.directory = os.path.abspath(os.path.expanduser(os.fspath(directory)))
        self.config = json.loads(json.dumps({"format_version": FORMAT_VERSION, **config}, sort_keys=True, default=str))
        self.cache_key = cache_key
        self.corrupt_entries = []
        self.writable = True
        with self._writing(self.directory):
            os.makedirs(self.directory, exist_ok=True)
        if not os.path.isdir(self.directory):
            raise NotADirectoryError(f"cache_dir {self.directory} is not a folder and cannot be created")
        self._record_config()
        if self.writable:
            self.remove_leftovers()

    # -- configuration and housekeeping -----------------------------------

    def _record_config(self):
        path = os.path.join(self.directory, CONFIG_FILE)
        recorded = read_config(self.directory)
        if recorded is None and _scan(self.directory):
            raise FeatureConfigError(
                f"{self.directory}: holds cache entries but no {CONFIG_FILE} (written by an older skmem?); "
                "use another cache_dir"
            )
        if recorded is None and self.writable:
            text = json.dumps(self.config, indent=1, sort_keys=True).encode()
            with self._writing(path):
                temporary = self._write_temporary(text)
                try:
                    os.link(temporary, path)  # fails if another writer recorded one first
                except FileExistsError:
                    pass
                except OSError:  # no hard links on this file system
                    if not os.path.exists(path):
                        os.replace(temporary, path)
                finally:
                    _remove(temporary)
            recorded = read_config(self.directory)
        if recorded is None:  # a read-only folder without entries
            return
        if recorded != self.config:
            raise FeatureConfigError(
                f"{self.directory}: holds features made with {json.dumps(recorded, sort_keys=True)}, "
                f"not {json.dumps(self.config, sort_keys=True)}; use another cache_dir"
            )

    def remove_leftovers(self):
        """Remove temporary files of dead writers; returns their paths.

        A file of this host is removed when the process that created it is
        gone; a file of another host when older than
        :data:`STALE_TEMPORARY_SECONDS`. Files of live writers stay.
        """
        removed = []
        now = time.time()
        with os.scandir(self.directory) as listing:
            for item in listing:
                if not item.name.startswith(_TEMPORARY_PREFIX):
                    continue
                host, _, rest = item.name[len(_TEMPORARY_PREFIX) :].rpartition("@")
                host, _, pid = host.rpartition("@")
                try:
                    live = _is_live_writer(host, int(pid)) if host else True
                    if live and now - item.stat().st_mtime < STALE_TEMPORARY_SECONDS:
                        continue
                except (ValueError, FileNotFoundError):
                    continue
                _remove(item.path)
                removed.append(item.path)
        return removed

    @contextlib.contextmanager
    def _writing(self, what):
        """Turn a permission error into ``writable = False`` and one warning."""
        try:
            yield
        except OSError as exc:
            if exc.errno not in _READ_ONLY_ERRNOS:
                raise
            if self.writable:
                warnings.warn(
                    f"cache folder {self.directory} is not writable ({exc.strerror}: {what}); "
                    "features missing from it are computed in memory and not stored",
                    stacklevel=4,
                )
            self.writable = False

    def _write_temporary(self, data):
        """A new temporary file in the folder holding ``data`` (bytes or an array)."""
        name = f"{_TEMPORARY_PREFIX}{socket.gethostname()}@{os.getpid()}@{secrets.token_hex(6)}{_ENTRY_SUFFIX}"
        temporary = os.path.join(self.directory, name)
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # mode minus umask
        try:
            with os.fdopen(handle, "wb") as fh:
                if isinstance(data, bytes):
                    fh.write(data)
                else:
                    np.save(fh, data, allow_pickle=False)
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException:
            _remove(temporary)
            raise
        return temporary

    # -- entries ----------------------------------------------------------

    def entry(self, clip_path):
        """Cache file of ``clip_path`` (its existence is not checked)."""
        identity = json.dumps(clip_identity(clip_path, self.cache_key))
        digest = hashlib.sha256(identity.encode()).hexdigest()[:_DIGEST_LENGTH]
        return os.path.join(self.directory, f"{os.path.basename(os.fspath(clip_path))}__{digest}{_ENTRY_SUFFIX}")

    def discard(self, clip_path, keep=None):
        """Remove the entries of ``clip_path``'s file name (but ``keep``); returns them."""
        name = os.path.basename(os.fspath(clip_path))
        stale = [p for p in _scan(self.directory).get(name, []) if p != keep]
        if self.writable:
            for path in stale:
                with self._writing(path):
                    _remove(path)
        return stale

    def load(self, clip_path, expected_shape=None):
        """Features of ``clip_path``, or None when absent or corrupt.

        A miss removes the clip's entries of other identities (a rewritten
        clip). A corrupt entry (unreadable, wrong dtype or shape, non-finite
        values) is reported with a warning, listed in ``corrupt_entries``,
        removed and treated as missing.
        """
        path = self.entry(clip_path)
        if not os.path.exists(path):
            self.discard(clip_path)
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
            self.discard(clip_path)
            return None
        return features

    def save(self, clip_path, features):
        """Write the features of ``clip_path`` atomically; returns the entry path.

        Returns None when the folder is not writable.
        """
        path = self.entry(clip_path)
        if not self.writable:
            return None
        with self._writing(path):
            temporary = self._write_temporary(np.ascontiguousarray(features, dtype=np.float32))
            try:
                self.discard(clip_path, keep=path)
                os.replace(temporary, path)
            except BaseException:
                _remove(temporary)
                raise
        return path if self.writable else None


def _remove(path):
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)
