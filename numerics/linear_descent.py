r"""Full-batch gradient descent on stacks of deep linear networks: ``B`` independent networks
:math:`W_L \cdots W_1`, one tensor per layer of shape ``(B, out, in)``, trained together by one
batched ``matmul`` per layer forward and two backward.

NumPy and CuPy arrays are updated in place, every product written into buffers preallocated by
:func:`workspace` (a step allocates nothing); other array libraries (the array API standard has no
``out=``) take the same products functionally. :func:`final_loss` evaluates the loss in float64.

>>> import numpy as np
>>> w = [np.full((1, 1, 1), 0.5, np.float32)]
>>> x = np.ones((1, 1, 4), np.float32); y = np.ones((1, 1, 4), np.float32)
>>> float(final_loss(np, w, x.astype(np.float64), y.astype(np.float64))[0])
0.125
>>> for _ in range(200):
...     _ = gd_step(np, w, x, y, 0.5)
>>> round(float(final_loss(np, w, x.astype(np.float64), y.astype(np.float64))[0]), 12)
0.0
"""

from __future__ import annotations

from typing import Any

from array_api_compat import device as _device_of
from array_api_compat import is_cupy_array, is_numpy_array

__all__ = ["contiguous", "final_loss", "gd_step", "workspace"]


def contiguous(xp: Any, a: Any) -> Any:
    """``a`` in C order where the namespace has layouts (NumPy, CuPy: the in-place steps of :func:`gd_step`
    and its BLAS calls want it); elsewhere ``a`` itself."""
    make = getattr(xp, "ascontiguousarray", None)
    return make(a) if make is not None and (is_numpy_array(a) or is_cupy_array(a)) else a


def _in_place_module(x: Any) -> Any:
    """NumPy or CuPy, whose ``matmul``/``subtract`` write into ``out=`` buffers, for arrays of theirs; else None."""
    if is_numpy_array(x):
        import numpy

        return numpy
    if is_cupy_array(x):
        import cupy

        return cupy
    return None


def workspace(xp: Any, weights: list, x: Any) -> dict:
    """Preallocated buffers for :func:`gd_step` (activations, errors, gradients): a step allocates nothing.
    Only NumPy and CuPy write into buffers (``out=`` is not in the array API standard): elsewhere empty."""
    if _in_place_module(x) is None:
        return {}
    b, n = x.shape[0], x.shape[-1]
    device = _device_of(x)
    return {
        "acts": [xp.empty((b, w.shape[1], n), dtype=x.dtype, device=device) for w in weights],
        "deltas": [xp.empty((b, w.shape[1], n), dtype=x.dtype, device=device) for w in weights],
        "grads": [xp.empty(w.shape, dtype=w.dtype, device=device) for w in weights],
    }


def gd_step(xp: Any, weights: list, x: Any, y: Any, lr: float, work: dict | None = None) -> Any:
    """One full-batch gradient step on every run at once (updates the list ``weights``); returns the
    residuals P X - Y.

    Forward one batched matmul per layer, backward two (the gradient and the back-propagated error,
    skipped below the first layer). NumPy and CuPy arrays are updated in place, every product written into
    the preallocated buffers of ``work``; other namespaces (the array API standard has no ``out=``) compute
    the same products functionally and replace the list's entries."""
    native = _in_place_module(x)
    if native is None:
        return _gd_step_functional(xp, weights, x, y, lr)
    work = work if work else workspace(xp, weights, x)
    n = x.shape[-1]
    acts = [x] + work["acts"]
    for layer, w in enumerate(weights):
        native.matmul(w, acts[layer], out=acts[layer + 1])
    deltas, grads = work["deltas"], work["grads"]
    delta = native.subtract(acts[-1], y, out=deltas[-1])
    for layer in range(len(weights) - 1, -1, -1):
        grad = native.matmul(delta, acts[layer].mT, out=grads[layer])
        if layer:
            delta = native.matmul(weights[layer].mT, delta, out=deltas[layer - 1])
        grad *= lr / n
        weights[layer] -= grad
    return deltas[-1]


def _gd_step_functional(xp: Any, weights: list, x: Any, y: Any, lr: float) -> Any:
    """:func:`gd_step` in the standard's functions only: the same products and update, in new arrays."""
    n = x.shape[-1]
    acts = [x]
    for w in weights:
        acts.append(xp.matmul(w, acts[-1]))
    resid = acts[-1] - y
    delta = resid
    for layer in range(len(weights) - 1, -1, -1):
        grad = xp.matmul(delta, acts[layer].mT)
        if layer:
            delta = xp.matmul(weights[layer].mT, delta)
        weights[layer] = weights[layer] - grad * (lr / n)
    return resid


def final_loss(xp: Any, weights: list, x64: Any, y64: Any) -> Any:
    """The loss of each run in float64: ||Y - W_L ... W_1 X||^2 / (2N) from float64 copies of the weights."""
    p = xp.astype(weights[0], xp.float64)
    for w in weights[1:]:
        p = xp.astype(w, xp.float64) @ p
    resid = y64 - p @ x64
    return 0.5 * xp.sum(resid**2, axis=(1, 2)) / x64.shape[-1]
