"""Answer keys: importing one for a test form version, and re-scoring what it keys.

A key belongs to one test form version. Importing a key replaces that version's key and
re-scores every submission of the version in the same transaction (``scoring.rebuild``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.domain.scoring import KeyItem
from server.domain.xlsx_reader import read_rows
from server.errors import EmptyFile, InvalidAnswerKey
from server.models import AnswerKey, Form, FormVersion
from server.services.scoring import rebuild

_QTYPES = {"single": "select_one", "tf": "select_one", "multi": "select_multiple"}


@dataclass
class KeyImport:
    """What a key import did."""

    items: int
    rescored: int


def import_answer_key(
    form: Form,
    filename: str,
    content: bytes,
    *,
    session: Session,
    now: dt.datetime,
    version: str | None = None,
) -> KeyImport:
    """Replace the answer key of a test form version and re-score its submissions (flushes).

    :param form: the test form.
    :param filename: the key file's name (CSV: item_id, qtype, key, points, topic…).
    :param content: the CSV bytes.
    :param session: the database session.
    :param now: the time of the change.
    :param version: the form version keyed (default: the current one).
    :return: items keyed and submissions re-scored.
    :raises InvalidAnswerKey: every row naming an item or choice the form lacks, and bad values.
    """
    target = (
        next((v for v in form.versions if v.version == version), None)
        if version
        else (form.versions[-1])
    )
    if target is None:
        raise InvalidAnswerKey(reason="no_version", form_id=form.form_id, version=version, rows=[])
    items = _parse_key(filename, content, target)
    session.execute(sa.delete(AnswerKey).where(AnswerKey.form_version_id == target.id))
    session.add_all(
        AnswerKey(
            form_version_id=target.id,
            item=i.item,
            qtype=i.qtype,
            correct=list(i.correct),
            points=i.points,
            topic=topic,
            competency=competency,
        )
        for i, topic, competency in items
    )
    session.flush()
    rescored = rebuild(session, version_id=target.id, now=now)
    return KeyImport(items=len(items), rescored=rescored)


def _parse_key(filename: str, content: bytes, version: FormVersion) -> list[tuple]:
    if not content.strip():
        raise EmptyFile(file=filename)
    fields = {f["name"]: f for f in version.schema["fields"]}
    reader = _key_rows(filename, content)
    problems, items, seen = [], [], set()
    for number, row in enumerate(reader, start=2):
        item = (row.get("item_id") or "").strip()
        qtype = (row.get("qtype") or "").strip()
        correct = tuple((row.get("key") or "").split())
        spec = fields.get(item)
        try:
            points = float(row.get("points") or 1)
        except ValueError:
            points = -1
        if spec is None:
            problems.append(
                {
                    "row": number,
                    "error": f"item {item!r} is not in the form",
                    "error_vi": f"câu {item!r} không có trong đề",
                }
            )
        elif qtype not in _QTYPES or spec["kind"] != _QTYPES[qtype]:
            problems.append(
                {
                    "row": number,
                    "error": f"{item}: qtype {qtype!r} does not fit a {spec['kind']} question",
                    "error_vi": f"{item}: loại {qtype!r} không hợp với câu {spec['kind']}",
                }
            )
        elif not correct:
            problems.append(
                {
                    "row": number,
                    "error": f"{item}: no correct answer given",
                    "error_vi": f"{item}: chưa có đáp án đúng",
                }
            )
        elif spec.get("choices") and set(correct) - {c["name"] for c in spec["choices"]}:
            unknown = sorted(set(correct) - {c["name"] for c in spec["choices"]})
            problems.append(
                {
                    "row": number,
                    "error": f"{item}: choice(s) {unknown} not in the question",
                    "error_vi": f"{item}: lựa chọn {unknown} không có trong câu hỏi",
                }
            )
        elif points <= 0:
            problems.append(
                {
                    "row": number,
                    "error": f"{item}: points must be a positive number",
                    "error_vi": f"{item}: điểm phải là số dương",
                }
            )
        elif item in seen:
            problems.append(
                {
                    "row": number,
                    "error": f"{item}: keyed twice",
                    "error_vi": f"{item}: trùng hai lần",
                }
            )
        else:
            seen.add(item)
            items.append(
                (
                    KeyItem(item, qtype, correct, points),
                    (row.get("topic") or "").strip() or None,
                    (row.get("competency") or "").strip() or None,
                )
            )
    if problems or not items:
        raise InvalidAnswerKey(
            file=filename, reason="rows" if problems else "no_items", rows=problems
        )
    return items


def _key_rows(filename: str, content: bytes):
    """Rows of a key file as dicts: CSV (UTF-8) or the first sheet of an XLSX workbook."""
    if filename.lower().endswith(".xlsx"):
        try:
            rows = list(read_rows(content))
        except (zipfile.BadZipFile, KeyError, ValueError) as exc:
            raise InvalidAnswerKey(file=filename, reason="not_xlsx", rows=[]) from exc
        header = [str(h or "").strip() for h in (rows[0] if rows else [])]
        return [
            {h: ("" if v is None else str(v)) for h, v in zip(header, row, strict=False)}
            for row in rows[1:]
        ]
    try:
        return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    except UnicodeDecodeError as exc:
        raise InvalidAnswerKey(file=filename, reason="not_utf8", rows=[]) from exc
