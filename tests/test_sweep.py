"""Sweeps over parameter grids: local processes, Dask and serial agree, the store resumes and distrusts
damage, the family-wise verdict, and every bad input as one line (CLI exit 2).

One real ``LocalCluster`` (2 single-threaded worker processes) is shared by this module's Dask tests.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from user_claim import user_claim

import workbench as wb
import workbench.execution as execution
import workbench.sweeps as sweeps
from workbench.cli import main
from workbench.executors import SchedulerUnreachable, local_cluster
from workbench.files import OutputError
from workbench.multiple_testing import family_wise, p_value
from workbench.plan import point_seed
from workbench.store import Store
from workbench.sweeps import sweep

HE = "init.he-forward"
GRID = {"depth": range(2, 11, 4), "c": [1.8, 2.0, 2.2]}  # 9 points
FAST = {"resolution": 0.05}  # a few thousand networks per point: milliseconds each


def _rows(result) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "seconds"} for row in result.rows]


def _verdicts(result) -> list[dict]:
    return [{k: v for k, v in d.items() if k != "seconds"} for d in (v.to_dict() for v in result.verdicts)]


@pytest.fixture(scope="module")
def client():
    pytest.importorskip("distributed")
    c, cluster = local_cluster(2)  # processes=True, 2 workers, threads_per_worker=1
    c.wait_for_workers(2, timeout=60)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def serial():
    return sweep(HE, GRID, scheduler="serial", seed=5, **FAST)


# -- Dask ----------------------------------------------------------------------------------------


def test_a_sweep_on_a_local_cluster_equals_the_serial_sweep_for_the_same_seed(client, serial):
    on_dask = sweep(HE, GRID, client=client, seed=5, **FAST)
    assert on_dask.executor.startswith("dask")
    assert _verdicts(on_dask) == _verdicts(serial) and _rows(on_dask) == _rows(serial)
    assert on_dask.table.drop(columns="seconds").equals(serial.table.drop(columns="seconds"))
    by_address = sweep(HE, GRID, scheduler=client.scheduler.address, seed=5, **FAST)  # as on a remote cluster
    assert by_address.executor == f"dask {client.scheduler.address}" and _verdicts(by_address) == _verdicts(serial)


def test_a_users_own_and_a_mutated_claim_travel_to_the_workers(client):
    grid = {"sigma": [0.5, 1.0, 2.0]}
    mine = user_claim()
    assert _verdicts(sweep(mine, grid, client=client, **FAST)) == _verdicts(sweep(mine, grid, scheduler="serial", **FAST))
    wrong = wb.claim("xent.margin").with_closed_form("log(K)")
    result = sweep(wrong, {"m": [1.0, 2.0]}, client=client)
    assert not result.passed and all(result.rejected)


def test_killing_a_worker_mid_sweep_loses_nothing(client, serial):
    pids = client.run(os.getpid)
    victim = next(iter(pids.values()))
    killed = []

    def kill_once(done, total):
        if done >= 1 and not killed and done < total:
            os.kill(victim, signal.SIGKILL)
            killed.append(done)

    grid = {"depth": range(2, 11, 4), "c": [1.8, 2.0, 2.2], "fan_in": [64, 256]}  # 18 points, ~0.1 s each
    result = sweep(HE, grid, client=client, seed=5, resolution=0.02, progress=kill_once)
    assert killed, "the worker was never killed: the sweep ended too fast"
    assert len(result.verdicts) == 18 and result.computed == 18
    reference = sweep(HE, grid, scheduler="serial", seed=5, resolution=0.02)
    assert _verdicts(result) == _verdicts(reference)
    client.wait_for_workers(2, timeout=60)  # the nanny restarts it, for the tests after this one
    assert victim not in client.run(os.getpid).values()


def test_an_unreachable_scheduler_is_a_clear_error_within_the_timeout(monkeypatch, capsys):
    pytest.importorskip("distributed")
    start = time.perf_counter()
    with pytest.raises(SchedulerUnreachable, match="cannot reach the Dask scheduler at 'tcp://127.0.0.1:9' within 2 s"):
        sweep(HE, GRID, scheduler="tcp://127.0.0.1:9", connect_timeout=2, **FAST)
    code = main(["sweep", HE, "--grid", "depth=2,4", "--scheduler", "tcp://127.0.0.1:9", "--resolution", "0.05",
                 "--timeout", "2"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1 and "cannot reach the Dask scheduler" in err
    assert time.perf_counter() - start < 30


def test_a_scheduler_without_workers_is_refused_after_the_timeout():
    """It would accept the tasks and hold them forever: one line naming the command that starts a worker."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=0, processes=False, protocol="tcp://", dashboard_address=None) as empty:
        start = time.perf_counter()
        with pytest.raises(SchedulerUnreachable, match=r"has no workers \(none joined within 1 s\); start one with: dask "
                                                       r"worker tcp://"):
            sweep(HE, GRID, scheduler=empty.scheduler_address, connect_timeout=1, **FAST)
        assert time.perf_counter() - start < 15


