"""A throwaway PostgreSQL cluster for tests and benches: initdb into a temporary folder (in memory
when there is room, see MEMORY_DIR), pg_ctl start on a free port of 127.0.0.1 with its unix socket
in that folder, stop and remove afterwards.

PostgreSQL refuses to run as root: as root, the folder belongs to the `postgres` system user and
initdb/pg_ctl run through `runuser -u postgres --`. The binaries come from Debian's `postgresql`
package (found under /usr/lib/postgresql/<version>/bin, the newest version first, or on PATH). When
they are missing the fixture FAILS, naming the package: a skipped store suite would hide that
PostgreSQL is not tested at all.

Use `pg_cluster` (session-scoped: one cluster for the run) and `pg_dsn` (a fresh database per test).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from itertools import count
from pathlib import Path

import pytest

__all__ = ["PgCluster", "find_pg_bin", "pg_cluster", "pg_dsn"]

MISSING = (
    "PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's `postgresql` package "
    "(sudo apt-get install postgresql, or run `sh packaging/bootstrap.sh test` as root)"
)
START_TIMEOUT_S = 60
# A test cluster (fsync off) lives in memory (tmpfs) when the machine has room there: on the disk
# each CREATE DATABASE (one per test) took ~0.4 s and removing a whole run's databases took over
# a minute on a loaded 2-core machine; in /dev/shm ~0.1 s and under a second. Its data is thrown
# away anyway. A cluster with fsync on (the benches' durability figures) stays on the disk.
MEMORY_DIR = Path("/dev/shm")
MEMORY_FREE_MIN_BYTES = 2 * 1024**3


def _cluster_parent() -> str | None:
    """/dev/shm when it is a writable tmpfs with room, else None (the system's temporary folder)."""
    try:
        if os.access(MEMORY_DIR, os.W_OK) and shutil.disk_usage(MEMORY_DIR).free >= MEMORY_FREE_MIN_BYTES:
            return str(MEMORY_DIR)
    except OSError:
        pass
    return None


def find_pg_bin() -> Path | None:
    """The folder holding initdb and pg_ctl: the newest /usr/lib/postgresql/N/bin, else PATH."""

    def version(p: Path) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", p.parent.name))

    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    """One cluster in a temporary folder; start() / stop() may be called again (fault tests)."""

    def __init__(self, *, fsync: bool = False) -> None:
        bindir = find_pg_bin()
        if bindir is None:
            pytest.fail(MISSING, pytrace=False)
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="wsdmon-pg-", dir=None if fsync else _cluster_parent()))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as_postgres = os.geteuid() == 0
        self._databases = count(1)
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",  # C collation: works whatever locales the machine has (UTF8 with any)
            "--no-instructions",
            "--no-sync",  # initdb's final flush of every file: seconds, for a throwaway cluster
        )
        settings = [
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self.root}'",
            f"fsync = {'on' if fsync else 'off'}",
            "max_connections = 60",
            "shared_buffers = 32MB",
        ]
        conf = self.data / "postgresql.conf"
        with conf.open("a") as fh:
            fh.write("\n".join(settings) + "\n")

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / tool), *args]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=START_TIMEOUT_S)
        if result.returncode != 0:
            raise RuntimeError(f"{tool} failed ({result.returncode}): {result.stderr or result.stdout}")
        return result

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def dsn(self, dbname: str = "postgres", user: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user={user} dbname={dbname}"

    def admin(self, sql: str, dbname: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.dsn(dbname), autocommit=True) as conn:
            conn.execute(sql.encode())

    def new_database(self) -> str:
        name = f"wsdmon_t{next(self._databases)}"
        self.admin(f"CREATE DATABASE {name}")
        return self.dsn(name)

    def remove(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def running_cluster(*, fsync: bool = False) -> Iterator[PgCluster]:
    cluster = PgCluster(fsync=fsync)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture
def pg_dsn(pg_cluster: PgCluster) -> str:
    """A conninfo string of an empty database of its own."""
    return pg_cluster.new_database()
