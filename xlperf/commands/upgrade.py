"""``xlperf upgrade``: a workbook made from an older template, moved into the current one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from xlperf.commands.common import guard_outputs, limits_options, make_limits, refuse_overwrite
from xlperf.commands.terminal import echo_wrapped, shown


@click.command()
@click.argument("workbook", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="升级后的新工作簿（默认：<原名>_新模板.xlsx，与原文件同目录）。",
)
@click.option("--force", is_flag=True, help="覆盖已存在的输出文件。")
@limits_options
def upgrade(workbook: Path, output: Path | None, force: bool, **limits: Any) -> None:
    """把旧模板填写的自评表迁移到当前模板，原表内嵌的评分规则保留，无法迁移的内容逐项列出；原文件不变。"""
    from xlperf.pipeline import upgrade_workbook, upgraded_name

    out = output or upgraded_name(workbook)
    guard_outputs([workbook], [("-o", out)])
    refuse_overwrite(out, force)
    report = upgrade_workbook(workbook, out, make_limits(**limits))
    for line in report.lines():
        echo_wrapped(shown(line))
    echo_wrapped(
        f"已写出：{shown(out)}。请在新表中核对后继续填写，再运行 xlperf run {shown(out.name)} 计分。"
    )
