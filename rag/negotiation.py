"""Negotiation rounds on an agreement project: statuses, clause history, counter-proposals.

A project (see :mod:`rag.db`) has numbered rounds; a new round starts as a copy of the last one,
and only the last round can be edited. Each clause has, per round, a text and a status
(:class:`rag.db.ClauseStatus`); every change is an event of the clause's history (who, when,
which text). Saves are checked against the version the member started from: a second save on a
stale version is refused with :class:`StaleVersion`, which carries the other member's text.

An employer's counter-proposal (DOCX, PDF, Markdown or text, read by :mod:`rag.ingest`) is cut
into sections, aligned with the project's clauses by number and title, then by content when the
other side renumbered, compared word by word, and its figures are checked against the statutory
floors (``corpus/rules/floors.yaml``) like a drafted clause's.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import re
import unicodedata
import uuid
from dataclasses import asdict, dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

from sqlalchemy import func, select, update

from rag.db import (
    STATUS_LABELS, VARIANT_POSITIONS, AccessDenied, ClauseEvent, ClausePosition, ClauseStatus, ClauseVersion, Database,
    DatabaseError, EventKind, Position, Project, ProjectClause, Round, Team, can_access, teams_of, utcnow,
)
from rag.draft import Check, Clause, Drafter, parse_quantities
from rag.export import DEFAULT_PREAMBLE, DEFAULT_TITLE, Agreement
from rag.redline import Section, paragraphs_of, redline_docx, word_diff

log = logging.getLogger(__name__)

MAX_CLAUSE_CHARS = 60_000
MAX_CLAUSES = 200
MAX_NOTE_CHARS = 2_000
EMPLOYER = "partie patronale"


class StaleVersion(Exception):
    """The clause was saved by someone else since this member opened it: nothing was written."""

    def __init__(self, key: str, expected: int, current: "ClauseState"):
        self.key = key
        self.expected = expected
        self.current = current
        when = current.updated_at.replace("T", " à ")[:19]
        super().__init__(
            f"« {current.title} » a été modifiée par {current.author or 'un autre membre'} le {when} (version {current.version}, "
            f"vous partiez de la version {expected}) : votre enregistrement est refusé pour ne pas effacer son texte. "
            "Reprenez vos changements à partir de sa version, affichée ci-dessous."
        )

    @property
    def their_text(self) -> str:
        return self.current.text

    @property
    def their_author(self) -> str:
        return self.current.author


class RoundClosed(ValueError):
    """Only the last round of a project can be changed."""


@dataclass
class ClauseState:
    key: str
    position: int
    title: str
    text: str
    status: str
    author: str
    updated_at: str
    version: int
    round: int
    template_id: str | None = None
    mandate: dict | None = None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(ClauseStatus(self.status), self.status)

    def to_json(self) -> dict:
        return dict(asdict(self), status_label=self.status_label)


@dataclass
class RoundInfo:
    number: int
    date: str
    note: str
    created_by: str
    created_at: str
    statuses: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)


# ------------------------------------------------------------------------------------------------
# text: sections, cleaning, similarity


_HEADING_RX = re.compile(r"^\s*(#{1,6})\s*(.+?)\s*#*\s*$")
_NUMBER = r"(\d+|[IVXLC]+\b|premier|1er)"
_CHAPTER_RX = re.compile(rf"^(?:chapitre|clause|titre)\s+{_NUMBER}\s*(?:[—–:.\-]+\s*(.*))?$", re.I)
_ARTICLE_RX = re.compile(rf"^(?:article|art\.)\s+{_NUMBER}\s*(?:[—–:.\-]+\s*(.*))?$", re.I)
_FOOTNOTE_RX = re.compile(r"(?<=\))\[\^?\d+\]")
_ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}


def _number(raw: str | None) -> int | None:
    if not raw:
        return None
    raw = raw.lower()
    if raw.isdigit():
        return int(raw)
    if raw in {"premier", "1er"}:
        return 1
    total = 0
    for n, ch in enumerate(raw):
        value = _ROMAN.get(ch, 0)
        total += -value if n + 1 < len(raw) and _ROMAN.get(raw[n + 1], 0) > value else value
    return total or None


def normalise(text: str) -> str:
    """Lower case, no accents, words only: for comparing titles and texts."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return " ".join(re.findall(r"\w+", text))


def similarity(a: str, b: str, max_words: int = 1500) -> float:
    """Word-sequence similarity in [0, 1] of two texts (accents and case ignored)."""
    wa, wb = normalise(a).split()[:max_words], normalise(b).split()[:max_words]
    if not wa and not wb:
        return 1.0
    matcher = SequenceMatcher(None, wa, wb, autojunk=False)
    if matcher.real_quick_ratio() < 0.2 or matcher.quick_ratio() < 0.2:
        return matcher.quick_ratio() * 0.5
    return matcher.ratio()


def clean_imported(text: str) -> str:
    """Drop what our own exports add around a clause: footnote marks and the "exposé des motifs"."""
    lines = []
    for line in (text or "").split("\n"):
        stripped = line.strip()
        if not stripped or re.match(r"^(?:>\s*)?Exposé des motifs\s*:", stripped):
            continue
        lines.append(_FOOTNOTE_RX.sub("", stripped))
    return "\n".join(lines)


def _heading(line: str) -> tuple[int, str] | None:
    match = _HEADING_RX.match(line)
    return (len(match.group(1)), match.group(2).strip()) if match else None


def _title_number(label: str) -> tuple[int | None, str]:
    """"Chapitre 3 — Prime d'ancienneté" → (3, "Prime d'ancienneté")."""
    for rx in (_CHAPTER_RX, _ARTICLE_RX):
        match = rx.match(label.strip())
        if match:
            return _number(match.group(1)), (match.group(2) or "").strip()
    match = re.match(r"^(\d+)\s*[.)—–-]\s*(.+)$", label.strip())
    if match:
        return int(match.group(1)), match.group(2).strip()
    return None, label.strip()


