r"""Binned "mutual information" of a deterministic layer, as the information-plane literature computes it.

A dataset of N inputs :math:`x \sim N(0, I_{12})` (12 like the 12-bit task of Shwartz-Ziv and Tishby), one
layer :math:`T = \varphi(Wx + b)`: tanh with :math:`W_{ij} \sim N(0, 4/12)` and :math:`b_j \sim N(0, 1/4)`
(pre-activations of standard deviation about 2: a saturating layer, like the late tanh layers of Saxe et al.), or
ReLU with :math:`W_{ij} \sim N(0, 2/12)` and :math:`b_j = 1` (so that an input has every unit off with
probability near :math:`0.24^{m}`: the layer is injective on the dataset unless the width m is small). Each
output coordinate is binned on a fixed grid of width :math:`\Delta` (origin -1 for tanh, 0 for ReLU);
:func:`histogram` counts the joint cells of (input, cell) by a lexicographic sort (stable argsorts, array API
only) and returns the plug-in :math:`\hat I(X; T_\Delta)` and :math:`\hat H(T_\Delta)` in bits, with rounding
bounds (standard model, :math:`\log_2` within 2 ulp).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from .estimate import Estimate
from .namespaces import backend_name, bincount, to_host
from .namespaces import on_device as _on
from .rounding import gamma, unit_roundoff

__all__ = ["INPUTS", "ACTIVATIONS", "SAXE_BINS", "FINEST", "dataset", "layer", "partition", "separation", "histogram",
           "sweep", "estimate", "label_information", "train_trajectory"]

INPUTS = 12
ACTIVATIONS = ("tanh", "relu")
SAXE_BINS = 30  # Saxe et al. (and Shwartz-Ziv and Tishby) bin each unit's range into 30 bins
FINEST = 40  # the widths are fixed in advance: Delta_j = span * 2^-j, j = 0, ..., FINEST (about 2e-12 of the range)


def dataset(xp: Any, rng: Any, samples: int) -> Any:
    """``samples`` inputs, standard normal in 12 dimensions (distinct with probability 1), float64."""
    return rng.standard_normal((samples, INPUTS), dtype=xp.float64)


def _phi(xp: Any, z: Any, activation: str) -> Any:
    if activation == "tanh":
        return xp.tanh(z)
    if activation == "relu":
        return xp.maximum(z, 0.0)
    raise ValueError(f"activation={activation!r} is not one of {', '.join(ACTIVATIONS)}")


def layer(xp: Any, rng: Any, x: Any, width: int, activation: str) -> Any:
    """The layer's outputs (N, width) on inputs ``x`` (weights as in the module docstring)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation={activation!r} is not one of {', '.join(ACTIVATIONS)}")
    scale = 2.0 if activation == "tanh" else math.sqrt(2.0)
    w = rng.standard_normal((INPUTS, width), dtype=xp.float64) * (scale / math.sqrt(INPUTS))
    b = rng.standard_normal((width,), dtype=xp.float64) / 2 if activation == "tanh" else xp.ones(
        (width,), dtype=xp.float64, **_on(rng))
    return _phi(xp, x @ w + b, activation)


def partition(xp: Any, keys: Any) -> tuple[Any, int]:
    """For rows ``keys`` (S, m) of any real or integer dtype: each row's count of equal rows (S,), in the
    original order, and the number of distinct rows; a lexicographic sort by stable argsorts."""
    s = keys.shape[0]
    order = xp.arange(s, dtype=xp.int64, **_device(keys))
    for c in range(keys.shape[1] - 1, -1, -1):
        order = xp.take(order, xp.argsort(xp.take(keys[:, c], order), stable=True))
    rows = xp.take(keys, order, axis=0)
    new = xp.concat([xp.ones((1,), dtype=xp.bool, **_device(keys)), xp.any(rows[1:, ...] != rows[:-1, ...], axis=1)])
    group = xp.cumulative_sum(xp.astype(new, xp.int64)) - 1
    counts = bincount(xp, group)
    return xp.take(xp.take(counts, group), xp.argsort(order)), int(counts.shape[0])


def separation(t: Any) -> float:
    r"""The smallest :math:`\infty`-norm distance between two distinct rows of ``t`` (N, m) (inf when the rows are
    all equal), by SciPy's k-d tree in the Chebyshev metric on a host copy: any grid finer than it gives each
    distinct output its own cell, which :func:`sweep` predicts apart from the histograms."""
    rows = np.unique(to_host(t), axis=0)
    if rows.shape[0] < 2:
        return math.inf
    distances, _ = cKDTree(rows).query(rows, k=2, p=np.inf, workers=-1)
    return float(distances[:, 1].min())


def _device(a: Any) -> dict[str, Any]:
    """``device=`` for creation functions beside the array ``a``."""
    device = getattr(a, "device", None)
    return {} if device is None else {"device": device}


