"""What the dataset loaders share: reading text files, and files that may or may not be on disk."""

import csv
import io
import os
import re
import warnings

from sklearn.utils import Bunch

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def read_text(path):
    """The text of a UTF-8 file (a leading BOM dropped, line ends kept).

    Raises
    ------
    ValueError
        When the bytes are not UTF-8, naming the file, the byte offset and the line.
    """
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValueError(
            f"{path}: not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} (line {line})"
        ) from None


def text_lines(path):
    """``(line_number, line)`` for every line of ``path`` (CRLF, CR and LF all end a line)."""
    return list(enumerate(_LINE_BREAK.split(read_text(path)), start=1))


def read_csv_records(path):
    """Header and records of a CSV file, each record with the line it starts on.

    Quoted fields may span lines, so a record's line number counts the lines
    before it. Blank records (rows of empty cells included) are skipped.

    Returns
    -------
    header : list of str
        Stripped column names.
    records : list of (int, list of str)

    Raises
    ------
    ValueError
        Naming the file and line: not UTF-8, no header, a record whose number
        of fields differs from the header's, or unparseable quoting.
    """
    reader = csv.reader(io.StringIO(read_text(path), newline=""))
    header, records, line = None, [], 1
    try:
        for row in reader:
            start, line = line, reader.line_num + 1
            if not "".join(row).strip():
                continue
            if header is None:
                header = [name.strip() for name in row]
            elif len(row) != len(header):
                raise ValueError(
                    f"{path}, line {start}: {len(row)} field(s) where the header has {len(header)}"
                )
            else:
                records.append((start, row))
    except csv.Error as exc:
        raise ValueError(f"{path}, line {reader.line_num}: unreadable CSV ({exc})") from None
    if header is None:
        raise ValueError(f"{path}: empty file, no CSV header")
    return header, records


def csv_columns(path, header, records, names):
    """``{name: list of cells}`` for the columns ``names`` of :func:`read_csv_records`'s output.

    Raises ``ValueError`` naming the file and the missing columns.
    """
    missing = [c for c in names if c not in header]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; found {header}")
    return {name: [row[header.index(name)] for _, row in records] for name in names}


def file_bunch(frame, columns, root, arrays, *, what="files", **extra):
    """The loaders' Bunch: ``frame`` (with a ``present`` column), ``paths``, ``n_present``.

    Warns when some of the files the rows point to are absent, naming their
    folder and how many are missing.

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
    what : str, default="files"
        What the paths point to, for the warning ("clips", "images").
    **extra
        Further Bunch entries.
    """
    frame = frame.assign(present=[os.path.isfile(p) for p in frame["path"]])[columns].reset_index(drop=True)
    n_absent = int((~frame["present"]).sum())
    if n_absent:
        folders = sorted({os.path.dirname(p) for p in frame.loc[~frame["present"], "path"]})
        shown = ", ".join(folders[:3]) + (", ..." if len(folders) > 3 else "")
        warnings.warn(
            f"{n_absent} of {len(frame)} {what} are absent from {shown}; their paths point where "
            "they are expected and the 'present' column is False",
            stacklevel=3,
        )
    values = {name: frame[column].to_numpy(dtype=dtype) for name, (column, dtype) in arrays.items()}
    return Bunch(
        frame=frame,
        paths=frame["path"].to_numpy(dtype=object),
        n_present=len(frame) - n_absent,
        root=root,
        **values,
        **extra,
    )
