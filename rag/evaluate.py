"""Retrieval evaluation: recall@1/@5, MRR@10 and search latency over a JSONL question set.

A question line: {"id", "question", "lang", "sources": [file names], "article": "184"}. A hit is
right when its source is one of ``sources`` and its article is the gold one (compared by
canonical key, so "premier" = "1er" = "1" = "الأولى").
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rag.structure import normalise_article_label


@dataclass
class Question:
    id: str
    question: str
    lang: str
    sources: list[str]
    article: str


def load_questions(path: Path) -> list[Question]:
    questions = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            questions.append(Question(str(raw["id"]), raw["question"], raw.get("lang", ""), list(raw["sources"]), str(raw["article"])))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: ligne de question invalide ({exc})") from exc
    return questions


def is_gold(question: Question, source: str, articles: set[str]) -> bool:
    return source in question.sources and normalise_article_label(question.article) in {normalise_article_label(a) for a in articles if a}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def evaluate(questions: list[Question], search: Callable[[str], list[tuple[str, set[str]]]]) -> dict:
    """``search`` returns, best first, (source, articles covered) per hit. Returns the figures and per-question ranks."""
    ranks: list[int | None] = []
    latencies: list[float] = []
    details = []
    for q in questions:
        start = time.perf_counter()
        hits = search(q.question)
        latencies.append((time.perf_counter() - start) * 1000)
        rank = next((i + 1 for i, (source, arts) in enumerate(hits[:10]) if is_gold(q, source, arts)), None)
        ranks.append(rank)
        details.append({"id": q.id, "lang": q.lang, "rank": rank, "top": [f"{s}#{'/'.join(sorted(a))}" for s, a in hits[:3]]})
    n = max(1, len(questions))
    by_lang: dict[str, list[int | None]] = {}
    for q, r in zip(questions, ranks):
        by_lang.setdefault(q.lang, []).append(r)
    return {
        "questions": len(questions),
        "recall@1": round(sum(1 for r in ranks if r == 1) / n, 3),
        "recall@5": round(sum(1 for r in ranks if r and r <= 5) / n, 3),
        "mrr@10": round(sum(1 / r for r in ranks if r) / n, 3),
        "recall@5_by_lang": {lang: round(sum(1 for r in rs if r and r <= 5) / len(rs), 3) for lang, rs in sorted(by_lang.items())},
        "latency_ms_p50": round(statistics.median(latencies), 1) if latencies else 0.0,
        "latency_ms_p95": round(percentile(latencies, 0.95), 1),
        "details": details,
    }
