"""Argument checks shared by the kernels: one clear error naming the argument and its domain."""

from __future__ import annotations

import numbers
from typing import Any

__all__ = ["integer"]


def integer(name: str, value: Any, low: int = 1) -> int:
    """``value`` as an int ``>= low`` (bool refused): ``TypeError``/``ValueError`` naming ``name`` otherwise.

    >>> integer("N", 3)
    3
    >>> integer("N", 0)
    Traceback (most recent call last):
    ...
    ValueError: N=0 is outside the domain: integer >= 1
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}={value!r} must be an integer >= {low}")
    if value < low:
        raise ValueError(f"{name}={value!r} is outside the domain: integer >= {low}")
    return int(value)
