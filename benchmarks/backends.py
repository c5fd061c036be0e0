"""The workbench as a whole, and across array backends (issue 9's targets).

- ``verify all``: seconds for :func:`workbench.verify_many` over every registered claim at its defaults
  and the default resolution, claims side by side on every core (as ``workbench verify`` runs them);
  target <= 60 s on 2 CPU cores. Each claim's seconds are in the report.
- ``memory``: the peak memory of one streamed dense forward pass of ``init.he-forward``
  (``tracemalloc``, which NumPy reports its buffers to) against one layer's batched float32 weights,
  ``B n^2`` x 4 bytes; target <= 2x: the pass never holds more than the layer being applied.
- ``backends``: the same dense pass (``fan_in=1024, depth=20``) on every usable backend (NumPy on the
  CPU cores, PyTorch, CuPy), seconds per network; on a GPU, the speed-up over NumPy on the CPU (target
  >= 20x). Device work is synchronised before the clock stops (the statistics are copied to the host).
"""

from __future__ import annotations

import time
import tracemalloc
from dataclasses import asdict, dataclass
from typing import Any

from . import row

__all__ = ["FULL", "QUICK", "Size", "backend_benchmark", "memory_benchmark", "run", "verify_all_benchmark"]

VERIFY_ALL_TARGET_S = 60.0
MEMORY_TARGET = 2.0
GPU_TARGET_SPEEDUP = 20.0


@dataclass(frozen=True)
class Size:
    fan_in: int = 1024
    depth: int = 20
    batch: int = 16  # networks per dense pass: 16 x 1024^2 float32 weights = 64 MiB per layer
    repeats: int = 3
    claims: tuple[str, ...] | None = None  # None: every registered claim
    jobs: int | None = None  # None: every core
    seed: int = 0


FULL = Size()
QUICK = Size(fan_in=32, depth=4, batch=4, repeats=1, claims=("xent.margin", "init.gain"), jobs=1)


def verify_all_benchmark(size: Size = FULL) -> dict[str, Any]:
    import workbench as wb
    from workbench.settings import available_cores

    jobs = size.jobs or available_cores()
    start = time.perf_counter()
    verdicts = wb.verify_many(list(size.claims) if size.claims else None, seed=size.seed, jobs=jobs)
    seconds = time.perf_counter() - start
    return {
        "claims": len(verdicts),
        "jobs": jobs,
        "seconds": seconds,
        "passed": all(v.passed for v in verdicts),
        "per_claim_seconds": {v.id: round(v.seconds, 3) for v in verdicts},
        "target_seconds": VERIFY_ALL_TARGET_S,
        "meets_target": seconds <= VERIFY_ALL_TARGET_S,
    }


def _dense(name: str, size: Size, depth: int | None = None):
    from numerics import backend
    from numerics.initialization import relu_network
    from numerics.namespaces import to_host

    b = backend(name, size.seed)

    def once() -> None:
        stats = relu_network(b.xp, b.rng, size.batch, fan_in=size.fan_in, depth=depth or size.depth, c=2.0,
                             method="dense")
        to_host(stats[0])  # synchronises a device

    return b, once


def memory_benchmark(size: Size = FULL) -> dict[str, Any]:
    """Peak traced memory of one dense pass (NumPy) over one layer's batched float32 weights."""
    _, once = _dense("numpy", size)
    once()  # warm-up outside the trace
    tracemalloc.start()
    try:
        once()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    layer = size.batch * size.fan_in * size.fan_in * 4
    ratio = peak / layer
    return {"batch": size.batch, "fan_in": size.fan_in, "depth": size.depth, "peak_bytes": peak,
            "layer_bytes": layer, "ratio": ratio, "target_ratio": MEMORY_TARGET, "meets_target": ratio <= MEMORY_TARGET}


def backend_benchmark(size: Size = FULL) -> dict[str, Any]:
    """Seconds per dense pass on each usable backend, best of ``repeats`` after a warm-up."""
    from numerics import BackendUnavailable

    out: dict[str, Any] = {}
    for name in ("numpy", "torch", "cupy"):
        try:
            b, once = _dense(name, size)
        except BackendUnavailable as exc:
            out[name] = {"usable": False, "why": str(exc)}
            continue
        _dense(name, size, depth=1)[1]()  # warm-up: allocator, kernels, BLAS threads
        times = []
        for _ in range(size.repeats):
            start = time.perf_counter()
            once()
            times.append(time.perf_counter() - start)
        best = min(times)
        out[name] = {"usable": True, "device": b.device, "seconds": best, "all_seconds": times,
                     "networks_per_second": size.batch / best}
    cpu = out["numpy"]["seconds"]
    for entry in out.values():
        if entry.get("usable"):
            entry["speedup_over_numpy_cpu"] = cpu / entry["seconds"]
    gpus = [n for n, e in out.items() if e.get("usable") and "cuda" in e["device"]]
    out["gpu"] = {n: {"speedup": out[n]["speedup_over_numpy_cpu"], "target": GPU_TARGET_SPEEDUP,
                      "meets_target": out[n]["speedup_over_numpy_cpu"] >= GPU_TARGET_SPEEDUP} for n in gpus}
    return out


def run(size: Size | None = None, *, quick: bool = False) -> dict[str, Any]:
    size = size or (QUICK if quick else FULL)
    verify = verify_all_benchmark(size)
    memory = memory_benchmark(size)
    backends = backend_benchmark(size)
    rows = [
        row(f"workbench verify: {verify['claims']} claims, {verify['jobs']} jobs", verify["seconds"], "s",
            f"<= {VERIFY_ALL_TARGET_S:g} s", verify["meets_target"]),
        row(f"dense pass peak memory / one layer's weights ({memory['layer_bytes'] / 2**20:.3g} MiB)", memory["ratio"],
            "x", f"<= {MEMORY_TARGET:g}", memory["meets_target"]),
    ]
    for name in ("numpy", "torch", "cupy"):
        entry = backends[name]
        if entry["usable"]:
            rows.append(row(f"dense pass on {name} ({entry['device']})", entry["seconds"], "s"))
    for name, gpu in backends["gpu"].items():
        rows.append(row(f"GPU speed-up, {name} over NumPy on the CPU", gpu["speedup"], "x",
                        f">= {GPU_TARGET_SPEEDUP:g}", gpu["meets_target"]))
    if not backends["gpu"]:
        rows.append(row("GPU speed-up (no usable GPU on this machine)", float("nan"), "x",
                        f">= {GPU_TARGET_SPEEDUP:g}"))
    title = (f"every claim verified; init.he-forward dense pass fan_in={size.fan_in}, depth={size.depth}, "
             f"batch {size.batch}, on each backend")
    return {"area": "backends", "size": asdict(size), "verify_all": verify, "memory": memory, "backends": backends,
            "title": title, "rows": rows}
