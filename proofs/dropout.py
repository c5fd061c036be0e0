r"""Dropout: its ridge penalty in linear regression, and weight scaling as the normalised weighted
geometric mean of the sub-networks.

- ``dropout.ridge``: with inverted dropout at keep probability :math:`q` (mask entries iid
  Bernoulli(q), kept inputs scaled by :math:`1/q`),
  :math:`\mathbb{E}_m \|y - (m \odot X) w/q\|^2 = \|y - Xw\|^2 + \frac{1-q}{q} \sum_j \|x_j\|^2 w_j^2`,
  row by row from the Bernoulli moments (indexed sums, checked); the coefficient the experiment
  measures, :math:`\Lambda`, is :math:`(1-q)/q`. Remarks: the identity with every mask enumerated,
  and the dropout gradient's mean, the ridge gradient whose zero is
  :math:`(X^\top X + \frac{1-q}{q} \operatorname{diag} X^\top X) w = X^\top y`.
- ``dropout.weight-scaling``: for a softmax layer :math:`z(m) = W (m \odot h) + b`, the normalised weighted
  geometric mean (NWGM) of the :math:`2^n` sub-networks is :math:`\operatorname{softmax}(qWh + b)`: its log-ratio
  is the mask average of the logits' difference (checked); for a ReLU unit,
  :math:`0 \le \mathbb{E}\,\mathrm{relu}(z) - \mathrm{relu}(\mathbb{E} z) \le \mathbb{E}|z - \mathbb{E} z|/2 \le
  \sqrt{\operatorname{Var} z}/2`, the middle bound attained at :math:`\mathbb{E} z = 0` (the gap is
  :math:`(\mathbb{E}|z| - |\mathbb{E} z|)/2`, checked; the lift of the triangle inequality to expectations, the
  sign and Cauchy-Schwarz cited). The conclusion prints as that content; the number the verifier compares is
  its sharp constant, :math:`q` (softmax) or :math:`1` (relu: the least :math:`\rho` with gap
  :math:`\le \rho\,\mathbb{E}|z - \mathbb{E} z|/2` for every unit).

Symbols use the claims' parameter names: ``q``, ``samples`` (N), ``features`` (d), ``units`` (n),
``outputs`` (K), ``quantity`` (a code, see :data:`QUANTITIES`).
"""

from __future__ import annotations

from functools import cache
from itertools import product

import sympy as sp

from .checks import StepNotChecked, confirm_relation
from .derivation import Derivation, cite, define, equal, equal_by_cases, equal_entrywise, hypothesis
from .operators import Expectation, Gradient
from .printing import Notation, indexed, symbol
from .rules import equal_at, same_sum
from .sources import CASELLA, Source
from .steps import Step, checked_step, rewriting

__all__ = ["QUANTITIES", "SOURCES", "derive_ridge", "derive_weight_scaling", "abs_at_most"]

q = sp.Symbol("q", real=True, positive=True)
samples = sp.Symbol("samples", integer=True, positive=True)
features = sp.Symbol("features", integer=True, positive=True)
units = sp.Symbol("units", integer=True, positive=True)
outputs = sp.Symbol("outputs", integer=True, positive=True)
quantity = sp.Symbol("quantity", integer=True, positive=True)

# Codes of dropout.weight-scaling's choice parameter ``quantity``.
QUANTITIES = {"softmax": 1, "relu": 2}

i, j, k, c = (sp.Symbol(s, integer=True, positive=True) for s in "ijkc")
l = sp.Symbol("l", integer=True, positive=True)
jp = sp.Symbol("j'", integer=True, positive=True)
beta = sp.Symbol("beta", integer=True, nonnegative=True)

SRIVASTAVA = Source("srivastava2014",
    "Nitish Srivastava and Geoffrey Hinton and Alex Krizhevsky and Ilya Sutskever and Ruslan Salakhutdinov",
    "Dropout: a simple way to prevent neural networks from overfitting", "Journal of Machine Learning Research", 2014,
    url="https://jmlr.org/papers/v15/srivastava14a.html", volume="15", pages="1929-1958")
WAGER = Source("wager2013", "Stefan Wager and Sida Wang and Percy Liang", "Dropout training as adaptive regularization",
    "Advances in Neural Information Processing Systems 26 (NeurIPS)", 2013, arxiv="1307.1493", pages="351-359",
    kind="inproceedings")
