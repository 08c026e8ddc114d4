"""Offline OCR of scanned PDF pages and photos (Tesseract 5, Arabic and French).

Everything here runs inside the parser child of :mod:`rag.ingest` (time limit, memory cap): the
page is rendered by ``pdftoppm`` and read by the ``tesseract`` command, each a separate process
that inherits the memory cap, has its own time limit and dies with the child.

Per page: a first pass with every configured language (``ara+fra``) says which script the page is
written in; a page that is (almost) all Arabic is read again with ``ara`` alone, because the mixed
model turns Arabic commas into digits ("2026،" → "62026") and mirrors parentheses; that pass keeps
the Arabic lines Tesseract would drop as noise (:data:`ARABIC_ROWS`). Words come from
Tesseract's TSV output in reading order (Arabic in logical order), so the recognised text is
indexed as such: a PDF text layer made by OCR is never re-extracted. Each page keeps its mean word
confidence; below ``min_confidence`` it is marked « lecture incertaine ».
"""

from __future__ import annotations

import ctypes
import io
import logging
import math
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import time
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rag.ingest import IngestError, Page, clean_pdf_page
from rag.settings import Settings

log = logging.getLogger(__name__)

INSTALL_HINT = "sudo apt-get install tesseract-ocr tesseract-ocr-ara tesseract-ocr-fra"
RENDER_HINT = "sudo apt-get install poppler-utils"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}
UNCERTAIN = "lecture incertaine"  # the excerpts' own notice is rag.structure.UNCERTAIN_NOTICE

Progress = Callable[[float, str], None]


def _default(name: str):
    return Settings.model_fields[name].default


@dataclass(frozen=True)
class OcrOptions:
    """What the parser child needs to know about OCR (picklable; built from :class:`Settings`)."""

    enabled: bool = _default("ocr_enabled")
    languages: str = _default("ocr_languages")
    dpi: int = _default("ocr_dpi")
    min_confidence: float = _default("ocr_min_confidence")
    max_pages: int = _default("ocr_max_pages")
    page_timeout_s: float = _default("ocr_page_timeout_s")
    max_image_pixels: int = _default("max_image_pixels")
    tesseract_cmd: str = _default("tesseract_cmd")

    @classmethod
    def from_settings(cls, settings: Settings) -> "OcrOptions":
        return cls(
            enabled=settings.ocr_enabled, languages=settings.ocr_languages, dpi=settings.ocr_dpi,
            min_confidence=settings.ocr_min_confidence, max_pages=settings.ocr_max_pages,
            page_timeout_s=settings.ocr_page_timeout_s, max_image_pixels=settings.max_image_pixels,
            tesseract_cmd=settings.tesseract_cmd,
        )


@dataclass
class OcrStatus:
    """Whether scans can be read on this machine (for `rag doctor`, the Corpus tab, refusals)."""

    available: bool  # tesseract runs and knows at least one of the wanted languages
    version: str = ""
    languages: list[str] = field(default_factory=list)  # wanted languages that are installed
    missing: list[str] = field(default_factory=list)  # wanted languages that are not
    renderer: bool = False  # pdftoppm, needed for scanned PDFs (not for photos)
    message: str = ""


def ocr_status(options: OcrOptions | Settings | None = None) -> OcrStatus:
    """Is OCR available here, with which of the configured languages? Never raises."""
    if isinstance(options, Settings):
        options = OcrOptions.from_settings(options)
    options = options or OcrOptions()
    wanted = [lang for lang in options.languages.split("+") if lang]
    renderer = shutil.which("pdftoppm") is not None
    if not options.enabled:
        return OcrStatus(False, renderer=renderer, missing=wanted, message="OCR désactivée (réglage RAG_OCR_ENABLED).")
    exe = shutil.which(options.tesseract_cmd)
    if exe is None:
        return OcrStatus(False, renderer=renderer, missing=wanted,
                         message=f"OCR absente : Tesseract n'est pas installé. Pour lire les textes scannés : {INSTALL_HINT}")
    try:
        version = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=20).stdout.split("\n")[0].strip()
        listed = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=20).stdout.split("\n")[1:]
    except (OSError, subprocess.SubprocessError) as exc:
        return OcrStatus(False, renderer=renderer, missing=wanted, message=f"OCR inutilisable : Tesseract ne répond pas ({exc}). Réinstallez-le : {INSTALL_HINT}")
    installed = {line.strip() for line in listed if line.strip()}
    have = [lang for lang in wanted if lang in installed]
    missing = [lang for lang in wanted if lang not in installed]
    if not have:
        return OcrStatus(False, version, [], missing, renderer,
                         f"OCR absente : Tesseract n'a ni l'arabe ni le français. Installez-les : {INSTALL_HINT}")
    message = f"OCR disponible ({version}, langues : {'+'.join(have)})"
    if missing:
        message += f" ; langue(s) manquante(s) : {', '.join(missing)} ({INSTALL_HINT})"
    if not renderer:
        message += f" ; PDF scannés illisibles sans pdftoppm ({RENDER_HINT})"
    return OcrStatus(True, version, have, missing, renderer, message + ".")


