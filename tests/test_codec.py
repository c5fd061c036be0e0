"""The canonical Huffman codec, its file format, and ``workbench compress`` / ``decompress``."""

from __future__ import annotations

import io
import json
import math
import os
import struct
import subprocess
import sys
import tracemalloc
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from numerics import bitstream as B
from numerics.bitstream import decode, encode
from numerics.entropy import entropy_bits
from workbench.cli import files as cli_files
from workbench.cli import main
from workbench.codec import MAGIC, Encoded, FormatError, checks, dequantize, quantize
from workbench.codec.weights import quantize_scaled, restoring_bytes

DBL_MAX = float(np.finfo(np.float64).max)
INTEGER_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]


def _roundtrip(x: np.ndarray) -> None:
    e = encode(x)
    y = decode(e)
    assert y.dtype == x.dtype and y.shape == x.shape and np.array_equal(x, y)
    z = decode(Encoded.from_bytes(Encoded.of(e).to_bytes()))
    assert z.dtype == x.dtype and z.shape == x.shape and np.array_equal(x, z)


# --- round trips ----------------------------------------------------------------------------------

@settings(max_examples=80, deadline=None)
@given(hnp.arrays(st.sampled_from(INTEGER_DTYPES), hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=40)))
def test_any_integer_array_round_trips_bit_exactly(x):
    _roundtrip(x)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(INTEGER_DTYPES), st.integers(1, 4000), st.floats(0.05, 3.0), st.integers(0, 2**32 - 1))
def test_skewed_arrays_round_trip_through_many_lanes(dtype, n, scale, seed):
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype)
    x = np.clip(np.rint(rng.standard_normal(n) / scale * 8), max(info.min, -(2**40)), min(info.max, 2**40)).astype(dtype)
    old = B.LANE_BITS
    try:
        B.LANE_BITS = 64  # lanes of a few symbols: every lane boundary case
        _roundtrip(x)
    finally:
        B.LANE_BITS = old
    _roundtrip(x)


@pytest.mark.parametrize("x", [
    np.zeros(0, np.int16),
    np.zeros((0, 5), np.uint8),
    np.full(1, -7, np.int8),
    np.full((3, 1000), 2**63 - 1, np.int64),
    np.array(5, dtype=np.uint64),  # 0-d
    np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max] * 10),
    np.array([0, 2**64 - 1], dtype=np.uint64),
    np.arange(-30000, 30000, dtype=np.int32),  # every symbol distinct
    np.array([1, 2] * 1000 + [3], dtype=">i4"),  # big-endian input
], ids=["empty", "empty-2d", "one-element", "one-symbol", "zero-d", "int64-extremes", "uint64-extremes", "distinct",
        "big-endian"])
def test_edge_cases_round_trip(x):
    e = encode(x)
    assert np.array_equal(decode(e), x) and decode(e).shape == x.shape
    assert np.array_equal(decode(Encoded.from_bytes(Encoded.of(e).to_bytes())), x)
    if x.size and np.unique(x).size == 1:
        assert e.bits == 0  # one symbol needs no bits


def test_the_sparse_histogram_path_agrees_with_the_dense_one(monkeypatch):
    rng = np.random.default_rng(1)
    x = rng.geometric(0.2, 5000).astype(np.int32) * 3 - 40
    dense = encode(x)
    monkeypatch.setattr(B, "_DENSE_SPAN", 0)
    monkeypatch.setattr(B, "_histogram", _sparse_only)
    sparse = encode(x)
    assert sparse.bits == dense.bits and np.array_equal(sparse.symbols, dense.symbols)
    assert Encoded.of(sparse).to_bytes() == Encoded.of(dense).to_bytes() and np.array_equal(decode(sparse), x)


def _sparse_only(flat):
    values, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
    return values, counts, inverse.reshape(-1), None


def test_non_integer_input_is_refused():
    with pytest.raises(TypeError, match="takes an integer array, not float32"):
        encode(np.zeros(3, np.float32))
    with pytest.raises(TypeError, match="not bool"):
        encode(np.zeros(3, bool))


# --- compression: within 0.1% of ideal ---------------------------------------------------------------

