r"""Flat minima and reparametrisation: positive rescaling moves the Hessian, not the function
(Dinh, Pascanu, Bengio and Bengio 2017).

For :math:`f(x) = W_2 \operatorname{relu}(W_1 x)` (:math:`W_1 \in \mathbb{R}^{m \times d}`, :math:`W_2 \in
\mathbb{R}^{1 \times m}`) the :math:`\alpha`-scale transformation :math:`T_\alpha(W_1, W_2) = (\alpha W_1, W_2/\alpha)`,
:math:`\alpha > 0` (Dinh et al. 2017, Definition 5), is linear, :math:`T_\alpha\theta = D\theta` with
:math:`D = \operatorname{diag}(\alpha I_{md}, \alpha^{-1} I_m)`, and leaves the function unchanged (relu is
positively homogeneous), so every loss of the outputs is unchanged: :math:`L(D\theta) = L(\theta)` for every
:math:`\theta`. Differentiating that identity twice (the chain rule for a linear map) gives, wherever the loss is
twice differentiable,

.. math:: H' = D^{-1} H D^{-1}, \qquad H = \nabla^2 L(\theta), \quad H' = \nabla^2 L(T_\alpha\theta),

i.e. the :math:`W_1` block times :math:`\alpha^{-2}`, the :math:`W_2` block times :math:`\alpha^2`, the cross block
unchanged. One claim:

- ``flat-minima.reparam``: the factor :math:`\kappa` by which :math:`T_\alpha` multiplies block ``block`` of the
  Hessian (a code, see :data:`BLOCKS`), defined as the least-squares factor
  :math:`\langle H'_b, H_b\rangle / \langle H_b, H_b\rangle` that the verifier measures.

The proof is general (any width m, input dimension d, samples and twice-differentiable loss of the output): the
invariance is checked by SymPy with indexed sums, the chain rule for the linear map :math:`\theta \mapsto D\theta` is
cited (Rudin 1976, Theorem 9.15: its weakest link), and the block laws follow from :math:`H' = D^{-1}HD^{-1}` by
SymPy's block-matrix algebra with symbolic sizes. The 36 entries of the Hessian of a network with two units and two
inputs, computed from the network itself, are a remark (an instance). Symbols use the claim's parameter names:
``scale`` (printed :math:`\alpha`) and ``block``.

How it differs from the usual statement: "at a minimum" is not needed (the law holds at every :math:`\theta` where
no pre-activation of a training input vanishes), but it is needed that the Hessian *exists* there, and the
least-squares training of a ReLU network often ends on a kink, where it does not; and :math:`T_\alpha` makes a
minimum arbitrarily *sharp* (:math:`\lambda_{\max} \ge \max(\alpha^{-2} a, \alpha^2 c)`, with :math:`a, c` the top
eigenvalues of the two diagonal blocks at :math:`\theta`, both :math:`\ge 0`), never arbitrarily flat:
:math:`\max(\alpha^{-2} a, \alpha^2 c) \ge \sqrt{a c}` at every :math:`\alpha`.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from .checks import Rewriter, StepNotChecked, confirm_equal
from .derivation import Derivation, cite, define, equal_by_cases
from .printing import Notation, symbol
from .residual import HORN_JOHNSON, RUDIN
from .rules import equal_at, matrix_equal
from .sources import Source
from .steps import checked_step

__all__ = ["BLOCKS", "DINH", "KESKAR", "RUDIN", "Block", "Relu", "SecondPartial", "Shown", "SOURCES", "derive_reparam",
           "network"]

alpha = symbol("scale", r"\alpha", real=True, positive=True)  # the claim's parameter scale
block = sp.Symbol("block", integer=True, positive=True)

# Codes of the claim's choice parameter ``block``.
BLOCKS = {"W1": 1, "W2": 2, "cross": 3}

DINH = Source("dinh2017", "Laurent Dinh and Razvan Pascanu and Samy Bengio and Yoshua Bengio",
              "Sharp minima can generalize for deep nets",
              "Proceedings of the 34th International Conference on Machine Learning (ICML), PMLR 70", 2017,
              arxiv="1703.04933", url="https://proceedings.mlr.press/v70/dinh17b.html", pages="1019-1028",
              kind="inproceedings")
KESKAR = Source("keskar2017", "Nitish Shirish Keskar and Dheevatsa Mudigere and Jorge Nocedal and Mikhail Smelyanskiy "
                "and Ping Tak Peter Tang", "On large-batch training for deep learning: generalization gap and sharp minima",
                "International Conference on Learning Representations (ICLR)", 2017, arxiv="1609.04836",
                kind="inproceedings")
SOURCES = (DINH, KESKAR, RUDIN, HORN_JOHNSON)


class Relu(sp.Function):
    r"""The rectifier, printed :math:`\operatorname{relu}`; ``doit`` evaluates it as :math:`\max(z, 0)`."""

    nargs = 1

    def doit(self, **hints):
        arg = self.args[0].doit(**hints) if hints.get("deep", True) else self.args[0]
        return sp.Max(arg, 0)

    def _latex(self, printer, exp=None) -> str:
        text = rf"\operatorname{{relu}}\left({printer._print(self.args[0])}\right)"
        return text if exp is None else rf"{text}^{{{exp}}}"


class Block(sp.MatrixExpr):
    r"""Block ``(row, col)`` of a matrix partitioned into its :math:`W_1` and :math:`W_2` coordinates, printed
    :math:`M_{W_1W_1}`; ``doit`` collapses the matrix (:func:`sympy.block_collapse`) and takes the block."""

    def __new__(cls, matrix, row, col, rows, cols, label):
        label = label if isinstance(label, sp.Symbol) else sp.Symbol(label)  # (SymPy rebuilds it from its args)
        return sp.Basic.__new__(cls, matrix, sp.Integer(row), sp.Integer(col), sp.sympify(rows), sp.sympify(cols), label)

    @property
    def shape(self):
        return self.args[3], self.args[4]

    def doit(self, **hints):
        whole = sp.block_collapse(self.args[0].doit(**hints))
        if isinstance(whole, sp.BlockMatrix):
            return whole.blocks[int(self.args[1]), int(self.args[2])]
        return self

    def _latex(self, printer, exp=None) -> str:
        return rf"{printer._print(self.args[0])}_{{{self.args[5].name}}}"

    def _sympystr(self, printer) -> str:
        return f"{printer._print(self.args[0])}[{self.args[5].name}]"


class SecondPartial(sp.Expr):
    r""":math:`\partial^2 L / \partial u\,\partial v` at a point, unevaluated until ``doit``: ``expr`` is the loss
    as an expression in ``variables``, ``pair`` the two coordinates, ``point`` the values substituted after
    differentiating; it prints as :math:`\frac{\partial^2 L}{\partial u \partial v}(\text{label})`."""

    def __new__(cls, expr, pair, variables, point, label):
        return sp.Expr.__new__(cls, sp.sympify(expr), sp.Tuple(*pair), sp.Tuple(*variables), sp.Tuple(*point),
                               sp.Symbol(label) if isinstance(label, str) else label)

    def _eval_is_commutative(self):
        return True

    def doit(self, **hints):
        expr, (u, v), variables, point, _ = self.args  # (not Subs: SymPy 1.14's Subs.doit drops a pair here)
        return sp.diff(expr, u, v).subs(dict(zip(variables, point, strict=True)), simultaneous=True)

    def _latex(self, printer, exp=None) -> str:
        (u, v), label = self.args[1], self.args[4].name
        bottom = rf"\partial {printer._print(u)}\,\partial {printer._print(v)}" if u != v else rf"\partial {printer._print(u)}^2"
        text = rf"\frac{{\partial^2 L}}{{{bottom}}}({label})"
        return text if exp is None else rf"\left({text}\right)^{{{exp}}}"

    def _sympystr(self, printer) -> str:
        (u, v), label = self.args[1], self.args[4].name
        return f"d2L/d{u}d{v}({label})"


class Shown(Notation):
    """:class:`~proofs.printing.Notation` that a premise may rewrite inside (SymPy rebuilds it from its args,
    the LaTeX and text then being Symbols)."""

    def __new__(cls, value, latex, text=None):
        latex, text = (t.name if isinstance(t, sp.Symbol) else t for t in (latex, text))
        return super().__new__(cls, value, latex, text)


# --- the general objects: sizes, the Hessians, the rescaling -------------------------------------------

m, d = sp.symbols("m d", integer=True, positive=True)
z, w = sp.symbols("z w", real=True)
size = m * d + m  # the parameters theta = (vec W_1, W_2)
H = sp.MatrixSymbol("H", size, size)  # the Hessian at theta
H_moved = sp.MatrixSymbol("H'", size, size)  # the Hessian at T_alpha theta
D = sp.MatrixSymbol("D", size, size)
H11 = sp.MatrixSymbol("H_{W_1W_1}", m * d, m * d)
H12 = sp.MatrixSymbol("H_{W_1W_2}", m * d, m)
H22 = sp.MatrixSymbol("H_{W_2W_2}", m, m)
pattern = sp.Function("s")
ell = sp.Function("ell")

# --- the network of the instance (remark): two inputs, two units, one sample -------------------------

x1, x2 = sp.symbols("x_1 x_2", real=True)
A = sp.symbols("a_11 a_12 a_21 a_22", real=True)  # W_1 = [[a_11, a_12], [a_21, a_22]]
B = sp.symbols("b_1 b_2", real=True)  # W_2 = [b_1, b_2]
S = sp.symbols("S_1 S_2", real=True)  # each unit's activation pattern at the point of evaluation
target = sp.Symbol("y", real=True)


def network():
    """The instance's two pre-activations (as sums, so that alpha times one stays a product), its squared loss on
    the activation region (unit j is S_j times its pre-activation there), the coordinates with the patterns, and
    the points theta and T_alpha theta."""
    pre = (A[0] * x1 + A[1] * x2, A[2] * x1 + A[3] * x2)
    loss = (B[0] * S[0] * pre[0] + B[1] * S[1] * pre[1] - target) ** 2 / 2
    variables = (*A, *B, *S)
    at = (*A, *B, pattern(pre[0]), pattern(pre[1]))
    scaled = (*(alpha * a for a in A), *(b / alpha for b in B), pattern(alpha * pre[0]), pattern(alpha * pre[1]))
    return pre, loss, variables, at, scaled


def _entrywise_at(lhs, rhs, reason: str, *, uses, var: sp.Symbol, values) -> object:
    """A checked matrix equality from premises that hold for every value of ``var``: each premise is used at each
    of ``values`` (universal instantiation), then both sides are rewritten, evaluated and compared entry by entry."""

    def check(premises) -> str:
        pairs, owner = [], []
        for n, p in enumerate(premises):
            if p.rel != "=":
                raise StepNotChecked("the instance rewrites by equalities only")
            for value in values:
                pairs.append((p.lhs.subs(var, value), p.rhs.subs(var, value)))
                owner.append(n)
        rewrite = Rewriter(pairs)
        left = sp.ImmutableMatrix(rewrite(rewrite(lhs).doit()))
        right = sp.ImmutableMatrix(rewrite(rewrite(rhs).doit()))
        methods = [confirm_equal(a, b, rewrite) for a, b in zip(left, right, strict=True)]
        if {owner[i] for i in rewrite.fired} != set(range(len(premises))):
            raise StepNotChecked("a premise is not used by the check")
        return f"premises at each pre-activation, entrywise, {len(methods)} entries: " + ", ".join(dict.fromkeys(methods))

    return checked_step(lhs, "=", rhs, reason, check, uses)


def _blocks() -> dict[str, tuple[Block, sp.MatrixSymbol, sp.Expr]]:
    """Per block: the block of H' (at T_alpha theta), the same block of H, and the derived factor."""
    return {"W1": (Block(H_moved, 0, 0, m * d, m * d, "W_1W_1"), H11, alpha**-2),
            "W2": (Block(H_moved, 1, 1, m, m, "W_2W_2"), H22, alpha**2),
            "cross": (Block(H_moved, 0, 1, m * d, m, "W_1W_2"), H12, sp.Integer(1))}


