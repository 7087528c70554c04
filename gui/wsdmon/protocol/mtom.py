"""MTOM/XOP packaging of a SOAP message with binary attachments (multipart/related), as WS-Scan's
RetrieveImageResponse is sent ("RetrieveImageResponse element": "MIME Multipart-Related … SOAP
Message Transmission Optimization Mechanism [MTOM]"; W3C SOAP MTOM §3 and XOP 1.0 §4).

The root part is the envelope (application/xop+xml; type="application/soap+xml"); each attachment
is a binary part named by its Content-ID, which the envelope points at with xop:Include href="cid:…".
Sans-IO: bytes in, bytes out. The multipart body is split by hand rather than with the email
package, whose parser works on text lines and may rewrite line endings inside binary parts.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import Message as _MimeHeader

from ._xml import MAX_MESSAGE_BYTES
from .dispatch import UnknownMessage, decode
from .envelope import Message, encode
from .errors import LocalProtocolError, RemoteProtocolError

__all__ = ["MAX_MTOM_BYTES", "Attachment", "decode_mtom", "encode_mtom", "new_content_id"]

MAX_MTOM_BYTES = 256 * 1024 * 1024  # a page at 600 dpi in 48-bit colour is ~200 MiB uncompressed
_CRLF = b"\r\n"
_ROOT_TYPE = 'application/xop+xml; charset=UTF-8; type="application/soap+xml"'


@dataclass(frozen=True, slots=True)
class Attachment:
    """One binary part: its Content-ID (without angle brackets), media type and bytes."""

    content_id: str
    media_type: str
    data: bytes

    def __post_init__(self) -> None:
        for value in (self.content_id, self.media_type):
            if not value or any(c in value for c in "\r\n<>"):
                raise LocalProtocolError(f"MIME header value {value!r} is empty or unsafe")


def new_content_id() -> str:
    """A fresh Content-ID (RFC 2392 form: local@domain)."""
    return f"{uuid.uuid4()}@wsdmon"


def _head(media_type: str, content_id: str) -> bytes:
    return (
        f"Content-Type: {media_type}\r\nContent-Transfer-Encoding: binary\r\n"
        f"Content-ID: <{content_id}>\r\n\r\n"
    ).encode()


def encode_mtom(
    message: Message, attachments: Sequence[Attachment], *, boundary: str | None = None
) -> tuple[str, bytes]:
    """The HTTP Content-Type and body of `message` packed with `attachments` (MTOM §3)."""
    boundary = boundary or f"MIMEBoundary_{uuid.uuid4().hex}"
    root_id = new_content_id()
    delimiter = b"--" + boundary.encode() + _CRLF
    chunks = [delimiter, _head(_ROOT_TYPE, root_id), encode(message), _CRLF]
    for part in attachments:
        chunks += [delimiter, _head(part.media_type, part.content_id), part.data, _CRLF]
    chunks.append(b"--" + boundary.encode() + b"--" + _CRLF)
    content_type = (
        f'multipart/related; type="application/xop+xml"; boundary="{boundary}"; '
        f'start="<{root_id}>"; start-info="application/soap+xml"'
    )
    return content_type, b"".join(chunks)


def _params(content_type: str) -> _MimeHeader:
    header = _MimeHeader()
    header["Content-Type"] = content_type
    return header


def _split_part(raw: bytes) -> tuple[dict[str, str], bytes]:
    head, sep, data = raw.partition(b"\r\n\r\n")
    if not sep:
        raise RemoteProtocolError("a multipart part has no blank line after its headers")
    headers: dict[str, str] = {}
    for line in head.decode("latin-1").split("\r\n"):
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return headers, data


def decode_mtom(
    content_type: str, body: bytes, *, max_bytes: int = MAX_MTOM_BYTES
) -> tuple[Message | UnknownMessage, dict[str, Attachment]]:
    """The SOAP message of a multipart/related body and its attachments by Content-ID;
    RemoteProtocolError for anything that is not a well-formed MTOM package."""
    if len(body) > max_bytes:
        raise RemoteProtocolError(f"multipart body of {len(body)} bytes exceeds {max_bytes}")
    header = _params(content_type)
    if header.get_content_type() != "multipart/related":
        raise RemoteProtocolError(f"expected multipart/related, got {header.get_content_type()}")
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise RemoteProtocolError("multipart/related without a boundary parameter")
    start = header.get_param("start")
    delimiter = b"--" + boundary.encode("latin-1")
    pieces = body.split(delimiter)
    # pieces[0] is the preamble; the last delimiter is followed by "--" (RFC 2046 §5.1.1)
    parts: list[tuple[dict[str, str], bytes]] = []
    for piece in pieces[1:]:
        if piece.startswith(b"--"):
            break
        parts.append(_split_part(piece.removeprefix(_CRLF).removesuffix(_CRLF)))
    else:
        raise RemoteProtocolError("multipart body has no closing delimiter")
    if not parts:
        raise RemoteProtocolError("multipart body has no parts")
    root_index = 0
    if isinstance(start, str):
        ids = [h.get("content-id", "") for h, _ in parts]
        if start not in ids:
            raise RemoteProtocolError(f"no part has the start Content-ID {start}")
        root_index = ids.index(start)
    root_headers, root = parts[root_index]
    root_type = _params(root_headers.get("content-type", "")).get_content_type()
    if root_type not in ("application/xop+xml", "application/soap+xml"):
        raise RemoteProtocolError(f"the root part is {root_type}, not application/xop+xml")
    message = decode(root, max_bytes=MAX_MESSAGE_BYTES)
    attachments: dict[str, Attachment] = {}
    for index, (headers, data) in enumerate(parts):
        if index == root_index:
            continue
        cid = headers.get("content-id", "").strip().removeprefix("<").removesuffix(">").strip()
        media = headers.get("content-type", "application/octet-stream").split(";")[0].strip()
        try:
            attachments[cid] = Attachment(cid, media or "application/octet-stream", data)
        except LocalProtocolError as exc:
            raise RemoteProtocolError(f"attachment part: {exc}") from None
    return message, attachments
