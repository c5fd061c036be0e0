"""The sweep result store: one JSON file per verified grid point, reused by later sweeps.

An entry lives at ``DIR/<claim id>/<key hash>.json``. Its key holds everything the verdict
depends on: claim id and closed form (so a mutated or re-derived claim does not reuse), the resolved
parameters, the base seed and the point's own seed, backend, resolution, alpha, the replicate
cap where one is set (``max_replicates``) and the workbench version, so a new version never reads an old version's results. Each entry
carries its full key and a SHA-256 checksum of the canonical JSON of key and verdict: an
entry that is not a regular file of at most ``MAX_ENTRY`` bytes, that does not parse, whose checksum does not match, or whose key is not the one asked
for is treated as missing (recomputed and rewritten), never trusted. Entries are written
with :func:`workbench.files.atomic_write`, so an interrupted sweep leaves only whole entries.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .files import OutputError, atomic_write, check_target
from .verdict import Verdict

__all__ = ["Store", "canonical", "record", "from_record"]

FORMAT = 1
MAX_ENTRY = 1 << 22  # bytes: a verdict with its notes and sweep is a few kB; a larger file is not an entry


def canonical(obj: Any) -> str:
    """Canonical JSON: sorted keys, no spaces (non-finite floats as Python's json writes them)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def record(v: Verdict) -> dict[str, Any]:
    """A verdict as JSON-ready data (every field, tuples as lists)."""
    return json.loads(json.dumps(asdict(v)))


def from_record(data: dict[str, Any]) -> Verdict:
    """The verdict back from :func:`record` (raises KeyError/TypeError on a malformed one)."""
    data = dict(data)
    data["notes"] = tuple(data.get("notes", ()))
    data["sweep"] = tuple(dict(p) for p in data.get("sweep", ()))
    return Verdict(**data)


class Store:
    """One JSON file per result under ``root`` (see the module docstring)."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root).expanduser()

    def check(self, claim_id: str) -> None:
        """Refuse a store that cannot be written, before any work (an OutputError, one line)."""
        if self.root.exists() and not self.root.is_dir():
            raise OutputError(f"store {self.root} is not a directory")
        try:
            check_target(self.root / claim_id / ".workbench-store-probe", force=True)
        except OutputError as exc:
            raise OutputError(f"store {self.root} cannot be written: {exc}") from None

    @staticmethod
    def digest(key: dict[str, Any]) -> str:
        return hashlib.sha256(canonical(key).encode()).hexdigest()

    def path(self, key: dict[str, Any]) -> Path:
        return self.root / key["claim"] / f"{self.digest(key)[:32]}.json"

    def load(self, key: dict[str, Any]) -> tuple[Verdict | None, bool]:
        """(verdict, corrupt): the stored verdict for ``key``; ``(None, True)`` when an entry
        exists but is damaged or belongs to another key, ``(None, False)`` when there is none."""
        path = self.path(key)
        try:
            st = path.stat()
            if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_ENTRY:  # a FIFO would block, a huge file is not ours
                return None, True
            with open(path, "rb") as f:
                text = f.read(MAX_ENTRY + 1).decode("utf-8")
        except FileNotFoundError:
            return None, False
        except (OSError, UnicodeDecodeError):
            return None, True
        try:
            entry = json.loads(text)
            body = {"key": entry["key"], "verdict": entry["verdict"]}
            if entry.get("format") != FORMAT or entry["checksum"] != hashlib.sha256(canonical(body).encode()).hexdigest():
                return None, True
            if canonical(entry["key"]) != canonical(key):
                return None, True
            return from_record(entry["verdict"]), False
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return None, True

    def save(self, key: dict[str, Any], verdict: Verdict) -> Path:
        body = {"key": key, "verdict": record(verdict)}
        entry = {"format": FORMAT, **body, "checksum": hashlib.sha256(canonical(body).encode()).hexdigest()}
        return atomic_write(self.path(key), json.dumps(entry, sort_keys=True, indent=1) + "\n", own=False)
