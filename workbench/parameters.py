"""Typed parameters that describe themselves: name, symbol, domain, default, the range
worth exploring, a Hypothesis strategy, and parsing from CLI text.

Errors name the parameter and its domain, e.g. ``K=0 is outside the domain: integer >= 2``.
A value of the wrong type is a ``TypeError``; a value outside the domain a ``ValueError``.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from proofs import latex_number, latex_text
from proofs.mathtext import check as check_text

from .errors import DomainError, InputTypeError

__all__ = ["Parameter", "integer", "real", "choice"]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def _shown(value: object) -> str:
    """``repr(value)``, shortened when it is long (an integer of 400 digits)."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:12]}...({len(text)} characters)"


def _array() -> Any:
    import numpy as np

    return np.array([1, 2])


def _same(choice: Any, value: Any) -> bool:
    """Is ``value`` the choice ``choice``: a string equal to it, or an integer (not a bool, an array
    or a float) equal to it? Never compares in a way that could raise or broadcast."""
    if isinstance(choice, str):
        return isinstance(value, str) and value == choice
    if isinstance(value, bool) or isinstance(choice, bool):
        return value is choice
    if isinstance(choice, numbers.Integral):
        return isinstance(value, numbers.Integral) and int(value) == choice
    if isinstance(choice, numbers.Real):
        try:
            return isinstance(value, numbers.Real) and float(value) == float(choice)
        except OverflowError:
            return False
    return type(value) is type(choice) and value is choice


def _fmt(x: float | int) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


@dataclass(frozen=True)
class Parameter:
    """One parameter of a claim.

    ``kind`` is ``"integer"``, ``"real"`` or ``"choice"``. The domain is
    ``[low, high]`` (``None`` for unbounded, ``open_low`` / ``open_high`` for strict
    bounds) or, for a choice, ``choices``. ``typical`` is the range property tests
    draw from (defaults to the domain, clipped to finite floats).
    """

    name: str
    kind: str
    default: Any
    doc: str
    latex: str = ""
    low: float | int | None = None
    high: float | int | None = None
    open_low: bool = False
    open_high: bool = False
    choices: tuple = ()
    typical: tuple | None = None
    codes: tuple = ()  # a choice's integer codes in the closed form (activation "tanh" -> 4)
    setting: bool = False  # how the check is computed (a method), not part of the mathematics
    assumptions: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"parameter name {self.name!r} must be an identifier")
        check_text(self.doc)  # text with inline $math$ (proofs.mathtext)
        if self.kind not in ("integer", "real", "choice"):
            raise ValueError(f"parameter kind {self.kind!r} must be integer, real or choice")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"choice parameter {self.name!r} needs choices")
        if self.codes and len(self.codes) != len(self.choices):
            raise ValueError(f"choice parameter {self.name!r} needs one code per choice")
        self.validate(self.default)

    # -- description -------------------------------------------------------------
    @property
    def symbol(self) -> sp.Symbol:
        """The SymPy symbol the derivations use for this parameter (matched by name)."""
        return sp.Symbol(self.name, **self.assumptions)

    @property
    def tex(self) -> str:
        """The symbol in LaTeX: the declared one, else SymPy's (``rho`` -> ``\\rho``); a plain word is set upright
        (``\\mathrm{width}``, not the italic product w i d t h)."""
        if self.latex:
            return self.latex
        shown = sp.latex(sp.Symbol(self.name))
        return rf"\mathrm{{{shown}}}" if shown.isalpha() and len(shown) > 1 else shown

    @property
    def domain(self) -> str:
        """The domain in words, as error messages and docs print it."""
        if self.kind == "choice":
            return "one of " + ", ".join(str(c) for c in self.choices)
        what = "integer" if self.kind == "integer" else "finite real"
        if self.low is not None and self.high is not None:
            left = "<" if self.open_low else "<="
            right = "<" if self.open_high else "<="
            return f"{what} with {_fmt(self.low)} {left} {self.name} {right} {_fmt(self.high)}"
        if self.low is not None:
            return f"{what} {'>' if self.open_low else '>='} {_fmt(self.low)}"
        if self.high is not None:
            return f"{what} {'<' if self.open_high else '<='} {_fmt(self.high)}"
        return what

    @property
    def domain_latex(self) -> str:
        r"""The domain in LaTeX math: ``K \in \{2, 3, \dots, 10^{6}\}``, ``0 < s \le 100``."""
        sym = self.tex
        if self.kind == "choice":
            items = ", ".join(latex_number(c) if isinstance(c, (int, float)) else rf"\texttt{{{latex_text(c)}}}" for c in self.choices)
            return rf"{sym} \in \{{{items}\}}"
        if self.kind == "integer":
            if self.low is None:
                return rf"{sym} \in \mathbb{{Z}}" + (rf", {sym} \le {latex_number(self.high)}" if self.high is not None else "")
            if self.high is not None and self.high - self.low <= 3:  # a short range, listed: {1, 2, 3}
                return rf"{sym} \in \{{{', '.join(latex_number(k) for k in range(int(self.low), int(self.high) + 1))}\}}"
            first = f"{latex_number(self.low)}, {latex_number(self.low + 1)}"
            last = rf", \dots, {latex_number(self.high)}" if self.high is not None else r", \dots"
            return rf"{sym} \in \{{{first}{last}\}}"
        lt, le = "<", r"\le"
        left = f"{latex_number(float(self.low))} {lt if self.open_low else le} " if self.low is not None else ""
        right = f" {lt if self.open_high else le} {latex_number(float(self.high))}" if self.high is not None else ""
        if not left and not right:
            return rf"{sym} \in \mathbb{{R}}"
        return f"{left}{sym}{right}"

    def symbolic(self, value: Any) -> Any:
        """The value as the closed form sees it: a choice's code, else the value itself."""
        return self.codes[self.choices.index(value)] if self.codes else value

    # -- checking ----------------------------------------------------------------
    def validate(self, value: Any, shown: str | None = None) -> Any:
        """Return ``value`` (ints as ``int``, reals as ``float``) or raise TypeError/ValueError; the
        message shows ``value`` as given (or as ``shown``, the text it was parsed from)."""
        shown = _shown(value) if shown is None else shown
        outside = f"{self.name}={shown} is outside the domain: {self.domain}"
        if self.kind == "choice":
            matches = [c for c in self.choices if _same(c, value)]
            if not matches:
                raise DomainError(outside)
            return matches[0]
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            what = "an integer" if self.kind == "integer" else "a number"
            raise InputTypeError(f"{self.name}={shown} must be {what} ({self.domain})")
        if self.kind == "integer":
            if not isinstance(value, numbers.Integral):
                raise InputTypeError(f"{self.name}={shown} must be an integer ({self.domain})")
            value = int(value)
        else:
            try:
                value = float(value)
            except OverflowError:  # an integer beyond float64's range (m=10**400)
                raise DomainError(outside) from None
            if not math.isfinite(value):
                raise DomainError(outside)
        if self.low is not None and (value < self.low or (self.open_low and value == self.low)):
            raise DomainError(outside)
        if self.high is not None and (value > self.high or (self.open_high and value == self.high)):
            raise DomainError(outside)
        return value

    def parse(self, text: str) -> Any:
        """Parse CLI text with a typed parser (never ``eval``), then validate."""
        raw = text.strip()
        if self.kind == "integer" or (self.kind == "choice" and all(isinstance(c, int) for c in self.choices)):
            try:
                value: Any = int(raw, 10)
            except ValueError:
                raise DomainError(f"{self.name}={text!r} is not an integer ({self.domain})") from None
        elif self.kind == "real":
            try:
                value = float(raw)
            except ValueError:
                raise DomainError(f"{self.name}={text!r} is not a real number ({self.domain})") from None
        else:
            matches = [c for c in self.choices if str(c) == raw]
            if not matches:
                raise DomainError(f"{self.name}={text!r} is outside the domain: {self.domain}")
            value = matches[0]
        return self.validate(value, raw)

    # -- property testing -------------------------------------------------------------
    def strategy(self):
        """A Hypothesis strategy over the typical range (Hypothesis is a test extra)."""
        from hypothesis import strategies as st

        if self.kind == "choice":
            return st.sampled_from(self.typical or self.choices)
        lo, hi = self.typical or (self.low, self.high)
        if self.kind == "integer":
            return st.integers(min_value=lo, max_value=hi)
        return st.floats(
            min_value=lo,
            max_value=hi,
            exclude_min=self.open_low and lo == self.low,
            exclude_max=self.open_high and hi == self.high,
            allow_nan=False,
            allow_infinity=False,
        )

    def invalid_examples(self) -> list[Any]:
        """Values just outside the domain (and of the wrong type), for error tests."""
        # values that cannot become the parameter's type: text, nothing, containers, complex numbers,
        # arrays (whose comparisons broadcast), bytes
        bad: list[Any] = ["1", None, [1, 2], {"a": 1}, complex(1, 1), b"1", _array()]
        if self.kind == "choice":
            return bad + [object(), True]
        if self.low is not None:
            bad.append(self.low if self.open_low else self.low - (1 if self.kind == "integer" else 1e-9 * max(1, abs(self.low))))
        if self.high is not None:
            bad.append(self.high if self.open_high else self.high + (1 if self.kind == "integer" else 1e-9 * max(1, abs(self.high))))
        if self.kind == "integer":
            bad += [2.5, True]
        else:
            bad += [math.nan, math.inf, -math.inf, 10**400, -(10**400)]
        return bad


