r"""Initialization of ReLU networks: He, Xavier, activation gains, the ReLU critical line.

The network: widths :math:`n_0 = \dots = n_{L-1} = n` (``fan_in``), weights
:math:`W^l_{ij} \sim N(0, c/n)` independent, pre-activations :math:`h^l = W^l x^{l-1}`,
activations :math:`x^l = \operatorname{relu}(h^l)`, input :math:`x^0 = x` with
:math:`\|x\|^2/n = q_0`. Three hypotheses on the weights carry everything, each
stated in SymPy form and used by the checks, and the results hold **exactly at finite width**:

- the covariance :math:`E[W_{ij} W_{ij'}] = (c/n)\,\delta_{jj'}` (linearity of expectation then
  gives :math:`E[(h^l_i)^2] = (c/n) E\|x^{l-1}\|^2`);
- :math:`W^l` is independent of the past (``x^{l-1}``, ``v^{l-1}``), so mixed moments factor;
- the law of :math:`W^l` is symmetric (:math:`W \mapsto -W` flips :math:`h^l` and the tangent),
  so :math:`E[\operatorname{relu}(h)^2] = E[h^2]/2` and :math:`E[g^2 1\{h>0\}] = E[g^2]/2`,
  the event :math:`h = 0` carrying no mass (a non-degenerate Gaussian).

The Gaussian integrals (:func:`masked_gaussian_lemma`) give the same halves for a Gaussian
pair (remarks). Symbols use the claims' parameter names: ``fan_in`` (n), ``fan_out``, ``depth`` (L),
``c`` (:math:`\sigma_w^2` in mean-field papers), ``q0``, ``n_in``, ``n_out``, ``activation`` (a code,
see :data:`ACTIVATIONS`), ``negative_slope``; names that are not LaTeX have their LaTeX registered.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from .derivation import Derivation, Step, define, equal, equal_by_cases, hypothesis, recurrence, solutions
from .gaussian import gaussian_density, masked_gaussian_lemma, split_moment
from .operators import Expectation, Quadrature
from .printing import indexed, symbol
from .rules import instance
from .sources import CASELLA, Source

__all__ = [
    "ACTIVATIONS", "gaussian_density", "masked_gaussian_lemma", "SELU_LAMBDA", "SELU_ALPHA",
    "derive_he_forward", "derive_he_backward", "derive_xavier", "derive_gain", "derive_relu_critical",
    "derive_gram_reduction", "SOURCES",
]

fan_in = sp.Symbol("fan_in", integer=True, positive=True)
fan_out = sp.Symbol("fan_out", integer=True, positive=True)
depth = sp.Symbol("depth", integer=True, positive=True)
c = sp.Symbol("c", positive=True)
q0 = sp.Symbol("q0", positive=True)
n_in = sp.Symbol("n_in", integer=True, positive=True)
n_out = sp.Symbol("n_out", integer=True, positive=True)
activation = sp.Symbol("activation", integer=True, positive=True)
negative_slope = sp.Symbol("negative_slope", real=True)

l = sp.Symbol("l", integer=True, positive=True)
j = sp.Symbol("j", integer=True, positive=True)
z = sp.Symbol("z", real=True)
h = sp.Symbol("h", real=True)
v = sp.Symbol("v", positive=True)  # a variance
jp = sp.Symbol("j'", integer=True, positive=True)  # the second index of a squared sum
i = sp.Symbol("i", integer=True, positive=True)
x = sp.IndexedBase("x")  # the fixed input x^0
W = sp.IndexedBase("W")  # the weights W^l_ij of the layer at hand
q = sp.Function("q")  # mean squared pre-activation of layer l
r = sp.Function("r")  # squared norm of the tangent (Jacobian-vector product) after layer l

# Activation codes for the gain claim (a choice parameter names them).
ACTIVATIONS = {"relu": 1, "leaky_relu": 2, "linear": 3, "tanh": 4, "selu": 5}
# SELU's constants (Klambauer et al. 2017), to 32 digits.
SELU_LAMBDA = sp.Float("1.0507009873554804934193349852946", 32)
SELU_ALPHA = sp.Float("1.6732632423543772848170429916717", 32)

HE = Source("he2015", "Kaiming He and Xiangyu Zhang and Shaoqing Ren and Jian Sun",
    "Delving deep into rectifiers: surpassing human-level performance on ImageNet classification",
    "Proceedings of the IEEE International Conference on Computer Vision (ICCV)", 2015, doi="10.1109/ICCV.2015.123",
    arxiv="1502.01852", pages="1026-1034", kind="inproceedings")
GLOROT = Source("glorot2010", "Xavier Glorot and Yoshua Bengio",
    "Understanding the difficulty of training deep feedforward neural networks",
    "Proceedings of the Thirteenth International Conference on Artificial Intelligence and Statistics (AISTATS), "
    "PMLR 9", 2010, url="https://proceedings.mlr.press/v9/glorot10a.html", pages="249-256", kind="inproceedings")
POOLE = Source("poole2016",
    "Ben Poole and Subhaneil Lahiri and Maithra Raghu and Jascha Sohl-Dickstein and Surya Ganguli",
    "Exponential expressivity in deep neural networks through transient chaos",
    "Advances in Neural Information Processing Systems 29 (NeurIPS)", 2016, arxiv="1606.05340",
    kind="inproceedings")
SCHOENHOLZ = Source("schoenholz2017",
    "Samuel S. Schoenholz and Justin Gilmer and Surya Ganguli and Jascha Sohl-Dickstein",
    "Deep information propagation", "International Conference on Learning Representations (ICLR)", 2017,
    arxiv="1611.01232", kind="inproceedings")
KLAMBAUER = Source("klambauer2017", "Günter Klambauer and Thomas Unterthiner and Andreas Mayr and Sepp Hochreiter",
    "Self-normalizing neural networks", "Advances in Neural Information Processing Systems 30 (NeurIPS)", 2017,
    arxiv="1706.02515", kind="inproceedings")
PYTORCH = Source("paszke2019", "Adam Paszke and Sam Gross and Francisco Massa and Adam Lerer and others",
    "PyTorch: an imperative style, high-performance deep learning library",
    "Advances in Neural Information Processing Systems 32 (NeurIPS)", 2019, arxiv="1912.01703",
    kind="inproceedings")
SOURCES = (HE, GLOROT, POOLE, SCHOENHOLZ, KLAMBAUER, PYTORCH, CASELLA)


_COV = r"the entries $W^l_{ij} \sim \mathcal{N}(0, c/n)$ are independent: the covariance of a row"


@cache
def derive_he_forward() -> Derivation:
    """E[||h^L||^2 / n_L] = c (c/2)^(L-1) q0, exactly at any width."""
    H = indexed("h^(l-1)", "h^{l-1}")
    rand = (W, H)
    relu = lambda t: sp.Max(t, 0)  # noqa: E731
    now, before = (symbol("E||h^l||^2", r"\mathbb{E}\,\|h^l\|^2", positive=True),
                   symbol("E||h^(l-1)||^2", r"\mathbb{E}\,\|h^{l-1}\|^2", positive=True))
    cov = hypothesis(Expectation(W[i, j] * W[i, jp], (W,)), "=", c / fan_in * sp.KroneckerDelta(j, jp), _COV)
    indep = hypothesis(
        Expectation(W[i, j] * W[i, jp] * relu(H[j]) * relu(H[jp]), rand), "=",
        Expectation(W[i, j] * W[i, jp], (W,)) * Expectation(relu(H[j]) * relu(H[jp]), rand),
        r"$W^l$ is independent of the past, so of $x^{l-1} = \operatorname{relu}(h^{l-1})$")
    sym = hypothesis(Expectation(relu(-H[j]) ** 2, rand), "=", Expectation(relu(H[j]) ** 2, rand),
                     r"the law of $W^{l-1}$ is symmetric (a centred Gaussian) and independent of $x^{l-2}$; "
                     r"$W \mapsto -W$ turns $h^{l-1}$ into $-h^{l-1}$, so $\operatorname{relu}(-h)^2$ and "
                     r"$\operatorname{relu}(h)^2$ have the same mean")
    split = equal_by_cases(H[j] ** 2, relu(H[j]) ** 2 + relu(-H[j]) ** 2, H[j],
                           "$h^2$ splits into its positive and negative parts")
    half = equal(Expectation(relu(H[j]) ** 2, rand), Expectation(H[j] ** 2, rand) / 2,
                 r"$\mathbb{E}[\operatorname{relu}(h)^2] = \mathbb{E}[h^2]/2$: the two parts have the same mean", uses=[sym, split])
    unit = indexed("h^l", "h^l")
    unit_def = define(unit[i], sp.Sum(W[i, j] * relu(H[j]), (j, 1, fan_in)), r"$h^l_i = \sum_j W^l_{ij} \operatorname{relu}(h^{l-1}_j)$")
    moment = equal(Expectation(unit[i] ** 2, rand), c / fan_in * sp.Sum(Expectation(relu(H[j]) ** 2, rand), (j, 1, fan_in)),
                   "linearity of expectation, independence and the Kronecker delta", uses=[unit_def, indep, cov])
    now_def = define(now, sp.Sum(Expectation(unit[i] ** 2, rand), (i, 1, fan_in)), r"$\mathbb{E}\,\|h^l\|^2$ over the $n$ units")
    before_def = define(before, sp.Sum(Expectation(H[j] ** 2, rand), (j, 1, fan_in)), "the same at layer $l - 1$")
    layer = equal(now, c / 2 * before, "every unit has the same mean square, and the half",
                  uses=[now_def, moment, half, before_def])
    q_now = define(q(l), now / fan_in, "the mean squared pre-activation of layer $l$")
    q_before = define(q(l - 1), before / fan_in, "and of layer $l - 1$")
    rule = equal(q(l), c * q(l - 1) / 2, "one ReLU layer multiplies $q$ by $c/2$", uses=[q_now, layer, q_before])
    h1, first_sum = indexed("h^1", "h^1"), symbol("E||h^1||^2", r"\mathbb{E}\,\|h^1\|^2", positive=True)
    h1_def = define(h1[i], sp.Sum(W[i, j] * x[j], (j, 1, fan_in)), "the first layer acts on the fixed input $x$")
    moment1 = equal(Expectation(h1[i] ** 2, (W,)), c / fan_in * sp.Sum(x[j] ** 2, (j, 1, fan_in)),
                    "linearity of expectation and the Kronecker delta", uses=[h1_def, cov])
    sum1 = define(first_sum, sp.Sum(Expectation(h1[i] ** 2, (W,)), (i, 1, fan_in)), "over the $n$ units")
    first = define(q(1), first_sum / fan_in, "$q$ at the first layer")
    norm = hypothesis(sp.Sum(x[j] ** 2, (j, 1, fan_in)), "=", fan_in * q0, r"$\|x\|^2/n = q_0$")
    initial = equal(q(1), c * q0, r"every unit of the first layer has mean square $(c/n)\,\|x\|^2$",
                    uses=[first, sum1, moment1, norm])
    solved = recurrence(q, depth, 1, c * q0 * (c / 2) ** (depth - 1), "induction on the depth", uses=[rule, initial])
    steps = [cov, indep, sym, split, half, unit_def, moment, now_def, before_def, layer, q_now, q_before, rule, h1_def, moment1, sum1, first, norm, initial, solved]
    return Derivation(
        "He forward: the mean squared pre-activation",
        steps,
        (q(depth), "=", c * q0 * (c / 2) ** (depth - 1)),
        assumptions=(
            r"widths $n_0 = \dots = n_L = n$, weights $W^l_{ij} \sim \mathcal{N}(0, c/n)$ independent, no biases",
            r"$x^l = \operatorname{relu}(h^l)$ for $l < L$, the input $x$ fixed with $\|x\|^2/n = q_0$",
        ),
        remarks=[equal(sp.Integral(z**2 * gaussian_density(z, v), (z, 0, sp.oo)), v / 2,
                       r"the half directly for a Gaussian $h \sim \mathcal{N}(0, v)$: $\mathbb{E}[\operatorname{relu}(h)^2] = v/2$")],
    )


def _tangent_layer(seq: sp.Function, name: str, tex: str) -> tuple[list[Step], Step, Step, Step]:
    """One hidden ReLU layer maps the tangent v^(l-1) to v^l = D^l W^l v^(l-1): E||v^l||^2 =
    (c/2) E||v^(l-1)||^2. Returns the steps, the rule ``seq(l) = c seq(l-1)/2``, the moment
    E[g_i^2] and the hypotheses used again by the last layer; ``tex`` is the LaTeX of ``name``."""
    V, g, hh = indexed(f"{name}^(l-1)", tex + "^{l-1}"), sp.IndexedBase("g"), sp.IndexedBase("h")
    t = lambda text: text.replace("@", tex)  # noqa: E731  the tangent's letter in a text
    rand = (W, V, g, hh)
    mask = lambda t: sp.Heaviside(t, 0)  # noqa: E731  relu'(t), with relu'(0) = 0
    now, before = (symbol(f"E||{name}^l||^2", t(r"\mathbb{E}\,\|@^l\|^2"), nonnegative=True),
                   symbol(f"E||{name}^(l-1)||^2", t(r"\mathbb{E}\,\|@^{l-1}\|^2"), nonnegative=True))
    cov = hypothesis(Expectation(W[i, j] * W[i, jp], (W,)), "=", c / fan_in * sp.KroneckerDelta(j, jp), _COV)
    indep = hypothesis(Expectation(W[i, j] * W[i, jp] * V[j] * V[jp], rand), "=",
                       Expectation(W[i, j] * W[i, jp], (W,)) * Expectation(V[j] * V[jp], rand),
                       t(r"$W^l$ is independent of the past, so of $@^{l-1}$"))
    null = hypothesis(Expectation(g[i] ** 2, rand), "=",
                      Expectation(mask(hh[i]) * g[i] ** 2, rand) + Expectation(mask(-hh[i]) * g[i] ** 2, rand),
                      t(r"$g_i^2 = g_i^2 \mathbf{1}\{h_i > 0\} + g_i^2 \mathbf{1}\{h_i < 0\}$ but on $h_i = 0$, which "
                        r"carries no mass: given the past, $h_i = W^l_i x^{l-1}$ is a non-degenerate Gaussian when "
                        r"$x^{l-1} \ne 0$, and $x^{l-1} = 0$ (a dead layer) forces $@^{l-1} = 0$, so $g_i = 0$"))
    sym = hypothesis(Expectation(mask(-hh[i]) * g[i] ** 2, rand), "=", Expectation(mask(hh[i]) * g[i] ** 2, rand),
                     r"$W^l$ is symmetric in law and independent of the past; $W \mapsto -W$ maps $(h_i, g_i)$ to $(-h_i, -g_i)$")
    half = equal(Expectation(mask(hh[i]) * g[i] ** 2, rand), Expectation(g[i] ** 2, rand) / 2,
                 r"the mask keeps half of $\mathbb{E}[g_i^2]$", uses=[null, sym])
    g_def = define(g[i], sp.Sum(W[i, j] * V[j], (j, 1, fan_in)), t(r"$g = W^l @^{l-1}$, $h = W^l x^{l-1}$"))
    before_def = define(before, Expectation(sp.Sum(V[j] ** 2, (j, 1, fan_in)), rand), "the squared norm before the layer")
    moment = equal(Expectation(g[i] ** 2, rand), c / fan_in * before, "linearity of expectation and the Kronecker delta",
                   uses=[g_def, indep, cov, before_def])
    now_def = define(now, sp.Sum(Expectation(mask(hh[i]) * g[i] ** 2, rand), (i, 1, fan_in)),
                     t(r"$@^l_i = \mathbf{1}\{h_i > 0\}\, g_i$ over the $n$ rows, and "
                       r"$\mathbf{1}\{h > 0\}^2 = \mathbf{1}\{h > 0\}$"))
    layer = equal(now, c / 2 * before, "each row keeps half of its mean square", uses=[now_def, half, moment])
    seq_now, seq_before = define(seq(l), now, "after layer $l$"), define(seq(l - 1), before, "after layer $l - 1$")
    rule = equal(seq(l), c * seq(l - 1) / 2, "a hidden ReLU layer multiplies the mean square by $c/2$",
                 uses=[seq_now, layer, seq_before])
    steps = [cov, indep, null, sym, half, g_def, before_def, moment, now_def, layer, seq_now, seq_before, rule]
    return steps, rule, moment, before


@cache
def derive_he_backward() -> Derivation:
    """E||J u||^2 = ||u||^2 c (c/2)^(L-1) fan_out / fan_in, exactly, dead layers included."""
    steps, rule, moment, before = _tangent_layer(r, "v", "v")
    start = hypothesis(r(0), "=", 1, "$v^0 = u$, a unit vector")
    hidden = recurrence(r, l, 0, (c / 2) ** l, r"induction over the hidden layers $l = 0, \dots, L - 1$", uses=[rule, start])
    at_last = instance(hidden, l, depth - 1, 0, "the recurrence at $l = L - 1$")
    out = symbol("E||v^L||^2", r"\mathbb{E}\,\|v^L\|^2", nonnegative=True)
    out_def = define(out, sp.Sum(moment.lhs, (i, 1, fan_out)),
                     r"the last layer is linear: $v^L = W^L v^{L-1}$, $n_{\mathrm{out}}$ rows, no mask")
    last = equal(out, fan_out * c / fan_in * before, r"each of the $n_{\mathrm{out}}$ rows has $\mathbb{E}[g_i^2] = (c/n)\,\mathbb{E}\,\|v^{L-1}\|^2$",
                 uses=[out_def, moment])
    r_out, r_before = define(r(depth), out, "the output"), define(r(depth - 1), before, "the last hidden layer, at $l = L$")
    output = equal(r(depth), fan_out * c / fan_in * r(depth - 1), "the linear last layer", uses=[r_out, last, r_before])
    return Derivation(
        "He backward: the input-output Jacobian",
        [*steps, start, hidden, at_last, out_def, last, r_out, r_before, output],
        (r(depth), "=", c * (c / 2) ** (depth - 1) * fan_out / fan_in),
        uses=[output, at_last],
        assumptions=(
            r"the network of the forward claim with output width $n_{\mathrm{out}}$ and a linear last layer",
            r"$\operatorname{relu}'(0) = 0$; if a layer is inactive (all $h^l \le 0$, probability $2^{-n}$ per layer) "
            r"then $D^l = 0$ and $v^l = 0$, and the recurrence holds on that event too: both of its sides vanish",
        ),
        remarks=masked_gaussian_lemma(),
    )


@cache
def derive_relu_critical() -> Derivation:
    """chi_1 = c/2: perturbations grow by (c/2)^L, critical at c = 2."""
    chi = sp.Symbol("chi_1", positive=True)
    growth = sp.Function("G")
    steps, rule, _, _ = _tangent_layer(growth, "delta", r"\delta")
    chi_def = define(chi, c * sp.Integral(gaussian_density(z, v), (z, 0, sp.oo)),
                     r"the mean-field $\chi_1 = \sigma_w^2\,\mathbb{E}[\operatorname{relu}'(h)^2]$, $h \sim \mathcal{N}(0, v)$, "
                     r"where $\operatorname{relu}'(h)^2 = \mathbf{1}\{h > 0\}$")
    chi_value = equal(chi, c / 2, "half the Gaussian mass is positive", uses=[chi_def])
    per_layer = equal(growth(l), chi * growth(l - 1), r"so each layer multiplies the growth by $\chi_1$", uses=[rule, chi_value])
    start = hypothesis(growth(0), "=", 1, r"the input perturbation $\delta^0$ is fixed with $\|\delta^0\| = 1$, so "
                       r"$G(l) = \mathbb{E}\,\|\delta^l\|^2/\|\delta^0\|^2$ is the squared norm after layer $l$")
    solved = recurrence(growth, depth, 0, chi**depth, "induction on the depth", uses=[per_layer, start])
    return Derivation(
        "ReLU critical line: growth of perturbations",
        [*steps, chi_def, chi_value, per_layer, start, solved],
        (growth(depth), "=", (c / 2) ** depth),
        uses=[solved, chi_value],
        assumptions=(
            r"$L$ ReLU layers of width $n$, weights $\mathcal{N}(0, c/n)$ ($\sigma_w^2 = c$), no biases",
            r"$\delta^l = D^l W^l \delta^{l-1}$: an infinitesimal perturbation of the input",
        ),
        remarks=[solutions(sp.Eq(chi, 1), c, sp.Interval.open(0, sp.oo), sp.FiniteSet(2),
                           r"the critical line $\chi_1 = 1$: ordered (shrinking perturbations) below, chaotic above",
                           uses=[chi_value])],
    )


@cache
def derive_xavier() -> Derivation:
    """Forward and backward variance factors of Glorot initialization; their product <= 1."""
    var = symbol("sigma^2", r"\sigma^2", positive=True)
    F, B, P = sp.symbols("F B P", positive=True)
    Wx, d = sp.IndexedBase("W"), sp.IndexedBase("d")
    k, ip = sp.Symbol("k", integer=True, positive=True), sp.Symbol("i'", integer=True, positive=True)
    product = 4 * n_in * n_out / (n_in + n_out) ** 2
    glorot = hypothesis(var, "=", 2 / (n_in + n_out), r"Glorot's variance: the harmonic compromise of $1/n_{\mathrm{in}}$ and $1/n_{\mathrm{out}}$")
    rows = hypothesis(Expectation(Wx[k, j] * Wx[k, jp], (Wx,)), "=", var * sp.KroneckerDelta(j, jp),
                      r"the entries $W_{kj} \sim \mathcal{N}(0, \sigma^2)$ are independent: the covariance of a row")
    cols = hypothesis(Expectation(Wx[i, k] * Wx[ip, k], (Wx,)), "=", var * sp.KroneckerDelta(i, ip),
                      "and of a column")
    forward = define(F, n_in * Expectation(sp.Sum(Wx[k, j] * x[j], (j, 1, n_in)) ** 2, (Wx,)) / sp.Sum(x[j] ** 2, (j, 1, n_in)),
                     r"forward factor: the mean square $\mathbb{E}[(W x)_k^2]$ of an output unit (every row $k$ alike), "
                     r"relative to $\|x\|^2/n_{\mathrm{in}}$")
    backward = define(B, n_out * Expectation(sp.Sum(Wx[i, k] * d[i], (i, 1, n_out)) ** 2, (Wx,)) / sp.Sum(d[i] ** 2, (i, 1, n_out)),
                      r"backward factor: $\mathbb{E}[(W^\top d)_k^2]$ of an input unit (every column $k$ alike), "
                      r"relative to $\|d\|^2/n_{\mathrm{out}}$")
    f_value = equal(F, 2 * n_in / (n_in + n_out), "linearity of expectation and the Kronecker delta", uses=[forward, rows, glorot])
    b_value = equal(B, 2 * n_out / (n_in + n_out), "the same over the columns", uses=[backward, cols, glorot])
    round_trip = define(P, F * B, "the round trip: forward then backward factor")
    value = equal(P, product, "the product of the two factors", uses=[round_trip, f_value, b_value])
    steps = [glorot, rows, cols, forward, backward, f_value, b_value, round_trip, value]
    return Derivation(
        "Xavier: forward and backward factors",
        steps,
        (P, "=", product),
        assumptions=(r"a linear layer $W$ of shape $n_{\mathrm{out}} \times n_{\mathrm{in}}$, "
                     r"$W_{ij} \sim \mathcal{N}(0, 2/(n_{\mathrm{in}} + n_{\mathrm{out}}))$ independent",),
        remarks=[
            equal(1 - P, (n_in - n_out) ** 2 / (n_in + n_out) ** 2, r"the gap to $1$ is a square, so $P \le 1$", uses=[value]),
            solutions(sp.Eq(P, 1), n_out, sp.Interval.open(0, sp.oo), sp.FiniteSet(n_in), r"equality iff $n_{\mathrm{in}} = n_{\mathrm{out}}$",
                      uses=[value]),
        ],
    )


def _selu_moment(lam: sp.Basic, alpha: sp.Basic) -> sp.Basic:
    """E[selu(z)^2] in closed form, by E[e^(t z) 1{z < 0}] = e^(t^2/2) (1 - erf(t/sqrt 2))/2."""
    tail = sp.exp(2) * (1 - sp.erf(sp.sqrt(2))) / 2 - sp.sqrt(sp.E) * (1 - sp.erf(1 / sp.sqrt(2))) + sp.Rational(1, 2)
    return lam**2 / 2 + lam**2 * alpha**2 * tail


@cache
def derive_gain() -> Derivation:
    """g = 1/sqrt(E[phi(z)^2]) per activation; tanh has no closed form (quadrature)."""
    a = negative_slope
    lam, alpha = sp.symbols("lambda alpha", positive=True)
    rand = (z,)
    phis = {
        "relu": (sp.Max(z, 0), split_moment(z, sp.Integer(0)), r"$\operatorname{relu}(z) = z$ above $0$ and $0$ below"),
        "leaky_relu": (sp.Piecewise((z, z > 0), (a * z, True)), split_moment(z, a * z), "slope $a$ below $0$"),
        "linear": (z, sp.Integral(z**2 * gaussian_density(z, 1), (z, -sp.oo, sp.oo)), r"$\phi(z) = z$"),
        "tanh": (sp.tanh(z), Quadrature(sp.tanh(z) ** 2 * gaussian_density(z, 1), (z, -sp.oo, sp.oo)),
                 "no closed form: left to quadrature"),
        "selu": (sp.Piecewise((lam * z, z > 0), (lam * alpha * (sp.exp(z) - 1), True)),
                 split_moment(lam * z, lam * alpha * (sp.exp(z) - 1)), r"$\lambda z$ above $0$, $\lambda \alpha\,(e^z - 1)$ below"),
    }
    laws = {name: hypothesis(Expectation(phi**2, rand), "=", integral, r"$z \sim \mathcal{N}(0, 1)$: the mean of $\phi(z)^2$, " + why)
            for name, (phi, integral, why) in phis.items()}
    moments = {
        "relu": equal(laws["relu"].lhs, sp.Rational(1, 2), "half the second moment of $z$", uses=[laws["relu"]]),
        "leaky_relu": equal(laws["leaky_relu"].lhs, (1 + a**2) / 2, "each half line carries half", uses=[laws["leaky_relu"]]),
        "linear": equal(laws["linear"].lhs, 1, "the variance of $z$", uses=[laws["linear"]]),
        "selu": equal(laws["selu"].lhs, _selu_moment(lam, alpha), "Gaussian integrals of $e^z$ and $e^{2z}$ over $z < 0$",
                      uses=[laws["selu"]]),
    }
    constants = [define(lam, SELU_LAMBDA, r"SELU's $\lambda$ (Klambauer et al. 2017), 32 digits"),
                 define(alpha, SELU_ALPHA, r"SELU's $\alpha$ (Klambauer et al. 2017), 32 digits")]
    g = sp.Symbol("g", positive=True)
    codes = [(name, sp.Eq(activation, ACTIVATIONS[name])) for name in ACTIVATIONS]
    gain_def = define(g, sp.Piecewise(*[(1 / sp.sqrt(laws[name].lhs), cond) for name, cond in codes]),
                      r"the gain that keeps $\mathbb{E}[(g\,\phi(z))^2] = \mathbb{E}[z^2] = 1$")
    selu_value = _selu_moment(SELU_LAMBDA, SELU_ALPHA)
    gain = sp.Piecewise(
        (sp.sqrt(2), codes[0][1]),
        (sp.sqrt(2 / (1 + a**2)), codes[1][1]),
        (sp.Integer(1), codes[2][1]),
        (1 / sp.sqrt(phis["tanh"][1]), codes[3][1]),
        (1 / sp.sqrt(selu_value), codes[4][1]),
    )
    value = equal(g, gain, "the moments, branch by branch", uses=[gain_def, *moments.values(), laws["tanh"], *constants])
    return Derivation(
        "Activation gains",
        [*laws.values(), *moments.values(), *constants, gain_def, value],
        (g, "=", gain),
        assumptions=(r"$z \sim \mathcal{N}(0, 1)$; the gain $g$ scales the weights' standard deviation so that "
                     r"$\mathbb{E}[(g\,\phi(z))^2] = 1$",),
    )


@cache
def derive_gram_reduction() -> Derivation:
    """The exact reduction the fast ``gram`` method samples: one random ReLU layer acts on
    the Gram matrix of (x, v) through a Binomial count and chi-square variables. Checked here:
    the covariance of a row's pair (h_i, g_i), the variance of the residual e_i, and that the
    sampled C' has the conditional mean s C K the Jacobian's recurrence needs."""
    A, B, C = sp.symbols("A B C", positive=True)  # ||x||^2, x.v, ||v||^2 before the layer
    s = sp.Symbol("s", positive=True)  # c/n
    K = sp.Symbol("K", integer=True, nonnegative=True)
    vv = sp.IndexedBase("v")
    hI, gI = sp.IndexedBase("h"), sp.IndexedBase("g")
    hs, gs = hI[i], gI[i]
    rand = (W, hI, gI)
    rho = B / A
    A1, C1, var_e = sp.Symbol("A'"), sp.Symbol("C'"), symbol("sigma_e^2", r"\sigma_e^2", positive=True)
    chi_K, chi_K1, zeta = (symbol("chi2_K", r"\chi^2_K", positive=True), symbol("chi2_(K-1)", r"\chi^2_{K-1}", positive=True),
                           sp.Symbol("zeta", positive=True))
    draws = (chi_K, chi_K1, zeta)
    cov = hypothesis(Expectation(W[i, j] * W[i, jp], rand), "=", s * sp.KroneckerDelta(j, jp),
                     r"$W_{ij} \sim \mathcal{N}(0, s)$ independent of the past")
    jpp = sp.Symbol("j''", integer=True, positive=True)
    cov2 = hypothesis(Expectation(W[i, jp] * W[i, jpp], rand), "=", s * sp.KroneckerDelta(jp, jpp),
                      "the same covariance, written with the indices $j'$, $j''$ of $g_i^2$")
    h_def = define(hs, sp.Sum(W[i, j] * x[j], (j, 1, fan_in)), "$h_i = W_i x$")
    g_def = define(gs, sp.Sum(W[i, jp] * vv[jp], (jp, 1, fan_in)), "$g_i = W_i v$")
    a_def = define(A, sp.Sum(x[j] ** 2, (j, 1, fan_in)), r"$\|x\|^2$")
    b_def = define(B, sp.Sum(x[j] * vv[j], (j, 1, fan_in)), r"$x \cdot v$")
    c_def = define(C, sp.Sum(vv[j] ** 2, (j, 1, fan_in)), r"$\|v\|^2$")
    hh = equal(Expectation(hs**2, rand), s * A, "linearity and the Kronecker delta", uses=[h_def, cov, a_def])
    hg = equal(Expectation(hs * gs, rand), s * B, "the covariance of the pair", uses=[h_def, g_def, cov, b_def])
    gg = equal(Expectation(gs**2, rand), s * C, "the variance of $g_i$", uses=[g_def, cov2, c_def])
    e_def = define(var_e, Expectation((gs - rho * hs) ** 2, rand), r"the variance of $e_i = g_i - (B/A)\,h_i$")
    e_value = equal(var_e, s * (C - B**2 / A), "expand the square", uses=[e_def, gg, hg, hh])
    a1_def = define(A1, s * A * chi_K, r"$A'$, the sum of $h_i^2$ over the $K$ active rows: $s A \chi^2_K$ with "
                    r"$K \sim \mathrm{Binomial}(n, 1/2)$")
    c1_def = define(C1, rho**2 * A1 + 2 * rho * sp.sqrt(A1) * sp.sqrt(var_e) * zeta + var_e * zeta**2 + var_e * chi_K1,
                    r"split $e$ on the active rows along $h$ and across it: $\zeta \sim \mathcal{N}(0, 1)$, "
                    r"$\chi^2_{K-1}$ with $K - 1$ degrees")
    moments = [
        hypothesis(Expectation(chi_K, draws), "=", K, "the mean of a chi-square with $K$ degrees"),
        hypothesis(Expectation(chi_K1, draws), "=", K - 1, "with $K - 1$ degrees"),
        hypothesis(Expectation(zeta**2, draws), "=", 1, r"$\zeta \sim \mathcal{N}(0, 1)$"),
        hypothesis(Expectation(sp.sqrt(chi_K) * zeta, draws), "=", 0, r"$\zeta$ is centred and independent of $\chi^2_K$"),
    ]
    mean = equal(Expectation(C1, draws), s * C * K, r"$\mathbb{E}[C' \mid K] = s C K$, so $\mathbb{E}[C'] = (c/n)\,C n/2 = (c/2)\,C$: "
                 "the Jacobian's recurrence",
                 uses=[c1_def, a1_def, e_value, *moments])
    steps = [cov, cov2, h_def, g_def, a_def, b_def, c_def, hh, hg, gg, e_def, e_value, a1_def, c1_def, *moments, mean]
    return Derivation(
        "Exact Gram-matrix reduction of a random ReLU layer",
        steps,
        (Expectation(C1, draws), "=", s * C * K),
        assumptions=(r"$W \sim \mathcal{N}(0, s)$ with $s = c/n$, independent of the past; $x \ne 0$",
                     r"given the past, the rows $(h_i, g_i)$ are independent centred Gaussian pairs; $K$, $\chi^2_K$, "
                     r"$\chi^2_{K-1}$ and $\zeta$ are the sampler's draws (their joint law is the reduction's claim, tested numerically)"),
        remarks=[equal(Expectation(gs * hs - rho * hs**2, rand), 0, "$e_i$ is uncorrelated with $h_i$ (so independent: a Gaussian pair)",
                       uses=[hg, hh])],
    )
