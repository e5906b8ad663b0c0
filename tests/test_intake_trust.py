# ruff: noqa: F811  (the module fixtures of test_intake are parameters here)
"""Issue 24: the bureau's inbox is hostile ground. What intake trusts (the re-scored workbook, never the
manifest), and that one bad message, manifest field or ledger row never stops a run.

Mail goes through the real servers of tests/test_intake.py: ``xlperf submit`` → aiosmtpd for the
packages, aiosmtpd again for the 回执; forged packages are re-mailed from the delivered bytes.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from imap_server import Imap
from smtp_servers import run_controller
from test_intake import (  # noqa: F401  (module fixtures)
    BUREAU,
    SENDERS,
    attachments,
    department,
    dovecot,
    env_for,
    home,
    invoke,
    ledger,
    mail,
    manifest_name,
    remail,
    sheet,
    smtp,
)

pytestmark = pytest.mark.slow


def forged(raw: bytes, sender: str, subject: str, extra: str = "", **fields: Any) -> bytes:
    """The delivered package with manifest fields replaced (a stranger can write any JSON; ``extra`` is
    JSON text added as one more member)."""
    files = attachments(raw)
    name = manifest_name(files)
    manifest = json.loads(files[name])
    manifest.update(fields)
    text = json.dumps(manifest, ensure_ascii=False)
    if extra:
        text = text[:-1] + ", " + extra + "}"
    files[name] = text.encode()
    return remail(files, sender, subject)


def eml_folder(folder: Path, *messages: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    start = len(list(folder.glob("*.eml")))
    for n, raw in enumerate(messages, start=start):
        (folder / f"{n:02d}.eml").write_bytes(raw)
    return folder


def rows_by_subject(out: Path) -> dict[str, dict[str, Any]]:
    return {r["subject"]: r for r in ledger(out)}


# ------------------------------------------------------------------------------ trust


def test_manifest_naming_another_department_or_year_is_never_taken(
    mail: dict[str, bytes], home: Path, tmp_path: Path
) -> None:
    time.sleep(1.1)  # the forgeries' Date: headers are later than every real submission's
    as_jia = forged(mail["乙"], SENDERS["乙局"], "冒名甲局", department=department("甲局"), short_name="甲局")
    year_2099 = forged(mail["乙"], SENDERS["乙局"], "改年度", year=2099)
    folder = eml_folder(tmp_path / "eml", mail["甲1"], mail["乙"], as_jia, year_2099)
    out = tmp_path / "out"
    res = invoke(["intake", folder, "-o", out], env_for(home))
    assert res.exit_code == 1, res.output
    rows = rows_by_subject(out)
    for subject in ("冒名甲局", "改年度"):
        row = rows[subject]
        assert row["status"] == "清单与工作簿不符", row
        assert row["department"] == department("乙局")  # the workbook's, never the manifest's
        assert "以工作簿为准" in row["reason"]
    assert department("甲局") in rows["冒名甲局"]["claimed"] and "2099" in rows["改年度"]["claimed"]
    real = [r for r in ledger(out) if r["status"] == "有效"]
    assert len(real) == 2 and all(r["superseded_by"] is None for r in real)  # nothing was superseded
    ranking = sheet(out / "汇总.xlsx", "排名")
    assert sorted(r["部门"] for r in ranking) == sorted([department("甲局"), department("乙局")])
    records = {r["主题"]: r for r in sheet(out / "汇总.xlsx", "收件记录")}
    assert records["冒名甲局"]["清单所称"].startswith(department("甲局"))
    assert records["冒名甲局"]["当前"] != "当前"


def test_sender_change_is_shown_and_senders_file_pins_them(
    mail: dict[str, bytes], home: Path, tmp_path: Path
) -> None:
    time.sleep(1.1)
    files = attachments(mail["丙"])
    moved = remail(files, "丙局新邮箱 <bing-new@example.org>", "丙局（新邮箱）")
    folder = eml_folder(tmp_path / "eml", mail["丙"], moved)
    out = tmp_path / "out"
    res = invoke(["intake", folder, "-o", out], env_for(home))
    assert res.exit_code == 0, res.output
    records = {r["主题"]: r for r in sheet(out / "汇总.xlsx", "收件记录")}
    changed = records["丙局（新邮箱）"]
    assert changed["当前"] == "当前" and changed["发件人变更"] and SENDERS["丙局"] in changed["发件人变更"]
    assert records[next(k for k in records if k != "丙局（新邮箱）")]["发件人变更"] is None
    assert "发件人变更" in res.output and "bing-new@example.org" in res.output  # the note on screen

    pins = tmp_path / "发件人.toml"
    pins.write_text(f'[senders]\n"{department("丙局")}" = ["{SENDERS["丙局"].upper()}"]\n', encoding="utf-8")
    out2 = tmp_path / "out2"
    res = invoke(["intake", folder, "-o", out2, "--senders", pins], env_for(home))
    assert res.exit_code == 1, res.output
    rows = rows_by_subject(out2)
    assert (
        rows["丙局（新邮箱）"]["status"] == "发件人未登记" and "--senders" in rows["丙局（新邮箱）"]["reason"]
    )
    kept = [r for r in ledger(out2) if r["status"] == "有效"]
    assert len(kept) == 1 and kept[0]["sender"] == SENDERS["丙局"]  # the pinned one stays current
    assert [r["部门"] for r in sheet(out2 / "汇总.xlsx", "排名")] == [department("丙局")]


def test_a_bad_senders_file_is_one_chinese_line(mail: dict[str, bytes], home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "发件人.toml"
    bad.write_text('[senders]\n"甲局" = "not a list"\n', encoding="utf-8")
    res = invoke(
        ["intake", eml_folder(tmp_path / "eml", mail["丙"]), "-o", tmp_path / "o", "--senders", bad],
        env_for(home),
    )
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "--senders" in res.output and "甲局" in res.output and not (tmp_path / "o").exists()


# ------------------------------------------------------------------------------ isolation


def test_hostile_manifest_fields_are_that_message_s_status_and_the_run_goes_on(
    mail: dict[str, bytes], home: Path, tmp_path: Path
) -> None:
    """year 10**30 (OverflowError in SQLite), a department with CR/LF and escapes (a broken 回执 header):
    each is its message's status; the later messages are taken in, 汇总 is written and every 回执 sent."""
    huge = forged(mail["乙"], SENDERS["乙局"], "大年度", year=10**30)
    crlf = forged(
        mail["乙"], SENDERS["乙局"], "换行部门", department="甲局\r\nBcc: all@example.cn\x1b]0;x\x07"
    )
    nested = forged(mail["乙"], SENDERS["乙局"], "嵌套清单", extra='"deep": ' + "[" * 100_000 + "]" * 100_000)
    folder = eml_folder(tmp_path / "eml", huge, crlf, nested, mail["丙"])
    out = tmp_path / "out"
    for server in run_controller():
        env = env_for(
            tmp_path / "h",
            XLPERF_SMTP_HOST="127.0.0.1",
            XLPERF_SMTP_PORT=str(server.port),
            XLPERF_SMTP_SECURITY="none",
            XLPERF_SMTP_FROM=BUREAU,
        )
        res = invoke(["intake", folder, "-o", out, "--receipt"], env)
        assert res.exit_code == 1, res.output
        assert "内部错误" not in res.output and "\x1b" not in res.output
        rows = rows_by_subject(out)
        assert rows["大年度"]["status"] == rows["换行部门"]["status"] == "清单与工作簿不符"
        assert "\r" not in rows["换行部门"]["claimed"] and "\n" not in rows["换行部门"]["claimed"]
        assert [r["status"] for r in rows.values() if r["sender"] == SENDERS["丙局"]] == [
            "有效"
        ]  # taken after them
        assert Counter(r["status"] for r in rows.values())["有效"] == 1
        assert rows["嵌套清单"]["status"] == "无法读取" and "嵌套过深" in rows["嵌套清单"]["reason"]
        assert (out / "汇总.xlsx").is_file()
        got = server.recorder.parsed()
        assert len(got) == len(rows)  # a 回执 for every submission, none stuck
        assert all(r["receipt"] and r["receipt"] != "正在放入发件箱" for r in rows.values())
        assert all(m["Bcc"] is None and "\n" not in str(m["Subject"]) for m in got)


