"""Opening a workbook without trusting it (issue "bad input and data safety").

Before openpyxl sees a file we check, cheaply and with clear Chinese messages: that it exists and
is not too large; that it is a zip and not an .xls / WPS .et / password-protected file (those are
OLE compound files); that the zip is intact; that its expanded size and its compression ratio are
bounded (zip bombs); that no worksheet has more rows or cells than the limit (counted while
streaming the sheet, so a missing or lying ``<dimension>`` does not help), and that no table claims
more rows. XML parts that declare a DTD (the "billion laughs" entity bomb) are refused here, and
again by defusedxml, which openpyxl uses when it is installed (a dependency of xlperf).
"""

from __future__ import annotations

import re
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class WorkbookReadError(Exception):
    """The file cannot be read as a workbook at all (exit code 2). The message is for the clerk."""


@dataclass(frozen=True)
class Limits:
    """Bounds on what xlperf will open; each is an option of the command line."""

    max_file_mb: float = 50
    max_expanded_mb: float = 300
    max_ratio: float = 200  # uncompressed / compressed for one part over 8 MB: far beyond any real workbook
    max_rows: int = 100_000
    max_cells: int = 1_000_000  # one openpyxl cell costs a few hundred bytes of memory


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
        return "是旧版 Excel 97-2003 工作簿（.xls），xlperf 只读 .xlsx"
    if suffix == ".et":
        return "是 WPS 表格文件（.et），xlperf 只读 .xlsx"
    return f"实际是旧版 .xls 或 WPS .et 格式（只是扩展名为 {suffix or '空'}）"


def check_file(path: Path, limits: Limits) -> None:
    """Refuse, with a message naming the file, anything that is not a sane .xlsx."""
    name = path.name
    if not path.exists():
        raise WorkbookReadError(f"找不到文件 {path}；请检查路径和文件名")
    if path.is_dir():
        raise WorkbookReadError(f"{path} 是文件夹，不是工作簿；处理多个文件请用 xlperf batch")
    size = path.stat().st_size
    if size == 0:
        raise WorkbookReadError(f"{name} 是空文件（0 字节），可能复制或下载不完整；请重新获取该文件")
    if size > limits.max_file_mb * 1024 * 1024:
        raise WorkbookReadError(
            f"{name} 有 {size / 1048576:.1f} MB，超过上限 {limits.max_file_mb:g} MB；"
            "标准自评表通常小于 1 MB，请检查是否粘贴了大量无关数据（可用 --max-file-mb 调整上限）"
        )
    with path.open("rb") as fh:
        head = fh.read(8)
        if head == OLE_MAGIC:
            fh.seek(0)
            kind = _ole_kind(fh.read(min(size, 1 << 20)))
            if kind == "encrypted":
                raise WorkbookReadError(
                    f"{name} 设置了打开密码（已加密），xlperf 无法读取；请在 Excel/WPS 中取消密码"
                    "（文件 → 信息 → 保护工作簿 → 用密码进行加密，清空密码）后另存为 .xlsx"
                )
            raise WorkbookReadError(f"{name} {_legacy_kind(path)}；请在 Excel 或 WPS 中打开，另存为“Excel 工作簿 (*.xlsx)”后再试")
    if not zipfile.is_zipfile(path):
        raise WorkbookReadError(
            f"{name} 不是有效的 .xlsx 文件（文件已损坏或被截断，或根本不是表格文件）；请重新获取或另存一份"
        )
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            if "mimetype" in names and zf.read("mimetype")[:64].startswith(b"application/vnd.oasis.opendocument"):
                raise WorkbookReadError(
                    f"{name} 是 OpenDocument 表格（.ods，LibreOffice/WPS 的格式），xlperf 只读 .xlsx；"
                    "请在 LibreOffice、WPS 或 Excel 中打开，另存为“Excel 工作簿 (*.xlsx)”后再试"
                )
            if "[Content_Types].xml" not in names or not any(n.startswith("xl/workbook") for n in names):
                raise WorkbookReadError(f"{name} 是 zip 文件但不是 Excel 工作簿；请确认选择了正确的文件")
            total = 0
            for info in infos:
                total += info.file_size
                if info.compress_size and info.file_size / info.compress_size > limits.max_ratio and info.file_size > 8 << 20:
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
            sheets = _worksheet_parts(zf, names)
            for info in infos:
                if info.filename.lower().endswith((".xml", ".rels", ".vml")):
                    _check_no_dtd(zf, info, name)
                if info.filename in sheets:
                    _check_rows(zf, info, name, limits)
                elif re.match(r"xl/tables/[^/]+\.xml$", info.filename):
                    _check_table(zf, info, name, limits)
            # the sheets were just streamed to their end, which checks their CRC; the other parts are
            # read here (what zf.testzip() does, without decompressing the big sheets a second time)
            for info in infos:
                if info.filename not in sheets:
                    with zf.open(info) as fh:
                        while fh.read(_CHUNK):
                            pass
    except zipfile.BadZipFile as exc:
        raise WorkbookReadError(f"{name} 已损坏（{exc}）；请重新获取或另存一份") from exc
    except (zipfile.LargeZipFile, NotImplementedError, EOFError, OSError) as exc:
        raise WorkbookReadError(f"{name} 无法解压（{exc}）；请在 Excel 中另存为 .xlsx 后再试") from exc


