"""Round-trip cases for protocol/discovery.py (being written)."""

from __future__ import annotations

from wsdmon.protocol import Message

CASES: dict[str, Message] = {}
