"""The ``workbench`` command: info, list, derive, verify, sweep, latex, plot, compress, decompress.

Exit status: 0 every claim passed (a sweep: its family-wise verdict), 1 some claim failed, 2 bad
input, a LaTeX compilation error or an operating-system error such as a full disk (one line on
stderr, no traceback), 3 none failed but some were inconclusive (the run could not have rejected a
wrong closed form), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM). An interrupt or SIGTERM
stops the workers and removes half-written files before its one line (a sweep with a store says
how many points are kept for a rerun). Every input is validated (the run is planned) before any
work starts; any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from argparse import Namespace
from collections.abc import Callable, Sequence

from numerics import BackendUnavailable
from numerics.bitstream import FormatError

from .. import _launch
from ..errors import InputError
from . import files, run, show
from .interrupts import INTERRUPTS, deaf, interrupt_status, signals_as_exceptions
from .parser import build

__all__ = ["main", "COMMANDS", "os_error"]

COMMANDS: dict[str, Callable[[Namespace], int]] = {
    "info": show.info,
    "list": show.listing,
    "derive": show.derive,
    "verify": run.verify,
    "sweep": run.sweep,
    "latex": run.latex,
    "plot": run.plot,
    "compress": files.compress,
    "decompress": files.decompress,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    _launch.done()  # from here on a signal is an exception that the command's cleanup sees
    try:
        args = build().parse_args(argv)
    except SystemExit as exc:  # argparse has printed its one line (or the help): its status, returned
        return exc.code if isinstance(exc.code, int) else 2
    try:
        with signals_as_exceptions():
            return COMMANDS[args.command](args)
    except (InputError, BackendUnavailable, FormatError) as exc:  # the user's input, or a bad file
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"workbench: error: {message}", file=sys.stderr)
        return 2
    except INTERRUPTS as exc:
        word, status = interrupt_status(exc)
        with deaf():
            print(f"workbench: {word}" + (f": {exc}" if str(exc) else ""), file=sys.stderr, flush=True)
        return status
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        sys.stderr.close()
        return 0
    except OSError as exc:  # the net under every command: a full disk, a read-only directory, a read error
        print(f"workbench: error: {os_error(args.command, exc)}", file=sys.stderr)
        return 2


def os_error(command: str, exc: OSError) -> str:
    """``verify: No space left on device (/path)``: what failed, the system's reason and the file."""
    reason = exc.strerror or (str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    paths = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
    return f"{command}: {reason}" + (f" ({paths})" if paths else "")
