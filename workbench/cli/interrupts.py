"""Signals as exceptions: while a command runs, SIGTERM raises :class:`Terminated` as Ctrl-C raises
``KeyboardInterrupt``, so every ``finally`` runs (a half-written file's temporary is removed, worker
processes and Dask clusters are stopped) before :func:`workbench.cli.main` says one line and exits
130 (SIGINT) or 143 (SIGTERM).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["Terminated", "INTERRUPTS", "deaf", "signals_as_exceptions", "interrupt_status"]


class Terminated(BaseException):
    """SIGTERM, raised in the main thread (a ``BaseException``, like ``KeyboardInterrupt``, so no
    ``except Exception`` swallows it)."""


INTERRUPTS = (KeyboardInterrupt, Terminated)


def _terminate(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: a second SIGTERM must not cut the cleanup short
    raise Terminated


@contextmanager
def signals_as_exceptions() -> Iterator[None]:
    """SIGTERM raises :class:`Terminated` inside the block, once (the cleanup it starts is not cut short
    by another; SIGKILL still ends it), and the previous handler is restored after; outside the main
    thread, where no handler can be set, the block runs unchanged."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


@contextmanager
def deaf() -> Iterator[None]:
    """SIGINT and SIGTERM ignored inside the block: the last line is being said, a second Ctrl-C must
    not cut it into a traceback."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in previous:
        signal.signal(s, signal.SIG_IGN)
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)


def interrupt_status(exc: BaseException) -> tuple[str, int]:
    """``("terminated", 143)`` for SIGTERM, ``("interrupted", 130)`` for Ctrl-C."""
    return ("terminated", 128 + signal.SIGTERM) if isinstance(exc, Terminated) else ("interrupted", 128 + signal.SIGINT)
