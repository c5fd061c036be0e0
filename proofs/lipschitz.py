r"""Spectral norms of random matrices and Lipschitz constants of networks.

- ``lipschitz.spectral``: :math:`W` is ``n x m`` with iid :math:`N(0, 1/n)` entries and :math:`m/n = a`; then
  :math:`\|W\|_2 \to 1 + \sqrt a` as n grows (Geman 1980; Yin, Bai and Krishnaiah 1988; Bai and Silverstein 2010,
  Theorem 5.8, cited), the square root's continuity checked. :func:`derive_spectral_correction` derives the
  :math:`n^{-2/3}` coefficient of :math:`\mathbb{E}\|W\|_2`: the Tracy-Widom (:math:`\beta = 1`) mean times the
  limit of Johnstone's scale (Johnstone 2001, Theorem 1.1), :math:`c = \mu_{TW}(1 + a^{-1/2})^{1/3}/2`; the scale's
  limit is taken by SymPy, the mean :math:`\mu_{TW} = -1.2065335745820` is cited (and recomputed in the tests from
  the Ferrari-Spohn determinant). That the mean of the rescaled eigenvalue converges with its law is a hypothesis.
- ``lipschitz.bound``: a network :math:`h_l = W_l \psi(h_{l-1})` with 1-Lipschitz activations has
  :math:`\|h_L(x) - h_L(y)\|_2 \le \prod_l \|W_l\|_2\,\|x - y\|_2`; with every :math:`\|W_l\|_2 = s` the
  supremum over networks of :math:`\mathrm{Lip}(f)` is :math:`s^L`, attained by a chain of rank-one layers with
  nonnegative singular vectors (the product checked by induction).

The trap in the first: :math:`1 + \sqrt a = 2\sqrt a` only at :math:`a = 1` (a remark checks it), so a claim
of :math:`2\sqrt a` is told apart only away from square matrices.
"""

from __future__ import annotations

from functools import cache

import sympy as sp
from sympy.calculus.util import continuous_domain

from .checks import StepNotChecked, confirm_equal
from .derivation import Derivation, cite, define, equal, hypothesis, recurrence, solutions
from .printing import symbol
from .residual import HORN_JOHNSON, RUDIN
from .sources import Source
from .steps import Step, checked_step, rewriting

__all__ = ["TW_MEAN", "aspect", "n", "depth", "norm", "derive_spectral", "derive_spectral_correction", "derive_bound",
           "SOURCES"]

aspect = sp.Symbol("aspect", real=True, positive=True)
n = sp.Symbol("n", integer=True, positive=True)
depth = sp.Symbol("depth", integer=True, positive=True)
norm = sp.Symbol("norm", real=True, positive=True)
l = sp.Symbol("l", integer=True, positive=True)

TW_MEAN = sp.Float("-1.2065335745820", 14)  # the mean of the Tracy-Widom law F_1

GEMAN = Source("geman1980", "Stuart Geman", "A limit theorem for the norm of random matrices", "The Annals of Probability",
               1980, doi="10.1214/aop/1176994775", volume="8", number="2", pages="252-261")
YIN = Source("yin1988", "Yong-Quan Yin and Zhi-Dong Bai and Paruchuri R. Krishnaiah",
             "On the limit of the largest eigenvalue of the large dimensional sample covariance matrix",
             "Probability Theory and Related Fields", 1988, doi="10.1007/BF00353874", volume="78", number="4",
             pages="509-521")
BAI_SILVERSTEIN = Source("bai2010", "Zhidong Bai and Jack W. Silverstein",
                         "Spectral Analysis of Large Dimensional Random Matrices (2nd edition)", "Springer, New York", 2010,
                         doi="10.1007/978-1-4419-0661-8", isbn="978-1-4419-0660-1", kind="book")
JOHNSTONE = Source("johnstone2001", "Iain M. Johnstone",
                   "On the distribution of the largest eigenvalue in principal components analysis", "The Annals of Statistics",
                   2001, doi="10.1214/aos/1009210544", volume="29", number="2", pages="295-327")
MA = Source("ma2012", "Zongming Ma", "Accuracy of the Tracy-Widom limits for the extreme eigenvalues in white Wishart matrices",
            "Bernoulli", 2012, arxiv="1203.0839", volume="18", number="1", pages="322-359")
