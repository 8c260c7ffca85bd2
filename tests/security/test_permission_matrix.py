"""Every API route of the OpenAPI document and every page, for every kind of caller.

The matrix below is the expected answer, written out by hand: ``A`` = 401 (who are you?),
``F`` = 403 (not allowed), ``Y`` = past the permission check (the request may still be a 400,
404 or 422 for its content, never a 401 or 403). Targets are chosen in and out of each
caller's scope: the planner's units and forms, the trainer's own and another trainer's course.
A route added to the API or a page added to the site without a row here fails the test.
"""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import ApiToken, Course, User
from server.services import accounts
from server.services.attachment_store import AttachmentStore
from server.services.submissions import IncomingFile, Origin, receive_submission
from server.web.api.docs import build_spec
from tests import pages
from tests.factories import NOW

ROLES = ("anonymous", "collector", "planner", "trainer", "admin")
NAMES = {"planner": "lan", "trainer": "gv", "admin": "quantri"}
PASSWORD = "mat-khau-du-dai"
UNITS = """level,code,name,parent_code,valid_from
province,52,Tỉnh Gia Lai,,2025-07-01
commune,21583,Phường Quy Nhơn,52,2025-07-01
commune,23584,Xã Ia Ka,52,2025-07-01
"""
ROSTER = (
    "Mã cán bộ,Họ và tên,Giới tính,Mã đơn vị hành chính,Tuyến,Loại hình,Nhóm đối tượng,"
    "Ngày bắt đầu\n"
    "GL001,Nguyễn Thị Hoa,Nữ,21583,Tuyến xã,Viên chức,vc_commune,01/08/2025\n"
    "GL002,Rơ Châm Blơi,Nam,23584,Tuyến xã,Viên chức,vc_commune,01/08/2025\n"
)
PROBE = b"""| survey |
| | type | name | label |
| | text | commune | Commune |
| | text | name | Name |
| settings |
| | form_id | version | form_title |
| | probe | 1 | Probe |
"""
OTHER = PROBE.replace(b"| probe | 1 | Probe |", b"| other | 1 | Other |")

