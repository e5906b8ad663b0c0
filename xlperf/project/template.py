"""Build the 项目支出绩效自评表 workbook (blank, or filled with a ``ProjectEvaluation``) with openpyxl.

One sheet in the national layout a clerk recognises — header (项目名称, 主管部门, 实施单位, 年度), the
项目资金（万元） block, 年度总体目标, the 绩效指标 table with merged 一级/二级, the footer (总分, 得分合计,
评价等级) — then 存在问题, 改进措施 and the signature line; a 填表说明 sheet with the framework's rules;
the hidden ``_xlperf`` sheet with the dropdown lists, the provenance and the embedded rules under the
department workbook's names (``xp_framework``, ``xp_framework_def`` …: the same reader finds them).
Printable on A4 portrait, one page wide.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from xlperf.core.decimals import plain
from xlperf.core.project.evaluation import FUND_ROWS, ProjectEvaluation, ProjectRow
from xlperf.core.project.framework import ProjectFramework
from xlperf.core.project.rules import describe_all
from xlperf.core.rulebook import rating_text
from xlperf.project import layout as P
from xlperf.workbook import layout as L
from xlperf.workbook import look
from xlperf.workbook.cells import put
from xlperf.workbook.printing import fit_row_heights, setup_print
from xlperf.workbook.template import FIXED_TIME

BORDER = look.border(look.RULE)
TITLE_FONT = look.font(look.FORM_TITLE)
LABEL_FONT = look.font(look.HEADING)
BODY_FONT = look.font(look.BODY)
NOTE_FONT = look.font(look.NOTE)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
TOP = Alignment(horizontal="left", vertical="top", wrap_text=True)
INPUT_FILL = look.fill(look.INPUT)
LABEL_FILL = look.fill(look.HEADER)
COMPUTED_FILL = look.fill(look.LOCKED)
LEVEL_FILL = look.fill(look.LEVEL)
NCOLS = len(P.INDICATOR_COLUMNS)  # A … I
#: the blank form's rows per 二级 (产出 has two of each but 时效/成本, the others one)
BLANK_ROWS = {"数量指标": 2, "质量指标": 2}


def build_project_workbook(fw: ProjectFramework, ev: ProjectEvaluation | None = None) -> Workbook:
    """The blank form for ``fw``, or ``ev`` written into it."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = P.FORM_SHEET
    _form(wb, ws, fw, ev)
    _readme(wb, fw)
    _hidden(wb, fw)
    wb.properties.title = P.TITLE
    wb.properties.creator = "xlperf"
    wb.properties.created = wb.properties.modified = FIXED_TIME
    return wb


# ---------------------------------------------------------------------------------- the form


class _Sheet:
    """Small helpers over one worksheet: labels, inputs and merges in one call each."""

    def __init__(self, ws: Worksheet) -> None:
        self.ws = ws

    def merge(self, row: int, first: int, last: int, rows: int = 1) -> None:
        if last > first or rows > 1:
            self.ws.merge_cells(start_row=row, start_column=first, end_row=row + rows - 1, end_column=last)
        for r in range(row, row + rows):
            for c in range(first, last + 1):
                self.ws.cell(row=r, column=c).border = BORDER

    def label(self, row: int, col: int, text: str, last: int | None = None, rows: int = 1) -> None:
        cell = self.ws.cell(row=row, column=col, value=text)
        cell.font, cell.fill, cell.alignment = LABEL_FONT, LABEL_FILL, CENTER
        self.merge(row, col, last or col, rows)

    def value(
        self,
        row: int,
        col: int,
        value: object,
        last: int | None = None,
        *,
        fill: PatternFill = INPUT_FILL,
        align: Alignment = LEFT,
        rows: int = 1,
    ) -> Cell:
        cell: Cell = self.ws.cell(row=row, column=col)
        put(cell, value)
        cell.font, cell.fill, cell.alignment = BODY_FONT, fill, align
        self.merge(row, col, last or col, rows)
        return cell


