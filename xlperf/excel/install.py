"""Install ``xlperf.xlam`` for the current user: XLSTART folder + the interpreter config file.

Excel loads every workbook in the user's startup folder (XLSTART) when it starts; an add-in there is
in a trusted location, so the Mark of the Web does not block its VBA (docs/EXCEL.md section 1). The
add-in's VBA (xlwings' ``RunPython``) finds the Python to run in its config layers: the add-in's
``xlperf.conf`` sheet, then ``xlperf.conf`` beside the workbook, then the user file written here:

* Windows: ``%USERPROFILE%\\.xlperf\\xlperf.conf`` with ``"Interpreter_Win","<python.exe>"``.
  VBA's ``Input #`` reads it in the ANSI code page, so it is written in that encoding ("mbcs").
* macOS: ``~/Library/Containers/com.microsoft.Excel/Data/xlperf.conf`` (Excel's sandbox home, what
  ``GetMacDir("$HOME")`` returns) with ``"Interpreter_Mac","<python>"``; RunPython on macOS also
  needs xlwings' AppleScript in ``~/Library/Application Scripts/com.microsoft.Excel``.

The format is xlwings' own (``xlwings/cli.py`` ``update_user_config``): one ``"KEY","value"`` line
per setting; other lines of an existing file are kept. Linux has no Excel: :class:`UnsupportedPlatform`.

Everything is driven by a :class:`Platform` (system, home, %APPDATA%, encoding), so the Windows and
macOS logic runs on Linux in tests with a temporary home.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlperf.core.errors import XlperfError
from xlperf.files import atomic_path, atomic_write_bytes

__all__ = [
    "CONF_NAME",
    "InstallError",
    "Locations",
    "Platform",
    "Status",
    "UnsupportedPlatform",
    "conf_lines",
    "detect_platform",
    "install",
    "locations",
    "status",
    "uninstall",
]

ADDIN_NAME = "xlperf.xlam"
CONF_NAME = "xlperf.conf"
HEADLESS_HINT = "xlperf run 自评表.xlsx"
MAC_OFFICE_GROUP = "UBF8T346G9.Office"


class InstallError(XlperfError):
    """Installing or removing failed; ``str()`` is a Chinese message for the user."""


class UnsupportedPlatform(InstallError):
    """Excel add-ins need Windows or macOS."""


@dataclass(frozen=True)
class Platform:
    """Where the user's Excel lives. ``system`` is ``windows``, ``macos`` or ``linux``."""

    system: str
    home: Path
    appdata: Path | None = None  # %APPDATA% (Windows)
    conf_encoding: str = "utf-8"

    @property
    def label(self) -> str:
        return {"windows": "Windows", "macos": "macOS"}.get(self.system, "Linux")


@dataclass(frozen=True)
class Locations:
    """The files ``install`` writes for one platform."""

    startup_dir: Path  # XLSTART
    conf_path: Path
    conf_key: str  # Interpreter_Win / Interpreter_Mac
    applescript_dir: Path | None = None  # macOS: RunPython's AppleScript goes here

    @property
    def addin_path(self) -> Path:
        return self.startup_dir / ADDIN_NAME


@dataclass(frozen=True)
class Status:
    """What ``xlperf addin status`` reports; ``checks`` are the Windows diagnostics
    (xlperf.excel.diagnose)."""

    platform: Platform
    locations: Locations | None
    addin_installed: bool
    conf_interpreter: str | None
    interpreter_exists: bool
    addin_current: bool | None = None  # the installed add-in is byte for byte what this xlperf builds
    checks: tuple[Any, ...] = ()


def detect_platform() -> Platform:
    """The platform this Python runs on."""
    home = Path(os.path.expanduser("~"))
    if sys.platform.startswith("win"):
        appdata = os.environ.get("APPDATA")
        profile = os.environ.get("USERPROFILE")
        return Platform(
            "windows",
            Path(profile) if profile else home,
            Path(appdata) if appdata else home / "AppData" / "Roaming",
            "mbcs",
        )
    if sys.platform == "darwin":
        return Platform("macos", home)
    return Platform("linux", home)


