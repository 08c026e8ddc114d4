"""Model backends on loopback: a real OpenAI-compatible server, and dead / failing / hanging / cut ones."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rag.answer import ChatEngine
from rag.models import build_openai_chat

LAW = "# Loi test\n### Article 184\nLa durée normale de travail est fixée à 44 heures par semaine.\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def law_engine(engine, tmp_path):
    (tmp_path / "loi.md").write_text(LAW, encoding="utf-8")
    engine.index.index_paths([tmp_path / "loi.md"], isolated=False)
    engine.settings.llm_backend = "openai"
    engine.settings.llm_timeout_s = 3
    engine.settings.llm_connect_timeout_s = 2
    engine.settings.llm_retries = 0
    return engine


class QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(handler_cls) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_cls)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"


def ask_with(engine, base_url: str):
    engine.settings.openai_base_url = base_url
    chat = ChatEngine(engine.retriever, build_openai_chat(engine.settings), engine.settings)
    start = time.monotonic()
    answer = chat.ask("article 184 : durée du travail ?")
    return answer, time.monotonic() - start


def test_dead_backend_gives_clear_message_fast(law_engine):
    answer, elapsed = ask_with(law_engine, f"http://127.0.0.1:{free_port()}/v1")
    assert answer.partial and "injoignable" in answer.text
    assert elapsed < 30


def test_backend_error_500(law_engine):
    class Fail(QuietHandler):
        def do_POST(self):
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"error": {"message": "boom"}}')

    server, url = serve(Fail)
    try:
        answer, elapsed = ask_with(law_engine, url)
    finally:
        server.shutdown()
    assert answer.partial and "erreur" in answer.text and elapsed < 30


def test_hanging_backend_times_out_within_30s(law_engine):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])  # accept and never answer
            except OSError:
                pass

    threading.Thread(target=accept, daemon=True).start()
    try:
        answer, elapsed = ask_with(law_engine, f"http://127.0.0.1:{listener.getsockname()[1]}/v1")
    finally:
        stop.set()
        for conn in held:
            conn.close()
        listener.close()
    assert answer.partial and "délai" in answer.text
    assert elapsed < 30


def test_stream_cut_midway_is_labelled_partial(law_engine):
    class Cut(QuietHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                     "choices": [{"index": 0, "delta": {"role": "assistant", "content": "La durée est de 44 heures [S1]"}, "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)  # cut: no [DONE]

    server, url = serve(Cut)
    try:
        answer, elapsed = ask_with(law_engine, url)
    finally:
        server.shutdown()
    assert "44 heures" in answer.text
    assert answer.partial and "interrompue" in answer.text and elapsed < 30


@pytest.mark.slow
def test_real_openai_compatible_server_on_loopback(law_engine, settings):
    """llama-cpp-python's own OpenAI-compatible server with the packaged 0.5B model."""
    from rag.offline import ensure_model

    model = ensure_model(settings.models_dir, "qwen0.5b")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1", "--port", str(port),
         "--n_ctx", "2048", "--n_threads", "2", "--model_alias", "qwen-small"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        law_engine.settings.openai_model = "qwen-small"
        law_engine.settings.llm_timeout_s = 60
        law_engine.settings.llm_max_tokens = 80
        law_engine.settings.llm_ctx = 2048
        answer, _ = ask_with(law_engine, f"http://127.0.0.1:{port}/v1")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert not answer.partial, answer.warnings
    assert answer.text.strip()
    assert "44" in answer.text
