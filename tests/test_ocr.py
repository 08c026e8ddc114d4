"""OCR of scanned texts and photos (issue 17; TESTPLAN items 7, 31, 32, F1), with the real Tesseract.

Scans are made here from the official texts: pages rendered by pdftoppm at 200 dpi and put back
together with img2pdf as image-only PDFs, so the article numbers and the figures to find are
those of the real texts. Everything goes through the real isolated parser and a real store.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import struct
import subprocess
import sys
import textwrap
import time
import zlib
from functools import lru_cache
from pathlib import Path

import pytest

from rag.index import Index
from rag.ingest import IngestError, LoadedDocument, Page, load_bytes, load_path
from rag.ocr import OcrOptions, arabic_reversed, fix_arabic_commas, ocr_status, text_layer_usable, uncertain_label
from rag.settings import PROJECT_ROOT, Settings
from rag.structure import UNCERTAIN_NOTICE, chunk_units, parse_units, repair_ocr_line
from tests.conftest import CODE_FR, SHARED_CORPUS, HashEmbeddings, need_shared

DECREE_AR = SHARED_CORPUS / "ma_decret_2-25-983_smig_2026_ar.pdf"
FR_PAGES = (60, 63)  # articles 137 to 149 of the French code: headings, a chapter, numbered items


def need_ocr() -> None:
    status = ocr_status()
    if not status.available or not {"ara", "fra"} <= set(status.languages):
        pytest.skip(f"Tesseract with Arabic and French is not installed ({status.message}); `make ocr` installs it")
    if not status.renderer or shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed; `make ocr` installs it")


@lru_cache(maxsize=8)
def page_images(pdf: Path, first: int, last: int, dpi: int = 200) -> tuple[bytes, ...]:
    """PNG bytes of pages first..last of a PDF, rendered by pdftoppm (grey, like a scanner)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", "-f", str(first), "-l", str(last), str(pdf), f"{tmp}/p"],
                       check=True, timeout=120)
        return tuple(path.read_bytes() for path in sorted(Path(tmp).glob("p-*.png")))


def scanned_pdf(pdf: Path, first: int, last: int) -> bytes:
    """An image-only PDF of those pages: no text layer at all, as a scanner makes it."""
    import img2pdf

    return img2pdf.convert(list(page_images(pdf, first, last)))


def text_layer_articles(pdf: Path, first: int, last: int) -> list[str]:
    """The articles the same pages give from the PDF's own text layer (the reference)."""
    import pypdf

    from rag.ingest import clean_pdf_page

    reader = pypdf.PdfReader(str(pdf))
    pages = [Page(n, clean_pdf_page(reader.pages[n - 1].extract_text() or "")) for n in range(first, last + 1)]
    doc = LoadedDocument(path="", source="ref.pdf", sha256="0" * 64, format="pdf", title="ref", kind="law", lang="fr", pages=pages)
    return [u.article for u in parse_units(doc) if u.article]


def stored(index: Index, source: str) -> list[dict]:
    data = index.collection.get(where={"source": source}, include=["metadatas"])
    return data["metadatas"]


def articles_in_order(index: Index, source: str) -> list[str]:
    metas = sorted(stored(index, source), key=lambda m: (m["page"], m["piece"]))
    seen: list[str] = []
    for meta in metas:
        if meta["article"] and meta["article"] not in seen:
            seen.append(meta["article"])
    return seen


def french(message: str) -> bool:
    return any(word in message for word in (" le ", " la ", " les ", " de ", " des ", " est ", " : "))


# --------------------------------------------------------------------------------------------
# no Tesseract needed


