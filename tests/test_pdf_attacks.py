"""Hostile PDF and DOCX files (TESTPLAN items 4, 5 and 15), built here byte by byte.

Every file goes through the real isolated parser (a child process with a time limit and a memory
cap, as the app and `rag index` use it): the outcome must be a clear French message within the
configured time, the test process itself untouched (no memory jump, no child left running), and
the same parser must go on parsing good files afterwards.
"""

from __future__ import annotations

import io
import os
import time
import zipfile
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pytest

from rag.index import Index
from rag.ingest import IngestError, IsolatedParser
from tests.conftest import HashEmbeddings

TEXT = b"BT /F1 11 Tf 50 790 Td (Article 1 Le salarie a droit a un repos hebdomadaire de vingt-quatre heures.) Tj ET"
MB = 1024 * 1024


@dataclass(frozen=True)
class Repeated:
    """``head + chunk * times + tail``, deflated piece by piece: a 200 MB stream never sits in memory."""

    chunk: bytes
    times: int
    head: bytes = b""
    tail: bytes = b""


@lru_cache(maxsize=8)
def deflate(content: bytes | Repeated) -> bytes:
    if isinstance(content, bytes):
        return zlib.compress(content, 9)
    packer = zlib.compressobj(9)
    parts = [packer.compress(content.head)]
    block = content.chunk * max(1, MB // max(1, len(content.chunk)))
    per_block = len(block) // len(content.chunk)
    done = 0
    while done + per_block <= content.times:
        parts.append(packer.compress(block))
        done += per_block
    parts += [packer.compress(content.chunk * (content.times - done)), packer.compress(content.tail), packer.flush()]
    return b"".join(parts)


def build_pdf(pages: list[list[bytes | Repeated]], catalog_extra: bytes = b"", kids_extra: bytes = b"", extra_objects: tuple[bytes, ...] = (),
              prev_self: bool = False, raw_streams: bool = False) -> bytes:
    """A PDF whose pages have the given content streams (Flate-compressed unless ``raw_streams``).

    Objects 1–3 are the catalog, the page tree and the font; ``extra_objects`` follow them (numbered
    from 4), then the streams and the pages."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R" + catalog_extra + b" >>", b"",
                            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>", *extra_objects]
    page_ids = []
    for streams in pages:
        content_ids = []
        for data in streams:
            if raw_streams:
                objects.append(b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream")
            else:
                packed = deflate(data)
                objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream")
            content_ids.append(len(objects))
        refs = b" ".join(b"%d 0 R" % i for i in content_ids)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents [" + refs + b"] >>")
        page_ids.append(len(objects))
    kids = b" ".join(b"%d 0 R" % i for i in page_ids) + kids_extra
    objects[1] = b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % len(page_ids)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    prev = b" /Prev %d" % xref if prev_self else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, prev, xref)
    return bytes(out)


def same_length_replace(data: bytes, old: bytes, new: bytes) -> bytes:
    """Edit a built PDF without moving any byte (its xref offsets stay right)."""
    assert len(old) == len(new) and data.count(old) == 1
    return data.replace(old, new)


ZEROS_200MB = Repeated(b"\0", 200 * MB)
ZEROS_70MB = Repeated(b"\0", 70 * MB)
# pypdf stops a content stream after 2 million operands + operators (its own limit), not a document:
# eight pages of 900,000 "(a) Tj" each are minutes of pure-Python work on 2 cores
SLOW_PAGE = Repeated(b"(a) Tj ", 900_000, head=b"BT /F1 11 Tf ", tail=b"ET")


def rss_mb() -> float:
    """Resident memory of this (the test) process."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def child_pids() -> set[int]:
    pids: set[int] = set()
    for children in Path(f"/proc/{os.getpid()}/task").glob("*/children"):
        pids |= {int(p) for p in children.read_text().split()}
    return pids


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def good_pdf(tmp_path, pdf_factory) -> Path:
    path = tmp_path / "loi_de_controle.pdf"
    path.write_bytes(pdf_factory(["Article 1\nLe salarié a droit à un repos hebdomadaire de vingt-quatre heures."]))
    return path


def refused(parser: IsolatedParser, path: Path) -> tuple[IngestError, float]:
    start = time.monotonic()
    with pytest.raises(IngestError) as info:
        parser.load(path)
    return info.value, time.monotonic() - start


def french(message: str) -> bool:
    return len(message) > 30 and any(w in message for w in (" le ", " la ", " du ", " de ", " : "))


# ---- 4: decompression bombs ----------------------------------------------------------------------------


def test_flate_bomb_of_200_mb_is_refused_by_the_parser(tmp_path, good_pdf):
    bomb = tmp_path / "bombe.pdf"
    bomb.write_bytes(build_pdf([[ZEROS_200MB]]))
    assert bomb.stat().st_size < 1 * MB  # a few hundred KB on disk
    before = rss_mb()
    with IsolatedParser(timeout_s=60, max_bytes=50 * MB, max_pages=100) as parser:
        error, elapsed = refused(parser, bomb)
        assert error.code == "pdf_bomb" and "bombe de décompression" in error.message and french(error.message)
        assert elapsed < 60
        assert "repos hebdomadaire" in parser.load(good_pdf).text  # the same parser goes on
    assert rss_mb() - before < 150  # the 200 MB never reached this process


def test_bomb_split_under_the_per_stream_limit_is_killed_at_the_memory_cap(tmp_path, good_pdf):
    """40 pages of 70 MB each (under pypdf's 75 MB per-stream limit): 2.8 GB once decompressed;
    the child dies at its address-space cap, long before its time limit."""
    bomb = tmp_path / "bombe_pages.pdf"
    bomb.write_bytes(build_pdf([[ZEROS_70MB]] * 40))
    assert bomb.stat().st_size < 5 * MB
    before = rss_mb()
    with IsolatedParser(timeout_s=300, max_bytes=50 * MB, max_pages=100, memory_cap=768 * MB) as parser:
        error, elapsed = refused(parser, bomb)
        assert error.code == "parser_crashed" and "mémoire" in error.message and french(error.message)
        assert elapsed < 240  # the cap stopped it, not the watchdog
        assert "repos hebdomadaire" in parser.load(good_pdf).text
    assert rss_mb() - before < 150


def test_endless_content_stream_is_stopped_by_the_watchdog(tmp_path, good_pdf):
    """8 × 900,000 text operators (50 MB once inflated, 60 KB on disk): minutes of work."""
    slow = tmp_path / "sans_fin.pdf"
    slow.write_bytes(build_pdf([[SLOW_PAGE]] * 8))
    assert slow.stat().st_size < 1 * MB
    with IsolatedParser(timeout_s=8, max_bytes=50 * MB, max_pages=100) as parser:
        busy = child_pids()
        error, elapsed = refused(parser, slow)
        assert error.code == "timeout" and "8 s" in error.message and french(error.message)
        assert elapsed < 8 + 30
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in child_pids() - busy) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(alive(pid) for pid in child_pids() - busy)  # the runaway child was killed
        assert "repos hebdomadaire" in parser.load(good_pdf).text


