"""Data the tests build again and again, made in one place: registers, TNA answers.

Plain functions returning text or bytes, so any test (unit, integration, browser, benchmark)
can use them without fixtures from another package.
"""

from __future__ import annotations

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