def split_sections(text: str) -> list[Section]:
    """Cut a document into its clauses: « Chapitre N — titre » headings if there are any, else
    Markdown/Word headings of the most repeated level, else « Article N — … » lines, else one
    section. The text before the first section (title, preamble) is left out."""
    lines = [line.rstrip() for line in (text or "").replace("\r\n", "\n").split("\n")]
    starts: list[tuple[int, int | None, str]] = []
    for n, line in enumerate(lines):
        head = _heading(line)
        label = head[1] if head else line.strip()
        if _CHAPTER_RX.match(label):
            number, title = _title_number(label)
            starts.append((n, number, title))
    if not starts:
        headings = [(n, *_heading(line)) for n, line in enumerate(lines) if _heading(line)]
        levels = sorted({level for _, level, _ in headings})
        level = next((lv for lv in levels if sum(1 for _, l2, _ in headings if l2 == lv) >= 2), levels[0] if levels else None)
        for n, lv, label in headings:
            if lv == level and not _ARTICLE_RX.match(label):
                number, title = _title_number(label)
                starts.append((n, number, title))
        if len(starts) == 1 and len(headings) > 1 and starts[0][0] == headings[0][0] and level == 1:
            starts = []  # one top heading is the document's title, not a clause
    if not starts:
        for n, line in enumerate(lines):
            match = _ARTICLE_RX.match(line.strip().lstrip("#").strip())
            if match:
                rest = (match.group(2) or "").strip()
                title = re.split(r"(?<=[^\s.]{3})\.\s", rest, maxsplit=1)[0] if rest else ""
                starts.append((n, _number(match.group(1)), title.rstrip(".")))
        if starts:  # an article's own line is part of its text
            sections = []
            for k, (n, number, title) in enumerate(starts):
                end = starts[k + 1][0] if k + 1 < len(starts) else len(lines)
                sections.append(Section(title or f"Article {number}", clean_imported("\n".join(lines[n:end])), number))
            return sections
    if not starts:
        body = clean_imported("\n".join(line for line in lines if not _heading(line)))
        return [Section(next((h[1] for h in map(_heading, lines) if h), "Texte"), body, 1)] if body else []
    sections = []
    for k, (n, number, title) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(lines)
        sections.append(Section(title or f"Chapitre {number}", clean_imported("\n".join(lines[n + 1:end])), number))
    return [s for s in sections if s.text or s.title]


_ARTICLE_LINE = re.compile(r"(^|\n)Article\s+\d+\s*([—–-])")


def renumber_articles(text: str, start: int = 1) -> str:
    """Number the « Article N — » lines of one clause from ``start`` (our exports number articles
    across the whole agreement; a clause's own text numbers them from 1)."""
    counter = start - 1

    def next_number(match: re.Match) -> str:
        nonlocal counter
        counter += 1
        return f"{match.group(1)}Article {counter} {match.group(2)}"

    return _ARTICLE_LINE.sub(next_number, text)


def _first_article_number(text: str) -> int | None:
    match = re.search(r"(?:^|\n)Article\s+(\d+)\s*[—–-]", text)
    return int(match.group(1)) if match else None


def clauses_from_json(data: object) -> list[Clause]:
    items = data if isinstance(data, list) else [data]
    return [Clause.from_json(item) for item in items]


