"""回执: one mail back to each sender of a submission, through the submission outbox (so a failed send
stays queued for ``xlperf submit --retry``), at most once per submission: the ledger row is claimed
before the mail is queued, and the mail's Message-ID is made from the row's key, so a run that stopped
between the claim and the queue is finished by the next one (found in the outbox: recorded; not
there: queued now). A 回执 that cannot be built is recorded as 无法发送 with the reason, never left
claimed."""

from __future__ import annotations

from collections.abc import Mapping
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from xlperf.core.errors import XlperfError
from xlperf.files import sha256_bytes
from xlperf.intake.ledger import NOT_SUBMISSION, VALID, Entry, Ledger

CLAIM = "正在放入发件箱"
UNSENDABLE = "无法发送"


class ReceiptSettingsError(XlperfError):
    """The SMTP settings for 回执 are incomplete (exit 2, before anything is taken in)."""


def receipt_settings(
    options: Mapping[str, Any] | None, env: Mapping[str, str] | None = None, config_path: Path | None = None
) -> Any:
    """SMTP settings as for ``xlperf submit`` (options > XLPERF_SMTP_* > config file); the recipient of
    each 回执 is the sender of its submission, so no 收件人 has to be configured."""
    from xlperf.submission.settings import resolve_settings

    opts = dict(options or {})
    opts.setdefault("to", "receipts@xlperf.invalid")  # not used: each 回执 goes to its submission's sender
    settings, problems = resolve_settings(opts, env, config_path)
    if settings is None:
        raise ReceiptSettingsError("发送回执所需的邮件设置不完整：" + "；".join(problems))
    return settings


def receipt_text(e: Entry) -> tuple[str, str]:
    """(subject, body) of the 回执 for ``e``."""
    outcome = e.outcome or {}
    year = f"{e.year} 年度" if e.year else ""
    what = f"“{e.project or '未填项目名称'}”项目支出绩效自评" if e.is_project else "部门整体支出绩效自评"
    subject = f"回执：{e.department or '报送'} {year}{what}——{e.status}"
    lines = [
        f"{e.department or '您好'}：",
        "",
        f"财政局已于 {e.received.replace('T', ' ')[:16]} 收到贵单位{year}{what}报送邮件"
        f"（主题：{e.subject or '无'}）。",
        "",
        f"核验结果：{e.status}",
        f"说明：{e.reason}",
    ]
    if outcome.get("total") is not None:
        lines += [
            f"财政局重算总分：{outcome['total']:.2f}　评价等级：{outcome.get('rating') or ''}",
            *([f"评分框架：{outcome['framework']}"] if outcome.get("framework") else []),
            f"错误 {outcome.get('errors', 0)} 条，提醒 {outcome.get('warnings', 0)} 条",
        ]
    lines += [
        "",
        "核验通过，无需再做什么。"
        if e.status == VALID
        else "报送未通过核验：请按上面的说明改正，用 xlperf 重新导出报送包后再发送。",
        "",
        "（本回执由 xlperf 自动发送。）",
    ]
    return subject, "\n".join(lines)


def receipt_message(e: Entry, sender: str) -> EmailMessage:
    from xlperf.submission.mail import build_message

    subject, body = receipt_text(e)
    msg = build_message(
        sender=sender,
        to=[e.sender],
        subject=subject,
        body=body,
        attachments=[],
        message_id=receipt_message_id(e),
    )
    if e.message_id.startswith("<") and "@" in e.message_id:
        msg["In-Reply-To"] = e.message_id
        msg["References"] = e.message_id
    return msg


def receipt_message_id(e: Entry) -> str:
    """The 回执's Message-ID, fixed by the ledger key (how a later run finds it in the outbox)."""
    return f"<xlperf-receipt-{sha256_bytes(e.key.encode())[:32]}@xlperf.invalid>"


def send_receipts(ledger: Ledger, settings: Any, outbox: Any = None) -> list[tuple[str, str]]:
    """Queue and send a 回执 for every submission that has none yet; returns (department, what happened)."""
    from xlperf.submission.mail import SendError
    from xlperf.submission.package import default_outbox

    box = outbox or default_outbox()
    done: list[tuple[str, str]] = []
    for e in ledger.entries():
        if e.status == NOT_SUBMISSION or not e.sender:
            continue
        who = e.department or e.sender
        if e.receipt == CLAIM:  # a run stopped between claiming and queueing
            found = box.find(receipt_message_id(e))
            if found is not None:
                ledger.record_receipt(e.key, found.id)
                continue
        elif e.receipt is not None or not ledger.claim_receipt(e.key, CLAIM):
            continue
        try:
            item = box.enqueue(receipt_message(e, settings.sender))
        except Exception as exc:  # an address or text no mail can carry: final, with the reason
            ledger.record_receipt(e.key, f"{UNSENDABLE}：{type(exc).__name__}")
            done.append((who, f"回执无法生成，未发送（{type(exc).__name__}）；请另行联系发件人 {e.sender}"))
            continue
        ledger.record_receipt(e.key, item.id)
        try:
            box.send(item, settings)
            done.append((who, f"回执已发送给 {e.sender}"))
        except SendError as exc:
            done.append(
                (who, f"回执发送失败，已留在发件箱（编号 {item.id}，用 xlperf submit --retry 重发）：{exc}")
            )
        except Exception as exc:  # still queued: --retry moves it on
            done.append(
                (
                    who,
                    f"回执发送失败，已留在发件箱（编号 {item.id}，用 xlperf submit --retry 重发）："
                    f"{type(exc).__name__}",
                )
            )
    return done
