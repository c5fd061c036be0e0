"""Sweeps: one claim verified over a grid of parameters, cached and resumable.

``wb.sweep("init.he-forward", grid={"fan_in": [64, 128], "depth": range(2, 11, 4)})`` runs one
verification per grid point and returns a :class:`SweepResult` (``.table`` is a pandas
DataFrame, ``.passed`` the family-wise verdict).

- **Grid** (:mod:`workbench.grids`): every value is validated by its :class:`~workbench.Parameter`
  and every point against the claim's constraint, before any work.
- **Seeds** (:func:`~workbench.plan.point_seed`): point ``p`` runs with a seed hashed from the base
  seed, the claim id and ``p`` alone, so a result never depends on the scheduling, the number of
  workers or which other points are in the grid.
- **Execution** (:mod:`workbench.executors`): ``jobs`` local processes by default (one per core;
  works from a plain script); ``scheduler="serial"`` here; on Dask with a scheduler address, a
  ``client``, or ``scheduler="dask"`` for a LocalCluster (the ``distributed`` extra). The results
  are the same on every executor.
- **Store** (``store=DIR``, see :mod:`workbench.store`): finished points are written as they
  arrive and reused by the next sweep; only missing (or corrupted) points are computed, so an
  interrupted sweep resumes.
- **Multiple testing** (:mod:`workbench.multiple_testing`): each point runs at ``alpha`` and gets
  its own verdict; the family-wise verdict applies Holm's step-down (default) or Bonferroni.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import _version
from .claim_type import Claim
from .dask_cluster import TIMEOUT, check_address
from .errors import DomainError
from .execution import execute
from .executors import choose, dask_installed
from .multiple_testing import METHODS, family_wise, p_value
from .plan import Plan, plan_grid
from .progress import Reporter
from .settings import RunSettings
from .store import Store, canonical
from .verdict import Verdict

__all__ = ["sweep", "SweepResult", "plan_sweep", "run_sweep", "stored", "SweepPlan"]


# -- the result -------------------------------------------------------------------------------

@dataclass(frozen=True)
class SweepResult:
    """A finished sweep: one verdict per grid point (in grid order: the last axis fastest)."""

    claim: str
    grid: dict[str, tuple]
    verdicts: tuple[Verdict, ...]
    p_values: tuple[float, ...]
    rejected: tuple[bool, ...]
    method: str
    alpha: float
    seed: int
    resolution: float | None
    backend: str
    executor: str
    computed: int = 0
    reused: int = 0
    recomputed: int = 0  # corrupted store entries that were computed again
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def status(self) -> str:
        """The family-wise verdict: ``fail`` when a point is rejected at family-wise level ``alpha``,
        else ``inconclusive`` when a point is, else ``pass``."""
        if any(self.rejected):
            return "fail"
        return "inconclusive" if self.inconclusive else "pass"

    @property
    def passed(self) -> bool:
        """``status == "pass"``: no point rejected and none inconclusive."""
        return self.status == "pass"

    @property
    def inconclusive(self) -> int:
        """How many points are inconclusive (and not rejected by the family-wise test)."""
        return sum(v.status == "inconclusive" and not r for v, r in zip(self.verdicts, self.rejected, strict=True))

    @property
    def rows(self) -> list[dict[str, Any]]:
        """One dict per point: its grid values, then the verdict's numbers."""
        out = []
        for v, p, r in zip(self.verdicts, self.p_values, self.rejected, strict=True):
            out.append({
                **{name: v.parameters[name] for name in self.grid},
                "expected": v.expected, "estimate": v.estimate, "stderr": v.stderr,
                "z": v.z, "p_value": p, "resolution": v.resolution, "replicates": v.replicates,
                "status": v.status, "passed": v.passed, "family_passed": not r, "seed": v.seed, "seconds": v.seconds,
            })
        return out

    @property
    def table(self):
        """The rows as a pandas DataFrame (pandas comes with the ``distributed`` extra)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError('SweepResult.table needs pandas: pip install "workbench[distributed]" (or use .rows)') from None
        return pd.DataFrame(self.rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``workbench sweep --json``): the family verdict and every point's verdict."""
        return {
            "id": self.claim,
            "grid": {k: list(v) for k, v in self.grid.items()},
            "status": self.status,
            "passed": self.passed,
            "family": {"method": self.method, "alpha": self.alpha, "points": len(self.verdicts),
                       "rejected": sum(self.rejected), "inconclusive": self.inconclusive},
            "seed": self.seed, "resolution": self.resolution, "backend": self.backend, "executor": self.executor,
            "store": {"computed": self.computed, "reused": self.reused, "recomputed": self.recomputed},
            "points": [{**v.to_dict(), "p_value": p, "family_passed": not r}
                       for v, p, r in zip(self.verdicts, self.p_values, self.rejected, strict=True)],
        }

    def _repr_html_(self) -> str:
        said = {"pass": "passed", "fail": "FAILED", "inconclusive": "inconclusive"}[self.status]
        head = f"<p>{self.claim}: {said} ({self.method}, alpha {self.alpha:g})</p>"
        try:
            return head + self.table._repr_html_()
        except ImportError:
            return head



