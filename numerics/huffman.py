r"""Huffman code construction: code lengths, Kraft sums, canonical codewords.

Code lengths come from Huffman's algorithm (Huffman 1952, doi:10.1109/JRPROC.1952.273898) in
its two-queue form: sort the weights once; the merged nodes are created in non-decreasing
order, so the two smallest weights are always at the heads of two queues and no heap is
needed (van Leeuwen 1976). :func:`code_lengths` works on any exactly ordered weights
(integers, :class:`fractions.Fraction`, floats); :func:`batch_code_lengths` runs the same
algorithm on many float distributions at once, one vectorised step per merge. The codec built
on these codes is :mod:`numerics.bitstream`.

The trap: Huffman codes are not unique. Ties between equal weights can be broken either way,
giving different code lengths with the same expected length; only the expected length (and
the completeness of the code) is a property of the distribution, and the tests compare those,
never one particular code.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from itertools import pairwise
from typing import Any

import numpy as np

__all__ = [
    "batch_code_lengths",
    "canonical_codes",
    "code_lengths",
    "is_prefix_free",
    "kraft_sum",
]


# --- code lengths ------------------------------------------------------------------------------

def code_lengths(weights: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Huffman code lengths for nonnegative ``weights`` (any exactly ordered numbers), by the
    two-queue algorithm; ties prefer the leaf queue. One symbol gets length 0 (no bits needed).

    >>> code_lengths([1, 1, 2, 4]).tolist()
    [3, 3, 2, 1]
    >>> from fractions import Fraction as F
    >>> code_lengths([F(1, 2), F(1, 4), F(1, 8), F(1, 8)]).tolist()
    [1, 2, 3, 3]
    """
    n = len(weights)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if n == 1:
        return np.zeros(1, dtype=np.int64)
    if isinstance(weights, np.ndarray):
        order = np.argsort(weights, kind="stable").tolist()
        leaf = weights[order].tolist()
    else:
        order = sorted(range(n), key=weights.__getitem__)
        leaf = [weights[i] for i in order]
    merged: list[Any] = []
    parent = [0] * (2 * n - 1)
    a = b = 0  # heads of the leaf queue and of the merged queue
    for t in range(n - 1):
        picked = []
        for _ in range(2):
            if a < n and (b >= t or leaf[a] <= merged[b]):
                picked.append((a, leaf[a]))
                a += 1
            else:
                picked.append((n + b, merged[b]))
                b += 1
        (i, wi), (j, wj) = picked
        parent[i] = parent[j] = n + t
        merged.append(wi + wj)
    depth = [0] * (2 * n - 1)
    for node in range(2 * n - 3, -1, -1):
        depth[node] = depth[parent[node]] + 1
    out = np.empty(n, dtype=np.int64)
    out[order] = depth[:n]
    return out


def batch_code_lengths(p: np.ndarray) -> np.ndarray:
    """Huffman code lengths of every row of ``p`` (shape ``(n, K)``, positive floats), the
    two-queue algorithm vectorised over rows: ``K - 1`` merge steps and ``2K - 2`` depth
    steps, each a few array operations on all rows.

    >>> batch_code_lengths(np.array([[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25]])).tolist()
    [[3, 3, 2, 1], [2, 2, 2, 2]]
    """
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 1:
        raise ValueError(f"batch_code_lengths takes an (n, K) array with K >= 1, got shape {p.shape}")
    n, k = p.shape
    if k == 1:
        return np.zeros((n, 1), dtype=np.int64)
    rows = np.arange(n)
    order = np.argsort(p, axis=1, kind="stable")
    w = np.empty((n, 2 * k - 1))
    w[:, :k] = np.take_along_axis(p, order, axis=1)
    parent = np.empty((n, 2 * k - 1), dtype=np.int64)
    a = np.zeros(n, dtype=np.int64)  # next leaf
    b = np.full(n, k, dtype=np.int64)  # next merged node
    inf = np.inf
    for t in range(k - 1):
        new = k + t
        picks = []
        for _ in range(2):
            wa = np.where(a < k, w[rows, np.minimum(a, k - 1)], inf)
            wb = np.where(b < new, w[rows, np.minimum(b, 2 * k - 2)], inf)
            leaf = wa <= wb
            pick = np.where(leaf, a, b)
            a += leaf
            b += ~leaf
            picks.append(pick)
        parent[rows, picks[0]] = new
        parent[rows, picks[1]] = new
        w[:, new] = w[rows, picks[0]] + w[rows, picks[1]]
    depth = np.zeros((n, 2 * k - 1), dtype=np.int64)
    for node in range(2 * k - 3, -1, -1):
        depth[:, node] = depth[rows, parent[:, node]] + 1
    out = np.empty((n, k), dtype=np.int64)
    np.put_along_axis(out, order, depth[:, :k], axis=1)
    return out


def kraft_sum(lengths: Sequence[int] | np.ndarray) -> Fraction:
    """The exact Kraft sum :math:`\\sum_i 2^{-\\ell_i}` (a Fraction).

    >>> kraft_sum([1, 2, 3, 3]), kraft_sum([1, 2, 3])
    (Fraction(1, 1), Fraction(7, 8))
    """
    lengths = [int(v) for v in np.asarray(lengths).ravel()]
    if not lengths:
        return Fraction(0)
    top = max(lengths)
    return Fraction(sum(1 << (top - v) for v in lengths), 1 << top)


def canonical_codes(lengths: Sequence[int] | np.ndarray) -> list[int]:
    """Canonical codewords (as integers) for code lengths given in canonical order
    (non-decreasing): each codeword is the previous plus one, shifted left by the growth in
    length (Schwartz and Kallick 1964; the DEFLATE convention).

    >>> [format(c, f"0{n}b") for c, n in zip(canonical_codes([1, 2, 3, 3]), [1, 2, 3, 3])]
    ['0', '10', '110', '111']
    """
    lengths = [int(v) for v in np.asarray(lengths).ravel()]
    if any(b < a for a, b in pairwise(lengths)):
        raise ValueError("canonical code lengths must be non-decreasing")
    codes, code, previous = [], 0, None
    for n in lengths:
        if previous is not None:
            code = (code + 1) << (n - previous)
        codes.append(code)
        previous = n
    return codes


def is_prefix_free(codes: Sequence[int], lengths: Sequence[int]) -> bool:
    """Is no codeword a prefix of another? Codeword ``i`` is the integer ``codes[i]`` written in
    ``lengths[i]`` bits; as intervals of [0, 1) the codewords must be disjoint.

    >>> is_prefix_free([0, 2, 3], [1, 2, 2]), is_prefix_free([0, 1, 3], [1, 2, 2])
    (True, False)
    """
    words = [(int(c), int(n)) for c, n in zip(codes, lengths, strict=True)]
    if any(n < 0 or c < 0 or c >= (1 << n) for c, n in words):
        return False
    if len(words) < 2:
        return True
    top = max(n for _, n in words)
    spans = sorted((c << (top - n), (c + 1) << (top - n)) for c, n in words)
    return all(end <= start for (_, end), (start, _) in pairwise(spans))
