"""Benchmarks of the workbench's kernels, one module per area: ``python -m benchmarks``.

Each area module has ``run(*, quick=False) -> dict`` returning its measurements and a list
of ``rows`` (``benchmark``, ``value``, ``unit``, ``target``, ``ok``) for the table. A missed
target is reported, never an error: timings depend on the machine, which the report
describes (:func:`machine_info`).
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

__all__ = ["AREAS", "interleaved", "machine_info", "row", "run_all"]

AREAS = ("initialization", "deep_linear", "random_matrices", "coding", "wide_networks", "lazy_training", "sweep",
         "backends")


def interleaved(kernel: Callable[[], Any], bound: Callable[[], Any], repeats: int) -> tuple[list[float], list[float]]:
    """Seconds of ``repeats`` runs of a kernel and of its lower bound, alternated so both see the same machine
    state (call each once first to warm up)."""
    kernel_times, bound_times = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        kernel()
        kernel_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        bound()
        bound_times.append(time.perf_counter() - start)
    return kernel_times, bound_times


def row(benchmark: str, value: float, unit: str, target: str | None = None, ok: bool | None = None) -> dict[str, Any]:
    """One line of an area's table: a measurement, its unit, the target (text) and whether it is met."""
    return {"benchmark": benchmark, "value": float(value), "unit": unit, "target": target, "ok": ok}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas() -> dict[str, Any]:
    """The BLAS numpy uses: threadpoolctl's live view where installed, else numpy's build config."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        pass
    else:
        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            return {"source": "threadpoolctl", "libraries": pools}
    import numpy as np

    try:
        config = np.show_config(mode="dicts")
    except TypeError:  # numpy < 1.25 has no mode
        return {"source": "unknown"}
    deps = config.get("Build Dependencies", {})
    blas = deps.get("blas", {})
    return {
        "source": "numpy.show_config",
        "name": blas.get("name"),
        "version": blas.get("version"),
        "configuration": blas.get("openblas configuration"),
        "lapack": deps.get("lapack", {}).get("name"),
    }


def machine_info() -> dict[str, Any]:
    """Where the numbers were taken: platform, CPUs, Python, NumPy and its BLAS."""
    import numpy as np

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count()
    threads = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ}
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "blas": _blas(),
        "thread_environment": threads,
    }


def run_all(*, quick: bool = False, areas: tuple[str, ...] = AREAS) -> dict[str, Any]:
    """Every area's benchmark (or those named), with the machine and versions."""
    from workbench._version import __version__

    results = {}
    for area in areas:
        module = importlib.import_module(f"{__name__}.{area}")
        results[area] = module.run(quick=quick)
    return {"workbench": __version__, "quick": quick, "machine": machine_info(), "areas": results}