def _number(text: str) -> Decimal | str | None:
    """What the clerk would have typed: a plain number as a number, anything else as text."""
    stripped = text.strip()
    if not stripped:
        return None
    try:
        value = Decimal(stripped)
    except InvalidOperation:
        return stripped
    return plain(value) if value.is_finite() else stripped


def _form(wb: Workbook, ws: Worksheet, fw: ProjectFramework, ev: ProjectEvaluation | None) -> None:
    s = _Sheet(ws)
    for i, col in enumerate(P.INDICATOR_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = col.width
    info = ev.project if ev else None
    # title and header
    ws.cell(row=1, column=1, value=P.TITLE).font = TITLE_FONT
    ws.cell(row=1, column=1).alignment = CENTER
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=NCOLS)
    ws.row_dimensions[1].height = 30
    s.label(2, 1, "项目名称", 2)
    s.value(2, 3, info.name if info else None, NCOLS)
    s.label(3, 1, "主管部门", 2)
    s.value(3, 3, info.department if info else None, 5)
    s.label(3, 6, "实施单位")
    s.value(3, 7, info.unit if info else None, NCOLS)
    s.label(4, 1, "年度", 2)
    s.value(4, 3, info.year if info else None, align=CENTER)
    note = ws.cell(row=4, column=4, value="金额单位：万元；黄色单元格由填表人填写，灰色单元格由 xlperf 计算")
    note.font, note.alignment = NOTE_FONT, LEFT
    ws.merge_cells(start_row=4, start_column=4, end_row=4, end_column=NCOLS)
    years = DataValidation(
        type="whole", operator="between", formula1="2000", formula2="2100", allow_blank=True
    )
    years.error, years.errorTitle = "年度请填写四位数字，如 2024", "年度"
    ws.add_data_validation(years)
    years.add("C4")
    # 项目资金（万元）
    top = 5
    s.label(top, 1, "项目资金（万元）", rows=len(FUND_ROWS) + 1)
    s.label(top, 2, "资金来源")
    for c, text in enumerate(
        ("年初预算数", "全年预算数（A）", "全年执行数（B）", "分值", "执行率（B/A）", "得分"), start=3
    ):
        s.label(top, c, text)
    s.label(top, NCOLS, "说明")
    funds = ev.funds if ev else None
    amounts = DataValidation(
        type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True, showErrorMessage=True
    )
    amounts.error, amounts.errorTitle = "请填写不小于 0 的金额（万元）", "项目资金"
    ws.add_data_validation(amounts)
    for i, (key, label) in enumerate(FUND_ROWS):
        r = top + 1 + i
        cell = ws.cell(row=r, column=2, value=label)
        cell.font, cell.alignment, cell.border = BODY_FONT, LEFT, BORDER
        row = getattr(funds, key) if funds else None
        for c, attr in zip((3, 4, 5), ("initial", "budget", "executed"), strict=True):
            v = s.value(
                r,
                c,
                getattr(row, attr) if row else None,
                align=Alignment(horizontal="right", vertical="center"),
            )
            v.number_format = "0.00##"
            amounts.add(v.coordinate)
        rate = s.value(r, 7, None, fill=COMPUTED_FILL, align=CENTER)
        rate.value = f'=IF(N(D{r})>0,E{r}/D{r},"")'  # a live rate only: the score comes from xlperf
        rate.number_format = "0.00%"
        if i == 0:
            s.value(r, 6, fw.budget.full, fill=COMPUTED_FILL, align=CENTER)
            sc = s.value(r, 8, funds.score if funds else None, align=CENTER)
            sc.number_format = "0.00"
            explain = (
                f"执行率低于 {plain(fw.budget.explain_below)}% 须在下一行说明原因"
                if fw.budget.explain_below is not None
                else "得分 = 执行率 × 分值，最高为分值"
            )
            s.value(r, NCOLS, explain, fill=COMPUTED_FILL, align=LEFT)
        else:
            for c in (6, 8):
                s.value(r, c, "—", fill=COMPUTED_FILL, align=CENTER)
            s.value(r, NCOLS, None, fill=COMPUTED_FILL)
    r = top + len(FUND_ROWS) + 1
    s.label(r, 1, "预算执行偏差原因", 2)
    s.value(r, 3, funds.reason if funds else None, NCOLS, align=TOP)
    # 年度总体目标
    r += 1
    s.label(r, 1, "年度总体目标", rows=2)
    s.label(r, 2, "预期目标", 5)
    s.label(r, 6, "实际完成情况", NCOLS)
    s.value(r + 1, 2, ev.goal_expected if ev else None, 5, align=TOP)
    s.value(r + 1, 6, ev.goal_actual if ev else None, NCOLS, align=TOP)
    tall = [r + 1]
    # 绩效指标
    head = r + 2
    for c, col in enumerate(P.INDICATOR_COLUMNS, start=1):
        s.label(head, c, col.text)
    rows = ev.rows if ev and ev.rows else _blank_rows(fw)
    first = head + 1
    _indicator_rows(s, fw, rows, first)
    last = first + len(rows) - 1
    _validations(wb, ws, fw, first, last)
    # footer
    r = last + 1
    s.label(r, 1, "总分", 6)
    s.value(r, 7, fw.total, fill=COMPUTED_FILL, align=CENTER)
    total = s.value(r, 8, ev.claimed_total if ev else None, align=CENTER)
    total.number_format = "0.00"
    s.value(r, 9, "得分合计（xlperf 计分后写入）", fill=COMPUTED_FILL, align=LEFT)
    if fw.rated:
        r += 1
        s.label(r, 1, "评价等级", 6)
        grade = s.value(r, 7, ev.claimed_rating if ev else None, NCOLS, align=CENTER)
        ratings = DataValidation(
            type="list", formula1='"' + ",".join(fw.rating_names()) + '"', allow_blank=True
        )
        ratings.error, ratings.errorTitle = f"请选择 {'、'.join(fw.rating_names())}", "评价等级"
        ws.add_data_validation(ratings)
        ratings.add(grade.coordinate)
    for label, path in (("存在问题", "problems"), ("改进措施", "improvements")):
        r += 1
        s.label(r, 1, label, 2)
        s.value(r, 3, getattr(ev, path) if ev else None, NCOLS, align=TOP)
        tall.append(r)
    r += 1
    s.label(r, 1, "填报人", 2)
    s.value(r, 3, info.preparer if info else None)
    s.label(r, 4, "联系电话", 5)
    s.value(r, 6, info.phone if info else None)
    s.label(r, 7, "填报日期", 8)
    s.value(r, 9, info.fill_date if info else None)
    fit_row_heights(ws, min_height=18)
    ws.row_dimensions[1].height = 30
    for t in tall:  # room to write in, when empty
        ws.row_dimensions[t].height = max(ws.row_dimensions[t].height or 0, 48)
    header = f"{info.name}　{info.year or ''} 年度　{P.TITLE}" if info and info.name else P.TITLE
    setup_print(ws, landscape=False, header=header)
    ws.print_options.horizontalCentered = True
    ws.sheet_view.showGridLines = False
    ws.freeze_panes = None