BALDI = Source("baldi2013", "Pierre Baldi and Peter J. Sadowski", "Understanding dropout",
    "Advances in Neural Information Processing Systems 26 (NeurIPS)", 2013,
    url="https://papers.nips.cc/paper/4878-understanding-dropout", pages="2814-2822", kind="inproceedings")
HINTON = Source("hinton2012",
    "Geoffrey E. Hinton and Nitish Srivastava and Alex Krizhevsky and Ilya Sutskever and Ruslan R. Salakhutdinov",
    "Improving neural networks by preventing co-adaptation of feature detectors", "arXiv preprint", 2012,
    arxiv="1207.0580", kind="misc")
SOURCES = (SRIVASTAVA, WAGER, BALDI, HINTON, CASELLA)


def _bernoulli(g: sp.Basic) -> sp.Sum:
    r""":math:`\sum_{\beta \in \{0, 1\}} g(\beta)\, q^\beta (1 - q)^{1 - \beta}`: the mean of g(m), m ~ Bernoulli(q)."""
    return sp.Sum(g * q**beta * (1 - q) ** (1 - beta), (beta, 0, 1))


def _regroup(lhs, rhs, reason: str = "", *, uses=()) -> Step:
    """A checked equality of finite sums: the premises rewrite the left side, every sum of several terms
    is split into one sum per term (a finite sum is linear), then the sums are matched term by term,
    indices renamed and reordered (:func:`proofs.rules.same_sum`)."""

    def split(e: sp.Basic) -> sp.Basic:
        return e.replace(lambda x: isinstance(x, sp.Sum) and isinstance(x.function, sp.Add),
                         lambda x: sp.Add(*[sp.Sum(a, *x.limits) for a in x.function.args]))

    confirm = rewriting(lambda r: "a finite sum term by term, " + same_sum(sp.expand(split(r(lhs))), rhs).how)
    return checked_step(lhs, "=", rhs, reason, confirm, uses)


def abs_at_most(arg, bound, reason: str, *, change: dict, signs: tuple[sp.Symbol, ...]) -> Step:
    r"""A checked :math:`|a| \le t`: after the change of variables ``change``, both :math:`t - a \ge 0`
    and :math:`t + a \ge 0` are confirmed in every case of the signs of ``signs`` (each nonnegative or
    negative: the cases cover the reals).

    >>> a, b = sp.symbols("a b", real=True)
    >>> abs_at_most(a + b, sp.Abs(a) + sp.Abs(b), "", change={}, signs=(a, b)).how
    'sign cases of $a$, $b$: 4 cases, assumptions'
    """
    arg, bound = sp.sympify(arg), sp.sympify(bound)

    def check(premises) -> str:
        if premises:
            raise StepNotChecked("a bound by sign cases uses no premises")
        methods = []
        for case in product(("nonnegative", "negative"), repeat=len(signs)):
            point = {s: sp.Symbol(s.name, real=True, **{kind: True}) for s, kind in zip(signs, case, strict=True)}
            a, t = (e.subs(change).xreplace(point) for e in (arg, bound))
            methods += [confirm_relation(t - a, ">=", 0), confirm_relation(t + a, ">=", 0)]
        names = ", ".join(f"${sp.latex(s)}$" for s in signs)
        return f"sign cases of {names}: {2 ** len(signs)} cases, " + ", ".join(dict.fromkeys(methods))

    return checked_step(sp.Abs(arg), "<=", bound, reason, check, ())


# --- dropout.ridge ------------------------------------------------------------------------------

x, w, y, m = (sp.IndexedBase(s) for s in "xwym")
r = sp.IndexedBase("r")
eps = indexed("epsilon_dropout", r"\epsilon")
Lam = symbol("Lambda_dropout", r"\Lambda", real=True)


