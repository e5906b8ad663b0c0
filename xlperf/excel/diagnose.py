"""What a clerk's Windows PC will do with xlperf.xlam: the checks behind ``xlperf addin status``.

Each check reads files and the Windows registry (``winreg``) and returns a :class:`Check` with a
Chinese verdict and, when something is wrong, what to ask IT for. The registry is reached through
the :class:`Registry` protocol: :class:`WinRegistry` on Windows; the tests use a dictionary (no
Windows runs in CI, so a fake registry is the one stand-in there).

What is checked (registry paths under ``HKCU`` and, for policies, ``HKLM`` too; ``<v>`` is each
Office version found, e.g. ``16.0``):

* the add-in is in XLSTART and is the one this xlperf builds;
* the interpreter in ``%USERPROFILE%\\.xlperf\\xlperf.conf`` exists;
* ``xlwings64-<version>.dll`` / ``xlwings32-…`` (Excel's bitness from
  ``HKLM\\SOFTWARE\\Microsoft\\Office\\ClickToRun\\Configuration\\Platform``) is where the add-in's VBA
  looks for it: beside the interpreter or one folder up (xlwings' ``XLPyLoadDLL``);
* ``Software\\Policies\\Microsoft\\Office\\<v>\\Excel\\Security``: ``RequireAddinSig`` (application
  add-ins must be signed by a Trusted Publisher: an unsigned add-in is disabled without a word),
  ``VBAWarnings``, and ``Trusted Locations``: ``AllLocationsDisabled``, ``AllowNetworkLocations``
  (XLSTART under a redirected, network %APPDATA% is not trusted by default);
* ``Software\\Microsoft\\Office\\<v>\\Excel\\Security\\Trusted Locations``: a location covers XLSTART;
* ``Software\\Microsoft\\Office\\<v>\\Excel\\Resiliency\\DisabledItems``: Excel disabled an add-in.
"""

from __future__ import annotations

import importlib.metadata
import ntpath
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath
from typing import Any, Protocol

__all__ = [
    "HKCU",
    "HKLM",
    "Check",
    "Registry",
    "WinRegistry",
    "dll_check",
    "dll_name",
    "dll_search_dirs",
    "excel_bitness",
    "interpreter_checks",
    "office_versions",
    "place_dll",
    "policy_checks",
    "xlwings_dlls",
]

HKCU, HKLM = "HKCU", "HKLM"
POLICY_ROOT = r"Software\Policies\Microsoft\Office"
OFFICE_ROOT = r"Software\Microsoft\Office"
C2R_CONFIG = r"SOFTWARE\Microsoft\Office\ClickToRun\Configuration"


class Registry(Protocol):
    """Read-only access to the registry; paths use backslashes, hives are ``HKCU`` / ``HKLM``."""

    def value(self, hive: str, key: str, name: str) -> Any:
        """The value ``name`` of ``key``, or None when the key or the value does not exist."""

    def subkeys(self, hive: str, key: str) -> list[str]:
        """Names of the subkeys of ``key`` ([] when it does not exist)."""

    def values(self, hive: str, key: str) -> dict[str, Any]:
        """All values of ``key`` ({} when it does not exist)."""


class WinRegistry:
    """:class:`Registry` over ``winreg`` (Windows only)."""

    def __init__(self) -> None:
        import importlib

        winreg: Any = importlib.import_module("winreg")  # Windows only (typeshed hides it elsewhere)
        self._winreg = winreg
        self._hives = {HKCU: winreg.HKEY_CURRENT_USER, HKLM: winreg.HKEY_LOCAL_MACHINE}

    def _open(self, hive: str, key: str) -> Any:
        try:
            return self._winreg.OpenKey(self._hives[hive], key)
        except OSError:
            return None

    def value(self, hive: str, key: str, name: str) -> Any:
        handle = self._open(hive, key)
        if handle is None:
            return None
        with handle:
            try:
                return self._winreg.QueryValueEx(handle, name)[0]
            except OSError:
                return None

    def subkeys(self, hive: str, key: str) -> list[str]:
        handle = self._open(hive, key)
        if handle is None:
            return []
        out = []
        with handle:
            i = 0
            while True:
                try:
                    out.append(self._winreg.EnumKey(handle, i))
                except OSError:
                    return out
                i += 1

    def values(self, hive: str, key: str) -> dict[str, Any]:
        handle = self._open(hive, key)
        if handle is None:
            return {}
        out: dict[str, Any] = {}
        with handle:
            i = 0
            while True:
                try:
                    name, data, _ = self._winreg.EnumValue(handle, i)
                except OSError:
                    return out
                out[name] = data
                i += 1