def test_text_layer_checks_keep_real_text_and_spot_garbage():
    assert text_layer_usable("Article 184\nLa durée normale du travail des salariés est fixée à 44 heures par semaine.")
    assert text_layer_usable("المادة 184\nتحدد مدة الشغل العادية في النشاطات غير الفلاحية في 2288 ساعة في السنة")
    assert not text_layer_usable("")
    assert not text_layer_usable("- 61 -")  # a page number is not a text layer
    assert not text_layer_usable("(cid:12)(cid:7)(cid:44) " * 40)  # fonts without a Unicode map
    assert not text_layer_usable("\ue001\ue002\ue003 abc " * 30)  # private-use glyph codes
    assert not text_layer_usable("#$%&*+=<>|~^ 12 34 " * 20)
    backwards = " ".join(w[::-1] for w in "تحدد مدة الشغل العادية في النشاطات الفلاحية وغير الفلاحية المادة الأولى الأجير الحد الأدنى القانوني للأجر".split())
    assert arabic_reversed(backwards) and not text_layer_usable(backwards * 2)
    assert not arabic_reversed("تحدد مدة الشغل العادية في النشاطات الفلاحية وغير الفلاحية المادة الأولى الأجير الحد الأدنى القانوني للأجر")


def test_arabic_comma_read_as_guillemet_is_put_back():
    assert fix_arabic_commas("ابتداء من فاتح يناير 2026» يحدد") == "ابتداء من فاتح يناير 2026، يحدد"
    assert fix_arabic_commas("يسمى «الأجر» في هذا المرسوم") == "يسمى «الأجر» في هذا المرسوم"
    # the Latin comma the model also gives after an Arabic word; figures keep theirs
    assert fix_arabic_commas("المحصل عليها, وبعدئذ يشرع\nباسمه,") == "المحصل عليها، وبعدئذ يشرع\nباسمه،"
    assert fix_arabic_commas("(17,92 درهما), مبلغ") == "(17,92 درهما), مبلغ"
    assert fix_arabic_commas("فاتح يناير 2026, يحدد") == "فاتح يناير 2026، يحدد"


@pytest.mark.parametrize("line,expected", [
    ("Articlc 12", "Article 12"), ("Artide 12", "Article 12"), ("Anicle 5", "Article 5"), ("ARTICLE l2", "Article 12"),
    ("Article ler", "Article 1er"), ("Article prernier", "Article premier"), ("Article12", "Article 12"), ("Article 1O.", "Article 10."),
    ("الماده 12", "المادة 12"), ("12 المادة", "المادة 12"), ("المـادة 3", "المادة 3"), ("المادة الأولي", "المادة الأولى"),
    ("Chapitre Il : Du règlement intérieur", "Chapitre II : Du règlement intérieur"),
    ("Articles 12 et 13", "Articles 12 et 13"), ("article 12", "article 12"), ("Le salarié", "Le salarié"),
])
def test_ocr_heading_repairs(line, expected):
    assert repair_ocr_line(line) == expected


def test_structure_of_ocr_text_with_noise_and_wrapped_references():
    text = "\n".join([
        "Chapitre Il : Du règlement intérieur", "", "Articlc 12", "Le règlement est affiché.", "",
        "Artide 13", "Les sanctions prévues à l'", "Article 14", "ne s'appliquent pas.", "",
        "ARTICLE l4", "Texte quatorze.", "", "Article 15 :", "Texte quinze, voir les dispositions de", "Article 16", "ci-dessus.",
    ])
    pages = [Page(1, text, ocr="fra", confidence=91.0)]
    doc = LoadedDocument(path="", source="scan.pdf", sha256="0" * 64, format="pdf", title="Scan", kind="law", lang="fr", pages=pages)
    units = parse_units(doc)
    assert [u.article for u in units if u.article] == ["12", "13", "14", "15"]
    assert "Chapitre II : Du règlement intérieur" in next(u for u in units if u.article == "12").heading_path
    # the same noise in a text layer is left alone: only OCR pages are read leniently
    plain = LoadedDocument(path="", source="t.pdf", sha256="0" * 64, format="pdf", title="T", kind="law", lang="fr", pages=[Page(1, text)])
    assert "12" not in [u.article for u in parse_units(plain) if u.article]
    arabic = "\n".join(["الماده الأولي", "نص المادة الأولى.", "", "2 المادة", "نص ثان.", "", "المـادة 3", "نص ثالث، وفق", "المادة 4", "أعلاه."])
    doc = LoadedDocument(path="", source="ar.pdf", sha256="0" * 64, format="pdf", title="مرسوم", kind="decree", lang="ar",
                         pages=[Page(1, arabic, ocr="ara", confidence=88.0)])
    assert [u.article for u in parse_units(doc) if u.article] == ["1", "2", "3"]


