"""The ``dropout.*`` claims: dropout in linear regression is ridge regression with penalty
((1 - q)/q) diag(X^T X) (Srivastava et al. 2014, Section 9.1; Wager, Wang and Liang 2013), and weight scaling is
exact for the normalised weighted geometric mean of a softmax layer's sub-networks but not for a ReLU unit
(Hinton et al. 2012; Baldi and Sadowski 2013)."""

from __future__ import annotations

from numerics import dropout as kernels
from proofs import dropout as derivations

from ..claim_type import Claim
from ..parameters import choice, integer, real
from ..registry import register

__all__ = ["RIDGE", "WEIGHT_SCALING", "LATTICE_LIMIT", "lattice_constraint"]

_S = derivations
LATTICE_LIMIT = 1 << 21  # most mask-class pairs per network (2^n K): 16 MiB per float64 array of a network


def ridge_remarks(values: dict) -> list[str]:
    scales = "from $1/2$ to $2$" if values["features"] > 1 else "$1$"
    notes = [
        rf"each replicate an independent problem: $X$ with Gaussian columns rescaled to $\|x_j\| = \sqrt{{N}} s_j$, "
        rf"$s_j$ geometric {scales} (so $\operatorname{{diag}} X^\top X$ is far from a multiple of $I$), weights "
        r"$w_j = \pm 1/s_j$ with random signs, $y = Xw + e$ with standard normal $e$",
    ]
    if values["quantity"] == "identity":
        notes.append(rf"statistic: the dropout loss averaged over ${kernels.MASKS}$ independent masks (one mask for all "
                     r"rows), less $\|y - Xw\|^2$, over $\sum_j \|x_j\|^2 w_j^2$: its mean given the problem is the "
                     "coefficient itself")
    else:
        eta, rho, burn = kernels.sgd_schedule(values["q"], values["features"], values["samples"])
        notes.append(
            rf"statistic: SGD with dropout (a fresh mask per example and step) from $w = 0$ in standardised coordinates "
            rf"(step $\eta = Nq^2/(2d)$ with preconditioner $\operatorname{{diag}}(X^\top X)^{{-1}}$), the iterates averaged "
            rf"over ${kernels.AVERAGED}$ steps after a burn-in of ${burn}$ (the mean iterate contracts by "
            rf"$\rho = {rho:.4f}$ a step); $\hat\Lambda = \langle u, X^\top y - X^\top X \bar w\rangle/\|u\|^2$ with "
            r"$u = \operatorname{diag}(X^\top X)\, w_{\mathrm{ridge}}$, whose mean is the coefficient exactly when "
            r"$\mathbb{E}\,\bar w = w_{\mathrm{ridge}}$; the bias the burn-in leaves is bounded and added to the tolerance")
    return notes


RIDGE = register(
    Claim(
        id="dropout.ridge",
        title=r"Dropout in linear regression is ridge regression with penalty $\frac{1-q}{q} \operatorname{diag}(X^\top X)$",
        statement=(
            r"With inverted dropout at keep probability $q$ on the inputs of a linear model (independent "
            r"Bernoulli$(q)$ masks, kept inputs scaled by $1/q$), "
            r"$\mathbb{E}_m \|y - X \operatorname{diag}(m) w/q\|^2 = \|y - Xw\|^2 + \frac{1-q}{q} \sum_j \|x_j\|^2 w_j^2$ "
            r"for every $X$, $y$ and $w$, whether one mask serves all rows or each row draws its own (Srivastava et "
            r"al. 2014, Section 9.1, whose dropout is not inverted: their $\tilde w = qw$ is our $w$; Wager, Wang and "
            r"Liang 2013). So the dropout "
            r"objective's minimiser is the ridge estimator $(X^\top X + \frac{1-q}{q} \operatorname{diag} X^\top X)^{-1} X^\top y$: "
            r"the penalty weights each coefficient by its feature's energy, not $\|w\|^2$, and carries $1/q$. The closed "
            r"form is the penalty coefficient $\frac{1-q}{q}$, measured by Monte Carlo over masks (identity), or through "
            r"the Polyak-Ruppert average of SGD with dropout, which converges in mean to the ridge solution (sgd)."
        ),
        kind="statistical",
        parameters=(
            real("q", 0.8, r"the keep probability of every input (a kept input is scaled by $1/q$)", low=0.05, high=0.95,
                 typical=(0.2, 0.9), latex="q"),
            integer("features", 8, "the number of inputs", low=1, high=16, typical=(1, 12), latex="d"),
            integer("samples", 32, "the number of rows of $X$", low=1, high=128, typical=(2, 64), latex="N"),
            choice("quantity", kernels.RIDGE_QUANTITIES, "identity",
                   "how the coefficient is measured: identity, the dropout loss averaged over masks; sgd, the averaged "
                   "iterate of SGD with dropout against the ridge solution", latex=r"\mathrm{quantity}"),
        ),
        derive=_S.derive_ridge,
        experiment=kernels.ridge_experiment,
        sources=(_S.SRIVASTAVA, _S.WAGER, _S.CASELLA),
        pilot=256,  # an SGD replicate runs about a thousand steps: the pilot is what the variance diagnostic needs
        remarks=ridge_remarks,
    )
)


def lattice_constraint(values: dict) -> str | None:
    """Refuse a layer whose enumeration would hold more than LATTICE_LIMIT mask-class pairs per network."""
    n, k = values["units"], values["outputs"]
    if 2**n * k <= LATTICE_LIMIT:
        return None
    return (f"units={n} with outputs={k} enumerates {2**n * k:,} mask-output pairs per network (more than "
            f"{LATTICE_LIMIT:,}); use outputs <= {LATTICE_LIMIT // 2**n} at units={n}")


