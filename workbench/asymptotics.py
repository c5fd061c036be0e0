r"""Asymptotic claims: a limit, reached by extrapolating a sweep of the limiting parameter.

A result that holds only as :math:`x \to \infty` (width, sample size) or :math:`x \to 0`
(a step size) is checked by measuring it at several values :math:`x_1, \dots, x_J` and
fitting the known form of the approach,

.. math::

    f(x) = a + \sum_{k=1}^{K} b_k\, x^{-k p} \qquad (x \to \infty;\ x^{+k p} \text{ for } x \to 0),

by weighted least squares with the estimates' standard errors as weights. The limit
:math:`a` is then an estimate like any other: a linear combination
:math:`\hat a = \sum_j c_j \hat f(x_j)`, with standard error
:math:`\sqrt{\sum_j c_j^2 s_j^2}` and floating-point floor :math:`\sum_j |c_j|\, t_j`. The
fit's :math:`\chi^2` on :math:`J - K - 1` degrees of freedom tests the assumed form: a sweep
that is not yet in the asymptotic regime, or a wrong correction order, is rejected rather
than extrapolated. With ``order=None`` the order :math:`p` of a single correction is fitted
too (non-linear least squares; its standard error is the linearised one).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

__all__ = ["Fit", "Limit", "extrapolation_weights", "fit"]

_DIRECTIONS = ("infinity", "zero")


@dataclass(frozen=True)
class Limit:
    """How an asymptotic claim reaches its limit: ``name -> infinity`` (or ``zero``).

    - ``name``: the limiting parameter (not one of the claim's parameters: the verifier sweeps it);
    - ``sweep``: the values it is measured at (at least ``terms + 2``, so the fit can be tested);
    - ``order``: the known order :math:`p` of the leading correction, or ``None`` to fit it;
    - ``terms``: how many correction terms :math:`x^{-p}, x^{-2p}, \\dots` the fit carries.
    """

    name: str
    sweep: tuple[float, ...]
    order: float | None = 1.0
    terms: int = 1
    towards: str = "infinity"
    description: str = ""
    latex: str | None = None
    integer: bool = True

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"limit parameter name {self.name!r} must be an identifier")
        if self.towards not in _DIRECTIONS:
            raise ValueError(f"limit {self.name}: towards={self.towards!r} is not one of {', '.join(_DIRECTIONS)}")
        if isinstance(self.terms, bool) or not isinstance(self.terms, int) or self.terms < 1:
            raise ValueError(f"limit {self.name}: terms={self.terms!r} must be an integer >= 1")
        if self.order is not None and not (isinstance(self.order, (int, float)) and self.order > 0):
            raise ValueError(f"limit {self.name}: order={self.order!r} must be a positive number or None (fitted)")
        if self.order is None and self.terms != 1:
            raise ValueError(f"limit {self.name}: a fitted order (order=None) takes exactly one correction term")
        sweep = tuple(self.sweep)
        if self.integer:
            bad = [x for x in sweep if isinstance(x, bool) or not float(x).is_integer()]
            if bad:
                raise ValueError(f"limit {self.name}: sweep values must be integers, got {bad}")
            sweep = tuple(int(x) for x in sweep)
        else:
            sweep = tuple(float(x) for x in sweep)
        if any(not math.isfinite(x) or x <= 0 for x in sweep):
            raise ValueError(f"limit {self.name}: sweep values must be finite and positive, got {list(sweep)}")
        if len(set(sweep)) != len(sweep):
            raise ValueError(f"limit {self.name}: sweep values must be distinct, got {list(sweep)}")
        need = self.fitted + 1
        if len(sweep) < need:
            raise ValueError(
                f"limit {self.name}: a sweep of {len(sweep)} values cannot test a fit of {self.fitted} "
                f"parameters; give at least {need}"
            )
        object.__setattr__(self, "sweep", tuple(sorted(sweep)))

    @property
    def fitted(self) -> int:
        """Fitted parameters: the limit, the corrections, and the order when it is fitted."""
        return 1 + self.terms + (self.order is None)

    @property
    def tex(self) -> str:
        return self.latex or self.name

    def scale(self, x) -> np.ndarray:
        """The small quantity of the expansion: ``x^-1`` towards infinity, ``x`` towards zero."""
        x = np.asarray(x, dtype=float)
        return 1.0 / x if self.towards == "infinity" else x

    def correction_text(self, k: int, order: float) -> str:
        """The k-th correction's power of the swept variable as text: ``n^-1``, ``n^-(2/3)``."""
        sign = "-" if self.towards == "infinity" else ""
        p = _power(k * order)
        return f"{self.name}^{sign}{p}" if p.isdigit() else f"{self.name}^{sign}({p})"

    def correction_latex(self, k: int, order: float) -> str:
        """The k-th correction's power of the swept variable in LaTeX: ``N^{-1}``, ``n^{-2/3}``,
        ``(\\log t)^{-1}``."""
        sign = "-" if self.towards == "infinity" else ""
        base = f"({self.tex})" if " " in self.tex.strip() else self.tex
        return f"{base}^{{{sign}{_power(k * order)}}}"


def _power(x: float) -> str:
    """A correction's power as the fraction it is (derived orders are ratios of small integers: 1, 1/2, 2/3); a
    fitted order, which is none of them, to three digits."""
    p = Fraction(x).limit_denominator(12)
    return str(p) if abs(p - Fraction(x)) <= 1e-9 * max(1.0, abs(x)) else f"{x:.3g}"


@dataclass(frozen=True)
class Fit:
    """The fitted expansion: limit, corrections (with standard errors), and the fit's test."""

    limit: float
    stderr: float
    floor: float
    corrections: tuple[float, ...]
    correction_stderrs: tuple[float, ...]
    order: float
    order_stderr: float | None
    chi2: float
    dof: int
    p_value: float
    weights: tuple[float, ...] = field(default_factory=tuple)
    correction_floors: tuple[float, ...] = field(default_factory=tuple)  # each correction's floating-point floor

    def curve(self, limit: Limit, x) -> np.ndarray:
        """The fitted f(x) at ``x``."""
        h = limit.scale(x)
        return np.asarray(self.limit + sum(b * h ** ((k + 1) * self.order) for k, b in enumerate(self.corrections)))

    def to_dict(self) -> dict:
        return {
            "limit": self.limit,
            "stderr": self.stderr,
            "corrections": list(self.corrections),
            "correction_stderrs": list(self.correction_stderrs),
            "order": self.order,
            "order_stderr": self.order_stderr,
            "chi2": self.chi2,
            "dof": self.dof,
            "p_value": self.p_value,
        }


def _design(limit: Limit, xs, order: float) -> np.ndarray:
    h = limit.scale(xs)
    return np.stack([h ** (k * order) for k in range(limit.terms + 1)], axis=1)


def extrapolation_weights(limit: Limit, xs: Sequence[float] | np.ndarray, stderrs: Sequence[float] | np.ndarray | None = None) -> np.ndarray:
    """The coefficients c_j of the fitted limit, a = sum_j c_j f_j (weighted by 1/s_j^2 when given)."""
    a = _design(limit, xs, limit.order if limit.order is not None else 1.0)
    w = np.ones(len(xs)) if stderrs is None else 1.0 / np.asarray(stderrs, dtype=float) ** 2
    aw = a * w[:, None]
    return np.linalg.solve(a.T @ aw, aw.T)[0]


def fit(limit: Limit, xs: Sequence[float] | np.ndarray, values: Sequence[float] | np.ndarray, stderrs: Sequence[float] | np.ndarray,
        floors: Sequence[float] | np.ndarray | None = None) -> Fit:
    """Weighted least-squares fit of the expansion to the sweep (standard errors must be positive)."""
    from scipy.stats import chi2 as chi2_dist

    xs = np.asarray(xs, dtype=float)
    y = np.asarray(values, dtype=float)
    s = np.asarray(stderrs, dtype=float)
    t = np.zeros_like(y) if floors is None else np.asarray(floors, dtype=float)
    if np.any(~np.isfinite(s)) or np.any(s <= 0):
        raise ValueError("every point of an asymptotic sweep needs a positive, finite standard error")
    if limit.order is None:
        return _fit_order(limit, xs, y, s, t)
    a = _design(limit, xs, limit.order)
    w = 1.0 / s**2
    cov = np.linalg.inv(a.T @ (a * w[:, None]))
    weights = cov @ (a * w[:, None]).T
    coef = weights @ y
    resid = (y - a @ coef) / s
    chi2 = float(resid @ resid)
    dof = len(xs) - limit.fitted
    return Fit(
        limit=float(coef[0]),
        stderr=float(math.sqrt(cov[0, 0])),
        floor=float(np.abs(weights[0]) @ t),
        corrections=tuple(float(b) for b in coef[1:]),
        correction_stderrs=tuple(float(math.sqrt(cov[k, k])) for k in range(1, len(coef))),
        order=float(limit.order),
        order_stderr=None,
        chi2=chi2,
        dof=dof,
        p_value=float(chi2_dist.sf(chi2, dof)),
        weights=tuple(float(c) for c in weights[0]),
        correction_floors=tuple(float(np.abs(weights[k]) @ t) for k in range(1, len(coef))),
    )


def _fit_order(limit: Limit, xs: np.ndarray, y: np.ndarray, s: np.ndarray, t: np.ndarray) -> Fit:
    """a + b h^p with p fitted (scipy's curve_fit, absolute sigma); linearised errors."""
    from scipy.optimize import curve_fit
    from scipy.stats import chi2 as chi2_dist

    h = limit.scale(xs)

    def model(hh, a, b, p):
        return a + b * hh**p

    start = Limit(limit.name, limit.sweep, 1.0, 1, limit.towards, integer=limit.integer)
    first = fit(start, xs, y, s)
    try:
        coef, cov = curve_fit(model, h, y, p0=(first.limit, first.corrections[0], 1.0), sigma=s, absolute_sigma=True,
                              bounds=([-np.inf, -np.inf, 0.05], [np.inf, np.inf, 8.0]), maxfev=20_000)
    except RuntimeError as err:  # no convergence: the sweep does not look like a power law
        raise ValueError(f"the sweep of {limit.name} does not fit a + b {limit.name}^-p: {err}") from err
    resid = (y - model(h, *coef)) / s
    chi2 = float(resid @ resid)
    dof = len(xs) - limit.fitted
    # the limit's sensitivity to each point (linearised), for the floor and the figure
    jac = np.stack([np.ones_like(h), h ** coef[2], coef[1] * h ** coef[2] * np.log(h)], axis=1)
    w = 1.0 / s**2
    lin = np.linalg.pinv(jac.T @ (jac * w[:, None])) @ (jac * w[:, None]).T
    return Fit(
        limit=float(coef[0]),
        stderr=float(math.sqrt(cov[0, 0])),
        floor=float(np.abs(lin[0]) @ t),
        corrections=(float(coef[1]),),
        correction_stderrs=(float(math.sqrt(cov[1, 1])),),
        order=float(coef[2]),
        order_stderr=float(math.sqrt(cov[2, 2])),
        chi2=chi2,
        dof=dof,
        p_value=float(chi2_dist.sf(chi2, dof)),
        weights=tuple(float(c) for c in lin[0]),
        correction_floors=(float(np.abs(lin[1]) @ t),),
    )