FERRARI_SPOHN = Source("ferrari2005", "Patrik L. Ferrari and Herbert Spohn", "A determinantal formula for the GOE Tracy-Widom "
                       "distribution", "Journal of Physics A: Mathematical and General", 2005, doi="10.1088/0305-4470/38/33/L02",
                       arxiv="math-ph/0505012", volume="38", number="33", pages="L557-L561")
TRACY_WIDOM = Source("tracy1996", "Craig A. Tracy and Harold Widom", "On orthogonal and symplectic matrix ensembles",
                     "Communications in Mathematical Physics", 1996, doi="10.1007/BF02099545", volume="177", number="3",
                     pages="727-754")
SZEGEDY = Source("szegedy2014", "Christian Szegedy and Wojciech Zaremba and Ilya Sutskever and Joan Bruna and Dumitru Erhan "
                 "and Ian Goodfellow and Rob Fergus", "Intriguing properties of neural networks",
                 "International Conference on Learning Representations (ICLR)", 2014, arxiv="1312.6199", kind="inproceedings")
VIRMAUX = Source("virmaux2018", "Aladin Virmaux and Kevin Scaman",
                 "Lipschitz regularity of deep neural networks: analysis and efficient estimation",
                 "Advances in Neural Information Processing Systems 31 (NeurIPS)", 2018, arxiv="1805.10965", kind="inproceedings")
SOURCES = (GEMAN, YIN, BAI_SILVERSTEIN, JOHNSTONE, MA, FERRARI_SPOHN, TRACY_WIDOM, SZEGEDY, VIRMAUX, HORN_JOHNSON, RUDIN)


class _Display(sp.Function):
    """A commutative function printed by a LaTeX template (its argument as ``{0}``): notation of the proofs."""

    template = "{0}"
    nargs = 1

    def _eval_is_commutative(self):
        return True

    def _sympystr(self, printer) -> str:
        return f"{type(self).__name__}({printer._print(self.args[0])})"

    def _latex(self, printer, exp=None) -> str:
        text = self.template.format(printer._print(self.args[0]))
        return text if exp is None else rf"\left({text}\right)^{{{exp}}}"


def _display(name: str, template: str, commutative: bool = True) -> type:
    body: dict[str, object] = {"template": template}
    if not commutative:
        body.update(is_commutative=False, _eval_is_commutative=lambda self: False)
    return type(name, (_Display,), body)


NormW = _display("NormW", r"\|W_{{{0}}}\|_2")  # ||W_n||_2
LamX = _display("LamX", r"\lambda_{{\max}}(X_{{{0}}}^\top X_{{{0}}})")
MeanNorm = _display("MeanNorm", r"\mathbb{{E}}\,\|W_{{{0}}}\|_2")
Rem = _display("Rem", r"r_{{{0}}}")
Tail = _display("Tail", r"q_{{{0}}}")
Gap = _display("Gap", r"\|h_{{{0}}}(x) - h_{{{0}}}(y)\|_2")  # N(l)
ActGap = _display("ActGap", r"\|\psi(h_{{{0}}}(x)) - \psi(h_{{{0}}}(y))\|_2")  # M(l)
OpNorm = _display("OpNorm", r"\|W_{{{0}}}\|_2")
Prod = _display("Prod", r"P_{{{0}}}", commutative=False)  # W_l ... W_1 on the all-active region
Layer = _display("Layer", r"W_{{{0}}}", commutative=False)
Vec = _display("Vec", r"v_{{{0}}}", commutative=False)
VecT = _display("VecT", r"v_{{{0}}}^\top", commutative=False)


# --- rules of this area -----------------------------------------------------------------------------------


def _continuous_limit(lhs: sp.Limit, inner: sp.Basic, atom: sp.Basic, rhs, reason: str, *, uses) -> Step:
    """``lim g(e(n)) = g(lim e(n))`` for a g that SymPy finds continuous at ``lim e(n)``: the premises rewrite the
    limit's body, which is written in ``e(n)`` by solving ``e(n) = t`` for ``atom`` (SymPy splits ``sqrt(x/n)``, so
    ``e(n)`` is not found by substitution), and they give ``lim e(n)``; ``continuous_domain`` confirms the
    continuity, then the value is confirmed."""

    def confirm(rewrite) -> str:
        body, var, to, _ = lhs.args
        t = sp.Dummy("t", positive=True)
        (solved,) = sp.solve(sp.Eq(inner, t), atom) or (None,)
        if solved is None:
            raise StepNotChecked(f"{inner} cannot be solved for {atom}")
        outer = sp.simplify(rewrite(body).subs(atom, solved))
        if outer.has(var) or not outer.has(t):
            raise StepNotChecked(f"{body} is not a function of {inner} alone")
        value = rewrite(sp.Limit(inner, var, to))
        if value.has(sp.Limit):
            raise StepNotChecked(f"no premise gives the limit of {inner}")
        try:
            domain = continuous_domain(outer, t, sp.S.Reals)
        except (NotImplementedError, ValueError, TypeError):
            domain = sp.S.EmptySet
        if domain.contains(value) is not sp.true:
            raise StepNotChecked(f"SymPy could not confirm that {outer} is continuous at {value}")
        return "continuous at the inner limit, " + confirm_equal(outer.subs(t, value), rhs, rewrite)

    return checked_step(lhs, "=", rhs, reason, rewriting(confirm), uses)


