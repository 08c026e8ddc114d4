"""Search latency through a Chroma server vs the embedded store, same corpus, same run.

What it does:

1. indexes ``ma_code_travail_fr_2011.pdf`` once, with the packaged e5 embedder, into an embedded
   store in a temp dir;
2. starts ``chroma run`` on a free loopback port (temp dir) and moves that corpus onto it with
   ``rag backup`` / ``rag restore`` (the same chunks and vectors, no second embedding);
3. for 1, 10 and 50 concurrent clients (threads sharing one engine, as the web app's request
   threads do), runs the questions of ``tests/data/qa.jsonl`` round-robin through
   ``Retriever.search`` on the embedded store, then on the server, and reports p50 / p95 latency
   and throughput.

Query vectors are computed once beforehand and served from a cache, so the figures compare the
store paths (article lookup, BM25, Chroma dense query, fusion, liveness checks, the server's
generation check) rather than the CPU-bound e5 query embedding, which is the same in both modes
and is reported separately (single client).

Usage (from the project root)::

    .venv/bin/python benchmarks/bench_server.py [--pdf FILE] [--requests N] [--out DIR]

Prints a Markdown table and writes ``<out>/bench_server.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from bench_retrieval import machine_facts  # noqa: E402  (same folder)

from rag.backup import create_backup, restore_backup  # noqa: E402
from rag.engine import build_engine  # noqa: E402
from rag.evaluate import load_questions, percentile  # noqa: E402
from rag.settings import Settings  # noqa: E402

LEVELS = (1, 10, 50)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class CachedQueryEmbeddings:
    """The real embedder for documents; query vectors computed once, then served from memory."""

    def __init__(self, embedder, queries: list[str]):
        self.embedder = embedder
        timings = []
        self.vectors = {}
        for query in queries:
            start = time.perf_counter()
            self.vectors[query] = embedder.embed_query(query)
            timings.append((time.perf_counter() - start) * 1000)
        self.embed_ms = timings

    def embed_documents(self, texts):
        return self.embedder.embed_documents(texts)

    def embed_query(self, text: str):
        return self.vectors.get(text) or self.embedder.embed_query(text)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_chroma(folder: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)],
        stdout=open(folder.parent / "chroma.log", "wb"), stderr=subprocess.STDOUT,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False", "NO_COLOR": "1"}, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(url + "/api/v2/heartbeat", timeout=1):
                return proc, url
        except OSError:
            time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGTERM)
    raise SystemExit("chroma run did not start")


def measure(engine, questions: list[str], clients: int, requests: int) -> dict:
    """`requests` searches spread over `clients` threads; latency of each, wall time of all."""
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(requests))
    errors: list[str] = []

    def client() -> None:
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            start = time.perf_counter()
            try:
                engine.retriever.search(questions[n % len(questions)], k=10)
            except Exception as exc:  # reported, not hidden
                errors.append(f"{type(exc).__name__}: {exc}")
                continue
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                latencies.append(elapsed)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    return {
        "clients": clients, "requests": len(latencies), "errors": errors[:5], "error_count": len(errors),
        "p50_ms": round(statistics.median(latencies), 1), "p95_ms": round(percentile(latencies, 0.95), 1),
        "mean_ms": round(statistics.fmean(latencies), 1), "throughput_qps": round(len(latencies) / wall, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pdf", type=Path, default=PROJECT_ROOT.parent / "shared" / "corpus" / "ma_code_travail_fr_2011.pdf")
    parser.add_argument("--qa", type=Path, default=PROJECT_ROOT / "tests" / "data" / "qa.jsonl")
    parser.add_argument("--requests", type=int, default=300, help="searches per concurrency level and store")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "benchmarks" / "out")
    args = parser.parse_args(argv)
    if not args.pdf.exists():
        raise SystemExit(f"corpus file not found: {args.pdf}")
    questions = [q.question for q in load_questions(args.qa)]
    load_before = os.getloadavg()
    result: dict = {"machine": machine_facts(), "pdf": args.pdf.name, "questions": len(questions), "requests_per_level": args.requests}

    with tempfile.TemporaryDirectory(prefix="bench-server-") as tmp:
        tmp = Path(tmp)
        embedded = Settings(store_dir=tmp / "store", corpus_dirs=[], _env_file=None)
        from rag.models import build_embeddings

        embedder = CachedQueryEmbeddings(build_embeddings(embedded), questions + ["warm-up"])
        result["query_embedding_ms"] = {"p50": round(statistics.median(embedder.embed_ms), 1), "p95": round(percentile(embedder.embed_ms, 0.95), 1)}

        engine = build_engine(embedded, embedder=embedder)
        start = time.perf_counter()
        indexed = engine.index.index_paths([args.pdf])
        result["index_s"] = round(time.perf_counter() - start, 1)
        result["chunks"] = engine.index.count()
        log(f"indexed {indexed[0].source}: {indexed[0].message} in {result['index_s']} s")
        engine.close()

        (tmp / "chroma").mkdir()
        proc, url = start_chroma(tmp / "chroma" / "db")
        try:
            start = time.perf_counter()
            archive, info = create_backup(embedded, tmp / "corpus.tar.gz")
            server = embedded.model_copy(update={"chroma_url": url})
            restore_backup(server, archive)
            result["move_to_server_s"] = round(time.perf_counter() - start, 1)
            log(f"moved {info.chunks} chunks onto {url} in {result['move_to_server_s']} s")

            runs = []
            for mode, settings in (("embedded", embedded), ("server", server)):
                engine = build_engine(settings, embedder=embedder)
                try:
                    engine.retriever.search("warm-up")  # BM25 built once, as at app start
                    for clients in LEVELS:
                        row = {"store": mode, **measure(engine, questions, clients, args.requests)}
                        runs.append(row)
                        log(json.dumps(row))
                finally:
                    engine.close()
            result["runs"] = runs
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)
    result["loadavg_before"] = [round(x, 2) for x in load_before]
    result["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_server.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(markdown(result))
    return 0


def markdown(result: dict) -> str:
    by = {(r["store"], r["clients"]): r for r in result["runs"]}
    lines = [
        f"| {result['chunks']} chunks, {result['requests_per_level']} searches per cell | embedded p50 / p95 (ms) | server p50 / p95 (ms) | embedded / server throughput (searches/s) |",
        "|---|---|---|---|",
    ]
    for clients in LEVELS:
        e, s = by[("embedded", clients)], by[("server", clients)]
        lines.append(
            f"| {clients} client{'s' if clients > 1 else ''} | {e['p50_ms']} / {e['p95_ms']} | {s['p50_ms']} / {s['p95_ms']} "
            f"| {e['throughput_qps']} / {s['throughput_qps']} |"
        )
    q = result["query_embedding_ms"]
    lines.append("")
    lines.append(f"Query embedding (e5, not included above): p50 {q['p50']} ms, p95 {q['p95']} ms. "
                 f"Load average before / after: {result['loadavg_before']} / {result['loadavg_after']}.")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
