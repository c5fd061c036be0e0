r"""Parities defeat gradients: over the :math:`2^d` parity targets the loss gradient hardly moves.

Setting (Shalev-Shwartz, Shamir and Shammah 2017, Section 2.1 and Theorem 1): x uniform on
:math:`\{\pm 1\}^d`; the targets are the :math:`2^d` parities :math:`\chi_S(x) = \prod_{i \in S} x_i`,
:math:`S \subseteq [d]`, the constant :math:`\chi_\emptyset = 1` included (the paper's family
:math:`x \mapsto (-1)^{\langle x, v\rangle}`, :math:`v \in \{0, 1\}^d`, on :math:`x \in \{0, 1\}^d`: the same
functions under :math:`x_i \mapsto (-1)^{x_i}`, so :math:`|\mathcal{H}| = 2^d`);
any model :math:`p_w(x)` differentiable in w, with gradient :math:`g(x) = \nabla_w p_w(x) \in
\mathbb{R}^P`; the square loss with its factor one half,
:math:`F_S(w) = \mathbb{E}_x[\tfrac12 (p_w(x) - \chi_S(x))^2]`, whose gradient is
:math:`\mathbb{E}_x[(p_w - \chi_S) g]`. The variance over S uniform,
:math:`\mathrm{Var}_S = 2^{-d} \sum_S \|\nabla F_S(w) - 2^{-d} \sum_{S'} \nabla F_{S'}(w)\|^2`, satisfies
the exact identity

.. math:: \mathrm{Var}_S = \frac{\mathbb{E}_x\|g(x)\|^2}{2^d} - \frac{\|g(\mathbf{1})\|^2}{4^d},

so :math:`\mathrm{Var}_S \le G^2/2^d` for every G with :math:`\mathbb{E}_x\|g\|^2 \le G^2` (Theorem 1's
:math:`G(w)^2/|\mathcal{H}|` with :math:`|\mathcal{H}| = 2^d`), with equality iff
:math:`\nabla_w p_w(\mathbf{1}) = 0`. The claim ``parity.gradient`` states the bound as the
supremum it is: :math:`\sup_{p, w} \mathrm{Var}_S / \mathbb{E}_x\|\nabla_w p_w\|^2 = 2^{-d}`, attained by
a ReLU network whose units are all off at :math:`x = \mathbf{1}`.

How it differs from the usual statement: the paper bounds the variance for any orthogonal family
with :math:`\mathbb{E}[h^2] \le 1`; for parities the bound is attained, the exact defect being
:math:`\|\nabla_w p_w(\mathbf{1})\|^2/4^d` (the mean over S of the targets' gradients is
:math:`2^{-d} g(\mathbf{1})`, not 0). With the square loss without its half,
:math:`(p - \chi_S)^2`, every gradient doubles and the bound is :math:`4 G^2/2^d`.

The proof: the gradient splits into a part free of S and the Fourier coefficient
:math:`\hat g_j(S) = \mathbb{E}_x[\chi_S g_j]`; the variance is the mean square of the coefficients less
the square of their mean; Parseval's theorem (cited, O'Donnell 2014, Section 1.4; its d = 3 instance
checked) and the Fourier expansion at :math:`\mathbf{1}` (cited, Theorem 1.1 with Proposition 1.8; its
d = 3 instance checked) give the identity. The weakest link is those two citations.

Symbols: ``d`` (the claim's parameter), ``P`` parameters, inputs :math:`x_k` (:math:`x_1 = \mathbf{1}`)
and parities :math:`S_s`, ``k, s = 1 .. 2^d``, coordinates ``j = 1 .. P``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import sympy as sp

from .checks import StepNotChecked, confirm_equal
from .derivation import Derivation, cite, define, equal, equal_entrywise, hypothesis, relation
from .printing import Notation, indexed, latex_expr, symbol
from .residual import HIGHAM  # the rounding bounds of the check
from .sources import Source
from .steps import Step, checked_step, rewriting

__all__ = ["SOURCES", "SHALEV_SHWARTZ", "ODONNELL", "HIGHAM", "derive_gradient_variance", "walsh_table"]

d = sp.Symbol("d", integer=True, positive=True)
P = sp.Symbol("P", integer=True, positive=True)
s, k, j = (sp.Symbol(n, integer=True, positive=True) for n in "skj")
t = sp.Symbol("t", nonnegative=True)

SHALEV_SHWARTZ = Source("shalevshwartz2017", "Shai Shalev-Shwartz and Ohad Shamir and Shaked Shammah",
                        "Failures of gradient-based deep learning",
                        "Proceedings of the 34th International Conference on Machine Learning (ICML), PMLR 70", 2017,
                        arxiv="1703.07950", pages="3067-3075", kind="inproceedings")
ODONNELL = Source("odonnell2014", "Ryan O'Donnell", "Analysis of Boolean Functions", "Cambridge University Press", 2014,
                  doi="10.1017/CBO9781139814782", isbn="978-1-107-03832-5", arxiv="2105.10386", kind="book")
SOURCES = (SHALEV_SHWARTZ, ODONNELL, HIGHAM)

# --- notation --------------------------------------------------------------------------------------

w = indexed("w_par", "w")
chi = indexed("chi_par", r"\chi")  # chi[s, k] = chi_{S_s}(x_k)
g = indexed("g_par", "g")  # g[k, j] = d p_w(x_k) / d w_j
ghat = indexed("ghat_par", r"\hat{g}")  # ghat[s, j] = E_x[chi_S g_j]: the Fourier coefficient
a = indexed("a_par", "a")  # a[j] = E_x[p_w g_j]: the part of the gradient free of S
mean = indexed("m_par", "m")  # m[j] = 2^-d sum_S d F_S / d w_j
V = symbol("Var_S", r"\mathrm{Var}_S")
R = symbol("R_par", "R")
Gamma = symbol("E||grad p||^2", r"\mathbb{E}_x\|\nabla_w p_w(x)\|^2", positive=True)
G0 = symbol("||grad p(1)||^2", r"\|\nabla_w p_w(\mathbf{1})\|^2", nonnegative=True)
t0 = sp.Symbol("t_0", nonnegative=True)


class _Output(sp.Function):
    """p_w(x_k): the model's output at input k, a function of the coordinate w_j differentiated."""

    nargs = 2

    def _latex(self, printer, exp=None) -> str:
        text = rf"p_w(x_{{{printer._print(self.args[1])}}})"
        return text if exp is None else rf"\left({text}\right)^{{{exp}}}"


