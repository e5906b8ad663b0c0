"""``xlperf`` on the command line: short wrappers around the core, messages in Chinese.

Exit codes (DESIGN.md): 0 success; 1 the workbook has error findings; 2 the input could not be
read or the command was used wrongly. Heavy libraries (openpyxl, pandas, python-docx, xlwings)
are imported inside the commands that need them, so ``xlperf --help`` starts fast.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from xlperf import __version__
from xlperf.commands import zh
from xlperf.commands.common import guard_outputs, limits_options, make_limits
from xlperf.paths import LogFile, data_dir

if TYPE_CHECKING:
    from xlperf.core.result import Result

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2
DEMO_FINDINGS = 3  # the demo shows the score table, then this many findings and how to list them all

zh.install()  # click's own usage and error texts in Chinese; before the decorators below read them


def _setup_logging(verbose: bool) -> None:
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level="DEBUG" if verbose else "WARNING", format="<level>{message}</level>")
    try:
        log_dir = data_dir() / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        logger.add(LogFile(log_dir / "xlperf.log"), level="DEBUG", enqueue=False, backtrace=False, diagnose=False)
    except OSError:
        pass  # a read-only home must not stop the work; the terminal still gets the messages


class XlperfGroup(click.Group):
    """Turns domain errors into one Chinese line and exit code 2 (traceback only with --debug)."""

    def invoke(self, ctx: click.Context) -> Any:
        from xlperf.core.errors import XlperfError

        try:
            return super().invoke(ctx)
        except XlperfError as exc:  # the one place a command's expected errors are shown
            if ctx.obj and ctx.obj.get("debug"):
                raise
            _log_exception(exc)
            click.secho(f"{exc.prefix}{exc}", fg="red", err=True)
            if exc.note:
                click.echo(exc.note, err=True)
            ctx.exit(exc.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.secho("已中断；已经写出的文件都是完整的，未完成的输出没有留下。", fg="yellow", err=True)
            ctx.exit(130)
        except Exception as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            _log_exception(exc)
            click.secho(
                f"内部错误：{type(exc).__name__}: {exc}\n请加 --debug 重新运行查看详情，并把日志 "
                f"{data_dir() / 'logs' / 'xlperf.log'} 发给维护人员。输入文件未被改动。",
                fg="red", err=True,
            )
            ctx.exit(EXIT_INPUT)


def _log_exception(exc: BaseException) -> None:
    from loguru import logger

    logger.opt(exception=exc).debug("command failed")


@click.group(cls=XlperfGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", message="xlperf %(version)s")
@click.option("--debug", is_flag=True, help="出错时显示完整的 Python 调用栈（向维护人员报告问题时使用）。")
@click.option("-v", "--verbose", is_flag=True, help="在终端显示详细日志。")
@click.pass_context
def main(ctx: click.Context, debug: bool, verbose: bool) -> None:
    """xlperf：部门整体支出绩效自评的校验、计分、报告与报送。

    \b
    常用：
      xlperf demo                 用内置示例（白云区科工商信局 2023）跑一遍全流程
      xlperf new -o 自评表.xlsx   生成空白的标准自评表
      xlperf run 自评表.xlsx      校验、计分，写出 评分汇总/校验结果/自评报告
      xlperf submit 自评表.xlsx   冻结、打包并发送到财政局

    退出码：0 成功；1 工作簿有错误类问题；2 文件无法读取或命令用法有误。
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    _setup_logging(verbose)


def _path_option(value: str | None) -> Path | None:
    """An option that may name a file (``--framework``): the path when it looks like one."""
    return Path(value) if value and (value.endswith(".toml") or "/" in value or "\\" in value) else None


