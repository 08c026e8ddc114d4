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
from dataclasses import dataclass, field
from pathlib import Path

from rag.structure import normalise_article_label


@dataclass(frozen=True)
class Gold:
    """One article a right answer needs: any of ``sources`` (e.g. the FR and AR code), that article."""

    sources: tuple[str, ...]
    article: str

    def matches(self, source: str, articles: set[str]) -> bool:
        # a numbered part of the article ("Article 4.1" inside "Article 4") is that article
        wanted = normalise_article_label(self.article)
        keys = {normalise_article_label(a) for a in articles if a}
        return source in self.sources and any(key == wanted or key.startswith(wanted + ".") for key in keys)


@dataclass
class Question:
    id: str
    question: str
    lang: str
    gold: list[Gold]
    kind: str = ""
    key: list[str] = field(default_factory=list)

    @property
    def out_of_scope(self) -> bool:
        return self.kind == "out_of_scope" or not self.gold

    # the first gold entry, for reports written before multi-article questions
    @property
    def sources(self) -> list[str]:
        return list(self.gold[0].sources) if self.gold else []

    @property
    def article(self) -> str:
        return self.gold[0].article if self.gold else ""


def load_questions(path: Path) -> list[Question]:
    """Both schemas: ``gold: [{sources, article}]`` (with kind, key) or the older ``sources`` + ``article``."""
    questions = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            if "gold" in raw:
                gold = [Gold(tuple(g["sources"]), str(g["article"])) for g in raw["gold"]]
            else:
                gold = [Gold(tuple(raw["sources"]), str(raw["article"]))]
            questions.append(Question(str(raw["id"]), raw["question"], raw.get("lang", ""), gold, raw.get("kind", ""),
                                      [str(k) for k in raw.get("key") or []]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: ligne de question invalide ({exc})") from exc
    return questions


def is_gold(question: Question, source: str, articles: set[str]) -> bool:
    return any(g.matches(source, articles) for g in question.gold)


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0 ≤ q ≤ 1), interpolated between the closest ranks as numpy's default
    does (``statistics.quantiles``' inclusive method); NaN when there is no value."""
    values = [float(v) for v in values]
    if len(values) < 2 or q <= 0 or q >= 1:  # quantiles() needs two points and returns inner cuts only
        return (min(values) if q <= 0.5 else max(values)) if values else float("nan")
    return statistics.quantiles(values, n=1000, method="inclusive")[round(q * 1000) - 1]


def evaluate(questions: list[Question], search: Callable[[str], list[tuple[str, set[str]]]],
             refuses: Callable[[str], bool] | None = None) -> dict:
    """``search`` returns, best first, (source, articles covered) per hit; ``refuses`` says whether the
    chat would answer « not found ». recall@5 counts a question when EVERY gold article is in the top 5;
    MRR@10 uses the first gold hit. Out-of-scope questions count only for the refusal figures."""
    latencies: list[float] = []
    details = []
    for q in questions:
        start = time.perf_counter()
        hits = search(q.question)
        latencies.append((time.perf_counter() - start) * 1000)
        refused = refuses(q.question) if refuses else None
        if q.out_of_scope:
            details.append({"id": q.id, "lang": q.lang, "kind": q.kind or "out_of_scope", "out_of_scope": True,
                            "refused": refused, "top": [f"{s}#{'/'.join(sorted(a))}" for s, a in hits[:3]]})
            continue
        rank = next((i + 1 for i, (source, arts) in enumerate(hits[:10]) if is_gold(q, source, arts)), None)
        found_at = [next((i + 1 for i, (source, arts) in enumerate(hits[:10]) if g.matches(source, arts)), None) for g in q.gold]
        all_in_5 = all(r is not None and r <= 5 for r in found_at)
        details.append({"id": q.id, "lang": q.lang, "kind": q.kind, "rank": rank, "gold_ranks": found_at, "all_gold@5": all_in_5,
                        "refused": refused, "top": [f"{s}#{'/'.join(sorted(a))}" for s, a in hits[:5]]})
    scored = [d for d in details if not d.get("out_of_scope")]
    oos = [d for d in details if d.get("out_of_scope")]
    n = max(1, len(scored))

    def recall5(rows: list[dict]) -> float:
        return round(sum(1 for d in rows if d["all_gold@5"]) / len(rows), 3) if rows else 0.0

    def group(key: str) -> dict[str, dict]:
        out: dict[str, list[dict]] = {}
        for d in scored:
            out.setdefault(d[key] or "?", []).append(d)
        return {k: {"n": len(v), "recall@5": recall5(v), "hits": sum(1 for d in v if d["all_gold@5"])} for k, v in sorted(out.items())}

    report = {
        "questions": len(questions),
        "scored": len(scored),
        "recall@1": round(sum(1 for d in scored if d["rank"] == 1 and len(d["gold_ranks"]) == 1) / n, 3),
        "recall@5": recall5(scored),
        "mrr@10": round(sum(1 / d["rank"] for d in scored if d["rank"]) / n, 3),
        "recall@5_by_lang": {k: v["recall@5"] for k, v in group("lang").items()},
        "by_kind": group("kind"),
        "by_lang": group("lang"),
        "latency_ms_p50": round(statistics.median(latencies), 1) if latencies else 0.0,
        "latency_ms_p95": round(percentile(latencies, 0.95), 1) if latencies else 0.0,
        "details": details,
    }
    if refuses is not None:
        report["out_of_scope"] = {"n": len(oos), "refused": sum(1 for d in oos if d["refused"])}
        report["in_scope_refused"] = sum(1 for d in scored if d["refused"])
    return report
