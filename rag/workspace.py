"""Per-user workspace on disk: conversations, the agreement project, exports; and the login file.

Layout under ``settings.data_dir``::

    <user>/conversations/<id>.json   one conversation: {id, title, messages, created, updated}
    <user>/project.json              the agreement project: {title, preamble, clauses: [clause JSON]}
    <user>/exports/                  the last Markdown / DOCX exports
    _uploads/<token>/<name>          files uploaded for indexing (kept so "re-index all" finds them)

Every JSON file is written through a temp file + ``os.replace``: a crash leaves the old or the new
version, never half of one. User ids are reduced to a safe folder name (no path traversal, no
hidden or reserved names); without login everything belongs to ``local``. No Gradio here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from rag.atomic import write_atomic
from rag.draft import Clause
from rag.export import DEFAULT_PREAMBLE, DEFAULT_TITLE, Agreement, atomic_write_bytes, render_agreement, safe_filename

log = logging.getLogger(__name__)

DEFAULT_USER = "local"
UPLOADS_DIR = "_uploads"  # a user folder never starts with "_" (see safe_user_id)
_CONVERSATION_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_TITLE_CHARS = 300
MAX_PREAMBLE_CHARS = 20_000
MAX_CLAUSE_CHARS = 60_000
MAX_CLAUSES = 200

_locks: dict[str, threading.RLock] = {}
_locks_guard = threading.Lock()


def _lock_for(path: Path) -> threading.RLock:
    """One lock per user folder: two tabs of one user must not interleave read-modify-write."""
    with _locks_guard:
        return _locks.setdefault(str(path), threading.RLock())


def now_iso() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


def safe_user_id(user: str | None) -> str:
    """A folder name for a login: lower-case [a-z0-9_-], never empty, '.', '..' or hidden.

    A name that had to be changed gets a short hash of the original, so "a/b" and "a_b" (or "Ali"
    and "ali") never share a folder.
    """
    raw = (user or "").strip()
    if not raw:
        return DEFAULT_USER
    clean = re.sub(r"[^a-z0-9_-]+", "_", raw.lower()).strip("_-")[:64]
    if clean != raw or not clean:
        digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:10]
        clean = f"{clean or 'user'}-{digest}"
    return clean


def write_json(path: Path, data: object) -> None:
    """Atomic JSON write (see :func:`rag.atomic.write_atomic`)."""
    write_atomic(path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))


def read_json(path: Path) -> object | None:
    """The file's JSON, or None when it is missing; an unreadable file is set aside, not lost."""
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
        log.warning("unreadable %s (%s): moved to %s", path, exc, aside.name)
        try:
            os.replace(path, aside)
        except OSError:
            pass
        return None


