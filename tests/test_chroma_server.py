"""Server mode: a real `chroma run` on loopback, one or several app processes sharing it.

Covers the manifest kept on the server, other processes' writes seen through the generation
marker, "nothing half-indexed is ever returned" under concurrent indexing by two processes, the
token header (through a checking reverse proxy), a dead / hung / vanished server, and backup /
restore / rebuild through the client.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tarfile
import textwrap
import threading
import time
import urllib.request
import uuid
from dataclasses import replace
from http.client import HTTPConnection
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag import cli
from rag.answer import ChatEngine
from rag.engine import build_engine
from rag.settings import PROJECT_ROOT, Settings
from rag.store import StoreError
from tests.conftest import HashEmbeddings
from tests.conftest import RecordingFake
from tests.test_backends import QuietHandler, free_port

CHROMA = Path(sys.executable).with_name("chroma")
LAW = """# Loi test
## Titre III : De la durée du travail
### Article 184
Dans les activités non agricoles, la durée normale de travail est fixée à 44 heures par semaine.
### Article 201
Les heures supplémentaires donnent lieu à une majoration de 25 % entre 6 heures et 21 heures.
"""

pytestmark = pytest.mark.skipif(not CHROMA.exists(), reason="chroma CLI not installed in the venv")


def start_chroma(folder: Path) -> tuple[subprocess.Popen, str]:
    """`chroma run` on a free loopback port, waited for until its heartbeat answers."""
    port = free_port()
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "NO_COLOR": "1"}
    log = open(folder.parent / f"{folder.name}.log", "wb")
    proc = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"chroma run exited: {(folder.parent / f'{folder.name}.log').read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(url + "/api/v2/heartbeat", timeout=1) as response:
                if response.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.2)
    stop_chroma(proc)
    raise RuntimeError("chroma run did not answer its heartbeat within 60 s")


def stop_chroma(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    proc, url = start_chroma(tmp_path_factory.mktemp("chroma") / "db")
    yield url
    stop_chroma(proc)


@pytest.fixture
def server_settings(chroma_url, tmp_path) -> Settings:
    """Settings on the shared server, with a collection of the test's own."""
    return Settings(
        store_dir=tmp_path / "store", data_dir=tmp_path / "users", cache_dir=PROJECT_ROOT / ".cache",
        corpus_dirs=[], chroma_url=chroma_url, collection=f"t{uuid.uuid4().hex[:12]}",
        chroma_refresh_s=0.2, _env_file=None,
    )


def _law(tmp_path: Path, name: str = "loi_test.md", text: str = LAW) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _server_rows(settings: Settings, name: str) -> dict:
    import chromadb

    client = chromadb.HttpClient(host="127.0.0.1", port=int(settings.chroma_url.rsplit(":", 1)[1]))
    return client.get_collection(name).get(include=["documents", "metadatas"])


def test_index_search_ask_remove_through_the_server(server_settings, tmp_path, no_network):
    engine = build_engine(server_settings, embedder=HashEmbeddings())
    try:
        result = engine.index.index_paths([_law(tmp_path)], isolated=False)
        assert [r.status for r in result] == ["indexed"]
        hits = engine.retriever.search("art. 184")
        assert hits[0].article == "184" and hits[0].source == "loi_test.md"
        assert engine.retriever.search("heures supplémentaires majoration")[0].article == "201"

        # the manifest lives on the server, not beside a local folder
        rows = _server_rows(server_settings, f"{server_settings.collection}_manifest")
        records = {json.loads(d)["source"]: json.loads(d) for d, m in zip(rows["documents"], rows["metadatas"]) if m["role"] == "document"}
        assert records["loi_test.md"]["status"] == "committed" and records["loi_test.md"]["chunks"] == engine.index.count()
        assert not (server_settings.store_dir / "manifest.json").exists()
        assert engine.index.index_paths([tmp_path / "loi_test.md"], isolated=False)[0].status == "skipped"

        engine.settings.min_similarity = 0.05  # the hash embedder's scale
        model = RecordingFake(["La durée normale est de 44 heures par semaine [S1]."])
        answer = ChatEngine(engine.retriever, model, engine.settings).ask("Quelle est la durée du travail ? art. 184")
        assert "art. 184" in answer.text and answer.citations[0].article == "184"
        assert "44 heures" in answer.citations[0].text

        assert engine.index.remove("loi_test.md")
        assert engine.retriever.search("art. 184") == [] and engine.index.count() == 0 and engine.index.documents() == []
        rows = _server_rows(server_settings, f"{server_settings.collection}_manifest")
        assert [m["role"] for m in rows["metadatas"]] == ["generation"]
    finally:
        engine.close()


