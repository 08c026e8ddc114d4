"""Jurisdiction: Moroccan law first, foreign comparables labelled and ranked after, comparisons get
both sides, and questions about a country or a body no indexed text covers get « not found »."""

from __future__ import annotations

import pytest

from rag.answer import ChatEngine
from rag.jurisdiction import countries_named, named_jurisdictions, uncovered_countries
from rag.retrieve import Filters

MA_LAW = """---
kind: law
title: Loi marocaine test
---
# Loi marocaine test
### Article 184
Dans les activités non agricoles, la durée normale du travail est fixée à 44 heures par semaine.
### Article 231
Le salarié a droit à un congé annuel payé d'un jour et demi de travail effectif par mois de service.
"""
FR_AGREEMENT = """# Avenant centres d'appels test
### Article 5
La pause déjeuner est d'au moins 45 minutes et la durée du travail hebdomadaire suit la loi française.
### Article 17
Le congé payé est de 2,5 jours ouvrables par mois de travail effectif.
"""


@pytest.fixture
def two_jurisdictions(engine, tmp_path):
    (tmp_path / "loi_maroc_test.md").write_text(MA_LAW, encoding="utf-8")
    # a file name the catalog knows as a French agreement (jurisdiction FR)
    (tmp_path / "fr_idcc2098_avenant_2002-06-20_centres_appels.md").write_text(FR_AGREEMENT, encoding="utf-8")
    results = engine.index.index_paths([tmp_path / "loi_maroc_test.md", tmp_path / "fr_idcc2098_avenant_2002-06-20_centres_appels.md"], isolated=False)
    assert all(r.status == "indexed" for r in results), results
    return engine


def test_country_names_in_three_languages_and_adjectives():
    assert countries_named("What is the statutory minimum wage in Spain?") == {"ES"}
    assert countries_named("salaire minimum en Tunisie") == {"TN"}
    assert countries_named("كم يبلغ الحد الأدنى للأجور في الجزائر؟") == {"DZ"}
    assert countries_named("مدة إجازة الأمومة في قانون العمل المصري") == {"EG"}
    assert countries_named("Quelle est la durée du travail ?") == set()
    assert countries_named("ما هي مدة الشغل الأسبوعية؟") == set()
    assert uncovered_countries("au Maroc et en France", {"MA", "FR", "ILO"}) == set()
    assert uncovered_countries("en Espagne", {"MA", "FR", "ILO"}) == {"ES"}


def test_named_jurisdictions():
    assert named_jurisdictions("Au Maroc et en France, combien de jours de congé ?") == ["MA", "FR"]
    assert named_jurisdictions("Under ILO Convention 98 and the Moroccan Labour Code") == ["MA", "ILO"]
    assert named_jurisdictions("Combien d'heures par semaine ?") == []


def test_moroccan_law_answers_first_when_no_foreign_text_is_named(two_jurisdictions):
    hits = two_jurisdictions.retriever.search("Combien d'heures de travail par semaine au maximum dans un centre d'appels ?", k=4)
    assert hits[0].source == "loi_maroc_test.md" and hits[0].article == "184"
    foreign = next(h for h in hits if h.source.startswith("fr_idcc"))
    two_jurisdictions.settings.comparable_weight = 1.0
    plain = two_jurisdictions.retriever.search("Combien d'heures de travail par semaine au maximum dans un centre d'appels ?", k=4)
    same = next(h for h in plain if h.chunk_id == foreign.chunk_id)
    assert foreign.score == pytest.approx(same.score * 0.5, rel=1e-3)  # the comparable is ranked at half weight


def test_a_comparison_gets_both_texts(two_jurisdictions):
    hits = two_jurisdictions.retriever.search("Combien de jours de congé payé par mois au Maroc et dans l'accord français ?", k=2)
    assert {h.source for h in hits} == {"loi_maroc_test.md", "fr_idcc2098_avenant_2002-06-20_centres_appels.md"}
    assert {h.article for h in hits} == {"231", "17"}


