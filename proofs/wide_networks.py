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
except after one ReLU layer, whose input preactivations are exactly Gaussian; the coefficient of :math:`1/N` is
derived in :mod:`proofs.finite_width`).
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from .derivation import Derivation, Step, cite, define, equal, equal_by_cases, hypothesis, recurrence
from .operators import Expectation
from .rules import equal_at
from .sources import Source

__all__ = [
    "theta", "L", "arc_cosine", "correlation_map", "kappa", "nngp_kernel", "derive_arc_cosine", "derive_nngp",
    "DEPTHS", "TRAINED", "derivative_kernel", "ntk_parts", "ntk_kernel", "derive_ntk", "derive_ntk_fluctuation",
    "polar", "JACOT", "CHO_SAUL", "LEE2018", "SOURCES"
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
w1, w2 = sp.symbols("w_1 w_2", real=True)  # w ~ N(0, I_2)
y, a = sp.Symbol("y", real=True), sp.Symbol("a", positive=True)  # relu(a y) = a relu(y)
N = sp.Symbol("N", integer=True, positive=True)  # width
l = sp.Symbol("l", integer=True, positive=True)  # a layer  # noqa: E741
m = sp.Symbol("m", integer=True, nonnegative=True)  # a layer, for the diagonal


class k(sp.Function):  # noqa: N801
    """k(t) = E[relu(u) relu(v)] for unit variances at angle t (a named function: a premise k(t) = integral may
    rewrite inside other integrals, which SymPy refuses for an undefined function)."""

    nargs = 1

K = sp.Function("K")  # K(l, theta): the limiting covariance after l ReLU layers
Q = sp.Function("Q")  # Q(m): the limiting variance after m ReLU layers
C = sp.Function("C")  # C(N, L, theta): the covariance at width N
relu = sp.Function(r"\mathrm{relu}")

CHO_SAUL = Source("cho2009", "Youngmin Cho and Lawrence K. Saul", "Kernel methods for deep learning",
    "Advances in Neural Information Processing Systems 22 (NeurIPS)", 2009,
    url="https://papers.nips.cc/paper/3628-kernel-methods-for-deep-learning", kind="inproceedings")
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
    r"""One He-scaled ReLU layer on correlations, unevaluated: prints :math:`\kappa(c)` (its closed form is a
    step of the derivation, not a ``doit``), and evaluates numerically level by level (an iterate written out
    would repeat its argument twice per layer, 3^L nodes).

    >>> float(kappa(kappa(sp.cos(1))).evalf(20)) == float(correlation_map(correlation_map(sp.cos(1))).evalf(20))
    True
    """

    nargs = 1

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

    >>> float(nngp_kernel(1, 0)), abs(float(nngp_kernel(2, sp.pi / 2) - (sp.sqrt(sp.pi**2 - 1) + sp.pi - sp.acos(1 / sp.pi)) / sp.pi**2)) < 1e-15
    (1.0, True)
    """
    if isinstance(depth, (int, sp.Integer)):
        return _iterate(int(depth), angle)
    return sp.Piecewise(*[(_iterate(d, angle), sp.Eq(depth, d)) for d in DEPTHS])


def _gaussian(v: sp.Basic) -> sp.Basic:
    return sp.exp(-(v**2) / 2) / sp.sqrt(2 * sp.pi)


def polar(order: int, angle: sp.Basic) -> sp.Basic:
    r"""The arc-cosine kernel of order 0 or 1 for unit variances at ``angle``, as the polar integral: radial
    :math:`\int_0^\infty \rho^{2n+1}e^{-\rho^2/2}d\rho`, angular :math:`\int_{t-\pi/2}^{\pi/2}(\cos\varphi\cos(\varphi-t))^n
    d\varphi` (both units active), over :math:`2\pi`."""
    radial = sp.Integral(rho ** (2 * order + 1) * sp.exp(-(rho**2) / 2), (rho, 0, sp.oo))
    angular = sp.Integral((sp.cos(phi) * sp.cos(phi - angle)) ** order, (phi, angle - sp.pi / 2, sp.pi / 2))
    return radial * angular / (2 * sp.pi)


def _kernel_steps(lhs: sp.Basic, order: int, angle: sp.Basic, what: str, define_first: Step | None = None):
    """The arc-cosine kernel of ``order`` (1: E[relu relu], 0: E[relu' relu']): the polar integral cited from
    Cho and Saul, with its cases t = 0 and t = pi/2 checked as explicit Gaussian integrals, then evaluated."""
    one = sp.Integral(z ** (2 * order) * _gaussian(z), (z, 0, sp.oo))
    half = sp.Integral(z**order * _gaussian(z), (z, 0, sp.oo)) ** 2
    s = sp.latex(angle)
    at0 = equal(polar(order, angle).subs(angle, 0), one, rf"the case ${s} = 0$ of the polar integral is {what} for $u = v$: "
                rf"$\mathbb{{E}}[{'u^2' if order else '1'}; u > 0]$, $u \sim \mathcal{{N}}(0, 1)$")
    at90 = equal(polar(order, angle).subs(angle, sp.pi / 2), half, rf"the case ${s} = \pi/2$ of the polar integral is "
                 rf"{what} for independent $u, v$: the square of $\mathbb{{E}}[{'u' if order else '1'}; u > 0]$")
    cited = cite(lhs, "=", polar(order, angle), "Section 2", CHO_SAUL,
                 rf"{what} in polar coordinates $w = \rho(\cos\phi, \sin\phi)$, $w \sim \mathcal{{N}}(0, I_2)$: the Gaussian "
                 rf"density is $e^{{-\rho^2/2}}/(2\pi)$, and both units are active exactly for $\phi \in ({s} - \pi/2, \pi/2)$ "
                 rf"when ${s} \in [0, \pi]$ (the arc-cosine kernel of degree ${order}$); its cases ${s} = 0$ and "
                 rf"${s} = \pi/2$ are checked", uses=[*([define_first] if define_first else []), at0, at90])
    closed = arc_cosine(angle) if order else derivative_kernel(angle)
    result = equal(lhs, closed, "the radial integral is " + (rf"$2$, the angular one $(\sin {s} + (\pi - {s})\cos {s})/2$"
                   if order else rf"$1$, the angular one $\pi - {s}$"), uses=[cited])
    return [at0, at90, cited, result], result


def _arc_cosine_steps():
    first = define(k(t), Expectation(relu(w1) * relu(sp.cos(t) * w1 + sp.sin(t) * w2), (w1, w2)),
                   r"$u = w \cdot e_0 = w_1$, $v = w \cdot e_t = \cos t\, w_1 + \sin t\, w_2$ for $w \sim \mathcal{N}(0, I_2)$ "
                   r"and unit vectors at angle $t \in [0, \pi]$")
    steps, result = _kernel_steps(k(t), 1, t, "$k(t)$", define_first=first)
    return [first, *steps], result


@cache
def derive_arc_cosine() -> Derivation:
    """E[relu(u) relu(v)] = (sin t + (pi - t) cos t)/(2 pi) for unit-variance u, v at angle t."""
    steps, result = _arc_cosine_steps()
    return Derivation(
        "The arc-cosine kernel of ReLU", steps, (k(t), "=", arc_cosine(t)),
        assumptions=(r"$(u, v)$ centred Gaussian with unit variances and correlation $\cos t$, $t \in [0, \pi]$; for "
                     r"variances $a^2, b^2$ the kernel scales by $ab$ ($\operatorname{relu}$ is positively homogeneous)",),
        remarks=[equal(arc_cosine(sp.pi), 0, r"$t = \pi$: $u = -v$, never both positive")],
    )


@cache
def derive_nngp() -> Derivation:
    """The NNGP kernel of a He-scaled ReLU network: kappa iterated L times from cos(theta)."""
    steps, arc = _arc_cosine_steps()
    kappa_def = define(kappa(c), 2 * k(sp.acos(c)), r"the layer map on correlations: twice the arc-cosine kernel at "
                       r"the angle $\arccos c$ (in $[0, \pi]$ for $c \in [-1, 1]$)")
    layer = equal_at(kappa(c), correlation_map(c), r"$\kappa$ in closed form", uses=[kappa_def, arc], at={t: sp.acos(c)})
    relu_def = define(relu, sp.Lambda(y, sp.Max(y, 0)), "the rectifier")
    homogeneous = equal_by_cases(relu(a * y), a * relu(y), y, r"$\operatorname{relu}$ is positively homogeneous ($a > 0$)", uses=[relu_def])
    q_law = hypothesis(Q(m), "=", 2 * Expectation(relu(sp.sqrt(Q(m - 1)) * w1) ** 2, (w1, w2)),
                       r"the variance of layer $m$ is the weight variance $2$ (He) times $\mathbb{E}[\operatorname{relu}(u)^2]$, "
                       r"$u \sim \mathcal{N}(0, Q(m - 1))$ the preactivation of layer $m - 1$ (written $\sqrt{Q(m - 1)}\, w_1$)")
    q_rule = equal_at(Q(m), 2 * Q(m - 1) * k(0), r"homogeneity takes the variance out; the rest is $k(0)$",
                      uses=[q_law, homogeneous, steps[0]], at={a: sp.sqrt(Q(m - 1)), y: w1, t: 0})
    q_first = hypothesis(Q(0), "=", 1, "the inputs are scaled so that the first preactivations have unit variance")
    q_step = equal_at(Q(m), Q(m - 1), r"$k(0) = 1/2$: He scaling keeps the variance", uses=[q_rule, arc], at={t: 0})
    q_all = recurrence(Q, m, 0, 1, "the diagonal stays $1$ at every depth", uses=[q_step, q_first])
    angle = sp.acos(K(l - 1, theta) / Q(l - 1))
    v = sp.cos(angle) * w1 + sp.sin(angle) * w2
    pair = relu(sp.sqrt(Q(l - 1)) * w1) * relu(sp.sqrt(Q(l - 1)) * v)
    k_law = hypothesis(K(l, theta), "=", 2 * Expectation(pair, (w1, w2)),
                       r"the covariance of layer $l$ (Lee et al.'s recursion, weight variance $2$, no biases) is "
                       r"$2\,\mathbb{E}[\operatorname{relu}(u)\,\operatorname{relu}(v)]$, $(u, v)$ the preactivations of layer "
                       r"$l - 1$: centred Gaussian with variances $Q(l - 1)$ and covariance $K(l - 1)$, written "
                       r"$\sqrt{Q(l - 1)}\,(w_1, \cos a\, w_1 + \sin a\, w_2)$, $\cos a = K/Q$")
    k_rule = equal_at(K(l, theta), 2 * Q(l - 1) * k(angle), r"homogeneity takes $Q(l - 1)$ out; the rest is $k$ at $\arccos(K/Q)$",
                      uses=[k_law, homogeneous, steps[0]], at={a: sp.sqrt(Q(l - 1)), y: (w1, v), t: angle})
    k_first = hypothesis(K(0, theta), "=", sp.cos(theta), r"two inputs of equal norm at angle $\theta \in [0, \pi]$: the "
                         r"first preactivations have correlation $\cos\theta$")
    k_step = equal_at(K(l, theta), kappa(K(l - 1, theta)), r"with unit variances each layer applies $\kappa$", uses=[
                      k_rule, q_all, arc, layer], at={m: l - 1, t: sp.acos(K(l - 1, theta)), c: K(l - 1, theta)})
    limit = cite(sp.Limit(C(N, L, theta), N, sp.oo), "=", K(L, theta), "Section 2.3", LEE2018,
                 "as the width $N$ tends to infinity the preactivations of every layer become a Gaussian process whose "
                 "covariance follows the layer recursion (the central limit theorem, layer by layer)",
                 uses=[k_law, k_first])
    unrolled = equal_at(K(L, theta), nngp_kernel(), r"the recursion unrolled from $K(0) = \cos\theta$, for $L = 1, \dots, 5$",
                        uses=[k_step, k_first], at={l: DEPTHS}, cases=(L, DEPTHS))
    steps += [kappa_def, layer, relu_def, homogeneous, q_law, q_rule, q_first, q_step, q_all, k_law, k_rule, k_first,
              k_step, limit, unrolled]
    return Derivation(
        "NNGP kernel of a deep ReLU network",
        steps,
        (sp.Limit(C(N, L, theta), N, sp.oo), "=", nngp_kernel()),
        uses=[limit, unrolled],
        assumptions=(
            r"a fully connected ReLU network of width $N$, weights iid $\mathcal{N}(0, 2/n_{\mathrm{in}})$ (He), no biases; "
            r"two inputs of equal norm at angle $\theta \in [0, \pi]$, scaled so that the first preactivations have unit "
            r"variance", r"$C(N, L, \theta)$ is the covariance of one preactivation of layer $L + 1$ at the two inputs",
        ),
        remarks=[equal_at(kappa(1), 1, r"$\kappa(1) = 1$: equal inputs stay equal", uses=[layer], at={c: 1}),
                 equal_at(kappa(0), 1 / sp.pi, r"orthogonal inputs become correlated, $1/\pi$", uses=[layer], at={c: 0})],
    )


# -- the neural tangent kernel of a one-hidden-layer ReLU network ----------------------------------------

TRAINED = {"all": 1, "readout": 2, "hidden": 3}  # codes of the claim's choice parameter ``trained``
trained = sp.Symbol("trained", integer=True, positive=True)
Theta = sp.Function(r"\Theta")
JACOT = Source("jacot2018", "Arthur Jacot and Franck Gabriel and Clément Hongler",
    "Neural tangent kernel: convergence and generalization in neural networks",
    "Advances in Neural Information Processing Systems 31 (NeurIPS)", 2018, arxiv="1806.07572",
    kind="inproceedings")
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
    """Theta = Sigma^2 + Sigma^1 dSigma^2 for one hidden ReLU layer in the NTK parameterisation, by trained layers:
    the expected empirical NTK, by linearity, exactly at every width."""
    v, h, hp = sp.IndexedBase("v"), sp.IndexedBase("h"), sp.IndexedBase("h'")
    i = sp.Symbol("i", integer=True, positive=True)
    random = (v, h, hp)
    f = sp.Function("f")  # one unit's contribution, as a function of its readout weight and its preactivation
    sigma1 = sp.Function(r"\Sigma^{1}")(theta)  # x . x'/d
    mean = sp.Function(r"\bar{\Theta}_N")(theta)  # the expected empirical NTK at width N
    readout = sp.Sum(sp.Derivative(f(v[i], h[i]), v[i]) * sp.Derivative(f(v[i], hp[i]), v[i]), (i, 1, N))
    hidden = sp.Sum(sp.Derivative(f(v[i], h[i]), h[i]) * sp.Derivative(f(v[i], hp[i]), hp[i]) * sigma1, (i, 1, N))
    expected = sp.Piecewise((Expectation(readout + hidden, random), sp.Eq(trained, TRAINED["all"])),
                            (Expectation(readout, random), sp.Eq(trained, TRAINED["readout"])),
                            (Expectation(hidden, random), sp.Eq(trained, TRAINED["hidden"])))
    unit = define(f(v[i], z), sp.sqrt(2 / N) * v[i] * relu(z),
                  r"$f(x) = \sqrt{2/N} \sum_i v_i \operatorname{relu}(h_i)$, $h_i = w_i \cdot x/\sqrt{d}$, all weights iid "
                  r"$\mathcal{N}(0, 1)$ (NTK parameterisation: the scale sits in the forward pass); unit $i$ contributes "
                  r"$f(v_i, h_i)$")
    d_readout = equal(sp.Derivative(f(v[i], z), v[i]), sp.sqrt(2 / N) * relu(z), "the gradient in the readout weight",
                      uses=[unit])
    d_hidden = equal(sp.Derivative(f(v[i], z), z), sp.sqrt(2 / N) * v[i] * sp.Derivative(relu(z), z),
                     r"the gradient in the preactivation ($\partial f/\partial w_i = (\partial f/\partial h_i)\, x/\sqrt{d}$)", uses=[unit])
    ntk = define(mean, expected,
                 r"the expected empirical NTK, the sum over the trained parameters $p$ of $\partial_p f(x)\, \partial_p f(x')$: "
                 r"the readout weights $v_i$, and the hidden weights $w_i$, whose gradients $(\partial f/\partial h_i)\, "
                 r"x/\sqrt{d}$ pair to $\partial_{h_i} f(x)\, \partial_{h_i} f(x')\, \Sigma^1$, $\Sigma^1 = x \cdot x'/d$")
    inputs = hypothesis(sigma1, "=", sp.cos(theta), r"inputs of norm $\sqrt{d}$ at angle $\theta \in [0, \pi]$")
    relu2 = relu(h[i]) * relu(hp[i])
    step2 = sp.Derivative(relu(h[i]), h[i]) * sp.Derivative(relu(hp[i]), hp[i])
    independent = hypothesis(Expectation(v[i] ** 2 * step2, random), "=", Expectation(step2, random),
                             r"$v_i$ is independent of $w_i$, with $\mathbb{E}[v_i^2] = 1$")
    arc1_steps, arc1 = _kernel_steps(Expectation(relu2, random), 1, theta, r"$\mathbb{E}[\operatorname{relu}(h_i)\,\operatorname{relu}(h_i')]$")
    arc0_steps, arc0 = _kernel_steps(Expectation(step2, random), 0, theta, r"$\mathbb{E}[\operatorname{relu}'(h_i)\,\operatorname{relu}'(h_i')]$")
    exact = equal_at(mean, ntk_kernel(), r"linearity of expectation: each of the $N$ units contributes its mean, "
                     r"$2/N$ times the kernels; exact at every width (the $h_i$ are exactly Gaussian)",
                     uses=[ntk, d_readout, d_hidden, independent, arc1, arc0, inputs], at={z: (h[i], hp[i])},
                     cases=(trained, tuple(TRAINED.values())))
    limit = equal(sp.Limit(mean, N, sp.oo), ntk_kernel(), "the mean does not depend on the width", uses=[exact])
    name = define(Theta(theta), sp.Limit(mean, N, sp.oo), "the NTK: the expected empirical NTK as the width grows")
    steps = [unit, d_readout, d_hidden, ntk, inputs, independent, *arc1_steps, *arc0_steps, exact, name, limit]
    return Derivation(
        "Neural tangent kernel of a one-hidden-layer ReLU network",
        steps,
        (Theta(theta), "=", ntk_kernel()),
        uses=[name, limit],
        assumptions=(
            r"one hidden layer of width $N$, NTK parameterisation with He's factor $2$, no biases, inputs of norm "
            r"$\sqrt{d}$ at angle $\theta \in [0, \pi]$, so that $(h_i, h_i')$ is centred Gaussian with unit variances and "
            r"correlation $\cos\theta$; codes of the trained layers: all $1$, readout $2$, hidden $3$",
        ),
    )


@cache
def derive_ntk_fluctuation() -> Derivation:
    """The empirical NTK's spread across networks: relative standard deviation proportional to N^(-1/2)."""
    i = sp.Symbol("i", integer=True, positive=True)
    ip = sp.Symbol("i'", integer=True, positive=True)
    s2 = sp.Symbol(r"\sigma_T^2", positive=True)  # the variance of one unit's term
    mu = sp.Symbol(r"\Theta", positive=True)  # the mean, the NTK itself
    T = sp.IndexedBase("T")
    total = sp.Symbol("S_N")
    sd = sp.Symbol(r"\mathrm{sd}(\hat{\Theta}_N)", positive=True)
    exponent = sp.Symbol("s", real=True)
    spread = Expectation(total**2, (T,)) - Expectation(total, (T,)) ** 2
    steps = [
        define(total, sp.Sum(T[i], (i, 1, N)),
               r"one hidden layer: the empirical NTK is the mean $S_N/N$ of $N$ terms $T_i = 2\operatorname{relu}(h_i)\, "
               r"\operatorname{relu}(h_i') + 2\cos\theta\, v_i^2 \operatorname{relu}'(h_i)\, \operatorname{relu}'(h_i')$, "
               "one per unit"),
        hypothesis(Expectation(T[i], (T,)), "=", mu, r"each term has mean $\Theta$"),
        hypothesis(Expectation(T[i] * T[ip], (T,)), "=", mu**2 + s2 * sp.KroneckerDelta(i, ip),
                   r"the terms are independent (each unit has its own weights), each of variance $\sigma_T^2$ (finite: "
                   "Gaussian moments)"),
    ]
    steps.append(equal(spread, N * s2, "the variance of a sum of $N$ independent terms, exactly at every width",
                       uses=steps[:3]))
    steps.append(define(sd, sp.sqrt(spread) / N, "the standard deviation of $S_N/N$ across networks"))
    steps.append(define(exponent, sp.Limit(sp.log(sd / mu) / sp.log(N), N, sp.oo),
                        r"the scaling exponent of the relative fluctuation $\mathrm{sd}/\Theta$ in the width"))
    steps.append(equal(sp.Limit(sp.log(sd / mu) / sp.log(N), N, sp.oo), sp.Rational(-1, 2),
                       "the limit of the logarithms' ratio", uses=[steps[4], steps[3]]))
    return Derivation(
        "Fluctuation of the empirical NTK across networks",
        steps,
        (exponent, "=", sp.Rational(-1, 2)),
        uses=[steps[5], steps[6]],
        assumptions=(r"one hidden layer of width $N$, weights iid $\mathcal{N}(0, 1)$; $\sigma_T^2$ finite (Gaussian moments)",),
    )
