"""The compressed-file reader trusts nothing: valid files mutated (header fields replaced by hostile
values, bytes flipped, cut or inserted) with their lengths and CRC recomputed, so every mutation
reaches the validators. Each must be refused (a ``FormatError``; the command line: exit 2, one
line, nothing written) or decode to an array that re-encodes to itself, in bounded time and
memory. Then every class of hostile file and input the fault-injection run found, one row each."""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
import struct
import tempfile
import threading
import time
import tracemalloc
import warnings
import zlib
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from numerics.bitstream import decode, encode, lane_count
from workbench.cli import main
from workbench.codec import Encoded, FormatError, compress_weights, decompress_weights
from workbench.codec.checks import FLOAT_DTYPES, INTEGER_DTYPES, nesting
from workbench.codec.weights import dequantize, quantize_scaled, read_quantization

MEMORY = 1 << 20  # what a decoded file may take in these tests: a one-symbol file is not bounded by its size
SECONDS = 1.0  # per tiny file (they decode in milliseconds)


# --- files: split into header and sections, rebuilt with their lengths and CRC --------------------------

def split(data: bytes) -> tuple[dict, bytes]:
    hlen = struct.unpack_from("<I", data, 16)[0]
    return json.loads(data[20: 20 + hlen]), data[20 + hlen: -4]


def build(header: dict | None, rest: bytes, head: bytes | None = None) -> bytes:
    """A file with ``header`` (or the raw ``head``) and the sections ``rest``; lengths and CRC recomputed."""
    head = json.dumps(header, sort_keys=True).encode() if head is None else head
    body = struct.pack("<8sQI", b"\x89WBH\r\n\x1a\n", 20 + len(head) + len(rest) + 4, len(head)) + head + rest
    return body + struct.pack("<I", zlib.crc32(body))


def _seeds() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    w = (0.02 * rng.standard_normal((12, 20))).astype(np.float32)
    return {
        "int16": Encoded.of(encode(np.rint(rng.standard_normal(300) * 4).astype(np.int16))).to_bytes(),
        "int64-extremes": Encoded.of(encode(np.array([[-(2**63), 2**63 - 1, 0]] * 2))).to_bytes(),
        "uint8-one-symbol": Encoded.of(encode(np.full((4, 5), 7, np.uint8))).to_bytes(),
        "int32-empty": Encoded.of(encode(np.zeros((0, 3), np.int32))).to_bytes(),
        "uint16-0d": Encoded.of(encode(np.array(9, np.uint16))).to_bytes(),
        "quantised-4": compress_weights(w, 4).to_bytes(),
        "quantised-f16-10": compress_weights(w[:3].astype(np.float16), 10).to_bytes(),
        "quantised-constant": compress_weights(np.full(6, -2.5), 8).to_bytes(),
        "quantised-halved": compress_weights(np.array([-1.7e308, 3.0, 1.7e308]), 3).to_bytes(),
        "quantised-subnormal": compress_weights(np.array([5e-324, -1e-310, 2e-309, 0.0]), 5).to_bytes(),  # 2^-1029
    }


SEEDS = _seeds()
DTYPES = ["O", "V8", "(2,)i4", "M8", "<M8[s]", "<U4", "|b1", "S3", "<c8", "<f8", "<f2", ">i4", "<i8", "|u1", "<u2"]
HOSTILE = st.one_of(
    st.sampled_from([0, 1, -1, 2, 2**31, 2**32, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 10**9, 10**12, 10**400]),
    st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=8), st.sampled_from(DTYPES), st.booleans(),
    st.none(), st.lists(st.integers(-3, 10**12), max_size=4), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.integers(1, 300).map(lambda depth: json.loads("[" * depth + "]" * depth)),
)