def test_cli_against_the_server(server_settings, tmp_path, monkeypatch):
    from rag import engine as engine_module

    real = engine_module.build_engine
    monkeypatch.setattr(engine_module, "build_engine", lambda s, embedder=None, chat=None, client=None: real(s, embedder=embedder or HashEmbeddings(), chat=chat, client=client))
    monkeypatch.setenv("RAG_CHROMA_URL", server_settings.chroma_url)
    monkeypatch.setenv("RAG_COLLECTION", server_settings.collection)
    monkeypatch.setenv("RAG_STORE_DIR", str(tmp_path / "unused"))
    runner = CliRunner()
    _law(tmp_path)
    indexed = runner.invoke(cli.app, ["index", str(tmp_path / "loi_test.md")])
    assert indexed.exit_code == 0 and "1 indexé(s)" in indexed.output, indexed.output
    hits = json.loads(runner.invoke(cli.app, ["search", "--json", "art. 201"]).stdout)
    assert hits[0]["article"] == "201"
    assert json.loads(runner.invoke(cli.app, ["list", "--json"]).stdout)[0]["source"] == "loi_test.md"
    assert runner.invoke(cli.app, ["remove", "loi_test.md"]).exit_code == 0
    assert json.loads(runner.invoke(cli.app, ["search", "--json", "art. 201"]).stdout) == []
    assert not (tmp_path / "unused" / "manifest.json").exists()


def test_another_process_writes_are_seen_and_uncommitted_ones_are_not(server_settings, tmp_path):
    """Two indexes on one server (two app processes as far as the store is concerned)."""
    writer = build_engine(server_settings, embedder=HashEmbeddings())
    reader = build_engine(server_settings.model_copy(), embedder=HashEmbeddings())
    try:
        assert reader.retriever.search("heures supplémentaires") == []  # builds the reader's (empty) BM25
        writer.index.index_paths([_law(tmp_path)], isolated=False)

        def reader_sees(query: str, timeout: float = 5.0) -> list:
            deadline = time.monotonic() + timeout
            while True:
                hits = reader.retriever.search(query)
                if hits or time.monotonic() > deadline:
                    return hits
                time.sleep(0.05)

        start = time.monotonic()
        assert reader_sees("heures supplémentaires majoration")[0].article == "201"
        assert time.monotonic() - start < 2.0  # chroma_refresh_s = 0.2
        assert [d.source for d in reader.index.documents()] == ["loi_test.md"]

        # the writer "crashes" between marking the document and committing it: the reader drops it
        record = writer.index.manifest.records["loi_test.md"]
        writer.index.manifest.put(replace(record, status="indexing"))
        time.sleep(0.3)
        assert reader.retriever.search("heures supplémentaires majoration") == []
        assert reader.retriever.search("art. 184") == []
        assert [d.source for d in reader.index.interrupted()] == ["loi_test.md"]

        # re-indexed by the reader process (the file did not change, but it is not committed)
        assert reader.index.index_paths([tmp_path / "loi_test.md"], isolated=False)[0].status == "indexed"
        time.sleep(0.3)
        assert writer.retriever.search("art. 184")[0].article == "184"

        writer.index.remove("loi_test.md")
        time.sleep(0.3)
        assert reader.retriever.search("heures supplémentaires majoration") == []
    finally:
        writer.close()
        reader.close()