def _scaled(lhs, rhs, factor, reason: str, *, uses) -> Step:
    """``c a <= c b`` from the premise ``a <= b`` and ``c >= 0`` (decided by SymPy's assumptions)."""

    def check(premises) -> str:
        if len(premises) != 1 or premises[0].rel not in ("<=", "<"):
            raise StepNotChecked("scaling an inequality needs the inequality as its one premise")
        if sp.sympify(factor).is_nonnegative is not True:
            raise StepNotChecked(f"{factor} is not known to be nonnegative")
        p = premises[0]
        return ("the premise times a nonnegative factor: " + confirm_equal(lhs, factor * p.lhs) + ", "
                + confirm_equal(rhs, factor * p.rhs))

    return checked_step(lhs, "<=", rhs, reason, check, uses)


def _transitive(lhs, rhs, reason: str, *, uses) -> Step:
    """``lhs <= rhs`` by a chain through every premise (equalities and non-strict inequalities, in any order)."""

    def check(premises) -> str:
        left, current = list(premises), lhs
        if not left:
            raise StepNotChecked("a chain needs premises")
        while left:
            link = next((p for p in left if p.lhs == current and p.rel in ("=", "<=")), None)
            if link is None:
                raise StepNotChecked(f"no premise continues the chain from {current}")
            current = link.rhs
            left.remove(link)
        if current != rhs:
            raise StepNotChecked(f"the chain ends at {current}, not {rhs}")
        return "transitivity"

    return checked_step(lhs, "<=", rhs, reason, check, uses)


def _induction_bound(seq, var, start, bound, reason: str, *, uses) -> Step:
    """``seq(var) <= bound`` for ``var >= start``, by induction: the rule ``seq(l) <= c seq(l - 1)`` with ``c >= 0``
    (SymPy's assumptions), the initial value ``seq(start) = a``, and ``bound(start) = a``, ``c bound(var - 1) = bound``."""

    def check(premises) -> str:
        rule = initial = None
        for p in premises:
            arg = p.lhs.args[0] if p.lhs.func == seq else None
            if p.rel == "=" and arg == start and initial is None:
                initial = p
            elif p.rel in ("<=", "<") and isinstance(arg, sp.Symbol) and rule is None:
                rule, index = p, arg
            else:
                raise StepNotChecked(f"the premise {p.lhs} {p.rel} {p.rhs} is neither the rule nor the initial value")
        if rule is None or initial is None:
            raise StepNotChecked(f"an induction needs the rule {seq}(l) <= c {seq}(l - 1) and the value {seq}({start})")
        factor = sp.simplify(rule.rhs / seq(index - 1))
        if factor.has(seq) or factor.is_nonnegative is not True:
            raise StepNotChecked(f"the rule's right side is not a nonnegative multiple of {seq}({index - 1})")
        base = confirm_equal(bound.subs(var, start), initial.rhs)
        step = confirm_equal(factor.subs(index, var) * bound.subs(var, var - 1), bound)
        return f"induction (the factor is nonnegative): base case {base}; step {step}"

    return checked_step(seq(var), "<=", bound, reason, check, uses)


# --- lipschitz.spectral ---------------------------------------------------------------------------------------


