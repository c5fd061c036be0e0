r"""The self-describing file of a Huffman-coded array: :class:`Encoded` (a
:class:`~numerics.bitstream.CodedArray` with its file format), written by
:meth:`Encoded.to_bytes` and read back by :meth:`Encoded.from_bytes`, which trusts nothing: a
crafted writer can recompute the CRC, so every header field is checked, against its type and
against the bytes actually present, before anything is allocated (see :func:`_load`). A bad
file raises :class:`~numerics.bitstream.FormatError`, one line naming what is wrong.

>>> import numpy as np
>>> from numerics.bitstream import decode, encode
>>> x = np.array([[3, 3, 3, 1], [2, 3, -7, 3]], dtype=np.int16)
>>> e = Encoded.of(encode(x))
>>> bool(np.array_equal(decode(Encoded.from_bytes(e.to_bytes())), x))
True
>>> decode(Encoded.from_bytes(e.to_bytes())).dtype == np.int16
True
"""

from __future__ import annotations

import json
import math
import struct
import zlib
from dataclasses import fields

import numpy as np

from numerics.bitstream import MAX_LENGTH, CodedArray, FormatError, lane_count, min_lanes

from . import checks
from .checks import INTEGER_DTYPES, gib, integer, json_object, mapping, text, whitelisted

__all__ = ["MAGIC", "VERSION", "Encoded", "decoding_bytes"]

MAGIC = b"\x89WBH\r\n\x1a\n"  # PNG-style: a text-mode transfer or a truncated first line shows at once
VERSION = 1


class Encoded(CodedArray):
    """A :class:`~numerics.bitstream.CodedArray` that writes and reads its own file."""

    @classmethod
    def of(cls, coded: CodedArray) -> Encoded:
        """The array coded by :func:`numerics.bitstream.encode`, ready to be written."""
        return cls(**{f.name: getattr(coded, f.name) for f in fields(coded)})

    def to_bytes(self, generator: str = "workbench.codec") -> bytes:
        """The self-describing file (see :func:`_dump`); ``generator`` names the writer in its header
        (the command line puts the workbench's ownership marker there)."""
        return _dump(self, generator)

    @classmethod
    def from_bytes(cls, data: bytes, *, memory: int | None = None) -> Encoded:
        """Read a file written by :meth:`to_bytes`, checking everything; raises :class:`FormatError`.
        ``memory`` bounds the bytes that decoding it may allocate (default: the machine's physical
        memory, :func:`~workbench.codec.checks.memory_limit`); a file claiming more is refused."""
        return _load(data, checks.memory_limit() if memory is None else memory)


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
FORMAT = "workbench canonical Huffman"
_FIELDS = {"format", "version", "generator", "dtype", "shape", "symbols", "max_length", "lanes", "index_base",
           "index_width", "bits", "metadata"}


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


