"""Fixtures of several integration packages: the reports spec's worked example as a course."""

from __future__ import annotations

import json

import pytest

from harness import ROOT
from tests.factories import (
    STANDARD_KEY,
    STANDARD_KEY_CSV,
    WORKED_COURSE,
    WORKED_ITEMS,
    WORKED_NAMES,
    WORKED_POST,
    WORKED_PRE,
    WORKED_ROSTER_HEADER,
    WORKED_UNITS,
    attempt_xml,
    cli_output,
    form_version,
    post_submission,
    satisfaction_xml,
    worked_key,
)


@pytest.fixture
def course(runner, tmp_path, client, token_for):
    """The worked example as a course: roster, forms, key, pre/post tests and evaluations."""
    roster = WORKED_ROSTER_HEADER + "".join(
        f"GL{n:03d},{name},{'Nữ' if n % 2 else 'Nam'},{'21583' if n < 5 else '23584'},"
        f"Tuyến xã,Viên chức,vc_commune,01/08/2025\n"
        for n, name in enumerate(WORKED_NAMES)
    )
    roster += "GL099,Y Niê Ktla,Nữ,23584,Tuyến xã,Viên chức,vc_commune,01/08/2025\n"
    roster += "GV001,Lý Thị Giảng,Nữ,52,Tuyến tỉnh,Công chức,cc_prov,01/08/2025\n"
    (tmp_path / "units.csv").write_text(WORKED_UNITS, encoding="utf-8")
    (tmp_path / "roster.csv").write_text(roster, encoding="utf-8")
    (tmp_path / "key.csv").write_text(worked_key(STANDARD_KEY_CSV), encoding="utf-8")
    cli_output(runner.invoke(args=["units", "import", str(tmp_path / "units.csv")]))
    cli_output(runner.invoke(args=["roster", "import", str(tmp_path / "roster.csv")]))
    for form in ("kt_dscoban_pre", "kt_dscoban_post", "danhgia_khoahoc"):
        cli_output(runner.invoke(args=["forms", "publish", str(ROOT / "forms" / f"{form}.xlsx")]))
    for form in ("kt_dscoban_pre", "kt_dscoban_post"):
        cli_output(runner.invoke(args=["keys", "import", form, str(tmp_path / "key.csv")]))
    cli_output(
        runner.invoke(
            args=[
                "courses", "create", WORKED_COURSE, "--title", "Dân số cơ bản <b>khóa 9</b>",
                "--type", "boi_duong", "--start", "2026-09-07", "--end", "2026-09-11",
                "--pass-mark", "70", "--topic", "TP01", "--trainer", "GV001",
                "--pre-form", "kt_dscoban_pre", "--post-form", "kt_dscoban_post",
                "--satisfaction-form", "danhgia_khoahoc", "--venue", "21583",
            ]
        )
    )  # fmt: skip
    cli_output(
        runner.invoke(args=["courses", "enrol", WORKED_COURSE, *[f"GL{n:03d}" for n in range(10)]])
    )
    device = json.loads(
        cli_output(
            runner.invoke(
                args=[
                    "devices", "create", "lop", "--form", "kt_dscoban_pre",
                    "--form", "kt_dscoban_post", "--form", "danhgia_khoahoc", "--json",
                ]
            )
        )
    )  # fmt: skip
    token = device["token"]
    versions = {f: form_version(client, token, f) for f in ("kt_dscoban_pre", "kt_dscoban_post")}
    sat_version = form_version(client, token, "danhgia_khoahoc")
    for n in range(10):
        for phase, pct in (("pre", WORKED_PRE[n]), ("post", WORKED_POST[n])):
            form = f"kt_dscoban_{phase}"
            post_submission(
                client,
                token,
                attempt_xml(
                    form,
                    versions[form],
                    phase=phase,
                    course=WORKED_COURSE,
                    trainee=f"GL{n:03d}",
                    correct_items=pct * len(WORKED_ITEMS) // 100,
                    key=STANDARD_KEY,
                    instance=f"uuid:{phase}-{n}",
                ),
            )
    comments = [
        ("Cần thêm thời gian thực hành, gọi chị Hoa 0905123456", "Thảo luận nhóm"),
        ("Tài liệu nên phát trước", ""),
        ("", "Nội dung thiết thực"),
    ]
    for n in range(8):
        improve, useful = comments[n % 3]
        post_submission(
            client,
            token,
            satisfaction_xml(
                sat_version,
                course=WORKED_COURSE,
                instance=f"uuid:sat-{n}",
                ratings=(5, 4, 4, 3, 5, 4, 2, 5, 4, 4) if n % 2 else (4,) * 10,
                overall=(5, 4, 4, 3, 5, 4, 2, 5)[n],
                trainer="GV001",
                improve=improve,
                most_useful=useful,
                topics="tp05" if n < 3 else "",
            ),
        )
    return token_for()