@cache
def derive_spectral() -> Derivation:
    r""":math:`\lim_n \|W_n\|_2 = 1 + \sqrt a`: the cited limit of the largest eigenvalue, the square root's continuity
    checked."""
    var_w = symbol("Var_W", r"\operatorname{Var} W_{ij}", positive=True)
    var_x = symbol("Var_X", r"\operatorname{Var} X_{ij}", positive=True)
    m, y = sp.Symbol("m", positive=True), sp.Symbol("y", positive=True)
    entries = hypothesis(var_w, "=", 1 / n, r"$W$ is $n \times m$ with iid centred Gaussian entries of variance $1/n$")
    scaled = define(var_x, n * var_w, r"$X = \sqrt{n}\,W$, so $\|W\|_2 = \sigma_{\max}(X)/\sqrt n$")
    unit = equal(var_x, 1, "the entries of $X$ have unit variance", uses=[scaled, entries])
    columns = hypothesis(m, "=", aspect * n, "$m/n = a$ fixed as $n$ grows")
    ratio = define(y, m / n, r"the ratio $y$ of Bai and Silverstein's dimension $m$ to their sample size $n$")
    y_is_a = equal(y, aspect, uses=[ratio, columns])
    largest = cite(sp.Limit(LamX(n) / n, n, sp.oo), "=", var_x * (1 + sp.sqrt(y)) ** 2, "Theorem 5.8", BAI_SILVERSTEIN,
                   r"the largest eigenvalue of the sample covariance $X^\top X/n$ of iid entries with mean $0$, variance "
                   r"$\operatorname{Var} X_{ij}$ and a finite fourth moment tends to $\operatorname{Var} X_{ij}(1 + \sqrt y)^2$ "
                   "almost surely (Geman 1980 under growth conditions on all moments; Yin, Bai and Krishnaiah 1988)",
                   uses=[unit, y_is_a])
    value = equal(var_x * (1 + sp.sqrt(y)) ** 2, (1 + sp.sqrt(aspect)) ** 2, uses=[unit, y_is_a])
    norm_def = define(NormW(n), sp.sqrt(LamX(n) / n), r"$\|W\|_2 = \sqrt{\lambda_{\max}(W^\top W)}$")
    limit = _continuous_limit(sp.Limit(NormW(n), n, sp.oo), LamX(n) / n, LamX(n), 1 + sp.sqrt(aspect),
                              r"$\sqrt{\cdot}$ is continuous on $[0, \infty)$", uses=[norm_def, largest, value])
    remarks = [solutions(sp.Eq(1 + sp.sqrt(aspect), 2 * sp.sqrt(aspect)), aspect, sp.Interval.open(0, sp.oo), sp.FiniteSet(1),
                         r"the wrong limit $2\sqrt a$ agrees with $1 + \sqrt a$ only for square matrices, $a = 1$")]
    return Derivation(
        r"The spectral norm of an $n \times an$ Gaussian matrix with entries of variance $1/n$",
        [entries, scaled, unit, columns, ratio, y_is_a, largest, value, norm_def, limit],
        (sp.Limit(NormW(n), n, sp.oo), "=", 1 + sp.sqrt(aspect)),
        uses=[limit],
        assumptions=(r"$W$ is $n \times m$ with iid $\mathcal{N}(0, 1/n)$ entries, $m/n = a > 0$ fixed, $n \to \infty$ "
                     "(almost surely; any iid law of mean $0$ and finite fourth moment)",),
        remarks=remarks,
    )


