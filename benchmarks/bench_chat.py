"""Chat latency with the packaged local model: time to first token, tokens/s, peak memory.

Usage: .venv/bin/python benchmarks/bench_chat.py [--corpus ../shared/corpus] [--model qwen1.5b]
Indexes the French Labour Code into a temp store (real e5 embedder), then asks each question once,
4 sources per question (the default), and prints one line per question plus a summary.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import tempfile
import time
from pathlib import Path

from rag.answer import Answer, Delta
from rag.engine import build_engine
from rag.settings import PROJECT_ROOT, Settings

QUESTIONS = [
    "Quelle est la durée normale du travail par semaine ?",
    "Quelle est la majoration des heures supplémentaires effectuées la nuit ?",
    "À partir de combien d'années de service a-t-on droit à une prime d'ancienneté ?",
    "How long is maternity leave?",
    "ما هي مدة الراحة الأسبوعية؟",
    "Combien de délégués des salariés dans une entreprise de 600 salariés ?",
    "Quel est le taux de la prime d'ancienneté après 7 ans ?",
    "What is the overtime premium for hours worked at night?",
    "ما هي نسبة الزيادة عن الساعات الإضافية المنجزة ليلا؟",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=PROJECT_ROOT.parent / "shared" / "corpus")
    parser.add_argument("--model", default="qwen1.5b")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "benchmarks" / "out")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench_chat_"))
    settings = Settings(store_dir=root / "store", data_dir=root / "users", corpus_dirs=[], local_model=args.model, _env_file=None)
    engine = build_engine(settings)
    t = time.perf_counter()
    engine.index.index_paths([args.corpus / "ma_code_travail_fr_2011.pdf"])
    index_s = time.perf_counter() - t
    print(json.dumps({"cold_index_fr_code_s": round(index_s, 1), "passages": engine.index.count()}))
    t = time.perf_counter()
    chat = engine.chat_engine()
    load_s = time.perf_counter() - t
    # as app.warm_up does at start: the lexical index is built before the first question
    t = time.perf_counter()
    engine.index.lexical()
    lexical_s = time.perf_counter() - t
    model = engine.chat  # the supervised model process (rag.runtime), started and warmed
    from llama_cpp import Llama

    from rag.model_text import answer_language
    from rag.offline import ensure_model

    vocab = Llama(model_path=str(settings.llm_model_path or ensure_model(settings.models_dir, settings.local_model)), vocab_only=True, verbose=False)
    rows = []
    for question in QUESTIONS:
        start = time.perf_counter()
        first = None
        text = ""
        final = None
        for event in chat.stream(question):
            if isinstance(event, Delta):
                if first is None:
                    first = time.perf_counter()
                text += event.text
            elif isinstance(event, Answer):
                final = event
        end = time.perf_counter()
        tokens = len(vocab.tokenize(text.encode("utf-8"), add_bos=False)) if text else 0
        row = {
            "question": question,
            "ttft_s": round((first or end) - start, 2),
            "total_s": round(end - start, 2),
            "calculator": final.calculation is not None,
            "gen_tokens": tokens,
            "tokens_per_s": round(tokens / (end - first), 1) if first and end > first else 0.0,
            "answer_lang_ok": final.calculation is not None or answer_language(final.text) in (final.lang, ""),
            "answer": final.text[:300],
            "citations": [c.label for c in final.citations],
            "checks": [f"{c.figure} {c.unit} {c.status}" for c in final.checks],
            "warnings": final.warnings,
        }
        if final.calculation is None and not final.not_found:
            fitted = chat.fit_sources(chat.official_for_fiches(engine.retriever.search(question, k=settings.answer_sources)), question)[0]
            row["prompt_tokens_tiktoken"] = sum(chat._tokens(m["content"]) for m in chat.build_messages(question, final.lang, fitted))
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # the machine's prompt-reading rate right now (shared VMs vary): 400 tokens of the sector digest
    # sent to the model process as a fresh prompt, one token generated
    import httpx

    sample = vocab.detokenize(vocab.tokenize((PROJECT_ROOT / "corpus" / "sector" / "digest.md").read_text(encoding="utf-8").encode("utf-8"), add_bos=False)[:400]).decode("utf-8", "ignore")
    t = time.perf_counter()
    httpx.post(f"{model.process.base_url}/completions", headers={"Authorization": f"Bearer {model.process.api_key}"},
               json={"prompt": sample, "max_tokens": 1}, timeout=120).raise_for_status()
    read_rate = 400 / (time.perf_counter() - t)
    model_rows = [r for r in rows if not r["calculator"] and r["gen_tokens"]]
    summary = {
        "model": settings.local_model, "threads": settings.llm_threads, "ctx": settings.llm_ctx,
        "cold_index_fr_code_s": round(index_s, 1),
        "model_load_s": round(load_s, 1),
        "lexical_index_s": round(lexical_s, 1),
        "ttft_p50_s": statistics.median(r["ttft_s"] for r in model_rows),
        "ttft_max_s": max(r["ttft_s"] for r in model_rows),
        "calculator_answer_s": [r["total_s"] for r in rows if r["calculator"]],
        "tokens_per_s_p50": statistics.median(r["tokens_per_s"] for r in model_rows),
        "answers_in_question_language": f"{sum(r['answer_lang_ok'] for r in rows)}/{len(rows)}",
        "prompt_read_tokens_per_s": round(read_rate),
        "peak_rss_mb_app_process": round(peak_mb),
        "machine": f"{platform.processor() or platform.machine()}, {__import__('os').cpu_count()} cores, Python {platform.python_version()}",
    }
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_chat.json").write_text(json.dumps({"rows": rows, "summary": summary}, ensure_ascii=False, indent=1))
    engine.close()


if __name__ == "__main__":
    main()
