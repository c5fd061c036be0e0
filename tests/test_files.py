"""Output files: ownership from the manifest (never from a file's text), atomic writes that leave
nothing behind on a full disk or a killed process, and stale temporary files cleaned by the next run."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from workbench import manifest
from workbench.cli import main
from workbench.files import MARKER, OutputError, atomic_write, check_target, owned


def _listing(path: Path) -> list[str]:
    return sorted(os.listdir(path))


# -- ownership ---------------------------------------------------------------------------------------

def test_a_file_mentioning_the_marker_is_not_the_workbenchs(tmp_path, capsys):
    paper = tmp_path / "paper.tex"
    paper.write_text(f"% my paper; the tables are {MARKER} but this file is mine\n\\documentclass{{article}}\n")
    before = paper.read_bytes()
    assert main(["latex", "xent.margin", "-o", str(paper), "--no-figures"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "was not written by the workbench" in err[0] and "--force" in err[0]
    assert paper.read_bytes() == before


def test_the_workbench_overwrites_its_own_file_but_not_once_it_is_edited(tmp_path, capsys):
    out = tmp_path / "claims.tex"
    assert main(["latex", "xent.margin", "-o", str(out), "--no-figures"]) == 0
    assert owned(out) and owned(tmp_path / "claims.bib")
    assert main(["latex", "xent.margin", "-o", str(out), "--no-figures"]) == 0  # its own: rewritten
    with open(out, "a") as f:
        f.write("% a referee's comment\n")
    assert not owned(out)
    assert main(["latex", "xent.margin", "-o", str(out), "--no-figures"]) == 2
    assert "was not written by the workbench (or was changed since)" in capsys.readouterr().err
    assert out.read_text().endswith("% a referee's comment\n")
    assert main(["latex", "xent.margin", "-o", str(out), "--no-figures", "--force"]) == 0
    assert owned(out)


def test_a_copied_file_is_not_owned_in_its_new_directory(tmp_path):
    atomic_write(tmp_path / "a" / "fig.pdf", b"%PDF made by the workbench")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "fig.pdf").write_bytes((tmp_path / "a" / "fig.pdf").read_bytes())
    assert owned(tmp_path / "a" / "fig.pdf") and not owned(tmp_path / "b" / "fig.pdf")
    with pytest.raises(OutputError, match="not written by the workbench"):
        check_target(tmp_path / "b" / "fig.pdf")


def test_decompress_overwrites_its_own_npy_only(tmp_path, capsys):
    np.save(tmp_path / "w.npy", np.linspace(-1, 1, 50, dtype=np.float32))
    assert main(["compress", str(tmp_path / "w.npy"), "--bits", "4"]) == 0
    out = tmp_path / "back.npy"
    assert main(["decompress", str(tmp_path / "w.wbz"), "-o", str(out)]) == 0
    assert main(["decompress", str(tmp_path / "w.wbz"), "-o", str(out)]) == 0  # its own output
    assert main(["decompress", str(tmp_path / "w.wbz"), "-o", str(tmp_path / "w.npy")]) == 2  # the user's input
    assert "was not written by the workbench" in capsys.readouterr().err


@pytest.mark.parametrize("content", [
    b"not json", b"[]", b'{"format": "workbench manifest", "version": 1, "files": {"x": {"sha256": "00", "bytes": 1}}}',
    b'{"format": "workbench manifest", "version": 1, "files": {"../x": {"sha256": "' + b"0" * 64 + b'", "bytes": 1}}}',
    b"[" * 100_000, b'{"format": "workbench manifest", "version": 2, "files": {}}',
])
def test_a_manifest_that_is_not_ours_owns_nothing_and_is_never_overwritten(tmp_path, content):
    (tmp_path / manifest.NAME).write_bytes(content)
    (tmp_path / "x").write_bytes(b"x")
    assert not owned(tmp_path / "x")
    with pytest.raises(OutputError, match="is not a workbench manifest"):
        check_target(tmp_path / "new.tex")
    with pytest.raises(OutputError, match="is not a workbench manifest"):
        atomic_write(tmp_path / "new.tex", "text")
    assert (tmp_path / manifest.NAME).read_bytes() == content
    assert _listing(tmp_path) == sorted([manifest.NAME, "x"])  # no file lands without its manifest entry


def test_a_fifo_named_like_the_manifest_does_not_block(tmp_path):
    os.mkfifo(tmp_path / manifest.NAME)
    with pytest.raises(OutputError, match="is not a workbench manifest"):
        check_target(tmp_path / "out.tex")


def test_the_manifest_lists_what_was_written_with_its_hash(tmp_path):
    atomic_write(tmp_path / "one.txt", "1")
    atomic_write(tmp_path / "two.txt", b"22")
    atomic_write(tmp_path / "store.json", "{}", own=False)  # a store entry: checked by its own checksum
    entries = json.loads((tmp_path / manifest.NAME).read_text())["files"]
    assert set(entries) == {"one.txt", "two.txt"} and entries["two.txt"]["bytes"] == 2
    assert entries["one.txt"]["sha256"] == manifest.digest(b"1")


def test_parallel_writers_lose_no_manifest_entry(tmp_path):
    code = textwrap.dedent(f"""
        import sys
        from workbench.files import atomic_write
        for i in range(20):
            atomic_write({str(tmp_path)!r} + f"/w{{sys.argv[1]}}-{{i}}.txt", str(i))
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code, str(k)]) for k in range(4)]
    assert all(p.wait(timeout=60) == 0 for p in procs)
    assert len(json.loads((tmp_path / manifest.NAME).read_text())["files"]) == 80


