"""Carrying out a plan: :func:`execute` runs every task of a :class:`~workbench.plan.Plan` on an
executor and returns the verdicts in the plan's order; :func:`verify_many` is the Python face of
``workbench verify``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .claim_type import Claim
from .executors import Executor, choose
from .plan import Plan, plan_claims
from .progress import Reporter
from .settings import RunSettings
from .verdict import Verdict
from .verification import run_task

__all__ = ["execute", "verify_many"]


def execute(plan: Plan, *, executor: Executor | None = None, reporter: Reporter | None = None,
            on_result: Callable[[int, Verdict], None] | None = None) -> list[Verdict]:
    """Every task of ``plan`` on ``executor`` (default: ``plan.settings.jobs`` local processes, or
    this process for one), the verdicts in the plan's order. ``reporter`` hears the run's events;
    ``on_result(i, verdict)`` is called in this process as each task finishes (a sweep stores it)."""
    reporter = reporter if reporter is not None else Reporter()
    own = executor is None
    executor = choose(plan.settings.processes) if executor is None else executor
    results: list[Verdict | None] = [None] * len(plan.tasks)
    reporter.start([t.label for t in plan.tasks])
    try:
        for i, verdict in executor.run(run_task, plan.tasks, reporter):
            results[i] = verdict
            reporter.finish(i, verdict)
            if on_result is not None:
                on_result(i, verdict)
    finally:
        if own:
            executor.close()
    return [v for v in results if v is not None]


def verify_many(
    claims: Sequence[Claim | str] | None = None,
    *,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    backend: str = "numpy",
    seed: int = 0,
    resolution: float | None = None,
    alpha: float = 1e-6,
    max_replicates: int | None = None,
    jobs: int | None = 1,
    progress: Callable[[Claim, int, int], None] | None = None,
) -> list[Verdict]:
    """Verify several claims (ids, areas or Claim objects; all registered ones by default) as one
    run, ``alpha`` Bonferroni-corrected over them; ``params`` maps claim ids to parameters; ``jobs``
    processes verify claims side by side (``None``: every core; the verdicts are the same).
    ``progress(claim, done, total)`` hears each claim's replicates.

    Every claim and parameter is validated before the first one runs.
    """
    settings = RunSettings(backend=backend, seed=seed, resolution=resolution, alpha=alpha,
                           max_replicates=max_replicates, jobs=jobs)
    plan = plan_claims(claims, params, settings)
    reporter = _ClaimProgress(plan, progress) if progress is not None else None
    return execute(plan, reporter=reporter)


class _ClaimProgress(Reporter):
    def __init__(self, plan: Plan, progress: Callable[[Claim, int, int], None]) -> None:
        self.claims = [t.claim for t in plan.tasks]
        self.progress = progress

    def advance(self, i: int, done: int, total: int) -> None:
        self.progress(self.claims[i], done, total)

    def finish(self, i: int, result: Any) -> None:
        self.progress(self.claims[i], 1, 1)
