"""The registry of claims: checks before it stores, looks up with suggestions.

The built-in claims are registered by :mod:`workbench.catalog`, which ``import workbench`` loads.
"""

from __future__ import annotations

import difflib

from .claim_type import Claim
from .errors import DomainError, InputTypeError

__all__ = ["register", "claims", "claim", "select", "UnknownClaim"]

_REGISTRY: dict[str, Claim] = {}


class UnknownClaim(DomainError):
    """An id that names no registered claim (nor an area)."""


def register(c: Claim) -> Claim:
    """Add ``c``; a second claim with the same id is refused."""
    if not isinstance(c, Claim):
        raise TypeError(f"register() takes a Claim, not {type(c).__name__}")
    if c.id in _REGISTRY:
        raise ValueError(f"a claim with id {c.id!r} is already registered")
    _REGISTRY[c.id] = c
    return c


def claims(area: str | None = None) -> list[Claim]:
    """All registered claims (of one ``area``), in registration order."""
    return [c for c in _REGISTRY.values() if area is None or c.area == area]


def claim(claim_id: str) -> Claim:
    """The claim with this id; an unknown id raises with the closest ids suggested."""
    if not isinstance(claim_id, str):
        raise InputTypeError(f"a claim id is a string like 'xent.margin', not {type(claim_id).__name__}")
    try:
        return _REGISTRY[claim_id]
    except KeyError:
        raise UnknownClaim(_unknown_message(claim_id)) from None


def select(names: list[str] | tuple[str, ...] | None) -> list[Claim]:
    """Claims named by ids or whole areas (``xent``); all claims when ``names`` is empty."""
    if not names:
        return claims()
    chosen: dict[str, Claim] = {}
    for name in names:
        if name in _REGISTRY:
            chosen.setdefault(name, _REGISTRY[name])
        elif any(c.area == name for c in _REGISTRY.values()):
            for c in claims(name):
                chosen.setdefault(c.id, c)
        else:
            raise UnknownClaim(_unknown_message(name))
    return list(chosen.values())


def _unknown_message(name: str) -> str:
    known = list(_REGISTRY) + sorted({c.area for c in _REGISTRY.values()})
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; known claims: {', '.join(_REGISTRY)}"
    return f"unknown claim {name!r}{hint}"
