"""The pooled item analysis of one test bank version (reports spec §3.5).

Moodle's item statistics assume one attempt per student on one quiz; a bank reused by many
courses is best judged on every course's first attempts together ("pooled"), which is what
this report computes, per phase. A course's own report shows its per-course figures and links
here. Items are not personal data: trainers and administrators read it.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.domain.report_model import Report, ReportSection
from server.errors import BankNotFound
from server.models import ExamScore, Submission
from server.services import evaluation_data as data
from server.services.evaluation_items import analyse, analysis_tables, dd_chart


def build_bank_report(session: Session, bank_id: str, version: str, *, now: dt.datetime) -> Report:
    """Pooled item analysis of a bank version over every course that used it.

    :raises BankNotFound: when no scored attempt names the bank version.
    """
    version_ids = sorted(
        {
            vid
            for (vid,) in session.execute(
                sa.select(Submission.form_version_id)
                .join(ExamScore, ExamScore.submission_id == Submission.id)
                .where(ExamScore.bank_id == bank_id, ExamScore.bank_version == version)
                .distinct()
            )
        }
    )
    if not version_ids:
        raise BankNotFound(bank_id=bank_id, version=version)
    bank = data.load_bank(session, (bank_id, version), version_ids)
    attempts = data.pooled_attempts(session, bank)
    courses = data.n_courses_of(session, bank)
    report = Report(
        kind="bank_items",
        parameters={"bank_id": bank_id, "bank_version": version, "courses": courses},
        as_of=now.date(),
        generated_at=now,
        unit_code=bank_id,
        unit_name=f"{bank_id} {version}",
    )
    section = ReportSection(
        "I", "Phân tích câu hỏi (gộp các khóa)", "Item analysis (pooled)", charts=["E1"]
    )
    for phase in ("pre", "post"):
        matrix = data.item_matrix(session, bank, phase, attempts)
        if matrix is None:
            continue
        result = analyse(matrix, bank, phase)
        section.tables.extend(analysis_tables(bank, phase, result, scope="pooled"))
        report.charts[f"E1-{phase}"] = dd_chart(bank, result, phase)
    report.sections.append(section)
    return report
