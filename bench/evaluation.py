r"""Trainers' evaluation benchmark: one large course report, and the programme roll-up.

Called by ``bench/reports.py --report course|programme`` (issue 13's targets), or directly.

**course**: a fresh database set up through the CLI as an operator would (units, a register of
``--trainees`` + 2 trainers, a 40-item pre- and post-test cut from the standard DSCOBAN forms,
their key, the standard course evaluation form, the course, its enrolments and a tablet token);
then gunicorn as ``scripts/serve`` starts it, and every trainee's pre-test and post-test and
80 % of them a satisfaction form with comments, **posted over OpenRosa** as Collect posts them
(4 client threads, ``--clients``), so every projection (links, scores, item marks) is the
server's own. Then ``GET /api/v1/reports/courses/<code>/evaluation`` (JSON), its ``.xlsx``
and the page's PDF are timed ``--repeat`` times with the serving worker's peak RSS, and the
JSON is checked against what was posted (enrolled, matched pairs, items, satisfaction
respondents).

**programme**: ``--courses`` courses of ``--class-size`` trainees (≈ 100,000 enrolments) over
three years, drawn from a register of ``--people`` persons (so persons repeat: person-times
and unique persons differ), with pre, post and satisfaction projections bulk-loaded as the
scoring projection writes them (``submissions``, ``submission_links``, ``test_scores``); then
``GET /api/v1/reports/programme`` (JSON), ``.xlsx``, timed the same way, and checked (courses,
person-times = enrolments loaded).

Run it::

    scripts/with-postgres .venv/bin/python bench/reports.py --report course
    scripts/with-postgres .venv/bin/python bench/reports.py --report programme --backends sqlite

Targets (issue 13): course report ≤ 1 s, roll-up ≤ 5 s on PostgreSQL, peak RSS < 300 MB.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime as dt
import io
import json
import math
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import sqlalchemy as sa

# The harness, and this checkout's server rather than an installed one.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness.cli import app_env, flask
from harness.databases import PostgresCpu, create_database, drop_database
from harness.gunicorn import Gunicorn
from harness.proc import MemorySampler, cpu_seconds, reset_peak, tree_cpu
from harness.profiler import PySpy

ROOT = Path(__file__).resolve().parent.parent

ADMIN = "bench-admin"
PASSWORD = "bench-" + "x" * 16
COURSE = "BENCH-2026-01"
KEY_CSV = ROOT / "forms" / "answer-keys" / "DSCOBAN-2026.1.csv"
OR_HEADERS = {"X-OpenRosa-Version": "1.0"}
COMMUNES = [f"{23000 + n}" for n in range(30)]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Rơ Châm"]
MIDDLE = ["Thị", "Văn", "Hữu", "Minh", "Thanh"]
GIVEN = ["Hoa", "Nam", "Mai", "Đức", "Lan", "Hùng", "Thu", "Long", "Hằng", "Tâm", "H'Bia"]
COMMENTS = [
    "Cần thêm thời gian thực hành, gọi chị {name} {phone}",
    "Tài liệu nên phát trước một tuần",
    "Giảng viên nhiệt tình, dễ hiểu",
    "Phòng học nóng, âm thanh kém",
    "Nên có thêm ví dụ thực tế ở {unit}",
    "Không có ý kiến",
    "Thời gian học quá ngắn so với nội dung",
    "",
]
USEFUL = ["Thảo luận nhóm", "Phần truyền thông thay đổi hành vi", "Bài tập tình huống", ""]


# --- the course -------------------------------------------------------------------------------


def name_of(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def write_course_inputs(workdir: Path, trainees: int, items: int, seed: int) -> dict:
    """Units, register, the two test forms cut to ``items`` items, their key: file paths."""
    rng = random.Random(seed)
    units = "level,code,name,parent_code,valid_from\nprovince,52,Tỉnh Gia Lai,,2025-07-01\n"
    units += "".join(f"commune,{c},Xã Bench {n},52,2025-07-01\n" for n, c in enumerate(COMMUNES))
    roster = (
        "Mã cán bộ,Họ và tên,Giới tính,Mã đơn vị hành chính,Tuyến,Loại hình,Nhóm đối tượng,"
        "Ngày bắt đầu\n"
    )
    roster += "".join(
        f"HV{n:05d},{name_of(rng)},{'Nữ' if rng.random() < 0.7 else 'Nam'},"
        f"{rng.choice(COMMUNES)},Tuyến xã,Viên chức,vc_commune,01/08/2025\n"
        for n in range(trainees)
    )
    roster += "GV001,Lý Thị Giảng,Nữ,52,Tuyến tỉnh,Công chức,cc_prov,01/08/2025\n"
    roster += "GV002,Trần Văn Dạy,Nam,52,Tuyến tỉnh,Công chức,cc_prov,01/08/2025\n"
    paths = {"units": workdir / "units.csv", "roster": workdir / "roster.csv"}
    paths["units"].write_text(units, encoding="utf-8")
    paths["roster"].write_text(roster, encoding="utf-8")
    key_lines = KEY_CSV.read_text(encoding="utf-8").splitlines()
    extra = [f"q{n:02d}" for n in range(26, items + 1)]
    topics = ["TP01", "TP05", "TP09", "TP11"]
    key_lines += [
        f"DSCOBAN,2026.1,{item},single,{'abcd'[n % 4]},1,{topics[n % 4]},C19,bench item"
        for n, item in enumerate(extra)
    ]
    paths["key"] = workdir / "key.csv"
    paths["key"].write_text("\n".join(key_lines) + "\n", encoding="utf-8")
    for phase in ("pre", "post"):
        book = openpyxl.load_workbook(ROOT / "forms" / f"kt_dscoban_{phase}.xlsx")
        survey, choices = book["survey"], book["choices"]
        header = [c.value for c in survey[1]]
        done = next(r for r in range(1, survey.max_row + 1) if survey.cell(r, 2).value == "done")
        q01 = next(r for r in range(1, survey.max_row + 1) if survey.cell(r, 2).value == "q01")
        template = [survey.cell(q01, c).value for c in range(1, len(header) + 1)]
        survey.insert_rows(done, len(extra))
        for offset, item in enumerate(extra):
            for col, value in enumerate(template, start=1):
                if col == 1:
                    value = f"select_one {item}_opts"
                elif col == 2:
                    value = item
                elif isinstance(value, str) and value.startswith("1. "):
                    value = f"{int(item[1:])}. Câu hỏi bổ sung {item}"
                survey.cell(done + offset, col, value)
            for choice in "abcd":
                choices.append([f"{item}_opts", choice, f"Phương án {choice}", f"Option {choice}"])
        paths[phase] = workdir / f"kt_dscoban_{phase}.xlsx"
        book.save(paths[phase])
    return paths


def key_of(path: Path) -> dict[str, tuple[str, str]]:
    """Item → (qtype, key) of the bench key."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        _bank, _version, item, qtype, key = line.split(",")[:5]
        out[item] = (qtype, key)
    return out


