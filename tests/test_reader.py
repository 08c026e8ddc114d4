"""The article reader and the corpus search box, on a real store (Chroma on a temp dir, real PDF
and Markdown parsing, real chunking into several pieces); only the embedder is the hash fake."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rag import cli
from rag.engine import build_engine
from rag.reader import (
    ArticleNotFound,
    NotFoundReason,
    article_request,
    join_pieces,
    natural_key,
    read_article,
    search_corpus,
)
from rag.settings import PROJECT_ROOT, Settings
from tests.conftest import CODE_AR, CODE_FR, HashEmbeddings, make_pdf, need_shared

LONG_3 = [
    "Le salarie beneficie d'une prime d'anciennete dont le montant est fixe selon la duree du service.",
    "La prime est de 5 pour cent du salaire apres deux ans de service accomplis dans l'entreprise.",
    "Elle est de 10 pour cent apres cinq ans de service, et de 15 pour cent apres douze ans.",
    "Elle est de 20 pour cent apres vingt ans de service dans la meme entreprise ou chez le meme employeur.",
    "Elle est de 25 pour cent apres vingt-cinq ans de service, taux maximal prevu par la presente loi.",
    "Les periodes de suspension du contrat ne sont pas prises en compte pour le calcul du service continu.",
]
PAGE_1 = "\n".join([
    "Livre premier : Des conventions relatives au travail",
    "Titre premier : Du contrat de travail",
    "Chapitre premier : Dispositions generales",
    "Article 1",
    "La presente loi s'applique aux personnes liees par un contrat de travail.",
    "Article 2",
    "Le contrat de travail est conclu pour une duree determinee ou indeterminee.",
    "Titre II : Du salaire",
    "Article 3",
    *LONG_3[:3],
])
PAGE_2 = "\n".join([
    *LONG_3[3:],
    "Article 4",
    "Le salaire est paye au moins deux fois par mois pour les ouvriers.",
    "Article 4 bis",
    "Le bulletin de paie mentionne la prime d'anciennete.",
    "Article 5",
    "Le salaire minimum legal est fixe par voie reglementaire.",
])
AGREEMENT = (
    "# Convention collective test\n## Article 2\nLes parties conviennent d'une grille de salaires.\n"
    "## Article 3\nUne prime de transport est versee chaque mois.\n"
)
ILO = "# ILO Convention No. 999 test\n## Article 2\nEach Member shall apply this Convention.\n## Article 7\nRatifications shall be registered.\n"


@pytest.fixture
def small_settings(tmp_path):
    # 64 tokens a piece: article 3 of the law is read back from several stored pieces
    return Settings(store_dir=tmp_path / "store", data_dir=tmp_path / "users", cache_dir=PROJECT_ROOT / ".cache",
                    corpus_dirs=[], parse_timeout_s=60, chunk_tokens=64, chunk_overlap_tokens=32,
                    min_similarity=0.05, _env_file=None)  # the hash embedder's scale


@pytest.fixture
def texts(tmp_path):
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "loi_test_travail.pdf").write_bytes(make_pdf([PAGE_1, PAGE_2]))
    (folder / "convention_collective_test.md").write_text(AGREEMENT, encoding="utf-8")
    (folder / "ilo_c999_test_en.md").write_text(ILO, encoding="utf-8")
    return folder


@pytest.fixture
def store(small_settings, texts):
    engine = build_engine(small_settings, embedder=HashEmbeddings())
    results = engine.index.index_paths([texts], isolated=False)
    assert [r.status for r in results] == ["indexed"] * 3, [r.message for r in results]
    yield engine
    engine.close()


# ---- requests ------------------------------------------------------------------------------


@pytest.mark.parametrize("text, key, lang", [
    ("article 350", "350", "fr"),
    ("art. 350", "350", "fr"),
    ("Art 350", "350", "fr"),
    ("lire l'article 350", "350", "fr"),
    ("Lire l’article 350.", "350", "fr"),
    ("l'article 16 bis", "16 bis", "fr"),
    ("article 16bis", "16 bis", "fr"),
    ("ouvre l'article premier", "1", "fr"),
    ("article L3121-36", "L3121-36", "fr"),
    ("المادة 350", "350", "ar"),
    ("اقرأ المادة ٣٥٠", "350", "ar"),
    ("المادة الأولى", "1", "ar"),
    ("read article 350", "350", "en"),
    ("article 2 of the convention 87", "2", "en"),
    ("article 350 du code du travail", "350", "fr"),
])
def test_article_requests_are_recognised(text, key, lang):
    ref = article_request(text)
    assert ref is not None and ref.key == key and ref.lang == lang


@pytest.mark.parametrize("text", [
    "Que dit l'article 350 sur la prime ?",
    "Que dit l'article 350 sur la prime",
    "article 350 ?",
    "Quelle est la prime d'ancienneté selon l'article 350, après 7 ans",
    "ما هي المادة 350 ؟",
    "Quelle est la durée du travail ?",
    "article",
    "",
    "article 350 du code, combien pour 7 ans",
])
def test_questions_that_mention_an_article_are_not_requests(text):
    assert article_request(text) is None


def test_request_names_the_kind_of_text():
    assert article_request("article 350 du code du travail").kind_hint == "law"
    assert article_request("article 2 de la convention n° 87 de l'OIT").kind_hint == "intl_convention"
    assert article_request("المادة 350 من مدونة الشغل").kind_hint == "law"


def test_join_pieces_keeps_a_shared_sentence_once():
    assert join_pieces(["Une phrase. La deuxième phrase.", "La deuxième phrase. La troisième."]) == "Une phrase. La deuxième phrase. La troisième."
    assert join_pieces(["Sans rien de commun.", "Autre chose."]) == "Sans rien de commun.\nAutre chose."


def test_article_numbers_sort_naturally():
    keys = ["10", "2", "17", "16 bis", "16", "L3121-10", "L3121-9", "1"]
    assert sorted(keys, key=natural_key) == ["1", "2", "10", "16", "16 bis", "17", "L3121-9", "L3121-10"]


# ---- reading an article from the store ----------------------------------------------------


def test_long_article_is_read_whole_once_with_its_place(store):
    stored = store.index.collection.get(where={"$and": [{"source": "loi_test_travail.pdf"}, {"article_key": "3"}]}, include=["metadatas"])
    assert len(stored["ids"]) >= 3  # the premise: article 3 is kept as several overlapping pieces

    article = read_article(store.index, "3")
    assert article.found and article.source == "loi_test_travail.pdf" and article.article == "3"
    for sentence in LONG_3:
        assert article.text.count(sentence) == 1, sentence  # every sentence, none twice
    assert article.text.index(LONG_3[0]) < article.text.index(LONG_3[-1])
    assert article.heading_path[:3] == ["Livre premier : Des conventions relatives au travail", "Titre II : Du salaire", "Article 3"] or \
        article.heading_path[-1] == "Article 3"
    assert "Titre II : Du salaire" in article.heading_path and article.heading_path[-1] == "Article 3"
    assert article.pages == [1, 2] and article.page == 1
    assert (article.previous, article.next) == ("2", "4")
    assert article.kind == "law" and article.jurisdiction == "MA"
    assert article.label.endswith("art. 3, p. 1") and article.pieces == len(stored["ids"])


def test_neighbours_at_the_edges_and_bis_articles(store):
    first = read_article(store.index, "1")
    assert first.previous is None and first.next == "2"
    bis = read_article(store.index, article_request("l'article 4 bis"))
    assert bis.found and bis.article == "4 bis" and "bulletin de paie" in bis.text
    assert (bis.previous, bis.next) == ("4", "5")
    assert read_article(store.index, "5").next is None


def test_number_in_several_texts_defaults_to_the_code_and_lists_the_others(store):
    article = read_article(store.index, article_request("article 3"))
    assert article.found and article.source == "loi_test_travail.pdf"
    assert [t.source for t in article.also_in] == ["convention_collective_test.md"]
    chosen = read_article(store.index, "3", source="convention_collective_test.md")
    assert chosen.found and "prime de transport" in chosen.text and chosen.previous == "2" and chosen.next is None


def test_ambiguous_number_without_the_code_lists_the_texts(store):
    result = read_article(store.index, "7", source=None)
    assert result.found and result.source == "ilo_c999_test_en.md"  # only one text has an article 7
    result = read_article(store.index, article_request("article 2 de la convention collective"))
    assert result.found and result.source == "convention_collective_test.md"  # the request names the kind
    result = read_article(store.index, "2")
    assert result.found and result.source == "loi_test_travail.pdf"
    store.index.remove("loi_test_travail.pdf")
    result = read_article(store.index, "2")
    assert isinstance(result, ArticleNotFound) and result.reason == NotFoundReason.AMBIGUOUS
    assert {c.source for c in result.candidates} == {"convention_collective_test.md", "ilo_c999_test_en.md"}
    assert "Précisez le texte" in result.message and "convention_collective_test.md" in result.message


def test_missing_article_and_unknown_source_are_typed_results(store):
    missing = read_article(store.index, "999")
    assert not missing.found and missing.reason == NotFoundReason.ABSENT and "999" in missing.message
    unknown = read_article(store.index, "3", source="nope.pdf")
    assert unknown.reason == NotFoundReason.UNKNOWN_SOURCE and "nope.pdf" in unknown.message
    assert read_article(store, "3").found  # an Engine is accepted too
    assert json.loads(json.dumps(missing.to_json()))["reason"] == "absent"


# ---- corpus search -------------------------------------------------------------------------


def test_search_corpus_rows_and_filters(store):
    rows = search_corpus(store.retriever, "taux maximal vingt-cinq ans", k=5)
    assert rows and rows[0].source == "loi_test_travail.pdf" and rows[0].article == "3"
    assert "maximal" in rows[0].snippet and len(rows[0].snippet) <= 250
    assert rows[0].label.startswith(rows[0].title) or "art. 3" in rows[0].label
    only = search_corpus(store.retriever, "prime", kind="agreement")
    assert only and {r.source for r in only} == {"convention_collective_test.md"}
    english = search_corpus(store.retriever, "Convention", lang=["en"])
    assert english and {r.lang for r in english} == {"en"}
    one = search_corpus(store.retriever, "salaire", source="loi_test_travail.pdf")
    assert one and {r.source for r in one} == {"loi_test_travail.pdf"}


@pytest.mark.parametrize("kwargs, words", [
    ({"query": "  "}, "Saisissez"),
    ({"query": "prime", "kind": "roman"}, "Type de texte inconnu"),
    ({"query": "prime", "lang": "de"}, "Langue inconnue"),
    ({"query": "prime", "source": "absent.pdf"}, "absent.pdf"),
])
def test_search_corpus_refuses_bad_input_clearly(store, kwargs, words):
    with pytest.raises(ValueError, match=words):
        search_corpus(store.retriever, **kwargs)


# ---- the command line --------------------------------------------------------------------


@pytest.fixture
def runner(monkeypatch, small_settings, store):
    from rag import engine as engine_module

    store.close()  # the CLI opens the store itself (one process holds the lock)
    real = engine_module.build_engine

    def fake_embedder_engine(settings, embedder=None, chat=None, client=None):
        return real(settings, embedder=embedder or HashEmbeddings(), chat=chat, client=client)

    monkeypatch.setattr(engine_module, "build_engine", fake_embedder_engine)
    monkeypatch.setenv("RAG_STORE_DIR", str(small_settings.store_dir))
    monkeypatch.setenv("RAG_CHUNK_TOKENS", "64")
    return CliRunner()


def test_cli_article_prints_the_article_and_its_place(runner):
    result = runner.invoke(cli.app, ["article", "3"])
    assert result.exit_code == 0, result.output
    assert LONG_3[0] in result.stdout and LONG_3[-1] in result.stdout
    assert "Titre II : Du salaire" in result.stdout and "p. 1-2" in result.stdout
    assert "précédent : art. 2" in result.stdout and "suivant : art. 4" in result.stdout
    assert "convention_collective_test.md" in result.stdout  # also in another text

    for asked in ("المادة 3", "art. 3", "lire l'article 3"):
        assert json.loads(runner.invoke(cli.app, ["article", asked, "--json"]).stdout)["article"] == "3", asked
    data = json.loads(runner.invoke(cli.app, ["article", "3", "--source", "convention_collective_test.md", "--json"]).stdout)
    assert data["found"] and data["source"] == "convention_collective_test.md" and data["previous"] == "2"


def test_cli_article_not_found_exits_1_with_a_clear_message(runner):
    result = runner.invoke(cli.app, ["article", "999"])
    assert result.exit_code == 1 and "Article 999 introuvable" in result.output
    result = runner.invoke(cli.app, ["article", "3", "--source", "nope.pdf", "--json"])
    assert result.exit_code == 1 and json.loads(result.stdout)["reason"] == "unknown_source"
    assert runner.invoke(cli.app, ["article", "  "]).exit_code == 2


# ---- the real French Labour Code -----------------------------------------------------------


@pytest.fixture(scope="module")
def code(tmp_path_factory):
    need_shared(CODE_FR, CODE_AR)
    root = tmp_path_factory.mktemp("code")
    settings = Settings(store_dir=root / "store", data_dir=root / "users", corpus_dirs=[], cache_dir=PROJECT_ROOT / ".cache", _env_file=None)
    engine = build_engine(settings, embedder=HashEmbeddings())
    assert [r.status for r in engine.index.index_paths([CODE_FR, CODE_AR])] == ["indexed", "indexed"]
    yield engine
    engine.close()


def test_code_article_350_is_read_whole(code):
    import re

    article = read_article(code.index, article_request("lire l'article 350"))
    assert article.found and article.source == CODE_FR.name and article.short == "C. trav."
    for step in ("5", "10", "15", "20", "25"):
        assert re.search(rf"\b{step}\s?%", article.text), step  # the whole scale, not only its first step
    assert any(part.startswith("Livre") for part in article.heading_path) and article.heading_path[-1].startswith("Article 350")
    assert article.pages and article.page == article.pages[0] and (article.previous, article.next) == ("349", "351")


def test_code_article_in_several_pieces_is_read_whole(code):
    data = code.index.collection.get(where={"$and": [{"source": CODE_FR.name}, {"pieces": {"$gt": 2}}, {"article_key": {"$ne": ""}}]}, include=["documents", "metadatas"])
    assert data["ids"], "the premise: some articles of the code are stored in several pieces"
    key = data["metadatas"][0]["article_key"]
    pieces = sorted((m["piece"], d) for m, d in zip(data["metadatas"], data["documents"]) if m["article_key"] == key)
    article = read_article(code.index, key, source=CODE_FR.name)
    assert article.found and article.pieces == len(pieces)
    flat = " ".join(article.text.split())
    for _, document in pieces:
        body = " ".join(document.split("\n", 1)[1].split())  # without the heading line
        assert body in flat  # every piece, whole
    assert len(flat) < sum(len(" ".join(d.split("\n", 1)[1].split())) for _, d in pieces)  # overlaps kept once


# ---- the web handlers: an article request in the chat, the corpus search box ---------------------


@pytest.fixture
def ui(store, small_settings):
    from rag.web import Handlers
    from tests.conftest import RecordingFake

    store._chat = RecordingFake(["Réponse du modèle [S1]."])
    return Handlers(store, small_settings)


def _user(name="alice"):
    from types import SimpleNamespace

    return SimpleNamespace(username=name)


def test_chat_article_request_shows_the_article_without_the_model(ui, store):
    states = list(ui.chat.chat_submit("lire l'article 3", None, None, None, None, _user()))
    assert store._chat.prompts == []  # the model was not asked
    final = states[-1]
    shown = final["chatbot"][-1]["content"]
    assert final["chatbot"][-2]["content"] == "lire l'article 3"
    for sentence in LONG_3:
        assert sentence in shown.replace("\\", "")
    assert "Titre II : Du salaire" in shown and "p. 1-2" in shown
    assert "article précédent : 2" in shown and "article suivant : 4" in shown
    assert "convention\\_collective\\_test.md" in shown  # also in another text, named
    assert [c["article"] for c in final["cited"]] == ["3"] and LONG_3[-1] in final["cited"][0]["text"]
    after = ui.chat.after_chat(final["conversation"])
    assert after["article_prev"]["visible"] and after["article_next"]["visible"]
    # saved like any answer: it comes back after a reload
    stored = ui.chat.workspace(_user()).load_conversation(final["conversation"]["id"])
    assert stored["messages"][-1]["article"] == {"source": "loi_test_travail.pdf", "article": "3", "previous": "2", "next": "4", "lang": "fr"}


def test_chat_neighbour_buttons_walk_the_text(ui):
    conversation = list(ui.chat.chat_submit("article 4", None, None, None, None, _user()))[-1]["conversation"]
    state = ui.chat.read_next(conversation, _user())
    assert state["chatbot"][-2]["content"] == "article 4 bis" and "bulletin de paie" in state["chatbot"][-1]["content"]
    from rag.web.layout import READ_OUTPUTS

    assert set(state) <= set(READ_OUTPUTS)  # the event lists every output the handler returns
    state = ui.chat.read_next(state["conversation"], _user())
    assert state["chatbot"][-2]["content"] == "article 5"
    assert state["article_next"]["visible"] is False and state["article_prev"]["visible"] is True  # art. 5 is the last
    state = ui.chat.read_next(state["conversation"], _user())
    assert "Pas d'article suivant" in state["chat_notice"]
    state = ui.chat.read_previous(state["conversation"], _user())
    assert state["chatbot"][-2]["content"] == "article 4 bis"


def test_chat_article_request_in_arabic_is_answered_in_arabic(ui, store):
    final = list(ui.chat.chat_submit("المادة 3", None, None, None, None, _user()))[-1]
    shown = final["chatbot"][-1]["content"]
    assert LONG_3[0] in shown.replace("\\", "") and "المادة السابقة: 2" in shown and "المادة التالية: 4" in shown
    state = ui.chat.read_next(final["conversation"], _user())
    assert state["chatbot"][-2]["content"] == "المادة 4" and "deux fois par mois" in state["chatbot"][-1]["content"]
    missing = list(ui.chat.chat_submit("المادة 999", None, None, None, None, _user()))[-1]
    assert "المادة 999 غير موجودة" in missing["chatbot"][-1]["content"]
    assert store._chat.prompts == []


def test_chat_source_filter_picks_the_text_and_missing_article_is_said(ui, store):
    final = list(ui.chat.chat_submit("article 3", None, None, None, "convention_collective_test.md", _user()))[-1]
    assert "prime de transport" in final["chatbot"][-1]["content"]
    final = list(ui.chat.chat_submit("article 999", final["conversation"], None, None, None, _user()))[-1]
    assert "Article 999 introuvable" in final["chatbot"][-1]["content"] and final["cited"] == []
    assert not ui.chat.after_chat(final["conversation"])["article_next"]["visible"]
    store.index.remove("loi_test_travail.pdf")
    final = list(ui.chat.chat_submit("article 2", None, None, None, None, _user()))[-1]
    shown = final["chatbot"][-1]["content"]
    assert "Plusieurs textes ont un article 2" in shown and "convention\\_collective\\_test.md" in shown and "ilo\\_c999" in shown
    assert store._chat.prompts == []


def test_chat_question_mentioning_an_article_still_goes_to_the_model(ui, store):
    list(ui.chat.chat_submit("Que dit l'article 3 sur la prime ?", None, None, None, None, _user()))
    assert len(store._chat.prompts) == 1


def test_corpus_search_box_rows_filters_and_article(ui):
    result = ui.corpus.search_corpus("taux maximal vingt-cinq ans", [], [], "")
    first = result["search_results"][0]
    assert first[1] == "3" and first[3] == "loi_test_travail.pdf" and "maximal" in first[4]
    assert "passage(s)" in result["search_notice"]
    from types import SimpleNamespace

    opened = ui.corpus.open_search_result(result["search_rows"], SimpleNamespace(index=[0, 4]))
    assert LONG_3[0] in opened["search_article"].replace("\\", "") and "article suivant : 4" in opened["search_article"]
    agreements = ui.corpus.search_corpus("prime", ["agreement", "not-a-kind"], [], "")
    assert {row[3] for row in agreements["search_results"]} == {"convention_collective_test.md"}
    one = ui.corpus.search_corpus("salaire", [], ["fr"], "loi_test_travail.pdf")
    assert {row[3] for row in one["search_results"]} == {"loi_test_travail.pdf"}
    empty = ui.corpus.search_corpus("   ", [], [], "")
    assert empty["search_results"] == [] and "Saisissez" in empty["search_notice"]
    none = ui.corpus.search_corpus("zzzqqq", [], [], "")
    assert none["search_results"] == [] and "Aucun passage" in none["search_notice"]
    assert ui.corpus.open_search_result([], SimpleNamespace(index=[3, 0])) == {"search_article": ""}
    assert ui.corpus.open_search_result("forged", SimpleNamespace(index=0)) == {"search_article": ""}


def test_code_in_french_and_arabic_each_request_reads_its_own_version(code):
    arabic = read_article(code.index, article_request("المادة 350"))
    assert arabic.found and arabic.source == CODE_AR.name and "الأقدمية" in arabic.text
    assert (arabic.previous, arabic.next) == ("349", "351") and arabic.heading_path[0].startswith("الكتاب")
    assert [t.source for t in arabic.also_in] == [CODE_FR.name]  # the other version of the same law
    french = read_article(code.index, article_request("article 350"))
    assert french.source == CODE_FR.name and [t.source for t in french.also_in] == [CODE_AR.name]
