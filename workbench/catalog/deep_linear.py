"""The ``deeplinear.*`` claims on critical points: the scalar model and two-layer regression."""

from __future__ import annotations

from numerics import deep_linear as kernels
from proofs import deep_linear as derivations

from ..claim_type import Claim
from ..parameters import choice, integer, real
from ..registry import register

__all__ = ["SCALAR", "BALDI_HORNIK", "regression_constraint"]

_S = derivations


def regression_constraint(values: dict) -> str | None:
    """Two-layer regression needs k <= d_y <= d_x and a full-rank data covariance."""
    d_x, d_y, k, n = values["d_x"], values["d_y"], values["k"], values["n"]
    if k > d_y:
        return f"k={k} exceeds d_y={d_y}: the hidden width k must be at most the output dimension"
    if d_y > d_x:
        return f"d_y={d_y} exceeds d_x={d_x}: M = Sigma_yx Sigma_xx^-1 Sigma_xy then has zero eigenvalues (use d_y <= d_x)"
    if n <= d_x:
        return f"n={n} samples give a singular data covariance Sigma_xx in dimension d_x={d_x} (need n > d_x)"
    return None


SCALAR = register(
    Claim(
        id="deeplinear.scalar",
        title=r"Scalar deep linear model: global minima $\prod_i w_i = 1$, saddles where two weights vanish",
        statement=(
            r"For $f = w_N \cdots w_1 x$ with loss $(1 - w_N \cdots w_1)^2/2$ the critical set is $\{\prod_i w_i = 1\}$ "
            r"(global minima) together with the points where at least two $w_i$ vanish (saddles). At "
            r"$w = (0, 0, t, \ldots, t)$ the Hessian's smallest eigenvalue is $-|t|^{N-2}$: at the origin $-1$ for "
            r"$N = 2$ (eigenvalues $\pm 1$, a strict saddle) and $0$ for $N \ge 3$, where the Hessian vanishes and a "
            r"descent curve shows a higher-order saddle. For $N = 2, \ldots, 5$ the eigenvalue is the proof's conclusion; "
            "the critical set and the descent curves are checked by SymPy as remarks after it."
        ),
        kind="exact",
        parameters=(
            choice("N", _S.DEPTHS, 3, "the depth, the number of scalar weights", assumptions={"integer": True, "positive": True}),
            real("t", 0.5, r"the value of the weights $w_3, \ldots, w_N$ at the saddle point", low=-2.0, high=2.0),
        ),
        derive=_S.derive_scalar,
        experiment=kernels.scalar_experiment,
        sources=(_S.KAWAGUCHI, _S.BALDI),
    )
)

BALDI_HORNIK = register(
    Claim(
        id="deeplinear.baldi-hornik",
        title="Two-layer linear regression: of the rank-$k$ critical points only the top-$k$ projection is a minimum",
        statement=(
            r"For the loss $\|Y - W_2 W_1 X\|^2/(2n)$ with full-rank $\Sigma_{xx}$ (Baldi and Hornik 1989), the rank-$k$ "
            r"critical points correspond to the $k$-subsets $I$ of eigenvectors of $\Sigma_{yx} \Sigma_{xx}^{-1} "
            r"\Sigma_{xy}$; the global minimum projects onto the top $k$ and the other $\binom{d_y}{k} - 1$ are saddles "
            "(Fact 4; cited theorem, verified numerically, and checked by SymPy for $d_y = 2$, $k = 1$). Verified on "
            "random data: every "
            "critical point built from the closed form has a vanishing gradient, and the saddles are counted by the "
            "negative eigenvalues of an exact finite-difference Hessian."
        ),
        kind="exact",
        parameters=(
            integer("d_x", 5, "the input dimension", low=1, high=12, typical=(1, 6), latex="d_x"),
            integer("d_y", 4, "the output dimension", low=1, high=8, typical=(1, 5), latex="d_y"),
            integer("k", 2, "the hidden width", low=1, high=8, typical=(1, 4)),
            integer("n", 200, "the number of samples", low=2, high=100_000, typical=(20, 400)),
        ),
        derive=_S.derive_baldi_hornik,
        experiment=kernels.baldi_hornik_experiment,
        sources=(_S.BALDI,),
        constraint=regression_constraint,
    )
)
