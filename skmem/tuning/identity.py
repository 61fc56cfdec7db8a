"""What a study was made from, and the check that a resumed study was made from the same.

A study's scores only mean something for the data, folds, metric and
search space that produced them. :func:`study_identity` describes these
(content digests of the data and folds, the metric's name, the search
space's distributions); :func:`claim_identity` records it in a new study
(as the Optuna user attribute :data:`IDENTITY_ATTR`) and refuses to resume
a study that records another one, naming every difference.
"""

import hashlib
import warnings

import joblib
import numpy as np
import scipy.sparse
from optuna.distributions import distribution_to_json, json_to_distribution
from optuna.trial import TrialState

__all__ = ["IDENTITY_ATTR", "StudyMismatchError", "claim_identity", "content_digest", "study_identity"]

#: Optuna study user attribute holding the identity of a study made by :func:`~skmem.tuning.tune`.
IDENTITY_ATTR = "skmem_identity"

#: Columns of a DataFrame ``X`` holding clip ids, recorded apart so that a message can name them.
ID_COLUMNS = ("id", "path")

_DATA = {"X": "features (X)", "y": "targets (y)", "ids": "clip ids"}


class StudyMismatchError(ValueError):
    """A stored study was made from other data, folds, metric or search space than this run's."""


def content_digest(value):
    """SHA-256 (hex) of the content of an array, sparse matrix, DataFrame, Series or list.

    Equal values of one dtype and shape give one digest however they are held
    (C or Fortran order, memory map, list); the digest of a DataFrame covers
    its column names, dtypes, values and index.
    """
    digest = hashlib.sha256()
    for part in _parts(value):
        digest.update(part if isinstance(part, (bytes, np.ndarray)) else repr(part).encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _parts(value):
    if hasattr(value, "iloc"):  # pandas
        yield from _frame_parts(value.to_frame() if value.ndim == 1 else value)
        return
    if scipy.sparse.issparse(value):
        matrix = scipy.sparse.csr_array(value)
        matrix.sum_duplicates()
        yield from ("sparse", matrix.shape, matrix.dtype.str)
        yield from (_buffer(a) for a in (matrix.data, matrix.indices, matrix.indptr))
        return
    try:
        array = np.asarray(value)
    except ValueError:  # ragged
        array = None
    if array is not None and array.dtype.kind in "biufc":
        yield from ("array", array.shape, array.dtype.str, _buffer(array))
    else:
        yield from ("objects", joblib.hash(list(value) if array is None else array.tolist()))


def _buffer(array):
    """The bytes of ``array`` in C order, as a byte array that shares them when it can (no copy)."""
    return np.ascontiguousarray(array).reshape(-1).view(np.uint8)


def _frame_parts(frame):
    import pandas as pd

    yield from ("frame", [str(c) for c in frame.columns], [str(t) for t in frame.dtypes])
    for name in frame.columns:
        column = frame[name]
        try:
            yield pd.util.hash_pandas_object(column, index=False).to_numpy().tobytes()
        except TypeError:  # unhashable cells (arrays, lists)
            yield joblib.hash([np.asarray(v).tolist() for v in column])
    yield pd.util.hash_pandas_object(frame.index.to_series(), index=False).to_numpy().tobytes()


def _ids(X):
    columns = getattr(X, "columns", ())
    found = [c for c in ID_COLUMNS if c in columns]
    return X[found] if found else None


def _indices_digest(splits):
    digest = hashlib.sha256()
    for train, test in splits:
        for indices in (train, test):
            digest.update(np.asarray(indices, dtype=np.int64).tobytes())
            digest.update(b"|")
        digest.update(b"\0")
    return digest.hexdigest()


def _name(scoring):
    if isinstance(scoring, str):
        return scoring
    return f"{getattr(scoring, '__module__', '?')}.{getattr(scoring, '__qualname__', type(scoring).__name__)}"


def study_identity(X, y, splits, random_state, scoring, distributions, provenance=None):
    """What a study of ``tune`` is made from, as JSON-ready values.

    Parameters
    ----------
    X, y : the data ``tune`` is given
    splits : list of (train, test) index arrays
        The cross-validation folds.
    random_state : int, RandomState or None
        Recorded with the folds (the seed of ``tune``'s shuffled folds).
    scoring : str or callable
        The metric, by name (a callable by its module and qualified name).
    distributions : dict
        The search space.
    provenance : dict, optional
        More about the data (e.g. clip ids, the feature configuration):
        name -> value, each recorded as a digest of its content.

    Returns
    -------
    dict
        ``data`` (rows and digests of X, y and the ids of a DataFrame ``X``),
        ``folds`` (count, seed and digest of the fold indices), ``metric``,
        ``search_space`` (each parameter's distribution as JSON) and
        ``provenance`` (name -> digest).
    """
    ids = _ids(X)
    seed = random_state if random_state is None or isinstance(random_state, int) else type(random_state).__name__
    return {
        "data": {
            "n_samples": int(len(y)),
            "X": content_digest(X),
            "y": content_digest(y),
            "ids": None if ids is None else content_digest(ids),
        },
        "folds": {"n_folds": len(splits), "seed": seed, "digest": _indices_digest(splits)},
        "metric": _name(scoring),
        "search_space": {name: distribution_to_json(d) for name, d in sorted(distributions.items())},
        "provenance": {str(name): content_digest(value) for name, value in sorted((provenance or {}).items())},
    }


def differences(stored, current):
    """What differs between two identities, one phrase per difference naming both sides."""
    found = []
    data, now = stored.get("data", {}), current["data"]
    for key, label in _DATA.items():
        if data.get(key) != now[key]:
            found.append(
                f"{label} differ: {_rows(data, key)} (stored) vs {_rows(now, key)} (this run)"
            )
    folds, now = stored.get("folds", {}), current["folds"]
    if folds.get("digest") != now["digest"]:
        found.append(f"folds differ: {_folds(folds)} (stored) vs {_folds(now)} (this run)")
    if stored.get("metric") != current["metric"]:
        found.append(f"metric differs: {stored.get('metric')!r} (stored) vs {current['metric']!r} (this run)")
    recorded, now = stored.get("provenance", {}), current["provenance"]
    for name in sorted(set(recorded) | set(now)):
        if recorded.get(name) != now.get(name):
            found.append(f"{name} differ: {_short(recorded.get(name))} (stored) vs {_short(now.get(name))} (this run)")
    space, now = stored.get("search_space", {}), current["search_space"]
    for name in sorted(set(space) | set(now)):
        if space.get(name) != now.get(name):
            found.append(
                f"search space differs at {name}: {_distribution(space.get(name))} (stored) vs "
                f"{_distribution(now.get(name))} (this run)"
            )
    return found


def _short(digest):
    return "none recorded" if digest is None else f"digest {digest[:12]}"


def _rows(data, key):
    if data.get(key) is None:
        return "none"
    return f"{data.get('n_samples')} rows, digest {data[key][:12]}"


def _folds(folds):
    digest = folds.get("digest")
    return f"{folds.get('n_folds')} folds, seed {folds.get('seed')}, digest {digest[:12] if digest else None}"


def _distribution(text):
    return "absent" if text is None else repr(json_to_distribution(text))


def claim_identity(study, identity, where):
    """Record ``identity`` in a study that has none; refuse a study that records another.

    A study that holds finished trials but no identity (made by an older
    skmem, or outside :func:`~skmem.tuning.tune`) is resumed with a warning
    and given this run's identity.

    Parameters
    ----------
    study : optuna.Study
    identity : dict
        From :func:`study_identity`.
    where : str
        The storage, as messages name it (credentials already hidden).

    Raises
    ------
    StudyMismatchError
        Naming every difference, both sides of each.
    """
    if study.user_attrs.get(IDENTITY_ATTR) is None:
        finished = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
        if finished:
            warnings.warn(
                f"study {study.study_name!r} in {where} records nothing about the data it was made from; "
                f"resuming it unchecked and recording this run's data, folds, metric and search space",
                UserWarning,
                stacklevel=3,
            )
        study.set_user_attr(IDENTITY_ATTR, identity)
    # read back: a worker that started at the same time may have recorded its own first
    found = differences(study.user_attrs[IDENTITY_ATTR], identity)
    if found:
        raise StudyMismatchError(
            f"study {study.study_name!r} in {where} was made from other inputs, so its scores do not "
            f"apply to this run: {'; '.join(found)}. Name another study, or start this one again "
            f"(tune(overwrite=True), skmem tune --overwrite-study), which deletes its trials"
        )
