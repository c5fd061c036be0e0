r"""The finite-width correction of the NNGP kernel of a deep ReLU network: the coefficient of :math:`1/N`
that ``nngp.relu`` derives and tests.

**What is measured.** Layer :math:`l` of a He-scaled ReLU network of width :math:`N` has the Gram triple
:math:`G^l = \frac2N\sum_j (a_j^2, a_j a_j', a_j'^2)`, :math:`a_j = \mathrm{relu}(h^l_j(x))`,
:math:`a_j' = \mathrm{relu}(h^l_j(x'))`; the claim's experiment measures :math:`C(N, L, \theta) = E\,G^L_{01}`. Given
layer :math:`l - 1`, the units of layer :math:`l` are iid with preactivations :math:`N(0, G^{l-1})`, so
:math:`E[G^l_{01} \mid G^{l-1}] = F(G^{l-1})`, :math:`F(g) = \sqrt{g_{00}g_{11}}\,\kappa(g_{01}/\sqrt{g_{00}g_{11}})` (the
arc-cosine kernel, by positive homogeneity), the diagonal is kept (:math:`E[G^l_{00} \mid G^{l-1}] = G^{l-1}_{00}`),
and :math:`N\,\mathrm{Cov}[G^l \mid G^{l-1}] = S(G^{l-1})`, the covariance of one unit's :math:`2(a^2, aa', a'^2)`.

**The 1/N expansion** (Yaida 2020, arXiv:1910.00019; Roberts, Yaida and Hanin 2022, arXiv:2106.10165, ch. 4):
:math:`E\,G^l = g^l + \mu^l/N + O(N^{-2})` and :math:`N\,\mathrm{Cov}\,G^l = V^l + O(1/N)`. A second-order expansion of
the conditional mean around the infinite-width triple :math:`g^{l-1} = (1, \rho_{l-1}, 1)`,
:math:`\rho_l = \kappa^{\circ l}(\cos\theta)`, gives

.. math::

    \mu^l = J\mu^{l-1} + \tfrac12 H : V^{l-1}, \qquad V^l = S + J V^{l-1} J^\top, \qquad \mu^0 = 0,\ V^0 = 0,

:math:`J, H` the first and second derivatives of the layer map and :math:`S` the one-unit covariance at
:math:`g^{l-1}`. That expansion is the hypothesis here (its remainder is not bounded in this proof; the verdict tests
its consequence); the derivatives of :math:`F`, the fourth moments in :math:`S` (polar integrals, as for the
arc-cosine kernel) and the recursion unrolled for :math:`L = 1, \dots, 5` are checked by SymPy. By the symmetry
:math:`x \leftrightarrow x'`, :math:`V = ((A, B, D'), (B, D, B), (D', B, A))` and the recursion has five scalars
:math:`\mu, A, B, D', D` (:data:`RECURSION`).

The trap: one ReLU layer has no correction at all (its preactivations are exactly Gaussian: :math:`V^0 = 0`), but
from :math:`L = 2` the fluctuation of the Gram matrix below bends the mean through the curvature of :math:`\kappa`:
:math:`b_1 = -0.2859` at :math:`L = 2`, :math:`\theta = \pi/2` (a network of width 16 is off the limit by
:math:`-0.018`, as measured).
"""

from __future__ import annotations

from functools import cache
from itertools import product

import sympy as sp
from sympy.core.function import AppliedUndef

from .checks import StepNotChecked
from .derivation import Derivation, Step, cite, define, equal, hypothesis, support_of
from .operators import Expectation
from .rules import equal_at
from .sources import Source
from .steps import checked_step
from .wide_networks import (
    CHO_SAUL,
    DEPTHS,
    C,
    K,
    L,
    N,
    c,
    correlation_map,
    derive_nngp,
    k,
    kappa,
    l,
    phi,
    relu,
    rho,
    t,
    theta,
    w1,
    w2,
    z,
)

__all__ = ["YAIDA", "ROBERTS", "SOURCES", "coefficient", "derivatives", "layer_derivatives", "unit_covariances",
           "correction", "derive_correction"]

YAIDA = Source("yaida2020", "Sho Yaida", "Non-Gaussian processes and neural networks at finite widths",
               "Proceedings of The First Mathematical and Scientific Machine Learning Conference, PMLR 107", 2020,
               arxiv="1910.00019", kind="inproceedings")
