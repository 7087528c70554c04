"""A WS-Discovery client built on the `wsdiscovery` package's ThreadedWSDiscovery, run inside the peer
network namespace by test_sim_discovery_netns.py. It prints one JSON object per line:
  {"event": "ready"} / {"event": "hello", ...} / {"event": "bye", "epr": ...} / {"event": "found", ...}
and reads commands from stdin: `search NAMESPACE LOCALNAME` (a multicast Probe by type) and `quit`.
"""

from __future__ import annotations

import json
import sys
import threading

from wsdiscovery import QName
from wsdiscovery.discovery import ThreadedWSDiscovery

_lock = threading.Lock()


def say(**fields: object) -> None:
    with _lock:
        print(json.dumps(fields), flush=True)


def service(svc: object) -> dict[str, object]:
    return {
        "epr": svc.getEPR(),  # type: ignore[attr-defined]
        "types": sorted(f"{t.getNamespace()} {t.getLocalname()}" for t in svc.getTypes()),  # type: ignore[attr-defined]
        "xaddrs": list(svc.getXAddrs()),  # type: ignore[attr-defined]
    }


def main() -> None:
    wsd = ThreadedWSDiscovery()
    wsd.setRemoteServiceHelloCallback(lambda svc: say(event="hello", **service(svc)))
    wsd.setRemoteServiceByeCallback(lambda epr: say(event="bye", epr=epr))
    wsd.start()
    say(event="ready")
    try:
        for line in sys.stdin:
            words = line.split()
            if words[:1] == ["search"] and len(words) == 3:
                found = wsd.searchServices(types=[QName(words[1], words[2])], timeout=2)
                say(event="found", type=words[2], services=[service(s) for s in found])
            elif words[:1] == ["quit"]:
                break
    finally:
        wsd.stop()
        say(event="stopped")


if __name__ == "__main__":
    main()
