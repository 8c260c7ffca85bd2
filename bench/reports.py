r"""Needs report benchmark: the JSON report, the workbook, the working list and the PDF, over HTTP.

For each (backend, responses) the script

1. creates a fresh database (a temp SQLite file, or ``CREATE DATABASE`` on the server given by
   ``--postgres-url``), migrates it, loads the official units (``units load-official``:
   2025 units and the pre-reform ones with their successors), publishes ``forms/tna_dskhhgd``
   and creates an admin with an API token, all through the CLI as an operator does;
2. bulk-loads (PostgreSQL ``COPY``, SQLite ``executemany`` in one transaction per table) a
   staff register of ``--people`` persons in province 52 (Gia Lai: 135 communes since
   1/7/2025, and the former Gia Lai and Bình Định districts and communes before): postings at
   province / district / commune / hamlet level in the usual job categories (three in four are
   collaborators), a closed pre-reform posting for 30 %, certificates, courses tagged TP01, TP03,
   TP04… and completions for a share; then N TNA responses straight into ``submissions`` and
   the report's projection (``needs_responses``, 21 ``needs_ratings`` each, ``needs_choices``)
   exactly as ``needs rebuild`` would write them: half-year survey waves, answers before the
   reform under the former commune codes, 90 % matched to the register, 5 % duplicates of a
   person in a wave (``counted`` false) and 5 % not on the register; then ``ANALYZE``;
3. starts gunicorn as ``scripts/serve`` does and times, ``--repeat`` times each (median and
   minimum), ``GET /api/v1/reports/needs`` (JSON), ``/api/v1/reports/needs.xlsx``,
   ``/api/v1/reports/needs/working-list.xlsx`` and the report page's PDF
   (``/reports/needs.pdf``, noted as absent if the route does not exist), for the whole
   province over every wave, with the peak RSS of the serving worker;
4. checks every answer: the report's respondents (B1, I1) equal the counted responses loaded,
   the KPI-02 denominator equals the register's population officers in post, the workbook has
   a sheet per table, and the working list names exactly the KPI-02 people not qualified.

Optional: ``--sql-profile`` builds the report once in this process with SQLAlchemy event hooks
and prints the slowest statements; ``--py-spy PATH`` records the worker during one JSON request
and prints the functions where the time goes (read timings from a run without it).

``--report course|programme`` runs the trainers' evaluation workloads instead (issue 13,
``bench/evaluation.py``).

Run it (PostgreSQL from a throwaway cluster)::

    scripts/with-postgres .venv/bin/python bench/reports.py
    scripts/with-postgres .venv/bin/python bench/reports.py --runs postgresql:1000000 --repeat 3

Targets (issue 12): JSON ≤ 1 s at 100k and ≤ 5 s at 1M on PostgreSQL, ≤ 2 s at 100k on
SQLite, peak RSS < 300 MB, PDF ≤ 10 s; each is printed as PASS or MISS. Exit status 1 when a
request failed or an answer was wrong (a MISS is not a failure), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import hashlib
import io
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import sqlalchemy as sa

# The harness, and this checkout's server rather than an installed one.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness.cli import app_env, flask, run_python
from harness.databases import PostgresCpu, create_database, drop_database, libpq
from harness.gunicorn import Gunicorn
from harness.proc import MemorySampler, cpu_seconds, reset_peak
from harness.profiler import PySpy, read_collapsed

ROOT = Path(__file__).resolve().parent.parent

ADMIN = "bench_admin"
PROVINCE = "52"
FORM = ROOT / "forms" / "tna_dskhhgd.xlsx"
REFORM = dt.date(2025, 7, 1)
AS_OF = dt.date(2025, 12, 31)
TARGETS = {  # (backend, responses, endpoint): seconds
    ("postgresql", 100_000, "json"): 1.0,
    ("postgresql", 1_000_000, "json"): 5.0,
    ("sqlite", 100_000, "json"): 2.0,
}
PDF_TARGET_S = 10.0
RSS_TARGET_MB = 300.0
ENDPOINTS = {
    "json": "/api/v1/reports/needs",
    "xlsx": "/api/v1/reports/needs.xlsx",
    "working-list": "/api/v1/reports/needs/working-list.xlsx",
    "pdf": "/reports/needs.pdf",
}

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Rơ Châm", "Ksor"]
GIVEN = ["Thị Hoa", "Văn Nam", "Thị Lan", "Minh Tuấn", "Thu Hà", "Văn Hùng", "H'Blơi", "Thị Mai"]
#: level: share of the register, [(category, share)]
LEVELS = {
    "province": (0.01, [("cc_prov", 60), ("leader_health", 20), ("trainer", 10), ("stat_it", 10)]),
    "district": (0.04, [("vc_district", 50), ("rh_dept", 15), ("fp_provider", 15),
                        ("leader_health", 20)]),
    "commune": (0.15, [("vc_commune", 40), ("fp_provider", 30), ("station_head", 15),
                       ("leader_health", 15)]),
    "village": (0.80, [("ctv", 60), ("ctv_dual", 25), ("village_hw", 10),
                       ("volunteer_elderly", 5)]),
}  # fmt: skip
JOBS = {
    "cc_prov": "pop_specialist", "leader_health": "director", "trainer": "other",
    "stat_it": "stat_officer", "vc_district": "pop_specialist", "rh_dept": "service_provider",
    "fp_provider": "service_provider", "vc_commune": "pop_specialist",
    "station_head": "station_chief", "ctv": "ctv_hamlet", "ctv_dual": "ctv_hamlet",
    "village_hw": "vhw_hamlet", "volunteer_elderly": "other",
}  # fmt: skip
EDUCATION = ["postgrad", "university", "college", "intermediate", "elementary", "upper_sec",
             "lower_sec"]  # fmt: skip
TOPICS = [f"tp{n:02d}" for n in range(1, 18)]
BARRIERS = ["workload", "distance", "cost", "no_cover", "language", "device", "schedule", "other"]
DEVICES = ["smartphone", "computer", "internet", "none"]
FORMATS = ["classroom", "online", "blended", "onsite", "self"]
DURATIONS = ["d1", "d2_3", "d4_5", "w1_2", "m1_3"]
PLACES = ["commune", "district", "province", "online"]
COMPETENCIES = [f"C{n:02d}" for n in range(1, 22)]

RESPONDENT = ["level", "staff_cat", "job_position", "unit_code", "responded_on", "wave", "counted"]
SUBMISSION_COLUMNS = ["id", "form_pk", "form_version_id", "instance_id", "is_current", "xml",
                      "md5", "data", "is_encrypted", "review_state", "received_at",
                      "submitted_at", "unit_code", "submitter_user_id"]  # fmt: skip
RESPONSE_COLUMNS = ["submission_id", "form_pk", "person_id", "person_code", "province_code",
                    "district_code", "commune_code", "sex", "ethnic_minority", "birth_year",
                    "years_pop", "edu_level", "edu_field", "cdnn_rank", "days_12m",
                    "duration_seconds", "straightlined", "out_of_range", "projected_at",
                    *RESPONDENT]  # fmt: skip
RATING_COLUMNS = ["submission_id", "competency", "importance", "performance", *RESPONDENT]
CHOICE_COLUMNS = ["submission_id", "question", "code", *RESPONDENT]
PERSON_COLUMNS = ["id", "code", "full_name", "sex", "birth_year", "education_level",
                  "education_field", "created_at", "updated_at"]  # fmt: skip
POSTING_COLUMNS = ["id", "person_id", "unit_id", "level", "employment_type", "job_category",
                   "leadership", "ctv_roles", "valid_from", "valid_to"]  # fmt: skip
CERT_COLUMNS = ["id", "person_id", "code", "issued_on"]
COURSE_COLUMNS = ["id", "code", "title", "course_type", "topics", "audience_level", "start_date",
                  "end_date", "trainers", "pass_mark", "certificate", "objectives", "status",
                  "created_at"]  # fmt: skip
ENROLMENT_COLUMNS = ["id", "course_id", "person_id", "attendance", "completion", "completed_on",
                     "source"]  # fmt: skip
NOW = dt.datetime(2026, 1, 5, 3, 0, tzinfo=dt.UTC)


# --- the units of province 52 ---------------------------------------------------------------


@dataclass
class Units:
    """Province 52's units: today's communes, and the former ones each came from."""

    province_id: int
    communes: list[tuple[int, str]]  # (id, code) since 1/7/2025
    old_provinces: list[str]  # codes before the reform (52 Bình Định, 64 Gia Lai)
    old_districts: list[int]
    #: new commune id -> codes of the former communes it took over
    before: dict[int, list[str]]
    old_commune_ids: dict[str, int]


def read_units(url: str) -> Units:
    """Province 52's units from the loaded official units."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            province_id = conn.execute(
                sa.text(
                    "SELECT id FROM admin_units WHERE code = :c AND level = 'province' "
                    "AND valid_to IS NULL"
                ),
                {"c": PROVINCE},
            ).scalar_one()
            communes = conn.execute(
                sa.text("SELECT id, code FROM admin_units WHERE parent_id = :p ORDER BY code"),
                {"p": province_id},
            ).all()
            old = conn.execute(
                sa.text(
                    "SELECT DISTINCT op.code, op.id FROM unit_successors s "
                    "JOIN admin_units op ON op.id = s.predecessor_id "
                    "WHERE s.successor_id = :p AND op.level = 'province'"
                ),
                {"p": province_id},
            ).all()
            old_ids = [i for _, i in old]
            districts = (
                conn.execute(
                    sa.text("SELECT id FROM admin_units WHERE parent_id IN :ids").bindparams(
                        sa.bindparam("ids", expanding=True)
                    ),
                    {"ids": old_ids},
                )
                .scalars()
                .all()
            )
            pairs = conn.execute(
                sa.text(
                    "SELECT s.successor_id, oc.code, oc.id FROM unit_successors s "
                    "JOIN admin_units oc ON oc.id = s.predecessor_id "
                    "WHERE oc.level = 'commune' AND oc.parent_id IN :ids"
                ).bindparams(sa.bindparam("ids", expanding=True)),
                {"ids": districts},
            ).all()
    finally:
        engine.dispose()
    before: dict[int, list[str]] = {}
    old_commune_ids: dict[str, int] = {}
    new_ids = {i for i, _ in communes}
    for successor, code, old_id in pairs:
        old_commune_ids[code] = old_id
        if successor in new_ids:
            before.setdefault(successor, []).append(code)
    return Units(
        province_id=province_id,
        communes=[(i, c) for i, c in communes],
        old_provinces=sorted(c for c, _ in old),
        old_districts=list(districts),
        before=before,
        old_commune_ids=old_commune_ids,
    )


