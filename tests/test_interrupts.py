"""Interrupts and dead schedulers: Ctrl-C and SIGTERM mid-run, a scheduler address that is nonsense
or never answers. Each ends in one line on stderr (progress lines aside, never a traceback, not
even at interpreter exit), its own exit status, no temporary file and no worker left behind; an
interrupted sweep resumes from its store.

The signals are sent to real ``workbench`` processes (the handler of SIGTERM is the command
line's); everything else runs in-process.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import workbench.cli as cli
import workbench.sweeps as sweeps
from workbench.cli import main
from workbench.cli.interrupts import Terminated
from workbench.dask_cluster import GRACE, SchedulerUnreachable
from workbench.errors import DomainError
from workbench.sweeps import sweep

HE = "init.he-forward"
# three points of a second or two each at this resolution: slow enough to be caught mid-run
SLOW_SWEEP = ["sweep", HE, "--grid", "depth=2,3,4", "--resolution", "0.002", "--jobs", "2"]
PROGRESS = re.compile(r"^(\[\d+/\d+\] |points: |workbench: warning: )")  # what the Terminal prints off a tty


def _said(stderr: str) -> list[str]:
    """stderr without the progress lines a run prints when stderr is not a terminal."""
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    return [line for line in stderr.splitlines() if not PROGRESS.match(line)]


def _workbench(*args: str, cwd: Path, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "workbench", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=cwd, **kwargs)


def _children(pid: int) -> list[int]:
    """The processes ``pid`` started (from any of its threads)."""
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except OSError:
        return False


def _wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the run to get going"
        time.sleep(0.02)


def _no_temporary_files(root: Path) -> None:
    assert not [p for p in root.rglob("*") if p.name.endswith(".tmp")]


# -- signals sent to a real run ---------------------------------------------------------------------

needs_proc = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads children from /proc (Linux)")


@needs_proc
@pytest.mark.parametrize(("sig", "status", "word"), [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_a_signal_mid_sweep_stops_the_workers_says_what_is_stored_and_the_rerun_resumes(tmp_path, capsys, sig, status, word):
    store = tmp_path / "store"
    proc = _workbench(*SLOW_SWEEP, "--store", str(store), cwd=tmp_path)
    _wait_for(lambda: any((store / HE).glob("*.json")) or proc.poll() is not None)
    workers = _children(proc.pid)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == status, err
    (line,) = _said(err)
    m = re.fullmatch(rf"workbench: {word}: (\d) of 3 points stored in (.+); rerun the same command to resume", line)
    assert m and m.group(2) == str(store), line
    kept = int(m.group(1))
    assert kept == len(list((store / HE).glob("*.json"))) and 1 <= kept < 3
    _no_temporary_files(tmp_path)
    assert workers and not [w for w in workers if _alive(w)]  # the worker processes were stopped
    if sig == signal.SIGINT:  # (the same path after SIGTERM)
        assert main([*SLOW_SWEEP, "--store", str(store), "--json"]) == 0  # the same command resumes
        result = json.loads(capsys.readouterr().out)
        assert result["store"] == {"computed": 3 - kept, "reused": kept, "recomputed": 0}


@needs_proc
def test_a_sweep_killed_outright_leaves_no_worker_computing_on(tmp_path):
    """SIGKILL reaches no handler: the workers learn of their parent's death from the kernel (Linux)."""
    store = tmp_path / "store"
    proc = _workbench(*SLOW_SWEEP, "--store", str(store), cwd=tmp_path)
    _wait_for(lambda: len(_children(proc.pid)) >= 2 or proc.poll() is not None)
    workers = _children(proc.pid)
    proc.kill()
    proc.communicate(timeout=60)
    _wait_for(lambda: not [w for w in workers if _alive(w)], timeout=10)  # they would compute on for minutes
    assert workers