# fmt: off
#: (method, OpenAPI path, concrete URL, JSON body or None): anonymous, collector, planner,
#: trainer, admin. The trainer owns C-OWN (post-test: form "other"); C-OTHER (post-test: form
#: "probe") is another trainer's. The planner has form "probe" and unit 21583.
API = [
    ("GET", "/forms", "/forms", None, "AFYYY"),
    ("POST", "/forms", "/forms", None, "AFFFY"),
    ("GET", "/forms/{form_id}", "/forms/probe", None, "AFYYY"),
    ("GET", "/forms/{form_id}", "/forms/other", None, "AFFYY"),
    ("PATCH", "/forms/{form_id}", "/forms/probe", {"state": "nonsense"}, "AFFFY"),
    ("GET", "/forms/{form_id}/versions", "/forms/probe/versions", None, "AFYYY"),
    ("GET", "/forms/{form_id}/versions", "/forms/other/versions", None, "AFFYY"),
    ("GET", "/forms/{form_id}/versions/{version}", "/forms/probe/versions/1", None, "AFYYY"),
    ("POST", "/forms/{form_id}/answer-key", "/forms/probe/answer-key", None, "AFFFY"),
    ("POST", "/forms/{form_id}/answer-key", "/forms/other/answer-key", None, "AFFYY"),
    ("GET", "/forms/{form_id}/scores", "/forms/probe/scores", None, "AFFYY"),
    ("GET", "/forms/{form_id}/submissions", "/forms/probe/submissions", None, "AFYYY"),
    ("GET", "/forms/{form_id}/submissions", "/forms/other/submissions", None, "AFFYY"),
    ("GET", "/forms/{form_id}/submissions.csv", "/forms/probe/submissions.csv", None, "AFYYY"),
    ("GET", "/forms/{form_id}/submissions.csv", "/forms/other/submissions.csv", None, "AFFYY"),
    ("POST", "/forms/{form_id}/submissions.csv", "/forms/probe/submissions.csv", None, "AFYYY"),
    ("GET", "/forms/{form_id}/submissions.xlsx", "/forms/probe/submissions.xlsx", None, "AFYYY"),
    ("POST", "/forms/{form_id}/submissions.xlsx", "/forms/other/submissions.xlsx", None, "AFFYY"),
    ("GET", "/forms/{form_id}/submissions.zip", "/forms/probe/submissions.zip", None, "AFYYY"),
    ("POST", "/forms/{form_id}/submissions.zip", "/forms/other/submissions.zip", None, "AFFYY"),
    ("GET", "/roster", "/roster", None, "AFYYY"),
    ("GET", "/roster/export.xlsx", "/roster/export.xlsx", None, "AFFYY"),
    ("POST", "/roster/import", "/roster/import", None, "AFFFY"),
    ("GET", "/roster/template.xlsx", "/roster/template.xlsx", None, "AFYYY"),
    ("GET", "/courses", "/courses", None, "AFYYY"),
    ("POST", "/courses", "/courses", {}, "AFFYY"),
    ("GET", "/courses/{code}", "/courses/C-OWN", None, "AFYYY"),
    ("GET", "/courses/{code}", "/courses/C-OTHER", None, "AFYFY"),
    ("PATCH", "/courses/{code}", "/courses/C-OWN", {"pass_mark": "x"}, "AFFYY"),
    ("PATCH", "/courses/{code}", "/courses/C-OTHER", {"pass_mark": "x"}, "AFFFY"),
    ("POST", "/courses/{code}/enrolments", "/courses/C-OWN/enrolments", {}, "AFFYY"),
    ("POST", "/courses/{code}/enrolments", "/courses/C-OTHER/enrolments", {}, "AFFFY"),
    ("PATCH", "/courses/{code}/enrolments/{person_code}", "/courses/C-OWN/enrolments/GL001",
     {"attendance": "x"}, "AFFYY"),
    ("PATCH", "/courses/{code}/enrolments/{person_code}", "/courses/C-OTHER/enrolments/GL001",
     {"attendance": "x"}, "AFFFY"),
    ("GET", "/submissions/{submission_id}", "/submissions/{in}", None, "AFYYY"),
    ("GET", "/submissions/{submission_id}", "/submissions/{out}", None, "AFFYY"),
    ("GET", "/submissions/{submission_id}", "/submissions/{elsewhere}", None, "AFFYY"),
    ("GET", "/submissions/{submission_id}/attachments/{name}",
     "/submissions/{in}/attachments/a.jpg", None, "AFYYY"),
    ("GET", "/submissions/{submission_id}/attachments/{name}",
     "/submissions/{out}/attachments/a.jpg", None, "AFFYY"),
    ("GET", "/submissions/{submission_id}/audit", "/submissions/{in}/audit", None, "AFYYY"),
    ("GET", "/submissions/{submission_id}/audit", "/submissions/{out}/audit", None, "AFFYY"),
    ("PATCH", "/submissions/{submission_id}/review", "/submissions/{in}/review",
     {"state": "nonsense"}, "AFFYY"),
    ("DELETE", "/submissions/{submission_id}", "/submissions/{spare}", None, "AFFFY"),
    ("POST", "/submissions/{submission_id}/restore", "/submissions/{spare}/restore", None,
     "AFFFY"),
    ("GET", "/audit", "/audit", None, "AFFFY"),
    ("GET", "/units", "/units", None, "AFYYY"),
    ("GET", "/jobs/{job_id}", "/jobs/999", None, "AFYYY"),
    ("GET", "/reports/targets", "/reports/targets", None, "AFYYY"),
    ("PUT", "/reports/targets/{kpi}", "/reports/targets/KPI-03", {"period": "x"}, "AFFFY"),
    ("GET", "/reports/settings", "/reports/settings", None, "AFYYY"),
    ("PATCH", "/reports/settings", "/reports/settings", {"min_cell": 0}, "AFFFY"),
    ("GET", "/reports/programme", "/reports/programme", None, "AFYFY"),
    ("GET", "/reports/programme.xlsx", "/reports/programme.xlsx", None, "AFYFY"),
    ("GET", "/reports/courses/{code}/evaluation", "/reports/courses/C-OWN/evaluation", None,
     "AFYYY"),
    ("GET", "/reports/courses/{code}/evaluation", "/reports/courses/C-OTHER/evaluation", None,
     "AFFFY"),
    ("GET", "/reports/courses/{code}/evaluation.xlsx",
     "/reports/courses/C-OWN/evaluation.xlsx", None, "AFYYY"),
    ("GET", "/reports/courses/{code}/evaluation.xlsx",
     "/reports/courses/C-OTHER/evaluation.xlsx", None, "AFFFY"),
    ("PUT", "/reports/courses/{code}/comments/{submission_id}/{question}",
     "/reports/courses/C-OWN/comments/1/improve", {"codes": []}, "AFFYY"),
    ("PUT", "/reports/courses/{code}/comments/{submission_id}/{question}",
     "/reports/courses/C-OTHER/comments/1/improve", {"codes": []}, "AFFFY"),
    ("PUT", "/reports/courses/{code}/identities/{submission_id}",
     "/reports/courses/C-OWN/identities/1", {"person_code": "GL001"}, "AFFYY"),
    ("PUT", "/reports/courses/{code}/identities/{submission_id}",
     "/reports/courses/C-OTHER/identities/1", {"person_code": "GL001"}, "AFFFY"),
    ("POST", "/forms/{form_id}/answer-key/items/{item}", "/forms/other/answer-key/items/q1",
     {"status": "x"}, "AFFYY"),
    ("POST", "/forms/{form_id}/answer-key/items/{item}", "/forms/probe/answer-key/items/q1",
     {"status": "x"}, "AFFFY"),
    ("GET", "/reports/banks/{bank_id}/{version}", "/reports/banks/NONE/1", None, "AFFYY"),
    ("GET", "/reports/needs", "/reports/needs?unit=21583", None, "AFYFY"),
    ("GET", "/reports/needs", "/reports/needs?unit=52", None, "AFFFY"),
    ("GET", "/reports/needs.xlsx", "/reports/needs.xlsx?unit=21583", None, "AFYFY"),
    ("GET", "/reports/needs.xlsx", "/reports/needs.xlsx?unit=23584", None, "AFFFY"),
    ("GET", "/reports/needs/working-list.xlsx", "/reports/needs/working-list.xlsx?unit=21583",
     None, "AFYFY"),
    ("GET", "/reports/needs/working-list.xlsx", "/reports/needs/working-list.xlsx?unit=52",
     None, "AFFFY"),
]

