"""Configuration: every setting once, with its default, its type and one line of help.

Settings come from environment variables named ``TAPHUAN_<KEY>``. Parsing is strict: a value
that does not parse as the setting's type, or a ``TAPHUAN_`` variable that names no setting,
stops start-up with a :class:`ConfigError` naming the variable. Nothing here reads the
environment at import time; :func:`load_config` is called by ``create_app``.

This module imports nothing from ``server`` so that it can be read by scripts and tests alone.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PREFIX = "TAPHUAN_"

#: ``TAPHUAN_`` variables that are not settings: inputs to CLI commands and the test harness.
RESERVED_ENV = frozenset({"TAPHUAN_PASSWORD"})
RESERVED_ENV_PREFIXES = ("TAPHUAN_TEST_",)


class ConfigError(Exception):
    """A setting is unknown, malformed or missing; the message names the variable."""


def parse_bool(raw: str) -> bool:
    """Parse a boolean strictly: true/false, 1/0, yes/no, on/off (any case).

    :param raw: the variable's text.
    :return: the boolean.
    :raises ValueError: for anything else (no guessing).
    """
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected one of true/false, 1/0, yes/no, on/off")


def parse_int(raw: str) -> int:
    """Parse a non-negative integer; ``_`` separators are allowed (``100_000_000``).

    :param raw: the variable's text.
    :return: the integer.
    :raises ValueError: if it is not a whole number or is negative.
    """
    value = int(raw.strip())
    if value < 0:
        raise ValueError("must not be negative")
    return value


def parse_str(raw: str) -> str:
    """Keep text as it is, minus surrounding white space.

    :param raw: the variable's text.
    :return: the stripped text.
    """
    return raw.strip()


def parse_log_level(raw: str) -> str:
    """Parse a logging level name.

    :param raw: the variable's text.
    :return: the upper-case level name.
    :raises ValueError: if it is not a standard level.
    """
    value = raw.strip().upper()
    if value not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ValueError("expected DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return value


@dataclass(frozen=True)
class Setting:
    """One configuration key: its default, how to parse it from text, and what it is for."""

    name: str
    default: Any
    parse: Callable[[str], Any]
    help: str


# fmt: off
SETTINGS: tuple[Setting, ...] = (
    Setting("SECRET_KEY", "", parse_str,
            "Signs sessions and tokens; empty = read instance/secret_key (make run creates it)."),
    Setting("DATABASE_URL", "", parse_str,
            "SQLAlchemy URL; empty = SQLite file instance/taphuan.sqlite3. "
            "PostgreSQL: postgresql+psycopg://user:pass@host/db"),
    Setting("BASE_URL", "", parse_str,
            "Public URL of the service (used in links given to devices); empty = from request."),
    Setting("SQLITE_BUSY_TIMEOUT_MS", 15000, parse_int,
            "How long an SQLite writer waits for a lock before failing, in milliseconds."),
    Setting("FORMS_MAX_BYTES", 10 * 1024 * 1024, parse_int,
            "Largest XLSForm/XForm or form media file accepted for publishing, in bytes."),
    Setting("FORMS_MAX_UPLOAD_BYTES", 64 * 1024 * 1024, parse_int,
            "Largest upload of a form with its media files (page or API), in bytes; "
            "refused from its Content-Length before it is read."),
    Setting("FORMS_JAVA", "java", parse_str,
            "Java executable that runs ODK Validate (the jar bundled with pyxform)."),
    Setting("FORMS_VALIDATE_TIMEOUT", 120, parse_int,
            "Seconds ODK Validate may run on one form before publishing fails."),
    Setting("OPENROSA_MAX_BYTES", 100_000_000, parse_int,
            "Submission size advertised to Collect and enforced (plus multipart framing), bytes."),
    Setting("STORAGE_DIR", "", parse_str,
            "Folder for submission attachments (content-addressed); empty = instance/storage."),
    Setting("AUTH_REALM", "taphuan", parse_str,
            "Digest realm; stored password digests depend on it (reset passwords if changed)."),
    Setting("DIGEST_NONCE_SECONDS", 300, parse_int,
            "How long a Digest nonce may be reused (with increasing nc) before it is stale."),
    Setting("PROXY_HOPS", 0, parse_int,
            "Reverse proxies in front whose X-Forwarded-For/Proto/Host are trusted; 0 = none "
            "(set 1 behind one nginx that sets them; never when clients reach the app directly)."),
    Setting("ALLOWED_HOSTS", "", parse_str,
            "Comma-separated host names the service answers to (e.g. taphuan.syt.gov.vn); "
            "other Host headers get 400. Empty = any host."),
    Setting("SESSION_HOURS", 12, parse_int,
            "How long a page sign-in lasts, in hours, before the user must sign in again."),
    Setting("AUTH_MAX_FAILURES", 10, parse_int,
            "Wrong passwords for one account (page sign-in, Digest, Basic) before it is locked "
            "for AUTH_LOCK_SECONDS (answer 429)."),
    Setting("AUTH_MAX_FAILURES_PER_ADDRESS", 50, parse_int,
            "Wrong passwords from one network address, any account, before it is locked."),
    Setting("AUTH_LOCK_SECONDS", 900, parse_int,
            "Length of a lock, and of the window in which failures are counted, in seconds."),
    Setting("SUBMISSION_MAX_DEPTH", 100, parse_int,
            "Deepest element nesting accepted in a submission's XML (Collect's forms stay far "
            "below; deeper is refused as 400.1)."),
    Setting("SUBMISSION_MAX_ELEMENTS", 1_000_000, parse_int,
            "Most XML elements accepted in one submission (refused as 400.1 beyond)."),
    Setting("PAGE_UPLOAD_MAX_BYTES", 10 * 1024 * 1024, parse_int,
            "Largest file a page accepts where no other limit is set (units lists, enrolment "
            "lists, answer keys); a larger upload is refused (413) before it is read."),
    Setting("QUIET_DEVICE_DAYS", 7, parse_int,
            "The overview lists a tablet as quiet after this many days without a submission."),
    Setting("JOBS_WORKER", True, parse_bool,
            "Run background jobs (register imports, exports) in a thread of each app process; "
            "off = only in `flask --app wsgi jobs work` processes."),
    Setting("JOBS_LEASE_SECONDS", 120, parse_int,
            "How long a running job's claim holds without news before another worker retries "
            "it (its process died); progress and a heartbeat push it on."),
    Setting("JOBS_POLL_SECONDS", 2, parse_int,
            "How often an idle worker looks for queued jobs, in seconds."),
    Setting("ROSTER_MAX_BYTES", 64 * 1024 * 1024, parse_int,
            "Largest staff register file accepted on the register page, in bytes."),
    Setting("LOG_LEVEL", "INFO", parse_log_level,
            "Logging level of the service: DEBUG, INFO, WARNING, ERROR or CRITICAL."),
)
# fmt: on

#: Every key with its default; ``create_app`` starts from this mapping.
DEFAULTS: dict[str, Any] = {s.name: s.default for s in SETTINGS}
_BY_NAME = {s.name: s for s in SETTINGS}


def load_config(environ: Mapping[str, str], instance_path: str | os.PathLike[str]) -> dict:
    """Read settings from ``TAPHUAN_*`` variables and fill the instance-relative defaults.

    :param environ: the environment (``os.environ`` in production).
    :param instance_path: Flask's instance folder; the SQLite file and secret key live there.
    :return: a complete settings mapping (every key of :data:`DEFAULTS`).
    :raises ConfigError: for an unknown ``TAPHUAN_`` variable, a value that does not parse,
        or a missing secret key.
    """
    values = dict(DEFAULTS)
    for env_name, raw in environ.items():
        if not env_name.startswith(PREFIX) or _is_reserved(env_name):
            continue
        key = env_name[len(PREFIX) :]
        setting = _BY_NAME.get(key)
        if setting is None:
            raise ConfigError(f"{env_name}: unknown setting (known: {_known_names()})")
        try:
            values[key] = setting.parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{env_name}={raw!r}: {exc}") from exc

    instance = Path(instance_path)
    if not values["DATABASE_URL"]:
        values["DATABASE_URL"] = f"sqlite:///{instance / 'taphuan.sqlite3'}"
    if not values["STORAGE_DIR"]:
        values["STORAGE_DIR"] = str(instance / "storage")
    if not values["SECRET_KEY"]:
        key_file = instance / "secret_key"
        if key_file.is_file():
            values["SECRET_KEY"] = key_file.read_text(encoding="utf-8").strip()
        if not values["SECRET_KEY"]:
            raise ConfigError(
                f"{PREFIX}SECRET_KEY: not set and {key_file} is missing or empty "
                "(make run creates it; or export a long random value)"
            )
    return values


def validate(values: Mapping[str, Any]) -> None:
    """Check a complete settings mapping, whatever it came from (env or a test config).

    :param values: the settings.
    :raises ConfigError: naming the first key that is missing or of the wrong kind.
    """
    for setting in SETTINGS:
        if setting.name not in values:
            raise ConfigError(f"{PREFIX}{setting.name}: missing")
        value = values[setting.name]
        if type(value) is not type(setting.default):
            raise ConfigError(
                f"{PREFIX}{setting.name}: expected {type(setting.default).__name__}, "
                f"got {type(value).__name__}"
            )
    if not values["SECRET_KEY"]:
        raise ConfigError(f"{PREFIX}SECRET_KEY: must not be empty")
    url = urlsplit(values["DATABASE_URL"])
    if not url.scheme.startswith(("sqlite", "postgresql")):
        raise ConfigError(
            f"{PREFIX}DATABASE_URL: unsupported database {url.scheme!r} "
            "(use sqlite:///… or postgresql+psycopg://…)"
        )
    base = values["BASE_URL"]
    if base and (urlsplit(base).scheme not in {"http", "https"} or not urlsplit(base).netloc):
        raise ConfigError(f"{PREFIX}BASE_URL: {base!r} is not an absolute http(s) URL")
    if not values["AUTH_REALM"] or '"' in values["AUTH_REALM"]:
        raise ConfigError(f"{PREFIX}AUTH_REALM: must be non-empty and contain no quote")
    if not values["STORAGE_DIR"]:
        raise ConfigError(f"{PREFIX}STORAGE_DIR: must not be empty")
    for key in _AT_LEAST_ONE:
        if values[key] < 1:
            raise ConfigError(f"{PREFIX}{key}: must be at least 1")
    hosts = [h.strip() for h in values["ALLOWED_HOSTS"].split(",") if h.strip()]
    if any("/" in h or " " in h for h in hosts):
        raise ConfigError(f"{PREFIX}ALLOWED_HOSTS: host names only, separated by commas")
    if values["FORMS_VALIDATE_TIMEOUT"] < 1:
        raise ConfigError(f"{PREFIX}FORMS_VALIDATE_TIMEOUT: must be at least 1 second")


#: Counts and durations where 0 would switch a protection off or lock everyone out.
_AT_LEAST_ONE = (
    "SESSION_HOURS",
    "AUTH_MAX_FAILURES",
    "AUTH_MAX_FAILURES_PER_ADDRESS",
    "AUTH_LOCK_SECONDS",
    "SUBMISSION_MAX_DEPTH",
    "SUBMISSION_MAX_ELEMENTS",
    "FORMS_MAX_UPLOAD_BYTES",
    "JOBS_LEASE_SECONDS",
    "JOBS_POLL_SECONDS",
    "ROSTER_MAX_BYTES",
    "PAGE_UPLOAD_MAX_BYTES",
    "QUIET_DEVICE_DAYS",
)


def _is_reserved(env_name: str) -> bool:
    return env_name in RESERVED_ENV or env_name.startswith(RESERVED_ENV_PREFIXES)


def _known_names() -> str:
    return ", ".join(PREFIX + s.name for s in SETTINGS)
