r"""Export benchmark: CSV, XLSX and ZIP downloads of a large form, on SQLite and PostgreSQL.

For every backend × size, this script

1. creates a fresh database (a temp SQLite file, or ``CREATE DATABASE`` on the PostgreSQL
   server given by ``--postgres-url``), migrates it, publishes the benchmark form (a 30-question
   XLSForm with one repeat group, written below as markdown) and creates an admin with an API
   token, all through the CLI as ``make run`` does;
2. loads N synthetic submissions *directly* into ``submissions`` (PostgreSQL: ``COPY``;
   SQLite: SQLAlchemy Core ``insert`` in batches): the Collect-shaped XML, its md5, and the
   typed ``data`` JSON exactly as the server would have parsed it (checked on a sample with the
   server's own parser), Vietnamese text, 0–3 repeat items each, and a small fraction of rows
   with a photo whose bytes sit in the attachment store (``TAPHUAN_STORAGE_DIR``); then
   ``VACUUM ANALYZE`` / ``ANALYZE``, as autovacuum would have done on a live server;
3. times each export end to end

   * over HTTP: gunicorn started as ``make run`` does (``--bind 127.0.0.1:PORT --workers 2
     --worker-class gthread --threads 4 wsgi:app``),
     ``GET /api/v1/forms/<id>/submissions.csv|.xlsx|.zip`` with a bearer token, the body
     streamed to a file; peak RSS is the serving worker's ``VmHWM`` (reset through
     ``/proc/<pid>/clear_refs`` before each request), CPU its ``utime + stime``;
   * through the CLI: ``flask --app wsgi export FORM --format F --out PATH``; peak RSS is that
     process's ``VmHWM`` (polled every 20 ms until it exits), CPU from ``wait4``;

   and, on PostgreSQL, the CPU the database server spent (its process tree, exited backends
   included);
4. checks every file: main-table row count = submissions loaded, the repeat table present with
   every repeat item, sample rows carrying the values that were loaded, every photo in the ZIP.

Run it (PostgreSQL from a throwaway cluster)::

    scripts/with-postgres .venv/bin/python bench/export.py --sizes 10000,100000
    scripts/with-postgres .venv/bin/python bench/export.py --sizes 1000000 \
        --backends postgresql --formats csv,xlsx

The HTTP exports run against gunicorn's default ``--timeout`` (30 s, as ``make run``); add
``--gunicorn-timeout default,0`` to repeat them with the timeout off (rows labelled
``http t=0``), or ``--worker-class sync --threads 0`` to try another worker class (a sync
worker is killed by the timeout during a long download: why ``make run`` uses gthread).

Targets (issue 14, on PostgreSQL): CSV ≥ 50,000, XLSX ≥ 15,000, ZIP ≥ 30,000 rows/s, peak RSS
< 250 MB at 1M rows; each is printed as PASS or MISS. Exit status: 0 when every export
finished and every file is correct, 1 otherwise (errors, wrong output), 2 for bad arguments.
A missed target is not a failure.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import http.client
import io
import json
import os
import platform
import random
import re
import shutil
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import psycopg
import psycopg.sql
import sqlalchemy as sa
from sqlalchemy.engine import make_url

# The harness, and this checkout's server rather than an installed one.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness.cli import app_env, flask, run_measured
from harness.databases import PostgresCpu, PostgresServer, create_database, drop_database, libpq
from harness.gunicorn import Gunicorn
from harness.proc import cpu_seconds, peak_kb, reset_peak

FORM_ID = "bench_export"
FORM_VERSION = "2026010101"
REPEAT = "trainers"
REPEAT_TABLE = f"{FORM_ID}-{REPEAT}"
BACKENDS = ("sqlite", "postgresql")
FORMATS = ("csv", "xlsx", "zip")
VIAS = ("http", "cli")
#: The issue's targets (PostgreSQL): rows/s per format, and peak RSS at 1M rows.
TARGET_RATE = {"csv": 50_000.0, "xlsx": 15_000.0, "zip": 30_000.0}
TARGET_RSS_MB = 250.0
TARGET_RSS_ROWS = 1_000_000
#: Excel's last row; a sheet cannot hold more (header + 1,048,575 data rows).
EXCEL_MAX_ROWS = 1_048_576
ADMIN = "bench"
ADMIN_PASSWORD = "bench-password-123"  # noqa: S105 (a throwaway server)

# --- the form ---------------------------------------------------------------------------------

# 30 questions: 3 metadata (start, end, today), 2 groups, text, integer, decimal, date,
# select_one, two select_multiple, geopoint, an image, and a repeat group of 3 questions.
FORM_MD = f"""\
| survey |
| | type | name | label::Vietnamese (vi) | label::English (en) | required | parameters |
| | start | start | | | | |
| | end | end | | | | |
| | today | today | | | | |
| | begin_group | respondent | Người trả lời | Respondent | | |
| | text | full_name | Họ và tên | Full name | yes | |
| | select_one gender | gender | Giới tính | Sex | yes | |
| | integer | birth_year | Năm sinh | Year of birth | yes | |
| | text | phone | Số điện thoại | Phone | | |
| | select_one position | position | Chức danh | Position | yes | |
| | integer | years_in_post | Số năm công tác | Years in post | | |
| | end_group | respondent | | | | |
| | begin_group | workplace | Nơi công tác | Workplace | | |
| | text | province | Tỉnh/Thành phố | Province | yes | |
| | text | district | Quận/Huyện | District | | |
| | text | commune | Xã/Phường | Commune | yes | |
| | text | hamlet | Thôn/Tổ dân phố | Hamlet | | |
| | end_group | workplace | | | | |
| | date | training_date | Ngày tập huấn | Training date | yes | |
| | select_one course | course | Khóa học | Course | yes | |
| | select_multiple topic | topics_wanted | Chủ đề muốn tập huấn thêm | Topics wanted | | |
| | select_multiple fmt | formats | Hình thức phù hợp | Suitable formats | | |
| | select_one likert | rate_content | Nội dung | Content | yes | |
| | select_one likert | rate_trainer | Giảng viên | Trainer | yes | |
| | select_one likert | rate_materials | Tài liệu | Materials | yes | |
| | integer | households | Số hộ phụ trách | Households | | |
| | decimal | hours_per_week | Số giờ mỗi tuần | Hours per week | | |
| | text | difficulties | Khó khăn | Difficulties | | |
| | text | suggestions | Đề xuất | Suggestions | | |
| | geopoint | location | Vị trí | Location | | |
| | image | photo | Ảnh lớp học | Class photo | | max-pixels=1024 |
| | select_one yn | consent | Đồng ý chia sẻ? | Agree to share? | yes | |
| | begin_repeat | {REPEAT} | Giảng viên | Trainers | | |
| | text | trainer_name | Tên giảng viên | Trainer name | | |
| | integer | trainer_score | Điểm | Score | | |
| | select_one course | trainer_course | Học phần | Module | | |
| | end_repeat | {REPEAT} | | | | |
| choices |
| | list_name | name | label::Vietnamese (vi) | label::English (en) |
| | gender | male | Nam | Male |
| | gender | female | Nữ | Female |
| | position | ctv | Cộng tác viên dân số | Population collaborator |
| | position | commune | Viên chức dân số xã | Commune officer |
| | position | province | Cán bộ Chi cục Dân số | Provincial officer |
| | course | tp01 | TP01 Dân số cơ bản | TP01 Population basics |
| | course | tp02 | TP02 Truyền thông | TP02 Communication |
| | course | tp03 | TP03 Người cao tuổi | TP03 Older people |
| | topic | kh | Kế hoạch hóa gia đình | Family planning |
| | topic | stss | Sàng lọc trước sinh | Prenatal screening |
| | topic | mcbgt | Mất cân bằng giới tính | Sex ratio at birth |
| | topic | nct | Người cao tuổi | Older people |
| | topic | tths | Thu thập số liệu | Data collection |
| | fmt | class | Lớp tập trung | Classroom |
| | fmt | online | Trực tuyến | Online |
| | fmt | field | Thực hành | On-site |
| | likert | 1 | Rất kém | Very poor |
| | likert | 2 | Kém | Poor |
| | likert | 3 | Trung bình | Fair |
| | likert | 4 | Tốt | Good |
| | likert | 5 | Rất tốt | Very good |
| | yn | yes | Có | Yes |
| | yn | no | Không | No |
| settings |
| | form_id | version | form_title | default_language | instance_name |
| | {FORM_ID} | {FORM_VERSION} | Thử xuất dữ liệu | Vietnamese (vi) | concat(${{full_name}}, ' - ', ${{training_date}}) |
"""  # noqa: E501  (a markdown table reads best unwrapped)

# --- submission content -----------------------------------------------------------------------


def names(text: str, sep: str = " ") -> list[str]:
    """Split a list of names written on one line."""
    return text.split(sep)


FAMILY = names("Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý")
MIDDLE = names("Thị Văn Minh Thanh Ngọc Đức Hồng Quốc Thu Xuân")
GIVEN = names("An Bình Chi Dũng Giang Hà Hải Hạnh Hiền Hùng Hương Khánh Lan Linh Mai Nam Nga Phúc")
PLACES = [
    ("Nghệ An", ["Diễn Châu", "Quỳnh Lưu", "Yên Thành"]),
    ("Thanh Hóa", ["Hoằng Hóa", "Nga Sơn", "Thọ Xuân"]),
    ("Hà Tĩnh", ["Cẩm Xuyên", "Kỳ Anh", "Hương Sơn"]),
    ("Đắk Lắk", ["Buôn Đôn", "Ea H'leo", "Krông Pắc"]),
]
COMMUNES = names("Diễn Kỷ;Quỳnh Thạch;Hoằng Đạo;Nga Liên;Cẩm Thành;Ea Sol;Kỳ Tân;Sơn Kim", ";")
HAMLETS = names("Thôn 1;Thôn 2;Xóm Đông;Xóm Tây;Bản Mới;Tổ dân phố 3;Buôn Ea Kmar", ";")
DIFFICULTIES = [
    "Thiếu tài liệu truyền thông bằng tiếng dân tộc",
    "Địa bàn rộng, đi lại khó khăn vào mùa mưa",
    "- Phụ cấp cộng tác viên thấp, chưa kịp thời",
    "Người dân còn e ngại khi tư vấn về kế hoạch hóa gia đình",
    "Phần mềm báo cáo hay bị lỗi & chậm",
]
SUGGESTIONS = [
    "Tăng thời lượng thực hành",
    "=Tổ chức thêm lớp trực tuyến",
    "Cấp thêm tờ rơi, áp phích cho các thôn bản",
    "Tập huấn nhắc lại hằng năm",
]
TRAINERS = ["BS. Lê Văn Hòa", "ThS. Nguyễn Thị Mai", "CN. Trần Đức Thắng", "BS. Phạm Thu Hà"]
COURSES = ["tp01", "tp02", "tp03"]
TOPICS = ["kh", "stss", "mcbgt", "nct", "tths"]
FORMATS_CHOICES = ["class", "online", "field"]
POSITIONS = ["ctv", "ctv", "ctv", "commune", "province"]
USER_AGENT = "org.odk.collect.android/v2025.2.3 Dalvik/2.1.0 (Linux; U; Android 13; SM-A145F)"
VIETNAM = dt.timezone(dt.timedelta(hours=7))
RECEIVED_START = dt.datetime(2026, 1, 5, 1, 0, tzinfo=dt.UTC)
INSTANCE_PREFIX = "uuid:6f1c2a9e-4b7d-4c1e-9a3b-"
#: Columns of ``submissions`` the loader fills (ids are explicit: attachments point at them).
SUBMISSION_COLUMNS = (
    "id",
    "form_pk",
    "form_version_id",
    "instance_id",
    "is_current",
    "xml",
    "md5",
    "data",
    "instance_name",
    "is_encrypted",
    "review_state",
    "device_id",
    "user_agent",
    "submitter_user_id",
    "received_at",
    "submitted_at",
    "unit_code",
    "reviewed_by_user_id",
    "reviewed_at",
)
ATTACHMENT_COLUMNS = (
    "id",
    "submission_id",
    "name",
    "sha256",
    "size",
    "content_type",
    "received_at",
)
#: Main-table columns whose loaded values are compared on sample rows.
CHECKED = (
    "instanceID",
    "respondent/full_name",
    "respondent/birth_year",
    "training_date",
    "topics_wanted",
    "topics_wanted/kh",
    "hours_per_week",
    "photo",
)


def instance_id(i: int) -> str:
    """The instanceID of row ``i`` (a UUID-shaped string, unique per row)."""
    return f"{INSTANCE_PREFIX}{i:012x}"


def _text(tag: str, value: object) -> str:
    if value is None:
        return f"<{tag}/>"
    return f"<{tag}>{escape(str(value))}</{tag}>"


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class Fragment:
    """A piece of a submission, as XML, as the JSON the server stores, and as values."""

    xml: str
    json: str
    values: dict


@dataclass
class Generated:
    """One synthetic submission, ready for the database."""

    values: tuple
    attachment: tuple | None
    repeats: int
    expected: dict[str, str]


class Generator:
    """Deterministic, Collect-shaped submissions of the benchmark form.

    Rows are assembled from pools of pre-rendered fragments (respondent, workplace, answers,
    repeat items: thousands of variants each, millions of combinations), so that a million
    rows load in minutes; instanceID, times, device and photo are unique per row.

    :param seed: the random seed.
    :param ids: (form_pk, form_version_id, submitter_user_id).
    :param photo_every: every k-th row carries a photo; 0 = none.
    :param photo_bytes: size of each (distinct) photo file.
    :param storage: the attachment store folder, where photo bytes are written.
    """

    def __init__(self, seed: int, ids: tuple[int, int, int], photo_every: int,
                 photo_bytes: int, storage: Path):  # fmt: skip
        self.rng = random.Random(seed)
        self.form_pk, self.version_id, self.user_id = ids
        self.photo_every = photo_every
        self.photo_bytes = photo_bytes
        self.storage = storage
        self.step = dt.timedelta(seconds=2)
        self.devices = [f"collect:{self.rng.getrandbits(64):016X}" for _ in range(256)]
        self.respondents = [self._respondent() for _ in range(2048)]
        self.workplaces = [self._workplace() for _ in range(256)]
        self.answers = [self._answers() for _ in range(2048)]
        self.repeats = [self._repeat() for _ in range(512)]
        self.next_attachment = 1

    def _respondent(self) -> Fragment:
        rng = self.rng
        v = {
            "full_name": f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
            "gender": rng.choice(("male", "female")),
            "birth_year": rng.randint(1960, 2004),
            "phone": f"09{rng.randint(0, 99_999_999):08d}",
            "position": rng.choice(POSITIONS),
            "years_in_post": rng.randint(0, 30) if rng.random() < 0.9 else None,
        }
        return Fragment("".join(_text(k, x) for k, x in v.items()), _json(v), v)

    def _workplace(self) -> Fragment:
        rng = self.rng
        province, districts = rng.choice(PLACES)
        v = {
            "province": province,
            "district": rng.choice(districts),
            "commune": rng.choice(COMMUNES),
            "hamlet": rng.choice(HAMLETS) if rng.random() < 0.8 else None,
        }
        return Fragment("".join(_text(k, x) for k, x in v.items()), _json(v), v)

    def _answers(self) -> Fragment:
        """Course … consent (training_date, photo and the repeat are per row)."""
        rng = self.rng
        topics = [t for t in TOPICS if rng.random() < 0.35] or None
        formats = [f for f in FORMATS_CHOICES if rng.random() < 0.5] or None
        location = [round(rng.uniform(8.6, 23.3), 7), round(rng.uniform(102.2, 109.4), 7),
                    round(rng.uniform(0, 400), 1), round(rng.uniform(3, 30), 1)]  # fmt: skip
        v = {
            "course": rng.choice(COURSES),
            "topics_wanted": topics,
            "formats": formats,
            "rate_content": str(rng.randint(2, 5)),
            "rate_trainer": str(rng.randint(2, 5)),
            "rate_materials": str(rng.randint(2, 5)),
            "households": rng.randint(20, 400) if rng.random() < 0.85 else None,
            "hours_per_week": round(rng.uniform(1, 40), 1) if rng.random() < 0.85 else None,
            "difficulties": rng.choice(DIFFICULTIES) if rng.random() < 0.6 else None,
            "suggestions": rng.choice(SUGGESTIONS) if rng.random() < 0.5 else None,
            "location": location,
        }
        xml = "".join(
            _text(k, " ".join(map(str, x)) if isinstance(x, list) else x) for k, x in v.items()
        )
        return Fragment(xml, _json(v)[1:-1], v)

    def _repeat(self) -> Fragment:
        rng = self.rng
        items = [
            {"trainer_name": rng.choice(TRAINERS), "trainer_score": rng.randint(5, 10),
             "trainer_course": rng.choice(COURSES)}
            for _ in range(rng.choice((0, 1, 1, 2, 2, 2, 3)))
        ]  # fmt: skip
        xml = "".join(
            f"<{REPEAT}>{''.join(_text(k, x) for k, x in item.items())}</{REPEAT}>"
            for item in items
        )
        return Fragment(xml, f', "{REPEAT}": {_json(items)}' if items else "", {"n": len(items)})

    def photo(self, i: int) -> tuple[str, str, int]:
        """Write row ``i``'s photo into the store: (name, sha256, size)."""
        head = bytes.fromhex("ffd8ffe000104a46494600010100000100010000")
        body = hashlib.sha256(f"photo {i}".encode()).digest() * (self.photo_bytes // 32 + 1)
        content = head + body[: max(0, self.photo_bytes - len(head) - 2)] + b"\xff\xd9"
        sha = hashlib.sha256(content).hexdigest()
        folder = self.storage / sha[:2]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / sha).write_bytes(content)
        return f"{1767571200000 + i}.jpg", sha, len(content)

    def row(self, i: int) -> Generated:
        """Submission ``i`` (0-based; ids and received_at increase with ``i``)."""
        bits = self.rng.getrandbits(96)
        who = self.respondents[bits & 2047]
        where = self.workplaces[(bits >> 11) & 255]
        said = self.answers[(bits >> 19) & 2047]
        repeat = self.repeats[(bits >> 30) & 511]
        device = self.devices[(bits >> 39) & 255]
        received = RECEIVED_START + self.step * i
        end = (received - dt.timedelta(seconds=30 + (bits >> 47) % 3570)).astimezone(VIETNAM)
        start = end - dt.timedelta(seconds=300 + (bits >> 60) % 1200)
        end_s = end.isoformat(timespec="milliseconds")
        start_s = start.isoformat(timespec="milliseconds")
        today = end.date().isoformat()
        training = (end.date() - dt.timedelta(days=(bits >> 72) % 4)).isoformat()
        approved = (bits >> 76) % 10 == 0
        attachment = photo = None
        if self.photo_every and i % self.photo_every == self.photo_every // 2:
            photo, sha, size = self.photo(i)
            attachment = (self.next_attachment, i + 1, photo, sha, size, "image/jpeg", received)
            self.next_attachment += 1
        iid = instance_id(i)
        name = f"{who.values['full_name']} - {training}"
        consent = "no" if (bits >> 80) % 20 == 0 else "yes"
        photo_xml = f"<photo>{photo}</photo>" if photo else "<photo/>"
        xml = (
            f'<?xml version="1.0" ?><data xmlns:jr="http://openrosa.org/javarosa" '
            f'xmlns:orx="http://openrosa.org/xforms" id="{FORM_ID}" version="{FORM_VERSION}">'
            f"<start>{start_s}</start><end>{end_s}</end><today>{today}</today>"
            f"<respondent>{who.xml}</respondent><workplace>{where.xml}</workplace>"
            f"<training_date>{training}</training_date>{said.xml}{photo_xml}"
            f"<consent>{consent}</consent>{repeat.xml}"
            f"<meta><instanceID>{iid}</instanceID><instanceName>{escape(name)}</instanceName>"
            "</meta></data>"
        ).encode()
        data = (
            f'{{"start": "{start_s}", "end": "{end_s}", "today": "{today}", '
            f'"respondent": {who.json}, "workplace": {where.json}, '
            f'"training_date": "{training}", {said.json}, '
            f'"photo": {_json(photo)}, "consent": "{consent}"{repeat.json}, '
            f'"meta": {{"instanceID": "{iid}", "instanceName": {_json(name)}}}}}'
        )
        values = (
            i + 1, self.form_pk, self.version_id, iid, True, xml,
            hashlib.md5(xml, usedforsecurity=False).hexdigest(), data, name, False,
            "approved" if approved else "received", device, USER_AGENT, self.user_id,
            received, end.astimezone(dt.UTC), where.values["hamlet"] or where.values["commune"],
            self.user_id if approved else None,
            received + dt.timedelta(hours=1) if approved else None,
        )  # fmt: skip
        topics, hours = said.values["topics_wanted"], said.values["hours_per_week"]
        expected = {
            "instanceID": iid,
            "respondent/full_name": who.values["full_name"],
            "respondent/birth_year": str(who.values["birth_year"]),
            "training_date": training,
            "topics_wanted": " ".join(topics) if topics else "",
            "topics_wanted/kh": ("1" if "kh" in topics else "0") if topics else "",
            "hours_per_week": "" if hours is None else repr(hours),
            "photo": photo or "",
        }
        return Generated(values, attachment, repeat.values["n"], expected)


