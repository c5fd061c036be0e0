"""Faces: how the plain data of the core (a :class:`~workbench.Claim`, a :class:`~workbench.Verdict`)
is shown, registered by the layers that draw and print them.

The core imports nothing above it. ``str(claim)``, ``claim._repr_latex_()`` and ``claim.figure()``
look their renderer up here by name; :mod:`workbench.printing` and :mod:`workbench.figures`
register theirs when ``import workbench`` loads them (the same pattern as
:func:`proofs.derivation.register_face` for a derivation's graph).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["provide", "face", "NAMES"]

NAMES = ("claim_text", "claim_latex", "verdict_text", "verdict_latex", "figure")

_FACES: dict[str, Callable[..., Any]] = {}


def provide(name: str, renderer: Callable[..., Any]) -> None:
    """Register ``renderer`` as the face ``name`` (one of :data:`NAMES`)."""
    if name not in NAMES:
        raise ValueError(f"face name={name!r} is not one of {', '.join(NAMES)}")
    _FACES[name] = renderer


def face(name: str) -> Callable[..., Any]:
    """The renderer registered as ``name``."""
    try:
        return _FACES[name]
    except KeyError:
        raise LookupError(f"no {name} renderer is registered: import workbench first") from None
