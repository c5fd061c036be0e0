"""Verification: the closed form at a point against a measured estimate.

Exact claims compare one deterministic result at the tolerance its kernel derives from
the dtype. Statistical claims run a pilot batch, choose the number of independent
replicates that reaches the requested resolution, spend it in chunks (merging the
streaming estimates), and test with a two-sided z-test plus the dtype's floor.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import mpmath
import numpy as np

from numerics import Estimate, backend as make_backend, check_seed
from numerics.estimate import clopper_pearson_upper

from .claim_type import Claim
from .reference import reference_value
from .registry import claim as lookup, select
from .statistics import check_alpha, check_resolution, detectable, replicates_for, z_critical
from .verdict import Verdict

__all__ = ["verify", "verify_many", "plan", "run", "prepare"]

Progress = Callable[[int, int], None]
_CHUNK = 1 << 20  # most replicates per experiment call after the pilot (bounds memory, feeds progress)
_TINY = 1e-150  # a point measured without spread still gets a finite weight (1/_TINY**2 is finite)
_EPS64 = 2.0**-52
_MIN_CHUNK = 256  # fewest: topping up by one or two replicates is not worth a call


def _as_claim(c: Claim | str) -> Claim:
    if isinstance(c, Claim):
        return c
    if isinstance(c, str):
        return lookup(c)
    raise TypeError(f"verify() takes a Claim or a claim id, not {type(c).__name__}")


def prepare(c: Claim | str, params: Mapping[str, Any], *, backend: str, seed: int, resolution: float | None,
            alpha: float):
    """Validate everything before any work: returns (claim, resolved parameters, settings); a
    ``resolution`` of None is the claim's own default target."""
    c = _as_claim(c)
    values = c.resolve(params)
    check_seed(seed)
    target = check_resolution(c.resolution if resolution is None else resolution)
    return c, values, (backend, seed, target, check_alpha(alpha))


def verify(
    claim: Claim | str,
    *,
    backend: str = "numpy",
    seed: int = 0,
    resolution: float | None = None,
    alpha: float = 1e-6,
    progress: Progress | None = None,
    **params: Any,
) -> Verdict:
    """Verify ``claim`` (a Claim or its id) at ``params`` (defaults for the rest).

    >>> v = verify("xent.margin", K=2, m=3.0)
    >>> v.passed, v.kind, v.expected
    (True, 'exact', 3.048587351573742)
    """
    c, values, (backend, seed, resolution, alpha) = prepare(
        claim, params, backend=backend, seed=seed, resolution=resolution, alpha=alpha
    )
    b = make_backend(backend, seed)
    expected_mp, how = reference_value(c.closed_form, c.symbolic(values))
    expected = float(expected_mp)
    relative = c.scale == "relative" and expected != 0
    scale = abs(expected) if relative else 1.0
    start = time.perf_counter()
    if c.kind == "exact":
        est = c.experiment(b.xp, b.rng, None, **values)
        deviation = float(mpmath.mpf(est.mean) - expected_mp)
        tolerance = est.atol
        passed = abs(deviation) <= tolerance
        z = _standardised(deviation, tolerance)
        achieved = (tolerance + abs(deviation)) / scale
        target = None
    elif c.kind == "asymptotic":
        return _verify_limit(c, b, values, expected_mp, scale, relative, resolution, alpha, seed, how, progress, start)
    else:
        level = alpha / 2 if c.scaling is not None else alpha  # half to the scaling law, if any
        est = _spend(c, b, values, resolution * scale, level, progress)
        deviation = float(mpmath.mpf(est.mean) - expected_mp)
        tolerance = est.atol
        passed = abs(deviation) <= z_critical(level) * est.stderr + tolerance
        z = _standardised(deviation, est.stderr)
        achieved = detectable(est.stderr, tolerance, level) / scale
        target = resolution
    scaling = _verify_scaling(c, b, values, alpha / 2) if c.scaling is not None else None  # statistical claims only
    if scaling is not None:
        passed = passed and scaling["passed"]
    notes = [_event_note(name, k, est.n, alpha) for name, k in est.events]
    if scaling is not None:
        notes.append(scaling["note"])
    notes += list(c.remarks(values)) if c.remarks else []
    if target is not None and achieved > 1.05 * target:
        notes.append(f"budget cap of {c.max_replicates} replicates reached before the requested resolution")
    return Verdict(
        id=c.id,
        kind=c.kind,
        parameters=values,
        expected=expected,
        estimate=est.mean,
        stderr=est.stderr,
        z=z,
        passed=bool(passed),
        resolution=achieved,
        scale="relative" if relative else "absolute",
        tolerance=tolerance,
        alpha=alpha,
        replicates=est.n,
        backend=b.name,
        dtype=est.dtype,
        seed=seed,
        seconds=time.perf_counter() - start,
        target_resolution=target,
        reference=how,
        mutated=c.mutated,
        notes=tuple(notes),
        scaling=scaling,
    )


