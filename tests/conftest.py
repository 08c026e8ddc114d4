"""Shared fixtures: a deterministic embedder, settings on a temp dir, a real store, generated files.

The store, the files and the PDF parser are real; only the embedder (for speed) and the chat model
are replaced, and only where a test says so.
"""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from rag.lexical import tokenize
from rag.models import LangChainChatModel
from rag.settings import PROJECT_ROOT, Settings

SHARED_CORPUS = (PROJECT_ROOT.parent / "shared" / "corpus").resolve()
CODE_FR = SHARED_CORPUS / "ma_code_travail_fr_2011.pdf"
CODE_AR = SHARED_CORPUS / "ma_mudawwana_shughl_ar_2021.pdf"

# a small law with three articles (durée, heures supplémentaires, repos), indexed by the chat tests
LAW = """# Loi test
## Titre III : De la durée du travail
### Article 184
Dans les activités non agricoles, la durée normale de travail est fixée à 2288 heures par année ou 44 heures par semaine.
### Article 201
Les heures supplémentaires donnent lieu à une majoration de 25 % si elles sont effectuées entre 6 heures et 21 heures et de 50 % entre 21 heures et 6 heures.
### Article 205
Le repos hebdomadaire est de vingt-quatre heures au minimum.
"""


def need_shared(*paths: Path) -> None:
    for path in paths or (SHARED_CORPUS,):
        if not path.exists():
            pytest.skip(f"official corpus file not available: {path} (../shared/corpus)")


class HashEmbeddings(Embeddings):
    """Deterministic bag-of-stems embedder: same text, same vector; shared words, closer vectors."""

    dim = 384

    def _vector(self, text: str) -> list[float]:
        vec = np.zeros(self.dim)
        for token in tokenize(text) or ["∅"]:
            digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
            vec[int.from_bytes(digest[:4], "little") % self.dim] += 1.0 if digest[4] & 1 else -1.0
        norm = np.linalg.norm(vec)
        return (vec / norm if norm else vec).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        store_dir=tmp_path / "store",
        data_dir=tmp_path / "users",
        cache_dir=PROJECT_ROOT / ".cache",
        corpus_dirs=[],
        parse_timeout_s=60,
        min_similarity=0.05,  # the hash embedder's scale (its cosines are far below e5's)
        glosses_dir=None,  # the shipped questions per article name real articles; tests/test_glosses.py and test_retrieve.py use them
        _env_file=None,
    )


@pytest.fixture
def engine(settings: Settings):
    from rag.engine import build_engine

    eng = build_engine(settings, embedder=HashEmbeddings())
    yield eng
    eng.close()


@pytest.fixture
def runner(monkeypatch, tmp_path):
    """A typer CliRunner whose commands build their engine with the hash embedder, on a store in
    ``tmp_path/store``, with no corpus folder and no Chroma server configured."""
    from typer.testing import CliRunner

    from rag import engine as engine_module

    real = engine_module.build_engine

    def fake_embedder_engine(settings, embedder=None, chat=None, client=None):
        return real(settings, embedder=embedder or HashEmbeddings(), chat=chat, client=client)

    monkeypatch.setattr(engine_module, "build_engine", fake_embedder_engine)
    monkeypatch.setenv("RAG_STORE_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("RAG_CORPUS_DIRS", "[]")
    monkeypatch.delenv("RAG_CHROMA_URL", raising=False)
    return CliRunner()


@pytest.fixture
def no_network(monkeypatch):
    """Any connection to a non-loopback address raises: proves nothing is downloaded."""
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and (host.startswith("127.") or host in ("localhost", "::1")) or self.family == socket.AF_UNIX:
            return real_connect(self, address)
        raise OSError(f"network access attempted in an offline test: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", guarded)
    real_getaddrinfo = socket.getaddrinfo

    def guarded_getaddrinfo(host, *args, **kwargs):
        if host in (None, "localhost", "127.0.0.1", "::1") or str(host).startswith("127."):
            return real_getaddrinfo(host, *args, **kwargs)
        raise OSError(f"DNS lookup attempted in an offline test: {host!r}")

    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)


def make_pdf(pages: list[str], encrypt: bool = False) -> bytes:
    """A real, minimal PDF (Helvetica text, one content stream per page), written by hand."""
    objects: list[bytes] = []
    page_ids = []
    font_id = 3
    objects.append(b"")  # 1 catalog (filled later)
    objects.append(b"")  # 2 pages
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    for text in pages:
        lines = text.split("\n")
        ops = ["BT", "/F1 11 Tf", "14 TL", "50 790 Td"]
        for line in lines:
            safe = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"({safe}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode("cp1252", errors="replace")
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        content_id = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
            % (font_id, content_id)
        )
        page_ids.append(len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % i for i in page_ids), len(page_ids))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    data = bytes(out)
    if encrypt:
        import io

        import pypdf

        reader = pypdf.PdfReader(io.BytesIO(data))
        writer = pypdf.PdfWriter()
        for page in reader.pages:
            writer.add_page(page)
        writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
        buf = io.BytesIO()
        writer.write(buf)
        data = buf.getvalue()
    return data


@pytest.fixture
def pdf_factory():
    return make_pdf


# ---- fake chat models (the only fakes of the suite: the store, files and parser are real) -------


class RecordingFake(LangChainChatModel):
    """LangChain's GenericFakeChatModel behind our adapter, recording the prompts it receives."""

    def __init__(self, replies: list[str], n_ctx: int = 4096):
        from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
        from langchain_core.messages import AIMessage

        super().__init__(GenericFakeChatModel(messages=iter(AIMessage(content=r) for r in replies)), "fake", n_ctx)
        self.prompts: list[list[dict]] = []

    def stream(self, messages, max_tokens=None):
        self.prompts.append(messages)
        yield from super().stream(messages, max_tokens)


class FailingModel:
    name = "failing"
    n_ctx = 4096

    def __init__(self, after: list[str], exc: Exception):
        self.after, self.exc = after, exc

    def stream(self, messages, max_tokens=None):
        yield from self.after
        raise self.exc


@pytest.fixture
def fake_chat():
    """A factory: ``fake_chat("reply 1", "reply 2")`` → a :class:`RecordingFake` answering those replies."""
    return lambda *replies, n_ctx=4096: RecordingFake(list(replies), n_ctx)