def test_a_workers_address_is_refused_as_not_a_scheduler(client):
    worker = next(iter(client.scheduler_info()["workers"]))
    with pytest.raises(SchedulerUnreachable, match="answered as a Dask Worker, not a scheduler"):
        sweep(HE, GRID, scheduler=worker, connect_timeout=5, **FAST)


def test_by_default_a_sweep_runs_on_local_processes_with_the_serial_verdicts(serial):
    result = sweep(HE, GRID, seed=5, jobs=2, **FAST)
    assert result.executor == "2 local processes" and _verdicts(result) == _verdicts(serial)


def test_without_dask_a_scheduler_is_refused_in_one_line(monkeypatch, capsys):
    monkeypatch.setattr(sweeps, "dask_installed", lambda: False)
    with pytest.raises(ValueError, match=r"needs Dask: pip install \"workbench\[distributed\]\""):
        sweep(HE, GRID, scheduler="dask", **FAST)
    assert main(["sweep", HE, "--grid", "depth=2,4", "--scheduler", "tcp://127.0.0.1:9"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "needs Dask" in err


# -- seeds -------------------------------------------------------------------------------------------


def test_a_points_seed_depends_on_the_point_alone_not_on_the_grid_around_it(serial):
    other = sweep(HE, {"c": [2.0], "depth": [10, 6]}, scheduler="serial", seed=5, **FAST)
    mine = {(v.parameters["depth"], v.parameters["c"]): v.to_dict() for v in serial.verdicts}
    for v in other.verdicts:
        theirs = {k: x for k, x in v.to_dict().items() if k != "seconds"}
        assert theirs == {k: x for k, x in mine[v.parameters["depth"], v.parameters["c"]].items() if k != "seconds"}
    full = wb.claim(HE).resolve({"depth": 6, "c": 2.0})
    assert other.verdicts[1].seed == point_seed(5, HE, full) == point_seed(5, HE, dict(reversed(list(full.items()))))
    assert point_seed(6, HE, full) != point_seed(5, HE, full)


# -- the store ----------------------------------------------------------------------------------------


def test_an_interrupted_sweep_resumes_from_the_store(tmp_path, monkeypatch, serial):
    real = execution.run_task
    calls = []

    def interrupted(*args):
        if len(calls) == 4:
            raise KeyboardInterrupt
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(execution, "run_task", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sweep(HE, GRID, scheduler="serial", seed=5, store=tmp_path, **FAST)
    monkeypatch.setattr(execution, "run_task", real)
    assert len(list((tmp_path / HE).glob("*.json"))) == 4 and not list((tmp_path / HE).glob(".*.tmp"))
    resumed = sweep(HE, GRID, scheduler="serial", seed=5, store=tmp_path, **FAST)
    assert (resumed.reused, resumed.computed) == (4, 5)
    assert _verdicts(resumed) == _verdicts(serial)
    again = sweep(HE, GRID, scheduler="serial", seed=5, store=tmp_path, **FAST)
    assert (again.reused, again.computed) == (9, 0) and [v.to_dict() for v in again.verdicts] == [
        v.to_dict() for v in resumed.verdicts]  # even the seconds: the stored verdicts themselves


def test_a_corrupted_entry_is_recomputed_never_trusted(tmp_path, serial):
    sweep(HE, GRID, scheduler="serial", seed=5, store=tmp_path, **FAST)
    files = sorted((tmp_path / HE).glob("*.json"))
    files[0].write_text(files[0].read_text()[:100])  # truncated
    entry = json.loads(files[1].read_text())
    entry["verdict"]["estimate"] += 1.0  # tampered: the checksum no longer matches
    files[1].write_text(json.dumps(entry))
    files[2].write_text(files[3].read_text())  # a whole, valid entry of another key
    result = sweep(HE, GRID, scheduler="serial", seed=5, store=tmp_path, **FAST)
    assert (result.recomputed, result.computed, result.reused) == (3, 3, 6)
    assert _verdicts(result) == _verdicts(serial)
    assert sweep(HE, GRID, scheduler="serial", seed=5, store=tmp_path, **FAST).reused == 9  # rewritten whole


def test_a_new_workbench_version_or_other_settings_do_not_reuse_results(tmp_path, monkeypatch):
    small = {"depth": [2, 4]}
    sweep(HE, small, scheduler="serial", store=tmp_path, **FAST)
    assert sweep(HE, small, scheduler="serial", store=tmp_path, **FAST).reused == 2
    assert sweep(HE, small, scheduler="serial", store=tmp_path, seed=1, **FAST).reused == 0
    assert sweep(HE, small, scheduler="serial", store=tmp_path, resolution=0.06).reused == 0
    monkeypatch.setattr("workbench._version.__version__", "999.0")
    assert sweep(HE, small, scheduler="serial", store=tmp_path, **FAST).reused == 0


def test_a_cap_on_the_replicates_is_part_of_the_key(tmp_path):
    # a capped verdict may be inconclusive at the cap: an uncapped sweep must not reuse it
    def run(**cap):
        settings = wb.RunSettings(resolution=0.05, **cap)
        return sweeps.run_sweep(sweeps.plan_sweep(HE, {"depth": [2, 3]}, settings=settings, store=tmp_path,
                                                  scheduler="serial"))

    assert run(max_replicates=1000).computed == 2
    assert run().reused == 0
    assert run().reused == 2 and run(max_replicates=1000).reused == 2


def test_stored_counts_the_points_the_store_holds_for_this_sweep(tmp_path):
    planned = sweeps.plan_sweep(HE, {"depth": [2, 3, 4]}, settings=wb.RunSettings(resolution=0.05), store=tmp_path)
    assert sweeps.stored(planned) == 0
    sweep(HE, {"depth": [3]}, scheduler="serial", store=tmp_path, **FAST)  # one point of it, under its own key
    sweep(HE, {"depth": [2]}, scheduler="serial", store=tmp_path, seed=1, **FAST)  # another seed: not this sweep's
    assert sweeps.stored(planned) == 1
    assert sweeps.stored(sweeps.plan_sweep(HE, {"depth": [2]})) == 0  # no store


def test_a_mutated_claim_does_not_share_the_true_claims_store_entries(tmp_path):
    true = sweep("xent.margin", {"m": [1.0, 2.0]}, scheduler="serial", store=tmp_path)
    wrong = sweep(wb.claim("xent.margin").with_closed_form("log(K)"), {"m": [1.0, 2.0]}, scheduler="serial", store=tmp_path)
    assert true.passed and not wrong.passed and wrong.reused == 0


# -- the family-wise verdict ------------------------------------------------------------------------------


def test_holm_rejects_what_bonferroni_does_and_possibly_more():
    ps = [0.001, 0.012, 0.02, 0.5]
    assert family_wise(ps, 0.05, "bonferroni") == [True, True, False, False]  # p < 0.0125
    assert family_wise(ps, 0.05, "holm") == [True, True, True, False]  # 0.001 < .0125, .012 < .0167, .02 < .025
    assert family_wise([0.2, 0.3], 0.05, "holm") == [False, False]
    with pytest.raises(ValueError, match="method='sidak' is not one of holm, bonferroni"):
        family_wise(ps, 0.05, "sidak")


def test_each_points_p_value_agrees_with_its_own_verdict(serial):
    for v, p in zip(serial.verdicts, serial.p_values, strict=True):
        assert p == p_value(v) and (p >= v.alpha) == v.passed
    assert serial.passed and not any(serial.rejected)
    assert [row["family_passed"] for row in serial.rows] == [True] * 9


def test_a_wrong_closed_form_fails_the_family():
    lecun = wb.claim(HE).with_closed_form("q0 * (c / 2)**(depth - 1) * c / 2")  # off by a factor 1/2
    result = sweep(lecun, {"depth": [2, 3]}, scheduler="serial", **FAST)
    assert not result.passed and all(result.rejected) and result.to_dict()["family"]["rejected"] == 2


# -- bad input (the table is tests/test_bad_input.py) --------------------------------------------------------

def test_a_store_that_cannot_be_written_is_refused_before_any_work(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(execution, "run_task", None)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    for store in (blocker, blocker / "store"):
        with pytest.raises(OutputError, match="not a directory"):
            sweep(HE, {"depth": [2]}, store=store)
        assert main(["sweep", HE, "--grid", "depth=2", "--store", str(store)]) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and "not a directory" in err
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        with pytest.raises(OutputError, match="not writable"):
            Store(locked).check(HE)


# -- the command line ----------------------------------------------------------------------------------


def test_cli_sweep_json_and_csv_match_the_python_sweep(capsys, tmp_path, serial):
    argv = ["sweep", HE, "--grid", "depth=2:11:4", "--grid", "c=1.8,2.0,2.2", "--seed", "5", "--resolution", "0.05",
            "--scheduler", "serial", "--store", str(tmp_path)]
    assert main([*argv, "--json"]) == 0
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert report["passed"] and report["family"] == {"method": "holm", "alpha": 1e-6, "points": 9, "rejected": 0, "inconclusive": 0}
    assert report["status"] == "pass"
    assert report["grid"] == {"depth": [2, 6, 10], "c": [1.8, 2.0, 2.2]}
    assert [p["estimate"] for p in report["points"]] == [v.estimate for v in serial.verdicts]
    assert main([*argv, "--csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("depth,c,expected,estimate") and len(lines) == 10
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "family-wise PASSED (0 of 9 points rejected by Holm at alpha 1e-06, 0 inconclusive)" in out and "reused 9 from the store" in out


def test_cli_sweep_exits_1_when_the_family_fails(capsys, monkeypatch):
    wrong = wb.claim("xent.margin").with_closed_form("log(K)")
    monkeypatch.setattr("workbench.cli.run.lookup", lambda _id: wrong)
    assert main(["sweep", "xent.margin", "--grid", "m=1.0,2.0", "--scheduler", "serial"]) == 1
    assert "family-wise FAILED" in capsys.readouterr().out


def test_plot_sweep_writes_a_figure(tmp_path, capsys):
    out = tmp_path / "sweep.png"
    assert main(["plot", HE, "--sweep", "--grid", "depth=2:11:4", "--grid", "c=1.8,2.2", "--resolution", "0.05",
                 "--scheduler", "serial", "-o", str(out)]) == 0
    assert out.stat().st_size > 1000 and f"wrote {out}" in capsys.readouterr().out
    assert main(["plot", HE, "--grid", "depth=2", "-o", str(out)]) == 2
    assert "go with --sweep" in capsys.readouterr().err
    assert Path(out).exists()
