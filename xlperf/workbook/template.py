"""Build the standard evaluation workbook (blank, or filled with an ``Evaluation``) with openpyxl.

``build_workbook(framework)`` is the blank 部门整体支出绩效自评表; ``build_workbook(framework, ev)``
is the same layout with every input of ``ev`` written in (used for ``xlperf example`` and for the
round-trip tests). Everything comes from :mod:`xlperf.workbook.layout`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Protection
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from xlperf.core.decimals import plain
from xlperf.core.evaluation import Evaluation, IndicatorRow
from xlperf.core.framework import Framework
from xlperf.core.quantity import (
    Direction,
    Quantity,
    direction_in_text,
    fraction_alternative,
    normalise_text,
    resolve_percent_row,
)
from xlperf.core.rulebook import rating_text, rule_rows
from xlperf.files import save_workbook_atomic
from xlperf.workbook import layout as L
from xlperf.workbook import look
from xlperf.workbook.cells import put, put_text
from xlperf.workbook.printing import (
    fit_column_widths,
    fit_row_heights,
    printable_columns,
    release_heights,
    set_page_header,
    setup_print,
)

FIXED_TIME = datetime(2024, 1, 1)  # document properties: the same bytes of content for the same inputs
# the one look (xlperf.workbook.look) as openpyxl objects
BORDER = look.border()
TITLE_FONT = look.font(look.TITLE)
HEADER_FONT = look.font(look.HEADING)
BODY_FONT = look.font(look.BODY)
INTRO_FONT = look.font(look.INTRO)
HELP_FONT = look.font(look.HELP)
EXAMPLE_FONT = look.font(look.EXAMPLE)
INPUT_FILL = look.fill(look.INPUT)
HEADER_FILL = look.fill(look.HEADER)
LOCKED_FILL = look.fill(look.LOCKED)
WRAP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
HEADER_ROW = 4  # row of table headers on table sheets; data starts below


@dataclass(frozen=True)
class TypedCell:
    """What a clerk typed in one input cell, as the cell holds it (text, number, date, bool), and
    the cell's number format, which decides how a number reads (92.13 in a % cell is 92.13 %)."""

    value: Any
    number_format: str = "General"


@dataclass
class Typed:
    """What a clerk typed into a workbook, by its place in the layout (``xlperf upgrade``): named
    fields by defined name; table rows by table name, each row by column ``attr``; the 管理效率 rows
    by indicator id and the months by number (1–12)."""

    fields: dict[str, TypedCell] = field(default_factory=dict)
    rows: dict[str, list[dict[str, TypedCell]]] = field(default_factory=dict)
    management: dict[str, dict[str, TypedCell]] = field(default_factory=dict)
    months: dict[int, TypedCell] = field(default_factory=dict)


def put_typed(cell: Any, typed: TypedCell) -> None:
    """Write ``typed`` into a template cell so that it reads back as it read where it was typed:
    text stays text; a number keeps a percent format (or its absence) and a date its format."""
    value = typed.value
    if isinstance(value, str):
        put_text(cell, value)
        return
    cell.value = value
    if isinstance(value, datetime | date | time) or (
        isinstance(value, int | float | Decimal)
        and not isinstance(value, bool)
        and ("%" in typed.number_format) != ("%" in (cell.number_format or ""))
    ):
        cell.number_format = typed.number_format


def build_workbook(
    framework: Framework, evaluation: Evaluation | None = None, typed: Typed | None = None
) -> Workbook:
    """The standard workbook for ``framework``, blank, holding ``evaluation``'s inputs, or holding
    what a clerk ``typed`` into an older workbook (``xlperf upgrade``)."""
    wb = Workbook()
    wb.remove(wb.worksheets[0])
    wb.properties.creator = "xlperf"
    wb.properties.title = "部门整体支出绩效自评表"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    _hidden_sheet(wb, framework)
    _readme_sheet(wb, framework)
    for sheet in L.FIELD_SHEETS:
        _field_sheet(wb, sheet, evaluation, framework, typed)
    for table in L.tables_for(framework):  # header texts as this framework spells them (the V13 column)
        _table_sheet(wb, table, framework, evaluation, typed)
    order = [*L.INPUT_SHEETS, L.HIDDEN]
    wb._sheets.sort(key=lambda ws: order.index(ws.title))
    wb.active = 0
    _fit_for_print(wb, framework, evaluation.department.name if evaluation is not None else "")
    return wb


