"""Disk and store faults (TESTPLAN F4, F5, F6), on real file systems.

- F4 disk full: a real ENOSPC from a small tmpfs mounted in a private mount namespace (``unshare``;
  as root, or as a user where user namespaces are allowed): indexing and export fail with a clear
  message, the store opens again once room is made, no empty or partial export is left.
- F5 corrupted store: the store's files are damaged on disk, then opened in a child process (a
  damaged index can crash native code): the damage must be detected at opening, with the way out.
- F6 read-only store: a read-only bind mount (``chmod`` does not stop root): clear message.

Each scenario runs as a child Python script that prints one JSON line of facts; the assertions are
made here, on those facts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rag.settings import PROJECT_ROOT

PRELUDE = textwrap.dedent(
    """
    import errno, json, os, sys, logging
    sys.path.insert(0, {root!r})
    logging.disable(logging.CRITICAL)
    from pathlib import Path
    from types import SimpleNamespace
    from rag.settings import Settings
    from tests.conftest import HashEmbeddings

    ROOT = Path({tmp!r})
    MOUNT = ROOT / "mnt"
    facts = {{}}

    def fill(folder: Path, leave: int = 0) -> None:
        # write until the file system refuses (what is left is less than a page), then give back
        # ``leave`` bytes: a disk that is nearly, not completely, full
        with open(folder / "ballast", "wb") as handle:
            block = b"x" * 65536
            try:
                while True:
                    handle.write(block)
                    handle.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
        for size in (4096, 512, 1):
            try:
                with open(folder / "ballast", "ab") as handle:
                    while True:
                        handle.write(b"x" * size)
                        handle.flush()
            except OSError:
                pass
        if leave:
            os.truncate(folder / "ballast", (folder / "ballast").stat().st_size - leave)

    def free(folder: Path) -> None:
        (folder / "ballast").unlink()
    """
)


def _namespace_prefix(network: bool = False) -> list[str]:
    """A private mount namespace (and, with ``network``, a network namespace with loopback only)."""
    user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    return ["unshare", *user, "--mount", "--propagation", "private", *(["--net"] if network else [])]


def run_child(tmp: Path, body: str, mounts: str = "", timeout: int = 300, network: bool = True) -> dict:
    """``body`` runs after PRELUDE in a fresh interpreter; with ``mounts`` (shell commands), inside a
    private mount namespace where they were run first; with ``network=False``, in a network
    namespace where only loopback exists. Returns the JSON it printed last."""
    script = PRELUDE.format(root=str(PROJECT_ROOT), tmp=str(tmp)) + textwrap.dedent(body) + "\nprint(json.dumps(facts))\n"
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    if not network:
        mounts = " && ".join(part for part in ("ip link set lo up", mounts) if part)
    if mounts:
        command = _namespace_prefix(network=not network) + ["sh", "-c", f'{mounts} && exec "$0" -c "$1"', sys.executable, script]
    else:
        command = [sys.executable, "-c", script]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"child printed no facts (rc={done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    facts = json.loads(lines[-1])
    facts["returncode"] = done.returncode
    return facts


@pytest.fixture(scope="module")
def private_mounts(tmp_path_factory) -> None:
    """Skip (with the reason) where no private tmpfs or bind mount can be made."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed")
    probe = tmp_path_factory.mktemp("probe")
    done = subprocess.run(_namespace_prefix() + ["sh", "-c", f"mount -t tmpfs -o size=1m tmpfs {probe} && mount --bind {probe} {probe}"],
                          capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        pytest.skip(f"no private mount namespace here: {done.stderr.strip()}")


def tmpfs(folder: Path, megabytes: int) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    return f"mount -t tmpfs -o size={megabytes}m tmpfs {folder}"


def write_docs(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "petit.md").write_text("# Petit accord\n### Article 1\nLe repos hebdomadaire est de vingt-quatre heures.\n", encoding="utf-8")
    body = "".join(f"### Article {n}\n" + f"Disposition {n} sur la durée du travail, les congés et les pauses. " * 25 + "\n" for n in range(1, 2500))
    (folder / "gros_accord.md").write_text("# Gros accord\n" + body, encoding="utf-8")


# ---- F4: disk full ------------------------------------------------------------------------------------


@pytest.mark.parametrize("leave", [0, 1024 * 1024], ids=["full", "nearly-full"])
def test_disk_full_while_indexing(private_mounts, tmp_path, leave):
    """Store on a full disk: the upload fails with "disque plein", nothing committed is lost, the
    store opens once room is made, the interrupted text is marked and re-indexes. Completely full,
    the manifest write fails first (OSError); nearly full, Chroma's own write does (its error)."""
    write_docs(tmp_path / "docs")
    facts = run_child(tmp_path, f"""
        from rag.engine import build_engine
        from rag.web import Handlers

        settings = Settings(store_dir=MOUNT / "store", data_dir=ROOT / "users", corpus_dirs=[], _env_file=None)
        engine = build_engine(settings, embedder=HashEmbeddings())
        first = engine.index.index_paths([ROOT / "docs" / "petit.md"], isolated=False)
        facts["first"] = first[0].status
        fill(MOUNT, leave={leave})
        ui = Handlers(engine, settings)
        out = ui.corpus.index_uploads([str(ROOT / "docs" / "gros_accord.md")], SimpleNamespace(username=None), progress=None)
        facts["notice"] = out["corpus_notice"]
        facts["rows"] = out["index_results"] if isinstance(out["index_results"], list) else None
        engine.close()
        free(MOUNT)
        engine = build_engine(settings, embedder=HashEmbeddings())
        docs = {{d.source: d for d in engine.index.documents()}}
        facts["after"] = {{s: d.status for s, d in docs.items()}}
        facts["count"] = engine.index.count()
        facts["committed_chunks"] = sum(d.chunks for d in docs.values() if d.status == "committed")
        facts["hits"] = [h.source for h in engine.retriever.search("repos hebdomadaire vingt-quatre heures", k=3)]
        facts["listed"] = [row[-1] for row in Handlers(engine, settings).corpus.document_rows() if row[0] == "gros_accord.md"]
        again = engine.index.index_paths([p for p in (settings.data_dir / "_uploads").glob("*/gros_accord.md")] or [ROOT / "docs" / "gros_accord.md"], isolated=False)
        facts["again"] = again[0].status
        facts["final"] = {{d.source: d.status for d in engine.index.documents()}}
        engine.close()
    """, mounts=tmpfs(tmp_path / "mnt", 48))
    assert facts["first"] == "indexed"
    said = facts["notice"] + " ".join(row[2] for row in facts["rows"] or [])
    assert "disque plein" in said.lower(), (facts["notice"], facts["rows"])
    assert "Traceback" not in facts["notice"] and "InternalError" not in facts["notice"]
    assert facts["after"]["petit.md"] == "committed"
    assert facts["after"].get("gros_accord.md", "indexing") == "indexing"  # marked interrupted, never half-served
    assert facts["count"] == facts["committed_chunks"] and facts["hits"][:1] == ["petit.md"]
    assert facts["listed"] in ([], ["interrompu : à ré-indexer"])
    assert facts["again"] == "indexed" and facts["final"] == {"petit.md": "committed", "gros_accord.md": "committed"}


def test_disk_full_while_staging_an_upload(private_mounts, tmp_path):
    """The users' folder is full: the upload cannot even be copied; the message says why."""
    write_docs(tmp_path / "docs")
    facts = run_child(tmp_path, """
        from rag.engine import build_engine
        from rag.web import Handlers

        settings = Settings(store_dir=ROOT / "store", data_dir=MOUNT / "users", corpus_dirs=[], _env_file=None)
        engine = build_engine(settings, embedder=HashEmbeddings())
        (MOUNT / "users").mkdir()
        fill(MOUNT)
        out = Handlers(engine, settings).corpus.index_uploads([str(ROOT / "docs" / "petit.md")], SimpleNamespace(username=None), progress=None)
        facts["rows"] = out["index_results"]
        facts["documents"] = [d.source for d in engine.index.documents()]
        facts["leftovers"] = [str(p) for p in (MOUNT / "users").rglob("*") if p.is_file()]
        engine.close()
    """, mounts=tmpfs(tmp_path / "mnt", 8))
    [row] = facts["rows"]
    assert row[:2] == ["petit.md", "échec"] and "disque plein" in row[2].lower(), row
    assert facts["documents"] == []
    assert not any(p.endswith("petit.md") for p in facts["leftovers"]), facts["leftovers"]


@pytest.mark.parametrize("fmt", ["md", "docx"])
@pytest.mark.parametrize("with_title", [True, False], ids=["title-saved-first", "export-write"])
def test_disk_full_while_exporting(private_mounts, tmp_path, fmt, with_title):
    """A full disk during export: clear message, the previous export intact, no empty or partial file."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "ma_code_travail_fr_2011.md").write_text(
        "# Code du travail\n### Article 350\nLe salarié bénéficie d'une prime d'ancienneté de 5 % après deux ans de service.\n", encoding="utf-8")
    facts = run_child(tmp_path, f"""
        from rag.engine import build_engine
        from rag.web import Handlers

        settings = Settings(store_dir=ROOT / "store", data_dir=MOUNT / "users", corpus_dirs=[], _env_file=None)
        engine = build_engine(settings, embedder=HashEmbeddings())
        engine.index.index_paths([ROOT / "docs" / "ma_code_travail_fr_2011.md"], isolated=False)
        ui = Handlers(engine, settings)
        alice = SimpleNamespace(username="alice")
        topic = next(v for t, v in ui.drafting.library_choices() if "ancienneté" in t.lower())
        clause = ui.drafting.draft_clause(topic, "", "8 % après 2 ans", "", "target", False, alice)["clause"]
        ui.drafting.add_to_project(clause, None, alice)
        ui.project.export_project({fmt!r}, "Projet", "Préambule", alice)
        exports = MOUNT / "users" / "alice" / "exports"
        facts["v1"] = sorted(p.name for p in exports.iterdir())
        v1 = {{p.name: p.read_bytes() for p in exports.iterdir()}}
        ui.drafting.add_to_project(clause, None, alice)  # a second clause: the next export is bigger
        fill(MOUNT)
        exported = ui.project.export_project({fmt!r}, *(("Projet", "Préambule") if {with_title!r} else (None, None)), alice)
        facts["path"], facts["notice"] = exported["export_file"], exported["project_notice"]
        facts["files"] = sorted(p.name for p in exports.iterdir())
        facts["sizes"] = [p.stat().st_size for p in exports.iterdir()]
        facts["unchanged"] = all(p.read_bytes() == v1.get(p.name) for p in exports.iterdir())
        facts["project_clauses"] = len(ui.project.workspace(alice).load_project()["clauses"])
        engine.close()
    """, mounts=tmpfs(tmp_path / "mnt", 8))
    assert len(facts["v1"]) == 1
    assert facts["path"] is None
    assert "disque plein" in facts["notice"] and "Aucun fichier incomplet" in facts["notice"], facts["notice"]
    assert facts["files"] == facts["v1"] and facts["unchanged"]  # no .part file, no empty file, v1 intact
    assert all(size > 0 for size in facts["sizes"])
    assert facts["project_clauses"] == 2  # the project itself is intact


# ---- F5: corrupted store ----------------------------------------------------------------------------

OPEN_STORE = """
    from rag.index import Index
    from rag.retrieve import Retriever
    from rag.store import StoreError
    settings = Settings(store_dir=ROOT / "store", corpus_dirs=[], _env_file=None)
    try:
        index = Index(settings, HashEmbeddings())
    except StoreError as exc:
        facts["error"] = str(exc)
    except Exception as exc:
        facts["crash"] = f"{type(exc).__name__}: {exc}"
    else:
        facts["documents"] = {d.source: d.chunks for d in index.documents()}
        facts["count"] = index.count()
        facts["hits"] = len(Retriever(index, HashEmbeddings(), settings).search("durée du travail congés", k=3))
        index.close()
"""


@pytest.fixture(scope="module")
def healthy_store(tmp_path_factory) -> Path:
    """A store of 2,500 passages (enough for Chroma to write its HNSW files), built once."""
    root = tmp_path_factory.mktemp("store")
    write_docs(root / "docs")
    facts = run_child(root, """
        from rag.index import Index
        index = Index(Settings(store_dir=ROOT / "store", corpus_dirs=[], _env_file=None), HashEmbeddings())
        facts["results"] = [r.status for r in index.index_paths([ROOT / "docs"], isolated=False)]
        facts["count"] = index.count()
        index.close()
    """)
    assert facts["results"] == ["indexed", "indexed"] and facts["count"] > 2000
    assert list((root / "store" / "chroma").glob("*/data_level0.bin"))
    return root / "store"


def damaged_copy(healthy: Path, tmp_path: Path, damage) -> Path:
    shutil.copytree(healthy, tmp_path / "store")
    damage(tmp_path / "store")
    return tmp_path


def _overwrite_head(path: Path, size: int = 4096) -> None:
    data = bytearray(path.read_bytes())
    data[:size] = b"\xde\xad\xbe\xef" * (size // 4)
    path.write_bytes(bytes(data))


def _halve(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


DAMAGE = {
    "database_header_overwritten": lambda store: _overwrite_head(store / "chroma" / "chroma.sqlite3"),
    "database_truncated": lambda store: _halve(store / "chroma" / "chroma.sqlite3"),
    "vector_files_overwritten": lambda store: [_overwrite_head(p, min(4096, p.stat().st_size)) for p in (store / "chroma").glob("*/*.bin")],
    "vector_files_truncated": lambda store: [_halve(p) for p in (store / "chroma").glob("*/*.bin")],
    "manifest_not_json": lambda store: (store / "manifest.json").write_text("{ pas du json", encoding="utf-8"),
    "manifest_wrong_shape": lambda store: (store / "manifest.json").write_text('{"documents": {"x": {"inconnu": 1}}}', encoding="utf-8"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_corrupted_store_is_detected_at_opening(healthy_store, tmp_path, damage):
    facts = run_child(damaged_copy(healthy_store, tmp_path, DAMAGE[damage]), OPEN_STORE)
    assert "crash" not in facts, facts["crash"]
    assert "error" in facts, f"the damaged store opened: {facts}"
    assert "rag rebuild" in facts["error"] and ("endommagé" in facts["error"] or "illisible" in facts["error"] or "ne peut pas" in facts["error"])


def test_healthy_copy_opens(healthy_store, tmp_path):
    """The control: the same copy, undamaged, opens and answers."""
    facts = run_child(damaged_copy(healthy_store, tmp_path, lambda store: None), OPEN_STORE)
    assert "error" not in facts and "crash" not in facts and facts["hits"] == 3
    assert facts["count"] == sum(facts["documents"].values())


@pytest.mark.parametrize("damage", ["emptied", "deleted"])
def test_lost_database_is_detected_at_opening(healthy_store, tmp_path, damage):
    def lose(store: Path) -> None:
        database = store / "chroma" / "chroma.sqlite3"
        database.write_bytes(b"") if damage == "emptied" else database.unlink()

    facts = run_child(damaged_copy(healthy_store, tmp_path, lose), OPEN_STORE)
    assert "error" in facts and "rag rebuild" in facts["error"], facts


# ---- F6: read-only store -----------------------------------------------------------------------------


def read_only(folder: Path) -> str:
    return f"mount --bind {folder} {folder} && mount -o remount,ro,bind {folder}"


def test_read_only_store_gives_a_clear_message(private_mounts, healthy_store, tmp_path):
    shutil.copytree(healthy_store, tmp_path / "store")
    facts = run_child(tmp_path, OPEN_STORE, mounts=read_only(tmp_path / "store"))
    assert "crash" not in facts, facts["crash"]
    assert "lecture seule" in facts.get("error", ""), facts


def test_read_only_user_folder_keeps_the_app_answering(private_mounts, tmp_path):
    """Conversations and exports cannot be written: the answer is still given, and both say why."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "ma_code_travail_fr_2011.md").write_text(
        "# Code du travail\n### Article 184\nLa durée normale de travail est fixée à 44 heures par semaine.\n", encoding="utf-8")
    (tmp_path / "users" / "alice").mkdir(parents=True)
    facts = run_child(tmp_path, """
        from rag.engine import build_engine
        from rag.web import Handlers
        from tests.conftest import RecordingFake

        settings = Settings(store_dir=ROOT / "store", data_dir=ROOT / "users", corpus_dirs=[], _env_file=None)
        engine = build_engine(settings, embedder=HashEmbeddings(), chat=RecordingFake(["La durée est de 44 heures [S1]."]))
        engine.index.index_paths([ROOT / "docs" / "ma_code_travail_fr_2011.md"], isolated=False)
        engine.settings.min_similarity = 0.05
        ui = Handlers(engine, settings)
        alice = SimpleNamespace(username="alice")
        final = list(ui.chat.chat_submit("Durée du travail ? art. 184", None, None, None, None, alice))[-1]
        facts["answer"] = final["chatbot"][-1]["content"]
        facts["chat_notice"] = final["chat_notice"]
        facts["export"] = ui.project.export_project("md", "Projet", "Préambule", alice)["project_notice"]
        engine.close()
    """, mounts=read_only(tmp_path / "users"))
    assert "art. 184" in facts["answer"]
    assert "n'a pas pu être enregistrée" in facts["chat_notice"]
    assert "lecture seule" in facts["export"] and "Aucun fichier incomplet" in facts["export"], facts["export"]