class Workspace:
    """One user's files. Cheap to build: a handler makes one per request from the login."""

    def __init__(self, data_dir: Path, user: str | None = None):
        self.data_dir = Path(data_dir)
        self.user = safe_user_id(user)
        self.root = self.data_dir / self.user
        if self.root.resolve().parent != self.data_dir.resolve():  # belt and braces over safe_user_id
            raise ValueError("identifiant d'utilisateur invalide")
        self.conversations_dir = self.root / "conversations"
        self.project_file = self.root / "project.json"
        self.exports_dir = self.root / "exports"
        self.lock = _lock_for(self.root)

    # ---- conversations ------------------------------------------------------------------------
    def _conversation_path(self, conv_id: str) -> Path | None:
        if not isinstance(conv_id, str) or not _CONVERSATION_ID.match(conv_id):
            return None
        return self.conversations_dir / f"{conv_id}.json"

    @staticmethod
    def new_conversation() -> dict:
        stamp = now_iso()
        return {"id": uuid.uuid4().hex, "title": "", "messages": [], "created": stamp, "updated": stamp}

    def list_conversations(self) -> list[dict]:
        """Summaries {id, title, updated}, most recent first."""
        out = []
        if not self.conversations_dir.exists():
            return out
        for path in self.conversations_dir.glob("*.json"):
            data = self.load_conversation(path.stem)
            if data:
                out.append({"id": data["id"], "title": data.get("title") or "(sans titre)", "updated": data.get("updated", "")})
        return sorted(out, key=lambda c: c["updated"], reverse=True)

    def load_conversation(self, conv_id: str) -> dict | None:
        path = self._conversation_path(conv_id)
        if path is None:
            return None
        data = read_json(path)
        if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
            return None
        data["id"] = conv_id
        return data

    def save_conversation(self, conversation: dict) -> dict:
        path = self._conversation_path(conversation.get("id", ""))
        if path is None:
            raise ValueError("identifiant de conversation invalide")
        if not conversation.get("title"):
            first = next((m["content"] for m in conversation.get("messages", []) if m.get("role") == "user"), "")
            first = " ".join(str(first).split())
            conversation["title"] = (first[:60] + "…") if len(first) > 60 else first
        conversation["updated"] = now_iso()
        with self.lock:
            write_json(path, conversation)
        return conversation

    def delete_conversation(self, conv_id: str) -> bool:
        path = self._conversation_path(conv_id)
        if path is None or not path.exists():
            return False
        with self.lock:
            path.unlink(missing_ok=True)
        return True

    def rename_conversation(self, conv_id: str, title: str) -> dict:
        """Give a conversation the user's title (spaces collapsed, control and direction characters
        removed, 1 to MAX_CONVERSATION_TITLE characters). Its place in the list does not change."""
        clean = conversation_title(title)
        with self.lock:
            conversation = self.load_conversation(conv_id)
            if conversation is None:
                raise ValueError("Conversation introuvable : elle a peut-être été supprimée.")
            conversation["title"] = clean
            write_json(self._conversation_path(conv_id), conversation)
        return conversation

    def export_conversation(self, conv_id: str) -> Path:
        """Write one conversation as Markdown (questions, answers, their citations and quoted
        excerpts) into the user's exports folder (atomic); the file's path."""
        conversation = self.load_conversation(conv_id)
        if conversation is None:
            raise ValueError("Conversation introuvable : elle a peut-être été supprimée.")
        if not conversation.get("messages"):
            raise ValueError("Conversation vide : rien à exporter.")
        title = conversation.get("title") or "Conversation"
        path = self.exports_dir / safe_filename(f"conversation {title}", ".md")
        with self.lock:
            atomic_write_bytes(path, conversation_markdown(conversation).encode("utf-8"))
        return path

    # ---- agreement project --------------------------------------------------------------------
    def load_project(self) -> dict:
        data = read_json(self.project_file)
        if not isinstance(data, dict):
            data = {}
        clauses = [c for c in data.get("clauses") or [] if isinstance(c, dict) and "title" in c and "text" in c]
        return {
            "title": str(data.get("title") or DEFAULT_TITLE),
            "preamble": str(data.get("preamble") if data.get("preamble") is not None else DEFAULT_PREAMBLE),
            "clauses": clauses,
            "updated": str(data.get("updated", "")),
        }

    def save_project(self, project: dict) -> dict:
        project["updated"] = now_iso()
        with self.lock:
            write_json(self.project_file, project)
        return project

    def add_clause(self, clause: Clause | dict) -> dict:
        data = clause.to_json() if isinstance(clause, Clause) else dict(clause)
        Clause.from_json(data)  # refuse anything that would not export
        if len(str(data.get("text", ""))) > MAX_CLAUSE_CHARS:
            raise ValueError(f"Texte de clause trop long (plus de {MAX_CLAUSE_CHARS} caractères).")
        data["added"] = now_iso()
        with self.lock:
            project = self.load_project()
            if len(project["clauses"]) >= MAX_CLAUSES:
                raise ValueError(f"Le projet compte déjà {MAX_CLAUSES} clauses.")
            project["clauses"].append(data)
            return self.save_project(project)

    def move_clause(self, index: int, offset: int) -> dict:
        """Move clause ``index`` (0-based) by ``offset`` places; out-of-range moves change nothing."""
        with self.lock:
            project = self.load_project()
            clauses = project["clauses"]
            target = index + offset
            if not (0 <= index < len(clauses)) or not (0 <= target < len(clauses)):
                return project
            clauses.insert(target, clauses.pop(index))
            return self.save_project(project)

    def remove_clause(self, index: int) -> dict:
        with self.lock:
            project = self.load_project()
            if 0 <= index < len(project["clauses"]):
                project["clauses"].pop(index)
                project = self.save_project(project)
            return project

    def set_project_meta(self, title: str | None, preamble: str | None) -> dict:
        title = " ".join((title or "").split())[:MAX_TITLE_CHARS] or DEFAULT_TITLE
        preamble = (preamble or "").strip()[:MAX_PREAMBLE_CHARS]
        with self.lock:
            project = self.load_project()
            project["title"], project["preamble"] = title, preamble
            return self.save_project(project)

    def agreement(self) -> Agreement:
        """The project as an Agreement, clauses in the project's order (export sorts by ``order``)."""
        project = self.load_project()
        clauses = []
        for position, data in enumerate(project["clauses"], start=1):
            clause = Clause.from_json(data)
            clause.order = position
            clauses.append(clause)
        return Agreement(clauses=clauses, title=project["title"], preamble=project["preamble"])

    def export(self, fmt: str) -> Path:
        """Write the agreement in ``fmt`` (one of ``rag.export.EXPORT_FORMATS``) into the user's
        exports folder (atomic); ValueError for any other format, before anything is written."""
        agreement = self.agreement()
        data, suffix = render_agreement(agreement, fmt)
        path = self.exports_dir / safe_filename(agreement.title, suffix)
        with self.lock:
            atomic_write_bytes(path, data)
        return path


