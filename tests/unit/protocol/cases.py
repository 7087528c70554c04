"""Round-trip cases: one well-formed instance of every message type, by name.

Each case name is also the stem of its canonical XML in tests/data/valid/<name>.xml. Every protocol
module has its own cases_<module>.py; this module merges them (names must be unique).
"""

from __future__ import annotations

from wsdmon.protocol import Message

from . import (
    cases_discovery,
    cases_dsm,
    cases_eventing,
    cases_metadata,
    cases_repository,
    cases_scan,
    cases_scan_jobs,
    cases_scan_ops,
)

CASES: dict[str, Message] = {}
for _module in (
    cases_dsm,
    cases_discovery,
    cases_metadata,
    cases_eventing,
    cases_repository,
    cases_scan,
    cases_scan_jobs,
    cases_scan_ops,
):
    for _name, _message in _module.CASES.items():
        if _name in CASES:
            raise RuntimeError(f"round-trip case name {_name!r} is used twice")
        CASES[_name] = _message
