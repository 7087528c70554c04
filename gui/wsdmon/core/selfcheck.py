"""The network self-check's results as typed values (issue 13, items 2 and 3): net/selfcheck.py fills
them, `wsdmon doctor` words them (support/doctor_report.py), later the window through tr().

Each check gives a verdict, a finding (what exactly was seen: the key of its sentence and advice)
and the evidence as fields. No words here and no I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .device_status import DeviceError

__all__ = ["CheckId", "CheckResult", "Finding", "Holder", "InterfaceInfo", "PortEvidence", "Verdict"]


class Verdict(enum.Enum):
    OK = "ok"
    WARNING = "warning"
    PROBLEM = "problem"
    UNKNOWN = "unknown"  # not known (yet): the evidence does not tell


class CheckId(enum.Enum):
    INTERFACES = "interfaces"  # the interfaces discovery uses and their addresses
    DISCOVERY_PORT = "discovery-port"  # UDP 3702 bound (shared) and the IPv4 group joined
    NOTIFY_PORT = "notify-port"  # the TCP port devices send events to
    MULTICAST = "multicast"  # whether any WS-Discovery multicast arrived while the check listened
    PROBE = "probe"  # a directed WS-Discovery Probe to one host (--probe)
    DEVICE = "device"  # the metadata of one device read by its URL (--device)


class Finding(enum.Enum):
    """What a check saw; each has exactly one sentence and one piece of advice."""

    INTERFACES_UP = "interfaces-up"
    NO_INTERFACE = "no-interface"  # none up besides loopback (or none of those chosen)
    INTERFACES_UNREADABLE = "interfaces-unreadable"  # the OS would not list them
    PORT_FREE = "port-free"  # bound (UDP: shared with other WSD stacks, if any) and, for 3702, joined
    PORT_HELD = "port-held"  # another socket holds it exclusively
    PORT_DENIED = "port-denied"  # permission denied (a privileged port, a sandbox)
    PORT_ERROR = "port-error"  # any other error of bind()
    GROUP_NOT_JOINED = "group-not-joined"  # 3702 bound, the multicast group joined on no interface
    GROUP_PARTLY_JOINED = "group-partly-joined"  # joined on some interfaces, not on others
    MULTICAST_HEARD = "multicast-heard"  # WS-Discovery multicast from other hosts arrived
    MULTICAST_SILENT = "multicast-silent"  # none arrived: no WSD host spoke, or multicast is blocked
    PROBE_ANSWERED = "probe-answered"
    PROBE_LATE = "probe-late"  # answered, but later than a firewall may wait
    PROBE_NO_ANSWER = "probe-no-answer"
    PROBE_NOT_SENT = "probe-not-sent"  # name not resolved, no route: nothing left this computer
    DEVICE_READ = "device-read"
    DEVICE_ERROR = "device-error"  # DeviceError says why


@dataclass(frozen=True, slots=True)
class Holder:
    """A process holding a socket on a port, as the OS tells (Linux: /proc)."""

    pid: int
    name: str  # its command name (/proc/PID/comm)


@dataclass(frozen=True, slots=True)
class PortEvidence:
    port: int
    transport: str  # "udp" or "tcp"
    errno: int | None = None  # bind()'s error, when it failed
    os_message: str = ""  # the OS's own words for that error (strerror)
    # Processes with a socket on the port; None: the OS does not tell (not Linux). Sockets of other
    # users' processes may be missing (their /proc/PID/fd cannot be read): see `unattributed`.
    holders: tuple[Holder, ...] | None = None
    unattributed: int = 0  # sockets on the port whose process could not be found
    joined: tuple[str, ...] = ()  # UDP 3702: the interface addresses the group was joined on
    not_joined: tuple[tuple[str, str], ...] = ()  # (address, the OS's error) where the join failed


@dataclass(frozen=True, slots=True)
class InterfaceInfo:
    name: str
    addresses: tuple[str, ...]  # IPv4 and IPv6 (with %scope for link-local)


@dataclass(frozen=True, slots=True)
class CheckResult:
    check: CheckId
    verdict: Verdict
    finding: Finding
    target: str = ""  # what was checked: a port, a probe target, a URL
    interfaces: tuple[InterfaceInfo, ...] = ()  # INTERFACES
    port: PortEvidence | None = None  # DISCOVERY_PORT, NOTIFY_PORT
    latency_ms: float | None = None  # PROBE: from sending the Probe to its first match
    endpoints: tuple[str, ...] = ()  # PROBE: who answered; DEVICE: the device's endpoint
    device_name: str | None = None  # DEVICE: its friendly name, when read
    error: DeviceError | None = None  # DEVICE_ERROR
    os_message: str = ""  # INTERFACES_UNREADABLE, PROBE_NOT_SENT: the OS's own words
    listened_s: float | None = None  # MULTICAST: how long the check listened
    messages: int | None = None  # MULTICAST: datagrams that arrived from other hosts
    senders: tuple[str, ...] = ()  # MULTICAST: the addresses they came from
