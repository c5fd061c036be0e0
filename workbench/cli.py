"""The ``workbench`` command: list, derive, verify, sweep, latex, plot, compress, decompress.

Exit status: 0 all claims passed (a sweep: its family-wise verdict), 1 some claim failed, 2 a usage error or a LaTeX
compilation error (one line on stderr, no traceback). Every input (claim ids, parameters,
output paths, the LaTeX installation for ``--pdf``) is validated before any work starts.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import sys
import time
from collections.abc import Sequence
from typing import Any

from numerics import BACKENDS, BackendUnavailable

from .claim_type import Claim
from .printing import number, parameters_text, resolution_text
from .proof_graph import draw
from .registry import claim as all_claims_by_id, claims as all_claims, select
from .verification import plan, run

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


def _int_arg(name: str, low: int = 0, high: int | None = None):
    """An argparse type for ``name``: an integer in [low, high] (no upper end when ``high`` is None)."""
    short = name.lstrip("-")
    domain = f"integer >= {low}" if high is None else f"integer with {low} <= {short} <= {high}"

    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name}={text!r} is not an integer ({domain})") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{name}={value} is outside the domain: {domain}")
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


def _run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="K=V", help="set a parameter")
    p.add_argument("--backend", default="numpy", choices=BACKENDS)
    p.add_argument("--seed", type=_int_arg("--seed"), default=0)
    p.add_argument("--resolution", type=_real_arg("--resolution", 0.0, 1.0, True), default=None,
                   help="target resolution of Monte Carlo claims (default: each claim's own, 0.01 for most)")
    p.add_argument("--alpha", type=_real_arg("--alpha", 0.0, 1.0, False), default=1e-6)
    p.add_argument("--jobs", type=_int_arg("--jobs", 1), default=None, metavar="N",
                   help="claims verified side by side in N processes (default: every core; the verdicts are the same)")


def _sweep_options(p: argparse.ArgumentParser, *, required: bool) -> None:
    p.add_argument("--grid", action="append", default=[], required=required, metavar="K=V1,V2|A:B[:C]",
                   help="a swept parameter: values by commas, or a range START:STOP[:STEP] (stop excluded); repeat per axis")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler address (tcp://host:8786), or 'serial'; default: a local cluster, one process per core")
    p.add_argument("--workers", type=_int_arg("--workers", 1), metavar="N", help="processes of the local cluster (default: every core)")
    p.add_argument("--store", metavar="DIR", help="reuse and keep results here (one JSON file per point): a rerun computes only what is missing")
    p.add_argument("--family", default="holm", choices=("holm", "bonferroni"), help="family-wise correction across the grid points")


def _parser() -> _Parser:
    p = _Parser(prog="workbench", description="Derive and verify deep learning theory claims.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    inf = sub.add_parser("info", help="versions, usable backends (and why not), BLAS, cores, LaTeX")
    inf.add_argument("--json", action="store_true", help="print a JSON object")

    ls = sub.add_parser("list", help="list the registered claims")
    ls.add_argument("--json", action="store_true", help="one JSON object per claim")

    dv = sub.add_parser("derive", help="print claims' derivations (with an area or no id: one line per claim)")
    dv.add_argument("ids", nargs="*", metavar="ID", help="claim ids or areas (e.g. xent.margin, init)")
    dv.add_argument("--latex", action="store_true", help="print LaTeX instead of text")
    dv.add_argument("--json", action="store_true", help="one JSON object per claim (a list when several)")
    dv.add_argument("--graph", action="store_true", help="draw one claim's dependency graph into -o FILE")
    dv.add_argument("-o", "--output", default=None, help="the graph's file: .svg, .pdf or .png")
    dv.add_argument("--force", action="store_true", help="overwrite an output file the workbench did not write")

    vf = sub.add_parser("verify", help="verify claims numerically (all claims by default)")
    vf.add_argument("ids", nargs="*", metavar="ID", help="claim ids or areas (e.g. xent)")
    _run_options(vf)
    vf.add_argument("--json", action="store_true", help="print a JSON list, one object per claim")

    sw = sub.add_parser("sweep", help="verify one claim over a grid of parameters (on Dask where installed)")
    sw.add_argument("id", help="claim id, e.g. init.he-forward")
    _sweep_options(sw, required=True)
    sw.add_argument("--set", dest="sets", action="append", default=[], metavar="K=V", help="fix a parameter")
    sw.add_argument("--backend", default="numpy", choices=BACKENDS)
    sw.add_argument("--seed", type=_int_arg("--seed"), default=0)
    sw.add_argument("--resolution", type=_real_arg("--resolution", 0.0, 1.0, True), default=None,
                    help="target resolution of each point (default: the claim's own)")
    sw.add_argument("--alpha", type=_real_arg("--alpha", 0.0, 1.0, False), default=1e-6)
    fmt = sw.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print the sweep as JSON (family verdict and every point)")
    fmt.add_argument("--csv", action="store_true", help="print the table as CSV")

    lx = sub.add_parser("latex", help="write LaTeX (theorem, proof, verification table, figure, BibTeX) for claims")
    lx.add_argument("ids", nargs="*", metavar="ID", help="claim ids or areas (all claims by default)")
    lx.add_argument("-o", "--output", metavar="OUT.tex", help="write OUT.tex, OUT.bib and figures (default: print the LaTeX)")
    lx.add_argument("--fragment", action="store_true", help="no preamble: a file to \\input (prints the packages it needs)")
    lx.add_argument("--verify", action="store_true", help="add a verification table per claim from a real run")
    lx.add_argument("--pdf", action="store_true", help="compile OUT.tex to OUT.pdf with latexmk (or pdflatex + bibtex)")
    lx.add_argument("--no-figures", dest="figures", action="store_false", help="leave out the figures")
    lx.add_argument("--force", action="store_true", help="overwrite files the workbench did not write")
    _run_options(lx)

    pl = sub.add_parser("plot", help="draw a claim's figure (closed form against measured points)")
    pl.add_argument("id", help="claim id, e.g. xent.margin")
    pl.add_argument("-o", "--output", required=True, metavar="FILE", help="figure file: .pdf, .png, .svg or .eps")
    pl.add_argument("--force", action="store_true", help="overwrite a file the workbench did not write")
    pl.add_argument("--set", dest="sets", action="append", default=[], metavar="K=V", help="set a parameter")
    pl.add_argument("--backend", default="numpy", choices=BACKENDS)
    pl.add_argument("--seed", type=_int_arg("--seed"), default=0)
    pl.add_argument("--sweep", action="store_true", help="draw a sweep over --grid instead of the claim's own figure")
    _sweep_options(pl, required=False)
    pl.add_argument("--resolution", type=_real_arg("--resolution", 0.0, 1.0, True), default=None,
                    help="with --sweep (default: the claim's own)")
    pl.add_argument("--alpha", type=_real_arg("--alpha", 0.0, 1.0, False), default=1e-6, help="with --sweep")

    cp = sub.add_parser("compress", help="quantise a float tensor (.npy) and Huffman-code it into a self-describing file")
    cp.add_argument("weights", metavar="WEIGHTS.npy", help="a NumPy .npy file holding a float array")
    cp.add_argument("--bits", type=_int_arg("--bits", 1, 16), required=True, metavar="B", help="quantisation bits, 1 to 16")
    cp.add_argument("-o", "--output", metavar="OUT", help="compressed file (default: WEIGHTS with suffix .wbz)")
    cp.add_argument("--force", action="store_true", help="overwrite a file the workbench did not write")
    cp.add_argument("--json", action="store_true", help="print the report as JSON")

    dc = sub.add_parser("decompress", help="restore the quantised tensor of a compressed file, exactly")
    dc.add_argument("compressed", metavar="FILE.wbz", help="a file written by workbench compress")
    dc.add_argument("-o", "--output", metavar="OUT.npy", help="output .npy (default: FILE with suffix .npy)")
    dc.add_argument("--codes", action="store_true", help="write the integer quantisation codes, not the dequantised floats")
    dc.add_argument("--force", action="store_true", help="overwrite an existing file")
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


def _cmd_info(args) -> int:
    from .info import info, info_text

    d = info()
    print(json.dumps(d, indent=2) if args.json else info_text(d))
    return 0


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
    from rich.table import Table

    table = Table(title="Registered claims")
    for col in ("claim", "kind", "title", "parameters", "source"):
        table.add_column(col)
    for c in cs:
        table.add_row(c.id, c.kind, c.title, c.parameter_names, "; ".join(s.short for s in c.sources))
    _console().print(table)
    return 0


def _plan_derive(args) -> tuple[list[Claim], bool]:
    """The claims to derive, and whether to summarise them (an area, or no id, was given)."""
    chosen = select(args.ids)
    summary = not args.ids or any(name not in {c.id for c in chosen} for name in args.ids)
    if args.graph:
        from .figures import FORMATS
        from .files import OutputError, check_target

        if len(args.ids) != 1 or summary:
            raise UsageError("--graph draws one claim: give exactly one claim id")
        if not args.output:
            raise UsageError("--graph needs -o FILE (.svg, .pdf or .png)")
        if Path(args.output).suffix.lower().lstrip(".") not in FORMATS:
            raise OutputError(f"cannot write {args.output}: unknown figure format; use one of "
                              + ", ".join("." + f for f in FORMATS))
        check_target(args.output, force=args.force)
    elif args.output:
        raise UsageError("-o goes with --graph")
    if sum((args.graph, args.json, args.latex)) > 1:
        raise UsageError("choose one of --graph, --json and --latex")
    return chosen, summary


def _derive_summary(c: Claim) -> str:
    d = c.derivation
    rests = "checked" if d.status == "checked" else "cited: rests on " + "; ".join(d.cited)
    definitions = d.count("definition")
    return (f"{c.id}: {len(d.steps)} steps ({d.count('checked')} checked, {d.count('cited')} cited, "
            f"{definitions} definition{'s' if definitions != 1 else ''}); conclusion {rests}")


def _cmd_derive(args, planned) -> int:
    chosen, summary = planned
    if args.graph:
        (c,) = chosen
        print(f"wrote {draw(c.derivation, args.output, force=args.force)}")
        return 0
    if args.json:
        objects = [{"id": c.id, **c.derivation.to_dict(), "title": c.title, "proof": c.derivation.title} for c in chosen]
        print(json.dumps(objects[0] if len(objects) == 1 and not summary else objects, indent=2))
        return 0
    for i, c in enumerate(chosen):
        if summary:
            print(_derive_summary(c))
        elif args.latex:
            print(c.derivation._latex())
        else:
            print(("\n" if i else "") + f"{c.id}: {c.title}")
            print(c.derivation)
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
        verdicts = run(steps, backend=args.backend, seed=args.seed, resolution=args.resolution, progress=progress,
                       jobs=args.jobs)
    finally:
        progress.close()
    if args.json:
        print(json.dumps([v.to_dict() for v in verdicts], indent=2))
    else:
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
                number(v.stderr, 3) if v.kind != "exact" else "exact",
                resolution_text(v),
                str(v.replicates),
                f"{v.seconds:.2f}",
                "[green]PASS[/green]" if v.passed else "[bold red]FAIL[/bold red]",
            )
        console = _console()
        console.print(table)
        for v in verdicts:
            for note in v.notes:
                console.print(f"{v.id}: {note}", markup=False, highlight=False)
    return 0 if all(v.passed for v in verdicts) else 1


def _plan_latex(args):
    from .export import plan_latex

    chosen = select(args.ids)
    return plan_latex(
        args.ids, args.output, fragment=args.fragment, verify=args.verify, pdf=args.pdf, figures=args.figures,
        force=args.force, seed=args.seed, backend=args.backend, resolution=args.resolution, alpha=args.alpha,
        settings=_settings(chosen, args.sets), jobs=args.jobs,
    )


def _cmd_latex(plan) -> int:
    from .export import LatexError, write_latex
    from .tex import PREAMBLE

    progress = _LazyProgress()
    try:
        result = write_latex(plan, progress=progress)
    except LatexError as exc:
        print(f"workbench: error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    finally:
        progress.close()
    if plan.out is None:
        print(result.text, end="")
    else:
        for path in result.files:
            print(f"wrote {path}")
        if plan.fragment:
            print("The fragment needs in the preamble of the document that \\inputs it:")
            print(PREAMBLE)
        for warning in result.warnings:
            print(f"workbench: LaTeX warning: {warning}", file=sys.stderr)
    return 0 if all(v.passed for v in result.verdicts) else 1


def _plan_sweep(args):
    """Everything a sweep needs, validated: (claim, grid, fixed parameters, store)."""
    from .store import Store
    from .sweeps import parse_grid

    c = all_claims_by_id(args.id)
    if not args.grid:
        raise UsageError("--sweep needs at least one --grid NAME=VALUES")
    grid = parse_grid(c, args.grid)
    fixed = _settings([c], args.sets)[c.id]
    for name in fixed:
        if name in grid:
            raise UsageError(f"{name} is both swept (--grid) and fixed (--set)")
    for combo in _product(grid):
        c.resolve({**fixed, **combo})
    if args.workers is not None and args.scheduler not in (None, "serial"):
        raise UsageError("--workers sizes the local cluster; it does not go with --scheduler ADDRESS")
    if args.store is not None:
        Store(args.store).check(c.id)
    if args.scheduler not in (None, "serial"):
        from .sweeps import _dask_available

        if not _dask_available():
            raise UsageError('--scheduler needs Dask: pip install "workbench[distributed]"')
    from numerics import backend as make_backend, check_seed

    check_seed(args.seed)
    make_backend(args.backend, args.seed)
    return c, grid, fixed


def _product(grid: dict) -> list[dict]:
    import itertools

    return [dict(zip(grid, combo, strict=True)) for combo in itertools.product(*grid.values())]


def _run_sweep(args, planned):
    """Run a planned sweep with a progress bar; SchedulerUnreachable is left to the caller."""
    import warnings

    from .sweeps import SerialFallback, sweep

    c, grid, fixed = planned
    progress = _LazyProgress()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", SerialFallback)
            result = sweep(c, grid, params=fixed, seed=args.seed, resolution=args.resolution, alpha=args.alpha,
                           backend=args.backend, method=args.family, store=args.store, scheduler=args.scheduler,
                           workers=args.workers, progress=lambda done, total: progress(c, done, total))
    finally:
        progress.close()
    for w in caught:
        print(f"workbench: hint: {w.message}", file=sys.stderr)
    return result


def _sweep_error(exc: Exception) -> int:
    print(f"workbench: error: {str(exc).splitlines()[0]}", file=sys.stderr)
    return 2


def _cmd_sweep(args, planned) -> int:
    from .sweeps import SchedulerUnreachable

    try:
        result = _run_sweep(args, planned)
    except SchedulerUnreachable as exc:
        return _sweep_error(exc)
    rows = result.rows
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    elif args.csv:
        import csv

        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        from rich.table import Table

        table = Table(title=(
            f"Sweep of {result.claim} over {' x '.join(f'{k} ({len(v)})' for k, v in result.grid.items())} = "
            f"{len(rows)} points (backend {result.backend}, seed {result.seed}, {result.executor}); each point at alpha "
            f"{result.alpha:g}, family-wise: {result.method.capitalize()} at alpha {result.alpha:g}"))
        columns = [*result.grid, "expected", "estimate", "stderr", "resolution", "p", "point", result.method]
        for col in columns:
            table.add_column(col, justify="left" if col in ("point", result.method) else "right")
        for v, row in zip(result.verdicts, rows, strict=True):
            table.add_row(
                *(str(row[k]) for k in result.grid),
                number(v.expected), number(v.estimate), number(v.stderr, 3) if v.kind != "exact" else "exact",
                resolution_text(v), f"{row['p_value']:.2g}",
                "[green]PASS[/green]" if v.passed else "[bold red]FAIL[/bold red]",
                "[green]PASS[/green]" if row["family_passed"] else "[bold red]FAIL[/bold red]",
            )
        console = _console()
        console.print(table)
        verdict = "[green]PASSED[/green]" if result.passed else "[bold red]FAILED[/bold red]"
        console.print(f"{result.claim}: family-wise {verdict} ({sum(result.rejected)} of {len(rows)} points rejected by "
                      f"{result.method.capitalize()} at alpha {result.alpha:g}); computed {result.computed}, reused "
                      f"{result.reused} from the store" + (f", {result.recomputed} corrupted entries recomputed"
                                                          if result.recomputed else ""))
    return 0 if result.passed else 1


def _plan_plot(args):
    from .files import check_target
    from .figures import FORMATS
    from .files import OutputError

    c = all_claims_by_id(args.id)
    if args.sweep:
        planned_sweep = _plan_sweep(args)
    elif args.grid or args.store or args.scheduler or args.workers:
        raise UsageError("--grid, --store, --scheduler and --workers go with --sweep")
    params = _settings([c], args.sets)[c.id]
    c.resolve(params)
    fmt = args.output.rsplit(".", 1)[-1].lower() if "." in args.output else ""
    if fmt not in FORMATS:
        raise OutputError(f"cannot write {args.output}: unknown figure format; use one of " + ", ".join("." + f for f in FORMATS))
    check_target(args.output, force=args.force)
    from numerics import backend as make_backend, check_seed

    check_seed(args.seed)
    make_backend(args.backend, args.seed)
    return (planned_sweep, None) if args.sweep else (c, params)


def _cmd_plot(args, planned) -> int:
    from .figures import save

    if args.sweep:
        from .sweeps import SchedulerUnreachable, sweep_figure

        try:
            result = _run_sweep(args, planned[0])
        except SchedulerUnreachable as exc:
            return _sweep_error(exc)
        print(f"wrote {save(sweep_figure(result), args.output, force=args.force)}")
        return 0
    c, params = planned
    fig = c.figure(seed=args.seed, backend=args.backend, **params)
    print(f"wrote {save(fig, args.output, force=args.force)}")
    return 0


def _read(path: str) -> bytes:
    from pathlib import Path

    p = Path(path).expanduser()
    try:
        return p.read_bytes()
    except IsADirectoryError:
        raise UsageError(f"cannot read {path}: it is a directory") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None


def _plan_compress(args):
    import io
    from pathlib import Path

    import numpy as np

    from .files import check_target

    data = _read(args.weights)
    try:
        weights = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, EOFError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(f"{args.weights} is not a readable .npy array: {reason}") from None
    if not isinstance(weights, np.ndarray):  # an .npz archive
        raise UsageError(f"{args.weights} is an .npz archive, not a single .npy array")
    if weights.dtype.kind != "f":
        raise UsageError(f"{args.weights} holds {weights.dtype} values, not floats: only float tensors are quantised")
    if not np.isfinite(weights).all():
        raise UsageError(f"{args.weights} holds NaN or infinite values, which a uniform quantiser cannot represent")
    out = Path(args.output) if args.output else Path(args.weights).expanduser().with_suffix(".wbz")
    check_target(out, force=args.force)
    return weights, out


def _cmd_compress(args, planned) -> int:
    from numerics.coding import compress_weights, weight_report

    from ._version import __version__
    from .files import MARKER, atomic_write

    weights, out = planned
    e = compress_weights(weights, args.bits)
    data = e.to_bytes(generator=f"{MARKER} by workbench {__version__}")  # so a later run may overwrite it
    report = weight_report(weights, e, len(data))
    atomic_write(out, data)
    report["output"] = str(out)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    n = report["weights"]
    print(f"{args.weights}: {n} {report['dtype']} weights, shape {tuple(report['shape'])}, quantised to {args.bits} bits "
          f"(uniform, per-tensor step {report['step']:.6g}), {report['symbols']} distinct levels")
    if n:
        print(f"entropy H = {report['entropy_bits']:.4f} bits/weight; Huffman L = {report['huffman_bits']:.4f} bits/weight "
              f"(payload), {report['file_bits_per_weight']:.4f} with header, table, index and checksum")
        ok = "holds" if report["within_bounds"] else "VIOLATED"
        print(f"huffman.bounds: H <= L < H + 1 {ok}; huffman.gallager: L - H = {report['redundancy']:.4f} <= "
              f"{report['gallager_bound']:.4f} (p_max = {report['p_max']:.4f})")
        if report["gaussian_estimate"] is not None:
            print(f"huffman.quantized-gaussian: (1/2) log2(2 pi e s^2) - log2(step) = {report['gaussian_estimate']:.4f} "
                  f"bits for Gaussian weights of the same s = {report['weights_std']:.4g}")
    ratio = report["ratio_vs_float32"]
    print(f"wrote {out}: {report['file_bytes']} bytes" + (f", {ratio:.3f}x smaller than float32" if ratio else ""))
    return 0


def _plan_decompress(args):
    from pathlib import Path

    from numerics.huffman import Encoded, decode, dequantize

    from .files import OutputError, check_target

    data = _read(args.compressed)
    e = Encoded.from_bytes(data)  # FormatError (a ValueError): truncated, corrupted or not ours
    codes = decode(e)
    quant = e.metadata.get("quantization")
    if quant is not None and not args.codes:
        try:
            array = dequantize(codes, float(quant["offset"]), float(quant["step"]), quant["dtype"])
        except (KeyError, TypeError, ValueError) as exc:
            raise UsageError(f"{args.compressed}: its quantisation metadata is not valid ({exc})") from None
    else:
        array = codes
    out = Path(args.output) if args.output else Path(args.compressed).expanduser().with_suffix(".npy")
    if (out.exists() or out.is_symlink()) and not args.force:
        raise OutputError(f"{out} exists; overwrite it with --force (a .npy file carries no workbench marker)")
    check_target(out, force=True)
    return array, out


def _cmd_decompress(args, planned) -> int:
    import io

    import numpy as np

    from .files import atomic_write

    array, out = planned
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    atomic_write(out, buffer.getvalue())
    print(f"wrote {out}: {array.dtype} array of shape {array.shape}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line. Bad input is found before any work starts, and only then
    reported as a usage error: an exception raised while working is a bug and keeps its
    traceback."""
    try:
        args = _parser().parse_args(argv)
        planned = None
        if args.command == "verify":
            planned = _plan_verify(args)
        elif args.command == "sweep":
            planned = _plan_sweep(args)
        elif args.command == "latex":
            planned = _plan_latex(args)
        elif args.command == "plot":
            planned = _plan_plot(args)
        elif args.command == "compress":
            planned = _plan_compress(args)
        elif args.command == "decompress":
            planned = _plan_decompress(args)
        elif args.command == "derive":
            planned = _plan_derive(args)
    except (UsageError, ValueError, TypeError, BackendUnavailable, ImportError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"workbench: error: {message}", file=sys.stderr)
        return 2
    try:
        if args.command == "verify":
            return _cmd_verify(args, planned)
        if args.command == "sweep":
            return _cmd_sweep(args, planned)
        if args.command == "latex":
            return _cmd_latex(planned)
        if args.command == "plot":
            return _cmd_plot(args, planned)
        if args.command == "compress":
            return _cmd_compress(args, planned)
        if args.command == "decompress":
            return _cmd_decompress(args, planned)
        if args.command == "info":
            return _cmd_info(args)
        return _cmd_list(args) if args.command == "list" else _cmd_derive(args, planned)
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        sys.stderr.close()
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
