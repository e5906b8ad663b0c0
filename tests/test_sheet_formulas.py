"""Issue 25: the sheet's own formulas agree with xlperf.

* 完成率: a target or actual typed with its unit (“8个”, as 填表说明 allows) is text no spreadsheet
  formula divides; the scored copy shows xlperf's completion there, with a note, and keeps the live
  formula on every row the formula reads as xlperf does (and gives it back once a row does again).
* 月均执行率（自动计算）: rates typed the ways clerks type them (92.13 into a % cell, as LibreOffice
  and WPS store it; “92.13%” as text) are read by the formula as xlperf reads them; the old
  AVERAGE showed hundreds of percent.

Checked by LibreOffice recalculating the workbook (tests/office.py) against xlperf's own figures.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from clerk import fill_like_a_clerk
from conftest import ROOT
from office import calamine_sheets, convert
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

from xlperf.core.evaluation import Evaluation
from xlperf.core.framework import get_framework
from xlperf.pipeline import assess, load_input, write_scored
from xlperf.workbook import layout as L
from xlperf.workbook.template import build_workbook, save_workbook
from xlperf.workbook.writer import CHECK_AUTHOR

MONTHS = [
    Decimal(x)
    for x in ["95.2", "96.1", "97.45", "98", "99.3", "97.88", "96.5", "98.2", "99", "97.6", "98.4", "100"]
]
V13 = sorted((ROOT / "tests" / "shipped_templates").glob("v13_*.xlsx"))[0]


def _clerk_workbook(src: Path, out: Path) -> Path:
    """The seed typed by a clerk into ``src``: targets and actuals with their units, the second
    row bare; the months as typed in WPS (92.13 into a % cell), one as text “97.88%”."""
    ev = Evaluation.load(ROOT / "xlperf" / "data" / "example_baiyun_2023.json")
    ev.spending.monthly = list(MONTHS)
    path = fill_like_a_clerk(src, ev, out)
    wb = openpyxl.load_workbook(path)
    outputs = wb[L.OUTPUTS]
    outputs["E6"], outputs["K6"] = float(ev.outputs[1].target_value), float(ev.outputs[1].actual_value)
    months = wb[L.SPENDING]
    for r in (6, 9):  # stored as percent points in a % cell
        months.cell(row=r, column=2).value = float(MONTHS[r - 5])
    months.cell(row=10, column=2).value = f"{MONTHS[5]}%"
    wb.save(path)
    return path


def _scored(src: Path, out: Path) -> tuple[Any, Path]:
    loaded = load_input(src)
    result = assess(loaded)
    write_scored(loaded, result, out)
    return loaded, result


def _at(sheets: dict[str, list[list[Any]]], sheet: str, coord: str) -> Any:
    col, row = coordinate_from_string(coord)
    values = sheets[sheet]
    line = values[row - 1] if row - 1 < len(values) else []
    c = column_index_from_string(col) - 1
    return line[c] if c < len(line) else None


def test_units_typed_show_xlperfs_completion_and_bare_numbers_keep_the_formula(tmp_path: Path) -> None:
    blank = save_workbook(build_workbook(get_framework()), tmp_path / "blank.xlsx")
    src = _clerk_workbook(blank, tmp_path / "clerk.xlsx")
    loaded, result = _scored(src, tmp_path / "scored.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "scored.xlsx")[L.OUTPUTS]
    outputs = next(i for i in result.indicator_scores() if i.spec.rows == "outputs").rows
    first = loaded.source.formulas["outputs[0].completion"]
    cell = ws[first.cell]
    assert cell.data_type == "n" and Decimal(str(cell.value)) == outputs[0].completion.quantize(
        Decimal("1e-6")
    )
    assert (
        cell.comment is not None and cell.comment.author == CHECK_AUTHOR and "评分汇总" in cell.comment.text
    )
    bare = ws[loaded.source.formulas["outputs[1].completion"].cell]
    assert bare.data_type == "f" and bare.comment is None  # the formula reads it as xlperf does
    # the row fixed (bare numbers), scored again: its formula is back and the note gone
    fixed = openpyxl.load_workbook(tmp_path / "scored.xlsx")
    row = fixed[L.OUTPUTS]
    t, a = (first.cell.replace(first.cell.rstrip("0123456789"), letter) for letter in ("E", "K"))
    row[t], row[a] = (
        float(loaded.evaluation.outputs[0].target_value),
        float(loaded.evaluation.outputs[0].actual_value),
    )
    fixed.save(tmp_path / "fixed.xlsx")
    _scored(tmp_path / "fixed.xlsx", tmp_path / "again.xlsx")
    again = openpyxl.load_workbook(tmp_path / "again.xlsx")[L.OUTPUTS][first.cell]
    assert again.data_type == "f" and again.comment is None
    assert again.fill.fgColor.rgb != "FF" + L.INPUT_FILL  # a computed cell keeps its own grey


@pytest.mark.slow
@pytest.mark.parametrize("template", ["current", "v13"])
def test_libreoffice_recalculates_the_scored_copy_to_xlperfs_figures(tmp_path: Path, template: str) -> None:
    blank = (
        save_workbook(build_workbook(get_framework()), tmp_path / "blank.xlsx")
        if template == "current"
        else V13
    )
    src = _clerk_workbook(blank, tmp_path / "clerk.xlsx")
    loaded, result = _scored(src, tmp_path / "scored.xlsx")
    mean = next(i for i in result.indicator_scores() if i.spec.kind.monthly_rates).ratio
    assert mean == (sum(MONTHS) / 12).quantize(Decimal("0.01"))  # every month read as typed meant
    rows = {i.spec.rows: i.rows for i in result.indicator_scores() if i.spec.rows}
    if template == "v13":  # the template this repository shipped: its AVERAGE shows nonsense
        before = calamine_sheets(convert(src, "xlsx", tmp_path / "lo0", tmp_path / "profile"))
        shown = _at(before, L.SPENDING, loaded.source.formulas["spending.mean"].cell)
        assert abs(shown * 100 - float(mean)) > 100, shown
    sheets = calamine_sheets(convert(tmp_path / "scored.xlsx", "xlsx", tmp_path / "lo", tmp_path / "profile"))
    checked = 0
    for key, sf in loaded.source.formulas.items():
        shown = _at(sheets, sf.sheet, sf.cell)
        if key == "spending.mean":
            assert round(shown * 100, 2) == float(mean), shown
            continue
        section, _, rest = key.partition("[")
        want = rows[section][int(rest.split("]")[0])].completion
        if want is None:
            assert shown in ("", None), (key, shown)
        else:
            assert shown == pytest.approx(float(want), abs=1e-6), key
            checked += 1
    assert checked >= 28  # every scored row of the seed, whatever its typing