class _Loss(sp.Function):
    """F_{S_s}(w): the loss of target s, a function of the coordinate w_j differentiated."""

    nargs = 2

    def _latex(self, printer, exp=None) -> str:
        text = rf"F_{{S_{{{printer._print(self.args[1])}}}}}(w)"
        return text if exp is None else rf"\left({text}\right)^{{{exp}}}"


class Sup(sp.Function):
    """The supremum over models and weights, printed; it is what the claim states, never evaluated."""

    nargs = 1

    def _latex(self, printer, exp=None) -> str:
        text = rf"\sup_{{p,\,w}} {printer._print(self.args[0])}"
        return text if exp is None else rf"\left({text}\right)^{{{exp}}}"

    def _sympystr(self, printer) -> str:
        return f"sup_(p, w) {printer._print(self.args[0])}"


p = _Output
F = _Loss
N = 2**d


# --- rules: finite sums term by term, and an attained least upper bound -------------------------------


def _split(e: sp.Basic) -> sp.Basic:
    """A finite sum is linear: every sum of several terms becomes a sum of sums, each factor free of
    the sum's index taken out of it (innermost index first)."""
    if isinstance(e, sp.Sum):
        expr = _split(e.function)
        for v, lo, hi in e.limits:
            terms = []
            for term in sp.Add.make_args(sp.expand(expr)):
                coeff, rest = term.as_independent(v, as_Add=False)
                terms.append(coeff * ((hi - lo + 1) if rest == 1 else sp.Sum(rest, (v, lo, hi))))
            expr = sp.Add(*terms)
        return expr
    if e.args and not isinstance(e, (sp.Indexed, sp.Derivative)):
        return e.func(*[_split(arg) for arg in e.args])
    return e


def _settled(side: sp.Basic, rewrite) -> sp.Basic:
    """``side`` rewritten by the premises, its derivatives carried out and its sums split, until nothing
    changes (sums are never evaluated: SymPy's summation would only spend time on these)."""
    for _ in range(3):
        carried = rewrite(side).replace(lambda e: isinstance(e, sp.Derivative), lambda e: e.doit(deep=False))
        again = _split(rewrite(carried))
        if again == side:
            break
        side = again
    return side