# ---- 5: loops and broken structures -------------------------------------------------------------------

BROKEN = {
    # trailer /Prev pointing at its own xref section: pypdf notices the loop and reads the file
    "prev_loop": (build_pdf([[TEXT]], prev_self=True), None),
    # /Outlines whose item is its own Next, Prev and First: outlines are never read
    "outlines_loop": (build_pdf([[TEXT]], catalog_extra=b" /Outlines 4 0 R", extra_objects=(
        b"<< /Type /Outlines /First 5 0 R /Last 5 0 R /Count 1 >>",
        b"<< /Title (boucle) /Parent 4 0 R /Next 5 0 R /Prev 5 0 R /First 5 0 R /Last 5 0 R >>")), None),
    # the page tree lists itself among its own kids
    "kids_loop": (build_pdf([[TEXT]], kids_extra=b" 2 0 R"), "corrupt_pdf"),
    # an inline image that never ends (BI … ID and no EI)
    "inline_image_without_EI": (build_pdf([[TEXT + b"\nq BI /W 100 /H 100 /BPC 8 /CS /RGB ID " + b"\x00\xff" * 200_000 + b" Q"]],
                                           raw_streams=True), "corrupt_pdf"),
    # a stream whose /Length is a reference to the stream itself
    "self_referencing_length": (same_length_replace(build_pdf([[TEXT]], raw_streams=True), b"<< /Length %d >>" % len(TEXT),
                                                    b"<</Length 4 0 R>>"), "pdf_bomb"),
    # 200,000 nested arrays
    "deep_nesting": (build_pdf([[TEXT + b" " + b"[" * 200_000 + b"]" * 200_000]]), "corrupt_pdf"),
    # startxref pointing far beyond the end of the file: pypdf rebuilds the xref by scanning
    "startxref_out_of_file": (build_pdf([[TEXT]]).rsplit(b"startxref", 1)[0] + b"startxref\n999999999\n%%EOF\n", None),
    # no trailer and no xref at all, cut in the middle of a stream
    "cut_without_xref": (build_pdf([[TEXT]], raw_streams=True).split(b"endstream")[0], "corrupt_pdf"),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_looping_or_broken_structures_end_quickly_and_clearly(tmp_path, good_pdf, name):
    data, expected = BROKEN[name]
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(data)
    with IsolatedParser(timeout_s=20, max_bytes=50 * MB, max_pages=100) as parser:
        start = time.monotonic()
        if expected is None:
            assert "repos hebdomadaire" in parser.load(path).text
        else:
            error, _ = refused(parser, path)
            assert error.code == expected, (error.code, error.message)
            assert french(error.message)
        assert time.monotonic() - start < 20 + 30
        assert "repos hebdomadaire" in parser.load(good_pdf).text


def test_one_hostile_file_in_a_batch_leaves_the_others_and_the_store_intact(settings, tmp_path):
    folder = tmp_path / "lot"
    folder.mkdir()
    (folder / "a_accord.md").write_text("# Accord\n### Article 1\nLa pause écran est de dix minutes par heure.\n", encoding="utf-8")
    (folder / "b_bombe.pdf").write_bytes(build_pdf([[ZEROS_200MB]]))
    (folder / "c_sans_fin.pdf").write_bytes(build_pdf([[SLOW_PAGE]] * 8))
    (folder / "d_boucle.pdf").write_bytes(BROKEN["kids_loop"][0])
    (folder / "e_fiche.md").write_text("# Fiche\n### Article 2\nLe délai entre deux appels est de vingt secondes.\n", encoding="utf-8")
    settings.parse_timeout_s = 8
    index = Index(settings, HashEmbeddings())
    try:
        results = {r.source: r for r in index.index_paths([folder])}
        assert {s: r.status for s, r in results.items()} == {
            "a_accord.md": "indexed", "b_bombe.pdf": "failed", "c_sans_fin.pdf": "failed", "d_boucle.pdf": "failed", "e_fiche.md": "indexed",
        }
        assert [results[s].code for s in ("b_bombe.pdf", "c_sans_fin.pdf", "d_boucle.pdf")] == ["pdf_bomb", "timeout", "corrupt_pdf"]
        assert all(french(results[s].message) for s in results if results[s].status == "failed")
        assert {d.source for d in index.documents()} == {"a_accord.md", "e_fiche.md"} and index.interrupted() == []
        assert index.count() == sum(d.chunks for d in index.documents())
    finally:
        index.close()


# ---- 15: DOCX that lies ---------------------------------------------------------------------------------


def write_docx(path: Path, document_xml: bytes | Repeated) -> None:
    """A real .docx (python-docx's own template) whose word/document.xml is replaced, streamed."""
    import docx

    buffer = io.BytesIO()
    docx.Document().save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename != "word/document.xml":
                target.writestr(item.filename, source.read(item.filename))
            elif isinstance(document_xml, bytes):
                target.writestr(item.filename, document_xml)
            else:
                with target.open(item.filename, "w") as handle:
                    handle.write(document_xml.head)
                    block = document_xml.chunk * MB
                    for _ in range(document_xml.times // MB):
                        handle.write(block)
                    handle.write(document_xml.chunk * (document_xml.times % MB) + document_xml.tail)


def test_docx_bomb_lying_about_its_size_is_refused(tmp_path, good_pdf):
    """300 MB of XML declared as 1 KB in the zip headers: the size check cannot see it; the reader
    stops at the declared size and the archive is refused as damaged."""
    head = b'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
    body = Repeated(b" ", 300 * MB, head=head, tail=b"</w:body></w:document>")
    path = tmp_path / "menteur.docx"
    write_docx(path, body)
    data = bytearray(path.read_bytes())
    real_size = (len(body.head) + body.times + len(body.tail)).to_bytes(4, "little")
    assert data.count(real_size) == 2  # local header and central directory
    path.write_bytes(bytes(data.replace(real_size, (1024).to_bytes(4, "little"))))
    assert path.stat().st_size < 2 * MB
    before = rss_mb()
    with IsolatedParser(timeout_s=60, max_bytes=50 * MB, max_pages=100, memory_cap=768 * MB) as parser:
        error, elapsed = refused(parser, path)
        assert error.code in {"corrupt_docx", "not_docx"} and "Word" in error.message
        assert elapsed < 60
        assert "repos hebdomadaire" in parser.load(good_pdf).text
    assert rss_mb() - before < 150


def test_docx_with_billion_laughs_entities_is_not_expanded(tmp_path):
    entities = '<!ENTITY a0 "hahahahahahahahahaha">' + "".join(f'<!ENTITY a{i} "{("&a%d;" % (i - 1)) * 10}">' for i in range(1, 10))
    xml = (f'<?xml version="1.0"?><!DOCTYPE w:document [{entities}]>'
           '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
           '<w:p><w:r><w:t>Article 1 — clause &a9;</w:t></w:r></w:p></w:body></w:document>').encode()
    path = tmp_path / "rires.docx"
    write_docx(path, xml)
    with IsolatedParser(timeout_s=30, max_bytes=50 * MB, max_pages=100, memory_cap=768 * MB) as parser:
        start = time.monotonic()
        try:
            text = parser.load(path).text
        except IngestError as error:
            assert french(error.message)
        else:
            assert len(text) < 10_000  # 20 × 10⁹ characters if the entities were expanded
        assert time.monotonic() - start < 30


# ---- 6 and 8: encryption without a password, too many pages ----------------------------------------------


def test_pdf_encrypted_without_a_user_password_is_indexed(tmp_path, pdf_factory):
    """Only an owner password (printing/copy restrictions): it opens with the empty password."""
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(pdf_factory(["Article 1\nLe salarié a droit à un repos hebdomadaire de vingt-quatre heures."])))
    writer = pypdf.PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    writer.encrypt(user_password="", owner_password="proprietaire", algorithm="AES-128")
    path = tmp_path / "restreint.pdf"
    with open(path, "wb") as handle:
        writer.write(handle)
    assert pypdf.PdfReader(path).is_encrypted
    with IsolatedParser(timeout_s=60, max_bytes=50 * MB, max_pages=100) as parser:
        assert "repos hebdomadaire" in parser.load(path).text


def test_3000_page_pdf_is_refused_before_its_pages_are_read(tmp_path):
    path = tmp_path / "annuaire.pdf"
    path.write_bytes(build_pdf([[TEXT]] * 3000))
    with IsolatedParser(timeout_s=60, max_bytes=50 * MB, max_pages=2000) as parser:
        error, elapsed = refused(parser, path)
    assert error.code == "too_many_pages" and "3000 pages" in error.message and "2000" in error.message
    assert elapsed < 60