def histogram(xp: Any, ids: Any, cells: Any) -> dict[str, Any]:
    r"""The plug-in :math:`\hat I(X; T)` and :math:`\hat H(T)` (bits) of the samples (input id, cell row), with
    rounding bounds, and the number of occupied cells."""
    s = ids.shape[0]
    u = unit_roundoff(xp)
    n_t, occupied = partition(xp, cells)
    n_x, _ = partition(xp, ids[:, None])
    n_xt, _ = partition(xp, xp.concat([ids[:, None], cells], axis=1))
    f = lambda a: xp.astype(a, xp.float64)  # noqa: E731
    terms = xp.log2(float(s) * f(n_xt) / (f(n_x) * f(n_t)))  # one per sample: the joint cells weighted by their counts
    info = float(xp.mean(terms))
    per_cell = xp.log2(f(n_t))  # H = log2 S - mean over samples of log2 n_t(s)
    entropy = math.log2(s) - float(xp.mean(per_cell))
    g = gamma(s + 8, u)
    return {"I": info, "H": entropy, "cells": occupied,
            "I_tol": g * (float(xp.mean(xp.abs(terms))) + 2.0), "H_tol": g * (math.log2(s) + float(xp.mean(per_cell)) + 2.0)}


def _cells(xp: Any, t: Any, origin: float, delta: float) -> Any:
    return xp.astype(xp.floor((t - origin) / delta), xp.int64)


def sweep(xp: Any, rng: Any, *, activation: str, samples: int, width: int, noise: float = 0.0,
          draws: int = 1) -> dict[str, Any]:
    r"""A layer on a dataset, binned at the widths fixed in advance, :math:`\Delta_j = \text{span}\cdot 2^{-j}` for
    j = 0, ..., :data:`FINEST` (span: the outputs' range rounded up to a power of two), and at Saxe et al.'s 30
    bins; with the outputs' smallest :math:`\infty`-norm distance (:func:`separation`), below which every width
    must give :math:`\log_2` (distinct outputs). ``noise`` (a mutation: the information computed as if the layer
    were noisy) adds :math:`N(0, \sigma^2)` to the outputs, ``draws`` times per input."""
    t = layer(xp, rng, dataset(xp, rng, samples), width, activation)
    ids = xp.arange(samples, dtype=xp.int64, **_on(rng))
    if noise > 0:
        ids = xp.concat([ids] * draws)
        t = xp.concat([t] * draws, axis=0)
        t = t + noise * rng.standard_normal(t.shape, dtype=xp.float64)
    origin = -1.0 if activation == "tanh" and noise == 0 else float(xp.min(t))
    span = float(xp.max(t)) - origin
    span = 2.0 ** math.ceil(math.log2(span)) if span > 0 else 1.0
    shared, distinct = partition(xp, t)
    exact = math.log2(ids.shape[0]) - float(xp.mean(xp.log2(xp.astype(shared, xp.float64))))  # H(T), unbinned
    steps = []
    for j in range(FINEST + 1):
        out = histogram(xp, ids, _cells(xp, t, origin, span * 2.0**-j))
        out["delta"] = span * 2.0**-j
        steps.append(out)
    saxe = histogram(xp, ids, _cells(xp, t, origin, span / SAXE_BINS))
    return {"steps": steps, "distinct": distinct, "collisions": int(xp.sum(xp.astype(shared > 1, xp.int64))),
            "saxe": saxe, "samples": int(ids.shape[0]), "separation": separation(t), "exact": exact}


