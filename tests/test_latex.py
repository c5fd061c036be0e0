"""LaTeX export: escaping, theorem/proof/table text, BibTeX, safe files, and real compiles.

Tests that compile need pdflatex: they skip without it locally, and fail in CI
(``CI=true``), where `.ci/run` installs TeX Live.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_paper_text import offences

import workbench as wb
from proofs import Source, latex_text
from proofs.mathtext import split as split_math
from workbench import tex
from workbench.export import (
    LatexError,
    LatexUnavailable,
    compile_pdf,
    first_error,
    latex,
)
from workbench.files import MARKER, OutputError, atomic_write, check_target, owned

HAVE_LATEX = shutil.which("pdflatex") is not None
HAVE_PDFTOTEXT = shutil.which("pdftotext") is not None
ROOT = Path(__file__).resolve().parents[1]


def _need_latex():
    if not HAVE_LATEX or not HAVE_PDFTOTEXT:
        if os.environ.get("CI"):
            pytest.fail("CI must have pdflatex and pdftotext: .ci/run installs TeX Live and poppler-utils")
        pytest.skip("pdflatex/pdftotext not installed")


def _compile_body(tmp_path: Path, body: str, name: str = "t", head: str = "\\documentclass{article}") -> str:
    """Compile ``body`` in a minimal document with the fragment preamble; return the log."""
    path = tmp_path / f"{name}.tex"
    path.write_text(
        head + "\n" + tex.DOCUMENT_PREAMBLE + "\n\\begin{document}\n" + body + "\n\\end{document}\n",
        encoding="utf-8",
    )
    proc = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", path.name],
        cwd=tmp_path, capture_output=True, text=True, errors="replace", timeout=120,
    )
    log = (tmp_path / f"{name}.log").read_text(errors="replace")
    assert proc.returncode == 0, first_error(log)
    return log


def _pdftext(pdf: Path) -> str:
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text


def _squash(text: str) -> str:
    """Letters and digits only (pdftotext breaks lines, hyphenates and changes quotes and minus signs)."""
    return re.sub(r"[^0-9A-Za-z]", "", text)


# -- the one escaping function ---------------------------------------------------------

SPECIALS = "&%$#_{}~^\\<>[]|\"'`-"
NASTY = st.text(
    alphabet=st.one_of(st.sampled_from(SPECIALS), st.characters(codec="utf-8", exclude_categories=("Cs",))),
    max_size=40,
)


def _structurally_safe(escaped: str) -> bool:
    """No special character is left bare: every & % $ # _ ^ is escaped, braces balance
    (a bare ~ is the tie a no-break space becomes)."""
    depth = 0
    for i, ch in enumerate(escaped):
        before = escaped[i - 1] if i else ""
        if ch in "&%$#_" and before != "\\":
            return False
        if ch == "^" and before != "\\":
            return False
        if ch == "{" and before != "\\":
            depth += 1
        elif ch == "}" and before != "\\":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0 and "\n" not in escaped


@given(NASTY)
@settings(max_examples=400, deadline=None)
def test_latex_text_leaves_no_special_bare(text):
    escaped = latex_text(text)
    assert _structurally_safe(escaped), escaped


def test_latex_text_examples():
    assert latex_text("a_b & 50%") == r"a\_b \& 50\%"
    assert latex_text("x--y") == "x-{}-y"  # no en-dash ligature
    assert latex_text("line\nbreak\x00") == "line break "
    assert latex_text("σ ≤ 1") == r"\ensuremath{\sigma} \ensuremath{\le} 1"
    assert latex_text("Mächler") == "Mächler"
    assert latex_text("☃") == "[U+2603]"


@given(st.lists(NASTY, min_size=1, max_size=12))
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_arbitrary_text_compiles_in_every_context(tmp_path_factory, texts):
    """Arbitrary text, escaped, compiles as running text, a theorem title, math \\text{},
    a caption and a table cell."""
    _need_latex()
    tmp = tmp_path_factory.mktemp("escape")
    parts = []
    for t in texts:
        e = latex_text(t)
        parts.append(
            f"{e}\n\n\\begin{{theorem}}[{{{e}}}]{e}\\end{{theorem}}\n$x = \\text{{{e}}}$\n"
            f"\\begin{{table}}[H]\\caption{{{e}}}\\begin{{tabular}}{{ll}}{e} & {e}\\\\\\end{{tabular}}\\end{{table}}"
        )
    _compile_body(tmp, "\n\n".join(parts))


def test_every_code_point_to_u024f_and_greek_compiles(tmp_path):
    _need_latex()
    chars = [chr(c) for c in range(0x20, 0x250)] + [chr(c) for c in range(0x370, 0x400)] + list("≤≥≠→∞∑√☃😀ﬁ")
    _compile_body(tmp_path, "\n\n".join(latex_text(ch) for ch in chars))


# -- theorem, proof, table, bibliography -----------------------------------------------

CLAIMS = wb.claims()
IDS = [c.id for c in CLAIMS]


@pytest.mark.parametrize("c", CLAIMS, ids=IDS)
def test_theorem_states_closed_form_domains_and_sources(c):
    t = tex.theorem(c)
    assert rf"\label{{thm:{c.id}}}" in t
    assert tex.statement_math(c) in t
    for p in c.parameters:
        assert (p.domain_latex in t) != p.setting  # a method setting is not part of the theorem
    for s in c.sources:
        assert s.key in t


@pytest.mark.parametrize("c", CLAIMS, ids=IDS)
def test_proof_has_every_step_with_its_reason(c):
    d = c.derivation
    p = tex.proof(d)
    assert p.count(r"\shortintertext") == len(d.steps)
    # how SymPy confirmed each checked step is set off to the right, not in the sentence
    assert p.count(r"\tag*{\scriptsize SymPy: ") == d.count("checked")
    assert "; SymPy: " in p or not any(r.status == "checked" for r in d.remarks)  # remarks say it inline
    assert p.count(r"\textbf{cited}") == d.count("cited")
    assert p.count(r"\textit{Remark (") == len(d.remarks)
    for s in d.steps:  # each step's premises by number ("with (1)" after a cited step's theorem)
        by = d.premises_text(s)
        assert (by if s.status != "cited" else "with " + by[3:]) in p
    for s in d.steps:
        if s.status == "cited":
            assert rf"\citet{{{s.source.key}}}" in p


def test_cited_step_is_marked_and_cites():
    import sympy as sp

    from proofs import Derivation, cite

    src = Source("weyl1912", "Hermann Weyl", "Das asymptotische Verteilungsgesetz der Eigenwerte", "Math. Ann.", 1912, doi="10.1007/BF01456804")
    x = sp.Symbol("x")
    d = Derivation("cited", [cite(x, "<=", sp.Integer(1), "Theorem 1", src, "Weyl's inequality")], (x, "<=", 1))
    p = tex.proof(d)
    assert r"Weyl\textquotesingle{}s inequality" not in p  # apostrophes stay apostrophes
    assert r"Weyl's inequality, by Theorem 1 of \citet{weyl1912}" in p and r"\textbf{cited}" in p
    assert "resting on the cited Weyl (1912), Theorem 1" in p


def test_verification_table_holds_the_run():
    c = wb.claim("xent.score-identity")
    v = wb.verify(c, seed=3)
    t = tex.verification_table(c, v)
    for text in (r"\toprule", r"\midrule", r"\bottomrule", "seed", "replicates", "backend", "resolution"):
        assert text in t
    from proofs import latex_number

    for x in (v.expected, v.estimate, v.replicates, v.seed):
        assert latex_number(x) in t
    assert latex_number(v.stderr, 3) in t


def test_bibliography_has_a_correct_entry_for_every_source():
    bib = tex.bibliography(CLAIMS)
    assert bib.startswith("% " + MARKER)
    assert bib.count("{") == bib.count("}")
    for c in CLAIMS:
        assert c.sources, f"{c.id} cites no source"
        for s in tex.sources_of([c]):
            entry = bib[bib.index(f"{{{s.key},"):]
            entry = entry[: entry.index("\n}")]
            for fieldname in ("author", "title", "year"):
                assert f"  {fieldname} = {{" in entry
            assert any(f"  {k} = {{" in entry for k in ("journal", "booktitle", "publisher", "howpublished"))
            assert any(f"  {k} = {{" in entry for k in ("doi", "eprint", "url", "isbn"))
            assert f"year = {{{s.year}}}" in entry


def test_sources_with_one_key_must_agree():
    a = Source("k2020", "A. B", "T", "V", 2020, doi="10.1/a")
    b = Source("k2020", "A. B", "Other", "V", 2020, doi="10.1/b")
    base = wb.claim("xent.margin")
    from dataclasses import replace

    with pytest.raises(ValueError, match="k2020"):
        tex.sources_of([replace(base, sources=(a,)), replace(wb.claim("xent.asymptotes"), sources=(b,))])


def test_repr_latex_reuses_the_theorem_formula():
    c = wb.claim("xent.margin")
    assert tex.statement_math(c) in c._repr_latex_()
    assert c.derivation._repr_latex_().startswith(r"$\displaystyle \begin{aligned}")
    assert "resolution" in wb.verify(c)._repr_latex_()


def test_mutated_claim_is_flagged_in_its_theorem():
    c = wb.claim("xent.margin").with_closed_form("log(1 + exp(m))")
    assert "deliberately altered" in tex.theorem(c)


# -- files: atomic, never over a file the workbench did not write -------------------------


def test_check_target_refuses_foreign_files_and_bad_directories(tmp_path):
    mine = tmp_path / "claims.tex"
    atomic_write(mine, tex.header("test"))
    assert owned(mine) and check_target(mine) == mine
    foreign = tmp_path / "paper.tex"
    foreign.write_text("my own paper")
    with pytest.raises(OutputError, match="not written by the workbench.*--force"):
        check_target(foreign)
    assert check_target(foreign, force=True) == foreign
    assert check_target(tmp_path / "new" / "dir" / "x.tex")  # created when written
    assert not (tmp_path / "new").exists()
    atomic_write(tmp_path / "new" / "dir" / "x.tex", "made")
    assert (tmp_path / "new" / "dir" / "x.tex").read_text() == "made"
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="not a directory"):
        check_target(tmp_path / "file" / "x.tex")
    with pytest.raises(OutputError, match="not a directory"):
        check_target(tmp_path / "file" / "deeper" / "x.tex")
    (tmp_path / "dir.tex").mkdir()
    with pytest.raises(OutputError, match="not a regular file"):
        check_target(tmp_path / "dir.tex")


def _writable(directory: Path) -> bool:
    import tempfile

    try:
        tempfile.TemporaryFile(dir=directory).close()
        return True
    except OSError:
        return False


@pytest.fixture
def unwritable_dir(tmp_path):
    """A directory this process cannot write to: a read-only one of ours, or (as root,
    who may write anywhere) a read-only file system such as /sys."""
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if not _writable(locked):
        yield locked
    elif Path("/sys").is_dir() and not _writable(Path("/sys")):
        yield Path("/sys")
    else:
        pytest.skip("no unwritable directory available")
    locked.chmod(0o700)


def test_unwritable_directory_is_refused(unwritable_dir):
    with pytest.raises(OutputError, match="not writable"):
        check_target(unwritable_dir / "claims.tex")
    with pytest.raises(OutputError, match="not writable"):
        latex("xent.margin", unwritable_dir / "claims.tex")


def test_atomic_write_leaves_the_old_file_when_interrupted(tmp_path, monkeypatch):
    path = tmp_path / "claims.tex"
    atomic_write(path, "old")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OutputError, match=f"^cannot write {path}: disk full$"):
        atomic_write(path, "new")
    assert path.read_text() == "old" and owned(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".workbench-manifest.json", "claims.tex"]  # no temporary file


def test_foreign_tex_is_not_overwritten_and_nothing_is_written(tmp_path):
    out = tmp_path / "claims.tex"
    out.write_text("my own paper")
    with pytest.raises(OutputError, match="not written by the workbench"):
        latex("xent.margin", out, figures=False)
    assert out.read_text() == "my own paper"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["claims.tex"]
    result = latex("xent.margin", out, figures=False, force=True)
    assert owned(out) and result.tex == out and result.bib == tmp_path / "claims.bib"


def test_foreign_bib_or_figure_blocks_the_whole_export(tmp_path):
    (tmp_path / "claims.bib").write_text("@misc{mine, title={mine}}")
    with pytest.raises(OutputError, match="claims.bib"):
        latex("xent.margin", tmp_path / "claims.tex", figures=False)
    assert not (tmp_path / "claims.tex").exists()


def test_missing_latex_is_a_clear_error_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(LatexUnavailable, match="apt-get install"):
        latex("xent.margin", tmp_path / "claims.tex", pdf=True)
    assert list(tmp_path.iterdir()) == []


# -- compiling -----------------------------------------------------------------------------


def test_first_error_is_one_line():
    log = "This is pdfTeX\n./claims.tex:12: Undefined control sequence.\nl.12 \\foo\n"
    assert first_error(log) == "claims.tex:12: Undefined control sequence."
    assert first_error("! Missing $ inserted.\n<inserted text>\nl.7 a_b\n") == "Missing $ inserted. (line 7)"
    assert first_error("all fine") is None


def test_compile_failure_reports_the_first_error_and_keeps_the_old_pdf(tmp_path):
    _need_latex()
    bad = tmp_path / "bad.tex"
    bad.write_text(tex.header("test") + "\\documentclass{article}\\begin{document}\n\\undefinedmacro\n\\end{document}\n")
    (tmp_path / "bad.pdf").write_bytes(b"%PDF old")
    with pytest.raises(LatexError) as info:
        compile_pdf(bad)
    message = str(info.value)
    assert "\n" not in message and "bad.tex:3: Undefined control sequence" in message
    assert (tmp_path / "bad.pdf").read_bytes() == b"%PDF old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.pdf", "bad.tex"]  # build directory removed


def _one_per_area() -> list[str]:
    """The first claim of each area: the paper's numbers are checked against a rerun of these (the
    same seed reproduces the same verdicts; rerunning every claim would double the paper's cost)."""
    first: dict[str, str] = {}
    for c in CLAIMS:
        first.setdefault(c.id.split(".")[0], c.id)
    return list(first.values())


