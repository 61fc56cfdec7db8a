"""Interrupts: SIGTERM handled like Ctrl-C, so that interrupted work is never taken for finished work."""

import contextlib
import signal
import threading

__all__ = ["terminate_as_interrupt"]


def _replaceable(handler, signum):
    """Whether ``handler`` is Python's default for ``signum`` or one installed by this module."""
    default = signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL
    return handler is default or getattr(handler, "_skmem_interrupt", False)


@contextlib.contextmanager
def terminate_as_interrupt(on_interrupt=None):
    """Make SIGTERM raise ``KeyboardInterrupt`` as Ctrl-C does, running ``on_interrupt()`` first.

    SIGTERM's default action ends the process on the spot, leaving work that
    looks finished (a trial still running, a file half written); raised as an
    interrupt, it unwinds like Ctrl-C. With ``on_interrupt``, both signals
    call it in the main thread before raising, as soon as they arrive (e.g.
    to tell worker threads to start nothing new while the main thread
    unwinds). Only in the main thread, and only over Python's default
    handlers (or this function's own); the previous handlers are restored on
    leaving.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        if on_interrupt is not None:
            on_interrupt()
        raise KeyboardInterrupt(signal.Signals(signum).name)

    interrupt._skmem_interrupt = True
    signals = [signal.SIGTERM] + ([signal.SIGINT] if on_interrupt is not None else [])
    previous = {s: signal.getsignal(s) for s in signals if _replaceable(signal.getsignal(s), s)}
    for signum in previous:
        signal.signal(signum, interrupt)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
