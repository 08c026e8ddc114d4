"""One broken clause template is reported and skipped; drafting with the others keeps working."""

from __future__ import annotations

import shutil

from rag.engine import build_engine
from rag.settings import PROJECT_ROOT
from tests.conftest import HashEmbeddings


def test_a_template_without_id_does_not_empty_the_library_nor_break_drafting(settings, tmp_path):
    clauses = tmp_path / "clauses"
    shutil.copytree(PROJECT_ROOT / "corpus" / "clauses", clauses)
    (clauses / "99_broken.md").write_text("---\ntitle: Sans identifiant\n---\nTexte.\n", encoding="utf-8")
    settings.clauses_dir = clauses
    engine = build_engine(settings, embedder=HashEmbeddings())
    try:
        library = engine.library()
        assert len(library.templates) == 19 and "99_broken.md" in library.problems
        clause = engine.drafter(with_model=False).draft("prime_anciennete", ["8 % après 2 ans"], "", "target")
        assert clause.template_id == "prime_anciennete"
        from rag.web import Handlers

        ui = Handlers(engine, settings)
        assert len(ui.shared.library) == 19 and "99_broken.md" in ui.shared.library_problems
        assert "99\\_broken.md" in ui.chat.welcome_markdown()  # Markdown-escaped
    finally:
        engine.close()
