"""A 报送 mail leaves at most once, even when the network or the process dies (issue 12, cases 1–3).

Servers are real aiosmtpd instances on 127.0.0.1 that misbehave on purpose (tests/smtp_servers.py
``Misbehaving``: slow QUIT, dropped connection after DATA, a withheld reply, 4xx/5xx). The
interrupted runs are real ``xlperf`` processes that get a real SIGINT or SIGKILL; the full disk is a
real tmpfs when this machine can mount one (root on Linux), otherwise a simulated ENOSPC.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from smtp_servers import Misbehaving, Server, run_controller

from xlperf.cli import main
from xlperf.core.framework import get_framework
from xlperf.submission.mail import SendError
from xlperf.submission.outbox import Outbox
from xlperf.submission.package import PackageResult, export_package, package_message, send_package
from xlperf.submission.settings import SmtpSettings
from xlperf.workbook.template import build_workbook, save_workbook

SENDER = "区科工商信局 <kgs@example.cn>"
TO = "财政局绩效科 <czj@example.gov.cn>"
SMTP_ENV = (
    "XLPERF_SMTP_HOST",
    "XLPERF_SMTP_PORT",
    "XLPERF_SMTP_SECURITY",
    "XLPERF_SMTP_USER",
    "XLPERF_SMTP_PASSWORD",
    "XLPERF_SMTP_FROM",
    "XLPERF_SUBMIT_TO",
    "XLPERF_SMTP_TIMEOUT",
    "XLPERF_SMTP_MAX_ATTACHMENT_MB",
    "XLPERF_SMTP_CAFILE",
    "XLPERF_SMTP_VERIFY_TLS",
)
XLPERF = Path(sys.executable).with_name("xlperf")


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XLPERF_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in SMTP_ENV:
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One exported package of the clean seed (no error findings)."""
    from test_submit import clean_evaluation

    folder = tmp_path_factory.mktemp("pkg")
    ev = clean_evaluation()
    wb = save_workbook(build_workbook(get_framework(ev.framework), ev), folder / "白云区科工商信局_2023.xlsx")
    return export_package(wb, folder / "报送包").folder


@pytest.fixture
def package(exported: Path, tmp_path: Path) -> Path:
    target = tmp_path / "报送包"
    shutil.copytree(exported, target)
    return target


def misbehaving(mode: str, delay: float = 30.0) -> Iterator[Server]:
    yield from run_controller(recorder=Misbehaving(mode=mode, delay=delay))


def handler(server: Server) -> Misbehaving:
    assert isinstance(server.recorder, Misbehaving)
    return server.recorder


def smtp_env(port: int, timeout: float = 3) -> dict[str, str]:
    return {
        "XLPERF_SMTP_HOST": "127.0.0.1",
        "XLPERF_SMTP_PORT": str(port),
        "XLPERF_SMTP_SECURITY": "none",
        "XLPERF_SMTP_FROM": SENDER,
        "XLPERF_SUBMIT_TO": TO,
        "XLPERF_SMTP_TIMEOUT": str(timeout),
    }


def settings(port: int, timeout: float = 3) -> SmtpSettings:
    return SmtpSettings(
        host="127.0.0.1", port=port, security="none", sender=SENDER, to=(TO,), timeout=timeout
    )


