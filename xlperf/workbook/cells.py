"""Reading and writing single cells the way the layout means them (openpyxl adapter)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell

from xlperf.workbook.book import Cell as ReadCell
from xlperf.workbook.book import CellValue

# Excel's own limits: the one place xlperf writes them (the writer, the add-in, the summary, printing)
MAX_CELL_TEXT = 32767  # characters per cell
MAX_EXACT_DIGITS = 15  # Excel keeps 15 significant digits; longer numbers are stored as text
MAX_ROW_HEIGHT = 409.0  # points: a taller row is refused (and longer text scrolls in the cell)


def excel_text(text: str) -> str:
    """``text`` as a cell can hold it: without the control characters Excel refuses,
    cut to ``MAX_CELL_TEXT``."""
    kept: str = ILLEGAL_CHARACTERS_RE.sub("", text)  # openpyxl's pattern (untyped)
    return kept[:MAX_CELL_TEXT]


def put_text(cell: Cell, text: str) -> None:
    """Store text as text, even when it starts with = + - @ or reads like an error value."""
    clean = excel_text(text)
    cell.value = clean
    # openpyxl would otherwise store "=…" as a formula and "#NUM!"-like text as an error value
    cell.data_type = "s"


def put(cell: Cell, value: object) -> None:
    """Write a model value: text as text, Decimal as an exact number (or as text past 15 digits)."""
    if value is None:
        cell.value = None
    elif isinstance(value, str):
        put_text(cell, value)
    elif isinstance(value, Decimal):
        digits = len(value.as_tuple().digits)
        if digits > MAX_EXACT_DIGITS:
            put_text(cell, format(value, "f"))
        else:
            cell.value = value
    elif isinstance(value, bool):
        cell.value = "是" if value else "否"
    else:
        cell.value = value


def raw(cell: ReadCell) -> CellValue:
    """What a cell holds for parsing: formulas come back as their text (starting with =)."""
    value = cell.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if cell.data_type == "e":
        return str(value)
    return value


def is_formula(cell: ReadCell) -> bool:
    return cell.data_type == "f" or (isinstance(cell.value, str) and cell.data_type == "f")


def is_percent(cell: ReadCell) -> bool:
    return "%" in (cell.number_format or "")
