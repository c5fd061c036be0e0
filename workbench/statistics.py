r"""The statistics of a verdict: a two-sided z-test and the resolution it had.

A run with standard error :math:`s` and floating-point floor :math:`f` rejects when
:math:`|\hat\mu - \mu_0| > z_{1-\alpha/2}\, s + f`. A closed form off by :math:`\delta`
is then rejected with probability at least ``POWER`` when
:math:`|\delta| \ge (z_{1-\alpha/2} + z_{\text{POWER}})\, s + f`: that is the run's
*resolution* (divided by :math:`|\mu_0|` when relative).

The z-test needs a standard error it can trust. From the replicates' sample kurtosis
:math:`\hat\kappa` (4th central moment over the squared variance; 3 for a normal), the sample
variance of :math:`n` replicates has relative standard error
:math:`r = \sqrt{(\hat\kappa - 1)/n}` (the delta method: :math:`\operatorname{Var} s^2 \approx
\sigma^4 (\kappa - 1)/n`). A run whose :math:`r` exceeds ``TAIL_LIMIT`` has a variance that is
not settled, the signature of a heavy tail (the sample kurtosis can reach :math:`n` when a few
replicates carry the variance), so its verdict is inconclusive however small its standard error
looks; the pilot's kurtosis also plans enough replicates to settle it when the tail allows.

A verdict resolves its quantity only when its resolution is below ``SCALE_LIMIT`` times the
quantity itself: otherwise it could not tell the closed form from zero or from twice itself.
"""

from __future__ import annotations

import math

from scipy.special import ndtri  # the normal quantile (scipy.stats would cost half a second of import)

__all__ = ["POWER", "SCALE_LIMIT", "TAIL_LIMIT", "z_critical", "z_power", "detectable", "replicates_for",
           "variance_uncertainty", "replicates_for_tail", "check_alpha", "check_resolution"]

POWER = 0.99
TAIL_LIMIT = 0.1  # largest relative standard error of the sample variance a verdict trusts (its stderr: ~5%)
SCALE_LIMIT = 0.5  # a resolution at least half the quantity itself resolves nothing
_MANY = 10**18  # more replicates than any cap


def check_alpha(alpha: object) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)):
        raise TypeError(f"alpha={alpha!r} must be a real number with 0 < alpha < 1")
    if not (0 < alpha < 1):
        raise ValueError(f"alpha={alpha!r} is outside the domain: real with 0 < alpha < 1")
    return float(alpha)


def check_resolution(resolution: object) -> float:
    if isinstance(resolution, bool) or not isinstance(resolution, (int, float)):
        raise TypeError(f"resolution={resolution!r} must be a real number with 0 < resolution <= 1")
    if not (0 < resolution <= 1):
        raise ValueError(f"resolution={resolution!r} is outside the domain: real with 0 < resolution <= 1")
    return float(resolution)


def z_critical(alpha: float) -> float:
    """Two-sided critical value :math:`z_{1-\\alpha/2}`."""
    return float(-ndtri(alpha / 2))


def z_power(power: float = POWER) -> float:
    return float(ndtri(power))


def detectable(stderr: float, floor: float, alpha: float) -> float:
    """Smallest deviation rejected with probability >= POWER."""
    return (z_critical(alpha) + z_power()) * stderr + floor


def replicates_for(sd: float, target: float, alpha: float) -> int:
    """Replicates needed so that ``detectable`` (without floor) reaches ``target``."""
    if sd == 0:
        return 0
    if not (target > 0 and math.isfinite(sd)):  # a target that underflowed, or no finite spread: as many as allowed
        return _MANY
    ratio = (z_critical(alpha) + z_power()) * sd / target
    return math.ceil(ratio * ratio) if ratio < 1e9 else _MANY


def variance_uncertainty(kurtosis: float | None, n: int) -> float | None:
    """The relative standard error of the sample variance of ``n`` replicates with this sample kurtosis."""
    if kurtosis is None or n < 2:
        return None
    return math.sqrt(max(kurtosis - 1.0, 0.0) / n)


def replicates_for_tail(kurtosis: float | None) -> int:
    """Replicates at which a variance of this kurtosis is settled to ``TAIL_LIMIT`` (0 when unknown)."""
    if kurtosis is None or not math.isfinite(kurtosis):
        return 0
    return math.ceil(max(kurtosis - 1.0, 0.0) / TAIL_LIMIT**2)
