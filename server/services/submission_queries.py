"""Listing submissions: filters, the readable set per user, and keyset pagination.

Pages are ordered by (received_at, id) descending and continue *after* a position, never at an
offset, so paging stays fast and stable while new submissions arrive. A page is one SELECT of
the columns a listing shows (attachment counts kept on the row by triggers, the submitter's
name joined), never ORM objects: loading each row's ``xml`` and ``data`` and then its attachments
one query per row cost 0.7 ms a row.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect
from sqlalchemy.orm import Session, aliased

from server.database import BINARY_RESULTS
from server.models import Device, Form, FormVersion, Submission, User
from server.services.setup_cache import FormFacts
from server.services.units import load_unit_scope


@dataclass(frozen=True)
class SubmissionFilters:
    """What the caller asked for; every field is optional."""

    version: str | None = None
    received_from: dt.datetime | None = None
    received_to: dt.datetime | None = None
    submitted_from: dt.datetime | None = None
    submitted_to: dt.datetime | None = None
    unit: str | None = None
    submitter: str | None = None
    review_state: str | None = None
    q: str | None = None
    include_deleted: bool = False
    #: The reader's own units (a planner's): only submissions under them; None = no limit.
    within_units: tuple[str, ...] | None = None


@dataclass
class Page:
    """One page of rows and the position after its last row (None on the last page).

    Rows carry :data:`LISTED` in its order (plus ``data_json``, the stored answers as JSON
    text, when asked): named rows, or plain tuples where the caller asked for them.
    """

    rows: list[sa.Row] | list[tuple]
    after: dict | None = field(default=None)


#: What a listing shows of each submission, in the order of a row's columns. The first
#: :data:`SHOWN` are the submission as a listing shows it, in the order the API's items name
#: them (``submitter`` a user name or ``device:<id>``; ``form_id`` the form's): a row's
#: prefix is an item, zipped with these names. The rest let a page label the submitter its
#: own way.
LISTED = (
    "id", "form_id", "version", "instance_id", "instance_name", "review_state", "received_at",
    "submitted_at", "submitter", "device_id", "unit_code", "is_encrypted", "is_deleted",
    "attachments_expected", "attachments_present",
    "submitter_user_id", "submitter_device_id", "submitter_name",
)  # fmt: skip
SHOWN = LISTED.index("attachments_present") + 1
#: Where a row holds its answers' JSON text (``with_data``).
DATA_AT = len(LISTED)
#: Rows of an API page (``as_items``): the position (id, received_at), the stored item
#: (``listed_item``, bytes on PostgreSQL), the answers' JSON text (NULL unless asked), then,
#: where the item may be missing, the shown columns.
ITEM_AT = 2
ITEM_DATA_AT = 3
ITEM_SHOWN_AT = 4
_ID_AT = LISTED.index("id")
_RECEIVED_AT = LISTED.index("received_at")


def item_after_id(values: dict, *, form_id: str, version: str, submitter: str | None) -> str:
    """A new row's API item after its id (``,"form_id":…}``), from the values it is inserted with.

    PostgreSQL's trigger (migration 0026) completes it with the id the insert draws; writing
    the whole item there cost every submission ~0.3 ms of database CPU. The text is what the
    listing renders for the row read back: times in UTC, no attachments yet (their rows come
    after the submission's, and their counting rewrites the item).

    :param values: the row's column values (``submissions._row_values``).
    :param form_id: the form's id.
    :param version: the version's name.
    :param submitter: the submitter as listed (a user name, ``device:<id>``, or None).
    :return: the item's text after ``{"id":<id>``.
    """
    submitted = values["submitted_at"]
    item = {
        "form_id": form_id, "version": version, "instance_id": values["instance_id"],
        "instance_name": values["instance_name"], "review_state": values["review_state"],
        "received_at": values["received_at"].astimezone(dt.UTC),
        "submitted_at": None if submitted is None else submitted.astimezone(dt.UTC),
        "submitter": submitter, "device_id": values["device_id"],
        "unit_code": values["unit_code"], "is_encrypted": values["is_encrypted"],
        "is_deleted": False, "attachments_expected": 0, "attachments_present": 0,
    }  # fmt: skip
    return "," + orjson.dumps(item)[1:].decode()


#: Vietnam time: a submission's day, compared with the validity of units, is its local day.
VIETNAM = dt.timezone(dt.timedelta(hours=7))


def filters_to_params(filters: SubmissionFilters) -> dict:
    """The filters as plain JSON values (a background job's parameters)."""
    out = {}
    for name, value in vars(filters).items():
        if isinstance(value, dt.datetime):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        out[name] = value
    return out


def filters_from_params(params: dict) -> SubmissionFilters:
    """Filters back from :func:`filters_to_params`."""
    values = dict(params)
    for name in ("received_from", "received_to", "submitted_from", "submitted_to"):
        if values.get(name) is not None:
            values[name] = dt.datetime.fromisoformat(values[name])
    if values.get("within_units") is not None:
        values["within_units"] = tuple(values["within_units"])
    return SubmissionFilters(**values)


def count_submissions(session: Session, form: Form, filters: SubmissionFilters) -> int:
    """How many current submissions of a form match the filters."""
    query = submission_query(session, form, filters).with_only_columns(Submission.id)
    return session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0


def unit_clause(session: Session, code: str) -> sa.ColumnElement[bool]:
    """The condition "this submission's unit falls under the unit code", across the reform.

    A submission holds a unit code and a day (when it was finished on the device, or else
    received). The code covers its sub-units and, for a 2025 unit, the former units that
    became part of it; a reused code or a former code counts by the day (see
    :class:`server.domain.units.UnitScope`).

    :param session: the database session (to read the units).
    :param code: the unit code filtered on.
    :return: a WHERE clause on Submission.
    """
    scope = load_unit_scope(session, code)
    if not scope.covered:  # a code we do not know: match it literally
        return Submission.unit_code == code
    day = sa.func.coalesce(Submission.submitted_at, Submission.received_at)
    clauses = []
    for codes, first, last in sorted(scope.code_windows(), key=lambda w: sorted(w[0])):
        parts = [Submission.unit_code.in_(sorted(codes))]
        if first is not None:
            parts.append(day >= dt.datetime.combine(first, dt.time(), VIETNAM))
        if last is not None:
            end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), VIETNAM)
            parts.append(day < end)
        clauses.append(sa.and_(*parts))
    return sa.or_(*clauses)