ROBERTS = Source("roberts2022", "Daniel A. Roberts and Sho Yaida and Boris Hanin", "The Principles of Deep Learning "
                 "Theory", "Cambridge University Press", 2022, arxiv="2106.10165", kind="book")
SOURCES = (YAIDA, ROBERTS)

g00, g11 = sp.symbols("g_00 g_11", positive=True)  # the diagonal of a Gram triple
g01 = sp.Symbol("g_01", real=True)
F = sp.Function("F")  # F(g_00, g_01, g_11): the conditional mean of the next layer's covariance
mu, A, B, D2, D = (sp.Function(name) for name in ("mu", "A", "B", "D'", "D"))  # the recursion's scalars, by layer
S = {key: sp.Function(f"S_{{{key}}}") for key in ("00", "01", "02", "11")}  # the one-unit covariances, at c
_V = sp.cos(t) * w1 + sp.sin(t) * w2  # v at angle t from u = w_1
_KEYS = ((g00,), (g01,), (g00, g00), (g00, g01), (g00, g11), (g01, g01))  # the derivatives of F the recursion needs
DF = {key: sp.Function("F_{" + ",".join(str(v)[2:] for v in key) + "}") for key in _KEYS}  # F_{00}(g), F_{00,11}(g)...


def derivatives(a: sp.Basic = g00, x: sp.Basic = g01, b: sp.Basic = g11) -> dict[tuple[sp.Symbol, ...], sp.Basic]:
    r"""The derivatives of :math:`F(a, x, b) = \sqrt{ab}\,\kappa(x/\sqrt{ab})` in closed form, with
    :math:`s = \sqrt{ab}`, :math:`y = x/s`, :math:`r = \sqrt{1 - y^2}`: :math:`\partial_a F = s r/(2\pi a)`,
    :math:`\partial_x F = (\pi - \arccos y)/\pi = \kappa'(y)`, and the second derivatives (by symmetry
    :math:`\partial_b` acts as :math:`\partial_a`)."""
    s = sp.sqrt(a * b)
    y = x / s
    r = sp.sqrt(1 - y**2)
    return {(g00,): s * r / (2 * sp.pi * a), (g01,): (sp.pi - sp.acos(y)) / sp.pi,
            (g00, g00): s * (2 * y**2 - 1) / (4 * sp.pi * a**2 * r), (g00, g01): -y / (2 * sp.pi * a * r),
            (g00, g11): s / (4 * sp.pi * a * b * r), (g01, g01): 1 / (sp.pi * r * s)}


def layer_derivatives(corr: sp.Basic = c) -> dict[tuple[sp.Symbol, ...], sp.Basic]:
    r"""The derivatives of :math:`F` at the infinite-width triple :math:`(1, c, 1)`: :math:`\sqrt{1 - c^2}/(2\pi)`,
    :math:`(\pi - \arccos c)/\pi`, :math:`(2c^2 - 1)/(4\pi\sqrt{1 - c^2})`, :math:`-c/(2\pi\sqrt{1 - c^2})`,
    :math:`1/(4\pi\sqrt{1 - c^2})`, :math:`1/(\pi\sqrt{1 - c^2})`."""
    return {key: value.subs({g00: 1, g01: corr, g11: 1}) for key, value in derivatives().items()}


def _moments(angle: sp.Basic) -> dict[tuple[int, int], sp.Basic]:
    """E[relu(u)^p relu(v)^q] for unit variances at ``angle``, (p, q) = (3, 1), (2, 2)."""
    s, co, rest = sp.sin(angle), sp.cos(angle), sp.pi - angle
    return {(3, 1): (3 * s - s**3 + 3 * rest * co) / (2 * sp.pi),
            (2, 2): (rest * (1 + 2 * co**2) + 3 * s * co) / (2 * sp.pi)}


def unit_covariances(corr: sp.Basic = c) -> dict[str, sp.Basic]:
    r"""The covariance :math:`S` of one unit's :math:`2(a^2, aa', a'^2)` at unit variances and correlation :math:`c`:
    ``"00"`` (:math:`4E a^4 - 1 = 5`), ``"01"``, ``"02"``, ``"11"`` (the others by symmetry)."""
    m = _moments(sp.acos(c))
    kernel = correlation_map(c)
    closed = {"00": sp.Integer(5), "01": 4 * m[3, 1] - kernel, "02": 4 * m[2, 2] - 1, "11": 4 * m[2, 2] - kernel**2}
    return {key: value.subs(c, corr) for key, value in closed.items()}


