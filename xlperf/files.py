"""Safe file output: every file xlperf writes appears complete or not at all.

``atomic_write`` writes into a temporary file in the destination folder, fsyncs it, renames it
over the destination (``os.replace`` is atomic on POSIX and Windows) and fsyncs the folder so the
rename survives a power cut. A crash, a full disk or an exception while writing leaves the previous
file (if any) untouched and removes the temporary.

Also here, one of each: :func:`guard_outputs` (no output may be an input or another output, through
links, case or ``./``), :func:`hold_lock` (an OS lock that dies with its process, for the outbox
and the batch output folder) and :func:`remove_stale_temps` (temporaries left by killed runs).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from xlperf.core.digest import new_sha256, sha256_bytes
from xlperf.core.errors import XlperfError

__all__ = ["OutputError", "atomic_write", "sha256_bytes", "sha256_file"]


class OutputError(XlperfError):
    """An output could not be written; the message says, in Chinese, where and what to do."""


def sha256_file(path: Path) -> str:
    digest = new_sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def atomic_path(target: Path, *, plain_errors: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` atomically.

    An OSError becomes an :class:`OutputError` with the Chinese explanation; with ``plain_errors``
    it propagates as itself, for a caller that explains it in its own words (the add-in installer
    names Excel holding the file open).
    """
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        if plain_errors:
            raise
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
        fsync_dir(folder)
    except OSError as exc:
        _discard(tmp)
        if plain_errors:
            raise
        raise OutputError(_explain(exc, target)) from exc
    except BaseException:
        _discard(tmp)
        raise


def atomic_write(target: Path, writer: Callable[[IO[bytes]], None], *, plain_errors: bool = False) -> Path:
    """Write bytes through ``writer(fh)`` atomically to ``target`` (``plain_errors``
    as :func:`atomic_path`)."""
    with atomic_path(target, plain_errors=plain_errors) as tmp, tmp.open("wb") as fh:
        writer(fh)
    return target


def save_workbook_atomic(wb: Any, target: Path) -> Path:
    """Save an openpyxl workbook atomically. On a failure (a full disk) the half-written zip is
    abandoned without the second failure ``ZipFile.__del__`` would print when collected."""
    import zipfile

    from openpyxl.writer.excel import ExcelWriter

    with atomic_path(target) as tmp:
        archive = zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        try:
            ExcelWriter(wb, archive).save()  # closes the archive when all went well
        except BaseException:
            fp, archive.fp = archive.fp, None  # ZipFile.close() (and __del__) now do nothing
            if fp is not None:
                with contextlib.suppress(OSError):
                    fp.close()
            raise
    return target


def atomic_write_bytes(target: Path, data: bytes, *, plain_errors: bool = False) -> Path:
    def write(fh: IO[bytes]) -> None:
        fh.write(data)

    return atomic_write(target, write, plain_errors=plain_errors)


def atomic_write_text(target: Path, text: str) -> Path:
    return atomic_write_bytes(target, text.encode("utf-8"))


def output_error(exc: OSError, where: Path) -> OutputError:
    """The Chinese message for an OSError met while writing ``where`` (for writers outside this module)."""
    return OutputError(_explain(exc, where))


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable on POSIX; Windows cannot open a folder and does not need it."""
    if os.name == "nt":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ------------------------------------------------------------------------- output guard


def _identity(path: Path) -> tuple[str, tuple[int, int] | None]:
    """A comparable identity: the resolved, case-folded path (on case-insensitive systems) and the
    (device, inode) of the file when it exists (catches hard links and symbolic links)."""
    path = Path(path)
    try:
        resolved = path.resolve()
    except OSError:
        resolved = Path(os.path.abspath(path))
    key = os.path.normcase(str(resolved))
    if _case_insensitive(resolved.parent):
        key = key.casefold()
    try:
        st = os.stat(resolved)
        inode: tuple[int, int] | None = (st.st_dev, st.st_ino) if st.st_ino else None
    except OSError:
        inode = None
    return key, inode


def _case_insensitive(folder: Path) -> bool:
    """Whether ``folder``'s file system ignores case (Windows, default macOS), tested on the folder."""
    if os.name == "nt":
        return True
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    name = folder.name
    if not name or name.swapcase() == name:
        return sys.platform == "darwin"
    try:
        other = folder.parent / name.swapcase()
        return other.exists() and os.path.samefile(other, folder)
    except OSError:
        return False


def same_file(a: Path, b: Path) -> bool:
    """``a`` and ``b`` name the same file (same path after links, ``./`` and case, or same inode)."""
    ka, ia = _identity(a)
    kb, ib = _identity(b)
    return ka == kb or (ia is not None and ia == ib)