@cache
def derive_ridge() -> Derivation:
    r""":math:`\mathbb{E}_m \|y - (m \odot X) w/q\|^2 = \|y - Xw\|^2 + \frac{1-q}{q} \sum_j \|x_j\|^2 w_j^2`
    for any X, y, w, so the measured coefficient :math:`\Lambda` is :math:`(1 - q)/q`; each row's mask
    needs only independent Bernoulli(q) entries (one mask for every row, as stated, or one per row,
    as dropout training draws them: the expectation is the same)."""
    lam = (1 - q) / q
    random = (m, eps)
    dropped = y[i] - sp.Sum(x[i, j] * m[i, j] * w[j] / q, (j, 1, features))  # row i with dropout
    row = dropped**2
    centred = define(eps[i, j], 1 - m[i, j] / q, r"the centred mask: $m_{ij} \in \{0, 1\}$ keeps input $j$ of row "
                     r"$i$, and a kept input is scaled by $1/q$ (inverted dropout)")
    residual = define(r[i], y[i] - sp.Sum(x[i, j] * w[j], (j, 1, features)), "row $i$'s residual without dropout")
    rewritten = equal(dropped, r[i] + sp.Sum(x[i, j] * w[j] * eps[i, j], (j, 1, features)),
                      "row $i$'s residual with dropout", uses=[centred, residual])
    law1 = hypothesis(Expectation(eps[i, j], random), "=", _bernoulli(1 - beta / q),
                      r"$m_{ij} \sim \mathrm{Bernoulli}(q)$: $\epsilon_{ij} = 1 - \beta/q$ with probability "
                      r"$q^\beta (1 - q)^{1 - \beta}$, $\beta \in \{0, 1\}$")
    mean = equal(Expectation(eps[i, j], random), 0, "the centred mask has mean $0$", uses=[law1])
    law2 = hypothesis(Expectation(eps[i, j] ** 2, random), "=", _bernoulli((1 - beta / q) ** 2), "the same law, squared")
    second = equal(Expectation(eps[i, j] ** 2, random), lam, "and second moment $(1 - q)/q$", uses=[law2])
    delta = sp.KroneckerDelta(j, jp)
    independent = hypothesis(
        Expectation(eps[i, j] * eps[i, jp], random), "=",
        (1 - delta) * Expectation(eps[i, j], random) * Expectation(eps[i, jp], random) + delta * Expectation(eps[i, j] ** 2, random),
        "the entries of a row's mask are independent")
    covariance = equal_at(Expectation(eps[i, j] * eps[i, jp], random), lam * delta,
                          "at $j$ and $j'$", uses=[independent, mean, second], at={j: (j, jp)})
    per_row = equal(Expectation(row, random), r[i] ** 2 + lam * sp.Sum(x[i, j] ** 2 * w[j] ** 2, (j, 1, features)),
                    r"one row: the cross term has mean $0$, the square keeps the diagonal $j = j'$",
                    uses=[rewritten, mean, covariance])
    linear = equal(Expectation(sp.Sum(row, (i, 1, samples)), random), sp.Sum(Expectation(row, random), (i, 1, samples)),
                   "linearity over the rows: each row's mean uses its own mask's law only, whether the rows share one "
                   "mask or not")
    column = sp.Sum(x[i, j] ** 2, (i, 1, samples))  # ||x_j||^2
    penalty = sp.Sum(w[j] ** 2 * column, (j, 1, features))
    rows = _regroup(sp.Sum(Expectation(row, random), (i, 1, samples)), sp.Sum(r[i] ** 2, (i, 1, samples)) + lam * penalty,
                    r"summed over the rows: $\sum_i x_{ij}^2 = \|x_j\|^2$", uses=[per_row])
    measured = define(Lam, (Expectation(sp.Sum(row, (i, 1, samples)), random) - sp.Sum(r[i] ** 2, (i, 1, samples))) / penalty,
                      r"the coefficient measured: the excess of the dropout loss over $\|y - Xw\|^2$ per unit of "
                      r"$\sum_j \|x_j\|^2 w_j^2 > 0$")
    return Derivation(
        r"Dropout in linear regression is ridge regression with penalty $\frac{1-q}{q} \operatorname{diag}(X^\top X)$",
        [centred, residual, rewritten, law1, mean, law2, second, independent, covariance, per_row, linear, rows, measured],
        (Lam, "=", lam),
        uses=[measured, linear, rows],
        assumptions=(r"inverted dropout on the inputs of a linear model: row $i$ of $X \in \mathbb{R}^{N \times d}$ "
                     r"is multiplied by a mask $m_i \in \{0, 1\}^d$ of independent Bernoulli$(q)$ entries and by $1/q$",
                     r"any $X$, $y$ and $w$ with $\sum_j \|x_j\|^2 w_j^2 > 0$"),
        remarks=_ridge_remarks(lam),
    )


