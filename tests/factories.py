"""What the tests build again and again, made in one place.

Plain values, functions and small classes (no fixtures): the test configuration, OpenRosa
requests as Collect sends them, registers, TNA answers, the reports spec's worked example.
Any test module may import from here; no test module imports from another test module or from
a ``conftest.py`` (``tests/test_architecture.py`` checks it). Fixtures shared by several
packages live in the ``conftest.py`` that encloses them all.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import secrets
import zipfile
from pathlib import Path

import config
from harness import ROOT
from server.domain.digest import compute_ha1, md5_hex, parse_authorization
from server.domain.encryption import load_private_key

#: Files the tests read: forms, registers, Collect's encrypted sample, Moodle's fixture.
DATA = ROOT / "tests" / "data"
#: The clock of every test that does not care what time it is.
NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)


def make_config(database_url: str, storage_dir: Path, **overrides) -> dict:
    """A complete, hermetic test configuration (no environment, no instance folder).

    :param storage_dir: the attachment store; under the test's ``tmp_path``, so it goes away
        with the test's other files.
    """
    values = dict(config.DEFAULTS)
    values.update(
        SECRET_KEY="test-secret",
        DATABASE_URL=database_url,
        STORAGE_DIR=str(storage_dir),
        TESTING=True,
        # No job thread outliving the test's database: tests run jobs with worker.work_once
        # (or switch the thread on and stop it themselves).
        JOBS_WORKER=False,
    )
    values.update(overrides)
    return values


# --------------------------------------------------------------------------- OpenRosa

#: The header ODK Collect sends with every OpenRosa request.
OR = {"X-OpenRosa-Version": "1.0"}
#: The password of users made by the ``make_user`` fixture.
PASSWORD = "mật-khẩu-đủ-dài"


class DigestClient:
    """Answers Digest challenges the way okhttp-digest (inside Collect) does."""

    def __init__(self, client, username="alice", password=PASSWORD):
        self.client, self.username, self.password = client, username, password
        self.challenge: dict[str, str] | None = None
        self.nc = 0

    def header(self, method: str, uri: str, *, password: str | None = None) -> str:
        self.nc += 1
        params = self.challenge
        cnonce = secrets.token_hex(8)
        ha1 = compute_ha1(self.username, params["realm"], password or self.password)
        ha2 = md5_hex(f"{method}:{uri}")
        nc = f"{self.nc:08x}"
        response = md5_hex(f"{ha1}:{params['nonce']}:{nc}:{cnonce}:auth:{ha2}")
        return (
            f'Digest username="{self.username}", realm="{params["realm"]}", '
            f'nonce="{params["nonce"]}", uri="{uri}", response="{response}", qop=auth, '
            f'nc={nc}, cnonce="{cnonce}", algorithm=MD5, opaque="{params.get("opaque", "")}"'
        )

    def request(self, method: str, uri: str, **kwargs):
        """Send without credentials first (as Collect does), then answer the challenge."""
        headers = {**OR, **kwargs.pop("headers", {})}
        if self.challenge is None:
            first = self.client.open(uri, method=method, headers=headers, **_rewind(kwargs))
            if first.status_code != 401:
                return first
            self.take_challenge(first)
        headers["Authorization"] = self.header(method, uri)
        return self.client.open(uri, method=method, headers=headers, **_rewind(kwargs))

    def take_challenge(self, response) -> None:
        digest = [h for h in response.headers.getlist("WWW-Authenticate") if h.startswith("Digest")]
        assert digest, response.headers
        self.challenge = parse_authorization(digest[0])[1]
        self.nc = 0


def _rewind(kwargs: dict) -> dict:
    """Multipart file objects are consumed by a request; give each attempt fresh ones."""
    data = kwargs.get("data")
    if isinstance(data, dict):
        fresh = {}
        for key, value in data.items():
            if isinstance(value, tuple) and isinstance(value[0], io.BytesIO):
                fresh[key] = (io.BytesIO(value[0].getvalue()), *value[1:])
            else:
                fresh[key] = value
        kwargs = {**kwargs, "data": fresh}
    return kwargs


def parts(xml: bytes, **files: bytes) -> dict:
    """A Collect-style multipart body: xml_submission_file plus one part per attachment."""
    data = {"xml_submission_file": (io.BytesIO(xml), "submission.xml", "text/xml")}
    for name, content in files.items():
        data[name] = (io.BytesIO(content), name)
    return data


def photo_xml(instance: str, name: str, photo: str) -> str:
    """A submission of ``export_demo.md`` with one photo reference (empty: no photo)."""
    return (
        f'<data id="export_demo" version="1"><name>{name}</name><age>34</age>'
        f"<topics>tp01</topics><ok>yes</ok><dob>1990-05-01</dob><photo>{photo}</photo>"
        f"<meta><instanceID>{instance}</instanceID></meta></data>"
    )


def listed(client, headers, query: str = "") -> list[dict]:
    """Every item of the ``export_demo`` listing, walked two to a page (checked as JSON)."""
    items, cursor = [], None
    while True:
        url = f"/api/v1/forms/export_demo/submissions?limit=2{query}"
        response = client.get(url + (f"&cursor={cursor}" if cursor else ""), headers=headers)
        assert response.status_code == 200, response.get_json()
        assert response.headers["Content-Type"] == "application/json"
        page = json.loads(response.data)
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def simple(instance_id: str, name: str = "Lan", age: int = 30, version: str = "1") -> str:
    """A submission of the test form ``simple`` (tests/data/forms/simple.xml)."""
    return (
        f'<data id="simple" version="{version}"><meta><instanceID>{instance_id}</instanceID>'
        f"<instanceName>{name}</instanceName></meta><name>{name}</name><age>{age}</age>"
        "</data>"
    )


# --------------------------------------------------------------------------- encryption

#: An encrypted submission made by ODK Collect v1.22.4 with tests/data/encryption's key.
COLLECT_PRIVATE_KEY = load_private_key((DATA / "encryption" / "collect_test_key.pem").read_bytes())
ENCRYPTED_INSTANCE = "uuid:99b303d9-6494-477b-a30d-d8aae8867335"
ENCRYPTED_KEY = (
    "iyEB1LAlvVE8uaW0HuhLhzwcLceIukqfgusDNdDEE2FFxVtUtSI3FiOuNxhgI/Zbgnaabh/vqeZ3yLXwv0f66pAbN0n8"
    "kM9f84VJR18fdUp6doOz7o8IQD7gc3ZfbRXweab/NxnahfYa9ij0Kax1LTKS05Oodk2MewkzwfBhdbf/CfiBP1HSskDi"
    "o40jdW5f04GkqZsFCPUluF2DfMnwYCo0wdwf2m8o+lSNR+vrFeEYG7LtGE4X90pVrQnJHwFWHGjSwJpg/USn5skBioDK"
    "UCv/Dva9xJ+JXUz+QSg6LOuP+SDxsrmf36WKrnE8kWfN4oaBdmIwFSStkLH9foNXUw=="
)
#: submission.xml.enc of that submission.
CIPHERTEXT = base64.b64decode(
    "kMhJdk0mZOqvlxndUO3v4+UPvfYoc+bbkPmF3QmhoP7lP/QjHbzqw/IfZxQ54D328eCc4V6jtbrjeAXV+m1cWsCGGLW5"
    "KwTAxBjPBXzsZrUeY0RISVJ1g9BJoXfSRAjYMrFYOM907BFUIYYxMqpVWGy1lo8ljqY+Sgq1VphkQk/TQGgOVYFALHDL"
    "OYnLKuLHvwBLQQwK3lje8CwNlf/b2rY9qfGC4P1emoiP+YzkLp8eH6x/HfMvRIFoZEaom1i5s3SU4WVwe2Tno4jKD69o"
    "jMlQN6VKB7DK4xaRSs2C7zfDm63n1WCyyOAj8mASIFhb3sc3hD56HTJFUV/TH3UVlzP7oPm/Mm7nEcU3+HdSSwm3I1qF"
    "YhsXfVRym41IlbC4Twf660/kUZrugA7Zqd5K9Un3lOVTzYowaF+m5OIOO56wff3zPBxeOVjANDKR7V6/"
)


# --------------------------------------------------------------------------- files


def docx_bytes() -> bytes:
    """A minimal Word document: a ZIP that is an Office file but not a workbook."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def cli_output(result) -> str:
    """The output of a ``CliRunner`` result, asserting the command succeeded."""
    assert result.exit_code == 0, result.output
    return result.output


