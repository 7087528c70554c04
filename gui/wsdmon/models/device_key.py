"""How the models tell devices apart: by endpoint in a single PC's window, by (site, endpoint) in a
view of a shared store, where two sites' collectors may watch one device (or two simulators, or two
MFPs cloned from one image, share an endpoint). One string serves as the key everywhere a device is
looked up, filtered or selected; for a single PC (site "") it is the endpoint itself, so nothing
of the single-PC window changes."""

from __future__ import annotations

from wsdmon.core import JobKey

__all__ = ["KEY_SEP", "device_key", "endpoint_of", "job_device_key", "site_of"]

# Between the site and the endpoint: a control character, so neither a site name (printable,
# cli._site) nor the filter text's own separator (job_text.SEP, \x1e) can be mistaken for it.
KEY_SEP = "\x1f"


def device_key(endpoint: str, site: str = "") -> str:
    """The key of a device seen by `site` ("" for this PC's own engine)."""
    return f"{site}{KEY_SEP}{endpoint}" if site else endpoint


def job_device_key(key: JobKey) -> str:
    """The key of the device a job belongs to."""
    return device_key(key.device, key.site)


def endpoint_of(key: str) -> str:
    """The endpoint part of a device key."""
    return key.partition(KEY_SEP)[2] if KEY_SEP in key else key


def site_of(key: str) -> str:
    """The site part of a device key ("" for a single PC's device)."""
    return key.partition(KEY_SEP)[0] if KEY_SEP in key else ""
