"""nftables rules inside a test-made network namespace, to play the firewalls technicians meet
(issue 13): a host firewall that drops the unicast ProbeMatch (sent from the device's UDP 3702 to the
prober's random source port) while multicast Hello still arrives, or a switch/host dropping
multicast. Each rule lives in its own table of the namespace, so removing the namespace removes it.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

TABLE = "wsdmon_test"
DISCOVERY_PORT = 3702
IPV4_GROUP = "239.255.255.250"
IPV6_GROUP = "ff02::c"

# The host firewall of issue 13: replies from a device's discovery port to any other port (the
# prober's ephemeral one) are dropped; datagrams to 3702 (Hello, Bye, multicast Probe) pass.
DROP_UNICAST_REPLIES = f"udp sport {DISCOVERY_PORT} udp dport != {DISCOVERY_PORT} drop"
# No multicast WS-Discovery at all (a switch's IGMP snooping, a VLAN boundary).
DROP_MULTICAST_V4 = f"ip daddr {IPV4_GROUP} drop"
DROP_MULTICAST_V6 = f"ip6 daddr {IPV6_GROUP} drop"


def require_nft() -> str:
    """The nft command; a test that needs it fails (not skips) without it: the bootstrap installs it."""
    nft = shutil.which("nft")
    if nft is None:
        pytest.fail("nft is missing: install Debian's nftables (sh packaging/bootstrap.sh test does)")
    return nft


def _nft(netns: str, script: str) -> None:
    result = subprocess.run(
        ["ip", "netns", "exec", netns, require_nft(), "-f", "-"],
        input=script,
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    if result.returncode != 0:
        raise RuntimeError(f"nft in {netns}: {result.stderr.strip()}\n{script}")


def drop_incoming(netns: str, *rules: str) -> None:
    """Add an input chain to the namespace that applies `rules` (nft rule syntax) to what arrives."""
    body = "\n".join(f"    {rule}" for rule in rules)
    _nft(
        netns,
        f"table inet {TABLE} {{\n  chain input {{\n    type filter hook input priority 0; policy accept;\n"
        f"{body}\n  }}\n}}\n",
    )


def allow_all(netns: str) -> None:
    """Remove the test's rules from the namespace again."""
    _nft(netns, f"delete table inet {TABLE}\n")


def dropped(netns: str) -> str:
    """The namespace's ruleset with counters, for a failure message."""
    return subprocess.run(
        ["ip", "netns", "exec", netns, require_nft(), "list", "ruleset"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    ).stdout
