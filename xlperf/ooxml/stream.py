"""Read an .xlsx/.xlsm package with zipfile + lxml into a light, read-only :class:`StreamBook`.

What :func:`xlperf.workbook.reader.read_book` and the 报送 freeze need and nothing more: sheet titles
in order, defined names, tables, merged ranges, and per cell its value, type, number format, formula
text and the cached result Excel saved — in one pass over each sheet. Every value comes out as
openpyxl would give it (numbers as int/float, shared and inline strings with their rich-text runs
joined, ``_xHHHH_`` escapes decoded, dates by the number format and the workbook's 1900/1904
calendar, cells under a merged range empty and flagged, empty cells under a hyperlink holding its
target), so the reader gives the same Evaluation, findings and cell map as over openpyxl
(``tests/test_stream_reader.py`` checks this on every workbook the tests use).

Every worksheet is parsed (a malformed part is refused at once, naming it) but cells are kept only
for the sheets a defined name or a table points at; another sheet's cells are read when first asked
for. Elements are cleared as they are read. The XML parser is :mod:`xlperf.ooxml.parser`'s (no
entities, no DTD, no network). Anything malformed raises :class:`WorkbookReadError` with a Chinese
message naming the part.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import weakref
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeAlias

from openpyxl.formula.translate import Translator
from openpyxl.utils.datetime import from_ISO8601

from xlperf.ooxml.checks import read_input, vet_package
from xlperf.ooxml.constants import BUILTIN_FORMATS, CONTENT_TYPES_PART, CT, ERROR_CODES, RT, R
from xlperf.ooxml.errors import WorkbookReadError
from xlperf.ooxml.limits import Limits
from xlperf.ooxml.package import Parts, Rel, overrides, rels_part, resolve, workbook_part
from xlperf.ooxml.parser import Element, iterparse, parse, q
from xlperf.ooxml.refs import bounds, cell_name, coordinate, destinations, name_destinations

#: a cell's value as openpyxl gives it, and this reader alike: text (a formula as its ``=…`` text),
#: a number, TRUE/FALSE, a date, time or duration, or empty
CellValue: TypeAlias = str | int | float | bool | dt.datetime | dt.date | dt.time | dt.timedelta | None

__all__ = [
    "StreamBook",
    "StreamCell",
    "StreamName",
    "StreamSheet",
    "is_date_format",
    "open_stream",
    "read_package",
    "unescape_ooxml",
]

_LITERALS = re.compile(r'".*?"|\[(?!hh?\]|mm?\]|ss?\])[^\]]*\]')  # quoted text and [Red]/[$-804] sections
_DATE_CODE = re.compile(r"(?<![_\\])[dmhysDMHYS]")
_TIMEDELTA = re.compile(r"\[hh?\](:mm(:ss(\.0*)?)?)?|\[mm?\](:ss(\.0*)?)?|\[ss?\](\.0*)?", re.I)
WINDOWS_EPOCH = dt.datetime(1899, 12, 30)
MAC_EPOCH = dt.datetime(1904, 1, 1)


_T = q("t")
#: a worksheet part up to this size is parsed whole, a larger one streamed (its tree would be ~10× it)
WHOLE_PART = 4 << 20


def is_date_format(fmt: str | None) -> bool:
    """Whether a number format shows a date or time (openpyxl's rule: its first section, literals
    and colour/locale brackets ignored, has an unescaped d m h y s)."""
    if fmt is None:
        return False
    first = _LITERALS.sub("", fmt.split(";")[0])
    return _DATE_CODE.search(first) is not None


def is_timedelta_format(fmt: str | None) -> bool:
    return fmt is not None and _TIMEDELTA.search(fmt.split(";")[0]) is not None


def from_excel(
    value: float, epoch: dt.datetime, timedelta: bool = False
) -> dt.datetime | dt.time | dt.timedelta:
    """An Excel serial as openpyxl gives it: datetime, time (a fraction of a day) or timedelta."""
    if timedelta:
        td = dt.timedelta(days=value)
        if td.microseconds:
            td = dt.timedelta(seconds=td.total_seconds() // 1, microseconds=round(td.microseconds, -3))
        return td
    day, fraction = divmod(value, 1)
    diff = dt.timedelta(milliseconds=round(fraction * 86400 * 1000))
    if 0 <= value < 1 and diff.days == 0:
        mins, seconds = divmod(diff.seconds, 60)
        hours, mins = divmod(mins, 60)
        return dt.time(hours, mins, seconds, diff.microseconds)
    if 0 < value < 60 and epoch == WINDOWS_EPOCH:
        day += 1
    return epoch + dt.timedelta(days=day) + diff


def _number(text: str) -> int | float:
    return float(text) if ("." in text or "E" in text or "e" in text) else int(text)


class _Shared:
    """A shared formula's dependent cell, translated from its master only when read (rare)."""

    __slots__ = ("coord", "master", "origin")

    def __init__(self, master: str, origin: str, coord: str) -> None:
        self.master, self.origin, self.coord = master, origin, coord

    def text(self) -> str:
        return str(Translator(self.master, self.origin).translate_formula(self.coord))


