"""The `wsdiscovery` 2.1.2 threads, patched: they listen and multicast, and hand every datagram on.

This module runs on wsdiscovery's own threads (no asyncio here); net/discovery.py marshals what the
hooks receive into the loop. What we keep of the library: its per-address multicast sockets, group
joins, address monitoring and SOAP-over-UDP repeat scheduling. What we replace, defect by defect
(the letters of the engine issue):
(a) unicast replies land on `_uniOutSocket`, which nobody reads → directed Probe/Resolve never go
    through the library; net/discovery.py sends them from an asyncio endpoint of its own.
(b) a unicast send is queued on the IPv4 AND the IPv6 thread, and the wrong family's `sendto` raises
    gaierror, killing that thread → `sendUnicastMessage` queues on the matching family only.
(c) any exception (a callback, a race on its unsynchronised socket dict) ends a thread silently →
    every loop iteration and hook call is guarded: logged, counted, the thread lives on.
(d) searchServices sleeps → never called; a Probe is queued (a list append) and replies arrive as
    datagrams.
(e) its parser drops MetadataVersion, AppSequence and more → the raw datagram goes to wsdmon.protocol.
(f) `_knownMessageIds` and `_iidMap` grow forever → never filled here; dedupe and ordering live in
    the bounded _discovery_tracker.
(g) interfaces come from a fixed rule (no loopback, no link-local, IPv6 joined on scope 0 = the
    default interface) → addresses come from a hook (select_addresses with the user's choice).
(h) its callbacks run on its threads → it calls no application callback at all, only our hooks.
(i) own messages: its MessageID set is bypassed, so the loop side filters what we sent.
"""

# ruff: noqa: N802, N803, N815  -- overrides keep the library's camelCase names

from __future__ import annotations

import functools
import logging
import selectors
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from wsdiscovery.discovery import ThreadedWSDiscovery
from wsdiscovery.message import createSOAPMessage
from wsdiscovery.threaded import (
    BUFFER_SIZE,
    MULTICAST_IPV4_ADDRESS,
    MULTICAST_IPV6_ADDRESS,
    MULTICAST_PORT,
    AddressMonitorThread,
    NetworkingThread,
    NetworkingThreadIPv4,
    NetworkingThreadIPv6,
)
from wsdiscovery.udp import UDPMessage

from ._sockets import InterfaceAddress, multicast_listener, numeric_address, unicast_socket

__all__ = ["MULTICAST_SENDS", "UNICAST_SENDS", "Outgoing", "PatchedWSDiscovery", "ThreadHooks"]

log = logging.getLogger(__name__)

# SOAP-over-UDP 1.1 Appendix I: MULTICAST_UDP_REPEAT 2 and UNICAST_UDP_REPEAT 1 retransmissions after
# the first send (the library counts sends, and defaults to 4 and 2).
MULTICAST_SENDS = 3
UNICAST_SENDS = 2
# How long a thread waits for a datagram before looking at its send queue and stop flag again.
POLL_INTERVAL_S = 0.05
# The library re-reads interface addresses this often (threaded.NETWORK_ADDRESSES_CHECK_TIMEOUT).
ADDRESS_POLL_S = 5.0
# After an unexpected error a thread pauses this long, so a persistent fault cannot spin a core.
ERROR_PAUSE_S = 0.2


class ThreadHooks(Protocol):
    """What the patched threads call; every call comes from one of the library's threads."""

    def datagram(self, data: bytes, peer: tuple[Any, ...], family: int) -> None: ...

    def error(self, where: str, exc: BaseException) -> None: ...

    def addresses(self, family: int) -> list[InterfaceAddress]: ...


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message encoded by wsdmon.protocol, queued through the library's repeat scheduler."""

    data: bytes
    message_id: str

    def getMessageId(self) -> str:  # the one envelope method the library calls on queueing
        return self.message_id


def _report(hooks: ThreadHooks, where: str, exc: BaseException) -> None:
    try:
        hooks.error(where, exc)
    except Exception:  # pragma: no cover - the hook is guarded itself; never let a thread die
        log.exception("discovery error hook failed")


