"""OCR benchmark: scans made from the official PDFs, read back by Ittifaq's OCR, scored against the
PDFs' own text layer.

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

    .venv/bin/python benchmarks/bench_ocr.py [--corpus DIR] [--scan-dpi 200]
"""

from __future__ import annotations

import argparse
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=PROJECT_ROOT.parent / "shared" / "corpus")
    parser.add_argument("--scan-dpi", type=int, default=200, help="resolution of the simulated scans")
    args = parser.parse_args()
    status = ocr_status()
    if not status.available:
        print(status.message)
        return 1
    import pypdf

    options = OcrOptions()
    print(f"# OCR benchmark — {status.version}, languages {'+'.join(status.languages)}, scans at {args.scan_dpi} dpi, "
          f"OCR at {options.dpi} dpi, {platform.processor() or platform.machine()}")
    print()
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
