"""Freeze a scored workbook for 报送: values instead of formulas, no macros, protected, with provenance.

A workbook sent to the finance bureau must read the same everywhere — Excel without the add-in,
WPS, LibreOffice. Formulas are replaced by values (docs/EXCEL.md §3: a UDF formula is ``#NAME?`` where
xlperf is not installed), in this order of preference:

1. ``core`` — cells whose meaning the layout defines get the value the core computed, not a stale
   cached one: the 完成率 column of 产出指标/效益指标 (``RowScore.completion``), 收支情况's 预算执行率
   (``result.ratios["budget_execution"] / 100``) and 支出进度's 月均执行率 (the rule's mean / 100);
2. ``evaluated`` — any other formula that :class:`~xlperf.submission.formulas.Evaluator` can compute
   safely (a small, closed set of Excel functions and operators, plus xlperf's own UDFs; no external
   references, no volatile functions other than ROW/COLUMN);
3. ``cached`` — the value Excel/WPS last stored in the file (may be stale; reported);
   ``text`` — text that only looks like a formula (``= 本年收入 + 上年结转（V01）``) is kept as text;
4. ``blanked`` — nothing usable: the cell is emptied and the cell is reported (flagged).

Error constants (``#N/A`` typed or pasted as a value) are blanked and reported as well, so no
error value reaches the bureau. No formula remains in any cell.

The plan is made on the stream reader's book of the clerk's file (formula text and Excel's cached
results in one model, read through the same pre-open checks as scoring); the scored package is then
edited part by part. What the bureau receives is a record, not a form to fill: 填表说明 is dropped
(unless the clerk put a picture or chart on it: nothing of the clerk's is lost) and the pale-yellow
tint of the input cells removed (issue 25); the marks on flagged cells stay. So the templates' notes
that speak of the yellow cells to fill or of formulas (the project form's 金额单位 note, the
department's 基本信息 and 收支情况 notes, the 预算执行率's hint) say instead that this is the 报送版 with
fixed values, and what a red or yellow mark on that sheet means (:data:`FROZEN_NOTES`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Any

from lxml import etree
from openpyxl.packaging.core import DocumentProperties
from openpyxl.packaging.custom import BoolProperty, CustomPropertyList, StringProperty
from openpyxl.utils.datetime import to_excel
from openpyxl.xml.functions import fromstring, tostring

from xlperf import __version__
from xlperf.core.project.result import ProjectResult
from xlperf.core.quantity import normalise_text
from xlperf.core.result import Result
from xlperf.ooxml.constants import CT, ERROR_CODES, RT
from xlperf.ooxml.package import Package
from xlperf.ooxml.parser import Element, local, q
from xlperf.ooxml.refs import bounds, cell_name, coordinate, name_destinations, name_text
from xlperf.ooxml.spreadsheet import SheetXml, Styles, WorkbookXml, make_plain_workbook, styles_part
from xlperf.ooxml.stream import StreamBook, StreamSheet
from xlperf.project import layout as P
from xlperf.submission.formulas import UDF_PREFIX, Evaluator, Unsupported, XlError
from xlperf.workbook import layout as L
from xlperf.workbook.reader import SourceMap
from xlperf.workbook.writer import write_hidden_rows

__all__ = [
    "FreezeProvenance",
    "FreezeReport",
    "FrozenCell",
    "How",
    "freeze_package",
    "looks_like_text",
    "plan_freeze",
    "store_value",
]

COMPLETION_HEADER = "完成率"
MEAN_LABEL = "月均执行率"
NOTE_COMPLETION = "完成率（xlperf 计算）"
#: sheets whose formulas are not planned: the output sheets are rebuilt from the result (values only)
NOT_FROZEN = L.OUTPUT_SHEETS
#: the templates' notes that the 报送 copy makes untrue (it has no input tint and no formulas), by
#: their exact text — a bureau's own form keeps its notes — and what the copy says instead. Where the
#: sheet has flagged cells, :func:`frozen_note` adds what their colours mean. 金额单位 stays first;
#: the project form's note stays on one line over D:I (as the template's), colours and all.
FROZEN_NOTES = {
    P.FORM_NOTE: "金额单位：万元；本表为报送版，数值已固定；灰色为 xlperf 计算",
    L.BASIC_SHEET.intro: "部门的基本情况。本表为报送版，数值已固定。",
    L.BUDGET_SHEET.intro: (
        "金额单位为万元，保留两位小数。本表为报送版，数值已固定，预算执行率由 xlperf 计算。"
    ),
}
#: the same for a field's hint beside its cell (no colours added: a hint speaks of its one cell)
FROZEN_HINTS = {next(f.help for f in L.all_fields() if f.name == "xp_exec_rate"): "由 xlperf 计算"}


class How(StrEnum):
    """Where a frozen cell's value came from (the order of preference in the module docstring)."""

    CORE = "core"
    EVALUATED = "evaluated"
    CACHED = "cached"
    TEXT = "text"
    BLANKED = "blanked"


