"""Read an .xlsx/.xlsm package with zipfile + lxml into a light, read-only :class:`StreamBook`.

What :func:`xlperf.workbook.reader.read_book` needs and nothing more: sheet titles in order, defined
names, tables, merged ranges, and per cell its value, type, number format, formula flag and the
cached result Excel saved — in one pass over each sheet, so no second ``data_only`` load. Every
value comes out as openpyxl would give it (numbers as int/float, shared and inline strings with
their rich-text runs joined, ``_xHHHH_`` escapes decoded, dates by the number format and the
workbook's 1900/1904 calendar, cells under a merged range empty and flagged, empty cells under a
hyperlink holding its target), so the reader gives the same Evaluation, findings and cell map as
over openpyxl (``tests/test_stream_reader.py`` checks this on every workbook the tests use).

Every worksheet is parsed (a malformed part is refused at once, naming it) but cells are kept only
for the sheets a defined name or a table points at; elements are cleared as they are read. The XML
parser resolves no entities, loads no DTD and reaches no network (``check_file`` has already
refused any part that declares a DTD). Anything malformed raises :class:`WorkbookReadError` with a
Chinese message naming the part.
"""

from __future__ import annotations

import datetime as dt
import functools
import posixpath
import re
import weakref
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from xlperf.ooxml.checks import (
    Limits,
    Parts,
    WorkbookReadError,
    read_input,
    unescape_ooxml,
    vet_package,
)
from xlperf.workbook.book import bounds, column_index, coordinate, name_destinations

__all__ = ["StreamBook", "StreamCell", "StreamSheet", "is_date_format", "open_stream", "read_package"]

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
WORKBOOK_TYPES = (  # in the order openpyxl looks for them
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
)
SHARED_STRINGS = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
TABLE_REL = "/table"
#: ECMA-376 Part 1, 18.8.30: the built-in number formats (the ids openpyxl knows)
BUILTIN_FORMATS = {
    0: "General",
    1: "0",
    2: "0.00",
    3: "#,##0",
    4: "#,##0.00",
    5: '"$"#,##0_);("$"#,##0)',
    6: '"$"#,##0_);[Red]("$"#,##0)',
    7: '"$"#,##0.00_);("$"#,##0.00)',
    8: '"$"#,##0.00_);[Red]("$"#,##0.00)',
    9: "0%",
    10: "0.00%",
    11: "0.00E+00",
    12: "# ?/?",
    13: "# ??/??",
    14: "mm-dd-yy",
    15: "d-mmm-yy",
    16: "d-mmm",
    17: "mmm-yy",
    18: "h:mm AM/PM",
    19: "h:mm:ss AM/PM",
    20: "h:mm",
    21: "h:mm:ss",
    22: "m/d/yy h:mm",
    37: "#,##0_);(#,##0)",
    38: "#,##0_);[Red](#,##0)",
    39: "#,##0.00_);(#,##0.00)",
    40: "#,##0.00_);[Red](#,##0.00)",
    41: r'_(* #,##0_);_(* \(#,##0\);_(* "-"_);_(@_)',
    42: r'_("$"* #,##0_);_("$"* \(#,##0\);_("$"* "-"_);_(@_)',
    43: r'_(* #,##0.00_);_(* \(#,##0.00\);_(* "-"??_);_(@_)',
    44: r'_("$"* #,##0.00_)_("$"* \(#,##0.00\)_("$"* "-"??_)_(@_)',
    45: "mm:ss",
    46: "[h]:mm:ss",
    47: "mmss.0",
    48: "##0.0E+0",
    49: "@",
}
ERROR_CODES = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A")
_LITERALS = re.compile(r'".*?"|\[(?!hh?\]|mm?\]|ss?\])[^\]]*\]')  # quoted text and [Red]/[$-804] sections
_DATE_CODE = re.compile(r"(?<![_\\])[dmhysDMHYS]")
_TIMEDELTA = re.compile(r"\[hh?\](:mm(:ss(\.0*)?)?)?|\[mm?\](:ss(\.0*)?)?|\[ss?\](\.0*)?", re.I)
WINDOWS_EPOCH = dt.datetime(1899, 12, 30)
MAC_EPOCH = dt.datetime(1904, 1, 1)
_SIMPLE_REF = re.compile(
    r"(?:'(?P<quoted>(?:[^']|'')+)'|(?P<plain>[^\W\d][\w.]*))!"
    r"(?P<cells>\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d+)?)"
)


