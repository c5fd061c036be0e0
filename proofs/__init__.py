"""Symbolic derivations: proofs whose steps name their premises, each checked by SymPy or
openly cited.

This layer imports SymPy only (never NumPy or CuPy). One module per area of theory
(``proofs.cross_entropy``, ...), each exposing ``derive_*`` functions that return a
:class:`Derivation` ending in the claim's closed form.
"""

from .checks import StepNotChecked
from .derivation import (
    Derivation,
    DerivationError,
    Step,
    cite,
    critical_set,
    define,
    equal,
    equal_by_cases,
    equal_entrywise,
    hypothesis,
    recurrence,
    relation,
    solutions,
    substitute,
)
from .operators import Expectation, Gradient, Hessian, MaxEigenvalue, MinEigenvalue
from .printing import Notation, latex_expr, latex_number, latex_text
from .sources import Source

__all__ = [
    "Derivation",
    "DerivationError",
    "Expectation",
    "Gradient",
    "Hessian",
    "MaxEigenvalue",
    "MinEigenvalue",
    "Notation",
    "Source",
    "Step",
    "StepNotChecked",
    "cite",
    "critical_set",
    "define",
    "equal",
    "equal_by_cases",
    "equal_entrywise",
    "hypothesis",
    "latex_expr",
    "latex_number",
    "latex_text",
    "recurrence",
    "relation",
    "solutions",
    "substitute",
]
