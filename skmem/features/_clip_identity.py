"""How the feature store knows a clip: its index key and identity, and its canonical id.

A clip is found by its key and served only while its identity is unchanged
(:func:`clip_identity`, by file status or by content, see :data:`CACHE_KEYS`);
lookups by id use the canonical clip id. :mod:`skmem.features.store` keys its
entries with these and exports the public names.
"""

import hashlib
import os

__all__ = ["CACHE_KEYS", "clip_identity"]

#: Accepted ``cache_key`` values.
CACHE_KEYS = ("stat", "content")

_CHUNK = 2**20


def _content_digest(path, size):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for offset in sorted({0, max(0, size // 2 - _CHUNK // 2), max(0, size - _CHUNK)}):
            fh.seek(offset)
            digest.update(fh.read(_CHUNK))
    return digest.hexdigest()


def clip_identity(clip_path, cache_key="stat"):
    """``(key, identity)`` of a clip file: what its entry is found by and made from.

    ``"stat"``: the key is the resolved real path (symlinks followed); the
    identity adds size, modification and status-change times (ns), device
    and inode. ``"content"``: key and identity are the size and a SHA-256 of
    the first, middle and last MiB. A missing clip has the identity None
    (it never hits).
    """
    real = os.path.realpath(os.fspath(clip_path))
    try:
        stat = os.stat(real)
        if cache_key == "stat":
            return real, [real, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_dev, stat.st_ino]
        content = _content_digest(real, stat.st_size)
    except OSError:
        return real, None
    return f"content:{stat.st_size}:{content}", ["content", stat.st_size, content]


def _clip_key(item, row=0):
    """The canonical clip id (imported on use: the precomputed package imports the store, which imports this module)."""
    from skmem.features.precomputed.ids import clip_key

    return clip_key(item, row)
