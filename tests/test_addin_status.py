"""``xlperf addin status`` on a clerk's Windows PC, and the DLL placement of ``addin install``.

No Windows runs here, so the registry is the one stand-in: :class:`FakeRegistry` holds the keys and
values that ``winreg`` would return (the real reader, ``diagnose.WinRegistry``, cannot run on
Linux). Files (XLSTART, the config file, python.exe, the xlwings DLLs) are real files in a
temporary home. The DLLs are empty files named as in the Windows xlwings wheel, where pip installs
them into its data folder (``xlwings-<v>.data/data/``: the environment's root, or
``%APPDATA%\\Python`` after ``pip install --user``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from xlperf.commands.addin import addin
from xlperf.excel import diagnose
from xlperf.excel import install as inst

APPDATA_REL = Path("AppData") / "Roaming"


class FakeRegistry:
    """``{(hive, key): {value name: data}}``; key names are case-insensitive, as in Windows."""

    def __init__(self, data: dict[tuple[str, str], dict[str, Any]]) -> None:
        self.data = {(h, k.lower()): v for (h, k), v in data.items()}

    def value(self, hive: str, key: str, name: str) -> Any:
        return self.data.get((hive, key.lower()), {}).get(name)

    def values(self, hive: str, key: str) -> dict[str, Any]:
        return dict(self.data.get((hive, key.lower()), {}))

    def subkeys(self, hive: str, key: str) -> list[str]:
        prefix = key.lower() + "\\"
        return sorted(
            {k[len(prefix) :].split("\\")[0] for h, k in self.data if h == hive and k.startswith(prefix)}
        )


SEC = r"Software\Microsoft\Office\16.0\Excel\Security"
POL = r"Software\Policies\Microsoft\Office\16.0\Excel\Security"


def clerk_pc(**extra: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """A Microsoft 365 (64-bit) PC with Excel's default trusted location for the user's XLSTART."""
    data: dict[tuple[str, str], dict[str, Any]] = {
        ("HKLM", diagnose.C2R_CONFIG): {"Platform": "x64"},
        ("HKCU", SEC): {"VBAWarnings": 2},
        ("HKCU", SEC + r"\Trusted Locations\Location2"): {
            "Path": r"%APPDATA%\Microsoft\Excel\XLSTART",
            "Description": "User StartUp",
        },
    }
    for key, values in extra.items():
        hive, _, path = key.partition(":")
        data[(hive, path)] = values
    return data


def python_exe(path: Path, real: str = sys.executable) -> Path:
    """A ``python.exe`` at ``path`` that runs the real interpreter ``real`` (a shell script: Linux)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'#!/bin/sh\nexec "{real}" "$@"\n', encoding="utf-8")
    path.chmod(0o755)
    return path