def uncertain_label(pages: list[int]) -> str:
    """« p. 4, 7 : lecture incertaine » (empty when every page read well)."""
    return f"p. {', '.join(str(p) for p in pages)} : {UNCERTAIN}" if pages else ""


# --------------------------------------------------------------------------------------------
# which PDF pages need OCR

_CID = re.compile(r"\(cid:\d+\)")
_ARABIC_LETTER = re.compile(r"[\u0620-\u064A\u066E-\u06D3\uFB50-\uFDFF\uFE70-\uFEFC]")
_LATIN_LETTER = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ]")


def text_layer_usable(text: str) -> bool:
    """A text layer worth keeping: some letters, mostly letters, not font-encoding garbage.

    Garbage layers come from PDFs whose fonts have no Unicode map: "(cid:123)" runs, private-use
    characters, replacement characters, or symbols where letters should be; and from scanners that
    wrote Arabic in visual order (words read backwards)."""
    chars = [c for c in _CID.sub("\ufffd", text) if not c.isspace()]
    letters = sum(c.isalpha() for c in chars)
    if letters < 20 or letters < 0.5 * len(chars):
        return False
    junk = sum(c == "\ufffd" or unicodedata.category(c) in {"Co", "Cn"} for c in chars)
    if junk > 0.05 * len(chars):
        return False
    return not arabic_reversed(text)


def arabic_reversed(text: str) -> bool:
    """Arabic written backwards (visual order): the article "ال" ends words instead of starting them."""
    words = [w for w in re.findall(r"[\u0621-\u064A]{3,}", text)]
    if len(words) < 10:
        return False
    starts = sum(w.startswith("ال") for w in words)
    ends = sum(w.endswith("لا") for w in words)
    return ends > 3 * max(starts, 1)


def page_has_images(page) -> bool:
    """Whether a pypdf page paints an image (image XObject, also inside forms, or an inline image)."""
    def scan(resources, depth: int) -> bool:
        try:
            xobjects = resources.get("/XObject") if resources else None
            xobjects = xobjects.get_object() if xobjects is not None else {}
            for ref in list(xobjects.values())[:200]:
                obj = ref.get_object()
                subtype = obj.get("/Subtype")
                if subtype == "/Image":
                    return True
                if subtype == "/Form" and depth < 3 and scan(obj.get("/Resources"), depth + 1):
                    return True
        except (AttributeError, KeyError, TypeError, ValueError):
            return False
        return False

    resources = page.get("/Resources")
    if scan(resources.get_object() if resources is not None else None, 0):
        return True
    try:
        contents = page.get_contents()
        data = contents.get_data() if contents is not None else b""
    except Exception:  # a broken content stream: pypdf already told what it could
        return False
    return re.search(rb"(?:^|\s)BI\s", data[:5_000_000]) is not None


def page_size_points(page) -> tuple[float, float]:
    box = page.mediabox
    return abs(float(box.width)), abs(float(box.height))


# --------------------------------------------------------------------------------------------
# running the commands

try:
    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux
    _PRCTL = None


def _die_with_parent() -> None:
    # a tesseract must not outlive the parser child killed by the watchdog (PR_SET_PDEATHSIG)
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGKILL)