def _rerun(ids: list[str]) -> list:
    """The verdicts of ``ids`` as the whole paper's run gave them: the same seed, and the same
    per-claim level (the paper's alpha = 1e-6 was Bonferroni-divided over every claim)."""
    each = 1e-6 / len(CLAIMS)
    alpha = each * len(ids)
    assert alpha / len(ids) == each  # the plan divides it back to exactly the paper's level
    return wb.verify_many(ids, alpha=alpha, jobs=None)


@pytest.fixture(scope="module")
def paper(paper_run):
    """The whole document, verified and compiled, as a user gets it from README's command; its
    verdicts are the verifier's at the same seed (the same run, reproduced)."""
    proc, folder = paper_run
    assert proc.returncode == 0, proc.stderr
    tex_file = folder / "claims.tex"
    result = SimpleNamespace(
        tex=tex_file,
        text=tex_file.read_text(encoding="utf-8"),
        pdf=folder / "claims.pdf",
        figures=sorted(folder.glob("claims-*.pdf")),
        warnings=tuple(line for line in proc.stderr.splitlines() if "LaTeX warning" in line),
        verdicts=_rerun(_one_per_area()),
    )
    return result, _pdftext(result.pdf)


@pytest.mark.xdist_group("paper")
def test_the_whole_paper_is_typeset_mathematics_with_nothing_escaped(paper):
    """Issue 19's criterion on what a user gets: theorems, proofs, tables, notes and captions."""
    result, _ = paper
    assert offences(result.text) == []


