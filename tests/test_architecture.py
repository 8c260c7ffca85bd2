"""Import rules of ARCHITECTURE.md, checked on the source (no import-linter needed)."""

from __future__ import annotations

import ast
import fnmatch
import re
import tomllib
from pathlib import Path

import pytest

from harness import ROOT

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


#: The intake owns its unit of work: commit, retry on the race, then the projections.
UNITS_OF_WORK = {"intake.py"}


def test_commit_happens_only_in_views_cli_and_the_intake():
    for path in python_files("server", "services") + python_files("server", "domain"):
        if path.name in UNITS_OF_WORK:
            continue
        assert ".commit()" not in path.read_text(encoding="utf-8"), path


def test_the_intake_is_the_only_road_in():
    """Only the intake stores submissions; surfaces and tools call the intake."""
    store_steps = ("store_submission", "receive_submission")
    users = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in python_files("server")
        if path.name not in {"intake.py", "submissions.py"}
        for name in store_steps
        if re.search(rf"\b{name}\b", path.read_text(encoding="utf-8"))
    ]
    assert users == []
    projections = ("project_submission", "project_needs")
    runners = [
        str(path.relative_to(ROOT))
        for path in python_files("server", "web") + python_files("server", "cli")
        for name in projections
        if name in path.read_text(encoding="utf-8")
    ]
    assert runners == []


def test_no_catch_all_modules():
    names = {p.name for p in python_files("server")} | {p.name for p in python_files("exports")}
    assert not names & {"utils.py", "helpers.py", "misc.py"}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, relative imports resolved, ``from a import b`` as ``a.b``."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def test_no_test_imports_from_a_test_module_or_a_conftest():
    """Shared fixtures belong in an enclosing conftest.py, shared builders in tests/factories.py.

    Importing a fixture from another package's conftest registers it twice and needs a
    ``noqa`` on every use; importing from a test module runs that module's tests' set-up code.
    """
    found = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in python_files("tests")
        for name in imported_modules(path)
        if name.startswith("tests.")
        and any(part == "conftest" or part.startswith("test_") for part in name.split(".")[1:])
    ]
    assert found == []


def test_the_harness_is_not_shipped_and_knows_nothing_of_the_server():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    assert not any(fnmatch.fnmatch("harness", pattern) for pattern in include)
    assert offending(python_files("harness"), ("server", "exports", "flask", "tests")) == []


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
