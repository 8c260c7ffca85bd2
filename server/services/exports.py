"""Build export tables of a form's submissions: one main table, one table per repeat group.

Columns are the union of every published version's fields in form order (a field that a
version lacks is simply empty in its rows), then metadata. select_multiple questions get their
space-separated value and one 0/1 column per choice. Repeats become their own tables keyed to
their parent row the way ODK Central and KoBo do it (``KEY`` = parent key + ``/name[i]``,
``PARENT_KEY``). Only current versions of submissions are exported (an edit replaces its
original), deleted ones never.

Rows are read from the database in batches and produced lazily; every table is its own pass,
so memory stays flat whatever the number of submissions.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exports import Column, Table, unique_keys
from server.errors import DecryptionFailed
from server.models import Device, Form, FormVersion, SubmissionAttachment, User
from server.services.decryption import SubmissionDecryptor
from server.services.submission_queries import SubmissionFilters, submission_query

logger = logging.getLogger(__name__)

_SKIPPED_KINDS = {"group", "repeat", "note"}
#: Nodes pyxform adds for table-list layouts; they never hold answers.
_GENERATED_PREFIXES = ("generated_table_list_label_", "reserved_name_for_field_list_labels_")
_COLUMN_KINDS = {"integer": "integer", "decimal": "decimal", "date": "date"}
_LANGUAGE_TAGS = {"vi": "(vi)", "en": "(en)"}
BATCH = 2000

META_COLUMNS = (
    Column("instance_id", "instanceID"),
    Column("version", "version"),
    Column("submitted_by", "submitted_by"),
    Column("device_id", "device_id"),
    Column("received_at", "received_at", "datetime"),
    Column("submitted_at", "submitted_at", "datetime"),
    Column("review_state", "review_state"),
)


@dataclass
class Export:
    """What an export consists of: its tables, where its media are, and any warnings."""

    form_id: str
    tables: list[Table]
    media: list[tuple[str, Path]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Leaf:
    path: tuple[str, ...]
    header: str
    kind: str
    select_multiple: bool
    choices: tuple[tuple[str, dict[str, str]], ...]


def union_fields(versions: Sequence[FormVersion]) -> list[dict[str, Any]]:
    """Every field of every version, in form order; the newest definition of each wins.

    A field new in a later version is placed right after the field that precedes it there.

    :param versions: the form's versions, oldest first.
    :return: field dicts (as stored in the version schemas).
    """
    order: list[str] = []
    latest: dict[str, dict[str, Any]] = {}
    for version in versions:
        previous = None
        for spec in version.schema["fields"]:
            path = spec["path"]
            if path not in latest:
                at = order.index(previous) + 1 if previous in order else len(order)
                order.insert(at, path)
            old_choices = (latest.get(path) or {}).get("choices") or []
            merged = dict(spec)
            if spec.get("choices") is not None:
                names = {c["name"] for c in spec["choices"]}
                merged["choices"] = spec["choices"] + [
                    c for c in old_choices if c["name"] not in names
                ]
            latest[path] = merged
            previous = path
    return [latest[p] for p in order]


def _language_key(versions: Sequence[FormVersion], lang: str) -> str | None:
    tag = _LANGUAGE_TAGS.get(lang)
    if tag is None:
        return None
    languages = versions[-1].schema.get("languages") or []
    return next((name for name in languages if tag in name), None)


def _leaves(fields: list[dict[str, Any]], repeat: str | None, root: str) -> list[_Leaf]:
    prefix = repeat or root
    leaves = []
    for spec in fields:
        if spec.get("repeat") != repeat or spec["kind"] in _SKIPPED_KINDS:
            continue
        if spec["name"].startswith(_GENERATED_PREFIXES) or spec["path"] in (
            f"{root}/meta/instanceID",
            f"{root}/meta/deprecatedID",
        ):
            continue  # layout nodes, and ids that the metadata columns already carry
        relative = spec["path"][len(prefix) + 1 :]
        kind = _COLUMN_KINDS.get(spec["kind"]) or (
            "datetime" if spec.get("type") == "dateTime" else "text"
        )
        choices = tuple((c["name"], c.get("labels") or {}) for c in spec.get("choices") or [])
        leaves.append(
            _Leaf(
                tuple(relative.split("/")),
                spec["path"][len(root) + 1 :],
                kind,
                spec["kind"] == "select_multiple",
                choices,
            )
        )
    return leaves


def _columns(leaves: list[_Leaf]) -> list[Column]:
    columns = []
    for leaf in leaves:
        columns.append(Column(leaf.header, leaf.header, leaf.kind))
        if leaf.select_multiple:
            columns.extend(
                Column(f"{leaf.header}/{name}", f"{leaf.header}/{name}", "integer")
                for name, _ in leaf.choices
            )
    keys = unique_keys(c.key for c in columns)
    return [Column(k, c.header, c.kind) for k, c in zip(keys, columns, strict=True)]


def _dig(data: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _typed(value: Any, kind: str) -> Any:
    if not isinstance(value, str) or kind not in ("date", "datetime"):
        return value
    try:
        if kind == "date":
            return dt.date.fromisoformat(value[:10])
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return value


def _values(data: dict, leaves: list[_Leaf], language: str | None) -> list[Any]:
    row: list[Any] = []
    append = row.append
    for leaf in leaves:
        value = data
        for part in leaf.path:  # _dig, inlined: this runs for every cell of every row
            if value.__class__ is not dict and not isinstance(value, dict):
                value = None
                break
            value = value.get(part)
        if value.__class__ is str and leaf.kind in ("date", "datetime"):
            value = _typed(value, leaf.kind)
        if leaf.select_multiple:
            picked = value if isinstance(value, list) else ([] if value is None else [value])
            shown = picked
            if language:
                labels = dict(leaf.choices)
                shown = [labels.get(v, {}).get(language, v) for v in picked]
            append(" ".join(shown) if picked else None)
            if value is None:
                row.extend([None] * len(leaf.choices))
            else:
                row.extend([1 if name in picked else 0 for name, _ in leaf.choices])
            continue
        if language and leaf.choices and isinstance(value, str):
            value = dict(leaf.choices).get(value, {}).get(language, value)
        append(value)
    return row


class _Reader:
    """Streams the current, matching submissions of a form with what the columns need."""

    def __init__(self, session: Session, form: Form, filters: SubmissionFilters,
                 decryptor: SubmissionDecryptor | None = None):  # fmt: skip
        self.session, self.form, self.filters = session, form, filters
        self.decryptor = decryptor
        self.versions = {v.id: v.version for v in form.versions}
        self.users = dict(session.execute(sa.select(User.id, User.username)).all())
        self.devices = {i: f"device:{i}" for i in session.execute(sa.select(Device.id)).scalars()}

    def rows(self) -> Iterator[tuple[Any, ...]]:
        base = submission_query(self.session, self.form, self.filters).subquery()
        columns = [base.c.id, base.c.instance_id, base.c.data, base.c.form_version_id,
                   base.c.submitter_user_id, base.c.submitter_device_id, base.c.device_id,
                   base.c.received_at, base.c.submitted_at, base.c.review_state,
                   base.c.is_encrypted]  # fmt: skip
        if self.decryptor is not None:
            columns.append(base.c.xml)  # the envelope, only when it can be opened
        query = (
            sa.select(*columns)
            .order_by(base.c.received_at, base.c.id)
            .execution_options(yield_per=BATCH)
        )
        yield from self.session.execute(query)

    def data(self, row) -> dict[str, Any]:
        """The row's answers, decrypted first when the row is encrypted and a key was given."""
        if row.is_encrypted and self.decryptor is not None:
            return self.decryptor.data(row.id, row.form_version_id, row.xml)
        return row.data or {}

    def meta(self, row) -> list[Any]:
        who = self.users.get(row.submitter_user_id) or self.devices.get(row.submitter_device_id)
        received = _aware(row.received_at)
        submitted = _aware(row.submitted_at) if row.submitted_at else None
        return [
            row.instance_id,
            self.versions.get(row.form_version_id),
            who,
            row.device_id,
            received,
            submitted,
            row.review_state,
        ]