def test_low_confidence_page_is_flagged_in_chunks_and_listed():
    from rag.offline import get_encoding

    pages = [Page(1, "Article 1\nLe texte est net.", ocr="fra", confidence=93.0),
             Page(2, "Article 2\nLe texte est flou.", ocr="fra", confidence=41.5, uncertain=True)]
    doc = LoadedDocument(path="", source="scan.pdf", sha256="0" * 64, format="pdf", title="Scan", kind="law", lang="fr", pages=pages)
    assert doc.uncertain_pages == [2]
    assert uncertain_label(doc.uncertain_pages) == "p. 2 : lecture incertaine"
    chunks = chunk_units(doc, parse_units(doc), get_encoding(str(PROJECT_ROOT / ".cache" / "tiktoken")), 200, 20)
    by_article = {c.article: c for c in chunks}
    assert by_article["1"].confidence == 93.0 and by_article["1"].uncertain_pages == [] and UNCERTAIN_NOTICE not in by_article["1"].text
    assert by_article["2"].confidence == 41.5 and by_article["2"].uncertain_pages == [2]
    assert UNCERTAIN_NOTICE in by_article["2"].text and UNCERTAIN_NOTICE not in by_article["2"].body


def test_without_tesseract_a_scan_is_refused_with_the_install_command_and_text_still_works(tmp_path, pdf_factory):
    need_shared(CODE_FR)
    missing = OcrOptions(tesseract_cmd=str(tmp_path / "no-tesseract"))
    status = ocr_status(missing)
    assert not status.available and "sudo apt-get install tesseract-ocr tesseract-ocr-ara tesseract-ocr-fra" in status.message
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(scanned_pdf(CODE_FR, 60, 60))
    with pytest.raises(IngestError) as info:
        load_path(scan, 10**8, 100, ocr=missing)
    assert info.value.code == "needs_ocr"
    assert "sudo apt-get install tesseract-ocr tesseract-ocr-ara tesseract-ocr-fra" in info.value.message
    photo = tmp_path / "photo.png"
    photo.write_bytes(page_images(CODE_FR, 60, 60)[0])
    with pytest.raises(IngestError) as info:
        load_path(photo, 10**8, 100, ocr=missing)
    assert info.value.code == "needs_ocr" and "tesseract-ocr-ara" in info.value.message
    assert "repos" in load_bytes(pdf_factory(["Article 1\nLe salarié a droit au repos hebdomadaire."]), "loi.pdf", ocr=missing).text


# --------------------------------------------------------------------------------------------
# real OCR


