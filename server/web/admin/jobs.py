"""A background job's page: the progress bar while it runs, its result or its error after.

The page works without script: it shows the bar as it was when loaded and a link to load it
again. ``static/taphuan.js`` polls :func:`job_progress` (a fragment) and swaps it in, and
reloads the page once the job has finished, so the result appears by itself.
"""

from __future__ import annotations

import re

from flask import current_app, g, render_template, request, url_for

from server.domain.policy import Action
from server.errors import JobNotFound
from server.extensions import db
from server.models import Job
from server.services import jobs
from server.services.attachment_store import AttachmentStore
from server.services.permissions import own_only, require
from server.web.admin import bp
from server.web.shell import t

#: What each kind of job is called on its page.
TITLES = {
    "roster.check": ("Kiểm tra danh sách cán bộ", "Checking a staff register"),
    "roster.import": ("Nhập danh sách cán bộ", "Importing a staff register"),
    "roster.export": ("Xuất danh sách cán bộ", "Exporting the staff register"),
    "courses.rescore": ("Chấm lại bài kiểm tra của khóa học", "Re-scoring a course's tests"),
    "forms.export": ("Xuất dữ liệu biểu mẫu", "Exporting a form's submissions"),
}


def readable_job(job_id: int) -> Job:
    """The job, if the signed-in user may read it (their own; administrators: any)."""
    require(g.user, Action.JOB_READ)
    return jobs.get_job(db.session, job_id, owner=own_only(g.user, Action.JOB_READ))


def _in_language(message: str) -> str:
    """A job's message ("vi / en") in the page's language."""
    vi, _, en = message.partition(" / ")
    return t(vi, en or vi)


def progress_context(job: Job, page_url: str) -> dict:
    """What the progress fragment needs."""
    return {
        "job": job,
        "message": _in_language(job.message or "Đang chờ / Waiting"),
        "error": jobs.error_of(job),
        "page_url": page_url,
        "poll_url": url_for("admin.job_progress", job_id=job.id, page=page_url),
        "percent": round(100 * job.done / job.total) if job.total else None,
    }


@bp.get("/admin/jobs/<int:job_id>")
def job_page(job_id: int):
    """One job: its progress, then its summary, result file or error."""
    job = readable_job(job_id)
    here = url_for("admin.job_page", job_id=job.id)
    return render_template(
        "admin/job.html",
        title=TITLES.get(job.kind, (job.kind, job.kind)),
        **progress_context(job, here),
    )


@bp.get("/admin/jobs/<int:job_id>/progress")
def job_progress(job_id: int):
    """The progress fragment the page script polls (``X-Job-State`` tells when to stop)."""
    job = readable_job(job_id)
    page = request.args.get("page", "")
    if not page.startswith("/") or page.startswith("//"):
        page = url_for("admin.job_page", job_id=job.id)
    response = current_app.make_response(
        render_template("admin/_job_progress.html", **progress_context(job, page))
    )
    response.headers["X-Job-State"] = job.state
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/admin/jobs/<int:job_id>/result")
def job_result(job_id: int):
    """The file a finished job left (an export, a dry run's full diff)."""
    job = readable_job(job_id)
    if job.state != "done" or job.result_sha256 is None:
        raise JobNotFound(job_id=job_id)
    store = AttachmentStore(current_app.config["STORAGE_DIR"])
    response = current_app.response_class(
        store.read(job.result_sha256), content_type=job.result_type or "application/octet-stream"
    )
    name = re.sub(r"[^A-Za-z0-9._-]", "_", job.result_name or f"job-{job.id}")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