@dataclass(frozen=True)
class Check:
    """One line of ``xlperf addin status``. ``ok`` is None for information only."""

    title: str
    ok: bool | None
    detail: str
    ask_it: str = ""


# ------------------------------------------------------------------------------ the xlwings DLL


def dll_name(bits: int) -> str:
    """``xlwings64-<version>.dll`` or ``xlwings32-…``: the names the add-in's VBA declares."""
    version = importlib.metadata.version("xlwings")
    return f"xlwings{bits}-{version}.dll"


def xlwings_dlls() -> dict[int, Path]:
    """Where pip put the xlwings DLLs (its data folder: the environment's root, or ``%APPDATA%\\Python``
    for ``pip install --user``), by bitness. Empty on Linux and macOS, whose wheels have none."""
    dist = importlib.metadata.distribution("xlwings")
    out: dict[int, Path] = {}
    for f in dist.files or []:
        for bits in (64, 32):
            if f.name.lower() == dll_name(bits).lower():
                out[bits] = Path(str(dist.locate_file(f))).resolve()
    return out


def dll_search_dirs(interpreter: str) -> list[str]:
    """The folders xlwings' VBA (``XLPyLoadDLL``) loads the DLL from: beside the interpreter, one up."""
    parent = ntpath.dirname(interpreter) if "\\" in interpreter else os.path.dirname(interpreter)
    up = ntpath.dirname(parent) if "\\" in parent else os.path.dirname(parent)
    return [parent, up]


def excel_bitness(reg: Registry) -> int | None:
    """64 or 32 for Click-to-Run Office (Microsoft 365, 2019, 2021), from its Platform value."""
    platform = reg.value(HKLM, C2R_CONFIG, "Platform")
    if isinstance(platform, str):
        return {"x64": 64, "x86": 32}.get(platform.strip().lower())
    for version in office_versions(reg):
        bitness = reg.value(HKLM, rf"SOFTWARE\Microsoft\Office\{version}\Outlook", "Bitness")
        if isinstance(bitness, str):
            return {"x64": 64, "x86": 32}.get(bitness.strip().lower())
    return None


def office_versions(reg: Registry) -> list[str]:
    """Office versions with settings for this user (``16.0`` for Office 2016 to Microsoft 365)."""
    found = {k for k in reg.subkeys(HKCU, OFFICE_ROOT) if re.fullmatch(r"\d+\.\d", k)}
    found |= {k for k in reg.subkeys(HKCU, POLICY_ROOT) if re.fullmatch(r"\d+\.\d", k)}
    return sorted(found, key=lambda v: float(v), reverse=True)


def interpreter_checks(interpreter: str | None, timeout: float = 120) -> list[Check]:
    """Can the add-in's Python import xlperf and xlwings? Is it the Microsoft Store Python?

    The import is run for real (``<python> -c "import xlperf.excel, xlwings"``): the usual failure is
    xlperf installed into another Python than the one in the config file.
    """
    import subprocess

    title = "加载项使用的 Python"
    if not interpreter:
        return [Check(title, False, "未设置。", "请运行 xlperf addin install。")]
    if not os.path.exists(interpreter):
        return [
            Check(
                title,
                False,
                f"{interpreter} 不存在（Python 被卸载或移动了？）。",
                "请用现在的 Python 重新运行 xlperf addin install。",
            )
        ]
    out: list[Check] = []
    parts = {p.lower() for p in PureWindowsPath(interpreter).parts}
    if "windowsapps" in parts:
        out.append(
            Check(
                title,
                False,
                "这是 Microsoft Store 版 Python：它为自己写入 AppData 的文件可能被重定向到应用的私有目录，"
                "Excel 看不到（加载项、设置文件、DLL）。",
                "请 IT 安装 python.org 的 Windows 版 Python，用它安装 xlperf 后重新运行 xlperf "
                "addin install。",
            )
        )
    try:
        # In the interpreter's folder, as xlwings' RunPython runs it (not in whatever folder we are in).
        run = subprocess.run(
            [interpreter, "-c", "import xlperf.excel, xlwings"],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=os.path.dirname(interpreter) or None,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [
            *out,
            Check(
                title,
                False,
                f"无法运行 {interpreter}：{exc}",
                "请用现在的 Python 重新运行 xlperf addin install。",
            ),
        ]
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["?"])[-1]
        out.append(
            Check(
                title,
                False,
                f"{interpreter} 无法加载 xlperf（{last}）。",
                f'请用这个 Python 安装 xlperf："{interpreter}" -m pip install xlperf-….whl，'
                "或用装有 xlperf 的 Python 重新运行 xlperf addin install。",
            )
        )
    else:
        out.append(Check(title, True, f"{interpreter} 能加载 xlperf 和 xlwings。"))
    return out


