"""The compatibility corpus: forms from the XLSForm and ODK communities are published and used.

Every file in ``tests/data/forms/compat/`` is published through the service exactly as the CLI
and the API do, then a minimal Collect-shaped submission is posted to it over OpenRosa and must
be stored against the published version. Files named ``refused_*`` are forms pyxform or ODK
Validate refuse: they must be refused with those tools' message, mapped to the XLSForm row.
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from server.errors import FormValidationFailed, InvalidXLSForm, UnknownXLSFormColumn
from server.extensions import db
from server.models import FormVersion, Submission
from server.services import accounts
from server.services.forms import ValidationSettings, publish_form
from tests.factories import DATA, NOW, OR, parts

CORPUS = DATA / "forms" / "compat"
SETTINGS = ValidationSettings(max_bytes=10_000_000)
FILES = sorted(p.name for p in CORPUS.iterdir() if not p.name.startswith("refused_"))
#: What pyxform or ODK Validate refuse, with the words their refusal must carry.
REFUSED = {
    "refused_pyxform.md": (InvalidXLSForm, ["There should be a choices sheet"]),
    "refused_validate.md": (
        FormValidationFailed,
        [
            "row 2 (question 'age'): the constraint expression is not valid XPath: "
            ". >= 18 and and . <= 70",
            "row 3 (question 'kids'): the constraint expression is not valid XPath: "
            ". >= 0 or or . < 20",
        ],
    ),
    "refused_typo.md": (
        UnknownXLSFormColumn,
        [
            "column 'relevnt': unknown column; did you mean 'relevant'?",
            "row 2 (question 'age'): the constraint expression is not valid XPath: . > > 1",
        ],
    ),
}
#: Settings the corpus forms expect to come out of publishing (others: file stem, any version).
EXPECTED = {
    "no_form_id.md": ("no_form_id", "5", "The file name is the id"),
    "no_title.md": ("no_title", "7", "no_title"),
    "no_version.md": ("no_version", "2026112301", "No version"),
    "no_settings_sheet.md": ("no_settings_sheet", "2026112301", "no_settings_sheet"),
    "case_variants.md": ("case_variants", "2026010101", "Case variants"),
    "xform_orx_version.xml": ("xform_orx_version", "5", "Namespaced version"),
    "xform_no_version.xml": ("xform_no_version", "", "No version"),
    "macro_xlsm.xlsm": ("macro_xlsm", "1", "macro_xlsm"),
}


def submission_for(version: FormVersion, filename: str) -> bytes:
    """The smallest submission Collect sends for the version: root, id, version, instanceID."""
    schema = version.schema
    attribute = ""
    if filename == "xform_orx_version.xml":  # Collect copies the root's attributes as they are
        attribute = f' xmlns:orx="http://openrosa.org/xforms" orx:version="{version.version}"'
    elif version.version:
        attribute = f' version="{version.version}"'
    return (
        f'<{schema["root"]} id="{schema["form_id"]}"{attribute}>'
        f"<meta><instanceID>uuid:{uuid.uuid4()}</instanceID></meta></{schema['root']}>"
    ).encode()


@pytest.mark.parametrize("filename", FILES)
def test_corpus_form_is_published_and_takes_a_submission(app, client, filename):
    result = publish_form(
        filename, (CORPUS / filename).read_bytes(), session=db.session, settings=SETTINGS, now=NOW
    )
    db.session.commit()
    version = result.form_version
    assert result.status == "published"
    form_id = version.form.form_id
    if filename in EXPECTED:
        assert (form_id, version.version, version.title) == EXPECTED[filename]
    _, token = accounts.create_device("corpus", form_ids=[form_id], session=db.session, now=NOW)
    db.session.commit()

    response = client.post(
        f"/key/{token}/submission",
        data=parts(submission_for(version, filename)),
        headers=OR,
        content_type="multipart/form-data",
    )

    assert response.status_code == 201, response.get_data(as_text=True)
    stored = db.session.execute(sa.select(Submission)).scalar_one()
    assert stored.form_version_id == version.id


@pytest.mark.parametrize("filename", sorted(REFUSED))
def test_corpus_form_refused_by_the_tools_is_refused_with_their_message(session, filename):
    error, fragments = REFUSED[filename]
    with pytest.raises(error) as info:
        publish_form(
            filename, (CORPUS / filename).read_bytes(), session=session, settings=SETTINGS, now=NOW
        )
    for fragment in fragments:
        assert fragment in info.value.message
    assert " null" not in info.value.message
    session.rollback()
    assert session.scalar(sa.select(sa.func.count(FormVersion.id))) == 0


def test_corpus_covers_the_issue(app):
    """At least 30 forms, XLSForm and XForm, accepted and refused."""
    assert len(FILES) + len(REFUSED) >= 30
    assert {p.rsplit(".", 1)[1] for p in FILES} >= {"md", "csv", "xlsx", "xlsm", "xml"}
