"""``xlperf new`` and ``xlperf example``: a blank standard workbook, or the built-in example filled in."""

from __future__ import annotations

from pathlib import Path

import click

from xlperf.commands.common import (
    chosen_framework,
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
    default=Path("部门整体支出绩效自评表.xlsx"),
    show_default=True,
    help="生成的空白自评表。",
)
@framework_option(for_new=True)
@click.option("--force", is_flag=True, help="覆盖已存在的文件。")
def new(output: Path, framework_id: str | None, force: bool) -> None:
    """生成空白的标准自评表（.xlsx，不含宏），内嵌所选评分框架的规则。"""
    from xlperf.core.framework import get_framework
    from xlperf.workbook.template import build_workbook, save_workbook

    guard_outputs([path_option(framework_id)], [("-o", output)])
    refuse_overwrite(output, force)
    fw = chosen_framework(framework_id) or get_framework()
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