def _run(cmd: list[str], timeout: float, what: str, budget_s: float) -> bytes:
    """Run one OCR command (its output), with ``timeout`` s left of the page's ``budget_s``."""
    env = dict(os.environ, OMP_THREAD_LIMIT="1")  # one thread per page: the machine's cores are shared
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=max(1.0, timeout), env=env, preexec_fn=_die_with_parent, check=False)
    except subprocess.TimeoutExpired as exc:
        raise IngestError("ocr_timeout", f"{what} : plus de {budget_s:g} s pour une page, document abandonné.") from exc
    except OSError as exc:
        raise IngestError("ocr_failed", f"{what} : commande {cmd[0]} impossible à lancer ({exc.strerror}).") from exc
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"code {proc.returncode}"]
        raise IngestError("ocr_failed", f"{what} : échec ({detail[0][:160]}).")
    return proc.stdout


@dataclass
class OcrPage:
    text: str
    confidence: float | None  # mean word confidence (0–100); None when no word was found
    lang: str  # ara | fra | ara+fra
    words: int


_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")
_OCR_FOOTER = re.compile(r"^\s*[-–—]\s*\d{1,4}\s*[-–—]\s*$")


def tsv_to_page(tsv: str, lang: str) -> OcrPage:
    """Words of Tesseract's TSV (reading order) → lines, paragraphs, mean confidence."""
    lines: list[str] = []
    words: list[str] = []
    confidences: list[float] = []
    key = None
    paragraph = None
    for row in tsv.split("\n")[1:]:
        cols = row.split("\t", 11)
        if len(cols) < 12 or cols[0] != "5":
            continue
        text = unicodedata.normalize("NFC", _BIDI.sub("", cols[11])).strip()
        if not text:
            continue
        try:
            conf = float(cols[10])
        except ValueError:
            conf = -1.0
        line_key = (cols[2], cols[3], cols[4])
        if line_key != key:
            if words:
                lines.append(" ".join(words))
            if paragraph is not None and line_key[:2] != paragraph:
                lines.append("")
            words, key, paragraph = [], line_key, line_key[:2]
        words.append(text)
        if conf >= 0:
            confidences.append(conf)
    if words:
        lines.append(" ".join(words))
    text = "\n".join(line for line in lines if not _OCR_FOOTER.match(line))
    text = clean_pdf_page(text)
    mean = sum(confidences) / len(confidences) if confidences else None
    return OcrPage(text, mean, lang, len(confidences))


_LATIN_COMMA_IN_ARABIC = re.compile(r"(?<=[\u0621-\u064A]),(?=\s|$)|(?<=\d),(?=\s+[\u0621-\u064A])", re.M)


def fix_arabic_commas(text: str) -> str:
    """Tesseract's Arabic model reads the Arabic comma « ، » as « » » or « , »: put back every « » »
    that closes no « « » opened before it on the same line ("يناير 2026»" → "يناير 2026،"), and
    every « , » after an Arabic word or before one ("عليها, وبعدئذ" → "عليها، وبعدئذ", "2026, يحدد"
    → "2026، يحدد"; "17,92" stays)."""
    text = _LATIN_COMMA_IN_ARABIC.sub("،", text)
    lines = []
    for line in text.split("\n"):
        out, depth = [], 0
        for ch in line:
            if ch == "«":
                depth += 1
            elif ch == "»":
                if depth:
                    depth -= 1
                else:
                    ch = "،"
            out.append(ch)
        lines.append("".join(out))
    return "\n".join(lines)


def script_share(text: str) -> float:
    """Share of Arabic letters among Arabic + Latin letters (0.5 when there are none)."""
    arabic = len(_ARABIC_LETTER.findall(text))
    latin = len(_LATIN_LETTER.findall(text))
    return arabic / (arabic + latin) if arabic + latin else 0.5


# Tesseract drops as "noise" whole Arabic lines whose blobs are small and scattered (dots, hamza,
# a final period, a date): "ابتداء من فاتح يناير 2026، يحدد …" or "وذلك حسب رتبته في لائحة الترشيح."
# vanish without a trace. Its noise-row rejection is off for the Arabic pass (measured in
# BENCHMARKS.md); French pages keep it, where it removes speckle rows of poor scans.
ARABIC_ROWS = "textord_noise_rejrows=0"


