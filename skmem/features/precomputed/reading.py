"""Reading descriptor files for the loader: missing-file policy, parallel parsing, parsed-file cache."""

import os
import threading
from collections import OrderedDict, namedtuple

import numpy as np
from joblib import Parallel, delayed
from tqdm import tqdm

from skmem.features.descriptors import raw_nbytes

__all__ = ["CacheInfo", "FileReader", "ParsedFileCache"]

#: Files parsed in parallel only from this many cache misses on.
PARALLEL_MIN_FILES = 64

CacheInfo = namedtuple("CacheInfo", ["hits", "misses", "files", "nbytes", "max_bytes"])
CacheInfo.__doc__ = """Statistics of a :class:`ParsedFileCache` (like :func:`functools.lru_cache`'s)."""


class ParsedFileCache:
    """Parsed descriptor files kept in memory, least recently used dropped first.

    Bounded by the memory of the parsed contents (:func:`raw_nbytes`); a file
    larger than the bound is never kept. Keys hold the file's path, size,
    modification and status-change times and inode, so a rewritten file is
    parsed again. Thread-safe.

    Parameters
    ----------
    max_bytes : int
    """

    def __init__(self, max_bytes):
        self.max_bytes = int(max_bytes)
        self._items = OrderedDict()
        self._nbytes = 0
        self._hits = self._misses = 0
        self._lock = threading.Lock()

    @staticmethod
    def key(path, parser):
        """Cache key of ``path`` parsed by ``parser`` (a tuple of a function and its arguments)."""
        stat = os.stat(path)
        identity = (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_dev, stat.st_ino)
        return (os.fspath(path), identity, parser[0].__qualname__, parser[1:])

    def get(self, key):
        """The parsed content stored under ``key``, or None."""
        with self._lock:
            raw = self._items.get(key)
            if raw is None:
                self._misses += 1
            else:
                self._hits += 1
                self._items.move_to_end(key)
            return raw

    def put(self, key, raw):
        """Store ``raw``, dropping the least recently used contents beyond ``max_bytes``."""
        size = raw_nbytes(raw)
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = raw
            self._nbytes += size
            while self._nbytes > self.max_bytes:
                _, old = self._items.popitem(last=False)
                self._nbytes -= raw_nbytes(old)

    def info(self):
        """Hits, misses, files held, bytes held and the bound, as a :class:`CacheInfo`."""
        with self._lock:
            return CacheInfo(self._hits, self._misses, len(self._items), self._nbytes, self.max_bytes)


class FileReader:
    """What one ``fit`` or ``transform`` call needs to read files.

    Parameters
    ----------
    kind : str
        Descriptor kind, named in messages.
    ids : list
        The ids of ``X``, named in messages.
    on_missing : {"raise", "zeros", "nan"}
    fitting : bool
        Whether the call is a ``fit`` (then at least one clip must be found).
    cache : ParsedFileCache or None
    n_jobs : int or None
    verbose : int

    Attributes
    ----------
    missing_rows : list of int
        Rows of ``X`` without a file, once :meth:`found` ran.
    """

    def __init__(self, kind, ids, *, on_missing, fitting, cache, n_jobs, verbose):
        self.kind = kind
        self.ids = ids
        self.on_missing = on_missing
        self.fitting = fitting
        self.cache = cache
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.missing_rows = []

    @property
    def fill(self):
        """Value of the rows of missing clips."""
        return np.nan if self.on_missing == "nan" else 0.0

    def found(self, sources, where, describe):
        """Apply the missing-file policy to ``sources`` (None for a clip not found).

        ``where`` names the folder or file searched; ``describe(row)`` says
        what is missing for a row. Raises ``FileNotFoundError`` for the first
        missing clip when ``on_missing="raise"``, and at fit when no clip is found.
        """
        self.missing_rows = [row for row, source in enumerate(sources) if source is None]
        if not self.missing_rows:
            return
        if self.on_missing == "raise":
            row = self.missing_rows[0]
            raise FileNotFoundError(
                f"no {self.kind} descriptor for clip {self.ids[row]!r} (row {row}): {describe(row)}"
            )
        if self.fitting and len(self.missing_rows) == len(sources):
            raise FileNotFoundError(f"none of the {len(sources)} clips has a {self.kind} descriptor in {where}")

    def parse(self, paths, parser):
        """Yield ``(path, raw)`` for every path, in order.

        ``parser`` is ``(function, *args)``: a file is parsed by
        ``function(path, *args)``, in parallel (joblib) when ``n_jobs`` asks
        for it and at least :data:`PARALLEL_MIN_FILES` files are not cached.
        """
        function, *args = parser
        cache = self.cache
        keys = [cache.key(p, parser) for p in paths] if cache is not None else [None] * len(paths)
        hits = [cache.get(k) for k in keys] if cache is not None else [None] * len(paths)
        todo = [p for p, hit in zip(paths, hits) if hit is None]
        n_jobs = self.n_jobs if len(todo) >= PARALLEL_MIN_FILES else None
        if n_jobs in (None, 1):
            parsed = (function(p, *args) for p in todo)
        else:
            parsed = Parallel(n_jobs=n_jobs, return_as="generator")(delayed(function)(p, *args) for p in todo)
        with tqdm(total=len(todo), desc=f"{self.kind} files", disable=self.verbose <= 0) as bar:
            for path, key, raw in zip(paths, keys, hits):
                if raw is None:
                    raw = next(parsed)
                    if cache is not None:
                        cache.put(key, raw)
                    bar.update()
                yield path, raw
