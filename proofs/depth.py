r"""Depth separation (after Telgarsky 2016): the sawtooth :math:`t^L` and how badly few pieces approximate it.

- ``depth.sawtooth``: the tent map :math:`t(x) = 2\,\mathrm{relu}(x) - 4\,\mathrm{relu}(x - 1/2)` composed L times
  is :math:`t^L_j(x) = (-1)^j (2^L x - j) + (1 - (-1)^j)/2` on :math:`I_{L,j} = [j 2^{-L}, (j + 1) 2^{-L}]` (by
  induction on L), so it has exactly :math:`2^L` affine pieces on [0, 1] and crosses 1/2 exactly :math:`2^L` times;
- ``depth.separation``: every f affine on all but k of the :math:`2^{L-1}` teeth of :math:`t^L` (every f with at
  most k + 1 affine pieces) has :math:`\int_0^1 |f - t^L| \ge 1/4 - k/2^{L+1}`; counting crossings gives only
  :math:`1/8 - (k + 2)/2^{L+2}` (every continuous f changing side of 1/2 in at most k + 1 intervals between crossings).

Telgarsky's Theorem 1.1 states a separation for networks of several layers and general gates with a smaller
constant; its proof composes the same tent map and counts crossings. Nothing is cited from it: the composition,
the tooth, the triangles and the runs count are checked by SymPy; only the integral's linearity, monotonicity and
additivity are cited (Rudin). Symbols use the claims' parameter names (``count`` and ``argument`` as codes).
"""

from __future__ import annotations

from functools import cache
from itertools import product

import sympy as sp
from sympy.calculus.util import minimum

from .checks import Rewriter, StepNotChecked, confirm_equal, confirm_relation
from .derivation import Derivation, cite, define, equal, hypothesis, relation, solutions
from .printing import function, latex_expr, symbol
from .residual import RUDIN
from .rules import equal_at
from .sources import Source
from .steps import Step, checked_step, refuse_unused, rewriting

__all__ = ["ARGUMENTS", "COUNTS", "SOURCES", "TELGARSKY", "bounds", "combine", "summed", "by_branches", "composed",
           "substituted", "by_parity", "each_case", "derive_sawtooth", "derive_separation"]

L = sp.Symbol("L", integer=True, positive=True)
k = sp.Symbol("k", integer=True)
count = sp.Symbol("count", integer=True, positive=True)
argument = sp.Symbol("argument", integer=True, positive=True)
x = sp.Symbol("x", real=True)
v = sp.Symbol("v", nonnegative=True)
j, r = sp.Symbol("j", integer=True, nonnegative=True), sp.Symbol("r", integer=True)
i, m, s = (sp.Symbol(n, integer=True, positive=True) for n in "ims")

COUNTS = {"pieces": 1, "crossings": 2}
ARGUMENTS = {"breakpoints": 1, "crossings": 2}

TELGARSKY = Source("telgarsky2016", "Matus Telgarsky", "Benefits of depth in neural networks",
                   "Proceedings of the 29th Annual Conference on Learning Theory (COLT), PMLR 49", 2016,
                   arxiv="1602.04485", url="https://proceedings.mlr.press/v49/telgarsky16.html", pages="1517-1539",
                   kind="inproceedings")
SOURCES = (TELGARSKY, RUDIN)


def _over(num, den) -> sp.Expr:
    """``num/den`` kept as written (printed as a fraction, in this order)."""
    return sp.Mul(num, sp.Pow(den, -1, evaluate=False), evaluate=False)


def bounds() -> dict[str, sp.Basic]:
    """The two derived lower bounds by argument name, printed as written: 1/4 - k/2^(L+1), 1/8 - (k+2)/2^(L+2)."""
    return {"breakpoints": sp.Add(sp.Rational(1, 4), -_over(k, sp.Pow(2, L + 1, evaluate=False)), evaluate=False),
            "crossings": sp.Add(sp.Rational(1, 8), -_over(k + 2, sp.Pow(2, L + 2, evaluate=False)), evaluate=False)}


