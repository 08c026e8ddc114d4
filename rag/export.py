"""Draft agreement → Markdown and DOCX. Pure rendering plus one atomic file writer.

Articles are renumbered across clauses (agreement style); every statutory reference in a clause
gets a footnote with its source, page and excerpt; a "Fondements juridiques" section lists them.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from rag.atomic import write_atomic
from rag.draft import Clause

DEFAULT_TITLE = "Projet de convention collective sectorielle — Centres d'appels et métiers de l'offshoring"
DEFAULT_PREAMBLE = (
    "Les organisations signataires conviennent de la présente convention collective sectorielle, "
    "conclue dans le cadre des articles 104 et suivants du Code du travail. Ses dispositions ne "
    "peuvent être moins favorables aux salariés que celles des lois et règlements en vigueur."
)
WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(1, 10)} | {f"lpt{i}" for i in range(1, 10)}


@dataclass
class Agreement:
    clauses: list[Clause]
    title: str = DEFAULT_TITLE
    preamble: str = DEFAULT_PREAMBLE
    date: str = field(default_factory=lambda: dt.date.today().isoformat())
    status: str = "projet"


def safe_filename(title: str, suffix: str, max_len: int = 80) -> str:
    """ASCII, no path separators, no reserved device names, bounded length, never empty."""
    text = unicodedata.normalize("NFKD", title)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:max_len].strip("-") or "projet"
    if text.split(".")[0] in WINDOWS_RESERVED:
        text = f"{text}-doc"
    return f"{text}{suffix}"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Never an empty or half-written export (see :func:`rag.atomic.write_atomic`)."""
    if not data:
        raise ValueError("export vide : rien n'a été écrit")
    write_atomic(path, data)


def _renumber(clauses: list[Clause]) -> list[str]:
    counter = 0
    texts = []
    for clause in clauses:
        def next_number(match: re.Match) -> str:
            nonlocal counter
            counter += 1
            return f"{match.group(1)}Article {counter} —"

        texts.append(re.sub(r"(^|\n)Article\s+\d+\s*[—–-]", next_number, clause.text))
    return texts


def _footnoted(text: str, clause: Clause, notes: list[tuple[str, str]]) -> str:
    """Attach a footnote to each reference "(C. trav. art. 350)" that resolves to a citation."""
    by_article = {}
    for c in clause.citations:
        if c.article:
            by_article.setdefault(str(c.article), c)

    def add(match: re.Match) -> str:
        ref = match.group(0)
        art = re.search(r"art\.\s*(\d+(?:-\d+)?)", ref)
        citation = by_article.get(art.group(1)) if art else None
        if citation is None:
            return ref
        excerpt = re.sub(r"\s+", " ", citation.text.split("\n", 1)[-1])[:300]
        note = f"{citation.label} — « {excerpt}… »"
        for number, (label, existing) in enumerate(notes, start=1):
            if existing == note:
                return f"{ref}[^{number}]"
        notes.append((citation.label, note))
        return f"{ref}[^{len(notes)}]"

    return re.sub(r"\((?:C\.\s*trav\.|Décret n°)[^()]*?art\.\s*\d+[^()]*\)", add, text)


def agreement_markdown(agreement: Agreement) -> str:
    clauses = sorted(agreement.clauses, key=lambda c: c.order)
    notes: list[tuple[str, str]] = []
    lines = [
        f"# {agreement.title}",
        "",
        f"*Statut : {agreement.status} — version du {agreement.date} — document de travail, non signé.*",
        "",
        "## Préambule",
        "",
        agreement.preamble.strip(),
        "",
    ]
    warnings = []
    for n, (clause, text) in enumerate(zip(clauses, _renumber(clauses)), start=1):
        lines += [f"## Chapitre {n} — {clause.title}", "", _footnoted(text, clause, notes).strip(), ""]
        if clause.rationale:
            lines += [f"> Exposé des motifs : {clause.rationale}", ""]
        for check in clause.checks:
            if check.status == "below_floor":
                warnings.append(f"- ⚠ {clause.title} : {check.message}")
    if warnings:
        lines += ["## Points à corriger avant signature", ""] + warnings + [""]
    basis = {}
    for clause in clauses:
        for c in clause.citations:
            basis.setdefault(c.label, c)
    if basis:
        lines += ["## Fondements juridiques", ""]
        for label, c in basis.items():
            lines.append(f"- **{label}** — {c.title}")
        lines.append("")
    for number, (_, note) in enumerate(notes, start=1):
        lines.append(f"[^{number}]: {note}")
    return "\n".join(lines).rstrip() + "\n"


def agreement_docx(agreement: Agreement) -> bytes:
    """Same content and headings as the Markdown; footnotes become numbered notes at the end."""
    import io

    import docx

    markdown = agreement_markdown(agreement)
    document = docx.Document()
    notes = []
    for line in markdown.split("\n"):
        if not line.strip():
            continue
        if line.startswith("[^"):
            notes.append(re.sub(r"^\[\^(\d+)\]:\s*", r"\1. ", line))
            continue
        body = re.sub(r"\[\^(\d+)\]", r"[\1]", line)
        heading = re.match(r"^(#{1,3})\s+(.*)$", body)
        if heading:
            document.add_heading(heading.group(2), level=len(heading.group(1)) - 1 if len(heading.group(1)) > 1 else 0)
        elif body.startswith("- "):
            document.add_paragraph(body[2:].replace("**", ""), style="List Bullet")
        elif body.startswith("> "):
            document.add_paragraph(body[2:], style="Intense Quote")
        else:
            document.add_paragraph(body.replace("*", ""))
    if notes:
        document.add_heading("Notes", level=1)
        for note in notes:
            document.add_paragraph(note)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def export_agreement(agreement: Agreement, fmt: str, out: Path) -> Path:
    if fmt == "md":
        data = agreement_markdown(agreement).encode("utf-8")
    elif fmt == "docx":
        data = agreement_docx(agreement)
    else:
        raise ValueError(f"format inconnu {fmt!r} : md ou docx")
    atomic_write_bytes(out, data)
    return out