class StreamCell:
    """One cell as the reader sees it (read-only)."""

    __slots__ = ("_value", "data_type", "merged", "number_format")

    def __init__(
        self, value: CellValue | _Shared, data_type: str, number_format: str, merged: bool = False
    ) -> None:
        self._value, self.data_type, self.number_format, self.merged = value, data_type, number_format, merged

    @property
    def value(self) -> CellValue:
        if isinstance(self._value, _Shared):
            self._value = self._value.text()
        return self._value


#: a stored cell: value (a shared formula's dependent translated when read), data type, style index
_Entry: TypeAlias = "tuple[CellValue | _Shared, str, int | None]"
_EMPTY: _Entry = (None, "n", None)


class StreamSheet:
    """A worksheet: its cells (value, type, style index), cached results, tables and merged ranges."""

    def __init__(self, book: StreamBook, title: str) -> None:
        # a weak reference: no book ↔ sheet cycle, so a book and its cells go as soon as the last
        # reference to the book does (not at the garbage collector's next full pass)
        self._book = weakref.proxy(book)
        self.title = title
        self.tables: dict[str, str] = {}
        self.merged_ranges: list[str] = []
        self.defined_names: dict[str, StreamName] = {}  # local names (localSheetId)
        self._cells: dict[tuple[int, int], _Entry] = {}
        self._cached: dict[tuple[int, int], CellValue] = {}
        self._merged: set[tuple[int, int]] = set()
        self._data_tables: set[tuple[int, int]] = set()
        self._max_row = 0
        self.loaded = False

    @property
    def max_row(self) -> int:
        """The last row that holds a cell (openpyxl's ``max_row``, cells read so far included)."""
        return max(self._max_row, 1)

    def cell(self, row: int, column: int) -> StreamCell:
        if not self.loaded:
            self._book._ensure(self)
        if row > self._max_row:
            self._max_row = row  # openpyxl creates the cell it is asked for
        key = (row, column)
        if key in self._merged:
            return StreamCell(None, "n", "General", True)
        value, data_type, style = self._cells.get(key, _EMPTY)
        formats = self._book._names
        return StreamCell(
            value, data_type, formats[style] if style is not None and style < len(formats) else "General"
        )

    def __getitem__(self, coord: str) -> StreamCell:
        row, column = coordinate(coord)
        return self.cell(row, column)

    def entry(self, row: int, column: int) -> tuple[CellValue, str] | None:
        """The cell's value and data type, None when it does not exist (nothing is created)."""
        self._book._ensure(self)
        found = self._cells.get((row, column))
        if found is None:
            return None
        value = found[0]
        return (value.text() if isinstance(value, _Shared) else value), found[1]

    def cells(self) -> Iterator[tuple[int, int, StreamCell]]:
        """(row, column, cell) of every cell that exists, in reading order (row by row). The work is
        bounded by what is really in the sheet, not by its used rectangle."""
        self._book._ensure(self)
        for row, column in sorted(self._cells):
            yield row, column, self.cell(row, column)

    def is_data_table(self, row: int, column: int) -> bool:
        """Whether the cell is part of a data table (模拟运算表): its formula reads ``=``."""
        self._book._ensure(self)
        return (row, column) in self._data_tables

    def cached(self, coord: str) -> CellValue:
        """The cached result Excel saved for a formula cell (the value of any other cell)."""
        self._book._ensure(self)
        key = coordinate(coord)
        if key in self._merged:
            return None
        if key in self._cached:
            return self._cached[key]
        value = self._cells.get(key, _EMPTY)[0]
        return value.text() if isinstance(value, _Shared) else value


