"""Table-driven round trips: build → canonical XML file, parse → equal event, for every message."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lxml import etree

from wsdmon.protocol import MESSAGE_TYPES, decode, encode

from .cases import CASES

VALID = Path(__file__).resolve().parents[2] / "data" / "valid"
REGENERATE = os.environ.get("WSDMON_REGENERATE_CORPUS") == "1"  # only when a format change is intended


def canonical(data: bytes) -> str:
    """Inclusive C14N 1.0 (it keeps the declarations QName values need), indented for diffs."""
    root = etree.fromstring(data, etree.XMLParser(remove_blank_text=True))
    etree.indent(root, space="  ")
    return etree.tostring(root, method="c14n").decode("utf-8") + "\n"


@pytest.mark.parametrize("name", sorted(CASES))
def test_parse_of_build_is_identity(name: str) -> None:
    message = CASES[name]
    assert decode(encode(message)) == message


@pytest.mark.parametrize("name", sorted(CASES))
def test_build_matches_canonical_file(name: str) -> None:
    built = canonical(encode(CASES[name]))
    path = VALID / f"{name}.xml"
    if REGENERATE:
        path.write_text(built, encoding="utf-8")
    assert path.exists(), f"{path} missing: run once with WSDMON_REGENERATE_CORPUS=1 and review it"
    assert built == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(CASES))
def test_canonical_file_parses_to_the_case(name: str) -> None:
    path = VALID / f"{name}.xml"
    assert decode(path.read_bytes()) == CASES[name]


def test_every_message_type_has_a_case() -> None:
    covered = {type(m) for m in CASES.values()}
    missing = sorted(t.__name__ for t in MESSAGE_TYPES if t not in covered)
    assert not missing, f"message types without a round-trip case: {missing}"


def test_no_stale_canonical_files() -> None:
    stale = sorted(p.stem for p in VALID.glob("*.xml") if p.stem not in CASES)
    assert not stale, f"canonical files without a case: {stale}"