# --- rules (sound, each re-run from its premises) ---------------------------------------------------------

def combine(lhs, rhs, reason: str, *, uses, weights) -> Step:
    r"""A checked ``lhs >= rhs``: :math:`lhs - rhs - \sum_j w_j (a_j - b_j)` (premise j: :math:`a_j \ge b_j`,
    :math:`w_j \ge 0`, any weight for an equality) expands to 0 or to what SymPy knows is nonnegative (sums atoms)."""
    uses, lhs, rhs = tuple(uses), sp.sympify(lhs), sp.sympify(rhs)
    weight = {id(p): sp.sympify(w) for p, w in zip(uses, weights, strict=True)}

    def check(premises) -> str:
        rest = lhs - rhs
        for p in premises:
            w = weight[id(p)]
            if p.rel != "=" and w.is_nonnegative is not True:
                raise StepNotChecked(f"the weight {w} of an inequality premise is not known to be nonnegative")
            rest -= w * (p.rhs - p.lhs if p.rel in ("<=", "<") else p.lhs - p.rhs)
        rest = sp.expand(rest)
        if rest == 0:
            return "a nonnegative combination of the premises, remainder 0"
        if sp.simplify(rest).is_nonnegative is True:
            return "a nonnegative combination of the premises, remainder nonnegative"
        raise StepNotChecked(f"{lhs} >= {rhs} is not a nonnegative combination of the premises (remainder {rest})")

    return checked_step(lhs, ">=", rhs, reason, check, uses)


def summed(lhs: sp.Sum, rhs, reason: str, *, uses) -> Step:
    r"""A checked ``Sum(F_i, (i, 1, A)) >= rhs`` from the one premise ``F_i >= m_i``: :math:`\sum_{i=1}^{A} m_i`
    (A a nonnegative integer) evaluated by SymPy and confirmed equal to ``rhs``."""

    def check(premises) -> str:
        if len(premises) != 1 or premises[0].rel != ">=" or premises[0].lhs != lhs.function:
            raise StepNotChecked("a termwise sum needs the one premise F_i >= m_i, F_i the summand")
        (i, low, high), = lhs.limits
        if low != 1 or (high.is_integer and high.is_nonnegative) is not True:
            raise StepNotChecked(f"the sum must run from 1 to a nonnegative integer, not to {high}")
        total = sp.expand(sp.Sum(premises[0].rhs, (i, 1, high))).doit()  # a sum of terms, each summed
        return "the premise summed term by term, " + confirm_equal(total, rhs)

    return checked_step(lhs, ">=", rhs, reason, check, uses)


def by_branches(lhs, rhs, var: sp.Symbol, reason: str, *, uses=()) -> Step:
    """A checked ``lhs >= rhs`` for every real ``var``: rewritten, integrals evaluated, the difference as a
    Piecewise, each branch's exact minimum over its own part of the line confirmed nonnegative."""

    def confirm(rewrite: Rewriter) -> str:
        gap = sp.piecewise_fold((rewrite(lhs).doit() - rewrite(rhs).doit()).rewrite(sp.Piecewise))
        branches = gap.args if isinstance(gap, sp.Piecewise) else ((gap, sp.true),)
        rest, parts = sp.S.Reals, []
        for expr, cond in branches:
            part = (sp.S.Reals if cond == sp.true else sp.sympify(cond).as_set()).intersect(rest)
            rest = rest - part
            if part is sp.S.EmptySet:
                continue
            if sp.simplify(minimum(expr, var, part)).is_nonnegative is not True:
                raise StepNotChecked(f"the branch {expr} is negative somewhere on {part}")
            parts.append(f"${latex_expr(part)}$")
        return "exact minimum of each branch, on " + ", ".join(parts)

    return checked_step(lhs, ">=", rhs, reason, rewriting(confirm), uses)


def _same(a, b) -> bool:
    return sp.simplify(sp.sympify(a) - b) == 0


