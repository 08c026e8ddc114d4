"""Files → pages of clean text with provenance (PDF, DOCX, Markdown, plain text, scans and photos).

Every refusal is an :class:`IngestError` whose message is written for a negotiator, in French.
Parsing of untrusted files runs in a child process with a time limit and a memory cap
(:class:`IsolatedParser`), because PDF parsers have known endless-loop and bomb inputs. Scanned
pages and images are read by OCR (:mod:`rag.ocr`) in the same child; each page read by OCR extends
the time limit by its own budget.
"""

from __future__ import annotations

import codecs
import functools
import hashlib
import logging
import os
import re
import time
import unicodedata
import zipfile
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import yaml

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}  # read by OCR (rag.ocr)
SUPPORTED_SUFFIXES = {".pdf", ".docx", ".md", ".markdown", ".txt"} | IMAGE_SUFFIXES
KINDS = ("law", "decree", "agreement", "intl_convention", "press", "project", "clause", "other")  # clause: the union's own templates, never a legal source
MAX_DOCX_UNCOMPRESSED = 200 * 1024 * 1024
PARSER_MEMORY_CAP = 2 * 1024 * 1024 * 1024


class IngestError(Exception):
    """A file that cannot be indexed. ``code`` is stable for programs, the message is for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def __reduce__(self):  # keep code+message across the process boundary
        return (IngestError, (self.code, self.message))


@dataclass
class Page:
    number: int | None
    text: str
    ocr: str | None = None  # Tesseract language(s) when the text was read by OCR ("ara", "fra", "ara+fra")
    confidence: float | None = None  # OCR: mean word confidence, 0–100
    uncertain: bool = False  # OCR: confidence under the threshold, « lecture incertaine »


@dataclass
class LoadedDocument:
    path: str
    source: str
    sha256: str
    format: str
    title: str
    kind: str
    lang: str
    pages: list[Page] = field(default_factory=list)
    front_matter: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join(p.text for p in self.pages)

    @property
    def uncertain_pages(self) -> list[int]:
        """Pages read by OCR with a low confidence (« p. 4 : lecture incertaine »)."""
        return [p.number or 1 for p in self.pages if p.uncertain]


# --------------------------------------------------------------------------------------------
# small pure helpers


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_LANG_CODES = {"FRENCH": "fr", "ENGLISH": "en", "ARABIC": "ar"}


SHORT_TEXT = 300  # characters: a question, a title — where trigrams alone misread French as English


@functools.cache
def _language_detector(low_accuracy: bool):
    """lingua, restricted to the corpus's three languages; built on first use (it loads its models
    then). Low-accuracy mode (trigrams only, loaded in ~20 ms) is right on whole documents but
    calls « Quel barème pour les primes de transport ? » English; the full models (~0.3 s to load,
    once per process) read every question of the tune and heldout sets right. Too close to call → None."""
    from lingua import Language, LanguageDetectorBuilder

    languages = [getattr(Language, name) for name in _LANG_CODES]
    builder = LanguageDetectorBuilder.from_languages(*languages).with_minimum_relative_distance(0.1)
    return (builder.with_low_accuracy_mode() if low_accuracy else builder).build()


_ARABIC_LETTER = re.compile(r"[\u0600-\u06FF\u0750-\u077F]")
_LATIN_LETTER = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ]")


def detect_lang(text: str) -> str:
    """'ar', 'fr' or 'en' (lingua); French, the corpus's main language, when it cannot tell
    (no letters, a bare reference such as « art. 350 », a name).

    A short text (a question) written mostly in Arabic letters is Arabic: of the three languages
    only Arabic uses them. A short Latin text that the fast models call French is French (on the 207
    tune and dev questions they never called French what the full models did not); only the rest
    waits for the full models (~0.3 s to load, which a one-off `rag search` command pays)."""
    sample = text[:20000]
    if len(sample) <= SHORT_TEXT:
        arabic, latin = len(_ARABIC_LETTER.findall(sample)), len(_LATIN_LETTER.findall(sample))
        if arabic and arabic >= 2 * latin:
            return "ar"
        fast = _language_detector(True).detect_language_of(sample)
        if fast is not None and fast.name == "FRENCH":
            return "fr"
    found = _language_detector(len(sample) > SHORT_TEXT).detect_language_of(sample)
    return _LANG_CODES.get(found.name, "fr") if found is not None else "fr"


def guess_kind(source: str, text: str) -> str:
    """Kind of text from its file name, then its opening words."""
    name = source.lower()
    head = text[:3000].lower()
    if re.search(r"ilo|oit|c0\d\d|convention_n", name) or "international labour" in head:
        return "intl_convention"
    if "decret" in name or "décret" in name or "مرسوم" in head[:400]:
        return "decree"
    if re.search(r"idcc|convention[_ -]collective|accord|avenant", name) or "convention collective" in head:
        return "agreement"
    if re.search(r"code|loi|mudawwana|dahir", name) or "code du travail" in head[:600] or "مدونة الشغل" in head[:600]:
        return "law"
    if re.search(r"press|seed|article_|^\d{3}_[0-9a-f]{8,}", name):
        return "press"
    return "other"


def clean_filename(name: str) -> str:
    """A display/base name with no path, control characters or direction overrides."""
    base = name.replace("\\", "/").split("/")[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = base.strip().strip(".") or "document"
    return base[:180]


# --------------------------------------------------------------------------------------------
# text decoding


def decode_text(data: bytes) -> str:
    """Decode a text file: BOMs first, then UTF-8, then a detector; NUL bytes removed."""
    for bom, enc in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(enc, errors="replace").replace("\x00", "")
    try:
        return data.decode("utf-8").replace("\x00", "")
    except UnicodeDecodeError:
        pass
    # Not UTF-8: our texts are French (Windows-1252/Latin-1) or Arabic (Windows-1256). Detectors
    # confuse the Western European code pages, so only trust them for an Arabic guess.
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None and best.encoding in {"cp1256", "iso8859_6", "mac_arabic", "cp864"}:
        return str(best).replace("\x00", "")
    return data.decode("cp1252", errors="replace").replace("\x00", "")


_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)


def split_front_matter(text: str) -> tuple[dict, str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        data = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError:
        return {}, text
    if not isinstance(data, dict):
        return {}, text
    return data, text[match.end():]


# --------------------------------------------------------------------------------------------
# PDF

_PAGE_FOOTER = re.compile(r"^\s*-\s*\d{1,4}\s*-\s*$")
_FOOTNOTE_LINE = re.compile(r"^\s*(\d{1,3})(?:\s*[-–]\s+\S|\s+[A-ZÀ-Ý])")  # "88 - Décret …", also "89 Décret …"


def clean_pdf_page(raw: str) -> str:
    """Drop page footers (``-61 -``), the footnote block, and footnote calls glued to words."""
    lines = raw.split("\n")
    kept: list[str] = []
    notes: set[str] = set()
    in_notes = False
    for line in lines:
        if _PAGE_FOOTER.match(line):
            continue
        # pypdf renders the footnote separator rule as a long run of spaces: 43 for Word's ordinary
        # rule, the full line (132) for the separator of a note continued from the previous page
        # (French code p. 180: what follows it is notes, not the body; tests/test_ingest.py).
        if not in_notes and len(line) >= 20 and not line.strip():
            in_notes = True
            continue
        if in_notes:
            m = _FOOTNOTE_LINE.match(line)
            if m:
                notes.add(m.group(1))
            continue
        kept.append(line.rstrip())
    text = "\n".join(kept)
    for num in sorted(notes, key=len, reverse=True):
        # "TRAVAIL1" → "TRAVAIL"; only for numbers that really are footnotes of this page.
        text = re.sub(rf"(?<=[^\W\d_]){num}(?=[\s.,;:)]|$)", "", text, flags=re.M)
    return text.strip("\n")


def load_pdf(data: bytes, max_pages: int, ocr=None, progress=None) -> tuple[list[Page], dict]:
    """Pages of a PDF: the text layer, or OCR (``ocr``: :class:`rag.ocr.OcrOptions`) where it has none."""
    import io

    from rag import ocr as ocr_pages

    import pypdf
    from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError, PdfReadError, PyPdfError

    if not data.lstrip()[:5].startswith(b"%PDF-"):
        raise IngestError("not_pdf", "Ce fichier n'est pas un PDF (signature %PDF absente) : il a peut-être été renommé.")
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except (DependencyError, NotImplementedError) as exc:
                raise IngestError("encrypted", "PDF chiffré dans un format non pris en charge : enregistrez-en une copie non protégée.") from exc
            if not ok:
                raise IngestError("encrypted", "PDF protégé par un mot de passe : enregistrez-en une copie sans mot de passe puis réessayez.")
        n_pages = len(reader.pages)
        if n_pages > max_pages:
            raise IngestError("too_many_pages", f"PDF de {n_pages} pages : la limite est de {max_pages} pages.")
        pages = []
        scanned: dict[int, tuple[float, float]] = {}  # pages to read by OCR: number → size in points
        for i, page in enumerate(reader.pages, start=1):
            pages.append(Page(i, clean_pdf_page(page.extract_text() or "")))
            if not ocr_pages.text_layer_usable(pages[-1].text) and ocr_pages.page_has_images(page):
                scanned[i] = ocr_pages.page_size_points(page)
        info = {}
        try:
            if reader.metadata and reader.metadata.title:
                info["title"] = str(reader.metadata.title)
        except Exception:  # broken info dictionaries are common and harmless
            pass
    except IngestError:
        raise
    except FileNotDecryptedError as exc:
        raise IngestError("encrypted", "PDF protégé par un mot de passe : enregistrez-en une copie sans mot de passe.") from exc
    except DependencyError as exc:
        raise IngestError("encrypted", "PDF chiffré (AES) : module de déchiffrement absent ; enregistrez-en une copie non protégée.") from exc
    except LimitReachedError as exc:  # pypdf's own caps (75 MB per decompressed stream…): a bomb, not a damaged file
        raise IngestError("pdf_bomb", "PDF anormal : un de ses contenus dépasse les limites de sécurité (bombe de décompression ou fichier piégé) : refusé.") from exc
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, AssertionError, RecursionError, OSError) as exc:
        raise IngestError("corrupt_pdf", f"PDF illisible ou tronqué ({type(exc).__name__}) : vérifiez le fichier ou exportez-le de nouveau.") from exc
    def too_little_text() -> bool:
        return sum(len(p.text.strip()) for p in pages) < 20 * max(1, min(len(pages), 5)) and not any(len(p.text.strip()) > 200 for p in pages)

    if scanned:
        options = ocr or ocr_pages.OcrOptions()
        if too_little_text() or ocr_pages.ocr_status(options).available:
            pages = ocr_pages.ocr_pdf_pages(data, pages, scanned, options, progress)  # refuses clearly without Tesseract
        else:
            log.warning("%d scanned pages left unread: %s", len(scanned), ocr_pages.ocr_status(options).message)
        if too_little_text():
            raise IngestError("ocr_empty", "Aucun texte n'a pu être lu sur ce document scanné (pages blanches ou illisibles) : rien à indexer.")
    if too_little_text():
        raise IngestError("needs_ocr", "Ce PDF ne contient pas de texte (document scanné ?) : il faut d'abord le passer à l'OCR.")
    return pages, info


# --------------------------------------------------------------------------------------------
# DOCX


def load_docx(data: bytes) -> tuple[list[Page], dict]:
    import io

    if not data.startswith(b"PK"):
        raise IngestError("not_docx", "Ce fichier n'est pas un document Word .docx valide (ce n'est pas une archive zip).")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = sum(info.file_size for info in archive.infolist())
            if total > MAX_DOCX_UNCOMPRESSED:
                raise IngestError("docx_bomb", "Document Word anormal : son contenu décompressé est démesuré (archive piégée ?).")
            if "word/document.xml" not in archive.namelist():
                raise IngestError("not_docx", "Archive zip qui n'est pas un document Word (.docx).")
    except zipfile.BadZipFile as exc:
        raise IngestError("not_docx", "Document Word endommagé (archive zip illisible).") from exc
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many types on broken parts
        raise IngestError("corrupt_docx", f"Document Word illisible ou piégé ({type(exc).__name__}) : vérifiez le fichier ou enregistrez-le de nouveau depuis Word.") from exc
    lines: list[str] = []
    for para in document.paragraphs:
        text = para.text.strip()
        if not text:
            continue
        style = (para.style.name or "") if para.style is not None else ""
        level = re.match(r"(?:Heading|Titre)\s*(\d)", style)
        lines.append(("#" * int(level.group(1)) + " " + text) if level else text)
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text.strip() for cell in row.cells))
    info = {}
    if document.core_properties.title:
        info["title"] = document.core_properties.title
    return [Page(None, "\n".join(lines))], info


# --------------------------------------------------------------------------------------------
# entry points

_HTML_START = re.compile(rb"^\s*(<!doctype html|<html|<svg|<\?xml)", re.I)


def load_bytes(data: bytes, name: str, max_pages: int = 2000, path: str = "", ocr=None, progress=None) -> LoadedDocument:
    """Parse one file's bytes. Raises :class:`IngestError` with a clear message on any problem.

    ``ocr`` (:class:`rag.ocr.OcrOptions`, default settings when None) governs scanned pages and
    images; ``progress(fraction, message)`` hears of each page read by OCR."""
    source = clean_filename(name)
    suffix = Path(source).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise IngestError("unsupported", f"Type de fichier non pris en charge ({suffix or 'sans extension'}) : PDF, DOCX, MD, TXT ou image (PNG, JPEG, TIFF) seulement.")
    if not data.strip(b"\x00 \r\n\t\xef\xbb\xbf"):
        raise IngestError("empty", "Fichier vide : rien à indexer.")
    if suffix in {".md", ".markdown", ".txt"} and _HTML_START.match(data[:200]):
        raise IngestError("html", "Ce fichier contient du HTML/SVG, refusé pour des raisons de sécurité.")
    front: dict = {}
    info: dict = {}
    if suffix == ".pdf":
        pages, info = load_pdf(data, max_pages, ocr, progress)
        fmt = "pdf"
    elif suffix in IMAGE_SUFFIXES:
        from rag.ocr import load_image

        pages = load_image(data, ocr, progress)
        fmt = "image"
    elif suffix == ".docx":
        pages, info = load_docx(data)
        fmt = "docx"
    else:
        text = decode_text(data)
        if suffix in {".md", ".markdown"}:
            front, text = split_front_matter(text)
            fmt = "md"
        else:
            fmt = "txt"
        text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
        if not text.strip():
            raise IngestError("empty", "Fichier sans texte : rien à indexer.")
        pages = [Page(None, text)]
    full = "\n".join(p.text for p in pages)
    title = str(front.get("title") or info.get("title") or first_heading(full) or Path(source).stem)
    kind = str(front.get("kind") or guess_kind(source, full))
    if kind not in KINDS:
        kind = "other"
    lang = str(front.get("lang") or detect_lang(full))
    return LoadedDocument(
        path=path, source=source, sha256=sha256_bytes(data), format=fmt, title=title.strip()[:200],
        kind=kind, lang=lang, pages=pages, front_matter=front,
    )


def first_heading(text: str) -> str | None:
    for line in text.split("\n")[:80]:
        stripped = line.strip()
        if stripped.startswith("#"):
            return stripped.lstrip("#").strip() or None
    for line in text.split("\n")[:40]:
        stripped = line.strip()
        if len(stripped) >= 8 and not stripped.startswith("-"):
            return stripped[:120]
    return None


def load_path(path: Path, max_bytes: int, max_pages: int, ocr=None, progress=None) -> LoadedDocument:
    """Read and parse one file, refusing oversize files before reading them whole."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise IngestError("unreadable", f"Fichier introuvable ou illisible : {exc.strerror}.") from exc
    if size > max_bytes:
        raise IngestError("too_large", f"Fichier de {size / 1048576:.1f} Mo : la limite est de {max_bytes / 1048576:.0f} Mo.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError("unreadable", f"Fichier illisible : {exc.strerror}.") from exc
    return load_bytes(data, path.name, max_pages=max_pages, path=str(path), ocr=ocr, progress=progress)


def _limit_memory(cap: int = PARSER_MEMORY_CAP) -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ImportError, ValueError, OSError):  # not available on every OS
        pass