def png_bomb(width: int, height: int) -> bytes:
    """A valid PNG header announcing width × height grey pixels, with almost no data behind it."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + chunk(b"IEND", b"")


def blank_pages_pdf(pages: int, size: int = 64) -> bytes:
    import img2pdf
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (size, size), 255).save(buffer, format="PNG")
    return img2pdf.convert([buffer.getvalue()] * pages)


@pytest.mark.slow
def test_scanned_french_code_pages_are_read_in_order_and_searchable(engine, tmp_path):
    need_ocr()
    need_shared(CODE_FR)
    first, last = FR_PAGES
    scan = tmp_path / "code_travail_scanne.pdf"
    scan.write_bytes(scanned_pdf(CODE_FR, first, last))
    messages: list[str] = []
    started = time.monotonic()
    [result] = engine.index.index_paths([scan], progress=lambda fraction, message: messages.append(message))
    elapsed = time.monotonic() - started
    assert result.status == "indexed", result.message
    expected = text_layer_articles(CODE_FR, first, last)
    assert len(expected) >= 10
    assert articles_in_order(engine.index, scan.name) == expected
    # per-page progress came through the parser child
    assert any("OCR page 1 (1/4)" in m for m in messages) and any("OCR page 4 (4/4)" in m for m in messages)
    metas = stored(engine.index, scan.name)
    assert all(meta["ocr_confidence"] >= 60 for meta in metas)  # a clean scan: nothing « incertain »
    assert all(meta["uncertain_pages"] == "" for meta in metas) and engine.index.uncertain_pages() == {}
    hits = engine.retriever.search("règlement intérieur soumis à l'approbation de l'autorité gouvernementale", k=3)
    assert any(h.source == scan.name and h.article == "138" for h in hits)
    print(f"OCR + indexing of {last - first + 1} French pages: {elapsed:.1f} s")


@pytest.mark.slow
def test_scanned_arabic_smig_decree_gives_its_articles_and_the_hourly_minimum(engine, tmp_path):
    need_ocr()
    need_shared(DECREE_AR)
    scan = tmp_path / "decret_smig_scanne.pdf"
    scan.write_bytes(scanned_pdf(DECREE_AR, 1, 3))
    [result] = engine.index.index_paths([scan])
    assert result.status == "indexed", result.message
    assert articles_in_order(engine.index, scan.name) == ["1", "2", "3", "4"]
    record = engine.index.manifest.records[scan.name]
    assert record.lang == "ar"
    first = [h for h in engine.retriever.search("17,92 درهما عن ساعة الشغل", k=5) if h.source == scan.name]
    assert first and first[0].article == "1"
    assert "17,92" in first[0].text or "17.92" in first[0].text
    assert "97,44" in next(h.text for h in engine.retriever.search("97,44 درهما عن يوم شغل", k=5) if h.article == "2")
    # Arabic in logical order: the words read as they are written, not backwards
    assert "الحد الأدنى القانوني للأجر" in first[0].text


SMIG_ARTICLES_AR = [
    ("heading", "المادة 1"),
    ("paragraph", "ابتداء من فاتح يناير 2026، يحدد في سبعة عشر درهما واثنان وتسعون سنتيما (17,92 درهما)، مبلغ الحد الأدنى "
                  "القانوني للأجر المؤدى للأجراء عن ساعة الشغل في النشاطات غير الفلاحية."),
    ("heading", "المادة 2"),
    ("paragraph", "ابتداء من فاتح أبريل 2026، يحدد في سبعة وتسعين درهما وأربعة وأربعين سنتيما (97,44 درهما)، مبلغ الحد الأدنى "
                  "القانوني للأجر المؤدى للأجراء عن يوم شغل في النشاطات الفلاحية."),
    ("paragraph", "وذلك حسب رتبته في لائحة الترشيح."),  # Labour Code, art. 450: a line Tesseract drops as "noise"
]


def test_typeset_arabic_page_scanned_is_read_with_its_heading_figures_and_date():
    """A page whose text is known exactly (the SMIG decree's first two articles, numbered headings, and
    a line of the Labour Code),
    shaped and set right to left with a real Arabic font, tilted, grained and JPEG-compressed like a
    200 dpi scan, then read by the app's own loader: the words come out in logical order."""
    need_ocr()
    from PIL import features

    from benchmarks.bench_ocr import arabic_font, normalise_ar, scan_like, typeset_arabic

    font = arabic_font()
    if font is None or not features.check("raqm"):
        pytest.skip("no Arabic font (fc-list :lang=ar) or Pillow without raqm: Arabic cannot be typeset here")
    import img2pdf

    from PIL import ImageOps

    [(image, reference)] = typeset_arabic(SMIG_ARTICLES_AR, font, size_pt=14)
    left, top, right, bottom = ImageOps.invert(image).getbbox()
    image = image.crop((0, 0, image.size[0], bottom + top))  # the top of an A4 page: less to read
    slow_machine = OcrOptions(page_timeout_s=600)  # the tests share the machine: no page budget here
    doc = load_bytes(img2pdf.convert([scan_like(image, seed=17)]), "decret_smig_type.pdf", ocr=slow_machine)
    [page] = doc.pages
    assert page.ocr == "ara" and page.confidence is not None
    text = normalise_ar(page.text)
    assert "المادة 1" in page.text.split("\n") and "المادة 2" in page.text.split("\n")
    assert "17,92" in text and "97,44" in text
    assert "ابتداء من فاتح يناير" in text and "ابتداء من" in text.split("المادة 2")[1]
    # no line dropped as "noise" (the first line of each article was, before ARABIC_ROWS)
    assert len([line for line in page.text.split("\n") if line.strip()]) == len(reference.split("\n"))
    assert "الحد الأدنى القانوني للأجر" in text  # logical order, not reversed
    article_units = parse_units(LoadedDocument(path="", source="d.pdf", sha256="0" * 64, format="pdf", title="مرسوم", kind="decree",
                                               lang="ar", pages=doc.pages))
    assert [u.article for u in article_units if u.article] == ["1", "2"]
    assert normalise_ar(reference).startswith("المادة 1 ابتداء من فاتح يناير 2026، يحدد")


