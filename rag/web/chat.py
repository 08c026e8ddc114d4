"""The « Chat » tab: grounded answers streamed with their citations, conversations kept per user.

Outputs (names of :mod:`rag.web.layout`): ``chatbot``, ``message``, ``conversation``, ``chips``,
``cited``, ``excerpt_title``, ``excerpt_text``, ``conversations``, ``chat_notice``; for the article
reader and the conversation tools also ``article_prev``, ``article_next``, ``conv_title``,
``conv_file``, ``confirm_delete``, ``cancel_delete``, ``delete_pending``.

A message that *is* a request to read an article (« article 350 », « lire l'article 16 bis »,
« المادة 350 », see :func:`rag.reader.article_request`) shows that article whole from the store,
with its heading path, page and neighbours; the model is not asked.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import gradio as gr

from rag.answer import Answer, Delta
from rag.model_text import sanitise_model_text
from rag.reader import article_request
from rag.retrieve import Filters
from rag.web.base import TabHandlers
from rag.web.render import chat_messages, chip_update, describe_error, excerpt, fr_int, md_escape
from rag.web.texts import FILTER_KINDS, LANG_LABELS, tr, ui_lang
from rag.workspace import Workspace

log = logging.getLogger(__name__)

HISTORY_TURNS = 3


def excerpt_outputs(citation: dict | None, lang: str = "fr") -> dict:
    title, text = excerpt(citation, lang)
    return {"excerpt_title": title, "excerpt_text": text}


# ---- the article reader in the chat ------------------------------------------------------------


def article_markdown(result, lang: str = "fr") -> str:
    """An article read whole, as the chat and the corpus tab show it, worded in ``lang`` (the
    request's language): its reference, its place in the text (heading path, page), the text
    itself, its neighbours; or why none was read."""
    from rag.reader import NotFoundReason, pages_label

    n = md_escape(result.number if not result.found else result.article)
    if not result.found:
        source = md_escape(result.source or "")
        if result.reason == NotFoundReason.AMBIGUOUS:
            return tr("art_ambiguous", lang).format(n=n) + "\n" + "\n".join(
                f"- {md_escape(c.title)} ({md_escape(c.source)})" for c in result.candidates)
        if result.reason == NotFoundReason.UNKNOWN_SOURCE:
            return "⚠ " + tr("art_unknown_source", lang).format(source=source)
        return "⚠ " + tr("art_absent_in" if result.source else "art_absent", lang).format(n=n, source=source)
    blocks = [f"**{md_escape(result.label)}** — {md_escape(result.title)}"]
    if result.heading_path:
        blocks.append("*" + " › ".join(md_escape(part) for part in result.heading_path) + "*")
    where = " · ".join(md_escape(x) for x in (result.force, pages_label(result.pages)) if x)
    if where:
        blocks.append(where)
    if result.uncertain:
        blocks.append(tr("art_uncertain", lang))
    blocks.append("  \n".join(md_escape(line) for line in result.text.splitlines() if line.strip()))
    around = [tr("art_prev_line", lang).format(n=md_escape(result.previous)) if result.previous else "",
              tr("art_next_line", lang).format(n=md_escape(result.next)) if result.next else ""]
    if any(around):
        blocks.append(" · ".join(a for a in around if a))
    if result.also_in:
        others = ", ".join(f"{md_escape(t.title)} ({md_escape(t.source)})" for t in result.also_in)
        blocks.append(tr("art_also_in", lang).format(n=n, texts=others))
    return "\n\n".join(blocks)


def offered(message: dict) -> list[dict]:
    """The chips of an answer: its citations, or the sources of the quotes that stand alone when every
    sentence was « à vérifier » (the excerpt stays one click away)."""
    return list(message.get("citations") or message.get("excerpts") or [])


def article_message(result, lang: str = "fr") -> dict:
    """The assistant message that shows an article (the model is not asked): its chip cites it whole."""
    message = {"role": "assistant", "content": article_markdown(result, lang), "citations": [], "warnings": []}
    if result.found:
        message["citations"] = [{"source": result.source, "title": result.title, "article": result.article, "page": result.page,
                                 "text": result.text, "label": result.label}]
        message["article"] = {"source": result.source, "article": result.article, "previous": result.previous, "next": result.next,
                              "lang": lang}
    return message


def shown_article(conversation: dict | None) -> dict:
    """The article the conversation's last message shows ({} when it is not an article)."""
    messages = (conversation or {}).get("messages") or []
    last = messages[-1] if messages and isinstance(messages[-1], dict) and messages[-1].get("role") == "assistant" else {}
    return last["article"] if isinstance(last.get("article"), dict) else {}


def after_chat(conversation: dict | None) -> dict:
    """What depends on the conversation shown: « article précédent / suivant » while its last
    message is an article that has them, the delete confirmation hidden, its title ready to edit."""
    shown = shown_article(conversation)
    hidden = gr.update(visible=False)
    return {"article_prev": gr.update(visible=bool(shown.get("previous"))), "article_next": gr.update(visible=bool(shown.get("next"))),
            "confirm_delete": hidden, "cancel_delete": hidden, "conv_title": str((conversation or {}).get("title") or "")}


class ChatTab(TabHandlers):
    def welcome_markdown(self, lang: str = "fr") -> str:
        """The first-run panel, in ``lang``: what the assistant answers from, what is missing and where to get it."""
        from rag.overview import corpus_overview
        from rag.web.base import kinds_phrase

        try:
            overview = corpus_overview(self.engine.index)
        except Exception as exc:
            return tr("corpus_unreadable", lang).format(reason=md_escape(describe_error(exc)))
        blocks = [tr("welcome_intro", lang).format(kinds=md_escape(kinds_phrase(overview, lang)))]
        if not overview.has_law():
            blocks.append(tr("welcome_no_law", lang))
        if overview.missing:  # the catalog's titles and where to obtain them are written in French
            blocks.append("\n".join([tr("welcome_missing", lang)] + [f"- {md_escape(m.title)} — {md_escape(m.obtain)}" for m in overview.missing]))
        for name, problem in self.shared.library_problems.items():
            blocks.append(tr("welcome_library", lang).format(name=md_escape(name), problem=md_escape(problem)))
        blocks.append(tr("welcome_examples", lang))
        return "\n\n".join(blocks)  # a blank line between blocks: the examples line is not part of the last bullet

    def check_message(self, text: str | None, lang: str = "fr") -> str | None:
        """Why a message is refused before the model, or None."""
        text = text if isinstance(text, str) else ""
        if not text.strip():
            return tr("msg_empty", lang)
        limit = self.settings.max_message_chars
        if len(text) > limit:
            return tr("msg_too_long", lang).format(n=fr_int(len(text)), limit=fr_int(limit))
        return None

    def filters(self, kinds, langs, source) -> Filters:
        """Filters from the client, kept only where they name something that exists."""
        kinds = [k for k in (kinds or []) if k in FILTER_KINDS]
        langs = [lang for lang in (langs or []) if lang in LANG_LABELS]
        known = {d.source for d in self.engine.index.documents()}
        sources = [source] if isinstance(source, str) and source in known else []
        return Filters(kinds=kinds, langs=langs, sources=sources)

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

    def _chat_state(self, ws: Workspace, conversation: dict, notice: str = "", message: Any = "", citations: list[dict] | None = None,
                    listing: bool = True) -> dict:
        """The whole tab after an event: the messages, the chips of ``citations``, the conversation list."""
        citations = citations or []
        state = {
            "chatbot": chat_messages(conversation), "message": message, "conversation": conversation,
            "chips": chip_update(citations), "cited": citations, "excerpt_title": "", "excerpt_text": "", "chat_notice": notice,
        }
        if listing:  # reads every conversation file: not on each streamed piece
            choices = self.conversation_choices(ws)
            state["conversations"] = gr.update(choices=choices, value=conversation["id"] if any(v == conversation["id"] for _, v in choices) else None)
        return state

    def chat_submit(self, message, conversation, kinds=None, langs=None, source=None, request: gr.Request | None = None, lang: str = "fr"):
        """Stream a grounded answer; refuse empty or too long messages before the model.
        ``lang``: the interface language, that of the notices (the answer follows the question's)."""
        lang = ui_lang(lang)
        ws = self.workspace(request)
        conversation = self._conversation(ws, conversation)
        problem = self.check_message(message, lang)
        if problem:
            state = self._chat_state(ws, conversation, notice=f"⚠ {problem}", message=message if isinstance(message, str) else "", listing=False)
            for kept in ("chips", "cited", "excerpt_title", "excerpt_text"):  # the previous answer's chips and excerpt stay
                del state[kept]
            yield state
            return
        question = message.strip()
        ref = article_request(question)
        if ref is not None:  # « article 350 », « المادة 350 »: the text itself is shown, the model is not asked
            yield self._article_reply(ws, conversation, question, ref, source, lang)
            return
        previous = conversation["messages"]
        history = [
            (q["content"], a["content"]) for q, a in zip(previous[::2], previous[1::2])
            if q.get("role") == "user" and a.get("role") == "assistant"
        ][-HISTORY_TURNS:]
        reply = {"role": "assistant", "content": "…", "citations": [], "warnings": []}
        conversation["messages"] += [{"role": "user", "content": question}, reply]
        yield self._chat_state(ws, conversation, notice=tr("searching", lang), listing=False)
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
                        yield self._chat_state(ws, conversation, notice=tr("writing", lang), listing=False)
                elif isinstance(event, Answer):
                    answer = event
            if answer is None:
                raise RuntimeError("no final answer")
            reply["content"] = answer.text
            reply["citations"] = [c.to_json() for c in answer.citations]
            # the quoted sources of an answer whose every sentence was « à vérifier » (none cited)
            reply["excerpts"] = [] if answer.citations else [c.to_json() for c in answer.excerpts()]
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
            reply["content"] = tr("model_failed", lang).format(reason=describe_error(exc))
            reply["citations"], reply["excerpts"], reply["warnings"] = [], [], []
            notice = ""
        finally:
            # also when the browser leaves mid-answer (generator closed): keep what was said
            if reply["content"].endswith(" ▌"):
                reply["content"] = reply["content"][:-2] + "\n\n" + tr("interrupted", lang)
            try:
                ws.save_conversation(conversation)
                saved = True
            except OSError as exc:
                log.error("conversation not saved: %s", exc)
        if not saved:
            notice = tr("conv_not_saved", lang)
        yield self._chat_state(ws, conversation, notice=notice, citations=offered(reply))

    def show_citation(self, choice, cited, lang: str = "fr") -> dict:
        """The excerpt behind a citation chip."""
        try:
            citation = (cited or [])[int(choice)]
        except (TypeError, ValueError, IndexError):
            return excerpt_outputs(None)
        return excerpt_outputs(citation if isinstance(citation, dict) else None, ui_lang(lang))

    def select_message(self, conversation, evt: gr.SelectData) -> dict:
        """Clicking an answer puts its citations in the chips."""
        messages = (conversation or {}).get("messages", [])
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        citations = []
        if isinstance(index, int) and 0 <= index < len(messages) and messages[index].get("role") == "assistant":
            citations = offered(messages[index])
        return {"chips": chip_update(citations), "cited": citations, **excerpt_outputs(None)}

    def new_conversation(self, request: gr.Request | None = None, lang: str = "fr") -> dict:
        ws = self.workspace(request)
        return self._chat_state(ws, ws.new_conversation())

    def open_conversation(self, conv_id, request: gr.Request | None = None, lang: str = "fr") -> dict:
        ws = self.workspace(request)
        conversation = ws.load_conversation(conv_id) if isinstance(conv_id, str) else None
        if conversation is None:
            return self._chat_state(ws, ws.new_conversation())
        last = next((m for m in reversed(conversation["messages"]) if m.get("role") == "assistant"), {})
        return self._chat_state(ws, conversation, citations=offered(last))

    def delete_conversation(self, conversation, request: gr.Request | None = None, lang: str = "fr") -> dict:
        ws = self.workspace(request)
        if isinstance(conversation, dict) and isinstance(conversation.get("id"), str):
            ws.delete_conversation(conversation["id"])
        return self._chat_state(ws, ws.new_conversation(), notice=tr("conv_deleted", ui_lang(lang)))

    # ---- articles read whole, without the model -------------------------------------------------
    def _known_source(self, source) -> str | None:
        known = {d.source for d in self.engine.index.documents()}
        return source if isinstance(source, str) and source in known else None

    def _article_reply(self, ws: Workspace, conversation: dict, question: str, ref, source=None, ui: str = "fr") -> dict:
        """Append « article N » and the article itself to the conversation, save it, show it."""
        from rag.reader import read_article

        try:
            lang = getattr(ref, "lang", "fr")
            reply = article_message(read_article(self.engine.index, ref, source=self._known_source(source)), lang)
        except Exception as exc:
            log.exception("article reader failed")
            reply = {"role": "assistant", "content": tr("article_failed", ui).format(reason=md_escape(describe_error(exc))), "citations": [], "warnings": []}
        conversation["messages"] += [{"role": "user", "content": question}, reply]
        notice = ""
        try:
            ws.save_conversation(conversation)
        except OSError as exc:
            log.error("conversation not saved: %s", exc)
            notice = tr("conv_not_saved", ui)
        return self._chat_state(ws, conversation, notice=notice, citations=reply["citations"])

    def _read_neighbour(self, which: str, conversation, request: gr.Request | None, ui: str = "fr") -> dict:
        ws = self.workspace(request)
        conversation = self._conversation(ws, conversation)
        shown = shown_article(conversation)
        number = shown.get(which)
        if not isinstance(number, str) or not number:
            return {**self._chat_state(ws, conversation, notice=tr("no_previous" if which == "previous" else "no_next", ui)), **after_chat(conversation)}
        lang = shown.get("lang") if shown.get("lang") in ("fr", "en", "ar") else "fr"
        question = tr("art_request", lang).format(n=number)  # « article 4 », « المادة 4 »: what the user would type
        state = self._article_reply(ws, conversation, question, article_request(question) or number, shown.get("source"), ui)
        return {**state, **after_chat(conversation)}

    def read_previous(self, conversation, request: gr.Request | None = None, lang: str = "fr") -> dict:
        """« ← Article précédent »: the article before the one shown, in the same text."""
        return self._read_neighbour("previous", conversation, request, ui_lang(lang))

    def read_next(self, conversation, request: gr.Request | None = None, lang: str = "fr") -> dict:
        """« Article suivant → »: the article after the one shown, in the same text."""
        return self._read_neighbour("next", conversation, request, ui_lang(lang))

    def after_chat(self, conversation) -> dict:
        return after_chat(conversation if isinstance(conversation, dict) else None)

    # ---- rename, export, delete with confirmation ------------------------------------------------
    def _stored(self, ws: Workspace, conversation) -> dict | None:
        conv_id = conversation.get("id") if isinstance(conversation, dict) else None
        return ws.load_conversation(conv_id) if isinstance(conv_id, str) else None

    def rename_conversation(self, title, conversation, request: gr.Request | None = None, lang: str = "fr") -> dict:
        lang = ui_lang(lang)
        ws = self.workspace(request)
        stored = self._stored(ws, conversation)
        if stored is None:
            return {"chat_notice": tr("rename_unsaved", lang)}
        try:
            renamed = ws.rename_conversation(stored["id"], title if isinstance(title, str) else "")
        except ValueError as exc:
            return {"chat_notice": f"⚠ {md_escape(exc)}"}
        except OSError as exc:
            return {"chat_notice": tr("rename_failed", lang).format(reason=md_escape(describe_error(exc, self.settings.data_dir)))}
        choices = self.conversation_choices(ws)
        return {"conversation": renamed, "conversations": gr.update(choices=choices, value=renamed["id"]), "conv_title": renamed["title"],
                "chat_notice": tr("renamed", lang).format(title=md_escape(renamed["title"]))}

    def export_conversation(self, conversation, request: gr.Request | None = None, lang: str = "fr") -> dict:
        """The conversation as Markdown (questions, answers, citations, excerpts), as a private download."""
        lang = ui_lang(lang)
        ws = self.workspace(request)
        stored = self._stored(ws, conversation)
        if stored is None or not stored.get("messages"):
            return {"conv_file": None, "chat_notice": tr("export_empty_conv", lang)}
        try:
            path = ws.export_conversation(stored["id"])
            copy = self.shared.downloads.copy(path, self.user_of(request))
        except ValueError as exc:
            return {"conv_file": None, "chat_notice": f"⚠ {md_escape(exc)}"}
        except OSError as exc:
            log.exception("conversation export failed")
            return {"conv_file": None, "chat_notice": tr("export_failed", lang).format(reason=md_escape(describe_error(exc, self.settings.data_dir)))}
        return {"conv_file": str(copy), "chat_notice": tr("conv_exported", lang).format(name=md_escape(path.name))}

    def ask_delete(self, conversation, request: gr.Request | None = None, lang: str = "fr") -> dict:
        """First click on « Supprimer »: nothing is deleted; the confirmation button appears."""
        lang = ui_lang(lang)
        ws = self.workspace(request)
        stored = self._stored(ws, conversation)
        if stored is None:
            hidden = gr.update(visible=False)
            return {"confirm_delete": hidden, "cancel_delete": hidden, "delete_pending": None,
                    "chat_notice": tr("nothing_to_delete", lang)}
        shown = gr.update(visible=True)
        title = stored.get("title") or tr("untitled", lang)
        return {"confirm_delete": shown, "cancel_delete": shown, "delete_pending": stored["id"],
                "chat_notice": tr("ask_delete", lang).format(title=md_escape(title))}

    def cancel_delete(self, lang: str = "fr") -> dict:
        hidden = gr.update(visible=False)
        return {"confirm_delete": hidden, "cancel_delete": hidden, "delete_pending": None, "chat_notice": tr("delete_cancelled", ui_lang(lang))}

    def confirm_delete(self, pending, conversation, request: gr.Request | None = None, lang: str = "fr") -> dict:
        """Second click: delete the conversation the first click named, if it is still the one shown."""
        hidden = {"confirm_delete": gr.update(visible=False), "cancel_delete": gr.update(visible=False), "delete_pending": None}
        current = conversation.get("id") if isinstance(conversation, dict) else None
        if not isinstance(pending, str) or pending != current:
            return {**hidden, "chat_notice": tr("delete_changed", ui_lang(lang))}
        return {**self.delete_conversation(conversation, request, lang), **after_chat(None), **hidden}
