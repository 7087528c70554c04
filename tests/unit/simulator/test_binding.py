"""Which address the simulator binds and advertises (sockets.choose_binding; reads the interface
list, opens no socket)."""

from __future__ import annotations

import socket

import pytest

from wsdmon.simulator.sockets import Binding, choose_binding


def test_loopback_without_multicast_and_explicit_hosts() -> None:
    v4 = choose_binding(host=None, interface=None, ipv6=False, multicast=False)
    assert (v4.family, v4.address, v4.url_host) == (socket.AF_INET, "127.0.0.1", "127.0.0.1")
    v6 = choose_binding(host="::1", interface=None, ipv6=False, multicast=False)
    assert (v6.family, v6.url_host, v6.link_local) == (socket.AF_INET6, "[::1]", False)
    assert v6.sockaddr(80) == ("::1", 80, 0, 0)


def test_link_local_ipv6_carries_its_scope() -> None:
    binding = Binding(socket.AF_INET6, "fe80::1", "eth9", 7)
    assert binding.link_local
    assert binding.url_host == "[fe80::1]"  # no zone in advertised URLs
    assert binding.sockaddr(5357) == ("fe80::1", 5357, 0, 7)
    assert binding.group(3702) == ("ff02::c", 3702, 0, 7)
    assert Binding(socket.AF_INET, "10.1.2.3").group(3702) == ("239.255.255.250", 3702)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"host": "scanner.example"}, "not an IP address"),
        ({"interface": "no-such-if0"}, "no interface"),
    ],
)
def test_errors_say_what_to_pass(options: dict[str, str], message: str) -> None:
    kw = {"host": None, "interface": None, "ipv6": False, "multicast": True, **options}
    with pytest.raises(ValueError, match=message):
        choose_binding(**kw)  # type: ignore[arg-type]
