"""The job worker: runs queued background jobs, in a thread of the app or in a process of its own.

* **In the app** (the embedded default): with ``TAPHUAN_JOBS_WORKER`` on, each app process
  starts one daemon thread on its first request (after gunicorn forked it) and wakes it when
  a page queues a job. Nothing else needs to run, on SQLite or PostgreSQL.
* **As a process**: ``flask --app wsgi jobs work`` runs the same loop in the foreground, on
  another machine if wanted (PostgreSQL); any number of them share the queue.

Each job runs in its own app context and session: the work and the job's ``done`` are
committed together, or rolled back together and the job failed with the catalogue error
(``services/jobs``). A heartbeat pushes the lease on while the job runs, so a long statement
does not make another worker think this one died.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from collections.abc import Callable

from flask import Flask

from server.errors import ServiceError
from server.extensions import db
from server.services import jobs
from server.services.attachment_store import AttachmentStore
from server.services.job_kinds import KINDS, JobContext

log = logging.getLogger(__name__)

_EXTENSION = "taphuan_worker"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def work_once(app: Flask, *, clock: Callable[[], dt.datetime] = _now) -> int | None:
    """Claim one job and run it to its end.

    :param app: the app (its config and database).
    :param clock: the time source.
    :return: the job's id, or None when nothing was waiting.
    """
    lease = app.config["JOBS_LEASE_SECONDS"]
    with app.app_context():
        claim = jobs.claim(db.engine, now=clock(), lease_seconds=lease)
        if claim is None:
            return None
        _run(app, claim, lease, clock)
        db.session.remove()
    return claim.id


def _run(app: Flask, claim: jobs.Claim, lease: float, clock) -> None:
    progress = jobs.Progress(db.engine, claim, lease_seconds=lease, clock=clock)
    stop = threading.Event()
    beat = threading.Thread(
        target=_heartbeat, args=(progress, stop, lease / 4), daemon=True, name="job-heartbeat"
    )
    beat.start()
    store = AttachmentStore(app.config["STORAGE_DIR"])
    try:
        handler = KINDS.get(claim.kind)
        if handler is None:
            raise ServiceError(reason="unknown_kind", kind=claim.kind)
        ctx = JobContext(db.session, claim.params, store, clock(), progress)
        outcome = handler(ctx)
        if jobs.finish(db.session, claim, outcome, store=store, now=clock()):
            db.session.commit()
            log.info("job %s (%s) done", claim.id, claim.kind)
        else:
            db.session.rollback()
            log.warning("job %s (%s): lease lost, work rolled back", claim.id, claim.kind)
    except ServiceError as exc:
        db.session.rollback()
        jobs.fail(db.engine, claim, exc, now=clock())
        log.info("job %s (%s) failed: %s", claim.id, claim.kind, exc.code)
    except Exception:
        db.session.rollback()
        log.exception("job %s (%s) crashed", claim.id, claim.kind)
        jobs.fail(db.engine, claim, ServiceError(), now=clock())
    finally:
        stop.set()
        beat.join()


def _heartbeat(progress: jobs.Progress, stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        try:
            progress.touch()
        except Exception:  # a missed beat is retried; the lease is several beats long
            log.exception("job %s: heartbeat failed", progress.claim.id)


class Worker:
    """A loop that runs jobs until stopped; woken at once when a job is queued here."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.pid: int | None = None

    def loop(self) -> None:
        """Run jobs; wait ``JOBS_POLL_SECONDS`` (or a wake-up) when none is waiting."""
        poll = self.app.config["JOBS_POLL_SECONDS"]
        while not self.stopping.is_set():
            try:
                ran = work_once(self.app)
            except Exception:  # the database went away: wait and try again
                log.exception("job worker: claim failed")
                ran = None
            if ran is None:
                self.wake.wait(poll)
                self.wake.clear()

    def ensure_running(self) -> None:
        """Start the thread in this process if it is not running (after a fork it is not)."""
        if self.thread is not None and self.thread.is_alive() and self.pid == os.getpid():
            return
        self.pid = os.getpid()
        self.stopping.clear()
        self.thread = threading.Thread(target=self.loop, daemon=True, name="taphuan-jobs")
        self.thread.start()

    def stop(self, timeout: float = 10) -> None:
        """Stop the loop after the job it runs (tests; the process's end stops it anyway)."""
        self.stopping.set()
        self.wake.set()
        if self.thread is not None:
            self.thread.join(timeout)


def install(app: Flask) -> None:
    """Give the app its worker; started on the first request when ``JOBS_WORKER`` is on.

    :param app: the app.
    """
    worker = Worker(app)
    app.extensions[_EXTENSION] = worker
    if app.config["JOBS_WORKER"]:
        app.before_request(worker.ensure_running)


def wake(app: Flask) -> None:
    """Tell this process's worker a job was queued (it starts at once instead of polling).

    :param app: the app.
    """
    worker: Worker | None = app.extensions.get(_EXTENSION)
    if worker is not None and app.config["JOBS_WORKER"]:
        worker.ensure_running()
        worker.wake.set()


def worker_of(app: Flask) -> Worker:
    """The app's worker (the CLI runs its loop in the foreground)."""
    return app.extensions[_EXTENSION]