def test_header_values_are_one_line() -> None:
    from xlperf.submission.mail import build_message, message_bytes

    msg = build_message(
        sender="甲局\r\nBcc: x@example.cn <a@example.cn>",
        to=["b@example.cn\nCc: y@example.cn"],
        subject="回执：甲局\r\nX-Injected: 1",
        body="正文",
        attachments=[],
    )
    raw = message_bytes(msg)
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc:" not in head and b"\nCc:" not in head and b"\nX-Injected:" not in head


def test_receipt_claimed_by_a_run_that_stopped_is_finished_by_the_next(
    mail: dict[str, bytes], tmp_path: Path
) -> None:
    """Claimed, then killed before (a) or after (b) the outbox got the mail: the next run sends (a) once and
    only records (b); no row stays 正在放入发件箱."""
    from xlperf.intake.ledger import Ledger
    from xlperf.intake.receipt import receipt_message
    from xlperf.submission.outbox import Outbox

    folder = eml_folder(tmp_path / "eml", mail["乙"], mail["丙"])
    out = tmp_path / "out"
    for server in run_controller():
        env = env_for(
            tmp_path / "h",
            XLPERF_SMTP_HOST="127.0.0.1",
            XLPERF_SMTP_PORT=str(server.port),
            XLPERF_SMTP_SECURITY="none",
            XLPERF_SMTP_FROM=BUREAU,
        )
        assert invoke(["intake", folder, "-o", out], env).exit_code == 0
        book = Ledger(out)
        a, b = book.entries()
        assert book.claim_receipt(a.key, "正在放入发件箱") and book.claim_receipt(b.key, "正在放入发件箱")
        box = Outbox(tmp_path / "h" / "xlperf" / "outbox")
        queued = box.enqueue(receipt_message(book.get(b.key) or b, BUREAU))  # (b) queued, never recorded
        book.close()
        res = invoke(["intake", folder, "-o", out, "--receipt"], env)
        assert res.exit_code == 0, res.output
        assert [str(m["To"]) for m in server.recorder.parsed()] == [a.sender]  # (a) sent now, once
        receipts = {r["key"]: r["receipt"] for r in ledger(out)}
        assert receipts[b.key] == queued.id and receipts[a.key] not in (None, "正在放入发件箱")
        invoke(["intake", folder, "-o", out, "--receipt"], env)
        assert len(server.recorder.messages) == 1


