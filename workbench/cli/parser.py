"""The command line's grammar: one argparse parser, run options declared once and shared.

Values are parsed by the same :class:`~workbench.Parameter` objects the Python API validates with
(:data:`workbench.settings.SETTINGS`), so ``--seed -1`` and ``seed=-1`` are refused in the same words.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import NoReturn

from numerics import BACKENDS

from ..codec import BITS
from ..dask_cluster import TIMEOUT
from ..errors import InputError
from ..parameters import Parameter
from ..settings import SETTINGS

__all__ = ["build"]


class Parser(argparse.ArgumentParser):
    """argparse, with its error message on one line (``workbench: error: ...``, exit 2) instead of the
    usage block followed by the message."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog.split()[0]}: error: {message}\n")


def setting(name: str | Parameter) -> Callable[[str], object]:
    """An argparse type parsing with a Parameter (a run setting named ``name``, or the one given)."""
    parameter = SETTINGS[name] if isinstance(name, str) else name

    def parse(text: str) -> object:
        try:
            return parameter.parse(text)
        except InputError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = parameter.name
    return parse


def _run_options() -> Parser:
    p = Parser(add_help=False)
    g = p.add_argument_group("run settings")
    g.add_argument("--set", dest="sets", action="append", default=[], metavar="NAME=VALUE",
                   help="set a parameter of the claims that have it (repeatable)")
    g.add_argument("--backend", default="numpy", choices=BACKENDS, help="array library of the kernels")
    g.add_argument("--seed", type=setting("seed"), default=0, help="seed of every draw (default 0)")
    g.add_argument("--resolution", type=setting("resolution"), default=None,
                   help="target resolution of Monte Carlo claims (default: each claim's own, 0.01 for most)")
    g.add_argument("--alpha", type=setting("alpha"), default=1e-6, help="level of the run's tests (default 1e-6)")
    g.add_argument("--jobs", type=setting("jobs"), default=None, metavar="N",
                   help="processes side by side (default: every core; the results are the same)")
    g.add_argument("--max-replicates", dest="max_replicates", type=setting("max_replicates"), default=None, metavar="N",
                   help="most Monte Carlo replicates per claim (default: each claim's own cap)")
    return p


def _grid_options(required: bool) -> Parser:
    p = Parser(add_help=False)
    g = p.add_argument_group("sweep")
    g.add_argument("--grid", action="append", default=[], required=required, metavar="NAME=V1,V2|A:B[:C]",
                   help="a swept parameter: values by commas, or START:STOP[:STEP] (stop excluded); one per axis")
    g.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="'serial' (here), a Dask scheduler (tcp://host:8786), or 'dask' for a Dask LocalCluster; "
                        "default: --jobs local processes")
    g.add_argument("--timeout", dest="connect_timeout", type=setting(TIMEOUT), default=None, metavar="SECONDS",
                   help="with a scheduler address: seconds within which it must accept the connection and answer "
                        f"(default {TIMEOUT.default:g})")
    g.add_argument("--store", metavar="DIR", help="keep each point's result here: a rerun computes only what is missing")
    g.add_argument("--family", default="holm", choices=("holm", "bonferroni"),
                   help="family-wise correction across the grid's points")
    return p


def _force(p: argparse.ArgumentParser, what: str = "a file the workbench did not write") -> None:
    p.add_argument("--force", action="store_true", help=f"overwrite {what}")