class StreamName:
    """A defined name: its formula text and the (sheet, cells) it points at, as openpyxl finds them."""

    __slots__ = ("local_sheet", "name", "value")

    def __init__(self, name: str, value: str, local_sheet: int | None) -> None:
        self.name, self.value, self.local_sheet = name, value, local_sheet

    @property
    def destinations(self) -> list[tuple[str, str]]:
        return destinations(self.name, self.value)


class StreamBook:
    """The light read-only book :func:`open_stream` returns (satisfies :class:`xlperf.workbook.book.Book`)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sheetnames: list[str] = []
        self.defined_names: dict[str, StreamName] = {}
        self.date1904 = False
        self._sheets: dict[str, StreamSheet] = {}
        self._parts: dict[str, str] = {}  # sheet title → part name
        self._rels: dict[str, dict[str, Rel]] = {}  # sheet title → its relationships by id
        self._formats: list[int] = []
        self._custom: dict[int, str] = {}
        self._dates: set[int] = set()
        self._timedeltas: set[int] = set()
        self._strings: list[str] = []
        self._zip: Parts | None = None  # the package's parts, shared with the writer

    # -- the Book protocol -------------------------------------------------------------------
    @property
    def worksheets(self) -> list[StreamSheet]:
        return [s for s in (self._sheets.get(t) for t in self.sheetnames) if s is not None]

    def __getitem__(self, title: str) -> StreamSheet:
        if title not in self._sheets:
            raise KeyError(f"Worksheet {title} does not exist.")
        return self._sheets[title]

    def __contains__(self, title: str) -> bool:
        return title in self._sheets

    def cached(self, title: str, coord: str) -> CellValue:
        return self[title].cached(coord)

    @property
    def package(self) -> Parts | None:
        """The package's parts as read (decompressed once; the writer copies them)."""
        return self._zip

    # -- styles ------------------------------------------------------------------------------
    def _format(self, style: int | None) -> str:
        if style is None or style >= len(self._formats):
            return "General"
        fid = self._formats[style]
        if fid in self._custom:
            return self._custom[fid]
        return BUILTIN_FORMATS.get(fid, "General")

    @functools.cached_property
    def _names(self) -> list[str]:
        """The number format of each cell format index (read once, after the styles)."""
        return [self._format(i) for i in range(len(self._formats))]

    def _ensure(self, sheet: StreamSheet) -> None:
        if not sheet.loaded:
            _load_sheet(self, sheet, keep=True)


def read_package(path: Path, limits: Limits) -> tuple[bytes, StreamBook]:
    """Read the file once, check it (:mod:`xlperf.ooxml.checks`), and stream it: its bytes and its
    book (whose ``package`` is the parts the checks decompressed, for the writer)."""
    data = read_input(path, limits)
    return data, open_stream(vet_package(data, path, limits))


_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unescape_ooxml(text: str) -> str:
    """Excel's ``_xHHHH_`` escapes as the characters they stand for (``_x000D_`` is the carriage
    return of a pasted line break; ``_x005F_`` escapes a literal underscore), line breaks as ``\n``.

    An escape of a character XML cannot hold (other control characters) stays as written.
    """
    if "_x" not in text:
        return text

    def one(m: re.Match[str]) -> str:
        code = int(m.group(1), 16)
        if code in (0x09, 0x0A, 0x0D) or 0x20 <= code < 0xD800 or 0xE000 <= code < 0xFFFE:
            return chr(code)
        return m.group(0)

    return _ESCAPE.sub(one, text).replace("\r\n", "\n").replace("\r", "\n")


