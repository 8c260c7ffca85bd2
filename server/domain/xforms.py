"""Read an XForm: identity (form_id, version, title), the field schema, and the media it needs.

The schema is what the server later uses to parse submissions into typed data and to lay out
exports: every node of the primary instance in form order, with its XLSForm-like kind, data
type, labels per language, choices, and the repeat it sits in. It is read from the XForm
itself, not from pyxform's internals, so an uploaded XForm and a converted XLSForm are
described the same way.

XML is parsed with DTDs and entities forbidden: a form upload must not be able to expand
entities ("billion laughs") or read local files (XXE).
"""

from __future__ import annotations

import re
import sys
from dataclasses import asdict, dataclass, field
from typing import Any
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from server.errors import InvalidXForm

XF = "{http://www.w3.org/2002/xforms}"
H = "{http://www.w3.org/1999/xhtml}"
JR = "{http://openrosa.org/javarosa}"
#: The longest version stored (the database column's size).
MAX_VERSION_LENGTH = 255
#: Collect reads ``<input query=…>`` choices (select_one_external) from this media file.
EXTERNAL_ITEMSETS = "itemsets.csv"
_INSTANCE_REF = re.compile(r"instance\(\s*'([^']+)'\s*\)")
_ITEXT_REF = re.compile(r"jr:itext\(\s*'([^']+)'\s*\)")
_MEDIA_URL = re.compile(r"^jr://(images|audio|video|file|file-csv)/(.+)$")
_CONTROL_KINDS = {
    "select1": "select_one",
    "select": "select_multiple",
    "rank": "rank",
    "range": "range",
    "trigger": "acknowledge",
}
_INPUT_KINDS = {
    "int": "integer",
    "decimal": "decimal",
    "date": "date",
    "dateTime": "datetime",
    "time": "time",
    "geopoint": "geopoint",
    "geotrace": "geotrace",
    "geoshape": "geoshape",
    "barcode": "barcode",
}


@dataclass
class Field:
    """One node of the primary instance (question, calculate, metadata, group or repeat)."""

    name: str
    #: Absolute instance path, e.g. ``/data/g_unit/province``.
    path: str
    #: XLSForm-like kind: text, integer, decimal, date, select_one, select_multiple, image,
    #: calculate, note, meta, group, repeat, …
    kind: str
    #: XForms bind type (string, int, decimal, date, dateTime, binary…); "" for groups.
    type: str = ""
    #: Path of the nearest enclosing repeat, or None.
    repeat: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    #: Inline choices: [{"name": "yes", "labels": {"Vietnamese (vi)": "Có"}}].
    choices: list[dict[str, Any]] | None = None
    #: Secondary instance the choices come from (XLSForm list_name or CSV file instance id).
    choice_list: str | None = None
    #: CSV/XML file the choices come from (select_one_from_file).
    choice_file: str | None = None
    relevant: str | None = None
    required: bool = False
    calculate: str | None = None
    appearance: str | None = None


@dataclass
class FormSchema:
    """What an XForm is and contains."""

    form_id: str
    version: str
    title: str
    root: str
    is_encrypted: bool
    languages: list[str]
    default_language: str | None
    fields: list[Field]
    #: Media the form references: [{"filename": "courses.csv", "type": "file-csv"}].
    media: list[dict[str, str]]

    def to_dict(self) -> dict[str, Any]:
        """Return the schema as JSON-ready data (stored with the form version)."""
        return asdict(self)


class _TooLarge(Exception):
    """Raised inside the parser when a document passes a limit; turned into InvalidXForm."""

    def __init__(self, reason: str, limit: int):
        super().__init__(reason)
        self.reason, self.limit = reason, limit


