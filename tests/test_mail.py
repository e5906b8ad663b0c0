"""报送 by email: message format, SMTP delivery against real local servers, outbox, settings.

Every server is real: aiosmtpd (plain, STARTTLS with a trustme certificate and AUTH, implicit TLS),
a socket that accepts and never speaks (timeout), and a closed port (refused). No mocks.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import keyring.backends.fail
import pytest
from loguru import logger
from smtp_servers import Received, Server, Tls, free_port, make_authenticator, run_controller

from xlperf.submission.mail import (
    SendError,
    body_text,
    build_message,
    message_bytes,
    send_message,
    subject_text,
    write_eml,
)
from xlperf.submission.outbox import Outbox, OutboxItem
from xlperf.submission.settings import SmtpSettings, resolve_settings

DEPARTMENT = "白云区科工商信局"
YEAR = 2023
USER = "kgs@example.cn"
PASSWORD = "S3cr3t-pw-7d41e9"  # must never show up in a message, a repr or a log line
SENDER = f"{DEPARTMENT} <{USER}>"
TO = "财政局绩效科 <czj@example.gov.cn>"
NAMES = [
    f"{DEPARTMENT}_{YEAR}_部门整体支出绩效自评.xlsx",
    f"{DEPARTMENT}_{YEAR}_部门整体支出绩效自评报告.docx",
    f"{DEPARTMENT}_{YEAR}_评分结果.json",
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# -- helpers and fixtures ------------------------------------------------------------------------


authenticator = make_authenticator(USER, PASSWORD)


@pytest.fixture
def starttls_server(tls: Tls) -> Iterator[Server]:
    yield from run_controller(
        tls_context=tls.server_context,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
    )


@pytest.fixture
def ssl_server(tls: Tls) -> Iterator[Server]:
    # Implicit TLS: the whole session is encrypted, so AUTH may be offered right away.
    yield from run_controller(
        ssl_context=tls.server_context, authenticator=authenticator, auth_require_tls=False
    )


@pytest.fixture
def attachments(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "package"
    folder.mkdir()
    paths = []
    for i, name in enumerate(NAMES):
        path = folder / name
        path.write_bytes(hashlib.sha256(name.encode()).digest() * (2000 + 500 * i) + bytes(range(256)))
        paths.append(path)
    return paths


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    return Outbox(tmp_path / "outbox")


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Everything loguru emits (DEBUG and up, with extra and exceptions) while the test runs."""
    lines: list[str] = []
    sink_id = logger.add(
        lambda m: lines.append(str(m)), level="DEBUG", format="{level} {message} {extra} {exception}"
    )
    try:
        yield lines
    finally:
        logger.remove(sink_id)


def make_message(attachments: list[Path], forced_reason: str | None = None) -> EmailMessage:
    body = body_text(DEPARTMENT, YEAR, Decimal("92.50"), "优", [p.name for p in attachments], forced_reason)
    return build_message(
        sender=SENDER, to=[TO], subject=subject_text(DEPARTMENT, YEAR), body=body, attachments=attachments
    )


def settings_for(port: int, **changes: Any) -> SmtpSettings:
    base = SmtpSettings(host="127.0.0.1", port=port, security="none", sender=SENDER, to=(TO,), timeout=3)
    return replace(base, **changes)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def assert_received_intact(received: Received, attachments: list[Path]) -> None:
    msg = received.parsed()
    assert msg["Subject"] == f"【绩效自评报送】{DEPARTMENT} {YEAR} 年度部门整体支出绩效自评"
    parts = list(msg.iter_attachments())
    assert [p.get_filename() for p in parts] == NAMES
    for part, path in zip(parts, attachments, strict=True):
        payload = part.get_content()
        assert isinstance(payload, bytes)
        assert sha256(payload) == sha256(path.read_bytes())
    assert received.mail_from == USER
    assert received.rcpt_tos == ["czj@example.gov.cn"]


def assert_kept(outbox: Outbox, item: OutboxItem, kind: str, eml_before: bytes) -> OutboxItem:
    """The failed item is still in the outbox, marked failed with the error, its .eml unchanged."""
    current = outbox.get(item.id)
    assert current is not None
    assert current.status == "failed"
    assert current.last_error_kind == kind
    assert current.last_error
    assert current.attempts == item.attempts + 1
    assert item.eml_path.read_bytes() == eml_before
    assert [i.id for i in outbox.pending()] == [item.id]
    return current


