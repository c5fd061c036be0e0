"""What the terminal shows: live progress with an estimate of the time left, warnings before long
waits, tables, and one summary line.

On a terminal, progress is a rich display on stderr (an overall bar in real fractions of the run,
one line per running task with its replicates, a spinner while a task computes without a
measurable fraction). When stderr is not a terminal (a log, CI), a plain line per finished task
(and for a sweep, at most one progress line every 10 s) says the run is alive.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any

from ..printing import number, parameters_text, resolution_text
from ..progress import Reporter, duration
from ..verdict import Verdict

__all__ = ["Terminal", "console", "verdict_table", "summary", "status_text", "exit_status", "STYLE"]

STYLE = {"pass": "[green]PASS[/green]", "fail": "[bold red]FAIL[/bold red]",
         "inconclusive": "[yellow]INCONCLUSIVE[/yellow]"}

PLAIN_EVERY = 10.0  # seconds between two plain progress lines


def console():
    """stdout console; wide enough for the whole table when writing to a file or pipe."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=160)


def status_text(v: Verdict, markup: bool = True) -> str:
    return STYLE[v.status] if markup else v.status.upper()


def exit_status(statuses: Sequence[str]) -> int:
    """0 all pass, 1 any fail, 3 none failed but some inconclusive."""
    if "fail" in statuses:
        return 1
    return 3 if "inconclusive" in statuses else 0


class Terminal(Reporter):
    """The CLI's reporter (see the module docstring); ``noun`` names the units of the run."""

    def __init__(self, noun: str = "claims", *, live: bool | None = None, unit: str = "replicates") -> None:
        self.noun = noun
        self.unit = unit  # what a task's progress counts
        self.live = sys.stderr.isatty() if live is None else live
        self.labels: list[str] = []
        self.fraction: dict[int, float] = {}
        self.finished = 0
        self.started = time.perf_counter()
        self.last_plain = self.started
        self.warned: set[int] = set()
        self.display: Any = None
        self.overall: Any = None
        self.rows: dict[int, Any] = {}

    # -- the events of a run --------------------------------------------------------------------
    def start(self, labels: Sequence[str]) -> None:
        self.labels = list(labels)
        if not self.live:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.display = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                                console=Console(stderr=True), transient=True)
        self.display.start()
        noun = self.noun[:-1] if len(labels) == 1 and self.noun.endswith("s") else self.noun
        self.overall = self.display.add_task(f"{len(labels)} {noun}", total=len(labels))

    def phase(self, i: int, text: str) -> None:
        if self.display is None:
            return
        if i not in self.rows:
            self.rows[i] = self.display.add_task(f"  {self.labels[i]}: {text}", total=None)
        else:
            self.display.update(self.rows[i], description=f"  {self.labels[i]}: {text}")

    def advance(self, i: int, done: int, total: int) -> None:
        self.fraction[i] = done / total if total else 0.0
        if self.display is not None:
            if i not in self.rows:
                self.rows[i] = self.display.add_task(f"  {self.labels[i]}", total=total)
            self.display.update(self.rows[i], completed=done, total=total)
            self.display.update(self.overall, completed=self.finished + sum(self.fraction.values()))
        elif len(self.labels) == 1 and time.perf_counter() - self.last_plain >= PLAIN_EVERY:
            self._plain_progress(done, total)

    def warn(self, i: int, text: str) -> None:
        if i in self.warned:
            return
        self.warned.add(i)
        self.print(f"workbench: warning: {text}")

    def finish(self, i: int, result: Any) -> None:
        self.finished += 1
        self.fraction.pop(i, None)
        if self.display is not None:
            if i in self.rows:
                self.display.remove_task(self.rows.pop(i))
            self.display.update(self.overall, completed=self.finished + sum(self.fraction.values()))
        elif isinstance(result, Verdict):
            print(f"[{self.finished}/{len(self.labels)}] {result.id}: {status_text(result, markup=False)} "
                  f"in {result.seconds:.2f} s", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.display is not None:
            self.display.stop()
            self.display = None

    # -- helpers --------------------------------------------------------------------------------
    def print(self, line: str) -> None:
        """A line on stderr, above the live display when there is one."""
        if self.display is not None:
            self.display.console.print(line, markup=False, highlight=False)
        else:
            print(line, file=sys.stderr, flush=True)

    def _plain_progress(self, done: int, total: int) -> None:
        now = time.perf_counter()
        self.last_plain = now
        elapsed = now - self.started
        eta = f", about {duration(elapsed * (total - done) / done)} left" if 0 < done < total else ""
        print(f"{self.labels[0]}: {done:,}/{total:,} {self.unit}{eta}", file=sys.stderr, flush=True)

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started


def verdict_table(verdicts: Sequence[Verdict], title: str):
    from rich.table import Table

    table = Table(title=title)
    for col in ("claim", "parameters", "expected", "estimate", "stderr", "resolution", "replicates", "seconds", "verdict"):
        # the claim id is never cut; a number wraps onto a second line rather than losing its exponent
        table.add_column(col, justify="right" if col not in ("claim", "parameters", "verdict") else "left",
                         no_wrap=col in ("claim", "verdict"), overflow="fold")
    for v in verdicts:
        table.add_row(v.id, parameters_text(v.parameters), number(v.expected), number(v.estimate),
                      number(v.stderr, 3) if v.kind != "exact" else "exact", resolution_text(v), str(v.replicates),
                      f"{v.seconds:.2f}", status_text(v))
    return table


def summary(verdicts: Sequence[Verdict], seconds: float, noun: str = "claims", notes_shown: bool = True) -> str:
    """``28 claims: 26 pass, 1 fail, 1 inconclusive in 9.4 s`` (and how many notes are folded away)."""
    counts = {s: sum(v.status == s for v in verdicts) for s in ("pass", "fail", "inconclusive")}
    notes = sum(len(v.notes) for v in verdicts)
    noun = noun[:-1] if len(verdicts) == 1 and noun.endswith("s") else noun
    said = f"{counts['pass']} pass, {counts['fail']} fail" + (
        f", {counts['inconclusive']} inconclusive" if counts["inconclusive"] else "")
    line = f"{len(verdicts)} {noun}: {said} in {seconds:.1f} s"
    if notes and not notes_shown:
        line += f"; {notes} notes (--notes shows them)"
    return line
