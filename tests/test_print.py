"""Printing helpers (xlperf.workbook.printing): widths, row heights, page setup."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font

from xlperf.workbook.printing import fit_column_widths, fit_row_heights, setup_print, text_width


def test_text_width_counts_cjk_and_full_width_as_two() -> None:
    assert text_width("abc") == 3
    assert text_width("总分") == 4
    assert text_width("98.57%，良") == 6 + 2 + 2
    assert text_width("①㉑") == 4  # ① is "ambiguous": full-width in the CJK fonts sheets print with
    assert text_width("①㉑", ambiguous_wide=False) == 3
    assert text_width("") == 0


def _sheet(width: float, text: str, wrap: bool = True) -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.column_dimensions["A"].width = width
    ws["A1"] = text
    ws["A1"].font = Font(name="宋体", size=10)
    ws["A1"].alignment = Alignment(wrap_text=wrap)
    return wb


def test_row_height_grows_with_wrapped_cjk_text() -> None:
    one = _sheet(40, "短句")
    fit_row_heights(one.active)
    long = _sheet(40, "部门整体支出绩效自评" * 20)  # 400 columns in a 40-wide column: many lines
    fit_row_heights(long.active)
    h1, h2 = one.active.row_dimensions[1].height, long.active.row_dimensions[1].height
    assert h1 is not None and h2 is not None
    assert h2 >= 8 * h1 - 30  # about 400 / 70 ≈ 6–8 lines against one
    latin = _sheet(40, "a" * 200)  # same number of characters as the CJK text, half the columns
    fit_row_heights(latin.active)
    assert latin.active.row_dimensions[1].height < h2


def test_row_height_stays_within_excels_limit() -> None:
    wb = _sheet(20, "很长" * 16000)  # 32,000 characters: thousands of lines
    fit_row_heights(wb.active)
    assert wb.active.row_dimensions[1].height == 409


def test_row_height_counts_line_breaks_and_ignores_unwrapped_cells() -> None:
    wb = _sheet(80, "一\n二\n三\n四")
    fit_row_heights(wb.active)
    four = wb.active.row_dimensions[1].height
    flat = _sheet(10, "很长的一段文字" * 10, wrap=False)
    fit_row_heights(flat.active)
    assert four > 3 * flat.active.row_dimensions[1].height - 10


def test_merged_cells_count_across_their_columns_and_min_height_is_a_floor() -> None:
    def height(merge: bool) -> float:
        wb = _sheet(20, "说明文字" * 15)
        ws = wb.active
        ws.column_dimensions["B"].width = 20
        ws.column_dimensions["C"].width = 20
        if merge:
            ws.merge_cells("A1:C1")
        fit_row_heights(ws, min_height=5)
        return ws.row_dimensions[1].height

    assert height(True) < height(False)
    wb = _sheet(40, "短")
    fit_row_heights(wb.active, min_height=40)
    assert wb.active.row_dimensions[1].height == 40


def test_fit_column_widths_fits_the_longest_label() -> None:
    wb = _sheet(10, "月均一般公共预算支出执行率", wrap=False)
    ws = wb.active
    fit_column_widths(ws, [1])
    # 13 CJK characters of 10 pt are 13 × 13.3 px ≈ 173 px ≈ 25 units of 7 px
    assert ws.column_dimensions["A"].width >= 25
    ws.column_dimensions["A"].width = 80
    fit_column_widths(ws, [1])
    assert ws.column_dimensions["A"].width == 80  # never narrowed


def test_setup_print_is_a4_one_page_wide_with_titles_header_and_footer(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "x"
    setup_print(ws, title_rows="3:3", landscape=True, header="白云区科工商信局 & 下属单位")
    wb.save(tmp_path / "p.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "p.xlsx").active
    assert int(ws.page_setup.paperSize) == 9
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.fitToWidth) == 1 and int(ws.page_setup.fitToHeight) == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$3:$3"
    assert ws.oddHeader.center.text == "白云区科工商信局 && 下属单位"  # & escaped, not a code
    assert ws.oddFooter.center.text == "第 &P 页，共 &N 页"
    plain = openpyxl.Workbook().active
    setup_print(plain, fit_width=False)
    assert plain.page_setup.orientation == "portrait"
    assert not plain.sheet_properties.pageSetUpPr or not plain.sheet_properties.pageSetUpPr.fitToPage
