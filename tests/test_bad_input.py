"""Bad input, in one place: two tables, one for the Python API and one for the command line.

Every row is refused before any work starts (the executors' ``run_task`` is replaced by a function
that fails the test), with one error that names the parameter and its domain: a ``ValueError`` or
``TypeError`` in Python, one line on stderr and exit status 2 on the command line, and no file
left behind in either. The rows are examples of classes, drawn from every area and every entry
point: a value outside its domain, a value of the wrong type, an unknown name, a constraint
between parameters, malformed text, a bad file. Each claim's domains are also checked
exhaustively from its Parameters' own invalid examples (tests/test_parameters.py).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest

import workbench as wb
import workbench.execution
import workbench.export
import workbench.verification
from numerics import double_descent as DD
from numerics import lazy_training as LT
from numerics import random_matrices as RM
from numerics import wide_networks as WN
from proofs import Source
from workbench.cli import main
from workbench.codec import quantize
from workbench.errors import DomainError, InputTypeError
from workbench.export import latex
from workbench.files import OutputError
from workbench.settings import RunSettings
from workbench.sweeps import sweep

HE = "init.he-forward"
NBM = "deeplinear.no-bad-minima"
SAXE = "deeplinear.saxe-dynamics"


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


def verify(claim_id, **params):
    return lambda: wb.verify(claim_id, **params)


def figure(claim_id, **params):
    return lambda: wb.figure(claim_id, **params)


def source(**changes):
    base = {"key": "k", "authors": "A. B", "title": "T", "venue": "V", "year": 2020}
    return lambda: Source(**{**base, **changes})


def row(call, error, message, id):
    return pytest.param(call, error, message, id=id)


# Grids of `sweep`: refused by sweep() and by `workbench sweep --grid` in the same words.
GRIDS = [
    (["depth=5:1"], ValueError, "depth='5:1' is an empty range", "empty-range"),
    (["fan_in=a,b"], ValueError, "fan_in='a' is not an integer", "not-integers"),
    (["depth=1:9:0"], ValueError, "the step must not be zero", "zero-step"),
    (["depth=1:x"], ValueError, "START:STOP:STEP must be integers", "range-not-integers"),
    (["depth=1:2:3:4"], ValueError, "must read START:STOP or START:STOP:STEP", "range-four-parts"),
    (["c=1:3"], ValueError, "ranges START:STOP:STEP are for integer parameters", "range-of-reals"),
    (["depth=0:3"], ValueError, "depth=0 is outside the domain: integer with 1 <= depth <= 200", "outside-domain"),
    (["depth=2,2"], ValueError, "grid depth repeats the value 2", "repeated-value"),
    (["depth="], ValueError, "grid depth= lists no values", "no-values"),
    (["depth"], ValueError, "must read NAME=V1,V2,... or NAME=START:STOP[:STEP]", "no-equals"),
    (["width=2,3"], TypeError, "unknown parameter 'width' for init.he-forward; its parameters: fan_in, depth",
     "unknown-parameter"),
    (["depth=2", "depth=3"], ValueError, "grid parameter 'depth' is given twice", "axis-twice"),
    (["depth=190", "fan_in=32"], ValueError, "depth=190 is too deep for fan_in=32", "constraint"),
]

API = [
    # -- the run settings, shared by every entry point
    row(verify("xent.nope"), ValueError, "unknown claim 'xent.nope'", "unknown-claim"),
    row(lambda: wb.verify(42), TypeError, "a claim is a Claim or a claim id such as 'xent.margin', not int", "claim-type"),
    row(verify("xent.margin", resolution=-1), ValueError, "resolution=-1 is outside the domain", "resolution"),
    row(verify("xent.margin", alpha=2), ValueError, "alpha=2 is outside the domain", "alpha"),
    row(verify("xent.margin", seed=-1), ValueError, "seed=-1 is outside the domain: integer >= 0", "seed"),
    row(verify("xent.margin", seed="x"), TypeError, "seed='x' must be an integer", "seed-type"),
    row(verify("xent.margin", backend="tpu"), ValueError,
        "backend='tpu' is outside the domain: one of numpy, cupy, torch, array-api-strict, auto", "backend"),
    row(lambda: wb.verify_many(["xent.margin"], jobs=0), DomainError, "jobs=0 is outside the domain: integer >= 1", "jobs"),
    row(lambda: wb.verify_many(["xent.margin"], jobs=1.5), InputTypeError, "jobs=1.5 must be an integer", "jobs-type"),
    row(lambda: RunSettings(max_replicates=0), DomainError, "max_replicates=0 is outside the domain", "max-replicates"),
    # -- claim parameters: domain, type, unknown name, constraints between parameters (every area)
    row(verify("xent.margin", K=0), ValueError, "K=0 is outside the domain: integer with 2 <= K", "xent-K"),
    row(verify("xent.margin", K=2.5), TypeError, "K=2.5 must be an integer", "xent-K-type"),
    row(verify("xent.margin", K=True), TypeError, "K=True must be an integer", "xent-K-bool"),
    row(verify("xent.margin", m="1"), TypeError, "m='1' must be a number", "xent-m-type"),
    row(verify("xent.margin", m=math.inf), ValueError, "m=inf is outside the domain: finite real", "xent-m-inf"),
    row(verify("xent.margin", nosuch=1), TypeError, "unknown parameter 'nosuch' for xent.margin; its parameters: K, m",
        "xent-unknown"),
    row(verify("xent.derivatives", n=3), ValueError, "n=3 is outside the domain: one of 1, 2", "xent-choice"),
    row(verify("xent.score-identity", s=0.0), ValueError, "s=0.0 is outside the domain: finite real with 0 < s <= 100",
        "xent-s"),
    row(verify("huffman.bounds", K=1), ValueError, "K=1 is outside the domain: integer with 2 <= K <= 1024", "huffman-K"),
    row(verify("huffman.bounds", concentration=0.0), ValueError, "concentration=0.0 is outside the domain",
        "huffman-concentration"),
    row(verify("huffman.bounds", draws=8), ValueError, "draws=8 is outside the domain", "huffman-draws"),
    row(verify("huffman.dyadic", K=65), ValueError, "K=65 is outside the domain: integer with 2 <= K <= 64", "huffman-dyadic"),
    row(verify("huffman.gallager", concentration=math.nan), ValueError, "concentration=nan is outside the domain",
        "huffman-nan"),
    row(verify("huffman.quantized-gaussian", sigma=0.1), ValueError, "sigma=0.1 is outside the domain", "huffman-sigma"),
    row(verify("huffman.quantized-gaussian", Delta=0.1), TypeError, "unknown parameter 'Delta'", "huffman-unknown"),
    row(verify("deeplinear.scalar", N=1), ValueError, "N=1 is outside the domain: one of 2, 3, 4, 5", "scalar-N"),
    row(verify("deeplinear.scalar", t=3.0), ValueError, "t=3.0 is outside the domain", "scalar-t"),
    row(verify("deeplinear.baldi-hornik", d_x=0), ValueError, "d_x=0 is outside the domain", "bh-d_x"),
    row(verify("deeplinear.baldi-hornik", k=5), ValueError, "k=5 exceeds d_y=4", "bh-k"),
    row(verify("deeplinear.baldi-hornik", d_y=6), ValueError, "d_y=6 exceeds d_x=5", "bh-d_y"),
    row(verify("deeplinear.baldi-hornik", n=5), ValueError, "singular data covariance", "bh-n"),
    row(verify(NBM, width=0), ValueError, "width=0 is outside the domain: integer with 1 <= width <= 16", "nbm-width"),
    row(verify(NBM, samples=3), ValueError, "samples=3 must exceed n_in=4", "nbm-samples"),
    row(verify(NBM, samples=10), ValueError, "samples=10 is too few for n_in=4", "nbm-few-samples"),
    row(verify(NBM, width=3, n_in=3, n_out=3), ValueError, "width = n_in = 3 at depth=3: the layers at that end are square",
        "nbm-square"),
    row(verify(NBM, depth=2.5), TypeError, "depth=2.5 must be an integer", "nbm-depth-type"),
    row(verify(SAXE, s=0.0), ValueError, "s=0.0 is outside the domain: finite real with 0 < s <= 5", "saxe-s"),
    row(verify(SAXE, lr=0.1), ValueError, "lr=0.1 is too large for s=2", "saxe-lr"),
    row(verify(SAXE, t=20.0, lr=1e-5), ValueError, "needs 2000000 gradient steps", "saxe-steps"),
    row(verify("double-descent.finite-n", n=20, p=22), ValueError, "p=22 is within 7 of n=20", "dd-threshold"),
    row(verify("double-descent.finite-n", sigma=0.0), ValueError, "sigma=0.0 is outside the domain", "dd-sigma"),
    row(verify("double-descent.finite-n", p=2.5), TypeError, "p=2.5 must be an integer", "dd-p-type"),
    row(verify("double-descent.ridgeless", gamma=1.1), ValueError,
        "gamma=1.1 is within 0.3 of the interpolation threshold", "dd-gamma"),
    row(verify("double-descent.ridgeless", n=64), TypeError, "unknown parameter 'n' for double-descent.ridgeless",
        "dd-unknown"),
    row(verify(HE, fan_in=0), ValueError, "fan_in=0 is outside the domain: integer with 1 <= fan_in <= 4096", "he-fan_in"),
    row(verify(HE, c=-1.0), ValueError, "c=-1.0 is outside the domain: finite real with 0.5 <= c <= 4", "he-c"),
    row(verify(HE, method="sparse"), ValueError, "method='sparse' is outside the domain: one of gram, dense", "he-method"),
    row(verify(HE, fan_in=8, depth=50), ValueError, "depth=50 is too deep for fan_in=8", "he-too-deep"),
    row(verify("init.gain", activation="gelu"), ValueError, "activation='gelu' is outside the domain: one of relu",
        "gain-activation"),
    row(verify("init.gain", negative_slope=2.0), ValueError, "negative_slope=2.0 is outside the domain", "gain-slope"),
    row(verify("init.xavier", n_in=0), ValueError, "n_in=0 is outside the domain", "xavier-n_in"),
    row(verify("ntk.lazy-training", quantity="bias"), ValueError, "quantity", "lazy-quantity"),
    row(verify("ntk.lazy-training", N=512), TypeError, "unknown parameter 'N' for ntk.lazy-training", "lazy-unknown"),
    row(verify("rmt.lyapunov", sigma=0.0), ValueError,
        "sigma=0.0 is outside the domain: finite real with 0.001 <= sigma", "rmt-sigma"),
    row(verify("rmt.lyapunov", N=4, i=5), ValueError, "i=5 exceeds N=4", "rmt-i"),
    row(verify("residual.isometry", L=0), ValueError, "L=0 is outside the domain: integer with 1 <= L <= 2", "isometry-L"),
    row(verify("residual.jacobian", width=0), ValueError, "width=0 is outside the domain: integer with 1 <= width <= 128",
        "jacobian-width"),
    row(verify("residual.singular-bounds", eps=1.0), ValueError,
        "eps=1.0 is outside the domain: finite real with 0 < eps <= 0.99", "singular-eps"),
    row(verify("residual.singular-bounds", eps="0.1"), TypeError, "eps='0.1' must be a number", "singular-eps-type"),
    row(verify("residual.singular-bounds", bound="middle"), ValueError,
        "bound='middle' is outside the domain: one of upper, lower", "singular-bound"),
    row(verify("residual.vanishing", sigma2=-0.1), ValueError,
        "sigma2=-0.1 is outside the domain: finite real with 0 <= sigma2 <= 4", "vanishing-sigma2"),
    row(verify("residual.vanishing", width=2, depth=100, sigma2=1.0), ValueError, "depth=100 is too deep for width=2",
        "vanishing-too-deep"),
    row(verify("nngp.relu", theta=4.0), ValueError, "theta=4.0 is outside the domain", "nngp-theta"),
    row(verify("nngp.relu", L=6), ValueError, "L=6 is outside the domain", "nngp-L"),
    row(verify("ntk.relu", trained="first"), ValueError, "trained", "ntk-trained"),
    row(verify("ntk.relu", N=0), ValueError, "N=0 is outside the domain", "ntk-N"),
    # -- figures validate as verify does
    row(figure("xent.margin", K=1), ValueError, "K=1 is outside the domain", "figure-K"),
    row(figure("xent.margin", nosuch=1), TypeError, "unknown parameter 'nosuch' for xent.margin", "figure-unknown"),
    row(figure("xent.margin", seed=-1), ValueError, "seed=-1 is outside the domain", "figure-seed"),
    row(figure("xent.margin", backend="tpu"), ValueError, "backend='tpu' is outside the domain", "figure-backend"),
    # -- the kernels, called directly
    row(lambda: DD.min_norm_risk(np, _rng(), 10, n=10, p=11, r=1.0, sigma=1.0), ValueError, "p=11 is within 1 of n=10",
        "kernel-dd-threshold"),
    row(lambda: DD.ridgeless_experiment(np, _rng(), 10, gamma=2.0, sigma=1.0, r=1.0, n=32.0), TypeError,
        "n=32.0 must be an integer", "kernel-dd-n-type"),
    row(lambda: LT.lazy_experiment(np, _rng(), 4, quantity="weights", N=3), ValueError,
        "N=3 is outside the domain: even integer >= 2", "kernel-lazy-N"),
    row(lambda: LT.lazy_experiment(np, _rng(), 4, quantity="loss", N=64), ValueError,
        "quantity='loss' is not one of weights, function, kernel", "kernel-lazy-quantity"),
    row(lambda: RM.lyapunov_spectrum(np, _rng(), 10, N=3, sigma=1.0, k=4), ValueError, "k=4 is outside", "kernel-rmt-k"),
    row(lambda: RM.lyapunov_spectrum(np, _rng(), 10, N=3, sigma=1.0, factors="unitary"), ValueError, "factors='unitary'",
        "kernel-rmt-factors"),
    row(lambda: RM.isometry_experiment(np, _rng(), 10, L=2, N=2.0), TypeError, "N=2.0 must be an integer",
        "kernel-isometry-N"),
    row(lambda: WN.nngp_estimate(np, _rng(), 10, theta=-0.1, L=1, N=4), ValueError, "theta=-0.1", "kernel-nngp-theta"),
    row(lambda: quantize(np.zeros(3), 0), ValueError, "bits=0 is outside the domain: integer with 1 <= bits <= 16",
        "quantize-bits"),
    row(lambda: quantize(np.array([1.0, np.nan]), 8), ValueError, "NaN or infinite", "quantize-nan"),
    row(lambda: quantize(np.arange(3), 8), TypeError, "quantize() takes a float array", "quantize-ints"),
    # -- latex export: refused before anything is written
    row(lambda: latex("xent.nope"), ValueError, "unknown claim", "latex-claim"),
    row(lambda: latex("xent", "claims.txt"), OutputError, "must end in .tex", "latex-suffix"),
    row(lambda: latex("xent", pdf=True), ValueError, "needs an output path", "latex-pdf"),
    row(lambda: latex("xent", "c.tex", pdf=True, fragment=True), ValueError, "fragment", "latex-pdf-fragment"),
    row(lambda: latex("xent", params={"xent.margin": {"K": 1}}), ValueError, "K=1 is outside the domain", "latex-params"),
    row(lambda: latex("xent", seed=-1), ValueError, "seed=-1 is outside the domain", "latex-seed"),
    row(source(year=99), ValueError, "year", "source-year"),
    row(source(doi="10.1/a b"), ValueError, "doi", "source-doi"),
    row(source(url="http://x/{y}"), ValueError, "url", "source-url"),
    row(source(kind="thesis"), ValueError, "kind", "source-kind"),
    # -- sweeps
    *(row(lambda grid=grid: sweep(HE, grid, scheduler="serial"), error, message, f"grid-{name}")
      for grid, error, message, name in GRIDS),
]


@pytest.fixture
def no_work(monkeypatch, tmp_path):
    """Work in an empty directory where starting a claim's run fails the test."""

    def started(*args, **kwargs):
        raise AssertionError("work started before the input was validated")

    for module in (workbench.verification, workbench.execution, workbench.export):
        monkeypatch.setattr(module, "run_task", started)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(("call", "error", "message"), API)
