"""How a sheet prints and reads: text widths, row heights from wrapped text, page setup (openpyxl).

One place for the layout rules every sheet xlperf writes follows (评分汇总, 校验结果, 自评报告,
the template's sheets, 汇总): Excel and LibreOffice never grow a row to fit wrapped text written
by a library, so the heights are computed here from the text and the column widths, counting a
CJK (full-width) character as two columns the way both programs lay it out.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from xlperf.workbook.cells import MAX_ROW_HEIGHT

DEFAULT_COLUMN_WIDTH = 8.43  # Excel's width of a column nobody sized, in "0" widths of the default font
DEFAULT_FONT_SIZE = 11.0
UNIT_PX = 7.0  # a column width unit is one digit of Calibri 11: 7 pixels at 96 dpi
CELL_PADDING_PX = 4.0  # the cell margins inside a column
LINE_FACTOR = 1.45  # a line of CJK text is about 1.45 × the font size (Noto CJK, as LibreOffice prints)
ROW_PADDING = 3.0  # points above and below the text of a row
FOOTER = "第 &P 页，共 &N 页"


def text_width(s: str, *, ambiguous_wide: bool = True) -> int:
    """Display columns of ``s``: a wide or full-width character (CJK, full-width ，) counts 2.

    Characters of ambiguous width (① “ ” × ÷ …) are full-width in the CJK fonts a sheet prints
    with, so they count 2 too unless ``ambiguous_wide`` is false (a terminal shows them narrow)."""
    if s.isascii():
        return len(s)
    rest = _ALWAYS_WIDE.sub("", s)  # most of a Chinese text: counted in C, not char by char
    wide = 2 * (len(s) - len(rest))
    if rest.isascii():
        return wide + len(rest)
    width = _char_width_wide if ambiguous_wide else _char_width_narrow
    return wide + sum(map(width, rest))


#: code points that are wide ("W") or full-width ("F") and not combining, under either rule of
#: text_width: CJK punctuation, kana, ideographs (with extension A) and the full-width forms
#: (tests/test_printing.py checks every one against unicodedata)
ALWAYS_WIDE_RANGES = (
    (0x3000, 0x3029),
    (0x3031, 0x303E),
    (0x3041, 0x3096),
    (0x30A1, 0x30FA),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xFF01, 0xFF60),
    (0xFFE0, 0xFFE6),
)
_ALWAYS_WIDE = re.compile("[" + "".join(f"{chr(a)}-{chr(b)}" for a, b in ALWAYS_WIDE_RANGES) + "]")


@functools.lru_cache(maxsize=4096)
def _char_width_wide(ch: str) -> int:
    return 0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in ("W", "F", "A") else 1


@functools.lru_cache(maxsize=4096)
def _char_width_narrow(ch: str) -> int:
    return 0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def wrapped_lines(text: str, columns: float) -> int:
    """How many lines ``text`` takes wrapped in ``columns`` display columns (each paragraph apart)."""
    return _wrapped_short(text, columns) if len(text) <= 512 else _wrapped(text, columns)


@functools.lru_cache(maxsize=4096)  # labels and messages repeat from workbook to workbook
def _wrapped_short(text: str, columns: float) -> int:
    return _wrapped(text, columns)


def _wrapped(text: str, columns: float) -> int:
    room = max(columns, 1.0)
    return sum(max(1, math.ceil(text_width(part) / room)) for part in text.split("\n"))


def column_widths(ws: Worksheet) -> dict[int, float]:
    """The width of every column that has one set (openpyxl keeps ranges as min..max)."""
    widths: dict[int, float] = {}
    for key, dim in ws.column_dimensions.items():
        if not dim.customWidth and not dim.width:
            continue
        lo = dim.min or column_index_from_string(key)
        hi = dim.max or lo
        for c in range(lo, hi + 1):
            widths[c] = float(dim.width or DEFAULT_COLUMN_WIDTH)
    return widths


def fit_row_heights(ws: Worksheet, *, min_height: float | None = None) -> None:
    """Set each row's height from the wrapped text of its cells and the column widths.

    A cell that wraps takes as many lines as its text needs at its column's width (a merged
    cell: the sum of its columns); a cell that does not wrap takes one line. The tallest cell
    sets the row; ``min_height`` is a floor for every row that has content. Hidden rows and
    cells of multi-row merges are left alone (their height is the merge's business)."""
    widths = column_widths(ws)
    spans: dict[tuple[int, int], int] = {}  # (row, col) of a one-row merge's anchor → last column
    covered: set[tuple[int, int]] = set()
    for rng in ws.merged_cells.ranges:
        if rng.min_row == rng.max_row:
            spans[(rng.min_row, rng.min_col)] = rng.max_col
        for r in range(rng.min_row, rng.max_row + 1):
            for c in range(rng.min_col, rng.max_col + 1):
                if (r, c) != (rng.min_row, rng.min_col) or rng.min_row != rng.max_row:
                    covered.add((r, c))
    heights: dict[int, float] = {}
    looks: dict[tuple[int, ...], tuple[float, bool]] = {}
    for (r, c), cell in ws._cells.items():
        if cell.value is None or (r, c) in covered:
            continue
        last = spans.get((r, c), c)
        width = sum(widths.get(col, DEFAULT_COLUMN_WIDTH) for col in range(c, last + 1))
        look = looks.get(key := tuple(cell._style))  # font size and wrapping, once per format
        if look is None:
            look = looks[key] = (_size(cell), bool(cell.alignment is not None and cell.alignment.wrap_text))
        size, wraps = look
        columns = columns_in(width, size)
        lines = wrapped_lines(_shown(cell), columns) if wraps else 1
        height = lines * size * LINE_FACTOR + ROW_PADDING
        heights[r] = max(heights.get(r, 0.0), height)
    for r, height in heights.items():
        dim = ws.row_dimensions[r]
        if dim.hidden:
            continue
        if min_height is not None:
            height = max(height, min_height)
        dim.height = round(min(height, MAX_ROW_HEIGHT), 1)


def setup_print(
    ws: Worksheet,
    *,
    title_rows: str | None = None,
    landscape: bool = False,
    header: str | None = None,
    fit_width: bool = True,
) -> None:
    """A4, the orientation, one page wide (as many pages high as needed), the title rows repeated
    on every page, ``header`` (e.g. the department) on top and "第 N 页，共 M 页" at the foot."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    if fit_width:
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.75
    ws.page_margins.header = ws.page_margins.footer = 0.3
    if title_rows:
        ws.print_title_rows = title_rows
    if header:
        set_page_header(ws, header)
    ws.oddFooter.center.text = FOOTER
    ws.oddFooter.center.size = 9


def set_page_header(ws: Worksheet, text: str) -> None:
    """The text at the top of every printed page (``&`` kept as text, not a header code)."""
    ws.oddHeader.center.text = text.replace("&", "&&")
    ws.oddHeader.center.size = 9


def printable_columns(ws: Worksheet) -> float:
    """How many column-width units fit across the printable width of the page at 100 %."""
    portrait_in, landscape_in = 8.27, 11.69  # A4
    paper = landscape_in if ws.page_setup.orientation == "landscape" else portrait_in
    inches = paper - float(ws.page_margins.left or 0) - float(ws.page_margins.right or 0)
    return inches * 96 / UNIT_PX


def fit_column_widths(
    ws: Worksheet,
    columns: Iterable[int],
    *,
    rows: Iterable[int] | None = None,
    minimum: float = 6.0,
    maximum: float = 60.0,
) -> None:
    """Widen ``columns`` so the longest line of their cells (in ``rows``, default all) fits on
    one line, between ``minimum`` and ``maximum``; never narrows a column already wider."""
    wanted = set(columns)
    allowed = set(rows) if rows is not None else None
    need: dict[int, float] = {}
    for (r, c), cell in ws._cells.items():
        if c not in wanted or cell.value is None or (allowed is not None and r not in allowed):
            continue
        size = _size(cell)
        longest = max(text_width(line) for line in _shown(cell).split("\n"))
        need[c] = max(
            need.get(c, 0.0), (longest + 1) * _half_em_px(size) / UNIT_PX + CELL_PADDING_PX / UNIT_PX
        )
    current = column_widths(ws)
    for c, width in need.items():
        width = min(max(width, minimum), maximum)
        if width > current.get(c, 0.0):
            ws.column_dimensions[get_column_letter(c)].width = round(width, 1)


def _half_em_px(size: float) -> float:
    """Pixels of one display column (half a CJK character) of a ``size``-point font at 96 dpi."""
    return size * 96 / 72 / 2


def columns_in(width: float, size: float) -> float:
    """Display columns of a ``size``-point font that fit in a column ``width`` units wide."""
    return (width * UNIT_PX - CELL_PADDING_PX) / _half_em_px(size)


def _size(cell: Any) -> float:
    return float(cell.font.sz or DEFAULT_FONT_SIZE) if cell.font is not None else DEFAULT_FONT_SIZE


def _shown(cell: Any) -> str:
    """Roughly the text a cell shows (numbers with two decimals, as xlperf formats them; a
    formula shows its result, a number or a short text, not its own text)."""
    value = cell.value
    if cell.data_type == "f":
        return "100.00%"
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal | float):
        return f"{value:,.2f}"
    return str(value)