@cache
def derive_reparam() -> Derivation:
    r"""The factor by which :math:`T_\alpha` multiplies each block of the Hessian: :math:`\alpha^{-2}` (the
    :math:`W_1` block), :math:`\alpha^2` (:math:`W_2`), :math:`1` (cross), at any width, input dimension, samples
    and twice-differentiable loss of the output: the invariance :math:`L(D\theta) = L(\theta)` (checked), the chain
    rule for the linear map :math:`D` (cited), :math:`H' = D^{-1}HD^{-1}` and its blocks (checked)."""
    i, j = sp.symbols("i j", integer=True, positive=True)
    w1, w2, x = sp.IndexedBase("W_1"), sp.IndexedBase("W_2"), sp.IndexedBase("x")
    inner = sp.Sum(w1[j, i] * x[i], (i, 1, d))
    hom = equal_by_cases(Relu(alpha * z), alpha * Relu(z), z,
                         r"positive homogeneity of relu: $\operatorname{relu}(\alpha z) = \alpha \operatorname{relu}(z)$ "
                         r"for $\alpha > 0$")
    invariance = equal_at(sp.Sum(w2[j] / alpha * Relu(alpha * inner), (j, 1, m)), sp.Sum(w2[j] * Relu(inner), (j, 1, m)),
                          r"the output $f(x; T_\alpha\theta) = f(x; \theta)$ at every $\theta$, any width $m$ and input "
                          r"dimension $d$: so $L(D\theta) = L(\theta)$ for every $\theta$, any samples, any loss of the "
                          "output", uses=[hom], at={z: inner})
    sdef = define(pattern(w), Relu(w) / w, r"a unit's activation pattern at a pre-activation $w \ne 0$: $s(w) = 1$ "
                                           r"if $w > 0$, $0$ if $w < 0$")
    keep = equal_at(pattern(alpha * z), pattern(z), r"$T_\alpha$ multiplies every pre-activation by $\alpha > 0$ "
                    r"and keeps every unit's pattern: no pre-activation vanishes at $T_\alpha\theta$ either",
                    uses=[sdef, hom], at={w: (alpha * z, z)})
    ddef = define(D, sp.BlockDiagMatrix(alpha * sp.Identity(m * d), sp.Identity(m) / alpha),
                  r"$T_\alpha$ is linear, $T_\alpha\theta = D\theta$ for $\theta = (\operatorname{vec} W_1, W_2)$, "
                  r"with $D = \operatorname{diag}(\alpha I_{md}, \alpha^{-1} I_m)$")
    chain = cite(H, "=", D * H_moved * D, "Theorem 9.15", RUDIN,
                 r"$H = \nabla^2 L(\theta)$ and $H' = \nabla^2 L(D\theta)$ exist, as $L$ is smooth near $\theta$ and, by "
                 r"(4), near $D\theta$. Differentiate the identity $L(D\theta) = L(\theta)$ of (2), which holds at "
                 r"every $\theta$, twice: the chain rule applied to $\theta \mapsto D\theta$ (linear, so its derivative "
                 r"is $D$ by Definition 9.11), then to $\theta \mapsto D\nabla L(D\theta)$, gives $D H' D$ "
                 r"($D^\top = D$)", uses=[invariance, keep, ddef])
    law = matrix_equal(H_moved, sp.Inverse(D) * H * sp.Inverse(D),
                       r"$D$ is invertible ($\alpha > 0$): the Hessian at $T_\alpha\theta$", uses=[chain])
    hdef = define(H, sp.BlockMatrix([[H11, H12], [H12.T, H22]]), r"the blocks of $H$ on the $W_1$ and $W_2$ coordinates "
                                                                 r"($H$ is symmetric)")
    names = {"W1": r"the $W_1$ block", "W2": r"the $W_2$ block", "cross": r"the cross block"}
    steps = {name: matrix_equal(moved, factor * here, f"{names[name]} (block-matrix algebra, any $m$ and $d$)",
                                uses=[law, hdef, ddef]) for name, (moved, here, factor) in _blocks().items()}
    kappa = sp.Symbol("kappa")
    ratio = {name: sp.Trace(moved * here.T) / sp.Trace(here * here.T) for name, (moved, here, _) in _blocks().items()}
    which = sp.Piecewise(*((ratio[name], sp.Eq(block, code)) for name, code in BLOCKS.items()))
    closed = sp.Piecewise(*((factor, sp.Eq(block, BLOCKS[name])) for name, (_, _, factor) in _blocks().items()))
    factor_def = define(kappa, which, r"$\kappa$, the factor by which $T_\alpha$ multiplies block $b$ of the Hessian, "
                                      r"as the verifier measures it: $\langle H'_b, H_b\rangle / \langle H_b, H_b\rangle$ "
                                      r"(a block $H_b \ne 0$)")
    return Derivation(
        r"Positive rescaling $T_\alpha$ multiplies the Hessian's blocks by $\alpha^{-2}$, $\alpha^2$ and $1$",
        [hom, invariance, sdef, keep, ddef, chain, law, hdef, *steps.values(), factor_def],
        (kappa, "=", closed),
        uses=[factor_def, *steps.values()],
        assumptions=(r"$f(x) = W_2 \operatorname{relu}(W_1 x)$, $W_1 \in \mathbb{R}^{m \times d}$, "
                     r"$W_2 \in \mathbb{R}^{1 \times m}$ (no biases), any $m, d \ge 1$; $L(\theta) = \sum_n \ell(f(x_n; "
                     r"\theta), y_n)$ over any samples, $\ell$ twice continuously differentiable in $f$; $\alpha > 0$",
                     r"$\theta$ a point where no pre-activation $(W_1 x_n)_j$ of a training input vanishes, so that "
                     r"$L$ is smooth near $\theta$"),
        remarks=_remarks(keep, steps),
    )


