"""Verification: the closed form at a point against a measured estimate.

Exact claims compare one deterministic result at the tolerance its kernel derives from the dtype.
Statistical claims run a pilot batch, choose the number of independent replicates that reaches
the requested resolution, spend it in chunks (merging the streaming estimates), and test with a
two-sided z-test plus the dtype's floor. Asymptotic claims run the statistical experiment along
their limit's sweep and test the extrapolated limit (:mod:`workbench.asymptotics`).

:func:`run_task` verifies one planned :class:`~workbench.plan.Task`; every executor calls it, and
:func:`verify` is it for one claim. The :class:`~workbench.Verdict` is built in one place.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np

from numerics import Estimate
from numerics import backend as make_backend
from numerics.estimate import clopper_pearson_upper
from proofs import latex_number

from .asymptotics import extrapolation_weights, fit
from .claim_type import Claim
from .plan import Task, as_claim
from .progress import SLOW, Reporter, duration
from .reference import reference_value
from .settings import RunSettings
from .statistics import detectable, replicates_for, z_critical
from .verdict import Verdict

__all__ = ["verify", "run_task"]

_PROBE = 16  # the pilot's first sixteenth times the run (see _spend)
_CHUNK = 1 << 20  # most replicates per experiment call after the pilot (bounds memory, feeds progress)
_TINY = 1e-150  # a point measured without spread still gets a finite weight (1/_TINY**2 is finite)
_EPS64 = 2.0**-52
_MIN_CHUNK = 256  # fewest: topping up by one or two replicates is not worth a call


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


@dataclass
class _Outcome:
    """What a measurement found, before it becomes a Verdict."""

    estimate: float
    stderr: float
    deviation: float
    unit: float  # the deviation's standard unit: the stderr, or an exact check's tolerance
    passed: bool
    resolution: float  # absolute, divided by the scale when the Verdict is built
    tolerance: float
    replicates: int
    dtype: str
    notes: list[str]
    sweep: tuple[dict[str, Any], ...] = ()
    fit: dict[str, Any] | None = None
    scaling: dict[str, Any] | None = None


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
    reporter.phase(0, "measuring")
    if c.kind == "exact":
        out = _exact(c, b, values, expected_mp, task.alpha)
    elif c.kind == "asymptotic":
        out = _limit(c, b, values, expected_mp, target * scale, task.alpha, cap, reporter)
    else:
        out = _statistical(c, b, values, expected_mp, target * scale, task.alpha, cap, reporter)
    notes = out.notes + (list(c.remarks(values)) if c.remarks else [])
    achieved = out.resolution / scale
    if c.kind == "statistical" and achieved > 1.05 * target:
        notes.append(f"budget cap of {cap} replicates reached before the requested resolution")
    return Verdict(
        id=c.id, kind=c.kind, parameters=values, expected=expected, estimate=out.estimate, stderr=out.stderr,
        z=_standardised(out.deviation, out.unit), passed=bool(out.passed), resolution=achieved,
        scale="relative" if relative else "absolute", tolerance=out.tolerance, alpha=task.alpha,
        replicates=out.replicates, backend=b.name, dtype=out.dtype, seed=s.seed, seconds=time.perf_counter() - start,
        target_resolution=None if c.kind == "exact" else target, reference=how, mutated=c.mutated, notes=tuple(notes), sweep=out.sweep,
        fit=out.fit, scaling=out.scaling,
    )


def _exact(c: Claim, b, values: dict, expected_mp, alpha: float) -> _Outcome:
    est = c.experiment(b.xp, b.rng, None, **values)
    deviation = float(mpmath.mpf(est.mean) - expected_mp)
    return _Outcome(est.mean, est.stderr, deviation, est.atol, abs(deviation) <= est.atol, est.atol + abs(deviation),
                    est.atol, est.n, est.dtype, _events(est.events, est.n, alpha))


def _statistical(c: Claim, b, values: dict, expected_mp, target: float, alpha: float, cap: int,
                 reporter: Reporter) -> _Outcome:
    level = alpha / 2 if c.scaling is not None else alpha  # half to the scaling law, if any
    est = _spend(c, b, values, target, level, cap, reporter, [False])
    deviation = float(mpmath.mpf(est.mean) - expected_mp)
    passed = abs(deviation) <= z_critical(level) * est.stderr + est.atol
    notes = _events(est.events, est.n, alpha)
    scaling = None
    if c.scaling is not None:
        scaling = _scaling(c, b, values, alpha / 2)
        passed = passed and scaling["passed"]
        notes.append(scaling["note"])
    return _Outcome(est.mean, est.stderr, deviation, est.stderr, passed, detectable(est.stderr, est.atol, level),
                    est.atol, est.n, est.dtype, notes, scaling=scaling)


def _scaling(c: Claim, b, values: dict, alpha: float) -> dict:
    """The claim's scaling law: the fitted exponent against the derived one, a z-test at ``alpha``."""
    law = c.scaling
    assert law is not None
    est = law.measure(b.xp, b.rng, **values)
    expected = law.exponent
    deviation = est.mean - expected
    passed = abs(deviation) <= z_critical(alpha) * est.stderr + est.atol
    resolution = detectable(est.stderr, est.atol, alpha)
    note = (f"scaling law: {law.quantity} $\\propto$ {law.variable}$^s$, fitted ${_n(est.mean, 4)} \\pm {_n(est.stderr, 2)}$ "
            f"(derived ${_n(expected, 6)}$; $z = {_n(_standardised(deviation, est.stderr), 3)}$; resolution "
            f"${_n(resolution, 2)}$)")
    if not passed:
        note += ": the fitted exponent disagrees with the derived one, so the claim is not verified"
    return {"quantity": law.quantity, "variable": law.variable, "expected": expected, "estimate": est.mean,
            "stderr": est.stderr, "resolution": resolution, "replicates": est.n, "passed": bool(passed), "note": note}


