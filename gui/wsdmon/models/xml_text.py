"""Pretty-printing of raw SOAP messages for display, with Qt's stream reader (it fetches nothing:
no external DTD or entity is loaded; the journal only holds messages the hardened parser accepted)."""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QXmlStreamReader, QXmlStreamWriter

__all__ = ["pretty_xml"]


def pretty_xml(text: str, indent: int = 2) -> str:
    """Indented XML; the input unchanged when it is not well-formed."""
    reader = QXmlStreamReader(text)
    data = QByteArray()
    device = QBuffer(data)
    device.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QXmlStreamWriter(device)
    writer.setAutoFormatting(True)
    writer.setAutoFormattingIndent(indent)
    while not reader.atEnd():
        reader.readNext()
        if reader.hasError():
            return text
        if reader.isWhitespace() or reader.isStartDocument():
            continue  # the writer indents; the XML declaration is noise here
        writer.writeCurrentToken(reader)
    device.close()
    return bytes(data.data()).decode("utf-8").strip()
