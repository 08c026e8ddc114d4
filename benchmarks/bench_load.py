"""Load on the web app (TESTPLAN L1–L3): simultaneous chats, re-indexing under load, a large corpus.

Everything runs on loopback. The app is the real one (``rag.web.build_ui`` + ``rag.web.launch``) in a
child process whose memory is read from /proc; the sessions are gradio_client clients in this
process, one per simulated negotiator, started together.

    .venv/bin/python benchmarks/bench_load.py [--parts l1-fake,busy,l2,l1-real,l3] [--work DIR] [--out DIR]

Parts:

- ``l1-fake``: 1/5/10/20 simultaneous chats, 3 batches each, with a fake model that streams a cited
  answer (0.2 s before the first token, then 30 ms per word); real e5 embedder, real store (the
  French Labour Code). Time to first token (first streamed text the browser receives), total
  time, errors, server RSS after each batch.
- ``busy``: 40 chats at once against a slow fake model (3 s per answer): the queue (2 running,
  32 waiting) must refuse the rest at once ("busy"), and every session must end.
- ``l2``: 10 sessions ask about one agreement while it is re-indexed twice (new version uploaded
  through the API): the excerpts behind each answer's citations must all come from one committed
  version, never a mixture or a half-written one.
- ``l1-real``: 1 and 5 simultaneous chats with the packaged local model (``--real-model``,
  default qwen0.5b; 120 tokens per answer), one batch each, after a warm-up question.
- ``l3``: a synthetic corpus of ≥ 50,000 passages indexed with a fast deterministic embedder (e5
  on 2 cores would take hours; its rate on a sample is measured and extrapolated): index time,
  search p50/p95, reopen time, disk size.

Prints Markdown tables and writes ``<out>/bench_load.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from rag.evaluate import percentile  # noqa: E402

QUESTIONS = [
    "Quelle est la durée normale du travail par semaine ?",
    "Quelle est la majoration des heures supplémentaires effectuées la nuit ?",
    "À partir de combien d'années de service a-t-on droit à une prime d'ancienneté ?",
    "Combien de jours de congé annuel payé pour un salarié ?",
    "Quelle est la durée du repos hebdomadaire ?",
    "Quelle est la durée du congé de maternité ?",
]
L2_SOURCE = "accord_charge.md"


# ---- the server (child process) ----------------------------------------------------------------------


class StreamingFake:
    """Streams a cited answer like a small local model would: a pause (reading the prompt), then
    one word every ``word_s`` seconds."""

    name = "fake-stream"
    n_ctx = 4096

    def __init__(self, first_s: float, word_s: float):
        self.first_s, self.word_s = first_s, word_s

    def stream(self, messages, max_tokens=None):
        time.sleep(self.first_s)
        answer = "D'après le texte fourni, la règle demandée s'applique à tous les salariés concernés du secteur [S1]."
        for word in re.findall(r"\S+\s*", answer):
            time.sleep(self.word_s)
            yield word


def serve(args) -> None:
    from rag.engine import build_engine
    from rag.settings import Settings
    from rag.web import DownloadGuard, build_ui, launch

    settings = Settings(store_dir=Path(args.store), data_dir=Path(args.data), corpus_dirs=[], port=args.port,
                        local_model=args.model if args.model != "fake" else "qwen0.5b", llm_max_tokens=120, _env_file=None)
    chat = StreamingFake(args.first_s, args.word_s) if args.model == "fake" else None
    engine = build_engine(settings, chat=chat)
    guard = DownloadGuard()
    demo = build_ui(engine, settings, guard=guard)
    launch(demo, settings, guard=guard, quiet=True)


class Server:
    """The app in a child process on a free loopback port."""

    def __init__(self, store: Path, data: Path, model: str = "fake", first_s: float = 0.2, word_s: float = 0.03):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(data.parent / f"server-{self.port}.log", "w")
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "serve", "--store", str(store), "--data", str(data), "--port", str(self.port),
             "--model", model, "--first-s", str(first_s), "--word-s", str(word_s)],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited: {(data.parent / f'server-{self.port}.log').read_text()[-3000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.5)
        raise SystemExit("server did not start in 300 s")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def close(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


# ---- helpers -------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def du_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file()) / 1048576


def message_text(message: dict) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content or "")


def client(url: str):
    from gradio_client import Client

    return Client(url, verbose=False, download_files=False)


def one_chat(api, question: str, source: str = "", timeout: float = 600) -> dict:
    """Submit one chat and follow its stream: time to first streamed text, total time, outcome."""
    start = time.perf_counter()
    result = {"ttft": None, "total": None, "error": None, "busy": False, "answer": "", "chips": []}
    try:
        job = api.submit(question, [], [], source, api_name="/chat_submit")
        seen = 0
        while True:
            outputs = job.outputs()
            for out in outputs[seen:]:
                chatbot = out[0] if isinstance(out, (list, tuple)) else None
                if chatbot and result["ttft"] is None:
                    text = message_text(chatbot[-1]) if chatbot[-1].get("role") == "assistant" else ""
                    if text and text != "…":
                        result["ttft"] = time.perf_counter() - start
            seen = len(outputs)
            if job.done():
                break
            if time.perf_counter() - start > timeout:
                raise TimeoutError(f"no end after {timeout} s")
            time.sleep(0.02)
        final = job.result()
        result["total"] = time.perf_counter() - start
        chatbot, notice = final[0], final[-1]
        result["answer"] = message_text(chatbot[-1]) if chatbot else ""
        result["chips"] = [value for _, value in (final[2] or {}).get("choices", [])] if isinstance(final[2], dict) else []
        if notice.startswith("⚠") or result["answer"].startswith("⚠"):
            result["error"] = notice or result["answer"]
        if result["ttft"] is None:
            result["ttft"] = result["total"]
    except Exception as exc:  # counted, not hidden
        text = f"{type(exc).__name__}: {exc}"
        result["busy"] = "queue is full" in text.lower() or "busy" in text.lower()
        result["error"] = text[:200]
        result["total"] = time.perf_counter() - start
    return result


def batch(apis: list, questions: list[str], source: str = "", offset: int = 0) -> list[dict]:
    """All sessions submit at the same moment; session i asks question offset + i."""
    results: list[dict | None] = [None] * len(apis)
    gate = threading.Barrier(len(apis))

    def run(i: int) -> None:
        gate.wait()
        results[i] = one_chat(apis[i], questions[(offset + i) % len(questions)], source)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(apis))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [r for r in results if r is not None]


def summarise(results: list[dict]) -> dict:
    ok = [r for r in results if not r["error"]]
    return {
        "sessions": len(results),
        "errors": len(results) - len(ok),
        "ttft_p50_s": round(percentile([r["ttft"] for r in ok], 0.5), 2),
        "ttft_p95_s": round(percentile([r["ttft"] for r in ok], 0.95), 2),
        "total_p50_s": round(percentile([r["total"] for r in ok], 0.5), 2),
        "total_p95_s": round(percentile([r["total"] for r in ok], 0.95), 2),
    }


# ---- preparation: a store with the French code (real e5), reused across runs ---------------------------


def prepare_store(work: Path, corpus: Path) -> Path:
    from rag.engine import build_engine
    from rag.settings import Settings

    store = work / "store"
    settings = Settings(store_dir=store, data_dir=work / "prep-users", corpus_dirs=[], _env_file=None)
    engine = build_engine(settings)
    try:
        start = time.perf_counter()
        results = engine.index.index_paths([corpus / "ma_code_travail_fr_2011.pdf", write_agreement(work, "A")])
        print(f"store ready in {time.perf_counter() - start:.1f} s: {[(r.source, r.status) for r in results]}", flush=True)
    finally:
        engine.close()
    return store


def write_agreement(work: Path, version: str, articles: int = 150) -> Path:
    """An agreement whose every article carries its version mark (to spot a mixture)."""
    folder = work / f"agreement-{version}"
    folder.mkdir(parents=True, exist_ok=True)
    body = "".join(
        f"### Article {n}\nVERSION-{version} : la prime de nuit de l'article {n} est de {10 + n % 7} % du salaire de base, "
        f"versée chaque mois aux téléconseillers concernés par le travail de nuit (version {version}).\n"
        for n in range(1, articles + 1)
    )
    path = folder / L2_SOURCE
    path.write_text(f"# Accord d'entreprise en cours de révision\n{body}", encoding="utf-8")
    return path


# ---- parts -------------------------------------------------------------------------------------------


def part_l1(store: Path, work: Path, model: str, sizes: list[int], batches: int) -> dict:
    data = work / f"users-{model}"
    server = Server(store, data, model=model)
    out: dict = {"model": model, "rows": []}
    try:
        if model != "fake":  # load the model and read the system prompt once, as the first user would
            warm = one_chat(client(server.url), "Combien de délégués des salariés dans une entreprise de 600 salariés ?")
            out["warm_up_s"] = round(warm["total"], 1)
            out["warm_up_error"] = warm["error"]
        out["rss_start_mb"] = round(server.rss_mb())
        asked = 0  # a question is never asked twice in a row to the real model (llama.cpp would reuse its whole prompt)
        for size in sizes:
            apis = [client(server.url) for _ in range(size)]
            results, rss = [], []
            for _ in range(batches):
                results += batch(apis, QUESTIONS, offset=asked)
                asked += size
                rss.append(round(server.rss_mb()))
            row = {"simultaneous": size, "batches": batches, **summarise(results), "rss_after_batches_mb": rss}
            if model != "fake":
                row["answers"] = [r["answer"][:160] for r in results]
            out["rows"].append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
    finally:
        server.close()
    return out


def part_busy(store: Path, work: Path, sessions: int = 40) -> dict:
    server = Server(store, work / "users-busy", model="fake", first_s=3.0, word_s=0.0)
    try:
        apis = [client(server.url) for _ in range(sessions)]
        start = time.perf_counter()
        results = batch(apis, QUESTIONS)
        wall = time.perf_counter() - start
    finally:
        server.close()
    busy = [r for r in results if r["busy"]]
    answered = [r for r in results if not r["error"]]
    out = {
        "sessions": sessions, "answered": len(answered), "refused_busy": len(busy),
        "other_errors": len(results) - len(answered) - len(busy),
        "busy_message": busy[0]["error"] if busy else None,
        "refusal_time_max_s": round(max((r["total"] for r in busy), default=float("nan")), 2),
        "last_answer_s": round(max((r["total"] for r in answered), default=float("nan")), 1),
        "all_ended_s": round(wall, 1),
    }
    print(json.dumps(out, ensure_ascii=False), flush=True)
    return out


def part_l2(store: Path, work: Path, sessions: int = 10) -> dict:
    from gradio_client import handle_file

    server = Server(store, work / "users-l2", model="fake", first_s=0.2, word_s=0.01)
    stop = threading.Event()
    answers: list[dict] = []
    lock = threading.Lock()

    def negotiator(n: int) -> None:
        api = client(server.url)
        rng = random.Random(n)
        while not stop.is_set():
            article = rng.randint(1, 150)
            result = one_chat(api, f"Que prévoit l'article {article} de l'accord sur la prime de nuit ?", source=L2_SOURCE)
            marks = set()
            for chip in result["chips"]:
                title, text = api.predict(chip, api_name="/show_citation")
                marks |= set(re.findall(r"VERSION-([AB])", text))
            with lock:
                answers.append({"error": result["error"], "marks": sorted(marks), "cited": len(result["chips"])})

    threads = [threading.Thread(target=negotiator, args=(n,)) for n in range(sessions)]
    reindex = []
    try:
        for t in threads:
            t.start()
        time.sleep(5)
        admin = client(server.url)
        for version in ("B", "A"):
            start = time.perf_counter()
            rows = admin.predict([handle_file(str(write_agreement(work, version)))], api_name="/index_uploads")[0]["data"]
            reindex.append({"version": version, "seconds": round(time.perf_counter() - start, 1), "result": rows})
            print(json.dumps(reindex[-1], ensure_ascii=False), flush=True)
            time.sleep(5)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=120)
        server.close()
    cited = [a for a in answers if a["cited"] and not a["error"]]
    out = {
        "sessions": sessions, "answers": len(answers), "errors": sum(1 for a in answers if a["error"]),
        "answers_with_citations": len(cited),
        "from_version_A": sum(1 for a in cited if a["marks"] == ["A"]),
        "from_version_B": sum(1 for a in cited if a["marks"] == ["B"]),
        "mixed_versions": sum(1 for a in cited if len(a["marks"]) > 1),
        "citation_without_version": sum(1 for a in cited if not a["marks"]),
        "reindex": reindex,
    }
    print(json.dumps({k: v for k, v in out.items() if k != "reindex"}, ensure_ascii=False), flush=True)
    return out


def part_l3(work: Path, files: int = 100, articles: int = 520) -> dict:
    from rag.index import Index
    from rag.retrieve import Retriever
    from rag.settings import Settings
    from tests.conftest import HashEmbeddings

    corpus = work / "l3-corpus"
    shutil.rmtree(corpus, ignore_errors=True)
    corpus.mkdir(parents=True)
    rng = random.Random(7)
    words = ("salarié employeur durée travail congé prime ancienneté nuit repos hebdomadaire heures supplémentaires "
             "majoration salaire minimum délégué syndical comité hygiène sécurité licenciement préavis indemnité "
             "formation télétravail pause écran objectif appel surveillance données personnelles égalité harcèlement").split()
    for f in range(files):
        lines = [f"# Convention synthétique {f}"]
        for a in range(1, articles + 1):
            sentence = " ".join(rng.choice(words) for _ in range(40))
            lines.append(f"### Article {a}\nTexte {f}-{a} : {sentence} ; taux de {rng.randint(1, 60)} % après {rng.randint(1, 25)} ans.")
        (corpus / f"convention_{f:03d}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = work / "l3-store"
    shutil.rmtree(store, ignore_errors=True)
    settings = Settings(store_dir=store, corpus_dirs=[], _env_file=None)
    embedder = HashEmbeddings()
    queries = [" ".join(rng.choice(words) for _ in range(6)) for _ in range(60)] + [f"article {rng.randint(1, articles)} prime de nuit" for _ in range(20)]
    out: dict = {"files": files}

    index = Index(settings, embedder)
    start = time.perf_counter()
    results = index.index_paths([corpus], isolated=False)
    out["index_s_fake_embedder"] = round(time.perf_counter() - start, 1)
    out["passages"] = index.count()
    out["failed"] = sum(1 for r in results if r.status != "indexed")
    out["passages_per_s_fake"] = round(out["passages"] / out["index_s_fake_embedder"])
    out["disk_mb"] = round(du_mb(store))

    def searches(index) -> tuple[float, list[float]]:
        retriever = Retriever(index, embedder, settings)
        t = time.perf_counter()
        retriever.search(queries[0], k=10)  # builds BM25 over every passage
        first = time.perf_counter() - t
        latencies = []
        for q in queries[1:]:
            t = time.perf_counter()
            retriever.search(q, k=10)
            latencies.append((time.perf_counter() - t) * 1000)
        return first, latencies

    out["search_first_try"] = "ok"
    try:
        first, _ = searches(index)
        out["first_search_after_index_s"] = round(first, 2)
    except Exception as exc:  # stores past 32,766 passages failed here before rag.store.read_all
        out["search_first_try"] = f"{type(exc).__name__}: {exc}"[:200]
    index.close()
    start = time.perf_counter()
    try:
        index = Index(settings, embedder)  # includes the probe of the store in a child interpreter
        out["reopen_s"] = round(time.perf_counter() - start, 2)
        first, latencies = searches(index)
        out["first_search_after_reopen_s"] = round(first, 2)
        out["search_p50_ms"] = round(percentile(latencies, 0.5), 1)
        out["search_p95_ms"] = round(percentile(latencies, 0.95), 1)
        index.close()
    except Exception as exc:
        out["reopen_s"] = f"{type(exc).__name__}: {exc}"[:200]

    # the real embedder's rate on a sample of the same kind of passages, to extrapolate a real index time
    from rag.models import build_embeddings

    sample = [f"Texte {i} : " + " ".join(rng.choice(words) for _ in range(60)) for i in range(128)]
    e5 = build_embeddings(settings)
    t = time.perf_counter()
    e5.embed_documents(sample)
    e5_rate = len(sample) / (time.perf_counter() - t)
    out["e5_passages_per_s"] = round(e5_rate, 1)
    out["e5_index_estimate_min"] = round(out["passages"] / e5_rate / 60)
    print(json.dumps(out, ensure_ascii=False), flush=True)
    return out


# ---- main -------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default="l1-fake,busy,l2,l1-real,l3")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "ittifaq-bench-load")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--real-model", default="qwen0.5b")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    args = parser.parse_args()
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    args.work.mkdir(parents=True, exist_ok=True)
    report: dict = {"machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
                    "load_average_before": os.getloadavg(), "parts": {}}
    store = None
    if any(p in parts for p in ("l1-fake", "busy", "l2", "l1-real")):
        store = prepare_store(args.work, args.corpus)
    for part in parts:
        start = time.perf_counter()
        print(f"== {part}", flush=True)
        if part == "l1-fake":
            result = part_l1(store, args.work, "fake", [1, 5, 10, 20], batches=3)
        elif part == "busy":
            result = part_busy(store, args.work)
        elif part == "l2":
            result = part_l2(store, args.work)
        elif part == "l1-real":
            result = part_l1(store, args.work, args.real_model, [1, 5], batches=1)
        elif part == "l3":
            result = part_l3(args.work)
        else:
            raise SystemExit(f"unknown part {part}")
        result["part_wall_s"] = round(time.perf_counter() - start, 1)
        result["load_average_after"] = os.getloadavg()
        report["parts"][part] = result
    args.out.mkdir(parents=True, exist_ok=True)
    previous = {}
    target = args.out / "bench_load.json"
    if target.exists():
        previous = json.loads(target.read_text(encoding="utf-8")).get("parts", {})
    report["parts"] = {**previous, **report["parts"]}
    target.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"written {target}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        server_args = argparse.ArgumentParser()
        server_args.add_argument("serve")
        server_args.add_argument("--store", required=True)
        server_args.add_argument("--data", required=True)
        server_args.add_argument("--port", type=int, required=True)
        server_args.add_argument("--model", default="fake")
        server_args.add_argument("--first-s", type=float, default=0.2)
        server_args.add_argument("--word-s", type=float, default=0.03)
        serve(server_args.parse_args())
    else:
        main()