def _rules(d: dict, s: dict, prev: tuple) -> tuple:
    """One layer of the recursion: (mu, A, B, D', D) from the previous layer's, with the derivatives ``d`` of F
    and the one-unit covariances ``s`` at the previous layer's correlation."""
    m0, a0, b0, c0, d0 = prev
    alpha, slope = d[(g00,)], d[(g01,)]
    curvature = d[(g00, g00)] * a0 + 2 * d[(g00, g01)] * b0 + d[(g00, g11)] * c0 + d[(g01, g01)] * d0 / 2
    return (slope * m0 + curvature, a0 + s["00"], alpha * (a0 + c0) + slope * b0 + s["01"], c0 + s["02"],
            2 * alpha**2 * (a0 + c0) + 4 * alpha * slope * b0 + slope**2 * d0 + s["11"])


class coefficient(sp.Function):  # noqa: N801 (printed as the literature writes it)
    r""":math:`b_1(L, \theta)`, the recursion's value after :math:`L` layers (:func:`correction`, unrolled in closed form);
    unevaluated, so that a statement prints compactly, and evaluated numerically through its closed form.

    >>> round(float(coefficient(3, 3 * sp.pi / 4).evalf(30)), 4), coefficient(1, theta).doit()
    (-0.9955, 0)
    """

    nargs = 2

    def doit(self, **hints):
        depth = self.args[0]
        return correction(int(depth), self.args[1]) if depth.is_Integer and int(depth) in DEPTHS else self

    def _eval_evalf(self, prec):
        value = self.doit()
        return None if value is self or not value.is_number else value._eval_evalf(prec)

    def _eval_is_real(self):
        return True if self.args[1].is_real else None

    def _latex(self, printer, exp=None):
        body = rf"b_1\left({printer._print(self.args[0])}, {printer._print(self.args[1])}\right)"
        return rf"{body}^{{{exp}}}" if exp is not None else body


def correction(depth: int | sp.Basic = L, angle: sp.Basic = theta) -> sp.Basic:
    r"""The coefficient :math:`b_1` of :math:`1/N` in :math:`C(N, L, \theta)`: the recursion unrolled at the
    correlations :math:`\rho_{l-1} = \kappa^{\circ(l-1)}(\cos\theta)`; a ``Piecewise`` over :math:`L = 1, \dots, 5`
    when ``depth`` is symbolic.

    >>> correction(1, sp.pi / 2), round(float(correction(2, sp.pi / 2).evalf(30)), 4)
    (0, -0.2859)
    """
    if not isinstance(depth, (int, sp.Integer)):
        return sp.Piecewise(*[(correction(d, angle), sp.Eq(depth, d)) for d in DEPTHS])
    state: tuple = (sp.Integer(0),) * 5
    corr = sp.cos(angle)
    for layer in range(int(depth)):
        if layer:
            corr = kappa(corr)
        state = _rules(layer_derivatives(corr), unit_covariances(corr), state)
    return state[0]


def _polar(p: int, q: int, angle: sp.Basic) -> sp.Basic:
    """E[relu(u)^p relu(v)^q] as the polar integral over the region where both units are active."""
    radial = sp.Integral(rho ** (p + q + 1) * sp.exp(-(rho**2) / 2), (rho, 0, sp.oo))
    return radial * sp.Integral(sp.cos(phi) ** p * sp.cos(phi - angle) ** q, (phi, angle - sp.pi / 2, sp.pi / 2)) / (2 * sp.pi)


