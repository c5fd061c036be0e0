"""The ``depth.product-gate`` claim: four neurons with a smooth activation, sigma''(0) != 0, multiply two numbers
with relative error c lambda^2 + O(lambda^4), c = sigma''''(0)(x^2 + y^2)/(6 sigma''(0)) (Lin, Tegmark and Rolnick
2017); trees of gates multiply n numbers with 4(n - 1) neurons."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from numerics import product_gate as kernels
from proofs import latex_number
from proofs import product_gate as derivations

from ..claim_type import Claim
from ..parameters import Parameter, choice, real
from ..registry import register

__all__ = ["LOW", "PRODUCT_GATE", "StatedDomain", "gate_constraint", "gate_remarks"]

_S = derivations
LOW = 1 / 64  # the smallest |x|, |y|: the ladder is set by |x| + |y|, and the rounding of c grows as 1/(|xy| (x^2 + y^2))
_NAMES = (*kernels.ACTIVATIONS, *kernels.REFUSED)


@dataclass(frozen=True)
class StatedDomain(Parameter):
    """A parameter whose domain, as the theorem states it (``stated``, LaTeX) and error messages name it
    (``words``), is narrower than what :meth:`Parameter.validate` accepts: ``x`` in ``[-4, 4]`` is validated,
    ``1/64 <= |x| <= 4`` is the domain, the claim's constraint refuses the rest with the reason (and the names
    tanh and sigmoid are accepted only to be refused, so the theorem does not list them)."""

    stated: str = ""
    words: str = ""

    @property
    def domain_latex(self) -> str:
        return self.stated

    @property
    def domain(self) -> str:
        return self.words


def _stated(p: Parameter, latex: str, words: str) -> StatedDomain:
    return StatedDomain(**{f.name: getattr(p, f.name) for f in fields(Parameter)}, stated=latex, words=words)


def gate_constraint(values: dict) -> str | None:
    """Refuse tanh and the sigmoid (with the reason) and inputs too close to 0 for a relative error."""
    why = kernels.refusal(values["activation"])
    if why:
        return why
    for name in ("x", "y"):
        if abs(values[name]) < LOW:
            return (f"{name}={values[name]!r} is outside the domain: 1/64 <= |{name}| <= 4 (the coefficient holds for "
                    "every xy != 0, but the verifier measures the relative error against xy, and the float64 gate's "
                    "rounding, amplified by 1/(lambda^4 |xy|), would swamp it)")
    return None


def gate_remarks(values: dict) -> list[str]:
    a, x, y = values["activation"], values["x"], values["y"]
    s2, s4, k = _S.derivative(a, 2), _S.derivative(a, 4), _S.gate_ratio(a)
    c = float(k) * (x * x + y * y)
    lams = kernels.ladder(x, y)
    e = -round(math.log2(lams[0]))
    return [
        rf"{a}: $\sigma''(0) = {latex_number(float(s2), 6)}$, $\sigma''''(0) = {latex_number(float(s4), 6)}$, so "
        rf"$c = {latex_number(float(k), 6)}\,(x^2 + y^2) = {latex_number(c, 8)}$; the absolute error's $\lambda^4$ "
        rf"coefficient $c\,xy = {latex_number(c * x * y, 8)}$ is the form with the factor $xy$",
        rf"the float64 network at $\lambda = 2^{{-{e}}}, \dots, 2^{{-{e + len(lams) - 1}}}$ (powers of two, so "
        r"$\lambda x$ is exact), Richardson-extrapolated in $\lambda^2$ to $\lambda \to 0$; tolerance: the rounding "
        r"bound of every operation (rigorous: the four neurons cancel to $4\sigma''(0)\lambda^2 xy$, so rounding enters "
        r"$c$ amplified by about $\lambda^{-4}$) plus the truncation estimate $|T_K - T_{K-1}|$, the change when the "
        r"largest $\lambda$ is dropped: an a-posteriori estimate, not a rigorous bound (it presumes the ladder is in "
        r"the asymptotic regime, which the tests confirm against SymPy's coefficient but do not prove)",
        r"counting: a balanced tree of gates multiplies $n$ inputs with $4(n - 1)$ neurons; one hidden layer needs "
        r"$2^n$ (Rolnick and Tegmark 2018, Theorem 4.1, for $\sigma$ with non-zero Taylor coefficients up to degree "
        r"$n$: exp, not softplus or GELU)",
    ]


PRODUCT_GATE = register(
    Claim(
        id="depth.product-gate",
        title=r"Product gate: four neurons compute $uv\,(1 + c\lambda^2 + O(\lambda^4))$, "
              r"$c = \sigma''''(0)\,(x^2 + y^2)/(6\sigma''(0))$",
        statement=(
            r"For an activation $\sigma$ smooth near $0$ with $\sigma''(0) \ne 0$, the four-neuron network "
            r"$m(u, v) = [\sigma(u + v) + \sigma(-u - v) - \sigma(u - v) - \sigma(-u + v)]/(4\sigma''(0))$ at "
            r"$u = \lambda x$, $v = \lambda y$, $xy \ne 0$, has relative error $r(\lambda) = (m - uv)/(uv) = c\lambda^2 + "
            r"O(\lambda^4)$, $r$ extended continuously to $\lambda = 0$ by $r(0) = 0$, with "
            r"$c = \sigma''''(0)\,(x^2 + y^2)/(6\sigma''(0))$: $-(x^2 + y^2)/12$ for softplus, $(x^2 + y^2)/6$ for exp, "
            r"$-(x^2 + y^2)/3$ for GELU, for every $xy \ne 0$. Lin, Tegmark and Rolnick (2017, Eqs. (10) and (11) "
            r"of the arXiv version, and Fig. 2) state $m = uv\,[1 + O(u^2 + v^2)]$; the coefficient is derived here, every "
            r"step checked by SymPy. The form $\sigma''''(0)\,xy(x^2 + y^2)/(6\sigma''(0))$ is the $\lambda^4$ coefficient "
            r"of the absolute error $m - uv$, not of the relative one: the two differ by the factor $xy$. The names "
            r"$\tanh$ and sigmoid are accepted only to be refused: without a bias $\sigma''(0) = 0$ and the four neurons "
            r"cancel exactly. The refusal concerns this bias-free gate: with a bias $b$, $\sigma''(b) \ne 0$ (for $\tanh$ "
            r"and the sigmoid, any $b \ne 0$) restores the product, the condition being on $\sigma''$ at the operating "
            r"point. A balanced tree of $n - 1$ gates multiplies $n$ inputs with $4(n - 1)$ neurons, against $2^n$ in one "
            r"hidden layer (Rolnick and Tegmark 2018, Theorem 4.1). The verifier takes $1/64 \le |x|, |y| \le 4$ and "
            r"measures the float64 network at five powers of two $\lambda \le 1/(|x| + |y|)$, extrapolated to "
            r"$\lambda \to 0$ (Richardson, in $\lambda^2$); its tolerance is the rigorous rounding bound (the neurons "
            r"cancel catastrophically, so rounding enters $c$ amplified by about $\lambda^{-4}$) plus the extrapolation's "
            r"truncation estimate $|T_K - T_{K-1}|$, an a-posteriori estimate, not a bound."
        ),
        kind="exact",
        parameters=(
            _stated(real("x", 0.7, r"the first input ($u = \lambda x$; the identity holds for every $xy \ne 0$, the "
                         r"verifier takes $1/64 \le |x| \le 4$)", low=-4.0, high=4.0, typical=(-2.0, 2.0)),
                    r"\tfrac{1}{64} \le |x| \le 4", "finite real with 1/64 <= |x| <= 4"),
            _stated(real("y", -1.3, r"the second input ($v = \lambda y$, $1/64 \le |y| \le 4$)", low=-4.0, high=4.0,
                         typical=(-2.0, 2.0)),
                    r"\tfrac{1}{64} \le |y| \le 4", "finite real with 1/64 <= |y| <= 4"),
            _stated(choice("activation", _NAMES, "softplus",
                           r"the activation: softplus $\log(1 + e^z)$, exp, or GELU $z\,\Phi(z)$ (the names tanh and "
                           r"sigmoid are accepted only to be refused with the reason: $\sigma''(0) = 0$ without a bias)",
                           codes=tuple(_S.CODES[a] for a in _NAMES), typical=kernels.ACTIVATIONS, latex=r"\sigma"),
                    r"\sigma \in \{" + ", ".join(rf"\texttt{{{a}}}" for a in kernels.ACTIVATIONS) + r"\}",
                    f"one of {', '.join(kernels.ACTIVATIONS)} (tanh and sigmoid are refused: sigma''(0) = 0)"),
        ),
        derive=_S.derive_product_gate,
        experiment=kernels.product_gate_experiment,
        sources=_S.SOURCES,
        constraint=gate_constraint,
        remarks=gate_remarks,
    )
)
