"""LaMem (large-scale image memorability) loader."""

import numbers
import os

import numpy as np
import pandas as pd

from skmem._validation import check_choice
from skmem.datasets._files import file_bunch

__all__ = ["load_lamem"]

_SUBSETS = ("train", "val", "test")


def _lamem_folder(root):
    for candidate in (root, os.path.join(root, "lamem")):
        if os.path.isdir(os.path.join(candidate, "splits")):
            return candidate
    raise FileNotFoundError(f"{root}: no 'splits' folder (pass the lamem folder or its parent)")


def _read_split(path):
    """Read ``<image> <score>`` lines; errors name the file and line."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: split file not found")
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            text = fh.read()
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc})") from exc
    images, scores, seen = [], [], {}
    for number, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2:
            raise ValueError(f"{path}, line {number}: expected '<image> <score>', got {line.strip()!r}")
        image, value = fields
        try:
            score = float(value)
        except ValueError:
            raise ValueError(f"{path}, line {number}: score {value!r} is not a number") from None
        if not np.isfinite(score):
            raise ValueError(f"{path}, line {number}: score {value!r} is not finite")
        if image in seen:
            raise ValueError(f"{path}, line {number}: {image} already listed on line {seen[image]}")
        seen[image] = number
        images.append(image)
        scores.append(score)
    if not images:
        raise ValueError(f"{path}: no '<image> <score>' line")
    return images, scores


def load_lamem(root, split=1, subset="train"):
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
        images, scores = _read_split(path)
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
    return file_bunch(frame, columns, folder, {"scores": ("score", float)}, split=int(split), subset=subset)