# ---- F7: no network at all -------------------------------------------------------------------------------

OFFLINE_SESSION = """
    import socket, httpx
    from gradio_client import Client
    from rag.engine import build_engine
    from rag.web import DownloadGuard, build_ui, launch
    from tests.conftest import RecordingFake

    try:
        socket.create_connection(("1.1.1.1", 53), timeout=3).close()
        facts["outside_reachable"] = True
    except OSError:
        facts["outside_reachable"] = False
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings(store_dir=ROOT / "store", data_dir=ROOT / "users", corpus_dirs=[], port=port, llm_max_tokens=60, _env_file=None)
    engine = build_engine(settings, chat=None if REAL_MODEL else RecordingFake(["La durée normale est de 44 heures par semaine [S1]."]))
    if REAL_MODEL:
        settings.local_model = "qwen0.5b"
    facts["indexed"] = [r.status for r in engine.index.index_paths([ROOT / "docs"])]  # real e5, isolated parser
    facts["hits"] = [h.article for h in engine.retriever.search("durée normale du travail par semaine", k=3)]
    demo = build_ui(engine, settings, guard=DownloadGuard())
    launch(demo, settings, prevent_thread_lock=True, quiet=True)
    facts["page"] = httpx.get(f"http://127.0.0.1:{port}/", timeout=30).status_code
    final = Client(f"http://127.0.0.1:{port}", verbose=False).predict("Quelle est la durée normale du travail par semaine ?", [], [], "", api_name="/chat_submit")
    facts["answer"] = "".join(part.get("text", "") for part in final[0][-1]["content"])
    demo.close()
    engine.close()
"""


