"""Bad inputs to `backup create` and `backup restore`: a clear message and a non-zero exit
code, never a traceback, nothing left behind and the database untouched."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from click.testing import Result
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from consultation.accounts.models import User
from consultation.backups.services import _postgres
from tests import factories


def _refused(result: Result, *phrases: str) -> None:
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # no traceback
    assert "Traceback" not in result.output
    for phrase in phrases:
        assert phrase in result.output, result.output


def _sqlite_file(path: Path, *statements: str) -> Path:
    with sqlite3.connect(path) as connection:
        for statement in statements:
            connection.execute(statement)
    connection.close()
    return path


def test_restore_refuses_a_file_that_is_not_a_backup(backup, tmp_path, is_postgresql):
    notes = tmp_path / "notes.txt"
    notes.write_text("Ceci n'est pas une sauvegarde.\n")
    expected = "is not a PostgreSQL backup" if is_postgresql else "is not an SQLite database"
    _refused(backup("restore", str(notes), "--yes"), str(notes), expected)


def test_restore_refuses_a_backup_of_the_other_database(backup, tmp_path, is_postgresql):
    if is_postgresql:
        other = _sqlite_file(tmp_path / "app.db", "CREATE TABLE alembic_version (v TEXT)")
        expected = "is an SQLite backup, but this database is PostgreSQL"
    else:
        other = tmp_path / "dump.backup"
        other.write_bytes(b"PGDMP\x01\x0e\x00" + bytes(100))
        expected = "is a PostgreSQL backup, but this database is SQLite"
    _refused(backup("restore", str(other), "--yes"), expected)


def test_restore_refuses_an_sqlite_database_of_another_application(backup, tmp_path, is_postgresql):
    other = _sqlite_file(tmp_path / "other.db", "CREATE TABLE note (body TEXT)")
    if not is_postgresql:
        _refused(backup("restore", str(other), "--yes"), "without an alembic_version table")
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"SQLite format 3\x00" + bytes(50))
    _refused(backup("restore", str(damaged), "--yes"), str(damaged))


def test_restore_refuses_a_missing_file(backup, tmp_path):
    missing = tmp_path / "nowhere.backup"
    _refused(backup("restore", str(missing), "--yes"), f"{missing} does not exist")
    _refused(backup("restore", str(tmp_path), "--yes"))  # a folder


def _set_revision(db, revision: str) -> None:
    db.session.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    db.session.commit()


def test_restore_checks_the_schema_revision(app, db, backup, tmp_path):
    latest = db.session.scalar(text("SELECT version_num FROM alembic_version"))
    config = app.extensions["migrate"].migrate.get_config()
    older = ScriptDirectory.from_config(config).get_revision(latest).down_revision
    try:
        _set_revision(db, "f00dcafe")  # a revision no migration of ours has
        assert backup("create", "--out", str(tmp_path / "alien.backup")).exit_code == 0
        _set_revision(db, older)
        assert backup("create", "--out", str(tmp_path / "older.backup")).exit_code == 0
        _set_revision(db, latest)
        factories.make_user("juror", email="kept@example.org")
        db.session.commit()

        _refused(
            backup("restore", str(tmp_path / "alien.backup"), "--yes"),
            "'f00dcafe'",
            "not a backup of this application",
        )
        assert db.session.scalar(select(User).filter_by(email="kept@example.org"))

        result = backup("restore", str(tmp_path / "older.backup"), "--yes")
        assert result.exit_code == 0, result.output
        assert "run `flask --app consultation db upgrade`" in result.output
    finally:
        _set_revision(db, latest)


def test_create_refuses_to_overwrite_without_force(backup, tmp_path):
    out = tmp_path / "existing.backup"
    out.write_text("an earlier backup")
    _refused(backup("create", "--out", str(out)), f"{out} already exists", "--force")
    assert out.read_text() == "an earlier backup"
    assert [path.name for path in tmp_path.iterdir()] == [out.name]


def test_create_refuses_a_folder_it_cannot_write_in(backup, tmp_path):
    _refused(
        backup("create", "--out", str(tmp_path / "missing" / "x.backup")),
        f"the folder {tmp_path / 'missing'} does not exist",
    )
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    _refused(backup("create", "--out", str(a_file / "x.backup")), f"{a_file} is not a folder")
    _refused(backup("create", "--out", str(tmp_path)))  # a folder, not a file
    if os.geteuid() == 0:  # root writes in any folder of its own: take one of the kernel's
        locked = Path("/sys")
        if not locked.is_dir():
            pytest.skip("no folder that root cannot write in")
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    _refused(
        backup("create", "--out", str(locked / "x.backup")),
        f"Cannot write in the folder {locked}",
    )
    assert not (locked / "x.backup").exists()


def test_missing_postgresql_tools(backup, tmp_path, monkeypatch, is_postgresql):
    out = tmp_path / "no-tools.backup"
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    if not is_postgresql:  # SQLite needs none of them
        assert backup("create", "--out", str(out)).exit_code == 0
        return
    _refused(backup("create", "--out", str(out)), "pg_dump was not found on the PATH")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bin"]
    dump = tmp_path / "dump.backup"
    dump.write_bytes(b"PGDMP" + bytes(100))
    _refused(backup("restore", str(dump), "--yes"), "pg_restore was not found on the PATH")


FAILING_PG_DUMP = """#!/bin/sh
for argument in "$@"; do
  case "$argument" in --file=*) echo "half a dump" > "${argument#--file=}" ;; esac
