"""Grounded chat logic with a fake chat model (LangChain's fake) over a real store."""

from __future__ import annotations

import re

import pytest

from rag.answer import Answer, ChatEngine, Delta, numbers_in, stated_numbers
from rag.model_text import sanitise_model_text
from tests.conftest import LAW, FailingModel, RecordingFake


@pytest.fixture
def indexed(engine, tmp_path):
    path = tmp_path / "loi_test.md"
    path.write_text(LAW, encoding="utf-8")
    engine.index.index_paths([path], isolated=False)
    return engine


def chat_for(engine, *replies: str, n_ctx: int = 4096) -> tuple[ChatEngine, RecordingFake]:
    model = RecordingFake(list(replies), n_ctx)
    return ChatEngine(engine.retriever, model, engine.settings), model


def test_answer_cites_article_and_streams(indexed):
    chat, model = chat_for(indexed, "La durée normale est de 44 heures par semaine [S1].")
    events = list(chat.stream("Quelle est la durée normale du travail par semaine ? art. 184"))
    assert any(isinstance(e, Delta) for e in events)
    answer = events[-1]
    assert isinstance(answer, Answer)
    assert re.search(r"44 heures par semaine \(Loi test, art\. 184\)", answer.text), answer.text  # the rendered reference
    assert "[S1]" not in answer.text
    assert answer.citations[0].article == "184" and "44 heures" in answer.citations[0].text
    assert answer.warnings == []
    system, user = model.prompts[0]
    assert system["role"] == "system" and "[S1]" in user["content"] and "<<<" in user["content"]


def test_unknown_citation_key_is_removed_and_reported(indexed):
    chat, _ = chat_for(indexed, "La durée est de 44 heures [S1]. Le congé est de 90 jours [S9].")
    answer = chat.ask("article 184 durée du travail")
    assert "[S9]" not in answer.text and "S9" not in answer.text
    assert any("[S9]" in w and "retirée" in w for w in answer.warnings)
    assert [c.article for c in answer.citations] == ["184"]


def test_number_absent_from_cited_text_is_flagged(indexed):
    chat, _ = chat_for(indexed, "La durée normale est de 48 heures par semaine [S1].")
    answer = chat.ask("article 184")
    assert any("48" in w and "absent" in w for w in answer.warnings)


def test_citation_moved_to_the_source_that_states_the_figure(indexed):
    chat, _ = chat_for(indexed, "La durée normale est de 2288 heures par an [S2].")
    answer = chat.ask("article 184 article 201")
    assert [c.article for c in answer.citations] == ["184"]
    assert any(w.startswith("Citation corrigée") for w in answer.warnings)


def test_number_written_in_words_in_source_is_accepted(indexed):
    chat, _ = chat_for(indexed, "Le repos hebdomadaire dure au moins 24 heures [S1].")
    answer = chat.ask("article 205 repos hebdomadaire")
    assert not any("absent" in w for w in answer.warnings)


def test_not_found_when_nothing_relevant_and_model_not_called(indexed):
    indexed.settings.min_similarity = 0.99
    chat, model = chat_for(indexed, "should not be used")
    answer = chat.ask("recette du couscous aux sept légumes")
    assert answer.not_found and "ne traitent pas" in answer.text
    assert model.prompts == [] and answer.citations == []


@pytest.mark.parametrize("question,lang,expected", [
    ("What is the weekly working time? article 184", "en", "in English"),
    ("ما هي مدة الشغل الأسبوعية؟ المادة 184", "ar", "باللغة العربية"),
    ("Quelle est la durée du travail ? article 184", "fr", "en français"),
])
def test_answer_language_follows_question(indexed, question, lang, expected):
    chat, model = chat_for(indexed, "44 [S1].")
    answer = chat.ask(question)
    assert answer.lang == lang
    assert expected in model.prompts[0][1]["content"]


def test_not_found_message_in_question_language(indexed):
    indexed.settings.min_similarity = 0.99
    chat, _ = chat_for(indexed)
    assert "do not cover" in chat.ask("What is the recipe of couscous?").text
    assert "لا تتناول" in chat.ask("ما هي وصفة الكسكس؟").text


def test_follow_up_is_rewritten_before_retrieval(indexed):
    chat, model = chat_for(indexed, "Quelle est la majoration des heures supplémentaires la nuit ?", "Elle est de 50 % [S1].")
    history = [("Quelle est la majoration des heures supplémentaires ?", "25 % le jour (art. 201).")]
    answer = chat.ask("et pour la nuit ?", history=history)
    assert answer.standalone_question == "Quelle est la majoration des heures supplémentaires la nuit ?"
    assert "Question précédente" in model.prompts[0][1]["content"]
    # the rewrite shares the answer's system prompt: the local model's cached prefix survives it
    assert model.prompts[0][0] == model.prompts[1][0]
    assert answer.citations and answer.citations[0].article == "201"


