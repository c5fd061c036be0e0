r"""Residual networks: the Jacobian of a stack of blocks, its singular-value bounds, and
why residual connections keep gradients from vanishing.

A stack of ``depth`` (L) blocks :math:`y = x + F(x)` has the input-output Jacobian
:math:`P_L = (I + J_{F_L}) \cdots (I + J_{F_1})`, the later block on the left. One claim each:

- ``residual.jacobian``: on a segment on which no ReLU changes sign, the central difference of
  a ReLU stack is :math:`P_L u` (induction over the blocks, vectors as non-commuting symbols);
- ``residual.singular-bounds``: if every :math:`\|J_{F_l}\|_2 \le \epsilon < 1`, the singular values
  of :math:`P_L` lie in :math:`[(1-\epsilon)^L, (1+\epsilon)^L]`, both ends attained (cited);
- ``residual.vanishing``: with independent :math:`J_l` of iid :math:`N(0, \sigma^2/n)` entries,
  :math:`E\|P_L u\|^2 = (1+\sigma^2)^L \|u\|^2` exactly at finite width (indexed sums).

Symbols use the claims' parameter names: ``width`` (n), ``depth`` (L), ``eps``, ``bound`` (a
code, see :data:`BOUNDS`), ``sigma2``.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from .checks import confirm_equal
from .derivation import (
    Derivation,
    cite,
    define,
    equal,
    equal_entrywise,
    hypothesis,
    recurrence,
    relation,
)
from .operators import Expectation
from .printing import Notation, symbol
from .sources import CASELLA, Source
from .steps import Step, checked_step, rewriting

__all__ = [
    "BOUNDS",
    "Notation",
    "equal_entrywise",
    "derive_jacobian",
    "derive_singular_bounds",
    "derive_vanishing",
    "derive_gaussian_reduction",
    "SOURCES",
]

width = sp.Symbol("width", integer=True, positive=True)
depth = sp.Symbol("depth", integer=True, positive=True)
eps = sp.Symbol("eps", real=True, positive=True)
bound = sp.Symbol("bound", integer=True, positive=True)
sigma2 = sp.Symbol("sigma2", real=True)  # the claim allows 0: no positivity assumed

l = sp.Symbol("l", integer=True, positive=True)
alpha = sp.Symbol("alpha", positive=True)
g = sp.Symbol("g", positive=True)
t = sp.Symbol("t", nonnegative=True)
h = sp.Symbol("h", positive=True)

# Codes of the singular-bounds claim's choice parameter ``bound``.
BOUNDS = {"upper": 1, "lower": 2}

HE_RESNET = Source("he2016", "Kaiming He and Xiangyu Zhang and Shaoqing Ren and Jian Sun",
    "Deep residual learning for image recognition",
    "Proceedings of the IEEE Conference on Computer Vision and Pattern Recognition (CVPR)", 2016,
    doi="10.1109/CVPR.2016.90", arxiv="1512.03385", pages="770-778", kind="inproceedings")
HE_IDENTITY = Source("he2016identity", "Kaiming He and Xiangyu Zhang and Shaoqing Ren and Jian Sun",
    "Identity mappings in deep residual networks",
    "European Conference on Computer Vision (ECCV), Lecture Notes in Computer Science 9908", 2016,
    doi="10.1007/978-3-319-46493-0_38", arxiv="1603.05027", pages="630-645", kind="inproceedings")
HORN_JOHNSON = Source("horn2013", "Roger A. Horn and Charles R. Johnson", "Matrix Analysis (2nd edition)",
    "Cambridge University Press", 2013, isbn="978-0-521-83940-2", kind="book")
RUDIN = Source("rudin1976", "Walter Rudin", "Principles of Mathematical Analysis (3rd edition)",
    "McGraw-Hill, New York", 1976, isbn="978-0-07-054235-8", kind="book")
HIGHAM = Source("higham2002", "Nicholas J. Higham", "Accuracy and Stability of Numerical Algorithms (2nd edition)",
    "SIAM, Philadelphia", 2002, doi="10.1137/1.9780898718027", isbn="978-0-89871-521-7", kind="book")
HARDT_MA = Source("hardt2017", "Moritz Hardt and Tengyu Ma", "Identity matters in deep learning",
    "International Conference on Learning Representations (ICLR)", 2017, arxiv="1611.04231", kind="inproceedings")
BALDUZZI = Source("balduzzi2017",
    "David Balduzzi and Marcus Frean and Lennox Leary and J. P. Lewis and Kurt Wan-Duo Ma and Brian McWilliams",
    "The shattered gradients problem: if resnets are the answer, then what is the question?",
    "Proceedings of the 34th International Conference on Machine Learning (ICML), PMLR 70", 2017, arxiv="1702.08591",
    pages="342-350", kind="inproceedings")
HANIN_ROLNICK = Source("hanin2018", "Boris Hanin and David Rolnick",
    "How to start training: the effect of initialization and architecture",
    "Advances in Neural Information Processing Systems 31 (NeurIPS)", 2018, arxiv="1803.01719", kind="inproceedings")
BENGIO = Source("bengio1994", "Yoshua Bengio and Patrice Simard and Paolo Frasconi",
    "Learning long-term dependencies with gradient descent is difficult", "IEEE Transactions on Neural Networks",
    1994, doi="10.1109/72.279181", volume="5", number="2", pages="157-166")
SOURCES = (HE_RESNET, HE_IDENTITY, HORN_JOHNSON, RUDIN, HIGHAM, HARDT_MA, BALDUZZI, HANIN_ROLNICK, BENGIO, CASELLA)


# --- notation ------------------------------------------------------------------------------


class _Display(sp.Function):
    """A commutative scalar function printed by a LaTeX template and a text one (norms, singular values)."""

    template = "{}"
    text = "{}"

    def _eval_is_commutative(self):
        return True

    def _sympystr(self, printer) -> str:
        return self.text.format(*(printer._print(a) for a in self.args))

    def _latex(self, printer, exp=None) -> str:
        text = self.template.format(*(printer._print(a) for a in self.args))
        return text if exp is None else rf"{text}^{{{exp}}}"


class InfNorm(_Display):
    r""":math:`\|v\|_\infty`; it vanishes at 0."""

    nargs, template, text = 1, r"\left\|{}\right\|_{{\infty}}", "||{}||_inf"

    @classmethod
    def eval(cls, arg):
        return sp.S.Zero if arg == 0 else None


def _display(name: str, template: str, text: str) -> type:
    """A one-argument :class:`_Display` printed by ``template`` (LaTeX) and ``text``."""
    return type(name, (_Display,), {"nargs": 1, "template": template, "text": text})


SigmaMax = _display("SigmaMax", r"\sigma_{{\max}}\left({}\right)", "sigma_max({})")
SigmaMin = _display("SigmaMin", r"\sigma_{{\min}}\left({}\right)", "sigma_min({})")
SupAdmissible = _display("SupAdmissible", r"\sup_{{\|J_l\|_2 \le \epsilon}} {}", "sup_(||J_l||_2 <= eps) {}")
InfAdmissible = _display("InfAdmissible", r"\inf_{{\|J_l\|_2 \le \epsilon}} {}", "inf_(||J_l||_2 <= eps) {}")
Expect = _display("Expect", r"\mathbb{{E}}\left[{}\right]", "E[{}]")
Var = _display("Var", r"\mathrm{{Var}}\left[{}\right]", "Var[{}]")


# --- residual.jacobian ----------------------------------------------------------------------------

_I = sp.Symbol("I", commutative=False)
_J = sp.Function("J", commutative=False)
_P = sp.Function("P", commutative=False)
_dots = sp.Symbol(r"\cdots", commutative=False)


def _product_display(top: sp.Basic) -> sp.Basic:
    """(I + J(L)) ... (I + J(1)), as printed."""
    return sp.Mul(_I + _J(top), _dots, _I + _J(1), evaluate=False)


def _generic_blocks():
    """Two generic blocks on R^2: y = x + F(x), z = y + G(y), F and G undefined functions; the
    Jacobians of y and z, and I + J_F(x), I + J_G(y)."""
    xs, xis = sp.symbols("x_1 x_2", real=True), sp.symbols("xi_1 xi_2", real=True)
    F = [sp.Function(f"F_{i}")(*xs) for i in (1, 2)]
    y = [xs[0] + F[0], xs[1] + F[1]]
    G = [sp.Function(f"G_{i}") for i in (1, 2)]
    z = [y[i] + G[i](*y) for i in (0, 1)]
    jac_y = sp.ImmutableMatrix(2, 2, lambda i, j: sp.Derivative(y[i], xs[j]))
    jac_z = sp.ImmutableMatrix(2, 2, lambda i, j: sp.Derivative(z[i], xs[j]))
    jf = sp.ImmutableMatrix(2, 2, lambda i, j: sp.Derivative(F[i], xs[j]))
    jg = sp.ImmutableMatrix(2, 2, lambda i, j: sp.Subs(sp.Derivative(G[i](*xis), xis[j]), xis, tuple(y)))
    eye = sp.ImmutableMatrix(sp.eye(2))
    return jac_y, jac_z, eye + jf, eye + jg


def _relu_block():
    """A ReLU block with its pattern D fixed, 2 x 2 with symbolic weights and biases."""
    x, b1, b2 = (sp.ImmutableMatrix(sp.symbols(f"{c}_1 {c}_2", real=True)) for c in "xbe")
    w1, w2 = (sp.ImmutableMatrix(2, 2, sp.symbols(f"{c}_11 {c}_12 {c}_21 {c}_22", real=True)) for c in "ac")
    mask = sp.diag(*sp.symbols("d_1 d_2", real=True))
    y = x + w2 * mask * (w1 * x + b1) + b2
    return sp.ImmutableMatrix(2, 2, lambda i, j: sp.Derivative(y[i], x[j])), sp.ImmutableMatrix(sp.eye(2) + w2 * mask * w1)


class _Seq(sp.Function):
    """A sequence of vectors: a defined (not undefined) function, so that a premise ``d(l) = ...``
    may be substituted into sums; it does not commute with matrices."""

    nargs = 1
    is_commutative = False


d = type("d", (_Seq,), {})  # d(l) = x_l(x + hu) - x_l(x - hu)
p = type("p", (_Seq,), {})  # p(l) = P(l) u
r = type("r", (sp.Function,), {"nargs": 1})  # r(l) = E||v_l||^2


@cache
def derive_jacobian() -> Derivation:
    r"""On a segment :math:`x \pm hu` on which no ReLU changes sign, the central difference of a
    ReLU stack is the chain-rule product applied to u, :math:`P_L u`: the measured relative
    discrepancy is 0. (The product is the Jacobian of any residual stack: remarks.)"""
    a, b, u, x = sp.symbols("a b u x", commutative=False)
    w_1, w_2, mask, b_1, b_2 = sp.symbols("W_1 W_2 D b_1 b_2", commutative=False)
    relu = sp.Function("relu")
    delta, central = sp.Symbol("Delta", real=True), sp.Symbol("C_h", commutative=False)

    def block(y):
        return y + w_2 * relu(w_1 * y + b_1) + b_2

    before = define(d(l - 1), a - b, "$d(l) = x_l(x + hu) - x_l(x - hu)$; $a$, $b$ are block $l$'s inputs at the ends")
    after = define(d(l), block(a) - block(b), r"block $l$: $x_l = x_{l-1} + W_2 \operatorname{relu}(W_1 x_{l-1} + b_1)"
                   r" + b_2$")
    same = [hypothesis(relu(w_1 * y + b_1), "=", mask * (w_1 * y + b_1),
                       f"no ReLU changes sign on the segment: at ${y}$, as at every point of it, block $l$ has the "
                       r"pattern $D = \operatorname{diag}(\mathbf{1}\{W_1 x + b_1 > 0\})$") for y in (a, b)]
    branch = define(_J(l), w_2 * mask * w_1, r"block $l$'s branch Jacobian at pattern $D$ ($\partial F/\partial x$, remark)")
    rule = equal(d(l), d(l - 1) + _J(l) * d(l - 1), "on the segment a block maps the difference of its inputs $v$ to "
                 "$v + J(l) v$: the biases cancel", uses=[after, before, *same, branch])
    ends = define(d(0), sp.Add(x + h * u, -(x - h * u), evaluate=False), "the stack's input at the two ends $x \\pm hu$")
    first = equal(d(0), 2 * h * u, uses=[ends])
    p_first = define(p(0), u, "$p(l) = P(l) u$, the chain-rule product applied to $u$ one block at a time")
    p_rule = define(p(l), p(l - 1) + _J(l) * p(l - 1), "$P(l) = (I + J(l)) P(l - 1)$: the later block on the left")
    unrolled = recurrence(d, depth, 0, 2 * h * p(depth), "through all $L$ blocks", uses=[rule, first, p_first, p_rule])
    difference = define(central, d(depth) / (2 * h), "the central difference of the stack's output along $u$")
    measured = define(delta, InfNorm(central - p(depth)) / InfNorm(p(depth)), "the relative discrepancy measured")
    jac_y, jac_z, one, two = _generic_blocks()
    relu_jac, relu_rhs = _relu_block()
    remarks = [
        equal_entrywise(Notation(jac_z, r"\frac{\partial z}{\partial x}", "dz/dx"),
                        Notation(sp.MatMul(two, one, evaluate=False), r"(I + J_G(y))(I + J_F(x))", "(I + J_G(y))(I + J_F(x))"),
                        r"the chain rule for two generic blocks $y = x + F(x)$, $z = y + G(y)$ on $\mathbb{R}^2$: the "
                        r"Jacobian of a stack is $(I + J_G(y))(I + J_F(x))$, the later block on the left (the factors "
                        "do not commute)"),
        equal_entrywise(Notation(relu_jac, r"\frac{\partial}{\partial x}\left(x + W_2 D (W_1 x + b_1) + b_2\right)",
                                 "d/dx (x + W2 D (W1 x + b1) + b2)"), Notation(relu_rhs, r"I + W_2 D W_1", "I + W2 D W1"),
                        r"a ReLU block at a fixed pattern $D$ has Jacobian $I + W_2 D W_1$ ($2 \times 2$ symbolic "
                        "weights and $D$)"),
    ]
    return Derivation(
        "Residual stack: the central difference is the ordered product of the $I + J_F$ applied to $u$",
        [before, after, *same, branch, rule, ends, first, p_first, p_rule, unrolled, difference, measured],
        (delta, "=", sp.Integer(0)),
        uses=[measured, difference, unrolled],
        assumptions=(r"ReLU blocks $x_l = x_{l-1} + W_2 \operatorname{relu}(W_1 x_{l-1} + b_1) + b_2$, "
                     r"$l = 1, \dots, L$ (weights per block)",
                     "a step $h$ for which no pre-activation changes sign on $[x - hu, x + hu]$"),
        remarks=remarks,
    )


# --- residual.singular-bounds ----------------------------------------------------------------------


def _attained(sign: int):
    """With every J_l = sign * eps I (2 x 2): the product is (1 + sign eps)^L I."""
    factor, power = sp.ImmutableMatrix(sp.eye(2)) * (1 + sign * eps), sp.ImmutableMatrix(sp.eye(2)) * (1 + sign * eps) ** depth
    text = "+" if sign > 0 else "-"
    return equal_entrywise(
        Notation(sp.MatPow(factor, depth), rf"\left(I {text} \epsilon I\right)^{{L}}", f"(I {text} eps I)^L"),
        Notation(power, rf"\left(1 {text} \epsilon\right)^{{L}} I", f"(1 {text} eps)^L I"),
        rf"$J_l = {text}\epsilon I$ for every $l$: every singular value of $P(L)$ is $(1 {text} \epsilon)^L$",
    )


@cache
def derive_singular_bounds() -> Derivation:
    r"""If every :math:`\|J_l\|_2 \le \epsilon < 1`, the singular values of the stack's Jacobian lie
    in :math:`[(1-\epsilon)^L, (1+\epsilon)^L]`, both ends attained (a cited theorem; its 2 x 2
    rotation case and the attaining stacks are checked)."""
    product = _P(depth)
    upper, lower = (1 + eps) ** depth, (1 - eps) ** depth
    extreme = sp.Symbol("s_L", positive=True)
    which = sp.Piecewise((SupAdmissible(SigmaMax(product)), sp.Eq(bound, BOUNDS["upper"])),
                         (InfAdmissible(SigmaMin(product)), sp.Eq(bound, BOUNDS["lower"])))
    closed = sp.Piecewise((upper, sp.Eq(bound, BOUNDS["upper"])), (lower, sp.Eq(bound, BOUNDS["lower"])))
    theta, c = sp.symbols("theta c", real=True)
    factor = sp.ImmutableMatrix(sp.eye(2) + eps * sp.Matrix([[sp.cos(theta), -sp.sin(theta)], [sp.sin(theta), sp.cos(theta)]]))
    gram = sp.ImmutableMatrix(sp.eye(2)) * (1 + eps**2 + 2 * eps * sp.cos(theta))
    steps = [
        define(product, _product_display(depth), r"the stack's Jacobian (residual.jacobian), $\|J(l)\|_2 \le \epsilon < 1$"),
        equal_entrywise(Notation(factor.T * factor, r"(I + J)^T (I + J)", "(I + J)^T (I + J)"),
                        Notation(gram, r"\left(1 + \epsilon^2 + 2\epsilon\cos\theta\right) I", "(1 + eps^2 + 2 eps cos(theta)) I"),
                        r"a $2 \times 2$ case: $J = \epsilon R(\theta)$, $R$ a rotation, has $\|J\|_2 = \epsilon$; both "
                        r"singular values of $I + J$ are $\sqrt{1 + \epsilon^2 + 2 \epsilon \cos\theta}$"),
        relation(1 + eps**2 + 2 * eps * c, "<=", (1 + eps) ** 2, r"$c = \cos\theta$: the upper bound $1 + \epsilon$ "
                 r"holds for every $\theta$ and is reached at $\theta = 0$", over=(c, sp.Interval(-1, 1))),
        relation(1 + eps**2 + 2 * eps * c, ">=", (1 - eps) ** 2, r"and the lower bound $1 - \epsilon$, reached at $\theta = \pi$",
                 over=(c, sp.Interval(-1, 1))),
        _attained(+1),
        _attained(-1),
    ]
    bounds = cite(which, "=", closed, "Section 5.6", HORN_JOHNSON,
                  r"the spectral norm is a submultiplicative matrix norm with $\|I\|_2 = 1$, so "
                  r"$\sigma_{\max}(P(L)) \le \prod_l \|I + J_l\|_2 \le (1 + \epsilon)^L$ (triangle inequality); "
                  r"$\sigma_{\min}(P(L)) = 1/\|P(L)^{-1}\|_2$ and $\|(I + J_l)^{-1}\|_2 \le 1/(1 - \epsilon)$ (Neumann "
                  r"series), so $\sigma_{\min}(P(L)) \ge (1 - \epsilon)^L$; $J_l = \epsilon I$ and $J_l = -\epsilon I$ "
                  "attain them (steps 5, 6); the one-block $2 \\times 2$ rotation case is checked (steps 2-4)",
                  uses=steps)
    chosen = define(extreme, which, "the extreme the claim states: the largest singular value over admissible stacks "
                                    "(the upper bound) or the smallest (the lower bound)")
    return Derivation(r"Singular values of a residual stack with $\|J_F\|_2 \le \epsilon$", [*steps, chosen, bounds],
                      (extreme, "=", closed), uses=[chosen, bounds],
                      assumptions=(r"$L$ residual blocks with Jacobians $I + J_l$, every $\|J_l\|_2 \le \epsilon < 1$",))


# --- residual.vanishing ----------------------------------------------------------------------------


def _sum_termwise(lhs, rhs, reason: str = "", *, uses=()) -> Step:
    """A checked equality whose finite sums of several terms are split into one sum per term
    (a finite sum is linear) before the premises rewrite and SymPy confirms, as in :func:`equal`."""

    def split(e: sp.Basic) -> sp.Basic:
        return e.replace(lambda x: isinstance(x, sp.Sum) and isinstance(x.function, sp.Add),
                         lambda x: sp.Add(*[sp.Sum(a, *x.limits) for a in x.function.args]))

    confirm = rewriting(lambda r: "a finite sum term by term, " + confirm_equal(split(r(lhs)), split(r(rhs)), r))
    return checked_step(lhs, "=", rhs, reason, confirm, uses)


@cache
def derive_vanishing() -> Derivation:
    r""":math:`E\|P_L u\|^2 = (1+\sigma^2)^L` for :math:`\|u\| = 1` and independent Gaussian
    :math:`J_l`, exactly at finite width; the plain chain's :math:`g^L` and the limit
    :math:`e^\alpha` are remarks."""
    jm, vi, ui = sp.IndexedBase("J"), sp.IndexedBase("v"), sp.IndexedBase("u")
    i, j, k = (sp.Symbol(s, integer=True, positive=True) for s in "ijk")
    jp = sp.Symbol("j'", integer=True, positive=True)
    norm_after = sp.Sum((vi[i] + sp.Sum(jm[i, j] * vi[j], (j, 1, width))) ** 2, (i, 1, width))  # ||v + J v||^2
    norm_before = sp.Sum(vi[k] ** 2, (k, 1, width))  # ||v||^2
    centred = hypothesis(Expectation(jm[i, j], (jm,)), "=", 0, "the entries of $J_l$ are centred")
    spread = hypothesis(Expectation(jm[i, j] * jm[i, jp], (jm,)), "=", sigma2 / width * sp.KroneckerDelta(j, jp),
                        "and independent, of variance $\\sigma^2/n$")
    later = define(r(l), Expectation(norm_after, (jm, vi)), r"$r(l) = \mathbb{E}\,\|v_l\|^2$, $v_l = (I + J_l) v$ with $v = v_{l-1}$")
    fubini = hypothesis(Expectation(norm_after, (jm, vi)), "=", Expectation(Expectation(norm_after, (jm,)), (vi,)),
                        r"$J_l$ is independent of $v$ (which depends on $u, J_1, \dots, J_{l-1}$ only): the "
                        r"expectation is taken over $J_l$ first, $v$ fixed (Fubini)")
    per_row = sp.Sum(vi[i] ** 2 + sigma2 / width * norm_before, (i, 1, width))
    expand = equal(Expectation(norm_after, (jm,)), per_row,
                   r"$\|v + Jv\|^2 = \|v\|^2 + 2 v^\top J v + v^\top J^\top J v$, expanded over the rows $i$ of $J$: "
                   r"the cross term vanishes, and $\mathbb{E}[(J v)_i^2] = (\sigma^2/n) \|v\|^2$", uses=[centred, spread])
    rows = _sum_termwise(per_row, (1 + sigma2) * norm_before, "summed over the $n$ rows")
    earlier = define(r(l - 1), Expectation(norm_before, (vi,)), r"$r(l - 1) = \mathbb{E}\,\|v\|^2$")
    rule = equal(r(l), (1 + sigma2) * r(l - 1), r"one block multiplies $\mathbb{E}\,\|v\|^2$ by $1 + \sigma^2$",
                 uses=[later, fubini, expand, rows, earlier])
    unit = hypothesis(sp.Sum(ui[k] ** 2, (k, 1, width)), "=", 1, "$u$ a fixed unit vector")
    start = define(r(0), sp.Sum(ui[k] ** 2, (k, 1, width)), "$v_0 = u$ is not random")
    first = equal(r(0), 1, uses=[start, unit])
    solved = recurrence(r, depth, 0, (1 + sigma2) ** depth, "exact at every width $n$", uses=[rule, first])
    big = sp.Symbol("L", integer=True, positive=True)  # a bound variable: the depth in the limit
    z, beta, e, v, sigma_e = sp.symbols("z beta e v sigma_e", positive=True)
    pair = (beta * z + e) ** 2 * _density(z, v) * _density(e, sigma_e**2)
    remarks = [
        equal(sp.Integral(pair, (e, -sp.oo, sp.oo), (z, 0, sp.oo)), (beta**2 * v + sigma_e**2) / 2,
              r"ReLU blocks $x + W_2 \operatorname{relu}(W_1 x)$, $W_1 \sim \mathcal{N}(0, 2/n)$: the mask keeps half "
              r"of $\mathbb{E}[(W_1 v)_i^2] = (2/n)\|v\|^2$ (a centred Gaussian pair $g = \beta h + e$), so "
              r"$W_2 \sim \mathcal{N}(0, \sigma^2/n)$ again adds $\sigma^2 \|v\|^2$"),
        equal(sp.Product(g, (l, 1, depth)), g**depth, "a plain chain whose every layer scales the gradient norm by $g$"),
        relation(sp.Pow(sp.Rational(19, 20), 30, evaluate=False), ">", Notation(sp.Rational(2146, 10**4), "0.2146"),
                 "$g = 0.95$, $L = 30$: the gradient keeps about a fifth of its norm (Bengio et al. 1994)"),
        relation(sp.Pow(sp.Rational(19, 20), 30, evaluate=False), "<", Notation(sp.Rational(2147, 10**4), "0.2147"),
                 "exactly, in rationals"),
        relation(sp.log(1 + t), "<=", t, r"$\ln(1 + t) \le t$ for $t \ge 0$: with $\sigma^2 = \alpha/L$, "
                 r"$(1 + \alpha/L)^L \le e^\alpha$ at every depth", over=(t, sp.Interval(0, sp.oo))),
        equal(sp.Limit((1 + alpha / big) ** big, big, sp.oo), sp.exp(alpha), r"and it tends to $e^\alpha$ as $L$ grows"),
    ]
    return Derivation(
        "Residual stack: the expected squared gradient norm",
        [centred, spread, later, fubini, expand, rows, earlier, rule, unit, start, first, solved],
        (r(depth), "=", (1 + sigma2) ** depth),
        assumptions=(r"$L$ residual blocks on $\mathbb{R}^n$ with Jacobians $I + J_l$; the $J_l$ independent of each "
                     r"other and of $u$, with iid $\mathcal{N}(0, \sigma^2/n)$ entries", "$u$ a fixed unit vector"),
        remarks=remarks,
    )


def _density(t: sp.Symbol, variance: sp.Basic) -> sp.Basic:
    """The centred Gaussian density of ``variance`` at ``t``."""
    return sp.exp(-(t**2) / (2 * variance)) / sp.sqrt(2 * sp.pi * variance)


@cache
def derive_gaussian_reduction() -> Derivation:
    r"""The exact law the ``reduced`` method samples: one Gaussian block multiplies :math:`\|v\|^2` by
    :math:`\rho = (1 + \sqrt{s} z)^2 + s\chi^2_{n-1}`, :math:`s = \sigma^2/n`, independently of v and of
    the other blocks; its relative variance is :math:`(4\sigma^2 + 2\sigma^4)/(n (1 + \sigma^2)^2)`."""
    s, z = sp.Symbol("s", positive=True), sp.Symbol("z", real=True)
    ratio, chi, rel = sp.Symbol("rho_l", positive=True), symbol("chi^2_{n-1}", r"\chi^2_{n-1}", positive=True), sp.Symbol("R")
    head = (1 + sp.sqrt(s) * z) ** 2
    first, spread = (sp.Integral(f * _density(z, 1), (z, -sp.oo, sp.oo)) for f in (head, (head - 1 - s) ** 2))
    law = cite(ratio, "=", head + s * chi, "Section 5.3", CASELLA,
               r"$J v/\|v\| \sim \mathcal{N}(0, s I_n)$ whatever the unit vector $v/\|v\|$ (rotation invariance); "
               r"split along $v/\|v\|$: $z \sim \mathcal{N}(0, 1)$ and an independent $\chi^2$ with $n - 1$ degrees of freedom")
    steps = [
        law,
        equal(first, 1 + s, "the mean of the first term"),
        equal(spread, 4 * s + 2 * s**2, "the variance of the first term"),
        cite(Expect(ratio), "=", first + s * (width - 1), "Section 5.3", CASELLA, r"$\mathbb{E}[\chi^2_{n-1}] = n - 1$", uses=[law]),
        cite(Var(ratio), "=", spread + 2 * (width - 1) * s**2, "Section 5.3", CASELLA,
             r"the two terms are independent, so their variances add; $\mathrm{Var}[\chi^2_{n-1}] = 2 (n - 1)$", uses=[law]),
        define(s, sigma2 / width, "the variance of $J$'s entries"),
        define(rel, Var(ratio) / Expect(ratio) ** 2, "the relative variance of one block's gain"),
    ]
    return Derivation("Exact law of one Gaussian residual block's gain", steps,
                      (rel, "=", (4 * sigma2 + 2 * sigma2**2) / (width * (1 + sigma2) ** 2)),
                      uses=[steps[6], steps[4], steps[3], steps[1], steps[2], steps[5]],
                      assumptions=(r"$J$ with iid $\mathcal{N}(0, s)$ entries, independent of $v \ne 0$",))
