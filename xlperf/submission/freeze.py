"""Freeze a scored workbook for 报送: values instead of formulas, no macros, protected, with provenance.

A workbook sent to the finance bureau must read the same everywhere — Excel without the add-in,
WPS, LibreOffice. Formulas are replaced by values (docs/EXCEL.md §3: a UDF formula is ``#NAME?`` where
xlperf is not installed), in this order of preference:

1. ``core`` — cells whose meaning the layout defines get the value the core computed, not a stale
   cached one: the 完成率 column of 产出指标/效益指标 (``RowScore.completion``), 收支情况's 预算执行率
   (``result.ratios["budget_execution"] / 100``) and 支出进度's 月均执行率 (the rule's mean / 100);
2. ``evaluated`` — any other formula that :class:`Evaluator` can compute safely (a small, closed set
   of Excel functions and operators, plus xlperf's own UDFs; no external references, no volatile
   functions other than ROW/COLUMN);
3. ``cached`` — the value Excel/WPS last stored in the file (may be stale; reported);
   ``text`` — text that only looks like a formula (``= 本年收入 + 上年结转（V01）``) is kept as text;
4. ``blanked`` — nothing usable: the cell is emptied and the cell is reported (flagged).

Error constants (``#N/A`` typed or pasted as a value) are blanked and reported as well, so no
error value reaches the bureau. No formula remains in any cell.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from lxml import etree
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.formula import Tokenizer
from openpyxl.formula.tokenizer import Token
from openpyxl.packaging.custom import BoolProperty, StringProperty
from openpyxl.utils.cell import coordinate_from_string, get_column_letter, range_boundaries
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from xlperf import __version__
from xlperf.core.decimals import round2
from xlperf.core.framework import Framework
from xlperf.core.quantity import normalise_text
from xlperf.core.result import Result
from xlperf.ooxml.package import Package
from xlperf.ooxml.parser import local, q
from xlperf.ooxml.refs import name_destinations
from xlperf.ooxml.spreadsheet import SheetXml, Styles, WorkbookXml, make_plain_workbook, styles_part
from xlperf.workbook import layout as L

ERROR_CODES = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA")
UDF_PREFIX = "XLPERF_"
COMPLETION_HEADER = "完成率"
MEAN_LABEL = "月均执行率"
NOTE_COMPLETION = "完成率（xlperf 计算）"


# ------------------------------------------------------------------------------------- report


@dataclass(frozen=True)
class FrozenCell:
    """One cell that held a formula (or an error value) and what it holds now."""

    sheet: str
    cell: str
    formula: str
    how: str  # "core" | "evaluated" | "cached" | "text" | "blanked"
    value: Any = None
    note: str = ""

    @property
    def where(self) -> str:
        return f"{self.sheet}!{self.cell}"

    def to_json(self) -> dict[str, Any]:
        value = self.value
        if isinstance(value, Decimal):
            value = float(value)
        elif isinstance(value, datetime):
            value = value.isoformat()
        return {
            "sheet": self.sheet,
            "cell": self.cell,
            "formula": self.formula,
            "how": self.how,
            "value": value,
            "note": self.note,
        }


@dataclass
class FreezeReport:
    """What :func:`freeze_workbook` did, cell by cell."""

    cells: list[FrozenCell] = field(default_factory=list)
    removed_names: list[str] = field(default_factory=list)

    def count(self, how: str) -> int:
        return sum(c.how == how for c in self.cells)

    @property
    def flagged(self) -> list[FrozenCell]:
        """Cells emptied because no trustworthy value existed."""
        return [c for c in self.cells if c.how == "blanked"]

    @property
    def cached(self) -> list[FrozenCell]:
        """Cells that kept the value last stored by Excel/WPS (possibly stale)."""
        return [c for c in self.cells if c.how == "cached"]

    def to_json(self) -> dict[str, Any]:
        return {
            "formulas": sum(bool(c.formula) for c in self.cells),
            "by_core": self.count("core"),
            "evaluated": self.count("evaluated"),
            "kept_as_text": [c.to_json() for c in self.cells if c.how == "text"],
            "cached": [c.to_json() for c in self.cached],
            "flagged": [c.to_json() for c in self.flagged],
            "removed_names": list(self.removed_names),
        }


@dataclass(frozen=True)
class FreezeProvenance:
    """What the frozen workbook says about itself (document properties and the ``_xlperf`` sheet)."""

    framework: str
    input_name: str
    input_sha256: str
    frozen_at: str
    operator: str = ""
    forced_reason: str = ""
    tool_version: str = __version__

    @property
    def forced(self) -> bool:
        return bool(self.forced_reason)

    def rows(self) -> list[tuple[str, str, str]]:
        """(defined name, label, value) rows for the hidden sheet."""
        return [
            ("xp_frozen_at", "报送冻结时间", self.frozen_at),
            ("xp_operator", "操作人", self.operator or "（未填写）"),
            ("xp_input_name", "输入文件", self.input_name),
            ("xp_forced_reason", "强制报送原因", self.forced_reason or "（未强制：校验无错误）"),
        ]


# ------------------------------------------------------------------------------------- freeze


def plan_freeze(
    wb: Workbook,
    result: Result,
    source: Any,
    *,
    cached: Callable[[], Workbook | None] | None = None,
) -> tuple[FreezeReport, list[tuple[str, str, Any]]]:
    """What freezing changes, computed on the clerk's workbook ``wb`` (openpyxl, read only): every
    formula or error cell with its new value, and the defined names to drop.

    ``source`` is the reader's ``SourceMap`` (evaluation row → sheet row); ``cached`` returns the
    same workbook opened with ``data_only=True`` (asked for only when a formula cannot be computed).
    """
    report = FreezeReport()
    fixed = core_values(wb, result, source)
    evaluator = Evaluator(wb, {k: v for k, (v, _) in fixed.items()}, result.framework)
    values_wb: list[Workbook | None] = []

    def cached_value(sheet: str, coord: str) -> Any:
        if not values_wb:
            values_wb.append(cached() if cached is not None else None)
        book = values_wb[0]
        if book is None or sheet not in book.sheetnames:
            return None
        return book[sheet][coord].value

    writes: list[tuple[str, str, Any]] = []

    def write(ws: Worksheet, cell: Cell, value: Any, frozen: FrozenCell) -> None:
        writes.append((ws.title, cell.coordinate, value))
        report.cells.append(frozen)

    for ws in wb.worksheets:
        if ws.title in L.OUTPUT_SHEETS:
            continue  # rebuilt from the result: values only
        for row in existing_rows(ws):
            for cell in row:
                if isinstance(cell, MergedCell):
                    continue
                key = (ws.title, cell.coordinate)
                if cell.data_type == "f":
                    text = formula_text(cell.value)
                    if key in fixed:
                        value, note = fixed[key]
                        write(
                            ws, cell, value, FrozenCell(ws.title, cell.coordinate, text, "core", value, note)
                        )
                        continue
                    write(ws, cell, *_freeze_one(evaluator, ws, cell, text, cached_value))
                elif cell.data_type == "e" or (
                    isinstance(cell.value, str) and cell.value in ERROR_CODES and cell.data_type != "s"
                ):
                    write(
                        ws,
                        cell,
                        None,
                        FrozenCell(
                            ws.title, cell.coordinate, "", "blanked", None, f"错误值 {cell.value} 已清空"
                        ),
                    )
                elif key in fixed and fixed[key][1] == NOTE_COMPLETION and fixed[key][0] != cell.value:
                    value, note = fixed[key]  # the 完成率 column is the core's, whatever a clerk typed there
                    write(ws, cell, value, FrozenCell(ws.title, cell.coordinate, "", "core", value, note))
    report.removed_names = _names_to_remove(wb)
    return report, writes


def freeze_package(
    pkg: Package,
    writes: list[tuple[str, str, Any]],
    report: FreezeReport,
    result: Result,
    prov: FreezeProvenance,
) -> None:
    """Turn a scored package into the 报送 version: the planned values instead of formulas, no
    calculation chain, no macros or links to other files, every sheet protected and every cell
    locked, the provenance in the document properties and on the hidden sheet. Parts freezing
    does not concern (pictures, charts, extensions) stay byte for byte."""
    book = WorkbookXml(pkg)
    refs = {s.name: s for s in book.sheets()}
    sheets: dict[str, SheetXml] = {}

    def sheet(name: str) -> SheetXml:
        if name not in sheets:
            sheets[name] = SheetXml(pkg.xml(refs[name].part))
        return sheets[name]

    for name, coord, value in writes:
        if name in refs:
            store_value(sheet(name), coord, value)
    make_plain_workbook(book)
    for rel in pkg.rels(book.part):
        if rel.type.endswith(("/calcChain", "/externalLink")):
            pkg.remove_rel(book.part, rel.id)
            pkg.remove_tree(pkg.target(book.part, rel), set())
    root = book.edit()
    for el in root.findall(q("externalReferences")):
        root.remove(el)
    order = [s.name for s in book.sheets()]
    for el in book.defined_names():
        local_id = el.get("localSheetId")
        label = el.get("name", "") if local_id is None else f"{order[int(local_id)]}!{el.get('name', '')}"
        if label in report.removed_names:
            el.getparent().remove(el)
    for name in order:
        protection = etree.Element(
            q("sheetProtection", sheet(name).ns),
            sheet="1",
            formatColumns="0",
            formatRows="0",
            autoFilter="0",
            sort="0",
        )
        sheet(name).put_child(protection)  # a fresh record: any password of the input is dropped
        sheet(name).refresh_dimension()
    styles = Styles(pkg, styles_part(pkg, book))
    unlocked = [
        lock
        for xf in styles.items("cellXfs")
        for lock in xf
        if local(lock) == "protection" and lock.get("locked") in ("0", "false")
    ]
    if unlocked:
        styles.edit()
        for xf in styles.items("cellXfs"):
            for lock in xf:
                if local(lock) == "protection":
                    lock.attrib.pop("locked", None)  # locked is the default
    _document_properties(pkg, result, prov)
    _hidden_provenance(pkg, book, sheet, prov)


def store_value(sheet: SheetXml, coord: str, value: Any) -> None:
    """A frozen value in a cell: numbers as numbers, text always as text (never a formula)."""
    from openpyxl.utils.datetime import to_excel

    cell = sheet.cell(coord, create=True)
    assert cell is not None
    for child in list(cell):
        if local(child) in ("f", "v", "is"):
            cell.remove(child)
    cell.attrib.pop("t", None)
    if isinstance(value, float) and not math.isfinite(value):
        value = None  # "nan" or "inf" in <v> is not a number any spreadsheet reads: the cell is emptied
    if value is None or value == "":
        return
    if isinstance(value, str):
        sheet.set_text(coord, value)
        return
    v = etree.SubElement(cell, q("v", sheet.ns))
    if isinstance(value, bool):
        cell.set("t", "b")
        v.text = "1" if value else "0"
    elif isinstance(value, datetime | date | time):
        v.text = repr(float(to_excel(value)))
    else:
        v.text = _number_text(value)


def _number_text(value: Any) -> str:
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and not (value.is_integer() and abs(value) < 1e15):
        return repr(value)
    return str(int(value))


def formula_text(value: Any) -> str:
    """The formula of a formula cell as text (array formulas included), with its leading ``=``."""
    text = getattr(value, "text", value)
    text = "" if text is None else str(text)
    return text if text.startswith("=") else f"={text}"


def _freeze_one(
    evaluator: Evaluator, ws: Worksheet, cell: Cell, text: str, cached_value: Callable[[str, str], Any]
) -> tuple[Any, FrozenCell]:
    sheet, coord = ws.title, cell.coordinate
    why = ""
    if type(cell.value).__name__ == "DataTableFormula":
        why = "模拟运算表"
    else:
        try:
            value = evaluator.cell_value(sheet, cell.row, cell.column)
        except Unsupported as exc:
            why = str(exc)
        else:
            if not isinstance(value, XlError):
                return value, FrozenCell(sheet, coord, text, "evaluated", value)
            why = f"计算结果为 {value.code}"
    stored = cached_value(sheet, coord)
    if stored is not None and not (isinstance(stored, str) and stored in ERROR_CODES):
        return stored, FrozenCell(
            sheet, coord, text, "cached", stored, f"无法重新计算（{why}），沿用文件中保存的结果，请核对"
        )
    if looks_like_text(text):
        return text, FrozenCell(
            sheet, coord, text, "text", text, "以“=”开头的说明文字（不是有效公式），按文字保留"
        )
    return None, FrozenCell(
        sheet, coord, text, "blanked", None, f"无法计算（{why}），文件中也没有可用的计算结果，已清空"
    )


def looks_like_text(formula: str) -> bool:
    """A "formula" no spreadsheet accepts: text such as ``= 本年收入 + 上年结转（V01）`` stored as one.

    Full-width punctuation outside string literals never occurs in a real formula.
    """
    outside = re.sub(r'"(?:[^"]|"")*"', "", formula)
    return any(ch in outside for ch in "（）：，；。、“”")


# --------------------------------------------------------------------- values from the core


def core_values(wb: Workbook, result: Result, source: Any) -> dict[tuple[str, str], tuple[Any, str]]:
    """(sheet, cell) → (value, note) for the cells whose formula the core computes."""
    out: dict[tuple[str, str], tuple[Any, str]] = {}
    for ind in result.indicator_scores():
        if not ind.rows or not ind.spec.rows:
            continue
        spec = L.OUTPUTS_TABLE if ind.spec.rows == "outputs" else L.BENEFITS_TABLE
        found = _table(wb, spec.table)
        if found is None:
            continue
        ws, ref = found
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        assert min_col is not None and min_row is not None and max_col is not None and max_row is not None
        col = next(
            (
                c
                for c in range(min_col, max_col + 1)
                if normalise_text(str(ws.cell(row=min_row, column=c).value or "")) == COMPLETION_HEADER
            ),
            None,
        )
        if col is None:
            continue
        by_row: dict[int, Decimal | None] = {}
        for rs in ind.rows:
            located = source.cells.get(f"{spec.path}[{rs.index}]") if source is not None else None
            if located is None or located[0] != ws.title:
                continue
            by_row[coordinate_from_string(located[1])[1]] = rs.completion
        letter = get_column_letter(col)
        for r in range(min_row + 1, max_row + 1):
            value = by_row.get(r)
            out[(ws.title, f"{letter}{r}")] = (None if value is None else float(value), NOTE_COMPLETION)
    exec_rate = _name_cell(wb, "xp_exec_rate")
    if exec_rate is not None:
        ratio = result.ratios.get("budget_execution")
        out[exec_rate] = (None if ratio is None else float(ratio / 100), "预算执行率（xlperf 计算）")
    spending = next((i for i in result.indicator_scores() if i.spec.kind.monthly_rates), None)
    mean = spending.inputs.get("mean") if spending is not None else None
    mean_cell = _mean_cell(wb)
    if mean_cell is not None:
        out[mean_cell] = (None if mean is None else float(mean / 100), "月均执行率（xlperf 计算）")
    return out


def _table(wb: Workbook, name: str) -> tuple[Worksheet, str] | None:
    for ws in wb.worksheets:
        for table_name, table in ws.tables.items():
            if table_name == name:
                return ws, str(table.ref if hasattr(table, "ref") else table)
    return None


def _name_cell(wb: Workbook, name: str) -> tuple[str, str] | None:
    defined = wb.defined_names.get(name)
    if defined is None:
        return None
    for sheet, coord in name_destinations(defined):
        if sheet in wb.sheetnames:
            return sheet, coord.replace("$", "").split(":")[0]
    return None


def existing_rows(ws: Any) -> list[list[Cell]]:
    """The cells that exist, row by row, in order. ``ws.iter_rows()`` would create every empty cell
    of the used rectangle: one stray value in XFD1048576 makes that 17 billion cells. The work is
    bounded by what is really in the sheet (at most ``Limits.max_cells``, checked before opening)."""
    rows: dict[int, list[Cell]] = {}
    for (r, _c), cell in sorted(ws._cells.items()):
        rows.setdefault(r, []).append(cell)
    return list(rows.values())


def _mean_cell(wb: Workbook) -> tuple[str, str] | None:
    found = _table(wb, L.MONTHS_TABLE.table)
    sheets = [found[0]] if found else [wb[L.SPENDING]] if L.SPENDING in wb.sheetnames else []
    for ws in sheets:
        for row in existing_rows(ws):
            for cell in row:
                if isinstance(cell.value, str) and cell.value.strip().startswith(MEAN_LABEL):
                    target = ws.cell(row=cell.row, column=cell.column + 1)
                    return ws.title, target.coordinate
    return None


# ---------------------------------------------------------------------- workbook-level parts


def _names_to_remove(wb: Workbook) -> list[str]:
    """Names whose definition calls a function (an xlperf UDF would be #NAME? elsewhere), as
    ``name`` or ``sheet!name`` for a sheet's own names."""

    def bad(defn: DefinedName) -> bool:
        text = str(defn.attr_text or "")
        return "(" in text and (UDF_PREFIX in text.upper() or "[" in text)

    removed = [name for name, defn in wb.defined_names.items() if bad(defn)]
    for ws in wb.worksheets:
        removed += [f"{ws.title}!{name}" for name, defn in ws.defined_names.items() if bad(defn)]
    return removed


CORE_PART = "docProps/core.xml"
CUSTOM_PART = "docProps/custom.xml"
CORE_REL = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"
CUSTOM_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
CORE_CT = "application/vnd.openxmlformats-package.core-properties+xml"
CUSTOM_CT = "application/vnd.openxmlformats-officedocument.custom-properties+xml"


def _document_properties(pkg: Package, result: Result, prov: FreezeProvenance) -> None:
    """Title, status and provenance in docProps/core.xml and docProps/custom.xml (openpyxl's
    models serialise them; the parts are created when the input had none)."""
    from openpyxl.packaging.core import DocumentProperties
    from openpyxl.packaging.custom import CustomPropertyList
    from openpyxl.xml.functions import fromstring, tostring

    core_rel = next((r for r in pkg.rels("") if r.type == CORE_REL), None)
    core_part = pkg.target("", core_rel) if core_rel else CORE_PART
    props = (
        DocumentProperties.from_tree(fromstring(pkg.raw[core_part]))
        if core_part in pkg.raw
        else DocumentProperties()
    )
    dep = result.evaluation.department
    props.title = f"{dep.name} {dep.year or ''} 年度部门整体支出绩效自评（报送版）"
    props.subject = "部门整体支出绩效自评"
    props.category = "部门整体支出绩效自评"
    props.keywords = "xlperf;报送;已冻结"
    props.creator = props.creator or "xlperf"
    props.lastModifiedBy = prov.operator or "xlperf"
    props.identifier = prov.input_sha256
    props.version = prov.tool_version
    props.contentStatus = "强制报送" if prov.forced else "报送"
    props.modified = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    lines = [
        f"由 xlperf {prov.tool_version} 冻结（公式已替换为数值，无宏）。",
        f"评分框架：{prov.framework}；总分 {result.total}（{result.rating}）。",
        f"输入文件：{prov.input_name}，SHA-256 {prov.input_sha256}。",
        f"冻结时间：{prov.frozen_at}；操作人：{prov.operator or '（未填写）'}。",
    ]
    if prov.forced:
        lines.append(f"强制报送原因：{prov.forced_reason}")
    props.description = "\n".join(lines)
    pkg.put(core_part, tostring(props.to_tree()), CORE_CT)
    if core_rel is None:
        pkg.add_rel("", CORE_REL, core_part)

    custom_rel = next((r for r in pkg.rels("") if r.type == CUSTOM_REL), None)
    custom_part = pkg.target("", custom_rel) if custom_rel else CUSTOM_PART
    custom = (
        CustomPropertyList.from_tree(fromstring(pkg.raw[custom_part]))
        if custom_part in pkg.raw
        else CustomPropertyList()
    )
    values: list[Any] = [
        StringProperty(name="xlperf.tool_version", value=prov.tool_version),
        StringProperty(name="xlperf.core.framework", value=prov.framework),
        StringProperty(name="xlperf.input_name", value=prov.input_name),
        StringProperty(name="xlperf.input_sha256", value=prov.input_sha256),
        StringProperty(name="xlperf.frozen_at", value=prov.frozen_at),
        StringProperty(name="xlperf.operator", value=prov.operator or "-"),
        BoolProperty(name="xlperf.forced", value=prov.forced),
        StringProperty(name="xlperf.forced_reason", value=prov.forced_reason or "-"),
        StringProperty(name="xlperf.total", value=f"{result.total}"),
        StringProperty(name="xlperf.rating", value=result.rating),
    ]
    for prop in values:
        if prop.name in custom.names:
            del custom[prop.name]
        custom.append(prop)
    pkg.put(custom_part, tostring(custom.to_tree()), CUSTOM_CT)
    if custom_rel is None:
        pkg.add_rel("", CUSTOM_REL, custom_part)


def _hidden_provenance(
    pkg: Package, book: WorkbookXml, sheet: Callable[[str], SheetXml], prov: FreezeProvenance
) -> None:
    """The freeze rows under the scoring provenance on the hidden sheet, each with its name."""
    from xlperf.workbook.writer import write_hidden_rows

    if book.sheet(L.HIDDEN) is None:
        return
    write_hidden_rows(pkg, book, sheet, prov.rows())
    hidden_ref = book.sheet(L.HIDDEN)
    assert hidden_ref is not None
    hidden_ref.element.set("state", "veryHidden")


# ------------------------------------------------------------------------------- evaluation


class Unsupported(Exception):
    """The formula uses something :class:`Evaluator` does not compute; the message says what."""


@dataclass(frozen=True)
class XlError:
    code: str


@dataclass(frozen=True)
class Area:
    sheet: str
    min_row: int
    min_col: int
    max_row: int
    max_col: int

    @property
    def single(self) -> bool:
        return self.min_row == self.max_row and self.min_col == self.max_col


Node = tuple[Any, ...]
_MAX_CELLS = 100_000
_DIV0 = XlError("#DIV/0!")
_VALUE = XlError("#VALUE!")


class Evaluator:
    """Evaluates a closed set of Excel formulas over an openpyxl workbook.

    Supported: numbers, text, TRUE/FALSE, references (A1, $A$1, 'Sheet'!A1:B9, single-sheet defined
    names), the operators ``+ - * / ^ & % = <> < > <= >=``, and SUM AVERAGE MIN MAX COUNT COUNTA
    ROUND ABS IF IFERROR ISERROR ISBLANK AND OR NOT ROW COLUMN LEN plus the xlperf UDFs. Anything else
    raises :class:`Unsupported`, so the caller falls back to the cached value. Arithmetic is Decimal.
    """

    def __init__(
        self, wb: Workbook, fixed: dict[tuple[str, str], Any], framework: Framework | None = None
    ) -> None:
        self.wb = wb
        self.fixed = fixed
        self.framework = framework
        self.memo: dict[tuple[str, int, int], Any] = {}
        self.active: set[tuple[str, int, int]] = set()

    # -- cells ----------------------------------------------------------------------------------
    def cell_value(self, sheet: str, row: int, col: int) -> Any:
        key = (sheet, row, col)
        coord = f"{get_column_letter(col)}{row}"
        if (sheet, coord) in self.fixed:
            value = self.fixed[(sheet, coord)]
            return Decimal(str(value)) if isinstance(value, float) else value
        if key in self.memo:
            return self.memo[key]
        ws = self.wb[sheet]
        cell = ws._cells.get((row, col))
        if cell is None:
            return None
        if cell.data_type == "e":
            return XlError(str(cell.value))
        if cell.data_type != "f":
            return _number(cell.value)
        if key in self.active:
            raise Unsupported("循环引用")
        if type(cell.value).__name__ == "DataTableFormula":
            raise Unsupported("模拟运算表")
        self.active.add(key)
        try:
            tree = parse(formula_text(cell.value))
            value = self.eval(tree, sheet, row, col)
            if isinstance(value, Area):
                value = self.scalar(value)
            if value is None:
                value = Decimal(0)  # =A1 with A1 empty shows 0
        finally:
            self.active.discard(key)
        self.memo[key] = value
        return value

    def scalar(self, area: Area) -> Any:
        if not area.single:
            raise Unsupported("区域用作单个值")
        return self.cell_value(area.sheet, area.min_row, area.min_col)

    def values(self, area: Area) -> list[Any]:
        if (area.max_row - area.min_row + 1) * (area.max_col - area.min_col + 1) > _MAX_CELLS:
            raise Unsupported("引用区域过大")
        return [
            self.cell_value(area.sheet, r, c)
            for r in range(area.min_row, area.max_row + 1)
            for c in range(area.min_col, area.max_col + 1)
        ]

    def area(self, text: str, sheet: str) -> Area:
        if "[" in text:
            raise Unsupported(f"外部或结构化引用 {text}")
        target, _, address = text.rpartition("!")
        target = target.strip("'").replace("''", "'") if target else sheet
        address = address.replace("$", "")
        if re.fullmatch(r"[A-Za-z]{1,3}\d+(:[A-Za-z]{1,3}\d+)?", address):
            if target not in self.wb.sheetnames:
                raise Unsupported(f"工作表 {target} 不存在")
            min_col, min_row, max_col, max_row = range_boundaries(address.upper())
            assert min_col is not None and min_row is not None and max_col is not None and max_row is not None
            return Area(target, min_row, min_col, max_row, max_col)
        if not text.count("!"):
            scoped = self.wb[sheet].defined_names.get(text) if sheet in self.wb.sheetnames else None
            defined = scoped or self.wb.defined_names.get(text)
            if defined is not None:
                dests = name_destinations(defined)
                if len(dests) == 1 and dests[0][0] in self.wb.sheetnames:
                    return self.area(f"'{dests[0][0]}'!{dests[0][1]}", sheet)
        raise Unsupported(f"无法解析的引用 {text}")

    # -- expressions ------------------------------------------------------------------------------
    def eval(self, node: Node, sheet: str, row: int, col: int) -> Any:
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "ref":
            return self.area(node[1], sheet)
        if kind == "neg":
            value = self.num(self.eval(node[1], sheet, row, col))
            return value if isinstance(value, XlError) else -value
        if kind == "pct":
            value = self.num(self.eval(node[1], sheet, row, col))
            return value if isinstance(value, XlError) else value / 100
        if kind == "bin":
            return self.binary(
                node[1], self.eval(node[2], sheet, row, col), self.eval(node[3], sheet, row, col)
            )
        if kind == "fn":
            return self.call(node[1], node[2], sheet, row, col)
        raise Unsupported(str(kind))  # pragma: no cover - parse() builds only the kinds above

    def value(self, v: Any) -> Any:
        return self.scalar(v) if isinstance(v, Area) else v

    def num(self, v: Any) -> Decimal | XlError:
        v = self.value(v)
        if isinstance(v, XlError):
            return v
        if v is None:
            return Decimal(0)
        if isinstance(v, bool):
            return Decimal(int(v))
        if isinstance(v, Decimal):
            return v
        if isinstance(v, int | float):
            return Decimal(str(v))
        if isinstance(v, str):
            try:
                return Decimal(v.strip().replace(",", ""))
            except InvalidOperation:
                return _VALUE
        raise Unsupported(f"无法作为数值使用的 {type(v).__name__}")

    def text(self, v: Any) -> str | XlError:
        v = self.value(v)
        if isinstance(v, XlError):
            return v
        if v is None:
            return ""
        if isinstance(v, bool):
            return "TRUE" if v else "FALSE"
        if isinstance(v, Decimal | int | float):
            return _general(Decimal(str(v)))
        if isinstance(v, str):
            return v
        raise Unsupported(f"无法作为文字使用的 {type(v).__name__}")

    def truth(self, v: Any) -> bool | XlError:
        v = self.value(v)
        if isinstance(v, XlError | bool):
            return v
        if v is None:
            return False
        if isinstance(v, str):
            if v.upper() in ("TRUE", "FALSE"):
                return v.upper() == "TRUE"
            return _VALUE
        n = self.num(v)
        return n if isinstance(n, XlError) else n != 0

    def binary(self, op: str, left: Any, right: Any) -> Any:
        left, right = self.value(left), self.value(right)
        for side in (left, right):
            if isinstance(side, XlError):
                return side
        if op == "&":
            a, b = self.text(left), self.text(right)
            return a if isinstance(a, XlError) else b if isinstance(b, XlError) else a + b
        if op in ("=", "<>", "<", ">", "<=", ">="):
            return _compare(op, left, right)
        x, y = self.num(left), self.num(right)
        if isinstance(x, XlError):
            return x
        if isinstance(y, XlError):
            return y
        if op == "+":
            return x + y
        if op == "-":
            return x - y
        if op == "*":
            return x * y
        if op == "/":
            return _DIV0 if y == 0 else x / y
        if op == "^":
            try:
                return x**y if y == y.to_integral_value() else Decimal(str(float(x) ** float(y)))
            except (ArithmeticError, ValueError):
                return XlError("#NUM!")
        raise Unsupported(f"运算符 {op}")

    def flat(self, args: list[Node], sheet: str, row: int, col: int) -> list[tuple[Any, bool]]:
        """Argument values for aggregates: (value, came from a range)."""
        out: list[tuple[Any, bool]] = []
        for arg in args:
            v = self.eval(arg, sheet, row, col)
            if isinstance(v, Area):
                out += [(x, True) for x in self.values(v)]
            else:
                out.append((v, False))
        return out

    def numbers(self, args: list[Node], sheet: str, row: int, col: int) -> list[Decimal] | XlError:
        out: list[Decimal] = []
        for v, from_range in self.flat(args, sheet, row, col):
            if isinstance(v, XlError):
                return v
            if from_range:
                if isinstance(v, Decimal) and not isinstance(v, bool):
                    out.append(v)
                continue
            n = self.num(v)
            if isinstance(n, XlError):
                return n
            out.append(n)
        return out

    def call(self, name: str, args: list[Node], sheet: str, row: int, col: int) -> Any:
        def arg(i: int) -> Any:
            return self.eval(args[i], sheet, row, col) if i < len(args) else None

        if name in ("IF", "IFERROR", "ISERROR", "ISBLANK", "ROW", "COLUMN"):
            if name == "IF":
                cond = self.truth(arg(0))
                if isinstance(cond, XlError):
                    return cond
                if cond:
                    return self.value(arg(1)) if len(args) > 1 else True
                return self.value(arg(2)) if len(args) > 2 else False
            if name == "IFERROR":
                first = self.value(arg(0))
                return self.value(arg(1)) if isinstance(first, XlError) else first
            if name == "ISERROR":
                return isinstance(self.value(arg(0)), XlError)
            if name == "ISBLANK":
                return self.value(arg(0)) is None
            ref = arg(0) if args else None
            if ref is not None and not isinstance(ref, Area):
                return _VALUE
            if name == "ROW":
                return Decimal(ref.min_row if ref is not None else row)
            return Decimal(ref.min_col if ref is not None else col)
        if name in ("SUM", "AVERAGE", "MIN", "MAX", "COUNT"):
            if name == "COUNT":
                return Decimal(sum(isinstance(v, Decimal) for v, _ in self.flat(args, sheet, row, col)))
            nums = self.numbers(args, sheet, row, col)
            if isinstance(nums, XlError):
                return nums
            if name == "SUM":
                return sum(nums, Decimal(0))
            if name == "AVERAGE":
                return _DIV0 if not nums else sum(nums, Decimal(0)) / len(nums)
            if not nums:
                return Decimal(0)
            return min(nums) if name == "MIN" else max(nums)
        if name == "COUNTA":
            return Decimal(sum(v is not None for v, _ in self.flat(args, sheet, row, col)))
        if name in ("AND", "OR"):
            truths = [self.truth(v) for v, _ in self.flat(args, sheet, row, col) if v is not None]
            for t in truths:
                if isinstance(t, XlError):
                    return t
            return all(truths) if name == "AND" else any(truths)
        if name == "NOT":
            t = self.truth(arg(0))
            return t if isinstance(t, XlError) else not t
        if name in ("ROUND", "ABS", "LEN"):
            if name == "LEN":
                chars = self.text(arg(0))
                return chars if isinstance(chars, XlError) else Decimal(len(chars))
            x = self.num(arg(0))
            if isinstance(x, XlError):
                return x
            if name == "ABS":
                return abs(x)
            digits = self.num(arg(1))
            if isinstance(digits, XlError):
                return digits
            return x.quantize(Decimal(1).scaleb(-int(digits)), rounding=ROUND_HALF_UP)
        if name.startswith(UDF_PREFIX):
            values: list[Any] = []
            for node in args:
                v = self.eval(node, sheet, row, col)
                values.append(self.values(v) if isinstance(v, Area) and not v.single else self.value(v))
            for v in values:
                for item in v if isinstance(v, list) else [v]:
                    if isinstance(item, XlError):
                        return item
            return self.udf(name, values)
        raise Unsupported(f"函数 {name}")

    def udf(self, name: str, values: list[Any]) -> Any:
        """An xlperf UDF, computed by the add-in's own plain functions (``xlperf.excel.udfs``) so the
        frozen value is what the cell showed in Excel; a small built-in version when xlwings is absent."""
        fw = self.framework
        udfs = _add_in_functions()
        if udfs is not None:
            a = [*values, None, None, None, None]
            calls: dict[str, Callable[[], Any]] = {
                "XLPERF_COMPLETION": lambda: udfs.completion_rate(a[0], a[1], a[2], framework=fw),
                "XLPERF_SECTION_SCORE": lambda: udfs.section_score(a[0], a[1], a[2], a[3], framework=fw),
                "XLPERF_RATING": lambda: udfs.rating(a[0], framework=fw),
                "XLPERF_RATIO": lambda: udfs.ratio_percent(a[0], a[1]),
            }
            if name in calls:
                try:
                    result = calls[name]()
                except (ValueError, ArithmeticError):  # UdfInputError: the cell would show a message
                    return _VALUE
                except TypeError as exc:
                    raise Unsupported(f"函数 {name} 的参数") from exc
                return "" if result is None else result
        nums = [self.num(v) for v in values if not isinstance(v, list)]
        if any(isinstance(n, XlError) for n in nums) or any(isinstance(v, list) for v in values):
            raise Unsupported(f"函数 {name}")
        x = [n for n in nums if isinstance(n, Decimal)]
        if name == "XLPERF_RATIO" and len(x) == 2:
            return "" if x[1] == 0 else round2(x[0] / x[1] * 100)
        if name == "XLPERF_RATING" and len(x) == 1 and fw is not None:
            return fw.rate(round2(x[0]))
        if name == "XLPERF_COMPLETION" and len(x) >= 2:
            direction = self.text(values[2]) if len(values) > 2 else ""
            return _completion(x[0], x[1], direction if isinstance(direction, str) else "")
        raise Unsupported(f"函数 {name}")


def _add_in_functions() -> Any:
    """``xlperf.excel.udfs`` (imports xlwings), or None where xlwings is missing or unusable."""
    import importlib

    try:
        return importlib.import_module("xlperf.excel.udfs")
    except Exception:
        return None


def _number(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str | Decimal | XlError):
        return value
    if isinstance(value, int | float):
        return Decimal(str(value))
    raise Unsupported(f"单元格值类型 {type(value).__name__}")


def _general(d: Decimal) -> str:
    """A number as Excel's General format shows it in text (up to 15 significant digits)."""
    if d == d.to_integral_value():
        return str(int(d))
    text = f"{float(d):.15g}"
    return text


def _compare(op: str, a: Any, b: Any) -> bool:
    def rank(v: Any) -> tuple[int, Any]:
        if isinstance(v, bool):
            return 2, v
        if isinstance(v, str):
            return 1, v.lower()
        return 0, v

    if a is None:
        a = "" if isinstance(b, str) else False if isinstance(b, bool) else Decimal(0)
    if b is None:
        b = "" if isinstance(a, str) else False if isinstance(a, bool) else Decimal(0)
    if isinstance(a, int | float) and not isinstance(a, bool):
        a = Decimal(str(a))
    if isinstance(b, int | float) and not isinstance(b, bool):
        b = Decimal(str(b))
    ra, rb = rank(a), rank(b)
    if op == "=":
        return ra == rb
    if op == "<>":
        return ra != rb
    if op == "<":
        return ra < rb
    if op == ">":
        return ra > rb
    if op == "<=":
        return ra <= rb
    return ra >= rb


def _completion(target: Decimal, actual: Decimal, direction: str) -> Decimal:
    """XLPERF_COMPLETION: the same rule as the core's completion rate (rules.completion)."""
    d = direction.strip()
    if d in ("≤", "<=", "反向", "越小越好"):
        return Decimal(1) if actual == 0 else target / actual
    if d in ("=", "等于", "越接近越好"):
        hi, lo = max(actual, target), min(actual, target)
        return Decimal(1) if hi == 0 else lo / hi
    if target == 0:
        return Decimal(1) if actual >= 0 else Decimal(0)
    return actual / target


# ------------------------------------------------------------------------------------ parser

_PRECEDENCE = {
    "=": 1,
    "<>": 1,
    "<": 1,
    ">": 1,
    "<=": 1,
    ">=": 1,
    "&": 2,
    "+": 3,
    "-": 3,
    "*": 4,
    "/": 4,
    "^": 5,
}
_PREFIX_POWER = 6


def parse(formula: str) -> Node:
    """Parse a formula (``=…``) into a small tree; unknown syntax raises :class:`Unsupported`."""
    try:
        items = [t for t in Tokenizer(formula).items if t.type != Token.WSPACE]
    except Exception as exc:
        raise Unsupported(f"公式无法解析：{exc}") from exc
    parser = _Parser(items)
    node = parser.expr(0)
    if parser.pos != len(items):
        raise Unsupported("公式无法解析")
    return node


class _Parser:
    def __init__(self, items: list[Token]) -> None:
        self.items = items
        self.pos = 0

    def peek(self) -> Token | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise Unsupported("公式不完整")
        self.pos += 1
        return token

    def expr(self, min_power: int) -> Node:
        left = self.prefix()
        while True:
            token = self.peek()
            if token is None:
                return left
            if token.type == Token.OP_POST and token.value == "%":
                self.pos += 1
                left = ("pct", left)
                continue
            if token.type != Token.OP_IN or token.value not in _PRECEDENCE:
                if token.type == Token.OP_IN:
                    raise Unsupported(f"运算符 {token.value}")
                return left
            power = _PRECEDENCE[token.value]
            if power <= min_power:
                return left
            self.pos += 1
            left = ("bin", token.value, left, self.expr(power))

    def prefix(self) -> Node:
        token = self.take()
        if token.type == Token.OP_PRE:
            inner = self.expr(_PREFIX_POWER)
            return ("neg", inner) if token.value == "-" else inner
        if token.type == Token.OPERAND:
            return self.operand(token)
        if token.type == Token.PAREN and token.subtype == Token.OPEN:
            inner = self.expr(0)
            close = self.take()
            if close.type != Token.PAREN:
                raise Unsupported("括号不匹配")
            return inner
        if token.type == Token.FUNC and token.subtype == Token.OPEN:
            name = token.value[:-1].rpartition("!")[2].upper()
            for prefix in ("_XLFN.", "_XLUDF.", "_XLWS."):
                name = name.removeprefix(prefix)
            args: list[Node] = []
            nxt = self.peek()
            if nxt is not None and nxt.type == Token.FUNC and nxt.subtype == Token.CLOSE:
                self.pos += 1
                return ("fn", name, args)
            while True:
                nxt = self.peek()
                if nxt is not None and nxt.type == Token.SEP:
                    args.append(("lit", None))  # an omitted argument
                else:
                    args.append(self.expr(0))
                sep = self.take()
                if sep.type == Token.FUNC and sep.subtype == Token.CLOSE:
                    return ("fn", name, args)
                if sep.type != Token.SEP or sep.subtype != Token.ARG:
                    raise Unsupported("函数参数无法解析")
        raise Unsupported(f"无法解析的部分 {token.value}")

    @staticmethod
    def operand(token: Token) -> Node:
        value = token.value
        if token.subtype == Token.NUMBER:
            return ("lit", Decimal(value))
        if token.subtype == Token.TEXT:
            return ("lit", value[1:-1].replace('""', '"'))
        if token.subtype == Token.LOGICAL:
            return ("lit", value.upper() == "TRUE")
        if token.subtype == Token.ERROR:
            return ("lit", XlError(value))
        if token.subtype == Token.RANGE:
            if value.upper() in ("TRUE", "FALSE"):
                return ("lit", value.upper() == "TRUE")
            return ("ref", value)
        raise Unsupported(f"无法解析的部分 {value}")
