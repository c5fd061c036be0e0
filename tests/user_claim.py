"""A claim defined outside the package, as a user would in a notebook (shared by tests)."""

from __future__ import annotations

import sympy as sp

import workbench as wb
from numerics import Accumulator
from proofs import Derivation, Source, equal

SOURCE = Source("stein1981", "Charles M. Stein", "Estimation of the mean of a multivariate normal distribution",
                "The Annals of Statistics", 1981, doi="10.1214/aos/1176345632", volume="9", number="6", pages="1135-1151")


def derive_second_moment() -> Derivation:
    x = sp.Symbol("x", real=True)
    sigma = sp.Symbol("sigma", positive=True)
    density = sp.exp(-x**2 / (2 * sigma**2)) / sp.sqrt(2 * sp.pi * sigma**2)
    moment = sp.Integral(x**2 * density, (x, -sp.oo, sp.oo))
    steps = [equal(moment, sigma**2, "Gaussian integral")]
    return Derivation("Second moment of a centred Gaussian", steps, (moment, "=", sigma**2))


def second_moment_experiment(xp, rng, budget, *, sigma):
    acc = Accumulator()
    acc.add((sigma * rng.standard_normal(budget)) ** 2)
    return acc.estimate()


def user_claim(**bounds) -> wb.Claim:
    """E[X^2] = sigma^2 for X ~ N(0, sigma^2); ``bounds`` set sigma's domain (default (0, 1000])."""
    bounds = bounds or {"low": 0.0, "open_low": True, "high": 1e3}
    return wb.Claim(
        id="user.gaussian-second-moment",
        title="E[X^2] = sigma^2",
        statement="For X ~ N(0, sigma^2), E[X^2] = sigma^2.",
        kind="statistical",
        parameters=(wb.real("sigma", 1.5, "standard deviation", **bounds),),
        derive=derive_second_moment,
        experiment=second_moment_experiment,
        sources=(SOURCE,),
    )
