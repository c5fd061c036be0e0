"""The weight compressor of ``workbench compress`` / ``decompress``: a float tensor quantised
uniformly (one affine scale per tensor), Huffman-coded into an :class:`~workbench.codec.Encoded`
that carries the quantisation in its metadata, and a report of what that achieved against the
``huffman.*`` claims' bounds.

The compressor refuses what it cannot represent, and the reader (:func:`read_quantization`)
what a file cannot mean: every dequantised value is ``offset + code * step`` computed in float64
and cast to the output dtype, so a file whose highest code would overflow (or whose fields are
not finite floats, whose dtype is not a float, whose codes exceed its bits) is refused before
decoding, and decompression never yields NaN, infinity, strings or datetimes. A range too wide
for float64 (values near -1.7e308 and 1.7e308: ``hi - lo`` overflows) is stored halved, with
``exponent`` 1 in the metadata: ``w = 2 * (offset + code * step)``. Halving and doubling are
exact for such large values, so this is the same value the unhalved formula would give with an
unbounded exponent, and the decoder reads from the metadata which form applies.

>>> w = np.array([-1.7e308, 0.0, 1.7e308])
>>> q, offset, step, exponent = quantize_scaled(w, 2)
>>> q.tolist(), exponent, dequantize(q, offset, step, np.float64, exponent).tolist()
([0, 2, 3], 1, [-1.7e+308, 5.666666666666668e+307, 1.7e+308])
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from numerics.bitstream import FormatError, decode, encode
from numerics.entropy import entropy_bits
from numerics.redundancy import gallager_bound

from ..errors import DomainError
from ..parameters import integer
from . import checks
from .checks import FLOAT_DTYPES, gib, real, whitelisted
from .checks import integer as integer_field
from .container import Encoded

__all__ = ["BITS", "SCHEMES", "Quantization", "compress_weights", "decompress_weights", "dequantize", "quantize",
           "quantize_scaled", "read_quantization", "weight_report"]

BITS = integer("bits", 8, "quantisation bits of the weight compressor", low=1, high=16)
SCHEMES = {  # the metadata's scheme, by exponent: the text says how to read the numbers
    0: "uniform affine, one scale per tensor: w = offset + code * step",
    1: "uniform affine, one scale per tensor, halved to stay within float64: w = 2 * (offset + code * step)",
}
_KEYS = {"scheme", "bits", "offset", "step", "dtype", "exponent"}


class Quantization(NamedTuple):
    """A file's validated quantisation: ``w = (offset + code * step) * 2**exponent`` as ``dtype``."""

    bits: int
    offset: float
    step: float
    exponent: int
    dtype: np.dtype


def quantize(x: np.ndarray, bits: int) -> tuple[np.ndarray, float, float]:
    """Uniform affine quantisation with one scale per tensor: ``q = round((x - lo) / step)``
    in ``0 .. 2^bits - 1`` with ``step = (hi - lo) / (2^bits - 1)``; returns (q, lo, step).
    A constant tensor has step 0 and q = 0. A range too wide for float64 raises
    :class:`~workbench.errors.DomainError`; :func:`quantize_scaled` stores it halved."""
    q, lo, step, exponent = quantize_scaled(x, bits)
    if exponent:
        raise DomainError(f"the range {2 * lo:.6g} .. {2 * (lo + ((1 << bits) - 1) * step):.6g} overflows float64; "
                          "quantize_scaled stores it halved")
    return q, lo, step


