"""protocol/_xml.py: the shared helpers on their own (integers, QNames, kept vendor elements)."""

from __future__ import annotations

import pytest
from lxml import etree

from wsdmon.protocol import LocalProtocolError, RemoteProtocolError, decode, encode
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol._xml import (
    QName,
    append_extensions,
    append_raw,
    canonical,
    int_value,
    parse_bytes,
    parse_int,
    parse_qnames,
    qn,
    qname_attribute,
    raw_children,
    sub_qname_attribute,
    sub_qnames,
)
from wsdmon.protocol.discovery import Probe, multicast_headers
from wsdmon.protocol.dsm import PostScanJobStatusEvent

from .cases import CASES

# --- xs:int / xs:integer ------------------------------------------------------------------------


def _int_element(text: str) -> etree._Element:
    el = etree.Element(qn(ns.DSC, "ImagesReceived"))
    el.text = text
    return el


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("42", 42),
        ("007", 7),
        ("+7", 7),
        ("-3", -3),
        (" 12 ", 12),
        ("\t5\r\n", 5),
        ("9" * 30, int("9" * 30)),
    ],
)
def test_parse_int_accepts_the_xs_integer_lexical_form(text: str, value: int) -> None:
    assert parse_int(_int_element(text)) == value


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "1_000",  # int() takes underscores
        "\u0661\u0662",  # ARABIC-INDIC DIGITS ONE, TWO: int() takes any Unicode decimal digit
        "\uff17",  # FULLWIDTH DIGIT SEVEN
        "\u00b2",  # SUPERSCRIPT TWO (str.isdigit() is true for it)
        "\u00a07",  # NO-BREAK SPACE is not XML whitespace
        "7\u2003",
        "+",
        "- 1",
        "1.0",
        "1e3",
        "0x10",
        "9" * 5000,  # beyond int()'s digit limit: RemoteProtocolError, not ValueError
    ],
)
def test_parse_int_rejects_anything_else(text: str) -> None:
    with pytest.raises(RemoteProtocolError):
        parse_int(_int_element(text))


def test_parse_int_minimum_and_messages() -> None:
    with pytest.raises(RemoteProtocolError, match="ImagesReceived: -1 is below 0"):
        parse_int(_int_element("-1"), minimum=0)
    with pytest.raises(RemoteProtocolError, match="ImagesReceived: '1_000' is not an integer"):
        parse_int(_int_element(" 1_000 "))
    with pytest.raises(RemoteProtocolError, match="InstanceId: '1_0' is not an integer"):
        int_value("1_0", "InstanceId")


@pytest.mark.parametrize("bad", ["1_000", "\u0661"])
def test_messages_with_non_xs_integers_are_remote_errors(bad: str) -> None:
    status = encode(CASES["postscanjobstatusevent-completed"])
    with pytest.raises(RemoteProtocolError):
        decode(status.replace(b"<dsc:ImagesReceived>", f"<dsc:ImagesReceived>{bad}".encode()))
    hello = encode(CASES["hello-scan-device"])
    with pytest.raises(RemoteProtocolError):
        decode(hello.replace(b'InstanceId="', f'InstanceId="{bad}'.encode()))


# --- QNames ---------------------------------------------------------------------------------------


def test_qname_attribute_resolves_by_namespace_and_falls_back_to_unqualified() -> None:
    el = etree.fromstring(f'<x:E xmlns:x="{ns.DSC}" xmlns:v="urn:v" x:Name=" v:Thing " Other="x:Y"/>')
    assert qname_attribute(el, qn(ns.DSC, "Name"), "Name") == QName("urn:v", "Thing")
    assert qname_attribute(el, qn(ns.DSC, "Other"), "Other") == QName(ns.DSC, "Y")
    assert qname_attribute(el, "Missing") is None
    with pytest.raises(RemoteProtocolError, match="not declared"):
        qname_attribute(etree.fromstring('<E Name="nope:Thing"/>'), "Name")


def test_sub_qnames_declares_each_unknown_namespace_once() -> None:
    parent = etree.Element(qn(ns.WSD, "Probe"), nsmap={"wsd": ns.WSD, "ns0": "urn:taken"})
    el = sub_qnames(
        parent,
        qn(ns.WSD, "Types"),
        [QName(ns.WSD, "A"), QName("urn:x", "B"), QName("urn:x", "C"), QName(ns.WSCN, "D")],
    )
    assert el.text == "wsd:A ns1:B ns1:C wscn:D"  # ns0 is bound to another URI in scope
    assert parse_qnames(el) == (
        QName(ns.WSD, "A"),
        QName("urn:x", "B"),
        QName("urn:x", "C"),
        QName(ns.WSCN, "D"),
    )


