"""The negotiation database: teams, projects, rounds, clause versions and history, conversations.

SQLite file by default (``<data_dir>/ittifaq.db``, embedded, nothing to start), PostgreSQL through
``RAG_DATABASE_URL`` for a shared deployment. The schema is owned by the Alembic migrations in
``rag/migrations`` and brought up to date when the database is opened (:func:`upgrade_schema`),
under a lock so that two app processes starting together do not both migrate.

Every write happens inside one transaction (:meth:`Database.session`): a server that goes away or
a read-only file mid-save ends in a :class:`DatabaseError` whose message is for a negotiator, and
nothing half-written. The per-user JSON workspaces of earlier versions are imported once by
:func:`migrate_workspaces`; their files are kept and marked.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Iterator

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, create_engine, event, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
MEMBER_FROM_FILE = "users_file"  # TeamMember.source of a membership declared in the users file
MIGRATED_MARKER = ".migrated-to-db.json"


class ClauseStatus(StrEnum):
    """Where a clause stands in a round."""

    proposition_syndicale = "proposition_syndicale"
    contre_proposition_patronale = "contre_proposition_patronale"
    accord_de_principe = "accord_de_principe"
    en_suspens = "en_suspens"
    retiree = "retiree"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    ClauseStatus.proposition_syndicale: "Proposition syndicale",
    ClauseStatus.contre_proposition_patronale: "Contre-proposition patronale",
    ClauseStatus.accord_de_principe: "Accord de principe",
    ClauseStatus.en_suspens: "En suspens",
    ClauseStatus.retiree: "Retirée",
}


class Position(StrEnum):
    """The mandate of a clause: the drafting variants (see ``rag.draft.VARIANTS``)."""

    plancher = "plancher"
    cible = "cible"
    ambitieuse = "ambitieuse"


VARIANT_POSITIONS = {"floor": Position.plancher, "target": Position.cible, "ambitious": Position.ambitieuse}


class EventKind(StrEnum):
    """What a line of a clause's history records."""

    proposed = "proposee"          # first text of the clause in the project
    edited = "modifiee"            # new text saved by a member
    status = "statut"              # status changed, text unchanged
    imported = "contre_proposition"  # text taken from an imported counter-proposal
    round_opened = "nouveau_tour"  # copied into a new round
    migrated = "reprise"           # imported from a JSON workspace


class DatabaseError(RuntimeError):
    """The database could not be reached or written; nothing of the operation was saved."""


