"""Writing output files safely: atomically, and never over a file the workbench did not write.

The workbench knows which files it wrote from the manifest it keeps beside them
(:mod:`workbench.manifest`: each file's name, size and SHA-256). :func:`check_target` refuses
an existing file the manifest does not list with its present hash (one the workbench did not
write, or one edited since) unless ``force`` is given, and refuses a directory that cannot be
written to, before any work starts (a missing directory is created when the file is written).
:func:`atomic_write` writes a temporary file beside the target, flushes it, renames it into
place and records it in the manifest, so a crash never leaves half a file; an ``OSError`` on the
way (a full disk, a read-only or vanished directory) removes the temporary file and becomes one
:class:`OutputError` line. Temporary files that a killed workbench left behind are removed by the
next write into their directory.

Files also carry :data:`MARKER` in their text or metadata (a LaTeX comment, a PDF's creator) to
tell a reader where they came from; ownership never rests on it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from . import manifest
from .errors import DomainError

__all__ = ["MARKER", "OutputError", "check_target", "atomic_write", "owned", "install", "remove_written",
           "write_error"]

MARKER = "workbench-generated"


class OutputError(DomainError):
    """An output path that cannot or may not be written (one line, CLI exit 2)."""


def write_error(path: str | os.PathLike, exc: OSError) -> OutputError:
    """The one-line error of an ``OSError`` met while writing ``path`` (``No space left on device``)."""
    return OutputError(f"cannot write {path}: {exc.strerror or exc}")


def owned(path: str | os.PathLike) -> bool:
    """Was ``path`` written by the workbench, and is it unchanged since (its manifest says so)?"""
    return manifest.owned(Path(path))


def check_target(path: str | os.PathLike, *, force: bool = False) -> Path:
    """Validate an output path before any work: its directory (or, where that does not
    exist yet, the nearest existing one above it, which :func:`atomic_write` will create
    under) is a writable directory, and an existing file there is one the workbench wrote
    and nobody has changed since (or ``force``). Returns the path."""
    path = Path(path).expanduser()
    if not path.name or path.name in (".", ".."):
        raise OutputError(f"output path {str(path)!r} names no file")
    if path.name == manifest.NAME:
        raise OutputError(f"cannot write {path}: the workbench keeps its manifest of written files under that name")
    parent = path.parent
    while not parent.exists() and not parent.is_symlink() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"cannot write {path}: {parent} is not a directory")
    try:
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as exc:
        raise OutputError(f"cannot write {path}: directory {parent} is not writable ({exc.strerror})") from None
    if parent == path.parent:
        try:
            manifest.check_manifest(parent)
        except manifest.ManifestError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    if path.exists() or path.is_symlink():
        if not path.is_file():
            raise OutputError(f"cannot write {path}: it exists and is not a regular file")
        if not force and not owned(path):
            raise OutputError(f"{path} exists and was not written by the workbench (or was changed since); "
                              "overwrite it with --force (force=True in Python)")
    return path


def atomic_write(path: str | os.PathLike, data: str | bytes, *, own: bool = True) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same directory and a rename; with
    ``own`` (the default) record it in the directory's manifest as the workbench's, before the rename,
    so a file is never in place without its entry. Raises :class:`OutputError` (one line) on an
    ``OSError``, with nothing left behind."""
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    undo: list[Callable[[], None]] = []
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        manifest.clean_stale(path.parent)
        manifest.replace_atomically(path, payload, (lambda: undo.append(manifest.claim(path, payload))) if own else None)
    except BaseException as exc:
        if undo and not _holds(path, payload):
            undo[0]()
        if isinstance(exc, OSError):
            raise write_error(path, exc) from None
        raise
    return path


def install(source: str | os.PathLike, path: str | os.PathLike, *, shown: str | os.PathLike | None = None) -> Path:
    """Move a file the workbench made elsewhere (a compiled PDF) to ``path`` and record it, the entry
    made before the rename as in :func:`atomic_write`; an error names ``shown`` (the path as the user
    gave it) where given."""
    source, path = Path(source), Path(path)
    undo: list[Callable[[], None]] = []
    try:
        data = source.read_bytes()
        undo.append(manifest.claim(path, data))
        os.replace(source, path)
    except BaseException as exc:
        if undo and not _holds(path, data):
            undo[0]()
        if isinstance(exc, OSError):
            raise write_error(shown if shown is not None else path, exc) from None
        raise
    return path


def _holds(path: Path, data: bytes) -> bool:
    """Does ``path`` hold exactly ``data`` (the rename happened before an interrupt)?"""
    try:
        return path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def remove_written(path: str | os.PathLike) -> None:
    """Remove a file the workbench wrote (a stale figure) and its manifest entry."""
    path = Path(path)
    try:
        path.unlink(missing_ok=True)
        manifest.forget(path)
    except OSError as exc:
        raise write_error(path, exc) from None
