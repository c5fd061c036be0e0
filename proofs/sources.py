"""Bibliographic sources cited by claims and by cited derivation steps.

A :class:`Source` carries what a BibTeX entry needs, so every citation the
workbench prints can be traced to a real publication.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .printing import latex_text

__all__ = ["Source", "KINDS", "CASELLA"]

KINDS = ("article", "inproceedings", "book", "misc")
_VENUE_FIELD = {"article": "journal", "inproceedings": "booktitle", "book": "publisher", "misc": "howpublished"}
# Identifiers go into \url{} and \doi{} as they are: no spaces, braces, backslashes or comment signs.
_IDENTIFIER = re.compile(r"^[^\s{}\\%]+$")


@dataclass(frozen=True)
class Source:
    """A publication: ``key`` is the stable citation key (BibTeX key).

    >>> Source("goodfellow2016", "I. Goodfellow and Y. Bengio and A. Courville",
    ...        "Deep Learning", "MIT Press", 2016).short
    'Goodfellow et al. (2016)'
    """

    key: str
    authors: str
    title: str
    venue: str
    year: int
    doi: str | None = None
    arxiv: str | None = None
    url: str | None = None
    kind: str = "article"  # BibTeX entry type: article, book, inproceedings, misc
    volume: str | None = None
    number: str | None = None
    pages: str | None = None  # "2311-2330"
    publisher: str | None = None  # for inproceedings (a book's publisher is its venue)
    isbn: str | None = None

    def __post_init__(self) -> None:
        if not self.key or not self.key.replace("-", "").replace("_", "").isascii() or not self.key.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"source key {self.key!r} must be alphanumeric (with - or _)")
        if not (self.authors and self.title and self.venue):
            raise ValueError(f"source {self.key!r} needs authors, title and venue")
        if self.kind not in KINDS:
            raise ValueError(f"source {self.key!r}: kind={self.kind!r} is not one of {', '.join(KINDS)}")
        if not isinstance(self.year, int) or not 1000 <= self.year <= 9999:
            raise ValueError(f"source {self.key!r}: year={self.year!r} must be a four-digit integer")
        for name in ("doi", "arxiv", "url", "isbn"):
            value = getattr(self, name)
            if value is not None and not _IDENTIFIER.match(value):
                raise ValueError(f"source {self.key!r}: {name}={value!r} may not contain spaces, braces, backslashes or %")

    @property
    def surnames(self) -> list[str]:
        return [a.strip().split()[-1] for a in self.authors.split(" and ")]

    @property
    def short(self) -> str:
        """Author-year form: 'Smith (2020)', 'Smith and Jones (2020)', 'Smith et al. (2020)'."""
        names = self.surnames
        if len(names) == 1:
            who = names[0]
        elif len(names) == 2:
            who = f"{names[0]} and {names[1]}"
        else:
            who = f"{names[0]} et al."
        return f"{who} ({self.year})"

    @property
    def locator(self) -> str:
        """DOI, arXiv id, ISBN or URL, whichever identifies the work, for plain-text reports."""
        if self.doi:
            return f"doi:{self.doi}"
        if self.arxiv:
            return f"arXiv:{self.arxiv}"
        if self.isbn and not self.url:
            return f"ISBN {self.isbn}"
        return self.url or self.venue

    def __str__(self) -> str:
        return f"{self.short}, {self.title}. {self.venue}. {self.locator}"

    @property
    def bibtex(self) -> str:
        """The BibTeX entry; text fields escaped for LaTeX, the title's capitals protected.

        >>> print(Source("x2020", "A. B", "On {X}", "J", 2020, doi="10.1/x", pages="1-9").bibtex)
        @article{x2020,
          author = {A. B},
          title = {{On \\textbraceleft{}X\\textbraceright{}}},
          journal = {J},
          year = {2020},
          pages = {1--9},
          doi = {10.1/x},
        }
        """
        fields = [
            ("author", latex_text(self.authors).replace(" and{} ", " and ")),
            ("title", "{" + latex_text(self.title) + "}"),
            (_VENUE_FIELD[self.kind], latex_text(self.venue)),
            ("publisher", latex_text(self.publisher) if self.publisher else None),
            ("year", str(self.year)),
            ("volume", latex_text(self.volume) if self.volume else None),
            ("number", latex_text(self.number) if self.number else None),
            ("pages", re.sub(r"\s*-+\s*", "--", self.pages) if self.pages else None),
            ("isbn", self.isbn),
            ("doi", self.doi),
            ("eprint", self.arxiv),
            ("archiveprefix", "arXiv" if self.arxiv else None),
            ("url", self.url or (f"https://arxiv.org/abs/{self.arxiv}" if self.arxiv else None)),
        ]
        body = "".join(f"  {name} = {{{value}}},\n" for name, value in fields if value)
        return f"@{self.kind}{{{self.key},\n{body}}}"


# Cited by several areas for textbook probability (linearity, independence, the tower property).
CASELLA = Source(
    "casella2002",
    "George Casella and Roger L. Berger",
    "Statistical Inference (2nd edition)",
    "Duxbury, Pacific Grove, CA",
    2002,
    isbn="978-0-534-24312-8",
    kind="book",
)

# Cited by the random-matrix areas for Wishart and chi-distribution facts.
MUIRHEAD = Source(
    "muirhead1982",
    "Robb J. Muirhead",
    "Aspects of Multivariate Statistical Theory",
    "John Wiley & Sons, New York",
    1982,
    isbn="0-471-09442-0",
    kind="book",
)