def scope_clause(
    session: Session, unit_codes: tuple[str, ...] | None
) -> sa.ColumnElement[bool] | None:
    """The condition "under one of these units" for a reader's unit scope.

    :param session: the database session.
    :param unit_codes: from ``permissions.units_of``: None = no limit, () = nothing.
    :return: a WHERE clause on Submission, or None when there is no limit.
    """
    if unit_codes is None:
        return None
    if not unit_codes:
        return sa.false()
    return sa.or_(*(unit_clause(session, code) for code in unit_codes))


def unit_ids_under(session: Session, code: str, on: dt.date) -> set[int]:
    """The units under which a posting counts for a filter on ``code`` on day ``on``.

    :param session: the database session.
    :param code: the unit code filtered on.
    :param on: the day.
    :return: unit ids: the unit, its sub-units and former units (see ``UnitScope``).
    """
    return load_unit_scope(session, code).ids_on(on)


def submission_query(
    session: Session, form: Form | FormFacts, filters: SubmissionFilters
) -> sa.Select:
    """Build the SELECT of current submissions of a form matching the filters.

    :param session: the database session (to expand units).
    :param form: the form.
    :param filters: the filters.
    :return: a select of Submission, unordered.
    """
    query = sa.select(Submission).where(
        Submission.form_pk == form.id, Submission.is_current.is_(True)
    )
    if not filters.include_deleted:
        query = query.where(Submission.deleted_at.is_(None))
    if filters.version is not None:
        query = query.join(FormVersion, FormVersion.id == Submission.form_version_id).where(
            FormVersion.version == filters.version
        )
    for column, low, high in (
        (Submission.received_at, filters.received_from, filters.received_to),
        (Submission.submitted_at, filters.submitted_from, filters.submitted_to),
    ):
        if low is not None:
            query = query.where(column >= low)
        if high is not None:
            query = query.where(column < high)
    if filters.unit:
        query = query.where(unit_clause(session, filters.unit))
    if filters.within_units is not None:
        query = query.where(scope_clause(session, filters.within_units))
    if filters.submitter:
        query = query.where(_submitter_clause(filters.submitter))
    if filters.review_state:
        query = query.where(Submission.review_state == filters.review_state)
    if filters.q:
        pattern = "%" + filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Submission.instance_name.ilike(pattern + "%", escape="\\"))
    return query


