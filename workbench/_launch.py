"""Ctrl-C or SIGTERM while the command line is still importing: one line and exit 130 or 143.

The ``workbench`` command imports SymPy, SciPy and the claims (about a second) before
:func:`workbench.cli.main` can handle a signal; Python's own Ctrl-C would print a traceback from
wherever the import was. When this process is that command (the console script, or ``python -m
workbench``), :func:`early` installs handlers that say one line and end the process at once (nothing
has been written yet; it runs when this module is imported, first of the package), and :func:`done` hands the signals back when ``main`` takes over. Imported as a
library, nothing is changed.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Any

__all__ = ["early", "done", "is_command"]


def is_command(argv: list[str] | None = None) -> bool:
    """Is this process the ``workbench`` command line (``orig_argv``: the interpreter's own arguments)?"""
    argv = list(getattr(sys, "orig_argv", sys.argv)) if argv is None else argv
    if len(argv) >= 2 and os.path.basename(argv[1]) in ("workbench", "workbench.exe", "workbench-script.py"):
        return True  # python .../bin/workbench (a console script's interpreter line)
    return any(a == "-m" and b == "workbench" for a, b in zip(argv, argv[1:], strict=False))


def _stop(signum: int, frame: Any) -> None:
    os.write(2, b"workbench: interrupted\n" if signum == signal.SIGINT else b"workbench: terminated\n")
    os._exit(128 + signum)


def early() -> None:
    """Install the import-time handlers (the command line only, in the main thread)."""
    if threading.current_thread() is threading.main_thread() and is_command():
        for s in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(s) in (signal.default_int_handler, signal.SIG_DFL):
                signal.signal(s, _stop)


def done() -> None:
    """Give the signals back to Python's defaults (``main`` turns them into exceptions from here on)."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) is _stop:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if signal.getsignal(signal.SIGTERM) is _stop:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


early()
