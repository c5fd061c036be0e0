"""Benchmarks of the ``init.*`` kernels: how long a verdict takes, and how close the dense
method runs to the cost of its own random numbers.

Three measurements for ``init.he-forward`` (``fan_in=256, depth=20, c=2`` at full size):

- ``verify``: seconds for ``wb.verify("init.he-forward", resolution=0.01)`` with the fastest
  exact method (``gram``), and its replicate count; the first call in the process (which
  also derives the closed form in SymPy) and the best of ``repeats`` warm calls;
- ``dense``: networks per second of :func:`numerics.initialization.relu_network` with
  ``method="dense"`` at its natural batch :func:`~numerics.initialization.dense_batch`,
  against a lower bound timed in the same run: nothing but the same float32 normal draws
  ``(B, n, n)`` and batched matmuls ``(B, n, n) @ (B, n, 2)``, one per layer. The ratio of
  the two is the kernel's overhead (ReLU masks, rescaling, float64 statistics);
- ``gram``: networks per second of the exact Gram-matrix method, for reference.

Timings are the best of ``repeats`` runs after a warm-up, dense and lower bound interleaved
so both see the same machine state. Targets are reported, never enforced.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from . import row as _row

__all__ = ["FULL", "QUICK", "Size", "dense_benchmark", "gram_benchmark", "run", "verify_benchmark"]

CLAIM = "init.he-forward"
VERIFY_TARGET_S = 10.0  # a verdict at resolution 0.01 in under 10 s on 2 cores
DENSE_TARGET_RATIO = 1.3  # the dense kernel within 30% of its random numbers and matmuls


@dataclass(frozen=True)
class Size:
    """How big a run: the network, the verdict's resolution, repeats and batches."""

    fan_in: int = 256
    depth: int = 20
    c: float = 2.0
    resolution: float = 0.01
    repeats: int = 3
    dense_batch: int | None = None  # None: the kernel's natural batch dense_batch(fan_in, fan_in)
    gram_batch: int = 1 << 18
    seed: int = 0


FULL = Size()
QUICK = Size(fan_in=16, depth=3, resolution=0.05, repeats=1, dense_batch=64, gram_batch=4096)


def _best(fn: Callable[[], Any], repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), times


def verify_benchmark(size: Size = FULL) -> dict[str, Any]:
    """Seconds for one verdict of init.he-forward with the gram method: first call and warm."""
    import workbench as wb

    params = {"fan_in": size.fan_in, "depth": size.depth, "c": size.c, "method": "gram"}
    start = time.perf_counter()
    first = wb.verify(CLAIM, resolution=size.resolution, seed=size.seed, **params)
    first_s = time.perf_counter() - start
    verdicts = []
    warm_s, warm_all = _best(
        lambda: verdicts.append(wb.verify(CLAIM, resolution=size.resolution, seed=size.seed, **params)), size.repeats
    )
    return {
        "claim": CLAIM,
        "parameters": params,
        "resolution": size.resolution,
        "first_call_seconds": first_s,
        "seconds": warm_s,
        "all_seconds": warm_all,
        "replicates": int(first.replicates),
        "passed": bool(first.passed),
        "estimate": float(first.estimate),
        "expected": float(first.expected),
        "stderr": float(first.stderr),
        "reproducible": all(v.estimate == first.estimate for v in verdicts),
        "target_seconds": VERIFY_TARGET_S,
        "meets_target": max(first_s, warm_s) < VERIFY_TARGET_S,
    }


def _lower_bound(rng: Any, b: int, n: int, depth: int) -> None:
    """Only what the dense method cannot avoid: the weights' normal draws and one batched matmul per layer."""
    state = np.ones((b, n, 2), dtype=np.float32)
    out = np.empty_like(state)
    for _ in range(depth):
        weights = rng.standard_normal((b, n, n), dtype=np.float32)
        np.matmul(weights, state, out=out)  # the same input every layer: no growth, no rescaling
        del weights


