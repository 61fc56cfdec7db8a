"""Folders of one ``.npy`` array per clip, and feature stores written by :class:`skmem.CNNFeaturizer`."""

import json
import os
import warnings
from pathlib import Path

import numpy as np

from skmem.features.descriptors import DescriptorFormatError, parse_file
from skmem.features.precomputed.base import FileFormat
from skmem.features.precomputed.ids import ClipIndex, clip_key
from skmem.features.store import FeatureConfigError, FeatureStore, output_name, read_config
from skmem.persistence import config_difference

__all__ = ["ArrayRows", "NpyFormat", "feature_index"]


def feature_index(root):
    """The clips of a feature folder: ``{clip name: .npy file}``.

    A feature store written by :class:`skmem.CNNFeaturizer` (it records
    :data:`~skmem.features.store.CONFIG_FILE`) lists its entries by canonical
    clip id (``video10``), each with the file of its ``layer`` output, as its
    index records them. Any other folder holds one ``<name>.npy`` per clip,
    listed by ``<name>``; hidden files are skipped.

    Parameters
    ----------
    root : str or path-like

    Raises
    ------
    FileNotFoundError
        When ``root`` is not a folder.
    FeatureConfigError
        When ``root`` is a feature folder of an older skmem (see
        :mod:`skmem.features.store`).
    ValueError
        When one clip id names two clips of a store (naming both paths).
    """
    root = Path(os.path.expanduser(os.fspath(root)))
    if not root.is_dir():
        raise FileNotFoundError(f"feature folder {str(root)!r} is not a folder")
    if read_config(root) is not None:
        with FeatureStore(root) as store:
            primary = output_name(store.config.get("layer"))
            index = {}
            for entry in store.entries():
                if entry.clip_id in index:
                    store.find(entry.clip_id)  # raises, naming both clips
                index[entry.clip_id] = Path(entry.file(primary))
            return index
    with os.scandir(root) as listing:
        return {
            item.name[: -len(".npy")]: Path(item.path)
            for item in listing
            if item.name.endswith(".npy") and not item.name.startswith(".") and item.is_file()
        }


class ArrayRows:
    """The fitted shape of clip arrays, and how one becomes an output row.

    ``aggregate="mean"`` averages every axis but the last; ``"stack"`` keeps
    the array, which must have the shape seen first.

    Parameters
    ----------
    aggregate : {"mean", "stack"}
    dim : int or None
        Expected length of the last axis; the first array's when None.
    """

    def __init__(self, aggregate, dim):
        self.aggregate = aggregate
        self.dim = dim
        self.frame_shape = None

    def learn(self, array, path):
        """Take the shape of the first array; validate every array."""
        if self.frame_shape is None:
            self.frame_shape = tuple(array.shape)
            self.dim = array.shape[-1] if self.dim is None else self.dim
        self.row(array, path)

    def row(self, array, path):
        """One clip's row from its array (read from ``path``)."""
        if self.aggregate == "stack":
            if array.shape != self.frame_shape:
                raise DescriptorFormatError(
                    path, f"has shape {array.shape}, expected {self.frame_shape} (as at fit) "
                    "to stack; use aggregate='mean' for varying lengths"
                )
            return array
        if array.shape[-1] != self.dim:
            raise DescriptorFormatError(path, f"has {array.shape[-1]} features, expected {self.dim}")
        return array.reshape(-1, array.shape[-1]).mean(axis=0, dtype=np.float64)

    @property
    def clip_shape(self):
        return self.frame_shape if self.aggregate == "stack" else (self.dim,)


class NpyFormat(FileFormat):
    """One ``.npy`` array per clip, ``(D,)``, ``(T, D)`` or ``(T, L, D)`` (see :func:`feature_index`).

    In a feature store, a clip is found through its index: by its path (as
    it is now: a rewritten clip is missing) or by its canonical id, and its
    ``layer`` output is read. ``fit`` records the store's feature
    configuration (without its extra outputs, which are not read);
    ``transform`` refuses a folder that records another one.
    """

    parser = (parse_file, "npy", None)

    def __init__(self, kind, params):
        super().__init__(kind, params)
        self.arrays = ArrayRows(self.aggregate, params["dim"])
        self.config = None
        self.fitted_root = None

    def check_config(self, root, fitting):
        """Record (at fit) or check the configuration recorded in ``root``; returns it."""
        config = read_config(root)
        if config is not None:
            config = {**config, "extra_outputs": []}  # only the layer output is read
        if fitting:
            self.config, self.fitted_root = config, root
        if config == self.config:
            return config
        if config is None or self.config is None:
            side = f"{root}" if config is None else f"the fit's folder {self.fitted_root}"
            warnings.warn(
                f"{side} records no feature configuration; cannot check that the features in {root} "
                f"match those the loader was fitted on (in {self.fitted_root})",
                UserWarning,
                stacklevel=5,
            )
            return config
        raise FeatureConfigError(
            f"the features in {root} were made with another configuration than those the loader was "
            f"fitted on (in {self.fitted_root}): {config_difference(self.config, config)} (fit vs now); "
            f"fitted on {json.dumps(self.config, sort_keys=True)}, "
            f"now {json.dumps(config, sort_keys=True)}"
        )

    def locate(self, root, reader):
        config = self.check_config(root, reader.fitting)
        sources = []
        if config is None:
            index = ClipIndex(feature_index(root).items(), repr(str(root)))
            for row, item in enumerate(reader.ids):
                path = index.find(item, row)
                sources.append(None if path is None else [path])
        else:
            with FeatureStore(root) as store:
                primary = output_name(config.get("layer"))
                for row, item in enumerate(reader.ids):
                    entry = store.find(item, row)
                    sources.append(None if entry is None else [Path(entry.file(primary))])

        def describe(row):
            if config is None:
                return f"{str(root / (clip_key(reader.ids[row], row) + '.npy'))!r} does not exist"
            return f"the feature store {str(root)!r} has no entry for it (as it is now)"

        reader.found(sources, repr(str(root)), describe)
        return sources

    def learn(self, path, raw):
        self.arrays.learn(raw, path)

    def row(self, parsed):
        ((path, raw),) = parsed
        return self.arrays.row(raw, path)

    @property
    def clip_shape(self):
        return self.arrays.clip_shape

    @property
    def n_features_out(self):
        return self.arrays.dim

    def attributes(self):
        return {"dim_": self.arrays.dim, "frame_shape_": self.arrays.frame_shape, "feature_config_": self.config}
