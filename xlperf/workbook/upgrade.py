"""Move what a clerk typed in a workbook made from an older template into the current one.

``xlperf upgrade`` (and the 升级模板 buttons of the web page and the ribbon) read the old workbook
with the reader's own means of finding things — defined names, Excel tables and their header texts,
then labels and header rows when those are gone (:class:`xlperf.workbook.reader._Reader`) — take
every input cell *as typed* (text as text, numbers with the number format that decides how they
read), and build the current template around them (:func:`xlperf.workbook.template.build_workbook`
with :class:`~xlperf.workbook.template.Typed`), embedding the rules the old workbook was made with.

Anything typed that has no place in the current template is listed, in Chinese, with its sheet and
cell: a cell outside the input areas, a table column the template does not have, a 管理效率 row of
an indicator the rules do not have, an extra sheet, pictures. A formula typed into an input is
replaced by the result Excel saved (listed too); without one it is not carried over.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from openpyxl.workbook.workbook import Workbook

from xlperf.core.framework import Framework
from xlperf.core.quantity import normalise_text
from xlperf.ooxml.refs import bounds, column_letter, coordinate
from xlperf.workbook import layout as L
from xlperf.workbook.book import CellValue, OpenpyxlBook
from xlperf.workbook.reader import Record, _Reader
from xlperf.workbook.template import Typed, TypedCell, build_workbook

__all__ = ["UpgradeReport", "upgrade_book"]

#: how many cells outside the input areas are listed one by one (the rest counted)
LIST_LIMIT = 30


@dataclass
class UpgradeReport:
    """What :func:`upgrade_book` did, for the clerk (every line Chinese)."""

    framework: Framework
    old_version: str  # the old workbook's 模板版本 ("" when it does not say)
    embedded: bool  # whether the old workbook carried its rules (else they were found by id)
    added: list[str] = field(default_factory=list)  # labels of fields the current template adds
    moved: list[str] = field(default_factory=list)  # things found somewhere unusual, and where
    converted: list[str] = field(default_factory=list)  # formulas replaced by their results
    unplaced: list[str] = field(default_factory=list)  # what could not be carried over

    @property
    def new_version(self) -> str:
        return L.TEMPLATE_VERSION

    def lines(self) -> list[str]:
        """The report as a clerk reads it, one line per item."""
        old = f"模板版本 {self.old_version}" if self.old_version else "模板版本未注明"
        rules = "沿用原表内嵌的评分规则" if self.embedded else "原表没有内嵌评分规则，已按其注明的编号写入"
        fw = self.framework
        out = [
            f"原表为{old}，已迁移到当前模板（版本 {L.TEMPLATE_VERSION}）；{rules}：“{fw.name}”"
            f"（编号 {fw.id}，校验值 {fw.sha256[:8]}）。"
        ]
        if self.added:
            out.append(f"当前模板新增的可填项目（可不填）：{'、'.join(self.added)}。")
        out += self.moved
        out += self.converted
        if self.unplaced:
            out.append(f"以下 {len(self.unplaced)} 处内容没有迁移，请对照原表手动处理：")
            out += [f"  · {line}" for line in self.unplaced]
        else:
            out.append("原表填写的内容已全部迁移。")
        return out


def _clip(value: CellValue, limit: int = 20) -> str:
    text = str(value).strip().replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"


def _shown(value: CellValue) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class _Collector:
    """Collect the typed cells of an old workbook (openpyxl, formulas kept)."""

    def __init__(self, wb: Workbook, fw: Framework, cached: Callable[[str, str], CellValue]) -> None:
        self.wb = wb
        self.fw = fw
        self.cached = cached
        self.reader = _Reader(OpenpyxlBook(wb))
        self.typed = Typed()
        self.used: dict[str, set[tuple[int, int]]] = {}  # sheet → cells accounted for
        self.report = UpgradeReport(fw, "", False)
        self.frozen = "xp_frozen_at" in wb.defined_names

    # -- cells --------------------------------------------------------------------------
    def use(self, sheet: str, cells: Iterable[tuple[int, int]]) -> None:
        self.used.setdefault(sheet, set()).update(cells)

    def take(self, sheet: str, coord: str) -> TypedCell | None:
        """The typed content of one input cell (None when empty or not carried over)."""
        row, col = coordinate(coord)
        self.use(sheet, [(row, col)])
        cell = self.wb[sheet].cell(row=row, column=col)
        value = cell.value
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        fmt = str(cell.number_format or "General")
        if cell.data_type == "f":
            result = self.cached(sheet, coord)
            formula = _clip(value, 40)
            if result is None or (isinstance(result, str) and result.startswith("#")):
                self.report.unplaced.append(f"{sheet}!{coord} 是公式“{formula}”，没有计算结果，未迁移")
                return None
            self.report.converted.append(
                f"{sheet}!{coord} 的公式“{formula}”已换为其计算结果 {_shown(result)}（新表中是数值，"
                "不再是公式）。"
            )
            return TypedCell(result, fmt)
        if cell.data_type == "e":
            self.report.unplaced.append(f"{sheet}!{coord} 是错误值 {value}，未迁移")
            return None
        if isinstance(value, datetime | date | time | str | int | float | Decimal | bool):
            return TypedCell(value, fmt)
        return TypedCell(str(value), fmt)

    # -- fields -------------------------------------------------------------------------
    def fields(self) -> None:
        for item in L.all_fields():
            if item.name not in self.wb.defined_names and item.optional:
                self.report.added.append(item.label)
                continue
            before = len(self.reader.findings)
            loc = self.reader.field_cell(item)
            for f in self.reader.findings[before:]:
                if f.code == "R02":  # found by its label
                    self.report.moved.append(
                        f"“{item.label}”：{f.message.split('；')[0]}（{f.sheet}!{f.cell}）。"
                    )
            if loc is None:
                if not item.optional:
                    self.report.unplaced.append(
                        f"“{item.label}”在原表中找不到（没有名称 {item.name}，也没有该标签），请在新表中填写"
                    )
                continue
            ws, coord = loc
            row, col = coordinate(coord)
            self.use(ws.title, [(row, col - 1), (row, col + 1)])  # its label and help (checked below)
            if item.type is L.FieldType.COMPUTED:
                cell = self.wb[ws.title][coord]
                self.use(ws.title, [(row, col)])
                if cell.data_type == "f" or self.frozen:
                    continue  # the template's own formula (or a frozen copy's value): not typed
            typed = self.take(ws.title, coord)
            if typed is not None:
                self.typed.fields[item.name] = typed

    # -- tables -------------------------------------------------------------------------
    def tables(self) -> None:
        for spec in L.tables_for(self.fw):
            before = len(self.reader.findings)
            found = self.reader.find_table(spec)
            if found is None:
                continue  # nothing of it to carry (its absence is said by check on the old workbook)
            ws, ref = found
            min_col, min_row, max_col, max_row = bounds(ref)
            max_row = min(max_row, ws.max_row)
            if any(f.code == "R02" for f in self.reader.findings[before:]):
                self.report.moved.append(
                    f"原表没有 Excel 表格 {spec.table}，已按表头在“{ws.title}”第 {min_row} 行找到"
                    f"“{spec.title}”的内容并迁移。"
                )
            elif ws.title != spec.title:
                self.report.moved.append(
                    f"“{spec.title}”的表格在原表的“{ws.title}”工作表上找到，已迁回“{spec.title}”。"
                )
            self.use(
                ws.title, ((r, c) for r in range(min_row, max_row + 1) for c in range(min_col, max_col + 1))
            )
            self.extra_columns(ws.title, spec, min_col, min_row, max_col, max_row)
            rows = self.reader.read_table(spec)
            if spec.path == "management":
                self.management(ws.title, spec, rows)
            elif spec.path == "spending.monthly":
                self.months(ws.title, rows)
                mean = self.reader.by_label(
                    ws.title, L.MEAN_LABEL
                )  # the template's own (a value when frozen)
                if mean is not None:
                    self.use(ws.title, [coordinate(mean[1])])
            else:
                out: list[dict[str, TypedCell]] = []
                for _, record in rows:
                    entry = self.row(ws.title, spec, record)
                    if entry:
                        out.append(entry)
                self.typed.rows[spec.table] = out

    def row(self, sheet: str, spec: L.TableSheet, record: Record) -> dict[str, TypedCell]:
        entry: dict[str, TypedCell] = {}
        for c in spec.columns:
            if c.attr is None or not c.is_input or c.attr not in record:
                continue
            typed = self.take(sheet, record[c.attr][2])
            if typed is not None:
                entry[c.attr] = typed
        return entry

    def extra_columns(self, sheet: str, spec: L.TableSheet, c1: int, r1: int, c2: int, r2: int) -> None:
        """Columns inside the table that the template does not have, with content below."""
        ws = self.wb[sheet]
        for col in range(c1, c2 + 1):
            head = ws.cell(row=r1, column=col).value
            if head is not None and spec.column_named(str(head)) is not None:
                continue
            filled = [
                f"{column_letter(col)}{r}"
                for r in range(r1 + 1, r2 + 1)
                if ws.cell(row=r, column=col).value not in (None, "")
            ]
            if filled:
                name = (
                    f"“{_clip(head)}”列" if head not in (None, "") else f"{column_letter(col)} 列（无表头）"
                )
                self.report.unplaced.append(
                    f"{sheet} 表格中的{name}不是当前模板的列，其中 {len(filled)} 个单元格的内容没有迁移"
                    f"（如 {sheet}!{filled[0]}）"
                )

    def management(self, sheet: str, spec: L.TableSheet, rows: list[tuple[int, Record]]) -> None:
        specs = {s.id: s for s in self.fw.management()}
        for _, record in rows:
            cell = record.get("indicator", (None, False, ""))[0]
            key = str(cell.value).strip() if cell is not None and cell.value is not None else ""
            entry = self.row(sheet, spec, record)
            ind = specs.get(key)
            if ind is None:
                if entry:
                    self.report.unplaced.append(
                        f"{sheet}!{record['indicator'][2] if 'indicator' in record else ''} "
                        f"编号“{_clip(key)}”"
                        "不是评分规则中的管理效率指标，这一行的填写内容没有迁移"
                    )
                continue
            for attr in list(entry):
                if not L.management_input(attr, ind):
                    coord = record[attr][2]
                    self.report.unplaced.append(
                        f"{sheet}!{coord}“{_clip(entry[attr].value)}”：{ind.id} "
                        "在当前模板中没有这一项，未迁移"
                    )
                    del entry[attr]
            full = record.get("stated_full")
            if full is not None and full[0].value is not None:
                try:
                    changed = Decimal(str(full[0].value)) != ind.full
                except ArithmeticError:
                    changed = True
                if changed:
                    self.report.unplaced.append(
                        f"{sheet}!{full[2]} {ind.id} 的分值被改为“{_clip(full[0].value)}”；"
                        f"新表按评分规则写 {ind.full}"
                    )
            self.typed.management[ind.id] = entry

    def months(self, sheet: str, rows: list[tuple[int, Record]]) -> None:
        for _, record in rows:
            label = record.get("月份", (None, False, ""))[0]
            text = "" if label is None or label.value is None else str(label.value)
            m = re.match(r"\s*(\d{1,2})", text)
            month = int(m.group(1)) if m else 0
            if "rate" not in record:
                continue
            typed = self.take(sheet, record["rate"][2])
            if typed is None:
                continue
            if 1 <= month <= 12:
                self.typed.months[month] = typed
            else:
                self.report.unplaced.append(
                    f"{sheet}!{record['rate'][2]}“{_clip(typed.value)}”：月份“{_clip(text)}”无法识别，未迁移"
                )

    # -- what is left -------------------------------------------------------------------
    def leftovers(self) -> None:
        """Content of the standard sheets outside every place the template has, and extra sheets."""
        known = _template_texts(self.fw)
        standard = {self.reader.sheet_title(t) or t: t for t in L.INPUT_SHEETS}
        listed: list[str] = []
        for ws in self.wb.worksheets:
            title = ws.title
            if title in (*L.OUTPUT_SHEETS, L.HIDDEN) or standard.get(title) == L.README:
                continue
            if title not in standard:
                if any(c.value not in (None, "") for c in ws._cells.values()):
                    self.report.unplaced.append(
                        f"工作表“{title}”不是标准模板的一部分，没有迁移（如需保留，"
                        "请在 Excel 中右键工作表标签 →"
                        " 移动或复制，复制到新表）"
                    )
                continue
            used = self.used.get(title, set())
            examples = {r for (r, _), cell in ws._cells.items() if cell.value == "示例"}  # the 示例 rows
            for (r, c), cell in sorted(ws._cells.items()):
                if r in examples:
                    continue
                value = cell.value
                if value is None or (isinstance(value, str) and not value.strip()) or (r, c) in used:
                    continue
                if r in (1, 2) and isinstance(value, str):  # the sheet's title and its intro (in parts)
                    continue
                if isinstance(value, str) and (
                    _known(value) in known or (cell.data_type == "f" and _template_formula(value))
                ):
                    continue
                listed.append(f"{title}!{column_letter(c)}{r}“{_clip(value)}”不在填写区，未迁移")
        if len(listed) > LIST_LIMIT:
            rest = len(listed) - LIST_LIMIT
            listed = [*listed[:LIST_LIMIT], f"另有 {rest} 个不在填写区的单元格有内容，未迁移"]
        self.report.unplaced += listed


def _template_formula(text: str) -> bool:
    """A formula the template itself writes outside the input cells (月均执行率, 序号)."""
    return (
        text.replace(" ", "")
        .upper()
        .startswith(("=IFERROR(AVERAGE(", "=IFERROR(IF(COUNTA(", "=IFERROR(XP_", "=ROW()"))
    )


_CODE = re.compile(r"（V\d+）")


def _known(text: str) -> str:
    """A text as :func:`_template_texts` lists it: normalised, an older template's （V01） dropped."""
    return normalise_text(_CODE.sub("", text))


