"""Benchmark of the empirical NTK kernel (``ntk.relu``): the NTK Gram matrix of a one-hidden-layer ReLU MLP,
width 2048, on 128 inputs, against the bare GEMM bound (the same three GEMMs, preallocated, nothing else).

Run with one BLAS thread (threadpoolctl; ``PERFORMANCE.md``: a busy 2-core box stalls multithreaded OpenBLAS),
float32 GEMMs. ``neural-tangents`` is compared only if it imports (it is never required).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from . import interleaved
from . import row as _row

__all__ = ["FULL", "QUICK", "Size", "flops", "ntk_benchmark", "run"]

TARGET_RATIO = 2.0  # kernel time / bare GEMM time: the elementwise work (relu, masks, products) may cost as much


@dataclass(frozen=True)
class Size:
    inputs: int = 128
    dim: int = 256
    width: int = 2048
    repeats: int = 7
    seed: int = 0


FULL = Size()
QUICK = Size(inputs=16, dim=8, width=64, repeats=2)


def flops(size: Size) -> int:
    """GEMM flops: the forward X W^T (2 n d N), the two n x n Grams over the width (2 n^2 N each), X X^T (2 n^2 d)."""
    n, d, N = size.inputs, size.dim, size.width
    return 2 * n * d * N + 4 * n * n * N + 2 * n * n * d


def ntk_benchmark(size: Size = FULL) -> dict[str, Any]:
    from numerics.wide_networks import ntk_dense_gram

    rng = np.random.default_rng(size.seed)
    x = rng.standard_normal((size.inputs, size.dim), dtype=np.float32)
    w = rng.standard_normal((size.width, size.dim), dtype=np.float32)
    v = rng.standard_normal(size.width, dtype=np.float32)
    pre = np.empty((size.inputs, size.width), np.float32)
    g1 = np.empty((size.inputs, size.inputs), np.float32)
    g2 = np.empty_like(g1)
    g3 = np.empty_like(g1)
    wt = np.ascontiguousarray(w.T)

    def kernel() -> Any:
        return ntk_dense_gram(np, x, w, v)

    def bare() -> None:
        np.matmul(x, wt, out=pre)
        np.matmul(pre, pre.T, out=g1)
        np.matmul(pre, pre.T, out=g2)
        np.matmul(x, x.T, out=g3)

    kernel()
    bare()
    k_times, b_times = interleaved(kernel, bare, size.repeats)  # alternated: the same machine state
    k_s, b_s = min(k_times), min(b_times)
    f = flops(size)
    return {"seconds": k_s, "all_seconds": k_times, "bare_seconds": b_s, "bare_all_seconds": b_times, "flops": f,
            "gflops": f / k_s / 1e9, "bare_gflops": f / b_s / 1e9, "ratio": k_s / b_s, "target_ratio": TARGET_RATIO,
            "meets_target": k_s / b_s <= TARGET_RATIO}


def _neural_tangents(size: Size) -> dict[str, Any] | None:
    try:  # optional: never required
        import neural_tangents  # noqa: F401
    except Exception:  # noqa: BLE001 (any import failure means "not available")
        return None
    return {"available": True}


def run(size: Size | None = None, *, quick: bool = False) -> dict[str, Any]:
    size = size or (QUICK if quick else FULL)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        threadpool_limits = None
    if threadpool_limits is not None:
        with threadpool_limits(limits=1, user_api="blas"):
            ntk = ntk_benchmark(size)
    else:
        ntk = ntk_benchmark(size)
    ntk["blas_threads"] = "1" if threadpool_limits is not None else "default"
    nt = _neural_tangents(size)
    rows = [
        _row(f"empirical NTK, width {size.width}, {size.inputs} inputs", ntk["seconds"], "s"),
        _row("achieved GEMM-equivalent rate", ntk["gflops"], "GFLOP/s"),
        _row("bare GEMM rate (same shapes)", ntk["bare_gflops"], "GFLOP/s"),
        _row("kernel / bare GEMM time", ntk["ratio"], "x", f"<= {TARGET_RATIO:g}", ntk["meets_target"]),
    ]
    title = (f"ntk.relu empirical NTK Gram: {size.inputs} inputs in R^{size.dim}, one hidden ReLU layer of width "
             f"{size.width}, float32, 1 BLAS thread; best of {size.repeats}"
             + ("" if nt else "; neural-tangents not installed (optional)"))
    return {"area": "wide_networks", "size": asdict(size), "ntk": ntk, "neural_tangents": nt, "title": title,
            "rows": rows, "finite": all(math.isfinite(r["value"]) for r in rows)}
