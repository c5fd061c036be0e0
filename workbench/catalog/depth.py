"""The ``depth.*`` claims: the sawtooth's exponentially many pieces, and how far from it every function
with few pieces stays (Telgarsky 2016)."""

from __future__ import annotations

from numerics import depth as kernels
from proofs import depth as derivations

from ..claim_type import Claim
from ..parameters import choice, integer
from ..registry import register

__all__ = ["SAWTOOTH", "SEPARATION", "separation_constraint"]

_S = derivations


def separation_constraint(values: dict) -> str | None:
    """Refuse a k for which a bound is vacuous: the crossing bound 1/8 - (k + 2)/2^(L+2) is positive only
    for k + 2 < 2^(L-1), so k <= 2^(L-1) - 3 (and then the breakpoint bound is too)."""
    L, k = values["L"], values["k"]
    most = 2 ** (L - 1) - 3
    if k <= most:
        return None
    return (f"k={k} is too large for L={L}: a function with k + 1 = {k + 1} pieces may follow enough of the "
            f"{2 ** (L - 1)} teeth of t^L that the crossing bound is not positive; use k <= {most} (2^(L-1) - 3) here, "
            "or a larger L")


SAWTOOTH = register(
    Claim(
        id="depth.sawtooth",
        title=r"The sawtooth: $L$ layers of two ReLU units make $t^L$, with exactly $2^L$ affine pieces on $[0, 1]$",
        statement=(
            r"The tent map $t(x) = 2\,\mathrm{relu}(x) - 4\,\mathrm{relu}(x - 1/2)$ is a layer of two ReLU units. Its "
            r"$L$-fold composition, a network of $L$ such layers ($2L$ units), is $t^L(x) = (-1)^j (2^L x - j) + "
            r"(1 - (-1)^j)/2$ on each $[j 2^{-L}, (j + 1) 2^{-L}]$, $0 \le j < 2^L$, so it has exactly $2^L$ affine "
            r"pieces on $[0, 1]$ and crosses $1/2$ exactly $2^L$ times. Every step is checked by SymPy: the tent's two "
            r"halves, the formula by induction on $L$ ($t^L = t^{L-1} \circ t$: each half of $[0, 1]$ maps onto the "
            r"intervals of $t^{L-1}$, so the pieces double) and the count of bends and crossings; the sawtooth is the "
            "one in the proof of Theorem 1.1 of Telgarsky 2016. A one-hidden-layer network with $k$ "
            r"units has at most $k + 1$ pieces on the line (each unit bends once), so the same $2L$ units in one "
            r"layer give at most $2L + 1 < 2^L$ for $L \ge 3$. Counted on the actual network: its weights propagated in "
            "exact rational arithmetic, each ReLU inserting the exact zeros of its pre-activation, so the breakpoints "
            "are found, not sampled, for $L$ up to 20; random one-hidden-layer networks of width $2L$ are counted "
            "exactly beside it, on the whole line."
        ),
        kind="exact",
        parameters=(
            integer("L", 6, "the depth: the number of two-unit layers composed", low=1, high=20, typical=(1, 12)),
            choice("count", kernels.COUNTS, "pieces", r"what is counted: the affine pieces of $t^L$ on $[0, 1]$, or the "
                   r"points where $t^L = 1/2$", codes=tuple(_S.COUNTS[c] for c in kernels.COUNTS), latex=r"\mathrm{count}"),
        ),
        derive=_S.derive_sawtooth,
        experiment=kernels.sawtooth_experiment,
        sources=(_S.TELGARSKY,),
    )
)

SEPARATION = register(
    Claim(
        id="depth.separation",
        title=r"Depth separation: every $f$ with at most $k + 1$ affine pieces has $\int_0^1 |f - t^L| \ge 1/4 - k/2^{L+1}$",
        statement=(
            r"For every $f$ with at most $k + 1$ affine pieces on $[0, 1]$ (continuous or not; in particular every "
            r"one-hidden-layer ReLU network of width $k$), $\int_0^1 |f - t^L| \ge 1/4 - k/2^{L+1}$; more generally for "
            r"every $f$ affine on all but $k$ of the $2^{L-1}$ teeth of the sawtooth $t^L$ (argument breakpoints): on a "
            r"tooth where $f$ is affine its slope cancels by symmetry and the error is at least $2^{-L-1}$, and $k$ "
            r"breakpoints spoil at most $k$ teeth. Counting crossings, as in the proof of Theorem 1.1 of Telgarsky "
            r"2016 (argument crossings), gives only $1/8 - (k + 2)/2^{L+2}$, for every continuous $f$ changing side of "
            r"$1/2$ in at most $k + 1$ of the intervals between crossings of $t^L$: $f$ is on the wrong side of $1/2$ "
            r"on half the triangles of $|t^L - 1/2|$, less one per run, so it loses a factor 2 (twice it is still a "
            r"bound). The tooth and the triangles (integrals, by substitution), the runs count and the assembly are "
            "checked by SymPy; the integral's linearity, monotonicity and additivity are cited theorems (Rudin 1976, "
            r"Theorems 1.33 and 6.12). So error $\epsilon < 1/4$ needs $k \ge 2^{L-1}(1 - 4\epsilon)$ units in one "
            r"hidden layer, against $2L$ in $L$ layers. Verified on candidates whose errors are integrated piece by "
            r"piece in rational arithmetic: the constant $1/2$, free-knot least-squares splines with $k + 1$ pieces and "
            r"their $L^1$ polish, and trained width-$k$ ReLU networks. The estimate is $\min(B, \min_f \int_0^1 "
            r"|f - t^L|)$ for the bound $B$: $B$ itself exactly when no candidate falls below it (the tolerance is the "
            r"float64 rounding of $B$; every comparison is exact), else the error that refutes it. The closest "
            r"candidate's ratio to the bound is reported (about $1.04$ at the defaults): the run refutes any larger "
            r"constant. For $k \le 2^{L-1} - 3$, where both bounds are positive. Telgarsky's Theorem 1.1 is stated "
            "for approximating networks of several layers and more general gates, with a smaller absolute constant; "
            "here the one-hidden-layer case is stated with its exact constant and class."
        ),
        kind="exact",
        parameters=(
            integer("L", 6, r"the depth of the sawtooth $t^L$: $2^L$ pieces, $2^{L-1}$ teeth", low=3, high=12,
                    typical=(3, 8)),
            integer("k", 2, r"the width of the shallow network: candidates have at most $k + 1$ affine pieces", low=0,
                    high=12, typical=(0, 5)),
            choice("argument", kernels.ARGUMENTS, "breakpoints", r"which bound: breakpoints, $1/4 - k/2^{L+1}$ (a count "
                   r"of breakpoints in teeth); crossings, $1/8 - (k + 2)/2^{L+2}$ (a count of crossings of $1/2$, as "
                   r"in Telgarsky's proof)", codes=tuple(_S.ARGUMENTS[a] for a in kernels.ARGUMENTS), latex=r"\mathrm{argument}"),
        ),
        derive=_S.derive_separation,
        experiment=kernels.separation_experiment,
        sources=(_S.TELGARSKY, _S.RUDIN),
        constraint=separation_constraint,
    )
)
