"""Legal structure parser and chunker, on the real Moroccan code PDFs and on generated texts."""

from __future__ import annotations

import pytest

from rag.ingest import LoadedDocument, Page, load_bytes, load_path
from rag.offline import get_encoding
from rag.settings import PROJECT_ROOT
from rag.structure import chunk_units, dense_heading, normalise_article_label, parse_units, split_body
from tests.conftest import CODE_AR, CODE_FR, SHARED_CORPUS, need_shared


def _doc(text: str, fmt: str = "txt", title: str = "Texte", pages: list[Page] | None = None) -> LoadedDocument:
    return LoadedDocument(path="", source=f"t.{fmt}", sha256="0" * 64, format=fmt, title=title, kind="law", lang="fr",
                          pages=pages or [Page(None, text)])


@pytest.fixture(scope="module")
def french_code_units():
    need_shared(CODE_FR)
    return parse_units(load_path(CODE_FR, 10**9, 5000))


@pytest.fixture(scope="module")
def arabic_code_units():
    need_shared(CODE_AR)
    return parse_units(load_path(CODE_AR, 10**9, 5000))


EXPECTED = [str(n) for n in range(2, 590)]


def test_french_code_all_589_articles_in_order(french_code_units):
    articles = [u.article for u in french_code_units if u.article]
    assert articles == ["premier"] + EXPECTED


def test_arabic_code_all_589_articles_in_order(arabic_code_units):
    articles = [u.article for u in arabic_code_units if u.article]
    assert articles == ["1"] + EXPECTED


def test_french_article_184_heading_path_and_pages(french_code_units):
    unit = next(u for u in french_code_units if u.article == "184")
    assert "Titre III : De la durée du travail" in unit.heading_path
    assert unit.heading_path[-1] == "Article 184"
    assert any(p.startswith("Livre II") for p in unit.heading_path)
    assert "44 heures par semaine" in unit.text.replace("\n", " ")
    assert unit.pages and 60 < unit.pages[0] < 90


def test_glued_footnote_number_is_not_read_as_article(french_code_units):
    # the PDF prints "Article 25635" (article 256, footnote 35) and "Article 32748"
    articles = {u.article for u in french_code_units}
    assert "256" in articles and "327" in articles
    assert "25635" not in articles and "32748" not in articles


def test_page_footers_and_footnote_block_removed(french_code_units):
    text = "\n".join(u.text for u in french_code_units)
    assert "-61 -" not in text
    assert "Bulletin Officiel n°5210 du 16 Rabii" not in text


def test_wrapped_reference_is_not_a_heading(arabic_code_units):
    # a body line of art. 435 reads "المادة 438 .أدناه": it must stay in art. 435
    unit = next(u for u in arabic_code_units if u.article == "435")
    assert "438" in unit.text
    assert not any(p.startswith("الكتاب الثاني من") for u in arabic_code_units for p in u.heading_path)


def test_french_articles_premier_and_dash_numbers_and_sections():
    text = "\n".join([
        "Livre premier : Des conventions", "Titre II : Du contrat", "Chapitre premier : Formation", "Section I : Essai",
        "Article premier", "Le présent code s'applique.", "Article 16", "Texte seize.", "Article 16-1", "Texte seize un.",
        "Article 17", "Voir l'", "Article 16 ci-dessus.",
    ])
    units = parse_units(_doc(text))
    assert [u.article for u in units if u.article] == ["premier", "16", "16-1", "17"]
    art = next(u for u in units if u.article == "16-1")
    assert art.heading_path == ["Texte", "Livre premier : Des conventions", "Titre II : Du contrat", "Chapitre premier : Formation", "Section I : Essai", "Article 16-1"]


def test_french_code_numbers_l_articles():
    text = "# Code du travail\n## Article L3121-36\nLes heures supplémentaires…\n## Article L. 3121-37\nSuite."
    units = parse_units(_doc(text, fmt="md"))
    assert [u.article for u in units if u.article] == ["L3121-36", "L3121-37"]
    assert normalise_article_label("L. 3121-37") == "L3121-37"


def test_arabic_ordinals_and_headings():
    text = "\n".join(["الباب الأول: أحكام عامة", "المادة الأولى", "نص المادة الأولى.", "المادة الثانية", "نص ثان.", "المادة 3", "نص ثالث."])
    units = parse_units(_doc(text))
    assert [u.article for u in units if u.article] == ["1", "2", "3"]
    assert units[-1].heading_path[-2] == "الباب الأول: أحكام عامة"
    assert normalise_article_label("الأولى") == normalise_article_label("premier") == normalise_article_label("1er") == "1"


