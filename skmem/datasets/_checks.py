"""Checks of the rows a loader reads: ids and scores, with a raise-or-warn policy."""

import math
import warnings

import numpy as np

from skmem._validation import check_choice
from skmem.ids import clip_id

ON_INVALID = ("raise", "warn")


class InvalidRows:
    """Report invalid values of one file: raise at the first, or collect them and warn once.

    Parameters
    ----------
    path : str
        The file, named in every message.
    on_invalid : {"raise", "warn"}
        ``"raise"``: :meth:`report` raises ``ValueError`` naming the file and
        line. ``"warn"``: it records the problem; :meth:`warn` then issues one
        ``UserWarning`` naming the file, how many values were invalid and the
        first few lines (in file order), and says what was done with them (``action``).
    """

    def __init__(self, path, on_invalid):
        check_choice(on_invalid, "on_invalid", ON_INVALID)
        self.path = path
        self.on_invalid = on_invalid
        self.problems = []

    def report(self, line, message):
        if self.on_invalid == "raise":
            raise ValueError(f"{self.path}, line {line}: {message}")
        self.problems.append((line, message))

    def warn(self, action):
        if self.problems:
            problems = sorted(self.problems, key=lambda problem: problem[0])
            shown = "; ".join(f"line {line}: {message}" for line, message in problems[:3])
            shown += "; ..." if len(problems) > 3 else ""
            warnings.warn(
                f"{self.path}: {len(self.problems)} invalid value(s) ({shown}); {action}",
                stacklevel=3,
            )


def check_ids(ids, lines, column, invalid):
    """Stripped ids and a mask of the rows to keep (not empty, not a repeat of an earlier row).

    Ids are compared by :func:`skmem.ids.clip_id`, so ``video1`` and
    ``video1.webm`` (or ``1``, ``0001``, ``x/video1.webm``) are one clip.
    Empty ids and repeated clips are reported to ``invalid`` (an
    :class:`InvalidRows`), naming both lines and spellings; under ``"warn"``
    those rows are dropped and the first occurrence kept.
    """
    ids = [str(i).strip() for i in ids]
    keep = np.ones(len(ids), dtype=bool)
    first = {}
    for row, (value, line) in enumerate(zip(ids, lines)):
        try:
            key = clip_id(value)
        except ValueError:
            invalid.report(line, f"empty {column}" if not value else f"{column} {value!r} names no clip")
            keep[row] = False
            continue
        if key in first:
            first_line, first_value = first[key]
            same = "already listed" if value == first_value else f"is the clip {first_value!r} already listed"
            invalid.report(line, f"{column} {value!r} {same} on line {first_line}")
            keep[row] = False
        else:
            first[key] = (line, value)
    return ids, keep


def texts_by_clip(ids, texts, lines, column, invalid):
    """Stripped texts grouped by canonical clip id, from a file listing a clip on several rows.

    Every row of one clip must spell its id alike (:func:`skmem.ids.clip_id`
    decides what is one clip). An empty id, an id naming no clip and another
    spelling of an earlier row's clip are reported to ``invalid`` (an
    :class:`InvalidRows`), naming the line (and the first line of that
    clip); under ``"warn"`` those rows are skipped.

    Returns
    -------
    dict
        ``{clip id: list of its non-empty texts, in file order}``; a clip
        whose texts are all empty maps to an empty list.
    """
    grouped, spelling = {}, {}
    for line, value, text in zip(lines, ids, texts):
        value = str(value).strip()
        try:
            key = clip_id(value)
        except ValueError:
            invalid.report(line, f"empty {column}" if not value else f"{column} {value!r} names no clip")
            continue
        first_line, first = spelling.setdefault(key, (line, value))
        if first != value:
            invalid.report(line, f"{column} {value!r} is the clip {first!r} of line {first_line}")
            continue
        kept = grouped.setdefault(key, [])
        if text.strip():
            kept.append(text.strip())
    return grouped


def check_numbers(cells, lines, column, invalid, *, low=-math.inf, high=math.inf, integer=False):
    """Parse text cells into floats that are finite, in ``[low, high]`` and, if asked, whole.

    Each bad cell is reported to ``invalid``; under ``"warn"`` it becomes NaN.
    """
    values = np.full(len(cells), np.nan)
    kind = "a whole number" if integer else "a number"
    for row, (cell, line) in enumerate(zip(cells, lines)):
        text = str(cell).strip()
        try:
            value = float(text)
        except ValueError:
            invalid.report(line, f"{column} {text!r} is not {kind}")
            continue
        if not math.isfinite(value):
            problem = "is not finite"
        elif not low <= value <= high:
            problem = f"lies outside [{low:g}, {high:g}]"
        elif integer and not value.is_integer():
            problem = "is not a whole number"
        else:
            values[row] = value
            continue
        invalid.report(line, f"{column} {text!r} {problem}")
    return values
