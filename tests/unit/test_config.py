"""Configuration: strict parsing, unknown keys refused, the secret key found or demanded."""

import pytest

import config
from server import create_app
from tests.factories import make_config


def load(env, tmp_path):
    return config.load_config(env, tmp_path)


def test_defaults_fill_instance_paths(tmp_path):
    (tmp_path / "secret_key").write_text("s3cret\n")
    values = load({"PATH": "/bin"}, tmp_path)
    assert values["SECRET_KEY"] == "s3cret"
    assert values["DATABASE_URL"] == f"sqlite:///{tmp_path / 'taphuan.sqlite3'}"
    assert values["FORMS_MAX_BYTES"] == 10 * 1024 * 1024


def test_environment_values_are_parsed_by_type(tmp_path):
    values = load(
        {
            "TAPHUAN_SECRET_KEY": "k",
            "TAPHUAN_FORMS_MAX_BYTES": "1_000",
            "TAPHUAN_LOG_LEVEL": "debug",
            "TAPHUAN_DATABASE_URL": "postgresql+psycopg://u@h/db",
        },
        tmp_path,
    )
    assert values["FORMS_MAX_BYTES"] == 1000
    assert values["LOG_LEVEL"] == "DEBUG"
    assert values["DATABASE_URL"] == "postgresql+psycopg://u@h/db"


def test_unknown_taphuan_variable_stops_startup(tmp_path):
    with pytest.raises(config.ConfigError, match="TAPHUAN_DATABSE_URL: unknown setting"):
        load({"TAPHUAN_SECRET_KEY": "k", "TAPHUAN_DATABSE_URL": "x"}, tmp_path)


def test_reserved_variables_are_not_settings(tmp_path):
    values = load(
        {"TAPHUAN_SECRET_KEY": "k", "TAPHUAN_PASSWORD": "pw", "TAPHUAN_TEST_POSTGRES_URL": "x"},
        tmp_path,
    )
    assert "PASSWORD" not in values


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("TAPHUAN_FORMS_MAX_BYTES", "ten", "TAPHUAN_FORMS_MAX_BYTES='ten'"),
        ("TAPHUAN_FORMS_MAX_BYTES", "-1", "must not be negative"),
        ("TAPHUAN_LOG_LEVEL", "loud", "expected DEBUG, INFO"),
        ("TAPHUAN_SQLITE_BUSY_TIMEOUT_MS", "1.5", "TAPHUAN_SQLITE_BUSY_TIMEOUT_MS"),
    ],
)
def test_bad_values_name_the_variable(tmp_path, name, raw, message):
    with pytest.raises(config.ConfigError, match=message):
        load({"TAPHUAN_SECRET_KEY": "k", name: raw}, tmp_path)


@pytest.mark.parametrize("raw", ["maybe", "2", ""])
def test_parse_bool_is_strict(raw):
    with pytest.raises(ValueError, match="expected one of"):
        config.parse_bool(raw)


@pytest.mark.parametrize(("raw", "value"), [("Yes", True), ("0", False), (" on ", True)])
def test_parse_bool_accepts_the_usual_words(raw, value):
    assert config.parse_bool(raw) is value


def test_missing_secret_key_is_an_error(tmp_path):
    with pytest.raises(config.ConfigError, match="TAPHUAN_SECRET_KEY: not set"):
        load({}, tmp_path)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"DATABASE_URL": "mysql://x/y"}, "unsupported database 'mysql'"),
        ({"BASE_URL": "example.org"}, "TAPHUAN_BASE_URL: 'example.org' is not an absolute"),
        ({"FORMS_MAX_BYTES": "10"}, "TAPHUAN_FORMS_MAX_BYTES: expected int, got str"),
        ({"SECRET_KEY": ""}, "TAPHUAN_SECRET_KEY: must not be empty"),
        ({"FORMS_VALIDATE_TIMEOUT": 0}, "at least 1 second"),
    ],
)
def test_validate_refuses_bad_complete_configs(tmp_path, override, message):
    values = make_config(f"sqlite:///{tmp_path}/x.db", tmp_path / "storage", **override)
    with pytest.raises(config.ConfigError, match=message):
        config.validate(values)


def test_create_app_reads_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TAPHUAN_SECRET_KEY", "from-env")
    monkeypatch.setenv("TAPHUAN_DATABASE_URL", f"sqlite:///{tmp_path}/env.db")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.db")


def test_create_app_refuses_unknown_environment_key(monkeypatch):
    monkeypatch.setenv("TAPHUAN_SECRET_KEY", "k")
    monkeypatch.setenv("TAPHUAN_NOPE", "1")
    with pytest.raises(config.ConfigError, match="TAPHUAN_NOPE"):
        create_app()


def test_test_config_replaces_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TAPHUAN_NOPE", "1")  # would be fatal if the env were read
    app = create_app(make_config(f"sqlite:///{tmp_path}/t.db", tmp_path / "storage"))
    assert app.config["SECRET_KEY"] == "test-secret"
