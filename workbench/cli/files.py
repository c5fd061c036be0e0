"""``workbench compress`` and ``decompress``: a float tensor quantised and Huffman-coded into a
self-describing file, and back, every input checked before anything is written."""

from __future__ import annotations

import io
import json
from argparse import Namespace
from pathlib import Path

import numpy as np

from numerics.bitstream import decode

from .._version import __version__
from ..codec import Encoded, compress_weights, dequantize, weight_report
from ..errors import DomainError
from ..files import MARKER, OutputError, atomic_write, check_target

__all__ = ["compress", "decompress"]


def _read(path: str) -> bytes:

    p = Path(path).expanduser()
    try:
        return p.read_bytes()
    except IsADirectoryError:
        raise DomainError(f"cannot read {path}: it is a directory") from None
    except OSError as exc:
        raise DomainError(f"cannot read {path}: {exc.strerror or exc}") from None


def _plan_compress(args: Namespace):



    data = _read(args.weights)
    try:
        weights = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, EOFError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DomainError(f"{args.weights} is not a readable .npy array: {reason}") from None
    if not isinstance(weights, np.ndarray):  # an .npz archive
        raise DomainError(f"{args.weights} is an .npz archive, not a single .npy array")
    if weights.dtype.kind != "f":
        raise DomainError(f"{args.weights} holds {weights.dtype} values, not floats: only float tensors are quantised")
    if not np.isfinite(weights).all():
        raise DomainError(f"{args.weights} holds NaN or infinite values, which a uniform quantiser cannot represent")
    out = Path(args.output) if args.output else Path(args.weights).expanduser().with_suffix(".wbz")
    check_target(out, force=args.force)
    return weights, out


def compress(args: Namespace) -> int:
    planned = _plan_compress(args)


    weights, out = planned
    e = compress_weights(weights, args.bits)
    data = e.to_bytes(generator=f"{MARKER} by workbench {__version__}")  # so a later run may overwrite it
    report = weight_report(weights, e, len(data))
    atomic_write(out, data)
    report["output"] = str(out)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    n = report["weights"]
    print(f"{args.weights}: {n} {report['dtype']} weights, shape {tuple(report['shape'])}, quantised to {args.bits} "
          f"bit{'s' if args.bits != 1 else ''} (uniform, per-tensor step {report['step']:.6g}), {report['symbols']} distinct "
          f"level{'s' if report['symbols'] != 1 else ''}")
    if n:
        print(f"entropy H = {report['entropy_bits']:.4f} bits/weight; Huffman L = {report['huffman_bits']:.4f} bits/weight "
              f"(payload), {report['file_bits_per_weight']:.4f} with header, table, index and checksum")
        ok = "holds" if report["within_bounds"] else "VIOLATED"
        print(f"huffman.bounds: H <= L < H + 1 {ok}; huffman.gallager: L - H = {report['redundancy']:.4f} <= "
              f"{report['gallager_bound']:.4f} (p_max = {report['p_max']:.4f})")
        if report["gaussian_estimate"] is not None:
            print(f"huffman.quantized-gaussian: (1/2) log2(2 pi e s^2) - log2(step) = {report['gaussian_estimate']:.4f} "
                  f"bits for Gaussian weights of the same s = {report['weights_std']:.4g}")
    ratio = report["ratio_vs_float32"]
    size = ""
    if ratio:  # the file against the same weights stored as float32
        size = f", {ratio:.3f}x smaller than float32" if ratio >= 1 else f", {1 / ratio:.3f}x larger than float32"
    print(f"wrote {out}: {report['file_bytes']} bytes{size}")
    return 0


def _plan_decompress(args: Namespace):



    data = _read(args.compressed)
    e = Encoded.from_bytes(data)  # FormatError (a ValueError): truncated, corrupted or not ours
    codes = decode(e)
    quant = e.metadata.get("quantization")
    if quant is not None and not args.codes:
        try:
            array = dequantize(codes, float(quant["offset"]), float(quant["step"]), quant["dtype"])
        except (KeyError, TypeError, ValueError) as exc:
            raise DomainError(f"{args.compressed}: its quantisation metadata is not valid ({exc})") from None
    else:
        array = codes
    out = Path(args.output) if args.output else Path(args.compressed).expanduser().with_suffix(".npy")
    if (out.exists() or out.is_symlink()) and not args.force:
        raise OutputError(f"{out} exists; overwrite it with --force (a .npy file carries no workbench marker)")
    check_target(out, force=True)
    return array, out


def decompress(args: Namespace) -> int:
    planned = _plan_decompress(args)



    array, out = planned
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    atomic_write(out, buffer.getvalue())
    print(f"wrote {out}: {array.dtype} array of shape {array.shape}")
    return 0


