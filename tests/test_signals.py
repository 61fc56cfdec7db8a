"""SIGTERM unwinds like Ctrl-C, and an interrupt whose exception was lost still ends the work as interrupted."""

import gc
import os
import signal

import pytest

from skmem._signals import terminate_as_interrupt

pytestmark = pytest.mark.usefixtures("python_signal_handlers")


def send(signum=signal.SIGINT):
    os.kill(os.getpid(), signum)


def send_inside_a_gc_callback():
    """Deliver SIGINT while the collector runs a callback: the handler's exception is only printed there."""

    def callback(phase, info):
        if phase == "start":
            send()

    gc.callbacks.append(callback)
    try:
        gc.collect()
    finally:
        gc.callbacks.remove(callback)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_both_signals_raise_keyboard_interrupt_and_call_on_interrupt_first(signum):
    calls = []
    with pytest.raises(KeyboardInterrupt, match=signal.Signals(signum).name):
        with terminate_as_interrupt(on_interrupt=lambda: calls.append(signum)):
            send(signum)
    assert calls == [signum]


def test_handlers_are_restored_on_leaving():
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    with pytest.raises(KeyboardInterrupt):
        with terminate_as_interrupt():
            send(signal.SIGTERM)
    assert {s: signal.getsignal(s) for s in before} == before


def test_an_interrupt_caught_inside_the_block_is_raised_again_on_leaving():
    with pytest.raises(KeyboardInterrupt, match="SIGINT.*lost"):
        with terminate_as_interrupt():
            try:
                send()
            except KeyboardInterrupt:  # a library that takes Ctrl-C for "stop early" and goes on (skorch does)
                pass


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_interrupt_lost_in_a_gc_callback_is_raised_on_leaving():
    with pytest.raises(KeyboardInterrupt):
        with terminate_as_interrupt():
            send_inside_a_gc_callback()


def test_a_handler_of_the_callers_is_called_and_decides():
    seen = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
    try:
        with terminate_as_interrupt():
            send()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert seen == [signal.SIGINT]  # no KeyboardInterrupt: the caller's handler chose to go on


def test_an_ignored_signal_stays_ignored():
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        with terminate_as_interrupt():
            assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
            send(signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, previous)
