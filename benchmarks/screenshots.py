"""The README's four screenshots, taken from the real app with the default 1.5B model.

Usage: .venv/bin/python benchmarks/screenshots.py [--store .cache/screenshots-store] [--out docs/screenshots]
                                                  [--question "Quelle est la durée normale du travail par semaine ?"]

Starts `app.py` on a free loopback port with the default local model on a store kept under
``--store``: the first run indexes ../shared/corpus and corpus/ into it (several minutes on 2
cores), later runs find every file unchanged. The user data folder is a fresh temporary one, so the
pages show a first visit. Debian's Chromium, driven by Playwright, then captures:

- chat.png: the question answered, the chip of its first citation opened on its excerpt;
- drafting.png: « Prime d'ancienneté » drafted with the default settings and a demand below the
  law (« 4 % après 5 ans »), with its floor checks;
- project.png: the Projet de convention with that clause and « Heures supplémentaires »;
- corpus.png: the corpus search box (laws only) with a row opened on its article, the texts indexed.

It prints the answer text it captured and its citations, to be checked against the law.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rag.runtime import free_port, stop_process
from rag.settings import PROJECT_ROOT

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
QUESTION = "Quelle est la durée normale du travail par semaine ?"
START_LIMIT_S = 1800  # the first run indexes the whole corpus before the app listens
WAIT_MS = 600_000  # one answer of the 1.5B model on 2 busy cores, the model's start included


def start_app(store: Path, data: Path, log_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    corpus_dirs = [str((PROJECT_ROOT.parent / "shared" / "corpus").resolve()), str(PROJECT_ROOT / "corpus")]
    env = dict(os.environ, RAG_PORT=str(port), RAG_STORE_DIR=str(store), RAG_DATA_DIR=str(data), RAG_CORPUS_DIRS=json.dumps(corpus_dirs),
               RAG_LOCAL_MODEL="qwen1.5b", GRADIO_ANALYTICS_ENABLED="False")
    env.pop("RAG_LLM_MAX_TOKENS", None)  # the default answer length, as a user gets it
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_LIMIT_S
    while True:
        if proc.poll() is not None:
            raise SystemExit("app.py exited:\n" + log_path.read_text()[-3000:])
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}/"
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise SystemExit(f"app did not start in {START_LIMIT_S} s:\n" + log_path.read_text()[-3000:])
            time.sleep(1)


def pick(page, label: str, option: str) -> None:
    """Choose ``option`` in the visible Gradio dropdown labelled ``label``."""
    page.get_by_label(label, exact=True).filter(visible=True).first.click()
    page.locator('[data-testid="dropdown-option"]').filter(has_text=re.compile(re.escape(option) + r"\s*$")).filter(visible=True).first.click()
    page.keyboard.press("Escape")


def capture(url: str, out: Path, question: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page.set_default_timeout(WAIT_MS)
        try:
            page.goto(url)
            # chat: the answer, its first citation's excerpt open
            page.get_by_label("Votre question (français, arabe ou anglais)").fill(question)
            page.get_by_role("button", name="Envoyer").click()
            chip = page.get_by_role("radio", name=re.compile(r"^\[1\] ")).first
            expect(chip).to_be_visible()
            chip.click()
            expect(page.get_by_label("Extrait cité")).not_to_be_empty()
            page.screenshot(path=str(out / "chat.png"), full_page=True)

            # Rédaction: a demand below the law, default settings
            page.get_by_role("tab", name="Rédaction").click()
            pick(page, "Thème de la bibliothèque", "Prime d'ancienneté")
            page.get_by_label("Revendications (une par ligne)").fill("4 % après 5 ans")
            page.get_by_role("button", name="Rédiger", exact=True).click()
            expect(page.locator(".check-below").first).to_be_visible()
            page.screenshot(path=str(out / "drafting.png"), full_page=True)
            page.get_by_role("button", name="Ajouter au projet").click()
            expect(page.get_by_text("ajoutée au projet (n° 1)").filter(visible=True).first).to_be_visible()
            page.get_by_label("Revendications (une par ligne)").fill("")
            pick(page, "Thème de la bibliothèque", "Heures supplémentaires")
            page.get_by_role("button", name="Rédiger", exact=True).click()
            expect(page.get_by_role("heading", name="Heures supplémentaires", exact=True).filter(visible=True)).to_be_visible()
            page.get_by_role("button", name="Ajouter au projet").click()
            expect(page.get_by_text("ajoutée au projet (n° 2)").filter(visible=True).first).to_be_visible()

            # Projet de convention
            page.get_by_role("tab", name="Projet de convention").click()
            expect(page.get_by_label("Aperçu (Markdown)")).to_have_value(re.compile("Heures supplémentaires"))
            page.screenshot(path=str(out / "project.png"), full_page=True)

            # Corpus: the search box, laws only, a row opened
            page.get_by_role("tab", name="Corpus").click()
            page.get_by_label("Mots à chercher (ou « article 350 »)").fill("prime d'ancienneté")
            pick(page, "Types de textes", "Loi")
            page.get_by_role("button", name="Rechercher", exact=True).click()
            first = page.locator("#search-results .virtual-row[role=row]").first
            expect(first).to_be_visible()
            first.locator('[role=gridcell][data-col="4"]').click()
            expect(page.locator("#search-article")).to_contain_text("art.")
            page.screenshot(path=str(out / "corpus.png"), full_page=True)
        except BaseException:
            page.screenshot(path=str(out.parent / "screenshots_failure.png"), full_page=True)
            raise
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=PROJECT_ROOT / ".cache" / "screenshots-store")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "screenshots")
    parser.add_argument("--question", default=QUESTION)
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit("Debian chromium is not installed (/usr/bin/chromium)")
    args.out.mkdir(parents=True, exist_ok=True)
    args.store.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="screenshots-") as tmp:
        data = Path(tmp) / "users"
        log_path = args.store.parent / "screenshots-app.log"
        started = time.monotonic()
        proc, url = start_app(args.store, data, log_path)
        print(f"app listening after {time.monotonic() - started:.0f} s (log: {log_path})", flush=True)
        try:
            capture(url, args.out, args.question)
        finally:
            stop_process(proc, grace_s=30.0)
        [conversation] = [json.loads(p.read_text(encoding="utf-8")) for p in data.glob("*/conversations/*.json")]
    question, answer = conversation["messages"][:2]
    print(f"question: {question['content']}")
    print(f"answer:\n{answer['content']}")
    for n, citation in enumerate(answer.get("citations") or [], start=1):
        print(f"[{n}] {citation.get('label') or citation.get('source')}")
    for warning in answer.get("warnings") or []:
        print(f"warning: {warning}")
    print(f"screenshots: {', '.join(str(args.out / name) for name in ('chat.png', 'drafting.png', 'project.png', 'corpus.png'))}")


if __name__ == "__main__":
    main()
