"""``xlperf intake``: the finance bureau collects the submission mails, verifies, files and
summarises them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from xlperf.commands.common import (
    EXIT_INPUT,
    bureau_frameworks,
    form_frameworks_option,
    limits_options,
    make_limits,
    progress_bar,
)
from xlperf.commands.terminal import echo_wrapped, shown


@click.command(name="intake")
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="归档文件夹：<年度>/<部门>/<收到时间>_<编号>/、收件台账.sqlite、汇总.xlsx、汇总.csv。",
)
@click.option(
    "--receipt",
    is_flag=True,
    help="给每份报送的发件人发回执（经发件箱发送，每份最多一次）；邮件设置同 xlperf submit。",
)
@click.option(
    "--imap-cafile",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="邮箱服务器使用内网自签名证书时的 CA 证书文件（PEM）；也可用 XLPERF_IMAP_CAFILE。",
)
@click.option(
    "--imap-timeout",
    type=float,
    default=30,
    show_default=True,
    metavar="SECONDS",
    help="连接邮箱服务器与每步等待的超时秒数。",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 500),
    default=25,
    show_default=True,
    help="每次从邮箱取回的邮件封数（邮件多时分批读取，不会一次全部读入内存）。",
)
@click.option(
    "--from", "sender", default=None, metavar="ADDR", help="回执的发件人地址；也可用 XLPERF_SMTP_FROM。"
)
@click.option(
    "--smtp-host", default=None, metavar="HOST", help="发回执的邮件服务器；也可用 XLPERF_SMTP_HOST。"
)
@click.option(
    "--smtp-port",
    type=click.IntRange(1, 65535),
    default=None,
    metavar="PORT",
    help="邮件服务器端口；也可用 XLPERF_SMTP_PORT。",
)
@click.option(
    "--smtp-security",
    type=click.Choice(["none", "starttls", "ssl"]),
    default=None,
    help="加密方式；也可用 XLPERF_SMTP_SECURITY。",
)
@click.option(
    "--smtp-user",
    default=None,
    metavar="USER",
    help="登录用户名；密码只从 XLPERF_SMTP_PASSWORD 或系统钥匙串读取。",
)
@click.option(
    "--smtp-cafile",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="邮件服务器的 CA 证书文件（PEM）；也可用 XLPERF_SMTP_CAFILE。",
)
@click.option(
    "--smtp-config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="邮件设置的 TOML 配置文件（[smtp] 表）。",
)
@click.option(
    "--senders",
    "senders_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help='登记各部门发件地址的 TOML 文件（[senders] 表，"部门全称" = ["地址", …]）；'
    "登记了的部门，只收登记地址发来的报送。",
)
@form_frameworks_option("本局的评分框架", "报送")
@limits_options
def intake(
    sources: tuple[str, ...],
    out_dir: Path,
    receipt: bool,
    imap_cafile: Path | None,
    imap_timeout: float,
    batch_size: int,
    config_path: Path | None,
    senders_path: Path | None,
    framework_ids: tuple[str, ...],
    **options: Any,
) -> None:
    """收取各部门的报送邮件：核验报送包、重算得分、归档，并生成汇总。

    
    部门整体支出绩效自评和项目支出绩效自评的报送包都收（按附件工作簿自动识别）。
    \b
    SOURCE 可以是（可给多个）：
      imaps://用户名@服务器[:端口]/INBOX
          IMAP 邮箱，只读：不删除、不移动、不标记任何邮件。密码来自环境变量
          XLPERF_IMAP_PASSWORD 或系统钥匙串（keyring set xlperf-imap 用户名）
      文件夹              其中（含子文件夹）所有 .eml 邮件
      .eml 或 mbox 文件

    \b
    每封邮件的状态：
      有效             附件与清单（SHA-256）一致，重算得分与清单一致
      文件与清单不符   缺少附件，或附件在导出后被改动过
      得分与重算不符   清单中的总分、等级或各部分得分与重算结果不同
      清单与工作簿不符 清单所写的部门、项目或年度与工作簿本身不同（以工作簿为准，不予采用）
      发件人未登记     该部门在 --senders 文件中登记了地址，发件人不在其中
      无法读取         清单或工作簿无法读取（压缩炸弹等在打开前即拒绝）
      不是报送邮件     没有 xlperf 报送包清单的普通邮件

    \b
    归档到 DIR/<年度>/<部门>/<收到时间>_<编号>/（原邮件、附件、重算计分卡）；
    项目表归档到 DIR/<年度>/<部门>/项目/<项目名称>/<收到时间>_<编号>/。
    同一部门同一年度（项目表：同一部门同一项目同一年度）后收到的有效报送取代先前的（两份都保留）。
    收件台账 DIR/收件台账.sqlite 记下已收的邮件（按 Message-ID 与报送包），
    再次运行不会重复收取。最后对每个部门当前的报送生成 DIR/汇总.xlsx
    （与 xlperf batch 相同，另有“收件记录”表）和 汇总.csv；收到项目表时另生成
    DIR/项目自评汇总.xlsx 和 .csv（按部门：项目数、平均分、等级分布、执行率、未得满分的指标及原因），
    项目与部门整体分开统计，不混排。

    \b
    --framework 指定本局的规则，每类表至多一个：
      --framework 本局部门框架 --framework national-project
          部门整体表按前者重算，项目表按后者重算
      只给一个时，只用于同一类表；另一类表按其工作簿内嵌的规则重算

    \b
    例：
      xlperf intake imaps://czj@mail.example.gov.cn/INBOX -o 2023报送/
      xlperf intake 导出的邮件/ 归档.mbox -o 2023报送/ --receipt

    \b
    退出码：0 新收的邮件都有效（或没有新邮件）；1 有不是有效报送的邮件；
            2 邮箱无法连接或登录、用法有误。
    """
    from xlperf.files import OutputError, output_folder_lock
    from xlperf.intake.ledger import LedgerError
    from xlperf.intake.receipt import ReceiptSettingsError, receipt_settings, send_receipts
    from xlperf.intake.run import open_sources, run_intake
    from xlperf.intake.sources import SourceError
    from xlperf.intake.verify import SendersError, read_senders

    def fail(message: str) -> None:
        click.secho(f"错误：{shown(message)}", fg="red", err=True)
        sys.exit(EXIT_INPUT)

    # 本局的规则：每类表（部门整体、项目）至多一个，按它重算同一类表，不按工作簿内嵌的
    frameworks = bureau_frameworks(framework_ids)
    limit_names = ("max_file_mb", "max_expanded_mb", "max_rows", "max_cells", "max_workbook_cells")
    limits = make_limits(**{k: options.pop(k) for k in limit_names if k in options})
    smtp = options
    settings = None
    if receipt:
        options = {
            "host": smtp.get("smtp_host"),
            "port": smtp.get("smtp_port"),
            "security": smtp.get("smtp_security"),
            "user": smtp.get("smtp_user"),
            "sender": smtp.get("sender"),
            "cafile": smtp.get("smtp_cafile"),
        }
        try:
            settings = receipt_settings(options, None, config_path)
        except ReceiptSettingsError as exc:
            fail(str(exc))
    senders = None
    if senders_path is not None:
        try:
            senders = read_senders(senders_path)
        except SendersError as exc:
            fail(str(exc))
    try:
        opened = open_sources(list(sources), cafile=imap_cafile, timeout=imap_timeout, batch_size=batch_size)
    except SourceError as exc:
        fail(str(exc))
        return
    progress, task = progress_bar("正在收取")

    def on_start(source: Any) -> None:
        if progress is not None:  # the mailbox is open: its count is the total before the first frame
            progress.update(
                task,
                total=(progress.tasks[0].total or 0) + (source.count or 0),
                description=shown(source.name)[-40:],
            )
            progress.start()
            progress.refresh()

    def on_done(taken: Any) -> None:
        if progress is not None:
            progress.update(task, advance=1, description=shown(taken.who or taken.status)[:30], refresh=True)

    def receipts(ledger: Any, taken: Any) -> list[tuple[str, str]]:
        return send_receipts(ledger, settings) if settings is not None else []

    try:
        with output_folder_lock(out_dir):  # one run at a time files into DIR and writes its 汇总
            report = run_intake(
                opened,
                out_dir,
                limits=limits,
                frameworks=frameworks,
                on_start=on_start,
                on_done=on_done,
                receipts=receipts if receipt else None,
                senders=senders,
            )
    except (SourceError, LedgerError, OutputError) as exc:
        if progress is not None:
            progress.stop()
        fail(str(exc))
        return
    if progress is not None:
        progress.stop()
    _print_report(report)
    sys.exit(report.exit_code)


def _print_report(report: Any) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from xlperf.intake.run import SKIPPED
    from xlperf.intake.verify import INTAKE_STATUSES, VALID

    console = Console()
    new = [t for t in report.taken if t.status != SKIPPED]
    bad = [t for t in new if t.status != VALID]
    if bad:
        table = Table(title=f"需要处理的邮件（{len(bad)} 封）")
        table.add_column("部门", overflow="fold")
        table.add_column("状态")
        table.add_column("说明", overflow="fold")
        for t in bad[:30]:
            table.add_row(Text(shown(t.who or "—")), t.status, Text(shown(t.reason)))
        console.print(table)
        if len(bad) > 30:
            console.print(
                Text(f"……另有 {len(bad) - 30} 封，见 {shown(report.summary_xlsx)} 的“收件记录”表。")
            )
    for dep, before, now in report.sender_changes:
        echo_wrapped(f"注意：{dep} 的发件人变更：此前的有效报送来自 {before}，本次来自 {now}；请核实。")
    for who, what in report.receipts:
        click.echo(shown(f"{who}：{what}"))
    counts = "，".join(f"{s} {report.count(s)}" for s in INTAKE_STATUSES if s == VALID or report.count(s))
    # three short lines, each within an 80-column terminal (one line of all this was 103 columns)
    click.echo(f"共 {len(report.taken)} 封：新收 {len(new)}，已收过 {report.count(SKIPPED)}。")
    click.echo(f"新收的：{counts}。")
    click.echo(
        f"用时 {report.seconds:.1f} 秒，已写出：{shown(report.summary_xlsx)}、{shown(report.summary_csv)}"
    )
    if report.project_summary is not None:
        click.echo(f"项目自评汇总：{shown(report.project_summary)}")