@dataclass(frozen=True)
class SweepPlan:
    """A validated sweep: the grid's plan, the family-wise method, the store and where to run."""

    plan: Plan
    grid: dict[str, tuple]
    method: str
    store: Store | None
    scheduler: str | None = None
    client: Any = None
    timeout: float | None = None


def plan_sweep(claim: Claim | str, grid: Mapping[str, Any] | Iterable[str], *, params: Mapping[str, Any] | None = None,
               settings: RunSettings | None = None, method: str = "holm", store: str | os.PathLike | None = None,
               scheduler: str | None = None, client: Any = None, timeout: float | None = None) -> SweepPlan:
    """Validate a sweep before any work: the grid, every point, the settings, the store and the scheduler."""
    settings = settings if settings is not None else RunSettings(jobs=None)
    plan = plan_grid(claim, grid, params, settings)
    if method not in METHODS:
        raise DomainError(f"method={method!r} is not one of {', '.join(METHODS)}")
    if scheduler is not None and not isinstance(scheduler, str):
        raise DomainError(f"scheduler={scheduler!r} must be an address such as 'tcp://host:8786', 'dask' or 'serial'")
    if client is not None and scheduler is not None:
        raise DomainError("give a Dask client or a scheduler address, not both")
    if settings.jobs is not None and scheduler not in (None, "serial", "dask") and settings.jobs != 1:
        raise DomainError("jobs sizes the local processes; an existing cluster at a scheduler address has its own")
    if scheduler not in (None, "serial") and not dask_installed():
        raise DomainError(f'scheduler={scheduler!r} needs Dask: pip install "workbench[distributed]"')
    if scheduler not in (None, "serial", "dask"):
        check_address(scheduler)  # nonsense://x or tcp://host without a port: refused now, not at connection time
    if timeout is not None:
        timeout = TIMEOUT.validate(timeout)
        if scheduler in (None, "serial", "dask"):
            raise DomainError("connect_timeout (--timeout) goes with a Dask scheduler address such as 'tcp://host:8786'")
    st = Store(store) if store is not None else None
    if st is not None:
        st.check(plan.tasks[0].claim.id)
    assert plan.axes is not None
    return SweepPlan(plan, plan.axes, method, st, scheduler, client, timeout)


def run_sweep(p: SweepPlan, reporter: Reporter | None = None) -> SweepResult:
    """Carry out a validated sweep: reuse what the store holds, compute the rest (each point stored
    as it arrives), then the family-wise test."""
    reporter = reporter if reporter is not None else Reporter()
    tasks = p.plan.tasks
    c = tasks[0].claim
    settings = p.plan.settings
    keys = _keys(p)
    results: list[Verdict | None] = [None] * len(tasks)
    reused = recomputed = 0
    if p.store is not None:
        for i, key in enumerate(keys):
            v, corrupt = p.store.load(key)
            if v is not None:
                results[i], reused = v, reused + 1
            elif corrupt:
                recomputed += 1
    todo = [i for i in range(len(tasks)) if results[i] is None]
    sub = Plan(tuple(tasks[i] for i in todo), settings)
    points = _Points(reporter, len(tasks), len(tasks) - len(todo))

    def keep(j: int, v: Verdict) -> None:
        i = todo[j]
        results[i] = v
        if p.store is not None:
            p.store.save(keys[i], v)

    executor = choose(1 if len(todo) <= 1 else settings.processes, scheduler=p.scheduler, client=p.client,
                      timeout=p.timeout)
    with executor:
        execute(sub, executor=executor, reporter=points, on_result=keep)
    verdicts = tuple(v for v in results if v is not None)
    ps = tuple(p_value(v) for v in verdicts)
    return SweepResult(
        claim=c.id, grid=p.grid, verdicts=verdicts, p_values=ps, rejected=tuple(family_wise(list(ps), settings.alpha, p.method)),
        method=p.method, alpha=settings.alpha, seed=settings.seed, resolution=settings.resolution, backend=settings.backend,
        executor=executor.name, computed=len(todo), reused=reused, recomputed=recomputed,
    )


