"""Read a filled workbook into an ``Evaluation`` (from a ``book.Book``), keeping each value's cell.

Single fields are found by defined name, lists by table name and header text, so clerks may
insert, delete, reorder and leave blank rows, and reorder columns. Every value is parsed by
:mod:`xlperf.core.quantity`; what cannot be read becomes a finding that names the sheet and cell, never
a guessed number. A file that cannot be opened at all raises :class:`WorkbookReadError` (exit 2).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from xlperf.catalog import Recorded, for_workbook, workbook_rules
from xlperf.core.decimals import plain
from xlperf.core.evaluation import Answer, Evaluation, Grade, Kind
from xlperf.core.findings import Finding, finding
from xlperf.core.framework import Framework
from xlperf.core.quantity import (
    Direction,
    Quantity,
    completion_ratio,
    direction_in_text,
    normalise_text,
    parse_direction,
    parse_quantity,
    parse_rate,
    plausible,
    rate_reading,
    resolve_percent_row,
    suggest,
)
from xlperf.ooxml.errors import WorkbookReadError
from xlperf.ooxml.limits import Limits
from xlperf.ooxml.refs import bounds, column_letter, name_destinations, name_text
from xlperf.workbook import layout as L
from xlperf.workbook.book import Book, BookLike, CellValue, as_book
from xlperf.workbook.book import Cell as BookCell
from xlperf.workbook.book import Sheet as Worksheet
from xlperf.workbook.cells import is_percent, raw

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook

__all__ = [
    "Limits",
    "SourceMap",
    "WorkbookReadError",
    "outdated",
    "read_book",
    "read_workbook",
    "template_version",
]

ANSWER_ALIASES = {
    "是": Answer.YES,
    "√": Answer.YES,
    "✓": Answer.YES,
    "否": Answer.NO,
    "×": Answer.NO,
    "✗": Answer.NO,
    "不适用": Answer.NA,
}
BOOL_ALIASES = {"是": True, "否": False, "TRUE": True, "FALSE": False, "1": True, "0": False}
#: units an amount may carry, as factors to 万元 (a converted amount is reported with P02)
AMOUNT_UNITS = {
    "": Decimal(1),
    "万元": Decimal(1),
    "万": Decimal(1),
    "亿元": Decimal(10000),
    "亿": Decimal(10000),
    "元": Decimal("0.0001"),
}


_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:T00:00:00)?")


def _typed(value: CellValue) -> str:
    """What the clerk typed, as text for the report and the findings (clipped)."""
    return "" if value is None else _clip(value, 40)


def _clip(value: CellValue, limit: int = 30) -> str:
    text = str(value).strip()
    return text if len(text) <= limit else text[:limit] + "…"


#: a table row as read: column attr (or header) → (its cell, percent-formatted?, its coordinate)
Record: TypeAlias = "dict[str, tuple[BookCell, bool, str]]"


@dataclass(frozen=True)
class SheetFormula:
    """A formula cell of the template whose value xlperf also computes (a row's 完成率, 支出进度's
    月均执行率): where it is, the formula the current template puts there, and what that formula
    computes from the cells as typed (None: it shows blank, or cannot be worked out here)."""

    sheet: str
    cell: str
    formula: str
    sheet_value: Decimal | None
    holds_formula: bool
    current: str = ""  # the formula the cell holds ("" when it holds none)


@dataclass
class SourceMap:
    """Field path → (sheet, cell), so a finding about ``outputs[2].actual_value`` points at 产出指标!K7."""

    cells: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: the rules the reader read the workbook by (embedded, named by id, or ``--framework``)
    framework: Framework | None = None
    #: the rules the workbook itself carries (embedded, or named by id), whatever scored it
    own_framework: Framework | None = None
    #: standard sheet title → the sheet it was read from under another name (renamed)
    moved: dict[str, str] = field(default_factory=dict)
    #: ``outputs[2].completion``, ``spending.mean`` → the template's formula cell of that value
    formulas: dict[str, SheetFormula] = field(default_factory=dict)

    def sheet_order(self) -> tuple[str, ...]:
        """The standard sheets in template order, each under the name it has in this workbook."""
        return tuple(self.moved.get(title, title) for title in L.ALL_SHEETS)

    def add(self, path: str, sheet: str, cell: str) -> None:
        self.cells[path] = (sheet, cell)

    def locate(self, f: Finding) -> Finding:
        if f.sheet:
            return f
        path = f.path
        while path:
            if path in self.cells:
                sheet, cell = self.cells[path]
                return f.located(sheet, cell)
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        head = re.split(r"[.\[]", f.path, maxsplit=1)[0]
        if head in self.cells:
            sheet, cell = self.cells[head]
            return f.located(sheet, cell)
        return f


_NAME_FIX = "请在“公式 → 名称管理器”中把它改为只指向填写该项的单元格（可对照 xlperf new 生成的标准模板）"


def name_problem(name: str, label: str, text: str) -> str:
    """Why defined name ``name`` points at no cell, and what to do, in Chinese (for its R01 finding)."""
    if re.fullmatch(r"=?'?[^'!]*'?!\$?[A-Za-z]{1,3}\$?\d+:\$?[A-Za-z]{1,3}\$?\d+", text.strip()):
        return (
            f"名称 {name}（{label}）指向区域 {text.strip().lstrip('=').replace('$', '')}，而不是一个单元格；"
            + _NAME_FIX
        )
    if "#REF!" in text.upper():
        return f"名称 {name}（{label}）指向 #REF!（它原来指向的行、列或工作表已被删除）；" + _NAME_FIX
    if "[" in text:
        return f"名称 {name}（{label}）指向另一个工作簿（{text[:60]}）；" + _NAME_FIX
    return f"名称 {name}（{label}）没有指向单元格（{text[:60] or '空'}）；" + _NAME_FIX


#: how far the reader looks for a table's header row when the Excel table itself is gone
SCAN_ROWS = 100
SCAN_COLUMNS = 64
#: how far it looks for a field's label when its defined name is gone
LABEL_ROWS = 200
LABEL_COLUMNS = 8
_UPGRADE_HINT = (
    "运行 xlperf upgrade 旧表.xlsx -o 新表.xlsx（网页和 Excel 中为“升级模板”按钮）可把填写内容迁移到当前模板"
)


class _Reader:
    def __init__(self, wb: Book) -> None:
        self.wb = wb
        self.findings: list[Finding] = []
        self.map = SourceMap()
        #: optional fields whose defined name the workbook lacks (an older template): read as empty
        self.missing_optional: list[L.Field] = []
        #: table name → (sheet, ref) where it was found (None: nowhere), each looked up once
        self.tables: dict[str, tuple[Worksheet, str] | None] = {}
        #: standard sheet title → the sheet its content was found on under another name
        self.moved: dict[str, str] = {}
        #: the 完成等级 a 定性 row may say: the scoring framework's (set once it is known)
        self.grades: tuple[str, ...] = tuple(g.value for g in Grade)

    # ------------------------------------------------------------------ cells
    def _cached(self, ws: Worksheet, coord: str) -> CellValue:
        return self.wb.cached(ws.title, coord)

    def cell_value(
        self, ws: Worksheet, coord: str, path: str, cell: BookCell | None = None
    ) -> tuple[CellValue, bool]:
        """The raw input of one cell and whether it is percent-formatted. Formulas give their cached
        result (with a warning) or a finding when Excel never computed one."""
        cell = cell if cell is not None else ws[coord]
        if cell.merged:
            self.findings.append(
                finding(
                    "P01", f"{ws.title}!{coord} 与其他单元格合并，无法读取，请取消合并后在此单元格填写", path
                ).located(ws.title, coord)
            )
            return None, False
        value = raw(cell)
        if cell.data_type == "f":
            cached = self._cached(ws, coord)
            formula = str(cell.value)[:40]
            if cached is None or (isinstance(cached, str) and cached.startswith("#")):
                self.findings.append(
                    finding(
                        "P03",
                        f"{ws.title}!{coord} 是公式“{formula}”，没有可用的计算结果；请改为直接填写数值或文字",
                        path,
                    ).located(ws.title, coord)
                )
                return None, is_percent(cell)
            self.findings.append(
                finding(
                    "P02",
                    f"{ws.title}!{coord} 是公式“{formula}”，已使用其计算结果 {cached}；建议改为直接填写",
                    path,
                ).located(ws.title, coord)
            )
            return cached, is_percent(cell)
        if cell.data_type == "e":
            self.findings.append(
                finding("P03", f"{ws.title}!{coord} 是错误值 {value}，请改为实际数值", path).located(
                    ws.title, coord
                )
            )
            return None, False
        return value, is_percent(cell)

    def parse(
        self,
        type_: L.FieldType | L.ColumnType,
        value: CellValue,
        percent: bool,
        sheet: str,
        coord: str,
        path: str,
        label: str,
    ) -> object:
        """Turn a raw cell value into the model's type for ``type_``; problems become findings."""
        read = _FIELD_READERS[type_] if isinstance(type_, L.FieldType) else _COLUMN_READERS[type_]
        if value is None or (isinstance(value, str) and not value.strip()):
            return "" if read is _read_text else None  # an empty text is "", any other empty cell None
        return read(self, _Cell(value, percent, sheet, coord, path, label, self.findings))

    # ------------------------------------------------------------------ names
    def name_cell(self, item: L.Field) -> tuple[Worksheet, str] | None:
        """The one cell field ``item``'s defined name points at; a name that points anywhere else
        is an error on the field's sheet saying how to repair it."""
        name, label, path = item.name, item.label, item.path
        home = self.sheet_title(L.sheet_of(item)) or L.sheet_of(item)
        defined = self.wb.defined_names[name]
        for sheet, coord in name_destinations(defined):
            if sheet in self.wb.sheetnames and ":" in coord:  # a range: which cell is meant is a guess
                self.findings.append(
                    finding(
                        "R01",
                        f"名称 {name}（{label}）指向区域 {sheet}!{coord.replace('$', '')}，而不是一个单元格；"
                        "请在“公式 → 名称管理器”中把它改为只指向填写该项的单元格",
                        path,
                    ).located(sheet, coord.replace("$", "").split(":")[0])
                )
                return None
            if sheet in self.wb.sheetnames:
                return self.wb[sheet], coord.replace("$", "")
            self.findings.append(
                finding(
                    "R01", f"名称 {name}（{label}）指向的工作表“{sheet}”不存在；" + _NAME_FIX, path
                ).located(home, "")
            )
            return None
        self.findings.append(
            finding("R01", name_problem(name, label, name_text(defined)), path).located(home, "")
        )
        return None

    def field_cell(self, item: L.Field) -> tuple[Worksheet, str] | None:
        """The cell of one field: by its defined name; when the workbook has no such name, an
        optional field (made by an older template) is empty, and any other is looked for by its
        label on its sheet (the cell right of it), with a 提醒 — or is an error on that sheet."""
        if item.name in self.wb.defined_names:
            return self.name_cell(item)
        if item.optional:
            self.missing_optional.append(item)
            return None
        sheet = self.sheet_title(L.sheet_of(item))
        found = self.by_label(sheet, item.label) if sheet is not None else None
        if found is not None:
            ws, coord = found
            self.findings.append(
                finding(
                    "R02",
                    f"工作簿没有名称 {item.name}，已按标签“{item.label}”读取右侧单元格；{_UPGRADE_HINT}",
                    item.path,
                ).located(ws.title, coord)
            )
            return found
        self.findings.append(
            finding(
                "R01",
                f"工作簿缺少名称 {item.name}（{item.label}），也找不到标签“{item.label}”；"
                f"{_UPGRADE_HINT}，或在“公式 → 名称管理器”中恢复该名称",
                item.path,
            ).located(sheet or L.sheet_of(item), "")
        )
        return None

    def by_label(self, title: str, label: str) -> tuple[Worksheet, str] | None:
        """The cell right of the first cell on sheet ``title`` whose text is ``label``."""
        ws = self.wb[title]
        key = normalise_text(label)
        for row in range(1, min(_max_row(ws), LABEL_ROWS) + 1):
            for col in range(1, LABEL_COLUMNS + 1):
                value = ws.cell(row=row, column=col).value
                if isinstance(value, str) and normalise_text(value) == key:
                    return ws, f"{_letter(col + 1)}{row}"
        return None

    def sheet_title(self, title: str) -> str | None:
        """The sheet that holds the standard sheet ``title``'s content: itself, or the sheet it was
        renamed to (Excel keeps a renamed sheet's names and tables pointing at it)."""
        if title in self.wb.sheetnames:
            return title
        if title in self.moved:
            return self.moved[title]
        for spec in L.TABLES:
            if spec.title == title:
                on = next((ws.title for ws in self.wb.worksheets if spec.table in ws.tables), None)
                if on is not None:
                    self.moved[title] = on
                    return on
        for item in L.all_fields():
            defined = self.wb.defined_names.get(item.name)
            if L.sheet_of(item) != title or defined is None:
                continue
            on = next((s for s, _ in name_destinations(defined) if s in self.wb.sheetnames), None)
            if on is not None:
                self.moved[title] = on
                return on
        return None

    def sheet_findings(self) -> None:
        """One finding per standard sheet not under its own name: renamed (found by its names,
        tables or table headers: a 提醒 naming the sheet) or missing (an error)."""
        for title in L.INPUT_SHEETS:
            if title in self.wb.sheetnames or title == L.README:
                continue
            actual = self.sheet_title(title)
            if actual is not None:
                self.findings.append(
                    finding(
                        "R02",
                        f"没有名为“{title}”的工作表，已读取改名后的“{actual}”；把工作表名改回“{title}”可消除此提醒",
                    ).located(actual, "A1")
                )
            else:
                self.findings.append(
                    finding(
                        "R01",
                        f"工作簿缺少工作表“{title}”（可能被删除或改名）；请恢复该工作表，或{_UPGRADE_HINT}",
                    ).located(title, "")
                )

    def optional_findings(self) -> None:
        """The optional fields an older template does not have: one 提醒 for all of them."""
        if not self.missing_optional:
            return
        labels = "、".join(f.label for f in self.missing_optional)
        sheets = sorted({L.sheet_of(f) for f in self.missing_optional}, key=L.INPUT_SHEETS.index)
        where = self.sheet_title(sheets[0]) or sheets[0]
        self.findings.append(
            finding(
                "R02",
                f"本工作簿由较早版本的模板生成，没有以下可不填的项目：{labels}，已按未填写处理；"
                f"如需填写，{_UPGRADE_HINT}",
                "department",
            ).located(where, "")
        )

    def read_fields(self, ev: dict[str, dict[str, object]]) -> None:
        # A frozen (报送) workbook holds the core's own values where the template has formulas: those
        # are not hand-entered figures (V04), so its computed cells are not read back.
        frozen = self.wb.defined_names.get("xp_frozen_at") is not None
        for item in L.all_fields():
            loc = self.field_cell(item)
            if loc is None:
                continue
            ws, coord = loc
            self.map.add(item.path, ws.title, coord)
            if item.type is L.FieldType.COMPUTED:
                cell = ws[coord]
                if not frozen and cell.data_type != "f" and cell.value not in (None, ""):
                    value = self.parse(
                        L.FieldType.RATE, cell.value, is_percent(cell), ws.title, coord, item.path, item.label
                    )
                    _set(ev, item.path, value)
                continue
            value, percent = self.cell_value(ws, coord, item.path)
            parsed = self.parse(item.type, value, percent, ws.title, coord, item.path, item.label)
            if parsed is not None and not (
                item.type in (L.FieldType.TEXT, L.FieldType.LONGTEXT) and parsed == ""
            ):
                _set(ev, item.path, parsed)

    # ------------------------------------------------------------------ tables
    def find_table(self, spec: L.TableSheet) -> tuple[Worksheet, str] | None:
        """Where table ``spec`` is: the Excel table of its name, else a row of its header texts
        (a table lost in copying, a sheet pasted as values) with a 提醒, else an error. Once."""
        if spec.table in self.tables:
            return self.tables[spec.table]
        found = next(
            ((ws, str(ws.tables[spec.table])) for ws in self.wb.worksheets if spec.table in ws.tables), None
        )
        if found is None:
            found = self.scan_headers(spec)
            if found is not None:
                ws, ref = found
                if spec.title not in self.wb.sheetnames and ws.title not in L.INPUT_SHEETS:
                    self.moved.setdefault(spec.title, ws.title)
                self.findings.append(
                    finding(
                        "R02",
                        f"没有找到 Excel 表格 {spec.table}（复制或另存时可能丢失），已按表头在“{ws.title}”"
                        f"第 {bounds(ref)[1]} 行找到“{spec.title}”的内容并读取",
                        spec.path.split(".")[0],
                    ).located(ws.title, ref.split(":")[0])
                )
            else:
                where = self.sheet_title(spec.title)
                hint = (
                    f"（应在“{where}”工作表上，表头也没有找到）"
                    if where is not None
                    else f"（工作表“{spec.title}”也不存在）"
                )
                self.findings.append(
                    finding(
                        "R01",
                        f"工作簿缺少表格 {spec.table}{hint}；请使用 xlperf new "
                        "生成的标准模板并把数据复制进去",
                        spec.path.split(".")[0],
                    ).located(where or spec.title, "")
                )
        self.tables[spec.table] = found
        return found

    def scan_headers(self, spec: L.TableSheet) -> tuple[Worksheet, str] | None:
        """A run of header cells naming ``spec``'s columns (at least two, most of them, one an
        input) on its own sheet first, then on sheets named like it, then any other; never inside
        another Excel table. The table reaches down to the last row with content in its columns."""
        sheets = [ws for ws in self.wb.worksheets if ws.title not in (*L.OUTPUT_SHEETS, L.HIDDEN, L.README)]
        own = self.sheet_title(spec.title)
        sheets.sort(key=lambda ws: (ws.title != own, spec.title not in ws.title))
        need = max(2, -(-len(spec.columns) * 3 // 5))
        for ws in sheets:
            taken = [bounds(ref) for ref in ws.tables.values()]
            last_row = min(_max_row(ws), SCAN_ROWS)
            for row in range(1, last_row + 1):
                run: list[tuple[int, L.Column | None]] = []
                for col in range(1, SCAN_COLUMNS + 2):
                    value = ws.cell(row=row, column=col).value if col <= SCAN_COLUMNS else None
                    if value is not None and str(value).strip():
                        run.append((col, spec.column_named(str(value))))
                        continue
                    named = [c for _, c in run if c is not None]
                    inside = (
                        any(c1 <= run[0][0] <= c2 and r1 <= row <= r2 for c1, r1, c2, r2 in taken)
                        if run
                        else True
                    )
                    if len(named) >= need and any(c.attr for c in named) and not inside:
                        first, last = run[0][0], run[-1][0]
                        bottom = row
                        for r in range(row + 1, ws.max_row + 1):
                            if any(
                                ws.cell(row=r, column=c).value not in (None, "")
                                for c in range(first, last + 1)
                            ):
                                bottom = r
                        return ws, f"{_letter(first)}{row}:{_letter(last)}{max(bottom, row + 1)}"
                    run = []
        return None

    def read_table(self, spec: L.TableSheet) -> list[tuple[int, Record]]:
        """Rows of a table as {attr: (cell, percent?, coordinate)}, blank rows dropped."""
        found = self.find_table(spec)
        if found is None:
            return []
        ws, ref = found
        min_col, min_row, max_col, max_row = bounds(ref)
        max_row = min(max_row, ws.max_row)  # bounded by the cells that exist, not by what the ref claims
        headers: dict[str, int] = {}
        for col in range(min_col, max_col + 1):
            text = ws.cell(row=min_row, column=col).value
            if text is not None:
                headers[normalise_text(str(text))] = col
        self.map.add(spec.path.split(".")[0], ws.title, f"{_letter(min_col)}{min_row}")
        columns: dict[str, int] = {}
        for c in spec.columns:
            key: str | None = normalise_text(c.header)  # header texts are compared normalised
            if key not in headers:  # an earlier template's header, the V13 column with any threshold
                key = next((h for h in headers if c.matches(h)), None)
            if key is not None:
                columns[c.header] = headers[key]
            elif c.is_input or c.attr:
                self.findings.append(
                    finding(
                        "R01",
                        f"“{ws.title}”表格 {spec.table} 缺少列“{c.header}”（表头可能被改名）；请恢复表头文字",
                        spec.path.split(".")[0],
                    ).located(ws.title, f"{_letter(min_col)}{min_row}")
                )
        rows: list[tuple[int, Record]] = []
        wanted = [
            (
                c.attr or c.header,
                columns[c.header],
                _letter(columns[c.header]),
                c.attr is not None and c.is_input,
            )
            for c in spec.columns
            if c.header in columns and (c.attr is not None or not c.type.is_input)
        ]
        for r in range(min_row + 1, max_row + 1):
            record: Record = {}
            blank = True
            for key, col, letter, is_input in wanted:
                cell = ws.cell(row=r, column=col)
                record[key] = (cell, is_percent(cell), f"{letter}{r}")
                if is_input and blank and not _blank(cell):
                    blank = False
            # a 管理效率 row is kept by its 编号 and a month by its 月份 even when nothing is entered,
            # so that "请填写…" points at the row's own cell
            keyed = (
                spec.path == "management" and "indicator" in record and not _blank(record["indicator"][0])
            ) or (spec.path == "spending.monthly" and "月份" in record and not _blank(record["月份"][0]))
            if blank and not keyed:
                continue  # a blank row; a 管理效率 row is kept by its 编号 even when nothing is answered
            rows.append((r, record))
        return rows

    def values_for(self, ws_title: str, record: Record, spec: L.TableSheet, path: str) -> dict[str, object]:
        """The row's input cells read into the model's types ({attr: value}), each mapped to its cell."""
        ws = self.wb[ws_title]
        out: dict[str, object] = {}
        for attr, type_, header, suffix in _input_columns(spec):
            if attr not in record:
                continue
            cell, _, coord = record[attr]
            p = path + suffix
            self.map.add(p, ws_title, coord)
            value, percent = self.cell_value(ws, coord, p, cell)
            out[attr] = self.parse(type_, value, percent, ws_title, coord, p, header)
        return out


# ---------------------------------------------------------------------- reading one cell
@dataclass(frozen=True)
class _Cell:
    """One non-empty input cell as a reading function sees it: its value, where it is and what it
    is called, and the findings its problems go to."""

    value: CellValue
    percent: bool  # the cell is percent-formatted
    sheet: str
    coord: str
    path: str
    label: str
    findings: list[Finding]

    def problem(self, msg: str, code: str = "P01") -> None:
        # the message names the field; the finding's sheet and cell say where (no address repeated)
        self.findings.append(
            finding(code, f"{self.label}：{msg}", self.path, typed=_typed(self.value)).located(
                self.sheet, self.coord
            )
        )

    def unknown(self, what: str, options: tuple[str, ...]) -> None:
        """A value not among a dropdown's ``options``: say so, with the nearest option as a hint."""
        hint = suggest(self.text, options)
        guess = f"是否应为“{hint}”？" if hint else ""
        self.problem(f"{what}“{_clip(self.value)}”无法识别，{guess}请从下拉列表选择 {'/'.join(options)}")

    @property
    def text(self) -> str:
        return normalise_text(str(self.value))


def _read_text(reader: _Reader, cell: _Cell) -> str:
    value = cell.value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    date = _ISO_DATE.fullmatch(text)  # a date cell (e.g. 填报日期), as cells.raw gives it
    return f"{int(date[1])}年{int(date[2])}月{int(date[3])}日" if date else text


def _quantity_of(cell: _Cell, *, rate: bool = False) -> Quantity | None:
    """The cell read as a number (with its unit), or None after a finding saying why not."""
    # a percent number format scales stored numbers only: text "0.9213" is not 0.9213 %
    percent = cell.percent and not isinstance(cell.value, str)
    q = (
        parse_rate(cell.value, percent_cell=percent)
        if rate
        else parse_quantity(cell.value, percent_cell=percent)
    )
    if q.problem:
        cell.problem(q.problem)
        return None
    return q


def _figure(cell: _Cell, q: Quantity) -> Decimal | None:
    """``q``'s value if it can be a real figure (else None, with a finding when it has one)."""
    if q.value is None:
        return None
    if not plausible(q.value):
        # past Excel's 15 significant digits no budget figure or rate is real (and the
        # scores' decimal arithmetic would overflow): a typo, not a number to score
        cell.problem(f"数值 {q.value} 超出合理范围，请核对是否多输或少输了位数")
        return None
    return q.value


def _read_amount(reader: _Reader, cell: _Cell) -> Decimal | None:
    q = _quantity_of(cell)
    if q is None:
        return None
    if q.none_word:
        return Decimal(0)  # "-", "/", "无" in an amount cell is the accountant's zero
    value = _figure(cell, q)
    if value is None:
        return None
    factor = AMOUNT_UNITS.get(q.unit) if q.direction is None else None
    if factor is None:
        cell.problem(f"金额请以万元为单位只填写数值（读到“{_clip(cell.value)}”）")
        return None
    if factor != 1:
        converted = plain(value * factor)
        cell.problem(f"“{_clip(cell.value)}”已换算为 {converted} 万元，请核对", "P02")
        return converted
    return value


def _read_int(reader: _Reader, cell: _Cell) -> int | None:
    q = _quantity_of(cell)
    value = None if q is None else _figure(cell, q)
    if q is None or value is None:
        return None
    if value != value.to_integral_value() or q.unit not in ("", "年", "个", "项"):
        cell.problem(f"请填写整数（读到“{cell.value}”）")
        return None
    return int(value)


def _read_quantity(reader: _Reader, cell: _Cell) -> Quantity | None:
    q = _quantity_of(cell)
    return q if q is not None and _figure(cell, q) is not None else None


def _read_rate(reader: _Reader, cell: _Cell) -> Decimal | None:
    q = _quantity_of(cell, rate=True)
    value = None if q is None else _figure(cell, q)
    if q is None or value is None:
        return None
    if q.note:  # "请核对" once, whoever wrote it
        cell.problem(q.note if "请核对" in q.note else q.note + "，请核对", "P02")
    return value


def _read_direction(reader: _Reader, cell: _Cell) -> Direction | None:
    d = parse_direction(cell.value)
    if d is None:
        cell.unknown("方向", ("≥", "≤", "="))
    return d


def _read_indicator_kind(reader: _Reader, cell: _Cell) -> Kind | None:
    if cell.text in (k.value for k in Kind):
        return Kind(cell.text)
    cell.unknown("类型", tuple(k.value for k in Kind))
    return None


def _read_grade(reader: _Reader, cell: _Cell) -> str | None:
    if cell.text in reader.grades:
        return cell.text
    cell.unknown("完成等级", reader.grades)
    return None


def _read_answer(reader: _Reader, cell: _Cell) -> Answer | None:
    if cell.text in ANSWER_ALIASES:
        return ANSWER_ALIASES[cell.text]
    cell.unknown("答复", tuple(a.value for a in Answer))
    return None


def _read_bool(reader: _Reader, cell: _Cell) -> bool | None:
    if cell.text.upper() in BOOL_ALIASES:
        return BOOL_ALIASES[cell.text.upper()]
    cell.unknown("填写内容", ("是", "否"))
    return None


#: reads one non-empty cell into the model's type of its field or column (None: a finding says why)
_ReadCell = Callable[[_Reader, _Cell], object]
#: how a table column of each input type is read (FIXED and FORMULA columns are never read)
_COLUMN_READERS: dict[L.ColumnType, _ReadCell] = {
    L.ColumnType.TEXT: _read_text,
    L.ColumnType.LONGTEXT: _read_text,
    L.ColumnType.INT: _read_int,
    L.ColumnType.QUANTITY: _read_quantity,
    L.ColumnType.DIRECTION: _read_direction,
    L.ColumnType.INDICATOR_KIND: _read_indicator_kind,
    L.ColumnType.GRADE: _read_grade,
    L.ColumnType.ANSWER: _read_answer,
    L.ColumnType.RATE: _read_rate,
    L.ColumnType.AMOUNT: _read_amount,
}
#: how a single field of each type is read (a COMPUTED field's typed-over value is read as a RATE)
_FIELD_READERS: dict[L.FieldType, _ReadCell] = {
    L.FieldType.TEXT: _read_text,
    L.FieldType.LONGTEXT: _read_text,
    L.FieldType.INT: _read_int,
    L.FieldType.AMOUNT: _read_amount,
    L.FieldType.RATE: _read_rate,
    L.FieldType.BOOL: _read_bool,
}


@functools.cache
def _input_columns(spec: L.TableSheet) -> list[tuple[str, L.ColumnType, str, str]]:
    """(attr, type, header, path suffix) of the columns a clerk fills in (the layout is fixed: once)."""
    return [
        (c.attr, c.type, c.header, "." + (c.attr.replace(".", "[", 1) + "]" if "." in c.attr else c.attr))
        for c in spec.columns
        if c.attr is not None and c.is_input
    ]


def _max_row(ws: Worksheet) -> int:
    """The sheet's last row with a cell (a stream sheet knows it once a cell has been read)."""
    ws.cell(row=1, column=1)
    return ws.max_row


def _blank(cell: BookCell | None) -> bool:
    if cell is None:
        return True
    value = cell.value
    return value is None or (isinstance(value, str) and not value.strip())


def _letter(col: int) -> str:
    return column_letter(col)


def _set(ev: dict[str, dict[str, object]], path: str, value: object) -> None:
    head, _, tail = path.partition(".")
    ev.setdefault(head, {})[tail] = value


def _table_sheet_title(r: _Reader, spec: L.TableSheet) -> str:
    found = r.find_table(spec)
    return found[0].title if found is not None else spec.title


def _text_in(row: dict[str, object], key: str) -> str:
    """A text field of a row being read ("" when it is not there)."""
    value = row.get(key)
    return value if isinstance(value, str) else ""


def _indicator_rows(r: _Reader, spec: L.TableSheet, band: tuple[Decimal, Decimal]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    title = _table_sheet_title(r, spec)
    for index, (row_no, record) in enumerate(r.read_table(spec)):
        path = f"{spec.path}[{index}]"
        first = next(iter(record.values()))[2]
        r.map.add(path, title, re.sub(r"\d+", str(row_no), first))
        values = r.values_for(title, record, spec, path)
        row: dict[str, object] = {}
        for attr, value in values.items():
            if isinstance(value, Quantity):
                continue
            if value is not None and value != "":
                row[attr] = value
        unit_col = spec.column("unit").header
        for attr in ("target_value", "actual_value"):
            q = values.get(attr)
            if not isinstance(q, Quantity):
                continue
            row[attr] = q.value
            coord = record[attr][2]
            if q.unit:
                declared = normalise_text(_text_in(row, "unit"))
                if not declared:
                    row["unit"] = q.unit
                    if attr == "target_value":
                        r.map.add(f"{path}.unit", title, coord)
                elif declared != normalise_text(q.unit):
                    r.findings.append(
                        finding(
                            "P01",
                            f"{spec.column(attr).header}：数值中的单位“{q.unit}”与“{unit_col}”列的“{row['unit']}”不一致，请统一",
                            f"{path}.{attr}",
                            typed=_typed(record[attr][0].value),
                        ).located(title, coord)
                    )
                    row[attr] = None  # which unit is meant is unknown: not scored
            if attr == "actual_value" and q.direction is not None:
                r.findings.append(
                    finding(
                        "P02",
                        f"实际值“{_clip(record[attr][0].value)}”中的方向词已忽略，按 {q.value} 计算；"
                        "请只填写实际数",
                        f"{path}.{attr}",
                    ).located(title, coord)
                )
            if attr == "target_value" and q.direction is not None:
                stated = row.get("direction")  # a Direction, read from the 方向 column
                if stated is None:
                    row["direction"] = q.direction
                elif stated is not q.direction:
                    r.findings.append(
                        finding(
                            "V11",
                            f"目标值中写的是“{q.direction.value}”，方向列却是“{stated}”，请统一",
                            f"{path}.direction",
                        ).located(title, coord)
                    )
        _percent_convention(r, title, record, values, row, path, band)
        _completion_cell(r, title, record, path, spec)
        out.append(row)
    return out


def _number(value: CellValue) -> Decimal | None:
    """A cell value as a spreadsheet's arithmetic takes it: a number, or text that is one."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return Decimal(str(value))
    try:
        return Decimal(str(value).strip())
    except ArithmeticError:
        return None


def _completion_cell(r: _Reader, title: str, record: Record, path: str, spec: L.TableSheet) -> None:
    """Record the row's 完成率 formula cell and what :func:`layout.completion_formula` computes
    from the row as typed (the writer shows xlperf's value where the two differ)."""
    needed = ("kind", "direction", "target_value", "actual_value", "grade")
    if "完成率" not in record or r.map.framework is None or any(a not in record for a in needed):
        return
    fw = r.map.framework
    raw = {a: record[a][0].value for a in needed}
    k, d, t_ref, a_ref, g = (record[a][2] for a in needed)
    value: Decimal | None = None
    if raw["kind"] == "定性":
        grade = fw.completion.grades.get(str(raw["grade"])) if raw["grade"] is not None else None
        value = None if grade is None else Decimal(str(grade))
    else:
        t, a = _number(raw["target_value"]), _number(raw["actual_value"])
        direction = {"≤": Direction.LE, "=": Direction.EQ}.get(str(raw["direction"]), Direction.GE)
        if t is not None and a is not None and not (t < 0 or (t == 0 and direction is not Direction.LE)):
            value = completion_ratio(t, a, direction)
    cell = record["完成率"]
    r.map.formulas[f"{path}.completion"] = SheetFormula(
        title,
        cell[2],
        L.completion_formula(k, d, t_ref, a_ref, g, fw),
        value,
        cell[0].data_type == "f",
        str(cell[0].value) if cell[0].data_type == "f" else "",
    )


def _percent_convention(
    r: _Reader,
    title: str,
    record: Record,
    values: dict[str, object],
    row: dict[str, object],
    path: str,
    band: tuple[Decimal, Decimal],
) -> None:
    """Read a % row's target and actual, and its 手工完成率, by the one percent convention (README)."""
    target, actual = values.get("target_value"), values.get("actual_value")
    override = values.get("override_rate")
    if isinstance(override, Quantity) and override.value is not None:
        q = rate_reading(override, maximum=band[1])
        coord = record["override_rate"][2]
        if q.problem:
            r.findings.append(
                finding(
                    "P01",
                    f"手工完成率(%)：{q.problem}",
                    f"{path}.override_rate",
                    typed=_typed(record["override_rate"][0].value),
                ).located(title, coord)
            )
        elif q.note:
            r.findings.append(
                finding("P02", f"手工完成率(%)：{q.note}", f"{path}.override_rate").located(title, coord)
            )
        row["override_rate"] = q.value
    if not (isinstance(target, Quantity) and isinstance(actual, Quantity)):
        return
    if (
        normalise_text(_text_in(row, "unit")) != "%"
        or row.get("target_value") is None
        or row.get("actual_value") is None
    ):
        return
    stated = row.get("direction")
    direction = (
        stated
        if isinstance(stated, Direction)
        else direction_in_text(_text_in(row, "target_text")) or Direction.GE
    )
    choice = resolve_percent_row(target, actual, direction, *band)
    if choice is None or not choice.changed:
        return
    row["target_value"], row["actual_value"] = choice.target, choice.actual
    labels = {"target_value": "目标值", "actual_value": "实际值"}
    for attr, typed, used in choice.changed:
        r.findings.append(
            finding(
                "P02",
                f"{labels[attr]}按 {used}% 计算（所填内容读作 {typed}% 时完成率为 {_pct(choice.typed_rate)}，"
                f"明显不合理）；如确为 {typed}%，请直接填写“{typed}%”",
                f"{path}.{attr}",
            ).located(title, record[attr][2])
        )


def _pct(value: Decimal | None) -> str:
    return "无法计算" if value is None else f"{value.quantize(Decimal('0.01'))}%"


def _mean_cell(r: _Reader, title: str, rows: list[tuple[int, Record]]) -> None:
    """Record 支出进度's 月均执行率 cell (found by its label, in every template version) and the
    formula the current template puts there over the month rows."""
    if title not in r.wb.sheetnames or not rows or any("rate" not in rec for _, rec in rows):
        return
    found = r.by_label(title, L.MEAN_LABEL)
    if found is None:
        return
    first, last = rows[0][1]["rate"][2], rows[-1][1]["rate"][2]
    ws, coord = found
    cell = ws[coord]
    holds = cell.data_type == "f"
    r.map.formulas["spending.mean"] = SheetFormula(
        title, coord, L.mean_formula(f"{first}:{last}"), None, holds, str(cell.value) if holds else ""
    )


def _management(r: _Reader, fw: Framework) -> list[dict[str, object]]:
    specs = {s.id: s for s in fw.management()}
    spec = L.table_for(L.MANAGEMENT_TABLE, fw)
    title = _table_sheet_title(r, spec)
    out: list[dict[str, object]] = []
    for row_no, record in r.read_table(spec):
        cell = record.get("indicator", (None, False, ""))[0]
        key = str(cell.value).strip() if cell is not None and cell.value is not None else ""
        if not key:
            continue
        path = f"management[{key}]"
        coord = record["indicator"][2]
        r.map.add(path, title, coord)
        values = r.values_for(title, record, spec, path)
        ind = specs.get(key)
        n_items = len(ind.items) if ind else L.answer_columns(fw)
        answers = [values.get(f"answers.{i}") for i in range(n_items)]
        entry: dict[str, object] = {"indicator": key, "answers": answers}
        for attr in ("count_total", "count_done", "override_score"):
            q = values.get(attr)
            if not isinstance(q, Quantity):
                continue
            if (
                attr != "override_score"
                and q.value is not None
                and (
                    q.unit == "%"
                    or q.direction is not None
                    or q.value < 0
                    or q.value != q.value.to_integral_value()
                )
            ):
                coord = record[attr][2]
                r.findings.append(
                    finding(
                        "P01",
                        f"{title}!{coord}（{spec.column(attr).header}）：数量应为不小于 0 "
                        f"的整数（读到“{record[attr][0].value}”）",
                        f"{path}.{attr}",
                    ).located(title, coord)
                )
                continue
            entry[attr] = q.value
        for attr in ("evidence", "explanation", "override_reason"):
            if values.get(attr):
                entry[attr] = values[attr]
        full_cell = record.get("stated_full")
        if full_cell is not None and ind is not None:
            q = parse_quantity(full_cell[0].value)
            r.map.add(f"{path}.stated_full", title, full_cell[2])
            if q.value is not None and q.value != ind.full:
                entry["stated_full"] = q.value
        del row_no
        out.append(entry)
    return out


def _simple_list(r: _Reader, spec: L.TableSheet) -> list[dict[str, object]]:
    title = _table_sheet_title(r, spec)
    out = []
    for index, (_, record) in enumerate(r.read_table(spec)):
        out.append(r.values_for(title, record, spec, f"{spec.path}[{index}]"))
    return out


def _named_text(wb: Book, name: str, strip: bool = True) -> tuple[str, str, str] | None:
    """(text, sheet, cell) of the one cell a defined name points at, when it exists."""
    defined = wb.defined_names.get(name)
    if defined is None:
        return None
    for sheet, coord in name_destinations(defined):
        coord = coord.replace("$", "")
        if sheet in wb.sheetnames and re.fullmatch(r"[A-Z]{1,3}\d{1,7}", coord):
            value = wb[sheet][coord].value
            text = "" if value is None else str(value)
            return (text.strip() if strip else text), sheet, coord
    return None


def template_version(book: BookLike) -> str:
    """The 模板版本 a workbook records on ``_xlperf`` ("" when it records none)."""
    found = _named_text(as_book(book), "xp_template_version")
    return found[0] if found is not None else ""


def outdated(book: BookLike, findings: list[Finding]) -> bool:
    """Whether ``xlperf upgrade`` has something to do for this workbook: it was made from an older
    template, or its structure needed finding (a renamed sheet, a lost name or table: R01/R02)."""
    return template_version(book) != L.TEMPLATE_VERSION or any(f.code in ("R01", "R02") for f in findings)


def _recorded(r: _Reader) -> Recorded:
    """What the workbook says of its rules: id, hash and the embedded copy (``_xlperf``)."""
    values = {}
    for name in ("xp_framework", "xp_framework_sha256"):
        defined = r.wb.defined_names.get(name)
        found = _named_text(r.wb, name)
        if defined is not None and found is None:  # #REF!, a range, another workbook, a missing sheet
            r.findings.append(finding("R02", name_problem(name, "评分框架", name_text(defined))))
        if found is not None:
            values[name] = found[0]
            if name == "xp_framework":
                r.map.add("framework", found[1], found[2])
    chunks = []
    for name in L.DEF_NAMES:
        found = _named_text(r.wb, name, strip=False)  # the rules' text exactly as embedded
        if found is None:
            break
        chunks.append(found[0])
    return Recorded(values.get("xp_framework", ""), values.get("xp_framework_sha256", ""), "".join(chunks))


def read_book(
    book: BookLike,
    values_loader: Callable[[], Workbook | None] | None = None,
    framework: Framework | None = None,
) -> tuple[Evaluation, list[Finding], SourceMap]:
    """Read a :class:`~xlperf.workbook.book.Book` (the stream reader's), or an openpyxl workbook
    (formulas kept) with ``values_loader`` returning it opened with ``data_only=True``, used only
    when an input cell holds a formula.

    The rules are the workbook's own (:func:`xlperf.catalog.for_workbook`), or ``framework`` (the
    ``--framework`` option), which the source map keeps as ``.framework``; a workbook whose rules
    cannot be found raises :class:`~xlperf.core.framework.FrameworkError`."""
    wb = as_book(book, values_loader)
    r = _Reader(wb)
    # the model's input, as pydantic validates it: the single fields by their head ("budget": {…})
    fields: dict[str, dict[str, object]] = {}
    data: dict[str, object] = {}
    r.read_fields(fields)
    r.optional_findings()
    recorded = _recorded(r)
    fw, notes = for_workbook(recorded, framework)
    r.findings.extend(notes)
    r.map.framework = fw
    r.grades = fw.grade_names()
    r.map.own_framework = fw if framework is None else workbook_rules(recorded)
    data["framework"] = fw.id
    data["tasks"] = [v for v in _simple_list(r, L.TASKS_TABLE)]
    band = (fw.completion.plausible_min, fw.completion.plausible_max)
    data["outputs"] = _indicator_rows(r, L.table_for(L.OUTPUTS_TABLE, fw), band)
    data["benefits"] = _indicator_rows(r, L.table_for(L.BENEFITS_TABLE, fw), band)
    months_title = _table_sheet_title(r, L.MONTHS_TABLE)
    monthly: list[Decimal | None] = [None] * 12
    month_rows = r.read_table(L.MONTHS_TABLE)
    for _, record in month_rows:
        label = record.get("月份", (None, False, ""))[0]
        m = (
            re.match(r"\s*(\d{1,2})", str(label.value))
            if label is not None and label.value is not None
            else None
        )
        month = int(m.group(1)) if m else 0
        if not 1 <= month <= 12:
            continue
        values = r.values_for(months_title, record, L.MONTHS_TABLE, f"spending.monthly[{month - 1}]")
        r.map.add(f"spending.monthly[{month - 1}]", months_title, record["rate"][2])
        rate = values.get("rate")  # a RATE column reads as Decimal or None
        monthly[month - 1] = rate if isinstance(rate, Decimal) else None
    fields.setdefault("spending", {})["monthly"] = monthly
    _mean_cell(r, months_title, month_rows)
    data["management"] = _management(r, fw)
    data["problems"] = [v["text"] for v in _simple_list(r, L.PROBLEMS_TABLE) if v.get("text")]
    data["improvements"] = [v["text"] for v in _simple_list(r, L.IMPROVEMENTS_TABLE) if v.get("text")]
    r.sheet_findings()  # after the tables: a sheet found by its headers only counts as renamed
    r.map.moved = dict(r.moved)
    ev = Evaluation.model_validate({**fields, **data})
    findings = [r.map.locate(f) for f in r.findings]
    return ev, findings, r.map


def read_workbook(
    path: Path,
    limits: Limits | None = None,
    framework: Framework | None = None,
) -> tuple[Evaluation, list[Finding], SourceMap]:
    """Open and read a workbook file. Raises :class:`WorkbookReadError` when it cannot be opened."""
    from xlperf.ooxml.stream import read_package

    _, book = read_package(Path(path), limits or Limits())
    return read_book(book, framework=framework)