def quantize_scaled(x: np.ndarray, bits: int) -> tuple[np.ndarray, float, float, int]:
    """:func:`quantize`, for any finite float64 range: returns (q, offset, step, exponent) with
    ``w ~ (offset + q * step) * 2**exponent``; exponent is 1 (offset and step halved) when
    ``hi - lo`` overflows float64, else 0. ``step`` is lowered by an ulp or two where rounding
    would make the highest code dequantise beyond the dtype's range. Raises
    :class:`~workbench.errors.DomainError` for NaN, infinity, or a longdouble beyond float64."""
    bits = BITS.validate(bits)
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise TypeError(f"quantize() takes a float array, not {x.dtype}")
    dtype = np.uint8 if bits <= 8 else np.uint16
    if x.size == 0:
        return np.zeros(x.shape, dtype), 0.0, 0.0, 0
    with np.errstate(over="ignore"):
        values = x.astype(np.float64)
    if not np.isfinite(values).all():
        if np.isfinite(x).all():
            top = np.format_float_scientific(np.abs(x).max(), precision=4)
            raise DomainError(f"the array holds {x.dtype} values beyond float64's range (up to {top}), which the "
                              "float64 quantiser cannot represent")
        raise DomainError("the array holds NaN or infinite values, which a uniform quantiser cannot represent")
    lo, hi = float(values.min()), float(values.max())
    levels = (1 << bits) - 1
    exponent = 0
    if not math.isfinite(hi - lo):  # |lo|, |hi| > 1e292 here: halving them is exact
        exponent, lo, hi = 1, lo / 2, hi / 2
        values = values / 2
    step = (hi - lo) / levels
    if step == 0:
        return np.zeros(x.shape, dtype), lo, 0.0, 0
    for _ in range(64):
        with np.errstate(over="ignore"):
            if np.isfinite(dequantize(np.array([levels]), lo, step, x.dtype, exponent)).all():
                break
        step = float(np.nextafter(step, 0.0))
    else:
        raise DomainError(f"the range of the array cannot be divided into {levels} steps within {x.dtype}")
    q = np.rint((values - lo) / step)
    np.clip(q, 0, levels, out=q)
    return q.astype(dtype), lo, step, exponent


def dequantize(q: np.ndarray, lo: float, step: float, dtype: Any = np.float32, exponent: int = 0) -> np.ndarray:
    """``(lo + q * step) * 2**exponent`` in float64, then cast to ``dtype``: the same bits every
    time (the doubling is exact wherever the result is finite)."""
    values = lo + np.asarray(q, dtype=np.float64) * step
    if exponent:
        values *= 2.0**exponent
    return values.astype(dtype)


def compress_weights(w: np.ndarray, bits: int):
    """Quantise a float tensor uniformly (one affine scale per tensor) to ``bits`` bits and
    Huffman-code the codes; returns the :class:`~workbench.codec.Encoded` (carrying the
    quantisation in its metadata, so the file describes itself; ``exponent`` only when 1)."""
    q, lo, step, exponent = quantize_scaled(w, bits)
    e = Encoded.of(encode(q))
    quant: dict[str, Any] = {"scheme": SCHEMES[exponent], "bits": bits, "offset": lo, "step": step,
                             "dtype": np.dtype(w.dtype).str}
    if exponent:
        quant["exponent"] = exponent
    return e.with_metadata(quantization=quant)


def read_quantization(e: Encoded) -> Quantization | None:
    """The quantisation in a file's metadata (``None`` when it has none), checked against the
    file: known fields only, the scheme matching ``exponent`` (0 or 1), integer ``bits`` in
    1 .. 16 stored as uint8 (up to 8 bits) or uint16, finite float ``offset`` and ``step``, step
    positive (0 only when every code is 0), codes within ``0 .. 2^bits - 1``, a float output
    dtype from a whitelist, and both ends of the code range dequantising to finite values of it
    (every value between is then finite: the arithmetic is monotone). Raises :class:`FormatError`."""
    if "quantization" not in e.metadata:
        return None
    quant, where = e.metadata["quantization"], "quantization"
    if type(quant) is not dict or not set(quant) <= _KEYS:
        raise FormatError(f"the quantization metadata is not an object of the fields {', '.join(sorted(_KEYS))}")
    exponent = integer_field(quant, "exponent", 0, 1, where) if "exponent" in quant else 0
    if quant.get("scheme") != SCHEMES[exponent]:
        raise FormatError(f"the quantization scheme is not {SCHEMES[exponent]!r}")
    bits = integer_field(quant, "bits", 1, 16, where)
    offset, step = real(quant, "offset", where), real(quant, "step", where)
    out = whitelisted(quant, "dtype", FLOAT_DTYPES, where)
    levels = (1 << bits) - 1
    codes = np.dtype(np.uint8 if bits <= 8 else np.uint16)
    if e.dtype != codes:
        raise FormatError(f"{bits}-bit codes are stored as {codes}, but the file holds {e.dtype}")
    if e.symbols.size and int(e.symbols.max()) > levels:
        raise FormatError(f"the code {int(e.symbols.max())} is beyond the {bits}-bit range 0 .. {levels}")
    if step < 0 or (step == 0 and e.symbols.any()):
        raise FormatError(f"the quantization step {step!r} is not positive (0 is for a constant tensor only)")
    with np.errstate(over="ignore", invalid="ignore"):
        ends = dequantize(np.array([0, levels]), offset, step, out, exponent)
    if not np.isfinite(ends).all():
        raise FormatError(f"offset {offset!r} + {levels} steps of {step!r} is not a finite {out}")
    return Quantization(bits, offset, step, exponent, out)


def decompress_weights(e: Encoded, *, codes: bool = False, memory: int | None = None) -> np.ndarray:
    """What ``workbench decompress`` restores: the dequantised tensor (or, with ``codes`` or no
    quantisation in the file, the decoded integers). The quantisation is checked either way
    (:func:`read_quantization`), and the float64 work array and the output must fit in
    ``memory`` bytes (default: the machine's). Raises :class:`FormatError`."""
    quant = read_quantization(e)
    if quant is None or codes:
        return decode(e)
    memory = checks.memory_limit() if memory is None else memory
    constant = e.symbols.size == 1  # one level: the output is filled, no codes or float64 copy are made
    need = e.count * (quant.dtype.itemsize + (0 if constant else e.dtype.itemsize + 8))
    if need > memory:
        raise FormatError(f"dequantising {e.count} weights needs {gib(need)}, more than the {gib(memory)} of memory here")
    if constant:
        level = dequantize(e.symbols, quant.offset, quant.step, quant.dtype, quant.exponent)
        return np.full(e.shape, level[0], dtype=level.dtype)
    return dequantize(decode(e), quant.offset, quant.step, quant.dtype, quant.exponent)


def weight_report(w: np.ndarray, e: Any, file_bytes: int) -> dict[str, Any]:
    """What compressing ``w`` achieved, against the claims' bounds: entropy H of the quantised
    codes, Huffman bits per weight L (payload and whole file), H <= L < H + 1 and Gallager's
    L - H <= p_max + sigma (huffman.bounds, huffman.gallager), the high-resolution estimate
    (1/2) log2(2 pi e s^2) - log2(step) from the weights' standard deviation s
    (huffman.quantized-gaussian: meaningful for bell-shaped weights and step << s), and the
    compression ratio against float32. A halved quantisation (``exponent`` 1) reports the stored
    step and its exponent; s is computed on scaled weights where ``s^2`` would overflow."""
    n = e.count
    quant = e.metadata.get("quantization", {})
    step, exponent = float(quant.get("step", 0.0)), int(quant.get("exponent", 0))
    report: dict[str, Any] = {
        "shape": list(e.shape),
        "weights": n,
        "dtype": str(np.dtype(w.dtype)),
        "bits": quant.get("bits"),
        "step": step,
        "exponent": exponent,
        "offset": quant.get("offset"),
        "symbols": int(e.symbols.size),
        "file_bytes": int(file_bytes),
        "ratio_vs_float32": (32.0 * n) / (8.0 * file_bytes) if file_bytes else None,
    }
    if n == 0:
        return report
    counts = np.asarray(e.counts)
    H = entropy_bits(counts)
    L = e.bits / n
    pmax = float(counts.max()) / n
    values = np.asarray(w, dtype=np.float64)
    with np.errstate(over="ignore"):
        s = float(np.std(values))
    if not math.isfinite(s):  # weights near the float64 limit: their spread, computed on a scaled copy
        scale = float(np.abs(values).max())
        s = float(np.std(values / scale)) * scale
    report.update({
        "entropy_bits": H,
        "huffman_bits": L,
        "file_bits_per_weight": 8.0 * file_bytes / n,
        "redundancy": L - H,
        "p_max": pmax,
        "gallager_bound": float(gallager_bound(pmax)),
        "within_bounds": bool(H - 1e-9 <= L < H + 1 + 1e-9),
        "within_gallager": bool(L - H <= float(gallager_bound(pmax)) + 1e-9),
        "gaussian_estimate": (0.5 * math.log2(2 * math.pi * math.e) + math.log2(s) - math.log2(step) - exponent
                              if step > 0 and s > 0 else None),
        "weights_std": s,
    })
    return report