def _verify_scaling(c: Claim, b, values: dict, alpha: float) -> dict:
    """The claim's scaling law: the fitted exponent against the derived one, a z-test at ``alpha``."""
    law = c.scaling
    est = law.measure(b.xp, b.rng, **values)
    expected = law.exponent
    deviation = est.mean - expected
    passed = abs(deviation) <= z_critical(alpha) * est.stderr + est.atol
    resolution = detectable(est.stderr, est.atol, alpha)
    note = (f"scaling law: {law.quantity} ~ {law.variable}^s, fitted s = {est.mean:.4g} +- {est.stderr:.2g} "
            f"(derived {expected:g}; z = {_standardised(deviation, est.stderr):.2f}; resolution {resolution:.2g})")
    if not passed:
        note += ": the fitted exponent disagrees with the derived one, so the claim is not verified"
    return {"quantity": law.quantity, "variable": law.variable, "expected": expected, "estimate": est.mean,
            "stderr": est.stderr, "resolution": resolution, "replicates": est.n, "passed": bool(passed), "note": note}


def _verify_limit(c: Claim, b, values: dict, expected_mp, scale: float, relative: bool, resolution: float,
                  alpha: float, seed: int, how: str, progress: Progress | None, start: float) -> Verdict:
    """An asymptotic claim: the experiment at every sweep value, then the fitted limit against the
    closed form. Half of ``alpha`` goes to the z-test of the limit, half to the fit's chi-square."""
    from .asymptotics import extrapolation_weights, fit

    lim = c.limit
    expected = float(expected_mp)
    half = alpha / 2
    # each point's target so that the extrapolated limit reaches the requested resolution
    amplification = float(np.linalg.norm(extrapolation_weights(lim, lim.sweep)))
    points, events = [], {}
    for i, x in enumerate(lim.sweep):
        report = None
        if progress is not None:
            report = (lambda done, total, i=i: progress(i * total + done, len(lim.sweep) * total))
        est = _spend(c, b, {**values, lim.name: x}, resolution * scale / amplification, half, report)
        points.append(est)
        for name, k in est.events:
            events[name] = events.get(name, 0) + k
    total = sum(e.n for e in points)
    f = fit(lim, lim.sweep, [e.mean for e in points], [max(e.stderr, _EPS64 * abs(e.mean), _TINY) for e in points], [e.atol for e in points])
    deviation = float(mpmath.mpf(f.limit) - expected_mp)
    fit_ok = f.p_value >= half
    passed = abs(deviation) <= z_critical(half) * f.stderr + f.floor and fit_ok
    corrections = ", ".join(
        f"{bk:.4g} +- {sk:.2g} x {lim.correction_text(k + 1, f.order)}"
        for k, (bk, sk) in enumerate(zip(f.corrections, f.correction_stderrs, strict=True))
    )
    order = f" (fitted order {f.order:.3g} +- {f.order_stderr:.2g})" if f.order_stderr is not None else ""
    notes = [
        f"limit {lim.name} -> {'oo' if lim.towards == 'infinity' else '0'} extrapolated from {lim.name} = "
        f"{', '.join(str(x) for x in lim.sweep)}; fitted corrections {corrections}{order}",
        f"fit chi2 = {f.chi2:.3g} on {f.dof} dof (p = {f.p_value:.2g})"
        + ("" if fit_ok else f": the assumed expansion does not fit the sweep (p < {half:g}), so the limit is not verified"),
    ]
    notes += [_event_note(name, k, total, alpha) for name, k in sorted(events.items())]
    notes += list(c.remarks(values)) if c.remarks else []
    sweep = tuple(
        {"x": x, "estimate": e.mean, "stderr": e.stderr, "replicates": e.n, "tolerance": e.atol}
        for x, e in zip(lim.sweep, points, strict=True)
    )
    return Verdict(
        id=c.id,
        kind=c.kind,
        parameters=values,
        expected=expected,
        estimate=f.limit,
        stderr=f.stderr,
        z=_standardised(deviation, f.stderr),
        passed=bool(passed),
        resolution=detectable(f.stderr, f.floor, half) / scale,
        scale="relative" if relative else "absolute",
        tolerance=f.floor,
        alpha=alpha,
        replicates=total,
        backend=b.name,
        dtype=points[0].dtype,
        seed=seed,
        seconds=time.perf_counter() - start,
        target_resolution=resolution,
        reference=how,
        mutated=c.mutated,
        notes=tuple(notes),
        sweep=sweep,
        fit=f.to_dict(),
    )


