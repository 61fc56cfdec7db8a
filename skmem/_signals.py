"""Interrupts: SIGTERM handled like Ctrl-C, so that interrupted work is never taken for finished work."""

import contextlib
import signal
import threading

__all__ = ["terminate_as_interrupt"]


@contextlib.contextmanager
def terminate_as_interrupt():
    """Make SIGTERM raise ``KeyboardInterrupt``, like Ctrl-C, so that the work under way stops as after Ctrl-C.

    Only in the main thread and when SIGTERM has its default action (which
    would end the process on the spot, leaving the trial running); the
    previous handler is restored on leaving.
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