_CELL_REF = re.compile(r"([A-Z]{1,3})([1-9]\d{0,6})$")
_T = f"{MAIN}t"
#: a worksheet part up to this size is parsed whole, a larger one streamed (its tree would be ~10× it)
WHOLE_PART = 4 << 20
#: column letters → index, every entry checked by _CELL_REF (shared by all sheets and workbooks)
_COLUMNS: dict[str, int] = {}
#: cell reference → (row, column), checked by _CELL_REF: the same references come back in every sheet
#: and workbook of a batch (bounded: a sheet of a million cells does not fill it past this)
_REFS: dict[str, tuple[int, int]] = {}
_REFS_KEPT = 100_000


def is_date_format(fmt: str | None) -> bool:
    """Whether a number format shows a date or time (openpyxl's rule: its first section, literals
    and colour/locale brackets ignored, has an unescaped d m h y s)."""
    if fmt is None:
        return False
    first = _LITERALS.sub("", fmt.split(";")[0])
    return _DATE_CODE.search(first) is not None


def is_timedelta_format(fmt: str | None) -> bool:
    return fmt is not None and _TIMEDELTA.search(fmt.split(";")[0]) is not None


def from_excel(value: float, epoch: dt.datetime, timedelta: bool = False) -> Any:
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
        from openpyxl.formula.translate import Translator

        return str(Translator(self.master, self.origin).translate_formula(self.coord))


class StreamCell:
    """One cell as the reader sees it (read-only)."""

    __slots__ = ("_value", "data_type", "merged", "number_format")

    def __init__(self, value: Any, data_type: str, number_format: str, merged: bool = False) -> None:
        self._value, self.data_type, self.number_format, self.merged = value, data_type, number_format, merged

    @property
    def value(self) -> Any:
        if isinstance(self._value, _Shared):
            self._value = self._value.text()
        return self._value


_EMPTY = (None, "n", None)


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
        self._cells: dict[tuple[int, int], tuple[Any, str, int | None]] = {}
        self._cached: dict[tuple[int, int], Any] = {}
        self._merged: set[tuple[int, int]] = set()
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

    def cached(self, coord: str) -> Any:
        self._book._ensure(self)
        key = coordinate(coord)
        if key in self._merged:
            return None
        if key in self._cached:
            value = self._cached[key]
            return value.text() if isinstance(value, _Shared) else value
        return self._cells.get(key, _EMPTY)[0]


class StreamName:
    """A defined name: its formula text and the (sheet, cells) it points at, as openpyxl finds them."""

    __slots__ = ("local_sheet", "name", "value")

    def __init__(self, name: str, value: str, local_sheet: int | None) -> None:
        self.name, self.value, self.local_sheet = name, value, local_sheet

    @property
    def destinations(self) -> Iterator[tuple[str, str]]:
        simple = _SIMPLE_REF.fullmatch(self.value)
        if simple is not None:
            yield simple.group("quoted") or simple.group("plain"), simple.group("cells")
            return
        from openpyxl.workbook.defined_name import DefinedName  # anything else: openpyxl's own tokenizer

        yield from DefinedName(self.name, attr_text=self.value).destinations