def recognise(image: Path, options: OcrOptions, languages: list[str], dpi: int, deadline: float, what: str) -> OcrPage:
    """OCR one image: all languages first, then Arabic alone for an Arabic page (see module doc)."""
    def tesseract(lang: str) -> OcrPage:
        cmd = [options.tesseract_cmd, str(image), "stdout", "-l", lang, "--psm", "3", "--dpi", str(dpi)]
        if lang == "ara":
            cmd += ["-c", ARABIC_ROWS]
        cmd.append("tsv")
        out = _run(cmd, deadline - time.monotonic(), what, options.page_timeout_s)
        page = tsv_to_page(out.decode("utf-8", "replace"), lang)
        if lang == "ara":
            page.text = fix_arabic_commas(page.text)
        return page

    first = tesseract("+".join(languages))
    if len(languages) == 1:
        return first
    share = script_share(first.text)
    if share >= 0.85 and "ara" in languages:
        return tesseract("ara")
    if share <= 0.15 and "fra" in languages:
        if share > 0.01:  # stray Arabic glyphs in a French page: read it again in French only
            return tesseract("fra")
        first.lang = "fra"
    return first


def _require(options: OcrOptions, pdf: bool) -> OcrStatus:
    status = ocr_status(options)
    if not status.available:
        what = "Ce PDF est un document scanné (sans texte)" if pdf else "Cette image doit être lue par OCR"
        if not options.enabled:
            raise IngestError("needs_ocr", f"{what} et l'OCR est désactivée sur ce poste (réglage RAG_OCR_ENABLED).")
        raise IngestError("needs_ocr", f"{what}, mais l'OCR n'est pas installée sur ce poste. Installez-la : {INSTALL_HINT}"
                          + (" poppler-utils" if pdf else ""))
    if pdf and not status.renderer:
        raise IngestError("needs_ocr", f"Ce PDF est un document scanné : pour le lire, installez pdftoppm ({RENDER_HINT}).")
    return status


def _to_page(number: int, result: OcrPage, options: OcrOptions) -> Page:
    uncertain = result.confidence is not None and result.confidence < options.min_confidence
    confidence = round(result.confidence, 1) if result.confidence is not None else None
    return Page(number, result.text, ocr=result.lang, confidence=confidence, uncertain=uncertain)


# --------------------------------------------------------------------------------------------
# PDF pages


def ocr_pdf_pages(data: bytes, pages: list[Page], scanned: dict[int, tuple[float, float]], options: OcrOptions,
                  progress: Progress | None = None) -> list[Page]:
    """Replace the pages numbered in ``scanned`` (number → size in points) by their OCR text."""
    if len(scanned) > options.max_pages:
        raise IngestError("ocr_too_many_pages", f"Document scanné de {len(scanned)} pages à lire : l'OCR est limitée à "
                          f"{options.max_pages} pages par fichier. Découpez-le en plusieurs fichiers.")
    status = _require(options, pdf=True)
    languages = status.languages
    out = list(pages)
    with tempfile.TemporaryDirectory(prefix="ittifaq-ocr-") as tmp:
        pdf = Path(tmp) / "scan.pdf"
        pdf.write_bytes(data)
        for done, (number, (width, height)) in enumerate(sorted(scanned.items())):
            if progress:
                progress(done / len(scanned), f"OCR page {number} ({done + 1}/{len(scanned)})")
            deadline = time.monotonic() + options.page_timeout_s * 0.9
            what = f"OCR de la page {number}"
            area = max(width, 1.0) * max(height, 1.0) / 72 / 72  # square inches
            dpi = min(options.dpi, int(math.sqrt(options.max_image_pixels / area)))
            if dpi < 100:
                raise IngestError("image_too_large", f"Page {number} démesurée ({width / 72 * 2.54:.0f} × {height / 72 * 2.54:.0f} cm) : "
                                  "elle ne peut pas être lue par OCR.")
            prefix = Path(tmp) / f"p{number}"
            _run(["pdftoppm", "-r", str(dpi), "-gray", "-png", "-f", str(number), "-l", str(number), "-singlefile", str(pdf), str(prefix)],
                 deadline - time.monotonic(), f"Rendu de la page {number}", options.page_timeout_s)
            image = prefix.with_suffix(".png")
            if not image.exists():
                raise IngestError("ocr_failed", f"Rendu de la page {number} impossible : page illisible.")
            result = recognise(image, options, languages, dpi, deadline, what)
            image.unlink()
            out[number - 1] = _to_page(number, result, options)
    return out