def _fit_for_print(wb: Workbook, framework: Framework, department: str) -> None:
    """The last pass over every visible sheet: label columns wide enough for their labels, rows
    as tall as their wrapped text (never lower than the writing room set for long answers), the
    department (or the form's name) in the page header, and the indicator tables' print split."""
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            continue
        if ws.title == L.SPENDING:  # the labels under the month table sit in the narrow 月份 column
            fit_column_widths(ws, [1])
        room = {r: d.height for r, d in ws.row_dimensions.items() if d.height}
        fit_row_heights(ws)
        for r, height in room.items():
            dim = ws.row_dimensions[r]
            dim.height = max(dim.height or 0, height)
        # the rows a clerk types into keep these heights only until an answer needs more: not fixed
        release_heights(ws, {r for (r, _), cell in ws._cells.items() if not cell.protection.locked})
        set_page_header(ws, f"{department or '部门整体支出绩效自评表'}　{ws.title}")
    for table in L.tables_for(framework):
        if table.print_split is not None:
            _split_print(wb[table.title], table, table.print_split, table.print_keys)


def _split_print(ws: Worksheet, table: L.TableSheet, at: str, keys: int) -> None:
    """产出指标/效益指标 (18 columns) and 管理效率 (16): shrunk onto one A4 page nobody could read
    them. They print in two bands instead, split before column ``at`` (where the targets end and
    the results begin; where the answers end and the explanations begin), the first ``keys``
    columns (序号 and 指标名称; 编号 to 三级指标) repeated on both, at one scale that fits the wider
    band on the page (Excel ignores manual breaks under "fit to page", so the scale is set here)."""
    from openpyxl.worksheet.pagebreak import Break, ColBreak

    first = table.first_col
    actual = next(i for i, c in enumerate(table.columns) if c.attr == at)
    widths = [c.width for c in table.columns]
    titles = sum(widths[:keys])
    band = max(sum(widths[:actual]), titles + sum(widths[actual:]))
    ws.col_breaks = ColBreak()
    ws.col_breaks.append(Break(id=first - 1 + actual))  # left of the 实际值 column (0-based id)
    ws.print_title_cols = f"{get_column_letter(first)}:{get_column_letter(first + keys - 1)}"
    ws.sheet_properties.pageSetUpPr.fitToPage = False
    ws.page_setup.scale = min(100, int(printable_columns(ws) / band * 100 * 0.92))


def save_workbook(wb: Workbook, path: Path) -> Path:
    """Save atomically (the previous file stays whole if anything fails)."""
    return save_workbook_atomic(wb, path)


def workbook_bytes(wb: Workbook) -> bytes:
    """The package openpyxl writes for ``wb``, in memory."""
    from io import BytesIO

    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------------- sheets


def _sheet(wb: Workbook, title: str) -> Worksheet:
    ws = wb[title] if title in wb.sheetnames else wb.create_sheet(title)
    return ws


def _title(ws: Worksheet, text: str, intro: str, width_cols: int) -> None:
    ws["A1"] = text
    ws["A1"].font = TITLE_FONT
    ws["A2"] = intro
    ws["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    ws["A2"].font = INTRO_FONT
    if width_cols > 1 and intro:
        ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width_cols)
        ws.row_dimensions[2].height = 30


def _print_setup(ws: Worksheet, landscape: bool, title_rows: str | None = None) -> None:
    setup_print(ws, title_rows=title_rows, landscape=landscape, header=ws.title)


def _protect(ws: Worksheet) -> None:
    """Protect without a password: formulas and labels stay put, inputs stay editable."""
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.formatCells = False
    ws.protection.autoFilter = False
    ws.protection.sort = False


def _input(cell: Any) -> None:
    cell.fill = INPUT_FILL
    cell.protection = Protection(locked=False)
    cell.border = BORDER


