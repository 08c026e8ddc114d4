"""What keeps one negotiator's work away from others and the app off the network.

:class:`SecurityHeaders` is the ASGI middleware given to ``launch``: CSP and friends, same-origin
requests only, no server-side fetch of ``/file=<url>``, loopback Host names only when listening on
loopback without login, and the per-user check of cached exports recorded by :class:`DownloadGuard`.
:class:`Downloads` makes the private copies Gradio serves; :class:`Authenticator` checks passwords
(bcrypt, lockout) against the accounts :func:`rag.workspace.load_users` reads from the users file.
"""

from __future__ import annotations

import atexit
import logging
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path

from rag.workspace import UserAccount, safe_user_id

log = logging.getLogger(__name__)

DOWNLOAD_TTL_S = 3600


def _hostname(host_header: str) -> str:
    """'127.0.0.1:7860' → '127.0.0.1', '[::1]:7860' → '::1', 'Example.LAN' → 'example.lan'."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _same_origin(origin: str, hosts: list[str]) -> bool:
    """Whether a browser's ``Origin`` names the host:port the request was sent to (the scheme is
    not compared: behind a TLS proxy the page is https and the app sees http)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return False
    if not parts.hostname or parts.scheme not in ("http", "https"):
        return False  # "null" (sandboxed frame, file:// page) and anything odd
    default = {"http": 80, "https": 443}[parts.scheme]
    name = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    wanted = name if port in (None, default) else f"{name}:{port}"
    for host in hosts:
        host = host.strip().lower()
        if host and (host == wanted or host in (f"{wanted}:80", f"{wanted}:443")):
            return True
    return False


class DownloadGuard:
    """Who may fetch which export from Gradio's file cache.

    Gradio copies every returned file into a shared cache folder named by a hash of its content and
    serves it to anyone who has the URL. The hash of each export is recorded with its owner here,
    and :class:`SecurityHeaders` refuses that cached file to any other logged-in user.
    """

    def __init__(self) -> None:
        self._owners: dict[str, set[str]] = {}

    @staticmethod
    def key(path: Path) -> str:
        from gradio.processing_utils import hash_file

        return hash_file(path)

    def grant(self, path: Path, user: str) -> None:
        self._owners.setdefault(self.key(path), set()).add(safe_user_id(user))

    def scan(self, data_dir: Path) -> int:
        """Re-learn owners from the exports on disk (after a restart the cache may still hold them)."""
        count = 0
        for path in Path(data_dir).glob("*/exports/*"):
            if path.is_file() and not path.name.startswith("."):
                self.grant(path, path.parent.parent.name)
                count += 1
        return count

    def allowed(self, cached_path: str, user: str | None) -> bool:
        owners = self._owners.get(Path(cached_path).parent.name)
        return owners is None or safe_user_id(user) in owners


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class SecurityHeaders:
    """ASGI middleware: a Content-Security-Policy (no remote images, scripts or connections) and the
    per-user check of cached exports. Passed to ``launch(app_kwargs={"middleware": [...]})``.

    It also closes three doors Gradio leaves open: ``/file=http://…`` makes the server fetch a
    public URL itself (an offline app must never go out); when the app is reached under any name
    other than a loopback one, Gradio's CORS layer (outside this one) echoes every foreign
    ``Origin`` with credentials, so any site could read a logged-in negotiator's data or run a
    handler: every request sent by a page of another origin (``null`` included) is refused here;
    and a server listening on 127.0.0.1 answers any ``Host``, which lets a web page re-point its
    own domain at 127.0.0.1 (DNS rebinding): without login, only loopback names are then accepted.
    """

    CSP = (
        "default-src 'self'; img-src 'self' data: blob:; media-src 'self' data: blob:; "
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
        "font-src 'self' data:; connect-src 'self' ws: wss:; worker-src 'self' blob:; "
        "frame-ancestors 'self'; object-src 'none'; base-uri 'self'; form-action 'self'"
    )

    FILE_ROUTE = re.compile(r"^.*?/(?:file=|file/|proxy=)(.*)$", re.S)
    REMOTE = re.compile(r"\s*(?:[a-z][a-z0-9+.-]*:|//|\\\\)", re.I)  # a scheme, //host or \\host

    def __init__(self, app, guard: DownloadGuard | None = None, allowed_hosts: frozenset[str] | None = None):
        self.app = app
        self.guard = guard
        self.allowed_hosts = allowed_hosts  # None: any Host (the app listens on a LAN name)

    @staticmethod
    async def _refuse(scope, receive, send, status: int, text: str):
        from starlette.responses import PlainTextResponse

        return await PlainTextResponse(text, status_code=status)(scope, receive, send)

    async def __call__(self, scope, receive, send):
        if scope.get("type") not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        if self.allowed_hosts is not None and _hostname(host) not in self.allowed_hosts:
            if scope["type"] == "websocket":
                return await send({"type": "websocket.close", "code": 1008})
            return await self._refuse(scope, receive, send, 421, "Adresse refusée : Ittifaq n'accepte que les connexions adressées à 127.0.0.1 ou localhost.")
        if scope["type"] == "websocket":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        route = self.FILE_ROUTE.match(path)
        if route and self.REMOTE.match(route.group(1)):
            return await self._refuse(scope, receive, send, 403, "Accès refusé : Ittifaq ne télécharge aucun fichier depuis le réseau.")
        origin = headers.get("origin")
        # X-Forwarded-Host is not trusted: a page can set it (Gradio grants any preflight on a LAN
        # name); a reverse proxy must pass the Host header through (nginx: proxy_set_header Host $host)
        if origin is not None and not _same_origin(origin, [host]):
            return await self._refuse(scope, receive, send, 403, "Requête refusée : elle vient d'une page d'un autre site.")
        if self.guard is not None:
            match = re.search(r"/file[=/](.+)$", path)
            if match and not self.guard.allowed(match.group(1), self._user(scope)):
                return await self._refuse(scope, receive, send, 403, "Accès refusé : ce fichier appartient à un autre utilisateur.")

        async def send_with_headers(message):
            if message.get("type") == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", self.CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"SAMEORIGIN"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        return await self.app(scope, receive, send_with_headers)

    @staticmethod
    def _user(scope) -> str | None:
        """The logged-in user, as Gradio itself reads it (its access-token cookie); None without login."""
        app = scope.get("app")
        if app is None or getattr(app, "auth", None) is None:
            return None
        from starlette.requests import Request

        cookies = Request(scope).cookies
        cookie_id = getattr(app, "cookie_id", "")
        token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
        return getattr(app, "tokens", {}).get(token) or "\x00anonymous"