def _refuse_overwrite(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise click.UsageError(f"{path} 已存在；为免覆盖已填写的内容，请换一个文件名，或加 --force 覆盖")


# ------------------------------------------------------------------------------ commands


@main.command()
@click.option("-o", "--output", type=click.Path(path_type=Path), default=Path("部门整体支出绩效自评表.xlsx"),
              show_default=True, help="生成的空白自评表。")
@click.option("--framework", "framework_id", default="guangzhou-2023", show_default=True,
              help="评分框架编号（见 xlperf frameworks）或框架 TOML 文件路径。")
@click.option("--force", is_flag=True, help="覆盖已存在的文件。")
def new(output: Path, framework_id: str, force: bool) -> None:
    """生成空白的标准自评表（.xlsx，不含宏）。"""
    from xlperf.core.framework import get_framework
    from xlperf.workbook.template import build_workbook, save_workbook

    guard_outputs([_path_option(framework_id)], [("-o", output)])
    _refuse_overwrite(output, force)
    save_workbook(build_workbook(get_framework(framework_id)), output)
    click.echo(f"已生成空白自评表：{output}")


@main.command()
@click.option("-o", "--output", type=click.Path(path_type=Path), default=Path("白云区科工商信局_2023.xlsx"),
              show_default=True, help="生成的示例工作簿。")
@click.option("--force", is_flag=True, help="覆盖已存在的文件。")
def example(output: Path, force: bool) -> None:
    """生成内置示例：白云区科工商信局 2023 年自评（由公开报告逐项转录）。"""
    from xlperf.core.framework import get_framework
    from xlperf.examples import example_evaluation
    from xlperf.workbook.template import build_workbook, save_workbook

    _refuse_overwrite(output, force)
    ev = example_evaluation()
    save_workbook(build_workbook(get_framework(ev.framework), ev), output)
    click.echo(f"已生成示例工作簿：{output}")


@main.command()
@click.argument("workbook", type=click.Path(path_type=Path))
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="把计分卡（含全部问题）写成 JSON。")
@click.option("--framework", "framework_id", default=None, help="改用指定的评分框架（默认用工作簿记录的）。")
@limits_options
def check(workbook: Path, json_path: Path | None, framework_id: str | None, **limits: Any) -> None:
    """只校验：列出错误和提醒，不写工作簿。WORKBOOK 可以是 .xlsx 或自评数据 JSON。"""
    from xlperf.core.framework import get_framework
    from xlperf.pipeline import assess, load_input, write_scorecard

    guard_outputs([workbook, _path_option(framework_id)], [("--json", json_path)])
    loaded = load_input(workbook, make_limits(**limits))
    result = assess(loaded, get_framework(framework_id) if framework_id else None)
    if json_path:
        write_scorecard(loaded, result, json_path)
    _print_findings(result, limit=None, source=workbook)  # check exists to list every finding
    sys.exit(EXIT_FINDINGS if result.has_errors else EXIT_OK)


@main.command()
@click.argument("workbook", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="计分后的工作簿（默认：<原名>.scored.xlsx，与原文件同目录）。")
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="同时写出计分卡 JSON。")
@click.option("--docx", "docx_path", type=click.Path(path_type=Path), help="同时写出 Word 版自评报告。")
@click.option("--framework", "framework_id", default=None, help="改用指定的评分框架（默认用工作簿记录的）。")
@limits_options
def run(workbook: Path, output: Path | None, json_path: Path | None, docx_path: Path | None,
        framework_id: str | None, **limits: Any) -> None:
    """校验并计分，写出 评分汇总、校验结果、自评报告 三张表（不改动原文件）。"""
    from xlperf.core.framework import get_framework
    from xlperf.pipeline import (
        assess,
        default_output,
        load_input,
        write_report_docx,
        write_scorecard,
        write_scored,
    )

    out = output or default_output(workbook)
    guard_outputs([workbook, _path_option(framework_id)], [("-o", out), ("--json", json_path), ("--docx", docx_path)])
    loaded = load_input(workbook, make_limits(**limits))
    result = assess(loaded, get_framework(framework_id) if framework_id else None)
    write_scored(loaded, result, out)
    written = [out]
    if json_path:
        written.append(write_scorecard(loaded, result, json_path))
    if docx_path:
        written.append(write_report_docx(result, docx_path, loaded))
    print_scorecard(result)
    _print_findings(result, limit=40, source=workbook, more=f"xlperf check {workbook}")
    echo_wrapped("已写出：" + "、".join(str(p) for p in written))
    sys.exit(EXIT_FINDINGS if result.has_errors else EXIT_OK)