def unsupported_message(plat: Platform) -> str:
    return (
        f"Excel 加载项只能安装在 Windows 或 macOS 的 Excel 中，当前系统是 {plat.label}。"
        f"在这台电脑上可以直接用命令行完成同样的工作，例如：{HEADLESS_HINT}"
        "（校验、计分并写出评分汇总/校验结果/自评报告）。"
    )


def locations(plat: Platform) -> Locations:
    """XLSTART, the config file and its key for ``plat``; :class:`UnsupportedPlatform` on Linux."""
    if plat.system == "windows":
        appdata = plat.appdata or plat.home / "AppData" / "Roaming"
        return Locations(
            appdata / "Microsoft" / "Excel" / "XLSTART", plat.home / ".xlperf" / CONF_NAME, "Interpreter_Win"
        )
    if plat.system == "macos":
        lib = plat.home / "Library"
        return Locations(
            lib / "Group Containers" / MAC_OFFICE_GROUP / "User Content" / "Startup" / "Excel",
            lib / "Containers" / "com.microsoft.Excel" / "Data" / CONF_NAME,
            "Interpreter_Mac",
            lib / "Application Scripts" / "com.microsoft.Excel",
        )
    raise UnsupportedPlatform(unsupported_message(plat))


def conf_lines(existing: str, key: str, value: str | None) -> list[str]:
    """The config file's lines with ``key`` set to ``value`` (removed when None), others kept."""
    keep = [
        line
        for line in existing.splitlines()
        if line.strip() and line.split(",")[0].strip().strip('"').lower() != key.lower()
    ]
    if value is not None:
        if '"' in value:
            raise InstallError(f"路径中不能含有英文双引号：{value}")
        keep.append(f'"{key}","{value}"')
    return keep


def _read_conf(path: Path, encoding: str) -> str:
    try:
        return path.read_bytes().decode(encoding, errors="replace")
    except FileNotFoundError:
        return ""


def _write_conf(path: Path, lines: list[str], encoding: str, newline: str) -> None:
    text = "".join(line + newline for line in lines)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError as exc:
        raise InstallError(
            f"Python 的路径含有系统编码（{encoding}）无法表示的字符，Excel 读不出来：{text.strip()}。"
            "请把 Python 安装到只含英文字母和数字的文件夹后重新运行 xlperf addin install。"
        ) from exc
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_bytes(path, data)


def _atomic_bytes(path: Path, data: bytes) -> None:
    atomic_write_bytes(
        path, data, plain_errors=True
    )  # install() explains an OSError (Excel holding the file)


def _copy_atomic(source: Path, target: Path) -> None:
    with atomic_path(target, plain_errors=True) as tmp:
        shutil.copyfile(source, tmp)


def _xlwings_applescript() -> Path:
    import xlwings

    return Path(xlwings.__file__).parent / f"xlwings-{xlwings.__version__}.applescript"


def install(plat: Platform, addin: Path, interpreter: str | None = None) -> list[Path]:
    """Copy ``addin`` into XLSTART and write the interpreter into the user config file.

    Returns the files written. :class:`InstallError` with a Chinese message when a file cannot be
    written (on Windows typically because Excel is running and holds the add-in open)."""
    loc = locations(plat)
    interpreter = interpreter or sys.executable
    written: list[Path] = []
    try:
        _copy_atomic(addin, loc.addin_path)
        written.append(loc.addin_path)
        existing = _read_conf(loc.conf_path, plat.conf_encoding)
        _write_conf(
            loc.conf_path,
            conf_lines(existing, loc.conf_key, interpreter),
            plat.conf_encoding,
            "\r\n" if plat.system == "windows" else "\n",
        )
        written.append(loc.conf_path)
        if plat.system == "windows":
            # The worksheet functions' DLL must sit where the add-in's VBA looks for it (issue: after
            # pip install --user it lies in %APPDATA%\Python, not beside python.exe).
            from xlperf.excel.diagnose import place_dll

            written += place_dll(interpreter)
        if loc.applescript_dir is not None:
            script = _xlwings_applescript()
            if script.is_file():
                target = loc.applescript_dir / script.name
                _copy_atomic(script, target)
                written.append(target)
    except PermissionError as exc:
        raise InstallError(
            f"无法写入 {exc.filename}：没有权限或文件被占用。请先完全退出 Excel，再重新运行 "
            "xlperf addin install。"
        ) from exc
    except OSError as exc:
        raise InstallError(f"无法写入 {getattr(exc, 'filename', '') or ''}：{exc.strerror or exc}") from exc
    return written


