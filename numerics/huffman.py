r"""Canonical Huffman coding of integer arrays: code lengths, a vectorised NumPy codec, a file format.

Code lengths come from Huffman's algorithm (Huffman 1952, doi:10.1109/JRPROC.1952.273898) in
its two-queue form: sort the weights once; the merged nodes are created in non-decreasing
order, so the two smallest weights are always at the heads of two queues and no heap is
needed (van Leeuwen 1976). :func:`code_lengths` works on any exactly ordered weights
(integers, :class:`fractions.Fraction`, floats); :func:`batch_code_lengths` runs the same
algorithm on many float distributions at once, one vectorised step per merge.

The codec (:func:`encode`, :func:`decode`) is NumPy throughout, measurably faster here than
the C loop of ``bitarray`` (see ``benchmarks/coding.py``):

- **encode**: one ``bincount`` for the histogram, two table gathers per symbol, a running
  ``cumsum`` of code lengths, and an OR-reduction (``np.bitwise_or.reduceat``) of the shifted
  codewords into 64-bit words; a codeword crossing a word boundary spills its low bits into
  the next word. Everything runs in cache-sized chunks with reused buffers.
- **decode**: the symbols are dealt to ``lanes`` lanes (lane j holds symbols j, j + lanes,
  ...), each lane coded consecutively from a bit offset stored (packed) in the file; all lanes
  are decoded together, one vectorised table lookup per step, so a Python-level loop runs
  ``n / lanes`` times, not once per symbol, and step k yields symbols ``k * lanes ...`` in
  their original order (no transpose). The encoder pays for the dealing: one strided pass
  over the symbol indices. A two-level
  table (11 bits, then per-prefix sub-tables) keeps the lookup in cache even when rare
  symbols have codewords of 20+ bits.

The trap: Huffman codes are not unique. Ties between equal weights can be broken either way,
giving different code lengths with the same expected length; only the expected length (and
the completeness of the code) is a property of the distribution, and the tests compare those,
never one particular code.

>>> import numpy as np
>>> x = np.array([[3, 3, 3, 1], [2, 3, -7, 3]], dtype=np.int16)
>>> e = encode(x)
>>> e.bits, [int(v) for v in e.symbols], [int(n) for n in e.lengths]
(13, [3, 2, -7, 1], [1, 2, 3, 3])
>>> bool(np.array_equal(decode(e), x)) and decode(Encoded.from_bytes(e.to_bytes())).dtype == np.int16
True
"""

from __future__ import annotations

import json
import math
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

__all__ = [
    "Encoded",
    "FormatError",
    "MAGIC",
    "MAX_LENGTH",
    "batch_code_lengths",
    "canonical_codes",
    "code_lengths",
    "decode",
    "dequantize",
    "encode",
    "entropy_bits",
    "is_prefix_free",
    "kraft_sum",
    "quantize",
]

MAGIC = b"\x89WBH\r\n\x1a\n"  # PNG-style: a text-mode transfer or a truncated first line shows at once
VERSION = 1
MAX_LENGTH = 64  # the longest codeword the 64-bit packer and the decoder's window hold
LANE_BITS = 1 << 14  # a decoding lane holds about this many payload bits (its stored offset costs < 0.1%)
_CHUNK = 1 << 14  # symbols per encoder chunk: the working buffers stay in L2
_PRIMARY = 11  # bits of the first decoding table
_DENSE_SPAN = 1 << 16  # value ranges up to max(this, 4n) are histogrammed by bincount, wider ones by np.unique
_U6, _U63, _U64 = np.uint64(6), np.uint64(63), np.uint64(64)


class FormatError(ValueError):
    """A compressed file that is truncated, corrupted, or not one of ours (one line says which)."""


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
    if any(b < a for a, b in zip(lengths, lengths[1:])):
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
    return all(end <= start for (_, end), (start, _) in zip(spans, spans[1:]))


