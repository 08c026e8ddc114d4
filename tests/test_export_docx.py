"""The exported agreement as a file to hand over: real DOCX files opened with python-docx and read
as XML (A4, fr-FR / ar-MA, Word footnotes, header and footer fields, parties and signature blocks,
properties), the Markdown built from the same layout, and a LibreOffice rendering to PDF and PNG.

No engine and no model: the clauses and citations are built here, as ``rag draft`` stores them."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn

from rag.answer import Citation
from rag.draft import Check, Clause
from rag.export import (
    CT_FOOTNOTES,
    CUT_MARK,
    RT_FOOTNOTES,
    Agreement,
    agreement_blocks,
    agreement_docx,
    agreement_markdown,
    complete_quote,
    export_agreement,
)

ARTIFACTS = Path(__file__).parent / "artifacts"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

# the official article's layout: one sentence, an enumeration of five steps, longer than the
# 300 characters at which the old export cut it
ART_350 = (
    "Code du travail > Livre II > Titre III > Article 350\n"
    "A moins que le salaire ne soit basé sur l'ancienneté, en vertu d'une clause du contrat de travail, du règlement "
    "intérieur ou d'une convention collective de travail, tout salarié doit bénéficier d'une prime d'ancienneté dont le "
    "montant est fixé à :\n- 5 % du salaire versé, après deux ans de service ;\n- 10 % du salaire versé, après cinq ans de "
    "service ;\n- 15 % du salaire versé, après douze ans de service ;\n- 20 % du salaire versé, après vingt ans de service ;\n"
    "- 25 % du salaire versé, après vingt-cinq ans de service."
)
ART_351 = "Code du travail > Livre II > Titre III > Article 351\nLes services visés à l'article 350 ci-dessus s'entendent des périodes de service, continues ou non."
ART_10 = "Code du travail > Livre I > Article 10\nEst interdit le travail forcé."
ART_2 = "Code du travail > Livre I > Article 2\nLe présent Code s'applique aux personnes liées par un contrat de travail."
DECREE_2 = "Décret n° 2-04-570 > Article 2\nLe contingent annuel d'heures supplémentaires est fixé à 80 heures par salarié."
FICHE_354 = (
    "Fiche — Prime d'ancienneté > Sur quelle base ?\n"
    "La prime se calcule sur le salaire et ses accessoires (C. trav. art. 353). Pour un salarié payé à la commission, la base "
    "est la moyenne des trois derniers mois (C. trav. art. 354). Elle se verse avec la paie (C. trav. art. 355)."
)
AR_350 = "مدونة الشغل > المادة 350\nيستفيد كل أجير من علاوة الأقدمية يحدد مبلغها كما يلي: 5 في المائة من الأجر المؤدى بعد سنتين من الشغل."


def cite(key, label, title, article, text, source="ma_code_travail_fr_2011.pdf"):
    return Citation(key, label, source, title, article, 121, text)


CODE = "Code du travail (2011)"
C350 = cite("R1", f"{CODE}, art. 350, p. 121", CODE, "350", ART_350)
C351 = cite("R2", f"{CODE}, art. 351, p. 122", CODE, "351", ART_351)
C10 = cite("R3", f"{CODE}, art. 10, p. 4", CODE, "10", ART_10)
C2 = cite("R4", f"{CODE}, art. 2, p. 2", CODE, "2", ART_2)
D2 = cite("R5", "Décret n° 2-04-570, art. 2", "Décret n° 2-04-570 (heures supplémentaires)", "2", DECREE_2, "ma_decret_2-04-570_heures_supplementaires_ar.pdf")
F354 = cite("R6", "Fiche — Prime d'ancienneté (art. 354)", "Fiche — Prime d'ancienneté", "354", FICHE_354, "prime_anciennete.md")
A350 = cite("R1", "مدونة الشغل، المادة 350", "مدونة الشغل", "350", AR_350, "ma_mudawwana_shughl_ar_2021.pdf")

SENIORITY = Clause(
    "Prime d'ancienneté", "prime_anciennete", "prime_anciennete", "target",
    "Article 1 — Barème. Tout salarié perçoit une prime de 3 % après un an, 6 % après deux ans (C. trav. art. 350).\n\n"
    "Article 2 — Services pris en compte. Les services continus ou non s'additionnent (C. trav. art. 351) ; "
    "la note * de bas de grille et le taux **majoré** restent tels quels.\n\n"
    "Article 3 — Assiette. La moyenne des trois derniers mois sert de base (C. trav. art. 354) ; "
    "le barème de l'article 1 s'applique (C. trav. art. 350).",
    citations=[F354, C351, C350], order=4, rationale="Le Code fixe 5 % après deux ans (C. trav. art. 350).",
    checks=[Check("seniority_bonus_2y", "ok", "350", "6 % ≥ 5 %")],
)
OVERTIME = Clause(
    "Heures supplémentaires", "heures_supplementaires", "heures_supplementaires", "target",
    "Article 1 — Contingent. Au plus 60 heures par an (Décret n° 2-04-570, art. 2).\n"
    "Article 2 — Travail forcé. Nul n'est tenu d'en faire au-delà (C. trav. art. 10) ; le Code s'applique à tous (C. trav. art. 2).",
    citations=[C10, D2, C2], order=7,
    checks=[Check("overtime_night", "below_floor", "201", "Majoration de nuit : 40 % < 50 % — moins favorable que C. trav. art. 201.")],
)
ARABIC = Clause(
    "علاوة الأقدمية", "prime_anciennete", None, "target",
    "Article 1 — يستفيد كل أجير من علاوة أقدمية قدرها 6 في المائة بعد سنتين (C. trav. art. 350).",
    citations=[A350], order=9,
)


def agreement(*clauses, **kw) -> Agreement:
    return Agreement(list(clauses or (SENIORITY, OVERTIME)), date="2026-11-23", **kw)


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("docx") / "projet.docx"
    export_agreement(agreement(SENIORITY, OVERTIME, ARABIC), "docx", path)
    return path


def xml_of(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read(name).decode("utf-8")


def body_texts(document) -> list[str]:
    """Every paragraph of the body, content controls (the signature block) and tables included."""
    return ["".join(t.text or "" for t in p.iter(f"{W}t")) for p in document.element.body.iter(f"{W}p")]


# ------------------------------------------------------------------------------------------------
# page, language, styles


def test_a4_page_and_french_language(exported):
    document = docx.Document(str(exported))
    section = document.sections[0]
    assert abs(section.page_width.cm - 21) < 0.01 and abs(section.page_height.cm - 29.7) < 0.01
    assert all(1.5 <= m.cm <= 3 for m in (section.left_margin, section.right_margin, section.top_margin, section.bottom_margin))
    styles = document.styles.element
    default_lang = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr")).find(qn("w:lang"))
    assert default_lang.get(qn("w:val")) == "fr-FR" and default_lang.get(qn("w:bidi")) == "ar-MA"
    assert document.styles["Normal"].element.rPr.find(qn("w:lang")).get(qn("w:val")) == "fr-FR"
    assert "en-US" not in xml_of(exported, "word/styles.xml") and "en-US" not in xml_of(exported, "word/settings.xml")
    assert document.core_properties.language == "fr-FR"


def test_headings_and_articles_numbered_like_the_markdown(exported):
    document = docx.Document(str(exported))
    by_style = [(p.style.name, p.text) for p in document.paragraphs if p.text.strip()]
    assert by_style[0][0] == "Title" and by_style[0][1].startswith("Projet de convention collective")
    chapters = [t for s, t in by_style if s == "Heading 1" and t.startswith("Chapitre")]
    assert chapters == ["Chapitre 1 — Prime d'ancienneté", "Chapitre 2 — Heures supplémentaires", "Chapitre 3 — علاوة الأقدمية"]
    articles = [t for s, t in by_style if s == "Article"]
    md_articles = re.findall(r"^(Article \d+ —.*?)(?:\[\^\d+\])*$", agreement_markdown(agreement(SENIORITY, OVERTIME, ARABIC)), flags=re.M)
    assert [int(re.match(r"Article (\d+)", t).group(1)) for t in articles] == list(range(1, 7))
    assert [re.sub(r"\[\^\d+\]", "", a) for a in md_articles] == articles  # same text, footnote marks aside
    # outline level 2 under the chapters (Word's navigation pane), the article's lead in bold
    article_style = document.styles["Article"].element
    assert article_style.pPr.find(qn("w:outlineLvl")).get(qn("w:val")) == "1"
    first = next(p for p in document.paragraphs if p.style.name == "Article")
    assert first.runs[0].text == "Article 1 — Barème." and first.runs[0].bold


def test_asterisks_of_a_clause_are_kept(exported):
    text = "\n".join(p.text for p in docx.Document(str(exported)).paragraphs)
    assert "la note * de bas de grille et le taux **majoré** restent tels quels." in text


def test_arabic_paragraphs_run_right_to_left(exported):
    document = docx.Document(str(exported))
    arabic = next(p for p in document.paragraphs if "علاوة أقدمية" in p.text)
    assert arabic._p.pPr.find(qn("w:bidi")) is not None
    arabic_runs = [r for r in arabic._p.iter(qn("w:r")) if re.search("[\u0600-\u06ff]", "".join(t.text or "" for t in r.iter(qn("w:t"))))]
    assert arabic_runs and all(r.rPr.find(qn("w:rtl")) is not None and r.rPr.find(qn("w:lang")).get(qn("w:bidi")) == "ar-MA" for r in arabic_runs)
    french = next(p for p in document.paragraphs if p.text.startswith("Article 1 — Barème."))
    assert french._p.pPr is None or french._p.pPr.find(qn("w:bidi")) is None
    heading = next(p for p in document.paragraphs if p.text == "Chapitre 3 — علاوة الأقدمية")
    assert heading._p.pPr.find(qn("w:bidi")) is not None  # mostly Arabic


# ------------------------------------------------------------------------------------------------
# footnotes


def test_real_word_footnotes_one_per_reference(exported):
    document = docx.Document(str(exported))
    part = document.part.part_related_by(RT_FOOTNOTES)
    assert part.content_type == CT_FOOTNOTES
    assert 'PartName="/word/footnotes.xml"' in xml_of(exported, "[Content_Types].xml")
    notes = docx.oxml.parse_xml(xml_of(exported, "word/footnotes.xml").encode("utf-8"))
    entries = {int(n.get(qn("w:id"))): n for n in notes.iter(qn("w:footnote"))}
    assert entries[-1].get(qn("w:type")) == "separator" and entries[0].get(qn("w:type")) == "continuationSeparator"
    refs = [int(r.get(qn("w:id"))) for r in document.element.body.iter(qn("w:footnoteReference"))]
    real = sorted(i for i in entries if i > 0)
    assert refs == real == list(range(1, len(refs) + 1))
    # art. 350 ×2 + 351 + 354 in chapter 1, decree 2 + art. 10 + art. 2 in chapter 2, art. 350 (AR) in chapter 3
    assert len(refs) == 8
    texts = {i: "".join(t.text for t in entries[i].iter(qn("w:t"))) for i in real}
    assert all(entries[i].find(qn("w:p")).find(qn("w:r")).find(qn("w:footnoteRef")) is not None for i in real)
    assert "25 % du salaire versé, après vingt-cinq ans de service." in texts[1]
    assert texts[4] == f" {C350.label} — voir la note 1."  # the same note again: a pointer, not a copy
    # « (C. trav. art. 2) » is the Code's article 2, not the decree's article 2 cited just before it
    assert texts[5].startswith(f" {D2.label} — ") and texts[7].startswith(f" {C2.label} — « Le présent Code")
    assert "(C. trav. art. 350)" in next(p.text for p in document.paragraphs if p.text.startswith("Article 1 — Barème."))
    settings = xml_of(exported, "word/settings.xml")
    assert '<w:footnotePr><w:footnote w:id="-1"/><w:footnote w:id="0"/></w:footnotePr>' in settings
    assert settings.index("<w:footnotePr>") < settings.index("<w:compat>")  # schema order, or Word refuses the file
    # no « [n] » markers nor a « Notes » list any more
    body = "\n".join(body_texts(document))
    assert not re.search(r"\[\^?\d+\]", body) and "Notes" not in [p.text for p in document.paragraphs]
    arabic_note = next(entries[i] for i in real if "المادة" in texts[i])
    assert arabic_note.find(qn("w:p")).find(qn("w:pPr")).find(qn("w:bidi")) is not None


def test_footnotes_survive_reopening_and_appending(exported):
    """The costing annex reopens the agreement with python-docx and appends to it."""
    document = docx.Document(str(exported))
    document.add_paragraph("Annexe — chiffrage")
    buffer = io.BytesIO()
    document.save(buffer)
    again = docx.Document(io.BytesIO(buffer.getvalue()))
    assert again.part.part_related_by(RT_FOOTNOTES).content_type == CT_FOOTNOTES
    assert len(list(again.element.body.iter(qn("w:footnoteReference")))) == 8


# ------------------------------------------------------------------------------------------------
# header, footer, parties, signatures, properties


def test_header_title_and_footer_page_x_of_y(exported):
    document = docx.Document(str(exported))
    section = document.sections[0]
    assert section.different_first_page_header_footer  # the first page shows the title itself
    assert section.header.paragraphs[0].text == agreement().title
    assert not "".join(p.text for p in section.first_page_header.paragraphs).strip()
    for footer in (section.footer, section.first_page_footer):
        xml = footer._element.xml
        instructions = [t.text.strip() for t in footer._element.iter(qn("w:instrText"))]
        assert instructions == ["PAGE", "NUMPAGES"]
        assert xml.count('w:fldCharType="begin"') == 2 and xml.count('w:fldCharType="end"') == 2
        text = "".join(t.text for t in footer._element.iter(qn("w:t")))
        assert "Page 1 sur 1" in text and "Projet — version du 2026-11-23" in text and "exporté le" in text


def test_parties_block_after_the_title_and_signature_block_at_the_end(exported):
    document = docx.Document(str(exported))
    texts = [t for t in body_texts(document) if t.strip()]
    start = texts.index("Entre :")
    assert texts[start - 1].startswith("Statut : projet — version du 2026-11-23")
    assert texts[start + 1].startswith("la Fédération") and texts[start + 2].startswith("représentée par")
    assert "« la partie syndicale »" in texts[start + 3] and texts[start + 4] == "Et :"
    assert "« la partie patronale »" in texts[start + 7] and texts.index("Préambule") > start + 7
    blank = next(p for p in document.paragraphs if p.text.startswith("la Fédération"))
    assert blank.paragraph_format.tab_stops[0].leader is not None  # a dotted line to fill in
    sdt = document.element.body.find(qn("w:sdt"))
    assert sdt.find(qn("w:sdtPr")).find(qn("w:alias")).get(qn("w:val")) == "Signatures"
    table = sdt.find(qn("w:sdtContent")).find(qn("w:tbl"))
    cells = [["".join(t.text for t in tc.iter(qn("w:t"))).strip() for tc in tr.iter(qn("w:tc"))] for tr in table.iter(qn("w:tr"))]
    assert cells[0] == ["Pour la partie syndicale", "Pour la partie patronale"]
    assert [row[0].rstrip("\u200b :") for row in cells[1:]] == ["Nom", "Qualité", "Date", "Signature"]
    assert [c.tag for c in document.element.body][-2:] == [qn("w:sdt"), qn("w:sectPr")]  # last thing in the body
    assert any(t.startswith("Fait à") for t in texts[-12:])


def test_reading_the_docx_back_finds_the_same_clauses_as_the_markdown(exported, tmp_path):
    """Counter-proposal import and redline read our own DOCX: the parties and signature blocks
    must not become clause text, and each article stays one paragraph."""
    from rag.negotiation import read_sections

    md = tmp_path / "projet.md"
    export_agreement(agreement(SENIORITY, OVERTIME, ARABIC), "md", md)
    from_docx, from_md = read_sections(exported), read_sections(md)
    assert [s.title for s in from_docx] == [s.title for s in from_md]
    assert [s.text for s in from_docx[:2]] == [s.text for s in from_md[:2]]
    assert not any("Pour la partie" in s.text or "Entre :" in s.text for s in from_docx)


def test_core_and_app_properties(exported, tmp_path):
    props = docx.Document(str(exported)).core_properties
    assert props.title == agreement().title and props.author == "Ittifaq" and props.last_modified_by == "Ittifaq"
    now = dt.datetime.now(dt.timezone.utc)
    assert dt.timedelta(0) <= now - props.created < dt.timedelta(minutes=1) and props.modified == props.created
    assert props.content_status == "Projet" and props.language == "fr-FR"
    with zipfile.ZipFile(exported) as archive:
        names = archive.namelist()
        for name in names:
            if name.startswith("docProps/") and name.endswith(".xml"):
                assert "python-docx" not in archive.read(name).decode("utf-8").lower(), name
        assert "<Application>Ittifaq</Application>" in archive.read("docProps/app.xml").decode("utf-8")
    assert not any("thumbnail" in n for n in names)  # the template's picture of another document
    path = tmp_path / "signed.docx"
    export_agreement(agreement(author="  Fatima   Zahra "), "docx", path)
    assert docx.Document(str(path)).core_properties.author == "Fatima Zahra"


def test_workspace_export_writes_each_format_and_refuses_others(tmp_path):
    from rag.export import EXPORT_FORMATS
    from rag.workspace import Workspace

    ws = Workspace(tmp_path, "fatima")
    ws.add_clause(SENIORITY)
    ws.set_project_meta("Convention — Centres d'appels", None)
    paths = {fmt: ws.export(fmt) for fmt in EXPORT_FORMATS}
    assert {fmt: p.name for fmt, p in paths.items()} == {"md": "convention-centres-d-appels.md", "docx": "convention-centres-d-appels.docx"}
    assert "Prime d'ancienneté" in paths["md"].read_text("utf-8")
    assert any("Prime d'ancienneté" in t for t in body_texts(docx.Document(str(paths["docx"]))))
    with pytest.raises(ValueError, match="format inconnu 'pdf' : md ou docx"):
        ws.export("pdf")
    assert sorted(p.name for p in ws.exports_dir.iterdir()) == sorted(p.name for p in paths.values())


def test_status_of_a_round_shows_in_the_footer_and_properties(tmp_path):
    data = agreement_docx(Agreement([SENIORITY], date="2026-12-01", status="tour 2"))
    document = docx.Document(io.BytesIO(data))
    assert document.core_properties.content_status == "Projet (tour 2)"
    assert "Projet (tour 2) — version du 2026-12-01" in "".join(t.text for t in document.sections[0].footer._element.iter(qn("w:t")))


def test_text_that_xml_cannot_hold_is_dropped_not_fatal():
    clause = Clause("Contrôle", "x", None, "target", "Article 1 — Texte\x0b avec\x00 caractères de contrôle.")
    document = docx.Document(io.BytesIO(agreement_docx(Agreement([clause]))))
    assert any(p.text == "Article 1 — Texte avec caractères de contrôle." for p in document.paragraphs)


# ------------------------------------------------------------------------------------------------
# the Markdown from the same layout


def test_markdown_legal_basis_in_order_by_text_then_article_number():
    md = agreement_markdown(agreement())
    section = md.split("## Fondements juridiques\n\n", 1)[1].split("\n\n", 1)[0].split("\n")
    labels = [re.match(r"- \*\*(.+?)\*\*", line).group(1) for line in section]
    assert labels == [C2.label, C10.label, C350.label, C351.label, D2.label, F354.label]  # 2 < 10 < 350 < 351


def test_markdown_quotes_are_complete_and_marks_stay_in_place():
    md = agreement_markdown(agreement())
    note = next(line for line in md.split("\n") if line.startswith("[^1]: "))
    assert note.startswith(f"[^1]: {C350.label} — « A moins que")
    for step in ("5 % du salaire versé", "10 %", "15 %", "20 %", "25 % du salaire versé, après vingt-cinq ans de service."):
        assert step in note
    assert note.endswith("service. »") and "…" not in note and CUT_MARK not in note
    assert "(C. trav. art. 350)[^1]" in md and "le barème de l'article 1 s'applique (C. trav. art. 350)[^1]." in md
    # a fiche that only mentions the article: the sentence that names it, the rest marked
    fiche = next(line for line in md.split("\n") if line.startswith("[^3]: "))
    assert fiche == f"[^3]: {F354.label} — « {CUT_MARK} Pour un salarié payé à la commission, la base est la moyenne des trois derniers mois (C. trav. art. 354). {CUT_MARK} »"
    assert "la note * de bas de grille et le taux **majoré** restent tels quels." in md


def test_markdown_shape_is_unchanged():
    md = agreement_markdown(agreement())
    assert md.startswith(f"# {agreement().title}\n\n*Statut : projet — version du 2026-11-23 — document de travail, non signé.*\n\n## Préambule\n\n")
    assert "## Chapitre 1 — Prime d'ancienneté\n\nArticle 1 — Barème." in md
    assert "Article 1 — Contingent. Au plus 60 heures par an (Décret n° 2-04-570, art. 2)[^4].\nArticle 2 —" in md.replace("Article 4", "Article 1").replace("Article 5", "Article 2")
    assert "> Exposé des motifs : Le Code fixe 5 % après deux ans (C. trav. art. 350)." in md
    assert "## Points à corriger avant signature\n\n- ⚠ Heures supplémentaires : Majoration de nuit" in md
    assert "Entre :" not in md and "Pour la partie" not in md  # the DOCX's blocks to fill in
    assert re.search(r"\n\n\[\^1\]: .*\n\[\^2\]: ", md) and md.endswith("\n") and not md.endswith("\n\n")


def test_one_layout_feeds_both_renderings():
    layout = agreement_blocks(agreement())
    kinds = [b.kind for b in layout.blocks]
    assert kinds[:4] == ["title", "status", "parties", "heading"] and kinds[-1] == "signatures"
    article = next(b for b in layout.blocks if b.kind == "article")
    assert [r.style for r in article.runs][:1] == ["lead"] and any(r.note for r in article.runs)
    assert [n.number for n in layout.notes] == list(range(1, len(layout.notes) + 1))


@pytest.mark.parametrize("text,expected_end", [
    ("Premier alinéa. " * 60, f"alinéa. {CUT_MARK}"),                                 # whole sentences up to the limit
    ("Il est dû, selon l'art. 12 du décret, une prime. " + "Suite. " * 200, f"Suite. {CUT_MARK}"),  # « art. » is no sentence end
    ("Une seule phrase " + "très longue, " * 80 + "sans fin ; suite " * 30 + "et fin.", CUT_MARK),  # cut after an item
])
def test_complete_quote_cuts_only_at_a_sentence_end(text, expected_end):
    quote = complete_quote(text)
    assert quote.endswith(expected_end) and len(quote) <= 1510
    if "art. 12" in text:
        assert quote.startswith("Il est dû, selon l'art. 12 du décret, une prime.")


def test_short_and_enumerated_quotes_stay_whole():
    whole = re.sub(r"\s+", " ", ART_350.split("\n", 1)[1])
    assert complete_quote(ART_350.split("\n", 1)[1]) == whole
    enumeration = "Sont assimilés : 1. les congés ; 2. les absences. Les périodes comptent. " + "x " * 10
    assert complete_quote(enumeration, soft=60) == f"Sont assimilés : 1. les congés ; 2. les absences. {CUT_MARK}"


# ------------------------------------------------------------------------------------------------
# LibreOffice


def _office() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(_office() is None, reason="LibreOffice absent (Debian: apt-get install libreoffice-writer)")
def test_libreoffice_renders_footnotes_and_page_numbers(exported, tmp_path):
    from pypdf import PdfReader

    started = time.monotonic()
    profile = tmp_path / "profile"  # a private profile: no clash with another LibreOffice running
    subprocess.run([_office(), f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(exported)],
                   check=True, capture_output=True, timeout=180)
    pdf = tmp_path / "projet.pdf"
    reader = PdfReader(str(pdf))
    pages = len(reader.pages)
    text = "\n".join(page.extract_text() for page in reader.pages)
    flat = re.sub(r"\s+", " ", text)
    assert pages >= 1
    assert "25 % du salaire versé, après vingt-cinq ans de service" in flat  # the footnote's quote
    assert f"Page 1 sur {pages}" in flat and f"Page {pages} sur {pages}" in flat
    assert "Pour la partie syndicale" in flat and "Entre :" in flat
    assert "la note * de bas de grille" in flat
    if shutil.which("pdftoppm"):
        ARTIFACTS.mkdir(exist_ok=True)
        subprocess.run(["pdftoppm", "-r", "70", "-png", str(pdf), str(ARTIFACTS / "export_docx_page")], check=True, timeout=60)
        assert (ARTIFACTS / f"export_docx_page-{1:0{len(str(pages))}d}.png").exists()
    assert time.monotonic() - started < 120
