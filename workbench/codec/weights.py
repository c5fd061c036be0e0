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
unbounded exponent, and the decoder reads from the metadata which form applies. A range so
narrow that its step would not be a normal float64 (subnormal weights: the step underflows, and
a step of 0 would restore a constant) is stored the other way, scaled up to magnitudes near 1,
with a negative ``exponent``: ``w = (offset + code * step) * 2**exponent``, exact scalings both.

>>> w = np.array([-1.7e308, 0.0, 1.7e308])
>>> q, offset, step, exponent = quantize_scaled(w, 2)
>>> q.tolist(), exponent, dequantize(q, offset, step, np.float64, exponent).tolist()
([0, 2, 3], 1, [-1.7e+308, 5.666666666666668e+307, 1.7e+308])
>>> q, offset, step, exponent = quantize_scaled(np.array([5e-324, 0.0, -5e-324]), 8)
>>> q.tolist(), exponent, dequantize(q, offset, step, np.float64, exponent).tolist()
([255, 128, 0], -1073, [5e-324, 0.0, -5e-324])
"""

from __future__ import annotations

import math
from collections.abc import Callable
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

__all__ = ["BITS", "EXPONENTS", "SCHEMES", "Quantization", "compress_weights", "decompress_weights", "dequantize",
           "quantize", "quantize_scaled", "read_quantization", "restoring_bytes", "scheme", "weight_report"]

BITS = integer("bits", 8, "quantisation bits of the weight compressor", low=1, high=16)
SCHEMES = {  # the metadata's scheme, by exponent (any other: _SCALED): the text says how to read the numbers
    0: "uniform affine, one scale per tensor: w = offset + code * step",
    1: "uniform affine, one scale per tensor, halved to stay within float64: w = 2 * (offset + code * step)",
}
_SCALED = ("uniform affine, one scale per tensor, scaled to keep the step a normal float64: "
           "w = (offset + code * step) * 2**exponent")
EXPONENTS = (-1073, 1)  # what the writer gives: 1 for a range beyond float64, -1073 for one of 5e-324
_TINY = float(np.finfo(np.float64).tiny)  # the smallest normal float64
_KEYS = {"scheme", "bits", "offset", "step", "dtype", "exponent"}


def scheme(exponent: int) -> str:
    """The metadata's scheme text for ``exponent``."""
    return SCHEMES.get(exponent, _SCALED)


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
    A constant tensor has step 0 and q = 0. A range too wide for float64, or too narrow for a
    normal float64 step, raises :class:`~workbench.errors.DomainError`; :func:`quantize_scaled`
    stores it scaled by a power of two."""
    q, lo, step, exponent = quantize_scaled(x, bits)
    if exponent:
        ends = dequantize(np.array([0, (1 << bits) - 1]), lo, step, np.float64, exponent)
        reason = "overflows float64" if exponent > 0 else "is too narrow for a normal float64 step"
        raise DomainError(f"the range {ends[0]:.6g} .. {ends[1]:.6g} {reason}; quantize_scaled stores it "
                          f"{'halved' if exponent == 1 else f'scaled by 2^{exponent}'}")
    return q, lo, step


def quantize_scaled(x: np.ndarray, bits: int) -> tuple[np.ndarray, float, float, int]:
    """:func:`quantize`, for any finite float64 range: returns (q, offset, step, exponent) with
    ``w ~ (offset + q * step) * 2**exponent``; exponent is 1 (offset and step halved) when
    ``hi - lo`` overflows float64, negative (the range scaled up to magnitudes in 0.5 .. 1) when
    the step would not be a normal float64, else 0: so ``|w - w'| <= step * 2**exponent / 2``
    always (plus the output's rounding), and a non-constant tensor never restores a constant.
    ``step`` is lowered by an ulp or two where rounding would make the highest code dequantise
    beyond the dtype's range. Raises
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
        exponent = 1
    elif hi > lo and (hi - lo) / levels < _TINY:  # |lo|, |hi| < 2^-950 here: scaling them up is exact
        exponent = math.frexp(max(-lo, hi))[1]  # two distinct floats differ by 2^-54 of the larger: the step is normal
    if exponent:
        lo, hi, values = math.ldexp(lo, -exponent), math.ldexp(hi, -exponent), np.ldexp(values, -exponent)
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


def dequantize(q: np.ndarray, lo: float, step: float, dtype: Any = np.float32, exponent: int = 0,
               out: np.ndarray | None = None) -> np.ndarray:
    """``(lo + q * step) * 2**exponent`` in float64, then cast to ``dtype`` (or into ``out``,
    an array of that dtype and ``q``'s shape): the same bits every time (the scaling by
    ``2**exponent`` is exact wherever the result is a finite normal float64). One float64 work
    array, updated in place."""
    values = np.array(q, dtype=np.float64)
    values *= step
    values += lo
    if exponent:
        np.ldexp(values, exponent, out=values)
    if out is None:
        return values.astype(dtype, copy=False)
    np.copyto(out, values, casting="unsafe")
    return out


def compress_weights(w: np.ndarray, bits: int):
    """Quantise a float tensor uniformly (one affine scale per tensor) to ``bits`` bits and
    Huffman-code the codes; returns the :class:`~workbench.codec.Encoded` (carrying the
    quantisation in its metadata, so the file describes itself; ``exponent`` only when not 0)."""
    q, lo, step, exponent = quantize_scaled(w, bits)
    e = Encoded.of(encode(q))
    quant: dict[str, Any] = {"scheme": scheme(exponent), "bits": bits, "offset": lo, "step": step,
                             "dtype": np.dtype(w.dtype).str}
    if exponent:
        quant["exponent"] = exponent
    return e.with_metadata(quantization=quant)


def read_quantization(e: Encoded) -> Quantization | None:
    """The quantisation in a file's metadata (``None`` when it has none), checked against the
    file: known fields only, the scheme matching ``exponent`` (an integer in :data:`EXPONENTS`), integer ``bits`` in
    1 .. 16 stored as uint8 (up to 8 bits) or uint16, finite float ``offset`` and ``step``, step
    positive (0 only when every code is 0), codes within ``0 .. 2^bits - 1``, a float output
    dtype from a whitelist, and both ends of the code range dequantising to finite values of it
    (every value between is then finite: the arithmetic is monotone). Raises :class:`FormatError`."""
    if "quantization" not in e.metadata:
        return None
    quant, where = e.metadata["quantization"], "quantization"
    if type(quant) is not dict or not set(quant) <= _KEYS:
        raise FormatError(f"the quantization metadata is not an object of the fields {', '.join(sorted(_KEYS))}")
    exponent = integer_field(quant, "exponent", *EXPONENTS, where) if "exponent" in quant else 0
    if quant.get("scheme") != scheme(exponent):
        raise FormatError(f"the quantization scheme is not {scheme(exponent)!r}")
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


def restoring_bytes(n: int, dtype: Any, bits: int) -> int:
    """The most bytes ``workbench decompress`` allocates to restore ``n`` weights of ``dtype``
    from ``bits``-bit codes, counted generously: the output (decoded straight into the ``.npy``
    file's buffer), and besides it first the codes (1 or 2 bytes), their ranks and the decoding
    tables (:data:`~workbench.codec.checks.DECODE_BYTES`), then the codes and the float64 work
    array (8 bytes, fewer than the ranks and tables); and at least
    :data:`~workbench.codec.checks.WORK_BYTES` per weight, what compressing them takes. Compress
    and decompress both refuse an array for which this exceeds the memory: the commands agree on
    what they can handle, and a file this machine could not have written is not restored here
    (a constant array's file holds no payload, so this is what bounds its size).

    >>> restoring_bytes(10**6, np.float32, 8), restoring_bytes(10**6, np.longdouble, 12) >= 42 * 10**6
    (32000000, True)
    """
    codes = 1 if bits <= 8 else 2
    return n * max(checks.WORK_BYTES, np.dtype(dtype).itemsize + codes + checks.DECODE_BYTES)


def decompress_weights(e: Encoded, *, codes: bool = False, memory: int | None = None,
                       into: Callable[[tuple[int, ...], np.dtype], np.ndarray] | None = None) -> np.ndarray:
    """What ``workbench decompress`` restores: the dequantised tensor (or, with ``codes`` or no
    quantisation in the file, the decoded integers), written into ``into(shape, dtype)`` (default
    a new array: the command line passes the ``.npy`` file's buffer, so the output is never
    copied). The quantisation is checked either way (:func:`read_quantization`), and
    :func:`restoring_bytes` must fit in ``memory`` (default: the machine's). A constant array is
    filled, not decoded. Raises :class:`FormatError`."""
    quant = read_quantization(e)
    memory = checks.memory_limit() if memory is None else memory
    if quant is not None and (need := restoring_bytes(e.count, quant.dtype, quant.bits)) > memory:
        raise FormatError(f"restoring {e.count} {quant.dtype} weights needs {gib(need)}, more than the {gib(memory)} "
                          "of memory here")
    if quant is None or codes:
        out = (into or np.empty)(e.shape, e.dtype)
        if e.count:
            out[...] = e.symbols[0] if e.symbols.size == 1 else decode(e)
        return out
    out = (into or np.empty)(e.shape, quant.dtype)
    if e.symbols.size == 1:  # a constant: the output is filled, no codes or float64 copy are made
        out[...] = dequantize(e.symbols, quant.offset, quant.step, quant.dtype, quant.exponent)[0]
    elif e.count:
        dequantize(decode(e), quant.offset, quant.step, quant.dtype, quant.exponent, out=out)
    return out


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
    with np.errstate(over="ignore", invalid="ignore"):  # inf - inf where the sum overflows: s is then recomputed
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
