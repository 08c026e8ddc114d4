"""Gradio Blocks: Chat, Rédaction, Projet de convention, Corpus.

Handlers are methods of :class:`Handlers`, callable without a browser (tests call them directly);
each returns a tuple in the order of its ``*_OUTPUTS`` names, which :func:`build_ui` maps to
components. The logic lives in ``rag/`` (answer, draft, export, index, workspace); handlers only
validate what comes from the client, pick the user's workspace from the login and format results.
Everything that came from a document, a file name or a model is escaped before it is rendered.
"""

from __future__ import annotations

import atexit
import html
import logging
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from rag.answer import Answer, Delta, sanitise_model_text  # noqa: E402
from rag.retrieve import Filters  # noqa: E402
from rag.workspace import Workspace, discard_upload, load_users, prune_uploads, safe_user_id, stage_upload  # noqa: E402

# an unreferenced staged upload younger than this may still be waiting for the index lock
UPLOAD_GRACE_S = 600

log = logging.getLogger(__name__)

KIND_LABELS = {
    "law": "Loi", "decree": "Décret", "agreement": "Convention collective", "intl_convention": "Convention OIT",
    "press": "Presse", "project": "Fiche du projet", "clause": "Modèle de clause (proposition syndicale)", "other": "Autre",
}
FILTER_KINDS = ("law", "decree", "agreement", "intl_convention", "press", "project")
LANG_LABELS = {"fr": "Français", "ar": "العربية", "en": "English"}
VARIANT_LABELS = {"floor": "Plancher (minimum légal)", "target": "Cible", "ambitious": "Ambitieuse"}
VARIANT_ALIASES = {"plancher": "floor", "cible": "target", "ambitieuse": "ambitious", "floor": "floor", "target": "target", "ambitious": "ambitious"}
RESULT_LABELS = {"indexed": "indexé", "skipped": "inchangé", "failed": "échec"}
CHECK_STYLE = {
    "ok": ("✔", "check-ok", "conforme", "color:#1a7f37"),
    "below_floor": ("✘", "check-below", "sous le plancher légal", "color:#cf222e;font-weight:600"),
    "unverified": ("?", "check-unverified", "non vérifié", "color:#6e7781"),
}

MAX_UPLOADS = 50
MAX_DEMANDS = 20
MAX_DEMAND_CHARS = 500
MAX_CONTEXT_CHARS = 2000
MAX_TOPIC_CHARS = 200
HISTORY_TURNS = 3
DOWNLOAD_TTL_S = 3600

# ---- output orders (component names) --------------------------------------------------------------
CHAT_OUTPUTS = ("chatbot", "message", "conversation", "chips", "cited", "excerpt_title", "excerpt_text", "conversations", "chat_notice")
CITATION_OUTPUTS = ("excerpt_title", "excerpt_text")
SELECT_OUTPUTS = ("chips", "cited", "excerpt_title", "excerpt_text")
DRAFT_OUTPUTS = ("clause", "clause_title", "clause_text", "checks", "comparison", "clause_citations", "rationale", "draft_warnings", "draft_notice")
PROJECT_OUTPUTS = ("project_title", "project_preamble", "project_table", "clause_pick", "project_preview", "project_notice")
ADD_OUTPUTS = ("draft_notice",) + PROJECT_OUTPUTS
EXPORT_OUTPUTS = ("export_file", "project_notice")
CORPUS_OUTPUTS = ("index_results", "documents", "remove_pick", "source", "status", "corpus_notice")
LOAD_OUTPUTS = ("status", "conversations", "source", "documents", "remove_pick", "admin_box", "admin_notice") + PROJECT_OUTPUTS

COMPARISON_HEADERS = ["Paramètre", "Plancher légal", "Projet", "Statut", "Comparable"]
PROJECT_HEADERS = ["N°", "Clause", "Variante", "Points sous le plancher", "Ajoutée le"]
RESULT_HEADERS = ["Fichier", "Résultat", "Détail"]
DOCUMENT_HEADERS = ["Fichier", "Titre", "Type", "Langue", "Articles", "Passages", "État"]

CSS = """
#chatbot .message, #chatbot .message p, #chatbot .message li, .bidi, .bidi textarea, .bidi input, textarea {
  unicode-bidi: plaintext; text-align: start;
}
[dir=rtl] #chatbot .message, [dir=rtl] .bidi { direction: rtl; }
.floor-checks { list-style: none; padding-left: 0; margin: 0; }
.floor-checks li { margin: .3em 0; line-height: 1.35; }
.check-ok { color: #1a7f37; }
.check-below { color: #cf222e; font-weight: 600; }
.check-unverified { color: #6e7781; }
.clause-citations details { margin: .3em 0; }
.clause-citations pre { white-space: pre-wrap; unicode-bidi: plaintext; font-size: .9em; }
#status-line { font-size: .9em; opacity: .85; }
"""

# Interface language: French by default; labels switch to English or Arabic (and the page to RTL).
TEXTS: dict[str, tuple[str, str, str]] = {
    "tab_chat": ("Chat", "Chat", "المحادثة"),
    "tab_draft": ("Rédaction", "Drafting", "الصياغة"),
    "tab_project": ("Projet de convention", "Draft agreement", "مشروع الاتفاقية"),
    "tab_corpus": ("Corpus", "Corpus", "المتن"),
    "ui_lang": ("Langue de l'interface", "Interface language", "لغة الواجهة"),
    "conversations": ("Conversations", "Conversations", "المحادثات"),
    "new_conv": ("Nouvelle conversation", "New conversation", "محادثة جديدة"),
    "delete_conv": ("Supprimer la conversation", "Delete conversation", "حذف المحادثة"),
    "filters": ("Filtres de recherche", "Search filters", "مرشحات البحث"),
    "kinds": ("Types de textes", "Kinds of text", "أنواع النصوص"),
    "langs": ("Langues des textes", "Text languages", "لغات النصوص"),
    "source": ("Un seul texte", "One text only", "نص واحد فقط"),
    "chatbot": ("Réponses (chaque affirmation cite son article)", "Answers (each statement cites its article)", "الأجوبة (كل معلومة مع مادتها)"),
    "message": ("Votre question (français, arabe ou anglais)", "Your question (French, Arabic or English)", "سؤالك (بالفرنسية أو العربية أو الإنجليزية)"),
    "send": ("Envoyer", "Send", "إرسال"),
    "chips": ("Sources citées : cliquez pour lire l'extrait", "Cited sources: click to read the excerpt", "المصادر: انقر لقراءة المقتطف"),
    "excerpt_text": ("Extrait cité", "Cited excerpt", "المقتطف"),
    "library_topic": ("Thème de la bibliothèque", "Library topic", "موضوع من المكتبة"),
    "free_topic": ("… ou thème libre (hors bibliothèque)", "… or free topic (outside the library)", "… أو موضوع حر"),
    "demands": ("Revendications (une par ligne)", "Demands (one per line)", "المطالب (واحد في كل سطر)"),
    "context": ("Contexte (facultatif)", "Context (optional)", "السياق (اختياري)"),
    "variant": ("Variante", "Variant", "الصيغة"),
    "use_model": ("Exposé des motifs rédigé par le modèle (plus lent)", "Rationale written by the model (slower)", "تعليل يكتبه النموذج (أبطأ)"),
    "draft_btn": ("Rédiger", "Draft", "صياغة"),
    "clause_text": ("Texte de la clause (modifiable)", "Clause text (editable)", "نص البند (قابل للتعديل)"),
    "comparison": ("Comparaison avec la loi et les conventions", "Comparison with the law and agreements", "مقارنة مع القانون والاتفاقيات"),
    "add_btn": ("Ajouter au projet", "Add to the agreement", "إضافة إلى المشروع"),
    "project_title": ("Titre de la convention", "Agreement title", "عنوان الاتفاقية"),
    "project_preamble": ("Préambule", "Preamble", "الديباجة"),
    "save_meta": ("Enregistrer titre et préambule", "Save title and preamble", "حفظ العنوان والديباجة"),
    "project_table": ("Clauses du projet, dans l'ordre", "Clauses of the agreement, in order", "بنود المشروع بالترتيب"),
    "clause_pick": ("Clause", "Clause", "البند"),
    "up": ("↑ Monter", "↑ Move up", "↑ إلى الأعلى"),
    "down": ("↓ Descendre", "↓ Move down", "↓ إلى الأسفل"),
    "remove_clause": ("Retirer du projet", "Remove from the agreement", "حذف من المشروع"),
    "export_md": ("Exporter en Markdown", "Export as Markdown", "تصدير Markdown"),
    "export_docx": ("Exporter en Word (DOCX)", "Export as Word (DOCX)", "تصدير Word"),
    "export_file": ("Fichier exporté", "Exported file", "الملف المصدَّر"),
    "project_preview": ("Aperçu (Markdown)", "Preview (Markdown)", "معاينة"),
    "upload": ("Fichiers à indexer (PDF, DOCX, MD, TXT)", "Files to index (PDF, DOCX, MD, TXT)", "ملفات للفهرسة (PDF, DOCX, MD, TXT)"),
    "index_btn": ("Indexer", "Index", "فهرسة"),
    "reindex_btn": ("Tout ré-indexer", "Re-index everything", "إعادة فهرسة الكل"),
    "index_results": ("Résultat par fichier", "Result per file", "النتيجة لكل ملف"),
    "documents": ("Textes indexés", "Indexed texts", "النصوص المفهرسة"),
    "remove_pick": ("Texte à retirer", "Text to remove", "النص المراد حذفه"),
    "remove_doc": ("Retirer ce texte", "Remove this text", "حذف هذا النص"),
}
LANG_INDEX = {"fr": 0, "en": 1, "ar": 2}
EXAMPLE_QUESTIONS = (
    "Combien d'heures par semaine au maximum ?",
    "Quel est le taux de la prime d'ancienneté après 7 ans ?",
    "Combien de délégués des salariés pour 320 salariés ?",
    "ما هي مدة الراحة الأسبوعية؟",
    "What is the overtime premium at night?",
)


