"""How a run is carried out: backend, seed, resolution, level, processes and caps, validated once.

:class:`RunSettings` is the one place these are checked. ``wb.verify``, ``wb.verify_many``,
``wb.sweep``, ``wb.latex`` and every command of the CLI build one (the CLI parses its options
with the same :class:`~workbench.Parameter` objects, so a value is refused with the same words
everywhere).

>>> RunSettings(seed=3, alpha=0.01)
RunSettings(backend='numpy', seed=3, resolution=None, alpha=0.01, jobs=1, max_replicates=None)
>>> RunSettings(seed=-1)
Traceback (most recent call last):
    ...
workbench.errors.DomainError: seed=-1 is outside the domain: integer >= 0
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Any

from numerics import BACKENDS

from .parameters import Parameter, choice, integer, real

__all__ = ["SETTINGS", "RunSettings", "available_cores"]

SETTINGS: dict[str, Parameter] = {
    p.name: p
    for p in (
        choice("backend", tuple(BACKENDS), "numpy", "array library the kernels run on"),
        integer("seed", 0, "seed of every random draw", low=0),
        real("resolution", 0.01, "target resolution of Monte Carlo claims (default: each claim's own)", low=0.0,
             high=1.0, open_low=True),
        real("alpha", 1e-6, "level of the run's tests (Bonferroni-corrected over its claims)", low=0.0, high=1.0,
             open_low=True, open_high=True),
        integer("jobs", 1, "processes that verify claims side by side (default: every core)", low=1),
        integer("max_replicates", 50_000_000, "most Monte Carlo replicates per claim (default: each claim's own cap)",
                low=1),
    )
}
"""The run settings as parameters: their domains, documentation and CLI parsing."""

OPTIONAL = ("resolution", "jobs", "max_replicates")  # None: each claim's own / every core / each claim's own


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class RunSettings:
    """Validated settings of one run (see :data:`SETTINGS` for the domains).

    ``resolution=None`` asks each claim for its own default target; ``jobs=None`` means every
    available core; ``max_replicates=None`` keeps each claim's own cap on Monte Carlo replicates.
    """

    backend: str = "numpy"
    seed: int = 0
    resolution: float | None = None
    alpha: float = 1e-6
    jobs: int | None = 1
    max_replicates: int | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and f.name in OPTIONAL:
                continue
            object.__setattr__(self, f.name, SETTINGS[f.name].validate(value))

    @property
    def processes(self) -> int:
        """The number of processes ``jobs`` asks for."""
        return available_cores() if self.jobs is None else self.jobs

    def replace(self, **changes: Any) -> RunSettings:
        """A copy with ``changes`` (validated again)."""
        return RunSettings(**{**{f.name: getattr(self, f.name) for f in fields(self)}, **changes})
