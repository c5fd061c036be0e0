"""The ``mup.feature-learning`` claim: after one SGD step the hidden pre-activations of a one-hidden-layer network
of width N move by Theta(N^(-1/2)) in the NTK parameterisation and by Theta(1) in muP (Yang and Hu 2021), so the
lazy regime of ``ntk.lazy-training`` learns no features in the limit and muP does."""

from __future__ import annotations

from numerics import feature_learning as kernels
from numerics import lazy_training
from proofs import feature_learning as derivations

from ..asymptotics import Limit
from ..claim_type import Claim
from ..parameters import choice
from ..registry import register

__all__ = ["FEATURE_LEARNING", "WIDTHS"]

_S = derivations
# N; each replicate also steps a network of width 2N (up to 512). The local exponent's spread is sqrt(1.5/N) and
# its mean e + 1.0/N (both measured from 2000 replicates per width, N = 16 to 1024, and as the delta method predicts
# from the task: CV^2 = 2.9 of a unit's mean square move), so the cost of a point is about the same at every width
# and the smallest widths where one 1/N term fits are the cheapest.
WIDTHS = (32, 64, 128, 256)


def feature_remarks(values: dict) -> list[str]:
    a1, b1, a2, b2, c = kernels.EXPONENTS[values["parameterization"]]
    return [
        "one replicate: a network of width $N$ and one of width $2N$ sharing their draws (the $N/2$ base units of "
        "the narrow one are the first of the wide one's), doubling initialisation ($f_0 = 0$), one step of gradient "
        "descent on both layers over the whole task with learning rate $\\eta N^{-c}$, $\\eta = 1/\\lambda_{\\max}$ "
        "of the infinite-width NTK Gram matrix; statistic: the local exponent $\\log_2(y(2N)/y(N))$ of the "
        "root-mean-square move $y$ of the hidden pre-activations over units and inputs, from two forward passes",
        f"$(a_1, b_1, a_2, b_2, c) = ({a1:g}, {b1:g}, {a2:g}, {b2:g}, {c:g})$: multipliers $N^{{-a}}$, initial "
        "standard deviations $N^{-b}$, learning rate $\\eta N^{-c}$; the NTK network is ntk.lazy-training's",
        f"task: ntk.lazy-training's, $n = {lazy_training.INPUTS}$ inputs in $\\mathbb{{R}}^{{{lazy_training.DIMENSION}}}$",
        "the fitted $1/N$ coefficient is expected near $\\mathrm{CV}^2/(4 \\ln 2) \\approx 1.04$, the delta method's "
        "bias of a log-ratio of means, $\\mathrm{CV}^2 \\approx 2.89$ the squared coefficient of variation of a unit's "
        "mean square move on this task (measured, not derived: it is not tested)",
    ]


FEATURE_LEARNING = register(
    Claim(
        id="mup.feature-learning",
        title=(r"Feature learning: one SGD step moves the hidden pre-activations by $\Theta(N^{-1/2})$ in NTK and by "
               r"$\Theta(1)$ in $\mu$P"),
        statement=(
            r"For a one-hidden-layer ReLU network of width $N$, $h_i(x) = N^{-a_1} w_i \cdot x/\sqrt{d}$ and "
            r"$f(x) = g\, N^{-a_2} \sum_i u_i \operatorname{relu}(h_i(x))$ (the gain $g = \sqrt{2}$ of ntk.lazy-training, "
            r"a constant no exponent sees), with $w_i$ and $u_i$ drawn with standard deviations $N^{-b_1}$ and "
            r"$N^{-b_2}$ (doubled, so $f_0 = 0$) and one SGD step on the square loss whose minibatch is the whole fixed "
            r"task (one full-batch gradient step) with learning rate $\eta N^{-c}$, the root-mean-square move $y(N)$ of the hidden "
            r"pre-activations is $\Theta(N^{e})$ with $e = -(c + 2a_1 + a_2 + b_2)$: $e = -1/2$ in the NTK "
            r"parameterisation $(a_1, b_1, a_2, b_2, c) = (0, 0, 1/2, 0, 0)$ and $e = 0$ in the maximal-update "
            r"parameterisation $\mu$P $(-1/2, 1/2, 1/2, 1/2, 0)$ (Yang and Hu 2021). The mean local exponent "
            r"$\mathbb{E} \log_2(y(2N)/y(N))$ tends to $e$ as $N \to \infty$ (the exponents are checked by SymPy; the "
            "passage from the mean local exponent to them is the strong law of large numbers, a cited theorem). So "
            r"the lazy regime of ntk.lazy-training moves its features by $O(N^{-1/2})$, nothing in the limit, while "
            r"$\mu$P moves them by $\Theta(1)$. Resolutions are absolute (an exponent)."
        ),
        kind="asymptotic",
        parameters=(
            # default ntk: there the closed form is -1/2, so the registry's standard wrong variants (twice it, and 0:
            # "NTK learns features") differ from it; muP's closed form 0 is unchanged by both
            choice("parameterization", kernels.PARAMETERIZATIONS, "ntk",
                   r"the parameterisation: ntk, the NTK parameterisation of ntk.lazy-training; mup, the maximal-update "
                   r"parameterisation $\mu$P", codes=tuple(_S.PARAMETERIZATIONS[p] for p in kernels.PARAMETERIZATIONS),
                   latex=r"\mathrm{parameterization}"),
        ),
        limit=Limit("N", sweep=WIDTHS, order=1, terms=1, description="width of the hidden layer", latex="N"),
        derive=_S.derive_feature_learning,
        experiment=kernels.feature_experiment,
        sources=(_S.YANG2021, _S.CASELLA),
        scale="absolute",
        pilot=256,  # the local exponent's kurtosis is about 3 to 4: a variance settled to 10% takes 200 to 300 replicates
        max_replicates=200_000,
        resolution=0.05,  # an exponent to 0.05: ten times finer than the 1/2 between the two parameterisations
        remarks=feature_remarks,
    )
)
