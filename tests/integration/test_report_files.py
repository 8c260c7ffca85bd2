"""Reports written as files through the formats registry: the same bytes the pages send."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest


@pytest.mark.parametrize("suffix", [".html", ".json", ".xlsx", ".pdf"])
def test_the_programme_report_is_written_in_every_report_format(runner, tmp_path, suffix):
    out = tmp_path / f"chuong_trinh{suffix}"
    result = runner.invoke(args=["report", "programme", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    if suffix == ".html":  # one file, readable away from the server: the stylesheet inlined
        text = data.decode("utf-8")
        assert text.startswith("<!doctype html>") or text.lower().startswith("<!doctype html>")
        assert "<style>" in text and 'rel="stylesheet" href="/static/' not in text
        assert "<script" not in text  # printed pages carry no script
    elif suffix == ".json":
        assert json.loads(data)["kind"]
    elif suffix == ".xlsx":
        assert openpyxl.load_workbook(io.BytesIO(data)).sheetnames[0] == "Thông tin"
    else:
        assert data.startswith(b"%PDF")


def test_a_format_a_command_does_not_write_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(args=["report", "programme", "--out", str(tmp_path / "p.csv")])
    assert result.exit_code == 2
    assert "use a name ending in .json, .xlsx, .pdf, .html" in result.output
