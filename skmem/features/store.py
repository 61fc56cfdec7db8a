"""The feature store: per-clip features on disk, an index, and their provenance.

Layout (format :data:`FORMAT_VERSION`)::

    store/skmem-store.json                          the configuration (CONFIG_FILE)
    store/index.sqlite                              the index (INDEX_FILE, SQLite)
    store/entries/<d[:2]>/<d>.<output>.npy          one float32 array per clip and output
    store/tmp/                                      temporary files of writers

:data:`CONFIG_FILE` is a JSON object recording everything that determines the
features (backbone, weights identity, layer, extra outputs, sampler settings,
precision and :data:`FORMAT_VERSION`). Opening a store recorded with another
configuration raises :class:`FeatureConfigError` naming both.

The index holds one row per clip in the table ``entries``:

``key`` (primary key)
    What identifies the clip: its resolved real path (``cache_key="stat"``)
    or ``content:<size>:<sha256>`` (``cache_key="content"``).
``identity``
    The JSON identity the features were made from (see :func:`clip_identity`):
    for ``"stat"`` the real path, size, modification and status-change times
    (ns), device and inode, so a clip rewritten in place misses.
``digest``
    32 hex digits naming the entry's files, ``entries/<d[:2]>/<d>.<output>.npy``.
``clip_id``
    The canonical clip id (file stem; a bare number ``N`` is ``videoN``), for
    lookups by id; ``path`` the clip's real path when it was stored.
``outputs``
    A JSON list of the output names stored (``pooled``, ``logits``, a layer
    name).

Another tool reads a store with ``sqlite3`` and ``numpy`` alone::

    rows = sqlite3.connect("file:store/index.sqlite?mode=ro", uri=True).execute(
        "SELECT clip_id, path, digest, outputs FROM entries")
    for clip_id, path, digest, outputs in rows:
        for name in json.loads(outputs):
            array = numpy.load(f"store/entries/{digest[:2]}/{digest}.{name}.npy")

Guarantees:

- An entry's files are written in ``tmp/`` and renamed into place, and only
  then is its row committed: a reader, which finds entries through the index
  only, never sees a partial entry; a killed writer leaves at most unindexed
  files, never a visible entry. Several processes (and cluster shards sharing
  the folder on a file system with working locks) may write one store at
  once: SQLite serialises the commits, waiting up to :data:`BUSY_TIMEOUT`
  seconds for a lock.
- Entries are keyed by clip identity, never by file name: clips of one name
  in two folders are two entries, a symlinked folder and its target are one
  clip, and any file name works. A clip whose identity changed misses, and
  loses its old entry at once (a clip that fails to decode now is never
  served an old entry); a new entry replaces it.
- The index is opened once per :class:`FeatureStore`: a lookup is one indexed
  query, whatever the number of entries.
- Opening a store removes the temporary files left by dead processes of this
  host, and those of other hosts older than :data:`STALE_TEMPORARY_SECONDS`;
  never the file of a live writer.
- Files are created with mode ``0o666`` minus the user's umask.
- A store that cannot be written (read-only mount, permissions) serves the
  entries it can read; :class:`FeatureStore` warns once and stores nothing.
- Folders of the previous format (2: ``skmem-cache.json`` and one
  ``<clip name>__<digest>.npy`` per clip, keyed by file name) are refused with
  :class:`FeatureConfigError` saying how to migrate: extract into a new folder.
"""

import contextlib
import errno
import hashlib
import json
import os
import re
import secrets
import socket
import sqlite3
import time
import warnings
from dataclasses import dataclass
from urllib.parse import quote

import numpy as np

from skmem._processes import process_alive
from skmem.features._clip_identity import CACHE_KEYS, _clip_key, clip_identity
from skmem.persistence import FeatureConfigError

__all__ = [
    "BUSY_TIMEOUT",
    "CACHE_KEYS",
    "CONFIG_FILE",
    "FORMAT_VERSION",
    "INDEX_FILE",
    "STALE_TEMPORARY_SECONDS",
    "Entry",
    "FeatureConfigError",
    "FeatureStore",
    "clip_identity",
    "is_store",
    "output_name",
    "read_config",
]

#: Bumped whenever the stored layout changes (3: SQLite index, entries keyed by clip identity).
FORMAT_VERSION = 3
#: The configuration record of a store.
CONFIG_FILE = "skmem-store.json"
#: The index of a store (SQLite).
INDEX_FILE = "index.sqlite"
#: Temporary files of other hosts older than this (seconds) are removed on open.
STALE_TEMPORARY_SECONDS = 24 * 3600
#: Seconds a writer waits for another writer's lock on the index.
BUSY_TIMEOUT = 120

_LEGACY_CONFIG_FILE = "skmem-cache.json"
_LEGACY_ENTRY = re.compile(r".+__[0-9a-f]{16}\.npy")
_ENTRIES = "entries"
_TEMPORARIES = "tmp"
_TEMPORARY_PREFIX = ".tmp-"
_OUTPUT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")
_READ_ONLY_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS}
_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,
    identity TEXT NOT NULL,
    digest TEXT NOT NULL,
    clip_id TEXT NOT NULL,
    path TEXT NOT NULL,
    outputs TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_by_clip_id ON entries (clip_id);
"""


def output_name(layer):
    """The name an output is stored under: ``"pooled"`` for ``layer=None``, else ``layer``."""
    return "pooled" if layer is None else layer


def check_output_name(name):
    """Refuse an output name that cannot name a file (``ValueError`` naming it)."""
    if not isinstance(name, str) or not _OUTPUT_NAME.fullmatch(name):
        raise ValueError(f"output name {name!r}: expected letters, digits, '_', '.' or '-' (not leading '.')")
    return name


def _legacy_message(directory):
    return (
        f"{directory}: a feature folder of an older skmem (format 2: {_LEGACY_CONFIG_FILE} and one "
        "'<clip name>__<digest>.npy' per clip, keyed by file name, so same-named clips of two folders "
        "collide); this skmem reads feature stores only: run 'skmem extract CLIPS --out NEW_FOLDER' "
        "(or CNNFeaturizer(cache_dir=NEW_FOLDER)) to extract them into a new folder"
    )


def _check_not_legacy(directory):
    """Refuse a folder written in the previous format (one listing, only where no store is recorded)."""
    if os.path.isfile(os.path.join(directory, _LEGACY_CONFIG_FILE)):
        raise FeatureConfigError(_legacy_message(directory))
    with contextlib.suppress(FileNotFoundError, NotADirectoryError), os.scandir(directory) as listing:
        if any(_LEGACY_ENTRY.fullmatch(item.name) and not item.name.startswith(".") for item in listing):
            raise FeatureConfigError(_legacy_message(directory))


def is_store(directory):
    """Whether ``directory`` records a feature store (holds :data:`CONFIG_FILE`)."""
    return os.path.isfile(os.path.join(os.path.expanduser(os.fspath(directory)), CONFIG_FILE))


def read_config(directory):
    """The configuration recorded in ``directory`` (a dict), or None when there is none.

    Raises
    ------
    ValueError
        Naming the file when it is not a JSON object.
    FeatureConfigError
        When ``directory`` is a feature folder of the previous format.
    """
    directory = os.path.expanduser(os.fspath(directory))
    path = os.path.join(directory, CONFIG_FILE)
    try:
        with open(path, encoding="utf-8") as fh:
            config = json.load(fh)
    except FileNotFoundError:
        _check_not_legacy(directory)
        return None
    except ValueError as exc:
        raise ValueError(f"{path}: not a valid feature configuration ({exc})") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path}: not a valid feature configuration (a JSON object expected)")
    return config


@dataclass(frozen=True)
class Entry:
    """One clip's row of the index: its canonical id, real path, files and outputs."""

    directory: str
    key: str
    clip_id: str
    path: str
    digest: str
    outputs: tuple

    def file(self, output):
        """The ``.npy`` file of ``output``."""
        return _entry_file(self.directory, self.digest, output)


def _entry_file(directory, digest, output):
    return os.path.join(directory, _ENTRIES, digest[:2], f"{digest}.{output}.npy")


def _remove(path):
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


class FeatureStore:
    """Per-clip features in ``directory`` for one ``config``, found through an index.

    Parameters
    ----------
    directory : str or path-like
        Created when missing (and writable).
    config : dict or None
        JSON-serialisable settings that determine the features; recorded in
        :data:`CONFIG_FILE` (with :data:`FORMAT_VERSION`), or checked against
        the recorded one. None opens an existing store to read it, whatever
        its configuration (:attr:`config` is then the recorded one).
    cache_key : {"stat", "content"}, default="stat"
        How clips are identified (see :func:`clip_identity`).

    Attributes
    ----------
    config : dict
    corrupt_entries : list of str
        Entry files found corrupt (and treated as missing) so far.
    writable : bool
        False once the folder proved unwritable (one warning is given).

    Raises
    ------
    FeatureConfigError
        When the folder records another configuration, or is a feature folder
        of the previous format.
    FileNotFoundError
        With ``config=None``, when ``directory`` is not a store.
    """

    def __init__(self, directory, config=None, cache_key="stat"):
        if cache_key not in CACHE_KEYS:
            raise ValueError(f"cache_key must be one of {CACHE_KEYS}, got {cache_key!r}")
        self.directory = os.path.abspath(os.path.expanduser(os.fspath(directory)))
        self.cache_key = cache_key
        self.corrupt_entries = []
        self.writable = True
        self._index = None
        if config is None:
            recorded = read_config(self.directory)
            if recorded is None:
                raise FileNotFoundError(f"{self.directory}: not a feature store (no {CONFIG_FILE})")
            self.config = recorded
            self.writable = False
        else:
            self.config = json.loads(
                json.dumps({"format_version": FORMAT_VERSION, **config}, sort_keys=True, default=str)
            )
            if os.path.isdir(self.directory):
                read_config(self.directory)  # refuses a folder of the old format before writing in it
            with self._writing(self.directory):
                os.makedirs(os.path.join(self.directory, _TEMPORARIES), exist_ok=True)
            if not os.path.isdir(self.directory):
                raise NotADirectoryError(f"cache_dir {self.directory} is not a folder and cannot be created")
            if self.writable and not os.access(self.directory, os.W_OK):
                self._read_only(f"{self.directory}: {os.strerror(errno.EACCES)}")
            self._record_config()
        self._open_index()
        if self.writable:
            self.remove_leftovers()

    # -- configuration, index and housekeeping ----------------------------

    def _record_config(self):
        path = os.path.join(self.directory, CONFIG_FILE)
        recorded = read_config(self.directory)
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
        if recorded is not None and recorded != self.config:
            raise FeatureConfigError(
                f"{self.directory}: holds features made with {json.dumps(recorded, sort_keys=True)}, "
                f"not {json.dumps(self.config, sort_keys=True)}; use another cache_dir"
            )

    def _open_index(self):
        path = os.path.join(self.directory, INDEX_FILE)
        if self.writable:
            try:
                index = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
                index.executescript(_SCHEMA)
                self._index = index
                return
            except sqlite3.OperationalError as exc:
                if "readonly" not in str(exc) and "unable to open" not in str(exc):
                    raise
                self._read_only(f"{path}: {exc}")
        if os.path.isfile(path):  # a reader that can write may roll back a killed writer's journal
            mode = "rw" if os.access(self.directory, os.W_OK) and os.access(path, os.W_OK) else "ro"
            self._index = sqlite3.connect(
                f"file:{quote(path)}?mode={mode}", uri=True, timeout=BUSY_TIMEOUT, isolation_level=None,
                check_same_thread=False,
            )

    def close(self):
        """Close the index (the store is unusable afterwards)."""
        if self._index is not None:
            self._index.close()
            self._index = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        with contextlib.suppress(Exception):
            self.close()

    def remove_leftovers(self):
        """Remove temporary files of dead writers; returns their paths.

        A file of this host is removed when the process that created it is
        gone; a file of another host when older than
        :data:`STALE_TEMPORARY_SECONDS`. Files of live writers stay.
        """
        removed = []
        now = time.time()
        with contextlib.suppress(FileNotFoundError), os.scandir(os.path.join(self.directory, _TEMPORARIES)) as listing:
            for item in listing:
                host, _, rest = item.name.removeprefix(_TEMPORARY_PREFIX).rpartition("@")
                host, _, pid = host.rpartition("@")
                try:
                    live = process_alive(int(pid), host) if host else True
                    if live and now - item.stat().st_mtime < STALE_TEMPORARY_SECONDS:
                        continue
                except (ValueError, FileNotFoundError):
                    continue
                _remove(item.path)
                removed.append(item.path)
        return removed

    def _read_only(self, what):
        if self.writable:
            warnings.warn(
                f"feature store {self.directory} is not writable ({what}); "
                "features missing from it are computed in memory and not stored",
                stacklevel=5,
            )
        self.writable = False

    @contextlib.contextmanager
    def _writing(self, what):
        """Turn a permission error into ``writable = False`` and one warning."""
        try:
            yield
        except OSError as exc:
            if exc.errno not in _READ_ONLY_ERRNOS:
                raise
            self._read_only(f"{exc.strerror}: {what}")
        except sqlite3.OperationalError as exc:
            if "readonly" not in str(exc):
                raise
            self._read_only(f"{exc}: {what}")

    def _write_temporary(self, data):
        """A new temporary file in ``tmp/`` holding ``data`` (bytes or an array)."""
        name = f"{_TEMPORARY_PREFIX}{socket.gethostname()}@{os.getpid()}@{secrets.token_hex(6)}.npy"
        temporary = os.path.join(self.directory, _TEMPORARIES, name)
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

    def _row(self, key):
        if self._index is None:
            return None
        return self._index.execute(
            "SELECT key, identity, digest, clip_id, path, outputs FROM entries WHERE key = ?", (key,)
        ).fetchone()

    def _entry(self, row):
        key, _, digest, clip_id, path, outputs = row
        return Entry(self.directory, key, clip_id, path, digest, tuple(json.loads(outputs)))

    def entry(self, clip_path):
        """The :class:`Entry` of ``clip_path`` as it is now, or None when the store has none."""
        key, identity = clip_identity(clip_path, self.cache_key)
        row = self._row(key)
        if row is None or identity is None or row[1] != json.dumps(identity):
            return None
        return self._entry(row)

    def entries(self):
        """Every entry, ordered by clip id and path."""
        if self._index is None:
            return []
        rows = self._index.execute(
            "SELECT key, identity, digest, clip_id, path, outputs FROM entries ORDER BY clip_id, path"
        )
        return [self._entry(row) for row in rows]

    def __len__(self):
        return 0 if self._index is None else self._index.execute("SELECT count(*) FROM entries").fetchone()[0]

    def find(self, item, row=0):
        """The entry of clip ``item`` (row ``row`` of ``X``), or None when absent.

        ``item`` is a clip path (with a folder part: found by its identity,
        as it is now) or an id in any spelling (``video1``, ``video1.webm``,
        ``1``), found by its canonical id; where the id names several clips,
        a file name (``a.webm``) picks the clip of that name.

        Raises
        ------
        ValueError
            When the id names several clips of the store (naming their paths):
            give the clips' paths instead.
        """
        text = os.fspath(item) if isinstance(item, (str, os.PathLike)) else None
        if text is not None and os.path.dirname(text) and os.path.isfile(text):
            for cache_key in CACHE_KEYS:
                found = FeatureStore.entry(self._with_key(cache_key), text)
                if found is not None:
                    return found
            return None
        key = _clip_key(item, row)
        if self._index is None:
            return None
        rows = self._index.execute(
            "SELECT key, identity, digest, clip_id, path, outputs FROM entries WHERE clip_id = ? ORDER BY rowid DESC",
            (key,),
        ).fetchall()
        by_path = {}
        for found in rows:
            by_path.setdefault(found[4], found)
        if len(by_path) > 1 and text is not None:  # a file name tells clips of one stem apart
            named = {path: found for path, found in by_path.items() if os.path.basename(path) == os.path.basename(text)}
            by_path = named or by_path
        if len(by_path) > 1:
            raise ValueError(
                f"X row {row}: {item!r} names {len(by_path)} clips of the feature store {self.directory} "
                f"({', '.join(sorted(by_path))}); give the clips' paths"
            )
        return self._entry(next(iter(by_path.values()))) if by_path else None

    def _with_key(self, cache_key):
        if cache_key == self.cache_key:
            return self
        view = object.__new__(FeatureStore)
        view.__dict__.update(self.__dict__, cache_key=cache_key)
        return view

    def discard(self, key):
        """Remove the entry of index key ``key`` (row first, then its files)."""
        if not self.writable or self._index is None:
            return
        with self._writing(self.directory):
            with self._index:
                self._index.execute("BEGIN IMMEDIATE")
                row = self._row(key)
                self._index.execute("DELETE FROM entries WHERE key = ?", (key,))
            if row is not None:
                for output in json.loads(row[5]):
                    _remove(_entry_file(self.directory, row[2], output))

    def load(self, clip_path, shapes):
        """Features of ``clip_path``: ``{output: array}`` for each of ``shapes``, or None.

        ``shapes`` maps each output wanted to its expected shape (None: any).
        A miss removes the clip's entry of another identity (a rewritten
        clip). A corrupt entry (unreadable, wrong dtype or shape, non-finite
        values) is reported with a warning, listed in ``corrupt_entries``,
        removed and treated as missing.
        """
        key, identity = clip_identity(clip_path, self.cache_key)
        row = self._row(key)
        if row is None:
            return None
        if identity is None or row[1] != json.dumps(identity):
            self.discard(key)
            return None
        entry = self._entry(row)
        if not set(shapes) <= set(entry.outputs):
            return None
        out = {}
        for output, shape in shapes.items():
            path = entry.file(output)
            try:
                features = np.load(path, allow_pickle=False)
                problem = None
                if features.dtype != np.float32:
                    problem = f"dtype {features.dtype}"
                elif shape is not None and features.shape != tuple(shape):
                    problem = f"shape {features.shape} instead of {tuple(shape)}"
                elif not np.isfinite(features).all():
                    problem = "non-finite values"
            except FileNotFoundError:
                if self._row(key) != row:  # replaced or removed by another writer meanwhile
                    return None
                problem = "its file is missing"
            except (OSError, ValueError, EOFError) as exc:
                problem = f"unreadable ({exc})"
            if problem is not None:
                warnings.warn(f"corrupt cache entry {path} for {clip_path}: {problem}; recomputing", stacklevel=3)
                self.corrupt_entries.append(path)
                self.discard(key)
                return None
            out[output] = features
        return out

    def save(self, clip_path, outputs):
        """Store ``{output: array}`` of ``clip_path`` atomically; returns its :class:`Entry`.

        The files are renamed into place first, then the row is committed
        (replacing the clip's old entry, whose files are removed). Returns
        None when the store is not writable.
        """
        if not self.writable:
            return None
        key, identity = clip_identity(clip_path, self.cache_key)
        if identity is None:
            return None
        identity = json.dumps(identity)
        digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
        names = [check_output_name(name) for name in outputs]
        clip = os.path.realpath(os.fspath(clip_path))
        with self._writing(clip):
            os.makedirs(os.path.join(self.directory, _ENTRIES, digest[:2]), exist_ok=True)
            for name in names:
                temporary = self._write_temporary(np.ascontiguousarray(outputs[name], dtype=np.float32))
                try:
                    os.replace(temporary, _entry_file(self.directory, digest, name))
                except BaseException:
                    _remove(temporary)
                    raise
            with self._index:
                self._index.execute("BEGIN IMMEDIATE")
                old = self._row(key)
                self._index.execute(
                    "INSERT OR REPLACE INTO entries (key, identity, digest, clip_id, path, outputs) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (key, identity, digest, _clip_key(clip), clip, json.dumps(names)),
                )
            if old is not None and old[2] != digest:
                for output in json.loads(old[5]):
                    _remove(_entry_file(self.directory, old[2], output))
        if not self.writable:
            return None
        return Entry(self.directory, key, _clip_key(clip), clip, digest, tuple(names))
