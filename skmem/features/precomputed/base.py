"""What every descriptor format family does for the loader, and the shared per-clip-files flow."""

from collections import deque
from pathlib import Path

import numpy as np

from skmem.features.precomputed.ids import clip_key

__all__ = ["DescriptorFormat", "FileFormat"]


class DescriptorFormat:
    """How :class:`~skmem.PrecomputedFeatureLoader` reads one family of descriptors.

    Built at ``fit`` from the loader's parameters, it learns what ``fit``
    learns (dimensions, shapes) and turns parsed files into output rows.
    Subclasses implement :meth:`resolve`, :meth:`fit`, :meth:`transform` and
    :meth:`fit_transform` (which parses each file once).

    Parameters
    ----------
    kind : str
        The loader's ``kind``.
    params : dict
        The loader's parameters (``get_params(deep=False)``).
    """

    def __init__(self, kind, params):
        self.kind = kind
        self.aggregate = params["aggregate"]

    def resolve(self, root):
        """The folder or file the descriptors are read from."""
        raise NotImplementedError

    def fit(self, root, reader):
        """Validate the descriptors of ``reader.ids`` and learn their dimensions."""
        raise NotImplementedError

    def transform(self, root, reader):
        """Rows of ``reader.ids``, float32 of shape ``(n,) + clip_shape``."""
        raise NotImplementedError

    def fit_transform(self, root, reader):
        """:meth:`fit`, then :meth:`transform`, reading every file once."""
        raise NotImplementedError

    @property
    def n_features_out(self):
        """Length of the output's last axis."""
        return self.dim

    def attributes(self):
        """Fitted attributes the loader exposes, e.g. ``{"dim_": 101}``."""
        return {"dim_": self.dim}


class FileFormat(DescriptorFormat):
    """Descriptors stored as one or more files per clip in a folder.

    Subclasses give :attr:`parser` (``(function, *args)``: a file parses as
    ``function(path, *args)``), :meth:`files` (or :meth:`locate`),
    :meth:`learn` and :meth:`row`, optionally :meth:`end_fit`.
    """

    parser = None

    def resolve(self, root):
        """``root``, or ``root/<kind>`` when that folder exists."""
        root = Path(root)
        if not root.is_dir():
            raise FileNotFoundError(f"root {str(root)!r} is not a folder")
        return root / self.kind if (root / self.kind).is_dir() else root

    def files(self, root, key):
        """The files of the clip whose :func:`~.ids.clip_key` is ``key``."""
        raise NotImplementedError

    def locate(self, root, reader):
        """Per clip: its files, or None when one is absent (the missing policy applies)."""
        expected = [self.files(root, clip_key(item, row)) for row, item in enumerate(reader.ids)]
        sources = [paths if all(p.is_file() for p in paths) else None for paths in expected]

        def describe(row):
            absent = next(p for p in expected[row] if not p.is_file())
            return f"{str(absent)!r} does not exist"

        reader.found(sources, repr(str(root)), describe)
        return sources

    def learn(self, path, raw):
        """Validate one parsed file and update what ``fit`` learns."""
        raise NotImplementedError

    def end_fit(self):
        """Settle what needs every file (e.g. a dimension inferred over all of them)."""

    def row(self, parsed):
        """One clip's output row from its parsed files, a list of ``(path, raw)``."""
        raise NotImplementedError

    @property
    def clip_shape(self):
        """Shape of one clip's output row."""
        raise NotImplementedError

    def _learn(self, parsed):
        for path, raw in parsed:
            self.learn(path, raw)
        self.end_fit()

    def _assemble(self, clips, parsed, fill):
        out = np.empty((len(clips),) + tuple(self.clip_shape), dtype=np.float32)
        for row, paths in enumerate(clips):
            out[row] = fill if paths is None else self.row([next(parsed) for _ in paths])
        return out

    def fit(self, root, reader):
        clips = self.locate(root, reader)
        self._learn(reader.parse(_files_of(clips), self.parser))

    def transform(self, root, reader):
        clips = self.locate(root, reader)
        return self._assemble(clips, reader.parse(_files_of(clips), self.parser), reader.fill)

    def fit_transform(self, root, reader):
        clips = self.locate(root, reader)
        parsed = deque(reader.parse(_files_of(clips), self.parser))
        self._learn(iter(parsed))
        return self._assemble(clips, _drain(parsed), reader.fill)


def _files_of(clips):
    return [p for paths in clips if paths for p in paths]


def _drain(items):
    """Pop ``items`` from the left: each parsed file is freed once its row is written."""
    while items:
        yield items.popleft()
