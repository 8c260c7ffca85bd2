"""Background jobs: enqueue, claim with a lease, report progress, finish or fail.

Why our own table and not a job library: see ARCHITECTURE.md ("Background jobs"). In short,
the work must run on the embedded default (SQLite) without another server and across
processes and machines on PostgreSQL; huey's SQLite storage and its peewee SQL storage bring a
second database layer and no progress, procrastinate is PostgreSQL-only, dramatiq and rq need
Redis. The queue is the ``jobs`` table (``models/jobs``):

* **Claim** is one atomic statement, ``UPDATE jobs SET state='running' … WHERE id = (SELECT id
  … WHERE state='queued' … LIMIT 1 [FOR UPDATE SKIP LOCKED]) RETURNING id``: on PostgreSQL two
  workers never take the same row and never wait on each other; on SQLite the statement holds
  the database's one write lock. Each claim gets a fresh *token* (``worker``), so a worker
  whose lease ran out can tell it lost the job.
* **Lease**: a running job holds its claim until ``lease_until``; progress reports and the
  worker's heartbeat push it on. A job whose lease ran out (its process died) is claimed
  again, up to :data:`MAX_ATTEMPTS` times, then failed as :class:`JobAbandoned`.
* **Progress** (done/total, a message) is written in short transactions of its own on another
  connection, so a page polling the job sees it while the work's own transaction is open.
  On SQLite the work's transaction holds the write lock while it writes: reports then wait
  briefly and are skipped (the next one tries again); the bar moves on when the writing ends.
* **Finish** happens in the work's own transaction (``finish`` flushes, the worker commits):
  a job is ``done`` exactly when its work is committed, and only if the claim is still ours.
* **Failure** stores the catalogue code and the error's details; the page makes the message
  again in the reader's language (:func:`error_of`).

Services flush; ``server/worker.py`` owns the transactions of the work.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.errors import JobAbandoned, JobNotFound, ServiceError
from server.errors.base import catalogue
from server.models import Job
from server.services.attachment_store import AttachmentStore

log = logging.getLogger(__name__)

#: How often a job may be claimed again after its worker went silent, before it fails.
MAX_ATTEMPTS = 3
#: Shortest interval between two progress writes of one job (the first and last always go).
PROGRESS_INTERVAL = 0.5
#: How long a progress write waits for SQLite's write lock before it is skipped, in ms.
SQLITE_PROGRESS_WAIT_MS = 50

_jobs = Job.__table__


@dataclass(frozen=True)
class Outcome:
    """What a finished job leaves: a summary, and maybe a file to download."""

    summary: dict = field(default_factory=dict)
    content: bytes | None = None
    name: str | None = None
    media_type: str | None = None
    #: Instead of ``content``: writes the file to a binary stream (a large export, never
    #: held in memory whole).
    writer: Callable[[BinaryIO], None] | None = None


@dataclass
class Claim:
    """A job this worker holds: its id, kind, parameters and the claim's token."""

    id: int
    kind: str
    params: dict
    owner_id: int | None
    token: str
    attempts: int


def enqueue(
    session: Session,
    kind: str,
    *,
    owner_id: int | None,
    params: Mapping[str, Any],
    now: dt.datetime,
    message: str = "Đang chờ / Waiting",
) -> Job:
    """Queue a job (flushes; the caller commits, then the job may start).

    :param session: the database session.
    :param kind: what to run (a key of ``services.job_kinds.KINDS``).
    :param owner_id: the user who asked (they and administrators may read it).
    :param params: plain JSON parameters.
    :param now: the time.
    :param message: the first message shown.
    :return: the new job.
    """
    job = Job(
        kind=kind,
        state="queued",
        owner_id=owner_id,
        params=dict(params),
        done=0,
        total=0,
        message=message,
        attempts=0,
        created_at=now,
    )
    session.add(job)
    session.flush()
    return job


def store_input(store: AttachmentStore, content: bytes) -> str:
    """Keep a job's input file (an uploaded register) in the store; return its sha256."""
    return store.put(content)


