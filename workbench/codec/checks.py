r"""Small named checkers for the readers of untrusted files (:mod:`workbench.codec.container`,
the quantisation block of :mod:`workbench.codec.weights`): the JSON header parsed with its
length and nesting bounded before the parser runs, every field of the exact JSON type it must
have, dtypes from whitelists (never ``np.dtype()`` of arbitrary text, which accepts ``"O"``,
``"V8"``, ``"(2,)i4"`` or ``"M8"``), and the machine's memory as the bound of what a file may
ask to allocate. Each refusal is one line of :class:`~numerics.bitstream.FormatError` naming the
field, its value and its domain.

>>> json_object(b'{"a": [1, {"b": 2}]}')
{'a': [1, {'b': 2}]}
>>> json_object(b'[' * 40 + b']' * 40)
Traceback (most recent call last):
...
numerics.bitstream.FormatError: the header nests 40 levels deep; at most 16 are allowed
>>> json_object(b'{"a": "\\\\", "b": "[\\"[[", "c": [[1]]}')
{'a': '\\', 'b': '["[[', 'c': [[1]]}
>>> integer({"lanes": True}, "lanes", 0, 10)
Traceback (most recent call last):
...
numerics.bitstream.FormatError: header field lanes=True is not an integer in 0 .. 10
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

import numpy as np

from numerics.bitstream import FormatError

__all__ = ["DECODE_BYTES", "FLOAT_DTYPES", "INTEGER_DTYPES", "LANE_BYTES", "MAX_DEPTH", "MAX_DIMS", "MAX_HEADER",
           "WIDEST", "WORK_BYTES", "gib", "integer", "json_object", "mapping", "memory_limit", "nesting", "real", "shape",
           "text", "whitelisted"]

MAX_HEADER = 1 << 20  # bytes of JSON header; the workbench writes a few hundred
MAX_DEPTH = 16  # nesting of the JSON header; the workbench writes 3 (header, metadata, quantization)
# the code dtypes a file may name (the writer normalises to little-endian), and the output float dtypes
INTEGER_DTYPES = {s: np.dtype(s) for s in ("|i1", "|u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8")}
FLOAT_DTYPES = {d.str: d for s in (np.float16, np.float32, np.float64, np.longdouble)
                for d in (np.dtype(s).newbyteorder("<"), np.dtype(s).newbyteorder(">"))}
MAX_DIMS = 32  # dimensions of an array the codec reads or writes (NumPy's limit before 2.0)
# memory, per element or lane, of what compress and decompress allocate (see container.decoding_bytes and
# weights.restoring_bytes): compress's working memory per weight (24 bytes measured: float64 copies, codes,
# indices), the decoder's ranks (4 or 8 bytes) and tables (at most 4 entries of 4 bytes per symbol), and the
# decoder's state per lane (the offsets, the index's bit planes and a dozen 8-byte vectors)
WORK_BYTES, DECODE_BYTES, LANE_BYTES = 32, 24, 128
WIDEST = 16  # bytes of the widest element the codec makes of an array (a longdouble; float64 work arrays take 8)
_NUMPY_BYTES = (1 << 63) - 1  # NumPy refuses an array whose nonzero sides times its itemsize exceed this


def gib(nbytes: int) -> str:
    """A byte count for a message, for any int however large: ``'8e+03 GiB'``, ``'1.5 GiB'``,
    ``'over 2^1300 GiB'``.

    >>> gib(3 << 29), gib(10**400)
    ('1.5 GiB', 'over 2^1298 GiB')
    """
    if nbytes < 1 << 1000:  # a float holds it
        return f"{nbytes / 2**30:.3g} GiB"
    return f"over 2^{nbytes.bit_length() - 31} GiB"


def shape(value: Any, where: str = "header field shape") -> tuple[int, ...]:
    """An array's shape from an untrusted file: a list or tuple of at most :data:`MAX_DIMS` plain
    ints >= 0 (not bools, floats or strings), each side and the product of the nonzero sides
    small enough that NumPy can make the array in any dtype up to :data:`WIDEST` bytes (an empty
    array's sides count too: NumPy refuses ``(0, 2**62)`` float64). Every element count that
    passes is below 2^59, so the messages that print one stay short. Raises :class:`FormatError`
    naming ``where``, before anything is multiplied out.

    >>> shape([0, 10**12])
    (0, 1000000000000)
    >>> shape([True, 2])
    Traceback (most recent call last):
    ...
    numerics.bitstream.FormatError: header field shape=[True, 2] is not a list of at most 32 integers >= 0
    """
    if (type(value) not in (list, tuple) or len(value) > MAX_DIMS
            or any(type(s) is not int or s < 0 for s in value)):
        raise FormatError(f"{where}={_show(value)} is not a list of at most {MAX_DIMS} integers >= 0")
    if any(s > _NUMPY_BYTES for s in value) or math.prod(max(s, 1) for s in value) * WIDEST > _NUMPY_BYTES:
        raise FormatError(f"{where}={_show(value)} has sides whose product exceeds what NumPy can hold "
                          f"(2^63 bytes in {WIDEST}-byte elements)")
    return tuple(value)


def memory_limit() -> int:
    """The most bytes a decoded array may take: the machine's physical memory (``os.sysconf``),
    or the address-space limit where one is set lower; 16 GiB where neither can be read."""
    try:
        limit = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        limit = 1 << 34
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if 0 < soft < limit:
            limit = soft
    except (ImportError, OSError, ValueError):
        pass
    return int(limit)


def json_object(raw: bytes) -> dict[str, Any]:
    """The JSON object in ``raw``, refused before parsing when longer than :data:`MAX_HEADER` or
    nested deeper than :data:`MAX_DEPTH` (:func:`depth`, so the recursive parser never meets a
    deep document), and after parsing when it is not an object or repeats a key (two readers
    could take different values)."""
    if len(raw) > MAX_HEADER:
        raise FormatError(f"the header is {len(raw)} bytes; at most {MAX_HEADER} are allowed")
    depth = nesting(raw)
    if depth > MAX_DEPTH:
        raise FormatError(f"the header nests {depth} levels deep; at most {MAX_DEPTH} are allowed")
    try:
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique)
    except FormatError:
        raise
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise FormatError(f"the header is not valid JSON: {reason}") from None
    if not isinstance(value, dict):
        raise FormatError(f"the header is a JSON {type(value).__name__}, not an object")
    return value


def nesting(raw: bytes) -> int:
    r"""How deep the brackets of the JSON text ``raw`` nest outside its strings, in time linear in
    its length whatever it holds (a backtracking regex over strings is quadratic on a run of
    escaped quotes with no closing one). Vectorised: a quote ends or starts a string unless an
    odd run of backslashes precedes it; the parity of the running count of such quotes says
    which bytes lie inside strings (from an unterminated string to the end, all of them); the
    brackets outside them are summed.

    >>> nesting(rb'[{"a": "]]\\"}, ["\"[[[", 1]]'), nesting(b'"' + b'\\"' * 5)
    (2, 0)
    """
    b = np.frombuffer(raw, dtype=np.uint8)
    if not b.size:
        return 0
    at = np.arange(b.size, dtype=np.int32)  # MAX_HEADER < 2^31
    # the last byte at or before i that is not a backslash (-1 where none), then the parity of the backslashes between
    odd = np.where(b != ord("\\"), at, -1).astype(np.int32)
    np.maximum.accumulate(odd, out=odd)
    np.subtract(at, odd, out=odd)
    odd &= 1
    del at
    quote = b == ord('"')
    quote[1:] &= odd[:-1] == 0  # a quote after an odd run of backslashes is escaped
    del odd
    inside = np.cumsum(quote, dtype=np.int32)
    inside &= 1  # a bracket is never a quote: the parity after it says whether it lies in a string
    step = np.isin(b, (ord("["), ord("{"))).astype(np.int8)
    step -= np.isin(b, (ord("]"), ord("}")))
    step[inside.astype(bool)] = 0
    del inside
    return int(np.cumsum(step, dtype=np.int32).max(initial=0))


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise FormatError(f"the header gives the field {_show(key)} twice")
        out[key] = value
    return out


def _show(value: Any) -> str:
    try:
        text = repr(value)
    except ValueError:  # an int beyond Python's 4300-digit conversion limit
        return f"<{type(value).__name__}>"
    return text if len(text) <= 40 else text[:37] + "..."


def _get(obj: dict[str, Any], name: str, where: str) -> Any:
    if name not in obj:
        raise FormatError(f"the {where} lacks the field {name!r}")
    return obj[name]


def integer(obj: dict[str, Any], name: str, low: int, high: int, where: str = "header") -> int:
    """``obj[name]``, a JSON integer (not a bool, float or string) in ``low .. high``."""
    value = _get(obj, name, where)
    if type(value) is not int or not low <= value <= high:
        raise FormatError(f"{where} field {name}={_show(value)} is not an integer in {low} .. {high}")
    return value


def real(obj: dict[str, Any], name: str, where: str) -> float:
    """``obj[name]``, a finite JSON float (not NaN, not 1e999, not an integer or a string)."""
    value = _get(obj, name, where)
    if type(value) is not float or not np.isfinite(value):
        raise FormatError(f"{where} field {name}={_show(value)} is not a finite floating-point number")
    return value


def text(obj: dict[str, Any], name: str, where: str = "header") -> str:
    value = _get(obj, name, where)
    if type(value) is not str:
        raise FormatError(f"{where} field {name}={_show(value)} is not a string")
    return value


def mapping(obj: dict[str, Any], name: str, where: str = "header") -> dict[str, Any]:
    value = _get(obj, name, where)
    if type(value) is not dict:
        raise FormatError(f"{where} field {name}={_show(value)} is not a JSON object")
    return value


def whitelisted(obj: dict[str, Any], name: str, table: dict[str, np.dtype], where: str = "header") -> np.dtype:
    """The dtype ``obj[name]`` names, if it is one of ``table``'s keys (no other text reaches NumPy)."""
    value = _get(obj, name, where)
    if type(value) is not str or value not in table:
        raise FormatError(f"{where} field {name}={_show(value)} is not one of {', '.join(sorted(table))}")
    return table[value]