@st.composite
def mutated(draw) -> bytes:
    """A seed file with one or two mutations (a header field set to a hostile value, nudged or
    dropped; a bit flipped; the file cut; bytes inserted; the header length changed), its
    lengths and CRC recomputed."""
    data = SEEDS[draw(st.sampled_from(sorted(SEEDS)))]
    for _ in range(draw(st.integers(1, 2))):
        hlen = struct.unpack_from("<I", data, 16)[0]
        head, rest = data[20: 20 + hlen], data[20 + hlen: -4]
        kind = draw(st.sampled_from(["set", "set", "nudge", "nudge", "drop", "flip", "flip", "cut", "insert", "length"]))
        try:
            header = json.loads(head)
        except ValueError:
            header = None
        if kind in ("set", "nudge", "drop") and isinstance(header, dict):
            meta = header.get("metadata")
            quant = meta.get("quantization") if isinstance(meta, dict) else None
            node = quant if isinstance(quant, dict) and draw(st.booleans()) else header
            key = draw(st.sampled_from(sorted(node) + ["extra"]))
            if kind == "set":
                node[key] = draw(HOSTILE)
            elif kind == "nudge" and type(node.get(key)) is int:
                node[key] += draw(st.integers(-3, 3))
            elif kind == "nudge" and isinstance(node.get(key), list) and node[key] and type(node[key][0]) is int:
                node[key][0] += draw(st.integers(-3, 3))  # the shape's first side
            elif kind == "drop":
                node.pop(key, None)
            head = json.dumps(header, sort_keys=True).encode()
        blob = bytearray(head + rest)
        at = draw(st.integers(len(head), len(blob)) | st.integers(0, len(blob)))  # the sections, half the time
        if kind == "flip" and at < len(blob):
            blob[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del blob[at:]
        elif kind == "insert":
            blob[at:at] = draw(st.binary(min_size=1, max_size=9))
        data = build(None, bytes(blob[len(head):]), bytes(blob[: len(head)]))
        if kind == "length":  # the header length field itself
            body = data[:16] + struct.pack("<I", draw(st.integers(0, 2**32 - 1))) + data[20:-4]
            data = body + struct.pack("<I", zlib.crc32(body))
    return data


def read(data: bytes) -> np.ndarray:
    """What ``workbench decompress`` restores (the quantisation checked and applied)."""
    return decompress_weights(Encoded.from_bytes(data, memory=MEMORY), memory=MEMORY)


def _reencoded(data: bytes, array: np.ndarray) -> np.ndarray:
    e = Encoded.from_bytes(data, memory=MEMORY)
    if read_quantization(e) is None:
        assert array.dtype in INTEGER_DTYPES.values()
        return decode(Encoded.from_bytes(Encoded.of(encode(array)).to_bytes()))
    assert array.dtype in FLOAT_DTYPES.values() and np.isfinite(array).all()
    again = Encoded.of(encode(decode(e))).with_metadata(**e.metadata)
    return read(again.to_bytes())


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_a_mutated_file_is_refused_or_decodes_to_an_array_that_re_encodes_to_itself(data):
    tracemalloc.start()
    start = time.perf_counter()
    try:
        array = read(data)
    except FormatError as exc:
        array, message = None, str(exc)
        assert message and "\n" not in message
    finally:
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert seconds < SECONDS, seconds
    assert peak < 64 * len(data) + 4 * MEMORY, (peak, len(data))
    if array is not None:
        back = _reencoded(data, array)
        assert back.dtype == array.dtype and back.shape == array.shape and back.tobytes() == array.tobytes()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_the_command_line_refuses_a_mutated_file_in_one_line_or_restores_it(data):
    try:
        expected = read(data)
    except FormatError:
        expected = None
    with tempfile.TemporaryDirectory() as tmp, mock.patch("workbench.codec.checks.memory_limit", lambda: MEMORY):
        code, out, err = _cli(Path(tmp), data)
        if expected is None:
            assert code == 2 and out == "" and err.startswith("workbench: error: ") and err.count("\n") == 1, err
            assert sorted(os.listdir(tmp)) == ["in.wbz"]  # nothing written
        else:
            assert code == 0, err
            back = np.load(Path(tmp) / "out.npy")
            assert back.dtype == expected.dtype and back.tobytes() == expected.tobytes()


def _cli(tmp: Path, data: bytes, argv: tuple[str, ...] = ()) -> tuple[int, str, str]:
    (tmp / "in.wbz").write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["decompress", str(tmp / "in.wbz"), "-o", str(tmp / "out.npy"), *argv])
    return code, out.getvalue(), err.getvalue()


# --- every class of hostile file, one row each -----------------------------------------------------------

