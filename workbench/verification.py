"""Verification: the closed form at a point against a measured estimate.

Exact claims compare one deterministic result at the tolerance its kernel derives from the dtype.
Statistical claims run a pilot batch, choose the number of independent replicates that reaches
the requested resolution, spend it in chunks (merging the streaming estimates), and test with a
two-sided z-test plus the dtype's floor. Asymptotic claims run the statistical experiment along
their limit's sweep and test the extrapolated limit and any derived corrections (:mod:`workbench.limits`).

A verdict's status: ``fail`` when the closed form is rejected; otherwise ``inconclusive`` when the
run could not have rejected a wrong one (its resolution worse than the target after the budget cap;
a resolution not small against the quantity itself, :data:`~workbench.statistics.SCALE_LIMIT`; a
standard error that the heavy-tail diagnostic distrusts, :data:`~workbench.statistics.TAIL_LIMIT`;
or the kernel's own reason); ``pass`` otherwise. Deviations and z-scores are computed in mpmath,
so a closed form of 1e-300 or 1e300 is judged like one of 1.

:func:`run_task` verifies one planned :class:`~workbench.plan.Task`; every executor calls it, and
:func:`verify` is it for one claim. The :class:`~workbench.Verdict` is built in one place.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import mpmath

from numerics import backend as make_backend

from .claim_type import Claim
from .errors import DomainError
from .limits import measure_limit
from .measurement import Outcome, Unreachable, events, n, spend, standardised, tail_doubt
from .plan import Task, as_claim
from .progress import Reporter
from .reference import reference_value
from .settings import RunSettings
from .statistics import SCALE_LIMIT, detectable, z_critical
from .verdict import Verdict

__all__ = ["verify", "run_task"]


def verify(
    claim: Claim | str,
    *,
    backend: str = "numpy",
    seed: int = 0,
    resolution: float | None = None,
    alpha: float = 1e-6,
    max_replicates: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    **params: Any,
) -> Verdict:
    """Verify ``claim`` (a Claim or its id, e.g. ``"xent.margin"``) numerically at ``params``.

    ``params`` are the claim's parameters by name, defaults for the rest (``wb.claim(id).parameters``
    lists them with their domains; ``print(wb.claim(id))`` shows them). Run settings:

    - ``backend``: ``"numpy"``, ``"torch"``, ``"cupy"``, ``"array-api-strict"`` or ``"auto"``;
    - ``seed``: fixes every draw (the same seed gives the same verdict);
    - ``resolution``: the target resolution of a Monte Carlo claim (default: the claim's own);
    - ``alpha``: the level of the test; ``max_replicates``: a cap on Monte Carlo replicates;
    - ``progress(done, total)``: hears the replicates spent.

    Returns a :class:`~workbench.Verdict`: ``passed``, ``expected`` (the closed form), ``estimate``,
    ``stderr`` (or ``tolerance`` for an exact check), ``resolution``, ``replicates``, ``notes`` and
    more (``to_dict()`` has them all). Everything is validated before any work: a bad value raises
    ``ValueError`` and a value of the wrong type ``TypeError``, naming the parameter and its domain;
    an unusable backend raises :class:`~workbench.BackendUnavailable`.

    >>> v = verify("xent.margin", K=2, m=3.0)
    >>> v.passed, v.kind, v.expected
    (True, 'exact', 3.048587351573742)
    """
    settings = RunSettings(backend=backend, seed=seed, resolution=resolution, alpha=alpha,
                           max_replicates=max_replicates)
    c = as_claim(claim)
    task = Task(c, c.resolve(params), settings, settings.alpha)
    make_backend(settings.backend, settings.seed)  # an unusable backend fails before any work
    return run_task(task, _Progress(progress) if progress is not None else Reporter())


class _Progress(Reporter):
    def __init__(self, progress: Callable[[int, int], None]) -> None:
        self.progress = progress

    def advance(self, i: int, done: int, total: int) -> None:
        self.progress(done, total)


def run_task(task: Task, reporter: Reporter) -> Verdict:
    """Verify one planned task (its parameters and settings already validated); the seconds
    reported include the reference value's evaluation."""
    c, values, s = task.claim, task.params, task.settings
    start = time.perf_counter()
    b = make_backend(s.backend, s.seed)
    reporter.phase(0, "computing the closed form's reference value")
    expected_mp, how = reference_value(c.closed_form, c.symbolic(values))
    expected = float(expected_mp)
    relative = c.scale == "relative" and expected != 0
    scale = abs(expected) if relative else 1.0
    target = c.resolution if s.resolution is None else s.resolution
    cap = c.max_replicates if s.max_replicates is None else s.max_replicates
    by_estimate = c.scale == "relative" and expected == 0  # no scale but the estimate's own
    reporter.phase(0, "measuring")
    strict = s.max_replicates is None  # the claim's own cap: an unreachable target is refused, not run to the cap
    try:
        if c.kind == "exact":
            out = _exact(c, b, values, expected_mp, task.alpha)
        elif c.kind == "asymptotic":
            out = measure_limit(c, b, values, expected_mp, target * scale, task.alpha, cap, reporter, by_estimate,
                                strict)
        else:
            out = _statistical(c, b, values, expected_mp, target * scale, task.alpha, cap, reporter, by_estimate,
                               strict)
    except Unreachable as exc:
        best = _round_up(target / exc.goal * exc.best)  # target/goal: the scale between the two, finite
        raise DomainError(
            f"{c.id}: resolution={target:g} is out of reach: it needs "
            f"{f'about {exc.needed:.2g}' if math.isfinite(exc.needed) else 'more than 1e+300'} replicates and the "
            f"claim's cap is {exc.cap:,}, which reaches about {best:.2g}; ask for --resolution {best:.2g} or coarser "
            f"(resolution= in Python), or set --max-replicates (max_replicates=) to run to that cap, whose verdict is "
            "then inconclusive") from None
    notes = out.notes + (list(c.remarks(values)) if c.remarks else [])
    achieved = float(mpmath.mpf(out.resolution) / scale)
    doubts = list(out.doubts)
    reached = achieved / abs(out.estimate) if by_estimate and out.estimate != 0 else achieved
    if out.capped and reached > 1.05 * target:
        doubts.append(f"the resolution reached, ${n(reached, 2)}$, is worse than the target ${n(target, 2)}$ "
                      f"(budget cap of {cap:,} replicates per run)")
    # the quantity's own scale: the closed form, or for a relative claim whose closed form is 0, the estimate
    own = abs(expected) if expected != 0 else (abs(out.estimate) if c.scale == "relative" else 0.0)
    if own > 0 and out.resolution > SCALE_LIMIT * own:
        doubts.append(f"the resolution (${n(out.resolution, 2)}$ absolute) is not small against the quantity itself "
                      f"(${n(own, 3)}$): this run could not tell the closed form from zero or from twice itself")
    status = "fail" if out.rejected else ("inconclusive" if doubts else "pass")
    if status == "inconclusive":
        notes += [f"inconclusive: {why}" for why in doubts]
    return Verdict(
        id=c.id, kind=c.kind, parameters=values, expected=expected, estimate=out.estimate, stderr=out.stderr,
        z=standardised(out.deviation, out.unit), status=status, resolution=achieved,
        scale="relative" if relative else "absolute", tolerance=out.tolerance, alpha=task.alpha,
        replicates=out.replicates, backend=b.name, dtype=out.dtype, seed=s.seed, seconds=time.perf_counter() - start,
        target_resolution=None if c.kind == "exact" else target, reference=how, mutated=c.mutated, notes=tuple(notes),
        sweep=out.sweep, fit=out.fit, scaling=out.scaling,
    )


def _round_up(x: float) -> float:
    """``x`` rounded up to two significant digits (a resolution to ask for that the cap does reach)."""
    if not (x > 0 and math.isfinite(x)):
        return x
    unit = 10.0 ** (math.floor(math.log10(x)) - 1)
    return math.ceil(x / unit * (1 - 1e-12)) * unit


def _exact(c: Claim, b, values: dict, expected_mp, alpha: float) -> Outcome:
    est = c.experiment(b.xp, b.rng, None, **values)
    deviation = mpmath.mpf(est.mean) - expected_mp
    rejected = abs(deviation) > est.atol
    return Outcome(est.mean, est.stderr, deviation, est.atol, bool(rejected), float(est.atol + abs(deviation)),
                   est.atol, est.n, est.dtype, events(est.events, est.n, alpha),
                   [est.inconclusive] if est.inconclusive else [])


def _statistical(c: Claim, b, values: dict, expected_mp, target: float, alpha: float, cap: int,
                 reporter: Reporter, relative: bool, strict: bool = False) -> Outcome:
    level = alpha / 2 if c.scaling is not None else alpha  # half to the scaling law, if any
    est = spend(c, b, values, target, level, cap, reporter, [False], relative, strict)
    deviation = mpmath.mpf(est.mean) - expected_mp
    rejected = bool(abs(deviation) > z_critical(level) * mpmath.mpf(est.stderr) + est.atol)
    notes = events(est.events, est.n, alpha)
    doubts = [why for why in (est.inconclusive, tail_doubt(est, z_critical(level))) if why]
    scaling = None
    if c.scaling is not None:
        scaling = _scaling(c, b, values, alpha / 2)
        rejected = rejected or not scaling["passed"]
        notes.append(scaling["note"])
    return Outcome(est.mean, est.stderr, deviation, est.stderr, rejected,
                   float(detectable(mpmath.mpf(est.stderr), est.atol, level)), est.atol, est.n, est.dtype, notes, doubts,
                   est.n >= cap, scaling=scaling)


def _scaling(c: Claim, b, values: dict, alpha: float) -> dict:
    """The claim's scaling law: the fitted exponent against the derived one, a z-test at ``alpha``."""
    law = c.scaling
    assert law is not None
    est = law.measure(b.xp, b.rng, **values)
    expected = law.exponent
    deviation = est.mean - expected
    passed = abs(deviation) <= z_critical(alpha) * est.stderr + est.atol
    resolution = detectable(est.stderr, est.atol, alpha)
    note = (f"scaling law: {law.quantity} $\\propto$ {law.variable}$^s$, fitted ${n(est.mean, 4)} \\pm {n(est.stderr, 2)}$ "
            f"(derived ${n(expected, 6)}$; $z = {n(standardised(deviation, est.stderr), 3)}$; resolution "
            f"${n(resolution, 2)}$)")
    if not passed:
        note += ": the fitted exponent disagrees with the derived one, so the claim is not verified"
    return {"quantity": law.quantity, "variable": law.variable, "expected": expected, "estimate": est.mean,
            "stderr": est.stderr, "resolution": resolution, "replicates": est.n, "passed": bool(passed), "note": note}
