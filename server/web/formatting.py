"""Vietnamese display of numbers and times in pages: "2.592", "92,3", "22/11/2026 08:15".

Times are stored in UTC and shown in Vietnam's time zone (UTC+7, no daylight saving).
"""

from __future__ import annotations

import datetime as dt

from flask import Flask

VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")


def vi_number(value: float | int | None, decimals: int = 0) -> str:
    """Format a number the Vietnamese way: dot for thousands, comma for decimals.

    :param value: the number (None shows as an empty string).
    :param decimals: digits after the decimal comma.
    :return: the text.
    """
    if value is None:
        return ""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def vi_datetime(value: dt.datetime | None) -> str:
    """Format an aware UTC datetime as dd/mm/yyyy HH:MM in Vietnam's time zone.

    :param value: the time (None shows as an empty string).
    :return: the text.
    """
    if value is None:
        return ""
    return value.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")


def vi_date(value: dt.date | None) -> str:
    """Format a date as dd/mm/yyyy.

    :param value: the date (None shows as an empty string).
    :return: the text.
    """
    return value.strftime("%d/%m/%Y") if value else ""


def register(app: Flask) -> None:
    """Make the formatters available as Jinja filters.

    :param app: the app.
    """
    app.add_template_filter(vi_number)
    app.add_template_filter(vi_datetime)
    app.add_template_filter(vi_date)