def composed(lhs, rhs, reason: str, *, uses, var=x, index=j, depth=L) -> Step:
    r"""A checked formula ``lhs = rhs`` of :math:`t^L` on :math:`I_{L,j}` (:math:`L \ge 0`, :math:`0 \le j < 2^L`),
    by induction with :math:`t^L = t^{L-1} \circ t`: at L = 0 it is ``var``; the premises say t = phi on halves
    [lo, hi] tiling [0, 1]; for :math:`lo\,2^L \le j < hi\,2^L` phi maps the ends of :math:`I_{L,j}` to those of
    :math:`I_{L-1,j'}`, j' runs over :math:`0, \dots, 2^{L-1} - 1`, and the formula at (L - 1, j', phi(x)) simplifies
    to the formula at (L, j, x)."""
    rhs = sp.sympify(rhs)

    def check(premises) -> str:
        if len(premises) != 2 or not all(isinstance(p.lhs, sp.ConditionSet) for p in premises):
            raise StepNotChecked("the induction needs the two halves of t, as solution sets")
        halves = sorted(((p.lhs.condition.rhs, p.rhs) for p in premises), key=lambda h: h[1].start)
        (_, first), (_, second) = halves
        if not (first.start == 0 and first.end == second.start and second.end == 1):
            raise StepNotChecked("the halves do not tile [0, 1]")
        if not _same(rhs.subs({depth: 0, index: 0}), var):  # t^0, the identity on [0, 1]
            raise StepNotChecked(f"at {depth} = 0 the formula is not the identity")
        for phi, half in halves:
            ends = [phi.subs(var, e / 2**depth) for e in (index, index + 1)]
            if sp.diff(phi, var).is_negative:
                ends.reverse()
            image = sp.expand(ends[0] * 2 ** (depth - 1))  # phi(I_{L,j}) = I_{L-1,image}
            if not _same(ends[1] * 2 ** (depth - 1), image + 1):
                raise StepNotChecked(f"{phi} does not map I_(L,j) onto an interval of t^(L-1)")
            reach, top = [image.subs(index, e) for e in (half.start * 2**depth, half.end * 2**depth - 1)], 2 ** (depth - 1) - 1
            if not any(_same(reach[0], lo) and _same(reach[1], hi) for lo, hi in ((0, top), (top, 0))):
                raise StepNotChecked(f"on {half}, j' does not run over 0, ..., 2^(L-1) - 1")
            previous = rhs.subs({depth: depth - 1, index: image, var: phi}, simultaneous=True)
            if not _same(previous, rhs):
                raise StepNotChecked(f"t^(L-1)({phi}) is not the formula on {half}")
        return r"induction on $L$: base $L = 0$; each half maps $I_{L,j}$ onto $I_{L-1,j'}$, simplify"

    return checked_step(lhs, "=", rhs, reason, check, uses,
                        condition=r"$x \in I_{L,j}$, $0 \le j < 2^L$")


def substituted(lhs, rhs, maps, reason: str, *, uses, at: dict | None = None) -> Step:
    r"""A checked equality of integrals by affine substitution: the premises (at ``at``) make ``lhs`` an integral
    over [a, b] and ``rhs`` a factor times one over :math:`[v_0, v_1]`; the maps :math:`x = \phi_k(v)`, in order,
    tile [a, b], and :math:`\sum_k F(\phi_k(v))\,|\phi_k'(v)|` is the right integrand times its factor."""
    at = at or {}

    def check(premises) -> str:
        rewrite = Rewriter([(p.lhs.subs(at), p.rhs.subs(at)) for p in premises if p.rel == "="])
        left = rewrite(lhs)
        factor, right = rewrite(rhs).as_independent(sp.Integral, as_Add=False)
        if not (isinstance(left, sp.Integral) and isinstance(right, sp.Integral)):
            raise StepNotChecked("a substitution relates two integrals")
        ((var, a, b),), ((w, v0, v1),) = left.limits, right.limits
        reached = a
        for phi in maps:
            ends = [phi.subs(w, v0), phi.subs(w, v1)]
            if sp.diff(phi, w).is_negative:
                ends.reverse()
            if not _same(ends[0], reached):
                raise StepNotChecked(f"x = {phi} does not start where the previous part ends")
            reached = ends[1]
        if not _same(reached, b):
            raise StepNotChecked("the parts do not tile the interval of integration")
        total = sum(left.function.subs(var, phi) * sp.Abs(sp.diff(phi, w)) for phi in maps)
        total = total.replace(lambda e: isinstance(e, sp.Abs), lambda e: sp.Abs(sp.factor(e.args[0])))
        how = confirm_equal(total, factor * right.function)
        refuse_unused(premises, rewrite)
        inst = ", ".join(f"${latex_expr(s)} = {latex_expr(e)}$" for s, e in at.items())
        return (f"premises at {inst}, " if inst else "premises, ") + f"split, $x = \\phi(v)$ on each part, {how}"

    return checked_step(lhs, "=", rhs, reason, check, uses)


