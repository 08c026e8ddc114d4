"""The page: gr.Blocks with its tabs, the events that tie components to handlers, and the one
way to launch it.

Each handler returns a dict keyed by output name; :func:`bind_outputs` turns it into the
``{component: value}`` dict Gradio accepts, and refuses a name the event does not list, so that
adding a component never shifts the others. The order of each ``*_OUTPUTS`` tuple is the order of
the values an API client receives.
"""

from __future__ import annotations

import functools
import inspect
from pathlib import Path
from typing import Any, Callable

import gradio as gr

from rag.web.base import Shared
from rag.web.chat import ChatTab
from rag.web.corpus import CorpusTab
from rag.web.drafting import MAX_CONTEXT_CHARS, MAX_TOPIC_CHARS, DraftingTab
from rag.web.project import ProjectTab, project_state
from rag.web.security import DOWNLOAD_TTL_S, LOOPBACK_HOSTS, Authenticator, DownloadGuard, SecurityHeaders
from rag.web.texts import (
    COMPARISON_HEADERS, DOCUMENT_HEADERS, EXAMPLE_QUESTIONS, FILTER_KINDS, KIND_LABELS, LANGUAGES, LANG_LABELS, PROJECT_HEADERS,
    RESULT_HEADERS, RTL_LANGS, SEARCH_HEADERS, VARIANT_LABELS, Labels, choices, shown_rows, table, tr, ui_lang,
)
from rag.workspace import MAX_CONVERSATION_TITLE

# ---- outputs of each event, in the order API clients receive them ---------------------------------
CHAT_OUTPUTS = ("chatbot", "message", "conversation", "chips", "cited", "excerpt_title", "excerpt_text", "conversations", "chat_notice")
CITATION_OUTPUTS = ("excerpt_title", "excerpt_text")
SELECT_OUTPUTS = ("chips", "cited", "excerpt_title", "excerpt_text")
DRAFT_OUTPUTS = ("clause", "clause_title", "clause_text", "checks", "comparison", "clause_citations", "rationale", "draft_warnings", "draft_notice")
PROJECT_OUTPUTS = ("project_title", "project_preamble", "project_table", "clause_pick", "project_preview", "project_notice")
ADD_OUTPUTS = ("draft_notice",) + PROJECT_OUTPUTS
EXPORT_OUTPUTS = ("export_file", "project_notice")
# a change in the Projet de convention tab, then its sync into the negotiation (rag.web.project)
PROJECT_SYNC_OUTPUTS = PROJECT_OUTPUTS + ("project_conflicts", "take_negotiation", "clause_edit")
SYNC_OUTPUTS = ("project_notice", "project_conflicts", "take_negotiation")
CORPUS_OUTPUTS = ("index_results", "documents", "remove_pick", "source", "status", "corpus_notice", "search_source")
LOAD_OUTPUTS = ("status", "conversations", "source", "documents", "remove_pick", "admin_box", "admin_notice") + PROJECT_OUTPUTS + ("search_source",)
AFTER_CHAT_OUTPUTS = ("article_prev", "article_next", "confirm_delete", "cancel_delete", "conv_title")
READ_OUTPUTS = CHAT_OUTPUTS + AFTER_CHAT_OUTPUTS
RENAME_OUTPUTS = ("conversation", "conversations", "conv_title", "chat_notice")
CONV_EXPORT_OUTPUTS = ("conv_file", "chat_notice")
ASK_DELETE_OUTPUTS = ("confirm_delete", "cancel_delete", "delete_pending", "chat_notice")
DELETE_OUTPUTS = CHAT_OUTPUTS + AFTER_CHAT_OUTPUTS + ("delete_pending",)
SEARCH_OUTPUTS = ("search_results", "search_rows", "search_notice", "search_article")
# what the language switch re-renders besides the labels: texts written by handlers, tables with their headers
RELABEL_OUTPUTS = ("lang", "status", "welcome", "admin_notice", "comparison", "project_table", "search_results", "index_results", "documents",
                   "source", "search_source")

