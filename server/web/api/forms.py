"""Forms over the API: list, detail with versions and fields, publish by upload, state."""

from __future__ import annotations

import datetime as dt

from flask import current_app, g, jsonify, request
from werkzeug.datastructures import FileStorage

from server.domain.policy import Action
from server.errors import FormNotFound, InvalidRequest
from server.extensions import db
from server.services import forms as forms_service
from server.services.permissions import readable_forms, require, units_of
from server.services.pickers import registry_media
from server.services.review import set_form_state
from server.services.setup_cache import FormFacts
from server.services.submission_queries import scope_clause
from server.web.api import bp, json_body, operation, parse
from server.web.api.presenters import form_data, version_data
from server.web.api.schemas import (
    FormDetailSchema,
    FormSchema,
    FormStateInput,
    VersionDetailSchema,
    VersionSchema,
)
from server.web.uploads import upload_limit


def readable_form(form_id: str):
    """The form, if the current user may read it."""
    form = forms_service.get_form(db.session, form_id)
    require(g.user, Action.FORM_READ, form=form)
    return form


def readable_form_facts(form_id: str) -> FormFacts:
    """The form's cached facts, if the current user may read it (see ``get_form_facts``)."""
    form = forms_service.get_form_facts(db.session, form_id)
    require(g.user, Action.FORM_READ, form=form)
    return form


def visible_counts() -> dict[int, int]:
    """Submission counts per form as the current user may see them (a planner: their units)."""
    units = units_of(g.user, Action.SUBMISSION_READ)
    return forms_service.submission_counts(db.session, within=scope_clause(db.session, units))


def publish_upload(upload: FileStorage, media: list[FileStorage]) -> forms_service.PublishResult:
    """Publish an uploaded form with its media files, as the API and the forms page do.

    :param upload: the XLSForm or XForm.
    :param media: files offered as its media.
    :return: what publishing did (flushed, not committed).
    :raises ServiceError: every error of ``services.forms.publish_form``.
    """
    config = current_app.config
    settings = forms_service.ValidationSettings(
        max_bytes=config["FORMS_MAX_BYTES"],
        java=config["FORMS_JAVA"],
        timeout=config["FORMS_VALIDATE_TIMEOUT"],
    )
    return forms_service.publish_form(
        upload.filename or "form",
        upload.read(),
        session=db.session,
        settings=settings,
        media=[forms_service.MediaFile(f.filename or "", f.read()) for f in media],
        generated_media=registry_media(db.session),
        now=dt.datetime.now(dt.UTC),
    )


@bp.get("/forms")
@operation(
    "List the forms you may read, with their current version",
    tags=("forms",),
    response=FormSchema(many=True),
)
def list_forms():
    """List readable forms."""
    allowed = readable_forms(g.user, Action.FORM_READ)
    counts = visible_counts()
    forms = [f for f in forms_service.list_forms(db.session) if allowed is None or f.id in allowed]
    return jsonify(FormSchema(many=True).dump([form_data(f, counts) for f in forms]))


@bp.get("/forms/<form_id>")
@operation(
    "A form with every version and its current field schema",
    tags=("forms",),
    response=FormDetailSchema,
    errors=(403, 404),
)
def get_form(form_id: str):
    """Show one form."""
    form = readable_form(form_id)
    counts = visible_counts()
    return jsonify(FormDetailSchema().dump(form_data(form, counts, detail=True)))


@bp.post("/forms")
@upload_limit("FORMS_MAX_UPLOAD_BYTES")
@operation(
    "Publish an XLSForm or XForm (multipart: file, and media files as media)",
    tags=("forms",),
    response=FormDetailSchema,
    errors=(400, 403, 409, 413, 503),
)
def publish_form():
    """Publish a form by upload (administrators)."""
    require(g.user, Action.FORM_PUBLISH)
    upload = request.files.get("file")
    if upload is None:
        raise InvalidRequest(reason="multipart_field", field="file", fields={"file": ["required"]})
    result = publish_upload(upload, request.files.getlist("media"))
    db.session.commit()
    form = result.form_version.form
    body = FormDetailSchema().dump(form_data(form, {}, detail=True))
    body["publish_status"], body["warnings"] = result.status, result.warnings
    return jsonify(body), 201 if result.status == "published" else 200


@bp.patch("/forms/<form_id>")
@operation(
    "Open, close, or set closing (hidden from devices, still accepting)",
    tags=("forms",),
    body=FormStateInput,
    response=FormSchema,
    errors=(403, 404, 422),
)
def update_form(form_id: str):
    """Change a form's state (administrators)."""
    require(g.user, Action.FORM_STATE)
    form = forms_service.get_form(db.session, form_id)
    values = parse(FormStateInput(), json_body())
    set_form_state(db.session, g.user, form, state=values["state"], now=dt.datetime.now(dt.UTC))
    db.session.commit()
    return jsonify(FormSchema().dump(form_data(form, visible_counts())))


@bp.get("/forms/<form_id>/versions")
@operation(
    "Every published version of a form, newest first",
    tags=("forms",),
    response=VersionSchema(many=True),
    errors=(403, 404),
)
def list_versions(form_id: str):
    """List a form's versions."""
    form = readable_form(form_id)
    return jsonify(
        VersionSchema(many=True).dump([version_data(v) for v in reversed(form.versions)])
    )


@bp.get("/forms/<form_id>/versions/<version>")
@operation(
    "One version with its field schema and media",
    tags=("forms",),
    response=VersionDetailSchema,
    errors=(403, 404),
)
def get_version(form_id: str, version: str):
    """Show one version."""
    form = readable_form(form_id)
    found = next((v for v in form.versions if v.version == version), None)
    if found is None:
        raise FormNotFound(reason="no_version", form_id=form_id, version=version)
    return jsonify(VersionDetailSchema().dump(version_data(found, with_fields=True)))
