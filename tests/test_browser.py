"""End to end in a real browser: Debian's Chromium driven by Playwright against `app.py` on loopback.

Open the app, ask a question, see an answer with a citation chip, open the excerpt, upload a small
file and see it listed, draft a clause, add it, download the Markdown. Screenshots are saved in
tests/artifacts/ (and reused by the README).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


APP: dict[str, int] = {}


def model_children(parent: int) -> list[int]:
    """The app's supervised model processes (llama_cpp.server children)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent and "llama_cpp.server" in cmdline:
            out.append(int(entry.name))
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make test installs it)")
    root = tmp_path_factory.mktemp("browser")
    corpus = root / "corpus"
    corpus.mkdir()
    for name in ("duree_du_travail.md", "heures_supplementaires.md", "prime_anciennete.md"):
        shutil.copy(PROJECT_ROOT / "corpus" / "fiches" / name, corpus / name)
    port = _free_port()
    env = dict(os.environ, RAG_PORT=str(port), RAG_STORE_DIR=str(root / "store"), RAG_DATA_DIR=str(root / "users"),
               RAG_CORPUS_DIRS=f'["{corpus}"]', RAG_LOCAL_MODEL="qwen0.5b", RAG_LLM_MAX_TOKENS="120", GRADIO_ANALYTICS_ENABLED="False")
    log = open(root / "app.log", "w")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail("app.py exited: " + (root / "app.log").read_text()[-3000:])
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(1)
    else:
        proc.kill()
        pytest.fail("app did not start in 300 s")
    APP["pid"] = proc.pid
    yield f"http://127.0.0.1:{port}/"
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_negotiator_journey(app_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    expect.set_options(timeout=240_000)  # the first answer loads the model and reads the prompt on 2 cores
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page.set_default_timeout(240_000)
        page.goto(app_url)
        expect(page.get_by_role("tab", name="Chat")).to_be_visible()

        # ask, see a cited answer, open the excerpt
        page.get_by_label("Votre question (français, arabe ou anglais)").fill("Quelle est la durée normale du travail par semaine ?")
        page.get_by_role("button", name="Envoyer").click()
        chip = page.get_by_role("radio", name=re.compile(r"^\[1\] ")).first
        expect(chip).to_be_visible()
        chip.click()
        expect(page.get_by_label("Extrait cité")).not_to_be_empty()
        page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)

        # the model process dies (native crash, OOM kill): the page keeps answering, the next
        # question restarts the model
        children = model_children(APP["pid"])
        assert children, "the local model should run in a child process of the app"
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        page.get_by_label("Votre question (français, arabe ou anglais)").fill("Quelle est la majoration des heures supplémentaires de nuit ?")
        page.get_by_role("button", name="Envoyer").click()
        expect(page.get_by_text("Quelle est la majoration des heures supplémentaires de nuit ?").filter(visible=True).first).to_be_visible()
        expect(page.get_by_text(re.compile("Recherche dans les textes|Rédaction de la réponse"))).to_have_count(0)  # the answer is complete
        expect(page.get_by_text(re.compile("n.a pas pu répondre|s.est arrêté"))).to_have_count(0)
        restarted = model_children(APP["pid"])
        assert restarted and not set(restarted) & set(children)

        # upload a small file and see it listed
        page.get_by_role("tab", name="Corpus").click()
        note = tmp_path / "accord_test_browser.md"
        note.write_text("# Accord test\n### Article 1\nLa pause écran est de 10 minutes par heure.\n", encoding="utf-8")
        page.locator("#corpus-upload input[type=file]").set_input_files(str(note))
        page.get_by_role("button", name="Indexer", exact=True).click()
        expect(page.get_by_text("accord_test_browser.md").filter(visible=True).first).to_be_visible()
        expect(page.get_by_text("indexé", exact=True).filter(visible=True).first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "corpus.png"), full_page=True)

        # draft a clause, add it, download the Markdown
        page.get_by_role("tab", name="Rédaction").click()
        page.get_by_label("… ou thème libre (hors bibliothèque)").fill("prime d'ancienneté")
        page.get_by_label("Revendications (une par ligne)").fill("4 % après 5 ans")
        page.get_by_role("button", name="Rédiger").click()
        expect(page.get_by_text("moins favorable que C. trav. art. 350").filter(visible=True).first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "drafting.png"), full_page=True)
        page.get_by_role("button", name="Ajouter au projet").click()

        page.get_by_role("tab", name="Projet de convention").click()
        expect(page.get_by_text("Prime d'ancienneté").filter(visible=True).first).to_be_visible()
        page.get_by_role("button", name="Exporter en Markdown").click()
        link = page.locator("a[download]").filter(visible=True).first
        expect(link).to_be_visible()
        with page.expect_download() as info:
            link.click()
        target = tmp_path / "projet.md"
        info.value.save_as(target)
        text = target.read_text(encoding="utf-8")
        assert "Prime d'ancienneté" in text and "Fondements juridiques" in text
        page.screenshot(path=str(ARTIFACTS / "project.png"), full_page=True)
        browser.close()
