"""Export lines: kept at intake, read by CSV, ZIP and XLSX downloads, never making a difference.

Every download here is compared with the same download after the lines are gone (the export
then renders every row from its answers, as it did before lines existed): byte for byte.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from exports import CLOCK, FormTables
from server import MIGRATIONS_DIR
from server.extensions import db
from server.models import ExportLine, FormVersion, Job, Submission, SubmissionAttachment, User
from server.services import accounts
from server.services.attachment_store import AttachmentStore
from server.services.submissions import Origin, receive_submission
from server.worker import work_once
from tests.factories import NOW

XML = (
    '<data id="export_demo" version="{version}"><name>{name}</name><age>34</age>'
    "<topics>tp01 tp05</topics><ok>yes</ok><dob>1990-05-01</dob><photo/>"
    '<tr><tr_name>Trần, Văn "An"</tr_name><score>8</score></tr>'
    "<tr><tr_name>=cmd|' /C calc'!A0</tr_name><score>9</score></tr>"
    "<meta><instanceID>uuid:{n}</instanceID></meta></data>"
)
CSV = "/api/v1/forms/export_demo/submissions.csv"
ZIP = "/api/v1/forms/export_demo/submissions.zip"
XLSX = "/api/v1/forms/export_demo/submissions.xlsx"


def lines(session) -> dict[int, str]:
    return dict(session.execute(sa.select(ExportLine.submission_id, ExportLine.plan)).all())


def members(body: bytes) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(body))
    return {name: archive.read(name) for name in archive.namelist()}


def downloads(client, headers) -> tuple[bytes, dict[str, bytes], dict[str, bytes]]:
    csv = client.get(CSV, headers=headers).get_data()
    tables = members(client.get(ZIP, headers=headers).get_data())
    return csv, tables, members(client.get(XLSX, headers=headers).get_data())


def without_lines(session, client, headers):
    session.execute(sa.delete(ExportLine))
    session.commit()
    return downloads(client, headers)


def test_intake_keeps_a_line_and_downloads_read_it(client, publish, submit, session, token_for):
    publish("export_demo.md")
    for n, name in enumerate(["Nguyễn Thị Hoa", 'Lê, Văn "Bình"', "-1 + 1", ""]):
        submit(XML.format(version=1, name=name, n=n), at=NOW + dt.timedelta(minutes=n))
    kept = lines(session)
    assert len(kept) == 4 and len(set(kept.values())) == 1
    admin = token_for()
    with_lines = downloads(client, admin)
    assert with_lines == without_lines(session, client, admin)
    assert "'=cmd|' /C calc'!A0" in with_lines[1]["export_demo-tr.csv"].decode()
    assert "<t>=cmd|' /C calc'!A0</t>" in with_lines[2]["xl/worksheets/sheet2.xml"].decode()


def test_a_retry_keeps_one_line_and_an_edit_gets_its_own(publish, submit, session):
    publish("export_demo.md")
    submit(XML.format(version=1, name="A", n=1))
    submit(XML.format(version=1, name="A", n=1))  # Collect's retry: the same submission
    edit = XML.format(version=1, name="A (sửa)", n="1b").replace(
        "</instanceID>", "</instanceID><deprecatedID>uuid:1</deprecatedID>"
    )
    submit(edit)
    texts = session.execute(sa.select(ExportLine.text)).scalars().all()
    assert len(texts) == 2 and any(t.startswith("A (sửa),34,") for t in texts)


def test_a_new_version_with_other_columns_leaves_lines_to_render(
    client, publish, submit, session, token_for, runner
):
    publish("export_demo.md")
    submit(XML.format(version=1, name="Cũ", n=1))
    source = (publish.__globals__["DATA"] / "forms" / "export_demo.md").read_text()
    wider = source.replace(
        "|        | integer               | age    |",
        "|        | text                  | nick   | Biệt danh | Nick | |\n"
        "|        | integer               | age    |",
    ).replace("| export_demo | 1       |", "| export_demo | 2       |")
    publish("export_demo.md", content=wider.encode())
    submit(XML.format(version=2, name="Mới", n=2).replace("<age>", "<nick>N</nick><age>"))
    plans = lines(session)
    assert len(set(plans.values())) == 2  # the old line is of the old plan: not read
    admin = token_for()
    mixed = downloads(client, admin)
    assert mixed[0].decode("utf-8").splitlines()[1].startswith("Cũ,,34,")
    queued = session.execute(sa.select(Job.kind, Job.params, Job.state)).all()
    assert queued == [("forms.export_lines", {"form_id": "export_demo"}, "queued")]
    result = runner.invoke(args=["forms", "export-lines", "export_demo"])
    assert result.exit_code == 0 and "export_demo: 1 line(s) rendered" in result.output
    assert len(set(lines(session).values())) == 1
    assert downloads(client, admin) == mixed == without_lines(session, client, admin)
    result = runner.invoke(args=["forms", "export-lines"])
    assert "export_demo: 2 line(s) rendered" in result.output  # all were gone: both again


def metas(session) -> list[str | None]:
    return (
        session.execute(sa.select(ExportLine.meta).order_by(ExportLine.submission_id))
        .scalars()
        .all()
    )


def test_a_line_keeps_the_fixed_metadata_cells_of_a_user_and_of_a_device(
    app, client, publish, submit, session, token_for
):
    publish("export_demo.md")
    submit(XML.format(version=1, name="A", n=1))
    device, _token = accounts.create_device(
        "Máy xã", form_ids=["export_demo"], session=db.session, now=NOW
    )
    receive_submission(
        XML.format(version=1, name="B", n=2).encode(),
        [],
        origin=Origin(actor=accounts.Actor(device=device), device_id=None),
        session=db.session,
        store=AttachmentStore(app.config["STORAGE_DIR"]),
        now=NOW + dt.timedelta(minutes=1, microseconds=999_999),
    )
    db.session.commit()
    first, second = (
        (NOW + dt.timedelta(minutes=m)).astimezone(CLOCK).isoformat()[:19] for m in (0, 1)
    )
    assert metas(session) == [
        f"uuid:1,1,collector-bot,collect:test,{first}+07:00,",
        f"uuid:2,1,device:{device.id},,{second}+07:00,",  # the fraction is not shown
    ]
    admin = token_for()
    with_meta = downloads(client, admin)
    assert with_meta == without_lines(session, client, admin)


def test_what_the_metadata_cells_show_changing_forgets_them_and_the_cli_renders_them_again(
    client, publish, submit, session, token_for, runner
):
    publish("export_demo.md")
    rows = [submit(XML.format(version=1, name=n, n=n), at=NOW + dt.timedelta(minutes=len(n)))
            for n in ("a", "bb", "ccc", "dddd")]  # fmt: skip
    changes = [
        sa.update(Submission).where(Submission.id == rows[0].id)
        .values(received_at=NOW - dt.timedelta(days=1)),
        sa.update(Submission).where(Submission.id == rows[1].id).values(device_id="collect:x"),
    ]  # fmt: skip
    for change in changes:
        session.execute(change)
    session.commit()
    assert metas(session)[:2] == [None, None] and None not in metas(session)[2:]
    session.execute(sa.update(User).where(User.username == "collector-bot").values(username="bot"))
    session.commit()
    assert metas(session) == [None] * 4
    admin = token_for()
    shown = downloads(client, admin)  # answers from the lines, metadata from the rows
    assert ",bot,collect:x," in shown[0].decode() and "collector-bot" not in shown[0].decode()
    result = runner.invoke(args=["forms", "export-lines", "export_demo"])
    assert "export_demo: 4 line(s) rendered" in result.output
    assert all(",bot," in meta for meta in metas(session))
    assert downloads(client, admin) == shown == without_lines(session, client, admin)
    submit(XML.format(version=1, name="e", n="e"))  # the only line left
    assert metas(session)[0].startswith("uuid:e,1,bot,")
    session.execute(sa.update(FormVersion).values(version="1b"))
    session.commit()
    assert metas(session) == [None]


def test_the_upgrade_that_added_metadata_cells_queues_their_rendering(
    app, publish, submit, session
):
    publish("export_demo.md")
    submit(XML.format(version=1, name="A", n=1))
    session.commit()
    with app.app_context():  # as a server upgraded with lines stored before 0025
        downgrade(directory=str(MIGRATIONS_DIR), revision="0022")
        upgrade(directory=str(MIGRATIONS_DIR))
    session.expire_all()
    assert metas(session) == [None]
    queued = session.execute(sa.select(Job.kind, Job.params, Job.state)).all()
    assert queued == [("forms.export_lines", {"form_id": "export_demo"}, "queued")]
    assert work_once(app) is not None
    assert metas(session)[0].startswith("uuid:1,1,collector-bot,collect:test,")


def test_a_changed_answer_forgets_its_line(publish, submit, session):
    publish("export_demo.md")
    row = submit(XML.format(version=1, name="A", n=1))
    assert lines(session)
    session.execute(sa.update(Submission).where(Submission.id == row.id).values(data={}))
    session.commit()
    assert lines(session) == {}


def test_a_line_that_cannot_be_rendered_never_refuses_a_submission(
    publish, submit, session, monkeypatch, client, token_for
):
    publish("export_demo.md")

    def broken(self, data, instance_id):
        raise RuntimeError("a bug in rendering")

    monkeypatch.setattr(FormTables, "line", broken)
    row = submit(XML.format(version=1, name="A", n=1))
    assert row.id and lines(session) == {}
    monkeypatch.undo()
    csv = client.get(CSV, headers=token_for()).get_data(as_text=True)
    assert csv.splitlines()[1].startswith("A,34,tp01 tp05,1,1,yes,1990-05-01,,uuid:1,1,")


def test_a_line_without_csv_text_renders_that_row_from_its_answers(
    client, publish, submit, session, token_for
):
    publish("export_demo.md")
    submit(XML.format(version=1, name="A", n=1))
    submit(XML.format(version=1, name="B", n=2), at=NOW + dt.timedelta(minutes=1))
    admin = token_for()
    expected = downloads(client, admin)
    session.execute(sa.update(ExportLine).values(text=None))  # as for an answer holding PART
    session.commit()
    assert downloads(client, admin) == expected


def test_the_job_a_publish_queues_renders_the_lines(
    app, client, publish, submit, session, token_for
):
    publish("export_demo.md")
    submit(XML.format(version=1, name="Cũ", n=1))
    session.execute(sa.delete(ExportLine))
    session.commit()
    source = (publish.__globals__["DATA"] / "forms" / "export_demo.md").read_text()
    publish(
        "export_demo.md",
        content=source.replace("| export_demo | 1       |", "| export_demo | 2       |").encode(),
    )
    publish(
        "export_demo.md",
        content=source.replace("| export_demo | 1       |", "| export_demo | 3       |").encode(),
    )
    assert session.scalar(sa.select(sa.func.count(Job.id))) == 1  # one waits already: not twice
    assert work_once(app) is not None
    job = session.execute(sa.select(Job)).scalar_one()
    session.refresh(job)
    assert (job.state, job.result) == ("done", {"form_id": "export_demo", "rendered": 1})
    assert len(lines(session)) == 1


def test_a_submissions_attachment_counts_follow_its_attachments_whoever_writes(
    publish, submit, session
):
    # Triggers keep the listing's counts (migration 0022): the intake, a split upload's later
    # part, and a change by hand in SQL all move them.
    publish("export_demo.md")
    with_photo = XML.format(version=1, name="A", n=1).replace("<photo/>", "<photo>a.jpg</photo>")
    row = submit(with_photo)

    def counts():
        session.expire_all()
        found = session.get(Submission, row.id)
        return found.attachments_expected, found.attachments_present

    assert counts() == (1, 0)  # referenced, not yet sent: Collect sends it in a later part
    submit(with_photo, files={"a.jpg": b"\xff\xd8 photo"})
    assert counts() == (1, 1)
    session.execute(
        sa.delete(SubmissionAttachment).where(SubmissionAttachment.submission_id == row.id)
    )
    session.commit()
    assert counts() == (0, 0)
