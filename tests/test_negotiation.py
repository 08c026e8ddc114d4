"""Negotiation rounds on the real clause library and floor rules, in a real SQLite database.

The core flow (:func:`three_round_negotiation`) is shared with tests/test_db_postgres.py: three
rounds on five clauses, a counter-proposal DOCX written with python-docx, two clauses « accord de
principe », the redline DOCX checked revision by revision, the database reopened.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import subprocess
import threading
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag import cli
from rag.db import AccessDenied, ClauseStatus, Database, DatabaseError, create_team, list_conversations, load_conversation, migrate_workspaces
from rag.draft import Clause
from rag.library import load_library, load_rules, render_model
from rag.negotiation import Negotiation, StaleVersion, align_sections, check_text, create_project, projects_for, renumber_articles, split_sections
from rag.redline import Section, revision_views, word_diff
from rag.settings import PROJECT_ROOT

LIBRARY = load_library(PROJECT_ROOT / "corpus" / "clauses")
RULES = load_rules(PROJECT_ROOT / "corpus" / "rules" / "floors.yaml")
FIVE = ["salaire_minimum_conventionnel", "prime_anciennete", "heures_supplementaires", "travail_nuit_dimanche_feries", "conges_payes_fetes"]


def five_clauses() -> list[Clause]:
    by_id = {t.id: t for t in LIBRARY}
    out = []
    for tid in FIVE:
        t = by_id[tid]
        values = {p.name: p.value_for("target") for p in t.parameters}
        out.append(Clause(t.title, t.id, t.id, "target", render_model(t, values), values, order=t.order))
    return out


def employer_docx(chapters: list[tuple[str, str]]) -> bytes:
    """The other side's document, as a lawyer would type it in Word: a title, « Chapitre N — … »
    headings, articles numbered across the whole agreement."""
    import docx

    document = docx.Document()
    document.add_heading("Contre-proposition de la fédération patronale", level=0)
    document.add_paragraph("Document remis en séance.")
    article = 1
    for n, (title, text) in enumerate(chapters, start=1):
        document.add_heading(f"Chapitre {n} — {title}", level=1)
        numbered = renumber_articles(text, article)
        article += text.count("Article ")
        for paragraph in numbered.split("\n"):
            if paragraph.strip():
                document.add_paragraph(paragraph.strip())
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def three_round_negotiation(db: Database, tmp_path: Path, isolated: bool = True) -> dict:
    """Round 1 proposed by the union, round 2 the employer's counter-proposal imported, round 3
    two clauses agreed in principle and one re-proposed. Returns what the checks need."""
    team = create_team(db, "Fédération des centres d'appels", ["amina", "karim"])
    clauses = five_clauses()
    pid = create_project(db, "amina", clauses, team_id=team, library=LIBRARY, date=dt.date(2026, 1, 12))
    amina = Negotiation(db, pid, "amina", LIBRARY, RULES)
    karim = Negotiation(db, pid, "karim", LIBRARY, RULES)
    round1 = amina.clauses()
    assert [c.status for c in round1] == [ClauseStatus.proposition_syndicale] * 5
    assert all(c.mandate and c.mandate["label"] == "à la cible" for c in round1)
    keys = {c.title: c.key for c in round1}
    texts = {c.title: c.text for c in round1}
    senior, overtime, night, leave, minimum = ("Prime d'ancienneté", "Heures supplémentaires", "Travail de nuit, du dimanche et des jours fériés",
                                               "Congés payés, jours fériés marocains et fêtes religieuses", "Salaire minimum conventionnel")
    assert "6 % après deux ans" in texts[senior] and "majorée de 30 %" in texts[overtime] and "majorée de 25 %" in texts[night]

    # round 2: the employer's answer — two figures lowered, one chapter retitled and moved, one added
    karim.new_round("Réponse patronale du 26 janvier", date=dt.date(2026, 1, 26))
    theirs = [
        (minimum, texts[minimum]),
        (senior, texts[senior].replace("6 % après deux ans", "4 % après deux ans")),
        (overtime, texts[overtime].replace("majorée de 30 %", "majorée de 25 %")),
        (leave, texts[leave]),
        ("Nuit et dimanche", texts[night].replace("majorée de 25 %", "majorée de 15 %")),
        ("Prime de transport", "Article 1 — Indemnité. Une indemnité de transport de 300 MAD par mois est versée à chaque salarié."),
    ]
    path = tmp_path / "contre_proposition.docx"
    path.write_bytes(employer_docx(theirs))
    comparison = karim.import_counter_proposal(path, isolated=isolated)
    by_title = {p["our_title"] or p["their_title"]: p for p in comparison["pairs"]}
    assert by_title[minimum]["method"] == "numéro et titre" and not by_title[minimum]["changed"]
    assert by_title[senior]["method"] == "numéro et titre" and by_title[senior]["changed"]
    assert by_title[leave]["method"] == "titre" and not by_title[leave]["changed"]      # renumbered 5 → 4
    assert by_title[night]["method"] == "contenu" and by_title[night]["their_title"] == "Nuit et dimanche"  # renumbered and retitled
    assert by_title["Prime de transport"]["method"] == "nouveau"
    # their text below the law is flagged with the article; ours was not
    flagged = by_title[senior]["below_floor"]
    assert [c["article"] for c in flagged] == ["350"] and "4 %" in flagged[0]["message"]
    assert not by_title[overtime]["below_floor"] and not by_title[minimum]["below_floor"]
    assert "<del" in by_title[senior]["diff_html"] and ">4<" in by_title[senior]["diff_html"]
    applied = karim.apply_counter_proposal(comparison)
    assert {c.title for c in applied} == {senior, overtime, "Nuit et dimanche", "Prime de transport"}
    round2 = {c.key: c for c in karim.clauses()}
    assert round2[keys[senior]].status == ClauseStatus.contre_proposition_patronale and round2[keys[senior]].author == "karim"
    assert round2[keys[minimum]].status == ClauseStatus.proposition_syndicale
    assert round2[keys[night]].title == "Nuit et dimanche"

    # round 3: two clauses agreed in principle, the seniority bonus re-proposed at the floor
    amina.new_round("Séance du 9 février", date=dt.date(2026, 2, 9))
    state = {c.key: c for c in amina.clauses()}
    amina.set_status(keys[minimum], ClauseStatus.accord_de_principe, state[keys[minimum]].version)
    amina.set_status(keys[leave], ClauseStatus.accord_de_principe, state[keys[leave]].version)
    reproposed = amina.save_clause(keys[senior], state[keys[senior]].text.replace("4 % après deux ans", "5 % après deux ans"),
                                   state[keys[senior]].version, status=ClauseStatus.proposition_syndicale, note="retour au minimum légal")
    assert reproposed.version == state[keys[senior]].version + 1
    assert reproposed.mandate["label"] == "sous le plancher" or reproposed.mandate["score"] < 1
    new_key = next(c.key for c in amina.clauses() if c.title == "Prime de transport")
    amina.set_status(new_key, ClauseStatus.en_suspens, state[new_key].version)
    return {"pid": pid, "keys": keys, "texts": texts, "new_key": new_key, "titles": (senior, overtime, night, leave, minimum)}


def check_redline(negotiation: Negotiation, flow: dict) -> None:
    senior, overtime, night, leave, minimum = flow["titles"]
    data = negotiation.redline(1, 3)
    import docx

    document = docx.Document(io.BytesIO(data))  # opens with python-docx
    assert document.paragraphs[0].text == negotiation.title
    xml = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode("utf-8")
    views = revision_views(data)
    assert xml.count("<w:ins ") == len(views["inserted"]) + 2 and xml.count("<w:del ") == len(views["deleted"])  # +2: the new chapter's paragraph marks
    # exactly the changed text: three figures, the retitled chapter's title, and the new chapter
    assert views["deleted"] == ["6", "30", "Travail de nuit, du dimanche et des jours fériés", "25"]
    assert views["inserted"] == ["5", "25", "Nuit et dimanche", "15", "Chapitre 6 — Prime de transport",
                                 "Article 1 — Indemnité. Une indemnité de transport de 300 MAD par mois est versée à chaque salarié."]
    # rejecting every change gives round 1, accepting every change gives round 3
    def body(states) -> str:
        lines = []
        for n, c in enumerate(states, start=1):
            lines.append(f"Chapitre {n} — {c.title}")
            lines += [p.strip() for p in c.text.split("\n") if p.strip()]
        return "\n".join(lines)

    start = views["original"].index("Chapitre 1")
    assert views["original"][start:] == body(negotiation.clauses(1))
    assert views["accepted"][views["accepted"].index("Chapitre 1"):] == body(negotiation.clauses(3))
    assert "w:trackRevisions" in zipfile.ZipFile(io.BytesIO(data)).read("word/settings.xml").decode("utf-8")


def check_nothing_lost(db: Database, flow: dict) -> None:
    n = Negotiation(db, flow["pid"], "karim", LIBRARY, RULES)
    rounds = n.rounds()
    assert [r.number for r in rounds] == [1, 2, 3] and rounds[1].note == "Réponse patronale du 26 janvier" and rounds[1].date == "2026-01-26"
    senior, overtime, night, leave, minimum = flow["titles"]
    keys = flow["keys"]
    assert [c.text for c in n.clauses(1)] == [flow["texts"][t] for t in (minimum, senior, overtime, night, leave)]
    final = {c.key: c for c in n.clauses()}
    assert final[keys[minimum]].status == final[keys[leave]].status == ClauseStatus.accord_de_principe
    assert "5 % après deux ans" in final[keys[senior]].text and final[keys[senior]].author == "amina"
    history = n.history(keys[senior])
    assert [(e["round"], e["author"], e["status"]) for e in history] == [
        (1, "amina", "proposition_syndicale"), (2, "karim", "contre_proposition_patronale"), (3, "amina", "proposition_syndicale")]
    assert "4 % après deux ans" in history[1]["text"] and "contre_proposition.docx" in history[1]["note"]
    markdown = n.history_markdown()
    assert "Tour 2" in markdown and "karim" in markdown and "Accord de principe" in markdown


def check_concurrent_edits(db: Database, flow: dict) -> None:
    """Two members open the same clause; the second save is refused with the first one's text."""
    key = flow["keys"][flow["titles"][1]]
    amina = Negotiation(db, flow["pid"], "amina", LIBRARY, RULES)
    karim = Negotiation(db, flow["pid"], "karim", LIBRARY, RULES)
    opened_a, opened_k = amina.clause(key), karim.clause(key)
    saved = amina.save_clause(key, opened_a.text + "\nArticle 9 — Version d'Amina.", opened_a.version)
    with pytest.raises(StaleVersion) as refused:
        karim.save_clause(key, opened_k.text + "\nArticle 9 — Version de Karim.", opened_k.version)
    assert refused.value.their_text == saved.text and refused.value.their_author == "amina"
    assert "amina" in str(refused.value) and "refusé" in str(refused.value)
    assert karim.clause(key).text == saved.text  # nothing of Karim's was written
    # the same race from two threads at once: exactly one save passes
    start = amina.clause(key)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def save(member: Negotiation, text: str) -> None:
        barrier.wait()
        try:
            member.save_clause(key, text, start.version)
            outcomes.append("saved")
        except StaleVersion:
            outcomes.append("refused")

    threads = [threading.Thread(target=save, args=(amina, start.text + " A")), threading.Thread(target=save, args=(karim, start.text + " K"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["refused", "saved"]
    assert amina.clause(key).version == start.version + 1


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'ittifaq.db'}")
    yield database
    database.close()


def test_three_rounds_redline_reopen_and_concurrency(db, tmp_path):
    flow = three_round_negotiation(db, tmp_path)
    check_redline(Negotiation(db, flow["pid"], "amina", LIBRARY, RULES), flow)
    db.close()
    reopened = Database(db.url)  # a restart: a new engine on the same file
    try:
        check_nothing_lost(reopened, flow)
        check_concurrent_edits(reopened, flow)
    finally:
        reopened.close()


def test_outsider_cannot_open_a_team_project(db, tmp_path):
    pid = create_project(db, "amina", five_clauses()[:1], library=LIBRARY)
    with pytest.raises(AccessDenied):
        Negotiation(db, pid, "intrus")
    assert projects_for(db, "intrus") == [] and [p["id"] for p in projects_for(db, "amina")] == [pid]
    team = create_team(db, "Équipe B", ["amina", "salma"])
    pid2 = create_project(db, "amina", five_clauses()[:1], team_id=team)
    assert [p["id"] for p in projects_for(db, "salma")] == [pid2]
    with pytest.raises(AccessDenied):
        create_project(db, "intrus", [], team_id=team)


def test_earlier_rounds_are_frozen(db):
    pid = create_project(db, "amina", five_clauses()[:2], library=LIBRARY)
    n = Negotiation(db, pid, "amina", LIBRARY, RULES)
    first = n.clauses()[0]
    n.new_round("tour 2")
    n.save_clause(first.key, first.text + "\nArticle 7 — Ajout.", n.clause(first.key).version)
    assert n.clause(first.key, 1).text == first.text and n.clause(first.key).text.endswith("Ajout.")
    with pytest.raises(ValueError):
        n.save_clause(first.key, "   ", n.clause(first.key).version)
    with pytest.raises(ValueError):
        n.set_status(first.key, "signee", n.clause(first.key).version)


def test_read_only_database_refuses_with_a_clear_message(db, tmp_path, monkeypatch):
    pid = create_project(db, "amina", five_clauses()[:1], library=LIBRARY)
    key = Negotiation(db, pid, "amina").clauses()[0].key
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    read_only = Database(f"sqlite:///file:{tmp_path / 'ittifaq.db'}?mode=ro&uri=true", migrate=False)
    try:
        n = Negotiation(read_only, pid, "amina")
        with pytest.raises(DatabaseError, match="lecture seule"):
            n.save_clause(key, "Article 1 — Autre texte.", 1)
    finally:
        read_only.close()
    assert Negotiation(db, pid, "amina").clause(key).version == 1  # nothing half-written
    assert list(elsewhere.iterdir()) == []  # the URI is a path, not a folder « file: » made where the app runs


def test_migrations_match_the_models(db):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from rag.db import Base, head_revision, schema_revision

    assert schema_revision(db.engine) == head_revision()
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata) == []


def test_json_workspaces_migrate_once_and_nothing_is_lost(tmp_path, settings):
    from rag.db import open_database
    from rag.workspace import Workspace

    ws = Workspace(settings.data_dir, "Amina B.")
    for clause in five_clauses()[:3]:
        ws.add_clause(clause)
    ws.set_project_meta("Projet de la fédération", "Préambule négocié.")
    conversation = Workspace.new_conversation()
    conversation["messages"] = [{"role": "user", "content": "Quel est le SMIG horaire ?"}, {"role": "assistant", "content": "17,92 MAD [S1]", "citations": [{"key": "S1"}]}]
    ws.save_conversation(conversation)
    (ws.conversations_dir / ("f" * 32 + ".json")).write_text("{broken", encoding="utf-8")
    before = {p: p.read_bytes() for p in ws.root.rglob("*.json")}
    db = open_database(settings)
    try:
        report = migrate_workspaces(db, settings.data_dir, LIBRARY)
        assert (report.projects, report.clauses, report.conversations) == (1, 3, 1)
        assert any("illisible" in note for note in report.notes)
        again = migrate_workspaces(db, settings.data_dir, LIBRARY)
        assert (again.projects, again.conversations, again.skipped) == (0, 0, 2)
        assert {p: p.read_bytes() for p in ws.root.rglob("*.json") if p.name != ".migrated-to-db.json"} == before  # JSON kept as is
        marker = json.loads((ws.root / ".migrated-to-db.json").read_text(encoding="utf-8"))
        assert {i["kind"] for i in marker["imports"]} == {"project", "conversation"}
        [project] = projects_for(db, ws.user)
        assert project["title"] == "Projet de la fédération"
        n = Negotiation(db, project["id"], ws.user, LIBRARY, RULES)
        assert [c.text for c in n.clauses()] == [c.text for c in five_clauses()[:3]]
        assert [r.note for r in n.rounds()] == ["Reprise du projet enregistré avant la base de données"]
        assert n.history(n.clauses()[0].key)[0]["note"].startswith(f"repris de {ws.user}/project.json (ajoutée le ")
        assert n.agreement().preamble == "Préambule négocié."
        assert all(c.mandate for c in n.clauses())  # positions rebuilt from the templates
        [summary] = list_conversations(db, ws.user)
        assert load_conversation(db, ws.user, summary["id"])["messages"] == conversation["messages"]
        # a file changed after its import is reported, not imported twice
        ws.set_project_meta("Titre changé", "")
        third = migrate_workspaces(db, settings.data_dir, LIBRARY)
        assert third.projects == 0 and any("modifié depuis sa reprise" in note for note in third.notes)
    finally:
        db.close()


def test_sections_alignment_and_text_checks():
    text = "# Titre\n\n## Chapitre 1 — Salaire\nArticle 1 — Minimum. 21 MAD par heure.\n\n## Chapitre II — Ancienneté\nArticle 2 — 5 % après deux ans."
    sections = split_sections(text)
    assert [(s.number, s.title) for s in sections] == [(1, "Salaire"), (2, "Ancienneté")]
    articles = split_sections("Préambule.\nArticle 1 — Durée. 40 heures par semaine.\nArticle 2 — Pause. 15 minutes.")
    assert [(s.number, s.title) for s in articles] == [(1, "Durée"), (2, "Pause")]
    ours = [Section("Salaire minimum", "Le salaire de base ne peut être inférieur à 21 MAD par heure de travail effectif.", 1),
            Section("Prime d'ancienneté", "Une prime de 6 % est due après deux ans de service continu.", 2)]
    theirs = [Section("Ancienneté", "Une prime de 5 % est due après deux ans de service continu.", 1),
              Section("Rémunération", "Le salaire de base ne peut être inférieur à 18 MAD par heure de travail effectif.", 2)]
    matches = align_sections(ours, theirs)
    assert [(m.ours, m.theirs, m.method) for m in matches] == [(0, 1, "contenu"), (1, 0, "contenu")]
    checks = check_text("Prime d'ancienneté : 3 % après un an, 4 % après deux ans, 10 % après cinq ans. Travail de nuit entre 21 heures et 6 heures.", RULES)
    assert [(c.rule, c.status) for c in checks] == [("seniority_bonus_2y", "below_floor"), ("seniority_bonus_5y", "ok")]
    assert word_diff("a b c", "a x c") == [("equal", "a "), ("delete", "b"), ("insert", "x"), ("equal", " c")]


def test_redline_cli_from_json_markdown_and_docx(tmp_path):
    runner = CliRunner()
    clauses = [c.to_json() for c in five_clauses()]
    before = tmp_path / "avant.json"
    before.write_text(json.dumps(clauses, ensure_ascii=False), encoding="utf-8")
    changed = json.loads(json.dumps(clauses))
    changed[1]["text"] = changed[1]["text"].replace("6 % après deux ans", "7 % après deux ans")
    after = tmp_path / "apres.json"
    after.write_text(json.dumps(changed, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(cli.app, ["export", "--format", "md", "--out", str(tmp_path / "avant.md"), str(before)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli.app, ["export", "--format", "docx", "--out", str(tmp_path / "apres.docx"), str(after)])
    assert result.exit_code == 0, result.output
    for old, new in ((before, after), (tmp_path / "avant.md", after), (tmp_path / "avant.md", tmp_path / "apres.docx")):
        out = tmp_path / f"{old.suffix[1:]}-{new.suffix[1:]}.docx"
        result = runner.invoke(cli.app, ["redline", "--out", str(out), str(old), str(new)])
        assert result.exit_code == 0, result.output
        views = revision_views(out.read_bytes())
        assert (views["deleted"], views["inserted"]) == (["6"], ["7"]), (old.name, new.name, views["deleted"], views["inserted"])
    missing = runner.invoke(cli.app, ["redline", "--out", str(tmp_path / "x.docx"), str(tmp_path / "nope.json"), str(after)])
    assert missing.exit_code == 2 and "introuvable" in missing.output and not (tmp_path / "x.docx").exists()


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed (apt-get install libreoffice-writer-nogui)")
def test_libreoffice_reads_the_tracked_changes(tmp_path):
    pairs = [(Section("Prime", "Article 1 — Taux de 6 % après deux ans."), Section("Prime", "Article 1 — Taux de 5 % après deux ans.")),
             (None, Section("Transport", "Article 1 — 300 MAD par mois."))]
    from rag.redline import redline_docx

    path = tmp_path / "redline.docx"
    path.write_bytes(redline_docx(pairs, author="Négociateurs"))
    profile = tmp_path / "lo-profile"
    result = subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore", "--convert-to", "fodt",
                             "--outdir", str(tmp_path), str(path)], capture_output=True, timeout=180)
    assert result.returncode == 0, result.stderr
    flat = (tmp_path / "redline.fodt").read_text(encoding="utf-8")
    # "6" deleted; "5" inserted, and the new chapter (heading and paragraph: LibreOffice makes one region of them)
    assert flat.count("<text:deletion>") == 1 and flat.count("<text:insertion>") == 2
    assert "Négociateurs" in flat


def test_json_project_becomes_the_current_round(tmp_path, settings):
    """The « Projet de convention » tab's JSON project kept in step with the negotiation: first
    imported as round 1, then each change of the tab reaches the current round; a clause changed on
    both sides is a conflict with both texts, nothing is overwritten or lost; a second run changes nothing."""
    from rag.db import open_database
    from rag.negotiation import sync_workspace_project
    from rag.workspace import Workspace

    ws = Workspace(settings.data_dir, "amina")
    clauses = five_clauses()
    for clause in clauses[:3]:
        ws.add_clause(clause)
    db = open_database(settings)
    try:
        first = sync_workspace_project(db, settings.data_dir, "amina", LIBRARY)
        assert first.created and len(first.added) == 3 and "repris dans la négociation" in first.message()
        pid = first.project_id
        first_round = Negotiation(db, pid, "amina")
        assert [r.note for r in first_round.rounds()] == ["Premier tour, repris de l'onglet Projet de convention"]  # not a migration
        assert first_round.history(first_round.clauses()[0].key)[0]["note"].startswith("reprise du Projet de convention (ajoutée le ")
        again = sync_workspace_project(db, settings.data_dir, "amina", LIBRARY)
        assert not again.changed and again.unchanged == 3 and again.message() == "La négociation est à jour du Projet de convention."
        assert migrate_workspaces(db, settings.data_dir, LIBRARY).projects == 0  # the same file is not imported a second time

        # the negotiation goes on: round 2, karim's team edits the first clause
        team = create_team(db, "Équipe A", ["amina", "karim"])
        from rag.negotiation import share_project

        share_project(db, pid, "amina", team)
        karim = Negotiation(db, pid, "karim", LIBRARY, RULES)
        karim.new_round("Tour 2")
        c1, c2, c3 = karim.clauses()
        karim.save_clause(c1.key, c1.text + "\nArticle 9 — Version de Karim.", c1.version)

        # meanwhile in the tab: the first and second clauses edited, the third removed, two added, a new title
        data = json.loads(ws.project_file.read_text(encoding="utf-8"))
        data["clauses"][0]["text"] += "\nArticle 9 — Version d'Amina."
        data["clauses"][1]["text"] = data["clauses"][1]["text"].replace("6 % après deux ans", "7 % après deux ans")
        removed_text = data["clauses"][2]["text"]
        del data["clauses"][2]
        ws.save_project(data)
        ws.add_clause(clauses[3])
        ws.add_clause(clauses[4])
        ws.move_clause(3, -3)  # the order of the tab is not the negotiation's: no change for that
        ws.set_project_meta("Projet fédéral 2026", "Préambule revu.")
        before = ws.project_file.read_bytes()

        report = sync_workspace_project(db, settings.data_dir, "amina", LIBRARY)
        assert report.updated == [c2.title] and report.withdrawn == [c3.title] and report.meta_updated
        assert report.added == [clauses[4].title, clauses[3].title]  # in the tab's order, after the negotiation's clauses
        [conflict] = report.conflicts
        assert conflict["key"] == c1.key and conflict["database_author"] == "karim"
        assert conflict["database_text"].endswith("Version de Karim.") and conflict["workspace_text"].endswith("Version d'Amina.")
        assert "modifiée dans les deux onglets" in report.message()
        assert ws.project_file.read_bytes() == before  # the JSON is only read

        n = Negotiation(db, pid, "amina", LIBRARY, RULES)
        assert n.current_round() == 2 and n.title == "Projet fédéral 2026" and n.agreement().preamble == "Préambule revu."
        now = {c.key: c for c in n.clauses()}
        assert now[c1.key].text.endswith("Version de Karim.") and now[c1.key].author == "karim"   # not overwritten
        assert "7 % après deux ans" in now[c2.key].text and now[c2.key].author == "amina"
        assert now[c3.key].status == ClauseStatus.retiree and now[c3.key].text == removed_text.strip()  # withdrawn, text kept
        added = [c for c in n.clauses() if c.key not in {c1.key, c2.key, c3.key}]
        assert [c.title for c in added] == [clauses[4].title, clauses[3].title] and all(c.status == ClauseStatus.proposition_syndicale for c in added)
        assert [e["note"] for e in n.history(c2.key)][-1] == "Projet de convention"
        assert any(e["note"] == "retirée du Projet de convention" for e in n.history(c3.key))
        assert "6 % après deux ans" in n.clause(c2.key, 1).text and n.clause(c3.key, 1).status == ClauseStatus.proposition_syndicale  # round 1 as it was
        assert [p["id"] for p in projects_for(db, "karim")] == [pid]  # still the team's

        # run again: nothing more changes, the conflict is still reported until someone settles it
        third = sync_workspace_project(db, settings.data_dir, "amina", LIBRARY)
        assert not third.changed and [c["key"] for c in third.conflicts] == [c1.key]
        assert third.message().startswith(f"Négociation : 1 clause en conflit, rien d'autre à reprendre. ⚠ « {c1.title} » a été modifiée dans les deux onglets")
        # amina takes karim's text into the tab: the conflict is gone and nothing is saved
        data = json.loads(ws.project_file.read_text(encoding="utf-8"))
        first_in_tab = next(c for c in data["clauses"] if c["title"] == c1.title)
        first_in_tab["text"] = now[c1.key].text
        ws.save_project(data)
        settled = sync_workspace_project(db, settings.data_dir, "amina", LIBRARY)
        assert not settled.changed and not settled.conflicts
        assert Negotiation(db, pid, "amina").clause(c1.key).version == now[c1.key].version
        assert not any("modifié depuis sa reprise" in note for note in migrate_workspaces(db, settings.data_dir, LIBRARY).notes)
    finally:
        db.close()


def test_json_project_imported_before_marks_is_synced(tmp_path, settings):
    """A project imported by migrate_workspaces (no sync marks yet): its clauses are recognised
    from the JSON they were imported from, so a clause added in the tab is the only change."""
    from rag.db import open_database
    from rag.negotiation import sync_workspace_project
    from rag.workspace import Workspace

    ws = Workspace(settings.data_dir, "salma")
    for clause in five_clauses()[:2]:
        ws.add_clause(clause)
    db = open_database(settings)
    try:
        assert migrate_workspaces(db, settings.data_dir, LIBRARY).projects == 1
        ws.add_clause(five_clauses()[2])
        report = sync_workspace_project(db, settings.data_dir, "salma", LIBRARY)
        assert not report.created and report.added == [five_clauses()[2].title] and report.unchanged == 2 and not report.withdrawn
        assert not sync_workspace_project(db, settings.data_dir, "salma", LIBRARY).changed
        assert sync_workspace_project(db, settings.data_dir, "nobody", LIBRARY).project_id is None  # no JSON project: nothing
    finally:
        db.close()


def test_clause_removed_in_the_tab_but_changed_in_the_negotiation_is_kept(tmp_path, settings):
    from rag.db import open_database
    from rag.negotiation import sync_workspace_project
    from rag.workspace import Workspace

    ws = Workspace(settings.data_dir, "nadia")
    for clause in five_clauses()[:2]:
        ws.add_clause(clause)
    db = open_database(settings)
    try:
        pid = sync_workspace_project(db, settings.data_dir, "nadia", LIBRARY).project_id
        n = Negotiation(db, pid, "nadia", LIBRARY, RULES)
        first = n.clauses()[0]
        n.save_clause(first.key, first.text + "\nArticle 9 — Ajout en séance.", first.version)
        ws.remove_clause(0)
        report = sync_workspace_project(db, settings.data_dir, "nadia", LIBRARY)
        assert not report.withdrawn and [c["key"] for c in report.conflicts] == [first.key]
        assert report.message() == (f"Négociation : 1 clause en conflit, rien d'autre à reprendre. ⚠ « {first.title} », retirée du Projet de "
                                    "convention, a été modifiée dans la négociation (dernière version de nadia) : elle y est gardée telle quelle, non retirée.")
        assert n.clause(first.key).status == ClauseStatus.proposition_syndicale and n.clause(first.key).text.endswith("Ajout en séance.")
    finally:
        db.close()
