"""Submission ingest benchmark: the real server (gunicorn) on SQLite and PostgreSQL.

For every combination of backend × client concurrency × photo mix, this script

1. creates a fresh database (a temp SQLite file, or ``CREATE DATABASE`` on the PostgreSQL
   server given by ``--postgres-url``), migrates it, publishes the benchmark form (an XLSForm in
   markdown, written below) and creates a device token, all through the CLI as ``make run`` does;
2. starts gunicorn as ``scripts/serve`` does (``--bind 127.0.0.1:PORT``, workers, worker class
   and threads read from ``scripts/serve``, access log on), each overridable by an option;
3. posts ``--n`` Collect-shaped submissions over loopback from ``--concurrency`` threads (one
   keep-alive ``http.client`` connection each): ≈1.5 KB of XML with Vietnamese text, a third of
   them with a 200 KB JPEG-headed photo in the ``photos=third`` runs, and 5 % identical
   resubmissions of earlier instances (which must answer 201 and store nothing new);
4. measures throughput, latency percentiles, CPU time of the gunicorn process tree and of the
   PostgreSQL server (``/proc/<pid>/stat``), CPU time of this client, and peak RSS of gunicorn;
5. stops the server, counts rows in ``submissions`` (and stored photos) with SQLAlchemy, and
   drops the database.

The client and the server share the machine's cores, so the client's own CPU is reported too.

Run it (PostgreSQL from a throwaway cluster)::

    scripts/with-postgres .venv/bin/python bench/ingest.py --n 5000

Exit status: 0 when every request answered 201 and every run's database holds exactly the unique
submissions; 1 otherwise; 2 for bad arguments. Missing the performance target is reported as
MISS, not as a failure.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path

import sqlalchemy as sa

# The harness, and this checkout's server rather than an installed one.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness.cli import app_env, flask
from harness.databases import PostgresCpu, PostgresServer, create_database, drop_database
from harness.gunicorn import Gunicorn, serve_defaults
from harness.proc import MachineCpu, MemorySampler, machine_cpu, peak_kb, settle, tree_cpu
from harness.profiler import PySpy, read_collapsed

ROOT = Path(__file__).resolve().parent.parent
FORM_ID = "bench_ingest"
FORM_VERSION = "2026010101"
BACKENDS = ("sqlite", "postgresql")
PHOTO_MIXES = ("none", "third")
#: The issue's target, checked on (postgresql, concurrency 8, photos none).
#: Issue #14's targets, by (backend, concurrency, photos): CPU per submission (server +
#: database, ms), throughput (subs/s, on an undisturbed run) and p95 (ms); None = no target.
TARGETS = {
    ("postgresql", 8, "none"): {"cpu": 5.0, "rate": 300.0, "p95": 60.0},
    ("postgresql", 8, "third"): {"cpu": 8.0, "rate": None, "p95": None},
    ("sqlite", 8, "none"): {"cpu": None, "rate": 200.0, "p95": None},
}
OPENROSA = {"X-OpenRosa-Version": "1.0"}
#: A run during which other processes used more than this share of the machine is disturbed.
DISTURBED = 0.15
#: Resubmissions repeat an instance sent at least this many positions earlier.
RESUBMIT_GAP = 25

# --- the form ---------------------------------------------------------------------------------

# 21 questions (4 metadata, 2 groups): text, integer, decimal, select_one, select_multiple,
# date, geopoint and an image question `photo`.
FORM_MD = f"""\
| survey |
| | type | name | label::Vietnamese (vi) | label::English (en) | constraint | constraint_message::Vietnamese (vi) | constraint_message::English (en) | required | parameters |
| | start | start | | | | | | | |
| | end | end | | | | | | | |
| | today | today | | | | | | | |
| | deviceid | deviceid | | | | | | | |
| | begin_group | respondent | Người trả lời | Respondent | | | | | |
| | text | full_name | Họ và tên | Full name | | | | yes | |
| | select_one gender | gender | Giới tính | Sex | | | | yes | |
| | integer | birth_year | Năm sinh | Year of birth | . >= 1950 and . <= 2008 | Năm sinh không hợp lệ | Invalid year of birth | yes | |
| | text | phone | Số điện thoại | Phone | | | | | |
| | select_one position | position | Chức danh | Position | | | | yes | |
| | integer | years_in_post | Số năm làm công tác dân số | Years in population work | . >= 0 and . <= 45 | Số năm không hợp lệ | Invalid number of years | | |
| | end_group | respondent | | | | | | | |
| | begin_group | workplace | Nơi công tác | Workplace | | | | | |
| | text | province | Tỉnh/Thành phố | Province | | | | yes | |
| | text | commune | Xã/Phường/Đặc khu | Commune | | | | yes | |
| | text | hamlet | Thôn/Tổ dân phố | Hamlet | | | | | |
| | end_group | workplace | | | | | | | |
| | date | training_date | Ngày tập huấn | Training date | | | | yes | |
| | select_one course | course | Khóa học | Course | | | | yes | |
| | select_multiple topic | topics_wanted | Chủ đề muốn được tập huấn thêm | Topics wanted | | | | | |
| | select_multiple fmt | formats | Hình thức phù hợp | Suitable formats | | | | | |
| | select_one likert | rate_content | Nội dung khóa học | Course content | | | | yes | |
| | select_one likert | rate_trainer | Giảng viên | Trainer | | | | yes | |
| | select_one likert | rate_materials | Tài liệu | Materials | | | | yes | |
| | integer | households | Số hộ phụ trách | Households in charge | . >= 0 and . <= 5000 | Số hộ không hợp lệ | Invalid number of households | | |
| | decimal | hours_per_week | Số giờ làm công tác dân số mỗi tuần | Hours per week | . >= 0 and . <= 80 | Số giờ không hợp lệ | Invalid number of hours | | |
| | text | difficulties | Khó khăn trong công việc | Difficulties at work | | | | | |
| | text | suggestions | Đề xuất, kiến nghị | Suggestions | | | | | |
| | geopoint | location | Vị trí | Location | | | | | |
| | image | photo | Ảnh lớp học | Photo of the class | | | | | max-pixels=1024 |
| | select_one yn | consent | Đồng ý chia sẻ thông tin? | Agree to share? | | | | yes | |
| choices |
| | list_name | name | label::Vietnamese (vi) | label::English (en) |
| | gender | male | Nam | Male |
| | gender | female | Nữ | Female |
| | position | ctv | Cộng tác viên dân số | Population collaborator |
| | position | commune | Viên chức dân số xã | Commune population officer |
| | position | province | Cán bộ Chi cục Dân số | Provincial population officer |
| | course | tp01 | TP01 Kiến thức dân số cơ bản | TP01 Population basics |
| | course | tp02 | TP02 Truyền thông thay đổi hành vi | TP02 Behaviour change |
| | course | tp03 | TP03 Chăm sóc sức khỏe người cao tuổi | TP03 Care of older people |
| | topic | kh | Kế hoạch hóa gia đình | Family planning |
| | topic | stss | Sàng lọc trước sinh, sơ sinh | Prenatal and newborn screening |
| | topic | mcbgt | Mất cân bằng giới tính khi sinh | Sex ratio at birth |
| | topic | nct | Người cao tuổi | Older people |
| | topic | tths | Thu thập, xử lý số liệu | Data collection |
| | fmt | class | Lớp tập trung | Classroom |
| | fmt | online | Trực tuyến | Online |
| | fmt | field | Thực hành tại cơ sở | On-site practice |
| | likert | 1 | Rất kém | Very poor |
| | likert | 2 | Kém | Poor |
| | likert | 3 | Trung bình | Fair |
| | likert | 4 | Tốt | Good |
| | likert | 5 | Rất tốt | Very good |
| | yn | yes | Có | Yes |
| | yn | no | Không | No |
| settings |
| | form_id | version | form_title | default_language | instance_name |
| | {FORM_ID} | {FORM_VERSION} | Thử tải: phiếu khảo sát sau tập huấn | Vietnamese (vi) | concat(${{full_name}}, ' - ', ${{training_date}}) |
"""  # noqa: E501  (a markdown table reads best unwrapped)

# --- submission content -----------------------------------------------------------------------


def names(text: str) -> list[str]:
    """Split a "|"-separated list (names may contain spaces)."""
    return text.split("|")


FAMILY = names(
    "Nguyễn|Trần|Lê|Phạm|Hoàng|Huỳnh|Phan|Vũ|Võ|Đặng|Bùi|Đỗ|Hồ|Ngô|Dương|"
    "Ksor|Siu|Rơ Châm|Rah Lan|Nay"
)
MIDDLE = ["Thị", "Văn", "Minh", "Thanh", "Ngọc", "Đức", "Hồng", "Quốc", "Thu", "Xuân", "H'"]
GIVEN = names(
    "Hạnh|Hương|Lan|Nhung|Phương|Tuấn|Dũng|Hùng|Thảo|Trang|Yến|Khoa|Nguyệt|Hiếu|Blưm|Hen|Phước|Quỳnh|Đạt|Ánh"
)
PLACES = {
    "Gia Lai": ["Xã Ia Ka", "Xã Chư Păh", "Phường Pleiku", "Xã Ia Grai", "Xã Kbang", "Xã Đak Đoa"],
    "Đắk Lắk": ["Xã Ea Kar", "Phường Buôn Ma Thuột", "Xã Krông Búk", "Xã Ea Súp", "Xã Lắk"],
    "Nghệ An": ["Xã Quỳnh Lưu", "Xã Tương Dương", "Phường Vinh Hưng", "Xã Con Cuông"],
    "Quảng Ngãi": ["Xã Sơn Hà", "Phường Cẩm Thành", "Xã Ba Tơ", "Xã Đăk Tô", "Xã Ngọc Hồi"],
    "Lâm Đồng": ["Phường Xuân Hương - Đà Lạt", "Xã Đơn Dương", "Xã Lạc Dương", "Xã Đắk Mil"],
}
HAMLETS = names(
    "Thôn 1|Thôn Hòa Bình|Làng Ia Lang|Tổ dân phố 5|Buôn Ea Kmar|"
    "Xóm Đồng Tâm|Làng Kon Jơ Dri|Thôn Tân Lập"
)
DIFFICULTIES = [
    "Địa bàn rộng, dân cư phân tán, đi lại khó khăn nhất là vào mùa mưa.",
    "Phụ cấp cộng tác viên thấp, nhiều người đã nghỉ nên khối lượng công việc tăng lên.",
    "Người dân còn tâm lý muốn sinh con trai, chưa quan tâm đến sàng lọc trước sinh.",
    "Số liệu phải ghi nhiều lần trên sổ sách và trên phần mềm, mất nhiều thời gian.",
    "Thiếu tài liệu truyền thông bằng tiếng dân tộc thiểu số.",
    "Sau sáp nhập xã, địa bàn phụ trách thay đổi, chưa nắm hết các hộ gia đình.",
    "Điện thoại cũ, thường mất sóng khi đi thu thập thông tin ở các thôn xa.",
    "Kinh phí tổ chức sinh hoạt câu lạc bộ tiền hôn nhân không đủ.",
]
SUGGESTIONS = [
    "Đề nghị tổ chức thêm lớp thực hành sử dụng phần mềm quản lý dữ liệu dân cư.",
    "Cần tăng phụ cấp cho cộng tác viên dân số ở thôn, làng, buôn.",
    "Mong được cung cấp tờ rơi, áp phích bằng tiếng Jrai và tiếng Bahnar.",
    "Nên mở lớp vào cuối tuần để cán bộ kiêm nhiệm có thể tham gia đầy đủ.",
    "Đề xuất giảng viên tuyến tỉnh xuống hướng dẫn trực tiếp tại xã.",
    "Cần hỗ trợ chi phí đi lại và ăn ở cho học viên ở xa trung tâm.",
]
TOPICS = ["kh", "stss", "mcbgt", "nct", "tths"]
FORMATS = ["class", "online", "field"]
COURSES = ["tp01", "tp02", "tp03"]
POSITIONS = ["ctv", "ctv", "ctv", "commune", "province"]
USER_AGENT = (
    "Dalvik/2.1.0 (Linux; U; Android 13; SM-A145F Build/TP1A.220624.014) "
    "org.odk.collect.android/v2024.3.5"
)
JPEG_HEAD = bytes.fromhex("ffd8ffe000104a46494600010100000100010000")
JPEG_TAIL = b"\xff\xd9"


def make_xml(rng: random.Random, k: int, photo_name: str | None) -> bytes:
    """One instance of the benchmark form, as ODK Collect writes it (≈1.5 KB, UTF-8)."""
    province = rng.choice(list(PLACES))
    day = 1 + k % 28
    minute = k % 60
    name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
    training_date = f"2026-01-{day:02d}"
    instance_id = f"uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}"
    topics = " ".join(sorted(rng.sample(TOPICS, rng.randint(1, 4)), key=TOPICS.index))
    formats = " ".join(sorted(rng.sample(FORMATS, rng.randint(1, 2)), key=FORMATS.index))
    difficulties = " ".join(rng.sample(DIFFICULTIES, rng.randint(2, 3)))
    suggestions = " ".join(rng.sample(SUGGESTIONS, 2))
    lat, lon = 13.9 + rng.random(), 107.9 + rng.random()
    photo = f"<photo>{photo_name}</photo>" if photo_name else "<photo/>"
    text = (
        "<?xml version='1.0' ?>"
        '<data xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms" '
        f'id="{FORM_ID}" version="{FORM_VERSION}">'
        f"<start>2026-01-{day:02d}T09:{minute:02d}:05.120+07:00</start>"
        f"<end>2026-01-{day:02d}T09:{minute:02d}:58.702+07:00</end>"
        f"<today>2026-01-{day:02d}</today>"
        f"<deviceid>collect:{k % 97:04d}AbCdEfGh{k % 89:04d}</deviceid>"
        f"<respondent><full_name>{name}</full_name>"
        f"<gender>{rng.choice(['male', 'female', 'female'])}</gender>"
        f"<birth_year>{rng.randint(1962, 2004)}</birth_year>"
        f"<phone>09{rng.randint(10_000_000, 99_999_999)}</phone>"
        f"<position>{rng.choice(POSITIONS)}</position>"
        f"<years_in_post>{rng.randint(0, 30)}</years_in_post></respondent>"
        f"<workplace><province>{province}</province>"
        f"<commune>{rng.choice(PLACES[province])}</commune>"
        f"<hamlet>{rng.choice(HAMLETS)}</hamlet></workplace>"
        f"<training_date>{training_date}</training_date>"
        f"<course>{rng.choice(COURSES)}</course>"
        f"<topics_wanted>{topics}</topics_wanted><formats>{formats}</formats>"
        f"<rate_content>{rng.randint(2, 5)}</rate_content>"
        f"<rate_trainer>{rng.randint(2, 5)}</rate_trainer>"
        f"<rate_materials>{rng.randint(1, 5)}</rate_materials>"
        f"<households>{rng.randint(40, 400)}</households>"
        f"<hours_per_week>{rng.randint(2, 40) / 2}</hours_per_week>"
        f"<difficulties>{difficulties}</difficulties>"
        f"<suggestions>{suggestions}</suggestions>"
        f"<location>{lat:.6f} {lon:.6f} {rng.randint(300, 900)}.0 {rng.randint(3, 20)}.0</location>"
        f"{photo}<consent>yes</consent>"
        f"<meta><instanceID>{instance_id}</instanceID>"
        f"<instanceName>{name} - {training_date}</instanceName></meta></data>"
    )
    return text.encode("utf-8")


@dataclass
class Item:
    """One request of the plan: a new instance or an identical resubmission of one."""

    instance: int
    resubmission: bool
    xml: bytes
    photo_name: str | None
    boundary: str

    def body(self, block: bytes) -> bytes:
        """The multipart body exactly as Collect lays it out (XML first, then the files)."""
        b = self.boundary.encode()
        parts = [
            b"--" + b + b"\r\n",
            b'Content-Disposition: form-data; name="xml_submission_file"; '
            b'filename="Khao_sat_2026-01-15_09-30-12.xml"\r\n',
            b"Content-Type: text/xml\r\n\r\n",
            self.xml,
            b"\r\n",
        ]
        if self.photo_name:
            name = self.photo_name.encode()
            parts += [
                b"--" + b + b"\r\n",
                b'Content-Disposition: form-data; name="'
                + name
                + b'"; filename="'
                + name
                + b'"\r\n',
                b"Content-Type: image/jpeg\r\n\r\n",
                photo_bytes(self.instance, block),
                b"\r\n",
            ]
        parts.append(b"--" + b + b"--\r\n")
        return b"".join(parts)


def photo_bytes(instance: int, block: bytes) -> bytes:
    """A distinct "photo" per instance (so content addressing cannot deduplicate it)."""
    return JPEG_HEAD + instance.to_bytes(16, "big") + block + JPEG_TAIL


def make_plan(n: int, photos: str, resubmit: float, seed: int) -> tuple[list[Item], int, int]:
    """The request sequence: unique instances with resubmissions of earlier ones mixed in.

    :return: the items, the number of unique instances, and how many of them carry a photo.
    """
    rng = random.Random(seed)
    n_resub = min(round(n * resubmit), max(0, n - RESUBMIT_GAP - 1))
    resub_at = set(rng.sample(range(RESUBMIT_GAP + 1, n), n_resub)) if n_resub else set()
    items: list[Item] = []
    originals: list[tuple[int, Item]] = []  # (position first sent, item)
    for position in range(n):
        if position in resub_at:
            # An instance sent at least RESUBMIT_GAP requests earlier: normally answered already
            # (a lost 201), occasionally still in flight (Collect retrying while the first try
            # is being stored); the server must give 201 and keep one row either way.
            eligible = [o for p, o in originals if position - p >= RESUBMIT_GAP]
            original = rng.choice(eligible or [o for _, o in originals])
            items.append(
                Item(
                    original.instance,
                    True,
                    original.xml,
                    original.photo_name,
                    str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                )
            )
            continue
        k = len(originals)
        photo_name = f"{1768450000000 + 7919 * k}.jpg" if photos == "third" and k % 3 == 0 else None
        item = Item(
            k,
            False,
            make_xml(rng, k, photo_name),
            photo_name,
            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        )
        items.append(item)
        originals.append((position, item))
    return items, len(originals), sum(1 for _, o in originals if o.photo_name)


# --- setting up a server ----------------------------------------------------------------------


def count_rows(url: str) -> tuple[int, int]:
    """Rows in ``submissions`` and stored attachments, read with SQLAlchemy at ``url``."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT count(*) FROM submissions")).scalar_one()
            files = conn.execute(
                sa.text("SELECT count(*) FROM submission_attachments WHERE sha256 IS NOT NULL")
            ).scalar_one()
    finally:
        engine.dispose()
    return rows, files


