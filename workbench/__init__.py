"""A symbolic-numeric workbench for deep learning theory.

Each result is a :class:`Claim`: derived in SymPy (every step checked or cited),
verified numerically by batched kernels with an honest statistical verdict.

>>> import workbench as wb
>>> wb.claim("xent.margin").closed_form
log((K - 1)*exp(m) + 1)
"""

from . import _launch  # noqa: F401  (first: the command line's Ctrl-C during these imports is one line)

# isort: split
from numerics import BackendUnavailable
from proofs import Derivation, Source

from . import catalog as _catalog  # noqa: F401  (registers the built-in claims)
from . import printing as _printing  # noqa: F401  (registers the text and LaTeX faces)
from . import proof_graph as _proof_graph  # noqa: F401  (registers Derivation.graph)
from ._version import __version__  # noqa: F401  (the package version)
from .asymptotics import Limit
from .claim_type import Claim, Correction, Scaling
from .execution import verify_many
from .export import latex
from .figures import areas as _figure_areas  # noqa: F401  (registers the areas' figures)
from .figures import figure
from .parameters import Parameter, choice, integer, real
from .registry import UnknownClaim, claim, claims, register
from .settings import RunSettings
from .sweeps import SweepResult, sweep
from .verdict import Verdict
from .verification import verify

__all__ = [
    "BackendUnavailable",
    "Claim",
    "Correction",
    "Derivation",
    "Limit",
    "Parameter",
    "Source",
    "RunSettings",
    "Scaling",
    "SweepResult",
    "UnknownClaim",
    "Verdict",
    "choice",
    "claim",
    "claims",
    "figure",
    "integer",
    "latex",
    "real",
    "register",
    "sweep",
    "verify",
    "verify_many",
]