# --- the register -----------------------------------------------------------------------------


@dataclass
class Person:
    """What the generator remembers of a person (to write their answers)."""

    id: int
    level: str
    category: str
    unit_index: int  # index into Units.communes; -1 = the province
    sex: str
    birth_year: int
    education: str


@dataclass
class Register:
    """The generated register, and what a correct report must say about it."""

    people: list[Person]
    persons: list[tuple]
    postings: list[tuple]
    certificates: list[tuple]
    courses: list[tuple]
    enrolments: list[tuple]
    #: KPI-02's denominator on AS_OF: vc_district / vc_commune at district or commune level.
    kpi02_denominator: int = 0


def _weighted(rng: random.Random, options: list[tuple[str, int]]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def make_register(units: Units, people: int, seed: int) -> Register:
    """Persons, postings (current and pre-reform), certificates, courses and completions."""
    rng = random.Random(seed)
    level_names = list(LEVELS)
    level_weights = [LEVELS[name][0] for name in level_names]
    commune_weights = [rng.uniform(0.4, 1.6) for _ in units.communes]
    cumulative = []
    total = 0.0
    for weight in commune_weights:
        total += weight
        cumulative.append(total)
    reg = Register([], [], [], [], [], [])
    created = NOW.replace(tzinfo=None)
    posting_id = cert_id = 0
    for pid in range(1, people + 1):
        level = rng.choices(level_names, level_weights)[0]
        category = _weighted(rng, LEVELS[level][1])
        unit_index = -1 if level == "province" else bisect.bisect(cumulative, rng.random() * total)
        unit_index = min(unit_index, len(units.communes) - 1)
        sex = "f" if rng.random() < 0.62 else "m"
        birth = rng.randint(1962, 2002)
        edu = rng.choice(EDUCATION[:4] if level != "village" else EDUCATION[3:])
        field_ = "medpharm" if rng.random() < (0.7 if level != "village" else 0.1) else "other"
        person = Person(pid, level, category, unit_index, sex, birth, edu)
        reg.people.append(person)
        reg.persons.append(
            (pid, f"GL{pid:06d}", f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}", sex, birth,
             edu, field_, created, created)
        )  # fmt: skip
        unit_id = units.province_id if unit_index < 0 else units.communes[unit_index][0]
        employment = (
            "ctv" if level == "village" else "cong_chuc" if category == "cc_prov"
            else ("vien_chuc" if rng.random() < 0.85 else "hop_dong")
        )  # fmt: skip
        leadership = (
            "head" if category in ("leader_health", "station_head")
            else ("deputy" if level != "village" and rng.random() < 0.05 else None)
        )  # fmt: skip
        roles = {
            "ctv_dual": ["pop", "family", "child"],
            "ctv": ["pop"] if rng.random() < 0.6 else ["pop", "family"],
            "village_hw": ["vhw"],
        }.get(category, [])
        left = dt.date(2025, 10, 31) if rng.random() < 0.02 else None
        if rng.random() < 0.30:  # a pre-reform posting, closed the day before the reform
            if level == "province":
                old_unit = None  # province staff stay in the province's own rows
            elif level == "district":
                old_unit = rng.choice(units.old_districts)
            else:
                codes = units.before.get(units.communes[unit_index][0]) or list(
                    units.old_commune_ids
                )
                old_unit = units.old_commune_ids[rng.choice(codes)]
            if old_unit is not None:
                posting_id += 1
                start = dt.date(rng.randint(2006, 2023), rng.randint(1, 12), 1)
                reg.postings.append(
                    (posting_id, pid, old_unit, level, employment, category, leadership,
                     json.dumps(roles), start, REFORM - dt.timedelta(days=1))
                )  # fmt: skip
        posting_id += 1
        reg.postings.append(
            (posting_id, pid, unit_id, level, employment, category, leadership, json.dumps(roles),
             REFORM, left)
        )  # fmt: skip
        if (
            left is None
            and level in ("district", "commune")
            and category
            in (
                "vc_district",
                "vc_commune",
            )
        ):
            reg.kpi02_denominator += 1
        held = []
        if level != "village":
            if rng.random() < 0.4:
                held.append("vc_std")
            if rng.random() < 0.1:
                held.append(rng.choice(["cdnn_iv", "cdnn_iii", "cdnn_ii"]))
        elif rng.random() < 0.15:
            held.append("basic_2m")
        for code in held:
            cert_id += 1
            issued = dt.date(rng.randint(2010, 2025), rng.randint(1, 12), rng.randint(1, 28))
            reg.certificates.append((cert_id, pid, code, issued))
    # courses: TP01 / TP03 / TP04 most often, a few awarding a CDNN certificate
    topic_cycle = [["TP01"], ["TP03"], ["TP04"], ["TP01", "TP02"], ["TP05"], ["TP04", "TP06"],
                   ["TP10"], ["TP14"]]  # fmt: skip
    for cid in range(1, 61):
        start = dt.date(2023, 1, 9) + dt.timedelta(days=cid * 17)
        end = start + dt.timedelta(days=rng.randint(1, 6))
        reg.courses.append(
            (cid, f"K{cid:03d}", f"Lớp bồi dưỡng {cid}", "boi_duong",
             json.dumps(topic_cycle[cid % len(topic_cycle)]), None, start, end, "[]", 70,
             "cdnn_iv" if cid % 12 == 0 else None, "[]", "closed", created)
        )  # fmt: skip
    enrol_id = 0
    for person in reg.people:
        if rng.random() >= 0.30:
            continue
        for course in rng.sample(reg.courses, rng.randint(1, 2)):
            enrol_id += 1
            done = rng.random() < 0.8
            reg.enrolments.append(
                (enrol_id, course[0], person.id, "attended",
                 "completed" if done else "in_progress", course[7] if done else None, "bench")
            )  # fmt: skip
    return reg


