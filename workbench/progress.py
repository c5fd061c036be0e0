"""What a run tells whoever watches it: phases, replicate fractions, predictions, finished tasks.

The verifier and the executors call a :class:`Reporter`; the base class ignores everything
(a quiet run). The terminal's reporter lives with the command line; :class:`Callback` adapts
the ``progress=`` functions of the Python API.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["SLOW", "Callback", "Reporter", "duration"]

SLOW = 60.0  # seconds: a task predicted to take longer is announced with its prediction


def duration(seconds: float) -> str:
    """``42 s``, ``3.5 min``, ``2.1 h`` or ``4.0 days``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


class Reporter:
    """Receives the events of a run of tasks ``0 .. n - 1`` (each method may be called from the
    process that runs the task, or relayed to the one that started the run)."""

    def start(self, labels: Sequence[str]) -> None:
        """A run of ``len(labels)`` tasks begins (``labels[i]`` names task ``i``)."""

    def phase(self, i: int, text: str) -> None:
        """Task ``i`` entered a phase without a measurable fraction (``computing the reference``)."""

    def advance(self, i: int, done: int, total: int) -> None:
        """Task ``i`` has ``done`` of ``total`` units (replicates, or sweep points)."""

    def warn(self, i: int, text: str) -> None:
        """Something the user should hear before waiting (a prediction of a long run)."""

    def finish(self, i: int, result: Any) -> None:
        """Task ``i`` finished with ``result`` (a :class:`~workbench.Verdict`)."""

    def close(self) -> None:
        """The run ended (normally or not)."""


class Callback(Reporter):
    """``progress(i, done, total)`` on every advance, and ``progress(i, 1, 1)`` when task ``i`` finishes."""

    def __init__(self, progress: Callable[[int, int, int], None]) -> None:
        self.progress = progress

    def advance(self, i: int, done: int, total: int) -> None:
        self.progress(i, done, total)

    def finish(self, i: int, result: Any) -> None:
        self.progress(i, 1, 1)
