"""Session-6 retrieval mechanisms (issue 14), each on real texts and a real store:

- a question that asks two things is searched part by part (rag.subquestions);
- a question naming one text (« الاتفاقية رقم 87 ») also searches that text alone;
- passages that repeat another text's wording (treaty final clauses) are found and kept across the
  saved lexical index (rag.boilerplate).
"""

from __future__ import annotations

import pytest

from rag.boilerplate import repeated_passages
from rag.engine import build_engine
from rag.retrieve import parse_scope
from rag.settings import Settings
from rag.subquestions import split_question
from tests.conftest import CODE_AR, SHARED_CORPUS, HashEmbeddings, need_shared

C087 = SHARED_CORPUS / "ilo_c087_freedom_of_association_1948_en.md"
C098 = SHARED_CORPUS / "ilo_c098_right_to_organise_collective_bargaining_1949_en.md"


# ---- splitting a question ------------------------------------------------------------------------
@pytest.mark.parametrize("question,first,second", [
    ("In Morocco, what is the minimum age for admission to work, and below what age is night work prohibited for minors?",
     "In Morocco, what is the minimum age for admission to work", "below what age is night work prohibited for minors?"),
    ("Quel est le préavis minimal fixé par le Code, et quelle est la durée du préavis d'un cadre dans la convention IDCC 2098 ?",
     "Quel est le préavis minimal fixé par le Code", "quelle est la durée du préavis d'un cadre dans la convention IDCC 2098 ?"),
    ("Au bout de combien d'heures le travailleur de nuit a-t-il droit à une pause ainsi qu'à combien de jours d'absence par an ?",
     "Au bout de combien d'heures le travailleur de nuit a-t-il droit à une pause", "à combien de jours d'absence par an ?"),
    ("ما المدة الدنيا للراحة الأسبوعية في مدونة الشغل، وما نسبة الزيادة عن الساعات الإضافية ليلا؟",
     "ما المدة الدنيا للراحة الأسبوعية في مدونة الشغل", "ما نسبة الزيادة عن الساعات الإضافية ليلا؟"),
    ("Quelle est la durée du congé annuel ? Combien de jours de plus donne l'ancienneté ?",
     "Quelle est la durée du congé annuel ?", "Combien de jours de plus donne l'ancienneté ?"),
])
def test_a_question_asking_two_things_is_cut_where_the_second_starts(question, first, second):
    assert split_question(question) == [first, second]


@pytest.mark.parametrize("question", [
    "Quel est le taux de la prime d'ancienneté après 7 ans ?",
    # the second half has no notion of its own: the comparison is the jurisdiction split's job
    "Combien de jours de congé payé par mois au Maroc, et dans la convention IDCC 2098 ?",
    "Dans quel état de l'entreprise quel salaire est dû ?",  # « et » inside « état » is no conjunction
    "Le salarié et l'employeur, qui doit prévenir l'inspecteur ?",  # no interrogative after « et »
    "Quelle est la durée du préavis ? Et pourquoi ?",  # a part without two content words
    "",
])
def test_a_question_asking_one_thing_is_not_cut(question):
    assert split_question(question) == []


def test_the_parts_a_question_is_answered_in():
    """For answering part by part: a part that only names articles is not a question of its own."""
    from rag.subquestions import question_parts

    assert question_parts("Quelle est la durée normale du travail par semaine ? art. 184") == []
    assert question_parts("Quelle est la durée du congé annuel ? Combien de jours de plus donne l'ancienneté ? art. 232") == [
        "Quelle est la durée du congé annuel ?", "Combien de jours de plus donne l'ancienneté ? art. 232"]
    assert question_parts("ما المدة الدنيا للراحة الأسبوعية في مدونة الشغل، وما نسبة الزيادة عن الساعات الإضافية ليلا؟") == [
        "ما المدة الدنيا للراحة الأسبوعية في مدونة الشغل", "ما نسبة الزيادة عن الساعات الإضافية ليلا؟"]
    assert question_parts("Quel est le taux de la prime d'ancienneté après 7 ans ?") == []