def answer(rng: random.Random, qtype: str, key: str, right: bool) -> str:
    """A response: the key when right, else a plausible wrong one (a blank now and then)."""
    if right:
        return key
    if rng.random() < 0.03:
        return ""
    if qtype == "tf":
        return "false" if key == "true" else "true"
    if qtype == "multi":
        return rng.choice(["a", "a b", "b c", "c d"])
    return rng.choice([c for c in "abcd" if c != key])


def attempt(rng, form_id, version, phase, trainee, key, theta, difficulty) -> bytes:
    def right(item: str) -> bool:  # a Rasch model: ability θ against the item's difficulty
        return rng.random() < 1 / (1 + math.exp(difficulty[item] - theta))

    answers = "".join(
        f"<{item}>{answer(rng, qtype, k, right(item))}</{item}>" for item, (qtype, k) in key.items()
    )
    minutes = rng.randint(8, 40)
    return (
        f'<data id="{form_id}" version="{version}">'
        f"<start>2026-09-07T08:00:00.000+07:00</start>"
        f"<end>2026-09-07T08:{minutes:02d}:00.000+07:00</end>"
        f"<bank_id>DSCOBAN</bank_id><bank_version>2026.1</bank_version><phase>{phase}</phase>"
        f"<course_code>{COURSE}</course_code><trainee_id>{trainee}</trainee_id>{answers}"
        f"<meta><instanceID>uuid:{uuid.uuid4()}</instanceID></meta></data>"
    ).encode()


