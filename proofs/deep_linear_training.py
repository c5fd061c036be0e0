r"""Training deep linear networks: Saxe's mode dynamics and the absence of bad local minima.

Two derivations, symbols named as the claims' parameters:

- :func:`derive_saxe_dynamics`: with whitened inputs the squared loss of a two-layer linear
  network :math:`W_2 W_1` separates into the singular modes of the input-output correlation;
  a mode of strength :math:`s` with balanced factors :math:`c_1 = c_2` has
  :math:`u = c_1 c_2` obeying :math:`du/dt = 2u(s - u)` (time :math:`t = n\,\eta` after
  :math:`n` gradient steps of learning rate :math:`\eta`, i.e. :math:`\tau = 1` in units of
  :math:`t`, :math:`\tau = 1/\eta` in units of steps), solved by SymPy's ``dsolve`` and checked
  by substitution. The lemmas after the solution are what the claim's tolerance uses: the
  exact flow map of the ODE, its derivative in the initial value (decreasing in it), and the
  gradient step written on :math:`u`; the telescoping ("Lady Windermere's fan") bound turns
  them into an a-posteriori bound on the gradient-descent error (``s``, ``u0``, ``t``, ``lr``).
- :func:`derive_no_bad_minima`: the data are built so that the least-squares fit, in the
  whitened metric, has singular values :math:`\sigma_i = (3/4)^{i-1}` and the residual loss is
  :data:`RESIDUAL`; then the global minimum over networks of narrowest width :math:`r` is the
  best rank-:math:`r` approximation (Eckart-Young), and every local minimum attains it
  (Kawaguchi 2016; Laurent and von Brecht 2018) (``depth``, ``width``, ``n_in``, ``n_out``,
  ``samples``).
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from .deep_linear import BALDI, KAWAGUCHI
from .derivation import Derivation, cite, define, equal, relation, substitute
from .sources import Source

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


@cache
def derive_saxe_dynamics() -> Derivation:
    """tau du/dt = 2u(s - u), u(0) = u0, solved; plus the lemmas of the discretisation bound."""
    loss = (s - c1 * c2) ** 2 / 2
    flow_c1, flow_c2 = c2 * (s - c1 * c2), c1 * (s - c1 * c2)
    ode = sp.Eq(u(t).diff(t), 2 * u(t) * (s - u(t)))
    solved = sp.dsolve(ode, u(t), ics={u(0): u0}).rhs
    closed = saxe_solution()
    flow = saxe_solution(T, v)
    slope = s**2 * sp.exp(2 * s * T) / (s + v * (sp.exp(2 * s * T) - 1)) ** 2
    steps = [
        cite(sp.Function("L")(sp.Symbol("W_1"), sp.Symbol("W_2")), "=",
             sp.Sum((s_mode[alpha] - c1_mode[alpha] * c2_mode[alpha]) ** 2 / 2, (alpha, 1, modes)) + sp.Symbol("const"),
             "whitened inputs (Sigma_11 = I) and factors aligned with the singular vectors of Sigma_31 = sum s_alpha a_alpha "
             "b_alpha^T: W_1 = sum c_1alpha r_alpha b_alpha^T, W_2 = sum c_2alpha a_alpha r_alpha^T; the loss separates into modes",
             SAXE),
        define(sp.Symbol("L_mode"), loss, "one mode of strength s"),
        equal(-sp.Derivative(loss, c1), flow_c1, "gradient flow dc_1/dt = -dL/dc_1 (t = steps * lr)"),
        equal(-sp.Derivative(loss, c2), flow_c2, "gradient flow dc_2/dt = -dL/dc_2"),
        equal(2 * c1 * flow_c1, 2 * c2 * flow_c2, "d(c_1^2)/dt = d(c_2^2)/dt: c_1^2 - c_2^2 is conserved, a balanced start stays balanced"),
        equal(c2 * flow_c1 + c1 * flow_c2, (c1**2 + c2**2) * (s - c1 * c2), "du/dt for u = c_1 c_2"),
        substitute((c1**2 + c2**2) * (s - c1 * c2), {c1: c, c2: c}, "balanced: c_1 = c_2 = c"),
        substitute(2 * c**2 * (s - c**2), {c: sp.sqrt(sp.Symbol("u", positive=True))},
                   "so tau du/dt = 2 u (s - u) with tau = 1 in units of t = steps * lr"),
        define(u(t), solved, "the solution SymPy's dsolve returns for du/dt = 2u(s - u), u(0) = u0"),
        equal(solved, closed, "rewritten as the sigmoid"),
        equal(sp.Derivative(closed, t), 2 * closed * (s - closed), "check: the closed form satisfies the ODE"),
        equal(sp.Subs(closed, t, 0), u0, "check: and the initial condition"),
        cite(u(t), "=", closed, "Picard-Lindelof: 2u(s - u) is locally Lipschitz, so the solution is unique",
             HAIRER),
        # -- the discretisation bound's lemmas
        define(phi(T, v), flow, "the exact flow of the ODE over time T from u = v"),
        equal(sp.Derivative(flow, v), slope, "its sensitivity to the starting value"),
        relation(sp.exp(x) - 1, ">=", 0, "so with g = e^(2sT) - 1 >= 0 (x = 2sT >= 0)", over=(x, sp.Interval(0, sp.oo))),
        relation(sp.Derivative(s**2 * (1 + g) / (s + v * g) ** 2, v), "<=", 0,
                 "the sensitivity decreases in v: over an interval its largest value is at the left end"),
        equal((c + h * c * (s - c**2)) ** 2, c**2 * (1 + h * (s - c**2)) ** 2,
              "one gradient step of length h on a balanced mode: u_(k+1) = u_k (1 + h (s - u_k))^2"),
        cite(sp.Abs(u_seq[n_steps] - u(t_seq[n_steps])), "<=",
             sp.Sum(sp.Abs(u_seq[k + 1] - phi(h_seq[k], u_seq[k])) * sp.Symbol(r"\max \phi'_{t_n - t_{k+1}}"),
                    (k, 0, n_steps - 1)),
             "telescoping over the steps (Lady Windermere's fan) and the mean value theorem on the exact flow", HAIRER),
    ]
    return Derivation(
        "Saxe's mode dynamics of a two-layer linear network",
        steps,
        (u(t), "=", closed),
        assumptions=(
            "squared loss L = ||Y - W_2 W_1 X||^2 / (2N), whitened inputs X X^T / N = I, Sigma_31 = Y X^T / N",
            "balanced start along the modes: W_1 = sqrt(u0) r b^T, W_2 = sqrt(u0) a r^T for each mode (a, b, s)",
            "gradient descent W <- W - lr grad L, time t = steps * lr (tau = 1/lr in units of steps)",
        ),
    )


def minimum_loss() -> sp.Expr:
    """The global minimum: RESIDUAL + (1/2) sum_{i > r} (9/16)^(i-1), r the narrowest width, m = min(n_in, n_out)."""
    rank = sp.Min(width, n_in, n_out)
    full = sp.Min(n_in, n_out)
    return RESIDUAL + sp.Rational(8, 7) * (sp.Rational(9, 16) ** rank - sp.Rational(9, 16) ** full)


@cache
def derive_no_bad_minima() -> Derivation:
    """Every local minimum attains RESIDUAL + (1/2) sum_{i=r+1}^{m} sigma_i^2 (Eckart-Young)."""
    a, w, xs, z = sp.symbols("a w x z", real=True)
    local = sp.Symbol("L_loc")
    best = sp.Symbol("L^*")
    x_mat = sp.MatrixSymbol("X", n_in, samples)
    cov = sp.MatrixSymbol("C", n_in, n_in)
    w_ls = sp.MatrixSymbol("W_ls", n_out, n_in)
    tail = RESIDUAL + sp.Sum(sigma[i] ** 2, (i, r + 1, m)) / 2
    spectrum = substitute(tail, {sigma[i]: SPECTRUM_RATIO ** (i - 1)}, "the data are built with sigma_i = (3/4)^(i-1), i = 1..m")
    tail_closed = RESIDUAL + sp.Rational(8, 7) * (sp.Rational(9, 16) ** r - sp.Rational(9, 16) ** m)
    steps = [
        define(cov, x_mat * x_mat.T / samples, "the input covariance, invertible when samples > n_in"),
        define(sp.MatrixSymbol("M", n_out, n_in), w_ls * sp.MatPow(cov, sp.Rational(1, 2)),
               "the least-squares fit W_ls = Y X^T (X X^T)^(-1) in the whitened metric"),
        equal(((a - w) * xs + z) ** 2 / 2, (a - w) ** 2 * xs**2 / 2 + (a - w) * xs * z + z**2 / 2,
              "one sample's loss with y = a x + z; the cross terms sum to zero over the samples (Z X^T = 0), so "
              "L(W) = RESIDUAL + ||(W - W_ls) C^(1/2)||^2 / 2"),
        define(r, sp.Min(width, n_in, n_out), "rank(W_L ... W_1) <= the narrowest width, and any such rank is reachable"),
        cite(local, "=", best, "every local minimum of a deep linear network under squared loss is global, any depth and widths",
             KAWAGUCHI),
        cite(best, "=", tail, "the best rank-r approximation of M: min ||V - M||_F^2 = sum_(i > r) sigma_i^2 (V = W C^(1/2))",
             ECKART),
        spectrum,
        equal(spectrum.rhs, tail_closed, "a geometric sum"),
        substitute(tail_closed, {r: sp.Min(width, n_in, n_out), m: sp.Min(n_in, n_out)}, "m = min(n_in, n_out) modes"),
        cite(sp.Symbol("L_S"), "=", RESIDUAL + sp.Symbol(r"\sum_{i \notin S} \sigma_i^{2}") / 2,
             "critical points keep a subset S of |S| <= r modes (Baldi and Hornik for one hidden layer); the nearest value above "
             "the minimum is L* + (sigma_r^2 - sigma_(r+1)^2)/2, which separates runs at the minimum from runs stuck elsewhere",
             BALDI),
    ]
    return Derivation(
        "No bad local minima: the loss every local minimum attains",
        steps,
        (local, "=", minimum_loss()),
        assumptions=(
            "squared loss L = ||Y - W_L ... W_1 X||^2 / (2N), X of shape n_in x N with N > n_in, any depth >= 2 and widths",
            "Y = W_ls X + Z with Z X^T = 0, ||Z||^2/(2N) = 1/16, and M = W_ls C^(1/2) with singular values (3/4)^(i-1)",
        ),
    )
