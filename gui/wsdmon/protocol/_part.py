"""Structures whose children are a table of fields: written in table order, read in any order.

A Part subclass is a frozen, slotted dataclass listing its children in FIELDS; each Field names the
child's Clark tag, the attribute it fills and how to read and write it. `read` makes one pass over
the element's children; children outside the part's own namespace (xs:any ##other) are kept in
`extensions` as canonical XML, unknown ones in its namespace are ignored. Used by the wscn
structures (scan.py) and the dsc job summaries (dsm.py, repository.py, repository_types.py); the
sink's hot path, dsc:JobStatus, keeps its own hand-written reader (dsm.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Self

from ._xml import (
    Element,
    append_extensions,
    canonical,
    enum_or_text,
    format_datetime,
    local_name,
    read_reasons,
    remote,
    sub,
    text_of,
    write_reasons,
)
from .errors import RemoteProtocolError

__all__ = [
    "Field",
    "Part",
    "Reader",
    "Writer",
    "enum_reader",
    "field",
    "list_field",
    "put_text",
    "put_time",
    "raw_text",
]

Reader = Callable[[Element], object]
Writer = Callable[[Element, str, Any], None]


@dataclass(frozen=True, slots=True)
class Field:
    tag: str  # Clark tag of the child
    attr: str  # dataclass attribute it fills
    read: Reader
    write: Writer
    required: bool = True
    default: object = None  # the value of an optional child that is absent


def put_text(parent: Element, tag: str, value: object) -> None:
    sub(parent, tag, str(value))


def put_time(parent: Element, tag: str, value: datetime | None) -> None:
    if value is not None:
        sub(parent, tag, format_datetime(value))


def raw_text(el: Element) -> str:
    return el.text or ""  # a user's string or an opaque token: whitespace kept as sent


def enum_reader(enum: type[StrEnum]) -> Reader:
    """Read an enumerated value: a member when well-known, the text as given otherwise."""
    return lambda el: enum_or_text(enum, text_of(el))


_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _attr(tag: str) -> str:
    # JobCreatedTime -> job_created_time, PSP_Identifier -> psp_identifier
    return _WORD_START.sub("_", local_name(tag)).lower()


def field(tag: str, read: Reader, write: Writer = put_text, *, required: bool = True) -> Field:
    """A child filling the attribute named after its local name in snake case."""
    return Field(tag, _attr(tag), read, write, required)


def list_field(
    tag: str, item_tag: str, enum: type[StrEnum], *, required: bool, allow_empty: bool = False
) -> Field:
    """A list of enumerated values (JobStateReasons…), () when absent; holding none is an error
    unless allow_empty. A required list is written even when empty, an optional one only when it
    has values."""

    def read(el: Element) -> tuple[str, ...]:
        return read_reasons(el, item_tag, enum, allow_empty=allow_empty)

    def write(parent: Element, tag: str, values: tuple[str, ...]) -> None:
        write_reasons(parent, tag, item_tag, values, always=required)

    return Field(tag, _attr(tag), read, write, required, ())


class Part:
    """A structure whose children are FIELDS; other children outside its namespace are kept in
    `extensions`. Subclasses may add XML attributes through _attributes / _read_attributes."""

    __slots__ = ()
    TAG: ClassVar[str]
    FIELDS: ClassVar[tuple[Field, ...]]
    extensions: tuple[str, ...]

    def _attributes(self) -> dict[str, str]:
        return {}

    @staticmethod
    def _read_attributes(el: Element) -> dict[str, object]:
        return {}

    def write(self, parent: Element) -> None:
        el = sub(parent, self.TAG)
        for name, value in self._attributes().items():
            el.set(name, value)
        for f in self.FIELDS:
            f.write(el, f.tag, getattr(self, f.attr))
        append_extensions(el, self.extensions)

    @classmethod
    def read(cls, el: Element) -> Self:
        values = cls._read_attributes(el)
        extra: list[str] = []
        fields = cls.FIELDS
        own = cls.TAG.partition("}")[0] + "}"  # Clark prefix of the part's namespace
        for item in el:
            tag = item.tag
            for f in fields:
                if f.tag == tag:
                    values[f.attr] = f.read(item)
                    break
            else:
                if isinstance(tag, str) and not tag.startswith(own):
                    extra.append(canonical(item))
        for f in fields:
            if f.attr not in values:
                if f.required:
                    raise RemoteProtocolError(f"{local_name(el.tag)} lacks required {local_name(f.tag)}")
                values[f.attr] = f.default
        # An empty enumerated value fails check_token: RemoteProtocolError through remote().
        return remote(cls, **values, extensions=tuple(extra))
