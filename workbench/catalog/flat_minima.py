"""The ``flat-minima.reparam`` claim: positive rescaling of a ReLU network leaves its function unchanged and
multiplies the blocks of its Hessian by alpha^-2, alpha^2 and 1, so sharpness measures move while the test
loss does not (Dinh, Pascanu, Bengio and Bengio 2017)."""

from __future__ import annotations

from numerics import flat_minima as kernels
from proofs import flat_minima as derivations

from ..claim_type import Claim
from ..parameters import choice, integer, real
from ..registry import register

__all__ = ["REPARAM", "reparam_remarks"]

_S = derivations


def reparam_remarks(values: dict) -> list[str]:
    """How the network and its task are made (the same at every parameter value but the width)."""
    m = values["width"]
    return [
        rf"network $f(x) = w_2^\top \operatorname{{relu}}(W_1 x)$: $m = {m}$ hidden units, $d = {kernels.INPUTS}$ inputs, "
        rf"$P = {m * (kernels.INPUTS + 1)}$ parameters; squared loss on $N = {kernels.SAMPLES}$ training inputs, float64",
        rf"task: a teacher of width $m$; training inputs kept ${kernels.MARGIN:g}$ clear of its kinks; label noise "
        rf"(scale ${kernels.NOISE:g}$) orthogonal to the fit's columns on its activation region, so the minimum is inside "
        rf"that region with a nonzero residual; trained from a start ${kernels.PERTURB:g}$ off by {kernels.LM_STEPS} "
        "Levenberg-Marquardt steps",
        r"estimate: the least-squares factor $\langle H'_b, H_b\rangle/\langle H_b, H_b\rangle$ of the block between the "
        r"exact Hessians at $T_\alpha\theta$ and $\theta$; tolerance: its rigorous float64 rounding bound (each entry "
        r"within $\gamma_K$ of its absolute-value evaluation, $K = d + m + N + 6$)",
    ]


REPARAM = register(
    Claim(
        id="flat-minima.reparam",
        title=r"Positive rescaling $T_\alpha(W_1, W_2) = (\alpha W_1, W_2/\alpha)$ multiplies the Hessian's blocks by "
              r"$\alpha^{-2}$, $\alpha^2$ and $1$, and leaves the function unchanged",
        statement=(
            r"For $f(x) = W_2 \operatorname{relu}(W_1 x)$ of any width $m$ and input dimension $d$, and any $\alpha > 0$, "
            r"the rescaling $T_\alpha(W_1, W_2) = (\alpha W_1, W_2/\alpha)$ is linear, $T_\alpha\theta = D\theta$ with "
            r"$D = \operatorname{diag}(\alpha I_{md}, \alpha^{-1} I_m)$, and leaves $f$, hence the training and test "
            r"loss, unchanged (relu is positively homogeneous). Where no pre-activation of a training input vanishes, "
            r"the Hessians $H = \nabla^2 L(\theta)$ and $H' = \nabla^2 L(T_\alpha\theta)$ of any twice-differentiable "
            r"loss of the output satisfy $H' = D^{-1} H D^{-1}$: the $W_1$ block is multiplied by $\alpha^{-2}$, the "
            r"$W_2$ block by $\alpha^2$ and the cross block by $1$ ($\kappa$ below is that factor for block $b$, as the "
            r"verifier measures it). So $\lambda_{\max}(H') \ge \max(\alpha^{-2} a, \alpha^2 c) \ge \sqrt{ac}$ "
            r"($a, c$ the top eigenvalues of the two diagonal blocks of $H$), the Hessian's norm (Dinh et al. 2017, "
            r"Theorem 3) and the $\epsilon$-sharpness of Keskar et al. (2017, Metric 2.1; derived here) grow without "
            r"bound as $\alpha \to 0$ or $\infty$, while the test loss does not move. The usual statement is loose "
            r"twice: the Hessian must exist at the minimum (least-squares training of a ReLU network often ends on a "
            r"kink, where it does not), and $T_\alpha$ makes a minimum arbitrarily sharp but never arbitrarily flat. "
            r"The proof rests on one cited theorem, the chain rule (Rudin 1976, Theorem 9.15); SymPy checks the rest "
            r"at symbolic $m$ and $d$. Verified on a trained network ($d = 4$; the verifier's parameters range over "
            r"$10^{-4} \le \alpha \le 10^4$ and $m \le 24$, the law's only conditions being $\alpha > 0$ and no "
            r"vanishing pre-activation): the exact float64 Hessians at $\theta$ and $T_\alpha\theta$, every entry "
            "compared with the law within a rigorous rounding bound, and the test outputs compared; a run where either "
            "fails beyond rounding, or a pre-activation is within rounding of a kink, is inconclusive."
        ),
        kind="exact",
        parameters=(
            real("scale", 0.1, r"the rescaling factor of $T_\alpha$ (the law holds for every $\alpha > 0$; the verifier "
                 r"takes $10^{-4} \le \alpha \le 10^4$)", low=1e-4, high=1e4, typical=(0.01, 100.0), latex=r"\alpha"),
            integer("width", 8, "the number of hidden units of the verified network and of its teacher (the law holds at "
                    r"every width; the verifier takes $m \le 24$, so that its $5m$ parameters stay fewer than the "
                    rf"${kernels.SAMPLES}$ training inputs)", low=1, high=24, typical=(1, 12), latex="m"),
            choice("block", kernels.BLOCKS, "W1", r"the block of the Hessian: W1 ($W_1$ with $W_1$, factor $\alpha^{-2}$), "
                   r"W2 ($W_2$ with $W_2$, factor $\alpha^2$) or cross ($W_1$ with $W_2$, factor $1$)",
                   codes=tuple(_S.BLOCKS[b] for b in kernels.BLOCKS), latex=r"\mathrm{block}"),
        ),
        derive=_S.derive_reparam,
        experiment=kernels.reparam_experiment,
        sources=_S.SOURCES,
        remarks=reparam_remarks,
    )
)
