"""The ``lipschitz.*`` claims: the spectral norm of a Gaussian weight matrix (Geman 1980; Johnstone 2001 for
its Tracy-Widom correction), and the product of the layers' spectral norms as a network's Lipschitz bound."""

from __future__ import annotations

from numerics import lipschitz as kernels
from proofs import lipschitz as derivations

from ..asymptotics import Limit
from ..claim_type import Claim, Correction
from ..parameters import choice, integer, real
from ..registry import register

__all__ = ["SPECTRAL", "BOUND", "ROWS"]

_S = derivations
ROWS = (16, 32, 64, 128)  # the sweep of lipschitz.spectral


def spectral_remarks(values: dict) -> list[str]:
    a = values["aspect"]
    sides = ", ".join(f"{n} x {kernels.columns(n, a)}" for n in ROWS)
    return [
        f"matrices {sides}, "
        + ("the exact chi-bidiagonal reduction ($2q - 1$ chi draws and a $q \\times q$ tridiagonal Gram matrix, "
           "$q = \\min(n, m)$)" if values["method"] == "bidiagonal" else "dense float64 Gaussian matrices"),
        r"the sweep's statistic is $\|W\|_2 - \delta$, $\delta = \sqrt{1 - 1/(2n)} + \sqrt{(m - 1/2)/n} - 1 - \sqrt a$ "
        r"(Ma's second-order centring minus its limit, $O(1/n)$, no $n^{-2/3}$ part): the limit and the $n^{-2/3}$ "
        r"coefficient are those of $\mathbb{E}\,\|W\|_2$",
        r"derived and tested: the coefficient $\mu_{TW}(1 + a^{-1/2})^{1/3}/2$ of $n^{-2/3}$ ($\mu_{TW} = -1.2065$, the "
        r"Tracy-Widom mean); the coefficient of $n^{-4/3}$ is fitted, not derived",
    ]


SPECTRAL = register(
    Claim(
        id="lipschitz.spectral",
        title=r"Spectral norm of a Gaussian layer: $\|W\|_2 \to 1 + \sqrt{a}$, with Tracy-Widom fluctuations of order "
              r"$n^{-2/3}$",
        statement=(
            r"For $W$ of size $n \times m$ with iid $\mathcal{N}(0, 1/n)$ entries and $m/n = a$ fixed, "
            r"$\|W\|_2 \to 1 + \sqrt a$ almost surely as $n \to \infty$ (Geman 1980; Yin, Bai and Krishnaiah 1988): a "
            r"cited theorem, verified numerically, the square root's continuity checked by SymPy. A random layer "
            r"stretches some input by $1 + \sqrt a$, not by $2\sqrt a$ (the two agree only for square matrices). Its "
            r"fluctuations are of order $n^{-2/3}$: $\mathbb{E}\,\|W\|_2 = 1 + \sqrt a + c\,n^{-2/3} + o(n^{-2/3})$ (the fit's next term, $n^{-4/3}$, rests on "
            r"Ma's (2012) rate and is measured, not derived) with "
            r"$c = \mu_{TW}(1 + a^{-1/2})^{1/3}/2$, $\mu_{TW} = -1.2065$ the mean of the Tracy-Widom law $F_1$, the "
            r"scale derived by SymPy from Johnstone's (2001) Theorem 1.1 (assuming the mean converges with the law). "
            r"Verified by a sweep $n = " + ", ".join(map(str, ROWS)) + r"$, each point the mean of $\|W\|_2$ over "
            r"independent matrices less Ma's (2012) second-order centring shift $\delta = O(1/n)$, extrapolated in "
            r"powers of $n^{-2/3}$: the limit and $c$ are tested, the $n^{-4/3}$ term is fitted."
        ),
        kind="asymptotic",
        parameters=(
            real("aspect", 0.25, r"the aspect ratio $m/n$ of the matrix", low=0.25, high=4.0, typical=(0.25, 4.0),
                 latex="a"),
            choice("method", kernels.METHODS, "bidiagonal",
                   r"how the largest singular value is sampled: bidiagonal, the exact chi-bidiagonal reduction of the "
                   r"Gaussian matrix (fast); dense, real Gaussian matrices", typical=("bidiagonal",), setting=True),
        ),
        limit=Limit("n", sweep=ROWS, order=2 / 3, terms=2, description="the number of rows", latex="n"),
        derive=_S.derive_spectral,
        experiment=kernels.spectral_experiment,
        sources=(_S.GEMAN, _S.YIN, _S.BAI_SILVERSTEIN, _S.JOHNSTONE, _S.MA, _S.FERRARI_SPOHN, _S.TRACY_WIDOM),
        pilot=256,
        remarks=spectral_remarks,
        corrections=(Correction(term=1, derive=_S.derive_spectral_correction),),
    )
)


