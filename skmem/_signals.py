"""Interrupts: SIGTERM handled like Ctrl-C, so that interrupted work is never taken for finished work."""

import contextlib
import signal
import threading

__all__ = ["terminate_as_interrupt"]


def _interrupt_handler(previous, on_interrupt, received):
    """A handler running ``on_interrupt()``, then ``previous`` when it is another's, else raising ``KeyboardInterrupt``.

    Each interrupt it raises is appended to ``received``.
    """

    def interrupt(signum, frame):
        if on_interrupt is not None:
            on_interrupt()
        if callable(previous) and previous is not signal.default_int_handler and not getattr(previous, "_skmem", False):
            return previous(signum, frame)
        received.append(signal.Signals(signum).name)
        raise KeyboardInterrupt(received[-1])

    interrupt._skmem = True
    return interrupt


@contextlib.contextmanager
def terminate_as_interrupt(on_interrupt=None):
    """Make SIGTERM raise ``KeyboardInterrupt`` as Ctrl-C does, running ``on_interrupt()`` first.

    SIGTERM's default action ends the process on the spot, leaving work that
    looks finished (a trial still running, a file half written); raised as an
    interrupt, it unwinds like Ctrl-C. Both signals call ``on_interrupt()``
    (when given) in the main thread as soon as they arrive (e.g. to tell
    worker threads to start nothing new while the main thread unwinds),
    before the handler that was there (another library's is called in turn;
    Python's default, or none, raises ``KeyboardInterrupt``). An ignored
    signal stays ignored.

    Python runs a handler wherever the main thread happens to be, and an
    exception raised there can be lost (in a garbage-collector callback or a
    ``__del__`` it is only printed), so the block would end as if finished.
    When the block ends without an exception after an interrupt raised here,
    ``KeyboardInterrupt`` is raised on leaving it. Only in the main thread;
    the previous handlers are restored on leaving.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    previous = {s: h for s, h in previous.items() if h is not signal.SIG_IGN and h is not None}
    received = []
    for signum, handler in previous.items():
        signal.signal(signum, _interrupt_handler(handler, on_interrupt, received))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if received:
        raise KeyboardInterrupt(f"{received[0]} (its exception was lost while the work went on)")
