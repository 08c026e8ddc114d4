"""Answer-level evaluation (rag.answer_eval, `rag eval --answers`): each scoring rule shown to pass and
to fail on crafted answers, the whole run with a fake chat model over a real small store, the CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rag import answer_eval as ae
from rag.answer import Citation, ChatEngine
from tests.conftest import HashEmbeddings
from tests.conftest import RecordingFake

LAW = """# Loi test
## Titre III : De la durée du travail
### Article 184
Dans les activités non agricoles, la durée normale de travail est fixée à 2288 heures par année ou 44 heures par semaine.
### Article 201
Les heures supplémentaires donnent lieu à une majoration de 25 % si elles sont effectuées entre 6 heures et 21 heures et de 50 % entre 21 heures et 6 heures.
### Article 53
L'indemnité de licenciement est fixée à 96 heures de salaire pour les cinq premières années d'ancienneté.
"""

ART_53 = "L'indemnité de licenciement est fixée à 96 heures de salaire pour les cinq premières années d'ancienneté."
ART_350 = "La prime d'ancienneté est fixée à 5 % du salaire après deux ans de service, 10 % après cinq ans, 15 % après douze ans."


def cite(article: str, text: str, source: str = "code.pdf", label: str | None = None) -> Citation:
    return Citation("S1", label or f"C. trav., art. {article}", source, "Code", article, None, text)


def qa(kind: str = "numeric", key=(), gold=(), question: str = "Question ?", lang: str = "fr") -> ae.QA:
    return ae.QA("q1", question, lang, kind, [dict(g) for g in gold], list(key), [])


# ---- keys -------------------------------------------------------------------------------------


@pytest.mark.parametrize("key,text", [
    ("17,92", "Le SMIG horaire est de 17.92 DH."),
    ("10 %", "la prime est de 10% du salaire"),
    ("10 %", "la prime est de 10 pour cent"),
    ("2 288 heures", "soit 2288 heures par an"),
    ("2288", "soit 2\u202f288 heures par an"),
    ("1 500", "un montant de 1.500 dirhams"),
    ("blâme", "L'employeur peut infliger un BLAME."),
    ("à travail de valeur égale, salaire égal", "A travail de valeur egale salaire egal."),
    ("l'employeur", "l’employeur"),
    ("quinze jours", "Le préavis est de 15 jours."),
    ("ثلاث سنوات", "المدة هي 3 سنوات"),
    ("35%", "بنسبة ٣٥ ٪"),
])
def test_key_found_after_normalisation(key, text):
    assert ae.matched_key([key], text) == key


@pytest.mark.parametrize("key,text", [
    ("10 %", "la prime est de 110 % du salaire"),
    ("10 %", "la prime est de 10,5 %"),
    ("quinze jours", "Le préavis est de 15 heures."),
    ("44", "soit 440 heures"),
    ("Cour de cassation", "la cour d'appel"),
])
def test_key_not_found(key, text):
    assert ae.matched_key([key], text) is None


def test_any_key_is_enough_and_citation_labels_do_not_count():
    question = qa(key=["avertissement", "blâme"], gold=[{"sources": ["code.pdf"], "article": "37"}])
    answer = _answer("Le blâme est possible (C. trav., art. 37).", [cite("37", "avertissement, blâme")])
    assert ae.score_answer(question, answer)["right_key"] is True
    # the figure 184 appears only inside the citation label: not an answer
    question = qa(key=["184"], gold=[{"sources": ["code.pdf"], "article": "184"}])
    answer = _answer("La durée est fixée par la loi (C. trav., art. 184).", [cite("184", "44 heures")])
    assert ae.score_answer(question, answer)["right_key"] is False


# ---- citations --------------------------------------------------------------------------------


def test_citation_must_name_a_gold_source_and_article():
    gold = [{"sources": ["code.pdf", "code_ar.pdf"], "article": "1er"}]
    assert ae.right_citation(qa(gold=gold), [cite("premier", "x", source="code_ar.pdf")]) is True
    assert ae.right_citation(qa(gold=gold), [cite("1", "x")]) is True
    assert ae.right_citation(qa(gold=gold), [cite("2", "x")]) is False
    assert ae.right_citation(qa(gold=gold), [cite("1", "x", source="other.md")]) is False
    assert ae.right_citation(qa(gold=gold), []) is False
    assert ae.right_citation(qa(kind="out_of_scope"), []) is None
    # a numbered part of the article is that article (as in the retrieval evaluation); a longer number is not
    part = [{"sources": ["accord.md"], "article": "3"}]
    assert ae.right_citation(qa(gold=part), [cite("3.1", "x", source="accord.md")]) is True
    assert ae.right_citation(qa(gold=part), [cite("31", "x", source="accord.md")]) is False


def test_multi_gold_needs_every_article():
    gold = [{"sources": ["code.pdf"], "article": "184"}, {"sources": ["c098.md"], "article": "4"}]
    one = [cite("184", "x")]
    both = one + [cite("4", "y", source="c098.md", label="C98, art. 4")]
    assert ae.right_citation(qa(gold=gold), one) is False
    assert ae.right_citation(qa(gold=gold), both) is True


# ---- figures and misgrounded citations --------------------------------------------------------


def test_figures_carry_their_unit():
    figures = {str(f) for f in ae.figures_in("pendant les cinq premières années, 96 heures ; 25 % de 6 à 21 heures ; l'article 53")}
    assert figures == {"5 year", "96 hour", "25 percent", "6 hour", "21 hour"}
    assert {str(f) for f in ae.figures_in("خمسة عشر يوما و ساعتين و خمسين في المائة")} == {"15 day", "2 hour", "50 percent"}
    assert [str(f) for f in ae.figures_in("Le repos est de vingt-quatre heures, 2° du décret n° 2-04-570 du 4 février 2004.")] == ["24 hour"]
    # references run on (« art. 52, 53 et 54 ») until a stop; dates; thousands with a decimal comma
    assert [str(f) for f in ae.figures_in("Au 01/01/2026 (art. 52, 53 et 54) ; 3 422,72 MAD et 2 288 heures")] == ["3422.72 money", "2288 hour"]
    # a time of day is one figure in hours, never its minutes « 00 »
    assert [str(f) for f in ae.figures_in("la pause a lieu entre 11:00 et 21h30")] == ["11 hour", "21.5 hour"]


def test_a_half_is_read_with_its_unit():
    """Tune3 t3-032: « 1,5 jours … (art. 231) » was scored misgrounded because art. 231 says « un jour
    et demi », which the scorer read as one day."""
    assert [str(f) for f in ae.figures_in("un jour et demi de travail effectif par mois")] == ["1.5 day"]
    assert [str(f) for f in ae.figures_in("2 jours et demi ; un mois et demi")] == ["2.5 day", "1.5 month"]
    assert [str(f) for f in ae.figures_in("one and a half months")] == ["1.5 month"]
    answer = "Le salarié acquiert 1,5 jours de congé par mois de service (C. trav., art. 231)."
    assert ae.misgrounded_figures("Combien de jours ?", answer, [cite("231", "un jour et demi de travail effectif par mois de service")]) == []


def test_figure_cited_to_a_text_stating_it_with_another_unit_is_misgrounded():
    # the case: « 5 % … (art. 53) » where art. 53 says « cinq premières années »
    answer = "L'indemnité est de 5 % du salaire (C. trav., art. 53)."
    problems = ae.misgrounded_figures("Quelle est l'indemnité ?", answer, [cite("53", ART_53)])
    assert [p["figure"] for p in problems] == ["5 percent"] and problems[0]["cited_has_value_as"] == ["5 year"]


def test_figure_stated_by_the_cited_text_is_grounded():
    answer = "L'indemnité est de 96 heures de salaire pour les 5 premières années (C. trav., art. 53). Voir aussi l'art. 52."
    assert ae.misgrounded_figures("Quelle est l'indemnité ?", answer, [cite("53", ART_53)]) == []


def test_question_figures_and_uncited_sentences_are_not_misgrounded():
    answer = "Après 7 ans, la prime est de 10 % (C. trav., art. 350). Elle monte à 99 % plus tard."
    assert ae.misgrounded_figures("Quelle prime après 7 ans ?", answer, [cite("350", ART_350)]) == []
    assert ae.misgrounded_figures("Quelle prime ?", answer, [cite("350", ART_350)])[0]["figure"] == "7 year"


def test_misgrounded_flag_in_the_score():
    question = qa(key=["96 heures"], gold=[{"sources": ["code.pdf"], "article": "53"}])
    bad = ae.score_answer(question, _answer("L'indemnité est de 5 % du salaire (C. trav., art. 53).", [cite("53", ART_53)]))
    good = ae.score_answer(question, _answer("L'indemnité est de 96 heures (C. trav., art. 53).", [cite("53", ART_53)]))
    assert bad["misgrounded"] is True and bad["right"] is False
    assert good["misgrounded"] is False and good["right"] is True
    assert ae.score_answer(question, _answer("Je ne sais pas.", []))["misgrounded"] is None  # not cited: not counted


# ---- unflagged wrong figures -----------------------------------------------------------------


def test_wrong_figure_is_unflagged_unless_a_warning_or_a_check_names_it():
    question = qa(key=["44 heures"], gold=[{"sources": ["code.pdf"], "article": "184"}])
    citations = [cite("184", "la durée normale est de 44 heures par semaine")]
    text = "La durée normale est de 48 heures par semaine (C. trav., art. 184)."
    plain = ae.score_answer(question, _answer(text, citations))
    assert plain["unflagged_wrong_figure"] is True and plain["wrong_figures"][0]["figure"] == "48 hour"
    warned = ae.score_answer(question, _answer(text, citations, ["Chiffre(s) 48 absent(s) du texte cité (C. trav., art. 184) : à vérifier."]))
    assert warned["unflagged_wrong_figure"] is False and warned["wrong_figures"][0]["flagged"] is True
    checked = _answer(text, citations)
    checked.checks = [{"figure": "48 heures", "unit": "hour", "status": "not_found", "source": None}]
    assert ae.score_answer(question, checked)["unflagged_wrong_figure"] is False
    marked = ae.score_answer(question, _answer("48 heures par semaine, à vérifier (C. trav., art. 184).", citations))
    assert marked["unflagged_wrong_figure"] is False


def test_computed_figures_are_not_wrong_figures():
    question = qa(key=["17,92"], gold=[{"sources": ["decret.pdf"], "article": "1"}])
    citations = [cite("1", "17,92 dirhams par heure", source="decret.pdf", label="Décret, art. 1")]
    text = "Le SMIG mensuel est de 3 422,72 MAD (Décret, art. 1).\n- 17,92 MAD/h × 191 h = 3 422,72 MAD"
    answer = _answer(text, citations)
    answer.checks = [{"figure": "3 422,72 MAD", "unit": "mad", "status": "computed"}]
    assert ae.score_answer(question, answer)["wrong_figures"] == []
    answer.checks = []
    assert [w["figure"] for w in ae.score_answer(question, answer)["wrong_figures"]] == ["3422.72 money"]


def test_right_key_question_and_cited_figures_are_not_wrong():
    question = qa(key=["44 heures"], question="Durée pour 2 équipes ?", gold=[{"sources": ["code.pdf"], "article": "184"}])
    text = "Pour 2 équipes, 44 heures par semaine, soit 2288 heures par an (C. trav., art. 184)."
    score = ae.score_answer(question, _answer(text, [cite("184", "2288 heures par année ou 44 heures par semaine")]))
    assert score["wrong_figures"] == [] and score["unflagged_wrong_figure"] is False


# ---- refusals over a real store ----------------------------------------------------------------


@pytest.fixture
def indexed(engine, tmp_path):
    path = tmp_path / "corpus" / "loi_test.md"
    path.parent.mkdir()
    path.write_text(LAW, encoding="utf-8")
    engine.index.index_paths([path], isolated=False)
    return engine


def test_refusal_is_right_out_of_scope_and_wrong_in_scope(indexed):
    indexed.settings.min_similarity = 0.99
    chat = ChatEngine(indexed.retriever, RecordingFake([]), indexed.settings)
    answer = chat.ask("Quel est le barème de l'impôt sur le revenu ?")
    assert answer.not_found
    oos = ae.score_answer(qa(kind="out_of_scope"), answer)
    assert oos["refused"] is True and oos["right"] is True and oos["wrongly_refused"] is None
    inscope = ae.score_answer(qa(key=["44 heures"], gold=[{"sources": ["loi_test.md"], "article": "184"}]), answer)
    assert inscope["wrongly_refused"] is True and inscope["right"] is False
    answered = ae.score_answer(qa(kind="out_of_scope"), _answer("La prime est de 5 % (Loi test, art. 350).", [cite("350", ART_350)]))
    assert answered["refused"] is False and answered["right"] is False


def test_declined_in_the_model_words_is_reported_apart():
    assert ae.declined("Les sources fournies ne traitent pas de cette question.")
    assert ae.declined("The context does not contain the answer, I don't know.")
    assert not ae.declined("La durée est de 44 heures.")


# ---- the whole run with a fake model -------------------------------------------------------------

QUESTIONS = [
    {"id": "t1", "question": "Quelle est la durée normale du travail par semaine ?", "lang": "fr", "kind": "numeric",
     "gold": [{"sources": ["loi_test.md"], "article": "184"}], "key": ["44 heures"],
     "evidence": [{"source": "loi_test.md", "article": "184", "quote": "44 heures par semaine"}]},
    {"id": "t2", "question": "Quelle est l'indemnité de licenciement pour les premières années ?", "lang": "fr", "kind": "numeric",
     "gold": [{"sources": ["loi_test.md"], "article": "53"}], "key": ["96 heures"],
     "evidence": [{"source": "loi_test.md", "article": "53", "quote": "96 heures de salaire"}]},
    {"id": "t3", "question": "zyxw qwvb plorg ?", "lang": "fr", "kind": "out_of_scope", "gold": [], "key": [], "evidence": []},
]

REPLIES = [
    # product, t1: right figure, right article; t2: the « 5 % » that art. 53 states only as « cinq … années »
    "La durée normale est de 44 heures par semaine [S1].",
    "L'indemnité est de 5 % du salaire [S1].",
    # baseline, t1, t2, t3 (the plain RAG always asks the model)
    "44 heures par semaine [1].",
    "Je ne sais pas.",
    "I don't know.",
]


def test_run_scores_both_pipelines_with_one_model(indexed, tmp_path):
    model = RecordingFake(list(REPLIES))
    chat = ChatEngine(indexed.retriever, model, indexed.settings)
    baseline = ae.PlainRAG.build(ae.corpus_files(tmp_path / "corpus"), indexed.embedder, model, indexed.settings, cache_dir=tmp_path / "cache")
    assert baseline.chunks and all(len(text) <= ae.BASELINE_CHUNK_CHARS for _, text in baseline.chunks)
    questions = [ae.QA(q["id"], q["question"], q["lang"], q["kind"], q["gold"], q["key"], q["evidence"]) for q in QUESTIONS]
    report = ae.run_answer_eval(questions, chat, baseline)
    rows = {r["id"]: r for r in report["questions"]}
    assert rows["t1"]["checks"]["right"] and not rows["t1"]["checks"]["misgrounded"]
    t2 = rows["t2"]["checks"]
    # the product either keeps the citation (then it is misgrounded) or drops it and flags the figure
    assert not t2["right_own_words"] and not t2["unflagged_wrong_figure"]
    assert t2["misgrounded"] or (t2["wrong_figures"] and all(w["flagged"] for w in t2["wrong_figures"]))
    # in the model's place the answer reads the nearest source verbatim (art. 53, « 96 heures »): the
    # scorer counts that as right, and apart from the model's own words
    t2_answer = rows["t2"]["answer"]
    assert "Extrait de la source la plus proche" in t2_answer and "96 heures" in t2_answer
    assert t2["right"] and t2["right_key"] and not t2["right_key_own_words"]
    assert rows["t3"]["checks"]["refused"] and rows["t3"]["checks"]["right"]
    assert rows["t1"]["baseline"]["checks"]["right_key"] and not rows["t2"]["baseline"]["checks"]["right_key"]
    assert rows["t1"]["timings"]["streamed"] and rows["t1"]["timings"]["ttft_s"] <= rows["t1"]["timings"]["total_s"]
    s = report["summary"]
    assert (s["right"], s["right_own_words"], s["in_scope"], s["misgrounded"]) == (2, 1, 2, 1 if t2["misgrounded"] else 0)
    assert s["out_of_scope_refused"] == 1 and s["wrongly_refused"] == 0
    assert s["baseline"]["right_key"] == 1 and s["ttft_s_p50"] is not None
    assert report["by_kind"]["numeric"]["right"] == 2 and report["by_lang"]["fr"]["n"] == 3
    # one model for both, and the baseline got 4 chunks at most with its own prompt
    assert len(model.prompts) == 5 and model.prompts[2][0]["content"] == ae.BASELINE_SYSTEM_PROMPT
    table = ae.format_table(report)
    assert "plain RAG" in table and "misgrounded" in table and "1/2 (50%)" in table
    # cached chunks and vectors are reused
    again = ae.PlainRAG.build(ae.corpus_files(tmp_path / "corpus"), indexed.embedder, model, indexed.settings, cache_dir=tmp_path / "cache")
    assert again.chunks == baseline.chunks


def test_baseline_stops_at_the_same_max_tokens():
    model = RecordingFake(["un deux trois quatre cinq six sept huit neuf dix"])
    plain = ae.PlainRAG([("a.md", "texte")], HashEmbeddings().embed_documents(["texte"]), HashEmbeddings(), model, max_tokens=3)
    row = ae._run_baseline(qa(key=["dix"]), plain)
    assert row["stopped"] == "max_tokens" and 1 <= len(row["answer"].split()) <= 3  # one streamed piece = one token
    assert row["checks"]["right_key"] is False and "error" not in row


class ScriptedChat:
    """A chat engine that streams given answers: the summary's counting, whatever the product's checks do."""

    def __init__(self, answers):
        self.answers = list(answers)

    def stream(self, question, history=None, filters=None):
        from rag.answer import Delta

        answer = self.answers.pop(0)
        if not answer.not_found:
            yield Delta(answer.text)
        yield answer


def test_summary_counts_misgrounded_unflagged_and_refusals():
    from rag.answer import Answer

    questions = [
        ae.QA("a", "Indemnité ?", "fr", "numeric", [{"sources": ["code.pdf"], "article": "53"}], ["96 heures"]),
        ae.QA("b", "Indemnité ?", "ar", "numeric", [{"sources": ["code.pdf"], "article": "53"}], ["96 heures"]),
        ae.QA("c", "Impôt ?", "en", "out_of_scope"),
        ae.QA("d", "Durée ?", "fr", "lookup", [{"sources": ["code.pdf"], "article": "184"}], ["44 heures"]),
    ]
    answers = [
        _answer("L'indemnité est de 96 heures (C. trav., art. 53).", [cite("53", ART_53)]),
        _answer("L'indemnité est de 5 % du salaire (C. trav., art. 53).", [cite("53", ART_53)]),
        Answer("Impôt ?", "Les textes indexés ne traitent pas de cette question.", "en", not_found=True),
        Answer("Durée ?", "Les textes indexés ne traitent pas de cette question.", "fr", not_found=True),
    ]
    report = ae.run_answer_eval(questions, ScriptedChat(answers))
    s = report["summary"]
    assert (s["right"], s["right_key"], s["right_citation"], s["in_scope"]) == (1, 1, 2, 3)
    assert (s["misgrounded"], s["cited_answers"], s["misgrounded_rate"]) == (1, 2, 0.5)
    assert s["unflagged_wrong_figure"] == 1  # the 5 % of « b »: in no key, no cited text, no warning
    assert (s["out_of_scope_refused"], s["wrongly_refused"]) == (1, 1)
    assert report["by_lang"]["fr"]["right"] == 1 and report["by_kind"]["out_of_scope"]["refused"] == 1
    assert s["ttft_s_p50"] is not None and "baseline" not in s


def test_checkpoint_lets_a_run_resume_after_a_crash(tmp_path):
    questions = [ae.QA("a", "Durée ?", "fr", "lookup", [{"sources": ["code.pdf"], "article": "184"}], ["44 heures"]),
                 ae.QA("b", "Durée ?", "fr", "lookup", [{"sources": ["code.pdf"], "article": "184"}], ["44 heures"])]
    checkpoint = tmp_path / "run.partial.jsonl"
    first = ScriptedChat([_answer("44 heures (C. trav., art. 184).", [cite("184", "44 heures")])])
    with pytest.raises(_ProcessDied):  # the second question kills the run (a native crash is no Python exception)
        ae.run_answer_eval(questions, _Crashing(first), checkpoint=checkpoint)
    assert len(checkpoint.read_text().splitlines()) == 1
    second = ScriptedChat([_answer("48 heures (C. trav., art. 184).", [cite("184", "44 heures")])])
    report = ae.run_answer_eval(questions, second, checkpoint=checkpoint)
    assert [r["checks"]["right"] for r in report["questions"]] == [True, False] and second.answers == []


class _ProcessDied(BaseException):
    pass


class _Crashing:
    def __init__(self, chat):
        self.chat = chat

    def stream(self, question, history=None, filters=None):
        if not self.chat.answers:
            raise _ProcessDied()
        yield from self.chat.stream(question)


# ---- the command line ------------------------------------------------------------------------


def test_cli_eval_answers_with_a_fake_model(monkeypatch, tmp_path):
    from rag import cli
    from rag import engine as engine_module

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "loi_test.md").write_text(LAW, encoding="utf-8")
    monkeypatch.setattr(ae, "DEFAULT_CORPUS", corpus)
    model = RecordingFake(list(REPLIES))
    real = engine_module.build_engine
    monkeypatch.setattr(engine_module, "build_engine",
                        lambda settings, embedder=None, chat=None, client=None: real(settings, embedder=HashEmbeddings(), chat=model, client=client))
    monkeypatch.setenv("RAG_STORE_DIR", str(tmp_path / "app-store"))  # the app's store: not used by --answers
    monkeypatch.setenv("RAG_MIN_SIMILARITY", "0.05")
    qa_file = tmp_path / "qa.jsonl"
    qa_file.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in QUESTIONS) + "\n", encoding="utf-8")
    out = tmp_path / "report.json"
    store = tmp_path / "eval-store"
    result = CliRunner().invoke(cli.app, ["eval", "--answers", str(qa_file), "--baseline", "--store", str(store), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "right (key + gold citation)" in result.stdout and "plain RAG" in result.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["summary"]["questions"] == 3 and report["summary"]["right_own_words"] == 1 and report["summary"]["right"] == 2
    assert "right, without the quotes read" in result.stdout
    assert report["summary"]["unflagged_wrong_figure"] == 0 and report["summary"]["baseline"]["right_key"] == 1
    assert {"question", "answer", "citations", "checks", "timings", "baseline"} <= set(report["questions"][0])
    assert (store / "manifest.json").exists() and not (tmp_path / "app-store").exists()

    # --limit, no baseline, JSON on stdout; the store is reused (nothing re-indexed)
    model2 = RecordingFake(["44 heures par semaine [S1]."])
    monkeypatch.setattr(engine_module, "build_engine",
                        lambda settings, embedder=None, chat=None, client=None: real(settings, embedder=HashEmbeddings(), chat=model2, client=client))
    result = CliRunner().invoke(cli.app, ["eval", "--answers", str(qa_file), "--limit", "1", "--store", str(store), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["summary"]["questions"] == 1 and "baseline" not in report["summary"] and len(model2.prompts) == 1
    assert "0 indexé(s), 1 inchangé(s)" in result.stderr


def test_cli_eval_retrieval_mode_still_takes_a_bare_json_flag(monkeypatch, tmp_path):
    from rag import cli
    from rag import engine as engine_module

    real = engine_module.build_engine
    monkeypatch.setattr(engine_module, "build_engine",
                        lambda settings, embedder=None, chat=None, client=None: real(settings, embedder=HashEmbeddings(), chat=chat, client=client))
    monkeypatch.setenv("RAG_STORE_DIR", str(tmp_path / "store"))
    (tmp_path / "loi_test.md").write_text(LAW, encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(cli.app, ["index", str(tmp_path / "loi_test.md")]).exit_code == 0
    qa_file = tmp_path / "qa.jsonl"
    qa_file.write_text(json.dumps({"id": "a", "question": "article 184", "lang": "fr", "sources": ["loi_test.md"], "article": "184"}) + "\n")
    for args in (["eval", "--json", str(qa_file)], ["eval", str(qa_file), "--json"]):
        result = runner.invoke(cli.app, args)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["questions"] == 1
    assert runner.invoke(cli.app, ["eval"]).exit_code == 2


def _answer(text: str, citations, warnings=None):
    from rag.answer import Answer

    return Answer("q", text, "fr", list(citations), list(warnings or []))