# ------------------------------------------------------------------------------------ the workbook

_NOT_READ_NAMES = ("_xlnm.Print_Titles", "_xlnm.Print_Area", "_xlnm._FilterDatabase")


def _redo(name: str, what: str) -> WorkbookReadError:
    return WorkbookReadError(f"{name} {what}；请在 Excel 或 WPS 中打开后另存为 .xlsx 再试")


def open_stream(data: bytes | Parts, name: str = "") -> StreamBook:
    """Read the package in ``data`` (its bytes, or its parts as :func:`~xlperf.ooxml.checks.vet_package`
    checked them).

    Raises :class:`WorkbookReadError` naming the part that cannot be read.
    """
    name = name or (data.name if isinstance(data, Parts) else "")
    book = StreamBook(name)
    part = CONTENT_TYPES_PART
    try:
        parts = data if isinstance(data, Parts) else Parts(data, name)
        book._zip = parts
        types = parts.tree(part)
        wb_part = workbook_part(types)
        if wb_part is None:
            raise _redo(name, "的 [Content_Types].xml 中没有工作簿部件")
        part = "xl/styles.xml"
        if part in parts:
            _read_styles(book, parts.tree(part))
        part = next((p for p, t in overrides(types) if t == CT.SHARED_STRINGS), "")
        if part and part in parts:
            _read_strings(book, parts, part)
        part = rels_part(wb_part)
        rels = {r.id: r for r in parts.rels(wb_part)}
        part = wb_part
        _read_workbook(book, parts, wb_part, rels)
        wanted = _wanted_sheets(book)
        for title, sheet in book._sheets.items():
            part = book._parts[title]
            rels = book._rels[title] = {r.id: r for r in parts.rels(part)}
            has_table = any(r.is_a(RT.TABLE) for r in rels.values())
            _load_sheet(book, sheet, keep=title in wanted or has_table)
    except WorkbookReadError:
        raise
    except KeyError as exc:
        raise _redo(name, f"缺少部件 {exc.args[0] if exc.args else part}（文件不完整）") from exc
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise WorkbookReadError(
            f"{name} 已损坏（{part}：{exc}）；请重新获取该文件或在 Excel 中另存一份"
        ) from exc
    except Exception as exc:  # lxml's XMLSyntaxError, ValueError for bad numbers and indices, …
        raise _redo(name, f"的 {part} 内容无法解析（{type(exc).__name__}: {str(exc)[:120]}）") from exc
    return book


def _read_strings(book: StreamBook, parts: Parts, part: str) -> None:
    with parts.open_xml(part) as fh:
        for _, si in iterparse(fh, ("end",), q("si")):
            book._strings.append(unescape_ooxml(_text(si).replace("x005F_", "")))
            si.clear()


def _read_workbook(book: StreamBook, parts: Parts, wb_part: str, rels: dict[str, Rel]) -> None:
    """Calendar, defined names and sheets (in order) of the workbook part."""
    root = parts.tree(wb_part)
    pr = root.find(q("workbookPr"))
    book.date1904 = pr is not None and pr.get("date1904", "").lower() in ("1", "true")
    local: list[StreamName] = []
    for dn in root.iterfind(f"{q('definedNames')}/{q('definedName')}"):
        n = dn.get("name", "")
        sid = dn.get("localSheetId")
        item = StreamName(n, dn.text or "", int(sid) if sid is not None else None)
        if item.local_sheet is not None:
            local.append(item)
        elif n not in _NOT_READ_NAMES:
            book.defined_names[n] = item
    order: list[str] = []  # every sheet, chart sheets too (localSheetId counts them)
    for sheet in root.iterfind(f"{q('sheets')}/{q('sheet')}"):
        rid = sheet.get(q("id", R))
        if not rid:
            continue
        title = sheet.get("name", "")
        if rid not in rels:
            raise _redo(book.name, f"的 {wb_part} 中工作表“{title}”的关系 {rid} 不存在")
        rel = rels[rid]
        target = resolve(wb_part, rel.target)
        if target not in parts:
            continue
        book.sheetnames.append(title)
        order.append(title)
        if "chartsheet" in rel.type:
            continue
        book._sheets[title] = StreamSheet(book, title)
        book._parts[title] = target
    for item in local:
        if (
            item.local_sheet is not None
            and item.local_sheet < len(order)
            and order[item.local_sheet] in book._sheets
        ):
            book._sheets[order[item.local_sheet]].defined_names[item.name] = item