@main.command()
@click.argument("workbook", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="Word 报告文件（.docx）。")
@limits_options
def report(workbook: Path, output: Path, **limits: Any) -> None:
    """只生成 Word 版自评报告（.docx）。"""
    from xlperf.pipeline import assess, load_input, write_report_docx

    guard_outputs([workbook], [("-o", output)])
    loaded = load_input(workbook, make_limits(**limits))
    result = assess(loaded)
    write_report_docx(result, output, loaded)
    click.echo(f"已写出报告：{output}（总分 {result.total}，{result.rating}）")
    if result.has_errors:
        click.secho(f"注意：工作簿仍有 {len(result.errors)} 条错误，报告中的相应内容可能不完整"
                    f"（xlperf check {workbook.name} 列出全部问题）。", fg="yellow")
    sys.exit(EXIT_FINDINGS if result.has_errors else EXIT_OK)


@main.command()
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path), default=Path("xlperf-demo"),
              show_default=True, help="输出文件夹。")
def demo(out_dir: Path) -> None:
    """全流程演示：示例工作簿 → 校验计分 → 计分卡 JSON、计分后的工作簿、Word 报告。"""
    from xlperf.core.framework import get_framework
    from xlperf.examples import example_evaluation
    from xlperf.pipeline import assess, load_input, write_report_docx, write_scorecard, write_scored
    from xlperf.workbook.template import build_workbook, save_workbook

    out_dir.mkdir(parents=True, exist_ok=True)
    ev = example_evaluation()
    src = save_workbook(build_workbook(get_framework(ev.framework), ev), out_dir / "白云区科工商信局_2023.xlsx")
    loaded = load_input(src)
    result = assess(loaded)
    files = [
        src,
        write_scored(loaded, result, out_dir / "白云区科工商信局_2023.scored.xlsx"),
        write_scorecard(loaded, result, out_dir / "scorecard.json"),
        write_report_docx(result, out_dir / "自评报告.docx", loaded),
    ]
    print_scorecard(result)
    _print_findings(result, limit=DEMO_FINDINGS, more=f"xlperf check {src}")
    echo_wrapped("示例中的问题是公开报告本身的缺漏（如完成率在150%以上却未说明原因）。")
    echo_wrapped(f"已写出到 {out_dir}{os.sep}：" + "、".join(p.name for p in files))


@main.command()
def frameworks() -> None:
    """列出内置的评分框架。"""
    from xlperf.core.framework import bundled_ids, get_framework

    for fid in bundled_ids():
        fw = get_framework(fid)
        parts = "、".join(f"{s.name} {s.full}" for s in fw.sections)
        click.echo(f"{fid}\t{fw.name}（{parts}；{len(fw.indicators())} 个三级指标）")


# ------------------------------------------------------------------------------ printing