def test_long_question_without_history_is_not_rewritten(indexed):
    chat, model = chat_for(indexed, "44 heures [S1].")
    chat.ask("article 184")
    assert len(model.prompts) == 1


def test_sources_fit_the_window_and_truncation_is_reported(indexed):
    from rag import prompts

    chat, model = chat_for(indexed, "Réponse [S1].", n_ctx=2000)
    question = "heures supplémentaires durée repos article 184"
    fixed = chat._tokens(prompts.SYSTEM_PROMPT) + chat._tokens(question) + 120
    indexed.settings.llm_max_tokens = 2000 - fixed - 170  # room for about two short sources
    answer = chat.ask(question)
    total = sum(chat._tokens(m["content"]) for m in model.prompts[0])
    assert total <= 2000 - indexed.settings.llm_max_tokens
    assert any("tronquée" in w or "écartée" in w for w in answer.warnings)


def test_model_failure_mid_stream_gives_partial_labelled_answer(indexed):
    chat = ChatEngine(indexed.retriever, FailingModel(["La durée est ", "de 44 heures [S1]."], TimeoutError("timed out")), indexed.settings)
    answer = chat.ask("article 184")
    assert answer.partial and "interrompue" in answer.text and "délai" in answer.text
    assert "44 heures" in answer.text


def test_model_down_before_first_token(indexed):
    chat = ChatEngine(indexed.retriever, FailingModel([], ConnectionError("connection refused")), indexed.settings)
    answer = chat.ask("article 184")
    assert answer.partial and "injoignable" in answer.text


def test_injected_html_images_and_links_are_inert():
    raw = 'Voir ![x](http://evil/?q=secret) <script>alert(1)</script> [clic](javascript:alert(1)) <img src=x onerror=alert(1)>'
    clean = sanitise_model_text(raw)
    assert "http://evil" not in clean and "<script" not in clean and "javascript:" not in clean and "onerror" not in clean


def test_number_helpers():
    assert {"17.92", "2288"} <= numbers_in("fixé à 17,92 dirhams et 2 288 heures")
    assert "24" in numbers_in("vingt-quatre heures")
    assert stated_numbers("Selon l'article 184, la durée est de 44 heures [S1].") == {"44"}
    # references to parts of a text are not figures to check
    assert stated_numbers("La clause 4 et l'alinéa 2 du chapitre 3 prévoient 26 jours [S1].") == {"26"}
    assert stated_numbers("البند 4 ينص على 18 يوما") == {"18"}


def test_long_source_is_focused_on_the_question_sentences(indexed):
    chat, _ = chat_for(indexed)
    filler = " ".join(f"Phrase de remplissage numéro {i} sur un autre sujet." for i in range(60))
    text = filler + " Le repos hebdomadaire est de vingt-quatre heures. " + filler
    focused = chat.focus(text, "Quelle est la durée du repos hebdomadaire ?", 60)
    assert "repos hebdomadaire est de vingt-quatre heures" in focused
    assert "[…]" in focused and chat._tokens(focused) <= 80


def test_uncited_figure_gets_the_citation_of_the_source_stating_it(indexed):
    chat, _ = chat_for(indexed, "La majoration de nuit est de 50 %.")
    answer = chat.ask("article 201 majoration")
    assert [c.article for c in answer.citations] == ["201"]
    assert "art. 201" in answer.text and any("Citation ajoutée" in w for w in answer.warnings)


def test_engine_warms_the_system_prompt_once_when_it_loads_the_model(settings, monkeypatch):
    from tests.conftest import HashEmbeddings

    from rag import models, prompts
    from rag.engine import build_engine

    class Warmable:
        n_ctx = 4096

        def __init__(self):
            self.warmed: list[str] = []

        def warm(self, system_prompt: str) -> None:
            self.warmed.append(system_prompt)

    built: list[Warmable] = []
    monkeypatch.setattr(models, "build_chat_model", lambda s: built.append(Warmable()) or built[-1])
    engine = build_engine(settings, embedder=HashEmbeddings())
    try:
        assert engine.chat is engine.chat
        assert len(built) == 1 and built[0].warmed == [prompts.SYSTEM_PROMPT]
    finally:
        engine.close()