def test_uncovered_country_and_unknown_body_get_not_found(two_jurisdictions):
    gate = ChatEngine(two_jurisdictions.retriever, None, two_jurisdictions.settings)
    retriever = two_jurisdictions.retriever
    question = "Combien de jours de congé payé par mois en Espagne ?"
    assert retriever.search(question, k=4) and gate.relevant(retriever.search(question, k=4), question) == []
    question = "Combien de jours de congé payé par mois chez Teleperformance ?"
    assert retriever.unknown_names(question) == ["Teleperformance"]
    two_jurisdictions.settings.min_similarity = 0.99  # an unknown name needs a clearly relevant text
    assert gate.relevant(retriever.search(question, k=4), question) == []
    # the same question about Morocco is answered
    question = "Combien de jours de congé payé par mois au Maroc ?"
    two_jurisdictions.settings.min_similarity = 0.05
    assert retriever.unknown_names(question) == []
    assert gate.relevant(retriever.search(question, k=4), question)


def test_filters_still_restrict_a_comparison(two_jurisdictions):
    hits = two_jurisdictions.retriever.search("congé payé au Maroc et en France", k=4, filters=Filters(kinds=["law"]))
    assert hits and {h.source for h in hits} == {"loi_maroc_test.md"}


# ---- agreements named by their subject ---------------------------------------------------------

def catalog_titles() -> list[str]:
    """The titles, labels and file names of the project's catalog (corpus/catalog.yaml)."""
    from rag.index import Catalog
    from rag.settings import PROJECT_ROOT

    entries = Catalog.load(PROJECT_ROOT / "corpus" / "catalog.yaml").entries
    return [" ".join([e.get("title", ""), source.replace("_", " "), e.get("short", "")]) for source, e in entries.items()]


@pytest.mark.parametrize("question", [
    "Quel taux de majoration la convention collective nationale des télécommunications accorde-t-elle pour le dimanche ?",
    "Combien de jours de télétravail d'après l'accord national interprofessionnel de 2020 ?",
    "What overtime rate does the banking collective agreement set?",
    "What does the collective agreement for the hotel industry say about night work?",
    "ما هي مدة الراحة في الاتفاقية الجماعية لقطاع الأبناك؟",
])
def test_an_agreement_no_indexed_title_matches_is_named_as_missing(question):
    from rag.instruments import unindexed_instruments

    assert unindexed_instruments(question, catalog_titles()), question


@pytest.mark.parametrize("question", [
    "Que prévoit la convention collective des centres d'appels sur les pauses ?",
    "Selon la convention collective des prestataires de services, quelle est la durée de la période d'essai ?",
    "La convention collective nationale applicable prévoit-elle une prime ?",  # only generic words
    "Une convention collective peut-elle fixer un salaire inférieur au SMIG ?",
    "What does the French call-centre collective agreement say about breaks?",
    "Can a collective agreement set wages below the minimum wage?",
    "هل يمكن للاتفاقية الجماعية أن تحدد أجرا أقل من الحد الأدنى؟",
    # the name ends at the verb: « de travail » is generic, « doit-elle être déposée » is no subject
    "Auprès de qui une convention collective de travail doit-elle être déposée ?",
    "Une convention collective de travail peut être conclue pour quelle durée ?",
    "Which collective agreement can be extended by decree?",
])
def test_indexed_or_generic_agreements_are_not_refused(question):
    from rag.instruments import unindexed_instruments

    assert unindexed_instruments(question, catalog_titles()) == [], question


def test_a_question_on_an_agreement_not_indexed_gets_not_found(two_jurisdictions):
    gate = ChatEngine(two_jurisdictions.retriever, None, two_jurisdictions.settings)
    retriever = two_jurisdictions.retriever
    question = "Combien de jours de congé payé par mois selon la convention collective nationale des télécommunications ?"
    hits = retriever.search(question, k=4)
    assert hits and retriever.unindexed_agreements(question)
    assert gate.relevant(hits, question) == []
    two_jurisdictions.settings.refuse_unindexed_agreements = False
    two_jurisdictions.settings.min_similarity = 0.05
    assert gate.relevant(hits, question)  # the same hits, the check off: answered from the call-centre text
    question = "Combien de jours de congé payé par mois selon la convention collective des centres d'appels ?"
    assert retriever.unindexed_agreements(question) == []  # its title is indexed


