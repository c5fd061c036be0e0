r"""The canonical Huffman codec of integer arrays: :func:`encode` into a :class:`CodedArray`
(code table, lane index, payload) and :func:`decode` back, NumPy throughout.

The codec is measurably faster here than the C loop of ``bitarray`` (see
``benchmarks/coding.py``); the codes come from :mod:`numerics.huffman`, and the file format
that stores a :class:`CodedArray` is :mod:`workbench.codec.container`.

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

>>> import numpy as np
>>> x = np.array([[3, 3, 3, 1], [2, 3, -7, 3]], dtype=np.int16)
>>> e = encode(x)
>>> e.bits, [int(v) for v in e.symbols], [int(n) for n in e.lengths]
(13, [3, 2, -7, 1], [1, 2, 3, 3])
>>> bool(np.array_equal(decode(e), x)) and decode(e).dtype == np.int16
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .huffman import canonical_codes, code_lengths

__all__ = [
    "LANE_BITS",
    "MAX_LENGTH",
    "CodedArray",
    "FormatError",
    "decode",
    "encode",
    "lane_count",
    "min_lanes",
]

MAX_LENGTH = 64  # the longest codeword the 64-bit packer and the decoder's window hold
LANE_BITS = 1 << 14  # a decoding lane holds about this many payload bits (its stored offset costs < 0.1%)
_CHUNK = 1 << 14  # symbols per encoder chunk: the working buffers stay in L2
_PRIMARY = 11  # bits of the first decoding table
_TABLE_ENTRIES = 1 << 16  # decoding tables up to this many entries (or 4 per symbol) are built; larger ones search
_DENSE_SPAN = 1 << 16  # value ranges up to max(this, 4n) are histogrammed by bincount, wider ones by np.unique
_U6, _U63, _U64 = np.uint64(6), np.uint64(63), np.uint64(64)


class FormatError(ValueError):
    """A compressed file that is truncated, corrupted, or not one of ours (one line says which)."""


# --- the codec ----------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class CodedArray:
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

    def with_metadata(self, **metadata: Any) -> CodedArray:
        from dataclasses import replace

        return replace(self, metadata={**self.metadata, **metadata})


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


def min_lanes(n: int) -> int:
    """The fewest lanes :func:`encode` deals ``n`` symbols to, ``min(n, ceil(sqrt(n) / 2))``: so
    decoding takes at most about ``2 sqrt(n)`` Python-level steps. A reader refuses a file with
    fewer lanes (a crafted one could otherwise ask for ``n`` sequential steps).

    >>> min_lanes(0), min_lanes(1), min_lanes(3), min_lanes(10**6)
    (0, 1, 1, 500)
    """
    return min(n, math.ceil(math.sqrt(n) / 2))


def lane_count(bits: int, n: int) -> int:
    """How many decoding lanes :func:`encode` deals ``n`` symbols of ``bits`` payload bits to:
    each holds at most about LANE_BITS payload bits (so the lane index costs under 0.1% of the
    payload), and there are at least :func:`min_lanes` (so a small array is not decoded in
    thousands of sequential steps; its fixed header outweighs the index anyway). A reader
    refuses a file with more (a one-symbol file, which has no payload, could otherwise ask for
    ``n`` lanes of index: 16 GB for a 400-byte file).

    >>> lane_count(0, 10**12), lane_count(8 * 10**6, 10**6), min_lanes(10**6)
    (953675, 500, 500)
    """
    if n == 0:
        return 0
    per_lane = max(1, math.ceil(LANE_BITS / max(bits / n, 1 / 64)))
    return max(min(n, -(-n // per_lane)), min_lanes(n))


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


def encode(x: Any) -> CodedArray:
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
        return CodedArray(np.dtype(dtype), x.shape, np.zeros(0, dtype), np.zeros(0, np.uint8), 0,
                       np.zeros(0, np.int64), np.zeros(0, dtype=np.uint64), 0, np.zeros(0, np.int64))
    values, counts, index, present = _histogram(flat)
    lengths = code_lengths(counts)
    if lengths.max() > MAX_LENGTH:  # needs more than F(66) ~ 2.7e13 symbols; kept as a guard
        raise ValueError(f"a codeword of {lengths.max()} bits exceeds the codec's limit of {MAX_LENGTH}")
    canon = np.lexsort((values, lengths))  # canonical order: by length, then value
    codes = np.zeros(len(values), dtype=np.uint64)
    codes[canon] = np.array(canonical_codes(lengths[canon]), dtype=np.uint64)
    bits = int((counts * lengths).sum())
    lanes = lane_count(bits, n)
    if present is not None:  # tables over the dense slots of the value range
        code_table = np.zeros(int(present[-1]) + 1, dtype=np.uint64)
        len_table = np.zeros(int(present[-1]) + 1, dtype=np.uint64)
        code_table[present], len_table[present] = codes, lengths.astype(np.uint64)
    else:
        code_table, len_table = codes, lengths.astype(np.uint64)
    seq, starts = _lane_major(index, lanes)
    words, offsets = _pack(seq, starts, len_table, code_table, bits)
    return CodedArray(np.dtype(dtype), x.shape, values[canon], lengths[canon].astype(np.uint8), lanes, offsets,
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


def _decode_tables(lengths: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Two-level tables for canonical lengths (non-decreasing, complete code): ``primary`` maps
    the first T bits to ``base << 8 | shift``; ``secondary[base + (rest >> shift)]`` is
    ``rank << 6 | length``. Returns (primary, secondary, T), or ``None`` when the secondary table
    would exceed ``limit`` entries: a sub-table spans the longest codeword under its prefix, so a
    code with 64-bit codewords would need 2^53 entries (counted before anything is allocated)."""
    lens = lengths.astype(np.int64)
    top = int(lens.max())
    t = min(top, _PRIMARY)
    codes = canonical_codes(lens)
    short = lens <= t
    prefix = np.array([c >> (n - t) if n > t else 0 for c, n in zip(codes, lens.tolist(), strict=True)], dtype=np.int64)
    # the longest codeword under each long prefix sets its sub-table's width
    group_max: dict[int, int] = {}
    for p, n in zip(prefix[~short].tolist(), lens[~short].tolist(), strict=True):
        group_max[p] = max(group_max.get(p, 0), n)
    size = sum(1 << (t - n) for n in lens[short].tolist()) + sum(1 << (n - t) for n in group_max.values())
    if size > limit:
        return None
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