def _hidden_sheet(wb: Workbook, fw: Framework) -> None:
    ws = wb.create_sheet(L.HIDDEN)
    ws["A1"] = "下拉列表与计分记录（由 xlperf 维护，请勿修改）"
    for col, (name, values) in enumerate(L.lists_for(fw).items(), start=1):
        letter = get_column_letter(col)
        ws.cell(row=2, column=col, value=name)
        for i, v in enumerate(values, start=3):
            ws.cell(row=i, column=col, value=v)
        ref = f"{quote_sheetname(L.HIDDEN)}!${letter}$3:${letter}${2 + len(values)}"
        wb.defined_names[name] = DefinedName(name, attr_text=ref)
    base = len(L.LISTS) + 2
    for i, (name, label) in enumerate(L.PROVENANCE, start=2):
        ws.cell(row=i, column=base, value=label)
        cell = ws.cell(row=i, column=base + 1)
        letter = get_column_letter(base + 1)
        wb.defined_names[name] = DefinedName(name, attr_text=f"{quote_sheetname(L.HIDDEN)}!${letter}${i}")
        if name == "xp_framework":
            cell.value = fw.id
        elif name == "xp_template_version":
            cell.value = L.TEMPLATE_VERSION
        elif name == "xp_framework_sha256":
            cell.value = fw.sha256
        elif name == "xp_framework_def":
            _embed_rules(wb, ws, fw, base + 1, i)
    ws.sheet_state = "veryHidden"  # the embedded rules: not unhidden from Excel's menu
    _protect(ws)


def _embed_rules(wb: Workbook, ws: Any, fw: Framework, col: int, row: int) -> None:
    """The framework's canonical content in the named cells xp_framework_def[2…] (one column,
    from ``row`` down): any xlperf on any PC scores the workbook by the rules it was made with."""
    letter = get_column_letter(col)
    for k, chunk in enumerate(L.framework_chunks(fw.canonical())):
        cell = ws.cell(row=row + k, column=col)
        cell.value = chunk
        cell.data_type = "s"  # never a formula, whatever the text starts with
        wb.defined_names[L.DEF_NAMES[k]] = DefinedName(
            L.DEF_NAMES[k], attr_text=f"{quote_sheetname(L.HIDDEN)}!${letter}${row + k}"
        )


def _readme_sheet(wb: Workbook, fw: Framework) -> None:
    ws = wb.create_sheet(L.README)
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 100
    ws["A1"] = "部门整体支出绩效自评表 · 填表说明"
    ws["A1"].font = TITLE_FONT
    lines: list[tuple[str, str]] = [
        (
            "怎么填",
            "浅黄色单元格是填写区，其余单元格由公式或 xlperf 生成。金额单位为万元，"
            "比率填百分数（如 92.13%）。"
            "数字可以带单位（如 180家、不少于180家），xlperf 会识别；无法识别的会在“校验结果”中指出。",
        ),
        (
            "怎么算分",
            "在 Excel 中点击“绩效自评”选项卡的“计算得分”，或在命令行运行 xlperf run 本文件。"
            "结果写入“评分汇总”“校验结果”“自评报告”三张表；原有填写内容不会被改动。",
        ),
        (
            "WPS 或没有 Excel",
            "WPS、信创电脑或没有安装加载项时：运行 xlperf serve，在打开的本机网页上传本文件，即可校验、计分、"
            "下载报告和报送包，结果与 Excel 中相同。也可运行 xlperf run 本文件.xlsx。",
        ),
    ]
    intros = {sheet.title: sheet.intro for sheet in L.FIELD_SHEETS}
    for table in L.tables_for(fw):
        if table.intro:
            intros.setdefault(table.title, table.intro)
    lines += [(title, intros[title]) for title in L.INPUT_SHEETS if title in intros]  # in the tabs' order
    lines += [
        (L.SCORES, "由 xlperf 生成：各级指标得分、每个指标的完成率和得分、计算比率和评价等级，可直接打印。"),
        (
            L.FINDINGS,
            "由 xlperf 生成：每条问题一行，点击单元格地址可跳到需要修改的位置。"
            "红色为错误（须改正后才能报送），"
            "黄色为提醒。",
        ),
        (L.REPORT, "由 xlperf 生成：部门整体支出绩效自评报告正文，与评分汇总使用同一计算结果。"),
        (
            "插入行",
            "“重点工作”“产出指标”“效益指标”“问题与措施”的表格可以插入或删除行（表格内右键 → 插入 → 表格行）。"
            "这些工作表不加保护，因为 Excel 不允许在受保护的工作表中扩展表格。",
        ),
    ]
    years = f"，适用于 {'、'.join(str(y) for y in fw.years)} 年度" if fw.years else ""
    lines.append(
        (
            "评分规则",
            f"本表按“{fw.name}”计分（编号 {fw.id}，校验值 {fw.sha256[:8]}{years}），规则已写入本工作簿；"
            f"总分 {plain(fw.total)} 分："
            + "、".join(f"{s.name} {plain(s.full)} 分" for s in fw.sections)
            + f"。评价等级：{rating_text(fw)}。各指标的计分方法见下表。",
        )
    )
    for _, group, name, full, how in rule_rows(fw):
        lines.append((f"{name}（{full}分）", f"{group}：{how}" if how else group))
    for i, (head, text) in enumerate(lines, start=3):
        ws.cell(row=i, column=1, value=head).font = HEADER_FONT
        cell = ws.cell(row=i, column=2, value=text)
        cell.alignment = WRAP
        cell.font = BODY_FONT
        ws.cell(row=i, column=1).alignment = Alignment(vertical="top", wrap_text=True)
    _print_setup(ws, landscape=False)
    _protect(ws)