def test_app_warm_up_builds_the_lexical_index_and_loads_the_model(settings, monkeypatch):
    import app
    from rag import models
    from rag.engine import build_engine
    from tests.conftest import HashEmbeddings

    class Warmable:
        n_ctx = 4096
        warmed = 0

        def warm(self, system_prompt: str) -> None:
            self.warmed += 1

    monkeypatch.setattr(models, "build_chat_model", lambda s: Warmable())
    engine = build_engine(settings, embedder=HashEmbeddings())
    try:
        assert not engine.chat_loaded
        app.warm_up(engine)
        assert engine.chat_loaded and engine.chat.warmed == 1
        assert engine.index._lexical is not None
    finally:
        engine.close()


def test_app_warm_up_failure_is_logged_not_raised(settings, monkeypatch, caplog):
    import app
    from rag import models
    from rag.engine import build_engine
    from tests.conftest import HashEmbeddings

    def unavailable(_settings):
        raise models.ModelUnavailable("RAG_OPENAI_BASE_URL n'est pas défini")

    monkeypatch.setattr(models, "build_chat_model", unavailable)
    engine = build_engine(settings, embedder=HashEmbeddings())
    try:
        app.warm_up(engine)
        assert "RAG_OPENAI_BASE_URL" in caplog.text
    finally:
        engine.close()


def test_a_question_in_two_parts_is_answered_part_by_part(indexed):
    """Each part is searched and answered on its own sources, under its own heading; the model sees
    the whole question and is told which part to answer; a streamed part starts with its heading."""
    chat, model = chat_for(indexed, "La durée normale est de 44 heures par semaine [S1].",
                           "La majoration est de 50 % entre 21 heures et 6 heures [S1].")
    indexed.settings.part_sources = 2
    question = "Quelle est la durée normale du travail par semaine, et quelle majoration pour les heures supplémentaires de nuit ?"
    events = list(chat.stream(question))
    answer = events[-1]
    assert len(model.prompts) == 2
    second = model.prompts[1][1]["content"]
    assert question in second and "Quelle majoration pour les heures supplémentaires de nuit ?" in second.split(question)[1]
    assert [c.article for c in answer.citations] == ["184", "201"]
    assert "(Loi test, art. 184)" in answer.text and "(Loi test, art. 201)" in answer.text
    streamed = "".join(e.text for e in events if isinstance(e, Delta))
    assert streamed.startswith("**Quelle est la durée normale du travail par semaine ?**")
    assert "**Quelle majoration pour les heures supplémentaires de nuit ?**" in answer.text
    assert not answer.warnings, answer.warnings


def test_a_part_nothing_answers_says_so_and_the_other_part_stands(indexed):
    chat, model = chat_for(indexed, "La durée normale est de 44 heures par semaine [S1].")
    indexed.settings.min_similarity = 0.3  # the hash embedder: only the part sharing words with article 184 passes
    answer = chat.ask("Quelle est la durée normale du travail par semaine, et quel est le prix d'un billet de train pour Casablanca ?")
    assert len(model.prompts) == 1, "the part no text answers never reaches the model"
    assert not answer.not_found and [c.article for c in answer.citations] == ["184"]
    assert "ne traitent pas de ce point" in answer.text


def test_a_sentence_written_twice_is_kept_once_and_a_lone_key_joins_its_sentence(indexed):
    """The 1.5B model sometimes repeats a sentence word for word, or ends with a key on its own
    (« … par semaine. [S1] »): the answer shows it once, with one reference; sentences that differ
    by a figure are both kept."""
    chat, _ = chat_for(indexed, "La durée normale est de 44 heures par semaine. [S1] La majoration est de 25 % [S2]. "
                                "La majoration est de 25 % [S2]. La majoration est de 50 % la nuit [S2].")
    answer = chat.ask("article 184 article 201")
    assert answer.text.count("44 heures par semaine") == 1 and answer.text.count("(Loi test, art. 184)") == 1
    assert answer.text.count("25 %") == 1 and "50 %" in answer.text, answer.text


def test_a_sentence_that_only_asks_the_question_again_is_dropped(indexed):
    """The 1.5B model sometimes writes the question back with a key after it: that sentence answers
    nothing and its citation would look like support; the answer keeps its other sentences, and an
    answer made only of it says so (the quote of the source stays below it)."""
    question = "Quelle est la durée normale du travail par semaine ? art. 184"
    chat, _ = chat_for(indexed, "Quelle est la durée normale du travail par semaine ? [S1] Elle est de 44 heures par semaine [S1].",
                       "Quelle est la durée normale du travail par semaine ? [S1]")
    answer = chat.ask(question)
    assert answer.text.startswith("Elle est de 44 heures") and "?" not in answer.text
    echoed = chat.ask(question)
    assert not echoed.model_citations and "?" not in echoed.text
    assert any("reposer la question" in w for w in echoed.warnings) and echoed.quotes
    # nothing of the model's is left: the answer reads the nearest source's decisive sentence, verbatim and cited
    assert echoed.text.startswith("Extrait de la source la plus proche") and "44 heures par semaine" in echoed.text
    assert [(c.article, c.stand_in) for c in echoed.citations] == [("184", True)]


