"""A sweep's grid: named axes of parameter values, each value validated by its parameter.

``{"fan_in": [64, 128], "depth": range(2, 11, 4)}`` from Python, or the CLI's text
``fan_in=64,128`` and ``depth=2:11:4`` (Python's range, the stop excluded).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .claim_type import Claim
from .errors import DomainError, InputTypeError

__all__ = ["parse_grid"]


def _parse_values(c: Claim, name: str, text: str) -> list[Any]:
    p = c.parameter(name)
    text = text.strip()
    if not text:
        raise DomainError(f"grid {name}= lists no values")
    if ":" in text:
        parts = text.split(":")
        if len(parts) not in (2, 3):
            raise DomainError(f"grid {name}={text!r} must read START:STOP or START:STOP:STEP (Python's range, stop excluded)")
        if p.kind != "integer":
            raise DomainError(f"grid {name}={text!r}: ranges START:STOP:STEP are for integer parameters; list the values of "
                             f"{name} ({p.domain}) separated by commas")
        try:
            bounds = [int(s, 10) for s in parts]
        except ValueError:
            raise DomainError(f"grid {name}={text!r}: START:STOP:STEP must be integers") from None
        if len(bounds) == 3 and bounds[2] == 0:
            raise DomainError(f"grid {name}={text!r}: the step must not be zero")
        values = list(range(*bounds))
        if not values:
            raise DomainError(f"grid {name}={text!r} is an empty range (Python's range: START:STOP:STEP, stop excluded)")
        return [p.validate(v) for v in values]
    return [p.parse(item) for item in text.split(",")]


def parse_grid(c: Claim, grid: Mapping[str, Any] | Iterable[str]) -> dict[str, tuple]:
    """The grid as ``{name: (values...)}``, every value validated by its parameter.

    ``grid`` maps names to iterables of values (or to CLI text ``"64,128"``, ``"2:41:2"``), or
    is a list of CLI items ``"name=values"``. Unknown names raise TypeError naming the claim's
    parameters; malformed or out-of-domain values, repeats and empty axes raise ValueError.
    """
    if isinstance(grid, Mapping):
        items = list(grid.items())
    elif not isinstance(grid, Iterable):
        raise InputTypeError(f"grid must map parameter names to values, e.g. {{'depth': [2, 4, 8]}}, or list "
                             f"'NAME=VALUES' items, not {type(grid).__name__}")
    else:
        items = []
        for item in [grid] if isinstance(grid, str) else grid:
            name, sep, text = str(item).partition("=")
            if not sep or not name.strip():
                raise DomainError(f"--grid {item!r} must read NAME=V1,V2,... or NAME=START:STOP[:STEP]")
            items.append((name.strip(), text))
    if not items:
        raise DomainError(f"the grid is empty: give at least one parameter of {c.id} ({c.parameter_names}) to sweep")
    out: dict[str, tuple] = {}
    for name, values in items:
        if not isinstance(name, str):
            raise InputTypeError(f"grid names are parameter names (strings), not {name!r}")
        p = c.parameter(name)  # TypeError naming the claim's parameters
        if name in out:
            raise DomainError(f"grid parameter {name!r} is given twice")
        if isinstance(values, str):
            parsed = _parse_values(c, name, values)
        else:
            try:
                parsed = [p.validate(v) for v in values]
            except TypeError:
                if not isinstance(values, Iterable):
                    raise InputTypeError(f"grid {name}={values!r} must be a list or range of values") from None
                raise
            if not parsed:
                raise DomainError(f"grid {name} has no values")
        seen = set()
        for v in parsed:
            if v in seen:
                raise DomainError(f"grid {name} repeats the value {v!r}")
            seen.add(v)
        out[name] = tuple(parsed)
    return out
