"""Parse cost of a typical PostScanJobStatusEvent, side by side with bare lxml.etree.fromstring.

Issue #2 target: decoding into the typed event (all seven JobStatus children, two filters) costs at
most 2x a bare `lxml.etree.fromstring` of the same bytes. Also measured, for context: a naive
decoder built on prefixed `find()` calls, and two floors no decoder into these types can beat: the
walk (parse, then read each element's tag and text once) and the build (the walk plus constructing
the event's frozen, validated objects from values at hand). Each variant runs interleaved in the
same process, best of several repeats; results go to bench/results/parse.json.

    .venv/bin/python bench/bench_parse.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import timeit
from datetime import datetime
from pathlib import Path

from lxml import etree

import wsdmon
from wsdmon.protocol import Headers, decode, encode
from wsdmon.protocol.dsm import FilterStatus, JobStatus, PostScanJobStatusEvent

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent.parent / "shared" / "protocol" / "examples"
NSMAP = {
    "soap": "http://www.w3.org/2003/05/soap-envelope",
    "wsa": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "dsc": "http://schemas.microsoft.com/windows/2008/12/wdp/distributedscan/configuration",
}


def naive_decode(data: bytes) -> dict[str, object]:
    """The 'naive' reference the issue names: prefixed find() per field, no validation."""
    root = etree.fromstring(data)
    js = root.find("soap:Body/dsc:PostScanJobStatusEvent/dsc:JobStatus", NSMAP)
    assert js is not None
    return {
        "action": root.findtext("soap:Header/wsa:Action", namespaces=NSMAP),
        "token": js.findtext("dsc:JobToken", namespaces=NSMAP),
        "state": js.findtext("dsc:JobState", namespaces=NSMAP),
        "reasons": [r.text for r in js.findall("dsc:JobStateReasons/dsc:JobStateReason", NSMAP)],
        "filters": [
            (
                f.findtext("dsc:Dialect", namespaces=NSMAP),
                f.findtext("dsc:FilterState", namespaces=NSMAP),
                [r.text for r in f.findall("dsc:FilterStateReasons/dsc:FilterStateReason", NSMAP)],
            )
            for f in js.findall("dsc:FilterStatuses/dsc:FilterStatus", NSMAP)
        ],
        "images": int(js.findtext("dsc:ImagesReceived", default="0", namespaces=NSMAP)),
        "created": datetime.fromisoformat(js.findtext("dsc:JobCreatedTime", namespaces=NSMAP) or ""),
        "completed": datetime.fromisoformat(js.findtext("dsc:JobCompletedTime", namespaces=NSMAP) or ""),
    }


def walk_floor(data: bytes) -> None:
    """The floor of any lxml decoder: parse, then touch every element's tag and text once, building
    nothing. No typed decoder can be cheaper than this in CPython."""
    for el in etree.fromstring(data).iter():
        _ = el.tag, el.text


def build_floor(data: bytes, event: PostScanJobStatusEvent) -> None:
    """walk_floor plus building the typed event's objects (frozen, slotted, validated in their
    constructors, as STYLE.md asks) from values already at hand: what any decoder into these types
    costs before it has extracted or checked a single value."""
    walk_floor(data)
    h, s = event.header, event.job_status
    filters = tuple(FilterStatus(f.dialect, f.state, f.reasons) for f in s.filter_statuses)
    status = JobStatus(
        s.job_token,
        s.job_state,
        s.job_state_reasons,
        filters,
        s.images_received,
        s.job_created_time,
        s.job_completed_time,
        s.extensions,
    )
    headers = Headers(h.message_id, h.to, h.relates_to, h.reply_to, h.identifier, h.app_sequence, ())
    PostScanJobStatusEvent(headers, status, event.extensions)


def best_us(fn: object, number: int, repeat: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6  # type: ignore[arg-type]


def measure(name: str, data: bytes, number: int, repeat: int) -> dict[str, object]:
    event = decode(data)
    assert isinstance(event, PostScanJobStatusEvent)
    assert len(event.job_status.filter_statuses) == 2
    assert event.job_status.job_completed_time is not None
    results: dict[str, float] = dict.fromkeys(
        ("bare_fromstring_us", "wsdmon_decode_us", "naive_find_us", "walk_floor_us", "build_floor_us"), 0.0
    )
    fns = {
        "bare_fromstring_us": lambda: etree.fromstring(data),
        "wsdmon_decode_us": lambda: decode(data),
        "naive_find_us": lambda: naive_decode(data),
        "walk_floor_us": lambda: walk_floor(data),
        "build_floor_us": lambda: build_floor(data, event),
    }
    # Interleave the variants so machine noise hits all of them alike; keep each one's best.
    for _ in range(repeat):
        for key, fn in fns.items():
            value = best_us(fn, number, 1)
            results[key] = value if not results[key] else min(results[key], value)
    bare = results["bare_fromstring_us"]
    return {
        "message": name,
        "bytes": len(data),
        **{k: round(v, 3) for k, v in results.items()},
        "ratio_wsdmon_to_bare": round(results["wsdmon_decode_us"] / bare, 3),
        "ratio_naive_to_bare": round(results["naive_find_us"] / bare, 3),
        "ratio_walk_floor_to_bare": round(results["walk_floor_us"] / bare, 3),
        "ratio_build_floor_to_bare": round(results["build_floor_us"] / bare, 3),
        "elements": sum(1 for _ in etree.fromstring(data).iter()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (smoke test)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "parse.json")
    args = parser.parse_args()
    number, repeat = (200, 3) if args.quick else (20000, 7)
    example = (EXAMPLES / "09-postscanjobstatusevent-3-completed.xml").read_bytes()
    compact = encode(decode(example))  # as wsdmon's simulator (and most servers) send it: no indentation
    rows = [
        measure("example-09 as published (indented, with comment)", example, number, repeat),
        measure("example-09 compact (as sent on the wire)", compact, number, repeat),
    ]
    result = {
        "benchmark": "parse PostScanJobStatusEvent (2 filters, all 7 JobStatus children)",
        "target": "ratio_wsdmon_to_bare <= 2.0",
        "python": sys.version.split()[0],
        "lxml": ".".join(map(str, etree.LXML_VERSION)),
        "libxml2": ".".join(map(str, etree.LIBXML_VERSION)),
        "machine": platform.machine(),
        "wsdmon": wsdmon.__version__,
        "quick": args.quick,
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