def linear_sums(lhs, rhs, reason: str = "", *, uses: Sequence[Step] = ()) -> Step:
    """A checked equality of finite sums: both sides rewritten by the premises, derivatives carried out,
    every sum split term by term (constants taken out), until nothing changes; then the expanded
    difference must be 0 (no general simplification: a step that needs one is refused quickly)."""
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)

    def confirm(rewrite) -> str:
        if sp.expand(_settled(lhs, rewrite) - _settled(rhs, rewrite)) != 0:
            raise StepNotChecked(f"SymPy could not confirm {lhs} = {rhs} term by term")
        return "finite sums term by term, expand"

    return checked_step(lhs, "=", rhs, reason, rewriting(confirm), uses)


def attained_supremum(lhs: sp.Basic, value: sp.Basic, var: sp.Symbol, point: sp.Symbol, reason: str = "", *,
                      uses: Sequence[Step]) -> Step:
    r"""``sup R = value`` from three premises: ``R = f(var)`` for every model, ``R <= value`` for every
    model, and ``f(point) = value`` at a model that exists (the least upper bound is attained). The
    check confirms that the bound is the ratio's, and that the attained value is the formula at
    ``point``."""
    value = sp.sympify(value)

    def check(premises: Sequence[Step]) -> str:
        if len(premises) != 3:
            raise StepNotChecked("an attained supremum needs the formula, the bound and the attaining model")
        formula = next((q for q in premises if q.rel == "=" and q.rhs.has(var)), None)
        bound = next((q for q in premises if q.rel == "<="), None)
        witness = next((q for q in premises if q.rel == "=" and q is not formula), None)
        if formula is None or bound is None or witness is None:
            raise StepNotChecked(f"no premise states the formula in {var}, the bound, or the attaining model")
        if bound.lhs != formula.lhs or bound.lhs != lhs.args[0]:
            raise StepNotChecked(f"the bound is not on {lhs.args[0]}")
        confirm_equal(bound.rhs, value)  # raises unless the bound is the value
        if witness.rhs != value:
            raise StepNotChecked(f"the attained value is not {value}")
        how = confirm_equal(witness.lhs, formula.rhs.subs(var, point))
        return (f"least upper bound: the bound holds for every model and the formula at "
                f"${latex_expr(sp.Eq(var, point))}$ attains it ({how})")

    return checked_step(lhs, "=", value, reason, check, uses)


# --- the d = 3 instances of the two cited facts -------------------------------------------------------


def walsh_table(n: int) -> sp.ImmutableMatrix:
    r"""The :math:`2^n \times 2^n` table of :math:`\chi_S(x) = \prod_{i \in S} x_i`: row s is the subset of the
    set bits of s, column k the input with :math:`x_i = -1` where bit i of k is set (column 0 is
    :math:`\mathbf{1}`); each entry is the unevaluated product over S, as written."""
    points = [tuple(-1 if (col >> i) & 1 else 1 for i in range(n)) for col in range(2**n)]
    return sp.ImmutableMatrix(2**n, 2**n, lambda row, col: sp.Mul(
        *[sp.Integer(points[col][i]) for i in range(n) if (row >> i) & 1], evaluate=False))


def _instances() -> tuple[Step, Step]:
    """Parseval and the expansion at 1 for d = 3 and an arbitrary function g (8 symbols)."""
    table = walsh_table(3)
    values = sp.ImmutableMatrix(sp.symbols("g_1:9", real=True))
    coeffs = sp.MatMul(sp.Rational(1, 8), table, values, evaluate=False)  # hat g(S) = 2^-3 sum_x chi_S(x) g(x)
    parseval = equal_entrywise(
        Notation(sp.MatMul(sp.Transpose(coeffs), coeffs, evaluate=False), r"\sum_{S \subseteq [3]} \hat{g}(S)^2",
                 "sum_S hat g(S)^2"),
        Notation(sp.MatMul(sp.Rational(1, 8), sp.Transpose(values), values, evaluate=False),
                 r"\mathbb{E}_x[g(x)^2]", "E_x[g(x)^2]"),
        r"$d = 3$: the $8 \times 8$ table of $\chi_S(x)$ and $g$ any function of the $8$ inputs ($8$ symbols)")
    ones = sp.ImmutableMatrix([[1] * 8])
    expansion = equal_entrywise(
        Notation(sp.MatMul(ones, coeffs, evaluate=False), r"\sum_{S \subseteq [3]} \hat{g}(S)", "sum_S hat g(S)"),
        Notation(sp.ImmutableMatrix([[values[0]]]), r"g(\mathbf{1})", "g(1)"),
        r"$d = 3$: the coefficients of any $g$ add up to its value at $x = \mathbf{1}$, where every "
        r"$\chi_S(\mathbf{1}) = 1$")
    return parseval, expansion


