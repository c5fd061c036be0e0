"""Shared by the area tests: the verifier's test level, agreement of estimates, a recording generator."""

from __future__ import annotations

import math

import numpy as np

from workbench.statistics import z_critical

Z = z_critical(1e-6)  # two-sided, the verifier's default level: these tests are not flaky


def agree(a, b, expected=None):
    """Two independent estimates agree (and with ``expected``) within Z standard errors."""
    assert abs(a.mean - b.mean) <= Z * math.hypot(a.stderr, b.stderr) + a.atol + b.atol, (a, b)
    if expected is not None:
        for e in (a, b):
            assert abs(e.mean - expected) <= Z * e.stderr + e.atol, (e, expected)


class Recorder:
    """A generator that records every normal draw's shape and dtype (to test streaming and dtypes)."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.calls = []

    def standard_normal(self, size=None, dtype=np.float64):
        self.calls.append((size, np.dtype(dtype).name))
        return self.rng.standard_normal(size, dtype=dtype)
