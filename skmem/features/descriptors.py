"""Parsers for the descriptor files of the MediaEval memorability datasets.

Each parser reads one file and returns its *raw* content: a list of
``(line_number, payload)`` for the text formats (a dense float32 vector, or
``(indices, values)`` for sparse ``index:value`` lines), or a float32 array for
``.npy`` files. The ``*_vector`` functions turn a raw content into a fixed-size
vector once the dimension is known. Every problem raises
:class:`DescriptorFormatError`, which names the file and, where it applies, the
line.

Formats (see the MediaEval 2018 dataset notes):

- dense: whitespace-separated floats (C3D, LBP, HOG) or comma-separated floats
  (aesthetics), possibly wrapped over several lines;
- sparse: ``index:value`` pairs (HMP is 1-based, InceptionV3 and
  ColorHistogram are 0-based); ColorHistogram has one line per colour channel;
- rows: one vector per line (ORB key points);
- npy: one array per clip, ``(D,)``, ``(T, D)`` or ``(T, L, D)``;
- matrix: one row per clip in one file (``.npy``, ``.npz`` holding one array,
  or text: comma-separated in ``.csv``, whitespace-separated otherwise).
"""

from pathlib import Path

import numpy as np

__all__ = [
    "DescriptorFormatError",
    "read_lines",
    "parse_file",
    "parse_matrix",
    "dense_vector",
    "sparse_vector",
    "channels_vector",
    "rows_vector",
    "ragged_vector",
    "raw_nbytes",
]

_MAX_INDEX = 2**31 - 1


class DescriptorFormatError(ValueError):
    """A descriptor file that cannot be read as the expected format.

    Attributes
    ----------
    path : str
        The offending file.
    line : int or None
        1-based line number, when the problem is on one line.
    """

    def __init__(self, path, message, line=None):
        self.path = str(path)
        self.message = message
        self.line = line
        where = self.path if line is None else f"{self.path}, line {line}"
        super().__init__(f"{where}: {message}")

    def __reduce__(self):
        return type(self), (self.path, self.message, self.line)


def _shorten(token, limit=40):
    return token if len(token) <= limit else token[:limit] + "..."