def _remarks(keep, steps) -> list:
    """The instance (36 entries from the network itself), and what the law says of sharpness."""
    pre, loss, variables, at, scaled = network()
    coords = (*A, *B)
    moved = sp.ImmutableMatrix(6, 6, lambda p, q: SecondPartial(loss, (coords[p], coords[q]), variables, scaled, r"T_\alpha\theta"))
    here = sp.ImmutableMatrix(6, 6, lambda p, q: SecondPartial(loss, (coords[p], coords[q]), variables, at, r"\theta"))
    d_inv = sp.ImmutableMatrix(sp.diag(*([1 / alpha] * 4), alpha, alpha))
    top, top_w1, top_w2, cross_norm = (symbol(n, t, real=True) for n, t in (
        ("lambda_max(T)", r"\lambda_{\max}(H')"),
        ("lambda_max(W1)", r"\lambda_{\max}(H_{W_1W_1})"),
        ("lambda_max(W2)", r"\lambda_{\max}(H_{W_2W_2})"),
        ("||H_W1W2||", r"\|H_{W_1W_2}\|_2")))
    sharpest = symbol("sup Hessian norm", r"\sup_{\alpha > 0} \|\nabla^2 L(T_\alpha\theta)\|_2", positive=True)
    delta, theta = sp.MatrixSymbol(r"\delta", size, 1), sp.MatrixSymbol(r"\theta", size, 1)
    lower = sp.Max(top_w1 / alpha**2, top_w2 * alpha**2)
    return [
        _entrywise_at(Shown(moved, r"\nabla^2 L(T_\alpha\theta)", "Hessian at T_alpha theta"),
                      Shown(sp.MatMul(d_inv, here, d_inv, evaluate=False), r"D^{-1} \nabla^2 L(\theta) D^{-1}", "D^-1 H D^-1"),
                      r"an instance of (7) computed from the network itself, every entry differentiated: $m = d = 2$, "
                      r"one sample, the squared loss $(f - y)^2/2$ on the activation region ($S_j$ the patterns)",
                      uses=[keep], var=z, values=pre),
        cite(top, ">=", lower, "Theorem 4.2.2", HORN_JOHNSON,
             r"$\lambda_{\max}$ is the largest Rayleigh quotient; on vectors supported on the $W_1$ (or $W_2$) coordinates "
             r"it is that of the block, by (9) and (10). The two blocks' top eigenvalues $a, c$ are $\ge 0$ for the "
             r"squared loss (both blocks are Gauss-Newton: $f$ is linear in $W_2$, and in $W_1$ on an activation "
             r"region), so the bound is at least $\sqrt{ac}$ at every $\alpha$: $T_\alpha$ sharpens a minimum without "
             "bound, but cannot flatten it", uses=[steps["W1"], steps["W2"]]),
        cite(top, "<=", lower + cross_norm, "Theorem 4.3.1", HORN_JOHNSON,
             r"Weyl's inequality for $H'$ as the block-diagonal part plus the cross part, whose largest eigenvalue is "
             r"$\|H_{W_1W_2}\|_2$, unchanged by (11): the band shown in the figure",
             uses=[steps["W1"], steps["W2"], steps["cross"]]),
        cite(sharpest, "=", sp.oo, "Theorem 3", DINH,
             r"what Dinh et al. state, for the spectral norm of the Hessian at a minimum with $W_1, W_2 \ne 0$; by "
             r"(9) it grows as $\alpha^{-2}$ as $\alpha \to 0$ when the $W_1$ block is not zero, as $\alpha^2$ as "
             r"$\alpha \to \infty$ when the $W_2$ block is not", uses=[steps["W1"]]),
        matrix_equal(Shown(D * (theta + sp.Inverse(D) * delta), r"T_\alpha(\theta + D^{-1}\delta)", "T(theta + D^-1 delta)"),
                     Shown(D * theta + delta, r"T_\alpha\theta + \delta", "T theta + delta"),
                     r"derived here (Dinh et al. bound an $\epsilon$-sharpness over a Euclidean ball): $D$ of (5) "
                     r"is invertible, and so by (2) "
                     r"$L(T_\alpha\theta + \delta) = L(\theta + D^{-1}\delta)$. For $\delta$ in the box "
                     r"$|\delta_i| \le \epsilon(|(T_\alpha\theta)_i| + 1)$ of Keskar et al.'s $\epsilon$-sharpness "
                     r"(2017, Metric 2.1), $D^{-1}\delta$ reaches $\epsilon/\alpha$ along each $W_1$ coordinate and "
                     r"$\alpha\epsilon$ along each $W_2$ one, so the sharpness at $T_\alpha\theta$ is at least the loss "
                     r"increase at $\theta$ over steps of those lengths: unbounded as $\alpha \to 0$ or $\infty$ "
                     r"(the squared loss grows without bound along the $W_1$ coordinates of a unit whose output weight "
                     r"is $\ne 0$, and along the $W_2$ coordinate of a unit active on some training input), while the "
                     "test loss does not move; the figure measures it"),
    ]
