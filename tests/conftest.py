"""Shared test configuration: Hypothesis profiles (derandomized in CI)."""

import os
import shlex
import shutil
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,  # CI is never flaky: the same examples every run
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


# --- the whole paper, built once per session by README's own command ---------------------------

PAPER_COMMAND = "workbench latex --verify --pdf -o paper/claims.tex"


@pytest.fixture(scope="session")
def paper_run(tmp_path_factory):
    """README's ``workbench latex --verify --pdf -o paper/claims.tex``, run once as printed (the
    README test checks it exits 0; the LaTeX tests read what it wrote)."""
    if not shutil.which("pdflatex"):
        if os.environ.get("CI"):
            pytest.fail("CI must have LaTeX (.ci/run installs it)")
        pytest.skip("pdflatex not installed")
    cwd = tmp_path_factory.mktemp("readme-paper")
    proc = subprocess.run([sys.executable, "-m", "workbench", *shlex.split(PAPER_COMMAND)[1:]], capture_output=True,
                          text=True, env={**os.environ, "COLUMNS": "160"}, timeout=600, cwd=cwd)
    return proc, cwd / "paper"