@pytest.mark.xdist_group("paper")  # one worker builds the paper once (conftest.paper_run)
def test_document_compiles_without_errors_or_undefined_references(paper):
    result, _ = paper
    assert result.pdf.exists() and owned(result.pdf)
    assert result.warnings == (), result.warnings
    assert {p.name for p in result.figures} == {f"claims-{c.id.replace('.', '-')}.pdf" for c in CLAIMS}
    for p in result.figures:
        assert p.parent == result.tex.parent and owned(p)
        assert f"{{{p.name}}}" in result.text


@pytest.mark.xdist_group("paper")  # one worker builds the paper once (conftest.paper_run)
def test_pdf_holds_every_theorem_title_and_the_tables_numbers(paper):
    from proofs import latex_number

    result, text = paper
    squashed = _squash(text)
    for c in CLAIMS:  # the words of each title (pdftotext flattens its formulas and may interleave their scripts)
        words = [w for is_math, chunk in split_math(c.title) if not is_math for w in chunk.split() if len(w) > 3]
        assert all(_squash(w) in squashed for w in words), c.title
    for v in result.verdicts:
        for x in (v.expected, v.estimate, v.stderr if v.kind != "exact" else v.tolerance):
            mantissa = latex_number(x, 10 if x in (v.expected, v.estimate) else 3).split(r"\times")[0]
            assert _squash(mantissa) in squashed, (v.id, mantissa)
        assert f"{v.replicates}" in text
    for s in tex.sources_of(CLAIMS):
        assert _squash(s.title)[:40] in squashed
        assert _squash(s.authors.split(" and ")[0].split()[-1]) in squashed  # the surname as typeset, accents too
    assert "References" in text


