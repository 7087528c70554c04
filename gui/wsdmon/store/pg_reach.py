"""Reaching the PostgreSQL server, for store.postgres: which failures wait in the spool and which end
a collector, the ids a collector that starts without the server hands out, and the thread that keeps
replaying the spool while the collector is idle.

A failure to connect is "for good" when the server answered and refused this location (the password
or the role or the database is wrong, pg_hba.conf has no line for it, TLS is misconfigured, an option
has a bad value): waiting does not mend that, so a collector stops and says why. Everything else (no
answer, connection refused, a name that does not resolve yet, a server starting or shutting down,
too many clients) may pass: the collector accepts into its spool and keeps trying. libpq reports
connection failures as text without an SQLSTATE, so the refusals are told by libpq's and the server's
English words; a server answering in another language (lc_messages) is taken as "may pass", and the
first warning still shows its words.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import psycopg

from .pg_rows import Conn
from .pg_schema import SCHEMA_VERSION, migrate, schema_version
from .port import StoreError, StoreUnavailableError

__all__ = ["SpoolReplayer", "connect", "now_s", "offline_start_id", "refused_for_good", "words"]

_log = logging.getLogger(__name__)

MIN_REPLAY_WAIT_S = 0.05  # the replay thread's shortest wait, whatever interval it is given

# libpq's and the server's words for a location that will not work however long one waits.
_REFUSED = (
    "authentication failed",  # password, ident, peer, cert, ldap, radius, gss…
    "no pg_hba.conf entry",
    "pg_hba.conf rejects connection",
    "no password supplied",
    "password is required",
    "does not exist",  # role "x" / database "x" does not exist
    "is not permitted to log in",
    "permission denied for database",
    "invalid connection option",
    "invalid integer value",
    "invalid port number",
    "invalid sslmode value",
    "invalid value for parameter",
    "server does not support ssl",
    "certificate verify failed",
    "root certificate file",
    "could not read root certificate",
)


def refused_for_good(words: str) -> bool:
    """True when a connection failure's words say the location can never work as it is."""
    text = words.lower()
    return any(phrase in text for phrase in _REFUSED)


def words(exc: BaseException) -> str:
    """The server's or libpq's words, first line only (they never hold the password)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def connect(conninfo: str, location: str, site: str, *, first: bool, lock_site: bool = True) -> Conn:
    """A session for the store of `site`: schema checked (migrated when older), synchronous_commit
    at least on, the site's lock taken unless not `lock_site` (a second session of the same store;
    `first`: at open, where another holder is a second collector). StoreUnavailableError when the
    failure may pass, StoreError when it will not."""
    try:
        conn = psycopg.connect(conninfo, autocommit=True)
    except psycopg.OperationalError as exc:
        said = words(exc)
        if refused_for_good(said):  # waiting will not mend it
            raise StoreError(f"the PostgreSQL server of {location} refuses it: {said}") from None
        raise StoreUnavailableError(
            f"cannot reach the PostgreSQL server of {location}: {said}"
        ) from None  # the chained error's repr would name the connection string
    try:
        version = schema_version(conn)
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{location} holds wsdmon tables of schema version {version}, newer than this "
                f"wsdmon understands ({SCHEMA_VERSION}): upgrade wsdmon"
            )
        if version < SCHEMA_VERSION:
            migrate(conn)
        # A device is answered once its message is committed: a commit must be on disk (or on
        # a standby, as configured), so "off" (which acknowledges before the WAL is flushed)
        # from the server's or the database's settings is raised to "on" for this session. Only
        # the collector's own location may ask for "off" (libpq's options=-c…, whose source
        # PostgreSQL reports as "client"): docs/postgresql.md, a site's informed choice.
        setting = conn.execute(
            "SELECT setting, source FROM pg_settings WHERE name = 'synchronous_commit'"
        ).fetchone()
        if setting is not None and setting[0] == "off":
            if setting[1] == "client":
                if lock_site:  # said once, by the collector's main session
                    _log.warning(
                        "%s asks for synchronous_commit off: a notification already answered may "
                        "be lost if the database server loses power",
                        location,
                    )
            else:
                conn.execute("SET synchronous_commit TO on")
                _log.info("%s has synchronous_commit off: this collector commits with it on", location)
        if not lock_site:
            return conn
        got = conn.execute(
            "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", (f"wsdmon site {site}",)
        ).fetchone()
        if (got is None or not got[0]) and not first:
            # After a network outage the server may keep our old session (and its lock) until
            # its TCP keepalive gives up: go on; a real second collector on this site is still
            # caught by the content check of any id both of them wrote.
            _log.warning("site %r is still locked by an older session of %s", site, location)
        elif got is None or not got[0]:
            raise StoreError(
                f"another collector is writing as site {site!r} into {location}: "
                "give each collector its own --site"
            )
    except psycopg.errors.InsufficientPrivilege as exc:
        conn.close()
        raise StoreError(
            f"{location} has no wsdmon tables of schema version {SCHEMA_VERSION} and this role "
            f"may not create them ({words(exc)}): run wsdmon once as the database's owner"
        ) from None
    except psycopg.errors.DuplicateTable as exc:  # its tables, without wsdmon's schema_version
        conn.close()
        raise StoreError(
            f"{location} holds tables of another program ({words(exc)}): give wsdmon a database of its own"
        ) from None
    except psycopg.OperationalError as exc:
        conn.close()
        raise StoreUnavailableError(f"{location}: {words(exc)}") from None
    except psycopg.Error as exc:
        conn.close()
        raise StoreError(f"{location}: {words(exc)}") from None
    except BaseException:
        conn.close()
        raise
    return conn


def offline_start_id(spooled_max: int, now: float) -> int:
    """The first id of a collector that starts while the server cannot be asked for its site's last
    id: above everything this spool ever held and above any id this site can have handed out before
    `now` (seconds since the epoch): ids are microseconds-of-the-epoch-sized from then on, which a
    site would only have reached by storing 1,000 notifications a millisecond since 1970. It stays
    below 2**53, so JSON readers keep it exact, until the year 2255."""
    return max(spooled_max + 1, int(now * 1000) * 1000)


class SpoolReplayer:
    """A daemon thread calling `replay()` every `interval()` seconds while `needed()` says so, until
    stop(): the spool of an idle collector is replayed once the server is back, not at the next
    notification. `replay` does its own locking; its StoreError is logged once per new wording."""

    def __init__(
        self,
        name: str,
        needed: Callable[[], bool],
        replay: Callable[[], object],
        interval: Callable[[], float],
    ) -> None:
        self._needed = needed
        self._replay = replay
        self._interval = interval
        self._stop = threading.Event()
        self._said = ""
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(max(self._interval(), MIN_REPLAY_WAIT_S)):
            if not self._needed():
                continue
            try:
                self._replay()
            except Exception as exc:  # never end the thread: the next round may work
                words = str(exc) or type(exc).__name__
                if words != self._said:
                    self._said = words
                    _log.error("the spool could not be replayed: %s", words)

    def stop(self, timeout_s: float) -> None:
        """End the thread, waiting at most timeout_s for a replay in progress."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout_s)


def now_s() -> float:
    """Seconds since the epoch (the offline start's id floor), a seam for tests."""
    return time.time()