# -- the message itself --------------------------------------------------------------------------


def test_message_format_chinese_names_both_encodings(attachments: list[Path]) -> None:
    msg = make_message(attachments, forced_reason="项目支出明细表待补")
    raw = message_bytes(msg)
    assert raw.isascii(), "the wire form is 7-bit: RFC 2047 headers, base64 body and attachments"
    assert b"\r\n" in raw and raw.count(b"\n") == raw.count(b"\r\n")
    text = raw.decode("ascii")
    # RFC 2231 for current clients, RFC 2047 name= for old Outlook — both present for each Chinese name
    assert text.count("filename*0*=utf-8''") == 3
    assert text.count('name="=?utf-8?b?') == 3

    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Message-ID"].endswith("@example.cn>")
    assert parsed["Date"]
    assert str(parsed["From"]) == SENDER
    parts = list(parsed.iter_attachments())
    assert [p.get_filename() for p in parts] == NAMES
    assert [p.get_param("name", header="content-type") for p in parts] == NAMES
    assert [p.get_content_type() for p in parts] == [XLSX, DOCX, "application/json"]
    body_part = parsed.get_body(("plain",))
    assert body_part is not None
    body = body_part.get_content()
    for fragment in [DEPARTMENT, "2023", "92.50", "优", "项目支出明细表待补", *NAMES]:
        assert fragment in body


def test_eml_draft_is_the_same_message(attachments: list[Path], tmp_path: Path) -> None:
    msg = make_message(attachments)
    path = write_eml(msg, tmp_path / "草稿.eml")
    data = path.read_bytes()
    assert data.startswith(b"X-Unsent: 1\r\n")  # Outlook opens it as an editable draft
    assert data.removeprefix(b"X-Unsent: 1\r\n") == message_bytes(msg)
    assert [
        p.get_filename()
        for p in email.message_from_bytes(data, policy=email.policy.default).iter_attachments()
    ] == NAMES


# -- (a)(b)(c) delivery ----------------------------------------------------------------------------


def test_a_plain_delivery_through_outbox(
    plain_server: Server, attachments: list[Path], outbox: Outbox
) -> None:
    item = outbox.submit(make_message(attachments), settings_for(plain_server.port))
    [received] = plain_server.recorder.messages
    assert_received_intact(received, attachments)
    assert received.login is None
    # the bytes stored in the outbox are the bytes sent
    assert item.status == "sent" and item.attempts == 1 and item.sent_at
    assert item.eml_path == outbox.sent_dir / f"{item.id}.eml"
    assert received.content.rstrip(b"\r\n") == item.eml_path.read_bytes().rstrip(b"\r\n")
    assert outbox.pending() == []
    assert json.loads((outbox.sent_dir / f"{item.id}.json").read_text(encoding="utf-8"))["status"] == "sent"


def test_b_starttls_with_login(
    starttls_server: Server, tls: Tls, attachments: list[Path], outbox: Outbox
) -> None:
    settings = settings_for(
        starttls_server.port, security="starttls", user=USER, password=PASSWORD, cafile=tls.cafile
    )
    outbox.submit(make_message(attachments), settings)
    [received] = starttls_server.recorder.messages
    assert received.login == USER
    assert_received_intact(received, attachments)


def test_b_starttls_untrusted_certificate_is_tls_error(
    starttls_server: Server, attachments: list[Path], outbox: Outbox
) -> None:
    settings = settings_for(starttls_server.port, security="starttls", user=USER, password=PASSWORD)
    with pytest.raises(SendError) as info:
        outbox.submit(make_message(attachments), settings)
    assert info.value.kind == "tls"
    assert "cafile" in str(info.value)
    assert starttls_server.recorder.messages == []


def test_c_implicit_tls_with_login(ssl_server: Server, tls: Tls, attachments: list[Path]) -> None:
    settings = settings_for(ssl_server.port, security="ssl", user=USER, password=PASSWORD, cafile=tls.cafile)
    send_message(make_message(attachments), settings)
    [received] = ssl_server.recorder.messages
    assert received.login == USER
    assert_received_intact(received, attachments)


# -- (d)(e)(f) failures keep the message -------------------------------------------------------------


