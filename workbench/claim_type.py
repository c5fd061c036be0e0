"""A Claim pairs a derivation (proofs layer) with an experiment (numerics layer).

It holds nothing else: statistics live in :mod:`workbench.verification`; printing and figures
(:mod:`workbench.printing`, :mod:`workbench.figures`) are looked up through :mod:`workbench.faces`.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import sympy as sp

from numerics import Estimate
from proofs import Derivation, Source
from proofs.mathtext import check as check_text

from .asymptotics import Limit
from .errors import DomainError, InputTypeError
from .faces import face
from .parameters import Parameter

__all__ = ["Claim", "Correction", "KINDS", "SCALES", "Scaling"]

KINDS = ("exact", "statistical", "asymptotic")
SCALES = ("relative", "absolute")
_ID = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*\.[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Scaling:
    """A scaling law that every verdict of a claim also tests: ``quantity`` is proportional to
    ``variable`` to the power ``exponent``.

    ``measure(xp, rng, **values) -> Estimate`` fits the exponent on the claim's own kind of run (its
    mean the fitted slope, its ``stderr`` the fit's); ``derive()`` returns the derivation whose
    closed form is the exponent. The verdict passes only if the fitted exponent agrees with it.
    """

    quantity: str
    variable: str
    derive: Callable[[], Derivation]
    measure: Callable[..., Estimate]
    exponent_override: float | None = None

    @property
    def exponent(self) -> float:
        if self.exponent_override is not None:
            return self.exponent_override
        return float(self.derive().closed_form)


@dataclass(frozen=True)
class Correction:
    r"""A correction coefficient an asymptotic claim derives instead of fitting: :math:`b_k` of the
    ``term``-th correction in :math:`f(x) = a + \sum_k b_k x^{\mp k p}` (see :mod:`workbench.asymptotics`).

    ``derive()`` returns the derivation whose closed form is the coefficient, in the claim's
    parameter symbols. Every verdict tests the fitted coefficient against it, as it tests the
    limit; ``override`` replaces the derived value (a mutation test).
    """

    term: int
    derive: Callable[[], Derivation]
    override: sp.Basic | None = None

    @property
    def coefficient(self) -> sp.Basic:
        return self.override if self.override is not None else self.derive().closed_form


@dataclass(frozen=True, eq=False)
class Claim:
    """A checkable result.

    - ``id``: stable, citable, ``area.short-name`` stating the result (``xent.margin``);
    - ``derive``: a function returning the :class:`~proofs.Derivation` whose conclusion's
      right-hand side is the closed form, a SymPy expression in the parameters' symbols;
    - ``experiment(xp, rng, budget, **params) -> Estimate`` measures the same quantity,
      taking exactly the parameter names;
    - ``kind``: ``exact`` (deterministic, a floating tolerance), ``statistical`` (a
      Monte Carlo mean over ``budget`` independent replicates) or ``asymptotic`` (a limit:
      the experiment is statistical at each value of ``limit.name``, which it takes as one
      more keyword; the verifier sweeps it and extrapolates, see :mod:`workbench.asymptotics`);
    - ``scale``: resolutions are ``relative`` to the expected value (``absolute`` for a
      closed form that is zero, such as an expected gradient);
    - ``plot(ctx) -> matplotlib Figure`` draws the claim's figure (see
      :mod:`workbench.figures`); without one, a default figure plots the closed form
      against the first numeric parameter;
    - ``constraint(values)`` returns why a combination of parameters is refused (or None),
      for domains that are not a product of the parameters' own;
    - ``remarks(values)`` returns lines every verdict carries (e.g. how a derived value
      compares with a convention);
    - ``resolution``: the target resolution of Monte Carlo runs that do not ask for one (0.01;
      coarser for a claim whose replicates are expensive, such as training networks);
    - ``scaling``: a :class:`Scaling` law every verdict also tests (a statistical claim whose
      spread across replicates has a derived exponent in a parameter);
    - ``corrections``: the :class:`Correction` coefficients an asymptotic claim derives; every
      verdict tests them beside the limit (``fit.derived`` in its JSON).
    """

    id: str
    title: str
    statement: str
    kind: str
    parameters: tuple[Parameter, ...]
    derive: Callable[[], Derivation]
    experiment: Callable[..., Estimate]
    sources: tuple[Source, ...]
    scale: str = "relative"
    pilot: int = 4096
    max_replicates: int = 50_000_000
    resolution: float = 0.01  # the target resolution of a run that asks for none
    closed_form_override: sp.Basic | None = None
    plot: Callable[..., Any] | None = None
    constraint: Callable[[dict[str, Any]], str | None] | None = None
    remarks: Callable[[dict[str, Any]], Sequence[str]] | None = None
    limit: Limit | None = None
    scaling: Scaling | None = None
    corrections: tuple[Correction, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _ID.match(self.id):
            raise ValueError(f"claim id {self.id!r} must read area.short-name (lower case, digits, hyphens)")
        for text in (self.title, self.statement):
            check_text(text)  # text with inline $math$ (proofs.mathtext)
        if self.kind not in KINDS:
            raise ValueError(f"claim {self.id}: kind={self.kind!r} is not one of {', '.join(KINDS)}")
        if self.scale not in SCALES:
            raise ValueError(f"claim {self.id}: scale={self.scale!r} is not one of {', '.join(SCALES)}")
        if not self.sources:
            raise ValueError(f"claim {self.id}: every claim cites at least one source")
        object.__setattr__(self, "parameters", tuple(self.parameters))
        object.__setattr__(self, "sources", tuple(self.sources))
        names = [p.name for p in self.parameters]
        if len(set(names)) != len(names):
            raise ValueError(f"claim {self.id}: duplicate parameter names {names}")
        if self.scaling is not None and self.kind != "statistical":
            raise ValueError(f"claim {self.id}: a scaling law is tested beside a statistical claim's mean only")
        if (self.kind == "asymptotic") != (self.limit is not None):
            raise ValueError(f"claim {self.id}: an asymptotic claim, and only one, takes a limit=Limit(...)")
        if self.limit is not None:
            if self.limit.name in names:
                raise ValueError(f"claim {self.id}: the limit {self.limit.name!r} is swept, so it is not also a parameter")
            names = [*names, self.limit.name]
        object.__setattr__(self, "corrections", tuple(self.corrections))
        self._check_corrections()
        self._check_experiment_signature(names)

    def _check_corrections(self) -> None:
        if not self.corrections:
            return
        if self.limit is None or self.limit.order is None:
            raise ValueError(f"claim {self.id}: derived corrections belong to an asymptotic claim with a known order")
        terms = [c.term for c in self.corrections]
        if len(set(terms)) != len(terms) or any(not 1 <= t <= self.limit.terms for t in terms):
            raise ValueError(f"claim {self.id}: correction terms {terms} must be distinct, from 1 to {self.limit.terms}")

    def _check_experiment_signature(self, names: list[str]) -> None:
        sig = inspect.signature(self.experiment)
        params = list(sig.parameters.values())
        head = [p.name for p in params[:3]]
        if len(params) < 3 or any(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params[:3]):
            raise TypeError(f"claim {self.id}: experiment must take (xp, rng, budget, **params), got {head}")
        rest = {p.name for p in params[3:] if p.kind is not inspect.Parameter.VAR_KEYWORD}
        if rest != set(names):
            raise TypeError(
                f"claim {self.id}: experiment takes parameters {sorted(rest)} but the claim declares {sorted(names)}"
            )

    # -- the mathematics ------------------------------------------------------------
    @property
    def area(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def derivation(self) -> Derivation:
        return self.derive()

    @property
    def closed_form(self) -> sp.Basic:
        """The closed form (the derivation's, unless deliberately replaced by :meth:`with_closed_form`)."""
        return self.closed_form_override if self.closed_form_override is not None else self.derivation.closed_form

    @property
    def mutated(self) -> bool:
        return (self.closed_form_override is not None
                or (self.scaling is not None and self.scaling.exponent_override is not None)
                or any(c.override is not None for c in self.corrections))

    def with_closed_form(self, expr: Any) -> Claim:
        """A copy whose closed form is ``expr`` (for mutation tests: a wrong formula must be rejected)."""
        return replace(self, closed_form_override=sp.sympify(expr))

    def with_scaling_exponent(self, exponent: float) -> Claim:
        """A copy whose scaling law has ``exponent`` instead of the derived one (a mutation test)."""
        if self.scaling is None:
            raise TypeError(f"{self.id} has no scaling law")
        return replace(self, scaling=replace(self.scaling, exponent_override=float(exponent)))

    def with_correction(self, term: int, coefficient: Any) -> Claim:
        """A copy whose derived coefficient of correction ``term`` is ``coefficient`` (a mutation test:
        ``c.with_correction(1, -c.correction(1).coefficient)`` flips its sign)."""
        self.correction(term)  # raises for a term the claim does not derive
        return replace(self, corrections=tuple(replace(k, override=sp.sympify(coefficient)) if k.term == term else k
                                               for k in self.corrections))

    def correction(self, term: int) -> Correction:
        """The derived coefficient of correction ``term``."""
        for k in self.corrections:
            if k.term == term:
                return k
        raise TypeError(f"{self.id} derives no coefficient for correction term {term}")

    def with_sweep(self, sweep: Sequence[float], **changes: Any) -> Claim:
        """A copy of an asymptotic claim swept over other values of its limit (and, through
        ``changes``, another ``order``, ``terms``...): ``c.with_sweep((64, 128, 256, 512))``."""
        if self.limit is None:
            raise TypeError(f"{self.id} is a {self.kind} claim; only asymptotic claims have a sweep")
        return replace(self, limit=replace(self.limit, sweep=tuple(sweep), **changes))

    # -- parameters -------------------------------------------------------------------
    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise InputTypeError(f"unknown parameter {name!r} for {self.id}; its parameters: {self.parameter_names}")

    @property
    def parameter_names(self) -> str:
        return ", ".join(p.name for p in self.parameters) or "none"

    @property
    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.parameters}

    def resolve(self, values: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Defaults overridden by ``values``, each validated against its domain."""
        values = dict(values or {})
        for name in values:
            self.parameter(name)  # raises TypeError for an unknown name
        resolved = {p.name: p.validate(values.get(p.name, p.default)) for p in self.parameters}
        if self.constraint is not None:
            problem = self.constraint(resolved)
            if problem:
                raise DomainError(f"{self.id}: {problem}")
        return resolved

    def symbolic(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Resolved values as the closed form takes them (choices replaced by their codes)."""
        return {p.name: p.symbolic(values[p.name]) for p in self.parameters if p.name in values}

    # -- figures ---------------------------------------------------------------------
    def figure(self, *, seed: int = 0, backend: str = "numpy", **params: Any):
        """The claim's figure at ``params``: closed form as curves, verifier runs as points
        with error bars (a :class:`matplotlib.figure.Figure`)."""
        return face("figure")(self, seed=seed, backend=backend, **params)

    def __repr__(self) -> str:
        return f"<Claim {self.id}: {self.title}>"

    def __str__(self) -> str:
        return face("claim_text")(self)

    def _repr_latex_(self) -> str:
        return face("claim_latex")(self)
