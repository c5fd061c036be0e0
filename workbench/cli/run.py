"""``workbench verify``, ``latex``, ``sweep`` and ``plot``: plan (everything validated), then run
the plan on one executor with the terminal's progress, then report."""

from __future__ import annotations

import csv
import json
import sys
from argparse import Namespace
from typing import Any

from proofs.mathtext import to_text

from ..claim_type import Claim
from ..errors import DomainError
from ..execution import execute
from ..export import LatexError, plan_latex, write_latex
from ..figures import FORMATS, figure, save
from ..figures.sweep import sweep_figure
from ..files import OutputError, check_target
from ..plan import plan_claims, unused_settings
from ..printing import number, resolution_text
from ..registry import claim as lookup
from ..registry import select
from ..settings import RunSettings
from ..sweeps import SweepPlan, SweepResult, plan_sweep, run_sweep, stored
from .interrupts import INTERRUPTS
from .terminal import STYLE, Terminal, console, exit_status, status_text, summary, verdict_table

__all__ = ["verify", "latex", "sweep", "plot"]


def _settings(args: Namespace) -> RunSettings:
    return RunSettings(backend=args.backend, seed=args.seed, resolution=args.resolution, alpha=args.alpha,
                       jobs=args.jobs, max_replicates=args.max_replicates)


def _params(chosen: list[Claim], sets: list[str]) -> dict[str, dict[str, Any]]:
    """``--set NAME=VALUE`` for every chosen claim that has NAME (parsed with that claim's domain);
    a name some claims lack is said on stderr, one line per name."""
    out: dict[str, dict[str, Any]] = {c.id: {} for c in chosen}
    names = []
    for item in sets:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise DomainError(f"--set {item!r} must read NAME=VALUE")
        if name in names:
            raise DomainError(f"--set {name} is given twice; give each parameter once")
        having = [c for c in chosen if any(p.name == name for p in c.parameters)]
        if not having:
            ids = ", ".join(f"{c.id} ({c.parameter_names})" for c in chosen)
            raise DomainError(f"unknown parameter {name!r}; parameters of {ids}")
        for c in having:
            out[c.id][name] = c.parameter(name).parse(text)
        names.append(name)
    for line in unused_settings(chosen, names):
        print(f"workbench: note: --set {line}", file=sys.stderr)
    return out


def verify(args: Namespace) -> int:
    chosen = select(args.ids)
    plan = plan_claims(chosen, _params(chosen, args.sets), _settings(args))
    terminal = Terminal()
    try:
        verdicts = execute(plan, reporter=terminal)
    finally:
        terminal.close()
    if args.json:
        print(json.dumps([v.to_dict() for v in verdicts], indent=2))
        return exit_status([v.status for v in verdicts])
    s = plan.settings
    each = s.alpha / len(plan.tasks)
    out = console()
    out.print(verdict_table(verdicts, f"Verification (backend {s.backend}, seed {s.seed}, alpha {s.alpha:g} -> "
                                      f"{each:.2g} per claim)"))
    if args.notes:
        for v in verdicts:
            for note in v.notes:
                out.print(f"{v.id}: {to_text(note)}", markup=False, highlight=False)
    out.print(summary(verdicts, terminal.seconds, notes_shown=args.notes), markup=False, highlight=False)
    return exit_status([v.status for v in verdicts])