def test_the_api_refuses_bad_input_before_any_work_naming_the_parameter(no_work, call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)
    assert "\n" not in str(info.value)  # one line, as the command line shows it
    assert os.listdir(no_work) == []


CLI = [
    # -- the grammar
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    ([], "required: COMMAND"),
    (["list", "extra"], "unrecognized arguments: extra"),
    # -- run settings, parsed by the same Parameters as the API
    (["verify", "xent.margin", "--backend", "gpu"], "invalid choice: 'gpu'"),
    (["verify", "xent.margin", "--backend", "cupy"], "CuPy is not installed"),
    (["verify", "xent.margin", "--resolution", "-1"], "argument --resolution: resolution=-1 is outside the domain"),
    (["verify", "xent.margin", "--resolution", "nan"], "resolution=nan is outside the domain"),
    (["verify", "xent.margin", "--alpha", "1"], "alpha=1 is outside the domain"),
    (["verify", "xent.margin", "--alpha", "much"], "argument --alpha: alpha='much' is not a real number"),
    (["verify", "xent.margin", "--seed", "x"], "seed='x' is not an integer"),
    (["verify", "xent.margin", "--seed", "-3"], "argument --seed: seed=-3 is outside the domain: integer >= 0"),
    (["verify", "xent.margin", "--jobs", "0"], "argument --jobs: jobs=0 is outside the domain"),
    (["verify", "xent.margin", "--max-replicates", "0"], "max_replicates=0 is outside the domain"),
    # -- claims and --set
    (["verify", "xent.nope"], "unknown claim 'xent.nope'"),
    (["verify", "xent.margin", "xent.nope"], "unknown claim 'xent.nope'"),
    (["verify", "xent.margin", "--set", "K=0"], "K=0 is outside the domain: integer with 2 <= K <= 1000000"),
    (["verify", "xent.margin", "--set", "K=2.5"], "K='2.5' is not an integer"),
    (["verify", "xent.derivatives", "--set", "n=3"], "n=3 is outside the domain: one of 1, 2"),
    (["verify", "xent.margin", "--set", "nosuch=1"], "unknown parameter 'nosuch'"),
    (["verify", "xent.asymptotes", "--set", "K=3"], "parameters of xent.asymptotes (m)"),
    (["verify", "xent.margin", "--set", "m"], "must read NAME=VALUE"),
    (["verify", "xent.margin", "--set", "=3"], "must read NAME=VALUE"),
    (["verify", "xent.margin", "--set", "K=5", "--set", "K=6"], "--set K is given twice"),
    (["verify", HE, "--set", "c=-1"], "c=-1 is outside the domain"),
    (["verify", HE, "--set", "fan_in=4", "--set", "depth=100"], "too deep for fan_in=4"),
    (["verify", NBM, "--set", "samples=3"], "samples=3 must exceed n_in=4"),
    (["verify", SAXE, "--set", "lr=0.09"], "lr=0.09 is too large"),
    (["verify", "double-descent.ridgeless", "--set", "gamma=1"], "gamma=1 is within 0.3"),
    (["verify", "double-descent.finite-n", "--set", "n=10", "--set", "p=10"], "p=10 is within 7 of n=10"),
    (["verify", "rmt.lyapunov", "--set", "sigma=0"], "sigma=0 is outside the domain"),
    (["verify", "rmt.lyapunov", "--set", "N=8", "--set", "i=9"], "i=9 exceeds N=8"),
    (["verify", "residual.singular-bounds", "--set", "eps=1"], "eps=1 is outside the domain"),
    (["verify", "residual.vanishing", "--set", "depth=2.5"], "depth='2.5' is not an integer"),
    # -- derive
    (["derive", "xent.nope"], "unknown claim 'xent.nope'"),
    (["derive", "xent.margin", "--graph"], "--graph needs -o FILE"),
    (["derive", "xent", "--graph", "-o", "g.png"], "--graph draws one claim"),
    (["derive", "xent.margin", "--graph", "-o", "g.txt"], "unknown figure format"),
    (["derive", "xent.margin", "-o", "g.png"], "-o goes with --graph"),
    (["derive", "xent.margin", "--json", "--latex"], "not allowed with argument --json"),
    # -- latex and plot
    (["latex", "xent.nope"], "unknown claim 'xent.nope'"),
    (["latex", "-o", "x.txt"], "must end in .tex"),
    (["latex", "--pdf"], "needs an output path"),
    (["latex", "--set", "K=one", "xent.margin"], "K='one' is not an integer"),
    (["plot", "xent.margin", "-o", "f.xyz"], "unknown figure format"),
    (["plot", "xent.margin", "-o", "f.pdf", "--set", "m=nan"], "m=nan is outside the domain"),
    (["plot", "xent.nope", "-o", "f.pdf"], "unknown claim"),
    (["plot", "xent.margin"], "the following arguments are required: -o/--output"),
    # -- sweep
    *((["sweep", HE] + [x for item in grid for x in ("--grid", item)], message) for grid, _, message, _ in GRIDS),
    (["sweep", HE, "--grid", "depth=2,4", "--set", "depth=3"], "depth is both swept (a grid axis) and fixed"),
    (["sweep", HE], "the following arguments are required: --grid"),
    (["sweep", HE, "--grid", "depth=2,4", "--jobs", "0"], "argument --jobs: jobs=0 is outside the domain"),
    (["sweep", HE, "--grid", "depth=2,4", "--json", "--csv"], "not allowed with argument"),
    (["sweep", HE, "--grid", "depth=2,4", "--jobs", "2", "--scheduler", "tcp://127.0.0.1:9"],
     "jobs sizes the local processes"),
    (["sweep", HE, "--grid", "depth=2,4", "--alpha", "0"], "argument --alpha: alpha=0 is outside the domain"),
    # -- compress / decompress: bad files (made by the `files` fixture)
    (["compress", "ints.npy", "--bits", "4"], "holds int64 values, not floats"),
    (["compress", "nan.npy", "--bits", "4"], "NaN or infinite"),
    (["compress", "objects.npy", "--bits", "4"], "is not a readable .npy array"),
    (["compress", "archive.npz", "--bits", "4"], "is an .npz archive, not a single .npy array"),
    (["compress", "text.npy", "--bits", "4"], "is not a readable .npy array"),
    (["compress", "folder.npy", "--bits", "4"], "is a directory"),
    (["compress", "missing.npy", "--bits", "4"], "cannot read missing.npy: No such file or directory"),
    (["compress", "W.npy", "--bits", "0"], "argument --bits: bits=0 is outside the domain: integer with 1 <= bits <= 16"),
    (["compress", "W.npy", "--bits", "eight"], "argument --bits: bits='eight' is not an integer"),
    (["compress", "W.npy"], "the following arguments are required: --bits"),
    (["compress", "W.npy", "--bits", "4", "-o", "text.npy/out.wbz"], "is not a directory"),
    (["decompress", "truncated.wbz", "-o", "x.npy"], "the file is truncated"),
    (["decompress", "flipped.wbz", "-o", "x.npy"], "the checksum does not match: the file is corrupted"),
    (["decompress", "W.npy", "-o", "x.npy"], "not a workbench compressed file"),
    (["decompress", "missing.wbz", "-o", "x.npy"], "cannot read missing.wbz"),
]


