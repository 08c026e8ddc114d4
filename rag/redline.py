"""Word tracked changes: a DOCX whose differences between two versions are native revisions.

Insertions are ``w:ins`` runs, deletions ``w:del`` runs with ``w:delText``, whole paragraphs added
or removed also carry the revision on their paragraph mark, so Word and LibreOffice can accept or
reject each change. The XML is written with python-docx's oxml layer: the maintained redline
packages either need .NET (python-redlines) or edit an existing paragraph by character offsets
(docx-revisions), while here both texts are known and the diff is ours (:func:`word_diff`).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from difflib import SequenceMatcher

WORD_RX = re.compile(r"\s+|\d+(?:[.,]\d+)*|[\w'’-]+|[^\w\s]")  # numbers whole, words, punctuation apart
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


@dataclass
class Section:
    """One clause / chapter / article of a document: its title and its text (paragraphs by line)."""

    title: str
    text: str
    number: int | None = None


def word_diff(before: str, after: str) -> list[tuple[str, str]]:
    """``[(op, text)]`` with op ``equal`` / ``delete`` / ``insert``; joining the equal+delete texts
    gives ``before``, the equal+insert texts give ``after``. A change spanning several words is one
    deletion followed by one insertion (the spaces between changed words go with the change)."""
    a, b = WORD_RX.findall(before), WORD_RX.findall(after)
    raw: list[tuple[str, str, str]] = []  # (op, deleted, inserted)
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            raw.append(("equal", "".join(a[i1:i2]), ""))
        else:
            raw.append(("change", "".join(a[i1:i2]), "".join(b[j1:j2])))
    # a lone space between two changes reads better inside the change ("8 % après 2" → "6 % après 3")
    for n in range(1, len(raw) - 1):
        if raw[n][0] == "equal" and raw[n][1].isspace() and raw[n - 1][0] == "change" and raw[n + 1][0] == "change":
            raw[n] = ("change", raw[n][1], raw[n][1])
    out: list[tuple[str, str]] = []
    pending_del, pending_ins = "", ""
    for op, deleted, inserted in raw + [("equal", "", "")]:
        if op == "change":
            pending_del += deleted
            pending_ins += inserted
            continue
        if pending_del:
            out.append(("delete", pending_del))
        if pending_ins:
            out.append(("insert", pending_ins))
        pending_del = pending_ins = ""
        if deleted:
            out.append(("equal", deleted))
    return out


def heading_diff(before: str, after: str) -> list[tuple[str, str]]:
    """A title changed beyond recognition is replaced whole rather than word by word."""
    import os

    prefix = os.path.commonprefix([before, after])
    prefix = prefix[: prefix.rfind(" ") + 1] if " " in prefix else ""
    old, new = before[len(prefix):], after[len(prefix):]
    if old and new and _similar(old, new) < 0.5:
        return ([("equal", prefix)] if prefix else []) + [("delete", old), ("insert", new)]
    return word_diff(before, after)


def paragraphs_of(text: str) -> list[str]:
    return [line.strip() for line in (text or "").split("\n") if line.strip()]


def _similar(a: str, b: str) -> float:
    return SequenceMatcher(None, a.split(), b.split(), autojunk=False).ratio()


def align_paragraphs(before: list[str], after: list[str]) -> list[tuple[str | None, str | None]]:
    """Pairs (old, new): equal paragraphs, edited ones (similar enough to be one paragraph changed),
    then deletions (new None) and insertions (old None), in document order."""
    pairs: list[tuple[str | None, str | None]] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if tag == "equal":
            pairs.extend(zip(before[i1:i2], after[j1:j2]))
            continue
        olds, news = before[i1:i2], after[j1:j2]
        j = 0
        for old in olds:
            match = next((k for k in range(j, len(news)) if _similar(old, news[k]) >= 0.4), None)
            if match is None:
                pairs.append((old, None))
                continue
            pairs.extend((None, new) for new in news[j:match])
            pairs.append((old, news[match]))
            j = match + 1
        pairs.extend((None, new) for new in news[j:])
    return pairs


class _Revisions:
    """Revision attributes: unique ids, one author and one date for the whole comparison."""

    def __init__(self, author: str, date: dt.datetime):
        self.author = author
        self.date = date.strftime("%Y-%m-%dT%H:%M:%SZ")
        self.next_id = 1

    def element(self, tag: str):
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        el = OxmlElement(tag)
        el.set(qn("w:id"), str(self.next_id))
        el.set(qn("w:author"), self.author)
        el.set(qn("w:date"), self.date)
        self.next_id += 1
        return el


def _run(text: str, deleted: bool = False, bold: bool = False):
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    r = OxmlElement("w:r")
    if bold:
        rpr = OxmlElement("w:rPr")
        rpr.append(OxmlElement("w:b"))
        r.append(rpr)
    t = OxmlElement("w:delText" if deleted else "w:t")
    t.set(qn("xml:space"), "preserve")
    t.text = text
    r.append(t)
    return r


def _mark_paragraph(paragraph, revisions: _Revisions, tag: str) -> None:
    """Record the paragraph mark itself as inserted / deleted (a whole new or removed paragraph)."""
    from docx.oxml import OxmlElement

    ppr = paragraph._p.get_or_add_pPr()
    rpr = ppr.find(f"{{{W_NS}}}rPr")
    if rpr is None:
        rpr = OxmlElement("w:rPr")
        ppr.append(rpr)
    rpr.append(revisions.element(tag))


def _write_ops(paragraph, ops: list[tuple[str, str]], revisions: _Revisions, bold: bool = False) -> None:
    for op, text in ops:
        if not text:
            continue
        if op == "equal":
            paragraph._p.append(_run(text, bold=bold))
        else:
            wrapper = revisions.element("w:del" if op == "delete" else "w:ins")
            wrapper.append(_run(text, deleted=op == "delete", bold=bold))
            paragraph._p.append(wrapper)


def _track_revisions_setting(document) -> None:
    """Turn on "track changes" in the file, so the other side's edits are recorded too."""
    from docx.oxml import OxmlElement

    settings = document.settings.element
    if settings.find(f"{{{W_NS}}}trackRevisions") is not None:
        return
    element = OxmlElement("w:trackRevisions")
    # schema order: trackRevisions comes before defaultTabStop and what follows it
    anchor = next((settings.find(f"{{{W_NS}}}{name}") for name in ("doNotTrackMoves", "defaultTabStop", "characterSpacingControl", "compat")
                   if settings.find(f"{{{W_NS}}}{name}") is not None), None)
    if anchor is not None:
        anchor.addprevious(element)
    else:
        settings.append(element)


