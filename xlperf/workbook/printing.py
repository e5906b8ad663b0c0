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
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.dimensions import RowDimension
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


def text_height(text: str, width: float, size: float, wraps: bool) -> float:
    """Points a cell ``width`` column units wide needs to show ``text`` in a ``size``-point font:
    its wrapped lines (one line when it does not wrap), the one rule every sheet xlperf writes
    (the template, the output sheets, the clerk's rows in a scored or 报送 copy) is sized by."""
    lines = wrapped_lines(text, columns_in(width, size)) if wraps else 1
    return lines * size * LINE_FACTOR + ROW_PADDING


def lines_in(height: float, size: float) -> int:
    """How many lines of a ``size``-point font a row ``height`` points tall shows (at least one)."""
    return max(1, int((height - ROW_PADDING) / (size * LINE_FACTOR) + 0.25))


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
        height = text_height(_shown(cell), width, size, wraps)
        heights[r] = max(heights.get(r, 0.0), height)
    for r, height in heights.items():
        dim = ws.row_dimensions[r]
        if dim.hidden:
            continue
        if min_height is not None:
            height = max(height, min_height)
        dim.height = round(min(height, MAX_ROW_HEIGHT), 1)


class _AutoHeight(RowDimension):  # type: ignore[misc]  # openpyxl is untyped
    """A row height that is xlperf's estimate of the row's content, not a height someone fixed:
    written without ``customHeight``, so Excel (and WPS, LibreOffice) grow the row again when a
    clerk types a longer answer into it. openpyxl marks every row with a height as custom."""

    @property
    def customHeight(self) -> bool:
        return False


def release_heights(ws: Worksheet, rows: Iterable[int]) -> None:
    """Keep the heights of ``rows`` as they are but no longer fixed (see :class:`_AutoHeight`):
    the rows a clerk types into."""
    for r in rows:
        old = ws.row_dimensions[r]
        if isinstance(old, _AutoHeight):
            continue
        ws.row_dimensions[r] = _AutoHeight(
            ws, index=r, ht=old.ht, s=old.s if old.has_style else None, hidden=old.hidden
        )


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
        return "99" if str(value).upper().startswith("=ROW(") else "100.00%"  # 序号, or a rate
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal | float):
        return f"{value:,.2f}"
    return str(value)


# ------------------------------------------------------------------ rows of a package's sheets
# The same sizing on a worksheet part as it is in the package (the scored copy and the 报送 copy are
# written part by part, never through openpyxl): the clerk's rows grow to show what was typed.

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_TEXT_TYPES = frozenset(("s", "inlineStr", "str"))
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)")


def shared_strings(root: Any | None) -> list[str]:
    """The texts of a ``sharedStrings.xml`` part (parsed), rich text runs joined."""
    if root is None:
        return []
    ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else _MAIN_NS
    out = []
    for si in root.iterfind(f"{{{ns}}}si"):
        out.append("".join(t.text or "" for t in si.iter(f"{{{ns}}}t") if _not_phonetic(t, ns)))
    return out


def _not_phonetic(t: Any, ns: str) -> bool:
    parent = t.getparent()
    return parent is None or parent.tag != f"{{{ns}}}rPh"