def _attaining_unit() -> tuple[Step, Step, Step]:
    """A ReLU unit a relu(u.x + b) whose pre-activation at x = 1 is -mu < 0: its gradient in all its
    parameters vanishes there (differentiated first, then evaluated at 1), so t = 0 for a network of
    such units with no output bias."""
    a1, b1 = sp.symbols("a b", real=True)
    u, xs = sp.symbols("u_1:3", real=True), sp.symbols("x_1:3", real=True)
    mu = sp.Symbol("mu", positive=True)
    unit = a1 * sp.Max(0, sum(ui * xi for ui, xi in zip(u, xs, strict=True)) + b1)
    squares = sp.Add(*[sp.Subs(sp.Derivative(unit, v), xs, (1, 1)) ** 2 for v in (a1, *u, b1)])
    shown = (r"\frac{\|\nabla_{a, u, b}\, a \operatorname{relu}(u \cdot x + b)\|^2_{x = \mathbf{1}}}"
             r"{\mathbb{E}_x\|\nabla_w p_w(x)\|^2}")
    at_one = define(t0, Notation(squares / Gamma, shown, "||grad_(a,u,b) a relu(u.x + b)||^2 at x = 1 / E||grad p||^2"),
                    r"$t$ of a ReLU network $\sum a \operatorname{relu}(u \cdot x + b)$ with no output bias, one "
                    r"unit's parameters shown ($d = 2$; every unit, any $d$, alike)")
    bias = hypothesis(sum(u) + b1, "=", -mu, r"every unit is off at $x = \mathbf{1}$: its pre-activation there is "
                      r"$-\mu < 0$")
    zero = equal(t0, 0, r"the gradient in every parameter vanishes at $\mathbf{1}$", uses=[at_one, bias])
    return at_one, bias, zero


# --- the derivation -------------------------------------------------------------------------------------


