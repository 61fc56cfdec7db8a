"""Whether a process that may have left files or trials behind is still running."""

import os
import socket

__all__ = ["process_alive"]


def process_alive(pid, host=None):
    """Whether process ``pid`` (of ``host``; None: this machine) may still be running.

    A process of another host, or one owned by another user, counts as
    alive: only a process of this host known to be gone counts as dead, so
    that nothing a live process is writing is ever taken for a leftover.
    """
    if (host is not None and host != socket.gethostname()) or os.name == "nt":  # signal 0 would end it on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True