def test_kali_and_ilo_markdown():
    kali = "# Avenant\n## Titre I\n### Article 4.3.2\nPause de 5 minutes.\n### Article 1er - Objet\nObjet.\n"
    units = parse_units(_doc(kali, fmt="md"))
    assert [u.article for u in units if u.article] == ["4.3.2", "1er"]
    assert units[0].heading_path == ["Texte", "Avenant", "Titre I", "Article 4.3.2"]
    assert units[1].heading_path[-1] == "Article 1er — Objet"
    ilo = "# C087\n## Article 2\nWorkers shall have the right.\n## Article 3\nMore."
    assert [u.article for u in parse_units(_doc(ilo, fmt="md")) if u.article] == ["2", "3"]


@pytest.mark.parametrize("name", ["ilo_c087_freedom_of_association_1948_en.md", "fr_idcc2098_avenant_2002-06-20_centres_appels.md"])
def test_shared_markdown_texts_have_articles(name):
    need_shared(SHARED_CORPUS / name)
    doc = load_path(SHARED_CORPUS / name, 10**8, 100)
    articles = [u.article for u in parse_units(doc) if u.article]
    assert len(articles) >= 8 and articles[0] in {"1", "1er", "premier"}


def test_long_article_split_by_tokens_keeps_article_and_heading():
    body = " ".join(f"phrase numéro {i} du salarié." for i in range(400))
    doc = _doc(f"Titre I : Général\nArticle 12\n{body}\nArticle 13\nCourt.")
    units = parse_units(doc)
    encoding = get_encoding(str(PROJECT_ROOT / ".cache" / "tiktoken"))
    chunks = chunk_units(doc, units, encoding, max_tokens=200, overlap=20)
    pieces = [c for c in chunks if c.article == "12"]
    assert len(pieces) > 3
    assert all(c.text.startswith("Texte > Titre I : Général > Article 12") for c in pieces)
    assert all(len(encoding.encode(c.body)) <= 200 for c in pieces)
    # deterministic ids: same input, same ids; all distinct
    again = chunk_units(doc, parse_units(doc), encoding, max_tokens=200, overlap=20)
    assert [c.chunk_id for c in chunks] == [c.chunk_id for c in again]
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_embedder_reads_heading_titles_without_their_numbering(french_code_units, arabic_code_units):
    fr = next(u for u in french_code_units if u.article == "184")
    heading = dense_heading(fr)
    assert heading.endswith("Article 184") and "durée" in heading.lower()
    assert "Chapitre" not in heading and "Titre" not in heading and "Section" not in heading
    ar = next(u for u in arabic_code_units if u.article == "184")
    assert dense_heading(ar).endswith("المادة 184")
    assert not any(label in dense_heading(ar) for label in ("الباب", "الفرع", "القسم", "الكتاب"))
    # the shared embedder text is shorter than the heading path shown to users
    assert len(dense_heading(fr)) < len(" > ".join(fr.heading_path[-3:]))
    press = parse_units(_doc("# Salaires\nLe SMIG augmente.", fmt="md", title="Revue"))
    assert dense_heading(press[-1]).endswith("Salaires")
    # the chunk text shown to users keeps the full heading path
    encoding = get_encoding(str(PROJECT_ROOT / ".cache" / "tiktoken"))
    doc = _doc("Chapitre II : Du repos\nArticle 205\nLe repos hebdomadaire est de vingt-quatre heures.")
    chunk = chunk_units(doc, parse_units(doc), encoding, max_tokens=200, overlap=20)[-1]
    assert chunk.text.startswith("Texte > Chapitre II : Du repos > Article 205")
    assert chunk.dense_text.startswith("Texte > Du repos > Article 205\nLe repos")


def test_long_article_pieces_end_at_sentence_ends_and_cover_the_text():
    sentences = [f"Le salarié numéro {i} a droit à {i % 7 + 1} jours de congé par mois de service." for i in range(120)]
    body = " ".join(sentences)
    encoding = get_encoding(str(PROJECT_ROOT / ".cache" / "tiktoken"), "o200k_base")
    pieces = split_body(body, encoding, max_tokens=120, overlap=24)
    assert len(pieces) > 5
    assert all(len(encoding.encode(p)) <= 120 for p in pieces)
    assert all(p.endswith(".") for p in pieces)  # never cut mid-sentence
    kept = set(" ".join(pieces).split(". "))
    assert all(s.rstrip(".") in kept or s in " ".join(pieces) for s in sentences)
    # the last sentence of a piece opens the next one (context for a piece read alone)
    assert pieces[1].startswith(pieces[0].rsplit(". ", 1)[-1])