def _guarded(hooks: ThreadHooks, where: str, fn: Callable[[], object]) -> bool:
    """Run fn; on an exception report it and return False (the calling thread carries on)."""
    try:
        fn()
    except Exception as exc:
        _report(hooks, where, exc)
        return False
    return True


class _PatchedThread(NetworkingThread):  # type: ignore[misc]
    """Mixed in before NetworkingThreadIPv4/IPv6: guarded loop, raw datagrams, bounded state."""

    def __init__(self, observer: PatchedWSDiscovery) -> None:
        super().__init__(observer)
        self._hooks: ThreadHooks = observer.hooks
        self._sockets_lock = threading.Lock()  # the library's "FIXME synchronisation"
        self._closed = False
        self.name = f"wsdiscovery-net-{self._family_name()}"

    def _family_name(self) -> str:
        return "ipv4" if self._get_inet() == socket.AF_INET else "ipv6"

    # --- lifecycle: sockets exist before the thread runs, and are all closed after it ends ------

    def start(self) -> None:
        family = self._get_inet()
        self._multiOutUniInSockets: dict[Any, socket.socket] = {}
        self._uniOutSocket = unicast_socket(family)
        try:
            self._multiInSocket = multicast_listener(family)
            self._selector.register(self._multiInSocket, selectors.EVENT_READ)
            threading.Thread.start(self)
        except BaseException:
            self._close_sockets()
            raise

    def join(self, timeout: float | None = None) -> None:
        if self.ident is not None:
            threading.Thread.join(self, timeout)
        if not self.is_alive():
            self._close_sockets()

    def _close_sockets(self) -> None:
        with self._sockets_lock:
            if self._closed:
                return
            self._closed = True
            socks = [*self._multiOutUniInSockets.values(), self._uniOutSocket]
            if hasattr(self, "_multiInSocket"):
                socks.append(self._multiInSocket)
            self._multiOutUniInSockets.clear()
            for sock in socks:
                sock.close()
            self._selector.close()

    # --- interfaces (g) -----------------------------------------------------------------------

    def addSourceAddr(self, addr: Any) -> None:
        with self._sockets_lock:
            if self._closed or addr in self._multiOutUniInSockets:
                return
            try:
                mreq = self._makeMreq(addr)
                self._multiInSocket.setsockopt(self._get_ip_proto(), self._get_ip_join(), mreq)
            except OSError as exc:  # EADDRINUSE: the group is already joined on this interface
                log.debug("joining the discovery group on %s: %s", addr, exc)
            sock = self._createMulticastOutSocket(addr, self._observer.ttl)
            self._multiOutUniInSockets[addr] = sock
            self._selector.register(sock, selectors.EVENT_READ)

    def removeSourceAddr(self, addr: Any) -> None:
        with self._sockets_lock:
            sock = self._multiOutUniInSockets.pop(addr, None)
            if self._closed or sock is None:
                return
            try:
                mreq = self._makeMreq(addr)
                self._multiInSocket.setsockopt(self._get_ip_proto(), self._get_ip_leave(), mreq)
            except OSError as exc:
                log.debug("leaving the discovery group on %s: %s", addr, exc)
            self._selector.unregister(sock)
            sock.close()

    # --- queueing without the ever-growing id set (f) -------------------------------------------

    def addUnicastMessage(
        self, env: Any, addr: str, port: int, initialDelay: int = 0, unicast_num: int = UNICAST_SENDS
    ) -> None:
        self._queue.append(
            UDPMessage(env, addr, port, UDPMessage.UNICAST, initialDelay, unicast_num=unicast_num)
        )

    def addMulticastMessage(
        self, env: Any, addr: str, port: int, initialDelay: int = 0, multicast_num: int = MULTICAST_SENDS
    ) -> None:
        self._queue.append(
            UDPMessage(env, addr, port, UDPMessage.MULTICAST, initialDelay, multicast_num=multicast_num)
        )

    # --- the loop (c) ---------------------------------------------------------------------------

    def run(self) -> None:
        while not self._quitEvent.is_set() or self._queue:
            try:
                self._send_due()
                self._recvMessages()
            except Exception as exc:
                _report(self._hooks, self.name, exc)
                self._quitEvent.wait(ERROR_PAUSE_S)

    def _send_due(self) -> None:
        queue = self._queue
        for _ in range(len(queue)):
            try:
                msg = queue.pop(0)
            except IndexError:  # cleared by stop()
                return
            if not msg.canSend():
                queue.append(msg)
                continue
            try:
                self._sendMsg(msg)
            finally:
                msg.refresh()
                if not msg.isFinished():
                    queue.append(msg)

    def _recvMessages(self) -> None:
        family = self._get_inet()
        for key, events in self._selector.select(POLL_INTERVAL_S):
            if not events & selectors.EVENT_READ:
                continue
            sock: socket.socket = key.fileobj
            try:
                data, peer = sock.recvfrom(BUFFER_SIZE)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as exc:  # e.g. ICMP port unreachable reported on the next read
                log.debug("%s: receive failed: %s", self.name, exc)
                continue
            deliver = functools.partial(self._hooks.datagram, data, peer, family)
            _guarded(self._hooks, "datagram hook", deliver)

    # --- sending (b) ----------------------------------------------------------------------------

    def _sendMsg(self, msg: Any) -> None:
        env = msg.getEnv()
        data = env.data if isinstance(env, Outgoing) else createSOAPMessage(env).encode("utf-8")
        target = (msg.getAddr(), msg.getPort())
        if msg.msgType() == UDPMessage.UNICAST:
            self._uniOutSocket.sendto(data, target)  # only queued here for our family, see below
            return
        with self._sockets_lock:
            senders = list(self._multiOutUniInSockets.items())
        for addr, sock in senders:
            try:
                sock.sendto(data, target)
            except OSError as exc:  # an interface without multicast, or going down
                log.debug("%s: multicast from %s failed: %s", self.name, addr, exc)


