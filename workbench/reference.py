"""The expected value of a claim: its closed form evaluated at the parameters, rigorously.

The closed form is lambdified (only expressions the workbench built, never user text)
into mpmath's interval context and evaluated at increasing precision until the
enclosing interval is narrower than 1e-30 relative, or lies entirely below 1e-340 in
magnitude (beneath anything float64 can hold). So ``log(1 + exp(m))`` at ``m = -300``
is not silently rounded to 0 the way a fixed 50-digit evaluation would round it.
"""

from __future__ import annotations

import builtins
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import mpmath
import sympy as sp
from mpmath import iv

__all__ = ["reference_value", "ReferenceError"]

_RELATIVE = mpmath.mpf("1e-30")
_NEGLIGIBLE = mpmath.mpf("1e-340")
_PRECISIONS = (40, 80, 160, 320, 700, 1400, 3000)


class ReferenceError(ValueError):
    """The closed form cannot be evaluated to reference accuracy at this point."""


def _interval_namespace() -> dict[str, Any]:
    names = {n for n in dir(iv) if not n.startswith("_")}
    space = {n: getattr(iv, n) for n in names}
    # lambdify writes Floats as mpf((sign, man, exp, bc)) tuples, which iv.mpf refuses
    space.update({"mpf": lambda x: iv.mpf(mpmath.mpf(x)), "pi": iv.pi, "E": iv.e})
    return space


@lru_cache(maxsize=256)
def _compile(expr: sp.Basic, symbols: tuple[sp.Symbol, ...]):
    return sp.lambdify(symbols, expr, modules=[_interval_namespace(), "mpmath"])


@lru_cache(maxsize=256)
def _outside_intervals(f) -> bool:
    """Whether the compiled closed form calls a function mpmath's interval context lacks."""
    inside = _interval_namespace()
    return any(name not in inside and not hasattr(builtins, name) for name in f.__code__.co_names)


def _interval_arg(value: Any) -> Any:
    """Integers stay exact Python ints (so Piecewise conditions like ``n == 1`` work);
    reals become point intervals holding the float's exact binary value."""
    return value if isinstance(value, int) else iv.mpf(value)


def _quadrature(expr: sp.Basic, values: dict[str, Any], how: str = "mpmath quadrature") -> tuple[mpmath.mpf, str]:
    return _evalf(expr, how, str(values))


@lru_cache(maxsize=128)
def _integral(integral: sp.Integral) -> sp.Float:
    """One definite integral to 50 digits (cached: a mutated closed form reuses it)."""
    return integral.evalf(50, maxn=400, strict=True)


def _evalf(expr: sp.Basic, how: str, values: str) -> tuple[mpmath.mpf, str]:
    """A closed form that keeps an integral with no elementary antiderivative (such as
    E[tanh(z)^2]), or a function mpmath's interval arithmetic cannot enclose (erf): SymPy's
    evalf at 50 digits (mpmath quadrature and series), which checks its own error estimate
    (an estimate, not an enclosure, and the verdict says so)."""
    try:
        expr = expr.xreplace({i: _integral(i) for i in expr.atoms(sp.Integral)})
        value = expr.evalf(50, maxn=400, strict=True)
    except (sp.core.evalf.PrecisionExhausted, ValueError, TypeError) as exc:
        raise ReferenceError(f"the closed form {expr} could not be integrated to 50 digits at {values}: {exc}") from None
    if not value.is_Number:
        raise ReferenceError(f"the closed form {expr} did not evaluate to a number at {values}")
    return mpmath.mpf(sp.Float(value, 50)._mpf_), f"{how}, 50 digits (error estimate)"


@contextmanager
def _interval_digits(dps: int):
    """mpmath's interval context has no workdps; set and restore its precision."""
    saved = iv.prec
    iv.dps = dps
    try:
        yield
    finally:
        iv.prec = saved


def reference_value(expr: sp.Basic, values: dict[str, Any]) -> tuple[mpmath.mpf, str]:
    """Evaluate ``expr`` with its free symbols (matched by name) set to ``values``.

    Returns the midpoint of the final enclosure and a short description of how it was
    obtained.

    >>> m = sp.Symbol("m", real=True)
    >>> v, how = reference_value(sp.log(1 + sp.exp(m)), {"m": -300.0})
    >>> float(v), how
    (5.148200222412013e-131, 'interval arithmetic, 160 digits')
    """
    symbols = tuple(sorted(expr.free_symbols, key=lambda s: s.name))
    missing = [s.name for s in symbols if s.name not in values]
    if missing:
        raise ReferenceError(f"the closed form needs values for {', '.join(missing)}")
    if all(isinstance(values[s.name], int) for s in symbols):  # integers only: try exact rationals first
        exact = expr.subs({s: values[s.name] for s in symbols})
        if exact.is_Rational:
            return mpmath.mpf(exact.p) / exact.q, "exact rational arithmetic"
        if exact.is_number and expr.has(sp.binomial, sp.factorial):  # functions mpmath intervals lack
            return _quadrature(exact, values, "SymPy evalf")
    if expr.has(sp.Integral):
        concrete = expr.subs({s: values[s.name] for s in symbols})
        if concrete.has(sp.Integral):
            return _quadrature(concrete, values)
    f = _compile(expr, symbols)
    if _outside_intervals(f):  # e.g. polygamma: mpmath would evaluate it at 53 bits inside the interval
        return _quadrature(expr.subs({s: values[s.name] for s in symbols}), values, "SymPy evalf")
    for dps in _PRECISIONS:
        with _interval_digits(dps):
            args = [_interval_arg(values[s.name]) for s in symbols]
            try:
                r = f(*args)
            except mpmath.libmp.libhyper.NoConvergence:  # a function mpmath's intervals cannot enclose (erf)
                return _quadrature(expr.subs({s: values[s.name] for s in symbols}), values, "SymPy evalf")
            except (TypeError, ValueError, ZeroDivisionError, AttributeError) as exc:
                raise ReferenceError(f"the closed form {expr} cannot be evaluated at {values}: {exc}") from exc
            r = iv.mpf(r) if not isinstance(r, type(iv.mpf(0))) else r
            lo, hi = mpmath.mpf(r.a), mpmath.mpf(r.b)
        if not (mpmath.isfinite(lo) and mpmath.isfinite(hi)):
            continue
        mid = (lo + hi) / 2
        width = hi - lo
        if width <= _RELATIVE * abs(mid) or max(abs(lo), abs(hi)) < _NEGLIGIBLE:
            return mid, f"interval arithmetic, {dps} digits"
    raise ReferenceError(
        f"the closed form {expr} could not be enclosed to 30 digits at {values} (up to {_PRECISIONS[-1]} digits)"
    )