# --------------------------------------------------------------------------- registers

COMPETENCIES = [f"C{n:02d}" for n in range(1, 22)]

#: Pre-reform Gia Lai (the 2022 baseline of the reports spec lives there) and a unit without
#: anyone, for "no data".
GIA_LAI_UNITS = """level,code,name,parent_code,valid_from,valid_to
province,64,Tỉnh Gia Lai (cũ),,2010-01-01,2025-06-30
district,622,Thành phố Pleiku,64,2010-01-01,2025-06-30
district,627,Huyện Chư Păh,64,2010-01-01,2025-06-30
commune,23590,Phường Ia Kring,622,2010-01-01,2025-06-30
commune,23740,Thị trấn Phú Hòa,627,2010-01-01,2025-06-30
province,01,Thành phố Hà Nội,,2010-01-01,
"""
ROSTER_HEADER = (
    "Mã cán bộ,Họ và tên,Giới tính,Mã đơn vị hành chính,Tuyến,Loại hình,Nhóm đối tượng,"
    "Chứng chỉ,Ngày bắt đầu\n"
)


def gia_lai_2022_roster() -> str:
    """The Gia Lai 2022 workforce (reports spec §1.3): 270 staff and their certificates.

    10 province staff; 52 district population officers (48 with the standard certificate, the
    first 14 of them also CDNN grade III); 208 commune officers (200 standard, 5 CDNN).
    """
    rows = [
        f"T{n:03d},Cán bộ tỉnh {n},Nữ,64,Tuyến tỉnh,Công chức,cc_prov,,01/01/2015"
        for n in range(10)
    ]
    for n in range(52):
        certs = (["vc_std:2016"] if n < 48 else []) + (["cdnn_iii:2019"] if n < 14 else [])
        rows.append(
            f"H{n:03d},Viên chức huyện {n},Nam,{'622' if n % 2 else '627'},Tuyến huyện,"
            f"Viên chức,vc_district,{';'.join(certs)},01/03/2015"
        )
    for n in range(208):
        certs = (["vc_std:2018"] if n < 200 else []) + (["cdnn_iii:2020"] if n < 5 else [])
        rows.append(
            f"X{n:03d},Viên chức xã {n},Nữ,{'23590' if n % 2 else '23740'},Tuyến xã,Viên chức,"
            f"vc_commune,{';'.join(certs)},01/06/2016"
        )
    return ROSTER_HEADER + "\n".join(rows) + "\n"


