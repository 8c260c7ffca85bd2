"""What the hot paths need to know of the set-up, cached per process and kept correct.

Every submission, every form list and every page of an API listing asks the same questions:
whose token is this and which forms (and units) may it use, is this form open and which
versions does it have, how is this version typed and keyed, does anything project it. The
answers change only when an administrator changes the set-up, which happens a few times a
day; asking the database each time cost a third of the ingest's CPU (and, for a listing page,
as much as the page's own query). So they are cached here, in two kinds:

* **forever**, what never changes: a version's schema, indexed for typing (keyed by the
  version's id *and* the md5 of its XML, so a different database cannot be confused with it);
* **per generation**, what rarely does: devices by token, API callers by token, forms,
  version facts with the answer key, the form list. ``setup_generation``
  (``server/models/setup.py``) is bumped by triggers in the same transaction as any change
  to those tables; each request reads it once
  (:meth:`SetupCache.sync`) and the caches start again when it moved. Correct across processes
  and writers, for the price of one tiny query per request.

A value loaded during a request is only stored if the cache is still at the generation that
request saw: a slow request can never put an older answer into a newer cache.

One cache per database engine: the tests run many apps and databases in one process, and ids
repeat across databases.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.domain.instances import index_fields
from server.domain.scoring import KeyItem
from server.domain.tna import competencies
from server.models import (
    AnswerKey,
    ApiToken,
    Device,
    Form,
    FormVersion,
    SetupGeneration,
    User,
    device_forms,
    user_forms,
)

#: The answers a course and a trainee are read from (``scoring``): a form with none of these and
#: no key has nothing to link.
LINK_FIELDS = frozenset({"course_code", "trainee_id", "staff_id"})
_SESSION_KEY = "setup_generation"
#: At most this many derived values (and API callers) are kept per generation.
MAX_DERIVED = 512


#: Read on every request: as plain SQL on the session's connection, without the ORM's
#: statement handling, which cost as much as the round trip (~0.2 ms of a formList's ~1.2).
_READ_GENERATION = str(
    sa.select(SetupGeneration.value)
    .where(SetupGeneration.id == sa.literal_column("1"))
    .compile(compile_kwargs={"literal_binds": True})
)


@dataclass(frozen=True)
class DeviceFacts:
    """A device token's holder: an active device and the forms it may use."""

    id: int
    label: str
    form_pks: frozenset[int]


@dataclass(frozen=True)
class ApiCaller:
    """An API token's holder, as the permission policy sees them: an active user.

    What ``permissions.subject_of`` reads of a User, and nothing else: views that take their
    caller from the cache (``server.web.api.caller_from_cache``) use it only through the policy.
    """

    id: int
    username: str
    role: str
    form_pks: frozenset[int]
    unit_codes: tuple[str, ...]


@dataclass(frozen=True)
class FormFacts:
    """A form's state and its versions by version string."""

    id: int
    form_id: str
    state: str
    #: version string → (version id, XForm md5)
    versions: dict[str, tuple[int, str]]


@dataclass(frozen=True)
class VersionFacts:
    """How a version's submissions are typed, keyed and projected."""

    id: int
    md5: str
    #: Schema fields by instance path (``typed_data``, ``binary_values``).
    fields: dict[str, Any]
    #: The answer key (empty: not a scored test).
    key: tuple[KeyItem, ...]
    #: Competencies rated (empty: not a needs assessment).
    rated: tuple[str, ...]
    #: Whether the version asks for a course or a trainee code.
    names_course_or_trainee: bool


@dataclass
class _Generation:
    number: int | None = None
    devices: dict[str, DeviceFacts | None] = field(default_factory=dict)
    api_callers: dict[str, ApiCaller] = field(default_factory=dict)
    forms: dict[str, FormFacts] = field(default_factory=dict)
    versions: dict[int, VersionFacts] = field(default_factory=dict)
    #: Anything else a surface derives from the set-up (the rendered form list).
    derived: dict[Any, Any] = field(default_factory=dict)