def test_bits_per_symbol_match_the_ideal_huffman_length_and_the_file_stays_within_a_tenth_of_a_percent():
    rng = np.random.default_rng(0)
    q, _, _ = quantize(rng.standard_normal(1 << 22).astype(np.float32), 8)  # header, table and index: ~0.07%
    e = encode(q)
    counts = e.counts
    ideal = float((counts * e.lengths).sum()) / q.size  # the Huffman length of the data's own histogram
    assert e.bits / q.size == ideal
    H_ = entropy_bits(counts)
    assert H_ <= ideal < H_ + 1
    file_bits = 8 * len(Encoded.of(e).to_bytes()) / q.size
    assert file_bits <= ideal * 1.001, (file_bits, ideal)


def test_expected_length_equals_bitarrays_canonical_huffman():
    util = pytest.importorskip("bitarray.util")
    rng = np.random.default_rng(2)
    x = np.rint(rng.standard_normal(20000) * 6).astype(np.int16)
    e = encode(x)
    code, _, _ = util.canonical_huffman({int(v): int(c) for v, c in zip(e.symbols, e.counts, strict=True)})
    theirs = sum(len(code[int(v)]) * int(c) for v, c in zip(e.symbols, e.counts, strict=True))
    assert theirs == e.bits  # ties may give other codes; the total length is the same


# --- the file format ------------------------------------------------------------------------------

def _sample() -> tuple[np.ndarray, bytes]:
    rng = np.random.default_rng(3)
    x = np.rint(rng.standard_normal(3000) * 5).astype(np.int16)
    return x, Encoded.of(encode(x)).to_bytes()


def _with_crc(body: bytes) -> bytes:
    return body[:-4] + struct.pack("<I", zlib.crc32(body[:-4]))


def test_the_file_describes_itself_and_the_command_line_marks_its_own(tmp_path, capsys):
    _, data = _sample()
    head = json.loads(data[20: 20 + struct.unpack_from("<I", data, 16)[0]])
    assert data.startswith(MAGIC) and head["generator"] == "workbench.codec"
    assert head["format"] == "workbench canonical Huffman" and head["dtype"] == "<i2" and head["shape"] == [3000]
    np.save(tmp_path / "w.npy", np.linspace(-1, 1, 100, dtype=np.float32))
    assert main(["compress", str(tmp_path / "w.npy"), "--bits", "3"]) == 0
    assert b"workbench-generated" in (tmp_path / "w.wbz").read_bytes()


@pytest.mark.parametrize("cut", [0, 5, 8, 23, 30, 200, -5, -1])
def test_a_truncated_file_is_refused(cut):
    _, data = _sample()
    with pytest.raises(FormatError, match="truncated|magic"):
        Encoded.from_bytes(data[:cut])


@pytest.mark.parametrize("where", [30, 120, 400, -100, -3])
def test_a_flipped_byte_fails_the_checksum(where):
    _, data = _sample()
    bad = bytearray(data)
    bad[where] ^= 0x40
    with pytest.raises(FormatError, match="checksum|header|sections"):
        Encoded.from_bytes(bytes(bad))


def test_trailing_bytes_and_foreign_files_are_refused():
    _, data = _sample()
    with pytest.raises(FormatError, match="after its end"):
        Encoded.from_bytes(data + b"\0")
    with pytest.raises(FormatError, match="magic"):
        Encoded.from_bytes(b"\x93NUMPY" + data)


def test_a_code_table_that_is_not_a_prefix_code_is_caught_even_with_a_valid_checksum():
    x, data = _sample()
    e = encode(x)
    top = int(e.lengths.max())  # the table of the very file in `data`
    hlen = struct.unpack_from("<I", data, 16)[0]
    at = 20 + hlen + e.symbols.size * 2  # the length counts follow the symbols
    counts = np.frombuffer(data, "<u4", top + 1, at).copy()
    lengths = np.flatnonzero(counts)
    shorter, longer = lengths[0], lengths[-1]
    counts[longer] -= 1
    counts[shorter] += 1  # one codeword shortened: Kraft sum > 1, some codeword a prefix of another
    bad = data[:at] + counts.astype("<u4").tobytes() + data[at + 4 * (top + 1):]
    with pytest.raises(FormatError, match="not form a complete prefix code"):
        Encoded.from_bytes(_with_crc(bad))


def test_a_corrupted_lane_index_is_caught_by_the_lane_boundaries():
    rng = np.random.default_rng(4)
    x = np.rint(rng.standard_normal(200_000) * 5).astype(np.int16)
    e = encode(x)
    assert e.lanes > 2
    offsets = e.offsets.copy()
    offsets[1] += 1
    from dataclasses import replace

    with pytest.raises(FormatError, match="lane boundaries"):
        decode(replace(e, offsets=offsets))


