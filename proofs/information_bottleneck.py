r"""The information bottleneck for Gaussian variables: its critical :math:`\beta` and information curve.

Setting (Chechik, Globerson, Tishby and Weiss 2005): X and Y jointly Gaussian, the IB Lagrangian
:math:`\mathcal{L} = I(T;X) - \beta I(T;Y)` minimised over encoders :math:`p(t \mid x)`. In canonical coordinates
(:math:`X = BU`, :math:`Y = CV`, the pairs :math:`(U_i, V_i)` standard, independent across i, with correlations
:math:`\rho_i`) the eigenvalues of :math:`\Sigma_{x|y}\Sigma_x^{-1}` are :math:`\lambda_i = 1 - \rho_i^2` and its left
eigenvectors are the rows of :math:`B^{-1}`. One component :math:`T = aU + \xi` is derived here, every step
checked: :math:`I(T;U) = \tfrac12\ln(1 + u)`, :math:`I(T;V) = \tfrac12\ln\frac{1 + u}{1 + \lambda u}` with the
signal-to-noise ratio :math:`u = a^2/s`; the Lagrangian's derivative is
:math:`\lambda(u - u^*)/(2(1 + u)(1 + \lambda u))`, so its minimiser over :math:`u \ge 0` is
:math:`\max(0, u^*)`, :math:`u^* = (\beta(1 - \lambda) - 1)/\lambda`, positive exactly for
:math:`\beta > 1/(1 - \lambda) = 1/\rho^2`. That the optimal encoder of the vector problem is such a component
along each left eigenvector (the projection of Theorem 3.1) is cited. With :math:`k` components on, eliminating
:math:`\beta` gives each segment of the information curve,
:math:`I(T;Y) = I(T;X) - \tfrac{k}{2}\ln\bigl(\prod_{i \le k}(1 - \lambda_i)^{1/k} + e^{2I(T;X)/k}\prod_{i \le k}\lambda_i^{1/k}\bigr)`
(checked), in nats; for one component, :math:`-\tfrac12\ln(1 - \rho^2(1 - e^{-2I(T;X)}))`.

The claim's vector case is a model: ``dimension`` canonical pairs with :math:`\rho_i = \rho^i`, so that
:math:`\beta_i = \rho^{-2i}`. The closed form is :math:`\beta_k` (``quantity`` critical, ``k = component``) or
:math:`I(T;Y)` at :math:`I(T;X) = ` ``info_x`` (curve), the segment chosen by the thresholds
:math:`c_k = I(T;X)` at :math:`\beta_{k+1}`.

Symbols use the claim's parameter names: ``rho``, ``info_x``, ``dimension``, ``component``, ``quantity`` (a code,
:data:`QUANTITIES`).
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from .checks import StepNotChecked
from .derivation import Derivation, cite, define, equal, hypothesis, solutions
from .printing import function, indexed, symbol
from .rules import equal_at
from .sources import Source
from .steps import Step, checked_step, rewriting

__all__ = ["QUANTITIES", "BINNING_QUANTITIES", "MAX_DIMENSION", "SOURCES", "BINNING_SOURCES", "CHECHIK", "SAXE",
           "derive_gaussian", "derive_binning", "model_curve", "segment_threshold",
           "segment_curve", "Infimum"]

rho = sp.Symbol("rho", real=True, positive=True)
info_x = sp.Symbol("info_x", real=True, positive=True)
dimension = sp.Symbol("dimension", integer=True, positive=True)
component = sp.Symbol("component", integer=True, positive=True)
quantity = sp.Symbol("quantity", integer=True, positive=True)

QUANTITIES = {"critical": 1, "curve": 2}  # codes of the choice parameter ``quantity``
MAX_DIMENSION = 3

CHECHIK = Source("chechik2005", "Gal Chechik and Amir Globerson and Naftali Tishby and Yair Weiss",
                 "Information bottleneck for Gaussian variables", "Journal of Machine Learning Research", 2005,
                 url="https://jmlr.org/papers/v6/chechik05a.html", volume="6", pages="165-188")
SOURCES = (CHECHIK,)

# --- one component: T = a U + xi, U standard normal, xi ~ N(0, s), Corr(U, V) = r ----------------------------

r = symbol("r_ib", "r", positive=True)
a, s, v = (sp.Symbol(n, positive=True) for n in ("a", "s", "v"))
beta = symbol("beta_ib", r"\beta", positive=True)
lam = symbol("lambda_ib", r"\lambda", positive=True)
u = symbol("u_ib", "u", nonnegative=True)
x = sp.Symbol("x", real=True)
VarT = symbol("Var T_ib", r"\operatorname{Var} T", positive=True)
VarTU = symbol("Var T|U_ib", r"\operatorname{Var}(T \mid U)", positive=True)
VarTV = symbol("Var T|V_ib", r"\operatorname{Var}(T \mid V)", positive=True)
IX = symbol("I(T;U)_ib", r"I(T;U)", real=True)
IY = symbol("I(T;V)_ib", r"I(T;V)", real=True)
Lag = symbol("L_ib", r"\mathcal{L}", real=True)
ustar = symbol("u*_ib", "u^*", real=True)
beta_c = symbol("beta_c_ib", r"\beta_c", positive=True)
h = function("h_ib", "h")  # h(v): the differential entropy of N(0, v), nats


class Infimum(sp.Function):
    """The infimum of a set, printed; ``doit`` evaluates it once the set is explicit."""

    nargs = 1

    def doit(self, **hints):
        arg = self.args[0].doit(**hints) if hints.get("deep", True) else self.args[0]
        return arg.inf if isinstance(arg, sp.Interval) else Infimum(arg)

    def _latex(self, printer, exp=None) -> str:
        body = self.args[0]
        if isinstance(body, sp.ConditionSet):
            text = rf"\inf\{{{printer._print(body.sym)} > 0 : {printer._print(body.condition)}\}}"
        else:
            text = rf"\inf {printer._print(body)}"
        return text if exp is None else rf"\left({text}\right)^{{{exp}}}"

    def _sympystr(self, printer) -> str:
        return f"inf {printer._print(self.args[0])}"


def _component() -> tuple[list[Step], Step, Step, Step]:
    """The one-component steps; returns (steps, the derivative's factorisation, the on-set, beta_c = 1/r^2)."""
    density = sp.exp(-x**2 / (2 * v)) / sp.sqrt(2 * sp.pi * v)
    entropy_def = define(h(v), sp.Integral(-density * sp.log(density), (x, -sp.oo, sp.oo)),
                         r"the differential entropy of $N(0, v)$, in nats")
    entropy = equal(h(v), sp.log(2 * sp.pi * sp.E * v) / 2, "SymPy integrates it", uses=[entropy_def])
    var_t = hypothesis(VarT, "=", a**2 + s, r"one component of the encoder, $T = aU + \xi$: $U$ a standard "
                       r"canonical variate of $X$, $\xi \sim N(0, s)$ independent of $(U, V)$")
    var_tu = hypothesis(VarTU, "=", s, r"given $U$ only the noise is left")
    var_tv = hypothesis(VarTV, "=", a**2 * lam + s, r"$V$ the paired canonical variate of $Y$: "
                        r"$\operatorname{Var}(U \mid V) = 1 - r^2 = \lambda$, the eigenvalue of "
                        r"$\Sigma_{x|y}\Sigma_x^{-1}$ on this component")
    snr = define(u, a**2 / s, "the signal-to-noise ratio of the component")
    ix_def = define(IX, h(VarT) - h(VarTU), r"$I(T;U) = h(T) - h(T \mid U)$, both Gaussian")
    iy_def = define(IY, h(VarT) - h(VarTV), r"$I(T;V) = h(T) - h(T \mid V)$")
    ix = equal_at(IX, sp.log(1 + u) / 2, uses=[ix_def, entropy, var_t, var_tu, snr], at={v: (VarT, VarTU)})
    iy = equal_at(IY, sp.log((1 + u) / (1 + lam * u)) / 2, uses=[iy_def, entropy, var_t, var_tv, snr],
                  at={v: (VarT, VarTV)})
    lagrangian = define(Lag, IX - beta * IY, r"the IB Lagrangian of the component, $\beta > 0$")
    stationary = define(ustar, (beta * (1 - lam) - 1) / lam, "where its derivative vanishes")
    slope = equal(sp.Derivative(Lag, u), lam * (u - ustar) / (2 * (1 + u) * (1 + lam * u)),
                  r"its sign is that of $u - u^*$: the minimiser over $u \ge 0$ is $\max(0, u^*)$",
                  uses=[lagrangian, ix, iy, stationary])
    eigen = define(lam, 1 - r**2, r"the eigenvalue of the component, $0 < r < 1$")
    on = solutions(beta * (1 - lam) - 1 > 0, beta, sp.S.Reals, sp.Interval.open(1 / r**2, sp.oo),
                   r"the $\beta$ at which the component is on, $u^* > 0$ (the sign of $u^*$ is that of its "
                   r"numerator, $\lambda > 0$)", uses=[eigen])
    critical_def = define(beta_c, Infimum(on.lhs), r"the critical $\beta$: the component switches on above it")
    critical = equal(beta_c, 1 / r**2, uses=[critical_def, on])
    steps = [entropy_def, entropy, var_t, var_tu, var_tv, snr, ix_def, iy_def, ix, iy, lagrangian, stationary,
             slope, eigen, on, critical_def, critical]
    return steps, slope, on, critical


# --- the vector problem: component i of the optimal encoder, and the curve's segments --------------------------

i = sp.Symbol("i", integer=True, positive=True)
k_ = sp.Symbol("k", integer=True, positive=True)
w = symbol("w_ib", "w", positive=True)
snr = function("u_ib", "u", nonnegative=True)  # u(i): component i's signal-to-noise ratio
lam_i = function("lambda_ib", r"\lambda", positive=True)  # lambda(i) = 1 - rho_i^2
p_i = function("p_ib", "p", positive=True)  # p(i) = 1 - lambda(i) = rho_i^2
corr = function("rho_ib", r"\rho", positive=True)  # rho(i): the canonical correlations
IXk = [symbol(f"I_X^{k}_ib", rf"I_X^{{({k})}}", positive=True) for k in range(1, MAX_DIMENSION + 1)]
IYk = [symbol(f"I_Y^{k}_ib", rf"I_Y^{{({k})}}", positive=True) for k in range(1, MAX_DIMENSION + 1)]
ck = [symbol(f"c_{k}_ib", rf"c_{{{k}}}", positive=True) for k in range(1, MAX_DIMENSION)]
beta_k = symbol("beta_k_ib", r"\beta_k", positive=True)
IYx = symbol("I_Y(I_X)_ib", r"I(T;Y)\big|_{I(T;X) = I_X}", positive=True)
Q = symbol("Q_ib", r"\begin{cases} \beta_k & \text{(critical)} \\ I(T;Y)\big|_{I(T;X) = I_X} & \text{(curve)} "
           r"\end{cases}", real=True)


def segment_curve(k: int, ix: sp.Basic, p: list, l: list) -> sp.Basic:
    r""":math:`I_X - \tfrac{k}{2}\ln(\prod_{i \le k} p_i^{1/k} + e^{2 I_X/k}\prod_{i \le k}\lambda_i^{1/k})`: Chechik et
    al.'s information curve on its segment with k components on (:math:`p_i = 1 - \lambda_i`)."""
    kk = sp.Integer(k)
    return ix - kk / 2 * sp.log(sp.Mul(*[q ** (1 / kk) for q in p]) + sp.exp(2 * ix / kk) * sp.Mul(*[q ** (1 / kk) for q in l]))


def _model(k: int) -> tuple[list, list]:
    """p_i = rho^(2i) and lambda_i = 1 - rho^(2i) for i = 1..k (the model rho_i = rho^i)."""
    return [rho ** (2 * n) for n in range(1, k + 1)], [1 - rho ** (2 * n) for n in range(1, k + 1)]


def segment_threshold(k: int) -> sp.Basic:
    r""":math:`c_k`: :math:`I(T;X)` with components 1..k on at :math:`\beta_{k+1} = \rho^{-2(k+1)}`, where component
    k + 1 switches on (the end of segment k), in the model :math:`\rho_i = \rho^i`."""
    p, l = _model(k)
    return sum(sp.log((rho ** (-2 * (k + 1)) - 1) * pn / ln) for pn, ln in zip(p, l, strict=True)) / 2


def model_curve() -> sp.Basic:
    """The information curve at info_x in the model rho_i = rho^i, its segment chosen by the thresholds."""
    pieces = []
    for k in range(1, MAX_DIMENSION + 1):
        expr = segment_curve(k, info_x, *_model(k))
        last = k == MAX_DIMENSION
        pieces.append((expr, sp.true if last else sp.Or(sp.Le(dimension, k), sp.Le(info_x, segment_threshold(k)))))
    return sp.Piecewise(*pieces)


def _identical(lhs, rhs, reason: str, *, uses) -> Step:
    """A checked equality whose two sides the premises rewrite into the same expression (nothing to simplify,
    so a missing premise is refused at once, not after seconds of simplification)."""

    def confirm(rewrite) -> str:
        if rewrite(lhs) != rewrite(rhs):
            raise StepNotChecked(f"the premises do not turn {lhs} into {rhs}")
        return "identical after rewriting"

    return checked_step(lhs, "=", rhs, reason, rewriting(confirm), uses)


def _vector(slope: Step, critical: Step) -> tuple[list[Step], Step, Step]:
    """Theorem 3.1's components, the model, and the curve's segments; returns (steps, beta_k, the curve at info_x)."""
    on_snr = cite(snr(i), "=", (beta * (1 - lam_i(i)) - 1) / lam_i(i), "Theorem 3.1", CHECHIK,
                  r"the optimal encoder of the vector problem is $T = AX + \xi$, $A = \operatorname{diag}(\alpha_i) V$ "
                  r"with $V$ the left eigenvectors of $\Sigma_{x|y}\Sigma_x^{-1}$: one independent component per "
                  r"canonical pair, off for $\beta \le 1/(1 - \lambda_i)$ and on above, with signal-to-noise ratio "
                  r"$u_i = \alpha_i^2 v_i^\top \Sigma_x v_i = u^*$ at $\lambda = \lambda_i$, as (13) and (17) give "
                  r"for one component", uses=[slope, critical])
    switch = cite(beta_k, "=", 1 / corr(component) ** 2, "Theorem 3.1", CHECHIK,
                  r"component $k$ switches on at $\beta_k = 1/(1 - \lambda_k) = 1/\rho_k^2$: (17) with $r = \rho_k$",
                  uses=[critical])
    model = hypothesis(corr(i), "=", rho**i, r"the model: canonical correlations $\rho_i = \rho^i$, "
                       r"$i = 1, \dots, d$ ($d \le 3$), decreasing, so that the components switch on in order")
    crit = equal_at(beta_k, rho ** (-2 * component), r"the critical $\beta$ of component $k$", uses=[switch, model],
                    at={i: component})
    shift = define(w, beta - 1, r"on the curve $\beta > 1$, so $w > 0$")
    square = define(p_i(i), 1 - lam_i(i), r"$p_i = 1 - \lambda_i = \rho_i^2 > 0$")
    plus = equal(1 + snr(i), w * p_i(i) / lam_i(i), "component $i$ on", uses=[on_snr, shift, square])
    plus_y = equal(1 + lam_i(i) * snr(i), (w + 1) * p_i(i), uses=[on_snr, shift, square])
    eigen = hypothesis(lam_i(i), "=", 1 - corr(i) ** 2, r"$\lambda_i = 1 - \rho_i^2$")
    steps = [on_snr, switch, model, crit, shift, square, plus, plus_y, eigen]
    curves, ends = [], []
    for k in range(1, MAX_DIMENSION + 1):
        terms = tuple(range(1, k + 1))
        ix_def = define(IXk[k - 1], sum(sp.log(1 + snr(n)) / 2 for n in terms),
                        rf"$I(T;X)$ with components $1, \dots, {k}$ on and the others off: the sum of (9) over them")
        iy_def = define(IYk[k - 1], sum(sp.log((1 + snr(n)) / (1 + lam_i(n) * snr(n))) / 2 for n in terms),
                        r"$I(T;Y)$ likewise, the sum of (10)")
        seg = equal_at(IYk[k - 1], segment_curve(k, IXk[k - 1], [p_i(n) for n in terms], [lam_i(n) for n in terms]),
                       rf"eliminating $\beta$: segment ${k}$ of the information curve", uses=[iy_def, ix_def, plus, plus_y],
                       at={i: terms})
        point = hypothesis(IXk[k - 1], "=", info_x, rf"the point of segment ${k}$ at $I(T;X) = I_X$")
        at_model = equal_at(IYk[k - 1], segment_curve(k, info_x, *_model(k)), "in the model",
                            uses=[seg, point, square, eigen, model], at={i: terms})
        steps += [ix_def, iy_def, seg, point, at_model]
        curves.append(at_model)
        if k < MAX_DIMENSION:
            end_def = define(ck[k - 1], sp.Subs(IXk[k - 1], w, rho ** (-2 * (k + 1)) - 1),
                             rf"where segment ${k}$ ends: $I_X^{{({k})}}$ at $\beta_{{{k + 1}}}$, where component "
                             rf"${k + 1}$ switches on")
            end = equal_at(ck[k - 1], segment_threshold(k), uses=[end_def, ix_def, plus, square, eigen, model],
                           at={i: terms})
            steps += [end_def, end]
            ends.append(end)
    pieces = [(IYk[k - 1], sp.Or(sp.Le(dimension, k), sp.Le(info_x, ck[k - 1]))) for k in range(1, MAX_DIMENSION)]
    at_x = define(IYx, sp.Piecewise(*pieces, (IYk[-1], sp.true)),
                  r"the segment on which $I_X$ lies: with $d$ components, segment $d$ goes on for ever")
    curve = _identical(IYx, model_curve(), r"each segment and each end as derived", uses=[at_x, *curves, *ends])
    return [*steps, at_x, curve], crit, curve


@cache
def derive_gaussian() -> Derivation:
    r"""The critical :math:`\beta` of component k, :math:`\rho^{-2k}`, and the information curve at
    :math:`I(T;X) = ` ``info_x``, in the model :math:`\rho_i = \rho^i` with ``dimension`` components."""
    comp, slope, _, critical = _component()
    vec, crit, curve = _vector(slope, critical)
    codes = {name: sp.Eq(quantity, code) for name, code in QUANTITIES.items()}
    chosen = define(Q, sp.Piecewise((beta_k, codes["critical"]), (IYx, codes["curve"])),
                    r"the quantity the verifier measures: the critical $\beta$ of component $k$, or the curve at $I_X$")
    closed = sp.Piecewise((rho ** (-2 * component), codes["critical"]), (model_curve(), codes["curve"]))
    return Derivation(
        r"The Gaussian information bottleneck: component $k$ switches on at $\beta_k = 1/(1 - \lambda_k)$, and the "
        r"information curve",
        [*comp, *vec, chosen],
        (Q, "=", closed),
        uses=[chosen, crit, curve],
        abbreviations=[(ck[k - 1], segment_threshold(k)) for k in range(1, MAX_DIMENSION)],
        remarks=[equal(segment_curve(1, info_x, [rho**2], [1 - rho**2]),
                       -sp.log(1 - rho**2 * (1 - sp.exp(-2 * info_x))) / 2,
                       "the scalar curve as it is usually written")],
        assumptions=(r"$X, Y$ jointly Gaussian, in canonical coordinates $X = BU$, $Y = CV$ with independent standard "
                     r"pairs $(U_i, V_i)$ of correlations $\rho_i$; $\lambda_i = 1 - \rho_i^2$ the eigenvalues of "
                     r"$\Sigma_{x|y}\Sigma_x^{-1}$",
                     r"the information bottleneck $\min_{p(t|x)} I(T;X) - \beta I(T;Y)$, in nats"),
    )


# --- ib.binning: the binned "mutual information" of a deterministic layer on a finite dataset -------------------

SAXE = Source("saxe2018", "Andrew M. Saxe and Yamini Bansal and Joel Dapello and Madhu Advani and Artemy Kolchinsky "
              "and Brendan D. Tracey and David D. Cox", "On the information bottleneck theory of deep learning",
              "International Conference on Learning Representations (ICLR)", 2018,
              url="https://openreview.net/forum?id=ry_WPG-A-", kind="inproceedings")
SHWARTZ_ZIV = Source("shwartzziv2017", "Ravid Shwartz-Ziv and Naftali Tishby",
                     "Opening the black box of deep neural networks via information", "arXiv preprint", 2017,
                     arxiv="1703.00810", kind="misc")
BINNING_SOURCES = (SAXE, SHWARTZ_ZIV)
BINNING_QUANTITIES = {"limit": 1, "identity": 2}  # codes of ib.binning's choice parameter ``quantity``

samples = sp.Symbol("samples", integer=True, positive=True)
t_, k_in = sp.Symbol("t", integer=True, positive=True), sp.Symbol("k", integer=True, positive=True)
Delta = symbol("Delta_ib", r"\Delta", positive=True)
Delta_f = symbol("Delta_f_ib", r"\Delta_f", positive=True)
count = indexed("n_ib", "n", integer=True, positive=True)  # n[t, Delta]: the inputs in cell t at bin width Delta
cells = function("M_ib", "M", integer=True, positive=True)  # M(Delta): the occupied cells
n_x = symbol("n_x_ib", "n_x", positive=True)
n_xt = symbol("n_xt_ib", "n_{xt}", positive=True)
I_bin = function("I_bin_ib", r"\hat{I}", real=True)  # the plug-in I(X; T_Delta)
H_bin = function("H_bin_ib", r"\hat{H}", real=True)  # the plug-in H(T_Delta)
ratio = function("R_ib", r"R", real=True)
Q_bin = symbol("Q_bin_ib", r"\begin{cases} \hat{I}(\Delta_f) & \text{(limit)} \\ \hat{I}(\Delta)/\hat{H}(\Delta) "
               r"& \text{(identity)} \end{cases}", real=True)


@cache
def derive_binning() -> Derivation:
    r"""The binned estimate of :math:`I(X;T)` for a deterministic layer T = f(X) on N distinct inputs: from the joint
    histogram, :math:`I(X;T_\Delta) = H(T_\Delta)` at every bin width (checked), and :math:`= \log_2 N` at every
    bin width that gives each of the N outputs its own cell (checked), which every :math:`\Delta` below the outputs'
    smallest :math:`\infty`-norm distance does when f is injective on the dataset. The closed form: :math:`\log_2 N`
    (``quantity`` limit) or the ratio :math:`I/H = 1` (identity)."""
    n_t = count[t_, Delta]
    distinct = hypothesis(n_x, "=", 1, r"$X$ uniform on $N$ distinct inputs: each input value is counted once")
    determined = hypothesis(n_xt, "=", 1, r"the layer is deterministic and the bins fixed: an input's one "
                            r"occurrence falls in the one cell of its output $f(x)$, a joint count $1$ there and $0$ "
                            r"elsewhere")
    plug_in = define(I_bin(Delta), sp.Sum(sp.Sum(n_xt / samples * sp.log(samples * n_xt / (n_x * n_t), 2),
                                                 (k_in, 1, n_t)), (t_, 1, cells(Delta))),
                     r"$\hat{I}(\Delta)$, the plug-in mutual information of the joint histogram of $(X, T_\Delta)$, in bits: its "
                     r"occupied joint cells listed cell by cell, the $n_t$ inputs of output cell $t$ in turn, with "
                     r"$n_x$, $n_t$, $n_{xt}$ the counts of the input, the cell and the pair")
    entropy = define(H_bin(Delta), -sp.Sum(n_t / samples * sp.log(n_t / samples, 2), (t_, 1, cells(Delta))),
                     r"$\hat{H}(\Delta)$, the plug-in entropy of the binned layer, in bits: a function of the binned outputs alone")
    identity = equal(I_bin(Delta), H_bin(Delta), r"at every bin width: binning measures the entropy of the "
                     "binned outputs", uses=[plug_in, entropy, distinct, determined])
    ratio_def = define(ratio(Delta), I_bin(Delta) / H_bin(Delta), r"at a bin width with two or more occupied cells")
    one = equal(ratio(Delta), 1, uses=[ratio_def, identity])
    own = hypothesis(count[t_, Delta_f], "=", 1, r"a bin width $\Delta_f$ at which no cell holds two of the $N$ "
                     r"outputs (every $\Delta_f$ below their smallest $\infty$-norm distance, positive when $f$ is "
                     r"injective on the dataset)")
    occupied = hypothesis(cells(Delta_f), "=", samples, r"so $N$ cells are occupied")
    limit = equal_at(I_bin(Delta_f), sp.log(samples, 2), r"every bin width below the outputs' separation gives "
                     r"$\log_2 N$, whatever the layer: the limit as $\Delta \to 0$", uses=[identity, entropy, own, occupied],
                     at={Delta: Delta_f})
    codes = {name: sp.Eq(quantity, code) for name, code in BINNING_QUANTITIES.items()}
    chosen = define(Q_bin, sp.Piecewise((I_bin(Delta_f), codes["limit"]), (ratio(Delta), codes["identity"])),
                    r"the quantity the verifier measures: the value at fine bins, or the ratio at every bin width")
    return Derivation(
        r"Binning a deterministic layer measures $H(T_\Delta)$, which is $\log_2 N$ at fine bins",
        [distinct, determined, plug_in, entropy, identity, ratio_def, one, own, occupied, limit, chosen],
        (Q_bin, "=", sp.Piecewise((sp.log(samples, 2), codes["limit"]), (1, codes["identity"]))),
        uses=[chosen, limit, one],
        assumptions=(r"a dataset of $N$ distinct inputs, $X$ uniform on it; a deterministic layer $T = f(X)$; for the "
                     r"limit (not for the identity), $f$ injective on the dataset",
                     r"$T_\Delta$: each output coordinate binned into intervals of width $\Delta$ on a fixed grid"),
    )
