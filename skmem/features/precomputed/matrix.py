"""A feature matrix shipped as one array file plus the list of its rows' clip ids."""

import os
from pathlib import Path

import numpy as np

from skmem._params import InvalidParameterError
from skmem.features.descriptors import DescriptorFormatError, parse_matrix, read_lines
from skmem.features.precomputed.arrays import ArrayRows
from skmem.features.precomputed.base import DescriptorFormat
from skmem.features.precomputed.ids import ClipIndex, clip_key

__all__ = ["MatrixFormat", "read_id_list"]


def _csv_column(path, column):
    """``[(line, value)]`` of one column of a CSV (TSV for ``.tsv``/``.tab``) with a header."""
    import pandas as pd

    sep = "\t" if Path(path).suffix.lower() in (".tsv", ".tab") else ","
    try:
        frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise
    except (ValueError, pd.errors.ParserError) as exc:  # includes undecodable bytes and an empty file
        raise DescriptorFormatError(path, f"is not a readable CSV file ({exc})") from None
    if column not in frame.columns:
        columns = ", ".join(repr(c) for c in frame.columns)
        raise DescriptorFormatError(path, f"has no column {column!r} (columns: {columns})")
    return [(row + 2, value.strip()) for row, value in enumerate(frame[column])]


def read_id_list(path, column=None):
    """The clip ids of a matrix's rows, in row order.

    Parameters
    ----------
    path : str or path-like
        A text file with one id per line (blank lines are skipped), or a CSV
        file with a header when ``column`` is given.
    column : str, optional
        The CSV column holding the ids.

    Returns
    -------
    ids : list of str

    Raises
    ------
    DescriptorFormatError
        Naming the file and line of an empty id, or of an id that repeats an
        earlier one (``video10``, ``video10.webm`` and ``10`` are one clip).
    """
    lines = [(n, text.strip()) for n, text in read_lines(path)] if column is None else _csv_column(path, column)
    seen = {}
    for number, name in lines:
        if not name:
            raise DescriptorFormatError(path, f"empty id in column {column!r}", number)
        key = clip_key(name)
        if key in seen:
            first_line, first = seen[key]
            raise DescriptorFormatError(path, f"id {name!r} repeats {first!r} of line {first_line}", number)
        seen[key] = (number, name)
    return [name for _, name in lines]


class MatrixFormat(DescriptorFormat):
    """One array file (``root``) with a row per clip; ``ids_file`` lists the rows' ids.

    Rows of shape ``(D,)`` (a 2-D matrix) or ``(T, D)`` (3-D) are averaged or
    stacked like ``npy`` arrays. The matrix must have one row per listed id.
    """

    parser = (parse_matrix,)

    def __init__(self, kind, params):
        super().__init__(kind, params)
        if params["ids_file"] is None:
            raise InvalidParameterError(
                "The 'ids_file' parameter of PrecomputedFeatureLoader must name the file listing the "
                "matrix's clip ids when kind='matrix'. Got None instead."
            )
        self.ids_file = os.fspath(params["ids_file"])
        self.id_column = params["id_column"]
        self.arrays = ArrayRows(self.aggregate, params["dim"])

    def resolve(self, root):
        root = Path(root)
        if not root.is_file():
            raise FileNotFoundError(f"root {str(root)!r} is not a file (kind='matrix' reads one array file)")
        if not Path(self.ids_file).is_file():
            raise FileNotFoundError(f"ids_file {self.ids_file!r} is not a file")
        return root

    def _read(self, root, reader):
        """Per clip its row (None when not listed), and the matrix."""
        listed = read_id_list(self.ids_file, self.id_column)
        index = ClipIndex(((name, row) for row, name in enumerate(listed)), repr(self.ids_file))
        rows = [index.find(item, row) for row, item in enumerate(reader.ids)]
        reader.found(rows, repr(self.ids_file), lambda row: f"it is not listed in {self.ids_file!r}")
        ((_, matrix),) = reader.parse([root], self.parser)
        if len(matrix) != len(listed):
            raise DescriptorFormatError(
                root, f"has {len(matrix)} rows, but {self.ids_file} lists {len(listed)} ids (one per row)"
            )
        return rows, matrix

    @staticmethod
    def _clip(matrix, row):
        return matrix[row] if matrix.ndim == 3 else matrix[row][None]

    def _assemble(self, root, rows, matrix, fill):
        out = np.empty((len(rows),) + tuple(self.arrays.clip_shape), dtype=np.float32)
        for i, row in enumerate(rows):
            out[i] = fill if row is None else self.arrays.row(self._clip(matrix, row), root)
        return out

    def fit(self, root, reader):
        _, matrix = self._read(root, reader)
        self.arrays.learn(self._clip(matrix, 0), root)

    def transform(self, root, reader):
        rows, matrix = self._read(root, reader)
        return self._assemble(root, rows, matrix, reader.fill)

    def fit_transform(self, root, reader):
        rows, matrix = self._read(root, reader)
        self.arrays.learn(self._clip(matrix, 0), root)
        return self._assemble(root, rows, matrix, reader.fill)

    @property
    def n_features_out(self):
        return self.arrays.dim

    def attributes(self):
        return {"dim_": self.arrays.dim, "frame_shape_": self.arrays.frame_shape}
