"""``xlperf addin build|install|uninstall|status``: real files in a temporary home, on every platform."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from xlperf.cli import main
from xlperf.excel import install as inst

APPDATA_REL = Path("AppData") / "Roaming"


def windows(home: Path, encoding: str = "utf-8") -> inst.Platform:
    return inst.Platform("windows", home, home / APPDATA_REL, encoding)


def macos(home: Path) -> inst.Platform:
    return inst.Platform("macos", home)


def run(args: list[str], plat: inst.Platform | None = None) -> tuple[int, str]:
    # through the command line's root, whose one handler shows expected errors (XlperfError)
    result = CliRunner().invoke(main, ["addin", *args], obj={"addin_platform": plat} if plat else {})
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def built_addin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("build") / "xlperf.xlam"
    code, output = run(["build", "-o", str(out)])
    assert code == 0, output
    return out


def test_build_writes_the_addin(built_addin: Path) -> None:
    with zipfile.ZipFile(built_addin) as zf:
        assert "customUI/customUI14.xml" in zf.namelist()
        assert "xl/vbaProject.bin" in zf.namelist()


def test_build_defaults_to_the_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, output = run(["build"])
    assert code == 0, output
    assert (tmp_path / "xlperf.xlam").is_file()


def test_windows_install_status_uninstall(tmp_path: Path, built_addin: Path) -> None:
    plat = windows(tmp_path)
    code, output = run(["install", "--addin", str(built_addin), "--interpreter", sys.executable], plat)
    assert code == 0, output
    xlstart = tmp_path / APPDATA_REL / "Microsoft" / "Excel" / "XLSTART" / "xlperf.xlam"
    assert xlstart.read_bytes() == built_addin.read_bytes()
    conf = tmp_path / ".xlperf" / "xlperf.conf"
    assert conf.read_bytes() == f'"Interpreter_Win","{sys.executable}"\r\n'.encode()
    code, output = run(["status"], plat)
    assert code == 0 and "已安装" in output and sys.executable in output
    code, output = run(["uninstall"], plat)
    assert code == 0, output
    assert not xlstart.exists() and not conf.exists() and not conf.parent.exists()
    code, output = run(["status"], plat)
    assert code == 0 and "未安装" in output


def test_install_builds_when_no_file_given(tmp_path: Path) -> None:
    code, output = run(["install"], windows(tmp_path))
    assert code == 0, output
    assert (tmp_path / APPDATA_REL / "Microsoft" / "Excel" / "XLSTART" / "xlperf.xlam").is_file()


def test_conf_keeps_other_settings_and_replaces_ours(tmp_path: Path, built_addin: Path) -> None:
    plat = windows(tmp_path)
    conf = tmp_path / ".xlperf" / "xlperf.conf"
    conf.parent.mkdir()
    conf.write_bytes(b'"INTERPRETER_WIN","C:\\old\\python.exe"\r\n"PYTHONPATH","C:\\extra"\r\n')
    inst.install(plat, built_addin, r"C:\Python311\python.exe")
    assert (
        conf.read_bytes() == b'"PYTHONPATH","C:\\extra"\r\n"Interpreter_Win","C:\\Python311\\python.exe"\r\n'
    )
    inst.uninstall(plat)
    assert conf.read_bytes() == b'"PYTHONPATH","C:\\extra"\r\n'


def test_windows_conf_uses_the_ansi_code_page(tmp_path: Path, built_addin: Path) -> None:
    """VBA reads the file in the system code page: a Chinese user name must be written in it."""
    path = r"C:\Users\张三\AppData\Local\Programs\Python\Python311\python.exe"
    inst.install(windows(tmp_path, "gbk"), built_addin, path)
    assert (tmp_path / ".xlperf" / "xlperf.conf").read_bytes() == f'"Interpreter_Win","{path}"\r\n'.encode(
        "gbk"
    )
    assert inst.status(windows(tmp_path, "gbk")).conf_interpreter == path
    with pytest.raises(inst.InstallError, match="系统编码"):
        inst.install(windows(tmp_path, "ascii"), built_addin, path)


def test_macos_install(tmp_path: Path, built_addin: Path) -> None:
    plat = macos(tmp_path)
    code, output = run(["install", "--addin", str(built_addin), "--interpreter", "/opt/py/bin/python3"], plat)
    assert code == 0, output
    lib = tmp_path / "Library"
    startup = (
        lib / "Group Containers" / "UBF8T346G9.Office" / "User Content" / "Startup" / "Excel" / "xlperf.xlam"
    )
    assert startup.read_bytes() == built_addin.read_bytes()
    conf = lib / "Containers" / "com.microsoft.Excel" / "Data" / "xlperf.conf"
    assert conf.read_text() == '"Interpreter_Mac","/opt/py/bin/python3"\n'
    scripts = list((lib / "Application Scripts" / "com.microsoft.Excel").glob("xlwings-*.applescript"))
    assert len(scripts) == 1
    assert "工作表函数" in output
    code, output = run(["status"], plat)
    assert code == 0 and "/opt/py/bin/python3" in output and "该文件不存在" in output
    code, _ = run(["uninstall"], plat)
    assert code == 0 and not startup.exists() and not conf.exists()


def test_linux_says_plainly_and_shows_the_headless_command(tmp_path: Path) -> None:
    plat = inst.Platform("linux", tmp_path)
    code, output = run(["status"], plat)
    assert code == 0 and "Windows 或 macOS" in output and "xlperf run 自评表.xlsx" in output
    code, output = run(["install"], plat)
    assert code == 2 and "xlperf run 自评表.xlsx" in output
    code, _ = run(["uninstall"], plat)
    assert code == 2
    assert not any(tmp_path.iterdir())


def test_install_reports_a_locked_file(
    tmp_path: Path, built_addin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def locked(source: Path, target: Path) -> None:
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(inst, "_copy_atomic", locked)
    code, output = run(["install", "--addin", str(built_addin)], windows(tmp_path))
    assert code == 2 and "退出 Excel" in output


def test_module_imports_only_click() -> None:
    import subprocess

    code = (
        "import sys; import xlperf.commands.addin; "
        "print(','.join(m for m in ('openpyxl', 'xlwings', 'pandas', 'xlperf.excel.addin') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
