r"""Implicit max-margin bias: gradient descent on the logistic loss over linearly separable data converges in
direction to the hard-margin SVM solution, at the rate :math:`1/\log t` with a derived constant (Soudry, Hoffer,
Nacson, Gunasekar and Srebro 2018, JMLR 19(70), arXiv:1710.10345).

**What is cited.** Their Theorem 3 (eq. 3): for separable data, a :math:`\beta`-smooth loss with an exponential
tail and a fixed step :math:`\eta < 2\beta^{-1}\sigma_{\max}^{-2}(X)`, :math:`w(t) = \hat w\log t + \rho(t)` with
:math:`\hat w` the hard-margin SVM solution (eq. 4) and :math:`\rho` bounded for almost every dataset
(:math:`O(\log\log t)` in general). Their
Theorem 4: when moreover the support vectors span the data, :math:`\rho(t) \to \tilde w`, a solution of
:math:`\eta\exp(-x_n^\top\tilde w) = \alpha_n` on the support vectors (eq. 7; :math:`\alpha` the dual variables of
the KKT conditions, eq. 6). Their Theorem 5 (eq. 8) states the rate of the direction, :math:`O(1/\log t)` for
almost every dataset (:math:`O(\log\log t/\log t)` in general); the
leading term, :math:`(I - \hat w\hat w^\top/\lVert\hat w\rVert^2)\rho(t)/(\lVert\hat w\rVert\log t)`, is in
its proof (Appendix D.1, eq. 118).

**What is checked.** (i) The logistic loss is :math:`\beta = 1/4` smooth, so the step
:math:`\eta = 4/\sigma_{\max}^2` meets Theorem 3's condition; (ii) the condition that makes eq. 7 the residual's
limit: with support-vector margins :math:`\log t + c_k`, the gradient step's increment of a support vector's
margin cancels :math:`\log(t + 1) - \log t` to order :math:`1/t` exactly when :math:`\eta e^{-c_k} = \alpha_k`
(the KKT condition :math:`x_m^\top\hat w = 1` closes it), for two support vectors and a non-support point of
margin :math:`1 + \delta`, the special case SymPy confirms (its proof sketch's cancellation); (iii) in the plane
of :math:`\hat w` and :math:`\tilde w`, :math:`w = \lVert\hat w\rVert(\log t + a,\ C)` with
:math:`a = \tilde w^\top\hat w/\lVert\hat w\rVert^2` and :math:`C = \lVert P_\perp\tilde w\rVert/\lVert\hat w\rVert`,
the direction error :math:`e = \lVert w/\lVert w\rVert - \hat w/\lVert\hat w\rVert\rVert` is a closed form in
:math:`\log t` whose product with :math:`\log t` tends to :math:`C`; its first correction is :math:`-a/\log t`
(a remark); (iv) the verifier measures the direction of :math:`w_R(t) = w(t/16) - 4w(t/8) + 4w(t/4)`, which is
:math:`\hat w\log t + \tilde w` plus a combination of the residuals :math:`r = \rho - \tilde w \to 0`, and which cancels
a transient :math:`(A\log t + B)/t` exactly (a remark).

**The conclusion** the verifier compares: :math:`\lim_{t\to\infty}\mathbb E[\log t\; e(w_R(t))/C] = 1`, the mean
over random datasets (each with its own derived :math:`C`). A rate :math:`1/t` would make this limit 0. *Where the
usual statement is loose*: "the rate is :math:`O(1/\log t)`" holds for every dataset, but the constant
:math:`C = \lVert P_\perp\tilde w\rVert/\lVert\hat w\rVert` is this closed form only when the support vectors span
the data (Theorem 4); otherwise the part of :math:`\rho` outside their span depends on the whole trajectory. And
:math:`C` does not depend on :math:`\eta` (which shifts :math:`\tilde w` along :math:`\hat w` only), while the offset
:math:`a` does.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from .checks import StepNotChecked, confirm_relation
from .derivation import Derivation, cite, define, equal, hypothesis, relation
from .printing import function, symbol
from .rules import equal_at
from .sources import Source
from .steps import Step, checked_step, rewriting

__all__ = ["SOUDRY", "SOURCES", "derive_max_margin", "direction_error", "LIMIT"]

LIMIT = sp.Integer(1)

SOUDRY = Source(
    "soudry2018",
    "Daniel Soudry and Elad Hoffer and Mor Shpigel Nacson and Suriya Gunasekar and Nathan Srebro",
    "The implicit bias of gradient descent on separable data",
    "Journal of Machine Learning Research",
    2018,
    arxiv="1710.10345",
    url="https://jmlr.org/papers/v19/18-188.html",
    volume="19",
    number="70",
    pages="1-57",
)
SOURCES = (SOUDRY,)

u = sp.Symbol("u", real=True)  # a margin
d = sp.Symbol("d", integer=True, positive=True)  # the dimension (the claim's parameter)
t = sp.Symbol("t", positive=True)  # the step count
eta = sp.Symbol("eta", positive=True)  # the fixed step
sigma = symbol("sigma_max_imp", r"\sigma_{\max}", positive=True)  # the largest singular value of the data
logt = symbol("logt_imp", r"\log t", positive=True)
a = symbol("a_imp", "a", real=True)  # the offset of the residual's limit along w_hat, in units of ||w_hat||^2
C = symbol("C_imp", "C", positive=True)  # the rate constant ||P_perp w~|| / ||w_hat||
norm = symbol("norm_w_imp", r"\|\hat w\|", positive=True)
w1, w2 = symbol("w1_imp", "w_{\\parallel}", real=True), symbol("w2_imp", "w_{\\perp}", real=True)
alpha1, alpha2 = symbol("alpha1_imp", r"\alpha_1", positive=True), symbol("alpha2_imp", r"\alpha_2", positive=True)
c1, c2, c3 = (symbol(f"c{k}_imp", f"c_{k}", real=True) for k in (1, 2, 3))
G11, G12, G13 = (symbol(f"G1{k}_imp", f"G_{{1{k}}}", real=True) for k in (1, 2, 3))
delta = symbol("delta_imp", r"\delta", positive=True)
tau = sp.Symbol("tau", positive=True)
hat, tilde = symbol("what_imp", r"\hat w", real=True), symbol("wt_imp", r"\tilde w", real=True)
A, B = symbol("A_imp", "A", real=True), symbol("B_imp", "B", real=True)

ell = function("ell", r"\ell")
err = function("e_imp", "e")
err_R = function("eR_imp", "e_R")
mean = function("E", r"\mathbb{E}")
ratio = function("R_imp", "R")
path = function("w_imp", "w")
resid = function("r_imp", "r")


def _sigma(x: sp.Basic) -> sp.Basic:
    return 1 / (1 + sp.exp(-x))


def _bounded(lhs: sp.Basic, bound: sp.Basic, reason: str, *, uses) -> Step:
    """A checked ``lhs <= bound`` for every real ``u``, once the premises have defined every function in ``lhs`` (an
    undefined loss is refused at once: SymPy's extremum search would recurse on it)."""

    def confirm(rewrite) -> str:
        if rewrite(lhs).has(ell):
            raise StepNotChecked("the loss is not defined by the premises")
        return confirm_relation(lhs, "<=", bound, over=(u, sp.Reals), rewrite=rewrite)

    return checked_step(lhs, "<=", bound, reason, rewriting(confirm), uses)


def direction_error(offset: sp.Basic = a, constant: sp.Basic = C, s: sp.Basic = logt) -> sp.Basic:
    r"""The direction error :math:`\lVert w/\lVert w\rVert - \hat w/\lVert\hat w\rVert\rVert` of
    :math:`w = \hat w\, s + \tilde w`, in closed form: :math:`\sqrt{2 - 2(s + a)/\sqrt{(s + a)^2 + C^2}}`.

    >>> sp.limit(logt * direction_error() / C, logt, sp.oo)
    1
    """
    x = s + offset
    return sp.sqrt(2 - 2 * x / sp.sqrt(x**2 + constant**2))


@cache
def derive_max_margin() -> Derivation:
    r"""The direction error of gradient descent on the logistic loss decays as :math:`C/\log t`:
    :math:`\lim \mathbb E[\log t\, e(t)/C] = 1`."""
    loss = define(ell(u), sp.log(1 + sp.exp(-u)), r"the logistic loss of a margin $u = y\, w^\top x$")
    smooth = _bounded(sp.Derivative(ell(u), (u, 2)), sp.Rational(1, 4),
                      r"$\ell'' = \sigma(u)\sigma(-u) \le 1/4$: the loss is $\beta$-smooth with $\beta = 1/4$, so "
                      r"$\mathcal{L}(w) = \sum_n \ell(z_n^\top w)$ is $\sigma_{\max}^2/4$-smooth", uses=[loss])
    step = hypothesis(eta, "=", 4 / sigma**2, r"the fixed step, half of Theorem 3's bound "
                      r"$2\beta^{-1}\sigma_{\max}^{-2} = 8/\sigma_{\max}^2$")
    stable = relation(eta, "<", 8 / sigma**2, r"Theorem 3's condition $\eta < 2\beta^{-1}\sigma_{\max}^{-2}$ with "
                      r"$\beta = 1/4$", uses=[step])
    separable = hypothesis(symbol("rank_ZS_imp", r"\operatorname{rank} Z_{\mathcal{S}}", positive=True, integer=True),
                           "=", d, r"the data are linearly separable and the hard-margin SVM's support vectors (the rows "
                           r"of $Z_{\mathcal{S}}$, each with $\alpha_k > 0$) span $\mathbb{R}^d$, so $\tilde w$ is unique")
    asymptotic = cite(symbol("w(t)_imp", "w(t)"), "=", symbol("wlog_imp", r"\hat w \log t + \rho(t)"), "Theorem 3",
                      SOUDRY, r"eq. (3), for gradient descent (their eq. 2) $w(t + 1) = w(t) - \eta\nabla\mathcal{L}(w(t))$ from any "
                      r"start, $\hat w$ the hard-margin SVM solution (eq. 4), $\rho(t)$ bounded for almost every "
                      "dataset", uses=[smooth, stable, separable])
    kkt = hypothesis(G11, "=", (1 - G12 * alpha2) / alpha1,
                     r"KKT (eq. 6): $\hat w = \alpha_1 z_1 + \alpha_2 z_2$ and $z_1^\top\hat w = G_{11}\alpha_1 + G_{12}\alpha_2 = 1$, "
                     r"with "
                     r"$G_{1k} = z_1^\top z_k$ (two support vectors, a point of margin $1 + \delta$ beside them)")
    fixed1 = define(c1, sp.log(eta / alpha1), r"eq. (7): $\eta\, e^{-c_k} = \alpha_k$, $c_k = z_k^\top\tilde w$")
    fixed2 = define(c2, sp.log(eta / alpha2), r"the same for the second support vector")
    increment = sp.Limit(t * (eta * G11 * _sigma(-(sp.log(t) + c1)) + eta * G12 * _sigma(-(sp.log(t) + c2))
                              + eta * G13 * _sigma(-((1 + delta) * sp.log(t) + c3)) - sp.log(1 + 1 / t)), t, sp.oo)
    cancel = equal(increment, 0,
                   r"with margins $z_k^\top w(t) = \log t + c_k$ on the support vectors and $(1 + \delta)\log t + c_3$ "
                   r"beyond, one gradient step raises $z_1^\top w$ by $\eta\sum_k G_{1k}\sigma(-z_k^\top w)$; its "
                   r"difference from $\log(t + 1) - \log t$ vanishes at order $1/t$ exactly when $\eta e^{-c_k} = "
                   r"\alpha_k$ (the cancellation of Theorem 3's proof sketch)", uses=[kkt, fixed1, fixed2])
    limit = cite(sp.Limit(symbol("rho(t)_imp", r"\rho(t)"), t, sp.oo), "=", symbol("wtilde_imp", r"\tilde w"),
                 "Theorem 4", SOUDRY, r"the residual converges to $\tilde w$ of eq. (7) when the support vectors span "
                 "the data (almost every such dataset)", uses=[asymptotic, separable, cancel])
    plane1 = define(w1, norm * (logt + a), r"$w = \hat w\log t + \tilde w$ along $\hat w/\|\hat w\|$, with "
                    r"$a = \tilde w^\top\hat w/\|\hat w\|^2$")
    plane2 = define(w2, norm * C, r"and orthogonal to it, with $C = \|P_\perp\tilde w\|/\|\hat w\|$, "
                    r"$P_\perp = I - \hat w\hat w^\top/\|\hat w\|^2$")
    error = define(err(logt), sp.sqrt((w1 / sp.sqrt(w1**2 + w2**2) - 1) ** 2 + (w2 / sp.sqrt(w1**2 + w2**2)) ** 2),
                   r"the direction error $\|w/\|w\| - \hat w/\|\hat w\|\|$ in the plane of $\hat w$ and $\tilde w$")
    rate = sp.Limit(logt * err(logt) / C, logt, sp.oo)
    constant = equal(rate, LIMIT, r"the direction error is $C/\log t\,(1 + O(1/\log t))$: the rate $1/\log t$ "
                     r"(Theorem 5, eq. 8, for almost every dataset) with the constant $C = \|P_\perp\tilde w\|/\|\hat w\|$ "
                     r"(the leading term of its proof, Appendix D.1)",
                     uses=[error, plane1, plane2])
    iterate = define(path(tau), hat * sp.log(tau) + tilde + resid(tau),
                     r"one coordinate of the iterates: $w(\tau) = \hat w\log\tau + \tilde w + r(\tau)$, "
                     r"$r(\tau) \to 0$ by (11)")
    combined = equal_at(path(t / 16) - 4 * path(t / 8) + 4 * path(t / 4),
                        hat * sp.log(t) + tilde + resid(t / 16) - 4 * resid(t / 8) + 4 * resid(t / 4),
                        r"the measured direction is that of $w_R(t) = w(t/16) - 4w(t/8) + 4w(t/4)$: exactly "
                        r"$\hat w\log t + \tilde w$ plus a combination of residuals that tends to $0$", uses=[iterate],
                        at={tau: (t / 16, t / 8, t / 4)})
    measured = define(ratio(logt), 1 + logt * (err_R(logt) - err(logt)) / C,
                      r"the verifier's statistic: the direction error $e_R$ of $w_R(t)$ against $e(\log t)$ of (14), that "
                      r"of $\hat w\log t + \tilde w$ itself, in units of $C/\log t$; it is $1$ on the asymptotic form "
                      r"whatever $a$")
    per_dataset = cite(sp.Limit(mean(ratio(logt)), logt, sp.oo), "=", rate, "Theorem 4", SOUDRY,
                       r"$\rho(t) \to \tilde w$, so $w_R(t) = \hat w\log t + \tilde w + o(1)$ and $e_R = e(\log t) + "
                       r"o(1/\log t)$ for each dataset, so $R \to 1$, the limit (15) of $\log t\, e/C$; the mean over the "
                       r"datasets (each with its own $C$, bounded below) has the same limit. With (15), $e_R \sim "
                       r"C/\log t$: the rate", uses=[limit, combined, error, measured])
    correction = equal(sp.Limit(logt * (logt * w2 / (C * w1) - 1), logt, sp.oo), -a,
                       r"the first correction, that of $\tan\varphi = w_\perp/w_\parallel$ and of "
                       r"$e = 2\sin(\varphi/2) = \tan\varphi\,(1 + O(\varphi^2))$ alike: "
                       r"$\log t\, e/C = 1 - a/\log t + O(\log^{-2} t)$, a term that varies with the dataset and that "
                       r"$R$ of (18) removes", uses=[plane1, plane2])
    decay = sp.Lambda(tau, (A * sp.log(tau) + B) / tau)
    cancelled = equal(decay(t / 16) - 4 * decay(t / 8) + 4 * decay(t / 4), 0,
                      r"the combination cancels a transient $r(\tau) = (A\log\tau + B)/\tau$ (the logistic tail's "
                      r"$-e^{-2u}$, the step's discretisation, the non-support points' gradients): the verifier's "
                      r"points carry what is left, $O(\log^2 t/t^2)$")
    steps = [loss, smooth, step, stable, separable, asymptotic, kkt, fixed1, fixed2, cancel, limit, plane1, plane2,
             error, constant, iterate, combined, measured, per_dataset]
    return Derivation(
        "Gradient descent on the logistic loss converges in direction to the max-margin vector at rate $C/\\log t$",
        steps,
        (sp.Limit(mean(ratio(logt)), logt, sp.oo), "=", LIMIT),
        uses=[per_dataset, constant],
        assumptions=(
            r"data $z_k = y_k x_k \in \mathbb{R}^d$, $k = 1, \dots, n$ with $d \le n \le d + 1$ (the verifier's "
            r"family), linearly separable, with $d$ support vectors "
            r"spanning $\mathbb{R}^d$; loss $\mathcal{L}(w) = \sum_k \log(1 + e^{-z_k^\top w})$; gradient descent "
            r"from $w(0) = 0$ with the fixed step $\eta = 4/\sigma_{\max}(Z)^2$",
            r"$e(t) = \|w(t)/\|w(t)\| - \hat w/\|\hat w\|\|$, $C = \|P_\perp\tilde w\|/\|\hat w\|$ with $\tilde w$ of "
            r"eq. (7); the mean is over random datasets",
        ),
        remarks=[correction, cancelled],
    )
