"""The ``ib.*`` claims: the information bottleneck for Gaussian variables, whose encoder switches its components on at
beta_i = 1/(1 - lambda_i) (Chechik, Globerson, Tishby and Weiss 2005), and the binned estimate of I(X; T) for a
deterministic layer, which is the entropy of the binned outputs and reaches log2 N at fine bins (Saxe et al. 2018)."""

from __future__ import annotations

from numerics import ib_binning
from numerics import information_bottleneck as kernels
from proofs import information_bottleneck as derivations

from ..claim_type import Claim
from ..parameters import choice, integer, real
from ..registry import register

__all__ = ["GAUSSIAN", "BINNING", "WEAKEST", "gaussian_constraint"]

_S = derivations


WEAKEST = 1e-4  # the smallest rho^(2d) (the weakest component's critical beta at most 10^4)


def gaussian_constraint(values: dict) -> str | None:
    """The component checked must be one of the model's; the weakest component's critical beta, rho^(-2d), at most
    10^4 (beyond, float64 cancellation in Sigma_x|y = Sigma_x - Sigma_xy Sigma_y^-1 Sigma_yx leaves its eigenvalue
    1 - lambda_d = rho^(2d) too few correct digits for a fine check)."""
    d, k, rho = values["dimension"], values["component"], values["rho"]
    if k > d:
        return f"component={k} is not one of the dimension={d} components; use component <= {d}"
    if rho ** (2 * d) < WEAKEST:
        return (f"rho={rho:g} with dimension={d} puts the weakest component's critical beta at rho^(-{2 * d}) = "
                f"{rho ** (-2 * d):.3g}, beyond 1e4; use rho >= {WEAKEST ** (1 / (2 * d)):.4f} or a smaller dimension")
    return None


def gaussian_remarks(values: dict) -> list[str]:
    d = values["dimension"]
    model = (rf"the model: ${d}$ canonical pair{'s' if d > 1 else ''} with correlations $\rho_i = \rho^i$ in random bases "
             r"$X = BU$, $Y = CV$ (a random rotation times column scales in $[1/2, 2]$); the kernels see the covariances "
             r"and compute $\Sigma_{x|y}$ themselves, and read each encoder in the canonical basis")
    if values["quantity"] == "critical":
        how = (rf"each replicate an independent instance: the iteration from random starts at every $\beta = 2^{{j/2}}$ "
               rf"({kernels.gib.STEPS} steps each) until every component has three ladder points with signal-to-noise ratio "
               rf"$u_i \ge {kernels.ON:g}$; the first two extrapolate $u_i$, affine in $\beta$ on the branch, to its zero; the "
               "tolerance bounds rounding and the iteration's convergence, carried through the extrapolation")
    else:
        how = (r"each call one instance: SciPy's brentq finds the $\beta$ at which the iteration's fixed point has "
               rf"$I(T;X) = I_X$; each replicate is the mean pointwise information $\ln p(t|y) - \ln p(t)$ of "
               rf"${kernels.BLOCK}$ draws of $(T, Y)$ through that encoder, in nats")
    return [model, how]


GAUSSIAN = register(
    Claim(
        id="ib.gaussian",
        title=r"The Gaussian information bottleneck: component $i$ switches on at $\beta_i = 1/(1 - \lambda_i)$; one "
              r"component: $\beta_c = 1/\rho^2$",
        statement=(
            r"For jointly Gaussian $X$ and $Y$ the information bottleneck $\min_{p(t|x)} I(T;X) - \beta I(T;Y)$ is solved "
            r"by a noisy linear projection $T = AX + \xi$ onto the left eigenvectors $v_i$ of $\Sigma_{x|y}\Sigma_x^{-1}$, "
            r"whose eigenvalues $\lambda_i = 1 - \rho_i^2$ come from the canonical correlations $\rho_i$ (Chechik, "
            r"Globerson, Tishby and Weiss 2005, Theorem 3.1, a cited theorem): component $i$ is off for "
            r"$\beta \le \beta_i = 1/(1 - \lambda_i)$ and on above it with signal-to-noise ratio "
            r"$(\beta(1 - \lambda_i) - 1)/\lambda_i$. For one component (correlation $\rho$) $\beta_c = 1/\rho^2$ and "
            r"the information curve is $I(T;Y) = -\frac{1}{2}\ln(1 - \rho^2(1 - e^{-2 I(T;X)}))$ in nats; with $k$ "
            r"components on, $I(T;Y) = I(T;X) - \frac{k}{2}\ln(\prod_{i \le k}(1 - \lambda_i)^{1/k} + "
            r"e^{2I(T;X)/k}\prod_{i \le k}\lambda_i^{1/k})$ (each segment checked by SymPy from the components' "
            r"informations). The vector case is a model with $d \le 3$ canonical pairs, $\rho_i = \rho^i$, so "
            r"$\beta_k = \rho^{-2k}$. Verified by Chechik et al.'s self-consistent iteration for $A$ and $\Sigma_\xi$ "
            r"from random starts on independent instances in random bases: the critical $\beta$ of component $k$ "
            r"(critical), read off the iteration's fixed points, and $I(T;Y)$ at $I(T;X) = I_X$ (curve), estimated "
            r"from draws of $(T, Y)$ through the encoder the iteration finds at the $\beta$ that gives $I_X$."
        ),
        kind="statistical",
        parameters=(
            real("rho", 0.6, r"the first canonical correlation $\rho_1 = \rho$ of $X$ and $Y$ (the model's $\rho_i = \rho^i$; "
                 r"with $\rho^{2d} \ge 10^{-4}$)", low=0.1, high=0.95, typical=(0.3, 0.9), latex=r"\rho"),
            real("info_x", 1.0, r"the point $I(T;X) = I_X$ of the information curve, in nats (curve)", low=0.0, high=5.0,
                 open_low=True, typical=(0.2, 3.0), latex="I_X"),
            integer("dimension", 1, r"the number $d$ of canonical pairs (dimensions of $X$ and $Y$)", low=1,
                    high=_S.MAX_DIMENSION, latex="d"),
            integer("component", 1, r"the component $k \le d$ whose critical $\beta$ is checked (critical)", low=1,
                    high=_S.MAX_DIMENSION, latex="k"),
            choice("quantity", kernels.GAUSSIAN_QUANTITIES, "critical",
                   r"what the verifier measures: critical, $\beta_k$ from the iteration's fixed points; curve, $I(T;Y)$ at "
                   r"$I(T;X) = I_X$ from draws of $(T, Y)$",
                   codes=tuple(_S.QUANTITIES[q] for q in kernels.GAUSSIAN_QUANTITIES), latex=r"\mathrm{quantity}"),
        ),
        derive=_S.derive_gaussian,
        experiment=kernels.gaussian_experiment,
        sources=_S.SOURCES,
        pilot=64,  # a replicate is an instance's whole ladder, or a block of draws
        max_replicates=400_000,
        constraint=gaussian_constraint,
        remarks=gaussian_remarks,
    )
)


