"""The ``init.*`` claims: He and Xavier initialization, activation gains, the ReLU critical line."""

from __future__ import annotations

import math

from numerics import initialization as kernels
from proofs import initialization as derivations
from proofs import latex_number

from ..claim_type import Claim
from ..parameters import choice, integer, real
from ..reference import reference_value
from ..registry import register

__all__ = ["HE_FORWARD", "HE_BACKWARD", "XAVIER", "GAIN", "RELU_CRITICAL", "variance_constraint"]

_S = derivations
_C_DOC = r"the weight variance times the fan-in, $W^l_{ij} \sim \mathcal{N}(0, c/n)$"
LOG_VARIANCE_LIMIT = 3.0  # one network's statistic may have relative variance up to about e^3 - 1 = 19


def _method():
    return choice(
        "method", kernels.METHODS, "gram",
        "gram: the exact reduction to Binomial and chi-square draws, O(1) per layer (fast); "
        "dense: real networks, stacked float32 weights, one matmul per layer",
        typical=("gram",),
        setting=True,
    )


def _width(name: str, default: int, doc: str):
    return integer(name, default, doc, low=1, high=4096, typical=(32, 512), latex={"fan_in": "n", "fan_out": r"n_{\mathrm{out}}"}[name])


def _depth(default: int):
    return integer("depth", default, "the number of weight layers", low=1, high=200, typical=(1, 12), latex="L")


def _c(doc: str):
    return real("c", 2.0, doc, low=0.5, high=4.0, typical=(1.0, 3.0))


def variance_constraint(values: dict) -> str | None:
    """Refuse depths at which one network's statistic is too heavy-tailed for a Monte Carlo
    mean: its relative variance is about (1 + 5/n)^L (1 + 2/n_out) - 1 (chi-square moments)."""
    n, depth = values["fan_in"], values["depth"]
    out = values.get("fan_out", n)
    log_var = depth * math.log1p(5 / n) + math.log1p(2 / out)
    if log_var <= LOG_VARIANCE_LIMIT:
        return None
    deepest = max(0, math.floor((LOG_VARIANCE_LIMIT - math.log1p(2 / out)) / math.log1p(5 / n)))
    return (
        f"depth={depth} is too deep for fan_in={n}: one network's statistic would have relative variance about "
        f"{math.expm1(log_var):.3g} (more than e^{LOG_VARIANCE_LIMIT:g} - 1), too heavy-tailed for a trustworthy "
        f"Monte Carlo mean; use depth <= {deepest} at this width, or a wider network"
    )


HE_FORWARD = register(
    Claim(
        id="init.he-forward",
        title="He initialization: the mean squared pre-activation scales by $c/2$ per ReLU layer",
        statement=(
            r"In a ReLU network of width $n$ with weights $\mathcal{N}(0, c/n)$, the mean squared pre-activation obeys "
            r"$q_l = (c/2)\,q_{l-1}$, so $\mathbb{E}\,\|h^L\|^2/n_L = c\,(c/2)^{L-1} \|x\|^2/n_0$, exactly at any "
            "finite width; $c = 2$ (He et al. 2015) preserves it through any depth."
        ),
        kind="statistical",
        parameters=(
            _width("fan_in", 256, "the width of every layer (and of the input)"),
            _depth(20),
            _c(_C_DOC),
            real("q0", 1.0, r"the mean squared input entry, $\|x\|^2/n$", low=0.0, open_low=True, high=100.0, typical=(0.1, 10.0),
                 latex="q_0"),
            _method(),
        ),
        derive=_S.derive_he_forward,
        experiment=kernels.he_forward_experiment,
        sources=(_S.HE, _S.CASELLA),
        constraint=variance_constraint,
    )
)

HE_BACKWARD = register(
    Claim(
        id="init.he-backward",
        title=(r"He initialization: $\mathbb{E}\,\|J u\|^2 = c\,(c/2)^{L-1} n_{\mathrm{out}}/n$, so gradients "
               "neither explode nor vanish at $c = 2$"),
        statement=(
            r"For the same network with output width $n_{\mathrm{out}}$ and a linear last layer, the input-output "
            r"Jacobian $J$ satisfies $\mathbb{E}\,\|J u\|^2 = \|u\|^2 \prod_l c\,n_l/(2 n_{l-1})$ with no factor "
            r"$1/2$ for the last layer, i.e. $c\,(c/2)^{L-1} n_{\mathrm{out}}/n$, exactly at finite width. Networks "
            r"with a wholly inactive layer (probability about $2^{-n}$ per layer) have $J = 0$; the identity holds "
            "with them included, and the verdict reports how many there were."
        ),
        kind="statistical",
        parameters=(
            _width("fan_in", 256, "the width of the input and hidden layers"),
            _width("fan_out", 256, "the width of the output layer"),
            _depth(20),
            _c(_C_DOC),
            _method(),
        ),
        derive=_S.derive_he_backward,
        experiment=kernels.he_backward_experiment,
        sources=(_S.HE, _S.CASELLA),
        constraint=variance_constraint,
    )
)