#: Pages: the status each caller gets (collectors cannot sign in, so they are anonymous).
PAGES = [
    ("GET", "/", "/", (302, 302, 200, 200, 200)),
    ("GET", "/admin/forms/<form_id>", "/admin/forms/probe", (302, 302, 200, 200, 200)),
    ("GET", "/admin/forms/<form_id>", "/admin/forms/other", (302, 302, 403, 200, 200)),
    ("GET", "/login", "/login", (200, 200, 200, 200, 200)),
    ("GET", "/admin/forms", "/admin/forms", (302, 302, 200, 200, 200)),
    ("POST", "/admin/forms", "/admin/forms", (302, 302, 403, 403, 422)),
    ("POST", "/admin/forms/<form_id>/state", "/admin/forms/probe/state",
     (302, 302, 403, 403, 422)),
    ("GET", "/admin/forms/<form_id>/versions/<version>/source",
     "/admin/forms/probe/versions/1/source", (302, 302, 200, 200, 200)),
    ("GET", "/admin/forms/<form_id>/versions/<version>/xform",
     "/admin/forms/other/versions/1/xform", (302, 302, 403, 200, 200)),
    ("GET", "/admin/forms/<form_id>/versions/<version>/media/<filename>",
     "/admin/forms/probe/versions/1/media/none.csv", (302, 302, 404, 404, 404)),
    ("GET", "/admin/forms/<form_id>/submissions", "/admin/forms/probe/submissions",
     (302, 302, 200, 200, 200)),
    ("GET", "/admin/forms/<form_id>/submissions", "/admin/forms/other/submissions",
     (302, 302, 403, 200, 200)),
    ("GET", "/admin/forms/<form_id>/submissions.<suffix>", "/admin/forms/probe/submissions.csv",
     (302, 302, 200, 200, 200)),
    ("GET", "/admin/forms/<form_id>/submissions.<suffix>", "/admin/forms/other/submissions.xlsx",
     (302, 302, 403, 200, 200)),
    ("POST", "/admin/forms/<form_id>/submissions/export", "/admin/forms/probe/submissions/export",
     (302, 302, 422, 422, 422)),
    ("POST", "/admin/forms/<form_id>/submissions/export", "/admin/forms/other/submissions/export",
     (302, 302, 403, 422, 422)),
    ("GET", "/admin/submissions/<int:submission_id>", "/admin/submissions/{in}",
     (302, 302, 200, 200, 200)),
    ("GET", "/admin/submissions/<int:submission_id>", "/admin/submissions/{out}",
     (302, 302, 403, 200, 200)),
    ("GET", "/admin/submissions/<int:submission_id>", "/admin/submissions/{elsewhere}",
     (302, 302, 403, 200, 200)),
    ("GET", "/admin/submissions/<int:submission_id>/attachments/<name>",
     "/admin/submissions/{in}/attachments/a.jpg", (302, 302, 404, 404, 404)),
    ("GET", "/admin/submissions/<int:submission_id>/attachments/<name>",
     "/admin/submissions/{out}/attachments/a.jpg", (302, 302, 403, 404, 404)),
    ("POST", "/admin/submissions/<int:submission_id>/review", "/admin/submissions/{in}/review",
     (302, 302, 403, 422, 422)),
    ("POST", "/admin/submissions/<int:submission_id>/delete", "/admin/submissions/{spare}/delete",
     (302, 302, 403, 403, 302)),
    ("POST", "/admin/submissions/<int:submission_id>/restore",
     "/admin/submissions/{spare}/restore", (302, 302, 403, 403, 302)),
    ("GET", "/admin/tablets", "/admin/tablets", (302, 302, 403, 403, 200)),
    ("POST", "/admin/tablets", "/admin/tablets", (302, 302, 403, 403, 400)),
    ("POST", "/admin/tablets/<int:device_id>/revoke", "/admin/tablets/999/revoke",
     (302, 302, 403, 403, 404)),
    ("GET", "/admin/courses", "/admin/courses", (302, 302, 403, 200, 200)),
    ("GET", "/admin/courses/new", "/admin/courses/new", (302, 302, 403, 200, 200)),
    ("POST", "/admin/courses", "/admin/courses", (302, 302, 403, 400, 400)),
    ("GET", "/admin/courses/<code>", "/admin/courses/C-OWN", (302, 302, 403, 200, 200)),
    ("GET", "/admin/courses/<code>", "/admin/courses/C-OTHER", (302, 302, 403, 403, 200)),
    ("GET", "/admin/courses/<code>/edit", "/admin/courses/C-OTHER/edit",
     (302, 302, 403, 403, 200)),
    ("POST", "/admin/courses/<code>/edit", "/admin/courses/C-OTHER/edit",
     (302, 302, 403, 403, 400)),
    ("POST", "/admin/courses/<code>/enrolments", "/admin/courses/C-OTHER/enrolments",
     (302, 302, 403, 403, 422)),
    ("POST", "/admin/courses/<code>/enrolments/upload",
     "/admin/courses/C-OTHER/enrolments/upload", (302, 302, 403, 403, 422)),
    ("POST", "/admin/courses/<code>/attendance", "/admin/courses/C-OTHER/attendance",
     (302, 302, 403, 403, 302)),
    ("POST", "/admin/courses/<code>/key", "/admin/courses/C-OWN/key", (302, 302, 403, 422, 422)),
    ("POST", "/admin/courses/<code>/key-items", "/admin/courses/C-OWN/key-items",
     (302, 302, 403, 422, 422)),
    ("POST", "/admin/courses/<code>/rescore", "/admin/courses/C-OTHER/rescore",
     (302, 302, 403, 403, 303)),
    ("POST", "/admin/courses/<code>/status", "/admin/courses/C-OTHER/status",
     (302, 302, 403, 403, 400)),
    ("POST", "/admin/courses/<code>/identities/<int:submission_id>",
     "/admin/courses/C-OTHER/identities/1", (302, 302, 403, 403, 404)),
    ("GET", "/admin/people", "/admin/people", (302, 302, 403, 403, 200)),
    ("POST", "/admin/people", "/admin/people", (302, 302, 403, 403, 400)),
    ("GET", "/admin/people/<int:user_id>", "/admin/people/999", (302, 302, 403, 403, 404)),
    ("POST", "/admin/people/<int:user_id>/role", "/admin/people/999/role",
     (302, 302, 403, 403, 404)),
    ("POST", "/admin/people/<int:user_id>/assignments", "/admin/people/999/assignments",
     (302, 302, 403, 403, 404)),
    ("POST", "/admin/people/<int:user_id>/disable", "/admin/people/999/disable",
     (302, 302, 403, 403, 404)),
    ("POST", "/admin/people/<int:user_id>/enable", "/admin/people/999/enable",
     (302, 302, 403, 403, 404)),
    ("POST", "/admin/people/<int:user_id>/reset-password", "/admin/people/999/reset-password",
     (302, 302, 403, 403, 404)),
    ("POST", "/admin/people/<int:user_id>/tokens", "/admin/people/999/tokens",
     (302, 302, 403, 403, 404)),
    ("POST", "/admin/people/<int:user_id>/tokens/<int:token_id>/revoke",
     "/admin/people/999/tokens/1/revoke", (302, 302, 403, 403, 404)),
    # a made-up set-password link is dead for everyone (test_people_pages.py uses real ones)
    ("GET", "/set-password/<code>", "/set-password/any-code", (403, 403, 403, 403, 403)),
    ("POST", "/set-password/<code>", "/set-password/any-code", (403, 403, 403, 403, 403)),
    ("GET", "/admin/audit", "/admin/audit", (302, 302, 403, 403, 200)),
    ("GET", "/admin/audit.csv", "/admin/audit.csv", (302, 302, 403, 403, 200)),
    ("GET", "/admin/units", "/admin/units", (302, 302, 200, 200, 200)),
    ("POST", "/admin/units/import", "/admin/units/import", (302, 302, 403, 403, 422)),
    ("GET", "/admin/register", "/admin/register", (302, 302, 200, 200, 200)),
    ("GET", "/admin/register/template.xlsx", "/admin/register/template.xlsx",
     (302, 302, 200, 200, 200)),
    ("POST", "/admin/register/check", "/admin/register/check", (302, 302, 403, 403, 422)),
    ("GET", "/admin/register/check/<int:job_id>", "/admin/register/check/999",
     (302, 302, 403, 403, 404)),
    ("POST", "/admin/register/check/<int:job_id>/apply", "/admin/register/check/999/apply",
     (302, 302, 403, 403, 404)),
    ("POST", "/admin/register/export", "/admin/register/export", (302, 302, 403, 422, 422)),
    ("GET", "/admin/register/people/<code>", "/admin/register/people/GL001",
     (302, 302, 200, 200, 200)),
    ("GET", "/admin/register/people/<code>", "/admin/register/people/GL002",
     (302, 302, 403, 200, 200)),
    ("POST", "/admin/register/people/<code>", "/admin/register/people/GL001",
     (302, 302, 403, 403, 422)),
    ("GET", "/admin/jobs/<int:job_id>", "/admin/jobs/999", (302, 302, 404, 404, 404)),
    ("GET", "/admin/jobs/<int:job_id>/progress", "/admin/jobs/999/progress",
     (302, 302, 404, 404, 404)),
    ("GET", "/admin/jobs/<int:job_id>/result", "/admin/jobs/999/result",
     (302, 302, 404, 404, 404)),
    # an administrator exists: every first-run link is dead, for everyone (test_first_run.py)
    ("GET", "/first-run/<code>", "/first-run/any-code", (403, 403, 403, 403, 403)),
    ("POST", "/first-run/<code>", "/first-run/any-code", (403, 403, 403, 403, 403)),
    ("POST", "/logout", "/logout", (302, 302, 302, 302, 302)),
    ("POST", "/logout-everywhere", "/logout-everywhere", (302, 302, 302, 302, 302)),
    ("GET", "/reports/courses", "/reports/courses", (302, 302, 200, 200, 200)),
    ("GET", "/reports/courses/<code>", "/reports/courses/C-OWN", (302, 302, 200, 200, 200)),
    ("GET", "/reports/courses/<code>", "/reports/courses/C-OTHER", (302, 302, 403, 403, 200)),
    ("GET", "/reports/courses/<code>.pdf", "/reports/courses/C-OTHER.pdf",
     (302, 302, 403, 403, 200)),
    ("GET", "/reports/courses/<code>.xlsx", "/reports/courses/C-OWN.xlsx",
     (302, 302, 200, 200, 200)),
    ("GET", "/reports/courses/<code>/scorecards.pdf", "/reports/courses/C-OWN/scorecards.pdf",
     (302, 302, 403, 200, 200)),
    ("POST", "/reports/courses/<code>/comments/<int:submission_id>/<question>",
     "/reports/courses/C-OWN/comments/1/improve", (302, 302, 403, 302, 302)),
    ("POST", "/reports/courses/<code>/identities/<int:submission_id>",
     "/reports/courses/C-OWN/identities/1", (302, 302, 403, 302, 302)),
    ("POST", "/reports/courses/<code>/key-items", "/reports/courses/C-OWN/key-items",
     (302, 302, 403, 404, 404)),
    ("GET", "/reports/banks/<bank_id>/<version>", "/reports/banks/NONE/1",
     (302, 302, 403, 404, 404)),
    ("GET", "/reports/programme", "/reports/programme", (302, 302, 200, 403, 200)),
    ("GET", "/reports/programme.pdf", "/reports/programme.pdf", (302, 302, 200, 403, 200)),
    ("GET", "/reports/programme.xlsx", "/reports/programme.xlsx", (302, 302, 200, 403, 200)),
    ("GET", "/reports/needs", "/reports/needs", (302, 302, 200, 403, 200)),
    ("GET", "/reports/needs", "/reports/needs?unit=52", (302, 302, 403, 403, 200)),
    ("GET", "/reports/needs.pdf", "/reports/needs.pdf?unit=21583", (302, 302, 200, 403, 200)),
    ("GET", "/reports/needs.xlsx", "/reports/needs.xlsx?unit=23584", (302, 302, 403, 403, 200)),
    ("GET", "/reports/needs/working-list.xlsx", "/reports/needs/working-list.xlsx?unit=21583",
     (302, 302, 200, 403, 200)),
]
# fmt: on