def get_job(session: Session, job_id: int, *, owner: int | None = None) -> Job:
    """A job by id.

    :param session: the database session.
    :param job_id: its id.
    :param owner: only a job of this user (None: any job). Someone else's job is "not found",
        not "forbidden": its number says nothing about it.
    :raises JobNotFound: no such job (for that owner).
    """
    job = session.get(Job, job_id, populate_existing=True)
    if job is None or (owner is not None and job.owner_id != owner):
        raise JobNotFound(job_id=job_id)
    return job


def new_token() -> str:
    """A claim's token: which host, process and thread hold it, and which claim it is."""
    host = socket.gethostname()[:60]
    return f"{host}:{os.getpid()}:{threading.get_ident()}:{uuid.uuid4().hex[:12]}"


def _claimable(now: dt.datetime):
    return sa.or_(
        _jobs.c.state == "queued",
        sa.and_(_jobs.c.state == "running", _jobs.c.lease_until < now),
    )


def give_up_abandoned(engine: sa.Engine, *, now: dt.datetime) -> int:
    """Fail the running jobs whose lease ran out after their last allowed attempt.

    :return: how many were failed.
    """
    with engine.begin() as conn:
        result = conn.execute(
            sa.update(_jobs)
            .where(
                _jobs.c.state == "running",
                _jobs.c.lease_until < now,
                _jobs.c.attempts >= MAX_ATTEMPTS,
            )
            .values(
                state="failed",
                error_code=JobAbandoned.code,
                error_details={"attempts": MAX_ATTEMPTS},
                finished_at=now,
                lease_until=None,
                message="",
            )
        )
        return result.rowcount or 0


def claim(engine: sa.Engine, *, now: dt.datetime, lease_seconds: float) -> Claim | None:
    """Take the oldest queued job (or a running one whose lease ran out), atomically.

    :param engine: the database engine (the claim is its own short transaction).
    :param now: the time.
    :param lease_seconds: how long the claim holds without news.
    :return: the claim, or None when nothing waits.
    """
    give_up_abandoned(engine, now=now)
    token = new_token()
    pick = sa.select(_jobs.c.id).where(_claimable(now)).order_by(_jobs.c.id).limit(1)
    if engine.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    statement = (
        sa.update(_jobs)
        .where(_jobs.c.id == pick.scalar_subquery(), _claimable(now))
        .values(
            state="running",
            worker=token,
            attempts=_jobs.c.attempts + 1,
            started_at=now,
            lease_until=now + dt.timedelta(seconds=lease_seconds),
            message="Đang chạy / Running",
        )
        .returning(_jobs.c.id, _jobs.c.kind, _jobs.c.params, _jobs.c.owner_id, _jobs.c.attempts)
    )
    with engine.begin() as conn:
        row = conn.execute(statement).first()
    if row is None:
        return None
    return Claim(row.id, row.kind, dict(row.params or {}), row.owner_id, token, row.attempts)


class Progress:
    """Writes one job's progress (and pushes its lease on) in short transactions of its own.

    Call it as ``progress(done, total, message)``; writes closer together than
    :data:`PROGRESS_INTERVAL` are skipped except the first and ``force=True``.
    """

    def __init__(
        self,
        engine: sa.Engine,
        claim: Claim,
        *,
        lease_seconds: float,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.engine = engine
        self.claim = claim
        self.lease_seconds = lease_seconds
        self.clock = clock
        self.lost = False
        self._last = 0.0
        self._lock = threading.Lock()

    def __call__(self, done: int, total: int, message: str, *, force: bool = False) -> None:
        """Report progress (best effort: a busy SQLite skips it).

        :param done: units of work done.
        :param total: units in all (0: not known yet; the bar is indeterminate).
        :param message: what is being done ("vi / en").
        :param force: write even if the last write was a moment ago.
        """
        moment = time.monotonic()
        if not force and self._last and moment - self._last < PROGRESS_INTERVAL:
            return
        self._last = moment
        self._write({"done": max(0, done), "total": max(0, total), "message": message[:255]})

    def touch(self) -> None:
        """Push the lease on without changing the progress (the worker's heartbeat)."""
        self._write({})

    def _write(self, values: dict) -> None:
        now = self.clock()
        statement = (
            sa.update(_jobs)
            .where(
                _jobs.c.id == self.claim.id,
                _jobs.c.state == "running",
                _jobs.c.worker == self.claim.token,
            )
            .values(lease_until=now + dt.timedelta(seconds=self.lease_seconds), **values)
        )
        with self._lock:
            try:
                with self.engine.connect() as conn, conn.begin():
                    sqlite = conn.dialect.name == "sqlite"
                    if sqlite:
                        usual = int(conn.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0)
                        conn.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_PROGRESS_WAIT_MS}")
                    try:
                        result = conn.execute(statement)
                    finally:
                        if sqlite:
                            conn.exec_driver_sql(f"PRAGMA busy_timeout={usual}")
            except sa.exc.OperationalError as exc:
                if self.engine.dialect.name == "sqlite":  # the work holds the write lock
                    log.debug("job %s: progress skipped (%s)", self.claim.id, exc.orig)
                    return
                raise
        if result.rowcount == 0:
            self.lost = True  # the lease ran out and someone else holds the job now