def style_looks(root: Any) -> list[tuple[float, bool]]:
    """(font size, wraps) of every cell format of a ``styles.xml`` part (parsed), by index."""
    ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else _MAIN_NS
    sizes = []
    fonts = root.find(f"{{{ns}}}fonts")
    for font in fonts if fonts is not None else []:
        sz = font.find(f"{{{ns}}}sz")
        try:
            sizes.append(float(sz.get("val")) if sz is not None else DEFAULT_FONT_SIZE)
        except (TypeError, ValueError):
            sizes.append(DEFAULT_FONT_SIZE)
    looks = []
    xfs = root.find(f"{{{ns}}}cellXfs")
    for xf in xfs if xfs is not None else []:
        try:
            font = int(xf.get("fontId", "0"))
        except ValueError:
            font = 0
        size = sizes[font] if 0 <= font < len(sizes) else DEFAULT_FONT_SIZE
        align = xf.find(f"{{{ns}}}alignment")
        wraps = align is not None and align.get("wrapText") in ("1", "true")
        looks.append((size, wraps))
    return looks


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def needed_row_heights(
    root: Any, strings: Sequence[str], looks: Sequence[tuple[float, bool]]
) -> dict[int, tuple[float, float]]:
    """For every row of a worksheet part (parsed) whose text needs at least two lines: (the height
    it needs, the height it has). Widths come from ``<cols>``, merged runs of one row add their
    columns' widths, a multi-row merge and a hidden row are left alone, as in :func:`fit_row_heights`."""
    ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else _MAIN_NS
    widths: dict[int, float] = {}
    cols = root.find(f"{{{ns}}}cols")
    for col in cols if cols is not None else []:
        try:
            lo, hi = int(col.get("min", "0")), int(col.get("max", "0"))
            width = float(col.get("width", DEFAULT_COLUMN_WIDTH))
        except ValueError:
            continue
        for c in range(lo, min(hi, 16384) + 1):
            widths[c] = width
    fmt = root.find(f"{{{ns}}}sheetFormatPr")
    default_width = DEFAULT_COLUMN_WIDTH
    default_height = 15.0
    if fmt is not None:
        try:
            default_width = float(fmt.get("defaultColWidth", default_width))
            default_height = float(fmt.get("defaultRowHeight", default_height))
        except ValueError:
            pass
    spans: dict[tuple[int, int], int] = {}
    covered: set[tuple[int, int]] = set()
    merges = root.find(f"{{{ns}}}mergeCells")
    for merge in merges if merges is not None else []:
        first, _, last = (merge.get("ref") or "").partition(":")
        a, b = _CELL_REF.fullmatch(first), _CELL_REF.fullmatch(last or first)
        if a is None or b is None:
            continue
        r1, c1, r2, c2 = int(a[2]), _column_index(a[1]), int(b[2]), _column_index(b[1])
        if r1 == r2:
            spans[(r1, c1)] = c2
            covered.update((r1, c) for c in range(c1 + 1, c2 + 1))
        elif (r2 - r1 + 1) * (c2 - c1 + 1) <= 10_000:
            covered.update((r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1))
    out: dict[int, tuple[float, float]] = {}
    data = root.find(f"{{{ns}}}sheetData")
    for row in data if data is not None else []:
        if row.get("hidden") in ("1", "true"):
            continue
        need = 0.0
        r = 0
        for cell in row:
            if cell.get("t") not in _TEXT_TYPES:  # numbers, booleans, errors: one short line
                continue
            try:
                size, wraps = looks[int(cell.get("s", "0"))]
            except (ValueError, IndexError):
                continue
            if not wraps:
                continue
            text = _cell_text(cell, ns, strings)
            if len(text) < 4:  # fits any column
                continue
            m = _CELL_REF.fullmatch(cell.get("r") or "")
            if m is None:
                continue
            r, c = int(m[2]), _column_index(m[1])
            if (r, c) in covered:
                continue
            last = spans.get((r, c), c)
            width = sum(widths.get(col, default_width) for col in range(c, last + 1))
            lines = wrapped_lines(text, columns_in(width, size))
            if lines >= 2:  # one line fits any row
                need = max(need, lines * size * LINE_FACTOR + ROW_PADDING)
        if need and r:
            try:
                has = float(row.get("ht")) if row.get("ht") else default_height
            except ValueError:
                has = default_height
            out[r] = (min(need, MAX_ROW_HEIGHT), has)
    return out


def _cell_text(cell: Any, ns: str, strings: Sequence[str]) -> str:
    kind = cell.get("t")
    if kind == "s":
        v = cell.find(f"{{{ns}}}v")
        try:
            return strings[int(v.text)] if v is not None and v.text else ""
        except (ValueError, IndexError):
            return ""
    if kind == "inlineStr":
        return "".join(t.text or "" for t in cell.iter(f"{{{ns}}}t"))
    if kind == "str":
        v = cell.find(f"{{{ns}}}v")
        return (v.text or "") if v is not None else ""
    return ""  # numbers, booleans, errors: one short line


def grow_rows(root: Any, heights: dict[int, tuple[float, float]]) -> int:
    """Give the rows of a worksheet part (parsed, for editing) whose height shows fewer lines than
    their text needs (:func:`needed_row_heights`) the height they need, not fixed (no
    ``customHeight``: Excel refits it when the clerk edits the row). Never makes a row lower.
    Returns how many rows grew."""
    ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else _MAIN_NS
    data = root.find(f"{{{ns}}}sheetData")
    grown = 0
    for row in data if data is not None else []:
        try:
            r = int(row.get("r", "0"))
        except ValueError:
            continue
        if r in heights and short(*heights[r]):
            row.set("ht", str(round(heights[r][0], 1)))
            row.attrib.pop("customHeight", None)
            grown += 1
    return grown


def short(need: float, has: float) -> bool:
    """Whether a row ``has`` points tall is too low for content that ``need`` s (a line's slack)."""
    return has < need - 6.0
