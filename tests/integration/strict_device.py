"""A strict WSD device for tests: a raw asyncio HTTP server standing in for a wsdd2 box (many NAS
boxes): it compares the Content-Type with `application/soap+xml` byte for byte, closes every
connection, and on refusal sends the header `Content-Length: 0` followed by a SOAP fault, as wsdd2
does. It counts the metadata Gets it is sent."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from wsdmon.protocol import Headers, decode, encode
from wsdmon.protocol.metadata import (
    GetMetadataResponse,
    HostService,
    LocalizedText,
    Relationship,
    ThisDevice,
    ThisModel,
)

__all__ = ["BARE", "ENDPOINT", "NAME", "StrictDevice"]

ENDPOINT = "urn:uuid:0b0e7a5e-4a5b-4c3d-9e2f-5a1b2c3d4e5f"
NAME = "NAS-01 (strict stack)"
BARE = "application/soap+xml"


@dataclass
class StrictDevice:
    """Serves one device's metadata on 127.0.0.1 (start/stop), or refuses every request."""

    refuse_all: bool = False
    delay_s: float = 0.0
    content_types: list[str] = field(default_factory=list)
    server: asyncio.Server | None = None

    @property
    def gets(self) -> int:
        return len(self.content_types)

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/{ENDPOINT.removeprefix('urn:uuid:')}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            headers = {
                k.strip().lower(): v.strip()
                for k, _, v in (line.partition(":") for line in head.decode("latin-1").split("\r\n")[1:])
                if k
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            content_type = headers.get("content-type", "")
            self.content_types.append(content_type)
            await asyncio.sleep(self.delay_s)
            if self.refuse_all or content_type != BARE:
                writer.write(_head("400 Bad Request", 0) + _FAULT)
            else:
                answer = encode(_metadata(decode(body).header.message_id))
                writer.write(_head("200 OK", len(answer)) + answer)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def _head(status: str, length: int) -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nServer: strict WSD\r\nConnection: close\r\n"
        f"Content-Type: {BARE}\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


_FAULT = (
    b'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-'
    b'envelope"><soap:Body><soap:Fault><soap:Code><soap:Value>soap:Sender</soap:Value></soap:Code>'
    b'<soap:Reason><soap:Text xml:lang="en">Unsupported Content-Type</soap:Text></soap:Reason>'
    b"</soap:Fault></soap:Body></soap:Envelope>" + b" " * 400
)


def _metadata(relates_to: str | None) -> GetMetadataResponse:
    return GetMetadataResponse(
        Headers.reply(relates_to),
        ThisModel((LocalizedText("Example NAS", "en"),), model_names=(LocalizedText("DS-1", "en"),)),
        ThisDevice((LocalizedText(NAME, "en"),), "7.2", "SN1"),
        Relationship(HostService(ENDPOINT, (), ENDPOINT), ()),
    )
