"""(being written)"""

from __future__ import annotations

from .envelope import Message

MESSAGES: tuple[type[Message], ...] = ()
