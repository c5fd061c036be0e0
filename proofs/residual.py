r"""Residual networks: the Jacobian of a stack of blocks, its singular-value bounds, and
why residual connections keep gradients from vanishing.

A residual block is :math:`y = x + F(x)`; a stack of ``depth`` (L) blocks has the input-output
Jacobian

.. math:: P_L = (I + J_{F_L}) \cdots (I + J_{F_1}),

the later block on the left (the factors do not commute), each :math:`J_{F_l}` taken at the
block's own input. Three consequences, one claim each:

- ``residual.jacobian``: the product itself (the chain rule, checked by SymPy for generic
  vector fields F and G), measured against finite differences of real ReLU blocks;
- ``residual.singular-bounds``: if every :math:`\|J_{F_l}\|_2 \le \epsilon < 1`, every singular
  value of :math:`P_L` lies in :math:`[(1-\epsilon)^L, (1+\epsilon)^L]`, and both ends are
  attained (by :math:`J_{F_l} = \mp\epsilon I`);
- ``residual.vanishing``: with independent :math:`J_l` of iid :math:`N(0, \sigma^2/n)` entries,
  :math:`E\|P_L u\|^2 = (1+\sigma^2)^L \|u\|^2` exactly at finite width, so a branch variance
  :math:`\sigma^2 = \alpha/L` keeps the gradient bounded by :math:`e^\alpha` at any depth, while a
  plain chain whose layers scale the gradient by g has :math:`g^L` (0.95^30 = 0.2146...).

Matrix identities are checked entrywise at a small size (2 x 2, symbolic entries): SymPy's
``equal`` compares scalars, so :func:`equal_entrywise` confirms each entry with the same
confirmer. Symbols use the claims' parameter names: ``width`` (n), ``depth`` (L), ``eps``,
``bound`` (a code, see :data:`BOUNDS`), ``sigma2``.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from .derivation import Derivation, Step, cite, define, equal, equal_entrywise, recurrence, relation, substitute
from .initialization import gaussian_density, masked_gaussian_lemma
from .printing import Notation
from .sources import CASELLA, Source

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
z = sp.Symbol("z", real=True)
h = sp.Symbol("h", positive=True)

# Codes of the singular-bounds claim's choice parameter ``bound``.
BOUNDS = {"upper": 1, "lower": 2}

HE_RESNET = Source(
    "he2016",
    "Kaiming He and Xiangyu Zhang and Shaoqing Ren and Jian Sun",
    "Deep residual learning for image recognition",
    "Proceedings of the IEEE Conference on Computer Vision and Pattern Recognition (CVPR)",
    2016,
    doi="10.1109/CVPR.2016.90",
    arxiv="1512.03385",
    pages="770-778",
    kind="inproceedings",
)
HE_IDENTITY = Source(
    "he2016identity",
    "Kaiming He and Xiangyu Zhang and Shaoqing Ren and Jian Sun",
    "Identity mappings in deep residual networks",
    "European Conference on Computer Vision (ECCV), Lecture Notes in Computer Science 9908",
    2016,
    doi="10.1007/978-3-319-46493-0_38",
    arxiv="1603.05027",
    pages="630-645",
    kind="inproceedings",
)
HORN_JOHNSON = Source(
    "horn2013",
    "Roger A. Horn and Charles R. Johnson",
    "Matrix Analysis (2nd edition)",
    "Cambridge University Press",
    2013,
    isbn="978-0-521-83940-2",
    kind="book",
)
RUDIN = Source(
    "rudin1976",
    "Walter Rudin",
    "Principles of Mathematical Analysis (3rd edition)",
    "McGraw-Hill, New York",
    1976,
    isbn="978-0-07-054235-8",
    kind="book",
)
HIGHAM = Source(
    "higham2002",
    "Nicholas J. Higham",
    "Accuracy and Stability of Numerical Algorithms (2nd edition)",
    "SIAM, Philadelphia",
    2002,
    doi="10.1137/1.9780898718027",
    isbn="978-0-89871-521-7",
    kind="book",
)
HARDT_MA = Source(
    "hardt2017",
    "Moritz Hardt and Tengyu Ma",
    "Identity matters in deep learning",
    "International Conference on Learning Representations (ICLR)",
    2017,
    arxiv="1611.04231",
    kind="inproceedings",
)
BALDUZZI = Source(
    "balduzzi2017",
    "David Balduzzi and Marcus Frean and Lennox Leary and J. P. Lewis and Kurt Wan-Duo Ma and Brian McWilliams",
    "The shattered gradients problem: if resnets are the answer, then what is the question?",
    "Proceedings of the 34th International Conference on Machine Learning (ICML), PMLR 70",
    2017,
    arxiv="1702.08591",
    pages="342-350",
    kind="inproceedings",
)
HANIN_ROLNICK = Source(
    "hanin2018",
    "Boris Hanin and David Rolnick",
    "How to start training: the effect of initialization and architecture",
    "Advances in Neural Information Processing Systems 31 (NeurIPS)",
    2018,
    arxiv="1803.01719",
    kind="inproceedings",
)
BENGIO = Source(
    "bengio1994",
    "Yoshua Bengio and Patrice Simard and Paolo Frasconi",
    "Learning long-term dependencies with gradient descent is difficult",
    "IEEE Transactions on Neural Networks",
    1994,
    doi="10.1109/72.279181",
    volume="5",
    number="2",
    pages="157-166",
)
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

    nargs = 1
    template = r"\left\|{}\right\|_{{\infty}}"
    text = "||{}||_inf"

    @classmethod
    def eval(cls, arg):
        if arg == 0:
            return sp.S.Zero
        return None


class SqNorm(_Display):
    r""":math:`\|v\|^2`."""

    nargs = 1
    template = r"\left\|{}\right\|^{{2}}"
    text = "||{}||^2"


class SigmaMax(_Display):
    nargs = 1
    template = r"\sigma_{{\max}}\left({}\right)"
    text = "sigma_max({})"


class SigmaMin(_Display):
    nargs = 1
    template = r"\sigma_{{\min}}\left({}\right)"
    text = "sigma_min({})"


class SupAdmissible(_Display):
    r"""The supremum over admissible stacks (every :math:`\|J_l\|_2 \le \epsilon`)."""

    nargs = 1
    template = r"\sup_{{\|J_l\|_2 \le \epsilon}} {}"
    text = "sup_(||J_l||_2 <= eps) {}"


class InfAdmissible(_Display):
    nargs = 1
    template = r"\inf_{{\|J_l\|_2 \le \epsilon}} {}"
    text = "inf_(||J_l||_2 <= eps) {}"


class Expect(_Display):
    nargs = 1
    template = r"\mathbb{{E}}\left[{}\right]"
    text = "E[{}]"


def _compact(name: str, args_latex: str):
    """An undefined function ``name`` (``F_1``) printed as ``F_{1}(x)`` whatever its arguments."""

    def _latex(self, printer, exp=None):
        head = sp.latex(sp.Symbol(name))
        text = rf"{head}\left({args_latex}\right)"
        return text if exp is None else rf"{text}^{{{exp}}}"

    return sp.Function(name, _latex=_latex)


class _At(sp.Subs):
    r"""A partial derivative at a point, printed :math:`\partial_j G_i(y)`; otherwise a ``Subs``."""

    label = "y"

    def _latex(self, printer, exp=None):
        derivative = self.expr
        (variable, _), = derivative.variable_count
        func = derivative.expr
        index = list(func.args).index(variable) + 1
        text = rf"\partial_{{{index}}} {sp.latex(sp.Symbol(func.func.__name__))}\left({self.label}\right)"
        return text if exp is None else rf"\left({text}\right)^{{{exp}}}"


# --- residual.jacobian ----------------------------------------------------------------------------

_I = sp.Symbol("I", commutative=False)
_J = sp.Function("J", commutative=False)
_P = sp.Function("P", commutative=False)
_u = sp.Symbol("u", commutative=False)
_dots = sp.Symbol(r"\cdots", commutative=False)


def _product_display(top: sp.Basic) -> sp.Basic:
    """(I + J(L)) ... (I + J(1)), as printed."""
    return sp.Mul(_I + _J(top), _dots, _I + _J(1), evaluate=False)


def _generic_blocks():
    """Two generic blocks on R^2: y = x + F(x), z = y + G(y), F and G undefined functions."""
    x1, x2 = sp.symbols("x_1 x_2", real=True)
    xi1, xi2 = sp.symbols("xi_1 xi_2", real=True)
    F = [_compact(f"F_{i}", "x")(x1, x2) for i in (1, 2)]
    y = [x1 + F[0], x2 + F[1]]
    G = [_compact(f"G_{i}", "y") for i in (1, 2)]
    z = [y[i] + G[i](*y) for i in (0, 1)]
    xs = (x1, x2)
    jac_y = sp.ImmutableMatrix(2, 2, lambda i, j: sp.Derivative(y[i], xs[j]))
    jac_z = sp.ImmutableMatrix(2, 2, lambda i, j: sp.Derivative(z[i], xs[j]))
    jf = sp.ImmutableMatrix(2, 2, lambda i, j: sp.Derivative(F[i], xs[j]))
    jg = sp.ImmutableMatrix(2, 2, lambda i, j: _At(sp.Derivative(G[i](xi1, xi2), (xi1, xi2)[j]), (xi1, xi2), tuple(y)))
    eye = sp.ImmutableMatrix(sp.eye(2))
    return jac_y, jac_z, eye + jf, eye + jg


def _relu_block():
    """A ReLU block with its pattern D fixed, 2 x 2 with symbolic weights and biases."""
    x = sp.ImmutableMatrix(sp.symbols("x_1 x_2", real=True))
    w1 = sp.ImmutableMatrix(2, 2, lambda i, j: sp.Symbol(f"a_{i + 1}{j + 1}", real=True))
    w2 = sp.ImmutableMatrix(2, 2, lambda i, j: sp.Symbol(f"c_{i + 1}{j + 1}", real=True))
    b1 = sp.ImmutableMatrix(sp.symbols("b_1 b_2", real=True))
    b2 = sp.ImmutableMatrix(sp.symbols("e_1 e_2", real=True))
    d = sp.diag(*sp.symbols("d_1 d_2", real=True))
    y = x + w2 * d * (w1 * x + b1) + b2
    jac = sp.ImmutableMatrix(2, 2, lambda i, j: sp.Derivative(y[i], x[j]))
    return jac, sp.ImmutableMatrix(sp.eye(2)) + w2 * d * w1


def _affine_difference():
    """The central difference of an affine map A x + c along u, 2 x 2 symbolic."""
    a = sp.ImmutableMatrix(2, 2, lambda i, j: sp.Symbol(f"A_{i + 1}{j + 1}", real=True))
    x = sp.ImmutableMatrix(sp.symbols("x_1 x_2", real=True))
    u = sp.ImmutableMatrix(sp.symbols("u_1 u_2", real=True))
    c = sp.ImmutableMatrix(sp.symbols("c_1 c_2", real=True))
    difference = ((a * (x + h * u) + c) - (a * (x - h * u) + c)) / (2 * h)
    return difference, a * u


@cache
def derive_jacobian() -> Derivation:
    r"""The stack's Jacobian is :math:`(I + J_{F_L}) \cdots (I + J_{F_1})`; on a segment where no
    ReLU changes sign the central difference of a ReLU stack equals it, so the measured relative
    discrepancy is 0."""
    jac_y, jac_z, one, two = _generic_blocks()
    relu_jac, relu_rhs = _relu_block()
    difference, slope = _affine_difference()
    delta = sp.Symbol("Delta", real=True)
    central = sp.Symbol("C_h", commutative=False)
    y_stack = sp.Function("y_L")
    xv, uv = sp.symbols("x u")
    pu = _P(depth) * _u
    measured = InfNorm(central - pu) / InfNorm(pu)
    steps = [
        equal_entrywise(Notation(jac_y, r"\frac{\partial y}{\partial x}", "dy/dx"), one,
                        "one block y = x + F(x) on R^2, F a generic differentiable field: the Jacobian is I + J_F(x)"),
        equal_entrywise(Notation(jac_z, r"\frac{\partial z}{\partial x}", "dz/dx"), sp.MatMul(two, one, evaluate=False),
                        "two blocks, z = y + G(y) with y = x + F(x), F and G generic: the chain rule gives "
                        "(I + J_G(y))(I + J_F(x)), the later block on the left (the factors do not commute)"),
        define(_P(0), _I, "the Jacobian of no blocks"),
        cite(_P(l), "=", (_I + _J(l)) * _P(l - 1),
             "the first l - 1 blocks form a map x -> x + F~(x) with J_F~ = P(l - 1) - I, so the two-block identity "
             "applies with F~ and F_l; J(l) is J_(F_l) at the block's input", RUDIN),
        cite(_P(depth), "=", _product_display(depth), "unrolled by induction on l (the chain rule)", HE_IDENTITY),
        equal_entrywise(Notation(relu_jac, r"\frac{\partial}{\partial x}\left(x + W_2 D (W_1 x + b_1) + b_2\right)",
                                 "d/dx (x + W2 D (W1 x + b1) + b2)"),
                        Notation(relu_rhs, r"I + W_2 D W_1", "I + W2 D W1"),
                        "a ReLU block F(x) = W2 relu(W1 x + b1) + b2 is affine where its pattern D = diag(1{W1 x + b1 > 0}) "
                        "is fixed (checked for 2 x 2 symbolic weights, biases and D)"),
        equal_entrywise(Notation(difference, r"\frac{(A(x + h u) + c) - (A(x - h u) + c)}{2h}", "central difference of A x + c"),
                        Notation(slope, r"A u", "A u"),
                        "the central difference of an affine map is exact (2 x 2 symbolic A, c, x, u)"),
        define(central, (y_stack(xv + h * uv) - y_stack(xv - h * uv)) / (2 * h),
               "the central difference of the stack's output along u"),
        define(delta, measured, "the relative discrepancy the experiment measures"),
        substitute(measured, {central: pu},
                   "on a segment [x - hu, x + hu] on which no ReLU of any block changes sign, every block is affine with the "
                   "pattern of x, so the stack is affine with Jacobian P(L) and its central difference is exact: C_h = P(L) u"),
    ]
    return Derivation(
        "Residual stack: the Jacobian is the ordered product of I + J_F",
        steps,
        (delta, "=", sp.Integer(0)),
        assumptions=(
            "blocks x_l = x_(l-1) + F_l(x_(l-1)), l = 1, ..., L, each F_l differentiable at the block's input",
            "for the measurement: ReLU blocks F_l(x) = W2 relu(W1 x + b1) + b2 and a step h for which no pre-activation "
            "changes sign on [x - hu, x + hu]",
        ),
    )


# --- residual.singular-bounds ----------------------------------------------------------------------


def _attained(sign: int):
    """With every J_l = sign * eps I (2 x 2): the product is (1 + sign eps)^L I."""
    factor = sp.ImmutableMatrix(sp.eye(2)) * (1 + sign * eps)
    power = sp.ImmutableMatrix(sp.diag((1 + sign * eps) ** depth, (1 + sign * eps) ** depth))
    text = "+" if sign > 0 else "-"
    return equal_entrywise(
        Notation(sp.MatPow(factor, depth), rf"\left(I {text} \epsilon I\right)^{{L}}", f"(I {text} eps I)^L"),
        Notation(power, rf"\left(1 {text} \epsilon\right)^{{L}} I", f"(1 {text} eps)^L I"),
        f"J_l = {text}eps I for every l: P(L) is a multiple of I, every singular value (1 {text} eps)^L",
    )


@cache
def derive_singular_bounds() -> Derivation:
    r"""If every :math:`\|J_l\|_2 \le \epsilon < 1`, the singular values of the stack's Jacobian lie
    in :math:`[(1-\epsilon)^L, (1+\epsilon)^L]`, both ends attained."""
    product = _P(depth)
    upper, lower = (1 + eps) ** depth, (1 - eps) ** depth
    extreme = sp.Symbol("s_L", positive=True)
    which = sp.Piecewise((SupAdmissible(SigmaMax(product)), sp.Eq(bound, BOUNDS["upper"])),
                         (InfAdmissible(SigmaMin(product)), sp.Eq(bound, BOUNDS["lower"])))
    closed = sp.Piecewise((upper, sp.Eq(bound, BOUNDS["upper"])), (lower, sp.Eq(bound, BOUNDS["lower"])))
    steps = [
        define(product, _product_display(depth), "the stack's Jacobian (residual.jacobian), with ||J(l)||_2 <= eps < 1"),
        cite(SigmaMax(_I + _J(l)), "<=", 1 + eps, "||I + J||_2 <= ||I||_2 + ||J||_2 (the triangle inequality)", HORN_JOHNSON),
        cite(SigmaMax(product), "<=", sp.Product(1 + eps, (l, 1, depth)),
             "submultiplicativity sigma_max(AB) <= sigma_max(A) sigma_max(B), each factor bounded by the step before",
             HORN_JOHNSON),
        equal(sp.Product(1 + eps, (l, 1, depth)), upper),
        cite(SigmaMin(_I + _J(l)), ">=", 1 - eps,
             "Weyl's inequality for singular values, |sigma_i(A + E) - sigma_i(A)| <= ||E||_2, with A = I", HORN_JOHNSON),
        cite(SigmaMin(product), ">=", sp.Product(1 - eps, (l, 1, depth)),
             "sigma_min(AB) >= sigma_min(A) sigma_min(B) (both invertible: sigma_min(I + J) >= 1 - eps > 0), "
             "each factor bounded by the step before", HORN_JOHNSON),
        equal(sp.Product(1 - eps, (l, 1, depth)), lower),
        _attained(+1),
        _attained(-1),
        define(extreme, which, "the extreme the claim states: the largest singular value over admissible stacks "
                               "(bound = upper) or the smallest (bound = lower)"),
        substitute(which, {SupAdmissible(SigmaMax(product)): upper, InfAdmissible(SigmaMin(product)): lower},
                   "each bound holds for every admissible stack and is attained (J_l = eps I, resp. -eps I)"),
    ]
    return Derivation(
        "Singular values of a residual stack with ||J_F|| <= eps",
        steps,
        (extreme, "=", closed),
        assumptions=(
            "L residual blocks with Jacobians I + J_l, every ||J_l||_2 <= eps < 1 (at the points the chain rule uses)",
        ),
    )


# --- residual.vanishing ----------------------------------------------------------------------------

r = sp.Function("r")  # E||v_l||^2, v_l the tangent after l blocks
G = sp.Function("G")  # gradient norm after l layers of a plain chain


def _component_lemma() -> Step:
    """E[(a + g)^2] = a^2 + tau^2 for g ~ N(0, tau^2): one coordinate of (I + J) v."""
    a = sp.Symbol("v_i", real=True)
    tau2 = sp.Symbol("tau^2", positive=True)
    return equal(sp.Integral((a + z) ** 2 * gaussian_density(z, tau2), (z, -sp.oo, sp.oo)), a**2 + tau2,
                 "one coordinate: ((I + J) v)_i = v_i + (J v)_i with (J v)_i ~ N(0, tau^2), tau^2 = (sigma^2/n) ||v||^2")


@cache
def derive_vanishing() -> Derivation:
    r""":math:`E\|P_L u\|^2 = (1+\sigma^2)^L` for :math:`\|u\| = 1` and independent Gaussian
    :math:`J_l`, exactly at finite width; the plain chain's :math:`g^L`; the limit :math:`e^\alpha`."""
    v = sp.Symbol("v", commutative=False)
    nv = SqNorm(v)
    jv = _J(l) * v
    step_rule = (1 + sigma2) * r(l - 1)
    w_1, d_mask, w_2 = (sp.Symbol(name, commutative=False) for name in ("W_1", "D", "W_2"))
    big = sp.Symbol("L", integer=True, positive=True)  # a bound variable: the depth in the limit
    gaussian_gain = sp.Add(nv, sp.Mul(width, sigma2 / width, nv, evaluate=False), evaluate=False)
    kept = sp.Mul(width, 2 / width, nv, sp.Rational(1, 2), evaluate=False)
    relu_gain = sp.Mul(width, sigma2 / width, kept, evaluate=False)
    steps = [
        define(r(l), Expect(SqNorm(sp.Symbol("v_l", commutative=False))),
               "v_l = (I + J_l) v_(l-1), v_0 = u with ||u|| = 1; the J_l independent, entries iid N(0, sigma^2/n)"),
        _component_lemma(),
        cite(Expect(SqNorm(v + jv)), "=", gaussian_gain,
             "summing the lemma over the n coordinates of a fixed v (J v is a fixed combination of independent centred "
             "Gaussians, so (J v)_i ~ N(0, (sigma^2/n)||v||^2)); the cross term 2 E[v^T J v] = 0", CASELLA),
        equal(gaussian_gain, (1 + sigma2) * nv, "one block multiplies E||v||^2 by 1 + sigma^2"),
        cite(r(l), "=", step_rule, "tower property: given v_(l-1), J_l is independent of it, so the step before applies "
                                   "with v = v_(l-1)", CASELLA),
        recurrence(r, depth, (1 + sigma2) * r(depth - 1), 0, 1, (1 + sigma2) ** depth,
                   "solve r(l) = (1 + sigma^2) r(l-1) from r(0) = ||u||^2 = 1: exact at every width n"),
        # real residual ReLU blocks give the same factor
        masked_gaussian_lemma()[0],
        cite(Expect(SqNorm(d_mask * w_1 * v)), "=", kept,
             "W_1 ~ N(0, 2/n) (He): each of the n rows keeps half of E[(W_1 v)_i^2] = (2/n)||v||^2 (lemma above; "
             "((W_1 x)_i, (W_1 v)_i) is a centred Gaussian pair)", CASELLA),
        cite(Expect(SqNorm(w_2 * d_mask * w_1 * v)), "=", relu_gain,
             "W_2 ~ N(0, sigma^2/n) independent of D W_1 v (a fixed combination of independent centred Gaussians); "
             "the cross term 2 E[v^T W_2 D W_1 v] = 0 (W_2 centred)", CASELLA),
        equal(relu_gain, sigma2 * nv,
              "so a ReLU block x + W_2 relu(W_1 x) also multiplies E||v||^2 by 1 + sigma^2"),
        # the plain chain, and the residual stack with sigma^2 = alpha / L
        recurrence(G, l, g * G(l - 1), 0, 1, g**l,
                   "a plain chain whose every layer scales the gradient norm by g: G(l) = g G(l-1), G(0) = 1"),
        relation(sp.Pow(sp.Rational(19, 20), 30, evaluate=False), ">", Notation(sp.Rational(2146, 10**4), "0.2146"),
                 "g = 0.95, L = 30: the gradient keeps about a fifth of its norm (Bengio et al. 1994)"),
        relation(sp.Pow(sp.Rational(19, 20), 30, evaluate=False), "<", Notation(sp.Rational(2147, 10**4), "0.2147"),
                 "exactly, in rationals"),
        substitute((1 + sigma2) ** depth, {sigma2: alpha / depth}, "the residual stack with branch variance sigma^2 = alpha/L"),
        relation(sp.log(1 + t), "<=", t, "log(1 + t) <= t for t >= 0, so (1 + alpha/L)^L <= e^alpha at every depth",
                 over=(t, sp.Interval(0, sp.oo))),
        equal(sp.Limit((1 + alpha / big) ** big, big, sp.oo), sp.exp(alpha), "and it tends to e^alpha as L grows"),
    ]
    return Derivation(
        "Residual stack: the expected squared gradient norm",
        steps,
        (r(depth), "=", (1 + sigma2) ** depth),
        assumptions=(
            "L residual blocks on R^n with Jacobians I + J_l; the J_l independent of each other and of u, with iid "
            "N(0, sigma^2/n) entries (or ReLU blocks x + W_2 relu(W_1 x), W_1 ~ N(0, 2/n), W_2 ~ N(0, sigma^2/n))",
            "u a fixed unit vector",
        ),
    )


