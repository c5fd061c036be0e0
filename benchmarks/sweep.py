"""Benchmark of ``wb.sweep`` on local processes (the default executor) and on a local Dask cluster,
against the same sweep run serially.

At full size: a 64-point sweep of ``init.he-forward`` (``depth = 2:34:2`` x ``c = 1.6, 1.8, 2.0, 2.2``,
fan-in 256, resolution 2%: tens to hundreds of milliseconds per point) on a
``LocalCluster`` of 2 single-threaded worker processes, against the serial sweep in this process.
Reported:

- **speed-up**: serial seconds / Dask seconds on the warm cluster (target >= 1.7 on 2 cores); the
  cluster's start-up is reported beside it (paid once per ``workbench sweep`` command, not per point);
  and serial seconds / seconds on as many forked local processes (start-up included: they are
  forked per sweep);
- **overhead per task**: ``(workers x Dask seconds - serial seconds) / points``, the worker time each
  point costs beyond its own computation (target < 20 ms), and the round trip of a no-op task
  (submit, run, gather) measured on the same cluster.

Both sweeps use the same seeds, and the benchmark checks that their tables agree. The two are
interleaved (Dask, serial, Dask, serial) and the best of each is kept.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["FULL", "QUICK", "Size", "run"]

TARGET_SPEEDUP = 1.7
TARGET_OVERHEAD_MS = 20.0


@dataclass(frozen=True)
class Size:
    depths: str = "2:34:2"
    cs: tuple = (1.6, 1.8, 2.0, 2.2)
    fan_in: int = 256
    resolution: float = 0.02
    workers: int = 2
    noops: int = 256
    repeats: int = 2
    seed: int = 0


FULL = Size()
QUICK = Size(depths="2:6:2", cs=(1.8, 2.2), resolution=0.05, noops=16, repeats=1)


def _noop(i: int) -> int:
    return i


def run(*, quick: bool = False, size: Size | None = None) -> dict[str, Any]:
    """Time the sweep serially and on a local cluster (see the module docstring)."""
    from distributed import as_completed

    import workbench as wb
    from workbench.executors import local_cluster

    size = size or (QUICK if quick else FULL)
    grid = {"depth": size.depths, "c": list(size.cs)}
    settings = {"params": {"fan_in": size.fan_in}, "seed": size.seed, "resolution": size.resolution}
    wb.sweep("init.he-forward", {"depth": [2]}, scheduler="serial", **settings)  # warm: imports, derivation caches
    start = time.perf_counter()
    client, cluster = local_cluster(size.workers)
    client.wait_for_workers(size.workers)
    startup_s = time.perf_counter() - start
    serial_s = dask_s = local_s = math.inf
    try:
        wb.sweep("init.he-forward", {"depth": [2, 4], "c": [2.0]}, client=client, **settings)  # warm the workers
        for _ in range(size.repeats):  # interleaved, best of each: a busy neighbour slows both alike
            start = time.perf_counter()
            on_dask = wb.sweep("init.he-forward", grid, client=client, **settings)
            dask_s = min(dask_s, time.perf_counter() - start)
            start = time.perf_counter()
            serial = wb.sweep("init.he-forward", grid, scheduler="serial", **settings)
            serial_s = min(serial_s, time.perf_counter() - start)
            start = time.perf_counter()
            local = wb.sweep("init.he-forward", grid, jobs=size.workers, **settings)
            local_s = min(local_s, time.perf_counter() - start)
        points = len(serial.verdicts)
        start = time.perf_counter()
        futures = [client.submit(_noop, i, pure=False) for i in range(size.noops)]
        for f in as_completed(futures, loop=client.loop):
            f.result()
        noop_s = time.perf_counter() - start
    finally:
        client.close()
        cluster.close()

    def strip(result):
        return [{k: v for k, v in row.items() if k != "seconds"} for row in result.rows]

    agree = strip(serial) == strip(on_dask) == strip(local)
    speedup = serial_s / dask_s
    local_speedup = serial_s / local_s
    overhead_ms = 1e3 * max(size.workers * dask_s - serial_s, 0.0) / points
    noop_ms = 1e3 * noop_s / size.noops
    rows = [
        {"benchmark": f"sweep of {points} points, serial", "value": serial_s, "unit": "s", "target": "", "ok": None},
        {"benchmark": f"same sweep on a LocalCluster of {size.workers} workers", "value": dask_s, "unit": "s",
         "target": "", "ok": None},
        {"benchmark": "speed-up (serial / Dask)", "value": speedup, "unit": "x", "target": f">= {TARGET_SPEEDUP}",
         "ok": speedup >= TARGET_SPEEDUP},
        {"benchmark": f"same sweep on {size.workers} local processes (fork included)", "value": local_s, "unit": "s",
         "target": "", "ok": None},
        {"benchmark": "speed-up (serial / local processes)", "value": local_speedup, "unit": "x",
         "target": f">= {TARGET_SPEEDUP}", "ok": local_speedup >= TARGET_SPEEDUP},
        {"benchmark": "overhead per task: (workers x Dask - serial) / points", "value": overhead_ms, "unit": "ms",
         "target": f"< {TARGET_OVERHEAD_MS:g}", "ok": overhead_ms < TARGET_OVERHEAD_MS},
        {"benchmark": f"no-op task round trip ({size.noops} tasks)", "value": noop_ms, "unit": "ms", "target": "",
         "ok": None},
        {"benchmark": "LocalCluster start-up (once per sweep command)", "value": startup_s, "unit": "s", "target": "",
         "ok": None},
    ]
    return {
        "title": "wb.sweep on local processes and on a local Dask cluster against serial",
        "size": asdict(size),
        "points": points,
        "serial_seconds": serial_s,
        "dask_seconds": dask_s,
        "local_seconds": local_s,
        "local_speedup": local_speedup,
        "startup_seconds": startup_s,
        "speedup": speedup,
        "overhead_ms_per_task": overhead_ms,
        "noop_round_trip_ms": noop_ms,
        "tables_agree": agree,
        "meets_target": speedup >= TARGET_SPEEDUP and overhead_ms < TARGET_OVERHEAD_MS,
        "rows": [r for r in rows if r["value"] > 0] if quick else rows,
    }


if __name__ == "__main__":  # pragma: no cover
    import json
    import sys

    report = run(quick="--quick" in sys.argv)
    print(json.dumps({k: v for k, v in report.items() if k != "rows"}, indent=2))
