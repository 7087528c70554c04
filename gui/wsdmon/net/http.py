"""SOAP 1.2 over HTTP(S) as a client: one POST, a typed answer, and errors that say what to do.

Every call has a timeout and a response-size cap. HTTPS XAddrs (the MS-BDSRR scan server listens on
HTTPS, port 5362, §3.2.3) are verified against the system's CAs; a self-signed certificate is
trusted only once the user has accepted its SHA-256 fingerprint, which is then pinned per device
(aiohttp.Fingerprint checks it on every connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import ssl
from collections.abc import Callable
from urllib.parse import urlsplit

import aiohttp

from wsdmon.core.device_status import DeviceError, DeviceErrorKind
from wsdmon.protocol import Fault, Message, RemoteProtocolError, UnknownMessage, decode, encode

__all__ = [
    "MAX_RESPONSE_BYTES",
    "REQUEST_TIMEOUT_S",
    "SOAP_CONTENT_TYPE",
    "RequestError",
    "SoapClient",
    "SoapFaultError",
    "TransportError",
    "UntrustedCertificateError",
    "device_error",
    "peer_certificate_fingerprint",
]

log = logging.getLogger(__name__)

# The SOAP 1.2 media type without parameters. RFC 3902 makes `charset` optional (the XML declaration
# of our UTF-8 body says the same), and some stacks compare the whole header: wsdd2, on many NAS
# boxes, answers 400 to `application/soap+xml; charset=utf-8`. Windows WSDAPI and sane-airscan send
# the bare type too. (The `action` parameter is optional as well: wsa:Action is in the header.)
SOAP_CONTENT_TYPE = "application/soap+xml"
REQUEST_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 5.0
MAX_RESPONSE_BYTES = 1024 * 1024  # same cap as the parser's (protocol._xml.MAX_MESSAGE_BYTES)
LOG_EXCERPT_BYTES = 600  # how much of a refused answer's body the log keeps


class RequestError(Exception):
    """A request that got no usable answer; `error` says why as a typed value (core.DeviceError).
    str() is the technical text, for logs."""

    def __init__(self, error: DeviceError, text: str) -> None:
        super().__init__(text)
        self.url = error.url
        self.error = error


class TransportError(RequestError):
    """The request did not get a SOAP answer: connection refused, timeout, HTTP error, over-size."""

    def __init__(
        self,
        url: str,
        reason: str,
        *,
        kind: DeviceErrorKind = DeviceErrorKind.UNREACHABLE,
        status: int | None = None,
        errno: int | None = None,
        limit: int | None = None,
        detail: str = "",
    ) -> None:
        error = DeviceError(
            kind, url, status=status, reason=reason, errno=errno, limit=limit, detail=detail or reason
        )
        super().__init__(error, f"{url}: {reason}")
        self.reason = reason


class SoapFaultError(RequestError):
    """The peer answered with a SOAP fault."""

    def __init__(self, url: str, fault: Fault, status: int | None = None) -> None:
        sub = fault.subcode.local if fault.subcode else fault.code
        text = f"{url}: SOAP fault {sub}: {fault.reason}"
        error = DeviceError(
            DeviceErrorKind.SOAP_FAULT, url, status=status, code=sub, reason=fault.reason, detail=text
        )
        super().__init__(error, text)
        self.fault = fault


class UntrustedCertificateError(RequestError):
    """HTTPS certificate not trusted: accept its fingerprint (GUI prompt, --trust-fingerprint)."""

    def __init__(self, url: str, fingerprint: str | None, reason: str) -> None:
        shown = fingerprint or "unknown"
        text = (
            f"{url}: certificate not trusted ({reason}); SHA-256 fingerprint {shown}. "
            "Check it on the device, then accept it (headless: --trust-fingerprint)."
        )
        fp = fingerprint.lower() if fingerprint else None
        error = DeviceError(
            DeviceErrorKind.UNTRUSTED_CERTIFICATE, url, reason=reason, fingerprint=fp, detail=text
        )
        super().__init__(error, text)
        self.fingerprint = fingerprint


def device_error(url: str, exc: Exception) -> DeviceError:
    """The typed reason of a failed SoapClient.call (RemoteProtocolError: the answer was garbage)."""
    if isinstance(exc, RequestError):
        return exc.error
    return DeviceError(DeviceErrorKind.BAD_ANSWER, url, reason=str(exc), detail=f"{url}: {exc}")


def _refused(url: str, status: int, data: bytes) -> TransportError:
    detail = f"HTTP {status} from {url}; body {_excerpt(data)!r}"
    return TransportError(
        url, f"HTTP {status}", kind=DeviceErrorKind.HTTP_STATUS, status=status, detail=detail
    )


def _excerpt(data: bytes) -> str:
    text = data[:LOG_EXCERPT_BYTES].decode("utf-8", "replace")
    return text + ("…" if len(data) > LOG_EXCERPT_BYTES else "")


async def peer_certificate_fingerprint(
    host: str, port: int, timeout_s: float = CONNECT_TIMEOUT_S
) -> str | None:
    """SHA-256 (hex) of the certificate a TLS server presents, read without verifying it — only to
    show the user what they would be accepting."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port, ssl=ctx), timeout_s)
    except (OSError, TimeoutError, ssl.SSLError) as exc:
        log.info("could not read the certificate of %s:%s: %s", host, port, exc)
        return None
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
        return hashlib.sha256(der).hexdigest() if der else None
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()