def read_sections(path: Path, max_bytes: int = 50 * 1024 * 1024) -> list[Section]:
    """The sections of a DOCX, PDF, Markdown or text file, or the clauses of a draft JSON
    (``rag draft --json`` output, one clause or a list). Raises ValueError with a clear message."""
    from rag.ingest import IngestError, load_path

    path = Path(path)
    if path.suffix.lower() == ".json":
        try:
            clauses = clauses_from_json(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError as exc:
            raise ValueError(f"{path} : fichier introuvable") from exc
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{path} : JSON de clause invalide ({exc})") from exc
        return [Section(c.title, c.text, n) for n, c in enumerate(sorted(clauses, key=lambda c: c.order), start=1)]
    try:
        document = load_path(path, max_bytes, 2000)
    except IngestError as exc:
        raise ValueError(f"{path.name} : {exc.message}") from exc
    sections = split_sections(document.text)
    if not sections:
        raise ValueError(f"{path.name} : aucun article reconnu dans ce document.")
    return [local_numbering(s) for s in sections]


def local_numbering(section: Section) -> Section:
    """Articles numbered from 1 within the clause, as in a drafted clause's own text (our exports
    number them across the agreement, which is not a change of the clause)."""
    first = _first_article_number(section.text)
    return Section(section.title, renumber_articles(section.text), section.number) if first and first != 1 else section


# ------------------------------------------------------------------------------------------------
# alignment, diff, floor checks, mandate


@dataclass
class Match:
    ours: int | None      # index in our list
    theirs: int | None    # index in theirs
    method: str           # numéro et titre | titre | contenu | numéro | nouveau | absent
    score: float = 0.0


def align_sections(ours: list[Section], theirs: list[Section]) -> list[Match]:
    """Pair our sections with theirs: same number and a similar title first, then the same title
    (renumbered), then similar content (renumbered and retitled), then the same number alone.
    Unpaired sections come back with ``ours`` or ``theirs`` None. Order: ours, then their new ones."""
    titles = {(i, j): similarity(a.title, b.title) for i, a in enumerate(ours) for j, b in enumerate(theirs)}
    content: dict[tuple[int, int], float] = {}

    def body(i: int, j: int) -> float:
        if (i, j) not in content:
            content[(i, j)] = similarity(ours[i].text, theirs[j].text)
        return content[(i, j)]

    pairs: dict[int, Match] = {}
    used: set[int] = set()

    def take(candidates: list[tuple[float, int, int]], method: str) -> None:
        for score, i, j in sorted(candidates, key=lambda c: (-c[0], c[1], c[2])):
            if i not in pairs and j not in used:
                pairs[i] = Match(i, j, method, round(score, 3))
                used.add(j)

    take([(titles[i, j], i, j) for (i, j) in titles if ours[i].number is not None and ours[i].number == theirs[j].number and titles[i, j] >= 0.6], "numéro et titre")
    take([(titles[i, j], i, j) for (i, j) in titles if i not in pairs and j not in used and titles[i, j] >= 0.8], "titre")
    take([(body(i, j), i, j) for (i, j) in titles if i not in pairs and j not in used and body(i, j) >= 0.5], "contenu")
    take([(body(i, j), i, j) for (i, j) in titles if i not in pairs and j not in used and ours[i].number is not None
          and ours[i].number == theirs[j].number and (body(i, j) >= 0.25 or not theirs[j].title)], "numéro")
    out = [pairs.get(i, Match(i, None, "absent")) for i in range(len(ours))]
    out += [Match(None, j, "nouveau") for j in range(len(theirs)) if j not in used]
    return out


def diff_html(before: str, after: str, left: str = "Notre texte", right: str = "Leur texte") -> str:
    """Side by side: our text with deletions struck through, theirs with insertions marked.
    Every piece of text is escaped (documents from the other side are untrusted)."""
    old, new = [], []
    for op, text in word_diff("\n".join(paragraphs_of(before)), "\n".join(paragraphs_of(after))):
        piece = html.escape(text).replace("\n", "<br>")
        if op == "equal":
            old.append(piece)
            new.append(piece)
        elif op == "delete":
            old.append(f'<del style="background:#fdd;color:#900">{piece}</del>')
        else:
            new.append(f'<ins style="background:#dfd;color:#060;text-decoration:none;font-weight:600">{piece}</ins>')
    return (
        '<table class="ittifaq-diff" style="width:100%;table-layout:fixed;border-collapse:collapse"><tr>'
        f'<th style="text-align:left">{html.escape(left)}</th><th style="text-align:left">{html.escape(right)}</th></tr>'
        f'<tr><td style="vertical-align:top;padding:4px;border:1px solid #ccc">{"".join(old)}</td>'
        f'<td style="vertical-align:top;padding:4px;border:1px solid #ccc">{"".join(new)}</td></tr></table>'
    )


_THOUSANDS = re.compile(r"(?<=\d)[\u202f\u00a0 ](?=\d{3}(?!\d))")
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n")
_REFERENCE = re.compile(r"\b(?:art(?:icle)?s?\.?|décret n°|loi n°|alinéa|chapitre)\s*[\d\-]+(?:\s*(?:et|à|,)\s*\d+)*", re.I)


_NUMBER_WORDS = {"un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8, "neuf": 9, "dix": 10,
                 "onze": 11, "douze": 12, "quinze": 15, "vingt-cinq": 25, "vingt": 20, "trente": 30}
_NUMBER_WORD_RX = re.compile(r"\b(" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")\b(?=\s+(?:ans?|années?|heures?|jours?|mois|semaines?|minutes?)\b)", re.I)
_CONDITION_NUMBER = re.compile(r"(\d+(?:[.,]\d+)?)\s*(?:h\b|heures?\b|ans?\b|années?\b)", re.I)
_CLOCK_SPAN = re.compile(r"\b(?:entre|de)\s+\d+\s*(?:h|heures?)\b(?:\s*\d+)?\s+(?:et|à)\s+\d+\s*(?:h|heures?)\b|\b(?:à partir de|dès|avant|jusqu'à)\s+\d+\s*(?:h|heures?)\b", re.I)


def _condition_numbers(text: str) -> set[float]:
    return {float(n.replace(",", ".")) for n in _CONDITION_NUMBER.findall(text)}


def _label_overlap(context: str, label: str) -> float:
    from rag.lexical import tokenize

    words = set(tokenize(label))
    return len(words & set(tokenize(context))) / max(1, len(words))


def check_text(text: str, rules: dict, what: str = "Texte") -> list[Check]:
    """Every figure of a text held against the statutory floors, as for a drafted clause
    (:meth:`rag.draft.Drafter.check`); figures no rule speaks of are not reported.

    Each figure is read with the words that follow it up to the next figure of its kind, so that
    in « 3 % après un an, 6 % après deux ans » the 6 % is held against the two-year floor and the
    3 % (no one-year floor) against none; durations that condition a figure (« après 2 ans »,
    « entre 21 h et 6 h ») are not checked themselves."""
    from rag.draft import QUANTITY_RX

    drafter = Drafter(retriever=None, chat=None, library=[], rules=rules, settings=None)
    checks: list[Check] = []
    seen: set[tuple] = set()
    for sentence in _SENTENCE.split(_THOUSANDS.sub("", text or "")):
        sentence = _NUMBER_WORD_RX.sub(lambda m: str(_NUMBER_WORDS[m.group(1).lower()]), _REFERENCE.sub(" ", sentence)).strip()
        matches = list(QUANTITY_RX.finditer(sentence))
        if not matches:
            continue
        families = [parse_quantities(m.group(0))[0].family if parse_quantities(m.group(0)) else "" for m in matches]
        has_main = any(f not in {"years", "count", "hours"} for f in families)
        lead = sentence[: matches[0].start()]
        clocks = list(_CLOCK_SPAN.finditer(sentence))
        for k, m in enumerate(matches):
            family = families[k]
            nxt = next((m2.start() for k2, m2 in enumerate(matches[k + 1:], start=k + 1) if families[k2] == family), len(sentence))
            forward = sentence[m.start():nxt]
            found = parse_quantities(forward)
            if not found:
                continue
            quantity = found[0]
            if family in {"years", "count"} and has_main:
                continue  # « après 2 ans »: the condition of another figure
            if family == "hours" and any(c.start() <= m.start() < c.end() for c in clocks):
                continue  # « entre 21 h et 6 h »: a time of day
            if re.search(r"\baprès\s*$", sentence[: m.start()]) and any(f != family for f in families):
                continue  # « pause de 30 minutes après 4 heures »: the condition of another figure
            context = (lead + " " + forward) if k else forward if not lead else lead + forward
            topic_rule = drafter.match_rule(quantity, context)
            if topic_rule is None:
                continue
            low = context.lower()
            if not any(kw.lower() in low for kw in topic_rule.keywords) and not any(w in low for w in normalise(topic_rule.label).split() if len(w) > 6):
                continue  # a figure that merely shares a unit with a rule
            others = _condition_numbers(forward[len(m.group(0)):])
            candidates = []
            for rule in rules.values():
                if rule.topic != topic_rule.topic or rule.unit != topic_rule.unit:
                    continue
                needs = _condition_numbers(rule.label)
                if not needs <= others:
                    continue
                candidates.append((len(needs), _label_overlap(context, rule.label), rule))
            if not candidates:
                continue  # e.g. « 3 % après 1 an »: no statutory figure for that condition
            rule = max(candidates, key=lambda c: (c[0], c[1]))[2]
            key = (rule.id, quantity.value, quantity.unit)
            if key in seen:
                continue
            seen.add(key)
            checks.append(drafter.check(rule, quantity.value, quantity.unit, f"{what} « {m.group(0).strip()} »"))
    return checks


_FIGURE = re.compile(r"\d+(?:[.,]\d+)?")


def figures_of(text: str) -> list[float]:
    """The numbers of a text in order, article and decree references left out."""
    clean = _REFERENCE.sub(" ", _THOUSANDS.sub("", text or ""))
    clean = re.sub(r"(?:^|\n)\s*Article\s+\d+", " ", clean)
    return [float(m.replace(",", ".")) for m in _FIGURE.findall(clean)]


MANDATE_LABELS = [
    (-1e9, 0.0, "sous le plancher"), (0.0, 0.0, "au plancher"), (0.0, 1.0, "entre plancher et cible"), (1.0, 1.0, "à la cible"),
    (1.0, 2.0, "entre cible et ambitieuse"), (2.0, 2.0, "à l'ambitieuse"), (2.0, 1e9, "au-delà de l'ambitieuse"),
]


def _scale(value: float, floor: float, target: float, ambitious: float) -> float | None:
    """Where ``value`` sits on plancher = 0, cible = 1, ambitieuse = 2 (piecewise linear)."""
    if floor == ambitious:
        return None
    sign = 1 if ambitious > floor else -1
    v, f, t, a = value * sign, floor * sign, target * sign, ambitious * sign
    if v <= t:
        return (v - f) / (t - f) if t != f else (0.0 if v <= f else 1.0)
    return 1 + (v - t) / (a - t) if a != t else 2.0


def mandate_position(text: str, positions: dict[str, str]) -> dict | None:
    """Where a text stands between the clause's three positions.

    When the text and the positions have the same figures in the same places, each figure is
    placed on the scale plancher → cible → ambitieuse (direction taken from the positions: a
    maximum such as working hours runs downwards) and the weakest one gives the label; otherwise
    the nearest position by wording."""
    if not positions or not all(p in positions for p in (Position.plancher, Position.cible, Position.ambitieuse)):
        return None
    figures = {p: figures_of(positions[p]) for p in (Position.plancher, Position.cible, Position.ambitieuse)}
    current = figures_of(text)
    if current and all(len(f) == len(current) for f in figures.values()):
        scores = [s for k in range(len(current)) if (s := _scale(current[k], figures[Position.plancher][k], figures[Position.cible][k], figures[Position.ambitieuse][k])) is not None]
        if scores:
            score = min(scores)
            label = next(lbl for lo, hi, lbl in MANDATE_LABELS if (lo == hi == score) or lo < score < hi or (hi == 1e9 and score > lo))
            if score == 0.0:
                label = "au plancher"
            return {"method": "chiffres", "score": round(score, 3), "label": label}
    sims = {p: similarity(text, positions[p]) for p in figures}
    best = max(sims, key=sims.get)
    return {"method": "texte", "score": round(sims[best], 3), "label": f"proche de la position {best}"}


def positions_for(clause: Clause, library: list | None) -> dict[str, tuple[str, dict]]:
    """The plancher / cible / ambitieuse texts of a clause: its template rendered with each
    variant's values (an explicit ``positions`` object in the clause JSON wins)."""
    from rag.library import render_model

    out: dict[str, tuple[str, dict]] = {}
    template = next((t for t in library or [] if t.id == clause.template_id), None) if clause.template_id else None
    if template is not None:
        for variant, position in VARIANT_POSITIONS.items():
            values = {p.name: p.value_for(variant) for p in template.parameters}
            out[position] = (render_model(template, values), values)
    return out


# ------------------------------------------------------------------------------------------------
# projects


def _check_text_size(text: str) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise ValueError("Texte de clause vide.")
    if len(text) > MAX_CLAUSE_CHARS:
        raise ValueError(f"Texte de clause trop long (plus de {MAX_CLAUSE_CHARS} caractères).")
    return text


def create_project(
    db: Database, owner: str, clauses: list[Clause], title: str = DEFAULT_TITLE, preamble: str = DEFAULT_PREAMBLE,
    team_id: int | None = None, note: str = "Propositions syndicales", date: dt.date | None = None, library: list | None = None,
) -> int:
    """A new project with round 1: each clause proposed by ``owner`` (status proposition syndicale)."""
    from rag.workspace import safe_user_id

    owner = safe_user_id(owner)
    if len(clauses) > MAX_CLAUSES:
        raise ValueError(f"Un projet compte au plus {MAX_CLAUSES} clauses.")
    with db.session() as s:
        if team_id is not None and team_id not in teams_of(s, owner):
            raise AccessDenied("Vous n'êtes pas membre de cette équipe.")
        project = Project(title=" ".join(title.split())[:300] or DEFAULT_TITLE, preamble=preamble or "", owner=owner, team_id=team_id)
        s.add(project)
        s.flush()
        round_ = Round(project_id=project.id, number=1, date=date or dt.date.today(), note=note[:MAX_NOTE_CHARS], created_by=owner)
        s.add(round_)
        s.flush()
        for position, clause in enumerate(clauses, start=1):
            _insert_clause(s, project, round_, clause, position, owner, ClauseStatus.proposition_syndicale, EventKind.proposed, "", library)
        return project.id


def _insert_clause(s, project: Project, round_: Round, clause: Clause, position: int, user: str, status: ClauseStatus,
                   kind: EventKind, note: str, library: list | None) -> ProjectClause:
    text = _check_text_size(clause.text)
    data = clause.to_json()
    row = ProjectClause(project_id=project.id, key=uuid.uuid4().hex, position=position, title=clause.title[:300] or "Clause",
                        topic=(clause.topic or "")[:200], template_id=clause.template_id, data=data, created_by=user)
    s.add(row)
    s.flush()
    for pos, (ptext, values) in positions_for(clause, library).items():
        s.add(ClausePosition(clause_id=row.id, position=pos, text=ptext, figures=values))
    s.add(ClauseVersion(round_id=round_.id, clause_id=row.id, title=row.title, text=text, status=status, author=user, updated_at=utcnow(), version=1))
    s.add(ClauseEvent(clause_id=row.id, round_number=round_.number, kind=kind, status=status, title=row.title, text=text, author=user, note=note, version=1, at=utcnow()))
    return row


def projects_for(db: Database, user: str) -> list[dict]:
    """The projects a member can open: their own and their teams'."""
    from rag.workspace import safe_user_id

    user = safe_user_id(user)
    with db.session() as s:
        teams = teams_of(s, user)
        query = select(Project).where((Project.owner == user) | (Project.team_id.in_(teams) if teams else False)).order_by(Project.updated_at.desc())
        out = []
        for p in s.scalars(query):
            last = s.scalar(select(func.max(Round.number)).where(Round.project_id == p.id)) or 0
            team = s.get(Team, p.team_id).name if p.team_id else ""
            out.append({"id": p.id, "title": p.title, "owner": p.owner, "team": team, "rounds": last, "updated": p.updated_at.isoformat(timespec="seconds")})
        return out


def teams_for(db: Database, user: str) -> list[dict]:
    """The teams of a member: [{id, name}], by name."""
    from rag.workspace import safe_user_id

    with db.session(write=False) as s:
        ids = teams_of(s, safe_user_id(user))
        return sorted(({"id": t.id, "name": t.name} for t in (s.get(Team, i) for i in ids) if t is not None), key=lambda t: t["name"].casefold())


def share_project(db: Database, project_id: int, user: str, team_id: int | None) -> None:
    """Share a project with one of the owner's teams (``None``: the owner's alone again). Only the
    owner decides; :class:`AccessDenied` otherwise, or when they are not in that team."""
    from rag.workspace import safe_user_id

    user = safe_user_id(user)
    with db.session() as s:
        project = s.get(Project, int(project_id))
        if project is None:
            raise KeyError(f"Projet {project_id} introuvable.")
        if project.owner != user:
            raise AccessDenied("Seul l'auteur du projet choisit l'équipe qui le partage.")
        if team_id is not None and int(team_id) not in teams_of(s, user):
            raise AccessDenied("Vous n'êtes pas membre de cette équipe.")
        project.team_id = None if team_id is None else int(team_id)
        project.updated_at = utcnow()


def _iso(value: dt.datetime | dt.date | None) -> str:
    return value.isoformat(timespec="seconds") if isinstance(value, dt.datetime) else (value.isoformat() if value else "")


class Negotiation:
    """One member's view of one project. Cheap to build: a handler makes one per request."""

    def __init__(self, db: Database, project_id: int, user: str, library: list | None = None, rules: dict | None = None):
        from rag.workspace import safe_user_id

        self.db = db
        self.project_id = int(project_id)
        self.user = safe_user_id(user)
        self.library = library or []
        self.rules = rules or {}
        with db.session() as s:
            project = s.get(Project, self.project_id)
            if project is None:
                raise KeyError(f"Projet {project_id} introuvable.")
            if not can_access(s, project, self.user):
                raise AccessDenied("Ce projet n'est ni le vôtre ni celui de votre équipe.")
            self.title = project.title

    # ---- reading ----------------------------------------------------------------------------
    def _round(self, s, number: int | None = None) -> Round:
        query = select(Round).where(Round.project_id == self.project_id)
        query = query.where(Round.number == number) if number is not None else query.order_by(Round.number.desc()).limit(1)
        round_ = s.scalar(query)
        if round_ is None:
            raise KeyError(f"Tour {number} introuvable." if number is not None else "Projet sans tour de négociation.")
        return round_

    def _positions(self, s, clause_ids: list[int]) -> dict[int, dict[str, str]]:
        out: dict[int, dict[str, str]] = {}
        if clause_ids:
            for p in s.scalars(select(ClausePosition).where(ClausePosition.clause_id.in_(clause_ids))):
                out.setdefault(p.clause_id, {})[p.position] = p.text
        return out

    def _states(self, s, round_: Round, key: str | None = None) -> list[ClauseState]:
        query = (select(ClauseVersion, ProjectClause).join(ProjectClause, ClauseVersion.clause_id == ProjectClause.id)
                 .where(ClauseVersion.round_id == round_.id).order_by(ProjectClause.position))
        if key is not None:
            query = query.where(ProjectClause.key == key)
        rows = s.execute(query).all()
        positions = self._positions(s, [c.id for _, c in rows])
        return [
            ClauseState(c.key, c.position, v.title, v.text, v.status, v.author, _iso(v.updated_at), v.version, round_.number, c.template_id,
                        mandate_position(v.text, positions.get(c.id, {})))
            for v, c in rows
        ]

    def rounds(self) -> list[RoundInfo]:
        with self.db.session(write=False) as s:
            out = []
            for r in s.scalars(select(Round).where(Round.project_id == self.project_id).order_by(Round.number)):
                counts = dict(s.execute(select(ClauseVersion.status, func.count()).where(ClauseVersion.round_id == r.id).group_by(ClauseVersion.status)).all())
                out.append(RoundInfo(r.number, r.date.isoformat(), r.note, r.created_by, _iso(r.created_at), counts))
            return out

    def current_round(self) -> int:
        with self.db.session(write=False) as s:
            return self._round(s).number

    def clauses(self, round_number: int | None = None) -> list[ClauseState]:
        with self.db.session(write=False) as s:
            return self._states(s, self._round(s, round_number))

    def clause(self, key: str, round_number: int | None = None) -> ClauseState:
        with self.db.session(write=False) as s:
            states = self._states(s, self._round(s, round_number), key)
        if not states:
            raise KeyError(f"Clause {key} absente de ce tour.")
        return states[0]

    def history(self, key: str) -> list[dict]:
        """Who proposed what, when: every event of the clause, oldest first."""
        with self.db.session(write=False) as s:
            clause = s.scalar(select(ProjectClause).where(ProjectClause.key == key, ProjectClause.project_id == self.project_id))
            if clause is None:
                raise KeyError(f"Clause {key} inconnue.")
            events = s.scalars(select(ClauseEvent).where(ClauseEvent.clause_id == clause.id).order_by(ClauseEvent.at, ClauseEvent.id))
            return [{"round": e.round_number, "kind": e.kind, "status": e.status, "status_label": STATUS_LABELS.get(ClauseStatus(e.status), e.status),
                     "title": e.title, "text": e.text, "author": e.author, "note": e.note, "version": e.version, "at": _iso(e.at)} for e in events]

    def history_markdown(self) -> str:
        """The whole negotiation as Markdown: rounds, then each clause's history."""
        lines = [f"# Historique de la négociation — {self.title}", ""]
        for r in self.rounds():
            counts = ", ".join(f"{STATUS_LABELS[ClauseStatus(k)].lower()} : {v}" for k, v in sorted(r.statuses.items()))
            lines.append(f"- **Tour {r.number}** du {r.date} ({r.created_by}) — {r.note or 'sans note'} — {counts}")
        lines.append("")
        for state in self.clauses():
            lines += [f"## {state.position}. {state.title} — {state.status_label}", ""]
            for e in self.history(state.key):
                lines.append(f"- tour {e['round']}, {e['at'].replace('T', ' ')}, **{e['author']}** : {e['status_label']} ({e['kind']}, v{e['version']})"
                             + (f" — {e['note']}" if e["note"] else ""))
                lines.append("  > " + e["text"].replace("\n", "\n  > "))
            lines.append("")
        return "\n".join(lines).rstrip() + "\n"

    # ---- writing ----------------------------------------------------------------------------
    def new_round(self, note: str = "", date: dt.date | None = None) -> RoundInfo:
        """Open round N+1 as a copy of round N (texts and statuses); round N is then read-only."""
        try:
            with self.db.session() as s:
                last = self._round(s)
                round_ = Round(project_id=self.project_id, number=last.number + 1, date=date or dt.date.today(), note=(note or "")[:MAX_NOTE_CHARS],
                               created_by=self.user, created_at=utcnow())
                s.add(round_)
                s.flush()
                for v in s.scalars(select(ClauseVersion).where(ClauseVersion.round_id == last.id)):
                    s.add(ClauseVersion(round_id=round_.id, clause_id=v.clause_id, title=v.title, text=v.text, status=v.status, author=v.author,
                                        updated_at=v.updated_at, version=1))
                s.get(Project, self.project_id).updated_at = utcnow()
                number = round_.number
        except DatabaseError as exc:
            from sqlalchemy.exc import IntegrityError

            if isinstance(exc.__cause__, IntegrityError):
                raise RoundClosed("Un autre membre vient d'ouvrir un nouveau tour : rechargez le projet.") from exc
            raise
        return next(r for r in self.rounds() if r.number == number)

    def _save(self, s, key: str, expected_version: int, text: str | None, status: ClauseStatus | str | None, title: str | None,
              kind: EventKind, note: str) -> None:
        round_ = self._round(s)
        clause = s.scalar(select(ProjectClause).where(ProjectClause.key == key, ProjectClause.project_id == self.project_id))
        if clause is None:
            raise KeyError(f"Clause {key} inconnue.")
        row = s.scalar(select(ClauseVersion).where(ClauseVersion.round_id == round_.id, ClauseVersion.clause_id == clause.id))
        if row is None:
            raise KeyError(f"Clause {key} absente du tour {round_.number}.")
        values: dict = {"author": self.user, "updated_at": utcnow(), "version": ClauseVersion.version + 1}
        if text is not None:
            values["text"] = _check_text_size(text)
        if status is not None:
            values["status"] = ClauseStatus(status)
        if title is not None:
            values["title"] = " ".join(title.split())[:300] or row.title
        # the version check and the write are one statement: two saves can never both pass it
        result = s.execute(update(ClauseVersion).where(ClauseVersion.id == row.id, ClauseVersion.version == int(expected_version))
                           .values(**values).execution_options(synchronize_session=False))
        if result.rowcount != 1:
            s.expire_all()
            current = self._states(s, round_, key)[0]
            raise StaleVersion(key, int(expected_version), current)
        s.expire_all()
        saved = s.get(ClauseVersion, row.id)
        s.add(ClauseEvent(clause_id=clause.id, round_number=round_.number, kind=kind, status=saved.status, title=saved.title, text=saved.text,
                          author=self.user, note=note[:MAX_NOTE_CHARS], version=saved.version, at=utcnow()))
        s.get(Project, self.project_id).updated_at = utcnow()

    def save_clause(self, key: str, text: str, expected_version: int, status: ClauseStatus | str | None = None, title: str | None = None,
                    note: str = "") -> ClauseState:
        """Save a new text (and optionally status) of a clause in the current round, if nobody
        saved it since ``expected_version``; else :class:`StaleVersion` and nothing written."""
        with self.db.session() as s:
            self._save(s, key, expected_version, text, status, title, EventKind.edited, note)
        return self.clause(key)

    def set_status(self, key: str, status: ClauseStatus | str, expected_version: int, note: str = "") -> ClauseState:
        with self.db.session() as s:
            self._save(s, key, expected_version, None, status, None, EventKind.status, note)
        return self.clause(key)

    def add_clause(self, clause: Clause | dict, status: ClauseStatus = ClauseStatus.proposition_syndicale, note: str = "") -> ClauseState:
        """A clause added to the current round (earlier rounds stay as they were)."""
        clause = clause if isinstance(clause, Clause) else Clause.from_json(clause)
        with self.db.session() as s:
            project = s.get(Project, self.project_id)
            round_ = self._round(s)
            count = s.scalar(select(func.count()).select_from(ProjectClause).where(ProjectClause.project_id == self.project_id)) or 0
            if count >= MAX_CLAUSES:
                raise ValueError(f"Le projet compte déjà {MAX_CLAUSES} clauses.")
            last = s.scalar(select(func.max(ProjectClause.position)).where(ProjectClause.project_id == self.project_id)) or 0
            kind = EventKind.imported if status == ClauseStatus.contre_proposition_patronale else EventKind.proposed
            row = _insert_clause(s, project, round_, clause, last + 1, self.user, ClauseStatus(status), kind, note, self.library)
            key = row.key
            project.updated_at = utcnow()
        return self.clause(key)

    # ---- counter-proposals -----------------------------------------------------------------
    def compare_sections(self, theirs: list[Section], source: str = "") -> dict:
        """Our current clauses against the other side's sections: pairs side by side with the
        word differences and the floor checks of their text."""
        ours_states = [c for c in self.clauses() if c.status != ClauseStatus.retiree]
        ours = [Section(c.title, c.text, c.position) for c in ours_states]
        # their document numbers articles across the agreement (as our exports do); ours from 1
        fixed = [local_numbering(sec) for sec in theirs]
        pairs = []
        for m in align_sections(ours, fixed):
            mine = ours_states[m.ours] if m.ours is not None else None
            other = fixed[m.theirs] if m.theirs is not None else None
            checks = check_text(other.text, self.rules, "Contre-proposition") if other is not None and self.rules else []
            pairs.append({
                "key": mine.key if mine else None, "version": mine.version if mine else None,
                "our_title": mine.title if mine else "", "our_text": mine.text if mine else "",
                "their_title": other.title if other else "", "their_text": other.text if other else "",
                "their_number": other.number if other else None, "method": m.method, "score": m.score,
                "changed": bool(mine and other and paragraphs_of(mine.text) != paragraphs_of(other.text)),
                "diff_html": diff_html(mine.text if mine else "", other.text if other else ""),
                "checks": [c.to_json() for c in checks],
                "below_floor": [c.to_json() for c in checks if c.status == "below_floor"],
            })
        return {"source": source, "round": self.current_round(), "pairs": pairs}

    def import_counter_proposal(self, path: Path, isolated: bool = True, max_bytes: int = 50 * 1024 * 1024, timeout_s: float = 120.0) -> dict:
        """Read the other side's document (parsed in a child process with a time limit unless
        ``isolated`` is False) and compare it with the current round (nothing is saved yet)."""
        from rag.ingest import IngestError, IsolatedParser, load_path

        path = Path(path)
        try:
            if isolated:
                with IsolatedParser(timeout_s, max_bytes, 2000) as parser:
                    document = parser.load(path)
            else:
                document = load_path(path, max_bytes, 2000)
        except IngestError as exc:
            raise ValueError(f"Contre-proposition illisible : {exc.message}") from exc
        sections = split_sections(document.text)
        if not sections:
            raise ValueError("Contre-proposition sans article reconnu : vérifiez qu'elle comporte des titres « Chapitre N — … » ou « Article N — … ».")
        return self.compare_sections(sections, document.source)

    def apply_counter_proposal(self, comparison: dict, keys: list[str] | None = None, note: str = "") -> list[ClauseState]:
        """Record their texts in the current round as contre-propositions patronales: every changed
        pair (or only ``keys``), and their new articles as new clauses. One transaction: a stale
        clause refuses the whole import (:class:`StaleVersion`)."""
        source = comparison.get("source") or "document importé"
        label = note or f"contre-proposition importée de {source}"
        changed_keys = []
        with self.db.session() as s:
            project = s.get(Project, self.project_id)
            round_ = self._round(s)
            last = s.scalar(select(func.max(ProjectClause.position)).where(ProjectClause.project_id == self.project_id)) or 0
            for pair in comparison.get("pairs", []):
                if pair["key"] and pair["their_text"] and pair["changed"] and (keys is None or pair["key"] in keys):
                    self._save(s, pair["key"], pair["version"], pair["their_text"], ClauseStatus.contre_proposition_patronale,
                               pair["their_title"] or None, EventKind.imported, label)
                    changed_keys.append(pair["key"])
                elif pair["key"] is None and pair["their_text"] and keys is None:
                    last += 1
                    clause = Clause(title=pair["their_title"] or "Article de la partie patronale", topic="", template_id=None, variant="target", text=pair["their_text"])
                    row = _insert_clause(s, project, round_, clause, last, self.user, ClauseStatus.contre_proposition_patronale, EventKind.imported, label, None)
                    changed_keys.append(row.key)
        return [self.clause(k) for k in changed_keys]

    # ---- documents -------------------------------------------------------------------------
    def agreement(self, round_number: int | None = None) -> Agreement:
        """The agreement as it stands in a round (withdrawn clauses left out), for the clean exports."""
        with self.db.session(write=False) as s:
            project = s.get(Project, self.project_id)
            round_ = self._round(s, round_number)
            rows = s.execute(select(ClauseVersion, ProjectClause).join(ProjectClause, ClauseVersion.clause_id == ProjectClause.id)
                             .where(ClauseVersion.round_id == round_.id).order_by(ProjectClause.position)).all()
            clauses = []
            for n, (v, c) in enumerate((r for r in rows if r[0].status != ClauseStatus.retiree), start=1):
                data = dict(c.data or {}, title=v.title, text=v.text, order=n, status=v.status)
                clauses.append(Clause.from_json(data))
            return Agreement(clauses=clauses, title=project.title, preamble=project.preamble, date=round_.date.isoformat(),
                             status=f"tour {round_.number}")

    def redline(self, from_round: int, to_round: int | None = None, author: str | None = None) -> bytes:
        """A DOCX of round ``to_round`` (default: the last) whose changes since ``from_round`` are
        native Word revisions; a clause withdrawn or added in between is deleted / inserted whole."""
        with self.db.session(write=False) as s:
            old_round, new_round = self._round(s, from_round), self._round(s, to_round)
            old = {c.key: c for c in self._states(s, old_round) if c.status != ClauseStatus.retiree}
            new = {c.key: c for c in self._states(s, new_round) if c.status != ClauseStatus.retiree}
            positions = {c.key: c.position for c in self._states(s, new_round)} | {c.key: c.position for c in self._states(s, old_round)}
            when = dt.datetime.combine(new_round.date, dt.time(12, 0))
            subtitle = f"Modifications du tour {old_round.number} ({old_round.date.isoformat()}) au tour {new_round.number} ({new_round.date.isoformat()})."
        keys = sorted(set(old) | set(new), key=lambda k: positions.get(k, 10**6))
        pairs = [(Section(old[k].title, old[k].text) if k in old else None, Section(new[k].title, new[k].text) if k in new else None) for k in keys]
        return redline_docx(pairs, title=self.title, subtitle=subtitle, author=author or self.user, date=when)

    def checks(self, round_number: int | None = None) -> dict[str, list[dict]]:
        """Floor checks of every clause's text in a round, by clause key."""
        return {c.key: [k.to_json() for k in check_text(c.text, self.rules, c.title)] for c in self.clauses(round_number)}


# ------------------------------------------------------------------------------------------------
# the « Projet de convention » tab's JSON project → the database project's current round

WORKSPACE_MARK = "workspace"  # key in ProjectClause.data: {"id", "text", "title"} as last taken from the JSON project


def workspace_clause_ids(clauses: list[dict]) -> list[str]:
    """A stable id per clause of a JSON project: when it was added, its title and template (a
    clause added twice in the same second gets ``#2``). Moving a clause does not change it."""
    import hashlib

    seen: dict[str, int] = {}
    out = []
    for raw in clauses:
        base = hashlib.sha256(json.dumps([str(raw.get("added", "")), str(raw.get("title", "")), raw.get("template_id")],
                                         ensure_ascii=False).encode("utf-8")).hexdigest()[:16]
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
    return out


@dataclass
class WorkspaceSync:
    """What :func:`sync_workspace_project` did. ``conflicts``: clauses changed on both sides since
    the last sync, left as the database has them, with both texts."""

    project_id: int | None = None
    created: bool = False
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    conflicts: list[dict] = field(default_factory=list)
    meta_updated: bool = False
    unchanged: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.added or self.updated or self.withdrawn or self.meta_updated)

    def to_json(self) -> dict:
        return asdict(self)

    def message(self) -> str:
        """One French sentence for the interface."""
        if self.project_id is None:
            return "Projet de convention vide : rien à reprendre dans la négociation."
        if self.created:
            head = f"Projet de convention repris dans la négociation (projet {self.project_id}, tour 1, {len(self.added)} clause(s))."
        elif not self.changed:
            if not self.conflicts:
                return "La négociation est à jour du Projet de convention."
            count = len(self.conflicts)
            head = f"Négociation : {count} clause{'s' if count > 1 else ''} en conflit, rien d'autre à reprendre."
        else:
            parts = [f"{len(self.added)} clause(s) ajoutée(s)" if self.added else "", f"{len(self.updated)} modifiée(s)" if self.updated else "",
                     f"{len(self.withdrawn)} retirée(s)" if self.withdrawn else "", "titre ou préambule mis à jour" if self.meta_updated else ""]
            head = "Tour en cours mis à jour depuis le Projet de convention : " + ", ".join(p for p in parts if p) + "."
        for c in self.conflicts:
            author = c["database_author"] or "un membre"
            if c["workspace_text"]:
                head += (f" ⚠ « {c['title']} » a été modifiée dans les deux onglets (dernière version de {author}) : "
                         "le texte de la négociation est gardé, celui du Projet de convention n'a pas été repris.")
            else:  # removed from the tab after a member changed it in the negotiation
                head += (f" ⚠ « {c['title']} », retirée du Projet de convention, a été modifiée dans la négociation (dernière version de {author}) : "
                         "elle y est gardée telle quelle, non retirée.")
        return head + "".join(f" {n}" for n in self.notes)