def _ridge_remarks(lam: sp.Basic) -> list[Step]:
    """Two features and one row, every mask enumerated: the identity without moment hypotheses, and
    the mean of the dropout gradient, the ridge gradient."""
    x1, x2, w1, w2, y0 = sp.symbols("x_1 x_2 w_1 w_2 y", real=True)
    b1, b2 = sp.symbols("beta_1 beta_2", integer=True, nonnegative=True)
    weight = q ** (b1 + b2) * (1 - q) ** (2 - b1 - b2)
    masked = (y0 - (x1 * b1 * w1 + x2 * b2 * w2) / q) ** 2
    ridge = (y0 - x1 * w1 - x2 * w2) ** 2 + lam * (x1**2 * w1**2 + x2**2 * w2**2)
    enumerated = sp.Sum(weight * masked, (b1, 0, 1), (b2, 0, 1))
    gram = sp.ImmutableMatrix([[x1**2, x1 * x2], [x1 * x2, x2**2]])
    normal = 2 * ((gram + lam * sp.diag(x1**2, x2**2)) * sp.ImmutableMatrix([w1, w2]) - y0 * sp.ImmutableMatrix([x1, x2]))
    mean_gradient = sp.ImmutableMatrix([sp.Sum(weight * sp.Derivative(masked, v), (b1, 0, 1), (b2, 0, 1)) for v in (w1, w2)])
    return [
        equal(enumerated, ridge, r"one row, two features, the four masks enumerated with their probabilities "
              r"$q^{|m|} (1 - q)^{2 - |m|}$: the identity with no moment hypothesis"),
        equal_entrywise(Notation(mean_gradient, r"\mathbb{E}_m \nabla_w (y - x^\top (m \odot w)/q)^2",
                                 "E_m grad_w (y - x^T (m * w)/q)^2"),
                        Notation(normal, r"2\left((G + \tfrac{1-q}{q} D) w - x y\right)", "2((G + (1-q)/q D) w - x y)"),
                        r"the dropout gradient's mean is the ridge gradient ($G = x x^\top$, $D = \operatorname{diag} G$): "
                        r"SGD with dropout is unbiased SGD on the ridge objective, and its zero is "
                        r"$(X^\top X + \frac{1-q}{q} \operatorname{diag} X^\top X) w = X^\top y$"),
        equal_entrywise(Notation(Gradient(ridge, (w1, w2)), r"\nabla_w \left(\text{ridge objective}\right)",
                                 "grad_w (ridge objective)"),
                        Notation(normal, r"2\left((G + \tfrac{1-q}{q} D) w - x y\right)", "2((G + (1-q)/q D) w - x y)"),
                        "the ridge objective's own gradient, for comparison"),
    ]


# --- dropout.weight-scaling -----------------------------------------------------------------------

W, h, bias, mu_ = sp.IndexedBase("W"), sp.IndexedBase("h"), sp.IndexedBase("b"), sp.IndexedBase("m")
ell = indexed("ell_dropout", r"\ell")
G = indexed("G_dropout", "G")
nu = indexed("nu_dropout", r"\nu")
lse = sp.Function("L")
S = symbol("S_dropout", "S", real=True)
z = sp.Symbol("z", real=True)
mu = sp.Symbol("mu", real=True)
a_ = sp.Symbol("a", real=True)
Gap = symbol("Gap_dropout", r"\Delta", real=True)
Rho = symbol("rho_dropout", r"\rho", real=True)
R = symbol("R_dropout", r"\rho^{*}", real=True)
# The quantity the verifier checks, printed as what it states: the scale s of NWGM = softmax(sWh + b) (softmax),
# and the least rho for which 0 <= gap <= rho E|z - Ez|/2 <= rho sqrt(Var z)/2 holds for every ReLU unit (relu).
Q = symbol("Q_dropout", r"\begin{cases} s \text{ with } \mathrm{NWGM} = \operatorname{softmax}(sWh + b) \\ "
           r"\begin{array}{@{}l@{}} \min\{\rho : 0 \le \mathbb{E}\operatorname{relu}(z) - \operatorname{relu}(\mathbb{E}z) "
           r"\\ \qquad \le \rho\,\mathbb{E}|z - \mathbb{E}z|/2 \le \rho\sqrt{\operatorname{Var} z}/2 \text{ for every unit}\} "
           r"\end{array} \end{cases}", real=True)


def _logit(cls: sp.Symbol) -> sp.Basic:
    """The sub-network's logit z_cls(m) = sum_j W_cls,j m_j h_j + b_cls."""
    return sp.Sum(W[cls, j] * mu_[j] * h[j], (j, 1, units)) + bias[cls]


def _plain(cls: sp.Symbol) -> sp.Basic:
    """(W h)_cls, the full network's logit before its bias."""
    return sp.Sum(W[cls, j] * h[j], (j, 1, units))


