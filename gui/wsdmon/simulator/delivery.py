"""Notification delivery: a lean HTTP/1.1 client for one subscriber, on asyncio streams.

Why not aiohttp's client here: a notification is a small one-way POST, and the per-request cost of
aiohttp's client (and one socket send per request) capped in-order delivery to one subscriber near
1,000 notifications/s on the 2-core test machine; the burst target is 2,000/s (bench/
bench_simulator_burst.py). This client keeps one keep-alive connection per subscriber, writes
each request (head and body) in one piece, and when notifications are queued sends up to
`depth` of them in one write (HTTP/1.1 pipelining, RFC 9112 §9.3.2: responses come back in
order, so delivery stays in order). POST is not idempotent: the client detects partial failure
by counting responses, never re-sends a request the server may have processed, and re-sends only
what the server provably did not take (after a `Connection: close` answer, or when a reused idle
connection turns out closed before any answer). Depth 1 turns pipelining off.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

__all__ = ["MAX_RESPONSE_BYTES", "SubscriberConnection", "parse_url"]

MAX_RESPONSE_BYTES = 1024 * 1024  # a sink answers 202 with no body; anything this large is wrong
_MAX_HEADERS = 100
_CONTENT_TYPE = b"application/soap+xml; charset=utf-8"
_USER_AGENT = b"wsdmon-simulator"


@dataclass(frozen=True, slots=True)
class Target:
    """Where a URL's requests go."""

    host: str
    port: int
    tls: bool
    host_header: bytes
    path: bytes


def parse_url(url: str) -> Target:
    """An http(s) URL as a request target; ValueError for anything else."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(unquote(parts.hostname), port, tls, parts.netloc.encode("idna"), path.encode("utf-8"))


class SubscriberConnection:
    """One keep-alive connection to one URL's origin; `post_many` delivers bodies in order."""

    def __init__(self, url: str, timeout_s: float) -> None:
        self.url = url
        self.target = parse_url(url)
        self.timeout_s = timeout_s
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        t = self.target
        self._head = (
            b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nUser-Agent: %s\r\nContent-Length: "
            % (t.path, t.host_header, _CONTENT_TYPE, _USER_AGENT)
        )

    def _request(self, body: bytes) -> bytes:
        return b"%s%d\r\n\r\n%s" % (self._head, len(body), body)

    async def _connect(self) -> None:
        t = self.target
        context = ssl.create_default_context() if t.tls else None
        async with asyncio.timeout(self.timeout_s):
            self._reader, self._writer = await asyncio.open_connection(
                t.host, t.port, ssl=context, server_hostname=t.host if t.tls else None
            )

    async def close(self) -> None:
        """Close the connection (idempotent)."""
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError, TimeoutError):
                async with asyncio.timeout(1.0):
                    await writer.wait_closed()

    async def post_many(
        self, bodies: list[bytes], taken: Callable[[], None] | None = None
    ) -> list[str | None]:
        """POST each body in order; per body None when the server took it (2xx), else why not.
        `taken` is called at each 2xx as it is read: counted even if the caller is cancelled
        before the batch ends (a subscription dropped mid-batch)."""
        results: list[str | None] = []
        pending = list(bodies)
        retried = False
        while pending:
            fresh = self._writer is None
            answered = 0
            try:
                if fresh:
                    await self._connect()
                assert self._reader is not None
                assert self._writer is not None
                self._writer.write(b"".join(self._request(b) for b in pending))
                await self._writer.drain()
                while pending:
                    answer = await self._response(self._reader)
                    if answer is None:  # closed before answering
                        await self.close()
                        if fresh or retried or answered:
                            raise ConnectionError("the subscriber closed the connection")
                        retried = True  # an idle keep-alive connection it had dropped: once more
                        break
                    status, keep_alive = answer
                    pending.pop(0)
                    answered += 1
                    results.append(None if 200 <= status < 300 else f"HTTP {status}")
                    if taken is not None and 200 <= status < 300:
                        taken()
                    if not keep_alive:
                        await self.close()  # what follows was not processed: send it anew
                        break
            except TimeoutError:  # before OSError, of which it is a subclass
                await self.close()
                results.extend([f"no answer within {self.timeout_s:g} s"] * len(pending))
                return results
            except (OSError, ssl.SSLError, asyncio.IncompleteReadError, ValueError) as exc:
                await self.close()
                results.extend([f"{type(exc).__name__}: {exc}"] * len(pending))
                return results
        return results

    async def _response(self, reader: asyncio.StreamReader) -> tuple[int, bool] | None:
        """Read one response: its status and whether the connection stays open; None if the
        connection ended before one began."""
        async with asyncio.timeout(self.timeout_s):
            while True:
                line = await reader.readline()
                if not line:
                    return None
                version, _, rest = line.decode("latin-1").strip().partition(" ")
                if not version.startswith("HTTP/1."):
                    raise ValueError(f"not an HTTP/1.x response: {line[:60]!r}")
                status = int(rest[:3])
                headers = await self._headers(reader)
                if 100 <= status < 200:
                    continue  # 100 Continue and friends: the real answer follows
                keep_alive = await self._body(reader, status, headers)
                connection = headers.get("connection", "").lower()
                if "close" in connection or (version == "HTTP/1.0" and "keep-alive" not in connection):
                    keep_alive = False
                return status, keep_alive

    @staticmethod
    async def _headers(reader: asyncio.StreamReader) -> dict[str, str]:
        headers: dict[str, str] = {}
        for _ in range(_MAX_HEADERS):
            line = await reader.readline()
            if line in (b"\r\n", b"\n"):
                return headers
            if not line:
                raise asyncio.IncompleteReadError(b"", None)
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        raise ValueError("too many response headers")

    @staticmethod
    async def _body(reader: asyncio.StreamReader, status: int, headers: dict[str, str]) -> bool:
        """Skip the response body; False when it runs to the end of the connection."""
        if status in (204, 304):
            return True
        if "chunked" in headers.get("transfer-encoding", "").lower():
            total = 0
            while (size := int((await reader.readline()).split(b";")[0].strip() or b"0", 16)) > 0:
                total += size
                if total > MAX_RESPONSE_BYTES:
                    raise ValueError("response body too large")
                await reader.readexactly(size + 2)
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return True
        length = headers.get("content-length")
        if length is not None:
            n = int(length)
            if not 0 <= n <= MAX_RESPONSE_BYTES:
                raise ValueError(f"response Content-Length {n} out of range")
            await reader.readexactly(n)
            return True
        size = 0
        while chunk := await reader.read(65536):  # no length: the body ends with the connection
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                raise ValueError("response body too large")
        return False