def by_parity(lhs, rel: str, rhs, atoms, reason: str, *, uses) -> Step:
    """A checked (in)equality in integer ``atoms``: rewritten by the premises and evaluated (sums in closed
    form), then confirmed in each of the cases atom = 2w or 2w + 1 (w an integer, nonnegative with the atom)."""

    def confirm(rewrite: Rewriter) -> str:
        left, right = (sp.expand(rewrite(e)).doit() for e in (lhs, rhs))  # a sum of terms, each summed
        halves = [sp.Symbol(f"w_{n}", integer=True, nonnegative=a.is_nonnegative or None) for n, a in enumerate(atoms)]
        if any(a.is_integer is not True for a in atoms):
            raise StepNotChecked("parity cases need integer atoms")
        for parities in product((0, 1), repeat=len(atoms)):
            case = {a: 2 * w + p for a, w, p in zip(atoms, halves, parities, strict=True)}
            confirm_relation(left.xreplace(case), rel, right.xreplace(case))
        return "closed-form sum, each parity of " + ", ".join(f"${latex_expr(a)}$" for a in atoms)

    return checked_step(lhs, rel, rhs, reason, rewriting(confirm), uses)


def each_case(lhs, rhs: sp.Piecewise, reason: str, *, uses) -> Step:
    """A checked ``lhs >= Piecewise((B_1, c_1), ..., (B_n, True))``: each branch is a premise ``lhs >= B_i``."""

    def check(premises) -> str:
        if sorted(str((p.lhs, p.rel, p.rhs)) for p in premises) != sorted(str((lhs, ">=", e)) for e, _ in rhs.args):
            raise StepNotChecked("each case of the bound must be one premise, and each premise one case")
        return "each case is a premise"

    return checked_step(lhs, ">=", rhs, reason, check, uses)


# --- depth.sawtooth -----------------------------------------------------------------------------------

t = sp.Function("t")
N = sp.Function("N")  # N(L): the affine pieces of t^L on [0, 1]
C = sp.Function("C")  # C(L): the solutions of t^L(x) = 1/2 in [0, 1]


class Piece(sp.Function):
    """``Piece(L, j, x)``: :math:`t^L(x)` on its j-th interval :math:`I_{L,j}`."""

    nargs = 3

    def _latex(self, printer, exp=None) -> str:
        head = r"t^{{{}}}_{{{}}}\left({}\right)".format(*(printer._print(a) for a in self.args))
        return head if exp is None else rf"\left({head}\right)^{{{exp}}}"


