"""HTML and Markdown for the interface: floor checks, citations, decisive quotes, chat bubbles,
excerpts and error sentences.

Everything that came from a document, a file name or a model is escaped here before it is rendered.
"""

from __future__ import annotations

import errno
import html
import re
import shutil
from pathlib import Path

import gradio as gr

CHECK_STYLE = {
    "ok": ("✔", "check-ok", "conforme", "color:#1a7f37"),
    "below_floor": ("✘", "check-below", "sous le plancher légal", "color:#cf222e;font-weight:600"),
    "unverified": ("?", "check-unverified", "non vérifié", "color:#6e7781"),
}

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>!|#~])")


def md_escape(text: object) -> str:
    """Text shown inside Markdown as typed: no markup, no HTML, no image or link syntax."""
    return _MD_SPECIAL.sub(r"\\\1", str(text or ""))


def esc(text: object) -> str:
    """Text for HTML content or an attribute value."""
    return html.escape(str(text or ""), quote=True)


def fr_int(n: int) -> str:
    """12345 → '12 345' (narrow no-break space, as French typography wants)."""
    return f"{n:,}".replace(",", "\u202f")


def checks_html(checks: list[dict], lang: str = "fr") -> str:
    """Floor checks as a coloured list: green ✔ ok, red ✘ below the floor (with its article), grey ? unverified.
    The status words in ``lang``; each check's message is rag.draft's (French)."""
    from rag.web.texts import tr

    if not checks:
        return f"<p class='check-unverified'>{esc(tr('no_checks', lang))}</p>"
    items = []
    for check in checks:
        status = check.get("status", "") if check.get("status", "") in CHECK_STYLE else "unverified"
        mark, css, _, style = CHECK_STYLE[status]
        word = tr(f"check_{status}", lang)
        article = f" — art. {esc(check['article'])}" if check.get("article") else ""
        items.append(f"<li class='{css}' style='{style}'><b style='{style}'>{mark}</b> <span class='bidi' style='{style}'>{esc(check.get('message'))}</span>"
                     f"<small style='{style}'> ({esc(word)}{article})</small></li>")
    return "<ul class='floor-checks'>" + "".join(items) + "</ul>"


def citations_html(citations: list[dict], lang: str = "fr") -> str:
    from rag.web.texts import tr

    if not citations:
        return f"<p class='check-unverified'>{esc(tr('no_citations', lang))}</p>"
    parts = []
    for c in citations:
        where = " · ".join(x for x in (esc(c.get("title")), f"art. {esc(c['article'])}" if c.get("article") else "", f"p. {esc(c['page'])}" if c.get("page") else "") if x)
        parts.append(f"<details><summary><b>{esc(c.get('label'))}</b> — {where}</summary><pre>{esc(c.get('text'))}</pre></details>")
    return "<div class='clause-citations'>" + "".join(parts) + "</div>"


def quote_markdown(quote: dict) -> str:
    """« decisive sentence » — reference, the figures in bold; the sentence is the source's own text."""
    from rag.figures import NUMBER, canonical_number
    from rag.model_text import source_text_for_display

    body = source_text_for_display(str(quote.get("text", "")))  # the whole text is in the excerpt box
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
    quotes = [q for q in message.get("quotes") or [] if not q.get("in_answer")]  # one read in the answer is not repeated
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


def excerpt(citation: dict | None, lang: str = "fr") -> tuple[str, str]:
    from rag.web.texts import tr

    if not citation:
        return "", ""
    details = [md_escape(citation.get("title") or citation.get("source"))]
    if citation.get("article"):
        details.append(f"art. {md_escape(citation['article'])}")
    if citation.get("page"):
        details.append(f"p. {md_escape(citation['page'])}")
    details.append(tr("excerpt_file", lang).format(name=md_escape(citation.get("source"))))
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
