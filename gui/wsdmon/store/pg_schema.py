"""The PostgreSQL store's schema, its migrations, and the SQL that makes the collector and viewer roles.

The version is the one row of schema_version. MIGRATIONS[i] takes the database from version i to
i + 1, in one transaction with the version bump, under a transaction-level advisory lock so that
collectors starting together migrate once. To change the schema, append a migration; never edit
one that has shipped. A role without the right to create tables (a collector or viewer role) opens
a database already at the current version, and is told to have the owner migrate it otherwise.

Every table has the site in its key: many collectors write into one database. A message's id is
handed out by its collector (unique within the site, only growing), so that a message written to the
local spool while the server was away keeps its id when it is replayed: (site, id) is the key that
makes a replay idempotent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

Step = str | Callable[["psycopg.Connection[tuple[object, ...]]"], None]

__all__ = [
    "HEARTBEAT",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "STOPPED",
    "TABLES",
    "migrate",
    "roles_sql",
    "schema_version",
]

_MIGRATION_LOCK = 0x7773646D6F6E  # "wsdmon": the advisory lock held while migrating

_V1: tuple[Step, ...] = (
    "CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)",
    """CREATE TABLE messages (
        site text NOT NULL,
        id bigint NOT NULL,                 -- handed out by the collector; unique within the site
        arrival timestamptz NOT NULL,
        device text NOT NULL,               -- endpoint urn:uuid
        subscription text,
        action text NOT NULL,
        message_id text,                    -- wsa:MessageID as received (devices may repeat it)
        summary text NOT NULL,
        raw bytea NOT NULL,
        PRIMARY KEY (site, id)
    )""",
    "CREATE INDEX messages_by_arrival ON messages (site, arrival)",
    # lz4 compresses the raw XML to about the size pglz (the default) gets, in well under half the
    # time, which is most of a large batch's cost on the server (bench/bench_store.py). A server
    # built without lz4 keeps pglz.
    """DO $$ BEGIN
        ALTER TABLE messages ALTER COLUMN raw SET COMPRESSION lz4;
    EXCEPTION WHEN feature_not_supported OR syntax_error THEN NULL;
    END $$""",
    """CREATE TABLE jobs (
        site text NOT NULL,
        device text NOT NULL,
        job_token text NOT NULL,
        generation integer NOT NULL,
        stored bigint GENERATED ALWAYS AS IDENTITY,  -- the order jobs were first stored in
        active boolean NOT NULL,
        last_update_epoch double precision NOT NULL,
        record text NOT NULL,               -- codec.encode_job_record(timeline=False)
        PRIMARY KEY (site, device, job_token, generation)
    )""",
    "CREATE INDEX jobs_by_age ON jobs (site, active, last_update_epoch)",
    """CREATE TABLE timeline (
        site text NOT NULL,
        device text NOT NULL,
        job_token text NOT NULL,
        generation integer NOT NULL,
        seq integer NOT NULL,
        journal_id bigint,                  -- messages.id of the same site
        entry text NOT NULL,                -- codec.encode_timeline_entry
        PRIMARY KEY (site, device, job_token, generation, seq),
        FOREIGN KEY (site, device, job_token, generation)
            REFERENCES jobs (site, device, job_token, generation) ON DELETE CASCADE
    )""",
    """CREATE TABLE devices (
        site text NOT NULL,
        endpoint text NOT NULL,
        friendly_name text,
        manufacturer text,
        model_name text,
        model_number text,
        serial_number text,
        firmware_version text,
        presentation_url text,
        device_category text NOT NULL,      -- JSON list, as in the sqlite journal
        roles text NOT NULL,
        xaddrs text NOT NULL,
        services text NOT NULL,
        metadata_version bigint,
        instance_id bigint,
        first_seen text,                    -- ISO-8601
        last_seen text,
        last_event text,
        PRIMARY KEY (site, endpoint)
    )""",
    # A certificate belongs to its device, not to the site that accepted it: trust is shared.
    """CREATE TABLE trust (
        endpoint text PRIMARY KEY,
        sha256 text NOT NULL,
        site text NOT NULL                  -- the site that accepted it last
    )""",
    "CREATE TABLE state (site text NOT NULL, key text NOT NULL, value bigint, PRIMARY KEY (site, key))",
)

# v2: the NOTIFY of committed messages comes from a statement trigger, so that a collector can write
# a batch with one binary COPY in autocommit (one statement, no transaction to open and close
# around a SELECT pg_notify): half the client's and the server's work of the INSERT … unnest it
# replaces (bench/bench_store.py). The payload is store.pg_follow's {"site", "kind", "id"}: one per
# site in the statement (a collector writes one), "id" the highest id written. A statement that
# inserted nothing (a replay whose rows are all there) notifies nothing.
_V2: tuple[Step, ...] = (
    """CREATE OR REPLACE FUNCTION wsdmon_notify_messages() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('wsdmon_changes',
                          json_build_object('site', site, 'kind', 'messages', 'id', max(id))::text)
        FROM new_rows GROUP BY site;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER messages_notify AFTER INSERT ON messages REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION wsdmon_notify_messages()""",
)


def _fill_index_columns(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    """Give the jobs already stored their sort and filter columns (store.job_index) from their
    records; a damaged record keeps the defaults (it is skipped when read anyway)."""
    from .job_index import decode_record_row, index_values

    rows = conn.execute("SELECT site, device, job_token, generation, record FROM jobs").fetchall()
    updates = []
    for site, *row in rows:
        rec = decode_record_row(tuple(row))
        if rec is not None:
            updates.append((*index_values(rec), site, *row[:3]))
    with conn.cursor() as cur:
        cur.executemany(
            "UPDATE jobs SET quick = %s, kind = %s, state_rank = %s, state = %s, reasons = %s, images = %s,"
            " created = %s, completed = %s, duration = %s, filters_key = %s, search = %s"
            " WHERE site = %s AND device = %s AND job_token = %s AND generation = %s",
            [tuple(_nul_free(v) for v in u) for u in updates],
        )


def _nul_free(value: object) -> object:
    return value.replace("\x00", "\ufffd") if isinstance(value, str) else value


# v3:
_V3: tuple[Step, ...] = (
    # Paging a large history from the store (issue 14, item 4): the job table's sort and filter values
    # as columns (store.job_index), an index per sort column with the order jobs were first stored in
    # (`stored`) breaking ties, and a trigram index (pg_trgm, in Debian's postgresql package) over the
    # searched words. Text sorts by code point (COLLATE "C"), as Python and sqlite compare it.
    "ALTER TABLE jobs ADD COLUMN quick text NOT NULL DEFAULT ''",
    "ALTER TABLE jobs ADD COLUMN kind text NOT NULL DEFAULT 'post-scan'",
    "ALTER TABLE jobs ADD COLUMN state_rank integer NOT NULL DEFAULT 0",
    "ALTER TABLE jobs ADD COLUMN state text NOT NULL DEFAULT ''",
    "ALTER TABLE jobs ADD COLUMN reasons text NOT NULL DEFAULT ''",
    "ALTER TABLE jobs ADD COLUMN images bigint NOT NULL DEFAULT 0",
    "ALTER TABLE jobs ADD COLUMN created double precision",
    "ALTER TABLE jobs ADD COLUMN completed double precision",
    "ALTER TABLE jobs ADD COLUMN duration double precision",
    "ALTER TABLE jobs ADD COLUMN filters_key bigint NOT NULL DEFAULT 0",
    "ALTER TABLE jobs ADD COLUMN search text NOT NULL DEFAULT ''",
    _fill_index_columns,
    "CREATE INDEX jobs_by_stored ON jobs (stored)",
    "CREATE INDEX jobs_by_quick ON jobs (quick, last_update_epoch)",
    "CREATE INDEX jobs_by_kind ON jobs (kind, stored)",
    "CREATE INDEX jobs_by_device ON jobs (device, stored)",
    'CREATE INDEX jobs_by_token ON jobs (job_token COLLATE "C", stored)',
    'CREATE INDEX jobs_by_state ON jobs (state_rank, state COLLATE "C", stored)',
    'CREATE INDEX jobs_by_reasons ON jobs (reasons COLLATE "C", stored)',
    "CREATE INDEX jobs_by_images ON jobs (images, stored)",
    "CREATE INDEX jobs_by_created ON jobs (created NULLS FIRST, stored)",
    "CREATE INDEX jobs_by_completed ON jobs (completed NULLS FIRST, stored)",
    "CREATE INDEX jobs_by_duration ON jobs (duration NULLS FIRST, stored)",
    "CREATE INDEX jobs_by_filters ON jobs (filters_key, stored)",
    # pg_trgm is a trusted extension: the database owner may create it. Without it (a server built
    # without contrib) a search reads every row instead: slower, same answers.
    """DO $$ BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN NULL;
    END $$""",
    # The searched words again in a narrow table of their own: counting the jobs a search matches
    # rechecks every candidate row, and a row here is a tenth of a job's (its record stays out).
    """CREATE TABLE job_words (
        site text NOT NULL,
        device text NOT NULL,
        job_token text NOT NULL,
        generation integer NOT NULL,
        search text NOT NULL,
        PRIMARY KEY (site, device, job_token, generation),
        FOREIGN KEY (site, device, job_token, generation)
            REFERENCES jobs (site, device, job_token, generation) ON DELETE CASCADE
    )""",
    "INSERT INTO job_words SELECT site, device, job_token, generation, search FROM jobs",
    # The roles the owner made (roles_sql) were granted the tables one by one: give every role the
    # same rights on the new table as on jobs, so that collectors and viewers go on working after the
    # owner's upgrade without running roles_sql again.
    """DO $$ DECLARE g record; BEGIN
        FOR g IN SELECT DISTINCT grantee, privilege_type FROM information_schema.role_table_grants
                 WHERE table_name = 'jobs' AND table_schema = current_schema()
                   AND privilege_type IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE')
                   AND grantee <> current_user LOOP
            EXECUTE format('GRANT %s ON job_words TO %I', g.privilege_type, g.grantee);
        END LOOP;
    END $$""",
    """DO $$ BEGIN
        IF EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_trgm') THEN
            CREATE INDEX jobs_search ON jobs USING gin (search gin_trgm_ops);
            CREATE INDEX job_words_search ON job_words USING gin (search gin_trgm_ops);
        END IF;
    END $$""",
)

# v4: a collector on a shared store writes its live jobs tens of times a second (store.pg_jobs).
# Most of those writes change a job's record alone (its images, its duration): with room on the
# row's page (fillfactor) PostgreSQL writes them as heap-only tuples, without an entry in each of
# the jobs table's fifteen indexes. The timeline's and the searched words' foreign keys to jobs
# cost a check per row written (half the time of a timeline insert, bench/bench_collector.py):
# the writer writes a job with its timeline in one transaction, and retention deletes all three
# (pg_rows.delete_old).
_V4: tuple[Step, ...] = (
    "ALTER TABLE jobs SET (fillfactor = 80)",
    """DO $$ DECLARE c record; BEGIN
        FOR c IN SELECT conname, conrelid::regclass AS tbl FROM pg_constraint
                 WHERE contype = 'f' AND confrelid = 'jobs'::regclass LOOP
            EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', c.tbl, c.conname);
        END LOOP;
    END $$""",
)

# v5: what a device's collector last knew of it (store.devices: encode_device_state) and when: the
# window on a shared store shows a branch's scanner offline or its subscription failing. Columns
# inherit the table's grants (roles_sql): the collector may update them, the viewer read them.
_V5: tuple[Step, ...] = (
    "ALTER TABLE devices ADD COLUMN state text",
    "ALTER TABLE devices ADD COLUMN state_at timestamptz",
    # false: a device known only by its state (its metadata never read: unreachable since it was
    # found): the viewers show it under its site, the collector does not restore it as a device.
    "ALTER TABLE devices ADD COLUMN metadata_read boolean NOT NULL DEFAULT true",
)

# v6: the health report its collector last judged of each device (store.health: encode_health), with
# the evidence: the window on a shared store shows a branch's device's findings as that collector
# saw them (a subscriber table full, multicast cut off). Its time is in the report.
_V6: tuple[Step, ...] = ("ALTER TABLE devices ADD COLUMN health text",)

MIGRATIONS: tuple[tuple[Step, ...], ...] = (_V1, _V2, _V3, _V4, _V5, _V6)

# The state table's keys of a collector's heartbeat and clean stop (core.sites): seconds since the
# epoch on the server's clock (one clock for every site; a viewer compares them with its now()).
HEARTBEAT = "heartbeat"
STOPPED = "stopped"
SCHEMA_VERSION = len(MIGRATIONS)
TABLES = ("messages", "jobs", "timeline", "devices", "trust", "state", "job_words")


def schema_version(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    """The database's schema version, 0 when wsdmon never created its tables there."""
    row = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if row is None or not row[0]:
        return 0
    version = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(str(version[0])) if version is not None and version[0] is not None else 0


