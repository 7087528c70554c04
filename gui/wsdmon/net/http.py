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

from wsdmon.protocol import Fault, Message, RemoteProtocolError, UnknownMessage, decode, encode

__all__ = [
    "MAX_RESPONSE_BYTES",
    "REQUEST_TIMEOUT_S",
    "SOAP_CONTENT_TYPE",
    "SoapClient",
    "SoapFaultError",
    "TransportError",
    "UntrustedCertificateError",
    "peer_certificate_fingerprint",
]

log = logging.getLogger(__name__)

SOAP_CONTENT_TYPE = "application/soap+xml; charset=utf-8"  # SOAP 1.2 HTTP binding (protocol README §4)
REQUEST_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 5.0
MAX_RESPONSE_BYTES = 1024 * 1024  # same cap as the parser's (protocol._xml.MAX_MESSAGE_BYTES)


class TransportError(Exception):
    """The request did not get a SOAP answer: connection refused, timeout, HTTP error, over-size."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class SoapFaultError(Exception):
    """The peer answered with a SOAP fault."""

    def __init__(self, url: str, fault: Fault) -> None:
        sub = fault.subcode.local if fault.subcode else fault.code
        super().__init__(f"{url}: SOAP fault {sub}: {fault.reason}")
        self.url = url
        self.fault = fault


class UntrustedCertificateError(Exception):
    """HTTPS certificate not trusted: accept its fingerprint (GUI prompt, --trust-fingerprint)."""

    def __init__(self, url: str, fingerprint: str | None, reason: str) -> None:
        shown = fingerprint or "unknown"
        super().__init__(
            f"{url}: certificate not trusted ({reason}); SHA-256 fingerprint {shown}. "
            "Check it on the device, then accept it (headless: --trust-fingerprint)."
        )
        self.url = url
        self.fingerprint = fingerprint


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
        except aiohttp.ServerFingerprintMismatch as exc:
            got = exc.got.hex() if exc.got else None
            raise UntrustedCertificateError(url, got, "fingerprint changed since it was accepted") from None
        except aiohttp.ClientConnectorCertificateError as exc:
            parts = urlsplit(url)
            fp = await peer_certificate_fingerprint(parts.hostname or "", parts.port or 443)
            raise UntrustedCertificateError(url, fp, str(exc.certificate_error)) from None
        except TimeoutError:
            raise TransportError(url, "timed out") from None
        except aiohttp.ClientError as exc:
            raise TransportError(url, str(exc) or type(exc).__name__) from None
        if not data:
            raise TransportError(url, f"HTTP {status} with an empty body")
        try:
            answer = decode(data)
        except RemoteProtocolError:
            if status >= 300:
                raise TransportError(url, f"HTTP {status}") from None
            raise
        if isinstance(answer, Fault):
            raise SoapFaultError(url, answer)
        if status >= 300:
            raise TransportError(url, f"HTTP {status}")
        return answer

    async def _read_capped(self, url: str, resp: aiohttp.ClientResponse) -> bytes:
        if resp.content_length is not None and resp.content_length > self._max:
            raise TransportError(
                url, f"answer of {resp.content_length} bytes exceeds the {self._max}-byte cap"
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(65536):
            size += len(chunk)
            if size > self._max:
                raise TransportError(url, f"answer exceeds the {self._max}-byte cap")
            chunks.append(chunk)
        return b"".join(chunks)