def _blank_rows(fw: ProjectFramework) -> list[ProjectRow]:
    rows = []
    for lv in fw.levels:
        for group in lv.groups or ("",):
            for _ in range(BLANK_ROWS.get(group, 1) if lv.id == "output" else 1):
                rows.append(ProjectRow(level1=_level_text(lv.name, lv.full), level2=group))
    return rows


def _level_text(name: str, full: Decimal | None) -> str:
    return f"{name}（{plain(full)}分）" if full is not None else name


def _indicator_rows(s: _Sheet, fw: ProjectFramework, rows: list[ProjectRow], first: int) -> None:
    """The rows, with consecutive equal 一级 (and, inside them, 二级) merged as clerks lay them out."""
    ws = s.ws
    for i, row in enumerate(rows):
        r = first + i
        for c, col in enumerate(P.INDICATOR_COLUMNS, start=1):
            value: object = getattr(row, col.attr)
            if isinstance(value, str) and col.attr in ("target", "actual"):  # the model's texts
                value = _number(value)
            elif col.attr in ("level1", "level2"):
                value = value or None
            align = CENTER if col.attr in ("level1", "level2", "operator", "weight", "score") else LEFT
            cell = s.value(r, c, value, align=align)
            if col.attr in ("weight", "score"):
                cell.number_format = "0.00##"
            if col.attr in ("level1", "level2"):
                cell.font, cell.fill = LABEL_FONT, LEVEL_FILL
    for attr, c in (("level1", 1), ("level2", 2)):
        start = 0
        for i in range(1, len(rows) + 1):
            same = i < len(rows) and getattr(rows[i], attr) == getattr(rows[start], attr)
            if attr == "level2" and same:
                same = rows[i].level1 == rows[start].level1
            if same:
                continue
            if i - start > 1 and getattr(rows[start], attr):
                ws.merge_cells(start_row=first + start, start_column=c, end_row=first + i - 1, end_column=c)
            start = i


