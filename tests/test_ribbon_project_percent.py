"""A percentage typed into Excel reads the same on the ribbon as from the saved file, on both forms.

Excel stores a clerk's ``95%`` as 0.95 in a cell formatted as a percentage; xlwings' bulk read sends
the 0.95 without the format. The command line reads the saved file, format and all, as 95 %; the
ribbon's snapshot (xlperf/excel/book.py) must ask desktop Excel for the format of the cells where a
percentage may be typed and read them alike — the department's quantity columns and the project
form's 年度指标值, 实际完成值 and 执行率, by one mechanism.

Excel cannot run here. ``DesktopExcel`` stands in for it: the bulk reads (values, tables, names) are
those of xlwings' remote engine built from the saved file (tests/test_excel_handlers.py), and what
desktop Excel's COM answers besides — a range's ``formula``, ``number_format`` (None when its cells
differ, as Excel says) and ``merge_area`` — comes from the saved file read by openpyxl.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter, range_boundaries
from test_excel_handlers import remote_book
from test_project_core import funds
from test_project_submit import cells_of, chongqing, project_wb

from xlperf.excel import project
from xlperf.excel.book import snapshot
from xlperf.pipeline import assess, load_any, load_input
from xlperf.project import layout as P
from xlperf.workbook import layout as L
from xlperf.workbook.reader import read_book


class DesktopExcel:
    """An ``xlwings.Book`` on desktop Excel, as far as the snapshot and the project form's label
    merges ask it (see the module docstring). ``asked`` records every format question."""

    def __init__(self, path: Path) -> None:
        self.remote = remote_book(path)
        self.file = openpyxl.load_workbook(path)
        self.fullname = str(path)
        self.names = self.remote.names
        self.asked: list[str] = []
        self.app = type("App", (), {"engine": type("Engine", (), {"name": "excel"})()})()

    @property
    def sheets(self) -> _Sheets:
        return _Sheets(self)


class _Sheets:
    def __init__(self, book: DesktopExcel) -> None:
        self.book = book

    def __iter__(self) -> Any:
        return iter([_Sheet(self.book, s) for s in self.book.remote.sheets])

    def __getitem__(self, name: str) -> _Sheet:
        return _Sheet(self.book, self.book.remote.sheets[name])


class _Sheet:
    def __init__(self, book: DesktopExcel, remote: Any) -> None:
        self.book, self.remote = book, remote
        self.name = remote.name
        self.tables = remote.tables
        self.ws = book.file[remote.name]

    @property
    def used_range(self) -> _UsedRange:
        return _UsedRange(self, self.remote.used_range)

    def range(self, address: str) -> _Range:
        return _Range(self, address)


class _UsedRange:
    """The remote engine's values; desktop Excel's formulas (constants as themselves)."""

    def __init__(self, sheet: _Sheet, remote: Any) -> None:
        self.sheet, self.remote = sheet, remote
        self.row, self.column = remote.row, remote.column

    def options(self, **kw: Any) -> Any:
        return self.remote.options(**kw)

    @property
    def formula(self) -> list[list[Any]]:
        rows = self.remote.options(ndim=2).value
        return [
            [self.sheet.ws.cell(row=self.row + i, column=self.column + j).value for j in range(len(rows[0]))]
            for i in range(len(rows))
        ]


class _Range:
    def __init__(self, sheet: _Sheet, address: str) -> None:
        self.sheet, self.address = sheet, address.replace("$", "")

    def _cells(self) -> list[Any]:
        c1, r1, c2, r2 = range_boundaries(self.address)
        return [self.sheet.ws.cell(row=r, column=c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]

    @property
    def number_format(self) -> str | None:
        self.sheet.book.asked.append(f"{self.sheet.name}!{self.address}")
        formats = {c.number_format for c in self._cells()}
        return formats.pop() if len(formats) == 1 else None  # Excel: Null when the cells differ

    def __iter__(self) -> Any:
        return iter(_Range(self.sheet, c.coordinate) for c in self._cells())

    @property
    def merge_area(self) -> Any:
        found = next((m for m in self.sheet.ws.merged_cells.ranges if self.address in m), None)
        ref = self.address if found is None else found.coord
        return type("Area", (), {"address": "$" + ref.replace(":", ":$")})()


def typed_percent(path: Path, cells: dict[str, float]) -> Path:
    """The clerk types percentages into the form's cells (field path → fraction): Excel keeps the
    fraction and formats the cell as a percentage. Saved by openpyxl, so the command line reads it."""
    at = cells_of(path)
    wb = openpyxl.load_workbook(path)
    for field, value in cells.items():
        sheet, coord = at[field]
        wb[sheet][coord].value, wb[sheet][coord].number_format = value, "0%"
    wb.save(path)
    return path


def ribbon_reads(path: Path) -> tuple[DesktopExcel, project.ProjectAssessment]:
    """The project form as the ribbon's buttons read it on desktop Excel."""
    book = DesktopExcel(path)
    snap = snapshot(book)
    return book, project.assess(book, snap)


# ------------------------------------------------------------------ the project form