# -- a full disk, and other OSErrors ------------------------------------------------------------------

def _full_disk(monkeypatch):
    def fsync(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(manifest.os, "fsync", fsync)


@pytest.mark.parametrize("argv", [
    ["plot", "xent.margin", "-o", "{d}/m.png"],
    ["latex", "xent", "-o", "{d}/p.tex"],
    ["latex", "xent.margin", "-o", "{d}/p.tex", "--no-figures"],
    ["derive", "xent.margin", "--graph", "-o", "{d}/g.svg"],
    ["compress", "{d}/../w.npy", "--bits", "4", "-o", "{d}/w.wbz"],
    ["decompress", "{d}/../w.wbz", "-o", "{d}/w.npy"],
])
def test_a_full_disk_gives_one_line_and_leaves_nothing(tmp_path, monkeypatch, capsys, argv):
    np.save(tmp_path / "w.npy", np.linspace(-1, 1, 50, dtype=np.float32))
    assert main(["compress", str(tmp_path / "w.npy"), "--bits", "4"]) == 0
    out = tmp_path / "out"
    out.mkdir()
    capsys.readouterr()
    _full_disk(monkeypatch)
    assert main([a.format(d=out) for a in argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("workbench: error: cannot write") and "No space left on device" in err[0]
    assert _listing(out) == []


def _mount_tmpfs(path: Path, size: str) -> bool:
    if sys.platform != "linux" or os.geteuid() != 0:
        return False
    path.mkdir()
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True).returncode == 0


def test_a_really_full_filesystem(tmp_path, capsys):
    """The same on a real 64 KiB tmpfs (where root may mount one; elsewhere the injected error above covers it)."""
    small = tmp_path / "small"
    if not _mount_tmpfs(small, "64k"):
        pytest.skip("mounting a tmpfs needs root on Linux")
    try:
        np.save(tmp_path / "w.npy", np.random.default_rng(0).standard_normal(100_000).astype(np.float32))
        assert main(["compress", str(tmp_path / "w.npy"), "--bits", "8", "-o", str(small / "w.wbz")]) == 2
        assert main(["latex", "xent", "-o", str(small / "p.tex")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 2 and all("No space left on device" in line for line in err)
        assert _listing(small) == []
    finally:
        subprocess.run(["umount", str(small)], check=False)


def test_a_read_only_directory_is_refused_before_work(tmp_path, capsys):
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only directories")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    assert main(["plot", "xent.margin", "-o", str(ro / "m.png")]) == 2
    assert "not writable" in capsys.readouterr().err


# -- temporary files ------------------------------------------------------------------------------------

def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_stale_temporary_files_of_a_dead_workbench_are_removed_by_the_next_write(tmp_path):
    dead = _dead_pid()
    stale = [tmp_path / f".m.png.wb{dead}.abcd1234.tmp", tmp_path / f".other.tex.wb{dead}.x_y_z_00.tmp"]
    for s in stale:
        s.write_bytes(b"half a file")
    build = tmp_path / f".workbench-latex-{dead}-q1w2e3r4"
    build.mkdir()
    (build / "claims.aux").write_text("")
    alive = tmp_path / f".m.png.wb{os.getppid()}.abcd1234.tmp"  # a running process's write in progress
    alive.write_bytes(b"")
    users = [tmp_path / ".m.png.tmp", tmp_path / "notes.wb1.tmp", tmp_path / f".x.wb{dead}.tmp.bak",
             tmp_path / f".notes.wb{dead}.draft.tmp", tmp_path / f".notes.wb{dead}.Abcd1234.tmp"]  # not mkstemp's names
    for u in users:
        u.write_bytes(b"the user's")
    mine = tmp_path / f".workbench-latex-{dead}-mine"  # a user's folder named like ours, but not as mkdtemp names
    mine.mkdir()
    (mine / "thesis.tex").write_text("my thesis")
    atomic_write(tmp_path / "m.png", b"png")
    assert _listing(tmp_path) == sorted([manifest.NAME, "m.png", alive.name, mine.name, *(u.name for u in users)])
    assert (mine / "thesis.tex").read_text() == "my thesis"


def test_a_killed_compress_leaves_a_temporary_file_that_the_next_run_removes(tmp_path):
    np.save(tmp_path / "w.npy", np.random.default_rng(1).standard_normal(3_000_000).astype(np.float32))
    code = textwrap.dedent("""
        import os, sys, time
        from workbench import manifest
        from workbench.cli import main
        real = manifest.os.fsync
        def slow(fd):
            print("writing", flush=True)
            time.sleep(60)
            real(fd)
        manifest.os.fsync = slow
        sys.exit(main(sys.argv[1:]))
    """)
    target = tmp_path / "w.wbz"
    proc = subprocess.Popen([sys.executable, "-c", code, "compress", str(tmp_path / "w.npy"), "--bits", "8", "-o",
                             str(target)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    left = [p for p in _listing(tmp_path) if p.endswith(".tmp")]
    assert len(left) == 1 and left[0].startswith(".w.wbz.wb") and not target.exists()
    assert main(["compress", str(tmp_path / "w.npy"), "--bits", "8", "-o", str(target)]) == 0
    assert _listing(tmp_path) == sorted([manifest.NAME, "w.npy", "w.wbz"])


def test_an_interrupted_write_removes_its_temporary_file(tmp_path, monkeypatch):
    def interrupted(fd):
        raise KeyboardInterrupt
    monkeypatch.setattr(manifest.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(tmp_path / "x.tex", "text")
    assert _listing(tmp_path) == []



# -- the sweep store reads files from disk: validated before they are trusted --------------------------

@pytest.mark.parametrize("make", [
    lambda p: p.write_bytes(b"[" * 200_000),  # nesting deeper than the parser's recursion
    lambda p: p.write_bytes(b" " * ((1 << 22) + 1)),  # larger than any entry
    lambda p: p.write_bytes(b"\xff\xfe not utf-8"),
    lambda p: os.mkfifo(p),  # would block a read
    lambda p: p.mkdir(),
])
def test_a_hostile_store_entry_is_treated_as_corrupt(tmp_path, make):
    from workbench.store import Store

    store, key = Store(tmp_path), {"claim": "xent.margin", "point": 1}
    path = store.path(key)
    path.parent.mkdir(parents=True)
    make(path)
    assert store.load(key) == (None, True)


def test_a_file_is_never_in_place_without_its_manifest_entry(tmp_path, monkeypatch):
    """The manifest entry is made before the rename: a manifest that cannot be written (a full disk) leaves
    the target as it was, and a rename that fails after the entry puts the previous entry back."""
    target = atomic_write(tmp_path / "a.tex", "first")
    real_record, real_replace = manifest.record, manifest.os.replace

    def no_space(path, data=None):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(manifest, "record", no_space)
    for name in ("a.tex", "b.tex"):
        with pytest.raises(OutputError, match="No space left on device"):
            atomic_write(tmp_path / name, "second")
    assert _listing(tmp_path) == [manifest.NAME, "a.tex"]
    assert target.read_text() == "first" and owned(target)

    monkeypatch.setattr(manifest, "record", real_record)

    def refuse_targets(src, dst):
        if Path(dst).name == manifest.NAME:
            return real_replace(src, dst)
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(manifest.os, "replace", refuse_targets)
    with pytest.raises(OutputError, match="Input/output error"):
        atomic_write(target, "third")
    assert target.read_text() == "first" and owned(target)
    assert _listing(tmp_path) == [manifest.NAME, "a.tex"]