CSS = """
#chatbot .message, #chatbot .message p, #chatbot .message li, .bidi, .bidi textarea, .bidi input, textarea {
  unicode-bidi: plaintext; text-align: start;
}
[dir=rtl] #chatbot .message, [dir=rtl] .bidi { direction: rtl; }
/* Gradio marks every block dir=ltr: in Arabic the blocks follow the page instead */
html[dir=rtl] .gradio-container [dir=ltr], html[dir=rtl] .prose { direction: rtl; }
/* texts quoting French documents (titles, catalog entries) and the example questions keep their own direction on an Arabic page */
html[dir=rtl] #status-line p, html[dir=rtl] #welcome p, html[dir=rtl] #welcome li { unicode-bidi: plaintext; text-align: start; }
html[dir=rtl] .gradio-container button { unicode-bidi: plaintext; }
/* a dropdown's arrow sits on the right (absolute, over the input): in Arabic the text starts there, so
   the arrow goes to the left and the input keeps room for it on that side */
html[dir=rtl] .gradio-container .secondary-wrap .icon-wrap { right: auto; left: var(--size-5); }
html[dir=rtl] .gradio-container .secondary-wrap input { padding-left: calc(var(--size-5) * 2); padding-right: var(--size-1); }
.floor-checks { list-style: none; padding-left: 0; margin: 0; }
.floor-checks li { margin: .3em 0; line-height: 1.35; }
.check-ok { color: #1a7f37; }
.check-below { color: #cf222e; font-weight: 600; }
/* the theme colours a block's text: the check's colour must reach the words, not only the list item */
.floor-checks li.check-ok *, .floor-checks li.check-below *, .floor-checks li.check-unverified * { color: inherit !important; }
.check-unverified { color: #6e7781; }
.clause-citations details { margin: .3em 0; }
.clause-citations pre { white-space: pre-wrap; unicode-bidi: plaintext; font-size: .9em; }
#status-line { font-size: .9em; opacity: .85; }
"""


def kind_choices(lang: str = "fr") -> list[tuple[str, str]]:
    return choices({kind: f"kind_{kind}" for kind in FILTER_KINDS}, lang)


def search_kind_choices(lang: str = "fr") -> list[tuple[str, str]]:
    """Every kind of text (the clause templates too: the search box reads them all)."""
    from rag.web.corpus import kind_label

    return [(kind_label(kind, lang), kind) for kind in KIND_LABELS]


def variant_choices(lang: str = "fr") -> list[tuple[str, str]]:
    return choices({variant: f"variant_{variant}" for variant in VARIANT_LABELS}, lang)


class Handlers:
    """The handlers of every tab over one engine, callable without a browser (tests use them)."""

    def __init__(self, engine, settings, users: dict | None = None, guard: DownloadGuard | None = None):
        self.shared = Shared(engine, settings, users=users, guard=guard)
        self.chat = ChatTab(self.shared)
        self.drafting = DraftingTab(self.shared)
        self.project = ProjectTab(self.shared)
        self.corpus = CorpusTab(self.shared)

    @property
    def engine(self):
        return self.shared.engine

    @property
    def guard(self) -> DownloadGuard:
        return self.shared.downloads.guard

    @property
    def download_root(self) -> Path:
        return self.shared.downloads.root

    def relabel(self, lang, clause=None, search_rows=None, index_results=None, request: gr.Request | None = None) -> dict:
        """After the language switch: the status line, the welcome panel and every table again, in
        ``lang`` (a Dataframe shows new headers only with its rows: each table is re-sent whole,
        from the handlers' state, or, for the per-file results, from what the table shows)."""
        from rag.web.corpus import relabel_results, search_table
        from rag.web.drafting import comparison_table

        lang = ui_lang(lang)
        admin = self.corpus.is_admin(request)
        return {
            "lang": lang, "status": self.corpus.status_line(lang), "welcome": self.chat.welcome_markdown(lang),
            "admin_notice": "" if admin else tr("read_only", lang),
            "comparison": comparison_table(clause if isinstance(clause, dict) else None, lang),
            "project_table": project_state(self.project.workspace(request), lang=lang)["project_table"],
            "search_results": search_table(search_rows if isinstance(search_rows, list) else [], lang),
            "index_results": table("result", relabel_results(shown_rows(index_results), lang), lang),
            "documents": self.corpus.documents_table(lang),
            "source": gr.update(choices=self.chat.source_choices(lang)), "search_source": gr.update(choices=self.chat.source_choices(lang)),
        }

    def on_load(self, request: gr.Request | None = None) -> dict:
        """The page as this user sees it: their conversations and project, the corpus, admin rights."""
        corpus, chat = self.corpus, self.chat
        admin = corpus.is_admin(request)
        return {
            "status": corpus.status_line(),
            "conversations": gr.update(choices=chat.conversation_choices(chat.workspace(request)), value=None),
            "source": gr.update(choices=chat.source_choices(), value=""),
            "search_source": gr.update(choices=chat.source_choices(), value=""),
            "documents": corpus.document_rows(),
            "remove_pick": gr.update(choices=corpus.remove_choices(), value=None),
            "admin_box": gr.update(visible=admin),
            "admin_notice": "" if admin else "*Consultation seule : l'ajout et le retrait de textes sont réservés aux administrateurs.*",
            **project_state(self.project.workspace(request)),
        }


