"""Bibliographic sources cited by claims and by cited derivation steps.

A :class:`Source` carries what a BibTeX entry needs, so every citation the
workbench prints can be traced to a real publication.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Source"]


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

    def __post_init__(self) -> None:
        if not self.key or not self.key.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"source key {self.key!r} must be alphanumeric (with - or _)")
        if not (self.authors and self.title and self.venue):
            raise ValueError(f"source {self.key!r} needs authors, title and venue")

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
        """DOI or arXiv id or URL, whichever identifies the work, for plain-text reports."""
        if self.doi:
            return f"doi:{self.doi}"
        if self.arxiv:
            return f"arXiv:{self.arxiv}"
        return self.url or self.venue

    def __str__(self) -> str:
        return f"{self.short}, {self.title}. {self.venue}. {self.locator}"
