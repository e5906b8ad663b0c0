"""What :func:`xlperf.workbook.reader.read_book` needs of a workbook, and that protocol over openpyxl.

Two books satisfy :class:`Book`: :class:`xlperf.ooxml.stream.StreamBook` (the package read with
zipfile + lxml, what ``xlperf run``/``check``/``batch`` use) and :class:`OpenpyxlBook`, an adapter
over an openpyxl ``Workbook`` (the Excel add-in's snapshot, the tests' second reader). Both give a
cell as its value, ``data_type`` (``f`` formula, ``e`` error, ``n``, ``s``, ``d``, ``b``), number
format and whether a merged range covers it, exactly as openpyxl gives them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

__all__ = [
    "Book",
    "Cell",
    "DefinedName",
    "OpenpyxlBook",
    "Sheet",
    "as_book",
    "bounds",
    "column_letter",
    "coordinate",
    "name_destinations",
    "name_text",
]


class Cell(Protocol):
    @property
    def value(self) -> Any: ...
    @property
    def data_type(self) -> str: ...
    @property
    def number_format(self) -> str: ...
    @property
    def merged(self) -> bool: ...


class Sheet(Protocol):
    @property
    def title(self) -> str: ...
    @property
    def tables(self) -> Mapping[str, str]: ...
    @property
    def max_row(self) -> int: ...
    def cell(self, row: int, column: int) -> Cell: ...
    def __getitem__(self, coord: str) -> Cell: ...


class DefinedName(Protocol):
    @property
    def destinations(self) -> Iterable[tuple[str, str]]: ...


#: a cell or a range of cells, as a defined name's destination may give it ($ optional)
_REFERENCE = re.compile(r"\$?[A-Za-z]{1,3}\$?\d{1,7}(?::\$?[A-Za-z]{1,3}\$?\d{1,7})?")


def name_text(defined: Any) -> str:
    """The formula text of a defined name (``'基本信息'!$B$5``), whichever book it comes from."""
    return str(getattr(defined, "value", None) or getattr(defined, "attr_text", None) or "")


def name_destinations(defined: Any) -> list[tuple[str, str]]:
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


class Book(Protocol):
    @property
    def sheetnames(self) -> list[str]: ...
    @property
    def worksheets(self) -> Sequence[Sheet]: ...
    @property
    def defined_names(self) -> Mapping[str, DefinedName]: ...
    def __getitem__(self, title: str) -> Sheet: ...
    def cached(self, title: str, coord: str) -> Any:
        """The cached result Excel saved for the formula cell ``title!coord`` (None when none)."""
        ...


_COORD = re.compile(r"([A-Za-z]{1,3})(\d+)")


def column_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def column_letter(col: int) -> str:
    letters = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def coordinate(coord: str) -> tuple[int, int]:
    """``B12`` → (row 12, column 2). Raises ValueError for anything else (as openpyxl does)."""
    m = _COORD.fullmatch(coord)
    if m is None or int(m.group(2)) == 0:
        raise ValueError(f"Invalid cell coordinates ({coord})")
    return int(m.group(2)), column_index(m.group(1))


def bounds(ref: str) -> tuple[int, int, int, int]:
    """``A4:R34`` → (min_col, min_row, max_col, max_row), a single cell as a one-cell range."""
    first, _, last = ref.replace("$", "").partition(":")
    r1, c1 = coordinate(first)
    r2, c2 = coordinate(last) if last else (r1, c1)
    return min(c1, c2), min(r1, r2), max(c1, c2), max(r1, r2)


class _OpenpyxlCell:
    __slots__ = ("_cell", "merged")

    def __init__(self, cell: Any, merged: bool) -> None:
        self._cell = cell
        self.merged = merged

    @property
    def value(self) -> Any:
        value = self._cell.value
        if self._cell.data_type == "f" and not isinstance(value, str):  # array / data-table formula objects
            return str(getattr(value, "text", None) or "=")
        return value

    @property
    def data_type(self) -> str:
        return str(self._cell.data_type)

    @property
    def number_format(self) -> str:
        return str(self._cell.number_format or "")


class _OpenpyxlSheet:
    def __init__(self, ws: Any) -> None:
        from openpyxl.cell.cell import MergedCell

        self._ws = ws
        self._merged_type = MergedCell
        self.title: str = ws.title

    @property
    def tables(self) -> dict[str, str]:
        return {name: str(ref) for name, ref in self._ws.tables.items()}

    @property
    def max_row(self) -> int:
        return int(self._ws.max_row)

    def _wrap(self, cell: Any) -> _OpenpyxlCell:
        return _OpenpyxlCell(cell, isinstance(cell, self._merged_type))

    def cell(self, row: int, column: int) -> _OpenpyxlCell:
        return self._wrap(self._ws.cell(row=row, column=column))

    def __getitem__(self, coord: str) -> _OpenpyxlCell:
        return self._wrap(self._ws[coord])


class OpenpyxlBook:
    """:class:`Book` over an openpyxl workbook; ``values_loader`` gives its ``data_only`` twin."""

    def __init__(self, wb: Any, values_loader: Callable[[], Any] | None = None) -> None:
        self._wb = wb
        self._values_loader = values_loader or (lambda: None)
        self._values: Any = None
        self._sheets = {ws.title: _OpenpyxlSheet(ws) for ws in wb.worksheets}

    @property
    def sheetnames(self) -> list[str]:
        return list(self._wb.sheetnames)

    @property
    def worksheets(self) -> list[_OpenpyxlSheet]:
        return list(self._sheets.values())

    @property
    def defined_names(self) -> Mapping[str, DefinedName]:
        return self._wb.defined_names

    def __getitem__(self, title: str) -> _OpenpyxlSheet:
        if title not in self._sheets:
            self._sheets[title] = _OpenpyxlSheet(self._wb[title])
        return self._sheets[title]

    def cached(self, title: str, coord: str) -> Any:
        if self._values is None:
            self._values = self._values_loader()
        return self._values[title][coord].value


def as_book(wb: Any, values_loader: Callable[[], Any] | None = None) -> Book:
    """A :class:`Book` as it is, an openpyxl workbook wrapped in :class:`OpenpyxlBook`."""
    if hasattr(wb, "cached") and hasattr(wb, "worksheets"):
        return wb
    return OpenpyxlBook(wb, values_loader)
