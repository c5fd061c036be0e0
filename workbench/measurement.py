"""Measuring a claim: spending a Monte Carlo budget, and what a measurement found before it is judged.

:func:`spend` runs a pilot, plans the replicates that reach a target resolution and settle the
variance (:func:`~workbench.statistics.replicates_for_tail`), and spends them in chunks, merging the
streaming estimates. :class:`Outcome` is what :mod:`workbench.verification` turns into a Verdict:
whether the closed form was rejected, and every reason the run could not have rejected it
(``doubts``), which make an unrejected verdict inconclusive.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import mpmath

from numerics import Estimate
from numerics.estimate import clopper_pearson_upper
from proofs import latex_number

from .claim_type import Claim
from .progress import SLOW, Reporter, duration
from .statistics import TAIL_LIMIT, detectable, replicates_for, replicates_for_tail, variance_uncertainty

__all__ = ["REACH", "Outcome", "Part", "Unreachable", "reachable", "spend", "tail_doubt", "event_note", "events", "n", "standardised"]

_PROBE = 16  # the pilot's first sixteenth times the run (see spend)
_CHUNK = 1 << 20  # most replicates per experiment call after the pilot (bounds memory, feeds progress)
_MIN_CHUNK = 256  # fewest: topping up by one or two replicates is not worth a call


@dataclass
class Outcome:
    """What a measurement found, before it becomes a Verdict."""

    estimate: float
    stderr: float
    deviation: Any  # estimate - expected, an mpmath number (no underflow, no overflow)
    unit: float  # the deviation's standard unit: the stderr, or an exact check's tolerance
    rejected: bool
    resolution: float  # absolute, divided by the scale when the Verdict is built
    tolerance: float
    replicates: int
    dtype: str
    notes: list[str]
    doubts: list[str] = field(default_factory=list)  # why an unrejected closed form is not verified
    capped: bool = False  # the budget cap stopped the spending (of some sweep point)
    sweep: tuple[dict[str, Any], ...] = ()
    fit: dict[str, Any] | None = None
    scaling: dict[str, Any] | None = None


def standardised(deviation: Any, unit: float) -> float:
    """``deviation / unit`` (in mpmath, so tiny or huge scales neither underflow nor overflow); a zero
    unit gives 0 for no deviation and a signed infinity otherwise."""
    d = mpmath.mpf(deviation)
    if unit > 0:
        return float(d / mpmath.mpf(unit))
    return 0.0 if d == 0 else math.copysign(math.inf, float(mpmath.sign(d)))


def tail_doubt(est: Estimate, z: float, where: str = "") -> str | None:
    """Why the estimate's standard error cannot be trusted (a heavy tail), or None. A standard error
    that is immaterial to the test (``z`` times it under a tenth of the floating-point floor, which
    then decides) is not judged."""
    r = variance_uncertainty(est.kurtosis, est.n)
    if r is None or r <= TAIL_LIMIT or z * est.stderr <= 0.1 * est.atol:
        return None
    assert est.kurtosis is not None
    return (f"heavy tail{where}: the replicates' sample kurtosis ${n(est.kurtosis, 3)}$ over $n = {n(est.n, 0)}$ "
            f"leaves the sample variance uncertain by ${n(100 * r, 2)}\\%$ (more than ${n(100 * TAIL_LIMIT, 2)}\\%$), "
            "so the standard error cannot be trusted")


def events(counts, total: int, alpha: float) -> list[str]:
    return [event_note(name, k, total, alpha) for name, k in counts]


def event_note(name: str, k: int, total: int, alpha: float) -> str:
    """``name: k of n replicates``, with the one-sided upper confidence bound (level 1 - alpha) on the
    event's rate when it was counted over many replicates."""
    if total <= 1:
        return f"{name}: {k}"
    return (f"{name}: {k} of {total} replicates (rate $\\le {n(clopper_pearson_upper(k, total, 1 - alpha), 2)}$ at "
            f"confidence $1 - {n(alpha, 3)}$)")


def n(x: float | int, digits: int) -> str:
    """A number in a note's math: ``digits`` significant, powers of ten as LaTeX."""
    return latex_number(float(x) if not isinstance(x, int) else x, digits)


