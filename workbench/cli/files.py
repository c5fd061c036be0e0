"""``workbench compress`` and ``decompress``: a float tensor quantised and Huffman-coded into a
self-describing file, and back, every input checked before anything is written.

Both commands read only regular files (a FIFO would block, ``/dev/zero`` never end), refused by
``os.stat`` before opening and checked again on the open descriptor; a file larger than memory
is refused unread. ``compress`` parses the ``.npy`` header itself (NumPy's
``read_array_header_1_0``/``2_0``, bounded and without pickle) and checks the data it claims
against the bytes present before making the array, so a 200-byte file claiming 10^12 elements
is one line, not a traceback; ``decompress`` leaves every check of the compressed file to
:meth:`~workbench.codec.Encoded.from_bytes` and :func:`~workbench.codec.weights.read_quantization`.
"""

from __future__ import annotations

import io
import json
import math
import os
import stat
from argparse import Namespace
from pathlib import Path

import numpy as np
from numpy.lib import format as npy

from .._version import __version__
from ..codec import Encoded, checks, compress_weights, decompress_weights, weight_report
from ..codec.checks import gib
from ..codec.weights import read_quantization
from ..errors import DomainError
from ..files import MARKER, atomic_write, check_target

__all__ = ["compress", "decompress"]

WORK_BYTES = 32  # working memory per weight while compressing (24 bytes measured: float64 copies, codes, indices)
_KINDS = [(stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")]


def _regular(path: str, mode: int) -> None:
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
        raise DomainError(f"cannot read {path}: it is {kind}, not a regular file")


def _read(path: str) -> bytes:
    """The bytes of the regular file ``path``, at most the machine's memory."""
    p = Path(path).expanduser()
    try:
        _regular(path, os.stat(p).st_mode)  # before opening: a FIFO's open would block
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as f:
            info = os.fstat(f.fileno())
            _regular(path, info.st_mode)  # it may have been replaced since the stat
            memory = checks.memory_limit()
            if info.st_size > memory:
                raise DomainError(f"cannot read {path}: its {gib(info.st_size)} exceed the {gib(memory)} of memory here")
            return f.read(info.st_size)
    except OSError as exc:
        raise DomainError(f"cannot read {path}: {exc.strerror or exc}") from None


def _load_npy(path: str, data: bytes) -> np.ndarray:
    """The float array in the ``.npy`` file ``data``: its header parsed by NumPy's bounded header
    readers (versions 1.0 and 2.0), refused when the dtype holds objects or is not a float, when
    a dimension is negative, when it claims more data than the file holds, or when compressing
    it would not fit in memory; only then is the array made, a view of ``data``."""
    if data[:4] == b"PK\x03\x04":
        raise DomainError(f"{path} is an .npz archive, not a single .npy array")
    fp = io.BytesIO(data)
    try:
        version = npy.read_magic(fp)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f".npy format version {version[0]}.{version[1]} is not read here (1.0 and 2.0 are)")
        read = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
        shape, fortran, dtype = read(fp)
    except (ValueError, TypeError, SyntaxError, EOFError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DomainError(f"{path} is not a readable .npy array: {reason}") from None
    if dtype.hasobject:
        raise DomainError(f"{path} is not a readable .npy array: it holds Python objects, which are never unpickled")
    if dtype.kind != "f":
        raise DomainError(f"{path} holds {dtype} values, not floats: only float tensors are quantised")
    if any(s < 0 for s in shape):
        raise DomainError(f"{path} is not a readable .npy array: its header gives the shape {shape}")
    n, start = math.prod(shape), fp.tell()
    if n * dtype.itemsize > len(data) - start:
        raise DomainError(f"{path} is not a readable .npy array: its header claims {shape} {dtype} values "
                          f"({n * dtype.itemsize} bytes), but the file holds {len(data) - start} bytes of data")
    memory = checks.memory_limit()
    if n * WORK_BYTES > memory:
        raise DomainError(f"{path}: compressing its {n} weights needs about {gib(n * WORK_BYTES)}, more than the "
                          f"{gib(memory)} of memory here")
    try:
        return np.frombuffer(data, dtype=dtype, count=n, offset=start).reshape(shape, order="F" if fortran else "C")
    except ValueError as exc:  # more dimensions than NumPy allows, or empty with sides beyond its index range
        raise DomainError(f"{path} is not a readable .npy array: its shape {str(shape)[:60]} {exc}") from None


def _plan_compress(args: Namespace):



    weights = _load_npy(args.weights, _read(args.weights))
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
    halved = f" x 2^{report['exponent']}" if report["exponent"] else ""  # a range stored halved
    print(f"{args.weights}: {n} {report['dtype']} weights, shape {tuple(report['shape'])}, quantised to {args.bits} "
          f"bit{'s' if args.bits != 1 else ''} (uniform, per-tensor step {report['step']:.6g}{halved}), "
          f"{report['symbols']} distinct "
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
    e = Encoded.from_bytes(data)  # FormatError (a ValueError): truncated, corrupted, lying or not ours
    read_quantization(e)  # checked before the output is: the file is the input
    out = Path(args.output) if args.output else Path(args.compressed).expanduser().with_suffix(".npy")
    check_target(out, force=args.force)
    return decompress_weights(e, codes=args.codes), out


def decompress(args: Namespace) -> int:
    planned = _plan_decompress(args)



    array, out = planned
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    atomic_write(out, buffer.getvalue())
    print(f"wrote {out}: {array.dtype} array of shape {array.shape}")
    return 0


