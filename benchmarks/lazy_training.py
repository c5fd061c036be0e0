"""Benchmark of the lazy-training kernel (``ntk.lazy-training``): one full-batch gradient-descent step of a batch of
one-hidden-layer ReLU networks (the forward pass and both layers' gradients), against the bare batched GEMMs of
the same shapes (preallocated, nothing else: the forward ``(B, N, d) x (d, n)``, the readout ``(B, 1, N) x
(B, N, n)``, the readout gradient ``(B, N, n) x (B, n, 1)`` and the hidden gradient ``(B, N, n) x (n, d)``).

The inner dimensions are tiny (``d = 4``, ``n = 8``), so the step is bound by memory traffic over the
``(B, N, n)`` activations, not by flops: the ratio says how many passes over them the elementwise work adds.
Run with one BLAS thread (threadpoolctl), float64 as the claim runs. ``python -m benchmarks --area lazy_training``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from . import interleaved
from . import row as _row

__all__ = ["FULL", "QUICK", "Size", "run", "step_benchmark"]

TARGET_RATIO = 4.0  # step time / bare GEMM time: relu, the 0/1 mask, the residual products and the updates


@dataclass(frozen=True)
class Size:
    batch: int = 64
    width: int = 4096
    repeats: int = 7
    seed: int = 0


FULL = Size()
QUICK = Size(batch=4, width=64, repeats=2)



def step_benchmark(size: Size = FULL) -> dict[str, Any]:
    from numerics import lazy_training as K

    Xl, yl = K.task()
    X, y = np.asarray(Xl), np.asarray(yl)
    lr = K.learning_rate(Xl)
    rng = np.random.default_rng(size.seed)
    w, v = K.initial(np, rng, size.batch, size.width)
    B, N, d, n = size.batch, size.width, K.DIMENSION, K.INPUTS
    h = np.empty((B, N, n))
    f = np.empty((B, 1, n))
    gv = np.empty((B, N, 1))
    gw = np.empty((B, N, d))
    xt = np.ascontiguousarray(X.T)
    r = np.ones((B, n, 1))

    def kernel() -> Any:
        return K.train(np, X, y, w, v, lr, 1)

    def bare() -> None:
        np.matmul(w, xt, out=h)
        np.matmul(v[:, None, :], h, out=f)
        np.matmul(h, r, out=gv)
        np.matmul(h, X, out=gw)
        np.matmul(w, xt, out=h)  # the forward pass after the step (train(..., 1) runs two)
        np.matmul(v[:, None, :], h, out=f)

    kernel()
    bare()
    k_times, b_times = interleaved(kernel, bare, size.repeats)  # alternated: the same machine state
    k_s, b_s = min(k_times), min(b_times)
    return {"seconds": k_s, "all_seconds": k_times, "bare_seconds": b_s, "bare_all_seconds": b_times,
            "ratio": k_s / b_s, "target_ratio": TARGET_RATIO, "meets_target": k_s / b_s <= TARGET_RATIO,
            "unit_steps_per_second": B * N / k_s}


def run(size: Size | None = None, *, quick: bool = False) -> dict[str, Any]:
    size = size or (QUICK if quick else FULL)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        step = step_benchmark(size)
    step["blas_threads"] = 1
    rows = [
        _row(f"one gradient step, {size.batch} networks of width {size.width}", step["seconds"], "s"),
        _row("hidden units stepped per second", step["unit_steps_per_second"], "1/s"),
        _row("step / bare GEMM time", step["ratio"], "x", f"<= {TARGET_RATIO:g}", step["meets_target"]),
    ]
    title = (f"ntk.lazy-training gradient step: {size.batch} networks, width {size.width}, 8 inputs in R^4, float64, "
             f"1 BLAS thread; best of {size.repeats}")
    return {"area": "lazy_training", "size": asdict(size), "step": step, "title": title, "rows": rows,
            "finite": all(math.isfinite(r["value"]) for r in rows)}