# ------------------------------------------------------------------------------------------------
# conversations as text

MAX_CONVERSATION_TITLE = 120


def conversation_title(title: str) -> str:
    """A conversation title as the user typed it, made safe: no control or direction-override
    characters (they would reorder the list's text), spaces collapsed; ValueError when empty or
    longer than MAX_CONVERSATION_TITLE characters."""
    import unicodedata

    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in str(title or ""))
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cf", "Cs", "Co", "Cn"))
    text = " ".join(text.split())
    if not text:
        raise ValueError("Titre vide : saisissez un titre pour la conversation.")
    if len(text) > MAX_CONVERSATION_TITLE:
        raise ValueError(f"Titre trop long ({len(text)} caractères) : au plus {MAX_CONVERSATION_TITLE}.")
    return text


def _quoted(text: str) -> str:
    """Text as a Markdown block quote: whatever it contains (« # », « --- ») stays text of the quote."""
    return "\n".join(f"> {line}" if line.strip() else ">" for line in str(text).strip().splitlines()) or ">"


def conversation_markdown(conversation: dict) -> str:
    """The conversation as a Markdown document: each question, the answer, the references it cites
    (label, article, file) and the decisive excerpts quoted from them, then its warnings."""
    title = " ".join(str(conversation.get("title") or "Conversation").split())
    lines = [f"# {title}", ""]
    created, updated = conversation.get("created", ""), conversation.get("updated", "")
    lines += [f"Conversation du {created[:10] or '?'}, mise à jour le {updated[:16].replace('T', ' à ') or '?'} ; exportée le {now_iso()[:16].replace('T', ' à ')}.", ""]
    number = 0
    for message in conversation.get("messages", []):
        role = message.get("role")
        if role == "user":
            number += 1
            lines += [f"## Question {number}", "", _quoted(message.get("content", "")), ""]
            continue
        if role != "assistant":
            continue
        lines += ["### Réponse", "", str(message.get("content", "")).strip() or "(pas de réponse)", ""]
        citations = message.get("citations") or []
        if citations:
            lines += ["**Références citées**", ""]
            for n, citation in enumerate(citations, start=1):
                label = citation.get("label") or citation.get("title") or citation.get("source", "")
                article = f", art. {citation['article']}" if citation.get("article") and f"art. {citation['article']}" not in label else ""
                source = f" — fichier : {citation['source']}" if citation.get("source") else ""
                lines.append(f"{n}. {label}{article}{source}")
            lines.append("")
        quotes = message.get("quotes") or []
        if quotes:
            lines += ["**Extraits**", ""]
            for quote in quotes:
                lines += [_quoted(f"« {' '.join(str(quote.get('text', '')).split())} »"), f"— *{quote.get('label') or quote.get('source', '')}*", ""]
        warnings = message.get("warnings") or []
        if warnings:
            lines += ["**Avertissements**", ""] + [f"- ⚠ {' '.join(str(w).split())}" for w in warnings] + [""]
    return "\n".join(lines).rstrip() + "\n"


# ------------------------------------------------------------------------------------------------
# uploaded corpus files


def stage_upload(data_dir: Path, uploaded: Path) -> Path:
    """Copy an upload into a fresh folder under its cleaned base name; the user's name never
    becomes a path (``../../x.pdf`` → ``x.pdf``)."""
    from rag.ingest import clean_filename

    folder = Path(data_dir) / UPLOADS_DIR / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / clean_filename(Path(str(uploaded)).name)
    try:
        shutil.copyfile(uploaded, target)
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)  # no empty or partial copy left (disk full)
        raise
    return target


def discard_upload(data_dir: Path, staged: Path) -> None:
    """Delete a staged upload's folder (only ever a folder of our own under ``_uploads``)."""
    root = (Path(data_dir) / UPLOADS_DIR).resolve()
    folder = Path(staged).resolve().parent
    if folder.parent == root:
        shutil.rmtree(folder, ignore_errors=True)


