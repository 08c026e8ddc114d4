"""What is (not) indexed, in a negotiator's words: counts by kind of text, expected texts missing.

Shown in the app's first-run panel and status line, and by ``rag doctor`` / ``rag list``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

KIND_NAMES = {
    "law": ("loi", "lois"), "decree": ("décret", "décrets"), "intl_convention": ("convention OIT", "conventions OIT"),
    "agreement": ("convention collective", "conventions collectives"), "project": ("fiche du projet", "fiches du projet"),
    "clause": ("modèle de clause", "modèles de clauses"), "press": ("article de presse", "articles de presse"),
    "other": ("autre texte", "autres textes"),
}
KIND_ORDER = ("law", "decree", "intl_convention", "agreement", "project", "clause", "press", "other")


@dataclass
class MissingText:
    source: str
    title: str
    obtain: str


@dataclass
class Overview:
    by_kind: dict[str, int] = field(default_factory=dict)
    missing: list[MissingText] = field(default_factory=list)
    passages: int = 0

    @property
    def texts(self) -> int:
        return sum(self.by_kind.values())

    def kinds_phrase(self) -> str:
        parts = []
        for kind in KIND_ORDER:
            n = self.by_kind.get(kind, 0)
            if n:
                one, many = KIND_NAMES.get(kind, (kind, kind))
                parts.append(f"{n} {one if n == 1 else many}")
        return ", ".join(parts) or "aucun texte"

    def has_law(self) -> bool:
        return self.by_kind.get("law", 0) > 0


def corpus_overview(index) -> Overview:
    """Counts by kind of the committed texts, and the catalog's expected texts that are absent."""
    documents = [d for d in index.documents() if d.status == "committed"]
    by_kind: dict[str, int] = {}
    for d in documents:
        by_kind[d.kind] = by_kind.get(d.kind, 0) + 1
    present = {d.source for d in documents}
    # the French and Arabic code are one work: either version answers, the other is still worth having
    missing = [MissingText(source, entry.get("title", source), entry.get("obtain", ""))
               for source, entry in index.catalog.entries.items() if entry.get("expected") and source not in present]
    try:
        passages = index.count()
    except Exception:  # a store that cannot count still shows its texts
        passages = 0
    return Overview(by_kind, missing, passages)