def tr(key: str, lang: str = "fr") -> str:
    return TEXTS[key][LANG_INDEX.get(lang, 0)]


# ---- rendering helpers ---------------------------------------------------------------------------
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>!|#~])")


def md_escape(text: object) -> str:
    """Text shown inside Markdown as typed: no markup, no HTML, no image or link syntax."""
    return _MD_SPECIAL.sub(r"\\\1", str(text or ""))


def esc(text: object) -> str:
    return html.escape(str(text or ""), quote=True)


def fr_int(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")


def checks_html(checks: list[dict]) -> str:
    """Floor checks as a coloured list: green ✔ ok, red ✘ below the floor (with its article), grey ? unverified."""
    if not checks:
        return "<p class='check-unverified'>Aucun chiffre à comparer avec un plancher légal.</p>"
    items = []
    for check in checks:
        mark, css, word, style = CHECK_STYLE.get(check.get("status", ""), CHECK_STYLE["unverified"])
        article = f" — art. {esc(check['article'])}" if check.get("article") else ""
        items.append(f"<li class='{css}' style='{style}'><b>{mark}</b> <span class='bidi'>{esc(check.get('message'))}</span>"
                     f"<small> ({esc(word)}{article})</small></li>")
    return "<ul class='floor-checks'>" + "".join(items) + "</ul>"


def citations_html(citations: list[dict]) -> str:
    if not citations:
        return "<p class='check-unverified'>Aucune référence résolue dans le corpus indexé.</p>"
    parts = []
    for c in citations:
        where = " · ".join(x for x in (esc(c.get("title")), f"art. {esc(c['article'])}" if c.get("article") else "", f"p. {esc(c['page'])}" if c.get("page") else "") if x)
        parts.append(f"<details><summary><b>{esc(c.get('label'))}</b> — {where}</summary><pre>{esc(c.get('text'))}</pre></details>")
    return "<div class='clause-citations'>" + "".join(parts) + "</div>"


def quote_markdown(quote: dict) -> str:
    """« decisive sentence » — reference, the figures in bold; the sentence is the source's own text."""
    from rag.figures import NUMBER, canonical_number

    body = str(quote.get("text", ""))
    figures = set(quote.get("figures") or [])
    out, last = [], 0
    for match in NUMBER.finditer(body):
        if canonical_number(match.group(1)) in figures:
            out += [md_escape(body[last:match.start()]), f"**{md_escape(match.group(1))}**"]
            last = match.end()
    out.append(md_escape(body[last:]))
    return f"> « {''.join(out)} » — *{md_escape(quote.get('label') or quote.get('source', ''))}*"


def assistant_display(message: dict) -> str:
    """What the chat bubble shows: the checked answer, the decisive quotes, then its warnings."""
    text = str(message.get("content", ""))
    quotes = message.get("quotes") or []
    if quotes:
        text += "\n\n" + "\n>\n".join(quote_markdown(q) for q in quotes)
    warnings = message.get("warnings") or []
    if warnings:
        text += "\n\n" + "\n".join(f"> ⚠ {md_escape(w)}" for w in warnings)
    return text


def chat_messages(conversation: dict | None) -> list[dict]:
    out = []
    for m in (conversation or {}).get("messages", []):
        role = "assistant" if m.get("role") == "assistant" else "user"
        out.append({"role": role, "content": assistant_display(m) if role == "assistant" else str(m.get("content", ""))})
    return out


def chip_update(citations: list[dict]) -> dict:
    return gr.update(choices=[(f"[{n}] {c.get('label') or c.get('source', '')}", str(n - 1)) for n, c in enumerate(citations, start=1)], value=None)


def excerpt(citation: dict | None) -> tuple[str, str]:
    if not citation:
        return "", ""
    details = [md_escape(citation.get("title") or citation.get("source"))]
    if citation.get("article"):
        details.append(f"art. {md_escape(citation['article'])}")
    if citation.get("page"):
        details.append(f"p. {md_escape(citation['page'])}")
    details.append(f"fichier : {md_escape(citation.get('source'))}")
    return f"**{md_escape(citation.get('label'))}**  \n" + " · ".join(details), str(citation.get("text", ""))


def disk_nearly_full(path: Path, margin: int = 32 * 1024 * 1024) -> bool:
    """Whether the disk holding ``path`` has less than ``margin`` bytes free. A store write that
    failed there was a full disk, whatever the database says ("Error in compaction…")."""
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free < margin
    except OSError:
        return False


def describe_error(exc: BaseException, folder: Path | None = None) -> str:
    """A French sentence for the user; the traceback goes to the log only. ``folder``: where the
    failed operation was writing (a full disk there explains a database's vaguer error)."""
    import errno

    from rag.index import StoreError
    from rag.models import ModelUnavailable
    from rag.offline import AssetError

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG) or (folder is not None and disk_nearly_full(folder)):
        return "disque plein : libérez de la place puis réessayez (ce qui était déjà enregistré est intact)"
    if isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"dossier en lecture seule ou sans droit d'écriture ({exc.filename or 'dossier de données'})"
    if isinstance(exc, (ModelUnavailable, AssetError, StoreError)):
        return str(exc)
    if isinstance(exc, ImportError):
        return "le moteur du modèle local n'est pas installé (llama-cpp-python) : lancez `make install`."
    if isinstance(exc, MemoryError):
        return "mémoire insuffisante pour charger ou faire tourner le modèle."
    name = type(exc).__name__
    if isinstance(exc, (TimeoutError, ConnectionError)):
        return "le serveur de modèle est injoignable ou ne répond pas."
    return f"erreur inattendue ({name}) ; le détail est dans le journal du serveur."


def _file_path(item: Any) -> Path | None:
    """A path from what gr.File gives (a str path) or what an API client may send."""
    if item is None:
        return None
    if isinstance(item, (str, Path)):
        return Path(item)
    for attr in ("path", "name"):
        value = item.get(attr) if isinstance(item, dict) else getattr(item, attr, None)
        if value:
            return Path(str(value))
    return None