CHILD = textwrap.dedent(
    """
    import json, re, sys, threading, time
    sys.path.insert(0, {root!r})
    from pathlib import Path
    from rag.engine import build_engine
    from rag.retrieve import Filters
    from rag.settings import Settings
    from rag.store import make_client, open_manifest
    from tests.conftest import HashEmbeddings

    name, other, word, other_word = {name!r}, {other!r}, {word!r}, {other_word!r}
    folder, flags = Path({folder!r}), Path({flags!r})
    settings = Settings(store_dir=folder / "unused", chroma_url={url!r}, collection={collection!r},
                        corpus_dirs=[], chroma_refresh_s=0.2, _env_file=None)
    engine = build_engine(settings, embedder=HashEmbeddings())
    probe = open_manifest(make_client(settings), settings)  # the server's manifest, read fresh
    ROUNDS, DOCS, ARTICLES = 3, 3, 300  # 300 chunks: two add() batches, so a half-written state exists

    def write():
        for r in range(1, ROUNDS + 1):
            for d in range(DOCS):
                body = "\\n".join(f"### Article {{a}}\\nTexte {{name}}{{d}} édition {{r}}, disposition {{a}} : {{word}} congé travail."
                                 for a in range(1, ARTICLES + 1))
                (folder / f"{{name}}{{d}}.md").write_text(f"# Texte {{name}}{{d}} édition {{r}}\\n{{body}}\\n", encoding="utf-8")
            results = engine.index.index_paths([folder], isolated=False)
            assert all(x.status == "indexed" for x in results), results

    writer = threading.Thread(target=write)
    writer.start()
    violations, searches, foreign = [], 0, 0
    while writer.is_alive():
        hits = engine.retriever.search("congé travail disposition", k=30)
        searches += 1
        fresh = {{r.source: r for r in (probe.reload() or probe.records).values()}}
        for h in hits:
            edition = int(re.search(r"édition (\\d+)", h.title).group(1))
            record = fresh.get(h.source)
            now = int(re.search(r"édition (\\d+)", record.title).group(1)) if record else 0
            if now < edition or (now == edition and record.status != "committed"):
                violations.append([h.source, edition, now, record.status if record else None])
            foreign += h.source.startswith(other)
    writer.join()
    (flags / f"{{name}}.done").write_text("1")
    deadline = time.monotonic() + 60
    while not (flags / f"{{other}}.done").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    seen = []
    while time.monotonic() < deadline:  # each of the other's texts, whatever the ranking
        seen = sorted({{(h.source, h.title) for d in range(DOCS)
                        for h in engine.retriever.search(other_word + " congé", k=5, filters=Filters(sources=[f"{{other}}{{d}}.md"]))}})
        if len(seen) == DOCS and all(t.endswith(f"édition {{ROUNDS}}") for _, t in seen):
            break
        time.sleep(0.1)
    docs = sorted(d.source for d in engine.index.documents() if d.status == "committed")
    print(json.dumps({{"violations": violations, "searches": searches, "foreign_hits": foreign,
                      "seen_other": seen, "documents": docs}}))
    """
)


@pytest.mark.slow
def test_two_processes_index_and_search_at_once(server_settings, tmp_path):
    flags = tmp_path / "flags"
    flags.mkdir()
    procs = {}
    for name, other, word, other_word in (("a", "b", "ananas", "banane"), ("b", "a", "banane", "ananas")):
        folder = tmp_path / name
        folder.mkdir()
        code = CHILD.format(
            root=str(PROJECT_ROOT), name=name, other=other, word=word, other_word=other_word, folder=str(folder),
            flags=str(flags), url=server_settings.chroma_url, collection=server_settings.collection,
        )
        procs[name] = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reports = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        reports[name] = json.loads(out.strip().splitlines()[-1])
    for name, other in (("a", "b"), ("b", "a")):
        report = reports[name]
        assert report["violations"] == [], report["violations"][:5]  # nothing half-indexed returned
        assert report["searches"] >= 5
        assert [s for s, _ in report["seen_other"]] == [f"{other}{d}.md" for d in range(3)], report
        assert all(t.endswith("édition 3") for _, t in report["seen_other"])
        assert report["documents"] == sorted(f"{p}{d}.md" for p in "ab" for d in range(3))
    assert reports["a"]["foreign_hits"] + reports["b"]["foreign_hits"] > 0  # they did search each other's texts meanwhile


def test_dead_server_is_a_clear_error_within_seconds(tmp_path, monkeypatch):
    settings = Settings(store_dir=tmp_path / "store", corpus_dirs=[], chroma_url=f"http://127.0.0.1:{free_port()}", _env_file=None)
    start = time.monotonic()
    with pytest.raises(StoreError, match="Serveur Chroma injoignable"):
        build_engine(settings, embedder=HashEmbeddings())
    assert time.monotonic() - start < 5

    monkeypatch.setenv("RAG_CHROMA_URL", settings.chroma_url)
    result = CliRunner().invoke(cli.app, ["search", "art. 184"])
    assert result.exit_code == 3 and "Erreur : Serveur Chroma injoignable" in result.output
    assert "Traceback" not in result.output