def _field_sheet(
    wb: Workbook, sheet: L.FieldSheet, ev: Evaluation | None, fw: Framework, typed: Typed | None = None
) -> None:
    ws = _sheet(wb, sheet.title)
    _title(ws, sheet.title, sheet.intro, 3)
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 64
    ws.column_dimensions["C"].width = 40
    for row, item in enumerate(sheet.rows, start=4):
        if isinstance(item, L.Heading):
            cell = ws.cell(row=row, column=1, value=item.label)
            cell.font = HEADER_FONT
            cell.fill = HEADER_FILL
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=3)
            continue
        ws.cell(row=row, column=1, value=item.label).font = BODY_FONT
        ws.cell(row=row, column=1).alignment = WRAP
        value_cell = ws.cell(row=row, column=2)
        help_cell = ws.cell(row=row, column=3)
        help_text = item.help
        if item.path == "claims.rating":  # the rating names are the framework's
            help_text = (
                f"{'/'.join(fw.rating_names())}，xlperf 会按总分核对"
                if fw.rated
                else "本评分框架不评级，请留空"
            )
        put(help_cell, help_text or None)  # help such as "= 本年收入 + 上年结转" is text, not a formula
        help_cell.font = HELP_FONT
        help_cell.alignment = WRAP
        wb.defined_names[item.name] = DefinedName(
            item.name, attr_text=f"{quote_sheetname(ws.title)}!$B${row}"
        )
        value_cell.font = BODY_FONT
        if item.type is L.FieldType.COMPUTED:
            value_cell.value = '=IFERROR(xp_executed/xp_total_budget,"")'
            value_cell.number_format = "0.00%"
            value_cell.fill = LOCKED_FILL
            value_cell.border = BORDER
            if typed is not None and item.name in typed.fields:  # a rate typed over the formula (V04)
                put_typed(value_cell, typed.fields[item.name])
            continue
        _input(value_cell)
        if item.type is L.FieldType.AMOUNT:
            value_cell.number_format = "#,##0.00"
        elif item.type is L.FieldType.RATE:
            value_cell.number_format = "0.00%"
        elif item.type is L.FieldType.INT:
            value_cell.number_format = "0"
        if item.type is L.FieldType.LONGTEXT:
            value_cell.alignment = WRAP
            ws.row_dimensions[row].height = 60
        if item.type is L.FieldType.BOOL:
            dv = DataValidation(type="list", formula1="=xp_list_bool", allow_blank=True)
            ws.add_data_validation(dv)
            dv.add(value_cell.coordinate)
        if ev is not None:
            put(value_cell, _get_path(ev, item.path, item.type))
        if typed is not None and item.name in typed.fields:
            put_typed(value_cell, typed.fields[item.name])
    _print_setup(ws, landscape=False)
    _protect(ws)


