"""The random-matrix claims: ``rmt.lyapunov`` (Newman's Lyapunov spectrum) and ``residual.isometry``
(the second moment of a Gaussian product's singular values tends to L + 1)."""

from __future__ import annotations

import math

from numerics import random_matrices as kernels
from proofs import random_matrices as derivations

from ..asymptotics import Limit
from ..claim_type import Claim
from ..parameters import integer, real
from ..registry import register

__all__ = ["LYAPUNOV", "ISOMETRY", "index_constraint", "WIDTHS"]

_S = derivations
WIDTHS = (16, 32, 64, 128)  # the sweep of residual.isometry


def index_constraint(values: dict) -> str | None:
    """The exponent's index runs from 1 (the largest) to N (the smallest)."""
    if values["i"] > values["N"]:
        return f"i={values['i']} exceeds N={values['N']}: an N x N product has exponents lambda_1 >= ... >= lambda_N"
    return None


def lyapunov_remarks(values: dict) -> list[str]:
    return [
        "a replicate is one QR step of one chain: for Gaussian factors the steps are exactly independent "
        "(rotation invariance: W_t Q_(t-1) is a fresh Gaussian matrix, and R is independent of Q)",
        f"orthogonal factors (times sigma) would give every exponent ln sigma = {math.log(values['sigma']):.6g} exactly",
    ]


LYAPUNOV = register(
    Claim(
        id="rmt.lyapunov",
        title="Newman's Lyapunov spectrum: lambda_i = (ln(2 sigma^2) + psi((N - i + 1)/2))/2 for Gaussian products",
        statement=(
            "For products W_t ... W_1 of independent N x N matrices with iid N(0, sigma^2) entries, the Lyapunov "
            "exponents per factor, ordered lambda_1 >= ... >= lambda_N, are lambda_i = (ln(2 sigma^2) + "
            "psi((N - i + 1)/2))/2, psi the digamma function (Newman 1986, there with sigma^2 = 1/N). The QR "
            "algorithm measures them: W_t Q_(t-1) = Q_t R_t and lambda_i = E ln|R_ii|, where |R_ii| is sigma times a "
            "chi variable with N - i + 1 degrees of freedom. Resolutions are absolute, in nats per factor: an exponent "
            "can be 0 (lambda_(N-1) is 0.058 at sigma = 1), and sigma only shifts every exponent by ln sigma. "
            "Orthogonal factors have every exponent 0. Newman's result is a cited theorem, verified numerically."
        ),
        kind="statistical",
        parameters=(
            integer("N", 16, "width of the square factors", low=1, high=48, typical=(1, 24)),
            real("sigma", 1.0, "standard deviation of an entry", low=1e-3, high=1e3, typical=(0.1, 10.0),
                 latex=r"\sigma"),
            integer("i", 1, "which exponent: 1 is the largest, N the smallest", low=1, high=48, typical=(1, 24)),
        ),
        derive=_S.derive_lyapunov,
        experiment=kernels.lyapunov_experiment,
        sources=(_S.NEWMAN, _S.COHEN_NEWMAN, _S.BENETTIN, _S.MUIRHEAD),
        scale="absolute",
        pilot=1024,
        constraint=index_constraint,
        remarks=lyapunov_remarks,
    )
)


def isometry_remarks(values: dict) -> list[str]:
    L = values["L"]
    return [
        f"exact at every width: m_2 = (N/3)[(1 + 2/N)^{L + 1} - (1 - 1/N)^{L + 1}] = {L + 1} + {L * (L + 1) // 2}/N + "
        f"O(1/N^2), so the fitted 1/N coefficient should be {L * (L + 1) / 2:g}",
        "orthogonal factors instead give m_2 = 1 exactly at every depth (all singular values 1)",
    ]


ISOMETRY = register(
    Claim(
        id="residual.isometry",
        title="Gaussian products are not isometries: the singular values' second moment tends to L + 1",
        statement=(
            "For P = W_L ... W_1 with independent N x N Gaussian factors of iid N(0, 1/N) entries, the mean squared "
            "singular value (1/N) E tr(P^T P) is exactly 1, but the second moment m_2 = (1/N) E tr((P^T P)^2) tends "
            "to L + 1 as N -> oo (the Fuss-Catalan law; Penson and Zyczkowski 2011), so the spread of the squared "
            "singular values grows linearly with depth; products of orthogonal matrices have every singular value "
            "exactly 1 (dynamical isometry, Pennington et al. 2017). At finite width m_2 = (N/3)[(1 + 2/N)^(L+1) - "
            "(1 - 1/N)^(L+1)] = L + 1 + L(L+1)/(2N) + O(1/N^2): a cited theorem, verified numerically (the derivation "
            "rests on the Gaussian quartic-form means)."
        ),
        kind="asymptotic",
        parameters=(integer("L", 2, "depth: number of factors", low=1, high=5, typical=(1, 5)),),
        limit=Limit("N", sweep=WIDTHS, order=1, terms=2, description="width of the square factors", latex="N"),
        derive=_S.derive_isometry,
        experiment=kernels.isometry_experiment,
        sources=(_S.PENNINGTON, _S.PENSON, _S.ISSERLIS),
        pilot=256,
        remarks=isometry_remarks,
    )
)
