"""OCR benchmark: scans read back by Ittifaq's own loader (rag.ingest.load_bytes, default OCR settings
but a 600 s page budget), in three parts:

1. Arabic against a text known exactly (``--arabic report``, the default; ``tune`` for the pages used
   to choose settings): pages of the Arabic Labour Code (text layer in logical order, NFKC, split and
   glued words repaired with the code's own vocabulary) typeset right to left by Pillow + raqm
   (HarfBuzz shaping) in a system Arabic font, then tilted, blurred, grained, resampled to
   ``--scan-dpi`` and JPEG-compressed like a scan, rebuilt into an image-only PDF. Both sides are
   normalised the same way (:func:`normalise_ar`) before the CER.
2. The real SMIG decree page 2 rendered as a scan, against a reference typed by hand from the page
   (``--decree``).
3. ``--layer``: the official pages scored against their own text layer (below), and ``--twenty``:
   a 20-page French scan indexed from scratch with the real embedder.

Part 3, against the text layer:

For each set of pages (default: 5 pages of the French Labour Code spread over the book, and the 3
pages of the Arabic SMIG decree 2.25.983), the pages are rendered by pdftoppm at ``--scan-dpi``
(grey, like a scanner), rebuilt into an image-only PDF with img2pdf, and loaded by
:func:`rag.ingest.load_bytes` with the default OCR settings (rendered again at ``ocr_dpi``,
Tesseract ``ara+fra`` then ``ara`` for Arabic pages). Printed, per page and per set:

- CER: character error rate, plain edit distance / reference length, after whitespace
  normalisation, against the text layer of the same page (pypdf, footers removed). The text layer
  is not perfect ground truth: pypdf swaps some Arabic words, and the page banner of the official
  PDFs is an image (OCR reads it, the text layer has no such line), so the CER is an upper bound;
- CER (letters): the same on letters and digits only, Arabic letter variants (أإآ→ا, ى→ي, ة→ه)
  unified: the errors that can change a search or a figure;
- headings: share of the article headings of the text layer that the OCR text gives, and whether
  they come in the same order;
- seconds per page (rendering + OCR, the parser as the app runs it, but in this process);
- mean word confidence and the language picked per page.

Usage (from the project root)::

    .venv/bin/python benchmarks/bench_ocr.py [--corpus DIR] [--scan-dpi 200] [--arabic tune|report|none]
        [--no-decree] [--no-layer] [--twenty] [--ocr-dpi N] [--languages ara] [--noise-rows]
"""

from __future__ import annotations

import argparse
import io
import platform
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from rag.ingest import LoadedDocument, Page, clean_pdf_page, load_bytes  # noqa: E402
import rag.ocr  # noqa: E402
from rag.ocr import OcrOptions, ocr_status  # noqa: E402
from rag.structure import parse_units  # noqa: E402

SETS = [
    ("ma_code_travail_fr_2011.pdf", [20, 60, 100, 140, 180]),
    ("ma_decret_2-25-983_smig_2026_ar.pdf", [1, 2, 3]),
]
_ARABIC_VARIANTS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي", "ة": "ه", "\u0640": None})


def edit_distance(a: str, b: str) -> int:
    try:
        from rapidfuzz.distance import Levenshtein

        return Levenshtein.distance(a, b)
    except ImportError:
        pass
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def spaces(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def letters(text: str) -> str:
    text = unicodedata.normalize("NFC", text).translate(_ARABIC_VARIANTS)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "M")  # Arabic vowel marks
    return "".join(ch for ch in text if ch.isalnum())


def cer(reference: str, hypothesis: str) -> float:
    return edit_distance(reference, hypothesis) / max(1, len(reference))


def articles(pages: list[Page], name: str) -> list[str]:
    doc = LoadedDocument(path="", source=name, sha256="0" * 64, format="pdf", title=name, kind="law", lang="", pages=pages)
    return [u.article for u in parse_units(doc) if u.article]


def scan(pdf: Path, numbers: list[int], dpi: int) -> bytes:
    import img2pdf

    images = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in numbers:
            subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", "-f", str(n), "-l", str(n), "-singlefile", str(pdf), f"{tmp}/p{n}"],
                           check=True, timeout=120)
            images.append(Path(f"{tmp}/p{n}.png").read_bytes())
    return img2pdf.convert(images)


