"""Loaders: PDF, DOCX, Markdown, text; every bad input gets its own clear message."""

from __future__ import annotations

import io
import zipfile

import pytest

from rag.ingest import IngestError, IsolatedParser, clean_filename, clean_pdf_page, detect_lang, load_bytes, load_path
from tests.conftest import CODE_FR, need_shared


def _code(data: bytes, name: str) -> str:
    with pytest.raises(IngestError) as info:
        load_bytes(data, name)
    assert info.value.message  # a sentence for the user
    return info.value.code


def test_pdf_text_pages_and_metadata(pdf_factory):
    doc = load_bytes(pdf_factory(["Code du travail\nArticle 1\nLe salarié a droit au repos.", "Article 2\nDeuxième page."]), "code_du_travail.pdf")
    assert doc.format == "pdf" and [p.number for p in doc.pages] == [1, 2]
    assert "repos" in doc.pages[0].text
    assert doc.lang == "fr" and doc.kind == "law" and len(doc.sha256) == 64


def test_docx_headings_become_structure(tmp_path):
    import docx

    document = docx.Document()
    document.add_heading("Accord d'entreprise", level=1)
    document.add_heading("Article 3", level=2)
    document.add_paragraph("La prime est de 8 % après deux ans.")
    path = tmp_path / "accord.docx"
    document.save(path)
    doc = load_path(path, 10**7, 100)
    assert "## Article 3" in doc.text and "8 %" in doc.text
    assert doc.title == "Accord d'entreprise"


def test_markdown_front_matter_sets_metadata():
    doc = load_bytes("---\ntitle: Fiche\nkind: project\nlang: fr\n---\n# Fiche\nTexte.".encode(), "fiche.md")
    assert (doc.title, doc.kind, doc.lang) == ("Fiche", "project", "fr")
    assert "title:" not in doc.text


@pytest.mark.parametrize(
    "data",
    [
        "Le salarié a droit à un congé annuel payé.".encode("latin-1"),
        "Le salarié a droit à un congé annuel payé.".encode("utf-16"),
        "Le salarié\x00 a droit à un congé annuel payé.".encode("utf-8"),
    ],
    ids=["latin-1", "utf-16-bom", "nul-bytes"],
)
def test_text_encodings(data):
    doc = load_bytes(data, "note.txt")
    assert "salarié a droit à un congé annuel payé" in doc.text
    assert "\x00" not in doc.text


def test_special_tokens_in_text_are_plain_text():
    doc = load_bytes("Article 1\nTexte <|endoftext|> suite.".encode(), "t.txt")
    assert "<|endoftext|>" in doc.text


def test_empty_file():
    assert _code(b"", "vide.pdf") == "empty"
    assert _code(b"   \n", "vide.txt") == "empty"


def test_zip_and_html_renamed_pdf_are_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("a.txt", "x")
    assert _code(buf.getvalue(), "faux.pdf") == "not_pdf"
    assert _code(b"<html><body>hi</body></html>", "faux.pdf") == "not_pdf"


