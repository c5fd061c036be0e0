"""Sweeps: one claim verified over a grid of parameters, on Dask, cached and resumable.

``wb.sweep("init.he-forward", grid={"fan_in": [64, 128], "depth": range(2, 11, 4)})`` runs one
:func:`~workbench.verify` per grid point and returns a :class:`SweepResult` (``.table`` is a
pandas DataFrame, ``.passed`` the family-wise verdict).

- **Grid**: every value is validated by its :class:`~workbench.Parameter` (text through
  ``Parameter.parse``: ``"64,128,256"`` or a range ``"2:41:2"``, Python's range with the stop
  excluded) and every point against the claim's constraint, before any work.
- **Seeds**: point ``p`` (all the claim's resolved parameters) runs with seed
  ``int(sha256(canonical JSON of [base seed, claim id, sorted p])[:8]) >> 1``, a 63-bit
  integer, so a result depends on the point alone, never on the order of scheduling, the
  number of workers or which other points are in the grid.
- **Execution**: on Dask (the ``distributed`` extra): an existing cluster (``scheduler=``
  address, or ``client=``), else a ``LocalCluster`` of one single-threaded process per core.
  Without Dask, or with ``scheduler="serial"`` (or one point, or ``workers=1``), the points run
  one after another in this process; the results are the same.
- **Store** (``store=DIR``, see :mod:`workbench.store`): finished points are written as they
  arrive and reused by the next sweep; only missing (or corrupted) points are computed.
- **Multiple testing**: each point runs at ``alpha`` and gets its own verdict; the sweep's
  family-wise verdict applies Holm's step-down (default) or Bonferroni to the points'
  p-values at the same ``alpha``. A statistical point's p-value is the two-sided normal tail of
  ``max(|estimate - expected| - tolerance, 0) / stderr`` (it passes on its own iff p >= alpha,
  the verifier's own test); an asymptotic point's is ``min(1, 2 min(p_limit, p_fit))`` (the
  verifier splits alpha in halves); an exact point's is 1 when it holds and 0 when not.
  Holm and Bonferroni always agree on whether the family passes; Holm rejects fewer points.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from numerics import backend as make_backend, check_seed

from .claim_type import Claim
from .statistics import check_alpha, check_resolution
from .store import Store, canonical, from_record, record
from .verdict import Verdict

__all__ = ["sweep", "sweep_figure", "SweepResult", "SchedulerUnreachable", "SerialFallback", "parse_grid", "point_seed",
           "family_wise", "p_value", "METHODS"]

METHODS = ("holm", "bonferroni")
CONNECT_TIMEOUT = 10.0  # seconds to reach a scheduler given by address
HINT = 'Dask is not installed, so the sweep runs serially here; pip install "workbench[distributed]" to run it on every core or a cluster'


class SchedulerUnreachable(ValueError):
    """The Dask scheduler at the given address did not answer in time (one line, CLI exit 2)."""


class SerialFallback(UserWarning):
    """A sweep asked for Dask ran serially because Dask is not installed."""


# -- the grid ---------------------------------------------------------------------------------

def _parse_values(c: Claim, name: str, text: str) -> list[Any]:
    p = c.parameter(name)
    text = text.strip()
    if not text:
        raise ValueError(f"grid {name}= lists no values")
    if ":" in text:
        parts = text.split(":")
        if len(parts) not in (2, 3):
            raise ValueError(f"grid {name}={text!r} must read START:STOP or START:STOP:STEP (Python's range, stop excluded)")
        if p.kind != "integer":
            raise ValueError(f"grid {name}={text!r}: ranges START:STOP:STEP are for integer parameters; list the values of "
                             f"{name} ({p.domain}) separated by commas")
        try:
            bounds = [int(s, 10) for s in parts]
        except ValueError:
            raise ValueError(f"grid {name}={text!r}: START:STOP:STEP must be integers") from None
        if len(bounds) == 3 and bounds[2] == 0:
            raise ValueError(f"grid {name}={text!r}: the step must not be zero")
        values = list(range(*bounds))
        if not values:
            raise ValueError(f"grid {name}={text!r} is an empty range (Python's range: START:STOP:STEP, stop excluded)")
        return [p.validate(v) for v in values]
    return [p.parse(item) for item in text.split(",")]


def parse_grid(c: Claim, grid: Mapping[str, Any] | Iterable[str]) -> dict[str, tuple]:
    """The grid as ``{name: (values...)}``, every value validated by its parameter.

    ``grid`` maps names to iterables of values (or to CLI text ``"64,128"``, ``"2:41:2"``), or
    is a list of CLI items ``"name=values"``. Unknown names raise TypeError naming the claim's
    parameters; malformed or out-of-domain values, repeats and empty axes raise ValueError.
    """
    if isinstance(grid, Mapping):
        items = list(grid.items())
    else:
        items = []
        for item in grid:
            name, sep, text = str(item).partition("=")
            if not sep or not name.strip():
                raise ValueError(f"--grid {item!r} must read NAME=V1,V2,... or NAME=START:STOP[:STEP]")
            items.append((name.strip(), text))
    if not items:
        raise ValueError(f"the grid is empty: give at least one parameter of {c.id} ({c.parameter_names}) to sweep")
    out: dict[str, tuple] = {}
    for name, values in items:
        if not isinstance(name, str):
            raise TypeError(f"grid names are parameter names (strings), not {name!r}")
        p = c.parameter(name)  # TypeError naming the claim's parameters
        if name in out:
            raise ValueError(f"grid parameter {name!r} is given twice")
        if isinstance(values, str):
            parsed = _parse_values(c, name, values)
        else:
            try:
                parsed = [p.validate(v) for v in values]
            except TypeError as exc:
                if not isinstance(values, Iterable):
                    raise TypeError(f"grid {name}={values!r} must be a list or range of values") from None
                raise exc
            if not parsed:
                raise ValueError(f"grid {name} has no values")
        seen = set()
        for v in parsed:
            if v in seen:
                raise ValueError(f"grid {name} repeats the value {v!r}")
            seen.add(v)
        out[name] = tuple(parsed)
    return out


def point_seed(seed: int, claim_id: str, point: Mapping[str, Any]) -> int:
    """The seed of one grid point: a 63-bit integer from SHA-256 of the canonical JSON of
    ``[seed, claim_id, sorted(point.items())]`` (so independent of the scheduling).

    >>> point_seed(0, "init.he-forward", {"depth": 2, "fan_in": 64}) == point_seed(0, "init.he-forward", {"fan_in": 64, "depth": 2})
    True
    """
    text = canonical([seed, claim_id, sorted(point.items())])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


# -- multiple testing ---------------------------------------------------------------------------

def p_value(v: Verdict) -> float:
    """The p-value of one point, consistent with its own verdict (see the module docstring)."""
    if v.kind == "exact":
        return 1.0 if v.passed else 0.0
    excess = max(abs(v.estimate - v.expected) - v.tolerance, 0.0)
    if v.stderr > 0:
        p = math.erfc(excess / v.stderr / math.sqrt(2))
    else:
        p = 1.0 if excess == 0 else 0.0
    if v.kind == "asymptotic" and v.fit is not None:
        p = min(1.0, 2 * min(p, float(v.fit.get("p_value", 1.0))))
    return p


def family_wise(p_values: list[float], alpha: float, method: str = "holm") -> list[bool]:
    """Which hypotheses (points) are rejected at family-wise level ``alpha``: Bonferroni
    rejects p < alpha/m; Holm sorts the p-values and rejects p_(k) < alpha/(m - k) (k = 0, 1, ...)
    until the first that is not."""
    if method not in METHODS:
        raise ValueError(f"method={method!r} is not one of {', '.join(METHODS)}")
    m = len(p_values)
    if method == "bonferroni":
        return [p < alpha / m for p in p_values]
    rejected = [False] * m
    for k, i in enumerate(sorted(range(m), key=lambda j: p_values[j])):
        if p_values[i] >= alpha / (m - k):
            break
        rejected[i] = True
    return rejected


# -- the result -------------------------------------------------------------------------------

@dataclass(frozen=True)
class SweepResult:
    """A finished sweep: one verdict per grid point (in grid order: the last axis fastest)."""

    claim: str
    grid: dict[str, tuple]
    verdicts: tuple[Verdict, ...]
    p_values: tuple[float, ...]
    rejected: tuple[bool, ...]
    method: str
    alpha: float
    seed: int
    resolution: float | None
    backend: str
    executor: str
    computed: int = 0
    reused: int = 0
    recomputed: int = 0  # corrupted store entries that were computed again
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        """The family-wise verdict: no point rejected at family-wise level ``alpha``."""
        return not any(self.rejected)

    @property
    def rows(self) -> list[dict[str, Any]]:
        """One dict per point: its grid values, then the verdict's numbers."""
        out = []
        for v, p, r in zip(self.verdicts, self.p_values, self.rejected, strict=True):
            out.append({
                **{name: v.parameters[name] for name in self.grid},
                "expected": v.expected, "estimate": v.estimate, "stderr": v.stderr,
                "z": v.z, "p_value": p, "resolution": v.resolution, "replicates": v.replicates,
                "passed": v.passed, "family_passed": not r, "seed": v.seed, "seconds": v.seconds,
            })
        return out

    @property
    def table(self):
        """The rows as a pandas DataFrame (pandas comes with the ``distributed`` extra)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError('SweepResult.table needs pandas: pip install "workbench[distributed]" (or use .rows)') from None
        return pd.DataFrame(self.rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``workbench sweep --json``): the family verdict and every point's verdict."""
        return {
            "id": self.claim,
            "grid": {k: list(v) for k, v in self.grid.items()},
            "passed": self.passed,
            "family": {"method": self.method, "alpha": self.alpha, "points": len(self.verdicts),
                       "rejected": sum(self.rejected)},
            "seed": self.seed, "resolution": self.resolution, "backend": self.backend, "executor": self.executor,
            "store": {"computed": self.computed, "reused": self.reused, "recomputed": self.recomputed},
            "points": [{**v.to_dict(), "p_value": p, "family_passed": not r}
                       for v, p, r in zip(self.verdicts, self.p_values, self.rejected, strict=True)],
        }

    def _repr_html_(self) -> str:
        head = f"<p>{self.claim}: {'passed' if self.passed else 'FAILED'} ({self.method}, alpha {self.alpha:g})</p>"
        try:
            return head + self.table._repr_html_()
        except ImportError:
            return head