class _PatchedIPv4(_PatchedThread, NetworkingThreadIPv4):  # type: ignore[misc]
    pass


class _PatchedIPv6(_PatchedThread, NetworkingThreadIPv6):  # type: ignore[misc]
    pass


class _PatchedAddressMonitor(AddressMonitorThread):  # type: ignore[misc]
    """Addresses from our hook (interface choice, link-local, loopback on request), errors guarded."""

    def __init__(self, wsd: PatchedWSDiscovery, family: int) -> None:
        self._hooks: ThreadHooks = wsd.hooks
        super().__init__(wsd, family)  # runs _updateAddrs once, on the calling thread
        self.name = f"wsdiscovery-addresses-{'ipv4' if family == socket.AF_INET else 'ipv6'}"

    def run(self) -> None:
        while not self._quitEvent.wait(ADDRESS_POLL_S):
            self._updateAddrs()

    def _updateAddrs(self) -> None:
        try:
            addrs = {item.address for item in self._hooks.addresses(self._protocolVersion)}
        except Exception as exc:
            _report(self._hooks, "interface scan", exc)
            return
        for addr in self._addrs - addrs:
            gone = functools.partial(self._wsd._networkAddressRemoved, addr)
            _guarded(self._hooks, "address removed", gone)
            self._addrs.discard(addr)
        for addr in addrs - self._addrs:  # a failed add is retried on the next scan
            added = functools.partial(self._wsd._networkAddressAdded, addr)
            if _guarded(self._hooks, "address added", added):
                self._addrs.add(addr)


