r"""The four-neuron product gate: the :math:`\lambda^2` coefficient of its relative error, derived for a generic
smooth activation and evaluated for softplus, exp and GELU (Lin, Tegmark and Rolnick 2017, arXiv:1608.08225,
Eqs. (10)-(11) and Fig. 2 of the arXiv version, doi:10.1007/s10955-017-1836-5).

**The gate.** With :math:`u = \lambda x`, :math:`v = \lambda y` and :math:`\sigma''(0) \ne 0`,

.. math::

    m(u, v) = \frac{\sigma(u + v) + \sigma(-u - v) - \sigma(u - v) - \sigma(-u + v)}{4\sigma''(0)}
    = uv\Big(1 + \frac{\sigma''''(0)}{6\sigma''(0)}(u^2 + v^2)\Big) + O(\lambda^6).

Only even Taylor terms survive the signed sum: the :math:`z^2` term gives :math:`4\sigma''(0)\,uv`, the :math:`z^4`
term :math:`\tfrac23\sigma''''(0)\,uv(u^2 + v^2)`. So the relative error :math:`r(\lambda) = (m - uv)/(uv)` is

.. math::

    r(\lambda) = c\,\lambda^2 + O(\lambda^4), \qquad c = \frac{\sigma''''(0)\,(x^2 + y^2)}{6\,\sigma''(0)},

:math:`c = -(x^2 + y^2)/12` for softplus, :math:`(x^2 + y^2)/6` for exp, :math:`-(x^2 + y^2)/3` for GELU.

*How this differs from the usual statement.* Lin, Tegmark and Rolnick (Eqs. (10)-(11)) state
:math:`m(u, v) = uv\,[1 + O(u^2 + v^2)]`. The issue that asked for this claim wrote the coefficient as :math:`\sigma''''(0)\,xy(x^2 + y^2)/(6\sigma''(0))`
and called it the relative error's: that expression is the :math:`\lambda^4` coefficient of the **absolute** error
:math:`m - uv` (a remark of the derivation checks it). The **relative** error's :math:`\lambda^2` coefficient has no
factor :math:`xy`; the two agree only where :math:`xy = 1`. The claim is the relative one, for :math:`xy \ne 0`.

*The trap.* The ratio :math:`\sigma''''(0)/\sigma''(0)` is not :math:`1`: replacing :math:`\sigma''''` by
:math:`\sigma''` (a natural slip) gives :math:`(x^2 + y^2)/6` for every activation, right for exp only, wrong in
sign and by a factor :math:`2` for softplus, wrong for GELU by :math:`-2`.

*Odd activations.* For :math:`\tanh` (odd) and the logistic sigmoid (:math:`\tfrac12` plus an odd function)
:math:`\sigma''(0) = 0`, and the four neurons cancel exactly, :math:`\sigma(u+v) + \sigma(-u-v) - \sigma(u-v) -
\sigma(-u+v) = 0`: no product can be normalised out of them. That is why the gate needs :math:`\sigma''(0) \ne 0`
at its operating point. The refusal is for this bias-free gate only: with a bias :math:`b`, :math:`\sigma(\pm u \pm v + b)`
normalised by :math:`4\sigma''(b)` multiplies whenever :math:`\sigma''(b) \ne 0`, e.g. :math:`\tanh(z + b)` for any
:math:`b \ne 0` (a remark of the derivation checks the :math:`\lambda^2` coefficient :math:`xy` for tanh); the point of
Lin, Tegmark and Rolnick concerns :math:`\sigma''` at the operating point, not the activation as such.

*Domain.* The coefficient holds for every :math:`xy \ne 0`, with :math:`r` extended continuously to :math:`\lambda = 0`
by :math:`r(0) = 0`; the claim's verifier takes :math:`1/64 \le |x|, |y| \le 4` (float64 rounding limits it).

**Counting.** A balanced binary tree of :math:`n - 1` gates multiplies :math:`n` inputs with :math:`4(n - 1)`
neurons; one hidden layer needs :math:`2^n` (Rolnick and Tegmark 2018, Theorem 4.1, for an activation whose
Taylor coefficients up to degree :math:`n` are non-zero; the abstract of Lin, Tegmark and Rolnick 2017 states
the :math:`2^n`). Of the three activations only exp meets that hypothesis for :math:`n \ge 3`: softplus and GELU
are :math:`z/2` plus an even function, so their odd coefficients beyond the first vanish. The tree's relative
error is :math:`O(\lambda^2)` with the coefficient of :func:`tree_coefficient`.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from .derivation import Derivation, cite, define, equal, hypothesis
from .printing import Notation, function, symbol
from .residual import HIGHAM
from .rules import equal_at
from .sources import Source

__all__ = [
    "ACTIVATIONS",
    "CODES",
    "HIGHAM",
    "LIN2017",
    "ROLNICK2018",
    "SIGMA",
    "SOURCES",
    "activation",
    "coefficient",
    "derivative",
    "derive_product_gate",
    "gate_ratio",
    "lam",
    "tree_coefficient",
    "x",
    "y",
]

LIN2017 = Source("lin2017", "Henry W. Lin and Max Tegmark and David Rolnick",
                 "Why does deep and cheap learning work so well?", "Journal of Statistical Physics", 2017,
                 doi="10.1007/s10955-017-1836-5", arxiv="1608.08225", volume="168", number="6", pages="1223-1247")
ROLNICK2018 = Source("rolnick2018", "David Rolnick and Max Tegmark",
                     "The power of deeper networks for expressing natural functions",
                     "International Conference on Learning Representations (ICLR)", 2018, arxiv="1705.05502",
                     kind="inproceedings")
SOURCES = (LIN2017, ROLNICK2018, HIGHAM)

ACTIVATIONS = ("softplus", "exp", "gelu")  # the gate's activations; codes 1, 2, 3 in the closed form
REFUSED = ("tanh", "sigmoid")  # named only to be refused: sigma''(0) = 0
CODES = {name: k for k, name in enumerate((*ACTIVATIONS, *REFUSED), 1)}

x, y = sp.symbols("x y", real=True)
activation = sp.Symbol("activation", integer=True, positive=True)
lam = sp.Symbol("lambda", positive=True)
z = sp.Symbol("z", real=True)
u, v = sp.symbols("u v", real=True)
n = sp.Symbol("n", integer=True, positive=True)
_TAYLOR = (("sigma(0)", r"\sigma(0)"), ("sigma'(0)", r"\sigma'(0)"), ("sigma''(0)", r"\sigma''(0)"),
           ("sigma'''(0)", r"\sigma'''(0)"), ("sigma''''(0)", r"\sigma''''(0)"), ("sigma^(5)(0)", r"\sigma^{(5)}(0)"))
s = [symbol(name, tex, real=True) for name, tex in _TAYLOR]  # the Taylor coefficients sigma^(k)(0)
sigma, rho, m, r, R = (sp.Function(name) for name in ("sigma", "rho", "m", "r", "R"))
rho2 = sp.Function("rho2")  # the remainder at w and -w, summed
m1 = function("m_shallow", "m_1")
X = sp.IndexedBase("x")

SIGMA = {
    "softplus": sp.log(1 + sp.exp(z)),
    "exp": sp.exp(z),
    "gelu": z * (1 + sp.erf(z / sp.sqrt(2))) / 2,
    "tanh": sp.tanh(z),
    "sigmoid": 1 / (1 + sp.exp(-z)),
}


@cache
def derivative(name: str, k: int) -> sp.Basic:
    """:math:`\\sigma^{(k)}(0)` of the activation ``name``, exact.

    >>> derivative("softplus", 2), derivative("softplus", 4), derivative("gelu", 2)
    (1/4, -1/8, sqrt(2)/sqrt(pi))
    """
    return sp.simplify(sp.diff(SIGMA[name], z, k).subs(z, 0))


@cache
def gate_ratio(name: str) -> sp.Basic:
    """:math:`k = \\sigma''''(0)/(6\\sigma''(0))`, so that :math:`c = k(x^2 + y^2)`.

    >>> [gate_ratio(a) for a in ACTIVATIONS]
    [-1/12, 1/6, -1/3]
    """
    return sp.nsimplify(sp.simplify(derivative(name, 4) / (6 * derivative(name, 2))))


def coefficient(name: str, a: sp.Basic = x, b: sp.Basic = y) -> sp.Basic:
    """The :math:`\\lambda^2` coefficient of the gate's relative error at inputs ``a``, ``b``."""
    return gate_ratio(name) * (a**2 + b**2)