def _user(app, name: str, role: str, *, forms=(), units=()) -> User:
    user = accounts.create_user(
        name,
        role=role,
        password=PASSWORD,
        realm=app.config["AUTH_REALM"],
        session=db.session,
        form_ids=forms,
        now=NOW,
    )
    user.unit_codes = list(units)
    return user


def _token(user: User) -> dict[str, str]:
    # Issued directly, as tokens were before collectors lost the API: the API must refuse it.
    token = f"tok-{user.username}-0123456789abcdef"
    db.session.add(
        ApiToken(
            user_id=user.id, label="t", token_sha256=accounts.hash_token(token), created_at=NOW
        )
    )
    return {"Authorization": f"Bearer {token}"}


def _submit(app, admin: User, form_id: str, instance: str, commune: str) -> int:
    xml = (
        f'<data id="{form_id}" version="1"><commune>{commune}</commune><name>X</name>'
        f"<meta><instanceID>{instance}</instanceID></meta></data>"
    )
    receipt = receive_submission(
        xml.encode(),
        [IncomingFile("a.jpg", b"\xff\xd8")],
        origin=Origin(actor=accounts.Actor(user=admin)),
        session=db.session,
        store=AttachmentStore(app.config["STORAGE_DIR"]),
        now=NOW,
    )
    return receipt.submission.id


