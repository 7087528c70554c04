"""Opening a store by where it is: a file path or `sqlite:///path` is the local sqlite journal;
`postgresql://…`, `postgres://…` or a libpq keyword string (`service=NAME`, `host=… dbname=…`) is
PostgreSQL.

Passwords: keep them out of the location. libpq reads them from ~/.pgpass (%APPDATA%\\postgresql\\
pgpass.conf on Windows, or the file PGPASSFILE names) or from a service file (~/.pg_service.conf,
PGSERVICEFILE) with `service=NAME`; TLS (sslmode, sslrootcert…) and authentication are libpq's, as
configured there. A location with a password in it is accepted, but a warning is logged (without the
password): it would show in process lists and shell histories. Whatever wsdmon says about a location,
in logs, errors or the window, goes through redact_dsn().
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from .journal import default_journal_path
from .port import StorePort, check_site
from .schema import default_site

__all__ = ["has_password", "is_postgres", "open_store", "redact_dsn", "spool_path_for", "sqlite_path"]

_log = logging.getLogger(__name__)

_URL_SCHEMES = ("postgresql://", "postgres://")
_SECRET_KEYS = frozenset({"password", "sslpassword"})
# libpq's keyword=value form: a value is 'quoted (with \\' escapes)' or runs to the next blank.
_KV = re.compile(r"""(?P<key>\w+)\s*=\s*(?P<value>'(?:[^'\\]|\\.)*'|[^\s']\S*)""")
_MASK = "***"


def is_postgres(location: str) -> bool:
    """True for a PostgreSQL URL or libpq keyword string, False for a path or sqlite: URL."""
    text = location.strip()
    if text.lower().startswith(_URL_SCHEMES):
        return True
    return bool(_KV.match(text)) and not text.lower().startswith("sqlite:")


def sqlite_path(location: str) -> Path:
    """The journal file of a path or `sqlite:///path` location."""
    text = location.strip()
    if text.lower().startswith("sqlite://"):
        text = text[len("sqlite://") :]
    return Path(text).expanduser()


def _redact_url(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hosts = netloc.rpartition("@")
        user, colon, _secret = userinfo.partition(":")
        netloc = f"{user}:{_MASK}@{hosts}" if colon else f"{user}@{hosts}"
    query = parts.query
    pairs = parse_qsl(query, keep_blank_values=True)
    if any(k.lower() in _SECRET_KEYS for k, _ in pairs):
        query = urlencode([(k, _MASK if k.lower() in _SECRET_KEYS else v) for k, v in pairs], safe="*/:")
    if netloc == parts.netloc and query == parts.query:
        return url  # nothing secret: exactly as given
    # By hand: urlunsplit drops the empty host of postgresql:///db?host=/run/postgresql.
    tail = (f"?{query}" if query else "") + (f"#{parts.fragment}" if parts.fragment else "")
    return f"{parts.scheme}://{netloc}{parts.path}{tail}"


def redact_dsn(location: str) -> str:
    """The location with every password replaced by ***: safe for logs, errors and the window."""
    text = location.strip()
    if text.lower().startswith(_URL_SCHEMES):
        try:
            return _redact_url(text)
        except ValueError:  # not even a URL: say nothing of it but its scheme
            return text.split("://", 1)[0] + "://" + _MASK

    def mask(m: re.Match[str]) -> str:
        return f"{m['key']}={_MASK}" if m["key"].lower() in _SECRET_KEYS else m[0]

    return _KV.sub(mask, text)


def has_password(location: str) -> bool:
    """True when the location itself carries a password (it should come from ~/.pgpass instead)."""
    text = location.strip()
    if text.lower().startswith(_URL_SCHEMES):
        try:
            parts = urlsplit(text)
        except ValueError:
            return False
        userinfo = parts.netloc.rpartition("@")[0]
        return ":" in userinfo or any(
            k.lower() in _SECRET_KEYS for k, _ in parse_qsl(parts.query, keep_blank_values=True)
        )
    return any(m["key"].lower() in _SECRET_KEYS for m in _KV.finditer(text))


def spool_path_for(location: str, site: str) -> Path:
    """The local spool of one database and site, next to the user's journal. The same database
    written another way (keywords in another order, a URL, another password) has the same spool."""
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(location)
    except ProgrammingError:  # not parseable: the connection will say why; name it as given
        key = redact_dsn(location)
    else:
        key = repr(sorted((k, str(v)) for k, v in params.items() if k not in _SECRET_KEYS))
    digest = hashlib.sha256(f"{key}\0{site}".encode()).hexdigest()[:16]
    return default_journal_path().with_name(f"spool-{digest}.sqlite3")


def open_store(
    location: str, *, site: str | None = None, spool_path: Path | None = None, offline_start: bool = False
) -> StorePort:
    """The store at `location` (see the module docstring), writing as `site` (default: this host's
    name). Raises StoreError (PostgreSQL) or JournalError (sqlite) with words for a person.
    `offline_start`: a PostgreSQL server that cannot be reached yet is waited for with the local
    spool (store.postgres) instead of raising StoreUnavailableError."""
    name = default_site() if site is None else check_site(site)
    if not is_postgres(location):
        from .opening import open_journal

        opened = open_journal(sqlite_path(location), datetime.now(UTC), site=name)
        if opened.moved_aside is not None:
            _log.warning(
                "the journal was damaged (%s): kept as %s; started a new one",
                opened.damage,
                opened.moved_aside,
            )
        return opened.journal
    from .postgres import PostgresStore

    if has_password(location):
        _log.warning(
            "the store location %s carries a password: keep it in ~/.pgpass or a service file instead "
            "(it shows in process lists and shell histories)",
            redact_dsn(location),
        )
    spool = spool_path or spool_path_for(location, name)
    return PostgresStore(location, site=name, spool_path=spool, offline_start=offline_start)
