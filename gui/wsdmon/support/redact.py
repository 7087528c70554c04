"""Redaction for support bundles: user names, host names, IP addresses, MAC addresses and e-mail
addresses replaced by stable tokens (the same value always gives the same token: user-1, host-2,
ip-3, mac-4, email-5, domain-6), so that a bundle still shows which jobs share a user or which
messages came from one address.

Two passes: first every value to hide is collected (`collect_*`: user names from the jobs and from
the *UserName elements of the messages, host names from every URL and from this computer's name),
then every text written is passed through `text()` / `value()` / `xml()`. Addresses (IPv4, IPv6,
MAC, e-mail) need no collecting: they are recognised by their form wherever they appear.

Hosts of XML namespace URIs (schemas.xmlsoap.org, www.w3.org, a vendor's namespace…) name
specifications, not machines of the network: they are kept, so the messages stay readable.
"""

from __future__ import annotations

import html
import ipaddress
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from lxml import etree

from wsdmon.protocol import namespaces
from wsdmon.protocol._xml import parse_bytes
from wsdmon.protocol.errors import RemoteProtocolError

__all__ = ["REDACTED_KINDS", "Redactor"]

# What each token names, for the bundle's README.
REDACTED_KINDS = {
    "user": "user names: JobOriginatingUserName of jobs and every XML element whose name contains "
    "'UserName'; also the account part alone (after DOMAIN\\ or before @)",
    "domain": "the DOMAIN part of DOMAIN\\user names",
    "host": "host names: the host of every URL (XAddrs, service addresses, presentation pages, "
    "addresses in messages) except hosts of XML namespace URIs, and this computer's name",
    "ip": "IPv4 and IPv6 addresses, anywhere (also a version number written like an IPv4 address)",
    "mac": "MAC addresses (aa:bb:cc:dd:ee:ff, aa-bb-…, aabb.ccdd.eeff) and the node part of "
    "version-1 UUIDs (which is a MAC address)",
    "email": "e-mail addresses",
}

_URL_HOST = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/\s<>\"']*@)?(\[[^\]\s]*\]|[^\s/:?#<>\"'\[\]]+)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_IPV4_PART = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![\d.]){_IPV4_PART}(?:\.{_IPV4_PART}){{3}}(?!\.?\d)")
# A candidate only: ipaddress decides what is an IPv6 address (times such as 12:30:45 are not).
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|\d{1,3}(?:\.\d{1,3}){3})?(?![\w:])"
)
_MAC = re.compile(
    r"(?<![0-9A-Fa-f:.-])(?:[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}"
    r"|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})(?![0-9A-Fa-f:.-])"
)
# RFC 4122 §4.1.6: a version-1 UUID's last 12 hex digits are the node, normally a MAC address.
_UUID1_NODE = re.compile(
    r"(?<=[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-1[0-9A-Fa-f]{3}-[0-9A-Fa-f]{4}-)[0-9A-Fa-f]{12}\b"
)
_WORD = "0-9A-Za-z"
_HEX = frozenset("0123456789abcdefABCDEF")


def _spec_hosts() -> set[str]:
    """Hosts of the specifications wsdmon speaks (schemas.xmlsoap.org…): their URIs (filter
    dialects, actions) name no machine, and stay readable even where no namespace declares them."""
    values = (v for v in vars(namespaces).values() if isinstance(v, str))
    return {m[1].lower() for v in values if (m := _URL_HOST.match(v))}


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").partition("%")[0])
    except ValueError:
        return False
    return True