def _event_note(name: str, k: int, n: int, alpha: float) -> str:
    """``name: k of n replicates``, with the one-sided upper confidence bound (level 1 - alpha) on the
    event's rate when it was counted over many replicates."""
    if n <= 1:
        return f"{name}: {k}"
    return f"{name}: {k} of {n} replicates (rate <= {clopper_pearson_upper(k, n, 1 - alpha):.2g} at confidence 1 - {alpha:g})"


def _standardised(deviation: float, unit: float) -> float:
    """``deviation / unit``; a zero unit gives 0 for no deviation and a signed infinity otherwise."""
    if unit > 0:
        return deviation / unit
    return 0.0 if deviation == 0 else math.copysign(math.inf, deviation)


def _spend(c: Claim, b, values: dict, target: float, alpha: float, progress: Progress | None) -> Estimate:
    """Pilot, then enough replicates for ``target`` (re-planned once the variance is better known)."""
    est = c.experiment(b.xp, b.rng, c.pilot, **values)
    for _ in range(3):
        need = min(max(replicates_for(est.sd, target, alpha), est.n), c.max_replicates)
        if need <= est.n:
            break
        while est.n < need:
            if progress is not None:
                progress(est.n, need)
            chunk = min(_CHUNK, max(need - est.n, _MIN_CHUNK))
            est = est.merge(c.experiment(b.xp, b.rng, chunk, **values))
    if progress is not None:
        progress(est.n, est.n)
    return est


def plan(
    claims: Sequence[Claim | str] | None = None,
    *,
    settings: Mapping[str, Mapping[str, Any]] | None = None,
    backend: str = "numpy",
    seed: int = 0,
    resolution: float | None = None,
    alpha: float = 1e-6,
) -> list[tuple[Claim, dict[str, Any], float]]:
    """Validate a run of several claims before any work: (claim, parameters, per-claim alpha).

    The level ``alpha`` is Bonferroni-corrected over the claims of the run.
    """
    chosen = [_as_claim(c) for c in claims] if claims else select(None)
    settings = dict(settings or {})
    each = check_alpha(alpha) / len(chosen)
    prepared = [prepare(c, settings.get(c.id, {}), backend=backend, seed=seed, resolution=resolution, alpha=each) for c in chosen]
    make_backend(backend, seed)  # fail now if the backend is unusable
    return [(c, values, each) for c, values, _ in prepared]


def verify_many(
    claims: Sequence[Claim | str] | None = None,
    *,
    settings: Mapping[str, Mapping[str, Any]] | None = None,
    backend: str = "numpy",
    seed: int = 0,
    resolution: float | None = None,
    alpha: float = 1e-6,
    progress: Callable[[Claim, int, int], None] | None = None,
    jobs: int | None = 1,
) -> list[Verdict]:
    """Verify several claims (all registered ones by default) as one run, ``alpha``
    Bonferroni-corrected over them; ``settings`` maps claim ids to parameters; ``jobs``
    processes verify claims side by side (``None``: every core; the verdicts are the same).

    Every claim and parameter is validated before the first one runs.
    """
    steps = plan(claims, settings=settings, backend=backend, seed=seed, resolution=resolution, alpha=alpha)
    return run(steps, backend=backend, seed=seed, resolution=resolution, progress=progress, jobs=jobs)


def run(
    steps: list[tuple[Claim, dict[str, Any], float]],
    *,
    backend: str,
    seed: int,
    resolution: float | None,
    progress: Callable[[Claim, int, int], None] | None = None,
    jobs: int | None = 1,
) -> list[Verdict]:
    """Carry out a validated :func:`plan` (in ``jobs`` processes, see :mod:`workbench.parallel`)."""
    from .parallel import check_jobs, pmap

    jobs = check_jobs(jobs)
    parallel = jobs > 1 and len(steps) > 1

    def one(i: int) -> Verdict:
        c, values, each = steps[i]
        report = (lambda done, total: progress(c, done, total)) if progress and not parallel else None
        return verify(c, backend=backend, seed=seed, resolution=resolution, alpha=each, progress=report, **values)

    finished = (lambda i: progress(steps[i][0], 1, 1)) if progress and parallel else None
    return pmap(one, len(steps), jobs, backend, done=finished)
