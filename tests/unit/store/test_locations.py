"""Where a store is: a path or sqlite: URL opens the journal, a PostgreSQL URL or keyword string is
PostgreSQL, and whatever is said of a location never shows its password."""

from __future__ import annotations

from pathlib import Path

import pytest

from wsdmon.store import Journal, has_password, is_postgres, open_store, redact_dsn
from wsdmon.store.locations import sqlite_path

from .helpers import message


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        (
            "postgresql://alice:s3cr%40t@db.example:5432/wsdmon?sslmode=verify-full",
            "postgresql://alice:***@db.example:5432/wsdmon?sslmode=verify-full",
        ),
        (
            "postgres://alice@h1,h2/db?password=xx&application_name=a",
            "postgres://alice@h1,h2/db?password=***&application_name=a",
        ),
        ("host=db user=alice password='a b\\' c' dbname=w", "host=db user=alice password=*** dbname=w"),
        ("host=db PASSWORD=plain sslpassword=key dbname=w", "host=db PASSWORD=*** sslpassword=*** dbname=w"),
        ("service=wsdmon", "service=wsdmon"),
        ("postgresql:///wsdmon?host=/run/postgresql", "postgresql:///wsdmon?host=/run/postgresql"),
        ("/var/lib/wsdmon/journal.sqlite3", "/var/lib/wsdmon/journal.sqlite3"),
    ],
)
def test_redact_dsn_hides_every_password_and_keeps_the_rest(location: str, shown: str) -> None:
    assert redact_dsn(location) == shown
    assert has_password(location) == (location != shown)


@pytest.mark.parametrize(
    ("location", "postgres"),
    [
        ("postgresql://db/wsdmon", True),
        ("POSTGRES://db/wsdmon", True),
        ("service=wsdmon", True),
        ("host=db dbname=wsdmon", True),
        ("sqlite:///tmp/j.sqlite3", False),
        ("/tmp/j.sqlite3", False),
        ("journal.sqlite3", False),
        ("C:\\Users\\me\\journal.sqlite3", False),
    ],
)
def test_the_kind_of_store_is_told_from_the_location(location: str, postgres: bool) -> None:
    assert is_postgres(location) is postgres


def test_a_sqlite_url_and_a_path_open_the_journal_with_its_site(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    assert sqlite_path(f"sqlite://{path}") == path
    store = open_store(f"sqlite://{path}", site="floor-3")
    assert isinstance(store, Journal)
    assert store.path == path
    assert store.site == "floor-3"
    assert store.location == str(path)
    store.append_messages([message(1)])
    store.close()
    again = open_store(str(path), site="floor-3")
    assert [m.id for m in again.messages_after(0)] == [1]
    again.close()


def test_one_database_written_two_ways_has_one_spool() -> None:
    from wsdmon.store.locations import spool_path_for

    a = spool_path_for("host=db port=5432 dbname=wsdmon user=alice", "floor-3")
    assert a == spool_path_for("postgresql://alice:pw@db:5432/wsdmon", "floor-3")
    assert a == spool_path_for("dbname=wsdmon user=alice host=db port=5432 password=x", "floor-3")
    assert a != spool_path_for("host=db port=5432 dbname=wsdmon user=alice", "floor-4")
    assert a != spool_path_for("host=db2 port=5432 dbname=wsdmon user=alice", "floor-3")
    assert a.name.startswith("spool-")