# --------------------------------------------------------------------------------------------
# images (photos and scans saved as PNG, JPEG, TIFF)


def image_kind(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    return None


def load_image(data: bytes, options: OcrOptions | None = None, progress: Progress | None = None) -> list[Page]:
    """OCR every frame of a PNG, JPEG or TIFF; dimensions are checked before any pixel is decoded."""
    options = options or OcrOptions()
    if image_kind(data) is None:
        raise IngestError("not_image", "Ce fichier n'est pas une image PNG, JPEG ou TIFF valide (signature absente) : il a peut-être été renommé.")
    from PIL import Image, ImageOps

    cap = options.max_image_pixels

    def too_big(width: int, height: int) -> IngestError:
        return IngestError("image_bomb", f"Image de {width} × {height} pixels ({width * height / 1e6:.0f} mégapixels) : la limite est de "
                           f"{cap / 1e6:.0f} mégapixels (image piégée, ou à réduire avant l'envoi).")

    try:
        Image.MAX_IMAGE_PIXELS = None  # opening reads the header only: our own check, with its message, comes first
        try:
            image = Image.open(io.BytesIO(data))
        finally:
            Image.MAX_IMAGE_PIXELS = cap  # then Pillow's guard, at our cap, for every frame decoded
        width, height = image.size
        if width * height > cap:
            raise too_big(width, height)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            frames = getattr(image, "n_frames", 1)
    except IngestError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise IngestError("image_bomb", f"Image démesurée ou piégée (bombe de décompression) : refusée ({exc}).") from exc
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        raise IngestError("corrupt_image", f"Image illisible ou tronquée ({type(exc).__name__}) : vérifiez le fichier ou exportez-le de nouveau.") from exc
    if frames > options.max_pages:
        raise IngestError("ocr_too_many_pages", f"Image TIFF de {frames} pages : l'OCR est limitée à {options.max_pages} pages par fichier.")
    status = _require(options, pdf=False)
    languages = status.languages
    pages: list[Page] = []
    with tempfile.TemporaryDirectory(prefix="ittifaq-ocr-") as tmp:
        for n in range(frames):
            if progress:
                progress(n / frames, f"OCR page {n + 1} ({n + 1}/{frames})" if frames > 1 else "OCR de l'image")
            deadline = time.monotonic() + options.page_timeout_s * 0.9
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error", Image.DecompressionBombWarning)
                    image.seek(n)
                    if image.size[0] * image.size[1] > cap:
                        raise too_big(*image.size)
                    frame = ImageOps.exif_transpose(image) if n == 0 else image
                    frame = frame.convert("L")
            except IngestError:
                raise
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                raise IngestError("image_bomb", "Image démesurée ou piégée (bombe de décompression) : refusée.") from exc
            except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
                raise IngestError("corrupt_image", f"Image illisible ou tronquée (page {n + 1}, {type(exc).__name__}) : vérifiez le fichier.") from exc
            dpi = _image_dpi(image)
            if max(frame.size) < 1200:  # a small photo: Tesseract reads letters ≥ 20 px high best
                frame = frame.resize((frame.size[0] * 2, frame.size[1] * 2), Image.Resampling.LANCZOS)
                dpi *= 2
            path = Path(tmp) / f"f{n}.png"
            frame.save(path)
            result = recognise(path, options, languages, dpi, deadline, f"OCR de l'image (page {n + 1})")
            path.unlink()
            pages.append(_to_page(n + 1, result, options))
    if not any(p.text.strip() for p in pages):
        raise IngestError("ocr_empty", "Aucun texte n'a pu être lu sur cette image (page blanche, photo floue ou trop sombre) : rien à indexer.")
    return pages


def _image_dpi(image) -> int:
    dpi = image.info.get("dpi")
    try:
        value = int(round(float(dpi[0]))) if dpi else 0
    except (TypeError, ValueError, IndexError):
        value = 0
    # photos carry 72 or nothing: that says nothing about the size of the letters
    return value if 150 <= value <= 1200 else 300