class StreamBook:
    """The light read-only book :func:`open_stream` returns (satisfies ``book.Book``)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sheetnames: list[str] = []
        self.defined_names: dict[str, StreamName] = {}
        self.date1904 = False
        self._sheets: dict[str, StreamSheet] = {}
        self._parts: dict[str, str] = {}  # sheet title → part name
        self._rels: dict[str, dict[str, tuple[str, str, bool]]] = {}
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

    def cached(self, title: str, coord: str) -> Any:
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
    """Read the file once, check it (``safety``), and stream it: its bytes and its book (whose
    ``parts`` are the parts the checks decompressed, for the writer)."""
    data = read_input(path, limits)
    return data, open_stream(vet_package(data, path, limits))


# ------------------------------------------------------------------------------------------ parsing


def _iterparse(fh: IO[bytes], events: tuple[str, ...], tag: Any) -> Any:
    from lxml import etree

    return etree.iterparse(
        fh,
        events=events,
        tag=tag,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _parse(data: bytes) -> Any:
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    return etree.fromstring(data, parser)


def _rels_path(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def _read_rels(zf: Parts, part: str) -> dict[str, tuple[str, str, bool]]:
    """Relationship id → (type, target part or URL, external?) of ``part`` (none when it has no rels)."""
    path = _rels_path(part)
    if path not in zf:
        return {}
    data = zf.xml(path)
    folder = posixpath.dirname(part)
    out: dict[str, tuple[str, str, bool]] = {}
    for rel in _parse(data).iter(f"{PKG}Relationship"):
        target = rel.get("Target", "")
        external = rel.get("TargetMode") == "External"
        if not external:
            target = (
                target.lstrip("/")
                if target.startswith("/")
                else posixpath.normpath(posixpath.join(folder, target))
            )
        out[rel.get("Id", "")] = (rel.get("Type", ""), target, external)
    return out


def _text(node: Any) -> str:
    """A string item (``<si>`` or ``<is>``): its plain text and its rich-text runs, joined."""
    if len(node) == 1 and node[0].tag == _T:  # the usual case: one <t>, no runs
        return node[0].text or ""
    plain = node.find(f"{MAIN}t")
    text = plain.text if plain is not None else None  # .text decodes anew on each access: once
    runs = node.findall(f"{MAIN}r")
    if not runs:
        return text or ""
    parts = [text] if text is not None else []
    for run in runs:
        t = run.find(f"{MAIN}t")
        piece = t.text if t is not None else None
        if piece is not None:
            parts.append(piece)
    return "".join(parts)


def open_stream(data: bytes | Parts, name: str = "") -> StreamBook:
    """Read the package in ``data`` (its bytes, or its parts as ``safety.vet_package`` checked them).

    Raises :class:`WorkbookReadError` naming the part that cannot be read.
    """
    name = name or (data.name if isinstance(data, Parts) else "")
    book = StreamBook(name)
    part = "[Content_Types].xml"
    try:
        zf = data if isinstance(data, Parts) else Parts(data, name)
        book._zip = zf
        names = zf.infos
        types = _parse(zf.xml(part))
        overrides = [
            (o.get("PartName", "").lstrip("/"), o.get("ContentType", "")) for o in types.iter(f"{CT}Override")
        ]
        defaults = {d.get("ContentType", "") for d in types.iter(f"{CT}Default")}
        wb_part = next((p for ct in WORKBOOK_TYPES for p, t in overrides if t == ct), None)
        if wb_part is None and defaults & set(WORKBOOK_TYPES):
            wb_part = "xl/workbook.xml"
        if wb_part is None:
            raise WorkbookReadError(
                f"{name} 的 [Content_Types].xml 中没有工作簿部件；请在 Excel 或 WPS 中打开后另存为 .xlsx 再试"
            )
        part = "xl/styles.xml"
        if part in names:
            _read_styles(book, zf.xml(part))
        part = next((p for p, t in overrides if t == SHARED_STRINGS), "")
        if part and part in names:
            with zf.open_xml(part) as fh:
                for _, si in _iterparse(fh, ("end",), f"{MAIN}si"):
                    book._strings.append(unescape_ooxml(_text(si).replace("x005F_", "")))
                    si.clear()
        part = _rels_path(wb_part)
        rels = _read_rels(zf, wb_part)
        part = wb_part
        root = _parse(zf.xml(wb_part))
        pr = root.find(f"{MAIN}workbookPr")
        book.date1904 = pr is not None and pr.get("date1904", "").lower() in ("1", "true")
        local: list[StreamName] = []
        for dn in root.iterfind(f"{MAIN}definedNames/{MAIN}definedName"):
            n = dn.get("name", "")
            sid = dn.get("localSheetId")
            item = StreamName(n, dn.text or "", int(sid) if sid is not None else None)
            if item.local_sheet is not None:
                local.append(item)
            elif n not in ("_xlnm.Print_Titles", "_xlnm.Print_Area", "_xlnm._FilterDatabase"):
                book.defined_names[n] = item
        order: list[str] = []  # every sheet, chart sheets too (localSheetId counts them)
        for sheet in root.iterfind(f"{MAIN}sheets/{MAIN}sheet"):
            rid = sheet.get(f"{REL}id")
            if not rid:
                continue
            title = sheet.get("name", "")
            if rid not in rels:
                raise WorkbookReadError(
                    f"{name} 的 {wb_part} 中工作表“{title}”的关系 {rid} 不存在；"
                    "请在 Excel 或 WPS 中打开后另存为 .xlsx 再试"
                )
            kind, target, _ = rels[rid]
            if target not in names:
                continue
            book.sheetnames.append(title)
            order.append(title)
            if "chartsheet" in kind:
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
        wanted = _wanted_sheets(book)
        for title, sheet in book._sheets.items():
            part = book._parts[title]
            book._rels[title] = _read_rels(zf, part)
            _load_sheet(
                book,
                sheet,
                keep=title in wanted or any(k.endswith(TABLE_REL) for k, _, _ in book._rels[title].values()),
            )
    except WorkbookReadError:
        raise
    except KeyError as exc:
        raise WorkbookReadError(
            f"{name} 缺少部件 {exc.args[0] if exc.args else part}（文件不完整）；"
            "请在 Excel 或 WPS 中打开后另存为 .xlsx 再试"
        ) from exc
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise WorkbookReadError(
            f"{name} 已损坏（{part}：{exc}）；请重新获取该文件或在 Excel 中另存一份"
        ) from exc
    except Exception as exc:  # lxml's XMLSyntaxError, ValueError for bad numbers and indices, …
        raise WorkbookReadError(
            f"{name} 的 {part} 内容无法解析（{type(exc).__name__}: {str(exc)[:120]}）；请在 Excel 或 WPS 中打开后另存为 .xlsx 再试"
        ) from exc
    return book


def _wanted_sheets(book: StreamBook) -> set[str]:
    """The sheets whose cells the reader may read: those a defined name points at."""
    wanted: set[str] = set()
    for item in book.defined_names.values():
        wanted.update(
            sheet for sheet, _ in name_destinations(item)
        )  # a malformed name: the reader reports it
    return wanted


def _read_styles(book: StreamBook, data: bytes) -> None:
    root = _parse(data)
    for nf in root.iterfind(f"{MAIN}numFmts/{MAIN}numFmt"):
        book._custom[int(nf.get("numFmtId", "0"))] = nf.get("formatCode", "")
    xfs = root.find(f"{MAIN}cellXfs")
    if xfs is None:
        return
    for idx, xf in enumerate(xfs.iterfind(f"{MAIN}xf")):
        fid = int(xf.get("numFmtId", "0"))
        book._formats.append(fid)
        fmt = book._custom.get(fid, BUILTIN_FORMATS.get(fid))
        if is_date_format(fmt):
            book._dates.add(idx)
        if is_timedelta_format(fmt):
            book._timedeltas.add(idx)


def _load_sheet(book: StreamBook, sheet: StreamSheet, *, keep: bool) -> None:
    """Stream one worksheet part; keep its cells when ``keep`` (else only check it parses)."""
    assert book._zip is not None
    part = book._parts[sheet.title]
    try:
        _stream_cells(book, sheet, part, keep)
    except WorkbookReadError:
        raise
    except KeyError as exc:
        raise WorkbookReadError(
            f"{book.name} 缺少部件 {exc.args[0] if exc.args else part}（“{sheet.title}”表引用的部件）；"
            "请在 Excel 或 WPS 中打开后另存为 .xlsx 再试"
        ) from exc
    except Exception as exc:
        raise WorkbookReadError(
            f"{book.name} 的“{sheet.title}”表（{part}）内容无法解析（{type(exc).__name__}: {str(exc)[:120]}）；"
            "请在 Excel 或 WPS 中打开后另存为 .xlsx 再试"
        ) from exc
    sheet.loaded = keep


def _stream_cells(book: StreamBook, sheet: StreamSheet, part: str, keep: bool) -> None:
    assert book._zip is not None
    epoch = MAC_EPOCH if book.date1904 else WINDOWS_EPOCH
    strings = book._strings
    rels = book._rels.get(sheet.title, {})
    cells: dict[tuple[int, int], tuple[Any, str, int | None]] = {}
    cached: dict[tuple[int, int], Any] = {}
    shared: dict[str, tuple[str, str]] = {}
    merges: list[str] = []
    links: list[tuple[str, str | None]] = []
    table_ids: list[str] = []
    row_no = col_no = 0
    c_tag, row_tag, v_tag, f_tag, is_tag = f"{MAIN}c", f"{MAIN}row", f"{MAIN}v", f"{MAIN}f", f"{MAIN}is"
    t_tag = f"{MAIN}t"
    merge_tag, link_tag, table_tag = f"{MAIN}mergeCell", f"{MAIN}hyperlink", f"{MAIN}tablePart"
    tags = (row_tag, merge_tag, link_tag, table_tag)

    def cast(t: str, v: str | None, el: Any, style: int | None) -> tuple[Any, str]:
        if t == "inlineStr":
            node = el.find(is_tag)
            return (unescape_ooxml(_text(node)), "s") if node is not None else (None, t)
        if v is None:
            return None, t
        if t == "n":
            number = _number(v)
            if style in book._dates:
                try:
                    return from_excel(number, epoch, timedelta=style in book._timedeltas), "d"
                except (OverflowError, ValueError):
                    return "#VALUE!", "e"
            return number, t
        if t == "s":
            return strings[int(v)], t
        if t == "b":
            return bool(int(v)), t
        if t == "str":
            return unescape_ooxml(v), "s"
        if t == "d":
            from openpyxl.utils.datetime import from_ISO8601

            return from_ISO8601(v), t
        return v, t

    columns, refs = _COLUMNS, _REFS
    dates = book._dates
    with book._zip.open_xml(part) as fh:
        # one element per row (its cells are read as its children), not per cell: the parser's
        # events cost more than the cells' own reading. A part of up to WHOLE_PART bytes is parsed
        # whole (faster, and no parser object left in a reference cycle); a larger one is streamed,
        # each row cleared once read. Either way the elements come in document order.
        streamed = book._zip.infos[part].file_size > WHOLE_PART
        if streamed:
            elements = (el for _, el in _iterparse(fh, ("end",), tags))
        else:
            elements = _parse(fh.read()).iter(*tags)
        for el in elements:
            tag = el.tag
            if tag == row_tag:
                r = el.get("r")
                row_no = (int(r) if r.isdigit() else int(float(r))) if r else row_no + 1
                if keep:
                    col_no = 0
                    for c in el:
                        if c.tag != c_tag:
                            continue
                        ref = c.get("r")
                        if ref:
                            known = refs.get(ref)
                            if known is not None:
                                row, col = known
                            else:
                                m = _CELL_REF.match(ref)
                                if m is not None:
                                    letters = m.group(1)
                                    col = columns.get(letters) or columns.setdefault(
                                        letters, column_index(letters)
                                    )
                                    row = int(m.group(2))
                                    if len(refs) < _REFS_KEPT:
                                        refs[ref] = (row, col)
                                else:
                                    row, col = coordinate(ref)  # raises ValueError, as openpyxl does
                        else:
                            row, col = row_no, col_no + 1
                        col_no = col
                        t = c.get("t", "n")
                        st = c.get("s")
                        style = int(st) if st else 0
                        v = f = inline = None
                        for child in c:
                            ctag = child.tag
                            if ctag == v_tag:
                                v = child.text
                            elif ctag == f_tag:
                                f = child
                            elif ctag == is_tag:
                                inline = child
                        if t == "inlineStr" or not v:
                            v = None
                        if f is not None:
                            cached[(row, col)] = cast(t, v, c, style)[0]
                            cells[(row, col)] = (
                                _formula(f, ref or f"{_letter(col)}{row}", shared),
                                "f",
                                style,
                            )
                        elif v is None and t != "inlineStr":
                            cells[(row, col)] = (None, t, style)
                        elif t == "s":
                            cells[(row, col)] = (strings[int(v)], t, style)  # type: ignore[arg-type]
                        elif t == "n" and style not in dates:
                            cells[(row, col)] = (_number(v), t, style)  # type: ignore[arg-type]
                        elif inline is not None:  # an inline string: mostly one <t>, no runs
                            only = inline[0] if len(inline) == 1 else None
                            text = (
                                (only.text or "") if only is not None and only.tag == t_tag else _text(inline)
                            )
                            cells[(row, col)] = (unescape_ooxml(text), "s", style)
                        elif t == "inlineStr":  # <c t="inlineStr"></c>: an empty text, as cast gives it
                            cells[(row, col)] = (None, t, style)
                        else:
                            value, data_type = cast(t, v, c, style)
                            cells[(row, col)] = (value, data_type, style)
                if streamed:
                    el.clear()
                    while el.getprevious() is not None:
                        del el.getparent()[0]
            elif tag == merge_tag:
                if el.get("ref"):
                    merges.append(el.get("ref"))
            elif tag == link_tag:
                rid = el.get(f"{REL}id")
                if rid and rid not in rels:
                    raise WorkbookReadError(
                        f"{book.name} 的“{sheet.title}”表中超链接 {el.get('ref')} 的关系 {rid} 不存在；"
                        "请在 Excel 或 WPS 中打开后另存为 .xlsx 再试"
                    )
                target = rels[rid][1] if rid else None
                links.append((el.get("ref", ""), target or el.get("location")))
            elif tag == table_tag:
                table_ids.append(el.get(f"{REL}id", ""))
    if not keep:
        return
    sheet._cells, sheet._cached = cells, cached
    sheet._max_row = max((r for r, _ in cells), default=0)
    for ref in merges:
        c1, r1, c2, r2 = bounds(ref)
        sheet.merged_ranges.append(ref)
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                if (r, c) != (r1, c1):
                    sheet._merged.add((r, c))
                    cells.pop((r, c), None)
                    cached.pop((r, c), None)
        sheet._max_row = max(sheet._max_row, r2)
    for ref, target in links:
        _link(sheet, ref, target)
    for rid in table_ids:
        table_part = rels[rid][1]
        root = _parse(book._zip.xml(table_part))
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
            kind = (
                "f" if len(target) > 1 and target.startswith("=") else "e" if target in ERROR_CODES else "s"
            )
            sheet._cells[key] = (unescape_ooxml(target) if kind == "s" else target, kind, style)
        elif key in sheet._cached and sheet._cached[key] is None:  # the data-only view of a formula cell
            sheet._cached[key] = unescape_ooxml(target)


def _formula(f: Any, coord: str, shared: dict[str, tuple[str, str]]) -> Any:
    """A formula cell's value as openpyxl gives it: ``=text``; a shared formula's dependent translated
    from its master; an array formula as its text; a data table as ``=``."""
    text = "=" + (f.text or "")
    kind = f.get("t")
    if kind == "shared":
        si = f.get("si")
        if si in shared:
            master, origin = shared[si]
            return _Shared(master, origin, coord)
        if text != "=" and si is not None:
            shared[si] = (text, coord)
    elif kind == "dataTable":
        return "="
    return text


def _letter(col: int) -> str:
    from xlperf.workbook.book import column_letter

    return column_letter(col)
