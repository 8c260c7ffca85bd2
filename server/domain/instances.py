"""Read submission XML: who it is for, which instance it is, what it says, what files it needs.

Element and attribute names are compared without namespaces (``orx:meta/orx:instanceID`` and
``meta/instanceID`` are the same, as are ``version`` and ``orx:version``), as ODK Central does.
Values are typed by the form version's schema; a value that does not fit its type is kept as
the text sent, never dropped: the raw XML stays the source of truth.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element

from server.domain.xforms import parse_xml_safely
from server.errors import InvalidXForm, MalformedSubmission

_ENCRYPTED_NS = "http://www.opendatakit.org/xforms/encrypted"
_TOO_LARGE = ("too_deep", "too_many_elements")


@dataclass(frozen=True)
class XmlLimits:
    """How deep and how large a submission's XML may be before it is refused unread.

    The defaults are the settings' defaults (``TAPHUAN_SUBMISSION_MAX_DEPTH``,
    ``TAPHUAN_SUBMISSION_MAX_ELEMENTS``): an XLSForm's groups and repeats nest a few levels
    and a large form has thousands of elements, so Collect never comes near them, while a
    document nested a thousand deep would otherwise exhaust the recursion that types it.
    """

    max_depth: int = 100
    max_elements: int = 1_000_000


@dataclass
class Instance:
    """What the envelope of a submission says about itself."""

    form_id: str
    version: str
    instance_id: str | None
    deprecated_id: str | None
    instance_name: str | None
    is_encrypted: bool
    #: Files an encrypted submission carries (media/file…, then encryptedXmlFile).
    encrypted_files: list[str] = field(default_factory=list)
    root: Element | None = None


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _child(element: Element, name: str) -> Element | None:
    return next((c for c in element if _local(c.tag) == name), None)


def _text(element: Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


def read_instance(xml: bytes, *, limits: XmlLimits | None = None) -> Instance:
    """Parse a submission's XML safely and read its envelope.

    :param xml: the ``xml_submission_file`` bytes.
    :param limits: the deepest nesting and most elements accepted (default: :class:`XmlLimits`).
    :return: the form id, version, instanceID, deprecatedID, instanceName and encryption.
    :raises MalformedSubmission: unparseable or unsafe XML, XML past a limit (``reason``
        ``too_deep`` or ``too_many_elements``), no form id, or an encrypted submission without
        instanceID.
    """
    limits = limits or XmlLimits()
    try:
        root = parse_xml_safely(
            xml,
            what="xml_submission_file",
            max_depth=limits.max_depth,
            max_elements=limits.max_elements,
        )
    except InvalidXForm as exc:
        reason = exc.details.get("reason")
        if reason in _TOO_LARGE:
            raise MalformedSubmission(reason=reason, limit=exc.details["limit"]) from exc
        raise MalformedSubmission(reason="bad_xml", xml_error=exc.message) from exc
    attributes = {_local(k): v for k, v in root.attrib.items()}
    form_id = (attributes.get("id") or "").strip()
    if not form_id:
        raise MalformedSubmission(reason="no_form_id")
    meta = _child(root, "meta")
    instance_id = _text(_child(meta, "instanceID")) if meta is not None else None
    instance_id = instance_id or _text(_child(root, "instanceID"))
    encrypted_key = _text(_child(root, "base64EncryptedKey"))
    is_encrypted = (
        attributes.get("encrypted", "").lower() == "yes"
        or encrypted_key is not None
        or root.tag.startswith(f"{{{_ENCRYPTED_NS}}}")
    )
    files: list[str] = []
    if is_encrypted:
        if not instance_id:
            raise MalformedSubmission(reason="encrypted_without_instance_id")
        for media in (c for c in root if _local(c.tag) == "media"):
            files.extend(n for n in (_text(f) for f in media if _local(f.tag) == "file") if n)
        xml_file = _text(_child(root, "encryptedXmlFile"))
        if xml_file:
            files.append(xml_file)
    return Instance(
        form_id=form_id,
        version=(attributes.get("version") or "").strip(),
        instance_id=instance_id,
        deprecated_id=_text(_child(meta, "deprecatedID")) if meta is not None else None,
        instance_name=_text(_child(meta, "instanceName")) if meta is not None else None,
        is_encrypted=is_encrypted,
        encrypted_files=list(dict.fromkeys(files)),
        root=root,
    )


def index_fields(fields: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Index a schema's fields by instance path (``/data/g/q``) for :func:`typed_data`.

    :param fields: the ``fields`` of a stored form schema.
    :return: {path: field}.
    """
    return {f["path"]: f for f in fields}