class SoapClient:
    """POST one SOAP message and decode the answer. `pinned(device)` gives the accepted SHA-256
    fingerprint (hex) of a device's certificate, if any."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        timeout_s: float = REQUEST_TIMEOUT_S,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        pinned: Callable[[str], str | None] = lambda device: None,
    ) -> None:
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout_s, connect=min(CONNECT_TIMEOUT_S, timeout_s))
        self._max = max_response_bytes
        self._pinned = pinned

    async def call(
        self, url: str, message: Message, *, device: str | None = None
    ) -> Message | UnknownMessage:
        """Send `message` to `url`; the decoded answer, or TransportError / SoapFaultError /
        UntrustedCertificateError / RemoteProtocolError (answer was not a valid SOAP message)."""
        body = encode(message)
        ssl_arg: bool | aiohttp.Fingerprint = True
        if urlsplit(url).scheme == "https" and device is not None:
            fp = self._pinned(device)
            if fp:
                ssl_arg = aiohttp.Fingerprint(bytes.fromhex(fp))
        try:
            async with self._session.post(
                url,
                data=body,
                headers={"Content-Type": SOAP_CONTENT_TYPE},
                timeout=self._timeout,
                ssl=ssl_arg,
            ) as resp:
                data = await self._read_capped(url, resp)
                status = resp.status
                headers = dict(resp.headers)
        except aiohttp.ServerFingerprintMismatch as exc:
            got = exc.got.hex() if exc.got else None
            raise UntrustedCertificateError(url, got, "fingerprint changed since it was accepted") from None
        except aiohttp.ClientConnectorCertificateError as exc:
            parts = urlsplit(url)
            fp = await peer_certificate_fingerprint(parts.hostname or "", parts.port or 443)
            raise UntrustedCertificateError(url, fp, str(exc.certificate_error)) from None
        except TimeoutError:
            raise TransportError(url, "timed out", kind=DeviceErrorKind.TIMEOUT) from None
        except aiohttp.ClientResponseError as exc:
            # aiohttp could not take the answer apart (wsdd2 sends its fault after a
            # `Content-Length: 0`): the status is known; its long message is for the log only.
            detail = f"HTTP {exc.status} from {url}: {exc.message}; headers {dict(exc.headers or {})}"
            log.info("%s", detail)
            raise TransportError(
                url, f"HTTP {exc.status}", kind=DeviceErrorKind.HTTP_STATUS, status=exc.status, detail=detail
            ) from None
        except aiohttp.ClientConnectorError as exc:
            raise TransportError(url, exc.os_error.strerror or str(exc), errno=exc.os_error.errno) from None
        except aiohttp.ClientConnectionError as exc:
            raise TransportError(url, str(exc) or type(exc).__name__) from None
        except aiohttp.ClientError as exc:
            raise TransportError(
                url, str(exc) or type(exc).__name__, kind=DeviceErrorKind.BAD_ANSWER
            ) from None
        if status >= 300:
            log.info("HTTP %d from %s; headers %s; body %r", status, url, headers, _excerpt(data))
        if not data:
            if status >= 300:
                raise _refused(url, status, data)
            raise TransportError(url, f"HTTP {status} with an empty body", kind=DeviceErrorKind.BAD_ANSWER)
        try:
            answer = decode(data)
        except RemoteProtocolError:
            if status >= 300:
                raise _refused(url, status, data) from None
            raise
        if isinstance(answer, Fault):
            raise SoapFaultError(url, answer, status)
        if status >= 300:
            raise _refused(url, status, data)
        return answer

    async def _read_capped(self, url: str, resp: aiohttp.ClientResponse) -> bytes:
        if resp.content_length is not None and resp.content_length > self._max:
            raise TransportError(
                url,
                f"answer of {resp.content_length} bytes exceeds the {self._max}-byte cap",
                kind=DeviceErrorKind.TOO_LARGE,
                limit=self._max,
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(65536):
            size += len(chunk)
            if size > self._max:
                raise TransportError(
                    url,
                    f"answer exceeds the {self._max}-byte cap",
                    kind=DeviceErrorKind.TOO_LARGE,
                    limit=self._max,
                )
            chunks.append(chunk)
        return b"".join(chunks)
