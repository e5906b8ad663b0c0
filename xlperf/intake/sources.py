"""Where the bureau's mail comes from: an IMAP mailbox (``imaps://user@host[:port]/INBOX``), a folder of
``.eml`` files, a single ``.eml`` file, or an mbox file. Each source yields :class:`RawMessage` one at a
time; an IMAP mailbox is fetched in batches of ``batch_size`` messages, so a mailbox of hundreds of
messages is never held in memory at once.

The mailbox is opened read-only (IMAP ``EXAMINE``) and bodies are fetched with ``BODY.PEEK[]``: the
intake deletes, moves or flags nothing on the server. The password comes from ``XLPERF_IMAP_PASSWORD``
or the system keyring (``keyring set xlperf-imap <用户名>``), never from the URL or an option.
"""

from __future__ import annotations

import contextlib
import imaplib
import mailbox
import os
import re
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from xlperf.core.errors import XlperfError

ENV_IMAP_PASSWORD = "XLPERF_IMAP_PASSWORD"
ENV_IMAP_CAFILE = "XLPERF_IMAP_CAFILE"
KEYRING_IMAP = "xlperf-imap"
DEFAULT_BATCH = 25
MAX_MESSAGE_MB = 60  # a 报送 mail is a few hundred KB; past this only the header is read
MAX_BYTES = MAX_MESSAGE_MB * 1024 * 1024


def header_only(head: bytes) -> bytes:
    """The header block of a message (up to the first empty line)."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        if sep in head:
            return head.split(sep, 1)[0] + sep
    return head


class SourceError(XlperfError):
    """A source cannot be read at all (exit 2); ``str(error)`` is one Chinese line for the clerk."""


@dataclass(frozen=True)
class RawMessage:
    """One message as it came: where from (for the ledger), its bytes, and when the server got it."""

    source: str
    data: bytes
    received: datetime | None = None
    #: the size of a message over MAX_MESSAGE_MB: ``data`` then holds only its header (never the body)
    too_large: int = 0


class Source:
    """A sequence of messages; ``count`` is known once the source is opened (for the progress bar)."""

    name: str = ""
    count: int | None = None

    def open(self) -> None:  # pragma: no cover - interface
        """Connect / list; raise :class:`SourceError` with a Chinese line when that is impossible."""

    def __iter__(self) -> Iterator[RawMessage]:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        """Release the connection or file."""


# ----------------------------------------------------------------------------------- files


class EmlFolder(Source):
    """Every ``*.eml`` in a folder (and its sub-folders), by path; or one ``.eml`` file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = str(path)
        self.files: list[Path] = []

    def open(self) -> None:
        if self.path.is_file():
            self.files = [self.path]
        else:
            self.files = sorted(
                (p for p in self.path.rglob("*.eml") if p.is_file() and not p.name.startswith(".")),
                key=lambda p: str(p).casefold(),
            )
        self.count = len(self.files)

    def __iter__(self) -> Iterator[RawMessage]:
        for path in self.files:
            try:
                size = path.stat().st_size
                if size > MAX_BYTES:
                    with path.open("rb") as fh:
                        yield RawMessage(str(path), header_only(fh.read(256 * 1024)), None, too_large=size)
                    continue
                data = path.read_bytes()
            except OSError as exc:
                raise SourceError(f"无法读取邮件文件 {path}：{exc.strerror or exc}") from exc
            yield RawMessage(
                str(path), data, None
            )  # a copied file's time says nothing: the Date: header counts


class MboxFile(Source):
    """An mbox file (Thunderbird, ``mutt``, server exports); messages are read one at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = str(path)
        self.box: mailbox.mbox | None = None
        self.keys: list[str] = []

    def open(self) -> None:
        try:
            self.box = mailbox.mbox(str(self.path), create=False)
            self.keys = list(self.box.keys())
        except (OSError, mailbox.Error) as exc:
            raise SourceError(f"无法读取 mbox 文件 {self.path}：{exc}") from exc
        self.count = len(self.keys)

    def __iter__(self) -> Iterator[RawMessage]:
        assert self.box is not None
        for n, key in enumerate(self.keys, start=1):
            try:
                data = self.box.get_bytes(key)
            except (OSError, KeyError, mailbox.Error) as exc:
                raise SourceError(f"无法读取 mbox 文件 {self.path} 的第 {n} 封邮件：{exc}") from exc
            yield RawMessage(f"{self.path}#{n}", data, None)

    def close(self) -> None:
        if self.box is not None:
            with contextlib.suppress(OSError):
                self.box.close()


# ------------------------------------------------------------------------------------ IMAP


def imap_utf7(text: str) -> str:
    """A mailbox name in IMAP's modified UTF-7 (RFC 3501 §5.1.3), e.g. 收件箱 → ``&ZTZO9nux-``."""
    import base64

    out, buf = [], ""

    def flush() -> None:
        nonlocal buf
        if buf:
            b64 = base64.b64encode(buf.encode("utf-16-be")).decode("ascii").rstrip("=").replace("/", ",")
            out.append(f"&{b64}-")
            buf = ""

    for ch in text:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            buf += ch
    flush()
    return "".join(out)


