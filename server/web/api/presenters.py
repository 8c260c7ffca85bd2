"""Turn model rows into the plain data the response schemas dump."""

from __future__ import annotations

from collections.abc import Iterable

import orjson
from flask import url_for

from server.extensions import db
from server.models import AuditEvent, Form, FormVersion, Submission, User
from server.services.submission_queries import ITEM_AT, ITEM_DATA_AT, ITEM_SHOWN_AT, LISTED, SHOWN

#: An item's fields: the first columns of a listed row.
ITEM_FIELDS = LISTED[:SHOWN]


def version_data(version: FormVersion, *, with_fields: bool = False) -> dict:
    """A form version as :class:`VersionSchema` / :class:`VersionDetailSchema` data."""
    data = {
        "version": version.version, "title": version.title, "md5": version.md5,
        "published_at": version.published_at, "source_filename": version.source_filename,
        "is_encrypted": version.is_encrypted, "warnings": version.warnings,
    }  # fmt: skip
    if with_fields:
        data["fields_"] = version.schema["fields"]
        data["media"] = version.schema["media"]
    return data


def form_data(form: Form, counts: dict[int, int], *, detail: bool = False) -> dict:
    """A form as :class:`FormSchema` / :class:`FormDetailSchema` data."""
    current = form.versions[-1]
    data = {
        "form_id": form.form_id, "title": form.title, "state": form.state,
        "current_version": current.version, "versions": len(form.versions),
        "submissions": counts.get(form.id, 0),
    }  # fmt: skip
    if detail:
        data["version_list"] = [version_data(v) for v in reversed(form.versions)]
        data["fields_"] = current.schema["fields"]
    return data


def submitter(row: Submission) -> str | None:
    """Who sent it: a user name or ``device:<id>``."""
    if row.submitter_user_id is not None:
        user = db.session.get(User, row.submitter_user_id)
        return user.username if user else None
    return f"device:{row.submitter_device_id}" if row.submitter_device_id else None


def submission_data(row: Submission) -> dict:
    """A submission as :class:`SubmissionSchema` data."""
    return {
        "id": row.id, "form_id": row.form.form_id, "version": row.form_version.version,
        "instance_id": row.instance_id, "instance_name": row.instance_name,
        "review_state": row.review_state, "received_at": row.received_at,
        "submitted_at": row.submitted_at, "submitter": submitter(row),
        "device_id": row.device_id, "unit_code": row.unit_code,
        "is_encrypted": row.is_encrypted, "is_deleted": row.deleted_at is not None,
        "attachments_expected": len(row.attachments),
        "attachments_present": sum(1 for a in row.attachments if a.sha256),
    }  # fmt: skip


def listed_items(rows: Iterable, *, with_data: bool = False) -> list:
    """Rows of an API page as :class:`SubmissionSchema` items (plus ``data`` when asked).

    The listing's hot path. A row's item is the JSON text PostgreSQL wrote for it
    (``submissions.listed_item``, migration 0026), handed on as an :class:`orjson.Fragment`
    of the bytes PostgreSQL sent (text, on a page read again with its columns); with
    ``data`` the stored answers' text goes inside it. A row without that text (any row on
    SQLite) has its shown columns in the item's order (``submission_queries.ITEM_AT``):
    zipped with their names, no marshmallow dump (it cost more than the query).

    :param rows: rows of ``submission_queries.list_submissions(..., as_items=True)``.
    :param with_data: add each row's ``data``.
    :return: the items, fragments or dicts, ready for ``orjson.dumps``.
    """
    fragment = orjson.Fragment
    if not with_data:
        return [
            dict(zip(ITEM_FIELDS, row[ITEM_SHOWN_AT:], strict=True)) if row[ITEM_AT] is None
            else fragment(row[ITEM_AT])
            for row in rows
        ]  # fmt: skip
    items = []
    for row in rows:
        text, data = row[ITEM_AT], row[ITEM_DATA_AT]
        if text is None:
            item = dict(zip(ITEM_FIELDS, row[ITEM_SHOWN_AT:], strict=True))
            item["data"] = fragment(data)
        elif text.__class__ is bytes:  # the text ends with the object's brace
            item = fragment(b"".join((text[:-1], b',"data":', data, b"}")))
        else:  # a page read again with its columns (a row had no item) has text
            item = fragment(f'{text[:-1]},"data":{data}}}')
        items.append(item)
    return items


def submission_detail(row: Submission, versions: list[Submission]) -> dict:
    """A submission as :class:`SubmissionDetailSchema` data."""
    data = submission_data(row)
    data["data"] = row.data
    data["xml"] = row.xml.decode("utf-8", errors="replace")
    data["attachments"] = [
        {"name": a.name, "present": a.sha256 is not None, "size": a.size, "sha256": a.sha256,
         "content_type": a.content_type,
         "url": url_for("api.attachment", submission_id=row.id, name=a.name, _external=True)
         if a.sha256 else None}
        for a in row.attachments
    ]  # fmt: skip
    reviewer = None
    if row.reviewed_by_user_id is not None:
        reviewer = db.session.get(User, row.reviewed_by_user_id).username
    data["review"] = {"review_state": row.review_state, "comment": row.review_comment,
                      "reviewed_by": reviewer, "reviewed_at": row.reviewed_at}  # fmt: skip
    data["history"] = [submission_data(v) for v in versions]
    return data


def audit_data(event: AuditEvent) -> dict:
    """An audit event as :class:`AuditEventSchema` data."""
    return {
        "id": event.id, "at": event.at, "actor": event.actor.username if event.actor else None,
        "action": event.action, "target_type": event.target_type,
        "target_id": event.target_id, "details": event.details,
    }  # fmt: skip
