"""Symbolic derivations, every step checked by SymPy or openly cited.

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
    recurrence,
    equal,
    equal_by_cases,
    equal_entrywise,
    relation,
    solutions,
    substitute,
)
from .printing import Notation, latex_expr, latex_number, latex_text
from .sources import Source

__all__ = [
    "Derivation",
    "Notation",
    "DerivationError",
    "Source",
    "Step",
    "StepNotChecked",
    "cite",
    "critical_set",
    "define",
    "equal",
    "equal_by_cases",
    "equal_entrywise",
    "latex_expr",
    "latex_number",
    "latex_text",
    "recurrence",
    "relation",
    "solutions",
    "substitute",
]