def test_percentages_typed_into_a_project_form_read_as_from_the_file(tmp_path: Path) -> None:
    path = typed_percent(project_wb(tmp_path / "wb"), {"rows[2].target": 0.9, "rows[2].actual": 0.95})
    at = cells_of(path)
    sheet, actual = at["rows[2].actual"]
    assert DesktopExcel(path).sheets[sheet].range(actual).number_format == "0%"  # the stand-in says so
    cli = load_any(path)
    assert (cli.evaluation.rows[2].target, cli.evaluation.rows[2].actual) == ("90%", "95%")

    book, a = ribbon_reads(path)
    rows = a.loaded.evaluation.rows
    assert (rows[2].target, rows[2].actual) == ("90%", "95%")  # the clerk's 95 %, not 0.95
    assert a.loaded.evaluation == cli.evaluation
    assert a.result.total == assess(cli).total and [f.code for f in a.result.findings] == [
        f.code for f in assess(cli).findings
    ]
    # one question per column (年度指标值, 实际完成值, 执行率), then each cell's of a column whose
    # cells differ (Excel answers None): here the 满意度 row is a percentage, the others text
    runs = [f"{sheet}!{at[f'rows[0].{c}'][1]}:{at[f'rows[2].{c}'][1]}" for c in ("target", "actual")]
    assert [q for q in book.asked if ":" in q] == [
        *runs,
        f"{sheet}!{at['funds.rate'][1]}:{at['funds.rate'][1]}",
    ]
    assert len(book.asked) == 3 + 2 * len(rows)


def test_a_typed_execution_rate_above_150_percent_reads_as_from_the_file(tmp_path: Path) -> None:
    """A bureau's form with the 执行率 typed (here 160 % over a 100 万元 budget, 160 executed): a bare
    1.6 would be read as 1.6 %, the percent cell says 160 %."""
    ev = chongqing()
    ev.funds = funds("100", "160", reason="追加资金")
    path = typed_percent(project_wb(tmp_path / "wb", ev), {"funds.rate": 1.6})
    cli = load_any(path)
    assert cli.evaluation.funds.rate == 160
    _, a = ribbon_reads(path)
    assert a.loaded.evaluation.funds.rate == 160
    assert a.loaded.evaluation == cli.evaluation


def test_the_online_engine_cannot_ask_and_reads_the_bare_fraction(tmp_path: Path) -> None:
    """The control: without a format (xlwings' remote engine sends none) 0.95 stays 0.95, which is
    why desktop Excel is asked."""
    path = typed_percent(project_wb(tmp_path / "wb"), {"rows[2].actual": 0.95})
    snap = snapshot(remote_book(path))
    a = project.assess(remote_book(path), snap)
    assert a.loaded.evaluation.rows[2].actual == "0.95"


# ------------------------------------------------------------------ the department form, alike


def test_the_department_forms_quantity_columns_by_the_same_mechanism(tmp_path: Path) -> None:
    from test_excel_handlers import save_example

    path = save_example(tmp_path / "example.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = next(w for w in wb.worksheets if L.OUTPUTS_TABLE.table in w.tables)
    ref = ws.tables[L.OUTPUTS_TABLE.table].ref
    c1, r1, c2, _ = range_boundaries(ref)
    header = {ws.cell(row=r1, column=c).value: c for c in range(c1, c2 + 1)}
    col = header["实际值"]
    # the example's row in % (扶贫协作资金拨付, 100 % of 100 %): the clerk types 95%
    row = next(r for r in range(r1 + 1, ws.max_row + 1) if ws.cell(row=r, column=header["单位"]).value == "%")
    cell = ws.cell(row=row, column=col)
    cell.value, cell.number_format = 0.95, "0%"
    wb.save(path)
    cli = load_input(path)
    [i] = [i for i, o in enumerate(cli.evaluation.outputs) if o.unit == "%"]
    assert cli.evaluation.outputs[i].actual_value == 95  # the control: the file reads 95 (%)
    book = DesktopExcel(path)
    snap = snapshot(book)
    ev = read_book(snap.workbook, snap.values_loader)[0]
    assert ev.outputs[i].actual_value == 95
    assert ev == cli.evaluation
    letter = get_column_letter(col)
    assert any(q.startswith(f"{ws.title}!{letter}") for q in book.asked)


def test_a_column_of_one_format_costs_one_question_whatever_its_rows(tmp_path: Path) -> None:
    """The usual case: a column's cells share their format, so Excel is asked once per column, for 3
    rows as for 24."""
    from test_project_addin import big, save

    small = DesktopExcel(save(big(1), tmp_path / "small.xlsx"))
    snapshot(small)
    path = save(big(8), tmp_path / "big.xlsx")
    large = DesktopExcel(path)
    snapshot(large)
    assert len(small.asked) == len(large.asked) == 3
    at = cells_of(path)
    sheet, first = at["rows[0].actual"]
    assert f"{sheet}!{first}:{at['rows[23].actual'][1]}" in large.asked
    assert sheet == P.FORM_SHEET