def _moment_steps(p: int, q: int) -> tuple[list[Step], Step]:
    """E[relu(u)^p relu(v)^q] at angle t: the polar form (cited, its cases t = 0 and pi/2 checked), evaluated."""
    density = sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi)
    lhs = Expectation(relu(w1) ** p * relu(_V) ** q, (w1, w2))
    at0 = equal(_polar(p, q, 0), sp.Integral(z ** (p + q) * density, (z, 0, sp.oo)),
                rf"the case $t = 0$ is $\mathbb{{E}}[u^{p + q}; u > 0]$, $u \sim \mathcal{{N}}(0, 1)$")
    at90 = equal(_polar(p, q, sp.pi / 2), sp.Integral(z**p * density, (z, 0, sp.oo)) * sp.Integral(
        z**q * density, (z, 0, sp.oo)), rf"the case $t = \pi/2$: independent units, $\mathbb{{E}}[u^{p}; u > 0]\,"
        rf"\mathbb{{E}}[u^{q}; u > 0]$")
    cited = cite(lhs, "=", _polar(p, q, t), "Section 2", CHO_SAUL,
                 rf"the polar form of the arc-cosine kernels, with powers ${p}$ and ${q}$: $w = \rho(\cos\phi, \sin\phi)$, "
                 r"both units active for $\phi \in (t - \pi/2, \pi/2)$; its cases $t = 0, \pi/2$ are checked", uses=[at0, at90])
    result = equal(lhs, _moments(t)[p, q], "the radial integral is $8$, the angular one in closed form", uses=[cited])
    return [at0, at90, cited, result], result


@cache
def derive_correction() -> Derivation:
    """b_1 = lim N (C(N, L, theta) - K(L, theta)): the 1/N expansion, unrolled for L = 1..5."""
    nngp = derive_nngp()
    k_step = next(s for s in nngp.steps if s.lhs == K(l, theta) and s.rhs == kappa(K(l - 1, theta)))
    k_first = next(s for s in nngp.steps if s.lhs == K(0, theta))
    arc = next(s for s in nngp.steps if s.lhs == k(t) and s.status == "checked")
    steps = [s for s in nngp.steps if id(s) in support_of([k_step, k_first, arc])]
    mean = hypothesis(F(g00, g01, g11), "=", sp.sqrt(g00 * g11) * correlation_map(g01 / sp.sqrt(g00 * g11)),
                      r"given layer $l - 1$ the units of layer $l$ are iid, their preactivations $\mathcal{N}(0, G^{l-1})$ "
                      r"exactly: $\mathbb{E}[G^l_{01} \mid G^{l-1}]$ is the arc-cosine kernel scaled by "
                      r"$\sqrt{g_{00} g_{11}}$ (positive homogeneity), $\kappa$ in closed form")
    steps.append(mean)
    derivative_steps = []
    for wrt, value in derivatives().items():
        name = define(DF[wrt](g00, g01, g11), sp.Derivative(F(g00, g01, g11), *wrt), "a derivative of the layer map")
        derivative_steps.append(equal(name.lhs, value, "differentiated in closed form", uses=[name, mean]))
        steps += [name, derivative_steps[-1]]
    m31, m31_result = _moment_steps(3, 1)
    m22, m22_result = _moment_steps(2, 2)
    steps += [*m31, *m22]
    covariances = []
    e31, e22 = (s.lhs.subs(t, sp.acos(c)) for s in (m31_result, m22_result))
    two = {"00": (4 * m22_result.lhs.subs(t, 0), 2 * k(0), 2 * k(0)), "01": (4 * e31, 2 * k(0), 2 * k(sp.acos(c))),
           "02": (4 * e22, 2 * k(0), 2 * k(0)), "11": (4 * e22, 2 * k(sp.acos(c)), 2 * k(sp.acos(c)))}
    for key, (second, left, right) in two.items():
        definition = define(S[key](c), second - left * right,
                            rf"the covariance $S_{{{key}}}$ of one unit's $2(a^2, a a', a'^2)$ at unit variances and "
                            r"correlation $c$, $a = \operatorname{relu}(u)$, $a' = \operatorname{relu}(v)$")
        used = [definition, arc] + ([m31_result] if key == "01" else []) + ([m22_result] if key != "01" else [])
        covariances.append(equal_at(S[key](c), unit_covariances()[key], "the moments in closed form", uses=used,
                                    at={t: (sp.acos(c), 0)}))
        steps += [definition, covariances[-1]]
    prev = tuple(f(l - 1) for f in (mu, A, B, D2, D))
    here = _rules({w: DF[w](1, K(l - 1, theta), 1) for w in _KEYS},
                  {key: S[key](K(l - 1, theta)) for key in S}, prev)
    rules = [hypothesis(f(l), "=", rhs, why) for f, rhs, why in zip((mu, A, B, D2, D), here, RECURSION, strict=True)]
    start = [hypothesis(f(0), "=", 0, "the inputs are fixed: no mean shift and no fluctuation before the first layer")
             for f in (mu, A, B, D2, D)]
    steps += [*rules, *start]
    order = [rules[0], rules[4], rules[2], rules[1], rules[3]]
    corrs = tuple(K(d - 1, theta) for d in reversed(DEPTHS))  # each rule unrolls what the ones before introduce
    unrolled = _unrolled(mu(L), coefficient(L, theta), r"the recursion unrolled from the inputs, for $L = 1, \dots, 5$",
                         uses=[*order, *start, *derivative_steps, *covariances, k_step, k_first],
                         at={l: tuple(reversed(DEPTHS)), c: corrs, g01: corrs, g00: (1,), g11: (1,)}, cases=(L, DEPTHS))
    gap = sp.Limit(N * (C(N, L, theta) - K(L, theta)), N, sp.oo)
    notation = define(gap.subs(L, l), mu(l), r"$\mu(l)$, the coefficient of $1/N$ in the covariance after $l$ layers")
    steps += [unrolled, notation]
    steps.append(equal_at(gap, coefficient(L, theta), "the coefficient of $1/N$ after $L$ layers",
                          uses=[notation, unrolled], at={l: L}))
    return Derivation(
        "Finite-width correction of the NNGP kernel of a deep ReLU network",
        steps,
        (gap, "=", coefficient(L, theta)),
        assumptions=(r"He-scaled ReLU network of width $N$, no biases, two inputs of equal norm at angle $\theta$",
                     r"the $1/N$ expansion of the Gram matrices' mean and covariance (Yaida 2020; Roberts, Yaida and "
                     r"Hanin 2022, ch. 4), taken as a hypothesis: the layer recursions below"),
    )