def evaluation_form(rng, version, names) -> bytes:
    base = rng.choice([3, 4, 4, 5])
    sat = "".join(
        f"<sat_{n:02d}>{min(5, max(1, base + rng.choice([-1, 0, 0, 1])))}</sat_{n:02d}>"
        for n in range(1, 11)
    )
    comment = rng.choice(COMMENTS).format(
        name=rng.choice(names), phone=f"09{rng.randint(10000000, 99999999)}", unit="Xã Bench 3"
    )
    trainer = rng.choice(["GV001", "GV002"])
    return (
        f'<data id="danhgia_khoahoc" version="{version}"><course_code>{COURSE}</course_code>'
        f"<resp_level>commune</resp_level><g_sat>{sat}</g_sat><overall>{base}</overall>"
        f"<tr><trainer_id>{trainer}</trainer_id><tr_clear>{base}</tr_clear>"
        f"<tr_engage>5</tr_engage><tr_time>4</tr_time></tr>"
        f"<most_useful>{rng.choice(USEFUL)}</most_useful><improve>{comment}</improve>"
        f"<next_topics>{rng.choice(['tp05', 'tp09', ''])}</next_topics>"
        f"<meta><instanceID>uuid:{uuid.uuid4()}</instanceID></meta></data>"
    ).encode()


def post_submission(server: Gunicorn, token: str, xml: bytes) -> int:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="xml_submission_file"; '
            f'filename="s.xml"\r\nContent-Type: text/xml\r\n\r\n'
        ).encode()
        + xml
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {**OR_HEADERS, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    status, _ = server.request("POST", f"/key/{token}/submission", headers, body, timeout=60)
    return status


def form_versions(server: Gunicorn, token: str) -> dict[str, str]:
    status, body = server.get(f"/key/{token}/formList", OR_HEADERS, timeout=30)
    assert status == 200, body[:300]
    text = body.decode()
    out = {}
    for block in text.split("<xform>")[1:]:
        form_id = block.split("<formID>")[1].split("</formID>")[0]
        out[form_id] = block.split("<version>")[1].split("</version>")[0]
    return out


@dataclass
class Posted:
    """What the course workload posted over OpenRosa."""

    trainees: int = 0
    attempts: int = 0
    satisfaction: int = 0
    items: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)


def post_course(
    server: Gunicorn, token: str, key: dict, trainees: int, seed: int, clients: int = 4
) -> Posted:
    """Every trainee's pre and post, 80 % an evaluation, over OpenRosa with ``clients`` threads."""
    rng = random.Random(seed)
    versions = form_versions(server, token)
    difficulty = {item: rng.gauss(-0.3, 1.0) for item in key}
    names = [name_of(rng) for _ in range(50)]
    bodies = []
    for n in range(trainees):
        theta = rng.gauss(-0.4, 1.0)
        code = f"HV{n:05d}"
        for phase, shift in (("pre", 0.0), ("post", rng.gauss(0.9, 0.5))):
            form = f"kt_dscoban_{phase}"
            bodies.append(attempt(rng, form, versions[form], phase, code, key, theta + shift,
                                  difficulty))  # fmt: skip
        if rng.random() < 0.8:
            bodies.append(evaluation_form(rng, versions["danhgia_khoahoc"], names))
    posted = Posted(trainees=trainees, items=len(key))
    posted.attempts = 2 * trainees
    posted.satisfaction = len(bodies) - posted.attempts
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        for status in pool.map(lambda b: post_submission(server, token, b), bodies):
            if status != 201:
                posted.failures.append(str(status))
    posted.seconds = time.perf_counter() - started
    return posted


