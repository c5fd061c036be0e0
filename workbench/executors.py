"""Executors: one interface that carries out a :class:`~workbench.plan.Plan`, here or elsewhere.

- :class:`Serial` runs the tasks one after another in this process;
- :class:`Processes` runs them in forked local processes (inheriting the registry, a user's own
  claims included), relaying each task's progress to this process;
- :class:`Dask` runs them on a Dask cluster: one at an address, a ``Client`` given, or a
  ``LocalCluster`` of single-threaded processes (the scale-out path; the ``distributed`` extra;
  reaching a scheduler, checked and probed under a deadline, is :mod:`workbench.dask_cluster`).

Each task's verdict depends on the task alone (its seed is its own), so every executor returns
the same verdicts. An exception in this process (a failed task, Ctrl-C, or the command line's
SIGTERM turned into one) stops the workers before it propagates. **One BLAS policy:** a worker
process runs one BLAS thread (``N`` processes use ``N`` cores instead of fighting over them); the
serial executor leaves this process alone.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import Any

from .dask_cluster import (
    CONNECT_TIMEOUT,
    WORKER_ENVIRONMENT,
    SchedulerUnreachable,
    connect,
    dask_installed,
    local_cluster,
    quiet_dask,
    unguarded_script,
)
from .errors import DomainError, InputTypeError
from .plan import Task
from .progress import Reporter
from .settings import available_cores

__all__ = [
    "CONNECT_TIMEOUT",
    "WORKER_ENVIRONMENT",
    "Dask",
    "Executor",
    "Processes",
    "SchedulerUnreachable",
    "Serial",
    "choose",
    "connect",
    "dask_installed",
    "local_cluster",
    "one_blas_thread",
]

Work = Callable[[Task, Reporter], Any]


@contextmanager
def one_blas_thread():
    """The BLAS policy of a worker process: one thread inside the block."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


class Executor:
    """Runs ``work(task, reporter)`` for every task; :meth:`run` yields ``(index, result)`` as each
    finishes (in any order). The first exception raised by a task is raised here."""

    name = "executor"

    def run(self, work: Work, tasks: Sequence[Task], reporter: Reporter) -> Iterator[tuple[int, Any]]:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the executor started (processes, a cluster)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Serial(Executor):
    name = "serial"

    def run(self, work: Work, tasks: Sequence[Task], reporter: Reporter) -> Iterator[tuple[int, Any]]:
        for i, task in enumerate(tasks):
            yield i, work(task, _Indexed(reporter, i))


class _Indexed(Reporter):
    """The run's reporter seen from task ``i`` (the verifier reports as task 0 of its own)."""

    def __init__(self, reporter: Reporter, i: int) -> None:
        self.reporter, self.i = reporter, i

    def phase(self, i: int, text: str) -> None:
        self.reporter.phase(self.i, text)

    def advance(self, i: int, done: int, total: int) -> None:
        self.reporter.advance(self.i, done, total)

    def warn(self, i: int, text: str) -> None:
        self.reporter.warn(self.i, text)


# -- local processes ---------------------------------------------------------------------------

_WORK: tuple[Work, Sequence[Task], Any] | None = None  # inherited by the forked workers (no pickling of claims)