@cache
def derive_gradient_variance() -> Derivation:
    r""":math:`\sup_{p, w} \mathrm{Var}_S[\nabla F_S(w)] / \mathbb{E}_x\|\nabla_w p_w(x)\|^2 = 2^{-d}`
    over the :math:`2^d` parities, from the exact identity
    :math:`\mathrm{Var}_S = \mathbb{E}_x\|g\|^2/2^d - \|g(\mathbf{1})\|^2/4^d` (cited: Parseval's theorem and the
    Fourier expansion, each with its d = 3 instance checked)."""
    wj = w[j]
    loss = define(F(wj, s), sp.Sum((p(wj, k) - chi[s, k]) ** 2 / 2, (k, 1, N)) / N,
                  r"the square loss with its half, $x$ uniform on the $2^d$ points $x_k$ of $\{\pm 1\}^d$; "
                  r"$\chi_{s,k} = \chi_{S_s}(x_k) = \prod_{i \in S_s} (x_k)_i$, the $2^d$ parities, $\chi_\emptyset = 1$ "
                  r"included")
    grad = define(sp.Derivative(p(wj, k), wj), g[k, j], r"$g(x) = \nabla_w p_w(x)$, any model differentiable in $w$")
    free = define(a[j], sp.Sum(p(wj, k) * g[k, j], (k, 1, N)) / N, r"$a_j = \mathbb{E}_x[p_w(x)\, g_j(x)]$")
    coeff = define(ghat[s, j], sp.Sum(chi[s, k] * g[k, j], (k, 1, N)) / N,
                   r"$\hat{g}_{s,j} = \mathbb{E}_x[\chi_{S_s}(x)\, g_j(x)]$, the Fourier coefficient of $g_j$ on $S_s$")
    split = linear_sums(sp.Derivative(F(wj, s), wj), a[j] - ghat[s, j],
                  r"the gradient of the loss is $\mathbb{E}_x[(p_w - \chi_S)\, g]$: only $\hat{g}$ depends on $S$",
                  uses=[loss, grad, free, coeff])
    d_s = sp.Derivative(F(wj, s), wj)
    average = define(mean[j], sp.Sum(d_s, (s, 1, N)) / N, "the mean gradient over the $2^d$ targets")
    total = sp.Sum(ghat[s, j], (s, 1, N))
    mean_is = linear_sums(mean[j], a[j] - total / N, uses=[average, split])
    variance = define(V, sp.Sum((d_s - mean[j]) ** 2, (s, 1, N), (j, 1, P)) / N,
                      r"the variance over $S$ uniform, $\mathbb{E}_S \|\nabla F_S - \mathbb{E}_{S'} \nabla F_{S'}\|^2$ "
                      r"(the paper's $\mathrm{Var}(\mathcal{H}, F, w)$)")
    second = sp.Sum(ghat[s, j] ** 2, (s, 1, N), (j, 1, P))
    moments = linear_sums(V, second / N - sp.Sum((total / N) ** 2, (j, 1, P)),
                          "the mean square of the coefficients less the square of their mean: $a$ cancels",
                          uses=[variance, split, mean_is])
    inst_parseval, inst_expansion = _instances()
    energy = sp.Sum(g[k, j] ** 2, (k, 1, N), (j, 1, P)) / N
    parseval = cite(second, "=", energy, "Section 1.4 (Parseval's Theorem)", ODONNELL,
                    r"for each coordinate $g_j$, the parities being an orthonormal basis (Theorem 1.5), summed over $j$",
                    uses=[inst_parseval])
    expansion = cite(total, "=", g[1, j], "Theorem 1.1 and Proposition 1.8", ODONNELL,
                     r"the Fourier expansion $g_j(x) = \sum_S \hat{g}_j(S) \chi_S(x)$ at $x_1 = \mathbf{1}$",
                     uses=[inst_expansion])
    norm = define(Gamma, energy, r"$G^2 = \mathbb{E}_x\|\nabla_w p_w(x)\|^2$, the smallest $G$ of the hypothesis "
                                 r"$\mathbb{E}_x\|\nabla_w p_w\|^2 \le G^2$")
    at_one = define(G0, sp.Sum(g[1, j] ** 2, (j, 1, P)), r"the squared gradient at $x_1 = \mathbf{1}$")
    identity = linear_sums(V, Gamma / N - G0 / N**2, "exact: the bound $G^2/2^d$ less the gradient at $\\mathbf{1}$",
                           uses=[moments, parseval, expansion, norm, at_one])
    ratio_def = define(R, V / Gamma, r"the variance in units of $G^2$ (a model with $G > 0$)")
    t_def = define(t, G0 / Gamma, r"$t = \|\nabla_w p_w(\mathbf{1})\|^2 / \mathbb{E}_x\|\nabla_w p_w\|^2 \ge 0$")
    ratio = equal(R, 2**-d - t / 4**d, uses=[ratio_def, identity, t_def])
    upper = relation(R, "<=", 2**-d, r"every model, every $w$: Theorem 1 of Shalev-Shwartz et al., $|\mathcal{H}| = 2^d$",
                     uses=[ratio])
    at_relu, bias, zero = _attaining_unit()
    witness = equal(2**-d - t0 / 4**d, 2**-d, r"the ReLU network attains the bound", uses=[zero])
    sup = attained_supremum(Sup(R), 2**-d, t, t0, uses=[ratio, upper, witness])
    remarks = [relation(V, "<=", Gamma / N, r"Theorem 1's form: $\mathrm{Var}_S \le G^2/2^d$ for every $G$ with "
                        r"$\mathbb{E}_x\|\nabla_w p_w\|^2 \le G^2$", uses=[identity])]
    return Derivation(
        r"Parities: the variance over the $2^d$ targets of the loss gradient, in units of $\mathbb{E}_x\|\nabla_w p_w\|^2$",
        [loss, grad, free, coeff, split, average, mean_is, variance, moments, inst_parseval, parseval, inst_expansion,
         expansion, norm, at_one, identity, ratio_def, t_def, ratio, upper, at_relu, bias, zero, witness, sup],
        (Sup(R), "=", 2**-d),
        uses=[sup],
        assumptions=(r"$x$ uniform on $\{\pm 1\}^d$; the targets the $2^d$ parities $\chi_S$, $S \subseteq [d]$ "
                     r"(the constant $\chi_\emptyset$ included)",
                     r"any model $p_w(x)$ differentiable in $w \in \mathbb{R}^P$ with "
                     r"$0 < \mathbb{E}_x\|\nabla_w p_w(x)\|^2 \le G^2$",
                     r"the square loss $F_S(w) = \mathbb{E}_x[\frac{1}{2}(p_w(x) - \chi_S(x))^2]$"),
        remarks=remarks,
    )