def _submitter_clause(submitter: str):
    number = submitter.removeprefix("device:")
    # ASCII digits only: str.isdigit() also accepts "²" and "٣", which int() refuses or reads.
    if number != submitter and number.isascii() and number.isdigit():
        return Submission.submitter_device_id == int(number)
    user_ids = sa.select(User.id).where(User.username == submitter).scalar_subquery()
    device_ids = sa.select(Device.id).where(Device.label == submitter).scalar_subquery()
    return sa.or_(
        Submission.submitter_user_id.in_(user_ids), Submission.submitter_device_id.in_(device_ids)
    )


def _listed_columns(version: type[FormVersion], with_data: bool, as_items: bool) -> list:
    """The columns of a listed row (:data:`LISTED`, or an API page's: see :data:`ITEM_AT`).

    The submitter is worded here, as the API shows it: rows go out as they come, zipped with
    their names, without a Python step per row. The form's id is the ``form_id`` parameter.
    """
    # Constants as SQL text: the unfiltered page runs as compiled SQL, without SQLAlchemy's
    # parameters (see _unfiltered_page).
    device = sa.literal_column("'device:'", sa.String) + sa.cast(
        Submission.submitter_device_id, sa.String
    )
    submitter = sa.case(
        (Submission.submitter_user_id.is_not(None), User.username),
        (Submission.submitter_device_id != sa.literal_column("0"), device),
    )
    columns = [
        Submission.id, sa.bindparam("form_id", type_=sa.String).label("form_id"),
        version.version, Submission.instance_id, Submission.instance_name,
        Submission.review_state, Submission.received_at, Submission.submitted_at,
        submitter.label("submitter"), Submission.device_id, Submission.unit_code,
        Submission.is_encrypted, Submission.deleted_at.is_not(None).label("is_deleted"),
        Submission.attachments_expected, Submission.attachments_present,
        Submission.submitter_user_id, Submission.submitter_device_id,
        User.username.label("submitter_name"),
    ]  # fmt: skip
    if as_items:  # only read where an item is missing: every row on SQLite, rarely elsewhere
        return [*_item_columns(with_data), *columns[:SHOWN]]
    if with_data:
        columns.append(_data_json())
    return columns


def _data_json():
    """The stored answers as JSON text, handed on without being decoded and encoded again."""
    return sa.cast(Submission.data, sa.Text).label("data_json")


def _item_columns(with_data: bool) -> list:
    """An API page's first columns (:data:`ITEM_AT`): what a row with a stored item needs.

    An API page reads the item PostgreSQL wrote for each row (migration 0026): turning
    fifteen columns into Python values, a dict and JSON again cost a 1,000-row page ~4 ms of
    its ~9, and the joins and the columns of rows that have an item another ~1 ms.
    """
    data = _data_json() if with_data else sa.null().label("data_json")
    return [Submission.id, Submission.received_at, Submission.listed_item, data]


def _page_statement(
    query: sa.Select,
    version,
    *,
    with_data: bool,
    with_after: bool,
    as_items: bool = False,
    stored: bool = False,
) -> sa.Select:
    """The page statement over a filtered query, with its position and size as parameters.

    Parameters: ``form_id``, ``after_received`` and ``after_id`` (when ``with_after``),
    ``page_limit``.
    The attachment counts are the submission's own columns, kept by triggers on its
    attachments (migration 0022): counting them per page, even in one grouped pass over the
    page's rows, cost the database about half of the page.

    ``stored``: an API page's stored items only (:func:`_item_columns`), without the joins
    that only the shown columns need.
    """
    if stored:
        query = query.with_only_columns(*_item_columns(with_data))
    else:
        query = (
            query.with_only_columns(*_listed_columns(version, with_data, as_items))
            .join(version, version.id == Submission.form_version_id)
            .outerjoin(User, User.id == Submission.submitter_user_id)
        )
    if with_after:
        # A row-value comparison, so that the index on (form, received_at, id) starts the page
        # at the position (an OR of two conditions made PostgreSQL scan every earlier page).
        position = sa.tuple_(Submission.received_at, Submission.id)
        query = query.where(
            position
            < sa.tuple_(
                sa.bindparam("after_received", type_=Submission.received_at.type),
                sa.bindparam("after_id", type_=sa.Integer),
            )
        )
    newest_first = (Submission.received_at.desc(), Submission.id.desc())
    return query.order_by(*newest_first).limit(sa.bindparam("page_limit", type_=sa.Integer))


