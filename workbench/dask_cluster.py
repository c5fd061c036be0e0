"""Reaching Dask: a scheduler's address checked, then probed within a deadline, before a ``Client``
exists; a ``LocalCluster`` started; Dask's shutdown noise kept off the user's terminal.

A ``distributed.Client`` made for a bad address is a trap: an unknown scheme fails inside its
constructor and leaves a half-made client whose finaliser waits 20 s at exit and prints a
traceback, and a peer that accepts the TCP connection but never answers the handshake blocks its
constructor forever (``distributed.comm.connect`` reads the handshake with no timeout). So
:func:`check_address` refuses a malformed address or a scheme that no registered comm backend
serves, instantly, and :func:`connect` first asks the scheduler for its identity (connection,
handshake and first answer) under one deadline in a thread of its own, and makes the ``Client``
only once the scheduler has answered.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import logging
import signal
import sys
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import DomainError, InputError
from .parameters import real
from .settings import available_cores

__all__ = ["CONNECT_TIMEOUT", "TIMEOUT", "WORKER_ENVIRONMENT", "SchedulerUnreachable", "check_address", "connect",
           "dask_installed", "local_cluster", "quiet_dask", "unguarded_script"]

CONNECT_TIMEOUT = 10.0  # seconds to reach a scheduler given by address and hear its first answer
TIMEOUT = real("connect_timeout", CONNECT_TIMEOUT, "seconds to reach a Dask scheduler and hear its first answer",
               low=0.0, high=86400.0, open_low=True)
"""The timeout as a parameter: ``connect_timeout=`` in Python, ``--timeout`` on the command line."""
GRACE = 0.5  # seconds past the timeout for a handshake that never comes (connect's own retries end at the timeout)
WORKER_ENVIRONMENT = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
ADDRESS_EXAMPLE = "'tcp://host:8786'"


class SchedulerUnreachable(InputError, ValueError):
    """The Dask scheduler at the given address did not answer in time (one line, CLI exit 2)."""


def dask_installed() -> bool:
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


# -- a scheduler's address -----------------------------------------------------------------------

def check_address(scheduler: str) -> None:
    """Refuse, before any connection, an address Dask cannot parse or whose scheme no registered comm
    backend serves (``nonsense://x``, ``tcp://host`` without a port): a :class:`DomainError`, one line."""
    from distributed.comm import parse_address
    from distributed.comm.addressing import parse_host_port
    from distributed.comm.registry import backends, get_backend

    try:
        protocol, location = parse_address(scheduler)
    except (TypeError, ValueError) as exc:
        raise DomainError(f"scheduler={scheduler!r} is not a Dask address such as {ADDRESS_EXAMPLE} ({exc})") from None
    try:
        get_backend(protocol)  # the built-in schemes, then the entry points of distributed.comm.backends
    except (ValueError, ImportError):
        known = ", ".join(sorted(backends))
        raise DomainError(f"scheduler={scheduler!r} is not a Dask address such as {ADDRESS_EXAMPLE}: unknown scheme "
                          f"{protocol!r} (Dask knows {known})") from None
    if protocol in ("tcp", "tls", "ws", "wss", "ucx"):
        try:
            parse_host_port(location)
        except ValueError as exc:
            raise DomainError(f"scheduler={scheduler!r} is not a Dask address such as {ADDRESS_EXAMPLE} "
                              f"({str(exc).splitlines()[0]})") from None


def connect(scheduler: str, timeout: float):
    """A Dask client of the scheduler at ``scheduler``; :class:`DomainError` for a bad address (at
    once), :class:`SchedulerUnreachable` when no Dask scheduler answers within ``timeout`` seconds."""
    from distributed import Client

    check_address(scheduler)
    identity = probe(scheduler, timeout)
    kind = identity.get("type") if isinstance(identity, dict) else None
    if kind != "Scheduler":
        raise SchedulerUnreachable(f"{scheduler!r} answered as a Dask {kind or 'peer'}, not a scheduler; "
                                   "give the scheduler's address")
    try:
        with quiet_dask():
            client = Client(scheduler, timeout=f"{timeout}s", set_as_default=False)
    except (OSError, ValueError, TypeError, ImportError) as exc:
        raise _unreachable(scheduler, timeout, exc) from None
    try:
        with quiet_dask():
            client.wait_for_workers(1, timeout=timeout)  # a scheduler without workers would take the tasks and hold them
    except (TimeoutError, asyncio.TimeoutError):
        client.close()
        raise SchedulerUnreachable(f"the Dask scheduler at {scheduler!r} has no workers (none joined within {timeout:g} s); "
                                   f"start one with: dask worker {scheduler}") from None
    except BaseException:
        client.close()
        raise
    return client


def probe(scheduler: str, timeout: float) -> Any:
    """The scheduler's answer to ``identity`` (connection, handshake and reply within ``timeout`` s,
    plus :data:`GRACE`), asked from a thread with its own event loop (so it works under a running
    loop, as in a notebook); :class:`SchedulerUnreachable` otherwise."""
    box: dict[str, Any] = {}

    def ask() -> None:
        try:
            with quiet_dask():
                box["answer"] = asyncio.run(_identity(scheduler, timeout))
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=ask, name="workbench-scheduler-probe", daemon=True)
    thread.start()
    thread.join(timeout + 2 * GRACE)
    if "answer" in box:
        return box["answer"]
    raise _unreachable(scheduler, timeout, box.get("error", TimeoutError()))