def test_photo_of_a_page_rotated_and_jpeg_compressed_is_indexed(engine, settings, tmp_path):
    need_ocr()
    need_shared(CODE_FR)
    from PIL import Image

    page = Image.open(io.BytesIO(page_images(CODE_FR, 61, 61)[0])).convert("RGB")
    tilted = page.rotate(3, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(236, 232, 220))
    jpeg = io.BytesIO()
    tilted.save(jpeg, format="JPEG", quality=55)
    photo = tmp_path / "photo_page.png"
    Image.open(io.BytesIO(jpeg.getvalue())).save(photo, format="PNG")  # JPEG artefacts, sent as PNG
    settings.ocr_min_confidence = 99.0  # a threshold no photo reaches: the page is « lecture incertaine »
    [result] = engine.index.index_paths([photo])
    assert result.status == "indexed", result.message
    expected = text_layer_articles(CODE_FR, 61, 61)
    found = articles_in_order(engine.index, photo.name)
    assert len(set(found) & set(expected)) >= len(expected) - 1
    assert engine.index.manifest.records[photo.name].format == "image"
    hits = [h for h in engine.retriever.search("modèle du règlement intérieur fixé par l'autorité gouvernementale", k=3) if h.source == photo.name]
    assert hits and all(h.text.split("\n")[1] == UNCERTAIN_NOTICE for h in hits)  # the excerpt says it
    metas = stored(engine.index, photo.name)
    assert all(0 < meta["ocr_confidence"] < 99 and meta["uncertain_pages"] == "1" for meta in metas)
    # listed for the document: in the indexing result and in the Corpus table
    assert "p. 1 : lecture incertaine" in result.message
    assert engine.index.uncertain_pages() == {photo.name: [1]}
    from rag.web import Handlers

    [row] = [row for row in Handlers(engine, settings).corpus.document_rows() if row[0] == photo.name]
    assert row[-1] == "indexé ; p. 1 : lecture incertaine"


def test_bad_scans_and_images_in_a_batch_fail_clearly_and_the_rest_is_indexed(engine, settings, tmp_path):
    need_ocr()
    from PIL import Image

    files: list[Path] = []

    def add(name: str, data: bytes) -> None:
        files.append(tmp_path / name)
        files[-1].write_bytes(data)

    add("a_loi.md", "# Loi\n### Article 1\nLe repos hebdomadaire est de vingt-quatre heures.\n".encode())
    add("b_bombe.png", png_bomb(60_000, 60_000))
    add("c_vide.jpg", b"")
    add("d_annuaire.pdf", blank_pages_pdf(3000))
    frames = [Image.new("L", (16, 16), 255) for _ in range(500)]
    tiff = io.BytesIO()
    frames[0].save(tiff, format="TIFF", save_all=True, append_images=frames[1:])
    add("e_500_pages.tif", tiff.getvalue())
    add("f_pages_blanches.pdf", blank_pages_pdf(2, size=800))
    add("g_faux.png", b"%PDF-1.4 not an image")
    add("h_tronquee.jpg", _truncated_jpeg())
    add("i_accord.md", "# Accord\n### Article 1\nLa prime d'ancienneté est de 5 %.\n".encode())
    started = time.monotonic()
    results = {r.source: r for r in engine.index.index_paths(files)}
    assert time.monotonic() - started < 120
    assert {s for s, r in results.items() if r.status == "indexed"} == {"a_loi.md", "i_accord.md"}
    expected = {
        "b_bombe.png": "image_bomb", "c_vide.jpg": "empty", "d_annuaire.pdf": "too_many_pages", "e_500_pages.tif": "ocr_too_many_pages",
        "f_pages_blanches.pdf": "ocr_empty", "g_faux.png": "not_image", "h_tronquee.jpg": "corrupt_image",
    }
    assert {s: results[s].code for s in expected} == expected
    for source in expected:
        assert french(results[source].message), results[source].message
    assert "60000 × 60000" in results["b_bombe.png"].message and "3000 pages" in results["d_annuaire.pdf"].message
    assert {d.source for d in engine.index.documents()} == {"a_loi.md", "i_accord.md"}
    assert engine.index.count() == sum(d.chunks for d in engine.index.documents())
    # the OCR page cap (a setting), checked before any page is read
    capped = tmp_path / "trois_pages.pdf"
    capped.write_bytes(blank_pages_pdf(3, size=800))
    settings.ocr_max_pages = 2
    [result] = engine.index.index_paths([capped])
    assert result.code == "ocr_too_many_pages" and "3 pages" in result.message and "2 pages" in result.message