def test_d_connection_refused_keeps_message(attachments: list[Path], outbox: Outbox) -> None:
    port = free_port()
    item = outbox.enqueue(make_message(attachments))
    before = item.eml_path.read_bytes()
    with pytest.raises(SendError) as info:
        outbox.send(item, settings_for(port))
    assert info.value.kind == "refused"
    assert f"127.0.0.1:{port}" in str(info.value) and "XLPERF_SMTP_HOST" in str(info.value)
    current = assert_kept(outbox, item, "refused", before)
    assert current.last_error == str(info.value)


def test_e_wrong_password_keeps_message(
    starttls_server: Server, tls: Tls, attachments: list[Path], outbox: Outbox, log_lines: list[str]
) -> None:
    wrong = "Wrong-pw-5c2a"
    settings = settings_for(
        starttls_server.port, security="starttls", user=USER, password=wrong, cafile=tls.cafile
    )
    item = outbox.enqueue(make_message(attachments))
    before = item.eml_path.read_bytes()
    with pytest.raises(SendError) as info:
        outbox.send(item, settings)
    assert info.value.kind == "auth"
    assert "用户名或密码错误" in str(info.value) and USER in str(info.value)
    assert wrong not in str(info.value)
    assert wrong not in "\n".join(log_lines)
    assert wrong not in item.status_path.read_text(encoding="utf-8")
    assert_kept(outbox, item, "auth", before)
    assert starttls_server.recorder.messages == []


def test_f_timeout_keeps_message(silent_port: int, attachments: list[Path], outbox: Outbox) -> None:
    item = outbox.enqueue(make_message(attachments))
    before = item.eml_path.read_bytes()
    started = time.monotonic()
    with pytest.raises(SendError) as info:
        outbox.send(item, settings_for(silent_port, timeout=1))
    assert time.monotonic() - started < 4
    assert info.value.kind == "timeout"
    assert "超时" in str(info.value)
    assert_kept(outbox, item, "timeout", before)


# -- (g) retry ---------------------------------------------------------------------------------------


def test_g_retry_delivers_each_failed_message_exactly_once(
    starttls_server: Server, tls: Tls, silent_port: int, attachments: list[Path], outbox: Outbox
) -> None:
    good = settings_for(
        starttls_server.port, security="starttls", user=USER, password=PASSWORD, cafile=tls.cafile
    )
    failures = [
        replace(good, port=free_port()),  # refused
        replace(good, password="Wrong-pw-5c2a"),  # auth
        replace(good, port=silent_port, timeout=1),  # timeout
    ]
    items = []
    for bad in failures:
        with pytest.raises(SendError):
            items.append(outbox.submit(make_message(attachments), bad))
    failed = outbox.pending()
    assert [i.last_error_kind for i in failed] == ["refused", "auth", "timeout"]
    assert all(i.status == "failed" for i in failed)
    assert starttls_server.recorder.messages == []

    results = outbox.retry_all(good)
    assert [(item.id, error) for item, error in results] == [(i.id, None) for i in failed]
    assert all(item.status == "sent" and item.attempts == 2 for item, _ in results)
    expected_ids = sorted(str(outbox.message(i)["Message-ID"]) for i in failed)
    assert sorted(starttls_server.recorder.message_ids()) == expected_ids
    assert outbox.pending() == []
    assert [i.id for i in outbox.sent()] == [i.id for i in failed]

    assert outbox.retry_all(good) == []
    # even a stale in-memory record of a sent item is not sent again
    assert outbox.send(failed[0], good).status == "sent"
    assert len(starttls_server.recorder.messages) == 3


def test_locked_item_is_not_sent(plain_server: Server, attachments: list[Path], outbox: Outbox) -> None:
    """A live process holding the item's lock keeps others off it; once that process is killed its
    lock dies with it (a lock file left behind blocks nobody) and the item goes exactly once."""
    item = outbox.enqueue(make_message(attachments))
    lock = outbox.root / f"{item.id}.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from xlperf.files import hold_lock\n"
            "with hold_lock(sys.argv[1]):\n    print('held', flush=True); time.sleep(60)",
            str(lock),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(SendError) as info:
            outbox.send(item, settings_for(plain_server.port))
        assert info.value.kind == "locked" and "另一个 xlperf 进程" in str(info.value)
        assert plain_server.recorder.messages == []
        assert outbox.get(item.id) == item  # untouched
    finally:
        holder.kill()
        holder.wait()
    assert lock.exists()  # the killed process left its lock file ...
    assert outbox.send(item, settings_for(plain_server.port)).status == "sent"  # ... which blocks nobody
    assert len(plain_server.recorder.messages) == 1