def binning_remarks(values: dict) -> list[str]:
    act = values["activation"]
    layer = (r"$T = \tanh(Wx + b)$, $W_{ij} \sim N(0, 4/12)$, $b_j \sim N(0, 1/4)$ (a saturating layer)" if act == "tanh"
             else r"$T = \operatorname{relu}(Wx + b)$, $W_{ij} \sim N(0, 2/12)$, $b_j = 1$")
    return [rf"one layer {layer} of width $m = {values['width']}$ on $N = {values['samples']}$ inputs $x \sim N(0, I_{{12}})$; "
            rf"each unit binned on the grids of width $\Delta_j = 2^{{-j}}$ times the outputs' range (a power of two), "
            rf"$j = 0, 1, \dots, {ib_binning.FINEST}$, fixed in advance; the outputs' smallest $\infty$-norm distance "
            r"$d$, found apart from the histograms (SciPy's k-d tree in the Chebyshev metric), predicts the widths "
            r"$\Delta_j < d$ at which every output has its own cell",
            r"tolerances: float64 rounding bounds on the plug-in sums (standard model, $\log_2$ within 2 ulp)"]


BINNING = register(
    Claim(
        id="ib.binning",
        title=r"Binning a deterministic layer measures $H(T_\Delta)$: $I(X; T_\Delta) = H(T_\Delta) \to \log_2 N$ as the "
              r"bins shrink",
        statement=(
            r"For a deterministic layer $T = f(X)$ on a dataset of $N$ distinct inputs, $X$ uniform on it, and the "
            r"outputs binned on a fixed grid of width $\Delta$, the plug-in mutual information of the joint histogram "
            r"is the entropy of the binned outputs, $I(X; T_\Delta) = H(T_\Delta)$, at every $\Delta$: the estimate "
            r"depends only on the binned outputs, that is on the layer's output cloud and the bin width, not on any "
            r"information the layer transmits. When $f$ is injective on the dataset, every $\Delta$ that gives each "
            r"output its own cell (every $\Delta$ below the outputs' smallest $\infty$-norm distance) gives "
            r"$\log_2 N$ bits, so it tends to $\log_2 N$ as the bins shrink, for every layer alike (Saxe et al. 2018, "
            r"Section 2, on "
            r"the binning of Shwartz-Ziv and Tishby 2017). So a compression phase read off such estimates "
            r"at coarse bins can be an artefact of saturation and binning. Verified exactly on real tanh and ReLU "
            r"layers over dyadic bin widths fixed in advance: $\log_2 N$ at every width below the outputs' smallest "
            r"$\infty$-norm distance, computed apart, the finest included (limit); and "
            r"the ratio $I(X; T_\Delta)/H(T_\Delta) = 1$ at every width, the worst one reported (identity)."
        ),
        kind="exact",
        parameters=(
            choice("activation", ib_binning.ACTIVATIONS, "tanh", "the layer's nonlinearity", latex=r"\varphi"),
            integer("samples", 4096, "the number $N$ of distinct inputs in the dataset", low=2, high=65536,
                    typical=(2, 8192), latex="N"),
            integer("width", 10, "the layer's width $m$ (a ReLU layer narrower than about 8 units leaves inputs with every "
                    "unit off, which share the output $0$)", low=1, high=64, typical=(1, 24), latex="m"),
            choice("quantity", kernels.BINNING_QUANTITIES, "limit",
                   r"what the verifier measures: limit, $I(X; T_\Delta)$ at the dyadic widths fixed in advance below the "
                   r"outputs' smallest distance (the finest among them), each $\log_2 N$, the farthest reported; identity, the ratio $I(X; T_\Delta)/H(T_\Delta)$ at every width, which is $1$",
                   codes=tuple(_S.BINNING_QUANTITIES[q] for q in kernels.BINNING_QUANTITIES), latex=r"\mathrm{quantity}"),
        ),
        derive=_S.derive_binning,
        experiment=kernels.binning_experiment,
        sources=_S.BINNING_SOURCES,
        remarks=binning_remarks,
    )
)