def uninstall(plat: Platform) -> list[Path]:
    """Remove the add-in from XLSTART and xlperf's interpreter setting; return what was removed.

    The config file is deleted when nothing else is left in it (other keys are kept). xlwings'
    AppleScript on macOS stays: other xlwings add-ins may use it."""
    loc = locations(plat)
    removed: list[Path] = []
    try:
        if loc.addin_path.exists():
            loc.addin_path.unlink()
            removed.append(loc.addin_path)
        if loc.conf_path.exists():
            rest = conf_lines(_read_conf(loc.conf_path, plat.conf_encoding), loc.conf_key, None)
            if rest:
                _write_conf(
                    loc.conf_path, rest, plat.conf_encoding, "\r\n" if plat.system == "windows" else "\n"
                )
            else:
                loc.conf_path.unlink()
                if loc.conf_path.parent.name == ".xlperf" and not any(loc.conf_path.parent.iterdir()):
                    loc.conf_path.parent.rmdir()
            removed.append(loc.conf_path)
    except PermissionError as exc:
        raise InstallError(
            f"无法删除 {exc.filename}：文件被占用。请先完全退出 Excel，再重新运行 xlperf addin uninstall。"
        ) from exc
    return removed


def status(plat: Platform, registry: Any = None, environ: dict[str, str] | None = None) -> Status:
    """Whether the add-in and the interpreter setting are in place, and on Windows what Excel will
    make of them (:mod:`xlperf.excel.diagnose`; ``registry`` defaults to the real one). Never raises
    on Linux."""
    try:
        loc = locations(plat)
    except UnsupportedPlatform:
        return Status(plat, None, False, None, False)
    interpreter = None
    for line in _read_conf(loc.conf_path, plat.conf_encoding).splitlines():
        parts = [p.strip().strip('"') for p in line.split(",", 1)]
        if len(parts) == 2 and parts[0].lower() == loc.conf_key.lower():
            interpreter = parts[1]
    installed = loc.addin_path.is_file()
    current = _is_current(loc.addin_path) if installed else None
    checks: tuple[Any, ...] = ()
    if plat.system == "windows":
        from xlperf.excel import diagnose

        if registry is None and sys.platform.startswith("win"):
            registry = diagnose.WinRegistry()
        if registry is not None:
            checks = (
                *diagnose.interpreter_checks(interpreter),
                diagnose.dll_check(interpreter, registry),
                *diagnose.policy_checks(registry, str(loc.startup_dir), environ),
            )
    return Status(
        plat,
        loc,
        installed,
        interpreter,
        bool(interpreter) and Path(str(interpreter)).exists(),
        current,
        checks,
    )


def _is_current(path: Path) -> bool | None:
    """True when ``path`` is byte for byte the add-in this xlperf builds (builds are reproducible)."""
    from xlperf.excel.addin import build_addin

    try:
        with tempfile.TemporaryDirectory(prefix="xlperf-status-") as tmp:
            return build_addin(Path(tmp) / ADDIN_NAME).read_bytes() == path.read_bytes()
    except (OSError, ValueError, RuntimeError):
        return None
