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
>>> integer({"lanes": True}, "lanes", 0, 10)
Traceback (most recent call last):
...
numerics.bitstream.FormatError: header field lanes=True is not an integer in 0 .. 10
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import numpy as np

from numerics.bitstream import FormatError

__all__ = ["FLOAT_DTYPES", "INTEGER_DTYPES", "MAX_DEPTH", "MAX_HEADER", "gib", "integer", "json_object", "mapping",
           "memory_limit", "real", "text", "whitelisted"]

MAX_HEADER = 1 << 20  # bytes of JSON header; the workbench writes a few hundred
MAX_DEPTH = 16  # nesting of the JSON header; the workbench writes 3 (header, metadata, quantization)
# the code dtypes a file may name (the writer normalises to little-endian), and the output float dtypes
INTEGER_DTYPES = {s: np.dtype(s) for s in ("|i1", "|u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8")}
FLOAT_DTYPES = {d.str: d for s in (np.float16, np.float32, np.float64, np.longdouble)
                for d in (np.dtype(s).newbyteorder("<"), np.dtype(s).newbyteorder(">"))}
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def gib(nbytes: int) -> str:
    """A byte count for a message: ``'8e+03 GiB'``, ``'1.5 GiB'``."""
    return f"{nbytes / 2**30:.3g} GiB"


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
    nested deeper than :data:`MAX_DEPTH` (counted with the strings blanked out, vectorised, so
    the recursive parser never meets a deep document), and after parsing when it is not an
    object or repeats a key (two readers could take different values)."""
    if len(raw) > MAX_HEADER:
        raise FormatError(f"the header is {len(raw)} bytes; at most {MAX_HEADER} are allowed")
    brackets = np.frombuffer(_STRING.sub(b'""', raw), dtype=np.uint8)
    step = np.isin(brackets, (ord("["), ord("{"))).astype(np.int32) - np.isin(brackets, (ord("]"), ord("}")))
    depth = int(np.cumsum(step).max(initial=0))
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


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise FormatError(f"the header gives the field {_show(key)} twice")
        out[key] = value
    return out


def _show(value: Any) -> str:
    text = repr(value)
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
