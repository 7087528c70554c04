"""Short names people read for values that arrive as URIs."""

from __future__ import annotations

__all__ = ["dialect_name"]


def dialect_name(dialect: str) -> str:
    """A filter's short name: the last path segment of its Dialect URI ("…/filter/email" → "email";
    a URN such as urn:acme:filter:ocr → "ocr")."""
    tail = dialect.rstrip("/").rpartition("/")[2]
    if ":" in tail and "/" not in dialect:
        tail = tail.rpartition(":")[2]
    return tail or dialect