def _hostname(host_header: str) -> str:
    """'127.0.0.1:7860' → '127.0.0.1', '[::1]:7860' → '::1', 'Example.LAN' → 'example.lan'."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _same_origin(origin: str, hosts: list[str]) -> bool:
    """Whether a browser's ``Origin`` names the host:port the request was sent to (the scheme is
    not compared: behind a TLS proxy the page is https and the app sees http)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return False
    if not parts.hostname or parts.scheme not in ("http", "https"):
        return False  # "null" (sandboxed frame, file:// page) and anything odd
    default = {"http": 80, "https": 443}[parts.scheme]
    name = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    wanted = name if port in (None, default) else f"{name}:{port}"
    for host in hosts:
        host = host.strip().lower()
        if host and (host == wanted or host in (f"{wanted}:80", f"{wanted}:443")):
            return True
    return False


class DownloadGuard:
    """Who may fetch which export from Gradio's file cache.

    Gradio copies every returned file into a shared cache folder named by a hash of its content and
    serves it to anyone who has the URL. The hash of each export is recorded with its owner here,
    and :class:`SecurityHeaders` refuses that cached file to any other logged-in user.
    """

    def __init__(self) -> None:
        self._owners: dict[str, set[str]] = {}

    @staticmethod
    def key(path: Path) -> str:
        from gradio.processing_utils import hash_file

        return hash_file(path)

    def grant(self, path: Path, user: str) -> None:
        self._owners.setdefault(self.key(path), set()).add(safe_user_id(user))

    def scan(self, data_dir: Path) -> int:
        """Re-learn owners from the exports on disk (after a restart the cache may still hold them)."""
        count = 0
        for path in Path(data_dir).glob("*/exports/*"):
            if path.is_file() and not path.name.startswith("."):
                self.grant(path, path.parent.parent.name)
                count += 1
        return count

    def allowed(self, cached_path: str, user: str | None) -> bool:
        owners = self._owners.get(Path(cached_path).parent.name)
        return owners is None or safe_user_id(user) in owners


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class SecurityHeaders:
    """ASGI middleware: a Content-Security-Policy (no remote images, scripts or connections) and the
    per-user check of cached exports. Passed to ``launch(app_kwargs={"middleware": [...]})``.

    It also closes three doors Gradio leaves open: ``/file=http://…`` makes the server fetch a
    public URL itself (an offline app must never go out); when the app is reached under any name
    other than a loopback one, Gradio's CORS layer (outside this one) echoes every foreign
    ``Origin`` with credentials, so any site could read a logged-in negotiator's data or run a
    handler: every request sent by a page of another origin (``null`` included) is refused here;
    and a server listening on 127.0.0.1 answers any ``Host``, which lets a web page re-point its
    own domain at 127.0.0.1 (DNS rebinding): without login, only loopback names are then accepted.
    """

    CSP = (
        "default-src 'self'; img-src 'self' data: blob:; media-src 'self' data: blob:; "
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
        "font-src 'self' data:; connect-src 'self' ws: wss:; worker-src 'self' blob:; "
        "frame-ancestors 'self'; object-src 'none'; base-uri 'self'; form-action 'self'"
    )

    FILE_ROUTE = re.compile(r"^.*?/(?:file=|file/|proxy=)(.*)$", re.S)
    REMOTE = re.compile(r"\s*(?:[a-z][a-z0-9+.-]*:|//|\\\\)", re.I)  # a scheme, //host or \\host

    def __init__(self, app, guard: DownloadGuard | None = None, allowed_hosts: frozenset[str] | None = None):
        self.app = app
        self.guard = guard
        self.allowed_hosts = allowed_hosts  # None: any Host (the app listens on a LAN name)

    @staticmethod
    async def _refuse(scope, receive, send, status: int, text: str):
        from starlette.responses import PlainTextResponse

        return await PlainTextResponse(text, status_code=status)(scope, receive, send)

    async def __call__(self, scope, receive, send):
        if scope.get("type") not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        if self.allowed_hosts is not None and _hostname(host) not in self.allowed_hosts:
            if scope["type"] == "websocket":
                return await send({"type": "websocket.close", "code": 1008})
            return await self._refuse(scope, receive, send, 421, "Adresse refusée : Ittifaq n'accepte que les connexions adressées à 127.0.0.1 ou localhost.")
        if scope["type"] == "websocket":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        route = self.FILE_ROUTE.match(path)
        if route and self.REMOTE.match(route.group(1)):
            return await self._refuse(scope, receive, send, 403, "Accès refusé : Ittifaq ne télécharge aucun fichier depuis le réseau.")
        origin = headers.get("origin")
        # X-Forwarded-Host is not trusted: a page can set it (Gradio grants any preflight on a LAN
        # name); a reverse proxy must pass the Host header through (nginx: proxy_set_header Host $host)
        if origin is not None and not _same_origin(origin, [host]):
            return await self._refuse(scope, receive, send, 403, "Requête refusée : elle vient d'une page d'un autre site.")
        if self.guard is not None:
            match = re.search(r"/file[=/](.+)$", path)
            if match and not self.guard.allowed(match.group(1), self._user(scope)):
                from starlette.responses import PlainTextResponse

                return await PlainTextResponse("Accès refusé : ce fichier appartient à un autre utilisateur.", status_code=403)(scope, receive, send)

        async def send_with_headers(message):
            if message.get("type") == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", self.CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"SAMEORIGIN"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        return await self.app(scope, receive, send_with_headers)

    @staticmethod
    def _user(scope) -> str | None:
        """The logged-in user, as Gradio itself reads it (its access-token cookie); None without login."""
        app = scope.get("app")
        if app is None or getattr(app, "auth", None) is None:
            return None
        from starlette.requests import Request

        cookies = Request(scope).cookies
        cookie_id = getattr(app, "cookie_id", "")
        token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
        return getattr(app, "tokens", {}).get(token) or "\x00anonymous"


