"""Wiring: one place that assembles settings, embedder, store, retriever and chat model.

Everything is injectable: tests pass a deterministic embedder, a fake chat model and a store on a
temp dir; the app and the CLI pass nothing and get the packaged offline defaults.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from rag.index import Index
from rag.retrieve import Retriever
from rag.settings import Settings


@dataclass
class Engine:
    settings: Settings
    embedder: object
    index: Index
    retriever: Retriever
    _chat: object | None = None
    _chat_lock: threading.Lock = field(default_factory=threading.Lock)
    _library: object | None = None
    _rules: dict | None = None

    @property
    def chat_loaded(self) -> bool:
        return self._chat is not None

    @property
    def chat(self):
        """The chat model, loaded on first use (the local model takes a few seconds to load)."""
        with self._chat_lock:
            if self._chat is None:
                from rag.models import build_chat_model

                from rag.prompts import SYSTEM_PROMPT

                from rag.models import WarmableChatModel

                chat = build_chat_model(self.settings)
                if isinstance(chat, WarmableChatModel):
                    chat.warm(SYSTEM_PROMPT)
                self._chat = chat
            return self._chat

    def chat_engine(self):
        from rag.answer import ChatEngine

        return ChatEngine(self.retriever, self.chat, self.settings)

    def library(self):
        """The clause library, read once; a broken template is listed in ``problems``, never raised later."""
        from rag.library import read_library

        if self._library is None:
            self._library = read_library(self.settings.clauses_dir)
        return self._library

    def rules(self):
        from rag.library import load_rules

        if self._rules is None:
            self._rules = load_rules(self.settings.rules_file)
        return self._rules

    def drafter(self, with_model: bool = True):
        """Clause drafter over the project's library and floor rules; template-only without a model."""
        from rag.draft import Drafter

        chat = self.chat_engine() if with_model else None
        return Drafter(self.retriever, chat, self.library().templates, self.rules(), self.settings)

    def close(self) -> None:
        chat, self._chat = self._chat, None
        if chat is not None and callable(getattr(chat, "close", None)):
            chat.close()
        self.index.close()


def build_engine(settings: Settings, embedder=None, chat=None, client=None) -> Engine:
    from rag.offline import seed_tiktoken

    seed_tiktoken(settings.tiktoken_dir)
    if embedder is None:
        from rag.models import build_embeddings

        embedder = build_embeddings(settings)
    index = Index(settings, embedder, client=client)
    return Engine(settings=settings, embedder=embedder, index=index, retriever=Retriever(index, embedder, settings), _chat=chat)