def setup_course(env: dict, paths: dict, trainees: int) -> tuple[str, str]:
    """Everything an operator does before the course starts; (device token, API token)."""
    flask(["db", "upgrade"], env)
    flask(["units", "import", str(paths["units"])], env)
    flask(["roster", "import", str(paths["roster"])], env)
    for phase in ("pre", "post"):
        flask(["forms", "publish", str(paths[phase])], env)
    flask(["forms", "publish", str(ROOT / "forms" / "danhgia_khoahoc.xlsx")], env)
    for phase in ("pre", "post"):
        flask(["keys", "import", f"kt_dscoban_{phase}", str(paths["key"])], env)
    flask(
        [
            "courses", "create", COURSE, "--title", "Dân số cơ bản (benchmark)",
            "--type", "boi_duong", "--start", "2026-09-07", "--end", "2026-09-11",
            "--pass-mark", "70", "--topic", "TP01", "--trainer", "GV001", "--trainer", "GV002",
            "--pre-form", "kt_dscoban_pre", "--post-form", "kt_dscoban_post",
            "--satisfaction-form", "danhgia_khoahoc", "--venue", "52",
        ],
        env,
    )  # fmt: skip
    codes = [f"HV{n:05d}" for n in range(trainees)]
    for start in range(0, len(codes), 500):
        flask(["courses", "enrol", COURSE, *codes[start : start + 500]], env)
    device = json.loads(
        flask(
            [
                "devices",
                "create",
                "bench",
                "--form",
                "kt_dscoban_pre",
                "--form",
                "kt_dscoban_post",
                "--form",
                "danhgia_khoahoc",
                "--json",
            ],
            env,
        )
    )
    return device["token"], admin_token(env)


def admin_token(env: dict) -> str:
    flask(["users", "create", ADMIN, "--role", "admin"], {**env, "TAPHUAN_PASSWORD": PASSWORD})
    out = flask(["users", "token", ADMIN, "--label", "evaluation benchmark"], env)
    return out.strip().splitlines()[-1].strip()


def check_course(body: bytes, posted: Posted) -> str:
    report = json.loads(body)
    tables = {t["id"]: t for s in report["sections"] for t in s["tables"]}
    counts = {r["key"]: r["n"] for r in tables["S1"]["rows"]}
    assert counts["enrolled"] == posted.trainees, counts
    assert counts["matched"] == posted.trainees, counts
    items = next(t for i, t in tables.items() if i.startswith("I-post-course"))["rows"]
    assert len(items) == posted.items, len(items)
    assert len(tables["T1"]["rows"]) == posted.trainees
    return f"{posted.trainees:,} trainees, {len(items)} items"


# --- the programme ----------------------------------------------------------------------------


COURSE_TYPES = ("dao_tao", "boi_duong", "tap_huan")
TOPICS = ("TP01", "TP03", "TP04", "TP05", "TP09", "TP11")


