"""A run, planned and validated before any work: claims x parameter points x settings.

:func:`plan_claims` (``verify``, ``latex``) and :func:`plan_grid` (``sweep``) check every claim,
every parameter value and every constraint, and the backend, and return a :class:`Plan` of
independent :class:`Task` objects. An executor (:mod:`workbench.executors`) carries a plan out;
a task's verdict depends on the task alone, never on the executor or the order.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from numerics import backend as make_backend

from .claim_type import Claim
from .errors import DomainError, InputError, InputTypeError
from .grids import parse_grid
from .registry import claim as lookup
from .registry import claims as claims_of
from .registry import select
from .settings import RunSettings
from .store import canonical

__all__ = ["Plan", "Task", "as_claim", "plan_claims", "plan_grid", "point_seed", "unused_settings"]


@dataclass(frozen=True)
class Task:
    """One verification: a claim at resolved parameters, with the run's settings, its own seed
    and its own level ``alpha`` (Bonferroni share, or a sweep point's level)."""

    claim: Claim
    params: dict[str, Any]
    settings: RunSettings
    alpha: float

    @property
    def label(self) -> str:
        return self.claim.id


@dataclass(frozen=True)
class Plan:
    """Validated tasks and the settings they share; ``notes`` are things the user should know
    before the run (a ``--set`` that some claims do not have)."""

    tasks: tuple[Task, ...]
    settings: RunSettings
    notes: tuple[str, ...] = ()
    axes: dict[str, tuple] | None = None  # a grid's plan: its validated axes (the last varies fastest)

    def __len__(self) -> int:
        return len(self.tasks)


def as_claim(c: Claim | str) -> Claim:
    """A Claim, or the registered claim with this id."""
    if isinstance(c, Claim):
        return c
    if isinstance(c, str):
        area = [k.id for k in claims_of(c)] if "." not in c else []
        if area:
            raise DomainError(f"{c!r} is an area; give one claim id: {', '.join(area)}")
        return lookup(c)
    raise InputTypeError(f"a claim is a Claim or a claim id such as 'xent.margin', not {type(c).__name__}")


def _settings(settings: RunSettings | None) -> RunSettings:
    if settings is None:
        return RunSettings()
    if not isinstance(settings, RunSettings):
        raise InputTypeError(f"settings must be a RunSettings, not {type(settings).__name__}")
    return settings


def plan_claims(claims: Sequence[Claim | str] | None = None, params: Mapping[str, Mapping[str, Any]] | None = None,
                settings: RunSettings | None = None) -> Plan:
    """Every claim of ``claims`` (ids, areas or Claim objects; all registered claims when empty) at
    ``params[claim id]`` (defaults for the rest). The level is Bonferroni-corrected over the claims."""
    settings = _settings(settings)
    if isinstance(claims, (str, Claim)):
        claims = [claims]
    chosen: list[Claim] = []
    for c in claims or []:
        for one in ([c] if isinstance(c, Claim) else select([c]) if isinstance(c, str) else [as_claim(c)]):
            if all(one.id != k.id for k in chosen):
                chosen.append(one)
    chosen = chosen or select(None)
    params = dict(params or {})
    for cid, values in params.items():
        if all(c.id != cid for c in chosen):
            raise DomainError(f"parameters were given for {cid!r}, which is not among the claims of this run "
                              f"(params maps claim ids to their parameters, e.g. {{'xent.margin': {{'K': 3}}}})")
        if not isinstance(values, Mapping):
            raise InputTypeError(f"params[{cid!r}] must map parameter names to values, not {type(values).__name__}")
    each = settings.alpha / len(chosen)
    tasks = []
    for c in chosen:
        try:
            tasks.append(Task(c, c.resolve(params.get(c.id, {})), settings, each))
        except InputError as exc:
            if len(chosen) == 1:
                raise
            raise type(exc)(f"{c.id}: {exc}") from None  # several claims of the run may share a parameter name
    make_backend(settings.backend, settings.seed)  # an unusable backend fails now, before any work
    return Plan(tuple(tasks), settings)


def point_seed(seed: int, claim_id: str, point: Mapping[str, Any]) -> int:
    """The seed of one grid point: a 63-bit integer from SHA-256 of the canonical JSON of
    ``[seed, claim_id, sorted(point.items())]`` (so independent of the scheduling).

    >>> point_seed(0, "init.he-forward", {"depth": 2, "fan_in": 64}) == point_seed(0, "init.he-forward", {"fan_in": 64, "depth": 2})
    True
    """
    text = canonical([seed, claim_id, sorted(point.items())])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


def plan_grid(claim: Claim | str, grid: Mapping[str, Any] | Iterable[str], fixed: Mapping[str, Any] | None = None,
              settings: RunSettings | None = None) -> Plan:
    """``claim`` at every point of ``grid`` (see :func:`~workbench.grids.parse_grid`; the last axis
    varies fastest), other parameters from ``fixed`` or their defaults. Each point runs at the
    run's level with its own seed (:func:`point_seed`)."""
    settings = _settings(settings)
    c = as_claim(claim)
    axes = parse_grid(c, grid)
    fixed = dict(fixed or {})
    for name in fixed:
        c.parameter(name)
        if name in axes:
            raise DomainError(f"{name} is both swept (a grid axis) and fixed (a set parameter)")
    tasks = []
    for combo in itertools.product(*axes.values()):
        values = c.resolve({**fixed, **dict(zip(axes, combo, strict=True))})  # every point checked before any work
        tasks.append(Task(c, values, settings.replace(seed=point_seed(settings.seed, c.id, values)), settings.alpha))
    make_backend(settings.backend, settings.seed)
    return Plan(tuple(tasks), settings, axes=axes)


def unused_settings(claims: Sequence[Claim], names: Iterable[str]) -> list[str]:
    """One line per parameter name that some of ``claims`` do not have (so a ``--set`` that leaves
    a claim at its own value is said, not silent)."""
    lines = []
    for name in dict.fromkeys(names):
        missing = [c.id for c in claims if all(p.name != name for p in c.parameters)]
        if missing and len(missing) < len(claims):
            having = [c.id for c in claims if c.id not in missing]
            rest = "has no parameter {0} and keeps its own value" if len(missing) == 1 else \
                "have no parameter {0} and keep their own values"
            lines.append(f"{name} is set for {', '.join(having)}; {', '.join(missing)} {rest.format(name)}")
    return lines
