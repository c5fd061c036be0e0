"""``workbench compress`` and ``decompress``: a float tensor quantised and Huffman-coded into a
self-describing file, and back, every input checked before anything is written.

Both commands read only regular files (a FIFO would block, ``/dev/zero`` never end), refused by
``os.stat`` before opening and checked again on the open descriptor; a file larger than memory
is refused unread. ``compress`` parses the ``.npy`` header itself (NumPy's
``read_array_header_1_0``/``2_0``, bounded and without pickle; whatever they raise on bad text
is one line) and checks the data it claims against the bytes present before making the array,
so a 200-byte file claiming 10^12 elements is one line, not a traceback; ``decompress`` leaves
every check of the compressed file to :meth:`~workbench.codec.Encoded.from_bytes` and
:func:`~workbench.codec.weights.read_quantization`, and decodes straight into the buffer of the
``.npy`` file it writes (one copy of the output, no ``np.save`` round trip). Both commands apply
the same shape and memory checks (:func:`~workbench.codec.checks.shape`,
:func:`~workbench.codec.weights.restoring_bytes`), so ``compress`` never writes a file that
``decompress`` would refuse on the same machine; running out of memory anyway is one line.
"""

from __future__ import annotations

import io
import json
import math
import os
import stat
import tokenize
import warnings
from argparse import Namespace
from pathlib import Path

import numpy as np
from numpy.lib import format as npy

from .._version import __version__
from ..codec import Encoded, checks, compress_weights, decompress_weights, weight_report
from ..codec.checks import gib
from ..codec.weights import read_quantization, restoring_bytes
from ..errors import DomainError
from ..files import MARKER, atomic_write, check_target

__all__ = ["compress", "decompress"]

# what NumPy's header readers raise on bad text: literal_eval's tokenizer and parser (an unclosed bracket is a
# TokenError in Python 3.11, a SyntaxError in 3.12), a malformed dictionary or dtype, a short file, a header
# nested past the recursion limit or too large to hold
_BAD_HEADER = (ValueError, TypeError, KeyError, IndexError, AttributeError, SyntaxError, tokenize.TokenError,
               EOFError, OSError, OverflowError, MemoryError, RecursionError)
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


def _load_npy(path: str, data: bytes, bits: int) -> np.ndarray:
    """The float array in the ``.npy`` file ``data``: its header parsed by NumPy's bounded header
    readers (versions 1.0 and 2.0; their warnings, such as a Python 2 header's, silenced: what
    they return is checked here), refused when the dtype holds objects or is not a float, when
    the shape is not one :func:`~workbench.codec.checks.shape` accepts (plain ints, not bools;
    sides NumPy can hold), when it claims more data than the file holds, or when compressing it
    to ``bits`` bits or restoring it would not fit in memory; only then is the array made, a
    view of ``data``."""
    if data[:4] == b"PK\x03\x04":
        raise DomainError(f"{path} is an .npz archive, not a single .npy array")
    fp = io.BytesIO(data)
    try:
        version = npy.read_magic(fp)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f".npy format version {version[0]}.{version[1]} is not read here (1.0 and 2.0 are)")
        read = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            shape, fortran, dtype = read(fp)
        shape = checks.shape(shape, "its header's shape")
    except _BAD_HEADER as exc:
        if isinstance(exc, (tokenize.TokenError, SyntaxError)) and exc.args:  # not (message, position)
            exc = ValueError(f"its header is not a Python literal ({exc.args[0]})")
        reason = str(exc).splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise DomainError(f"{path} is not a readable .npy array: {reason}") from None
    if dtype.hasobject:
        raise DomainError(f"{path} is not a readable .npy array: it holds Python objects, which are never unpickled")
    if dtype.kind != "f":
        raise DomainError(f"{path} holds {dtype} values, not floats: only float tensors are quantised")
    n, start = math.prod(shape), fp.tell()
    if n * dtype.itemsize > len(data) - start:
        raise DomainError(f"{path} is not a readable .npy array: its header claims {shape} {dtype} values "
                          f"({n * dtype.itemsize} bytes), but the file holds {len(data) - start} bytes of data")
    memory, need = checks.memory_limit(), restoring_bytes(n, dtype, bits)  # the check decompress makes
    if need > memory:
        raise DomainError(f"{path}: compressing its {n} weights (and restoring them) needs about {gib(need)}, more "
                          f"than the {gib(memory)} of memory here")
    return np.frombuffer(data, dtype=dtype, count=n, offset=start).reshape(shape, order="F" if fortran else "C")


def _plan_compress(args: Namespace):



    weights = _load_npy(args.weights, _read(args.weights), args.bits)
    if not np.isfinite(weights).all():
        raise DomainError(f"{args.weights} holds NaN or infinite values, which a uniform quantiser cannot represent")
    out = Path(args.output) if args.output else Path(args.weights).expanduser().with_suffix(".wbz")
    check_target(out, force=args.force)
    return weights, out


def compress(args: Namespace) -> int:
    planned = _plan_compress(args)


    weights, out = planned
    try:
        e = compress_weights(weights, args.bits)
    except MemoryError:
        raise DomainError(f"{args.weights}: compressing its {weights.size} weights ran out of memory") from None
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
    files: list[bytearray] = []
    try:
        array = decompress_weights(e, codes=args.codes, into=lambda shape, dtype: _npy_buffer(shape, dtype, files))
    except MemoryError:
        raise DomainError(f"{args.compressed}: restoring its {e.count} values ran out of memory") from None
    return files[0], array, out


def _npy_buffer(shape: tuple[int, ...], dtype: np.dtype, files: list[bytearray]) -> np.ndarray:
    """A C-order array of ``shape`` and ``dtype`` inside the bytes of a ``.npy`` file (appended to
    ``files``): the header NumPy's ``np.save`` writes, then the data, filled in place."""
    head = io.BytesIO()
    npy.write_array_header_1_0(head, {"descr": npy.dtype_to_descr(dtype), "fortran_order": False, "shape": shape})
    start = head.tell()
    files.append(buffer := bytearray(start + math.prod(shape) * dtype.itemsize))
    buffer[:start] = head.getvalue()
    return np.frombuffer(buffer, dtype=dtype, count=math.prod(shape), offset=start).reshape(shape)


def decompress(args: Namespace) -> int:
    planned = _plan_decompress(args)



    data, array, out = planned
    atomic_write(out, data)
    print(f"wrote {out}: {array.dtype} array of shape {array.shape}")
    return 0


