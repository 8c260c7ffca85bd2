"""Background jobs over the API: a job's state, progress and result (its owner, or admins)."""

from __future__ import annotations

from flask import g, jsonify

from server.domain.policy import Action
from server.extensions import db
from server.services import jobs
from server.services.permissions import own_only, require
from server.web.api import bp, operation


@bp.get("/jobs/<int:job_id>")
@operation(
    "A background job: state, progress (done/total, message), result or catalogue error",
    tags=("jobs",),
    errors=(403, 404),
)
def job_status(job_id: int):
    """State and progress of a job the caller started (administrators: any job)."""
    require(g.user, Action.JOB_READ)
    job = jobs.get_job(db.session, job_id, owner=own_only(g.user, Action.JOB_READ))
    return jsonify(jobs.as_json(job))
