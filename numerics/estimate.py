"""Streaming estimates from independent replicates (Chan et al. parallel variance).

A Monte Carlo kernel produces one statistic per independent replicate (an independent
network, logit vector, dataset...) in batches; :class:`Accumulator` reduces each batch
on its device in float64 and merges it on the host, so a budget is spent in batches
without holding all samples. The standard error therefore comes from independent
replicates, never from correlated units inside one replicate.

The accumulator also keeps the third and fourth central moments, merged exactly across batches
(Pebay 2008), so every estimate carries its replicates' sample skewness and kurtosis: the verifier
judges from them whether the standard error itself can be trusted (a heavy tail leaves the sample
variance unsettled, see :mod:`workbench.statistics`).

References: T. F. Chan, G. H. Golub, R. J. LeVeque, "Updating formulae and a pairwise algorithm for
computing sample variances", COMPSTAT 1982 (doi:10.1007/978-3-642-51461-6_3); P. Pebay, "Formulas for
robust, one-pass parallel computation of covariances and arbitrary-order statistical moments",
Sandia report SAND2008-6212 (2008), eqs. (2.1)-(2.3).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from .namespaces import namespace

__all__ = ["FLOOR_ULPS", "Accumulator", "Estimate", "clopper_pearson_upper", "merge_moments"]

# A replicate statistic computed in a dtype carries a relative rounding error of a few
# units in the last place; averaging cannot remove a bias of that size, so a verdict
# never claims to resolve deviations below FLOOR_ULPS * eps(dtype) * mean(|x|).
FLOOR_ULPS = 8


def merge_moments(na: Any, a: tuple, nb: Any, b: tuple) -> tuple:
    """Pool ``(mean, M2, M3, M4)`` (sums of central powers) of two disjoint samples of sizes ``na``
    and ``nb`` (Pebay 2008, eqs. 2.1-2.3); elementwise for arrays of statistics."""
    ma, m2a, m3a, m4a = a
    mb, m2b, m3b, m4b = b
    n = na + nb
    d = mb - ma
    dn = d / n
    mean = ma + dn * nb
    m2 = m2a + m2b + d * dn * na * nb
    m3 = m3a + m3b + d * dn * dn * na * nb * (na - nb) + 3 * dn * (na * m2b - nb * m2a)
    m4 = (m4a + m4b + d * dn**3 * na * nb * (na * na - na * nb + nb * nb)
          + 6 * dn * dn * (na * na * m2b + nb * nb * m2a) + 4 * dn * (na * m3b - nb * m3a))
    return mean, m2, m3, m4


@dataclass(frozen=True)
class Estimate:
    """A measured value: mean, standard error over ``n`` independent replicates, and
    ``atol``, the floating-point tolerance of the computation (the whole tolerance of an
    exact check, whose ``stderr`` is 0).

    ``skewness`` and ``kurtosis`` (the sample's, not excess: 3 for a normal) describe the replicates'
    distribution when it was accumulated (None when not known). ``inconclusive`` is the kernel's own
    reason (text with inline math) why this measurement cannot decide the claim, or empty: a verdict
    built on it is inconclusive unless it fails."""

    mean: float
    stderr: float
    n: int
    backend: str = "numpy"
    dtype: str = "float64"
    atol: float = 0.0
    events: tuple[tuple[str, int], ...] = ()  # counts of named events among the replicates
    skewness: float | None = None
    kurtosis: float | None = None
    inconclusive: str = ""

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"an estimate needs n >= 1 replicates, got {self.n}")
        if not (self.stderr >= 0 and self.atol >= 0):
            raise ValueError(f"stderr and atol must be >= 0 (a number, not NaN), got stderr={self.stderr!r}, "
                             f"atol={self.atol!r}")

    @classmethod
    def exact(cls, value: float, atol: float, backend: str = "numpy", dtype: str = "float64") -> Estimate:
        """A deterministic result with its floating-point tolerance."""
        return cls(float(value), 0.0, 1, backend, dtype, float(atol))

    @property
    def sd(self) -> float:
        """Standard deviation of one replicate."""
        return self.stderr * math.sqrt(self.n)

    def _moments(self, unit: float) -> tuple[float, float, float, float] | None:
        """(mean, M2, M3, M4) in multiples of ``unit`` (a power of two near the values' scale, so
        that squares and fourth powers neither underflow nor overflow), when the shape is known."""
        sd = self.sd / unit
        m2 = sd * sd * (self.n - 1)
        if m2 == 0:  # no spread (yet): every central moment is 0
            return self.mean / unit, 0.0, 0.0, 0.0
        if self.skewness is None or self.kurtosis is None:
            return None
        return self.mean / unit, m2, self.skewness * m2**1.5 / math.sqrt(self.n), self.kurtosis * m2 * m2 / self.n

    def merge(self, other: Estimate) -> Estimate:
        """Pool two estimates of the same quantity from disjoint replicates (in units of a power of two
        near their scale, so a mean of 1e-300 or 1e300 merges like one of 1)."""
        n = self.n + other.n
        unit = _unit(max(abs(self.mean), abs(other.mean), self.sd, other.sd))
        ma, mb = self.mean / unit, other.mean / unit
        sa, sb = self.sd / unit, other.sd / unit
        delta = mb - ma
        mean = (ma + delta * other.n / n) * unit
        m2 = sa * sa * (self.n - 1) + sb * sb * (other.n - 1) + delta**2 * self.n * other.n / n
        stderr = math.sqrt(m2 / (n - 1) / n) * unit if n > 1 else 0.0
        atol = (self.atol * self.n + other.atol * other.n) / n
        counts = dict(self.events)
        for name, k in other.events:
            counts[name] = counts.get(name, 0) + k
        a, b = self._moments(unit), other._moments(unit)
        skewness = kurtosis = None
        if a is not None and b is not None:
            _, m2, m3, m4 = merge_moments(self.n, a, other.n, b)
            skewness, kurtosis = _shape(n, m2, m3, m4)
        return replace(self, mean=mean, stderr=stderr, n=n, atol=atol, events=tuple(sorted(counts.items())),
                       skewness=skewness, kurtosis=kurtosis, inconclusive=self.inconclusive or other.inconclusive)


def _unit(x: float) -> float:
    """The power of two at or just above ``|x|`` (1 for 0 or a non-finite x): a scale to divide by exactly."""
    if x == 0 or not math.isfinite(x):
        return 1.0
    return math.ldexp(1.0, math.frexp(x)[1])


def _shape(n: int, m2: float, m3: float, m4: float) -> tuple[float | None, float | None]:
    """Sample skewness and kurtosis from the sums of central powers (None without spread)."""
    if not m2 > 0 or not math.isfinite(m4):
        return None, None
    return math.sqrt(n) * m3 / m2**1.5, n * m4 / (m2 * m2)


class Accumulator:
    """Running mean and central moments M2..M4 over batches of per-replicate statistics, kept in
    multiples of a power of two near the first batch's scale (so 1e-300 and 1e300 work like 1).

    >>> import numpy as np
    >>> acc = Accumulator()
    >>> acc.add(np.array([1.0, 2.0])); acc.add(np.array([3.0, 4.0]))
    >>> e = acc.estimate()
    >>> e.mean, round(e.stderr**2 * e.n, 12)
    (2.5, 1.666666666667)
    """

    def __init__(self, backend: str = "numpy", dtype: str = "float64") -> None:
        self.backend = backend
        self.dtype = dtype
        self.unit = 1.0  # a power of two near the first batch's scale: the moments are kept in its multiples
        self.n = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.m3 = 0.0
        self.m4 = 0.0
        self.abs_mean = 0.0
        self.events: dict[str, int] = {}

    def fill(self, budget: int, per: int, batch: Callable[[int], Any]) -> Accumulator:
        """Add ``batch(k)`` for chunks of at most ``per`` replicates until ``budget`` are in (memory bounded by one
        chunk); returns self, so ``Accumulator(...).fill(...).estimate()`` reads as one step."""
        done = 0
        while done < budget:
            k = min(per, budget - done)
            self.add(batch(k))
            done += k
        return self

    def count(self, name: str, k: int) -> None:
        """Record ``k`` more replicates in which the event ``name`` happened (reported, never hidden)."""
        self.events[name] = self.events.get(name, 0) + int(k)

    def add(self, values: Any) -> None:
        """Merge a 1-D batch of replicate statistics (any array namespace, any device)."""
        b = int(values.shape[0])
        if b == 0:
            return
        xp = namespace(values)
        v = xp.astype(values, xp.float64)
        if self.n == 0:
            self.unit = _unit(float(xp.max(xp.abs(v))))
        v = v / self.unit  # exact: a power of two; squares and fourth powers stay in range at any scale
        # a few scalars per batch: the reductions run where the values live
        batch_mean = float(xp.mean(v))
        d = v - batch_mean
        d2 = d * d
        batch = (batch_mean, float(xp.sum(d2)), float(xp.sum(d2 * d)), float(xp.sum(d2 * d2)))
        batch_abs = float(xp.mean(xp.abs(v)))
        if self.n == 0:
            self.mean, self.m2, self.m3, self.m4 = batch
        else:
            self.mean, self.m2, self.m3, self.m4 = merge_moments(self.n, (self.mean, self.m2, self.m3, self.m4), b, batch)
        n = self.n + b
        self.abs_mean += (batch_abs - self.abs_mean) * b / n
        self.n = n

    def estimate(self) -> Estimate:
        if self.n < 2:
            raise ValueError("a standard error needs at least 2 replicates")
        import numpy as np  # eps of the dtype the statistics were computed in

        stderr = math.sqrt(self.m2 / (self.n - 1) / self.n) * self.unit
        floor = FLOOR_ULPS * float(np.finfo(self.dtype).eps) * self.abs_mean * self.unit
        skewness, kurtosis = _shape(self.n, self.m2, self.m3, self.m4)
        return Estimate(self.mean * self.unit, stderr, self.n, self.backend, self.dtype, floor, tuple(sorted(self.events.items())),
                        skewness, kurtosis)


def clopper_pearson_upper(k: int, n: int, confidence: float = 0.999999) -> float:
    """One-sided Clopper-Pearson upper confidence bound on a fraction after ``k`` events in ``n`` trials."""
    from scipy.stats import beta

    if not 0 <= k <= n or n < 1:
        raise ValueError(f"need 0 <= k <= n and n >= 1, got k={k}, n={n}")
    return 1.0 if k == n else float(beta.ppf(confidence, k + 1, n - k))
