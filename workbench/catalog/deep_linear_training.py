"""The ``deeplinear.*`` training claims: Saxe's sigmoidal mode dynamics, and no bad local minima."""

from __future__ import annotations

import math

from numerics import deep_linear_training as kernels
from proofs import deep_linear_training as derivations

from ..claim_type import Claim
from ..parameters import integer, real
from ..registry import register

__all__ = ["NO_BAD_MINIMA", "SAXE_DYNAMICS", "no_bad_minima_constraint", "saxe_constraint"]

_S = derivations
MAX_STEPS = 200_000
MAX_STEP_RATIO = 0.25  # lr * 2 max(s, u0): a step at most a quarter of the ODE's time scale


def saxe_constraint(values: dict) -> str | None:
    """Refuse step sizes that do not resolve the ODE's time scale, and runs of too many steps."""
    s, u0, t, lr = values["s"], values["u0"], values["t"], values["lr"]
    if lr * 2 * max(s, u0) > MAX_STEP_RATIO:
        return (
            f"lr={lr:g} is too large for s={s:g}, u0={u0:g}: gradient descent follows the ODE only for "
            f"lr * 2 max(s, u0) <= {MAX_STEP_RATIO:g} (the ODE's time scale is 1/(2s)); use lr <= "
            f"{MAX_STEP_RATIO / (2 * max(s, u0)):.3g}"
        )
    steps = math.ceil(t / lr - 1e-9)
    if steps > MAX_STEPS:
        return f"t={t:g} with lr={lr:g} needs {steps} gradient steps, more than {MAX_STEPS}; use a larger lr or a shorter t"
    return None


MIN_SAMPLES_PER_INPUT = 4


def no_bad_minima_constraint(values: dict) -> str | None:
    """Joint conditions: an invertible, well-conditioned input covariance; no square end layers at depth >= 3."""
    n_in, samples = values["n_in"], values["samples"]
    if samples <= n_in:
        return (
            f"samples={samples} must exceed n_in={n_in}: with samples <= n_in the data covariance X X^T / N is singular "
            f"(the least-squares fit is not unique) and no residual is left"
        )
    if samples < MIN_SAMPLES_PER_INPUT * n_in:
        return (
            f"samples={samples} is too few for n_in={n_in}: the covariance's condition number "
            f"((1 + sqrt(n_in/N)) / (1 - sqrt(n_in/N)))^2 makes plain gradient descent too slow for the step budget; "
            f"use samples >= {MIN_SAMPLES_PER_INPUT * n_in}"
        )
    depth, width, n_out = values["depth"], values["width"], values["n_out"]
    if depth >= 3 and width in (n_in, n_out):
        side = "n_in" if width == n_in else "n_out"
        return (
            f"width = {side} = {width} at depth={depth}: the layers at that end are square, their product's determinant "
            f"often has to change sign, and gradient descent passes near the degenerate saddles det = 0 (zero Hessian at "
            f"depth >= 3), leaving them only polynomially slowly: saddles, not local minima, but a few percent of runs are "
            f"not out within {(kernels.EXTRA_ROUNDS + 1) * kernels.STEPS} steps; use a width different from n_in and n_out, "
            f"or depth 2"
        )
    return None