def test_sources_are_plain_text_so_their_bibtex_is_not_double_escaped():
    """Authors and titles are written as text (Unicode accents), escaped once for BibTeX: a LaTeX accent
    macro typed into a source would come out as a literal backslash."""
    for s in tex.sources_of(CLAIMS):
        assert "\\textbackslash" not in s.bibtex, s.key


def test_a_fragment_is_a_guest_in_someone_elses_paper(tmp_path, monkeypatch):
    """The README's layout: the fragment in paper/, the user's main.tex above it with its own
    bibliography and citation; latexmk compiles it with no undefined reference or citation."""
    _need_latex()
    monkeypatch.chdir(tmp_path)
    result = latex("xent", "paper/claims.tex", fragment=True, verify=True, figures=True)
    code = "\n".join(line for line in result.text.splitlines() if not line.startswith("%"))  # comments aside
    assert r"\documentclass" not in code and r"\bibliography" not in code and offences(result.text) == []
    assert result.preamble == Path("paper/claims-preamble.tex") and owned(result.preamble)
    assert r"\includegraphics" in result.text and "{paper/claims-xent-margin.pdf}" in result.text  # from the root
    (tmp_path / "mine.bib").write_text("@book{knuth1984,\n  author = {Donald E. Knuth},\n  title = {The TeXbook},\n"
                                       "  publisher = {Addison-Wesley},\n  year = {1984}\n}\n")
    (tmp_path / "main.tex").write_text(
        "\\documentclass{article}\n\\usepackage[numbers]{natbib}\n\\usepackage{amsthm}\n\\newtheorem{theorem}{Theorem}\n"
        "\\input{paper/claims-preamble}\n\\begin{document}\nAs \\citet{knuth1984} shows, Theorem~\\ref{thm:xent.margin} "
        "holds.\n\\input{paper/claims}\n\\bibliographystyle{plainnat}\n\\bibliography{mine,paper/claims}\n\\end{document}\n")
    proc = subprocess.run(["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "main.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, check=False)
    log = (tmp_path / "main.log").read_text(errors="replace")
    assert proc.returncode == 0, first_error(log) or proc.stdout[-2000:]
    assert not re.search(r"(Citation|Reference) `[^']*' .*undefined", log), re.findall(r".*undefined.*", log)
    text = _pdftext(tmp_path / "main.pdf")
    assert "Softmax cross" in text and "TeXbook" in text and "Bridle" in text


def test_a_later_run_removes_the_figures_it_no_longer_draws_and_only_those(tmp_path):
    first = latex(["xent.margin", "xent.asymptotes"], tmp_path / "claims.tex", figures=True)
    assert len(first.figures) == 2
    mine = tmp_path / "claims-xent-derivatives.pdf"
    mine.write_bytes(b"%PDF-1.4 a figure of my own")  # named like a figure, not written by the workbench
    second = latex("xent.margin", tmp_path / "claims.tex", figures=True)
    assert second.removed == (tmp_path / "claims-xent-asymptotes.pdf",)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".workbench-manifest.json", "claims-xent-derivatives.pdf",
                                                          "claims-xent-margin.pdf", "claims.bib", "claims.tex"]


