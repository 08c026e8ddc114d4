"""Conversations on disk: rename (validated), export as Markdown with citations and excerpts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.workspace import MAX_CONVERSATION_TITLE, Workspace, conversation_markdown, conversation_title

ANSWER = {
    "role": "assistant",
    "content": "La prime d'ancienneté est de 10 % après cinq ans de service (C. trav., art. 350, p. 121).",
    "citations": [
        {"source": "ma_code_travail_fr_2011.pdf", "title": "Code du travail", "article": "350", "page": 121,
         "text": "…", "label": "C. trav., art. 350, p. 121"},
        {"source": "fiche_prime.md", "title": "Fiche — Prime d'ancienneté", "article": None, "page": None, "text": "…",
         "label": "Fiche — Prime d'ancienneté"},
    ],
    "quotes": [{"source": "ma_code_travail_fr_2011.pdf", "article": "350", "label": "C. trav., art. 350, p. 121", "page": 121,
                "text": "- 10% du salaire versé, après cinq ans\nde service ;", "figures": ["10"]}],
    "warnings": ["Chiffre 7 absent des sources."],
}


@pytest.fixture
def ws(tmp_path):
    return Workspace(tmp_path / "users", "amina")


@pytest.fixture
def conversation(ws):
    conv = ws.new_conversation()
    conv["messages"] = [{"role": "user", "content": "Quelle prime après 5 ans ?"}, ANSWER,
                        {"role": "user", "content": "# et après 15 ans ?\n---"},
                        {"role": "assistant", "content": "15 % après douze ans.", "citations": [], "quotes": [], "warnings": []}]
    return ws.save_conversation(conv)


def test_rename_keeps_the_title_and_the_place_in_the_list(ws, conversation):
    other = ws.new_conversation()
    other["messages"] = [{"role": "user", "content": "Plus récente"}]
    ws.save_conversation(other)
    before = [c["id"] for c in ws.list_conversations()]
    renamed = ws.rename_conversation(conversation["id"], "  Prime   d'ancienneté\t— négociation 2026 ")
    assert renamed["title"] == "Prime d'ancienneté — négociation 2026"
    assert ws.load_conversation(conversation["id"])["title"] == "Prime d'ancienneté — négociation 2026"
    assert [c["id"] for c in ws.list_conversations()] == before
    assert ws.load_conversation(conversation["id"])["messages"] == conversation["messages"]
    # still valid JSON on disk, no temp file left beside it
    files = sorted(p.name for p in ws.conversations_dir.iterdir())
    assert files == sorted(f"{c}.json" for c in before)
    json.loads((ws.conversations_dir / f"{conversation['id']}.json").read_text(encoding="utf-8"))


def test_title_control_and_direction_characters_are_removed():
    assert conversation_title("Prime\x00 \x1b[31mrouge\u202e\u200f ok\nligne 2") == "Prime [31mrouge ok ligne 2"
    assert conversation_title("مفاوضات الأجور") == "مفاوضات الأجور"
    assert len(conversation_title("a" * MAX_CONVERSATION_TITLE)) == MAX_CONVERSATION_TITLE


@pytest.mark.parametrize("title, words", [("", "Titre vide"), ("   \t\n", "Titre vide"), ("\u202e\x00", "Titre vide"),
                                          ("x" * (MAX_CONVERSATION_TITLE + 1), "Titre trop long"), (None, "Titre vide")])
def test_bad_titles_are_refused_clearly(ws, conversation, title, words):
    with pytest.raises(ValueError, match=words):
        ws.rename_conversation(conversation["id"], title)
    assert ws.load_conversation(conversation["id"])["title"] == conversation["title"]


def test_rename_or_export_of_an_unknown_conversation(ws):
    for bad in ("0" * 32, "../../etc/passwd", ""):
        with pytest.raises(ValueError, match="introuvable"):
            ws.rename_conversation(bad, "Titre")
        with pytest.raises(ValueError, match="introuvable"):
            ws.export_conversation(bad)


def test_export_writes_questions_answers_citations_and_excerpts(ws, conversation):
    ws.rename_conversation(conversation["id"], "Prime d'ancienneté")
    path = ws.export_conversation(conversation["id"])
    assert path.parent == ws.exports_dir and path.suffix == ".md" and "prime-d-anciennete" in path.name
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Prime d'ancienneté\n")
    assert "## Question 1\n\n> Quelle prime après 5 ans ?" in text
    assert "## Question 2\n\n> # et après 15 ans ?\n> ---" in text  # user text cannot become a heading or a rule
    assert ANSWER["content"] in text and "15 % après douze ans." in text
    assert "1. C. trav., art. 350, p. 121 — fichier : ma_code_travail_fr_2011.pdf" in text
    assert "2. Fiche — Prime d'ancienneté — fichier : fiche_prime.md" in text
    assert "> « - 10% du salaire versé, après cinq ans de service ; »\n— *C. trav., art. 350, p. 121*" in text
    assert "- ⚠ Chiffre 7 absent des sources." in text
    assert text.index("Question 1") < text.index("art. 350") < text.index("Question 2")
    assert [p.name for p in ws.exports_dir.iterdir()] == [path.name]  # atomic: no temp file left


def test_export_of_an_empty_conversation_is_refused(ws):
    conv = ws.new_conversation()
    ws.save_conversation(conv)
    with pytest.raises(ValueError, match="vide"):
        ws.export_conversation(conv["id"])
    assert not ws.exports_dir.exists() or not any(ws.exports_dir.iterdir())


def test_citation_article_is_added_when_the_label_lacks_it():
    conv = {"title": "t", "messages": [{"role": "user", "content": "q"},
                                       {"role": "assistant", "content": "r", "citations": [{"label": "IDCC 2098", "article": "4.3.2", "source": "x.md"}]}]}
    assert "1. IDCC 2098, art. 4.3.2 — fichier : x.md" in conversation_markdown(conv)


def test_delete_then_export_says_it_is_gone(ws, conversation):
    assert ws.delete_conversation(conversation["id"])
    with pytest.raises(ValueError, match="introuvable"):
        ws.export_conversation(conversation["id"])


# ---- the chat sidebar's handlers: rename, export, delete in two clicks -------------------------


@pytest.fixture
def ui(engine, settings):
    from rag.web import Handlers

    return Handlers(engine, settings)


def _user(name="alice"):
    from types import SimpleNamespace

    return SimpleNamespace(username=name)


@pytest.fixture
def saved(ui):
    ws = ui.chat.workspace(_user())
    conv = ws.new_conversation()
    conv["messages"] = [{"role": "user", "content": "Quelle prime après 5 ans ?"}, ANSWER]
    return ws.save_conversation(conv)


def test_rename_handler_updates_the_list_and_refuses_bad_titles(ui, saved):
    assert ui.chat.after_chat(saved)["conv_title"] == saved["title"]  # the box shows the title to edit
    state = ui.chat.rename_conversation("Prime 2026", saved, _user())
    assert state["conv_title"] == "Prime 2026" and "renommée" in state["chat_notice"]
    assert any(label.startswith("Prime 2026 ·") and value == saved["id"] for label, value in state["conversations"]["choices"])
    assert state["conversations"]["value"] == saved["id"]
    bad = ui.chat.rename_conversation("x" * 200, saved, _user())
    assert set(bad) == {"chat_notice"} and "Titre trop long" in bad["chat_notice"]
    unsaved = ui.chat.rename_conversation("Titre", ui.chat.workspace(_user()).new_conversation(), _user())
    assert "Posez d'abord une question" in unsaved["chat_notice"]
    # another user cannot rename it: their workspace does not have it
    assert "Posez d'abord" in ui.chat.rename_conversation("Volé", saved, _user("bob"))["chat_notice"]
    assert ui.chat.workspace(_user()).load_conversation(saved["id"])["title"] == "Prime 2026"


def test_export_handler_gives_a_private_markdown_download(ui, saved):
    state = ui.chat.export_conversation(saved, _user())
    path = Path(state["conv_file"])
    assert path.suffix == ".md" and "exportée" in state["chat_notice"]
    text = path.read_text(encoding="utf-8")
    assert "## Question 1" in text and "C. trav., art. 350, p. 121" in text and "10% du salaire versé" in text
    cached = f"/tmp/gradio/{ui.guard.key(path)}/{path.name}"  # the copy Gradio will serve: alice's only
    assert ui.guard.allowed(cached, "alice") and not ui.guard.allowed(cached, "bob")
    empty = ui.chat.export_conversation(ui.chat.workspace(_user()).new_conversation(), _user())
    assert empty["conv_file"] is None and "Conversation vide" in empty["chat_notice"]


def test_delete_needs_a_confirmation_of_the_same_conversation(ui, saved):
    ws = ui.chat.workspace(_user())
    asked = ui.chat.ask_delete(saved, _user())
    assert asked["confirm_delete"]["visible"] and asked["delete_pending"] == saved["id"]
    assert "Supprimer définitivement" in asked["chat_notice"] and ws.load_conversation(saved["id"]) is not None  # not yet

    cancelled = ui.chat.cancel_delete()
    assert cancelled["delete_pending"] is None and not cancelled["confirm_delete"]["visible"]
    assert ws.load_conversation(saved["id"]) is not None

    other = ws.save_conversation({**ws.new_conversation(), "messages": [{"role": "user", "content": "autre"}]})
    switched = ui.chat.confirm_delete(saved["id"], other, _user())  # the user opened another one in between
    assert "a changé" in switched["chat_notice"]
    assert ws.load_conversation(saved["id"]) is not None and ws.load_conversation(other["id"]) is not None

    done = ui.chat.confirm_delete(saved["id"], saved, _user())
    assert ws.load_conversation(saved["id"]) is None and "supprimée" in done["chat_notice"]
    assert not done["confirm_delete"]["visible"] and done["delete_pending"] is None
    assert saved["id"] not in [value for _, value in done["conversations"]["choices"]]
    nothing = ui.chat.ask_delete(ws.new_conversation(), _user())
    assert not nothing["confirm_delete"]["visible"] and "Aucune conversation" in nothing["chat_notice"]


def test_each_handler_returns_only_the_outputs_its_event_lists(ui, saved):
    """layout.bind_outputs refuses an output name its event does not list: the tuples and the handlers must agree."""
    from rag.web import layout

    def within(result: dict, names: tuple[str, ...]) -> None:
        assert set(result) <= set(names), sorted(set(result) - set(names))

    within(ui.chat.after_chat(saved), layout.AFTER_CHAT_OUTPUTS)
    within(ui.chat.rename_conversation("Titre", saved, _user()), layout.RENAME_OUTPUTS)
    within(ui.chat.rename_conversation("", saved, _user()), layout.RENAME_OUTPUTS)
    within(ui.chat.export_conversation(saved, _user()), layout.CONV_EXPORT_OUTPUTS)
    within(ui.chat.ask_delete(saved, _user()), layout.ASK_DELETE_OUTPUTS)
    within(ui.chat.cancel_delete(), layout.ASK_DELETE_OUTPUTS)
    within(ui.chat.read_next(saved, _user()), layout.READ_OUTPUTS)
    within(ui.chat.confirm_delete("0" * 32, saved, _user()), layout.DELETE_OUTPUTS)
    within(ui.chat.confirm_delete(saved["id"], saved, _user()), layout.DELETE_OUTPUTS)
    within(ui.corpus.search_corpus("durée", [], [], ""), layout.SEARCH_OUTPUTS)
    within(ui.corpus.corpus_state(), layout.CORPUS_OUTPUTS)
    within(ui.on_load(_user()), layout.LOAD_OUTPUTS)
