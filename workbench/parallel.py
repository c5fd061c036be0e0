"""Independent claims in parallel processes: ``workbench verify --jobs N`` and ``workbench latex``.

Each claim's verdict depends only on its own seed, so verifying claims (and drawing their
figures) in separate processes gives the same verdicts as one after the other. Workers are
forked (they inherit the registry, including a user's own claims) and each is limited to one
BLAS thread, so ``N`` processes use ``N`` cores rather than fighting over them. Where fork is
unavailable (Windows, macOS's default), for the CuPy backend (a GPU context must not be
forked), or for ``jobs=1``, the work runs in this process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

__all__ = ["available_cores", "check_jobs", "pmap"]

_TASK: Callable[[int], Any] | None = None  # the forked workers' task (inherited: closures need no pickling)


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def check_jobs(jobs: object) -> int:
    """``jobs`` as a positive int; ``None`` means every available core."""
    if jobs is None:
        return available_cores()
    if isinstance(jobs, bool) or not isinstance(jobs, int):
        raise TypeError(f"jobs={jobs!r} must be a positive integer (or None for every core)")
    if jobs < 1:
        raise ValueError(f"jobs={jobs} is outside the domain: integer >= 1")
    return jobs


def _one_blas_thread() -> None:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return
    threadpool_limits(limits=1)


def _call(i: int) -> Any:
    assert _TASK is not None
    return _TASK(i)


def pmap(task: Callable[[int], Any], n: int, jobs: int, backend: str = "numpy",
         done: Callable[[int], None] | None = None) -> list[Any]:
    """``[task(0), ..., task(n - 1)]``, in up to ``jobs`` forked processes; ``done(i)`` is called
    in this process as each finishes. The first exception raised by a task is raised here."""
    global _TASK
    serial = jobs <= 1 or n <= 1 or backend != "numpy" or "fork" not in multiprocessing.get_all_start_methods()
    if serial:
        out = []
        for i in range(n):
            out.append(task(i))
            if done is not None:
                done(i)
        return out
    _TASK = task
    try:
        results: list[Any] = [None] * n
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=min(jobs, n), mp_context=context, initializer=_one_blas_thread) as pool:
            futures = {pool.submit(_call, i): i for i in range(n)}
            try:
                for future in as_completed(futures):
                    i = futures[future]
                    results[i] = future.result()
                    if done is not None:
                        done(i)
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)  # nothing more is started after a failure
                raise
        return results
    finally:
        _TASK = None
