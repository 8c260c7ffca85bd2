"""Build export tables of a form's submissions: one main table, one table per repeat group.

Columns are the union of every published version's fields in form order (a field that a
version lacks is simply empty in its rows), then the server's scores (test forms: those with an
answer key), then metadata. select_multiple questions get their value (codes space-separated as
ODK stores them; labels joined by "; ", since labels contain spaces) and one 0/1 column per
choice. With labels, a question picked from a list file gets a ``<name>_label`` column beside
its code (services/list_labels). Dates are dates and times are on the export clock, named in
their headers (``submitted_at (UTC+07:00)``), the same in every format.

Repeats become their own tables keyed to their parent row the way ODK Central and KoBo do it
(``KEY`` = parent key + ``/name[i]``, ``PARENT_KEY``). Only current versions of submissions are
exported (an edit replaces its original), deleted ones never.

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

from exports import CLOCK, Column, Table, clock_header, unique_keys
from server.errors import DecryptionFailed
from server.models import (
    AnswerKey,
    Device,
    ExamScore,
    Form,
    FormVersion,
    SubmissionAttachment,
    User,
)
from server.services.decryption import SubmissionDecryptor
from server.services.list_labels import ListLabels, load_list_labels
from server.services.submission_queries import SubmissionFilters, submission_query

logger = logging.getLogger(__name__)

_SKIPPED_KINDS = {"group", "repeat", "note"}
#: Nodes pyxform adds for table-list layouts; they never hold answers.
_GENERATED_PREFIXES = ("generated_table_list_label_", "reserved_name_for_field_list_labels_")
_COLUMN_KINDS = {"integer": "integer", "decimal": "decimal"}
#: By XForms bind type, whatever the question kind: ``today`` is metadata but still a date.
_TYPE_KINDS = {"date": "date", "dateTime": "datetime"}
_LANGUAGE_TAGS = {"vi": "(vi)", "en": "(en)"}
_SELECTS = ("select_one", "select_multiple")
BATCH = 2000

#: The server's marks of a test submission (test_scores), for forms with an answer key.
SCORE_COLUMNS = (
    Column("score_raw", "score_raw", "decimal"),
    Column("score_max", "score_max", "decimal"),
    Column("score_percent", "score_percent", "decimal"),
    Column("score_passed", "score_passed", "integer"),
    Column("score_key_version", "score_key_version"),
)
META_COLUMNS = (
    Column("instance_id", "instanceID"),
    Column("version", "version"),
    Column("submitted_by", "submitted_by"),
    Column("device_id", "device_id"),
    Column("received_at", clock_header("received_at"), "datetime"),
    Column("submitted_at", clock_header("submitted_at"), "datetime"),
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
    #: The list file the question picks from (``courses.csv``), or None.
    choice_file: str | None = None


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
        kind = _COLUMN_KINDS.get(spec["kind"]) or _TYPE_KINDS.get(spec.get("type"), "text")
        choices = tuple((c["name"], c.get("labels") or {}) for c in spec.get("choices") or [])
        leaves.append(
            _Leaf(
                tuple(relative.split("/")),
                spec["path"][len(root) + 1 :],
                kind,
                spec["kind"] == "select_multiple",
                choices,
                spec.get("choice_file") if spec["kind"] in _SELECTS else None,
            )
        )
    return leaves


def _columns(leaves: list[_Leaf], labelled: bool) -> list[Column]:
    columns = []
    for leaf in leaves:
        header = clock_header(leaf.header) if leaf.kind == "datetime" else leaf.header
        columns.append(Column(leaf.header, header, leaf.kind))
        if labelled and leaf.choice_file:
            columns.append(Column(f"{leaf.header}_label", f"{leaf.header}_label"))
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


def _values(data: dict, leaves: list[_Leaf], language: str | None,
            labels: ListLabels | None = None, on: dt.date | None = None) -> list[Any]:  # fmt: skip
    """One row's cells; ``labels`` (with the row's day ``on``) adds the list-file labels."""
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
        labelled = labels is not None and leaf.choice_file is not None
        if leaf.select_multiple:
            picked = value if isinstance(value, list) else ([] if value is None else [value])
            shown = picked
            if language:
                names = dict(leaf.choices)
                shown = [names.get(v, {}).get(language, v) for v in picked]
            append(("; " if language else " ").join(str(v) for v in shown) if picked else None)
            if labelled:
                append(_picked_labels(labels, leaf.choice_file, picked, on))
            if value is None:
                row.extend([None] * len(leaf.choices))
            else:
                row.extend([1 if name in picked else 0 for name, _ in leaf.choices])
            continue
        if language and leaf.choices and isinstance(value, str):
            value = dict(leaf.choices).get(value, {}).get(language, value)
        append(value)
        if labelled:
            append(_picked_labels(labels, leaf.choice_file, value, on))
    return row


def _picked_labels(labels: ListLabels, file: str, value: Any, on: dt.date) -> str | None:
    """The name of a picked code (None if unknown), or the names of several joined by "; "."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, list):
        return "; ".join(labels.label(file, str(v), on) or str(v) for v in value)
    return labels.label(file, str(value), on)


