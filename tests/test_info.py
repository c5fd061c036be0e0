"""workbench info: versions, usable backends and why not, BLAS, cores, LaTeX."""

import json
import shutil
import subprocess
import sys

import numpy as np

from numerics.backends import CUPY_MISSING, CUPY_NO_DEVICE
from workbench.info import info, info_text


def test_info_names_versions_backends_blas_and_cores():
    d = info()
    json.dumps(d)  # JSON-ready
    assert d["libraries"]["numpy"] == np.__version__ and "sympy" in d["libraries"]
    assert d["backends"]["numpy"] == {"usable": True, "device": "cpu"}
    cupy = d["backends"]["cupy"]
    if cupy["usable"]:
        assert cupy["device"].startswith("cuda:") and cupy["memory_total_gib"] > 0
        assert d["backends"]["auto"]["chooses"] == "cupy"
    else:  # one of the two distinct messages
        assert cupy["why"].startswith((CUPY_MISSING, CUPY_NO_DEVICE))
        assert d["backends"]["auto"]["chooses"] == "numpy"
    assert d["blas"] and all(b["threads"] >= 1 for b in d["blas"])
    assert d["cores"] >= 1
    assert d["latex"]["usable"] == bool(shutil.which("pdflatex"))


def test_info_text_has_one_line_per_backend_and_the_blas():
    text = info_text(info())
    assert text.startswith("workbench ")
    for needle in ("  numpy: usable (cpu)", "  cupy: ", "  auto: chooses ", "BLAS: ", "cores available: ", "LaTeX: "):
        assert needle in text


def test_cli_info_prints_text_and_json():
    run = [sys.executable, "-m", "workbench", "info"]
    text = subprocess.run(run, capture_output=True, text=True, timeout=120, check=True).stdout
    assert "backends:" in text and "numpy: usable" in text
    d = json.loads(subprocess.run([*run, "--json"], capture_output=True, text=True, timeout=120, check=True).stdout)
    assert d["backends"]["numpy"]["usable"] is True
