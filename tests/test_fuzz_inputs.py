"""Random values in the template's input cells (issue 8): ``read_book`` + ``assess`` give findings or
scores, never an exception, and every score stays within [0, full]."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries

from xlperf.core.framework import get_framework
from xlperf.core.result import Result
from xlperf.examples import example_evaluation
from xlperf.pipeline import Loaded, assess, load_input
from xlperf.workbook import layout as L
from xlperf.workbook.reader import read_book
from xlperf.workbook.template import build_workbook, save_workbook

EV = example_evaluation()
FW = get_framework(EV.framework)
WB = build_workbook(FW, EV)


def _input_cells() -> list[tuple[str, str]]:
    cells = []
    for f in L.all_fields():
        if f.type is not L.FieldType.COMPUTED:
            sheet, coord = next(iter(WB.defined_names[f.name].destinations))
            cells.append((sheet, coord.replace("$", "")))
    for spec in L.TABLES:
        ws = next(w for w in WB.worksheets if spec.table in w.tables)
        min_col, min_row, max_col, max_row = range_boundaries(ws.tables[spec.table].ref)
        assert min_col and min_row and max_col and max_row
        headers = {ws.cell(min_row, c).value: c for c in range(min_col, max_col + 1)}
        for column in spec.columns:
            if column.is_input and column.header in headers:
                col = get_column_letter(headers[column.header])
                cells += [(ws.title, f"{col}{r}") for r in range(min_row + 1, max_row + 1)]
    return cells


CELLS = _input_cells()

CJK = st.text(
    st.sampled_from("部门整体支出绩效自评完成是否不适用定量定性≥≤=以上不少于家个万元%，。　 "), max_size=30
)
FORMULA_LIKE = st.sampled_from(["=1+1", "+1", "-1", "@SUM(A1)", "=A1/0", '=HYPERLINK("x")', "-", "=", "+"])
NUMBERS = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e6, max_value=1e6),
    st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**9), max_value=10**9),
)
PERCENTS = st.floats(min_value=-500, max_value=500, allow_nan=False).map(lambda x: f"{x:.2f}%")
TYPED = st.sampled_from(
    [
        "1957",
        "1,957",
        "1957个",
        "１９５７",
        "92.13%",
        "0.9213",
        "≥5%",
        "不少于180家",
        "每届不少于150家",
        "-",
        "/",
        "无",
        "#N/A",
        "1-2",
        "1e309",
        "完成",
        "部分完成",
        "是",
        "否",
        "不适用",
        "≤",
        "=",
        "定性",
        "定量",
        " ",
        "",
        "9" * 40,
    ]
)
VALUES = st.one_of(st.none(), NUMBERS, CJK, FORMULA_LIKE, PERCENTS, TYPED, st.booleans())
EDITS = st.dictionaries(st.sampled_from(CELLS), VALUES, min_size=1, max_size=25)


def check_bounds(result: Result) -> None:
    assert Decimal(0) <= result.total <= FW.total
    for sec in result.sections:
        assert Decimal(0) <= sec.score <= sec.full, sec.id
        for ind in sec.indicators:
            assert Decimal(0) <= ind.score <= ind.full, ind.id
            for row in ind.rows:
                assert Decimal(0) <= row.score <= row.full_display
    assert result.rating


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EDITS)
def test_random_cell_values_never_crash(edits: dict[tuple[str, str], Any]) -> None:
    saved = {key: (WB[key[0]][key[1]].value, WB[key[0]][key[1]].data_type) for key in edits}
    try:
        for (sheet, coord), value in edits.items():
            WB[sheet][coord].value = value  # "=…" becomes a formula, as when a clerk types it
        ev, findings, source = read_book(WB, lambda: WB)
        result = assess(Loaded(Path("fuzz.xlsx"), "0" * 64, ev, findings, source))
        check_bounds(result)
        for f in result.findings:
            assert f.message
    finally:
        for (sheet, coord), (value, data_type) in saved.items():
            WB[sheet][coord].value = value
            WB[sheet][coord].data_type = data_type


@settings(
    max_examples=examples(15),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(EDITS)
def test_random_values_through_a_saved_file(tmp_path: Path, edits: dict[tuple[str, str], Any]) -> None:
    """The same through a real .xlsx (what Excel stores: numbers, shared strings, formulas, errors)."""
    wb = build_workbook(FW, EV)
    for (sheet, coord), value in edits.items():
        if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
            value = "#NUM!"  # a file cannot hold NaN or infinity; Excel shows #NUM!
        if isinstance(value, str) and value.startswith("#"):
            wb[sheet][coord].value, wb[sheet][coord].data_type = value, "e"
        else:
            wb[sheet][coord].value = value
    path = save_workbook(wb, tmp_path / "fuzz.xlsx")
    loaded = load_input(path)
    check_bounds(assess(loaded))


@pytest.mark.parametrize("value", [10**26, -(10**20), 1e-30, "100000000000000000000万元"])
def test_absurd_magnitudes_are_findings(value: Any) -> None:
    """Found by the fuzz test: 10**26 in 全年预算数 overflowed the score arithmetic."""
    key = (L.BUDGET, "B5")
    old = WB[key[0]][key[1]].value
    try:
        WB[key[0]][key[1]].value = value
        ev, findings, source = read_book(WB, lambda: WB)
        assert ev.budget.total_budget is None
        assert any(f.sheet == L.BUDGET and f.cell == "B5" and f.code == "P01" for f in findings)
        check_bounds(assess(Loaded(Path("fuzz.xlsx"), "0" * 64, ev, findings, source)))
    finally:
        WB[key[0]][key[1]].value = old
