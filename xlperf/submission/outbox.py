"""The outbox: every message is written to disk before any attempt to send it.

Layout of the outbox folder (default ``xlperf.paths.data_dir()/outbox``, which honours ``$XLPERF_HOME``)::

    <id>.eml        the exact bytes that are (re)sent (one Message-ID per mail, forever)
    <id>.json       {id, created, status, attempts, last_error, last_error_kind, to, sender,
                     subject, sent_at, attachments, attachment_bytes, message_id}
    <id>.lock       an OS lock (flock / msvcrt) held while a process sends <id>
    sent/<id>.eml   delivered messages are kept here, with their final .json

At most once, as the trusted mail systems do it. ``status`` is

* ``pending`` – never tried; ``failed`` – tried and certainly not delivered (refused connection,
  login, a 4xx/5xx reply): ``--retry`` sends these again;
* ``sending`` – written durably (fsync) just before the DATA command. Found on disk with nobody
  holding the lock, it means the process died while the message was on the wire: it is turned into
* ``uncertain`` – the message was transmitted but its reply never came (dropped connection,
  timeout, Ctrl-C, SIGKILL, a full disk before "sent" was written). The server may have stored
  it, so ``--retry`` does **not** resend it without ``resend_uncertain`` (``--resend-uncertain``)
  and says so with the Message-ID for the clerk to ask the bureau;
* ``sent`` – the server answered 250 (recorded before QUIT; a slow or dropped QUIT changes nothing).

Every write is atomic (temporary file, fsync, ``os.replace``, folder fsync). The lock is an OS lock
that dies with its process, so a lock file left by a killed run never blocks a later one, while two
live processes (``xlperf submit`` and ``xlperf submit --retry``) never send the same message at once.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from loguru import logger

from xlperf.files import LockBusy, OutputError, atomic_write_bytes, hold_lock
from xlperf.submission.mail import SendError, envelope, message_bytes, send_bytes
from xlperf.submission.settings import MIB, SmtpSettings

Status = Literal["pending", "sent", "failed", "sending", "uncertain"]


def default_outbox_dir() -> Path:
    """``data_dir()/outbox``: the one data folder (:mod:`xlperf.paths`, ``$XLPERF_HOME`` when set)."""
    from xlperf.paths import data_dir

    return data_dir() / "outbox"


@dataclass(frozen=True)
class OutboxItem:
    """One queued message as recorded in ``<id>.json`` (``root`` is the folder holding the files)."""

    id: str
    created: str
    status: Status
    to: list[str]
    sender: str
    subject: str
    attempts: int = 0
    last_error: str | None = None
    last_error_kind: str | None = None
    sent_at: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    attachment_bytes: int = 0
    message_id: str = ""
    #: what "the same mail" means beyond the Message-ID: ``<workbook SHA-256>|<department>`` for the
    #: web page's 发送财政局 (one mail per workbook content and department, however often uploaded)
    content_key: str = ""
    root: Path = field(default=Path("."), compare=False)
    #: set (never stored) when the mail left but its new status could not be recorded
    warning: str | None = field(default=None, compare=False)
    #: set (never stored) when another xlperf process sent it while this one waited for its lock
    sent_elsewhere: bool = field(default=False, compare=False)

    @property
    def eml_path(self) -> Path:
        """The message file."""
        return self.root / f"{self.id}.eml"

    @property
    def status_path(self) -> Path:
        """The status file."""
        return self.root / f"{self.id}.json"

    def to_json(self) -> dict[str, Any]:
        """The status record as written to disk (without ``root``)."""
        data = asdict(self)
        del data["root"], data["warning"], data["sent_elsewhere"]
        return data


class Outbox:
    """A folder of messages waiting to be sent, sent, or failed."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_outbox_dir()
        self.sent_dir = self.root / "sent"

    # -- queue ---------------------------------------------------------------------------------
    def enqueue(self, msg: EmailMessage, content_key: str = "") -> OutboxItem:
        """Store ``msg`` as a new pending item (``.eml`` first, then its status)."""
        self.root.mkdir(parents=True, exist_ok=True)
        now = datetime.now().astimezone()
        item_id = f"{now:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"
        sender, recipients = envelope(msg)
        attachments: list[dict[str, Any]] = []
        for part in msg.iter_attachments():
            payload = part.get_payload(decode=True)
            size = len(payload) if isinstance(payload, bytes) else 0
            attachments.append({"name": part.get_filename() or "", "bytes": size})
        item = OutboxItem(
            id=item_id,
            created=now.isoformat(),
            status="pending",
            to=recipients,
            sender=sender,
            subject=str(msg.get("Subject", "")),
            attachments=attachments,
            attachment_bytes=sum(int(a["bytes"]) for a in attachments),
            message_id=str(msg.get("Message-ID", "")),
            content_key=content_key,
            root=self.root,
        )
        atomic_write_bytes(item.eml_path, message_bytes(msg))
        self._write_status(item)
        logger.info("mail {} queued in the outbox ({})", item.id, self.root)
        return item

    def submit(self, msg: EmailMessage, settings: SmtpSettings) -> OutboxItem:
        """Enqueue, then send. On failure the item stays in the outbox and :class:`SendError` is raised."""
        return self.send(self.enqueue(msg), settings)

    # -- inspection ----------------------------------------------------------------------------
    def items(self) -> list[OutboxItem]:
        """All items still in the outbox folder (any status), oldest first."""
        if not self.root.is_dir():
            return []
        found: list[OutboxItem] = []
        for status_path in self.root.glob("*.json"):
            item = self._load(status_path)
            if item is None:
                continue
            if not item.eml_path.is_file():
                logger.warning("发件箱记录 {} 缺少邮件文件，已跳过", status_path)
                continue
            found.append(item)
        for eml in self.root.glob("*.eml"):
            if not eml.with_suffix(".json").is_file():
                logger.warning("发件箱中有不完整的邮件 {}（没有状态文件，不会自动发送）", eml)
        return sorted(found, key=lambda i: (i.created, i.id))

    def pending(self) -> list[OutboxItem]:
        """Items not known to be delivered (``pending``, ``failed``, ``sending``, ``uncertain``),
        oldest first."""
        return [item for item in self.items() if item.status != "sent"]

    def find(self, message_id: str) -> OutboxItem | None:
        """The item (in the outbox or in ``sent/``) holding the mail with this Message-ID."""
        if not message_id:
            return None
        for item in [*self.items(), *self.sent()]:
            if item.message_id == message_id:
                return item
        return None

    def find_content(self, content_key: str) -> OutboxItem | None:
        """The latest item (in the outbox or in ``sent/``) queued with this ``content_key``."""
        if not content_key:
            return None
        found = [item for item in [*self.items(), *self.sent()] if item.content_key == content_key]
        return max(found, key=lambda i: (i.created, i.id)) if found else None

    def sent(self) -> list[OutboxItem]:
        """Delivered items (in ``sent/``, or left in place when archiving failed), oldest first."""
        items = [i for i in self.items() if i.status == "sent"]
        if self.sent_dir.is_dir():
            items += [i for p in self.sent_dir.glob("*.json") if (i := self._load(p)) is not None]
        return sorted(items, key=lambda i: (i.created, i.id))

    def get(self, item_id: str) -> OutboxItem | None:
        """The current record of ``item_id`` (in the outbox or in ``sent/``)."""
        for folder in (self.root, self.sent_dir):
            path = folder / f"{item_id}.json"
            if path.is_file():
                return self._load(path)
        return None

    def message(self, item: OutboxItem) -> EmailMessage:
        """The stored message, parsed (for display; sending uses the raw bytes)."""
        path = item.eml_path if item.eml_path.is_file() else self.sent_dir / f"{item.id}.eml"
        parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    # -- sending -------------------------------------------------------------------------------
    def send(self, item: OutboxItem, settings: SmtpSettings, *, resend_uncertain: bool = False) -> OutboxItem:
        """Send one item; return its new record. Raise :class:`SendError` after recording a failure.

        The attachment-size limit is checked before connecting. An item already sent is not sent
        again (its record is returned as is); an ``uncertain`` one only with ``resend_uncertain``.
        """
        lock = self.root / f"{item.id}.lock"
        try:
            # another process sending it holds the lock for one SMTP exchange at most: wait for it, then
            # its record says what became of the mail (sent: reported as sent by the other process)
            with hold_lock(lock, wait=4 * settings.timeout + 5):
                result = self._send_held(item, settings, resend_uncertain)
        except LockBusy:
            raise SendError(
                f"发件箱中的邮件 {item.id} 正在由另一个 xlperf 进程发送（锁文件 {lock}）。"
                "请等它结束后再运行 xlperf submit --retry。",
                "locked",
            ) from None
        except OSError as exc:
            raise SendError(
                f"无法在发件箱 {self.root} 中加锁（{exc.strerror or exc}）；为免重复发送，未发送。"
                "请检查该文件夹是否可写、磁盘是否已满。",
                "other",
            ) from None
        if result.status == "sent" and result.root == self.sent_dir:
            lock.unlink(missing_ok=True)
        return result

    def _send_held(self, item: OutboxItem, settings: SmtpSettings, resend_uncertain: bool) -> OutboxItem:
        current = self.get(item.id)
        if current is None:
            raise SendError(f"发件箱中找不到邮件 {item.id}（{self.root}）。", "other")
        if current.status == "sent":
            logger.info("mail {} was sent at {}; not sending it again", item.id, current.sent_at)
            return replace(current, sent_elsewhere=item.status != "sent")
        if current.status == "sending":  # the process sending it died: the lock was free
            current = replace(
                current,
                status="uncertain",
                last_error_kind="uncertain",
                last_error="上次发送邮件内容时程序中断（被终止或断电）",
            )
            self._record(current)
        if current.status == "uncertain" and not resend_uncertain:
            raise SendError(uncertain_message(current), "uncertain")
        return self._send_locked(current, settings)

    def _send_locked(self, item: OutboxItem, settings: SmtpSettings) -> OutboxItem:
        attempts = item.attempts + 1
        sending = replace(item, status="sending", attempts=attempts)
        recorded: list[str] = []  # "sending", then "sent" as each is durably on disk

        def before_data() -> None:
            try:
                self._write_status(sending)
            except OutputError as exc:
                raise SendError(
                    f"无法在发件箱中记下“正在发送”：{exc}。为免重复发送，本次未发送邮件内容。", "other"
                ) from None
            recorded.append("sending")

        sent = replace(item, status="sent", attempts=attempts, last_error=None, last_error_kind=None)

        def on_accepted(reply: str) -> None:
            nonlocal sent
            sent = replace(sent, sent_at=datetime.now().astimezone().isoformat())
            self._write_status(sent)  # from here on the item is never sent again
            recorded.append("sent")
            self._archive(item)

        try:
            if item.attachment_bytes > settings.max_attachment_bytes:
                raise SendError(
                    f"附件总大小 {item.attachment_bytes / MIB:.2f} MB 超过上限 "
                    f"{settings.max_attachment_bytes / MIB:.2f} MB，未发送。请压缩或拆分附件，"
                    "或调高上限（max_attachment_mb / XLPERF_SMTP_MAX_ATTACHMENT_MB，"
                    "须不超过邮件服务器限制）。",
                    "too_large",
                )
            data = item.eml_path.read_bytes()
            logger.info("sending outbox mail {} (attempt {})", item.id, attempts)
            send_bytes(
                data,
                sender=item.sender,
                recipients=item.to,
                settings=settings,
                before_data=before_data,
                on_accepted=on_accepted,
            )
        except SendError as exc:
            status: Status = "uncertain" if exc.kind == "uncertain" else "failed"
            failed = replace(
                item, status=status, attempts=attempts, last_error=exc.message, last_error_kind=exc.kind
            )
            self._record(failed)
            logger.warning("邮件 {} 仍在发件箱中（{}）：{}", item.id, status, exc.message)
            if status == "uncertain":
                raise SendError(uncertain_message(failed), "uncertain") from None
            raise
        except (OSError, OutputError) as exc:  # e.g. the status write after the 250 met a full disk
            if "sending" not in recorded:
                raise SendError(f"无法读取发件箱中的邮件 {item.eml_path}：{exc}；未发送。", "other") from None
            if "sent" in recorded:
                raise
            where = self.root
            logger.warning("邮件 {} 已发出，但无法记录状态：{}", item.id, exc)
            return replace(
                sent,
                warning=(
                    f"邮件已由服务器接收（Message-ID {item.message_id}），但无法在发件箱 {where} "
                    "中记下“已发送”"
                    f"（{getattr(exc, 'strerror', None) or exc}）。它在发件箱中显示为“状态不确定”，"
                    "xlperf submit --retry 不会重发它；请清理磁盘空间。"
                ),
            )
        except BaseException:  # Ctrl-C and the like: the mail may be on its way
            if "sending" in recorded and "sent" not in recorded:
                self._record(
                    replace(
                        sending,
                        status="uncertain",
                        last_error_kind="uncertain",
                        last_error="发送邮件内容时程序被中断（Ctrl-C）",
                    )
                )
            raise
        archived = not item.status_path.exists()
        return replace(sent, root=self.sent_dir if archived else self.root)

    def _archive(self, item: OutboxItem) -> None:
        """Move a sent item into ``sent/`` (best effort: a sent item left in place is never resent)."""
        try:
            self.sent_dir.mkdir(parents=True, exist_ok=True)
            os.replace(item.eml_path, self.sent_dir / item.eml_path.name)
            os.replace(item.status_path, self.sent_dir / item.status_path.name)
        except OSError as exc:
            logger.warning("邮件 {} 已发送，但未能归档到 {}：{}", item.id, self.sent_dir, exc)
            return
        logger.info("mail {} sent, filed in {}", item.id, self.sent_dir)

    def _record(self, item: OutboxItem) -> None:
        """Best-effort status write: if it fails, what is on disk still errs on the safe side."""
        try:
            self._write_status(item)
        except (OSError, OutputError) as exc:
            logger.warning("无法更新发件箱记录 {}：{}", item.status_path, exc)

    def retry_all(
        self,
        settings: SmtpSettings,
        *,
        resend_uncertain: bool = False,
    ) -> list[tuple[OutboxItem, SendError | None]]:
        """Send every pending or failed item, oldest first; one failure does not stop the others.

        ``uncertain`` items are reported, not sent, unless ``resend_uncertain``.
        """
        results: list[tuple[OutboxItem, SendError | None]] = []
        for item in self.pending():
            try:
                results.append((self.send(item, settings, resend_uncertain=resend_uncertain), None))
            except SendError as exc:
                results.append((self.get(item.id) or item, exc))
        return results

    # -- storage -------------------------------------------------------------------------------
    def _write_status(self, item: OutboxItem) -> None:
        data = json.dumps(item.to_json(), ensure_ascii=False, indent=2).encode("utf-8")
        atomic_write_bytes(item.status_path, data)

    def _load(self, status_path: Path) -> OutboxItem | None:
        try:
            data = json.loads(status_path.read_text(encoding="utf-8"))
            known = {f.name for f in fields(OutboxItem)} - {"root", "warning", "sent_elsewhere"}
            return OutboxItem(**{k: v for k, v in data.items() if k in known}, root=status_path.parent)
        except (OSError, ValueError, TypeError) as exc:
            logger.warning("无法读取发件箱记录 {}：{}", status_path, exc)
            return None


def uncertain_message(item: OutboxItem) -> str:
    """The Chinese explanation for a mail that may or may not have reached the bureau."""
    why = (item.last_error or "已发给邮件服务器，但没有收到确认").rstrip("。")
    return (
        f"邮件“{item.subject}”（发件箱编号 {item.id}）状态不确定：{why}。财政局可能已经收到，"
        "为免重复报送，xlperf 不会自动重发。请向财政局核实是否收到 Message-ID 为 "
        f"{item.message_id or '（未记录）'} 的邮件；确认未收到后再运行 "
        "xlperf submit --retry --resend-uncertain（Message-ID 不变，财政局邮箱可据此去重）。"
    )
