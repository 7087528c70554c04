"""What the engine needs from the journal: the store interface, which store/ owns now.

Kept as a re-export so that code importing `wsdmon.net.journal_port.JournalPort` keeps working."""

from __future__ import annotations

from wsdmon.store.port import StorePort as JournalPort

__all__ = ["JournalPort"]
