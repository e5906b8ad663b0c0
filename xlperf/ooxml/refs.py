"""References: a cell (``B12``), a range (``A4:R34``), a defined name's destinations — the one place
column letters and numbers are converted."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol

from openpyxl.workbook.defined_name import DefinedName as _OpenpyxlName

_COORD = re.compile(r"([A-Za-z]{1,3})(\d+)")
#: a cell or a range of cells, as a defined name's destination may give it ($ optional)
_REFERENCE = re.compile(r"\$?[A-Za-z]{1,3}\$?\d{1,7}(?::\$?[A-Za-z]{1,3}\$?\d{1,7})?")
_AREA = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d{1,7})(?::\$?([A-Za-z]{1,3})\$?(\d{1,7}))?")

#: column letters → number, and cell reference → (row, column): the same references come back in every
#: sheet and workbook of a batch, so each is parsed once per process (bounded: a sheet of a million
#: cells does not fill the second past this)
_COLUMNS: dict[str, int] = {}
_POSITIONS: dict[str, tuple[int, int]] = {}
_POSITIONS_KEPT = 100_000


def column_index(letters: str) -> int:
    """``A`` → 1, ``AB`` → 28 (any letter case)."""
    known = _COLUMNS.get(letters)
    if known is not None:
        return known
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    if len(letters) <= 3:
        _COLUMNS[letters] = n
    return n


def column_letter(col: int) -> str:
    """1 → ``A``, 28 → ``AB``."""
    letters = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def coordinate(coord: str) -> tuple[int, int]:
    """``B12`` → (row 12, column 2). Raises ValueError for anything else (as openpyxl does)."""
    known = _POSITIONS.get(coord)
    if known is not None:
        return known
    m = _COORD.fullmatch(coord)
    if m is None or int(m.group(2)) == 0:
        raise ValueError(f"Invalid cell coordinates ({coord})")
    position = int(m.group(2)), column_index(m.group(1))
    if len(_POSITIONS) < _POSITIONS_KEPT:
        _POSITIONS[coord] = position
    return position


def cell_name(row: int, col: int) -> str:
    """(12, 2) → ``B12``."""
    return f"{column_letter(col)}{row}"


def bounds(ref: str) -> tuple[int, int, int, int]:
    """``A4:R34`` → (min_col, min_row, max_col, max_row), a single cell as a one-cell range ($ ignored)."""
    first, _, last = ref.replace("$", "").partition(":")
    r1, c1 = coordinate(first)
    r2, c2 = coordinate(last) if last else (r1, c1)
    return min(c1, c2), min(r1, r2), max(c1, c2), max(r1, r2)


def range_name(min_col: int, min_row: int, max_col: int, max_row: int) -> str:
    """The reverse of :func:`bounds`: ``A4:R34``, or ``A4`` for one cell."""
    first = cell_name(min_row, min_col)
    return first if (min_col, min_row) == (max_col, max_row) else f"{first}:{cell_name(max_row, max_col)}"


def area(ref: str) -> int:
    """Cells covered by ``ref`` (``A1``, ``a4:r1000000``, several ranges separated by spaces); a part
    that is not a reference counts nothing."""
    total = 0
    for part in ref.split():
        m = _AREA.fullmatch(part)
        if m is None:
            continue
        c1, r1 = column_index(m.group(1)), int(m.group(2))
        c2, r2 = (column_index(m.group(3)), int(m.group(4))) if m.group(3) else (c1, r1)
        total += (abs(c2 - c1) + 1) * (abs(r2 - r1) + 1)
    return total


_SIMPLE_DESTINATION = re.compile(
    r"(?:'(?P<quoted>(?:[^']|'')+)'|(?P<plain>[^\W\d][\w.]*))!"
    r"(?P<cells>\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d+)?)"
)


def destinations(name: str, text: str) -> list[tuple[str, str]]:
    """The (sheet, cells) a defined name's formula ``text`` points at, as openpyxl finds them (a quoted
    sheet name keeps its doubled ``''``): one ``'Sheet'!$A$1:$B$2`` directly, anything else through
    openpyxl's formula tokenizer (which may raise on what it cannot parse)."""
    simple = _SIMPLE_DESTINATION.fullmatch(text)
    if simple is not None:
        return [(simple.group("quoted") or simple.group("plain"), simple.group("cells"))]
    return list(_OpenpyxlName(name, attr_text=text).destinations)


class DefinedName(Protocol):
    """A defined name as either book gives it: openpyxl's ``attr_text`` or the stream reader's ``value``."""

    @property
    def destinations(self) -> Iterable[tuple[str, str]]: ...


def name_text(defined: object) -> str:
    """The formula text of a defined name (``'基本信息'!$B$5``), whichever book it comes from."""
    return str(getattr(defined, "value", None) or getattr(defined, "attr_text", None) or "")


def name_destinations(defined: DefinedName) -> list[tuple[str, str]]:
    """The (sheet, cell or range) pairs a defined name points at — the one place a name is resolved.

    Only well-formed ones: a name to ``#REF!`` (what Excel leaves when the row, column or sheet it
    pointed at is deleted), to another workbook (``[1]基本信息!$B$5``), to a formula or a constant, or
    one that openpyxl's tokenizer cannot parse gives none. Never raises; the reader says why."""
    text = name_text(defined)
    if "#REF!" in text.upper() or "[" in text:
        return []
    try:
        found = list(defined.destinations)
    except Exception:  # openpyxl's tokenizer on a formula it cannot parse
        return []
    return [
        (sheet, coord)
        for sheet, coord in found
        if isinstance(sheet, str) and isinstance(coord, str) and _REFERENCE.fullmatch(coord)
    ]