@pytest.mark.parametrize("seed", range(3))
def test_the_search_decoder_agrees_with_the_table_decoder(seed):
    rng = np.random.default_rng(seed)
    x = (rng.geometric(0.02, 30_000) * (1 - 2 * (rng.random(30_000) < 0.5))).astype(np.int32)
    e = encode(x)
    assert np.array_equal(B._decode_ranks(e), B._decode_ranks(e, limit=0))  # limit 0: no table is built


def test_a_code_with_64_bit_codewords_decodes_without_its_2_to_the_53_entry_table():
    from numerics.huffman import canonical_codes

    lengths = np.array([*range(1, 65), 64], dtype=np.uint64)  # complete: 1/2 + 1/4 + ... + 2 / 2^64
    x = np.random.default_rng(0).permutation(65).astype(np.int8)  # symbol v has codeword length lengths[v]
    bits, lanes = int(lengths.sum()), B.lane_count(int(lengths.sum()), 65)
    seq, starts = B._lane_major(x.astype(np.intp), lanes)
    words, offsets = B._pack(seq, starts, lengths, np.array(canonical_codes(lengths), np.uint64), bits)
    coded = B.CodedArray(np.dtype(np.int8), (65,), np.arange(65, dtype=np.int8), lengths.astype(np.uint8), lanes,
                         offsets, words, bits)
    assert B._decode_tables(lengths.astype(np.int64), 1 << 20) is None
    assert np.array_equal(decode(Encoded.from_bytes(Encoded.of(coded).to_bytes())), x)


# --- quantisation -----------------------------------------------------------------------------------

@pytest.mark.parametrize("bits", [1, 2, 8, 12, 16])
def test_quantisation_spans_the_range_and_dequantises_within_half_a_step(bits):
    rng = np.random.default_rng(bits)
    w = rng.standard_normal(5000).astype(np.float32)
    q, lo, step = quantize(w, bits)
    assert q.min() == 0 and q.max() == (1 << bits) - 1
    assert np.abs(dequantize(q, lo, step, np.float64) - w).max() <= step / 2 * (1 + 1e-6)


def test_quantisation_of_constant_empty_and_bad_input():
    q, lo, step = quantize(np.full(7, 3.5, np.float16), 4)
    assert step == 0 and lo == 3.5 and not q.any()
    assert quantize(np.zeros(0, np.float32), 8)[0].shape == (0,)
    with pytest.raises(ValueError, match="bits=0 is outside the domain"):
        quantize(np.zeros(3), 0)
    with pytest.raises(ValueError, match="NaN or infinite"):
        quantize(np.array([1.0, np.nan]), 8)
    with pytest.raises(ValueError, match="overflows float64; quantize_scaled stores it halved"):
        quantize(np.array([-1.7e308, 1.7e308]), 8)


@pytest.mark.parametrize("w", [[-1.7e308, -1.0, 0.0, 1e300, 1.7e308], [-DBL_MAX, DBL_MAX], [0.0, DBL_MAX], [-DBL_MAX, 0.0]])
def test_a_range_beyond_float64_is_stored_halved_and_restored_exactly_by_the_command_line(tmp_path, capsys, w):
    w = np.array(w)
    np.save(tmp_path / "w.npy", w)
    assert _run(capsys, ["compress", tmp_path / "w.npy", "--bits", 8])[0] == 0
    assert _run(capsys, ["decompress", tmp_path / "w.wbz", "-o", tmp_path / "back.npy"])[0] == 0
    back = np.load(tmp_path / "back.npy")
    q, offset, step, exponent = quantize_scaled(w, 8)
    assert np.isfinite(back).all() and np.array_equal(back, dequantize(q, offset, step, np.float64, exponent))
    assert back[0] == w[0] and np.all(np.abs(back / 2 - w / 2) <= step * (1 + 1e-12))  # within a (halved) step