@cache
def derive_spectral_correction() -> Derivation:
    r"""The coefficient of :math:`n^{-2/3}` in :math:`\mathbb{E}\|W_n\|_2`: :math:`\mu_{TW}(1 + a^{-1/2})^{1/3}/2`."""
    mu, sig = symbol("mu_J", r"\mu_{np}", positive=True), symbol("sigma_J", r"\sigma_{np}", positive=True)
    tw = symbol("mu_TW", r"\mu_{TW}", real=True)
    third = sp.Rational(2, 3)
    m = aspect * n
    centre = define(mu, (sp.sqrt(n - 1) + sp.sqrt(m)) ** 2, r"Johnstone's centring, $p = m = an$ columns")
    spread = define(sig, (sp.sqrt(n - 1) + sp.sqrt(m)) * (1 / sp.sqrt(n - 1) + 1 / sp.sqrt(m)) ** sp.Rational(1, 3),
                    "and scale")
    shift, scale = sp.sqrt(mu / n) - 1 - sp.sqrt(aspect), sig / (2 * sp.sqrt(mu * n))
    expansion = cite(MeanNorm(n), "=", sp.sqrt(mu / n) + scale * (tw + Rem(n)) + Tail(n), "Theorem 1.1", JOHNSTONE,
                     r"$(\lambda_{\max}(X^\top X) - \mu_{np})/\sigma_{np}$ tends in law to $F_1$, the Tracy-Widom law of "
                     r"mean $\mu_{TW}$; with its mean converging too, $r_n \to 0$, and expanding "
                     r"$\sqrt{\mu + \sigma Z} = \sqrt\mu + \sigma Z/(2\sqrt\mu) + O(\sigma^2 Z^2/\mu^{3/2})$ leaves "
                     r"$q_n = O(n^{-4/3})$; stated for $p \le n$, it applies for $a > 1$ to $X^\top$ (the nonzero "
                     r"eigenvalues of $X^\top X$ and $X X^\top$ agree), whose centring differs from this one by $O(1)$ "
                     r"in $\mu_{np}$, $O(1/n)$ in $\|W\|_2$: no $n^{-2/3}$ term", uses=[centre, spread])
    mean = hypothesis(sp.Limit(Rem(n), n, sp.oo), "=", 0,
                      r"the mean of the rescaled eigenvalue converges with its law (uniform integrability: assumed here, "
                      "not part of Johnstone's theorem)")
    tail = hypothesis(sp.Limit(n ** third * Tail(n), n, sp.oo), "=", 0, r"the second-order remainder is $O(n^{-4/3})$")
    value = cite(tw, "=", TW_MEAN, "Section 1", FERRARI_SPOHN,
                 r"$\mu_{TW} = \int s\,dF_1(s)$, $F_1(s) = \det(I - B_s)$ on $L^2(0, \infty)$ with kernel "
                 r"$\mathrm{Ai}(x + y + s)$ (Tracy and Widom 1996 define $F_1$); evaluated by Nystrom quadrature "
                 "(Bornemann 2010), recomputed by the tests")
    no_drift = equal(sp.Limit(n ** third * shift, n, sp.oo), 0,
                     r"the centring moves the mean by $O(1/n)$: no $n^{-2/3}$ term", uses=[centre])
    scaled = equal(sp.Limit(n ** third * scale, n, sp.oo), (1 + 1 / sp.sqrt(aspect)) ** sp.Rational(1, 3) / 2,
                   r"Johnstone's scale in units of $\|W\|_2$, times $n^{2/3}$", uses=[centre, spread])
    parts = sp.Limit(n ** third * shift, n, sp.oo) + sp.Limit(n ** third * scale, n, sp.oo) * (
        tw + sp.Limit(Rem(n), n, sp.oo)) + sp.Limit(n ** third * Tail(n), n, sp.oo)
    linear = cite(sp.Limit(n ** third * (MeanNorm(n) - 1 - sp.sqrt(aspect)), n, sp.oo), "=", parts, "Theorem 3.3", RUDIN,
                  "limits of sums and products of convergent sequences", uses=[expansion])
    closed = TW_MEAN * (1 + 1 / sp.sqrt(aspect)) ** sp.Rational(1, 3) / 2
    assembled = equal(parts, closed, r"each limit by its premise; the number is $\mu_{\mathrm{TW}}/2$", uses=[no_drift, scaled, mean, tail, value])
    delta = sp.sqrt(1 - 1 / (2 * n)) + sp.sqrt(aspect - 1 / (2 * n)) - 1 - sp.sqrt(aspect)
    remarks = [
        equal(sp.Limit(n ** third * delta, n, sp.oo), 0, r"the sweep subtracts $\delta_n = \sqrt{1 - 1/(2n)} + "
              r"\sqrt{a - 1/(2n)} - 1 - \sqrt a$, Ma's second-order centring minus its limit: no $n^{-2/3}$ term"),
        equal(sp.Limit(n * delta, n, sp.oo), -(1 + 1 / sp.sqrt(aspect)) / 4, r"it removes the $1/n$ term "
              r"$-(1 + a^{-1/2})/(4n)$, which a fit in powers of $n^{-2/3}$ cannot carry"),
    ]
    return Derivation(
        r"The $n^{-2/3}$ correction of $\mathbb{E}\,\|W\|_2$ from the Tracy-Widom mean",
        [centre, spread, expansion, mean, tail, value, no_drift, scaled, linear, assembled],
        (sp.Limit(n ** third * (MeanNorm(n) - 1 - sp.sqrt(aspect)), n, sp.oo), "=", closed),
        uses=[linear, assembled],
        assumptions=(r"Gaussian $W$ as in lipschitz.spectral; $m = an$",),
        remarks=remarks,
    )


# --- lipschitz.bound ---------------------------------------------------------------------------------------------


