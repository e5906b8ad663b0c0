"""Opening a workbook without trusting it (issue "bad input and data safety").

Before openpyxl sees a file we check, cheaply and with clear Chinese messages: that it exists and
is not too large; that it is a zip and not an .xls / WPS .et / password-protected file (those are
OLE compound files); that the zip is intact; that its expanded size and its compression ratio are
bounded (zip bombs); that the work openpyxl would do is bounded by what is really in the file.

"Really there" is counted while streaming each sheet — the declared ``<dimension>`` is ignored (a
sheet saved by LibreOffice after deleting a row declares 1,048,576 rows and has a few hundred):

* rows with cells, per sheet: ``max_rows``;
* cells, per sheet (``max_cells``) and for the whole workbook (``max_workbook_cells``) — written
  cells, empty rows that carry attributes, and every cell covered by a merged range or a hyperlink
  (openpyxl creates an object for each of those);
* cells covered by merged ranges (``max_merged_cells``) and by hyperlinks (``max_hyperlink_cells``),
  per sheet, so one ``D1:XFD1048576`` is named in the message rather than exhausting memory;
* rows claimed by a table's ``ref`` (in any letter case): ``max_rows``.

XML parts that declare a DTD (the "billion laughs" entity bomb) are refused here, and again by
defusedxml, which openpyxl uses when it is installed (a dependency of xlperf).
"""

from __future__ import annotations

import io
import re
import struct
import warnings
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from xlperf.core.errors import XlperfError
from xlperf.workbook.book import column_index
from xlperf.workbook.limits import Limits  # the one definition; imported from here by the adapters

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class WorkbookReadError(XlperfError):
    """The file cannot be read as a workbook at all (exit code 2). The message is for the clerk."""


def _ole_kind(data: bytes) -> str:
    """Tell an encrypted OOXML package from a legacy .xls / .et by the directory names in the file."""
    text = data.decode("utf-16-le", errors="ignore")
    if "EncryptionInfo" in text or "EncryptedPackage" in text:
        return "encrypted"
    return "legacy"


def _legacy_kind(path: Path) -> str:
    """What an OLE (non-encrypted) spreadsheet is, in words that fit its file name."""
    suffix = path.suffix.lower()
    if suffix == ".xls":
        return "是旧版 .xls 格式（Excel 97-2003 工作簿），xlperf 只读 .xlsx"
    if suffix == ".et":
        return "是 WPS 表格文件（.et），xlperf 只读 .xlsx"
    return f"实际是旧版 .xls 或 WPS .et 格式（只是扩展名为 {suffix or '空'}）"


def check_file(path: Path, limits: Limits) -> int:
    """Refuse, with a message naming the file, anything that is not a sane .xlsx.

    Returns the cells counted in all sheets (what ``max_workbook_cells`` bounds).
    """
    return check_package(read_input(path, limits), path, limits)


def check_package(data: bytes, path: Path, limits: Limits) -> int:
    """The checks of :func:`check_file` on the file's bytes (``path`` names it in the messages)."""
    return vet_package(data, path, limits).cells


def read_input(path: Path, limits: Limits) -> bytes:
    """The input file's bytes, read once, after the checks that need no reading (exists, size)."""
    name = path.name
    if not path.exists():
        raise WorkbookReadError(f"找不到文件 {path}；请检查路径和文件名")
    if path.is_dir():
        raise WorkbookReadError(f"{path} 是文件夹，不是工作簿；处理多个文件请用 xlperf batch")
    size = path.stat().st_size
    limit = int(limits.max_file_mb * 1024 * 1024)
    data = b""
    if 0 < size <= limit:
        try:
            with path.open("rb") as fh:
                data = fh.read(limit + 1)  # the file may have grown since stat(): still bounded
        except OSError as exc:
            raise WorkbookReadError(
                f"无法读取 {path}：{exc.strerror or exc}；请检查文件是否被其他程序占用"
            ) from exc
        size = len(data)
    if size == 0:
        raise WorkbookReadError(f"{name} 是空文件（0 字节），可能复制或下载不完整；请重新获取该文件")
    if size > limit:
        raise WorkbookReadError(
            f"{name} 有 {size / 1048576:.1f} MB，超过上限 {limits.max_file_mb:g} MB；"
            "标准自评表通常小于 1 MB，请检查是否粘贴了大量无关数据（可用 --max-file-mb 调整上限）"
        )
    return data


#: decompressed parts kept in memory for the reader and the writer, in all (beyond it a part is
#: decompressed again where it is needed, streamed); a standard workbook expands to well under 1 MB
KEEP_BYTES = 64 << 20


