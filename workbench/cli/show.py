"""``workbench info``, ``list`` and ``derive``: what is installed, what is registered, how it is proved."""

from __future__ import annotations

import json
from argparse import Namespace
from pathlib import Path

from proofs.mathtext import to_text

from ..claim_type import Claim
from ..errors import DomainError
from ..figures import FORMATS
from ..files import OutputError, check_target
from ..info import info as machine_info
from ..info import info_text
from ..proof_graph import draw
from ..registry import claims, select
from ..tex import coded
from .terminal import console

__all__ = ["info", "listing", "derive"]


def info(args: Namespace) -> int:
    d = machine_info()
    print(json.dumps(d, indent=2) if args.json else info_text(d))
    return 0


def listing(args: Namespace) -> int:
    cs = claims()
    if args.json:
        rows = [{"id": c.id, "title": to_text(c.title), "source": [str(s) for s in c.sources],
                 "parameters": {p.name: {"default": p.default, "domain": p.domain, "doc": to_text(p.doc)}
                                for p in c.parameters}}
                for c in cs]
        print(json.dumps(rows, indent=2))
        return 0
    from rich.table import Table

    table = Table(title="Registered claims")
    for col in ("claim", "kind", "title", "parameters", "source"):
        table.add_column(col)
    for c in sorted(cs, key=lambda c: c.id.split(".")[0]):  # grouped by area (stable: registry order within one)
        table.add_row(c.id, c.kind, to_text(c.title), c.parameter_names, "; ".join(s.short for s in c.sources))
    console().print(table)
    return 0


def _summary_line(c: Claim) -> str:
    d = c.derivation
    rests = "checked" if d.status == "checked" else "cited: rests on " + "; ".join(d.cited)
    definitions = d.count("definition")
    return (f"{c.id}: {len(d.steps)} steps ({d.count('checked')} checked, {d.count('cited')} cited, "
            f"{definitions} definition{'s' if definitions != 1 else ''}); conclusion {rests}")


def derive(args: Namespace) -> int:
    chosen = select(args.ids)
    summary = not args.ids or any(name not in {c.id for c in chosen} for name in args.ids)
    if args.graph:
        if len(args.ids) != 1 or summary:
            raise DomainError("--graph draws one claim: give exactly one claim id")
        if not args.output:
            raise DomainError("--graph needs -o FILE (.svg, .pdf or .png)")
        if Path(args.output).suffix.lower().lstrip(".") not in FORMATS:
            raise OutputError(f"cannot write {args.output}: unknown figure format; use one of "
                              + ", ".join("." + f for f in FORMATS))
        check_target(args.output, force=args.force)
        print(f"wrote {draw(chosen[0].derivation, args.output, force=args.force)}")
        return 0
    if args.output:
        raise DomainError("-o goes with --graph")
    if args.json:
        objects = [{"id": c.id, **c.derivation.to_dict(), "title": to_text(c.title), "proof": to_text(c.derivation.title)}
                   for c in chosen]
        print(json.dumps(objects[0] if len(objects) == 1 and not summary else objects, indent=2))
        return 0
    for i, c in enumerate(chosen):
        if summary:
            print(_summary_line(c))
        elif args.latex:
            print(c.derivation._latex())
            for k in c.corrections:
                print(k.derive()._latex())
        else:
            print(("\n" if i else "") + f"{c.id}: {to_text(c.title)}")
            relabel, names = coded(c)
            print(c.derivation.text(names, relabel))
            for k in c.corrections:  # the lemmas the verdicts test the fitted coefficients against
                print(f"\nLemma (the coefficient of {c.limit.correction_text(k.term, c.limit.order or 1.0)}):" if c.limit
                      else "\nLemma:")
                print(k.derive().text(names, relabel))
    return 0
