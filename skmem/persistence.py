"""Saving and loading fitted models with the features they were trained on.

A saved model is a :class:`ModelBundle`: the fitted estimator, the feature
configuration recorded by the feature folder it was trained on (see
:func:`skmem.features.store.read_config`) and a few descriptive fields. Files
are written atomically: a temporary file in the destination folder is renamed
into place, so an interrupted save leaves the previous file intact.

Loading runs :func:`joblib.load`, which unpickles: only load files you trust.
"""

import contextlib
import json
import os
import secrets
import warnings
from dataclasses import dataclass, field

__all__ = [
    "ModelBundle",
    "ModelFileError",
    "atomic_path",
    "check_writable",
    "config_difference",
    "load_model",
    "save_model",
]


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
        from skmem.features.store import FeatureConfigError

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


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; it replaces ``path`` on success.

    The temporary file is created with the user's umask (like :func:`open`)
    and removed when the block raises.
    """
    path = os.fspath(path)
    folder, name = os.path.split(os.path.abspath(path))
    stem, suffix = os.path.splitext(name)
    temporary = _create_temporary(folder, stem, suffix)
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
        os.remove(_create_temporary(folder, "probe", ""))
    except OSError as exc:
        raise PermissionError(f"{what} {path}: cannot write in {folder} ({exc.strerror})") from None


def _create_temporary(folder, stem, suffix):
    """Create an empty, uniquely named hidden file in ``folder``; return its path."""
    temporary = os.path.join(folder, f".tmp-{stem}-{secrets.token_hex(6)}{suffix}")
    os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    return temporary


def save_model(path, model, *, feature_config=None, **metadata):
    """Save a fitted ``model`` atomically as a :class:`ModelBundle` (joblib).

    Parameters
    ----------
    path : str or path-like
        Destination file; its folder must exist.
    model : estimator
        The fitted estimator.
    feature_config : dict or None, default=None
        Configuration of the features it was trained on.
    **metadata
        Descriptive fields stored in ``ModelBundle.metadata``.

    Returns
    -------
    bundle : ModelBundle
    """
    import joblib

    from skmem import __version__

    bundle = ModelBundle(model, feature_config, dict(metadata), __version__)
    with atomic_path(path) as temporary:
        joblib.dump(bundle, temporary)
    return bundle


def load_model(path):
    """Load a :class:`ModelBundle` written by :func:`save_model`.

    Raises
    ------
    ModelFileError
        When ``path`` is missing, unreadable or holds anything but a bundle.
    """
    import joblib

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ModelFileError(f"{path}: no such model file")
    try:
        bundle = joblib.load(path)
    except Exception as exc:  # a foreign or damaged pickle raises many kinds of errors
        raise ModelFileError(f"{path}: not a model saved by skmem ({type(exc).__name__}: {exc})") from None
    if not isinstance(bundle, ModelBundle) or not hasattr(bundle.model, "predict"):
        raise ModelFileError(f"{path}: not a model saved by skmem (holds a {type(bundle).__name__})")
    return bundle
