"""Mutation fuzz of the decoder over the valid and vendor corpus: whatever a peer sends, `decode`
returns a message or raises RemoteProtocolError, never anything else (no lxml error, ValueError,
KeyError, RecursionError...).

Deterministic and bounded: each corpus file gets its own random.Random seeded from SEED and the file
name, and a fixed number of mutants; a failure names the file, the mutant number and the mutations,
so `mutant(name, index)` rebuilds the exact bytes to debug.
"""

from __future__ import annotations

import copy
import random
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from wsdmon.protocol import RemoteProtocolError, decode
from wsdmon.protocol import namespaces as ns

DATA = Path(__file__).resolve().parents[2] / "data"
FILES = sorted([*DATA.glob("valid/*.xml"), *DATA.glob("vendor/*.xml")])
SEED = 20261125
MUTANTS_PER_FILE = 250  # ~100 files x 250 mutants: about 6 s on one core

# Values a peer might put where a number, date, token, QName or URI belongs.
GARBAGE = (
    "",
    " ",
    "\t\n",
    "-1",
    "0",
    "+0",
    "1_000",
    "\u0661\u0662",  # Arabic-Indic digits: int() takes them, xs:int does not
    "\uff17",
    "2147483647",
    "2147483648",
    "-2147483649",
    "4294967296",
    "9" * 40,
    "9" * 5000,  # beyond int()'s digit limit
    "1e9",
    "0x10",
    "NaN",
    "true",
    "abc",
    "x" * 300,
    "two words",
    "x:y",
    "nope:Thing",
    ":",
    "a:b:c",
    "2026-13-45T25:61:61Z",
    "2026-02-30T00:00:00",
    "0000-01-01T00:00:00",
    "9999-12-31T23:59:59-23:59",
    "-999999999-01-01T00:00:00",
    "2026-11-23",
    "2026-11-23T09:14:05+25:00",
    "P1Y",
    "-PT1S",
    "P99999999999999999999D",
    "PT" + "9" * 400 + "S",
    "Completed",
    "acme:Quarantined",
    "J\u00fcrgen \U0001f600",
    "urn:uuid:00000000-0000-0000-0000-000000000000",
    "http://[::1",
)
URIS = (
    ns.SOAP,
    "http://schemas.xmlsoap.org/soap/envelope/",  # SOAP 1.1
    ns.WSA,
    "http://www.w3.org/2005/08/addressing",
    ns.WSD,
    ns.WSE,
    ns.WSX,
    ns.WSDP,
    ns.WSCN,
    ns.DSC,
    ns.DSD,
    ns.XML,
    "urn:acme",
    "relative/uri",
    "",
)


def _elements(root: etree._Element) -> list[etree._Element]:
    return [el for el in root.iter() if isinstance(el.tag, str)]


# --- byte-level mutations --------------------------------------------------------------------------


