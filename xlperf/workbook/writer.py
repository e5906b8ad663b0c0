"""Write the results into a copy of the workbook: 评分汇总, 校验结果, 自评报告 and provenance.

Input cells keep their values; cells with findings get a fill and a comment (removed again on
the next run). The three output sheets are rebuilt from the ``Result`` each time. The sheet
contents are computed once as rows of values (``score_rows``, ``finding_rows``, ``report_rows``)
so that the xlwings handlers write exactly the same values in a few bulk writes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar
from xml.sax.saxutils import escape

from lxml import etree

from xlperf import __version__
from xlperf.core.decimals import round2
from xlperf.core.findings import Finding, detail
from xlperf.core.framework import Framework
from xlperf.core.result import Result, RowScore
from xlperf.ooxml.constants import CT, MAIN, RT, R
from xlperf.ooxml.package import Package, Parts, Rel
from xlperf.ooxml.parser import local
from xlperf.ooxml.spreadsheet import (
    Comments,
    SheetRef,
    SheetXml,
    Styles,
    WorkbookXml,
    fill_element,
    make_plain_workbook,
    style_key,
    styles_part,
)
from xlperf.workbook import layout as L
from xlperf.workbook import look
from xlperf.workbook.cells import MAX_EXACT_DIGITS, MAX_ROW_HEIGHT, excel_text
from xlperf.workbook.printing import (
    DEFAULT_COLUMN_WIDTH,
    DEFAULT_FONT_SIZE,
    FOOTER,
    short,
    text_height,
)
from xlperf.workbook.reader import SourceMap

CHECK_AUTHOR = "xlperf校验"


@dataclass(frozen=True)
class Provenance:
    framework: Framework
    input_sha256: str
    scored_at: str
    tool_version: str = __version__

    def rows(self) -> list[tuple[str, str]]:
        fw = self.framework
        return [
            ("xlperf 版本", self.tool_version),
            ("评分框架", f"{fw.name}（{fw.id}）"),
            ("评分规则校验值", fw.sha256),
            ("计分时间", local_time(self.scored_at)),
            ("输入文件 SHA-256", self.input_sha256),
        ]

    def hidden(self) -> list[tuple[str, str, str]]:
        """(defined name, label, value) rows of the hidden sheet: the scoring provenance and the
        rules themselves, embedded (the copy a later run scores by)."""
        fw = self.framework
        rows = [
            ("xp_framework", "评分框架", fw.id),
            ("xp_framework_sha256", "评分规则校验值", fw.sha256),
            ("xp_tool_version", "xlperf 版本", self.tool_version),
            ("xp_input_sha256", "输入文件 SHA-256", self.input_sha256),
            ("xp_scored_at", "计分时间", self.scored_at),
        ]
        chunks = L.framework_chunks(fw.canonical())
        for k, name in enumerate(L.DEF_NAMES):
            label = "评分规则（内嵌，勿改）" if k == 0 else f"评分规则（续 {k + 1}）"
            rows.append((name, label, chunks[k] if k < len(chunks) else ""))
        return rows


def write_hidden_rows(
    pkg: Package, book: WorkbookXml, sheet: Callable[[str], SheetXml], rows: list[tuple[str, str, str]]
) -> None:
    """Named rows on the hidden sheet: a name that exists keeps its cell (its value replaced); a new
    one (a workbook made before the name existed) gets a labelled row under the last one. Empty
    values of names the workbook lacks are not added."""
    from openpyxl.utils.cell import column_index_from_string, get_column_letter, quote_sheetname

    if book.sheet(L.HIDDEN) is None:
        return
    anchor = book.name_cell("xp_framework")
    value_col = (
        column_index_from_string(re.sub(r"\d", "", anchor[1])) if anchor and anchor[0] == L.HIDDEN else 2
    )
    label_col = max(1, value_col - 1)
    hidden = sheet(L.HIDDEN)
    last = 1
    for r, row in hidden.rows().items():
        for c in row:
            ref = re.sub(r"\d", "", c.get("r", ""))
            if ref and column_index_from_string(ref) in (label_col, value_col) and len(c):
                last = max(last, r)
    for name, label, value in rows:
        existing = book.name_cell(name)
        if existing is not None and existing[0] == L.HIDDEN:
            sheet(L.HIDDEN).set_text(existing[1], value)
            continue
        if existing is not None and existing[0] in {s.name for s in book.sheets()}:
            sheet(existing[0]).set_text(existing[1], value)
            continue
        if not value:
            continue
        last += 1
        hidden.set_text(f"{get_column_letter(label_col)}{last}", label)
        hidden.set_text(f"{get_column_letter(value_col)}{last}", value)
        book.add_defined_name(name, f"{quote_sheetname(L.HIDDEN)}!${get_column_letter(value_col)}${last}")


def local_time(stamp: str) -> str:
    """An ISO time stamp as a clerk reads it: local time to the minute (``2026-12-01 17:05``)."""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return moment.strftime("%Y-%m-%d %H:%M")


Row = list[Any]

# Row kinds used by the writers to style a row (first element of each tuple): xlperf.workbook.look's
TITLE, SUB, HEAD, SECTION, BODY, BLANK, BIG = (
    look.TITLE_ROW,
    look.SUB,
    look.HEAD,
    look.SECTION,
    look.BODY_ROW,
    look.BLANK,
    look.BIG,
)
PAIR = look.PAIR
DRAFT = look.DRAFT_ROW  # the 草稿 notice of a report produced while errors remain


def score_rows(result: Result, prov: Provenance) -> list[tuple[str, Row]]:
    """The score sheet (评分汇总) as (style, values) rows: what a person prints and signs."""
    ev, fw = result.evaluation, result.framework
    dep = ev.department
    rows: list[tuple[str, Row]] = [
        (TITLE, ["部门整体支出绩效自评 · 评分汇总"]),
        (SUB, [f"{dep.name or '（未填写部门名称）'}　{dep.year or ''} 年度　评分框架：{fw.name}"]),
        (BLANK, []),
        (BIG, ["总分", result.total, "评价等级", result.rating]),
        (PAIR, ["错误", f"{len(result.errors)} 条", "提醒", f"{len(result.warnings)} 条"]),
        (BLANK, []),
        (HEAD, ["一级指标", "二级指标", "三级指标", "分值", "得分", "得分率"]),
    ]
    for sec in result.sections:
        rows.append((SECTION, [sec.name, "", "", sec.full, sec.score, _rate(sec.score, sec.full)]))
        for ind in sec.indicators:
            rows.append(
                (BODY, ["", ind.spec.group, ind.spec.name, ind.full, ind.score, _rate(ind.score, ind.full)])
            )
    rows.append((SECTION, ["合计", "", "", fw.total, result.total, _rate(result.total, fw.total)]))
    for ind in result.indicator_scores():
        if not ind.rows:
            continue
        rows += [
            (BLANK, []),
            (
                SUB,
                [
                    f"{ind.spec.name}明细（每行权重 = {ind.full} ÷ {len(ind.rows)}；"
                    "扣分 = 权重 × (1 − 完成率) 四舍五入到两位；小计 = 分值 − 扣分合计）"
                ],
            ),
        ]
        rows.append((HEAD, ["序号", "指标名称", "目标值", "实际值", "完成率", "权重", "扣分", "得分"]))
        rows_src = ev.outputs if ind.spec.rows == "outputs" else ev.benefits
        for rs, row in zip(ind.rows, rows_src, strict=True):
            target = row.target_text or _q(row.target_value, row.unit)
            actual = row.grade if row.grade else _q(row.actual_value, row.unit)
            completion = rs.used if rs.source == "override" else rs.completion
            if completion is not None:
                completion = completion.quantize(Decimal("0.0001"))  # shown as a percent with 2 decimals
            rows.append(
                (
                    BODY,
                    [
                        rs.seq if rs.seq is not None else rs.index + 1,
                        rs.name,
                        target,
                        actual,
                        completion,
                        rs.full_display,
                        rs.deduction,
                        rs.score,
                    ],
                )
            )
        rows.append((SECTION, ["小计", "", "", "", "", ind.full, ind.full - ind.score, ind.score]))
    rows += [(BLANK, []), (HEAD, ["计算比率", "", "数值（%）", "说明"])]
    for key, spec in fw.ratios.items():
        value = result.ratios.get(key)
        rows.append(
            (
                BODY,
                [
                    spec.name,
                    "",
                    value if value is not None else "无法计算",
                    "执行数 ÷ 全年预算数" if key == "budget_execution" else "",
                ],
            )
        )
    spending = (
        result.indicator("spending") if any(i.id == "spending" for i in result.indicator_scores()) else None
    )
    if spending is not None and spending.ratio is not None:
        rows.append((BODY, ["月均一般公共预算支出执行率", "", spending.ratio, ""]))
    rows += [(BLANK, []), (HEAD, ["计分依据", "", "", ""])]
    rows += [(BODY, [k, "", v]) for k, v in prov.rows()]  # values over C:H: the hash fits on one line
    return rows


def finding_rows(findings: list[Finding]) -> list[tuple[str, Row]]:
    rows: list[tuple[str, Row]] = [
        (TITLE, ["校验结果"]),
        (
            SUB,
            [
                f"错误 {sum(f.is_error for f in findings)} 条（须改正后才能报送），"
                f"提醒 {sum(not f.is_error for f in findings)} 条。"
                "点击“位置”可跳到对应单元格。"
            ],
        ),
        (HEAD, ["序号", "级别", "代码", "工作表", "位置", "说明"]),
    ]
    for i, f in enumerate(findings, start=1):
        rows.append(
            (
                "error" if f.is_error else "warning",
                [
                    i,
                    "错误" if f.is_error else "提醒",
                    f.code,
                    f.sheet,
                    f.cell if f.sheet else f.path,
                    detail(f),
                ],
            )
        )
    if not findings:
        rows.append((BODY, ["", "", "", "", "", "没有发现问题。"]))
    return rows


def report_rows(result: Result) -> list[tuple[str, Row]]:
    """The 自评报告 sheet: a paragraph per row, from the same Result as 评分汇总."""
    report = result.report
    rows: list[tuple[str, Row]] = [(TITLE, [report.title])]
    if report.draft:  # produced while errors remain: said under the title, in red
        rows.append((DRAFT, [report.draft]))
    for p in report.paragraphs:
        rows.append((f"h{p.level}" if p.level else BODY, [p.text]))
    return rows


def _rate(score: Decimal, full: Decimal) -> Decimal | None:
    return None if not full else round2(score / full * 100) / 100


def _q(value: Decimal | None, unit: str) -> str:
    return "" if value is None else f"{value}{unit}"


SCORE_WIDTHS, FINDINGS_WIDTHS, REPORT_WIDTHS = look.SCORE_WIDTHS, look.FINDINGS_WIDTHS, look.REPORT_WIDTHS


def page_header(result: Result, title: str) -> str:
    dep = result.evaluation.department
    return f"{dep.name or '（未填写部门名称）'}　{dep.year or ''} 年度　{title}"


def output_layouts(result: Result, prov: Provenance, known_sheets: set[str]) -> list[SheetLayout]:
    """评分汇总, 校验结果 and 自评报告, laid out; the links of 校验结果 go to cells of ``known_sheets``."""
    scores = score_rows(result, prov)
    return [
        SheetLayout(
            L.SCORES,
            scores,
            SCORE_WIDTHS,
            False,
            page_header(result, L.SCORES),
            _score_merges(scores, len(SCORE_WIDTHS)),
            percent_cols={5: "0.00%"},
            detail_percent_col=4,
        ),
        findings_layout(L.FINDINGS, result.findings, page_header(result, L.FINDINGS), known_sheets),
        SheetLayout(L.REPORT, report_rows(result), REPORT_WIDTHS, False, page_header(result, L.REPORT), []),
    ]


def findings_layout(title: str, findings: Sequence[Finding], header: str, known: set[str]) -> SheetLayout:
    """The 校验结果 sheet of either form: its rows, widths, landscape page, the note merged across, and
    links to the sheets ``known`` has."""
    return SheetLayout(
        title,
        finding_rows(list(findings)),
        FINDINGS_WIDTHS,
        True,
        header,
        [(2, 1, len(FINDINGS_WIDTHS))],
        links=known,
    )


def _score_merges(rows: list[tuple[str, Row]], ncols: int) -> list[tuple[int, int, int]]:
    """(row, first column, last column) of 评分汇总's cells that run across several columns: the
    explanatory lines across the page, the ratio and provenance labels over A:B,
    their values and notes over the rest, so that no label is cut at a column edge."""
    merges: list[tuple[int, int, int]] = []
    region = ""
    for r, (style, values) in enumerate(rows, start=1):
        if style == HEAD:
            region = str(values[0])
        if style == SUB:
            merges.append((r, 1, ncols))
        elif region in ("计算比率", "计分依据") and style in (HEAD, BODY):
            merges.append((r, 1, 2))
            if region == "计算比率":
                merges.append((r, 4, ncols))
            else:
                merges.append((r, 3, ncols))
    return merges


@dataclass(frozen=True)
class SheetLayout:
    """One output sheet as both writers lay it out (openpyxl model and package XML)."""

    title: str
    rows: list[tuple[str, Row]]
    widths: Sequence[float]
    landscape: bool
    header: str
    merges: list[tuple[int, int, int]]
    percent_cols: dict[int, str] | None = None
    links: set[str] | None = None  # sheets the 位置 column may link to (校验结果 only)
    detail_percent_col: int | None = None

    @property
    def title_rows(self) -> str | None:
        return "3:3" if self.links is not None else None

    def cells(self) -> Iterator[tuple[int, int, Any, tuple[Any, ...], str]]:
        """(row, column, value, style key, link target) of every cell, in order."""
        in_detail = False
        indented = {(r, first) for r, first, _ in self.merges if first > 1}
        percent_cols = self.percent_cols
        for r, (style, values) in enumerate(self.rows, start=1):
            if style == HEAD:
                in_detail = values[:2] == ["序号", "指标名称"]
            link_target = ""
            if self.links is not None and style in ("error", "warning"):
                sheet, coord = values[3], values[4]
                if sheet and coord and sheet in self.links:
                    link_target = f"#'{sheet}'!{coord}"
            for c, value in enumerate(values, start=1):
                fmt = "General"
                if isinstance(value, Decimal | int) and not isinstance(value, bool):
                    fmt = "0.00" if isinstance(value, Decimal) else "0"
                if (
                    percent_cols
                    and not in_detail
                    and c - 1 in percent_cols
                    and style in (BODY, SECTION)
                    and isinstance(value, Decimal)
                ):
                    fmt = percent_cols[c - 1]
                if (
                    in_detail
                    and self.detail_percent_col is not None
                    and c - 1 == self.detail_percent_col
                    and isinstance(value, Decimal)
                ):
                    fmt = "0.00%"
                is_link = bool(link_target) and c == 5
                # headings and sequence numbers centred; a note after a number kept apart from it
                align = (
                    "center"
                    if style == HEAD or (c == 1 and isinstance(value, int) and style != PAIR)
                    else "indent"
                    if (r, c) in indented
                    else ""
                )
                key = (
                    style,
                    c if style in (TITLE, BIG, PAIR, "error", "warning") or style.startswith("h") else 0,
                    fmt,
                    is_link,
                    align,
                )
                yield r, c, value, key, link_target if is_link else ""


# ---------------------------------------------------------------------------------- package


def scored_package(
    data: bytes | Parts,
    result: Result,
    prov: Provenance,
    *,
    mark: bool = True,
    source: SourceMap | None = None,
) -> Package:
    """The clerk's workbook (``data``, an .xlsx/.xlsm package) with the output sheets: every part
    xlperf does not change is kept byte for byte (pictures, charts, extensions, cached results).

    Changed are: ``workbook.xml`` (the three sheets first, 评分汇总 active, their print titles),
    ``styles.xml`` (the output sheets' formats appended once, equal ones reused), content types and
    relationships, the input sheets whose cells are marked (fill, and a note by ``CHECK_AUTHOR``;
    the marks of an earlier run removed) or whose page header or tab selection changes, and the
    hidden sheet's provenance cells. Output sheets of an earlier run are replaced with their parts.
    The result is a macro-free workbook (the VBA project is not carried into a ``.xlsx``)."""

    pkg = Package(data)
    book = WorkbookXml(pkg)
    book.remove_sheets(L.OUTPUT_SHEETS)
    make_plain_workbook(book)
    known = {s.name for s in book.sheets()}

    styles = Styles(pkg, styles_part(pkg, book))
    insert_output_sheets(pkg, book, styles, list(output_layouts(result, prov, known)))

    findings = list(result.findings) if mark else []
    notes: dict[str, dict[str, list[Finding]]] = {}
    for f in findings:
        if f.cell and f.sheet and f.sheet not in (*L.OUTPUT_SHEETS, L.HIDDEN):  # a renamed sheet too
            notes.setdefault(f.sheet, {}).setdefault(f.cell, []).append(f)
    error_fill = styles.add("fills", fill_element(look.fill(look.ERROR)))
    warning_fill = styles.add("fills", fill_element(look.fill(look.WARNING)))
    input_fill = styles.add("fills", fill_element(look.fill(look.INPUT)))
    edits = formula_edits(result, source)
    for ref in book.sheets()[len(L.OUTPUT_SHEETS) :]:
        _input_sheet(
            pkg,
            ref,
            notes.get(ref.name, {}),
            styles,
            (error_fill, warning_fill, input_fill),
            page_header(result, ref.name) if ref.name in L.INPUT_SHEETS else None,
            edits.get(ref.name),
        )
    edited: dict[str, SheetXml] = {}

    def sheet(name: str) -> SheetXml:
        if name not in edited:
            ref = book.sheet(name)
            assert ref is not None
            edited[name] = SheetXml(pkg.xml(ref.part))
        return edited[name]

    write_hidden_rows(pkg, book, sheet, prov.hidden())
    fit_clerk_rows(pkg, book, styles.root)
    return pkg


def insert_output_sheets(pkg: Package, book: WorkbookXml, styles: Styles, layouts: list[SheetLayout]) -> None:
    """Put the output sheets (``layouts``, in order) first in the workbook, 评分汇总's first one
    active: their parts, formats (added to ``styles`` once), links and print titles. Shared by the
    department's and the project form's scored copies."""
    from openpyxl.utils.cell import quote_sheetname

    formats = _Formats(styles)
    cells = [list(layout.cells()) for layout in layouts]
    formats.prepare([(key, c) for sheet in cells for _, c, _, key, _ in sheet])
    for position, layout in enumerate(layouts):
        part = pkg.free_name("xl/worksheets/sheet{n}.xml")
        xml, links = sheet_xml(layout, formats, selected=position == 0, cells=cells[position])
        pkg.put(part, xml, CT.WORKSHEET)
        for rel_id, link in links:
            pkg.add_external_rel(part, Rel(rel_id, RT.HYPERLINK, link, True))
        book.insert_sheet(position, layout.title, part)
        if layout.title_rows:
            first, last = layout.title_rows.split(":")
            book.add_defined_name(
                "_xlnm.Print_Titles", f"{quote_sheetname(layout.title)}!${first}:${last}", position
            )
    book.activate(0)


def fit_clerk_rows(pkg: Package, book: WorkbookXml, styles_root: Any = None) -> int:
    """Grow every row of the clerk's sheets whose typed text needs more lines than the row shows
    (:func:`xlperf.workbook.printing.needed_row_heights`), so a long answer is whole on screen and in
    print — in the scored copy and in the 报送 copy made from it. Parts whose rows all fit are left
    byte for byte. ``styles_root``: the styles part as it stands (parsed from the package when None).
    Returns how many rows grew."""
    from xlperf.workbook.printing import grow_rows, needed_row_heights, shared_strings, style_looks

    rel = next((r for r in pkg.rels(book.part) if r.type.endswith("/sharedStrings")), None)
    strings_part = pkg.target(book.part, rel) if rel is not None else None
    strings = shared_strings(pkg.peek(strings_part)) if strings_part and strings_part in pkg else []
    looks = style_looks(styles_root if styles_root is not None else pkg.peek(styles_part(pkg, book)))
    grown = 0
    for ref in book.sheets():
        if ref.name in (*L.OUTPUT_SHEETS, L.HIDDEN) or ref.part not in pkg:
            continue
        heights = needed_row_heights(pkg.peek(ref.part), strings, looks)
        if any(short(need, has) for need, has in heights.values()):
            grown += grow_rows(pkg.xml(ref.part), heights)
    return grown


class _Formats:
    """The cell format (index in the package's styles) of each kind of output cell, with its font
    size and wrapping for the row heights. A kind's parts are made once per process from its look
    (:func:`xlperf.workbook.look.output_cell`), and added to a package's styles only when no equal
    format is there."""

    _parts: ClassVar[dict[tuple[Any, ...], tuple[list[tuple[str, Any, Any]], str, Any, float, bool]]] = {}
    #: (the input's styles part, the kinds in the order they are first used) → the styles part with
    #: them added and their formats: a batch of workbooks made from one template adds them once
    _memo: ClassVar[
        dict[
            tuple[bytes, tuple[Any, ...]],
            tuple[
                bytes, dict[str, dict[tuple[Any, ...], int]], dict[tuple[Any, ...], tuple[int, float, bool]]
            ],
        ]
    ] = {}
    MEMO_SIZE = 16

    def __init__(self, styles: Styles) -> None:
        self.styles = styles
        self.known: dict[tuple[Any, ...], tuple[int, float, bool]] = {}

    def prepare(self, uses: list[tuple[tuple[Any, ...], int]]) -> None:
        """Add the formats of ``uses`` ((kind, column) of every cell, in order) as :meth:`get` would
        one by one, or take the result from the memo when the same styles part got the same kinds
        before: the same bytes either way, whatever was scored earlier in the process."""
        order: dict[tuple[Any, ...], int] = {}
        for key, column in uses:
            order.setdefault(key, column)
        source = None if self.styles.edited else self.styles.pkg.raw.get(self.styles.part)
        if source is None:
            for key, column in order.items():
                self.get(key, column)
            return
        memo_key = (source, tuple(order.items()))
        hit = self._memo.get(memo_key)
        if hit is not None:
            data, keys, known = hit
            self.styles.restore(data, keys)
            self.known = dict(known)
            return
        for key, column in order.items():
            self.get(key, column)
        if len(self._memo) >= self.MEMO_SIZE:
            self._memo.pop(next(iter(self._memo)))
        self._memo[memo_key] = (*self.styles.snapshot(), dict(self.known))

    @classmethod
    def _made(
        cls, key: tuple[Any, ...], column: int
    ) -> tuple[list[tuple[str, Any, Any]], str, Any, float, bool]:
        made = cls._parts.get((key, column))
        if made is None:
            from openpyxl.styles.borders import DEFAULT_BORDER  # a fresh cell's (no lines)

            style, _, fmt, is_link, align = key
            cell = look.output_cell(style, column, fmt, is_link, align)
            alignment = fill_element(look.alignment(cell))
            elements = [
                ("fonts", fill_element(look.font(cell.font))),
                ("fills", fill_element(look.fill(cell.fill))),
                ("borders", fill_element(DEFAULT_BORDER)),
            ]
            made = (
                [(kind, el, style_key(el)) for kind, el in elements],
                cell.number_format,
                alignment if alignment.attrib else None,
                float(cell.font.size or DEFAULT_FONT_SIZE),
                bool(cell.wrap),
            )
            cls._parts[(key, column)] = made
        return made

    def get(self, key: tuple[Any, ...], column: int) -> tuple[int, float, bool]:
        found = self.known.get(key)
        if found is None:
            parts, number_format, alignment, size, wraps = self._made(key, column)
            font, fill, border = (str(self.styles.add(kind, el, k)) for kind, el, k in parts)
            xf = etree.Element(
                "xf",
                numFmtId=str(self.styles.number_format_id(number_format)),
                fontId=font,
                fillId=fill,
                borderId=border,
                xfId="0",
                applyNumberFormat="1",
                applyFont="1",
                applyFill="1",
                applyAlignment="1",
            )
            if alignment is not None:
                xf.append(alignment)
            found = (self.styles.add("cellXfs", xf), size, wraps)
            self.known[key] = found
        return found


def sheet_xml(
    layout: SheetLayout,
    formats: _Formats,
    *,
    selected: bool,
    cells: list[tuple[int, int, Any, tuple[Any, ...], str]] | None = None,
) -> tuple[bytes, list[tuple[str, str]]]:
    """The worksheet part of one output sheet, written directly (no object model), and its
    hyperlinks as (relationship id, target). ``cells``: ``layout.cells()``, when already listed."""
    from openpyxl.utils import get_column_letter

    widths = {i: w for i, w in enumerate(layout.widths, start=1)}
    spans = {(r, first): last for r, first, last in layout.merges}
    covered = {(r, c) for r, first, last in layout.merges for c in range(first + 1, last + 1)}
    rows: dict[int, list[str]] = {}
    heights: dict[int, float] = {}
    links: list[tuple[str, str]] = []
    last_col = 1
    known = formats.known
    for r, c, value, key, link in layout.cells() if cells is None else cells:
        index, size, wraps = known.get(key) or formats.get(key, c)
        coord = f"{get_column_letter(c)}{r}"
        cell, shown = _cell(coord, index, value)
        rows.setdefault(r, []).append(cell)
        if c > last_col:
            last_col = c
        if shown is not None and (r, c) not in covered:
            last = spans.get((r, c))
            width = (
                widths.get(c, DEFAULT_COLUMN_WIDTH)
                if last is None
                else sum(widths.get(col, DEFAULT_COLUMN_WIDTH) for col in range(c, last + 1))
            )
            tall = text_height(shown, width, size, wraps)
            if tall > heights.get(r, 0.0):
                heights[r] = tall
        if link:
            links.append((f"rId{len(links) + 1}", link))
            links_at = links[-1]
            rows.setdefault(-r, []).append(f'<hyperlink ref="{coord}" r:id="{links_at[0]}"/>')
    out = [
        f'<worksheet xmlns="{MAIN}" xmlns:r="{R}"><sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>',
        f'<dimension ref="A1:{get_column_letter(last_col)}{max(len(layout.rows), 1)}"/>',
        f'<sheetViews><sheetView{TAB_SELECTED if selected else ""} workbookViewId="0"/></sheetViews>',
        '<sheetFormatPr defaultRowHeight="15"/><cols>',
    ]
    out += [f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in widths.items()]
    out.append("</cols><sheetData>")
    for r in sorted(k for k in rows if k > 0):
        height = heights.get(r)
        attrs = f' ht="{round(min(height, MAX_ROW_HEIGHT), 1)}" customHeight="1"' if height else ""
        out.append(f'<row r="{r}"{attrs}>{"".join(rows[r])}</row>')
    out.append("</sheetData>")
    if layout.merges:
        out.append(f'<mergeCells count="{len(layout.merges)}">')
        out += [
            f'<mergeCell ref="{get_column_letter(first)}{r}:{get_column_letter(last)}{r}"/>'
            for r, first, last in layout.merges
        ]
        out.append("</mergeCells>")
    if links:
        out.append(
            "<hyperlinks>"
            + "".join(x for k in sorted(k for k in rows if k < 0) for x in rows[k])
            + "</hyperlinks>"
        )
    out += [
        '<printOptions horizontalCentered="1"/>',
        '<pageMargins left="0.5" right="0.5" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>',
        f'<pageSetup paperSize="9" orientation="{"landscape" if layout.landscape else "portrait"}" '
        'fitToWidth="1" fitToHeight="0"/>',
        _header_footer(layout.header),
        "</worksheet>",
    ]
    return "".join(out).encode("utf-8"), links


TAB_SELECTED = ' tabSelected="1"'
_HEADER_SLOT = "@@header@@"


@functools.cache
def _header_footer_template() -> str:
    """An output sheet's ``<headerFooter>`` as openpyxl writes it (9 pt, centred, the page footer),
    with a slot for the header text: made once, filled per sheet."""
    from openpyxl.worksheet.header_footer import HeaderFooter
    from openpyxl.xml.functions import tostring

    hf = HeaderFooter()
    hf.oddHeader.center.text = _HEADER_SLOT
    hf.oddHeader.center.size = 9
    hf.oddFooter.center.text = FOOTER
    hf.oddFooter.center.size = 9
    return str(tostring(hf.to_tree()).decode())


def _header_footer(header: str) -> str:
    return _header_footer_template().replace(_HEADER_SLOT, escape(header.replace("&", "&&")))


def _cell(coord: str, style: int, value: Any) -> tuple[str, str | None]:
    """One cell as XML, stored as ``cells.put`` stores it, and the text it shows (None when empty)."""
    if isinstance(value, bool):
        value = "是" if value else "否"
    if isinstance(value, Decimal) and len(value.as_tuple().digits) > MAX_EXACT_DIGITS:
        value = format(value, "f")
    if value is None:
        return f'<c r="{coord}" s="{style}"/>', None
    if isinstance(value, str):
        text = excel_text(value)
        if not text:  # as openpyxl stores an empty text: a styled cell without a value
            return f'<c r="{coord}" s="{style}"/>', ""
        return (
            f'<c r="{coord}" s="{style}" t="inlineStr"><is><t '
            f'xml:space="preserve">{escape(text)}</t></is></c>',
            text,
        )
    if isinstance(value, Decimal | float):
        return (
            f'<c r="{coord}" s="{style}" '
            f't="n"><v>{value if isinstance(value, Decimal) else repr(value)}</v></c>',
            f"{value:,.2f}",
        )
    return f'<c r="{coord}" s="{style}" t="n"><v>{int(value)}</v></c>', str(value)


def _input_sheet(
    pkg: Package,
    ref: SheetRef,
    marks: dict[str, list[Finding]],
    styles: Styles,
    fills: tuple[int, int, int],
    header: str | None,
    formulas: FormulaEdits | None = None,
) -> None:
    """Mark one of the clerk's sheets, touching its part only when something changes."""
    edits = formulas or FormulaEdits()
    raw = pkg.raw.get(ref.part, b"")
    comments_before = Comments(pkg, ref.part, None).authored() if pkg.rels(ref.part) else {}
    old = {c for c, author in comments_before.items() if author == CHECK_AUTHOR}
    # a cell with a note of its own (the template's help, the clerk's) keeps it: its fill marks it
    wanted = {c: fs for c, fs in marks.items() if comments_before.get(c, CHECK_AUTHOR) == CHECK_AUTHOR}
    said = {
        c: text for c, text in edits.notes.items() if comments_before.get(c, CHECK_AUTHOR) == CHECK_AUTHOR
    }
    selected = b"tabSelected=" in raw
    if not old and not marks and not selected and not edits.cells:
        if header is not None:
            _retitle(pkg, ref, raw, header)
        return
    new_header = _header_element(SheetXml(pkg.peek(ref.part)), header) if header is not None else None
    sheet = SheetXml(pkg.xml(ref.part))
    if new_header is not None:
        sheet.put_child(new_header)
    for view in sheet.root.iter(f"{{{sheet.ns}}}sheetView"):
        view.attrib.pop("tabSelected", None)
    followers = _merge_followers(sheet)
    error_fill, warning_fill, input_fill = fills
    for coord in old - set(wanted) - edits.keep_fill:
        cell = sheet.cell(coord)
        if cell is not None:
            cell.set("s", str(styles.derived(int(cell.get("s", "0")), fillId=input_fill)))
    for coord, fs in marks.items():
        cell = sheet.cell(coord, create=coord not in followers)
        if cell is None:
            continue
        fill = error_fill if any(f.is_error for f in fs) else warning_fill
        cell.set("s", str(styles.derived(int(cell.get("s", "0")), fillId=fill)))
    for coord, (kind, value) in edits.cells.items():
        if coord not in followers:
            _store(sheet, coord, kind, value)
    if old or wanted or said:
        notes = {
            c: "\n".join(f"[{f.code}] {f.message}" for f in fs)[:2000]
            for c, fs in wanted.items()
            if c not in followers
        }
        for c, text in said.items():
            if c not in followers:
                notes[c] = f"{notes[c]}\n{text}" if c in notes else text
        Comments(pkg, ref.part, sheet).replace(CHECK_AUTHOR, notes)


@dataclass
class FormulaEdits:
    """What the scored copy changes in the template's formula cells of one sheet: a value or a
    formula per cell, the notes saying why, and the cells whose fill stays (they are not inputs)."""

    cells: dict[str, tuple[str, Any]] = field(default_factory=dict)  # coord → ("value"|"formula", …)
    notes: dict[str, str] = field(default_factory=dict)
    keep_fill: set[str] = field(default_factory=set)


#: the note on a 完成率 cell whose value the sheet's formula cannot give
COMPLETION_NOTE = (
    "完成率为 xlperf 按所填内容计算的结果，与“评分汇总”一致（表格公式读不出带单位或文字的目标值、实际值，"
    "或方向写在目标值文字中）。改动这一行后请重新计分。"
)


def formula_edits(result: Result, source: SourceMap | None) -> dict[str, FormulaEdits]:
    """Per sheet, the formula cells of the template whose shown value would differ from xlperf's:
    a 完成率 the formula cannot compute from the row as typed (a target typed “不少于180家”) gets
    xlperf's value and a note — and its formula back once the two agree again; 支出进度's
    月均执行率 gets the current template's formula, which reads each month as xlperf does."""
    out: dict[str, FormulaEdits] = {}
    if source is None:
        return out
    rows: dict[str, tuple[RowScore, ...]] = {
        str(ind.spec.rows): ind.rows for ind in result.indicator_scores() if ind.spec.rows and ind.rows
    }
    for key, sf in source.formulas.items():
        edit = out.setdefault(sf.sheet, FormulaEdits())
        edit.keep_fill.add(sf.cell)
        if key == "spending.mean":
            if not sf.holds_formula or _formula_key(sf.current) != _formula_key(sf.formula):
                edit.cells[sf.cell] = ("formula", sf.formula)
            continue
        section, _, rest = key.partition("[")
        index = int(rest.split("]", 1)[0])
        scored = rows.get(section, ())
        if index >= len(scored):
            continue
        rs = scored[index]
        value = rs.computed_completion if rs.source == "override" else rs.completion
        same = (value is None) == (sf.sheet_value is None) and (
            value is None or sf.sheet_value is None or abs(value - sf.sheet_value) < Decimal("0.000005")
        )
        if not same:
            edit.cells[sf.cell] = ("value", None if value is None else value.quantize(Decimal("0.000001")))
            edit.notes[sf.cell] = COMPLETION_NOTE
        elif not sf.holds_formula:
            edit.cells[sf.cell] = ("formula", sf.formula)
    return {sheet: e for sheet, e in out.items() if e.cells or e.notes}


def _formula_key(text: str) -> str:
    return text.lstrip("=").replace(" ", "").upper()


def _store(sheet: SheetXml, coord: str, kind: str, value: Any) -> None:
    """A number, nothing, or a formula (no cached result: the spreadsheet computes it) in a cell."""
    cell = sheet.cell(coord, create=True)
    assert cell is not None
    for child in list(cell):
        if local(child) in ("f", "v", "is"):
            cell.remove(child)
    cell.attrib.pop("t", None)
    if kind == "formula":
        etree.SubElement(cell, f"{{{sheet.ns}}}f").text = str(value).lstrip("=")
    elif value is not None:
        etree.SubElement(cell, f"{{{sheet.ns}}}v").text = format(value, "f")


def _retitle(pkg: Package, ref: SheetRef, raw: bytes, text: str) -> None:
    """Centre ``text`` in the page header of a sheet that needs nothing else: an edit of the bytes
    of ``<oddHeader>`` alone, the rest of the part kept as it was (parsed only when the sheet has
    no header element to edit)."""
    start, end = raw.find(b"<oddHeader>"), raw.find(b"</oddHeader>")
    if not 0 <= start < end or raw.count(b"<oddHeader>") != 1:
        new_header = _header_element(SheetXml(pkg.peek(ref.part)), text)
        if new_header is not None:
            SheetXml(pkg.xml(ref.part)).put_child(new_header)
        return
    inner = raw[start + len(b"<oddHeader>") : end]
    current = etree.fromstring(b"<h>" + inner + b"</h>").text or ""
    wanted = _centred(current, text)
    if wanted != current:
        pkg.put(ref.part, raw[:start] + b"<oddHeader>" + escape(wanted).encode("utf-8") + raw[end:])


_SECTION = re.compile(r"&([LCR])")


def _centred(current: str, text: str) -> str:
    """A header string (``&L…&C…&R…``) with ``text`` (9 pt) as its centre, the other parts kept."""
    parts = {"L": "", "C": "", "R": ""}
    pieces = _SECTION.split(current)
    parts["C"] = pieces[0]  # text before any section code is centred
    for code, part in zip(pieces[1::2], pieces[2::2], strict=True):
        parts[code] = part
    parts["C"] = "&9 " + text.replace("&", "&&")
    return "".join(f"&{code}{part}" for code, part in parts.items() if part)


def _header_element(sheet: SheetXml, text: str) -> Any:
    """The sheet's headerFooter with ``text`` as the centre of the page header, its left and
    right parts and the footers kept; None when it already says that."""
    old = sheet.child("headerFooter")
    odd = old.find(f"{{{sheet.ns}}}oddHeader") if old is not None else None
    current = (odd.text or "") if odd is not None else ""
    wanted = _centred(current, text)
    if wanted == current:
        return None
    new = (
        etree.fromstring(etree.tostring(old))
        if old is not None
        else etree.Element(f"{{{sheet.ns}}}headerFooter")
    )
    odd = new.find(f"{{{sheet.ns}}}oddHeader")
    if odd is None:
        odd = etree.Element(f"{{{sheet.ns}}}oddHeader")
        new.insert(0, odd)
    odd.text = wanted
    return new


def _merge_followers(sheet: SheetXml) -> set[str]:
    """The cells of merged ranges other than their first (they cannot hold a value or a note)."""
    from openpyxl.utils.cell import get_column_letter, range_boundaries

    out: set[str] = set()
    merges = sheet.child("mergeCells")
    for el in merges if merges is not None else []:
        min_col, min_row, max_col, max_row = range_boundaries(el.get("ref", "A1"))
        if (max_row - min_row + 1) * (max_col - min_col + 1) > 10_000:
            continue  # a huge merge: no input cell of the layout lies inside one
        out |= {
            f"{get_column_letter(c)}{r}"
            for r in range(min_row, max_row + 1)
            for c in range(min_col, max_col + 1)
        } - {f"{get_column_letter(min_col)}{min_row}"}
    return out