def _aware(value: dt.datetime) -> dt.datetime:
    # Rows read through a subquery bypass the model's UTC type on SQLite: tag them again.
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def require_plaintext(form: Form) -> None:
    """Refuse to export an encrypted form without its private key.

    :raises DecryptionFailed: when any version of the form encrypts its submissions.
    """
    if any(v.is_encrypted for v in form.versions):
        raise DecryptionFailed(
            f"form '{form.form_id}' is encrypted: its submissions can only be exported with "
            "the private key (flask --app wsgi export … --private-key KEY.pem)",
            message_vi="Biểu mẫu được mã hóa: cần khóa riêng để xuất dữ liệu.",
            form_id=form.form_id,
        )


def build_export(session: Session, form: Form, filters: SubmissionFilters, *,
                 lang: str = "codes", storage_dir: str | None = None,
                 decryptor: SubmissionDecryptor | None = None) -> Export:  # fmt: skip
    """Plan the export of a form's submissions.

    :param session: the database session (used lazily while the tables are written).
    :param form: the form.
    :param filters: which submissions.
    :param lang: "codes", or "vi"/"en" for choice labels in that language.
    :param storage_dir: the attachment store, to list media (ZIP exports); None = no media.
    :param decryptor: opens encrypted submissions; without it an encrypted form is refused.
    :return: the tables (main first, then one per repeat) and media.
    """
    versions = list(form.versions)
    root = "/" + versions[-1].schema["root"]
    fields = union_fields(versions)
    export = Export(form_id=form.form_id, tables=[])
    language = _language_key(versions, lang)
    if lang != "codes" and language is None:
        export.warnings.append(
            f"form '{form.form_id}' has no {lang} labels; choice codes are exported instead"
        )
    if decryptor is None:
        require_plaintext(form)
    else:
        decryptor.check(form)
    reader = _Reader(session, form, filters, decryptor)

    leaves = _leaves(fields, None, root)

    def main_rows() -> Iterator[list[Any]]:
        for row in reader.rows():
            yield [*_values(reader.data(row), leaves, language), *reader.meta(row)]

    main_columns = [*_columns(leaves), *META_COLUMNS]
    keys = unique_keys(c.key for c in main_columns)
    export.tables.append(Table(form.form_id, [Column(k, c.header, c.kind) for k, c in
                                              zip(keys, main_columns, strict=True)],
                               main_rows()))  # fmt: skip
    for spec in fields:
        if spec["kind"] == "repeat":
            export.tables.append(_repeat_table(form, spec, fields, root, reader, language))
    if storage_dir is not None:
        export.media = _media(session, form, filters, Path(storage_dir))
        if decryptor is not None:
            export.media = [m for m in export.media if not m[0].endswith(".enc")]
            export.media += _decrypted_media(reader)
    return export


