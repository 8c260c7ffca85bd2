"""OpenRosa documents: form list, manifest and OpenRosaResponse, built with an XML serializer.

Every child element sits in its document's default namespace (Collect ignores children that
do not), and every text is escaped by the serializer, so an ``&`` in a title or URL can never
break the document.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from xml.etree.ElementTree import Element, SubElement, tostring

FORM_LIST_NS = "http://openrosa.org/xforms/xformsList"
MANIFEST_NS = "http://openrosa.org/xforms/xformsManifest"
RESPONSE_NS = "http://openrosa.org/http/response"


@dataclass(frozen=True)
class FormEntry:
    """One ``<xform>`` of the form list."""

    form_id: str
    name: str
    version: str
    md5: str
    download_url: str
    manifest_url: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class MediaEntry:
    """One ``<mediaFile>`` of a manifest."""

    filename: str
    md5: str
    download_url: str


def _document(root: Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(
        root, encoding="utf-8", xml_declaration=False
    )


def _text(parent: Element, tag: str, text: str) -> Element:
    child = SubElement(parent, tag)
    child.text = text
    return child


def form_list(entries: Iterable[FormEntry]) -> bytes:
    """Render ``<xforms>`` (OpenRosa Form List API).

    :param entries: the forms, in display order.
    :return: the XML document.
    """
    root = Element("xforms", xmlns=FORM_LIST_NS)
    for entry in entries:
        xform = SubElement(root, "xform")
        _text(xform, "formID", entry.form_id)
        _text(xform, "name", entry.name)
        _text(xform, "version", entry.version)
        _text(xform, "hash", f"md5:{entry.md5}")
        if entry.description:
            _text(xform, "descriptionText", entry.description)
        _text(xform, "downloadUrl", entry.download_url)
        if entry.manifest_url:
            _text(xform, "manifestUrl", entry.manifest_url)
    return _document(root)


def manifest(entries: Iterable[MediaEntry]) -> bytes:
    """Render ``<manifest>`` (OpenRosa Form List API, media files).

    :param entries: the media files the server holds for the form version.
    :return: the XML document.
    """
    root = Element("manifest", xmlns=MANIFEST_NS)
    for entry in entries:
        media = SubElement(root, "mediaFile")
        _text(media, "filename", entry.filename)
        _text(media, "hash", f"md5:{entry.md5}")
        _text(media, "downloadUrl", entry.download_url)
    return _document(root)


def openrosa_response(message: str, *, nature: str = "") -> bytes:
    """Render ``<OpenRosaResponse>`` with one message (Collect shows the first message).

    :param message: the text for the person holding the tablet.
    :param nature: "" for success, "error" for failures.
    :return: the XML document.
    """
    root = Element("OpenRosaResponse", xmlns=RESPONSE_NS, items="0")
    _text(root, "message", message).set("nature", nature)
    return _document(root)