def _flip(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    out = bytearray(data)
    spots = [rng.randrange(len(out)) for _ in range(rng.randint(1, 4))]
    for i in spots:
        out[i] ^= 1 << rng.randrange(8) if rng.random() < 0.5 else rng.randrange(1, 256)
    return bytes(out), f"flip bytes at {spots}"


def _truncate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    cut = rng.randrange(len(data))
    return data[:cut], f"truncate at {cut}"


def _swap_uri(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    present = [u for u in URIS if u and u.encode() in data]
    if not present:
        return data, "no URI to swap"
    old, new = rng.choice(present), rng.choice(URIS)
    return data.replace(old.encode(), new.encode(), 1 if rng.random() < 0.5 else -1), f"URI {old} -> {new!r}"


# Markup a peer's broken serializer might emit between two tags.
SNIPPETS = (
    b"<!--c-->",
    b"<?pi x?>",
    b"<![CDATA[x:y]]>",
    b"&amp;",
    b"&#0;",
    b"&#x1F600;",
    b"&undefined;",
    b"<!DOCTYPE x>",
    b"<!ENTITY e 'x'>",
    b'<v:X xmlns:v="">v:Y</v:X>',
    b'<X xmlns="urn:acme">acme:Y</X>',
    b"<x:Y/>",
    b"\xef\xbb\xbf",
    b"\x00",
    b"\xc3\x28",  # invalid UTF-8
)


def _inject(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    ends = [i + 1 for i in range(len(data)) if data[i] == ord(">")]
    at = rng.choice(ends) if ends else 0
    snippet = rng.choice(SNIPPETS)
    return data[:at] + snippet + data[at:], f"inject {snippet!r} at {at}"


# --- tree-level mutations ------------------------------------------------------------------------


def _delete(root: etree._Element, rng: random.Random) -> str:
    elements = _elements(root)[1:]
    if not elements:
        return "nothing to delete"
    el = rng.choice(elements)
    el.getparent().remove(el)  # type: ignore[union-attr]
    return f"delete {el.tag}"


def _duplicate(root: etree._Element, rng: random.Random) -> str:
    elements = _elements(root)[1:]
    if not elements:
        return "nothing to duplicate"
    el = rng.choice(elements)
    el.addnext(copy.deepcopy(el))
    return f"duplicate {el.tag}"


def _move(root: etree._Element, rng: random.Random) -> str:
    elements = _elements(root)[1:]
    if not elements:
        return "nothing to move"
    el, target = rng.choice(elements), rng.choice(elements)
    if el is target or el in target.iterancestors():
        return "no move"
    target.append(el)
    return f"move {el.tag} into {target.tag}"


def _retext(root: etree._Element, rng: random.Random) -> str:
    el = rng.choice(_elements(root))
    value = rng.choice(GARBAGE)
    if len(el) and rng.random() < 0.5:
        el[:] = []  # replace element content by text
    el.text = value
    return f"text of {el.tag} = {value[:40]!r}"


def _reattribute(root: etree._Element, rng: random.Random) -> str:
    with_attributes = [el for el in _elements(root) if el.attrib]
    if not with_attributes:
        return "no attribute"
    el = rng.choice(with_attributes)
    name = rng.choice(list(el.attrib))
    if rng.random() < 0.3:
        del el.attrib[name]
        return f"delete attribute {name} of {el.tag}"
    value = rng.choice(GARBAGE)
    el.set(name, value)
    return f"attribute {name} of {el.tag} = {value[:40]!r}"


def _rename(root: etree._Element, rng: random.Random) -> str:
    el = rng.choice(_elements(root))
    local = etree.QName(el).localname
    el.tag = rng.choice((f"{{{rng.choice(URIS[:-1])}}}{local}", f"{{urn:acme}}{local}", local, "{urn:acme}X"))
    return f"rename {local} to {el.tag}"


def _vendor_child(root: etree._Element, rng: random.Random) -> str:
    el = rng.choice(_elements(root))
    extra = etree.SubElement(
        el, "{urn:acme}Extra", nsmap={rng.choice(("acme", "dsc", "wsa", "x")): "urn:acme"}
    )
    extra.text = rng.choice(GARBAGE)
    return f"vendor child in {el.tag}"


def _deepen(root: etree._Element, rng: random.Random) -> str:
    # Wrap an element's content in nested vendor elements: past libxml2's depth limit (256), the
    # parser must refuse; below it, extension handling must cope with depth.
    el = rng.choice(_elements(root))
    depth = rng.choice((5, 100, 300))
    inner = el
    for _ in range(depth):
        inner = etree.SubElement(inner, "{urn:acme}Nest")
    inner.text = "acme:Deep"
    return f"nest {depth} vendor elements in {el.tag}"


def _repeat(root: etree._Element, rng: random.Random) -> str:
    elements = _elements(root)[1:]
    if not elements:
        return "nothing to repeat"
    el = rng.choice(elements)
    for _ in range(rng.choice((2, 50))):
        el.addnext(copy.deepcopy(el))
    return f"repeat {el.tag}"


ByteMutation = Callable[[bytes, random.Random], tuple[bytes, str]]
TreeMutation = Callable[[etree._Element, random.Random], str]
BYTE_MUTATIONS: tuple[ByteMutation, ...] = (_flip, _truncate, _swap_uri, _inject)
TREE_MUTATIONS: tuple[TreeMutation, ...] = (
    _delete,
    _duplicate,
    _move,
    _retext,
    _retext,
    _reattribute,
    _rename,
    _vendor_child,
    _deepen,
    _repeat,
)
_TRUSTED = etree.XMLParser(resolve_entities=False, no_network=True)


def _mutate(data: bytes, rng: random.Random) -> tuple[bytes, list[str]]:
    log: list[str] = []
    if rng.random() < 0.7:
        root = etree.fromstring(data, _TRUSTED)
        for _ in range(rng.randint(1, 3)):
            log.append(rng.choice(TREE_MUTATIONS)(root, rng))
        data = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    if not log or rng.random() < 0.3:
        data, what = rng.choice(BYTE_MUTATIONS)(data, rng)
        log.append(what)
    return data, log


def _rng(name: str) -> random.Random:
    return random.Random(SEED ^ zlib.crc32(name.encode()))


def mutant(name: str, index: int) -> tuple[bytes, list[str]]:
    """The index-th mutant of corpus file `name` (e.g. "valid/hello-scan-device.xml"), to debug."""
    rng = _rng(name)
    data = (DATA / name).read_bytes()
    for _ in range(index):
        _mutate(data, rng)
    return _mutate(data, rng)


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_decode_of_a_mutant_returns_a_message_or_raises_remote_protocol_error(path: Path) -> None:
    name = f"{path.parent.name}/{path.name}"
    rng = _rng(name)
    data = path.read_bytes()
    failures = []
    for index in range(MUTANTS_PER_FILE):
        mutated, log = _mutate(data, rng)
        try:
            decode(mutated)
        except RemoteProtocolError:
            pass
        except Exception as exc:  # the invariant under test: nothing else may escape
            failures.append(f"mutant({name!r}, {index}) {log}: {type(exc).__name__}: {exc}")
    assert not failures, "\n".join(failures[:20])


def test_corpus_is_fuzzed() -> None:
    assert len(FILES) >= 90
