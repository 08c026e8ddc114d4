"""The « Chat » tab: grounded answers streamed with their citations, conversations kept per user.

Outputs (names of :mod:`rag.web.layout`): ``chatbot``, ``message``, ``conversation``, ``chips``,
``cited``, ``excerpt_title``, ``excerpt_text``, ``conversations``, ``chat_notice``.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import gradio as gr

from rag.answer import Answer, Delta, sanitise_model_text
from rag.retrieve import Filters
from rag.web.base import TabHandlers
from rag.web.render import chat_messages, chip_update, describe_error, excerpt, fr_int, md_escape
from rag.web.texts import FILTER_KINDS, LANG_LABELS
from rag.workspace import Workspace

log = logging.getLogger(__name__)

HISTORY_TURNS = 3


def excerpt_outputs(citation: dict | None) -> dict:
    title, text = excerpt(citation)
    return {"excerpt_title": title, "excerpt_text": text}


class ChatTab(TabHandlers):
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
        for name, problem in self.shared.library_problems.items():
            lines.append(f"⚠ {md_escape(name)} : {md_escape(problem)} — les autres modèles restent disponibles.")
        lines.append("Exemples de questions (cliquez) :")
        return "\n\n".join(lines[:2]) + ("\n\n" + "\n".join(lines[2:]) if len(lines) > 2 else "")

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

    def chat_submit(self, message, conversation, kinds=None, langs=None, source=None, request: gr.Request | None = None):
        """Stream a grounded answer; refuse empty or too long messages before the model."""
        ws = self.workspace(request)
        conversation = self._conversation(ws, conversation)
        problem = self.check_message(message)
        if problem:
            state = self._chat_state(ws, conversation, notice=f"⚠ {problem}", message=message if isinstance(message, str) else "", listing=False)
            for kept in ("chips", "cited", "excerpt_title", "excerpt_text"):  # the previous answer's chips and excerpt stay
                del state[kept]
            yield state
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

    def show_citation(self, choice, cited) -> dict:
        """The excerpt behind a citation chip."""
        try:
            citation = (cited or [])[int(choice)]
        except (TypeError, ValueError, IndexError):
            return excerpt_outputs(None)
        return excerpt_outputs(citation if isinstance(citation, dict) else None)

    def select_message(self, conversation, evt: gr.SelectData) -> dict:
        """Clicking an answer puts its citations in the chips."""
        messages = (conversation or {}).get("messages", [])
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        citations = []
        if isinstance(index, int) and 0 <= index < len(messages) and messages[index].get("role") == "assistant":
            citations = messages[index].get("citations") or []
        return {"chips": chip_update(citations), "cited": citations, **excerpt_outputs(None)}

    def new_conversation(self, request: gr.Request | None = None) -> dict:
        ws = self.workspace(request)
        return self._chat_state(ws, ws.new_conversation())

    def open_conversation(self, conv_id, request: gr.Request | None = None) -> dict:
        ws = self.workspace(request)
        conversation = ws.load_conversation(conv_id) if isinstance(conv_id, str) else None
        if conversation is None:
            return self._chat_state(ws, ws.new_conversation())
        last = next((m for m in reversed(conversation["messages"]) if m.get("role") == "assistant"), {})
        return self._chat_state(ws, conversation, citations=last.get("citations") or [])

    def delete_conversation(self, conversation, request: gr.Request | None = None) -> dict:
        ws = self.workspace(request)
        if isinstance(conversation, dict) and isinstance(conversation.get("id"), str):
            ws.delete_conversation(conversation["id"])
        return self._chat_state(ws, ws.new_conversation(), notice="Conversation supprimée.")
