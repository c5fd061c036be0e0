"""The ``residual.*`` claims: the Jacobian of a residual stack, its singular-value bounds, and why
residual connections keep the gradient from vanishing."""

from __future__ import annotations

import math

from numerics import residual as kernels
from proofs import residual as derivations

from ..claim_type import Claim
from ..parameters import choice, integer, real
from ..registry import register

__all__ = ["JACOBIAN", "SINGULAR_BOUNDS", "VANISHING", "LOG_VARIANCE_LIMIT", "relative_variance", "variance_constraint"]

_S = derivations
LOG_VARIANCE_LIMIT = 2.0  # one stack's statistic may have relative variance up to e^2 - 1 = 6.4
RELU_MASK_EXCESS = 5.0  # extra per-block relative variance (times sigma^4 / n) from the random ReLU mask


def _width(default: int, high: int, typical: tuple[int, int], doc: str):
    return integer("width", default, doc, low=1, high=high, typical=typical, latex="n")


def _depth(default: int, high: int, typical: tuple[int, int]):
    return integer("depth", default, "the number of residual blocks", low=1, high=high, typical=typical, latex="L")


def relative_variance(width: int, sigma2: float) -> float:
    """Var/mean^2 of one Gaussian block's gain, (4 sigma^2 + 2 sigma^4)/(n (1 + sigma^2)^2)
    (:func:`proofs.residual.derive_gaussian_reduction`)."""
    return (4 * sigma2 + 2 * sigma2**2) / (width * (1 + sigma2) ** 2)


def variance_constraint(values: dict) -> str | None:
    """Refuse stacks whose statistic ||P_L u||^2 is too heavy-tailed for a Monte Carlo mean: its
    relative variance is (1 + v)^L - 1 with v one block's (exact for Gaussian blocks; the ReLU
    mask adds about 5 sigma^4/n, counted for every method so the domain does not depend on it)."""
    n, depth, s2 = values["width"], values["depth"], values["sigma2"]
    per_block = relative_variance(n, s2) + RELU_MASK_EXCESS * s2**2 / (n * (1 + s2) ** 2)
    log_var = depth * math.log1p(per_block)
    if log_var <= LOG_VARIANCE_LIMIT:
        return None
    deepest = max(0, math.floor(LOG_VARIANCE_LIMIT / math.log1p(per_block)))
    return (
        f"depth={depth} is too deep for width={n} and sigma2={s2:g}: one stack's ||P_L u||^2 would have relative "
        f"variance about {math.expm1(log_var):.3g} (more than e^{LOG_VARIANCE_LIMIT:g} - 1), too heavy-tailed for a "
        f"trustworthy Monte Carlo mean; use depth <= {deepest} here, a wider stack or a smaller sigma2"
    )


JACOBIAN = register(
    Claim(
        id="residual.jacobian",
        title=r"Residual stack: the Jacobian is the ordered product $(I + J_{F_L}) \cdots (I + J_{F_1})$",
        statement=(
            r"A residual block $y = x + F(x)$ has Jacobian $I + J_F$, and a stack of $L$ blocks has the ordered product "
            r"$(I + J_{F_L}) \cdots (I + J_{F_1})$, each $J_{F_l}$ at the block's own input (the chain rule, checked by "
            r"SymPy for generic $F$ and $G$). Measured on real ReLU blocks: on a segment $x \pm hu$ on which no ReLU "
            r"changes sign the central difference of the network equals the chain-rule product applied to $u$, up to a "
            r"rigorous bound on the rounding of both."
        ),
        kind="exact",
        scale="absolute",
        parameters=(
            _width(32, 128, (1, 64), "the width of every block (input, hidden layer and output)"),
            _depth(8, 64, (1, 16)),
        ),
        derive=_S.derive_jacobian,
        experiment=kernels.jacobian_experiment,
        sources=(_S.HE_RESNET, _S.HE_IDENTITY, _S.RUDIN, _S.HIGHAM),
    )
)

