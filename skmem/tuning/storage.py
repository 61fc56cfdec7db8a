"""Where studies live: memory, SQLite or journal files, or any SQLAlchemy database."""

import os
import re
import time
import warnings
from pathlib import Path

import sqlalchemy.exc
from optuna.exceptions import ExperimentalWarning
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend

__all__ = ["make_storage", "redact", "JOURNAL_SUFFIXES"]

#: Suffixes of storage paths read as Optuna journal files (others are SQLite files).
JOURNAL_SUFFIXES = (".log", ".journal", ".jsonl")

# The password of ``scheme://user:password@host``: up to the last "@" of the URL, since
# unencoded passwords may hold "@" or "/" themselves.
_URL_PASSWORD = re.compile(r"(?P<user>\b[a-z][a-z0-9+.\-]*://[^\s/:@'\"]*:)[^\s'\"]+@", re.IGNORECASE)
_QUERY_PASSWORD = re.compile(r"(?P<key>[?&;](?:password|passwd|pwd)=)[^&;\s'\"]*", re.IGNORECASE)


def redact(text):
    """``text`` with every password of a URL in it replaced by ``***``.

    Both ``scheme://user:password@host`` and a ``password=`` query argument
    are hidden. Every message of skmem that names a storage goes through
    this function, so database credentials are never printed or raised.

    Parameters
    ----------
    text : str or path-like

    Returns
    -------
    str
    """
    text = _URL_PASSWORD.sub(r"\g<user>***@", os.fspath(text) if isinstance(text, os.PathLike) else str(text))
    return _QUERY_PASSWORD.sub(r"\g<key>***", text)


def make_storage(storage, *, heartbeat_interval=60):
    """Turn ``storage`` into an Optuna storage.

    Parameters
    ----------
    storage : None, str, path-like or optuna.storages.BaseStorage
        None keeps the study in memory. A URL (``sqlite:///study.db``,
        ``postgresql://...``, ``mysql+pymysql://...``) opens a database
        through SQLAlchemy. A path ending in ``.log``, ``.journal`` or
        ``.jsonl`` is an Optuna journal file, which several processes on
        one machine (or on a shared file system) can use at once; any other
        path is a SQLite file. A storage object is returned as is.
    heartbeat_interval : int or None, default=60
        Databases only: every running trial records a heartbeat this often
        (seconds), and a trial whose heartbeat is older than twice this
        (its worker was killed) is marked failed before the next trial
        starts. Journal files have no heartbeat in Optuna; :func:`tune`
        fails the trials of dead workers on the same machine instead.

    Returns
    -------
    optuna.storages.BaseStorage or None
    """
    if storage is None or isinstance(storage, BaseStorage):
        return storage
    if not isinstance(storage, (str, os.PathLike)):
        raise ValueError(f"storage must be None, a path, a database URL or an optuna storage, got {redact(repr(storage))}")
    text = os.fspath(storage)
    if "://" in text:
        return _database(text, heartbeat_interval)
    path = Path(text).expanduser().resolve()
    if not path.parent.is_dir():
        raise ValueError(f"storage {text!r}: folder {str(path.parent)!r} does not exist")
    if path.suffix.lower() in JOURNAL_SUFFIXES:
        return JournalStorage(JournalFileBackend(str(path)))
    return _database(f"sqlite:///{path}", heartbeat_interval)


def _database(url, heartbeat_interval, attempts=5):
    """RDBStorage of ``url``; retried, since workers starting together race to create the tables.

    Errors are raised without their cause, whose text may hold the password.
    """
    engine = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else None
    for attempt in range(attempts):
        try:
            with warnings.catch_warnings():  # the heartbeat is experimental in Optuna, and relied on here
                warnings.simplefilter("ignore", ExperimentalWarning)
                return RDBStorage(url, engine_kwargs=engine, heartbeat_interval=heartbeat_interval)
        except sqlalchemy.exc.DBAPIError as exc:
            if attempt == attempts - 1:
                raise _unopened(url, exc.orig) from None
            time.sleep(0.2 * (attempt + 1))
        except (sqlalchemy.exc.SQLAlchemyError, ImportError, ValueError) as exc:
            raise _unopened(url, exc) from None


def _unopened(url, cause):
    return ValueError(redact(f"storage {url!r} cannot be opened: {cause}"))