@pytest.fixture
def pc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Python in ``tmp/Python311`` with the xlwings DLLs beside it (a normal per-user install)."""
    home = tmp_path / "home"
    python = python_exe(tmp_path / "Python311" / "python.exe")
    dlls = {}
    for bits in (64, 32):
        dll = python.parent / diagnose.dll_name(bits)
        dll.write_bytes(b"MZ")
        dlls[bits] = dll
    monkeypatch.setattr(diagnose, "xlwings_dlls", lambda: dlls)
    plat = inst.Platform("windows", home, home / APPDATA_REL)
    env = {"APPDATA": str(home / APPDATA_REL), "USERPROFILE": str(home)}
    return {"plat": plat, "python": python, "dlls": dlls, "env": env, "tmp": tmp_path}


def status_output(pc: dict[str, Any], registry: FakeRegistry, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        addin,
        ["status", *args],
        obj={"addin_platform": pc["plat"], "addin_registry": registry, "addin_environ": pc["env"]},
    )
    return result.exit_code, result.output


def install(pc: dict[str, Any], interpreter: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        addin, ["install", "--interpreter", str(interpreter)], obj={"addin_platform": pc["plat"]}
    )
    return result.exit_code, result.output


def test_a_clean_pc_reports_no_problem(pc: dict[str, Any]) -> None:
    code, output = install(pc, pc["python"])
    assert code == 0, output
    code, output = status_output(pc, FakeRegistry(clerk_pc()))
    assert code == 0, output
    assert "已安装" in output and "与当前 xlperf 生成的一致" in output
    assert f"[正常] 工作表函数所需的 xlwings DLL：64 位 Excel 用的 {diagnose.dll_name(64)}" in output
    assert f"[正常] 加载项使用的 Python：{pc['python']} 能加载 xlperf 和 xlwings" in output
    assert "[正常] Office 16.0 加载项签名策略" in output
    assert "[正常] Office 16.0 启动文件夹是否受信任" in output
    assert "[问题]" not in output and "发现" not in output


def test_an_old_addin_is_reported(pc: dict[str, Any]) -> None:
    install(pc, pc["python"])
    xlam = pc["plat"].appdata / "Microsoft" / "Excel" / "XLSTART" / "xlperf.xlam"
    xlam.write_bytes(xlam.read_bytes() + b"\0")  # any other bytes: an add-in of another version
    _, output = status_output(pc, FakeRegistry(clerk_pc()))
    assert "不是当前 xlperf 生成的版本" in output


def test_signing_policy_is_reported_with_what_to_ask_it(pc: dict[str, Any]) -> None:
    install(pc, pc["python"])
    reg = FakeRegistry(clerk_pc(**{f"HKCU:{POL}": {"RequireAddinSig": 1}}))
    _, output = status_output(pc, reg)
    assert "[问题] Office 16.0 加载项签名策略" in output and "直接停用" in output
    assert "处理：请 IT 用单位的代码签名证书给 xlperf.xlam 签名" in output
    assert "发现 1 个问题" in output
    assert status_output(pc, reg)[0] == 1  # IT scripts can test the exit code
    # Machine policy counts as well.
    reg = FakeRegistry(clerk_pc(**{f"HKLM:{POL}": {"RequireAddinSig": 1}}))
    assert "[问题] Office 16.0 加载项签名策略" in status_output(pc, reg)[1]


def test_trusted_locations_disabled_by_policy(pc: dict[str, Any]) -> None:
    install(pc, pc["python"])
    reg = FakeRegistry(
        clerk_pc(
            **{
                f"HKCU:{POL}\\Trusted Locations": {"AllLocationsDisabled": 1},
                f"HKCU:{POL}": {"VBAWarnings": 4},
            }
        )
    )
    _, output = status_output(pc, reg)
    assert "[问题] Office 16.0 受信任位置：组策略停用了所有受信任位置" in output
    assert "[问题] Office 16.0 宏设置：宏设置为“禁用所有宏，并且不通知”" in output


def test_xlstart_on_a_redirected_network_appdata(pc: dict[str, Any]) -> None:
    unc = r"\\fileserver\profiles$\zhangsan\AppData\Roaming"
    pc["plat"] = inst.Platform("windows", pc["plat"].home, Path(unc))
    pc["env"]["APPDATA"] = unc
    _, output = status_output(pc, FakeRegistry(clerk_pc()))
    assert "[问题] Office 16.0 网络位置" in output and "允许网络上的受信任位置" in output
    allowed = FakeRegistry(clerk_pc(**{f"HKCU:{POL}\\Trusted Locations": {"AllowNetworkLocations": 1}}))
    assert "网络位置" not in status_output(pc, allowed)[1]


def test_xlstart_not_among_the_trusted_locations(pc: dict[str, Any]) -> None:
    data = clerk_pc()
    data[("HKCU", SEC + r"\Trusted Locations\Location2")]["Path"] = r"C:\Somewhere\Else"
    _, output = status_output(pc, FakeRegistry(data))
    assert "[问题] Office 16.0 启动文件夹是否受信任" in output and "不在任何受信任位置中" in output


def test_disabled_items_and_no_office(pc: dict[str, Any]) -> None:
    reg = FakeRegistry(
        clerk_pc(
            **{r"HKCU:Software\Microsoft\Office\16.0\Excel\Resiliency\DisabledItems": {"1A2B3C": b"\x01\x00"}}
        )
    )
    assert "[提示] Office 16.0 禁用项目" in status_output(pc, reg)[1]
    _, output = status_output(pc, FakeRegistry({}))
    assert "[问题] Excel：没有找到这个用户的 Office 设置" in output


# ------------------------------------------------------------------------------ the xlwings DLL


def test_dll_after_pip_install_user_is_copied_where_the_vba_looks(pc: dict[str, Any]) -> None:
    """pip install --user: the DLL is in %APPDATA%\\Python, python.exe elsewhere; install copies it."""
    python = python_exe(pc["tmp"] / "Programs" / "Python311" / "python.exe")
    userbase = pc["tmp"] / "home" / APPDATA_REL / "Python"
    userbase.mkdir(parents=True)
    for bits, dll in list(pc["dlls"].items()):
        pc["dlls"][bits] = dll.rename(userbase / dll.name)
    before = diagnose.dll_check(str(python), FakeRegistry(clerk_pc()), dlls=pc["dlls"])
    assert before.ok is False and "Could not load" in before.detail and str(userbase) in before.detail
    code, output = install(pc, python)
    assert code == 0, output
    assert (python.parent / diagnose.dll_name(64)).read_bytes() == b"MZ"
    assert str(python.parent / diagnose.dll_name(64)) in output
    assert diagnose.dll_check(str(python), FakeRegistry(clerk_pc())).ok is True


def test_dll_in_an_unwritable_folder_tells_what_to_ask_it(pc: dict[str, Any]) -> None:
    """python.exe under C:\\Program Files (not writable for the clerk): nothing copied,
    status says what to do."""
    program_files = r"C:\Program Files\Python311\python.exe"
    assert diagnose.place_dll(program_files, pc["dlls"]) == []
    check = diagnose.dll_check(
        program_files, FakeRegistry(clerk_pc()), exists=lambda p: False, dlls=pc["dlls"]
    )
    assert check.ok is False
    assert r"C:\Program Files\Python311" in check.detail and r"C:\Program Files" in check.detail
    assert "请 IT 把" in check.ask_it and diagnose.dll_name(64) in check.ask_it


def test_install_warns_when_the_dll_cannot_be_placed(pc: dict[str, Any]) -> None:
    """Neither folder beside python.exe can be written (here: they do not exist; on a PC:
    C:\\Program Files, which root-run tests cannot imitate with permissions): install says what IT
    has to copy where."""
    python = pc["tmp"] / "elsewhere" / "Python311" / "python.exe"
    for bits, dll in list(pc["dlls"].items()):  # the DLLs live elsewhere (pip install --user)
        pc["dlls"][bits] = dll.rename(pc["tmp"] / dll.name)
    result = CliRunner().invoke(
        addin,
        ["install", "--interpreter", str(python)],
        obj={"addin_platform": pc["plat"], "addin_registry": FakeRegistry(clerk_pc())},
    )
    assert result.exit_code == 0
    assert "注意：加载项只在" in result.output and "请 IT 把 xlwings64-" in result.output
    assert not python.parent.exists()


def test_dll_lookup_follows_excels_bitness(pc: dict[str, Any]) -> None:
    (pc["python"].parent / diagnose.dll_name(64)).unlink()
    x86 = FakeRegistry(clerk_pc(**{f"HKLM:{diagnose.C2R_CONFIG}": {"Platform": "x86"}}))
    assert diagnose.dll_check(str(pc["python"]), x86).ok is True  # 32-bit Excel needs only xlwings32
    assert diagnose.dll_check(str(pc["python"]), FakeRegistry(clerk_pc())).ok is False


def test_dll_search_dirs_are_the_vbas() -> None:
    """XLPyLoadDLL: ParentFolder(PYTHON_WIN), then ParentFolder(ParentFolder(PYTHON_WIN))."""
    assert diagnose.dll_search_dirs(r"C:\venv\Scripts\python.exe") == [r"C:\venv\Scripts", r"C:\venv"]


def test_linux_status_explains_and_exits_0(tmp_path: Path) -> None:
    result = CliRunner().invoke(addin, ["status"], obj={"addin_platform": inst.Platform("linux", tmp_path)})
    assert result.exit_code == 0 and "Windows 或 macOS" in result.output


# ------------------------------------------------------------------------------ the interpreter


def test_an_interpreter_without_xlperf_is_reported(pc: dict[str, Any]) -> None:
    """The system Python (no xlperf, no xlwings) named in the config, as when IT installed elsewhere."""
    system = python_exe(pc["tmp"] / "other" / "python.exe", "/usr/bin/python3")
    install(pc, system)
    _, output = status_output(pc, FakeRegistry(clerk_pc()))
    assert f"[问题] 加载项使用的 Python：{system} 无法加载 xlperf" in output
    assert "ModuleNotFoundError" in output and "-m pip install" in output


def test_a_missing_interpreter_is_reported(pc: dict[str, Any]) -> None:
    install(pc, pc["python"])
    pc["python"].unlink()
    _, output = status_output(pc, FakeRegistry(clerk_pc()))
    assert "[问题] 加载项使用的 Python：" in output and "不存在" in output


def test_the_microsoft_store_python_is_reported(pc: dict[str, Any]) -> None:
    store = python_exe(
        pc["tmp"]
        / "home"
        / "AppData"
        / "Local"
        / "Microsoft"
        / "WindowsApps"
        / "PythonSoftwareFoundation.Python.3.11_qbz5n2kfra8p0"
        / "python.exe"
    )
    checks = diagnose.interpreter_checks(str(store))
    assert (
        checks[0].ok is False and "Microsoft Store" in checks[0].detail and "python.org" in checks[0].ask_it
    )
    assert checks[1].ok is True
