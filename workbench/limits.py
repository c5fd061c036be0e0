"""The measurement of an asymptotic claim: its sweep, the fitted limit, and its derived corrections.

The experiment runs at every value of the limit's sweep; the expansion of
:mod:`workbench.asymptotics` is fitted to the points and its limit is tested against the closed
form. The level ``alpha`` is shared equally by the limit's z-test, the fit's chi-square, and the
z-test of every correction coefficient the claim derives (:class:`~workbench.claim_type.Correction`):
a derived coefficient is part of the verdict (a rejected one fails the claim), reported under
``fit.derived`` with its own status; one the run cannot resolve (resolution above half its size) is
``inconclusive`` there and said in the notes, while the verdict judges the limit.
"""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np

from numerics import Estimate

from .asymptotics import Fit, extrapolation_weights, fit
from .claim_type import Claim
from .measurement import Outcome, Part, event_note, n, spend, standardised, tail_doubt
from .progress import Reporter
from .reference import reference_value
from .statistics import SCALE_LIMIT, detectable, z_critical

__all__ = ["measure_limit"]

_TINY = 1e-150  # a point measured without spread still gets a finite weight (1/_TINY**2 is finite)
_EPS64 = 2.0**-52


def measure_limit(c: Claim, b, values: dict, expected_mp, target: float, alpha: float, cap: int,
                  reporter: Reporter, relative: bool = False, strict: bool = False) -> Outcome:
    """The experiment at every sweep value, then the fitted limit (and derived corrections) against
    the closed form."""
    lim = c.limit
    assert lim is not None
    share = alpha / (2 + len(c.corrections))
    # each point's target so that the extrapolated limit reaches the requested resolution
    amplification = float(np.linalg.norm(extrapolation_weights(lim, lim.sweep)))
    points: list[Estimate] = []
    counts: dict[str, int] = {}
    warned = [False]
    doubts: list[str] = []
    for i, x in enumerate(lim.sweep):
        est = spend(c, b, {**values, lim.name: x}, target / amplification, share, cap, Part(reporter, i, len(lim.sweep)),
                    warned, relative, strict)
        points.append(est)
        for name, k in est.events:
            counts[name] = counts.get(name, 0) + k
        for why in (est.inconclusive, tail_doubt(est, z_critical(share), f" at ${lim.tex} = {n(x, 6)}$")):
            if why:
                doubts.append(why)
    total = sum(e.n for e in points)
    f = fit(lim, lim.sweep, [e.mean for e in points], [max(e.stderr, _EPS64 * abs(e.mean), _TINY) for e in points],
            [e.atol for e in points])
    deviation = mpmath.mpf(f.limit) - expected_mp
    fit_ok = f.p_value >= share
    rejected = abs(deviation) > z_critical(share) * f.stderr + f.floor or not fit_ok
    derived = [_derived(c, k, values, f, share) for k in c.corrections]
    rejected = rejected or any(not d["passed"] for d in derived)
    corrections = ", ".join(
        f"$({n(bk, 4)} \\pm {n(sk, 2)})\\,{lim.correction_latex(k + 1, f.order)}$"
        for k, (bk, sk) in enumerate(zip(f.corrections, f.correction_stderrs, strict=True))
    )
    order = f" (fitted order ${n(f.order, 3)} \\pm {n(f.order_stderr, 2)}$)" if f.order_stderr is not None else ""
    arrow = r"\infty" if lim.towards == "infinity" else "0"
    notes = [
        f"limit ${lim.tex} \\to {arrow}$ extrapolated from ${lim.tex} = {', '.join(n(x, 6) for x in lim.sweep)}$; "
        f"fitted corrections {corrections}{order}",
        f"fit $\\chi^2 = {n(f.chi2, 3)}$ on {f.dof} degrees of freedom ($p = {n(f.p_value, 2)}$)"
        + ("" if fit_ok else f": the assumed expansion does not fit the sweep ($p < {n(share, 3)}$), so the limit is "
                             "not verified"),
    ]
    for d in derived:
        notes.append(d.pop("note"))
    notes += [event_note(name, k, total, alpha) for name, k in sorted(counts.items())]
    sweep = tuple(
        {"x": x, "estimate": e.mean, "stderr": e.stderr, "replicates": e.n, "tolerance": e.atol}
        for x, e in zip(lim.sweep, points, strict=True)
    )
    summary = f.to_dict()
    if derived:
        summary["derived"] = derived
    return Outcome(f.limit, f.stderr, deviation, f.stderr, rejected, detectable(f.stderr, f.floor, share), f.floor,
                   total, points[0].dtype, notes, doubts, any(e.n >= cap for e in points), sweep=sweep, fit=summary)


def _derived(c: Claim, k, values: dict, f: Fit, alpha: float) -> dict[str, Any]:
    """The fitted coefficient of correction ``k.term`` against its derived value: a z-test at ``alpha``."""
    lim = c.limit
    assert lim is not None
    expected_mp, _ = reference_value(k.coefficient, c.symbolic(values))
    expected = float(expected_mp)
    i = k.term - 1
    estimate, stderr = f.corrections[i], f.correction_stderrs[i]
    floor = f.correction_floors[i] if f.correction_floors else 0.0
    deviation = mpmath.mpf(estimate) - expected_mp
    passed = bool(abs(deviation) <= z_critical(alpha) * stderr + floor)
    resolution = detectable(stderr, floor, alpha)
    z = standardised(deviation, stderr)
    term = lim.correction_latex(k.term, f.order)
    unresolved = passed and expected != 0 and resolution > SCALE_LIMIT * abs(expected)
    note = (f"derived correction: the coefficient of ${term}$ is ${n(expected, 6)}$; fitted ${n(estimate, 4)} \\pm "
            f"{n(stderr, 2)}$ ($z = {n(z, 3)}$; resolution ${n(resolution, 2)}$)")
    if not passed:
        note += ": the fitted coefficient disagrees with the derived one, so the claim is not verified"
    elif unresolved:
        note += (": not resolved at this point (the resolution is not small against the coefficient), so this run "
                 "tests the limit but not the coefficient")
    return {"term": k.term, "expected": expected, "estimate": estimate, "stderr": stderr, "z": z,
            "resolution": resolution, "passed": passed,
            "status": "fail" if not passed else ("inconclusive" if unresolved else "pass"), "note": note}