def dll_check(
    interpreter: str | None,
    reg: Registry,
    exists: Callable[[str], bool] = os.path.exists,
    dlls: dict[int, Path] | None = None,
) -> Check:
    """Is the DLL of Excel's bitness where the add-in's VBA will look for it?"""
    title = "工作表函数所需的 xlwings DLL"
    if not interpreter:
        return Check(title, False, "加载项的 Python 未设置，找不到 DLL。", "请运行 xlperf addin install。")
    bits = excel_bitness(reg)
    wanted = [bits] if bits else [64, 32]
    dirs = dll_search_dirs(interpreter)
    sep = "\\" if "\\" in interpreter else "/"
    for b in wanted:
        for folder in dirs:
            if exists(folder + sep + dll_name(b)):
                which = f"{b} 位 Excel 用的 " if bits else ""
                return Check(title, True, f"{which}{dll_name(b)} 在 {folder}，加载项能找到。")
    have = dlls if dlls is not None else xlwings_dlls()
    where = "；".join(f"{p}" for b, p in sorted(have.items()) if b in wanted) or "（pip 没有装 DLL）"
    name = dll_name(wanted[0])
    return Check(
        title,
        False,
        f"加载项只在 {dirs[0]} 和 {dirs[1]} 中找 {name}，那里没有（DLL 在：{where}）。"
        "XLPERF_ 开头的工作表函数会显示 “Could not load …dll”；选项卡按钮不受影响。",
        f"请 IT 把 {name} 复制到 {dirs[0]}（需要管理员权限），或者不用 --user、改用普通方式安装 xlperf "
        "后重新运行 xlperf addin install。",
    )


def place_dll(interpreter: str, dlls: dict[int, Path] | None = None) -> list[Path]:
    """Copy the xlwings DLLs beside ``interpreter`` (or one folder up) when the VBA would not find them.

    Used by ``xlperf addin install`` on Windows. Returns the files written; a folder that cannot be
    written (``C:\\Program Files``) is skipped: :func:`dll_check` then tells what to ask IT for.
    """
    import shutil

    have = dlls if dlls is not None else xlwings_dlls()
    dirs = [Path(d) for d in dll_search_dirs(interpreter)]
    written: list[Path] = []
    for _bits, source in sorted(have.items()):
        if any((d / source.name).exists() for d in dirs):
            continue
        for folder in dirs:
            target = folder / source.name
            try:
                shutil.copyfile(source, target)
            except OSError:
                continue
            written.append(target)
            break
    return written


# ------------------------------------------------------------------------------ Office policies


def _expand(path: str, env: dict[str, str]) -> str:
    return re.sub(r"%([^%]+)%", lambda m: env.get(m.group(1).upper(), m.group(0)), path)


def _is_network(path: str) -> bool:
    return path.startswith("\\\\") or path.startswith("//")


def _covers(location: str, subfolders: bool, target: str) -> bool:
    loc = PureWindowsPath(location.rstrip("\\/") or location)
    tgt = PureWindowsPath(target)
    if str(loc).lower() == str(tgt).lower():
        return True
    return subfolders and str(tgt).lower().startswith(str(loc).lower().rstrip("\\") + "\\")


def policy_checks(reg: Registry, xlstart: str, env: dict[str, str] | None = None) -> list[Check]:
    """Signing policy, macro settings and trusted locations that decide whether Excel runs the add-in."""
    env = {k.upper(): v for k, v in (env if env is not None else os.environ).items()}
    versions = office_versions(reg)
    if not versions:
        return [
            Check(
                "Excel",
                False,
                "没有找到这个用户的 Office 设置（注册表 HKCU\\Software\\Microsoft\\Office）。",
                "请确认本机已安装 Windows 版 Excel，并用当前用户打开过一次。",
            )
        ]
    checks: list[Check] = []
    for v in versions:
        checks += _version_checks(reg, v, xlstart, env)
    return checks


def _policy(reg: Registry, key: str, name: str) -> Any:
    """A policy value: machine policy wins over user policy, as Office applies them."""
    for hive in (HKLM, HKCU):
        value = reg.value(hive, key, name)
        if value is not None:
            return value
    return None


