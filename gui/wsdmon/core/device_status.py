"""Why a device cannot be read or is offline, as typed values: the engine (net/) fills them, the
device list (models/) words them through tr(), `watch` prints their one-line English `str()`.

No layer parses another's English: a technician's wording lives in models/devices.py, and the long
detail (HTTP headers, a body excerpt, a library's message) goes to the log only.
"""

from __future__ import annotations

import enum
import http
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

__all__ = [
    "CancelOutcome",
    "CancelResult",
    "DeviceError",
    "DeviceErrorKind",
    "OfflineReason",
    "ResubscribeResult",
]


class DeviceErrorKind(enum.Enum):
    """Why a request to a device got no usable answer."""

    UNREACHABLE = "unreachable"  # no connection: refused, no route, name unknown
    TIMEOUT = "timeout"  # connected (or tried to) but no answer in time
    HTTP_STATUS = "http-status"  # answered with an HTTP error status and no SOAP fault
    SOAP_FAULT = "soap-fault"  # answered with a SOAP fault
    BAD_ANSWER = "bad-answer"  # answered with something that is not the expected SOAP message
    TOO_LARGE = "too-large"  # the answer exceeds the size cap
    UNTRUSTED_CERTIFICATE = "untrusted-certificate"  # HTTPS certificate not verified nor accepted
    NO_ADDRESS = "no-address"  # the device gave no transport address to ask


@dataclass(frozen=True, slots=True)
class DeviceError:
    """One failed request, with the facts a person needs (status, fault code, fingerprint); `detail`
    is for the log (never shown as is)."""

    kind: DeviceErrorKind
    url: str = ""
    status: int | None = None  # HTTP status (HTTP_STATUS; also set when a fault came with one)
    code: str = ""  # SOAP fault subcode (or code), as sent: "InvalidArgs", "Sender"…
    reason: str = ""  # the device's own words (a fault's Reason), or a short technical cause
    errno: int | None = None  # UNREACHABLE: the OS error number, when there is one
    fingerprint: str | None = None  # UNTRUSTED_CERTIFICATE: SHA-256 hex, lower case, if read
    limit: int | None = None  # TOO_LARGE: the cap in bytes
    detail: str = ""  # the full technical text, for the log

    @property
    def host(self) -> str:
        """host[:port] of the URL asked, or the URL itself."""
        return urlsplit(self.url).netloc or self.url

    @property
    def status_phrase(self) -> str:
        """The standard reason phrase of `status` ("Bad Request"), or ""."""
        try:
            return http.HTTPStatus(self.status).phrase if self.status is not None else ""
        except ValueError:
            return ""

    def __str__(self) -> str:
        """One line of English for logs and `wsdmon watch` (the window words it through tr())."""
        k = DeviceErrorKind
        if self.kind is k.HTTP_STATUS:
            phrase = f" {self.status_phrase}" if self.status_phrase else ""
            return f"the device refused the request (HTTP {self.status}{phrase})"
        if self.kind is k.SOAP_FAULT:
            return f"the device answered with a SOAP fault: {self.code} {self.reason}".strip()
        if self.kind is k.UNTRUSTED_CERTIFICATE:
            return f"HTTPS certificate not trusted (SHA-256 fingerprint {self.fingerprint or 'unknown'})"
        simple = {
            k.UNREACHABLE: f"cannot connect to {self.host}" + (f" ({self.reason})" if self.reason else ""),
            k.TIMEOUT: f"no answer from {self.host} in time",
            k.BAD_ANSWER: "the answer is not the expected WSD message",
            k.TOO_LARGE: f"the answer exceeds the {self.limit}-byte cap",
            k.NO_ADDRESS: "no transport address",
        }
        return simple[self.kind]


class OfflineReason(enum.Enum):
    """Why a device is shown offline (each worded truthfully in models/devices.py)."""

    BYE = "bye"  # the device announced it is leaving (WS-Discovery Bye)
    UNREACHABLE = "unreachable"  # its metadata could not be read (DeviceRecord.error says why)
    NOT_SEEN = "not-seen"  # known from the journal, not seen since wsdmon started
    SHUTTING_DOWN = "shutting-down"  # it ended our subscription because it is shutting down


class ResubscribeResult(enum.Enum):
    """What came of a person's Resubscribe (the device list's context menu)."""

    SUBSCRIBED = "subscribed"  # every subscription of the device is active again
    FAILED = "failed"  # the device did not accept one of them (wsdmon keeps retrying)
    NO_ANSWER_YET = "no-answer-yet"  # still subscribing when the wait for an outcome ended
    NOTHING_TO_SUBSCRIBE = "nothing-to-subscribe"  # not monitored: unknown, not reached, no scan service


class CancelResult(enum.Enum):
    """What came of a person's "Cancel job…" (the server's answer, as a kind)."""

    ACCEPTED = "accepted"  # the server answered CancelPostScanJobResponse / CancelJobResponse
    REFUSED = "refused"  # the server answered with a SOAP fault (CancelOutcome.code, .reason)
    FAILED = "failed"  # no answer: unreachable, timeout, HTTP error… (CancelOutcome.error)
    UNEXPECTED = "unexpected"  # an answer that is not the cancel response (CancelOutcome.code: its action)
    NOT_POSSIBLE = "not-possible"  # no scan service of the job's device is known to this monitor


@dataclass(frozen=True, slots=True)
class CancelOutcome:
    """A cancel request wsdmon sent and the server's answer (worded in models/ through tr())."""

    result: CancelResult
    requested_at: datetime
    code: str = ""  # REFUSED: the fault's subcode (or code); UNEXPECTED: the answer's action
    reason: str = ""  # REFUSED: the fault's Reason text, as the server wrote it
    error: DeviceError | None = None  # FAILED: why no answer came
