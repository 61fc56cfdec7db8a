"""LaMem (large-scale image memorability) loader."""

import numbers
import os

import pandas as pd

from skmem._validation import check_choice
from skmem.datasets._checks import InvalidRows, check_ids, check_numbers
from skmem.datasets._files import file_bunch, text_lines

__all__ = ["load_lamem"]

_SUBSETS = ("train", "val", "test")


def _lamem_folder(root):
    for candidate in (root, os.path.join(root, "lamem")):
        if os.path.isdir(os.path.join(candidate, "splits")):
            return candidate
    raise FileNotFoundError(f"{root}: no 'splits' folder (pass the lamem folder or its parent)")


def _read_split(path, on_invalid):
    """Read ``<image> <score>`` lines; errors name the file and line."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: split file not found")
    invalid = InvalidRows(path, on_invalid)
    images, scores, lines = [], [], []
    for number, line in text_lines(path):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2:
            invalid.report(number, f"expected '<image> <score>', got {line.strip()!r}")
            continue
        images.append(fields[0])
        scores.append(fields[1])
        lines.append(number)
    images, keep = check_ids(images, lines, "image", invalid)
    scores = check_numbers(scores, lines, "score", invalid, low=0, high=1)
    invalid.warn("lines with a bad or repeated image were dropped (the first kept); bad scores are NaN")
    if not keep.any():
        raise ValueError(f"{path}: no '<image> <score>' line")
    return [i for i, k in zip(images, keep) if k], scores[keep]


def load_lamem(root, split=1, subset="train", *, on_invalid="raise"):
    """Load one split of LaMem: image paths and that split's memorability scores.

    The same image has different scores in different splits, so scores are
    only comparable within one split: ``split`` is a single number and the
    loader never pools splits.

    Parameters
    ----------
    root : str or path-like
        The ``lamem`` folder (holding ``images/`` and ``splits/``) or its parent.
    split : int in 1..5, default=1
    subset : {"train", "val", "test", "all"}, default="train"
        ``"all"`` returns the three subsets of ``split`` together, with a
        ``subset`` column; an image listed in two of them is an error.
    on_invalid : {"raise", "warn"}, default="raise"
        What a malformed line, a repeated image or a score that is not a
        finite number in [0, 1] does: ``ValueError`` naming the file and
        line, or one warning, the line dropped (the first of repeated images
        kept) or the score set to NaN.

    Returns
    -------
    Bunch
        ``frame`` (image, path, present, score, subset), ``paths``,
        ``n_present``, ``scores``, ``split``, ``subset`` and ``root``.
    """
    if isinstance(split, bool) or not isinstance(split, numbers.Integral) or not 1 <= split <= 5:
        raise ValueError(
            f"split must be one of 1, 2, 3, 4, 5, got {split!r}: LaMem scores differ between "
            "splits, so evaluate within one split and never pool them"
        )
    check_choice(subset, "subset", (*_SUBSETS, "all"))
    folder = _lamem_folder(os.fspath(root))
    frames, origin = [], {}
    for name in _SUBSETS if subset == "all" else (subset,):
        path = os.path.join(folder, "splits", f"{name}_{int(split)}.txt")
        images, scores = _read_split(path, on_invalid)
        for image in images:
            if image in origin:
                raise ValueError(
                    f"{path}: {image} is also in {origin[image]}; the subsets of split {split} overlap"
                )
            origin[image] = path
        frames.append(pd.DataFrame({"image": images, "score": scores, "subset": name}))
    frame = pd.concat(frames, ignore_index=True)
    images_dir = os.path.join(folder, "images")
    frame["path"] = [os.path.join(images_dir, image) for image in frame["image"]]
    columns = ["image", "path", "present", "score", "subset"]
    arrays = {"scores": ("score", float)}
    return file_bunch(frame, columns, folder, arrays, what="images", split=int(split), subset=subset)