def prune_uploads(data_dir: Path, keep: set[str], min_age_s: float = 0.0) -> int:
    """Remove staged uploads that no indexed text refers to any more.

    Folders younger than ``min_age_s`` stay: they may be another upload still waiting for the
    index (another session of this process, or another app process sharing the data folder)."""
    import time

    root = Path(data_dir) / UPLOADS_DIR
    if not root.exists():
        return 0
    keep_resolved = {str(Path(p).resolve()) for p in keep if p}
    removed = 0
    now = time.time()
    for folder in root.iterdir():
        if not folder.is_dir() or now - folder.stat().st_mtime < min_age_s:
            continue
        if not any(str(f.resolve()) in keep_resolved for f in folder.iterdir()):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


# ------------------------------------------------------------------------------------------------
# login


@dataclass
class UserAccount:
    name: str
    password_hash: bytes
    admin: bool = False
    teams: tuple[str, ...] = ()  # negotiation teams declared in the users file (see load_users)


MAX_TEAM_NAME = 200
USERS_FORMAT = "utilisateur:hash-bcrypt[:admin][:team=Nom de l'équipe]"


def _team_names(raw: str, where: str) -> list[str]:
    names = []
    for part in raw.split(","):
        name = " ".join(part.split())
        if not name:
            raise ValueError(f"{where} : nom d'équipe vide dans « {raw.strip()[:80]} » (écrivez team=Nom, plusieurs équipes séparées par des virgules).")
        if len(name) > MAX_TEAM_NAME:
            raise ValueError(f"{where} : nom d'équipe de {len(name)} caractères ; au plus {MAX_TEAM_NAME}.")
        if any(ord(ch) < 32 or ch in "\x7f=" for ch in name):
            raise ValueError(f"{where} : nom d'équipe « {name[:60]} » avec un caractère interdit (« = » ou caractère de contrôle).")
        names.append(name)
    return names


def load_users(path: Path) -> dict[str, UserAccount]:
    """Parse ``user:bcrypt-hash[:admin][:team=Name]`` lines (blank lines and ``#`` comments ignored).

    The fields after the hash may come in any order: ``admin``, and ``team=`` (or ``teams=``,
    ``equipe=``) with one or more negotiation team names separated by commas, e.g.
    ``amina:$2b$12$…:admin:team=Fédération des centres d'appels``. A team name cannot contain
    « : », « , » or « = »; names are compared without regard to case or spacing. The members of a
    team share its projects (:func:`rag.db.sync_teams` brings the file into the database at
    start-up). Every malformed line, and a user defined twice, raises ``ValueError`` naming the line.
    """
    users: dict[str, UserAccount] = {}
    lines: dict[str, int] = {}
    spellings: dict[str, str] = {}  # team key → first spelling, so one team has one name
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path}, ligne {number}"
        parts = line.split(":")
        if len(parts) < 2 or not parts[0].strip() or not parts[1].strip().startswith("$2"):
            raise ValueError(f"{where} : format attendu « {USERS_FORMAT} ».")
        name = parts[0].strip()
        if name in users:
            raise ValueError(f"{where} : utilisateur « {name[:60]} » déjà défini ligne {lines[name]} ; une seule ligne par utilisateur.")
        admin = False
        teams: list[str] = []
        for field_ in parts[2:]:
            token = field_.strip()
            key, sep, value = token.partition("=")
            if not token:
                continue
            if token.lower() == "admin":
                admin = True
            elif sep and key.strip().lower() in {"team", "teams", "equipe", "équipe", "equipes", "équipes"}:
                for team in _team_names(value, where):
                    team = spellings.setdefault(" ".join(team.split()).casefold(), team)
                    if team not in teams:
                        teams.append(team)
            else:
                raise ValueError(f"{where} : champ « {token[:60]} » inconnu ; après le hash sont permis « admin » et « team=Nom de l'équipe » "
                                 "(plusieurs équipes séparées par des virgules).")
        digest = parts[1].strip()
        if not digest.isascii():
            raise ValueError(f"{where} : hash bcrypt avec des caractères non ASCII ; format attendu « {USERS_FORMAT} ».")
        users[name] = UserAccount(name, digest.encode("ascii"), admin, tuple(teams))
        lines[name] = number
    if not users:
        raise ValueError(f"{path} : aucun utilisateur défini.")
    return users