@pytest.mark.parametrize("question,second", [
    ("Selon l'accord de branche de 2003 sur le travail de nuit, au bout de combien d'heures a-t-on droit à une pause "
     "ainsi qu'à combien de jours d'absence par an pour des obligations familiales ?",
     "Selon l'accord de branche de 2003 sur le travail de nuit, à combien de jours d'absence par an pour des obligations familiales ?"),
    ("If a call centre spreads its yearly hours unevenly, what daily limit applies, and what must the employer do beyond 10 hours?",
     "If a call centre spreads its yearly hours unevenly, what must the employer do beyond 10 hours?"),
    ("حسب الاتفاقية 154 بشأن المفاوضة الجماعية، هل تشمل المفاوضة الممثلين المنتخبين، وما الضمانة المطلوبة لحماية النقابات؟",
     "حسب الاتفاقية 154 بشأن المفاوضة الجماعية، ما الضمانة المطلوبة لحماية النقابات؟"),
])
def test_the_later_parts_keep_the_opening_clause_that_frames_the_question(question, second):
    """The second half of « Selon l'accord de 2003…, … ainsi qu'à combien de jours… » asks the same
    agreement: searched alone it has lost the text it is about."""
    from rag.subquestions import question_parts, with_lead

    parts = with_lead(split_question(question))
    assert len(parts) == 2 and parts[1] == second and not parts[0].startswith(second[:20] + ", ")
    assert question_parts(question)[1] == second


def test_an_opening_clause_that_asks_something_is_not_carried():
    from rag.subquestions import with_lead

    parts = split_question("Quelle est la durée du congé annuel, et combien de jours de plus donne l'ancienneté ?")
    assert with_lead(parts) == parts == ["Quelle est la durée du congé annuel", "combien de jours de plus donne l'ancienneté ?"]


@pytest.mark.parametrize("question,first", [
    ("Au bout de combien d'heures consécutives de travail de nuit le salarié a-t-il droit à une pause, et de quelle durée, "
     "selon l'accord IDCC 2098 de 2003 ?",
     "Au bout de combien d'heures consécutives de travail de nuit le salarié a-t-il droit à une pause selon l'accord IDCC 2098 de 2003"),
    ("What is a worker expected to do when he sees an imminent and serious danger, and what must two undertakings "
     "sharing a workplace do under Convention 155?",
     "What is a worker expected to do when he sees an imminent and serious danger under Convention 155"),
    ("ما هي المدة الدنيا للراحة الأسبوعية؟ وما نسبة الزيادة حسب مدونة الشغل؟",
     "ما هي المدة الدنيا للراحة الأسبوعية حسب مدونة الشغل؟"),
])
def test_the_earlier_parts_keep_the_closing_clause_that_names_the_text(question, first):
    """« …une pause, et de quelle durée, selon l'accord IDCC 2098 de 2003 ? »: the first half asks the
    same agreement; searched alone it went to the Moroccan code's night rest."""
    from rag.subquestions import question_parts, with_tail

    parts = with_tail(split_question(question))
    assert len(parts) == 2 and parts[0] == first and parts[1] == split_question(question)[1]
    assert question_parts(question)[0] == first


def test_a_closing_clause_is_not_carried_when_it_names_no_text_or_the_part_names_its_own():
    from rag.subquestions import with_tail

    # « dans l'entreprise » names no text
    parts = split_question("Combien de délégués faut-il, et combien de jours de congé dans l'entreprise ?")
    assert len(parts) == 2 and with_tail(parts) == parts
    # the first part already names its law: each side of the comparison keeps its own
    parts = split_question("Combien de jours de congé payé au Maroc, et combien dans la convention IDCC 2098 ?")
    assert with_tail(parts) == parts == ["Combien de jours de congé payé au Maroc", "combien dans la convention IDCC 2098 ?"]


def test_the_word_convention_with_a_number_names_that_convention_without_ilo_beside_it():
    """« Can a government bound by Convention 87 … » names C87 although it never says « ILO »: it was
    searched over every text and C98 came first."""
    assert parse_scope("Can a government bound by Convention 87 require prior permission?").source_fragments == {"c087"}
    assert parse_scope("La convention n° 98 protège-t-elle le salarié syndiqué ?").source_fragments == {"c098"}
    # a collective agreement's number is no ILO convention; a bare « c 2 » outside ILO questions names nothing
    assert parse_scope("Selon la convention collective IDCC 2098, quel préavis ?").source_fragments == set()
    assert parse_scope("Que dit l'article 184 c 2 du code ?").source_fragments == set()


def test_arabic_names_of_a_convention_point_at_its_text():
    assert parse_scope("هل يجوز للدولة، حسب اتفاقية الحرية النقابية رقم 87، أن تحل النقابة؟").source_fragments == {"c087"}
    assert parse_scope("حسب الاتفاقية ١٥٤ بشأن المفاوضة الجماعية").source_fragments == {"c154"}
    assert parse_scope("وحسب الاتفاقية الدولية 135، شكون").source_fragments == {"c135"}
    assert parse_scope("الاتفاقية الجماعية 2098").source_fragments == set()  # four digits: not an ILO number
    assert parse_scope("une entreprise avec 12 salariés").source_fragments == set()  # « avec 12 » is no « C12 »