def tna_submission(
    instance: str,
    version: str,
    *,
    staff: str,
    level: str = "commune",
    province: str = "64",
    district: str = "",
    commune: str = "",
    staff_cat: str = "vc_commune",
    end: str = "2022-11-23T09:30:00.000+07:00",
    ratings: dict[str, tuple[int | str, int | str]] | None = None,
    topics: str = "tp01 tp06",
    top1: str = "tp06",
    barriers: str = "workload",
    wave: str = "2022-1",
    trained: str = "tp05",
) -> bytes:
    """A needs assessment (form ``tna_dskhhgd``) as ODK Collect sends it."""
    ratings = ratings or {}
    groups = "".join(
        f"<g_c{c[1:]}><imp_c{c[1:]}>{ratings.get(c, ('', ''))[0]}</imp_c{c[1:]}>"
        f"<perf_c{c[1:]}>{ratings.get(c, ('', ''))[1]}</perf_c{c[1:]}></g_c{c[1:]}>"
        for c in COMPETENCIES
    )
    return (
        f'<data xmlns:jr="http://openrosa.org/javarosa" id="tna_dskhhgd" version="{version}">'
        f"<start>{end[:11]}09:00:00.000+07:00</start><end>{end}</end><today>{end[:10]}</today>"
        f"<deviceid>collect:test</deviceid><username/><tna_wave>{wave}</tna_wave>"
        f"<consent>yes</consent><g_unit><level>{level}</level><province>{province}</province>"
        f"<district>{district}</district><commune>{commune}</commune><hamlet/>"
        f"<unit_id>u_{commune or district or province}</unit_id></g_unit>"
        f"<g_person><staff_id>{staff}</staff_id><full_name/><staff_cat>{staff_cat}</staff_cat>"
        "<job_position>pop_specialist</job_position><sex>f</sex><birth_year>1988</birth_year>"
        "<ethnic_minority>no</ethnic_minority><years_pop>6</years_pop>"
        "<edu_level>college</edu_level><edu_field>medpharm</edu_field><cdnn_rank/><ctv_roles/>"
        "</g_person><g_train><certs>vc_std</certs><yr_vc_std>2018</yr_vc_std><yr_cdnn_iv/>"
        f"<yr_cdnn_iii/><yr_cdnn_ii/><topics_24m>{trained}</topics_24m><days_12m>3</days_12m>"
        f"</g_train><is_leader>0</is_leader><is_provider>0</is_provider>{groups}"
        f"<g_wants><topics_wanted>{topics}</topics_wanted><topic_top1>{top1}</topic_top1>"
        "<pref_format>blended</pref_format><pref_duration>d2_3</pref_duration>"
        f"<pref_place>district</pref_place><barriers>{barriers}</barriers>"
        "<device_access>smartphone</device_access><other_needs/><comments/></g_wants>"
        f"<meta><instanceID>{instance}</instanceID></meta></data>"
    ).encode()


