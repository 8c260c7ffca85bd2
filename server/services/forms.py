"""Publishing forms: check an XLSForm or XForm exactly as ODK Collect will see it, then store it.

A published version is immutable: its XML bytes are what devices downloaded, and submissions
name it. Re-publishing the same form_id and version with different XML is refused; identical
XML is a no-op (only its media files may be refreshed, which is how server-generated picker
lists reach the tablets without a new form version).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.domain.odk_validate import validate_xform
from server.domain.xforms import EXTERNAL_ITEMSETS, FormSchema, read_xform
from server.domain.xlsform import XFORM_TYPE, convert_xlsform, detect_file_type, stamp_version
from server.errors import (
    FileTooLarge,
    FormNotFound,
    FormValidationFailed,
    FormVersionExists,
    InvalidFormMedia,
    ServiceError,
    ValidatorUnavailable,
    several,
)
from server.models import Form, FormMedia, FormVersion, Submission
from server.models.integrity import conflict_for
from server.services import export_lines
from server.services.setup_cache import FormFacts, setup_cache

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ValidationSettings:
    """How forms are checked: size limit, and how ODK Validate is run."""

    max_bytes: int
    java: str = "java"
    timeout: int = 120


@dataclass(frozen=True)
class MediaFile:
    """A file offered as form media (a picker CSV, an image…)."""

    filename: str
    content: bytes


@dataclass
class CheckedForm:
    """A form that passed every check, ready to be stored."""

    filename: str
    file_type: str
    source: bytes
    xml: bytes
    schema: FormSchema
    warnings: list[str] = field(default_factory=list)
    #: ``itemsets.csv`` pyxform built from the external_choices sheet, if any.
    itemsets: bytes | None = None

    @property
    def md5(self) -> str:
        """md5 of the XForm bytes (what formList advertises)."""
        return hashlib.md5(self.xml).hexdigest()  # noqa: S324 (protocol hash, not security)


@dataclass
class PublishResult:
    """What publishing did: a new version, nothing, or refreshed media of an existing one."""

    form_version: FormVersion
    status: Literal["published", "unchanged", "media_updated"]
    warnings: list[str]


def check_form(
    filename: str,
    content: bytes,
    *,
    settings: ValidationSettings,
    stamp: Callable[[str], str] | None = None,
    now: dt.datetime | None = None,
) -> CheckedForm:
    """Convert (if needed) and validate a form without storing anything.

    Every problem found is reported at once: column typos, then pyxform's error or ODK
    Validate's errors (each mapped back to its XLSForm row). One problem is raised as its own
    catalogue error; several are raised as the first one's kind with every message, listed
    in ``details["problems"]``.

    :param filename: the file's name; its extension says XLSForm or XForm, checked against
        the content; its stem is the form id of an XLSForm without ``settings.form_id``.
    :param content: the file's bytes.
    :param settings: size limit and ODK Validate settings.
    :param stamp: chooses the version of an XLSForm without ``settings.version`` (given the
        form id); by default today's ``yyyymmdd01``.
    :param now: the time a default stamp is taken from (aware; default: now).
    :return: the checked form with its XForm bytes, schema and warnings.
    :raises FileTooLarge: the file exceeds ``settings.max_bytes``.
    :raises EmptyFile, UnsupportedFileType, InvalidXLSForm, UnknownXLSFormColumn,
        InvalidXForm, FormValidationFailed, ValidatorUnavailable:
        as their names say; each message names the file.
    """
    _check_size(filename, content, settings.max_bytes)
    file_type = detect_file_type(filename, content)
    warnings: list[str] = []
    problems: list[ServiceError] = []
    conversion = None
    if file_type == XFORM_TYPE:
        xml = content
    else:
        when = now or dt.datetime.now(dt.UTC)
        conversion = convert_xlsform(
            filename, content, file_type, stamp=stamp or (lambda _: stamp_version([], when))
        )
        xml, warnings = conversion.xform, conversion.warnings
        if conversion.column_error is not None:
            problems.append(conversion.column_error)
    schema = read_xform(xml, what=filename)
    rows = conversion.rows if conversion is not None else {}
    try:
        warnings += validate_xform(
            xml, java=settings.java, timeout=settings.timeout, locate=rows.get
        )
    except FormValidationFailed as exc:
        problems.append(exc.with_details(file=filename))
    except ValidatorUnavailable as exc:
        raise exc.with_details(file=filename) from exc
    if problems:
        raise several(problems, file=filename)
    return CheckedForm(
        filename=filename,
        file_type=file_type,
        source=content,
        xml=xml,
        schema=schema,
        warnings=warnings,
        itemsets=conversion.itemsets if conversion is not None else None,
    )


def publish_form(
    filename: str,
    content: bytes,
    *,
    session: Session,
    settings: ValidationSettings,
    media: list[MediaFile] | None = None,
    generated_media: Callable[[list[str]], list[MediaFile]] | None = None,
    now: dt.datetime,
) -> PublishResult:
    """Check a form and store it as a new immutable version (flushes, does not commit).

    :param filename: the file's name.
    :param content: the XLSForm or XForm bytes.
    :param session: the database session.
    :param settings: size limit and ODK Validate settings.
    :param media: files offered as the form's media; only those the XForm references are kept.
    :param generated_media: given the media names the XForm references, returns the files the
        server makes itself (registry pickers); they replace offered files of the same name, so
        sample lists beside a form never overwrite what the registry made.
    :param now: the publication time (aware UTC).
    :return: the stored (or already stored) version and what happened.
    :raises FormVersionExists: the version exists with different XML.
    :raises InvalidFormMedia, FileTooLarge: for a bad media file.
    :raises ServiceError: every error of :func:`check_form`.
    """
    checked = check_form(
        filename,
        content,
        settings=settings,
        stamp=lambda form_id: _stamp(session, form_id, content, now),
        now=now,
    )
    schema = checked.schema
    offered = list(media or [])
    if checked.itemsets is not None and all(m.filename != EXTERNAL_ITEMSETS for m in offered):
        offered.append(MediaFile(EXTERNAL_ITEMSETS, checked.itemsets))
    if generated_media is not None:
        generated = generated_media([m["filename"] for m in schema.media])
        names = {item.filename for item in generated}
        offered = [item for item in offered if item.filename not in names] + generated
    media_files, media_warnings = _select_media(schema, offered, settings.max_bytes)
    warnings = checked.warnings + media_warnings

    form = session.execute(
        sa.select(Form).where(Form.form_id == schema.form_id)
    ).scalar_one_or_none()
    existing = None
    if form is not None:
        existing = session.execute(
            sa.select(FormVersion).where(
                FormVersion.form_pk == form.id, FormVersion.version == schema.version
            )
        ).scalar_one_or_none()
    if existing is not None:
        if existing.md5 != checked.md5:
            raise FormVersionExists(**_version_exists(schema, existing.md5, checked.md5, filename))
        changed = store_media(session, existing, media_files, now)
        status = "media_updated" if changed else "unchanged"
        logger.info("form %s version %s %s", schema.form_id, schema.version, status)
        return PublishResult(existing, status, warnings)

    if form is None:
        form = Form(
            form_id=schema.form_id,
            title=schema.title or schema.form_id,
            state="open",
            created_at=now,
            updated_at=now,
        )
        session.add(form)
    else:
        form.title = schema.title or schema.form_id
        form.updated_at = now
    version = FormVersion(
        form=form,
        version=schema.version,
        title=schema.title or schema.form_id,
        xml=checked.xml,
        md5=checked.md5,
        schema=schema.to_dict(),
        warnings=warnings,
        source=content,
        source_filename=filename,
        source_type=checked.file_type,
        is_encrypted=schema.is_encrypted,
        published_at=now,
    )
    session.add(version)
    try:
        session.flush()
    except IntegrityError as exc:  # another process published the same version meanwhile
        raise conflict_for(exc, **_version_exists(schema, "?", checked.md5, filename)) from exc
    store_media(session, version, media_files, now)
    export_lines.after_publish(session, form, now=now)
    logger.info("published form %s version %s md5:%s", schema.form_id, schema.version, checked.md5)
    return PublishResult(version, "published", warnings)


def _stamp(session: Session, form_id: str, source: bytes, now: dt.datetime) -> str:
    """Choose the version of an XLSForm that has none.

    An identical file gets the version it got before (publishing it again is a no-op);
    anything else gets a new ``yyyymmddnn`` above the form's other versions.
    """
    form_pk = session.execute(sa.select(Form.id).where(Form.form_id == form_id)).scalar()
    if form_pk is None:
        return stamp_version([], now)
    same = session.execute(
        sa.select(FormVersion.version)
        .where(FormVersion.form_pk == form_pk, FormVersion.source == source)
        .order_by(FormVersion.id.desc())
        .limit(1)
    ).scalar()
    if same is not None:
        return same
    existing = session.execute(
        sa.select(FormVersion.version).where(FormVersion.form_pk == form_pk)
    ).scalars()
    return stamp_version(list(existing), now)


def list_forms(session: Session) -> list[Form]:
    """Return every form with its versions, ordered by form_id.

    :param session: the database session.
    :return: the forms.
    """
    return list(session.execute(sa.select(Form).order_by(Form.form_id)).scalars())


def get_form(session: Session, form_id: str) -> Form:
    """Return one form by its form_id.

    :param session: the database session.
    :param form_id: the form's id.
    :return: the form.
    :raises FormNotFound: if there is none.
    """
    form = session.execute(sa.select(Form).where(Form.form_id == form_id)).scalar_one_or_none()
    if form is None:
        raise FormNotFound(form_id=form_id)
    return form


def get_form_facts(session: Session, form_id: str) -> FormFacts:
    """Return one form's cached facts (primary key, form_id, state, versions).

    For a hot path that needs no more of the form than that (a listing page): it costs no
    query while the set-up generation stands (``services/setup_cache``).

    :param session: the database session.
    :param form_id: the form's id.
    :return: the facts.
    :raises FormNotFound: if there is no such form.
    """
    facts = setup_cache(session).form(session, form_id)
    if facts is None:
        raise FormNotFound(form_id=form_id)
    return facts


def _check_size(filename: str, content: bytes, max_bytes: int) -> None:
    if len(content) > max_bytes:
        raise FileTooLarge(file=filename, size=len(content), limit=max_bytes)


def _version_exists(
    schema: FormSchema, old_md5: str, new_md5: str, filename: str
) -> dict[str, Any]:
    """The details of the ``FormVersionExists`` this file meets (``?``: md5 not known)."""
    details: dict[str, Any] = {
        "file": filename,
        "form_id": schema.form_id,
        "version": schema.version,
        "published_md5": old_md5,
        "new_md5": new_md5,
    }
    if schema.version:
        return {**details, "reason": "changed"}
    return {
        **details,
        "reason": "unversioned",
        "suggested_version": stamp_version([], dt.datetime.now(dt.UTC)),
        "root": schema.root,
    }


def _select_media(
    schema: FormSchema, offered: list[MediaFile], max_bytes: int
) -> tuple[list[MediaFile], list[str]]:
    """Keep the offered files the form references; warn about the rest and about gaps."""
    wanted = {m["filename"] for m in schema.media}
    by_name = {}
    warnings = []
    for item in offered:
        if "/" in item.filename or "\\" in item.filename or item.filename in {"", ".", ".."}:
            raise InvalidFormMedia(file=item.filename)
        _check_size(item.filename, item.content, max_bytes)
        if item.filename in wanted:
            by_name[item.filename] = item
        else:
            warnings.append(
                f"media file {item.filename} is not referenced by form "
                f"'{schema.form_id}' and was not stored"
            )
    warnings.extend(
        f"form '{schema.form_id}' references {name} but no such media file was supplied; "
        "devices cannot use it until it is published"
        for name in sorted(wanted - set(by_name))
    )
    return [by_name[name] for name in sorted(by_name)], warnings


def store_media(
    session: Session, version: FormVersion, files: list[MediaFile], now: dt.datetime
) -> bool:
    """Add or refresh media rows of a version (flushes).

    :param session: the database session.
    :param version: the form version.
    :param files: the files, by the names the XForm uses.
    :param now: the time of the change.
    :return: True if any content changed (new md5s make Collect fetch the files again).
    """
    current = {m.filename: m for m in version.media}
    changed = False
    for item in files:
        md5 = hashlib.md5(item.content).hexdigest()  # noqa: S324 (manifest hash)
        row = current.get(item.filename)
        if row is not None and row.md5 == md5:
            continue
        if row is None:
            row = FormMedia(form_version=version, filename=item.filename)
            session.add(row)
        row.content, row.md5, row.size, row.updated_at = item.content, md5, len(item.content), now
        row.content_type = _content_type(item.filename)
        changed = True
    session.flush()
    return changed


def _content_type(filename: str) -> str:
    if filename.lower().endswith(".csv"):
        return "text/csv"
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def submission_counts(
    session: Session, *, within: sa.ColumnElement[bool] | None = None
) -> dict[int, int]:
    """Count current, not deleted submissions per form (edits count once).

    :param session: the database session.
    :param within: an extra condition on Submission (a reader's units), or None.
    :return: {form primary key: count}.
    """
    query = sa.select(Submission.form_pk, sa.func.count()).where(
        Submission.is_current.is_(True), Submission.deleted_at.is_(None)
    )
    if within is not None:
        query = query.where(within)
    return dict(session.execute(query.group_by(Submission.form_pk)).all())