def _get_path(ev: Evaluation, path: str, type_: L.FieldType) -> Any:
    obj: Any = ev
    for part in path.split("."):
        obj = getattr(obj, part)
    if type_ is L.FieldType.RATE and obj is not None:
        return obj / 100
    if type_ is L.FieldType.BOOL:
        return bool(obj)
    if hasattr(obj, "value") and not isinstance(obj, Decimal):
        return obj.value
    return obj


def _rows_for(table: L.TableSheet, ev: Evaluation | None, fw: Framework, typed: Typed | None) -> list[Any]:
    if typed is not None:
        if table.path == "management":
            return [typed.management.get(spec.id) for spec in fw.management()]
        if table.path == "spending.monthly":
            return [typed.months.get(m) for m in range(1, 13)]
        return list(typed.rows.get(table.table, []))
    if table.path == "management":
        entries = {m.indicator: m for m in ev.management} if ev else {}
        return [entries.get(spec.id) for spec in fw.management()]
    if table.path == "spending.monthly":
        return list(ev.spending.monthly) if ev else [None] * 12
    if ev is None:
        return []
    return list(getattr(ev, table.path))


def _table_sheet(
    wb: Workbook, table: L.TableSheet, fw: Framework, ev: Evaluation | None, typed: Typed | None = None
) -> None:
    ws = _sheet(wb, table.title)
    first = table.first_col
    ncols = len(table.columns)
    if table.first_col == 1 and table.intro_parts is None:
        _title(ws, table.title, table.intro, ncols)
    elif table.first_col == 1 and table.intro_parts is not None:
        # two printed bands, the key columns repeated on both: the intro in three merged parts, one
        # over the key columns and one over each band's own columns, so neither band cuts a text
        split = next(i for i, c in enumerate(table.columns) if c.attr == table.print_split)
        _title(ws, table.title, "", 1)
        for text, (c1, c2) in zip(
            table.intro_parts, ((0, table.print_keys), (table.print_keys, split), (split, ncols)), strict=True
        ):
            cell = ws.cell(row=2, column=first + c1, value=text)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.font = INTRO_FONT
            ws.merge_cells(start_row=2, start_column=first + c1, end_row=2, end_column=first + c2 - 1)
    items = _rows_for(table, ev, fw, typed)
    nrows = (
        len(items) if table.path in ("management", "spending.monthly") else max(table.blank_rows, len(items))
    )
    nrows = max(nrows, 1)
    top, bottom = HEADER_ROW, HEADER_ROW + nrows
    letters = {c.header: get_column_letter(first + i) for i, c in enumerate(table.columns)}
    specs = fw.management()
    for i, col in enumerate(table.columns):
        letter = get_column_letter(first + i)
        ws.column_dimensions[letter].width = col.width
        head = ws.cell(row=top, column=first + i, value=col.header)
        head.font = HEADER_FONT
        head.alignment = CENTER
        head.border = BORDER
        if col.help:
            head.comment = Comment(col.help, "xlperf")
        for r in range(top + 1, bottom + 1):
            cell = ws.cell(row=r, column=first + i)
            cell.font = BODY_FONT
            cell.border = BORDER
            cell.alignment = (
                WRAP if col.type in (L.ColumnType.LONGTEXT, L.ColumnType.TEXT, L.ColumnType.FIXED) else CENTER
            )
            if col.is_input:
                _input(cell)
            else:
                cell.fill = LOCKED_FILL
            if col.type is L.ColumnType.RATE or col.percent:
                cell.number_format = "0.00%"
        if col.type in L.LIST_FOR_COLUMN:
            dv = DataValidation(
                type="list",
                formula1=f"={L.LIST_FOR_COLUMN[col.type]}",
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="请从下拉列表选择",
                error="请选择下拉列表中的一项",
            )
            ws.add_data_validation(dv)
            dv.add(f"{letter}{top + 1}:{letter}{bottom}")
    for offset in range(nrows):
        r = top + 1 + offset
        item = items[offset] if offset < len(items) else None
        explicit = _explicit_percent(item, fw) if isinstance(item, IndicatorRow) else set()
        for i, col in enumerate(table.columns):
            cell = ws.cell(row=r, column=first + i)
            if typed is not None and table.path == "spending.monthly" and col.attr is not None:
                if item is not None:
                    put_typed(cell, item)
                continue
            if typed is not None and table.path == "management":
                _management_cell(cell, col, specs[offset], None, fw)
                if item is not None and col.attr in item and L.management_input(col.attr, specs[offset]):
                    put_typed(cell, item[col.attr])
                continue
            if typed is not None and col.is_input and col.attr is not None:
                if item is not None and col.attr in item:
                    put_typed(cell, item[col.attr])
                continue
            if col.type is L.ColumnType.FORMULA:
                cell.value = _completion_formula(letters, r, fw)
                cell.number_format = "0.00%"
            elif col.header == "序号" and col.type is L.ColumnType.FIXED:
                cell.value = f"=ROW()-{top}"
            elif table.path == "spending.monthly":
                if col.attr is None:
                    cell.value = f"{offset + 1}月"
                elif item is not None:
                    put(cell, item / 100)
            elif table.path == "management":
                if offset < len(specs):  # rules with nothing to answer here keep one empty row
                    _management_cell(cell, col, specs[offset], item, fw)
            elif item is not None and col.attr is not None:
                value = _attr(item, col.attr)
                if col.attr in explicit:  # would be re-read as a ×100/÷100 slip: say "%" in the cell
                    put_text(cell, f"{plain(value)}%")
                else:
                    put(cell, value / 100 if col.percent and value is not None else value)
    if table.example:
        _example_row(ws, table, top - 1)
    if table.path == "spending.monthly":
        _spending_extras(wb, ws, bottom, ev, typed)
    ref = f"{get_column_letter(first)}{top}:{get_column_letter(first + ncols - 1)}{bottom}"
    tab = Table(displayName=table.table, ref=ref)
    tab.tableStyleInfo = TableStyleInfo(name="TableStyleLight1", showRowStripes=False)
    ws.add_table(tab)
    ws.freeze_panes = ws.cell(row=top + 1, column=3 if table.path in ("outputs", "benefits") else 1)
    _print_setup(ws, table.landscape, f"{top}:{top}")
    if table.protect:
        _protect(ws)


