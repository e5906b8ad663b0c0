"""``xlperf new`` and ``xlperf example``: a blank standard workbook, or the built-in example filled in."""

from __future__ import annotations

from pathlib import Path

import click

from xlperf.commands.common import (
    chosen_any_framework,
    framework_option,
    guard_outputs,
    path_option,
    refuse_overwrite,
)
from xlperf.commands.terminal import shown


@click.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    show_default="部门整体支出绩效自评表.xlsx；项目支出框架为 项目支出绩效自评表.xlsx",
    help="生成的空白自评表。",
)
@framework_option(for_new=True)
@click.option("--force", is_flag=True, help="覆盖已存在的文件。")
def new(output: Path | None, framework_id: str | None, force: bool) -> None:
    """生成空白的标准自评表（.xlsx，不含宏），内嵌所选评分框架的规则；项目支出框架（如 national-project）
    生成项目支出绩效自评表。"""
    from xlperf.core.framework import get_framework
    from xlperf.core.project.framework import ProjectFramework
    from xlperf.workbook.template import build_workbook, save_workbook

    if output is not None:  # before reading --framework: a framework file named as -o is refused unread
        guard_outputs([path_option(framework_id)], [("-o", output)])
    chosen = chosen_any_framework(framework_id)
    if isinstance(chosen, ProjectFramework):
        from xlperf.project.template import build_project_workbook

        output = output or Path("项目支出绩效自评表.xlsx")
        guard_outputs([path_option(framework_id)], [("-o", output)])
        refuse_overwrite(output, force)
        save_workbook(build_project_workbook(chosen), output)
        click.echo(
            f"已生成空白项目支出绩效自评表：{shown(output)}（评分框架 {chosen.name}，{chosen.label}；"
            "规则已写入工作簿）"
        )
        return
    output = output or Path("部门整体支出绩效自评表.xlsx")
    guard_outputs([path_option(framework_id)], [("-o", output)])
    refuse_overwrite(output, force)
    fw = chosen or get_framework()
    save_workbook(build_workbook(fw), output)
    click.echo(f"已生成空白自评表：{shown(output)}（评分框架 {fw.name}，{fw.label}；规则已写入工作簿）")


@click.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=Path("白云区科工商信局_2023.xlsx"),
    show_default=True,
    help="生成的示例工作簿。",
)
@click.option("--force", is_flag=True, help="覆盖已存在的文件。")
def example(output: Path, force: bool) -> None:
    """生成内置示例：白云区科工商信局 2023 年自评（由公开报告逐项转录）。"""
    from xlperf.core.framework import get_framework
    from xlperf.examples import example_evaluation
    from xlperf.workbook.template import build_workbook, save_workbook

    refuse_overwrite(output, force)
    ev = example_evaluation()
    save_workbook(build_workbook(get_framework(ev.framework), ev), output)
    click.echo(f"已生成示例工作簿：{shown(output)}")
