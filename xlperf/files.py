"""Safe file output: every file xlperf writes appears complete or not at all.

``atomic_write`` writes into a temporary file in the destination folder, fsyncs it and renames it
over the destination (``os.replace`` is atomic on POSIX and Windows). A crash, a full disk or an
exception while writing leaves the previous file (if any) untouched and removes the temporary.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO


class OutputError(Exception):
    """An output could not be written; the message says, in Chinese, where and what to do."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` atomically."""
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(_explain(exc, folder)) from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        # mkstemp creates 0600; give the output the mode an ordinary new file gets (or the old file's)
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~_umask()
        os.chmod(tmp, mode)
        yield tmp
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        _discard(tmp)
        raise OutputError(_explain(exc, target)) from exc
    except BaseException:
        _discard(tmp)
        raise


def atomic_write(target: Path, writer: Callable[[IO[bytes]], None]) -> Path:
    """Write bytes through ``writer(fh)`` atomically to ``target``."""
    with atomic_path(target) as tmp, tmp.open("wb") as fh:
        writer(fh)
    return target


def atomic_write_bytes(target: Path, data: bytes) -> Path:
    def write(fh: IO[bytes]) -> None:
        fh.write(data)

    return atomic_write(target, write)


def atomic_write_text(target: Path, text: str) -> Path:
    return atomic_write_bytes(target, text.encode("utf-8"))


def output_error(exc: OSError, where: Path) -> OutputError:
    """The Chinese message for an OSError met while writing ``where`` (for writers outside this module)."""
    return OutputError(_explain(exc, where))


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def _discard(tmp: Path) -> None:
    with contextlib.suppress(OSError):
        tmp.unlink()


def _explain(exc: OSError, where: Path) -> str:
    import errno

    if exc.errno == errno.ENOSPC:
        return f"磁盘空间不足，无法写入 {where}；请清理磁盘或改用其他输出位置（原有文件未改动）"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"没有权限写入 {where}；请换一个可写的输出文件夹（如用 -o 指定）"
    return f"无法写入 {where}：{exc.strerror or exc}"