def _keys(p: SweepPlan) -> list[dict[str, Any]]:
    """The store key of every point: everything its verdict depends on (see :mod:`workbench.store`)."""
    settings, c = p.plan.settings, p.plan.tasks[0].claim
    closed_form = str(c.closed_form)
    # a cap on the replicates can change a verdict (inconclusive at the cap); keyed only when set, so
    # the entries of uncapped sweeps keep their keys
    cap = {} if settings.max_replicates is None else {"max_replicates": settings.max_replicates}
    return [json.loads(canonical({
        "claim": c.id, "closed_form": closed_form, "parameters": t.params, "seed": settings.seed,
        "point_seed": t.settings.seed, "backend": settings.backend, "resolution": settings.resolution,
        "alpha": settings.alpha, "version": _version.__version__, **cap,
    })) for t in p.plan.tasks]


def stored(p: SweepPlan) -> int:
    """How many of the sweep's points its store holds now, whole and for this sweep's key (0 without
    a store): what a rerun will reuse. An interrupted sweep says it."""
    if p.store is None:
        return 0
    return sum(p.store.load(key)[0] is not None for key in _keys(p))


class _Points(Reporter):
    """A sweep's progress counted in points (reused ones done from the start)."""

    def __init__(self, reporter: Reporter, total: int, done: int) -> None:
        self.reporter, self.total, self.done = reporter, total, done

    def start(self, labels) -> None:
        self.reporter.start(["points"])
        self.reporter.advance(0, self.done, self.total)

    def warn(self, i: int, text: str) -> None:
        self.reporter.warn(0, text)

    def finish(self, i: int, result: Any) -> None:
        self.done += 1
        self.reporter.advance(0, self.done, self.total)


def sweep(
    claim: Claim | str,
    grid: Mapping[str, Any] | Iterable[str],
    *,
    params: Mapping[str, Any] | None = None,
    seed: int = 0,
    resolution: float | None = None,
    alpha: float = 1e-6,
    backend: str = "numpy",
    method: str = "holm",
    store: str | os.PathLike | None = None,
    jobs: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    connect_timeout: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Verify ``claim`` at every point of ``grid`` (the other parameters from ``params`` or
    their defaults); see the module docstring for seeds, execution, store and the family test.

    ``jobs``: local processes (default: every core); ``scheduler``: ``"serial"`` to run here, a Dask
    scheduler address (``"tcp://host:8786"``) or ``"dask"`` for a Dask LocalCluster of ``jobs``
    workers; ``client``: an existing ``distributed.Client``. ``connect_timeout``: seconds within
    which a scheduler address must accept the connection and answer (default 10; a malformed
    address or unknown scheme is refused at once). ``progress(done, total)`` is called in this
    process as points finish.

    >>> r = sweep("xent.margin", {"m": [-1.0, 0.0, 2.0]}, params={"K": 3}, scheduler="serial")
    >>> r.passed, [row["passed"] for row in r.rows]
    (True, [True, True, True])
    """
    settings = RunSettings(backend=backend, seed=seed, resolution=resolution, alpha=alpha, jobs=jobs)
    p = plan_sweep(claim, grid, params=params, settings=settings, method=method, store=store, scheduler=scheduler,
                   client=client, timeout=connect_timeout)
    return run_sweep(p, _Callback(progress) if progress is not None else None)


class _Callback(Reporter):
    def __init__(self, progress: Callable[[int, int], None]) -> None:
        self.progress = progress

    def advance(self, i: int, done: int, total: int) -> None:
        self.progress(done, total)