def entropy_bits(counts: np.ndarray) -> float:
    """Plug-in entropy (bits) of a histogram: :math:`\\log_2 N - \\sum n_k \\log_2 n_k / N`."""
    c = np.asarray(counts, dtype=np.float64)
    c = c[c > 0]
    total = float(c.sum())
    if total == 0:
        return 0.0
    return float(math.log2(total) - (c * np.log2(c)).sum() / total)


# --- the codec ----------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Encoded:
    """A Huffman-coded integer array: the canonical code table, the lane index and the payload.

    ``symbols`` are the distinct values in canonical order (by code length, then value) and
    ``lengths`` their code lengths. The symbols are dealt to ``lanes`` decoding lanes (lane j
    holds symbols j, j + lanes, j + 2 lanes, ...), each lane's codewords stored consecutively
    from bit ``offsets[j]``; ``words`` is the payload, big-endian bit order in 64-bit words, and
    ``bits`` its length. ``counts`` (the histogram, aligned with ``symbols``) is known after
    :func:`encode` and ``None`` after reading a file; ``metadata`` is free JSON for the caller.
    """

    dtype: np.dtype
    shape: tuple[int, ...]
    symbols: np.ndarray
    lengths: np.ndarray
    lanes: int
    offsets: np.ndarray
    words: np.ndarray
    bits: int
    counts: np.ndarray | None = None
    metadata: dict = field(default_factory=dict)

    @property
    def count(self) -> int:
        return int(math.prod(self.shape))

    @property
    def bits_per_symbol(self) -> float:
        """Payload bits per symbol (0 for an empty array)."""
        return self.bits / self.count if self.count else 0.0

    def with_metadata(self, **metadata: Any) -> Encoded:
        from dataclasses import replace

        return replace(self, metadata={**self.metadata, **metadata})

    def to_bytes(self, generator: str = "numerics.huffman") -> bytes:
        """The self-describing file (see :func:`_dump`); ``generator`` names the writer in its header
        (the command line puts the workbench's ownership marker there)."""
        return _dump(self, generator)

    @classmethod
    def from_bytes(cls, data: bytes) -> Encoded:
        """Read a file written by :meth:`to_bytes`, checking everything; raises :class:`FormatError`."""
        return _load(data)


