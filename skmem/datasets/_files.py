"""What the dataset loaders share: files that may or may not be on disk."""

import os

from sklearn.utils import Bunch


def file_bunch(frame, columns, root, arrays, **extra):
    """The loaders' Bunch: ``frame`` (with a ``present`` column), ``paths``, ``n_present``.

    Parameters
    ----------
    frame : DataFrame
        One row per item, with a ``path`` column.
    columns : list of str
        Columns kept in ``frame``, in order (``present`` among them).
    root : str
        The dataset folder, stored as ``root``.
    arrays : dict
        ``name: (column, dtype)``: also expose ``frame[column]`` as an array.
    **extra
        Further Bunch entries.
    """
    frame = frame.assign(present=[os.path.isfile(p) for p in frame["path"]])[columns].reset_index(drop=True)
    values = {name: frame[column].to_numpy(dtype=dtype) for name, (column, dtype) in arrays.items()}
    return Bunch(
        frame=frame,
        paths=frame["path"].to_numpy(dtype=object),
        n_present=int(frame["present"].sum()),
        root=root,
        **values,
        **extra,
    )