@cache
def derive_sawtooth() -> Derivation:
    r""":math:`t^L` has :math:`2^L` affine pieces and crosses 1/2 :math:`2^L` times: the tent's halves, the formula
    on each :math:`I_{L,j}` by induction on L (the pieces double), the slopes and ends of the pieces counted."""
    tent = define(t(x), 2 * sp.Max(0, x) - 4 * sp.Max(0, x - sp.Rational(1, 2)),
                  r"the tent map: a layer of two ReLU units, $t(x) = 2\,\mathrm{relu}(x) - 4\,\mathrm{relu}(x - 1/2)$")
    half, unit = sp.Rational(1, 2), sp.Interval(0, 1)
    left = solutions(sp.Eq(t(x), 2 * x), x, unit, sp.Interval(0, half), "on $[0, 1]$, $t$ is $2x$ exactly on the left "
                     "half", uses=[tent])
    right = solutions(sp.Eq(t(x), 2 - 2 * x), x, unit, sp.Interval(half, 1), "and $2 - 2x$ on the right", uses=[tent])
    formula = composed(Piece(L, j, x), sp.Add((-1) ** j * (2**L * x - j), _over(1 - (-1) ** j, 2), evaluate=False),
                       r"$t^L_j$ is $t^L$ on $I_{L,j} = [j 2^{-L}, (j + 1) 2^{-L}]$. By induction on $L$: $t^L = t^{L-1} \circ t$, and $t$ maps each "
                       r"half of $[0, 1]$ affinely onto $[0, 1]$ (steps 2, 3), so the $2^{L-1}$ pieces of $t^{L-1}$ come "
                       "back compressed on the left half and mirrored on the right: the pieces double", uses=[left, right])
    slope = [sp.Derivative(Piece(L, r + d, x), x) for d in (-1, 0)]
    pieces_def = define(N(L), 1 + sp.Sum(1 - sp.KroneckerDelta(*slope), (r, 1, 2**L - 1)), r"the maximal affine pieces "
                        r"of $t^L$: one, and one more at each knot $r 2^{-L}$ where the slope changes ($\delta = 1$ where "
                        "the slopes agree)")
    ends = [Piece(L, r, (r + d) / 2**L) - half for d in (0, 1)]
    cross_def = define(C(L), sp.Sum(_over(1 - sp.sign(ends[0] * ends[1]), 2), (r, 0, 2**L - 1)), r"an affine "
                       "piece whose ends lie on opposite sides of $1/2$ crosses it once, on one side never")
    pieces = equal_at(N(L), 2**L, "the slopes $\\pm 2^L$ alternate: every knot bends", uses=[pieces_def, formula],
                      at={j: (r - 1, r)})
    crossings = equal_at(C(L), 2**L, "the ends of the pieces alternate between $0$ and $1$: one crossing in each piece",
                         uses=[cross_def, formula], at={j: r, x: (r / 2**L, (r + 1) / 2**L)})
    which = sp.Piecewise((N(L), sp.Eq(count, COUNTS["pieces"])), (C(L), True))
    u, b, a = sp.Symbol("u", real=True, nonzero=True), sp.Symbol("b", real=True), sp.Symbol("a", real=True, nonzero=True)
    w = sp.Symbol("w", nonnegative=True)
    knot = (1 - (-1) ** m) / 2 + (-1) ** m * 2**L * w
    remarks = [
        solutions(sp.Eq(t(x), half), x, unit, sp.FiniteSet(half / 2, 3 * half / 2), "$t$ crosses $1/2$ twice: $C(1) = "
                  "2$", uses=[tent]),
        equal_at(Piece(L, m - 1, m / 2**L - w), knot, r"left of the knot $m 2^{-L}$ ($0 < m < 2^L$, $0 \le w \le "
                 r"2^{-L}$): $t^L$ is $(1 - (-1)^m)/2 + (-1)^m 2^L |x - m 2^{-L}|$, a peak for odd $m$", uses=[formula],
                 at={j: m - 1, x: m / 2**L - w}),
        equal_at(Piece(L, m, m / 2**L + w), knot, "and on its right (depth.separation)", uses=[formula],
                 at={j: m, x: m / 2**L + w}),
        solutions(sp.Eq(u * x + b, 0), x, sp.S.Reals, sp.FiniteSet(-b / u), r"a unit $\mathrm{relu}(u x + b)$, $u \ne "
                  r"0$, bends once: $c + \sum_{i=1}^k a_i\,\mathrm{relu}(u_i x + b_i)$ is affine between its at most $k$ "
                  "bends, so it has at most $k + 1$ pieces on the line"),
        solutions(sp.Eq(a * x + b, half), x, sp.S.Reals, sp.FiniteSet((1 - 2 * b) / (2 * a)), "an affine piece crosses "
                  "$1/2$ at most once: $k + 1$ pieces, at most $k + 1$ crossings"),
        relation(2**L, ">=", 2 * L + 2, r"for $L \ge 3$ the $2L$ units of the deep network, in one hidden layer, give at "
                 r"most $2L + 1 < 2^L$ pieces", over=(L, sp.Interval(3, sp.oo))),
    ]
    return Derivation(r"The sawtooth $t^L$: $2^L$ affine pieces, $2^L$ crossings of $1/2$",
                      [tent, left, right, formula, pieces_def, cross_def, pieces, crossings], (which, "=", 2**L),
                      uses=[pieces, crossings], remarks=remarks,
                      assumptions=(r"$t^L = t \circ \cdots \circ t$ ($L$ times) on $[0, 1]$: a network of $L$ layers of "
                                   "two ReLU units", r"pieces are maximal intervals on which $t^L$ is affine"))