def _limit(c: Claim, b, values: dict, expected_mp, target: float, alpha: float, cap: int,
           reporter: Reporter) -> _Outcome:
    """The experiment at every sweep value, then the fitted limit against the closed form. Half of
    ``alpha`` goes to the z-test of the limit, half to the fit's chi-square."""
    lim = c.limit
    assert lim is not None
    half = alpha / 2
    # each point's target so that the extrapolated limit reaches the requested resolution
    amplification = float(np.linalg.norm(extrapolation_weights(lim, lim.sweep)))
    points: list[Estimate] = []
    events: dict[str, int] = {}
    warned = [False]
    for i, x in enumerate(lim.sweep):
        part = _Part(reporter, i, len(lim.sweep))
        est = _spend(c, b, {**values, lim.name: x}, target / amplification, half, cap, part, warned)
        points.append(est)
        for name, k in est.events:
            events[name] = events.get(name, 0) + k
    total = sum(e.n for e in points)
    f = fit(lim, lim.sweep, [e.mean for e in points], [max(e.stderr, _EPS64 * abs(e.mean), _TINY) for e in points],
            [e.atol for e in points])
    deviation = float(mpmath.mpf(f.limit) - expected_mp)
    fit_ok = f.p_value >= half
    passed = abs(deviation) <= z_critical(half) * f.stderr + f.floor and fit_ok
    corrections = ", ".join(
        f"$({_n(bk, 4)} \\pm {_n(sk, 2)})\\,{lim.correction_latex(k + 1, f.order)}$"
        for k, (bk, sk) in enumerate(zip(f.corrections, f.correction_stderrs, strict=True))
    )
    order = f" (fitted order ${_n(f.order, 3)} \\pm {_n(f.order_stderr, 2)}$)" if f.order_stderr is not None else ""
    arrow = r"\infty" if lim.towards == "infinity" else "0"
    notes = [
        f"limit ${lim.tex} \\to {arrow}$ extrapolated from ${lim.tex} = {', '.join(_n(x, 6) for x in lim.sweep)}$; "
        f"fitted corrections {corrections}{order}",
        f"fit $\\chi^2 = {_n(f.chi2, 3)}$ on {f.dof} degrees of freedom ($p = {_n(f.p_value, 2)}$)"
        + ("" if fit_ok else f": the assumed expansion does not fit the sweep ($p < {_n(half, 3)}$), so the limit is "
                             "not verified"),
    ]
    notes += [_event_note(name, k, total, alpha) for name, k in sorted(events.items())]
    sweep = tuple(
        {"x": x, "estimate": e.mean, "stderr": e.stderr, "replicates": e.n, "tolerance": e.atol}
        for x, e in zip(lim.sweep, points, strict=True)
    )
    return _Outcome(f.limit, f.stderr, deviation, f.stderr, passed, detectable(f.stderr, f.floor, half), f.floor, total,
                    points[0].dtype, notes, sweep=sweep, fit=f.to_dict())


