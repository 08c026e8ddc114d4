"""Replay a stored answer run through the current checks, without the model (minutes, not half an hour).

    .venv/bin/python benchmarks/bench_answers.py --qa benchmarks/questions/tune.jsonl --no-baseline --json /tmp/run.json
    # … change rag/answer.py, rag/figures.py …
    .venv/bin/python benchmarks/replay_checks.py /tmp/run.json --qa benchmarks/questions/tune.jsonl

Everything after the model is code: the figure checks, the citations attached or moved, the quotes.
A stored run keeps, for each answer, ``model_text``: what the model wrote, one text per part. This
script asks each question again through the product (same store, same retrieval, same prompts) with a
recorded model that plays those texts back, scores the new answers like bench_answers, and prints
the stored run's figures beside the replay's, then the questions whose score changed. A change to
the checks is measured on the very same model output: no sampling noise, no model time.

Replayed answers have no timings worth reading (the recorded model answers at once). A question
whose retrieval or prompt changed since the run gets texts written for other sources: the script
says how many answers were played back against different sources.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from rag import answer_eval as ae  # noqa: E402
from rag.answer import ChatEngine  # noqa: E402
from rag.engine import build_engine  # noqa: E402
from rag.settings import Settings  # noqa: E402

COMPARED = ("right", "right_key", "right_citation", "misgrounded", "unflagged_wrong_figure", "refused", "key_in_quotes")


class RecordedModel:
    """A chat model that plays back what the real model wrote in a stored run, one text per call."""

    name = "recorded"

    def __init__(self, texts: list[str], n_ctx: int):
        self.texts = list(texts)
        self.n_ctx = n_ctx

    def stream(self, messages: list[dict], max_tokens: int | None = None):
        if self.texts:
            yield self.texts.pop(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path, help="a bench_answers.py --json report whose answers have model_text")
    parser.add_argument("--qa", type=Path, required=True, help="the question file the run was made on")
    parser.add_argument("--store", type=Path, default=PROJECT_ROOT / ".cache" / ae.EVAL_STORE_NAME)
    parser.add_argument("--json", type=Path, help="write the replayed report here")
    parser.add_argument("--id", action="append", dest="ids", help="replay only this question (repeatable)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

    stored = json.loads(args.report.read_text(encoding="utf-8"))
    rows = {r["id"]: r for r in stored["questions"]}
    questions = [q for q in ae.load_qa(args.qa) if q.id in rows and (not args.ids or q.id in args.ids)]
    missing = [q.id for q in questions if "answer_model_text" not in rows[q.id] and not rows[q.id].get("not_found")]
    if missing:
        print(f"{len(missing)} answer(s) of {args.report} have no model_text (a run older than this script): "
              f"{', '.join(missing[:5])}…", file=sys.stderr)
    settings = Settings(store_dir=args.store, corpus_dirs=[], _env_file=None)
    engine = build_engine(settings)
    replayed, moved_sources = [], 0
    try:
        for qa in questions:
            old = rows[qa.id]
            texts = old.get("answer_model_text") or []
            chat_engine = ChatEngine(engine.retriever, RecordedModel(texts, settings.llm_ctx), settings)
            row = ae._run_product(qa, chat_engine)
            if texts and row.get("sources") != old.get("sources"):
                moved_sources += 1
            replayed.append(row)
    finally:
        engine.close()
    report = {"summary": ae.summarise(replayed), "by_kind": ae._grouped(replayed, "kind", False), "questions": replayed}
    before, after = stored["summary"], report["summary"]
    print(f"{len(replayed)} answers replayed from {args.report} ({moved_sources} against other sources than the run's)\n")
    print(f"{'':34}{'stored run':>14}{'replay':>14}")
    for key in ("right", "right_key", "right_citation", "cited_answers", "misgrounded", "unflagged_wrong_figure",
                "out_of_scope_refused", "wrongly_refused", "key_in_quotes"):
        print(f"{key:34}{before.get(key, '—')!s:>14}{after.get(key, '—')!s:>14}")
    print("\nchanged:")
    for new in replayed:
        old = rows[new["id"]]["checks"]
        diff = [f"{k} {_mark(old.get(k))}→{_mark(new['checks'].get(k))}" for k in COMPARED if old.get(k) != new["checks"].get(k)]
        if diff:
            print(f"  {new['id']:8} {new['kind']:12} {', '.join(diff)}")
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


def _mark(value) -> str:
    return "-" if value is None else ("✔" if value else "✘")


if __name__ == "__main__":
    sys.exit(main())
