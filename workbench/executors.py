"""Executors: one interface that carries out a :class:`~workbench.plan.Plan`, here or elsewhere.

- :class:`Serial` runs the tasks one after another in this process;
- :class:`Processes` runs them in forked local processes (inheriting the registry, a user's own
  claims included), relaying each task's progress to this process;
- :class:`Dask` runs them on a Dask cluster: one at an address, a ``Client`` given, or a
  ``LocalCluster`` of single-threaded processes (the scale-out path; the ``distributed`` extra).

Each task's verdict depends on the task alone (its seed is its own), so every executor returns
the same verdicts. **One BLAS policy:** a worker process runs one BLAS thread (``N`` processes
use ``N`` cores instead of fighting over them); the serial executor leaves this process alone.
"""

from __future__ import annotations

import ast
import inspect
import logging
import multiprocessing
import queue
import signal
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import DomainError, InputError, InputTypeError
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
    "one_blas_thread",
]

CONNECT_TIMEOUT = 10.0  # seconds to reach a scheduler given by address
WORKER_ENVIRONMENT = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}

Work = Callable[[Task, Reporter], Any]


class SchedulerUnreachable(InputError, ValueError):
    """The Dask scheduler at the given address did not answer in time (one line, CLI exit 2)."""


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


def _worker_start() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops the workers
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


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
                                   initializer=_worker_start)
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


def dask_installed() -> bool:
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def _unguarded_script() -> bool:
    """Whether we are called from a script's top-level code outside ``if __name__ == "__main__":``
    (or from its re-import in a spawned process): a LocalCluster's workers import the script again,
    and an unguarded call would start another cluster in each of them."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if not path:
        return False  # a REPL or a notebook
    for frame_info in inspect.stack()[1:]:
        name = frame_info.frame.f_globals.get("__name__")
        if name == "__mp_main__":
            return True
        if name == "__main__" and frame_info.function == "<module>":
            return not _under_main_guard(path, frame_info.frame.f_lineno)
    return False


def _under_main_guard(path: str, line: int) -> bool:
    """Whether ``line`` of the script ``path`` lies inside an ``if __name__ == "__main__":`` block."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
        return True  # the source cannot be read: let Dask try
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_main_test(node.test) and node.lineno <= line <= (node.end_lineno or line):
            return True
    return False


def _is_main_test(test: ast.expr) -> bool:
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = {ast.dump(test.left), ast.dump(test.comparators[0])}
    return sides == {ast.dump(ast.Name("__name__", ast.Load())), ast.dump(ast.Constant("__main__"))}


class Dask(Executor):
    """Tasks on a Dask cluster: ``client`` (an existing ``distributed.Client``), ``scheduler`` (an
    address, reached within ``timeout`` seconds), or neither for a ``LocalCluster`` of ``processes``
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
            if _unguarded_script():
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
        with _quiet_dask():
            self.client.close()
            if self.cluster is not None:
                self.cluster.close()
        self.client = self.cluster = None


@contextmanager
def _quiet_dask():
    """Closing a cluster (after Ctrl-C, say) logs and warns about the tasks it drops: not the user's business."""
    loggers = [logging.getLogger(n) for n in ("distributed", "tornado", "asyncio")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def connect(scheduler: str, timeout: float):
    """A Dask client of the scheduler at ``scheduler``, or SchedulerUnreachable within ``timeout`` s."""
    from distributed import Client
    from distributed.comm import parse_address
    from distributed.comm.addressing import parse_host_port

    try:
        protocol, location = parse_address(scheduler)
        if protocol in ("tcp", "tls", "ws", "wss", "ucx"):
            parse_host_port(location)  # a malformed address fails here, before a Client exists to be torn down
    except ValueError as exc:
        raise SchedulerUnreachable(f"scheduler={scheduler!r} is not a Dask address such as 'tcp://host:8786' ({exc})") from None
    try:
        with _quiet_dask():
            return Client(scheduler, timeout=f"{timeout}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SchedulerUnreachable(f"cannot reach the Dask scheduler at {scheduler!r} within {timeout:g} s ({reason})") from None


def local_cluster(processes: int | None = None):
    """A ``LocalCluster`` of ``processes`` single-threaded workers (default: one per core) and its client.

    A Dask nanny sets MALLOC_TRIM_THRESHOLD_ in its workers, which turns off glibc's adaptive mmap
    threshold (measured 1.4x slower verification here), so the workers keep only the one-BLAS-thread
    environment. Tasks are independent roots, all handed to the workers at once."""
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set({
        "distributed.nanny.pre-spawn-environ": dict(WORKER_ENVIRONMENT),
        "distributed.scheduler.worker-saturation": "inf",
        "distributed.worker.profile.enabled": False,  # its 10 ms stack sampling takes the GIL from the verification
    }):
        # dashboard on a free port: a second cluster on the machine (two sweeps at once) would fail on 8787
        cluster = LocalCluster(n_workers=processes or available_cores(), threads_per_worker=1, processes=True,
                               dashboard_address=":0")
    return Client(cluster, set_as_default=False), cluster


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
