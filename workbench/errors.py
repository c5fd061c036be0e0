"""Errors that mean *bad input*, not a bug.

Every validation of the workbench (a parameter's domain, a run setting, a grid, an output path)
raises one of these. They are ordinary ``ValueError``/``TypeError`` subclasses for Python code,
and the command line reports exactly these as one line on stderr with exit status 2; any other
exception is a bug and keeps its traceback.
"""

from __future__ import annotations

__all__ = ["InputError", "DomainError", "InputTypeError"]


class InputError(Exception):
    """Base of the errors that reject a user's input."""


class DomainError(InputError, ValueError):
    """A value outside its domain (``K=0 is outside the domain: integer >= 2``)."""


class InputTypeError(InputError, TypeError):
    """A value of the wrong type, or a name that is not a parameter."""
