"""Derivations: proofs whose steps name their premises, each link checked by SymPy.

A :class:`Derivation` holds numbered :class:`~proofs.steps.Step` objects and a conclusion
that names its premises too (``uses``). Construction refuses

- a conclusion that does not follow from its premises (a chain of relations, or rewriting by
  the premise equalities), or whose right side a definition introduces;
- a premise that is not an earlier step of the proof;
- a step outside the conclusion's support (the closure of its premises): show it among the
  ``remarks``, outside the proof, if it belongs in the text.

The conclusion carries its weakest link: ``checked`` when every supporting step is checked
or a definition (a hypothesis included), else ``cited``, naming the cited results.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

from .checks import StepNotChecked, confirm_equal
from .mathtext import check as check_text
from .mathtext import to_latex, to_text
from .printing import LATEX_RELATIONS, LINE, latex_expr, latex_lines, latex_relation, latex_text, text_relation, width
from .sources import Source
from .steps import (
    RELATIONS,
    Step,
    cite,
    critical_set,
    define,
    equal,
    equal_by_cases,
    equal_entrywise,
    formula_text,
    hypothesis,
    recurrence,
    relation,
    rewriting,
    solutions,
    substitute,
)

__all__ = [
    "Step",
    "Derivation",
    "DerivationError",
    "RELATIONS",
    "define",
    "hypothesis",
    "equal",
    "equal_by_cases",
    "equal_entrywise",
    "relation",
    "substitute",
    "recurrence",
    "critical_set",
    "solutions",
    "cite",
    "register_face",
    "support_of",
]

# Faces (a graph drawer) registered by the layer that owns them; proofs imports no plotting.
_FACES: dict[str, Callable[..., Any]] = {}


def register_face(name: str, face: Callable[..., Any]) -> None:
    """Register a renderer for derivations (``"graph"``: ``face(derivation, path=None)``)."""
    _FACES[name] = face


class DerivationError(ValueError):
    """A derivation that is not a proof: a conclusion that does not follow, an orphan step..."""


def _combine(a: str, b: str) -> str | None:
    """Relation of a chain ``x a y b z``; None when the chain proves nothing (``<=`` then ``>=``)."""
    if a == "=":
        return b
    if b == "=":
        return a
    if (a in ("<", "<=")) != (b in ("<", "<=")):
        return None
    strict = "<" in (a, b) or ">" in (a, b)
    if a in ("<", "<="):
        return "<" if strict else "<="
    return ">" if strict else ">="


def _implies(derived: str, stated: str) -> bool:
    return derived == stated or (derived, stated) in {("<", "<="), (">", ">="), ("=", "<="), ("=", ">=")}


def _chain(lhs: sp.Basic, rel: str, rhs: sp.Basic, premises: Sequence[Step]) -> str | None:
    """Do the premises, every one of them, form a chain ``lhs ... rhs`` implying ``rel``?"""
    if len(premises) == 1 and (premises[0].lhs, premises[0].rhs) == (lhs, rhs) and _implies(premises[0].rel, rel):
        return "restates its premise"
    left = list(premises)
    current, derived = lhs, "="
    while left:
        link = next((p for p in left if p.lhs == current), None)
        if link is None:
            return None
        combined = _combine(derived, link.rel)
        if combined is None:
            return None
        derived = combined
        current = link.rhs
        left.remove(link)
    return "transitivity" if current == rhs and _implies(derived, rel) else None


def _conclude(lhs: sp.Basic, rel: str, rhs: sp.Basic):
    """The conclusion's check: a chain through all its premises, else (an equality)
    rewriting by them."""
    equality = rewriting(lambda r: confirm_equal(lhs, rhs, r))

    def check(premises: Sequence[Step]) -> str:
        if not premises:
            raise StepNotChecked("a conclusion needs premises")
        how = _chain(lhs, rel, rhs, premises)
        if how is not None:
            return how
        if rel == "=" and all(p.rel == "=" for p in premises):
            return "rewrite by the premises: " + equality(premises)
        raise StepNotChecked(f"{text_relation(lhs, rel, rhs)} does not follow from its premises")

    return check


@dataclass(frozen=True, eq=False)
class Derivation:
    """A proof: numbered steps, each naming its premises, and a conclusion that follows from
    its own premises. ``assumptions`` are hypotheses in words (printed with the theorem);
    ``remarks`` are checked steps shown after the proof, outside its support."""

    title: str
    steps: tuple[Step, ...]
    conclusion: Step
    assumptions: tuple[str, ...] = ()
    remarks: tuple[Step, ...] = ()
    abbreviations: tuple[tuple[sp.Symbol, sp.Basic], ...] = ()

    def __init__(self, title: str, steps: Sequence[Step], conclusion, *, uses: Iterable[Step] | None = None,
                 assumptions: Iterable[str] = (), remarks: Sequence[Step] = (),
                 abbreviations: Sequence[tuple[sp.Symbol, sp.Basic]] = ()) -> None:
        steps, remarks, assumptions = tuple(steps), tuple(remarks), tuple(assumptions)
        object.__setattr__(self, "abbreviations", tuple((sym, sp.sympify(value)) for sym, value in abbreviations))
        for text in (title, *assumptions):
            check_text(text)  # text with inline $math$ (proofs.mathtext)
        if not steps:
            raise DerivationError(f"derivation {title!r} has no steps")
        if isinstance(conclusion, sp.Eq):
            conclusion = (conclusion.lhs, "=", conclusion.rhs)
        if not isinstance(conclusion, tuple) or len(conclusion) != 3:
            raise TypeError("conclusion must be a sympy Eq or a (lhs, rel, rhs) tuple")
        lhs, rel, rhs = sp.sympify(conclusion[0]), conclusion[1], sp.sympify(conclusion[2])
        uses = (steps[-1],) if uses is None else tuple(uses)
        number = {id(s): i for i, s in enumerate(steps, 1)}
        if len(number) != len(steps):
            raise DerivationError(f"{title!r}: a step appears twice")
        for i, s in enumerate((*steps, *remarks), 1):
            for p in s.uses:
                if number.get(id(p), len(steps) + 1) >= min(i, len(steps) + 1):
                    raise DerivationError(f"{title!r}: step {i} uses a premise that is not an earlier step of the proof")
        for p in uses:
            if id(p) not in number:
                raise DerivationError(f"{title!r}: the conclusion uses a premise that is not a step of the proof")
        check = _conclude(lhs, rel, rhs)
        try:
            how = check(uses)
        except StepNotChecked as exc:
            raise DerivationError(f"the conclusion {text_relation(lhs, rel, rhs)} of {title!r} does not follow "
                                  f"from its premises: {exc}") from None
        support = support_of(uses)
        orphans = [number[id(s)] for s in steps if id(s) not in support]
        if orphans:
            raise DerivationError(f"{title!r}: step{'s' if len(orphans) > 1 else ''} {', '.join(map(str, orphans))} "
                                  "support nothing (show them as remarks, outside the proof)")
        for s in steps:
            if id(s) in support and s.status == "definition" and (
                (s.lhs, s.rhs) == (lhs, rhs) or (s.rhs == rhs and not rhs.is_Number)
            ):  # a number (the 1 of a normalisation) is not introduced by a hypothesis that mentions it
                raise DerivationError(f"{title!r}: the conclusion's right side is introduced by the {s.how} in "
                                      f"step {number[id(s)]}, not derived")
        cited = [s for s in steps if id(s) in support and s.status == "cited"]
        status = "cited" if cited else "checked"
        final = Step(lhs, rel, rhs, "", status, how, uses, check=check)
        object.__setattr__(self, "title", title)
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "conclusion", final)
        object.__setattr__(self, "assumptions", tuple(assumptions))
        object.__setattr__(self, "remarks", remarks)

    # -- the proof's structure ------------------------------------------------------------
    def number(self, step: Step) -> int:
        """The 1-based number of a step of the proof (remarks continue the numbering)."""
        for i, s in enumerate((*self.steps, *self.remarks), 1):
            if s is step:
                return i
        raise ValueError("not a step of this derivation")

    def uses(self, step: Step) -> list[int]:
        """The numbers of a step's premises."""
        return [self.number(p) for p in step.uses]

    @property
    def support(self) -> list[int]:
        """The numbers of the steps the conclusion rests on (the closure of its premises)."""
        closure = support_of(self.conclusion.uses)
        return [i for i, s in enumerate(self.steps, 1) if id(s) in closure]

    @property
    def cited(self) -> list[str]:
        """The cited results the conclusion rests on: ``"Baldi and Hornik (1989), Fact 4"``."""
        closure = support_of(self.conclusion.uses)
        return list(dict.fromkeys(f"{s.cited.short}, {s.how}" for s in self.steps
                                  if id(s) in closure and s.status == "cited"))

    @property
    def status(self) -> str:
        return self.conclusion.status

    @property
    def closed_form(self) -> sp.Basic:
        """The right-hand side of the conclusion."""
        return self.conclusion.rhs

    @property
    def statement(self) -> sp.Basic:
        return self.conclusion.statement

    @property
    def sources(self) -> tuple[Source, ...]:
        seen: dict[str, Source] = {}
        for s in (*self.steps, *self.remarks):
            if s.source is not None:
                seen.setdefault(s.source.key, s.source)
        return tuple(seen.values())

    def count(self, status: str) -> int:
        return sum(s.status == status for s in self.steps)

    @property
    def summary(self) -> str:
        definitions = self.count("definition")
        rests = "checked" if self.status == "checked" else "rests on " + "; ".join(self.cited)
        return (
            f"{len(self.steps)} step{'s' if len(self.steps) != 1 else ''}: {self.count('checked')} checked by SymPy, "
            f"{self.count('cited')} cited, {definitions} definition{'s' if definitions != 1 else ''}; "
            f"conclusion {rests}"
        )

    # -- faces ------------------------------------------------------------------------------
    def premises_text(self, step: Step) -> str:
        """``"by (3) and (5)"``, or empty for a step without premises."""
        numbers = [f"({n})" for n in self.uses(step)]
        if not numbers:
            return ""
        return "by " + (numbers[0] if len(numbers) == 1 else ", ".join(numbers[:-1]) + " and " + numbers[-1])

    def to_dict(self) -> dict:
        """The derivation as plain data (``workbench derive --json``)."""

        def step(s: Step) -> dict:
            return {"n": self.number(s), "lhs": str(s.lhs), "rel": s.rel, "rhs": str(s.rhs),
                    "latex": latex_relation(s.lhs, s.rel, s.rhs), "status": s.status, "how": to_text(s.how),
                    "reason": to_text(s.reason), "uses": self.uses(s),
                    "source": None if s.source is None else {"key": s.source.key, "short": s.source.short}}

        c = self.conclusion
        return {
            "title": to_text(self.title),
            "assumptions": [to_text(a) for a in self.assumptions],
            "steps": [step(s) for s in self.steps],
            "remarks": [step(s) for s in self.remarks],
            "conclusion": {"lhs": str(c.lhs), "rel": c.rel, "rhs": str(c.rhs), "latex": latex_relation(c.lhs, c.rel, c.rhs),
                           "how": c.how, "uses": self.uses(c), "support": self.support, "status": c.status,
                           "cited": self.cited},
            "counts": {k: self.count(k) for k in ("checked", "cited", "definition")},
        }

    def graph(self, path=None, *, force: bool = False):
        """Draw the dependency graph (steps coloured by status, premises as edges, the
        conclusion at the bottom); ``path`` a ``.svg``, ``.pdf`` or ``.png`` file (``force``
        overwrites a file the workbench did not write), else return the figure."""
        if "graph" not in _FACES:
            raise RuntimeError("no graph renderer is registered: import workbench first")
        return _FACES["graph"](self, path, force=force)

    def __str__(self) -> str:
        return self.text()

    def abbreviate(self, expr: sp.Basic) -> sp.Basic:
        """``expr`` with each long subexpression named in :attr:`abbreviations` shown as its symbol (for display
        only: every check and every evaluation uses the expression itself); an expression that is itself one of
        them (the side of the step that defines it) is left whole."""
        expr, table = sp.sympify(expr), {value: sym for sym, value in self.abbreviations}
        return expr if expr in table else expr.xreplace(table)

    def text(self, names: dict[str, str] | None = None, relabel: Callable[[sp.Basic], sp.Basic] | None = None) -> str:
        """The derivation as plain text; ``names`` and ``relabel`` as in :meth:`latex_rows`."""
        lines = [f"Derivation: {to_text(self.title)}"]
        lines += [f"  assume {to_text(a)}" for a in self.assumptions]
        for i, step in enumerate(self.steps, 1):
            by = self.premises_text(step)
            lines.append(f"  {i:>2}. {step.text(names, relabel)}{'  ' + by if by else ''}")
        c = self.conclusion
        lines.append(f"  therefore {formula_text(c.lhs, c.rel, c.rhs, names, relabel)}    ({self.premises_text(c)}; {to_text(c.how)})")
        for step in self.remarks:
            by = self.premises_text(step)
            lines.append(f"  remark {self.number(step)}. {step.text(names, relabel)}{'  ' + by if by else ''}")
        lines.append(f"  ({self.summary})")
        return "\n".join(lines)

    def latex_reason(self, step: Step, cite: Callable[[Source], str] | None = None, *, aside: bool = True) -> str:
        """A step's justification in LaTeX text mode, as a paper writes it: its reason, then
        "by (3) and (5)"; a cited step "by Theorem 2 of \\citet{key}"; how SymPy confirmed the
        step goes last, small, set off to the right (not into the sentence)."""
        parts = [to_latex(step.reason)] if step.reason else []
        by = self.premises_text(step)
        if step.status == "cited":
            ref = cite(step.cited) if cite else latex_text(step.cited.short)
            parts.append(f"by {latex_text(step.how)} of {ref}" + (f", with {by[3:]}" if by else ""))
        elif by:
            parts.append(by)
        elif not step.reason:
            parts.append("hypothesis" if step.is_hypothesis else "definition")
        text = ", ".join(parts)
        if not aside:  # inline (a remark): the method in words
            return text + (f"; SymPy: {to_latex(step.how)}" if step.status == "checked" else "")
        return text

    @staticmethod
    def latex_note(step: Step) -> str:
        """How the step stands, for the margin: ``SymPy: expand``, **cited**, hypothesis, definition."""
        if step.status == "checked":
            return f"SymPy: {to_latex(step.how)}"
        if step.status == "cited":
            return r"\textbf{cited}"
        return "hypothesis" if step.is_hypothesis else "definition"

    def latex_rows(self, cite: Callable[[Source], str] | None = None, names: dict[str, str] | None = None,
                   relabel: Callable[[sp.Basic], sp.Basic] | None = None,
                   breaks: bool = True) -> list[tuple[str, str, str, str]]:
        """One ``(left, relation and right, reason, note)`` quadruple of LaTeX per step; the left side
        is left empty where a step continues the chain of the one before. ``names`` renames symbols
        in the LaTeX (``{"fan_in": "n"}``), ``relabel`` rewrites each side first (codes as names).
        ``breaks``: lay the rows out for a page (``align*`` with mathtools), long sides on lines of their own."""
        relabel = relabel or (lambda e: e)
        rows = []
        previous = None
        heads = []
        for step in self.steps:
            heads.append("" if previous is not None and step.lhs == previous else latex_expr(relabel(step.lhs), names))
            previous = step.rhs
        # the rows share one alignment, so the widest left side sets the room on the right: a left side wider than
        # half a line goes on a line of its own (mathtools' \MoveEqLeft), and a right side still too long is broken
        wide = [breaks and width(h) > LINE // 2 for h in heads]
        budget = LINE - max([width(h) for h, w in zip(heads, wide, strict=True) if not w] or [0]) if breaks else 10**6
        heads = [rf"\MoveEqLeft {h} \\" if w else h for h, w in zip(heads, wide, strict=True)]
        for step, head in zip(self.steps, heads, strict=True):
            rel = LATEX_RELATIONS[step.rel]
            if step.rel == "=" and isinstance(step.lhs, (sp.core.relational.Relational, sp.logic.boolalg.BooleanFunction)):
                rel = r"\iff"
            cond = rf"\quad \text{{({to_latex(step.condition)})}}" if step.condition else ""
            lines = latex_lines(relabel(step.rhs), names, budget)  # a long sum goes on over lines
            right = r" \\ &\qquad ".join(lines)
            rows.append((head, rf"{rel} {right}{cond}", self.latex_reason(step, cite), self.latex_note(step)))
        return rows

    def _latex(self, printer=None) -> str:
        """The steps as one ``aligned`` block with the reasons on the right (for notebooks)."""
        rows = [rf"({i})\; {head} &{body} && \text{{{reason}}} \quad \text{{\scriptsize {note}}}"
                for i, (head, body, reason, note) in enumerate(self.latex_rows(breaks=False), 1)]
        return r"\begin{aligned}" + " \\\\\n".join(rows) + r"\end{aligned}"

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self._latex()}$"


def support_of(uses: Iterable[Step]) -> set[int]:
    """The ids of the steps reachable from ``uses`` through premises."""
    seen: set[int] = set()
    todo = list(uses)
    while todo:
        s = todo.pop()
        if id(s) not in seen:
            seen.add(id(s))
            todo.extend(s.uses)
    return seen


# Re-exported for callers that catch it from here.
StepNotChecked = StepNotChecked