# --- one run ----------------------------------------------------------------------------------


@dataclass
class Result:
    """What one (backend, concurrency, photos) run measured."""

    backend: str
    concurrency: int
    photos: str
    n: int = 0
    resubmissions: int = 0
    unique: int = 0
    photo_instances: int = 0
    wall: float = 0.0
    latencies: list[float] = field(default_factory=list)
    photo_latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    server_cpu: float = 0.0
    db_cpu: float | None = None
    client_cpu: float = 0.0
    machine: MachineCpu | None = None
    busy_before: float = 0.0
    peak_rss: int = 0
    worker_hwm: int = 0
    rows: int | None = None
    files: int | None = None
    log_notes: str = ""
    failure: str = ""
    xml_bytes: float = 0.0

    @property
    def ok(self) -> bool:
        """No failed request, and exactly the unique submissions (and photos) stored."""
        return (
            not self.failure
            and self.errors == 0
            and self.rows == self.unique
            and self.files == self.photo_instances
        )

    def other_share(self) -> float:
        """Share of the machine's CPU used outside server, database and client during the run."""
        if not self.machine or self.machine.total <= 0:
            return math.nan
        ours = self.server_cpu + (self.db_cpu or 0.0) + self.client_cpu
        return max(0.0, self.machine.process - ours) / self.machine.total

    def rate(self) -> float:
        """Submissions per second (all requests, resubmissions included)."""
        return len(self.latencies) / self.wall if self.wall else 0.0

    def target(self) -> str:
        """PASS/MISS against the issue's targets, on the runs they apply to."""
        target = TARGETS.get((self.backend, self.concurrency, self.photos))
        if target is None:
            return "-"
        requests = len(self.latencies) or 1
        cpu = (self.server_cpu + (self.db_cpu or 0.0)) / requests * 1000
        good = self.ok
        if target["cpu"] is not None:
            good = good and cpu <= target["cpu"]
        if target["rate"] is not None:
            good = good and self.rate() >= target["rate"]
        if target["p95"] is not None:
            good = good and percentile(self.latencies, 95) <= target["p95"]
        return "PASS" if good else "MISS"


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of latencies in seconds, returned in milliseconds."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000