# --- depth.separation ---------------------------------------------------------------------------------

E = symbol("E_f", r"\int_0^1 |f - t^L|")  # the error of one f
Err = function("err_tooth", r"\varepsilon")  # eps(i): the error on tooth i
Area = function("area_triangle", "A")  # A(m): the area of |t^L - 1/2| between the crossings around the knot m
t_L = function("t_L", "t^{L}")
f = sp.Function("f")
teeth = symbol("T_f", "T_f", integer=True, nonnegative=True)  # teeth on which f is affine
wrong = symbol("M_f", "M_f", integer=True, nonnegative=True)  # intervals on which f is on the wrong side of 1/2
cuts = symbol("R_f", "R_f", integer=True, nonnegative=True)  # intervals between crossings holding a change of side
length = function("ell", r"\ell", integer=True, nonnegative=True)  # segment s: ell(s) intervals free of changes
phase = function("q_seg", "q", integer=True)
Wrong = function("W_seg", "W")  # W(s): the intervals of segment s on which f is on the wrong side
knots = sp.IndexedBase("m")


def _breakpoints(knot: Step) -> list[Step]:
    r"""Every f affine on at least :math:`2^{L-1} - k` teeth has :math:`E_f \ge 1/4 - k/2^{L+1}`."""
    a, b = sp.Symbol("a", real=True), sp.Symbol("b", real=True)
    peak = (2 * i - 1) / 2**L
    affine = hypothesis(f(x), "=", sp.Add(a, 2**L * b * (x - peak), evaluate=False), r"on tooth $i$, $[2(i-1) 2^{-L}, "
                        r"2i 2^{-L}]$ around the peak $c_i = (2i - 1) 2^{-L}$, $f$ is affine: $f(c_i \pm v 2^{-L}) = a \pm b v$")
    error = define(Err(i), sp.Integral(sp.Abs(f(x) - t_L(x)), (x, _over(2 * i - 2, 2**L), _over(2 * i, 2**L))), "the error on tooth $i$")
    tooth = substituted(Err(i), sp.Integral(sp.Abs(a + b * v - (1 - v)) + sp.Abs(a - b * v - (1 - v)), (v, 0, 1)) / 2**L,
                        [peak - v / 2**L, peak + v / 2**L], r"the tooth, $t^L(c_i \pm v 2^{-L}) = 1 - v$, in the "
                        r"variable $v \in [0, 1]$ on each side of the peak", uses=[error, affine, knot], at={m: 2 * i - 1})
    half = sp.Integral(sp.Abs(a - 1 + v), (v, 0, 1))
    pair = cite(Err(i), ">=", 2 * half / 2**L, "Theorems 1.33(e) and 6.12(a), (b)", RUDIN,
                r"$|A + B| + |A - B| \ge 2|A|$ (the triangle inequality) at every $v$, with $A = a - 1 + v$, $B = bv$, "
                "integrated: the tooth's symmetry removes the slope", uses=[tooth])
    median = by_branches(half, sp.Rational(1, 4), a, r"for every real $a$, with equality at $a = 1/2$ only")
    per_tooth = combine(Err(i), 1 / 2 ** (L + 1), "every tooth on which $f$ is affine costs at least $2^{-L-1}$",
                        uses=[pair, median], weights=[1, 2 / 2**L])
    count = hypothesis(teeth, ">=", 2 ** (L - 1) - k, r"$f$ is affine on at least $2^{L-1} - k$ of the teeth: true of "
                       r"every $f$ with at most $k + 1$ affine pieces (its $k$ bends lie in at most $k$ teeth)")
    split = cite(E, ">=", sp.Sum(Err(i), (i, 1, teeth)), "Theorem 6.12(b), (c)", RUDIN, "the teeth tile $[0, 1]$ and "
                 "the integrand is nonnegative: keep the $T_f$ teeth on which $f$ is affine (numbered $1, \\dots, T_f$)")
    total = summed(sp.Sum(Err(i), (i, 1, teeth)), teeth / 2 ** (L + 1), "over those teeth", uses=[per_tooth])
    bound = combine(E, bounds()["breakpoints"], "with the count of teeth", uses=[split, total, count],
                    weights=[1, 1, 1 / 2 ** (L + 1)])
    return [affine, error, tooth, pair, median, per_tooth, count, split, total, bound]