def test_hung_server_is_a_clear_error_within_seconds(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts connections, never answers
    try:
        settings = Settings(
            store_dir=tmp_path / "store", corpus_dirs=[], chroma_connect_timeout_s=1.0,
            chroma_url=f"http://127.0.0.1:{listener.getsockname()[1]}", _env_file=None,
        )
        start = time.monotonic()
        with pytest.raises(StoreError, match="aucune réponse en 1 s"):
            build_engine(settings, embedder=HashEmbeddings())
        assert time.monotonic() - start < 5
    finally:
        listener.close()


def test_server_lost_during_use_is_a_clear_error(tmp_path):
    proc, url = start_chroma(tmp_path / "lost")
    settings = Settings(store_dir=tmp_path / "store", corpus_dirs=[], chroma_url=url, chroma_refresh_s=0.0, _env_file=None)
    engine = build_engine(settings, embedder=HashEmbeddings())
    try:
        engine.index.index_paths([_law(tmp_path)], isolated=False)
        assert engine.retriever.search("art. 184")
        stop_chroma(proc)
        start = time.monotonic()
        with pytest.raises(StoreError, match="Serveur Chroma injoignable"):
            engine.retriever.search("art. 184")
        with pytest.raises(StoreError, match="Serveur Chroma injoignable"):
            engine.index.index_paths([_law(tmp_path, "autre.md")], isolated=False)
        assert time.monotonic() - start < 10
    finally:
        engine.close()
        stop_chroma(proc)


class TokenProxy(QuietHandler):
    """A reverse proxy that lets a request through only with the expected token header."""

    protocol_version = "HTTP/1.1"
    upstream: tuple[str, int] = ("127.0.0.1", 0)
    header, expected = "Authorization", "Bearer s3cret"
    refused = 0

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get(self.header) != self.expected:
            type(self).refused += 1
            payload = b'{"error":"Unauthorized"}'
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        connection = HTTPConnection(*self.upstream, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection", self.header.lower())}
        connection.request(self.command, self.path, body=body or None, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        connection.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward


@pytest.mark.parametrize("header, sent", [("Authorization", "Bearer s3cret"), ("X-Chroma-Token", "s3cret")])
def test_token_is_sent_to_the_proxy_in_front_of_the_server(server_settings, tmp_path, header, sent):
    port = int(server_settings.chroma_url.rsplit(":", 1)[1])
    handler = type("Proxy", (TokenProxy,), {"upstream": ("127.0.0.1", port), "header": header, "expected": sent})
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    through = server_settings.model_copy(update={"chroma_url": f"http://127.0.0.1:{proxy.server_address[1]}", "chroma_token_header": header})
    try:
        with pytest.raises(StoreError, match="refuse l'accès \\(HTTP 401\\).*RAG_CHROMA_TOKEN"):
            build_engine(through, embedder=HashEmbeddings())
        wrong = Settings(**{**through.model_dump(), "chroma_token": "faux"})
        with pytest.raises(StoreError, match="HTTP 401"):
            build_engine(wrong, embedder=HashEmbeddings())
        good = Settings(**{**through.model_dump(), "chroma_token": "s3cret"})
        engine = build_engine(good, embedder=HashEmbeddings())
        try:
            refused = handler.refused
            engine.index.index_paths([_law(tmp_path)], isolated=False)
            assert engine.retriever.search("art. 184")[0].article == "184"
            assert handler.refused == refused  # every request of the client carried the token
        finally:
            engine.close()
    finally:
        proxy.shutdown()
        proxy.server_close()


def test_backup_and_restore_through_the_server(server_settings, tmp_path, monkeypatch):
    from rag.backup import BackupError, create_backup, restore_backup

    engine = build_engine(server_settings, embedder=HashEmbeddings())
    engine.index.index_paths([_law(tmp_path), _law(tmp_path, "presse.md", "# Presse\nUne prime de panier pour la nuit.\n")], isolated=False)
    count = engine.index.count()
    engine.close()

    archive, info = create_backup(server_settings, tmp_path / "server.tar.gz")
    assert info.kind == "export" and info.documents == 2 and info.chunks == count
    with tarfile.open(archive) as tar:
        assert tar.getnames()[:1] == ["backup.json"] and {"export/manifest.json", "export/chunks.jsonl"} <= set(tar.getnames())

    with pytest.raises(BackupError, match="--force"):
        restore_backup(server_settings, archive)

    # into a fresh collection of the same server, then searched by a new process view
    fresh = server_settings.model_copy(update={"collection": server_settings.collection + "-copy"})
    report = restore_backup(fresh, archive)
    assert report.info.chunks == count and report.set_aside == []
    copy = build_engine(fresh, embedder=HashEmbeddings())
    try:
        assert copy.index.count() == count and {d.source for d in copy.index.documents()} == {"loi_test.md", "presse.md"}
        assert copy.retriever.search("art. 184")[0].article == "184"
        assert copy.retriever.search("prime de panier")[0].source == "presse.md"
    finally:
        copy.close()

    # --force: the current collections are renamed aside, not deleted
    report = restore_backup(server_settings, archive, force=True)
    chunks_aside, manifest_aside = report.set_aside
    assert chunks_aside.startswith(f"{server_settings.collection}-before-restore-")
    assert manifest_aside.startswith(f"{server_settings.collection}_manifest-before-restore-")
    assert len(_server_rows(server_settings, chunks_aside)["ids"]) == count
    restored = build_engine(server_settings, embedder=HashEmbeddings())
    try:
        assert restored.index.count() == count and restored.retriever.search("art. 201")[0].article == "201"
    finally:
        restored.close()


def test_embedded_corpus_moves_onto_the_server(settings, server_settings, tmp_path):
    """`rag backup` on a laptop, `rag restore` with RAG_CHROMA_URL: the same corpus on the server."""
    from rag.backup import create_backup, restore_backup

    laptop = build_engine(settings, embedder=HashEmbeddings())
    laptop.index.index_paths([_law(tmp_path)], isolated=False)
    count, before = laptop.index.count(), [h.chunk_id for h in laptop.retriever.search("durée normale de travail")]
    laptop.close()
    archive, _ = create_backup(settings, tmp_path / "laptop.tar.gz")

    restore_backup(server_settings, archive)
    server = build_engine(server_settings, embedder=HashEmbeddings())
    try:
        assert server.index.count() == count
        assert [h.chunk_id for h in server.retriever.search("durée normale de travail")] == before
        assert server.index.index_paths([tmp_path / "loi_test.md"], isolated=False)[0].status == "skipped"
    finally:
        server.close()


def test_rebuild_on_the_server_renames_the_collections_and_reindexes(server_settings, tmp_path):
    from rag.index import Index
    from rag.rebuild import rebuild_store

    engine = build_engine(server_settings, embedder=HashEmbeddings())
    engine.index.index_paths([_law(tmp_path)], isolated=False)
    engine.close()
    report = rebuild_store(server_settings, lambda: Index(server_settings, HashEmbeddings()))
    assert [r.status for r in report.results] == ["indexed"] and report.missing == []
    assert len(report.set_aside) == 2 and all("-damaged-" in n for n in report.set_aside)
    assert _server_rows(server_settings, report.set_aside[0])["ids"]  # the old rows are kept
    again = build_engine(server_settings, embedder=HashEmbeddings())
    try:
        assert again.retriever.search("art. 201")[0].article == "201"
    finally:
        again.close()


def test_nothing_is_written_to_the_store_folder_in_server_mode(server_settings, tmp_path):
    engine = build_engine(server_settings, embedder=HashEmbeddings())
    try:
        engine.index.index_paths([_law(tmp_path)], isolated=False)
    finally:
        engine.close()
    assert not server_settings.store_dir.exists() or not any(server_settings.store_dir.iterdir())


@pytest.mark.parametrize("url", ["127.0.0.1:8000", "http://127.0.0.1:8000/chroma", "ftp://127.0.0.1"])
def test_malformed_server_url_is_refused_before_any_request(tmp_path, url, no_network):
    settings = Settings(store_dir=tmp_path / "store", corpus_dirs=[], chroma_url=url, _env_file=None)
    with pytest.raises(StoreError, match="RAG_CHROMA_URL invalide"):
        build_engine(settings, embedder=HashEmbeddings())
