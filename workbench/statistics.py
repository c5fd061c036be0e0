r"""The statistics of a verdict: a two-sided z-test and the resolution it had.

A run with standard error :math:`s` and floating-point floor :math:`f` rejects when
:math:`|\hat\mu - \mu_0| > z_{1-\alpha/2}\, s + f`. A closed form off by :math:`\delta`
is then rejected with probability at least ``POWER`` when
:math:`|\delta| \ge (z_{1-\alpha/2} + z_{\text{POWER}})\, s + f`: that is the run's
*resolution* (divided by :math:`|\mu_0|` when relative).
"""

from __future__ import annotations

import math

from scipy.special import ndtri  # the normal quantile (scipy.stats would cost half a second of import)

__all__ = ["POWER", "z_critical", "z_power", "detectable", "replicates_for", "check_alpha", "check_resolution"]

POWER = 0.99


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
    return math.ceil(((z_critical(alpha) + z_power()) * sd / target) ** 2)