def dense_benchmark(size: Size = FULL) -> dict[str, Any]:
    """Networks per second of the dense method against the lower bound, best of ``repeats``."""
    from numerics import backend
    from numerics.initialization import dense_batch, relu_network

    n, depth = size.fan_in, size.depth
    b = size.dense_batch or dense_batch(n, n)
    rng = backend("numpy", size.seed).rng

    def dense() -> None:
        relu_network(np, rng, b, fan_in=n, depth=depth, c=size.c, method="dense")

    def bound() -> None:
        _lower_bound(rng, b, n, depth)

    # warm-up: one layer of each (allocator, BLAS threads, page faults)
    relu_network(np, rng, b, fan_in=n, depth=1, c=size.c, method="dense")
    _lower_bound(rng, b, n, 1)
    dense_times, bound_times = [], []
    for _ in range(size.repeats):  # interleaved: both see the same machine state
        dense_times.append(_best(dense, 1)[0])
        bound_times.append(_best(bound, 1)[0])
    dense_s, bound_s = min(dense_times), min(bound_times)
    normals = b * n * n * depth
    ratio = dense_s / bound_s
    return {
        "batch": b,
        "fan_in": n,
        "depth": depth,
        "repeats": size.repeats,
        "seconds": dense_s,
        "all_seconds": dense_times,
        "networks_per_second": b / dense_s,
        "lower_bound_seconds": bound_s,
        "lower_bound_all_seconds": bound_times,
        "lower_bound_networks_per_second": b / bound_s,
        "normals_per_batch": normals,
        "lower_bound_normals_per_second": normals / bound_s,
        "ratio": ratio,
        "target_ratio": DENSE_TARGET_RATIO,
        "meets_target": ratio <= DENSE_TARGET_RATIO,
    }


def gram_benchmark(size: Size = FULL) -> dict[str, Any]:
    """Networks per second of the exact Gram-matrix method, best of ``repeats``."""
    from numerics import backend
    from numerics.initialization import relu_network

    rng = backend("numpy", size.seed).rng
    b = size.gram_batch

    def gram() -> None:
        relu_network(np, rng, b, fan_in=size.fan_in, depth=size.depth, c=size.c, method="gram")

    relu_network(np, rng, min(b, 1024), fan_in=size.fan_in, depth=size.depth, c=size.c, method="gram")  # warm-up
    seconds, all_seconds = _best(gram, size.repeats)
    return {
        "batch": b,
        "fan_in": size.fan_in,
        "depth": size.depth,
        "repeats": size.repeats,
        "seconds": seconds,
        "all_seconds": all_seconds,
        "networks_per_second": b / seconds,
    }


def run(size: Size | None = None, *, quick: bool = False) -> dict[str, Any]:
    """All three benchmarks; ``quick`` (or ``size=QUICK``) is a tiny run for smoke tests."""
    size = size or (QUICK if quick else FULL)
    verify = verify_benchmark(size)
    dense = dense_benchmark(size)
    gram = gram_benchmark(size)
    gram["speedup_over_dense"] = gram["networks_per_second"] / dense["networks_per_second"]
    rows = [
        _row("verify: first call in the process", verify["first_call_seconds"], "s", f"< {VERIFY_TARGET_S:g} s",
             verify["first_call_seconds"] < VERIFY_TARGET_S),
        _row(f"verify: warm, best of {size.repeats}", verify["seconds"], "s", f"< {VERIFY_TARGET_S:g} s",
             verify["seconds"] < VERIFY_TARGET_S),
        _row("verify: replicates (networks)", verify["replicates"], "networks"),
        _row(f"dense method, batch {dense['batch']}", dense["networks_per_second"], "networks/s"),
        _row("lower bound: normals + matmuls only", dense["lower_bound_networks_per_second"], "networks/s"),
        _row("dense time / lower-bound time", dense["ratio"], "x", f"<= {DENSE_TARGET_RATIO:g}", dense["meets_target"]),
        _row(f"gram method, batch {gram['batch']}", gram["networks_per_second"], "networks/s"),
    ]
    title = (
        f"{CLAIM}: fan_in={size.fan_in}, depth={size.depth}, c={size.c:g}; verify with method=gram, "
        f"resolution={size.resolution:g}; best of {size.repeats} after a warm-up"
    )
    return {
        "area": "initialization",
        "size": asdict(size),
        "verify": verify,
        "dense": dense,
        "gram": gram,
        "title": title,
        "rows": rows,
    }
