"""Questions written per article (rag.glosses): read, saved, searched, and true to the official texts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.glosses import GlossIndex, load_gloss_index, read_glosses
from rag.retrieve import Filters
from rag.settings import PROJECT_ROOT
from tests.conftest import SHARED_CORPUS, HashEmbeddings

SHIPPED = PROJECT_ROOT / "corpus" / "glosses"

# articles whose words share little with the way a worker asks about them, and one (208) that shares
# the question's words without answering it
LAW = """# Loi d'essai
## Titre : Du repos
### Article 205
Le repos hebdomadaire est de vingt-quatre heures au minimum.
### Article 206
L'employeur tient un registre des congés annuels payés.
### Article 207
Le salarié bénéficie d'une indemnité de licenciement calculée sur l'ancienneté.
### Article 208
Le bulletin de paie mentionne les jours travaillés, jour par jour, sur la semaine, et chaque journée d'absence.
"""

GLOSSES = [
    {"source": "loi_essai.md", "article": "205", "topic": "Durée minimale du repos hebdomadaire",
     "fr": ["Mon patron me fait bosser sept jours sur sept sans une journée off, c'est permis ?"],
     "ar": ["واش الباطرون يقدر يخدمني سبعة أيام بلا راحة؟"], "en": ["Can my boss make me work every day of the week?"]},
    {"source": "loi_essai.md", "article": 207, "topic": "Indemnité de licenciement",
     "fr": ["On m'a viré après des années dans la boîte, on me doit quelque chose ?"], "ar": [], "en": []},
    # an article of a text that is not indexed: it must never vote
    {"source": "absent.md", "article": "3", "topic": "Travail du dimanche",
     "fr": ["Mon patron me fait bosser le dimanche sans journée off, c'est permis ?"], "ar": [], "en": []},
]


def write_glosses(folder: Path, rows: list[dict], extra_lines: tuple[str, ...] = ()) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(r, ensure_ascii=False) for r in rows] + list(extra_lines)
    (folder / "essai.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_bad_lines_are_reported_and_skipped_never_fatal(tmp_path):
    folder = write_glosses(tmp_path / "g", GLOSSES, ("{not json", json.dumps({"source": "x.md", "topic": "t"}),
                                                    json.dumps({"source": "x.md", "article": "4"})))
    glosses, problems = read_glosses(folder)
    assert [(g.source, g.article) for g in glosses] == [("loi_essai.md", "205"), ("loi_essai.md", "207"), ("absent.md", "3")]
    assert glosses[0].entries[0] == "Durée minimale du repos hebdomadaire" and len(glosses[0].entries) == 4
    assert [p.split(":")[1] for p in problems] == ["4", "5", "6"], problems  # line numbers of the three bad lines
    assert read_glosses(tmp_path / "missing") == ([], [])
    (folder / "latin1.jsonl").write_bytes('{"source": "x.md", "article": "1", "topic": "Durée légale"}'.encode("latin-1"))
    glosses, problems = read_glosses(folder)  # a file in another encoding is reported, the others still read
    assert len(glosses) == 3 and any(p.startswith("latin1.jsonl: unreadable") for p in problems)


def test_the_index_is_saved_once_per_content_and_rebuilt_when_damaged(tmp_path, monkeypatch):
    folder = write_glosses(tmp_path / "g", GLOSSES)
    cache = tmp_path / "cache"
    first = load_gloss_index(folder, HashEmbeddings(), cache)
    saved = [p for p in (cache / "glosses").rglob("vectors.npy")]
    assert len(first) == 3 and len(saved) == 1

    built = []
    real_build = GlossIndex.build.__func__
    monkeypatch.setattr(GlossIndex, "build", classmethod(lambda cls, *a: built.append(1) or real_build(cls, *a)))
    again = load_gloss_index(folder, HashEmbeddings(), cache)
    assert built == [] and again.articles == first.articles
    assert (again.vectors == first.vectors).all()

    saved[0].write_bytes(b"damaged")  # a broken cache is built again, never raised
    assert load_gloss_index(folder, HashEmbeddings(), cache).articles == first.articles and built == [1]

    write_glosses(folder, GLOSSES[:1])  # new content: a new folder, the old one removed
    assert len(load_gloss_index(folder, HashEmbeddings(), cache)) == 1
    assert len(list((cache / "glosses").rglob("vectors.npy"))) == 1
    assert load_gloss_index(tmp_path / "empty", HashEmbeddings(), cache) is None


@pytest.fixture
def glossed_engine(settings, tmp_path):
    from rag.engine import build_engine

    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "loi_essai.md").write_text(LAW, encoding="utf-8")
    settings = settings.model_copy(update={"glosses_dir": write_glosses(tmp_path / "g", GLOSSES), "cache_dir": tmp_path / "cache"})
    engine = build_engine(settings, embedder=HashEmbeddings())
    engine.index.index_paths([tmp_path / "texts" / "loi_essai.md"])
    yield engine
    engine.close()


QUESTION = "Mon patron me fait bosser sept jours sur sept, j'ai droit à une journée off ?"


def test_a_workers_words_find_the_article_through_its_written_questions(glossed_engine):
    retriever = glossed_engine.retriever
    hits = retriever.search(QUESTION, k=4)
    assert (hits[0].article, hits[0].source) == ("205", "loi_essai.md") and "gloss" in hits[0].via
    assert "Le repos hebdomadaire" in hits[0].text and "patron" not in hits[0].text  # the article's text, never the gloss
    assert all(h.source == "loi_essai.md" for h in hits)  # the unindexed text's gloss brought nothing

    retriever.settings = retriever.settings.model_copy(update={"gloss_weight": 0.0})
    without = retriever.search(QUESTION, k=4)
    assert all("gloss" not in h.via for h in without)
    assert without[0].article == "208"  # by the question's own words, the pay slip comes first


def test_the_written_questions_respect_the_filters(glossed_engine):
    hits = glossed_engine.retriever.search(QUESTION, k=3, filters=Filters(kinds=["agreement"]))
    assert hits == []


def test_an_article_removed_from_the_store_gets_no_vote(glossed_engine):
    glossed_engine.index.remove("loi_essai.md")
    assert glossed_engine.retriever.search(QUESTION, k=3) == []


# ------------------------------------------------------------------ the shipped glosses

def test_every_shipped_gloss_names_a_known_text_once():
    glosses, problems = read_glosses(SHIPPED)
    assert problems == [] and len(glosses) >= 700
    catalog = (PROJECT_ROOT / "corpus" / "catalog.yaml").read_text(encoding="utf-8")
    assert {g.source for g in glosses} <= {line.strip()[:-1] for line in catalog.splitlines() if line.strip().endswith(":")}
    assert len({(g.source, g.article) for g in glosses}) == len(glosses)  # one line per article
    assert all(len(g.entries) >= 2 for g in glosses)  # a topic and at least one question


@pytest.mark.parametrize("source", ["ma_code_travail_fr_2011.pdf", "fr_idcc2098_ccn_prestataires_tertiaire_texte_de_base.md",
                                    "ilo_c155_occupational_safety_health_1981_en.md"])
def test_every_glossed_article_exists_in_the_official_text(source):
    from rag.ingest import load_path
    from rag.structure import normalise_article_label, parse_units
    from tests.conftest import need_shared

    need_shared(SHARED_CORPUS / source)
    articles = {normalise_article_label(u.article) for u in parse_units(load_path(SHARED_CORPUS / source, 10**9, 5000)) if u.article}
    glossed = {g.article for g in read_glosses(SHIPPED)[0] if g.source == source}
    assert glossed and glossed <= articles, sorted(glossed - articles)[:10]
    if source.endswith(".pdf"):
        assert len(glossed) >= 0.95 * len(articles)  # the code: nearly every article has its questions