# -- (h) size limit --------------------------------------------------------------------------------


def test_h_size_limit_checked_before_connecting(
    plain_server: Server, attachments: list[Path], outbox: Outbox
) -> None:
    total = sum(p.stat().st_size for p in attachments)
    item = outbox.enqueue(make_message(attachments))
    assert item.attachment_bytes == total
    before = item.eml_path.read_bytes()
    with pytest.raises(SendError) as info:
        outbox.send(item, settings_for(plain_server.port, max_attachment_bytes=total - 1))
    assert info.value.kind == "too_large"
    assert f"{total / 1024 / 1024:.2f} MB" in str(info.value)
    assert f"{(total - 1) / 1024 / 1024:.2f} MB" in str(info.value)
    assert plain_server.recorder.messages == []
    assert_kept(outbox, item, "too_large", before)
    # within the limit it goes
    outbox.send(item, settings_for(plain_server.port, max_attachment_bytes=total))
    assert len(plain_server.recorder.messages) == 1


# -- (i) settings -----------------------------------------------------------------------------------


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A real keyring backend that keeps passwords in memory."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_i_precedence_options_over_env_over_file(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        '[smtp]\nhost = "file.example.cn"\nport = 2525\nsecurity = "none"\nfrom = "file@example.cn"\n'
        'to = ["czj@example.gov.cn", "备份 <bak@example.gov.cn>"]\nmax_attachment_mb = 5\n',
    )
    env = {
        "XLPERF_SMTP_HOST": "env.example.cn",
        "XLPERF_SMTP_SECURITY": "ssl",
        "XLPERF_SMTP_FROM": "env@example.cn",
    }
    options = {"host": "opt.example.cn", "port": None, "to": None}
    settings, problems = resolve_settings(options, env, config, password_lookup=None)
    assert problems == []
    assert settings is not None
    assert settings.host == "opt.example.cn"  # option beats env and file
    assert settings.security == "ssl"  # env beats file
    assert settings.sender == "env@example.cn"
    assert settings.port == 2525  # only in the file
    assert settings.to == ("czj@example.gov.cn", "备份 <bak@example.gov.cn>")
    assert settings.max_attachment_bytes == 5 * 1024 * 1024
    assert settings.timeout == 30 and settings.verify_tls is True


def test_i_default_port_follows_security(tmp_path: Path) -> None:
    empty = write_config(tmp_path, "")
    base = {
        "XLPERF_SMTP_HOST": "h.example.cn",
        "XLPERF_SMTP_FROM": "a@x.cn",
        "XLPERF_SUBMIT_TO": "b@y.cn；c@y.cn",
    }
    ports = {}
    for security in ("none", "starttls", "ssl"):
        settings, problems = resolve_settings({}, {**base, "XLPERF_SMTP_SECURITY": security}, empty)
        assert problems == [] and settings is not None
        ports[security] = settings.port
        assert settings.to == ("b@y.cn", "c@y.cn")
    assert ports == {"none": 25, "starttls": 587, "ssl": 465}
    settings, _ = resolve_settings({"port": "465"}, base, empty)
    assert settings is not None and settings.security == "ssl"


def test_i_missing_values_are_all_reported_in_chinese(tmp_path: Path) -> None:
    settings, problems = resolve_settings({}, {}, write_config(tmp_path, "[smtp]\n"))
    assert settings is None
    joined = "\n".join(problems)
    assert len(problems) == 3
    for env_name in ("XLPERF_SMTP_HOST", "XLPERF_SMTP_FROM", "XLPERF_SUBMIT_TO"):
        assert env_name in joined
    assert "邮件服务器地址" in joined and "--smtp-host" in joined


def test_i_password_in_config_file_or_options_is_refused(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        f'[smtp]\nhost = "h.cn"\nfrom = "a@x.cn"\nto = "b@y.cn"\nuser = "a@x.cn"\npassword = "{PASSWORD}"\n',
    )
    settings, problems = resolve_settings({}, {"XLPERF_SMTP_PASSWORD": "other"}, config, password_lookup=None)
    assert settings is None
    [problem] = problems
    assert "不允许保存密码" in problem and "XLPERF_SMTP_PASSWORD" in problem and "keyring" in problem
    assert PASSWORD not in problem
    settings, problems = resolve_settings(
        {"host": "h.cn", "sender": "a@x.cn", "to": ["b@y.cn"], "password": PASSWORD},
        {},
        write_config(tmp_path, ""),
    )
    assert settings is None and "XLPERF_SMTP_PASSWORD" in problems[0]