class Downloads:
    """Private copies of exports for Gradio to serve, each granted to its user in the guard. The
    user data folder itself is never served; copies older than ``DOWNLOAD_TTL_S`` are swept."""

    def __init__(self, guard: DownloadGuard | None = None) -> None:
        self.guard = guard or DownloadGuard()
        self.root = Path(tempfile.mkdtemp(prefix="ittifaq-downloads-"))
        atexit.register(shutil.rmtree, self.root, True)

    def copy(self, path: Path, user: str | None) -> Path:
        """A private copy of ``path`` for ``user`` (the login; None without login)."""
        cutoff = time.time() - DOWNLOAD_TTL_S
        for old in self.root.iterdir():
            try:
                if old.stat().st_mtime < cutoff:
                    shutil.rmtree(old, ignore_errors=True)
            except OSError:
                pass
        folder = Path(tempfile.mkdtemp(dir=self.root))
        copy = folder / path.name
        shutil.copyfile(path, copy)
        self.guard.grant(copy, user or "")
        return copy


class Authenticator:
    """bcrypt password check for ``launch(auth=...)`` with a lockout after repeated failures
    (Gradio's own login has none)."""

    def __init__(self, users: dict[str, UserAccount], max_failures: int = 5, lockout_s: float = 300.0):
        import bcrypt

        self.users = users
        self.max_failures = max_failures
        self.lockout_s = lockout_s
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()
        self._dummy = bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(rounds=10))  # same cost for unknown users

    def locked(self, username: str) -> bool:
        with self._lock:
            recent = [t for t in self._failures.get(username, []) if time.monotonic() - t < self.lockout_s]
            self._failures[username] = recent
            return len(recent) >= self.max_failures

    def __call__(self, username: str, password: str) -> bool:
        import bcrypt

        username = (username or "").strip()[:200]
        if self.locked(username):
            log.warning("login refused for %r: locked after repeated failures", username[:64])
            return False
        account = self.users.get(username)
        try:
            ok = bcrypt.checkpw((password or "").encode("utf-8"), account.password_hash if account else self._dummy)
        except ValueError:
            ok = False
        ok = ok and account is not None
        if not ok:
            with self._lock:
                if len(self._failures) > 10_000:  # many invented names must not grow this forever
                    cutoff = time.monotonic() - self.lockout_s
                    self._failures = {k: v for k, v in self._failures.items() if v and v[-1] > cutoff}
                self._failures.setdefault(username[:200], []).append(time.monotonic())
        else:
            with self._lock:
                self._failures.pop(username, None)
        return ok
