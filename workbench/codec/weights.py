"""The weight compressor of ``workbench compress`` / ``decompress``: a float tensor quantised
uniformly (one affine scale per tensor), Huffman-coded into an :class:`~workbench.codec.Encoded`
that carries the quantisation in its metadata, and a report of what that achieved against the
``huffman.*`` claims' bounds."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from numerics.bitstream import encode
from numerics.entropy import entropy_bits
from numerics.redundancy import gallager_bound

from ..parameters import integer
from .container import Encoded

__all__ = ["BITS", "compress_weights", "dequantize", "quantize", "weight_report"]

BITS = integer("bits", 8, "quantisation bits of the weight compressor", low=1, high=16)


def quantize(x: np.ndarray, bits: int) -> tuple[np.ndarray, float, float]:
    """Uniform affine quantisation with one scale per tensor: ``q = round((x - lo) / step)``
    in ``0 .. 2^bits - 1`` with ``step = (hi - lo) / (2^bits - 1)``; returns (q, lo, step).
    A constant tensor has step 0 and q = 0."""
    bits = BITS.validate(bits)
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


def compress_weights(w: np.ndarray, bits: int):
    """Quantise a float tensor uniformly (one affine scale per tensor) to ``bits`` bits and
    Huffman-code the codes; returns the :class:`~workbench.codec.Encoded` (carrying the
    quantisation in its metadata, so the file describes itself)."""
    q, lo, step = quantize(w, bits)
    e = Encoded.of(encode(q))
    return e.with_metadata(quantization={
        "scheme": "uniform affine, one scale per tensor: w = offset + code * step",
        "bits": bits,
        "offset": lo,
        "step": step,
        "dtype": np.dtype(w.dtype).str,
    })


def weight_report(w: np.ndarray, e: Any, file_bytes: int) -> dict[str, Any]:
    """What compressing ``w`` achieved, against the claims' bounds: entropy H of the quantised
    codes, Huffman bits per weight L (payload and whole file), H <= L < H + 1 and Gallager's
    L - H <= p_max + sigma (huffman.bounds, huffman.gallager), the high-resolution estimate
    (1/2) log2(2 pi e s^2) - log2(step) from the weights' standard deviation s
    (huffman.quantized-gaussian: meaningful for bell-shaped weights and step << s), and the
    compression ratio against float32."""
    n = e.count
    quant = e.metadata.get("quantization", {})
    step = float(quant.get("step", 0.0))
    report: dict[str, Any] = {
        "shape": list(e.shape),
        "weights": n,
        "dtype": str(np.dtype(w.dtype)),
        "bits": quant.get("bits"),
        "step": step,
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
    s = float(np.std(np.asarray(w, dtype=np.float64)))
    report.update({
        "entropy_bits": H,
        "huffman_bits": L,
        "file_bits_per_weight": 8.0 * file_bytes / n,
        "redundancy": L - H,
        "p_max": pmax,
        "gallager_bound": float(gallager_bound(pmax)),
        "within_bounds": bool(H - 1e-9 <= L < H + 1 + 1e-9),
        "within_gallager": bool(L - H <= float(gallager_bound(pmax)) + 1e-9),
        "gaussian_estimate": 0.5 * math.log2(2 * math.pi * math.e * s * s) - math.log2(step) if step > 0 and s > 0 else None,
        "weights_std": s,
    })
    return report
