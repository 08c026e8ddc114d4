"""A new negotiator's first hour, in a real browser (Debian's Chromium driven by Playwright against
`app.py` on loopback, the small 0.5B model as in tests/test_browser.py).

The store holds both versions of the Labour Code (French and Arabic) and three fiches of the
project, as a negotiator has after importing the official texts. Each step asserts what the user
sees and saves tests/artifacts/first_hour_<step>.png:

1. the first-run panel: texts indexed by kind, the expected official text still missing (the SMIG
   2026 decree) and where to get it, example questions as buttons;
2. an example question clicked: an answer with a citation chip, the chip opens its excerpt;
3. « article 350 » typed: the whole article, its heading path and page, « Article suivant → »;
4. the Corpus search box with a kind filter: passages of the Code only, a row opens its article;
5. the conversation renamed, exported (a Markdown download with the question), deleted only after
   « Confirmer la suppression »;
6. the interface in Arabic: the page right to left, the tabs in Arabic; an Arabic question answered
   with a citation;
7. a clause drafted with the default settings: the floor checks shown (red for a demand below the
   law); the project exported as DOCX: A4, fr-FR.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.runtime import stop_process
from rag.settings import PROJECT_ROOT
from tests.conftest import CODE_AR, CODE_FR, need_shared
from tests.test_browser import ARTIFACTS, CHROMIUM, FLAGS, _free_port
from tests.test_browser_negotiation import pick, rows, screenshot_on_failure

pytestmark = pytest.mark.slow

FICHES = ("duree_du_travail.md", "heures_supplementaires.md", "prime_anciennete.md")
QUESTION_FIELD = "Votre question (français, arabe ou anglais)"
# one of rag.web.texts.EXAMPLE_QUESTIONS, answered by the seniority calculator (art. 350) in code: the
# 0.5B model's own answer to « Combien d'heures par semaine au maximum ? » came out as « 2288 heures
# par semaine ou 44 heures par semaine », rightly left without a citation by the figure check
EXAMPLE = "Quel est le taux de la prime d'ancienneté après 7 ans ?"
TITLE = "Premier jour — durée du travail"
ARABIC_QUESTION = "ما هي المدة العادية للعمل في الأسبوع؟"
START_LIMIT_S = 1200  # the app indexes both codes (about 1,300 passages) before it listens, on 2 shared cores


@pytest.fixture(scope="module")
def first_hour_app(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make test installs it)")
    need_shared(CODE_FR, CODE_AR)
    root = tmp_path_factory.mktemp("first_hour")
    corpus = root / "corpus"
    corpus.mkdir()
    for path in (CODE_FR, CODE_AR, *(PROJECT_ROOT / "corpus" / "fiches" / name for name in FICHES)):
        shutil.copy(path, corpus / path.name)
    port = _free_port()
    env = dict(os.environ, RAG_PORT=str(port), RAG_STORE_DIR=str(root / "store"), RAG_DATA_DIR=str(root / "users"),
               RAG_CORPUS_DIRS=f'["{corpus}"]', RAG_LOCAL_MODEL="qwen0.5b", RAG_LLM_MAX_TOKENS="120", GRADIO_ANALYTICS_ENABLED="False")
    log_path = root / "app.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_LIMIT_S
    while True:
        if proc.poll() is not None:
            pytest.fail("app.py exited: " + log_path.read_text()[-3000:])
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"app did not start in {START_LIMIT_S} s: " + log_path.read_text()[-3000:])
            time.sleep(1)
    yield f"http://127.0.0.1:{port}/", root / "users"
    stop_process(proc, grace_s=30.0)


def shot(page, step: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"first_hour_{step}.png"), full_page=True)


def stored_conversations(users: Path) -> list[dict]:
    """The conversations saved on disk (no login: one local user's folder)."""
    import json

    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(users.glob("*/conversations/*.json"))]


def download(page, link, target: Path) -> Path:
    with page.expect_download() as info:
        link.click()
    assert info.value.suggested_filename.endswith(target.suffix), info.value.suggested_filename
    info.value.save_as(target)
    return target


