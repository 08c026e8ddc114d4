"""The first hour's two waits that are not chat answers: the page after `make run`, and a default draft.

    .venv/bin/python benchmarks/bench_first_hour.py [--runs 3] [--store DIR]

1. Page usable: ``app.py`` is started as `make run` starts it (same settings, corpus/ indexed), on an
   already-indexed store, and timed until ``GET /`` answers with the Gradio page and ``/config``
   lists the app's components; it is stopped (SIGTERM) and started again ``--runs`` times. The first
   start on an empty store (indexing corpus/) is printed separately.
2. Draft with the defaults: the Rédaction tab's handler (``draft_clause``, « exposé des motifs par le
   modèle » unticked, as the page opens), in process, one demand per topic of the clause library.

Targets (issue 15): page usable ≤ 10 s, draft with defaults ≤ 5 s. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from rag.evaluate import percentile  # noqa: E402
from rag.runtime import cpu_description, free_port, stop_process  # noqa: E402


def time_start(env: dict[str, str], port: int, limit_s: float = 600.0) -> float:
    """Seconds from spawning app.py to a page whose /config names the app's blocks."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(PROJECT_ROOT / "app.py")], cwd=PROJECT_ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - started < limit_s:
            if proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {proc.returncode} before serving the page")
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2.0)
                config = httpx.get(f"http://127.0.0.1:{port}/config", timeout=2.0)
                if page.status_code == 200 and config.status_code == 200 and config.json().get("components"):
                    return time.perf_counter() - started
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"no page after {limit_s:.0f} s")
    finally:
        stop_process(proc, grace_s=30.0)


def time_drafts(store: Path, data: Path) -> list[tuple[str, float]]:
    from rag.engine import build_engine
    from rag.settings import load_settings
    from rag.web.layout import Handlers

    settings = load_settings().model_copy(update={"store_dir": store, "data_dir": data})
    engine = build_engine(settings)
    try:
        handlers = Handlers(engine, settings)
        timings = []
        for title, topic in handlers.drafting.library_choices():
            began = time.perf_counter()
            result = handlers.drafting.draft_clause(topic, "", "", "", "target", use_model=False)
            timings.append((title, time.perf_counter() - began))
            if not result.get("clause_text"):
                raise RuntimeError(f"no clause drafted for {topic}: {result.get('draft_notice')}")
        return timings
    finally:
        engine.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--store", type=Path, help="an indexed store to start on (default: a fresh one, indexed at the first start)")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="ittifaq-first-hour-"))
    store = args.store or work / "store"
    data = work / "data"
    env = {**os.environ, "RAG_STORE_DIR": str(store), "RAG_DATA_DIR": str(data), "RAG_HOST": "127.0.0.1"}
    try:
        cold = None
        if args.store is None:
            env["RAG_PORT"] = str(port := free_port())
            cold = time_start(env, port)
        warm = []
        for _ in range(args.runs):
            env["RAG_PORT"] = str(port := free_port())
            warm.append(time_start(env, port))
        drafts = time_drafts(store, data)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    seconds = [s for _, s in drafts]
    load = os.getloadavg()[0]
    print(f"CPU: {cpu_description()[0] or platform.processor() or '?'}, {os.cpu_count()} cores; load average at the end {load:.2f}")
    print("| measure | result | target |")
    print("|---|---|---|")
    if cold is not None:
        print(f"| first start, empty store (corpus/ indexed) | {cold:.1f} s | — |")
    print(f"| page usable, indexed store ({len(warm)} starts) | p50 {percentile(warm, 0.5):.1f} s, max {max(warm):.1f} s | ≤ 10 s |")
    print(f"| draft with defaults ({len(drafts)} library topics) | p50 {percentile(seconds, 0.5):.2f} s, max {max(seconds):.2f} s | ≤ 5 s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