# --- databases and data -----------------------------------------------------------------------


@dataclass
class Loaded:
    """What one database holds once loaded, and how long loading took."""

    backend: str
    size: int
    seconds: float
    repeats: int
    attachments: int
    db_mb: float
    samples: dict[int, dict[str, str]]
    first_photo: str | None
    photo_bytes: int
    notes: list[str] = field(default_factory=list)


def prepare(url: str, workdir: Path) -> tuple[dict[str, str], str]:
    """Migrate, publish the form and create an admin with a token, via the CLI: (env, token)."""
    env = app_env(url, workdir / "storage", secret_key="bench-secret", LOG_LEVEL="WARNING")
    form = workdir / f"{FORM_ID}.md"
    form.write_text(FORM_MD, encoding="utf-8")
    flask(["db", "upgrade"], env)
    flask(["forms", "publish", str(form)], env)
    flask(
        ["users", "create", ADMIN, "--role", "admin"], {**env, "TAPHUAN_PASSWORD": ADMIN_PASSWORD}
    )
    token = flask(["users", "token", ADMIN, "--label", "export benchmark"], env).strip()
    return env, token.splitlines()[-1].strip()


def form_ids(engine: sa.Engine) -> tuple[tuple[int, int, int], dict]:
    """((form pk, version id, admin user id), the version's field schema)."""
    with engine.connect() as conn:
        form_pk, version_id, schema = conn.execute(
            sa.text(
                "SELECT f.id, v.id, v.schema FROM forms f JOIN form_versions v "
                "ON v.form_pk = f.id WHERE f.form_id = :f"
            ),
            {"f": FORM_ID},
        ).one()
        user_id = conn.execute(
            sa.text("SELECT id FROM users WHERE username = :u"), {"u": ADMIN}
        ).scalar_one()
    if isinstance(schema, str):
        schema = json.loads(schema)
    return (form_pk, version_id, user_id), schema


