"""Reports as neutral tables for the workbook writers, and the planners' working list.

Every table of a report becomes one sheet: headers in the chosen language (Vietnamese by
default), numbers as numbers (percentages as numbers of percent, unrounded: the cell format
shows one decimal), dates as dates. A suppressed cell stays a number in the workbook only when
the reader may see it: below ``min_cell`` it is left empty, as on the page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from sqlalchemy.orm import Session

from exports.table import Column, Table
from server.domain.report_model import Report, ReportTable
from server.services import needs_kpis
from server.services.needs_kpis import KPIS
from server.services.needs_report import (
    PERSON_KPIS,
    NeedsParams,
    build_context,
    kpi03_readings,
    period_for,
    targets_of,
)

_KINDS = {
    "text": "text",
    "count": "integer",
    "pct": "decimal",
    "decimal": "decimal",
    "date": "date",
    "p": "decimal",
}


def report_tables(report: Report, *, lang: str = "vi") -> list[Table]:
    """One neutral table per report table, plus a first sheet with the parameters and findings.

    :param report: the computed report.
    :param lang: 'vi' or 'en' (headers and labels).
    :return: the tables, in report order.
    """
    tables = [_about(report, lang)]
    tables.extend(_table(table, lang) for table in report.tables())
    return tables


def _about(report: Report, lang: str) -> Table:
    vi = lang != "en"
    rows = [
        ("Báo cáo" if vi else "Report", "Đánh giá nhu cầu đào tạo" if vi else "Training needs"),
        ("Đơn vị" if vi else "Unit", f"{report.unit_name} ({report.unit_code})"),
        ("Ngày báo cáo" if vi else "As of", report.as_of),
        ("Từ ngày" if vi else "Period from", report.parameters.get("period_from")),
        ("Đến ngày" if vi else "Period to", report.parameters.get("period_to")),
        ("Lập lúc (UTC)" if vi else "Generated (UTC)", report.generated_at.replace(tzinfo=None)),
    ]
    findings = report.findings_vi if vi else report.findings_en
    rows.extend(("Nhận định" if vi else "Finding", line) for line in findings)
    return Table(
        name="Thông tin" if vi else "About",
        columns=[
            Column("key", "Mục" if vi else "Item"),
            Column("value", "Giá trị" if vi else "Value"),
        ],
        rows=[(k, v.isoformat() if isinstance(v, dt.date) else v) for k, v in rows],
    )


def _table(table: ReportTable, lang: str) -> Table:
    columns = [Column(c.key, c.header(lang), _KINDS[c.kind]) for c in table.columns]

    def rows() -> Iterator[list]:
        for row in table.rows:
            values = []
            for column in table.columns:
                value = row.get(f"{column.key}_en") if lang == "en" else None
                if value is None:
                    value = row.get(column.key)
                if row.get("suppressed") and column.kind in {"decimal", "pct", "p"}:
                    value = None
                values.append(value)
            yield values

    return Table(name=table.id, columns=columns, rows=rows())


WORKING_COLUMNS = [
    Column("kpi", "Chỉ số"),
    Column("unit_code", "Mã đơn vị"),
    Column("unit", "Đơn vị"),
    Column("level", "Tuyến"),
    Column("category", "Nhóm đối tượng"),
    Column("person_code", "Mã cán bộ"),
    Column("full_name", "Họ và tên"),
    Column("sex", "Giới tính"),
    Column("note", "Ghi chú"),
]


def working_list(session: Session, params: NeedsParams) -> list[Table]:
    """The planners' working list: one sheet per KPI of the people still to qualify.

    :param session: the database session.
    :param params: the report's parameters (unit, date, filters).
    :return: the sheets (streamed rows).
    """
    ctx = build_context(session, params)
    targets = targets_of(session, ctx.province)
    sheets = []
    for code in PERSON_KPIS:
        readings = kpi03_readings(ctx) if code == "KPI-03" else [(code, "", "", None)]
        for key, reading_vi, _en, certs in readings:
            period = period_for(targets.get(code, []), params.as_of)
            since = period.period_start if period else dt.date(params.as_of.year, 1, 1)
            result = needs_kpis.people_to_train(
                session,
                ctx.scope,
                KPIS[code],
                as_of=params.as_of,
                since=since,
                settings=ctx.settings,
                extra=ctx.postings,
                certificates=certs,
            )
            sheets.append(
                Table(
                    name=key + (f" {reading_vi}" if reading_vi else ""),
                    columns=WORKING_COLUMNS,
                    rows=_working_rows(ctx, key, result),
                )
            )
    return sheets


def _working_rows(ctx, key: str, result) -> Iterator[list]:
    for unit_code, unit, level, category, person_code, name, sex, said in result:
        yield [
            key,
            unit_code,
            unit,
            ctx.labels.get("level", level, "vi"),
            ctx.labels.get("staff_cat", category, "vi"),
            person_code,
            name,
            ctx.labels.get("sex", sex, "vi"),
            "Tự khai đã học, cần xác minh" if said else "Chưa đạt",
        ]
