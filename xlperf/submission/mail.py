"""Build the 报送 email and deliver it over SMTP (plain, STARTTLS or implicit TLS).

The message is 7-bit clean so that any server and any client handles it: the Chinese subject is an
RFC 2047 encoded word, the body is base64 UTF-8, and every attachment carries its Chinese file name
twice — ``filename*=`` (RFC 2231) in ``Content-Disposition`` for current clients and an RFC 2047
``name="=?utf-8?b?…?="`` in ``Content-Type`` for old Outlook and some web mail.

The stdlib cannot emit the second form (``set_param`` re-encodes it as RFC 2231 and, for long
OOXML MIME types, refolds the header into broken encoded words), so the ``Content-Type`` of each
attachment is folded here and stored raw; :data:`MAIL_POLICY` (``policy.SMTP`` with
``refold_source="none"``) then writes it verbatim. The bytes that are stored in the outbox are the
bytes that are sent: :func:`send_bytes` never re-generates the message.
"""

from __future__ import annotations

import base64
import contextlib
import mimetypes
import re
import smtplib
import socket
import ssl
import unicodedata
from collections.abc import Callable, Sequence
from decimal import Decimal
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid, parseaddr
from pathlib import Path
from typing import Any, Literal

from loguru import logger

from xlperf.core.errors import XlperfError
from xlperf.files import atomic_write_bytes
from xlperf.submission.settings import ENV_HOST, ENV_PASSWORD, ENV_PORT, ENV_SECURITY, ENV_USER, SmtpSettings

#: ``policy.SMTP`` (CRLF, 78-column folding of the headers the stdlib builds) that leaves the
#: hand-folded attachment ``Content-Type`` headers alone.
MAIL_POLICY = policy.SMTP.clone(refold_source="none")

SendErrorKind = Literal[
    "refused",
    "auth",
    "timeout",
    "tls",
    "rejected",
    "too_large",
    "locked",
    "uncertain",
    "already_sent",
    "other",
]

#: Office and report types that ``mimetypes`` does not know everywhere (Windows reads the registry).
MIME_TYPES: dict[str, str] = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12",
    ".xls": "application/vnd.ms-excel",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".doc": "application/msword",
    ".pdf": "application/pdf",
    ".json": "application/json",
    ".zip": "application/zip",
    ".csv": "text/csv",
    ".txt": "text/plain",
}

_WORD_BYTES = 39  # 39 UTF-8 bytes -> 52 base64 chars -> a 64-character encoded word


class SendError(XlperfError):
    """Delivery failed. ``str(error)`` is a complete Chinese message for the user; ``kind`` says why."""

    def __init__(self, message: str, kind: SendErrorKind = "other") -> None:
        super().__init__(message)
        self.kind: SendErrorKind = kind

    @property
    def message(self) -> str:
        """The user-facing message."""
        return str(self.args[0])


def mime_type(path: Path) -> tuple[str, str]:
    """``(maintype, subtype)`` for an attachment, by suffix."""
    ctype = MIME_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
    if not ctype or "/" not in ctype:
        ctype = "application/octet-stream"
    maintype, subtype = ctype.split("/", 1)
    return maintype, subtype


def header_text(value: str) -> str:
    """A header value as one line: CR, LF and every other control or line-separator character become a
    space (a department name or subject with CR/LF can never add a header or break the message)."""
    cleaned = "".join(
        " " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Cs") else c for c in str(value)
    )
    return " ".join(cleaned.split())


