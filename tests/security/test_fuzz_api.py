"""Fuzzing the JSON API from its own OpenAPI document (Schemathesis) against a real server.

The production path: a migrated database (SQLite, and PostgreSQL when the suite has one), the CLI publishing a form and issuing an admin
token, gunicorn serving on a free loopback port. Every operation of ``/api/v1/openapi.json`` is
called with generated valid and invalid parameters and bodies; the one property checked is
that no answer is a server error (5xx). Path values sometimes name things that exist (the
published form, its submission, a course), so the checks behind "not found" are reached too.

Bounded in time: few examples per operation, derandomised (identical on every run);
``TAPHUAN_TEST_FUZZ_EXAMPLES`` raises the count for a longer hunt.
"""

from __future__ import annotations

import io
import json
import os
import zlib

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from harness.cli import app_env, flask
from harness.databases import BACKENDS
from harness.gunicorn import Gunicorn
from tests.factories import DATA, OR

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("TAPHUAN_TEST_FUZZ_EXAMPLES", "8"))
#: Values that exist on the server, used for about half the generated path values.
EXISTING = {"form_id": "mini", "submission_id": 1, "code": "FUZZ-01", "version": "2026010101"}
SUBMISSION = (
    b'<data id="mini" version="2026010101"><full_name>Lan</full_name><age>30</age><ok>yes</ok>'
    b"<photo>a.jpg</photo><meta><instanceID>uuid:fuzz-1</instanceID></meta></data>"
)


@pytest.fixture(scope="module", params=BACKENDS)
def server(request, databases, tmp_path_factory):
    """A gunicorn serving a migrated database with a form, a submission and a course.

    Both backends: some values (a NUL character) only fail on PostgreSQL.
    """
    folder = tmp_path_factory.mktemp("fuzz-api")
    url = (
        f"sqlite:///{folder / 'taphuan.sqlite3'}"
        if request.param == "sqlite"
        else databases.empty(request.param)
    )
    env = app_env(url, folder / "storage", secret_key="fuzz", LOG_LEVEL="WARNING")
    try:
        flask(["db", "upgrade"], env)
        flask(["forms", "publish", str(DATA / "forms" / "mini.md")], env)
        flask(
            ["users", "create", "admin", "--role", "admin"], {**env, "TAPHUAN_PASSWORD": "x" * 12}
        )
        token = flask(["users", "token", "admin"], env).strip().splitlines()[-1]
        device = flask(["devices", "create", "fuzz", "--form", "mini", "--json"], env)
        device_token = json.loads(device)["token"]
        log_path = folder / "gunicorn.log"
        with Gunicorn(env, log_path, workers=1, worker_class="gthread", threads=4) as server:
            headers = {"Authorization": f"Bearer {token}"}
            _seed(server.url, device_token, headers)
            yield {"base": server.url, "headers": headers, "log": log_path}
    finally:
        databases.drop(url)


def _seed(base: str, device_token: str, headers: dict) -> None:
    files = {
        "xml_submission_file": ("submission.xml", io.BytesIO(SUBMISSION), "text/xml"),
        "a.jpg": ("a.jpg", io.BytesIO(b"\xff\xd8jpeg"), "image/jpeg"),
    }
    sent = requests.post(
        f"{base}/key/{device_token}/submission", files=files, headers=OR, timeout=30
    )
    assert sent.status_code == 201, sent.text
    course = {
        "code": EXISTING["code"],
        "title": "Fuzz",
        "course_type": "tap_huan",
        "start_date": "2026-09-07",
        "end_date": "2026-09-09",
    }
    created = requests.post(f"{base}/api/v1/courses", json=course, headers=headers, timeout=30)
    assert created.status_code == 201, created.text


def operations(base: str):
    """Every operation of the served OpenAPI document."""
    schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize(
    "mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"]
)
def test_no_api_operation_answers_a_server_error(server, mode):
    """Generated requests, valid or not, to every operation: none may get a 5xx."""
    failures: list[str] = []
    for operation in operations(server["base"]):

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def call(case):
            seed = zlib.crc32(repr((case.path_parameters, case.query, case.headers)).encode())
            for name, value in EXISTING.items():
                if (case.path_parameters or {}).get(name) is not None and seed % 2:
                    case.path_parameters[name] = value
            if case.headers and seed % 4:  # most cases use the admin token, a few fuzz it
                case.headers.pop("Authorization", None)
            response = case.call(
                base_url=f"{server['base']}/api/v1", headers=server["headers"], timeout=60
            )
            if response.status_code >= 500:
                failures.append(f"{response.status_code} {case.as_curl_command()}")

        call()
    log = server["log"].read_text(errors="replace")
    assert failures == [], "\n".join(failures) + "\n" + log[-3000:]
