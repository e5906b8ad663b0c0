"""``xlperf check``, ``xlperf run`` and ``xlperf report``: one workbook validated and scored, with
its outputs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from xlperf.commands.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    chosen_any_framework,
    framework_option,
    guard_outputs,
    limits_options,
    make_limits,
    path_option,
)
from xlperf.commands.terminal import echo_wrapped, print_findings, print_scorecard, shown


@click.command()
@click.argument("workbook", type=click.Path(path_type=Path))
@click.option(
    "--json", "json_path", type=click.Path(path_type=Path), help="把计分卡（含全部问题）写成 JSON。"
)
@framework_option()
@limits_options
def check(workbook: Path, json_path: Path | None, framework_id: str | None, **limits: Any) -> None:
    """只校验：列出错误和提醒，不写工作簿。WORKBOOK 可以是 .xlsx 或自评数据 JSON。"""
    from xlperf.pipeline import assess, load_any, write_scorecard

    guard_outputs([workbook, path_option(framework_id)], [("--json", json_path)])
    loaded = load_any(workbook, make_limits(**limits), chosen_any_framework(framework_id))
    result = assess(loaded)
    if json_path:
        write_scorecard(loaded, result, json_path)
    print_findings(result, limit=None, source=workbook)  # check exists to list every finding
    sys.exit(EXIT_FINDINGS if result.has_errors else EXIT_OK)


@click.command()
@click.argument("workbook", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="计分后的工作簿（默认：<原名>.scored.xlsx，与原文件同目录）。",
)
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="同时写出计分卡 JSON。")
@click.option("--docx", "docx_path", type=click.Path(path_type=Path), help="同时写出 Word 版自评报告。")
@framework_option()
@limits_options
def run(
    workbook: Path,
    output: Path | None,
    json_path: Path | None,
    docx_path: Path | None,
    framework_id: str | None,
    **limits: Any,
) -> None:
    """校验并计分，写出 评分汇总、校验结果、自评报告 三张表（不改动原文件）。"""
    from xlperf.pipeline import (
        assess,
        default_output,
        load_any,
        write_report_docx,
        write_scorecard,
        write_scored,
    )

    out = output or default_output(workbook)
    guard_outputs(
        [workbook, path_option(framework_id)], [("-o", out), ("--json", json_path), ("--docx", docx_path)]
    )
    loaded = load_any(workbook, make_limits(**limits), chosen_any_framework(framework_id))
    result = assess(loaded)
    write_scored(loaded, result, out)
    written = [out]
    if json_path:
        written.append(write_scorecard(loaded, result, json_path))
    if docx_path:
        written.append(write_report_docx(result, docx_path, loaded))
    print_scorecard(result)
    print_findings(result, limit=40, source=workbook, more=f"xlperf check {workbook}")
    echo_wrapped("已写出：" + "、".join(str(p) for p in written))
    sys.exit(EXIT_FINDINGS if result.has_errors else EXIT_OK)


@click.command()
@click.argument("workbook", type=click.Path(path_type=Path))
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), required=True, help="Word 报告文件（.docx）。"
)
@framework_option()
@limits_options
def report(workbook: Path, output: Path, framework_id: str | None, **limits: Any) -> None:
    """只生成 Word 版自评报告（.docx）。"""
    from xlperf.pipeline import assess, load_any, write_report_docx

    guard_outputs([workbook, path_option(framework_id)], [("-o", output)])
    loaded = load_any(workbook, make_limits(**limits), chosen_any_framework(framework_id))
    result = assess(loaded)
    write_report_docx(result, output, loaded)
    click.echo(f"已写出报告：{shown(output)}（总分 {result.total}，{result.rating}）")
    if result.has_errors:
        click.secho(
            f"注意：工作簿仍有 {len(result.errors)} 条错误，报告中的相应内容可能不完整"
            f"（xlperf check {shown(workbook.name)} 列出全部问题）。",
            fg="yellow",
        )
    sys.exit(EXIT_FINDINGS if result.has_errors else EXIT_OK)