def _softmax_steps() -> tuple[list[Step], Step, list[Step]]:
    """The NWGM's effective scale S = q; returns (steps, the step S = q, remarks)."""
    random = (mu_,)
    law = hypothesis(Expectation(mu_[j], random), "=", _bernoulli(beta),
                     r"$m_j \sim \mathrm{Bernoulli}(q)$ independently: sub-network $m \in \{0, 1\}^n$ has weight "
                     r"$q^{|m|} (1 - q)^{n - |m|}$ and $\mathbb{E}$ is the weighted sum over the $2^n$ sub-networks")
    mean = equal(Expectation(mu_[j], random), q, "a unit is kept with probability $q$", uses=[law])
    log_softmax = define(ell[k], _logit(k) - lse(mu_), r"sub-network $m$'s log-probability of class $k$: "
                         r"$z(m) = W (m \odot h) + b$ and $L(m) = \log \sum_c e^{z_c(m)}$")
    geometric = define(G[k], Expectation(ell[k], random), r"the log of the weighted geometric mean "
                       r"$\prod_m \operatorname{softmax}_k(z(m))^{P(m)}$")
    mean_log = equal(G[k], q * _plain(k) + bias[k] - Expectation(lse(mu_), random),
                     r"linearity: the mask average of the logit is the weight-scaled logit", uses=[geometric, log_softmax, mean])
    normalised = define(nu[k], G[k] - sp.log(sp.Sum(sp.exp(G[c]), (c, 1, outputs))),
                        r"$\nu_k = \log \mathrm{NWGM}_k$, the geometric mean normalised over the $K$ classes")
    difference = equal_at(nu[k] - nu[l], q * (_plain(k) - _plain(l)) + bias[k] - bias[l],
                          r"for classes $k \ne l$: the normaliser and $\mathbb{E}\, L(m)$ cancel", uses=[normalised, mean_log],
                          at={k: (k, l)})
    scale = define(S, (nu[k] - nu[l] - (bias[k] - bias[l])) / (_plain(k) - _plain(l)),
                   r"the effective scale measured: $\mathrm{NWGM} = \operatorname{softmax}(s W h + b)$ holds with $s = S$ "
                   r"for the pair $k$, $l$ ($(Wh)_k \ne (Wh)_l$)")
    found = equal(S, q, "weight scaling by $q$ is exact for the NWGM", uses=[scale, difference])
    return [law, mean, log_softmax, geometric, mean_log, normalised, difference, scale], found, []


def _relu_steps() -> tuple[list[Step], Step, list[Step]]:
    """The ReLU gap, its bounds E|z - Ez|/2 <= sqrt(Var z)/2 and its sign, the middle bound attained at E z = 0;
    returns (steps, the step rho* = 1, remarks)."""
    random = (z,)
    relu_z = equal_by_cases(sp.Max(z, 0), (z + sp.Abs(z)) / 2, z, r"$\mathrm{relu}(t) = (t + |t|)/2$")
    relu_mu = equal_by_cases(sp.Max(mu, 0), (mu + sp.Abs(mu)) / 2, mu, "the same at the mean")
    centre = hypothesis(Expectation(z, random), "=", mu,
                        r"a ReLU unit's pre-activation $z = \sum_j V_j m_j x_j + c$ under dropout of its inputs; its mask "
                        r"average $\mu = q \sum_j V_j x_j + c$ is the weight-scaled pre-activation (linearity, as in (5))")
    gap = define(Gap, Expectation(sp.Max(z, 0), random) - sp.Max(mu, 0),
                 r"the gap between the mask average of the unit and the weight-scaled unit")
    form = equal(Gap, (Expectation(sp.Abs(z), random) - sp.Abs(mu)) / 2, r"the means of $z/2$ and $\mu/2$ cancel",
                 uses=[gap, relu_z, relu_mu, centre])
    triangle = abs_at_most(z, sp.Abs(z - mu) + sp.Abs(mu), r"the triangle inequality, for every value of $z$",
                           change={z: a_ + mu}, signs=(a_, mu))
    lifted = cite((Expectation(sp.Abs(z), random) - sp.Abs(mu)) / 2, "<=", Expectation(sp.Abs(z - mu), random) / 2,
                  "Theorem 2.2.5", CASELLA, "expectation is linear and monotone: (15) holds for every value of $z$",
                  uses=[triangle])
    ratio = define(Rho, Gap / (Expectation(sp.Abs(z - mu), random) / 2),
                   r"the gap relative to its bound, for a unit with $\mathbb{E}|z - \mu| > 0$")
    attained = equal(sp.Subs(Rho, mu, 0), 1, r"a unit whose weight-scaled pre-activation is $0$ meets the bound",
                     uses=[ratio, form])
    sign = cite(0, "<=", Gap, "Theorem 2.2.5", CASELLA, r"$-|z| \le z \le |z|$ gives $|\mu| \le \mathbb{E}|z|$: the "
                r"mask average never falls below the weight-scaled unit (Jensen's inequality for the convex ReLU)",
                uses=[form])
    spread = cite(Expectation(sp.Abs(z - mu), random) / 2, "<=", sp.sqrt(Expectation((z - mu) ** 2, random)) / 2,
                  "Section 4.7", CASELLA, r"the Cauchy-Schwarz inequality, with $\mathbb{E}(z - \mu)^2 = "
                  r"\operatorname{Var} z$ by (12): the looser bound $\sqrt{\operatorname{Var} z}/2$", uses=[centre])
    supremum = cite(R, "=", 1, "Theorem 2.2.5", CASELLA,
                    r"$\rho^*$, the least $\rho$ with $0 \le \Delta \le \rho\,\mathbb{E}|z - \mu|/2 \le "
                    r"\rho\sqrt{\operatorname{Var} z}/2$ for every unit: the outer links are (19) and (20); $\rho = 1$ "
                    r"meets the middle one by (14) and (16), and no $\rho < 1$ does, by (18)",
                    uses=[form, lifted, attained, sign, spread])
    bernoulli_variance = equal(_bernoulli((beta - q) ** 2), q * (1 - q),
                               r"the variance of a mask entry: independent terms give "
                               r"$\operatorname{Var} z = q (1 - q) \sum_j V_j^2 x_j^2$")
    steps = [relu_z, relu_mu, centre, gap, form, triangle, lifted, ratio, attained, sign, spread]
    return steps, supremum, [bernoulli_variance]


