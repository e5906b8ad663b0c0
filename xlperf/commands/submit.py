"""``xlperf submit``: freeze, package and send to the finance bureau (or save a mail draft), and
``--retry`` to resend the outbox."""

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
from xlperf.commands.terminal import echo_wrapped, shown


@click.command(name="submit")
@click.argument("workbook", type=click.Path(path_type=Path), required=False)
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="报送包文件夹（默认：工作簿所在文件夹下的 报送包_<简称>_<年度>）。",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="报送包文件夹已存在时，用新的报送包整体替换它（只替换 xlperf 报送包文件夹，不会新旧混放）。",
)
@click.option(
    "--force", is_flag=True, help="工作簿仍有错误类问题时也强制报送（必须同时用 --reason 写明原因）。"
)
@click.option(
    "--reason",
    default=None,
    metavar="TEXT",
    help="强制报送的原因；记入清单、冻结工作簿的文档属性和邮件正文。",
)
@click.option(
    "--operator",
    default=None,
    metavar="NAME",
    help="操作人姓名，记入清单和工作簿属性（默认：当前系统用户名）。",
)
@click.option(
    "--eml",
    "eml_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="不发送，只把邮件写成 .eml 草稿（可用 Outlook 等打开后手动发送；不需要邮件服务器设置）。",
)
@click.option(
    "--retry",
    is_flag=True,
    help="重发发件箱中所有未发送或发送失败的邮件，并逐封报告结果（不需要 WORKBOOK）。",
)
@click.option(
    "--resend-uncertain",
    is_flag=True,
    help="也重发“状态不确定”的邮件（已发给服务器但没有收到确认，财政局可能已收到）；"
    "只在向财政局核实未收到后使用。",
)
@click.option(
    "--to",
    "to",
    default=None,
    metavar="ADDR",
    help="收件人（财政局）地址，多个用逗号或分号分隔；也可用环境变量 XLPERF_SUBMIT_TO 或配置文件。",
)
@click.option(
    "--from",
    "sender",
    default=None,
    metavar="ADDR",
    help='发件人地址，如 "区科工商信局 <kgs@example.cn>"；也可用 XLPERF_SMTP_FROM。',
)
@click.option("--smtp-host", default=None, metavar="HOST", help="邮件服务器地址；也可用 XLPERF_SMTP_HOST。")
@click.option(
    "--smtp-port",
    type=click.IntRange(1, 65535),
    default=None,
    metavar="PORT",
    help="邮件服务器端口（默认按加密方式：none 25、starttls 587、ssl 465）；也可用 XLPERF_SMTP_PORT。",
)
@click.option(
    "--smtp-security",
    type=click.Choice(["none", "starttls", "ssl"]),
    default=None,
    help="加密方式：none 不加密、starttls、ssl（隐式 TLS）；也可用 XLPERF_SMTP_SECURITY。",
)
@click.option(
    "--smtp-user",
    default=None,
    metavar="USER",
    help="登录用户名；密码只从环境变量 XLPERF_SMTP_PASSWORD 或系统钥匙串（keyring set xlperf-smtp "
    "用户名）读取。",
)
@click.option(
    "--smtp-timeout",
    type=float,
    default=None,
    metavar="SECONDS",
    help="连接与每步等待的超时秒数（默认 30）；也可用 XLPERF_SMTP_TIMEOUT。",
)
@click.option(
    "--smtp-cafile",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="内网自签名证书的 CA 证书文件（PEM）；也可用 XLPERF_SMTP_CAFILE。",
)
@click.option(
    "--smtp-verify-tls/--smtp-no-verify-tls",
    "verify_tls",
    default=None,
    help="是否校验服务器的 TLS 证书（默认校验；关闭有被冒充的风险）。",
)
@click.option(
    "--max-attachment-mb",
    type=float,
    default=None,
    metavar="MB",
    help="附件总大小上限（MB，默认 20），超过时不连接服务器、直接报错；"
    "也可用 XLPERF_SMTP_MAX_ATTACHMENT_MB。",
)
@click.option(
    "--smtp-config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="邮件设置的 TOML 配置文件（[smtp] 表；默认为用户配置文件夹中的 xlperf/config.toml）。",
)
@framework_option()
@limits_options
def submit(
    workbook: Path | None,
    out_dir: Path | None,
    overwrite: bool,
    force: bool,
    reason: str | None,
    operator: str | None,
    eml_path: Path | None,
    retry: bool,
    resend_uncertain: bool,
    config_path: Path | None,
    framework_id: str | None,
    max_file_mb: float,
    max_expanded_mb: float,
    max_rows: int,
    max_cells: int,
    max_workbook_cells: int,
    **smtp: Any,
) -> None:
    """冻结工作簿、打包并发送到财政局（或存为 .eml 草稿）。

    \b
    WORKBOOK 是填好的自评表（.xlsx/.xlsm）：部门整体支出绩效自评表或项目支出绩效自评表（按工作簿自动识别），
    也可以是已导出的报送包文件夹（直接发送，不重新打包）。
    步骤：
      1. 校验计分；仍有错误类问题时拒绝报送（退出码 1），除非 --force 并用 --reason 写明原因；
      2. 冻结：所有公式（含 XLPERF_ 自定义函数）替换为 xlperf 计算的数值，去掉宏，各表加保护（无密码），
         写入 评分汇总/校验结果/自评报告 三张表，来源信息记入文档属性和隐藏表 _xlperf；
      3. 打包到 报送包_<简称>_<年度>/：<简称>_<年度>_部门整体支出绩效自评.xlsx、
         <简称>_<年度>_自评报告.docx、<简称>_<年度>_manifest.json（每个文件的大小与 SHA-256、完整计分卡）；
         项目表按项目名称打包到 报送包_<项目名称>_<年度>/：…_项目支出绩效自评.xlsx、
         …_项目支出绩效自评报告.docx 和清单（项目表写回得分，另加 评分结果/校验结果/自评报告）；
      4. 发送：邮件先存入发件箱再发送；发送失败时邮件保留在发件箱，之后用 xlperf submit --retry 重发。
         每封邮件至多发送一次：已发给服务器却没有收到确认的邮件记为“状态不确定”，--retry 不会重发它，
         须先向财政局核实（按 Message-ID），确认未收到后再加 --resend-uncertain。

    \b
    邮件设置的优先级：命令行选项 > 环境变量 XLPERF_SMTP_* / XLPERF_SUBMIT_TO > 配置文件 [smtp]。
    密码只从环境变量 XLPERF_SMTP_PASSWORD 或系统钥匙串读取，从不写入工作簿或配置文件。

    \b
    例：
      xlperf submit 自评表.xlsx --eml 报送.eml
      xlperf submit 自评表.xlsx --to czj@example.gov.cn --smtp-host smtp.example.cn --from kgs@example.cn
      xlperf submit 自评表.xlsx --force --reason "项目支出明细待财政确认"
      xlperf submit --retry

    \b
    退出码：0 已发送（或已写出草稿）；
            1 有错误类问题被拒绝，或发送失败（邮件留在发件箱）；
            2 文件无法读取、用法有误，或缺少邮件设置（报送包已生成但无法发送）。
    """
    options = _smtp_options(smtp)
    if retry:
        if workbook is not None or eml_path is not None or force:
            raise click.UsageError("--retry 只重发发件箱中的邮件，不能同时指定工作簿、--eml 或 --force")
        sys.exit(_retry(options, config_path, resend_uncertain))
    if workbook is None:
        raise click.UsageError("请指定要报送的工作簿（或报送包文件夹），或用 --retry 重发发件箱中的邮件")
    from xlperf.submission.package import recover_package

    # a package folder that a killed --overwrite left half swapped is made whole first, whatever this
    # run does next (refuses its options, its workbook, or sends the folder named as WORKBOOK)
    for folder in (out_dir, None if workbook.exists() else workbook):
        if folder is not None:
            recover_package(folder)
    if force and not (reason or "").strip():
        raise click.UsageError('--force 必须同时用 --reason "原因" 写明强制报送的原因')
    if reason and not force:
        raise click.UsageError("--reason 只与 --force 一起使用")

    guard_outputs(
        [workbook, smtp.get("smtp_cafile"), config_path, path_option(framework_id)],
        [("--eml", eml_path), ("-o", out_dir)],
    )
    from xlperf.submission.package import (
        PackageResult,
        export_package,
    )

    # a refused or failed package raises an XlperfError, shown by the command line's one handler
    if workbook.is_dir():
        package = PackageResult.load(workbook)
        click.echo(f"使用已导出的报送包：{shown(package.folder)}")
    else:
        package = export_package(
            workbook,
            out_dir,
            force=force,
            reason=reason or "",
            operator=_operator(operator),
            overwrite=overwrite,
            limits=make_limits(max_file_mb, max_expanded_mb, max_rows, max_cells, max_workbook_cells),
            framework=chosen_any_framework(framework_id),
        )
        _print_package(package)

    if eml_path is not None:
        sys.exit(_draft(package, eml_path, options, config_path))
    sys.exit(_send(package, options, config_path, resend_uncertain))