@functools.cache
def _unfiltered_page(
    dialect: str, *, deleted: bool, with_data: bool, with_after: bool, as_items: bool, stored: bool
):
    """The page statement of an unfiltered walk, built and compiled once per process.

    The walk a sync client makes (Power Query, R, a Central-style mirror) has no filter; its
    statement was rebuilt and its cache key computed on every page, about as long as the
    database took for the page. On PostgreSQL it runs as compiled SQL straight on the driver:
    the session speaks UTC, so times come back tagged UTC and need no result processing.
    """
    query = sa.select(Submission).where(
        Submission.form_pk == sa.bindparam("form_pk", type_=sa.Integer),
        Submission.is_current.is_(True),
    )
    if not deleted:
        query = query.where(Submission.deleted_at.is_(None))
    statement = _page_statement(
        query,
        aliased(FormVersion),
        with_data=with_data,
        with_after=with_after,
        as_items=as_items,
        stored=stored,
    )
    if dialect != "postgresql":
        return statement, None
    return statement, str(statement.compile(dialect=psycopg_dialect.dialect()))


def list_submissions(
    session: Session,
    form: Form | FormFacts,
    filters: SubmissionFilters,
    *,
    limit: int,
    after: dict | None = None,
    with_data: bool = False,
    named: bool = True,
    as_items: bool = False,
) -> Page:
    """One page of a form's current submissions, newest first, in one statement.

    :param session: the database session.
    :param form: the form (its cached facts do).
    :param filters: the filters.
    :param limit: page size.
    :param after: the position to continue after ({"received_at": iso, "id": n}), or None.
    :param with_data: also each row's answers, as the JSON text stored (``data_json``).
    :param named: rows with the attributes of :data:`LISTED`; False: plain tuples where the
        database gives them (the API's pages: a named row costs more than its columns).
    :param as_items: rows of an API page (:data:`ITEM_AT`): each row's stored item, and its
        shown columns only where it has none.
    :return: the page; rows hold :data:`LISTED` in its order (:data:`ITEM_AT`'s when
        ``as_items``).
    """
    params: dict = {"page_limit": limit + 1, "form_pk": form.id, "form_id": form.form_id}
    if after is not None:
        params["after_received"] = dt.datetime.fromisoformat(after["received_at"])
        params["after_id"] = int(after["id"])
    shape = {"with_data": with_data, "with_after": after is not None, "as_items": as_items}
    if as_items and session.get_bind().dialect.name == "postgresql":
        # Every row has its item there, but one written while the trigger was off: then the
        # page again with the columns of such rows.
        rows = _page_rows(session, form, filters, params, named, stored=True, **shape)
        if any(row[ITEM_AT] is None for row in rows):
            rows = _page_rows(session, form, filters, params, named, stored=False, **shape)
    else:
        rows = _page_rows(session, form, filters, params, named, stored=False, **shape)
    page = Page(rows=rows[:limit])
    if len(rows) > limit:
        last = rows[limit - 1]
        received, row_id = (last[1], last[0]) if as_items else (last[_RECEIVED_AT], last[_ID_AT])
        page.after = {"received_at": received.isoformat(), "id": row_id}
    return page


def _page_rows(session, form, filters, params, named, **shape) -> list:
    """The rows of one page statement (:func:`_page_statement`'s shape)."""
    connection = session.connection()
    if filters == SubmissionFilters(include_deleted=filters.include_deleted):
        statement, sql = _unfiltered_page(
            connection.dialect.name, deleted=filters.include_deleted, **shape
        )
    else:
        # the version filter may join FormVersion already
        statement = _page_statement(
            submission_query(session, form, filters), aliased(FormVersion), **shape
        )
        sql = None
    # Stored items as the bytes PostgreSQL sent: they go out as they came in.
    options = {BINARY_RESULTS: True} if shape["stored"] else {}
    # Core rows on the session's connection: the ORM's loading layer only wraps plain columns.
    if sql is None:
        return connection.execute(statement, params, execution_options=options).all()
    result = connection.exec_driver_sql(sql, params, execution_options=options)
    # The driver's own tuples (its cursor is the result's public ``cursor``).
    rows = result.all() if named else result.cursor.fetchall()
    result.close()
    return rows


def history(session: Session, row: Submission) -> list[Submission]:
    """Every version of the record the row belongs to, oldest first."""
    root = row.root_id or row.id
    return list(
        session.execute(
            sa.select(Submission)
            .where(sa.or_(Submission.id == root, Submission.root_id == root))
            .order_by(Submission.id)
        ).scalars()
    )