def invoke(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def box(tmp_path: Path) -> Outbox:
    return Outbox(tmp_path / "home" / "outbox")


def message_id(package: Path) -> str:
    return str(package_message(PackageResult.load(package), SENDER, [TO])["Message-ID"])


def start_submit(package: Path, port: int, tmp_path: Path, timeout: float = 60) -> subprocess.Popen[str]:
    """A real ``xlperf submit <package>`` process."""
    env = {**os.environ, **smtp_env(port, timeout), "XLPERF_HOME": str(tmp_path / "home")}
    # SIGINT as a terminal delivers it: a test run started in the background (a shell's `&`)
    # inherits SIGINT ignored, and Python then never raises KeyboardInterrupt in the child
    return subprocess.Popen(
        [str(XLPERF), "submit", str(package)],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def wait_for(flag: Any, proc: subprocess.Popen[str], what: str) -> None:
    if not flag.wait(30):
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"{what} never happened: {out} {err}")


# -- 1. Ctrl-C (and SIGKILL) after the server's 250, while QUIT is pending ----------------------------


def test_slow_quit_after_250_is_sent_not_failed(package: Path, tmp_path: Path) -> None:
    servers = misbehaving("slow_quit", delay=10)
    server = next(servers)
    try:
        item = send_package(
            package,
            {
                "timeout": 1,
                "host": "127.0.0.1",
                "port": server.port,
                "security": "none",
                "sender": SENDER,
                "to": TO,
            },
            outbox=box(tmp_path),
        )
        assert item.status == "sent"
        assert box(tmp_path).pending() == []
        assert box(tmp_path).retry_all(settings(server.port)) == []
        assert len(server.recorder.messages) == 1
    finally:
        next(servers, None)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_signal_while_quit_is_pending_is_never_resent(
    package: Path, tmp_path: Path, sig: signal.Signals
) -> None:
    servers = misbehaving("slow_quit")
    server = next(servers)
    try:
        proc = start_submit(package, server.port, tmp_path)
        wait_for(handler(server).quitting, proc, "QUIT")
        time.sleep(0.3)
        proc.send_signal(sig)
        proc.communicate(timeout=30)
        assert proc.returncode != 0  # it was interrupted
        handler(server).mode = "ok"
        result = invoke("submit", "--retry", env=smtp_env(server.port))
        assert result.exit_code == 0, result.output
        assert "没有待发送" in result.output
        result = invoke("submit", package, env=smtp_env(server.port))  # the same package again
        assert result.exit_code == 1 and "已于" in result.output and "不再重复发送" in result.output
        assert len(server.recorder.messages) == 1
        [sent] = box(tmp_path).sent()
        assert sent.status == "sent" and sent.message_id == message_id(package)
    finally:
        next(servers, None)


# -- 1/2. the reply to the message never comes: the process dies, or the connection drops --------------


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_signal_while_the_reply_is_withheld_is_uncertain(
    package: Path, tmp_path: Path, sig: signal.Signals
) -> None:
    servers = misbehaving("hold_reply")
    server = next(servers)
    try:
        proc = start_submit(package, server.port, tmp_path)
        wait_for(handler(server).stored, proc, "storing the message")
        time.sleep(0.3)
        proc.send_signal(sig)
        proc.communicate(timeout=30)
        assert proc.returncode != 0
        handler(server).mode = "ok"
        mid = message_id(package)
        result = invoke("submit", "--retry", env=smtp_env(server.port))
        assert result.exit_code == 1, result.output
        assert "状态不确定" in result.output and mid in result.output
        assert "--resend-uncertain" in result.output and "财政局" in result.output
        assert len(server.recorder.messages) == 1  # not sent a second time
        result = invoke("submit", package, env=smtp_env(server.port))  # nor by sending the package again
        assert result.exit_code == 1 and "状态不确定" in result.output
        assert len(server.recorder.messages) == 1
        [item] = box(tmp_path).pending()
        assert item.status == "uncertain"

        result = invoke("submit", "--retry", "--resend-uncertain", env=smtp_env(server.port))
        assert result.exit_code == 0, result.output
        assert server.recorder.message_ids() == [mid, mid]  # one Message-ID per mail, forever
    finally:
        next(servers, None)


@pytest.mark.parametrize("mode", ["drop_after_data", "hold_reply"])
def test_stored_then_reply_lost_is_uncertain_not_failed(package: Path, tmp_path: Path, mode: str) -> None:
    servers = misbehaving(mode, delay=5)
    server = next(servers)
    outbox = box(tmp_path)
    try:
        with pytest.raises(Exception) as info:
            send_package(
                package,
                {
                    "timeout": 1,
                    "host": "127.0.0.1",
                    "port": server.port,
                    "security": "none",
                    "sender": SENDER,
                    "to": TO,
                },
                outbox=outbox,
            )
        assert "状态不确定" in str(info.value) and message_id(package) in str(info.value)
        assert "发送失败" not in str(info.value)
        [item] = outbox.pending()
        assert item.status == "uncertain" and item.last_error_kind == "uncertain"
        handler(server).mode = "ok"
        [(_, error)] = outbox.retry_all(settings(server.port))
        assert isinstance(error, SendError) and error.kind == "uncertain"
        assert len(server.recorder.messages) == 1
        [(sent, error)] = outbox.retry_all(settings(server.port), resend_uncertain=True)
        assert error is None and sent.status == "sent"
        assert server.recorder.message_ids() == [item.message_id] * 2
    finally:
        next(servers, None)


@pytest.mark.parametrize("code", ["451", "554"])
def test_refused_message_is_failed_and_retried(package: Path, tmp_path: Path, code: str) -> None:
    servers = misbehaving(code)
    server = next(servers)
    outbox = box(tmp_path)
    try:
        result = invoke("submit", package, env=smtp_env(server.port))
        assert result.exit_code == 1 and "发送失败" in result.output and code in result.output
        [item] = outbox.pending()
        assert item.status == "failed"
        handler(server).mode = "ok"
        result = invoke("submit", "--retry", env=smtp_env(server.port))
        assert result.exit_code == 0, result.output
        assert len(server.recorder.messages) == 1
    finally:
        next(servers, None)


# -- 3. the data folder fills up between the 250 and the status write ------------------------------------


def _mount_tmpfs(path: Path) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    if sys.platform != "linux" or os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    return (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(path)], capture_output=True
        ).returncode
        == 0
    )