# --------------------------------------------------------------------------------------------
# Arabic against a reference known exactly: real article text typeset into page images

MUDAWWANA_AR = "ma_mudawwana_shughl_ar_2021.pdf"
# pages of the Arabic Labour Code used to choose settings, and the other pages reported
AR_TUNE_PAGES = [31, 60, 120]
AR_REPORT_PAGES = [12, 45, 88, 101, 140]
_HEADING = re.compile(r"^(?:المادة \d+|(?:الكتاب|الباب|القسم|الفرع|الجزء)\b.{0,80})$")
_AR_WORD = re.compile(r"[\u0621-\u064A]+")
_MARKS = re.compile(r"[\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED\u0640\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")


def normalise_ar(text: str) -> str:
    """Both sides of the Arabic CER: NFKC (presentation forms → letters), tatweel, vowel marks and
    direction marks removed, whitespace collapsed. Letters, digits and punctuation otherwise kept."""
    return re.sub(r"\s+", " ", _MARKS.sub("", unicodedata.normalize("NFKC", text))).strip()


def arabic_font() -> Path | None:
    """A regular (not mono, not bold) font with Arabic glyphs, as fontconfig lists them."""
    try:
        out = subprocess.run(["fc-list", ":lang=ar", "file", "style"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    files = sorted(line.split(":")[0] for line in out.splitlines()
                   if ("Book" in line or "Regular" in line) and "Mono" not in line and "Condensed" not in line)
    return Path(files[0]) if files else None


def code_vocabulary(reader) -> dict[str, int]:
    counts: dict[str, int] = {}
    for page in reader.pages:
        for word in _AR_WORD.findall(unicodedata.normalize("NFKC", page.extract_text() or "")):
            counts[word] = counts.get(word, 0) + 1
    return counts


def repair_layer_words(line: str, vocabulary: dict[str, int]) -> str:
    """The code's text layer splits some words ("مخ تلف", "ال مصالح") and glues others
    ("بعدالمدة"); join or split only where the whole code says which form is a word."""
    def freq(word: str) -> int:
        return vocabulary.get(word, 0)

    words = line.split()
    out: list[str] = []
    for word in words:
        if out and _AR_WORD.fullmatch(out[-1]) and _AR_WORD.fullmatch(word):
            joined = out[-1] + word
            if freq(joined) >= 3 and (min(len(out[-1]), len(word)) <= 2 or freq(out[-1]) < 3 or freq(word) < 3):
                out[-1] = joined
                continue
        out.append(word)
    fixed: list[str] = []
    for word in out:
        if _AR_WORD.fullmatch(word) and freq(word) <= 1 and len(word) >= 6:
            cuts = [(freq(word[:i]) * freq(word[i:]), i) for i in range(3, len(word) - 2) if freq(word[:i]) >= 5 and freq(word[i:]) >= 5]
            if cuts:
                i = max(cuts)[1]
                fixed.extend([word[:i], word[i:]])
                continue
        fixed.append(word)
    line = " ".join(fixed)
    line = re.sub(r"(?<=[\u0621-\u064A])(?=\d)|(?<=\d)(?=[\u0621-\u064A])", " ", line)  # "رقم65.99" → "رقم 65.99"
    line = re.sub(r"\(\s+", "(", re.sub(r"\s+\)", ")", line))
    return re.sub(r"(?<=[\u0621-\u064A])\s+([،؛:])", r"\1", line)


def code_blocks(reader, number: int, vocabulary: dict[str, int]) -> list[tuple[str, str]]:
    """A page of the Arabic code as (kind, text) blocks, kind "heading" or "paragraph"."""
    raw = clean_pdf_page(unicodedata.normalize("NFKC", reader.pages[number - 1].extract_text() or ""))
    blocks: list[tuple[str, str]] = []
    paragraph: list[str] = []
    for line in raw.split("\n"):
        line = repair_layer_words(line.strip(), vocabulary)
        if not line:
            continue
        if _HEADING.match(line):
            if paragraph:
                blocks.append(("paragraph", " ".join(paragraph)))
                paragraph = []
            blocks.append(("heading", line))
            continue
        paragraph.append(line)
        if line.endswith((".", ":", "؛")):
            blocks.append(("paragraph", " ".join(paragraph)))
            paragraph = []
    if paragraph:
        blocks.append(("paragraph", " ".join(paragraph)))
    return blocks


def typeset_arabic(blocks: list[tuple[str, str]], font: Path, dpi: int = 300, size_pt: float = 13) -> list[tuple["Image.Image", str]]:
    """A4 pages (grey image, text in logical order) with the blocks set right to left by Pillow's
    raqm layout (HarfBuzz shaping, FriBidi ordering): headings bold when the font has a bold face,
    paragraphs wrapped between 2.2 cm margins. A block that does not fit starts the next page."""
    from PIL import Image, ImageDraw, ImageFont, features

    if not features.check("raqm"):
        raise RuntimeError("Pillow is built without raqm: Arabic cannot be shaped")
    size = round(size_pt / 72 * dpi)
    regular = ImageFont.truetype(str(font), size, layout_engine=ImageFont.Layout.RAQM)
    bold_path = font.with_name(font.stem + "-Bold" + font.suffix)
    bold = ImageFont.truetype(str(bold_path), size, layout_engine=ImageFont.Layout.RAQM) if bold_path.exists() else regular
    width, height = round(8.27 * dpi), round(11.69 * dpi)
    margin = round(2.2 / 2.54 * dpi)
    leading = round(size * 1.7)
    pages: list[tuple[Image.Image, str]] = []

    def new_page():
        image = Image.new("L", (width, height), 255)
        return image, ImageDraw.Draw(image), margin, []

    image, draw, y, lines = new_page()
    for kind, text in blocks:
        font_ = bold if kind == "heading" else regular
        wrapped: list[str] = []
        current: list[str] = []
        for word in text.split():
            trial = " ".join(current + [word])
            if current and draw.textlength(trial, font=font_, direction="rtl", language="ar") > width - 2 * margin:
                wrapped.append(" ".join(current))
                current = [word]
            else:
                current.append(word)
        if current:
            wrapped.append(" ".join(current))
        needed = leading * len(wrapped) + (leading // 2)
        if lines and y + needed > height - margin:
            pages.append((image, "\n".join(lines)))
            image, draw, y, lines = new_page()
        for line in wrapped:
            draw.text((width - margin, y), line, font=font_, fill=0, anchor="ra", direction="rtl", language="ar")
            lines.append(line)
            y += leading
        y += leading // 2
    if lines:
        pages.append((image, "\n".join(lines)))
    return pages


def scan_like(image, seed: int, dpi_in: int = 300, dpi_out: int = 200, quality: int = 60) -> bytes:
    """What a desk scanner makes of a printed page: a slight tilt (±0.4–1.2°), ink spread (blur),
    paper grain (uniform noise ±25 grey levels), resampled to ``dpi_out``, JPEG-compressed at
    ``quality``; the same ``seed`` gives the same bytes."""
    import random

    from PIL import Image, ImageChops, ImageFilter

    rng = random.Random(seed)
    angle = rng.choice([-1, 1]) * rng.uniform(0.4, 1.2)
    page = image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
    page = page.filter(ImageFilter.GaussianBlur(0.7))
    page = page.point(lambda v: 25 + v * 0.9)  # grey ink on off-white paper
    grain = Image.frombytes("L", page.size, rng.randbytes(page.size[0] * page.size[1]))  # seeded: the same scan every run
    page = ImageChops.add(page, grain.point(lambda v: 128 + round((v - 128) * 0.2)), 1.0, -128)  # ±25 grey levels
    if dpi_out != dpi_in:
        page = page.resize((round(page.size[0] * dpi_out / dpi_in), round(page.size[1] * dpi_out / dpi_in)), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    page.save(out, format="JPEG", quality=quality, dpi=(dpi_out, dpi_out))
    return out.getvalue()


def arabic_known_text(corpus: Path, numbers: list[int], size_pt: float, scan_dpi: int) -> list[tuple[str, int, str, object]]:
    """(label, seed, reference, image) for the typeset pages of the code's pages ``numbers``."""
    import pypdf

    font = arabic_font()
    if font is None:
        raise SystemExit("no font with Arabic glyphs (fc-list :lang=ar is empty): install fonts-dejavu-core")
    reader = pypdf.PdfReader(str(corpus / MUDAWWANA_AR))
    vocabulary = code_vocabulary(reader)
    out = []
    for number in numbers:
        for part, (image, reference) in enumerate(typeset_arabic(code_blocks(reader, number, vocabulary), font, size_pt=size_pt)):
            out.append((f"{number}{chr(97 + part)}", number * 10 + part, reference, image))
    return out


def run_arabic_known(args, options: "OcrOptions") -> None:
    """Typeset code pages → scan-like JPEG pages → image-only PDF → the app's loader; CER per page."""
    import img2pdf

    numbers = AR_TUNE_PAGES if args.arabic == "tune" else AR_REPORT_PAGES
    pages = arabic_known_text(args.corpus, numbers, args.size_pt, args.scan_dpi)
    scans = [scan_like(image, seed, dpi_out=args.scan_dpi) for _, seed, _, image in pages]
    started = time.perf_counter()
    doc = load_bytes(img2pdf.convert(scans), "scan_ar_known.pdf", ocr=options)
    per_page = (time.perf_counter() - started) / len(pages)
    print(f"## Arabic, known text ({args.arabic} pages {numbers} of {MUDAWWANA_AR}, font {arabic_font().name} {args.size_pt:g} pt, "
          f"scans at {args.scan_dpi} dpi JPEG q60, OCR {options.languages} at {options.dpi} dpi, Arabic pass {rag.ocr.ARABIC_ROWS})")
    print()
    print("| page | lang | confidence | chars | CER | CER (letters) | reference lines missing |")
    print("|---|---|---:|---:|---:|---:|---:|")
    errors = chars = letter_errors = letter_chars = 0
    for (label, _, reference, _), page in zip(pages, doc.pages):
        a, b = normalise_ar(reference), normalise_ar(page.text)
        la, lb = letters(reference), letters(page.text)
        e, le = edit_distance(a, b), edit_distance(la, lb)
        errors, chars, letter_errors, letter_chars = errors + e, chars + len(a), letter_errors + le, letter_chars + len(la)
        missing = sum(1 for line in reference.split("\n") if not _line_in(normalise_ar(line), b))
        print(f"| {label} | {page.ocr} | {page.confidence} | {len(a)} | {e / max(1, len(a)):.3f} | {le / max(1, len(la)):.3f} | {missing} |")
    print()
    print(f"**all {len(pages)} pages: CER {errors / max(1, chars):.3f}, letters only {letter_errors / max(1, letter_chars):.3f}, "
          f"{per_page:.1f} s/page**")
    print()


def _line_in(line: str, text: str) -> bool:
    """Whether a reference line comes out, give or take 30 % of its characters (fuzzy substring)."""
    try:
        from rapidfuzz import fuzz

        return fuzz.partial_ratio(line, text) >= 70
    except ImportError:
        return line in text


# Page 2 of the official SMIG decree 2.25.983, typed by hand from the page image (checked word by word
# against it; the text layer has swapped segments there). Everything printed on the page is here,
# reading order, except the page number "-2-" (the OCR drops page numbers on purpose).
DECREE_AR = "ma_decret_2-25-983_smig_2026_ar.pdf"
DECREE_PAGE2_BANNER = "المملكة المغربية وزارة العدل مديرية التشريع والدراسات"
DECREE_PAGE2 = """مرسوم رقم 2.25.983 صادر في 8 رجب 1447
(29 ديسمبر 2025) بتحديد مبلغ الحد الأدنى القانوني للأجر
في النشاطات الفلاحية وغير الفلاحية.1
رئيس الحكومة،
بناء على المرسوم رقم 2.08.374 الصادر في 5 رجب 1429 (9 يوليو 2008) بتطبيق
المادة 356 من القانون رقم 65.99 المتعلق بمدونة الشغل؛
وبعد استشارة المنظمات المهنية للمشغلين والمنظمات النقابية للأجراء الأكثر تمثيلا؛
وبعد المداولة في مجلس الحكومة المنعقد بتاريخ 27 من جمادى الآخرة 1447
(18 ديسمبر 2025)،
رسم ما يلي:
المادة الأولى
ابتداء من فاتح يناير 2026، يحدد في سبعة عشر درهما واثنان وتسعون سنتيما
(17,92 درهما)، مبلغ الحد الأدنى القانوني للأجر المؤدى للأجراء عن ساعة الشغل في
النشاطات غير الفلاحية.
المادة الثانية
ابتداء من فاتح أبريل 2026، يحدد في سبعة وتسعين درهما وأربعة وأربعين سنتيما
(97,44 درهما)، مبلغ الحد الأدنى القانوني للأجر المؤدى للأجراء عن يوم شغل في النشاطات
الفلاحية.
1 - الجريدة الرسمية عدد 7469 بتاريخ 8 رجب 1447 (29 ديسمبر 2025)، ص 10038."""


def run_decree_page(args, options: "OcrOptions") -> None:
    """The real decree page 2, rendered as a scan, against the hand-typed reference above."""
    import pypdf

    pdf = args.corpus / DECREE_AR
    data = scan(pdf, [2], args.scan_dpi)
    started = time.perf_counter()
    [page] = load_bytes(data, "scan_decret.pdf", ocr=options).pages
    seconds = time.perf_counter() - started
    layer = clean_pdf_page(pypdf.PdfReader(str(pdf)).pages[1].extract_text() or "")
    whole = normalise_ar(DECREE_PAGE2_BANNER + "\n" + DECREE_PAGE2)
    body = normalise_ar(DECREE_PAGE2)
    ocr = normalise_ar(page.text)
    start = ocr.find("مرسوم")
    ocr_body = ocr[start:] if start >= 0 else ocr
    print(f"## Real page: {DECREE_AR} p. 2 rendered at {args.scan_dpi} dpi, hand-typed reference "
          f"(lang {page.ocr}, confidence {page.confidence}, {seconds:.1f} s)")
    print()
    print("| reference | chars | CER | CER (letters) |")
    print("|---|---:|---:|---:|")
    print(f"| whole page, banner included | {len(whole)} | {cer(whole, ocr):.3f} | {cer(letters(whole), letters(ocr)):.3f} |")
    print(f"| body (banner left out on both sides) | {len(body)} | {cer(body, ocr_body):.3f} | {cer(letters(body), letters(ocr_body)):.3f} |")
    print(f"| the page's pypdf text layer, as the OCR would be scored against it | {len(normalise_ar(layer))} | "
          f"{cer(normalise_ar(layer), ocr_body):.3f} | {cer(letters(layer), letters(ocr_body)):.3f} |")
    print(f"| (pypdf text layer itself against the hand-typed body) | | {cer(body, normalise_ar(layer)):.3f} | "
          f"{cer(letters(body), letters(layer)):.3f} |")
    print()
    if args.show:
        print(page.text)


def run_twenty(args) -> None:
    """A 20-page scan (French code p. 20–39 at ``--scan-dpi``) indexed from scratch as the app does it:
    isolated parser child, OCR, structure, packaged E5 embedder, a fresh store."""
    import os

    from rag.engine import build_engine
    from rag.settings import Settings

    data = scan(args.corpus / "ma_code_travail_fr_2011.pdf", list(range(20, 40)), args.scan_dpi)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "code_travail_20_pages_scannees.pdf"
        path.write_bytes(data)
        engine = build_engine(Settings(store_dir=Path(tmp) / "store", corpus_dirs=[], _env_file=None))
        load = os.getloadavg()[0]
        started = time.perf_counter()
        [result] = engine.index.index_paths([path])
        seconds = time.perf_counter() - started
        print(f"## 20-page scan indexed: {result.status}, {result.chunks} passages, {result.articles} articles, "
              f"{seconds:.0f} s ({seconds / 20:.1f} s/page; target 180 s), load average {load:.1f} → {os.getloadavg()[0]:.1f}")
        print()
        engine.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=PROJECT_ROOT.parent / "shared" / "corpus")
    parser.add_argument("--scan-dpi", type=int, default=200, help="resolution of the simulated scans")
    parser.add_argument("--layer", action=argparse.BooleanOptionalAction, default=True,
                        help="score the official pages against their own text layer (French code, SMIG decree)")
    parser.add_argument("--arabic", choices=["tune", "report", "none"], default="report",
                        help="Arabic code pages typeset into scans, scored against the known text: the pages used to choose "
                             "settings (tune) or the other pages (report)")
    parser.add_argument("--size-pt", type=float, default=12, help="type size of the typeset Arabic pages")
    parser.add_argument("--ocr-dpi", type=int, help="override the ocr_dpi setting")
    parser.add_argument("--languages", help="override the ocr_languages setting (ara+fra)")
    parser.add_argument("--noise-rows", action="store_true",
                        help="let Tesseract reject 'noise' rows in the Arabic pass too (its default; the app turns it off)")
    parser.add_argument("--decree", action=argparse.BooleanOptionalAction, default=True,
                        help="score the real decree page 2 against its hand-typed reference")
    parser.add_argument("--show", action="store_true", help="print the OCR text of the decree page")
    parser.add_argument("--page-timeout", type=float, default=600, help="seconds allowed per page (the app's default is 60)")
    parser.add_argument("--twenty", action="store_true", help="also time indexing a 20-page scan with the real embedder")
    args = parser.parse_args()
    status = ocr_status()
    if not status.available:
        print(status.message)
        return 1
    import pypdf

    default = OcrOptions()
    if args.noise_rows:
        rag.ocr.ARABIC_ROWS = "textord_noise_rejrows=1"
    # a longer page budget than the app's 60 s: a measurement must not stop on a loaded machine
    options = OcrOptions(dpi=args.ocr_dpi or default.dpi, languages=args.languages or default.languages, page_timeout_s=args.page_timeout)
    print(f"# OCR benchmark — {status.version}, languages {'+'.join(status.languages)}, scans at {args.scan_dpi} dpi, "
          f"OCR at {options.dpi} dpi, {platform.processor() or platform.machine()}")
    print()
    if args.decree:
        run_decree_page(args, options)
    if args.arabic != "none":
        run_arabic_known(args, options)
    if args.twenty:
        run_twenty(args)
    if not args.layer:
        return 0
    print("| text | page | lang | confidence | CER | CER (letters) | s |")
    print("|---|---:|---|---:|---:|---:|---:|")
    summary = []
    for name, numbers in SETS:
        pdf = args.corpus / name
        if not pdf.exists():
            print(f"| {name} | missing | | | | | |")
            continue
        reader = pypdf.PdfReader(str(pdf))
        reference = [Page(n, clean_pdf_page(reader.pages[n - 1].extract_text() or "")) for n in numbers]
        data = scan(pdf, numbers, args.scan_dpi)
        started = time.perf_counter()
        doc = load_bytes(data, f"scan_{name}", ocr=options)
        seconds = time.perf_counter() - started
        per_page = seconds / len(numbers)
        ref_all, ocr_all, ref_letters, ocr_letters = [], [], [], []
        for ref, page, number in zip(reference, doc.pages, numbers):
            a, b = spaces(ref.text), spaces(page.text)
            la, lb = letters(ref.text), letters(page.text)
            ref_all.append(a), ocr_all.append(b), ref_letters.append(la), ocr_letters.append(lb)
            print(f"| {name} | {number} | {page.ocr} | {page.confidence} | {cer(a, b):.3f} | {cer(la, lb):.3f} | {per_page:.1f} |")
        expected = articles(reference, name)
        found = articles([Page(n, p.text, ocr=p.ocr) for n, p in zip(numbers, doc.pages)], name)
        hit = sum(1 for a in expected if a in found)
        in_order = [a for a in found if a in expected] == expected
        chars = sum(len(a) for a in ref_all)
        total_cer = sum(edit_distance(a, b) for a, b in zip(ref_all, ocr_all)) / max(1, chars)
        total_letters = sum(edit_distance(a, b) for a, b in zip(ref_letters, ocr_letters)) / max(1, sum(len(a) for a in ref_letters))
        summary.append((name, len(numbers), total_cer, total_letters, hit, len(expected), in_order, per_page))
    print()
    print("| text | pages | CER | CER (letters) | article headings found | in order | s/page |")
    print("|---|---:|---:|---:|---:|---|---:|")
    for name, pages, total_cer, total_letters, hit, expected, in_order, per_page in summary:
        share = 100 * hit / expected if expected else 100.0
        print(f"| {name} | {pages} | {total_cer:.3f} | {total_letters:.3f} | {hit}/{expected} ({share:.0f} %) | {'yes' if in_order else 'no'} | {per_page:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
