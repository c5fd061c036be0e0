"""Claims verified side by side in processes give the very verdicts of one process."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import asdict

import pytest
from user_claim import user_claim

import workbench as wb
from workbench.export import latex
from workbench.parallel import check_jobs, pmap


def _same(a: wb.Verdict, b: wb.Verdict) -> dict:
    return {k: v for k, v in asdict(a).items() if k != "seconds"} == {k: v for k, v in asdict(b).items() if k != "seconds"}


def test_parallel_verdicts_equal_serial_ones_including_a_users_own_claim():
    claims = ["xent.score-identity", "init.he-forward", "deeplinear.scalar", user_claim()]
    serial = wb.verify_many(claims, seed=3, jobs=1)
    parallel = wb.verify_many(claims, seed=3, jobs=2)
    assert [v.id for v in parallel] == [v.id for v in serial]
    assert all(_same(a, b) for a, b in zip(serial, parallel, strict=True))


def test_latex_text_is_the_same_in_parallel():
    one = latex("xent", verify=True, seed=2, jobs=1).text
    two = latex("xent", verify=True, seed=2, jobs=2).text
    assert one == two


def test_a_failing_task_raises_in_the_caller():
    def task(i):
        if i == 2:
            raise ValueError("task 2 failed")
        return i * i

    assert pmap(lambda i: i * i, 5, jobs=2) == [0, 1, 4, 9, 16]
    with pytest.raises(ValueError, match="task 2 failed"):
        pmap(task, 5, jobs=2)


def test_done_is_called_once_per_task_in_the_caller():
    seen = []
    pmap(lambda i: i, 4, jobs=2, done=seen.append)
    assert sorted(seen) == [0, 1, 2, 3]


@pytest.mark.parametrize("jobs, error, message", [(0, ValueError, "jobs=0 is outside the domain: integer >= 1"),
                                                   (1.5, TypeError, "jobs=1.5 must be a positive integer")])
def test_bad_jobs_are_refused(jobs, error, message):
    with pytest.raises(error, match=message):
        check_jobs(jobs)
    with pytest.raises(error, match=message):
        wb.verify_many(["xent.margin"], jobs=jobs)


def test_cli_bad_jobs_is_one_line_and_exit_2():
    proc = subprocess.run([sys.executable, "-m", "workbench", "verify", "--jobs", "0"], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "--jobs=0 is outside the domain" in proc.stderr