class Redactor:
    """Collects the values to hide, then replaces them (and every address) in any text."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str], str] = {}
        self._counts: Counter[str] = Counter()
        self._literals: dict[str, tuple[str, str]] = {}  # lower-case value → (kind, key)
        self._hosts: dict[str, str] = {}  # host name or its first label → the host name
        self._namespace_hosts: set[str] = _spec_hosts()
        self._pattern: re.Pattern[str] | None = None

    # --- collecting -------------------------------------------------------------------------

    def add_user(self, name: str | None) -> None:
        """A user name: the whole of it, its account part and its domain each get a token."""
        name = (name or "").strip()
        if not name:
            return
        self._literal(name, "user", name.lower())
        domain, sep, account = name.rpartition("\\")
        if sep:
            if domain:
                self._literal(domain, "domain", domain.lower())
            self._literal(account, "user", name.lower())
        elif "@" in name:
            self._literal(name.partition("@")[0], "user", name.lower())

    def add_host(self, host: str | None) -> None:
        """A host name; of a dotted name, its first label alone too (devices show their short
        name, e.g. in their FriendlyName), unless it is one of the specifications' (www…)."""
        host = (host or "").strip().strip("[]").rstrip(".").lower()
        if host and not _is_address(host):
            self._hosts[host] = host
            label = host.partition(".")[0]
            if label != host:
                self._hosts.setdefault(label, host)
            self._pattern = None

    def collect_text(self, text: str | None) -> None:
        """The hosts of the URLs in a text."""
        for m in _URL_HOST.finditer(text or ""):
            self.add_host(m[1])

    def collect_value(self, value: Any) -> None:
        """collect_text on every string of a JSON-like value."""
        if isinstance(value, str):
            self.collect_text(value)
        elif isinstance(value, dict):
            for item in value.values():
                self.collect_value(item)
        elif isinstance(value, list | tuple):
            for item in value:
                self.collect_value(item)

    def collect_xml(self, raw: bytes) -> None:
        """User names (elements named *UserName*), URL hosts, and the namespaces' hosts to keep."""
        try:
            root = parse_bytes(raw)
        except RemoteProtocolError:
            self.collect_text(raw.decode("utf-8", "replace"))
            return
        for el in root.iter():
            for uri in (el.nsmap or {}).values():
                if m := _URL_HOST.match(uri or ""):
                    self._namespace_hosts.add(m[1].lower())
            if not isinstance(el.tag, str):
                continue
            if "username" in etree.QName(el).localname.lower():
                self.add_user(el.text)
            self.collect_text(el.text)
            self.collect_text(el.tail)
            for v in el.attrib.values():
                self.collect_text(str(v))

    def _literal(self, value: str, kind: str, key: str) -> None:
        self._literals.setdefault(value.lower(), (kind, key))
        self._pattern = None

    # --- replacing --------------------------------------------------------------------------

    def token(self, kind: str, key: str) -> str:
        """The token of one value: the same (kind, key) always gives the same token."""
        found = self._tokens.get((kind, key))
        if found is None:
            self._counts[kind] += 1
            found = self._tokens[(kind, key)] = f"{kind}-{self._counts[kind]}"
        return found

    def _literal_pattern(self) -> re.Pattern[str] | None:
        if self._pattern is None:
            spec_labels = {h.partition(".")[0] for h in self._namespace_hosts}
            for name, host in self._hosts.items():
                if host not in self._namespace_hosts and (name == host or name not in spec_labels):
                    self._literals.setdefault(name, ("host", host))
            names = sorted(self._literals, key=len, reverse=True)  # longest first: a.b.c before a.b
            if names:
                alternatives = "|".join(re.escape(n) for n in names)
                self._pattern = re.compile(rf"(?<![{_WORD}])(?:{alternatives})(?![{_WORD}])", re.IGNORECASE)
        return self._pattern

    def _ipv6(self, m: re.Match[str]) -> str:
        text = m[0]
        if not any(c in _HEX for c in text):
            return text
        try:
            address = ipaddress.IPv6Address(text)
        except ValueError:
            return text
        return self.token("ip", address.compressed)

    def _ipv4(self, m: re.Match[str]) -> str:
        return self.token("ip", str(ipaddress.IPv4Address(m[0])))

    def _mac(self, m: re.Match[str]) -> str:
        return self.token("mac", re.sub(r"[^0-9a-f]", "", m[0].lower()))

    def _literal_token(self, m: re.Match[str]) -> str:
        kind, key = self._literals.get(m[0].lower(), ("redacted", m[0].lower()))
        return self.token(kind, key)

    def text(self, text: str) -> str:
        """The text with every collected value and every address replaced by its token."""
        text = _EMAIL.sub(lambda m: self.token("email", m[0].lower()), text)
        text = _IPV6.sub(self._ipv6, text)
        text = _MAC.sub(self._mac, text)
        text = _UUID1_NODE.sub(self._mac, text)
        text = _IPV4.sub(self._ipv4, text)
        pattern = self._literal_pattern()
        return pattern.sub(self._literal_token, text) if pattern is not None else text

    def value(self, value: Any) -> Any:
        """A JSON-like value with text() applied to every string (keys included)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value

    def xml(self, raw: bytes) -> tuple[bytes, bool]:
        """The message with text() applied to every text and attribute value (element names and
        namespaces kept), as UTF-8; and True. A message that is not well-formed XML is redacted as
        text with its character references resolved first (so none hides a value), and False."""
        try:
            root = parse_bytes(raw)
        except RemoteProtocolError:
            return self.text(html.unescape(raw.decode("utf-8", "replace"))).encode("utf-8"), False
        for el in root.iter():
            if el.text:
                el.text = self.text(el.text)
            if el.tail:
                el.tail = self.text(el.tail)
            for k, v in el.attrib.items():
                el.set(k, self.text(str(v)))
        return etree.tostring(root, encoding="utf-8", xml_declaration=True, pretty_print=True), True

    def used(self) -> Iterable[tuple[str, int]]:
        """(kind, how many distinct values were replaced) for each kind used."""
        return sorted(self._counts.items())
