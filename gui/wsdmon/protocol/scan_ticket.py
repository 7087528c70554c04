"""WS-Scan (wscn) structures a scan client reads and writes: the scanner's description and
configuration (GetScannerElements), the scan ticket (DefaultScanTicket, ValidateScanTicket,
CreateScanJob) and the image information a job's response promises.

Sources: the Windows driver docs' element pages ("ScanTicket element", "ScannerConfiguration
element"…), cited by title, and the wscn ticket subset of WDPScan.xsd (MS-BDSRR §6.2.3), whose
element order we write. Read in any order; children outside wscn are kept as canonical XML.
Sizes are thousandths of an inch, resolutions dots per inch, as in WS-Scan.

These travel inside GetScannerElementsResponse's ElementData, which scan.py keeps as raw XML for
anything but ScannerStatus: `to_raw` / `from_raw` convert between the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol, Self, TypeVar

from lxml import etree

from . import namespaces as ns
from ._part import Field, Part, field, put_text, raw_text
from ._xml import (
    Element,
    append_extensions,
    canonical,
    child,
    children,
    extensions,
    parse_int,
    parse_raw,
    qn,
    remote,
    required,
    sub,
    text_of,
)
from .errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "DocumentFinalParameters",
    "DocumentParameters",
    "ImageInformation",
    "JobDescription",
    "MediaBack",
    "MediaFront",
    "MediaSideInfo",
    "Range",
    "ScanRegion",
    "ScanTicket",
    "ScannerConfiguration",
    "ScannerDescription",
    "Size",
    "SourceConfiguration",
    "from_raw",
    "to_raw",
]


def _w(local: str) -> str:
    return qn(ns.WSCN, local)


_BOOLEAN = {"true": True, "1": True, "false": False, "0": False}


def _parse_bool(el: Element) -> bool:
    value = _BOOLEAN.get(text_of(el))
    if value is None:
        raise RemoteProtocolError(f"{etree.QName(el).localname} {text_of(el)!r} is not an xs:boolean")
    return value


def _put_bool(parent: Element, tag: str, value: bool | None) -> None:
    if value is not None:
        sub(parent, tag, "true" if value else "false")


def _put_optional(parent: Element, tag: str, value: object) -> None:
    if value is not None:
        sub(parent, tag, str(value))


def _text(el: Element) -> str:
    return text_of(el)


def _check_positive(what: str, value: int) -> None:
    if value < 1:
        raise LocalProtocolError(f"{what} {value} must be at least 1 (wscn:IntOneExtType)")


@dataclass(frozen=True, slots=True)
class Size:
    """wscn DimensionsType: Width and Height (thousandths of an inch, or dpi for a resolution)."""

    width: int
    height: int

    def __post_init__(self) -> None:
        _check_positive("Width", self.width)
        _check_positive("Height", self.height)

    def write(self, parent: Element, tag: str) -> None:
        el = sub(parent, tag)
        sub(el, _w("Width"), str(self.width))
        sub(el, _w("Height"), str(self.height))

    @classmethod
    def read(cls, el: Element) -> Self:
        return remote(cls, parse_int(required(el, _w("Width"))), parse_int(required(el, _w("Height"))))


def _size_field(local: str, *, required: bool = True) -> Field:
    def write(parent: Element, tag: str, value: Size | None) -> None:
        if value is not None:
            value.write(parent, tag)

    return Field(_w(local), field(_w(local), Size.read).attr, Size.read, write, required)


def _part_field(cls: type[Part], attr: str, *, required: bool = False) -> Field:
    def write(parent: Element, _tag: str, value: Part | None) -> None:
        if value is not None:
            value.write(parent)

    return Field(cls.TAG, attr, cls.read, write, required)


# --- the scan ticket ("ScanTicket element"; WDPScan.xsd ScanTicketType) ----------------------------


@dataclass(frozen=True, slots=True)
class JobDescription(Part):
    """wscn:JobDescription: who asks for the scan and what it is called."""

    TAG: ClassVar[str] = _w("JobDescription")
    FIELDS: ClassVar[tuple[Field, ...]] = (
        field(_w("JobName"), raw_text),
        field(_w("JobOriginatingUserName"), raw_text),
        field(_w("JobInformation"), raw_text, _put_optional, required=False),
    )
    job_name: str
    job_originating_user_name: str
    job_information: str | None = None
    extensions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScanRegion(Part):
    """wscn:ScanRegion: the area to scan, offsets from the top left corner."""

    TAG: ClassVar[str] = _w("ScanRegion")
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field(_w("ScanRegionXOffset"), "x_offset", parse_int, put_text, False, 0),
        Field(_w("ScanRegionYOffset"), "y_offset", parse_int, put_text, False, 0),
        Field(_w("ScanRegionWidth"), "width", parse_int, put_text),
        Field(_w("ScanRegionHeight"), "height", parse_int, put_text),
    )
    x_offset: int
    y_offset: int
    width: int
    height: int
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_positive("ScanRegionWidth", self.width)
        _check_positive("ScanRegionHeight", self.height)
        if self.x_offset < 0 or self.y_offset < 0:
            raise LocalProtocolError("ScanRegion offsets must not be negative (wscn:OffsetExtType)")


_MEDIA_SIDE_FIELDS: tuple[Field, ...] = (
    _part_field(ScanRegion, "scan_region"),
    field(_w("ColorProcessing"), _text, _put_optional, required=False),
    _size_field("Resolution", required=False),
)


@dataclass(frozen=True, slots=True)
class MediaFront(Part):
    """wscn:MediaFront: region, colour mode (RGB24, Grayscale8, BlackAndWhite1…) and resolution of a
    side ("MediaSide element": a Resolution's Height may be left out; we always write both)."""

    TAG: ClassVar[str] = _w("MediaFront")
    FIELDS: ClassVar[tuple[Field, ...]] = _MEDIA_SIDE_FIELDS
    scan_region: ScanRegion | None = None
    color_processing: str | None = None
    resolution: Size | None = None
    extensions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MediaBack(MediaFront):
    """wscn:MediaBack: the back side of a duplex scan."""

    TAG: ClassVar[str] = _w("MediaBack")


_MEDIA_SIDES = _w("MediaSides")
_INPUT_SIZE = _w("InputSize")
_INPUT_MEDIA_SIZE = _w("InputMediaSize")


def _read_sides(el: Element) -> tuple[MediaFront | None, MediaBack | None]:
    front = child(el, MediaFront.TAG)
    back = child(el, MediaBack.TAG)
    return (
        MediaFront.read(front) if front is not None else None,
        MediaBack.read(back) if back is not None else None,
    )


def _write_sides(parent: Element, tag: str, sides: tuple[MediaFront | None, MediaBack | None]) -> None:
    front, back = sides
    if front is None and back is None:
        return
    el = sub(parent, tag)
    for side in (front, back):
        if side is not None:
            side.write(el)


def _read_input_size(el: Element) -> Size:
    return Size.read(required(el, _INPUT_MEDIA_SIZE))


def _write_input_size(parent: Element, tag: str, value: Size | None) -> None:
    if value is not None:
        value.write(sub(parent, tag), _INPUT_MEDIA_SIZE)


_DOCUMENT_FIELDS: tuple[Field, ...] = (
    field(_w("Format"), _text, _put_optional, required=False),
    field(_w("CompressionQualityFactor"), parse_int, _put_optional, required=False),
    field(_w("ImagesToTransfer"), parse_int, _put_optional, required=False),
    field(_w("InputSource"), _text, _put_optional, required=False),
    field(_w("ContentType"), _text, _put_optional, required=False),
    Field(_INPUT_SIZE, "input_media_size", _read_input_size, _write_input_size, False),
    Field(_MEDIA_SIDES, "media_sides", _read_sides, _write_sides, False, (None, None)),
)


@dataclass(frozen=True, slots=True)
class DocumentParameters(Part):
    """wscn:DocumentParameters: format (png, jfif, tiff-single-uncompressed…), how many images
    (0: all the source has), input source (Platen, ADF, ADFDuplex), content type, input size and
    the sides. Every child is optional ("DocumentParameters element"); values are kept as given."""

    TAG: ClassVar[str] = _w("DocumentParameters")
    FIELDS: ClassVar[tuple[Field, ...]] = _DOCUMENT_FIELDS
    format: str | None = None
    compression_quality_factor: int | None = None
    images_to_transfer: int | None = None
    input_source: str | None = None
    content_type: str | None = None
    input_media_size: Size | None = None
    media_sides: tuple[MediaFront | None, MediaBack | None] = (None, None)
    extensions: tuple[str, ...] = ()

    @property
    def front(self) -> MediaFront | None:
        return self.media_sides[0]


@dataclass(frozen=True, slots=True)
class DocumentFinalParameters(DocumentParameters):
    """wscn:DocumentFinalParameters: the parameters the scanner will really use for a job."""

    TAG: ClassVar[str] = _w("DocumentFinalParameters")


@dataclass(frozen=True, slots=True)
class ScanTicket(Part):
    """wscn:ScanTicket (also the content of wscn:DefaultScanTicket)."""

    TAG: ClassVar[str] = _w("ScanTicket")
    FIELDS: ClassVar[tuple[Field, ...]] = (
        _part_field(JobDescription, "job_description", required=True),
        _part_field(DocumentParameters, "document_parameters"),
    )
    job_description: JobDescription
    document_parameters: DocumentParameters | None = None
    extensions: tuple[str, ...] = ()


class DefaultScanTicket(ScanTicket):
    """wscn:DefaultScanTicket: the ticket the scanner uses when a client gives none."""

    __slots__ = ()
    TAG: ClassVar[str] = _w("DefaultScanTicket")


# --- image information ("ImageInformation element") -------------------------------------------


@dataclass(frozen=True, slots=True)
class MediaSideInfo(Part):
    """wscn:MediaFrontImageInfo: the image a side will give, in pixels and bytes per line."""

    TAG: ClassVar[str] = _w("MediaFrontImageInfo")
    FIELDS: ClassVar[tuple[Field, ...]] = (
        field(_w("PixelsPerLine"), parse_int),
        field(_w("NumberOfLines"), parse_int),
        field(_w("BytesPerLine"), parse_int),
    )
    pixels_per_line: int
    number_of_lines: int
    bytes_per_line: int
    extensions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ImageInformation(Part):
    """wscn:ImageInformation: what the front side's image will be (the back is not simulated)."""

    TAG: ClassVar[str] = _w("ImageInformation")
    FIELDS: ClassVar[tuple[Field, ...]] = (_part_field(MediaSideInfo, "front", required=True),)
    front: MediaSideInfo
    extensions: tuple[str, ...] = ()


# --- the scanner's description and configuration ----------------------------------------------


@dataclass(frozen=True, slots=True)
class ScannerDescription(Part):
    """wscn:ScannerDescription: name, info and location a person reads ("ScannerDescription element";
    each may be repeated per language: the first is read)."""

    TAG: ClassVar[str] = _w("ScannerDescription")
    FIELDS: ClassVar[tuple[Field, ...]] = (
        field(_w("ScannerName"), raw_text),
        field(_w("ScannerInfo"), raw_text, _put_optional, required=False),
        field(_w("ScannerLocation"), raw_text, _put_optional, required=False),
    )
    scanner_name: str
    scanner_info: str | None = None
    scanner_location: str | None = None
    extensions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Range:
    """A MinValue..MaxValue pair (CompressionQualityFactorSupported, ScalingWidth…)."""

    min_value: int
    max_value: int

    def __post_init__(self) -> None:
        if self.min_value > self.max_value:
            raise LocalProtocolError(f"MinValue {self.min_value} > MaxValue {self.max_value}")

    def write(self, parent: Element, tag: str) -> None:
        el = sub(parent, tag)
        sub(el, _w("MinValue"), str(self.min_value))
        sub(el, _w("MaxValue"), str(self.max_value))

    @classmethod
    def read(cls, el: Element) -> Self:
        return remote(cls, parse_int(required(el, _w("MinValue"))), parse_int(required(el, _w("MaxValue"))))


def _values(el: Element | None, item: str) -> tuple[str, ...]:
    return () if el is None else tuple(text_of(v) for v in children(el, _w(item)))


def _put_values(parent: Element, tag: str, item: str, values: tuple[str, ...]) -> None:
    el = sub(parent, _w(tag))
    for value in values:
        sub(el, _w(item), value)


@dataclass(frozen=True, slots=True)
class SourceConfiguration:
    """One input source ("Platen element", "ADFFront element"…): optical resolution, the offered
    resolutions (widths and heights listed apart), colour modes and the minimum and maximum size.
    The element names carry the source's prefix (PlatenColor, ADFColor), given to write/read."""

    optical_resolution: Size
    widths: tuple[int, ...]
    heights: tuple[int, ...]
    colors: tuple[str, ...]
    minimum_size: Size
    maximum_size: Size

    def __post_init__(self) -> None:
        if not self.widths or not self.heights or not self.colors:
            raise LocalProtocolError("a source offers at least one resolution and one colour mode")

    def write(self, parent: Element, tag: str, prefix: str) -> None:
        el = sub(parent, tag)
        self.optical_resolution.write(el, _w(f"{prefix}OpticalResolution"))
        resolutions = sub(el, _w(f"{prefix}Resolutions"))
        _put_values(resolutions, "Widths", "Width", tuple(map(str, self.widths)))
        _put_values(resolutions, "Heights", "Height", tuple(map(str, self.heights)))
        _put_values(el, f"{prefix}Color", "ColorEntry", self.colors)
        self.minimum_size.write(el, _w(f"{prefix}MinimumSize"))
        self.maximum_size.write(el, _w(f"{prefix}MaximumSize"))

    @classmethod
    def read(cls, el: Element, prefix: str) -> Self:
        resolutions = required(el, _w(f"{prefix}Resolutions"))

        def ints(tag: str, item: str) -> tuple[int, ...]:
            return tuple(parse_int(v) for v in children(required(resolutions, _w(tag)), _w(item)))

        return remote(
            cls,
            Size.read(required(el, _w(f"{prefix}OpticalResolution"))),
            ints("Widths", "Width"),
            ints("Heights", "Height"),
            _values(required(el, _w(f"{prefix}Color")), "ColorEntry"),
            Size.read(required(el, _w(f"{prefix}MinimumSize"))),
            Size.read(required(el, _w(f"{prefix}MaximumSize"))),
        )


_CONFIGURATION = _w("ScannerConfiguration")
_DEVICE_SETTINGS = _w("DeviceSettings")
_PLATEN = _w("Platen")
_ADF = _w("ADF")


@dataclass(frozen=True, slots=True)
class ScannerConfiguration:
    """wscn:ScannerConfiguration: DeviceSettings (formats, content types, compression quality,
    auto exposure, brightness, contrast, rotations) and the sources: Platen and an ADF with its
    front and, when it scans duplex, back ("ScannerConfiguration element"). Written in the order of
    the docs' example, which real devices follow (see the Kyocera capture in the shared corpus)."""

    TAG: ClassVar[str] = _CONFIGURATION
    formats: tuple[str, ...]
    content_types: tuple[str, ...]
    compression_quality: Range | None = None
    document_size_auto_detect: bool = False
    auto_exposure: bool = False
    brightness: bool = False
    contrast: bool = False
    rotations: tuple[int, ...] = (0,)
    platen: SourceConfiguration | None = None
    adf_front: SourceConfiguration | None = None
    adf_back: SourceConfiguration | None = None
    adf_duplex: bool = False
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.formats:
            raise LocalProtocolError("FormatsSupported must list at least one format")
        if self.platen is None and self.adf_front is None:
            raise LocalProtocolError("a scanner has a platen or an ADF")
        if self.adf_back is not None and self.adf_front is None:
            raise LocalProtocolError("ADFBack needs ADFFront")

    def write(self, parent: Element) -> None:
        el = sub(parent, self.TAG)
        settings = sub(el, _DEVICE_SETTINGS)
        _put_values(settings, "FormatsSupported", "FormatValue", self.formats)
        if self.compression_quality is not None:
            self.compression_quality.write(settings, _w("CompressionQualityFactorSupported"))
        _put_values(settings, "ContentTypesSupported", "ContentTypeValue", self.content_types)
        _put_bool(settings, _w("DocumentSizeAutoDetectSupported"), self.document_size_auto_detect)
        _put_bool(settings, _w("AutoExposureSupported"), self.auto_exposure)
        _put_bool(settings, _w("BrightnessSupported"), self.brightness)
        _put_bool(settings, _w("ContrastSupported"), self.contrast)
        _put_values(settings, "RotationsSupported", "RotationValue", tuple(map(str, self.rotations)))
        if self.platen is not None:
            self.platen.write(el, _PLATEN, "Platen")
        if self.adf_front is not None:
            adf = sub(el, _ADF)
            _put_bool(adf, _w("ADFSupportsDuplex"), self.adf_duplex)
            self.adf_front.write(adf, _w("ADFFront"), "ADF")
            if self.adf_back is not None:
                self.adf_back.write(adf, _w("ADFBack"), "ADF")
        append_extensions(el, self.extensions)

    @classmethod
    def read(cls, el: Element) -> Self:
        settings = required(el, _DEVICE_SETTINGS)

        def flag(local: str) -> bool:
            item = child(settings, _w(local))
            return item is not None and _parse_bool(item)

        quality = child(settings, _w("CompressionQualityFactorSupported"))
        platen = child(el, _PLATEN)
        adf = child(el, _ADF)
        front = back = None
        duplex = False
        if adf is not None:
            front_el, back_el = child(adf, _w("ADFFront")), child(adf, _w("ADFBack"))
            front = SourceConfiguration.read(front_el, "ADF") if front_el is not None else None
            back = SourceConfiguration.read(back_el, "ADF") if back_el is not None else None
            duplex_el = child(adf, _w("ADFSupportsDuplex"))
            duplex = duplex_el is not None and _parse_bool(duplex_el)
        rotations = _values(child(settings, _w("RotationsSupported")), "RotationValue")
        return remote(
            cls,
            _values(child(settings, _w("FormatsSupported")), "FormatValue"),
            _values(child(settings, _w("ContentTypesSupported")), "ContentTypeValue"),
            Range.read(quality) if quality is not None else None,
            flag("DocumentSizeAutoDetectSupported"),
            flag("AutoExposureSupported"),
            flag("BrightnessSupported"),
            flag("ContrastSupported"),
            tuple(int(r) for r in rotations if r.isdigit()),
            SourceConfiguration.read(platen, "Platen") if platen is not None else None,
            front,
            back,
            duplex,
            extensions(el, ns.WSCN),
        )


# --- raw ElementData content ↔ typed -----------------------------------------------------------


class _Writable(Protocol):
    def write(self, parent: Element) -> None: ...


_R = TypeVar("_R")


def to_raw(value: _Writable) -> str:
    """A structure as the canonical XML that ElementData content holds (scan.ScannerElementData)."""
    holder = etree.Element("holder", nsmap={"wscn": ns.WSCN})
    value.write(holder)
    return canonical(holder[0])


def from_raw(raw: str | object, reader: type[_R]) -> _R:
    """The structure `reader` makes of ElementData raw content; RemoteProtocolError when it is not
    one (wrong element, missing children)."""
    if not isinstance(raw, str):
        raise RemoteProtocolError(f"expected {reader.__name__} content, found {type(raw).__name__}")
    items = parse_raw(raw)
    tag = getattr(reader, "TAG", None)
    if len(items) != 1 or items[0].tag != tag:
        raise RemoteProtocolError(f"ElementData does not hold one {reader.__name__}")
    result: _R = reader.read(items[0])  # type: ignore[attr-defined]
    return result