_ROW_OR_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c)[\s/>]")
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_ROOT_TAG = re.compile(rb"<[A-Za-z_]")
_CHUNK = 1 << 20


def _worksheet_parts(zf: zipfile.ZipFile, names: set[str]) -> set[str]:
    """Worksheet part names: declared in [Content_Types].xml, or under xl/worksheets/."""
    parts = {n for n in names if re.match(r"xl/worksheets/[^/]+\.xml$", n)}
    with zf.open("[Content_Types].xml") as fh:
        types = fh.read(4 << 20)
    for m in re.finditer(rb'PartName="/?([^"]+)"\s+ContentType="[^"]*spreadsheetml\.worksheet', types):
        parts.add(m.group(1).decode("utf-8", errors="replace"))
    return parts & names


def _check_no_dtd(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> None:
    """A DTD may only stand before the root element; OOXML parts never have one."""
    with zf.open(info) as fh:
        head = fh.read(64 * 1024)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="ignore").encode("utf-8")
    root = _ROOT_TAG.search(head)
    prolog = head[: root.start()] if root else head
    if _DTD.search(prolog):
        raise WorkbookReadError(
            f"{name} 的 {info.filename} 含有 XML 实体/DTD 定义（可能是恶意构造的“实体炸弹”），已拒绝打开；"
            "请在 Excel 或 WPS 中打开后另存为 .xlsx"
        )


def _too_many_rows(name: str, count: int, limits: Limits, what: str = "一个工作表") -> WorkbookReadError:
    return WorkbookReadError(
        f"{name} 的{what}有 {count:,} 行，超过上限 {limits.max_rows:,} 行；"
        "标准自评表只有几百行，请删除多余的行（可用 --max-rows 调整上限）"
    )


def _check_rows(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, limits: Limits) -> None:
    """Refuse a sheet with too many rows or cells: first by its <dimension> (in the first bytes), then
    by counting <row> and <c> tags while streaming the part (stops as soon as a limit is passed)."""
    with zf.open(info) as fh:
        head = fh.read(4096)
        m = re.search(rb'<(?:\w+:)?dimension ref="\$?[A-Z]+\$?\d+(?::\$?[A-Z]+\$?(\d+))?"', head)
        if m and m.group(1) and int(m.group(1)) > limits.max_rows:
            raise _too_many_rows(name, int(m.group(1)), limits)
        rows = cells = 0
        carry = b""
        block = head
        while block:
            data = carry + block
            # a tag cut by the block end is counted with the next block
            cut = max(0, len(data) - 16)
            for tag in _ROW_OR_CELL.finditer(data, 0, cut):
                if tag.group(1) == b"row":
                    rows += 1
                else:
                    cells += 1
            carry = data[cut:]
            if rows > limits.max_rows:
                raise _too_many_rows(name, rows, limits, "一个工作表至少")
            if cells > limits.max_cells:
                raise WorkbookReadError(
                    f"{name} 的一个工作表至少有 {cells:,} 个单元格，超过上限 {limits.max_cells:,} 个；"
                    "请删除多余的行和列后再试"
                )
            block = fh.read(_CHUNK)
        for tag in _ROW_OR_CELL.finditer(carry):
            rows += tag.group(1) == b"row"
        if rows > limits.max_rows:
            raise _too_many_rows(name, rows, limits)


def _check_table(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, limits: Limits) -> None:
    """A table whose range claims a million rows would make the reader walk them all."""
    with zf.open(info) as fh:
        head = fh.read(4096)
    m = re.search(rb'\sref="\$?[A-Z]+\$?(\d+):\$?[A-Z]+\$?(\d+)"', head)
    if m and int(m.group(2)) - int(m.group(1)) > limits.max_rows:
        raise _too_many_rows(name, int(m.group(2)) - int(m.group(1)), limits, "一个表格（" + info.filename + "）")


def open_workbook(path: Path, limits: Limits) -> tuple[Any, Callable[[], Any]]:
    """Check then open with openpyxl; return the workbook and a loader of its cached values."""
    import openpyxl

    check_file(path, limits)
    if not openpyxl.DEFUSEDXML:  # pragma: no cover - defusedxml is a declared dependency
        raise WorkbookReadError("缺少 defusedxml，出于安全原因拒绝解析工作簿；请重新安装 xlperf")

    def load(data_only: bool) -> Any:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return openpyxl.load_workbook(path, data_only=data_only, rich_text=False)
        except WorkbookReadError:
            raise
        except Exception as exc:  # openpyxl raises many kinds for malformed parts
            reason = type(exc).__name__
            if isinstance(exc, zipfile.BadZipFile):
                raise WorkbookReadError(f"{path.name} 已损坏（{exc}）；请重新获取该文件或在 Excel 中另存一份") from exc
            if _defused(exc):
                raise WorkbookReadError(f"{path.name} 含有 XML 实体定义（可能是恶意构造的文件），已拒绝打开") from exc
            raise WorkbookReadError(
                f"{path.name} 的内容无法解析（{reason}: {str(exc)[:120]}）；请在 Excel 或 WPS 中打开后另存为 .xlsx 再试"
            ) from exc

    return load(False), lambda: load(True)


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
