"""``flask --app wsgi jobs work``: run background jobs in a process of their own.

The app's processes run jobs in a thread already (``TAPHUAN_JOBS_WORKER``); a separate worker
is for PostgreSQL deployments that want the work off the web machines, or more of it at once.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from server import worker

jobs_cli = AppGroup("jobs", help="Background jobs (register imports, exports).")


@jobs_cli.command("work")
@click.option("--once", is_flag=True, help="Run the jobs waiting now, then stop.")
def work_command(once: bool) -> None:
    """Run queued jobs until stopped (Ctrl-C), or only those waiting with --once."""
    app = current_app._get_current_object()  # the app, not its proxy
    if once:
        count = 0
        while worker.work_once(app) is not None:
            count += 1
        click.echo(f"{count} job(s) run")
        return
    click.echo("chạy công việc nền / running background jobs (Ctrl-C to stop)")
    try:
        worker.worker_of(app).loop()
    except KeyboardInterrupt:
        click.echo("dừng / stopped")