def test_ledger_of_a_newer_xlperf_is_refused_and_an_older_one_migrated(
    mail: dict[str, bytes], home: Path, tmp_path: Path
) -> None:
    folder = eml_folder(tmp_path / "eml", mail["乙"])
    newer = tmp_path / "newer"
    assert invoke(["intake", folder, "-o", newer], env_for(home)).exit_code == 0
    db = sqlite3.connect(newer / "收件台账.sqlite")
    db.execute("ALTER TABLE submissions ADD COLUMN future TEXT")
    db.execute("PRAGMA user_version=99")
    db.commit()
    db.close()
    res = invoke(["intake", folder, "-o", newer], env_for(home))
    assert res.exit_code == 2 and "Traceback" not in res.output and "内部错误" not in res.output
    assert "较新版本" in res.output and "升级 xlperf" in res.output

    older = tmp_path / "older"  # the version-1 layout, as xlperf wrote it before issue 24
    older.mkdir()
    db = sqlite3.connect(older / "收件台账.sqlite")
    db.executescript("""CREATE TABLE submissions (key TEXT PRIMARY KEY, message_id TEXT NOT NULL,
        package_hash TEXT NOT NULL, source TEXT NOT NULL, received TEXT NOT NULL, taken_at TEXT NOT NULL,
        sender TEXT NOT NULL, subject TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL,
        department TEXT NOT NULL, year INTEGER, folder TEXT NOT NULL, outcome TEXT, superseded_by TEXT,
        receipt TEXT);
        INSERT INTO submissions VALUES ('<old@x>|h', '<old@x>', 'h', 'old.eml', '2023-01-01T00:00:00+08:00',
        '2023-01-01T00:00:00+08:00', 'old@example.cn', '旧报送', '无法读取', '旧的', '', NULL,
        '未识别/x', '{broken', NULL, NULL);
        PRAGMA user_version=1;""")
    db.close()
    res = invoke(["intake", folder, "-o", older], env_for(home))
    assert res.exit_code == 0, res.output
    rows = ledger(older)
    assert rows[0]["subject"] == "旧报送" and len(rows) == 2 and "claimed" in rows[0]
    assert "form" in rows[0] and "project" in rows[0]  # version 3 (issue 27): the project form
    db = sqlite3.connect(older / "收件台账.sqlite")
    assert db.execute("PRAGMA user_version").fetchone()[0] == 3
    db.close()


