"""Declarative base, constraint naming and the UTC timestamp column type shared by all models."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase

#: Named constraints make migrations reproducible on both databases (SQLite batch mode needs
#: names to drop or recreate a constraint).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base class of every model."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp that is always timezone-aware UTC in Python, whatever the database.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so the value is stored as naive
    UTC and tagged as UTC again when read. A naive datetime is refused on the way in: it is a bug
    to guess its zone.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect):
        """Convert an aware datetime to what the database stores."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware UTC value")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: sa.Dialect):
        """Return an aware UTC datetime."""
        if value is None or value.tzinfo is dt.UTC:  # PostgreSQL sessions speak UTC
            return value
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def aware_utc(moment: dt.datetime | None) -> dt.datetime | None:
    """Tag a naive UTC value as UTC (an aware one is returned as it is).

    An aggregate (``max``) skips the column type's conversion on SQLite, so it comes back naive.
    """
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


def utcnow() -> dt.datetime:
    """Return the current time as an aware UTC datetime (the default of every ``*_at`` column)."""
    return dt.datetime.now(dt.UTC)