def _workspace_mark(clause: ProjectClause) -> dict:
    """The JSON side of a clause as last taken: its stored mark, or for a clause imported before
    marks existed, the raw JSON it was imported from."""
    data = clause.data or {}
    mark = data.get(WORKSPACE_MARK)
    if isinstance(mark, dict) and mark.get("id"):
        return mark
    return {}


def sync_workspace_project(db: Database, data_dir: Path, user: str, library: list | None = None) -> WorkspaceSync:
    """Make the user's JSON project (the « Projet de convention » tab, ``<data_dir>/<user>/project.json``)
    the current round of their database project; idempotent, nothing lost.

    - no database project yet: the JSON project is imported as round 1 (as :func:`rag.db.migrate_workspaces`);
    - a clause added in the tab is added to the current round (proposition syndicale);
    - a clause whose text (or title) changed in the tab since the last sync is saved in the current
      round under the user's name, unless a member changed it in the negotiation meanwhile: then
      it is a conflict, reported with both texts, and the negotiation's text is kept;
    - a clause removed in the tab is marked « retirée » in the current round (its text and history
      stay); if a member changed it in the negotiation meanwhile it is left and reported;
    - the project's title and preamble follow the tab (the negotiation does not edit them);
    - clauses of the negotiation that did not come from the tab (counter-proposals) are untouched,
      and so are the earlier rounds, the clause order and the statuses of the clauses kept.

    Every change is an event of the clause's history with the note « Projet de convention ». One
    transaction: a concurrent save by a member refuses the whole sync (:class:`StaleVersion`), to
    be run again. The JSON file is only read.
    """
    from rag.db import LegacyImport, _import_project, MigrationReport, _sha256
    from rag.workspace import Workspace, safe_user_id

    uid = safe_user_id(user)
    ws = Workspace(Path(data_dir), uid)
    report = WorkspaceSync()
    path = ws.project_file
    if not path.is_file():
        return report
    raw_bytes = path.read_bytes()
    project_json = ws.load_project()
    key = f"{uid}/project.json"
    with db.session(write=False) as s:
        pid = s.scalar(select(Project.id).where(Project.legacy_key == f"json:{key}"))
    if pid is None:
        if not project_json["clauses"]:
            return report
        imported = MigrationReport()
        with db.session(write=False) as s:
            already = s.scalar(select(LegacyImport).where(LegacyImport.path == key))
        if already is not None:  # imported, then the project went away: import it again under a new key
            raise ValueError(f"{key} : déjà repris ({already.target}) mais ce projet est introuvable dans la base.")
        target = _import_project(db, uid, key, _sha256(raw_bytes), project_json, library, imported, from_tab=True)
        report.project_id = int(target.split(":")[1]) if target else None
        report.created = report.project_id is not None
        report.notes += imported.notes
        if report.project_id is not None:
            with db.session() as s:  # the marks of the clauses just imported
                rows = list(s.scalars(select(ProjectClause).where(ProjectClause.project_id == report.project_id).order_by(ProjectClause.position)))
                readable = [c for c in project_json["clauses"] if _readable(c)]
                for row, raw, wid in zip(rows, readable, workspace_clause_ids(readable)):
                    row.data = dict(row.data or {}, **{WORKSPACE_MARK: {"id": wid, "text": str(raw["text"]).strip(), "title": str(raw["title"])}})
                    report.added.append(row.title)
        return report

    report.project_id = pid
    n = Negotiation(db, pid, uid, library)
    clauses = [c for c in project_json["clauses"] if _readable(c)]
    ids = workspace_clause_ids(clauses)
    for raw in project_json["clauses"]:
        if not _readable(raw):
            report.notes.append(f"Clause « {str(raw.get('title', ''))[:60]} » du Projet de convention illisible : non reprise.")
    with db.session() as s:
        project = s.get(Project, pid)
        round_ = n._round(s)
        rows = list(s.scalars(select(ProjectClause).where(ProjectClause.project_id == pid).order_by(ProjectClause.position)))
        versions = {v.clause_id: v for v in s.scalars(select(ClauseVersion).where(ClauseVersion.round_id == round_.id))}
        marks = {id(r): _workspace_mark(r) for r in rows}
        if not any(marks.values()):  # imported before marks existed: the raw JSON of each clause is its mark
            legacy = [r for r in rows if isinstance(r.data, dict) and "added" in r.data]
            for r, wid in zip(legacy, workspace_clause_ids([r.data for r in legacy])):
                marks[id(r)] = {"id": wid, "text": str(r.data.get("text", "")).replace("\r\n", "\n").strip(), "title": " ".join(str(r.data.get("title", "")).split())[:300]}
                r.data = dict(r.data, **{WORKSPACE_MARK: marks[id(r)]})  # the base of the next syncs
            s.flush()
        by_id = {m["id"]: r for r in rows if (m := marks[id(r)])}
        title = project_json["title"][:300] or DEFAULT_TITLE  # as rag.db._import_project takes it
        if (project.title, project.preamble) != (title, project_json["preamble"]):
            project.title, project.preamble = title, project_json["preamble"]
            report.meta_updated = True
            s.flush()
        last = max((r.position for r in rows), default=0)
        count = len(rows)
        note = "Projet de convention"
        for raw, wid in zip(clauses, ids):
            text, ctitle = str(raw["text"]).replace("\r\n", "\n").strip(), " ".join(str(raw["title"]).split())[:300]
            row = by_id.get(wid)
            if row is None or row.id not in versions:
                if row is not None:  # in the project but not in this round (cannot happen with rounds copied whole)
                    report.notes.append(f"« {ctitle} » absente du tour {round_.number} : non reprise.")
                    continue
                if count >= MAX_CLAUSES:
                    report.notes.append(f"« {ctitle} » non reprise : le projet compte déjà {MAX_CLAUSES} clauses.")
                    continue
                try:
                    clause = Clause.from_json(raw)
                    last += 1
                    new = _insert_clause(s, project, round_, clause, last, uid, ClauseStatus.proposition_syndicale, EventKind.proposed,
                                         "ajoutée dans le Projet de convention", library)
                except ValueError as exc:
                    report.notes.append(f"« {ctitle} » non reprise : {exc}")
                    continue
                new.data = dict(new.data or {}, **{WORKSPACE_MARK: {"id": wid, "text": text, "title": ctitle}})
                s.flush()  # before _save's expire_all
                count += 1
                report.added.append(ctitle)
                continue
            mark, current = marks[id(row)], versions[row.id]
            tab_changed = (text, ctitle) != (mark.get("text", ""), " ".join(str(mark.get("title", "")).split())[:300])
            db_text = current.text.strip()
            if not tab_changed or (text == db_text and ctitle == current.title):
                if (text, ctitle) != (mark.get("text"), mark.get("title")):
                    row.data = dict(row.data or {}, **{WORKSPACE_MARK: {"id": wid, "text": text, "title": ctitle}})
                s.flush()  # before _save's expire_all
                report.unchanged += 1
                continue
            if db_text != mark.get("text", "") or current.title != ctitle and current.title != mark.get("title"):
                report.conflicts.append({"key": row.key, "title": current.title, "workspace_text": text, "database_text": current.text,
                                         "database_author": current.author, "database_version": current.version})
                continue
            try:
                n._save(s, row.key, current.version, text, None, ctitle, EventKind.edited, note)
            except ValueError as exc:
                report.notes.append(f"« {ctitle} » non reprise : {exc}")
                continue
            row.data = dict(row.data or {}, **{WORKSPACE_MARK: {"id": wid, "text": text, "title": ctitle}})
            s.flush()  # before the next _save's expire_all
            report.updated.append(ctitle)
        present = set(ids)
        for row in rows:
            mark = marks[id(row)]
            current = versions.get(row.id)
            if not mark or mark["id"] in present or current is None or current.status == ClauseStatus.retiree:
                continue
            if current.text.strip() != mark.get("text", ""):
                report.conflicts.append({"key": row.key, "title": current.title, "workspace_text": "", "database_text": current.text,
                                         "database_author": current.author, "database_version": current.version})
                continue
            n._save(s, row.key, current.version, None, ClauseStatus.retiree, None, EventKind.status, "retirée du Projet de convention")
            report.withdrawn.append(current.title)
        if report.changed:
            project.updated_at = utcnow()
        done = s.scalar(select(LegacyImport).where(LegacyImport.path == key))
        if done is not None and not report.conflicts:
            done.sha256 = _sha256(raw_bytes)  # migrate_workspaces no longer reports the file as changed since its import
    return report


def _readable(raw: object) -> bool:
    try:
        Clause.from_json(raw)
        return True
    except (ValueError, TypeError):
        return False