def _set(seed: str, *path_value) -> bytes:
    header, rest = split(SEEDS[seed])
    for path, value in zip(path_value[::2], path_value[1::2], strict=True):
        node = header
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return build(header, rest)


def _raw(seed: str, path: list[str], text: str) -> bytes:
    """``seed`` with the field at ``path`` written as the raw JSON ``text`` (no Python value prints so)."""
    header, rest = split(_set(seed, path, "@@"))
    return build(None, rest, json.dumps(header, sort_keys=True).replace('"@@"', text).encode())


def _index_base_lies() -> bytes:
    header, _ = split(SEEDS["int16"])
    return _set("int16", ["index_base"], header["bits"])  # the first lane would span the whole payload


def _claiming(n: int, size: int = 400) -> bytes:
    """A ``size``-byte file of a two-symbol code that claims ``n`` symbols and has no payload."""
    header, rest = split(Encoded.of(encode(np.array([0, 1, 1, 0], np.uint8))).to_bytes())
    header.update(shape=[n], lanes=lane_count(0, n), bits=0, generator="")
    rest = rest[:-1]  # the one payload byte
    header["generator"] = "x" * (size - len(build(header, rest)))
    return build(header, rest)


Q = ["metadata", "quantization"]
HOSTILE_FILES = [
    ("not-an-object", build(None, split(SEEDS["int16"])[1], b"[1, 2, 3]"), "not an object"),
    ("deep-nesting", build(None, split(SEEDS["int16"])[1], b"[" * 100_000 + b"]" * 100_000), "nests 100000 levels"),
    ("too-long", build(None, split(SEEDS["int16"])[1], b" " * (1 << 21)), "at most 1048576"),
    ("repeated-key", _raw("int16", ["metadata"], '{}, "metadata": {}'), "'metadata' twice"),
    ("bool-field", _set("int16", ["lanes"], True), "lanes=True is not an integer"),
    ("float-field", _set("int16", ["symbols"], 30.0), "symbols=30.0 is not an integer"),
    ("metadata-string", _set("int16", ["metadata"], "x"), "metadata='x' is not a JSON object"),
    *[(f"dtype-{d}", _set("int16", ["dtype"], d), "is not one of") for d in ("O", "V8", "(2,)i4", "M8", "<U2", "|b1")],
    *[(f"output-dtype-{d}", _set("quantised-4", [*Q, "dtype"], d), "is not one of")
      for d in ("O", "V8", "<U4", "<M8[s]", "<i4")],
    ("offset-nan", _set("quantised-4", [*Q, "offset"], float("nan")), "offset=nan is not a finite"),
    ("offset-1e999", _raw("quantised-4", [*Q, "offset"], "1e999"), "offset=inf is not a finite"),
    ("offset-5000-digits", _raw("quantised-4", [*Q, "offset"], "9" * 5000), "the header is not valid JSON"),
    ("offset-NaN-literal", _raw("quantised-4", [*Q, "offset"], "NaN"), "offset=nan is not a finite"),
    ("offset-inf", _set("quantised-4", [*Q, "offset"], float("inf")), "offset=inf is not a finite"),
    ("offset-huge-int", _set("quantised-4", [*Q, "offset"], 10**400), "is not a finite"),
    ("offset-beyond-float32", _set("quantised-4", [*Q, "offset"], 1e308), "is not a finite float32"),
    ("step-1e308", _set("quantised-4", [*Q, "step"], 1e308), "is not a finite float32"),
    ("step-negative", _set("quantised-4", [*Q, "step"], -0.5), "is not positive"),
    ("step-zero-not-constant", _set("quantised-4", [*Q, "step"], 0.0), "is not positive"),
    ("bits-17", _set("quantised-4", [*Q, "bits"], 17), "bits=17 is not an integer in 1 .. 16"),
    ("codes-beyond-bits", _set("quantised-4", [*Q, "bits"], 2), "beyond the 2-bit range"),
    ("bits-not-the-code-dtype", _set("quantised-4", [*Q, "bits"], 12), "stored as uint16"),
    ("halved-without-its-scheme", _set("quantised-4", [*Q, "exponent"], 1), "scheme is not"),
    ("shape-1e9", _set("int16", ["shape"], [10**9]), "lanes=9 is not an integer in 15812"),
    ("shape-1e8-lanes", _set("int16", ["shape"], [10**8], ["lanes"], 5000), "the sections do not add up"),
    ("shape-1e12", _set("int16", ["shape"], [10**12], ["lanes"], 500_000), "decoding it needs 2.61e+04 GiB"),
    # a one-symbol file has no payload: memory bounds it, every copy counted (26 bytes a symbol, 128 a lane)
    ("constant-shape-1e12", _set("uint8-one-symbol", ["shape"], [10**6, 10**6], ["lanes"], 953_675), "2.42e+04 GiB"),
    ("constant-int64-1e11", _set("quantised-constant", ["shape"], [10**11], ["lanes"], 158_114), "more than the"),
    ("constant-6e8-float64", _set("quantised-constant", ["shape"], [6 * 10**8], ["lanes"], 12_248),
     "restoring 600000000 float64 weights needs 18.4 GiB"),  # 33 bytes a weight (compress: 32)
    ("constant-lanes-n", _set("uint8-one-symbol", ["shape"], [10**8], ["lanes"], 10**8), "not an integer in 5000 .. 5000"),
    ("empty-with-huge-sides", _set("int32-empty", ["shape"], [0, 2**62, 2**62]), "exceeds what NumPy can hold"),
    ("shape-1e400", _set("int16", ["shape"], [10**400]), "exceeds what NumPy can hold"),
    ("shape-bool", _set("int16", ["shape"], [True, 300]), "is not a list of at most 32 integers"),
    ("shape-33-dims", _set("int16", ["shape"], [1] * 32 + [300]), "is not a list of at most 32 integers"),
    ("escaped-quotes-1MiB", build(None, split(SEEDS["int16"])[1], b'"' + b'\\"' * ((1 << 19) - 1)),
     "the header is not valid JSON: Unterminated string"),  # quadratic for a backtracking regex: minutes
    ("lanes-1e12", _set("int16", ["lanes"], 10**12), "lanes=1000000000000 is not an integer"),
    ("too-few-lanes", _set("int16", ["lanes"], 1), "lanes=1 is not an integer in 9 .. 9"),
    ("symbols-beyond-file", _set("int16", ["symbols"], 10**6), "symbols=1000000 is not an integer"),
    ("400-bytes-claiming-1e6-symbols", _claiming(10**6), "the payload holds 0 bits"),
    ("1e12-symbols-no-payload", _claiming(10**12), "more than the"),
    ("lane-spans-lie", _index_base_lies(), "the lane index gives a lane more or fewer bits"),
]


