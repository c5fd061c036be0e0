"""The ``workbench`` command: info, list, derive, verify, sweep, latex, plot, compress, decompress.

Exit status: 0 every claim passed (a sweep: its family-wise verdict), 1 some claim failed, 2 bad
input or a LaTeX compilation error (one line on stderr, no traceback), 3 none failed but some were
inconclusive (the run could not have rejected a wrong closed form), 130 interrupted (Ctrl-C).
Every input is validated (the run is planned) before any work starts; an exception that is not
an input error is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from argparse import Namespace
from collections.abc import Callable, Sequence

from numerics import BackendUnavailable
from numerics.bitstream import FormatError

from ..errors import InputError
from . import files, run, show
from .parser import build

__all__ = ["main", "COMMANDS"]

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
    try:
        args = build().parse_args(argv)
    except SystemExit as exc:  # argparse has printed its one line (or the help): its status, returned
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return COMMANDS[args.command](args)
    except (InputError, BackendUnavailable, FormatError) as exc:  # the user's input, or a bad file
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"workbench: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print("workbench: interrupted" + (f"; {exc}" if str(exc) else ""), file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        sys.stderr.close()
        return 0