def test_sub_qname_attribute_prefers_the_prefix_of_the_content_moved_in() -> None:
    parent = etree.Element(qn(ns.DSC, "JobElements"), nsmap={"dsc": ns.DSC})
    hints = [etree.fromstring('<acme:X xmlns:acme="urn:acme"/>')]
    el = sub_qname_attribute(parent, qn(ns.DSC, "ElementData"), "Name", QName("urn:acme", "X"), hints)
    assert el.get("Name") == "acme:X"
    assert el.nsmap["acme"] == "urn:acme"
    in_scope = sub_qname_attribute(parent, qn(ns.DSC, "ElementData"), "Name", QName(ns.DSC, "JobStatus"))
    assert in_scope.get("Name") == "dsc:JobStatus"


def test_probe_with_two_types_of_one_unknown_namespace_round_trips() -> None:
    probe = Probe(multicast_headers(message_id="urn:uuid:1"), (QName("urn:x", "A"), QName("urn:x", "B")))
    data = encode(probe)
    assert b'<wsd:Types xmlns:ns0="urn:x">ns0:A ns0:B</wsd:Types>' in data
    assert decode(data) == probe


# --- kept elements: canonical, append_extensions, raw content -------------------------------------


def test_append_extensions_keeps_a_prefix_the_parent_binds_under_another_name() -> None:
    # lxml's append() drops the extension's own xmlns:acme because the parent already declares
    # urn:acme (as "other"), re-pointing the element at "other" — and "acme:Value" in the text at
    # nothing. The re-attached extension must keep every prefix it declared.
    parent = etree.Element(qn("urn:p", "P"), nsmap={"p": "urn:p", "other": "urn:acme"})
    kept = '<acme:X xmlns:acme="urn:acme"><acme:Y>acme:Value</acme:Y></acme:X>'
    append_extensions(parent, [kept])
    assert parse_qnames(parent[0][0]) == (QName("urn:acme", "Value"),)
    assert canonical(parent[0]) == kept
    reparsed = parse_bytes(etree.tostring(parent))
    assert parse_qnames(reparsed[0][0]) == (QName("urn:acme", "Value"),)


def test_append_extensions_keeps_prefixes_declared_below_the_top_element() -> None:
    parent = etree.Element(qn("urn:p", "P"), nsmap={"p": "urn:p", "other": "urn:b"})
    kept = '<a:X xmlns:a="urn:a"><b:Y xmlns:b="urn:b" kind="b:Z">b:Z</b:Y></a:X>'
    append_extensions(parent, [kept])
    assert canonical(parent[0]) == kept
    assert parse_qnames(parent[0][0]) == (QName("urn:b", "Z"),)


def test_append_extensions_keeps_an_unqualified_element_unqualified() -> None:
    parent = etree.Element(qn("urn:p", "P"), nsmap={None: "urn:p"})
    append_extensions(parent, ["<plain>1</plain>", '<X xmlns="urn:x"><Y xmlns=""/></X>'])
    reparsed = parse_bytes(etree.tostring(parent))
    assert [el.tag for el in reparsed.iter()] == [qn("urn:p", "P"), "plain", qn("urn:x", "X"), "Y"]


def test_extension_in_an_envelope_namespace_round_trips() -> None:
    # The envelope declares wsa as "wsa"; a vendor extension in the same namespace under "a" that
    # uses "a" in its text must come back as it was built.
    event = CASES["postscanjobstatusevent-completed"]
    assert isinstance(event, PostScanJobStatusEvent)
    ext = f'<a:Note xmlns:a="{ns.WSA}">a:Anonymous</a:Note>'
    message = PostScanJobStatusEvent(event.header, event.job_status, (ext,))
    assert decode(encode(message)) == message


@pytest.mark.parametrize("bad", ["<a", "text", "", "\ud800", "<a/><b/>"])
def test_append_extensions_refuses_what_is_not_one_element(bad: str) -> None:
    with pytest.raises(LocalProtocolError):
        append_extensions(etree.Element("r"), [bad])


def test_raw_children_round_trip() -> None:
    holder = parse_bytes(b'<h xmlns:v="urn:v" xmlns:q="urn:q"><v:A>q:T</v:A><v:B n="1"/></h>')
    raw = raw_children(holder)
    assert raw == '<v:A xmlns:q="urn:q" xmlns:v="urn:v">q:T</v:A><v:B xmlns:v="urn:v" n="1"></v:B>'
    target = etree.Element("t", nsmap={"other": "urn:q"})
    append_raw(target, raw)
    assert raw_children(target) == raw
    assert raw_children(etree.Element("empty")) == ""