def test_first_hour_of_a_new_negotiator(first_hour_app, tmp_path):
    from docx import Document
    from docx.shared import Cm
    from playwright.sync_api import expect, sync_playwright

    from rag.model_text import answer_language
    from rag.prompts import WRONG_LANGUAGE
    from rag.web.texts import EXAMPLE_QUESTIONS, tr

    url, users = first_hour_app
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    expect.set_options(timeout=240_000)  # the first answer starts the model and reads its prompt on 2 shared cores
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page.set_default_timeout(240_000)
        with screenshot_on_failure(page, "first_hour"):
            page.goto(url)

            # 1. the first-run panel and the status line, in a negotiator's words
            welcome = page.locator("#welcome")
            expect(welcome).to_contain_text("Bienvenue")
            expect(welcome).to_contain_text("2 lois")
            expect(welcome).to_contain_text("3 fiches du projet")
            expect(welcome).not_to_contain_text("pas encore indexé")  # both codes are there
            expect(welcome).to_contain_text("Décret n° 2-25-983")  # the expected official text still missing…
            expect(welcome).to_contain_text("sgg.gov.ma")  # …and where to obtain it
            status = page.locator("#status-line")
            expect(status).to_contain_text("Textes indexés")
            expect(status).to_contain_text("manquent")
            expect(status).not_to_contain_text("GGUF")  # no file formats or engine names
            expect(status).not_to_contain_text("llama")
            for question in EXAMPLE_QUESTIONS:
                expect(page.get_by_role("button", name=question, exact=True)).to_be_visible()
            example = page.get_by_role("button", name=EXAMPLE, exact=True)
            shot(page, "welcome")
            # « Importer » opens the Corpus tab, where the missing text is uploaded; then back to the chat
            page.locator("#import-texts").click()
            expect(page.locator("#corpus-upload")).to_be_visible()
            page.get_by_role("tab", name="Chat").click()
            expect(example).to_be_visible()

            # 2. an example question clicked: a cited answer, the excerpt behind its chip
            example.click()
            chip = page.get_by_role("radio", name=re.compile(r"^\[1\] ")).first
            expect(chip).to_be_visible()
            chip.click()
            expect(page.get_by_label("Extrait cité")).not_to_be_empty()
            saved = stored_conversations(users)
            assert len(saved) == 1 and saved[0]["messages"][0]["content"] == EXAMPLE
            assert saved[0]["messages"][1]["citations"], "the example question's answer cites a text"
            shot(page, "example_answer")

            # 3. « article 350 »: the whole article from the store, its place in the code, the next one
            page.get_by_label(QUESTION_FIELD).fill("article 350")
            page.get_by_role("button", name="Envoyer").click()
            chip = page.get_by_role("radio", name=re.compile(r"^\[1\] C\. trav\., art\. 350\b")).first
            expect(chip).to_be_visible()
            shown = stored_conversations(users)[0]["messages"][-1]["citations"][0]
            assert shown["article"] == "350" and shown["page"], "the article read whole, with its page"
            chatbot = page.locator("#chatbot")
            expect(chatbot).to_contain_text(re.compile(r"Livre .*›.*Article 350"))  # the heading path
            expect(chatbot).to_contain_text(f"p. {shown['page']}")
            expect(chatbot).to_contain_text(re.compile(r"\b25\s?%"))  # the whole scale, to its last step
            expect(chatbot).to_contain_text("article suivant : 351")
            shot(page, "article_350")
            page.get_by_role("button", name="Article suivant →").click()
            expect(page.get_by_role("radio", name=re.compile(r"^\[1\] C\. trav\., art\. 351\b")).first).to_be_visible()
            expect(chatbot).to_contain_text("article précédent : 350")
            shot(page, "article_351")

            # 4. the corpus search box, filtered to laws: a row opens its article
            page.get_by_role("tab", name="Corpus").click()
            page.get_by_label("Mots à chercher (ou « article 350 »)").fill("prime d'ancienneté")
            pick(page, "Types de textes", "Loi")
            page.keyboard.press("Escape")
            page.get_by_role("button", name="Rechercher", exact=True).click()
            results = rows(page, "search-results")
            expect(results.first).to_be_visible()
            references = page.locator('#search-results [role=gridcell][data-col="0"]')
            expect(references.first).to_be_visible()
            for i in range(references.count()):
                assert "Fiche" not in references.nth(i).inner_text(), "the kind filter keeps laws only"
            numbered = [i for i in range(results.count()) if results.nth(i).locator('[role=gridcell][data-col="1"]').inner_text().strip()]
            assert numbered, "passages of the code belong to articles"
            row = results.nth(numbered[0])
            article = row.locator('[role=gridcell][data-col="1"]').inner_text().strip()
            row.locator('[role=gridcell][data-col="4"]').click()
            expect(page.locator("#search-article")).to_contain_text(f"art. {article}")
            shot(page, "search")

            # 5. the conversation renamed, exported, deleted only after confirmation
            page.get_by_role("tab", name="Chat").click()
            page.get_by_label("Nouveau titre de la conversation").fill(TITLE)
            page.get_by_role("button", name="Renommer", exact=True).click()
            expect(page.get_by_text(f"Conversation renommée : « {TITLE} »").filter(visible=True).first).to_be_visible()
            assert [c["title"] for c in stored_conversations(users)] == [TITLE]
            page.get_by_role("button", name="Exporter (Markdown)").click()
            link = page.locator("#conv-file a[download]").first
            expect(link).to_be_visible()
            exported = download(page, link, tmp_path / "conversation.md").read_text(encoding="utf-8")
            assert exported.startswith(f"# {TITLE}\n")
            assert f"> {EXAMPLE}" in exported and "> article 350" in exported  # the questions, quoted
            assert "**Références citées**" in exported and "C. trav., art. 350" in exported
            shot(page, "exported")
            page.get_by_role("button", name="Supprimer la conversation").click()
            confirm = page.get_by_role("button", name="Confirmer la suppression")
            expect(confirm).to_be_visible()
            expect(page.get_by_text(f"Supprimer définitivement « {TITLE} »").filter(visible=True).first).to_be_visible()
            assert [c["title"] for c in stored_conversations(users)] == [TITLE], "nothing is deleted before the confirmation"
            shot(page, "delete_confirm")
            confirm.click()
            expect(page.get_by_text("Conversation supprimée.").filter(visible=True).first).to_be_visible()
            expect(confirm).to_be_hidden()
            assert stored_conversations(users) == []

            # 6. the interface in Arabic, right to left; an Arabic question
            page.get_by_role("radio", name="العربية").check()
            expect(page.locator("html")).to_have_attribute("dir", "rtl")
            for key in ("tab_chat", "tab_draft", "tab_project", "tab_corpus"):
                expect(page.get_by_role("tab", name=tr(key, "ar"), exact=True)).to_be_visible()
            expect(page.get_by_role("tab", name="Rédaction")).to_have_count(0)
            expect(status).to_contain_text(tr("status_texts", "ar"))  # texts written by the handlers follow too
            expect(welcome).to_contain_text(tr("welcome_missing", "ar").split("(")[0].strip())
            page.get_by_label(tr("message", "ar")).fill(ARABIC_QUESTION)
            page.get_by_role("button", name=tr("send", "ar"), exact=True).click()
            deadline = time.monotonic() + 240  # the answer is saved when it is complete
            while not stored_conversations(users) and time.monotonic() < deadline:
                page.wait_for_timeout(1000)
            [conversation] = stored_conversations(users)
            question, reply = conversation["messages"][-2:]
            assert question["content"] == ARABIC_QUESTION and reply["content"].strip()
            expect(chatbot).to_contain_text(ARABIC_QUESTION)
            # The 0.5B model does not reliably answer Arabic questions in Arabic (BENCHMARKS.md: even
            # the 1.5B one answered both Arabic questions of bench_chat in French or English), nor
            # reliably with a checked citation, so neither is asserted. What is asserted is the app's
            # contract: an answer detected in another language carries the warning, in Arabic.
            print(f"Arabic answer citations: {[c.get('label') for c in reply['citations']]}")
            language = answer_language(reply["content"])
            print(f"Arabic question answered in: {language or 'too short to tell'}: {reply['content'][:200]!r}")
            if language not in ("ar", ""):
                expect(chatbot).to_contain_text(WRONG_LANGUAGE["ar"])
            shot(page, "arabic")
            page.get_by_role("radio", name="Français").check()
            expect(page.locator("html")).to_have_attribute("dir", "ltr")
            expect(page.get_by_role("tab", name="Rédaction")).to_be_visible()

            # 7. a clause drafted with the default settings: floor checks; the project as a Word file
            page.get_by_role("tab", name="Rédaction").click()
            expect(page.get_by_label("Exposé des motifs rédigé par le modèle (plus lent)")).not_to_be_checked()  # the default
            page.get_by_label("… ou thème libre (hors bibliothèque)").fill("prime d'ancienneté")
            page.get_by_label("Revendications (une par ligne)").fill("4 % après 5 ans")
            page.get_by_role("button", name="Rédiger", exact=True).click()
            below = page.locator(".check-below").filter(has_text="moins favorable que C. trav. art. 350").first
            expect(below).to_be_visible()
            expect(below).to_have_css("color", "rgb(207, 34, 46)")  # red, not near-black
            expect(page.get_by_label("Texte de la clause (modifiable)")).not_to_be_empty()
            shot(page, "drafting")
            page.get_by_role("button", name="Ajouter au projet").click()
            expect(page.get_by_text("ajoutée au projet").filter(visible=True).first).to_be_visible()
            page.get_by_role("tab", name="Projet de convention").click()
            page.get_by_role("button", name="Exporter en Word (DOCX)").click()
            link = page.locator("a[download]").filter(visible=True).first  # the Projet tab's only file
            expect(link).to_be_visible()
            path = download(page, link, tmp_path / "projet.docx")
            shot(page, "docx")
        browser.close()

    document = Document(str(path))
    section = document.sections[0]
    assert abs(section.page_width - Cm(21)) < Cm(0.05) and abs(section.page_height - Cm(29.7)) < Cm(0.05)  # A4
    assert document.core_properties.language == "fr-FR"
    ns = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}
    default_lang = document.styles.element.find("w:docDefaults/w:rPrDefault/w:rPr/w:lang", ns)
    assert default_lang is not None and default_lang.get(f"{{{ns['w']}}}val") == "fr-FR"
    assert any("ancienneté" in p.text for p in document.paragraphs)