class AccessDenied(PermissionError):
    """A user asked for a project that is neither theirs nor their team's."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    members: Mapped[list["TeamMember"]] = relationship(back_populates="team", cascade="all, delete-orphan")


class TeamMember(Base):
    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("team_id", "user", name="uq_team_member"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    user: Mapped[str] = mapped_column(String(100), index=True)
    role: Mapped[str] = mapped_column(String(20), default="member")
    source: Mapped[str] = mapped_column(String(20), default="admin", server_default="admin")  # MEMBER_FROM_FILE | "admin"
    team: Mapped[Team] = relationship(back_populates="members")


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    preamble: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(100), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"), nullable=True, index=True)
    legacy_key: Mapped[str | None] = mapped_column(String(300), unique=True, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    clauses: Mapped[list["ProjectClause"]] = relationship(back_populates="project", cascade="all, delete-orphan", order_by="ProjectClause.position")
    rounds: Mapped[list["Round"]] = relationship(back_populates="project", cascade="all, delete-orphan", order_by="Round.number")


class ProjectClause(Base):
    """A clause of a project, across rounds. Its text per round lives in :class:`ClauseVersion`."""

    __tablename__ = "clauses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    topic: Mapped[str] = mapped_column(String(200), default="")
    template_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    data: Mapped[dict] = mapped_column(JSON, default=dict)  # the drafted clause's JSON (citations, checks, values…)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    project: Mapped[Project] = relationship(back_populates="clauses")
    positions: Mapped[list["ClausePosition"]] = relationship(back_populates="clause", cascade="all, delete-orphan")


class ClausePosition(Base):
    __tablename__ = "clause_positions"
    __table_args__ = (UniqueConstraint("clause_id", "position", name="uq_clause_position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clause_id: Mapped[int] = mapped_column(ForeignKey("clauses.id", ondelete="CASCADE"), index=True)
    position: Mapped[str] = mapped_column(String(20))  # Position
    text: Mapped[str] = mapped_column(Text)
    figures: Mapped[dict] = mapped_column(JSON, default=dict)  # the parameter values of that variant
    clause: Mapped[ProjectClause] = relationship(back_populates="positions")


class Round(Base):
    __tablename__ = "rounds"
    __table_args__ = (UniqueConstraint("project_id", "number", name="uq_round_number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    date: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    project: Mapped[Project] = relationship(back_populates="rounds")
    versions: Mapped[list["ClauseVersion"]] = relationship(back_populates="round", cascade="all, delete-orphan")


class ClauseVersion(Base):
    """A clause's text and status in one round; ``version`` guards against lost updates."""

    __tablename__ = "clause_versions"
    __table_args__ = (UniqueConstraint("round_id", "clause_id", name="uq_round_clause"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    clause_id: Mapped[int] = mapped_column(ForeignKey("clauses.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(40))  # ClauseStatus
    author: Mapped[str] = mapped_column(String(100), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    round: Mapped[Round] = relationship(back_populates="versions")
    clause: Mapped[ProjectClause] = relationship()


class ClauseEvent(Base):
    """One line of a clause's history: who did what, when, with which text (append-only)."""

    __tablename__ = "clause_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clause_id: Mapped[int] = mapped_column(ForeignKey("clauses.id", ondelete="CASCADE"), index=True)
    round_number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30))  # EventKind
    status: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Conversation(Base):
    __tablename__ = "conversations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(100), index=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)  # the whole conversation object, messages included
    created: Mapped[str] = mapped_column(String(40), default="")
    updated: Mapped[str] = mapped_column(String(40), default="")


class LegacyImport(Base):
    """A JSON workspace file already imported (what makes :func:`migrate_workspaces` idempotent)."""

    __tablename__ = "legacy_imports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(String(500), unique=True)
    user: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # project | conversation
    sha256: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(100), default="")
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


# ------------------------------------------------------------------------------------------------
# opening, migrating, transactions


def describe_db_error(exc: BaseException) -> str:
    """A sentence for a negotiator about a driver error (never the SQL)."""
    text = str(getattr(exc, "orig", exc)).lower()
    if "readonly" in text or "read-only" in text or "read only" in text:
        return "la base de données est en lecture seule : rien n'a été enregistré. Vérifiez les droits du fichier ou du serveur."
    if "locked" in text or "lock timeout" in text or "could not obtain lock" in text:
        return "la base de données est occupée par un autre enregistrement : rien n'a été enregistré, réessayez dans un instant."
    if "disk" in text and "full" in text or "no space" in text:
        return "disque plein : rien n'a été enregistré."
    if isinstance(exc, IntegrityError):
        return "enregistrement refusé par la base (doublon ou référence manquante) : rien n'a été enregistré."
    if "connect" in text or "server" in text or "terminat" in text or "closed" in text or "timeout" in text or "unable to open" in text:
        return "le serveur de base de données ne répond pas : rien n'a été enregistré. Vérifiez qu'il est démarré et joignable."
    return f"erreur de la base de données ({type(getattr(exc, 'orig', exc)).__name__}) : rien n'a été enregistré."


def safe_url(url: str) -> str:
    """The URL without its password, for logs and messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return re.sub(r"//[^@/]*@", "//***@", url)


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    if parsed.database.startswith("file:"):  # an SQLite URI (« file:/path?mode=ro »): the path follows the scheme
        return Path(parsed.database[len("file:"):].split("?", 1)[0])
    return Path(parsed.database)


def build_engine(url: str, timeout_s: float = 10.0) -> Engine:
    """An engine with sane timeouts: SQLite waits for a writer's lock, PostgreSQL for a connection."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": timeout_s})
        else:
            from sqlalchemy.pool import StaticPool

            engine = create_engine(url, connect_args={"check_same_thread": False}, poolclass=StaticPool)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):  # foreign keys are off by default in SQLite
            dbapi_connection.isolation_level = None  # the driver's own BEGIN is replaced by _begin below
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if path is not None:
                try:
                    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
                except Exception:  # read-only file: stays in its journal mode, writes fail later with a clear message
                    pass
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            # a write transaction takes the write lock at once: a deferred one that read first could
            # only fail ("database is locked") when a concurrent writer committed in between
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("sqlite_immediate") else "BEGIN")

        return engine
    connect_args = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args = {"connect_timeout": max(1, int(timeout_s)), "options": f"-c lock_timeout={int(timeout_s * 1000)}"}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


