"""Interrupts: SIGTERM handled like Ctrl-C, so that interrupted work is never taken for finished work."""

import contextlib
import signal
import threading

__all__ = ["raised_interrupts", "terminate_as_interrupt"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def _handlers_restored():
    """The SIGINT and SIGTERM handlers found on entering are put back on leaving."""
    previous = {signum: signal.getsignal(signum) for signum in _SIGNALS}
    try:
        yield previous
    finally:
        for signum, handler in previous.items():
            if handler is not None:  # None: installed outside Python, which cannot put it back
                signal.signal(signum, handler)


def _recording(raised, handler):
    """``handler``, appending the signal's name to ``raised`` when it raises ``KeyboardInterrupt``."""

    def record(signum, frame):
        try:
            return handler(signum, frame)
        except KeyboardInterrupt:
            raised.append(signal.Signals(signum).name)
            raise

    record._skmem = getattr(handler, "_skmem", False)
    return record


@contextlib.contextmanager
def raised_interrupts():
    """A list naming each SIGINT or SIGTERM whose Python handler raised ``KeyboardInterrupt`` meanwhile.

    It tells an interrupt from a ``KeyboardInterrupt`` that code raises
    itself (skorch's way of ending training), and shows an interrupt whose
    exception was lost: Python runs a handler wherever the main thread
    happens to be, and an exception raised in a garbage-collector callback
    or a ``__del__`` is only printed. Only in the main thread (elsewhere the
    list stays empty); the handlers are put back on leaving.
    """
    raised = []
    if threading.current_thread() is not threading.main_thread():
        yield raised
        return
    with _handlers_restored() as previous:
        for signum, handler in previous.items():
            if callable(handler):
                signal.signal(signum, _recording(raised, handler))
        yield raised


def _interrupt_handler(previous, on_interrupt):
    """A handler running ``on_interrupt()``, then ``previous`` when it is another's, else raising ``KeyboardInterrupt``."""

    def interrupt(signum, frame):
        if on_interrupt is not None:
            on_interrupt()
        if callable(previous) and previous is not signal.default_int_handler and not getattr(previous, "_skmem", False):
            return previous(signum, frame)
        raise KeyboardInterrupt(signal.Signals(signum).name)

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

    When the block ends without an exception after an interrupt raised here
    (its exception was lost, see :func:`raised_interrupts`),
    ``KeyboardInterrupt`` is raised on leaving it. Only in the main thread;
    the previous handlers are restored on leaving.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    with _handlers_restored() as previous:
        for signum, handler in previous.items():
            if handler is not signal.SIG_IGN and handler is not None:
                signal.signal(signum, _interrupt_handler(handler, on_interrupt))
        with raised_interrupts() as raised:
            yield
    if raised:
        raise KeyboardInterrupt(f"{raised[0]} (its exception was lost while the work went on)")
