"""Streaming estimates from independent replicates (Chan et al. parallel variance).

A Monte Carlo kernel produces one statistic per independent replicate (an independent
network, logit vector, dataset...) in batches; :class:`Accumulator` reduces each batch
on its device in float64 and merges it on the host, so a budget is spent in batches
without holding all samples. The standard error therefore comes from independent
replicates, never from correlated units inside one replicate.

Reference: T. F. Chan, G. H. Golub, R. J. LeVeque, "Updating formulae and a pairwise
algorithm for computing sample variances", COMPSTAT 1982 (doi:10.1007/978-3-642-51461-6_3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from .namespaces import namespace

__all__ = ["FLOOR_ULPS", "Accumulator", "Estimate", "clopper_pearson_upper"]

# A replicate statistic computed in a dtype carries a relative rounding error of a few
# units in the last place; averaging cannot remove a bias of that size, so a verdict
# never claims to resolve deviations below FLOOR_ULPS * eps(dtype) * mean(|x|).
FLOOR_ULPS = 8


@dataclass(frozen=True)
class Estimate:
    """A measured value: mean, standard error over ``n`` independent replicates, and
    ``atol``, the floating-point tolerance of the computation (the whole tolerance of an
    exact check, whose ``stderr`` is 0)."""

    mean: float
    stderr: float
    n: int
    backend: str = "numpy"
    dtype: str = "float64"
    atol: float = 0.0
    events: tuple[tuple[str, int], ...] = ()  # counts of named events among the replicates

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"an estimate needs n >= 1 replicates, got {self.n}")
        if not (self.stderr >= 0 and self.atol >= 0):
            raise ValueError("stderr and atol must be >= 0")

    @classmethod
    def exact(cls, value: float, atol: float, backend: str = "numpy", dtype: str = "float64") -> Estimate:
        """A deterministic result with its floating-point tolerance."""
        return cls(float(value), 0.0, 1, backend, dtype, float(atol))

    @property
    def sd(self) -> float:
        """Standard deviation of one replicate."""
        return self.stderr * math.sqrt(self.n)

    @property
    def _m2(self) -> float:
        return self.sd**2 * (self.n - 1)

    def merge(self, other: Estimate) -> Estimate:
        """Pool two estimates of the same quantity from disjoint replicates."""
        n = self.n + other.n
        delta = other.mean - self.mean
        mean = self.mean + delta * other.n / n
        m2 = self._m2 + other._m2 + delta**2 * self.n * other.n / n
        stderr = math.sqrt(m2 / (n - 1) / n) if n > 1 else 0.0
        atol = (self.atol * self.n + other.atol * other.n) / n
        counts = dict(self.events)
        for name, k in other.events:
            counts[name] = counts.get(name, 0) + k
        return replace(self, mean=mean, stderr=stderr, n=n, atol=atol, events=tuple(sorted(counts.items())))


class Accumulator:
    """Running mean and M2 over batches of per-replicate statistics.

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
        self.n = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.abs_mean = 0.0
        self.events: dict[str, int] = {}

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
        # one transfer of three scalars per batch: the reductions run where the values live
        batch_mean = float(xp.mean(v))
        batch_m2 = float(xp.sum((v - batch_mean) ** 2))
        batch_abs = float(xp.mean(xp.abs(v)))
        n = self.n + b
        delta = batch_mean - self.mean
        self.mean += delta * b / n
        self.m2 += batch_m2 + delta**2 * self.n * b / n
        self.abs_mean += (batch_abs - self.abs_mean) * b / n
        self.n = n

    def estimate(self) -> Estimate:
        if self.n < 2:
            raise ValueError("a standard error needs at least 2 replicates")
        import numpy as np  # eps of the dtype the statistics were computed in

        stderr = math.sqrt(self.m2 / (self.n - 1) / self.n)
        floor = FLOOR_ULPS * float(np.finfo(self.dtype).eps) * self.abs_mean
        return Estimate(self.mean, stderr, self.n, self.backend, self.dtype, floor, tuple(sorted(self.events.items())))


def clopper_pearson_upper(k: int, n: int, confidence: float = 0.999999) -> float:
    """One-sided Clopper-Pearson upper confidence bound on a fraction after ``k`` events in ``n`` trials."""
    from scipy.stats import beta

    if not 0 <= k <= n or n < 1:
        raise ValueError(f"need 0 <= k <= n and n >= 1, got k={k}, n={n}")
    return 1.0 if k == n else float(beta.ppf(confidence, k + 1, n - k))