def _dump(e: Encoded, generator: str) -> bytes:
    symbols = np.ascontiguousarray(e.symbols, dtype=e.dtype.newbyteorder("<"))
    top = int(e.lengths.max()) if e.lengths.size else 0
    length_counts = np.bincount(e.lengths.astype(np.int64), minlength=top + 1).astype("<u4") if e.lengths.size else np.zeros(0, "<u4")
    index, base, width = _pack_index(e.offsets)
    payload = e.words.astype(">u8").tobytes()[: (e.bits + 7) // 8]
    header = {
        "format": FORMAT,
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


def _load(data: bytes, memory: int) -> Encoded:
    """Read a file, checking in this order, each before anything depending on it is allocated:
    the magic number, the stated length against the bytes present, the CRC; the header (bounded
    JSON, :func:`_header`); that the sections add up to the file's length (so the symbols, table
    and index are bounded by the file); the code table (a complete prefix code, :func:`_table`);
    the payload's length against ``n`` times the shortest and longest codeword, which bounds ``n``
    by the file for two or more symbols; the lanes (:func:`_lanes`); and the symbols (canonical
    order, each once). A one-symbol code (a constant array) needs no payload, so there the array
    is bounded by ``memory`` instead, and its lanes by what the writer gives it (a few per
    million symbols)."""
    view = memoryview(data).cast("B")
    if len(view) < len(MAGIC) or bytes(view[: len(MAGIC)]) != MAGIC:
        raise FormatError("not a workbench compressed file (its first bytes are not the magic number)")
    if len(view) < _PREFIX.size + 4:
        raise FormatError(f"the file is truncated: {len(view)} bytes, fewer than the fixed header")
    _, total, hlen = _PREFIX.unpack_from(view)
    if len(view) < total:
        raise FormatError(f"the file is truncated: {len(view)} of {total} bytes")
    if len(view) > total:
        raise FormatError(f"the file has {len(view) - total} bytes after its end: it is corrupted or two files joined")
    (crc,) = struct.unpack_from("<I", view, total - 4)
    if zlib.crc32(view[: total - 4]) != crc:
        raise FormatError("the checksum does not match: the file is corrupted")
    if hlen > total - _PREFIX.size - 4:
        raise FormatError(f"the header length {hlen} exceeds the file's {total} bytes")
    dtype, shape, k, top, lanes, base, width, bits, metadata = _header(bytes(view[_PREFIX.size: _PREFIX.size + hlen]),
                                                                       total, memory)
    n = math.prod(shape)
    at = _PREFIX.size + hlen
    sizes = [k * dtype.itemsize, 4 * (top + 1) if k else 0, ((lanes - 1) * width + 7) // 8 if lanes > 1 else 0]
    if at + sum(sizes) + (bits + 7) // 8 + 4 != total:
        raise FormatError("the sections do not add up to the file's length: the file is corrupted")
    if n == 0:
        if k or top or lanes or bits or base or width:
            raise FormatError("an empty array with symbols, lanes or payload: the file is corrupted")
        return Encoded(dtype, shape, np.zeros(0, dtype), np.zeros(0, np.uint8), 0, np.zeros(0, np.int64),
                       np.zeros(0, np.uint64), 0, None, metadata)
    if not 1 <= k <= min(n, 1 << (8 * dtype.itemsize)):
        raise FormatError(f"{k} distinct symbols in an array of {n} {dtype} values: the file is corrupted")
    counts = np.frombuffer(view, dtype="<u4", count=top + 1, offset=at + sizes[0]).astype(np.int64)
    shortest = _table(counts, k, bits)
    if k > 1 and not n * shortest <= bits <= n * top:
        raise FormatError(f"the payload holds {bits} bits, but {n} symbols with codewords of {shortest} to {top} bits "
                          f"need {n * shortest} to {n * top}: the file is corrupted")
    at += sizes[0] + sizes[1]
    offsets = _lanes(view[at: at + sizes[2]], n, lanes, base, width, bits, shortest, top)
    symbols = np.frombuffer(view, dtype=dtype.newbyteorder("<"), count=k, offset=_PREFIX.size + hlen).astype(dtype)
    lengths = np.repeat(np.arange(top + 1), counts).astype(np.uint8)
    same = lengths[1:] == lengths[:-1]
    if not (symbols[1:][same] > symbols[:-1][same]).all() or np.unique(symbols).size != k:
        raise FormatError("the code table's symbols are not distinct and in canonical order: the file is corrupted")
    at += sizes[2]
    payload = view[at: at + (bits + 7) // 8]
    if bits % 8 and payload[-1] & ((1 << (8 - bits % 8)) - 1):
        raise FormatError("the payload's padding bits are not zero: the file is corrupted")
    padded = np.zeros(8 * ((bits + 63) // 64), dtype=np.uint8)
    padded[: len(payload)] = np.frombuffer(payload, dtype=np.uint8)
    words = padded.view(">u8").astype(np.uint64)
    return Encoded(dtype, shape, symbols, lengths, lanes, offsets, words, bits, None, metadata)


def _header(raw: bytes, total: int, memory: int):
    """The header's fields, each of its exact JSON type and within what a file of ``total`` bytes
    can hold: (dtype, shape, symbols, max_length, lanes, index_base, index_width, bits,
    metadata). The shape is checked by its own sides first (:func:`~workbench.codec.checks.shape`),
    the lanes lie between :func:`~numerics.bitstream.min_lanes` and the writer's
    :func:`~numerics.bitstream.lane_count` for the payload, and decoding must fit in ``memory``
    bytes, every allocation counted (:func:`decoding_bytes`)."""
    header = json_object(raw)
    if header.get("format") != FORMAT:
        raise FormatError("not a workbench canonical Huffman file")
    if type(header.get("version")) is not int or header["version"] != VERSION:
        raise FormatError(f"file format version {str(header.get('version'))[:20]!r}; this workbench reads version {VERSION}")
    if set(header) != _FIELDS:
        odd = sorted(set(header) ^ _FIELDS)
        raise FormatError(f"the header {'lacks' if odd[0] in _FIELDS else 'has the unknown field'} {odd[0][:40]!r}")
    text(header, "generator")
    dtype = whitelisted(header, "dtype", INTEGER_DTYPES)
    shape = checks.shape(header["shape"])
    n = math.prod(shape)  # < 2^59: checks.shape bounds it
    bits = integer(header, "bits", 0, 8 * total)
    lanes = integer(header, "lanes", min_lanes(n), lane_count(bits, n))
    need = decoding_bytes(n, lanes, dtype)
    if need > memory:
        raise FormatError(f"the header claims a {str(shape)[:60]} array of {dtype} ({n} values): decoding it needs "
                          f"{gib(need)}, more than the {gib(memory)} of memory here")
    k = integer(header, "symbols", 0, total // dtype.itemsize)
    top = integer(header, "max_length", 0, MAX_LENGTH)
    base = integer(header, "index_base", 0, bits)
    width = integer(header, "index_width", 0, bits.bit_length())
    return dtype, shape, k, top, lanes, base, width, bits, mapping(header, "metadata")


def decoding_bytes(n: int, lanes: int, dtype: np.dtype) -> int:
    """The most bytes decoding ``n`` symbols of ``dtype`` in ``lanes`` lanes allocates, counted
    generously: the decoded array and its copy in the output file (``2 * itemsize`` per symbol),
    the canonical ranks and the decoding tables (:data:`~workbench.codec.checks.DECODE_BYTES`
    per symbol), and :data:`~workbench.codec.checks.LANE_BYTES` per lane (the index, the
    offsets and the decoder's per-lane state). The file's own sections are bounded by its size."""
    return n * (2 * dtype.itemsize + checks.DECODE_BYTES) + checks.LANE_BYTES * lanes


def _table(counts: np.ndarray, k: int, bits: int) -> int:
    """Check the length counts (how many codewords of each length 0 .. max) describe a complete
    prefix code of ``k`` codewords, exactly (Kraft sum 1, in integers over at most 65 lengths);
    returns the shortest length (0 for the one-symbol code, which must have no payload)."""
    top = counts.size - 1
    c = [int(v) for v in counts]
    if sum(c) != k:
        raise FormatError(f"the code table's length counts sum to {sum(c)}, not to its {k} symbols")
    if k == 1:
        if top != 0 or bits != 0:
            raise FormatError("a one-symbol code must have length 0 and no payload")
        return 0
    if c[0] or not c[top] or sum(v << (top - length) for length, v in enumerate(c)) != 1 << top:
        raise FormatError("the code lengths do not form a complete prefix code (Kraft sum != 1): the file is corrupted")
    return next(length for length, v in enumerate(c) if v)


def _lanes(index, n: int, lanes: int, base: int, width: int, bits: int, shortest: int, longest: int) -> np.ndarray:
    """The lanes' starting bit offsets, from fixed-width deltas (``base`` plus ``width`` bits
    each), checked vectorised before decoding: lane j holds ``c_j`` symbols (``ceil(n / lanes)``
    or one fewer), so its span of the payload must lie within ``c_j`` times the shortest and the
    longest codeword; the spans then tile the payload exactly (O(lanes), no decoding)."""
    if shortest == 0:  # one symbol: no payload, every lane starts at bit 0
        if base or width:
            raise FormatError("a one-symbol code has a lane index with nonzero offsets: the file is corrupted")
        return np.zeros(lanes, dtype=np.int64)
    steps = -(-n // lanes)
    held = np.full(lanes, steps - 1, dtype=np.int64)
    held[: n - (steps - 1) * lanes] = steps
    spans = np.empty(lanes, dtype=np.int64)
    if width == 0:
        spans[:-1] = base
    else:
        bitplane = np.unpackbits(np.frombuffer(index, dtype=np.uint8), count=(lanes - 1) * width).reshape(lanes - 1, width)
        spread = np.zeros(lanes - 1, dtype=np.uint64)
        for b in range(width):  # at most 64 planes, never a (lanes, width) array of 64-bit words
            spread |= bitplane[:, b].astype(np.uint64) << np.uint64(width - 1 - b)
        spans[:-1] = (spread + np.uint64(base)).astype(np.int64)  # < 2^62: width and base are at most bits' size
    last = bits - int(spans[:-1].sum()) if (spans[:-1] <= longest * steps).all() else -1
    spans[-1] = last
    if not ((shortest * held <= spans) & (spans <= longest * held)).all():
        raise FormatError("the lane index gives a lane more or fewer bits than its symbols can take: the file is corrupted")
    offsets = np.zeros(lanes, dtype=np.int64)
    np.cumsum(spans[:-1], out=offsets[1:])
    return offsets
