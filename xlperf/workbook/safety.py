"""Opening a workbook without trusting it (issue "bad input and data safety").

Before openpyxl sees a file we check, cheaply and with clear Chinese messages: that it exists and
is not too large; that it is a zip and not an .xls / WPS .et / password-protected file (those are
OLE compound files); that the zip is intact; that its expanded size and its compression ratio are
bounded (zip bombs); that no worksheet has more rows than the limit. XML entity expansion is
refused by defusedxml, which openpyxl uses when it is installed (a dependency of xlperf).
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
    max_ratio: float = 200  # uncompressed / compressed for one part: far beyond any real workbook
    max_rows: int = 100_000


def _ole_kind(data: bytes) -> str:
    """Tell an encrypted OOXML package from a legacy .xls / .et by the directory names in the file."""
    text = data.decode("utf-16-le", errors="ignore")
    if "EncryptionInfo" in text or "EncryptedPackage" in text:
        return "encrypted"
    return "legacy"


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
            raise WorkbookReadError(
                f"{name} 是旧版 .xls 或 WPS .et 格式（只是扩展名为 .xlsx）；"
                "请在 Excel 或 WPS 中打开，另存为“Excel 工作簿 (*.xlsx)”后再试"
            )
    if not zipfile.is_zipfile(path):
        raise WorkbookReadError(
            f"{name} 不是有效的 .xlsx 文件（文件已损坏或被截断，或根本不是表格文件）；请重新获取或另存一份"
        )
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            if "[Content_Types].xml" not in names or not any(n.startswith("xl/workbook") for n in names):
                raise WorkbookReadError(f"{name} 是 zip 文件但不是 Excel 工作簿；请确认选择了正确的文件")
            total = 0
            for info in infos:
                total += info.file_size
                if info.compress_size and info.file_size / info.compress_size > limits.max_ratio and info.file_size > 1 << 20:
                    raise WorkbookReadError(
                        f"{name} 中的 {info.filename} 压缩比异常（{info.file_size / info.compress_size:.0f} 倍），"
                        "疑似“压缩炸弹”，已拒绝打开"
                    )
            if total > limits.max_expanded_mb * 1024 * 1024:
                raise WorkbookReadError(
                    f"{name} 解压后有 {total / 1048576:.0f} MB，超过上限 {limits.max_expanded_mb:g} MB，已拒绝打开"
                    "（可用 --max-expanded-mb 调整）"
                )
            for info in infos:
                if re.match(r"xl/worksheets/sheet\d+\.xml$", info.filename):
                    _check_rows(zf, info, name, limits)
            bad = zf.testzip()
            if bad is not None:
                raise WorkbookReadError(f"{name} 已损坏（{bad} 校验失败）；请重新获取该文件")
    except zipfile.BadZipFile as exc:
        raise WorkbookReadError(f"{name} 已损坏（{exc}）；请重新获取或另存一份") from exc
    except (zipfile.LargeZipFile, NotImplementedError, EOFError, OSError) as exc:
        raise WorkbookReadError(f"{name} 无法解压（{exc}）；请在 Excel 中另存为 .xlsx 后再试") from exc


def _check_rows(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, limits: Limits) -> None:
    """Read the <dimension> of a sheet (in the first bytes) to refuse a million-row sheet early."""
    with zf.open(info) as fh:
        head = fh.read(4096).decode("utf-8", errors="ignore")
    m = re.search(r'<(?:\w+:)?dimension ref="[A-Z]+\d+(?::[A-Z]+(\d+))?"', head)
    if m and m.group(1) and int(m.group(1)) > limits.max_rows:
        raise WorkbookReadError(
            f"{name} 的一个工作表有 {int(m.group(1)):,} 行，超过上限 {limits.max_rows:,} 行；"
            "请删除多余的行（可用 --max-rows 调整上限）"
        )


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
            if "Entit" in reason or "DTD" in reason:
                raise WorkbookReadError(f"{path.name} 含有 XML 实体定义（可能是恶意构造的文件），已拒绝打开") from exc
            raise WorkbookReadError(
                f"{path.name} 的内容无法解析（{reason}: {str(exc)[:120]}）；请在 Excel 或 WPS 中打开后另存为 .xlsx 再试"
            ) from exc

    return load(False), lambda: load(True)
