"""One run layer: every executor gives the same verdicts; progress, predictions, interrupts and
failures reach the caller; the terminal ends with one summary line."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import textwrap
import time
from dataclasses import asdict

import pytest
from user_claim import user_claim

import workbench as wb
import workbench.execution as execution
import workbench.measurement as measurement
import workbench.verification as verification
from workbench.cli import main
from workbench.executors import Processes, Serial
from workbench.export import latex
from workbench.plan import Task, plan_claims
from workbench.progress import Reporter
from workbench.settings import RunSettings


def _same(a: wb.Verdict, b: wb.Verdict) -> bool:
    return {k: v for k, v in asdict(a).items() if k != "seconds"} == {k: v for k, v in asdict(b).items() if k != "seconds"}


class Recorder(Reporter):
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def start(self, labels):
        self.events.append(("start", tuple(labels)))

    def phase(self, i, text):
        self.events.append(("phase", i, text))

    def advance(self, i, done, total):
        self.events.append(("advance", i, done, total))

    def warn(self, i, text):
        self.events.append(("warn", i, text))

    def finish(self, i, result):
        self.events.append(("finish", i, result.id))


CLAIMS = ["xent.score-identity", "init.he-forward", "deeplinear.scalar", user_claim()]


def test_processes_give_the_serial_verdicts_including_a_users_own_claim():
    serial = wb.verify_many(CLAIMS, seed=3, jobs=1)
    parallel = wb.verify_many(CLAIMS, seed=3, jobs=2)
    assert [v.id for v in parallel] == [v.id for v in serial]
    assert all(_same(a, b) for a, b in zip(serial, parallel, strict=True))


def test_latex_text_is_the_same_in_parallel():
    assert latex("xent", verify=True, seed=2, jobs=1).text == latex("xent", verify=True, seed=2, jobs=2).text


def test_progress_from_worker_processes_reaches_the_caller_in_real_fractions():
    plan = plan_claims(["xent.score-identity", "init.he-forward"], settings=RunSettings(jobs=2, resolution=0.003))
    recorder = Recorder()
    execution.execute(plan, reporter=recorder)
    advances = [e for e in recorder.events if e[0] == "advance"]
    assert {e[1] for e in advances} == {0, 1}  # both tasks reported from their processes
    assert all(0 <= done <= total for _, _, done, total in advances)
    assert any(done < total for _, _, done, total in advances)  # a fraction, not a jump from 0 to 100%
    assert sorted(e[1] for e in recorder.events if e[0] == "finish") == [0, 1]
    assert ("phase", 0, "computing the closed form's reference value") in recorder.events


def _tasks(n: int) -> list[Task]:
    c = wb.claim("xent.margin")
    return [Task(c, c.resolve({}), RunSettings(), 1e-6)] * n


@pytest.mark.parametrize("executor", [Serial(), Processes(2)], ids=["serial", "processes"])
def test_a_failing_task_raises_in_the_caller(executor):
    def work(task, reporter, calls=[]):  # noqa: B006 - counts calls within one process
        calls.append(1)
        if len(calls) == 2:
            raise ArithmeticError("task failed")
        return 1

    with pytest.raises(ArithmeticError, match="task failed"):
        list(executor.run(work, _tasks(4), Reporter()))


def test_an_interrupt_stops_the_worker_processes():
    def slow(task, reporter):
        reporter.advance(0, 0, 1)
        time.sleep(30)

    class Interrupt(Reporter):
        def advance(self, i, done, total):
            raise KeyboardInterrupt

    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        list(Processes(2).run(slow, _tasks(2), Interrupt()))
    assert time.perf_counter() - start < 20
    deadline = time.perf_counter() + 10
    while multiprocessing.active_children() and time.perf_counter() < deadline:
        time.sleep(0.05)
    assert not multiprocessing.active_children()


def test_a_run_predicted_to_take_over_a_minute_is_announced_first(monkeypatch):
    monkeypatch.setattr(measurement, "SLOW", 0.0)  # every remainder counts as long
    recorder = Recorder()
    plan = plan_claims(["xent.score-identity"], settings=RunSettings(resolution=0.002))
    execution.execute(plan, reporter=recorder)
    (warning,) = [e for e in recorder.events if e[0] == "warn"]
    assert warning[2].startswith("xent.score-identity: about ") and "more for" in warning[2] and "replicates" in warning[2]


def test_the_reported_seconds_include_the_reference_value(monkeypatch):
    real = verification.reference_value

    def slow(*args):
        time.sleep(0.3)
        return real(*args)

    monkeypatch.setattr(verification, "reference_value", slow)
    assert wb.verify("xent.margin").seconds >= 0.3


# -- the terminal -------------------------------------------------------------------------------------


def test_verify_ends_with_one_summary_line_and_folds_the_notes(capsys):
    assert main(["verify", "init.gain", "--resolution", "0.1"]) == 0
    out = capsys.readouterr().out
    last = out.splitlines()[-1]
    assert last.startswith("1 claim: 1 pass, 0 fail in ") and "notes (--notes shows them)" in last
    assert "init.gain: " not in out
    assert main(["verify", "init.gain", "--resolution", "0.1", "--notes"]) == 0
    out = capsys.readouterr().out
    assert "init.gain: " in out and "--notes shows" not in out


def test_a_set_that_some_claims_lack_is_said_in_one_line(capsys):
    assert main(["verify", "xent", "--set", "m=1.0", "--resolution", "0.1", "--json"]) == 0
    err = capsys.readouterr().err
    (note,) = [line for line in err.splitlines() if line.startswith("workbench: note:")]
    assert "xent.score-identity has no parameter m and keeps its own value" in note


def test_ctrl_c_in_a_sweep_is_one_line_and_the_store_resumes(capsys, monkeypatch, tmp_path):
    real, calls = execution.run_task, []

    def interrupted(*args):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(execution, "run_task", interrupted)
    argv = ["sweep", "xent.margin", "--grid", "m=1.0,2.0,3.0,4.0", "--scheduler", "serial", "--store", str(tmp_path)]
    assert main(argv) == 130
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [f"workbench: interrupted: 2 of 4 points stored in {tmp_path}; "
                                         "rerun the same command to resume"]
    monkeypatch.setattr(execution, "run_task", real)
    assert main([*argv, "--json"]) == 0
    assert '"reused": 2' in capsys.readouterr().out


def _script(tmp_path, body: str) -> subprocess.CompletedProcess:
    path = tmp_path / "script.py"
    path.write_text(textwrap.dedent(body))
    return subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300, cwd=tmp_path)


def test_a_sweep_works_from_a_plain_script_without_a_main_guard(tmp_path):
    proc = _script(tmp_path, """
        import workbench as wb
        r = wb.sweep("xent.margin", {"m": [1.0, 2.0, 3.0]}, jobs=2)
        print(r.passed, r.executor)
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "True 2 local processes"


