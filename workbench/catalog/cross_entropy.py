"""The ``xent.*`` claims: softmax cross-entropy as the margin loss ln(1 + e^m)."""

from __future__ import annotations

from numerics import cross_entropy as kernels
from proofs import cross_entropy as derivations

from ..claim_type import Claim
from ..parameters import choice, integer, real
from ..registry import register

__all__ = ["MARGIN", "DERIVATIVES", "ASYMPTOTES", "SCORE_IDENTITY"]

_S = derivations
FLOAT_MAX = 1.7976931348623157e308


def _classes(default: int, high: int, typical: tuple[int, int]):
    return integer("K", default, "the number of classes", low=2, high=high, typical=typical)


def _derivative_method(values: dict) -> list[str]:
    """How ``xent.derivatives`` is measured at ``values`` (see numerics.cross_entropy.derivatives_experiment)."""
    where = r"at the margin $-|m|$ (the reflection $L(m) = m + L(-m)$ keeps the linear part out of the differences)"
    if abs(values["m"]) > kernels.FLOAT_REACH:
        return [rf"central differences of $L(y) = \ln(1 + e^y)$ {where}, in {kernels.CERTIFY_BITS}-bit interval "
                r"arithmetic with step $2^{-40}$ and the derived truncation bound, rounded to the nearest double: "
                r"beyond $|m| = 707.4$ a float64 stencil leaves the normal range"]
    return [rf"central differences of the float64 cross-entropy kernel {where}; step and tolerance on the "
            r"derivative's own scale $e^{-|m|}$, from the derived $|L'''|, |L''''| \le L'' \le e^{-|m|}$"]


MARGIN = register(
    Claim(
        id="xent.margin",
        title=r"Softmax cross-entropy is the margin loss $\ln(1 + e^m)$",
        statement=(
            r"The softmax cross-entropy of the correct class equals $\ln\big(1 + \sum_{j \ne y} e^{z_j - z_y}\big)$; "
            r"with $K - 1$ wrong classes at margin $m$ it is $\ln(1 + (K - 1)\,e^m)$, and $\ln(1 + e^m)$ for two "
            "classes."
        ),
        kind="exact",
        parameters=(
            _classes(2, 1_000_000, (2, 64)),
            real("m", 1.5, r"the margin $z_{\mathrm{wrong}} - z_{\mathrm{correct}}$", typical=(-FLOAT_MAX, FLOAT_MAX)),
        ),
        derive=_S.derive_margin,
        experiment=kernels.margin_experiment,
        sources=(_S.BRIDLE, _S.GOODFELLOW),
    )
)

DERIVATIVES = register(
    Claim(
        id="xent.derivatives",
        title=r"$L'(m) = \sigma(m)$ and $L''(m) = \sigma(m)\,(1 - \sigma(m)) \in (0, 1/4]$",
        statement=(
            r"The margin loss has $L'(m) = \sigma(m)$ and $L''(m) = \sigma(m)\,(1 - \sigma(m)) \in (0, 1/4]$, so it "
            r"is convex; the multiclass gradient is $\operatorname{softmax}(z) - e_y$."
        ),
        kind="exact",
        parameters=(
            real("m", 1.5, "the margin at which the derivative is taken", low=-1e6, high=1e6, typical=(-50.0, 50.0)),
            choice("n", (1, 2), 1, "the order of the derivative", assumptions={"integer": True, "positive": True}),
        ),
        derive=_S.derive_derivatives,
        experiment=kernels.derivatives_experiment,
        sources=(_S.GOODFELLOW, _S.BRIDLE),
        remarks=_derivative_method,
    )
)

ASYMPTOTES = register(
    Claim(
        id="xent.asymptotes",
        title=r"$0 < L(m) - \max(m, 0) \le \ln 2$, with $L(m) \sim m$ and $L(m) \sim e^m$",
        statement=(
            r"The gap $L(m) - \max(m, 0) = \ln(1 + e^{-|m|})$ lies in $(0, \ln 2]$; $L(m) - m \to 0$ as "
            r"$m \to +\infty$ and $L(m)\,e^{-m} \to 1$ as $m \to -\infty$. The stable kernel "
            r"$\max(m, 0) + \operatorname{log1p}(e^{-|m|})$ is accurate to a few ulp over the whole float64 range, "
            r"where $\log(1 + \exp(m))$ overflows or loses all digits."
        ),
        kind="exact",
        parameters=(real("m", -40.0, "the margin", typical=(-FLOAT_MAX, FLOAT_MAX)),),
        derive=_S.derive_asymptotes,
        experiment=kernels.asymptotes_experiment,
        sources=(_S.BLANCHARD, _S.MAECHLER),
    )
)

SCORE_IDENTITY = register(
    Claim(
        id="xent.score-identity",
        title=r"The expected gradient of the cross-entropy is zero when $y \sim \operatorname{softmax}(z)$",
        statement=(
            r"When the label is drawn from the model, $y \sim \operatorname{softmax}(z)$, the expected gradient of "
            r"the cross-entropy vanishes: $\mathbb{E}\,[\operatorname{softmax}(z) - e_y] = 0$ (measured on the most "
            r"probable class, over random logits $z \sim \mathcal{N}(0, s^2 I_K)$)."
        ),
        kind="statistical",
        parameters=(
            _classes(10, 4096, (2, 64)),
            real("s", 2.0, r"the scale of the logits, $z \sim \mathcal{N}(0, s^2 I_K)$", low=0.0, open_low=True,
                 high=100.0, typical=(0.05, 20.0)),
        ),
        derive=_S.derive_score_identity,
        experiment=kernels.score_identity_experiment,
        sources=(_S.CASELLA, _S.GOODFELLOW),
        scale="absolute",
    )
)