@pytest.fixture
def files(no_work):
    """The bad files the codec rows refer to, beside a real weight file and its compressed form."""
    rng = np.random.default_rng(5)
    np.save("W.npy", (0.02 * rng.standard_normal((64, 300))).astype(np.float32))
    np.save("ints.npy", np.arange(10))
    np.save("nan.npy", np.array([1.0, np.nan], np.float32))
    np.save("objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.savez("archive.npz", a=np.zeros(3))
    (no_work / "text.npy").write_text("not numpy\n")
    (no_work / "folder.npy").mkdir()
    assert main(["compress", "W.npy", "--bits", "4", "--json"]) == 0
    data = (no_work / "W.wbz").read_bytes()
    (no_work / "truncated.wbz").write_bytes(data[: len(data) // 2])
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 1
    (no_work / "flipped.wbz").write_bytes(bytes(flipped))
    return sorted(os.listdir(no_work))


@pytest.mark.parametrize(("argv", "message"), [pytest.param(a, m, id=" ".join(a) or "no-command") for a, m in CLI])
def test_the_command_line_refuses_bad_input_in_one_line_with_exit_2(files, capsys, monkeypatch, argv, message):
    monkeypatch.setitem(sys.modules, "cupy", None)  # `import cupy` raises ImportError
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2 and out == "", (code, out)
    assert err.startswith("workbench: error: ") and err.count("\n") == 1 and message in err, err
    assert sorted(os.listdir()) == files  # nothing written, nothing removed


def test_a_real_process_prints_one_line_and_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "workbench", "verify", "nngp.relu", "--set", "L=9"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False)
    assert proc.returncode == 2 and proc.stdout == "", proc
    assert proc.stderr == "workbench: error: L=9 is outside the domain: integer with 1 <= L <= 5\n", proc.stderr
    assert os.listdir(tmp_path) == []
