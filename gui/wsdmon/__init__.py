"""wsdmon, the WSD Scan Monitor: WSD scanners, DSM scan servers and their post-scan jobs, live."""

# The single source of the version (pyproject.toml reads it). A literal, not importlib.metadata:
# that pulls in email and socket, which the sans-IO protocol layer must not load.
__version__ = "0.1.0"

__all__ = ["__version__"]
