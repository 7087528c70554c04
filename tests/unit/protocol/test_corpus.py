"""The message corpus: vendor-flavoured messages must parse to the right values; malformed ones must
raise RemoteProtocolError and nothing else (no lxml error, no crash, no silent acceptance)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree

from wsdmon.protocol import Headers, RemoteProtocolError, decode, encode
from wsdmon.protocol._xml import MAX_MESSAGE_BYTES, QName, parse_qnames
from wsdmon.protocol.dsm import FilterState, JobState, JobStateReason, PostScanJobStatusEvent

from .cases_dsm import COMPLETED_STATUS

DATA = Path(__file__).resolve().parents[2] / "data"
EXAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "protocol" / "examples"
PST = timezone(timedelta(hours=-8))


def _example_09() -> PostScanJobStatusEvent:
    # The published example, as a literal so the corpus does not depend on ../shared being present.
    return PostScanJobStatusEvent(
        Headers(
            message_id="urn:uuid:0b1e2d3c-0003-4a5b-8c6d-7e8f9a0b1c03",
            to="http://192.168.1.10:6200/wsdmon/sink",
            identifier="urn:uuid:d7e6c5b4-a392-4811-b0c1-2a3b4c5d6e7f",
        ),
        COMPLETED_STATUS,
    )


BASE = _example_09()


def _status(**changes: object) -> PostScanJobStatusEvent:
    return dataclasses.replace(BASE, job_status=dataclasses.replace(BASE.job_status, **changes))


def _with_filters(*states: object, reason: object = None) -> tuple[object, ...]:
    fs = BASE.job_status.filter_statuses
    out = [dataclasses.replace(f, state=s) for f, s in zip(fs, states, strict=True)]
    if reason is not None:
        out[1] = dataclasses.replace(out[1], reasons=(reason,))
    return tuple(out)


VENDOR: dict[str, Callable[[], object]] = {
    "other-prefixes.xml": lambda: BASE,
    "default-namespace-body.xml": lambda: BASE,
    # wsa:From is dropped; acme:Trace, outside wsa, may be an echoed reference parameter (2004/08
    # does not mark them): kept.
    "extra-headers.xml": lambda: dataclasses.replace(
        BASE,
        header=dataclasses.replace(
            BASE.header,
            reply_to="http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous",
            reference_parameters=(
                '<acme:Trace xmlns:acme="urn:acme:trace" xmlns:soap="http://www.w3.org/2003/05/soap-envelope"'
                ' soap:mustUnderstand="false">42</acme:Trace>',
            ),
        ),
    ),
    "vendor-enum-values.xml": lambda: _status(
        job_state="acme:Quarantined",
        filter_statuses=_with_filters(
            FilterState.COMPLETED_SUCCESSFULLY, "acme:Deferred", reason="acme:RelayDenied"
        ),
    ),
    "whitespace-padding.xml": lambda: BASE,
    "crlf-line-endings.xml": lambda: BASE,
    "comments-and-pis.xml": lambda: BASE,
    "send-image-typo.xml": lambda: _status(
        job_state=JobState.ABORTED, job_state_reasons=(JobStateReason.SEND_IMANGE_FAILED,)
    ),
    "times-utc-and-local.xml": lambda: _status(
        job_created_time=datetime(2026, 11, 23, 17, 14, 5, 123456, tzinfo=UTC),
        job_completed_time=datetime(2026, 11, 23, 9, 14, 41),  # offset-less: server local time
    ),
    "utf8-bom.xml": lambda: BASE,
    "utf16-le-bom.xml": lambda: BASE,
    "no-xml-declaration.xml": lambda: BASE,
    "latin1-declared.xml": lambda: _status(
        extensions=('<acme:Owner xmlns:acme="urn:acme">Jürgen Müller</acme:Owner>',)
    ),
    "vendor-extensions.xml": lambda: dataclasses.replace(
        _status(extensions=('<acme:PageCount xmlns:acme="urn:acme">7</acme:PageCount>',)),
        extensions=('<hp:Extra xmlns:hp="urn:hp:dsm"><hp:Queue>Finance</hp:Queue></hp:Extra>',),
    ),
    # acme and hp are declared only on soap:Envelope: each kept extension declares what it uses,
    # including hp for the QName in ColorMode's text.
    "root-declared-extension-namespace.xml": lambda: dataclasses.replace(
        _status(
            extensions=(
                '<acme:PageCount xmlns:acme="urn:acme">7</acme:PageCount>',
                '<acme:ColorMode xmlns:acme="urn:acme" xmlns:hp="urn:hp:dsm">hp:Mono</acme:ColorMode>',
            )
        ),
        extensions=(
            '<hp:Extra xmlns:acme="urn:acme" xmlns:hp="urn:hp:dsm" acme:source="relay">'
            "<hp:Queue>Finance</hp:Queue></hp:Extra>",
        ),
    ),
}


def test_vendor_corpus_is_complete() -> None:
    assert sorted(p.name for p in (DATA / "vendor").iterdir()) == sorted(VENDOR)


@pytest.mark.parametrize("name", sorted(VENDOR))
def test_vendor_message_parses_correctly(name: str) -> None:
    assert decode((DATA / "vendor" / name).read_bytes()) == VENDOR[name]()


def test_root_declared_extensions_are_self_contained() -> None:
    message = decode((DATA / "vendor" / "root-declared-extension-namespace.xml").read_bytes())
    assert isinstance(message, PostScanJobStatusEvent)
    page_count, color_mode = (etree.fromstring(x) for x in message.job_status.extensions)
    assert page_count.tag == "{urn:acme}PageCount"
    assert color_mode.tag == "{urn:acme}ColorMode"
    assert parse_qnames(color_mode) == (QName("urn:hp:dsm", "Mono"),)
    extra = etree.fromstring(message.extensions[0])
    assert extra.tag == "{urn:hp:dsm}Extra"
    assert extra.get("{urn:acme}source") == "relay"
    assert decode(encode(message)) == message


def test_published_example_matches_corpus_base() -> None:
    path = EXAMPLES / "09-postscanjobstatusevent-3-completed.xml"
    if not path.exists():
        pytest.skip(f"{path} not present (shared/ is not beside this clone)")
    assert decode(path.read_bytes()) == BASE


MALFORMED = sorted(p.name for p in (DATA / "malformed").iterdir())


def test_malformed_corpus_is_large_enough() -> None:
    assert len(MALFORMED) >= 25


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_message_raises_remote_protocol_error(name: str) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        decode((DATA / "malformed" / name).read_bytes())
    assert str(info.value), "the error must say what is wrong"


def test_over_size_message_is_rejected_before_parsing() -> None:
    data = (DATA / "vendor" / "other-prefixes.xml").read_bytes()
    padded = data.replace(b"</env:Envelope>", b"<!--" + b"x" * MAX_MESSAGE_BYTES + b"--></env:Envelope>")
    assert len(padded) > MAX_MESSAGE_BYTES
    with pytest.raises(RemoteProtocolError, match="cap"):
        decode(padded)


def test_smaller_cap_is_honoured() -> None:
    data = (DATA / "vendor" / "other-prefixes.xml").read_bytes()
    with pytest.raises(RemoteProtocolError, match="cap"):
        decode(data, max_bytes=len(data) - 1)
    assert isinstance(decode(data, max_bytes=len(data)), PostScanJobStatusEvent)


def test_external_entity_is_never_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    data = (
        f'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&x;</s:Body></s:Envelope>'
    ).encode()
    with pytest.raises(RemoteProtocolError) as info:
        decode(data)
    assert "TOP-SECRET" not in str(info.value)
