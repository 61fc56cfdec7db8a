"""The canonical clip id: when two spellings name the same clip.

Every reader and join of skmem (ground truth, captions, descriptor folders,
feature matrices with id lists, the command line's labels, captions and run
files) matches clips by :func:`clip_id`, so one rule decides what counts as
the same clip:

1. A path counts by its file name: ``/data/clips/video1.webm``,
   ``../x/video1.webm`` and ``video1.webm`` are one id (the folder is not
   part of the id; two folders holding ``video1.webm`` hold clips of one id).
2. The extension is dropped: ``video1.webm``, ``video1.mp4`` and ``video1``
   are one id (only the last extension: ``a.b.webm`` is ``a.b``).
3. A name of digits only is a number and means ``video<N>``: ``1``,
   ``0001``, ``1.webm`` and ``video1`` are one id, ``video01`` is not.
4. Surrounding white space is ignored and text is compared in Unicode NFC
   form (a name typed on one system equals the same name listed on
   another); case matters (``Video1`` is not ``video1``).

Two spellings of one id in one file (``video1`` on one line, ``0001`` on
another) are refused, naming both lines: see :func:`repeated_ids`.
"""

import numbers
import os
import re
import unicodedata

__all__ = ["clip_id", "repeated_ids", "same_clip"]

_DIGITS = re.compile(r"[0-9]+")


def clip_id(item):
    """The canonical id of a clip given as an id, a file name, a path or a number.

    Parameters
    ----------
    item : str, path-like or int
        ``"video1"``, ``"video1.webm"``, ``"/data/video1.webm"``, ``"0001"``
        and ``1`` all give ``"video1"``.

    Returns
    -------
    str

    Raises
    ------
    TypeError
        When ``item`` is not a string, path or whole number (a bool, a
        fraction, None).
    ValueError
        When ``item`` has no file name (empty, blank, or a bare folder such
        as ``"/"``).
    """
    if isinstance(item, bool) or type(item).__name__ == "bool_":
        raise TypeError(f"expected a clip id or path, got {item!r}")
    if isinstance(item, numbers.Integral):
        return f"video{int(item)}"
    if isinstance(item, numbers.Real) and float(item).is_integer():
        return f"video{int(item)}"
    if not isinstance(item, (str, os.PathLike)):
        raise TypeError(f"expected a clip id or path, got {item!r}")
    text = unicodedata.normalize("NFC", os.fspath(item).strip())
    name = os.path.basename(text.rstrip("/\\").replace("\\", "/"))
    stem = os.path.splitext(name)[0] or name
    if not stem.strip():
        raise ValueError(f"{item!r} is not a clip id: it has no file name")
    return f"video{int(stem)}" if _DIGITS.fullmatch(stem) else stem


def same_clip(a, b):
    """Whether ``a`` and ``b`` are spellings of one clip (see the module's rule)."""
    return clip_id(a) == clip_id(b)


def repeated_ids(ids):
    """Positions of ids that repeat an earlier one under the canonical rule.

    Parameters
    ----------
    ids : sequence of str, path-like or int
        Ids in file order (each must be a valid id, see :func:`clip_id`).

    Returns
    -------
    list of (int, int)
        ``(first, repeat)`` positions: ``ids[repeat]`` names the clip of
        ``ids[first]``, the earliest spelling of it.
    """
    first, repeats = {}, []
    for position, item in enumerate(ids):
        key = clip_id(item)
        if key in first:
            repeats.append((first[key], position))
        else:
            first[key] = position
    return repeats