class _Relay(Reporter):
    """A worker's reporter: events go to the parent through a queue (advances at most 10 per second)."""

    def __init__(self, channel: Any, i: int) -> None:
        self.channel, self.i, self.last = channel, i, 0.0

    def phase(self, i: int, text: str) -> None:
        self.channel.put(("phase", self.i, text))

    def advance(self, i: int, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last >= 0.1 or done >= total:
            self.last = now
            self.channel.put(("advance", self.i, done, total))

    def warn(self, i: int, text: str) -> None:
        self.channel.put(("warn", self.i, text))


def _worker_start(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops the workers
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a handler inherited from the parent's CLI must not outlive it
    _die_with(parent)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


def _die_with(parent: int) -> None:
    """On Linux, ask the kernel to SIGTERM this worker when its parent dies, so a parent killed outright
    (SIGKILL, which no handler sees) leaves no orphan computing on; elsewhere a no-op."""
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux (no prctl in the C library)
        return
    pr_set_pdeathsig = 1
    prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)


def _worker_call(i: int) -> Any:
    assert _WORK is not None
    work, tasks, channel = _WORK
    return work(tasks[i], _Relay(channel, i))


def _relay(channel: Any, reporter: Reporter) -> None:
    while True:
        try:
            event = channel.get_nowait()
        except queue.Empty:
            return
        getattr(reporter, event[0])(*event[1:])


class Processes(Executor):
    """Up to ``processes`` forked workers; where fork is unavailable (Windows, macOS's default) or
    the backend holds a device context that must not be forked (CuPy, PyTorch), the tasks run
    serially here instead."""

    def __init__(self, processes: int | None = None) -> None:
        self.processes = available_cores() if processes is None else processes
        self.name = f"{self.processes} local processes"

    @staticmethod
    def usable(backend: str) -> bool:
        return backend == "numpy" and "fork" in multiprocessing.get_all_start_methods()

    def run(self, work: Work, tasks: Sequence[Task], reporter: Reporter) -> Iterator[tuple[int, Any]]:
        global _WORK
        if self.processes <= 1 or len(tasks) <= 1 or not all(self.usable(t.settings.backend) for t in tasks):
            yield from Serial().run(work, tasks, reporter)
            return
        context = multiprocessing.get_context("fork")
        channel = _Channel(context.SimpleQueue())
        _WORK = (work, tasks, channel)
        before = set(multiprocessing.active_children())
        pool = ProcessPoolExecutor(max_workers=min(self.processes, len(tasks)), mp_context=context,
                                   initializer=_worker_start, initargs=(os.getpid(),))
        try:
            pending = {pool.submit(_worker_call, i): i for i in range(len(tasks))}
            while pending:
                finished, _ = wait(pending, timeout=0.05, return_when=FIRST_COMPLETED)
                _relay(channel, reporter)
                for future in finished:
                    yield pending.pop(future), future.result()  # a task's exception (or a dead worker) is raised here
        except BaseException:
            # Ctrl-C, a failed task or a consumer that stopped: start nothing more, stop the running tasks
            pool.shutdown(wait=False, cancel_futures=True)
            for child in set(multiprocessing.active_children()) - before:
                child.terminate()
            raise
        finally:
            pool.shutdown(wait=True)
            _WORK = None


class _Channel:
    """A queue with ``get_nowait`` over multiprocessing's SimpleQueue (which has ``empty``/``get`` only)."""

    def __init__(self, q: Any) -> None:
        self.q = q

    def put(self, item: Any) -> None:
        self.q.put(item)

    def get_nowait(self) -> Any:
        if self.q.empty():
            raise queue.Empty
        return self.q.get()


# -- Dask --------------------------------------------------------------------------------------

def _dask_call(work: Work, task: Task) -> Any:
    with one_blas_thread():
        return work(task, Reporter())


class Dask(Executor):
    """Tasks on a Dask cluster: ``client`` (an existing ``distributed.Client``), ``scheduler`` (an
    address, which must answer within ``timeout`` seconds: connection, handshake and first reply;
    see :func:`~workbench.dask_cluster.connect`), or neither for a ``LocalCluster`` of ``processes``
    single-threaded workers. A task whose worker dies is rescheduled by Dask on another worker."""

    def __init__(self, *, client: Any = None, scheduler: str | None = None, processes: int | None = None,
                 timeout: float | None = None) -> None:
        if client is not None and scheduler is not None:
            raise DomainError("give a Dask client or a scheduler address, not both")
        if scheduler is not None and not isinstance(scheduler, str):
            raise InputTypeError(f"scheduler={scheduler!r} must be an address such as 'tcp://host:8786'")
        if not dask_installed():
            raise DomainError('Dask is not installed: pip install "workbench[distributed]" (or run without a scheduler)')
        self.client, self.cluster, self.own = client, None, client is None
        if client is not None:
            self.name = f"dask {getattr(client.scheduler, 'address', 'client')}"
        elif scheduler is not None:
            self.client = connect(scheduler, CONNECT_TIMEOUT if timeout is None else timeout)
            self.name = f"dask {scheduler}"
        else:
            if unguarded_script():
                raise DomainError('a Dask LocalCluster starts processes that import your script again: put the call '
                                 'under  if __name__ == "__main__":  (or leave out the scheduler to use local processes)')
            self.client, self.cluster = local_cluster(processes)
            self.name = f"dask LocalCluster ({len(self.cluster.workers)} workers)"

    def run(self, work: Work, tasks: Sequence[Task], reporter: Reporter) -> Iterator[tuple[int, Any]]:
        import uuid

        from distributed import as_completed

        run = uuid.uuid4().hex
        futures = {self.client.submit(_dask_call, work, t, pure=False, key=f"workbench-{run}-{i}"): i
                   for i, t in enumerate(tasks)}
        try:
            for f in as_completed(futures, loop=self.client.loop):
                yield futures[f], f.result()
        finally:
            for f in futures:
                f.cancel()

    def close(self) -> None:
        if not self.own or self.client is None:
            return
        with quiet_dask():
            self.client.close()
            if self.cluster is not None:
                self.cluster.close()
        self.client = self.cluster = None


def choose(processes: int, *, scheduler: str | None = None, client: Any = None,
           timeout: float | None = None) -> Executor:
    """The executor a run asks for: Dask for a ``client``, a scheduler address, or ``scheduler="dask"``
    (a LocalCluster); ``"serial"``, or one process, runs here; otherwise local processes."""
    if client is not None or (scheduler is not None and scheduler not in ("serial", "dask")):
        return Dask(client=client, scheduler=scheduler, timeout=timeout)
    if scheduler == "dask":
        return Dask(processes=processes)
    if scheduler == "serial" or processes <= 1:
        return Serial()
    return Processes(processes)
