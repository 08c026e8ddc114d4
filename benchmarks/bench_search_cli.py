"""`rag search` as a whole command: what a negotiator (or a script) waits for, process start included.

What it measures (real packaged multilingual-e5-small, default settings):

1. a store of ``ma_code_travail_fr_2011.pdf`` (indexed here into a fresh temp store with the real
   CLI, or an existing one given by ``--store``, which is copied so that it is never changed);
2. the first `rag search` after indexing (the store is probed in a child interpreter and the BM25
   index is built and saved), reported apart;
3. `rag search "…" --json` as a subprocess, ``--rounds`` × 10 queries: wall time p50 / p90 / max
   (interpreter start, imports, store opening, query embedding, search, JSON out) and the CPU time
   of the command (user + sys, less sensitive than wall time to other processes on the machine);
4. in-process ``Retriever.search`` (query embedding included) over the same queries: p50 / p90;
5. the machine: CPU model (lscpu), cores, load average before and after (the machine may be shared).

``--baseline-cmd "python other_rag.py"`` also times another `rag` (e.g. the code before a change)
on its own copy of the store, each query run by both one after the other, so that both see the same
load. Usage (from the project root)::

    .venv/bin/python benchmarks/bench_search_cli.py [--store DIR] [--rounds 3] [--out DIR]
        [--baseline-cmd "CMD"] [--no-in-process]

Prints a Markdown table and writes ``<out>/bench_search_cli.json`` when ``--out`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from rag.evaluate import percentile  # noqa: E402

CODE_FR = (PROJECT_ROOT.parent / "shared" / "corpus" / "ma_code_travail_fr_2011.pdf").resolve()

QUERIES = [
    "Quelle est la durée normale du travail par semaine ?",
    "majoration des heures supplémentaires de nuit",
    "prime d'ancienneté après cinq ans de service",
    "congé annuel payé",
    "art. 350",
    "durée du repos hebdomadaire",
    "congé de maternité",
    "indemnité de licenciement",
    "délégués des salariés élection",
    "période d'essai des cadres",
]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def rag_command() -> list[str]:
    """The installed `rag` entry point of this interpreter's environment (what a user runs)."""
    script = Path(sys.executable).parent / "rag"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from rag.cli import app; app()"]


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return "unknown"


def run_search(command: list[str], store: Path, query: str, env: dict) -> tuple[float, float, list]:
    """Wall seconds, CPU seconds (user + sys of the command and its children) and the hits."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([*command, "search", query, "--json", "--store", str(store)], capture_output=True, text=True, env=env, timeout=300)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"rag search failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu, json.loads(proc.stdout)


def summary(walls: list[float], cpus: list[float]) -> dict:
    return {
        "n": len(walls), "p50": round(1000 * statistics.median(walls)), "p90": round(1000 * percentile(walls, 0.9)),
        "max": round(1000 * max(walls)), "cpu_p50": round(1000 * statistics.median(cpus)),
    }


def in_process(store: Path, rounds: int, facts: dict) -> None:
    """Retriever.search in this process (query embedding included), after one warm-up search."""
    from rag.engine import build_engine
    from rag.settings import Settings

    settings = Settings(store_dir=store, corpus_dirs=[], _env_file=None)
    start = time.perf_counter()
    engine = build_engine(settings)
    facts["in_process_open_s"] = round(time.perf_counter() - start, 3)
    try:
        engine.retriever.search("warm-up", k=5)
        inner = []
        for _ in range(rounds):
            for query in QUERIES:
                start = time.perf_counter()
                engine.retriever.search(query, k=5)
                inner.append(time.perf_counter() - start)
    finally:
        engine.close()
    facts["in_process_ms"] = {"n": len(inner), "p50": round(1000 * statistics.median(inner), 1), "p90": round(1000 * percentile(inner, 0.9), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="existing store to search (copied first); default: index the French code")
    parser.add_argument("--rounds", type=int, default=3, help="times each query is run as a command")
    parser.add_argument("--out", type=Path, help="folder for bench_search_cli.json")
    parser.add_argument("--baseline-cmd", help="another `rag` command (split on spaces) timed alongside, on its own copy of the store")
    parser.add_argument("--no-in-process", action="store_true", help="time the command only")
    args = parser.parse_args()

    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    env.pop("RAG_CHROMA_URL", None)
    facts: dict = {"cpu": cpu_model(), "cores": os.cpu_count(), "load_before": os.getloadavg()}
    variants = {"current": rag_command()}
    if args.baseline_cmd:
        variants["baseline"] = args.baseline_cmd.split()
    work = Path(tempfile.mkdtemp(prefix="bench-search-cli-"))
    store = work / "store"
    try:
        if args.store:
            log(f"copying {args.store} …")
            shutil.copytree(args.store, store, ignore=shutil.ignore_patterns("store.lock"))
            facts["store"] = str(args.store)
        else:
            if not CODE_FR.exists():
                raise SystemExit(f"{CODE_FR} not found: give --store")
            log(f"indexing {CODE_FR.name} (real e5, a few minutes on 2 cores) …")
            start = time.perf_counter()
            proc = subprocess.run([*rag_command(), "index", str(CODE_FR), "--store", str(store)], capture_output=True, text=True, env=env)
            if proc.returncode != 0:
                raise SystemExit(f"rag index failed: {proc.stderr[-2000:]}")
            facts["index_s"] = round(time.perf_counter() - start, 1)
            facts["store"] = f"fresh: {CODE_FR.name}"
        manifest = json.loads((store / "manifest.json").read_text(encoding="utf-8"))
        facts["passages"] = sum(d.get("chunks", 0) for d in manifest.get("documents", {}).values())
        stores = {"current": store}
        if "baseline" in variants:
            # its own copy: each version's sessions rewrite Chroma's files, which the other would see
            stores["baseline"] = work / "baseline-store"
            shutil.copytree(store, stores["baseline"], ignore=shutil.ignore_patterns("store.lock", "lexical", "verified.json"))

        walls: dict[str, list[float]] = {name: [] for name in variants}
        cpus: dict[str, list[float]] = {name: [] for name in variants}
        facts["first_search_ms"] = {}
        for name, command in variants.items():
            first, _, hits = run_search(command, stores[name], QUERIES[0], env)
            facts["first_search_ms"][name] = round(1000 * first)
            log(f"{name}: first search after indexing/copy: {first:.2f} s, {len(hits)} hits")
        for round_ in range(args.rounds):
            for query in QUERIES:
                for name, command in variants.items():
                    elapsed, cpu, hits = run_search(command, stores[name], query, env)
                    walls[name].append(elapsed)
                    cpus[name].append(cpu)
                    log(f"  round {round_ + 1} {name:8} {elapsed * 1000:6.0f} ms wall {cpu * 1000:6.0f} ms cpu  {len(hits)} hits  {query}")
        facts["command_ms"] = {name: summary(walls[name], cpus[name]) for name in variants}
        if not args.no_in_process:
            in_process(store, max(args.rounds, 3), facts)
        facts["load_after"] = os.getloadavg()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    load = " / ".join(f"{x:.2f}" for x in facts["load_before"]) + " → " + " / ".join(f"{x:.2f}" for x in facts.get("load_after", ()))
    print(f"\n`rag search --json` as a command — {facts['cpu']}, {facts['cores']} cores, load avg (1/5/15 min) {load}")
    print(f"store: {facts['store']}, {facts['passages']} passages" + (f", indexed in {facts['index_s']} s" if "index_s" in facts else ""))
    print()
    names = list(variants)
    print("| measure | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    print("| first search after indexing (probe, BM25 build) | " + " | ".join(f"{facts['first_search_ms'][n]} ms" for n in names) + " |")
    c = facts["command_ms"]
    print(f"| whole command wall p50 / p90 / max ({c[names[0]]['n']} runs) | "
          + " | ".join(f"{c[n]['p50']} / {c[n]['p90']} / {c[n]['max']} ms" for n in names) + " |")
    print("| whole command CPU time p50 (user + sys) | " + " | ".join(f"{c[n]['cpu_p50']} ms" for n in names) + " |")
    if "in_process_ms" in facts:
        i = facts["in_process_ms"]
        print(f"| in-process search p50 / p90 ({i['n']} searches, query embedding included) | {i['p50']} / {i['p90']} ms |" + " |" * (len(names) - 1))
        print(f"| in-process opening (build_engine) | {facts['in_process_open_s'] * 1000:.0f} ms |" + " |" * (len(names) - 1))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "bench_search_cli.json").write_text(json.dumps(facts, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
