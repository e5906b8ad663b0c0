"""The one look of every sheet xlperf writes: colours, fonts, the output sheets' column widths and
how each kind of output cell is styled.

Read by both forms' template builders (openpyxl), the package writers of the output sheets
(评分汇总/校验结果/自评报告, the project form's 评分结果; the command line, the web page, the 报送
copy), the ribbon's handlers (xlwings) and the bureau's 汇总 and 项目自评汇总, so all show and print
alike. Row heights have one rule too: :func:`xlperf.workbook.printing.text_height`. The data
here imports nothing; :func:`font`, :func:`fill`, :func:`alignment` and :func:`border` give the
openpyxl objects (imported when called).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# ------------------------------------------------------------------------------ colours (RRGGBB)
INPUT = "FFF2CC"  # pale yellow: cells a clerk fills
HEADER = "DDEBF7"  # table headers and section headings
LOCKED = "F2F2F2"  # computed or not applicable: nothing to fill
ERROR = "F8CBAD"  # a cell with an error finding
WARNING = "FFE699"  # a cell with a warning
GRID = "BFBFBF"  # the thin borders of input tables
LINK = "0563C1"  # 校验结果's links to the flagged cells
MUTED = "595959"  # a sheet's intro under its title
HINT = "7F7F7F"  # help beside a field, the 示例 row
RULE = "808080"  # the project form's ruled table: a printed national form, darker than GRID
LEVEL = "EAF1DD"  # pale green: the project form's 一级/二级 indicator cells
BELOW_FULL_TEXT = "9C0006"  # dark red: 汇总's 管理效率 scores below full marks (on an ERROR fill)


@dataclass(frozen=True)
class FontLook:
    name: str
    size: float
    bold: bool | None = None
    italic: bool | None = None
    color: str | None = None
    underline: str | None = None


TITLE = FontLook("黑体", 14, bold=True)
FORM_TITLE = FontLook("黑体", 16, bold=True)  # the project form's title, as on the printed form
HEADING = FontLook("宋体", 10, bold=True)
BODY = FontLook("宋体", 10)
INTRO = FontLook("宋体", 10, color=MUTED)
HELP = FontLook("宋体", 9, color=HINT)
NOTE = FontLook("宋体", 9, color=MUTED)  # the project form's note beside 年度 (金额单位…)
EXAMPLE = FontLook("宋体", 9, italic=True, color=HINT)
LINK_TEXT = FontLook("宋体", 10, color=LINK, underline="single")
DRAFT = FontLook("宋体", 10, bold=True, color="C00000")  # 自评报告's 草稿 notice, in red


def total_font(label: bool) -> FontLook:
    """评分汇总's 总分/评价等级 line: the values bold, the labels not."""
    return FontLook("黑体", 13, bold=not label)


def pair_font(label: bool) -> FontLook:
    """评分汇总's 错误 n 条 / 提醒 n 条 line."""
    return FontLook("黑体", 11, bold=not label)


# ------------------------------------------------------------------------------ output sheets
SCORE_WIDTHS: tuple[float, ...] = (14, 22, 34, 12, 12, 12, 10, 10)  # 评分汇总
FINDINGS_WIDTHS: tuple[float, ...] = (6, 8, 7, 12, 12, 90)
#: 自评报告 is one column that fits A4 portrait as it is (LibreOffice does not shrink a one-column sheet)
REPORT_WIDTHS: tuple[float, ...] = (88,)
#: the project form's 评分结果 (its 校验结果 and 自评报告 take the widths above)
PROJECT_SCORE_WIDTHS: tuple[float, ...] = (12, 22, 14, 14, 9, 8, 8, 30)

# the styles of output rows (the first element of each row of writer.score_rows and the others)
TITLE_ROW, SUB, HEAD, SECTION, BODY_ROW, BLANK, BIG = (
    "title",
    "sub",
    "head",
    "section",
    "body",
    "blank",
    "big",
)
PAIR = "pair"  # label/value pairs under the total: 错误 n 条, 提醒 n 条
DRAFT_ROW = "draft"  # the 草稿 notice of a report produced while errors remain
ERROR_ROW, WARNING_ROW = "error", "warning"  # a finding of 校验结果


@dataclass(frozen=True)
class CellLook:
    font: FontLook
    number_format: str = "General"
    fill: str | None = None
    horizontal: str | None = None
    vertical: str | None = None
    wrap: bool | None = None
    indent: int | None = None


def output_cell(style: str, column: int, number_format: str, link: bool, align: str = "") -> CellLook:
    """How a cell of an output sheet looks: ``style`` is its row's kind (above, or ``h1``…``h4``
    for 自评报告's headings), ``column`` its 1-based column, ``align`` "center" (headings, sequence
    numbers) or "indent" (a note after a number)."""
    label = column % 2 == 1  # on the 总分 and 错误/提醒 lines labels and values alternate
    if style == TITLE_ROW:
        h, v, wrap, indent = None, "center", None, None  # the title runs across the page
    elif style in (BIG, PAIR):  # a value sits against its label, the next label apart from it
        h, v, wrap, indent = ("right" if label and column > 1 else "left"), "center", None, 0 if label else 1
    elif align == "center":
        h, v, wrap, indent = "center", "top", True, None
    elif align == "indent":
        h, v, wrap, indent = "left", "top", True, 1
    else:
        h, v, wrap, indent = None, "top", True, None  # everything else wraps in its column (or run)
    font, fill = BODY, None
    if style == TITLE_ROW and column == 1:
        font = TITLE
    elif style in (HEAD, SECTION):
        font, fill = HEADING, (HEADER if style == HEAD else None)
    elif style == BIG:
        font = total_font(label)
    elif style == PAIR:
        font = pair_font(label)
    elif style in (ERROR_ROW, WARNING_ROW) and column == 2:
        fill = ERROR if style == ERROR_ROW else WARNING
    elif style == DRAFT_ROW:
        font = DRAFT
    elif style.startswith("h") and column == 1:
        font = HEADING
    if link:
        font = LINK_TEXT
    return CellLook(font, number_format, fill, h, v, wrap, indent)


# ------------------------------------------------------------------------------ openpyxl objects
def font(look: FontLook) -> Any:
    from openpyxl.styles import Font

    kw: dict[str, Any] = {"name": look.name, "size": look.size}
    for attr in ("bold", "italic", "color", "underline"):
        if getattr(look, attr) is not None:
            kw[attr] = getattr(look, attr)
    return Font(**kw)


def fill(color: str | None) -> Any:
    from openpyxl.styles import PatternFill

    return PatternFill("solid", fgColor=color) if color else PatternFill()


def alignment(look: CellLook) -> Any:
    from openpyxl.styles import Alignment

    kw: dict[str, Any] = {}
    for attr, key in (("horizontal", "horizontal"), ("vertical", "vertical"), ("wrap", "wrap_text")):
        if getattr(look, attr) is not None:
            kw[key] = getattr(look, attr)
    if look.indent is not None:
        kw["indent"] = look.indent
    return Alignment(**kw)


def border(color: str = GRID) -> Any:
    """The thin grey grid of the template's tables and fields (``RULE``: the project form's)."""
    from openpyxl.styles import Border, Side

    thin = Side(style="thin", color=color)
    return Border(left=thin, right=thin, top=thin, bottom=thin)
