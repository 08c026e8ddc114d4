"""HTTP security of the real server (TESTPLAN items 25–30).

The Gradio app is started in this process by :func:`rag.web.launch` (what app.py calls) on a free
127.0.0.1 port; requests go over real HTTP with httpx and gradio_client, as an attacker's script
would. Store, files, login and middleware are real; the embedder is the deterministic test one and
the chat model a scripted fake that records every prompt it is given. While these tests run, any
connection or DNS lookup that is not loopback is recorded and refused.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import gradio as gr
import httpx
import pytest
from gradio_client import Client, handle_file

from rag.engine import build_engine
from rag.settings import Settings
from rag.web import DownloadGuard, build_ui, launch, layout
from rag.workspace import load_users
from tests.conftest import HashEmbeddings

PASSWORD = "correct horse battery"
LAW = """# Code du travail (extrait de test)
### Article 184
Dans les activités non agricoles, la durée normale de travail est fixée à 2288 heures par année ou 44 heures par semaine.
### Article 350
Le salarié bénéficie d'une prime d'ancienneté de 5 % après deux ans de service.
"""
ANSWER = "La durée normale du travail est de 44 heures par semaine [S1]."
QUESTION = "Quelle est la durée normale du travail par semaine ? art. 184"


class ScriptedModel:
    """Always the same cited answer, streamed word by word; every prompt is kept."""

    name = "scripted"
    n_ctx = 4096

    def __init__(self, answer: str = ANSWER):
        self.answer = answer
        self.prompts: list[list[dict]] = []

    def stream(self, messages, max_tokens=None):
        self.prompts.append(messages)
        yield from re.findall(r"\S+\s*", self.answer)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    settings: Settings
    engine: object
    model: ScriptedModel
    demo: gr.Blocks

    @contextmanager
    def client(self, user: str | None = None) -> Iterator[httpx.Client]:
        """A plain HTTP client, logged in as ``user`` when one is given."""
        with httpx.Client(base_url=self.url, timeout=60) as client:
            if user:
                assert client.post("/login", data={"username": user, "password": PASSWORD}).status_code == 200
            yield client

    def api(self, user: str) -> Client:
        return Client(self.url, auth=(user, PASSWORD), verbose=False, download_files=False)

    def close(self) -> None:
        self.demo.close()
        self.engine.close()


def start_server(root: Path, users: dict | None = None, host: str = "127.0.0.1", **settings_overrides) -> Server:
    """The app as app.py runs it, bound to 127.0.0.1 whatever ``host`` the settings name."""
    settings = Settings(store_dir=root / "store", data_dir=root / "users", corpus_dirs=[], host=host, port=free_port(),
                        _env_file=None, **settings_overrides)
    model = ScriptedModel()
    engine = build_engine(settings, embedder=HashEmbeddings(), chat=model)
    # named like the official code so that the templates' "C. trav. art. N" references resolve
    law = root / "ma_code_travail_fr_2011.md"
    law.write_text(LAW, encoding="utf-8")
    engine.index.index_paths([law], isolated=False)
    engine.settings.min_similarity = 0.05  # the hash embedder's scale, not e5's
    guard = DownloadGuard()
    demo = build_ui(engine, settings, users=users, guard=guard)
    launch(demo, settings, users=users, guard=guard, server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    return Server(f"http://127.0.0.1:{settings.port}", settings, engine, model, demo)


def write_users(path: Path, lines: list[str]) -> dict:
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    path.write_text("".join(line.format(hash=hashed) + "\n" for line in lines), encoding="utf-8")
    return load_users(path)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """Login on: alice is an admin, bob and carol are not."""
    root = tmp_path_factory.mktemp("http")
    users = write_users(root / "users.txt", ["alice:{hash}:admin", "bob:{hash}", "carol:{hash}"])
    server = start_server(root, users=users, max_upload_mb=1)
    yield server
    server.close()


@pytest.fixture(scope="module")
def alice(app):
    with app.client("alice") as client:
        yield client


@pytest.fixture
def network_attempts(monkeypatch) -> list:
    """Records, then refuses, every attempt of this process (the server runs in it) to reach
    anything but loopback: an empty list at the end proves nothing left the machine.

    The server's event loop is uvloop, whose DNS and connects bypass Python's ``socket`` module, so
    the attempt is also caught where it would start: any httpx request (Gradio's only HTTP client)
    and Gradio's URL check before a fetch (``safehttpx``)."""
    import safehttpx

    attempts: list = []
    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo
    real_send, real_async_send = httpx.Client.send, httpx.AsyncClient.send

    def loopback(host) -> bool:
        return host in (None, "localhost", "::1", b"localhost") or str(host).startswith("127.")

    def connect(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if sock.family == socket.AF_UNIX or loopback(host):
            return real_connect(sock, address)
        attempts.append(("connect", address))
        raise OSError(f"network access attempted: {address!r}")

    def getaddrinfo(host, *args, **kwargs):
        if loopback(host):
            return real_getaddrinfo(host, *args, **kwargs)
        attempts.append(("dns", host))
        raise OSError(f"DNS lookup attempted: {host!r}")

    def send(client, request, **kwargs):
        if not loopback(request.url.host):
            attempts.append(("http", str(request.url)))
            raise httpx.ConnectError("network access attempted", request=request)
        return real_send(client, request, **kwargs)

    async def async_send(client, request, **kwargs):
        if not loopback(request.url.host):
            attempts.append(("http", str(request.url)))
            raise httpx.ConnectError("network access attempted", request=request)
        return await real_async_send(client, request, **kwargs)

    async def validate_url(hostname: str) -> str:
        attempts.append(("resolve", hostname))
        raise ValueError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(httpx.Client, "send", send)
    monkeypatch.setattr(httpx.AsyncClient, "send", async_send)
    monkeypatch.setattr(safehttpx, "async_validate_url", validate_url)
    return attempts


def last_data(stream_text: str):
    """The final ``data:`` line of a /gradio_api/call/… event stream, decoded."""
    lines = [line[5:].strip() for line in stream_text.splitlines() if line.startswith("data:")]
    return json.loads(lines[-1]) if lines else None


def call(client: httpx.Client, api_name: str, data: list) -> tuple[str, object]:
    """One API call over plain HTTP: (event kind 'complete' or 'error', its data)."""
    response = client.post(f"/gradio_api/call/{api_name}", json={"data": data})
    assert response.status_code == 200, response.text
    stream = client.get(f"/gradio_api/call/{api_name}/{response.json()['event_id']}").text
    events = re.findall(r"^event: (\w+)", stream, flags=re.M)
    return events[-1], last_data(stream)


def export_url(server: Server, user: str, title: str) -> tuple[Client, str]:
    """Draft a clause, add it and export the project through the API, as ``user``; the file URL."""
    api = server.api(user)
    topic = next(value for label, value in server.demo.handlers.drafting.library_choices() if "ancienneté" in label.lower())
    drafted = api.predict(topic, "", "8 % après 2 ans", "", "target", False, api_name="/draft_clause")
    assert drafted[-1].startswith("Clause rédigée"), drafted[-1]
    added = api.predict(drafted[2], api_name="/add_to_project")
    assert "ajoutée au projet" in added[0], added[0]
    exported, notice = api.predict(title, "Préambule", api_name="/export_markdown")
    assert exported and "Export prêt" in notice, notice
    return api, exported["url"]


# ---- 25: files outside Gradio's cache, traversal, symlinks ------------------------------------------


@pytest.mark.parametrize("target", [
    "/etc/passwd",
    "%2fetc%2fpasswd",
    "..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "{cache}/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "{cache}/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/etc/passwd%00.md",
])
def test_file_route_refuses_paths_outside_the_cache(app, alice, target):
    cache = str(gr.utils.get_cache_folder().resolve())
    for route in ("/gradio_api/file=", "/gradio_api/file/"):
        response = alice.get(route + target.format(cache=cache))
        assert response.status_code in (403, 404), (route, target, response.status_code)
        assert "root:" not in response.text


def test_user_data_and_store_are_never_served(app, alice):
    Client(app.url, auth=("alice", PASSWORD), verbose=False).predict(QUESTION, [], [], "", api_name="/chat_submit")
    conversations = list((app.settings.data_dir / "alice" / "conversations").glob("*.json"))
    assert conversations, "the chat through the API saved a conversation"
    for private in [conversations[0], app.settings.store_dir / "manifest.json"]:
        assert private.exists()
        response = alice.get(f"/gradio_api/file={private.resolve()}")
        assert response.status_code == 403 and QUESTION not in response.text


def test_symlink_in_the_cache_pointing_outside_is_refused(app, alice, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("confidentiel : mandat de négociation", encoding="utf-8")
    folder = gr.utils.get_cache_folder() / f"ittifaq-test-{free_port()}"
    folder.mkdir(parents=True)
    try:
        (folder / "lien.txt").symlink_to(secret)
        (folder / "vrai.txt").write_text("fichier du cache", encoding="utf-8")
        assert alice.get(f"/gradio_api/file={folder / 'vrai.txt'}").text == "fichier du cache"  # the folder is served…
        response = alice.get(f"/gradio_api/file={folder / 'lien.txt'}")
        assert response.status_code == 403 and "confidentiel" not in response.text  # …but not the link out of it
    finally:
        for child in folder.iterdir():
            child.unlink()
        folder.rmdir()


# ---- 26: remote URLs -------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/",
    "http://evil.example/pixel.png?q=draft",
    "https:%2f%2fevil.example%2fx.png",
    "//evil.example/x.png",
    "file:///etc/passwd",
])
def test_remote_urls_are_refused_and_nothing_is_fetched(app, alice, network_attempts, url):
    for route in ("/gradio_api/file=", "/gradio_api/file/", "/gradio_api/proxy="):
        response = alice.get(route + url)
        assert response.status_code == 403, (route, url, response.status_code)
    assert network_attempts == []


# ---- 27: CORS and Host ------------------------------------------------------------------------------


@pytest.mark.parametrize("origin", ["null", "http://evil.example", "http://127.0.0.1.evil.example", "http://localhost:1"])
def test_foreign_origins_can_neither_read_nor_act(app, alice, origin):
    """A page of another origin, with the user's cookie: no CORS grant, no data, no handler run.

    (Gradio's own CORS layer, outside ours, answers preflights itself and grants any other
    localhost port: for those the guarantee is that the real request is refused.)"""
    before = len(app.model.prompts)
    preflight = alice.options("/gradio_api/queue/join", headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
    read = alice.get("/config", headers={"Origin": origin})
    if "localhost" not in origin:
        assert preflight.headers.get("access-control-allow-origin") is None
        assert read.headers.get("access-control-allow-origin") is None
    assert read.status_code == 403 and "dependencies" not in read.text and "autre site" in read.text
    act = alice.post("/gradio_api/call/chat_submit", headers={"Origin": origin}, json={"data": [QUESTION, [], [], ""]})
    assert act.status_code == 403 and "event_id" not in act.text
    assert len(app.model.prompts) == before
    same = alice.get("/config", headers={"Origin": app.url})  # the app's own pages still work
    assert same.status_code == 200 and "dependencies" in same.json()


def test_app_reached_by_a_lan_name_refuses_foreign_origins(tmp_path):
    """Reached as http://intranet.lan, Gradio's own CORS layer echoes any Origin with credentials;
    the request itself must still be refused, and the same-origin one served."""
    server = start_server(tmp_path, host="intranet.lan")
    try:
        with server.client() as client:
            for origin in ("http://evil.example", "null", "http://intranet.lan.evil.example"):
                response = client.get("/config", headers={"Host": "intranet.lan", "Origin": origin})
                assert response.status_code == 403 and "dependencies" not in response.text
                posted = client.post("/gradio_api/call/chat_submit", headers={"Host": "intranet.lan", "Origin": origin},
                                     json={"data": [QUESTION, [], [], ""]})
                assert posted.status_code == 403
            assert server.model.prompts == []
            for origin in ("http://intranet.lan", "https://intranet.lan"):  # direct, or behind a TLS proxy
                same = client.get("/config", headers={"Host": "intranet.lan", "Origin": origin})
                assert same.status_code == 200 and "dependencies" in same.json()
    finally:
        server.close()


def test_foreign_host_header_is_refused_on_loopback_without_login(tmp_path):
    """DNS rebinding: a page of evil.example re-pointed at 127.0.0.1 sends Host: evil.example; with
    no login, nothing else would stop it from using the app."""
    server = start_server(tmp_path)
    try:
        with server.client() as client:
            port = server.settings.port
            for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1.evil.example:{port}"):
                response = client.get("/", headers={"Host": host})
                assert response.status_code == 421 and "127.0.0.1" in response.text
                posted = client.post("/gradio_api/call/chat_submit", headers={"Host": host}, json={"data": [QUESTION, [], [], ""]})
                assert posted.status_code == 421
            assert server.model.prompts == []
            assert client.get("/", headers={"Host": f"localhost:{port}"}).status_code == 200
    finally:
        server.close()


def test_with_login_the_public_name_of_a_reverse_proxy_is_served(app):
    """deploy/Caddyfile forwards https://ittifaq.example.org to 127.0.0.1 with that Host: served,
    behind the login; a rebinding page would have no session cookie for it (401)."""
    with app.client() as client:
        headers = {"Host": "ittifaq.example.org", "Origin": "https://ittifaq.example.org"}
        assert client.post("/login", headers=headers, data={"username": "bob", "password": PASSWORD}).status_code == 200
        assert client.get("/config", headers=headers).status_code == 200
    with app.client() as stranger:
        assert stranger.get("/config", headers={"Host": "evil.example"}).status_code == 401


def test_pages_carry_the_content_security_policy(app, alice):
    for path in ("/", "/config", "/gradio_api/info"):
        csp = alice.get(path).headers.get("content-security-policy", "")
        directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
        assert directives.get("img-src") == ["'self'", "data:", "blob:"], csp  # no remote image can leak a draft
        assert directives.get("connect-src") == ["'self'", "ws:", "wss:"] and directives.get("object-src") == ["'none'"]


# ---- 28: login ---------------------------------------------------------------------------------------


def test_every_api_call_without_login_is_401(app, alice):
    api_names = [d["api_name"] for d in alice.get("/config").json()["dependencies"] if d.get("api_name")]
    assert {"chat_submit", "export_markdown", "index_uploads", "remove_document"} <= set(api_names)
    exported = alice.post("/gradio_api/call/export_markdown", json={"data": [None, None]})
    assert exported.status_code == 200
    with app.client() as anonymous:
        checks = [("GET", "/config"), ("GET", "/gradio_api/info"), ("POST", "/gradio_api/upload"),
                  ("GET", f"/gradio_api/file={gr.utils.get_cache_folder()}/x/y.md"), ("GET", "/gradio_api/queue/data?session_hash=x")]
        for name in api_names:
            checks += [("POST", f"/gradio_api/call/{name}"), ("POST", f"/gradio_api/run/{name}")]
        for method, path in checks:
            response = anonymous.request(method, path, json={"data": []} if method == "POST" else None)
            assert response.status_code == 401, (method, path, response.status_code)
        for fn_index in range(len(api_names)):
            joined = anonymous.post("/gradio_api/queue/join", json={"data": [], "fn_index": fn_index, "session_hash": "attacker"})
            assert joined.status_code == 401
        anonymous.cookies.set(f"access-token-{app.demo.server_app.cookie_id}", "forged-token")
        assert anonymous.get("/config").status_code == 401


def test_gradio_client_needs_the_right_password(app):
    from gradio_client.exceptions import AuthenticationError

    with pytest.raises(AuthenticationError):
        Client(app.url, verbose=False)
    with pytest.raises(Exception):
        Client(app.url, auth=("alice", "wrong"), verbose=False)


def test_login_locks_out_after_repeated_failures(app):
    with app.client() as client:
        for _ in range(5):
            assert client.post("/login", data={"username": "carol", "password": "guess"}).status_code != 200
        assert client.post("/login", data={"username": "carol", "password": PASSWORD}).status_code != 200
        assert client.post("/login", data={"username": "bob", "password": PASSWORD}).status_code == 200


# ---- 29: every endpoint validates what an API client sends -------------------------------------------


@pytest.mark.parametrize("message,why", [("", "vide"), ("  \n\t ", "vide"), ("x" * 200_000, "trop long")])
def test_chat_api_refuses_empty_and_huge_messages_before_the_model(app, message, why):
    before = len(app.model.prompts)
    result = app.api("bob").predict(message, [], [], "", api_name="/chat_submit")
    assert why in result[-1]
    assert len(app.model.prompts) == before


def test_chat_api_answers_a_real_question_with_a_citation(app):
    before = len(app.model.prompts)
    chatbot, message, chips, _, _, conversations, notice = app.api("bob").predict(QUESTION, [], [], "", api_name="/chat_submit")
    assert len(app.model.prompts) == before + 1 and notice == ""
    reply = chatbot[-1]["content"][0]["text"]
    assert "art. 184" in reply and "[S1]" not in reply
    assert chips["choices"] and "art. 184" in chips["choices"][0][0]


def test_chat_api_refuses_filters_the_ui_does_not_offer(app):
    api = app.api("bob")
    for args in ((["evil"], [], ""), ([], ["xx"], ""), ([], [], "../../etc/passwd")):
        with pytest.raises(Exception, match="not in the list of choices"):
            api.predict(QUESTION, *args, api_name="/chat_submit")


def test_conversation_of_another_user_cannot_be_opened(app):
    alice_api = app.api("alice")
    alice_api.predict(QUESTION, [], [], "", api_name="/chat_submit")
    conv_id = next((app.settings.data_dir / "alice" / "conversations").glob("*.json")).stem
    for bad in (conv_id, "../../../etc/passwd"):  # bob's session never offered these
        with pytest.raises(Exception, match="not in the list of choices"):
            app.api("bob").predict(bad, api_name="/open_conversation")


def test_drafting_api_applies_the_ui_limits(app):
    api = app.api("bob")
    topic = next(value for label, value in app.demo.handlers.drafting.library_choices() if "ancienneté" in label.lower())
    assert "Thème trop long" in api.predict(None, "t" * 5000, "", "", "target", False, api_name="/draft_clause")[-1]
    many = "\n".join(["5 % après 2 ans"] * 30)
    assert "Au plus" in api.predict(topic, "", many, "", "target", False, api_name="/draft_clause")[-1]
    assert "Contexte trop long" in api.predict(topic, "", "", "c" * 10_000, "target", False, api_name="/draft_clause")[-1]
    with pytest.raises(Exception, match="not in the list of choices"):
        api.predict(topic, "", "", "", "extreme", False, api_name="/draft_clause")
    # adding needs a clause drafted in this session: the text alone is not enough
    assert "Rédigez d'abord" in api.predict("Article 1 — texte inventé", api_name="/add_to_project")[0]


def test_project_api_bounds_title_and_preamble(app):
    app.api("bob").predict("T" * 100_000, "P" * 100_000, api_name="/save_project_meta")
    project = json.loads((app.settings.data_dir / "bob" / "project.json").read_text(encoding="utf-8"))
    assert len(project["title"]) <= 300 and len(project["preamble"]) <= 20_000
    with pytest.raises(Exception, match="not in the list of choices"):
        app.api("bob").predict(999, api_name="/move_clause_up")


def test_corpus_api_is_for_admins_only(app, tmp_path):
    api = app.api("bob")
    note = tmp_path / "note_bob.md"
    note.write_text("# Note\n### Article 1\nTexte déposé par un non-administrateur.\n", encoding="utf-8")
    notice = layout.CORPUS_OUTPUTS.index("corpus_notice")  # outputs come back in the event's order
    assert "administrateurs" in api.predict([handle_file(str(note))], api_name="/index_uploads")[notice]
    assert "administrateurs" in api.predict(api_name="/reindex_all")[notice]
    assert "administrateurs" in api.predict("ma_code_travail_fr_2011.md", api_name="/remove_document")[notice]
    assert {d.source for d in app.engine.index.documents()} == {"ma_code_travail_fr_2011.md"}


def test_upload_api_refuses_bad_files(app, alice, tmp_path):
    api = app.api("alice")
    fake = tmp_path / "faux.pdf"
    fake.write_bytes(b"<html><body>pas un PDF</body></html>")
    rows = api.predict([handle_file(str(fake))], api_name="/index_uploads")[0]["data"]
    assert rows[0][:2] == ["faux.pdf", "échec"] and "PDF" in rows[0][2]
    svg = tmp_path / "x.svg"
    svg.write_text("<svg onload=alert(1)/>", encoding="utf-8")
    with pytest.raises(Exception, match="Invalid file type"):
        api.predict([handle_file(str(svg))], api_name="/index_uploads")
    # a file of this machine that nobody uploaded cannot be named
    secret = tmp_path / "secret.txt"
    secret.write_text("Article 1\nMandat confidentiel.", encoding="utf-8")
    kind, data = call(alice, "index_uploads", [[{"path": str(secret), "meta": {"_type": "gradio.FileData"}}]])
    assert kind == "error"
    # over the size limit (1 MiB here): refused by the upload route before any parsing
    big = alice.post("/gradio_api/upload", files={"files": ("gros.txt", b"a" * (2 * 1024 * 1024))})
    assert big.status_code == 413
    assert {d.source for d in app.engine.index.documents()} == {"ma_code_travail_fr_2011.md"}


def test_another_users_export_can_neither_be_fetched_nor_indexed(app, alice):
    bob_api, url = export_url(app, "bob", "Projet de Bob")
    path = url.split("/gradio_api/file=", 1)[1]
    with app.client("bob") as bob:
        assert bob.get(f"/gradio_api/file={path}").text.startswith("# Projet de Bob")
    assert alice.get(f"/gradio_api/file={path}").status_code == 403
    # alice is an admin: naming bob's cached export as an upload must not put it in the shared corpus
    kind, data = call(alice, "index_uploads", [[{"path": path, "meta": {"_type": "gradio.FileData"}}]])
    assert kind == "complete", data
    assert "autre utilisateur" in data[0]["data"][0][2]
    assert {d.source for d in app.engine.index.documents()} == {"ma_code_travail_fr_2011.md"}


def test_interface_language_api_accepts_only_offered_languages(app):
    api = app.api("bob")
    labels = api.predict("en", api_name="/set_language")
    assert any(isinstance(v, dict) and v.get("label") == "Your question (French, Arabic or English)" for v in labels)
    with pytest.raises(Exception, match="not in the list of choices"):
        api.predict("<script>", api_name="/set_language")


# ---- 30: no share link ---------------------------------------------------------------------------------


def test_share_links_are_refused(tmp_path, monkeypatch, network_attempts):
    monkeypatch.setenv("GRADIO_SHARE", "True")  # what would turn a share link on for a plain launch()
    server = start_server(tmp_path / "a")
    try:
        assert server.demo.share is False and server.demo.share_url is None
        with server.client() as client:
            assert client.get("/").status_code == 200
    finally:
        server.close()
    assert network_attempts == []  # no tunnel, no share-server lookup
    settings = Settings(store_dir=tmp_path / "b" / "store", data_dir=tmp_path / "b" / "users", corpus_dirs=[], _env_file=None)
    with pytest.raises(ValueError, match="partage"):
        launch(gr.Blocks(), settings, share=True)
