"""What each ribbon button does, on a live Excel book (xlwings).

Every handler reads the whole book first (:func:`xlperf.excel.book.snapshot`: one bulk read per
sheet), runs the same core as ``xlperf run`` (``read_book`` → ``pipeline.assess``), and writes in
a few bulk range writes: one ``range("A1").value = rows`` per output sheet plus a fixed handful of
format calls. The rows are :func:`xlperf.workbook.writer.score_rows` / ``finding_rows`` /
``report_rows``, the very rows the openpyxl writer puts into the scored file, so Excel and the
command line show the same values. The number of Excel calls does not grow with the number of
indicator rows (tests/test_excel_handlers.py counts them on the remote engine).

Each handler returns an :class:`Outcome` (the message :func:`xlperf.excel.on_ribbon` shows) or
raises :class:`HandlerError` with a Chinese message for the clerk.

Engines: on desktop Excel (Windows COM, macOS AppleScript) flagged cells are coloured through
multi-area ranges (``"B5:B9,K7"``), each address string kept under Excel's 255-character limit, one
colour call per chunk. The remote engine (used by the tests and by xlwings Server) has no
multi-area ranges; there the fills of a sheet go in one ``set_colors`` call over their bounding box.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

from xlperf.core.errors import XlperfError
from xlperf.excel.book import Snapshot, found_tables, is_remote, snapshot
from xlperf.excel.registry import BUTTONS, UDFS
from xlperf.workbook import layout as L
from xlperf.workbook import look
from xlperf.workbook.cells import MAX_CELL_TEXT, MAX_EXACT_DIGITS, excel_text

if TYPE_CHECKING:  # the pipeline and the core load when a button is pressed, not when Excel starts
    from xlperf.core.findings import Finding
    from xlperf.core.result import Result
    from xlperf.pipeline import Loaded

__all__ = [
    "HANDLERS",
    "MAX_ADDRESS",
    "HandlerError",
    "Outcome",
    "address_chunks",
    "areas",
    "cell_text",
    "help_text",
]

MAX_ADDRESS = 255  # Excel refuses a Range("…") address string longer than this
MAX_SET_COLORS = 10_000  # cells per Range.set_colors call (xlwings limit)
MAX_ALERT = 900  # keep a message box readable (MsgBox shows at most ~1024 characters)

# the one look of the output sheets (xlperf.workbook.look), as xlwings takes it: what the command
# line's scored copy shows, the ribbon shows and prints too
FONT_NAME, FONT_SIZE = look.BODY.name, look.BODY.size
TITLE_FONT, TITLE_SIZE = look.TITLE.name, look.TITLE.size
LINK_COLOR = f"#{look.LINK}"
ERROR_COLOR = f"#{look.ERROR}"
WARNING_COLOR = f"#{look.WARNING}"
INPUT_COLOR = f"#{look.INPUT}"
HEADER_COLOR = f"#{look.HEADER}"
LOCKED_COLOR = f"#{look.LOCKED}"

SCORE_WIDTHS, FINDINGS_WIDTHS, REPORT_WIDTHS = look.SCORE_WIDTHS, look.FINDINGS_WIDTHS, look.REPORT_WIDTHS


class HandlerError(XlperfError):
    """The button cannot do its work; ``str()`` is a complete Chinese message for the clerk."""


@dataclass(frozen=True)
class Outcome:
    """What to tell the clerk when a button has done its work."""

    message: str
    mode: str = "info"  # "info" or "critical" (xlwings App.alert modes)


# ------------------------------------------------------------------------------ cell values


def cell_text(text: str) -> str:
    """Text for ``Range.value`` that Excel stores as this very text.

    Excel interprets what is written into a cell like typed input: ``=…`` becomes a formula,
    ``180`` a number, ``2023-1-1`` a date, ``TRUE`` a boolean. A leading apostrophe makes Excel store
    the rest as text (and hides the apostrophe), so text that Excel could read as anything else
    gets one. Control characters Excel refuses are dropped; the length is capped at Excel's limit.
    """
    clean = excel_text(text)
    stripped = clean.lstrip()
    if not stripped:
        return clean
    first = stripped[0]
    if (
        first.isdigit()
        or first in "=+-@.'(（$¥￥%#"
        or "０" <= first <= "９"
        or stripped.upper() in ("TRUE", "FALSE")
    ):
        return "'" + clean[: MAX_CELL_TEXT - 1]
    return clean


def _excel(value: Any) -> Any:
    """A writer row value as Excel wants it: Decimal → float, None → "", bool → 是/否."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        if len(value.as_tuple().digits) > MAX_EXACT_DIGITS:
            return cell_text(format(value, "f"))  # as openpyxl's writer: exact digits stay text
        return float(value)
    if isinstance(value, str):
        return cell_text(value)
    return value