@pytest.mark.parametrize("w", [
    [5e-324, 0.0, -5e-324], [0.0, 5e-324], [1e-310, 2e-310, -3e-309, 4e-320, 0.0],  # subnormal: the step underflowed
    [1e-300, 1.0000000000000002e-300], [1.0, 1.0000000000000002],  # normal steps, exponent 0
    [-1.7e308, 5e-324, 1.7e308], [-DBL_MAX, DBL_MAX], [0.0, DBL_MAX],  # beyond float64: halved
], ids=["subnormal-3", "subnormal-2", "subnormal-5", "tiny-normal", "one-ulp", "huge-with-tiny", "dbl-max", "0-dbl-max"])
@pytest.mark.parametrize("bits", [1, 8, 16])
def test_any_finite_range_is_quantised_within_half_a_step_and_never_to_a_constant(w, bits):
    w = np.array(w)
    q, offset, step, exponent = quantize_scaled(w, bits)
    assert step > 0 and q.max() == (1 << bits) - 1 and q.min() == 0
    back = dequantize(q, offset, step, np.float64, exponent)
    assert back.max() > back.min()  # before: the step underflowed to 0 and every weight came back as the smallest
    scaled_back, scaled_w = np.ldexp(back, -exponent), np.ldexp(w, -exponent)  # in the units of the stored step
    # half a step, plus float64's rounding: relative, and the output's grid (a subnormal result is rounded to it)
    tolerance = step * (1 + 1e-9) + np.abs(scaled_w) * 2.0**-51 + math.ldexp(5e-324, -exponent)
    assert np.all(2 * np.abs(scaled_back - scaled_w) <= tolerance), (scaled_back - scaled_w, step)
    with np.errstate(over="ignore"):
        spread = w.max() - w.min()
    assert (exponent < 0) == (spread / ((1 << bits) - 1) < np.finfo(np.float64).tiny)
    assert (exponent == 1) == (not np.isfinite(spread))


def test_a_subnormal_range_round_trips_through_the_command_line_exactly(tmp_path, capsys):
    w = np.array([5e-324, 0.0, -5e-324])
    np.save(tmp_path / "w.npy", w)
    code, out, err = _run(capsys, ["compress", tmp_path / "w.npy", "--bits", 8])
    assert code == 0 and err == "" and "x 2^-1073" in out
    assert _run(capsys, ["decompress", tmp_path / "w.wbz", "-o", tmp_path / "back.npy"])[0] == 0
    assert np.array_equal(np.load(tmp_path / "back.npy"), w)  # every weight within half a step of 2^-1073 / 255
    with pytest.raises(ValueError, match="too narrow for a normal float64 step; quantize_scaled stores it scaled"):
        quantize(w, 8)


def test_a_longdouble_within_float64_range_keeps_its_dtype(tmp_path, capsys):
    w = np.array([1.0, -2.5, 3.25, 1e300], dtype=np.longdouble)
    np.save(tmp_path / "w.npy", w)
    assert _run(capsys, ["compress", tmp_path / "w.npy", "--bits", 12])[0] == 0
    assert _run(capsys, ["decompress", tmp_path / "w.wbz", "-o", tmp_path / "back.npy"])[0] == 0
    back = np.load(tmp_path / "back.npy")
    q, lo, step = quantize(w, 12)
    assert back.dtype == np.longdouble and np.array_equal(back, dequantize(q, lo, step, np.longdouble))


# --- the command line ---------------------------------------------------------------------------------

@pytest.fixture
def weights(tmp_path):
    rng = np.random.default_rng(5)
    path = tmp_path / "W.npy"
    np.save(path, (0.02 * rng.standard_normal((64, 300))).astype(np.float32))
    return path


def _run(capsys, argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_compress_then_decompress_restores_the_quantised_tensor_exactly(tmp_path, weights, capsys):
    code, out, err = _run(capsys, ["compress", weights, "--bits", 6])
    assert code == 0 and err == ""
    assert "huffman.bounds: H <= L < H + 1 holds" in out and "smaller than float32" in out
    packed = tmp_path / "W.wbz"
    assert packed.exists()
    code, out, _ = _run(capsys, ["decompress", packed, "-o", tmp_path / "back.npy"])
    assert code == 0
    w = np.load(weights)
    q, lo, step = quantize(w, 6)
    back = np.load(tmp_path / "back.npy")
    assert back.dtype == np.float32 and np.array_equal(back, dequantize(q, lo, step, np.float32))
    _run(capsys, ["decompress", packed, "-o", tmp_path / "codes.npy", "--codes"])
    assert np.array_equal(np.load(tmp_path / "codes.npy"), q)
    assert sorted(f for f in os.listdir(tmp_path) if not f.startswith(".")) == ["W.npy", "W.wbz", "back.npy", "codes.npy"]
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]  # no temporary files


