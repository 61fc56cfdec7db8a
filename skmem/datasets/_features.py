"""Join descriptor features to a loader's frame, one block of named columns per modality."""

import os

import numpy as np
import pandas as pd
from sklearn.base import clone

from skmem.features.precomputed import PrecomputedFeatureLoader


def _loaders(features, default_root):
    """``name: unfitted transformer`` from the ``features=`` argument of a loader."""
    if isinstance(features, (str, os.PathLike)) or not hasattr(features, "__iter__"):
        raise TypeError(
            "features must be a dict {name: folder or transformer} or a list of descriptor "
            f"kinds, got {features!r}"
        )
    if not hasattr(features, "items"):
        features = {kind: default_root for kind in features}
    loaders = {}
    for name, spec in features.items():
        if hasattr(spec, "fit_transform"):
            loaders[str(name)] = clone(spec)
        elif isinstance(spec, (str, os.PathLike)):
            root = os.path.expanduser(os.fspath(spec))
            loaders[str(name)] = PrecomputedFeatureLoader(name, root, on_missing="nan")
        elif isinstance(spec, (tuple, list)) and len(spec) == 2:
            matrix, ids = (os.path.expanduser(os.fspath(p)) for p in spec)
            loaders[str(name)] = PrecomputedFeatureLoader("matrix", matrix, ids_file=ids, on_missing="nan")
        else:
            raise TypeError(
                f"features[{name!r}] must be a folder, a (matrix file, id file) pair or a "
                f"transformer, got {spec!r}"
            )
    return loaders


def join_features(frame, ids, features, default_root):
    """Add one block of columns ``<name>_0 ... <name>_<D-1>`` per feature source.

    Parameters
    ----------
    frame : DataFrame
    ids : sequence
        Clip ids, one per row of ``frame``, passed to each transformer.
    features : dict, list or None
        None adds nothing. ``{name: folder}`` (read by :class:`~skmem.features.precomputed.PrecomputedFeatureLoader`
        with ``kind=name`` and ``on_missing="nan"``), ``{name: (matrix file,
        id file)}`` (one array plus its row ids: ``kind="matrix"``), ``{name: transformer}``
        (cloned, then ``fit_transform(ids)``), or a list of descriptor kinds
        read from ``default_root``.
    default_root : str
        The dataset's ``features/`` folder.

    Returns
    -------
    frame : DataFrame
        With the new columns (lower-cased name prefix).
    arrays : dict
        ``name: ndarray (n, D)``.
    columns : dict
        ``name: list of column names``, ready for a ``ColumnTransformer``.
    """
    arrays, columns, blocks = {}, {}, [frame]
    for name, loader in ({} if features is None else _loaders(features, default_root)).items():
        values = np.asarray(loader.fit_transform(list(ids)))
        values = values.reshape(len(frame), -1)
        names = [f"{name.lower()}_{j}" for j in range(values.shape[1])]
        clash = set(names) & set(frame.columns)
        if clash:
            raise ValueError(f"features[{name!r}]: column {sorted(clash)[0]!r} already exists")
        arrays[name], columns[name] = values, names
        blocks.append(pd.DataFrame(values, columns=names, index=frame.index))
    return pd.concat(blocks, axis=1), arrays, columns
