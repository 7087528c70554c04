"""Round-trip cases for protocol/metadata.py (being written)."""

from __future__ import annotations

from wsdmon.protocol import Message

CASES: dict[str, Message] = {}