def _example_row(ws: Worksheet, table: L.TableSheet, r: int) -> None:
    """The 示例 row above the header, outside the table (never read): an example entry, and for a
    column without one its help in brackets, so the sheet explains itself without hover notes."""
    given = dict(table.example)
    for i, col in enumerate(table.columns):
        text = given.get(col.attr or "", given.get(col.header))
        if text is None and col.help and col.is_input:
            text = f"（{col.help}）"
        if text is None:
            continue
        cell = ws.cell(row=r, column=table.first_col + i)
        put_text(cell, text)
        cell.font = EXAMPLE_FONT
        wide = col.type in (L.ColumnType.LONGTEXT, L.ColumnType.TEXT, L.ColumnType.FIXED)
        cell.alignment = Alignment(horizontal=None if wide else "center", vertical="top", wrap_text=True)


def _explicit_percent(row: IndicatorRow, fw: Framework) -> set[str]:
    """The values of a % row that the reader's percent convention would take for a ×100/÷100 slip
    if written as bare numbers (an implausible row from JSON): they are written as text with "%"."""
    if normalise_text(row.unit) != "%" or row.target_value is None or row.actual_value is None:
        return set()
    direction = row.direction or direction_in_text(row.target_text) or Direction.GE
    target, actual = (
        Quantity(value=v, blank=False, alternative=fraction_alternative(v))
        for v in (row.target_value, row.actual_value)
    )
    choice = resolve_percent_row(
        target, actual, direction, fw.completion.plausible_min, fw.completion.plausible_max
    )
    return {field for field, _, _ in choice.changed} if choice else set()