class Parts:
    """An input package's parts, each decompressed once and kept (up to :data:`KEEP_BYTES`) for the
    pre-open checks, the stream reader and the package writer, which so share one decompression.

    Every XML part handed out by :meth:`xml` and :meth:`open_xml` has been checked for a DTD first,
    whoever asks (the reader does not depend on having been called after :func:`vet_package`).
    ``copy_raw`` writes a part's compressed bytes as they are into another zip (the writer's
    unchanged parts: no second compression).
    """

    def __init__(self, data: bytes, name: str) -> None:
        self.data, self.name = data, name
        self.zip = zipfile.ZipFile(io.BytesIO(data))
        self.infos: dict[str, zipfile.ZipInfo] = {
            i.filename: i for i in self.zip.infolist() if not i.is_dir()
        }
        self.cells = 0  # counted by vet_package: what max_workbook_cells bounds
        self._kept: dict[str, bytes] = {}
        self._room = KEEP_BYTES
        self._vetted: set[str] = set()

    def __contains__(self, part: str) -> bool:
        return part in self.infos

    def read(self, part: str) -> bytes:
        """The part's bytes (``KeyError`` when it is missing); its CRC is checked on the way."""
        kept = self._kept.get(part)
        if kept is not None:
            return kept
        data = self.zip.read(self.infos[part])
        if len(data) <= self._room:
            self._kept[part] = data
            self._room -= len(data)
        return data

    def open(self, part: str) -> IO[bytes]:
        """The part as a file: from memory when it is (or can be) kept, else streamed from the zip."""
        info = self.infos[part]
        if part in self._kept or info.file_size <= self._room:
            return io.BytesIO(self.read(part))
        return self.zip.open(info)

    def head(self, part: str, size: int) -> bytes:
        """The part's first ``size`` bytes (all of it, decompressed once and kept, when it fits)."""
        kept = self._kept.get(part)
        if kept is not None:
            return kept[:size]
        if self.infos[part].file_size <= self._room:
            return self.read(part)[:size]
        with self.zip.open(self.infos[part]) as fh:
            return fh.read(size)

    def xml(self, part: str) -> bytes:
        self.vet(part)
        return self.read(part)

    def open_xml(self, part: str) -> IO[bytes]:
        self.vet(part)
        return self.open(part)

    def vet(self, part: str) -> None:
        """Refuse the part if it declares a DTD (once per part)."""
        if part not in self._vetted:
            check_no_dtd(self.head(part, 64 * 1024), part, self.name)
            self._vetted.add(part)

    def copy_raw(self, part: str, out: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        """Write the part's compressed bytes unchanged into ``out`` (being written), under ``info``'s
        name, date and attributes. The bytes are not decompressed here: an input's parts were all
        read to their end, CRC checked, by :func:`vet_package`; other packages are xlperf's own."""
        src = self.infos[part]
        start = src.header_offset
        fields = struct.unpack("<4s5H3L2H", self.data[start : start + 30])
        if fields[0] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"bad local header of {part}")
        begin = start + 30 + fields[9] + fields[10]
        raw = self.data[begin : begin + src.compress_size]
        info.compress_type, info.CRC = src.compress_type, src.CRC
        info.compress_size, info.file_size = src.compress_size, src.file_size
        info.flag_bits = (
            src.flag_bits & 0x800
        )  # UTF-8 names; sizes are in the local header, no data descriptor
        assert out.fp is not None
        info.header_offset = out.fp.tell()
        out.fp.write(info.FileHeader())
        out.fp.write(raw)
        out.filelist.append(info)
        out.NameToInfo[info.filename] = info
        out.start_dir = out.fp.tell()
        out._didModify = True  # type: ignore[attr-defined]


def text_kind(data: bytes) -> str:
    """What a file that is plain text is, in a clerk's words ("CSV 文本文件", "网页（HTML）文件",
    "文本文件"); "" when it is not text (a damaged or truncated workbook, anything binary)."""
    head = data[:4096]
    if not head or b"\x00" in head:
        return ""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = head.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        return ""
    if any(ord(c) < 32 and c not in "\t\r\n" for c in text):
        return ""
    low = text.lstrip().lower()
    if low.startswith(("<!doctype html", "<html", "<table", "<?xml")) or "<table" in low[:1024]:
        return "网页（HTML）文件"
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and any(sep in lines[0] for sep in (",", "\t", "，")):
        return "CSV 文本文件"
    return "文本文件"