def client_loop(items, results, cursor, port, path, block, deadline) -> None:
    """One client thread: take the next item, POST it, record (status, latency, error)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    device = f"collect%3A{uuid.uuid4().hex[:16]}"
    target = f"{path}?deviceID={device}"
    try:
        while time.monotonic() < deadline:
            with cursor["lock"]:
                index = cursor["next"]
                cursor["next"] += 1
            if index >= len(items):
                break
            item = items[index]
            body = item.body(block)
            headers = {
                "X-OpenRosa-Version": "1.0",
                "Content-Type": f"multipart/form-data; boundary={item.boundary}",
                "User-Agent": USER_AGENT,
                "Date": formatdate(usegmt=True),
                "Accept-Encoding": "gzip",
            }
            started = time.perf_counter()
            error = None
            try:
                conn.request("POST", target, body=body, headers=headers)
                response = conn.getresponse()
                text = response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                status, text, error = 0, b"", f"{type(exc).__name__}: {exc}"
            elapsed = time.perf_counter() - started
            if status == 201 and (
                "Đã nhận bài nộp".encode() not in text or b"still missing" in text
            ):
                error = f"201 with unexpected body: {text[:200]!r}"
            elif status != 201 and error is None:
                error = f"HTTP {status}: {text[:300]!r}"
            results[index] = (status, elapsed, error)
    finally:
        conn.close()


def scan_log(log: Path, workers: int) -> tuple[str, Counter]:
    """Problems in the gunicorn log, and the status codes of its access-log POST lines."""
    text = log.read_text(errors="replace")
    notes = [
        f"{needle}×{text.count(needle)}"
        for needle in ("Traceback", "WORKER TIMEOUT", "[ERROR]", "[CRITICAL]")
        if needle in text
    ]
    if text.count("Booting worker") > workers:
        notes.append(f"{text.count('Booting worker') - workers} worker(s) restarted")
    statuses: Counter = Counter()
    for line in text.splitlines():
        if '"POST ' in line:
            rest = line.split('" ', 2)
            if len(rest) > 1 and rest[1][:3].isdigit():
                statuses[rest[1][:3]] += 1
    return ", ".join(notes), statuses


def prepare(url: str, workdir: Path, form_path: Path, log_level: str) -> tuple[dict, str]:
    """Migrate, publish the form and create a device, as an operator would: (env, token)."""
    env = app_env(url, workdir / "storage", secret_key="bench-secret", LOG_LEVEL=log_level)
    flask(["db", "upgrade"], env)
    flask(["forms", "publish", str(form_path)], env)
    device = json.loads(flask(["devices", "create", "bench", "--form", FORM_ID, "--json"], env))
    return env, device["token"]


def load(result: Result, items: list[Item], concurrency: int, port: int, path: str,
         block: bytes, deadline: float, server_pid: int,
         db: PostgresCpu | None) -> None:  # fmt: skip
    """The timed part: all items from ``concurrency`` threads, with CPU and RSS accounting."""
    results: list = [None] * len(items)
    cursor = {"next": 0, "lock": threading.Lock()}
    threads = [
        threading.Thread(
            target=client_loop,
            daemon=True,
            args=(items, results, cursor, port, path, block, deadline),
        )
        for _ in range(concurrency)
    ]
    with MemorySampler.of_tree(server_pid, interval=0.2) as memory:
        server_cpu0 = tree_cpu(server_pid)
        db_cpu0 = db.total() if db else None
        client0 = os.times()
        machine0 = machine_cpu()
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()) + 70)
        result.wall = time.perf_counter() - started
        client1 = os.times()
        result.machine = machine_cpu() - machine0
        result.server_cpu = tree_cpu(server_pid) - server_cpu0
        if db_cpu0 is not None:
            result.db_cpu = db.total() - db_cpu0
        result.client_cpu = (client1.user + client1.system) - (client0.user + client0.system)
    result.peak_rss = memory.peak_tree_bytes
    result.worker_hwm = 1024 * max((peak_kb(p) for p in memory.seen if p != server_pid), default=0)
    for item, outcome in zip(items, results, strict=True):
        if outcome is None:
            result.errors += 1
            result.statuses["not sent"] += 1
            continue
        status, elapsed, error = outcome
        result.statuses[str(status)] += 1
        result.latencies.append(elapsed)
        if item.photo_name:
            result.photo_latencies.append(elapsed)
        if error:
            result.errors += 1
            if len(result.error_samples) < 5:
                result.error_samples.append(error)


def run_one(args, backend: str, concurrency: int, photos: str, form_path: Path) -> Result:
    """Fresh database, fresh server, one timed load, counts, clean-up."""
    result = Result(backend, concurrency, photos)
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{backend}-c{concurrency}-{photos}-"))
    log = workdir / "gunicorn.log"
    url = pg_name = server = profiler = None
    try:
        url, pg_name = create_database(backend, args.postgres_url, workdir, "bench")
        env, token = prepare(url, workdir, form_path, args.log_level)
        path = f"/key/{token}/submission"
        items, result.unique, result.photo_instances = make_plan(
            args.n, photos, args.resubmit, args.seed
        )
        result.n = len(items)
        result.resubmissions = sum(1 for i in items if i.resubmission)
        result.xml_bytes = sum(len(i.xml) for i in items) / len(items)
        block = random.Random(args.seed + 1).randbytes(
            args.photo_kb * 1024 - len(JPEG_HEAD) - 16 - len(JPEG_TAIL)
        )
        server = Gunicorn(
            env, log, workers=args.workers, worker_class=args.worker_class,
            threads=args.threads, access_log=args.access_log, ready_path=path,
        )  # fmt: skip
        status, _ = server.request("HEAD", path, OPENROSA, timeout=5)
        if status != 204:
            raise RuntimeError(f"HEAD {path} answered {status}, not 204")
        for _ in range(4 * args.workers):  # warm-up: Collect's preflight and form list
            server.request("HEAD", path, OPENROSA, timeout=10)
            server.request("GET", f"/key/{token}/formList", OPENROSA, timeout=10)
        db = PostgresCpu(args.postgres_url) if backend == "postgresql" else None
        result.busy_before = settle(args.settle)
        if args.py_spy:
            output = Path(args.profile_dir) / f"{backend}-c{concurrency}-{photos}.txt"
            profiler = PySpy(args.py_spy, server.pid, output, subprocesses=True)
        deadline = time.monotonic() + args.run_timeout
        load(result, items, concurrency, server.port, path, block, deadline, server.pid, db)
    except Exception as exc:
        result.failure = f"{type(exc).__name__}: {exc}"
    finally:
        if profiler is not None:
            profiler.stop()
        if server is not None:
            server.stop()
            result.log_notes, logged = scan_log(log, args.workers)
            if logged and logged != result.statuses:
                result.log_notes += f" access log statuses {dict(logged)}"
            if result.errors or result.failure:
                tail = log.read_text(errors="replace")[-2000:]
                result.log_notes += f"\n      gunicorn log tail:\n{tail}"
        if url is not None:
            try:
                result.rows, result.files = count_rows(url)
            except Exception as exc:
                result.failure = result.failure or f"counting rows failed: {exc}"
        drop_database(args.postgres_url, pg_name)
        if args.keep:
            print(f"  kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return result


# --- output -----------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def per_sub(seconds: float | None, r: Result) -> str:
    return fmt(None if seconds is None else seconds * 1000 / (len(r.latencies) or 1), 2)


#: The summary table's columns: header and how to render a run.
COLUMNS = [
    ("backend", lambda r: r.backend),
    ("conc", lambda r: str(r.concurrency)),
    ("photos", lambda r: r.photos),
    ("n", lambda r: str(r.n)),
    ("resub", lambda r: str(r.resubmissions)),
    ("subs/s", lambda r: fmt(r.rate())),
    ("p50 ms", lambda r: fmt(percentile(r.latencies, 50))),
    ("p95 ms", lambda r: fmt(percentile(r.latencies, 95))),
    ("p99 ms", lambda r: fmt(percentile(r.latencies, 99))),
    ("srv CPU ms/sub", lambda r: per_sub(r.server_cpu, r)),
    ("db CPU ms/sub", lambda r: per_sub(r.db_cpu, r)),
    ("cli CPU ms/sub", lambda r: per_sub(r.client_cpu, r)),
    ("srv RSS MB", lambda r: fmt(r.peak_rss / 2**20, 0)),
    ("rows exp/found", lambda r: f"{r.unique}/{'-' if r.rows is None else r.rows}"),
    ("photos exp/found", lambda r: f"{r.photo_instances}/{'-' if r.files is None else r.files}"),
    ("errors", lambda r: "RUN FAILED" if r.failure else str(r.errors)),
    ("other CPU %", lambda r: fmt(100 * r.other_share(), 0)),
    ("target", lambda r: r.target()),
]


def table(results: list[Result]) -> str:
    """The summary table, one row per run."""
    rows = [[head for head, _ in COLUMNS]]
    rows += [[render(r) for _, render in COLUMNS] for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = []
    for index, row in enumerate(rows):
        cells = zip(row, widths, strict=True)
        lines.append(
            "  ".join(c.rjust(w) if i > 2 else c.ljust(w) for i, (c, w) in enumerate(cells))
        )
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def describe(r: Result, cores: int) -> str:
    """Details of one run, printed as it finishes."""
    if r.failure:
        return f"  RUN FAILED: {r.failure}\n  {r.log_notes}"
    wall = r.wall or 1
    m = r.machine or MachineCpu(0.0, 0.0, 0.0, wall * cores)
    cap = m.total or wall * cores
    share = (
        f"server {100 * r.server_cpu / cap:.0f}%"
        + (f", postgres {100 * r.db_cpu / cap:.0f}%" if r.db_cpu is not None else "")
        + f", client {100 * r.client_cpu / cap:.0f}%"
        + f", other processes {100 * r.other_share():.0f}%"
        + f", kernel irq/softirq {100 * m.irq / cap:.0f}%"
        + f", hypervisor steal {100 * m.steal / cap:.0f}%"
    )
    busy = m.process + m.irq + m.steal
    lines = [
        f"  {len(r.latencies)} requests in {r.wall:.1f} s = {r.rate():.1f}/s; "
        f"p50 {fmt(percentile(r.latencies, 50))} p95 {fmt(percentile(r.latencies, 95))} "
        f"p99 {fmt(percentile(r.latencies, 99))} max {fmt(percentile(r.latencies, 100))} ms; "
        f"statuses {dict(r.statuses)}",
        f"  machine CPU busy {100 * busy / cap:.0f}% of {cores} cores ({share})",
        f"  client used {100 * r.client_cpu / wall:.0f}% of one core; machine "
        f"{100 * r.busy_before:.0f}% busy just before the run",
        f"  gunicorn peak RSS {r.peak_rss / 2**20:.0f} MB summed over master+workers "
        f"(largest worker VmHWM {r.worker_hwm / 2**20:.0f} MB); mean XML {r.xml_bytes:.0f} B",
        f"  database: {r.rows} submissions (expected {r.unique}), {r.files} stored photos "
        f"(expected {r.photo_instances})",
    ]
    if r.photo_latencies:
        lines.append(
            f"  requests with a photo: n={len(r.photo_latencies)} "
            f"p50 {fmt(percentile(r.photo_latencies, 50))} "
            f"p95 {fmt(percentile(r.photo_latencies, 95))} ms"
        )
    if r.error_samples:
        lines.append("  errors, first ones: " + " | ".join(r.error_samples))
    if r.log_notes:
        lines.append(f"  gunicorn log: {r.log_notes}")
    return "\n".join(lines)


def summarize_profile(path: Path, top: int = 12) -> str:
    """Self and inclusive sample counts per function from a py-spy raw (collapsed) profile."""
    self_counts: Counter = Counter()
    inclusive: Counter = Counter()
    total = 0
    for frames, weight in read_collapsed(path):
        total += weight
        self_counts[frames[-1]] += weight
        for frame in set(frames):
            inclusive[frame] += weight
    if not total:
        return "  (empty profile)"
    out = [f"  {total} samples; top self:"]
    out += [f"    {100 * c / total:5.1f}%  {f}" for f, c in self_counts.most_common(top)]
    out.append("  top inclusive:")
    out += [f"    {100 * c / total:5.1f}%  {f}" for f, c in inclusive.most_common(top * 2)]
    return "\n".join(out)


def measure(args, backend: str, concurrency: int, photos: str, form_path: Path,
            cores: int) -> Result:  # fmt: skip
    """One table row: a run, repeated while others disturbed it.

    A run is repeated (up to ``--repeat-disturbed`` times) while other processes used more
    than ``DISTURBED`` of the machine during it; the last attempt is returned.
    """
    for attempt in range(1 + args.repeat_disturbed):
        again = f" (again: disturbed, attempt {attempt + 1})" if attempt else ""
        print(f"\n== {backend}, concurrency {concurrency}, photos {photos}{again}", flush=True)
        r = run_one(args, backend, concurrency, photos, form_path)
        print(describe(r, cores), flush=True)
        profile = Path(args.profile_dir or ".") / f"{backend}-c{concurrency}-{photos}.txt"
        if args.py_spy and profile.exists():
            print(f"  py-spy profile {profile}:\n{summarize_profile(profile)}")
        if r.failure or args.py_spy or not r.other_share() > DISTURBED:
            break
    return r


def code_version() -> str:
    """The commit under test, and whether server files differ from it (others edit them)."""

    def git(*args: str) -> str:
        result = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True,
                                text=True, timeout=30, check=False)  # fmt: skip
        return result.stdout.rstrip("\n") if result.returncode == 0 else "?"

    changed = [
        line[3:]
        for line in git("status", "--porcelain", "--untracked-files=no").splitlines()
        if not line[3:].startswith("bench/")
    ]
    dirty = f", {len(changed)} tracked file(s) modified: {' '.join(changed[:6])}" if changed else ""
    return f"{git('log', '-1', '--format=%h %ad %s', '--date=iso')[:90]}{dirty}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=5000, help="requests per run (default 5000)")
    parser.add_argument("--concurrency", default="1,8", help="client threads, list (default 1,8)")
    parser.add_argument(
        "--backends", default="sqlite,postgresql", help="sqlite and/or postgresql (default both)"
    )
    parser.add_argument(
        "--photos",
        default="none,third",
        help="none: no attachment; third: a photo on every third instance",
    )
    serve = serve_defaults()
    parser.add_argument(
        "--workers",
        type=int,
        default=serve["workers"],
        help=f"gunicorn workers (default {serve['workers']}, as scripts/serve)",
    )
    parser.add_argument(
        "--worker-class",
        default=serve["worker_class"],
        help=f"gunicorn worker class (default {serve['worker_class']}, as scripts/serve)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=serve["threads"],
        help=f"gunicorn --threads (default {serve['threads'] or 'not passed'}, as scripts/serve)",
    )
    parser.add_argument(
        "--no-access-log",
        dest="access_log",
        action="store_false",
        help="drop --access-logfile - (scripts/serve logs every request)",
    )
    parser.add_argument("--log-level", default="INFO", help="TAPHUAN_LOG_LEVEL (default INFO)")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TAPHUAN_TEST_POSTGRES_URL"),
        help="admin URL of a PostgreSQL server; a database is created per run "
        "(default $TAPHUAN_TEST_POSTGRES_URL, set by scripts/with-postgres)",
    )
    parser.add_argument(
        "--resubmit",
        type=float,
        default=0.05,
        help="fraction of requests that resend an earlier instance (default 0.05)",
    )
    parser.add_argument("--photo-kb", type=int, default=200, help="photo size in KiB (default 200)")
    parser.add_argument(
        "--run-timeout",
        type=float,
        default=900,
        help="seconds the timed part of one run may take (default 900)",
    )
    parser.add_argument("--seed", type=int, default=20260101, help="random seed of the workload")
    parser.add_argument(
        "--settle",
        type=float,
        default=120,
        help="before each run, wait up to this many seconds for other processes to leave "
        "the machine under 15%% busy (default 120)",
    )
    parser.add_argument(
        "--repeat-disturbed",
        type=int,
        default=2,
        help="repeat a run up to this many times while other processes used more than 15%% "
        "of the machine during it (default 2; the last attempt is reported)",
    )
    parser.add_argument("--keep", action="store_true", help="keep each run's temp folder")
    parser.add_argument("--py-spy", help="path to py-spy: record the gunicorn tree in each run")
    parser.add_argument("--profile-dir", help="where py-spy profiles go (default: a temp folder)")
    args = parser.parse_args(argv)
    if args.py_spy and not args.profile_dir:
        args.profile_dir = tempfile.mkdtemp(prefix="bench-profiles-")
    try:
        args.concurrency_list = [int(c) for c in args.concurrency.split(",") if c.strip()]
    except ValueError:
        parser.error("--concurrency: comma-separated integers, e.g. 1,8")
    args.backend_list = [b.strip() for b in args.backends.split(",") if b.strip()]
    args.photo_list = [p.strip() for p in args.photos.split(",") if p.strip()]
    if not args.concurrency_list or any(c < 1 or c > 256 for c in args.concurrency_list):
        parser.error("--concurrency: values from 1 to 256")
    if not args.backend_list or any(b not in BACKENDS for b in args.backend_list):
        parser.error(f"--backends: choose from {', '.join(BACKENDS)}")
    if not args.photo_list or any(p not in PHOTO_MIXES for p in args.photo_list):
        parser.error(f"--photos: choose from {', '.join(PHOTO_MIXES)}")
    if args.n < 1 or args.workers < 1 or not 0 <= args.resubmit < 1 or args.photo_kb < 1:
        parser.error("--n, --workers, --photo-kb must be positive; --resubmit in [0, 1)")
    if "postgresql" in args.backend_list and not args.postgres_url:
        parser.error(
            "postgresql needs --postgres-url or TAPHUAN_TEST_POSTGRES_URL "
            "(e.g. scripts/with-postgres .venv/bin/python bench/ingest.py)"
        )
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cores = os.cpu_count() or 1
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.machine(),
    )
    print(f"bench/ingest.py: {cores} CPU cores ({model}), Python {platform.python_version()}")
    print(f"  code: {code_version()}")
    print(
        f"  server: gunicorn --workers {args.workers} --worker-class {args.worker_class}"
        + (f" --threads {args.threads}" if args.threads else "")
        + (" --access-logfile -" if args.access_log else "")
        + " wsgi:app on 127.0.0.1, "
        f"TAPHUAN_LOG_LEVEL={args.log_level}"
    )
    print(
        "  client: this process, one thread + keep-alive http.client connection per concurrent "
        "device, on the same machine: client and server share the "
        f"{cores} cores, so the client's CPU is reported alongside the server's"
    )
    if args.postgres_url and "postgresql" in args.backend_list:
        names = ("server_version", "fsync", "synchronous_commit", "shared_buffers")
        settings = PostgresServer(args.postgres_url).settings(*names)
        print(f"  postgresql: {', '.join(f'{k}={v}' for k, v in settings.items())}")
    print(
        f"  workload: {args.n} requests/run, {args.resubmit:.0%} identical resubmissions, "
        f"photos {args.photo_kb} KiB on every third instance in 'third' runs"
    )
    failed = False
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-form-") as folder:
        form_path = Path(folder) / f"{FORM_ID}.md"
        form_path.write_text(FORM_MD, encoding="utf-8")
        for backend in args.backend_list:
            for photos in args.photo_list:
                for concurrency in args.concurrency_list:
                    r = measure(args, backend, concurrency, photos, form_path, cores)
                    results.append(r)
                    failed = failed or not r.ok
    print("\n" + table(results))
    print(
        f"\nsubs/s counts every request (resubmissions too); CPU ms/sub = CPU seconds of that "
        f"process tree during the timed part / requests. srv = gunicorn master+workers, db = the "
        f"PostgreSQL server's processes, cli = this benchmark process. RSS = peak of the summed "
        f"resident sets of gunicorn master+workers. {cores} cores are shared by client, server "
        f"and database; other CPU % = share of the machine used by processes outside the "
        "benchmark during the run (a disturbed run). targets (no error, and): postgresql, 8 "
        "clients, no photos: server + database CPU <= 5 ms/sub, >= 300 subs/s, p95 <= 60 ms; "
        "postgresql, 8 clients, a photo every third: <= 8 ms/sub; sqlite, 8 clients: "
        ">= 200 subs/s."
    )
    print("RESULT: " + ("FAIL (failed requests or wrong row counts)" if failed else "OK"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