def load_programme(url: str, courses: int, class_size: int, people: int, seed: int) -> dict:
    """Bulk-load the register, the courses and their projections (as scoring writes them)."""
    from sqlalchemy.dialects import postgresql  # noqa: F401 (loaded for the URL's dialect)

    rng = random.Random(seed)
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    meta.reflect(engine)
    t = meta.tables
    now = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
    counts = {"enrolments": 0, "courses": courses, "scores": 0, "satisfaction": 0}
    with engine.begin() as conn:
        units = dict(conn.execute(sa.select(t["admin_units"].c.code, t["admin_units"].c.id)).all())
        forms = dict(conn.execute(sa.select(t["forms"].c.form_id, t["forms"].c.id)).all())
        versions = dict(
            conn.execute(
                sa.select(
                    t["form_versions"].c.form_pk, sa.func.max(t["form_versions"].c.id)
                ).group_by(t["form_versions"].c.form_pk)
            ).all()
        )
        persons, postings = [], []
        levels = [("commune", "vc_commune", 0.5), ("village", "ctv", 0.35), ("district",
                  "vc_district", 0.1), ("province", "cc_prov", 0.05)]  # fmt: skip
        commune_ids = [units[c] for c in COMMUNES]
        for pid in range(1, people + 1):
            persons.append({"id": pid, "code": f"P{pid:06d}", "full_name": name_of(rng),
                            "sex": "f" if rng.random() < 0.7 else "m", "created_at": now,
                            "updated_at": now})  # fmt: skip
            level, category, _ = rng.choices(levels, weights=[w for *_, w in levels])[0]
            postings.append({"id": pid, "person_id": pid, "unit_id": rng.choice(commune_ids)
                             if level in ("commune", "village") else units["52"], "level": level,
                             "employment_type": "ctv" if category == "ctv" else "vien_chuc",
                             "job_category": category, "ctv_roles": [],
                             "valid_from": dt.date(2020, 1, 1)})  # fmt: skip
        conn.execute(t["persons"].insert(), persons)
        conn.execute(t["postings"].insert(), postings)
        pre_pk, post_pk, sat_pk = (forms[f] for f in ("kt_dscoban_pre", "kt_dscoban_post",
                                                      "danhgia_khoahoc"))  # fmt: skip
        sid = 0
        for cid in range(1, courses + 1):
            start = dt.date(2024, 1, 8) + dt.timedelta(days=rng.randint(0, 3 * 365 - 30))
            length = rng.choice([2, 3, 5, 10])
            ctype = rng.choice(COURSE_TYPES)
            topic = rng.choice(TOPICS)
            conn.execute(t["courses"].insert(), [{
                "id": cid, "code": f"K{cid:04d}", "title": f"Khóa {cid}", "course_type": ctype,
                "topics": [topic], "start_date": start, "end_date": start + dt.timedelta(
                    days=length - 1), "trainers": [f"P{rng.randint(1, 200):06d}"],
                "venue_unit_code": "52", "pass_mark": 70, "pre_form_id": "kt_dscoban_pre",
                "post_form_id": "kt_dscoban_post", "satisfaction_form_id": "danhgia_khoahoc",
                "objectives": [], "status": "closed", "created_at": now}])  # fmt: skip
            members = rng.sample(range(1, people + 1), class_size)
            gain = rng.gauss(15, 6)
            enrolments, subs, links, scores = [], [], [], []
            for pid in members:
                pre = min(100.0, max(0.0, rng.gauss(55, 15)))
                post = min(100.0, max(0.0, pre + rng.gauss(gain, 10)))
                passed = post >= 70
                enrolments.append({"course_id": cid, "person_id": pid, "attendance": "attended",
                                   "completion": "completed" if passed else "not_completed",
                                   "completed_on": start + dt.timedelta(days=length - 1)
                                   if passed else None, "source": "post_test"})  # fmt: skip
                for pk, phase, pct in ((pre_pk, "pre", pre), (post_pk, "post", post)):
                    sid += 1
                    subs.append(_submission(sid, pk, versions[pk], start, now))
                    links.append(_link(sid, cid, pid))
                    scores.append({"submission_id": sid, "phase": phase, "bank_id": "DSCOBAN",
                                   "bank_version": "2026.1", "raw": pct / 5, "maximum": 20.0,
                                   "percent": pct, "passed": pct >= 70 if phase == "post"
                                   else None, "marks": {}, "blank": [],
                                   "computed_at": now})  # fmt: skip
                if rng.random() < 0.8:
                    sid += 1
                    subs.append(_submission(sid, sat_pk, versions[sat_pk], start, now,
                                            rng.choice([3, 4, 4, 5, 5])))  # fmt: skip
                    links.append(_link(sid, cid, None))
                    counts["satisfaction"] += 1
            conn.execute(t["enrolments"].insert(), enrolments)
            conn.execute(t["submissions"].insert(), subs)
            conn.execute(t["submission_links"].insert(), links)
            conn.execute(t["test_scores"].insert(), scores)
            counts["enrolments"] += len(enrolments)
            counts["scores"] += len(scores)
        if engine.dialect.name == "postgresql":
            for table in ("persons", "postings", "courses", "enrolments", "submissions"):
                conn.execute(sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"))  # fmt: skip
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(sa.text("VACUUM ANALYZE" if engine.dialect.name == "postgresql"
                             else "ANALYZE"))  # fmt: skip
    counts["unique"] = people
    engine.dispose()
    return counts


def _submission(sid, form_pk, version_id, day, now, rating=None) -> dict:
    data = (
        {
            "course_code": "x",
            "g_sat": {f"sat_{n:02d}": str(rating) for n in range(1, 11)},
            "overall": str(rating),
        }
        if rating is not None
        else {"phase": "x"}
    )
    submitted = dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC)
    return {"id": sid, "form_pk": form_pk, "form_version_id": version_id,
            "instance_id": f"uuid:{uuid.UUID(int=sid)}", "is_current": True, "xml": b"<data/>",
            "md5": "0" * 32, "data": data, "is_encrypted": False, "review_state": "received",
            "received_at": now, "submitted_at": submitted}  # fmt: skip