def _matrix(rows: list[tuple[str, list[Any]]], width: int) -> list[list[Any]]:
    return [[_excel(v) for v in values] + [""] * (width - len(values)) for _, values in rows]


# ------------------------------------------------------------------------------ addresses


Area = tuple[int, int, int, int]  # min_row, min_col, max_row, max_col


def areas(cells: Iterable[tuple[int, int]]) -> list[Area]:
    """Cover the cells exactly with few rectangles: vertical runs per column, then merged across
    neighbouring columns with the same rows. Sorted, so the same cells give the same addresses."""
    by_col: dict[int, list[int]] = {}
    for r, c in set(cells):
        by_col.setdefault(c, []).append(r)
    runs: list[tuple[int, int, int]] = []  # (col, first row, last row)
    for c in sorted(by_col):
        rows = sorted(by_col[c])
        start = prev = rows[0]
        for r in rows[1:]:
            if r != prev + 1:
                runs.append((c, start, prev))
                start = r
            prev = r
        runs.append((c, start, prev))
    open_areas: dict[tuple[int, int], list[int]] = {}  # (r1, r2) -> [c1, c2]
    done: list[Area] = []
    for c, r1, r2 in runs:
        key = (r1, r2)
        span = open_areas.get(key)
        if span is not None and span[1] == c - 1:
            span[1] = c
        else:
            if span is not None:
                done.append((r1, span[0], r2, span[1]))
            open_areas[key] = [c, c]
    done += [(r1, c1, r2, c2) for (r1, r2), (c1, c2) in open_areas.items()]
    return sorted(done)


def area_address(area: Area) -> str:
    r1, c1, r2, c2 = area
    first = f"{get_column_letter(c1)}{r1}"
    return first if (r1, c1) == (r2, c2) else f"{first}:{get_column_letter(c2)}{r2}"


def address_chunks(addresses: Iterable[str], limit: int = MAX_ADDRESS) -> list[str]:
    """Join addresses with commas into as few strings as fit under ``limit`` characters each."""
    chunks: list[str] = []
    current = ""
    for a in addresses:
        candidate = f"{current},{a}" if current else a
        if len(candidate) <= limit:
            current = candidate
        else:
            if current:
                chunks.append(current)
            current = a
    if current:
        chunks.append(current)
    return chunks


def _cell(coord: str) -> tuple[int, int]:
    letters, row = coordinate_from_string(coord.replace("$", "").split(":")[0])
    return row, column_index_from_string(letters)


# ------------------------------------------------------------------------------ writing


