"""A device's typed troubles in words a technician understands, one line each, through tr(): why
its metadata could not be read (core.DeviceError) and why it is offline (core.OfflineReason).

The long technical detail (HTTP headers, a body excerpt, a library's message) stays in the log."""

from __future__ import annotations

import errno as _errno

from wsdmon.core import DeviceError, DeviceErrorKind, OfflineReason, ResubscribeResult

from ._i18n import QT_TRANSLATE_NOOP, translate

__all__ = ["device_error_text", "offline_text", "resubscribe_text"]

_CTX = "DeviceText"

_ERRORS = {
    DeviceErrorKind.HTTP_STATUS: QT_TRANSLATE_NOOP(_CTX, "The device refused the metadata request ({0})"),
    DeviceErrorKind.SOAP_FAULT: QT_TRANSLATE_NOOP(
        _CTX, "The device answered the metadata request with a fault: {0}"
    ),
    DeviceErrorKind.TIMEOUT: QT_TRANSLATE_NOOP(
        _CTX, "The device at {0} did not answer the metadata request in time"
    ),
    DeviceErrorKind.UNREACHABLE: QT_TRANSLATE_NOOP(_CTX, "Cannot connect to {0}"),
    DeviceErrorKind.BAD_ANSWER: QT_TRANSLATE_NOOP(
        _CTX, "The device's answer to the metadata request is not a WSD metadata message"
    ),
    DeviceErrorKind.TOO_LARGE: QT_TRANSLATE_NOOP(
        _CTX, "The device's answer is larger than the {0}-byte limit"
    ),
    DeviceErrorKind.UNTRUSTED_CERTIFICATE: QT_TRANSLATE_NOOP(
        _CTX, "The device's HTTPS certificate is not trusted yet: compare its fingerprint, then trust it"
    ),
    DeviceErrorKind.NO_ADDRESS: QT_TRANSLATE_NOOP(
        _CTX, "The device gave no address to read its metadata from"
    ),
}
_REFUSED = QT_TRANSLATE_NOOP(_CTX, "Cannot connect to {0}: nothing answers on that port (connection refused)")
_NO_ROUTE = QT_TRANSLATE_NOOP(_CTX, "Cannot connect to {0}: no route to the device")
_OFFLINE = {
    OfflineReason.BYE: QT_TRANSLATE_NOOP(_CTX, "Offline: the device said it is leaving (WS-Discovery Bye)"),
    OfflineReason.UNREACHABLE: QT_TRANSLATE_NOOP(_CTX, "Offline: its metadata could not be read"),
    OfflineReason.NOT_SEEN: QT_TRANSLATE_NOOP(_CTX, "Not seen since wsdmon started"),
    OfflineReason.SHUTTING_DOWN: QT_TRANSLATE_NOOP(
        _CTX, "Offline: the device is shutting down (it ended the subscription)"
    ),
}
# A device of a shared store: its site's collector, not this wsdmon, has not seen it.
_NOT_SEEN_AT_SITE = QT_TRANSLATE_NOOP(_CTX, "Not seen since its site's collector started")
_RESUBSCRIBED = {
    ResubscribeResult.SUBSCRIBED: QT_TRANSLATE_NOOP(_CTX, "Resubscribed to {0}"),
    ResubscribeResult.FAILED: QT_TRANSLATE_NOOP(
        _CTX, "Resubscribe to {0} failed: the device did not accept the subscription (wsdmon keeps retrying)"
    ),
    ResubscribeResult.NO_ANSWER_YET: QT_TRANSLATE_NOOP(
        _CTX, "Resubscribe to {0}: no answer from the device yet (wsdmon keeps trying)"
    ),
    ResubscribeResult.NOTHING_TO_SUBSCRIBE: QT_TRANSLATE_NOOP(
        _CTX, "{0} has nothing to subscribe to: its metadata has not been read"
    ),
}
_RESUBSCRIBE_ASKED = QT_TRANSLATE_NOOP(_CTX, "Resubscribe to {0} requested")


def device_error_text(error: DeviceError) -> str:
    """One line saying why the device's metadata could not be read."""
    kind = error.kind
    if kind is DeviceErrorKind.UNREACHABLE and error.errno == _errno.ECONNREFUSED:
        return translate(_CTX, _REFUSED).format(error.host)
    if kind is DeviceErrorKind.UNREACHABLE and error.errno in (_errno.EHOSTUNREACH, _errno.ENETUNREACH):
        return translate(_CTX, _NO_ROUTE).format(error.host)
    text = translate(_CTX, _ERRORS[kind])
    if kind is DeviceErrorKind.HTTP_STATUS:
        return text.format(" ".join(x for x in (f"HTTP {error.status}", error.status_phrase) if x))
    if kind is DeviceErrorKind.SOAP_FAULT:
        return text.format(" ".join(x for x in (error.code, error.reason) if x))
    if kind is DeviceErrorKind.TOO_LARGE:
        return text.format(error.limit)
    return text.format(error.host)


def offline_text(reason: OfflineReason, *, at_site: bool = False) -> str:
    """One line saying why the device is shown offline (`at_site`: by its site's collector)."""
    if at_site and reason is OfflineReason.NOT_SEEN:
        return translate(_CTX, _NOT_SEEN_AT_SITE)
    return translate(_CTX, _OFFLINE[reason])


def resubscribe_text(result: object, name: str) -> str:
    """One line for the status bar on what came of a Resubscribe (a ResubscribeResult)."""
    text = _RESUBSCRIBED.get(result) if isinstance(result, ResubscribeResult) else None
    return translate(_CTX, text or _RESUBSCRIBE_ASKED).format(name)
