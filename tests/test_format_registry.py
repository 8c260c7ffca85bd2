"""One path for files out: nothing outside the formats registry switches on a format's name.

Every file the server writes (API downloads, report downloads, the register's files, CLI
output) picks its :class:`exports.Format` from ``exports/formats.py`` and lets it write. This
test walks the source and fails on the old habits: comparing with a format's name or suffix
(``fmt == "csv"``, ``suffix in (".json", ".pdf")``, ``out.endswith(".xlsx")``, ``case "zip"``),
indexing by one, or listing several formats by hand. Readers of uploaded files (a register,
an XLSForm, an answer key) recognise *input* types; they are listed below, with the reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

from harness import ROOT

NAMES = ("csv", "xlsx", "zip", "json", "pdf", "html")
WORDS = {word for name in NAMES for word in (name, f".{name}")}
REGISTRY = ROOT / "exports" / "formats.py"
#: Code that reads uploads by their type, not code that writes files.
READERS = {
    "server/cli/forms.py": "finds XLSForm sources in a folder by their type",
    "server/domain/roster.py": "reads an uploaded register (XLSX or CSV)",
    "server/domain/xlsform.py": "reads an uploaded XLSForm (XLSX, XLS, CSV, Markdown)",
    "server/domain/xforms.py": "'html' is the XForm's root element, not a file format",
    "server/services/answer_keys.py": "reads an uploaded answer key (XLSX or CSV)",
    "server/services/forms.py": "the media type of a form's attached list file",
}


def _words(node: ast.AST) -> list[str]:
    values = node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else [node]
    return [
        v.value
        for v in values
        if isinstance(v, ast.Constant) and isinstance(v.value, str) and v.value.lower() in WORDS
    ]


def switches(path: Path) -> list[str]:
    """Places in a module that decide something by a format's name."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        words: list[str] = []
        if isinstance(node, ast.Compare):
            for operand in (node.left, *node.comparators):
                words += _words(operand)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in ("endswith", "startswith", "removesuffix"):
                for argument in node.args:
                    words += _words(argument)
        elif isinstance(node, ast.MatchValue | ast.Subscript):
            words += _words(node.value if isinstance(node, ast.MatchValue) else node.slice)
        elif isinstance(node, ast.Tuple | ast.List | ast.Set) and len(_words(node)) >= 2:
            words += _words(node)  # formats listed by hand
        if words:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {sorted(set(words))}")
    return found


def test_the_registry_is_the_only_place_that_knows_format_names():
    files = sorted((ROOT / "server").rglob("*.py")) + sorted((ROOT / "exports").rglob("*.py"))
    assert REGISTRY in files
    offending = [
        place
        for path in files
        if path != REGISTRY and str(path.relative_to(ROOT)) not in READERS
        for place in switches(path)
    ]
    assert offending == []


def test_the_check_sees_the_old_habits(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "if fmt == 'csv': pass\n"
        "if out.suffix.lower() in ('.json', '.pdf'): pass\n"
        "if name.endswith('.XLSX'): pass\n"
        "TYPES = ('.json', '.xlsx', '.pdf')\n"
        "media = FORMATS['zip']\n"
        "match fmt:\n    case 'html': pass\n",
        encoding="utf-8",
    )
    sample = sample.rename(ROOT / "tests" / f"_sample_{tmp_path.name}.py")
    try:
        lines = [place.split(":")[1] for place in switches(sample)]
    finally:
        sample.unlink()
    assert sorted(set(lines), key=int) == ["1", "2", "3", "4", "5", "7"]


def test_every_reader_listed_still_reads_by_type():
    for name in READERS:
        assert switches(ROOT / name), f"{name} no longer needs its exemption"
