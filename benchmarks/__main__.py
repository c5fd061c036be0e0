"""``python -m benchmarks [--quick] [--json PATH] [--markdown PATH] [--area NAME ...]``: run, print,
write the JSON report (and the Markdown table that README's Performance section shows).

Exits 0 whatever the numbers: a missed target is marked in the table and the report, not
treated as a failure.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import AREAS, run_all

DEFAULT_JSON = "benchmarks-report.json"


def _format(value: float, unit: str) -> str:
    if unit in ("networks/s", "networks"):
        return f"{value:,.0f}" if value >= 1000 else f"{value:.3g}"
    if unit == "x":
        return f"{value:.3f}"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def _mark(ok: bool | None) -> str:
    return "" if ok is None else ("[green]pass[/green]" if ok else "[red]miss[/red]")


def print_report(report: dict[str, Any], console=None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    console.print(
        f"[bold]workbench {report['workbench']} benchmarks[/bold]{' (quick)' if report['quick'] else ''}: "
        f"{_machine_text(report['machine'])}"
    )
    for area, result in report["areas"].items():
        table = Table(title=f"{area}: {result.get('title', '')}", title_justify="left")
        table.add_column("benchmark")
        table.add_column("value", justify="right")
        table.add_column("unit")
        table.add_column("target")
        table.add_column("", justify="center")
        for row in result["rows"]:
            value = row["value"]
            text = _format(value, row["unit"]) if math.isfinite(value) else "n/a"
            table.add_row(row["benchmark"], text, row["unit"], row["target"] or "", _mark(row["ok"]))
        console.print(table)


def _machine_text(m: dict[str, Any]) -> str:
    blas = m["blas"]
    if blas.get("source") == "threadpoolctl":
        blas_text = ", ".join(f"{p.get('internal_api')} {p.get('version')} ({p.get('num_threads')} threads)"
                              for p in blas["libraries"])
    else:
        blas_text = f"{blas.get('name')} {blas.get('version')}"
    return (f"{m['cpu']}, {m['cpus_usable']} of {m['cpu_count']} CPUs, {m['platform']}, Python {m['python']}, "
            f"NumPy {m['numpy']}, BLAS {blas_text}")


def markdown(report: dict[str, Any]) -> str:
    """The report as one Markdown table (area, benchmark, value, target, met), the machine named above it."""
    lines = [
        (f"Measured {report.get('created', '')[:10]} on {_machine_text(report['machine'])}"
        f"{' (quick run)' if report['quick'] else ''}; `python -m benchmarks` "
        f"({report.get('seconds', float('nan')):.0f} s)."),
        "",
        "| area | benchmark | value | target | met |",
        "|---|---|---|---|---|",
    ]
    for area, result in report["areas"].items():
        for r in result["rows"]:
            value = r["value"]
            text = f"{_format(value, r['unit'])} {r['unit']}" if math.isfinite(value) else "n/a"
            met = "" if r["ok"] is None else ("yes" if r["ok"] else "**no**")
            lines.append(f"| {area} | {r['benchmark']} | {text} | {r['target'] or ''} | {met} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description="Benchmarks of the workbench's kernels.")
    parser.add_argument("--json", default=DEFAULT_JSON, metavar="PATH",
                        help=f"where to write the JSON report (default: {DEFAULT_JSON} in the current directory)")
    parser.add_argument("--markdown", metavar="PATH", help="also write the report as a Markdown table (for README)")
    parser.add_argument("--quick", action="store_true", help="a tiny run (seconds) to check that everything works")
    parser.add_argument("--area", action="append", choices=AREAS, help="run only this area (repeatable)")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    report = run_all(quick=args.quick, areas=tuple(args.area or AREAS))
    report["seconds"] = time.perf_counter() - start
    report["created"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    print_report(report)

    from workbench.files import atomic_write

    path = atomic_write(Path(args.json), json.dumps(report, indent=2, sort_keys=False) + "\n")
    print(f"report written to {path} ({report['seconds']:.1f} s)")
    if args.markdown:
        print(f"table written to {atomic_write(Path(args.markdown), markdown(report))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