@pytest.fixture
def world(app, runner, publish, tmp_path):
    """Units, a register, two forms, two trainers' courses, submissions in and out of scope."""
    (tmp_path / "units.csv").write_text(UNITS, encoding="utf-8")
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    assert runner.invoke(args=["units", "import", str(tmp_path / "units.csv")]).exit_code == 0
    assert runner.invoke(args=["roster", "import", str(tmp_path / "roster.csv")]).exit_code == 0
    publish("probe.md", content=PROBE)
    publish("other.md", content=OTHER)
    admin = _user(app, "quantri", "admin")
    trainer = _user(app, "gv", "trainer")
    other_trainer = _user(app, "gv2", "trainer")
    planner = _user(app, "lan", "planner", forms=("probe",), units=("21583",))
    collector = _user(app, "thu", "collector", forms=("probe",))
    db.session.flush()
    for code, owner, post in (("C-OWN", trainer, "other"), ("C-OTHER", other_trainer, "probe")):
        dates = ("--start", "2026-09-07", "--end", "2026-09-09", "--type", "tap_huan")
        created = runner.invoke(args=["courses", "create", code, "--title", code, *dates])
        assert created.exit_code == 0, created.output
        course = db.session.execute(sa.select(Course).where(Course.code == code)).scalar_one()
        course.created_by_user_id, course.post_form_id = owner.id, post
        course.venue_unit_code = "21583" if code == "C-OWN" else "23584"
        assert runner.invoke(args=["courses", "enrol", code, "GL001", "GL002"]).exit_code == 0
    ids = {
        "in": _submit(app, admin, "probe", "uuid:in", "21583"),
        "out": _submit(app, admin, "probe", "uuid:out", "23584"),
        "elsewhere": _submit(app, admin, "other", "uuid:else", "21583"),
        "spare": _submit(app, admin, "probe", "uuid:spare", "21583"),
    }
    headers = {
        "anonymous": {},
        "collector": _token(collector),
        "planner": _token(planner),
        "trainer": _token(trainer),
        "admin": _token(admin),
    }
    db.session.commit()
    return ids, headers