def _fill(folder: Path) -> None:
    with open(folder / "filler.bin", "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


@pytest.mark.parametrize("real", [True, False], ids=["tmpfs", "simulated"])
def test_full_disk_after_250_is_not_an_internal_error_and_not_resent(
    package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, real: bool
) -> None:
    outbox_dir = tmp_path / "home" / "outbox"
    if real and not _mount_tmpfs(outbox_dir):
        pytest.skip("cannot mount a tmpfs here (needs root on Linux); the simulated case covers it")
    recorder = Misbehaving(mode="ok")
    full = recorder.stored
    if real:
        recorder.on_stored = lambda: _fill(outbox_dir)
    else:
        import tempfile

        real_mkstemp = tempfile.mkstemp

        def mkstemp(*args: Any, **kwargs: Any) -> Any:
            if full.is_set() and str(kwargs.get("dir", "")).startswith(str(outbox_dir)):
                raise OSError(errno.ENOSPC, "No space left on device")
            return real_mkstemp(*args, **kwargs)

        monkeypatch.setattr("xlperf.files.tempfile.mkstemp", mkstemp)
    servers = run_controller(recorder=recorder)
    server = next(servers)
    try:
        result = invoke("submit", package, env=smtp_env(server.port))
        assert result.exit_code == 0, result.output
        assert "内部错误" not in result.output and "Traceback" not in result.output
        assert "已发送" in result.output and "磁盘空间不足" in result.output
        assert message_id(package) in result.output
        (outbox_dir / "filler.bin").unlink(missing_ok=True)
        full.clear()
        result = invoke("submit", "--retry", env=smtp_env(server.port))
        assert result.exit_code == 1 and "状态不确定" in result.output, result.output
        assert len(server.recorder.messages) == 1
    finally:
        next(servers, None)
        if real:
            subprocess.run(["umount", "-l", str(outbox_dir)], capture_output=True)


def test_no_room_to_record_sending_means_nothing_is_sent(
    package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, plain_server: Server
) -> None:
    """At most once needs "sending" on disk before DATA: without it, the message is not transmitted."""
    outbox = box(tmp_path)
    item = outbox.enqueue(package_message(PackageResult.load(package), SENDER, [TO]))
    import tempfile

    real_mkstemp = tempfile.mkstemp

    full = [True]

    def mkstemp(*args: Any, **kwargs: Any) -> Any:
        if full and str(kwargs.get("prefix", "")).startswith(f".{item.id}.json"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr("xlperf.files.tempfile.mkstemp", mkstemp)
    with pytest.raises(SendError) as info:
        outbox.send(item, settings(plain_server.port))
    assert "磁盘空间不足" in str(info.value) and "未发送" in str(info.value)
    assert plain_server.recorder.messages == []
    full.clear()
    assert outbox.send(item, settings(plain_server.port)).status == "sent"
    assert len(plain_server.recorder.messages) == 1


def test_status_file_records_the_message_id(package: Path, tmp_path: Path, plain_server: Server) -> None:
    send_package(
        package,
        {"host": "127.0.0.1", "port": plain_server.port, "security": "none", "sender": SENDER, "to": TO},
        outbox=box(tmp_path),
    )
    [sent] = box(tmp_path).sent()
    data = json.loads(sent.status_path.read_text(encoding="utf-8"))
    assert data["message_id"] == message_id(package) == plain_server.recorder.message_ids()[0]
    assert replace(sent, warning="x").to_json() == data  # the warning is never stored


# -- issue 24: two `submit --retry` at once each report each mail's true state -------------------------


def test_concurrent_retries_report_the_mail_the_other_one_sent(package: Path, tmp_path: Path) -> None:
    """Two real ``xlperf submit --retry`` processes at once over one queued mail (the server holds its
    250 for 2 s, so they overlap): it is delivered once; the one that waited says the other sent it —
    neither says 仍未发送 and both exit 0."""
    servers = misbehaving("hold_reply", delay=2)
    server = next(servers)
    try:
        item = box(tmp_path).enqueue(package_message(PackageResult.load(package), SENDER, [TO]))
        env = {**os.environ, **smtp_env(server.port, timeout=10), "XLPERF_HOME": str(tmp_path / "home")}
        procs = [
            subprocess.Popen(
                [str(XLPERF), "submit", "--retry"],
                env=env,
                text=True,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for _ in range(2)
        ]
        outputs = [p.communicate(timeout=120)[0] for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outputs
        assert len(server.recorder.messages) == 1
        text = "\n".join(outputs)
        assert "仍未发送" not in text
        assert sum("已发送：" in o for o in outputs) == 1, outputs
        assert sum("已由同时运行的另一个 xlperf 发送" in o and item.id in o for o in outputs) == 1, outputs
    finally:
        next(servers, None)