def _version_checks(reg: Registry, v: str, xlstart: str, env: dict[str, str]) -> list[Check]:
    sec_policy = rf"{POLICY_ROOT}\{v}\Excel\Security"
    tl_policy = sec_policy + r"\Trusted Locations"
    sec_user = rf"{OFFICE_ROOT}\{v}\Excel\Security"
    tag = f"Office {v}"
    out: list[Check] = []

    if _policy(reg, sec_policy, "RequireAddinSig") == 1:
        out.append(
            Check(
                f"{tag} 加载项签名策略",
                False,
                "组策略要求“应用程序加载项由受信任的发布者签名”：未签名的 xlperf.xlam 会被 Excel "
                "直接停用，不提示。",
                "请 IT 用单位的代码签名证书给 xlperf.xlam 签名并把证书设为受信任的发布者，"
                "或对本机取消“要求应用程序加载项由受信任的发布者签名”策略。",
            )
        )
    else:
        out.append(Check(f"{tag} 加载项签名策略", True, "没有要求加载项必须签名。"))

    all_disabled = _policy(reg, tl_policy, "AllLocationsDisabled") == 1
    if all_disabled:
        out.append(
            Check(
                f"{tag} 受信任位置",
                False,
                "组策略停用了所有受信任位置：启动文件夹（XLSTART）中的加载项也按宏设置处理，通常不会运行。",
                "请 IT 对本机恢复受信任位置（取消“禁用所有受信任位置”策略）。",
            )
        )
    xlstart_path = _expand(xlstart, env)
    if _is_network(xlstart_path) and _policy(reg, tl_policy, "AllowNetworkLocations") != 1:
        out.append(
            Check(
                f"{tag} 网络位置",
                False,
                f"启动文件夹在网络上（{xlstart_path}，%APPDATA% 被重定向）：Office 默认不信任网络位置，"
                "加载项的宏不会运行。",
                "请 IT 允许网络上的受信任位置（“允许网络上的受信任位置”策略），并把该文件夹加为受信任位置。",
            )
        )

    warnings = _policy(reg, sec_policy, "VBAWarnings")
    if warnings is None:
        warnings = reg.value(HKCU, sec_user, "VBAWarnings")
    names = {
        1: "启用所有宏",
        2: "禁用所有宏，并发出通知",
        3: "禁用无数字签署的所有宏",
        4: "禁用所有宏，并且不通知",
    }
    if warnings in names:
        trusted = not all_disabled and not _is_network(xlstart_path)
        out.append(
            Check(
                f"{tag} 宏设置",
                bool(trusted or warnings == 1),
                f"宏设置为“{names[warnings]}”" + ("；受信任位置中的加载项不受它影响。" if trusted else "。"),
                "" if trusted or warnings == 1 else "请 IT 把启动文件夹设为受信任位置。",
            )
        )

    locations = _trusted_locations(reg, rf"{sec_user}\Trusted Locations", env) + _trusted_locations(
        reg, tl_policy, env
    )
    if locations:
        covered = any(_covers(p, sub, xlstart_path) for p, sub in locations)
        out.append(
            Check(
                f"{tag} 启动文件夹是否受信任",
                covered,
                f"{xlstart_path} " + ("在受信任位置中。" if covered else "不在任何受信任位置中。"),
                ""
                if covered
                else f"请 IT 把 {xlstart_path} 加为受信任位置（文件 > 选项 > 信任中心 > 受信任位置）。",
            )
        )

    disabled = reg.values(HKCU, rf"{OFFICE_ROOT}\{v}\Excel\Resiliency\DisabledItems")
    if disabled:
        out.append(
            Check(
                f"{tag} 禁用项目",
                None,
                f"Excel 记录了 {len(disabled)} 个被禁用的项目（常因某次崩溃）；若“绩效自评”选项卡不出现，"
                "请在 文件 > 选项 > 加载项 > 管理“禁用项目” 中启用 xlperf.xlam。",
            )
        )
    return out


def _trusted_locations(reg: Registry, key: str, env: dict[str, str]) -> list[tuple[str, bool]]:
    out = []
    for sub in reg.subkeys(HKCU, key) + reg.subkeys(HKLM, key):
        path = reg.value(HKCU, rf"{key}\{sub}", "Path") or reg.value(HKLM, rf"{key}\{sub}", "Path")
        if isinstance(path, str) and path:
            subfolders = (
                reg.value(HKCU, rf"{key}\{sub}", "AllowSubfolders")
                or reg.value(HKLM, rf"{key}\{sub}", "AllowSubfolders")
            ) == 1
            out.append((_expand(path, env), subfolders))
    return out


def summarize(checks: Iterable[Check]) -> tuple[int, int]:
    """(problems, checks with a verdict)."""
    items = [c for c in checks if c.ok is not None]
    return sum(1 for c in items if not c.ok), len(items)