class Handlers:
    """Every event of the interface. ``request`` gives the login (``request.username``)."""

    def __init__(self, engine, settings, users: dict | None = None, guard: DownloadGuard | None = None):
        self.engine = engine
        self.settings = settings
        if users is None and settings.users_file:
            users = load_users(settings.users_file)
        self.users = users
        self.guard = guard or DownloadGuard()
        self.download_root = Path(tempfile.mkdtemp(prefix="ittifaq-downloads-"))
        atexit.register(shutil.rmtree, self.download_root, True)
        library = engine.library() if callable(getattr(engine, "library", None)) else None
        self.library = library.templates if library is not None else []
        self.library_problems = library.problems if library is not None else {}
        for name, problem in self.library_problems.items():
            log.error("clause library: %s: %s", name, problem)

    # ---- who is asking ---------------------------------------------------------------------
    @staticmethod
    def user_of(request: gr.Request | None) -> str | None:
        name = getattr(request, "username", None) if request is not None else None
        return name or None

    def workspace(self, request: gr.Request | None) -> Workspace:
        return Workspace(self.settings.data_dir, self.user_of(request))

    def is_admin(self, request: gr.Request | None) -> bool:
        if not self.users:
            return True  # no login: the single local user manages the corpus
        account = self.users.get(self.user_of(request) or "")
        return bool(account and account.admin)

    # ---- status ----------------------------------------------------------------------------
    def status_line(self) -> str:
        """One line in a negotiator's words: what is indexed, what is missing, whether the model is ready."""
        from rag.overview import corpus_overview

        s = self.settings
        chat = self.engine._chat if getattr(self.engine, "chat_loaded", False) else None
        if s.llm_backend == "openai":
            model = f"serveur de modèle de la fédération ({s.openai_model})"
        else:
            model = "modèle local, hors ligne (" + ("prêt" if chat is not None else "se prépare pour la première question") + ")"
        try:
            overview = corpus_overview(self.engine.index)
            corpus = f"{md_escape(overview.kinds_phrase())} ({fr_int(overview.passages)} passages)"
            if overview.missing:
                corpus += " · **manquent** : " + ", ".join(md_escape(m.title.split(" (")[0].split(",")[0]) for m in overview.missing)
        except Exception as exc:
            corpus = f"illisible ({md_escape(describe_error(exc))})"
        return f"**Textes indexés** : {corpus} · **Réponses** : {md_escape(model)}"

    def welcome_markdown(self) -> str:
        """The first-run panel: what the assistant answers from, what is missing and where to get it."""
        from rag.overview import corpus_overview

        try:
            overview = corpus_overview(self.engine.index)
        except Exception as exc:
            return f"⚠ Le corpus est illisible : {md_escape(describe_error(exc))}"
        lines = [f"**Bienvenue.** Ittifaq répond à partir des textes indexés ici — {md_escape(overview.kinds_phrase())} — "
                 "et cite l'article de chaque affirmation ; l'extrait est à un clic."]
        if not overview.has_law():
            lines.append("⚠ **Le Code du travail n'est pas encore indexé** : les réponses ne s'appuient pour l'instant que sur les fiches "
                         "du projet. Importez le texte officiel dans l'onglet Corpus.")
        if overview.missing:
            lines.append("Textes officiels à importer (onglet **Corpus**) :")
            lines += [f"- {md_escape(m.title)} — {md_escape(m.obtain)}" for m in overview.missing]
        for name, problem in getattr(self, "library_problems", {}).items():
            lines.append(f"⚠ {md_escape(name)} : {md_escape(problem)} — les autres modèles restent disponibles.")
        lines.append("Exemples de questions (cliquez) :")
        return "\n\n".join(lines[:2]) + ("\n\n" + "\n".join(lines[2:]) if len(lines) > 2 else "")

    # ---- chat ------------------------------------------------------------------------------
    def check_message(self, text: str | None) -> str | None:
        """Why a message is refused before the model, or None."""
        text = text if isinstance(text, str) else ""
        if not text.strip():
            return "Message vide : écrivez une question avant d'envoyer."
        limit = self.settings.max_message_chars
        if len(text) > limit:
            return f"Message trop long ({fr_int(len(text))} caractères) : la limite est de {fr_int(limit)} caractères. Raccourcissez la question ou découpez-la."
        return None

    def filters(self, kinds, langs, source) -> Filters:
        """Filters from the client, kept only where they name something that exists."""
        kinds = [k for k in (kinds or []) if k in FILTER_KINDS]
        langs = [lang for lang in (langs or []) if lang in LANG_LABELS]
        known = {d.source for d in self.engine.index.documents()}
        sources = [source] if isinstance(source, str) and source in known else []
        return Filters(kinds=kinds, langs=langs, sources=sources)

    def source_choices(self) -> list[tuple[str, str]]:
        docs = self.engine.index.documents()
        return [("Tous les textes", "")] + [(f"{d.title} ({d.source})" if d.title and d.title != d.source else d.source, d.source) for d in docs]

    def conversation_choices(self, ws: Workspace) -> list[tuple[str, str]]:
        return [(f"{c['title']} · {c['updated'][:16].replace('T', ' ')}", c["id"]) for c in ws.list_conversations()]

    def _conversation(self, ws: Workspace, conversation: dict | None) -> dict:
        """The conversation held in the session, re-read from the user's own folder when saved."""
        if isinstance(conversation, dict) and conversation.get("id"):
            stored = ws.load_conversation(conversation["id"])
            if stored is not None:
                return stored
            if not conversation.get("messages") and isinstance(conversation.get("id"), str) and re.fullmatch(r"[0-9a-f]{32}", conversation["id"]):
                return conversation
        return ws.new_conversation()

    def _chat_state(self, ws: Workspace, conversation: dict, notice: str = "", message: Any = "", citations: list[dict] | None = None, listing: bool = True) -> tuple:
        if listing:  # reads every conversation file: not on each streamed piece
            choices = self.conversation_choices(ws)
            conv_list = gr.update(choices=choices, value=conversation["id"] if any(v == conversation["id"] for _, v in choices) else None)
        else:
            conv_list = gr.update()
        citations = citations or []
        return (chat_messages(conversation), message, conversation, chip_update(citations), citations, "", "", conv_list, notice)

    def chat_submit(self, message, conversation, kinds=None, langs=None, source=None, request: gr.Request | None = None):
        """Stream a grounded answer; refuse empty or too long messages before the model."""
        ws = self.workspace(request)
        conversation = self._conversation(ws, conversation)
        problem = self.check_message(message)
        if problem:
            state = self._chat_state(ws, conversation, notice=f"⚠ {problem}", message=message if isinstance(message, str) else "", listing=False)
            keep = gr.update()  # the chips and the excerpt of the previous answer stay as they were
            yield state[:3] + (keep, keep, keep, keep) + state[7:]
            return
        question = message.strip()
        previous = conversation["messages"]
        history = [
            (q["content"], a["content"]) for q, a in zip(previous[::2], previous[1::2])
            if q.get("role") == "user" and a.get("role") == "assistant"
        ][-HISTORY_TURNS:]
        reply = {"role": "assistant", "content": "…", "citations": [], "warnings": []}
        conversation["messages"] += [{"role": "user", "content": question}, reply]
        yield self._chat_state(ws, conversation, notice="Recherche dans les textes indexés…", listing=False)
        saved = False
        try:
            filters = self.filters(kinds, langs, source)
            answer = None
            pieces: list[str] = []
            last = 0.0
            for event in self.engine.chat_engine().stream(question, history, filters):
                if isinstance(event, Delta):
                    pieces.append(event.text)
                    if time.monotonic() - last > 0.08:
                        last = time.monotonic()
                        reply["content"] = sanitise_model_text("".join(pieces)) + " ▌"
                        yield self._chat_state(ws, conversation, notice="Rédaction de la réponse…", listing=False)
                elif isinstance(event, Answer):
                    answer = event
            if answer is None:
                raise RuntimeError("no final answer")
            reply["content"] = answer.text
            reply["citations"] = [c.to_json() for c in answer.citations]
            reply["quotes"] = [q.to_json() for q in answer.quotes]
            reply["checks"] = [c.to_json() for c in answer.checks]
            if answer.calculation:
                reply["calculation"] = answer.calculation
            reply["warnings"] = list(answer.warnings)
            reply["not_found"] = answer.not_found
            reply["partial"] = answer.partial
            notice = ""
        except Exception as exc:
            log.exception("chat failed")
            reply["content"] = f"⚠ Le modèle n'a pas pu répondre : {describe_error(exc)}"
            reply["citations"], reply["warnings"] = [], []
            notice = ""
        finally:
            # also when the browser leaves mid-answer (generator closed): keep what was said
            if reply["content"].endswith(" ▌"):
                reply["content"] = reply["content"][:-2] + "\n\n*(réponse interrompue)*"
            try:
                ws.save_conversation(conversation)
                saved = True
            except OSError as exc:
                log.error("conversation not saved: %s", exc)
        if not saved:
            notice = "⚠ La conversation n'a pas pu être enregistrée (disque plein ou dossier en lecture seule)."
        yield self._chat_state(ws, conversation, notice=notice, citations=reply["citations"])

    def show_citation(self, choice, cited):
        """The excerpt behind a citation chip."""
        try:
            citation = (cited or [])[int(choice)]
        except (TypeError, ValueError, IndexError):
            return "", ""
        return excerpt(citation if isinstance(citation, dict) else None)

    def select_message(self, conversation, evt: gr.SelectData):
        """Clicking an answer puts its citations in the chips."""
        messages = (conversation or {}).get("messages", [])
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        citations = []
        if isinstance(index, int) and 0 <= index < len(messages) and messages[index].get("role") == "assistant":
            citations = messages[index].get("citations") or []
        return chip_update(citations), citations, "", ""

    def new_conversation(self, request: gr.Request | None = None):
        ws = self.workspace(request)
        return self._chat_state(ws, ws.new_conversation())

    def open_conversation(self, conv_id, request: gr.Request | None = None):
        ws = self.workspace(request)
        conversation = ws.load_conversation(conv_id) if isinstance(conv_id, str) else None
        if conversation is None:
            return self._chat_state(ws, ws.new_conversation())
        last = next((m for m in reversed(conversation["messages"]) if m.get("role") == "assistant"), {})
        return self._chat_state(ws, conversation, citations=last.get("citations") or [])

    def delete_conversation(self, conversation, request: gr.Request | None = None):
        ws = self.workspace(request)
        if isinstance(conversation, dict) and isinstance(conversation.get("id"), str):
            ws.delete_conversation(conversation["id"])
        return self._chat_state(ws, ws.new_conversation(), notice="Conversation supprimée.")

    # ---- drafting --------------------------------------------------------------------------
    def library_choices(self) -> list[tuple[str, str]]:
        return [(t.title, t.id) for t in self.library]

    def _drafter(self, use_model: bool):
        if use_model:
            try:
                return self.engine.drafter(with_model=True), []
            except Exception as exc:
                log.warning("drafting without model: %s", exc)
                return self.engine.drafter(with_model=False), [f"Modèle indisponible ({describe_error(exc)}) : clause rédigée sans exposé des motifs."]
        return self.engine.drafter(with_model=False), []

    def draft_clause(self, library_topic, free_topic, demands, context, variant, use_model=True, request: gr.Request | None = None):
        """Draft a clause from a library topic (or a free topic) and the negotiators' demands."""
        empty = (None, "", "", "", [], "", "", "")
        topic = (free_topic or "").strip() if isinstance(free_topic, str) else ""
        topic = topic or (library_topic.strip() if isinstance(library_topic, str) else "")
        lines = [d.strip() for d in (demands if isinstance(demands, str) else "").splitlines() if d.strip()]
        context = context if isinstance(context, str) else ""
        problem = None
        if not topic:
            problem = "Choisissez un thème de la bibliothèque ou écrivez un thème libre."
        elif len(topic) > MAX_TOPIC_CHARS:
            problem = f"Thème trop long (plus de {MAX_TOPIC_CHARS} caractères)."
        elif len(lines) > MAX_DEMANDS or any(len(d) > MAX_DEMAND_CHARS for d in lines):
            problem = f"Au plus {MAX_DEMANDS} revendications de {MAX_DEMAND_CHARS} caractères chacune."
        elif len(context) > MAX_CONTEXT_CHARS:
            problem = f"Contexte trop long (plus de {fr_int(MAX_CONTEXT_CHARS)} caractères)."
        variant_key = VARIANT_ALIASES.get(str(variant or "target").strip().lower().split(" ")[0])
        if variant_key is None and not problem:
            problem = "Variante inconnue : plancher, cible ou ambitieuse."
        if problem:
            return empty + (f"⚠ {problem}",)
        drafter, notes = self._drafter(bool(use_model))
        try:
            clause = drafter.draft(topic, lines, context.strip(), variant_key)
        except ValueError as exc:
            return empty + (f"⚠ {md_escape(exc)}",)
        except Exception as exc:
            log.exception("drafting failed")
            return empty + (f"⚠ La rédaction a échoué : {md_escape(describe_error(exc))}",)
        data = clause.to_json()
        warnings = notes + list(clause.warnings)
        status_of = {"ok": "✔ conforme", "below_floor": "✘ sous le plancher", "unverified": "? non vérifié"}
        comparison = [[r.get("parameter", ""), r.get("legal_floor", ""), r.get("draft", ""), status_of.get(r.get("status"), r.get("status", "—")), r.get("comparable", "")] for r in clause.comparison]
        origin = f"bibliothèque : {clause.template_id}" if clause.template_id else "hors bibliothèque"
        title = f"### {md_escape(clause.title)}\n*{md_escape(origin)} · variante {md_escape(VARIANT_LABELS.get(clause.variant, clause.variant))}*"
        rationale = f"**Exposé des motifs** : {md_escape(clause.rationale)}" if clause.rationale else ""
        warnings_md = "\n".join(f"- ⚠ {md_escape(w)}" for w in warnings)
        notice = "Clause rédigée : relisez-la, corrigez le texte si besoin, puis ajoutez-la au projet." if clause.text else "⚠ Aucune clause proposée (voir les avertissements)."
        return (data, title, clause.text, checks_html(data["checks"]), comparison, citations_html(data["citations"]), rationale, warnings_md, notice)

    def add_to_project(self, clause, edited_text, request: gr.Request | None = None):
        """Save the drafted clause, with the negotiator's edits, into the user's agreement project."""
        ws = self.workspace(request)
        if not isinstance(clause, dict) or not clause.get("title"):
            return ("⚠ Rédigez d'abord une clause.",) + self._project_state(ws)
        data = dict(clause)
        text = edited_text if isinstance(edited_text, str) else data.get("text", "")
        if not text.strip():
            return ("⚠ Le texte de la clause est vide : rien n'a été ajouté.",) + self._project_state(ws)
        if text.strip() != str(data.get("text", "")).strip():
            data["text"] = text.strip()
            data["edited"] = True
            data["warnings"] = list(data.get("warnings") or []) + ["Texte modifié à la main après la rédaction : les contrôles de planchers portent sur la version générée."]
        try:
            project = ws.add_clause(data)
        except (ValueError, OSError) as exc:
            reason = describe_error(exc, self.settings.data_dir) if isinstance(exc, OSError) else str(exc)
            return (f"⚠ Clause non ajoutée : {md_escape(reason)}",) + self._project_state(ws)
        return (f"Clause « {md_escape(data['title'])} » ajoutée au projet (n° {len(project['clauses'])}).",) + self._project_state(ws)

    # ---- agreement project ----------------------------------------------------------------
    def _project_state(self, ws: Workspace, notice: str = "", pick: int | None = None) -> tuple:
        project = ws.load_project()
        rows, choices = [], []
        for n, c in enumerate(project["clauses"], start=1):
            below = sum(1 for k in c.get("checks") or [] if k.get("status") == "below_floor")
            rows.append([n, c.get("title", ""), VARIANT_LABELS.get(c.get("variant", ""), c.get("variant", "")), below, str(c.get("added", ""))[:16].replace("T", " ")])
            choices.append((f"{n}. {c.get('title', '')}", n - 1))
        if pick is not None and not (0 <= pick < len(choices)):
            pick = None
        try:
            from rag.export import agreement_markdown

            preview = agreement_markdown(ws.agreement())
        except Exception as exc:
            log.warning("preview failed: %s", exc)
            preview = ""
        return (project["title"], project["preamble"], rows, gr.update(choices=choices, value=pick), preview, notice)

    def project_view(self, request: gr.Request | None = None):
        return self._project_state(self.workspace(request))

    @staticmethod
    def _index(pick) -> int | None:
        try:
            return int(pick)
        except (TypeError, ValueError):
            return None

    def _not_saved(self, ws: Workspace, exc: OSError, pick: int | None = None) -> tuple:
        log.error("project not saved: %s", exc)
        return self._project_state(ws, notice=f"⚠ Modification non enregistrée : {md_escape(describe_error(exc, self.settings.data_dir))}.", pick=pick)

    def save_project_meta(self, title, preamble, request: gr.Request | None = None):
        ws = self.workspace(request)
        try:
            ws.set_project_meta(title if isinstance(title, str) else "", preamble if isinstance(preamble, str) else "")
        except OSError as exc:
            return self._not_saved(ws, exc)
        return self._project_state(ws, notice="Titre et préambule enregistrés.")

    def _move(self, pick, offset: int, request):
        ws = self.workspace(request)
        index = self._index(pick)
        count = len(ws.load_project()["clauses"])
        if index is None or not 0 <= index < count:
            return self._project_state(ws, notice="⚠ Choisissez d'abord une clause dans la liste.")
        if not 0 <= index + offset < count:
            return self._project_state(ws, notice="La clause est déjà à cette extrémité.", pick=index)
        try:
            ws.move_clause(index, offset)
        except OSError as exc:
            return self._not_saved(ws, exc, pick=index)
        return self._project_state(ws, pick=index + offset)

    def move_clause_up(self, pick, request: gr.Request | None = None):
        return self._move(pick, -1, request)

    def move_clause_down(self, pick, request: gr.Request | None = None):
        return self._move(pick, 1, request)

    def remove_clause(self, pick, request: gr.Request | None = None):
        ws = self.workspace(request)
        index = self._index(pick)
        project = ws.load_project()
        if index is None or not 0 <= index < len(project["clauses"]):
            return self._project_state(ws, notice="⚠ Choisissez d'abord une clause dans la liste.")
        title = project["clauses"][index].get("title", "")
        try:
            ws.remove_clause(index)
        except OSError as exc:
            return self._not_saved(ws, exc, pick=index)
        return self._project_state(ws, notice=f"Clause « {md_escape(title)} » retirée du projet.")

    def _download_copy(self, path: Path, user: str | None) -> Path:
        """A private copy for Gradio to serve (the user data folder itself is never served)."""
        cutoff = time.time() - DOWNLOAD_TTL_S
        for old in self.download_root.iterdir():
            try:
                if old.stat().st_mtime < cutoff:
                    shutil.rmtree(old, ignore_errors=True)
            except OSError:
                pass
        folder = Path(tempfile.mkdtemp(dir=self.download_root))
        copy = folder / path.name
        shutil.copyfile(path, copy)
        self.guard.grant(copy, user or "")
        return copy

    def export_project(self, fmt: str, title=None, preamble=None, request: gr.Request | None = None):
        ws = self.workspace(request)
        if fmt not in ("md", "docx"):
            return None, "⚠ Format inconnu."
        try:
            if title is not None or preamble is not None:
                ws.set_project_meta(title if isinstance(title, str) else "", preamble if isinstance(preamble, str) else "")
            if not ws.load_project()["clauses"]:
                return None, "⚠ Le projet ne contient encore aucune clause : ajoutez-en depuis l'onglet Rédaction."
            path = ws.export(fmt)
            copy = self._download_copy(path, self.user_of(request))
        except Exception as exc:
            log.exception("export failed")
            reason = describe_error(exc, self.settings.data_dir if isinstance(exc, OSError) else None)
            return None, f"⚠ Export impossible : {md_escape(reason)}. Aucun fichier incomplet n'a été laissé."
        return str(copy), f"Export prêt : {md_escape(path.name)} (enregistré aussi dans votre dossier d'exports)."

    def export_markdown(self, title=None, preamble=None, request: gr.Request | None = None):
        return self.export_project("md", title, preamble, request)

    def export_docx(self, title=None, preamble=None, request: gr.Request | None = None):
        return self.export_project("docx", title, preamble, request)

    # ---- corpus ----------------------------------------------------------------------------
    def document_rows(self) -> list[list]:
        from rag.ocr import uncertain_label

        unsure = self.engine.index.uncertain_pages()  # scans: « p. 4 : lecture incertaine »
        return [
            [d.source, d.title, KIND_LABELS.get(d.kind, d.kind), LANG_LABELS.get(d.lang, d.lang), d.articles, d.chunks,
             ("indexé" if d.status == "committed" else "interrompu : à ré-indexer") + (f" ; {uncertain_label(unsure[d.source])}" if d.source in unsure else "")]
            for d in self.engine.index.documents()
        ]

    def _corpus_state(self, results: list | None = None, notice: str = "") -> tuple:
        docs = self.engine.index.documents()
        remove = gr.update(choices=[d.source for d in docs], value=None)
        source = gr.update(choices=self.source_choices())
        return (results if results is not None else gr.update(), self.document_rows(), remove, source, self.status_line(), notice)

    def corpus_view(self):
        return self._corpus_state()

    @staticmethod
    def _progress(progress):
        if progress is None:
            return None

        def step(fraction: float, message: str) -> None:
            try:
                progress(max(0.0, min(1.0, fraction)), desc=message)
            except Exception:  # progress is cosmetic
                pass

        return step

    @staticmethod
    def _result_rows(results) -> list[list]:
        return [[r.source, RESULT_LABELS.get(r.status, r.status), r.message] for r in results]

    def _summary(self, results) -> str:
        counts = {s: sum(1 for r in results if r.status == s) for s in RESULT_LABELS}
        return f"{counts['indexed']} indexé(s), {counts['skipped']} inchangé(s), {counts['failed']} en échec."

    def index_uploads(self, files, request: gr.Request | None = None, progress=gr.Progress()):
        """Index uploaded files: each is copied under its cleaned name into a folder of our own first."""
        if not self.is_admin(request):
            return self._corpus_state(notice="⚠ Seuls les administrateurs peuvent ajouter des textes au corpus.")
        items = [p for p in (_file_path(f) for f in (files or [])) if p is not None]
        if not items:
            return self._corpus_state(notice="⚠ Choisissez d'abord un ou plusieurs fichiers.")
        if len(items) > MAX_UPLOADS:
            return self._corpus_state(notice=f"⚠ Au plus {MAX_UPLOADS} fichiers à la fois.")
        data_dir = self.settings.data_dir
        staged, rows = [], []
        for item in items:
            if not self.guard.allowed(str(item), self.user_of(request)):
                # an API client can name any file of Gradio's cache, including another user's export
                from rag.ingest import clean_filename

                rows.append([clean_filename(item.name), RESULT_LABELS["failed"], "Fichier refusé : il appartient à un autre utilisateur."])
                continue
            try:
                staged.append(stage_upload(data_dir, item))
            except OSError as exc:
                from rag.ingest import clean_filename

                if exc.errno in (28, 30) or disk_nearly_full(data_dir):  # ENOSPC, EROFS: our side, not the file
                    reason = f"Copie impossible : {describe_error(exc, data_dir)}."
                else:
                    reason = f"Fichier illisible : {exc.strerror or exc}."
                rows.append([clean_filename(item.name), RESULT_LABELS["failed"], reason])
        try:
            results = self.engine.index.index_paths(staged, progress=self._progress(progress)) if staged else []
        except Exception as exc:
            log.exception("indexing failed")
            for path in staged:
                discard_upload(data_dir, path)
            return self._corpus_state(rows, notice=f"⚠ Indexation interrompue : {md_escape(describe_error(exc, self.settings.store_dir))}")
        for path, result in zip(staged, results):
            if result.status != "indexed":
                discard_upload(data_dir, path)
        prune_uploads(data_dir, {d.path for d in self.engine.index.documents()}, min_age_s=UPLOAD_GRACE_S)
        return self._corpus_state(rows + self._result_rows(results), notice=self._summary(results))

    def reindex_all(self, request: gr.Request | None = None, progress=gr.Progress()):
        """Re-index the corpus folders and every recorded file that still exists (unchanged ones skipped)."""
        if not self.is_admin(request):
            return self._corpus_state(notice="⚠ Seuls les administrateurs peuvent ré-indexer le corpus.")
        folders = [Path(d) for d in self.settings.corpus_dirs if Path(d).is_dir()]
        paths: list[Path] = list(folders)
        for doc in self.engine.index.documents():
            path = Path(doc.path) if doc.path else None
            if path and path.is_file() and not any(path.resolve().is_relative_to(f.resolve()) for f in folders):
                paths.append(path)
        if not paths:
            return self._corpus_state([], notice="Rien à ré-indexer : aucun dossier de corpus ni fichier enregistré n'existe.")
        try:
            results = self.engine.index.index_paths(paths, progress=self._progress(progress), force=False)
        except Exception as exc:
            log.exception("re-indexing failed")
            return self._corpus_state(notice=f"⚠ Ré-indexation interrompue : {md_escape(describe_error(exc, self.settings.store_dir))}")
        return self._corpus_state(self._result_rows(results), notice=self._summary(results))

    def remove_document(self, source, request: gr.Request | None = None):
        if not self.is_admin(request):
            return self._corpus_state(notice="⚠ Seuls les administrateurs peuvent retirer des textes du corpus.")
        record = next((d for d in self.engine.index.documents() if d.source == source), None)
        if record is None:
            return self._corpus_state(notice="⚠ Choisissez d'abord un texte indexé.")
        try:
            self.engine.index.remove(record.source)
        except Exception as exc:
            log.exception("remove failed")
            return self._corpus_state(notice=f"⚠ Retrait impossible : {md_escape(describe_error(exc, self.settings.store_dir))}")
        if record.path:
            discard_upload(self.settings.data_dir, Path(record.path))
        return self._corpus_state(notice=f"Texte retiré : {md_escape(record.source)}.")

    # ---- page load / language --------------------------------------------------------------
    def on_load(self, request: gr.Request | None = None):
        ws = self.workspace(request)
        admin = self.is_admin(request)
        docs = self.engine.index.documents()
        admin_notice = "" if admin else "*Consultation seule : l'ajout et le retrait de textes sont réservés aux administrateurs.*"
        return (
            self.status_line(),
            gr.update(choices=self.conversation_choices(ws), value=None),
            gr.update(choices=self.source_choices(), value=""),
            self.document_rows(),
            gr.update(choices=[d.source for d in docs], value=None),
            gr.update(visible=admin),
            admin_notice,
        ) + self._project_state(ws)


