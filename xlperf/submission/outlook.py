"""发送财政局 through the clerk's own Outlook (Windows): open a draft instead of sending by SMTP.

Chosen with ``XLPERF_SEND_VIA=outlook`` or ``via = "outlook"`` in the ``[submit]`` table of the user
config file. The draft carries the same subject, body and attachments as the SMTP message; the
clerk reviews it and presses Send in Outlook. Outlook is reached over COM (pywin32), which only
exists on Windows; elsewhere the message says what to use instead.
"""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from xlperf.submission.package import PackageError, PackageResult

OL_MAIL_ITEM = 0  # Outlook's olMailItem


def outlook_preferred(env: Mapping[str, str] | None = None, config_path: Path | None = None) -> bool:
    """Whether the clerk asked for Outlook drafts instead of SMTP."""
    env = os.environ if env is None else env
    if env.get("XLPERF_SEND_VIA", "").strip():
        return env["XLPERF_SEND_VIA"].strip().lower() == "outlook"
    from xlperf.submission.settings import default_config_path

    path = config_path or default_config_path()
    try:
        with path.open("rb") as fh:
            table = tomllib.load(fh).get("submit", {})
    except (OSError, tomllib.TOMLDecodeError):
        return False
    return isinstance(table, dict) and str(table.get("via", "")).strip().lower() == "outlook"


def open_outlook_draft(
    package: PackageResult,
    to: Sequence[str],
    *,
    dispatch: Callable[[str], Any] | None = None,
) -> None:
    """Open a new Outlook mail with the package attached, for the clerk to check and send.

    ``dispatch`` is ``win32com.client.Dispatch``; tests pass a stand-in because Outlook cannot run here.
    """
    from xlperf.submission.mail import package_body, subject_text

    if dispatch is None:
        if sys.platform != "win32":
            raise PackageError(
                "用 Outlook 打开草稿只适用于 Windows；请设置邮件服务器（xlperf submit --help），"
                "或用 xlperf submit 自评表.xlsx --eml 草稿.eml 生成草稿后用邮件程序打开。"
            )
        try:
            import win32com.client
        except ImportError as exc:
            raise PackageError(
                "缺少 pywin32，无法调用 Outlook；请运行 pip install pywin32，或改用邮件服务器设置。"
            ) from exc
        dispatch = win32com.client.Dispatch
    body = package_body(package)
    try:
        outlook = dispatch("Outlook.Application")
        mail = outlook.CreateItem(OL_MAIL_ITEM)
        mail.To = "; ".join(to)
        mail.Subject = subject_text(package.department, package.year, project=package.project)
        mail.Body = body
        for path in package.files:
            mail.Attachments.Add(str(Path(path).resolve()))
        mail.Display(False)
    except PackageError:
        raise
    except Exception as exc:  # COM errors come in many shapes
        raise PackageError(
            f"无法打开 Outlook 草稿（{exc}）；请确认 Outlook 已安装并登录，或改用邮件服务器设置。"
        ) from exc