def migrate(
    conn: psycopg.Connection[tuple[object, ...]],
    migrations: tuple[tuple[Step, ...], ...] = MIGRATIONS,
) -> int:
    """Bring the database up to len(migrations) (conn in autocommit mode); returns the version it was
    at. Raises psycopg errors (InsufficientPrivilege for a role that may not create tables)."""
    start = schema_version(conn)
    if start >= len(migrations):
        return start
    # A session lock taken before the version is read again: inside one transaction, a collector
    # that waited on a transaction-level lock still read the version as it was before the other
    # one's migration committed, and created the tables a second time (two collectors started
    # together on an empty database; tests/integration/store/test_pg_store.py).
    conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
    try:
        start = schema_version(conn)  # another collector may have migrated while we waited
        with conn.transaction():
            for version in range(start, len(migrations)):
                for step in migrations[version]:
                    if isinstance(step, str):
                        conn.execute(step.encode())
                    else:
                        step(conn)
                conn.execute("DELETE FROM schema_version")
                conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version + 1,))
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))
    return start


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum() or not name.isascii():
        raise ValueError(f"a role name is letters, digits and underscores: {name!r}")
    return f'"{name}"'


def roles_sql(collector: str = "wsdmon_collector", viewer: str = "wsdmon_viewer") -> str:
    """SQL for the database owner: a collector group role that may read and write wsdmon's tables
    (no DDL, no other tables) and a viewer group role that may only read them. Grant them to login
    roles: `CREATE ROLE desk LOGIN IN ROLE wsdmon_viewer;` (passwords in ~/.pgpass, never here).

    The collector also needs DELETE: retention removes old messages and ended jobs, a trimmed
    timeline loses its middle entries, and a forgotten certificate its trust row."""
    c, v = _ident(collector), _ident(viewer)
    tables = ", ".join(TABLES)
    lines = [
        "-- wsdmon roles: run as the owner of wsdmon's tables, after the first collector created them.",
        "DO $$ BEGIN",
        f"  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{collector}') THEN CREATE ROLE {c} NOLOGIN;"
        " END IF;",
        f"  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{viewer}') THEN CREATE ROLE {v} NOLOGIN;"
        " END IF;",
        "END $$;",
        f"GRANT USAGE ON SCHEMA public TO {c}, {v};",
        f"REVOKE ALL ON {tables}, schema_version FROM {c}, {v};",
        f"GRANT SELECT, INSERT, UPDATE ON {tables} TO {c};",
        f"GRANT DELETE ON messages, jobs, timeline, trust, job_words TO {c};",
        f"GRANT SELECT ON schema_version TO {c};",
        f"GRANT SELECT ON {tables}, schema_version TO {v};",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    """`python -m wsdmon.store.pg_schema [COLLECTOR VIEWER]`: print the roles' SQL for the owner to run."""
    import sys

    names = sys.argv[1:3]
    sys.stdout.write(roles_sql(*names))


if __name__ == "__main__":
    main()
