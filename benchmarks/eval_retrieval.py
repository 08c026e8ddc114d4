"""Retrieval on the tune / heldout question sets, over a persistent store of ../shared/corpus.

    .venv/bin/python benchmarks/eval_retrieval.py                       # tune + heldout, hybrid only
    .venv/bin/python benchmarks/eval_retrieval.py --baseline            # + dense-only 1,000-char baseline, same run
    .venv/bin/python benchmarks/eval_retrieval.py --qa benchmarks/questions/tune.jsonl --misses

The store (default .cache/eval-store) is indexed once and reused: retrieval changes that do not
touch chunking need no re-index (pass --fresh after a chunking change). Misses are printed only
for files named ``tune*`` — the heldout set is measured, never read for tuning.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))
sys.path.insert(0, str(PROJECT_ROOT / "benchmarks"))

from rag.answer import ChatEngine  # noqa: E402
from rag.engine import build_engine  # noqa: E402
from rag.evaluate import evaluate, load_questions  # noqa: E402
from rag.index import expand_paths  # noqa: E402
from rag.settings import Settings  # noqa: E402

QUESTIONS = PROJECT_ROOT / "benchmarks" / "questions"
K = 10


def table(name: str, report: dict) -> str:
    lines = [f"### {name}: {report['scored']} scored questions"
             + (f", {report['out_of_scope']['n']} out of scope" if "out_of_scope" in report else ""), "",
             "| figure | value |", "|---|---|",
             f"| recall@5 (all gold in top 5) | {report['recall@5']:.3f} |",
             f"| MRR@10 | {report['mrr@10']:.3f} |",
             f"| search p50 / p95 (ms, in process) | {report['latency_ms_p50']} / {report['latency_ms_p95']} |"]
    if "out_of_scope" in report:
        o = report["out_of_scope"]
        lines.append(f"| out of scope refused (« not found ») | {o['refused']}/{o['n']} |")
        lines.append(f"| in-scope questions wrongly refused | {report['in_scope_refused']}/{report['scored']} |")
    lines += ["", "| kind | n | all gold in top 5 |", "|---|---|---|"]
    lines += [f"| {k} | {v['n']} | {v['hits']}/{v['n']} ({v['recall@5']:.2f}) |" for k, v in report["by_kind"].items()]
    lines += ["", "| language | n | all gold in top 5 |", "|---|---|---|"]
    lines += [f"| {k} | {v['n']} | {v['hits']}/{v['n']} ({v['recall@5']:.2f}) |" for k, v in report["by_lang"].items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=PROJECT_ROOT.parent / "shared" / "corpus")
    parser.add_argument("--store", type=Path, default=PROJECT_ROOT / ".cache" / "eval-store")
    parser.add_argument("--qa", type=Path, action="append", help="question files (default: tune and heldout)")
    parser.add_argument("--baseline", action="store_true", help="also the dense-only 1,000-char baseline, same run")
    parser.add_argument("--misses", action="store_true", help="print the misses of tune files")
    parser.add_argument("--fresh", action="store_true", help="re-index everything")
    parser.add_argument("--json", type=Path, help="write the full report here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    files = args.qa or [QUESTIONS / "tune.jsonl", QUESTIONS / "heldout.jsonl"]

    settings = Settings(store_dir=args.store, corpus_dirs=[], _env_file=None)
    engine = build_engine(settings)
    out: dict = {"command": shlex.join(["python"] + sys.argv), "files": {}}
    try:
        paths = list(expand_paths([args.corpus.resolve()]))
        t = time.perf_counter()
        results = engine.index.index_paths(paths, force=args.fresh)
        print(f"index: {sum(r.status == 'indexed' for r in results)} indexed, {sum(r.status == 'skipped' for r in results)} unchanged "
              f"in {time.perf_counter() - t:.1f} s; {engine.index.count()} passages", file=sys.stderr)
        engine.retriever.search("warm-up")
        gate = ChatEngine(engine.retriever, None, settings)

        def search(question: str):
            return [(h.source, {h.article or ""}) for h in engine.retriever.search(question, k=K)]

        def refuses(question: str) -> bool:
            return not gate.relevant(engine.retriever.search(question, k=settings.answer_sources), question)

        for path in files:
            questions = load_questions(path)
            report = evaluate(questions, search, refuses)
            out["files"][path.name] = report
            print(table(path.name, report))
            print()
            if args.misses and path.name.startswith("tune"):
                by_id = {q.id: q for q in questions}
                for d in report["details"]:
                    q = by_id[d["id"]]
                    if d.get("out_of_scope"):
                        if not d["refused"]:
                            print(f"OOS answered {q.id}: {q.question} → {d['top']}")
                    elif not d["all_gold@5"]:
                        gold = ", ".join(f"{'/'.join(s[:12] for s in g.sources)}#{g.article}" for g in q.gold)
                        print(f"MISS {q.id} [{q.kind}/{q.lang}] {q.question}\n   gold {gold} ranks {d['gold_ranks']}\n   top {d['top']}")
        if args.baseline:
            import bench_retrieval

            for path in files:
                questions = [q for q in load_questions(path)]
                with tempfile.TemporaryDirectory(prefix="ittifaq-baseline-") as tmp:
                    base = bench_retrieval.run_baseline(paths, settings, engine.embedder, engine.index.catalog, questions, Path(tmp))
                out["files"][path.name + " (baseline)"] = base["eval"]
                print(table(path.name + " — baseline: dense-only 1,000-char chunks, same e5", base["eval"]))
                print()
    finally:
        engine.close()
    if args.json:
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