@pytest.fixture(scope="module")
def offline_docs(tmp_path_factory) -> Path:
    """Skips where no network namespace can be made (no unshare, no ip, no rights)."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("unshare or ip is not installed")
    done = subprocess.run(_namespace_prefix(network=True) + ["sh", "-c", "ip link set lo up"], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        pytest.skip(f"no network namespace here: {done.stderr.strip()}")
    root = tmp_path_factory.mktemp("offline")
    (root / "docs").mkdir()
    (root / "docs" / "ma_code_travail_fr_2011.md").write_text(
        "# Code du travail\n### Article 184\nDans les activités non agricoles, la durée normale de travail est fixée à 2288 heures "
        "par année ou 44 heures par semaine.\n### Article 205\nLe repos hebdomadaire est de vingt-quatre heures.\n", encoding="utf-8")
    from tests.conftest import make_pdf

    (root / "docs" / "note.pdf").write_bytes(make_pdf(["Article 1\nLe délai entre deux appels est de vingt secondes au moins."]))
    return root


def test_everything_works_without_any_network(offline_docs):
    """In a network namespace with loopback only: packaged embedder, parser process, store, web
    app and API client all work (the chat model is the fake here; the real one is the slow test)."""
    facts = run_child(offline_docs, "REAL_MODEL = False\n" + textwrap.dedent(OFFLINE_SESSION), network=False)
    assert facts["outside_reachable"] is False  # the namespace really has no network
    assert facts["indexed"] == ["indexed", "indexed"] and "184" in facts["hits"]
    assert facts["page"] == 200 and "44 heures" in facts["answer"] and "art. 184" in facts["answer"]


@pytest.mark.slow
def test_real_local_model_answers_without_any_network(offline_docs):
    facts = run_child(offline_docs, "REAL_MODEL = True\n" + textwrap.dedent(OFFLINE_SESSION), network=False, timeout=600)
    assert facts["outside_reachable"] is False
    assert facts["answer"].strip() and not facts["answer"].startswith("⚠"), facts["answer"]