def _crossings(knot: Step) -> list[Step]:
    r"""Every continuous f changing side in at most k + 1 intervals has :math:`E_f \ge 1/8 - (k + 2)/2^{L+2}`: the
    intervals holding a change cut the others into runs, on which f is on the wrong side every other time."""
    p, q, half = sp.Symbol("P", nonnegative=True), sp.Symbol("Q", nonnegative=True), sp.Rational(1, 2)
    area_def = define(Area(m), sp.Integral(sp.Abs(t_L(x) - half), (x, (m - half) / 2**L, (m + half) / 2**L)), r"the "
                      r"area of $|t^L - 1/2|$ on $J_m$, between the crossings $(m \mp 1/2) 2^{-L}$ around the knot $m 2^{-L}$")
    triangle = substituted(Area(m), sp.Integral(sp.Abs(1 - v) / 2, (v, 0, 1)) / 2**L, [(m - v / 2) / 2**L, (m + v / 2) / 2**L],
                           r"a triangle of base $2^{-L}$ and height $1/2$: $x = (m \mp v/2) 2^{-L}$, $v \in [0, 1]$",
                           uses=[area_def, knot])
    area = equal(Area(m), 1 / 2 ** (L + 2), "each triangle has area $2^{-L-2}$", uses=[triangle])
    gap = sp.Abs(sp.Add(half + p, -(half - q), evaluate=False), evaluate=False)
    sides = relation(gap, ">=", p, r"where $t^L = 1/2 + P$ and $f = 1/2 - Q$ lie on opposite sides of $1/2$ (or the "
                     r"reverse), $|f - t^L| \ge |t^L - 1/2|$")
    flips = hypothesis(cuts, "<=", k + 1, r"$f$ is continuous and $1[f \ge 1/2]$ changes in at most $k + 1$ of the "
                       r"$2^L - 1$ intervals $J_m$ between crossings of $t^L$: true of every continuous $f$ with $k + 1$ pieces")
    segments = define(sp.Sum(length(s), (s, 1, cuts + 1)), 2**L - 1 - cuts,
                      r"the $R_f$ intervals holding a change cut $J_1, \dots, J_{2^L - 1}$ into $R_f + 1$ segments (some "
                      r"empty) of $\ell(s)$ consecutive intervals, on none of which $f$ changes side")
    per = define(Wrong(s), sp.Sum((1 + (-1) ** (j + phase(s))) / 2, (j, 0, length(s) - 1)), r"on segment $s$ ($J_{a}, "
                 r"\dots, J_{a + \ell(s) - 1}$) $f$ keeps one side $(-1)^p$ of $1/2$ while $t^L - 1/2$ has the sign "
                 r"$(-1)^{m+1}$ on $J_m$ (step 1): $f$ is on the wrong side of those with $j + q(s)$ even, $q(s) = a + p$")
    alternate = by_parity(Wrong(s), ">=", _over(length(s) - 1, 2), [length(s), phase(s)],
                          "at least $(\\ell(s) - 1)/2$ of them", uses=[per])
    runs = summed(sp.Sum(Wrong(s), (s, 1, cuts + 1)), _over(sp.Sum(length(s), (s, 1, cuts + 1)) - cuts - 1, 2),
                  "over the segments", uses=[alternate])
    total_w = define(wrong, sp.Sum(Wrong(s), (s, 1, cuts + 1)), r"$M_f$: the $J_m$ in the segments where $f$ is on the wrong side")
    count = combine(wrong, 2 ** (L - 1) - k - 2, "the runs count: half the intervals, less one per segment",
                    uses=[total_w, runs, segments, flips], weights=[1, 1, sp.Rational(1, 2), 1])
    split = cite(E, ">=", sp.Sum(Area(knots[j]), (j, 1, wrong)), "Theorem 6.12(b), (c)", RUDIN,
                 r"integrate the pointwise bound over those $M_f$ intervals $J_{m_1}, \dots, J_{m_{M_f}}$, and the "
                 "nonnegative integrand elsewhere", uses=[sides])
    total = equal_at(sp.Sum(Area(knots[j]), (j, 1, wrong)), wrong / 2 ** (L + 2), "over those intervals", uses=[area],
                     at={m: knots[j]})
    bound = combine(E, bounds()["crossings"], "with the count of intervals", uses=[split, total, count],
                    weights=[1, 1, 1 / 2 ** (L + 2)])
    return [area_def, triangle, area, sides, flips, segments, per, alternate, runs, total_w, count, split, total, bound]


