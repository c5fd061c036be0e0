"""The ``parity.gradient`` claim: over the 2^d parity targets the loss gradient hardly moves, so
gradients carry exponentially little information about which parity is the target."""

from __future__ import annotations

from numerics import parity as kernels
from proofs import parity as derivations

from ..claim_type import Claim
from ..parameters import integer
from ..registry import register

__all__ = ["GRADIENT", "MAX_FLOATS", "gradient_remarks", "size_constraint"]

_S = derivations
MAX_FLOATS = 1 << 23  # the largest gradient table, 2^d inputs x width (d + 2) parameters (64 MiB in float64)


def size_constraint(values: dict) -> str | None:
    """Refuse a gradient table (every input, every parameter) of more than :data:`MAX_FLOATS` floats."""
    d, width = values["d"], values["width"]
    floats = 2**d * width * (d + 2)
    if floats <= MAX_FLOATS:
        return None
    widest = MAX_FLOATS // (2**d * (d + 2))
    fix = f"use width <= {widest}" if widest >= 1 else "use a smaller d"
    return (f"d={d} with width={width} enumerates 2^{d} inputs x {width * (d + 2)} parameters = {floats:,} floats, "
            f"more than {MAX_FLOATS:,} (64 MiB per array); {fix}")


def gradient_remarks(values: dict) -> list[str]:
    """How the verifier's networks are made, and what each check rests on."""
    d, m = values["d"], values["width"]
    return [
        rf"networks: width $m = {m}$, $P = {m * (d + 2)}$ parameters, $W \sim N(0, 1/d)$, $a \sim N(0, 1/m)$, float64; the "
        r"attaining one is constructed: ReLU, each bias set so that its unit is off at $x = \mathbf{1}$ by a margin and "
        r"on somewhere, so $\nabla_w p_w(\mathbf{1}) = 0$ and it reaches $2^{-d}$ by design (the estimate is its ratio); "
        rf"{kernels.NETWORKS // 2} tanh and {kernels.NETWORKS - kernels.NETWORKS // 2} ReLU networks with biases "
        r"$N(0, 1/4)$ test the bound, the identity and the gradients",
        r"tolerances: rigorous float64 rounding bounds (standard model) on the ratio and on each identity's residual; "
        rf"the gradient check's bound adds the rounding of both sides, tanh assumed correct to {kernels.TANH_ULPS} ulps, "
        rf"with a complex step $h = 2^{{-100}}$ along a random direction per network",
    ]


GRADIENT = register(
    Claim(
        id="parity.gradient",
        title=r"Parities: over the $2^d$ targets the loss gradient varies by at most $G^2/2^d$, a bound attained",
        statement=(
            r"For $x$ uniform on $\{\pm 1\}^d$, the $2^d$ parity targets $\chi_S(x) = \prod_{i \in S} x_i$ "
            r"($\chi_\emptyset = 1$ included, so $|\mathcal{H}| = 2^d$) and any model $p_w$ with "
            r"$\mathbb{E}_x\|\nabla_w p_w(x)\|^2 \le G^2$, the square loss "
            r"$F_S(w) = \mathbb{E}_x[\frac{1}{2}(p_w(x) - \chi_S(x))^2]$ has "
            r"$\mathrm{Var}_S[\nabla F_S(w)] = \mathbb{E}_x\|\nabla_w p_w\|^2/2^d - \|\nabla_w p_w(\mathbf{1})\|^2/4^d "
            r"\le G^2/2^d$: Theorem 1 of Shalev-Shwartz, Shamir and Shammah (2017), stated here as an exact identity. "
            r"So $\sup_{p, w} \mathrm{Var}_S/\mathbb{E}_x\|\nabla_w p_w\|^2 = 2^{-d}$, attained exactly when "
            r"$\nabla_w p_w(\mathbf{1}) = 0$, e.g. by a ReLU network whose units are all off at $x = \mathbf{1}$: the "
            r"gradient carries exponentially little information about which parity is the target. The identity and "
            r"the supremum hold for every $d \ge 1$ and every model; the verifier's parameters range over $d \le 14$ "
            r"and networks of width $m \le 64$. A cited theorem (Parseval's theorem and the Fourier expansion on the "
            r"cube, their $d = 3$ instances checked by SymPy), verified numerically by enumerating every input and "
            r"every parity (a fast Walsh-Hadamard transform). The estimate is the ratio of a network constructed to "
            r"attain the bound (ReLU, every unit off at $\mathbf{1}$: it reaches $2^{-d}$ by design); 8 random tanh and "
            r"ReLU networks test the claim: none may pass the bound beyond float64 rounding, each must satisfy the "
            r"identity within its rounding bound (a violation fails the run), and each network's gradient is "
            r"checked against the model's own derivative by a complex step (a mismatch makes the run inconclusive). "
            r"With the unhalved loss $(p_w - \chi_S)^2$ the gradients double and the bound is $4 G^2/2^d$."
        ),
        kind="exact",
        parameters=(
            integer("d", 8, r"the input dimension: $2^d$ inputs and $2^d$ parity targets, all enumerated (the identity "
                    r"holds for every $d \ge 1$; the verifier takes $d \le 14$)", low=1, high=14, typical=(1, 10),
                    latex="d"),
            integer("width", 16, r"the hidden units of the verifier's networks $\sum_u a_u \sigma(W_u \cdot x + b_u)$, "
                    r"$m(d + 2)$ parameters (the identity holds for every model; the verifier takes $m \le 64$)", low=1,
                    high=64, typical=(1, 32), latex="m"),
        ),
        derive=_S.derive_gradient_variance,
        experiment=kernels.gradient_variance_experiment,
        sources=(_S.SHALEV_SHWARTZ, _S.ODONNELL, _S.HIGHAM),
        constraint=size_constraint,
        remarks=gradient_remarks,
    )
)
