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
    return integer("K", default, "number of classes", low=2, high=high, typical=typical)


MARGIN = register(
    Claim(
        id="xent.margin",
        title="Softmax cross-entropy is the margin loss ln(1 + e^m)",
        statement=(
            "The softmax cross-entropy of the correct class equals ln(1 + sum_{j != y} e^{z_j - z_y}); "
            "with K - 1 wrong classes at margin m it is ln(1 + (K - 1) e^m), and ln(1 + e^m) for two classes."
        ),
        kind="exact",
        parameters=(
            _classes(2, 1_000_000, (2, 64)),
            real("m", 1.5, "margin z_wrong - z_correct", typical=(-FLOAT_MAX, FLOAT_MAX)),
        ),
        derive=_S.derive_margin,
        experiment=kernels.margin_experiment,
        sources=(_S.BRIDLE, _S.GOODFELLOW),
    )
)

DERIVATIVES = register(
    Claim(
        id="xent.derivatives",
        title="L'(m) = sigma(m) and L''(m) = sigma(m)(1 - sigma(m)) in (0, 1/4]",
        statement=(
            "The margin loss has L'(m) = sigma(m) and L''(m) = sigma(m)(1 - sigma(m)) in (0, 1/4], so it is "
            "convex; the multiclass gradient is softmax(z) - e_y."
        ),
        kind="exact",
        parameters=(
            real("m", 1.5, "margin at which the derivative is taken", low=-1e6, high=1e6, typical=(-50.0, 50.0)),
            choice("n", (1, 2), 1, "order of the derivative", assumptions={"integer": True, "positive": True}),
        ),
        derive=_S.derive_derivatives,
        experiment=kernels.derivatives_experiment,
        sources=(_S.GOODFELLOW, _S.BRIDLE),
    )
)

ASYMPTOTES = register(
    Claim(
        id="xent.asymptotes",
        title="0 < L(m) - max(m, 0) <= ln 2, with L(m) ~ m and L(m) ~ e^m",
        statement=(
            "L(m) - max(m, 0) = ln(1 + e^{-|m|}) lies in (0, ln 2]; L(m) - m -> 0 as m -> +inf and "
            "L(m) e^{-m} -> 1 as m -> -inf. The stable kernel max(m, 0) + log1p(e^{-|m|}) is accurate "
            "to a few ulp over the whole float64 range, where log(1 + exp(m)) overflows or loses all digits."
        ),
        kind="exact",
        parameters=(real("m", -40.0, "margin", typical=(-FLOAT_MAX, FLOAT_MAX)),),
        derive=_S.derive_asymptotes,
        experiment=kernels.asymptotes_experiment,
        sources=(_S.BLANCHARD, _S.MAECHLER),
    )
)

SCORE_IDENTITY = register(
    Claim(
        id="xent.score-identity",
        title="The expected gradient of the cross-entropy is zero when y ~ softmax(z)",
        statement=(
            "When the label is drawn from the model, y ~ softmax(z), the expected gradient of the "
            "cross-entropy vanishes: E[softmax(z) - e_y] = 0 (measured on the most probable class, "
            "over random logits z ~ N(0, s^2 I_K))."
        ),
        kind="statistical",
        parameters=(
            _classes(10, 4096, (2, 64)),
            real("s", 2.0, "logit scale", low=0.0, open_low=True, high=100.0, typical=(0.05, 20.0)),
        ),
        derive=_S.derive_score_identity,
        experiment=kernels.score_identity_experiment,
        sources=(_S.CASELLA, _S.GOODFELLOW),
        scale="absolute",
    )
)
