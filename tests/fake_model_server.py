"""A tiny OpenAI-compatible model server for the crash tests, run as a real child process.

``python tests/fake_model_server.py PORT API_KEY SCRIPT_FILE`` serves ``/v1/models`` and streamed
``/v1/chat/completions``. SCRIPT_FILE holds one behaviour per start (the first line is consumed at
each start, the last one stays): ``ok`` answers a cited sentence; ``segv`` / ``kill`` stream two
pieces then kill themselves with SIGSEGV / SIGKILL; ``hang`` streams one piece then sleeps.
Each start appends a line to SCRIPT_FILE + ".starts".
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PORT, API_KEY, SCRIPT = int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
lines = [line.strip() for line in SCRIPT.read_text().splitlines() if line.strip()] or ["ok"]
BEHAVIOUR = lines[0]
if len(lines) > 1:
    SCRIPT.write_text("\n".join(lines[1:]) + "\n")
with open(str(SCRIPT) + ".starts", "a") as starts:
    starts.write(f"{os.getpid()} {BEHAVIOUR}\n")
ANSWER = ["La durée normale ", "du travail est de 44 heures ", "par semaine [S1]."]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def _authorised(self) -> bool:
        if self.headers.get("Authorization") != f"Bearer {API_KEY}":
            self.send_response(401)
            self.end_headers()
            return False
        return True

    def do_GET(self):
        if not self._authorised():
            return
        body = json.dumps({"object": "list", "data": [{"id": "local", "object": "model"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _chunk(self, content: str | None, finish: str | None = None) -> None:
        data = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "local",
                "choices": [{"index": 0, "delta": {"content": content} if content is not None else {}, "finish_reason": finish}]}
        self.wfile.write(f"data: {json.dumps(data)}\n\n".encode())
        self.wfile.flush()

    def do_POST(self):
        if not self._authorised():
            return
        length = int(self.headers.get("Content-Length") or 0)
        request = json.loads(self.rfile.read(length) or b"{}")
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        if request.get("max_tokens") == 1 or request.get("max_completion_tokens") == 1:  # warm-up
            self._chunk("D")
            self._chunk(None, "length")
            self.wfile.write(b"data: [DONE]\n\n")
            return
        for n, piece in enumerate(ANSWER):
            if BEHAVIOUR in ("segv", "kill") and n == 2:
                os.kill(os.getpid(), signal.SIGSEGV if BEHAVIOUR == "segv" else signal.SIGKILL)
            if BEHAVIOUR == "hang" and n == 1:
                time.sleep(3600)
            self._chunk(piece)
            time.sleep(0.02)
        self._chunk(None, "stop")
        self.wfile.write(b"data: [DONE]\n\n")


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
