"""The two error families of the protocol layer (see STYLE.md, like h11)."""

from __future__ import annotations

__all__ = ["LocalProtocolError", "ProtocolError", "RemoteProtocolError"]


class ProtocolError(Exception):
    """Base of every error raised by wsdmon.protocol."""


class LocalProtocolError(ProtocolError):
    """We were asked to build something the spec forbids: a bug on our side."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something we cannot accept: log it, count it, show it, never crash."""
