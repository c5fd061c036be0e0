r"""Lazy training: a wide network trained by gradient descent moves its weights by a relative
:math:`O(N^{-1/2})` and stays within :math:`O(N^{-1/2})` of its linearisation (Chizat, Oyallon and Bach 2019,
arXiv:1812.07956; Lee et al. 2019, arXiv:1902.06720).

**The linearised dynamics.** Gradient descent with step :math:`\eta` on :math:`\tfrac12\lVert f(X) - y\rVert^2`
for the linearisation :math:`f^{\mathrm{lin}}_\theta = f_{\theta_0} + J(\theta - \theta_0)` has the residual
:math:`r_{t+1} = (I - \eta\Theta)r_t`, :math:`\Theta = JJ^\top` the (empirical) NTK Gram matrix, so
:math:`r_t = (I - \eta\Theta)^t r_0`, and the parameters move by
:math:`\Delta\theta = -\eta J^\top\sum_{t<T} r_t`, hence

.. math::

    \lVert\Delta\theta\rVert^2 = \eta^2 \Big(\sum_{t<T} r_t\Big)^\top \Theta \Big(\sum_{t<T} r_t\Big)
    = \sum_k \rho_k^2\,\frac{(1 - (1 - \eta\lambda_k)^T)^2}{\lambda_k} =: D^2

in the eigenbasis :math:`(\lambda_k, \rho_k)` of :math:`\Theta` and :math:`r_0`: :math:`O(1)`, a function of the
kernel, which tends to its deterministic limit as :math:`N \to \infty`. In the NTK parameterisation the
initial parameters have :math:`E\lVert\theta_0\rVert^2 = N(d + 1)` (:math:`N` units with :math:`d + 1` standard
normal weights each), so the relative motion is :math:`D/\sqrt{N(d+1)}`: exponent :math:`-1/2`, and its local
exponent :math:`\log_2(R(2N)/R(N))` is :math:`-1/2` exactly.

**The function gap.** The network leaves its linearisation through its Hessian. For one hidden ReLU layer,
:math:`f = \sqrt{2/N}\sum_i v_i\,\mathrm{relu}(w_i\cdot x/\sqrt d)`: the readout block vanishes, the
readout-hidden block is :math:`\sqrt{2/N}\,\mathrm{relu}'(h_i)\,x/\sqrt d` per unit (block diagonal: operator norm
:math:`O(N^{-1/2})`), and the hidden block is a Dirac mass at the kink, :math:`\sqrt{2/N}\,v_i\,\delta(h_i)\,xx^\top/d`.
Times :math:`\lVert\Delta\theta\rVert^2 = O(1)` the gap is :math:`O(N^{-1/2})` (Lee et al. 2019, Theorem 2.1, for
smooth activations; cited). *The trap*: for ReLU the leading term comes from the Dirac part, the
:math:`\sim\sqrt N` units whose preactivation crosses the kink, and its systematic part is small next to a
fluctuating :math:`N^{-3/4}` part, so the approach to :math:`-1/2` is slow (the numerics measure it).
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from .derivation import (
    Derivation,
    cite,
    define,
    equal,
    equal_entrywise,
    hypothesis,
    recurrence,
)
from .operators import Expectation, Hessian
from .printing import function, symbol
from .sources import Source

__all__ = [
    "CHIZAT2019",
    "EXPONENT",
    "LEE2019",
    "SOURCES",
    "N",
    "T",
    "d",
    "derive_lazy_training",
    "eta",
    "lam",
    "relative_motion",
]

EXPONENT = sp.Rational(-1, 2)

N = sp.Symbol("N", integer=True, positive=True)  # width
d = sp.Symbol("d", integer=True, positive=True)  # input dimension
eta = sp.Symbol("eta", positive=True)  # learning rate
lam = sp.Symbol("lambda", positive=True)  # an eigenvalue of the NTK Gram matrix
T = sp.Symbol("T", integer=True, positive=True)  # steps
t = sp.Symbol("t", integer=True, nonnegative=True)
rho = sp.Symbol("rho", real=True)  # the initial residual along that eigenvector
D = sp.Symbol("D", positive=True)  # ||Delta theta||, O(1)
z = sp.Symbol("z", real=True)
v, w, x = sp.symbols("v w x", real=True)  # one unit's readout, one hidden weight, one input coordinate

r = sp.Function("r")
E = function("E", r"\mathbb{E}")
R = sp.Function("R")  # relative motion at width N
s = sp.Function("s")  # the local exponent log2(R(2N)/R(N)) of one pair of networks
Delta = sp.Function(r"\Delta")

CHIZAT2019 = Source(
    "chizat2019",
    "Lénaïc Chizat and Edouard Oyallon and Francis Bach",
    "On lazy training in differentiable programming",
    "Advances in Neural Information Processing Systems 32 (NeurIPS)",
    2019,
    arxiv="1812.07956",
    kind="inproceedings",
)
LEE2019 = Source(
    "lee2019",
    "Jaehoon Lee and Lechao Xiao and Samuel S. Schoenholz and Yasaman Bahri and Roman Novak and Jascha "
    "Sohl-Dickstein and Jeffrey Pennington",
    "Wide neural networks of any depth evolve as linear models under gradient descent",
    "Advances in Neural Information Processing Systems 32 (NeurIPS)",
    2019,
    arxiv="1902.06720",
    kind="inproceedings",
)
SOURCES = (CHIZAT2019, LEE2019)


def relative_motion(width: sp.Basic = N) -> sp.Basic:
    r"""The linearised network's relative motion :math:`D/\sqrt{N(d+1)}` (``D`` the :math:`O(1)` weight change).

    >>> sp.simplify(sp.log(relative_motion(2 * N) / relative_motion(N)) / sp.log(2))
    -1/2
    """
    return D / sp.sqrt(width * (d + 1))


@cache
def derive_lazy_training() -> Derivation:
    """The local exponent of the relative weight motion (and of the function gap) tends to -1/2."""
    q = 1 - eta * lam
    gauss = sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi)
    normal = sp.Integral(z**2 * gauss, (z, -sp.oo, sp.oo))
    i = sp.Symbol("i", integer=True, positive=True)
    a = sp.Symbol("a", integer=True, positive=True)
    V, W = sp.IndexedBase("v", real=True), sp.IndexedBase("W", real=True)
    v2, w2 = sp.symbols("v' w'", real=True)  # the copy of a unit in the doubling initialisation
    f0 = symbol("f_0(x)", "f_0(x)")
    h = w * x / sp.sqrt(d)
    unit = sp.Lambda((v, w), sp.sqrt(2 / N) * v * sp.Max(0, h))
    local = sp.log(R(2 * N) / R(N)) / sp.log(2)
    linearised = sp.Lambda(N, relative_motion())

    rule = define(r(t), r(t - 1) - eta * lam * r(t - 1),
                  "one step of gradient descent on the linearisation, along an eigenvector of the NTK Gram matrix "
                  r"$\Theta$ (eigenvalue $\lambda$): $r_t = r_{t-1} - \eta\,\Theta\, r_{t-1}$")
    start = define(r(0), rho, "the initial residual along that eigenvector")
    residual = recurrence(r, t, 0, q**t * rho, r"so $r_t = (I - \eta\,\Theta)^t r_0$", uses=[rule, start])
    summed = equal(sp.Sum(r(t), (t, 0, T - 1)), rho * (1 - q**T) / (eta * lam),
                   "the residuals of the $T$ steps form a geometric sum", uses=[residual])
    share = equal(eta**2 * lam * sp.Sum(r(t), (t, 0, T - 1)) ** 2, rho**2 * (1 - q**T) ** 2 / lam,
                  r"$\Delta\theta = -\eta J^\top \sum_{t<T} r_t$ and $J J^\top = \Theta$: "
                  r"$\|\Delta\theta\|^2 = \eta^2 \big(\sum_t r_t\big)^\top \Theta \big(\sum_t r_t\big)$, one "
                  r"eigen-direction's share; summed over the directions it is $D^2 = O(1)$, a function of the kernel "
                  "alone", uses=[summed])
    u = sp.Function("u")
    one = define(u, unit, r"one unit's term of $f$: $\sqrt{2/N}\, v \operatorname{relu}(w x/\sqrt{d})$ (one input coordinate $x$)")
    pair = define(f0, u(v, w) + u(v2, w2), "a unit and its copy in the doubling initialisation (Chizat, Oyallon "
                  "and Bach 2019)")
    negated = hypothesis(v2, "=", -v, "the copy's readout is negated")
    same = hypothesis(w2, "=", w, "the copy's hidden weights are the same")
    cancel = equal(f0, 0, "each unit and its copy cancel, so $f_0 = 0$ and $r_0 = -y$, deterministic",
                   uses=[pair, one, negated, same])
    readout = hypothesis(Expectation(V[i] ** 2, (V, W)), "=", normal, r"readout weights iid $\mathcal{N}(0, 1)$")
    hidden = hypothesis(Expectation(W[i, a] ** 2, (V, W)), "=", normal, r"hidden weights iid $\mathcal{N}(0, 1)$ (the "
                        "NTK parameterisation puts the scale in the forward pass)")
    norm = equal(Expectation(sp.Sum(V[i] ** 2 + sp.Sum(W[i, a] ** 2, (a, 1, d)), (i, 1, N)), (V, W)), N * (d + 1),
                 r"$\mathbb{E}\,\|\theta_0\|^2$: $N$ units, each with $d$ hidden weights and one readout weight", uses=[readout, hidden])
    mixed = sp.sqrt(2 / N) * x / sp.sqrt(d) * sp.Heaviside(h)  # sqrt(2/N) relu'(h) x/sqrt(d)
    blocks = equal_entrywise(
        Hessian(u(v, w), (v, w)),
        sp.ImmutableMatrix([[0, mixed], [mixed, sp.sqrt(2 / N) * v * x**2 / d * sp.DiracDelta(h)]]),
        "Hessian of one unit's term: the readout block vanishes, the readout-hidden block "
        r"$\sqrt{2/N}\,\operatorname{relu}'(h)\,x/\sqrt{d}$ is block diagonal over the units (operator norm "
        r"$O(N^{-1/2})$), the hidden block a Dirac mass at the kink: only units whose preactivation crosses $0$ "
        r"contribute (about $\sqrt{N}$ of them move by $O(N^{-1/2})$)",
        uses=[one])
    lazy = cite(sp.Limit(E(s(N)), N, sp.oo), "=", sp.Limit(local, N, sp.oo), "Theorem 2.1", LEE2019,
                "Lee et al. 2019 (for smooth activations) and the lazy-training bounds of Chizat, Oyallon and Bach "
                r"2019: with $\|\Delta\theta\| = O(1)$ and a Hessian of norm $O(N^{-1/2})$, the trained network stays "
                r"within $O(N^{-1/2})$ of its linearisation in weights and in function; the weights' ratio is "
                r"$D/\sqrt{N(d+1)}\,(1 + o(1))$ and the function gap $C N^{-1/2} (1 + o(1))$, so the mean local "
                r"exponent $\mathbb{E}\, s(N) = \mathbb{E} \log_2(R(2N)/R(N))$ of either tends to that of "
                r"$R(N) = D/\sqrt{N(d+1)}$",
                uses=[share, cancel, norm, blocks])
    motion = define(R, linearised, r"the linearised relative motion "
                    r"$\|\Delta\theta\|/\sqrt{\mathbb{E}\,\|\theta_0\|^2} = D/\sqrt{N(d+1)}$ (both norms "
                    r"concentrate: relative spread $O(N^{-1/2})$)")
    exponent = equal(sp.Limit(local, N, sp.oo), EXPONENT,
                     r"at $N$ and $2N$, $R(2N)/R(N) = 2^{-1/2}$: the local exponent of the linearised relative "
                     "motion is $-1/2$ exactly at every width", uses=[motion])
    same_exponent = equal(sp.Limit(sp.log(R(N)) / sp.log(N), N, sp.oo), sp.Rational(-1, 2),
                          r"the same exponent as the limit of $\log R(N)/\log N$", uses=[motion])
    steps = [rule, start, residual, summed, share, one, pair, negated, same, cancel, readout, hidden, norm, blocks,
             lazy, motion, exponent]
    return Derivation(
        "Lazy training of a wide one-hidden-layer ReLU network",
        steps,
        (sp.Limit(E(s(N)), N, sp.oo), "=", EXPONENT),
        uses=[lazy, exponent],
        assumptions=(
            r"$f(x) = \sqrt{2/N} \sum_i v_i \operatorname{relu}(w_i \cdot x/\sqrt{d})$, NTK parameterisation, weights "
            r"iid $\mathcal{N}(0, 1)$ (doubled: $N/2$ units copied with the readout negated, so $f_0 = 0$), both "
            r"layers trained by $T$ steps of full-batch gradient descent with step $\eta < 2/\lambda_{\max}(\Theta)$ "
            r"on $\|f(X) - y\|^2/2$, $n$ fixed inputs, $T$ fixed",
            r"$s(N) = \log_2(R(2N)/R(N))$ for $R$ the relative weight motion $\|\theta_T - \theta_0\|/\|\theta_0\|$ "
            r"or the function gap $\|f_T(X) - f^{\mathrm{lin}}_T(X)\|/\|y\|$, $f^{\mathrm{lin}}$ kernel gradient "
            "descent with the initial empirical NTK",
        ),
        remarks=[same_exponent],
    )
