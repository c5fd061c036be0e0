"""Gaussian integrals shared by the areas: the centred density, the masked second moment of a
Gaussian pair, and the second moment of a piecewise activation; SymPy evaluates each."""

from __future__ import annotations

import sympy as sp

from .derivation import Step, equal

__all__ = ["gaussian_density", "masked_gaussian_lemma", "split_moment"]

h = sp.Symbol("h", real=True)
e = sp.Symbol("e", real=True)
z = sp.Symbol("z", real=True)
v = sp.Symbol("v", positive=True)  # a variance
beta = sp.Symbol("beta", real=True)
sigma_e = sp.Symbol("sigma_e", positive=True)


def gaussian_density(t: sp.Symbol, variance: sp.Basic) -> sp.Basic:
    """The centred Gaussian density of ``variance`` at ``t``."""
    return sp.exp(-(t**2) / (2 * variance)) / sp.sqrt(2 * sp.pi * variance)


def masked_gaussian_lemma() -> list[Step]:
    """E[g^2 1{h>0}] = E[g^2] / 2 for a centred Gaussian pair, g = beta h + e, e independent:
    both sides as Gaussian integrals, evaluated by SymPy (no premises)."""
    g = beta * h + e
    density = gaussian_density(h, v) * gaussian_density(e, sigma_e**2)
    masked = sp.Integral(g**2 * density, (e, -sp.oo, sp.oo), (h, 0, sp.oo))
    full = sp.Integral(g**2 * density, (e, -sp.oo, sp.oo), (h, -sp.oo, sp.oo))
    return [
        equal(masked, (beta**2 * v + sigma_e**2) / 2, r"$\mathbb{E}[g^2 \mathbf{1}\{h > 0\}]$, writing $g = \beta h + e$ with $e$ independent of $h$"),
        equal(full, beta**2 * v + sigma_e**2, r"$\mathbb{E}[g^2]$ over the whole line"),
    ]


def split_moment(positive: sp.Basic, negative: sp.Basic) -> sp.Basic:
    """E[phi(z)^2] for z ~ N(0, 1), phi = ``positive`` for z > 0 and ``negative`` below."""
    return (sp.Integral(positive**2 * gaussian_density(z, 1), (z, 0, sp.oo))
            + sp.Integral(negative**2 * gaussian_density(z, 1), (z, -sp.oo, 0)))