def build_theme():
    # the default theme's fonts are served locally: nothing is fetched from a font CDN
    return gr.themes.Default(primary_hue="emerald", secondary_hue="slate")


def launch_options(settings, users: dict | None = None, guard: DownloadGuard | None = None) -> dict:
    """Everything ``launch()`` needs besides host, port, share, show_error and upload size.

    - login: bcrypt check with lockout when a users file is set;
    - files: nothing of the user data folder or of the store is served (both blocked); exports reach
      the browser as private copies checked by :class:`DownloadGuard`;
    - headers: Content-Security-Policy (no remote image can leak a draft), nosniff, no referrer;
      requests from pages of other origins refused, no ``/file=<url>`` fetches, loopback Host only
      when listening on loopback without login (see :class:`SecurityHeaders`);
    - no run history kept in the browser, no MCP endpoint, no PWA, no footer links;
    - css and theme (Gradio 6 takes them here, not in Blocks).
    """
    from starlette.middleware import Middleware

    from rag.workspace import Authenticator

    blocked = [str(Path(settings.data_dir).resolve())]
    if not settings.chroma_url:
        blocked.append(str(Path(settings.store_dir).resolve()))
    # DNS rebinding: without login, a server on loopback answers only loopback names. With login, a
    # rebinding page has no session cookie (cookies belong to the real host name), and the
    # reverse proxy of deploy/ sends the public name as Host: any name is then accepted.
    allowed_hosts = LOOPBACK_HOSTS if settings.host in LOOPBACK_HOSTS and not users else None
    return {
        "auth": Authenticator(users) if users else None,
        "auth_message": "Ittifaq — connectez-vous avec votre identifiant." if users else None,
        "allowed_paths": [],
        "blocked_paths": blocked,
        "app_kwargs": {"middleware": [Middleware(SecurityHeaders, guard=guard, allowed_hosts=allowed_hosts)]},
        "footer_links": [],
        "run_history": False,
        "mcp_server": False,
        "pwa": False,
        "ssr_mode": False,
        "css": CSS,
        "theme": build_theme(),
    }


