"""The negotiation flow against a real PostgreSQL server started by the fixture.

Debian's ``postgresql`` package (``make db``) provides the binaries; the server runs from a temp
folder on a free loopback port with trust authentication, as a non-root user (initdb refuses
root: as root the server runs as the ``postgres`` system user). Skipped, with the reason, when
the binaries are absent.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from rag.db import ClauseStatus, Database, DatabaseError
from rag.negotiation import Negotiation, create_project
from tests.test_backends import free_port
from tests.test_negotiation import LIBRARY, RULES, check_concurrent_edits, check_nothing_lost, check_redline, five_clauses, three_round_negotiation

BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
pytestmark = pytest.mark.skipif(not BINARIES, reason="PostgreSQL server binaries not installed (make db: apt-get install postgresql)")


class PostgresServer:
    def __init__(self) -> None:
        self.bin = Path(BINARIES[-1]).parent
        self.root = Path(tempfile.mkdtemp(prefix="ittifaq-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.user = None
        if os.geteuid() == 0:
            try:
                self.user = pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root and no 'postgres' system user to run the server")
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.user is not None:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=self.root)

    def init(self) -> None:
        result = self._run("initdb", "-D", str(self.data), "-U", "ittifaq", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed: {result.stderr[-2000:]}")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        result = self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "server.log"), "-w", "-t", "60", "start")
        if result.returncode != 0:
            log = (self.root / "server.log").read_text(errors="replace")[-2000:] if (self.root / "server.log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {result.stderr[-1000:]} {log}")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", timeout=60)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://ittifaq@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=ittifaq dbname=postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name


@pytest.fixture(scope="module")
def postgres():
    server = PostgresServer()
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture
def pg_db(postgres):
    database = Database(postgres.url(postgres.create_database()))
    yield database
    database.close()


def test_three_rounds_on_postgresql(pg_db, tmp_path):
    assert pg_db.dialect == "postgresql"
    flow = three_round_negotiation(pg_db, tmp_path, isolated=False)
    check_redline(Negotiation(pg_db, flow["pid"], "amina", LIBRARY, RULES), flow)
    url = pg_db.url
    pg_db.close()
    reopened = Database(url)  # a restart of the app: migrations already at head, data there
    try:
        check_nothing_lost(reopened, flow)
        check_concurrent_edits(reopened, flow)
    finally:
        reopened.close()


def test_server_down_mid_session_gives_a_clear_message_and_nothing_half_written(postgres):
    url = postgres.url(postgres.create_database())
    db = Database(url, timeout_s=3)
    try:
        pid = create_project(db, "amina", five_clauses()[:2], library=LIBRARY)
        n = Negotiation(db, pid, "amina", LIBRARY, RULES)
        clause = n.clauses()[0]
        postgres.stop()
        try:
            started = time.monotonic()
            with pytest.raises(DatabaseError, match="ne répond pas"):
                n.save_clause(clause.key, clause.text + " (modifié)", clause.version, status=ClauseStatus.en_suspens)
            assert time.monotonic() - started < 30
        finally:
            postgres.start()
        after = Negotiation(db, pid, "amina", LIBRARY, RULES).clause(clause.key)
        assert (after.text, after.version, after.status) == (clause.text, clause.version, clause.status)
    finally:
        db.close()
