"""Background jobs: atomic claims, leases, progress in its own transactions, finish and fail.

Every test runs on SQLite and on PostgreSQL (the ``app`` fixture).
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import sqlalchemy as sa

from server import worker
from server.errors import InvalidRosterFile, JobAbandoned
from server.extensions import db
from server.models import Job, Person
from server.services import jobs
from server.services.attachment_store import AttachmentStore
from tests.factories import NOW

LEASE = 60
UNITS = """level,code,name,parent_code,valid_from
province,52,Tỉnh Gia Lai,,2025-07-01
commune,21583,Phường Quy Nhơn,52,2025-07-01
"""
HEADER = (
    "Mã cán bộ,Họ và tên,Giới tính,Mã đơn vị hành chính,Tuyến,Loại hình,Nhóm đối tượng,"
    "Ngày bắt đầu\n"
)


def queue(n: int = 1, kind: str = "roster.check", **params) -> list[int]:
    ids = [
        jobs.enqueue(db.session, kind, owner_id=None, params=params, now=NOW).id for _ in range(n)
    ]
    db.session.commit()
    return ids


def state(job_id: int) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job_id)


def test_a_claim_takes_the_oldest_queued_job_once(app):
    first, second = queue(2)
    a = jobs.claim(db.engine, now=NOW, lease_seconds=LEASE)
    b = jobs.claim(db.engine, now=NOW, lease_seconds=LEASE)
    assert (a.id, b.id) == (first, second)
    assert a.token != b.token
    assert jobs.claim(db.engine, now=NOW, lease_seconds=LEASE) is None
    job = state(first)
    assert (job.state, job.attempts, job.worker) == ("running", 1, a.token)
    assert job.lease_until == NOW + dt.timedelta(seconds=LEASE)


def test_concurrent_workers_never_take_the_same_job(app):
    ids = set(queue(24))
    taken: list[int] = []
    lock = threading.Lock()

    def claim_all():
        with app.app_context():
            while (got := jobs.claim(db.engine, now=NOW, lease_seconds=LEASE)) is not None:
                with lock:
                    taken.append(got.id)

    threads = [threading.Thread(target=claim_all) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(taken) == sorted(ids)  # every job once, none twice


def test_a_job_whose_lease_ran_out_is_claimed_again_and_the_old_claim_is_lost(app):
    (job_id,) = queue()
    old = jobs.claim(db.engine, now=NOW, lease_seconds=LEASE)
    assert (
        jobs.claim(db.engine, now=NOW + dt.timedelta(seconds=LEASE - 1), lease_seconds=LEASE)
        is None
    )
    later = NOW + dt.timedelta(seconds=LEASE + 1)
    new = jobs.claim(db.engine, now=later, lease_seconds=LEASE)
    assert (new.id, new.attempts) == (job_id, 2)
    progress = jobs.Progress(db.engine, old, lease_seconds=LEASE, clock=lambda: later)
    progress(1, 2, "cũ / old")
    assert progress.lost
    assert state(job_id).message != "cũ / old"
    # The old worker's finish changes nothing: its work is rolled back.
    assert not jobs.finish(db.session, old, jobs.Outcome({"x": 1}), store=None, now=later)
    db.session.rollback()
    assert state(job_id).state == "running"


def test_a_job_abandoned_too_often_fails_with_its_catalogue_message(app):
    (job_id,) = queue()
    moment = NOW
    for _ in range(jobs.MAX_ATTEMPTS):
        assert jobs.claim(db.engine, now=moment, lease_seconds=LEASE).id == job_id
        moment += dt.timedelta(seconds=LEASE + 1)
    assert jobs.claim(db.engine, now=moment, lease_seconds=LEASE) is None
    job = state(job_id)
    assert (job.state, job.error_code) == ("failed", JobAbandoned.code)
    error = jobs.error_of(job)
    assert isinstance(error, JobAbandoned)
    assert "3 lần" in error.message_vi and "3 time(s)" in error.message


def test_progress_is_seen_by_others_while_the_work_is_under_way(app):
    (job_id,) = queue()
    claim = jobs.claim(db.engine, now=NOW, lease_seconds=LEASE)
    # The job's own session is in a transaction (it has read), as a running job's is.
    db.session.execute(sa.select(Person.id)).all()
    later = NOW + dt.timedelta(seconds=30)
    progress = jobs.Progress(db.engine, claim, lease_seconds=LEASE, clock=lambda: later)
    progress(5, 20, "Đang đọc / Reading")
    progress(6, 20, "too soon")  # within PROGRESS_INTERVAL: skipped
    with db.engine.connect() as other:
        row = other.execute(sa.select(Job.done, Job.total, Job.message, Job.lease_until)).one()
    assert row[:3] == (5, 20, "Đang đọc / Reading")
    assert row.lease_until.replace(tzinfo=dt.UTC) == later + dt.timedelta(seconds=LEASE)
    progress(7, 20, "forced", force=True)
    db.session.rollback()
    assert (state(job_id).done, state(job_id).message) == (7, "forced")


def test_work_once_runs_a_job_and_keeps_its_result_file(app, runner, tmp_path):
    path = app.config["STORAGE_DIR"]
    (tmp_path / "units.csv").write_text(UNITS, encoding="utf-8")
    assert runner.invoke(args=["units", "import", str(tmp_path / "units.csv")]).exit_code == 0
    content = HEADER + "GL001,Nguyễn Thị Hoa,Nữ,21583,Tuyến xã,Viên chức,vc_commune,01/08/2025\n"
    sha = AttachmentStore(path).put(content.encode())
    (job_id,) = queue(filename="ds.csv", input_sha256=sha)
    assert worker.work_once(app) == job_id
    job = state(job_id)
    assert job.state == "done" and job.finished_at is not None and job.lease_until is None
    assert job.result["added"] == 1 and job.result["entries"][0]["person_code"] == "GL001"
    diff = AttachmentStore(path).read(job.result_sha256).decode("utf-8-sig")
    assert "GL001" in diff and job.result_name == "thay-doi-ds.csv"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Person)) == 0  # a dry run
    assert worker.work_once(app) is None


def test_a_failing_job_stores_the_catalogue_code_and_rolls_its_work_back(app):
    sha = AttachmentStore(app.config["STORAGE_DIR"]).put(
        (
            HEADER + "GL001,Nguyễn Thị Hoa,Nữ,99999,Tuyến xã,Viên chức,vc_commune,01/08/2025\n"
        ).encode()
    )
    (job_id,) = queue(kind="roster.import", filename="sai.csv", input_sha256=sha)
    worker.work_once(app)
    job = state(job_id)
    assert (job.state, job.error_code) == ("failed", InvalidRosterFile.code)
    error = jobs.error_of(job)
    assert error.message_vi == "sai.csv: 1 dòng có lỗi, chưa nhập gì."
    assert job.error_details["rows"][0]["row"] == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Person)) == 0
    body = jobs.as_json(job)
    assert body["error"]["code"] == "400.15" and body["state"] == "failed"


def test_an_unexpected_crash_fails_the_job_with_the_server_error(app, monkeypatch):
    def boom(ctx):
        raise RuntimeError("bug")

    monkeypatch.setitem(worker.KINDS, "test.boom", boom)
    (job_id,) = queue(kind="test.boom")
    worker.work_once(app)
    job = state(job_id)
    assert (job.state, job.error_code) == ("failed", "500")
    assert jobs.error_of(job).message_vi == "Máy chủ không thực hiện được yêu cầu."


def test_the_cli_worker_runs_what_is_waiting(app, runner):
    queue(2, kind="roster.export", on="2026-01-01", format="csv")
    result = runner.invoke(args=["jobs", "work", "--once"])
    assert result.exit_code == 0, result.output
    assert "2 job(s) run" in result.output
    done = db.session.scalars(sa.select(Job.state)).all()
    assert done == ["done", "done"]


def test_the_app_thread_runs_a_queued_job_without_another_process(app):
    app.config["JOBS_WORKER"] = True
    (job_id,) = queue(kind="roster.export", on="2026-01-01", format="xlsx")
    worker.wake(app)
    try:
        deadline = time.monotonic() + 30
        while state(job_id).state != "done" and time.monotonic() < deadline:
            db.session.rollback()
            time.sleep(0.1)
        job = state(job_id)
        assert job.state == "done", job.message
        assert job.result_name == "danh_sach_can_bo_2026-01-01.xlsx"
    finally:
        worker.worker_of(app).stop()
        db.session.rollback()
