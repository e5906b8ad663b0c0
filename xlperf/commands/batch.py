"""``xlperf batch``: validate and score many workbooks, and write one summary.

Only click is imported at the top; the heavy libraries (openpyxl, pandas, rich) are imported when
the command runs, so ``xlperf --help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from xlperf.commands.common import (
    bureau_frameworks,
    form_frameworks_option,
    guard_outputs,
    limits_options,
    make_limits,
    path_option,
    progress_bar,
)
from xlperf.commands.terminal import cells, shown, wrap


@click.command(name="batch")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="输出文件夹：每个工作簿的 <名称>.scored.xlsx 与 <名称>.scorecard.json，以及 汇总.xlsx、汇总.csv。",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="同时处理的进程数（默认：CPU 核数，最多 16）；1 表示在本进程内逐个处理。",
)
@form_frameworks_option("评分框架", "工作簿")
@limits_options
def batch(
    paths: tuple[str, ...], out_dir: Path, jobs: int | None, framework_ids: tuple[str, ...], **limits: Any
) -> None:
    """批量校验、计分许多工作簿，并生成一份汇总。

    \b
    PATH 可以是工作簿（.xlsx/.xlsm）、自评数据 JSON、文件夹或通配符，可给多个。
    文件夹中看起来是表格的文件（.xlsx .xlsm .xls .et .ods）和 .json 都列入汇总；
    .xls/.et/.ods 记为“无法读取”，并说明如何另存为 .xlsx。例：
      xlperf batch 各部门自评表/ -o 结果/
      xlperf batch "2023/**/*.xlsx" 补报.json -o 结果/ --jobs 2

    \b
    输出文件夹中：
      <名称>.scored.xlsx     计分后的工作簿（评分汇总、校验结果、自评报告）
      <名称>.scorecard.json  计分卡（重名时名称中带上所在文件夹）
      汇总.xlsx              汇总、排名（含链接）、总分图、管理效率、问题统计、
                             自报对比、等级分布、问题清单
      汇总.csv               汇总表（UTF-8 带 BOM，可用 Excel 直接打开）
      汇总.json              同一结果的数据（xlperf serve --dir 审阅网页读取）

    \b
    某个文件无法读取或处理出错不会中断整批；状态与原因记在汇总的“状态”“说明”列：
      通过 / 有错误（照常排名，状态标“仅供参考”）/ 未填写（空白模板，不排名，
      得分显示“—”）/ 重复（同一部门同一年度的另一份，只排名一份）/ 无法读取 /
      处理失败

    \b
    退出码：0 全部通过；1 有工作簿带错误、未填写、无法读取或处理失败；
            2 没有找到输入或用法有误。
    """
    from xlperf.batch import SUMMARY_CSV, SUMMARY_XLSX, NoInputsError, run_batch
    from xlperf.files import output_folder_lock

    guard_outputs(
        [*(Path(p) for p in paths), *(path_option(f) for f in framework_ids)],
        [("-o", out_dir / SUMMARY_XLSX), ("-o", out_dir / SUMMARY_CSV)],
    )
    frameworks = bureau_frameworks(framework_ids)

    progress, task = progress_bar("正在处理")

    def on_start(total: int) -> None:
        if progress is not None:
            progress.update(task, total=total)  # the total before the first frame: never "0/?"
            progress.start()
            progress.refresh()

    def on_done(outcome: Any) -> None:
        if progress is not None:
            progress.update(task, advance=1, description=shown(Path(outcome.file).name)[:40], refresh=True)

    try:
        with output_folder_lock(out_dir):
            report = run_batch(
                paths,
                out_dir,
                jobs,
                make_limits(**limits),
                on_start=on_start,
                on_done=on_done,
                frameworks=frameworks,
            )
    except NoInputsError as exc:
        raise click.UsageError(str(exc)) from exc
    finally:
        if progress is not None:
            progress.stop()
    _print_report(report)
    sys.exit(report.exit_code)


def _print_report(report: Any) -> None:
    from xlperf.batch import BLANK, DUPLICATE, ERRORS, FAILED, OK, UNREADABLE

    bad = [o for o in report.outcomes if o.status != OK]
    if bad:  # rich only for the table (its import is a start-up cost of every run otherwise)
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        console = Console()
        table = Table(title=f"需要处理的文件（{len(bad)} 个）")
        # cells broken by terminal.wrap (never inside a file name, an extension or a number), in
        # columns that fit the terminal: rich's own folding cut "…测试局/.xlsx"
        listed = bad[:30]
        file_w = min(max(cells(shown(o.file)) for o in listed), 30)
        status_w = max(cells(o.status) for o in listed)
        text_w = max(console.width - 10 - file_w - status_w, 16)
        table.add_column("文件", width=file_w, overflow="fold")
        table.add_column("状态", width=status_w, no_wrap=True)
        table.add_column("说明", width=text_w, overflow="fold")
        for o in listed:
            table.add_row(
                Text("\n".join(wrap(shown(o.file), file_w))),
                o.status,
                Text("\n".join(wrap(shown(o.message), text_w))),
            )
        console.print(table)
        if len(bad) > 30:
            console.print(Text(f"……另有 {len(bad) - 30} 个，见 {shown(report.summary_xlsx)}。"))
    for path in report.missing:
        click.secho(
            f"提醒：找不到 {shown(path)}（既不是文件或文件夹，也没有匹配的文件）", fg="yellow", err=True
        )
    n = len(report.outcomes)
    click.echo(
        f"共 {n} 个：通过 {report.count(OK)}，有错误 {report.count(ERRORS)}，未填写 {report.count(BLANK)}，"
        f"重复 {report.count(DUPLICATE)}，无法读取 {report.count(UNREADABLE)}，"
        f"处理失败 {report.count(FAILED)}。"
    )  # the time goes on the next line: with it this one passed 80 columns and left a lone "。"
    click.echo(
        f"用时 {report.seconds:.1f} 秒，已写出：{shown(report.summary_xlsx)}、{shown(report.summary_csv)}"
    )
    if report.project_summary is not None:
        click.echo(f"项目支出绩效自评表另有汇总：{shown(report.project_summary)}")