def test_truncated_pdf(pdf_factory):
    data = pdf_factory(["Article 1\nTexte " * 30])
    code = _code(data[: len(data) // 3], "coupe.pdf")
    assert code in {"corrupt_pdf", "needs_ocr"}


def test_encrypted_pdf_with_password_is_refused_clearly(pdf_factory):
    assert _code(pdf_factory(["Article 1\nSecret."], encrypt=True), "chiffre.pdf") == "encrypted"


def test_scanned_pdf_without_text_needs_ocr(pdf_factory):
    assert _code(pdf_factory(["", ""]), "scan.pdf") == "needs_ocr"


def test_page_limit(pdf_factory):
    with pytest.raises(IngestError) as info:
        load_bytes(pdf_factory(["Article 1\nTexte long de la loi."] * 5), "gros.pdf", max_pages=3)
    assert info.value.code == "too_many_pages"


def test_size_limit_refused_before_reading(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"a" * 2048)
    with pytest.raises(IngestError) as info:
        load_path(path, max_bytes=1024, max_pages=10)
    assert info.value.code == "too_large"


def test_html_svg_and_unknown_types_refused():
    assert _code(b"<svg onload=alert(1)></svg>", "x.md") == "html"
    assert _code(b"<!DOCTYPE html><html></html>", "x.txt") == "html"
    assert _code(b"<svg/>", "x.svg") == "unsupported"


def test_docx_not_a_zip_and_zip_bomb():
    assert _code(b"this is not a zip", "x.docx") == "not_docx"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"0" * (210 * 1024 * 1024))
    assert _code(buf.getvalue(), "bomb.docx") == "docx_bomb"


@pytest.mark.parametrize("name,expected", [
    ("../../x.pdf", "x.pdf"),
    ("<img src=x onerror=alert(1)>.pdf", "<img src=x onerror=alert(1)>.pdf"),
    ("a\u202eb.txt", "ab.txt"),
])
def test_clean_filename_has_no_path(name, expected):
    assert clean_filename(name) == expected


def test_long_rtl_filename_is_bounded():
    assert len(clean_filename("م" * 300 + ".pdf")) <= 180


def test_language_detection():
    assert detect_lang("Le salarié a droit à un repos hebdomadaire.") == "fr"
    assert detect_lang("The worker shall have the right to a weekly rest.") == "en"
    assert detect_lang("يستفيد الأجير من راحة أسبوعية") == "ar"
    assert detect_lang("What is the minimum wage?") == "en"
    for undecided in ("art. 350", "1234", ""):  # nothing to tell from: the corpus's main language
        assert detect_lang(undecided) == "fr"
    # short French questions that trigram models alone call English
    assert detect_lang("Quel barème pour les primes de transport ?") == "fr"
    assert detect_lang("Quel est le barème applicable aux salaires ?") == "fr"
    # a short Arabic text by its letters, a few Latin ones (« SMIG », « CNSS ») inside it or not
    assert detect_lang("ما هو مبلغ SMIG الحالي ؟") == "ar"
    assert detect_lang("Le SMIG au Maroc (الحد الأدنى للأجور) est-il revalorisé chaque année ?") == "fr"
    page = "Le salarié a droit à un repos hebdomadaire d'au moins vingt-quatre heures consécutives. " * 6
    assert len(page) > 300 and detect_lang(page) == "fr"  # a long text goes through the fast models


def _code_page(number: int) -> str:
    import pypdf

    need_shared(CODE_FR)
    return clean_pdf_page(pypdf.PdfReader(str(CODE_FR)).pages[number - 1].extract_text())


def test_footnotes_continued_from_the_previous_page_are_dropped_not_the_body():
    # p. 180 of the French code: pypdf renders Word's full-width continuation separator as a line of
    # 132 spaces (the ordinary footnote rule is 43). What follows it is footnote 91 carried over from
    # p. 179 (the oath of the 1914 dahir) and footnotes 92-93: none of it is the code's text.
    text = _code_page(180)
    assert text.startswith("Ils sont soumis aux dispositions du dahir n° 1-58-008")  # the page footer « -180 - » goes
    assert "fonction publique, tel\n" in text and "le secret\nprofessionnel.\n" in text  # calls 92 and 93 removed
    assert "Article 532\nLes agents de l'inspection du travail sont chargés :" in text
    assert text.endswith("4. de procéder à des tentatives de conciliation en matière de conflits\nindividuels du travail.")
    for note in ("les secrets inhérents à l'exercice", "Bulletin Officiel n° 2372", "obligation de discrétion"):
        assert note not in text


def test_footnote_block_under_the_ordinary_rule_is_dropped():
    text = _code_page(179)
    assert "Article 531" in text and text.endswith("agents verbalisateurs.")  # call 91 removed
    assert "en agriculture,\n" in text and "minières ainsi" in text  # calls 89 (a note without « - ») and 90 removed
    assert "Décret royal n°1175-66" not in text and "Je jure et" not in text


def test_isolated_parser_reports_errors_and_parses(tmp_path, pdf_factory):
    good = tmp_path / "loi.pdf"
    good.write_bytes(pdf_factory(["Article 1\nLe salarié a droit au repos hebdomadaire."]))
    bad = tmp_path / "faux.pdf"
    bad.write_bytes(b"PK\x03\x04 not a pdf")
    with IsolatedParser(timeout_s=60, max_bytes=10**7, max_pages=10) as parser:
        assert "repos" in parser.load(good).text
        with pytest.raises(IngestError) as info:
            parser.load(bad)
        assert info.value.code == "not_pdf"