# -- running ----------------------------------------------------------------------------------

def _point_task(claim_ref: Claim | str, params: dict[str, Any], seed: int, resolution: float, alpha: float,
                backend: str) -> dict[str, Any]:
    """One grid point (runs on a Dask worker or here): the verdict as JSON-ready data."""
    from .verification import verify

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency
        return record(verify(claim_ref, backend=backend, seed=seed, resolution=resolution, alpha=alpha, **params))
    with threadpool_limits(limits=1):
        return record(verify(claim_ref, backend=backend, seed=seed, resolution=resolution, alpha=alpha, **params))


def _dask_available() -> bool:
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def connect(scheduler: str, timeout: float | None = None):
    """A Dask client of the scheduler at ``scheduler``, or SchedulerUnreachable within ``timeout`` s."""
    from distributed import Client

    timeout = CONNECT_TIMEOUT if timeout is None else timeout
    try:
        return Client(scheduler, timeout=f"{timeout}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SchedulerUnreachable(f"cannot reach the Dask scheduler at {scheduler!r} within {timeout:g} s ({reason})") from None


# A Dask nanny sets MALLOC_TRIM_THRESHOLD_ in its workers, which turns off glibc's adaptive mmap threshold:
# every large array is then a fresh mmap, page-faulted in again (measured 1.4x slower verification here). The
# local cluster keeps Dask's one-BLAS-thread settings and leaves malloc alone. Points are independent root tasks,
# so they are all handed to the workers at once (no scheduler round trip between two points of one worker).
WORKER_ENVIRONMENT = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def local_cluster(workers: int | None = None):
    """A ``LocalCluster`` of ``workers`` single-threaded processes (default: one per core) and its client."""
    import dask
    from distributed import Client, LocalCluster

    from .parallel import available_cores

    with dask.config.set({
        "distributed.nanny.pre-spawn-environ": dict(WORKER_ENVIRONMENT),
        "distributed.scheduler.worker-saturation": "inf",  # every point sent at once: no idle round trip between them
        "distributed.worker.profile.enabled": False,  # its 10 ms stack sampling takes the GIL from the verification
    }):
        # dashboard on a free port: with None the scheduler still serves on 8787, and a second cluster on the
        # machine (two sweeps at once) then fails to start
        cluster = LocalCluster(n_workers=workers or available_cores(), threads_per_worker=1, processes=True,
                               dashboard_address=":0")
    return Client(cluster, set_as_default=False), cluster


def sweep(
    claim: Claim | str,
    grid: Mapping[str, Any] | Iterable[str],
    *,
    params: Mapping[str, Any] | None = None,
    seed: int = 0,
    resolution: float | None = None,
    alpha: float = 1e-6,
    backend: str = "numpy",
    method: str = "holm",
    store: str | os.PathLike | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    client: Any = None,
    connect_timeout: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Verify ``claim`` at every point of ``grid`` (the other parameters from ``params`` or
    their defaults); see the module docstring for seeds, execution, store and the family test.

    ``scheduler``: a Dask scheduler address (``"tcp://host:8786"``), ``"serial"`` to run here,
    or None for a LocalCluster of ``workers`` processes (default: one per core) where Dask is
    installed; ``client``: an existing ``distributed.Client`` instead. ``progress(done, total)``
    is called in this process as points finish.

    >>> r = sweep("xent.margin", {"m": [-1.0, 0.0, 2.0]}, params={"K": 3}, scheduler="serial")
    >>> r.passed, [row["passed"] for row in r.rows]
    (True, [True, True, True])
    """
    from .verification import _as_claim

    c = _as_claim(claim)
    axes = parse_grid(c, grid)
    fixed = dict(params or {})
    for name in fixed:
        c.parameter(name)
        if name in axes:
            raise ValueError(f"{name} is both swept (grid) and fixed (params)")
    check_seed(seed)
    resolution = None if resolution is None else check_resolution(resolution)
    alpha = check_alpha(alpha)
    if method not in METHODS:
        raise ValueError(f"method={method!r} is not one of {', '.join(METHODS)}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers={workers!r} is outside the domain: integer >= 1")
    if scheduler is not None and not isinstance(scheduler, str):
        raise TypeError(f"scheduler={scheduler!r} must be an address such as 'tcp://host:8786', or 'serial'")
    if workers is not None and scheduler not in (None, "serial"):
        raise ValueError("workers sizes the local cluster; an existing cluster at a scheduler address has its own")
    if client is not None and scheduler is not None:
        raise ValueError("give a Dask client or a scheduler address, not both")
    points = []
    for combo in itertools.product(*axes.values()):
        values = {**fixed, **dict(zip(axes, combo, strict=True))}
        points.append(c.resolve(values))  # every point checked (domains, constraints) before any work
    make_backend(backend, seed)  # an unusable backend fails now
    st = Store(store) if store is not None else None
    if st is not None:
        st.check(c.id)

    ref = c  # the claim itself travels to the workers (cloudpickle), so a user's own claim needs no registry there
    from ._version import __version__

    closed_form = str(c.closed_form)

    seeds = [point_seed(seed, c.id, p) for p in points]
    keys = [{
        "claim": c.id, "closed_form": closed_form, "parameters": p, "seed": seed,
        "point_seed": s, "backend": backend, "resolution": resolution, "alpha": alpha, "version": __version__,
    } for p, s in zip(points, seeds, strict=True)]
    keys = [_json_key(k) for k in keys]

    m = len(points)
    results: list[Verdict | None] = [None] * m
    reused = recomputed = 0
    for i, key in enumerate(keys):
        if st is None:
            continue
        v, corrupt = st.load(key)
        if v is not None:
            results[i] = v
            reused += 1
        elif corrupt:
            recomputed += 1
    todo = [i for i in range(m) if results[i] is None]
    done = m - len(todo)
    if progress is not None:
        progress(done, m)

    def finish(i: int, data: dict[str, Any]) -> None:
        nonlocal done
        v = from_record(data)
        results[i] = v
        if st is not None:
            st.save(keys[i], v)
        done += 1
        if progress is not None:
            progress(done, m)

    notes: list[str] = []
    serial = client is None and (scheduler == "serial" or len(todo) <= 1 or (scheduler is None and workers == 1))
    if not serial and client is None and not _dask_available():
        if scheduler is not None:
            raise ImportError('a scheduler address needs Dask, which is not installed: pip install "workbench[distributed]"')
        warnings.warn(HINT, SerialFallback, stacklevel=2)
        notes.append(HINT)
        serial = True
    if serial:
        executor = "serial"
        for i in todo:
            finish(i, _point_task(ref, points[i], seeds[i], resolution, alpha, backend))
    else:
        own = cluster = None
        if client is None:
            if scheduler is not None:
                own = client = connect(scheduler, CONNECT_TIMEOUT if connect_timeout is None else connect_timeout)
                executor = f"dask {scheduler}"
            else:
                own, cluster = local_cluster(workers)
                client = own
                executor = f"dask LocalCluster ({len(cluster.workers)} workers)"
        else:
            executor = f"dask {getattr(client.scheduler, 'address', 'client')}"
        try:
            _run_dask(client, todo, ref, points, seeds, resolution, alpha, backend, finish)
        finally:
            if own is not None:
                own.close()
            if cluster is not None:
                cluster.close()
    verdicts = tuple(v for v in results if v is not None)
    ps = tuple(p_value(v) for v in verdicts)
    return SweepResult(
        claim=c.id, grid=axes, verdicts=verdicts, p_values=ps, rejected=tuple(family_wise(list(ps), alpha, method)),
        method=method, alpha=alpha, seed=seed, resolution=resolution, backend=backend, executor=executor,
        computed=len(todo), reused=reused, recomputed=recomputed, notes=tuple(notes),
    )


def _json_key(key: dict[str, Any]) -> dict[str, Any]:
    """The key as it reads back from JSON (so a stored key compares equal)."""
    return json.loads(canonical(key))


def _run_dask(client, todo, ref, points, seeds, resolution, alpha, backend, finish) -> None:
    """Submit one task per missing point and store each result as it arrives. A task whose
    worker dies is rescheduled by Dask on another worker (its seed is its own, so the result
    is the same)."""
    import uuid

    from distributed import as_completed

    run = uuid.uuid4().hex
    futures = {}
    for i in todo:
        f = client.submit(_point_task, ref, points[i], seeds[i], resolution, alpha, backend, pure=False,
                          key=f"workbench-sweep-{run}-{i}")
        futures[f] = i
    try:
        for f in as_completed(futures, loop=client.loop):
            finish(futures[f], f.result())
    finally:
        for f in futures:
            f.cancel()


# -- the figure ---------------------------------------------------------------------------------

def sweep_figure(result: SweepResult):
    """The sweep drawn (``workbench plot --sweep``): estimates (+-1 s.e., or the tolerance of an
    exact check) and the closed form against the first numeric grid axis, one series per
    combination of the other axes (at most 8); below, each point's standardised deviation z
    (exact checks: deviation / tolerance). Points rejected family-wise are red crosses."""
    import numpy as np

    from .figures.style import new_figure, styled

    names = list(result.grid)
    numeric = [n for n in names if all(isinstance(x, (int, float)) for x in result.grid[n])]
    xname = numeric[0] if numeric else names[0]
    others = [n for n in names if n != xname]
    groups: dict[tuple, list[int]] = {}
    for i, v in enumerate(result.verdicts):
        groups.setdefault(tuple(v.parameters[n] for n in others), []).append(i)
    if len(groups) > 8:
        raise ValueError(f"the sweep has {len(groups)} series along {xname} (one per value of {', '.join(others)}); "
                         "a figure draws at most 8: sweep fewer values of the other axes")
    with styled():
        fig, (top, bottom) = new_figure(2, height=3.2, ratios=(2.2, 1))
        for k, (combo, idx) in enumerate(groups.items()):
            vs = [result.verdicts[i] for i in idx]
            xs = np.arange(len(vs)) if xname not in numeric else np.array([float(v.parameters[xname]) for v in vs])
            err = np.array([v.stderr if v.kind != "exact" else v.tolerance for v in vs])
            label = ", ".join(f"{n} = {x}" for n, x in zip(others, combo, strict=True)) or "estimate"
            color = f"C{k % 10}"
            top.plot(xs, [v.expected for v in vs], color=color, lw=0.8)
            top.errorbar(xs, [v.estimate for v in vs], yerr=err, fmt="o", color=color, ms=3, elinewidth=0.8, label=label)
            z = np.array([v.z if math.isfinite(v.z) else np.nan for v in vs])
            bottom.plot(xs, z, "o-", color=color, ms=3, lw=0.6)
            bad = [j for j, i in enumerate(idx) if result.rejected[i]]
            if bad:
                top.plot(xs[bad], [vs[j].estimate for j in bad], "x", color="red", ms=7)
                bottom.plot(xs[bad], z[bad], "x", color="red", ms=7)
            if xname not in numeric:
                bottom.set_xticks(xs, [str(v.parameters[xname]) for v in vs])
        bottom.axhline(0.0, color="k", lw=0.6)
        if xname in numeric and all(isinstance(x, int) for x in result.grid[xname]):
            from matplotlib.ticker import MaxNLocator

            bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
        top.set_ylabel("closed form (lines), estimates")
        bottom.set_ylabel("z")
        bottom.set_xlabel(xname)
        top.legend()
        fig.set_label(
            f"Sweep of {result.claim}: closed form (lines) and estimates (points) along {xname}; below, the standardised "
            f"deviation z. Family-wise verdict ({result.method}, alpha {result.alpha:g}): "
            f"{'passed' if result.passed else 'failed'}.")
    return fig
