"""What :func:`xlperf.workbook.reader.read_book` needs of a workbook (:class:`Book`), and that
protocol over openpyxl.

Two books satisfy :class:`Book`: :class:`xlperf.ooxml.stream.StreamBook` (the package read with
zipfile + lxml, what ``xlperf run``/``check``/``batch`` use) and :class:`OpenpyxlBook`, an adapter
over an openpyxl ``Workbook`` (the Excel add-in's snapshot, the tests' second reader). Both give a
cell as its value, ``data_type`` (``f`` formula, ``e`` error, ``n``, ``s``, ``d``, ``b``), number
format and whether a merged range covers it, exactly as openpyxl gives them.

:func:`open_workbook` / :func:`load_openpyxl` open a file with openpyxl after the same pre-open
checks: the second reader the tests compare the stream reader with; xlperf itself reads with
:mod:`xlperf.ooxml.stream` (openpyxl builds only the blank template, :mod:`xlperf.workbook.template`).
"""

from __future__ import annotations

import io
import warnings
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeAlias

from openpyxl.cell.cell import Cell as OpenpyxlCell
from openpyxl.cell.cell import MergedCell
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from xlperf.ooxml.checks import check_file
from xlperf.ooxml.errors import WorkbookReadError
from xlperf.ooxml.limits import Limits
from xlperf.ooxml.refs import DefinedName
from xlperf.ooxml.stream import CellValue, StreamBook, unescape_ooxml

__all__ = [
    "Book",
    "BookLike",
    "Cell",
    "CellValue",
    "OpenpyxlBook",
    "Sheet",
    "as_book",
    "load_openpyxl",
    "open_workbook",
]


class Cell(Protocol):
    @property
    def value(self) -> CellValue: ...
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


class Book(Protocol):
    @property
    def sheetnames(self) -> list[str]: ...
    @property
    def worksheets(self) -> Sequence[Sheet]: ...
    @property
    def defined_names(self) -> Mapping[str, DefinedName]: ...
    def __getitem__(self, title: str) -> Sheet: ...
    def cached(self, title: str, coord: str) -> CellValue:
        """The cached result Excel saved for the formula cell ``title!coord`` (None when none)."""
        ...


class _OpenpyxlCell:
    __slots__ = ("_cell", "merged")

    def __init__(self, cell: OpenpyxlCell | MergedCell, merged: bool) -> None:
        self._cell = cell
        self.merged = merged

    @property
    def value(self) -> CellValue:
        value: CellValue = self._cell.value
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
    def __init__(self, ws: Worksheet) -> None:
        self._ws = ws
        self.title: str = ws.title

    @property
    def tables(self) -> dict[str, str]:
        return {name: str(ref) for name, ref in self._ws.tables.items()}

    @property
    def max_row(self) -> int:
        return int(self._ws.max_row)

    def _wrap(self, cell: OpenpyxlCell | MergedCell) -> _OpenpyxlCell:
        return _OpenpyxlCell(cell, isinstance(cell, MergedCell))

    def cell(self, row: int, column: int) -> _OpenpyxlCell:
        return self._wrap(self._ws.cell(row=row, column=column))

    def __getitem__(self, coord: str) -> _OpenpyxlCell:
        return self._wrap(self._ws[coord])


class OpenpyxlBook:
    """:class:`Book` over an openpyxl workbook; ``values_loader`` gives its ``data_only`` twin."""

    def __init__(self, wb: Workbook, values_loader: Callable[[], Workbook | None] | None = None) -> None:
        self._wb = wb
        self._values_loader = values_loader or (lambda: None)
        self._values: Workbook | None = None
        self._sheets = {ws.title: _OpenpyxlSheet(ws) for ws in wb.worksheets}

    @property
    def sheetnames(self) -> list[str]:
        return list(self._wb.sheetnames)

    @property
    def worksheets(self) -> list[_OpenpyxlSheet]:
        return list(self._sheets.values())

    @property
    def defined_names(self) -> Mapping[str, DefinedName]:
        names: Mapping[str, DefinedName] = self._wb.defined_names
        return names

    def __getitem__(self, title: str) -> _OpenpyxlSheet:
        if title not in self._sheets:
            self._sheets[title] = _OpenpyxlSheet(self._wb[title])
        return self._sheets[title]

    def cached(self, title: str, coord: str) -> CellValue:
        if self._values is None:
            self._values = self._values_loader()
        if self._values is None:
            return None  # no data_only twin: no cached values
        value: CellValue = self._values[title][coord].value
        return value


#: what :func:`as_book` and the reader take: a :class:`Book`, or an openpyxl workbook to wrap
BookLike: TypeAlias = "Book | Workbook"


def as_book(wb: BookLike, values_loader: Callable[[], Workbook | None] | None = None) -> Book:
    """A :class:`Book` as it is, an openpyxl workbook wrapped in :class:`OpenpyxlBook`."""
    if isinstance(wb, Workbook):
        return OpenpyxlBook(wb, values_loader)
    return wb


if TYPE_CHECKING:  # the stream reader's book is a Book (checked by mypy, structurally)
    _stream_book_is_a_book: type[Book] = StreamBook


def open_workbook(path: Path, limits: Limits) -> tuple[Workbook, Callable[[], Workbook]]:
    """Check then open with openpyxl; return the workbook and a loader of its cached values."""
    check_file(path, limits)
    wb = load_openpyxl(path, path.name)
    return wb, lambda: load_openpyxl(path, path.name, data_only=True)


def load_openpyxl(source: Path | bytes, name: str, *, data_only: bool = False) -> Workbook:
    """An openpyxl Workbook of a checked file or its bytes, ``_xHHHH_`` escapes decoded.

    Raises :class:`WorkbookReadError` (naming the file) for whatever openpyxl cannot parse.
    """
    import openpyxl

    if not openpyxl.DEFUSEDXML:  # pragma: no cover - defusedxml is a declared dependency
        raise WorkbookReadError("缺少 defusedxml，出于安全原因拒绝解析工作簿；请重新安装 xlperf")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(
                io.BytesIO(source) if isinstance(source, bytes) else source,
                data_only=data_only,
                rich_text=False,
            )
        unescape_texts(book)
        return book
    except WorkbookReadError:
        raise
    except Exception as exc:  # openpyxl raises many kinds for malformed parts
        reason = type(exc).__name__
        if isinstance(exc, zipfile.BadZipFile):
            raise WorkbookReadError(f"{name} 已损坏（{exc}）；请重新获取该文件或在 Excel 中另存一份") from exc
        if _defused(exc):
            raise WorkbookReadError(f"{name} 含有 XML 实体定义（可能是恶意构造的文件），已拒绝打开") from exc
        raise WorkbookReadError(
            f"{name} 的内容无法解析（{reason}: {str(exc)[:120]}）；请在 Excel 或 WPS "
            "中打开后另存为 .xlsx 再试"
        ) from exc


def unescape_texts(wb: Workbook) -> None:
    """Apply :func:`unescape_ooxml` to every text cell that exists (openpyxl leaves the escapes in)."""
    for ws in wb.worksheets:
        for cell in getattr(ws, "_cells", {}).values():
            value = cell.value
            if cell.data_type in ("s", "inlineStr") and isinstance(value, str) and "_x" in value:
                cell._value = unescape_ooxml(value)  # not .value: a text starting with "=" stays text


def _defused(exc: BaseException) -> bool:
    """Whether defusedxml refused a part (openpyxl wraps its exceptions in ValueError)."""
    from defusedxml import DefusedXmlException

    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, DefusedXmlException):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