def finish(session: Session, claim: Claim, outcome: Outcome, *, store: AttachmentStore,
           now: dt.datetime) -> bool:  # fmt: skip
    """Mark a job done in the work's own transaction (flushes; the worker commits).

    :param session: the session the work ran in.
    :param claim: the claim.
    :param outcome: its summary and file.
    :param store: where a result file is kept.
    :param now: the time.
    :return: False when the claim was lost (the caller rolls the work back).
    """
    values: dict[str, Any] = {
        "state": "done",
        "result": outcome.summary,
        "finished_at": now,
        "lease_until": None,
        "message": "Xong / Done",
        "done": _jobs.c.total,
    }
    if outcome.content is not None or outcome.writer is not None:
        stored = store.put(outcome.content) if outcome.writer is None else None
        values.update(
            result_sha256=stored or store.put_written(outcome.writer),
            result_name=outcome.name,
            result_type=outcome.media_type,
        )
    result = session.execute(
        sa.update(_jobs)
        .where(_jobs.c.id == claim.id, _jobs.c.state == "running", _jobs.c.worker == claim.token)
        .values(**values)
    )
    session.flush()
    return bool(result.rowcount)


def fail(engine: sa.Engine, claim: Claim, error: ServiceError, *, now: dt.datetime) -> None:
    """Mark a job failed with a catalogue error (its own transaction; the work was rolled back).

    :param engine: the engine.
    :param claim: the claim.
    :param error: why (its code and details are stored).
    :param now: the time.
    """
    with engine.begin() as conn:
        conn.execute(
            sa.update(_jobs)
            .where(
                _jobs.c.id == claim.id, _jobs.c.state == "running", _jobs.c.worker == claim.token
            )
            .values(
                state="failed",
                error_code=error.code,
                error_details=_plain(error.details),
                finished_at=now,
                lease_until=None,
                message="",
            )
        )


def _plain(value):
    """Details as JSON can hold them (dates as ISO text)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def error_of(job: Job) -> ServiceError | None:
    """The catalogue error a failed job stored, made again (its messages in both languages).

    :param job: the job.
    :return: the error, or None for a job that did not fail.
    """
    if job.state != "failed" or not job.error_code:
        return None
    cls = next((c for c in catalogue() if c.code == job.error_code), ServiceError)
    try:
        return cls(**(job.error_details or {}))
    except Exception:  # details of an older release: the title still reads
        log.warning("job %s: details no longer fit %s", job.id, job.error_code)
        return cls()


def as_json(job: Job, *, lang: str = "vi") -> dict:
    """A job for the JSON API and the page script.

    :param job: the job.
    :param lang: the language of ``error.message`` besides ``message_vi``.
    :return: plain data.
    """
    error = error_of(job)
    return {
        "id": job.id,
        "kind": job.kind,
        "state": job.state,
        "done": job.done,
        "total": job.total,
        "percent": round(100 * job.done / job.total, 1) if job.total else None,
        "message": job.message,
        "attempts": job.attempts,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "result": job.result,
        "has_file": job.result_sha256 is not None,
        "error": None
        if error is None
        else {
            "code": error.code,
            "message": error.message,
            "message_vi": error.message_vi,
            "details": job.error_details or {},
        },
    }
