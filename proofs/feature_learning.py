r"""Feature learning after one SGD step: the hidden pre-activations of a one-hidden-layer network of width
:math:`N` move by :math:`\Theta(N^{-1/2})` in the NTK parameterisation and by :math:`\Theta(1)` in the
maximal-update parameterisation :math:`\mu`\ P (Yang and Hu 2021, arXiv:2011.14522).

**The abc form** (Yang and Hu's abc-parametrizations, one hidden layer). Unit :math:`i` has trained parameters
:math:`w_i` (hidden) and :math:`u_i` (readout) with multipliers :math:`N^{-a_1}`, :math:`N^{-a_2}`, initial
standard deviations :math:`N^{-b_1}`, :math:`N^{-b_2}`, and both are trained by SGD with learning rate
:math:`\eta N^{-c}`:

.. math::

    h_i(x) = N^{-a_1} w_i x/\sqrt d, \qquad f(x) = N^{-a_2} u_i\,\mathrm{relu}(h_i(x)) + r(x),

:math:`r` the other units' part of the output. One step on :math:`(f(x) - y)^2/2` moves :math:`w_i` by
:math:`-\eta N^{-c} (f - y) N^{-a_1 - a_2} u_i\,\mathrm{relu}'(h_i)\, x/\sqrt d` (checked: SymPy differentiates),
so the pre-activation at any input :math:`x'` moves by

.. math::

    \Delta h_i(x') = -\eta\, N^{-(c + 2a_1 + a_2)} (f(x) - y)\, u_i\,\mathrm{relu}'(h_i(x))\, x x'/d ,

and at initialisation (:math:`f = 0` by the doubling initialisation, :math:`u_i = N^{-b_2}\zeta_i`,
:math:`w_i = N^{-b_1}\omega_i`, :math:`\zeta_i, \omega_i` standard normal, :math:`a_1 + b_1 = 0`)
:math:`\mathbb E\,\Delta h_i^2 = \eta^2 y^2 x^2 x'^2 N^{-2(c + 2a_1 + a_2 + b_2)}/(2d^2)` (the Gaussian moment an
integral SymPy evaluates): the exponent is :math:`e = -(c + 2a_1 + a_2 + b_2)`. The two parameterisations
(``TABLE``): NTK :math:`(a_1, b_1, a_2, b_2, c) = (0, 0, 1/2, 0, 0)`, :math:`e = -1/2`; :math:`\mu`\ P
:math:`(-1/2, 1/2, 1/2, 1/2, 0)`, :math:`e = 0`.

*One coordinate*: :math:`w_i x` stands for one coordinate of :math:`w_i \cdot x`; in :math:`d` dimensions
:math:`x x'` becomes :math:`x \cdot x'` and nothing in :math:`N` changes. *How this differs from the paper*: Yang
and Hu's :math:`r` (their Definition 3.2, the exponent of :math:`\Delta h` over the whole of training; feature
learning iff :math:`r = 0`, their Theorem 3.6; NTK and :math:`\mu`\ P values from their Table 1, :math:`\mu`\ P
being their Definition 5.1) is
:math:`\min(a_2 + b_2, 2a_2 + c) + c + 2a_1` for one hidden layer; after one step only the initial readout enters,
so :math:`-e = a_2 + b_2 + c + 2a_1`, the same whenever :math:`b_2 \le a_2 + c`, as in both parameterisations here.

**The link to the measurement** is the one citation: the verifier's statistic is the mean local exponent
:math:`\mathbb E\, s(N) = \mathbb E \log_2(\hat y(2N)/\hat y(N))` of the root-mean-square move over units
:math:`\hat y(N)`; :math:`\hat y(N)^2` is :math:`N^{2e}` times a mean over iid units, so by the strong law of large
numbers (cited) :math:`\mathbb E\, s(N) \to e`, the limit of :math:`\log \mathbb E\,\Delta h_i^2/(2\log N)`.

Symbols: ``N`` the width, ``parameterization`` the claim's parameter as a code (:data:`PARAMETERIZATIONS`).
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from .derivation import Derivation, cite, define, equal, hypothesis
from .operators import Expectation
from .printing import function, symbol
from .sources import CASELLA, Source

__all__ = [
    "EXPONENT",
    "PARAMETERIZATIONS",
    "SOURCES",
    "TABLE",
    "YANG2021",
    "N",
    "derive_feature_learning",
    "exponent",
    "parameterization",
]

N = sp.Symbol("N", integer=True, positive=True)  # width
parameterization = sp.Symbol("parameterization", integer=True, positive=True)
# Codes of mup.feature-learning's choice parameter ``parameterization``.
PARAMETERIZATIONS = {"ntk": 1, "mup": 2}
_NTK = sp.Eq(parameterization, PARAMETERIZATIONS["ntk"])

_NAMES = (("a1", "a_1"), ("b1", "b_1"), ("a2", "a_2"), ("b2", "b_2"), ("c", "c"))
a1, b1, a2, b2, c = (symbol(f"{n}_mup", tex, real=True) for n, tex in _NAMES)
half = sp.Rational(1, 2)
# (a_1, b_1, a_2, b_2, c) of each parameterisation (Yang and Hu 2021; numerics.feature_learning.EXPONENTS)
TABLE = {"ntk": (0, 0, half, 0, 0), "mup": (-half, half, half, half, 0)}
EXPONENT = sp.Piecewise((-half, _NTK), (0, True))

d = sp.Symbol("d", integer=True, positive=True)  # input dimension
eta = sp.Symbol("eta", positive=True)  # learning rate
x = symbol("x_mup", "x", positive=True)  # the training input's coordinate (x > 0: omega -> -omega)
xp = symbol("x'_mup", "x'", real=True, nonzero=True)  # the input at which the move is read
y = symbol("y_mup", "y", real=True, nonzero=True)  # the target at x
r = symbol("r_mup", "r", real=True)  # the other units' part of the output at x
w = symbol("w_mup", "w", real=True)  # unit i's hidden weight (one coordinate)
u = symbol("u_mup", "u", real=True)  # unit i's readout weight
zeta = sp.Symbol("zeta", real=True)  # standard normal behind u
omega = sp.Symbol("omega", real=True)  # standard normal behind w
z, v = symbol("z_mup", "z", real=True), symbol("v_mup", "v", real=True)  # integration variables
dw = symbol("Delta_w_mup", r"\Delta w", real=True)
dh = symbol("Delta_h_mup", r"\Delta h", real=True)
h = sp.Function("h")
f = sp.Function("f")
E = function("E", r"\mathbb{E}")
s = sp.Function("s")

YANG2021 = Source(
    "yang2021",
    "Greg Yang and Edward J. Hu",
    "Tensor Programs IV: Feature learning in infinite-width neural networks",
    "Proceedings of the 38th International Conference on Machine Learning (ICML), PMLR 139",
    2021,
    arxiv="2011.14522",
    pages="11727-11737",
    kind="inproceedings",
)
SOURCES = (YANG2021, CASELLA)


def exponent(name: str) -> sp.Rational:
    r"""The exponent :math:`e = -(c + 2a_1 + a_2 + b_2)` of the one-step move under the named parameterisation.

    >>> exponent("ntk"), exponent("mup")
    (-1/2, 0)
    """
    a_1, _, a_2, b_2, c_ = TABLE[name]
    return -(c_ + 2 * a_1 + a_2 + b_2)


def _gauss(t: sp.Symbol) -> sp.Basic:
    return sp.exp(-(t**2) / 2) / sp.sqrt(2 * sp.pi)


def _by_code(k: int) -> sp.Basic:
    """The table's k-th exponent as a Piecewise in the parameterisation's code."""
    ntk, mup = TABLE["ntk"][k], TABLE["mup"][k]
    return ntk if ntk == mup else sp.Piecewise((ntk, _NTK), (mup, True))


@cache
def derive_feature_learning() -> Derivation:
    """The mean local exponent of the pre-activations' one-step move tends to -1/2 (NTK) or 0 (muP)."""
    relu_gate = sp.Heaviside(omega * x / sp.sqrt(d))
    pre = define(h, sp.Lambda((w, x), N ** (-a1) * w * x / sp.sqrt(d)),
                 r"unit $i$'s hidden pre-activation at an input $x$ (one coordinate of $w_i \cdot x$), multiplier "
                 r"$N^{-a_1}$")
    out = define(f, sp.Lambda((w, u), N ** (-a2) * u * sp.Max(0, h(w, x)) + r),
                 r"the output at the training input $x$: unit $i$'s term, multiplier $N^{-a_2}$, and the rest $r$ of "
                 r"the network, which does not depend on $(w_i, u_i)$")
    sgd = define(dw, -eta * N ** (-c) * sp.Derivative((f(w, u) - y) ** 2 / 2, w),
                 r"one SGD step on the square loss at $(x, y)$, learning rate $\eta N^{-c}$")
    grad = equal(dw, -eta * N ** (-c - a1 - a2) * (f(w, u) - y) * u * sp.Heaviside(h(w, x)) * x / sp.sqrt(d),
                 r"the chain rule through $\operatorname{relu}' = 1\{h > 0\}$", uses=[sgd, out, pre])
    move = define(dh, h(w + dw, xp) - h(w, xp), r"the move of unit $i$'s pre-activation at an input $x'$")
    moved = equal(dh, -eta * N ** (-c - 2 * a1 - a2) * (f(w, u) - y) * u * sp.Heaviside(h(w, x)) * x * xp / d,
                  r"the multiplier $N^{-a_1}$ enters twice: once in the gradient, once in the forward pass",
                  uses=[move, pre, grad])
    start = hypothesis(f(w, u), "=", 0, r"at initialisation the output vanishes: the doubling initialisation pairs "
                       r"unit $i$ with a copy of readout $-u_i$ inside $r$ (as in ntk.lazy-training), so the loss "
                       r"derivative is $-y$; without it, $f_0 = O(1)$ in NTK and $O(N^{-1/2})$ in $\mu$P, and the "
                       "exponents are the same")
    readout = hypothesis(u, "=", N ** (-b2) * zeta, r"readout initialised with standard deviation $N^{-b_2}$, "
                         r"$\zeta \sim \mathcal{N}(0, 1)$")
    hidden = hypothesis(w, "=", N ** (-b1) * omega, r"hidden weight initialised with standard deviation $N^{-b_1}$, "
                        r"$\omega \sim \mathcal{N}(0, 1)$")
    table = [hypothesis(sym, "=", _by_code(k), rf"${tex}$ of the NTK parameterisation and of $\mu$P (maximal "
                        "update), Yang and Hu (2021), Table 1, in their abc form (Section 1) with one hidden layer")
             for k, (sym, (_, tex)) in enumerate(zip((a1, b1, a2, b2, c), _NAMES, strict=True))]
    A1, B1, A2, B2, C = table
    stable = equal(b1, -a1, r"$a_1 + b_1 = 0$ in both: the pre-activations $h_i$ have the same law at every width "
                   "(stable features at initialisation)", uses=[B1, A1])
    at_start = equal(dh, eta * y * N ** (-c - 2 * a1 - a2 - b2) * zeta * relu_gate * x * xp / d,
                     "at initialisation", uses=[moved, start, readout, hidden, pre, stable])
    moment = hypothesis(Expectation(zeta**2 * relu_gate**2, (zeta, omega)), "=",
                        sp.Integral(z**2 * _gauss(z), (z, -sp.oo, sp.oo))
                        * sp.Integral(sp.Heaviside(v * x / sp.sqrt(d)) ** 2 * _gauss(v), (v, -sp.oo, sp.oo)),
                        r"$\zeta$ and $\omega$ independent standard normals: the mean of the product is the product of "
                        "the means")
    square = equal(Expectation(dh**2, (zeta, omega)), eta**2 * y**2 * N ** (-2 * (c + 2 * a1 + a2 + b2)) * x**2 * xp**2
                   / (2 * d**2), r"the mean square over the initialisation: $\mathbb{E}\zeta^2 = 1$ and half the units "
                   r"are on at $x$", uses=[at_start, moment])
    rate = sp.Limit(sp.log(Expectation(dh**2, (zeta, omega))) / (2 * sp.log(N)), N, sp.oo)
    general = equal(rate, -(c + 2 * a1 + a2 + b2), r"the exponent of $\sqrt{\mathbb{E}\,\Delta h^2}$ in $N$",
                    uses=[square])
    both = equal(-(c + 2 * a1 + a2 + b2), EXPONENT, r"$-1/2$ in NTK, $0$ in $\mu$P", uses=[C, A1, A2, B2])
    link = cite(sp.Limit(E(s(N)), N, sp.oo), "=", rate, "Theorem 5.5.9", CASELLA,
                r"$s(N) = \log_2(\hat y(2N)/\hat y(N))$ for the root-mean-square move $\hat y$ over the units and the "
                r"task's inputs of a coupled pair of networks; $\hat y(N)^2$ is $N^{2e}$ times a mean over $N/2$ iid "
                r"base units of $\zeta_i^2 Q_i$, $Q_i \ge Q_{\min} > 0$ (the task's inputs sum to zero, so every unit "
                r"is on at one of them), so by the strong law of large numbers both means tend to the same limit and "
                r"$s(N) \to e$ almost surely; $s(N) \ge e - 1/2$ (the wide network's mean is at least half the narrow "
                r"one's) and $\mathbb{E}\, s(N)^2$ stays bounded (inverse moments of $\chi^2$ means), so the mean "
                r"converges too",
                uses=[square])
    steps = [pre, out, sgd, grad, move, moved, start, readout, hidden, *table, stable, at_start, moment, square, general,
             both, link]
    initial_output = equal(sp.Limit(sp.log(N * N ** (-2 * (a2 + b2))) / (2 * sp.log(N)), N, sp.oo),
                           sp.Piecewise((0, _NTK), (-half, True)),
                           r"the initial output $\sum_i N^{-a_2} u_i \operatorname{relu}(h_i)$ of iid units has "
                           r"variance of order $N \cdot N^{-2(a_2 + b_2)}$: it is $\Theta(1)$ in NTK and "
                           r"$\Theta(N^{-1/2})$ in $\mu$P, where it vanishes in the limit without the doubling",
                           uses=[A2, B2])
    return Derivation(
        r"Feature learning after one SGD step: NTK against $\mu$P",
        steps,
        (sp.Limit(E(s(N)), N, sp.oo), "=", EXPONENT),
        uses=[link, general, both],
        assumptions=(
            r"one hidden ReLU layer of width $N$ in abc form, $h_i(x) = N^{-a_1} w_i \cdot x/\sqrt{d}$, "
            r"$f(x) = N^{-a_2} \sum_i u_i \operatorname{relu}(h_i(x))$, $w_i$ and $u_i$ drawn with standard deviations "
            r"$N^{-b_1}$ and $N^{-b_2}$ (doubled: $N/2$ units copied with the readout negated, so $f_0 = 0$), one SGD "
            r"step with learning rate $\eta N^{-c}$ on the square loss over $n$ fixed inputs",
            r"NTK: $(a_1, b_1, a_2, b_2, c) = (0, 0, 1/2, 0, 0)$; $\mu$P: $(-1/2, 1/2, 1/2, 1/2, 0)$",
            r"$s(N) = \log_2(\hat y(2N)/\hat y(N))$, $\hat y$ the root-mean-square move of the hidden pre-activations "
            "over units and inputs",
        ),
        remarks=[initial_output],
    )
