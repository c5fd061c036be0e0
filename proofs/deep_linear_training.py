r"""Training deep linear networks: Saxe's mode dynamics and the absence of bad local minima.

Two derivations, symbols named as the claims' parameters:

- :func:`derive_saxe_dynamics`: with whitened inputs the squared loss of a two-layer linear
  network :math:`W_2 W_1` separates into the singular modes of the input-output correlation;
  a mode of strength :math:`s` with balanced factors :math:`c_1 = c_2` has
  :math:`u = c_1 c_2` obeying :math:`du/dt = 2u(s - u)` (time :math:`t = n\,\eta` after
  :math:`n` gradient steps of learning rate :math:`\eta`, i.e. :math:`\tau = 1` in units of
  :math:`t`, :math:`\tau = 1/\eta` in units of steps), derived from the gradient flow of the
  mode and solved uniquely with an integrating factor :math:`G = e^{2st}(1/u - 1/s)`, constant
  along the flow. The remarks after the proof are what the claim's tolerance uses: the
  exact flow map of the ODE, its derivative in the initial value (decreasing in it), and the
  gradient step written on :math:`u`; the telescoping ("Lady Windermere's fan") bound turns
  them into an a-posteriori bound on the gradient-descent error (``s``, ``u0``, ``t``, ``lr``).
- :func:`derive_no_bad_minima`: the data are built so that the least-squares fit, in the
  whitened metric, has singular values :math:`\sigma_i = (3/4)^{i-1}` and the residual loss is
  :data:`RESIDUAL`; then the global minimum over networks of narrowest width :math:`r` is the
  best rank-:math:`r` approximation (Eckart-Young; Baldi and Hornik 1989, Fact 4), and every
  local minimum attains it (Kawaguchi 2016, Theorem 2.3; Laurent and von Brecht 2018), both
  checked by SymPy on the smallest network (``depth``, ``width``, ``n_in``, ``n_out``,
  ``samples``).
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from .checks import StepNotChecked
from .deep_linear import BALDI, KAWAGUCHI
from .derivation import (
    Derivation,
    cite,
    critical_set,
    define,
    equal,
    hypothesis,
    relation,
    substitute,
)
from .operators import Hessian, MinEigenvalue
from .printing import latex_expr, symbol
from .rules import equal_at
from .sources import Source
from .steps import Step, checked_step

__all__ = [
    "RESIDUAL",
    "SOURCES",
    "SPECTRUM_RATIO",
    "derive_no_bad_minima",
    "derive_saxe_dynamics",
    "minimum_loss",
    "saxe_solution",
]

# the claims' parameters
s = sp.Symbol("s", positive=True)
u0 = sp.Symbol("u0", positive=True)
t = sp.Symbol("t", real=True)
lr = sp.Symbol("lr", positive=True)
depth = sp.Symbol("depth", integer=True, positive=True)
width = sp.Symbol("width", integer=True, positive=True)
n_in = sp.Symbol("n_in", integer=True, positive=True)
n_out = sp.Symbol("n_out", integer=True, positive=True)
samples = sp.Symbol("samples", integer=True, positive=True)

# derivation-only symbols
c1, c2, c = sp.symbols("c_1 c_2 c", real=True)
T = sp.Symbol("T", nonnegative=True)  # remaining time after a step
v = sp.Symbol("v", positive=True)  # an initial value of the flow
g = sp.Symbol("g", nonnegative=True)  # e^{2 s T} - 1
h = sp.Symbol("h", positive=True)  # one step's length
x = sp.Symbol("x", nonnegative=True)
tau = sp.Symbol("tau", nonnegative=True)  # a time in [0, t]
sigma_t = sp.Symbol("tau'", nonnegative=True)  # a time in [0, tau]
u = sp.Function("u")
phi = sp.Function("phi")  # the exact flow phi(T, v) of the mode ODE
alpha, k, n_steps, modes = sp.symbols("alpha k n d", integer=True, positive=True)
s_mode, c1_mode, c2_mode = sp.IndexedBase("s"), sp.IndexedBase("c_1"), sp.IndexedBase("c_2")
u_seq, t_seq, h_seq = sp.IndexedBase("u"), sp.IndexedBase("t"), sp.IndexedBase("h")
i = sp.Symbol("i", integer=True, positive=True)
r = sp.Symbol("r", integer=True, positive=True)
m = sp.Symbol("m", integer=True, positive=True)
sigma = sp.IndexedBase("sigma")

RESIDUAL = sp.Rational(1, 16)  # the loss of the part of Y orthogonal to the rows of X
SPECTRUM_RATIO = sp.Rational(3, 4)  # sigma_i = (3/4)^(i-1)

SAXE = Source(
    "saxe2014",
    "Andrew M. Saxe and James L. McClelland and Surya Ganguli",
    "Exact solutions to the nonlinear dynamics of learning in deep linear neural networks",
    "International Conference on Learning Representations (ICLR)",
    2014,
    arxiv="1312.6120",
    kind="inproceedings",
)
HAIRER = Source(
    "hairer1993",
    "Ernst Hairer and Syvert P. Norsett and Gerhard Wanner",
    "Solving Ordinary Differential Equations I: Nonstiff Problems (2nd edition)",
    "Springer, Berlin",
    1993,
    doi="10.1007/978-3-540-78862-1",
    kind="book",
)
LAURENT = Source(
    "laurent2018",
    "Thomas Laurent and James von Brecht",
    "Deep linear networks with arbitrary loss: all local minima are global",
    "Proceedings of the 35th International Conference on Machine Learning (ICML), PMLR 80",
    2018,
    arxiv="1712.01473",
    kind="inproceedings",
)
ECKART = Source(
    "eckart1936",
    "Carl Eckart and Gale Young",
    "The approximation of one matrix by another of lower rank",
    "Psychometrika",
    1936,
    doi="10.1007/BF02288367",
    volume="1",
    number="3",
    pages="211-218",
)
SOURCES = (SAXE, HAIRER, KAWAGUCHI, LAURENT, ECKART, BALDI)


def saxe_solution(time=t, start=u0, strength=s) -> sp.Expr:
    """u(t) = s e^{2st} / (e^{2st} - 1 + s/u0): the sigmoidal learning curve of one mode."""
    e = sp.exp(2 * strength * time)
    return strength * e / (e - 1 + strength / start)


def _positive_root(lhs, rhs, reason: str, *, uses) -> Step:
    """A checked ``lhs = rhs`` from two premises: an equality ``E = 0`` whose left side is
    ``(lhs - rhs)`` times a constant multiple of ``q``, and ``q > 0`` (so the other factor vanishes)."""

    def check(premises) -> str:
        eqs = [p for p in premises if p.rel == "="]
        signs = [p for p in premises if p.rel == ">" and p.rhs == 0]
        if len(eqs) != 1 or len(signs) != 1 or len(premises) != 2:
            raise StepNotChecked("a positive root needs one equality E = 0 and one positivity q > 0 as premises")
        (eq,), (sign,) = eqs, signs
        product_ = eq.lhs - eq.rhs
        quotient = sp.cancel(product_ / (lhs - rhs))
        ratio = sp.cancel(quotient / sign.lhs)
        if not (ratio.is_number and ratio != 0 and sp.expand(quotient * (lhs - rhs) - product_) == 0):
            raise StepNotChecked(f"{product_} is not ({lhs} - {rhs}) times a multiple of {sign.lhs}")
        return (f"the premise factors as ${latex_expr(ratio)} \\left({latex_expr(sign.lhs)}\\right) "
                f"\\left({latex_expr(lhs - rhs)}\\right)$, and ${latex_expr(sign.lhs)} > 0$")

    return checked_step(lhs, "=", rhs, reason, check, uses)


@cache
def derive_saxe_dynamics() -> Derivation:
    """tau du/dt = 2u(s - u) from the gradient flow of one mode, balanced at every time because the
    flow conserves c_1^2 - c_2^2 from a balanced start, and its unique solution with u(0) = u0 (an
    integrating factor); the lemmas of the discretisation bound as remarks."""
    loss = (s - c1 * c2) ** 2 / 2
    big_c1, big_c2, big_g = sp.Function("c_1", real=True), sp.Function("c_2", real=True), sp.Function("G")
    mode = (big_c1(tau), big_c2(tau))
    closed = saxe_solution()
    flow = hypothesis(sp.Derivative(big_c1(tau), tau), "=", -sp.Subs(sp.Derivative(loss, c1), (c1, c2), mode),
                      "gradient flow on one mode's loss $(s - c_1 c_2)^2/2$ (whitened inputs, factors along the mode; "
                      r"time $t = n\eta$ after $n$ steps)")
    partner = hypothesis(sp.Derivative(big_c2(tau), tau), "=", -sp.Subs(sp.Derivative(loss, c2), (c1, c2), mode),
                         "and on its partner factor $c_2$, symmetrically")
    gap = big_c1(tau) ** 2 - big_c2(tau) ** 2
    conserved = equal(sp.Derivative(gap, tau), 0, "the flow conserves $c_1^2 - c_2^2$", uses=[flow, partner])
    even = hypothesis(big_c2(0), "=", big_c1(0), r"a balanced start: $c_1(0) = c_2(0) = \sqrt{u_0}$")
    gap_at = gap.subs(tau, sigma_t)
    increment_gap = sp.Integral(sp.Derivative(gap_at, sigma_t), (sigma_t, 0, tau))
    ftc_gap = equal(gap, gap.subs(tau, 0) + increment_gap, r"the fundamental theorem of calculus, at every time $\tau$")
    flat = equal_at(increment_gap, 0, r"the conservation law at every time $\tau' \in [0, \tau]$", uses=[conserved],
                    at={tau: sigma_t})
    squares = equal(gap, 0, "so $c_1^2 - c_2^2$ keeps its starting value $0$", uses=[ftc_gap, flat, even])
    positive = hypothesis(big_c1(tau) + big_c2(tau), ">", 0,
                          r"the factors stay on the positive branch $c_1, c_2 > 0$ of the start $\sqrt{u_0} > 0$")
    balanced = _positive_root(big_c2(tau), big_c1(tau), "balanced at every time: $c_2 = c_1$", uses=[squares, positive])
    strength = define(u(tau), big_c1(tau) * big_c2(tau), "the mode strength $u = a^T W_2 W_1 b$")
    ode = equal(sp.Derivative(u(tau), tau), 2 * u(tau) * (s - u(tau)), r"so $\tau\,du/dt = 2u(s - u)$, with $\tau = 1$ in units of $t$",
                uses=[strength, flow, balanced])
    start = hypothesis(u(0), "=", u0, "the balanced start has strength $u_0$")
    factor = define(big_g(tau), sp.exp(2 * s * tau) * (1 / u(tau) - 1 / s),
                    r"an integrating factor at every time $\tau$: $v = 1/u$ obeys the linear equation $dv/dt = 2 - 2sv$")
    at_t, at_0 = sp.Subs(big_g(tau), tau, t), sp.Subs(big_g(tau), tau, 0)
    increment = sp.Integral(sp.Derivative(big_g(tau), tau), (tau, 0, t))
    inverse = equal(u(t), 1 / (1 / s + sp.exp(-2 * s * t) * at_t), "$u$ in terms of $G$", uses=[factor])
    ftc = equal(at_t, at_0 + increment, "the fundamental theorem of calculus")
    constant = equal(increment, 0, "$G$ is constant along the flow: $dG/dt = 0$ by the mode equation", uses=[factor, ode])
    initial = equal(at_0, 1 / u0 - 1 / s, "its value at the start", uses=[factor, start])
    steps = [flow, partner, conserved, even, ftc_gap, flat, squares, positive, balanced, strength, ode, start, factor, inverse, ftc, constant, initial,
             equal(u(t), closed, "the unique solution with $u(0) = u_0$: $1/u = 1/s + e^{-2st} (1/u_0 - 1/s)$, the sigmoid",
                   uses=[inverse, ftc, constant, initial])]
    # -- remarks: checks of the closed form, and the lemmas of the discretisation bound
    slope = s**2 * sp.exp(2 * s * T) / (s + v * (sp.exp(2 * s * T) - 1)) ** 2
    remarks = [
        equal(sp.Derivative(closed, t), 2 * closed * (s - closed), "check: the closed form satisfies the ODE"),
        equal(sp.Subs(closed, t, 0), u0, "check: and the initial condition"),
        equal(sp.Derivative(saxe_solution(T, v), v), slope,
              r"the exact flow $\phi(T, v)$ of the ODE over time $T$ from $u = v$: its sensitivity to the starting value"),
        relation(sp.exp(x) - 1, ">=", 0, r"so with $g = e^{2sT} - 1 \ge 0$ ($x = 2sT \ge 0$)", over=(x, sp.Interval(0, sp.oo))),
        relation(sp.Derivative(s**2 * (1 + g) / (s + v * g) ** 2, v), "<=", 0,
                 "the sensitivity decreases in $v$: over an interval its largest value is at the left end"),
        equal((c + h * c * (s - c**2)) ** 2, c**2 * (1 + h * (s - c**2)) ** 2,
              "one gradient step of length $h$ on a balanced mode: $u_{k+1} = u_k (1 + h(s - u_k))^2$; the tolerance "
              "telescopes these local errors against the exact flow (Lady Windermere's fan)"),
    ]
    return Derivation(
        "Saxe's mode dynamics of a two-layer linear network",
        steps,
        (u(t), "=", closed),
        assumptions=(
            r"squared loss $L = \|Y - W_2 W_1 X\|^2/(2N)$, whitened inputs $X X^T/N = I$, $\Sigma_{31} = Y X^T/N$",
            r"balanced start along the modes: $W_1 = \sqrt{u_0}\, r b^T$, $W_2 = \sqrt{u_0}\, a r^T$ for each mode "
            "$(a, b, s)$",
            r"gradient descent $W \leftarrow W - \eta \nabla L$, time $t = n\eta$ after $n$ steps ($\tau = 1/\eta$ in "
            "units of steps)",
        ),
        remarks=remarks,
    )


def minimum_loss() -> sp.Expr:
    """The global minimum: RESIDUAL + (1/2) sum_{i > r} (9/16)^(i-1), r the narrowest width, m = min(n_in, n_out)."""
    rank = sp.Min(width, n_in, n_out)
    full = sp.Min(n_in, n_out)
    return RESIDUAL + sp.Rational(8, 7) * (sp.Rational(9, 16) ** rank - sp.Rational(9, 16) ** full)


def _scalar_landscape() -> list:
    """The smallest deep linear network, f = w_2 w_1 x with target 1: its critical points are the
    global minima w_1 w_2 = 1 and the origin, a strict saddle."""
    w1, w2 = w = sp.symbols("w_1 w_2", real=True)
    big_l = sp.Symbol("L_2")
    definition = define(big_l, (1 - w1 * w2) ** 2 / 2, "special case: depth $2$, widths $1$, one sample $x = y = 1$")

    def member(sol: dict) -> bool:
        a, b = (sol.get(x, x) for x in w)
        return (sp.simplify(a) == 0 and sp.simplify(b) == 0) or sp.simplify(a * b - 1) == 0

    return [
        definition,
        critical_set(sp.Symbol("Crit_2"), symbol("{w_1 w_2 = 1} ∪ {0}", r"\{w_1 w_2 = 1\} \cup \{0\}"), [sp.Derivative(big_l, x) for x in w], w,
                     [{w2: 1 / w1}, {w1: 0, w2: 0}], member,
                     "its critical points: the global minima (loss $0$) and the origin", uses=[definition]),
        relation(MinEigenvalue(Hessian(big_l, w), at={w1: 0, w2: 0}), "<", 0,
                 "the origin is a strict saddle, not a local minimum", uses=[definition]),
    ]


@cache
def derive_no_bad_minima() -> Derivation:
    """Every local minimum attains RESIDUAL + (1/2) sum_{i=r+1}^{m} sigma_i^2 (Kawaguchi 2016,
    Theorem 2.3; the global minimum from Baldi and Hornik 1989, Fact 4)."""
    a, w, xs, z = sp.symbols("a w x z", real=True)
    local = sp.Symbol("L_loc")
    best = symbol("L^*", "L^*")
    tail = RESIDUAL + sp.Sum(sigma[i] ** 2, (i, r + 1, m)) / 2
    spectrum = hypothesis(sigma[i], "=", SPECTRUM_RATIO ** (i - 1),
                          r"the data are built with $\sigma_i = (3/4)^{i-1}$, $i = 1, \ldots, m$")
    sigmas = substitute(tail, "the built spectrum", uses=[spectrum])
    tail_closed = RESIDUAL + sp.Rational(8, 7) * (sp.Rational(9, 16) ** r - sp.Rational(9, 16) ** m)
    split = equal(((a - w) * xs + z) ** 2 / 2, (a - w) ** 2 * xs**2 / 2 + (a - w) * xs * z + z**2 / 2,
                  "one sample's loss with $y = a x + z$; the cross terms sum to zero over the samples ($Z X^T = 0$), so "
                  r"$L(W) = 1/16 + \|(W - W_{\mathrm{ls}}) C^{1/2}\|^2/2$ with $C = X X^T/N$ and "
                  r"$W_{\mathrm{ls}} = Y X^T (X X^T)^{-1}$")
    case = _scalar_landscape()
    rank = define(r, sp.Min(width, n_in, n_out), r"the rank of $W_L \cdots W_1$ is at most the narrowest width, and any such rank is reachable")
    modes_ = define(m, sp.Min(n_in, n_out), r"the number of modes of $M = W_{\mathrm{ls}} C^{1/2}$")
    steps = [
        rank, modes_, spectrum, split, *case,
        cite(local, "=", best, "Theorem 2.3", KAWAGUCHI,
             "every local minimum of a deep linear network under squared loss is global, any depth and widths; the "
             "smallest case is checked", uses=case[1:]),
        cite(best, "=", tail, "Fact 4", BALDI,
             "the end-to-end matrices of any depth with narrowest width $r$ are the matrices of rank at most $r$, as for "
             "one hidden layer of width $r$, whose global minimum keeps the top $r$ modes of $M$: the loss $L(W)$ less "
             r"$\sum_{i \le r} \sigma_i^2/2$", uses=[split]),
        sigmas,
        equal(sigmas.rhs, tail_closed, "a geometric sum"),
        substitute(tail_closed, r"$m = \min(n_{\mathrm{in}}, n_{\mathrm{out}})$ modes, $r$ the narrowest width",
                   uses=[rank, modes_]),
    ]
    return Derivation(
        "No bad local minima: the loss every local minimum attains",
        steps,
        (local, "=", minimum_loss()),
        uses=[steps[7], steps[8], sigmas, steps[10], steps[-1]],
        assumptions=(
            r"squared loss $L = \|Y - W_L \cdots W_1 X\|^2/(2N)$, $X$ of shape $n_{\mathrm{in}} \times N$ with "
            r"$N > n_{\mathrm{in}}$, any depth $\ge 2$ and widths",
            r"$Y = W_{\mathrm{ls}} X + Z$ with $Z X^T = 0$, $\|Z\|^2/(2N) = 1/16$, and $M = W_{\mathrm{ls}} C^{1/2}$ with "
            "singular values $(3/4)^{i-1}$",
        ),
    )
