"""``workbench info``: what this machine gives the workbench.

Versions of the workbench and the libraries it stands on, which array backends are usable
(and, for CuPy, which of its two failures stops it), the GPU's name and memory where one
is usable, NumPy's BLAS with its threads, the cores verification may use, and whether
LaTeX is there for ``workbench latex --pdf``.
"""

from __future__ import annotations

import platform
import sys
from importlib import metadata
from typing import Any

from numerics import BackendUnavailable, backend

from ._version import __version__
from .export import LatexUnavailable, latex_tools
from .settings import available_cores

__all__ = ["info", "info_text"]

LIBRARIES = ("numpy", "scipy", "sympy", "mpmath", "matplotlib", "rich", "threadpoolctl", "array-api-compat",
             "hypothesis", "cupy", "cupy-cuda12x", "torch", "array-api-strict", "dask", "distributed", "pandas")


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _backends() -> dict[str, dict[str, Any]]:

    out: dict[str, dict[str, Any]] = {}
    for name in ("numpy", "cupy", "torch", "array-api-strict"):
        try:
            b = backend(name)
        except BackendUnavailable as exc:
            out[name] = {"usable": False, "why": str(exc)}
            continue
        entry: dict[str, Any] = {"usable": True, "device": b.device}
        if name == "cupy":
            free, total = b.xp.cuda.runtime.memGetInfo()
            entry.update(memory_total_gib=round(total / 2**30, 2), memory_free_gib=round(free / 2**30, 2))
        if name == "torch" and b.device.startswith("cuda"):
            import torch

            free, total = torch.cuda.mem_get_info()
            entry.update(memory_total_gib=round(total / 2**30, 2), memory_free_gib=round(free / 2**30, 2))
        out[name] = entry
    out["auto"] = {"usable": True, "chooses": "cupy" if out["cupy"]["usable"] else "numpy"}
    return out


def _blas() -> list[dict[str, Any]]:
    import numpy  # noqa: F401  (load NumPy's BLAS so threadpoolctl sees it)
    from threadpoolctl import threadpool_info

    return [
        {"library": p.get("internal_api"), "version": p.get("version"), "threads": p.get("num_threads"),
         "architecture": p.get("architecture")}
        for p in threadpool_info() if p.get("user_api") == "blas"
    ]


def _latex() -> dict[str, Any]:

    try:
        return {"usable": True, "compiler": latex_tools()}
    except LatexUnavailable as exc:
        return {"usable": False, "why": str(exc)}


def info() -> dict[str, Any]:
    """Everything ``workbench info`` prints, as a JSON-ready dict."""

    return {
        "workbench": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "libraries": {name: v for name in LIBRARIES if (v := _version(name)) is not None},
        "backends": _backends(),
        "blas": _blas(),
        "cores": available_cores(),
        "latex": _latex(),
    }


def info_text(d: dict[str, Any]) -> str:
    """``info()`` as lines for a terminal."""
    lines = [f"workbench {d['workbench']} on Python {d['python']} ({d['platform']})", "libraries:"]
    lines += [f"  {name} {version}" for name, version in d["libraries"].items()]
    lines.append("backends:")
    for name, b in d["backends"].items():
        if name == "auto":
            lines.append(f"  auto: chooses {b['chooses']}")
        elif b["usable"]:
            memory = f", {b['memory_total_gib']} GiB ({b['memory_free_gib']} free)" if "memory_total_gib" in b else ""
            lines.append(f"  {name}: usable ({b['device']}{memory})")
        else:
            lines.append(f"  {name}: not usable: {b['why']}")
    blas = ", ".join(f"{b['library']} {b['version']} ({b['threads']} threads, {b['architecture']})" for b in d["blas"])
    lines.append(f"BLAS: {blas or 'none found'}")
    lines.append(f"cores available: {d['cores']} (workbench verify --jobs defaults to all)")
    latex = d["latex"]
    lines.append(f"LaTeX: {latex['compiler']}" if latex["usable"] else f"LaTeX: not usable: {latex['why']}")
    return "\n".join(lines)