def test_compress_json_report_has_the_bounds_and_the_ratio(weights, capsys):
    code, out, _ = _run(capsys, ["compress", weights, "--bits", 8, "--json"])
    report = json.loads(out)
    assert code == 0
    assert report["entropy_bits"] <= report["huffman_bits"] < report["entropy_bits"] + 1
    assert report["redundancy"] <= report["gallager_bound"] and report["within_gallager"]
    assert report["ratio_vs_float32"] == pytest.approx(32 * report["weights"] / (8 * report["file_bytes"]))
    assert abs(report["gaussian_estimate"] - report["entropy_bits"]) < 0.05  # Gaussian weights, step << s


def test_compress_overwrites_its_own_file_but_not_a_users(tmp_path, weights, capsys):
    assert _run(capsys, ["compress", weights, "--bits", 4])[0] == 0
    assert _run(capsys, ["compress", weights, "--bits", 5])[0] == 0  # its own file: no --force needed
    mine = tmp_path / "mine.bin"
    mine.write_bytes(b"precious")
    code, _, err = _run(capsys, ["compress", weights, "--bits", 4, "-o", mine])
    assert code == 2 and "not written by the workbench" in err and mine.read_bytes() == b"precious"
    assert _run(capsys, ["compress", weights, "--bits", 4, "-o", mine, "--force"])[0] == 0


def test_decompress_refuses_to_overwrite_without_force(tmp_path, weights, capsys):
    _run(capsys, ["compress", weights, "--bits", 4])
    code, _, err = _run(capsys, ["decompress", tmp_path / "W.wbz"])  # default output W.npy: the user's weights
    assert code == 2 and "exists and was not written by the workbench" in err and "--force" in err
    assert np.load(weights).dtype == np.float32
    assert _run(capsys, ["decompress", tmp_path / "W.wbz", "--force"])[0] == 0


def test_a_failed_write_leaves_no_partial_output(tmp_path, weights, capsys, monkeypatch):
    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    try:
        code = main(["compress", str(weights), "--bits", "8"])
    except OSError as exc:  # a write error may surface as the OSError itself or as one line, exit 2
        assert "disk full" in str(exc)
    else:
        assert code == 2 and "disk full" in capsys.readouterr().err
    assert [f for f in os.listdir(tmp_path) if not f.startswith(".workbench-manifest")] == ["W.npy"]


def test_an_empty_array_with_a_huge_side_round_trips(tmp_path, capsys):
    np.save(tmp_path / "w.npy", np.zeros((0, 10**12), np.float32))  # before: compressed, then "needs 931 GiB"
    assert _run(capsys, ["compress", tmp_path / "w.npy", "--bits", 8])[0] == 0
    assert _run(capsys, ["decompress", tmp_path / "w.wbz", "-o", tmp_path / "back.npy"])[0] == 0
    back = np.load(tmp_path / "back.npy")
    assert back.shape == (0, 10**12) and back.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.longdouble])
@pytest.mark.parametrize(("bits", "constant"), [(4, False), (12, False), (8, True)])
def test_compress_and_decompress_share_one_memory_check(tmp_path, capsys, monkeypatch, dtype, bits, constant):
    n = 20_000
    w = np.full(n, 0.5, dtype) if constant else np.random.default_rng(bits).standard_normal(n).astype(dtype)
    np.save(tmp_path / "w.npy", w)
    limit = restoring_bytes(n, dtype, bits)  # what both commands count for these weights
    monkeypatch.setattr(checks, "memory_limit", lambda: limit)
    assert _run(capsys, ["compress", tmp_path / "w.npy", "--bits", bits])[0] == 0
    assert _run(capsys, ["decompress", tmp_path / "w.wbz", "-o", tmp_path / "back.npy"])[0] == 0
    monkeypatch.setattr(checks, "memory_limit", lambda: limit - 1)  # a byte less: both refuse, in one line each
    for argv, message in [(["compress", tmp_path / "w.npy", "--bits", bits, "-o", tmp_path / "x.wbz"], "compressing"),
                          (["decompress", tmp_path / "w.wbz", "-o", tmp_path / "x.npy"], "restoring")]:
        code, out, err = _run(capsys, argv)
        assert code == 2 and out == "" and err.count("\n") == 1 and message in err and "more than the" in err, err
    assert not (tmp_path / "x.wbz").exists() and not (tmp_path / "x.npy").exists()