@cache
def derive_separation() -> Derivation:
    r"""Every f of the class meets the derived bound :math:`\int_0^1 |f - t^L| \ge B`: the breakpoint bound
    :math:`1/4 - k/2^{L+1}` or the crossing bound :math:`1/8 - (k + 2)/2^{L+2}` as ``argument`` says."""
    knot = hypothesis(t_L(x), "=", sp.Add(_over(1 - (-1) ** m, 2), (-1) ** m * 2**L * sp.Abs(x - m / 2**L), evaluate=False),
                      r"near each interior knot $m 2^{-L}$ ($0 < m < 2^L$, $|x - m 2^{-L}| \le 2^{-L}$) $t^L$ is a peak "
                      "(odd $m$) or a valley (even $m$): depth.sawtooth, remarks 10 and 11")
    first, second = _breakpoints(knot), _crossings(knot)
    b = bounds()
    either = each_case(E, sp.Piecewise((b["breakpoints"], sp.Eq(argument, ARGUMENTS["breakpoints"])),
                                       (b["crossings"], True)), "the bound the argument names", uses=[first[-1], second[-1]])
    remarks = [relation(2 * b["crossings"], "<", b["breakpoints"], r"twice the crossing bound is still below the "
                        "breakpoint bound: counting crossings gives away a factor 2, and more"),
               equal(sp.Integral(sp.Abs(sp.Rational(1, 2) - 1 + v), (v, 0, 1)), sp.Rational(1, 4), r"the constant $f = "
                     r"1/2$ attains the tooth bound: at $k = 0$ the breakpoint bound $1/4$ is the least error of an affine $f$")]
    return Derivation(
        r"Depth separation: few pieces cannot follow the sawtooth $t^L$", [knot, *first, *second, either],
        (E, ">=", either.rhs), uses=[either], remarks=remarks,
        assumptions=(r"$t^L$ the $L$-fold tent map on $[0, 1]$, $2^L$ pieces (depth.sawtooth)", r"$f$ real on $[0, 1]$, "
                     r"integrable; breakpoints: $f$ affine on all but $k$ of the $2^{L-1}$ teeth $[2(i-1) 2^{-L}, 2i 2^{-L}]$ "
                     r"(every $f$ with at most $k + 1$ pieces, continuous or not); crossings: $f$ continuous, changing "
                     r"side of $1/2$ in at most $k + 1$ intervals between crossings of $t^L$"))