class _Part(Reporter):
    """Point ``k`` of ``m`` of an asymptotic claim's sweep, reported as a fraction of the whole task."""

    def __init__(self, reporter: Reporter, k: int, m: int) -> None:
        self.reporter, self.k, self.m = reporter, k, m

    def advance(self, i: int, done: int, total: int) -> None:
        self.reporter.advance(0, self.k * total + done, self.m * total)

    def warn(self, i: int, text: str) -> None:
        self.reporter.warn(0, text)


def _events(events, n: int, alpha: float) -> list[str]:
    return [_event_note(name, k, n, alpha) for name, k in events]


def _event_note(name: str, k: int, n: int, alpha: float) -> str:
    """``name: k of n replicates``, with the one-sided upper confidence bound (level 1 - alpha) on the
    event's rate when it was counted over many replicates."""
    if n <= 1:
        return f"{name}: {k}"
    return (f"{name}: {k} of {n} replicates (rate $\\le {_n(clopper_pearson_upper(k, n, 1 - alpha), 2)}$ at confidence "
            f"$1 - {_n(alpha, 3)}$)")


def _n(x: float | int, digits: int) -> str:
    """A number in a note's math: ``digits`` significant, powers of ten as LaTeX."""
    return latex_number(float(x) if not isinstance(x, int) else x, digits)


def _standardised(deviation: float, unit: float) -> float:
    """``deviation / unit``; a zero unit gives 0 for no deviation and a signed infinity otherwise."""
    if unit > 0:
        return deviation / unit
    return 0.0 if deviation == 0 else math.copysign(math.inf, deviation)


def _spend(c: Claim, b, values: dict, target: float, alpha: float, cap: int, reporter: Reporter,
           warned: list[bool]) -> Estimate:
    """Pilot, then enough replicates for ``target`` (re-planned once the variance is better known,
    at most ``cap``); a remainder predicted to take over a minute is announced first.

    The pilot starts with a probe of a sixteenth of it, so that a slow run is announced after a
    sixteenth of the pilot's time; the draws are the same whatever the timing (probe, then the rest)."""
    pilot = min(c.pilot, cap)
    probe = pilot // _PROBE if pilot >= _PROBE * 64 else pilot
    began = time.perf_counter()
    est = c.experiment(b.xp, b.rng, probe, **values)
    per_replicate = (time.perf_counter() - began) / max(est.n, 1)

    def announce(need: int) -> None:
        predicted = per_replicate * (need - est.n)
        if predicted > SLOW and not warned[0]:
            warned[0] = True
            reporter.warn(0, f"{c.id}: about {duration(predicted)} more for {need - est.n:,} replicates "
                             f"({per_replicate * 1e3:.3g} ms each); a coarser --resolution is faster")

    if est.n < pilot:
        announce(min(max(replicates_for(est.sd, target, alpha), pilot), cap))
        reporter.advance(0, est.n, pilot)
        est = est.merge(c.experiment(b.xp, b.rng, pilot - est.n, **values))
        per_replicate = (time.perf_counter() - began) / max(est.n, 1)
    for _ in range(3):
        need = min(max(replicates_for(est.sd, target, alpha), est.n), cap)
        if need <= est.n:
            break
        announce(need)
        while est.n < need:
            reporter.advance(0, est.n, need)
            chunk = min(_CHUNK, max(need - est.n, _MIN_CHUNK))
            est = est.merge(c.experiment(b.xp, b.rng, chunk, **values))
    reporter.advance(0, est.n, est.n)
    return est