def estimate(xp: Any, out: dict[str, Any], quantity: str, samples: int) -> Estimate:
    """The ``ib.binning`` estimate from a :func:`sweep` (see :func:`numerics.information_bottleneck.binning_experiment`)."""
    steps, u, sep = out["steps"], unit_roundoff(xp), out["separation"]
    off = sum(abs(s["I"] - s["H"]) > s["I_tol"] + s["H_tol"] for s in steps)
    top = out["exact"]  # the entropy of the outputs themselves: log2 N when the layer is injective
    fine = [s for s in steps if s["delta"] < sep]  # every one of these must separate the distinct outputs
    unresolved = sum(abs(s["I"] - top) > s["I_tol"] for s in fine)
    falls = sum(b["H"] < a["H"] - a["H_tol"] - b["H_tol"] for a, b in itertools.pairwise(steps))  # nested grids
    first = next((j for j, s in enumerate(steps) if s["cells"] == out["distinct"]), None)
    last = steps[-1]
    if quantity == "limit":  # the estimate farthest from log2 N of the widths the distances predict (the finest among them)
        worst = max(fine or [last], key=lambda s: (abs(s["I"] - top), s["delta"] == last["delta"]))
        value, atol = worst["I"], worst["I_tol"]
    else:
        scored = []
        for s in steps:
            if s["cells"] < 2:
                continue
            r = s["I"] / s["H"]
            tol = (s["I_tol"] + abs(r) * s["H_tol"]) / (s["H"] - s["H_tol"]) + 2 * u * abs(r)
            scored.append((abs(r - 1) / tol, r, tol))
        _, value, atol = max(scored)
    reached = "never" if first is None else rf"first at $j = {first}$, $\Delta = {steps[first]['delta']:.3g}$"
    events = (
        (rf"bin widths, of the {len(steps)} fixed in advance ($\Delta_j = {steps[0]['delta']:g}\cdot 2^{{-j}}$, "
         rf"$j \le {FINEST}$), at which $\hat I(X; T_\Delta)$ and $\hat H(T_\Delta)$ differ beyond rounding (the binned "
         rf"entropy at Saxe et al.'s ${SAXE_BINS}$ bins: ${out['saxe']['H']:.4f}$ bits)", off),
        (rf"widths below the outputs' smallest $\infty$-norm distance (${sep:.3g}$, from the pairwise distances) at "
         rf"which the estimate is not the entropy of the {out['distinct']} distinct outputs themselves, "
         rf"${top:.6g}$ bits (the cells separate them: {reached})", unresolved),
        ("refinements of the nested grids at which the binned entropy falls", falls),
        ("inputs whose output another input shares (the layer is not injective on the dataset)", out["collisions"]),
    )
    why = ""
    if quantity == "limit" and out["collisions"]:  # the identity holds for any layer; the limit assumes injectivity
        why = (rf"the layer maps {out['collisions']} of the {samples} inputs onto shared outputs: its binned estimate "
               rf"tends to the entropy of that partition, ${last['H']:.6f}$ bits, not $\log_2 N$; the claim assumes a "
               "layer injective on the dataset, so this run cannot decide it (its tolerance is infinite)")
    elif quantity == "limit" and not last["delta"] < sep:
        why = (rf"the finest width fixed in advance, $\Delta_{{{FINEST}}} = {last['delta']:.3g}$, is not below the "
               rf"outputs' smallest distance, ${sep:.3g}$: the grid cannot resolve this layer, so this run cannot "
               "decide the limit (its tolerance is infinite)")
    if why:
        atol = math.inf
    return Estimate(value, 0.0, 1, backend_name(xp), "float64", atol, events, inconclusive=why)


def label_information(xp: Any, cells: Any, labels: Any) -> float:
    r""":math:`\hat I(T_\Delta; Y)` in bits: the plug-in information between the cells and binary labels."""
    s = cells.shape[0]
    n_t, _ = partition(xp, cells)
    n_y, _ = partition(xp, labels[:, None])
    n_ty, _ = partition(xp, xp.concat([cells, labels[:, None]], axis=1))
    f = lambda a: xp.astype(a, xp.float64)  # noqa: E731
    return float(xp.mean(xp.log2(float(s) * f(n_ty) / (f(n_t) * f(n_y)))))


def train_trajectory(xp: Any, rng: Any, *, activation: str, samples: int, width: int, epochs: int, every: int,
                     rate: float = 0.5) -> tuple[list[Any], Any]:
    """A network x -> layer -> sigmoid trained by full-batch gradient descent on the cross-entropy, labels from a
    random linear teacher; the hidden layer's outputs every ``every`` epochs, and the labels (int64)."""
    x = dataset(xp, rng, samples)
    labels = xp.astype(x @ rng.standard_normal((INPUTS, 1), dtype=xp.float64) > 0, xp.int64)[:, 0]
    y = xp.astype(labels, xp.float64)[:, None]
    scale = 2.0 if activation == "tanh" else math.sqrt(2.0)
    w = rng.standard_normal((INPUTS, width), dtype=xp.float64) * (scale / math.sqrt(INPUTS))
    b = xp.zeros((width,), dtype=xp.float64, **_on(rng)) + (0.0 if activation == "tanh" else 1.0)
    v = rng.standard_normal((width, 1), dtype=xp.float64) / math.sqrt(width)
    snaps = []
    for e in range(epochs + 1):
        z = x @ w + b
        h = _phi(xp, z, activation)
        if e % every == 0:
            snaps.append(h)
        p = 1.0 / (1.0 + xp.exp(-(h @ v)))
        g = (p - y) / samples
        gh = (g @ xp.matrix_transpose(v)) * ((1.0 - h * h) if activation == "tanh" else xp.astype(z > 0, xp.float64))
        v = v - rate * (xp.matrix_transpose(h) @ g)
        w = w - rate * (xp.matrix_transpose(x) @ gh)
        b = b - rate * xp.sum(gh, axis=0)
    return snaps, labels