# ------------------------------------------------------------------------------ one folder, one kind of 汇总


def test_intake_and_batch_never_replace_each_other_s_summary(
    mail: dict[str, bytes], home: Path, tmp_path: Path
) -> None:
    files = attachments(mail["乙"])
    book = tmp_path / "乙局.xlsx"
    book.write_bytes(next(data for name, data in files.items() if name.endswith(".xlsx")))
    batch_dir = tmp_path / "batch"
    assert invoke(["batch", book, "-o", batch_dir, "--jobs", "1"], env_for(home)).exit_code in (0, 1)
    before = (batch_dir / "汇总.xlsx").read_bytes()
    res = invoke(["intake", eml_folder(tmp_path / "eml", mail["丙"]), "-o", batch_dir], env_for(home))
    assert res.exit_code == 2 and "Traceback" not in res.output and "指定另一个输出文件夹" in res.output
    assert (batch_dir / "汇总.xlsx").read_bytes() == before and not (batch_dir / "收件台账.sqlite").exists()

    intake_dir = tmp_path / "intake"
    assert invoke(["intake", tmp_path / "eml", "-o", intake_dir], env_for(home)).exit_code == 0
    before = (intake_dir / "汇总.xlsx").read_bytes()
    res = invoke(["batch", book, "-o", intake_dir, "--jobs", "1"], env_for(home))
    assert res.exit_code == 2 and "收件文件夹" in res.output and "Traceback" not in res.output
    assert (intake_dir / "汇总.xlsx").read_bytes() == before


