"""Dropping an item from a key after review, or restoring it: a key change that re-scores.

Item analysis (spec §3.5) flags items that are probably mis-keyed or ambiguous. The remedy of
§3.1/§3.10 is to drop the item: it leaves the numerator **and** the maximum of every attempt of
that form version, every score is recomputed, and an audit row says who did it, when and why,
so the report can print "rescored on <date>". Restoring the item undoes it the same way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.errors import InvalidAnswerKey, InvalidRequest
from server.models import AnswerKey, AnswerKeyChange, Form, FormVersion, User
from server.services.scoring import rebuild

_STATUS = {"dropped": "dropped", "restored": "active"}


@dataclass
class KeyChangeResult:
    """What a drop or restore did."""

    form_id: str
    version: str
    item: str
    change: str
    rescored: int
    changed_at: dt.datetime


def change_item(
    session: Session,
    form: Form,
    item: str,
    *,
    change: str,
    reason: str,
    user: User | None,
    now: dt.datetime,
    version: str | None = None,
) -> KeyChangeResult:
    """Drop (or restore) one keyed item of a test form version and re-score (flushes).

    :param form: the test form.
    :param item: the item's name (``q07``).
    :param change: ``dropped`` or ``restored``.
    :param reason: why, in the reviewer's words (required: it is the audit trail).
    :param user: who decided (None from the CLI without a user).
    :param now: the time of the change.
    :param version: the keyed version (default: the newest keyed one).
    :raises InvalidRequest: no reason, or an unknown change.
    :raises InvalidAnswerKey: the version has no key, or the item is not keyed, or the change
        would leave no active item, or changes nothing.
    """
    if change not in _STATUS:
        raise InvalidRequest(reason="change", field="change", choices=sorted(_STATUS))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidRequest(reason="reason_required", field="reason")
    target = _keyed_version(session, form, version)
    keys = {
        k.item: k
        for k in session.execute(
            sa.select(AnswerKey).where(AnswerKey.form_version_id == target.id)
        ).scalars()
    }
    key = keys.get(item)
    if key is None:
        raise InvalidAnswerKey(
            reason="item_not_in_key",
            item=item,
            form_id=form.form_id,
            version=target.version,
            rows=[],
        )
    status = _STATUS[change]
    if key.status == status:
        raise InvalidAnswerKey(reason="item_unchanged", item=item, status=key.status, rows=[])
    if status == "dropped" and not any(
        k.status == "active" for k in keys.values() if k.item != item
    ):
        raise InvalidAnswerKey(reason="last_item", rows=[])
    key.status = status
    session.flush()
    rescored = rebuild(session, version_id=target.id, now=now)
    session.add(
        AnswerKeyChange(
            form_version_id=target.id,
            item=item,
            change=change,
            reason=reason[:2000],
            user_id=user.id if user is not None else None,
            rescored=rescored,
            changed_at=now,
        )
    )
    session.flush()
    return KeyChangeResult(form.form_id, target.version, item, change, rescored, now)


def _keyed_version(session: Session, form: Form, version: str | None) -> FormVersion:
    query = (
        sa.select(FormVersion)
        .where(FormVersion.form_pk == form.id)
        .where(sa.exists().where(AnswerKey.form_version_id == FormVersion.id))
    )
    if version is not None:
        query = query.where(FormVersion.version == version)
    found = session.execute(query.order_by(FormVersion.id.desc()).limit(1)).scalar_one_or_none()
    if found is None:
        raise InvalidAnswerKey(
            reason="version_not_keyed" if version else "no_key",
            form_id=form.form_id,
            version=version,
            rows=[],
        )
    return found


def key_changes(session: Session, version_ids) -> list[AnswerKeyChange]:
    """The audit rows of some versions, oldest first (the report's "rescored on" lines)."""
    return list(
        session.execute(
            sa.select(AnswerKeyChange)
            .where(AnswerKeyChange.form_version_id.in_(list(version_ids)))
            .order_by(AnswerKeyChange.changed_at, AnswerKeyChange.id)
        ).scalars()
    )
