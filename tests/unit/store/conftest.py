from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from wsdmon.store import Journal


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "journal.sqlite3"


@pytest.fixture
def journal(db_path: Path) -> Iterator[Journal]:
    j = Journal(db_path)
    yield j
    j.close()
