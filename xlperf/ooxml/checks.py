"""The pre-open checks: opening a workbook without trusting it (issue "bad input and data safety").

Before the reader sees a file we check, cheaply and with clear Chinese messages: that it exists and
is not too large; that it is a zip and not an .xls / WPS .et / .ods / password-protected file (the
first two and the last are OLE compound files); that the zip is intact; that its expanded size and
its compression ratio are bounded (zip bombs); that the work of reading it is bounded by what is
really in the file. Every part is decompressed here once, CRC checked, and kept in the returned
:class:`~xlperf.ooxml.package.Parts` for the reader and the writer.

"Really there" is counted while streaming each sheet — the declared ``<dimension>`` is ignored (a
sheet saved by LibreOffice after deleting a row declares 1,048,576 rows and has a few hundred):

* rows with cells, per sheet: ``max_rows``;
* cells, per sheet (``max_cells``) and for the whole workbook (``max_workbook_cells``) — written
  cells, empty rows that carry attributes, and every cell covered by a merged range or a hyperlink
  (openpyxl, the tests' second reader, creates an object for each of those);
* cells covered by merged ranges (``max_merged_cells``) and by hyperlinks (``max_hyperlink_cells``),
  per sheet, so one ``D1:XFD1048576`` is named in the message rather than exhausting memory;
* rows claimed by a table's ``ref`` (in any letter case): ``max_rows``.

XML parts that declare a DTD (the "billion laughs" entity bomb) are refused here
(:func:`xlperf.ooxml.parser.check_no_dtd`), and again by defusedxml wherever openpyxl parses one.
"""

from __future__ import annotations

import contextlib
import io
import re
import zipfile
import zlib
from pathlib import Path

from lxml import etree

from xlperf.ooxml.constants import CONTENT_TYPES_PART, CT, R
from xlperf.ooxml.errors import WorkbookReadError
from xlperf.ooxml.limits import Limits
from xlperf.ooxml.package import Parts, overrides, resolve, workbook_part
from xlperf.ooxml.parser import q
from xlperf.ooxml.refs import area

__all__ = ["OLE_MAGIC", "WorkbookReadError", "check_file", "check_package", "read_input", "vet_package"]

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _ole_format(data: bytes) -> str:
    """Tell an encrypted OOXML package from a legacy .xls / .et by the directory names in the file."""
    text = data.decode("utf-16-le", errors="ignore")
    if "EncryptionInfo" in text or "EncryptedPackage" in text:
        return "encrypted"
    return "legacy"


def _legacy_format(path: Path) -> str:
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
        if _ole_format(data[: 1 << 20]) == "encrypted":
            raise WorkbookReadError(
                f"{name} 设置了打开密码（已加密），xlperf 无法读取；请在 Excel/WPS 中取消密码"
                "（文件 → 信息 → 保护工作簿 → 用密码进行加密，清空密码）后另存为 .xlsx"
            )
        raise WorkbookReadError(
            f"{name} {_legacy_format(path)}；请在 Excel 或 WPS 中打开，另存为“Excel 工作簿 (*.xlsx)”后再试"
        )
    if not zipfile.is_zipfile(io.BytesIO(data)):
        text = text_kind(data)
        if text:  # a CSV or a web page renamed .xlsx: re-saving it would not make a standard workbook
            raise WorkbookReadError(
                f"{name} 实际是{' ' if text[0].isascii() else ''}{text}（只是扩展名为 "
                f"{path.suffix or '.xlsx'}），"
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
                    f"{name} 中的 {info.filename} "
                    f"压缩比异常（{info.file_size / info.compress_size:.0f} 倍），"
                    "疑似“压缩炸弹”，已拒绝打开"
                )
        if total > limits.max_expanded_mb * 1024 * 1024:
            raise WorkbookReadError(
                f"{name} 解压后有 {total / 1048576:.0f} MB，超过上限 {limits.max_expanded_mb:g} "
                "MB，已拒绝打开"
                "（可用 --max-expanded-mb 调整）"
            )
        if any(i.flag_bits & 0x1 for i in infos):
            raise WorkbookReadError(
                f"{name} 的压缩包条目设置了密码，xlperf 无法读取；请在 Excel/WPS 中打开后另存为不加密的 .xlsx"
            )
        sheets = _worksheet_parts(parts, names)
        titles = _sheet_titles(parts)
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
                if parts.infos.get(info.filename) is info and parts.fits(info.filename):
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
_CHUNK = 1 << 20


def _worksheet_parts(parts: Parts, names: set[str]) -> set[str]:
    """Worksheet part names: declared in [Content_Types].xml, or under xl/worksheets/."""
    found = {n for n in names if re.match(r"xl/worksheets/[^/]+\.xml$", n)}
    with contextlib.suppress(KeyError, etree.XMLSyntaxError):  # the reader names a missing or malformed part
        found.update(p for p, t in overrides(parts.tree(CONTENT_TYPES_PART)) if t == CT.WORKSHEET)
    return found & names


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
            tag_name, attrs = tag.group(3), tag.group(4)
            ref = _REF.search(attrs)
            covered = area(ref.group(1).decode("ascii", "replace")) if ref else 0
            if tag_name == b"mergeCell":
                merged += covered
                if merged > limits.max_merged_cells:
                    raise WorkbookReadError(
                        f"{name} 的{where}中合并单元格 "
                        f"{ref.group(1).decode('ascii', 'replace') if ref else ''} "
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
                f"{name} 的各工作表合计至少有 {limits.max_workbook_cells - room + held:,} "
                f"个单元格（到{where}为止），"
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


def _sheet_titles(parts: Parts) -> dict[str, str]:
    """Worksheet part name → sheet title (from the workbook part and its relationships), for messages."""
    try:
        book = workbook_part(parts.tree(CONTENT_TYPES_PART))
        if book is None:
            return {}
        targets = {r.id: resolve(book, r.target) for r in parts.rels(book) if not r.external}
        sheets = parts.tree(book).iterfind(f"{q('sheets')}/{q('sheet')}")
        return {targets[rid]: s.get("name", "") for s in sheets if (rid := s.get(q("id", R))) in targets}
    except (KeyError, etree.XMLSyntaxError):  # the reader names a missing or malformed part
        return {}
