"""``xlperf addin build|install|uninstall|status``: build and install the Excel add-in xlperf.xlam."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from xlperf.commands.common import EXIT_FINDINGS, EXIT_INPUT
from xlperf.commands.terminal import shown


def _platform(ctx: click.Context) -> Any:
    from xlperf.excel.install import detect_platform

    obj = ctx.find_root().obj
    injected = obj.get("addin_platform") if isinstance(obj, dict) else None
    return injected or detect_platform()


def _build(output: Path) -> Path:
    from xlperf.excel.addin import build_addin
    from xlperf.excel.install import InstallError

    try:
        return build_addin(output)
    except FileNotFoundError as exc:  # the package's VBA sources are missing: an incomplete install
        raise InstallError(
            f"无法生成加载项：{exc}\nxlperf 的安装不完整：请重新安装（pip install --force-reinstall "
            "xlperf），或用 --addin 指定已经生成好的 xlperf.xlam。"
        ) from exc


@click.group(name="addin")
def addin() -> None:
    """Excel 加载项 xlperf.xlam：生成（build）、安装（install）、卸载（uninstall）、查看状态（status）。

    \b
    安装后 Excel 中出现“绩效自评”选项卡（校验、计算得分、生成报告、导出报送包、发送财政局）。
    只支持 Windows 和 macOS 的 Excel；其他系统请用命令行：xlperf run 自评表.xlsx
    """


@addin.command(name="build")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="加载项文件或文件夹（默认：当前文件夹下的 xlperf.xlam）。",
)
def build_cmd(output: Path | None) -> None:
    """生成加载项 xlperf.xlam（不需要 Excel，任何系统都可以生成）。"""
    target = output if output is not None else Path.cwd() / "xlperf.xlam"
    path = _build(target)
    click.echo(f"已生成加载项：{shown(path)}")


@addin.command(name="install")
@click.option(
    "--addin",
    "addin_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="安装这个已经生成好的 xlperf.xlam（默认：现场生成一个）。",
)
@click.option(
    "--interpreter", default=None, metavar="PATH", help="加载项调用的 Python（默认：运行本命令的 Python）。"
)
@click.pass_context
def install_cmd(ctx: click.Context, addin_file: Path | None, interpreter: str | None) -> None:
    """把加载项复制到 Excel 的启动文件夹（XLSTART），并写入加载项要用的 Python 路径。"""
    from xlperf.excel.install import install, unsupported_message

    plat = _platform(ctx)
    if plat.system not in ("windows", "macos"):
        click.secho(unsupported_message(plat), fg="yellow", err=True)
        sys.exit(EXIT_INPUT)
    with tempfile.TemporaryDirectory(prefix="xlperf-addin-") as tmp:
        source = addin_file if addin_file is not None else _build(Path(tmp) / "xlperf.xlam")
        written = install(plat, source, interpreter)  # an InstallError is shown by the command line
    click.echo("已安装 xlperf 加载项：")
    for path in written:
        click.echo(f"  {shown(path)}")
    if plat.system == "windows":
        _warn_dll(ctx, interpreter or sys.executable)
    click.echo("请完全退出并重新启动 Excel，“绩效自评”选项卡即会出现。")
    if plat.system == "macos":
        click.echo("注意：macOS 版 Excel 只支持选项卡按钮，不支持 XLPERF_ 开头的工作表函数。")


def _warn_dll(ctx: click.Context, interpreter: str) -> None:
    """Say so when the worksheet functions' DLL is still not where the add-in's VBA looks."""
    from xlperf.excel import diagnose

    obj = ctx.find_root().obj
    registry = obj.get("addin_registry") if isinstance(obj, dict) else None
    if registry is None:
        if not sys.platform.startswith("win"):
            return
        registry = diagnose.WinRegistry()
    check = diagnose.dll_check(interpreter, registry)
    if check.ok is False:
        click.secho(f"注意：{check.detail}\n处理：{check.ask_it}", fg="yellow", err=True)


@addin.command(name="uninstall")
@click.pass_context
def uninstall_cmd(ctx: click.Context) -> None:
    """从 Excel 启动文件夹删除加载项，并删除 xlperf 的 Python 路径设置。"""
    from xlperf.excel.install import uninstall, unsupported_message

    plat = _platform(ctx)
    if plat.system not in ("windows", "macos"):
        click.secho(unsupported_message(plat), fg="yellow", err=True)
        sys.exit(EXIT_INPUT)
    removed = uninstall(plat)
    if not removed:
        click.echo("没有找到已安装的 xlperf 加载项，无需卸载。")
        return
    click.echo("已卸载：")
    for path in removed:
        click.echo(f"  {shown(path)}")
    click.echo("请重新启动 Excel。")


@addin.command(name="status")
@click.pass_context
def status_cmd(ctx: click.Context) -> None:
    """检查这台电脑上的 Excel 能否使用加载项：是否已安装、用哪个 Python、工作表函数的 DLL、
    签名策略与受信任位置。

    \b
    每一项给出结论；有问题时说明请 IT 做什么。只读，不改动任何设置。
    退出码：0 没有发现问题（或不是 Windows/macOS），1 发现问题。
    """
    from xlperf.excel.install import status, unsupported_message

    plat = _platform(ctx)
    obj = ctx.find_root().obj
    injected = obj if isinstance(obj, dict) else {}
    st = status(plat, injected.get("addin_registry"), injected.get("addin_environ"))
    click.echo(f"系统：{plat.label}")
    if st.locations is None:
        click.echo(unsupported_message(plat))
        return
    if st.addin_installed:
        version = {
            True: "，与当前 xlperf 生成的一致",
            False: "，但不是当前 xlperf 生成的版本：请重新运行 xlperf addin install",
            None: "",
        }[st.addin_current]
        click.echo(f"加载项：已安装（{st.locations.addin_path}）{version}")
    else:
        click.echo(f"加载项：未安装（{st.locations.addin_path}）")
    if st.conf_interpreter:
        ok = "" if st.interpreter_exists else "（该文件不存在，请重新运行 xlperf addin install）"
        click.echo(f"Python：{st.conf_interpreter}{ok}（设置文件 {st.locations.conf_path}）")
    else:
        click.echo(f"Python：未设置（设置文件 {st.locations.conf_path}）")
    problems = 0
    for check in st.checks:
        mark = {True: "[正常]", False: "[问题]", None: "[提示]"}[check.ok]
        problems += check.ok is False
        click.echo(f"{mark} {check.title}：{check.detail}")
        if check.ask_it:
            click.echo(f"       处理：{check.ask_it}")
    if plat.system == "windows" and not st.checks:
        click.echo("（无法读取 Windows 注册表：签名策略、受信任位置和 DLL 未检查。）")
    if not st.addin_installed:
        click.echo("安装：xlperf addin install")
    elif problems:
        click.echo(f"发现 {problems} 个问题：加载项在这台电脑上可能无法正常使用，请按上面的“处理”办理。")
        sys.exit(EXIT_FINDINGS)