def test_a_dask_local_cluster_from_an_unguarded_script_is_refused_in_one_line(tmp_path):
    pytest.importorskip("distributed")
    proc = _script(tmp_path, """
        import workbench as wb
        try:
            wb.sweep("xent.margin", {"m": [1.0, 2.0]}, scheduler="dask")
        except ValueError as exc:
            print(exc)
    """)
    assert proc.returncode == 0, proc.stderr
    assert 'if __name__ == "__main__":' in proc.stdout and len(proc.stdout.splitlines()) == 1


def test_the_main_guard_is_told_apart_from_top_level_code(tmp_path):
    # the guard is what makes a LocalCluster safe: its workers import __main__ again (as __mp_main__)
    proc = _script(tmp_path, """
        from workbench.dask_cluster import unguarded_script

        def call():
            return unguarded_script()

        print("top level", unguarded_script(), call())
        if __name__ == "__main__":
            print("guarded", unguarded_script(), call())
        if "__main__" == __name__:
            print("guarded too", unguarded_script())
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["top level True True", "guarded False False", "guarded too False"]


def test_the_command_line_starts_a_dask_local_cluster(tmp_path):
    # python -m workbench keeps its call under a main guard, which the cluster's workers need
    pytest.importorskip("distributed")
    proc = subprocess.run([sys.executable, "-m", "workbench", "sweep", "xent.margin", "--grid", "m=1,2", "--scheduler", "dask",
                           "--json"], capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stderr
    assert '"executor": "dask LocalCluster' in proc.stdout