def _wanted_sheets(book: StreamBook) -> set[str]:
    """The sheets whose cells the reader may read: those a defined name points at."""
    wanted: set[str] = set()
    for item in book.defined_names.values():
        wanted.update(
            sheet for sheet, _ in name_destinations(item)
        )  # a malformed name: the reader reports it
    return wanted


def _read_styles(book: StreamBook, root: Element) -> None:
    for nf in root.iterfind(f"{q('numFmts')}/{q('numFmt')}"):
        book._custom[int(nf.get("numFmtId", "0"))] = nf.get("formatCode", "")
    xfs = root.find(q("cellXfs"))
    if xfs is None:
        return
    for idx, xf in enumerate(xfs.iterfind(q("xf"))):
        fid = int(xf.get("numFmtId", "0"))
        book._formats.append(fid)
        fmt = book._custom.get(fid, BUILTIN_FORMATS.get(fid))
        if is_date_format(fmt):
            book._dates.add(idx)
        if is_timedelta_format(fmt):
            book._timedeltas.add(idx)


def _text(node: Element) -> str:
    """A string item (``<si>`` or ``<is>``): its plain text and its rich-text runs, joined."""
    if len(node) == 1 and node[0].tag == _T:  # the usual case: one <t>, no runs
        return node[0].text or ""
    plain = node.find(_T)
    text = plain.text if plain is not None else None  # .text decodes anew on each access: once
    runs = node.findall(q("r"))
    if not runs:
        return text or ""
    pieces = [text] if text is not None else []
    for run in runs:
        t = run.find(_T)
        piece = t.text if t is not None else None
        if piece is not None:
            pieces.append(piece)
    return "".join(pieces)


# --------------------------------------------------------------------------------------- a sheet


def _load_sheet(book: StreamBook, sheet: StreamSheet, *, keep: bool) -> None:
    """Stream one worksheet part; keep its cells when ``keep`` (else only check it parses)."""
    assert book._zip is not None
    part = book._parts[sheet.title]
    try:
        found = _SheetReader(book, sheet, keep).read(book._zip, part)
        if keep:
            _settle(book, sheet, found)
    except WorkbookReadError:
        raise
    except KeyError as exc:
        what = exc.args[0] if exc.args else part
        raise _redo(book.name, f"缺少部件 {what}（“{sheet.title}”表引用的部件）") from exc
    except Exception as exc:
        raise _redo(
            book.name,
            f"的“{sheet.title}”表（{part}）内容无法解析（{type(exc).__name__}: {str(exc)[:120]}）",
        ) from exc
    sheet.loaded = keep


_ROW, _CELL, _VALUE, _FORMULA, _INLINE = q("row"), q("c"), q("v"), q("f"), q("is")
_MERGE, _LINK, _TABLE = q("mergeCell"), q("hyperlink"), q("tablePart")
_SHEET_TAGS = (_ROW, _MERGE, _LINK, _TABLE)


class _Found:
    """What one pass over a worksheet part found."""

    __slots__ = ("cached", "cells", "data_tables", "links", "merges", "tables")

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], _Entry] = {}
        self.cached: dict[tuple[int, int], CellValue] = {}
        self.data_tables: set[tuple[int, int]] = set()
        self.merges: list[str] = []
        self.links: list[tuple[str, str | None]] = []
        self.tables: list[str] = []  # relationship ids of the table parts