def test_questions_of_the_models_own_are_dropped(indexed):
    """Tune t2-033: the 1.5B model answered a worker's Darija question with three questions of its own
    (« [Q1] هل توجد مرضات بزاف في الشركة؟ … »). Questions are not an answer; nothing of the model's
    is left, so the answer reads the nearest source's sentence and says why."""
    chat, _ = chat_for(indexed, "[Q1] Y a-t-il des heures supplémentaires dans l'entreprise ? [S1]\n\n"
                                "[Q2] Le salarié travaille-t-il la nuit ?\n\nElle est de 44 heures par semaine [S1].",
                       "[Q1] Y a-t-il des heures supplémentaires dans l'entreprise ?\n\n[Q2] Le salarié travaille-t-il la nuit ?")
    answer = chat.ask("Quelle est la durée normale du travail par semaine ? art. 184")
    assert answer.text.startswith("Elle est de 44 heures") and "?" not in answer.text and "[Q" not in answer.text
    only_questions = chat.ask("Quelle est la durée normale du travail par semaine ? art. 184")
    assert not only_questions.model_citations and "?" not in only_questions.text
    assert any("poser des questions" in w for w in only_questions.warnings)
    assert only_questions.text.startswith("Extrait de la source la plus proche")


def test_the_sources_cut_marks_copied_by_the_model_are_left_out(indexed):
    """Tune h120: the model copied a source's list whose items the fitting had cut (« 1. […] 2. […] … 49.
    […] »): the empty items read as 49 figures. The cut marks say nothing and are left out."""
    chat, _ = chat_for(indexed, "La convention couvre les activités suivantes : 1. […] 2. […] 3. […] 4. […]\n"
                                "Elle est de 44 heures par semaine […] [S1].")
    answer = chat.ask("Quelle est la durée normale du travail par semaine ? art. 184")
    assert "[…]" not in answer.text and "à vérifier" not in answer.text, answer.text
    assert "44 heures par semaine (Loi test, art. 184)" in answer.text
    assert not [c for c in answer.checks if c.status.value != "supported" and c.figure in {"1", "2", "3", "4"}]


def test_a_sentence_that_only_tells_the_askers_situation_back_is_dropped(indexed):
    """A worker tells their situation, then asks: the 1.5B model often writes the situation back with
    a key after it. That sentence answers nothing and its citation would look like support."""
    question = "Je travaille dans un centre d'appels depuis deux ans. Quelle est la durée normale du travail par semaine ?"
    chat, _ = chat_for(indexed, "Je travaille dans un centre d'appels depuis deux ans [S1]. "
                                "La durée normale est de 44 heures par semaine [S1].")
    answer = chat.ask(question)
    assert answer.text.startswith("La durée normale est de 44 heures") and "centre d'appels" not in answer.text
    assert [c.article for c in answer.model_citations] == ["184"]
    # a request that ends with a full stop: its words told back go, a sentence with a figure the asker did not give stays
    request = "Comparez la durée normale du travail par semaine et par année."
    chat, _ = chat_for(indexed, "La durée normale du travail par semaine et par année [S1]. "
                                "La durée normale du travail par semaine est de 44 heures [S1].")
    answer = chat.ask(request)
    assert answer.text.startswith("La durée normale du travail par semaine est de 44 heures") and "par année" not in answer.text


def test_a_part_that_asks_the_whole_question_back_is_dropped(indexed):
    """In a question answered part by part, the model sees the whole question: a sentence of one
    part that repeats the whole question (not only that part's words) is dropped as well."""
    question = "Quelle est la durée normale du travail par semaine, et quelle majoration pour les heures supplémentaires de nuit ?"
    chat, _ = chat_for(indexed, "Elle est de 44 heures par semaine [S1].",
                       f"{question} [S1] La majoration est de 50 % entre 21 heures et 6 heures [S1].")
    indexed.settings.part_sources = 2
    answer = chat.ask(question)
    second = answer.text.split("**Quelle majoration pour les heures supplémentaires de nuit ?**")[1]
    assert "?" not in second and second.strip().startswith("La majoration est de 50 %"), answer.text