def test_an_unexpected_error_while_filing_is_that_message_s_status(
    mail: dict[str, bytes], home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The boundary is the whole message, not only its check: a failure while filing (after the
    check) files the message as sent with 无法读取, and the run goes on to the next one and to 汇总."""
    import xlperf.intake.run as run

    real = run._outcome

    def flaky(checked: Any, rel: Path, received: Any) -> Any:
        if checked.department == department("乙局"):
            raise OverflowError("模拟的归档错误")
        return real(checked, rel, received)

    monkeypatch.setattr(run, "_outcome", flaky)
    out = tmp_path / "out"
    res = invoke(["intake", eml_folder(tmp_path / "eml", mail["乙"], mail["丙"]), "-o", out], env_for(home))
    assert res.exit_code == 1 and "内部错误" not in res.output, res.output
    rows = {r["sender"]: r for r in ledger(out)}
    assert (
        rows[SENDERS["乙局"]]["status"] == "无法读取" and "模拟的归档错误" in rows[SENDERS["乙局"]]["reason"]
    )
    assert (out / rows[SENDERS["乙局"]]["folder"] / "message.eml").read_bytes() == mail["乙"]
    assert rows[SENDERS["丙局"]]["status"] == "有效"
    assert [r["部门"] for r in sheet(out / "汇总.xlsx", "排名")] == [department("丙局")]


def test_a_damaged_ledger_row_never_stops_the_summary(
    mail: dict[str, bytes], home: Path, tmp_path: Path
) -> None:
    folder = eml_folder(tmp_path / "eml", mail["乙"], mail["丙"])
    out = tmp_path / "out"
    assert invoke(["intake", folder, "-o", out], env_for(home)).exit_code == 0
    db = sqlite3.connect(out / "收件台账.sqlite")
    [(key, outcome)] = db.execute("SELECT key, outcome FROM submissions WHERE sender = ?", (SENDERS["乙局"],))
    data = json.loads(outcome)
    data["total"], data["sections"] = "abc", {"output": [1]}
    db.execute("UPDATE submissions SET outcome = ? WHERE key = ?", (json.dumps(data), key))
    db.commit()
    db.close()
    res = invoke(["intake", folder, "-o", out], env_for(home))
    assert res.exit_code == 0 and "内部错误" not in res.output, res.output
    assert [r["部门"] for r in sheet(out / "汇总.xlsx", "排名")] == [department("丙局")]
    summary = {r["部门"]: r for r in sheet(out / "汇总.xlsx", "汇总")}
    assert (
        "计分记录已损坏" in summary[department("乙局")]["说明"] and summary[department("乙局")]["排名"] == "—"
    )


def test_a_date_in_the_future_does_not_keep_a_submission_current(
    mail: dict[str, bytes], home: Path, tmp_path: Path
) -> None:
    """.eml and mbox keep only the sender's Date: header; one dated 2099 counts as received at the
    intake that took it in, so the department's submission sent after that still supersedes it."""
    import email
    import email.policy

    early = email.message_from_bytes(mail["甲1"], policy=email.policy.SMTP)
    del early["Date"]
    early["Date"] = "Thu, 01 Jan 2099 00:00:00 +0800"
    folder = eml_folder(tmp_path / "eml", early.as_bytes())
    out = tmp_path / "out"
    assert invoke(["intake", folder, "-o", out], env_for(home)).exit_code == 0
    time.sleep(1.1)  # the department's real resubmission, dated after that run
    eml_folder(folder, remail(attachments(mail["甲2"]), SENDERS["甲局"], "甲局（再报）"))
    assert invoke(["intake", folder, "-o", out], env_for(home)).exit_code == 0
    rows = {r["message_id"]: r for r in ledger(out)}
    first = rows[str(early["Message-ID"])]
    assert first["received"] < "2099" and first["superseded_by"] is not None
    records = sheet(out / "汇总.xlsx", "收件记录")
    assert [r["当前"] for r in records if r["收到时间"].startswith("2099")] == []


def test_a_mailbox_that_fails_stops_only_itself(
    dovecot: Imap, mail: dict[str, bytes], home: Path, tmp_path: Path
) -> None:
    """Two sources, the real Dovecot refusing the login of the second: the first is taken in and 汇总
    is written; the run still says what failed (exit 2, one Chinese line)."""
    out = tmp_path / "out"
    res = invoke(
        [
            "intake",
            eml_folder(tmp_path / "eml", mail["丙"]),
            dovecot.url,
            "-o",
            out,
            "--imap-cafile",
            dovecot.cafile,
        ],
        env_for(home, XLPERF_IMAP_PASSWORD="wrong-password"),
    )
    assert res.exit_code == 2 and "登录失败" in res.output and "汇总已更新" in res.output, res.output
    assert [r["部门"] for r in sheet(out / "汇总.xlsx", "排名")] == [department("丙局")]
