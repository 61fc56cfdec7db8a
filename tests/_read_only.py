"""Run a command with a folder mounted read-only, as root or not.

Root writes into folders whatever their mode, so for root (as in CI) the
folder is bind-mounted read-only in a private mount namespace (``unshare
-m``) that only the command sees; other users get the folder's write bits
removed for the duration of the command.
"""

import os
import shutil
import subprocess

import pytest

_MOUNT_AND_RUN = 'mount --bind -o ro "$1" "$1" && shift && exec "$@"'


def read_only_run(folder, command, **kwargs):
    """``subprocess.run(command, **kwargs)`` with ``folder`` read-only; skips where that cannot be arranged."""
    folder = os.fspath(folder)
    if os.geteuid() != 0:
        mode = os.stat(folder).st_mode
        os.chmod(folder, 0o555)
        try:
            return subprocess.run(command, **kwargs)
        finally:
            os.chmod(folder, mode)
    if shutil.which("unshare") is None:
        pytest.skip("running as root, where only a read-only mount makes a folder unwritable, and unshare is missing")
    probe = subprocess.run(["unshare", "-m", "mount", "--bind", "-o", "ro", folder, folder], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"running as root and cannot mount a read-only folder here: {probe.stderr.decode().strip()}")
    return subprocess.run(["unshare", "-m", "sh", "-c", _MOUNT_AND_RUN, "sh", folder, *command], **kwargs)
