"""`policybot db`: migrate, see, roll back and back up the configured database; and a server
that leaves migrating to a job refuses a database of another release."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot import migrate
from tests.adapters.cli.invoke import Ran, run, run_process
from tests.adapters.cli.test_escalations import file_report
from tests.conftest import free_port

HEAD = migrate.head()  # this release's revision


def on(database: Path, *args: str) -> Ran:
    return run(*args, env={"DATABASE_URL": f"sqlite:///{database}", "POLICYBOT_CONFIG": None})


def test_upgrade_current_history_and_a_rollback(tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite3"
    assert f"no tables yet; this release: {HEAD}".encode() in on(database, "db", "current").stdout
    assert on(database, "db", "upgrade").stdout == f"database at revision {HEAD}\n".encode()
    history = on(database, "db", "history").stdout.decode().splitlines()
    assert [line.split()[0] for line in history] == [f"{n:04}" for n in range(1, int(HEAD) + 1)]
    assert history[2].startswith("0003  Retention: cases marked for purging")
    assert on(database, "db", "downgrade", "0003").stdout == b"database at revision 0003\n"
    assert f"database: 0003; this release: {HEAD}".encode() in on(database, "db", "current").stdout
    unknown = on(database, "db", "downgrade", "9999")
    assert unknown.returncode == 1 and b"no revision '9999'" in unknown.stderr


def test_a_server_left_to_a_migration_job_refuses_a_database_of_another_release(
    tmp_path: Path,
) -> None:
    database = tmp_path / "db.sqlite3"
    on(database, "db", "upgrade")
    on(database, "db", "downgrade", "0003")
    refused = run_process(
        "serve",
        "--no-migrate",
        "--port",
        str(free_port()),
        env={"DATABASE_URL": f"sqlite:///{database}"},
    )
    assert refused.returncode == 1
    assert f"at revision 0003, this release needs {HEAD}".encode() in refused.stderr
    assert b"Traceback" not in refused.stderr


def test_a_backup_restored_in_place_of_a_lost_database_has_the_cases(tmp_path: Path) -> None:
    database = tmp_path / "cases.sqlite3"
    reference = file_report(database)
    backup = tmp_path / "backups" / "cases-2026-12-04.sqlite3"
    saved = on(database, "db", "backup", str(backup))
    assert saved.returncode == 0, saved.stderr
    assert backup.stat().st_mode & 0o777 == 0o600
    assert on(database, "db", "backup", str(backup)).returncode == 2  # never overwritten
    for lost in tmp_path.glob("cases.sqlite3*"):  # the file, and its -wal and -shm
        lost.unlink()
    shutil.copy(backup, database)  # the restore: servers stopped, the copy put in its place
    shown = on(database, "escalations", "show", reference)
    assert shown.returncode == 0, shown.stderr
    assert reference in shown.stdout.decode() and "Sam Jones" in shown.stdout.decode()
    postgres = run("db", "backup", str(tmp_path / "x"), env={"DATABASE_URL": "postgresql://h/d"})
    assert postgres.returncode == 2 and b"pg_dump" in postgres.stderr


def test_a_case_survives_a_step_down_and_up_again(tmp_path: Path) -> None:
    database = tmp_path / "cases.sqlite3"
    assert on(database, "db", "upgrade").returncode == 0
    reference = file_report(database)
    assert on(database, "db", "downgrade", "0004").returncode == 0
    assert on(database, "db", "upgrade").stdout == f"database at revision {HEAD}\n".encode()
    shown = on(database, "escalations", "show", reference)
    assert shown.returncode == 0 and "Sam Jones" in shown.stdout.decode()