@cache
def derive_gaussian_reduction() -> Derivation:
    r"""The exact law the ``reduced`` method samples: one Gaussian block multiplies :math:`\|v\|^2` by
    :math:`(1 + \sqrt{s} z)^2 + s\chi^2_{n-1}`, :math:`s = \sigma^2/n`, independently of v and of the
    other blocks; its mean is :math:`1 + \sigma^2` and its relative variance
    :math:`(4\sigma^2 + 2\sigma^4)/(n (1 + \sigma^2)^2)`."""
    s = sp.Symbol("s", positive=True)
    ratio = sp.Symbol("rho_l", positive=True)
    chi = sp.Symbol("chi^2_{n-1}", positive=True)
    first = sp.Integral((1 + sp.sqrt(s) * z) ** 2 * gaussian_density(z, 1), (z, -sp.oo, sp.oo))
    square = sp.Integral(((1 + sp.sqrt(s) * z) ** 2 - (1 + s)) ** 2 * gaussian_density(z, 1), (z, -sp.oo, sp.oo))
    steps = [
        cite(ratio, "=", (1 + sp.sqrt(s) * z) ** 2 + s * chi,
             "J v/||v|| ~ N(0, s I_n) whatever the unit vector v/||v|| (rotation invariance); split it along v/||v||: "
             "z ~ N(0, 1) and an independent chi-square with n - 1 degrees of freedom", CASELLA),
        equal(first, 1 + s, "the mean of the first term"),
        equal((1 + s) + s * (width - 1), 1 + width * s, "with E[chi^2_(n-1)] = n - 1"),
        substitute(1 + width * s, {s: sigma2 / width}, "s = sigma^2/n: the mean factor 1 + sigma^2 of the claim"),
        equal(square + 2 * (width - 1) * s**2, 4 * s + 2 * width * s**2,
              "the variance: that of the first term plus Var[s chi^2_(n-1)] = 2 (n - 1) s^2"),
        substitute((4 * s + 2 * width * s**2) / (1 + width * s) ** 2, {s: sigma2 / width},
                   "relative to the squared mean, at s = sigma^2/n"),
    ]
    return Derivation(
        "Exact law of one Gaussian residual block's gain",
        steps,
        (ratio, "=", (1 + sp.sqrt(s) * z) ** 2 + s * chi),
        assumptions=("J with iid N(0, s) entries, independent of v != 0",),
    )

