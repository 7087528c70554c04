"""Render the SVG master icon to the PNG sizes the installers need, and a Windows .ico.

Uses QtSvg from the build venv (offscreen), so no extra system package (rsvg-convert, Pillow,
ImageMagick) is needed on Linux or on the Windows runner.

    python packaging/render_icons.py --svg resources/icons/wsdmon.svg --out build/icons

writes build/icons/hicolor/<N>x<N>/apps/wsdmon.png for N in --sizes and build/icons/wsdmon.ico
(PNG-compressed entries 16…256, which Windows Vista and later read).
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

HICOLOR_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def _png_bytes(renderer: object, size: int) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
    from PySide6.QtGui import QImage, QPainter

    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter, QRectF(0, 0, size, size))  # type: ignore[attr-defined]
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise RuntimeError(f"could not encode a {size}px PNG")
    buffer.close()
    return bytes(data.data())


def ico_from_pngs(pngs: dict[int, bytes]) -> bytes:
    """An ICO file whose entries are PNG streams (ICONDIR + ICONDIRENTRY[] + data)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = 6 + 16 * len(sizes)
    entries = b""
    blobs = b""
    for size in sizes:
        blob = pngs[size]
        dim = 0 if size >= 256 else size  # 0 means 256 in an ICONDIRENTRY
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(blob), offset)
        offset += len(blob)
        blobs += blob
    return header + entries + blobs


def render(svg: Path, out: Path, name: str, sizes: tuple[int, ...]) -> list[Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"render_icons: {svg} is not a valid SVG for QtSvg")
    written: list[Path] = []
    pngs: dict[int, bytes] = {}
    for size in sorted(set(sizes) | set(ICO_SIZES)):
        pngs[size] = _png_bytes(renderer, size)
    for size in sizes:
        target = out / "hicolor" / f"{size}x{size}" / "apps" / f"{name}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(pngs[size])
        written.append(target)
    ico = out / f"{name}.ico"
    ico.parent.mkdir(parents=True, exist_ok=True)
    ico.write_bytes(ico_from_pngs({s: pngs[s] for s in ICO_SIZES}))
    written.append(ico)
    del app
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--svg", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--name", default="wsdmon", help="icon file base name (the .desktop Icon= key)")
    parser.add_argument("--sizes", default=",".join(map(str, HICOLOR_SIZES)))
    args = parser.parse_args(argv)
    sizes = tuple(int(s) for s in args.sizes.split(",") if s)
    for path in render(args.svg, args.out, args.name, sizes):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