class Part(Reporter):
    """Point ``k`` of ``m`` of an asymptotic claim's sweep, reported as a fraction of the whole task."""

    def __init__(self, reporter: Reporter, k: int, m: int) -> None:
        self.reporter, self.k, self.m = reporter, k, m

    def advance(self, i: int, done: int, total: int) -> None:
        self.reporter.advance(0, self.k * total + done, self.m * total)

    def warn(self, i: int, text: str) -> None:
        self.reporter.warn(0, text)


class Unreachable(Exception):
    """The target resolution needs more replicates than the claim's own cap allows (raised after the
    pilot, before the spending; the verifier words it as a one-line input error). ``best`` is the
    resolution the cap reaches and ``goal`` the one asked for, on the same (absolute) scale."""

    def __init__(self, needed: float, cap: int, best: float, goal: float) -> None:
        super().__init__(f"needs about {needed:.2g} replicates, more than the cap of {cap:,}")
        self.needed, self.cap, self.best, self.goal = needed, cap, best, goal


REACH = 1.25  # a need this many times the cap is refused: the pilot's variance is itself uncertain


def reachable(est: Estimate, target: float, alpha: float, cap: int, relative: bool, margin: float = REACH) -> None:
    """Raise :class:`Unreachable` when the resolution ``target`` needs more than ``margin`` times ``cap``
    replicates by the spread ``est`` shows."""
    goal = target * abs(est.mean) if relative and est.mean != 0 else target
    if est.sd == 0 or not math.isfinite(est.sd) or not goal > 0:
        return  # nothing to plan from: the spending and the verdict's doubts deal with it
    best = detectable(est.sd / math.sqrt(cap), est.atol, alpha)  # the resolution the cap reaches
    ratio = detectable(est.sd, 0.0, alpha) / goal  # inf for a goal of 1e-320: never squared into an OverflowError
    need = ratio * ratio if ratio < 1e150 else math.inf
    if need > margin * cap:
        raise Unreachable(need, cap, best, goal)


def spend(c: Claim, b, values: dict, target: float, alpha: float, cap: int, reporter: Reporter,
          warned: list[bool], relative: bool = False, strict: bool = False) -> Estimate:
    """Pilot, then enough replicates for ``target`` and for a settled variance (re-planned as the
    variance and kurtosis are better known, at most ``cap``); a remainder predicted to take over a
    minute is announced first. ``relative``: the target is relative to the estimate itself (a
    relative claim whose closed form is 0 has no other scale). ``strict`` (the cap is the claim's
    own, not one the caller chose): a target the pilot shows to need more than :data:`REACH` times
    the cap raises :class:`Unreachable` before the spending, instead of running to the cap.

    The pilot starts with a probe of a sixteenth of it, so that a run of slow replicates is announced
    after a sixteenth of the pilot's time; a run of fast ones is timed on the rest of the pilot, whose
    call's fixed cost is spread over fifteen times as many replicates (timing the probe alone
    overstated a 2 microsecond replicate twelvefold). The draws are the same whatever the timing."""
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

    def wanted(e: Estimate) -> int:
        goal = target * abs(e.mean) if relative and e.mean != 0 else target
        return min(max(replicates_for(e.sd, goal, alpha), replicates_for_tail(e.kurtosis), e.n), cap)

    if est.n < pilot:
        if strict:  # the probe's spread is rougher than the pilot's: refuse only a clear case
            reachable(est, target, alpha, cap, relative, 4 * REACH)
        if per_replicate * (pilot - est.n) > SLOW:  # slow replicates: the probe's timing is the run's
            announce(min(max(wanted(est), pilot), cap))
        reporter.advance(0, est.n, pilot)
        rest, began = pilot - est.n, time.perf_counter()
        est = est.merge(c.experiment(b.xp, b.rng, rest, **values))
        per_replicate = (time.perf_counter() - began) / rest  # the larger call: less of a call's fixed cost
    if strict:
        reachable(est, target, alpha, cap, relative)
    for _ in range(3):
        need = wanted(est)
        if need <= est.n:
            break
        announce(need)
        while est.n < need:
            reporter.advance(0, est.n, need)
            chunk = min(_CHUNK, max(need - est.n, _MIN_CHUNK))
            est = est.merge(c.experiment(b.xp, b.rng, chunk, **values))
    reporter.advance(0, est.n, est.n)
    return est
