"""Issue 25: a clerk's long answer is whole on screen and in print.

The template fixes no height on a row a clerk types into (Excel, WPS and LibreOffice grow such a row
as the answer grows); every copy xlperf writes — the scored workbook and the 报送 workbook frozen
from it — sizes the clerk's rows from what they hold. Checked on the sheet XML and, for print,
by LibreOffice's own PDF of the workbook: the whole answer is in its text.
"""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from office import soffice

from xlperf.cli import main
from xlperf.core.framework import get_framework
from xlperf.examples import example_evaluation
from xlperf.workbook import layout as L
from xlperf.workbook.printing import needed_row_heights, shared_strings, style_looks
from xlperf.workbook.template import build_workbook, save_workbook

LONG = (
    "受区体育中心场馆改造影响，原计划在体育中心举办的全民健身系列赛事改在其他场馆分散举办，参赛人数较计划"
    "减少约三成，另有两场赛事顺延至次年一季度举办，相关经费已按程序调整。"
)
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _sheet_parts(path: Path) -> dict[str, bytes]:
    """Sheet name → its worksheet part's bytes."""
    with zipfile.ZipFile(path) as zf:
        wb = zf.read("xl/workbook.xml").decode()
        rels = zf.read("xl/_rels/workbook.xml.rels").decode()
        targets = dict(re.findall(r'Id="(rId\d+)"[^>]*Target="/?(?:xl/)?([^"]+)"', rels))
        targets.update({k: v for v, k in re.findall(r'Target="/?(?:xl/)?([^"]+)"[^>]*Id="(rId\d+)"', rels)})
        out = {}
        for name, rid in re.findall(r'<sheet [^>]*name="([^"]+)"[^>]*r:id="(rId\d+)"', wb):
            out[name] = zf.read("xl/" + targets[rid])
        return out


def _filled(tmp_path: Path, fixed: float | None = None) -> Path:
    """The seed without errors, 序号22's 未达标原因 a long answer; ``fixed``: every row of every sheet
    given that height (a workbook from an older template, whose rows all had fixed heights)."""
    ev = example_evaluation()
    ev.outputs[21].shortfall_reason = LONG
    for i in (7, 16, 20):
        ev.outputs[i].excess_reason = "年初目标设置偏保守"
    path = save_workbook(build_workbook(get_framework(), ev), tmp_path / "filled.xlsx")
    if fixed is not None:
        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            for r in range(1, ws.max_row + 1):
                ws.row_dimensions[r].height = fixed
        path = tmp_path / "fixed.xlsx"
        wb.save(path)
    return path


def test_the_template_fixes_no_height_on_a_row_a_clerk_types_into(tmp_path: Path) -> None:
    path = save_workbook(build_workbook(get_framework()), tmp_path / "blank.xlsx")
    wb = openpyxl.load_workbook(path)
    parts = _sheet_parts(path)
    checked = 0
    for ws in wb.worksheets:
        inputs = {c.row for row in ws.iter_rows() for c in row if not c.protection.locked}
        rows = {int(m[1]): m[0] for m in re.findall(rb'(<row r="(\d+)"[^>]*>)', parts[ws.title]) if m}
        for r in inputs:
            tag = rows.get(r, b"")
            assert b"customHeight" not in tag, (ws.title, r, tag)
            checked += 1
    assert checked > 100  # every table row and every field
    # the rows without inputs (titles, headers, labels) may keep their heights
    assert b'customHeight="1"' in parts[L.OUTPUTS]


def test_needed_heights_read_the_sheet_as_it_is_in_the_package(tmp_path: Path) -> None:
    path = _filled(tmp_path, fixed=17.5)
    from lxml import etree

    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        shared = (
            etree.fromstring(zf.read("xl/sharedStrings.xml")) if "xl/sharedStrings.xml" in names else None
        )
        strings = shared_strings(shared)
        looks = style_looks(etree.fromstring(zf.read("xl/styles.xml")))
    root = etree.fromstring(_sheet_parts(path)[L.OUTPUTS])
    heights = needed_row_heights(root, strings, looks)
    row = next(r for r in root.iter(f"{MAIN}row") if any(LONG[:10] in (s or "") for s in _texts(r, strings)))
    need, has = heights[int(row.get("r"))]
    assert has == 17.5 and need > 4 * 17.5  # seven lines of a 28-wide column, 10 pt


def _texts(row: object, strings: list[str]) -> list[str]:
    out = []
    for c in row.iter(f"{MAIN}c"):  # type: ignore[attr-defined]
        v = c.find(f"{MAIN}v")
        if c.get("t") == "s" and v is not None:
            out.append(strings[int(v.text)])
        out += [t.text or "" for t in c.iter(f"{MAIN}t")]
    return out


def test_the_scored_copy_grows_the_rows_that_hold_more_and_keeps_the_others(tmp_path: Path) -> None:
    src = _filled(tmp_path, fixed=17.5)
    out = tmp_path / "scored.xlsx"
    assert CliRunner().invoke(main, ["run", str(src), "-o", str(out)]).exit_code == 0
    before, after = _sheet_parts(src), _sheet_parts(out)
    wb = openpyxl.load_workbook(out)
    ws = wb[L.OUTPUTS]
    row = next(c.row for r in ws.iter_rows() for c in r if c.value == LONG)
    assert ws.row_dimensions[row].height > 4 * 17.5
    tag = re.search(rb'<row r="%d"[^>]*>' % row, after[L.OUTPUTS])
    assert tag is not None and b"customHeight" not in tag.group(0)  # Excel refits it on the next edit
    rows = re.compile(rb"<row [^>]*>")  # nothing on 支出进度 needs more room: its rows as they were
    assert rows.findall(after[L.SPENDING]) == rows.findall(before[L.SPENDING])


def _pdf_text(path: Path, tmp_path: Path) -> str:
    out = tmp_path / "pdf"
    subprocess.run(
        [
            soffice(),
            "--headless",
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(path),
        ],
        capture_output=True,
        timeout=240,
        check=True,
    )
    pdf = out / f"{path.stem}.pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True).stdout.decode()
    return re.sub(r"\s", "", text)


@pytest.mark.slow
def test_the_long_answer_prints_whole_from_the_scored_and_the_frozen_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XLPERF_HOME", str(tmp_path / "home"))
    src = _filled(tmp_path, fixed=17.5)
    cut = _pdf_text(src, tmp_path)
    assert LONG[:20] in cut and LONG not in cut  # the clerk's own file, rows fixed: the answer is cut
    scored = tmp_path / "scored.xlsx"
    assert CliRunner().invoke(main, ["run", str(src), "-o", str(scored)]).exit_code == 0
    assert LONG in _pdf_text(scored, tmp_path)
    from xlperf.submission.package import export_package

    package = export_package(src)
    assert LONG in _pdf_text(package.workbook, tmp_path)