class _SheetReader:
    """One pass over a worksheet part: rows and their cells (when kept), merged ranges, hyperlinks
    and table parts, in document order.

    One parser element per row (its cells are read as its children), not per cell: the parser's
    events cost more than the cells' own reading. A part of up to :data:`WHOLE_PART` bytes is parsed
    whole (faster, and no parser object left in a reference cycle); a larger one is streamed, each
    row cleared once read.
    """

    def __init__(self, book: StreamBook, sheet: StreamSheet, keep: bool) -> None:
        self.book, self.sheet, self.keep = book, sheet, keep
        self.epoch = MAC_EPOCH if book.date1904 else WINDOWS_EPOCH
        self.rels: dict[str, Rel] = book._rels.get(sheet.title, {})
        self.found = _Found()
        self.shared: dict[str, tuple[str, str]] = {}  # shared formula id → (master text, its cell)

    def read(self, parts: Parts, part: str) -> _Found:
        streamed = parts.infos[part].file_size > WHOLE_PART
        row_no = 0
        with parts.open_xml(part) as fh:
            elements: Iterable[Element]
            if streamed:
                elements = (el for _, el in iterparse(fh, ("end",), _SHEET_TAGS))
            else:
                elements = parse(fh.read()).iter(*_SHEET_TAGS)
            for el in elements:
                tag = el.tag
                if tag == _ROW:
                    r = el.get("r")
                    row_no = (int(r) if r.isdigit() else int(float(r))) if r else row_no + 1
                    if self.keep:
                        self.row(el, row_no)
                    if streamed:
                        _drop(el)
                elif tag == _MERGE:
                    if el.get("ref"):
                        self.found.merges.append(el.get("ref", ""))
                elif tag == _LINK:
                    self.found.links.append(self.link(el))
                elif tag == _TABLE:
                    self.found.tables.append(el.get(q("id", R), ""))
        return self.found

    def row(self, el: Element, row_no: int) -> None:
        """The cells of one ``<row>``: a cell without a reference follows the one before it."""
        col_no = 0
        for c in el:
            if c.tag != _CELL:
                continue
            ref = c.get("r")
            row, col = coordinate(ref) if ref else (row_no, col_no + 1)  # a bad one raises, as openpyxl does
            col_no = col
            self.cell(c, ref or cell_name(row, col), (row, col))

    def cell(self, c: Element, ref: str, key: tuple[int, int]) -> None:
        t = c.get("t", "n")
        st = c.get("s")
        style = int(st) if st else 0
        v: str | None = None
        f = inline = None
        for child in c:
            ctag = child.tag
            if ctag == _VALUE:
                v = child.text
            elif ctag == _FORMULA:
                f = child
            elif ctag == _INLINE:
                inline = child
        if t == "inlineStr" or not v:
            v = None
        found = self.found
        if f is not None:
            found.cached[key] = self.cast(t, v, c, style)[0]
            found.cells[key] = (self.formula(f, ref, key), "f", style)
        elif v is None and t != "inlineStr":
            found.cells[key] = (None, t, style)
        elif t == "s":
            found.cells[key] = (self.book._strings[int(v)], t, style)  # type: ignore[arg-type]
        elif t == "n" and style not in self.book._dates:
            found.cells[key] = (_number(v), t, style)  # type: ignore[arg-type]
        elif inline is not None:  # an inline string: mostly one <t>, no runs
            only = inline[0] if len(inline) == 1 else None
            text = (only.text or "") if only is not None and only.tag == _T else _text(inline)
            found.cells[key] = (unescape_ooxml(text), "s", style)
        elif t == "inlineStr":  # <c t="inlineStr"></c>: an empty text, as cast gives it
            found.cells[key] = (None, t, style)
        else:
            value, data_type = self.cast(t, v, c, style)
            found.cells[key] = (value, data_type, style)

    def cast(self, t: str, v: str | None, el: Element, style: int | None) -> tuple[CellValue, str]:
        """A value as openpyxl gives it, with its data type."""
        if t == "inlineStr":
            node = el.find(_INLINE)
            return (unescape_ooxml(_text(node)), "s") if node is not None else (None, t)
        if v is None:
            return None, t
        if t == "n":
            number = _number(v)
            if style in self.book._dates:
                try:
                    return from_excel(number, self.epoch, timedelta=style in self.book._timedeltas), "d"
                except (OverflowError, ValueError):
                    return "#VALUE!", "e"
            return number, t
        if t == "s":
            return self.book._strings[int(v)], t
        if t == "b":
            return bool(int(v)), t
        if t == "str":
            return unescape_ooxml(v), "s"
        if t == "d":
            return from_ISO8601(v), t
        return v, t

    def formula(self, f: Element, coord: str, key: tuple[int, int]) -> str | _Shared:
        """A formula cell's value as openpyxl gives it: ``=text``; a shared formula's dependent
        translated from its master; an array formula as its text; a data table as ``=`` (and noted)."""
        text = "=" + (f.text or "")
        shape = f.get("t")  # normal, shared, array or dataTable
        if shape == "shared":
            si = f.get("si")
            if si in self.shared:
                master, origin = self.shared[si]
                return _Shared(master, origin, coord)
            if text != "=" and si is not None:
                self.shared[si] = (text, coord)
        elif shape == "dataTable":
            self.found.data_tables.add(key)
            return "="
        return text

    def link(self, el: Element) -> tuple[str, str | None]:
        """A hyperlink's range and its target (the URL of its relationship, or its location)."""
        rid = el.get(q("id", R))
        if rid and rid not in self.rels:
            raise _redo(
                self.book.name, f"的“{self.sheet.title}”表中超链接 {el.get('ref')} 的关系 {rid} 不存在"
            )
        target = None
        if rid:
            rel = self.rels[rid]
            target = rel.target if rel.external else resolve(self.book._parts[self.sheet.title], rel.target)
        return el.get("ref", ""), target or el.get("location")