def test_a_second_pdf_run_overwrites_its_own_pdf(tmp_path):
    _need_latex()
    for _ in range(2):
        result = latex("xent.asymptotes", tmp_path / "claims.tex", figures=False, pdf=True)
        assert owned(result.pdf)


# -- the command line ------------------------------------------------------------------------


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_cli_latex_prints_to_stdout_without_output():
    proc = _cli("latex", "xent.margin", "--fragment")
    assert proc.returncode == 0, proc.stderr
    assert r"\label{thm:xent.margin}" in proc.stdout and proc.stderr == ""


def test_cli_latex_writes_files_and_prints_the_fragment_preamble(tmp_path):
    proc = _cli("latex", "xent.asymptotes", "-o", "out.tex", "--fragment", "--no-figures", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "wrote out.tex" in proc.stdout and r"\input{out-preamble} in the preamble" in proc.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == [".workbench-manifest.json", "out-preamble.tex", "out.bib",
                                                          "out.tex"]
    assert r"\usepackage{booktabs}" in (tmp_path / "out-preamble.tex").read_text()


def test_cli_unwritable_directory_is_exit_2(unwritable_dir, tmp_path):
    proc = _cli("latex", "-o", str(unwritable_dir / "x.tex"), cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "not writable" in proc.stderr


def test_cli_refuses_to_overwrite_a_users_file(tmp_path):
    (tmp_path / "claims.tex").write_text("mine")
    proc = _cli("latex", "xent.margin", "-o", "claims.tex", "--no-figures", cwd=tmp_path)
    assert proc.returncode == 2 and "--force" in proc.stderr
    assert (tmp_path / "claims.tex").read_text() == "mine"
    proc = _cli("latex", "xent.margin", "-o", "claims.tex", "--no-figures", "--force", cwd=tmp_path)
    assert proc.returncode == 0 and owned(tmp_path / "claims.tex")


def test_cli_pdf_without_latex_is_exit_2(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path / "empty")}
    proc = subprocess.run([sys.executable, "-m", "workbench", "latex", "-o", "c.tex", "--pdf"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 2 and "neither latexmk nor pdflatex is installed" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_cli_plot_writes_the_figure(tmp_path):
    proc = _cli("plot", "xent.margin", "-o", "m.png", "--set", "K=4", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert owned(tmp_path / "m.png")


def test_pdflatex_and_bibtex_compile_without_latexmk(tmp_path, monkeypatch):
    _need_latex()
    from workbench import export

    monkeypatch.setattr(export, "latex_tools", lambda: "pdflatex")
    result = latex("xent.margin", tmp_path / "c.tex", figures=False, pdf=True)
    assert result.warnings == (), result.warnings
    text = _pdftext(result.pdf)
    assert "References" in text and "Bridle" in text


@pytest.mark.parametrize("area", ["implicit", "ib", "lipschitz", "mup"])
def test_the_newer_areas_theorems_and_proofs_fit_the_page(tmp_path, area):
    """No display of these claims runs past the margin of the paper's page (11pt, 2.5 cm margins): long sums
    break over lines, wide left sides move onto their own, case splits on a choice are one row per case, and
    long thresholds are named and displayed apart."""
    _need_latex()
    body = "\n\n".join(tex.claim_section(c) for c in wb.claims() if c.id.split(".")[0] == area)
    log = _compile_body(tmp_path, body, head="\\documentclass[11pt]{article}\n\\usepackage[margin=2.5cm]{geometry}")
    assert "Overfull \\hbox" not in log, re.findall(r"Overfull .*", log)