def vet_package(data: bytes, path: Path, limits: Limits) -> Parts:
    """The checks of :func:`check_file` on the file's bytes (``path`` names it in the messages); the
    package's parts, decompressed while checking, for the reader and the writer."""
    name = path.name
    head = data[:8]
    if head == OLE_MAGIC:
        kind = _ole_kind(data[: 1 << 20])
        if kind == "encrypted":
            raise WorkbookReadError(
                f"{name} 设置了打开密码（已加密），xlperf 无法读取；请在 Excel/WPS 中取消密码"
                "（文件 → 信息 → 保护工作簿 → 用密码进行加密，清空密码）后另存为 .xlsx"
            )
        raise WorkbookReadError(
            f"{name} {_legacy_kind(path)}；请在 Excel 或 WPS 中打开，另存为“Excel 工作簿 (*.xlsx)”后再试"
        )
    if not zipfile.is_zipfile(io.BytesIO(data)):
        text = text_kind(data)
        if text:  # a CSV or a web page renamed .xlsx: re-saving it would not make a standard workbook
            raise WorkbookReadError(
                f"{name} 实际是{' ' if text[0].isascii() else ''}{text}（只是扩展名为 {path.suffix or '.xlsx'}），"
                "不是自评表；请用标准自评表填写"
                "（xlperf new 或网页上的“新建自评表”生成），把数据填入或粘贴进去后再试"
            )
        raise WorkbookReadError(
            f"{name} 不是有效的 .xlsx 文件（文件已损坏或被截断，或根本不是表格文件）；请重新获取或另存一份"
        )
    try:
        parts = Parts(data, name)
        infos = parts.zip.infolist()
        names = {i.filename for i in infos}
        if "mimetype" in names and parts.head("mimetype", 64).startswith(
            b"application/vnd.oasis.opendocument"
        ):
            raise WorkbookReadError(
                f"{name} 是 OpenDocument 表格（.ods，LibreOffice/WPS 的格式），xlperf 只读 .xlsx；"
                "请在 LibreOffice、WPS 或 Excel 中打开，另存为“Excel 工作簿 (*.xlsx)”后再试"
            )
        if "[Content_Types].xml" not in names or not any(n.startswith("xl/workbook") for n in names):
            raise WorkbookReadError(f"{name} 是 zip 文件但不是 Excel 工作簿；请确认选择了正确的文件")
        total = 0
        for info in infos:
            total += info.file_size
            if (
                info.compress_size
                and info.file_size / info.compress_size > limits.max_ratio
                and info.file_size > 8 << 20
            ):
                raise WorkbookReadError(
                    f"{name} 中的 {info.filename} 压缩比异常（{info.file_size / info.compress_size:.0f} 倍），"
                    "疑似“压缩炸弹”，已拒绝打开"
                )
        if total > limits.max_expanded_mb * 1024 * 1024:
            raise WorkbookReadError(
                f"{name} 解压后有 {total / 1048576:.0f} MB，超过上限 {limits.max_expanded_mb:g} MB，已拒绝打开"
                "（可用 --max-expanded-mb 调整）"
            )
        if any(i.flag_bits & 0x1 for i in infos):
            raise WorkbookReadError(
                f"{name} 的压缩包条目设置了密码，xlperf 无法读取；请在 Excel/WPS 中打开后另存为不加密的 .xlsx"
            )
        sheets = _worksheet_parts(parts, names)
        titles = _sheet_titles(parts, names)
        held = 0  # cells of the sheets checked so far
        for info in infos:
            part = info.filename
            if info.is_dir():
                continue
            if part.lower().endswith((".xml", ".rels", ".vml")):
                parts.vet(part)
            if part in sheets:
                title = titles.get(part, part)
                held += _check_rows(parts, part, name, limits, title, limits.max_workbook_cells - held)
            elif re.match(r"xl/tables/[^/]+\.xml$", part):
                _check_table(parts, part, name, limits)
        # every part is decompressed to its end here, which checks its CRC (what zf.testzip() does);
        # the sheets were just streamed to their end, the other parts are read (and kept) now
        for info in infos:
            if info.filename not in sheets and not info.is_dir():
                if parts.infos.get(info.filename) is info and info.file_size <= parts._room:
                    parts.read(info.filename)
                else:
                    with parts.zip.open(info) as fh:
                        while fh.read(_CHUNK):
                            pass
    except zipfile.BadZipFile as exc:
        raise WorkbookReadError(f"{name} 已损坏（{exc}）；请重新获取或另存一份") from exc
    except (zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, zlib.error) as exc:
        raise WorkbookReadError(f"{name} 无法解压（{exc}）；请在 Excel 中另存为 .xlsx 后再试") from exc
    parts.cells = held
    return parts