def tree_coefficient(values, name: str) -> sp.Basic:
    r"""The :math:`\lambda^2` coefficient of the relative error of the balanced tree of gates multiplying
    ``values`` (each level pairs neighbours, an odd one out passes through, as
    :func:`numerics.product_gate.tree_product` does). A gate fed :math:`A(1 + \alpha\lambda^2)` and
    :math:`B(1 + \beta\lambda^2)` returns :math:`AB(1 + (\alpha + \beta + k(A^2 + B^2))\lambda^2 + O(\lambda^4))`
    (the tests confirm this composition rule by SymPy series), so the coefficient is :math:`k` times the sum, over
    the gates, of the squares of the exact products entering them.

    >>> tree_coefficient([1, 2], "softplus")
    -5/12
    """
    k = gate_ratio(name)
    level = [(sp.nsimplify(a), sp.Integer(0)) for a in values]  # (exact product, its coefficient)
    while len(level) > 1:
        pairs = [(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        merged = [(pa * pb, ca + cb + k * (pa**2 + pb**2)) for (pa, ca), (pb, cb) in pairs]
        level = merged + ([level[-1]] if len(level) % 2 else [])
    return sp.simplify(level[0][1])


def _at_zero(expr: sp.Basic, k: int) -> sp.Basic:
    """The Taylor coefficient written out: :math:`\\frac{1}{k!}\\,d^k/d\\lambda^k\\,(\\cdot)|_{\\lambda=0}`."""
    return sp.Subs(sp.Derivative(expr, (lam, k)), lam, 0) / sp.factorial(k)


def _cases(values: dict[str, sp.Basic]) -> sp.Piecewise:
    return sp.Piecewise(*[(values[a], sp.Eq(activation, CODES[a])) for a in ACTIVATIONS])


def _biased_tanh():
    r"""The refusal is for the bias-free gate: with a bias :math:`b \ne 0` (:math:`\tanh''(b) \ne 0`) the four
    neurons :math:`\tanh(\pm u \pm v + b)`, normalised by :math:`4\tanh''(b)`, have :math:`\lambda^2` coefficient
    :math:`xy`: they do form the product. Checked by SymPy, shown compactly."""
    b = sp.Symbol("b", positive=True)
    neurons = (sp.tanh(lam * (x + y) + b) + sp.tanh(-lam * (x + y) + b) - sp.tanh(lam * (x - y) + b)
               - sp.tanh(-lam * (x - y) + b))
    gate = neurons / (4 * sp.Subs(sp.Derivative(sp.tanh(z), (z, 2)), z, b))
    shown = Notation(_at_zero(gate, 2), r"\frac{1}{2}\frac{d^2}{d\lambda^2} m_b(\lambda x, \lambda y)\Big|_{\lambda=0}",
                     "1/2 d^2/dlambda^2 m_b(lambda x, lambda y) at lambda = 0")
    return equal(shown, x * y, r"with a bias $b > 0$, $m_b(u, v) = [\tanh(u + v + b) + \tanh(-u - v + b) - \tanh(u - v + b) "
                 r"- \tanh(-u + v + b)]/(4\tanh''(b))$ multiplies: the refusal is for the bias-free gate, whose operating "
                 r"point has $\sigma''(0) = 0$, while $\tanh''(b) \ne 0$ for every $b \ne 0$ ($b < 0$ by symmetry)")


@cache
def derive_product_gate() -> Derivation:
    """The lambda^2 coefficient of the product gate's relative error, generic sigma, then each activation."""
    q = x**2 + y**2
    taylor_poly = sum(s[k] * z**k / sp.factorial(k) for k in range(6)) + z**6 * rho(z)
    taylor = hypothesis(sigma, "=", sp.Lambda(z, taylor_poly),
                        r"$\sigma$ smooth near $0$: Taylor's theorem with the derivatives $\sigma(0), \dots, \sigma^{(5)}(0)$ and a smooth remainder "
                        r"$z^6\rho(z)$, $\rho(z) = \frac{1}{5!}\int_0^1 (1 - t)^5 \sigma^{(6)}(tz)\,dt$")
    gate = define(m, sp.Lambda((u, v), (sigma(u + v) + sigma(-u - v) - sigma(u - v) - sigma(-u + v)) / (4 * s[2])),
                  r"the four neurons of Lin, Tegmark and Rolnick (2017, Eqs. (10) and (11) of the arXiv version): "
                  r"hidden weights $(1, 1), (-1, -1), (1, -1), (-1, 1)$, output weights "
                  r"$(1, 1, -1, -1)/(4\sigma''(0))$, $\sigma''(0) \ne 0$")
    relative = define(r, sp.Lambda(lam, (m(lam * x, lam * y) - lam**2 * x * y) / (lam**2 * x * y)),
                      r"the relative error at $u = \lambda x$, $v = \lambda y$, $xy \ne 0$, for $\lambda \ne 0$; by (6) "
                      r"it extends continuously to $\lambda = 0$, $r(0) = 0$, and $r$ denotes that extension")
    w = sp.Symbol("w", real=True)
    paired = define(rho2, sp.Lambda(w, rho(w) + rho(-w)), r"the remainder at $\pm w$, summed")
    rest = define(R, sp.Lambda(lam, ((x + y) ** 6 * rho2(lam * (x + y)) - (x - y) ** 6 * rho2(lam * (x - y)))
                               / (4 * s[2] * x * y)), r"what the remainders leave in $r$, over $\lambda^4$")
    expansion = equal(r(lam), lam**2 * s[4] * q / (6 * s[2]) + lam**4 * R(lam),
                      r"odd Taylor terms cancel in the signed sum, the $z^2$ terms give $4\sigma''(0)\,uv$, the $z^4$ "
                      r"terms $\frac{2}{3}\sigma''''(0)\,uv(u^2 + v^2)$: $r$ is $\lambda^2$ times a constant plus "
                      r"$\lambda^4$ times a smooth function",
                      uses=[taylor, gate, relative, paired, rest])
    general = equal(_at_zero(r(lam), 2), s[4] * q / (6 * s[2]),
                    r"the $\lambda^2$ coefficient of $r$, continuous at $\lambda = 0$ (the smooth remainder's term is "
                    r"$O(\lambda^4)$)",
                    uses=[expansion])
    d2 = define(s[2], _cases({a: sp.Subs(sp.Derivative(SIGMA[a], (z, 2)), z, 0) for a in ACTIVATIONS}),
                r"$\sigma''(0)$ of softplus $\log(1 + e^z)$, exp and GELU $z\,\Phi(z)$")
    d4 = define(s[4], _cases({a: sp.Subs(sp.Derivative(SIGMA[a], (z, 4)), z, 0) for a in ACTIVATIONS}),
                r"$\sigma''''(0)$ of the same")
    second = equal_at(s[2], _cases({"softplus": sp.Rational(1, 4), "exp": sp.Integer(1), "gelu": sp.sqrt(2 / sp.pi)}),
                      r"softplus: $s(1 - s) = \frac14$ at $0$ ($s$ the logistic); GELU: $2\varphi(0)$", uses=[d2],
                      cases=(activation, tuple(CODES[a] for a in ACTIVATIONS)))
    fourth = equal_at(s[4], _cases({"softplus": sp.Rational(-1, 8), "exp": sp.Integer(1),
                                    "gelu": -2 * sp.sqrt(2 / sp.pi)}),
                      r"GELU: $-4\varphi(0)$", uses=[d4], cases=(activation, tuple(CODES[a] for a in ACTIVATIONS)))
    closed = _cases({a: coefficient(a) for a in ACTIVATIONS})
    ratio = equal_at(s[4] * q / (6 * s[2]), closed, r"the ratio $\sigma''''(0)/(6\sigma''(0))$: $-\frac{1}{12}$, "
                     r"$\frac16$, $-\frac13$", uses=[second, fourth],
                     cases=(activation, tuple(CODES[a] for a in ACTIVATIONS)))
    absolute = equal(_at_zero(lam**2 * x * y * r(lam), 4), s[4] * x * y * q / (6 * s[2]),
                     r"the $\lambda^4$ coefficient of the absolute error $m - uv = \lambda^2 xy\, r(\lambda)$: the "
                     r"form $\sigma''''(0)\,xy(x^2 + y^2)/(6\sigma''(0))$ is this one, not the relative error's",
                     uses=[expansion])
    why = {"tanh": r"$\tanh$ is odd", "sigmoid": r"the logistic sigmoid is $\frac12$ plus an odd function"}
    odd = [equal(sp.Subs(sp.Derivative(SIGMA[a], (z, 2)), z, 0), 0,
                 why[a] + r": $\sigma''(0) = 0$ and the four bias-free neurons cancel exactly, so the claim refuses it")
           for a in REFUSED]
    odd.append(_biased_tanh())
    i, g = sp.Symbol("i", integer=True, positive=True), sp.Symbol("g", integer=True, positive=True)
    shallow = cite(m1(sp.Product(X[i], (i, 1, n))), "=", 2**n, "Theorem 4.1", ROLNICK2018,
                   r"one hidden layer needs exactly $2^n$ neurons to approximate $x_1 \cdots x_n$ arbitrarily well, for "
                   r"$\sigma$ with non-zero Taylor coefficients up to degree $n$ (exp; not softplus or GELU for "
                   r"$n \ge 3$, whose odd coefficients beyond the first vanish); the $2^n$ is also in the abstract of "
                   "Lin, Tegmark and Rolnick 2017")
    tree = equal(sp.Sum(4, (g, 1, n - 1)), 4 * (n - 1),
                 r"a balanced binary tree of gates: $n - 1$ gates of $4$ neurons multiply $n$ inputs (counted on the "
                 r"networks the tests build for $n \le 8$)")
    return Derivation(
        "The product gate's relative error",
        [taylor, gate, relative, paired, rest, expansion, general, d2, d4, second, fourth, ratio],
        (general.lhs, "=", closed),
        uses=[general, ratio],
        assumptions=(
            r"$\sigma$ smooth near $0$ with $\sigma''(0) \ne 0$ (softplus, exp or GELU); $u = \lambda x$, "
            r"$v = \lambda y$ with $xy \ne 0$",
            r"$r(\lambda) = (m(\lambda x, \lambda y) - \lambda^2 xy)/(\lambda^2 xy)$ for $\lambda \ne 0$, the gate's "
            r"relative error, extended continuously to $\lambda = 0$ by $r(0) = 0$; the claim is its $\lambda^2$ "
            r"coefficient, for every $xy \ne 0$ (the absolute error's $\lambda^4$ coefficient carries an extra factor $xy$)",
        ),
        remarks=[absolute, *odd, shallow, tree],
    )
