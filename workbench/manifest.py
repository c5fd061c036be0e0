"""Which files the workbench wrote: a manifest beside them, and the temporary files of its writes.

Every directory the workbench writes an output into holds :data:`NAME`, a small JSON file listing
each file the workbench wrote there with its size and SHA-256. A file is the workbench's own
(:func:`owned`) only when the manifest beside it lists its name with the hash of its bytes now, so
a file the workbench did not write, or one edited since, is never taken for its own, whatever
its text says. The manifest is read like any file from disk: bounded in size, parsed as JSON,
and checked field by field before it is trusted; one that is not a workbench manifest owns
nothing and is never overwritten (:func:`check_manifest`). Updates are read-modify-write under
an exclusive lock on the directory (``flock``, so worker processes writing figures side by side
do not lose each other's entries) and land by an atomic rename.

The workbench's temporary files are named ``.<target>.wb<pid>.<random>.tmp`` (and LaTeX build
directories ``.workbench-latex-<pid>-<random>``): a process killed mid-write (SIGKILL, a power
cut) leaves one behind, and the next write into that directory removes those whose process is
gone (:func:`clean_stale`). A process that is still running keeps its files.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["NAME", "ManifestError", "check_manifest", "clean_stale", "digest", "forget", "owned", "record",
           "replace_atomically", "temp_prefix"]

NAME = ".workbench-manifest.json"
FORMAT = "workbench manifest"
VERSION = 1
MAX_BYTES = 1 << 24  # a manifest of 16 MiB lists ~100,000 files: more is not one of ours
_HEX = re.compile(r"^[0-9a-f]{64}$")
# exactly the names tempfile.mkstemp/mkdtemp give with our prefixes (8 characters from its alphabet), so a
# user's own ``.notes.wb99.draft.tmp`` or ``.workbench-latex-1-mine`` is never taken for ours
_STALE = re.compile(r"^\..+\.wb(\d+)\.[a-z0-9_]{8}\.tmp$|^\.workbench-latex-(\d+)-[a-z0-9_]{8}$")


class ManifestError(OSError):
    """A manifest file that is not one the workbench wrote (callers turn it into a one-line error)."""


# -- temporary files ---------------------------------------------------------------------------------

def temp_prefix(name: str) -> str:
    """The prefix of a temporary file written on the way to ``name`` by this process."""
    return f".{name}.wb{os.getpid()}."


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0  # another user's process (or a pid this OS cannot take): keep its files
    return True


def clean_stale(directory: Path) -> list[Path]:
    """Remove the temporary files and LaTeX build directories in ``directory`` that a workbench
    process left behind and that process no longer runs; returns what was removed."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        m = _STALE.match(entry.name)
        if m is None or _alive(int(m.group(1) or m.group(2))):
            continue
        path = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
        except OSError:
            pass  # gone already, or not ours to remove: leave it
    return removed


def replace_atomically(path: Path, payload: bytes, before_rename: Callable[[], None] | None = None) -> None:
    """Write ``payload`` to a temporary file beside ``path``, flush it to disk, call ``before_rename``
    (the manifest entry is made while the target is still untouched) and rename it into place; on any
    failure (a full disk, a signal turned into an exception) the temporary file is removed."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=temp_prefix(path.name), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        if before_rename is not None:
            before_rename()
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# -- the manifest --------------------------------------------------------------------------------------

def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_digest(path: Path, size: int) -> str | None:
    """SHA-256 of the file at ``path`` if it still has ``size`` bytes, else None."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            if os.fstat(f.fileno()).st_size != size:
                return None
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


def _read(directory: Path) -> dict[str, dict[str, Any]] | None:
    """The entries of the manifest in ``directory``: {} when there is none, None when the file there
    is not a workbench manifest (too large, not JSON, not the format, a malformed entry)."""
    path = directory / NAME
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return {}
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_BYTES:  # a FIFO would block a read; a huge file is not ours
        return None
    try:
        with open(path, "rb") as f:
            text = f.read(min(st.st_size, MAX_BYTES) + 1)  # not MAX_BYTES: read(n) reserves n bytes at once
    except OSError:
        return None
    try:
        data = json.loads(text.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    if not (isinstance(data, dict) and data.get("format") == FORMAT and data.get("version") == VERSION
            and isinstance(data.get("files"), dict)):
        return None
    files = data["files"]
    for name, entry in files.items():
        if not (isinstance(entry, dict) and set(entry) == {"sha256", "bytes"} and isinstance(entry["sha256"], str)
                and _HEX.match(entry["sha256"]) and type(entry["bytes"]) is int and entry["bytes"] >= 0
                and name and "/" not in name and name not in (".", "..")):
            return None
    return files


def check_manifest(directory: Path) -> None:
    """Raise ManifestError when ``directory`` holds a file named like the manifest that is not one."""
    if _read(directory) is None:
        raise ManifestError(errno.EEXIST, f"{directory / NAME} is not a workbench manifest; move it away to write here")


def owned(path: Path) -> bool:
    """Did the workbench write ``path``, and is it unchanged since (the manifest lists its hash)?"""
    path = Path(path)
    files = _read(path.parent)
    entry = (files or {}).get(path.name)
    if entry is None or not path.is_file():
        return False
    return _file_digest(path, entry["bytes"]) == entry["sha256"]


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """An exclusive lock on ``directory`` for a manifest update (flock where the OS has it)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: updates from parallel processes may race; each stays whole
        yield
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _update(directory: Path, change: dict[str, dict[str, Any] | None]) -> None:
    with _locked(directory):
        files = _read(directory)
        if files is None:
            raise ManifestError(errno.EEXIST, f"{directory / NAME} is not a workbench manifest; move it away to write here")
        for name, entry in change.items():
            if entry is None:
                files.pop(name, None)
            else:
                files[name] = entry
        if not files:  # nothing left to vouch for: no manifest
            (directory / NAME).unlink(missing_ok=True)
            return
        text = json.dumps({"format": FORMAT, "version": VERSION,
                           "note": "files the workbench wrote here, with their SHA-256; it overwrites only these",
                           "files": dict(sorted(files.items()))}, indent=1)
        replace_atomically(directory / NAME, (text + "\n").encode("utf-8"))


def record(path: Path, data: bytes | None = None) -> None:
    """Enter ``path`` (just written, with bytes ``data`` if known) in the manifest beside it."""
    path = Path(path)
    if data is None:
        data = path.read_bytes()
    _update(path.parent, {path.name: {"sha256": digest(data), "bytes": len(data)}})


def entry(path: Path) -> dict[str, Any] | None:
    """The manifest entry of ``path`` as it stands (None where there is none)."""
    return (_read(Path(path).parent) or {}).get(Path(path).name)


def claim(path: Path, data: bytes) -> Callable[[], None]:
    """Enter ``path`` in the manifest with the hash of ``data`` before the file is put in place; returns
    the undo, which puts the previous entry back (for a rename that then fails, or an interrupt)."""
    path = Path(path)
    previous = entry(path)
    record(path, data)

    def undo() -> None:
        try:
            _update(path.parent, {path.name: previous})
        except OSError:
            pass  # the entry names content that is not there: the file reads as not ours, which is safe

    return undo


def forget(path: Path) -> None:
    """Drop ``path`` from the manifest beside it (the workbench removed the file)."""
    path = Path(path)
    if (path.parent / NAME).exists():
        _update(path.parent, {path.name: None})