_PREFIX = rb"<(?:[A-Za-z_][\w.-]*:)?"
_CELL_OR_ROW = re.compile(_PREFIX + rb"(c|row)(?=[\s/>])")
#: an empty row (with its attributes), a merged range or a hyperlink
_RARE_TAG = re.compile(
    _PREFIX + rb"(?:(row)(?=[\s/>])([^>]{0,8192}?)/>|(mergeCell|hyperlink)(?=[\s/>])([^>]{0,8192}?)/?>)"
)
_REF = re.compile(rb'\sref="([^"]*)"')
_AREA = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d{1,7})(?::\$?([A-Za-z]{1,3})\$?(\d{1,7}))?")
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_ROOT_TAG = re.compile(rb"<[A-Za-z_]")
_CHUNK = 1 << 20


def _worksheet_parts(parts: Parts, names: set[str]) -> set[str]:
    """Worksheet part names: declared in [Content_Types].xml, or under xl/worksheets/."""
    found = {n for n in names if re.match(r"xl/worksheets/[^/]+\.xml$", n)}
    types = parts.head("[Content_Types].xml", 4 << 20)
    for m in re.finditer(rb'PartName="/?([^"]+)"\s+ContentType="[^"]*spreadsheetml\.worksheet', types):
        found.add(m.group(1).decode("utf-8", errors="replace"))
    return found & names