@needs_proc
def test_sigterm_mid_verify_is_one_line_and_exit_143(tmp_path):
    proc = _workbench("verify", HE, "xent.score-identity", "--resolution", "0.002", "--jobs", "2", cwd=tmp_path)
    _wait_for(lambda: len(_children(proc.pid)) >= 2 or proc.poll() is not None)
    workers = _children(proc.pid)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert (proc.returncode, out, _said(err)) == (143, "", ["workbench: terminated"])
    assert not [w for w in workers if _alive(w)]
    _no_temporary_files(tmp_path)


@pytest.mark.slow
@needs_proc
def test_ctrl_c_at_a_terminal_stops_a_dask_local_cluster_without_a_word_from_its_workers(tmp_path):
    # a terminal sends SIGINT to the whole process group, the Dask workers included
    pytest.importorskip("distributed")
    store = tmp_path / "store"
    proc = _workbench(*SLOW_SWEEP, "--scheduler", "dask", "--store", str(store), cwd=tmp_path, start_new_session=True)
    _wait_for(lambda: any((store / HE).glob("*.json")) or proc.poll() is not None, timeout=120)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    (line,) = _said(err)
    assert line.startswith("workbench: interrupted: ") and line.endswith("rerun the same command to resume")
    _no_temporary_files(tmp_path)


# -- interrupts in-process: the words and the statuses ---------------------------------------------------

@pytest.mark.parametrize(("raised", "status", "said"), [
    (KeyboardInterrupt, 130, "workbench: interrupted: nothing was kept (--store DIR keeps each finished point for a rerun)"),
    (Terminated, 143, "workbench: terminated: nothing was kept (--store DIR keeps each finished point for a rerun)"),
])
def test_an_interrupted_sweep_without_a_store_says_nothing_was_kept(monkeypatch, capsys, raised, status, said):
    def interrupted(*args, **kwargs):
        raise raised

    monkeypatch.setattr(sweeps, "execute", interrupted)
    assert main(["sweep", "xent.margin", "--grid", "m=1,2", "--scheduler", "serial"]) == status
    assert capsys.readouterr().err.splitlines() == [said]


def test_the_command_line_restores_the_sigterm_handler_it_found(monkeypatch, capsys):
    before = signal.getsignal(signal.SIGTERM)
    seen = []
    monkeypatch.setitem(cli.COMMANDS, "list", lambda args: seen.append(signal.getsignal(signal.SIGTERM)) or 0)
    assert main(["list"]) == 0
    assert seen and seen[0] is not before  # SIGTERM raised Terminated while the command ran
    assert signal.getsignal(signal.SIGTERM) is before


# -- scheduler addresses: refused at once, or within the timeout --------------------------------------

@pytest.mark.parametrize(("address", "said"), [
    ("nonsense://x", "unknown scheme 'nonsense'"),
    ("tcp://host", "missing port number"),
    ("://127.0.0.1:8786", "unknown scheme ''"),
])
def test_a_malformed_address_is_refused_before_any_client_exists(monkeypatch, address, said):
    distributed = pytest.importorskip("distributed")

    def no_client(*args, **kwargs):
        raise AssertionError("a Client was made")

    monkeypatch.setattr(distributed, "Client", no_client)
    start = time.perf_counter()
    with pytest.raises(DomainError, match=re.escape(said)):
        sweep("xent.margin", {"m": [1.0, 2.0]}, scheduler=address)
    assert time.perf_counter() - start < 1.0


def test_an_unknown_scheme_is_one_line_at_once_even_at_interpreter_exit(tmp_path):
    pytest.importorskip("distributed")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "workbench", "sweep", "xent.margin", "--grid", "m=1,2", "--scheduler",
                           "nonsense://x"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    elapsed = time.perf_counter() - start
    assert proc.returncode == 2 and proc.stdout == ""
    (line,) = proc.stderr.splitlines()  # no "Exception ignored in: Client.__del__" after it
    assert line.startswith("workbench: error: scheduler='nonsense://x' is not a Dask address")
    assert elapsed < 15  # it waited 20 s for a half-made Client to close


