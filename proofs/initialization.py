r"""Initialization of ReLU networks: He, Xavier, activation gains, the ReLU critical line.

The network: widths :math:`n_0 = \dots = n_{L-1} = n` (``fan_in``), weights
:math:`W^l_{ij} \sim N(0, c/n)` independent, pre-activations :math:`h^l = W^l x^{l-1}`,
activations :math:`x^l = \operatorname{relu}(h^l)`, input :math:`x^0 = x` with
:math:`\|x\|^2/n = q_0`. Two facts carry everything, and both hold **exactly at finite
width**:

- conditionally on :math:`x^{l-1}`, each :math:`h^l_i` is a centred Gaussian of variance
  :math:`c\|x^{l-1}\|^2/n` (a fixed combination of independent Gaussians), so
  :math:`E[\operatorname{relu}(h)^2] = \operatorname{Var}(h)/2`;
- for a centred jointly Gaussian pair :math:`(h, g)`,
  :math:`E[g^2 1\{h>0\}] = E[g^2]/2`, which gives the Jacobian's recurrence.

Symbols use the claims' parameter names: ``fan_in`` (n), ``fan_out``, ``depth`` (L),
``c`` (weight variance times fan-in; :math:`\sigma_w^2` in mean-field papers), ``q0``,
``n_in``, ``n_out``, ``activation`` (a code, see :data:`ACTIVATIONS`), ``negative_slope``.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from .derivation import Derivation, cite, define, equal, recurrence, relation, solutions, substitute
from .sources import CASELLA, Source

__all__ = [
    "ACTIVATIONS",
    "gaussian_density",
    "masked_gaussian_lemma",
    "SELU_LAMBDA",
    "SELU_ALPHA",
    "derive_he_forward",
    "derive_he_backward",
    "derive_xavier",
    "derive_gain",
    "derive_relu_critical",
    "derive_gram_reduction",
    "SOURCES",
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
e = sp.Symbol("e", real=True)
v = sp.Symbol("v", positive=True)  # a variance
beta = sp.Symbol("beta", real=True)
sigma_e = sp.Symbol("sigma_e", positive=True)
x = sp.IndexedBase("x")
E = sp.Function("E")  # an expectation, written out; the steps say what it equals and why
q = sp.Function("q")  # mean squared pre-activation of layer l
r = sp.Function("r")  # squared norm of the tangent (Jacobian-vector product) after layer l

# Activation codes for the gain claim (a choice parameter names them).
ACTIVATIONS = {"relu": 1, "leaky_relu": 2, "linear": 3, "tanh": 4, "selu": 5}
# SELU's constants (Klambauer et al. 2017), to 32 digits.
SELU_LAMBDA = sp.Float("1.0507009873554804934193349852946", 32)
SELU_ALPHA = sp.Float("1.6732632423543772848170429916717", 32)

HE = Source(
    "he2015",
    "Kaiming He and Xiangyu Zhang and Shaoqing Ren and Jian Sun",
    "Delving deep into rectifiers: surpassing human-level performance on ImageNet classification",
    "Proceedings of the IEEE International Conference on Computer Vision (ICCV)",
    2015,
    doi="10.1109/ICCV.2015.123",
    arxiv="1502.01852",
    pages="1026-1034",
    kind="inproceedings",
)
GLOROT = Source(
    "glorot2010",
    "Xavier Glorot and Yoshua Bengio",
    "Understanding the difficulty of training deep feedforward neural networks",
    "Proceedings of the Thirteenth International Conference on Artificial Intelligence and Statistics (AISTATS), "
    "PMLR 9",
    2010,
    url="https://proceedings.mlr.press/v9/glorot10a.html",
    pages="249-256",
    kind="inproceedings",
)
POOLE = Source(
    "poole2016",
    "Ben Poole and Subhaneil Lahiri and Maithra Raghu and Jascha Sohl-Dickstein and Surya Ganguli",
    "Exponential expressivity in deep neural networks through transient chaos",
    "Advances in Neural Information Processing Systems 29 (NeurIPS)",
    2016,
    arxiv="1606.05340",
    kind="inproceedings",
)
SCHOENHOLZ = Source(
    "schoenholz2017",
    "Samuel S. Schoenholz and Justin Gilmer and Surya Ganguli and Jascha Sohl-Dickstein",
    "Deep information propagation",
    "International Conference on Learning Representations (ICLR)",
    2017,
    arxiv="1611.01232",
    kind="inproceedings",
)
KLAMBAUER = Source(
    "klambauer2017",
    "Günter Klambauer and Thomas Unterthiner and Andreas Mayr and Sepp Hochreiter",
    "Self-normalizing neural networks",
    "Advances in Neural Information Processing Systems 30 (NeurIPS)",
    2017,
    arxiv="1706.02515",
    kind="inproceedings",
)
PYTORCH = Source(
    "paszke2019",
    "Adam Paszke and Sam Gross and Francisco Massa and Adam Lerer and others",
    "PyTorch: an imperative style, high-performance deep learning library",
    "Advances in Neural Information Processing Systems 32 (NeurIPS)",
    2019,
    arxiv="1912.01703",
    kind="inproceedings",
)
SOURCES = (HE, GLOROT, POOLE, SCHOENHOLZ, KLAMBAUER, PYTORCH, CASELLA)


def gaussian_density(t: sp.Symbol, variance: sp.Basic) -> sp.Basic:
    """The centred Gaussian density of ``variance`` at ``t``."""
    return sp.exp(-(t**2) / (2 * variance)) / sp.sqrt(2 * sp.pi * variance)


def _preactivation_lemma() -> list:
    """E[h_i^2 | x] = (c/n) ||x||^2 for h_i = sum_j W_ij x_j, W_ij ~ N(0, c/n) independent."""
    h_i = sp.Sum(sp.Symbol("W_j") * x[j], (j, 1, fan_in))
    spread = sp.Sum(c / fan_in * x[j] ** 2, (j, 1, fan_in))
    return [
        cite(E(h_i**2), "=", spread, "variance of a sum of independent centred terms, Var W_ij = c/n", CASELLA),
        equal(spread, c / fan_in * sp.Sum(x[j] ** 2, (j, 1, fan_in)), "a constant factor leaves the sum"),
    ]


def _relu_moment_lemma() -> list:
    """E[relu(h)^2] = v/2 for h ~ N(0, v)."""
    return [
        equal(
            sp.Integral(z**2 * gaussian_density(z, v), (z, 0, sp.oo)),
            v / 2,
            "E[relu(h)^2] for h ~ N(0, v): only h > 0 contributes",
        )
    ]


def masked_gaussian_lemma() -> list:
    """E[g^2 1{h>0}] = E[g^2] / 2 for a centred Gaussian pair, g = beta h + e, e independent."""
    g = beta * h + e
    masked = sp.Integral(g**2 * gaussian_density(h, v) * gaussian_density(e, sigma_e**2), (e, -sp.oo, sp.oo), (h, 0, sp.oo))
    full = sp.Integral(g**2 * gaussian_density(h, v) * gaussian_density(e, sigma_e**2), (e, -sp.oo, sp.oo), (h, -sp.oo, sp.oo))
    return [
        equal(masked, (beta**2 * v + sigma_e**2) / 2, "E[g^2 1{h>0}], writing g = beta h + e with e independent of h"),
        equal(full, beta**2 * v + sigma_e**2, "E[g^2] over the whole line"),
    ]


@cache
def derive_he_forward() -> Derivation:
    """E[||h^L||^2 / n_L] = c (c/2)^(L-1) q0, exactly at any width."""
    steps = [define(q(l), E(sp.Symbol("|h^l|^2")) / fan_in, "mean squared pre-activation of layer l")]
    steps += _preactivation_lemma() + _relu_moment_lemma()
    per_layer = c / fan_in * (fan_in * q(l - 1) / 2)
    steps += [
        cite(q(l), "=", per_layer, "tower property: E||h^l||^2 = (c/n) E||x^(l-1)||^2 (first lemma), and "
             "E||x^(l-1)||^2 = n q(l-1)/2 (second lemma: given x^(l-2), h^(l-1) is centred Gaussian)", CASELLA),
        equal(per_layer, c * q(l - 1) / 2, "one layer multiplies q by c/2"),
        recurrence(q, depth, c * q(depth - 1) / 2, 1, c * q0, c * q0 * (c / 2) ** (depth - 1),
                   "solve q(l) = (c/2) q(l-1) from q(1) = (c/n)||x||^2 = c q0 (first lemma, the input fixed)"),
    ]
    return Derivation(
        "He forward: the mean squared pre-activation",
        steps,
        (q(depth), "=", c * q0 * (c / 2) ** (depth - 1)),
        assumptions=(
            "widths n_0 = ... = n_L = n, weights W^l_ij ~ N(0, c/n) independent, no biases",
            "x^l = relu(h^l) for l < L, the input x fixed with ||x||^2/n = q0",
        ),
    )


@cache
def derive_he_backward() -> Derivation:
    """E||J u||^2 = ||u||^2 c (c/2)^(L-1) fan_out / fan_in, exactly, dead layers included."""
    steps = [
        define(r(l), E(sp.Symbol("|v^l|^2")), "v^l = D^l W^l v^(l-1), v^0 = u with ||u|| = 1, D^l = diag(1{h^l > 0})"),
    ]
    steps += masked_gaussian_lemma()
    hidden = fan_in * (c / fan_in * r(l - 1)) / 2
    steps += [
        cite(r(l), "=", hidden, "each of the n rows gives E[g_i^2 1{h_i > 0}] = E[g_i^2]/2 (lemma), "
             "E[g_i^2 | past] = (c/n)||v^(l-1)||^2 (a centred Gaussian pair given the past)", CASELLA),
        equal(hidden, c * r(l - 1) / 2, "a hidden ReLU layer multiplies the tangent's mean square by c/2"),
        recurrence(r, l, c * r(l - 1) / 2, 0, 1, (c / 2) ** l, "solve r(l) = (c/2) r(l-1), r(0) = ||u||^2 = 1"),
    ]
    last = fan_out * (c / fan_in) * r(depth - 1)
    steps += [
        cite(r(depth), "=", last, "the last layer is linear: fan_out rows, each E[g_i^2] = (c/n) ||v^(L-1)||^2", CASELLA),
        substitute(last, {r(depth - 1): (c / 2) ** (depth - 1)}, "the recurrence at l = L - 1"),
        equal(fan_out * (c / fan_in) * (c / 2) ** (depth - 1), c * (c / 2) ** (depth - 1) * fan_out / fan_in),
    ]
    return Derivation(
        "He backward: the input-output Jacobian",
        steps,
        (r(depth), "=", c * (c / 2) ** (depth - 1) * fan_out / fan_in),
        assumptions=(
            "the network of the forward claim with output width fan_out and a linear last layer",
            "relu'(0) = 0; if a layer is inactive (all h^l <= 0, probability 2^-n per layer) then D^l = 0 and "
            "v^l = 0, and the recurrence holds on that event too: both of its sides vanish",
        ),
    )


@cache
def derive_relu_critical() -> Derivation:
    """chi_1 = c/2: perturbations grow by (c/2)^L, critical at c = 2."""
    chi = sp.Symbol("chi_1", positive=True)
    slope = c * sp.Integral(gaussian_density(z, v), (z, 0, sp.oo))
    growth = sp.Function("G")
    steps = [
        cite(chi, "=", c * E(sp.Symbol("relu'(h)^2")), "slope of the correlation map at c = 1 (mean-field signal propagation)", SCHOENHOLZ),
        cite(c * E(sp.Symbol("relu'(h)^2")), "=", slope, "relu'(h)^2 = 1{h > 0} for h ~ N(0, v)", POOLE),
        equal(slope, c / 2, "half the Gaussian mass is positive"),
        solutions(sp.Eq(c / 2, 1), c, sp.Interval.open(0, sp.oo), sp.FiniteSet(2),
                  "the critical line chi_1 = 1: ordered (shrinking perturbations) below, chaotic above"),
    ]
    steps += masked_gaussian_lemma()
    steps += [
        cite(growth(l), "=", c / 2 * growth(l - 1), "every layer is a ReLU layer: each row keeps half of E[g_i^2] "
             "= (c/n)||delta^(l-1)||^2 (lemma), dead layers included", CASELLA),
        recurrence(growth, depth, c / 2 * growth(depth - 1), 0, 1, (c / 2) ** depth,
                   "G(L) = E||delta^L||^2 / ||delta^0||^2, G(0) = 1"),
    ]
    return Derivation(
        "ReLU critical line: growth of perturbations",
        steps,
        (growth(depth), "=", (c / 2) ** depth),
        assumptions=(
            "L ReLU layers of width n, weights N(0, c/n) (sigma_w^2 = c), no biases",
            "delta^l = D^l W^l delta^(l-1): an infinitesimal perturbation of the input",
        ),
    )


@cache
def derive_xavier() -> Derivation:
    """Forward and backward variance factors of Glorot initialization; their product <= 1."""
    var = sp.Symbol("sigma^2", positive=True)
    F, B, P = sp.symbols("F B P", positive=True)
    product = 4 * n_in * n_out / (n_in + n_out) ** 2
    steps = [
        define(var, 2 / (n_in + n_out), "Glorot's variance: the harmonic compromise of 1/n_in and 1/n_out"),
        cite(F, "=", n_in * var, "forward: E||Wx||^2/n_out = Var[W] ||x||^2, per unit relative to ||x||^2/n_in", CASELLA),
        cite(B, "=", n_out * var, "backward: E||W^T d||^2/n_in = Var[W] ||d||^2, per unit relative to ||d||^2/n_out", CASELLA),
        define(P, F * B, "the round trip: forward then backward factor"),
        substitute(F * B, {F: n_in * var, B: n_out * var}),
        substitute(n_in * var * n_out * var, {var: 2 / (n_in + n_out)}),
        equal(n_in * n_out * (2 / (n_in + n_out)) ** 2, product),
        equal(1 - product, (n_in - n_out) ** 2 / (n_in + n_out) ** 2, "the gap to 1 is a square"),
        relation((n_in - n_out) ** 2 / (n_in + n_out) ** 2, ">=", 0, "so the product is at most 1"),
        solutions(sp.Eq(product, 1), n_out, sp.Interval.open(0, sp.oo), sp.FiniteSet(n_in), "equality iff n_in = n_out"),
    ]
    return Derivation(
        "Xavier: forward and backward factors",
        steps,
        (P, "=", product),
        assumptions=("a linear layer W of shape n_out x n_in, W_ij ~ N(0, 2/(n_in + n_out)) independent",),
    )


@cache
def _gain_values() -> dict[str, sp.Basic]:
    """The gain 1/sqrt(E[phi(z)^2]) of each activation, z ~ N(0, 1)."""
    a = negative_slope
    lam, alpha = sp.symbols("lambda alpha", positive=True)
    leaky = sp.Integral(z**2 * gaussian_density(z, 1), (z, 0, sp.oo)) + sp.Integral(a**2 * z**2 * gaussian_density(z, 1), (z, -sp.oo, 0))
    selu = sp.Integral(lam**2 * z**2 * gaussian_density(z, 1), (z, 0, sp.oo)) + sp.Integral(
        lam**2 * alpha**2 * (sp.exp(z) - 1) ** 2 * gaussian_density(z, 1), (z, -sp.oo, 0)
    )
    return {
        "leaky": leaky,
        "selu": selu,
        "tanh": sp.Integral(sp.tanh(z) ** 2 * gaussian_density(z, 1), (z, -sp.oo, sp.oo)),
        "lam": lam,
        "alpha": alpha,
    }


@cache
def derive_gain() -> Derivation:
    """g = 1/sqrt(E[phi(z)^2]) per activation; tanh has no closed form (quadrature)."""
    parts = _gain_values()
    a = negative_slope
    second = sp.Function("m2")
    selu_moment = sp.simplify(parts["selu"].doit())
    selu_value = selu_moment.subs({parts["lam"]: SELU_LAMBDA, parts["alpha"]: SELU_ALPHA})
    gain = sp.Piecewise(
        (sp.sqrt(2), sp.Eq(activation, ACTIVATIONS["relu"])),
        (sp.sqrt(2 / (1 + a**2)), sp.Eq(activation, ACTIVATIONS["leaky_relu"])),
        (sp.Integer(1), sp.Eq(activation, ACTIVATIONS["linear"])),
        (1 / sp.sqrt(parts["tanh"]), sp.Eq(activation, ACTIVATIONS["tanh"])),
        (1 / sp.sqrt(selu_value), sp.Eq(activation, ACTIVATIONS["selu"])),
    )
    g = sp.Symbol("g", positive=True)
    steps = [
        define(g, 1 / sp.sqrt(second(sp.Symbol("phi"))), "the gain that keeps E[(g phi(z))^2] = E[z^2] = 1"),
        equal(parts["leaky"], (1 + a**2) / 2, "leaky ReLU with slope a: relu is a = 0, linear is a = 1"),
        equal(parts["selu"], selu_moment, "SELU, symbolically in lambda and alpha"),
        cite(selu_moment, "=", selu_value, "SELU's constants lambda, alpha (32 digits)", KLAMBAUER),
        define(sp.Symbol("m2(tanh)"), parts["tanh"], "tanh: no closed form; evaluated by mpmath quadrature"),
        define(g, gain, "so the gain, by activation (codes: relu 1, leaky_relu 2, linear 3, tanh 4, selu 5)"),
    ]
    return Derivation(
        "Activation gains",
        steps,
        (g, "=", gain),
        assumptions=("z ~ N(0, 1); the gain g scales the weights' standard deviation so that E[(g phi(z))^2] = 1",),
    )


@cache
def derive_gram_reduction() -> Derivation:
    """The exact reduction the fast ``gram`` method samples: one random ReLU layer acts on
    the Gram matrix of (x, v) through a Binomial count and chi-square variables."""
    A, B, C = sp.symbols("A B C", positive=True)  # ||x||^2, x.v, ||v||^2 before the layer
    s = sp.Symbol("s", positive=True)  # c/n
    K = sp.Symbol("K", integer=True, nonnegative=True)
    rho = B / A
    var_e = s * (C - B**2 / A)
    A1, C1 = sp.Symbol("A'"), sp.Symbol("C'")
    chi_K, chi_K1, zeta = sp.symbols("chi2_K chi2_(K-1) zeta", positive=True)
    steps = [
        cite(sp.Symbol("Cov(h_i, g_i)"), "=", s * sp.Matrix([[A, B], [B, C]]),
             "given the past, the rows (h_i, g_i) = (W_i x, W_i v) are independent centred Gaussian pairs", CASELLA),
        equal(s * B - rho * (s * A), 0, "e_i = g_i - (B/A) h_i is uncorrelated with h_i, hence independent of it"),
        equal(s * C - rho**2 * (s * A), var_e, "the variance of e_i"),
        cite(K, "=", sp.Symbol("#{i : h_i > 0}"), "K ~ Binomial(n, 1/2), independent of |h_i| and of e (symmetry of h_i)", CASELLA),
        cite(A1, "=", s * A * chi_K, "A' = sum over the K active rows of h_i^2: a chi-square with K degrees", CASELLA),
        cite(C1, "=", rho**2 * A1 + 2 * rho * sp.sqrt(A1 * var_e) * zeta + var_e * (zeta**2 + chi_K1),
             "split e on the active rows along h and across it: zeta ~ N(0, 1), chi2 with K - 1 degrees (rotation invariance)",
             CASELLA),
        equal(rho**2 * (s * A * K) + var_e * (1 + (K - 1)), s * C * K,
              "check: E[C' | K] = s C K, so E[C'] = (c/n) C n/2 = (c/2) C, the recurrence of the Jacobian"),
    ]
    return Derivation(
        "Exact Gram-matrix reduction of a random ReLU layer",
        steps,
        (rho**2 * (s * A * K) + var_e * (1 + (K - 1)), "=", s * C * K),
        assumptions=("W ~ N(0, s) with s = c/n, independent of the past; x != 0",),
    )