def _histogram(flat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """(values present, their counts, symbol index per element, dense-slot -> present-rank map or None)."""
    lo, hi = int(flat.min()), int(flat.max())
    span = hi - lo + 1
    if span <= max(_DENSE_SPAN, 4 * flat.size):
        unsigned = np.dtype(f"u{flat.dtype.itemsize}")
        index = flat.view(unsigned) - np.array(lo).astype(flat.dtype).view(unsigned)  # wraps to 0..span-1
        if index.dtype.itemsize >= np.dtype(np.intp).itemsize:
            index = index.astype(np.intp)
        dense = np.bincount(index, minlength=span)
        present = np.flatnonzero(dense)
        values = np.array(lo).astype(flat.dtype) + present.astype(flat.dtype)  # no overflow: lo <= v <= hi
        return values, dense[present], index, present
    values, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
    return values, counts, inverse.reshape(-1), None


def _lane_count(bits: int, n: int) -> int:
    """How many decoding lanes: each holds at most about LANE_BITS payload bits (so the lane index
    costs under 0.1% of the payload), and there are at least sqrt(n)/2 lanes (so a small array is
    not decoded in thousands of sequential steps; its fixed header outweighs the index anyway)."""
    if n == 0:
        return 0
    per_lane = max(1, math.ceil(LANE_BITS / max(bits / n, 1 / 64)))
    return min(n, max(-(-n // per_lane), math.ceil(math.sqrt(n) / 2)))


def _lane_major(index: np.ndarray, lanes: int) -> tuple[np.ndarray, np.ndarray]:
    """Reorder symbols so that lane j's symbols j, j + lanes, j + 2 lanes, ... are consecutive;
    returns (the reordered symbols, the index where each lane starts). One strided pass."""
    n = index.size
    steps = -(-n // lanes)
    full = n - (steps - 1) * lanes  # lanes holding `steps` symbols; the others hold steps - 1
    seq = np.empty_like(index)
    main = index[: (steps - 1) * lanes].reshape(steps - 1, lanes)
    head = seq[: full * steps].reshape(full, steps)
    head[:, : steps - 1] = main[:, :full].T
    head[:, steps - 1] = index[(steps - 1) * lanes:]
    seq[full * steps:].reshape(lanes - full, steps - 1)[...] = main[:, full:].T
    lane = np.arange(lanes, dtype=np.int64)
    return seq, lane * (steps - 1) + np.minimum(lane, full)


def encode(x: Any) -> Encoded:
    """Huffman-code an integer array (any integer dtype and shape, C order).

    Raises ``TypeError`` for a non-integer array.
    """
    x = np.asarray(x)
    if x.dtype.kind not in "iu":
        raise TypeError(f"encode() takes an integer array, not {x.dtype}")
    dtype = x.dtype.newbyteorder("=") if x.dtype.byteorder not in ("=", "|") else x.dtype
    flat = np.ascontiguousarray(x, dtype=dtype).reshape(-1)
    n = flat.size
    if n == 0:
        return Encoded(np.dtype(dtype), x.shape, np.zeros(0, dtype), np.zeros(0, np.uint8), 0,
                       np.zeros(0, np.int64), np.zeros(0, dtype=np.uint64), 0, np.zeros(0, np.int64))
    values, counts, index, present = _histogram(flat)
    lengths = code_lengths(counts)
    if lengths.max() > MAX_LENGTH:  # needs more than F(66) ~ 2.7e13 symbols; kept as a guard
        raise ValueError(f"a codeword of {lengths.max()} bits exceeds the codec's limit of {MAX_LENGTH}")
    canon = np.lexsort((values, lengths))  # canonical order: by length, then value
    codes = np.zeros(len(values), dtype=np.uint64)
    codes[canon] = np.array(canonical_codes(lengths[canon]), dtype=np.uint64)
    bits = int((counts * lengths).sum())
    lanes = _lane_count(bits, n)
    if present is not None:  # tables over the dense slots of the value range
        code_table = np.zeros(int(present[-1]) + 1, dtype=np.uint64)
        len_table = np.zeros(int(present[-1]) + 1, dtype=np.uint64)
        code_table[present], len_table[present] = codes, lengths.astype(np.uint64)
    else:
        code_table, len_table = codes, lengths.astype(np.uint64)
    seq, starts = _lane_major(index, lanes)
    words, offsets = _pack(seq, starts, len_table, code_table, bits)
    return Encoded(np.dtype(dtype), x.shape, values[canon], lengths[canon].astype(np.uint8), lanes, offsets,
                   words, bits, counts[canon].astype(np.int64))


def _pack(index: np.ndarray, starts: np.ndarray, len_table: np.ndarray, code_table: np.ndarray, bits: int):
    """Codewords into big-endian 64-bit words, chunk by chunk; returns (words, the bit offset of
    the symbol at each of ``starts``)."""
    n = index.size
    nwords = (bits + 63) // 64
    out = np.zeros(nwords + 1, dtype=np.uint64)
    offsets = np.zeros(starts.size, dtype=np.int64)
    size = min(_CHUNK, n)
    lens, code, end, word, shift = (np.empty(size, np.uint64) for _ in range(5))
    change = np.empty(max(size - 1, 0), dtype=bool)
    running = np.uint64(0)
    for start in range(0, n, size):
        m = min(size, n - start)
        ln, cd, e, wd, sh = lens[:m], code[:m], end[:m], word[:m], shift[:m]
        part = index[start:start + m]
        np.take(len_table, part, out=ln)
        np.take(code_table, part, out=cd)
        np.cumsum(ln, out=e)
        e += running
        running = e[-1]
        lo, hi = np.searchsorted(starts, [start, start + m])
        if hi > lo:  # lanes starting inside this chunk
            at = starts[lo:hi] - start
            offsets[lo:hi] = (e[at] - ln[at]).astype(np.int64)
        if bits == 0:
            continue
        np.subtract(e, np.uint64(1), out=wd)
        np.right_shift(wd, _U6, out=wd)  # the word holding each codeword's last bit
        np.bitwise_and(e, _U63, out=sh)
        np.subtract(_U64, sh, out=sh)
        np.bitwise_and(sh, _U63, out=sh)  # left shift that puts the last bit in place
        placed = np.left_shift(cd, sh)
        ch = change[:m - 1]
        np.not_equal(wd[1:], wd[:-1], out=ch)
        heads = np.flatnonzero(ch)
        heads += 1
        heads = np.concatenate(([0], heads))
        out[wd[heads].astype(np.intp)] |= np.bitwise_or.reduceat(placed, heads)
        # a codeword longer than the bits before its end in the last word spills into the word before
        np.add(sh, ln, out=sh)
        spill = np.flatnonzero(sh > _U64)
        if spill.size:
            used = _U64 - (sh[spill] - ln[spill])  # bits of the codeword in its last word
            out[wd[spill].astype(np.intp) - 1] |= cd[spill] >> used
    return out[:nwords], offsets


def _decode_tables(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Two-level tables for canonical lengths (non-decreasing, complete code): ``primary`` maps
    the first T bits to ``base << 8 | shift``; ``secondary[base + (rest >> shift)]`` is
    ``rank << 6 | length``. Returns (primary, secondary, T)."""
    lens = lengths.astype(np.int64)
    top = int(lens.max())
    t = min(top, _PRIMARY)
    codes = canonical_codes(lens)
    short = lens <= t
    prefix = np.array([c >> (n - t) if n > t else 0 for c, n in zip(codes, lens.tolist())], dtype=np.int64)
    # the longest codeword under each long prefix sets its sub-table's width
    group_max = {}
    for p, n in zip(prefix[~short].tolist(), lens[~short].tolist()):
        group_max[p] = max(group_max.get(p, 0), n)
    width = np.array([group_max.get(p, 0) for p in prefix.tolist()], dtype=np.int64)
    repeat = np.where(short, 1 << np.maximum(t - lens, 0), 1 << np.maximum(width - lens, 0))
    ranks = np.arange(lens.size, dtype=np.int64)
    store = np.int32 if lens.size < (1 << 25) else np.int64
    secondary = np.repeat((ranks << 6) | lens, repeat).astype(store)
    starts = np.concatenate(([0], np.cumsum(repeat)[:-1]))
    primary = np.empty(1 << t, dtype=np.int64)
    slot = 0
    for i in range(lens.size):
        if short[i]:
            span = int(repeat[i])
            primary[slot:slot + span] = ((starts[i] + np.arange(span)) << 8) | 64
            slot += span
        elif i == 0 or prefix[i] != prefix[i - 1] or short[i - 1]:
            primary[slot] = (int(starts[i]) << 8) | (64 - int(width[i]) + t)
            slot += 1
    if slot != primary.size:
        raise FormatError("the code table is not a complete prefix code")
    return primary, secondary, t


def decode(e: Encoded) -> np.ndarray:
    """The array :func:`encode` was given, bit for bit (dtype and shape included)."""
    n = e.count
    if n == 0:
        return np.zeros(e.shape, dtype=e.dtype)
    if e.symbols.size == 1:
        return np.full(e.shape, e.symbols[0], dtype=e.dtype)
    ranks = _decode_ranks(e)
    return e.symbols[ranks].reshape(e.shape)


def _decode_ranks(e: Encoded) -> np.ndarray:
    """Canonical ranks of all symbols in their original order: every lane decoded at once, one
    table step per symbol; step k decodes symbols k * lanes ... (k + 1) * lanes - 1, so the rows
    of the result are already in order."""
    n, lanes = e.count, e.lanes
    lens = e.lengths.astype(np.int64)
    primary, secondary, t = _decode_tables(lens)
    top = int(lens.max())
    steps = -(-n // lanes)
    full = n - (steps - 1) * lanes
    pad = (steps * top) // 64 + 2  # any lane, however corrupt its lengths, stays inside
    words = np.concatenate([e.words, np.zeros(pad + 1, dtype=np.uint64)])
    nxt = words[1:]
    pos = e.offsets.astype(np.int64).copy()
    out = np.empty((steps, lanes), dtype=secondary.dtype)
    w, o = np.empty(lanes, np.int64), np.empty(lanes, np.uint64)
    g, g2, r, sh = (np.empty(lanes, np.uint64) for _ in range(4))
    entry, step = np.empty(lanes, np.int64), np.empty(lanes, np.int64)
    drop, keep = np.uint64(64 - t), np.uint64(t)
    before_last = pos
    for k in range(steps):
        if k == steps - 1:
            before_last = pos.copy()  # where the lanes holding one symbol fewer end
        np.right_shift(pos, 6, out=w)
        np.take(words, w, out=g, mode="clip")
        np.take(nxt, w, out=g2, mode="clip")
        np.bitwise_and(pos, 63, out=o, casting="unsafe")
        np.left_shift(g, o, out=g)
        np.subtract(_U64, o, out=o)
        np.right_shift(g2, o, out=g2)  # a shift by 64 gives 0 in NumPy
        np.bitwise_or(g, g2, out=g)  # the next 64 bits of every lane
        np.right_shift(g, drop, out=r)
        np.take(primary, r.view(np.int64), out=entry, mode="clip")
        np.bitwise_and(entry, 255, out=sh, casting="unsafe")
        np.right_shift(entry, 8, out=entry)
        np.left_shift(g, keep, out=r)
        np.right_shift(r, sh, out=r)
        np.add(entry, r.view(np.int64), out=entry)
        row = out[k]
        np.take(secondary, entry, out=row, mode="clip")
        np.bitwise_and(row, 63, out=step, casting="unsafe")
        pos += step
    ends = np.where(np.arange(lanes) < full, pos, before_last)
    if not np.array_equal(ends, np.append(e.offsets[1:], e.bits)):
        raise FormatError("the payload does not decode to the recorded lane boundaries: the file is corrupted")
    ranks = out.reshape(-1)[:n]
    np.right_shift(ranks, 6, out=ranks)
    return ranks


# --- quantisation -----------------------------------------------------------------------------

def quantize(x: np.ndarray, bits: int) -> tuple[np.ndarray, float, float]:
    """Uniform affine quantisation with one scale per tensor: ``q = round((x - lo) / step)``
    in ``0 .. 2^bits - 1`` with ``step = (hi - lo) / (2^bits - 1)``; returns (q, lo, step).
    A constant tensor has step 0 and q = 0."""
    if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= 16:
        raise ValueError(f"bits={bits!r} is outside the domain: integer with 1 <= bits <= 16")
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise TypeError(f"quantize() takes a float array, not {x.dtype}")
    dtype = np.uint8 if bits <= 8 else np.uint16
    if x.size == 0:
        return np.zeros(x.shape, dtype), 0.0, 0.0
    values = x.astype(np.float64)
    if not np.isfinite(values).all():
        raise ValueError("the array holds NaN or infinite values, which a uniform quantiser cannot represent")
    lo, hi = float(values.min()), float(values.max())
    levels = (1 << bits) - 1
    step = (hi - lo) / levels
    if step == 0:
        return np.zeros(x.shape, dtype), lo, 0.0
    q = np.rint((values - lo) / step)
    np.clip(q, 0, levels, out=q)
    return q.astype(dtype), lo, step


def dequantize(q: np.ndarray, lo: float, step: float, dtype: Any = np.float32) -> np.ndarray:
    """``lo + q * step`` in float64, then cast to ``dtype``: the same bits every time."""
    return (lo + np.asarray(q, dtype=np.float64) * step).astype(dtype)


# --- the file format ---------------------------------------------------------------------------
#
#   MAGIC (8 bytes) | total file length (uint64 LE) | header length h (uint32 LE)
#   header: h bytes of UTF-8 JSON (format, version, generator, dtype, shape, table and index sizes,
#           the caller's metadata)
#   symbols: K values in the array's dtype (little-endian), canonical order
#   length counts: how many codewords have each length 0..max (uint32 LE)
#   index: the lanes' starting bit offsets as fixed-width deltas (big-endian bits, padded to bytes)
#   payload: the codewords (big-endian bits, padded to bytes)
#   CRC-32 of everything before it (uint32 LE)

_PREFIX = struct.Struct("<8sQI")


def _pack_index(offsets: np.ndarray) -> tuple[bytes, int, int]:
    """Fixed-width deltas of the lane offsets: (packed bytes, base, width)."""
    if offsets.size <= 1:
        return b"", 0, 0
    deltas = np.diff(offsets)
    base = int(deltas.min())
    spread = (deltas - base).astype(np.uint64)
    width = int(spread.max()).bit_length()
    if width == 0:
        return b"", base, 0
    shifts = np.arange(width - 1, -1, -1, dtype=np.uint64)
    bitplane = ((spread[:, None] >> shifts) & np.uint64(1)).astype(np.uint8)
    return np.packbits(bitplane.reshape(-1)).tobytes(), base, width


def _unpack_index(data: bytes, count: int, base: int, width: int) -> np.ndarray:
    offsets = np.zeros(count, dtype=np.int64)
    if count <= 1:
        return offsets
    if width == 0:
        deltas = np.full(count - 1, base, dtype=np.int64)
    else:
        bitplane = np.unpackbits(np.frombuffer(data, dtype=np.uint8), count=(count - 1) * width)
        weights = np.uint64(1) << np.arange(width - 1, -1, -1, dtype=np.uint64)
        deltas = (bitplane.reshape(count - 1, width).astype(np.uint64) * weights).sum(axis=1).astype(np.int64) + base
    offsets[1:] = np.cumsum(deltas)
    return offsets


def _dump(e: Encoded, generator: str) -> bytes:
    symbols = np.ascontiguousarray(e.symbols, dtype=e.dtype.newbyteorder("<"))
    top = int(e.lengths.max()) if e.lengths.size else 0
    length_counts = np.bincount(e.lengths.astype(np.int64), minlength=top + 1).astype("<u4") if e.lengths.size else np.zeros(0, "<u4")
    index, base, width = _pack_index(e.offsets)
    payload = e.words.astype(">u8").tobytes()[: (e.bits + 7) // 8]
    header = {
        "format": "workbench canonical Huffman",
        "version": VERSION,
        "generator": generator,
        "dtype": e.dtype.newbyteorder("<").str,
        "shape": list(e.shape),
        "symbols": int(e.symbols.size),
        "max_length": top,
        "lanes": int(e.lanes),
        "index_base": base,
        "index_width": width,
        "bits": int(e.bits),
        "metadata": e.metadata,
    }
    head = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    body = head + symbols.tobytes() + length_counts.tobytes() + index + payload
    total = _PREFIX.size + len(body) + 4
    data = _PREFIX.pack(MAGIC, total, len(head)) + body
    return data + struct.pack("<I", zlib.crc32(data))


def _load(data: bytes) -> Encoded:
    data = bytes(data)
    if len(data) < len(MAGIC) or data[: len(MAGIC)] != MAGIC:
        raise FormatError("not a workbench compressed file (its first bytes are not the magic number)")
    if len(data) < _PREFIX.size + 4:
        raise FormatError(f"the file is truncated: {len(data)} bytes, fewer than the fixed header")
    _, total, hlen = _PREFIX.unpack_from(data)
    if len(data) < total:
        raise FormatError(f"the file is truncated: {len(data)} of {total} bytes")
    if len(data) > total:
        raise FormatError(f"the file has {len(data) - total} bytes after its end: it is corrupted or two files joined")
    (crc,) = struct.unpack_from("<I", data, total - 4)
    if zlib.crc32(data[: total - 4]) != crc:
        raise FormatError("the checksum does not match: the file is corrupted")
    try:
        header = json.loads(data[_PREFIX.size: _PREFIX.size + hlen].decode("utf-8"))
        if header.get("format") != "workbench canonical Huffman":
            raise FormatError("not a workbench canonical Huffman file")
        if header.get("version") != VERSION:
            raise FormatError(f"file format version {header.get('version')!r}; this workbench reads version {VERSION}")
        dtype = np.dtype(header["dtype"])
        shape = tuple(int(s) for s in header["shape"])
        k, top, lanes = (int(header[name]) for name in ("symbols", "max_length", "lanes"))
        base, width, bits = int(header["index_base"]), int(header["index_width"]), int(header["bits"])
        metadata = header.get("metadata") or {}
    except FormatError:
        raise
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise FormatError(f"the header is not valid: {exc}") from None
    if dtype.kind not in "iu" or any(s < 0 for s in shape) or min(k, lanes, bits, base, width, top) < 0:
        raise FormatError("the header holds impossible values")
    if top > MAX_LENGTH or width > 64:
        raise FormatError("the header holds impossible values")
    n = math.prod(shape)
    at = _PREFIX.size + hlen
    sizes = [k * dtype.itemsize, 4 * (top + 1) if k else 0, ((lanes - 1) * width + 7) // 8 if lanes > 1 else 0]
    need = at + sum(sizes) + (bits + 7) // 8 + 4
    if need != total:
        raise FormatError("the sections do not add up to the file's length: the file is corrupted")
    symbols = np.frombuffer(data, dtype=dtype.newbyteorder("<"), count=k, offset=at).astype(dtype)
    at += sizes[0]
    counts = np.frombuffer(data, dtype="<u4", count=top + 1 if k else 0, offset=at).astype(np.int64)
    at += sizes[1]
    index = data[at: at + sizes[2]]
    at += sizes[2]
    payload = data[at: at + (bits + 7) // 8]
    if n == 0:
        if k or bits:
            raise FormatError("an empty array with symbols or payload: the file is corrupted")
        return Encoded(dtype, shape, symbols, np.zeros(0, np.uint8), 0, np.zeros(0, np.int64),
                       np.zeros(0, np.uint64), 0, None, metadata)
    if int(counts.sum()) != k or k == 0:
        raise FormatError("the code table's length counts do not match its symbols")
    if np.unique(symbols).size != k:
        raise FormatError("the code table lists a symbol twice: the file is corrupted")
    lengths = np.repeat(np.arange(top + 1), counts).astype(np.uint8)
    if k == 1:
        if top != 0 or bits != 0:
            raise FormatError("a one-symbol code must have length 0 and no payload")
    else:
        if counts[0] != 0 or kraft_sum(lengths) != 1:
            raise FormatError("the code lengths do not form a complete prefix code (Kraft sum != 1): the file is corrupted")
    if not 1 <= lanes <= n:
        raise FormatError("the lane index does not match the array's size")
    offsets = _unpack_index(index, lanes, base, width)
    if offsets[-1] > bits:
        raise FormatError("the lane index points outside the payload: the file is corrupted")
    padded = payload + bytes((-len(payload)) % 8)
    words = np.frombuffer(padded, dtype=">u8").astype(np.uint64)
    return Encoded(dtype, shape, symbols, lengths, lanes, offsets, words, bits, None, metadata)