# --- the TNA answers --------------------------------------------------------------------------


@dataclass
class Answers:
    """What was loaded of the TNA answers."""

    responses: int = 0
    counted: int = 0
    duplicates: int = 0
    unmatched: int = 0
    ratings: int = 0
    choices: int = 0
    waves: list[str] = field(default_factory=list)
    period_from: dt.date = AS_OF


def waves_for(responses: int, people: int) -> list[tuple[str, dt.date, dt.date]]:
    """Half-year waves ending with the second half of 2025, enough for each person once a wave."""
    count = max(2, -(-responses // int(people * 0.9)))
    waves = []
    year, half = 2025, 2
    for _ in range(count):
        first = dt.date(year, 1 if half == 1 else 7, 1)
        last = dt.date(year, 6, 30) if half == 1 else dt.date(year, 12, 31)
        waves.append((f"{year}-{half}", first, last))
        year, half = (year, 1) if half == 2 else (year - 1, 2)
    return waves[::-1]


def rating_profiles(rng: random.Random) -> dict[str, list[list[tuple]]]:
    """Per level, a pool of 21-item (importance, performance) profiles with level-typical gaps."""
    shift = {"province": 0.4, "district": 0.2, "commune": 0.0, "village": -0.5}
    item_gap = [rng.uniform(0.2, 1.6) for _ in COMPETENCIES]
    pools = {}
    for level, s in shift.items():
        pool = []
        for _ in range(1500):
            person = rng.gauss(0, 0.5)
            profile = []
            for i in range(len(COMPETENCIES)):
                imp = min(5, max(1, round(rng.gauss(4.1 + s * 0.3, 0.8))))
                perf = min(5, max(1, round(imp - item_gap[i] + s + person + rng.gauss(0, 0.9))))
                if rng.random() < 0.03:
                    imp, perf = None, None  # not applicable
                profile.append((imp, perf))
            pool.append(profile)
        flat = [(4, 3)] * len(COMPETENCIES)  # a few straight-liners
        pool += [flat] * 15
        pools[level] = pool
    return pools


def choice_sets(rng: random.Random) -> list[list[tuple[str, str]]]:
    """A pool of choice rows of one response: topics, top topic, barriers, devices, preferences."""
    topic_weights = [rng.uniform(0.3, 3) for _ in TOPICS]
    sets = []
    for _ in range(4000):
        picked = set()
        while len(picked) < rng.randint(1, 4):
            picked.add(rng.choices(TOPICS, topic_weights)[0])
        rows = [("topics_wanted", t) for t in sorted(picked)]
        if len(picked) > 1:
            rows.append(("topic_top1", rng.choice(sorted(picked))))
        rows += [("topics_24m", t) for t in sorted(set(rng.sample(TOPICS, rng.randint(0, 2))))]
        barriers = set(rng.sample(BARRIERS, rng.randint(1, 3)))
        rows += [("barriers", b) for b in sorted(barriers)]
        rows += [("device_access", d) for d in sorted(set(rng.sample(DEVICES, rng.randint(1, 2))))]
        rows += [
            ("pref_format", rng.choice(FORMATS)),
            ("pref_duration", rng.choice(DURATIONS)),
            ("pref_place", rng.choice(PLACES)),
        ]
        sets.append(rows)
    return sets


def generate_answers(units: Units, reg: Register, responses: int, seed: int, ids, answers: Answers):
    """Yield (submission, response, ratings, choices) rows, one TNA response at a time.

    :param ids: (form pk, form version id, admin user id).
    """
    rng = random.Random(seed + 1)
    form_pk, version_id, user_id = ids
    profiles = rating_profiles(rng)
    pool = choice_sets(rng)
    xml = b'<data id="tna_dskhhgd"/>'
    md5 = hashlib.md5(xml, usedforsecurity=False).hexdigest()
    waves = waves_for(responses, len(reg.people))
    answers.waves = [w for w, _, _ in waves]
    answers.period_from = waves[0][1]
    per_wave = [responses // len(waves)] * len(waves)
    per_wave[-1] += responses - sum(per_wave)
    sid = 0
    by_level_cats = {level: LEVELS[level][1] for level in LEVELS}
    projected = NOW
    for (wave, first, last), size in zip(waves, per_wave, strict=True):
        days = (last - first).days
        unmatched = round(size * 0.05)
        duplicates = round(size * 0.05)
        matched = size - unmatched - duplicates
        chosen = rng.sample(reg.people, matched)
        again = set(rng.sample(range(matched), duplicates))
        plan: list[tuple[Person | None, bool]] = []
        for index, person in enumerate(chosen):
            if index in again:
                plan.append((person, False))  # an older answer of the same wave: not counted
            plan.append((person, True))
        plan += [(None, True)] * unmatched
        for person, counted in plan:
            sid += 1
            if person is None:
                level = rng.choices(list(LEVELS), [v[0] for v in LEVELS.values()])[0]
                category = _weighted(rng, by_level_cats[level])
                unit_index = -1 if level == "province" else rng.randrange(len(units.communes))
                sex, birth, edu, pid, pcode = "f", 1985, "college", None, None
            else:
                level, category, unit_index = person.level, person.category, person.unit_index
                sex, birth, edu = person.sex, person.birth_year, person.education
                pid, pcode = person.id, f"GL{person.id:06d}"
            day = first + dt.timedelta(days=rng.randint(0, days))
            if not counted:  # the duplicate is the earlier one of the two
                day = max(first, day - dt.timedelta(days=rng.randint(1, 40)))
            if unit_index < 0:
                unit = PROVINCE if day >= REFORM else rng.choice(units.old_provinces)
            elif day >= REFORM:
                unit = units.communes[unit_index][1]
            else:
                unit = rng.choice(
                    units.before.get(units.communes[unit_index][0]) or [units.communes[0][1]]
                )
            job = JOBS[category]
            received = dt.datetime.combine(day, dt.time(9), dt.UTC) + dt.timedelta(
                seconds=rng.randint(0, 30000)
            )
            common = (level, category, job, unit, day, wave, counted)
            profile = rng.choice(profiles[level])
            straight = len(set(profile)) == 1
            submission = (
                sid, form_pk, version_id, f"uuid:bench-{sid:08d}", True, xml, md5, "{}", False,
                "received", received, received, unit, user_id,
            )  # fmt: skip
            response = (
                sid, form_pk, pid, pcode, PROVINCE if day >= REFORM else None, None,
                unit if unit_index >= 0 else None, sex, rng.random() < 0.3, birth,
                rng.randint(0, 25), edu, "medpharm" if level != "village" else "other", None,
                rng.randint(0, 20), rng.randint(240, 2400), straight, 0, projected, *common,
            )  # fmt: skip
            ratings = [
                (sid, item, imp, perf, *common)
                for item, (imp, perf) in zip(COMPETENCIES, profile, strict=True)
            ]
            choices = [(sid, q, c, *common) for q, c in rng.choice(pool)]
            answers.responses += 1
            answers.counted += counted
            answers.duplicates += not counted
            answers.unmatched += person is None
            answers.ratings += len(ratings)
            answers.choices += len(choices)
            yield submission, response, ratings, choices


# --- loading ----------------------------------------------------------------------------------


def form_ids(url: str) -> tuple[int, int, int]:
    """(form pk, version id, admin user id)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            form_pk, version_id = conn.execute(
                sa.text(
                    "SELECT f.id, v.id FROM forms f JOIN form_versions v ON v.form_pk = f.id "
                    "WHERE f.form_id = 'tna_dskhhgd' ORDER BY v.id DESC"
                )
            ).first()
            user_id = conn.execute(
                sa.text("SELECT id FROM users WHERE username = :u"), {"u": ADMIN}
            ).scalar_one()
    finally:
        engine.dispose()
    return form_pk, version_id, user_id


REGISTER_TABLES = (
    ("persons", PERSON_COLUMNS, "persons"),
    ("postings", POSTING_COLUMNS, "postings"),
    ("person_certificates", CERT_COLUMNS, "certificates"),
    ("courses", COURSE_COLUMNS, "courses"),
    ("enrolments", ENROLMENT_COLUMNS, "enrolments"),
)


def load_postgres(url: str, reg: Register, rows) -> None:
    """COPY everything in one transaction, reset the sequences, VACUUM ANALYZE."""
    with psycopg.connect(libpq(url)) as conn:
        with conn.cursor() as cur:
            for table, columns, attr in REGISTER_TABLES:
                with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in getattr(reg, attr):
                        copy.write_row(row)
            # Four COPY streams cannot be open at once on one connection: spool the children.
            spool = {name: tempfile.TemporaryFile("w+b") for name in ("r", "rt", "c")}  # noqa: SIM115
            with cur.copy(f"COPY submissions ({', '.join(SUBMISSION_COLUMNS)}) FROM STDIN") as copy:
                buffers = {name: [] for name in spool}
                for submission, response, ratings, choices in rows:
                    copy.write_row(submission)
                    buffers["r"].append(_line(response))
                    buffers["rt"].extend(_line(r) for r in ratings)
                    buffers["c"].extend(_line(c) for c in choices)
                    if len(buffers["rt"]) > 200_000:
                        _flush(spool, buffers)
                _flush(spool, buffers)
            for name, table, columns in (
                ("r", "needs_responses", RESPONSE_COLUMNS),
                ("rt", "needs_ratings", RATING_COLUMNS),
                ("c", "needs_choices", CHOICE_COLUMNS),
            ):
                handle = spool[name]
                handle.seek(0)
                with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    while chunk := handle.read(1 << 20):
                        copy.write(chunk)
                handle.close()
            for table in ("persons", "postings", "person_certificates", "courses", "enrolments",
                          "submissions"):  # fmt: skip
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE)")


def _text(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value)


def _line(row: tuple) -> str:
    return "\t".join(_text(v) for v in row) + "\n"


def _flush(spool, buffers) -> None:
    for name, lines in buffers.items():
        spool[name].write("".join(lines).encode())
        lines.clear()


def load_sqlite(path: str, reg: Register, rows) -> None:
    """Insert with executemany per table in one transaction, then ANALYZE."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("BEGIN")

        def insert(table, columns, data):
            marks = ", ".join("?" for _ in columns)
            conn.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                (tuple(_sqlite(v) for v in row) for row in data),
            )

        for table, columns, attr in REGISTER_TABLES:
            insert(table, columns, getattr(reg, attr))
        batch: dict[str, list] = {"s": [], "r": [], "rt": [], "c": []}

        def flush():
            insert("submissions", SUBMISSION_COLUMNS, batch["s"])
            insert("needs_responses", RESPONSE_COLUMNS, batch["r"])
            insert("needs_ratings", RATING_COLUMNS, batch["rt"])
            insert("needs_choices", CHOICE_COLUMNS, batch["c"])
            for values in batch.values():
                values.clear()

        for submission, response, ratings, choices in rows:
            batch["s"].append(submission)
            batch["r"].append(response)
            batch["rt"].extend(ratings)
            batch["c"].extend(choices)
            if len(batch["rt"]) > 200_000:
                flush()
        flush()
        conn.commit()
        conn.execute("ANALYZE")
    finally:
        conn.close()


def _sqlite(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


# --- measuring --------------------------------------------------------------------------------


@dataclass
class Measure:
    """One endpoint of one (backend, responses): every repeat's time, peak RSS, checks."""

    backend: str
    responses: int
    endpoint: str
    seconds: list[float] = field(default_factory=list)
    rss_mb: float = 0.0
    cpu_s: list[float] = field(default_factory=list)
    db_cpu_s: list[float] = field(default_factory=list)
    size_kb: float = 0.0
    checked: str = ""
    errors: list[str] = field(default_factory=list)
    absent: bool = False

    @property
    def median(self) -> float | None:
        """Median seconds of the repeats."""
        return statistics.median(self.seconds) if self.seconds else None

    @property
    def best(self) -> float | None:
        """Fastest repeat."""
        return min(self.seconds) if self.seconds else None


def query_string(answers: Answers) -> str:
    return f"?unit={PROVINCE}&as_of={AS_OF}&period_from={answers.period_from}&period_to={AS_OF}"


def timed_get(server: Gunicorn, path: str, token: str, measure: Measure, db: PostgresCpu | None,
              timeout: float, cookie: str | None = None) -> bytes | None:  # fmt: skip
    """One request; appends its time (or an error) to ``measure``."""
    workers = server.workers()
    for pid in workers:
        reset_peak(pid)
    cpu = {pid: cpu_seconds(pid) for pid in workers}
    db_before = db.total() if db else None
    with MemorySampler(workers) as sampler:
        started = time.perf_counter()
        try:
            headers = {"Cookie": cookie} if cookie else {"Authorization": f"Bearer {token}"}
            status, body = server.get(path, headers, timeout)
        except OSError as error:
            measure.errors.append(f"{type(error).__name__}: {error}")
            return None
        elapsed = time.perf_counter() - started
    if status == 404 and measure.endpoint == "pdf":
        measure.absent = True
        return None
    if status != 200:
        measure.errors.append(f"HTTP {status}: {body[:300]!r}")
        return None
    measure.seconds.append(elapsed)
    measure.rss_mb = max(measure.rss_mb, sampler.peak_mb)
    measure.cpu_s.append(max(cpu_seconds(pid) - cpu.get(pid, 0.0) for pid in workers))
    if db is not None and db_before is not None:
        measure.db_cpu_s.append(db.total() - db_before)
    measure.size_kb = len(body) / 1024
    return body


def check_json(body: bytes, answers: Answers, reg: Register) -> str:
    """The report's n must be what was loaded (a wrong but fast report cannot pass)."""
    report = json.loads(body)
    tables = {t["id"]: t for s in report["sections"] for t in s["tables"]}
    b1, i1 = tables["B1"], tables["I1"]
    kpi02 = tables["D-KPI-02"]["rows"][0]
    expected = {
        "B1 respondents": (b1["n"], answers.counted),
        "B1 duplicates": (b1["rows"][0]["duplicates"], answers.duplicates),
        "B1 unmatched": (b1["rows"][0]["unmatched"], answers.unmatched),
        "I1 n": (i1["n"], answers.counted),
        "KPI-02 denominator": (kpi02["denominator"], reg.kpi02_denominator),
        "E3 communes": (len(tables["E3"]["rows"]) <= 135, True),
    }
    wrong = [f"{k}: got {got}, loaded {want}" for k, (got, want) in expected.items() if got != want]
    if wrong:
        raise AssertionError("; ".join(wrong))
    return f"n={answers.counted:,} KPI-02 {kpi02['denominator']:,}"


def check_xlsx(body: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(body)) as book:
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/sheet")]
    if len(sheets) < 20:
        raise AssertionError(f"only {len(sheets)} sheets")
    return f"{len(sheets)} sheets"


def check_working_list(body: bytes, kpi02: dict) -> str:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    try:
        sheet = next(name for name in book.sheetnames if name.startswith("KPI-02"))
        rows = sum(1 for _ in book[sheet].iter_rows(min_row=2, values_only=True))
    finally:
        book.close()
    want = kpi02["denominator"] - kpi02["numerator"] + kpi02["self_reported"]
    if rows != want:
        raise AssertionError(f"KPI-02 sheet has {rows} people, the report says {want}")
    return f"KPI-02 list {rows:,}"


def py_spy_profile(py_spy: str, server: Gunicorn, path: str, token: str, out: Path) -> list[str]:
    """Record every worker during one request; the top functions by inclusive samples."""
    records = [
        PySpy(py_spy, pid, out.with_name(f"{out.stem}-{pid}.txt"), rate=200, attach=0)
        for pid in server.workers()
    ]
    time.sleep(1.5)
    server.get(path, {"Authorization": f"Bearer {token}"}, 600)
    for record in records:
        record.stop()
    inclusive, own = Counter(), Counter()
    total = 0
    for record in records:
        for frames, n in read_collapsed(record.output):
            if not any("needs" in f or "report" in f for f in frames):
                continue
            total += n
            for frame in set(frames):
                inclusive[frame] += n
            own[frames[-1]] += n
    lines = [f"py-spy: {total} samples in the request (200 Hz)"]
    interesting = [
        (f, n) for f, n in inclusive.most_common(200)
        if "/server/" in f or "/exports/" in f or "sqlalchemy/engine/default.py" in f
        or "psycopg" in f or "sqlite" in f
    ]  # fmt: skip
    for frame, n in interesting[:25]:
        lines.append(f"  {n * 100 / max(total, 1):5.1f} %  {frame}")
    lines.append("  own time, top 10:")
    for frame, n in own.most_common(10):
        lines.append(f"  {n * 100 / max(total, 1):5.1f} %  {frame}")
    return lines


def sql_profile(env: dict[str, str], answers: Answers) -> list[str]:
    """Build the report in a child process with statement timing hooks; the slowest statements."""
    code = f"""
import datetime as dt, json, time, collections
import sqlalchemy as sa
from wsgi import app
from server.extensions import db
from server.services.needs_report import NeedsParams, build_needs_report
stats = collections.defaultdict(lambda: [0, 0.0])
def before(conn, cursor, statement, params, context, many):
    conn.info.setdefault("t", []).append(time.perf_counter())
def after(conn, cursor, statement, params, context, many):
    took = time.perf_counter() - conn.info["t"].pop()
    key = " ".join(statement.split())[:160]
    stats[key][0] += 1; stats[key][1] += took
with app.app_context():
    sa.event.listen(db.engine, "before_cursor_execute", before)
    sa.event.listen(db.engine, "after_cursor_execute", after)
    params = NeedsParams(as_of=dt.date.fromisoformat("{AS_OF}"),
        period_from=dt.date.fromisoformat("{answers.period_from}"),
        period_to=dt.date.fromisoformat("{AS_OF}"), unit="{PROVINCE}")
    build_needs_report(db.session, params, now=dt.datetime.now(dt.UTC))  # warm
    stats.clear()
    started = time.perf_counter()
    build_needs_report(db.session, params, now=dt.datetime.now(dt.UTC))
    total = time.perf_counter() - started
    sql = sum(v[1] for v in stats.values())
    print(json.dumps({{"total": total, "sql": sql, "statements": sum(v[0] for v in stats.values()),
        "top": sorted(([k, v[0], v[1]] for k, v in stats.items()), key=lambda r: -r[2])[:12]}}))
"""
    out = run_python(code, env, timeout=900)
    if out.returncode != 0:
        return [f"sql profile failed: {out.stderr[-1500:]}"]
    data = json.loads(out.stdout.strip().splitlines()[-1])
    lines = [
        f"in-process build: {data['total']:.2f} s, of which SQL {data['sql']:.2f} s in "
        f"{data['statements']} statements; Python {data['total'] - data['sql']:.2f} s"
    ]
    for statement, count, seconds in data["top"]:
        lines.append(f"  {seconds:7.3f} s ×{count:<3} {statement}")
    return lines


# --- one run ----------------------------------------------------------------------------------


def run_one(args, backend: str, responses: int) -> tuple[list[Measure], list[str]]:
    """Load one database, measure every endpoint, drop it."""
    notes: list[str] = []
    measures = [Measure(backend, responses, e) for e in args.endpoints]
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        workdir = Path(tmp)
        url, dbname = create_database(backend, args.postgres_url, workdir, "bench_reports")
        server = None
        try:
            env = app_env(url, workdir / "storage", secret_key="bench-secret", LOG_LEVEL="WARNING")
            started = time.perf_counter()
            flask(["db", "upgrade"], env)
            flask(["units", "load-official"], env)
            flask(["forms", "publish", str(FORM)], env)
            password = "bench-" + "x" * 16
            flask(
                ["users", "create", ADMIN, "--role", "admin"], {**env, "TAPHUAN_PASSWORD": password}
            )
            token = flask(["users", "token", ADMIN, "--label", "reports benchmark"], env)
            token = token.strip().splitlines()[-1].strip()
            setup = time.perf_counter() - started
            units = read_units(url)
            started = time.perf_counter()
            reg = make_register(units, args.people, args.seed)
            answers = Answers()
            rows = generate_answers(units, reg, responses, args.seed, form_ids(url), answers)
            if backend == "postgresql":
                load_postgres(url, reg, rows)
            else:
                load_sqlite(url.removeprefix("sqlite:///"), reg, rows)
            load = time.perf_counter() - started
            notes.append(
                f"{backend} {responses:,}: setup {setup:.0f} s, load {load:.0f} s — "
                f"{len(reg.persons):,} persons, {len(reg.postings):,} postings, "
                f"{len(reg.certificates):,} certificates, {len(reg.enrolments):,} enrolments; "
                f"{answers.responses:,} responses ({answers.counted:,} counted, "
                f"{answers.duplicates:,} duplicates, {answers.unmatched:,} unmatched), "
                f"{answers.ratings:,} ratings, {answers.choices:,} choices; waves "
                f"{answers.waves[0]}…{answers.waves[-1]}"
            )
            print(notes[-1], flush=True)
            if args.sql_profile:
                notes += sql_profile(env, answers)
                print("\n".join(notes[-13:]), flush=True)
            server = Gunicorn(env, workdir / "gunicorn.log")
            db = PostgresCpu(url) if backend == "postgresql" else None
            qs = query_string(answers)
            cookie = server.sign_in(ADMIN, password) if "pdf" in args.endpoints else None
            kpi02 = None
            for measure in measures:
                jar = cookie if measure.endpoint == "pdf" else None
                for _ in range(args.repeat):
                    body = timed_get(server, ENDPOINTS[measure.endpoint] + qs, token, measure, db,
                                     args.timeout, jar)  # fmt: skip
                    if body is None:
                        break
                    try:
                        if measure.endpoint == "json":
                            measure.checked = check_json(body, answers, reg)
                            tables = {t["id"]: t for s in json.loads(body)["sections"]
                                      for t in s["tables"]}  # fmt: skip
                            kpi02 = tables["D-KPI-02"]["rows"][0]
                        elif measure.endpoint == "xlsx":
                            measure.checked = check_xlsx(body)
                        elif measure.endpoint == "working-list" and kpi02 is not None:
                            measure.checked = check_working_list(body, kpi02)
                        elif measure.endpoint == "pdf":
                            ok = body.startswith(b"%PDF")
                            measure.checked = f"{len(body) // 1024} KB PDF" if ok else "not a PDF"
                    except (AssertionError, KeyError, StopIteration) as error:
                        measure.errors.append(f"wrong answer: {error!r}")
                print(line(measure), flush=True)
            if args.py_spy:
                out = Path(args.profile_dir) / f"reports-{backend}-{responses}"
                notes += py_spy_profile(args.py_spy, server, ENDPOINTS["json"] + qs, token, out)
                print("\n".join(notes[-40:]), flush=True)
            log = (workdir / "gunicorn.log").read_text(errors="replace")
            if "Traceback" in log:
                notes.append("server log: " + log[log.index("Traceback") :][:1500])
        finally:
            if server is not None:
                server.stop()
            drop_database(args.postgres_url, dbname)
    return measures, notes


# --- output -----------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def target_of(m: Measure) -> str:
    if m.absent:
        return "absent"
    if m.errors:
        return "ERROR"
    limit = TARGETS.get((m.backend, m.responses, m.endpoint))
    if m.endpoint == "pdf":
        limit = PDF_TARGET_S
    verdicts = []
    if limit is not None:
        verdicts.append("PASS" if m.median is not None and m.median <= limit else "MISS")
    verdicts.append("RSS PASS" if m.rss_mb < RSS_TARGET_MB else "RSS MISS")
    return " ".join(verdicts)


def line(m: Measure) -> str:
    cpu = statistics.median(m.cpu_s) if m.cpu_s else None
    db = statistics.median(m.db_cpu_s) if m.db_cpu_s else None
    return (
        f"| {m.backend} | {m.responses:,} | {m.endpoint} | {fmt(m.median)} | {fmt(m.best)} | "
        f"{fmt(cpu)} | {fmt(db)} | {fmt(m.rss_mb, 0)} | {fmt(m.size_kb, 0)} | "
        f"{m.checked or ('route absent' if m.absent else '; '.join(m.errors)[:120])} | "
        f"{target_of(m)} |"
    )


HEADER = (
    "| backend | responses | endpoint | median s | min s | srv CPU s | db CPU s | peak RSS MB "
    "| body KB | rows checked | target |\n|---|---|---|---|---|---|---|---|---|---|---|"
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runs",
        default="postgresql:100000,sqlite:100000,postgresql:1000000",
        help="backend:responses, comma-separated (default: the issue's three)",
    )
    parser.add_argument("--people", type=int, default=120_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--endpoints", default="json,xlsx,working-list,pdf")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--postgres-url", default=os.environ.get("TAPHUAN_TEST_POSTGRES_URL"))
    parser.add_argument("--sql-profile", action="store_true", help="time each SQL statement")
    parser.add_argument("--py-spy", help="path of py-spy: profile one JSON request")
    parser.add_argument("--profile-dir", default=tempfile.gettempdir())
    args = parser.parse_args(argv)
    try:
        args.runs = [(b, int(n)) for b, n in (r.split(":") for r in args.runs.split(","))]
    except ValueError:
        parser.error("--runs: expected backend:responses,…")
    if any(b not in ("sqlite", "postgresql") for b, _ in args.runs):
        parser.error("--runs: backends are sqlite and postgresql")
    if any(b == "postgresql" for b, _ in args.runs) and not args.postgres_url:
        parser.error("PostgreSQL runs need --postgres-url or TAPHUAN_TEST_POSTGRES_URL")
    args.endpoints = [e for e in args.endpoints.split(",") if e]
    if any(e not in ENDPOINTS for e in args.endpoints):
        parser.error(f"--endpoints: choose from {', '.join(ENDPOINTS)}")
    return args


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # issue 13's workloads live in bench/evaluation.py: --report course|programme|both
    if "--report" in argv and argv[argv.index("--report") + 1 :][:1] != ["needs"]:
        import evaluation

        return evaluation.main(argv)
    if "--report" in argv:
        at = argv.index("--report")
        del argv[at : at + 2]
    args = parse_args(argv)
    print(
        f"needs report benchmark: {platform.node()} {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, {args.people:,} persons, unit {PROVINCE}, as of {AS_OF}, "
        f"{args.repeat} requests per endpoint",
        flush=True,
    )
    print(HEADER, flush=True)
    measures, notes = [], []
    for backend, responses in args.runs:
        try:
            m, n = run_one(args, backend, responses)
        except Exception as error:  # report the run and go on with the next
            notes.append(f"{backend} {responses:,}: {type(error).__name__}: {error}")
            print(notes[-1], flush=True)
            m, n = [Measure(backend, responses, "setup", errors=[str(error)[:200]])], []
        measures += m
        notes += n
    print("\n" + HEADER, *[line(m) for m in measures], "", *notes, sep="\n")
    return 1 if any(m.errors for m in measures) else 0


if __name__ == "__main__":
    sys.exit(main())