def _validations(wb: Workbook, ws: Worksheet, fw: ProjectFramework, first: int, last: int) -> None:
    def col(attr: str) -> str:
        index = next(i for i, c in enumerate(P.INDICATOR_COLUMNS, start=1) if c.attr == attr)
        letter: str = get_column_letter(index)
        return letter

    ops = DataValidation(type="list", formula1=f"={P.LIST_OPERATOR}", allow_blank=True, showErrorMessage=True)
    ops.errorTitle, ops.error = "计算符号", "请从列表中选择：≥ > = ≤ < 定性 不适用"
    ops.promptTitle, ops.prompt = (
        "计算符号",
        "≥ > 正向，= 等于，≤ < 反向，定性：按等级评分；不适用：该指标不计分",
    )
    ops.showInputMessage = True
    grades = DataValidation(type="list", formula1=f"={P.LIST_GRADE}", allow_blank=True)
    grades.showErrorMessage = False  # numbers are typed here too: the list only offers the 定性 grades
    grades.promptTitle, grades.prompt = (
        "实际完成值",
        "定量指标填写数值（可带单位）；定性指标从列表选择等级，并在“得分”中填写该等级区间内的分数",
    )
    grades.showInputMessage = True
    scores = DataValidation(
        type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True, showErrorMessage=True
    )
    scores.errorTitle, scores.error = "分值/得分", "请填写不小于 0 的数字"
    for dv, attr in ((ops, "operator"), (grades, "actual")):
        ws.add_data_validation(dv)
        dv.add(f"{col(attr)}{first}:{col(attr)}{last}")
    ws.add_data_validation(scores)
    scores.add(f"{col('weight')}{first}:{col('score')}{last}")


# ---------------------------------------------------------------------------------- 填表说明


