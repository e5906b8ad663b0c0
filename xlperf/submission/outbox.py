"""The outbox: every message is written to disk before any attempt to send it.

Layout of the outbox folder (default ``platformdirs.user_data_dir("xlperf")/outbox``)::

    <id>.eml        the exact bytes that are (re)sent
    <id>.json       {id, created, status, attempts, last_error, last_error_kind, to, sender,
                     subject, sent_at, attachments, attachment_bytes}
    <id>.lock       present only while a process is sending <id>
    sent/<id>.eml   delivered messages are kept here, with their final .json

``status`` is ``pending`` (never tried), ``failed`` (tried, ``last_error`` says why) or ``sent``.
Every write is atomic (temporary file, fsync, ``os.replace``). A message marked sent is never sent
again, and the lock file keeps two processes (``xlperf submit`` and ``xlperf submit --retry``) from
sending the same message at once. If a process dies while sending, the lock stays and the message
is not retried automatically — whether it left cannot be known; the error says what to check.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

import platformdirs
from loguru import logger

from xlperf.submission.mail import SendError, atomic_write, envelope, message_bytes, send_bytes
from xlperf.submission.settings import MIB, SmtpSettings

Status = Literal["pending", "sent", "failed"]


def default_outbox_dir() -> Path:
    """``platformdirs.user_data_dir("xlperf")/outbox``."""
    return Path(platformdirs.user_data_dir("xlperf", appauthor=False)) / "outbox"


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
    root: Path = field(default=Path("."), compare=False)

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
        del data["root"]
        return data


class Outbox:
    """A folder of messages waiting to be sent, sent, or failed."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_outbox_dir()
        self.sent_dir = self.root / "sent"

    # -- queue ---------------------------------------------------------------------------------
    def enqueue(self, msg: EmailMessage) -> OutboxItem:
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
            root=self.root,
        )
        atomic_write(item.eml_path, message_bytes(msg))
        self._write_status(item)
        logger.info("邮件已放入发件箱 {}（{}）", item.id, self.root)
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
        """Items still to send (``pending`` or ``failed``), oldest first."""
        return [item for item in self.items() if item.status != "sent"]

    def sent(self) -> list[OutboxItem]:
        """Delivered items (in ``sent/``), oldest first."""
        if not self.sent_dir.is_dir():
            return []
        items = [i for p in self.sent_dir.glob("*.json") if (i := self._load(p)) is not None]
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
    def send(self, item: OutboxItem, settings: SmtpSettings) -> OutboxItem:
        """Send one item; return its new record. Raise :class:`SendError` after recording a failure.

        The attachment-size limit is checked before connecting. An item already sent is not sent
        again (its record is returned as is).
        """
        lock = self.root / f"{item.id}.lock"
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            raise SendError(
                f"发件箱中的邮件 {item.id} 正在由另一个 xlperf 进程发送，或上次发送时程序中断"
                f"（锁文件 {lock}）。若确认没有其他 xlperf 在运行，请先到发件邮箱“已发送”中核对是否已发出："
                "已发出则删除该邮件的 .eml、.json 与 .lock 文件；未发出则只删除 .lock 文件后重试。",
                "locked",
            ) from None
        try:
            os.write(fd, f"{os.getpid()} {datetime.now().astimezone().isoformat()}\n".encode())
            os.close(fd)
            current = self.get(item.id)
            if current is None:
                raise SendError(f"发件箱中找不到邮件 {item.id}（{self.root}）。", "other")
            if current.status == "sent":
                logger.info("邮件 {} 已于 {} 发送，不再重复发送", item.id, current.sent_at)
                return current
            return self._send_locked(current, settings)
        finally:
            lock.unlink(missing_ok=True)

    def _send_locked(self, item: OutboxItem, settings: SmtpSettings) -> OutboxItem:
        attempts = item.attempts + 1
        try:
            if item.attachment_bytes > settings.max_attachment_bytes:
                raise SendError(
                    f"附件总大小 {item.attachment_bytes / MIB:.2f} MB 超过上限 "
                    f"{settings.max_attachment_bytes / MIB:.2f} MB，未发送。请压缩或拆分附件，"
                    "或调高上限（max_attachment_mb / XLPERF_SMTP_MAX_ATTACHMENT_MB，须不超过邮件服务器限制）。",
                    "too_large",
                )
            data = item.eml_path.read_bytes()
            logger.info("发送发件箱邮件 {}（第 {} 次）", item.id, attempts)
            send_bytes(data, sender=item.sender, recipients=item.to, settings=settings)
        except SendError as exc:
            failed = replace(
                item, status="failed", attempts=attempts, last_error=exc.message, last_error_kind=exc.kind
            )
            self._write_status(failed)
            logger.warning("邮件 {} 仍在发件箱中：{}", item.id, exc.message)
            raise
        sent = replace(
            item,
            status="sent",
            attempts=attempts,
            last_error=None,
            last_error_kind=None,
            sent_at=datetime.now().astimezone().isoformat(),
        )
        self._write_status(sent)  # from here on the item is never sent again
        self.sent_dir.mkdir(parents=True, exist_ok=True)
        os.replace(item.eml_path, self.sent_dir / item.eml_path.name)
        os.replace(item.status_path, self.sent_dir / item.status_path.name)
        logger.info("邮件 {} 已发送，归档到 {}", item.id, self.sent_dir)
        return replace(sent, root=self.sent_dir)

    def retry_all(self, settings: SmtpSettings) -> list[tuple[OutboxItem, SendError | None]]:
        """Send every pending or failed item, oldest first; one failure does not stop the others."""
        results: list[tuple[OutboxItem, SendError | None]] = []
        for item in self.pending():
            try:
                results.append((self.send(item, settings), None))
            except SendError as exc:
                results.append((self.get(item.id) or item, exc))
        return results

    # -- storage -------------------------------------------------------------------------------
    def _write_status(self, item: OutboxItem) -> None:
        data = json.dumps(item.to_json(), ensure_ascii=False, indent=2).encode("utf-8")
        atomic_write(item.status_path, data)

    def _load(self, status_path: Path) -> OutboxItem | None:
        try:
            data = json.loads(status_path.read_text(encoding="utf-8"))
            return OutboxItem(**data, root=status_path.parent)
        except (OSError, ValueError, TypeError) as exc:
            logger.warning("无法读取发件箱记录 {}：{}", status_path, exc)
            return None
