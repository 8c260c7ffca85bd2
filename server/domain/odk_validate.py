"""Run ODK Validate, the JavaRosa form parser that ODK Collect itself uses, on an XForm.

pyxform's wheel ships ``ODK_Validate.jar``, so nothing is downloaded: we only need Java. We run
the jar ourselves instead of ``convert(validate=True)`` so that the Java executable and the
timeout are configurable, the same check applies to uploaded XForm XML, and a missing Java is a
clear catalogue error instead of an ``OSError``.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

from pyxform.validators.odk_validate import ODK_VALIDATE_PATH

from server.errors import FormValidationFailed, ValidatorUnavailable

_XPATH = re.compile(r"(?<![\w')/:])/[A-Za-z_][\w.\-]*(?:/[A-Za-z_][\w.\-]*)+")
_JAVA_NOISE = (
    "java.lang.RuntimeException: ",
    "org.javarosa.xpath.XPathUnhandledException: ",
    "org.javarosa.xform.parse.XFormParseException: ",
)
#: Lines about the validator's own run (our temp file name, its verdict banner): not the form's.
_RUN_LINES = re.compile(
    r"^(>> Xform is valid!|>> XForm is invalid\.|The following files failed validation:|Result: .*"
    r"|.*taphuan-validate-.*\.xml.*)$"
)
_BAD_NODE = re.compile(r"\s*Bad node: org\.javarosa\.\S+")


@dataclass(frozen=True)
class Finding:
    """One error ODK Validate reported, with what it names (for messages and for retrying)."""

    #: The validator's text, cleaned (used when the error has no recognisable shape).
    text: str
    #: Instance path of the question (``/data/g/age``), when the error names one.
    path: str | None = None
    #: Bind attribute at fault: constraint, relevant, required, readonly or calculate.
    attribute: str | None = None
    expression: str | None = None
    #: What went wrong while evaluating (``cannot handle function 'foo'``).
    detail: str | None = None
    #: Questions named in a dependency cycle.
    cycle: tuple[str, ...] = ()


def validate_xform(
    xml: bytes,
    *,
    java: str = "java",
    timeout: int = 120,
    locate: Callable[[str], str | None] | None = None,
    limit: int = 10,
) -> list[str]:
    """Check an XForm with ODK Validate, reporting every error it can find.

    JavaRosa stops at the first error. When that error is a bind expression, the expression is
    taken out of a copy of the form and the validator runs again (at most ``limit`` runs), so
    an author sees every bad expression at once instead of one per attempt. Results are
    remembered per (XML, java) in this process: the verdict on the same bytes cannot change,
    and starting a JVM costs about half a second.

    :param xml: the XForm bytes exactly as they will be served.
    :param java: the Java executable (a name looked up on PATH, or a path).
    :param timeout: seconds each validator run may take.
    :param locate: turns an instance path into the place the author edits
        ("row 4 (question 'age')"); without it, or when it returns None, the question is named
        by its path.
    :param limit: the most validator runs spent on one form.
    :return: ODK Validate's warnings (usually none).
    :raises FormValidationFailed: the form is invalid; one line per error, each naming its
        question; ``details["problems"]`` has them structured.
    :raises ValidatorUnavailable: Java is missing or the validator did not finish in time.
    """
    warnings, findings = _validate_cached(xml, java, timeout, limit)
    if findings:
        lines = [describe(f, locate) for f in findings]
        raise FormValidationFailed(
            validator_output=lines,
            problems=[
                {"message": line, "path": f.path, "attribute": f.attribute}
                for line, f in zip(lines, findings, strict=True)
            ],
        )
    return list(warnings)


@functools.lru_cache(maxsize=64)
def _validate_cached(
    xml: bytes, java: str, timeout: int, limit: int
) -> tuple[tuple[str, ...], tuple[Finding, ...]]:
    findings: list[Finding] = []
    current = xml
    for _ in range(limit):
        returncode, stderr = _run(current, java, timeout)
        if returncode == 0:
            return (tuple(clean_validator_output(stderr)) if not findings else ()), tuple(findings)
        finding = parse_failure(stderr, returncode)
        findings.append(finding)
        following = _without_expression(current, finding)
        if following is None:
            break
        current = following
    return (), tuple(findings)


def _run(xml: bytes, java: str, timeout: int) -> tuple[int, str]:
    java_path = shutil.which(java)
    if java_path is None:
        raise ValidatorUnavailable(reason="no_java", java=java)
    fd, path = tempfile.mkstemp(suffix=".xml", prefix="taphuan-validate-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(xml)
        try:
            # The command is fixed: our jar and a temp file we created; no shell, no user text.
            result = subprocess.run(  # noqa: S603
                [java_path, "-Djava.awt.headless=true", "-jar", ODK_VALIDATE_PATH, path],
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ValidatorUnavailable(reason="timeout", timeout=timeout) from exc
    finally:
        os.unlink(path)
    return result.returncode, result.stderr.decode("utf-8", errors="replace")


#: JavaRosa's messages for a bind expression that does not parse, and for one that fails
#: when the form is first evaluated (org.javarosa.xform.parse.*, FormDef.initialize).
_BIND_SYNTAX = re.compile(
    r"bind for (?P<path>/\S+) contains invalid (?P<attr>[\w:]+) expression "
    r"\[(?P<expr>.*)\](?: null| Bad node: \S+)?$"
)
_CONDITION = re.compile(
    r"Encountered a problem with (?P<attr>[\w-]+) condition for node \[(?P<path>[^\]]+)\] "
    r"at line: (?P<expr>.*?),?(?: Bad node: \S+)?$"
)
_CALCULATE = re.compile(
    r'Invalid calculate for the bind attached to "(?P<path>[^"]+)" :\s*'
    r"(?:(?:Bad node: \S+ )?in expression\s+)?(?P<expr>.*)$"
)
_EVALUATION = re.compile(
    r"Error evaluating field '[^']*' \((?P<path>[^)]+)\): The problem was located in "
    r"(?P<attr>[\w ]+?) expression for \S+\s*\nXPath evaluation: (?P<detail>.*)$",
    re.MULTILINE,
)
_CYCLE = "Cycle detected in form's relevant and calculation logic!"
#: JavaRosa's words for bind attributes → the attribute (and XLSForm column) they mean.
_ATTRIBUTES = {
    "display": "relevant",
    "relevant": "relevant",
    "relevancy": "relevant",
    "require": "required",
    "required": "required",
    "readonly": "readonly",
    "read-only": "readonly",
    "read only": "readonly",
    "calculate": "calculate",
    "constraint": "constraint",
}
_ATTRIBUTE_COLUMNS = {"readonly": "read_only", "calculate": "calculation"}


def parse_failure(stderr: str, returncode: int = 1) -> Finding:
    """Read the first error out of a failed validator run.

    :param stderr: the validator's stderr.
    :param returncode: its exit status (named when the output says nothing).
    :return: the error, with its question and expression when JavaRosa names them.
    """
    lines = clean_validator_output(stderr, keep_paths=True)
    text = "\n".join(lines)
    for line in lines:
        for pattern in (_BIND_SYNTAX, _CONDITION, _CALCULATE):
            match = pattern.search(line)
            if match:
                attr = match.group("attr") if "attr" in pattern.groupindex else "calculate"
                return Finding(
                    text=_readable(line),
                    path=match.group("path").strip(),
                    attribute=_ATTRIBUTES.get(attr.lower(), attr),
                    expression=match.group("expr").strip(),
                )
    match = _EVALUATION.search(text)
    if match:
        return Finding(
            text=_readable(text),
            path=re.sub(r"\[\d+\]", "", match.group("path")).strip(),
            attribute=_ATTRIBUTES.get(match.group("attr").lower(), match.group("attr").lower()),
            detail=match.group("detail").strip(),
        )
    if _CYCLE in text:
        nodes = [line.strip() for line in lines if line.strip().startswith("/")]
        return Finding(text=_readable(text), cycle=tuple(dict.fromkeys(nodes)))
    return Finding(text=_readable(text) or f"exit status {returncode}")


def describe(finding: Finding, locate: Callable[[str], str | None] | None = None) -> str:
    """One line for a form author: where the error is (row and question), and what it is.

    :param finding: an error from :func:`parse_failure`.
    :param locate: instance path → place in the XLSForm, or None.
    :return: the sentence.
    """

    def where(path: str) -> str:
        found = locate(path) if locate is not None else None
        return found or f"question '{path}'"

    if finding.path and finding.expression is not None:
        column = _ATTRIBUTE_COLUMNS.get(finding.attribute or "", finding.attribute)
        return (
            f"{where(finding.path)}: the {column} expression is not valid XPath: "
            f"{' '.join(_readable(finding.expression).split())}"
        )
    if finding.path and finding.detail:
        column = _ATTRIBUTE_COLUMNS.get(finding.attribute or "", finding.attribute)
        return f"{where(finding.path)}: the {column} expression fails: {finding.detail}"
    if finding.cycle:
        return "calculations or relevance conditions depend on each other in a cycle: " + ", ".join(
            where(p) for p in finding.cycle
        )
    return finding.text


_BIND_ELEMENT = re.compile(rb"<(?:[\w.-]+:)?bind\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")


def _without_expression(xml: bytes, finding: Finding) -> bytes | None:
    """A copy of the form with the faulty bind attribute removed, to look for further errors.

    The edit is made on the bytes (not by re-serialising a parsed tree) so that namespace
    prefixes, which XPath expressions in other attributes rely on, stay as they are.
    """
    if not finding.path or not finding.attribute:
        return None
    nodeset = re.compile(rb"\snodeset\s*=\s*([\"'])" + re.escape(finding.path.encode()) + rb"\1")
    attribute = re.compile(
        rb"\s" + re.escape(finding.attribute.encode()) + rb"\s*=\s*(?:\"[^\"]*\"|'[^']*')"
    )
    for match in _BIND_ELEMENT.finditer(xml):
        element = match.group(0)
        if nodeset.search(element) and attribute.search(element):
            edited = attribute.sub(b"", element, count=1)
            return xml[: match.start()] + edited + xml[match.end() :]
    return None


def _readable(text: str) -> str:
    return _XPATH.sub(lambda m: "${" + m.group(0).rsplit("/", 1)[1] + "}", text)


def clean_validator_output(text: str, *, keep_paths: bool = False) -> list[str]:
    """Turn ODK Validate's stderr into lines a form author can read.

    Java stack frames and exception class prefixes are dropped, repeated lines collapse, and
    instance paths become XLSForm references (``/data/g1/age`` → ``${age}``).

    :param text: the validator's stderr.
    :param keep_paths: leave instance paths as they are (to find the question they name).
    :return: the cleaned lines, in order.
    """
    lines: list[str] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("at ") or ".java:" in line:
            continue
        if _RUN_LINES.match(line.strip()):
            continue
        line = _BAD_NODE.sub("", line)
        for prefix in _JAVA_NOISE:
            line = line.replace(prefix, "")
        if not keep_paths:
            line = _readable(line)
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines
