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


def validate_xform(xml: bytes, *, java: str = "java", timeout: int = 120) -> list[str]:
    """Check an XForm with ODK Validate.

    Results are remembered per (XML, java) in this process: the verdict on the same bytes
    cannot change, and starting a JVM costs about half a second.

    :param xml: the XForm bytes exactly as they will be served.
    :param java: the Java executable (a name looked up on PATH, or a path).
    :param timeout: seconds the validator may run.
    :return: ODK Validate's warnings (usually none).
    :raises FormValidationFailed: the form is invalid; the message is the validator's, cleaned.
    :raises ValidatorUnavailable: Java is missing or the validator did not finish in time.
    """
    return list(_validate_cached(xml, java, timeout))


@functools.lru_cache(maxsize=64)
def _validate_cached(xml: bytes, java: str, timeout: int) -> tuple[str, ...]:
    java_path = shutil.which(java)
    if java_path is None:
        raise ValidatorUnavailable(
            f"Java was not found ({java!r}); ODK Validate needs Java 8 or newer. "
            "Install it (apt-get install default-jre-headless) or set TAPHUAN_FORMS_JAVA.",
            java=java,
        )
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
            raise ValidatorUnavailable(
                f"ODK Validate did not finish within {timeout} s", timeout=timeout
            ) from exc
    finally:
        os.unlink(path)
    stderr = result.stderr.decode("utf-8", errors="replace")
    if result.returncode != 0:
        lines = clean_validator_output(stderr) or [f"exit status {result.returncode}"]
        raise FormValidationFailed("\n".join(lines), validator_output=lines)
    return tuple(clean_validator_output(stderr))


def clean_validator_output(text: str) -> list[str]:
    """Turn ODK Validate's stderr into lines a form author can read.

    Java stack frames and exception class prefixes are dropped, repeated lines collapse, and
    instance paths become XLSForm references (``/data/g1/age`` → ``${age}``).

    :param text: the validator's stderr.
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
        line = _XPATH.sub(lambda m: "${" + m.group(0).rsplit("/", 1)[1] + "}", line)
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines
