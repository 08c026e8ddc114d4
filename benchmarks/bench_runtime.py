"""llama.cpp builds side by side: the installed portable build against another wheel (e.g. native).

    .venv/bin/python benchmarks/bench_runtime.py --other /tmp/wheels_native/llama_cpp_python-*.whl --label native

Each build runs in its own child process (same model, same prompt, 2 threads), alternately, for
``--rounds`` rounds: prompt reading (tokens/s, from the time to the first token of a ~600-token
prompt) and generation (tokens/s over 128 tokens). Prints the CPU model and llama.cpp's own
report of each build's instruction sets.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

CHILD = r"""
import json, sys, time
import llama_cpp
from llama_cpp import Llama
model, threads = sys.argv[1], int(sys.argv[2])
text = open(sys.argv[3], encoding="utf-8").read()
llm = Llama(model_path=model, n_ctx=2048, n_threads=threads, n_threads_batch=threads, verbose=False, seed=0)
prompt_tokens = len(llm.tokenize(text.encode()))
t = time.perf_counter()
llm.create_completion(text, max_tokens=1, temperature=0.0)
read_s = time.perf_counter() - t
llm.reset()
t = time.perf_counter()
out = llm.create_completion("Écris un long texte sur la négociation collective au Maroc.\n", max_tokens=128, temperature=0.0, repeat_penalty=1.0)
gen_s = time.perf_counter() - t
n = out["usage"]["completion_tokens"]
print(json.dumps({"info": llama_cpp.llama_print_system_info().decode(), "prompt_tokens": prompt_tokens,
                  "prompt_tps": prompt_tokens / read_s, "gen_tokens": n, "gen_tps": n / gen_s}))
"""


def prompt_text() -> str:
    clause = ("Article 184 : dans les activités non agricoles, la durée normale du travail des salariés est fixée à 2288 heures "
              "par année ou 44 heures par semaine. La durée annuelle globale peut être répartie sur l'année selon les besoins "
              "de l'entreprise, à condition que la durée normale du travail n'excède pas dix heures par jour. ")
    return clause * 8 + "Question : combien d'heures par semaine ? Réponse :"


def run(pythonpath: str | None, model: Path, threads: int, prompt: Path) -> dict:
    import os

    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    done = subprocess.run([sys.executable, "-c", CHILD, str(model), str(threads), str(prompt)], capture_output=True, text=True, env=env, timeout=900)
    if done.returncode != 0:
        return {"error": f"exit {done.returncode}: {done.stderr[-400:]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    from rag.offline import ensure_model
    from rag.runtime import cpu_description
    from rag.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--other", type=Path, required=True, help="a llama_cpp_python wheel to compare with the installed build")
    parser.add_argument("--label", default="other")
    parser.add_argument("--model", default="qwen1.5b")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    settings = Settings(_env_file=None)
    model = ensure_model(settings.models_dir, args.model)
    tmp = Path(tempfile.mkdtemp(prefix="bench_runtime_"))
    with zipfile.ZipFile(args.other) as wheel:
        wheel.extractall(tmp / "other")
    prompt = tmp / "prompt.txt"
    prompt.write_text(prompt_text(), encoding="utf-8")
    results: dict[str, list[dict]] = {"portable (installed)": [], args.label: []}
    for _ in range(args.rounds):
        results["portable (installed)"].append(run(None, model, args.threads, prompt))
        results[args.label].append(run(str(tmp / "other"), model, args.threads, prompt))
    name, _ = cpu_description()
    print(f"CPU: {name}; model {model.name}; {args.threads} threads; {args.rounds} alternating rounds")
    print("| build | prompt tokens/s (median) | generation tokens/s (median) | llama.cpp build |")
    print("|---|---|---|---|")
    for label, runs in results.items():
        ok = [r for r in runs if "error" not in r]
        if not ok:
            print(f"| {label} | — | — | {runs[0]['error']} |")
            continue
        print(f"| {label} | {statistics.median(r['prompt_tps'] for r in ok):.1f} | {statistics.median(r['gen_tps'] for r in ok):.1f} "
              f"| {ok[0]['info'].replace('|', '/')} |")
    print(f"prompt: {ok[0]['prompt_tokens']} tokens; generation: {ok[0]['gen_tokens']} tokens")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