def _smtp_options(smtp: dict[str, Any]) -> dict[str, Any]:
    """CLI option names → setting names of :func:`xlperf.submission.settings.resolve_settings`."""
    names = {
        "smtp_host": "host",
        "smtp_port": "port",
        "smtp_security": "security",
        "smtp_user": "user",
        "smtp_timeout": "timeout",
        "smtp_cafile": "cafile",
        "verify_tls": "verify_tls",
        "max_attachment_mb": "max_attachment_mb",
        "to": "to",
        "sender": "sender",
    }
    return {names[k]: v for k, v in smtp.items() if k in names and v is not None}


def _operator(name: str | None) -> str:
    if name:
        return name
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no user name on some locked-down machines: not a reason to stop
        return ""


def _print_package(package: Any) -> None:
    data = package.manifest_data
    click.echo(f"已生成报送包：{shown(package.folder)}")
    for path in package.files:
        click.echo(f"  {shown(path.name)}")
    if package.project:
        click.echo(f"项目：{shown(package.project)}（{shown(package.department or '未填写主管部门')}）")
    click.echo(f"总分 {package.total:.2f}（{package.rating or '不评级'}）")
    if package.forced:
        click.secho(
            f"注意：强制报送（仍有 {data.get('errors', 0)} 条错误），原因：{shown(package.reason)}",
            fg="yellow",
        )
    freeze = package.freeze
    if freeze is not None:
        for cell in freeze.cached:
            click.secho(
                f"提醒：{shown(cell.where)} 的公式 {shown(cell.formula)} 无法重新计算，"
                "沿用文件中保存的结果，请核对。",
                fg="yellow",
            )
        for cell in freeze.flagged:
            click.secho(
                shown(f"提醒：{cell.where}：{cell.note}（原内容 {cell.formula or '错误值'}）。"), fg="yellow"
            )