def _link(sid, course_id, person_id) -> dict:
    return {"submission_id": sid, "course_code": f"K{course_id:04d}", "course_id": course_id,
            "person_code": None if person_id is None else f"P{person_id:06d}",
            "person_id": person_id, "unknown_course": False, "unknown_person": False}  # fmt: skip


def check_programme(body: bytes, counts: dict) -> str:
    report = json.loads(body)
    tables = {t["id"]: t for s in report["sections"] for t in s["tables"]}
    total = next(r for r in tables["R1"]["rows"] if r.get("total"))
    assert total["courses"] == counts["courses"], (total, counts)
    assert total["person_times"] == counts["enrolments"], (total, counts)
    return f"{total['courses']} courses, {total['person_times']:,} person-times"


# --- measuring --------------------------------------------------------------------------------


@dataclass
class Measure:
    """One endpoint of one (backend, workload): every repeat's time, CPU, peak RSS, checks."""

    backend: str
    workload: str
    endpoint: str
    seconds: list[float] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)
    db_cpu_s: list[float] = field(default_factory=list)
    rss_mb: float = 0.0
    kb: int = 0
    checked: str = ""
    errors: list[str] = field(default_factory=list)


def timed(server, path, headers, measure, db, timeout=600) -> bytes | None:
    workers = server.workers()
    for pid in workers:
        reset_peak(pid)
    cpu0 = sum(cpu_seconds(p) for p in workers)
    db0 = db.total() if db else None
    with MemorySampler(workers) as rss:
        started = time.perf_counter()
        try:
            status, body = server.get(path, headers, timeout)
        except OSError as error:
            measure.errors.append(f"{type(error).__name__}: {error}")
            return None
        measure.seconds.append(time.perf_counter() - started)
    measure.cpu_s.append(sum(cpu_seconds(p) for p in workers) - cpu0)
    if db0 is not None:
        measure.db_cpu_s.append(db.total() - db0)
    measure.rss_mb = max(measure.rss_mb, rss.peak_mb)
    measure.kb = len(body) // 1024
    if status != 200:
        measure.errors.append(f"HTTP {status}: {body[:200]!r}")
        return None
    return body