@cache
def derive_weight_scaling() -> Derivation:
    r"""What the theorem states: :math:`\mathrm{NWGM} = \operatorname{softmax}(qWh + b)` for the :math:`2^n`
    sub-networks of a softmax layer, and :math:`0 \le \mathbb{E}\,\mathrm{relu}(z) - \mathrm{relu}(\mathbb{E} z) \le
    \mathbb{E}|z - \mathbb{E} z|/2 \le \sqrt{\operatorname{Var} z}/2` for a ReLU unit, the middle bound attained at
    :math:`\mathbb{E} z = 0`. The conclusion is printed as that content (the symbol ``Q_dropout``); the number the
    verifier compares is its sharp constant: the scale :math:`s = q` (``quantity = 1``, softmax) or the least
    :math:`\rho = 1` with gap :math:`\le \rho\,\mathbb{E}|z - \mathbb{E} z|/2` for every unit (``quantity = 2``, relu)."""
    soft, found, soft_remarks = _softmax_steps()
    relu, supremum, relu_remarks = _relu_steps()
    chosen = define(Q, sp.Piecewise((S, sp.Eq(quantity, QUANTITIES["softmax"])), (R, sp.Eq(quantity, QUANTITIES["relu"]))),
                    r"the statement's sharp constants: the scale $s$ of $\mathrm{NWGM} = \operatorname{softmax}(sWh + b)$ "
                    r"is the effective scale $S$ of (8), and the least $\rho$ is $\rho^*$ of (21)")
    closed = sp.Piecewise((q, sp.Eq(quantity, QUANTITIES["softmax"])), (1, sp.Eq(quantity, QUANTITIES["relu"])))
    return Derivation(
        r"Weight scaling: $\mathrm{NWGM} = \operatorname{softmax}(qWh + b)$; a ReLU unit's gap lies in "
        r"$[0, \mathbb{E}|z - \mathbb{E} z|/2]$",
        [*soft, found, *relu, supremum, chosen],
        (Q, "=", closed),
        uses=[chosen, found, supremum],
        assumptions=(r"dropout on the $n$ inputs $h$ of a layer: unit $j$ kept with probability $q$, independently "
                     r"(mask $m \in \{0, 1\}^n$), not rescaled in training; the weight-scaled layer uses $q W$ "
                     r"(the bias unscaled)",
                     r"softmax: $z(m) = W (m \odot h) + b$, $K$ classes; ReLU: one unit $\mathrm{relu}(z)$, "
                     r"$z = \sum_j V_j m_j x_j + c$"),
        remarks=[*soft_remarks, *relu_remarks],
    )