def scaling_remarks(values: dict) -> list[str]:
    if values["quantity"] == "softmax":
        return [rf"${kernels.NETWORKS}$ networks $x \mapsto h = \operatorname{{relu}}(Vx + c) \mapsto "
                r"\operatorname{softmax}(W(m \odot h) + b)$ with weights on a dyadic grid (every sub-network's logits "
                r"exact in float64), every one of the $2^n$ masks; per pair of classes $(k, r)$, $r$ the class of the "
                r"smallest $(Wh)_r$, the effective scale $(\log \mathrm{NWGM}_k - \log \mathrm{NWGM}_r - b_k + b_r)/((Wh)_k - (Wh)_r)$; "
                "the estimate is the pair farthest from $q$ in units of its rounding bound, which is the tolerance"]
    return [rf"${kernels.NETWORKS}$ ReLU layers $\operatorname{{relu}}(V(m \odot x) + c)$ on a dyadic grid, every mask; "
            r"unit $0$ of each is tuned to $q\sum_j V_j x_j + c = 0$ exactly (the bound's equality case), the others "
            r"random; the estimate is the largest ratio of the gap $\mathbb{E}\operatorname{relu}(z) - \operatorname{relu}(\mathbb{E}z)$ "
            r"to $\mathbb{E}|z - \mathbb{E}z|/2$",
            r"the ratio $1$ is reached by the tuned units, by design: it confirms the equality case, not that random "
            r"units come near it; the random units are an event check (no unit may exceed its bound, rounding aside; "
            r"counted below), not an estimate of the supremum"]


WEIGHT_SCALING = register(
    Claim(
        id="dropout.weight-scaling",
        title=r"Weight scaling: $\operatorname{softmax}(qWh + b)$ is the NWGM of the $2^n$ sub-networks; a ReLU unit "
              r"has $0 \le \mathbb{E}\operatorname{relu}(z) - \operatorname{relu}(\mathbb{E}z) \le \mathbb{E}|z - \mathbb{E}z|/2$",
        statement=(
            r"Drop each of the $n$ inputs $h$ of a softmax layer independently with probability $1 - q$ (no rescaling in "
            r"training). The normalised weighted geometric mean of the $2^n$ sub-networks' outputs "
            r"$\operatorname{softmax}(W(m \odot h) + b)$, weighted by $q^{|m|}(1 - q)^{n - |m|}$, is exactly "
            r"$\operatorname{softmax}(qWh + b)$, the weight-scaled network (Hinton et al. 2012; Baldi and Sadowski 2013): "
            r"$\log \mathrm{NWGM}_k - \log \mathrm{NWGM}_l$ is the mask average of $z_k(m) - z_l(m)$ (the arithmetic mean "
            r"of the sub-networks is not a scaled softmax). For a ReLU unit weight scaling is not the mask average: "
            r"$0 \le \mathbb{E}\operatorname{relu}(z) - \operatorname{relu}(\mathbb{E} z) = (\mathbb{E}|z| - |\mathbb{E}z|)/2 "
            r"\le \mathbb{E}|z - \mathbb{E}z|/2 \le \sqrt{\operatorname{Var} z}/2$, the middle bound attained when "
            r"$\mathbb{E}z = 0$ (the lift of the triangle inequality to expectations, the sign and Cauchy-Schwarz are "
            r"cited theorems). The verifier compares the sharp constants, every mask enumerated and the pre-activations "
            r"exact, for $n \le 16$: the scale $s$ in $\mathrm{NWGM} = \operatorname{softmax}(sWh + b)$, $q$ (softmax), "
            r"and the least $\rho$ with gap $\le \rho\,\mathbb{E}|z - \mathbb{E}z|/2$ for every unit, $1$ (relu; the "
            r"$1$ is reached by units built with $\mathbb{E}z = 0$, by design, while the random units are an event check "
            r"that none exceeds its bound)."
        ),
        kind="exact",
        parameters=(
            real("q", 0.5, "the keep probability of every input unit", low=0.01, high=0.99, typical=(0.05, 0.95), latex="q"),
            integer("units", 12, "the number of dropped input units $n$ (every one of the $2^n$ masks is enumerated)",
                    low=2, high=16, typical=(2, 13), latex="n"),
            integer("outputs", 10, "the layer's outputs: classes of the softmax layer, or ReLU units", low=2, high=64,
                    typical=(2, 16), latex="K"),
            choice("quantity", kernels.SCALING_QUANTITIES, "softmax",
                   r"which sharp constant the verifier checks: softmax, the scale $s$ of $\mathrm{NWGM} = "
                   r"\operatorname{softmax}(sWh + b)$, which is $q$; relu, the least $\rho$ with gap $\le \rho\,"
                   r"\mathbb{E}|z - \mathbb{E}z|/2$ for every unit, which is $1$",
                   codes=tuple(_S.QUANTITIES[k] for k in kernels.SCALING_QUANTITIES), latex=r"\mathrm{quantity}"),
        ),
        derive=_S.derive_weight_scaling,
        experiment=kernels.weight_scaling_experiment,
        sources=(_S.HINTON, _S.BALDI, _S.SRIVASTAVA, _S.CASELLA),
        constraint=lattice_constraint,
        remarks=scaling_remarks,
    )
)
