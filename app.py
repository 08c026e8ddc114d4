"""Ittifaq web app: index the corpus folders, then serve the interface on settings.host:settings.port.

    .venv/bin/python app.py          (or `make run`)

Everything comes from RAG_* settings (rag/settings.py). Nothing is downloaded: the embedder and the
chat model are packaged, and the chat model is only loaded at the first question.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

# before gradio is imported anywhere
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

log = logging.getLogger("ittifaq")


def index_corpus(engine, settings) -> None:
    """Index the corpus folders (unchanged files are skipped) and log a one-line summary."""
    folders = [d for d in settings.corpus_dirs if d.is_dir()]
    for missing in (d for d in settings.corpus_dirs if not d.is_dir()):
        log.warning("corpus folder not found, skipped: %s", missing)
    if not folders:
        return
    state = {"last": -1}

    def progress(fraction: float, message: str) -> None:
        tenth = int(fraction * 10)
        if tenth > state["last"]:
            state["last"] = tenth
            log.info("indexing %3d%%  %s", tenth * 10, message)

    results = engine.index.index_paths(folders, progress=progress)
    counts = {s: sum(1 for r in results if r.status == s) for s in ("indexed", "skipped", "failed")}
    for failed in (r for r in results if r.status == "failed"):
        log.warning("not indexed: %s — %s", failed.source, failed.message)
    log.info(
        "corpus: %d indexed, %d unchanged, %d failed; %d texts, %d passages in the store",
        counts["indexed"], counts["skipped"], counts["failed"], len(engine.index.documents()), engine.index.count(),
    )


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("httpx", "chromadb", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    from rag.engine import build_engine
    from rag.index import StoreError
    from rag.settings import load_settings
    from rag.workspace import load_users

    settings = load_settings()
    users = None
    if settings.users_file:
        try:
            users = load_users(settings.users_file)
        except (OSError, ValueError) as exc:
            log.error("login file unusable: %s", exc)
            return 2
        log.info("login on: %d user(s), %d admin(s)", len(users), sum(u.admin for u in users.values()))
    elif settings.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("listening on %s without login: anyone on the network can use the app (set RAG_USERS_FILE)", settings.host)
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    try:
        engine = build_engine(settings)
    except StoreError as exc:
        log.error("%s", exc)
        return 3
    try:
        for record in engine.index.interrupted():
            if settings.chroma_url:  # shared server: another app process may be writing it right now
                log.warning("%s is marked 'indexing' on the shared store (in progress elsewhere, or interrupted)", record.source)
            else:
                log.warning("interrupted indexing of %s: it will be re-indexed", record.source)
        index_corpus(engine, settings)

        # load the model and build the BM25 index now, not during the first negotiator's question
        threading.Thread(target=warm_up, args=(engine,), name="warm-up", daemon=True).start()

        from rag.web import DownloadGuard, build_ui, launch

        guard = DownloadGuard()
        guard.scan(settings.data_dir)
        demo = build_ui(engine, settings, users=users, guard=guard)
        log.info("Ittifaq on http://%s:%d", settings.host, settings.port)
        # never a share link; login, served paths, security middleware, upload cap: see rag.web.layout.launch
        launch(demo, settings, users=users, guard=guard)
    finally:
        engine.close()
    return 0


def warm_up(engine) -> None:
    """Build the lexical index, read the questions written per article and load the chat model
    (reading its system prompt) ahead of use."""
    try:
        engine.index.lexical()
        engine.retriever.glosses()
        engine.chat  # noqa: B018 (loading is the point)
    except Exception as exc:  # the first question will report it to the user
        log.warning("warm-up: %s", exc)


if __name__ == "__main__":
    sys.exit(main())