@contextlib.contextmanager
def _migration_lock(engine: Engine, url: str) -> Iterator[None]:
    """One process migrates at a time: a file lock for SQLite, an advisory lock for PostgreSQL."""
    path = _sqlite_file(url)
    if path is not None:
        import fcntl

        with open(path.with_name(path.name + ".migrate.lock"), "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    if engine.dialect.name == "postgresql":
        from sqlalchemy import text

        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(781226018)"))
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(781226018)"))
                conn.commit()
        return
    yield


def alembic_config(connection=None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def schema_revision(engine: Engine) -> str | None:
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade_schema(engine: Engine, url: str) -> None:
    """Run the Alembic migrations up to head (nothing to do when the schema is current)."""
    from alembic import command

    head = head_revision()
    if schema_revision(engine) == head:
        return
    with _migration_lock(engine, url):
        if schema_revision(engine) == head:  # another process did it while we waited
            return
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        log.info("database schema upgraded to %s (%s)", head, safe_url(url))


class Database:
    """An open database: engine, sessions, and the error translation around every transaction."""

    def __init__(self, url: str, timeout_s: float = 10.0, migrate: bool = True):
        self.url = url
        try:
            self.engine = build_engine(url, timeout_s)
            if migrate:
                upgrade_schema(self.engine, url)
        except DBAPIError as exc:
            log.error("database %s unavailable: %s", safe_url(url), exc)
            raise DatabaseError(f"Base de données {safe_url(url)} inaccessible : {describe_db_error(exc)}") from exc
        self._readers = sessionmaker(self.engine, expire_on_commit=False)
        self._writers = sessionmaker(self.engine.execution_options(sqlite_immediate=True), expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def session(self, write: bool = True) -> Iterator[Session]:
        """One transaction: committed at the end of the block, rolled back on any error.
        ``write=False`` for reads (on SQLite they then never wait for the write lock)."""
        session = (self._writers if write else self._readers)()
        try:
            with session.begin():
                yield session
        except DBAPIError as exc:
            log.error("database error on %s: %s", safe_url(self.url), exc)
            raise DatabaseError(describe_db_error(exc).capitalize()) from exc
        except SQLAlchemyError as exc:
            log.error("database error on %s: %s", safe_url(self.url), exc)
            raise DatabaseError(f"Erreur de la base de données ({type(exc).__name__}) : rien n'a été enregistré.") from exc
        finally:
            session.close()

    def close(self) -> None:
        self.engine.dispose()


def open_database(settings, migrate: bool = True, sync_users: bool = True) -> Database:
    """The database of these settings (SQLite in the data folder unless ``database_url`` is set).

    With login on (``settings.users_file``) and ``sync_users``, the teams declared in the users
    file are brought into the database (:func:`sync_teams`): this is what the app does at start-up.
    A users file that cannot be read raises ``ValueError`` with its line, as the login does."""
    db = Database(settings.db_url, timeout_s=settings.database_timeout_s, migrate=migrate)
    if sync_users and getattr(settings, "users_file", None):
        from rag.workspace import load_users

        try:
            report = sync_teams(db, load_users(settings.users_file))
        except BaseException:
            db.close()
            raise
        if report.changed:
            log.info("teams of the users file synced: %s", report.summary())
    return db


# ------------------------------------------------------------------------------------------------
# teams and access


def create_team(db: Database, name: str, members: list[str] = ()) -> int:
    """A negotiation team (idempotent by name); returns its id. Members are login names."""
    from rag.workspace import safe_user_id

    name = " ".join((name or "").split())[:200]
    if not name:
        raise ValueError("Nom d'équipe vide.")
    with db.session() as s:
        team = s.scalar(select(Team).where(Team.name == name))
        if team is None:
            team = Team(name=name)
            s.add(team)
            s.flush()
        known = {m.user for m in team.members}
        for user in members:
            uid = safe_user_id(user)
            if uid not in known:
                team.members.append(TeamMember(user=uid))
                known.add(uid)
        return team.id


def add_team_member(db: Database, team_id: int, user: str, role: str = "member") -> None:
    from rag.workspace import safe_user_id

    with db.session() as s:
        team = s.get(Team, team_id)
        if team is None:
            raise ValueError(f"Équipe {team_id} inconnue.")
        uid = safe_user_id(user)
        if all(m.user != uid for m in team.members):
            team.members.append(TeamMember(user=uid, role=role))


@dataclass
class TeamSync:
    """What :func:`sync_teams` changed."""

    created: list[str] = field(default_factory=list)                   # team names
    added: list[tuple[str, str]] = field(default_factory=list)         # (team, user)
    removed: list[tuple[str, str]] = field(default_factory=list)       # (team, user)
    shared: list[tuple[int, str]] = field(default_factory=list)        # (project id, team)
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.added or self.removed or self.shared)

    def summary(self) -> str:
        parts = [f"{len(self.created)} équipe(s) créée(s)", f"{len(self.added)} membre(s) ajouté(s)", f"{len(self.removed)} retiré(s)",
                 f"{len(self.shared)} projet(s) partagé(s)"]
        return ", ".join(parts) + "".join(f" ; {n}" for n in self.notes)


def _team_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def sync_teams(db: Database, users: dict) -> TeamSync:
    """Bring the teams of the users file (``UserAccount.teams``) into the database, in one
    transaction; running it again with the same file changes nothing.

    - a team named in the file and absent from the database is created (names compared without
      regard to case or spacing, so « Équipe A » and « équipe  a » are one team);
    - a membership declared in the file is added (source ``users_file``);
    - a membership that came from the file and is no longer in it (user taken out of the team, or
      out of the file) is removed: that user no longer opens the team's projects (their own
      projects stay theirs). Memberships added in the application (source ``admin``) are left alone;
    - when a user joins a team here and is then in exactly one team, their projects without a team
      are shared with it, so that the members see the same rounds, statuses and costing (done once,
      when they join: a project later made private again with :func:`rag.negotiation.share_project`
      stays so). A member of several teams chooses with ``share_project``. A workspace imported
      later goes to its owner's only team (:func:`default_team`).
    """
    from rag.workspace import safe_user_id

    report = TeamSync()
    declared: dict[str, tuple[str, set[str]]] = {}  # team key → (spelling, user ids)
    for account in users.values():
        for name in getattr(account, "teams", ()) or ():
            spelling, members = declared.setdefault(_team_key(name), (" ".join(name.split())[:200], set()))
            members.add(safe_user_id(account.name))
    with db.session() as s:
        teams = {_team_key(t.name): t for t in s.scalars(select(Team))}
        for key, (spelling, _) in declared.items():
            if key not in teams:
                team = Team(name=spelling, created_at=utcnow())
                s.add(team)
                s.flush()
                teams[key] = team
                report.created.append(spelling)
        wanted = {(teams[key].id, uid) for key, (_, members) in declared.items() for uid in members}
        names = {t.id: t.name for t in teams.values()}
        existing = {}
        for member in s.scalars(select(TeamMember)):
            existing[(member.team_id, member.user)] = member
            if member.source == MEMBER_FROM_FILE and (member.team_id, member.user) not in wanted:
                s.delete(member)
                report.removed.append((names.get(member.team_id, str(member.team_id)), member.user))
        for team_id, uid in sorted(wanted):
            if (team_id, uid) not in existing:
                s.add(TeamMember(team_id=team_id, user=uid, role="member", source=MEMBER_FROM_FILE))
                report.added.append((names[team_id], uid))
        s.flush()
        joined = {uid for _, uid in report.added}
        for uid in sorted(joined):
            owned = teams_of(s, uid)
            projects = list(s.scalars(select(Project).where(Project.owner == uid, Project.team_id.is_(None))))
            if len(owned) == 1:
                for project in projects:
                    project.team_id = owned[0]
                    report.shared.append((project.id, names[owned[0]]))
            elif projects:
                report.notes.append(f"{uid} est membre de plusieurs équipes : ses {len(projects)} projet(s) sans équipe ne sont pas partagés (à choisir)")
    return report


def default_team(session: Session, user: str) -> int | None:
    """The team a new project of ``user`` belongs to: their only team, else none."""
    teams = teams_of(session, user)
    return teams[0] if len(teams) == 1 else None


def teams_of(session: Session, user: str) -> list[int]:
    return list(session.scalars(select(TeamMember.team_id).where(TeamMember.user == user)))


def can_access(session: Session, project: Project, user: str) -> bool:
    return project.owner == user or (project.team_id is not None and project.team_id in teams_of(session, user))


# ------------------------------------------------------------------------------------------------
# conversations (same shape as the JSON workspace's)

_CONVERSATION_ID = re.compile(r"^[0-9a-f]{32}$")


def list_conversations(db: Database, user: str) -> list[dict]:
    """Summaries {id, title, updated}, most recent first."""
    with db.session() as s:
        rows = s.execute(select(Conversation.id, Conversation.title, Conversation.updated).where(Conversation.owner == user)).all()
    out = [{"id": r.id, "title": r.title or "(sans titre)", "updated": r.updated} for r in rows]
    return sorted(out, key=lambda c: c["updated"], reverse=True)


def load_conversation(db: Database, user: str, conv_id: str) -> dict | None:
    if not isinstance(conv_id, str) or not _CONVERSATION_ID.match(conv_id):
        return None
    with db.session() as s:
        row = s.get(Conversation, conv_id)
        if row is None or row.owner != user:
            return None
        return dict(row.data, id=row.id)


def save_conversation(db: Database, user: str, conversation: dict) -> dict:
    conv_id = conversation.get("id", "")
    if not isinstance(conv_id, str) or not _CONVERSATION_ID.match(conv_id):
        raise ValueError("identifiant de conversation invalide")
    if not conversation.get("title"):
        first = next((m.get("content", "") for m in conversation.get("messages", []) if m.get("role") == "user"), "")
        first = " ".join(str(first).split())
        conversation["title"] = (first[:60] + "…") if len(first) > 60 else first
    conversation["updated"] = dt.datetime.now().isoformat(timespec="seconds")
    with db.session() as s:
        row = s.get(Conversation, conv_id)
        if row is not None and row.owner != user:
            raise AccessDenied("Conversation d'un autre utilisateur.")
        if row is None:
            row = Conversation(id=conv_id, owner=user, created=str(conversation.get("created", conversation["updated"])))
            s.add(row)
        row.title = str(conversation.get("title", ""))[:300]
        row.updated = conversation["updated"]
        row.data = json.loads(json.dumps(conversation, ensure_ascii=False, default=str))
    return conversation


def delete_conversation(db: Database, user: str, conv_id: str) -> bool:
    with db.session() as s:
        row = s.get(Conversation, conv_id) if isinstance(conv_id, str) else None
        if row is None or row.owner != user:
            return False
        s.delete(row)
        return True


# ------------------------------------------------------------------------------------------------
# one-time import of the JSON workspaces


@dataclass
class MigrationReport:
    projects: int = 0
    clauses: int = 0
    conversations: int = 0
    skipped: int = 0
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"projects": self.projects, "clauses": self.clauses, "conversations": self.conversations, "skipped": self.skipped, "notes": self.notes}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def migrate_workspaces(db: Database, data_dir: Path, library: list | None = None) -> MigrationReport:
    """Import every user's ``project.json`` and ``conversations/*.json`` once.

    Each file is imported in its own transaction and recorded in ``legacy_imports`` (so a second
    run imports nothing); the JSON files stay where they are and each user folder gets a
    ``.migrated-to-db.json`` marker listing what went where. An unreadable file is reported and
    left untouched. A file changed after its import is reported, not imported twice.
    """
    from rag.atomic import write_atomic

    report = MigrationReport()
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        return report
    for folder in sorted(p for p in data_dir.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))):
        user = folder.name
        imported: list[dict] = []
        files = [folder / "project.json"] if (folder / "project.json").is_file() else []
        files += sorted((folder / "conversations").glob("*.json")) if (folder / "conversations").is_dir() else []
        for path in files:
            key = str(path.resolve().relative_to(data_dir.resolve()))
            try:
                raw = path.read_bytes()
                data = json.loads(raw.decode("utf-8"))
            except (OSError, ValueError) as exc:
                report.notes.append(f"{key} : fichier illisible, non repris ({exc.__class__.__name__}) ; il est laissé en place.")
                continue
            digest = _sha256(raw)
            with db.session() as s:
                done = s.scalar(select(LegacyImport).where(LegacyImport.path == key))
            if done is not None:
                report.skipped += 1
                if done.sha256 != digest:
                    report.notes.append(f"{key} : modifié depuis sa reprise du {done.imported_at:%Y-%m-%d} ; non ré-importé (le fichier est conservé).")
                continue
            if path.name == "project.json":
                target = _import_project(db, user, key, digest, data, library, report)
                kind = "project"
            else:
                target = _import_conversation(db, user, key, digest, data, path.stem, report)
                kind = "conversation"
            if target:
                imported.append({"file": key, "kind": kind, "target": target})
        if imported:
            marker = folder / MIGRATED_MARKER
            previous = []
            try:
                previous = json.loads(marker.read_text(encoding="utf-8")).get("imports", [])
            except (OSError, ValueError, AttributeError):
                pass
            body = {"database": safe_url(db.url), "at": dt.datetime.now().isoformat(timespec="seconds"), "imports": previous + imported,
                    "note": "Fichiers repris dans la base de données ; ils sont conservés tels quels."}
            try:
                write_atomic(marker, json.dumps(body, ensure_ascii=False, indent=1).encode("utf-8"))
            except OSError as exc:  # the database is the record; the marker is only a courtesy
                report.notes.append(f"{user} : marqueur de reprise non écrit ({exc.strerror}).")
    return report


