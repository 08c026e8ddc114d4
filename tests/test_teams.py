"""Negotiation teams declared in the users file: parsing, sync into a real SQLite file at start-up,
shared projects, removal, and the schema migration that records where a membership comes from."""

from __future__ import annotations

import bcrypt
import pytest
from sqlalchemy import select

from rag.db import MEMBER_FROM_FILE, AccessDenied, Database, TeamMember, add_team_member, create_team, migrate_workspaces, open_database, sync_teams
from rag.negotiation import Negotiation, create_project, projects_for, share_project, teams_for
from rag.settings import Settings
from rag.workspace import Workspace, load_users
from tests.test_negotiation import LIBRARY, five_clauses

HASH = bcrypt.hashpw(b"mot-de-passe", bcrypt.gensalt(rounds=4)).decode()
FEDERATION = "Fédération des centres d'appels"


def write_users(path, *lines: str) -> None:
    path.write_text("# comptes de l'équipe de négociation\n" + "\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def site(tmp_path, settings):
    """The settings of an app with login on: a users file and a SQLite file in the data folder."""
    users = tmp_path / "users.txt"
    write_users(users, f"amina:{HASH}:admin:team={FEDERATION}", f"karim:{HASH}:team={FEDERATION}", f"salma:{HASH}")
    return settings.model_copy(update={"users_file": users})


def test_team_field_is_parsed(tmp_path):
    path = tmp_path / "users.txt"
    write_users(path,
                f"amina:{HASH}:admin:team={FEDERATION}",
                f"karim:{HASH}:teams=  fédération  des centres d'appels , Commission salaires:admin",  # any order, spacing and case
                f"salma:{HASH}:",                                                                         # the old form, empty third field
                f"youssef:{HASH}:equipe=Commission salaires")
    users = load_users(path)
    assert users["amina"].admin and users["amina"].teams == (FEDERATION,)
    assert users["karim"].admin and users["karim"].teams == (FEDERATION, "Commission salaires")  # one spelling per team
    assert not users["salma"].admin and users["salma"].teams == ()
    assert users["youssef"].teams == ("Commission salaires",)


@pytest.mark.parametrize("line,message", [
    (f"amina:{HASH}:team=", "nom d'équipe vide"),
    (f"amina:{HASH}:team=A,,B", "nom d'équipe vide"),
    (f"amina:{HASH}:team={'x' * 201}", "au plus 200"),
    (f"amina:{HASH}:team=A=B", "caractère interdit"),
    (f"amina:{HASH}:groupe=A", "champ « groupe=A » inconnu"),
    (f"amina:{HASH}:superuser", "champ « superuser » inconnu"),
    ("amina:motdepasse-en-clair:team=A", "format attendu"),
    (f"amina:{HASH[:4]}é{HASH[5:]}", "non ASCII"),
])
def test_bad_team_fields_name_the_line(tmp_path, line, message):
    path = tmp_path / "users.txt"
    write_users(path, f"karim:{HASH}", line)
    with pytest.raises(ValueError, match=message) as refused:
        load_users(path)
    assert "ligne 3" in str(refused.value)


def test_a_user_defined_twice_is_refused(tmp_path):
    path = tmp_path / "users.txt"
    write_users(path, f"amina:{HASH}:team=A", f"karim:{HASH}", f"amina:{HASH}:team=B")
    with pytest.raises(ValueError, match="« amina » déjà défini ligne 2"):
        load_users(path)


def test_file_teams_share_projects_and_removal_takes_access_away(site, tmp_path):
    # amina's project of the « Projet de convention » tab, from before the database
    ws = Workspace(site.data_dir, "amina")
    for clause in five_clauses()[:2]:
        ws.add_clause(clause)
    db = open_database(site)  # start-up: the file's team created, amina and karim in it
    try:
        assert [t["name"] for t in teams_for(db, "karim")] == [FEDERATION] and teams_for(db, "salma") == []
        migrate_workspaces(db, site.data_dir, LIBRARY)  # the workspace goes to amina's only team
        [project] = projects_for(db, "amina")
        assert project["team"] == FEDERATION and [p["id"] for p in projects_for(db, "karim")] == [project["id"]]
        karim = Negotiation(db, project["id"], "karim")
        clause = karim.clauses()[0]
        karim.save_clause(clause.key, clause.text + "\nArticle 9 — Ajout de Karim.", clause.version)
        assert Negotiation(db, project["id"], "amina").clause(clause.key).author == "karim"  # the same rounds for both
        with pytest.raises(AccessDenied):
            Negotiation(db, project["id"], "salma")
        assert not sync_teams(db, load_users(site.users_file)).changed  # idempotent
    finally:
        db.close()

    # karim taken out of the team in the file, salma put in: the next start-up applies it
    write_users(site.users_file, f"amina:{HASH}:admin:team={FEDERATION}", f"karim:{HASH}", f"salma:{HASH}:team={FEDERATION.upper()}")
    db = open_database(site)
    try:
        assert projects_for(db, "karim") == [] and teams_for(db, "karim") == []
        with pytest.raises(AccessDenied):
            Negotiation(db, project["id"], "karim")
        assert [p["id"] for p in projects_for(db, "salma")] == [project["id"]]  # « FÉDÉRATION … » is the same team
        assert [p["id"] for p in projects_for(db, "amina")] == [project["id"]]
        with db.session(write=False) as s:
            assert sorted((m.user, m.source) for m in s.scalars(select(TeamMember))) == [("amina", MEMBER_FROM_FILE), ("salma", MEMBER_FROM_FILE)]
    finally:
        db.close()
    # the database file itself has it, read by a fresh process's engine
    reopened = Database(site.db_url)
    try:
        assert [p["team"] for p in projects_for(reopened, "salma")] == [FEDERATION]
    finally:
        reopened.close()


def test_joining_shares_earlier_projects_once_and_admin_members_stay(site):
    db = open_database(site, sync_users=False)
    try:
        early = create_project(db, "karim", five_clauses()[:1], library=LIBRARY)  # before any team
        other = create_team(db, "Commission salaires")
        add_team_member(db, other, "salma")  # added in the application
        report = sync_teams(db, load_users(site.users_file))
        assert report.created == [FEDERATION] and ("Fédération des centres d'appels", "karim") in report.added
        assert report.shared == [(early, FEDERATION)] and [p["id"] for p in projects_for(db, "amina")] == [early]
        share_project(db, early, "karim", None)  # karim takes it back: the next sync leaves it so
        assert not sync_teams(db, load_users(site.users_file)).changed and projects_for(db, "amina") == []
        assert [t["name"] for t in teams_for(db, "salma")] == ["Commission salaires"]  # not in the file's teams, not removed
        with pytest.raises(AccessDenied, match="Seul l'auteur"):
            share_project(db, early, "amina", None)
        with pytest.raises(AccessDenied, match="pas membre"):
            share_project(db, early, "karim", other)
    finally:
        db.close()


def test_member_of_two_teams_chooses(site):
    write_users(site.users_file, f"amina:{HASH}:team=A,B", f"karim:{HASH}:team=A")
    db = open_database(site, sync_users=False)
    try:
        pid = create_project(db, "amina", five_clauses()[:1], library=LIBRARY)
        report = sync_teams(db, load_users(site.users_file))
        assert report.shared == [] and "plusieurs équipes" in report.notes[0]
        assert projects_for(db, "karim") == []
        team_a = next(t["id"] for t in teams_for(db, "amina") if t["name"] == "A")
        share_project(db, pid, "amina", team_a)
        assert [p["id"] for p in projects_for(db, "karim")] == [pid]
    finally:
        db.close()


def test_bad_users_file_stops_the_start_with_its_line(site):
    write_users(site.users_file, f"amina:{HASH}:team=")
    with pytest.raises(ValueError, match="ligne 2 : nom d'équipe vide"):
        open_database(site)


def test_migration_0002_keeps_earlier_members_as_admin_ones(tmp_path):
    from alembic import command
    from sqlalchemy import text

    from rag.db import alembic_config, build_engine, head_revision, schema_revision

    url = f"sqlite:///{tmp_path / 'ancienne.db'}"
    engine = build_engine(url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
        conn.execute(text("INSERT INTO teams (id, name, created_at) VALUES (1, 'Équipe', '2026-01-01 00:00:00')"))
        conn.execute(text("INSERT INTO team_members (team_id, user, role) VALUES (1, 'amina', 'member')"))
    engine.dispose()
    db = Database(url)  # opening upgrades the schema
    try:
        assert schema_revision(db.engine) == head_revision() == "0002"
        with db.session(write=False) as s:
            [member] = s.scalars(select(TeamMember))
            assert (member.user, member.source) == ("amina", "admin")
        users = {"karim": type("Account", (), {"name": "karim", "teams": ("Équipe",)})()}
        report = sync_teams(db, users)  # a file that does not name amina leaves her admin-made membership alone
        assert report.added == [("Équipe", "karim")] and report.removed == []
    finally:
        db.close()
    assert report.summary().startswith("0 équipe(s) créée(s), 1 membre(s) ajouté(s), 0 retiré(s)")
