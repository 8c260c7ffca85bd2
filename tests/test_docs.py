"""The README promises things; these tests keep the promises true."""

from __future__ import annotations

import re

import config
from harness import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands():
    opening = README[:1500]
    assert "make run" in opening
    assert "make test" in opening


def test_every_setting_is_documented_in_the_readme():
    for setting in config.SETTINGS:
        assert f"`{config.PREFIX}{setting.name}`" in README, setting.name


def test_readme_documents_no_setting_that_does_not_exist():
    documented = set(re.findall(r"`TAPHUAN_([A-Z0-9_]+)`", README))
    known = {s.name for s in config.SETTINGS} | {"PASSWORD"}
    reserved = {name for name in documented if name.startswith("TEST_")}
    assert documented - reserved <= known


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [line for line in ci.splitlines() if line.strip() and not line.startswith("#")]
    assert "make test" in commands


def test_every_cli_command_in_the_readme_exists():
    from server.cli import COMMANDS, GROUPS

    groups = {group.name: group for group in GROUPS}
    commands = {command.name for command in COMMANDS}
    found = re.findall(r"flask --app wsgi (\w+) ([a-z-]+)", README)
    assert {g for g, _ in found} >= {"forms", "units", "users", "devices"}
    for group, command in found:
        if group == "db" or group in commands:
            continue  # Flask-Migrate's group; single commands such as export
        assert command in groups[group].commands, f"{group} {command}"


def test_every_error_code_is_in_the_readme():
    from server.errors import catalogue

    for cls in catalogue():
        if "." in cls.code:
            assert f"| `{cls.code}` |" in README, cls.__name__
