"""The family-wise verdict of a sweep: one p-value per point, then Holm or Bonferroni.

A statistical point's p-value is the two-sided normal tail of
``max(|estimate - expected| - tolerance, 0) / stderr`` (it passes on its own iff p >= alpha,
the verifier's own test); an asymptotic point's is ``min(1, m min(p_limit, p_fit, p_derived...))``
(the verifier shares alpha equally among the limit, the fit and the ``m - 2`` derived corrections);
an exact point's is 1 unless it failed, 0 then. An inconclusive point is not rejected (its p-value
is computed like any other), but the sweep as a whole is then inconclusive, not passed.
Holm and Bonferroni always agree on whether the family passes; Holm rejects fewer points.
"""

from __future__ import annotations

import math

from .errors import DomainError
from .verdict import Verdict

__all__ = ["METHODS", "family_wise", "p_value"]

METHODS = ("holm", "bonferroni")


def p_value(v: Verdict) -> float:
    """The p-value of one point, consistent with its own verdict (see the module docstring)."""
    if v.kind == "exact":
        return 0.0 if v.status == "fail" else 1.0
    excess = max(abs(v.estimate - v.expected) - v.tolerance, 0.0)
    if v.stderr > 0:
        p = math.erfc(excess / v.stderr / math.sqrt(2))
    else:
        p = 1.0 if excess == 0 else 0.0
    if v.kind == "asymptotic" and v.fit is not None:
        derived = v.fit.get("derived", [])
        ps = [p, float(v.fit.get("p_value", 1.0)), *(_normal_p(d) for d in derived)]
        p = min(1.0, len(ps) * min(ps))
    return p


def _normal_p(d: dict) -> float:
    z = d.get("z")
    return 1.0 if z is None else math.erfc(abs(float(z)) / math.sqrt(2))


def family_wise(p_values: list[float], alpha: float, method: str = "holm") -> list[bool]:
    """Which hypotheses (points) are rejected at family-wise level ``alpha``: Bonferroni
    rejects p < alpha/m; Holm sorts the p-values and rejects p_(k) < alpha/(m - k) (k = 0, 1, ...)
    until the first that is not."""
    if method not in METHODS:
        raise DomainError(f"method={method!r} is not one of {', '.join(METHODS)}")
    m = len(p_values)
    if method == "bonferroni":
        return [p < alpha / m for p in p_values]
    rejected = [False] * m
    for k, i in enumerate(sorted(range(m), key=lambda j: p_values[j])):
        if p_values[i] >= alpha / (m - k):
            break
        rejected[i] = True
    return rejected