def build_message(
    *,
    sender: str,
    to: Sequence[str],
    subject: str,
    body: str,
    attachments: Sequence[Path],
    message_id: str | None = None,
) -> EmailMessage:
    """A complete ``EmailMessage`` (policy :data:`MAIL_POLICY`) with Message-ID, Date and attachments.

    ``sender`` and ``to`` may carry Chinese display names (``"白云区科工商信局 <kgs@example.cn>"``).
    Attachment file names keep their Chinese characters in both RFC 2231 and RFC 2047 form.
    ``message_id`` (``<…@…>``) is used as given, so that the same mail always has the same id.
    Every header value passes :func:`header_text` first.
    """
    msg = EmailMessage(policy=MAIL_POLICY)
    msg["From"] = header_text(sender)
    msg["To"] = ", ".join(header_text(t) for t in to)
    msg["Subject"] = header_text(subject)
    msg["Date"] = formatdate(localtime=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "xlperf.invalid"
    msg["Message-ID"] = (
        header_text(message_id) if message_id else make_msgid(idstring="xlperf", domain=domain)
    )
    msg.set_content(body, subtype="plain", charset="utf-8", cte="base64")
    for path in attachments:
        path = Path(path)
        maintype, subtype = mime_type(path)
        msg.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    for part in msg.iter_attachments():
        assert isinstance(part, EmailMessage)
        filename = part.get_filename()
        if filename:
            _set_raw_content_type(part, f"{part.get_content_type()}", filename)
    return msg


def _set_raw_content_type(part: EmailMessage, ctype: str, filename: str) -> None:
    """Replace the part's ``Content-Type`` by a hand-folded one carrying ``name=`` (RFC 2047 if needed).

    Keeps header order and drops the redundant ``MIME-Version`` the stdlib puts on each part.
    """
    if filename.isascii():
        quoted = filename.replace("\\", "\\\\").replace('"', '\\"')
        raw = f'{ctype};\n name="{quoted}"'
    else:
        raw = f'{ctype};\n name="' + "\n ".join(_encoded_words(filename)) + '"'
    items = [(k, v) for k, v in part.raw_items() if k.lower() != "mime-version"]
    for key in {k for k, _ in part.raw_items()}:
        del part[key]
    for key, value in items:
        part.set_raw(key, raw if key.lower() == "content-type" else value)


def _encoded_words(text: str) -> list[str]:
    """RFC 2047 ``=?utf-8?b?…?=`` words of at most 64 characters, never splitting a character."""
    words: list[str] = []
    chunk = b""
    for char in text:
        encoded = char.encode("utf-8")
        if chunk and len(chunk) + len(encoded) > _WORD_BYTES:
            words.append(_b_word(chunk))
            chunk = b""
        chunk += encoded
    if chunk:
        words.append(_b_word(chunk))
    return words


def _b_word(data: bytes) -> str:
    return "=?utf-8?b?" + base64.b64encode(data).decode("ascii") + "?="


def message_bytes(msg: EmailMessage) -> bytes:
    """The wire form (CRLF, 7-bit for messages from :func:`build_message`)."""
    return msg.as_bytes(policy=MAIL_POLICY)


def write_eml(msg: EmailMessage, path: Path, *, draft: bool = True) -> Path:
    """Write the message to ``path`` (``--eml``) atomically instead of sending it.

    With ``draft`` the file starts with ``X-Unsent: 1`` so that Outlook opens it as an editable draft;
    otherwise the bytes are exactly those that would be sent.
    """
    data = message_bytes(msg)
    if draft:
        data = b"X-Unsent: 1\r\n" + data
    atomic_write_bytes(Path(path), data)
    logger.info("mail draft written to {}", path)
    return Path(path)


def _format_number(value: Decimal | float | int | str) -> str:
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def subject_text(department: str, year: int | str, *, project: str = "") -> str:
    """The subject line: ``【绩效自评报送】白云区科工商信局 2023 年度部门整体支出绩效自评``; a project
    form's: ``【绩效自评报送】棠溪镇人民政府 2022 年度项目支出绩效自评：融媒体运行``.

    One line (a mail header cannot hold a line break), without invisible format characters.
    """
    if project:
        return one_line(f"【绩效自评报送】{department} {year} 年度项目支出绩效自评：{project}")
    return one_line(f"【绩效自评报送】{department} {year} 年度部门整体支出绩效自评")


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (line breaks included) as one space, and no control or
    invisible format characters (U+202E and the like): fit for a mail header or a display name."""
    visible = "".join(
        ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cs", "Cn") or ch in "\t\n\r"
    )
    return re.sub(r"\s+", " ", visible).strip()


def body_text(
    department: str,
    year: int | str,
    total: Decimal | float | int | str,
    rating: str,
    attachment_names: Sequence[str],
    forced_reason: str | None = None,
    *,
    recipient: str = "财政局",
    preparer: str = "",
    phone: str = "",
    reminders: Sequence[str] = (),
    framework: str = "",
    project: str = "",
) -> str:
    """The plain-text body: department, year, total score, rating, who to call (填报人, 联系电话),
    the 提醒 that remain and the list of attachments (``project``: a 项目支出绩效自评表's 项目名称,
    said in the first line and on its own line).

    ``forced_reason`` (报送 despite failed checks) is stated prominently when given; ``framework``
    names the rules that scored it (name, id and hash), so the bureau sees them before opening anything.
    """
    what = f"“{project}”项目支出绩效自评" if project else "部门整体支出绩效自评"
    lines = [
        f"{recipient}：",
        "",
        f"现报送{department} {year} 年度{what}材料，请审核。",
        "",
        *([f"项目：{project}"] if project else []),
        f"{'主管部门' if project else '部门'}：{department}",
        f"年度：{year} 年",
        f"自评总分：{_format_number(total)} 分",
        f"自评等级：{rating}",
        *([f"评分框架：{framework}"] if framework else []),
    ]
    lines += [f"填报人：{one_line(preparer)}"] if preparer.strip() else []
    lines += [f"联系电话：{one_line(phone)}"] if phone.strip() else []
    lines.append("")
    if forced_reason:
        lines += ["注意：本次报送存在未通过的校验项，经确认后强制报送。", f"原因：{forced_reason}", ""]
    if reminders:
        shown = list(reminders)[:MAX_REMINDERS]
        lines.append(f"尚有 {len(reminders)} 条提醒（不影响报送，供审核参考）：")
        lines += [f"  {i}. {one_line(text)}" for i, text in enumerate(shown, 1)]
        if len(reminders) > len(shown):
            lines.append(f"  ……另有 {len(reminders) - len(shown)} 条，见附件工作簿的“校验结果”。")
        lines.append("")
    if attachment_names:
        lines.append(f"附件（共 {len(attachment_names)} 个）：")
        lines += [f"  {i}. {name}" for i, name in enumerate(attachment_names, 1)]
    else:
        lines.append("附件：无")
    lines += ["", f"{department}", "", "（本邮件由 xlperf 自动生成。）", ""]
    return "\n".join(lines)


MAX_REMINDERS = 20  # 提醒 listed in the body; the rest are in the workbook's 校验结果


def package_body(package: Any, *, recipient: str = "财政局") -> str:
    """The body of a 报送包's mail (sent, drafted with --eml, or opened in Outlook), from its manifest:
    the figures, 填报人 and 联系电话 of its header, the 提醒 that remain, the forced reason, the files."""
    data = package.manifest_data
    header: dict[str, Any] = data.get("header") if isinstance(data.get("header"), dict) else {}
    card: dict[str, Any] = data.get("scorecard") if isinstance(data.get("scorecard"), dict) else {}
    listed = card.get("findings")
    findings: list[Any] = listed if isinstance(listed, list) else []
    reminders = [
        f"{f.get('sheet')}!{f.get('cell')}：{f.get('message')}" if f.get("sheet") else str(f.get("message"))
        for f in findings
        if isinstance(f, dict) and f.get("severity") == "warning"
    ]
    return body_text(
        package.department,
        package.year,
        f"{package.total:.2f}",
        package.rating or "不评级",
        [p.name for p in package.files],
        package.reason or None,
        recipient=recipient,
        project=str(getattr(package, "project", "") or ""),
        preparer=str(header.get("preparer") or ""),
        phone=str(header.get("phone") or ""),
        reminders=reminders,
        framework=manifest_framework(data),
    )


def manifest_framework(data: dict[str, Any]) -> str:
    """The rules a package was scored by, as its manifest records them: 名称（编号，校验值前 8 位）."""
    name, fid, sha = (str(data.get(k) or "") for k in ("framework_name", "framework", "framework_sha256"))
    if not fid:
        return ""
    return f"{name}（{fid}，校验值 {sha[:8]}）" if name else f"{fid}（校验值 {sha[:8]}）"


def envelope(msg: EmailMessage) -> tuple[str, list[str]]:
    """``(mail_from, rcpt_to)`` addr-specs from the From, To, Cc and Bcc headers."""
    sender = parseaddr(str(msg.get("From", "")))[1]
    fields = [str(v) for key in ("To", "Cc", "Bcc") for v in msg.get_all(key, [])]
    recipients = [addr for _, addr in getaddresses(fields) if addr]
    return sender, recipients


def send_message(msg: EmailMessage, settings: SmtpSettings) -> None:
    """Send ``msg`` to the recipients in its headers (or ``settings.to``); raise :class:`SendError`."""
    sender, recipients = envelope(msg)
    send_bytes(
        message_bytes(msg),
        sender=sender or parseaddr(settings.sender)[1],
        recipients=recipients or [parseaddr(a)[1] for a in settings.to],
        settings=settings,
    )


def tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    """The client TLS context: system CAs (plus ``cafile``), verification unless ``verify_tls`` is off."""
    context = ssl.create_default_context(cafile=str(settings.cafile) if settings.cafile else None)
    if not settings.verify_tls:
        logger.warning("已关闭 TLS 证书校验（verify_tls = false），连接可能被冒充")
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def local_hostname() -> str:
    """The EHLO name. ``socket.getfqdn`` may wait on DNS and Chinese computer names are not ASCII."""
    name = socket.gethostname()
    return name if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]{0,252}", name) else "localhost"


class _HookFailed(Exception):
    """A ``before_data`` / ``on_accepted`` callback raised: re-raised as is, never translated."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


def send_bytes(
    data: bytes,
    *,
    sender: str,
    recipients: Sequence[str],
    settings: SmtpSettings,
    before_data: Callable[[], None] | None = None,
    on_accepted: Callable[[str], None] | None = None,
) -> None:
    """Deliver already-generated message bytes (CRLF) unchanged; raise :class:`SendError` on failure.

    ``before_data`` runs once the server has accepted sender and recipients, just before the DATA
    command (the outbox records "sending" there); ``on_accepted`` runs with the server's reply as
    soon as it answers 250 to the message, before QUIT (the outbox records "sent"). Exceptions of
    the callbacks propagate unchanged. A lost reply after the message was transmitted raises a
    :class:`SendError` of kind ``"uncertain"`` (the server may have stored it); a 4xx/5xx reply is
    a definite refusal. Trouble during QUIT after a 250 is only logged: the mail was delivered.
    """
    phase = "connect"
    where = settings.address
    logger.info(
        "connecting to mail server {} ({}{})",
        where,
        settings.security,
        f", user {settings.user}" if settings.user else "",
    )
    client: smtplib.SMTP | None = None
    reply = ""
    try:
        if settings.security == "ssl":
            client = smtplib.SMTP_SSL(
                settings.host,
                settings.port,
                local_hostname=local_hostname(),
                timeout=settings.timeout,
                context=tls_context(settings),
            )
        else:
            client = smtplib.SMTP(
                settings.host, settings.port, local_hostname=local_hostname(), timeout=settings.timeout
            )
        client.ehlo()
        if settings.security == "starttls":
            phase = "starttls"
            client.starttls(context=tls_context(settings))
            client.ehlo()
        if settings.user:
            phase = "login"
            if settings.security == "none":
                logger.warning("在未加密的连接上登录 {}", where)
            client.login(settings.user, settings.password or "")
        phase = "send"
        _envelope_commands(client, sender, recipients, len(data))
        if before_data is not None:
            try:
                before_data()
            except BaseException as exc:
                raise _HookFailed(exc) from exc
        code, text = client.docmd("DATA")
        if code != 354:
            raise smtplib.SMTPDataError(code, text)
        phase = "data"  # from here on the server may store the message even if its reply is lost
        body = re.sub(rb"(?m)^\.", b"..", data)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        client.send(body + b".\r\n")
        code, text = client.getreply()
        if code != 250:
            phase = "send"  # a definite refusal: the server did not take the message
            raise smtplib.SMTPDataError(code, text)
        reply = f"{code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"
        phase = "done"
        if on_accepted is not None:
            try:
                on_accepted(reply)
            except BaseException as exc:
                raise _HookFailed(exc) from exc
    except _HookFailed as hook:
        _close(client, quit_=phase == "done")
        raise hook.error from None
    except Exception as exc:
        _close(client, quit_=False)
        error = _translate(exc, phase, settings)
        logger.warning("发送失败（{}）：{}", error.kind, error.message)
        raise error from None
    _close(client, quit_=True)
    logger.info("mail sent to {} ({} bytes, server replied {})", ", ".join(recipients), len(data), reply)


def _envelope_commands(client: smtplib.SMTP, sender: str, recipients: Sequence[str], size: int) -> None:
    """MAIL FROM and RCPT TO as ``smtplib.SMTP.sendmail`` sends them (SIZE when offered)."""
    options = [f"size={size}"] if client.does_esmtp and client.has_extn("size") else []
    code, text = client.mail(sender, options)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, text, sender)
    refused: dict[str, tuple[int, bytes]] = {}
    for rcpt in recipients:
        code, text = client.rcpt(rcpt)
        if code not in (250, 251):
            refused[rcpt] = (code, text)
    if len(refused) == len(recipients):
        raise smtplib.SMTPRecipientsRefused(refused)
    for rcpt, (code, text) in refused.items():
        logger.warning("服务器拒绝了收件人 {}（{} {}），其余收件人照常发送", rcpt, code, text)


