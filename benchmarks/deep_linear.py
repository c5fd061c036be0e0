"""Benchmark of the ``deeplinear.no-bad-minima`` kernel: batched gradient descent on deep linear networks.

At full size: 1000 independent runs of a depth-4, width-32 linear network (32 inputs, 32 outputs) on
256 samples each, 2000 full-batch gradient steps, float32 weights stacked as one ``(runs, out, in)``
tensor per layer (:func:`numerics.linear_descent.gd_step`). Reported: seconds, achieved
GFLOP/s (counting the matmuls' ``2 m n k`` flops: forward one per layer, backward two per layer but
the first layer's back-propagated error, which is skipped), and its ratio to the bare batched-matmul
rate measured in the same run on the same shapes (``np.matmul`` into preallocated outputs, nothing
else). Target: ratio >= 0.6. Timings are the best of ``repeats``, after a warm-up.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from . import interleaved
from . import row as _row

__all__ = ["FULL", "QUICK", "Size", "flops_per_step", "gd_benchmark", "run"]

TARGET_RATIO = 0.6


@dataclass(frozen=True)
class Size:
    runs: int = 1000
    depth: int = 4
    width: int = 32
    samples: int = 256
    steps: int = 2000
    repeats: int = 1  # a full run is minutes; the kernel and the bare matmuls are interleaved per repeat
    seed: int = 0


FULL = Size()
QUICK = Size(runs=8, depth=3, width=4, samples=16, steps=20, repeats=1)


def flops_per_step(size: Size) -> int:
    """Matmul flops of one gradient step over all runs."""
    w, n, depth = size.width, size.samples, size.depth
    per_run = depth * 2 * w * w * n  # forward
    per_run += depth * 2 * w * w * n  # weight gradients
    per_run += (depth - 1) * 2 * w * w * n  # back-propagated errors (not through the first layer)
    return size.runs * per_run


def _bare(weights, acts, outs, grads, delta, size: Size) -> None:
    """The same batched matmuls into preallocated outputs, nothing else."""
    for _ in range(size.steps):
        for layer, w in enumerate(weights):
            np.matmul(w, acts[layer], out=outs[layer])
        for layer in range(size.depth - 1, -1, -1):
            np.matmul(delta, acts[layer].transpose(0, 2, 1), out=grads[layer])
            if layer:
                np.matmul(weights[layer].transpose(0, 2, 1), delta, out=outs[layer - 1])


def gd_benchmark(size: Size = FULL) -> dict[str, Any]:
    from numerics import backend
    from numerics.deep_linear_training import init_weights, widths_of
    from numerics.linear_descent import gd_step, workspace

    rng = backend("numpy", size.seed).rng
    widths = widths_of(size.depth, size.width, size.width, size.width)
    x = rng.standard_normal((size.runs, size.width, size.samples), dtype=np.float32)
    y = rng.standard_normal((size.runs, size.width, size.samples), dtype=np.float32)
    lr = 0.05 / size.depth

    def kernel() -> None:
        weights = init_weights(np, rng, size.runs, widths)
        work = workspace(np, weights, x)
        for _ in range(size.steps):
            gd_step(np, weights, x, y, lr, work)

    weights = init_weights(np, rng, size.runs, widths)
    acts = [x] + [np.empty((size.runs, size.width, size.samples), np.float32) for _ in range(size.depth)]
    outs = acts[1:]
    grads = [np.empty_like(w) for w in weights]
    delta = np.ones((size.runs, size.width, size.samples), np.float32)

    def bare() -> None:
        _bare(weights, acts, outs, grads, delta, size)

    warm = Size(**{**asdict(size), "steps": 2})
    _bare(weights, acts, outs, grads, delta, warm)
    gd_step(np, init_weights(np, rng, size.runs, widths), x, y, lr)
    kernel_times, bare_times = interleaved(kernel, bare, size.repeats)  # alternated: the same machine state
    flops = flops_per_step(size) * size.steps
    k_s, b_s = min(kernel_times), min(bare_times)
    ratio = (flops / k_s) / (flops / b_s)
    return {
        "seconds": k_s,
        "all_seconds": kernel_times,
        "gflops": flops / k_s / 1e9,
        "bare_seconds": b_s,
        "bare_all_seconds": bare_times,
        "bare_gflops": flops / b_s / 1e9,
        "flops": flops,
        "ratio": ratio,
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio >= TARGET_RATIO,
    }


def run(size: Size | None = None, *, quick: bool = False) -> dict[str, Any]:
    size = size or (QUICK if quick else FULL)
    gd = gd_benchmark(size)
    rows = [
        _row(f"{size.runs} GD runs x {size.steps} steps", gd["seconds"], "s"),
        _row("achieved matmul rate", gd["gflops"], "GFLOP/s"),
        _row("bare batched matmul rate", gd["bare_gflops"], "GFLOP/s"),
        _row("achieved / bare rate", gd["ratio"], "x", f">= {TARGET_RATIO:g}", gd["meets_target"]),
    ]
    title = (
        f"deeplinear.no-bad-minima kernel: {size.runs} runs, depth {size.depth}, width {size.width}, "
        f"{size.samples} samples, {size.steps} steps, float32; best of {size.repeats}"
    )
    return {"area": "deep_linear", "size": asdict(size), "gd": gd, "title": title, "rows": rows}
