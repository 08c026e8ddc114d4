"""The « Négociation » tab: handlers driven as the UI calls them, and the tab built in Blocks."""

from __future__ import annotations

from pathlib import Path

from rag.db import open_database
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