def test_numbered_items_keep_their_line_breaks_and_a_giant_sentence_is_cut_by_tokens():
    encoding = get_encoding(str(PROJECT_ROOT / ".cache" / "tiktoken"), "o200k_base")
    items = "\n".join(f"{i}. le défaut de paiement visé à l'article {100 + i} ;" for i in range(1, 40))
    pieces = split_body(items, encoding, max_tokens=80, overlap=10)
    assert all(p.lstrip().startswith(tuple("0123456789")) for p in pieces)
    assert "\n2. le défaut" in pieces[0]
    giant = "mot " * 1000
    cut = split_body(giant.strip(), encoding, max_tokens=100, overlap=10)
    assert len(cut) >= 10 and all(len(encoding.encode(p)) <= 100 for p in cut)


def test_o200k_does_not_over_split_the_arabic_code(arabic_code_units):
    units = arabic_code_units
    cl100k = get_encoding(str(PROJECT_ROOT / ".cache" / "tiktoken"), "cl100k_base")
    o200k = get_encoding(str(PROJECT_ROOT / ".cache" / "tiktoken"), "o200k_base")
    long_cl = sum(len(cl100k.encode(u.text)) > 256 for u in units)
    long_o2 = sum(len(o200k.encode(u.text)) > 256 for u in units)
    assert long_o2 < long_cl / 2


def test_pdf_pages_are_tracked(pdf_factory):
    data = pdf_factory(["Titre I : Général\nArticle 1\nPremier texte de loi assez long pour compter.", "-2 -\nArticle 2\nSecond texte de loi sur la page deux."])
    doc = load_bytes(data, "loi.pdf")
    units = parse_units(doc)
    assert {u.article: u.pages for u in units if u.article} == {"1": [1], "2": [2]}
    assert "-2 -" not in "\n".join(u.text for u in units)


def test_unit_offsets_point_into_the_document_text(french_code_units):
    need_shared(CODE_FR)
    doc = load_path(CODE_FR, 10**9, 5000)
    full = "\n".join(line for page in doc.pages for line in page.text.split("\n"))
    units = parse_units(doc)
    for unit in units[::25]:
        if unit.text:
            assert unit.text[:40] in full[unit.start:unit.end + 1], unit.heading


def _chunk_of(units, path, article):
    doc = load_path(path, 10**9, 5000)
    chunks = chunk_units(doc, units, get_encoding(str(PROJECT_ROOT / ".cache" / "tiktoken")), 256, 32)
    return next(c for c in chunks if c.article == article)


def test_passage_sentences_join_the_pdf_lines_and_keep_the_items(french_code_units, arabic_code_units):
    """The PDF wraps « la mise à pied pour une durée » and « n'excédant pas huit jours » on two lines:
    one sentence, one item of art. 37; the heading path is not a sentence."""
    from rag.structure import passage_sentences

    french = passage_sentences(_chunk_of(french_code_units, CODE_FR, "37").text)
    assert "3. un deuxième blâme ou la mise à pied pour une durée n'excédant pas huit jours;" in french
    assert french[0].startswith("L'employeur peut prendre l'une des sanctions disciplinaires suivantes")
    assert not any(" > " in s or "\n" in s for s in french)
    assert [s[:2] for s in french[1:5]] == ["1.", "2.", "3.", "4."]  # « 1. » stays with its item
    arabic = passage_sentences(_chunk_of(arabic_code_units, CODE_AR, "37").text)
    assert any("التوقيف عن الشغل مدة لا تتعدى ثمانية أيام" in s and s.startswith("3 –") for s in arabic)
    clauses = passage_sentences(_chunk_of(french_code_units, CODE_FR, "350").text, clauses=True)
    assert "- 10 % du salaire versé, après cinq ans de service ;" in clauses  # a quote shows one bracket


def test_passage_sentences_do_not_end_at_a_reference():
    from rag.structure import passage_sentences

    text = "Code > Article 9\nLa prime est due (C. trav. art. 350, p. 121) chaque\nmois. Elle suit le salaire ; elle est versée :\n44 heures."
    assert passage_sentences(text) == ["La prime est due (C. trav. art. 350, p. 121) chaque mois.",
                                       "Elle suit le salaire ; elle est versée : 44 heures."]
    assert passage_sentences(text, clauses=True)[1:] == ["Elle suit le salaire ;", "elle est versée : 44 heures."]
