"""Answer-level benchmark: Ittifaq's grounded chat vs a plain local RAG chat, one process, one model.

    .venv/bin/python benchmarks/bench_answers.py --qa benchmarks/questions/tune.jsonl --limit 5
    .venv/bin/python benchmarks/bench_answers.py --qa benchmarks/questions/heldout.jsonl

The packaged default model (qwen1.5b, local llama.cpp server child, default settings) is loaded once
and answers every question twice: through the product (rag.answer.ChatEngine, streamed: time to first
token and total time) and through the plain RAG baseline (dense-only 1,000-character chunks of the
same files, top 4, a standard prompt, same max tokens). Scoring is rag.answer_eval's (see its
docstring): right key, right gold citation, misgrounded citations, unflagged wrong figures,
out-of-scope refusals, wrongly refused; baseline: key only (it has no article metadata).

The store (default .cache/eval-store, shared with benchmarks/eval_retrieval.py) holds
../shared/corpus indexed once by the product's Index; unchanged files are skipped on later runs.
Prints the table (paste into BENCHMARKS.md) and writes the full report with per-question details
to ``--json`` (default benchmarks/out/bench_answers-<set>.json).
"""

from __future__ import annotations

import argparse
import datetime as dt
import faulthandler
import json
import logging
import os
import platform
import shlex
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from rag import answer_eval as ae  # noqa: E402
from rag.engine import build_engine  # noqa: E402
from rag.settings import Settings  # noqa: E402


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _git_state() -> str:
    import subprocess

    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT_ROOT, capture_output=True, text=True).stdout
        return f"{head} ({len(dirty.splitlines())} tracked files modified)" if head else "?"
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qa", type=Path, default=PROJECT_ROOT / "benchmarks" / "questions" / "tune.jsonl")
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument("--kind", action="append", help="only the questions of this kind (lookup, numeric, multi, …; repeatable)")
    parser.add_argument("--corpus", type=Path, default=ae.DEFAULT_CORPUS)
    parser.add_argument("--store", type=Path, default=PROJECT_ROOT / ".cache" / ae.EVAL_STORE_NAME)
    parser.add_argument("--model", default="qwen1.5b", choices=["qwen1.5b", "qwen0.5b"])
    parser.add_argument("--no-baseline", action="store_true", help="the product only")
    parser.add_argument("--json", type=Path, help="report file (default benchmarks/out/bench_answers-<set>.json)")
    parser.add_argument("--resume", action="store_true",
                        help="reuse the answers of an interrupted run (<report>.partial.jsonl, appended as each answer ends)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

    questions = ae.load_qa(args.qa)
    if args.kind:
        questions = [q for q in questions if q.kind in args.kind]
    if args.limit:
        questions = questions[: args.limit]
    out = args.json or PROJECT_ROOT / "benchmarks" / "out" / f"bench_answers-{args.qa.stem}{''.join('-' + k for k in args.kind or [])}{'-' + str(args.limit) if args.limit else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    checkpoint = out.with_name(out.name + ".partial.jsonl")
    if checkpoint.exists() and not args.resume:
        checkpoint.unlink()
    faulthandler.enable()  # a native crash (Chroma's HNSW walk has segfaulted once here) leaves a trace
    settings = Settings(store_dir=args.store, corpus_dirs=[], local_model=args.model, _env_file=None)
    started = time.perf_counter()
    engine = build_engine(settings)
    try:
        t = time.perf_counter()
        built = ae.ensure_index(engine, args.corpus)
        index_s = time.perf_counter() - t
        say(f"store {args.store}: {len(built['indexed'])} indexed, {built['skipped']} unchanged, {built['passages']} passages "
            f"({index_s:.1f} s); failed: {built['failed'] or 'none'}")
        t = time.perf_counter()
        engine.chat  # noqa: B018 - the model is loaded (and its system prompt read) once, here
        load_s = time.perf_counter() - t
        say(f"model {engine.chat.name} loaded in {load_s:.1f} s")
        report = ae.evaluate_answers(engine, questions, with_baseline=not args.no_baseline, corpus=args.corpus, progress=say,
                                     checkpoint=checkpoint)
    finally:
        engine.close()
    report["setup"].update({
        "command": shlex.join(["python"] + sys.argv), "questions_file": str(args.qa), "limit": args.limit,
        "store": str(args.store), "index_s": round(index_s, 1), "model_load_s": round(load_s, 1),
        "wall_s": round(time.perf_counter() - started, 1),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, "
                   f"Python {platform.python_version()}",
        "date_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "git": _git_state(),
    })
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{args.qa.name}{f' (first {args.limit})' if args.limit else ''}, model {report['setup']['model']}, "
          f"{settings.llm_threads} threads, {settings.answer_sources} sources, max {settings.llm_max_tokens} tokens\n")
    print(ae.format_table(report))
    print(f"\nreport: {out}  (wall {report['setup']['wall_s']} s)")
    checkpoint.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