# ---- on a real store -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def store(tmp_path_factory):
    need_shared(C087, C098, CODE_AR)
    root = tmp_path_factory.mktemp("mechanisms")
    settings = Settings(store_dir=root / "store", data_dir=root / "users", corpus_dirs=[], min_similarity=0.05, _env_file=None)
    engine = build_engine(settings, embedder=HashEmbeddings())
    assert {r.status for r in engine.index.index_paths([C087, C098, CODE_AR])} == {"indexed"}
    yield engine
    engine.close()


def _articles(hits, source):
    return [h.article for h in hits if h.source == source]


def test_every_part_of_a_two_part_question_gets_its_best_article_into_the_top(store):
    retriever = store.retriever
    question = "ما هي مدة العطلة السنوية المؤدى عنها، وما هو سن القبول في الشغل؟"
    parts = split_question(question)
    assert len(parts) == 2
    top = [(h.source, h.article) for h in retriever.search(question, k=5)]
    for part in parts:
        best = retriever.search(part, k=1)[0]
        assert (best.source, best.article) in top, part


def test_a_question_naming_a_convention_gets_that_convention_even_in_another_language(store):
    retriever = store.retriever
    question = "هل يجوز حسب الاتفاقية رقم 87 أن يتم حل المنظمات بقرار إداري؟"  # Arabic question, English text
    on = retriever.search(question, k=5)
    assert _articles(on, C087.name), [(h.source, h.article) for h in on]
    retriever.settings = retriever.settings.model_copy(update={"search_named_text": False, "named_text_boost": 1.0, "scope_boost": 1.0})
    try:
        off = retriever.search(question, k=5)
    finally:
        retriever.settings = store.settings
    # the Arabic code outweighs an English convention on both sides of the fusion when nothing names it
    assert len(_articles(on, C087.name)) > len(_articles(off, C087.name))


def test_final_clauses_shared_by_two_conventions_are_boilerplate_and_their_rules_are_not(store):
    lexical, metas, texts = store.index.lexical()
    flagged = {(m["source"], m.get("article_key")) for cid, m in zip(lexical.ids, metas) if cid in lexical.boilerplate}
    # Article 14 of C87 and Article 7 of C98: « The formal ratifications of this Convention shall be communicated… »
    assert (C087.name, "14") in flagged and (C098.name, "7") in flagged
    assert (C087.name, "2") not in flagged and (C098.name, "1") not in flagged  # the rights themselves
    assert not any(source == CODE_AR.name for source, _ in flagged)  # the code repeats no other source


def test_boilerplate_is_found_across_sources_only():
    clause = "La présente convention peut être dénoncée par chacune des parties avec un préavis de trois mois adressé aux autres."
    texts = [f"Titre A\n{clause}", f"Titre B\n{clause}", "Titre A\nLe salaire minimum est fixé par décret après avis des organisations."]
    assert repeated_passages(texts, ["a.md", "b.md", "a.md"]) == {0, 1}
    assert repeated_passages(texts, ["a.md", "a.md", "a.md"]) == set()  # a text may repeat itself


def test_the_saved_lexical_index_keeps_the_boilerplate(store):
    from rag import lexical

    first = store.index.lexical()[0].boilerplate
    assert first
    records = store.index.manifest.records
    saved = lexical.load_saved(lexical.saved_root(store.settings), lexical.fingerprint(records.values(), lexical.scope(store.settings)))
    assert saved is not None and saved[0].boilerplate == first  # what the next process loads


@pytest.mark.parametrize("question,polar", [
    ("L'inspecteur du travail peut-il entrer dans un établissement sans prévenir ?", True),
    ("Est-ce que je perds ma place dans la boîte ?", True),
    ("Can a government bound by Convention 87 require prior permission?", True),
    ("If a call centre spreads its hours, can a day exceed 10 hours?", True),
    ("هل يجب أن تكون اتفاقية الشغل الجماعية مكتوبة؟", True),
    ("واش الشركة ملزمة توجد لينا شي بيت نرضعو فيه؟", True),
    ("Quelle est la durée normale du travail par semaine ?", False),
    ("Que doit-il faire de la somme versée en garantie ?", False),
    ("Qu'est-ce que le SMIG ?", False),
    ("What does the decree require beyond 10 hours?", False),
    ("ما هي المدة الدنيا للراحة الأسبوعية؟", False),
    ("شحال هي مدة فترة الاختبار؟", False),
])
def test_a_question_answered_by_yes_or_no_is_told_from_one_that_asks_what(question, polar):
    from rag.subquestions import asks_yes_or_no

    assert asks_yes_or_no(question) is polar
