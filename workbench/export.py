"""``wb.latex(...)`` / ``workbench latex``: write the .tex, the .bib and the figures, and
compile them to PDF.

Everything is validated before any work starts (claim ids, output paths, a LaTeX
installation when a PDF is asked for); then verification runs, figures are drawn, and
each file is written atomically. Compilation happens in a temporary directory beside the
output, so a failed run leaves the previous PDF in place.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .claim_type import Claim
from .errors import DomainError
from .executors import choose
from .figures import figure, save
from .files import OutputError, atomic_write, check_target, install, owned, remove_written, write_error
from .plan import Plan, Task, plan_claims
from .progress import Reporter
from .registry import claims as all_claims
from .settings import RunSettings
from .tex import PREAMBLE, bibliography, claim_section, document, preamble_file
from .verdict import Verdict
from .verification import run_task

__all__ = ["latex", "plan_latex", "write_latex", "LatexPlan", "LatexExport", "LatexError", "LatexUnavailable", "compile_pdf", "first_error"]

COMPILE_TIMEOUT = 300  # seconds


class LatexUnavailable(DomainError):
    """A PDF was asked for but no LaTeX is installed."""


class LatexError(RuntimeError):
    """LaTeX failed to compile the document; the message is its first error, on one line."""


@dataclass
class LatexExport:
    """What :func:`latex` produced: the LaTeX text and the files it wrote."""

    text: str
    bibtex: str
    claims: tuple[Claim, ...]
    verdicts: tuple[Verdict, ...] = ()
    tex: Path | None = None
    bib: Path | None = None
    figures: tuple[Path, ...] = ()
    pdf: Path | None = None
    preamble: Path | None = None
    packages: str = PREAMBLE
    warnings: tuple[str, ...] = field(default_factory=tuple)
    removed: tuple[Path, ...] = ()  # figures of an earlier run that this run did not draw
    inputs: tuple[str, str, str] | None = None  # a fragment's preamble, itself and .bib as its paper names them

    def __str__(self) -> str:
        return self.text

    @property
    def files(self) -> tuple[Path, ...]:
        return tuple(p for p in (self.tex, self.bib, self.preamble, *self.figures, self.pdf) if p is not None)


def _figure_name(stem: str, c: Claim) -> str:
    return f"{stem}-{c.id.replace('.', '-')}.pdf"


def _stale_figures(out: Path, keep: Sequence[Path]) -> list[Path]:
    """Figures beside ``out`` (named as this document names a registered claim's figure) that an
    earlier run of the workbench wrote (they carry its marker) and this run did not draw; a file the
    workbench did not write is never among them."""
    kept = {p.resolve() for p in keep}
    names = [out.with_name(_figure_name(out.stem, c)) for c in all_claims()]
    return [p for p in names if p.resolve() not in kept and p.is_file() and owned(p)]


def latex_tools() -> str:
    """``latexmk`` or ``pdflatex`` (with ``bibtex``), whichever is installed; else LatexUnavailable."""
    if shutil.which("latexmk") and shutil.which("pdflatex"):
        return "latexmk"
    if shutil.which("pdflatex") and shutil.which("bibtex"):
        return "pdflatex"
    raise LatexUnavailable(
        "a PDF needs LaTeX, and neither latexmk nor pdflatex is installed (Debian/Ubuntu: apt-get install "
        "texlive-latex-base texlive-latex-recommended texlive-fonts-recommended latexmk)"
    )


@dataclass(frozen=True)
class LatexPlan:
    """A validated :func:`latex` call: nothing has been run or written yet. ``plan`` holds one task
    per claim (its parameters and the run's settings)."""

    plan: Plan
    out: Path | None
    fragment: bool
    verify: bool
    pdf: bool
    figures: bool
    force: bool
    root: Path | None = None  # where the paper that \input's a fragment is compiled (figure paths)
    targets: tuple[Path, ...] = ()  # every file the run may write

    @property
    def claims(self) -> tuple[Claim, ...]:
        return tuple(t.claim for t in self.plan.tasks)


def plan_latex(
    ids: str | Sequence[str] | None = None,
    out: str | os.PathLike | None = None,
    *,
    fragment: bool = False,
    verify: bool = False,
    pdf: bool = False,
    figures: bool = True,
    force: bool = False,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    settings: RunSettings | None = None,
    root: str | os.PathLike | None = None,
) -> LatexPlan:
    """Validate a :func:`latex` call before any work (ids, parameters, settings, output paths, LaTeX)."""
    plan = plan_claims([ids] if isinstance(ids, str) else ids, params, settings)
    if root is not None and not fragment:
        raise DomainError("root sets where a fragment's paper is compiled: it goes with --fragment (fragment=True)")
    root_dir = Path(root if root is not None else os.getcwd()).expanduser().resolve() if fragment else None
    if root_dir is not None and not root_dir.is_dir():
        raise OutputError(f"root {str(root)!r} is not a directory")
    if pdf and fragment:
        raise DomainError("a fragment has no preamble and cannot be compiled on its own; leave out --fragment "
                          "(fragment=False) to get a PDF")
    targets: list[Path] = []
    if out is None:
        if pdf:
            raise DomainError("compiling a PDF needs an output path (-o FILE.tex, out=FILE.tex)")
        figures = False
    else:
        out = Path(out).expanduser()
        if out.suffix != ".tex":
            raise OutputError(f"output {str(out)!r} must end in .tex")
        targets = [out, out.with_suffix(".bib")]
        if fragment:
            targets.append(out.with_name(f"{out.stem}-preamble.tex"))
        if figures:
            targets += [out.with_name(_figure_name(out.stem, t.claim)) for t in plan.tasks]
        if pdf:
            latex_tools()
            targets.append(out.with_suffix(".pdf"))
        for t in targets:
            check_target(t, force=force)
    if figures:
        import matplotlib  # noqa: F401  (figures need it: fail before any work)
    return LatexPlan(plan, out, fragment, verify, pdf, figures, force, root_dir, tuple(targets))


def write_latex(p: LatexPlan, reporter: Reporter | None = None) -> LatexExport:
    """Carry out a validated :func:`plan_latex`: verify and draw each claim (on the plan's executor:
    ``jobs`` local processes), then write and compile. A run that stops part way (a full disk, a LaTeX
    file that cannot be written, Ctrl-C) removes the files it created, so no half set of outputs is left; files it
    overwrote stay as they are, each whole."""
    before = {t for t in p.targets if t.exists() or t.is_symlink()}
    try:
        return _write_latex(p, reporter)
    except LatexError:  # the sources are whole and show the error: they stay
        raise
    except BaseException:
        for t in p.targets:
            if t not in before and owned(t):
                remove_written(t)
        raise


def _write_latex(p: LatexPlan, reporter: Reporter | None) -> LatexExport:
    stem = p.out.stem if p.out is not None else "claims"

    def one(task: Task, report: Reporter) -> tuple[Verdict | None, Path | None, str | None]:
        """The task's verdict (if asked) and its figure, saved beside the .tex (if asked)."""
        verdict = run_task(task, report) if p.verify else None
        if not p.figures or p.out is None:
            return verdict, None, None
        report.phase(0, "drawing the figure")
        fig = figure(task.claim, seed=task.settings.seed, backend=task.settings.backend, verdict=verdict, **task.params)
        return verdict, save(fig, p.out.with_name(_figure_name(stem, task.claim)), force=p.force), str(fig.get_label())

    reporter = reporter if reporter is not None else Reporter()
    done: list[Any] = [None] * len(p.plan.tasks)
    reporter.start([t.label for t in p.plan.tasks])
    with choose(p.plan.settings.processes) as executor:
        for i, result in executor.run(one, p.plan.tasks, reporter):
            done[i] = result
            reporter.finish(i, result[0])
    verdicts = [v for v, _, _ in done if v is not None]
    written = [path for _, path, _ in done if path is not None]
    sections = [
        claim_section(c, verdict, (_figure_path(p, path), label) if path is not None else None)
        for c, (verdict, path, label) in zip(p.claims, done, strict=True)
    ]
    bib = bibliography(p.claims)
    names = None
    if p.fragment and p.out is not None and p.root is not None:
        preamble, this, bibfile = (_input_name(p.out.with_name(n), p.root) for n in (f"{stem}-preamble.tex", p.out.name,
                                                                                      f"{stem}.bib"))
        names = (preamble, this, bibfile)
    text = document(p.claims, sections, bib=stem, fragment=p.fragment, names=names)
    result = LatexExport(text=text, bibtex=bib, claims=p.claims, verdicts=tuple(verdicts), figures=tuple(written),
                         inputs=names)
    if p.out is None:
        return result
    result.bib = atomic_write(p.out.with_suffix(".bib"), bib)
    if p.fragment:
        result.preamble = atomic_write(p.out.with_name(f"{p.out.stem}-preamble.tex"), preamble_file())
    result.tex = atomic_write(p.out, text)
    result.removed = tuple(_stale_figures(p.out, written))
    for stale in result.removed:
        remove_written(stale)
    if p.pdf:
        result.pdf, result.warnings = compile_pdf(p.out)
    return result


def _input_name(path: Path, root: Path) -> str:
    """How a paper compiled in ``root`` names ``path`` to ``\\input`` or ``\\bibliography`` it."""
    return Path(os.path.relpath(path.resolve(), root)).with_suffix("").as_posix()


def _figure_path(p: LatexPlan, path: Path) -> str:
    """How the .tex names a figure: beside it for a whole document (compiled where it lies); for a
    fragment, relative to the folder its paper is compiled in (``root``)."""
    if p.root is None:
        return path.name
    return Path(os.path.relpath(path.resolve(), p.root)).as_posix()


def latex(
    ids: str | Sequence[str] | None = None,
    out: str | os.PathLike | None = None,
    *,
    fragment: bool = False,
    verify: bool = False,
    pdf: bool = False,
    figures: bool = True,
    force: bool = False,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    seed: int = 0,
    backend: str = "numpy",
    resolution: float | None = None,
    alpha: float = 1e-6,
    jobs: int | None = 1,
    root: str | os.PathLike | None = None,
) -> LatexExport:
    """LaTeX for the claims ``ids`` (ids or areas; all claims when None).

    Without ``out`` the LaTeX is returned as text (no figures, nothing written). With
    ``out`` (a ``.tex`` path) it writes ``out``, the ``.bib`` beside it, one PDF figure per
    claim (unless ``figures=False``) and, with ``pdf=True``, compiles ``out`` to PDF.
    ``verify=True`` adds a verification table per claim from a real verifier run
    (``params`` maps a claim id to parameter values). Existing files the workbench did
    not write are never overwritten unless ``force=True``. ``jobs`` processes verify and draw
    claims side by side (``None``: every core); the document is the same.

    ``fragment=True`` writes a guest for someone else's paper: no preamble and no bibliography of
    its own, ``OUT-preamble.tex`` with the packages it needs, figures named relative to ``root``
    (the folder the paper is compiled in; default the current one). Figures an earlier run wrote
    beside ``out`` and this run did not draw are removed.

    >>> r"\\label{thm:xent.margin}" in latex("xent.margin", fragment=True).text
    True
    """
    settings = RunSettings(backend=backend, seed=seed, resolution=resolution, alpha=alpha, jobs=jobs)
    p = plan_latex(ids, out, fragment=fragment, verify=verify, pdf=pdf, figures=figures, force=force, params=params,
                   settings=settings, root=root)
    return write_latex(p)


_ERROR_LINE = re.compile(r"^(?:(?P<file>[^:\n]+\.tex):(?P<line>\d+): (?P<msg>.+)|! (?P<bare>.+))$", re.MULTILINE)
_WARNING = re.compile(r"^(?:LaTeX|Package \w+) Warning: (.+?)(?:\.$|$)", re.MULTILINE)


def first_error(log: str) -> str | None:
    """The first error in a LaTeX log, on one line (``claims.tex:12: Undefined control sequence``)."""
    m = _ERROR_LINE.search(log)
    if m is None:
        return None
    if m.group("bare"):
        line = re.search(r"^l\.(\d+)", log[m.end():], re.MULTILINE)
        return m.group("bare").strip() + (f" (line {line.group(1)})" if line else "")
    return f"{Path(m.group('file')).name}:{m.group('line')}: {m.group('msg').strip()}"


def _warnings(log: str) -> tuple[str, ...]:
    found = [w.replace("\n", " ") for w in _WARNING.findall(log)]
    return tuple(w for w in found if "undefined" in w.lower() or "rerun" in w.lower())


_EXTRA_PASSES = 3


def _run_tex(cmd: list[str], cwd: Path, env: dict, log_path: Path, name: str) -> str:
    """Run one TeX tool; return the log, or raise LatexError with the first error."""
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, errors="replace", timeout=COMPILE_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise LatexError(f"LaTeX did not finish within {COMPILE_TIMEOUT} s compiling {name}") from None
    log = log_path.read_text(errors="replace") if log_path.exists() else ""
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()
        error = first_error(log) or first_error(proc.stdout) or (tail[-1] if tail else f"exit status {proc.returncode}")
        raise LatexError(f"LaTeX failed: {error}" + ("" if name in error else f" (compiling {name})"))
    return log


def compile_pdf(tex: Path) -> tuple[Path, tuple[str, ...]]:
    """Compile ``tex`` (with its .bib and figures beside it) to ``tex.with_suffix('.pdf')``.

    Runs ``latexmk -pdf`` (or pdflatex, bibtex, pdflatex twice) in a temporary directory
    beside ``tex``; raises :class:`LatexError` with the first LaTeX error. Returns the PDF's
    path and the warnings about undefined references or citations that remain."""
    tool = latex_tools()
    given = Path(tex)
    tex = given.resolve()
    try:
        build = Path(tempfile.mkdtemp(dir=tex.parent, prefix=f".workbench-latex-{os.getpid()}-"))
    except OSError as exc:
        raise write_error(tex.with_suffix(".pdf"), exc) from None
    try:
        env = {
            **os.environ,
            "BIBINPUTS": f"{tex.parent}{os.pathsep}",
            "TEXINPUTS": f"{tex.parent}{os.pathsep}",
            "max_print_line": "100000",  # one log line per message, so the first error reads whole
        }
        flags = ["-interaction=nonstopmode", "-halt-on-error", "-file-line-error"]
        pdflatex = ["pdflatex", f"-output-directory={build}", *flags, tex.name]
        if tool == "latexmk":
            commands = [["latexmk", "-pdf", "-quiet", f"-outdir={build}", *flags, tex.name]]
        else:
            commands = [pdflatex, ["bibtex", tex.stem], pdflatex, pdflatex]
        log = ""
        for cmd in commands:
            log = _run_tex(cmd, build if cmd[0] == "bibtex" else tex.parent, env, build / f"{tex.stem}.log", tex.name)
        for _ in range(_EXTRA_PASSES):  # latexmk sometimes stops one pass short (file times within a second)
            if "Rerun to get" not in log:
                break
            log = _run_tex(pdflatex, tex.parent, env, build / f"{tex.stem}.log", tex.name)
        produced = build / f"{tex.stem}.pdf"
        if not produced.exists():
            raise LatexError(f"LaTeX produced no PDF for {tex.name}")
        install(produced, tex.with_suffix(".pdf"), shown=given.with_suffix(".pdf"))
        return given.with_suffix(".pdf"), _warnings(log)
    finally:
        shutil.rmtree(build, ignore_errors=True)