@cache
def derive_bound() -> Derivation:
    r""":math:`\sup \mathrm{Lip}(f) = s^L` over networks with 1-Lipschitz activations and every :math:`\|W_l\|_2 = s`."""
    dist = symbol("d_xy", r"\|x - y\|_2", positive=True)
    lip, sup = symbol("Lip_f", r"\mathrm{Lip}(f)", positive=True), symbol("sup_Lip", r"\sup_f \mathrm{Lip}(f)", positive=True)
    operator = cite(Gap(l), "<=", OpNorm(l) * ActGap(l - 1), "Section 5.6", HORN_JOHNSON,
                    r"$h_l = W_l \psi(h_{l-1})$ and $\|W z\|_2 \le \|W\|_2 \|z\|_2$ (the spectral norm is the operator norm)")
    given = hypothesis(OpNorm(l), "=", norm, r"every layer has $\|W_l\|_2 = s$")
    times = equal(OpNorm(l) * ActGap(l - 1), norm * ActGap(l - 1), uses=[given])
    activation = hypothesis(ActGap(l - 1), "<=", Gap(l - 1), r"assumed, not checked: $\psi$ acts coordinatewise and "
                            r"is 1-Lipschitz ($\mathrm{relu}$; the identity before the first layer), so it shrinks every "
                            r"coordinate's difference and with them the $2$-norm")
    shrunk = _scaled(norm * ActGap(l - 1), norm * Gap(l - 1), norm, r"times $s \ge 0$", uses=[activation])
    layer = _transitive(Gap(l), norm * Gap(l - 1), "one layer multiplies the distance by at most $s$",
                        uses=[operator, times, shrunk])
    start = define(Gap(0), dist, "$h_0 = x$")
    deep = _induction_bound(Gap, depth, 0, norm**depth * dist, "through all $L$ layers", uses=[layer, start])
    bound = cite(lip, "<=", norm**depth, "Definition 1.8", RUDIN,
                 r"$\mathrm{Lip}(f) = \sup_{x \ne y} \|f(x) - f(y)\|_2/\|x - y\|_2$ is the least upper bound, and every "
                 r"ratio is at most $s^L$", uses=[deep])
    chain = define(Prod(l), Layer(l) * Prod(l - 1), r"the Jacobian on the half plane $q^\top x > 0$ of a chain whose "
                   r"units are all active there ($D_l = I$): $P_l = W_l P_{l-1}$")
    first = define(Prod(1), norm * Vec(1) * VecT(0), r"$W_1 = s\,v_1 q^\top$, $q = v_0$")
    rank_one = hypothesis(Layer(l), "=", norm * Vec(l) * VecT(l - 1), r"rank-one layers $W_l = s\,v_l v_{l-1}^\top$, unit "
                          r"$v_l$ with positive entries (so $\|W_l\|_2 = s$ and every unit is active where $q^\top x > 0$)")
    unit = hypothesis(VecT(l - 1) * Vec(l - 1), "=", 1, "unit vectors")
    product = recurrence(Prod, depth, 1, norm**depth * Vec(depth) * VecT(0), "by induction",
                         uses=[chain, first, rank_one, unit])
    attained = cite(sup, "=", norm**depth, "Definition 1.8", RUDIN,
                    r"$s^L$ bounds every $\mathrm{Lip}(f)$, and the chain's Jacobian $s^L v_L q^\top$ has norm "
                    r"$s^L \|v_L\|_2 \|q\|_2 = s^L$, so the bound is the least upper bound", uses=[bound, product])
    remarks = [
        equal(sp.Pow(2, 5, evaluate=False), 32, r"at $s = 2$, $L = 5$: $s^L = 32$, against the sum of the norms $Ls = 10$ "
              r"and a product missing a layer, $s^{L-1} = 16$: both are exceeded by the chain, which reaches $32$"),
    ]
    return Derivation(
        r"A network with 1-Lipschitz activations is $\prod_l \|W_l\|_2$-Lipschitz, and no better bound holds",
        [operator, given, times, activation, shrunk, layer, start, deep, bound, chain, first, rank_one, unit, product,
         attained],
        (sup, "=", norm**depth),
        uses=[attained],
        assumptions=(r"$f(x) = h_L(x)$, $h_l = W_l \psi(h_{l-1})$, $h_0 = x$, $\psi$ coordinatewise 1-Lipschitz "
                     r"(the identity at $l = 1$, $\mathrm{relu}$ after), every $\|W_l\|_2 = s$; the supremum is over "
                     "such networks",),
        remarks=remarks,
    )
