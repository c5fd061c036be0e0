"""Batched numerical kernels on NumPy or CuPy (never SymPy).

One module per area of theory (``numerics.cross_entropy``, ...), each holding kernels
written once for any array namespace ``xp`` and experiments with the signature
``experiment(xp, rng, budget, **params) -> Estimate``.
"""

from .backends import BACKENDS, Backend, BackendUnavailable, backend, check_seed
from .estimate import Accumulator, Estimate

__all__ = ["BACKENDS", "Accumulator", "Backend", "BackendUnavailable", "Estimate", "backend", "check_seed"]
