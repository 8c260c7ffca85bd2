"""The one road in for submissions: parse once, authorise, store, commit, then project.

OpenRosa posts from Collect come here today; KoBo and Central pulls and web uploads must come
here too, so that every submission gets the same rules, the same unit of work and the same
projections. :meth:`Intake.receive` owns the unit of work:

1. **parse once**: the envelope (form, version, instanceID) and then, with the version's
   cached schema, one :class:`~server.domain.instances.ParsedInstance`;
2. **authorise** against the cached set-up (``setup_cache``): the form exists, the actor may
   use it, it is not closed, the version exists;
3. **store** by the instanceID rules (``submissions.store_submission``): a new instance is one
   INSERT, a retry or an edit loads what it must; a new row's export line (its answer cells as
   CSV text, ``export_lines``) is one INSERT more, or on PostgreSQL part of the row's INSERT
   (rendered before it from the row's values: one round trip for both);
4. **commit**, retried once when two requests raced on the same record (the unique constraint
   refused the loser, which then sees the winner's row as an ordinary resubmission). Only now
   may the surface answer 201;
5. **the projections** of the registry (``projections.PROJECTIONS``) that apply to the
   version, then the explicit completion of the enrolment a passed post-test earned, run
   *before that commit, in the same transaction*: one commit per submission, not two (a
   second transaction was two more round trips, a third of a scored test's statements). If
   one raises, everything is rolled back, the submission is stored again on its own and
   committed, and the projections run **after the commit**, in a transaction of their own.
   Whatever happens to them is logged and never changes the answer: the submission is
   stored, and ``flask --app wsgi scores rebuild`` redoes any projection. If the projections
   fail together after the commit, each is tried again alone so that one broken projection
   does not hold back the others.

The hot path costs, for a new submission from a device token: one read of the set-up
generation, two INSERTs (one statement on PostgreSQL) and the commit, plus the projections that
apply (none for a plain survey). Everything else comes from the per-process caches.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.domain.instances import ParsedInstance, XmlLimits, parse_instance, read_instance
from server.errors import FormClosed, FormNotAssigned, FormNotFound, FormVersionNotFound
from server.models.integrity import conflict_for
from server.services.attachment_store import AttachmentStore
from server.services.enrolments import complete_enrolment
from server.services.export_lines import keep_line, line_cells
from server.services.exports import submitter
from server.services.projections import (
    Projection,
    StoredSubmission,
    applicable,
    record_failures,
)
from server.services.setup_cache import SetupCache, VersionFacts, setup_cache
from server.services.submission_queries import item_after_id
from server.services.submissions import (
    IncomingFile,
    Origin,
    Receipt,
    check_files,
    store_submission,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IntakeResult:
    """What the surface tells the sender: the stored id, what happened, files still missing."""

    submission_id: int
    instance_id: str
    status: str
    missing: list[str]


#: What an export line is rendered from (``Intake._keep_export_line``).
_LINE_FIELDS = ("form_pk", "is_encrypted", "data", "submitter_user_id", "submitter_device_id",
                "device_id", "received_at", "submitted_at")  # fmt: skip


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Intake:
    """The unit of work of receiving one submission (see the module docstring)."""

    def __init__(
        self,
        session: Session,
        store: AttachmentStore,
        *,
        limits: XmlLimits | None = None,
        cache: SetupCache | None = None,
        clock: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        """Bind the intake to a session and an attachment store.

        :param session: the database session; the intake commits it.
        :param store: where attachment bytes go.
        :param limits: the XML limits (the settings); default :class:`XmlLimits`.
        :param cache: the set-up cache; default: the session's database's.
        :param clock: the receipt time (aware UTC).
        """
        self.session = session
        self.attachments = store
        self.limits = limits
        self.cache = cache if cache is not None else setup_cache(session)
        self.clock = clock
        self._facts: VersionFacts | None = None
        self._parsed: ParsedInstance | None = None

    def receive(self, xml: bytes, files: list[IncomingFile], origin: Origin) -> IntakeResult:
        """Store a submission durably, then project it.

        :param xml: the submission XML exactly as received.
        :param files: the other parts; only those the XML references are kept.
        :param origin: who sent it, from which device and client.
        :return: what happened (committed: the surface may answer 201).
        :raises ServiceError: every refusal of :meth:`store`; nothing is stored then.
        """
        now = self.clock()
        receipt = self._commit(xml, files, origin, now, project=True)
        if receipt is None:  # a projection raised: the submission alone, then project apart
            receipt = self._commit(xml, files, origin, now, project=False)
            self._project(receipt, self._facts, now)
        return IntakeResult(
            receipt.submission_id, self._parsed.instance_id, receipt.status, receipt.missing
        )

    def _commit(
        self,
        xml: bytes,
        files: list[IncomingFile],
        origin: Origin,
        now: dt.datetime,
        *,
        project: bool,
    ) -> Receipt | None:
        """Store (and project, if asked) in one transaction and commit it.

        The commit is retried once when two requests raced on the same record.

        :return: the receipt; None when a projection raised (everything rolled back).
        """
        for attempt in (1, 2):
            try:
                receipt = self.store(xml, files, origin, now=now)
                if project and not self._project_inline(receipt, now):
                    return None
                self.session.commit()
                return receipt
            except IntegrityError as exc:
                self.session.rollback()
                if attempt == 2:
                    raise conflict_for(exc) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _project_inline(self, receipt: Receipt, now: dt.datetime) -> bool:
        """Run the projections in the submission's own transaction (one commit, not two).

        :return: False if one raised: the transaction is rolled back then, so the caller
            stores the submission again on its own and projects after that commit.
        """
        projections = applicable(self._facts)
        if not projections:
            return True
        try:
            self._apply(projections, _stored(receipt), self._facts, now)
        except Exception:
            self.session.rollback()
            logger.info("projecting submission %s apart", self._parsed.instance_id, exc_info=True)
            return False
        return True

    def store(
        self, xml: bytes, files: list[IncomingFile], origin: Origin, *, now: dt.datetime
    ) -> Receipt:
        """Read, authorise and store (flushed, not committed).

        :raises MalformedSubmission: unreadable XML, XML past the limits, no form id, encrypted
            without instanceID.
        :raises InvalidAttachment: bad part names, or too many parts.
        :raises FormNotFound, FormVersionNotFound: unknown form or version.
        :raises FormNotAssigned: the actor may not submit to this form.
        :raises FormClosed: the form refuses submissions.
        :raises SubmissionConflict, SubmissionDeleted, SubmissionOutdated, SubmissionExists,
            SubmissionNotFound, EditNotAllowed: the instanceID rules (``submissions``).
        """
        check_files(files)
        envelope = read_instance(xml, limits=self.limits)
        form = self.cache.form(self.session, envelope.form_id)
        if form is None:
            raise FormNotFound(reason="not_on_server", form_id=envelope.form_id)
        if not origin.actor.may_use(form):
            raise FormNotAssigned(reason="actor", form_id=form.form_id, actor=origin.actor.label)
        if form.state == "closed":
            raise FormClosed(form_id=form.form_id)
        version = form.versions.get(envelope.version)
        if version is None:
            raise FormVersionNotFound(form_id=form.form_id, version=envelope.version)
        version_id, version_md5 = version
        self._facts = self.cache.version(self.session, version_id, version_md5)
        md5 = hashlib.md5(xml).hexdigest()  # noqa: S324 (identity of bytes, not security)
        self._parsed = parse_instance(envelope, md5, self._facts.fields)
        receipt = store_submission(
            self._parsed,
            xml,
            files,
            form_pk=form.id,
            version_id=version_id,
            origin=origin,
            session=self.session,
            store=self.attachments,
            now=now,
            line=lambda values: self._line(values, envelope.version, origin),
            item=lambda values: self._item(values, form.form_id, envelope.version, origin),
        )
        if not receipt.line_done:
            self._keep_export_line(receipt, envelope.version, origin)
        return receipt

    def _keep_export_line(self, receipt: Receipt, version: str, origin: Origin) -> None:
        """The new row's export line, in the same unit of work (``services/export_lines``).

        Only a new row gets one (an edit is a new row too); a retry or added files change no
        answers. Rendering never refuses a submission; an unreadable row simply has no line.
        The line keeps the row's fixed metadata cells too, rendered from the values stored.
        On PostgreSQL a new instance's line was inserted with the row already
        (:meth:`_line`, ``Receipt.line_done``).
        """
        if receipt.status not in ("created", "edited"):
            return
        values = receipt.values
        if values is None:
            row = receipt.submission
            values = {name: getattr(row, name) for name in _LINE_FIELDS}
        if values["is_encrypted"]:  # nothing the server can read: no line
            return
        keep_line(
            self.session,
            form_pk=values["form_pk"],
            submission_id=receipt.submission_id,
            instance_id=self._parsed.instance_id,
            data=values["data"],
            meta=self._meta(values, version, origin),
        )

    def _line(self, values: dict, version: str, origin: Origin) -> dict | None:
        """The line of a row about to be inserted, from its values (None: keep none)."""
        if values["is_encrypted"]:
            return None
        return line_cells(
            self.session,
            form_pk=values["form_pk"],
            instance_id=self._parsed.instance_id,
            data=values["data"],
            meta=self._meta(values, version, origin),
        )

    @staticmethod
    def _submitter(values: dict, origin: Origin) -> tuple[bool, str | None]:
        """(known, name): the submitter as listed and exported, if this request names them.

        The requesting user's name, ``device:<id>`` for a device token, or None for neither;
        not known when the row names a user other than the one requesting (then the cells
        that show it are rendered from the row).
        """
        user = origin.actor.user
        user_id = values["submitter_user_id"]
        names = {user.id: user.username} if user is not None else {}
        if user_id is not None and user_id not in names:
            return False, None
        return True, submitter(names, user_id, values["submitter_device_id"])

    def _item(self, values: dict, form_id: str, version: str, origin: Origin) -> str | None:
        """The new row's listing item after its id (None: the database writes it all)."""
        known, who = self._submitter(values, origin)
        if not known:
            return None
        return item_after_id(values, form_id=form_id, version=version, submitter=who)

    def _meta(self, values: dict, version: str, origin: Origin) -> list | None:
        """The line's fixed metadata cells, rendered from the values stored.

        None: the cells are rendered from the row at download (a submitter this request does
        not name).
        """
        known, who = self._submitter(values, origin)
        if not known:
            return None
        return [self._parsed.instance_id, version, who, values["device_id"],
                values["received_at"], values["submitted_at"]]  # fmt: skip

    def _project(self, receipt: Receipt, facts: VersionFacts, now: dt.datetime) -> None:
        """Run the projections that apply, then complete the enrolment (never raises).

        Together first (one commit); if that fails, each alone, so one broken projection
        does not hold back the others. What still fails is kept (``ProjectionFailure``) for
        the dashboard, besides the log.
        """
        projections = applicable(facts)
        if not projections:
            return
        try:
            stored = _stored(receipt)
            self._run(projections, stored, facts, now)
            return
        except Exception as exc:
            self.session.rollback()
            logger.exception("could not project submission %s", receipt.submission_id)
            failed = {projections[0].name: exc} if len(projections) == 1 else {}
        if len(projections) > 1:
            for projection in projections:
                try:
                    self._run([projection], _stored(receipt), facts, now)
                except Exception as exc:
                    self.session.rollback()
                    failed[projection.name] = exc
                    logger.exception(
                        "projection %r failed for submission %s",
                        projection.name,
                        receipt.submission_id,
                    )
        self._keep_failures(receipt.submission_id, failed, now)

    def _keep_failures(
        self, submission_id: int, failed: dict[str, Exception], now: dt.datetime
    ) -> None:
        """Store what failed, for the dashboard (never raises: the log already has it)."""
        if not failed:
            return
        try:
            record_failures(self.session, submission_id, failed, now=now)
            self.session.commit()
        except Exception:
            self.session.rollback()
            logger.exception("could not keep the projection failures of %s", submission_id)

    def _run(
        self,
        projections: list[Projection],
        stored: StoredSubmission,
        facts: VersionFacts,
        now: dt.datetime,
    ) -> None:
        self._apply(projections, stored, facts, now)
        self.session.commit()

    def _apply(
        self,
        projections: list[Projection],
        stored: StoredSubmission,
        facts: VersionFacts,
        now: dt.datetime,
    ) -> None:
        """The projections, then the enrolment completions they found (no commit)."""
        completions = [p.run(self.session, stored, facts, now) for p in projections]
        for completion in completions:
            if completion is not None:
                complete_enrolment(self.session, completion)


def _stored(receipt: Receipt) -> StoredSubmission:
    """The projections' view of the stored row: from the inserted values, else the row."""
    values = receipt.values
    if values is not None:
        return StoredSubmission(
            id=receipt.submission_id,
            form_pk=values["form_pk"],
            form_version_id=values["form_version_id"],
            root_id=None,
            is_encrypted=values["is_encrypted"],
            data=values["data"],
            submitted_at=values["submitted_at"],
            received_at=values["received_at"],
        )
    row = receipt.submission
    return StoredSubmission(
        id=row.id,
        form_pk=row.form_pk,
        form_version_id=row.form_version_id,
        root_id=row.root_id,
        is_encrypted=row.is_encrypted,
        data=row.data or {},
        submitted_at=row.submitted_at,
        received_at=row.received_at,
    )