def integer(name: str, default: int, doc: str, *, low: int | None = None, high: int | None = None, typical=None, latex: str = "") -> Parameter:
    """An integer parameter, symbol with ``integer=True`` (and ``positive`` when low >= 1)."""
    assumptions = {"integer": True}
    if low is not None and low >= 1:
        assumptions["positive"] = True
    return Parameter(name, "integer", default, doc, latex, low, high, typical=typical, assumptions=assumptions)


def real(
    name: str,
    default: float,
    doc: str,
    *,
    low: float | None = None,
    high: float | None = None,
    open_low: bool = False,
    open_high: bool = False,
    typical=None,
    latex: str = "",
) -> Parameter:
    """A finite real parameter, symbol with ``real=True`` (and ``positive`` when low > 0 or low = 0 open)."""
    assumptions = {"real": True}
    if low is not None and (low > 0 or (low == 0 and open_low)):
        assumptions["positive"] = True
    return Parameter(name, "real", float(default), doc, latex, low, high, open_low, open_high, typical=typical, assumptions=assumptions)


def choice(
    name: str, choices: tuple, default: Any, doc: str, *, latex: str = "", assumptions=None, typical=None, codes=(),
    setting: bool = False,
) -> Parameter:
    """One of ``choices``. ``typical`` (a subset) is what property tests draw; ``codes`` are
    the integers that stand for the choices in a closed form (for choices that are names);
    a ``setting`` chooses how a check is computed and is left out of the theorem."""
    return Parameter(
        name, "choice", default, doc, latex, choices=tuple(choices), typical=tuple(typical) if typical else None,
        assumptions=assumptions or ({"integer": True, "positive": True} if codes else {}), codes=tuple(codes),
        setting=setting,
    )
