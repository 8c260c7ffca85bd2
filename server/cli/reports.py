"""``needs``, ``targets`` and ``report-settings`` commands: what the needs report reads."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from server.cli.common import commit_or_fail, now
from server.extensions import db
from server.services import report_targets
from server.services.forms import get_form
from server.services.needs_projection import rebuild_needs

needs_cli = AppGroup("needs", help="The needs report's rows derived from TNA submissions.")
targets_cli = AppGroup("targets", help="KPI targets and baselines (spec §1.2), per province.")
settings_cli = AppGroup(
    "report-settings", help="Settings of the reports (spec §1.9), per province."
)

_PROVINCE = click.option(
    "--province", default="", help="Province code; omitted: the default every province inherits."
)


@needs_cli.command("rebuild")
@click.argument("form_id", required=False)
def rebuild_command(form_id: str | None) -> None:
    """Recompute the TNA responses, ratings and choices from the raw submissions."""
    count = commit_or_fail(
        lambda: rebuild_needs(
            db.session, now=now(), form=get_form(db.session, form_id) if form_id else None
        )
    )
    click.echo(f"{count} TNA response(s) projected")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:g} %".replace(".", ",")


@targets_cli.command("list")
@_PROVINCE
def list_targets_command(province: str) -> None:
    """List the targets that apply to a province (or the defaults)."""
    targets = commit_or_fail(lambda: report_targets.list_targets(db.session, province=province))
    for t in targets:
        baseline = _pct(t.baseline_pct)
        if t.baseline_date:
            baseline += f" ({t.baseline_date:%d/%m/%Y})"
        origin = "mặc định / default" if t.inherited or not t.province_code else t.province_code
        click.echo(
            f"{t.kpi}  {t.period_start.year}–{t.period_end.year}  target {_pct(t.target_pct):>7}"
            f"  baseline {baseline:<18}  {origin:<19}  {t.source}"
        )


@targets_cli.command("set")
@click.argument("kpi")
@click.option("--period", required=True, help="2022-2025 (1/1/2022–31/12/2025), or one year.")
@click.option("--target", "target_pct", type=float, default=None, help="Target, percent.")
@click.option("--baseline", "baseline_pct", type=float, default=None, help="Baseline, percent.")
@click.option("--baseline-date", type=click.DateTime(["%Y-%m-%d", "%d/%m/%Y"]), default=None)
@click.option("--source", default=None, help="Where the figure comes from (plan, article).")
@_PROVINCE
def set_target_command(
    kpi, period, target_pct, baseline_pct, baseline_date, source, province
) -> None:
    """Set a KPI's target (and baseline) for a period, for a province or as the default."""
    keep = report_targets.KEEP
    target = commit_or_fail(
        lambda: report_targets.set_target(
            db.session,
            kpi,
            period=period,
            target_pct=keep if target_pct is None else target_pct,
            baseline_pct=keep if baseline_pct is None else baseline_pct,
            baseline_date=keep if baseline_date is None else baseline_date.date(),
            source=keep if source is None else source,
            province=province,
            now=now(),
        )
    )
    where = province or "mặc định / default"
    click.echo(
        f"{target.kpi} {target.period_start.year}–{target.period_end.year} ({where}): "
        f"target {_pct(target.target_pct)}, baseline {_pct(target.baseline_pct)}"
    )


@settings_cli.command("list")
@_PROVINCE
def list_settings_command(province: str) -> None:
    """List every setting's value for a province (or the defaults), and where it comes from."""
    values = commit_or_fail(lambda: report_targets.list_settings(db.session, province=province))
    for s in values:
        click.echo(f"{s.key:<26} {json.dumps(s.value):<14} {s.source:<9} {s.help}")


@settings_cli.command("set")
@click.argument("key")
@click.argument("value")
@_PROVINCE
def set_setting_command(key: str, value: str, province: str) -> None:
    """Set one setting (VALUE: true/false, null, a number or a word, as the key expects)."""

    def run():
        parsed = report_targets.parse_setting(key, value)
        report_targets.set_settings(db.session, {key: parsed}, province=province, now=now())
        return parsed

    parsed = commit_or_fail(run)
    click.echo(f"{key} = {json.dumps(parsed)} ({province or 'mặc định / default'})")


@settings_cli.command("unset")
@click.argument("key")
@_PROVINCE
def unset_setting_command(key: str, province: str) -> None:
    """Remove a province's own value (it inherits the default again)."""
    removed = commit_or_fail(
        lambda: report_targets.clear_setting(db.session, key, province=province)
    )
    click.echo(f"{key}: {'removed' if removed else 'nothing to remove'}")