def test_i_password_from_env_or_keyring(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    empty = write_config(tmp_path, "")
    env = {
        "XLPERF_SMTP_HOST": "h.cn",
        "XLPERF_SMTP_FROM": USER,
        "XLPERF_SUBMIT_TO": "b@y.cn",
        "XLPERF_SMTP_USER": USER,
    }
    settings, problems = resolve_settings({}, env, empty)
    assert settings is None and any("keyring set xlperf-smtp" in p for p in problems)

    keyring.set_password("xlperf-smtp", USER, PASSWORD)
    settings, problems = resolve_settings({}, env, empty)
    assert problems == [] and settings is not None and settings.password == PASSWORD

    settings, _ = resolve_settings({}, {**env, "XLPERF_SMTP_PASSWORD": "from-env"}, empty)
    assert settings is not None and settings.password == "from-env"  # env first


def test_i_no_keyring_backend_is_not_an_error(tmp_path: Path) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        env = {
            "XLPERF_SMTP_HOST": "h.cn",
            "XLPERF_SMTP_FROM": USER,
            "XLPERF_SUBMIT_TO": "b@y.cn",
            "XLPERF_SMTP_USER": USER,
        }
        settings, problems = resolve_settings({}, env, write_config(tmp_path, ""))
    finally:
        keyring.set_keyring(previous)
    assert settings is None and len(problems) == 1 and "找不到密码" in problems[0]


def test_i_password_never_in_repr_or_logs(
    tmp_path: Path, starttls_server: Server, tls: Tls, attachments: list[Path], log_lines: list[str]
) -> None:
    env = {
        "XLPERF_SMTP_HOST": "127.0.0.1",
        "XLPERF_SMTP_PORT": str(starttls_server.port),
        "XLPERF_SMTP_SECURITY": "starttls",
        "XLPERF_SMTP_USER": USER,
        "XLPERF_SMTP_PASSWORD": PASSWORD,
        "XLPERF_SMTP_FROM": SENDER,
        "XLPERF_SUBMIT_TO": TO,
        "XLPERF_SMTP_CAFILE": str(tls.cafile),
        "XLPERF_SMTP_TIMEOUT": "3",
    }
    settings, problems = resolve_settings({}, env, write_config(tmp_path, ""))
    assert problems == [] and settings is not None
    assert settings.password == PASSWORD and settings.has_password
    assert PASSWORD not in repr(settings) and PASSWORD not in str(settings)
    outbox = Outbox(tmp_path / "outbox")
    outbox.submit(make_message(attachments), settings)
    assert starttls_server.recorder.messages[0].login == USER
    with pytest.raises(SendError):
        outbox.submit(make_message(attachments), replace(settings, port=free_port()))
    logged = "\n".join(log_lines)
    assert (
        "mail sent to" in logged and "无法连接" in logged
    )  # the sink did capture the events (info English, warning Chinese)
    assert PASSWORD not in logged
    for path in outbox.root.rglob("*.json"):
        assert PASSWORD not in path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("security", "user"),
    [
        ("starttls", None),  # server offers no STARTTLS
        ("ssl", None),  # TLS handshake against a plain server
        ("none", USER),  # login on a plain connection where AUTH is not offered
    ],
)
def test_security_mismatch_against_plain_server(
    plain_server: Server, attachments: list[Path], security: str, user: str | None
) -> None:
    settings = settings_for(
        plain_server.port, security=security, user=user, password=PASSWORD if user else None
    )
    with pytest.raises(SendError) as info:
        send_message(make_message(attachments), settings)
    assert info.value.kind == ("auth" if user else "tls")
    assert "XLPERF_SMTP_SECURITY" in str(info.value)
    assert PASSWORD not in str(info.value)
    assert plain_server.recorder.messages == []


def test_plain_client_against_starttls_only_server(starttls_server: Server, attachments: list[Path]) -> None:
    with pytest.raises(SendError) as info:
        send_message(make_message(attachments), settings_for(starttls_server.port))
    assert info.value.kind == "tls"
    assert "starttls" in str(info.value)
    assert starttls_server.recorder.messages == []