def _readme(wb: Workbook, fw: ProjectFramework) -> None:
    ws = wb.create_sheet(P.README)
    ws.column_dimensions["A"].width = 100
    lines: list[tuple[str, Font]] = [
        (f"填表说明 · {fw.name}", TITLE_FONT),
        (f"评分框架 {fw.label}（规则已写入本工作簿，任何电脑上的 xlperf 都按它计分）", NOTE_FONT),
        ("", BODY_FONT),
        ("一、怎样填写", LABEL_FONT),
        (
            "1. 在“项目支出绩效自评表”中填写黄色单元格；金额单位为万元。年度资金总额一行须填写合计，"
            "并与其下各项资金之和一致。",
            BODY_FONT,
        ),
        (
            "2. 绩效指标：可插入或删除行（在表格中间插入，一级、二级指标的合并单元格会随之扩展）。"
            "每行填写三级指标、计算符号、年度指标值、实际完成值和分值。",
            BODY_FONT,
        ),
        (
            "3. 年度指标值可写成“≥50个”“≤90万元”“95%”；定性指标的年度指标值写文字，"
            "实际完成值从下拉列表选择等级，并在“得分”中填写该等级区间内的分数。",
            BODY_FONT,
        ),
        (
            "4. 定量指标的得分、预算执行率得分和得分合计由 xlperf 计算并写入计分后的工作簿；"
            "得分低于分值的指标须填写偏差原因分析及改进措施。",
            BODY_FONT,
        ),
        (
            "5. 检查与计分：xlperf check 本表.xlsx 列出全部问题；xlperf run 本表.xlsx "
            "写出计分后的工作簿与自评报告。",
            BODY_FONT,
        ),
        ("", BODY_FONT),
        ("二、评分规则", LABEL_FONT),
    ]
    total = f"总分 {plain(fw.total)} 分：预算执行率 {plain(fw.budget.full)} 分"
    if all(lv.full is not None for lv in fw.levels):
        total += "，" + "，".join(f"{lv.name} {plain(lv.full or Decimal(0))} 分" for lv in fw.levels)
    else:
        total += f"，绩效指标 {plain(fw.indicators_full)} 分（由各指标分值自行分配）"
    lines.append((total, BODY_FONT))
    lines += [(f"{i}. {text}", BODY_FONT) for i, text in enumerate(describe_all(fw), start=1)]
    if fw.rated:
        lines.append((f"评价等级：{rating_text(fw)}", BODY_FONT))  # type: ignore[arg-type]
    else:
        lines.append(("本框架不评定等级。", BODY_FONT))
    lines.append(("", BODY_FONT))
    lines.append(("三、规则依据", LABEL_FONT))
    lines += [(f"{i}. {source}", BODY_FONT) for i, source in enumerate(fw.sources, start=1)]
    for r, (text, font) in enumerate(lines, start=1):
        cell = ws.cell(row=r, column=1, value=text or None)
        cell.font, cell.alignment = font, TOP
    fit_row_heights(ws)
    for r, (text, _) in enumerate(lines, start=1):
        if "http" in text:  # a long address wraps where the program likes, often one line more
            ws.row_dimensions[r].height = (ws.row_dimensions[r].height or 15) + 14
    setup_print(ws, landscape=False, header=P.README)
    ws.sheet_view.showGridLines = False


# ---------------------------------------------------------------------------------- _xlperf


def _hidden(wb: Workbook, fw: ProjectFramework) -> None:
    ws = wb.create_sheet(L.HIDDEN)
    ws["A1"] = "下拉列表与计分记录（由 xlperf 维护，请勿修改）"
    q = fw.qualitative
    lists = {
        P.LIST_OPERATOR: P.OPERATOR_LIST,
        P.LIST_GRADE: (*(b.name for b in (q.bands if q else ())), "不适用"),
    }
    for col, (name, values) in enumerate(lists.items(), start=1):
        letter = get_column_letter(col)
        ws.cell(row=2, column=col, value=name)
        for i, v in enumerate(values, start=3):
            ws.cell(row=i, column=col, value=v)
        ref = f"{quote_sheetname(L.HIDDEN)}!${letter}$3:${letter}${2 + len(values)}"
        wb.defined_names[name] = DefinedName(name, attr_text=ref)
    base = len(lists) + 2
    letter = get_column_letter(base + 1)
    for i, (name, label) in enumerate(L.PROVENANCE, start=2):
        ws.cell(row=i, column=base, value=label)
        cell = ws.cell(row=i, column=base + 1)
        wb.defined_names[name] = DefinedName(name, attr_text=f"{quote_sheetname(L.HIDDEN)}!${letter}${i}")
        if name == "xp_framework":
            cell.value = fw.id
        elif name == "xp_template_version":
            cell.value = P.TEMPLATE_VERSION
        elif name == "xp_framework_sha256":
            cell.value = fw.sha256
        elif name == "xp_framework_def":
            for k, chunk in enumerate(L.framework_chunks(fw.canonical())):
                c = ws.cell(row=i + k, column=base + 1)
                c.value = chunk
                c.data_type = "s"
                wb.defined_names[L.DEF_NAMES[k]] = DefinedName(
                    L.DEF_NAMES[k], attr_text=f"{quote_sheetname(L.HIDDEN)}!${letter}${i + k}"
                )
    ws.sheet_state = "veryHidden"
    ws.protection.sheet = True
