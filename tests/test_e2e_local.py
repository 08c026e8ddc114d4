"""End to end with the real packaged model (Qwen 1.5B, llama-cpp) and embedder on the real code PDF."""

from __future__ import annotations

import pytest

from rag.engine import build_engine
from rag.settings import Settings
from tests.conftest import CODE_FR, need_shared

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real_engine(tmp_path_factory):
    need_shared(CODE_FR)
    root = tmp_path_factory.mktemp("e2e")
    settings = Settings(store_dir=root / "store", data_dir=root / "users", corpus_dirs=[], _env_file=None)
    engine = build_engine(settings)  # real e5 embedder, real local model (loaded on first use)
    results = engine.index.index_paths([CODE_FR])
    assert results[0].status == "indexed", results[0].message
    yield engine
    engine.close()


def test_weekly_working_time_is_44_hours_citing_art_184(real_engine):
    answer = real_engine.chat_engine().ask("Quelle est la durée normale du travail par semaine ?")
    assert "44" in answer.text
    assert "184" in [c.article for c in answer.citations]
    assert "art. 184" in answer.text


def test_night_overtime_premium_is_50_percent_citing_art_201(real_engine):
    answer = real_engine.chat_engine().ask("Quelle est la majoration des heures supplémentaires effectuées la nuit ?")
    assert "50" in answer.text
    assert "201" in [c.article for c in answer.citations]


def test_english_question_is_answered_in_english_from_french_text(real_engine):
    answer = real_engine.chat_engine().ask("How many hours is the normal working week in Morocco?")
    assert answer.lang == "en" and "44" in answer.text
    assert not answer.not_found


def test_out_of_scope_question_is_not_answered(real_engine):
    answer = real_engine.chat_engine().ask("Quelle est la recette du couscous aux sept légumes ?")
    assert answer.not_found or not answer.citations


def test_draft_with_real_model_keeps_template_figures_and_flags_floor(real_engine):
    clause = real_engine.drafter().draft("prime d'ancienneté", ["4 % après 5 ans"])
    assert "4 % après cinq ans" in clause.text
    assert any(c.status == "below_floor" and c.article == "350" for c in clause.checks)
    assert any(c.article == "350" for c in clause.citations)
    assert clause.rationale == "" or "[S" not in clause.rationale


def test_a_workers_words_reach_the_article_through_the_questions_written_for_it(real_engine):
    """The weekly rest asked in a worker's words shares no word with art. 205 (« repos hebdomadaire »):
    the questions written per article (corpus/glosses) bring it into the first five, e5 alone does not."""
    question = "Mon patron me fait travailler tous les jours de la semaine, sans aucun jour off : il a le droit ?"
    retriever = real_engine.retriever
    hits = retriever.search(question, k=5)
    rest = next((h for h in hits if h.article == "205"), None)
    assert rest is not None and "gloss" in rest.via, [(h.article, h.via) for h in hits]
    settings = retriever.settings
    try:
        retriever.settings = settings.model_copy(update={"gloss_weight": 0.0})
        assert "205" not in [h.article for h in retriever.search(question, k=5)]
    finally:
        retriever.settings = settings