def _template_texts(fw: Framework) -> set[str]:
    """Every label, heading and help text a template of any version writes beside the input cells."""
    texts: set[str] = {L.MEAN_LABEL, "优/良/中/差", "/".join(fw.rating_names())}
    for sheet in L.FIELD_SHEETS:
        texts.add(sheet.title)
        for item in sheet.rows:
            texts.add(item.label)
            if isinstance(item, L.Field) and item.help:
                texts.add(item.help)
    for item in L.SPENDING_FIELDS:
        texts.add(item.label)
    texts.add(f"{'/'.join(fw.rating_names())}，xlperf 会按总分核对")
    return {_known(t) for t in texts}


def upgrade_book(
    wb: Workbook,
    framework: Framework,
    cached: Callable[[str, str], CellValue],
    *,
    embedded: bool,
    has_media: bool = False,
) -> tuple[Workbook, UpgradeReport]:
    """The current template (openpyxl ``Workbook``) holding what the clerk typed into ``wb`` (an
    openpyxl workbook with its formulas), with ``framework`` embedded, and the report.

    ``cached(sheet, coord)`` gives the result Excel saved for a formula cell; ``embedded`` says
    whether ``framework`` is the copy the old workbook carried; ``has_media`` that it holds
    pictures or charts (which are not carried over)."""
    c = _Collector(wb, framework, cached)
    version = wb.defined_names.get("xp_template_version")
    if version is not None:
        for sheet, coord in version.destinations:
            if sheet in wb.sheetnames:
                value = wb[sheet][coord.replace("$", "")].value
                c.report.old_version = "" if value is None else str(value).strip()
    c.report.embedded = embedded
    c.fields()
    c.tables()
    c.leftovers()
    if has_media:
        c.report.unplaced.append("原表中的图片或图表没有迁移（如需保留，请从原表复制到新表）")
    return build_workbook(framework, typed=c.typed), c.report
