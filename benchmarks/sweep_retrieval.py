"""Retrieval settings compared side by side on the tune questions, over the eval store.

    .venv/bin/python benchmarks/sweep_retrieval.py --variant "" --variant "split_questions=true" \\
        --variant "lexical_coverage_power=1" --variant "split_questions=true,dense_feedback=0.5"

Each variant is a comma-separated list of Settings fields; the empty variant is the current code.
The store is the one ``eval_retrieval.py`` builds (.cache/eval-store). Only ``tune*`` files are
accepted: mechanisms are chosen on tune, heldout is measured once with ``eval_retrieval.py``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from rag.answer import ChatEngine  # noqa: E402
from rag.engine import build_engine  # noqa: E402
from rag.evaluate import evaluate, load_questions  # noqa: E402
from rag.settings import Settings  # noqa: E402


def parse_variant(text: str) -> dict:
    update = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = item.partition("=")
        update[name.strip()] = json.loads(value) if value.strip()[:1] in "0123456789-[{tf" else value.strip()
    return update


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=PROJECT_ROOT / ".cache" / "eval-store")
    parser.add_argument("--qa", type=Path, action="append", help="tune files (default: tune.jsonl and tune2.jsonl)")
    parser.add_argument("--variant", action="append", default=None, help="Settings fields, e.g. split_questions=true,dense_weight=2")
    parser.add_argument("--misses", action="store_true", help="print each variant's misses")
    args = parser.parse_args(argv)
    files = args.qa or [PROJECT_ROOT / "benchmarks" / "questions" / name for name in ("tune.jsonl", "tune2.jsonl")]
    if any(not path.name.startswith("tune") for path in files):
        parser.error("only tune files: heldout is measured once, with eval_retrieval.py")
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    base = Settings(store_dir=args.store, corpus_dirs=[], _env_file=None)
    engine = build_engine(base)
    questions = [q for path in files for q in load_questions(path)]
    try:
        if not engine.index.count():
            parser.error(f"{args.store} is empty: run eval_retrieval.py first")
        engine.retriever.search("warm-up")
        print(f"| variant | recall@5 | MRR@10 | {' | '.join(['lookup', 'numeric', 'paraphrase', 'multi', 'crosslingual'])} | OOS refused | in-scope refused |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for text in args.variant or [""]:
            settings = base.model_copy(update=parse_variant(text))
            engine.retriever.settings = settings
            gate = ChatEngine(engine.retriever, None, settings)

            def search(question: str):
                return [(h.source, {h.article or ""}) for h in engine.retriever.search(question, k=10)]

            def refuses(question: str) -> bool:
                return not gate.relevant(engine.retriever.search(question, k=settings.answer_sources), question)

            report = evaluate(questions, search, refuses)
            kinds = report["by_kind"]
            cells = [f"{kinds[k]['hits']}/{kinds[k]['n']}" if k in kinds else "—" for k in ("lookup", "numeric", "paraphrase", "multi", "crosslingual")]
            oos = report.get("out_of_scope", {})
            print(f"| {text or '(current)'} | {report['recall@5']:.3f} | {report['mrr@10']:.3f} | {' | '.join(cells)} | "
                  f"{oos.get('refused')}/{oos.get('n')} | {report.get('in_scope_refused')}/{report['scored']} |", flush=True)
            if args.misses:
                for d in report["details"]:
                    if not d.get("out_of_scope") and not d["all_gold@5"]:
                        print(f"   miss {d['id']} [{d['kind']}/{d['lang']}] ranks {d['gold_ranks']} top {d['top'][:3]}")
    finally:
        engine.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
