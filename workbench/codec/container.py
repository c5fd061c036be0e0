r"""The self-describing file of a Huffman-coded array: :class:`Encoded` (a
:class:`~numerics.bitstream.CodedArray` with its file format), written by
:meth:`Encoded.to_bytes` and read back, every field checked against the bytes present, by
:meth:`Encoded.from_bytes`; a bad file raises :class:`~numerics.bitstream.FormatError`.

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

from numerics.bitstream import MAX_LENGTH, CodedArray, FormatError
from numerics.huffman import kraft_sum

__all__ = ["MAGIC", "VERSION", "Encoded"]

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
    def from_bytes(cls, data: bytes) -> Encoded:
        """Read a file written by :meth:`to_bytes`, checking everything; raises :class:`FormatError`."""
        return _load(data)


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