def takes_lang(fn: Callable) -> bool:
    """Whether a handler takes the interface language (its last parameter, ``lang``)."""
    params = list(inspect.signature(fn).parameters)
    return bool(params) and params[-1] == "lang"


def bind_outputs(fn: Callable, names: tuple[str, ...], components: dict[str, Any]) -> Callable:
    """``fn`` with its dict of output names turned into Gradio's dict of components. The wrapper
    keeps fn's name (the API name) and signature (Gradio injects request, progress, event data)."""

    def to_components(result: dict) -> dict:
        unknown = set(result) - set(names)
        if unknown:
            raise KeyError(f"{fn.__name__} returned outputs its event does not list: {sorted(unknown)}")
        return {components[name]: value for name, value in result.items()}

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def stream(*args, **kwargs):
            results = fn(*args, **kwargs)
            try:
                for result in results:
                    yield to_components(result)
            finally:
                results.close()  # the browser left: the handler's own cleanup runs now

        return stream

    @functools.wraps(fn)
    def call(*args, **kwargs):
        return to_components(fn(*args, **kwargs))

    return call


def build_theme():
    # the default theme's fonts are served locally: nothing is fetched from a font CDN
    return gr.themes.Default(primary_hue="emerald", secondary_hue="slate")


def launch_options(settings, users: dict | None = None, guard: DownloadGuard | None = None) -> dict:
    """Everything ``launch()`` needs besides host, port, share, show_error and upload size.

    - login: bcrypt check with lockout when a users file is set;
    - files: nothing of the user data folder or of the store is served (both blocked); exports reach
      the browser as private copies checked by :class:`DownloadGuard`;
    - headers: Content-Security-Policy (no remote image can leak a draft), nosniff, no referrer;
      requests from pages of other origins refused, no ``/file=<url>`` fetches, loopback Host only
      when listening on loopback without login (see :class:`SecurityHeaders`);
    - no run history kept in the browser, no MCP endpoint, no PWA, no footer links;
    - css and theme (Gradio 6 takes them here, not in Blocks).
    """
    from starlette.middleware import Middleware

    blocked = [str(Path(settings.data_dir).resolve())]
    if not settings.chroma_url:
        blocked.append(str(Path(settings.store_dir).resolve()))
    # DNS rebinding: without login, a server on loopback answers only loopback names. With login, a
    # rebinding page has no session cookie (cookies belong to the real host name), and the
    # reverse proxy of deploy/ sends the public name as Host: any name is then accepted.
    allowed_hosts = LOOPBACK_HOSTS if settings.host in LOOPBACK_HOSTS and not users else None
    return {
        "auth": Authenticator(users) if users else None,
        "auth_message": "Ittifaq — connectez-vous avec votre identifiant." if users else None,
        "allowed_paths": [],
        "blocked_paths": blocked,
        "app_kwargs": {"middleware": [Middleware(SecurityHeaders, guard=guard, allowed_hosts=allowed_hosts)]},
        "footer_links": [],
        "run_history": False,
        "mcp_server": False,
        "pwa": False,
        "ssr_mode": False,
        "css": CSS,
        "theme": build_theme(),
    }


