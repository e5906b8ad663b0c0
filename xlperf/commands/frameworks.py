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
    from xlperf.project.catalog import listing as project_listing
    from xlperf.project.catalog import points_text

    for pfw, origin in project_listing():  # the 项目支出绩效自评表's frameworks (form = "project")
        click.echo(
            f"{pfw.id}\t{pfw.name}（{origin}；项目支出绩效自评表；{points_text(pfw)}；"
            f"校验值 {pfw.sha256[:8]}）"
        )
    click.echo(f"本机添加的框架保存在 {user_folder()}；详情：xlperf frameworks show 编号")


@frameworks.command(name="check")
@click.argument("file", type=click.Path(path_type=Path))
def check_cmd(file: Path) -> None:
    """检查框架 TOML 文件：一次列出全部问题（位置、指标、行号和允许的取值）。"""
    from xlperf.commands.terminal import echo_wrapped, shown
    from xlperf.core.framework import FrameworkError, load_framework
    from xlperf.project.catalog import is_project_file

    try:
        if is_project_file(file):
            from xlperf.core.project.framework import load_project_framework

            pfw = load_project_framework(file)
            echo_wrapped(
                f"框架文件 {file} 检查通过：{pfw.name}（{pfw.id}，项目支出绩效自评表），"
                f"{len(pfw.levels)} 个一级指标，校验值 {pfw.sha256}"
            )
            sys.exit(EXIT_OK)
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
    from xlperf.project.catalog import from_option as project_option
    from xlperf.project.catalog import rule_lines as project_lines

    project = project_option(framework)
    lines = project_lines(project) if project is not None else rule_lines(from_option(framework))
    for line in lines:
        stripped = line.lstrip(" ")
        echo_wrapped(stripped, " " * (len(line) - len(stripped))) if stripped else click.echo("")


@frameworks.command(name="add")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--replace", is_flag=True, help="本机已有同编号的另一份规则时，替换它。")
def add_cmd(file: Path, replace: bool) -> None:
    """检查框架文件并添加到本机（之后各命令和网页都可按编号使用）。"""
    from xlperf.catalog import add
    from xlperf.project.catalog import add as add_project
    from xlperf.project.catalog import is_project_file

    fw, target = add_project(file, replace=replace) if is_project_file(file) else add(file, replace=replace)
    click.echo(f"已添加评分框架 {fw.name}（{fw.id}，校验值 {fw.sha256[:8]}）：{target}")
    click.echo(f"生成这个框架的空白自评表：xlperf new --framework {fw.id}")