def imap_password(user: str, env: Mapping[str, str]) -> str | None:
    if env.get(ENV_IMAP_PASSWORD):
        return env[ENV_IMAP_PASSWORD]
    try:
        import keyring

        found = keyring.get_password(KEYRING_IMAP, user)
        return str(found) if found else None
    except Exception:  # no keyring backend on a headless machine is normal
        return None


_FETCH_HEAD = re.compile(rb"UID (\d+)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class ImapMailbox(Source):
    """``imaps://user@host[:port]/MAILBOX`` read with EXAMINE and ``BODY.PEEK[]`` in batches."""

    def __init__(
        self,
        url: str,
        *,
        env: Mapping[str, str] | None = None,
        cafile: Path | None = None,
        timeout: float = 30,
        batch_size: int = DEFAULT_BATCH,
    ) -> None:
        self.url = url
        self.env = os.environ if env is None else env
        found_ca = cafile or (Path(self.env[ENV_IMAP_CAFILE]) if self.env.get(ENV_IMAP_CAFILE) else None)
        self.cafile = found_ca
        self.timeout = timeout
        self.batch_size = max(1, batch_size)
        self.conn: imaplib.IMAP4_SSL | None = None
        self.uids: list[bytes] = []
        self.validity = ""
        parts = urlsplit(url)
        if parts.scheme.lower() != "imaps":
            raise SourceError(
                f"{url}：只支持加密的 imaps:// 邮箱地址（如 imaps://用户名@mail.example.cn/INBOX）"
            )
        if parts.password is not None:
            raise SourceError(
                f"{self.safe_url(url)}：地址中不能写密码；请设置环境变量 {ENV_IMAP_PASSWORD}，"
                f"或运行 keyring set {KEYRING_IMAP} 用户名 存入系统钥匙串"
            )
        if not parts.hostname or not parts.username:
            raise SourceError(f"{url}：邮箱地址应写成 imaps://用户名@服务器[:端口]/邮箱文件夹")
        self.user = unquote(parts.username)
        self.host = parts.hostname
        try:
            self.port = parts.port or 993
        except ValueError as exc:
            raise SourceError(f"{url}：端口无效（{exc}）") from exc
        self.mailbox = unquote(parts.path.lstrip("/")) or "INBOX"
        self.name = f"imaps://{self.user}@{self.host}:{self.port}/{self.mailbox}"

    @staticmethod
    def safe_url(url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.username or ''}@{parts.hostname or ''}{parts.path}"

    def open(self) -> None:
        password = imap_password(self.user, self.env)
        if not password:
            raise SourceError(
                f"找不到邮箱 {self.user} 的密码：请设置环境变量 {ENV_IMAP_PASSWORD}，"
                f"或运行 keyring set {KEYRING_IMAP} {self.user} 存入系统钥匙串"
            )
        where = f"{self.host}:{self.port}"
        try:
            context = ssl.create_default_context(cafile=str(self.cafile) if self.cafile else None)
        except (OSError, ssl.SSLError) as exc:
            raise SourceError(f"无法读取 CA 证书文件 {self.cafile}：{exc}；请检查 --imap-cafile") from exc
        try:
            conn = imaplib.IMAP4_SSL(self.host, self.port, ssl_context=context, timeout=self.timeout)
        except ssl.SSLCertVerificationError as exc:
            raise SourceError(
                f"邮箱服务器 {where} 的证书无法验证（{exc.verify_message}）；内网自签名证书请用 "
                "--imap-cafile 指定 CA 证书文件，不要关闭校验"
            ) from exc
        except ssl.SSLError as exc:
            raise SourceError(
                f"无法与邮箱服务器 {where} 建立加密连接（{exc.reason or exc}）；"
                "请确认地址和端口是 IMAPS（通常为 993）"
            ) from exc
        except TimeoutError as exc:
            raise SourceError(f"连接邮箱服务器 {where} 超时；请检查网络和地址") from exc
        except OSError as exc:
            raise SourceError(
                f"无法连接邮箱服务器 {where}（{exc.strerror or exc}）；请检查地址、端口和网络"
            ) from exc
        self.conn = conn
        try:
            plain = f"\0{self.user}\0{password}".encode()
            conn.authenticate("PLAIN", lambda _: plain)
        except (imaplib.IMAP4.error, OSError) as exc:
            self.close()
            raise SourceError(
                f"邮箱 {self.user}@{self.host} 登录失败（{_reply(exc)}）；请检查用户名和密码"
                f"（{ENV_IMAP_PASSWORD} 或系统钥匙串 {KEYRING_IMAP}）"
            ) from exc
        try:
            typ, data = conn.select(
                imap_utf7(self.mailbox), readonly=True
            )  # EXAMINE: nothing changes on the server
            if typ != "OK":
                raise imaplib.IMAP4.error(_text(data))
            validity = conn.response("UIDVALIDITY")[1]
            self.validity = _text(validity) if validity and validity[0] else ""
            typ, data = conn.uid("SEARCH", "ALL")
            if typ != "OK":
                raise imaplib.IMAP4.error(_text(data))
        except (imaplib.IMAP4.error, OSError) as exc:
            self.close()
            raise SourceError(
                f"无法打开邮箱文件夹 {self.mailbox}（{_reply(exc)}）；请检查地址中的文件夹名"
            ) from exc
        self.uids = (data[0] or b"").split()
        self.count = len(self.uids)
        self.sizes: dict[bytes, int] = {}
        if self.uids:  # one small answer for the whole mailbox: which messages are too large to fetch
            try:
                typ, data = conn.uid("FETCH", "1:*", "(UID RFC822.SIZE)")
            except (imaplib.IMAP4.error, OSError) as exc:
                self.close()
                raise SourceError(f"读取邮箱 {self.name} 失败（{_reply(exc)}）") from exc
            for line in data:
                if isinstance(line, bytes) and (m := _SIZE.search(line)) and (u := _FETCH_HEAD.search(line)):
                    self.sizes[u.group(1)] = int(m.group(1))

    def __iter__(self) -> Iterator[RawMessage]:
        assert self.conn is not None
        for start in range(0, len(self.uids), self.batch_size):
            batch = self.uids[start : start + self.batch_size]
            small = [u for u in batch if self.sizes.get(u, 0) <= MAX_BYTES]
            large = [u for u in batch if self.sizes.get(u, 0) > MAX_BYTES]
            got: dict[bytes, RawMessage] = {}
            for uids, part in ((small, "BODY.PEEK[]"), (large, "BODY.PEEK[HEADER]")):
                if uids:
                    got.update(self._fetch(uids, part))
            for uid in batch:
                if uid in got:
                    yield got[uid]

    def _fetch(self, uids: list[bytes], part: str) -> dict[bytes, RawMessage]:
        assert self.conn is not None
        try:
            typ, data = self.conn.uid("FETCH", b",".join(uids).decode(), f"(UID INTERNALDATE {part})")
        except (imaplib.IMAP4.error, OSError) as exc:
            raise SourceError(
                f"读取邮箱 {self.name} 时连接中断（{_reply(exc)}）；已收下的邮件不受影响，"
                "请重新运行（已收过的不会重复收）"
            ) from exc
        if typ != "OK":
            raise SourceError(f"读取邮箱 {self.name} 失败：{_text(data)}")
        found: dict[bytes, RawMessage] = {}
        for item in data:
            if not isinstance(item, tuple):
                continue
            head, body = item[0], item[1]
            m = _FETCH_HEAD.search(head)
            uid = m.group(1) if m else b"?"
            received = None
            if (d := _INTERNALDATE.search(head)) is not None:
                with contextlib.suppress(ValueError, OverflowError):
                    stamp = imaplib.Internaldate2tuple(b'INTERNALDATE "' + d.group(1) + b'"')
                    if stamp is not None:
                        import time

                        received = datetime.fromtimestamp(time.mktime(stamp), tz=UTC)
            where = f"{self.name};UIDVALIDITY={self.validity};UID={uid.decode()}"
            found[uid] = RawMessage(
                where,
                bytes(body),
                received,
                too_large=self.sizes.get(uid, 0) if part.endswith("[HEADER]") else 0,
            )
        return found

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.logout()
            self.conn = None


def _text(data: object) -> str:
    if isinstance(data, list | tuple) and data:
        data = data[0]
    if isinstance(data, bytes):
        return data.decode("utf-8", errors="replace")
    return str(data)


def _reply(exc: BaseException) -> str:
    text = str(exc)
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1]
    return text.strip() or type(exc).__name__


def open_source(
    text: str,
    *,
    env: Mapping[str, str] | None = None,
    cafile: Path | None = None,
    timeout: float = 30,
    batch_size: int = DEFAULT_BATCH,
) -> Source:
    """The source named on the command line: an ``imaps://`` URL, a folder, an ``.eml`` or an mbox file."""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text):
        return ImapMailbox(text, env=env, cafile=cafile, timeout=timeout, batch_size=batch_size)
    path = Path(text)
    if path.is_dir():
        return EmlFolder(path)
    if not path.is_file():
        raise SourceError(f"找不到 {text}：应为 imaps:// 邮箱地址、存放 .eml 的文件夹、.eml 文件或 mbox 文件")
    if path.suffix.lower() == ".eml":
        return EmlFolder(path)
    with path.open("rb") as fh:
        head = fh.read(5)
    if head == b"From " or path.stat().st_size == 0:
        return MboxFile(path)
    raise SourceError(
        f"{text} 既不是 .eml 邮件也不是 mbox 文件（mbox 以“From ”开头）；请给出邮件文件夹或导出的 mbox"
    )