def launch(demo: gr.Blocks, settings, users: dict | None = None, guard: DownloadGuard | None = None, **extra):
    """Start the server the only way Ittifaq allows: on ``settings.host:settings.port``, never with a
    public share link (``GRADIO_SHARE`` is overridden), errors not shown to browsers, uploads capped.

    ``extra`` is for tests and benchmarks (``prevent_thread_lock``, ``quiet``, another port)."""
    if extra.pop("share", False):
        raise ValueError("Les liens de partage publics (share=True) sont interdits : les projets de convention sont confidentiels.")
    options = {
        "server_name": settings.host,
        "server_port": settings.port,
        "show_error": False,
        "inbrowser": False,
        "max_file_size": f"{settings.max_upload_mb}mb",
        **launch_options(settings, users=users, guard=guard),
        **extra,
    }
    return demo.launch(share=False, **options)


def build_ui(engine, settings, users: dict | None = None, guard: DownloadGuard | None = None) -> gr.Blocks:
    """The whole interface over one engine. ``users`` (from the users file) turns admin checks on."""
    h = Handlers(engine, settings, users=users, guard=guard)
    C: dict[str, Any] = {}
    lab = Labels()  # every text that follows the interface language

    def wire(trigger, fn: Callable, inputs, names: tuple[str, ...], **options):
        # the interface language goes to every handler that takes it (its notices, its tables' headers)
        if takes_lang(fn):
            inputs = [*(inputs or []), C["lang"]]
        return trigger(bind_outputs(fn, names, C), inputs, [C[n] for n in names], **options)

    with gr.Blocks(title="Ittifaq — اتفاق", analytics_enabled=False, delete_cache=(1800, DOWNLOAD_TTL_S)) as demo:
        with gr.Row(equal_height=True):
            lab(gr.Markdown(tr("app_intro")), "app_intro", "value")
            ui_lang = lab(gr.Radio(list(LANGUAGES), value="fr", label=tr("ui_lang"), scale=0, min_width=280), "ui_lang")
        C["lang"] = gr.State("fr")  # the interface language, for the handlers' notices and tables
        C["status"] = gr.Markdown(h.corpus.status_line(), elem_id="status-line")
        with gr.Tabs() as tabs:
            with lab(gr.Tab(tr("tab_chat")), "tab_chat"):
                with lab(gr.Accordion(tr("first_steps"), open=True), "first_steps"):
                    C["welcome"] = gr.Markdown(h.chat.welcome_markdown(), elem_id="welcome")
                    with gr.Row():
                        example_buttons = [gr.Button(q, size="sm", variant="secondary") for q in EXAMPLE_QUESTIONS]
                    with gr.Row():
                        import_btn = lab(gr.Button(tr("import_btn"), size="sm", variant="primary", scale=0, min_width=320, elem_id="import-texts"), "import_btn", "value")
                C["conversation"] = gr.State(None)
                C["cited"] = gr.State([])
                with gr.Row():
                    with gr.Column(scale=1, min_width=230):
                        C["conversations"] = lab(gr.Dropdown(choices=[], value=None, label=tr("conversations"), interactive=True), "conversations")
                        new_btn = lab(gr.Button(tr("new_conv"), variant="secondary"), "new_conv", "value")
                        delete_btn = lab(gr.Button(tr("delete_conv"), variant="stop", size="sm"), "delete_conv", "value")
                        with gr.Row():
                            C["confirm_delete"] = lab(gr.Button(tr("confirm_delete"), variant="stop", size="sm", visible=False), "confirm_delete", "value")
                            C["cancel_delete"] = lab(gr.Button(tr("cancel_delete"), size="sm", visible=False), "cancel_delete", "value")
                        C["delete_pending"] = gr.State(None)
                        C["conv_title"] = lab(gr.Textbox(label=tr("conv_title"), max_length=MAX_CONVERSATION_TITLE, lines=1, elem_classes=["bidi"]), "conv_title")
                        with gr.Row():
                            rename_btn = lab(gr.Button(tr("rename_conv"), size="sm"), "rename_conv", "value")
                            export_conv_btn = lab(gr.Button(tr("export_conv"), size="sm"), "export_conv", "value")
                        C["conv_file"] = lab(gr.File(label=tr("conv_file"), interactive=False, elem_id="conv-file"), "conv_file")
                        with lab(gr.Accordion(tr("filters"), open=False), "filters"):
                            kinds = lab(gr.Dropdown(kind_choices(), value=[], multiselect=True, label=tr("kinds")), "kinds")
                            lab(kinds, kind_choices, "choices")
                            langs = lab(gr.Dropdown([(v, k) for k, v in LANG_LABELS.items()], value=[], multiselect=True, label=tr("langs")), "langs")
                            C["source"] = lab(gr.Dropdown(choices=h.chat.source_choices(), value="", label=tr("source")), "source")
                    with gr.Column(scale=3):
                        C["chatbot"] = lab(gr.Chatbot(label=tr("chatbot"), elem_id="chatbot", height=520, buttons=["copy", "copy_all"], feedback_options=None), "chatbot")
                        with gr.Row():
                            C["message"] = lab(gr.Textbox(label=tr("message"), lines=1, max_lines=8, scale=5, elem_classes=["bidi"]), "message")
                            send_btn = lab(gr.Button(tr("send"), variant="primary", scale=1), "send", "value")
                        C["chat_notice"] = gr.Markdown("")
                        with gr.Row():
                            C["article_prev"] = lab(gr.Button(tr("article_prev"), size="sm", visible=False), "article_prev", "value")
                            C["article_next"] = lab(gr.Button(tr("article_next"), size="sm", visible=False), "article_next", "value")
                    with gr.Column(scale=2, min_width=260):
                        C["chips"] = lab(gr.Radio(choices=[], value=None, label=tr("chips")), "chips")
                        C["excerpt_title"] = gr.Markdown("", elem_classes=["bidi"])
                        C["excerpt_text"] = lab(gr.Textbox(label=tr("excerpt_text"), lines=14, max_lines=30, interactive=False, elem_classes=["bidi"]), "excerpt_text")

            with lab(gr.Tab(tr("tab_draft")), "tab_draft"):
                C["clause"] = gr.State(None)
                with gr.Row():
                    with gr.Column(scale=2):
                        topic = lab(gr.Dropdown(h.drafting.library_choices(), value=None, label=tr("library_topic")), "library_topic")
                        free_topic = lab(gr.Textbox(label=tr("free_topic"), max_length=MAX_TOPIC_CHARS), "free_topic")
                        demands = lab(gr.Textbox(label=tr("demands"), lines=4, placeholder=tr("demands_example"), elem_classes=["bidi"]), "demands")
                        lab(demands, "demands_example", "placeholder")
                        context = lab(gr.Textbox(label=tr("context"), lines=2, max_length=MAX_CONTEXT_CHARS), "context")
                        variant = lab(gr.Radio(variant_choices(), value="target", label=tr("variant")), "variant")
                        lab(variant, variant_choices, "choices")
                        use_model = lab(gr.Checkbox(value=False, label=tr("use_model")), "use_model")
                        draft_btn = lab(gr.Button(tr("draft_btn"), variant="primary"), "draft_btn", "value")
                    with gr.Column(scale=3):
                        C["clause_title"] = gr.Markdown("")
                        C["clause_text"] = lab(gr.Textbox(label=tr("clause_text"), lines=16, max_lines=40, interactive=True, elem_classes=["bidi"]), "clause_text")
                        C["checks"] = gr.HTML("")
                        C["comparison"] = lab(gr.Dataframe(headers=COMPARISON_HEADERS, value=[], interactive=False, wrap=True, label=tr("comparison"),
                                                               column_widths=["22%", "20%", "14%", "14%", "30%"], elem_id="comparison"), "comparison")
                        C["clause_citations"] = gr.HTML("")
                        C["rationale"] = gr.Markdown("")
                        C["draft_warnings"] = gr.Markdown("")
                        add_btn = lab(gr.Button(tr("add_btn"), variant="primary"), "add_btn", "value")
                        C["draft_notice"] = gr.Markdown("")

            with lab(gr.Tab(tr("tab_project")), "tab_project"):
                C["project_title"] = lab(gr.Textbox(label=tr("project_title"), max_length=300), "project_title")
                C["project_preamble"] = lab(gr.Textbox(label=tr("project_preamble"), lines=4, elem_classes=["bidi"]), "project_preamble")
                save_meta = lab(gr.Button(tr("save_meta"), size="sm"), "save_meta", "value")
                C["project_table"] = lab(gr.Dataframe(headers=PROJECT_HEADERS, value=[], interactive=False, wrap=True, label=tr("project_table")), "project_table")
                with gr.Row():
                    C["clause_pick"] = lab(gr.Dropdown(choices=[], value=None, label=tr("clause_pick"), scale=3), "clause_pick")
                    up_btn = lab(gr.Button(tr("up"), scale=1), "up", "value")
                    down_btn = lab(gr.Button(tr("down"), scale=1), "down", "value")
                    remove_clause_btn = lab(gr.Button(tr("remove_clause"), variant="stop", scale=1), "remove_clause", "value")
                C["clause_edit"] = lab(gr.Textbox(label=tr("clause_edit"), lines=6, max_lines=30, elem_classes=["bidi"]), "clause_edit")
                edit_clause_btn = lab(gr.Button(tr("edit_clause"), size="sm"), "edit_clause", "value")
                with gr.Row():
                    export_md = lab(gr.Button(tr("export_md"), variant="primary"), "export_md", "value")
                    export_docx = lab(gr.Button(tr("export_docx"), variant="primary"), "export_docx", "value")
                C["export_file"] = lab(gr.File(label=tr("export_file"), interactive=False), "export_file")
                C["project_notice"] = gr.Markdown("", elem_id="project-notice")
                C["project_conflicts"] = gr.HTML("", elem_id="project-conflicts")
                C["take_negotiation"] = take_btn = lab(gr.Button(tr("take_negotiation"), size="sm", visible=False), "take_negotiation", "value")
                C["project_preview"] = lab(gr.Textbox(label=tr("project_preview"), lines=16, max_lines=60, interactive=False, elem_classes=["bidi"]), "project_preview")

            with lab(gr.Tab(tr("tab_calc")), "tab_calc"):
                from rag.web.calculators import build_calc_tab

                build_calc_tab(lab, lang=C["lang"])

            with lab(gr.Tab(tr("tab_negotiation")), "tab_negotiation") as negotiation_tab:
                from rag.library import load_library, load_rules
                from rag.web.negotiation import build_negotiation_tab

                build_negotiation_tab(settings, load_library(settings.clauses_dir), load_rules(settings.rules_file), h.chat.user_of, h.shared.downloads.copy, lab=lab,
                                      db=h.project.database, tab=negotiation_tab, lang=C["lang"], switch=ui_lang)

            with lab(gr.Tab(tr("tab_corpus"), id="corpus"), "tab_corpus"):
                with lab(gr.Accordion(tr("search_corpus"), open=True), "search_corpus"):
                    with gr.Row():
                        search_query = lab(gr.Textbox(label=tr("search_query"), lines=1, scale=4, elem_classes=["bidi"]), "search_query")
                        search_btn = lab(gr.Button(tr("search_btn"), variant="primary", scale=1), "search_btn", "value")
                    with gr.Row():
                        search_kinds = lab(gr.Dropdown(search_kind_choices(), value=[], multiselect=True, label=tr("kinds")), "kinds")
                        lab(search_kinds, search_kind_choices, "choices")
                        search_langs = lab(gr.Dropdown([(v, k) for k, v in LANG_LABELS.items()], value=[], multiselect=True, label=tr("langs")), "langs")
                        C["search_source"] = lab(gr.Dropdown(choices=h.chat.source_choices(), value="", label=tr("source")), "source")
                    C["search_notice"] = gr.Markdown("")
                    C["search_rows"] = gr.State([])
                    C["search_results"] = lab(gr.Dataframe(headers=SEARCH_HEADERS, value=[], interactive=False, wrap=True, label=tr("search_results"), elem_id="search-results"), "search_results")
                    C["search_article"] = gr.Markdown("", elem_classes=["bidi"], elem_id="search-article")
                C["admin_notice"] = gr.Markdown("")
                with gr.Group(visible=True) as admin_box:
                    C["admin_box"] = admin_box
                    upload = lab(gr.File(file_count="multiple", file_types=[".pdf", ".docx", ".md", ".txt", ".png", ".jpg", ".jpeg", ".tif", ".tiff"], label=tr("upload"), elem_id="corpus-upload"), "upload")
                    with gr.Row():
                        index_btn = lab(gr.Button(tr("index_btn"), variant="primary"), "index_btn", "value")
                        reindex_btn = lab(gr.Button(tr("reindex_btn")), "reindex_btn", "value")
                    with gr.Row():
                        C["remove_pick"] = lab(gr.Dropdown(choices=[], value=None, label=tr("remove_pick"), scale=3), "remove_pick")
                        remove_doc_btn = lab(gr.Button(tr("remove_doc"), variant="stop", scale=1), "remove_doc", "value")
                C["corpus_notice"] = gr.Markdown("")
                C["index_results"] = lab(gr.Dataframe(headers=RESULT_HEADERS, value=[], interactive=False, wrap=True, label=tr("index_results")), "index_results")
                C["documents"] = lab(gr.Dataframe(headers=DOCUMENT_HEADERS, value=h.corpus.document_rows(), interactive=False, wrap=True, label=tr("documents")), "documents")

        # ---- events: the model is one resource (one generation at a time), indexing another
        model_queue = {"concurrency_id": "model", "concurrency_limit": 2}
        chat_inputs = [C["message"], C["conversation"], kinds, langs, C["source"]]
        def after(event) -> None:  # the article and delete buttons follow what the chat now shows
            wire(event.then, h.chat.after_chat, [C["conversation"]], AFTER_CHAT_OUTPUTS, queue=False, api_visibility="undocumented")

        for trigger in (C["message"].submit, send_btn.click):
            after(wire(trigger, h.chat.chat_submit, chat_inputs, CHAT_OUTPUTS, **model_queue))
        import_btn.click(lambda: gr.Tabs(selected="corpus"), None, tabs, queue=False)  # « Importer » opens the Corpus tab
        for button, question in zip(example_buttons, EXAMPLE_QUESTIONS):
            asked = button.click(lambda q=question: q, None, C["message"], queue=False)
            after(wire(asked.then, h.chat.chat_submit, chat_inputs, CHAT_OUTPUTS, **model_queue))
        wire(C["article_prev"].click, h.chat.read_previous, [C["conversation"]], READ_OUTPUTS, queue=False)
        wire(C["article_next"].click, h.chat.read_next, [C["conversation"]], READ_OUTPUTS, queue=False)
        wire(rename_btn.click, h.chat.rename_conversation, [C["conv_title"], C["conversation"]], RENAME_OUTPUTS, queue=False)
        wire(C["conv_title"].submit, h.chat.rename_conversation, [C["conv_title"], C["conversation"]], RENAME_OUTPUTS, queue=False)
        wire(export_conv_btn.click, h.chat.export_conversation, [C["conversation"]], CONV_EXPORT_OUTPUTS)
        wire(C["chips"].change, h.chat.show_citation, [C["chips"], C["cited"]], CITATION_OUTPUTS, queue=False)
        wire(C["chatbot"].select, h.chat.select_message, [C["conversation"]], SELECT_OUTPUTS, queue=False)
        after(wire(new_btn.click, h.chat.new_conversation, None, CHAT_OUTPUTS, queue=False))
        after(wire(C["conversations"].input, h.chat.open_conversation, [C["conversations"]], CHAT_OUTPUTS, queue=False))
        # deleting takes two clicks: « Supprimer » shows « Confirmer la suppression », which deletes
        wire(delete_btn.click, h.chat.ask_delete, [C["conversation"]], ASK_DELETE_OUTPUTS, queue=False)
        wire(C["cancel_delete"].click, h.chat.cancel_delete, None, ASK_DELETE_OUTPUTS, queue=False)
        wire(C["confirm_delete"].click, h.chat.confirm_delete, [C["delete_pending"], C["conversation"]], DELETE_OUTPUTS, queue=False)

        wire(draft_btn.click, h.drafting.draft_clause, [topic, free_topic, demands, context, variant, use_model], DRAFT_OUTPUTS, **model_queue)
        added = wire(add_btn.click, h.drafting.add_to_project, [C["clause"], C["clause_text"]], ADD_OUTPUTS)
        wire(added.then, h.project.sync_negotiation, None, SYNC_OUTPUTS)

        meta = [C["project_title"], C["project_preamble"]]
        wire(save_meta.click, h.project.save_project_meta, meta, PROJECT_SYNC_OUTPUTS)
        wire(up_btn.click, h.project.move_clause_up, [C["clause_pick"]], PROJECT_SYNC_OUTPUTS)
        wire(down_btn.click, h.project.move_clause_down, [C["clause_pick"]], PROJECT_SYNC_OUTPUTS)
        wire(remove_clause_btn.click, h.project.remove_clause, [C["clause_pick"]], PROJECT_SYNC_OUTPUTS)
        wire(C["clause_pick"].input, h.project.pick_clause, [C["clause_pick"]], ("clause_edit",), queue=False)
        wire(edit_clause_btn.click, h.project.edit_clause, [C["clause_pick"], C["clause_edit"]], PROJECT_SYNC_OUTPUTS)
        wire(take_btn.click, h.project.take_negotiation_texts, None, PROJECT_SYNC_OUTPUTS)
        wire(export_md.click, h.project.export_markdown, meta, EXPORT_OUTPUTS)
        wire(export_docx.click, h.project.export_docx, meta, EXPORT_OUTPUTS)

        index_queue = {"concurrency_id": "index", "concurrency_limit": 1}
        wire(index_btn.click, h.corpus.index_uploads, [upload], CORPUS_OUTPUTS, **index_queue)
        wire(reindex_btn.click, h.corpus.reindex_all, None, CORPUS_OUTPUTS, **index_queue)
        wire(remove_doc_btn.click, h.corpus.remove_document, [C["remove_pick"]], CORPUS_OUTPUTS, **index_queue)
        search_inputs = [search_query, search_kinds, search_langs, C["search_source"]]
        for trigger in (search_query.submit, search_btn.click):
            wire(trigger, h.corpus.search_corpus, search_inputs, SEARCH_OUTPUTS)
        wire(C["search_results"].select, h.corpus.open_search_result, [C["search_rows"]], ("search_article",), queue=False)

        wire(demo.load, h.on_load, None, LOAD_OUTPUTS)

        labelled = lab.components()
        relabelled = [C[n] for n in RELABEL_OUTPUTS if all(C[n] is not c for c in labelled)]

        def set_language(lang: str, clause=None, search_rows=None, index_results=None, request: gr.Request | None = None):
            """Every label, then what :meth:`Handlers.relabel` re-renders, in ``labelled + relabelled`` order."""
            updates = dict(zip(map(id, labelled), lab.updates(lang)))
            for name, value in h.relabel(lang, clause, search_rows, index_results, request).items():
                if id(C[name]) in updates:  # a labelled component: its label and its rows (or choices) in one update
                    is_update = isinstance(value, dict) and value.get("__type__") == "update"
                    updates[id(C[name])].update({k: v for k, v in value.items() if k != "__type__"} if is_update else {"value": value})
                else:
                    updates[id(C[name])] = value
            return [updates[id(c)] for c in labelled + relabelled]

        # the page turns right-to-left for Arabic (Gradio's layout follows the document direction)
        ui_lang.change(
            set_language, [ui_lang, C["clause"], C["search_rows"], C["index_results"]], labelled + relabelled, queue=False,
            js=f"(lang, ...rest) => {{ const rtl = {sorted(RTL_LANGS)!r}.includes(lang); document.documentElement.setAttribute('dir', rtl ? 'rtl' : 'ltr'); "
               "document.documentElement.setAttribute('lang', lang); return [lang, ...rest]; }",
        )

    demo.handlers = h  # for tests and app.py
    demo.queue(default_concurrency_limit=2, max_size=32)
    return demo