def _truncated_jpeg() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (1200, 900), 200).save(buffer, format="JPEG")
    return buffer.getvalue()[: 400]


def test_a_page_over_its_ocr_budget_stops_that_file_only(engine, settings, tmp_path):
    need_ocr()
    need_shared(CODE_FR)
    scan = tmp_path / "lent.pdf"
    scan.write_bytes(scanned_pdf(CODE_FR, 60, 60))
    law = tmp_path / "loi.md"
    law.write_text("# Loi\n### Article 1\nLe repos hebdomadaire est de vingt-quatre heures.\n", encoding="utf-8")
    settings.ocr_page_timeout_s = 0.5
    started = time.monotonic()
    results = {r.source: r for r in engine.index.index_paths([scan, law])}
    assert time.monotonic() - started < 30
    assert results["lent.pdf"].code == "ocr_timeout" and "page 1" in results["lent.pdf"].message and french(results["lent.pdf"].message)
    assert results["loi.md"].status == "indexed"
    assert {d.source for d in engine.index.documents()} == {"loi.md"}


KILL_CHILD = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {root!r})
    from pathlib import Path
    from rag.index import Index
    from rag.settings import Settings
    from tests.conftest import HashEmbeddings

    settings = Settings(store_dir=Path({store!r}), corpus_dirs=[], _env_file=None)
    index = Index(settings, HashEmbeddings())
    print("ready", flush=True)
    index.index_paths([Path({scan!r})], progress=lambda fraction, message: print(message, flush=True))
    print("done", flush=True)
    """
)


def descendants(pid: int) -> set[int]:
    out: set[int] = set()
    todo = [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in out:
                    out.add(child)
                    todo.append(child)
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
def test_kill_minus_9_during_ocr_leaves_the_store_consistent(tmp_path):
    need_ocr()
    need_shared(CODE_FR)
    store = tmp_path / "store"
    law = tmp_path / "loi.md"
    law.write_text("# Loi\n### Article 1\nLe repos hebdomadaire est de vingt-quatre heures.\n", encoding="utf-8")
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(scanned_pdf(CODE_FR, 60, 61))
    settings = Settings(store_dir=store, corpus_dirs=[], _env_file=None)
    index = Index(settings, HashEmbeddings())
    assert index.index_paths([law], isolated=False)[0].status == "indexed"
    index.close()

    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    proc = subprocess.Popen([sys.executable, "-c", KILL_CHILD.format(root=str(PROJECT_ROOT), store=str(store), scan=str(scan))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        for line in proc.stdout:
            if "OCR page 1" in line or "done" in line:
                break
        assert "OCR page 1" in line, line
        time.sleep(1.0)  # in the middle of Tesseract's work on page 1
        helpers = descendants(proc.pid)
        assert helpers  # the parser child, and its tesseract or pdftoppm
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    deadline = time.monotonic() + 60
    while any(alive(pid) for pid in helpers) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not any(alive(pid) for pid in helpers)  # no OCR left running for an app that is gone

    index = Index(settings, HashEmbeddings())  # opens at once: no stale lock, nothing half-written
    try:
        assert {d.source for d in index.documents()} == {"loi.md"}
        assert index.count() == index.manifest.records["loi.md"].chunks
        result = index.index_paths([scan])[0]
        assert result.status == "indexed", result.message
        assert articles_in_order(index, "scan.pdf") == text_layer_articles(CODE_FR, 60, 61)
        assert index.count() == sum(d.chunks for d in index.documents())
    finally:
        index.close()