XAVIER = register(
    Claim(
        id="init.xavier",
        title=(r"Xavier initialization: forward times backward factor "
               r"$4 n_{\mathrm{in}} n_{\mathrm{out}}/(n_{\mathrm{in}} + n_{\mathrm{out}})^2 \le 1$"),
        statement=(
            r"For a linear layer with $\mathrm{Var}[W_{ij}] = 2/(n_{\mathrm{in}} + n_{\mathrm{out}})$ (Glorot and "
            r"Bengio 2010) the forward variance factor is $2 n_{\mathrm{in}}/(n_{\mathrm{in}} + n_{\mathrm{out}})$ and "
            r"the backward factor $2 n_{\mathrm{out}}/(n_{\mathrm{in}} + n_{\mathrm{out}})$; their product "
            r"$4 n_{\mathrm{in}} n_{\mathrm{out}}/(n_{\mathrm{in}} + n_{\mathrm{out}})^2$ is at most $1$, with equality "
            r"iff $n_{\mathrm{in}} = n_{\mathrm{out}}$."
        ),
        kind="statistical",
        parameters=(
            integer("n_in", 64, "the fan-in of the layer", low=1, high=4096, typical=(1, 256), latex=r"n_{\mathrm{in}}"),
            integer("n_out", 32, "the fan-out of the layer", low=1, high=4096, typical=(1, 256), latex=r"n_{\mathrm{out}}"),
            _method(),
        ),
        derive=_S.derive_xavier,
        experiment=kernels.xavier_experiment,
        sources=(_S.GLOROT, _S.CASELLA),
    )
)

# Conventional gains of deep-learning libraries (torch.nn.init.calculate_gain).
# The labels are LaTeX math (without dollars): the figure of gains puts them inside $...$ too.
CONVENTIONS = {"relu": (r"\sqrt{2}", math.sqrt(2)), "linear": ("1", 1.0), "tanh": ("5/3", 5 / 3), "selu": ("3/4", 0.75)}
_WHY = {
    "tanh": r"$5/3$ is a rule of thumb for keeping $\tanh$ units out of saturation, not the second-moment-preserving "
            "gain",
    "selu": "$3/4$ is chosen for self-normalising training; the constants of SELU already preserve the second moment "
            "(gain $1$)",
}


def gain_remarks(values: dict) -> list[str]:
    """How the derived gain compares with the library convention, stated plainly."""

    name = values["activation"]
    derived = float(reference_value(GAIN.closed_form, GAIN.symbolic(values))[0])
    if name == "leaky_relu":
        a = values["negative_slope"]
        slope = latex_number(a, 6) if "^" not in latex_number(a, 6) else f"({latex_number(a, 6)})"  # (10^{-5})^2
        label, conventional = rf"\sqrt{{2/(1 + {slope}^2)}}", math.sqrt(2 / (1 + a * a))
    else:
        label, conventional = CONVENTIONS[name]
    diff = (conventional - derived) / derived
    line = (
        f"derived gain ${latex_number(derived, 7)}$; the library convention (PyTorch, torch.nn.init) is "
        f"${label} = {latex_number(conventional, 7)}$, ${100 * diff:+.2f}\\%$ from the derived value"
    )
    return [line + (f": {_WHY[name]}" if abs(diff) > 1e-12 and name in _WHY else "")]


GAIN = register(
    Claim(
        id="init.gain",
        title=r"Activation gains: $g = 1/\sqrt{\mathbb{E}[\phi(z)^2]}$, derived and compared with the conventions",
        statement=(
            r"The gain that preserves the second moment through an activation $\phi$ is "
            r"$g = 1/\sqrt{\mathbb{E}[\phi(z)^2]}$ with $z \sim \mathcal{N}(0, 1)$: $\sqrt{2}$ for ReLU, "
            r"$\sqrt{2/(1 + a^2)}$ for leaky ReLU, $1$ for linear, $1.5925\ldots$ for tanh (quadrature; the "
            "conventional $5/3$ is 4.7% higher) and $1$ for SELU (the conventional $3/4$ is 25% lower)."
        ),
        kind="statistical",
        parameters=(
            choice("activation", kernels.ACTIVATIONS, "relu", "the activation",
                   codes=tuple(_S.ACTIVATIONS[a] for a in kernels.ACTIVATIONS), latex=r"\phi"),
            real("negative_slope", 0.01, "the slope of leaky ReLU for $z < 0$", low=0.0, high=1.0, latex="a"),
        ),
        derive=_S.derive_gain,
        experiment=kernels.gain_experiment,
        sources=(_S.HE, _S.GLOROT, _S.KLAMBAUER, _S.PYTORCH),
        remarks=gain_remarks,
    )
)

RELU_CRITICAL = register(
    Claim(
        id="init.relu-critical",
        title=r"ReLU critical line: perturbations grow by $\chi_1 = \sigma_w^2/2$ per layer, critical at $\sigma_w^2 = 2$",
        statement=(
            "In mean-field signal propagation (Poole et al. 2016; Schoenholz et al. 2017) a ReLU network with weight "
            r"variance $\sigma_w^2 = c$ has $\chi_1 = c/2$: an infinitesimal input perturbation grows as "
            r"$\mathbb{E}\,\|\delta^L\|^2/\|\delta^0\|^2 = (c/2)^L$, exactly at finite width, so $c = 2$ separates "
            "the ordered phase (perturbations vanish) from the chaotic one (they explode)."
        ),
        kind="statistical",
        parameters=(
            _width("fan_in", 256, "the width of every layer"),
            _depth(10),
            _c(r"the weight variance $\sigma_w^2$ times the fan-in, $W^l_{ij} \sim \mathcal{N}(0, c/n)$"),
            _method(),
        ),
        derive=_S.derive_relu_critical,
        experiment=kernels.relu_critical_experiment,
        sources=(_S.POOLE, _S.SCHOENHOLZ),
        constraint=variance_constraint,
    )
)