@pytest.mark.parametrize(("data", "message"), [pytest.param(d, m, id=i) for i, d, m in HOSTILE_FILES])
def test_a_hostile_file_is_refused_in_one_line_exit_2_quickly_with_nothing_written(tmp_path, data, message):
    start = time.perf_counter()
    tracemalloc.start()
    with mock.patch("workbench.codec.checks.memory_limit", lambda: 16 << 30):  # the same rows on every machine
        code, out, err = _cli(tmp_path, data)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert code == 2 and out == "" and err.startswith("workbench: error: ") and err.count("\n") == 1, err
    assert message in err, err
    assert sorted(os.listdir(tmp_path)) == ["in.wbz"]
    assert time.perf_counter() - start < SECONDS and peak < 16 * len(data) + 8 * MEMORY, peak


# --- the JSON header's nesting: counted outside strings, exactly, in linear time ---------------------------

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text('[]{}"\\\'ab', max_size=6),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text('[]{}"\\a', max_size=4), inner,
                                                                                max_size=3), max_leaves=25)


def _depth(value) -> int:
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
    return 0 if children is None else 1 + max(map(_depth, children), default=0)


@settings(max_examples=300, deadline=None)
@given(JSON, st.booleans())
def test_the_nesting_scan_counts_the_brackets_outside_strings_exactly(value, ascii_only):
    assert nesting(json.dumps(value, ensure_ascii=ascii_only).encode()) == _depth(value)


# --- .npy inputs --------------------------------------------------------------------------------------------