def print_scorecard(result: Result) -> None:
    """The score card as terminal tables."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    dep = result.evaluation.department
    table = Table(title=f"{dep.name or '（未填写部门）'} {dep.year or ''} 年度 部门整体支出绩效自评", show_lines=False)
    table.add_column("指标")
    table.add_column("分值", justify="right")
    table.add_column("得分", justify="right")
    for sec in result.sections:
        table.add_row(f"[bold]{sec.name}[/bold]", f"{sec.full}", f"[bold]{sec.score:.2f}[/bold]")
        for ind in sec.indicators:
            if ind.spec.kind.subtotal:
                table.add_row(f"  {ind.spec.label}", f"{ind.full}", f"{ind.score:.2f}")
    table.add_row("[bold]总分[/bold]", f"{result.framework.total}",
                  f"[bold]{result.total:.2f}（{result.rating}）[/bold]")
    console.print(table)
    ratios = Table(title="计算比率")
    ratios.add_column("比率")
    ratios.add_column("数值", justify="right")
    for key, spec in result.framework.ratios.items():
        value = result.ratios.get(key)
        ratios.add_row(spec.name, "无法计算" if value is None else f"{value:.2f}%")
    console.print(ratios)


def _print_findings(result: Result, limit: int | None = None, source: Path | None = None,
                    more: str | None = None) -> None:
    """The findings as a table that fits the terminal: 说明 wrapped by :func:`wrap` (never inside a
    number or a quoted term) and without the place already shown in 位置. With ``limit`` only
    the first ones, then a line saying how many there are and ``more``, the command listing all."""
    from rich.cells import cell_len
    from rich.console import Console
    from rich.table import Table

    from xlperf.core.findings import detail

    console = Console()
    findings = list(result.findings)
    if not findings:
        console.print(f"[green]{source.name + ' ' if source is not None else ''}校验通过：没有错误和提醒。[/green]")
        return
    named = f"{source.name} " if source is not None else ""
    shown = findings if limit is None else findings[:limit]
    title = f"{named}校验结果：错误 {len(result.errors)} 条，提醒 {len(result.warnings)} 条"
    if len(shown) < len(findings):
        title += f"（前 {len(shown)} 条）"
    table = Table(title=title, title_justify="left")
    code_w = max(4, *(cell_len(f.code) for f in shown))
    where_w = min(max(max(cell_len(f.where) for f in shown), 4), 24)
    # rich's box: a border before every column and after the last, one space either side of each cell
    text_w = max(console.width - (5 + 2 * 4) - 4 - code_w - where_w, 16)
    table.add_column("级别", width=4, no_wrap=True)
    table.add_column("代码", width=code_w, no_wrap=True)
    table.add_column("位置", width=where_w, overflow="fold")
    table.add_column("说明", width=text_w, overflow="fold")
    for f in shown:
        level = "[red]错误[/red]" if f.is_error else "[yellow]提醒[/yellow]"
        table.add_row(level, f.code, f.where, "\n".join(wrap(detail(f), text_w)))
    console.print(table)
    if len(shown) < len(findings):
        rest = f"另有 {len(findings) - len(shown)} 条"
        echo_wrapped(f"{rest}；列出全部：{more}" if more else f"{rest}，见输出工作簿的“校验结果”表或 --json。")


# a file name; a “quoted term”; a number with its sign, thousands separators, decimals and percent
# sign; a Latin word or cell address; blanks; any other single character (CJK breaks between any two)
_INNER = r"[-−+]?\d[\d,]*(?:\.\d+)?%?|[A-Za-z_][\w.!:/-]*|\s+|."
_FILE = r"[^\s、，。；：“”（）]+\.(?:xlsx|xlsm|json|docx|csv|pdf)\b"  # a file name or path, whole
_TOKEN = re.compile(_FILE + r"|“[^“”]*”|" + _INNER, re.S)
_INNER_TOKEN = re.compile(_INNER, re.S)
_NO_LINE_START = set("，。、；：？！）》」』】”’%…·—～")
_NO_LINE_END = set("（《「『【“‘")


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` terminal columns, broken between CJK characters or at
    blanks, never inside a number (``150.00%``, ``-16.56%``), a quoted term (``“三线”整治``
    stays whole when it fits a line) or a word, and without a line starting with closing punctuation."""
    from rich.cells import cell_len

    tokens: list[str] = []
    for token in _TOKEN.findall(text):  # a quoted term longer than a line is broken like plain text
        tokens += _INNER_TOKEN.findall(token) if cell_len(token) > width else [token]
    units: list[str] = []
    for token in tokens:
        if units and (token[0] in _NO_LINE_START or units[-1][-1] in _NO_LINE_END):
            units[-1] += token
        else:
            units.append(token)
    lines: list[str] = []
    line = ""
    for unit in units:
        if cell_len(line + unit) <= width or not line.strip():
            line = (line + unit) if line.strip() else unit.lstrip()
        else:
            lines.append(line.rstrip())
            line = unit.lstrip()
        while cell_len(line) > width:  # a unit longer than a whole line: cut it where it must
            cut = width
            while cell_len(line[:cut]) > width:
                cut -= 1
            while cut > 1 and line[cut] in _NO_LINE_START:  # a closing mark stays with what it closes
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


def echo_wrapped(text: str) -> None:
    """One paragraph to the terminal, wrapped by :func:`wrap` at the terminal's width."""
    from rich.console import Console

    click.echo("\n".join(wrap(text, Console().width)))


def _register() -> None:
    from xlperf.commands.addin import addin
    from xlperf.commands.batch import batch
    from xlperf.commands.intake import intake
    from xlperf.commands.serve import serve
    from xlperf.commands.submit import submit

    main.add_command(batch)
    main.add_command(intake)
    main.add_command(submit)
    main.add_command(addin)
    main.add_command(serve)


_register()

if __name__ == "__main__":  # pragma: no cover
    main()
