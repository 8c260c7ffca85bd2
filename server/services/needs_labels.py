"""Labels of the needs report's codes, in both languages, from the TNA form itself.

The form is the one place where "tp05", "workload" or C07's wording are written for people;
the report takes the labels of the form's latest version instead of a second list that could
drift from it. Codes the form does not know fall back to the catalogue, then to the code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.domain import catalogue
from server.models import Form, FormVersion


@dataclass
class Labels:
    """{list name: {code: (vi, en)}}, with a fallback to the code itself."""

    lists: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)

    def get(self, list_name: str, code: object, lang: str) -> str:
        """The label of ``code`` in ``lang`` ('vi' or 'en')."""
        if code is None:
            return "(không trả lời)" if lang == "vi" else "(no answer)"
        pair = self.lists.get(list_name, {}).get(str(code).lower())
        if pair is None:
            return str(code)
        return pair[1] if lang == "en" else pair[0]

    def both(self, list_name: str, code: object) -> tuple[str, str]:
        """(vi, en) of a code."""
        return self.get(list_name, code, "vi"), self.get(list_name, code, "en")


_FROM_CATALOGUE = {
    "level": catalogue.LEVELS,
    "staff_cat": catalogue.STAFF_CATEGORIES,
    "edu_level": catalogue.EDUCATION,
    "edu_field": catalogue.EDUCATION_FIELDS,
    "certs": catalogue.CERTIFICATES,
    "sex": catalogue.SEXES,
}
#: Which form question's choices label each list the report uses.
_QUESTIONS = {
    "topic": "topics_wanted",
    "barrier": "barriers",
    "device": "device_access",
    "format": "pref_format",
    "duration": "pref_duration",
    "place": "pref_place",
    "job": "job_position",
    "level": "level",
    "staff_cat": "staff_cat",
    "edu_level": "edu_level",
    "edu_field": "edu_field",
    "certs": "certs",
    "sex": "sex",
}


def load_labels(session: Session, form_id: str) -> Labels:
    """Labels from the latest version of the TNA form (catalogue labels where it has none).

    :param session: the database session.
    :param form_id: the TNA form's id (setting ``tna_form_id``).
    :return: the labels.
    """
    labels = Labels()
    for name, source in _FROM_CATALOGUE.items():
        labels.lists[name] = {code.lower(): pair for code, pair in source.items()}
    schema = session.scalar(
        sa.select(FormVersion.schema)
        .join(Form, Form.id == FormVersion.form_pk)
        .where(Form.form_id == form_id)
        .order_by(FormVersion.id.desc())
        .limit(1)
    )
    if not schema:
        return labels
    by_name = {f["name"]: f for f in schema.get("fields", [])}
    for list_name, question in _QUESTIONS.items():
        for choice in (by_name.get(question) or {}).get("choices") or []:
            labels.lists.setdefault(list_name, {})[str(choice["name"]).lower()] = _pair(
                choice.get("labels", {})
            )
    competencies = labels.lists.setdefault("competency", {})
    for name, item in by_name.items():
        if name.startswith("g_c") and item.get("kind") == "group":
            competencies[name[2:].lower()] = _pair(item.get("labels", {}))
    return labels


def _pair(labels: dict[str, str]) -> tuple[str, str]:
    vi = next((text for lang, text in labels.items() if "vi" in lang.lower()), None)
    en = next((text for lang, text in labels.items() if "(en)" in lang.lower()), None)
    first = next(iter(labels.values()), "")
    return vi or first, en or vi or first
