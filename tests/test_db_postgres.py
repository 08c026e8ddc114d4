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


def test_teams_of_the_users_file_and_the_tab_project_on_postgresql(pg_db, settings, tmp_path):
    """Migration 0002 on PostgreSQL, the users file's teams synced, the tab's JSON project taken into
    the current round: the same behaviour as on SQLite (tests/test_teams.py, tests/test_negotiation.py)."""
    import bcrypt

    from rag.db import head_revision, schema_revision, sync_teams
    from rag.negotiation import projects_for, sync_workspace_project
    from rag.workspace import Workspace, load_users

    assert schema_revision(pg_db.engine) == head_revision()
    digest = bcrypt.hashpw(b"x", bcrypt.gensalt(rounds=4)).decode()
    users_file = tmp_path / "users.txt"
    users_file.write_text(f"amina:{digest}:team=Équipe PG\nkarim:{digest}:team=équipe pg\n", encoding="utf-8")
    ws = Workspace(settings.data_dir, "amina")
    for clause in five_clauses()[:2]:
        ws.add_clause(clause)
    assert sync_teams(pg_db, load_users(users_file)).created == ["Équipe PG"]
    created = sync_workspace_project(pg_db, settings.data_dir, "amina", LIBRARY)
    assert created.created and [p["id"] for p in projects_for(pg_db, "karim")] == [created.project_id]  # her only team's
    ws.add_clause(five_clauses()[2])
    assert sync_workspace_project(pg_db, settings.data_dir, "amina", LIBRARY).added == [five_clauses()[2].title]
    assert not sync_workspace_project(pg_db, settings.data_dir, "amina", LIBRARY).changed
    users_file.write_text(f"amina:{digest}:team=Équipe PG\nkarim:{digest}\n", encoding="utf-8")
    assert sync_teams(pg_db, load_users(users_file)).removed == [("Équipe PG", "karim")]
    assert projects_for(pg_db, "karim") == []


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
