"""The Gradio interface: Chat, Rédaction, Projet de convention, Calculs, Négociation, Corpus.

    texts.py      interface strings FR/EN/AR and vocabulary labels
    render.py     HTML / Markdown rendering (everything untrusted escaped), error sentences
    security.py   ASGI security middleware, per-user download guard, private download copies
    base.py       what every tab's handlers share (engine, settings, login, downloads)
    chat.py · drafting.py · project.py · corpus.py · calculators.py · negotiation.py   one per tab
    layout.py     gr.Blocks and its events, launch options, launch

The logic lives in ``rag/`` (answer, draft, export, index, workspace, negotiation); handlers only
validate what comes from the client, pick the user's workspace from the login and format results.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported

from rag.web.layout import Handlers, build_ui, launch, launch_options  # noqa: E402
from rag.web.security import DownloadGuard  # noqa: E402

__all__ = ["DownloadGuard", "Handlers", "build_ui", "launch", "launch_options"]
