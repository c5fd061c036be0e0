r"""Wide ReLU networks: the NNGP (arc-cosine) kernel.

**The arc-cosine kernel** (Cho and Saul 2009). For :math:`w \sim N(0, I)` and inputs with norms
:math:`a, b` at angle :math:`\theta \in [0, \pi]`, :math:`u = w\cdot x`, :math:`v = w\cdot x'`,

.. math::

    E[\mathrm{relu}(u)\,\mathrm{relu}(v)] = \frac{ab}{2\pi}\left(\sin\theta + (\pi - \theta)\cos\theta\right).

By homogeneity it suffices to take :math:`a = b = 1` and :math:`w` two-dimensional; in polar coordinates
:math:`w = \rho(\cos\varphi, \sin\varphi)` the integral factors into :math:`\int_0^\infty \rho^3 e^{-\rho^2/2}d\rho/(2\pi) = 1/\pi`
and :math:`\int_{\theta - \pi/2}^{\pi/2}\cos\varphi\cos(\varphi - \theta)\,d\varphi = (\sin\theta + (\pi-\theta)\cos\theta)/2`,
both checked by SymPy. The trap: dropping the :math:`(\pi - \theta)` weight (the measure of the angular
region where both units are active) gives :math:`\sin\theta + \cos\theta`, wrong everywhere but at
:math:`\theta = \pi/2`.

**Over depth** (``nngp.relu``; Lee et al. 2018, arXiv:1711.00165). With He scaling (weights of variance
:math:`2/N_{l-1}`, no biases) and inputs of equal norm, every layer keeps the diagonal of the kernel at
1, and the correlation of the preactivations of layer :math:`l + 1` is

.. math::

    \rho_{l} = \kappa(\rho_{l-1}) = \frac{\sqrt{1 - \rho_{l-1}^2} + (\pi - \arccos\rho_{l-1})\,\rho_{l-1}}{\pi},
    \qquad \rho_0 = \cos\theta,

in the limit of infinite width (at finite width :math:`N` the covariance is off by :math:`O(1/N)`,
except after one ReLU layer, whose input preactivations are exactly Gaussian).
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from .derivation import Derivation, cite, define, equal, substitute
from .sources import Source

__all__ = [
    "theta",
    "L",
    "arc_cosine",
    "correlation_map",
    "kappa",
    "nngp_kernel",
    "derive_arc_cosine",
    "derive_nngp",
    "DEPTHS",
    "TRAINED",
    "derivative_kernel",
    "ntk_parts",
    "ntk_kernel",
    "derive_ntk",
    "JACOT",
    "CHO_SAUL",
    "LEE2018",
    "SOURCES",
]

DEPTHS = (1, 2, 3, 4, 5)

# The claims' parameters (matched by name and assumptions with workbench.parameters).
theta = sp.Symbol("theta", real=True)  # angle between the two inputs, in [0, pi]
L = sp.Symbol("L", integer=True, positive=True)  # number of ReLU layers

rho = sp.Symbol("rho", positive=True)  # polar radius
phi = sp.Symbol("phi", real=True)  # polar angle
t = sp.Symbol("t", real=True, nonnegative=True)  # an angle in [0, pi] for the checked integral
c = sp.Symbol("c", real=True)  # a correlation in [-1, 1]
z = sp.Symbol("z", real=True)
N = sp.Symbol("N", integer=True, positive=True)  # width

E = sp.Function("E")
k = sp.Function("k")  # k(theta) = E[relu(u) relu(v)] for unit norms
K = sp.Function("K")  # K(L, theta): the limiting covariance after L ReLU layers
C = sp.Function("C")  # C(N, L, theta): the covariance at width N
relu = sp.Function(r"\mathrm{relu}")

CHO_SAUL = Source(
    "cho2009",
    "Youngmin Cho and Lawrence K. Saul",
    "Kernel methods for deep learning",
    "Advances in Neural Information Processing Systems 22 (NeurIPS)",
    2009,
    url="https://papers.nips.cc/paper/3628-kernel-methods-for-deep-learning",
    kind="inproceedings",
)
LEE2018 = Source(
    "lee2018",
    "Jaehoon Lee and Yasaman Bahri and Roman Novak and Samuel S. Schoenholz and Jeffrey Pennington and "
    "Jascha Sohl-Dickstein",
    "Deep neural networks as Gaussian processes",
    "International Conference on Learning Representations (ICLR)",
    2018,
    arxiv="1711.00165",
    kind="inproceedings",
)


def arc_cosine(angle: sp.Basic = theta) -> sp.Basic:
    r"""The first-order arc-cosine kernel for unit norms, :math:`(\sin\theta + (\pi - \theta)\cos\theta)/(2\pi)`.

    >>> arc_cosine(0), arc_cosine(sp.pi / 2), arc_cosine(sp.pi)
    (1/2, 1/(2*pi), 0)
    """
    return (sp.sin(angle) + (sp.pi - angle) * sp.cos(angle)) / (2 * sp.pi)


def correlation_map(corr: sp.Basic = c) -> sp.Basic:
    r"""One He-scaled ReLU layer on correlations: :math:`\kappa(c) = (\sqrt{1-c^2} + (\pi - \arccos c)c)/\pi`."""
    return (sp.sqrt(1 - corr**2) + (sp.pi - sp.acos(corr)) * corr) / sp.pi


class kappa(sp.Function):  # noqa: N801 (a function, printed as the literature writes it)
    r"""One He-scaled ReLU layer on correlations, unevaluated: prints :math:`\kappa(c)`, becomes
    :func:`correlation_map` under ``doit()``, and evaluates numerically level by level (an iterate written out
    would repeat its argument twice per layer, 3^L nodes).

    >>> float(kappa(kappa(sp.cos(1))).evalf(20)) == float(correlation_map(correlation_map(sp.cos(1))).evalf(20))
    True
    """

    nargs = 1

    def doit(self, **hints):
        arg = self.args[0].doit(**hints) if hints.get("deep", True) else self.args[0]
        return correlation_map(arg)

    def _eval_evalf(self, prec):
        arg = self.args[0]._eval_evalf(prec)
        if arg is None or not arg.is_number:
            return None
        return correlation_map(arg)._eval_evalf(prec)

    def _eval_is_real(self):
        return True if self.args[0].is_real else None

    @staticmethod
    def _imp_(value):  # lambdify (NumPy/SciPy figures): clip rounding just outside [-1, 1]
        import numpy as np

        c = np.clip(value, -1.0, 1.0)
        return (np.sqrt(1 - c * c) + (np.pi - np.arccos(c)) * c) / np.pi

    def _latex(self, printer, exp=None):
        body = rf"\kappa\left({printer._print(self.args[0])}\right)"
        return rf"{body}^{{{exp}}}" if exp is not None else body


def _iterate(depth: int, angle: sp.Basic = theta) -> sp.Basic:
    value = sp.cos(angle)
    for _ in range(depth):
        value = kappa(value)
    return value


def nngp_kernel(depth: sp.Basic = L, angle: sp.Basic = theta) -> sp.Basic:
    r"""The limiting covariance after ``depth`` ReLU layers: :math:`\kappa^{\circ L}(\cos\theta)`, as a
    ``Piecewise`` over the depths 1..5 when ``depth`` is symbolic.

    >>> nngp_kernel(1, 0).doit(), sp.simplify(nngp_kernel(2, sp.pi / 2).doit() - (sp.sqrt(sp.pi**2 - 1) + sp.pi - sp.acos(1 / sp.pi)) / sp.pi**2)
    (1, 0)
    """
    if isinstance(depth, (int, sp.Integer)):
        return _iterate(int(depth), angle)
    return sp.Piecewise(*[(_iterate(d, angle), sp.Eq(depth, d)) for d in DEPTHS])


def _gaussian2(r2: sp.Basic) -> sp.Basic:
    return sp.exp(-r2 / 2) / (2 * sp.pi)


@cache
def derive_arc_cosine() -> Derivation:
    """E[relu(u) relu(v)] = (sin t + (pi - t) cos t)/(2 pi) for unit-variance u, v at angle t."""
    radial = sp.Integral(rho**3 * sp.exp(-(rho**2) / 2), (rho, 0, sp.oo))
    angular = sp.Integral(sp.cos(phi) * sp.cos(phi - t), (phi, t - sp.pi / 2, sp.pi / 2))
    product = radial * angular / (2 * sp.pi)
    closed = arc_cosine(t)
    steps = [
        define(k(t), E(relu(sp.Symbol("u")) * relu(sp.Symbol("v"))),
               "u = w . e_0, v = w . e_t for w ~ N(0, I_2) and unit vectors at angle t in [0, pi]"),
        cite(k(t), "=", product,
             "polar coordinates w = rho (cos phi, sin phi): the density is e^(-rho^2/2)/(2 pi), relu(u) relu(v) = "
             "rho^2 cos(phi) cos(phi - t) where both are positive, i.e. for phi in (t - pi/2, pi/2)", CHO_SAUL),
        equal(product, closed, "the radial integral is 2, the angular one (sin t + (pi - t) cos t)/2"),
        equal(closed.subs(t, 0), sp.Integral(z**2 * sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi), (z, 0, sp.oo)),
              "t = 0: E[relu(u)^2] = E[u^2]/2 = 1/2"),
        equal(closed.subs(t, sp.pi), 0, "t = pi: u = -v, never both positive"),
    ]
    return Derivation(
        "The arc-cosine kernel of ReLU",
        steps,
        (k(t), "=", closed),
        assumptions=("(u, v) centred Gaussian with unit variances and correlation cos t, t in [0, pi]; for variances "
                     "a^2, b^2 the kernel scales by a b (relu is positively homogeneous)",),
    )


@cache
def derive_nngp() -> Derivation:
    """The NNGP kernel of a He-scaled ReLU network: kappa iterated L times from cos(theta)."""
    arc = derive_arc_cosine()
    kernel = nngp_kernel()
    steps = list(arc.steps)
    steps += [
        substitute(2 * arc_cosine(t), {t: sp.acos(c)},
                   "He scaling: the next preactivations have covariance 2 E[relu(u) relu(v)]; correlation c = cos t"),
        equal(2 * arc_cosine(sp.acos(c)), correlation_map(c), "so one layer maps the correlation c to kappa(c)"),
        equal(correlation_map(sp.Integer(1)), 1, "kappa(1) = 1: the diagonal stays 1 at every depth"),
        equal(correlation_map(sp.Integer(0)), 1 / sp.pi, "orthogonal inputs become correlated, 1/pi"),
        cite(sp.Limit(C(N, L, theta), N, sp.oo), "=", K(L, theta),
             "the width-N covariance C of the preactivations after L ReLU layers tends to the NNGP kernel, which obeys "
             "the layer recursion K(l) = kappa(K(l - 1)), K(0) = cos(theta) (central limit theorem, layer by layer)",
             LEE2018),
        define(K(L, theta), kernel, "kappa iterated L times from cos(theta), written out for L = 1..5"),
        equal(nngp_kernel(1, sp.pi / 3).doit(), 2 * arc_cosine(sp.pi / 3),
              "one ReLU layer is twice the arc-cosine kernel (kappa(cos t) = 2 k(t) for t in [0, pi]; here t = pi/3)"),
    ]
    return Derivation(
        "NNGP kernel of a deep ReLU network",
        steps,
        (sp.Limit(C(N, L, theta), N, sp.oo), "=", kernel),
        assumptions=(
            "a fully connected ReLU network of width N, weights iid N(0, 2/fan_in) (He), no biases; two inputs of equal "
            "norm at angle theta in [0, pi], scaled so that the first preactivations have unit variance",
            "C(N, L, theta) is the covariance of one preactivation of layer L + 1 at the two inputs; its diagonal is 1 "
            "exactly at every width (He scaling)",
        ),
    )


# -- the neural tangent kernel of a one-hidden-layer ReLU network ----------------------------------------

TRAINED = {"all": 1, "readout": 2, "hidden": 3}  # codes of the claim's choice parameter ``trained``
trained = sp.Symbol("trained", integer=True, positive=True)
Theta = sp.Function(r"\Theta")
JACOT = Source(
    "jacot2018",
    "Arthur Jacot and Franck Gabriel and Clément Hongler",
    "Neural tangent kernel: convergence and generalization in neural networks",
    "Advances in Neural Information Processing Systems 31 (NeurIPS)",
    2018,
    arxiv="1806.07572",
    kind="inproceedings",
)
SOURCES = (CHO_SAUL, LEE2018, JACOT)


def derivative_kernel(angle: sp.Basic = theta) -> sp.Basic:
    r"""The arc-cosine kernel of order 0, :math:`E[\mathrm{relu}'(u)\mathrm{relu}'(v)] = (\pi - \theta)/(2\pi)`."""
    return (sp.pi - angle) / (2 * sp.pi)


def ntk_parts(angle: sp.Basic = theta) -> tuple[sp.Basic, sp.Basic]:
    r"""(readout part, hidden part) of the NTK of a one-hidden-layer He/NTK-parameterised ReLU network:
    :math:`\Sigma^2 = 2k(\theta)` and :math:`\Sigma^1\dot\Sigma^2 = \cos\theta\,(\pi - \theta)/\pi`."""
    return 2 * arc_cosine(angle), sp.cos(angle) * 2 * derivative_kernel(angle)


def ntk_kernel(which: sp.Basic = trained, angle: sp.Basic = theta) -> sp.Basic:
    r"""The NTK when ``all`` layers, only the ``readout`` or only the ``hidden`` layer are trained (codes 1, 2, 3).

    >>> ntk_kernel(1, 0), ntk_kernel(2, sp.pi / 2), ntk_kernel(3, sp.pi / 2)
    (2, 1/pi, 0)
    """
    readout, hidden = ntk_parts(angle)
    return sp.Piecewise((readout + hidden, sp.Eq(which, TRAINED["all"])), (readout, sp.Eq(which, TRAINED["readout"])),
                        (hidden, sp.Eq(which, TRAINED["hidden"])))


@cache
def derive_ntk() -> Derivation:
    """Theta = Sigma^2 + Sigma^1 dSigma^2 for one hidden ReLU layer in the NTK parameterisation, by trained layers."""
    angular = sp.Integral(sp.Integer(1), (phi, t - sp.pi / 2, sp.pi / 2))
    radial = sp.Integral(rho * sp.exp(-(rho**2) / 2), (rho, 0, sp.oo))
    readout, hidden = ntk_parts()
    kernel = ntk_kernel()
    Sigma1, Sigma2, dSigma2 = (sp.Function(name)(theta) for name in (r"\Sigma^{1}", r"\Sigma^{2}", r"\dot{\Sigma}^{2}"))
    grad = sp.Function(r"\hat{\Theta}_N")(theta)
    symbolic = sp.Piecewise((Sigma2 + Sigma1 * dSigma2, sp.Eq(trained, TRAINED["all"])),
                            (Sigma2, sp.Eq(trained, TRAINED["readout"])), (Sigma1 * dSigma2, sp.Eq(trained, TRAINED["hidden"])))
    values = {Sigma2: 2 * arc_cosine(theta), Sigma1: sp.cos(theta), dSigma2: 2 * derivative_kernel(theta)}
    steps = [
        equal(radial * angular / (2 * sp.pi), derivative_kernel(t),
              "E[relu'(u) relu'(v)] for unit-variance u, v at angle t: the probability that both are positive, in polar "
              "coordinates"),
        equal(readout + hidden, (sp.sin(theta) + 2 * (sp.pi - theta) * sp.cos(theta)) / sp.pi,
              "the two parts add up to (sin theta + 2 (pi - theta) cos theta)/pi"),
        define(Theta(theta), sp.Limit(E(grad), N, sp.oo),
               "f(x) = sqrt(2/N) sum_i v_i relu(w_i . x / sqrt(d)), all weights iid N(0, 1) (NTK parameterisation: the "
               "scale sits in the forward pass); Theta_N(x, x') = sum over the trained parameters p of df/dp(x) df/dp(x')"),
        cite(sp.Limit(E(grad), N, sp.oo), "=", symbolic,
             "df/dv_i = sqrt(2/N) relu(h_i) gives (2/N) sum_i relu(h_i) relu(h_i'), mean Sigma^2; df/dw_i = sqrt(2/N) v_i "
             "relu'(h_i) x/sqrt(d) gives (2/N) sum_i v_i^2 relu'(h_i) relu'(h_i') x.x'/d, mean Sigma^1 dSigma^2; exact "
             "at every width for one hidden layer (the h_i are exactly Gaussian); deeper networks follow the recursion "
             "Theta^l = Sigma^l + Theta^(l-1) dSigma^l in the limit", JACOT),
        substitute(symbolic, values,
                   "He scaling: Sigma^2 = 2 k(theta), dSigma^2 = 2 (pi - theta)/(2 pi), Sigma^1 = x.x'/d = cos(theta); "
                   "codes of the trained layers: all 1, readout 2, hidden 3"),
    ]
    return Derivation(
        "Neural tangent kernel of a one-hidden-layer ReLU network",
        steps,
        (Theta(theta), "=", kernel),
        assumptions=(
            "one hidden layer of width N, NTK parameterisation with He's factor 2, no biases, inputs of norm sqrt(d) at "
            "angle theta in [0, pi]; the expectation over the initialisation of the empirical NTK equals Theta at every "
            "width, and its fluctuation is O(1/sqrt(N))",
        ),
    )


@cache
def derive_ntk_fluctuation() -> Derivation:
    """The empirical NTK's spread across networks: relative standard deviation proportional to N^(-1/2)."""
    i = sp.Symbol("i", integer=True, positive=True)
    s2 = sp.Symbol(r"\sigma_T^2", positive=True)  # the variance of one unit's term
    m = sp.Symbol(r"\Theta", positive=True)  # the mean, the NTK itself
    T = sp.Function("T")
    grad = sp.Function(r"\hat{\Theta}_N")(theta)
    sd = sp.Function(r"\mathrm{sd}")(grad)
    exponent = sp.Symbol("s", real=True)
    steps = [
        define(grad, sp.Sum(T(i), (i, 1, N)) / N,
               "one hidden layer: the empirical NTK is a mean over the N units of iid terms T_i = 2 relu(h_i) relu(h_i') "
               "+ 2 cos(theta) v_i^2 relu'(h_i) relu'(h_i') (each unit has its own weights), mean Theta, variance sigma_T^2"),
        equal(sp.Sum(s2 / N**2, (i, 1, N)), s2 / N,
              "independent terms: the variance of the mean is the sum of the N variances over N^2, exactly at every "
              "width"),
        define(exponent, sp.Limit(sp.log(sd / m) / sp.log(N), N, sp.oo),
               "the scaling exponent of the relative fluctuation sd/Theta in the width"),
        substitute(sp.Limit(sp.log(sd / m) / sp.log(N), N, sp.oo), {sd: sp.sqrt(s2 / N)},
                   "the standard deviation is sigma_T/sqrt(N), by the step above"),
        equal(sp.Limit(sp.log(sp.sqrt(s2 / N) / m) / sp.log(N), N, sp.oo), sp.Rational(-1, 2),
              "the limit of the logarithms' ratio"),
    ]
    return Derivation(
        "Fluctuation of the empirical NTK across networks",
        steps,
        (exponent, "=", sp.Rational(-1, 2)),
        assumptions=("one hidden layer of width N, weights iid N(0, 1); sigma_T^2 finite (Gaussian moments)",),
    )
