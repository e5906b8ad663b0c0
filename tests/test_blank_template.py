"""Issue 25: the blank workbook explains itself on the sheet, without hover notes.

Plain headers (no 数量N/数量M), no validation codes in what a clerk reads, the three target columns
explained where they are, a 示例 row (never read), a hint for 单位, 填表说明 in the order of the tabs,
自动计算 said where the sheet computes, the web page named for WPS users, and the intros of the
two-band sheets whole on both printed bands.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import openpyxl
import pytest
from office import soffice
from openpyxl.utils import range_boundaries

from xlperf.core.framework import get_framework
from xlperf.workbook import layout as L
from xlperf.workbook.reader import read_workbook
from xlperf.workbook.template import build_workbook, save_workbook


@pytest.fixture(scope="module")
def blank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_workbook(build_workbook(get_framework()), tmp_path_factory.mktemp("blank") / "blank.xlsx")


def _texts(ws: openpyxl.worksheet.worksheet.Worksheet) -> list[tuple[str, str]]:
    return [(c.coordinate, str(c.value)) for row in ws.iter_rows() for c in row if isinstance(c.value, str)]


def test_no_codes_and_no_placeholder_headers_anywhere_a_clerk_looks(blank: Path) -> None:
    wb = openpyxl.load_workbook(blank)
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            continue
        for coord, text in _texts(ws):
            assert not re.search(r"\bV\d\d\b|（V\d+）|数量[NM]|R-a", text), (ws.title, coord, text)
        for row in ws.iter_rows():
            for c in row:
                if c.comment is not None:
                    assert not re.search(r"V\d\d", c.comment.text), (ws.title, c.coordinate)
    headers = [c.value for c in wb[L.MANAGEMENT][4]]
    assert "应完成数" in headers and "按时完成数" in headers


def test_the_indicator_sheets_explain_their_columns_and_show_an_example(blank: Path) -> None:
    wb = openpyxl.load_workbook(blank)
    for title in (L.OUTPUTS, L.BENEFITS):
        ws = wb[title]
        intro = "".join(str(c.value or "") for c in ws[2])
        example = {ws.cell(row=4, column=c.column).value: c.value for c in ws[3] if c.value is not None}
        assert example["序号"] == "示例" and example["完成率"] == "自动计算"
        assert example["单位"] and example["目标值"] and example["实际值"]
        if title == L.OUTPUTS:
            for column in ("目标值", "年度目标值（文字）", "批复目标值", "单位"):
                assert f"“{column}”" in intro, column
        # every input column shows an example or its help on the sheet
        inputs = [c.header for c in L.table_for(L.OUTPUTS_TABLE, get_framework()).columns if c.is_input]
        shown = {h for h in inputs if h in example} | {
            h for h in inputs if any(h == ws.cell(row=4, column=c.column).value for c in ws[3] if c.value)
        }
        assert set(inputs) - shown <= {"调整理由"}, set(inputs) - shown
    ev, _, _ = read_workbook(blank)
    assert ev.outputs == [] and ev.benefits == [] and ev.tasks == []  # the 示例 rows are never read


def test_readme_follows_the_tabs_and_names_the_web_page(blank: Path) -> None:
    wb = openpyxl.load_workbook(blank)
    heads = [str(c.value) for c in wb[L.README]["A"] if c.value]
    listed = [h for h in heads if h in L.INPUT_SHEETS]
    assert listed == [t for t in wb.sheetnames if t in listed]
    text = " ".join(t for _, t in _texts(wb[L.README]))
    assert "xlperf serve" in text and "WPS" in text


def test_computed_rows_say_so(blank: Path) -> None:
    wb = openpyxl.load_workbook(blank)
    ws = wb[L.MANAGEMENT]
    ids = {str(r[0].value): r for r in ws.iter_rows(min_row=5) if r[0].value}
    fw = get_framework()
    for spec in fw.management():
        row_text = " ".join(str(c.value) for c in ids[spec.id] if c.value)
        if not spec.items and not spec.kind.counts:
            assert "自动计算" in row_text, spec.id
        if spec.kind.counts and spec.count_labels:
            assert all(label in row_text for label in spec.count_labels), spec.id


def test_two_band_intros_lie_within_one_band(blank: Path) -> None:
    """A merged intro reaching across the repeated key columns or the band break is cut in print."""
    wb = openpyxl.load_workbook(blank)
    fw = get_framework()
    for table in L.tables_for(fw):
        if table.print_split is None:
            continue
        ws = wb[table.title]
        split = 1 + next(i for i, c in enumerate(table.columns) if c.attr == table.print_split)
        bounds = [(1, table.print_keys), (table.print_keys + 1, split - 1), (split, len(table.columns))]
        merges = [range_boundaries(str(m)) for m in ws.merged_cells.ranges if m.min_row == 2]
        assert sorted((c1, c2) for c1, _, c2, _ in merges) == bounds, table.title


@pytest.mark.slow
def test_both_bands_print_their_intro_whole(blank: Path, tmp_path: Path) -> None:
    subprocess.run(
        [
            soffice(),
            "--headless",
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(blank),
        ],
        capture_output=True,
        timeout=240,
        check=True,
    )
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "blank.pdf"), "-"], capture_output=True, check=True
    ).stdout.decode()
    flat = re.sub(r"\s", "", text)
    for table in L.tables_for(get_framework()):
        for part in table.intro_parts or (table.intro,):
            assert re.sub(r"\s", "", part) in flat, (table.title, part[:20])
