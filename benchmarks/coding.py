"""Benchmarks of the ``huffman.*`` area: the workbench codec against bitarray and dahuffman.

Data: ``n`` weights N(0, 1) (float32) quantised uniformly to 8 bits, as ``workbench compress
--bits 8`` does (about 6.4 bits of entropy per symbol). Everything is timed in the same run,
best of ``repeats`` after a warm-up:

- ``bincount``: a bare ``np.bincount`` of the symbols, the one pass no encoder can avoid (its
  histogram); the workbench encoder's time is reported as a multiple of it;
- ``workbench``: :func:`numerics.bitstream.encode` (histogram, code, bitstream, lane index) and
  :func:`~numerics.bitstream.decode`, NumPy in and NumPy out;
- ``bitarray`` (C): histogram by ``np.bincount``, ``canonical_huffman``, ``bitarray.encode`` of
  ``q.tolist()`` (it takes Python symbols; the conversion is part of its cost from NumPy),
  decode by ``canonical_decode`` into ``np.fromiter``;
- ``dahuffman`` (pure Python): ``HuffmanCodec.from_frequencies``, ``encode`` of the symbol
  list, ``decode`` back to a NumPy array;
- ``constriction`` (Rust, ANS, an arithmetic-class coder, not Huffman): for reference, it codes
  below the Huffman length.

Bits per symbol: each coder's bitstream against the ideal Huffman length sum_k n_k l_k / n of
the data's own histogram (and, for the workbench, the whole file with header, code table, lane
index and checksum). Targets are reported, never enforced: the workbench encoder and decoder at
least as fast as the fastest Huffman library here, its bits within 0.1% of the ideal.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from . import row as _row

__all__ = ["FULL", "QUICK", "Size", "run"]

TARGET_BITS = 1.001  # file bits / ideal Huffman bits


@dataclass(frozen=True)
class Size:
    n: int = 10_000_000
    bits: int = 8
    repeats: int = 3
    slow_repeats: int = 1  # dahuffman (pure Python) runs once
    seed: int = 0


FULL = Size()
QUICK = Size(n=200_000, repeats=1)


def _best(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def _data(size: Size) -> np.ndarray:
    from workbench.codec import quantize

    rng = np.random.default_rng(size.seed)
    q, _, _ = quantize(rng.standard_normal(size.n, dtype=np.float32), size.bits)
    return q


def _workbench(q: np.ndarray, size: Size) -> dict[str, Any]:
    from numerics.bitstream import decode, encode
    from numerics.entropy import entropy_bits
    from workbench.codec import Encoded

    encode(q[: min(q.size, 1 << 16)])  # warm-up
    enc_s, e = _best(lambda: encode(q), size.repeats)
    dec_s, back = _best(lambda: decode(e), size.repeats)
    file_bytes = len(Encoded.of(e).to_bytes())
    ideal = float((e.counts * e.lengths.astype(np.int64)).sum()) / q.size
    return {
        "encode_seconds": enc_s,
        "decode_seconds": dec_s,
        "round_trip": bool(np.array_equal(back, q)),
        "bits_per_symbol": e.bits / q.size,
        "file_bits_per_symbol": 8.0 * file_bytes / q.size,
        "ideal_bits_per_symbol": ideal,
        "entropy_bits_per_symbol": entropy_bits(e.counts),
        "lanes": e.lanes,
        "counts": {int(v): int(c) for v, c in zip(e.symbols, e.counts, strict=True)},
    }


def _bitarray(q: np.ndarray, size: Size) -> dict[str, Any] | None:
    try:
        from bitarray import bitarray
        from bitarray.util import canonical_decode, canonical_huffman
    except ImportError:
        return None

    def encode():
        counts = np.bincount(q)
        code, count, symbol = canonical_huffman({int(v): int(c) for v, c in enumerate(counts) if c})
        a = bitarray()
        a.encode(code, q.tolist())
        return a, count, symbol

    enc_s, (a, count, symbol) = _best(encode, size.repeats)
    dec_s, back = _best(lambda: np.fromiter(canonical_decode(a, count, symbol), dtype=q.dtype, count=q.size),
                        size.repeats)
    return {"encode_seconds": enc_s, "decode_seconds": dec_s, "round_trip": bool(np.array_equal(back, q)),
            "bits_per_symbol": len(a) / q.size}


def _dahuffman(q: np.ndarray, size: Size) -> dict[str, Any] | None:
    try:
        from dahuffman import HuffmanCodec
    except ImportError:
        return None

    def encode():
        counts = np.bincount(q)
        codec = HuffmanCodec.from_frequencies({int(v): int(c) for v, c in enumerate(counts) if c})
        return codec, codec.encode(q.tolist())

    enc_s, (codec, data) = _best(encode, size.slow_repeats)
    dec_s, back = _best(lambda: np.array(codec.decode(data), dtype=q.dtype), size.slow_repeats)
    # dahuffman pads with an end-of-file codeword, and to whole bytes
    return {"encode_seconds": enc_s, "decode_seconds": dec_s, "round_trip": bool(np.array_equal(back, q)),
            "bits_per_symbol": 8.0 * len(data) / q.size}


def _constriction(q: np.ndarray, size: Size) -> dict[str, Any] | None:
    try:
        import constriction
    except ImportError:
        return None
    symbols = q.astype(np.int32)

    def encode():
        counts = np.bincount(symbols, minlength=1 << size.bits).astype(np.float64)
        model = constriction.stream.model.Categorical(counts / counts.sum(), perfect=False)
        coder = constriction.stream.stack.AnsCoder()
        coder.encode_reverse(symbols, model)
        return model, coder.get_compressed()

    enc_s, (model, compressed) = _best(encode, size.repeats)

    def decode():
        return constriction.stream.stack.AnsCoder(compressed).decode(model, symbols.size)

    dec_s, back = _best(decode, size.repeats)
    return {"encode_seconds": enc_s, "decode_seconds": dec_s, "round_trip": bool(np.array_equal(back, symbols)),
            "bits_per_symbol": 32.0 * compressed.size / q.size}


def run(size: Size | None = None, *, quick: bool = False) -> dict[str, Any]:
    """All measurements; ``quick`` (or ``size=QUICK``) is a tiny run for smoke tests."""
    size = size or (QUICK if quick else FULL)
    q = _data(size)
    np.bincount(q)  # warm-up
    bincount_s, _ = _best(lambda: np.bincount(q), max(size.repeats, 3))
    ours = _workbench(q, size)
    others = {"bitarray": _bitarray(q, size), "dahuffman": _dahuffman(q, size), "constriction (ANS)": _constriction(q, size)}
    n = q.size
    ideal = ours["ideal_bits_per_symbol"]
    huffman_peers = [r for name, r in others.items() if r is not None and "ANS" not in name]
    fastest_encode = max((n / r["encode_seconds"] for r in huffman_peers), default=0.0)
    fastest_decode = max((n / r["decode_seconds"] for r in huffman_peers), default=0.0)
    rows = [
        _row("np.bincount of the symbols (the unavoidable pass)", n / bincount_s / 1e6, "M symbols/s"),
        _row("workbench encode", n / ours["encode_seconds"] / 1e6, "M symbols/s",
             f">= {fastest_encode / 1e6:.3g} (fastest peer)", n / ours["encode_seconds"] >= fastest_encode),
        _row("workbench decode", n / ours["decode_seconds"] / 1e6, "M symbols/s",
             f">= {fastest_decode / 1e6:.3g} (fastest peer)", n / ours["decode_seconds"] >= fastest_decode),
        _row("workbench encode time / np.bincount time", ours["encode_seconds"] / bincount_s, "x"),
        _row("workbench payload bits / ideal Huffman bits", ours["bits_per_symbol"] / ideal, "x",
             f"<= {TARGET_BITS:g}", ours["bits_per_symbol"] / ideal <= TARGET_BITS),
        _row("workbench file bits / ideal Huffman bits", ours["file_bits_per_symbol"] / ideal, "x",
             f"<= {TARGET_BITS:g}", ours["file_bits_per_symbol"] / ideal <= TARGET_BITS),
        _row("ideal Huffman bits per symbol", ideal, "bits"),
        _row("entropy of the symbols", ours["entropy_bits_per_symbol"], "bits"),
    ]
    for name, r in others.items():
        if r is None:
            continue
        rows += [
            _row(f"{name} encode", n / r["encode_seconds"] / 1e6, "M symbols/s"),
            _row(f"{name} decode", n / r["decode_seconds"] / 1e6, "M symbols/s"),
            _row(f"{name} bits / ideal Huffman bits", r["bits_per_symbol"] / ideal, "x"),
        ]
    ours.pop("counts")
    title = (f"{n:,} symbols: N(0, 1) weights quantised to {size.bits} bits; best of {size.repeats} after a warm-up "
             f"(dahuffman: {size.slow_repeats}); wall-clock, one process")
    return {
        "area": "coding",
        "size": asdict(size),
        "bincount_seconds": bincount_s,
        "workbench": ours,
        "peers": {k: v for k, v in others.items() if v is not None},
        "missing_peers": [k for k, v in others.items() if v is None],
        "title": title,
        "rows": rows,
    }


if __name__ == "__main__":  # python -m benchmarks.coding [--quick]
    import sys

    report = run(quick="--quick" in sys.argv[1:])
    width = max(len(r["benchmark"]) for r in report["rows"])
    print(report["title"])
    for r in report["rows"]:
        mark = "" if r["ok"] is None else ("  pass" if r["ok"] else "  MISS")
        print(f"{r['benchmark']:<{width}}  {r['value']:>12.5g} {r['unit']:<12} {r['target'] or ''}{mark}")
