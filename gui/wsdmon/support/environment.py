"""What a support bundle says of the computer it was made on: wsdmon's version, Python, the OS and
the network interfaces with their addresses. No environment variables, no user name, no secrets."""

from __future__ import annotations

import platform
import sys
from typing import Any

from wsdmon import __version__

__all__ = ["environment"]


def _qt_versions() -> dict[str, str] | None:
    """Qt's versions when this process already runs Qt (the window); never imports it."""
    pyside = sys.modules.get("PySide6")
    if pyside is None:
        return None
    out = {"pyside6": str(getattr(pyside, "__version__", "unknown"))}
    qtcore = sys.modules.get("PySide6.QtCore")
    if qtcore is not None:
        out["qt"] = str(qtcore.qVersion())
    return out


def _interfaces() -> list[dict[str, Any]] | str:
    try:
        import ifaddr

        adapters = ifaddr.get_adapters()
    except Exception as exc:  # any failure of the OS's interface list is reported, not raised
        return f"the interfaces could not be listed: {exc}"
    out = []
    for adapter in adapters:
        addresses = []
        for ip in adapter.ips:
            if isinstance(ip.ip, tuple):  # IPv6: (address, flowinfo, scope_id)
                address, _, scope = ip.ip
                addresses.append(
                    {"family": "IPv6", "address": address, "prefix": ip.network_prefix, "scope_id": scope}
                )
            else:
                addresses.append({"family": "IPv4", "address": ip.ip, "prefix": ip.network_prefix})
        out.append({"name": adapter.nice_name, "addresses": addresses})
    return out


def environment() -> dict[str, Any]:
    """The bundle's environment.json (before redaction)."""
    return {
        "wsdmon": __version__,
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "os": platform.platform(),
        "system": platform.system(),
        "release": platform.release(),
        "machine": platform.machine(),
        "host_name": platform.node(),
        "qt": _qt_versions(),  # null: this process had not loaded Qt (the command line)
        "interfaces": _interfaces(),
    }
