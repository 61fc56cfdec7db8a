"""Saving and loading fitted models with the features they were trained on.

A saved model is a :class:`ModelBundle`: the fitted estimator, the feature
configuration recorded by the feature folder it was trained on (see
:func:`skmem.features.store.read_config`) and a few descriptive fields. Files
are written atomically: a temporary file in the destination folder is renamed
into place, so an interrupted save leaves the previous file intact, and the
temporaries of killed saves are removed by the next save of that file.

Model files are inert: :func:`save_model` writes the :mod:`skops.io` format,
which :func:`load_model` reads without running code from the file. It builds
only trusted types: those :mod:`skops.io` trusts (scikit-learn's, numpy's),
the estimator and network classes of skmem's model and feature packages
(found by rule, so a new estimator needs no entry), and the few functions
and helper types of :data:`TRUSTED_TYPES`; it refuses a file naming any
other. The
weights of deep models are stored as plain arrays and put back into a network
that skmem builds itself. Files written with :func:`joblib.dump` (pickles,
which run code when loaded) are read only with ``trusted=True``.
"""

import contextlib
import json
import os
import secrets
import socket
import warnings
import zipfile
from dataclasses import dataclass, field

from skmem._networks import with_networks, without_networks
from skmem._processes import process_alive

__all__ = [
    "ModelBundle",
    "ModelFileError",
    "TRUSTED_TYPES",
    "is_trusted",
    "atomic_path",
    "check_writable",
    "FeatureConfigError",
    "config_difference",
    "load_model",
    "overlap",
    "save_model",
]

#: Types a model file may name besides scikit-learn's and numpy's (which
#: :mod:`skops.io` trusts itself) and skmem's estimator and network classes
#: (see :func:`is_trusted`): functions and helper types the models hold.
TRUSTED_TYPES = (
    "builtins.print",
    "functools.partial",
    "sklearn.utils._bunch.Bunch",
    "skmem._networks.StoredNetwork",
    "skmem.models._base._valid_spearman",
    "skmem.models.fusion._RankMap",
    "skmem.persistence.ModelBundle",
    "skmem.pipelines.mean_over_locations",
    "skmem.pipelines.per_block",
    "skmem.pipelines.signed_sqrt",
    "torch.nn.modules.loss.BCEWithLogitsLoss",
    "torch.nn.modules.loss.MSELoss",
    "torch.optim.adam.Adam",
    "torch.optim.adamw.AdamW",
    "torch.optim.sgd.SGD",
)


#: Packages whose estimator (``BaseEstimator``) and network (``torch.nn.Module``) classes are trusted.
_ESTIMATOR_PACKAGES = ("skmem.models.", "skmem.features.", "skmem.video.")


def is_trusted(name):
    """Whether a model file may name the type ``name`` (``"module.qualname"``).

    True for :data:`TRUSTED_TYPES` and for the ``BaseEstimator`` and
    ``torch.nn.Module`` subclasses defined in skmem's model, feature and
    video packages: loading one sets its attributes, as loading any
    estimator does. Only those packages are imported to check a name.
    """
    if name in TRUSTED_TYPES:
        return True
    module, _, attribute = name.rpartition(".")
    if not module.startswith(_ESTIMATOR_PACKAGES) or "__" in module:
        return False
    import importlib

    import torch
    from sklearn.base import BaseEstimator

    try:
        found = getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError):
        return False
    return (
        isinstance(found, type)
        and found.__module__ == module
        and issubclass(found, (BaseEstimator, torch.nn.Module))
    )


class ModelFileError(ValueError):
    """A file that is missing or is not a model saved by :func:`save_model`."""


@dataclass
class ModelBundle:
    """A fitted model and its provenance.

    Parameters
    ----------
    model : estimator
        The fitted estimator.
    feature_config : dict or None, default=None
        Configuration of the features the model was trained on (None when the
        feature folder recorded none).
    metadata : dict, default={}
        Free descriptive fields (model name, target, ...).
    skmem_version : str or None, default=None
        Version of skmem that saved the model (set by :func:`save_model`).
    """

    model: object
    feature_config: dict = None
    metadata: dict = field(default_factory=dict)
    skmem_version: str = None

    def check_features(self, config, source="features"):
        """Refuse features of another configuration than the training features'.

        Parameters
        ----------
        config : dict or None
            Configuration of the features about to be scored (e.g.
            :func:`skmem.features.store.read_config` of their folder).
        source : str, default="features"
            Names the features in the messages.

        Raises
        ------
        FeatureConfigError
            Naming each setting that differs, with the model's value first.
            When only one side records a configuration, a warning says that
            it cannot be checked.
        """
        if self.feature_config is None or config is None:
            if self.feature_config is not config:
                side = "the model" if self.feature_config is None else source
                warnings.warn(f"{side} records no feature configuration; cannot check that {source} match the model", stacklevel=2)
            return
        difference = config_difference(self.feature_config, config)
        if difference:
            raise FeatureConfigError(
                f"{source} were made with another feature configuration than the model's training features: "
                f"{difference} (model vs {source})"
            )