def _npy(header: str, payload: bytes = b"") -> bytes:
    header += " " * (117 - len(header)) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + payload


HOSTILE_INPUTS = [
    ("claims-1e12-elements", _npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }", b"\0" * 64),
     "its header claims (1000000000000,) float32 values"),
    ("claims-more-than-it-holds", _npy("{'descr': '<f8', 'fortran_order': False, 'shape': (100,), }", b"\0" * 80),
     "but the file holds 80 bytes"),
    ("negative-dimension", _npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-5,), }"), "shape=(-5,) is not"),
    ("bool-sides", _npy("{'descr': '<f4', 'fortran_order': False, 'shape': (True, 2), }", b"\0" * 8), "(True, 2) is not"),
    ("bool-side", _npy("{'descr': '<f4', 'fortran_order': False, 'shape': (False,), }"), "shape=(False,) is not"),
    *[(f"unclosed-{kind}", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode(), "not a readable .npy")
      for kind, text in [("paren", "{'a': (\n"), ("brace", "{\n"), ("string", "{'a\n"), ("triple", "{'''\n")]],
    ("object-dtype", _npy("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", b"\0" * 16), "Python objects"),
    ("structured-dtype", _npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", b"\0" * 8),
     "not floats"),
    ("npy-version-3", b"\x93NUMPY\x03\x00" + b"\0" * 60, "version 3.0"),
    ("100-dimensions", _npy("{'descr': '<f4', 'fortran_order': False, 'shape': (" + "1, " * 100 + "), }", b"\0" * 4),
     "is not a list of at most 32 integers"),
    ("33-dimensions", _npy("{'descr': '<f4', 'fortran_order': False, 'shape': (" + "1, " * 33 + "), }", b"\0" * 4),
     "is not a list of at most 32 integers"),  # NumPy 2 holds 64, decompress reads 32: compress refuses them
    ("empty-with-a-side-of-1e30", _npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, " + "9" * 30 + "), }"),
     "exceeds what NumPy can hold"),
]


@pytest.mark.parametrize(("data", "message"), [pytest.param(d, m, id=i) for i, d, m in HOSTILE_INPUTS])
def test_compress_refuses_a_lying_npy_file_before_allocating(tmp_path, data, message):
    (tmp_path / "w.npy").write_bytes(data)
    _refused(tmp_path, ["compress", str(tmp_path / "w.npy"), "--bits", "8"], message, ["w.npy"])


PIECES = st.sampled_from(["{", "}", "(", ")", "[", "]", "'", '"', "\'\'\'", ",", ":", " ", "\n", "\\", "L", "0", "2", "-1",
                          "True", "None", "1e3", "9" * 30, "'descr'", "'<f8'", "'<f4'", "'|O'", "'fortran_order'",
                          "False", "'shape'", "(2,)", "(True, 2)", "(2L,)", "__import__", "lambda: 0", "\x00", "\xe9"])
TEXT = st.lists(PIECES, max_size=12).map("".join)


@st.composite
def npy_files(draw) -> bytes:
    """A ``.npy`` file with a valid magic and a random header: pieces of a valid one (some dropped
    or replaced), random text, or random bytes; its length field right or not; random data."""
    kind = draw(st.sampled_from(["template", "template", "template", "text", "bytes"]))
    if kind == "template":  # mostly valid fields (a round trip), sometimes text
        fields = [draw(st.sampled_from(valid) if draw(st.integers(0, 5)) else TEXT) for valid in (
            ["'<f8'", "'<f8'", "'<f4'", "'>f2'", "'|u1'", "'<c8'"], ["False", "True"],
            ["(2,)", "(2,)", "(1, 2)", "()", "(0, 3)", "(2L,)", "(True,)", "(-1,)", "(1,) * 33"])]
        header = "{{'descr': {}, 'fortran_order': {}, 'shape': {}, }}".format(*fields)
        if not draw(st.integers(0, 3)):
            header = header[: draw(st.integers(0, len(header)))]  # cut: unclosed brackets and strings
        raw = (header + "\n").encode("utf-8")
    else:
        raw = (draw(TEXT) + "\n").encode("utf-8") if kind == "text" else draw(st.binary(max_size=80))
    version = draw(st.sampled_from([1, 2]))
    size = len(raw) if draw(st.integers(0, 4)) else draw(st.integers(0, 300))
    prefix = b"\x93NUMPY" + bytes([version, 0]) + struct.pack("<H" if version == 1 else "<I", size)
    values = draw(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=4))
    return prefix + raw + np.array(values, "<f8").tobytes() + draw(st.binary(max_size=8))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(npy_files())