# --------------------------------------------------------------------------- evaluation

#: Reports spec §3.11: the worked example's pre and post % of ten matched trainees.
WORKED_PRE = (40, 55, 60, 70, 50, 65, 45, 80, 35, 60)
WORKED_POST = (70, 75, 80, 85, 65, 90, 60, 85, 55, 60)
#: The standard bank's one-answer items but five (20 items of 1 mark: every 5 % is reachable).
WORKED_ITEMS = tuple(f"q{n:02d}" for n in range(1, 26) if n not in (5, 11, 15, 24, 25))


def worked_key(full_key_csv: str) -> str:
    """The standard DSCOBAN key cut to :data:`WORKED_ITEMS` (same header, same rows)."""
    lines = full_key_csv.splitlines()
    keep = [line for line in lines[1:] if line.split(",")[2] in WORKED_ITEMS]
    return "\n".join([lines[0], *keep]) + "\n"


def key_answers(full_key_csv: str) -> dict[str, str]:
    """Item → the correct choice name of the one-answer items of the standard key."""
    answers = {}
    for line in full_key_csv.splitlines()[1:]:
        _bank, _version, item, qtype, key = line.split(",")[:5]
        if qtype in ("single", "tf"):
            answers[item] = key
    return answers


def wrong_choice(correct: str) -> str:
    """A choice name that is not the key (a–d items, or true/false)."""
    return {"true": "false", "false": "true", "a": "b"}.get(correct, "a")


def attempt_xml(
    form_id: str,
    version: str,
    *,
    phase: str,
    course: str,
    trainee: str,
    correct_items: int,
    key: dict[str, str],
    instance: str,
    items: tuple[str, ...] = WORKED_ITEMS,
    start: str = "2026-09-07T08:00:00.000+07:00",
    end: str = "2026-09-07T08:25:00.000+07:00",
) -> bytes:
    """A pre/post-test submission answering the first ``correct_items`` items right."""
    answers = "".join(
        f"<{item}>{key[item] if n < correct_items else wrong_choice(key[item])}</{item}>"
        for n, item in enumerate(items)
    )
    return (
        f'<data id="{form_id}" version="{version}"><start>{start}</start><end>{end}</end>'
        f"<bank_id>DSCOBAN</bank_id><bank_version>2026.1</bank_version><phase>{phase}</phase>"
        f"<course_code>{course}</course_code><trainee_id>{trainee}</trainee_id>{answers}"
        f"<meta><instanceID>{instance}</instanceID></meta></data>"
    ).encode()