# ------------------------------------------------------------------------------------- report


@dataclass(frozen=True)
class FrozenCell:
    """One cell that held a formula (or an error value) and what it holds now."""

    sheet: str
    cell: str
    formula: str
    how: How
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
            "how": self.how.value,
            "value": value,
            "note": self.note,
        }


@dataclass
class FreezeReport:
    """What freezing did, cell by cell (:func:`plan_freeze`), and the names it removed."""

    cells: list[FrozenCell] = field(default_factory=list)
    removed_names: list[str] = field(default_factory=list)

    def count(self, how: How) -> int:
        return sum(c.how == how for c in self.cells)

    @property
    def flagged(self) -> list[FrozenCell]:
        """Cells emptied because no trustworthy value existed."""
        return [c for c in self.cells if c.how is How.BLANKED]

    @property
    def cached(self) -> list[FrozenCell]:
        """Cells that kept the value last stored by Excel/WPS (possibly stale)."""
        return [c for c in self.cells if c.how is How.CACHED]

    def to_json(self) -> dict[str, Any]:
        return {
            "formulas": sum(bool(c.formula) for c in self.cells),
            "by_core": self.count(How.CORE),
            "evaluated": self.count(How.EVALUATED),
            "kept_as_text": [c.to_json() for c in self.cells if c.how is How.TEXT],
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

#: (sheet, cell, new value) for each cell freezing changes
Writes = list[tuple[str, str, Any]]


def plan_freeze(
    book: StreamBook, result: Result | ProjectResult, source: SourceMap | None
) -> tuple[FreezeReport, Writes]:
    """What freezing changes, computed on the clerk's workbook as the stream reader read it: every
    formula or error cell with its new value, and the defined names to drop. ``source`` is the
    reader's ``SourceMap`` (evaluation row → sheet row). A project form's cell with a meaning is its
    执行率 (:func:`xlperf.project.writer.frozen_values`); a formula reading a score cell the scored
    copy fills (:func:`xlperf.project.writer.fill_values`) sees that score."""
    report = FreezeReport()
    if isinstance(result, ProjectResult):
        from xlperf.project.writer import fill_values, frozen_values

        fixed = frozen_values(result, source) if source is not None else {}
        filled = fill_values(book, result, source) if source is not None else {}
        seen = {k: float(v) if isinstance(v, Decimal) else v for k, v in filled.items()}
        # xlperf's UDFs rate and score by a department framework: a project form gets the default's
        evaluator = Evaluator(book, {**seen, **{k: v for k, (v, _) in fixed.items()}})
    else:
        fixed = core_values(book, result, source)
        evaluator = Evaluator(book, {k: v for k, (v, _) in fixed.items()}, result.framework)
    writes: Writes = []
    for sheet in book.worksheets:
        if sheet.title in NOT_FROZEN:
            continue
        for row, col, cell in sheet.cells():
            frozen = _freeze_cell(evaluator, sheet, row, col, cell.value, cell.data_type, fixed)
            if frozen is not None:
                writes.append((sheet.title, frozen.cell, frozen.value))
                report.cells.append(frozen)
            elif isinstance(text := cell.value, str) and text in FROZEN_NOTES:
                writes.append((sheet.title, cell_name(row, col), frozen_note(text, result, sheet.title)))
            elif isinstance(text, str) and text in FROZEN_HINTS:
                writes.append((sheet.title, cell_name(row, col), FROZEN_HINTS[text]))
    report.removed_names = _names_to_remove(book)
    return report, writes


def frozen_note(note: str, result: Result | ProjectResult, sheet: str) -> str:
    """What a template's note (a key of :data:`FROZEN_NOTES`) says in the 报送 copy: that it is the
    报送版, and where the sheet has cells the scored copy marked, what the colours mean — in the
    note's own style: a note in clauses (the project form's, one line over D:I) gets a clause, a note
    in sentences a sentence naming 校验结果."""
    text = FROZEN_NOTES[note]
    marked = [f for f in result.findings if f.sheet == sheet and f.cell]
    legend = "，".join(
        words
        for words, present in (
            ("红色为错误", any(f.is_error for f in marked)),
            ("黄色为提醒", any(not f.is_error for f in marked)),
        )
        if present
    )
    if not legend:
        return text
    return f"{text}{legend}，详见“{L.FINDINGS}”。" if text.endswith("。") else f"{text}，{legend}"


def _freeze_cell(
    evaluator: Evaluator,
    sheet: StreamSheet,
    row: int,
    col: int,
    value: Any,
    data_type: str,
    fixed: dict[tuple[str, str], tuple[float | None, str]],
) -> FrozenCell | None:
    """What one existing cell becomes (None: it stays as it is)."""
    title, coord = sheet.title, cell_name(row, col)
    core = fixed.get((title, coord))
    if data_type == "f":
        text = str(value)
        if core is not None:
            return FrozenCell(title, coord, text, How.CORE, core[0], core[1])
        return _computed(evaluator, sheet, row, col, text)
    if data_type == "e" or (isinstance(value, str) and value in ERROR_CODES and data_type != "s"):
        return FrozenCell(title, coord, "", How.BLANKED, None, f"错误值 {value} 已清空")
    if core is not None and core[1] == NOTE_COMPLETION and core[0] != value:
        return FrozenCell(title, coord, "", How.CORE, core[0], core[1])  # the core's, whatever a clerk typed
    return None


def _computed(evaluator: Evaluator, sheet: StreamSheet, row: int, col: int, text: str) -> FrozenCell:
    """A formula cell's value: computed, else Excel's cached result, else kept as text, else blanked."""
    title, coord = sheet.title, cell_name(row, col)
    why = ""
    if sheet.is_data_table(row, col):
        why = "模拟运算表"
    else:
        try:
            value = evaluator.cell_value(title, row, col)
        except Unsupported as exc:
            why = str(exc)
        else:
            if not isinstance(value, XlError):
                return FrozenCell(title, coord, text, How.EVALUATED, value)
            why = f"计算结果为 {value.code}"
    stored = sheet.cached(coord)
    if stored is not None and not (isinstance(stored, str) and stored in ERROR_CODES):
        note = f"无法重新计算（{why}），沿用文件中保存的结果，请核对"
        return FrozenCell(title, coord, text, How.CACHED, stored, note)
    if looks_like_text(text):
        return FrozenCell(
            title, coord, text, How.TEXT, text, "以“=”开头的说明文字（不是有效公式），按文字保留"
        )
    note = f"无法计算（{why}），文件中也没有可用的计算结果，已清空"
    return FrozenCell(title, coord, text, How.BLANKED, None, note)


def looks_like_text(formula: str) -> bool:
    """A "formula" no spreadsheet accepts: text such as ``= 本年收入 + 上年结转（V01）`` stored as one.

    Full-width punctuation outside string literals never occurs in a real formula.
    """
    outside = re.sub(r'"(?:[^"]|"")*"', "", formula)
    return any(ch in outside for ch in "（）：，；。、“”")


def freeze_package(
    pkg: Package, writes: Writes, report: FreezeReport, result: Result | ProjectResult, prov: FreezeProvenance
) -> None:
    """Turn a scored package into the 报送 version: the planned values instead of formulas, no
    calculation chain, no macros or links to other files, no 填表说明 and no input tint, every sheet
    protected and every cell locked, the provenance in the document properties and on the hidden
    sheet. Parts freezing does not concern (pictures, charts, extensions) stay byte for byte."""
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
    pkg.remove_related(book.part, RT.CALC_CHAIN)
    pkg.remove_related(book.part, RT.EXTERNAL_LINK)
    root = book.edit()
    for el in root.findall(q("externalReferences")):
        root.remove(el)
    _remove_names(book, report.removed_names)
    readme = refs.get(L.README)
    if readme is not None and sheet(L.README).child("drawing") is None:
        book.remove_sheets([L.README])  # kept only when the clerk put a picture or chart on it
    for name in (s.name for s in book.sheets()):
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
    _lock_and_untint(Styles(pkg, styles_part(pkg, book)))
    _document_properties(pkg, result, prov)
    _hidden_provenance(pkg, book, sheet, prov)


def _remove_names(book: WorkbookXml, labels: list[str]) -> None:
    """Remove the defined names :func:`_names_to_remove` listed (``name`` or ``sheet!name``)."""
    order = [s.name for s in book.sheets()]
    for el in book.defined_names():
        local_id = el.get("localSheetId")
        label = el.get("name", "") if local_id is None else f"{order[int(local_id)]}!{el.get('name', '')}"
        if label in labels:
            el.getparent().remove(el)


def _lock_and_untint(styles: Styles) -> None:
    """Every cell format locked (locked is the default: an unlocking ``<protection>`` loses it), and
    no cell format filled with the input tint (:data:`xlperf.workbook.layout.INPUT_FILL`)."""
    tinted = {i for i, fill in enumerate(styles.items("fills")) if _is_input_tint(fill)}
    xfs = styles.items("cellXfs")
    unlocks = any(
        local(lock) == "protection" and lock.get("locked") in ("0", "false") for xf in xfs for lock in xf
    )
    if not unlocks and not any(int(xf.get("fillId", "0")) in tinted for xf in xfs):
        return
    styles.edit()
    for xf in styles.items("cellXfs"):
        for lock in xf:
            if local(lock) == "protection":
                lock.attrib.pop("locked", None)
        if int(xf.get("fillId", "0")) in tinted:
            xf.set("fillId", "0")  # the first fill: none


def _is_input_tint(fill: Element) -> bool:
    """A solid fill of the input colour, however the colour is spelt (``FFF2CC``, ``00FFF2CC``,
    ``FFFFF2CC``)."""
    pattern = next((c for c in fill if local(c) == "patternFill"), None)
    if pattern is None or pattern.get("patternType") != "solid":
        return False
    colour = next((c for c in pattern if local(c) == "fgColor"), None)
    rgb = (colour.get("rgb") or "") if colour is not None else ""
    return rgb.upper()[-6:] == L.INPUT_FILL.upper()


def store_value(sheet: SheetXml, coord: str, value: Any) -> None:
    """A frozen value in a cell: numbers as numbers, text always as text (never a formula)."""
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


# --------------------------------------------------------------------- values from the core


def core_values(
    book: StreamBook, result: Result, source: SourceMap | None
) -> dict[tuple[str, str], tuple[float | None, str]]:
    """(sheet, cell) → (value, note) for the cells whose formula the core computes."""
    out: dict[tuple[str, str], tuple[float | None, str]] = {}
    for ind in result.indicator_scores():
        if not ind.rows or not ind.spec.rows:
            continue
        spec = L.OUTPUTS_TABLE if ind.spec.rows == "outputs" else L.BENEFITS_TABLE
        found = _table(book, spec.table)
        if found is None:
            continue
        ws, ref = found
        min_col, min_row, max_col, max_row = bounds(ref)
        col = next(
            (
                c
                for c in range(min_col, max_col + 1)
                if normalise_text(str(ws.cell(min_row, c).value or "")) == COMPLETION_HEADER
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
            by_row[coordinate(located[1])[0]] = rs.completion
        for r in range(min_row + 1, max_row + 1):
            value = by_row.get(r)
            out[(ws.title, cell_name(r, col))] = (None if value is None else float(value), NOTE_COMPLETION)
    exec_rate = _name_cell(book, "xp_exec_rate")
    if exec_rate is not None:
        ratio = result.ratios.get("budget_execution")
        out[exec_rate] = (None if ratio is None else float(ratio / 100), "预算执行率（xlperf 计算）")
    spending = next((i for i in result.indicator_scores() if i.spec.kind.monthly_rates), None)
    mean = spending.inputs.get("mean") if spending is not None else None
    mean_cell = _mean_cell(book)
    if mean_cell is not None:
        out[mean_cell] = (None if mean is None else float(mean / 100), "月均执行率（xlperf 计算）")
    return out


def _table(book: StreamBook, name: str) -> tuple[StreamSheet, str] | None:
    for ws in book.worksheets:
        if name in ws.tables:
            return ws, ws.tables[name]
    return None


def _name_cell(book: StreamBook, name: str) -> tuple[str, str] | None:
    defined = book.defined_names.get(name)
    if defined is None:
        return None
    for sheet, coord in name_destinations(defined):
        if sheet in book.sheetnames:
            return sheet, coord.replace("$", "").split(":")[0]
    return None


def _mean_cell(book: StreamBook) -> tuple[str, str] | None:
    """The cell right of the 月均执行率 label (on the months table's sheet, else 支出进度)."""
    found = _table(book, L.MONTHS_TABLE.table)
    sheets = [found[0]] if found else [book[L.SPENDING]] if L.SPENDING in book else []
    for ws in sheets:
        for row, col, cell in ws.cells():
            if isinstance(cell.value, str) and cell.value.strip().startswith(MEAN_LABEL):
                return ws.title, cell_name(row, col + 1)
    return None


# ---------------------------------------------------------------------- workbook-level parts


def _names_to_remove(book: StreamBook) -> list[str]:
    """Names whose definition calls a function (an xlperf UDF would be #NAME? elsewhere), as
    ``name`` or ``sheet!name`` for a sheet's own names."""

    def bad(defined: Any) -> bool:
        text = name_text(defined)
        return "(" in text and (UDF_PREFIX in text.upper() or "[" in text)

    removed = [name for name, defined in book.defined_names.items() if bad(defined)]
    for ws in book.worksheets:
        removed += [f"{ws.title}!{name}" for name, defined in ws.defined_names.items() if bad(defined)]
    return removed


CORE_PART = "docProps/core.xml"
CUSTOM_PART = "docProps/custom.xml"


def _titles(result: Result | ProjectResult) -> tuple[str, str]:
    """(title, subject) of the frozen workbook's document properties, by form."""
    if isinstance(result, ProjectResult):
        info = result.evaluation.project
        name = f"{info.name}（{info.department}）" if info.department else info.name
        return f"{name} {info.year or ''} 年度项目支出绩效自评（报送版）", "项目支出绩效自评"
    dep = result.evaluation.department
    return f"{dep.name} {dep.year or ''} 年度部门整体支出绩效自评（报送版）", "部门整体支出绩效自评"


def _document_properties(pkg: Package, result: Result | ProjectResult, prov: FreezeProvenance) -> None:
    """Title, status and provenance in docProps/core.xml and docProps/custom.xml (openpyxl's
    models serialise them; the parts are created when the input had none)."""
    core_rel = next((r for r in pkg.rels("") if r.is_a(RT.CORE_PROPERTIES)), None)
    core_part = pkg.target("", core_rel) if core_rel else CORE_PART
    props = (
        DocumentProperties.from_tree(fromstring(pkg.raw[core_part]))
        if core_part in pkg.raw
        else DocumentProperties()
    )
    props.title, props.subject = _titles(result)
    props.category = props.subject
    props.keywords = "xlperf;报送;已冻结"
    props.creator = props.creator or "xlperf"
    props.lastModifiedBy = prov.operator or "xlperf"
    props.identifier = prov.input_sha256
    props.version = prov.tool_version
    props.contentStatus = "强制报送" if prov.forced else "报送"
    props.modified = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    lines = [
        f"由 xlperf {prov.tool_version} 冻结（公式已替换为数值，无宏）。",
        f"评分框架：{prov.framework}；总分 {result.total}（{result.rating or '不评级'}）。",
        f"输入文件：{prov.input_name}，SHA-256 {prov.input_sha256}。",
        f"冻结时间：{prov.frozen_at}；操作人：{prov.operator or '（未填写）'}。",
    ]
    if prov.forced:
        lines.append(f"强制报送原因：{prov.forced_reason}")
    props.description = "\n".join(lines)
    pkg.put(core_part, tostring(props.to_tree()), CT.CORE_PROPERTIES)
    if core_rel is None:
        pkg.add_rel("", RT.CORE_PROPERTIES, core_part)

    custom_rel = next((r for r in pkg.rels("") if r.is_a(RT.CUSTOM_PROPERTIES)), None)
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
        StringProperty(name="xlperf.rating", value=result.rating or "不评级"),
        StringProperty(
            name="xlperf.form", value="project" if isinstance(result, ProjectResult) else "department"
        ),
    ]
    for prop in values:
        if prop.name in custom.names:
            del custom[prop.name]
        custom.append(prop)
    pkg.put(custom_part, tostring(custom.to_tree()), CT.CUSTOM_PROPERTIES)
    if custom_rel is None:
        pkg.add_rel("", RT.CUSTOM_PROPERTIES, custom_part)


def _hidden_provenance(
    pkg: Package, book: WorkbookXml, sheet: Callable[[str], SheetXml], prov: FreezeProvenance
) -> None:
    """The freeze rows under the scoring provenance on the hidden sheet, each with its name."""
    if book.sheet(L.HIDDEN) is None:
        return
    write_hidden_rows(pkg, book, sheet, prov.rows())
    hidden_ref = book.sheet(L.HIDDEN)
    assert hidden_ref is not None
    hidden_ref.element.set("state", "veryHidden")