class SheetWriter:
    """The few calls that write one sheet (or colour cells) on either kind of engine."""

    def __init__(self, book: Any, sheet: Any) -> None:
        self.book = book
        self.sheet = sheet
        self.remote = is_remote(book)

    def apply(self, area_list: list[Area], fn: Callable[[Any], None]) -> None:
        """Call ``fn(range)`` on the areas: per multi-area chunk on desktop, per area on remote."""
        if not area_list:
            return
        if self.remote:
            for a in area_list:
                fn(self.sheet.range((a[0], a[1]), (a[2], a[3])))
            return
        for chunk in address_chunks(area_address(a) for a in area_list):
            try:
                fn(self.sheet.range(chunk))
            except Exception:  # an engine without multi-area ranges: one call per area instead
                for address in chunk.split(","):
                    fn(self.sheet.range(address))

    def paint(self, colors: dict[tuple[int, int], str], layers: list[str] | None = None) -> None:
        """Fill cells: ``colors`` maps (row, col) to ``#RRGGBB``.

        Desktop: per colour (in the order of ``layers``), multi-area chunks, one call each. Remote:
        one ``set_colors`` over the bounding box (row bands of at most 10 000 cells)."""
        if not colors:
            return
        if self.remote:
            rows = [r for r, _ in colors]
            cols = [c for _, c in colors]
            r1, r2, c1, c2 = min(rows), max(rows), min(cols), max(cols)
            band = max(1, MAX_SET_COLORS // (c2 - c1 + 1))
            for top in range(r1, r2 + 1, band):
                bottom = min(r2, top + band - 1)
                matrix = [
                    [colors.get((r, c), ...) for c in range(c1, c2 + 1)] for r in range(top, bottom + 1)
                ]
                self.sheet.range((top, c1), (bottom, c2)).set_colors(matrix)
            return
        order = layers or sorted(set(colors.values()))
        for color in order:
            cells = [rc for rc, col in colors.items() if col == color]
            self.apply(areas(cells), _setter("color", color))


def _setter(attr: str, value: Any) -> Callable[[Any], None]:
    def fn(rng: Any) -> None:
        setattr(rng, attr, value)

    return fn


def _output_sheet(book: Any, title: str) -> Any:
    """The output sheet, emptied (values and formats) or added after the last sheet."""
    names = [s.name for s in book.sheets]
    if title in names:
        sheet = book.sheets[title]
        sheet.clear()
        return sheet
    return book.sheets.add(name=title, after=book.sheets[len(names) - 1])


def write_rows(
    book: Any,
    title: str,
    rows: list[tuple[str, list[Any]]],
    widths: Sequence[float],
    number_formats: list[tuple[Area, str]] | None = None,
    fills: dict[tuple[int, int], str] | None = None,
    link_col: int | None = None,
) -> Any:
    """Write one output sheet: the values in one call, then a fixed handful of format calls."""
    from xlperf.workbook.writer import BIG, DRAFT, HEAD, SECTION, TITLE

    sheet = _output_sheet(book, title)
    width = max(len(widths), max((len(v) for _, v in rows), default=1))
    n = len(rows)
    sheet.range("A1").value = _matrix(rows, width)
    block = sheet.range((1, 1), (n, width))
    block.font.name = FONT_NAME
    block.font.size = FONT_SIZE
    block.wrap_text = True
    for i, col_width in enumerate(widths, start=1):
        sheet.range((1, i)).column_width = col_width
    w = SheetWriter(book, sheet)
    if rows and rows[0][0] == TITLE:
        title_cell = sheet.range("A1")
        title_cell.font.name = TITLE_FONT
        title_cell.font.bold = True
        title_cell.font.size = TITLE_SIZE
    # headings of levels 1-3 only: their number is fixed by the report's structure, while level 4
    # (①②… one per indicator) grows with the rows and would cost a call each on the remote engine
    bold_rows = [
        r
        for r, (style, _) in enumerate(rows, start=1)
        if style in (HEAD, SECTION, BIG, DRAFT, "h1", "h2", "h3")  # the 草稿 notice too
    ]
    w.apply(
        areas((r, c) for r in bold_rows for c in range(1, width + 1)),
        lambda rng: setattr(rng.font, "bold", True),
    )
    for area, fmt in number_formats or []:
        sheet.range((area[0], area[1]), (area[2], area[3])).number_format = fmt
    colors = dict(fills or {})
    for r, (style, values) in enumerate(rows, start=1):
        if style == HEAD:
            for c in range(1, len(values) + 1):
                colors[(r, c)] = HEADER_COLOR
    w.paint(colors, [HEADER_COLOR, ERROR_COLOR, WARNING_COLOR])
    if link_col is not None and n > 3:
        sheet.range((4, link_col), (n, link_col)).font.color = LINK_COLOR
    return sheet


def score_formats(rows: list[tuple[str, list[Any]]]) -> list[tuple[Area, str]]:
    """Number formats of 评分汇总 by region, as the openpyxl writer formats its cells one by one.

    The main table (一级指标 … 合计): 分值/得分 ``0.00``, 得分率 ``0.00%``; each detail table (序号 …
    小计): 完成率 ``0.00%``, 权重/扣分/得分 ``0.00``; the ratios (计算比率): ``0.00``; the total ``0.00``.
    One call per region: the count depends on the framework, not on the indicator rows."""
    from xlperf.workbook.writer import BIG, BODY, HEAD, SECTION

    out: list[tuple[Area, str]] = []
    region, start = "", 0
    for r, (style, values) in enumerate(rows, start=1):
        first = str(values[0]) if values else ""
        if style == BIG:
            out.append(((r, 2, r, 2), "0.00"))
        elif style == HEAD:
            region, start = {"一级指标": "main", "序号": "detail", "计算比率": "ratios"}.get(first, ""), r + 1
        elif region == "main" and style == SECTION and first == "合计":
            out += [((start, 4, r, 5), "0.00"), ((start, 6, r, 6), "0.00%")]
            region = ""
        elif region == "detail" and style == SECTION and first == "小计":
            out += [((start, 5, r - 1, 5), "0.00%"), ((start, 6, r, 8), "0.00")]
            region = ""
        elif region == "ratios" and style == BODY and (r == len(rows) or rows[r][0] != BODY):
            out.append(((start, 3, r, 3), "0.00"))
            region = ""
    return out


def _link_rows(rows: list[tuple[str, list[Any]]], sheet_names: list[str]) -> list[tuple[str, list[Any]]]:
    """校验结果 with the 位置 column as HYPERLINK formulas: clickable, and no extra Excel call."""
    out: list[tuple[str, list[Any]]] = []
    for style, values in rows:
        if style in ("error", "warning") and len(values) > 4 and values[3] in sheet_names and values[4]:
            sheet, coord = str(values[3]), str(values[4])
            target = f"#'{sheet.replace(chr(39), chr(39) * 2)}'!{coord}".replace('"', '""')
            values = [*values[:4], f'=HYPERLINK("{target}","{coord}")', *values[5:]]
            out.append((style, values))
        else:
            out.append((style, values))
    return out


# ------------------------------------------------------------------------------ assessment


@dataclass
class Assessment:
    """One read + evaluation of a live book."""

    snap: Snapshot
    loaded: Loaded
    result: Result


def assess_book(book: Any, snap: Snapshot | None = None) -> Assessment:
    """Read the book in bulk (unless ``snap`` is its read already) and evaluate it with the same
    calls as ``xlperf run``."""
    from xlperf.pipeline import Loaded, assess
    from xlperf.workbook.reader import read_book

    snap = snap or snapshot(book)
    ev, findings, source = read_book(snap.workbook, snap.values_loader)
    loaded = Loaded(snap.path or Path(snap.fullname), snap.sha256(), ev, findings, source)
    return Assessment(snap, loaded, assess(loaded))


def _provenance(a: Assessment) -> Any:
    from xlperf.pipeline import now
    from xlperf.workbook.writer import Provenance

    return Provenance(a.result.framework, a.loaded.sha256, now())


def input_cells(snap: Snapshot, framework: Any) -> dict[str, set[tuple[int, int]]]:
    """Every cell the template tints as an input (pale yellow), per sheet: named fields and the
    input columns of the tables, without the 管理效率 cells the template locks for an indicator."""
    out: dict[str, set[tuple[int, int]]] = {}
    for f in L.all_fields():
        if f.type is not L.FieldType.COMPUTED and f.name in snap.names:
            sheet, coord = snap.names[f.name]
            out.setdefault(sheet, set()).add(_cell(coord))
    specs = {s.id: s for s in framework.management()}
    for spec, sheet, first, last, cols in found_tables(snap, framework):
        ws = snap.workbook[sheet]
        id_col = cols.get("编号")
        for r in range(first, last + 1):
            ind = None
            if spec.path == "management" and id_col is not None:
                ind = specs.get(str(ws.cell(row=r, column=id_col).value or "").strip())
            for c in spec.columns:
                col = cols.get(c.header)
                if col is None or not c.is_input:
                    continue
                if ind is not None and not L.management_input(c.attr, ind):
                    continue
                out.setdefault(sheet, set()).add((r, col))
    return out


def mark_cells(book: Any, a: Assessment) -> int:
    """Colour the flagged input cells red (error) or yellow (warning) and give every other input
    cell its pale yellow back (the marks of an earlier run go away). Returns the flagged count."""
    findings = list(a.result.findings)
    flagged: dict[str, dict[tuple[int, int], str]] = {}
    for f in findings:
        if (
            not f.sheet
            or not f.cell
            or f.sheet in (*L.OUTPUT_SHEETS, L.HIDDEN)
            or f.sheet not in a.snap.sheet_names
        ):
            continue
        try:
            rc = _cell(f.cell)
        except ValueError:
            continue
        cells = flagged.setdefault(f.sheet, {})
        if f.is_error or cells.get(rc) != ERROR_COLOR:
            cells[rc] = ERROR_COLOR if f.is_error else WARNING_COLOR
    inputs = input_cells(a.snap, a.result.framework)
    for sheet_name in sorted(set(inputs) | set(flagged)):
        if sheet_name not in a.snap.sheet_names:
            continue
        colors = dict.fromkeys(inputs.get(sheet_name, ()), INPUT_COLOR)
        colors.update(flagged.get(sheet_name, {}))
        SheetWriter(book, book.sheets[sheet_name]).paint(colors, [INPUT_COLOR, WARNING_COLOR, ERROR_COLOR])
    return sum(len(v) for v in flagged.values())


def write_formula_cells(book: Any, a: Assessment) -> int:
    """The template's formula cells whose shown value would differ from xlperf's, as the scored
    file has them (``writer.formula_edits``): a 完成率 the formula cannot compute from the row as typed
    gets xlperf's value (the others keep, or get back, their formula); an older template's
    月均执行率 gets the current formula. One write per sheet and column, whatever the rows. Returns
    the number of cells that show xlperf's value."""
    from xlperf.workbook.writer import formula_edits

    source = a.loaded.source
    if source is None:
        return 0
    shown = 0
    for sheet_name, edits in formula_edits(a.result, source).items():
        if sheet_name not in a.snap.sheet_names:
            continue
        sheet = book.sheets[sheet_name]
        cells = {sf.cell: sf.formula for sf in source.formulas.values() if sf.sheet == sheet_name}
        by_col: dict[int, dict[int, Any]] = {}
        for coord, formula in cells.items():
            r, c = _cell(coord)
            kind, value = edits.cells.get(coord, ("formula", formula))
            if kind == "value":
                shown += 1
                value = "" if value is None else float(value)
            by_col.setdefault(c, {})[r] = value
        for c, rows in by_col.items():
            if not any(_cell(coord)[1] == c for coord in edits.cells):
                continue  # nothing of this column changes
            top, bottom = min(rows), max(rows)
            column = [[rows.get(r, "")] for r in range(top, bottom + 1)]
            if any(top <= r <= bottom for r in range(top, bottom + 1) if r not in rows):
                continue  # not one run of cells: left as it is rather than overwrite what lies between
            sheet.range((top, c), (bottom, c)).value = column
    return shown


def write_findings(book: Any, a: Assessment) -> Any:
    return write_finding_sheet(book, L.FINDINGS, a.result.findings, a.snap.sheet_names)


def write_finding_sheet(book: Any, title: str, findings: Sequence[Finding], sheet_names: Any) -> Any:
    """校验结果 into the live workbook (either form's): the rows the file's writer makes, error and
    warning cells filled, each 位置 a link to its cell."""
    from xlperf.workbook.writer import finding_rows

    rows = finding_rows(list(findings))
    fills = {
        (r, 2): ERROR_COLOR if style == "error" else WARNING_COLOR
        for r, (style, _) in enumerate(rows, start=1)
        if style in ("error", "warning")
    }
    return write_rows(book, title, _link_rows(rows, sheet_names), FINDINGS_WIDTHS, fills=fills, link_col=5)


def write_summary(book: Any, a: Assessment) -> Any:
    from xlperf.workbook.writer import score_rows

    rows = score_rows(a.result, _provenance(a))
    return write_rows(book, L.SCORES, rows, SCORE_WIDTHS, number_formats=score_formats(rows))


def write_report(book: Any, a: Assessment) -> Any:
    from xlperf.workbook.writer import report_rows

    return write_rows(book, L.REPORT, report_rows(a.result), REPORT_WIDTHS)


def _counts(a: Assessment) -> str:
    return f"错误 {len(a.result.errors)} 条，提醒 {len(a.result.warnings)} 条"


# ------------------------------------------------------------------------------ handlers


@contextmanager
def _quiet(book: Any) -> Iterator[None]:
    """Desktop Excel: no screen redraw while the sheets are written (restored afterwards)."""
    if is_remote(book):
        yield
        return
    app = book.app
    try:
        app.screen_updating = False
    except Exception:
        yield
        return
    try:
        yield
    finally:
        with suppress(Exception):
            app.screen_updating = True


def _project_form(snap: Snapshot) -> Any:
    """The project form's buttons (:mod:`xlperf.excel.project`) when the book is a 项目支出绩效自评表."""
    from xlperf.excel import project

    return project if project.is_project(snap) else None


def validate(book: Any) -> Outcome:
    """校验: 校验结果 sheet and the flagged input cells coloured."""
    snap = snapshot(book)
    if (project := _project_form(snap)) is not None:
        return project.validate(book, snap)
    a = assess_book(book, snap)
    with _quiet(book):
        flagged = mark_cells(book, a)
        write_findings(book, a).activate()
    if not a.result.findings:
        return Outcome("校验完成：没有发现问题。")
    tail = "红色单元格是错误（须改正后才能报送），黄色是提醒。" if flagged else ""
    return Outcome(
        f"校验完成：{_counts(a)}。详见“{L.FINDINGS}”工作表（点击“位置”可跳到单元格）。{tail}",
        "critical" if a.result.errors else "info",
    )


def score(book: Any) -> Outcome:
    """计算得分: 评分汇总 and 校验结果 (and the cell marks)."""
    snap = snapshot(book)
    if (project := _project_form(snap)) is not None:
        return project.score(book, snap)
    a = assess_book(book, snap)
    with _quiet(book):
        mark_cells(book, a)
        write_formula_cells(book, a)
        write_findings(book, a)
        write_summary(book, a).activate()
    r = a.result
    text = f"计算完成：总分 {r.total}，评价等级 {r.rating}。{_counts(a)}，详见“{L.FINDINGS}”。"
    if r.errors:
        text += "有错误时得分仅供参考，改正后请重新计算。"
    return Outcome(text, "critical" if r.errors else "info")


def _docx_path(snap: Snapshot) -> Path | None:
    if snap.path is None:
        return None
    return snap.path.with_name(f"{snap.path.stem}_自评报告.docx")


def report(book: Any) -> Outcome:
    """生成报告: the 自评报告 sheet, and the Word report beside the saved workbook.

    On the remote engine, or for a book that was never saved, there is no folder to write to: the
    sheet is written and the message says how to get the .docx (save first, or ``xlperf report``).
    """
    from xlperf.pipeline import write_report_docx

    snap = snapshot(book)
    if (project := _project_form(snap)) is not None:
        return project.report(book, snap)
    a = assess_book(book, snap)
    with _quiet(book):
        write_report(book, a).activate()
    out = _docx_path(a.snap)
    if out is None:
        where = "在线 Excel 中无法保存文件" if a.snap.remote else "工作簿还没有保存到本机文件夹"
        return Outcome(
            f"已写入“{L.REPORT}”工作表。{where}，所以没有生成 Word 报告；"
            "请先保存工作簿再点击“生成报告”，或在命令行运行 xlperf report 自评表.xlsx -o 报告.docx。"
        )
    try:
        write_report_docx(a.result, out)
    except OSError as exc:
        raise HandlerError(
            f"已写入“{L.REPORT}”工作表，但无法保存 Word 报告 {out}：{exc.strerror or exc}。"
            "如果该报告正在 Word 中打开，请关闭后重试。"
        ) from exc
    return Outcome(f"已写入“{L.REPORT}”工作表，并生成 Word 报告：\n{out}")


def _saved_path(book: Any, action: str) -> Path:
    """The workbook file the submission functions read; the clerk must have saved it."""
    if is_remote(book):
        raise HandlerError(
            f"在线 Excel 中无法{action}：报送包需要本机文件。请在桌面版 Excel 中打开工作簿，"
            "或在命令行运行 xlperf submit 自评表.xlsx。"
        )
    path = Path(str(book.fullname))
    if not path.is_absolute() or not path.is_file():
        raise HandlerError(f"工作簿还没有保存到本机文件夹。请先保存（Ctrl+S），再点击“{action}”。")
    saved = _saved_state(book)
    if saved is False:
        raise HandlerError(
            f"工作簿有未保存的修改。{action}使用的是磁盘上的文件：请先保存（Ctrl+S），再点击“{action}”。"
        )
    return path


def _saved_state(book: Any) -> bool | None:
    """Whether Excel says the book has no unsaved changes (Windows); None when it cannot tell."""
    try:
        return bool(book.api.Saved)
    except Exception:
        return None


def _export(path: Path, *, overwrite: bool) -> Any:
    from xlperf.submission.package import export_package

    return export_package(path, operator=_operator(), overwrite=overwrite)


def _operator() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return ""


def _package_folder(result: Any) -> str:
    return str(result.folder)


def _package_lines(result: Any) -> str:
    """What the package holds, as ``xlperf submit`` says it (either form): a project form's 项目 and
    主管部门 (a department has many project forms: the clerk sees which one went), the total."""
    lines = [f"报送包：{_package_folder(result)}"]
    if result.project:
        lines.append(f"项目：{result.project}（{result.department or '未填写主管部门'}）")
    lines.append(f"总分 {result.total:.2f}（{result.rating or '不评级'}）")
    return "\n".join(lines)


def package_(book: Any) -> Outcome:
    """导出报送包: freeze and package the saved workbook (xlperf.submission.package.export_package).

    An existing package folder is replaced only after the clerk says yes (desktop Excel)."""
    from xlperf.submission.package import PackageError, PackageExistsError

    path = _saved_path(book, "导出报送包")
    try:
        result = _export(path, overwrite=False)
    except PackageExistsError as exc:
        answer = book.app.alert(
            f"{exc}\n\n是否用新的报送包替换它？", title="xlperf · 导出报送包", buttons="yes_no", mode="info"
        )
        if answer != "yes":
            return Outcome("没有导出：已有的报送包保持不变。")
        try:
            result = _export(path, overwrite=True)
        except PackageError as exc2:
            raise HandlerError(str(exc2)) from exc2
    except PackageError as exc:
        raise HandlerError(str(exc)) from exc
    return Outcome(f"报送包已导出。\n{_package_lines(result)}\n确认无误后可点击“发送财政局”。")


def send(book: Any) -> Outcome:
    """发送财政局: export the saved workbook afresh (replacing its earlier package) and email it.

    Settings (server, addresses, password) come from the environment or the user's config file
    (``xlperf submit --help``); a failed send stays in the outbox for ``xlperf submit --retry``.
    With ``XLPERF_SEND_VIA=outlook`` (or ``[submit] via = "outlook"``) the clerk's Outlook opens a
    draft with the same message instead (Windows)."""
    from xlperf.submission.outlook import open_outlook_draft, outlook_preferred
    from xlperf.submission.package import PackageError, send_package
    from xlperf.submission.settings import draft_addresses

    path = _saved_path(book, "发送财政局")
    try:
        result = _export(path, overwrite=True)
        if outlook_preferred():
            _, to_list = draft_addresses({})
            open_outlook_draft(result, to_list)
            return Outcome(
                f"已在 Outlook 中打开报送邮件草稿，请核对收件人和附件后发送。\n{_package_lines(result)}"
            )
        item = send_package(result, {})
    except PackageError as exc:
        raise HandlerError(str(exc)) from exc
    to = getattr(item, "to", "") or getattr(getattr(item, "message", None), "to", "")
    target = f"（收件人：{', '.join(to) if isinstance(to, list | tuple) else to}）" if to else ""
    return Outcome(f"已发送到财政局{target}。\n{_package_lines(result)}")


def new_framework(book: Any) -> tuple[Any, str]:
    """The rules 新建自评表 makes a workbook for, and why, in the clerk's words: the active workbook's
    own rules (its embedded copy: also rules this PC does not have); with no xlperf workbook open,
    the framework ``XLPERF_FRAMEWORK`` names (an id of this PC's, e.g. set by the bureau's IT); else
    the default one."""
    from xlperf.catalog import by_id, workbook_rules
    from xlperf.core.framework import FrameworkError, get_framework
    from xlperf.core.project.framework import form_of_text
    from xlperf.excel.book import recorded_rules
    from xlperf.project.catalog import find as find_project
    from xlperf.project.catalog import project_workbook_rules

    if book is not None:
        recorded = recorded_rules(book)
        if recorded.framework_id or recorded.embedded:
            # a project form (issue 27) makes another project form, a department workbook its own kind
            project = (recorded.embedded and form_of_text(recorded.embedded) == "project") or (
                not recorded.embedded and find_project(recorded.framework_id or "") is not None
            )
            fw = project_workbook_rules(recorded) if project else workbook_rules(recorded)
            if fw is not None:
                return fw, "与当前工作簿相同"
    chosen = os.environ.get("XLPERF_FRAMEWORK", "").strip()
    if chosen:
        project_fw = find_project(chosen)
        if project_fw is not None:
            return project_fw, "按 XLPERF_FRAMEWORK 的设置"
        try:
            return by_id(chosen), "按 XLPERF_FRAMEWORK 的设置"
        except FrameworkError as exc:
            raise HandlerError(
                f"XLPERF_FRAMEWORK 设置的评分框架“{chosen[:64]}”无法使用：{'；'.join(exc.problems)}"
            ) from exc
    return get_framework(), "默认"


def new(book: Any) -> Outcome:
    """新建自评表: the blank standard workbook for :func:`new_framework`'s rules, saved beside the
    current one (or in Documents), opened."""
    from xlperf.core.project.framework import ProjectFramework
    from xlperf.workbook.template import BLANK_NAME, build_workbook, save_workbook

    if is_remote(book):
        raise HandlerError(
            "在线 Excel 中无法新建文件。请在命令行运行 xlperf new -o 自评表.xlsx，"
            "或在桌面版 Excel 中点击“新建自评表”。"
        )
    current = Path(str(book.fullname)) if book is not None else None
    folder = (
        current.parent
        if current is not None and current.is_absolute() and current.parent.is_dir()
        else _documents()
    )
    fw, why = new_framework(book)
    if isinstance(fw, ProjectFramework):  # the national 项目支出绩效自评表 layout (issue 27)
        from xlperf.project.template import build_project_workbook

        target = _free_name(folder / PROJECT_BLANK_NAME)
        made = build_project_workbook(fw)
    else:
        target = _free_name(folder / BLANK_NAME)
        made = build_workbook(fw)
    try:
        save_workbook(made, target)
    except OSError as exc:
        raise HandlerError(f"无法保存新的自评表 {target}：{exc.strerror or exc}。") from exc
    import xlwings as xw

    xw.Book(str(target))
    return Outcome(f"已新建空白自评表并打开：\n{target}\n评分框架（{why}）：{fw.name}，{fw.label}")


#: the file name of a blank project form made by the ribbon (as ``xlperf new`` names it)
PROJECT_BLANK_NAME = "项目支出绩效自评表.xlsx"


def upgrade(book: Any) -> Outcome:
    """升级模板: the saved workbook moved into the current template (``xlperf upgrade``), saved
    beside it as ``<名称>_新模板.xlsx`` and opened; the message lists what could not be placed."""
    from xlperf.core.errors import InputError
    from xlperf.pipeline import upgrade_workbook, upgraded_name

    path = _saved_path(book, "升级模板")
    target = _free_name(upgraded_name(path))
    try:
        report = upgrade_workbook(path, target)
    except InputError as exc:
        raise HandlerError(str(exc)) from exc
    except OSError as exc:
        raise HandlerError(f"无法保存升级后的自评表 {target}：{exc.strerror or exc}。") from exc
    import xlwings as xw

    xw.Book(str(target))
    text = "\n".join([f"已另存为当前模板并打开：\n{target}", *report.lines()])
    if len(text) > MAX_ALERT:
        text = (
            text[: MAX_ALERT - 40]
            + f"……（共 {len(report.unplaced)} 处未迁移，可运行 xlperf upgrade 查看全部）"
        )
    return Outcome(text, "critical" if report.unplaced else "info")


def _documents() -> Path:
    home = Path(os.path.expanduser("~"))
    for name in ("Documents", "文档"):
        if (home / name).is_dir():
            return home / name
    return home


def _free_name(path: Path) -> Path:
    if not path.exists():
        return path
    for i in range(2, 1000):
        candidate = path.with_name(f"{path.stem}（{i}）{path.suffix}")
        if not candidate.exists():
            return candidate
    raise HandlerError(f"{path.parent} 中已有太多同名的自评表，请整理后重试。")


def help_text() -> str:
    """The 帮助 message: every button and worksheet function with its help text."""
    lines = [
        "xlperf：部门整体支出绩效自评（校验、计分、报告、报送）。",
        "项目支出绩效自评表（xlperf new --framework national-project）也可用校验、计算得分、"
        "生成报告和报送按钮。",
        "",
        "按钮：",
    ]
    lines += [f"· {b.label}：{b.help}" for b in BUTTONS]
    lines += ["", "工作表函数（仅 Windows 版 Excel）："]
    lines += [
        f"· {u.name}({', '.join(('[' + x.name + ']') if x.optional else x.name for x in u.args)})：{u.help}"
        for u in UDFS
    ]
    lines += [
        "",
        "没有 Excel 时（WPS、信创电脑、Linux）：在命令行运行 xlperf run 自评表.xlsx，结果相同。",
        "详细说明：xlperf --help，或安装目录中的 README.md。",
    ]
    return "\n".join(lines)


def help_(book: Any) -> Outcome:
    """The 帮助 button: every button and worksheet function with its help text."""
    return Outcome(help_text())


HANDLERS: dict[str, Callable[[Any], Outcome]] = {
    "validate": validate,
    "score": score,
    "report": report,
    "package": package_,
    "send": send,
    "new": new,
    "upgrade": upgrade,
    "help": help_,
}