SINGULAR_BOUNDS = register(
    Claim(
        id="residual.singular-bounds",
        title=r"Residual stack: if every $\|J_F\|_2 \le \epsilon < 1$, its singular values lie in "
              r"$[(1 - \epsilon)^L, (1 + \epsilon)^L]$",
        statement=(
            r"If every block's Jacobian has $\|J_{F_l}\|_2 \le \epsilon < 1$, every singular value of "
            r"$(I + J_{F_L}) \cdots (I + J_{F_1})$ lies in $[(1 - \epsilon)^L, (1 + \epsilon)^L]$ (submultiplicativity "
            r"of the spectral norm, the triangle inequality and the Neumann series), and both ends are attained, by "
            r"$J_l = \epsilon I$ and $J_l = -\epsilon I$: the bound is the supremum (upper) or infimum (lower) over "
            r"admissible stacks. A cited theorem, verified numerically (the $2 \times 2$ rotation case and the "
            r"attaining stacks are checked by SymPy): on the attaining stack and on random stacks scaled to "
            r"$\|J_l\|_2 = \epsilon$, none of which may pass the bound. A run whose rounding bounds certify no random "
            r"stack (long stacks with $\epsilon$ near $1$) checks only the attaining stack, which meets the bound by "
            "construction: it is inconclusive, never a pass."
        ),
        kind="exact",
        parameters=(
            _width(16, 64, (1, 32), "the width of the stack"),
            _depth(20, 100, (1, 30)),
            real("eps", 0.1, r"the bound on every $\|J_{F_l}\|_2$, at most $0.99$, which keeps every factor's condition "
                 r"number $(1 + \epsilon)/(1 - \epsilon) \le 199$ and $(1 - \epsilon)^L \ge 10^{-200}$ within float64",
                 low=0.0, open_low=True, high=0.99,
                 typical=(0.01, 0.5), latex=r"\epsilon"),
            choice("bound", kernels.BOUNDS, "lower", r"the end stated: upper, $\sup \sigma_{\max} = (1 + \epsilon)^L$; "
                   r"lower, $\inf \sigma_{\min} = (1 - \epsilon)^L$", codes=tuple(_S.BOUNDS[b] for b in kernels.BOUNDS), latex=r"\mathrm{bound}"),
        ),
        derive=_S.derive_singular_bounds,
        experiment=kernels.singular_bounds_experiment,
        sources=(_S.HORN_JOHNSON, _S.HARDT_MA),
    )
)

VANISHING = register(
    Claim(
        id="residual.vanishing",
        title=r"Residual stack: $\mathbb{E}\,\|P_L u\|^2 = (1 + \sigma^2)^L$ exactly, so $\sigma^2 = \alpha/L$ keeps "
              "the gradient bounded",
        statement=(
            r"A plain chain whose layers each scale the gradient by $g$ has gradient norm $g^L$ "
            r"($0.95^{30} = 0.2146\ldots$). A residual stack whose block Jacobians $J_l$ are independent with iid "
            r"$\mathcal{N}(0, \sigma^2/n)$ entries has "
            r"$\mathbb{E}\,\|(I + J_L) \cdots (I + J_1) u\|^2 = (1 + \sigma^2)^L \|u\|^2$, exactly at finite width "
            r"(and so do real blocks $x + W_2 \operatorname{relu}(W_1 x)$ with $W_1 \sim \mathcal{N}(0, 2/n)$, "
            r"$W_2 \sim \mathcal{N}(0, \sigma^2/n)$); a branch variance $\sigma^2 = \alpha/L$ gives "
            r"$(1 + \alpha/L)^L \le e^\alpha$ at any depth."
        ),
        kind="statistical",
        parameters=(
            _width(128, 4096, (4, 512), "the width of the stack"),
            _depth(30, 200, (1, 50)),
            real("sigma2", 0.1, r"the variance of the branch Jacobians' entries times the width, $J_{ij} \sim \mathcal{N}(0, \sigma^2/n)$", low=0.0, high=4.0,
                 typical=(0.0, 1.0), latex=r"\sigma^2"),
            choice("method", kernels.METHODS, "reduced",
                   "how the stacks are sampled: reduced, the exact law of each block's gain, two scalar draws per block "
                   "(fast); gaussian, dense float32 Gaussian $J_l$, one matmul per block; relu-mlp, real blocks "
                   r"$x + W_2 \operatorname{relu}(W_1 x)$, float32",
                   typical=("reduced",), setting=True),
        ),
        derive=_S.derive_vanishing,
        experiment=kernels.vanishing_experiment,
        sources=(_S.BENGIO, _S.BALDUZZI, _S.HANIN_ROLNICK, _S.HE_IDENTITY, _S.CASELLA),
        constraint=variance_constraint,
    )
)
