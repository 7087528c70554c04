"""The network self-check as the window runs it (Tools ▸ Network self-check…, and once at start):
net.selfcheck.run_selfcheck on the window's own discovery interfaces, notify port, directed probes
and device URLs. The window itself holds the notify port (and shares UDP 3702): a port held by this
process only is in use as it should be, not "held by another program"."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import Any

from wsdmon.core.selfcheck import CheckResult, Finding, Verdict

__all__ = ["own_ports_ok", "run_window_selfcheck"]


def own_ports_ok(results: Sequence[CheckResult], pid: int) -> list[CheckResult]:
    """`results` with a port held by process `pid` alone (this wsdmon) turned into an OK "in use"."""
    out = []
    for r in results:
        port = r.port
        if (
            r.finding is Finding.PORT_HELD
            and port is not None
            and port.holders
            and not port.unattributed
            and all(h.pid == pid for h in port.holders)
        ):
            port = dataclasses.replace(port, errno=None, os_message="")
            out.append(dataclasses.replace(r, verdict=Verdict.OK, finding=Finding.PORT_FREE, port=port))
        else:
            out.append(r)
    return out


async def run_window_selfcheck(
    sink: Any, args: Any, interfaces: Sequence[str], *, listen: bool = True
) -> list[CheckResult]:
    """The self-check of a window whose notify sink is `sink` (its port; the one it wanted, when that
    was busy), discovering on `interfaces`, probing args.probe and reading args.device."""
    from wsdmon.net.selfcheck import SelfCheckOptions, run_selfcheck

    options = SelfCheckOptions(
        notify_port=sink.wanted_port if sink.wanted_port is not None else sink.port,
        probes=tuple(args.probe),
        devices=tuple(args.device),
        interfaces=tuple(interfaces),
        listen=listen,
    )
    return own_ports_ok(await run_selfcheck(options), os.getpid())
