"""Excel's ``_x000D_`` escape (a pasted line break) never shows literally (issue 12, case 7).

The escapes are written into the sheet XML as Excel writes them; the report (.docx) and the scored
workbook (read by openpyxl and by python-calamine) must show line breaks, never the escape.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
from click.testing import CliRunner
from office import calamine_sheets

from xlperf.cli import main
from xlperf.core.framework import get_framework
from xlperf.examples import example_evaluation
from xlperf.workbook.template import build_workbook

UNITS = "广州市白云区企业服务中心\n广州市白云区科技馆"
ESCAPED = "广州市白云区企业服务中心_x000D_\n广州市白云区科技馆"  # as Excel writes a pasted line break


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLPERF_HOME", str(tmp_path / "home"))


@pytest.fixture
def escaped(tmp_path: Path) -> Path:
    ev = example_evaluation()
    wb = build_workbook(get_framework(ev.framework), ev)
    assert wb["基本信息"]["B12"].value == UNITS
    wb["基本信息"]["B12"] = "PLACE1"
    original = str(wb["重点工作"]["D5"].value)
    wb["重点工作"]["D5"] = original[:20] + "PLACE2" + original[20:]
    buf = io.BytesIO()
    wb.save(buf)
    dest = tmp_path / "wb.xlsx"
    found = 0
    with (
        zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zin,
        zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout,
    ):
        for info in zin.infolist():
            data = zin.read(info)
            found += data.count(b"PLACE1") + data.count(b"PLACE2")
            data = data.replace(b"PLACE1", ESCAPED.encode()).replace(b"PLACE2", b"_x000D_\n")
            zout.writestr(info.filename, data)
    assert found == 2
    return dest


def test_escapes_become_line_breaks_everywhere(escaped: Path, tmp_path: Path) -> None:
    out, card, report = tmp_path / "out.xlsx", tmp_path / "card.json", tmp_path / "报告.docx"
    result: Any = CliRunner().invoke(
        main, ["run", str(escaped), "-o", str(out), "--json", str(card), "--docx", str(report)]
    )
    assert result.exit_code in (0, 1), result.output
    text = "\n".join(p.text for p in docx.Document(str(report)).paragraphs)
    text += "\n".join(c.text for t in docx.Document(str(report)).tables for row in t.rows for c in row.cells)
    assert "_x000D_" not in text and "x000D" not in text
    assert "广州市白云区企业服务中心" in text
    wb = openpyxl.load_workbook(out)
    # The clerk's cells are the clerk's bytes in the scored copy (issue 17: nothing of theirs is
    # rewritten). A reader that follows ECMA-376's ST_Xstring escapes, as Excel, WPS, LibreOffice
    # and calamine do, shows the pasted line break; openpyxl alone leaves the escape in.
    assert calamine_sheets(out)["基本信息"][11][1] == UNITS.replace("\n", "\r\n")
    d5 = str(calamine_sheets(out)["重点工作"][4][3])
    assert "_x000D_" not in d5 and "\n" in d5
    for sheet in ("评分汇总", "校验结果", "自评报告"):
        assert not any("_x000D_" in str(v) for row in wb[sheet].iter_rows(values_only=True) for v in row)
    assert "_x000D_" not in card.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("a_x000D_\nb", "a\nb"),
        ("a_x000D_b", "a\nb"),
        ("a_x000a_b", "a\nb"),
        ("_x005F_x000D_", "_x000D_"),
        ("_x0001_", "_x0001_"),
        ("_xFFFF_", "_xFFFF_"),
        ("无转义", "无转义"),
        ("_x4E2D_", "中"),
    ],
)
def test_unescape(raw: str, text: str) -> None:
    from xlperf.ooxml.stream import unescape_ooxml

    assert unescape_ooxml(raw) == text