def test_the_matrix_covers_every_route_and_page(app):
    with app.test_request_context():
        spec = build_spec()
    documented = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    assert documented == {(method, path) for method, path, *_ in API}
    page_rules = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(("admin.", "reports."))
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    login_post = ("POST", "/login")  # signing in itself is tested in test_pages.py
    assert page_rules - {login_post} == {(method, rule) for method, rule, *_ in PAGES}


def test_api_answers_as_the_matrix_says(client, world):
    ids, headers = world
    wrong = []
    for method, _, url, body, expected in API:
        url = "/api/v1" + url.format(**ids)
        for role, want in zip(ROLES, expected, strict=True):
            kwargs = {"json": body} if body is not None else {}
            if method == "POST" and body is None:
                kwargs = {"data": {"file": (io.BytesIO(b""), "")}}
            response = client.open(url, method=method, headers=headers[role], **kwargs)
            got = response.status_code
            response.close()
            verdict = "A" if got == 401 else "F" if got == 403 else "Y"
            if verdict != want or got >= 500:
                wrong.append(f"{method} {url} as {role}: {got}, expected {want}")
    assert not wrong, "\n".join(wrong)


def test_pages_answer_as_the_matrix_says(app, world):
    ids, _ = world
    wrong = []
    for role in ROLES:
        client = app.test_client()
        if role in {"planner", "trainer", "admin"}:
            assert pages.sign_in(client, NAMES[role], PASSWORD).status_code == 302
        elif role == "collector":
            assert pages.sign_in(client, "thu", PASSWORD).status_code == 401
        for method, _, template, statuses in PAGES:
            url = template.format(**ids)
            want = statuses[ROLES.index(role)]
            if method == "POST":
                response = pages.post_form(client, url, {}, page="/login")
                if role in {"planner", "trainer", "admin"}:  # sign in again for the next page
                    pages.sign_in(client, NAMES[role], PASSWORD)
            else:
                response = client.get(url)
            if response.status_code != want:
                wrong.append(f"{method} {url} as {role}: {response.status_code}, expected {want}")
    assert not wrong, "\n".join(wrong)


