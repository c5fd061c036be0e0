"""Every kernel is backend-generic, proven on the CPU.

- Parity: every claim verifies on ``array-api-strict`` (the array API standard's reference namespace,
  which refuses anything outside the standard: a stray ``np.`` call or array method on backend
  arrays fails here), and on PyTorch (a second real array library), whose verdicts agree with
  NumPy's within their standard errors. The same on CuPy under the ``gpu`` marker.
- No host round trips in hot loops: the number of device-to-host conversions a kernel makes does
  not grow with its loop length (depth, layers, gradient steps).
- The generators: seeded, the same seed the same draws, and the PyTorch Gamma sampler has the
  right law.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys

import numpy as np
import pytest
from estimates import Z

import workbench as wb
from numerics import BackendUnavailable, backend
from numerics.namespaces import backend_name, bincount, to_host
from workbench.registry import claims

if os.environ.get("PYTEST_XDIST_WORKER"):  # the workers already fill the cores: one intra-op thread for torch
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass

COARSE = 0.25  # parity runs check that kernels run and agree, at a small budget (the resolution is reported)
PILOT = 512  # at most this many replicates before the first re-plan (the verdict still reaches COARSE)
CLAIMS = [c.id for c in claims()]


def _small(claim_id: str):
    """The claim with its pilot capped at PILOT: a parity run exercises every kernel, not the full budget."""
    c = wb.claim(claim_id)
    return dataclasses.replace(c, pilot=min(c.pilot, PILOT))


def _usable(name: str) -> bool:
    try:
        backend(name)
    except BackendUnavailable:
        return False
    return True


def test_ci_has_the_parity_backends():
    """CI installs torch and array-api-strict, so the parity tests below never skip there."""
    if os.environ.get("CI"):
        assert _usable("array-api-strict") and _usable("torch")


def _agree(a, b):
    """Two verdicts on the same claim agree: both pass, and their estimates are within their errors."""
    assert a.passed and b.passed, (a.summary() if hasattr(a, "summary") else a, b)
    slack = Z * math.hypot(a.stderr, b.stderr) + a.tolerance + b.tolerance + 1e-12 * abs(a.expected)
    assert abs(a.estimate - b.estimate) <= slack, (a.id, a.estimate, b.estimate, slack)


@pytest.mark.slow  # every claim once more, on the slowest namespace; torch parity below runs by default
@pytest.mark.skipif(not _usable("array-api-strict"), reason="array-api-strict not installed")
@pytest.mark.parametrize("claim", CLAIMS)
def test_every_claim_verifies_on_the_strict_namespace(claim):
    v = wb.verify(_small(claim), backend="array-api-strict", resolution=COARSE, seed=11)
    assert v.passed, v
    assert v.backend == "array-api-strict"


@pytest.mark.skipif(not _usable("torch"), reason="torch not installed (the torch extra)")
@pytest.mark.parametrize("claim", CLAIMS)
def test_every_claim_agrees_on_torch_and_numpy(claim):
    t = wb.verify(_small(claim), backend="torch", resolution=COARSE, seed=12)
    n = wb.verify(_small(claim), backend="numpy", resolution=COARSE, seed=12)
    assert t.backend == "torch"
    _agree(t, n)


@pytest.mark.gpu
@pytest.mark.skipif(not _usable("cupy"), reason="CuPy with a usable CUDA device needed")
@pytest.mark.parametrize("claim", CLAIMS)
def test_every_claim_agrees_on_cupy_and_numpy(claim):
    g = wb.verify(claim, backend="cupy", seed=13)
    n = wb.verify(claim, backend="numpy", seed=13)
    assert g.backend == "cupy"
    _agree(g, n)


# --- the generators ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["numpy", "torch", "array-api-strict"])
def test_the_same_seed_gives_the_same_draws(name):
    if not _usable(name):
        pytest.skip(f"{name} not installed")
    a, b, c = backend(name, 5), backend(name, 5), backend(name, 6)
    draw = lambda r: to_host(r.standard_normal((3, 4)))
    assert np.array_equal(draw(a.rng), draw(b.rng))
    assert not np.array_equal(draw(backend(name, 5).rng), draw(c.rng))


@pytest.mark.skipif(not _usable("torch"), reason="torch not installed")
@pytest.mark.parametrize("shape", [0.05, 0.5, 1.0, 3.5, 200.0])
def test_torch_gamma_has_the_gamma_law(shape):
    """Marsaglia-Tsang on torch's generator against SciPy's Gamma CDF (KS test at the suite's level)."""
    from scipy.stats import kstest

    b = backend("torch", 3)
    x = to_host(b.rng.standard_gamma(b.xp.full((20000,), shape, dtype=b.xp.float64)))
    assert x.dtype == np.float64 and (x >= 0).all()
    assert kstest(x, "gamma", args=(shape,)).pvalue > 1e-6


@pytest.mark.skipif(not _usable("torch"), reason="torch not installed")
def test_torch_gamma_of_shape_zero_is_zero_and_binomial_is_integer():
    b = backend("torch", 3)
    g = to_host(b.rng.standard_gamma(b.xp.asarray([0.0, 2.0], dtype=b.xp.float64)))
    assert g[0] == 0 and g[1] > 0
    k = to_host(b.rng.binomial(b.xp.asarray([0, 10, 10]), 0.5))
    assert k.dtype == np.int64 and k[0] == 0 and (0 <= k).all() and (k <= 10).all()


@pytest.mark.parametrize("name", ["numpy", "torch", "array-api-strict"])
def test_bincount_and_names(name):
    if not _usable(name):
        pytest.skip(f"{name} not installed")
    b = backend(name)
    x = b.xp.asarray([0, 2, 2, 5], dtype=b.xp.int64)
    assert to_host(bincount(b.xp, x, minlength=7)).tolist() == [1, 0, 2, 0, 0, 1, 0]
    assert backend_name(b.xp) == name


def test_unknown_and_missing_backends_say_so(monkeypatch):
    with pytest.raises(ValueError, match="backend='jax' is not one of"):
        backend("jax")
    monkeypatch.setitem(sys.modules, "torch", None)  # as if not installed
    with pytest.raises(BackendUnavailable, match=r"pip install 'workbench\[torch\]'"):
        backend("torch")


# --- no silent host round trips in hot loops -------------------------------------------------------

_CONVERSIONS = ("__float__", "__int__", "__bool__", "__index__", "__complex__", "__array__", "__buffer__", "__dlpack__")


class HostCopies:
    """Counts the device-to-host conversions of ``array_api_strict`` arrays made by kernels (the test
    generator's own conversions of its NumPy draws excluded)."""

    def __init__(self, monkeypatch):
        import array_api_strict as xs

        self.count = 0
        cls = type(xs.asarray([1.0]))
        for name in _CONVERSIONS:
            original = getattr(cls, name, None)
            if original is not None:
                monkeypatch.setattr(cls, name, self._counting(original))

    def _counting(self, original):
        def method(arr, *args, **kwargs):
            caller = sys._getframe(1).f_code.co_filename
            if not caller.endswith(("generators.py", "array_api_strict/_array_object.py")):
                self.count += 1
            return original(arr, *args, **kwargs)

        return method


def _copies(monkeypatch, claim_id, budget, **values):
    c = wb.claim(claim_id)
    b = backend("array-api-strict", 0)
    counter = HostCopies(monkeypatch)
    c.experiment(b.xp, b.rng, budget, **{**c.defaults, **values})
    return counter.count


# claim, its loop-length parameter, a short and a long loop, budget, other settings
LOOPS = [
    ("init.he-forward", "depth", 3, 9, 64, {"method": "dense", "fan_in": 16}),
    ("init.he-forward", "depth", 3, 9, 64, {"method": "gram"}),
    ("init.he-backward", "depth", 3, 9, 64, {"method": "dense", "fan_in": 16}),
    ("init.relu-critical", "depth", 3, 9, 64, {}),
    ("residual.vanishing", "depth", 3, 9, 64, {"method": "reduced"}),
    ("residual.vanishing", "depth", 3, 9, 64, {"method": "gaussian", "width": 16}),
    ("residual.vanishing", "depth", 3, 9, 64, {"method": "relu-mlp", "width": 16}),
    ("residual.isometry", "L", 2, 6, 32, {"N": 16}),
    ("nngp.relu", "L", 1, 5, 64, {"N": 32}),
    ("deeplinear.no-bad-minima", "depth", 2, 5, 8, {}),
    ("deeplinear.saxe-dynamics", "t", 0.5, 2.0, None, {}),
]


@pytest.mark.skipif(not _usable("array-api-strict"), reason="array-api-strict not installed")
@pytest.mark.parametrize(("claim", "name", "short", "long", "budget", "values"), LOOPS,
                         ids=[f"{c}-{n}-{v.get('method', '')}" for c, n, _, _, _, v in LOOPS])
def test_host_copies_do_not_grow_with_the_loop(monkeypatch, claim, name, short, long, budget, values):
    few = _copies(monkeypatch, claim, budget, **values, **{name: short})
    many = _copies(monkeypatch, claim, budget, **values, **{name: long})
    assert many == few, f"{claim}: {few} host copies at {name}={short}, {many} at {name}={long}"


def test_cli_without_torch_says_so_in_one_line_and_exits_2(monkeypatch, capsys):
    from workbench.cli import main

    monkeypatch.setitem(sys.modules, "torch", None)
    try:
        rc = main(["verify", "xent.margin", "--backend", "torch"])
    except SystemExit as exc:
        rc = exc.code
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "\n" not in err and "workbench[torch]" in err