def _decompress_peak(tmp_path, capsys, w: np.ndarray) -> int:
    """Peak traced bytes of ``workbench decompress`` restoring ``w`` (compressed to 8 bits), after
    checking it writes exactly the bytes ``np.save`` would."""
    np.save(tmp_path / "w.npy", w)
    assert _run(capsys, ["compress", tmp_path / "w.npy", "--bits", 8, "-o", tmp_path / "w.wbz"])[0] == 0
    (tmp_path / "back.npy").unlink(missing_ok=True)
    tracemalloc.start()
    try:
        assert _run(capsys, ["decompress", tmp_path / "w.wbz", "-o", tmp_path / "back.npy", "--force"])[0] == 0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    q, lo, step = quantize(w, 8)
    expected = io.BytesIO()
    np.save(expected, dequantize(q, lo, step, w.dtype))
    assert (tmp_path / "back.npy").read_bytes() == expected.getvalue()
    return peak


@pytest.mark.parametrize("constant", [True, False])
def test_decompress_writes_np_saves_bytes_with_one_copy_of_the_output(tmp_path, capsys, constant):
    rng = np.random.default_rng(0)
    peaks = {}
    for n in (1_000_000, 3_000_000):  # the growth per weight: fixed costs (the manifest's reads) cancel
        w = np.full(n, 0.25, np.float32) if constant else rng.standard_normal(n).astype(np.float32)
        peaks[n] = _decompress_peak(tmp_path, capsys, w)
    per_weight = (peaks[3_000_000] - peaks[1_000_000]) / 2_000_000
    # a constant: the output once (before: np.full, np.save into a BytesIO, getvalue: 12 bytes); otherwise within
    # what the memory check counts (the output, codes, ranks or the float64 work array)
    assert per_weight < (4.4 if constant else restoring_bytes(1, np.float32, 8)), per_weight


def test_running_out_of_memory_is_one_line_and_writes_nothing(tmp_path, weights, capsys, monkeypatch):
    assert _run(capsys, ["compress", weights, "--bits", 8])[0] == 0

    def exhausted(*args):
        raise MemoryError

    monkeypatch.setattr(cli_files, "_npy_buffer", exhausted)
    code, out, err = _run(capsys, ["decompress", tmp_path / "W.wbz", "-o", tmp_path / "back.npy"])
    assert code == 2 and out == "" and err.count("\n") == 1 and "ran out of memory" in err
    monkeypatch.setattr(cli_files, "compress_weights", exhausted)
    code, out, err = _run(capsys, ["compress", weights, "--bits", 8, "-o", tmp_path / "again.wbz"])
    assert code == 2 and out == "" and err.count("\n") == 1 and "ran out of memory" in err
    assert sorted(f for f in os.listdir(tmp_path) if not f.startswith(".")) == ["W.npy", "W.wbz"]


def test_the_commands_work_on_a_real_file_from_the_shell(tmp_path, weights):
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    run = [sys.executable, "-m", "workbench"]
    proc = subprocess.run([*run, "compress", str(weights), "--bits", "8", "-o", str(tmp_path / "c.wbz")],
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([*run, "decompress", str(tmp_path / "c.wbz"), "-o", str(tmp_path / "d.npy")],
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    q, lo, step = quantize(np.load(weights), 8)
    assert np.array_equal(np.load(io.BytesIO((tmp_path / "d.npy").read_bytes())), dequantize(q, lo, step, np.float32))
    proc = subprocess.run([*run, "decompress", str(weights)], capture_output=True, text=True, timeout=120, env=env, check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1


# --- the benchmark, at a tiny size -------------------------------------------------------------------

def test_the_coding_benchmark_reports_every_number_at_a_tiny_size():
    import math
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from benchmarks import coding as bench

    report = bench.run(bench.Size(n=5000, repeats=1))
    assert report["area"] == "coding" and report["workbench"]["round_trip"]
    assert all(peer["round_trip"] for peer in report["peers"].values())
    assert report["workbench"]["bits_per_symbol"] == report["workbench"]["ideal_bits_per_symbol"]
    for row in report["rows"]:
        assert set(row) == {"benchmark", "value", "unit", "target", "ok"}
        assert math.isfinite(row["value"]) and row["value"] > 0
    assert bench.QUICK.n < bench.FULL.n == 10_000_000