def satisfaction_xml(
    version: str,
    *,
    course: str,
    instance: str,
    ratings: tuple[int, ...],
    overall: int,
    trainer: str = "",
    trainer_ratings: tuple[int, int, int] = (5, 5, 4),
    improve: str = "",
    most_useful: str = "",
    topics: str = "",
) -> bytes:
    """A course evaluation (form danhgia_khoahoc) with ten agreement ratings and comments."""
    sat = "".join(f"<sat_{n:02d}>{r}</sat_{n:02d}>" for n, r in enumerate(ratings, start=1))
    tr = (
        f"<tr><trainer_id>{trainer}</trainer_id><tr_clear>{trainer_ratings[0]}</tr_clear>"
        f"<tr_engage>{trainer_ratings[1]}</tr_engage><tr_time>{trainer_ratings[2]}</tr_time></tr>"
        if trainer
        else ""
    )
    return (
        f'<data id="danhgia_khoahoc" version="{version}"><course_code>{course}</course_code>'
        f"<resp_level>commune</resp_level><g_sat>{sat}</g_sat><overall>{overall}</overall>{tr}"
        f"<most_useful>{most_useful}</most_useful><improve>{improve}</improve>"
        f"<next_topics>{topics}</next_topics>"
        f"<meta><instanceID>{instance}</instanceID></meta></data>"
    ).encode()


# --------------------------------------------------------------------------- the worked course

#: The standard DSCOBAN answer key (forms/answer-keys), and its one-answer items' keys.
STANDARD_KEY_CSV = (ROOT / "forms" / "answer-keys" / "DSCOBAN-2026.1.csv").read_text(
    encoding="utf-8"
)
STANDARD_KEY = key_answers(STANDARD_KEY_CSV)
#: The code of the worked example's course (the ``course`` fixture of tests/integration).
WORKED_COURSE = "DSCB-2026-09"
WORKED_UNITS = """level,code,name,parent_code,valid_from
province,52,Tỉnh Gia Lai,,2025-07-01
commune,21583,Phường Quy Nhơn,52,2025-07-01
commune,23584,Xã Ia Ka,52,2025-07-01
"""
WORKED_ROSTER_HEADER = (
    "Mã cán bộ,Họ và tên,Giới tính,Mã đơn vị hành chính,Tuyến,Loại hình,Nhóm đối tượng,"
    "Ngày bắt đầu\n"
)
#: The ten trainees of the worked example, GL000 … GL009.
WORKED_NAMES = (
    "Nguyễn Thị Hoa",
    "Trần Văn Nam",
    "Lê Thị Mai",
    "Phạm Văn Đức",
    "Hoàng Thị Lan",
    "Vũ Văn Hùng",
    "Đặng Thị Thu",
    "Bùi Văn Long",
    "Đỗ Thị Hằng",
    "Ngô Văn Tâm",
)


def form_version(client, token: str, form_id: str) -> str:
    """The version of a form that a device token's form list offers."""
    listing = client.get(f"/key/{token}/formList", headers=OR).data.decode()
    block = listing.split(f"<formID>{form_id}</formID>")[1]
    return block.split("<version>")[1].split("</version>")[0]


def post_submission(client, token: str, xml: bytes):
    """POST a submission with a device token, as Collect does; asserts 201."""
    response = client.post(
        f"/key/{token}/submission",
        headers=OR,
        content_type="multipart/form-data",
        data={"xml_submission_file": (io.BytesIO(xml), "s.xml")},
    )
    assert response.status_code == 201, response.data
    return response


def elsewhere(app, statement: str) -> None:
    """Run a statement on a connection of its own, as another process or the CLI would.

    What a cache must notice without the app's own session having seen anything.
    """
    import sqlalchemy as sa

    url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        import sqlite3

        with sqlite3.connect(url.database) as conn:
            conn.execute(statement)
        return
    import psycopg

    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(statement)