class FeatureConfigError(ValueError):
    """Features of another configuration than expected (a feature folder, a model's training features), or of an older format."""


def config_difference(expected, actual):
    """Settings that differ between two feature configurations, as one line.

    Both are compared as the JSON records a feature folder keeps (a tuple
    equals a list), nested dictionaries key by key (``sampler.n_frames``).
    Returns an empty string when the configurations are equal.
    """
    expected, actual = (json.loads(json.dumps(c, sort_keys=True, default=str)) for c in (expected, actual))
    differences = []

    def walk(a, b, prefix):
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b), key=str):
                walk(a.get(key), b.get(key), f"{prefix}{key}.")
        elif a != b:
            differences.append(f"{prefix[:-1]} ({a!r} vs {b!r})")

    walk(expected, actual, "")
    return ", ".join(differences)


def overlap(path, other, *, tree=False, other_tree=False):
    """How ``path`` meets ``other`` once both are resolved (symbolic links followed), or None.

    Parameters
    ----------
    path, other : str or path-like
    tree, other_tree : bool, default=False
        Whether ``path`` (``other``) is a folder whose every file counts
        (a feature folder): a path inside it meets it.

    Returns
    -------
    str or None
        ``"is"`` when both resolve to one file or folder, ``"lies in"`` when
        ``path`` is inside ``other`` (``other_tree``), ``"holds"`` when
        ``other`` is inside ``path`` (``tree``), None otherwise.
    """
    a, b = (os.path.realpath(os.path.expanduser(os.fspath(p))) for p in (path, other))
    if a == b or (os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b)):
        return "is"
    if other_tree and a.startswith(b.rstrip(os.sep) + os.sep):
        return "lies in"
    if tree and b.startswith(a.rstrip(os.sep) + os.sep):
        return "holds"
    return None


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; it replaces ``path`` on success.

    The temporary file is created with the user's umask (like :func:`open`)
    and removed when the block raises. Temporaries of ``path`` left by
    writers that were killed (processes of this host that no longer run)
    are removed first.
    """
    path = os.fspath(path)
    folder, name = os.path.split(os.path.abspath(path))
    _remove_dead_temporaries(folder, name)
    temporary = _create_temporary(folder, name)
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise


def check_writable(path, *, what="output"):
    """Raise :class:`OSError` naming ``path`` unless a file can be written there.

    Checked before any work starts: ``path`` is not a folder, its parent is an
    existing folder, and a file can be created in it (a probe file is created
    and removed).
    """
    path = os.path.abspath(os.fspath(path))
    folder = os.path.dirname(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"{what} {path} is a folder, not a file")
    if not os.path.isdir(folder):
        raise NotADirectoryError(f"{what} {path}: {folder} is not an existing folder")
    try:
        os.remove(_create_temporary(folder, "probe"))
    except OSError as exc:
        raise PermissionError(f"{what} {path}: cannot write in {folder} ({exc.strerror})") from None


_TEMPORARY = ".tmp-{host}@{pid}@{token}-{name}"


def _create_temporary(folder, name):
    """Create an empty, uniquely named hidden file in ``folder`` for the file ``name``; return its path.

    Its name records this host and process, so that a later writer can tell
    a dead writer's leftover from a live one's file.
    """
    temporary = os.path.join(
        folder, _TEMPORARY.format(host=socket.gethostname(), pid=os.getpid(), token=secrets.token_hex(6), name=name)
    )
    os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    return temporary


def _remove_dead_temporaries(folder, name):
    """Remove temporaries of ``name`` in ``folder`` whose writer (a process of this host) is gone."""
    prefix, suffix = f".tmp-{socket.gethostname()}@", f"-{name}"
    with contextlib.suppress(OSError), os.scandir(folder) as listing:
        for item in listing:
            if not (item.name.startswith(prefix) and item.name.endswith(suffix)):
                continue
            pid, _, token = item.name[len(prefix) : -len(suffix)].partition("@")
            if pid.isdigit() and len(token) == 12 and not process_alive(int(pid)):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(item.path)


def save_model(path, model, *, feature_config=None, inputs=(), **metadata):
    """Save a fitted ``model`` atomically as a :class:`ModelBundle` (:mod:`skops.io` format).

    Parameters
    ----------
    path : str or path-like
        Destination file; its folder must exist.
    model : estimator
        The fitted estimator.
    feature_config : dict or None, default=None
        Configuration of the features it was trained on.
    inputs : iterable of str or path-like, default=()
        Files and folders the model was made from (features, labels, ...):
        ``path`` may be none of them nor lie in one of the folders.
    **metadata
        Descriptive fields stored in ``ModelBundle.metadata``.

    Returns
    -------
    bundle : ModelBundle

    Raises
    ------
    ValueError
        When ``path`` is one of ``inputs`` (symbolic links followed) or lies
        in one of their folders, naming both; nothing is written.
    """
    import skops.io

    from skmem import __version__

    for item in inputs:
        reason = overlap(path, item, other_tree=os.path.isdir(item))
        if reason:
            raise ValueError(f"model file {os.fspath(path)} {reason} the input {os.fspath(item)}: not overwritten")
    bundle = ModelBundle(model, feature_config, dict(metadata), __version__)
    stored = without_networks(bundle)
    with atomic_path(path) as temporary:
        skops.io.dump(stored, temporary)
        untrusted = [t for t in skops.io.get_untrusted_types(file=temporary) if not is_trusted(t)]
    if untrusted:
        warnings.warn(
            f"{os.fspath(path)} names types skmem does not trust ({', '.join(untrusted)}): "
            "load_model reads it only with trusted=True",
            stacklevel=2,
        )
    return bundle


def load_model(path, *, trusted=False):
    """Load a :class:`ModelBundle` written by :func:`save_model`.

    Parameters
    ----------
    path : str or path-like
    trusted : bool, default=False
        False reads the :mod:`skops.io` format only, building trusted
        types only (:func:`is_trusted`, and those skops trusts; no code from
        the file runs). True also builds any other type the file names, and reads
        joblib pickles (of skmem before 0.9): only for files you trust, as
        loading them can run any code.

    Raises
    ------
    ModelFileError
        When ``path`` is missing, unreadable, holds anything but a bundle,
        names types outside the trusted ones, or is a pickle and ``trusted``
        is False.
    """
    import skops.io

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ModelFileError(f"{path}: no such model file")
    if not zipfile.is_zipfile(path):
        if not trusted:
            raise ModelFileError(
                f"{path}: not a model saved by skmem in the skops format (a pickle, or another file); a pickle can "
                "run code when loaded: load it with trusted=True (skmem predict --trusted) only if you trust its author"
            )
        bundle = _load_pickle(path)
    else:
        try:
            named = skops.io.get_untrusted_types(file=path)
            untrusted = [t for t in named if not is_trusted(t)]
            if untrusted and not trusted:
                raise ModelFileError(
                    f"{path}: names types skmem does not trust: {', '.join(untrusted)}; "
                    "load it with trusted=True (skmem predict --trusted) only if you trust its author"
                )
            bundle = skops.io.load(path, trusted=named)
        except ModelFileError:
            raise
        except Exception as exc:  # a damaged or foreign archive raises many kinds of errors
            raise ModelFileError(f"{path}: not a model saved by skmem ({type(exc).__name__}: {exc})") from None
    if not isinstance(bundle, ModelBundle) or not hasattr(bundle.model, "predict"):
        raise ModelFileError(f"{path}: not a model saved by skmem (holds a {type(bundle).__name__})")
    try:
        return with_networks(bundle)
    except (ValueError, RuntimeError) as exc:  # weights of another shape or network
        raise ModelFileError(f"{path}: a deep model's stored network does not fit it ({exc})") from None


def _load_pickle(path):
    import joblib

    try:
        return joblib.load(path)
    except Exception as exc:  # a foreign or damaged pickle raises many kinds of errors
        raise ModelFileError(f"{path}: not a model saved by skmem ({type(exc).__name__}: {exc})") from None