RECURSION = (
    r"the $1/N$ expansion: the mean shift of $G^l_{01}$ is the previous one carried by $\kappa'$ plus half the "
    r"curvature of the layer map against the covariance $V^{l-1}/N$ of the Gram triple below",
    r"the diagonal variance accumulates one unit's $S_{00}$ per layer ($V = S + J V J^{\top}$, the diagonal kept)",
    r"the covariance of diagonal and off-diagonal entries, $(S + J V J^{\top})_{01}$",
    r"the covariance of the two diagonal entries, $(S + J V J^{\top})_{02}$",
    r"the variance of the off-diagonal entry, $(S + J V J^{\top})_{11}$",
)


def _unrolled(lhs, rhs, reason: str, uses, at: dict, cases: tuple) -> Step:
    """A checked equality for each value of ``cases = (var, values)``: the premises, instantiated at the values of
    ``at`` (as :func:`~proofs.rules.equal_at` does), rewrite the left side by exact replacement until nothing changes
    (SymPy's ``xreplace``: the unrolled recursion is too large for term rewriting by ``subs``), and the right side is
    evaluated; both must be the same expression. A premise that rewrites nothing is refused."""

    def check(premises) -> str:
        rules: list[tuple[int, sp.Basic, sp.Basic]] = []
        for n, p in enumerate(premises):
            free = [v for v in at if p.lhs.has(v) or p.rhs.has(v)]
            for point in product(*(at[v] for v in free)):
                sub = dict(zip(free, point, strict=True))
                rules.append((n, p.lhs.subs(sub), p.rhs.subs(sub)))
        table = {left: right for _, left, right in rules}
        owner = {left: n for n, left, _ in rules}
        fired: set[int] = set()
        var, values = cases
        for value in values:
            expr = lhs.subs(var, value)
            for _ in range(64):
                fired |= {owner[a] for a in expr.atoms(AppliedUndef) if a in owner}
                new = expr.xreplace(table)
                if new == expr:
                    break
                expr = new
            if expr != rhs.subs(var, value).doit():
                raise StepNotChecked(f"the premises do not unroll {lhs} into {rhs} at {var} = {value}")
        unused = [p for n, p in enumerate(premises) if n not in fired]
        if unused:
            raise StepNotChecked(f"the premise {unused[0].lhs} = {unused[0].rhs} is not used by the check")
        return (f"premises, replaced until unchanged; each of ${sp.latex(var)} = {', '.join(map(str, values))}$: "
                "identical after rewriting")

    return checked_step(lhs, "=", rhs, reason, check, uses)
