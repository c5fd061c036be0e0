"""The few things kernels need beyond the array API standard, in one place.

Kernels are written against the Python array API standard (https://data-apis.org/array-api/):
function forms (``xp.sum(x, axis=1)``, ``xp.astype(x, xp.float64)``), dtypes taken from ``xp``,
no array methods beyond ``.shape``/``.dtype``/``.mT``. What the standard lacks lives here:

- :func:`namespace`: the namespace of some arrays (``array_api_compat.array_namespace``);
- :func:`to_host`: an array as NumPy, the one deliberate device-to-host copy (CuPy ``.get()``,
  PyTorch ``.cpu()``);
- :func:`bincount`: NumPy, CuPy and PyTorch have one; other namespaces count on the host;
- :func:`generator_device`, :func:`on_device`: where a generator draws (PyTorch's may be on CUDA), so
  arrays created beside its draws live on the same device;
- :func:`count_true`: how many entries of a boolean array are set (one host transfer).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from array_api_compat import (
    array_namespace,
    is_cupy_array,
    is_numpy_array,
    is_torch_array,
)

__all__ = ["backend_name", "bincount", "float_dtype", "namespace", "to_host"]

_NAMES = {"array_api_compat.torch": "torch", "torch": "torch", "array_api_strict": "array-api-strict",
          "array_api_compat.numpy": "numpy", "array_api_compat.cupy": "cupy"}


def namespace(*arrays: Any) -> Any:
    """The array namespace of ``arrays`` (NumPy arrays get NumPy's standard-conforming wrapper)."""
    return array_namespace(*arrays)


def backend_name(xp: Any) -> str:
    """The backend name (as :func:`numerics.backend` spells it) of the namespace ``xp``."""
    name = xp.__name__
    return _NAMES.get(name, name.split(".")[0])


def to_host(x: Any) -> np.ndarray:
    """``x`` (any namespace, any device) as a NumPy array: an explicit device-to-host copy."""
    if is_numpy_array(x):
        return x
    if is_cupy_array(x):
        return x.get()
    if is_torch_array(x):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def float_dtype(xp: Any, name: str) -> Any:
    """The dtype ``name`` (``"float32"``/``"float64"``) of namespace ``xp``."""
    if name not in ("float32", "float64"):
        raise TypeError(f"dtype={name!r} must be float32 or float64")
    return getattr(xp, name)


def bincount(xp: Any, x: Any, minlength: int = 0) -> Any:
    """Counts of each non-negative integer in the 1-d integer array ``x``, at least ``minlength`` long."""
    if is_numpy_array(x) or is_cupy_array(x):
        return xp.bincount(x, minlength=minlength)
    if is_torch_array(x):
        import torch

        return torch.bincount(x, minlength=minlength)
    return xp.asarray(np.bincount(to_host(x), minlength=minlength))


def count_true(xp: Any, flags: Any) -> int:
    """How many entries of a boolean array are True (one host transfer)."""
    return int(xp.sum(xp.astype(flags, xp.int64)))


def generator_device(rng: Any) -> Any:
    """Where ``rng`` puts its draws (a ``TorchGenerator``'s device; None: the namespace's default)."""
    return getattr(rng, "device", None)


def on_device(rng: Any) -> dict[str, Any]:
    """``device=`` for creation functions, as keyword arguments: where ``rng`` draws, else nothing."""
    device = generator_device(rng)
    return {} if device is None else {"device": device}