def run(args, backend: str, workload: str) -> tuple[list[Measure], list[str]]:
    notes = []
    with contextlib.ExitStack() as stack:
        if args.keep:
            workdir = Path(tempfile.mkdtemp(prefix=f"bench-{workload}-"))
            print(f"keeping {workdir}", flush=True)
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        url, dbname = create_database(backend, args.postgres_url, workdir, f"bench_{workload}")
        server = None
        try:
            env = app_env(url, workdir / "storage", secret_key="bench-secret", LOG_LEVEL="WARNING")
            started = time.perf_counter()
            paths = write_course_inputs(workdir, args.trainees, args.items, args.seed)
            if workload == "course":
                device, token = setup_course(env, paths, args.trainees)
            else:
                flask(["db", "upgrade"], env)
                flask(["units", "import", str(paths["units"])], env)
                for phase in ("pre", "post"):
                    flask(["forms", "publish", str(paths[phase])], env)
                flask(["forms", "publish", str(ROOT / "forms" / "danhgia_khoahoc.xlsx")], env)
                token = admin_token(env)
            setup = time.perf_counter() - started
            server = Gunicorn(env, workdir / "gunicorn.log")
            db = PostgresCpu(url) if backend == "postgresql" else None
            if workload == "course":
                key = key_of(paths["key"])
                # The intake with the reports' projections on: every test is linked, scored
                # and its item marks written; passed post-tests complete enrolments.
                profiler = None
                if args.py_spy:
                    output = workdir.parent / f"evaluation-{backend}-c{args.clients}.txt"
                    profiler = PySpy(args.py_spy, server.pid, output, subprocesses=True)
                    notes.append(f"py-spy profile of the posting: {output}")
                srv0, db0 = tree_cpu(server.pid), (db.total() or 0.0) if db else 0.0
                posted = post_course(server, device, key, args.trainees, args.seed, args.clients)
                if profiler is not None:
                    profiler.stop()
                count = posted.attempts + posted.satisfaction
                srv_ms = (tree_cpu(server.pid) - srv0) / count * 1000
                db_ms = (((db.total() or 0.0) - db0) / count * 1000) if db else 0.0
                notes.append(
                    f"{backend} course: setup {setup:.0f} s; posted {posted.attempts:,} tests × "
                    f"{posted.items} items and {posted.satisfaction:,} evaluations over OpenRosa "
                    f"in {posted.seconds:.0f} s ({len(posted.failures)} failed): "
                    f"{count / posted.seconds:.0f} subs/s with {args.clients} clients, "
                    "projections on, "
                    f"server CPU {srv_ms:.2f} + database {db_ms:.2f} = "
                    f"{srv_ms + db_ms:.2f} ms per submission"
                )
                base = f"/api/v1/reports/courses/{COURSE}/evaluation"
                endpoints = {"json": base, "xlsx": base + ".xlsx",
                             "pdf": f"/reports/courses/{COURSE}.pdf"}  # fmt: skip
                check = lambda body: check_course(body, posted)  # noqa: E731
            else:
                started = time.perf_counter()
                counts = load_programme(url, args.courses, args.class_size, args.people,
                                        args.seed)  # fmt: skip
                notes.append(
                    f"{backend} programme: setup {setup:.0f} s, load "
                    f"{time.perf_counter() - started:.0f} s — {counts['courses']} courses, "
                    f"{counts['enrolments']:,} enrolments of {counts['unique']:,} persons, "
                    f"{counts['scores']:,} test scores, {counts['satisfaction']:,} evaluations"
                )
                endpoints = {"json": "/api/v1/reports/programme",
                             "xlsx": "/api/v1/reports/programme.xlsx",
                             "pdf": "/reports/programme.pdf"}  # fmt: skip
                check = lambda body: check_programme(body, counts)  # noqa: E731
            print(notes[-1], flush=True)
            cookie = server.sign_in(ADMIN, PASSWORD)
            measures = []
            for endpoint in args.endpoints:
                measure = Measure(backend, workload, endpoint)
                measures.append(measure)
                headers = (
                    {"Cookie": cookie} if endpoint == "pdf"
                    else {"Authorization": f"Bearer {token}"}
                )  # fmt: skip
                for _ in range(args.repeat):
                    body = timed(server, endpoints[endpoint], headers, measure, db)
                    if body is None:
                        break
                    try:
                        if endpoint == "json":
                            measure.checked = check(body)
                        elif endpoint == "xlsx":
                            sheets = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
                            measure.checked = f"{len(sheets.sheetnames)} sheets"
                        else:
                            assert body.startswith(b"%PDF"), body[:100]
                            measure.checked = "PDF"
                    except (AssertionError, KeyError, StopIteration) as error:
                        measure.errors.append(f"wrong answer: {error!r}")
                print(line(measure), flush=True)
            log = (workdir / "gunicorn.log").read_text(errors="replace")
            if "Traceback" in log:
                notes.append("server log: " + log[log.index("Traceback") :][:1500])
            return measures, notes
        finally:
            if server is not None:
                server.stop()
            if not args.keep:
                drop_database(args.postgres_url, dbname)