def _draft(package: Any, eml_path: Path, options: dict[str, Any], config_path: Path | None) -> int:
    from xlperf.submission.package import write_package_eml
    from xlperf.submission.settings import draft_addresses

    path = write_package_eml(package, eml_path, options, config_path=config_path)
    click.echo(f"已写出邮件草稿（未发送）：{shown(path)}")
    if not draft_addresses(options, None, config_path)[1]:  # a draft nobody would think to address
        echo_wrapped(
            "提醒：草稿没有收件人（未用 --to 指定，也没有设置 XLPERF_SUBMIT_TO 或配置文件 [smtp] 的 to）；"
            "在邮件程序中打开后，请先填写财政局的收件地址再发送。",
            fg="yellow",
        )
    return EXIT_OK


def _send(package: Any, options: dict[str, Any], config_path: Path | None, resend_uncertain: bool) -> int:
    from xlperf.submission.package import SettingsError, send_package

    try:
        item = send_package(package, options, config_path=config_path, resend_uncertain=resend_uncertain)
    except SettingsError:  # say what became of the package before the handler shows the settings
        click.echo(
            f"报送包已生成（{shown(package.folder)}），但因缺少下列设置未能发送。补全设置后运行 "
            f'xlperf submit "{shown(package.folder)}" 发送，或加 --eml 文件名 写出邮件草稿。',
            err=True,
        )
        raise
    click.echo(
        shown(f"已发送给 {', '.join(item.to)}（发件箱编号 {item.id}，Message-ID {item.message_id}）。")
    )
    if item.warning:
        click.secho(f"注意：{shown(item.warning)}", fg="yellow", err=True)
    return EXIT_OK


def _retry(options: dict[str, Any], config_path: Path | None, resend_uncertain: bool) -> int:
    from xlperf.submission.package import retry_outbox

    results = retry_outbox(options, config_path=config_path, resend_uncertain=resend_uncertain)
    if not results:
        click.echo("发件箱中没有待发送的邮件。")
        return EXIT_OK
    failed = uncertain = elsewhere = 0
    for item, error in results:
        if error is None and getattr(item, "sent_elsewhere", False):
            elsewhere += 1
            click.echo(
                shown(f"已由同时运行的另一个 xlperf 发送（本次未重发）：{item.subject}（编号 {item.id}）")
            )
        elif error is None:
            click.echo(shown(f"已发送：{item.subject}（编号 {item.id}，收件人 {', '.join(item.to)}）"))
            if item.warning:
                click.secho(f"注意：{shown(item.warning)}", fg="yellow", err=True)
        elif getattr(error, "kind", "") == "uncertain":
            uncertain += 1
            click.secho(f"未重发：{shown(error)}", fg="yellow", err=True)
        else:
            failed += 1
            click.secho(shown(f"仍未发送：{item.subject}（编号 {item.id}）：{error}"), fg="red", err=True)
    if uncertain and not failed:
        click.secho(f"{uncertain} 封邮件状态不确定，未重发（见上）。", fg="yellow", err=True)
        return EXIT_FINDINGS
    if failed:
        click.secho(
            f"{failed} 封邮件仍保留在发件箱中；问题解决后再次运行 xlperf submit --retry。", fg="red", err=True
        )
        return EXIT_FINDINGS
    click.echo(
        f"共发送 {len(results) - elsewhere} 封"
        + (f"，另有 {elsewhere} 封已由另一个 xlperf 发送。" if elsewhere else "。")
    )
    return EXIT_OK