def _drop(el: Element) -> None:
    """Free a streamed row and the rows before it."""
    el.clear()
    parent = el.getparent()
    while el.getprevious() is not None and parent is not None:
        del parent[0]


def _settle(book: StreamBook, sheet: StreamSheet, found: _Found) -> None:
    """Keep what a pass found: cells under a merged range emptied, hyperlinks' targets, tables."""
    cells, cached = found.cells, found.cached
    sheet._cells, sheet._cached, sheet._data_tables = cells, cached, found.data_tables
    sheet._max_row = max((r for r, _ in cells), default=0)
    for ref in found.merges:
        c1, r1, c2, r2 = bounds(ref)
        sheet.merged_ranges.append(ref)
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                if (r, c) != (r1, c1):
                    sheet._merged.add((r, c))
                    cells.pop((r, c), None)
                    cached.pop((r, c), None)
        sheet._max_row = max(sheet._max_row, r2)
    for ref, target in found.links:
        _link(sheet, ref, target)
    assert book._zip is not None
    rels = book._rels.get(sheet.title, {})
    for rid in found.tables:
        root = book._zip.tree(resolve(book._parts[sheet.title], rels[rid].target))
        sheet.tables[root.get("name", "")] = root.get("ref", "")


def _link(sheet: StreamSheet, ref: str, target: str | None) -> None:
    """openpyxl gives an empty cell under a hyperlink the link's target as its value."""
    if ":" in ref:
        c1, r1, c2, r2 = bounds(ref)
        keys = [(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1) if (r, c) not in sheet._merged]
    else:
        key = coordinate(ref)
        if key in sheet._merged:  # the link belongs to the merged range's top-left cell
            for mref in sheet.merged_ranges:
                c1, r1, c2, r2 = bounds(mref)
                if r1 <= key[0] <= r2 and c1 <= key[1] <= c2:
                    key = (r1, c1)
                    break
        keys = [key]
    for key in keys:
        sheet._max_row = max(sheet._max_row, key[0])
        value, _, style = sheet._cells.setdefault(key, (None, "n", None))  # the cell exists now
        if not target:
            continue
        if value is None:
            data_type = (
                "f" if len(target) > 1 and target.startswith("=") else "e" if target in ERROR_CODES else "s"
            )
            sheet._cells[key] = (unescape_ooxml(target) if data_type == "s" else target, data_type, style)
        elif key in sheet._cached and sheet._cached[key] is None:  # the data-only view of a formula cell
            sheet._cached[key] = unescape_ooxml(target)