def read_lines(path):
    """Return ``[(line_number, text)]`` of the non-blank lines of a text file."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise DescriptorFormatError(path, f"cannot be read ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DescriptorFormatError(path, f"is not UTF-8 text (byte {exc.start})", line) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [(number, line) for number, line in enumerate(text.split("\n"), 1) if line.strip()]
    if not lines:
        raise DescriptorFormatError(path, "is empty (no values)")
    return lines


def _floats(tokens, path, line):
    """Convert string tokens to a finite float64 array."""
    try:
        values = np.array(tokens, dtype=np.float64)
    except ValueError:
        for token in tokens:
            try:
                float(token)
            except ValueError:
                raise DescriptorFormatError(
                    path, f"non-numeric token {_shorten(token)!r}", line
                ) from None
        raise DescriptorFormatError(path, "non-numeric token", line) from None
    if not np.all(np.isfinite(values)):
        bad = tokens[int(np.flatnonzero(~np.isfinite(values))[0])]
        raise DescriptorFormatError(path, f"non-finite value {_shorten(bad)!r}", line)
    return values


def _dense_line(text, path, line, sep):
    if sep is None:
        tokens = text.split()
    else:
        tokens = [token.strip() for token in text.split(sep)]
        if len(tokens) > 1 and tokens[-1] == "":
            tokens.pop()  # a trailing separator
        if "" in tokens:
            position = tokens.index("") + 1
            raise DescriptorFormatError(path, f"empty field at position {position}", line)
    return _floats(tokens, path, line).astype(np.float32)


def _is_pair_line(text):
    """Whether ``text`` is ``index:value`` tokens separated by ASCII whitespace.

    A vectorised check on the bytes: colons and whitespace runs must
    alternate, with something between each of them. False only means "take
    the slow path", which finds the exact problem.
    """
    b = np.frombuffer(text.strip().encode("utf-8"), dtype=np.uint8)
    space = (b == 32) | (b == 9) | (b == 11) | (b == 12) | (b == 13)
    colons = np.flatnonzero(b == 58)
    run_starts = np.flatnonzero(space[1:] & ~space[:-1]) + 1
    run_ends = np.flatnonzero(space[:-1] & ~space[1:])
    return (
        colons.size > 0
        and colons.size == run_starts.size + 1
        and colons[0] > 0
        and colons[-1] < b.size - 1
        and bool(np.all(colons[:-1] + 1 < run_starts))
        and bool(np.all(run_ends + 1 < colons[1:]))
    )


def _pair_numbers_slow(text, path, line):
    tokens = text.split()
    for token in tokens:
        parts = token.split(":")
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise DescriptorFormatError(
                path, f"expected an index:value pair, got {_shorten(token)!r}", line
            )
    return _floats(text.replace(":", " ").split(), path, line), tokens


def _sparse_line(text, path, line):
    numbers = None
    if _is_pair_line(text):
        try:
            numbers = np.fromstring(text.replace(":", " "), sep=" ")
        except (ValueError, DeprecationWarning):  # numpy < 2 warns on a bad token
            numbers = None
        if numbers is not None and (numbers.size != 2 * text.count(":") or not np.all(np.isfinite(numbers))):
            numbers = None
    tokens = None
    if numbers is None:
        numbers, tokens = _pair_numbers_slow(text, path, line)
    keys, values = numbers[0::2], numbers[1::2]
    bad = (keys != np.floor(keys)) | (np.abs(keys) > _MAX_INDEX)
    if bad.any():
        tokens = tokens or text.split()
        token = tokens[int(np.flatnonzero(bad)[0])]
        raise DescriptorFormatError(path, f"index in {_shorten(token)!r} is not an integer", line)
    keys = keys.astype(np.int64)
    if not np.all(keys[1:] > keys[:-1]):  # unsorted: look for a repeated index
        uniq, counts = np.unique(keys, return_counts=True)
        if (counts > 1).any():
            raise DescriptorFormatError(path, f"index {uniq[counts > 1][0]} appears twice", line)
    return keys, values.astype(np.float32)


def _load_array(path):
    """The array of a ``.npy`` file, or the only array of a ``.npz`` archive."""
    kind = ".npz archive" if Path(path).suffix.lower() == ".npz" else ".npy array"
    try:
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.lib.npyio.NpzFile):
            with loaded:
                names = loaded.files
                if len(names) != 1:
                    raise DescriptorFormatError(
                        path, f"holds {len(names)} arrays ({', '.join(names) or 'none'}); expected one"
                    )
                loaded = loaded[names[0]]
    except (FileNotFoundError, DescriptorFormatError):
        raise
    except Exception as exc:  # noqa: BLE001 - any failure means a corrupt file
        raise DescriptorFormatError(path, f"is not a readable {kind} ({exc})") from None
    return loaded


def _finite_numbers(array, path, ndims, expected):
    """``array`` as finite float32 of rank ``ndims``; ``expected`` describes the shapes."""
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
        raise DescriptorFormatError(path, f"holds {getattr(array, 'dtype', type(array))}, not numbers")
    if array.ndim not in ndims or array.size == 0:
        raise DescriptorFormatError(path, f"has shape {array.shape}; expected {expected} with values")
    array = np.asarray(array, dtype=np.float32)
    if not np.all(np.isfinite(array)):
        raise DescriptorFormatError(path, "contains NaN or infinity")
    return array


def _load_npy(path):
    array = _finite_numbers(_load_array(path), path, (1, 2, 3), "(D,), (T, D) or (T, L, D)")
    return array if array.ndim > 1 else array[None, :]


def parse_file(path, fmt, sep=None):
    """Parse one descriptor file.

    Parameters
    ----------
    path : str or Path
    fmt : {"dense", "sparse", "rows", "npy"}
        ``"dense"`` and ``"rows"`` read float lines, ``"sparse"`` reads
        ``index:value`` lines, ``"npy"`` loads an array.
    sep : str or None
        Separator of dense values (``None``: any whitespace).

    Returns
    -------
    raw : list of (int, payload) or ndarray
    """
    if fmt == "npy":
        return _load_npy(path)
    lines = read_lines(path)
    if fmt == "sparse":
        return [(number, _sparse_line(text, path, number)) for number, text in lines]
    return [(number, _dense_line(text, path, number, sep)) for number, text in lines]


def parse_matrix(path):
    """Parse a feature matrix: one row per clip.

    Parameters
    ----------
    path : str or Path
        ``.npy``, ``.npz`` holding one array, or text with one row per line
        (comma-separated values in ``.csv``, whitespace-separated otherwise).

    Returns
    -------
    matrix : ndarray of float32, shape (n, D) or (n, T, D)
    """
    suffix = Path(path).suffix.lower()
    if suffix in (".npy", ".npz"):
        array = _load_array(path)
    else:
        lines = parse_file(path, "dense", "," if suffix == ".csv" else None)
        first, width = lines[0][0], lines[0][1].size
        for number, payload in lines:
            if payload.size != width:
                raise DescriptorFormatError(
                    path, f"has {payload.size} values, expected {width} (as on line {first})", number
                )
        array = np.stack([payload for _, payload in lines])
    return _finite_numbers(array, path, (2, 3), "(n_clips, D) or (n_clips, T, D)")


def raw_nbytes(raw):
    """Memory held by a parsed file, in bytes."""
    if isinstance(raw, np.ndarray):
        return raw.nbytes
    total = 0
    for _, payload in raw:
        total += sum(a.nbytes for a in payload) if isinstance(payload, tuple) else payload.nbytes
    return total


def _line_span(raw):
    first, last = raw[0][0], raw[-1][0]
    return first if first == last else None


def dense_vector(raw, path, dim=None):
    """Concatenate dense lines; check the length against ``dim``."""
    values = np.concatenate([payload for _, payload in raw])
    if dim is not None and values.size != dim:
        lines = "" if len(raw) == 1 else f" on lines {raw[0][0]}-{raw[-1][0]}"
        raise DescriptorFormatError(
            path, f"has {values.size} values{lines}, expected {dim}", _line_span(raw)
        )
    return values


def _scatter(keys, values, path, line, dim, base):
    index = keys - base
    bad = (index < 0) | (index >= dim)
    if bad.any():
        key = int(keys[int(np.flatnonzero(bad)[0])])
        raise DescriptorFormatError(
            path, f"index {key} is out of range [{base}, {base + dim - 1}]", line
        )
    out = np.zeros(dim, dtype=np.float32)
    out[index] = values
    return out


def sparse_vector(raw, path, dim, base):
    """Scatter the ``index:value`` pairs of all lines into one vector."""
    out = np.zeros(dim, dtype=np.float32)
    seen = np.zeros(dim, dtype=bool)
    for number, (keys, values) in raw:
        part = _scatter(keys, values, path, number, dim, base)
        index = keys - base
        if seen[index].any():
            key = int(keys[seen[index]][0])
            raise DescriptorFormatError(path, f"index {key} already given on an earlier line", number)
        seen[index] = True
        out += part
    return out


def channels_vector(raw, path, bins, channels, base):
    """One sparse histogram per line (channel), concatenated."""
    if len(raw) != channels:
        raise DescriptorFormatError(path, f"has {len(raw)} histogram lines, expected {channels}")
    return np.concatenate(
        [_scatter(keys, values, path, number, bins, base) for number, (keys, values) in raw]
    )


def rows_vector(raw, path, dim):
    """Average rows of equal width ``dim`` (one row per key point)."""
    for number, payload in raw:
        if payload.size != dim:
            raise DescriptorFormatError(path, f"has {payload.size} values, expected {dim}", number)
    return np.mean([payload for _, payload in raw], axis=0, dtype=np.float64).astype(np.float32)


def ragged_vector(values, dim, policy, value_range=None):
    """Map a vector of any length to ``dim`` values.

    Parameters
    ----------
    values : ndarray of shape (m,)
    dim : int
    policy : {"resample", "pad", "histogram"}
        ``"resample"``: linear interpolation at ``dim`` evenly spaced positions
        (keeps the coarse spatial order of the cells). ``"pad"``: zero-pad or
        truncate. ``"histogram"``: normalised histogram of the values in ``dim``
        bins over ``value_range`` (order-free; values outside go to the edge
        bins).
    value_range : tuple of float, optional
        Needed by ``"histogram"``.
    """
    if policy == "resample":
        if values.size == 1:
            return np.full(dim, values[0], dtype=np.float32)
        grid = np.linspace(0.0, values.size - 1, dim)
        return np.interp(grid, np.arange(values.size), values).astype(np.float32)
    if policy == "pad":
        out = np.zeros(dim, dtype=np.float32)
        n = min(dim, values.size)
        out[:n] = values[:n]
        return out
    low, high = value_range
    if high <= low:
        high = low + 1.0
    clipped = np.clip(values, low, high)
    counts, _ = np.histogram(clipped, bins=dim, range=(low, high))
    return (counts / values.size).astype(np.float32)