def latex(args: Namespace) -> int:
    chosen = select(args.ids)
    plan = plan_latex(args.ids, args.output, fragment=args.fragment, verify=args.verify, pdf=args.pdf,
                      figures=args.figures, force=args.force, params=_params(chosen, args.sets), settings=_settings(args),
                      root=args.root)
    terminal = Terminal()
    try:
        result = write_latex(plan, terminal)
    except LatexError as exc:
        print(f"workbench: error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    finally:
        terminal.close()
    if plan.out is None:
        print(result.text, end="")
    else:
        for path in result.files:
            print(f"wrote {path}")
        for path in result.removed:
            print(f"removed {path} (a figure of an earlier run that this one did not draw)")
        if result.inputs is not None:
            preamble, this, bibfile = result.inputs
            print(f"In your paper: \\input{{{preamble}}} in the preamble, \\input{{{this}}} where the claims go, and add "
                  f"{bibfile} to your \\bibliography{{...}}.")
        for warning in result.warnings:
            print(f"workbench: LaTeX warning: {warning}", file=sys.stderr)
        if result.verdicts:
            print(summary(result.verdicts, terminal.seconds))
    return exit_status([v.status for v in result.verdicts])


def _plan_sweep(args: Namespace) -> SweepPlan:
    c = lookup(args.id)
    if not args.grid:
        raise DomainError("--sweep needs at least one --grid NAME=VALUES")
    return plan_sweep(c, args.grid, params=_params([c], args.sets)[c.id], settings=_settings(args), method=args.family,
                      store=args.store, scheduler=args.scheduler, timeout=args.connect_timeout)


def _run_sweep(args: Namespace, planned: SweepPlan) -> SweepResult:
    """The sweep with the terminal's progress; an interrupt (Ctrl-C or SIGTERM) is raised again with
    what it leaves: how many points the store holds for a rerun, or that nothing was kept."""
    terminal = Terminal("points", unit="points")
    try:
        return run_sweep(planned, terminal)
    except INTERRUPTS as exc:
        raise type(exc)(_kept(args, planned)) from None
    finally:
        terminal.close()


def _kept(args: Namespace, planned: SweepPlan) -> str:
    if planned.store is None:
        return "nothing was kept (--store DIR keeps each finished point for a rerun)"
    try:
        n = stored(planned)
    except INTERRUPTS:  # a second Ctrl-C while counting: say what is certain
        return f"the finished points are kept in {args.store}; rerun the same command to resume"
    return f"{n} of {len(planned.plan.tasks)} points stored in {args.store}; rerun the same command to resume"


def sweep(args: Namespace) -> int:
    result = _run_sweep(args, _plan_sweep(args))
    rows = result.rows
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    elif args.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        from rich.table import Table

        table = Table(title=(
            f"Sweep of {result.claim} over {' x '.join(f'{k} ({len(v)})' for k, v in result.grid.items())} = "
            f"{len(rows)} points (backend {result.backend}, seed {result.seed}, {result.executor}); each point at alpha "
            f"{result.alpha:g}, family-wise: {result.method.capitalize()} at alpha {result.alpha:g}"))
        for col in [*result.grid, "expected", "estimate", "stderr", "resolution", "p", "point", result.method]:
            table.add_column(col, justify="left" if col in ("point", result.method) else "right")
        for v, row in zip(result.verdicts, rows, strict=True):
            table.add_row(*(str(row[k]) for k in result.grid), number(v.expected), number(v.estimate),
                          number(v.stderr, 3) if v.kind != "exact" else "exact", resolution_text(v),
                          f"{row['p_value']:.2g}", status_text(v),
                          STYLE["fail"] if not row["family_passed"] else STYLE[v.status])
        out = console()
        out.print(table)
        verdict = {"pass": "[green]PASSED[/green]", "fail": "[bold red]FAILED[/bold red]",
                   "inconclusive": "[yellow]INCONCLUSIVE[/yellow]"}[result.status]
        out.print(f"{result.claim}: family-wise {verdict} ({sum(result.rejected)} of {len(rows)} points rejected by "
                  f"{result.method.capitalize()} at alpha {result.alpha:g}, {result.inconclusive} inconclusive); "
                  f"computed {result.computed}, reused "
                  f"{result.reused} from the store" + (f", {result.recomputed} corrupted entries recomputed"
                                                      if result.recomputed else ""))
    return exit_status([result.status])


def plot(args: Namespace) -> int:
    c = lookup(args.id)
    fmt = args.output.rsplit(".", 1)[-1].lower() if "." in args.output else ""
    if fmt not in FORMATS:
        raise OutputError(f"cannot write {args.output}: unknown figure format; use one of "
                          + ", ".join("." + f for f in FORMATS))
    if args.sweep:
        planned = _plan_sweep(args)
        check_target(args.output, force=args.force)
        result = _run_sweep(args, planned)
        print(f"wrote {save(sweep_figure(result), args.output, force=args.force)}")
        return 0
    if args.grid or args.store or args.scheduler or args.connect_timeout is not None:
        raise DomainError("--grid, --store, --scheduler and --timeout go with --sweep")
    plan = plan_claims([c], _params([c], args.sets), _settings(args))
    check_target(args.output, force=args.force)
    task = plan.tasks[0]

    fig = figure(c, seed=task.settings.seed, backend=task.settings.backend, **task.params)
    print(f"wrote {save(fig, args.output, force=args.force)}")
    return 0