def check_no_dtd(head: bytes, part: str, name: str) -> None:
    """A DTD may only stand before the root element (``head``: the part's first bytes); OOXML parts
    never have one."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="ignore").encode("utf-8")
    root = _ROOT_TAG.search(head)
    prolog = head[: root.start()] if root else head
    if _DTD.search(prolog):
        raise WorkbookReadError(
            f"{name} 的 {part} 含有 XML 实体/DTD 定义（可能是恶意构造的“实体炸弹”），已拒绝打开；"
            "请在 Excel 或 WPS 中打开后另存为 .xlsx"
        )


def area(ref: str) -> int:
    """Cells covered by ``ref`` (``A1``, ``a4:r1000000``, several ranges separated by spaces)."""
    total = 0
    for part in ref.split():
        m = _AREA.fullmatch(part)
        if m is None:
            continue
        c1, r1 = column_index(m.group(1)), int(m.group(2))
        c2, r2 = (column_index(m.group(3)), int(m.group(4))) if m.group(3) else (c1, r1)
        total += (abs(c2 - c1) + 1) * (abs(r2 - r1) + 1)
    return total


def _too_many_rows(name: str, count: int, limits: Limits, what: str = "一个工作表") -> WorkbookReadError:
    return WorkbookReadError(
        f"{name} 的{what}有 {count:,} 行，超过上限 {limits.max_rows:,} 行；"
        "标准自评表只有几百行，请删除多余的行（可用 --max-rows 调整上限）"
    )


def _check_rows(parts: Parts, part: str, name: str, limits: Limits, title: str, room: int) -> int:
    """Count what the sheet really holds while streaming it, stop as soon as a limit is passed, and
    return its cells (written cells, attribute-only rows, cells under merged ranges and hyperlinks).

    ``room`` is what the workbook limit leaves for this sheet. The ``<dimension>`` is not trusted.
    Cells and rows are counted by the regular expression engine; only the rare tags (an empty row,
    a merged range, a hyperlink) are looked at one by one.
    """
    where = f"“{title}”表"
    rows = cells = merged = linked = 0

    def count(text: bytes) -> None:
        nonlocal rows, cells, merged, linked
        tags = _CELL_OR_ROW.findall(text)
        cells += tags.count(b"c")
        rows += len(tags)
        rows -= tags.count(b"c")
        for tag in _RARE_TAG.finditer(text):
            if tag.group(1):  # an empty row: openpyxl keeps its attributes as a cell
                rows -= 1
                cells += 1 if tag.group(2).strip().count(b"=") > 1 else 0
                continue
            kind, attrs = tag.group(3), tag.group(4)
            ref = _REF.search(attrs)
            covered = area(ref.group(1).decode("ascii", "replace")) if ref else 0
            if kind == b"mergeCell":
                merged += covered
                if merged > limits.max_merged_cells:
                    raise WorkbookReadError(
                        f"{name} 的{where}中合并单元格 {ref.group(1).decode('ascii', 'replace') if ref else ''} "
                        f"等共覆盖 {merged:,} 个单元格，超过上限 {limits.max_merged_cells:,} 个；"
                        "请在该表中选中这片区域，取消单元格合并后保存再试"
                    )
            else:
                linked += covered
                if linked > limits.max_hyperlink_cells:
                    raise WorkbookReadError(
                        f"{name} 的{where}中超链接 {ref.group(1).decode('ascii', 'replace') if ref else ''} "
                        f"等共覆盖 {linked:,} 个单元格，超过上限 {limits.max_hyperlink_cells:,} 个；"
                        "请在该表中删除这个超链接（右键 → 取消超链接）后保存再试"
                    )

    def check() -> None:
        if rows > limits.max_rows:
            raise _too_many_rows(name, rows, limits, f"{where}至少")
        held = cells + merged + linked
        if held > limits.max_cells:
            raise WorkbookReadError(
                f"{name} 的{where}至少有 {held:,} 个单元格（含合并单元格与超链接覆盖的单元格），"
                f"超过上限 {limits.max_cells:,} 个；请删除多余的行和列后再试（可用 --max-cells 调整上限）"
            )
        if held > room:
            raise WorkbookReadError(
                f"{name} 的各工作表合计至少有 {limits.max_workbook_cells - room + held:,} 个单元格（到{where}为止），"
                f"超过整个工作簿的上限 {limits.max_workbook_cells:,} 个；标准自评表只有几千个单元格，"
                "请删除多余的工作表、行和列后再试（可用 --max-workbook-cells 调整上限）"
            )

    with parts.open(part) as fh:
        carry = b""
        block = fh.read(_CHUNK)
        while block:
            data = carry + block
            # a block ends before its last "<": every tag that starts in it also ends in it
            cut = data.rfind(b"<")
            if cut <= 0:
                cut = len(data) if len(data) > _CHUNK else 0  # no tag at all: nothing to count
            count(data[:cut])
            carry = data[cut:]
            check()
            block = fh.read(_CHUNK)
        count(carry)
        check()
    return cells + merged + linked


def _check_table(parts: Parts, part: str, name: str, limits: Limits) -> None:
    """A table whose range claims a million rows would make the reader walk them all (any letter case)."""
    head = parts.head(part, 4096)
    m = re.search(rb'\sref="\$?[A-Za-z]{1,3}\$?(\d+):\$?[A-Za-z]{1,3}\$?(\d+)"', head)
    if m and int(m.group(2)) - int(m.group(1)) > limits.max_rows:
        raise _too_many_rows(name, int(m.group(2)) - int(m.group(1)), limits, "一个表格（" + part + "）")


def _sheet_titles(parts: Parts, names: set[str]) -> dict[str, str]:
    """Worksheet part name → sheet title (from xl/workbook.xml and its relationships), for messages."""
    from xml.sax.saxutils import unescape

    try:
        wb_xml = parts.head("xl/workbook.xml", 4 << 20)
        rels = parts.head("xl/_rels/workbook.xml.rels", 4 << 20)
    except KeyError:
        return {}
    targets: dict[bytes, str] = {}
    for rel in re.finditer(rb"<(?:\w+:)?Relationship\b[^>]*>", rels):
        rid, target = (
            re.search(rb'\sId="([^"]+)"', rel.group(0)),
            re.search(rb'\sTarget="([^"]+)"', rel.group(0)),
        )
        if rid and target:
            path = target.group(1).decode("utf-8", "replace").lstrip("/")
            targets[rid.group(1)] = path if path.startswith("xl/") else f"xl/{path}"
    titles: dict[str, str] = {}
    for sheet in re.finditer(rb"<(?:\w+:)?sheet\b[^>]*>", wb_xml):
        title = re.search(rb'\sname="([^"]*)"', sheet.group(0))
        rid = re.search(rb'\s[\w]+:id="([^"]+)"', sheet.group(0))
        if title and rid and rid.group(1) in targets:
            titles[targets[rid.group(1)]] = unescape(
                title.group(1).decode("utf-8", "replace"), {"&quot;": '"'}
            )
    return titles


def open_workbook(path: Path, limits: Limits) -> tuple[Any, Callable[[], Any]]:
    """Check then open with openpyxl; return the workbook and a loader of its cached values."""
    check_file(path, limits)
    wb = load_openpyxl(path, path.name)
    return wb, lambda: load_openpyxl(path, path.name, data_only=True)


def load_openpyxl(source: Path | bytes, name: str, *, data_only: bool = False) -> Any:
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
            f"{name} 的内容无法解析（{reason}: {str(exc)[:120]}）；请在 Excel 或 WPS 中打开后另存为 .xlsx 再试"
        ) from exc


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


def unescape_texts(wb: Any) -> None:
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
