"""What a long-running wsdmon (`wsdmon collect`) needs from the system that runs it: log lines on
stderr that the systemd journal files at the right priority, and the readiness notification of a
Type=notify unit.

Under systemd, stderr is a stream to the journal and systemd says so in $JOURNAL_STREAM
("device:inode" of that stream): then each line starts with its syslog priority (`<6>` for info,
sd-daemon(3)) and carries no time stamp, since the journal stamps every line itself. Anywhere else
(a terminal, a file, Windows) a line starts with the time and the level's name. A program without
stderr (wsdmon.exe is a windowed program: a start-up task gives it none) logs to a file instead.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import socket
from pathlib import Path
from typing import TextIO

__all__ = ["JournalFormatter", "configure_service_logging", "sd_notify", "under_journald"]

log = logging.getLogger(__name__)

# sd-daemon(3): the syslog priorities systemd reads from a "<N>" line prefix.
_SD_PRIORITY = {
    logging.CRITICAL: 2,  # SD_CRIT
    logging.ERROR: 3,  # SD_ERR
    logging.WARNING: 4,  # SD_WARNING
    logging.INFO: 6,  # SD_INFO
    logging.DEBUG: 7,  # SD_DEBUG
}
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_FILE_MAX_BYTES = 1024 * 1024  # without stderr: the log file, and this many older ones kept
LOG_FILE_BACKUPS = 3


def _priority(levelno: int) -> int:
    """The priority of the nearest standard level at or above `levelno` (custom levels included)."""
    return next((p for level, p in sorted(_SD_PRIORITY.items()) if levelno <= level), 2)


class JournalFormatter(logging.Formatter):
    """`<priority>logger: message`, every line of a record prefixed (a traceback's lines too), so
    the journal keeps each at the record's priority."""

    def __init__(self) -> None:
        super().__init__("%(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{_priority(record.levelno)}>"
        return "\n".join(prefix + line for line in super().format(record).splitlines())


def under_journald(stream: TextIO) -> bool:
    """True when `stream` is the journal stream systemd gave this process ($JOURNAL_STREAM names
    its device and inode; a child whose stderr was redirected inherits the variable, so it is
    compared, not just looked for)."""
    given = os.environ.get("JOURNAL_STREAM", "")
    device, _, inode = given.partition(":")
    if not (device.isdigit() and inode.isdigit()):
        return False
    try:
        stat = os.fstat(stream.fileno())
    except (OSError, ValueError):  # no file descriptor (a StringIO, a closed stream)
        return False
    return (stat.st_dev, stat.st_ino) == (int(device), int(inode))


def configure_service_logging(level: str, stream: TextIO | None, log_file: Path) -> None:
    """Send every log record to `stream` in the journal's format when systemd reads it, else
    with time stamps; without a stream (None), to `log_file` (rotated), if it can be written."""
    handler: logging.Handler
    if stream is not None:
        handler = logging.StreamHandler(stream)
    else:
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.handlers.RotatingFileHandler(
                log_file, maxBytes=LOG_FILE_MAX_BYTES, backupCount=LOG_FILE_BACKUPS, encoding="utf-8"
            )
        except OSError:  # nowhere to log: the journal's own start-up errors still decide the exit code
            handler = logging.NullHandler()
    handler.setFormatter(
        JournalFormatter()
        if stream is not None and under_journald(stream)
        else logging.Formatter(PLAIN_FORMAT)
    )
    logging.basicConfig(level=level, handlers=[handler], force=True)


def sd_notify(state: str) -> bool:
    """Tell the service manager our state (READY=1, STOPPING=1, STATUS=…) when it asked for it
    ($NOTIFY_SOCKET); True when sent. Hand-written: the protocol is one datagram to a Unix socket
    (sd_notify(3)), too small to take a dependency (python-systemd, sdnotify) for. The send does not
    block: a datagram socket either takes the message at once or fails."""
    address = os.environ.get("NOTIFY_SOCKET", "")
    family = getattr(socket, "AF_UNIX", None)
    if not address or family is None:
        return False
    if address.startswith("@"):  # an abstract socket (Linux)
        address = "\0" + address[1:]
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(state.encode())
    except OSError as exc:
        log.warning("could not tell the service manager %s: %s", state.split("=", 1)[0], exc)
        return False
    return True
