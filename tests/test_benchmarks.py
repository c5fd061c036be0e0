"""Smoke test of ``python -m benchmarks`` at a tiny size: the report's shape, never its timings."""

import json
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ sits beside the installed packages, not among them
    sys.path.insert(0, str(ROOT))

from benchmarks import AREAS, machine_info  # noqa: E402  (after the path set-up above)
from benchmarks import initialization as init_bench  # noqa: E402
from benchmarks.__main__ import main  # noqa: E402


def positive(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def test_initialization_benchmark_reports_every_number_at_a_tiny_size():
    report = init_bench.run(quick=True)
    assert report["size"]["fan_in"] == 16 and report["size"]["depth"] == 3
    verify, dense, gram = report["verify"], report["dense"], report["gram"]
    assert verify["parameters"]["method"] == "gram" and verify["passed"] and verify["reproducible"]
    for key in ("first_call_seconds", "seconds", "replicates", "target_seconds"):
        assert positive(verify[key]), key
    for key in ("seconds", "networks_per_second", "lower_bound_seconds", "lower_bound_networks_per_second", "ratio",
                "normals_per_batch", "target_ratio"):
        assert positive(dense[key]), key
    assert dense["batch"] == 64 and dense["normals_per_batch"] == 64 * 16 * 16 * 3
    assert dense["ratio"] == pytest.approx(dense["seconds"] / dense["lower_bound_seconds"])
    for key in ("seconds", "networks_per_second", "speedup_over_dense"):
        assert positive(gram[key]), key
    assert isinstance(verify["meets_target"], bool) and isinstance(dense["meets_target"], bool)
    for row in report["rows"]:
        assert set(row) == {"benchmark", "value", "unit", "target", "ok"} and positive(row["value"])


def test_the_natural_dense_batch_is_the_kernels_own():
    from numerics.initialization import dense_batch

    assert init_bench.FULL.dense_batch is None and dense_batch(256, 256) == 256
    assert (init_bench.FULL.fan_in, init_bench.FULL.depth, init_bench.FULL.c, init_bench.FULL.resolution) == (256, 20, 2.0, 0.01)


def test_main_prints_a_table_and_writes_the_json_report(tmp_path, capsys):
    path, table = tmp_path / "report.json", tmp_path / "table.md"
    assert main(["--quick", "--json", str(path), "--markdown", str(table)]) == 0
    out = capsys.readouterr().out
    assert "dense time / lower-bound time" in out and "networks/s" in out and str(path) in out
    report = json.loads(path.read_text())
    assert report["quick"] is True and set(report["areas"]) == set(AREAS)
    machine = report["machine"]
    for key in ("platform", "cpu_count", "numpy", "blas", "python"):
        assert machine[key], key
    assert machine == {**machine_info(), "cpus_usable": machine["cpus_usable"]}
    assert positive(report["seconds"])
    assert report["areas"]["initialization"]["rows"]
    lines = table.read_text().splitlines()
    assert machine["cpu"] in lines[0] and lines[2] == "| area | benchmark | value | target | met |"
    rows = [r for result in report["areas"].values() for r in result["rows"]]
    assert len(lines) == 4 + len(rows)
    for line, r in zip(lines[4:], rows, strict=True):
        assert r["benchmark"] in line


def test_backends_benchmark_at_a_tiny_size():
    from benchmarks import backends

    report = backends.run(quick=True)
    verify, memory, per = report["verify_all"], report["memory"], report["backends"]
    assert verify["claims"] == len(backends.QUICK.claims) and verify["passed"] and positive(verify["seconds"])
    assert set(verify["per_claim_seconds"]) == set(backends.QUICK.claims)
    layer = backends.QUICK.batch * backends.QUICK.fan_in**2 * 4
    assert memory["layer_bytes"] == layer and memory["ratio"] == pytest.approx(memory["peak_bytes"] / layer)
    assert per["numpy"]["usable"] and per["numpy"]["speedup_over_numpy_cpu"] == 1.0
    for name in ("torch", "cupy"):
        assert per[name]["usable"] or per[name]["why"]
    assert all("cuda" in per[n]["device"] for n in per["gpu"])