MIGRATED_ROUND_NOTE = "Reprise du projet enregistré avant la base de données"
FROM_TAB_ROUND_NOTE = "Premier tour, repris de l'onglet Projet de convention"


def _import_project(db: Database, user: str, key: str, digest: str, data: object, library, report: MigrationReport,
                    from_tab: bool = False) -> str | None:
    """The JSON project ``key`` as a database project with its clauses in round 1. ``from_tab``: the
    first sync from the « Projet de convention » tab (:func:`rag.negotiation.sync_workspace_project`),
    not the migration of a workspace written before the database; the round and the clauses' first
    event say which."""
    from rag.draft import Clause
    from rag.export import DEFAULT_PREAMBLE, DEFAULT_TITLE
    from rag.negotiation import positions_for

    if not isinstance(data, dict):
        report.notes.append(f"{key} : contenu inattendu, non repris.")
        return None
    clauses = []
    for n, item in enumerate(data.get("clauses") or [], start=1):
        try:
            clauses.append((Clause.from_json(item), item))
        except (ValueError, TypeError) as exc:
            report.notes.append(f"{key} : clause n° {n} illisible ({exc}), non reprise.")
    with db.session() as s:
        project = Project(
            title=str(data.get("title") or DEFAULT_TITLE)[:300],
            preamble=str(data.get("preamble") if data.get("preamble") is not None else DEFAULT_PREAMBLE),
            owner=user, legacy_key=f"json:{key}", team_id=default_team(s, user),
        )
        s.add(project)
        s.flush()
        round_ = Round(project_id=project.id, number=1, date=dt.date.today(), note=FROM_TAB_ROUND_NOTE if from_tab else MIGRATED_ROUND_NOTE,
                       created_by=user)
        s.add(round_)
        s.flush()
        origin = "reprise du Projet de convention" if from_tab else f"repris de {key}"
        for position, (clause, raw) in enumerate(clauses, start=1):
            import uuid

            row = ProjectClause(project_id=project.id, key=uuid.uuid4().hex, position=position, title=clause.title[:300], topic=clause.topic[:200],
                                template_id=clause.template_id, data=raw, created_by=user)
            s.add(row)
            s.flush()
            for pos, (text, values) in positions_for(clause, library).items():
                s.add(ClausePosition(clause_id=row.id, position=pos, text=text, figures=values))
            s.add(ClauseVersion(round_id=round_.id, clause_id=row.id, title=row.title, text=clause.text, status=ClauseStatus.proposition_syndicale, author=user))
            s.add(ClauseEvent(clause_id=row.id, round_number=1, kind=EventKind.migrated, status=ClauseStatus.proposition_syndicale, title=row.title,
                              text=clause.text, author=user, note=f"{origin} (ajoutée le {raw.get('added', '?')})"))
        s.add(LegacyImport(path=key, user=user, kind="project", sha256=digest, target=f"project:{project.id}"))
        report.projects += 1
        report.clauses += len(clauses)
        return f"project:{project.id}"


def _import_conversation(db: Database, user: str, key: str, digest: str, data: object, stem: str, report: MigrationReport) -> str | None:
    if not isinstance(data, dict) or not isinstance(data.get("messages"), list) or not _CONVERSATION_ID.match(stem):
        report.notes.append(f"{key} : conversation illisible, non reprise.")
        return None
    with db.session() as s:
        existing = s.get(Conversation, stem)
        if existing is None:
            s.add(Conversation(id=stem, owner=user, title=str(data.get("title", ""))[:300], data=dict(data, id=stem),
                               created=str(data.get("created", "")), updated=str(data.get("updated", ""))))
            report.conversations += 1
        elif existing.owner != user:
            report.notes.append(f"{key} : identifiant déjà pris par un autre utilisateur, non reprise.")
            return None
        s.add(LegacyImport(path=key, user=user, kind="conversation", sha256=digest, target=f"conversation:{stem}"))
        return f"conversation:{stem}"
