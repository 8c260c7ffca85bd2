"""Import rules of ARCHITECTURE.md, checked on the source (no import-linter needed)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

HTTP_AND_DB = ("flask", "flask_sqlalchemy", "flask_migrate", "sqlalchemy", "requests", "werkzeug")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def python_files(*parts: str) -> list[Path]:
    return sorted((ROOT.joinpath(*parts)).rglob("*.py"))


def offending(files: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}: {name}"
        for path in files
        for name in imports_of(path)
        if name.split(".")[0] in forbidden
    ]


def test_domain_is_pure():
    files = python_files("server", "domain")
    assert files
    assert offending(files, HTTP_AND_DB) == []
    server_imports = [
        f"{p.relative_to(ROOT)}: {n}"
        for p in files
        for n in imports_of(p)
        if n.startswith("server.") and not n.startswith(("server.errors", "server.domain"))
    ]
    assert server_imports == []


@pytest.mark.parametrize("package", ["exports"])
def test_exports_know_nothing_of_the_server(package):
    assert offending(python_files(package), (*HTTP_AND_DB, "server")) == []


def test_services_do_not_speak_http():
    found = offending(python_files("server", "services"), ("flask", "werkzeug", "requests"))
    # werkzeug.security is password hashing, not HTTP.
    assert [f for f in found if not f.endswith("werkzeug.security")] == []


def test_only_the_factory_imports_the_web_layer():
    users = [
        str(p.relative_to(ROOT))
        for p in python_files("server")
        if "web" not in p.relative_to(ROOT).parts
        and any(n == "server.web" or n.startswith("server.web.") for n in imports_of(p))
    ]
    assert users == []
    factory = (ROOT / "server" / "__init__.py").read_text()
    assert "from server import cli, database, web" in factory


def test_config_imports_nothing_from_the_server():
    assert not any(n.startswith("server") for n in imports_of(ROOT / "config.py"))


def test_commit_happens_only_in_views_and_cli():
    for path in python_files("server", "services") + python_files("server", "domain"):
        assert ".commit()" not in path.read_text(encoding="utf-8"), path


def test_no_catch_all_modules():
    names = {p.name for p in python_files("server")} | {p.name for p in python_files("exports")}
    assert not names & {"utils.py", "helpers.py", "misc.py"}


def _catalogue_calls():
    """Every construction of a catalogue error outside the catalogue: (where, class, call)."""
    from server import errors

    classes = {cls.__name__: cls for cls in errors.catalogue()}
    for path in python_files("server") + python_files("exports"):
        if "errors" in path.relative_to(ROOT).parts[:2]:
            continue  # the catalogue itself (server/errors/)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in classes:
                yield f"{path.relative_to(ROOT)}:{node.lineno}", classes[name], node


def test_raise_sites_pass_details_only():
    """No sentence at a raise site: the catalogue words every message (server/errors/)."""
    calls = list(_catalogue_calls())
    assert len(calls) > 100  # the walk finds the raise sites
    worded = [
        f"{where} {cls.__name__}"
        for where, cls, call in calls
        if call.args or any(k.arg in {"message", "message_vi"} for k in call.keywords)
    ]
    assert worded == []


def test_raise_sites_give_every_detail_their_template_names():
    """Where a raise site's template is known from its source, it gives each placeholder."""
    from server.errors.messages import Template

    missing = []
    for where, cls, call in _catalogue_calls():
        given = {k.arg for k in call.keywords}
        if None in given:
            continue  # **details: checked when the code runs (strict templates in tests)
        reason = next((k.value for k in call.keywords if k.arg == "reason"), None)
        if isinstance(cls.template, Template):
            template = cls.template
        elif reason is None or isinstance(reason, ast.Constant):
            key = reason.value if reason is not None else None
            template = cls.template.get(key)
            if template is None:
                missing.append(f"{where} {cls.__name__}: no template for reason {key!r}")
                continue
        else:
            continue  # a reason chosen at run time: checked when the code runs
        lacking = Template(en=template.en, vi="").placeholders() - given
        if lacking:
            missing.append(f"{where} {cls.__name__}: {sorted(lacking)}")
    assert missing == []
