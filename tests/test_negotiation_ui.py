"""The « Négociation » tab: handlers driven as the UI calls them, and the tab built in Blocks; the
« Projet de convention » tab's changes taken into the negotiation (real SQLite file, real workspace
files), conflicts shown and settled, a broken database, sharing with a team."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import bcrypt
import gradio as gr

from rag.db import ClauseStatus, open_database
from rag.negotiation import Negotiation, projects_for
from rag.web import Handlers, build_ui
from rag.web.layout import PROJECT_SYNC_OUTPUTS, SYNC_OUTPUTS
from rag.web.negotiation import NegotiationHandlers, build_negotiation_tab
from rag.workspace import Workspace
from tests.test_negotiation import LIBRARY, RULES, employer_docx, five_clauses


def test_handlers_round_trip(settings, tmp_path):
    ws = Workspace(settings.data_dir, "amina")
    for clause in five_clauses():
        ws.add_clause(clause)
    db = open_database(settings)
    delivered = []
    h = NegotiationHandlers(db, settings, LIBRARY, RULES, deliver=lambda path, user: delivered.append(user) or path)
    try:
        projects = h.projects("amina")["projects"]
        assert len(projects) == 1 and h.projects("karim")["projects"] == []
        pid = projects[0][1]
        view = h.view(pid, "amina")
        assert [row[2] for row in view["clauses"]] == ["Proposition syndicale"] * 5 and view["clauses"][0][5] == "à la cible"
        key = view["clause_choices"][1][1]
        opened = h.open_clause(pid, key, "amina")
        saved = h.save(pid, key, opened["text"] + "\nArticle 9 — Ajout.", "en_suspens", opened["version"], "amina")
        assert saved["version"] == opened["version"] + 1 and "Enregistré" in saved["notice"]
        stale = h.save(pid, key, "Article 1 — Autre.", "en_suspens", opened["version"], "amina")
        assert "refusé" in stale["notice"] and stale["text"].endswith("Ajout.")
        assert "Tour 2" in h.new_round(pid, "réponse", "amina")["notice"]
        doc = tmp_path / "cp.docx"
        texts = [(c.title, c.text) for c in five_clauses()]
        texts[1] = (texts[1][0], texts[1][1].replace("6 % après deux ans", "4 % après deux ans"))
        doc.write_bytes(employer_docx(texts))
        compared = h.import_counter(pid, str(doc), "amina")
        assert compared["comparison"] and "art. 350" in compared["diff"] and "<script" not in compared["diff"]
        assert "contre-proposition" in h.apply_counter(pid, compared["comparison"], "amina")["notice"]
        red = h.redline(pid, 1, None, "amina")
        assert red["file"].endswith(".docx") and Path(red["file"]).stat().st_size > 0
        grid = tmp_path / "grille.csv"
        grid.write_text("categorie;effectif;salaire_base_mensuel\nConseiller;100;3600\n", encoding="utf-8")
        cost = h.cost(pid, str(grid), 2, "amina")
        assert cost["table"][0][0] == "Salaire minimum conventionnel" and cost["file"].endswith(".xlsx") and len(cost["chart"]) > 0
        assert delivered == ["amina", "amina"]
        assert "effectif" in h.cost(pid, None, 2, "amina")["notice"] or "grille" in h.cost(pid, None, 2, "amina")["notice"]
        assert h.view(pid, "intrus")["notice"].startswith("⚠")
    finally:
        db.close()


def test_tab_builds(settings):
    import gradio as gr

    with gr.Blocks() as demo:
        with gr.Tab("Négociation"):
            h = build_negotiation_tab(settings, LIBRARY, RULES, user_of=lambda request: None)
    assert isinstance(h, NegotiationHandlers) and demo is not None
    h.db.close()


# ---- the « Projet de convention » tab synced into the negotiation --------------------------------


def req(user):
    return SimpleNamespace(username=user)


def only_project(db, user="amina") -> Negotiation:
    found = projects_for(db, user)
    assert len(found) == 1
    return Negotiation(db, found[0]["id"], user, LIBRARY, RULES)


def test_every_change_of_the_project_tab_reaches_the_current_round(engine, settings):
    h = Handlers(engine, settings)
    amina = req("amina")
    for clause in five_clauses():  # « Ajouter au projet » in Rédaction, then the sync its event chains
        assert "ajoutée au projet" in h.drafting.add_to_project(clause.to_json(), None, amina)["draft_notice"]
        synced = h.project.sync_negotiation(amina)
        assert synced["project_conflicts"] == "" and "⚠" not in synced["project_notice"]
    db = h.project.database()
    n = only_project(db)
    assert [c.title for c in n.clauses()] == [c.title for c in five_clauses()]
    assert h.project.sync_negotiation(amina)["project_notice"] == "La négociation est à jour du Projet de convention."

    second = five_clauses()[1]
    assert h.project.pick_clause(1, amina)["clause_edit"] == second.text
    edited = second.text.replace("6 %", "7 %")
    out = h.project.edit_clause(1, edited, amina)
    assert "enregistré" in out["project_notice"] and "1 modifiée" in out["project_notice"] and out["clause_edit"] == edited
    assert n.clause(n.clauses()[1].key).text == edited and n.clause(n.clauses()[1].key).author == "amina"
    assert Workspace(settings.data_dir, "amina").load_project()["clauses"][1]["text"] == edited

    assert set(out) <= set(PROJECT_SYNC_OUTPUTS) and set(synced) <= set(SYNC_OUTPUTS)  # what their events list in the layout
    out = h.project.move_clause_down(0, amina)  # the order of the negotiation is its own: nothing to take
    assert "à jour" in out["project_notice"] and out["clause_pick"]["value"] == 1
    out = h.project.save_project_meta("Convention des centres d'appels 2027", "Entre les soussignés.", amina)
    assert "titre ou préambule mis à jour" in out["project_notice"] and only_project(db).title == "Convention des centres d'appels 2027"

    last = five_clauses()[4].title
    out = h.project.remove_clause(4, amina)
    assert "retirée du projet" in out["project_notice"] and "1 retirée(s)" in out["project_notice"]
    gone = next(c for c in n.clauses() if c.title == last)
    assert gone.status == ClauseStatus.retiree and gone.text  # marked « retirée », its text kept
    assert len(n.history(gone.key)) == 2
    assert "Choisissez d'abord" in h.project.edit_clause(None, "x", amina)["project_notice"]
    assert "vide" in h.project.edit_clause(0, "   ", amina)["project_notice"]


def test_a_clause_changed_on_both_sides_is_shown_never_overwritten(engine, settings):
    h = Handlers(engine, settings)
    amina = req("amina")
    ws = Workspace(settings.data_dir, "amina")
    for clause in five_clauses():
        ws.add_clause(clause)
    assert "repris dans la négociation" in h.project.sync_negotiation(amina)["project_notice"]
    n = only_project(h.project.database())
    key = n.clauses()[1].key
    theirs = n.save_clause(key, n.clause(key).text.replace("6 %", "5,5 %"), n.clause(key).version)  # in the Négociation tab
    mine = ws.load_project()["clauses"][1]["text"].replace("6 %", "9 %")

    out = h.project.edit_clause(1, mine, amina)
    assert "modifiée dans les deux onglets" in out["project_notice"]
    assert "Négociation : 1 clause en conflit, rien d'autre à reprendre." in out["project_notice"] and "aucun changement" not in out["project_notice"]
    conflicts = out["project_conflicts"]
    assert "Conflit de modification" in conflicts and "9" in conflicts and "5,5" in conflicts
    assert f"version {theirs.version} de amina" in conflicts and "<ins" in conflicts and "<del" in conflicts
    assert out["take_negotiation"]["visible"] is True  # the button that settles it appears
    assert n.clause(key).text == theirs.text and n.clause(key).version == theirs.version  # not overwritten
    assert ws.load_project()["clauses"][1]["text"] == mine  # the JSON save is done
    nh = NegotiationHandlers(h.project.database(), settings, LIBRARY, RULES)
    listed = nh.projects("amina")
    assert "modifiée dans les deux onglets" in listed["sync"] and "5,5" in listed["conflicts"] and listed["projects"]

    out = h.project.take_negotiation_texts(amina)
    assert "repris dans le Projet de convention" in out["project_notice"] and out["project_conflicts"] == ""
    assert out["take_negotiation"]["visible"] is False
    assert ws.load_project()["clauses"][1]["text"] == theirs.text.strip()
    assert h.project.sync_negotiation(amina)["project_notice"] == "La négociation est à jour du Projet de convention."
    assert "Aucun conflit" in h.project.take_negotiation_texts(amina)["project_notice"]


def test_a_database_failure_leaves_the_project_tab_working(engine, settings, tmp_path):
    blocker = tmp_path / "pas-un-dossier"
    blocker.write_text("x", encoding="utf-8")
    broken = settings.model_copy(update={"database_url": f"sqlite:///{blocker / 'ittifaq.db'}"})
    h = Handlers(engine, broken)
    amina = req("amina")
    out = h.drafting.add_to_project(five_clauses()[0].to_json(), None, amina)
    assert "ajoutée au projet" in out["draft_notice"]
    synced = h.project.sync_negotiation(amina)
    assert synced["project_notice"].startswith("⚠ La négociation n'a pas été mise à jour") and "bien enregistrées" in synced["project_notice"]
    out = h.project.save_project_meta("Titre gardé", "", amina)
    assert "Titre et préambule enregistrés." in out["project_notice"] and "n'a pas été mise à jour" in out["project_notice"]
    assert Workspace(settings.data_dir, "amina").load_project()["title"] == "Titre gardé"
    assert out["project_table"][0][1] == five_clauses()[0].title
    with gr.Blocks():  # the Négociation tab says it is unavailable; the page still builds
        assert build_negotiation_tab(broken, LIBRARY, RULES, user_of=lambda request: None, db=h.project.database) is None
    assert build_ui(engine, broken) is not None


def test_share_with_a_team_only_with_login_and_teams(settings, tmp_path):
    hashed = bcrypt.hashpw(b"mot-de-passe", bcrypt.gensalt(rounds=4)).decode()
    users = tmp_path / "users.txt"
    users.write_text(f"amina:{hashed}:team=Fédération\nkarim:{hashed}:team=Fédération\nsalma:{hashed}\n", encoding="utf-8")
    site = settings.model_copy(update={"users_file": users})
    ws = Workspace(site.data_dir, "salma")
    ws.add_clause(five_clauses()[0])
    db = open_database(site)
    try:
        h = NegotiationHandlers(db, site, LIBRARY, RULES)
        assert h.projects(None)["teams"]["visible"] is False  # no login
        salma = h.projects("salma")
        assert salma["projects"] and salma["teams"]["visible"] is False  # in no team

        Workspace(site.data_dir, "amina").add_clause(five_clauses()[1])
        listed = h.projects("amina")
        pid = listed["projects"][0][1]
        teams = listed["teams"]
        assert teams["visible"] and [label for label, _ in teams["choices"]] == ["Moi seul (non partagé)", "Fédération"]
        team_id = teams["choices"][1][1]
        assert teams["value"] == team_id and pid in [p[1] for p in h.projects("karim")["projects"]]  # her only team shares it on import
        h.share(pid, "", "amina")
        assert all(p[1] != pid for p in h.projects("karim")["projects"])
        out = h.share(pid, team_id, "amina")
        assert "Fédération" in out["notice"] and out["teams"]["value"] == team_id
        assert pid in [p[1] for p in h.projects("karim")["projects"]]
        assert h.share(pid, "", "karim")["notice"].startswith("⚠ Partage refusé : Seul l'auteur")
        assert h.share(pid, "999", "amina")["notice"].startswith("⚠ Partage refusé")
        assert "Choisissez" in h.share(None, team_id, "amina")["notice"]
        assert "réservé à vous seul" in h.share(pid, "", "amina")["notice"]
        assert all(p[1] != pid for p in h.projects("karim")["projects"])
    finally:
        db.close()
