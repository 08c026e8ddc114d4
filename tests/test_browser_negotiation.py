"""A three-round negotiation on five clauses in a real browser (Debian's Chromium driven by
Playwright against `app.py` on loopback), then the app restarted on the same data folder.

Round 1: five clauses drafted from the library and added to the Projet de convention, taken into
the negotiation when its tab opens. Round 2: the employer's counter-proposal (a DOCX written here
with python-docx: two figures lowered, two chapters swapped so that their articles are
renumbered) compared and saved; two clauses marked « accord de principe ». Round 3 opened, the
redline DOCX of rounds 1 → 3 downloaded: native w:ins / w:del for exactly the two changed
figures, and python-docx opens it. The seniority bonus then edited in the Projet de convention tab
as well: the conflict is shown side by side and settled by taking the negotiation's text. A new
app process on the same folder shows everything again.
Screenshots go to tests/artifacts/negotiation_*.png.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from rag.runtime import stop_process
from rag.settings import PROJECT_ROOT
from tests.test_browser import ARTIFACTS, CHROMIUM, FLAGS, _free_port
from tests.test_negotiation import employer_docx

pytestmark = pytest.mark.slow

MINIMUM, SENIOR, OVERTIME, NIGHT, LEAVE = ("Salaire minimum conventionnel", "Prime d'ancienneté", "Heures supplémentaires",
                                           "Travail de nuit, du dimanche et des jours fériés",
                                           "Congés payés, jours fériés marocains et fêtes religieuses")
FIVE = (MINIMUM, SENIOR, OVERTIME, NIGHT, LEAVE)


def start_app(root: Path, name: str) -> tuple[subprocess.Popen, str]:
    """app.py on a free loopback port, its data and store under ``root`` (the same for each start)."""
    port = _free_port()
    env = dict(os.environ, RAG_PORT=str(port), RAG_STORE_DIR=str(root / "store"), RAG_DATA_DIR=str(root / "users"),
               RAG_CORPUS_DIRS=f'["{root / "corpus"}"]', GRADIO_ANALYTICS_ENABLED="False")
    log = open(root / f"{name}.log", "w")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail("app.py exited: " + (root / f"{name}.log").read_text()[-3000:])
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}/"
        except OSError:
            time.sleep(1)
    proc.kill()
    pytest.fail("app did not start in 300 s")


def stop_app(proc: subprocess.Popen) -> None:
    stop_process(proc, grace_s=30.0)


@pytest.fixture
def site(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make test installs it)")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("heures_supplementaires.md", "prime_anciennete.md"):
        shutil.copy(PROJECT_ROOT / "corpus" / "fiches" / name, corpus / name)
    return tmp_path


def pick(page, label: str, option: str) -> None:
    """Choose ``option`` in the visible Gradio dropdown labelled ``label``."""
    page.get_by_label(label, exact=True).filter(visible=True).first.click()
    page.locator('[data-testid="dropdown-option"]').filter(has_text=re.compile(re.escape(option) + r"\s*$")).filter(visible=True).first.click()


@contextlib.contextmanager
def screenshot_on_failure(page, name: str):
    try:
        yield
    except BaseException:
        page.screenshot(path=str(ARTIFACTS / f"{name}_failure.png"), full_page=True)
        raise


def rows(page, table: str):
    """The body rows of a Gradio dataframe (virtual rows, not <tr>)."""
    return page.locator(f"#{table} .virtual-row[role=row]")


def statuses(page) -> list[str]:
    cells = page.locator('#nego-clauses [role=gridcell][data-col="2"]')
    return [cells.nth(i).inner_text().strip() for i in range(cells.count())]


def test_three_rounds_in_the_browser_and_nothing_lost_after_restart(site, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    from rag.redline import revision_views

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    expect.set_options(timeout=120_000)
    proc, url = start_app(site, "app-1")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1100}, accept_downloads=True)
            page.set_default_timeout(120_000)
            page.goto(url)
            with screenshot_on_failure(page, "negotiation"):
                # round 1: five clauses drafted from the library, each added to the project
                page.get_by_role("tab", name="Rédaction").click()
                for n, title in enumerate(FIVE, start=1):
                    pick(page, "Thème de la bibliothèque", title)
                    page.get_by_role("button", name="Rédiger", exact=True).click()
                    expect(page.get_by_role("heading", name=title, exact=True).filter(visible=True)).to_be_visible()  # this draft, not the last one
                    expect(page.get_by_label("Texte de la clause (modifiable)")).not_to_be_empty()
                    page.get_by_role("button", name="Ajouter au projet").click()
                    expect(page.get_by_text(f"ajoutée au projet (n° {n})").filter(visible=True).first).to_be_visible()
                page.get_by_role("tab", name="Projet de convention").click()
                expect(page.locator("#project-notice")).to_contain_text(re.compile("Tour en cours mis à jour|repris dans la négociation"))  # the sync chained to « Ajouter au projet »
                expect(page.locator("#project-notice")).not_to_contain_text("⚠")
                project_file = site / "users" / "local" / "project.json"
                texts = {c["title"]: c["text"] for c in json.loads(project_file.read_text(encoding="utf-8"))["clauses"]}
                assert list(texts) == list(FIVE)
                assert "6 % après deux ans" in texts[SENIOR] and "majorée de 30 %" in texts[OVERTIME]

                page.get_by_role("tab", name="Négociation").click()  # the list opens: the project is taken in
                expect(page.locator("#nego-sync")).to_contain_text("négociation")
                expect(rows(page, "nego-clauses")).to_have_count(5)
                assert statuses(page) == ["Proposition syndicale"] * 5
                expect(page.get_by_label("Partager avec l'équipe")).to_be_hidden()  # no login: no team to share with
                page.screenshot(path=str(ARTIFACTS / "negotiation_round1.png"), full_page=True)

                # round 2: the employer's answer
                page.get_by_label("Note du nouveau tour").fill("Réponse patronale du 26 janvier")
                page.get_by_role("button", name="Ouvrir un nouveau tour").click()
                expect(page.locator("#nego-notice")).to_contain_text("Tour 2 ouvert")
                theirs = [(MINIMUM, texts[MINIMUM]), (SENIOR, texts[SENIOR].replace("6 % après deux ans", "4 % après deux ans")),
                          (OVERTIME, texts[OVERTIME].replace("majorée de 30 %", "majorée de 25 %")), (LEAVE, texts[LEAVE]), (NIGHT, texts[NIGHT])]
                counter = tmp_path / "contre_proposition.docx"
                counter.write_bytes(employer_docx(theirs))
                page.locator("#nego-counter").get_by_text("Contre-proposition patronale", exact=True).first.click()
                page.locator("#nego-counter-file input[type=file]").set_input_files(str(counter))
                page.get_by_role("button", name="Comparer", exact=True).click()
                expect(page.locator("#nego-notice")).to_contain_text("2 article(s) différent(s)")
                expect(page.get_by_text("art. 350").filter(visible=True).first).to_be_visible()  # 4 % is below the law
                page.screenshot(path=str(ARTIFACTS / "negotiation_counter.png"), full_page=True)
                page.get_by_role("button", name="Enregistrer leurs textes comme contre-propositions").click()
                expect(page.locator("#nego-notice")).to_contain_text("2 clause(s) enregistrée(s) comme contre-proposition patronale")
                assert statuses(page) == ["Proposition syndicale", "Contre-proposition patronale", "Contre-proposition patronale",
                                          "Proposition syndicale", "Proposition syndicale"]

                # two clauses agreed in principle
                for agreed, expected in ((MINIMUM, 1), (LEAVE, 2)):
                    pick(page, "Clause", agreed)
                    first_line = texts[agreed].strip().split("\n")[0]
                    expect(page.get_by_label("Texte (dernier tour)")).to_have_value(re.compile(re.escape(first_line)))  # this clause loaded
                    page.get_by_label("Accord de principe").check()
                    page.get_by_role("button", name="Enregistrer", exact=True).filter(visible=True).click()
                    expect(page.locator('#nego-clauses [role=gridcell][data-col="2"]').filter(has_text="Accord de principe")).to_have_count(expected)
                assert statuses(page) == ["Accord de principe", "Contre-proposition patronale", "Contre-proposition patronale",
                                          "Proposition syndicale", "Accord de principe"]

                # round 3, then the tracked changes of rounds 1 → 3
                page.get_by_label("Note du nouveau tour").fill("Séance du 9 février")
                page.get_by_role("button", name="Ouvrir un nouveau tour").click()
                expect(page.locator("#nego-notice")).to_contain_text("Tour 3 ouvert")
                expect(rows(page, "nego-rounds")).to_have_count(3)
                page.locator("#nego-redline").get_by_text("Modifications suivies (Word)", exact=True).first.click()
                page.get_by_role("button", name="DOCX avec modifications suivies").click()
                link = page.locator("#nego-redline-file a[download]").first
                expect(link).to_be_visible()
                with page.expect_download() as info:
                    link.click()
                redline = tmp_path / "modifications.docx"
                info.value.save_as(redline)
                page.screenshot(path=str(ARTIFACTS / "negotiation_round3.png"), full_page=True)

                # the seniority bonus edited in the Projet de convention tab too: shown side by side, not overwritten
                page.get_by_role("tab", name="Projet de convention").click()
                pick(page, "Clause", SENIOR)
                editor = page.get_by_label("Texte de la clause choisie (modifiable)")
                expect(editor).to_have_value(re.compile("6 % après deux ans"))
                editor.fill(texts[SENIOR].replace("6 % après deux ans", "7 % après deux ans"))
                page.get_by_role("button", name="Enregistrer le texte").click()
                expect(page.locator("#project-notice")).to_contain_text("modifiée dans les deux onglets")
                expect(page.locator("#project-conflicts")).to_contain_text("Conflit de modification")
                expect(page.locator("#project-conflicts")).to_contain_text("Négociation — version 1 de local (gardée)")
                page.screenshot(path=str(ARTIFACTS / "negotiation_conflict.png"), full_page=True)
                page.get_by_role("button", name="Reprendre les textes de la négociation").click()
                expect(page.locator("#project-notice")).to_contain_text("repris dans le Projet de convention")
                expect(page.locator("#project-conflicts")).not_to_contain_text("Conflit")
                senior = json.loads(project_file.read_text(encoding="utf-8"))["clauses"][1]
                assert senior["title"] == SENIOR and "4 % après deux ans" in senior["text"]
            browser.close()
    finally:
        stop_app(proc)

    import docx

    data = redline.read_bytes()
    document = docx.Document(io.BytesIO(data))  # opens with python-docx
    assert any(SENIOR in p.text for p in document.paragraphs)
    xml = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode("utf-8")
    views = revision_views(data)
    assert views["deleted"] == ["6", "30"] and views["inserted"] == ["4", "25"]  # exactly the changed text
    assert xml.count("<w:ins ") == 2 and xml.count("<w:del ") == 2

    # a new process on the same folder: the rounds, statuses and project are all there
    proc, url = start_app(site, "app-2")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.set_default_timeout(120_000)
            page.goto(url)
            with screenshot_on_failure(page, "negotiation"):
                page.get_by_role("tab", name="Projet de convention").click()
                for title in FIVE:
                    expect(page.locator("[role=gridcell]").filter(has_text=title).filter(visible=True).first).to_be_visible()
                page.get_by_role("tab", name="Négociation").click()
                expect(page.locator("#nego-sync")).to_contain_text("La négociation est à jour du Projet de convention.")
                expect(rows(page, "nego-rounds")).to_have_count(3)
                expect(page.locator("#nego-rounds")).to_contain_text("Réponse patronale du 26 janvier")
                expect(page.locator("#nego-rounds")).to_contain_text("Séance du 9 février")
                expect(rows(page, "nego-clauses")).to_have_count(5)
                assert statuses(page) == ["Accord de principe", "Contre-proposition patronale", "Contre-proposition patronale",
                                          "Proposition syndicale", "Accord de principe"]
                pick(page, "Clause", SENIOR)
                expect(page.get_by_label("Texte (dernier tour)")).to_have_value(re.compile("4 % après deux ans"))
                page.screenshot(path=str(ARTIFACTS / "negotiation_restart.png"), full_page=True)
            browser.close()
    finally:
        stop_app(proc)
