"""``courses``, ``keys``, ``scores`` and ``pickers`` commands: the training programme."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from server.cli.common import commit_or_fail, now
from server.domain import catalogue
from server.extensions import db
from server.services import answer_keys, enrolments, key_review, projections
from server.services import courses as courses_service
from server.services.forms import get_form
from server.services.pickers import refresh_pickers

courses_cli = AppGroup("courses", help="Courses and enrolments.")
keys_cli = AppGroup("keys", help="Answer keys of test forms.")
scores_cli = AppGroup("scores", help="Links and scores derived from submissions.")
pickers_cli = AppGroup("pickers", help="CSV lists the forms pick courses and trainees from.")


def refresh_and_report() -> None:
    """Regenerate the picker lists and say which forms changed (part of the caller's commit)."""
    for form_id, files in refresh_pickers(db.session, now=now()).items():
        click.echo(f"  pickers: {form_id}: {', '.join(files)} updated")


@courses_cli.command("create")
@click.argument("code")
@click.option("--title", required=True)
@click.option(
    "--type", "course_type", type=click.Choice(list(catalogue.COURSE_TYPES)), default="tap_huan"
)
@click.option("--start", required=True, type=click.DateTime(["%Y-%m-%d", "%d/%m/%Y"]))
@click.option("--end", required=True, type=click.DateTime(["%Y-%m-%d", "%d/%m/%Y"]))
@click.option("--pass-mark", type=int, default=70, help="Post-test pass mark, percent.")
@click.option("--topic", "topics", multiple=True, help="Topic code TP01…; repeatable.")
@click.option("--trainer", "trainers", multiple=True, help="Trainer's person code; repeatable.")
@click.option("--objective", "objectives", multiple=True, help="Learning objective (≤3).")
@click.option("--pre-form", default=None)
@click.option("--post-form", default=None)
@click.option("--satisfaction-form", default=None)
@click.option("--certificate", default=None, help="Certificate code the course issues.")
@click.option("--venue", default=None, help="Unit code of the venue.")
@click.option("--organiser", default=None)
def create_course_command(
    code,
    title,
    course_type,
    start,
    end,
    pass_mark,
    topics,
    trainers,
    objectives,
    pre_form,
    post_form,
    satisfaction_form,
    certificate,
    venue,
    organiser,
) -> None:
    """Create a course and update the tablets' course lists."""
    values = courses_service.CourseInput(
        code=code,
        title=title,
        course_type=course_type,
        start_date=start.date(),
        end_date=end.date(),
        pass_mark=pass_mark,
        topics=topics,
        trainers=trainers,
        objectives=objectives,
        pre_form_id=pre_form,
        post_form_id=post_form,
        satisfaction_form_id=satisfaction_form,
        certificate=certificate,
        venue_unit_code=venue,
        organiser=organiser,
    )

    def create():
        course = courses_service.create_course(db.session, values)
        refresh_and_report()
        return course

    course = commit_or_fail(create)
    click.echo(
        f"created course {course.code} ({course.start_date:%d/%m/%Y}–{course.end_date:%d/%m/%Y})"
    )


@courses_cli.command("enrol")
@click.argument("code")
@click.argument("person_codes", nargs=-1, required=True)
def enrol_command(code: str, person_codes: tuple[str]) -> None:
    """Enrol people (by person code) on a course."""

    def run():
        course = courses_service.get_course(db.session, code)
        result = enrolments.enrol(db.session, course, person_codes)
        refresh_and_report()
        return result

    result = commit_or_fail(run)
    click.echo(f"{code}: {len(result.enrolled)} enrolled, {len(result.already)} already enrolled")
    for warning in result.warnings:
        click.secho(f"  cảnh báo / warning: {warning}", fg="yellow")


@courses_cli.command("import-enrolments")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_enrolments_command(path: str) -> None:
    """Enrol and record attendance/completion from a CSV (Mã khóa học, Mã cán bộ, …)."""
    file = Path(path)

    def run():
        result = enrolments.import_enrolments(db.session, file.name, file.read_bytes())
        refresh_and_report()
        return result

    result = commit_or_fail(run)
    click.echo(f"{len(result.enrolled)} enrolled, {len(result.already)} updated")


@courses_cli.command("close")
@click.argument("code")
@click.option("--reopen", is_flag=True, help="Open the course again.")
def close_command(code: str, reopen: bool) -> None:
    """Close a course: it leaves the tablets' lists at their next form update."""

    def run():
        course = courses_service.get_course(db.session, code)
        courses_service.update_course(
            db.session, course, {"status": "open" if reopen else "closed"}
        )
        refresh_and_report()
        return course

    course = commit_or_fail(run)
    click.echo(f"{course.code}: {course.status}")


@courses_cli.command("list")
def list_courses_command() -> None:
    """List courses with their dates, status and enrolment."""
    from server.models import Course

    for course in db.session.execute(db.select(Course).order_by(Course.start_date)).scalars():
        click.echo(
            f"{course.code:<16} {course.status:<7} {course.start_date:%d/%m/%Y}–"
            f"{course.end_date:%d/%m/%Y} {len(course.enrolments):>4} enrolled  "
            f"{course.title}"
        )


@keys_cli.command("import")
@click.argument("form_id")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--version", default=None, help="Form version keyed (default: current).")
def import_key_command(form_id: str, path: str, version: str | None) -> None:
    """Replace a test form version's answer key and re-score its submissions."""
    file = Path(path)
    result = commit_or_fail(
        lambda: answer_keys.import_answer_key(
            get_form(db.session, form_id),
            file.name,
            file.read_bytes(),
            session=db.session,
            now=now(),
            version=version,
        )
    )
    click.echo(f"{form_id}: {result.items} items keyed, {result.rescored} submission(s) scored")


@keys_cli.command("drop")
@click.argument("form_id")
@click.argument("item")
@click.option("--reason", required=True, help="Why (kept in the audit trail).")
@click.option("--version", default=None, help="Keyed version (default: the newest keyed).")
@click.option("--restore", is_flag=True, help="Put a dropped item back instead.")
def drop_item_command(
    form_id: str, item: str, reason: str, version: str | None, restore: bool
) -> None:
    """Drop an item from a key after review (or restore it) and re-score every attempt."""
    result = commit_or_fail(
        lambda: key_review.change_item(
            db.session,
            get_form(db.session, form_id),
            item,
            change="restored" if restore else "dropped",
            reason=reason,
            user=None,
            now=now(),
            version=version,
        )
    )
    click.echo(
        f"{form_id} v{result.version}: {item} {result.change}, "
        f"{result.rescored} submission(s) re-scored"
    )


@scores_cli.command("rebuild")
@click.argument("form_id", required=False)
def rebuild_command(form_id: str | None) -> None:
    """Recompute links, scores and the needs report's rows from the raw submissions."""

    def run():
        form = get_form(db.session, form_id) if form_id else None
        return projections.rebuild(db.session, now=now(), form=form)

    count, needs = commit_or_fail(run)
    click.echo(f"{count} submission(s) projected")
    click.echo(f"{needs} TNA response(s) projected")


@pickers_cli.command("refresh")
def refresh_command() -> None:
    """Regenerate the picker CSVs of every form from the registry."""
    commit_or_fail(refresh_and_report)
    click.echo("pickers refreshed")