def check_parsed_like_server(generated: list[Generated], schema: dict) -> None:
    """The ``data`` loaded must be what the server itself parses from the XML.

    :raises AssertionError: naming the first row that differs.
    """
    from server.domain.instances import index_fields, read_instance, typed_data

    fields = index_fields(schema["fields"])
    for g in generated:
        xml, data = g.values[5], json.loads(g.values[7])
        parsed = typed_data(read_instance(xml).root, fields)
        if parsed != data:
            raise AssertionError(f"row {g.values[0]}: server parses {parsed!r}, loaded {data!r}")


class Loader:
    """Fills a migrated database with ``size`` synthetic submissions."""

    def __init__(self, args, backend: str, url: str, storage: Path):
        self.args, self.backend, self.url, self.storage = args, backend, url, storage

    def run(self, size: int) -> Loaded:
        """Generate and insert the rows; returns what was loaded and the time it took."""
        engine = sa.create_engine(self.url)
        try:
            ids, schema = form_ids(engine)
        finally:
            engine.dispose()
        photo_every = round(1 / self.args.photo_fraction) if self.args.photo_fraction else 0
        gen = Generator(self.args.seed, ids, photo_every, self.args.photo_bytes, self.storage)
        sample_at = {0, 1, size // 2, size - 1}
        self.samples: dict[int, dict[str, str]] = {}
        self.first: list[Generated] = []
        self.repeats = self.attachments = 0
        self.first_photo = None
        started = time.perf_counter()
        if self.backend == "postgresql":
            self._copy_postgres(gen, size, sample_at)
        else:
            self._insert_sqlite(gen, size, sample_at)
        seconds = time.perf_counter() - started
        check_parsed_like_server(self.first, schema)
        return Loaded(
            self.backend,
            size,
            seconds,
            self.repeats,
            self.attachments,
            self._db_mb(),
            self.samples,
            self.first_photo,
            self.args.photo_bytes,
        )

    def _rows(self, gen: Generator, size: int, sample_at: set[int]):
        for i in range(size):
            g = gen.row(i)
            self.repeats += g.repeats
            if i in sample_at:
                self.samples[i] = g.expected
            if len(self.first) < 50:
                self.first.append(g)
            yield g

    def _copy_postgres(self, gen: Generator, size: int, sample_at: set[int]) -> None:
        attachments = []
        with psycopg.connect(libpq(self.url)) as conn:
            with conn.cursor() as cur:
                columns = ", ".join(SUBMISSION_COLUMNS)
                with cur.copy(f"COPY submissions ({columns}) FROM STDIN") as copy:
                    for g in self._rows(gen, size, sample_at):
                        copy.write_row(g.values)
                        if g.attachment:
                            attachments.append(g.attachment)
                with cur.copy(
                    f"COPY submission_attachments ({', '.join(ATTACHMENT_COLUMNS)}) FROM STDIN"
                ) as copy:
                    for a in attachments:
                        copy.write_row(a)
                for table in ("submissions", "submission_attachments"):
                    setval = psycopg.sql.SQL(
                        "SELECT setval(pg_get_serial_sequence({name}, 'id'), "
                        "(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                    )
                    name, ident = psycopg.sql.Literal(table), psycopg.sql.Identifier(table)
                    cur.execute(setval.format(name=name, table=ident))
            conn.commit()
            conn.autocommit = True
            conn.execute("VACUUM (ANALYZE) submissions")
            conn.execute("VACUUM (ANALYZE) submission_attachments")
        self._note_attachments(attachments)

    def _insert_sqlite(self, gen: Generator, size: int, sample_at: set[int]) -> None:
        meta = sa.MetaData()
        types = {
            "xml": sa.LargeBinary,
            "received_at": sa.DateTime,
            "submitted_at": sa.DateTime,
            "reviewed_at": sa.DateTime,
            "is_current": sa.Boolean,
            "is_encrypted": sa.Boolean,
        }
        submissions = sa.Table(
            "submissions", meta, *(sa.Column(c, types.get(c, sa.Text)) for c in SUBMISSION_COLUMNS)
        )
        attachment_table = sa.Table(
            "submission_attachments",
            meta,
            *(
                sa.Column(c, sa.DateTime if c == "received_at" else sa.Text)
                for c in ATTACHMENT_COLUMNS
            ),
        )
        naive = {"received_at", "submitted_at", "reviewed_at"}  # stored as naive UTC on SQLite
        engine = sa.create_engine(self.url)
        attachments, batch = [], []
        try:
            with engine.begin() as conn:
                for g in self._rows(gen, size, sample_at):
                    row = dict(zip(SUBMISSION_COLUMNS, g.values, strict=True))
                    for key in naive:
                        if row[key] is not None:
                            row[key] = row[key].replace(tzinfo=None)
                    batch.append(row)
                    if g.attachment:
                        a = dict(zip(ATTACHMENT_COLUMNS, g.attachment, strict=True))
                        a["received_at"] = a["received_at"].replace(tzinfo=None)
                        attachments.append(a)
                    if len(batch) >= self.args.batch:
                        conn.execute(sa.insert(submissions), batch)
                        batch = []
                if batch:
                    conn.execute(sa.insert(submissions), batch)
                if attachments:
                    conn.execute(sa.insert(attachment_table), attachments)
            with engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
        finally:
            engine.dispose()
        self._note_attachments([tuple(a.values()) for a in attachments])

    def _note_attachments(self, attachments: list[tuple]) -> None:
        self.attachments = len(attachments)
        self.first_photo = attachments[0][2] if attachments else None

    def _db_mb(self) -> float:
        if self.backend == "sqlite":
            path = Path(make_url(self.url).database)
            return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**20
        with psycopg.connect(libpq(self.url)) as conn:
            return conn.execute("SELECT pg_database_size(current_database())").fetchone()[0] / 2**20


# --- exports ----------------------------------------------------------------------------------


@dataclass
class Run:
    """One export: what was asked, how long it took, what it cost, whether it was right."""

    backend: str
    size: int
    fmt: str
    via: str
    seconds: float | None = None
    ttfb: float | None = None
    out_mb: float | None = None
    rss_mb: float | None = None
    cpu_s: float | None = None
    db_cpu_s: float | None = None
    rows: int | None = None
    repeat_rows: int | None = None
    media: int | None = None
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the export finished and its file was correct."""
        return not self.errors and self.seconds is not None

    @property
    def rate(self) -> float | None:
        """Submissions exported per second, end to end."""
        return self.size / self.seconds if self.seconds else None


def export_http(
    server: Gunicorn, token: str, run: Run, out: Path, timeout: float, db_cpu: PostgresCpu | None
) -> None:
    """Download one export over HTTP into ``out``, measuring the worker that served it."""
    workers = server.workers()
    resettable = all(reset_peak(pid) for pid in workers)
    if not resettable:
        run.notes.append("VmHWM not resettable: peak is the worker's lifetime peak")
    cpu_before = {pid: cpu_seconds(pid) for pid in workers}
    db_before = db_cpu.total() if db_cpu else None
    log_before = server.log.stat().st_size
    path = f"/api/v1/forms/{FORM_ID}/submissions.{run.fmt}"
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    size = 0
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        run.ttfb = time.perf_counter() - started
        if response.status != 200:
            run.errors.append(f"HTTP {response.status}: {response.read(500)!r}")
            return
        with out.open("wb") as handle:
            while chunk := response.read(1 << 20):
                handle.write(chunk)
                size += len(chunk)
                if time.perf_counter() - started > timeout:
                    run.errors.append(f"still downloading after {timeout:.0f} s")
                    return
        length = response.getheader("Content-Length")
        if length is not None and int(length) != size:
            run.errors.append(f"truncated body: {size} of {length} bytes")
    except (OSError, http.client.HTTPException) as error:
        run.errors.append(f"{type(error).__name__}: {error}")
    finally:
        conn.close()
        elapsed = time.perf_counter() - started
        usage = {pid: cpu_seconds(pid) - cpu_before.get(pid, 0.0) for pid in server.workers()}
        if usage:
            busiest = max(usage, key=usage.get)
            run.cpu_s = usage[busiest]
            hwm = peak_kb(busiest)
            run.rss_mb = hwm / 1024 if hwm else None
        if db_cpu is not None and db_before is not None:
            run.db_cpu_s = db_cpu.total() - db_before
        with server.log.open("rb") as log:
            log.seek(log_before)
            tail = log.read().decode("utf-8", "replace")
        if "WORKER TIMEOUT" in tail:
            run.errors.append(f"gunicorn killed the worker (WORKER TIMEOUT) after {elapsed:.0f} s")
        elif "Traceback" in tail:
            run.errors.append("server error: " + tail.strip().splitlines()[-1][:200])
    run.seconds = time.perf_counter() - started if not run.errors else None
    run.out_mb = size / 2**20


def export_cli(
    env: dict[str, str],
    run: Run,
    out: Path,
    timeout: float,
    db_cpu: PostgresCpu | None,
    workdir: Path,
) -> None:
    """Run ``flask --app wsgi export`` into ``out``; peak RSS from VmHWM, CPU from wait4."""
    db_before = db_cpu.total() if db_cpu else None
    measured = run_measured(
        ["export", FORM_ID, "--format", run.fmt, "--out", str(out)],
        env,
        log=workdir / f"cli-{run.fmt}.log",
        timeout=timeout,
    )
    if measured.returncode is None:
        run.errors.append(f"CLI still running after {timeout:.0f} s")
    run.rss_mb = measured.peak_mb
    run.cpu_s = measured.cpu_seconds
    if db_cpu is not None and db_before is not None:
        run.db_cpu_s = db_cpu.total() - db_before
    if measured.returncode != 0 and not run.errors:
        text = measured.output.strip().splitlines()
        run.errors.append(f"exit {measured.returncode}: {(text or [''])[-1][:200]}")
    if not run.errors:
        run.seconds = measured.seconds
        run.out_mb = out.stat().st_size / 2**20


# --- checking the files -----------------------------------------------------------------------


def _norm(value: object) -> str:
    """A cell as comparable text: numbers by value, dates as ISO dates, None empty."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int | float):
        return repr(float(value))
    text = str(value)
    try:
        return repr(float(text)) if re.fullmatch(r"-?\d+(\.\d+)?", text) else text
    except ValueError:
        return text


def check_rows(run: Run, loaded: Loaded, header: list, row_at: dict[int, list]) -> None:
    """Compare sample rows of the main table with the values that were loaded."""
    missing = [c for c in CHECKED if c not in header]
    if missing:
        run.errors.append(f"main table lacks columns {missing}")
        return
    where = {c: header.index(c) for c in CHECKED}
    for i, expected in loaded.samples.items():
        row = row_at.get(i)
        if row is None:
            run.errors.append(f"main table: no row {i + 1}")
            continue
        for column, value in expected.items():
            got = row[where[column]] if where[column] < len(row) else None
            if _norm(got) != _norm(value):
                run.errors.append(f"row {i + 1} {column}: {got!r} ≠ loaded {value!r}")
                return


def read_csv(run: Run, loaded: Loaded, text: io.TextIOBase, repeat: bool) -> int:
    """Count data rows of a CSV table, checking sample rows (main) or keys (repeat)."""
    reader = csv.reader(text)
    header = next(reader, None) or []
    wanted = set(loaded.samples) if not repeat else set()
    sample: dict[int, list] = {}
    count = 0
    for count, row in enumerate(reader, start=1):
        if count - 1 in wanted:
            sample[count - 1] = row
        if (
            repeat
            and count == 1
            and not (
                row[0].startswith(INSTANCE_PREFIX) and row[1].startswith(row[0] + f"/{REPEAT}[")
            )
        ):
            run.errors.append(f"repeat table: unexpected first keys {row[:2]!r}")
    if repeat:
        if header[:2] != ["PARENT_KEY", "KEY"]:
            run.errors.append(f"repeat table header starts {header[:3]!r}")
    else:
        check_rows(run, loaded, header, sample)
    return count


def verify_csv(run: Run, loaded: Loaded, path: Path) -> None:
    """The CSV download: the main table, UTF-8 with BOM."""
    with path.open("rb") as raw:
        if raw.read(3) != b"\xef\xbb\xbf":
            run.errors.append("CSV does not start with the UTF-8 BOM")
    with path.open(encoding="utf-8-sig", newline="") as text:
        run.rows = read_csv(run, loaded, text, repeat=False)


def verify_zip(run: Run, loaded: Loaded, path: Path) -> None:
    """The ZIP: main and repeat CSVs, and every photo under media/."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        for table, repeat in ((FORM_ID, False), (REPEAT_TABLE, True)):
            if f"{table}.csv" not in names:
                run.errors.append(f"ZIP lacks {table}.csv (has {names[:5]})")
                continue
            with archive.open(f"{table}.csv") as member:
                text = io.TextIOWrapper(member, encoding="utf-8-sig", newline="")
                count = read_csv(run, loaded, text, repeat)
            if repeat:
                run.repeat_rows = count
            else:
                run.rows = count
        media = [n for n in names if n.startswith("media/")]
        run.media = len(media)
        photo = f"media/{loaded.first_photo}"
        if photo in names and archive.getinfo(photo).file_size != loaded.photo_bytes:
            run.errors.append(f"{photo} has the wrong size")
        if run.media != loaded.attachments:
            run.errors.append(f"ZIP has {run.media} media files, {loaded.attachments} loaded")


def xlsx_sheets(archive: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(sheet name, part name) in workbook order."""
    workbook = archive.read("xl/workbook.xml").decode()
    rels = archive.read("xl/_rels/workbook.xml.rels").decode()
    targets = {}
    for attributes in re.findall(r"<Relationship ([^>]*)/?>", rels):
        found = dict(re.findall(r'(\w+)="([^"]*)"', attributes))
        targets[found["Id"]] = found["Target"]
    sheets = re.findall(r'<sheet name="([^"]+)" sheetId="\d+" r:id="(rId\d+)"', workbook)
    return [(name, "xl/" + targets[rid].lstrip("/").removeprefix("xl/")) for name, rid in sheets]


def count_sheet_rows(archive: zipfile.ZipFile, part: str) -> int:
    """Rows in a worksheet part, by streaming its XML (no workbook in memory)."""
    count, tail = 0, b""
    with archive.open(part) as handle:
        while chunk := handle.read(1 << 22):
            data = tail + chunk
            count += data.count(b"<row ")
            tail = data[-4:]
            count -= tail.count(b"<row ")  # counted again with the next chunk
    return count + tail.count(b"<row ")


def verify_xlsx(run: Run, loaded: Loaded, path: Path, openpyxl_max: int) -> None:
    """The XLSX: a sheet per table; openpyxl (read-only) for small files, XML counts above."""
    with zipfile.ZipFile(path) as archive:
        sheets = xlsx_sheets(archive)
        names = [s[0] for s in sheets]
        if len(sheets) < 2 or names[0] != FORM_ID or REPEAT_TABLE[:31] not in names:
            run.errors.append(f"XLSX sheets {names}, expected {FORM_ID}, {REPEAT_TABLE[:31]}")
            return
        # a table past Excel's last row continues on sheets "<name>~2", … (header repeated)
        run.rows, run.repeat_rows = (
            sum(
                count_sheet_rows(archive, part) - 1
                for sheet, part in sheets
                if sheet == table or re.fullmatch(re.escape(table) + r"~\d+", sheet)
            )
            for table in (FORM_ID, REPEAT_TABLE[:31])
        )
    if loaded.size > openpyxl_max:
        run.notes.append(
            "XLSX rows counted from the sheet XML (no openpyxl above "
            f"{openpyxl_max} rows); samples not compared"
        )
        return
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        main = workbook[FORM_ID]
        rows = main.iter_rows(values_only=True)
        header = [str(h) for h in next(rows)]
        sample, count = {}, 0
        for count, row in enumerate(rows, start=1):
            if count - 1 in loaded.samples:
                sample[count - 1] = list(row)
        if count != run.rows:
            run.errors.append(f"openpyxl reads {count} rows, the sheet XML has {run.rows}")
        check_rows(run, loaded, header, sample)
        repeat = workbook[REPEAT_TABLE[:31]]
        first = next(repeat.iter_rows(min_row=1, max_row=2, values_only=True), None)
        if not first or list(first[:2]) != ["PARENT_KEY", "KEY"]:
            run.errors.append(f"repeat sheet header {first!r}")
    finally:
        workbook.close()


def verify(run: Run, loaded: Loaded, path: Path, openpyxl_max: int) -> None:
    """Check one export file against what was loaded; appends to ``run.errors``."""
    try:
        if run.fmt == "csv":
            verify_csv(run, loaded, path)
        elif run.fmt == "xlsx":
            verify_xlsx(run, loaded, path, openpyxl_max)
        else:
            verify_zip(run, loaded, path)
    except (zipfile.BadZipFile, csv.Error, KeyError, UnicodeDecodeError, OSError) as error:
        run.errors.append(f"unreadable {run.fmt}: {type(error).__name__}: {error}")
        return
    if run.rows != loaded.size:
        run.errors.append(f"main table has {run.rows} rows, {loaded.size} submissions loaded")
    if run.fmt != "csv" and run.repeat_rows != loaded.repeats:
        run.errors.append(f"repeat table has {run.repeat_rows} rows, {loaded.repeats} loaded")


# --- the whole run ----------------------------------------------------------------------------


def run_size(args, backend: str, size: int) -> tuple[Loaded | None, list[Run], list[str]]:
    """Load one fresh database and run every export asked for on it."""
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-export-{backend}-{size}-", dir=args.tmp))
    url, name = create_database(backend, args.postgres_url, workdir, "bench_export")
    runs: list[Run] = []
    problems: list[str] = []
    loaded = None
    try:
        env, token = prepare(url, workdir)
        print(f"  loading {size:,} submissions into {backend} …", flush=True)
        loaded = Loader(args, backend, url, workdir / "storage").run(size)
        print(
            f"  loaded in {loaded.seconds:.1f} s ({size / loaded.seconds:,.0f} rows/s), "
            f"{loaded.repeats:,} repeat items, {loaded.attachments} photos, "
            f"database {loaded.db_mb:,.0f} MB",
            flush=True,
        )
        if args.lines:
            # A live server renders each submission's export line at intake (one INSERT more
            # per submission, inside bench/ingest.py's figures); rows loaded around the intake
            # get theirs from the command an operator runs after a bulk load.
            started = time.perf_counter()
            flask(["forms", "export-lines", FORM_ID], env)
            seconds = time.perf_counter() - started
            note = f"export lines rendered in {seconds:.1f} s ({size / seconds:,.0f}/s)"
            print(f"  {note}", flush=True)
            loaded.notes.append(note)
        else:
            loaded.notes.append("no export lines: every row rendered from its answers")
        db_cpu = PostgresCpu(args.postgres_url) if backend == "postgresql" else None
        plans = [
            (via, timeout)
            for via in args.vias
            for timeout in (args.gunicorn_timeouts if via == "http" else [None])
        ]
        for via, timeout in plans:
            server = None
            label = via
            if via == "http":
                label = "http" if timeout is None else f"http t={timeout}"
                server = Gunicorn(
                    env, workdir / f"gunicorn-{timeout}.log", workers=args.workers,
                    worker_class=args.worker_class, threads=args.threads, timeout=timeout,
                )  # fmt: skip
            try:
                for fmt in args.formats:
                    run = Run(backend, size, fmt, label)
                    out = workdir / f"export-{via}.{fmt}"
                    if server is not None:
                        export_http(server, token, run, out, args.export_timeout, db_cpu)
                    else:
                        export_cli(env, run, out, args.export_timeout, db_cpu, workdir)
                    if run.ok:
                        verify(run, loaded, out, args.openpyxl_max_rows)
                    out.unlink(missing_ok=True)
                    runs.append(run)
                    print("  " + line(run), flush=True)
            finally:
                if server is not None:
                    server.stop()
    except Exception as error:
        problems.append(f"{backend} {size:,}: {type(error).__name__}: {error}")
        print(f"  ERROR {problems[-1]}", flush=True)
    finally:
        if not args.keep:
            drop_database(args.postgres_url, name)
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"  kept {workdir} ({url})")
    return loaded, runs, problems


def fmt_num(value: float | None, digits: int = 1) -> str:
    """A number for the table, or an em dash."""
    return "—" if value is None else f"{value:,.{digits}f}"


def line(run: Run) -> str:
    """One result line for the progress output."""
    state = "ok" if run.ok else "FAIL: " + "; ".join(run.errors)
    return (
        f"{run.backend:<10} {run.size:>9,} {run.fmt:<4} {run.via:<9} "
        f"{fmt_num(run.seconds)} s  {fmt_num(run.rate, 0)} rows/s  "
        f"RSS {fmt_num(run.rss_mb, 0)} MB  {state}"
    )


def results_table(runs: list[Run]) -> str:
    """The result table, one row per export."""
    head = (
        "backend",
        "rows",
        "fmt",
        "via",
        "seconds",
        "rows/s",
        "TTFB s",
        "out MB",
        "peak RSS MB",
        "proc CPU s",
        "db CPU s",
        "check",
    )
    body = [
        (
            r.backend,
            f"{r.size:,}",
            r.fmt,
            r.via,
            fmt_num(r.seconds),
            fmt_num(r.rate, 0),
            fmt_num(r.ttfb, 2),
            fmt_num(r.out_mb),
            fmt_num(r.rss_mb, 0),
            fmt_num(r.cpu_s),
            fmt_num(r.db_cpu_s),
            "ok" if r.ok else "FAIL",
        )
        for r in runs
    ]
    return markdown(head, body)


def load_table(loads: list[Loaded]) -> str:
    """The load-time table, one row per database."""
    head = ("backend", "rows", "load s", "rows/s", "repeat items", "photos", "db MB", "then")
    body = [
        (
            x.backend,
            f"{x.size:,}",
            fmt_num(x.seconds),
            fmt_num(x.size / x.seconds, 0),
            f"{x.repeats:,}",
            f"{x.attachments:,}",
            fmt_num(x.db_mb, 0),
            "; ".join(x.notes),
        )
        for x in loads
    ]
    return markdown(head, body)


def markdown(head: tuple, body: list[tuple]) -> str:
    """A markdown table with aligned columns."""
    widths = [max(len(str(c)) for c in col) for col in zip(head, *body, strict=True)]
    lines = ["| " + " | ".join(str(c).ljust(w) for c, w in zip(head, widths, strict=True)) + " |"]
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    lines += [
        "| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in body
    ]
    return "\n".join(lines)


def targets(runs: list[Run]) -> list[str]:
    """PASS/MISS for each of the issue's targets that a PostgreSQL run measured."""
    verdicts = []
    for r in runs:
        if r.backend != "postgresql":
            continue
        label = f"postgresql {r.size:>9,} {r.fmt:<4} {r.via:<9}"
        if r.fmt in TARGET_RATE:
            goal = TARGET_RATE[r.fmt]
            if r.rate is None:
                verdicts.append(f"MISS  {label} rate: export failed (target ≥ {goal:,.0f} rows/s)")
            else:
                verdict = "PASS" if r.rate >= goal else "MISS"
                verdicts.append(
                    f"{verdict}  {label} rate {r.rate:,.0f} rows/s (target ≥ {goal:,.0f})"
                )
        if r.size >= TARGET_RSS_ROWS and r.rss_mb is not None:
            verdict = "PASS" if r.rss_mb < TARGET_RSS_MB else "MISS"
            verdicts.append(
                f"{verdict}  {label} peak RSS {r.rss_mb:,.0f} MB (target < {TARGET_RSS_MB:.0f} MB)"
            )
    if not any(r.size >= TARGET_RSS_ROWS for r in runs if r.backend == "postgresql"):
        verdicts.append(
            f"(peak RSS target not checked: no PostgreSQL run at {TARGET_RSS_ROWS:,} rows)"
        )
    return verdicts


def environment(args) -> str:
    """What the numbers were measured on."""
    load = os.getloadavg()
    lines = [
        f"machine: {os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}, load average before start {load[0]:.2f}",
        f"gunicorn: --workers {args.workers} --worker-class {args.worker_class}"
        + (f" --threads {args.threads}" if args.threads else "")
        + "; via 'http' = gunicorn's default --timeout (30 s) "
        "as make run, 'http t=N' = --timeout N (0 = never kill a busy worker)",
    ]
    if "postgresql" in args.backends:
        with PostgresServer(args.postgres_url).connect() as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
            settings = conn.execute(
                "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings "
                "WHERE name IN ('shared_buffers','work_mem','fsync','synchronous_commit')"
            ).fetchone()[0]
        lines.append(f"postgresql {version}: {settings}")
    return "\n".join(lines)


def parse_list(text: str, allowed: tuple[str, ...] | None, what: str) -> list[str]:
    """A comma-separated option, checked against its allowed values."""
    items = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in items if allowed is not None and t not in allowed]
    if bad or not items:
        raise argparse.ArgumentTypeError(f"--{what}: {bad or text!r} (choose from {allowed})")
    return items


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="10000,100000,1000000", help="submissions per database, comma-separated"
    )
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--via", dest="vias", default=",".join(VIAS), help="http, cli or both")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TAPHUAN_TEST_POSTGRES_URL"),
        help="an SQLAlchemy URL of a server where databases may be created "
        "(default: $TAPHUAN_TEST_POSTGRES_URL)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (make run: 2)")
    parser.add_argument(
        "--worker-class", default="gthread", help="gunicorn worker class (make run: gthread)"
    )
    parser.add_argument(
        "--threads", type=int, default=4, help="gunicorn --threads (gthread; make run: 4)"
    )
    parser.add_argument(
        "--gunicorn-timeout",
        default="default",
        help="gunicorn --timeout values to run the HTTP exports with, comma-separated; "
        "'default' = gunicorn's own (30 s), as make run; e.g. default,0",
    )
    parser.add_argument(
        "--export-timeout",
        type=float,
        default=900,
        help="give up on one export after this many seconds",
    )
    parser.add_argument(
        "--photo-fraction",
        type=float,
        default=0.01,
        help="share of submissions with a photo in the store (ZIP media)",
    )
    parser.add_argument(
        "--no-lines",
        dest="lines",
        action="store_false",
        help="leave the export lines unrendered (every row rendered from its answers)",
    )
    parser.add_argument("--photo-bytes", type=int, default=4096)
    parser.add_argument("--batch", type=int, default=5000, help="SQLite insert batch size")
    parser.add_argument(
        "--openpyxl-max-rows",
        type=int,
        default=10_000,
        help="read XLSX with openpyxl up to this size; count sheet XML above",
    )
    parser.add_argument("--seed", type=int, default=20260105)
    parser.add_argument("--tmp", default=None, help="folder for databases and downloads")
    parser.add_argument("--keep", action="store_true", help="keep databases and files")
    args = parser.parse_args(argv)
    try:
        args.sizes = [int(s) for s in parse_list(args.sizes, None, "sizes")]
        args.backends = parse_list(args.backends, BACKENDS, "backends")
        args.formats = parse_list(args.formats, FORMATS, "formats")
        args.vias = parse_list(args.vias, VIAS, "via")
        args.gunicorn_timeouts = [
            None if t == "default" else int(t)
            for t in parse_list(args.gunicorn_timeout, None, "gunicorn-timeout")
        ]
    except (argparse.ArgumentTypeError, ValueError) as error:
        parser.error(str(error))
    if any(s < 10 or s > 5_000_000 for s in args.sizes):
        parser.error("--sizes: each between 10 and 5,000,000")
    if not 0 <= args.photo_fraction <= 0.5 or not 64 <= args.photo_bytes <= 1 << 20:
        parser.error("--photo-fraction in [0, 0.5], --photo-bytes in [64, 1 MiB]")
    if "postgresql" in args.backends and not args.postgres_url:
        parser.error("--postgres-url (or TAPHUAN_TEST_POSTGRES_URL) is needed for postgresql")
    if "postgresql" in args.backends:
        host = make_url(args.postgres_url).host or "localhost"
        if host not in ("127.0.0.1", "localhost", "::1"):
            parser.error(f"--postgres-url: loopback only, not {host}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when every export finished and was correct."""
    args = parse_args(argv)
    print(environment(args), flush=True)
    loads: list[Loaded] = []
    runs: list[Run] = []
    problems: list[str] = []
    for backend in args.backends:
        for size in args.sizes:
            print(f"\n== {backend}, {size:,} submissions", flush=True)
            loaded, done, trouble = run_size(args, backend, size)
            if loaded is not None:
                loads.append(loaded)
            runs += done
            problems += trouble
    print(
        "\nLoad (direct insert: COPY on PostgreSQL, Core insert batches on SQLite; "
        "includes VACUUM ANALYZE / ANALYZE)"
    )
    print(load_table(loads))
    print("\nExports (seconds end to end; rows/s = submissions / seconds)")
    print(results_table(runs))
    failed = [r for r in runs if not r.ok]
    for r in failed:
        print(f"FAIL {r.backend} {r.size:,} {r.fmt} {r.via}: {'; '.join(r.errors)}")
    for r in runs:
        for note in dict.fromkeys(r.notes):
            print(f"note {r.backend} {r.size:,} {r.fmt} {r.via}: {note}")
    for problem in problems:
        print(f"ERROR {problem}")
    print("\nTargets (PostgreSQL)")
    for verdict in targets(runs):
        print(verdict)
    return 1 if failed or problems else 0


if __name__ == "__main__":
    sys.exit(main())