def redline_docx(
    pairs: list[tuple[Section | None, Section | None]],
    title: str = "Projet de convention — modifications suivies",
    subtitle: str = "",
    author: str = "Ittifaq",
    date: dt.datetime | None = None,
    heading: str = "Chapitre {n} — {title}",
) -> bytes:
    """A DOCX of the new version where every difference from the old one is a tracked revision.

    ``pairs`` are (old, new) sections in the order of the new document (None on one side: a section
    added or removed). Unchanged text is plain; the file opens with python-docx, Word and LibreOffice.
    """
    import docx

    revisions = _Revisions(author, date or dt.datetime.now(dt.timezone.utc))
    document = docx.Document()
    document.core_properties.title = title[:200]
    document.add_heading(title, level=0)
    if subtitle:
        document.add_paragraph(subtitle)
    n_old = n_new = 0
    for old, new in pairs:
        n_old, n_new = n_old + (old is not None), n_new + (new is not None)
        old_heading = heading.format(n=n_old, title=old.title) if old else ""
        new_heading = heading.format(n=n_new, title=new.title) if new else ""
        para = document.add_heading("", level=1)
        if old is None:
            _write_ops(para, [("insert", new_heading)], revisions)
            _mark_paragraph(para, revisions, "w:ins")
        elif new is None:
            _write_ops(para, [("delete", old_heading)], revisions)
            _mark_paragraph(para, revisions, "w:del")
        else:
            _write_ops(para, heading_diff(old_heading, new_heading), revisions)
        for old_p, new_p in align_paragraphs(paragraphs_of(old.text) if old else [], paragraphs_of(new.text) if new else []):
            para = document.add_paragraph()
            if old_p is None:
                _write_ops(para, [("insert", new_p)], revisions)
                _mark_paragraph(para, revisions, "w:ins")
            elif new_p is None:
                _write_ops(para, [("delete", old_p)], revisions)
                _mark_paragraph(para, revisions, "w:del")
            else:
                _write_ops(para, word_diff(old_p, new_p), revisions)
    _track_revisions_setting(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------------
# reading revisions back (tests, CLI summary)


def revision_views(data: bytes) -> dict:
    """What a reviewer would see: ``original`` (all changes rejected), ``accepted`` (all accepted),
    and the lists of ``inserted`` / ``deleted`` texts, one item per revision; paragraphs by line."""
    import docx

    document = docx.Document(io.BytesIO(data))
    body = document.element.body
    original, accepted, inserted, deleted = [], [], [], []
    w = f"{{{W_NS}}}"
    for p in body.iter(f"{w}p"):
        mark = p.find(f"{w}pPr/{w}rPr")
        mark_ins = mark is not None and mark.find(f"{w}ins") is not None
        mark_del = mark is not None and mark.find(f"{w}del") is not None
        old, new = [], []
        for child in p:
            if child.tag == f"{w}r":
                text = "".join(t.text or "" for t in child.iter(f"{w}t"))
                old.append(text)
                new.append(text)
            elif child.tag == f"{w}ins":
                text = "".join(t.text or "" for t in child.iter(f"{w}t"))
                new.append(text)
                inserted.append(text)
            elif child.tag == f"{w}del":
                text = "".join(t.text or "" for t in child.iter(f"{w}delText"))
                old.append(text)
                deleted.append(text)
        if not mark_ins:
            original.append("".join(old))
        if not mark_del:
            accepted.append("".join(new))
    return {"original": "\n".join(original), "accepted": "\n".join(accepted), "inserted": inserted, "deleted": deleted}