_events = None  # in the parser child: the queue its progress goes to (see IsolatedParser)
_parent_pid = 0


def _start_child(cap: int, events) -> None:
    global _events, _parent_pid
    _limit_memory(cap)
    _events, _parent_pid = events, os.getppid()


def _report(fraction: float, message: str) -> None:
    if os.getppid() != _parent_pid:
        os._exit(1)  # the app was killed (kill -9): stop reading pages nobody will index
    if _events is not None:
        _events.put((fraction, message))


def _load_in_child(path: Path, max_bytes: int, max_pages: int, ocr) -> LoadedDocument:
    return load_path(path, max_bytes, max_pages, ocr=ocr, progress=_report)


class IsolatedParser:
    """Parses files in a child process (time limit + memory cap); a runaway parse kills only the child.

    The limit is ``timeout_s`` for the file, renewed for ``ocr.page_timeout_s`` (+5 s) each time the
    child starts the OCR of a page (it says so through a queue, which also feeds ``progress``);
    the number of such pages is capped by ``ocr.max_pages``."""

    def __init__(self, timeout_s: float, max_bytes: int, max_pages: int, memory_cap: int = PARSER_MEMORY_CAP, ocr=None):
        from rag.ocr import OcrOptions

        self.timeout_s = timeout_s
        self.max_bytes = max_bytes
        self.max_pages = max_pages
        self.memory_cap = memory_cap  # bytes of address space for the child (RLIMIT_AS)
        self.ocr = ocr or OcrOptions()
        self._pool: ProcessPoolExecutor | None = None
        self._events = None

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing

            context = multiprocessing.get_context("spawn")
            # a SimpleQueue writes from the child's own thread: no feeder thread to outlive a kill
            self._events = context.SimpleQueue()
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=context, initializer=_start_child, initargs=(self.memory_cap, self._events)
            )
        return self._pool

    def _drain(self) -> list[tuple[float, str]]:
        events = []
        while self._events is not None and not self._events.empty():
            events.append(self._events.get())
        return events

    def _reset(self) -> None:
        if self._pool is not None:
            for proc in list(getattr(self._pool, "_processes", {}).values()):
                proc.kill()
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
            self._events = None

    def load(self, path: Path, progress=None) -> LoadedDocument:
        """Parse one file in the child; ``progress(fraction, message)`` hears of each OCR page."""
        pool = self._get_pool()
        self._drain()  # nothing is left from an earlier file
        future = pool.submit(_load_in_child, path, self.max_bytes, self.max_pages, self.ocr)
        deadline = time.monotonic() + self.timeout_s
        ocr_step = ""
        try:
            while True:
                try:
                    return future.result(timeout=max(0.0, min(0.25, deadline - time.monotonic())))
                except FutureTimeout:
                    pass
                for fraction, message in self._drain():
                    ocr_step = message
                    deadline = max(deadline, time.monotonic() + self.ocr.page_timeout_s + 5)
                    if progress:
                        progress(fraction, message)
                if time.monotonic() >= deadline:
                    self._reset()
                    if ocr_step:
                        raise IngestError("timeout", f"L'OCR a dépassé {self.ocr.page_timeout_s:.0f} s pour une page ({ocr_step}) : fichier abandonné.")
                    raise IngestError("timeout", f"L'analyse du fichier a dépassé {self.timeout_s:.0f} s (fichier piégé ou corrompu) : abandonnée.")
        except BrokenProcessPool as exc:
            self._reset()
            # killed by the memory cap, or a native crash of the parser: either way the file is the cause
            raise IngestError("parser_crashed", "Le processus d'analyse du fichier s'est arrêté brutalement "
                              "(mémoire autorisée épuisée ou fichier piégé) : fichier abandonné.") from exc
        except MemoryError as exc:
            self._reset()
            raise IngestError("parser_crashed", "L'analyse du fichier a épuisé la mémoire autorisée : abandonnée.") from exc

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def __enter__(self) -> "IsolatedParser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