def _close(client: smtplib.SMTP | None, *, quit_: bool) -> None:
    """QUIT (after a delivery) and close; nothing that happens here changes the outcome."""
    if client is None:
        return
    try:
        if quit_:
            client.quit()
    except Exception as exc:  # slow or dropped QUIT after a 250: the mail is delivered
        logger.info("QUIT after sending did not complete ({}); the mail was already accepted", exc)
    finally:
        with contextlib.suppress(Exception):  # closing a dead socket
            client.close()


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error
    decoded = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{exc.smtp_code} {decoded}".strip()


def _translate(exc: Exception, phase: str, settings: SmtpSettings) -> SendError:
    """Map an smtplib / socket / ssl failure to a Chinese :class:`SendError`; never shows the password."""
    where = settings.address
    chain = _chain(exc)
    error: SendError
    if phase == "data":
        error = SendError(
            f"邮件内容已发给服务器 {where}，但没有收到确认（{type(exc).__name__}）", "uncertain"
        )
    elif any(isinstance(e, TimeoutError) for e in chain):
        error = SendError(
            f"连接邮件服务器 {where} 超时（{settings.timeout:g} 秒内无响应，阶段：{_PHASES[phase]}）。"
            "请检查网络、防火墙，以及端口与加密方式是否匹配"
            f"（{ENV_PORT}、{ENV_SECURITY}：465 端口通常为 ssl，587 为 starttls）。",
            "timeout",
        )
    elif isinstance(exc, ConnectionRefusedError):
        error = SendError(
            f"无法连接邮件服务器 {where}（连接被拒绝）。请检查 {ENV_HOST}/{ENV_PORT} 是否正确、"
            "服务器是否在运行、防火墙是否放行。",
            "refused",
        )
    elif isinstance(exc, socket.gaierror):
        error = SendError(
            f"无法解析邮件服务器地址 {settings.host}。请检查 {ENV_HOST} 是否正确以及网络（DNS）是否可用。",
            "refused",
        )
    elif isinstance(exc, smtplib.SMTPAuthenticationError):
        error = SendError(
            f"用户名或密码错误：服务器 {where} 拒绝了用户 {settings.user} 的登录（{_reply(exc)}）。"
            f"请检查 {ENV_USER} 与密码（环境变量 {ENV_PASSWORD} 或系统钥匙串）；"
            "QQ、163 等邮箱须使用“授权码”而非网页登录密码。",
            "auth",
        )
    elif isinstance(exc, smtplib.SMTPNotSupportedError) and phase == "starttls":
        error = SendError(
            f"邮件服务器 {where} 不支持 STARTTLS。请将 {ENV_SECURITY} 设为 ssl（通常端口 465）"
            "或向管理员确认。",
            "tls",
        )
    elif isinstance(exc, smtplib.SMTPNotSupportedError | UnicodeEncodeError) and phase == "login":
        error = SendError(
            f"无法在 {where} 上登录：服务器未提供可用的登录方式，或用户名/密码含有不支持的非 ASCII 字符。"
            f"如服务器要求加密后才能登录，请将 {ENV_SECURITY} 设为 starttls 或 ssl。",
            "auth",
        )
    elif any(isinstance(e, ssl.SSLCertVerificationError) for e in chain):
        cert_error = next(e for e in chain if isinstance(e, ssl.SSLCertVerificationError))
        error = SendError(
            f"邮件服务器 {where} 的 TLS 证书校验失败（{cert_error.verify_message}）。"
            "如为内网自签名证书，请在配置中用 cafile 指定 CA 证书文件。",
            "tls",
        )
    elif any(isinstance(e, ssl.SSLError) for e in chain):
        error = SendError(
            f"与邮件服务器 {where} 的 TLS 握手失败（{exc}）。请检查 {ENV_SECURITY} 与端口是否匹配"
            "（465 端口通常为 ssl，587 为 starttls，25 为 none 或 starttls）。",
            "tls",
        )
    elif (
        isinstance(exc, smtplib.SMTPResponseException)
        and exc.smtp_code == 530
        and settings.security == "none"
    ):
        error = SendError(
            f"邮件服务器 {where} 要求先加密连接（{_reply(exc)}）。请将 {ENV_SECURITY} 设为 starttls"
            "（或在 465 端口上设为 ssl）。",
            "tls",
        )
    elif isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = "；".join(
            f"{addr}：{code} {msg.decode('utf-8', 'replace') if isinstance(msg, bytes) else msg}"
            for addr, (code, msg) in exc.recipients.items()
        )
        error = SendError(f"邮件服务器 {where} 拒绝了收件人：{refused}。请检查收件人地址。", "rejected")
    elif isinstance(exc, smtplib.SMTPSenderRefused):
        error = SendError(
            f"邮件服务器 {where} 拒绝了发件人 {exc.sender}（{_reply(exc)}）。"
            "请检查发件人地址是否与登录账号一致。",
            "rejected",
        )
    elif isinstance(exc, smtplib.SMTPDataError):
        error = SendError(
            f"邮件服务器 {where} 拒收了邮件内容（{_reply(exc)}）。如提示邮件过大，请减小附件。", "rejected"
        )
    elif isinstance(exc, smtplib.SMTPResponseException):
        error = SendError(
            f"邮件服务器 {where} 返回错误（{_reply(exc)}，阶段：{_PHASES[phase]}）。", "rejected"
        )
    elif isinstance(exc, smtplib.SMTPServerDisconnected):
        error = SendError(
            f"邮件服务器 {where} 意外断开了连接（阶段：{_PHASES[phase]}）。"
            f"请检查端口与加密方式（{ENV_SECURITY}）是否匹配。",
            "other",
        )
    elif isinstance(exc, ConnectionError | OSError):
        error = SendError(
            f"无法连接邮件服务器 {where}：{exc}。请检查网络与 {ENV_HOST}/{ENV_PORT}。", "refused"
        )
    else:
        error = SendError(f"发送邮件失败（{type(exc).__name__}：{exc}，阶段：{_PHASES[phase]}）。", "other")
    if settings.password and settings.password in error.message:
        error = SendError(error.message.replace(settings.password, "***"), error.kind)
    return error


_PHASES = {
    "connect": "连接",
    "starttls": "STARTTLS",
    "login": "登录",
    "send": "发送",
    "data": "发送邮件内容",
    "done": "结束会话",
}
