"""Array backends: a name becomes an array namespace and a seeded generator.

- ``numpy``: NumPy and its PCG64 generator (the default);
- ``cupy``: CuPy on the current CUDA device (the ``gpu`` extra);
- ``torch``: PyTorch tensors through ``array_api_compat.torch`` (the ``torch`` extra), on CUDA where
  one is usable, else the CPU, with :class:`~numerics.generators.TorchGenerator`;
- ``array-api-strict``: the standard's reference namespace, which refuses anything outside the
  standard (NumPy draws handed over by :class:`~numerics.generators.HostGenerator`): a kernel that
  verifies here uses only the standard, so it runs on any conforming library;
- ``auto``: CuPy when a usable CUDA device exists, else NumPy.

Kernels receive ``xp`` and the generator as arguments; nothing here is global. Optional
libraries are imported only when asked for, and CuPy's two failure modes give two distinct
one-line messages (the probe runs a tiny computation, as SciPy's test configuration does).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

__all__ = ["BACKENDS", "Backend", "BackendUnavailable", "backend", "check_seed"]

BACKENDS = ("numpy", "cupy", "torch", "array-api-strict", "auto")

CUPY_MISSING = "CuPy is not installed: install the GPU extra with pip install 'workbench[gpu]'"
CUPY_NO_DEVICE = "CuPy is installed but no CUDA device is usable"
TORCH_MISSING = "PyTorch is not installed: install the torch extra with pip install 'workbench[torch]'"
STRICT_MISSING = "array-api-strict is not installed: install the test extra with pip install 'workbench[test]'"


class BackendUnavailable(RuntimeError):
    """The requested array backend cannot run here (one line says why)."""


@dataclass(frozen=True)
class Backend:
    """An array namespace, its seeded generator, and where the arrays live."""

    name: str
    xp: ModuleType
    rng: Any
    device: str

    def to_float(self, value: Any) -> float:
        """A 0-d array (on any device) as a Python float; the one deliberate host transfer."""
        return float(value)


def check_seed(seed: object) -> int:
    """``seed`` must be a non-negative integer (bool is refused)."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed={seed!r} must be an integer >= 0")
    if seed < 0:
        raise ValueError(f"seed={seed} is outside the domain: integer >= 0")
    return seed


def _cupy() -> ModuleType:
    try:
        cupy = importlib.import_module("cupy")
    except ImportError as exc:  # not installed (or a broken install)
        raise BackendUnavailable(CUPY_MISSING) from exc
    try:
        cupy.asarray([1.0]).sum().item()  # the probe: a tiny kernel on the default device
    except Exception as exc:  # CUDARuntimeError, driver errors, missing libraries...
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BackendUnavailable(f"{CUPY_NO_DEVICE} ({reason})") from exc
    return cupy


def _import(module: str, missing: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise BackendUnavailable(missing) from exc


def _torch(seed: int) -> Backend:
    from .generators import TorchGenerator

    torch = _import("torch", TORCH_MISSING)
    xp = _import("array_api_compat.torch", TORCH_MISSING)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    label = f"cuda:{torch.cuda.current_device()} {torch.cuda.get_device_name()}" if device == "cuda" else "cpu"
    return Backend("torch", xp, TorchGenerator(torch, seed, device), label)


def _strict(seed: int) -> Backend:
    from .generators import HostGenerator

    xp = _import("array_api_strict", STRICT_MISSING)
    return Backend("array-api-strict", xp, HostGenerator(xp, seed), "cpu")


def backend(name: str = "numpy", seed: int = 0) -> Backend:
    """Resolve ``name`` to a :class:`Backend` whose generator is seeded by ``seed``.

    ``auto`` picks CuPy when a usable CUDA device exists, else NumPy.

    >>> b = backend("numpy", seed=1)
    >>> b.name, float(b.rng.standard_normal()) == float(backend("numpy", 1).rng.standard_normal())
    ('numpy', True)
    """
    if not isinstance(name, str) or name not in BACKENDS:
        raise ValueError(f"backend={name!r} is not one of: {', '.join(BACKENDS)}")
    seed = check_seed(seed)
    if name == "auto":
        try:
            return backend("cupy", seed)
        except BackendUnavailable:
            return backend("numpy", seed)
    if name == "torch":
        return _torch(seed)
    if name == "array-api-strict":
        return _strict(seed)
    if name == "cupy":
        cupy = _cupy()
        device = cupy.cuda.Device()
        props = cupy.cuda.runtime.getDeviceProperties(device.id)
        label = props.get("name", b"cuda").decode() if isinstance(props.get("name"), bytes) else "cuda"
        # the standard-conforming wrapper (linalg.diagonal, asarray(device=)...), as for PyTorch
        xp = _import("array_api_compat.cupy", CUPY_MISSING)
        return Backend("cupy", xp, cupy.random.default_rng(seed), f"cuda:{device.id} {label}")
    import numpy as np

    return Backend("numpy", np, np.random.default_rng(np.random.SeedSequence(seed)), "cpu")