def launch(demo: gr.Blocks, settings, users: dict | None = None, guard: DownloadGuard | None = None, **extra):
    """Start the server the only way Ittifaq allows: on ``settings.host:settings.port``, never with a
    public share link (``GRADIO_SHARE`` is overridden), errors not shown to browsers, uploads capped.

    ``extra`` is for tests and benchmarks (``prevent_thread_lock``, ``quiet``, another port)."""
    if extra.pop("share", False):
        raise ValueError("Les liens de partage publics (share=True) sont interdits : les projets de convention sont confidentiels.")
    options = {
        "server_name": settings.host,
        "server_port": settings.port,
        "show_error": False,
        "inbrowser": False,
        "max_file_size": f"{settings.max_upload_mb}mb",
        **launch_options(settings, users=users, guard=guard),
        **extra,
    }
    return demo.launch(share=False, **options)


def build_ui(engine, settings, users: dict | None = None, guard: DownloadGuard | None = None) -> gr.Blocks:
    """The whole interface over one engine. ``users`` (from the users file) turns admin checks on."""
    h = Handlers(engine, settings, users=users, guard=guard)
    C: dict[str, Any] = {}
    labelled: list[tuple[Any, str, str]] = []  # (component, property, text key) for the language switch

    def lab(component, key: str, prop: str = "label"):
        labelled.append((component, prop, key))
        return component

    def out(names) -> list:
        return [C[n] for n in names]

    with gr.Blocks(title="Ittifaq — اتفاق", analytics_enabled=False, delete_cache=(1800, DOWNLOAD_TTL_S)) as demo:
        with gr.Row(equal_height=True):
            gr.Markdown("## Ittifaq — اتفاق\nAssistant hors ligne pour la négociation de la convention collective des centres d'appels.")
            ui_lang = lab(gr.Radio([("Français", "fr"), ("English", "en"), ("العربية", "ar")], value="fr", label=tr("ui_lang"), scale=0, min_width=280), "ui_lang")
        C["status"] = gr.Markdown(h.status_line(), elem_id="status-line")
        tabs = []
        with gr.Tabs():
            with gr.Tab(tr("tab_chat")) as tab:
                tabs.append((tab, "tab_chat"))
                with gr.Accordion("Premiers pas", open=True):
                    C["welcome"] = gr.Markdown(h.welcome_markdown(), elem_id="welcome")
                    with gr.Row():
                        example_buttons = [gr.Button(q, size="sm", variant="secondary") for q in EXAMPLE_QUESTIONS]
                C["conversation"] = gr.State(None)
                C["cited"] = gr.State([])
                with gr.Row():
                    with gr.Column(scale=1, min_width=230):
                        C["conversations"] = lab(gr.Dropdown(choices=[], value=None, label=tr("conversations"), interactive=True), "conversations")
                        new_btn = lab(gr.Button(tr("new_conv"), variant="secondary"), "new_conv", "value")
                        delete_btn = lab(gr.Button(tr("delete_conv"), variant="stop", size="sm"), "delete_conv", "value")
                        with gr.Accordion(tr("filters"), open=False) as acc:
                            labelled.append((acc, "label", "filters"))
                            kinds = lab(gr.Dropdown([(KIND_LABELS[k], k) for k in FILTER_KINDS], value=[], multiselect=True, label=tr("kinds")), "kinds")
                            langs = lab(gr.Dropdown([(v, k) for k, v in LANG_LABELS.items()], value=[], multiselect=True, label=tr("langs")), "langs")
                            C["source"] = lab(gr.Dropdown(choices=h.source_choices(), value="", label=tr("source")), "source")
                    with gr.Column(scale=3):
                        C["chatbot"] = lab(gr.Chatbot(label=tr("chatbot"), elem_id="chatbot", height=520, buttons=["copy", "copy_all"], feedback_options=None), "chatbot")
                        with gr.Row():
                            C["message"] = lab(gr.Textbox(label=tr("message"), lines=1, max_lines=8, scale=5, elem_classes=["bidi"]), "message")
                            send_btn = lab(gr.Button(tr("send"), variant="primary", scale=1), "send", "value")
                        C["chat_notice"] = gr.Markdown("")
                    with gr.Column(scale=2, min_width=260):
                        C["chips"] = lab(gr.Radio(choices=[], value=None, label=tr("chips")), "chips")
                        C["excerpt_title"] = gr.Markdown("", elem_classes=["bidi"])
                        C["excerpt_text"] = lab(gr.Textbox(label=tr("excerpt_text"), lines=14, max_lines=30, interactive=False, elem_classes=["bidi"]), "excerpt_text")

            with gr.Tab(tr("tab_draft")) as tab:
                tabs.append((tab, "tab_draft"))
                C["clause"] = gr.State(None)
                with gr.Row():
                    with gr.Column(scale=2):
                        topic = lab(gr.Dropdown(h.library_choices(), value=None, label=tr("library_topic")), "library_topic")
                        free_topic = lab(gr.Textbox(label=tr("free_topic"), max_length=MAX_TOPIC_CHARS), "free_topic")
                        demands = lab(gr.Textbox(label=tr("demands"), lines=4, placeholder="prime d'ancienneté 8 % après 2 ans", elem_classes=["bidi"]), "demands")
                        context = lab(gr.Textbox(label=tr("context"), lines=2, max_length=MAX_CONTEXT_CHARS), "context")
                        variant = lab(gr.Radio([(v, k) for k, v in VARIANT_LABELS.items()], value="target", label=tr("variant")), "variant")
                        use_model = lab(gr.Checkbox(value=False, label=tr("use_model")), "use_model")
                        draft_btn = lab(gr.Button(tr("draft_btn"), variant="primary"), "draft_btn", "value")
                    with gr.Column(scale=3):
                        C["clause_title"] = gr.Markdown("")
                        C["clause_text"] = lab(gr.Textbox(label=tr("clause_text"), lines=16, max_lines=40, interactive=True, elem_classes=["bidi"]), "clause_text")
                        C["checks"] = gr.HTML("")
                        C["comparison"] = lab(gr.Dataframe(headers=COMPARISON_HEADERS, value=[], interactive=False, wrap=True, label=tr("comparison")), "comparison")
                        C["clause_citations"] = gr.HTML("")
                        C["rationale"] = gr.Markdown("")
                        C["draft_warnings"] = gr.Markdown("")
                        add_btn = lab(gr.Button(tr("add_btn"), variant="primary"), "add_btn", "value")
                        C["draft_notice"] = gr.Markdown("")

            with gr.Tab(tr("tab_project")) as tab:
                tabs.append((tab, "tab_project"))
                C["project_title"] = lab(gr.Textbox(label=tr("project_title"), max_length=300), "project_title")
                C["project_preamble"] = lab(gr.Textbox(label=tr("project_preamble"), lines=4, elem_classes=["bidi"]), "project_preamble")
                save_meta = lab(gr.Button(tr("save_meta"), size="sm"), "save_meta", "value")
                C["project_table"] = lab(gr.Dataframe(headers=PROJECT_HEADERS, value=[], interactive=False, wrap=True, label=tr("project_table")), "project_table")
                with gr.Row():
                    C["clause_pick"] = lab(gr.Dropdown(choices=[], value=None, label=tr("clause_pick"), scale=3), "clause_pick")
                    up_btn = lab(gr.Button(tr("up"), scale=1), "up", "value")
                    down_btn = lab(gr.Button(tr("down"), scale=1), "down", "value")
                    remove_clause_btn = lab(gr.Button(tr("remove_clause"), variant="stop", scale=1), "remove_clause", "value")
                with gr.Row():
                    export_md = lab(gr.Button(tr("export_md"), variant="primary"), "export_md", "value")
                    export_docx = lab(gr.Button(tr("export_docx"), variant="primary"), "export_docx", "value")
                C["export_file"] = lab(gr.File(label=tr("export_file"), interactive=False), "export_file")
                C["project_notice"] = gr.Markdown("")
                C["project_preview"] = lab(gr.Textbox(label=tr("project_preview"), lines=16, max_lines=60, interactive=False, elem_classes=["bidi"]), "project_preview")

            with gr.Tab("Calculs"):
                from rag.calc_ui import build_calc_tab

                build_calc_tab()

            with gr.Tab("Négociation"):
                from rag.library import load_library, load_rules
                from rag.negotiation_ui import build_negotiation_tab

                build_negotiation_tab(settings, load_library(settings.clauses_dir), load_rules(settings.rules_file), h.user_of, h._download_copy)

            with gr.Tab(tr("tab_corpus")) as tab:
                tabs.append((tab, "tab_corpus"))
                C["admin_notice"] = gr.Markdown("")
                with gr.Group(visible=True) as admin_box:
                    C["admin_box"] = admin_box
                    upload = lab(gr.File(file_count="multiple", file_types=[".pdf", ".docx", ".md", ".txt", ".png", ".jpg", ".jpeg", ".tif", ".tiff"], label=tr("upload")), "upload")
                    with gr.Row():
                        index_btn = lab(gr.Button(tr("index_btn"), variant="primary"), "index_btn", "value")
                        reindex_btn = lab(gr.Button(tr("reindex_btn")), "reindex_btn", "value")
                    with gr.Row():
                        C["remove_pick"] = lab(gr.Dropdown(choices=[], value=None, label=tr("remove_pick"), scale=3), "remove_pick")
                        remove_doc_btn = lab(gr.Button(tr("remove_doc"), variant="stop", scale=1), "remove_doc", "value")
                C["corpus_notice"] = gr.Markdown("")
                C["index_results"] = lab(gr.Dataframe(headers=RESULT_HEADERS, value=[], interactive=False, wrap=True, label=tr("index_results")), "index_results")
                C["documents"] = lab(gr.Dataframe(headers=DOCUMENT_HEADERS, value=h.document_rows(), interactive=False, wrap=True, label=tr("documents")), "documents")

        # ---- events: the model is one resource (one generation at a time), indexing another
        model_queue = {"concurrency_id": "model", "concurrency_limit": 2}
        chat_inputs = [C["message"], C["conversation"], kinds, langs, C["source"]]
        for trigger in (C["message"].submit, send_btn.click):
            trigger(h.chat_submit, chat_inputs, out(CHAT_OUTPUTS), **model_queue)
        for button, question in zip(example_buttons, EXAMPLE_QUESTIONS):
            button.click(lambda q=question: q, None, C["message"], queue=False).then(h.chat_submit, chat_inputs, out(CHAT_OUTPUTS), **model_queue)
        C["chips"].change(h.show_citation, [C["chips"], C["cited"]], out(CITATION_OUTPUTS), queue=False)
        C["chatbot"].select(h.select_message, [C["conversation"]], out(SELECT_OUTPUTS), queue=False)
        new_btn.click(h.new_conversation, None, out(CHAT_OUTPUTS), queue=False)
        C["conversations"].input(h.open_conversation, [C["conversations"]], out(CHAT_OUTPUTS), queue=False)
        delete_btn.click(h.delete_conversation, [C["conversation"]], out(CHAT_OUTPUTS), queue=False)

        draft_btn.click(h.draft_clause, [topic, free_topic, demands, context, variant, use_model], out(DRAFT_OUTPUTS), **model_queue)
        add_btn.click(h.add_to_project, [C["clause"], C["clause_text"]], out(ADD_OUTPUTS))

        meta = [C["project_title"], C["project_preamble"]]
        save_meta.click(h.save_project_meta, meta, out(PROJECT_OUTPUTS))
        up_btn.click(h.move_clause_up, [C["clause_pick"]], out(PROJECT_OUTPUTS))
        down_btn.click(h.move_clause_down, [C["clause_pick"]], out(PROJECT_OUTPUTS))
        remove_clause_btn.click(h.remove_clause, [C["clause_pick"]], out(PROJECT_OUTPUTS))
        export_md.click(h.export_markdown, meta, out(EXPORT_OUTPUTS))
        export_docx.click(h.export_docx, meta, out(EXPORT_OUTPUTS))

        index_queue = {"concurrency_id": "index", "concurrency_limit": 1}
        index_btn.click(h.index_uploads, [upload], out(CORPUS_OUTPUTS), **index_queue)
        reindex_btn.click(h.reindex_all, None, out(CORPUS_OUTPUTS), **index_queue)
        remove_doc_btn.click(h.remove_document, [C["remove_pick"]], out(CORPUS_OUTPUTS), **index_queue)

        demo.load(h.on_load, None, out(LOAD_OUTPUTS))

        all_labelled = labelled + [(tab, "label", key) for tab, key in tabs]

        def set_language(lang: str):
            lang = lang if lang in LANG_INDEX else "fr"
            return [gr.update(**{prop: tr(key, lang)}) for _, prop, key in all_labelled]

        ui_lang.change(
            set_language, [ui_lang], [c for c, _, _ in all_labelled], queue=False,
            js="(lang) => { document.documentElement.setAttribute('dir', lang === 'ar' ? 'rtl' : 'ltr'); document.documentElement.setAttribute('lang', lang); return lang; }",
        )

    demo.handlers = h  # for tests and app.py
    demo.queue(default_concurrency_limit=2, max_size=32)
    return demo