SAXE_DYNAMICS = register(
    Claim(
        id="deeplinear.saxe-dynamics",
        title="Saxe dynamics: each mode of a two-layer linear network learns along the sigmoid "
              "$u(t) = s e^{2st}/(e^{2st} - 1 + s/u_0)$",
        statement=(
            "With whitened inputs ($X X^T/N = I$) and a balanced start along the singular modes of the input-output "
            r"correlation $\Sigma_{31} = Y X^T/N$, each mode strength $u = a^T W_2 W_1 b$ of a two-layer linear network "
            r"trained by gradient descent on the squared loss obeys $\tau\,du/dt = 2u(s - u)$, solved by "
            r"$u(t) = s e^{2st/\tau}/(e^{2st/\tau} - 1 + s/u_0)$. Time $t = n\eta$ after $n$ steps of learning rate "
            r"$\eta$, i.e. $\tau = 1$ in units of $t$ ($\tau = 1/\eta$ in units of steps). Checked on a real network "
            "(three modes $s$, $s/2$, $s/4$, random singular vectors and hidden basis, float64) trained by gradient descent "
            r"with learning rate $\eta$: the tolerance is the derived a-posteriori bound on gradient "
            "descent's discretisation error (telescoping the local errors against the exact flow), plus rounding."
        ),
        kind="exact",
        parameters=(
            real("s", 2.0, r"the singular value (strength) of the mode in $\Sigma_{31}$", low=0.0, open_low=True, high=5.0,
                 typical=(0.5, 3.0)),
            real("u0", 0.01, "the initial mode strength $u(0)$ (balanced start)", low=0.0, open_low=True, high=1.0,
                 typical=(0.001, 0.5), latex="u_0"),
            real("t", 1.0, r"the training time, $t = n\eta$ after $n$ steps", low=0.0, high=20.0, typical=(0.0, 4.0)),
            real("lr", 1e-3, r"the learning rate of gradient descent ($\tau = 1/\eta$ steps)", low=0.0, open_low=True, high=0.1,
                 typical=(1e-3, 0.02), latex=r"\eta"),
        ),
        derive=_S.derive_saxe_dynamics,
        experiment=kernels.saxe_experiment,
        sources=(_S.SAXE, _S.HAIRER),
        constraint=saxe_constraint,
    )
)

NO_BAD_MINIMA = register(
    Claim(
        id="deeplinear.no-bad-minima",
        title="No bad local minima: gradient descent on a deep linear network reaches the best rank-$r$ loss",
        statement=(
            r"For the squared loss every local minimum of a deep linear network $W_L \cdots W_1$, of any depth and widths, "
            "is global (Kawaguchi 2016, Theorem 2.3; Laurent and von Brecht 2018; cited theorem, verified numerically): its "
            r"loss is the least-squares residual plus the tail $\sum_{i > r} \sigma_i^2/2$ of the whitened least-squares "
            "fit's singular values beyond the narrowest width $r$ (Eckart-Young). The data are random (Gaussian inputs, "
            r"random singular vectors) with $\sigma_i = (3/4)^{i-1}$ and residual $1/16$, so the minimum is "
            r"$1/16 + (8/7)\,((9/16)^r - (9/16)^m)$, $m = \min(n_{\mathrm{in}}, n_{\mathrm{out}})$. Checked as the mean "
            "final loss (float64) of independent gradient-descent runs (float32 weights, random orthogonal starts, each run "
            "with its own data), tolerance the float32 floor plus the mean geometric-tail estimate of each run's remaining "
            "decrease; runs nearer another critical value than the minimum, and runs still descending, are counted."
        ),
        kind="statistical",
        parameters=(
            integer("depth", 3, "the number of weight layers, at least $2$", low=2, high=8, typical=(2, 4), latex="L"),
            integer("width", 2, "the width of every hidden layer", low=1, high=16, typical=(1, 4), latex="w"),
            integer("n_in", 4, "the input dimension", low=1, high=16, typical=(1, 5), latex=r"n_{\mathrm{in}}"),
            integer("n_out", 3, "the output dimension", low=1, high=16, typical=(1, 5), latex=r"n_{\mathrm{out}}"),
            integer("samples", 32, "the number of samples", low=2, high=4096, typical=(20, 64), latex="N"),
        ),
        derive=_S.derive_no_bad_minima,
        experiment=kernels.no_bad_minima_experiment,
        sources=(_S.KAWAGUCHI, _S.LAURENT, _S.ECKART, _S.BALDI),
        constraint=no_bad_minima_constraint,
        pilot=1024,  # enough runs that 0 stuck bounds the stuck rate by about 1.3% (confidence 1 - 1e-6)
        max_replicates=16_384,
    )
)