def _attr(item: Any, attr: str) -> Any:
    value = item if attr == "text" and isinstance(item, str) else getattr(item, attr)
    if hasattr(value, "value") and not isinstance(value, Decimal):
        return value.value
    return value


def _management_cell(cell: Any, col: L.Column, spec: Any, entry: Any, fw: Framework) -> None:
    header = col.header
    if header == "编号":
        cell.value = spec.id
    elif header == "二级指标":
        cell.value = spec.group
    elif header == "三级指标":
        cell.value = spec.name
    elif header == "分值":
        cell.value = spec.full
    elif header.startswith("子项") and col.attr is None:
        n = int(header[2]) - 1
        if n < len(spec.items):
            it = spec.items[n]
            cell.value = f"{fw.item_text(it)}（{it.points}分）"
            if n == 0 and spec.kind.counts and spec.count_labels:  # what the two counts count
                total, done = spec.count_labels
                cell.value += f"。应完成数填{total}，按时完成数填{done}"
        elif n == 0 and not spec.items and not spec.kind.counts:
            cell.value = "自动计算：由“收支情况”中的金额算出，不需答复；请在“评价说明”中写明情况"
    elif not L.management_input(col.attr, spec):
        cell.fill = LOCKED_FILL
        cell.protection = Protection(locked=True)
    elif col.attr and col.attr.startswith("answers."):
        n = int(col.attr.split(".")[1])
        if entry is not None and n < len(entry.answers) and entry.answers[n] is not None:
            cell.value = entry.answers[n].value
    elif entry is not None and col.attr is not None:
        put(cell, _attr(entry, col.attr))
    if spec.kind.counts and col.attr in ("count_total", "count_done") and spec.count_labels:
        label = spec.count_labels[0 if col.attr == "count_total" else 1]
        cell.comment = Comment(label, "xlperf")


def _spending_extras(
    wb: Workbook, ws: Worksheet, bottom: int, ev: Evaluation | None, typed: Typed | None = None
) -> None:
    r = bottom + 2
    ws.cell(row=r, column=1, value=L.MEAN_LABEL).font = HEADER_FONT
    mean = ws.cell(row=r, column=2, value=L.mean_formula(f"B{HEADER_ROW + 1}:B{bottom}"))
    mean.number_format = "0.00%"
    mean.fill = LOCKED_FILL
    item = L.SPENDING_FIELDS[0]
    ws.cell(row=r + 1, column=1, value=item.label).font = HEADER_FONT
    ws.cell(row=r + 1, column=1).alignment = WRAP
    cell = ws.cell(row=r + 1, column=2)
    _input(cell)
    cell.number_format = "0.00%"
    wb.defined_names[item.name] = DefinedName(item.name, attr_text=f"{quote_sheetname(ws.title)}!$B${r + 1}")
    if ev is not None and ev.spending.annual_mean is not None:
        put(cell, ev.spending.annual_mean / 100)
    if typed is not None and item.name in typed.fields:
        put_typed(cell, typed.fields[item.name])


def _completion_formula(letters: dict[str, str], r: int, fw: Framework) -> str:
    """Live completion rate for Excel, WPS and LibreOffice (scores still come from Python)."""
    k, d, t, a, g = (f"{letters[h]}{r}" for h in ("类型", "方向", "目标值", "实际值", "完成等级"))
    return L.completion_formula(k, d, t, a, g, fw)


TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "workbook_templates"
BLANK_NAME = "部门整体支出绩效自评表.xlsx"
EXAMPLE_NAME = "examples/白云区科工商信局_2023.xlsx"


def build_committed_templates(folder: Path = TEMPLATES_DIR) -> list[Path]:
    """Regenerate the two workbooks committed under ``workbook_templates/`` (one command:
    ``python -m xlperf.workbook.template``). A test fails when the committed files differ in
    content from what this builds."""
    from xlperf.core.framework import get_framework
    from xlperf.examples import example_evaluation

    fw = get_framework(example_evaluation().framework)
    blank = save_workbook(build_workbook(fw), folder / BLANK_NAME)
    example = save_workbook(build_workbook(fw, example_evaluation()), folder / EXAMPLE_NAME)
    return [blank, example]


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    for written in build_committed_templates():
        print(written)