def test_a_planner_sees_only_their_forms_units_and_people(client, world):
    _, headers = world
    planner = headers["planner"]
    forms = client.get("/api/v1/forms", headers=planner).get_json()
    assert [(f["form_id"], f["submissions"]) for f in forms] == [("probe", 2)]
    listed = client.get("/api/v1/forms/probe/submissions", headers=planner).get_json()
    assert sorted(s["instance_id"] for s in listed["items"]) == ["uuid:in", "uuid:spare"]
    csv = client.get("/api/v1/forms/probe/submissions.csv", headers=planner).get_data(as_text=True)
    assert "uuid:in" in csv and "uuid:out" not in csv
    course = client.get("/api/v1/courses/C-OTHER", headers=planner).get_json()
    assert [e["person_code"] for e in course["enrolments"]] == ["GL001"]
    assert client.get("/api/v1/roster", headers=planner).get_json()[0]["person_code"] == "GL001"


def test_a_planner_with_nothing_assigned_sees_no_form_on_the_pages(app, world):
    _user(app, "trong", "planner")
    db.session.commit()
    client = app.test_client()
    assert pages.sign_in(client, "trong", PASSWORD).status_code == 302
    html = client.get("/").get_data(as_text=True)
    assert "probe" not in html and "other" not in html


def test_collectors_get_no_api_token(runner, world):
    result = runner.invoke(args=["users", "token", "thu"])
    assert result.exit_code != 0
    assert "403.4" in result.output