class _LimitedTreeBuilder(TreeBuilder):
    """A tree builder that stops the parse at a nesting depth or element count.

    Counting while expat parses, rather than walking the finished tree, means a hostile
    document is refused before it is built, and without recursion: everything that later
    walks the tree recursively (typing the answers, JSON encoding) stays far from Python's
    recursion limit.
    """

    def __init__(self, max_depth: int, max_elements: int):
        super().__init__()
        self.max_depth, self.max_elements = max_depth, max_elements
        self.depth = self.elements = 0

    def start(self, tag, attrs):
        self.depth += 1
        self.elements += 1
        if self.depth > self.max_depth:
            raise _TooLarge("too_deep", self.max_depth)
        if self.elements > self.max_elements:
            raise _TooLarge("too_many_elements", self.max_elements)
        return super().start(tag, attrs)

    def end(self, tag):
        self.depth -= 1
        return super().end(tag)


def parse_xml_safely(
    xml: bytes,
    *,
    what: str = "XML",
    max_depth: int | None = None,
    max_elements: int | None = None,
) -> Element:
    """Parse XML with DTDs, entities and external references refused, and optionally bounded.

    :param xml: the document.
    :param what: how to name the document in messages ("Form.xml").
    :param max_depth: deepest element nesting accepted (the root is depth 1); None = no limit.
    :param max_elements: most elements accepted; None = no limit.
    :return: the root element.
    :raises InvalidXForm: malformed XML, XML with a DOCTYPE or entity declarations
        (``reason="unsafe_xml"``), or a document past a limit (``reason`` ``too_deep`` or
        ``too_many_elements``, ``limit`` in the details).
    """
    target = None
    if max_depth is not None or max_elements is not None:
        target = _LimitedTreeBuilder(
            max_depth if max_depth is not None else sys.maxsize,
            max_elements if max_elements is not None else sys.maxsize,
        )
    parser = SafeET.DefusedXMLParser(
        target=target, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    try:
        parser.feed(xml)
        return parser.close()
    except _TooLarge as exc:
        raise InvalidXForm(file=what, reason=exc.reason, limit=exc.limit) from None
    except DefusedXmlException as exc:
        raise InvalidXForm(file=what, reason="unsafe_xml", cause=exc.__class__.__name__) from exc
    except ParseError as exc:
        raise InvalidXForm(file=what, reason="malformed_xml", cause=str(exc)) from exc


def read_xform(xml: bytes, *, what: str = "XForm") -> FormSchema:
    """Read an XForm's identity, schema and media references.

    :param xml: the XForm bytes.
    :param what: how to name the document in messages.
    :return: the form's schema.
    :raises InvalidXForm: unsafe or malformed XML, or a document that is not an XForm.
    """
    html = _without_namespaces(parse_xml_safely(xml, what=what))
    head = html.find("head")
    model = head.find("model") if head is not None else None
    if html.tag != "html" or model is None:
        raise InvalidXForm(file=what, reason="not_xform")
    primary = next((i for i in model.findall("instance") if "id" not in i.attrib), None)
    root = next(iter(primary), None) if primary is not None else None
    if root is None:
        raise InvalidXForm(file=what, reason="not_xform")
    form_id = (root.get("id") or "").strip()
    if not form_id:
        raise InvalidXForm(file=what, reason="no_form_id", root=_local(root.tag))
    version = read_version(root)
    if len(version) > MAX_VERSION_LENGTH:
        raise InvalidXForm(
            file=what, reason="version_too_long", length=len(version), limit=MAX_VERSION_LENGTH
        )
    title_el = head.find("title")
    translations, default_language = _read_itext(model)
    reader = _SchemaReader(model, html.find("body"), translations, default_language)
    submission = model.find("submission")
    return FormSchema(
        form_id=form_id,
        version=version,
        title=(title_el.text or "").strip() if title_el is not None else "",
        root=_local(root.tag),
        is_encrypted=submission is not None and bool(submission.get("base64RsaPublicKey")),
        languages=list(translations),
        default_language=default_language,
        fields=reader.read(root),
        media=_media_references(html),
    )


def read_version(root: Element) -> str:
    """Read a form version the way JavaRosa does.

    JavaRosa asks kXML for the root's ``version`` attribute with no namespace, which kXML
    answers with the first attribute whose *local* name is ``version``, whatever its
    namespace: ``orx:version="3"`` is version 3. No such attribute is the empty version, as in
    ODK Central.

    :param root: the primary instance's root element.
    :return: the version, stripped; "" when there is none.
    """
    for name, value in root.attrib.items():  # ElementTree keeps document order
        if _local(name) == "version":
            return value.strip()
    return ""


def _without_namespaces(html: Element) -> Element:
    """Drop element namespaces: JavaRosa matches XForm elements by local name only.

    Forms without the XForms default namespace (``<model>`` in no namespace) open in Collect,
    so they must be read here too. Attribute namespaces (``jr:template``) are kept.
    """
    for element in html.iter():
        if isinstance(element.tag, str) and element.tag.startswith("{"):
            element.tag = _local(element.tag)
    return html


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(element: Element) -> str:
    """Text of an element with <output value="…"/> shown as ${…} placeholders."""
    parts = [element.text or ""]
    for child in element:
        if _local(child.tag) == "output":
            parts.append("${" + (child.get("value") or "").rsplit("/", 1)[-1].strip() + "}")
        parts.append(child.tail or "")
    return "".join(parts).strip()


def _read_itext(model: Element) -> tuple[dict[str, dict[str, str]], str | None]:
    translations: dict[str, dict[str, str]] = {}
    default = None
    itext = model.find("itext")
    for translation in itext.findall("translation") if itext is not None else []:
        lang = translation.get("lang", "")
        if translation.get("default"):
            default = lang
        texts = translations.setdefault(lang, {})
        for text in translation.findall("text"):
            for value in text.findall("value"):
                if value.get("form") in (None, "long"):
                    texts[text.get("id", "")] = _text(value)
    return translations, default


def _media_references(html: Element) -> list[dict[str, str]]:
    found: dict[str, str] = {}
    for element in html.iter():
        candidates = [element.get("src") or "", (element.text or "").strip()]
        for value in candidates:
            match = _MEDIA_URL.match(value)
            if match:
                found.setdefault(match.group(2), match.group(1))
        if element.tag == "input" and element.get("query") is not None:
            found.setdefault(EXTERNAL_ITEMSETS, "file-csv")
    return [{"filename": name, "type": kind} for name, kind in sorted(found.items())]


class _SchemaReader:
    """Walks the primary instance in document order, joining binds and body controls."""

    def __init__(
        self,
        model: Element,
        body: Element | None,
        translations: dict[str, dict[str, str]],
        default_language: str | None,
    ):
        self.translations = translations
        self.default_language = default_language
        self.binds = {b.get("nodeset"): b for b in model.findall("bind")}
        self.instances = {i.get("id"): i for i in model.findall("instance") if i.get("id")}
        self.controls: dict[str, Element] = {}
        self.repeats: set[str] = set()
        for element in body.iter() if body is not None else []:
            tag = _local(element.tag)
            if tag == "repeat" and element.get("nodeset"):
                self.repeats.add(element.get("nodeset"))
            elif element.get("ref") and tag not in {"label", "hint", "value", "output"}:
                self.controls.setdefault(element.get("ref"), element)

    def read(self, root: Element) -> list[Field]:
        fields: list[Field] = []
        self._walk(root, f"/{_local(root.tag)}", None, fields, set())
        return fields

    def _walk(
        self, node: Element, path: str, repeat: str | None, out: list[Field], seen: set[str]
    ) -> None:
        for child in node:
            child_path = f"{path}/{_local(child.tag)}"
            if child_path in seen:  # the jr:template copy and the first instance of a repeat
                continue
            seen.add(child_path)
            is_repeat = child_path in self.repeats or f"{JR}template" in child.attrib
            if is_repeat or len(child):
                out.append(self._container(child, child_path, repeat, is_repeat))
                self._walk(child, child_path, child_path if is_repeat else repeat, out, seen)
            else:
                out.append(self._leaf(child, child_path, repeat))

    def _container(self, node: Element, path: str, repeat: str | None, is_repeat: bool) -> Field:
        control = self.controls.get(path)
        bind = self.binds.get(path)
        return Field(
            name=_local(node.tag),
            path=path,
            kind="repeat" if is_repeat else "group",
            repeat=repeat,
            labels=self._labels(control),
            relevant=bind.get("relevant") if bind is not None else None,
            appearance=control.get("appearance") if control is not None else None,
        )

    def _leaf(self, node: Element, path: str, repeat: str | None) -> Field:
        bind = self.binds.get(path)
        control = self.controls.get(path)
        attrs = bind.attrib if bind is not None else {}
        result = Field(
            name=_local(node.tag),
            path=path,
            kind="",
            type=attrs.get("type", "string"),
            repeat=repeat,
            labels=self._labels(control),
            relevant=attrs.get("relevant"),
            required=attrs.get("required", "").strip() == "true()",
            calculate=attrs.get("calculate"),
            appearance=control.get("appearance") if control is not None else None,
        )
        result.kind = self._kind(result, control, attrs)
        if control is not None and result.kind in {"select_one", "select_multiple", "rank"}:
            self._choices(result, control)
        return result

    def _kind(self, result: Field, control: Element | None, attrs: dict[str, str]) -> str:
        if control is None:
            if f"{JR}preload" in attrs or "/meta/" in result.path:
                return "meta"
            return "calculate" if result.calculate is not None else "hidden"
        tag = _local(control.tag)
        if tag in _CONTROL_KINDS:
            return _CONTROL_KINDS[tag]
        if tag == "upload":
            media = (control.get("mediatype") or "").split("/", 1)[0]
            return media if media in {"image", "audio", "video"} else "file"
        if result.type in _INPUT_KINDS:
            return _INPUT_KINDS[result.type]
        if attrs.get("readonly", "").strip() == "true()" and result.calculate is None:
            return "note"
        return "text"

    def _labels(self, control: Element | None) -> dict[str, str]:
        label = control.find("label") if control is not None else None
        return self._label_of(label)

    def _label_of(self, label: Element | None) -> dict[str, str]:
        if label is None:
            return {}
        ref = _ITEXT_REF.search(label.get("ref") or "")
        if ref:
            return {
                lang: texts[ref.group(1)]
                for lang, texts in self.translations.items()
                if ref.group(1) in texts
            }
        text = _text(label)
        return {self.default_language or "default": text} if text else {}

    def _choices(self, result: Field, control: Element) -> None:
        items = control.findall("item")
        if items:
            result.choices = [
                {
                    "name": (item.findtext("value") or "").strip(),
                    "labels": self._label_of(item.find("label")),
                }
                for item in items
            ]
            return
        itemset = control.find("itemset")
        match = _INSTANCE_REF.search(itemset.get("nodeset", "")) if itemset is not None else None
        if not match:
            return
        result.choice_list = match.group(1)
        instance = self.instances.get(result.choice_list)
        if instance is None:
            return
        src = _MEDIA_URL.match(instance.get("src") or "")
        if src:
            result.choice_file = src.group(2)
            return
        result.choices = [self._instance_item(item) for item in instance.iter("item")]

    def _instance_item(self, item: Element) -> dict[str, Any]:
        itext_id = (item.findtext("itextId") or "").strip()
        if itext_id:
            labels = {
                lang: texts[itext_id]
                for lang, texts in self.translations.items()
                if itext_id in texts
            }
        else:
            label = (item.findtext("label") or "").strip()
            labels = {self.default_language or "default": label} if label else {}
        return {"name": (item.findtext("name") or "").strip(), "labels": labels}
