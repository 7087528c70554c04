"""wsdmon.support: the support bundle (journal excerpt, devices, jobs, environment) and its
redaction. No Qt, no asyncio: the window runs it in an executor, `wsdmon bundle` directly."""

from __future__ import annotations

from .bundle import (
    DEFAULT_HOURS,
    HEALTH_JSON,
    HEALTH_TEXT,
    BundleError,
    BundleOptions,
    BundleResult,
    make_bundle,
)
from .redact import Redactor

__all__ = [
    "DEFAULT_HOURS",
    "HEALTH_JSON",
    "HEALTH_TEXT",
    "BundleError",
    "BundleOptions",
    "BundleResult",
    "Redactor",
    "make_bundle",
]