class SetupCache:
    """The per-process cache of one app (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current = _Generation()
        self._schemas: dict[tuple[int, str], dict[str, Any]] = {}
        self._xml: dict[tuple[int, str], bytes] = {}

    def sync(self, session: Session) -> int:
        """Read the generation (once per transaction) and start again if it moved.

        :param session: the request's session; the number is remembered in ``session.info``
            until the transaction ends, so a request reads it once before it commits.
        :return: the generation this request works with.
        """
        seen = session.info.get(_SESSION_KEY)
        if seen is not None:
            return seen
        number = session.connection().exec_driver_sql(_READ_GENERATION).scalar_one()
        session.info[_SESSION_KEY] = number
        with self._lock:
            if self._current.number is None or number > self._current.number:
                self._current = _Generation(number)  # numbers only grow: never go back
        return number

    def device(self, session: Session, token_sha256: str) -> DeviceFacts | None:
        """The active device holding this token, or None (unknown or revoked).

        Only tokens the database holds are kept (as many as there are devices): an unknown
        token costs a query each time.
        """
        generation = self._at(session)
        if token_sha256 in generation.devices:
            return generation.devices[token_sha256]
        row = session.execute(
            sa.select(Device.id, Device.label, Device.revoked_at).where(
                Device.token_sha256 == token_sha256
            )
        ).one_or_none()
        if row is None:  # not kept: a stream of made-up tokens must not fill the memory
            return None
        facts = None
        if row.revoked_at is None:
            forms = session.scalars(
                sa.select(device_forms.c.form_pk).where(device_forms.c.device_id == row.id)
            )
            facts = DeviceFacts(row.id, row.label, frozenset(forms))
        self._store(generation, generation.devices, token_sha256, facts)
        return facts

    def api_caller(self, session: Session, token_sha256: str) -> ApiCaller | None:
        """The active user holding this API token, or None (unknown, revoked or disabled).

        Only known tokens are kept (at most :data:`MAX_DERIVED`): a stream of wrong tokens
        costs a query each, as before, and cannot fill the memory.
        """
        generation = self._at(session)
        facts = generation.api_callers.get(token_sha256)
        if facts is not None:
            return facts
        row = session.execute(
            sa.select(User.id, User.username, User.role, User.unit_codes)
            .join(ApiToken, ApiToken.user_id == User.id)
            .where(
                ApiToken.token_sha256 == token_sha256,
                ApiToken.revoked_at.is_(None),
                User.is_active.is_(True),
            )
        ).one_or_none()
        if row is None:
            return None
        forms = session.scalars(
            sa.select(user_forms.c.form_pk).where(user_forms.c.user_id == row.id)
        )
        facts = ApiCaller(
            row.id, row.username, row.role, frozenset(forms), tuple(row.unit_codes or ())
        )
        if len(generation.api_callers) >= MAX_DERIVED:
            generation.api_callers.clear()
        self._store(generation, generation.api_callers, token_sha256, facts)
        return facts

    def form(self, session: Session, form_id: str) -> FormFacts | None:
        """The form with this id and its versions, or None.

        Only forms that exist are kept: ids sent for no form cost a query each time, so a
        stream of made-up ids cannot fill the memory.
        """
        generation = self._at(session)
        facts = generation.forms.get(form_id)
        if facts is not None:
            return facts
        row = session.execute(
            sa.select(Form.id, Form.state).where(Form.form_id == form_id)
        ).one_or_none()
        if row is None:
            return None
        versions = {
            v.version: (v.id, v.md5)
            for v in session.execute(
                sa.select(FormVersion.id, FormVersion.version, FormVersion.md5).where(
                    FormVersion.form_pk == row.id
                )
            )
        }
        facts = FormFacts(row.id, form_id, row.state, versions)
        self._store(generation, generation.forms, form_id, facts)
        return facts

    def version(self, session: Session, version_id: int, md5: str) -> VersionFacts:
        """Typing, key and projection facts of a version."""
        generation = self._at(session)
        facts = generation.versions.get(version_id)
        if facts is not None and facts.md5 == md5:
            return facts
        fields = self._schemas.get((version_id, md5))
        if fields is None:
            schema = session.execute(
                sa.select(FormVersion.schema).where(FormVersion.id == version_id)
            ).scalar_one()
            fields = index_fields(schema["fields"])
            with self._lock:
                self._schemas[(version_id, md5)] = fields
        key = answer_key(session, version_id)
        names = {path.rsplit("/", 1)[-1] for path in fields}
        facts = VersionFacts(
            version_id,
            md5,
            fields,
            key,
            competencies(fields.values()),
            bool(names & LINK_FIELDS),
        )
        self._store(generation, generation.versions, version_id, facts)
        return facts

    def form_xml(self, session: Session, version_id: int, md5: str) -> bytes:
        """A version's XForm bytes (kept forever: a version's XML never changes)."""
        xml = self._xml.get((version_id, md5))
        if xml is None:
            xml = session.execute(
                sa.select(FormVersion.xml).where(FormVersion.id == version_id)
            ).scalar_one()
            with self._lock:
                self._xml[(version_id, md5)] = xml
        return xml

    def derived(self, session: Session, key: Any, build) -> Any:
        """A value derived from the set-up (built by ``build()`` once per generation)."""
        generation = self._at(session)
        if key in generation.derived:
            return generation.derived[key]
        value = build()
        if len(generation.derived) >= MAX_DERIVED:
            generation.derived.clear()  # keys carry request data (the host): stay bounded
        self._store(generation, generation.derived, key, value)
        return value

    def _at(self, session: Session) -> _Generation:
        number = self.sync(session)
        with self._lock:
            current = self._current
        # A session that saw an older number than the cache holds works uncached: what it
        # loads may be older than what the cache already knows.
        return current if current.number == number else _Generation(number)

    def _store(self, generation: _Generation, table: dict, key: Any, value: Any) -> None:
        with self._lock:
            if self._current is generation:
                table[key] = value


def answer_key(session: Session, version_id: int) -> tuple[KeyItem, ...]:
    """A version's answer key as scoring reads it, in its own order (as imported).

    Cached with the version's facts here; read as it stands by a re-scoring
    (``scoring.rebuild``), which may run in the transaction that changed it.
    """
    return tuple(
        KeyItem(k.item, k.qtype, tuple(k.correct), k.points, k.status == "dropped")
        for k in session.execute(
            sa.select(AnswerKey)
            .where(AnswerKey.form_version_id == version_id)
            .order_by(AnswerKey.id)
        ).scalars()
    )


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_generation(session: Session, _transaction) -> None:
    """A new transaction may see a newer set-up: read the generation again then."""
    session.info.pop(_SESSION_KEY, None)


_caches: weakref.WeakKeyDictionary[sa.Engine, SetupCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def setup_cache(session: Session) -> SetupCache:
    """The cache of the database this session talks to (created on first use)."""
    engine = session.get_bind()
    cache = _caches.get(engine)
    if cache is None:
        with _caches_lock:
            cache = _caches.setdefault(engine, SetupCache())
    return cache
