"""Composition root. The window arrives with the GUI issue; until then --demo and --version work
headless so the README's demo command already proves the install."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from wsdmon import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wsdmon", description="WSD Scan Monitor")
    parser.add_argument("--version", action="version", version=f"wsdmon {__version__}")
    parser.add_argument("--demo", action="store_true", help="run against the built-in simulator")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from PySide6 import QtCore  # proves the Qt runtime and its system libraries are usable

    print(f"wsdmon {__version__} (Qt {QtCore.qVersion()}): the install works.")
    if args.demo:
        print("The monitor window arrives in a later release; the demo will open it here.")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