def _repeat_table(form: Form, repeat: dict, fields: list, root: str, reader: _Reader,
                  language: str | None) -> Table:  # fmt: skip
    leaves = _leaves(fields, repeat["path"], root)
    chain = _repeat_chain(repeat, fields)

    def rows() -> Iterator[list[Any]]:
        for row in reader.rows():
            for parent_key, key, item in _instances(reader.data(row), row.instance_id, chain,
                                                    root):  # fmt: skip
                yield [parent_key, key, *_values(item, leaves, language)]

    columns = [Column("PARENT_KEY", "PARENT_KEY"), Column("KEY", "KEY"), *_columns(leaves)]
    name = f"{form.form_id}-{repeat['path'][len(root) + 1 :].replace('/', '-')}"
    return Table(name, columns, rows())


def _repeat_chain(repeat: dict, fields: list) -> list[dict]:
    """The repeats from the outermost down to ``repeat``."""
    by_path = {f["path"]: f for f in fields}
    chain = [repeat]
    while chain[0].get("repeat"):
        chain.insert(0, by_path[chain[0]["repeat"]])
    return chain


def _instances(data: dict, instance_id: str, chain: list[dict], root: str
               ) -> Iterator[tuple[str, str, dict]]:  # fmt: skip
    """Walk down nested repeats, yielding (PARENT_KEY, KEY, item) of the innermost one."""
    level = [(instance_id, data)]
    start = root
    for depth, repeat in enumerate(chain):
        relative = tuple(repeat["path"][len(start) + 1 :].split("/"))
        next_level = []
        for parent_key, container in level:
            items = _dig(container, relative)
            for i, item in enumerate(items if isinstance(items, list) else [], start=1):
                key = f"{parent_key}/{repeat['name']}[{i}]"
                if depth == len(chain) - 1:
                    yield parent_key, key, item if isinstance(item, dict) else {}
                else:
                    next_level.append((key, item if isinstance(item, dict) else {}))
        level, start = next_level, repeat["path"]


def _decrypted_media(reader: _Reader) -> list:
    """Decrypted media of the encrypted submissions, as (name, function giving the bytes)."""
    media = []
    for row in reader.rows():
        if row.is_encrypted:
            media.extend(reader.decryptor.media(row.id, row.xml))
    return media


def _media(session: Session, form: Form, filters: SubmissionFilters,
           storage: Path) -> list[tuple[str, Path]]:  # fmt: skip
    """Attachments of the exported submissions, as media/ names with their files."""
    base = submission_query(session, form, filters).subquery()
    query = (
        sa.select(SubmissionAttachment.name, SubmissionAttachment.sha256, base.c.instance_id)
        .join(base, base.c.id == SubmissionAttachment.submission_id)
        .where(SubmissionAttachment.sha256.is_not(None))
        .order_by(base.c.received_at, base.c.id, SubmissionAttachment.name)
    )
    chosen: dict[str, str] = {}  # name inside media/ -> sha256
    for name, sha256, instance_id in session.execute(query):
        target = name
        if chosen.get(target, sha256) != sha256:  # same name, other content: keep both
            target = f"{instance_id.replace(':', '-').replace('/', '-')}/{name}"
        chosen.setdefault(target, sha256)
    return [(target, storage / sha[:2] / sha) for target, sha in chosen.items()]
