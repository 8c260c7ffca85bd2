"""TNA submissions become the needs report's rows: responses, ratings per competency, choices.

Real needs-assessment XML goes through OpenRosa (so the post-commit hook is what projects it)
or through ``receive_submission`` with chosen receipt times; the rows are then read back.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import threading

import pytest
import sqlalchemy as sa

from harness import ROOT
from server.extensions import db
from server.models import (
    FormVersion,
    NeedsChoice,
    NeedsRating,
    NeedsResponse,
    Person,
    Submission,
)
from server.services import accounts, needs_projection
from server.services.attachment_store import AttachmentStore
from server.services.needs_projection import project_needs, rebuild_needs
from server.services.submissions import Origin, receive_submission
from tests.factories import NOW

UNITS = """level,code,name,parent_code,valid_from
province,52,Tỉnh Gia Lai,,2025-07-01
commune,21583,Phường Quy Nhơn,52,2025-07-01
"""
ROSTER = (
    "Mã cán bộ,Họ và tên,Giới tính,Mã đơn vị hành chính,Tuyến,Loại hình,Nhóm đối tượng,"
    "Ngày bắt đầu\n"
    "GL001,Nguyễn Thị Hoa,Nữ,21583,Tuyến xã,Viên chức,vc_commune,01/08/2025\n"
    "GL002,Trần Văn Nam,Nam,21583,Tuyến xã,Viên chức,vc_commune,01/08/2025\n"
)
PROBE = b"""| survey |
| | type | name | label |
| | text | commune | Commune |
| | text | staff_id | Staff |
| settings |
| | form_id | version | form_title |
| | probe | 1 | Probe |
"""
OR = {"X-OpenRosa-Version": "1.0"}
PASSWORD = "mat-khau-du-dai"
COMPETENCIES = [f"C{n:02d}" for n in range(1, 22)]


def ok(result):
    assert result.exit_code == 0, result.output
    return result.output


def tna_xml(
    instance: str,
    version: str,
    *,
    staff: str = "GL001",
    end: str = "2026-11-23T01:30:00.000+07:00",
    start: str = "2026-11-23T01:10:00.000+07:00",
    wave: str | None = "2026-1",
    ratings: dict[str, tuple[str, str]] | None = None,
    deprecated: str | None = None,
    level: str = "commune",
    topics: str = "tp02 tp06",
) -> bytes:
    """A needs assessment as ODK Collect sends it (every group present, blanks empty)."""
    ratings = ratings or {}
    groups = "".join(
        f"<g_c{n[1:]}><imp_c{n[1:]}>{ratings.get(n, ('', ''))[0]}</imp_c{n[1:]}>"
        f"<perf_c{n[1:]}>{ratings.get(n, ('', ''))[1]}</perf_c{n[1:]}></g_c{n[1:]}>"
        for n in COMPETENCIES
    )
    meta = f"<instanceID>{instance}</instanceID>"
    if deprecated:
        meta += f"<deprecatedID>{deprecated}</deprecatedID>"
    return (
        f'<data xmlns:jr="http://openrosa.org/javarosa" id="tna_dskhhgd" version="{version}">'
        f"<start>{start}</start><end>{end}</end><today>2026-11-23</today>"
        "<deviceid>collect:abc</deviceid><username>hoa</username>"
        f"<tna_wave>{wave or ''}</tna_wave><consent>yes</consent>"
        f"<g_unit><level>{level}</level><province>52</province><district/>"
        "<commune>21583</commune><hamlet/><unit_id>u_tyt_21583</unit_id></g_unit>"
        f"<g_person><staff_id>{staff}</staff_id><full_name/><staff_cat>vc_commune</staff_cat>"
        "<job_position>pop_specialist</job_position><sex>f</sex><birth_year>1988</birth_year>"
        "<ethnic_minority>yes</ethnic_minority><years_pop>9</years_pop>"
        "<edu_level>college</edu_level><edu_field>medpharm</edu_field>"
        "<cdnn_rank>ds_iv</cdnn_rank><ctv_roles/></g_person>"
        "<g_train><certs>vc_std basic_2m</certs><yr_vc_std>2015</yr_vc_std><yr_cdnn_iv/>"
        "<yr_cdnn_iii/><yr_cdnn_ii/><topics_24m>tp01 tp04</topics_24m><days_12m>6</days_12m>"
        f"</g_train><is_leader>0</is_leader><is_provider>0</is_provider>{groups}"
        f"<g_wants><topics_wanted>{topics}</topics_wanted><topic_top1>tp06</topic_top1>"
        "<pref_format>blended</pref_format><pref_duration>d2_3</pref_duration>"
        "<pref_place>district</pref_place><barriers>workload distance</barriers>"
        "<device_access>smartphone internet</device_access><other_needs/><comments/>"
        f"</g_wants><meta>{meta}</meta></data>"
    ).encode()


RATED = {
    "C01": ("5", "2"),
    "C04": ("4", "4"),
    "C05": ("7", "3"),  # importance out of range: excluded, counted
    "C11": ("3", "0"),  # performance out of range
    "C18": ("na", ""),  # not applicable: the performance question disappears
    "C19": ("5", "5"),
}


@pytest.fixture
def tna(runner, tmp_path, app):
    """Units, a register, the standard TNA form and a probe form, a tablet token for both."""
    (tmp_path / "units.csv").write_text(UNITS, encoding="utf-8")
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    (tmp_path / "probe.md").write_bytes(PROBE)
    ok(runner.invoke(args=["units", "import", str(tmp_path / "units.csv")]))
    ok(runner.invoke(args=["roster", "import", str(tmp_path / "roster.csv")]))
    ok(runner.invoke(args=["forms", "publish", str(ROOT / "forms" / "tna_dskhhgd.xlsx")]))
    ok(runner.invoke(args=["forms", "publish", str(tmp_path / "probe.md")]))
    out = ok(
        runner.invoke(
            args=["devices", "create", "xa", "--form", "tna_dskhhgd", "--form", "probe", "--json"]
        )
    )
    version = db.session.execute(
        sa.select(FormVersion.version)
        .join(FormVersion.form)
        .where(sa.text("form_id = 'tna_dskhhgd'"))
    ).scalar_one()
    return json.loads(out)["token"], version


def post(client, token: str, xml: bytes):
    response = client.post(
        f"/key/{token}/submission",
        headers=OR,
        content_type="multipart/form-data",
        data={"xml_submission_file": (io.BytesIO(xml), "s.xml")},
    )
    assert response.status_code == 201, response.data
    return response


def receive(app, xml: bytes, at: dt.datetime) -> Submission:
    """Store through the service with a chosen receipt time, then project as the hook does."""
    admin = db.session.execute(
        sa.select(accounts.User).where(accounts.User.username == "bot")
    ).scalar_one_or_none() or accounts.create_user(
        "bot", role="admin", password=PASSWORD, realm=app.config["AUTH_REALM"],
        session=db.session, now=NOW,
    )  # fmt: skip
    receipt = receive_submission(
        xml,
        [],
        origin=Origin(actor=accounts.Actor(user=admin)),
        session=db.session,
        store=AttachmentStore(app.config["STORAGE_DIR"]),
        now=at,
    )
    db.session.commit()
    project_needs(db.session, receipt.submission, now=at)
    db.session.commit()
    return receipt.submission


def responses() -> dict[str, NeedsResponse]:
    rows = db.session.execute(
        sa.select(Submission.instance_id, NeedsResponse).join(
            Submission, Submission.id == NeedsResponse.submission_id
        )
    ).all()
    return dict(rows)


def snapshot() -> dict[str, list[tuple]]:
    """Every projected row (without the projection time), ordered."""
    result = {}
    for model in (NeedsResponse, NeedsRating, NeedsChoice):
        columns = [c for c in model.__table__.columns if c.name != "projected_at"]
        rows = db.session.execute(sa.select(*columns).order_by(*model.__table__.primary_key))
        result[model.__tablename__] = [tuple(r) for r in rows]
    return result


def counted_by_table(submission_id: int) -> set[tuple[str, bool]]:
    found = set()
    for model in (NeedsResponse, NeedsRating, NeedsChoice):
        for (flag,) in db.session.execute(
            sa.select(model.counted).where(model.submission_id == submission_id)
        ):
            found.add((model.__tablename__, flag))
    return found


def test_a_tna_submission_becomes_rows(tna, client, session):
    token, version = tna
    post(client, token, tna_xml("uuid:a", version, ratings=RATED))
    response = responses()["uuid:a"]
    hoa = session.execute(sa.select(Person).where(Person.code == "GL001")).scalar_one()
    assert (response.person_id, response.person_code) == (hoa.id, "GL001")
    assert (response.level, response.staff_cat, response.job_position) == (
        "commune",
        "vc_commune",
        "pop_specialist",
    )
    assert (response.unit_code, response.province_code, response.commune_code) == (
        "21583",
        "52",
        "21583",
    )
    assert response.district_code is None
    # 01:30 in Vietnam on the 23rd is still the 22nd in UTC: the day is the Vietnamese one.
    assert response.responded_on == dt.date(2026, 11, 23)
    assert response.wave == "2026-1"
    assert response.duration_seconds == 20 * 60
    assert response.out_of_range == 2
    assert response.straightlined is False
    assert (response.sex, response.ethnic_minority, response.birth_year) == ("f", True, 1988)
    assert (response.years_pop, response.days_12m, response.cdnn_rank) == (9, 6, "ds_iv")
    assert response.counted is True
    ratings = {
        r.competency: (r.importance, r.performance)
        for r in session.execute(sa.select(NeedsRating)).scalars()
    }
    assert sorted(ratings) == COMPETENCIES  # one row per competency of the form
    assert ratings["C01"] == (5, 2)
    assert ratings["C04"] == (4, 4)
    assert ratings["C05"] == (None, 3)
    assert ratings["C11"] == (3, None)
    assert ratings["C18"] == (None, None)
    assert ratings["C02"] == (None, None)  # not asked of commune staff
    choices = {(c.question, c.code) for c in session.execute(sa.select(NeedsChoice)).scalars()}
    assert choices == {
        ("topics_wanted", "tp02"),
        ("topics_wanted", "tp06"),
        ("topic_top1", "tp06"),
        ("topics_24m", "tp01"),
        ("topics_24m", "tp04"),
        ("certs", "vc_std"),
        ("certs", "basic_2m"),
        ("barriers", "workload"),
        ("barriers", "distance"),
        ("device_access", "smartphone"),
        ("device_access", "internet"),
        ("pref_format", "blended"),
        ("pref_duration", "d2_3"),
        ("pref_place", "district"),
    }
    rating = session.execute(
        sa.select(NeedsRating).where(NeedsRating.competency == "C01")
    ).scalar_one()
    choice = session.execute(sa.select(NeedsChoice).limit(1)).scalar_one()
    for row in (rating, choice):  # every row carries the respondent
        assert (row.level, row.staff_cat, row.job_position, row.unit_code) == (
            "commune",
            "vc_commune",
            "pop_specialist",
            "21583",
        )
        assert (row.responded_on, row.wave, row.counted) == (dt.date(2026, 11, 23), "2026-1", True)


def test_straight_lining_and_missing_metadata(tna, client):
    token, version = tna
    flat = dict.fromkeys(("C01", "C03", "C04", "C05", "C11"), ("4", "3"))
    post(client, token, tna_xml("uuid:flat", version, ratings=flat, wave=None, start=""))
    response = responses()["uuid:flat"]
    assert response.straightlined is True
    assert response.duration_seconds is None
    assert response.wave == "2026"  # no tna_wave: the year of the answer


def test_a_refused_consent_is_not_an_assessment(tna, client, runner):
    token, version = tna
    refused = tna_xml("uuid:no", version, staff="").replace(
        b"<consent>yes</consent>", b"<consent>no</consent>"
    )
    post(client, token, refused)
    assert responses() == {}
    assert ok(runner.invoke(args=["needs", "rebuild"])).startswith("0 TNA")


def test_respondents_off_the_register(tna, client):
    token, version = tna
    post(client, token, tna_xml("uuid:x", version, staff="GL404"))
    post(client, token, tna_xml("uuid:y", version, staff="_notlisted"))
    post(client, token, tna_xml("uuid:z", version, staff="_notlisted"))
    found = responses()
    assert (found["uuid:x"].person_id, found["uuid:x"].person_code) == (None, "GL404")
    assert (found["uuid:y"].person_id, found["uuid:y"].person_code) == (None, None)
    assert all(r.counted for r in found.values())  # unmatched answers are never duplicates


@pytest.mark.parametrize("order", ["oldest first", "newest first"])
def test_duplicates_in_a_wave_keep_the_latest(tna, app, order):
    _, version = tna
    early = tna_xml("uuid:early", version, end="2026-11-20T09:00:00.000+07:00")
    late = tna_xml("uuid:late", version, end="2026-11-21T09:00:00.000+07:00")
    other_wave = tna_xml("uuid:w2", version, end="2026-11-19T09:00:00.000+07:00", wave="2025-1")
    sequence = [early, late] if order == "oldest first" else [late, early]
    rows = [receive(app, xml, NOW + dt.timedelta(minutes=i)) for i, xml in enumerate(sequence)]
    receive(app, other_wave, NOW + dt.timedelta(minutes=5))
    found = responses()
    assert {k: r.counted for k, r in found.items()} == {
        "uuid:early": False,
        "uuid:late": True,
        "uuid:w2": True,
    }
    by_id = {r.instance_id: r.id for r in rows}
    assert counted_by_table(by_id["uuid:early"]) == {
        ("needs_responses", False),
        ("needs_ratings", False),
        ("needs_choices", False),
    }
    assert counted_by_table(by_id["uuid:late"]) == {
        ("needs_responses", True),
        ("needs_ratings", True),
        ("needs_choices", True),
    }


def test_same_end_time_the_later_received_counts(tna, app):
    _, version = tna
    receive(app, tna_xml("uuid:second", version), NOW + dt.timedelta(hours=1))
    receive(app, tna_xml("uuid:first", version), NOW)
    assert {k: r.counted for k, r in responses().items()} == {
        "uuid:first": False,
        "uuid:second": True,
    }


def test_an_edit_replaces_the_rows_of_the_version_it_replaces(tna, client, session):
    token, version = tna
    post(client, token, tna_xml("uuid:v1", version, ratings={"C01": ("5", "1")}))
    post(
        client,
        token,
        tna_xml("uuid:v2", version, ratings={"C01": ("4", "3")}, deprecated="uuid:v1"),
    )
    assert list(responses()) == ["uuid:v2"]
    c01 = session.execute(
        sa.select(NeedsRating).where(NeedsRating.competency == "C01")
    ).scalar_one()
    assert (c01.importance, c01.performance) == (4, 3)
    assert session.execute(sa.select(sa.func.count()).select_from(NeedsRating)).scalar() == 21


def test_an_edit_that_is_now_older_gives_the_count_back(tna, app):
    _, version = tna
    receive(app, tna_xml("uuid:a1", version, end="2026-11-20T09:00:00.000+07:00"), NOW)
    receive(app, tna_xml("uuid:b1", version, end="2026-11-21T09:00:00.000+07:00"), NOW)
    assert {k: r.counted for k, r in responses().items()} == {"uuid:a1": False, "uuid:b1": True}
    # The later answer is corrected to another person: the first one counts again.
    edit = tna_xml("uuid:b2", version, staff="GL002", deprecated="uuid:b1")
    receive(app, edit, NOW + dt.timedelta(hours=1))
    assert {k: r.counted for k, r in responses().items()} == {"uuid:a1": True, "uuid:b2": True}


def test_delete_and_restore(tna, app, client, session):
    _, version = tna
    older = receive(app, tna_xml("uuid:o", version, end="2026-11-20T09:00:00.000+07:00"), NOW)
    newer = receive(app, tna_xml("uuid:n", version, end="2026-11-21T09:00:00.000+07:00"), NOW)
    admin = session.execute(
        sa.select(accounts.User).where(accounts.User.username == "bot")
    ).scalar_one()
    token = accounts.create_api_token(admin, label="t", session=session, now=NOW)
    session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.delete(f"/api/v1/submissions/{newer.id}", headers=headers).status_code == 204
    assert {k: r.counted for k, r in responses().items()} == {"uuid:o": True}
    assert counted_by_table(newer.id) == set()
    assert counted_by_table(older.id) == {
        ("needs_responses", True),
        ("needs_ratings", True),
        ("needs_choices", True),
    }
    restored = client.post(f"/api/v1/submissions/{newer.id}/restore", headers=headers)
    assert restored.status_code == 200
    assert {k: r.counted for k, r in responses().items()} == {"uuid:o": False, "uuid:n": True}


def test_projection_is_idempotent(tna, app, session):
    _, version = tna
    row = receive(app, tna_xml("uuid:i", version, ratings=RATED), NOW)
    before = snapshot()
    assert project_needs(session, row, now=NOW) is True
    project_needs(session, row, now=NOW)
    session.commit()
    assert snapshot() == before


def test_rebuild_reproduces_the_projection_exactly(tna, app, client, runner, monkeypatch):
    token, version = tna
    post(client, token, tna_xml("uuid:r1", version, ratings=RATED))
    post(client, token, tna_xml("uuid:r2", version, end="2026-11-24T08:00:00.000+07:00"))
    post(client, token, tna_xml("uuid:r3", version, staff="GL002", wave="2025-1"))
    post(client, token, tna_xml("uuid:r4", version, staff="_notlisted"))
    post(client, token, tna_xml("uuid:r5", version, staff="GL002", deprecated="uuid:r3"))
    before = snapshot()
    assert len(before["needs_responses"]) == 4
    monkeypatch.setattr(needs_projection, "BATCH_SIZE", 2)  # several batches
    out = ok(runner.invoke(args=["scores", "rebuild"]))
    assert "4 TNA response(s) projected" in out
    assert snapshot() == before
    db.session.execute(sa.update(NeedsResponse).values(counted=True, level="x"))
    db.session.execute(sa.delete(NeedsChoice))
    db.session.commit()
    assert ok(runner.invoke(args=["needs", "rebuild", "tna_dskhhgd"])).startswith("4 TNA")
    assert snapshot() == before
    assert ok(runner.invoke(args=["needs", "rebuild", "probe"])).startswith("0 TNA")
    assert snapshot() == before


def test_other_forms_are_not_projected(tna, client, session):
    token, _ = tna
    xml = (
        b'<data id="probe" version="1"><commune>21583</commune><staff_id>GL001</staff_id>'
        b"<meta><instanceID>uuid:p</instanceID></meta></data>"
    )
    post(client, token, xml)
    row = session.execute(sa.select(Submission)).scalar_one()
    assert project_needs(session, row, now=NOW) is False
    assert session.execute(sa.select(sa.func.count()).select_from(NeedsResponse)).scalar() == 0
    assert rebuild_needs(session, now=NOW) == 0


def test_concurrent_projections_of_one_submission_do_not_collide(tna, app):
    """Two identical posts at once both project the same new submission: no key collision."""
    _, version = tna
    row = receive(app, tna_xml("uuid:c", version, ratings=RATED), NOW)
    row_id = row.id
    before = snapshot()
    errors: list[BaseException] = []

    def project(barrier):
        with app.app_context():
            try:
                submission = db.session.get(Submission, row_id)
                barrier.wait()
                project_needs(db.session, submission, now=NOW)
                db.session.commit()
            except BaseException as exc:
                errors.append(exc)
            finally:
                db.session.remove()

    for _ in range(5):
        for model in (NeedsChoice, NeedsRating, NeedsResponse):  # as if never projected
            db.session.execute(sa.delete(model))
        db.session.commit()
        barrier = threading.Barrier(3)
        threads = [threading.Thread(target=project, args=(barrier,)) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        db.session.expire_all()
        assert snapshot() == before