done
echo 'pg_dump: error: query failed: ERROR:  permission denied for table proposal' >&2
exit 1
"""


def test_failing_pg_dump_reports_its_error_and_leaves_no_file(
    backup, tmp_path, monkeypatch, is_postgresql
):
    if not is_postgresql:
        pytest.skip("pg_dump backs up PostgreSQL only")
    tools = tmp_path / "bin"
    tools.mkdir()
    fake = tools / "pg_dump"
    fake.write_text(FAILING_PG_DUMP)
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
    folder = tmp_path / "backups"
    folder.mkdir()

    result = backup("create", "--out", str(folder / "x.backup"))

    _refused(result, "pg_dump failed", "permission denied for table proposal")
    assert list(folder.iterdir()) == []


def test_the_password_goes_to_the_environment_never_to_the_command_line():
    url = make_url(
        "postgresql+psycopg://app:s3cr%20t@db.example.org:5433/consultation"
        "?sslmode=require&options=-csearch_path%3Dtenant_1"
    )
    target = _postgres(url)
    assert "s3cr" not in target.conninfo
    assert target.environment()["PGPASSWORD"] == "s3cr t"
    for parameter in ("host=db.example.org", "port=5433", "user=app", "dbname=consultation"):
        assert parameter in target.conninfo
    assert "sslmode=require" in target.conninfo and "search_path=tenant_1" in target.conninfo
    assert target.schemas == ("tenant_1",) and target.schema == "tenant_1"
    assert _postgres(make_url("postgresql+psycopg://localhost/app")).schema == "public"


def test_restore_refuses_a_backup_of_another_schema(app, db, backup, tmp_path, is_postgresql):
    if not is_postgresql:
        pytest.skip("schemas are PostgreSQL's")
    other = f"backup_other_{os.getpid()}"
    revision = db.session.scalar(text("SELECT version_num FROM alembic_version"))
    db.session.execute(text(f"CREATE SCHEMA {other}"))
    try:
        db.session.execute(text(f"CREATE TABLE {other}.alembic_version (version_num text)"))
        db.session.execute(
            text(f"INSERT INTO {other}.alembic_version VALUES (:r)"),  # noqa: S608
            {"r": revision},
        )
        db.session.commit()
        dump = tmp_path / "other.backup"
        url = os.environ["TEST_DATABASE_URL"]
        subprocess.run(
            ["pg_dump", "--format=custom", f"--schema={other}", f"--file={dump}", url], check=True
        )
    finally:
        db.session.rollback()
        db.session.execute(text(f"DROP SCHEMA IF EXISTS {other} CASCADE"))
        db.session.commit()

    _refused(
        backup("restore", str(dump), "--yes"),
        f"holds the schema '{other}', but DATABASE_URL uses the schema 'test_",
    )