class _Reader:
    """Streams the current, matching submissions of a form with what the columns need."""

    def __init__(self, session: Session, form: Form, filters: SubmissionFilters,
                 decryptor: SubmissionDecryptor | None = None, *,
                 scored: bool = False):  # fmt: skip
        self.session, self.form, self.filters = session, form, filters
        self.decryptor, self.scored = decryptor, scored
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
        query = sa.select(*columns)
        if self.scored:  # joined into the same pass: no query per row, still streamed
            query = query.add_columns(
                ExamScore.raw, ExamScore.maximum, ExamScore.percent, ExamScore.passed
            ).outerjoin(ExamScore, ExamScore.submission_id == base.c.id)
        query = query.order_by(base.c.received_at, base.c.id).execution_options(yield_per=BATCH)
        yield from self.session.execute(query)

    def scores(self, row) -> list[Any]:
        """The server's marks (empty for a submission that was not scored)."""
        if row.maximum is None:
            return [None] * len(SCORE_COLUMNS)
        passed = None if row.passed is None else int(row.passed)
        return [row.raw, row.maximum, round(row.percent, 2), passed,
                self.versions.get(row.form_version_id)]  # fmt: skip

    @staticmethod
    def day(row) -> dt.date:
        """The submission's day on the export clock (finished on the device, else received)."""
        return _aware(row.submitted_at or row.received_at).astimezone(CLOCK).date()

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
        raise DecryptionFailed(reason="key_required", form_id=form.form_id)


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
    scored = session.scalar(
        sa.select(sa.exists().where(AnswerKey.form_version_id.in_([v.id for v in versions])))
    )
    reader = _Reader(session, form, filters, decryptor, scored=bool(scored))
    labels = None
    if language is not None:  # labels are for people reading; codes stay as the form has them
        files = {f["choice_file"] for f in fields if f["kind"] in _SELECTS and f.get("choice_file")}
        labels = load_list_labels(session, form, files, language) if files else None

    leaves = _leaves(fields, None, root)
    scores = reader.scores if scored else lambda _row: []

    def main_rows() -> Iterator[list[Any]]:
        for row in reader.rows():
            on = reader.day(row) if labels is not None else None
            yield [*_values(reader.data(row), leaves, language, labels, on), *scores(row),
                   *reader.meta(row)]  # fmt: skip

    main_columns = [*_columns(leaves, labels is not None),
                    *(SCORE_COLUMNS if scored else ()), *META_COLUMNS]  # fmt: skip
    keys = unique_keys(c.key for c in main_columns)
    export.tables.append(Table(form.form_id, [Column(k, c.header, c.kind) for k, c in
                                              zip(keys, main_columns, strict=True)],
                               main_rows()))  # fmt: skip
    for spec in fields:
        if spec["kind"] == "repeat":
            export.tables.append(_repeat_table(form, spec, fields, root, reader, language, labels))
    if storage_dir is not None:
        export.media = _media(session, form, filters, Path(storage_dir))
        if decryptor is not None:
            export.media = [m for m in export.media if not m[0].endswith(".enc")]
            export.media += _decrypted_media(reader)
    return export


def _repeat_table(form: Form, repeat: dict, fields: list, root: str, reader: _Reader,
                  language: str | None, labels: ListLabels | None) -> Table:  # fmt: skip
    leaves = _leaves(fields, repeat["path"], root)
    chain = _repeat_chain(repeat, fields)

    def rows() -> Iterator[list[Any]]:
        for row in reader.rows():
            on = reader.day(row) if labels is not None else None
            for parent_key, key, item in _instances(reader.data(row), row.instance_id, chain,
                                                    root):  # fmt: skip
                yield [parent_key, key, *_values(item, leaves, language, labels, on)]

    columns = [Column("PARENT_KEY", "PARENT_KEY"), Column("KEY", "KEY"),
               *_columns(leaves, labels is not None)]  # fmt: skip
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