@pytest.fixture
def silent_scheduler():
    """A TCP server that accepts connections and never says a word."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for s in held:
        s.close()
    server.close()


def test_a_scheduler_that_accepts_and_never_answers_is_refused_after_the_timeout(silent_scheduler, tmp_path):
    pytest.importorskip("distributed")
    start = time.perf_counter()
    with pytest.raises(SchedulerUnreachable, match="within 1 s [(]it accepted the connection but did not answer[)]"):
        sweep("xent.margin", {"m": [1.0, 2.0]}, scheduler=silent_scheduler, connect_timeout=1)
    assert 1.0 <= time.perf_counter() - start < 1.0 + 2 * GRACE + 1.0

    proc = subprocess.run([sys.executable, "-m", "workbench", "sweep", "xent.margin", "--grid", "m=1,2", "--scheduler",
                           silent_scheduler, "--timeout", "1"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.splitlines() == [f"workbench: error: cannot reach the Dask scheduler at '{silent_scheduler}' "
                                        "within 1 s (it accepted the connection but did not answer)"]


@pytest.mark.parametrize(("argv", "said"), [
    (["--timeout", "0", "--scheduler", "tcp://127.0.0.1:9"], "argument --timeout: connect_timeout=0 is outside the domain"),
    (["--timeout", "soon", "--scheduler", "tcp://127.0.0.1:9"], "connect_timeout='soon' is not a real number"),
    (["--timeout", "3"], "connect_timeout (--timeout) goes with a Dask scheduler address"),
    (["--timeout", "3", "--scheduler", "serial"], "connect_timeout (--timeout) goes with a Dask scheduler address"),
])
def test_a_bad_timeout_is_one_line_exit_2(capsys, argv, said):
    pytest.importorskip("distributed")
    assert main(["sweep", "xent.margin", "--grid", "m=1,2", *argv]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and said in err


def test_a_timeout_without_a_sweep_is_refused_by_plot(capsys, tmp_path):
    assert main(["plot", "xent.margin", "-o", str(tmp_path / "f.png"), "--timeout", "3"]) == 2
    assert capsys.readouterr().err == "workbench: error: --grid, --store, --scheduler and --timeout go with --sweep\n"


@pytest.mark.parametrize("timeout", [0, -1.0, float("nan"), float("inf")])
def test_a_bad_connect_timeout_is_refused_in_python(timeout):
    pytest.importorskip("distributed")
    with pytest.raises(DomainError, match="connect_timeout=.* is outside the domain"):
        sweep("xent.margin", {"m": [1.0]}, scheduler="tcp://127.0.0.1:9", connect_timeout=timeout)


@pytest.mark.parametrize(("sig", "status", "said"), [(signal.SIGINT, 130, "workbench: interrupted"),
                                                      (signal.SIGTERM, 143, "workbench: terminated")])
def test_a_signal_while_the_command_is_still_importing_is_one_line(tmp_path, sig, status, said):
    """The imports take about a second, before main can turn a signal into an exception: Ctrl-C there
    gave a traceback from wherever the import was."""
    for delay in (0.3, 0.6):  # importing, or (on a fast machine) already verifying: one line either way
        proc = _workbench("verify", HE, "--resolution", "0.002", cwd=tmp_path)
        time.sleep(delay)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
        assert (proc.returncode, _said(err)) == (status, [said]), err


def test_only_the_command_line_changes_the_signal_handlers_at_import():
    from workbench._launch import is_command

    assert is_command(["/venv/bin/python", "/venv/bin/workbench", "verify"])
    assert is_command(["python3", "-m", "workbench", "list"])
    assert not is_command(["python3", "-m", "pytest", "tests"])
    assert not is_command(["python3", "analysis.py"]) and not is_command(["python3"])
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # importing workbench here changed nothing
