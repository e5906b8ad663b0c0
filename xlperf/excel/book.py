"""Read a live Excel book (xlwings) in bulk into an in-memory openpyxl workbook.

The ribbon handlers feed the result to :func:`xlperf.workbook.reader.read_book`, the same reader
``xlperf run`` uses, so a workbook scores the same whether Excel or the command line reads it.

Reading is done in bulk, never cell by cell (docs/EXCEL.md section 4): per sheet one read of the used
range's values (and, on desktop Excel, one read of its formulas), the defined names from
``book.names`` (``refers_to``) and the tables from ``sheet.tables`` (name and range address).

What xlwings does not return is restored from the layout:

* number formats: xlwings returns ``1.0`` for a cell showing 100 %, so every cell the layout
  declares as a rate (``rate`` fields and table columns, the computed ``xp_exec_rate``) gets the
  percent format the template gives it. On desktop Excel the number format of each column a clerk
  may type a percentage into is also read, one call per column, so a clerk's ``92%`` is read as
  92 %: the department's quantity columns (目标值, 实际值, …), and on a 项目支出绩效自评表 the
  年度指标值, 实际完成值 and 执行率 cells where the project reader finds them. One mechanism for both
  forms (:class:`PercentCells`); only the cells differ.
* formulas: on desktop Excel they are read in bulk and kept, with their computed values available to
  the reader exactly like the cached values of a saved file (P02/P03 findings). The remote engine
  (used by the tests) does not send formulas; there ``xp_exec_rate`` counts as the template's formula
  unless its value differs from 执行数 ÷ 全年预算数, in which case the clerk typed it and the value
  is kept, so V04 fires as it does for the file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.table import Table

from xlperf.catalog import Recorded
from xlperf.workbook import layout as L
from xlperf.workbook.cells import excel_text

__all__ = [
    "EXEC_RATE_FORMULA",
    "PERCENT_FORMAT",
    "Snapshot",
    "excel_value",
    "is_remote",
    "named_text",
    "parse_reference",
    "recorded_rules",
    "snapshot",
]

PERCENT_FORMAT = "0.00%"


def named_text(book: Any, name: str) -> str | None:
    """The text of the one cell a book-level name points at (None: no such name, or not a cell).
    One call per name: for the worksheet functions, which must not read the whole book."""
    try:
        value = book.names[name].refers_to_range.value
    except Exception:  # no such name, #REF!, a range on a deleted sheet: COM and the remote engine differ
        return None
    if isinstance(value, list):
        return None  # a range, not the cell the template made
    return "" if value is None else str(value)


def recorded_rules(book: Any) -> Recorded:
    """What a live workbook says of its rules (``_xlperf``'s named cells): id, hash and the embedded
    copy, read name by name — :func:`xlperf.catalog.for_workbook` decides from it as for a file."""
    chunks = []
    for name in L.DEF_NAMES:
        chunk = named_text(book, name)
        if chunk is None:
            break
        chunks.append(chunk)
    return Recorded(
        (named_text(book, "xp_framework") or "").strip(),
        (named_text(book, "xp_framework_sha256") or "").strip(),
        "".join(chunks),
    )


EXEC_RATE_FORMULA = '=IFERROR(xp_executed/xp_total_budget,"")'
_REL_TOLERANCE = 1e-9
_MAX_EXACT_INT = 2**53


@dataclass
class Snapshot:
    """What one bulk read of a live book gives: an openpyxl copy of its input sheets and more.

    ``workbook`` holds values (formulas where Excel reported them), the ``xp_*`` defined names and
    the tables; ``values`` holds the computed values of the formula cells (the reader's
    ``values_loader``). ``tables`` maps a table name to (sheet, A1 range). ``path`` is the saved
    file on disk, None for an unsaved book or on the remote engine. ``output_sheets`` lists the
    output sheets (评分汇总/校验结果/自评报告) the book already has.
    """

    workbook: Workbook
    values: Workbook
    fullname: str
    path: Path | None
    remote: bool
    sheet_names: list[str] = field(default_factory=list)
    output_sheets: list[str] = field(default_factory=list)
    tables: dict[str, tuple[str, str]] = field(default_factory=dict)
    names: dict[str, tuple[str, str]] = field(default_factory=dict)

    def values_loader(self) -> Workbook:
        return self.values

    def sha256(self) -> str:
        """SHA-256 of the saved file (what 导出报送包 would read); a note when there is none."""
        if self.path is None:
            return "（未保存的工作簿）"
        from xlperf.files import sha256_file

        return sha256_file(self.path)


def is_remote(book: Any) -> bool:
    """True on xlwings' remote engine (tests, xlwings Server): no files, no multi-area ranges."""
    try:
        return str(book.app.engine.name) == "remote"
    except Exception:  # pragma: no cover - every engine has a name
        return False


_REF_RE = re.compile(
    r"^=?\s*(?:'((?:[^']|'')+)'|([^'!]+))!\$?([A-Za-z]{1,3})\$?(\d+)(?::\$?([A-Za-z]{1,3})\$?(\d+))?\s*$"
)


def parse_reference(refers_to: str | None) -> tuple[str, str] | None:
    """``=基本信息!$B$5`` or ``='Sheet 1'!$A$1:$B$2`` → (sheet, ``B5`` / ``A1:B2``); None otherwise."""
    if not refers_to:
        return None
    m = _REF_RE.match(refers_to)
    if m is None:
        return None
    sheet = (m.group(1) or "").replace("''", "'") or (m.group(2) or "")
    first = f"{m.group(3).upper()}{m.group(4)}"
    if m.group(5):
        return sheet, f"{first}:{m.group(5).upper()}{m.group(6)}"
    return sheet, first


def excel_value(value: Any) -> Any:
    """A value as read from Excel, made to look like what openpyxl reads from the saved file.

    Excel keeps every number as a double: integral numbers come back as ints (openpyxl reads
    ``180`` as int, and the summary shows ``180家``, not ``180.0家``).
    """
    if (
        isinstance(value, float)
        and math.isfinite(value)
        and value.is_integer()
        and abs(value) < _MAX_EXACT_INT
    ):
        return int(value)
    return value


def _to_2d(value: Any) -> list[list[Any]]:
    if isinstance(value, list | tuple):
        if value and isinstance(value[0], list | tuple):
            return [list(row) for row in value]
        return [list(value)]
    return [[value]]


def _store(cell: Any, value: Any) -> None:
    """Put a value into an openpyxl cell as data, never as a formula."""
    if isinstance(value, str):
        cell.value = excel_text(value)
        if cell.value.startswith("="):
            cell.data_type = "s"
    elif isinstance(value, datetime | date | int | float | bool):
        cell.value = value
    elif value is not None:
        cell.value = str(value)


def _read_sheet(sheet: Any, remote: bool) -> tuple[int, int, list[list[Any]], list[list[Any]] | None]:
    """(first row, first column, values, formulas or None): one bulk read of the used range."""
    rng = sheet.used_range
    values = _to_2d(rng.options(ndim=2).value)
    formulas: list[list[Any]] | None = None
    if not remote:
        try:
            formulas = _to_2d(rng.formula)
        except Exception:  # the engine cannot report formulas: values only
            formulas = None
    return rng.row, rng.column, values, formulas


def _is_formula(text: Any) -> bool:
    return isinstance(text, str) and text.startswith("=") and len(text) > 1


def snapshot(book: Any) -> Snapshot:
    """Read ``book`` (an ``xlwings.Book``) in bulk; see the module docstring."""
    remote = is_remote(book)
    wb, values = Workbook(), Workbook()
    for w in (wb, values):
        w.remove(w.active)
    fullname = str(book.fullname)
    path = Path(fullname)
    snap = Snapshot(
        wb, values, fullname, path if not remote and path.is_absolute() and path.is_file() else None, remote
    )
    for sheet in book.sheets:
        name = str(sheet.name)
        snap.sheet_names.append(name)
        if name in L.OUTPUT_SHEETS:
            snap.output_sheets.append(name)
            continue
        ws, vs = wb.create_sheet(name), values.create_sheet(name)
        r0, c0, vals, formulas = _read_sheet(sheet, remote)
        for i, row in enumerate(vals):
            for j, raw in enumerate(row):
                value = excel_value(raw)
                formula = (
                    formulas[i][j]
                    if formulas is not None and i < len(formulas) and j < len(formulas[i])
                    else None
                )
                if formula == raw:
                    formula = None  # a text constant such as '=abc (typed with an apostrophe)
                if value is None and not _is_formula(formula):
                    continue
                r, c = r0 + i, c0 + j
                if _is_formula(formula):
                    ws.cell(row=r, column=c).value = formula
                else:
                    _store(ws.cell(row=r, column=c), value)
                _store(vs.cell(row=r, column=c), value)
        for table in sheet.tables:
            address = str(table.range.address).replace("$", "")
            snap.tables[str(table.name)] = (name, address)
            try:
                ws.add_table(Table(displayName=str(table.name), ref=address))
            except ValueError:  # a name openpyxl refuses: the reader reports the table as missing
                continue
    for n in book.names:
        name = str(n.name)
        if "!" in name or not name.startswith("xp_"):
            continue  # sheet-scoped and foreign names: the layout uses book-level xp_* names only
        refers_to = n.refers_to
        ref = parse_reference(refers_to)
        if ref is not None:
            snap.names[name] = ref
        text = str(refers_to or "").lstrip("=")
        if not text:
            continue
        try:
            wb.defined_names[name] = DefinedName(name, attr_text=text)
        except Exception:  # a definition openpyxl cannot hold: the reader reports the name as missing
            continue
    _restore_exec_rate(snap)
    _apply_percent_formats(snap, book)
    return snap


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _restore_exec_rate(snap: Snapshot) -> None:
    """Treat ``xp_exec_rate`` as the template's formula unless the clerk typed another value."""
    ref = snap.names.get("xp_exec_rate")
    if ref is None or ref[0] not in snap.workbook.sheetnames:
        return
    ws = snap.workbook[ref[0]]
    coord = ref[1].split(":")[0]
    cell = ws[coord]
    if cell.data_type == "f":
        return  # desktop Excel told us it is a formula
    value = cell.value
    if value is None or (isinstance(value, str) and not value.strip()):
        cell.value = EXEC_RATE_FORMULA  # IFERROR(...,"") shows blank when the inputs are missing
        return
    executed, total = (_cell_number(snap, n) for n in ("xp_executed", "xp_total_budget"))
    rate = _number(value)
    if rate is None or executed is None or not total:
        return
    expected = executed / total
    if abs(rate - expected) <= _REL_TOLERANCE * max(1.0, abs(expected)):
        cell.value = EXEC_RATE_FORMULA


def _cell_number(snap: Snapshot, name: str) -> float | None:
    ref = snap.names.get(name)
    if ref is None or ref[0] not in snap.values.sheetnames:
        return None
    return _number(snap.values[ref[0]][ref[1].split(":")[0]].value)


def table_columns(snap: Snapshot, spec: L.TableSheet) -> tuple[str, int, int, int, dict[str, int]] | None:
    """(sheet, header row, first body row, last body row, {header text: column}) of a layout table."""
    found = snap.tables.get(spec.table)
    if found is None or found[0] not in snap.workbook.sheetnames:
        return None
    sheet, ref = found
    min_col, min_row, max_col, max_row = range_boundaries(ref)
    if min_col is None or min_row is None or max_col is None or max_row is None:
        return None
    ws = snap.workbook[sheet]
    by_header: dict[str, int] = {}
    for col in range(min_col, max_col + 1):
        text = ws.cell(row=min_row, column=col).value
        if text is None:
            continue
        named = spec.column_named(str(text))  # the V13 column spelled with any framework's threshold
        if named is not None:
            by_header.setdefault(named.header, col)
    return sheet, min_row, min_row + 1, max_row, by_header


def found_tables(
    snap: Snapshot,
    framework: Any = None,
) -> Iterator[tuple[L.TableSheet, str, int, int, dict[str, int]]]:
    """Every layout table present in the snapshot: (spec, sheet, first data row, last row, columns by
    header), shaped by ``framework`` when given (its 管理效率 answer columns)."""
    for spec in L.tables_for(framework) if framework is not None else L.TABLES:
        found = table_columns(snap, spec)
        if found is not None:
            sheet, _, first, last, cols = found
            yield spec, sheet, first, last, cols


@dataclass(frozen=True)
class PercentCells:
    """A column's run of cells whose reading depends on a percent format (either form's): ``known``
    when the layout gives them one (set without asking Excel), else desktop Excel is asked for the
    format the clerk's cells carry (:func:`_percent_rows`: one call for the run)."""

    sheet: str
    col: int
    first: int
    last: int
    known: bool = False


def _apply_percent_formats(snap: Snapshot, book: Any) -> None:
    """Give the snapshot's cells the percent formats the saved file would have, so the reader takes
    a clerk's 95 % (Excel: 0.95 in a percent cell) as 95 %, for either form: the cells come from
    :func:`department_percent_cells` or :func:`project_percent_cells`."""
    from xlperf.project.reader import is_project_book

    runs: Iterable[PercentCells]
    if not is_project_book(snap.workbook):
        runs = department_percent_cells(snap)
    else:  # all asked: nothing to do where Excel cannot be asked
        runs = [] if snap.remote else project_percent_cells(snap)
    for run in runs:
        if run.sheet not in snap.workbook.sheetnames:
            continue
        rows: Iterable[int] = ()
        if run.known:
            rows = range(run.first, run.last + 1)
        elif not snap.remote:  # the remote engine cannot say a cell's format
            rows = _percent_rows(book, run.sheet, run.col, run.first, run.last)
        ws = snap.workbook[run.sheet]
        for r in rows:
            ws.cell(row=r, column=run.col).number_format = PERCENT_FORMAT


def department_percent_cells(snap: Snapshot) -> Iterator[PercentCells]:
    """The department workbook's: the layout's rate fields and rate columns (known), and its quantity
    columns (目标值, 实际值 …: asked), where the snapshot holds them."""
    for f in L.all_fields():
        if f.type in (L.FieldType.RATE, L.FieldType.COMPUTED) and f.name in snap.names:
            sheet, coord = snap.names[f.name]
            row, column = _row_col(coord.split(":")[0])
            yield PercentCells(sheet, column, row, row, known=True)
    for spec, sheet, first, last, cols in found_tables(snap):
        for c in spec.columns:
            col = cols.get(c.header)
            if col is None or last < first:
                continue
            if c.type is L.ColumnType.RATE:
                yield PercentCells(sheet, col, first, last, known=True)
            elif c.type is L.ColumnType.QUANTITY:
                yield PercentCells(sheet, col, first, last)


#: the project form's cells read as the clerk typed them, a percent cell's 0.95 as 95 %
#: (:mod:`xlperf.project.reader`'s ``text`` and ``rate``): each row's 年度指标值 and 实际完成值, the 执行率
PROJECT_PERCENT_COLUMNS = ("target", "actual")
PROJECT_PERCENT_FIELDS = ("funds.rate",)


def project_percent_cells(snap: Snapshot) -> list[PercentCells]:
    """The project form's, where the project reader finds them (its own map of the snapshot, so
    xlperf's form and a bureau's read alike): one run per column from its first row to its last, all
    asked — a form's cells carry what its maker or the clerk gave them."""
    from xlperf.core.project.framework import get_project_framework
    from xlperf.project.reader import read_project_book

    # the cells are found by the form's headers, whatever its rules: given rules (the national ones)
    # never raise, where a workbook's unknown rules would (its button then says so, not the snapshot)
    source = read_project_book(snap.workbook, get_project_framework(), snap.values_loader)[2]
    by_column: dict[tuple[str, int], list[int]] = {}
    for path, (sheet, coord) in source.cells.items():
        head, _, attr = path.rpartition(".")
        if path in PROJECT_PERCENT_FIELDS or (head.startswith("rows[") and attr in PROJECT_PERCENT_COLUMNS):
            row, col = _row_col(coord)
            by_column.setdefault((sheet, col), []).append(row)
    return [
        PercentCells(sheet, col, min(rows), max(rows)) for (sheet, col), rows in sorted(by_column.items())
    ]


def _row_col(coord: str) -> tuple[int, int]:
    min_col, min_row, _, _ = range_boundaries(coord)
    assert min_col is not None and min_row is not None
    return min_row, min_col


def _percent_rows(book: Any, sheet: str, col: int, first: int, last: int) -> list[int]:
    """Rows of one table column whose cells carry a percent format (desktop Excel only).

    One call for the whole column; only when its cells have different formats (Excel then answers
    None) is each cell asked, so the usual case costs one call per column.
    """
    if last < first:
        return []
    letter = get_column_letter(col)
    try:
        rng = book.sheets[sheet].range(f"{letter}{first}:{letter}{last}")
        fmt = rng.number_format
        if fmt is not None:
            return list(range(first, last + 1)) if "%" in str(fmt) else []
        return [first + i for i, cell in enumerate(rng) if "%" in str(cell.number_format or "")]
    except Exception:  # the engine cannot report number formats: keep the layout's
        return []
