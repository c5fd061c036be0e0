"""The ``workbench`` command: list, derive, verify.

Exit status: 0 all claims passed, 1 some claim failed, 2 a usage error (one line on
stderr, no traceback). Every input is validated before any work starts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

from numerics import BACKENDS, BackendUnavailable

from .claim import Claim
from .printing import number, parameters_text, resolution_text
from .registry import claim as all_claims_by_id, claims as all_claims, select
from .verify import plan, run

__all__ = ["main"]


class UsageError(Exception):
    """Bad input from the command line: printed as one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse would print usage + message, exit 2
        if message.startswith("argument ") and ": " in message:
            option, rest = message[len("argument "):].split(": ", 1)
            if rest.startswith(option.split("/")[0] + "="):
                message = rest  # our type parsers already name the option
        raise UsageError(message)


def _int_arg(name: str):
    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name}={text!r} is not an integer >= 0") from None
        if value < 0:
            raise argparse.ArgumentTypeError(f"{name}={value} is outside the domain: integer >= 0")
        return value

    return parse


def _real_arg(name: str, low: float, high: float, closed_high: bool):
    domain = f"real with {low:g} < {name} {'<=' if closed_high else '<'} {high:g}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name}={text!r} is not a real number ({domain})") from None
        if not (low < value < high or (closed_high and value == high)):
            raise argparse.ArgumentTypeError(f"{name}={text} is outside the domain: {domain}")
        return value

    return parse


def _parser() -> _Parser:
    p = _Parser(prog="workbench", description="Derive and verify deep learning theory claims.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    ls = sub.add_parser("list", help="list the registered claims")
    ls.add_argument("--json", action="store_true", help="one JSON object per claim")

    dv = sub.add_parser("derive", help="print a claim's derivation, step by step")
    dv.add_argument("id", help="claim id, e.g. xent.margin")
    dv.add_argument("--latex", action="store_true", help="print LaTeX instead of text")

    vf = sub.add_parser("verify", help="verify claims numerically (all claims by default)")
    vf.add_argument("ids", nargs="*", metavar="ID", help="claim ids or areas (e.g. xent)")
    vf.add_argument("--set", dest="sets", action="append", default=[], metavar="K=V", help="set a parameter")
    vf.add_argument("--backend", default="numpy", choices=BACKENDS)
    vf.add_argument("--seed", type=_int_arg("--seed"), default=0)
    vf.add_argument("--resolution", type=_real_arg("--resolution", 0.0, 1.0, True), default=0.01)
    vf.add_argument("--alpha", type=_real_arg("--alpha", 0.0, 1.0, False), default=1e-6)
    vf.add_argument("--json", action="store_true", help="print a JSON list, one object per claim")
    return p


def _settings(chosen: list[Claim], sets: list[str]) -> dict[str, dict[str, Any]]:
    """Parse ``--set k=v`` for every chosen claim that has ``k`` (with that claim's domain)."""
    out: dict[str, dict[str, Any]] = {c.id: {} for c in chosen}
    for item in sets:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--set {item!r} must read NAME=VALUE")
        having = [c for c in chosen if any(p.name == name for p in c.parameters)]
        if not having:
            ids = ", ".join(f"{c.id} ({c.parameter_names})" for c in chosen)
            raise UsageError(f"unknown parameter {name!r}; parameters of {ids}")
        for c in having:
            out[c.id][name] = c.parameter(name).parse(text)
    return out


def _console():
    """stdout console; wide enough for the whole table when writing to a file or pipe."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=160)


def _cmd_list(args) -> int:
    cs = all_claims()
    if args.json:
        rows = [
            {
                "id": c.id,
                "title": c.title,
                "source": [str(s) for s in c.sources],
                "parameters": {p.name: {"default": p.default, "domain": p.domain, "doc": p.doc} for p in c.parameters},
            }
            for c in cs
        ]
        print(json.dumps(rows, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Registered claims")
    for col in ("claim", "kind", "title", "parameters", "source"):
        table.add_column(col)
    for c in cs:
        table.add_row(c.id, c.kind, c.title, c.parameter_names, "; ".join(s.short for s in c.sources))
    _console().print(table)
    return 0


def _cmd_derive(args) -> int:
    c = all_claims_by_id(args.id)
    d = c.derivation
    if args.latex:
        print(d._latex())
    else:
        print(f"{c.id}: {c.title}")
        print(d)
    return 0


class _LazyProgress:
    """A rich progress bar on stderr, shown only once a run has lasted a second, on a terminal."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.bar = None
        self.tasks: dict[str, Any] = {}
        self.enabled = sys.stderr.isatty()

    def __call__(self, c: Claim, done: int, total: int) -> None:
        if not self.enabled or (self.bar is None and time.perf_counter() - self.start < 1.0):
            return
        if self.bar is None:
            from rich.console import Console
            from rich.progress import Progress

            self.bar = Progress(console=Console(stderr=True), transient=True)
            self.bar.start()
        if c.id not in self.tasks:
            self.tasks[c.id] = self.bar.add_task(c.id, total=total)
        self.bar.update(self.tasks[c.id], completed=done, total=total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _plan_verify(args) -> list:
    chosen = select(args.ids)
    settings = _settings(chosen, args.sets)
    return plan(chosen, settings=settings, backend=args.backend, seed=args.seed, resolution=args.resolution, alpha=args.alpha)


def _cmd_verify(args, steps: list) -> int:
    chosen = [c for c, _, _ in steps]
    progress = _LazyProgress()
    try:
        verdicts = run(steps, backend=args.backend, seed=args.seed, resolution=args.resolution, progress=progress)
    finally:
        progress.close()
    if args.json:
        print(json.dumps([v.to_dict() for v in verdicts], indent=2))
    else:
        from rich.console import Console
        from rich.table import Table

        each = args.alpha / len(chosen)
        table = Table(title=f"Verification (backend {args.backend}, seed {args.seed}, alpha {args.alpha:g} -> {each:.2g} per claim)")
        for col in ("claim", "parameters", "expected", "estimate", "stderr", "resolution", "replicates", "seconds", "verdict"):
            table.add_column(col, justify="right" if col not in ("claim", "parameters", "verdict") else "left")
        for v in verdicts:
            table.add_row(
                v.id,
                parameters_text(v.parameters),
                number(v.expected),
                number(v.estimate),
                number(v.stderr, 3) if v.kind == "statistical" else "exact",
                resolution_text(v),
                str(v.replicates),
                f"{v.seconds:.2f}",
                "[green]PASS[/green]" if v.passed else "[bold red]FAIL[/bold red]",
            )
        _console().print(table)
    return 0 if all(v.passed for v in verdicts) else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line. Bad input is found before any work starts, and only then
    reported as a usage error: an exception raised while working is a bug and keeps its
    traceback."""
    try:
        args = _parser().parse_args(argv)
        if args.command == "verify":
            steps = _plan_verify(args)
        elif args.command == "derive":
            all_claims_by_id(args.id)
    except (UsageError, ValueError, TypeError, BackendUnavailable) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"workbench: error: {message}", file=sys.stderr)
        return 2
    try:
        if args.command == "verify":
            return _cmd_verify(args, steps)
        return _cmd_list(args) if args.command == "list" else _cmd_derive(args)
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        sys.stderr.close()
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