def build() -> Parser:
    """The parser of ``workbench``; each subcommand's ``func`` is set by :mod:`workbench.cli`."""
    p = Parser(prog="workbench", description="Derive and verify deep learning theory claims.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser, metavar="COMMAND")
    run, grid, grid_optional = _run_options(), _grid_options(True), _grid_options(False)

    inf = sub.add_parser("info", help="versions, usable backends (and why not), BLAS, cores, LaTeX")
    inf.add_argument("--json", action="store_true", help="print a JSON object")

    ls = sub.add_parser("list", help="list the registered claims")
    ls.add_argument("--json", action="store_true", help="one JSON object per claim")

    dv = sub.add_parser("derive", help="print claims' derivations (with an area or no id: one line per claim)")
    dv.add_argument("ids", nargs="*", metavar="ID", help="claim ids or areas (e.g. xent.margin, init)")
    how = dv.add_mutually_exclusive_group()
    how.add_argument("--latex", action="store_true", help="print LaTeX instead of text")
    how.add_argument("--json", action="store_true", help="one JSON object per claim (a list when several)")
    how.add_argument("--graph", action="store_true", help="draw one claim's dependency graph into -o FILE")
    dv.add_argument("-o", "--output", default=None, help="the graph's file: .svg, .pdf or .png")
    _force(dv)

    vf = sub.add_parser("verify", parents=[run], help="verify claims numerically (all claims by default)")
    vf.add_argument("ids", nargs="*", metavar="ID", help="claim ids or areas (e.g. xent)")
    vf.add_argument("--json", action="store_true", help="print a JSON list, one object per claim (notes included)")
    vf.add_argument("--notes", action="store_true", help="print every verdict's notes after the table")

    sw = sub.add_parser("sweep", parents=[run, grid], help="verify one claim over a grid of parameters")
    sw.add_argument("id", help="claim id, e.g. init.he-forward")
    fmt = sw.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print the sweep as JSON (family verdict and every point)")
    fmt.add_argument("--csv", action="store_true", help="print the table as CSV")

    lx = sub.add_parser("latex", parents=[run],
                        help="write LaTeX (theorem, proof, verification table, figure, BibTeX) for claims")
    lx.add_argument("ids", nargs="*", metavar="ID", help="claim ids or areas (all claims by default)")
    lx.add_argument("-o", "--output", metavar="OUT.tex", help="write OUT.tex, OUT.bib and figures (default: print the LaTeX)")
    lx.add_argument("--fragment", action="store_true",
                    help="a guest for your own paper: no preamble or bibliography; writes OUT-preamble.tex to \\input")
    lx.add_argument("--root", metavar="DIR", default=None,
                    help="with --fragment: the folder your paper is compiled in (figure paths; default: here)")
    lx.add_argument("--verify", action="store_true", help="add a verification table per claim from a real run")
    lx.add_argument("--pdf", action="store_true", help="compile OUT.tex to OUT.pdf with latexmk (or pdflatex + bibtex)")
    lx.add_argument("--no-figures", dest="figures", action="store_false", help="leave out the figures")
    _force(lx)

    pl = sub.add_parser("plot", parents=[run, grid_optional], help="draw a claim's figure (closed form against measured points)")
    pl.add_argument("id", help="claim id, e.g. xent.margin")
    pl.add_argument("-o", "--output", required=True, metavar="FILE", help="figure file: .pdf, .png, .svg or .eps")
    pl.add_argument("--sweep", action="store_true", help="draw a sweep over --grid instead of the claim's own figure")
    _force(pl)

    cp = sub.add_parser("compress", help="quantise a float tensor (.npy) and Huffman-code it into a self-describing file")
    cp.add_argument("weights", metavar="WEIGHTS.npy", help="a NumPy .npy file holding a float array")
    cp.add_argument("--bits", type=setting(BITS), required=True, metavar="B", help="quantisation bits, 1 to 16")
    cp.add_argument("-o", "--output", metavar="OUT", help="compressed file (default: WEIGHTS with suffix .wbz)")
    _force(cp)
    cp.add_argument("--json", action="store_true", help="print the report as JSON")

    dc = sub.add_parser("decompress", help="restore the quantised tensor of a compressed file, exactly")
    dc.add_argument("compressed", metavar="FILE.wbz", help="a file written by workbench compress")
    dc.add_argument("-o", "--output", metavar="OUT.npy", help="output .npy (default: FILE with suffix .npy)")
    dc.add_argument("--codes", action="store_true", help="write the integer quantisation codes, not the dequantised floats")
    _force(dc, "an existing file")
    return p