class PatchedWSDiscovery(ThreadedWSDiscovery):  # type: ignore[misc]
    """ThreadedWSDiscovery whose threads only listen, multicast and call `hooks`.

    start() and stop() block (socket setup, thread joins): call them off the event loop.
    """

    # set by the library's constructor; typed here because its classes are untyped
    _networkingThread_v4: Any
    _networkingThread_v6: Any
    _addrsMonitorThread_v4: Any
    _addrsMonitorThread_v6: Any

    def __init__(self, hooks: ThreadHooks, *, endpoint: str) -> None:
        super().__init__(uuid_=endpoint, multicast_num=MULTICAST_SENDS, unicast_num=UNICAST_SENDS)
        self.hooks = hooks

    def _startThreads(self) -> None:
        if self._networkingThread_v4 is not None:
            return
        net4 = _PatchedIPv4(self)
        net4.start()  # raises DiscoverySocketError with a hint if port 3702 cannot be used
        self._networkingThread_v4 = net4
        self._addrsMonitorThread_v4 = _PatchedAddressMonitor(self, socket.AF_INET)
        self._addrsMonitorThread_v4.start()
        try:
            net6 = _PatchedIPv6(self)
            net6.start()
        except OSError as exc:
            log.info("IPv6 discovery is off: %s", exc)
            return
        self._networkingThread_v6 = net6
        self._addrsMonitorThread_v6 = _PatchedAddressMonitor(self, socket.AF_INET6)
        self._addrsMonitorThread_v6.start()

    def _stopThreads(self) -> None:
        pairs = [
            (self._networkingThread_v4, self._addrsMonitorThread_v4),
            (self._networkingThread_v6, self._addrsMonitorThread_v6),
        ]
        for net, monitor in pairs:
            if monitor is not None:
                monitor.schedule_stop()
            if net is not None:
                net._queue.clear()  # pending repeats of a Probe are worthless on the way out
                net.schedule_stop()
        for net, monitor in pairs:
            if monitor is not None and monitor.ident is not None:
                monitor.join()
            if net is not None:
                net.join()
        self._networkingThread_v4 = self._networkingThread_v6 = None
        self._addrsMonitorThread_v4 = self._addrsMonitorThread_v6 = None

    def threads(self) -> list[threading.Thread]:
        """The library threads currently started."""
        candidates = (
            self._networkingThread_v4,
            self._addrsMonitorThread_v4,
            self._networkingThread_v6,
            self._addrsMonitorThread_v6,
        )
        return [t for t in candidates if t is not None]

    def sendUnicastMessage(
        self, env: Any, host: str, port: int, initialDelay: int = 0, unicast_num: int = UNICAST_SENDS
    ) -> None:
        """(b) Queue on the thread of the destination's family only (the library queues on both)."""
        numeric = numeric_address(host, port)
        family = numeric[0] if numeric is not None else socket.AF_INET
        thread = self._networkingThread_v6 if family == socket.AF_INET6 else self._networkingThread_v4
        if thread is None:
            log.warning("no discovery thread of the family of %s to send to", host)
            return
        thread.addUnicastMessage(env, host, port, initialDelay, unicast_num)

    def send_multicast(self, data: bytes, message_id: str) -> None:
        """Queue a protocol-encoded message to both discovery groups (returns at once)."""
        env = Outgoing(data, message_id)
        for thread, group in (
            (self._networkingThread_v4, MULTICAST_IPV4_ADDRESS),
            (self._networkingThread_v6, MULTICAST_IPV6_ADDRESS),
        ):
            if thread is not None:
                thread.addMulticastMessage(env, group, MULTICAST_PORT, 0, self._multicast_num)

    def envReceived(self, env: Any, addr: Any) -> None:
        """Never reached: the patched threads do not parse. Kept inert in case a path calls it."""
        log.debug("ignored a wsdiscovery envelope from %s", addr)

    def id_store_sizes(self) -> dict[str, int]:
        """Sizes of the library's own id sets (f): they stay empty."""
        sizes: dict[str, int] = {}
        for name, thread in (("ipv4", self._networkingThread_v4), ("ipv6", self._networkingThread_v6)):
            if thread is not None:
                sizes[f"{name}_known_message_ids"] = len(thread._knownMessageIds)
                sizes[f"{name}_iid_map"] = len(thread._iidMap)
        return sizes