def decode(e: CodedArray) -> np.ndarray:
    """The array :func:`encode` was given, bit for bit (dtype and shape included).

    Memory: the output, 4 bytes of ranks per symbol, and decoding tables of at most
    ``max(2^16, 4n)`` entries (a longer code is decoded by binary search instead, see
    :func:`_search_steps`); time: ``ceil(n / lanes)`` vectorised steps over all lanes. A payload
    that does not end each lane exactly where the next begins raises :class:`FormatError`.
    """
    n = e.count
    if n == 0:
        return np.zeros(e.shape, dtype=e.dtype)
    if e.symbols.size == 1:
        return np.full(e.shape, e.symbols[0], dtype=e.dtype)
    ranks = _decode_ranks(e)
    return e.symbols[ranks].reshape(e.shape)


def _decode_ranks(e: CodedArray, limit: int | None = None) -> np.ndarray:
    """Canonical ranks of all symbols in their original order: every lane decoded at once, one
    table step per symbol; step k decodes symbols k * lanes ... (k + 1) * lanes - 1, so the rows
    of the result are already in order. ``limit`` caps the table (default ``max(2^16, 4n)``)."""
    n, lanes = e.count, e.lanes
    lens = e.lengths.astype(np.int64)
    steps = -(-n // lanes)
    full = n - (steps - 1) * lanes
    pad = (steps * int(lens.max())) // 64 + 2  # any lane, however corrupt its lengths, stays inside
    words = np.concatenate([e.words, np.zeros(pad + 1, dtype=np.uint64)])
    pos = e.offsets.astype(np.int64).copy()
    tables = _decode_tables(lens, max(_TABLE_ENTRIES, 4 * n) if limit is None else limit)
    if tables is None:
        out, pos, before_last = _search_steps(words, pos, lens, steps)
    else:
        out, pos, before_last = _table_steps(words, pos, tables, steps)
    ends = np.where(np.arange(lanes) < full, pos, before_last)
    if not np.array_equal(ends, np.append(e.offsets[1:], e.bits)):
        raise FormatError("the payload does not decode to the recorded lane boundaries: the file is corrupted")
    return out.reshape(-1)[:n]


def _table_steps(words: np.ndarray, pos: np.ndarray, tables: tuple[np.ndarray, np.ndarray, int], steps: int):
    """The fast path: two table lookups per step. Returns (ranks by step and lane, the lanes' end
    positions, their positions before the last step)."""
    primary, secondary, t = tables
    lanes = pos.size
    nxt = words[1:]
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
    np.right_shift(out, 6, out=out)
    return out, pos, before_last


def _search_steps(words: np.ndarray, pos: np.ndarray, lens: np.ndarray, steps: int):
    """The general fallback, for codes whose tables would be too large: canonical codewords,
    left-justified to 64 bits, increase with their rank and tile [0, 2^64), so a lane's next 64
    bits fall in the interval of exactly one codeword, found by binary search (O(k) memory,
    O(log k) per symbol). Returns what :func:`_table_steps` returns."""
    starts = np.array([c << (64 - n) for c, n in zip(canonical_codes(lens), lens.tolist(), strict=True)], np.uint64)
    lanes = pos.size
    nxt = words[1:]
    out = np.empty((steps, lanes), dtype=np.int32 if lens.size < (1 << 31) else np.int64)
    before_last = pos
    for k in range(steps):
        if k == steps - 1:
            before_last = pos.copy()
        w = pos >> 6
        o = (pos & 63).astype(np.uint64)
        g = (np.take(words, w, mode="clip") << o) | (np.take(nxt, w, mode="clip") >> (_U64 - o))
        rank = np.searchsorted(starts, g, side="right") - 1
        out[k] = rank
        pos = pos + lens[rank]
    return out, pos, before_last
