"""The simulated scanner's page images: a ruled page (frame, title bar, lines of "text" whose lengths
depend on the page number) in PNG or uncompressed single-page TIFF, in RGB24, Grayscale8 or
BlackAndWhite1, at the requested size in pixels.

Written by hand with zlib and struct from the standard library: both formats are a few dozen lines
and Pillow would be a new dependency (and a large one in the installers) for two writers. A page has
few distinct rows, so rows are built once and repeated: an A4 page at 300 dpi takes well under a
second.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["FORMATS", "ColorMode", "ImageFormat", "PageImage", "render_page"]


class ImageFormat(StrEnum):
    """WS-Scan Format values the simulator can produce, and their MIME types."""

    PNG = "png"
    TIFF = "tiff-single-uncompressed"

    @property
    def media_type(self) -> str:
        return "image/png" if self is ImageFormat.PNG else "image/tiff"


FORMATS = tuple(ImageFormat)


class ColorMode(StrEnum):
    """WS-Scan ColorProcessing values the simulator scans in."""

    RGB24 = "RGB24"
    GRAYSCALE8 = "Grayscale8"
    BLACK_AND_WHITE1 = "BlackAndWhite1"


_WHITE = (255, 255, 255)
_INK = (20, 30, 60)  # frame and title bar
_TEXT = (40, 70, 150)  # the lines of "text"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_ZLIB_LEVEL = 6


@dataclass(frozen=True, slots=True)
class PageImage:
    """A rendered page: the file bytes, its MIME type and size in pixels."""

    data: bytes
    media_type: str
    width: int
    height: int


def _span_rows(
    width: int, height: int, page: int
) -> Iterator[tuple[tuple[int, int, tuple[int, int, int]], ...]]:
    """Each row as spans (start, end, colour) over a white background."""
    margin = max(1, width // 20)
    border = max(1, width // 200)
    left, right = margin, max(margin + 1, width - margin)
    top, bottom = max(1, height // 20), max(2, height - height // 20)
    title_end = top + border + max(2, height // 25)
    pitch = max(4, height // 40)
    inner_left, inner_right = left + 2 * border + margin // 2, right - 2 * border - margin // 2
    for y in range(height):
        if y < top or y >= bottom:
            yield ()
        elif y < top + border or y >= bottom - border or y < title_end:
            yield ((left, right, _INK),)
        else:
            frame = ((left, left + border, _INK), (right - border, right, _INK))
            line, within = divmod(y - title_end, pitch)
            if within < pitch // 2 and inner_right > inner_left:
                share = ((line * 7 + page * 3) % 10 + 1) / 11
                end = inner_left + max(1, int((inner_right - inner_left) * share))
                yield (frame[0], (inner_left, end, _TEXT), frame[1])
            else:
                yield frame


def _gray(color: tuple[int, int, int]) -> int:
    r, g, b = color
    return (299 * r + 587 * g + 114 * b) // 1000  # ITU-R BT.601 luma


def _row_bytes(
    spans: tuple[tuple[int, int, tuple[int, int, int]], ...], width: int, mode: ColorMode
) -> bytes:
    if mode is ColorMode.RGB24:
        row = bytearray(bytes(_WHITE) * width)
        for start, end, color in spans:
            row[start * 3 : end * 3] = bytes(color) * (end - start)
        return bytes(row)
    gray = bytearray(b"\xff" * width)
    for start, end, color in spans:
        gray[start:end] = bytes([_gray(color)]) * (end - start)
    if mode is ColorMode.GRAYSCALE8:
        return bytes(gray)
    bits = bytearray((width + 7) // 8)  # 1 bit per pixel, 1 = white (PNG grey, TIFF BlackIsZero)
    for x, value in enumerate(gray):
        if value >= 128:
            bits[x >> 3] |= 0x80 >> (x & 7)
    return bytes(bits)


def _rows(width: int, height: int, page: int, mode: ColorMode) -> Iterator[bytes]:
    cache: dict[tuple[tuple[int, int, tuple[int, int, int]], ...], bytes] = {}
    for spans in _span_rows(width, height, page):
        row = cache.get(spans)
        if row is None:
            row = cache[spans] = _row_bytes(spans, width, mode)
        yield row


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width: int, height: int, page: int, mode: ColorMode, dpi: tuple[int, int]) -> bytes:
    depth, color_type = {ColorMode.RGB24: (8, 2), ColorMode.GRAYSCALE8: (8, 0)}.get(mode, (1, 0))
    compressor = zlib.compressobj(_ZLIB_LEVEL)
    idat = [compressor.compress(b"\x00" + row) for row in _rows(width, height, page, mode)]  # filter None
    idat.append(compressor.flush())
    per_metre = tuple(round(d / 0.0254) for d in dpi)
    return b"".join(
        (
            _PNG_SIGNATURE,
            _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)),
            _chunk(b"pHYs", struct.pack(">IIB", *per_metre, 1)),
            _chunk(b"IDAT", b"".join(idat)),
            _chunk(b"IEND", b""),
        )
    )


def _tiff(width: int, height: int, page: int, mode: ColorMode, dpi: tuple[int, int]) -> bytes:
    """Baseline TIFF 6.0, little-endian, one uncompressed strip."""
    pixels = b"".join(_rows(width, height, page, mode))
    samples = 3 if mode is ColorMode.RGB24 else 1
    bits = 1 if mode is ColorMode.BLACK_AND_WHITE1 else 8
    photometric = 2 if samples == 3 else 1  # RGB, or BlackIsZero (1 bits are white)
    entries = 12
    ifd_at = 8
    extra_at = ifd_at + 2 + entries * 12 + 4  # BitsPerSample triple, then the two resolutions
    bits_at, xres_at, yres_at = extra_at, extra_at + 8, extra_at + 16
    data_at = extra_at + 24
    bits_value = (3, bits_at) if samples == 3 else (1, bits)
    tags = [
        (256, 4, 1, width),
        (257, 4, 1, height),
        (258, 3, bits_value[0], bits_value[1]),
        (259, 3, 1, 1),  # no compression
        (262, 3, 1, photometric),
        (273, 4, 1, data_at),
        (277, 3, 1, samples),
        (278, 4, 1, height),
        (279, 4, 1, len(pixels)),
        (282, 5, 1, xres_at),
        (283, 5, 1, yres_at),
        (296, 3, 1, 2),  # inches
    ]
    out = bytearray(b"II*\x00" + struct.pack("<I", ifd_at) + struct.pack("<H", entries))
    for tag, kind, count, value in tags:
        packed = (
            struct.pack("<H", value) + b"\x00\x00" if kind == 3 and count == 1 else struct.pack("<I", value)
        )
        out += struct.pack("<HHI", tag, kind, count) + packed
    out += struct.pack("<I", 0)  # no next IFD
    out += struct.pack("<HHHH", 8, 8, 8, 0)
    out += struct.pack("<II", dpi[0], 1) + struct.pack("<II", dpi[1], 1)
    out += pixels
    return bytes(out)


def render_page(
    fmt: ImageFormat,
    mode: ColorMode,
    width: int,
    height: int,
    *,
    page: int = 1,
    dpi: tuple[int, int] = (300, 300),
) -> PageImage:
    """Page `page` as `fmt` in `mode`, `width` x `height` pixels."""
    if width < 1 or height < 1:
        raise ValueError(f"a page of {width} x {height} pixels has no pixels")
    writer = _png if fmt is ImageFormat.PNG else _tiff
    return PageImage(writer(width, height, page, mode, dpi), fmt.media_type, width, height)