def guard_outputs(inputs: Iterable[Path | None], outputs: Iterable[tuple[str, Path | None]]) -> None:
    """Raise :class:`OutputError` (exit 2) when an output is an input or the same file as another output.

    ``outputs`` are ``(option, path)`` pairs such as ``("--eml", path)``; ``None`` paths are skipped.
    Every command calls this once with all its inputs and output options before writing anything.
    """
    ins = [Path(p) for p in inputs if p is not None]
    seen: list[tuple[str, Path]] = []
    for option, path in outputs:
        if path is None:
            continue
        path = Path(path)
        for src in ins:
            if same_file(src, path):
                raise OutputError(
                    f"{option} {path} 就是输入文件 {src}（同一文件）；xlperf 从不写入输入文件，"
                    f"请为 {option} 换一个文件名"
                )
        for other_option, other in seen:
            if same_file(other, path):
                raise OutputError(
                    f"{option} {path} 与 {other_option} {other} 是同一个文件，后写的会覆盖先写的；"
                    "请换一个文件名"
                )
        seen.append((option, path))


# -------------------------------------------------------------------------------- locks


class LockBusy(XlperfError):
    """Another live process holds the lock."""


@contextlib.contextmanager
def hold_lock(path: Path, *, wait: float = 0.0) -> Iterator[Path]:
    """Hold an exclusive OS lock on ``path`` (created if missing) while the block runs.

    The operating system drops the lock when the process ends, however it ends (SIGKILL, power
    loss), so a lock file left behind never blocks anyone. Raises :class:`LockBusy` when another
    process holds it for longer than ``wait`` seconds.
    """
    import time

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(path, "a+b", buffering=0)  # noqa: SIM115 - closed in finally; unbuffered: close never writes
    try:
        deadline = time.monotonic() + wait
        while not _try_lock(fh):
            if time.monotonic() >= deadline:
                raise LockBusy(str(path))
            time.sleep(0.1)
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(f"{os.getpid()}\n".encode())
        except OSError:
            pass  # the lock itself is what counts (a full disk is fine), the pid is only for people
        yield path
    finally:
        with contextlib.suppress(OSError):
            fh.close()  # releases the lock


def folder_lock_path(kind: str, folder: Path) -> Path:
    """Where the lock of ``folder`` lives: ``<data dir>/locks/<kind>-<hash of the resolved path>.lock``,
    so the clerk's folders get no lock files."""
    from xlperf.paths import data_dir

    try:
        key = str(Path(folder).resolve())
    except OSError:
        key = os.path.abspath(folder)
    return data_dir() / "locks" / f"{kind}-{sha256_bytes(os.path.normcase(key).encode('utf-8'))[:24]}.lock"


@contextlib.contextmanager
def output_folder_lock(folder: Path) -> Iterator[None]:
    """One xlperf run at a time writes into ``folder`` (``xlperf batch -o``): a second one is refused
    with :class:`OutputError` instead of mixing its files and its 汇总 with the first one's."""
    lock = folder_lock_path("output", folder)
    try:
        held = hold_lock(lock)
        held.__enter__()
    except LockBusy:
        raise OutputError(
            f"另一个 xlperf 正在向输出文件夹 {folder} 写结果；"
            "请等它结束后再运行，或用 -o 指定另一个输出文件夹"
        ) from None
    except OSError as exc:  # an unusable data folder must not stop the work itself
        from loguru import logger

        logger.warning("无法在 {} 中加锁（{}），本次不加锁", lock.parent, exc)
        yield
        return
    try:
        yield
    finally:
        held.__exit__(None, None, None)


def _try_lock(fh: IO[bytes]) -> bool:
    if os.name == "nt":
        import msvcrt

        try:
            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


# ------------------------------------------------------------------------ stale temporaries


def remove_stale_temps(folder: Path, name: str, *, older_than: float = 3600.0) -> list[Path]:
    """Remove hidden ``.<name>.*.tmp`` files or folders in ``folder`` left by killed runs.

    Only entries older than ``older_than`` seconds go, so a run still writing beside us is left alone.
    """
    import shutil
    import time

    removed: list[Path] = []
    try:
        entries = list(Path(folder).glob(f".{glob_escape(name)}.*.tmp"))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        try:
            if now - entry.lstat().st_mtime < older_than:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError:
            continue
        removed.append(entry)
    return removed


def glob_escape(text: str) -> str:
    """``text`` with glob metacharacters escaped (file names may contain ``[``)."""
    import glob

    return glob.escape(text)


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
