"""Writing output files safely: atomically, and never over a file the workbench did not write.

Every file the workbench writes carries :data:`MARKER` (a LaTeX or BibTeX comment, or the
PDF/PNG/SVG metadata of a figure). :func:`check_target` refuses an existing file without
it unless ``force`` is given, and refuses a directory that cannot be written to, before
any work starts (a missing directory is created when the file is written); :func:`atomic_write` writes a temporary file beside the
target and renames it into place, so a crash never leaves half a file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import DomainError

__all__ = ["MARKER", "OutputError", "check_target", "atomic_write", "owned"]

MARKER = "workbench-generated"


class OutputError(DomainError):
    """An output path that cannot or may not be written (one line, CLI exit 2)."""


def owned(path: Path) -> bool:
    """Was ``path`` written by the workbench (does it carry the marker)?"""
    try:
        with open(path, "rb") as f:
            return MARKER.encode() in f.read()
    except OSError:
        return False


def check_target(path: str | os.PathLike, *, force: bool = False) -> Path:
    """Validate an output path before any work: its directory (or, where that does not
    exist yet, the nearest existing one above it, which :func:`atomic_write` will create
    under) is a writable directory, and an existing file there is one the workbench wrote
    (or ``force``). Returns the path."""
    path = Path(path).expanduser()
    if not path.name or path.name in (".", ".."):
        raise OutputError(f"output path {str(path)!r} names no file")
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
    if path.exists() or path.is_symlink():
        if not path.is_file():
            raise OutputError(f"cannot write {path}: it exists and is not a regular file")
        if not force and not owned(path):
            raise OutputError(f"{path} exists and was not written by the workbench; overwrite it with --force (force=True in Python)")
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same directory and a rename."""
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