async def _identity(scheduler: str, timeout: float) -> Any:
    from distributed.comm import connect as open_comm
    from distributed.core import send_recv
    from distributed.security import Security

    args = Security().get_connection_args("client")  # as a Client would connect (TLS from Dask's config)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout + GRACE
    try:
        comm = await asyncio.wait_for(open_comm(scheduler, timeout=timeout, **args), timeout + GRACE)
    except asyncio.TimeoutError:
        raise _Silent from None  # the connection was accepted (connect's own retries end at the timeout)
    try:
        return await asyncio.wait_for(send_recv(comm, op="identity"), max(deadline - loop.time(), 0.0))
    except asyncio.TimeoutError:
        raise _Silent from None
    finally:
        comm.abort()


class _Silent(Exception):
    """A peer that accepted the connection and did not answer."""


def _unreachable(scheduler: str, timeout: float, exc: BaseException) -> BaseException:
    if isinstance(exc, (KeyboardInterrupt, SystemExit)) or not isinstance(exc, Exception):
        return exc  # an interrupt is not the scheduler's fault
    if isinstance(exc, _Silent):
        reason = "it accepted the connection but did not answer"
    elif isinstance(exc, TimeoutError) and not str(exc):
        reason = "no answer"
    else:
        reason = _reason(exc)
    return SchedulerUnreachable(f"cannot reach the Dask scheduler at {scheduler!r} within {timeout:g} s ({reason})")


def _reason(exc: BaseException) -> str:
    """The system's words at the root of ``exc`` (``Connection refused``), else its first line."""
    seen: list[BaseException] = []
    link: BaseException | None = exc
    while isinstance(link, BaseException) and link not in seen:
        seen.append(link)
        if isinstance(link, OSError) and link.strerror:
            return link.strerror
        link = link.__cause__ or link.__context__
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


@contextmanager
def quiet_dask():
    """Closing a cluster (after Ctrl-C, say) or probing a dead address logs and warns about what it
    drops: not the user's business."""
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


# -- a LocalCluster ------------------------------------------------------------------------------

def local_cluster(processes: int | None = None):
    """A ``LocalCluster`` of ``processes`` single-threaded workers (default: one per core) and its client.

    A Dask nanny sets MALLOC_TRIM_THRESHOLD_ in its workers, which turns off glibc's adaptive mmap
    threshold (measured 1.4x slower verification here), so the workers keep only the one-BLAS-thread
    environment. Tasks are independent roots, all handed to the workers at once. An interrupt between
    the cluster and its client closes the cluster."""
    import dask
    from distributed import Client, LocalCluster
    from distributed.deploy.spec import SpecCluster

    before = set(SpecCluster._instances)
    with _closed_if_interrupted(before), _ctrl_c_deferred(), dask.config.set({
        "distributed.nanny.pre-spawn-environ": dict(WORKER_ENVIRONMENT),
        "distributed.scheduler.worker-saturation": "inf",
        "distributed.worker.profile.enabled": False,  # its 10 ms stack sampling takes the GIL from the verification
    }):
        # dashboard on a free port: a second cluster on the machine (two sweeps at once) would fail on 8787
        # workers log errors only: their warnings (an event loop busy with a long task, tasks cancelled
        # by Ctrl-C) are noise on the user's terminal
        cluster = LocalCluster(n_workers=processes or available_cores(), threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=logging.ERROR)
    try:
        return Client(cluster, set_as_default=False), cluster
    except BaseException:  # an interrupt between the two: the workers must not outlive the run
        _close_quietly(cluster)
        raise


@contextmanager
def _ctrl_c_deferred():
    """SIGINT blocked in this thread inside the block, then delivered. The threads and processes made
    meanwhile (Dask's event loop, which spawns the workers, and so every worker) inherit the blocked
    signal: Ctrl-C at a terminal, sent to the whole process group, is this process's to handle (it
    closes the cluster) instead of a KeyboardInterrupt traceback from each worker."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows
        yield
        return
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()  # started later, it would unblock SIGINT in the thread that starts it
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextmanager
def _closed_if_interrupted(before: set):
    """A cluster that an interrupt caught half-started is closed here, quietly; Dask's own exit hook
    would try again and print an AssertionError's traceback (its workers never reached 'running')."""
    from distributed.deploy.spec import SpecCluster

    try:
        yield
    except BaseException:
        for cluster in set(SpecCluster._instances) - before:
            _close_quietly(cluster)
        raise


def _close_quietly(cluster: Any) -> None:
    with quiet_dask():
        try:
            cluster.close(timeout=5)
        except Exception:  # half-started: whatever it says, it is being dropped
            pass
    cluster.shutdown_on_close = False  # nothing left for Dask's exit hook to close


def unguarded_script() -> bool:
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