TARGETS = {("course", "json"): 1.0, ("programme", "json"): 5.0}
HEADER = (
    "| backend | workload | endpoint | median s | min s | srv CPU s | db CPU s | peak RSS MB "
    "| body KB | checked | target |\n|---|---|---|---|---|---|---|---|---|---|---|"
)


def line(m: Measure) -> str:
    def f(values, digits=2):
        return f"{statistics.median(values):.{digits}f}" if values else "—"

    target = TARGETS.get((m.workload, m.endpoint))
    verdict = "—"
    if m.errors:
        verdict = "ERROR " + "; ".join(m.errors)[:200]
    elif target is not None and m.backend == "postgresql" and m.seconds:
        ok = statistics.median(m.seconds) <= target and m.rss_mb < 300
        verdict = f"{'PASS' if ok else 'MISS'} (≤ {target:g} s, < 300 MB)"
    elif m.rss_mb >= 300:
        verdict = "MISS (RSS ≥ 300 MB)"
    return (
        f"| {m.backend} | {m.workload} | {m.endpoint} | {f(m.seconds, 3)} | {min(m.seconds):.3f} | "
        if m.seconds
        else f"| {m.backend} | {m.workload} | {m.endpoint} | — | — | "
    ) + (f"{f(m.cpu_s)} | {f(m.db_cpu_s)} | {m.rss_mb:.0f} | {m.kb:,} | {m.checked} | {verdict} |")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", choices=("course", "programme", "both"), default="both")
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--trainees", type=int, default=2000)
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--courses", type=int, default=500)
    parser.add_argument("--class-size", type=int, default=200)
    parser.add_argument("--people", type=int, default=60_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--endpoints", default="json,xlsx,pdf")
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--postgres-url", default=os.environ.get("TAPHUAN_TEST_POSTGRES_URL"))
    parser.add_argument("--clients", type=int, default=4, help="course: posting threads")
    parser.add_argument("--py-spy", help="path of py-spy: record gunicorn while posting")
    parser.add_argument("--keep", action="store_true", help="keep the database (profiling)")
    args = parser.parse_args(argv)
    args.backends = [b for b in args.backends.split(",") if b]
    args.endpoints = [e for e in args.endpoints.split(",") if e]
    if "postgresql" in args.backends and not args.postgres_url:
        parser.error("PostgreSQL runs need --postgres-url or TAPHUAN_TEST_POSTGRES_URL")
    if args.items < 25:
        parser.error("--items: at least the standard bank's 25")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    workloads = ["course", "programme"] if args.report == "both" else [args.report]
    print(
        f"evaluation benchmark: {platform.node()} {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; course {args.trainees:,} trainees × {args.items} items; "
        f"programme {args.courses} courses × {args.class_size}; {args.repeat} requests each",
        flush=True,
    )
    print(HEADER, flush=True)
    measures, notes = [], []
    for backend in args.backends:
        for workload in workloads:
            try:
                m, n = run(args, backend, workload)
            except Exception as error:  # report the run and go on with the next
                notes.append(f"{backend} {workload}: {type(error).__name__}: {error}"[:2000])
                print(notes[-1], flush=True)
                m, n = [Measure(backend, workload, "setup", errors=[str(error)[:200]])], []
            measures += m
            notes += n
    print("\n" + HEADER, *[line(m) for m in measures], "", *notes, sep="\n")
    return 1 if any(m.errors for m in measures) else 0


if __name__ == "__main__":
    sys.exit(main())