def test_compress_refuses_a_fuzzed_npy_header_in_one_line_or_round_trips_it(data):
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        (tmp / "w.npy").write_bytes(data)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["compress", str(tmp / "w.npy"), "--bits", "6", "-o", str(tmp / "w.wbz")])
        if code != 0:
            assert code == 2 and out.getvalue() == "" and err.getvalue().count("\n") == 1, err.getvalue()
            assert err.getvalue().startswith("workbench: error: ") and os.listdir(tmp) == ["w.npy"]
            return
        assert err.getvalue() == ""  # no warning either (a Python 2 header's "L")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            w = np.load(tmp / "w.npy", allow_pickle=False)  # what NumPy itself reads there
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["decompress", str(tmp / "w.wbz"), "-o", str(tmp / "back.npy")]) == 0
        back = np.load(tmp / "back.npy")
        q, offset, step, exponent = quantize_scaled(w, 6)
        assert back.shape == w.shape and back.tobytes() == dequantize(q, offset, step, w.dtype, exponent).tobytes()


def test_a_python_2_npy_header_is_read_without_a_warning(tmp_path):
    data = _npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3L,), }", np.array([1.0, 2.0, 4.0]).tobytes())
    (tmp_path / "w.npy").write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):  # pytest turns a warning into an error
        assert main(["compress", str(tmp_path / "w.npy"), "--bits", "8"]) == 0
        assert main(["decompress", str(tmp_path / "w.wbz"), "-o", str(tmp_path / "back.npy")]) == 0
    assert err.getvalue() == "" and np.allclose(np.load(tmp_path / "back.npy"), [1.0, 2.0, 4.0], atol=3 / 255 / 2)


def _refused(tmp_path: Path, argv: list[str], message: str, listing: list[str]) -> None:
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    assert code == 2 and out.getvalue() == "" and err.getvalue().count("\n") == 1 and message in err.getvalue(), err
    assert time.perf_counter() - start < SECONDS and sorted(os.listdir(tmp_path)) == listing


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_compress_and_decompress_refuse_a_device(tmp_path, device):
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    _refused(tmp_path, ["compress", device, "--bits", "8", "-o", str(tmp_path / "x.wbz")], "character device", [])
    _refused(tmp_path, ["decompress", device, "-o", str(tmp_path / "x.npy")], "character device", [])


def test_compress_refuses_a_fifo_without_blocking_on_it(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    fifo = tmp_path / "w.npy"
    os.mkfifo(fifo)

    def unblock():  # were the FIFO opened for reading, this writer would end the wait (and the test fail on time)
        time.sleep(3)
        with contextlib.suppress(OSError), open(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK), "wb"):
            pass

    threading.Thread(target=unblock, daemon=True).start()
    _refused(tmp_path, ["compress", str(fifo), "--bits", "8", "-o", str(tmp_path / "x.wbz")], "a pipe (FIFO)", ["w.npy"])
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_compress_refuses_a_longdouble_beyond_float64(tmp_path):
    if np.finfo(np.longdouble).max <= np.finfo(np.float64).max:
        pytest.skip("longdouble is float64 here")
    np.save(tmp_path / "w.npy", np.array([1.0, np.longdouble("1e4000")], dtype=np.longdouble))
    _refused(tmp_path, ["compress", str(tmp_path / "w.npy"), "--bits", "8"], "beyond float64's range", ["w.npy"])


def test_compress_refuses_an_array_whose_work_would_not_fit_in_memory(tmp_path):
    np.save(tmp_path / "w.npy", np.zeros(100, np.float32))
    with mock.patch("workbench.codec.checks.memory_limit", lambda: 1000):
        _refused(tmp_path, ["compress", str(tmp_path / "w.npy"), "--bits", "8"],
                 "compressing its 100 weights (and restoring them) needs", ["w.npy"])