def bound_remarks(values: dict) -> list[str]:
    return [
        r"bias-free ReLU networks on $\mathbb{R}^2$, every $W_l$ scaled to $\|W_l\|_2 = s$: the activation regions are "
        r"sectors, enumerated exactly, so $\mathrm{Lip}(f) = \max_x \|J(x)\|_2$ is found, not sampled; the attaining "
        r"network is a chain of rank-one layers $s\,v_l v_{l-1}^\top$ with positive $v_l$",
        r"the estimate is the largest $\mathrm{Lip}(f)$ over the attaining network, the near-aligned ones and "
        f"{kernels.NETWORKS} random Gaussian ones: $s^L$ itself when none passes the bound; the tolerance is the "
        r"rounding of the scaled norms and of the Jacobian; the random networks and "
        f"{kernels.NEAR} near-aligned ones (rank-one chains tilted by ${kernels.TILT:g}$, whose constants come within a "
        r"few percent of $s^L$) decide the upper side (one above $s^L$ would raise the estimate past the closed form "
        r"and fail the run), the chain the attainment; the notes give their largest ratios to $s^L$ and how the "
        r"random networks' ratio falls with depth",
    ]


BOUND = register(
    Claim(
        id="lipschitz.bound",
        title=r"A network with 1-Lipschitz activations has $\mathrm{Lip}(f) \le \prod_l \|W_l\|_2$, attained",
        statement=(
            r"For $f = W_L \psi(W_{L-1} \cdots \psi(W_1 x))$ with coordinatewise 1-Lipschitz activations $\psi$ "
            r"(ReLU), $\|f(x) - f(y)\|_2 \le \prod_l \|W_l\|_2\, \|x - y\|_2$: each layer multiplies distances by at "
            r"most $\|W_l\|_2$ (induction checked by SymPy), so with every $\|W_l\|_2 = s$ the supremum over networks "
            r"of $\mathrm{Lip}(f)$ is $s^L$, attained by a chain of rank-one layers with positive singular vectors "
            "(its Jacobian product checked by induction); the operator-norm inequality and the least upper bound are "
            r"cited theorems, verified numerically. The true local constant $\max_x \|J(x)\|_2$ of random ReLU networks "
            r"on $\mathbb{R}^2$ is found exactly, by enumerating their activation sectors, and never exceeds the "
            r"product; its ratio to it falls with depth (median about $0.06$ at $L = 5$, width $8$, about half per layer): the product bound is "
            "loose for random networks, exact only for aligned ones. Neither the sum of the norms nor a product "
            "missing a layer is a bound: the chain exceeds both."
        ),
        kind="exact",
        parameters=(
            integer("width", 8, "the width of every hidden layer and of the output", low=1, high=16, typical=(1, 12)),
            integer("depth", 5, "the number of weight matrices", low=1, high=8, typical=(1, 6), latex="L"),
            real("norm", 2.0, r"the spectral norm $s$ of every layer", low=0.0, open_low=True, high=4.0,
                 typical=(0.25, 3.0), latex="s"),
        ),
        derive=_S.derive_bound,
        experiment=kernels.bound_experiment,
        sources=(_S.SZEGEDY, _S.VIRMAUX, _S.HORN_JOHNSON, _S.RUDIN),
        remarks=bound_remarks,
    )
)
