"""The outcome of verifying a claim at one parameter point."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from proofs.mathtext import to_text

from .faces import face

__all__ = ["STATUSES", "Verdict"]

STATUSES = ("pass", "fail", "inconclusive")


@dataclass(frozen=True)
class Verdict:
    """Expected value (closed form) against the estimate, with how sharp the check was.

    ``status`` is ``"pass"``, ``"fail"`` (the closed form is rejected) or ``"inconclusive"``: not
    rejected, but the run could not have rejected a wrong closed form, so it certifies nothing (its
    resolution is worse than its target after the budget cap, or not small against the quantity
    itself, or a diagnostic distrusts its standard error; the notes say which). ``passed`` is
    ``status == "pass"``.

    ``resolution``: the smallest deviation of the closed form (relative to the expected
    value, or absolute when ``scale == "absolute"``) this run would have detected, with
    probability >= 0.99 for statistical claims and with certainty for exact ones.
    ``tolerance`` is the floating-point allowance (the whole tolerance of an exact check,
    the floor under a statistical one).
    """

    id: str
    kind: str
    parameters: dict[str, Any]
    expected: float
    estimate: float
    stderr: float
    z: float
    status: str
    resolution: float
    scale: str
    tolerance: float
    alpha: float
    replicates: int
    backend: str
    dtype: str
    seed: int
    seconds: float
    target_resolution: float | None = None
    reference: str = ""
    mutated: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)
    sweep: tuple[dict[str, Any], ...] = ()  # asymptotic claims: (x, estimate, stderr, replicates, tolerance) per point
    fit: dict[str, Any] | None = None  # asymptotic claims: the fitted expansion (workbench.asymptotics.Fit)
    scaling: dict[str, Any] | None = None  # a claim's scaling law: fitted exponent, stderr, derived value, passed

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status={self.status!r} is not one of {', '.join(STATUSES)}")

    @property
    def passed(self) -> bool:
        """The closed form is verified: ``status == "pass"``."""
        return self.status == "pass"

    @property
    def deviation(self) -> float:
        return self.estimate - self.expected

    @property
    def notes_text(self) -> tuple[str, ...]:
        """The notes as readable Unicode (``notes`` are text with inline ``$...$`` math, for LaTeX)."""
        return tuple(to_text(n) for n in self.notes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the keys of ``workbench verify --json`` (non-finite z becomes None)."""
        return {
            "id": self.id,
            "parameters": dict(self.parameters),
            "expected": self.expected,
            "estimate": self.estimate,
            "stderr": self.stderr,
            "resolution": self.resolution,
            "status": self.status,
            "passed": self.passed,
            "backend": self.backend,
            "seed": self.seed,
            "seconds": self.seconds,
            "kind": self.kind,
            "scale": self.scale,
            "z": self.z if math.isfinite(self.z) else None,
            "tolerance": self.tolerance,
            "alpha": self.alpha,
            "replicates": self.replicates,
            "dtype": self.dtype,
            "target_resolution": self.target_resolution,
            "reference": self.reference,
            "mutated": self.mutated,
            "notes": list(self.notes_text),
            **({"sweep": [dict(p) for p in self.sweep], "fit": dict(self.fit)} if self.fit is not None else {}),
            **({"scaling": {k: v for k, v in self.scaling.items() if k != "note"}} if self.scaling is not None else {}),
        }

    def __str__(self) -> str:
        return face("verdict_text")(self)

    def _repr_latex_(self) -> str:
        return face("verdict_latex")(self)
