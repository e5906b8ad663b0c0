"""``xlperf frameworks``: the scoring frameworks this machine knows, and how a bureau checks, shows
and adds its own (docs/框架格式.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from xlperf.commands.common import EXIT_INPUT, EXIT_OK


@click.group(invoke_without_command=True)
@click.pass_context
def frameworks(ctx: click.Context) -> None:
    """评分框架：列出本机已有的框架；check 检查框架文件，show 显示规则，add 添加到本机。"""
    if ctx.invoked_subcommand is not None:
        return
    from xlperf.catalog import listing, user_folder

    for entry in listing():
        fw = entry.framework
        parts = "、".join(f"{s.name} {s.full}" for s in fw.sections)
        years = f"适用 {'、'.join(str(y) for y in fw.years)} 年度；" if fw.years else ""
        click.echo(
            f"{fw.id}\t{fw.name}（{entry.origin}；{years}{parts}；{len(fw.indicators())} 个三级指标；"
            f"校验值 {fw.sha256[:8]}）"
        )
    click.echo(f"本机添加的框架保存在 {user_folder()}；详情：xlperf frameworks show 编号")


@frameworks.command(name="check")
@click.argument("file", type=click.Path(path_type=Path))
def check_cmd(file: Path) -> None:
    """检查框架 TOML 文件：一次列出全部问题（位置、指标、行号和允许的取值）。"""
    from xlperf.commands.terminal import echo_wrapped, shown
    from xlperf.core.framework import FrameworkError, load_framework

    try:
        fw = load_framework(file)
    except FrameworkError as exc:
        click.secho(f"框架文件 {shown(file)} 有 {len(exc.problems)} 处问题：", fg="red", err=True)
        width = len(str(len(exc.problems)))
        for i, problem in enumerate(exc.problems, start=1):
            echo_wrapped(problem, f"  {i:>{width}}. ", err=True)
        sys.exit(EXIT_INPUT)
    echo_wrapped(
        f"框架文件 {file} 检查通过：{fw.name}（{fw.id}），{len(fw.sections)} 个部分、"
        f"{len(fw.indicators())} 个三级指标，校验值 {fw.sha256}"
    )
    sys.exit(EXIT_OK)


@frameworks.command(name="show")
@click.argument("framework")
def show_cmd(framework: str) -> None:
    """按财务人员阅读的方式显示一个框架的规则（编号或 TOML 文件）。"""
    from xlperf.catalog import from_option
    from xlperf.commands.terminal import echo_wrapped
    from xlperf.core.rulebook import rule_lines

    fw = from_option(framework)
    for line in rule_lines(fw):
        stripped = line.lstrip(" ")
        echo_wrapped(stripped, " " * (len(line) - len(stripped))) if stripped else click.echo("")


@frameworks.command(name="add")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--replace", is_flag=True, help="本机已有同编号的另一份规则时，替换它。")
def add_cmd(file: Path, replace: bool) -> None:
    """检查框架文件并添加到本机（之后各命令和网页都可按编号使用）。"""
    from xlperf.catalog import add

    fw, target = add(file, replace=replace)
    click.echo(f"已添加评分框架 {fw.name}（{fw.id}，校验值 {fw.sha256[:8]}）：{target}")
    click.echo(f"生成这个框架的空白自评表：xlperf new --framework {fw.id}")
