"""The ``workbench`` command line: exit codes, one-line usage errors, JSON output.

Most tests call :func:`workbench.cli.main` in-process (fast, output captured by
``capsys``); one runs the real entry point in a subprocess.
"""

from __future__ import annotations

import errno
import json
import subprocess
import sys
import types

import pytest

import workbench as wb
import workbench.cli as cli
from workbench.cli import main

XENT_IDS = ["xent.margin", "xent.derivatives", "xent.asymptotes", "xent.score-identity"]
VERDICT_KEYS = {"id", "parameters", "expected", "estimate", "stderr", "resolution", "passed", "backend", "seed", "seconds"}
FAST = ["--resolution", "0.1"]  # keeps the statistical claim to its pilot batch


def _run(capsys, argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _json(capsys, argv: list[str]) -> list[dict]:
    code, out, err = _run(capsys, argv)
    assert code == 0, err
    assert "error" not in err and "warning" not in err  # stderr holds one progress line per claim
    return json.loads(out)


def _assert_one_line_usage_error(code: int, out: str, err: str, expected: str) -> None:
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("workbench: error:"), err
    assert expected in lines[0], err
    assert "Traceback" not in err


# -- usage errors (the table of bad inputs is tests/test_bad_input.py) ---------------------

def test_unknown_claim_suggests_the_closest_id(capsys):
    code, out, err = _run(capsys, ["verify", "xent.marginn"])
    _assert_one_line_usage_error(code, out, err, "unknown claim 'xent.marginn'")
    suggestions = err.split("did you mean", 1)[1]
    assert suggestions.strip().startswith("xent.margin,") or suggestions.strip().startswith("xent.margin?")


# -- CuPy: two failure modes and the auto fallback ---------------------------------------


def _cupy_without_device() -> types.ModuleType:
    fake = types.ModuleType("cupy")

    def asarray(*args, **kwargs):
        raise RuntimeError("no CUDA-capable device is detected")

    fake.asarray = asarray
    return fake


def test_cupy_installed_without_a_device_is_a_distinct_usage_error(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", _cupy_without_device())
    code, out, err = _run(capsys, ["verify", "xent.margin", "--backend", "cupy"])
    _assert_one_line_usage_error(code, out, err, "CuPy is installed but no CUDA device is usable")
    assert "no CUDA-capable device is detected" in err
    assert "not installed" not in err


@pytest.mark.parametrize("cupy", [None, _cupy_without_device()], ids=["cupy-missing", "cupy-without-device"])
def test_auto_backend_falls_back_to_numpy_when_cupy_is_unusable(capsys, monkeypatch, cupy):
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    rows = _json(capsys, ["verify", "xent.margin", "--backend", "auto", "--json"])
    assert [r["backend"] for r in rows] == ["numpy"]
    assert rows[0]["passed"] is True


# -- JSON output --------------------------------------------------------------------------


def test_verify_json_is_a_list_of_one_object_per_claim_with_typed_fields(capsys):
    rows = _json(capsys, ["verify", "xent.margin", "--json"])
    assert isinstance(rows, list) and len(rows) == 1
    row = rows[0]
    assert VERDICT_KEYS <= set(row)
    assert row["id"] == "xent.margin"
    assert isinstance(row["parameters"], dict)
    assert row["parameters"] == wb.claim("xent.margin").defaults
    for key in ("expected", "estimate", "stderr", "resolution", "seconds"):
        assert isinstance(row[key], float), key
    assert isinstance(row["passed"], bool) and row["passed"] is True
    assert isinstance(row["backend"], str) and row["backend"] == "numpy"
    assert isinstance(row["seed"], int) and not isinstance(row["seed"], bool) and row["seed"] == 0
    assert row["seconds"] >= 0


def test_verify_an_area_gives_every_claim_of_that_area(capsys):
    rows = _json(capsys, ["verify", "xent", "--json", *FAST])
    assert [r["id"] for r in rows] == XENT_IDS
    assert all(VERDICT_KEYS <= set(r) for r in rows)
    assert all(r["passed"] is True for r in rows)


def test_list_json_describes_every_claim(capsys):
    rows = _json(capsys, ["list", "--json"])
    assert [r["id"] for r in rows] == [c.id for c in wb.claims()]
    for r in rows:
        assert {"id", "title", "source", "parameters"} <= set(r)
        assert isinstance(r["title"], str) and r["title"]
        assert isinstance(r["source"], list) and r["source"]
        assert isinstance(r["parameters"], dict)
        for spec in r["parameters"].values():
            assert {"default", "domain", "doc"} <= set(spec)


def test_list_prints_a_table_of_the_claims(capsys):
    code, out, err = _run(capsys, ["list"])
    assert code == 0 and err == ""
    for claim_id in XENT_IDS:
        assert claim_id in out


def test_set_applies_to_every_chosen_claim_that_has_the_parameter(capsys):
    rows = {r["id"]: r for r in _json(capsys, ["verify", "xent", "--set", "K=3", "--json", *FAST])}
    assert rows["xent.margin"]["parameters"]["K"] == 3
    assert rows["xent.score-identity"]["parameters"]["K"] == 3
    assert "K" not in rows["xent.asymptotes"]["parameters"]
    assert "K" not in rows["xent.derivatives"]["parameters"]
    assert rows["xent.margin"]["parameters"]["m"] == wb.claim("xent.margin").defaults["m"]


def test_set_values_are_parsed_with_the_parameter_type(capsys):
    rows = _json(capsys, ["verify", "xent.derivatives", "--set", "m=-2.5", "--set", "n=2", "--json"])
    assert rows[0]["parameters"] == {"m": -2.5, "n": 2}
    assert isinstance(rows[0]["parameters"]["n"], int)


# -- exit status and the table ---------------------------------------------------------


def _failed_verdict() -> wb.Verdict:
    return wb.Verdict(
        id="xent.margin",
        kind="exact",
        parameters={"K": 2, "m": 1.5},
        expected=1.0,
        estimate=2.0,
        stderr=0.0,
        z=float("inf"),
        status="fail",
        resolution=1e-15,
        scale="relative",
        tolerance=1e-15,
        alpha=1e-6,
        replicates=1,
        backend="numpy",
        dtype="float64",
        seed=0,
        seconds=0.0,
    )


def test_a_failed_claim_exits_1_and_the_table_says_fail(capsys, monkeypatch):
    monkeypatch.setattr(cli.run, "execute", lambda plan, **kwargs: [_failed_verdict()])
    code, out, err = _run(capsys, ["verify", "xent.margin"])
    assert code == 1
    assert "FAIL" in out and "PASS" not in out
    assert "xent.margin" in out
    assert out.splitlines()[-1] == "1 claim: 0 pass, 1 fail in " + out.splitlines()[-1].rsplit(" in ", 1)[1]
    assert err == ""


def test_a_failed_claim_exits_1_with_json_too(capsys, monkeypatch):
    monkeypatch.setattr(cli.run, "execute", lambda plan, **kwargs: [_failed_verdict()])
    code, out, err = _run(capsys, ["verify", "xent.margin", "--json"])
    assert code == 1
    (row,) = json.loads(out)
    assert row["passed"] is False
    assert row["z"] is None  # a non-finite z is written as null, keeping the output valid JSON


def test_passing_claims_exit_0_and_the_table_says_pass(capsys):
    code, out, err = _run(capsys, ["verify", "xent.margin", "xent.asymptotes"])
    assert code == 0, err
    assert out.count("PASS") == 2 and "FAIL" not in out


# -- the error net: an OSError that escapes a command ------------------------------------------

@pytest.mark.parametrize(("command", "error", "said"), [
    ("verify", OSError(errno.ENOSPC, "No space left on device", "/out/claims.tex"),
     "workbench: error: verify: No space left on device (/out/claims.tex)"),
    ("latex", PermissionError(errno.EACCES, "Permission denied", "/out"), "workbench: error: latex: Permission denied (/out)"),
    ("sweep", OSError(errno.EROFS, "Read-only file system", "/store/a.json", None, "/store/b.json"),
     "workbench: error: sweep: Read-only file system (/store/a.json -> /store/b.json)"),
    ("decompress", OSError(errno.EIO, "Input/output error"), "workbench: error: decompress: Input/output error"),
    ("list", OSError("the disk went away"), "workbench: error: list: the disk went away"),
])
def test_an_os_error_escaping_a_command_is_one_line_exit_2(capsys, monkeypatch, command, error, said):
    def fails(args):
        raise error

    monkeypatch.setitem(cli.COMMANDS, command, fails)
    argv = {"verify": ["verify", "xent.margin"], "latex": ["latex", "xent.margin"],
            "sweep": ["sweep", "xent.margin", "--grid", "m=1,2"], "decompress": ["decompress", "x.wbz"], "list": ["list"]}
    code, out, err = _run(capsys, argv[command])
    assert (code, out, err.splitlines()) == (2, "", [said])


def test_a_closed_pipe_is_not_caught_by_the_error_net(capsys, monkeypatch):
    def piped(args):
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    monkeypatch.setitem(cli.COMMANDS, "list", piped)
    monkeypatch.setattr(sys, "stderr", types.SimpleNamespace(close=lambda: None))
    assert main(["list"]) == 0


# -- derive -------------------------------------------------------------------------------


def test_derive_prints_the_derivation_checked_by_sympy(capsys):
    code, out, err = _run(capsys, ["derive", "xent.margin"])
    assert code == 0 and err == ""
    assert out.startswith("xent.margin: ")
    assert "checked by SymPy" in out


def test_derive_prints_choices_by_name_and_the_correction_lemmas(capsys):
    """Coded choices read as their names (not ``quantity = 1``), a case split stays on its line, and the lemma
    whose coefficient the verdicts test follows the derivation, its cube root read as one."""
    _, out, _ = _run(capsys, ["derive", "mup.feature-learning"])
    assert "parameterization = ntk; " in out and "parameterization = 1" not in out
    _, out, _ = _run(capsys, ["derive", "lipschitz.spectral"])
    assert "Lemma (the coefficient of n^-(2/3)):" in out and "∛(1 + 1/(√a))" in out and "[" not in out.split("Lemma")[1][:400]


def test_derive_json_gives_steps_with_premises_and_the_conclusions_support(capsys):
    obj = _json(capsys, ["derive", "xent.margin", "--json"])
    assert set(obj) >= {"id", "title", "steps", "conclusion", "counts"}
    assert set(obj["conclusion"]) >= {"lhs", "rel", "rhs", "support", "status", "cited"}
    numbers = [s["n"] for s in obj["steps"]]
    assert numbers == list(range(1, len(numbers) + 1)) and obj["conclusion"]["support"] == numbers
    assert all(set(s["uses"]) <= set(range(1, s["n"])) for s in obj["steps"])
    assert sum(obj["counts"].values()) == len(numbers)
    several = _json(capsys, ["derive", "xent.margin", "xent.asymptotes", "--json"])
    assert [o["id"] for o in several] == ["xent.margin", "xent.asymptotes"]


def test_derive_with_an_area_or_no_id_summarises_each_claim_in_one_line(capsys):
    code, out, err = _run(capsys, ["derive", "xent"])
    assert code == 0 and err == ""
    assert [line.split(":")[0] for line in out.splitlines()] == XENT_IDS
    assert all("conclusion" in line for line in out.splitlines())
    code, out, _ = _run(capsys, ["derive"])
    assert code == 0 and len(out.splitlines()) == len(wb.claims())


def test_derive_graph_writes_a_figure_and_refuses_a_foreign_file(capsys, tmp_path):
    target = tmp_path / "graph.png"
    code, out, err = _run(capsys, ["derive", "xent.margin", "--graph", "-o", str(target)])
    assert code == 0 and err == "" and target.read_bytes().startswith(b"\x89PNG")
    foreign = tmp_path / "mine.png"
    foreign.write_bytes(b"not the workbench's")
    code, out, err = _run(capsys, ["derive", "xent.margin", "--graph", "-o", str(foreign)])
    _assert_one_line_usage_error(code, out, err, "was not written by the workbench")
    assert foreign.read_bytes() == b"not the workbench's"


def test_derive_latex_prints_an_aligned_environment(capsys):
    code, out, err = _run(capsys, ["derive", "xent.margin", "--latex"])
    assert code == 0 and err == ""
    assert "\\begin{aligned}" in out


# -- reproducibility ----------------------------------------------------------------------


def _estimate(capsys, seed: int) -> float:
    (row,) = _json(capsys, ["verify", "xent.score-identity", "--seed", str(seed), "--json", *FAST])
    assert row["seed"] == seed
    return row["estimate"]


def test_the_same_seed_gives_the_same_estimate(capsys):
    assert _estimate(capsys, 7) == _estimate(capsys, 7)


def test_a_different_seed_gives_a_different_estimate(capsys):
    assert _estimate(capsys, 7) != _estimate(capsys, 8)


# -- the real entry point -----------------------------------------------------------------


def _run_module(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True, timeout=120, check=False)


def test_the_module_entry_point_runs_and_returns_the_exit_status():
    ok = _run_module("verify", "xent.margin", "--json")
    assert ok.returncode == 0, ok.stderr
    (row,) = json.loads(ok.stdout)
    assert row["id"] == "xent.margin" and row["passed"] is True

    bad = _run_module("verify", "--seed", "-3")
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr.splitlines() == ["workbench: error: argument --seed: seed=-3 is outside the domain: integer >= 0"]
