"""What the handlers of every tab share: the engine, the settings, the login accounts, the
downloads, the clause library read once; and who is asking (the login of the request).

Handlers are plain methods callable without a browser (tests call them directly); each returns a
dict keyed by output name, which :mod:`rag.web.layout` maps to its components. A name left out of
the dict leaves that component as it was.
"""

from __future__ import annotations

import logging

import gradio as gr

from rag.web.render import describe_error, fr_int, md_escape
from rag.web.security import DownloadGuard, Downloads
from rag.web.texts import tr
from rag.workspace import Workspace, load_users

log = logging.getLogger(__name__)


def kinds_phrase(overview, lang: str = "fr") -> str:
    """« 1 loi, 14 fiches du projet » in French (rag.overview's words); « Law: 1, Project sheet: 14 »
    otherwise (a count after a label needs no plural rules)."""
    if lang == "fr":
        return overview.kinds_phrase()
    from rag.overview import KIND_ORDER

    parts = [f"{tr('kind_' + kind, lang)}: {overview.by_kind[kind]}" for kind in KIND_ORDER if overview.by_kind.get(kind)]
    return ("، " if lang == "ar" else ", ").join(parts) or tr("status_no_text", lang)


class Shared:
    """Built once per interface. ``users`` (from the users file) turns the admin checks on."""

    def __init__(self, engine, settings, users: dict | None = None, guard: DownloadGuard | None = None):
        self.engine = engine
        self.settings = settings
        if users is None and settings.users_file:
            users = load_users(settings.users_file)
        self.users = users
        self.downloads = Downloads(guard)
        library = engine.library() if callable(getattr(engine, "library", None)) else None
        self.library = library.templates if library is not None else []
        self.library_problems = library.problems if library is not None else {}
        for name, problem in self.library_problems.items():
            log.error("clause library: %s: %s", name, problem)


class TabHandlers:
    """Base of each tab's handlers. ``request`` gives the login (``request.username``)."""

    def __init__(self, shared: Shared):
        self.shared = shared
        self.engine = shared.engine
        self.settings = shared.settings

    @staticmethod
    def user_of(request: gr.Request | None) -> str | None:
        name = getattr(request, "username", None) if request is not None else None
        return name or None

    def workspace(self, request: gr.Request | None) -> Workspace:
        return Workspace(self.settings.data_dir, self.user_of(request))

    def is_admin(self, request: gr.Request | None) -> bool:
        """Whether the user may change the shared corpus."""
        users = self.shared.users
        if not users:
            return True  # no login: the single local user manages the corpus
        account = users.get(self.user_of(request) or "")
        return bool(account and account.admin)

    def status_line(self, lang: str = "fr") -> str:
        """One line in a negotiator's words, in ``lang``: what is indexed, what is missing, whether the model is ready."""
        from rag.overview import corpus_overview

        s = self.settings
        chat = self.engine._chat if getattr(self.engine, "chat_loaded", False) else None
        if s.llm_backend == "openai":
            model = tr("model_remote", lang).format(name=s.openai_model)
        else:
            model = tr("model_ready" if chat is not None else "model_warming", lang)
        try:
            overview = corpus_overview(self.engine.index)
            corpus = f"{md_escape(kinds_phrase(overview, lang))} ({tr('status_passages', lang).format(n=fr_int(overview.passages))})"
            if overview.missing:  # the catalog's titles are French: the texts' own names
                corpus += f" · **{tr('status_missing', lang)}** : " + ", ".join(md_escape(m.title.split(" (")[0].split(",")[0]) for m in overview.missing)
        except Exception as exc:
            corpus = tr("status_unreadable", lang).format(reason=md_escape(describe_error(exc)))
        return f"**{tr('status_texts', lang)}** : {corpus} · **{tr('status_answers', lang)}** : {md_escape(model)}"

    def source_choices(self, lang: str = "fr") -> list[tuple[str, str]]:
        """The « one text only » filter: every indexed text, by title."""
        docs = self.engine.index.documents()
        return [(tr("all_texts", lang), "")] + [(f"{d.title} ({d.source})" if d.title and d.title != d.source else d.source, d.source) for d in docs]