def test_a_comparison_is_answered_side_by_side_each_side_cited(two_jurisdictions):
    """One model call per jurisdiction, each over that jurisdiction's texts only: both sides end up
    cited, under their headings, and the keys of the second side follow those of the first."""
    from tests.conftest import RecordingFake

    model = RecordingFake(["Le salarié acquiert un jour et demi par mois [S1].", "Le congé est de 2,5 jours ouvrables par mois [S1]."])
    two_jurisdictions.settings.part_sources = 3
    chat = ChatEngine(two_jurisdictions.retriever, model, two_jurisdictions.settings)
    answer = chat.ask("Combien de jours de congé payé par mois au Maroc et en France ?")
    assert len(model.prompts) == 2
    first, second = (p[1]["content"] for p in model.prompts)
    assert "Loi marocaine test" in first and "IDCC 2098" not in first and "Droit marocain" in first
    assert "IDCC 2098" in second and "Loi marocaine" not in second and "[S1] IDCC 2098" in second  # keys start at S1 for each call
    assert [(c.source, c.article) for c in answer.citations] == [
        ("loi_maroc_test.md", "231"), ("fr_idcc2098_avenant_2002-06-20_centres_appels.md", "17")]
    assert answer.text.index("**Droit marocain**") < answer.text.index("un jour et demi") < answer.text.index("**France") < answer.text.index("2,5 jours")
    assert {(q.source, q.article) for q in answer.quotes} == {(c.source, c.article) for c in answer.citations}
    moroccan = sum(1 for s in answer.sources if s.source == "loi_maroc_test.md")
    assert [c.key for c in answer.citations] == ["S1", f"S{moroccan + 1}"]  # no key shared by two sources
    assert len({s.key for s in answer.sources}) == len(answer.sources)


def test_a_comparison_in_one_answer_when_answering_in_parts_is_off(two_jurisdictions):
    from tests.conftest import RecordingFake

    model = RecordingFake(["Un jour et demi par mois [S1]."])
    two_jurisdictions.settings.answer_in_parts = False
    answer = ChatEngine(two_jurisdictions.retriever, model, two_jurisdictions.settings).ask(
        "Combien de jours de congé payé par mois au Maroc et en France ?")
    assert len(model.prompts) == 1 and "**" not in answer.text


@pytest.mark.parametrize("question", [
    "What is the statutory minimum wage in Spain in 2026?",
    "What is the statutory minimum wage for call-centre agents in Tunisia in 2026?",
    "Quel est le salaire minimum mensuel en Espagne ?",
    "Quelle prime d'ancienneté après 7 ans prévoit l'IDCC 2098 ?",
])
def test_a_question_on_another_law_is_not_answered_by_the_moroccan_calculators(two_jurisdictions, fake_chat, question):
    """The calculators compute Moroccan statute: before, « minimum wage in Spain » got the SMIG."""
    from rag.calc import parse_question

    assert parse_question(question) is not None  # the calculator would have taken it
    model = fake_chat("Les sources fournies ne traitent pas de cette question.")
    answer = ChatEngine(two_jurisdictions.retriever, model, two_jurisdictions.settings).ask(question)
    assert answer.calculation is None
    if countries_named(question) - {"MA", "FR"}:
        assert answer.not_found and not model.prompts  # a country no indexed text covers: « not found »


@pytest.mark.parametrize("question", [
    "Quel est le salaire minimum mensuel au Maroc en 2026 ?",
    "Quel est le taux de la prime d'ancienneté après 7 ans ?",
])
def test_moroccan_questions_still_get_the_calculators(two_jurisdictions, fake_chat, question):
    model = fake_chat()
    answer = ChatEngine(two_jurisdictions.retriever, model, two_jurisdictions.settings).ask(question)
    assert answer.calculation is not None and not model.prompts