def typed_data(root: Element, fields: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Turn the instance into JSON-ready data typed by the schema.

    Groups become objects, repeats lists of objects, select_multiple lists of codes, integer
    and decimal fields numbers, geopoints lists of numbers; blank answers become None.

    :param root: the instance root element (from :func:`read_instance`).
    :param fields: the schema fields indexed by path (:func:`index_fields`).
    :return: {name: value} for the root's children.
    """
    return _object(root, f"/{_local(root.tag)}", fields)


def _object(element: Element, path: str, fields: Mapping[str, Mapping[str, Any]]) -> dict:
    result: dict[str, Any] = {}
    for child in element:
        name = _local(child.tag)
        child_path = f"{path}/{name}"
        spec = fields.get(child_path, {})
        if len(child) or spec.get("kind") in {"group", "repeat"}:
            value: Any = _object(child, child_path, fields)
            if spec.get("kind") == "repeat":
                result.setdefault(name, []).append(value)
                continue
        else:
            value = _leaf(child.text, spec)
        result[name] = value
    return result


def _leaf(text: str | None, spec: Mapping[str, Any]) -> Any:
    raw = (text or "").strip()
    if not raw:
        return None
    kind, xtype = spec.get("kind"), spec.get("type")
    try:
        if kind == "select_multiple" or kind == "rank":
            return raw.split()
        if xtype == "int":
            return int(raw)
        if xtype == "decimal":
            return float(raw)
        if xtype in {"geopoint"}:
            return [float(p) for p in raw.split()]
    except ValueError:
        return text  # not of its type: keep exactly what was sent
    return text if kind in {"text", "note"} else raw


def binary_values(root: Element, fields: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """File names the instance references through binary (photo, audio, file…) fields.

    :param root: the instance root element.
    :param fields: the schema fields indexed by path.
    :return: distinct, non-blank names in document order.
    """
    names: list[str] = []
    _collect_binary(root, f"/{_local(root.tag)}", fields, names)
    return list(dict.fromkeys(names))


def _collect_binary(element: Element, path: str, fields, names: list[str]) -> None:
    for child in element:
        child_path = f"{path}/{_local(child.tag)}"
        if len(child):
            _collect_binary(child, child_path, fields, names)
        elif fields.get(child_path, {}).get("type") == "binary" and _text(child):
            names.append(_text(child))


#: Answer names that hold an administrative unit code, most specific first.
UNIT_FIELDS = ("hamlet", "commune", "district", "province")


def unit_code(data: Mapping[str, Any]) -> str | None:
    """The most specific administrative unit code the answers name, for filtering.

    :param data: typed answers (:func:`typed_data`); groups are searched, repeats are not.
    :return: the code, or None when the form asks for no unit.
    """
    found: dict[str, str] = {}
    pending = [data]
    while pending:
        current = pending.pop()
        for key, value in current.items():
            if isinstance(value, dict):
                pending.append(value)
            elif key in UNIT_FIELDS and isinstance(value, str | int) and str(value).strip():
                found.setdefault(key, str(value).strip()[:32])
    return next((found[name] for name in UNIT_FIELDS if name in found), None)


def finished_at(data: Mapping[str, Any]) -> dt.datetime | None:
    """When the device finished the form: its ``end`` metadata (ISO 8601 with offset), in UTC.

    :param data: typed answers.
    :return: an aware UTC datetime, or None when absent or unreadable.
    """
    raw = data.get("end")
    if not isinstance(raw, str):
        return None
    try:
        value = dt.datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    return value.astimezone(dt.UTC) if value.tzinfo else None


@dataclass(frozen=True)
class ParsedInstance:
    """A submission read once, with everything the intake stores and projects from it.

    The intake used to call back into this module five times (typed data, finished time, unit,
    files, name); reading it in one place keeps the parse and what is derived from it together.
    """

    envelope: Instance
    #: md5 of the XML bytes: the identity of a retry, and the stand-in instanceID.
    md5: str
    #: instanceID as sent, else ``md5:<hex>`` so that retries stay idempotent.
    instance_id: str
    #: Answers typed by the schema; {} for an encrypted envelope.
    data: dict[str, Any]
    submitted_at: dt.datetime | None
    unit_code: str | None
    #: File names the XML references (for encrypted envelopes: their ``.enc`` files).
    expected_files: tuple[str, ...]
    instance_name: str | None


def parse_instance(
    envelope: Instance, md5: str, fields: Mapping[str, Mapping[str, Any]]
) -> ParsedInstance:
    """Type an envelope's answers by its version's schema and derive what is stored with them.

    :param envelope: what :func:`read_instance` returned.
    :param md5: the md5 hex digest of the XML bytes.
    :param fields: the version's schema fields by path (:func:`index_fields`).
    :return: the parsed submission.
    """
    if envelope.is_encrypted:
        data: dict[str, Any] = {}
        expected = tuple(envelope.encrypted_files)
    else:
        data = typed_data(envelope.root, fields)
        expected = tuple(binary_values(envelope.root, fields))
    return ParsedInstance(
        envelope=envelope,
        md5=md5,
        instance_id=envelope.instance_id or f"md5:{md5}",
        data=data,
        submitted_at=finished_at(data),
        unit_code=unit_code(data),
        expected_files=expected,
        instance_name=(envelope.instance_name or "")[:255] or None,
    )
