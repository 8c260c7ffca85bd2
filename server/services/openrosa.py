"""What the OpenRosa form list, form download and manifest show to a given actor.

A form is listed when it is open, has a published version, and the actor may use it. Closing
and closed forms are hidden from the list (Central); their XML stays downloadable by those
allowed, so a tablet that already has the form keeps working.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.errors import FormNotAssigned, FormNotFound
from server.models import Form, FormMedia, FormVersion
from server.services.accounts import Actor
from server.services.setup_cache import setup_cache


@dataclass(frozen=True)
class ListedForm:
    """One row of the form list: the current version of a form."""

    form_id: str
    title: str
    version: str
    md5: str
    has_media: bool


def _current_version_ids():
    """Subquery: the latest published version id of every form."""
    return (
        sa.select(FormVersion.form_pk, sa.func.max(FormVersion.id).label("version_id"))
        .group_by(FormVersion.form_pk)
        .subquery()
    )


def listed_forms(
    session: Session, actor: Actor, *, form_id: str | None = None
) -> Iterator[ListedForm]:
    """Yield the forms the actor sees in the form list, by title.

    :param session: the database session.
    :param actor: the user or device asking.
    :param form_id: only this form (the ``formID`` query parameter), if given.
    :return: the entries (reads only small columns, never the XML).
    """
    current = _current_version_ids()
    query = (
        sa.select(
            Form.id,
            Form.form_id,
            FormVersion.title,
            FormVersion.version,
            FormVersion.md5,
            FormVersion.schema,
        )
        .join(current, current.c.form_pk == Form.id)
        .join(FormVersion, FormVersion.id == current.c.version_id)
        .where(Form.state == "open")
        .order_by(FormVersion.title, Form.form_id)
    )
    if form_id is not None:
        query = query.where(Form.form_id == form_id)
    allowed = actor.form_pks()
    if allowed is not None:
        query = query.where(Form.id.in_(allowed or [-1]))
    for row in session.execute(query):
        yield ListedForm(
            row.form_id,
            row.title or row.form_id,
            row.version,
            row.md5,
            bool(row.schema.get("media")),
        )


def current_xml(session: Session, actor: Actor, form_id: str) -> tuple[str, bytes]:
    """The md5 and XForm bytes of the form's latest version, from the set-up cache.

    Tablets download a form each time it changes and whenever they are set up again; the
    bytes of a version never change, so they are kept per process (``setup_cache``).

    :raises FormNotFound: no such form (or no version).
    :raises FormNotAssigned: the actor may not use it.
    """
    cache = setup_cache(session)
    form = cache.form(session, form_id)
    if form is None:
        raise FormNotFound(form_id=form_id)
    if not actor.may_use(form):
        raise FormNotAssigned(reason="actor", form_id=form_id, actor=actor.label)
    if not form.versions:
        raise FormNotFound(reason="not_published", form_id=form_id)
    version_id, md5 = max(form.versions.values())
    return md5, cache.form_xml(session, version_id, md5)


def current_version(session: Session, actor: Actor, form_id: str) -> FormVersion:
    """Return the form's latest published version, if the actor may use the form.

    :param session: the database session.
    :param actor: the user or device asking.
    :param form_id: the form's id.
    :return: the version.
    :raises FormNotFound: no such form (or no version).
    :raises FormNotAssigned: the actor may not use it.
    """
    form = session.execute(sa.select(Form).where(Form.form_id == form_id)).scalar_one_or_none()
    if form is None:
        raise FormNotFound(form_id=form_id)
    if not actor.may_use(form):
        raise FormNotAssigned(reason="actor", form_id=form_id, actor=actor.label)
    version = session.execute(
        sa.select(FormVersion)
        .where(FormVersion.form_pk == form.id)
        .order_by(FormVersion.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if version is None:
        raise FormNotFound(reason="not_published", form_id=form_id)
    return version


def present_media(session: Session, version: FormVersion) -> list[FormMedia]:
    """Media files stored for the version (expected but missing ones are not listed).

    :param session: the database session.
    :param version: the form version.
    :return: the files, by name.
    """
    return list(
        session.execute(
            sa.select(FormMedia)
            .where(FormMedia.form_version_id == version.id)
            .order_by(FormMedia.filename)
        ).scalars()
    )


def media_file(session: Session, version: FormVersion, filename: str) -> FormMedia:
    """Return one media file of the version.

    :raises FormNotFound: if the version has no such file.
    """
    item = session.execute(
        sa.select(FormMedia).where(
            FormMedia.form_version_id == version.id, FormMedia.filename == filename
        )
    ).scalar_one_or_none()
    if item is None:
        raise FormNotFound(reason="no_media", form_id=version.form.form_id, filename=filename)
    return item
