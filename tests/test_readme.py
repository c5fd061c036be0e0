"""README.md cannot go stale: its Python examples run as doctests and its commands run."""

import doctest
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PAPER_COMMAND

README = Path(__file__).resolve().parent.parent / "README.md"
TEXT = README.read_text(encoding="utf-8")


def _console_commands() -> list[str]:
    blocks = re.findall(r"```console\n(.*?)```", TEXT, flags=re.S)
    return [line[2:].strip() for block in blocks for line in block.splitlines() if line.startswith("$ ")]


def test_readme_opens_with_the_two_commands():
    first = _console_commands()[:2]
    assert first == ["pip install -e . && workbench verify", 'pip install -e ".[test]" && pytest']


def test_readme_python_examples_run():
    result = doctest.testfile(str(README), module_relative=False, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted > 10 and result.failed == 0


def _command_params() -> list:
    """README's workbench commands; the paper's goes to the worker that builds it for the LaTeX tests too."""
    # (the main job, `workbench verify` of every claim, is README's first command: CI runs it as printed before the
    # tests, and test_registry verifies every claim at its defaults in process)
    commands = [c for c in _console_commands() if c.startswith("workbench ")]
    return [pytest.param(c, marks=pytest.mark.xdist_group("paper")) if c == PAPER_COMMAND else c for c in commands]


@pytest.mark.parametrize("command", _command_params())
def test_readme_workbench_commands_exit_zero(command, tmp_path, request):
    if command == PAPER_COMMAND:  # the whole paper: built once per session (the LaTeX tests read it too)
        proc, _ = request.getfixturevalue("paper_run")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip()
        return
    argv = shlex.split(command)
    if "--pdf" in argv and not shutil.which("pdflatex"):
        if os.environ.get("CI"):
            pytest.fail("CI must have LaTeX (.ci/run installs it)")
        pytest.skip("pdflatex not installed")
    if "weights.npy" in argv or "weights.wbz" in argv:  # the compression examples: a user's tensor, compressed first
        import numpy as np

        np.save(tmp_path / "weights.npy", np.random.default_rng(0).standard_normal((64, 32)).astype(np.float32))
        if argv[1] == "decompress":
            _workbench("compress", "weights.npy", "--bits", "8", "-o", "weights.wbz", cwd=tmp_path)
    proc = _workbench(*argv[1:], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()


def _workbench(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "160"}, timeout=300, cwd=cwd)


def test_readme_performance_section_is_a_benchmark_report_table():
    """README shows the table `python -m benchmarks --markdown` writes: the machine named, every area present."""
    root = str(README.parent)
    if root not in sys.path:  # benchmarks/ sits beside the installed packages
        sys.path.insert(0, root)
    from benchmarks import AREAS

    section = TEXT.split("## Performance", 1)[1].split("\n## ", 1)[0]
    assert re.search(r"^Measured \d{4}-\d{2}-\d{2} on .+ CPUs, .+NumPy .+BLAS", section, flags=re.M)
    rows = [line.split(" | ") for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[0] == ["| area", "benchmark", "value", "target", "met |"]
    assert {r[0][2:] for r in rows[1:]} == set(AREAS)
