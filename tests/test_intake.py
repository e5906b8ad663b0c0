"""xlperf intake end to end, through real servers: ``xlperf submit`` → the real aiosmtpd server → the
delivered bytes put into a real Dovecot by IMAP APPEND → ``xlperf intake imaps://…`` → 汇总.

The mailbox also holds what a bureau's inbox really gets: a duplicate delivery, a package whose xlsx was
altered after freezing, one whose manifest total was edited, a plain mail, a message that is not MIME,
zip-bomb and entity-bomb workbooks (with manifests that match them, so only the pre-open checks stop
them), attachment names with ``../``, and a later resubmission that supersedes the first one.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import io
import json
import mailbox
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from bad_inputs.make_corpus import BILLION_LAUGHS, with_shared_strings, zip_bomb
from click.testing import CliRunner, Result
from imap_server import Imap, run_dovecot
from smtp_servers import Server, run_controller
from test_submit import clean_evaluation

from xlperf.cli import main
from xlperf.core.framework import get_framework
from xlperf.submission.mail import MAIL_POLICY, build_message, message_bytes
from xlperf.workbook.template import build_workbook, save_workbook

# a real Dovecot (and aiosmtpd) per test: an external program, so in the slow lane
pytestmark = pytest.mark.slow

SENDERS = {"甲局": "jia@example.cn", "乙局": "yi@example.cn", "丙局": "bing@example.cn"}
BUREAU = "财政局绩效科 <czj@example.gov.cn>"
ENV_CLEAN = (
    "XLPERF_SMTP_HOST",
    "XLPERF_SMTP_PORT",
    "XLPERF_SMTP_SECURITY",
    "XLPERF_SMTP_USER",
    "XLPERF_SMTP_PASSWORD",
    "XLPERF_SMTP_FROM",
    "XLPERF_SUBMIT_TO",
    "XLPERF_IMAP_PASSWORD",
    "XLPERF_IMAP_CAFILE",
)


def department(short: str) -> str:
    return f"广州市白云区{short}"


@pytest.fixture(scope="module")
def smtp() -> Iterator[Server]:
    yield from run_controller()


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Imap]:
    yield from run_dovecot()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


def env_for(home: Path, **extra: str) -> dict[str, str | None]:
    env: dict[str, str | None] = dict.fromkeys(ENV_CLEAN)
    env.update({"XLPERF_HOME": str(home / "xlperf"), "XDG_CONFIG_HOME": str(home / "config")})
    env.update(extra)
    return env


def invoke(args: list[str | Path], env: dict[str, str | None]) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)


def submit(wb: Path, short: str, smtp: Server, home: Path, *extra: str) -> bytes:
    before = len(smtp.recorder.messages)
    env = env_for(
        home,
        XLPERF_SMTP_HOST="127.0.0.1",
        XLPERF_SMTP_PORT=str(smtp.port),
        XLPERF_SMTP_SECURITY="none",
        XLPERF_SMTP_FROM=f"{short} <{SENDERS[short]}>",
        XLPERF_SUBMIT_TO=BUREAU,
    )
    res = invoke(["submit", wb, *extra], env)
    assert res.exit_code == 0, res.output
    assert len(smtp.recorder.messages) == before + 1
    return smtp.recorder.messages[-1].content


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def attachments(raw: bytes) -> dict[str, bytes]:
    found = {}
    for part in parse(raw).iter_attachments():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        found[str(part.get_filename())] = payload
    return found


def remail(files: dict[str, bytes], sender: str, subject: str) -> bytes:
    """A new 报送-like message with these attachments (names as given, which may hold ../)."""
    msg = build_message(sender=sender, to=[BUREAU], subject=subject, body="附件为报送包。", attachments=[])
    for name, data in files.items():
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return message_bytes(msg)


def manifest_name(files: dict[str, bytes]) -> str:
    return next(n for n in files if n.endswith("_manifest.json"))


def workbook_name(files: dict[str, bytes]) -> str:
    return next(n for n in files if n.endswith(".xlsx"))


def with_workbook(files: dict[str, bytes], data: bytes) -> dict[str, bytes]:
    """The package with its workbook replaced and the manifest updated to match (a forged but
    consistent one)."""
    out = dict(files)
    wname, mname = workbook_name(files), manifest_name(files)
    out[wname] = data
    manifest = json.loads(files[mname])
    for entry in manifest["files"]:
        if entry["role"] == "workbook":
            entry["sha256"], entry["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
    out[mname] = json.dumps(manifest, ensure_ascii=False).encode()
    return out


@pytest.fixture(scope="module")
def mail(smtp: Server, home: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Every message of the mailbox, in delivery order, by what it is."""
    work = tmp_path_factory.mktemp("departments")
    fw = get_framework("guangzhou-2023")
    books = {}
    for short in SENDERS:
        ev = clean_evaluation()
        ev.department.name, ev.department.short_name = department(short), short
        books[short] = save_workbook(build_workbook(fw, ev), work / short / f"{short}自评表.xlsx")
    msgs: dict[str, bytes] = {}
    msgs["甲1"] = submit(books["甲局"], "甲局", smtp, home)
    msgs["乙"] = submit(books["乙局"], "乙局", smtp, home)
    msgs["丙"] = submit(books["丙局"], "丙局", smtp, home)
    msgs["甲1重复投递"] = msgs["甲1"]

    yi = attachments(msgs["乙"])
    altered = dict(yi)
    wb = openpyxl.load_workbook(io.BytesIO(yi[workbook_name(yi)]))
    wb["基本信息"]["B5"].value = "改过的名称"
    buf = io.BytesIO()
    wb.save(buf)
    altered[workbook_name(yi)] = buf.getvalue()  # the manifest still has the frozen hash
    msgs["乙改工作簿"] = remail(altered, SENDERS["乙局"], "乙局报送（改过）")

    bing = attachments(msgs["丙"])
    edited = dict(bing)
    manifest = json.loads(bing[manifest_name(bing)])
    manifest["total"] = 99.99
    edited[manifest_name(bing)] = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
    msgs["丙改清单总分"] = remail(edited, SENDERS["丙局"], "丙局报送（改总分）")

    plain = EmailMessage(policy=MAIL_POLICY)
    plain["From"], plain["To"], plain["Subject"] = "某人 <someone@example.cn>", BUREAU, "请问报送截止时间？"
    plain["Message-ID"] = "<plain-1@example.cn>"
    plain.set_content("您好，请问今年的自评报送截止到哪天？")
    msgs["普通邮件"] = message_bytes(plain)
    msgs["不是MIME"] = b"just some bytes that are not a mail message\r\n\x00\xff\xfe garbage\r\n"

    bomb = work / "bomb.xlsx"
    zip_bomb(yi[workbook_name(yi)], bomb, mb=16)
    msgs["压缩炸弹"] = remail(with_workbook(yi, bomb.read_bytes()), SENDERS["乙局"], "乙局报送")
    laughs = work / "laughs.xlsx"
    with_shared_strings(yi[workbook_name(yi)], laughs, BILLION_LAUGHS.encode())
    msgs["实体炸弹"] = remail(with_workbook(yi, laughs.read_bytes()), SENDERS["乙局"], "乙局报送")

    escaped = {f"../../../{name}": data for name, data in bing.items()}
    escaped["..\\..\\逃逸.txt"] = b"must stay inside DIR"
    msgs["丙路径穿越"] = remail(escaped, SENDERS["丙局"], "丙局报送（再发一次）")

    time.sleep(1.1)  # a later Date: header
    ev = clean_evaluation()
    ev.department.name, ev.department.short_name = department("甲局"), "甲局"
    ev.problems.append("补充说明：已完成整改。")
    save_workbook(build_workbook(fw, ev), books["甲局"])
    msgs["甲2"] = submit(books["甲局"], "甲局", smtp, home, "--overwrite")
    return msgs


EXPECTED = {
    "甲1": "有效",
    "乙": "有效",
    "丙": "有效",
    "乙改工作簿": "文件与清单不符",
    "丙改清单总分": "得分与重算不符",
    "普通邮件": "不是报送邮件",
    "不是MIME": "不是报送邮件",
    "压缩炸弹": "无法读取",
    "实体炸弹": "无法读取",
    "丙路径穿越": "有效",
    "甲2": "有效",
}
SENDER_OF = {
    "甲1": "甲局",
    "乙": "乙局",
    "丙": "丙局",
    "乙改工作簿": "乙局",
    "丙改清单总分": "丙局",
    "压缩炸弹": "乙局",
    "实体炸弹": "乙局",
    "丙路径穿越": "丙局",
    "甲2": "甲局",
}


def ledger(out: Path) -> list[dict[str, Any]]:
    db = sqlite3.connect(out / "收件台账.sqlite")
    db.row_factory = sqlite3.Row
    rows = [dict(r) for r in db.execute("SELECT * FROM submissions ORDER BY received, taken_at, key")]
    db.close()
    return rows


def by_message_id(out: Path, mail: dict[str, bytes]) -> dict[str, dict[str, Any]]:
    rows = ledger(out)
    found = {}
    for what, raw in mail.items():
        if what == "甲1重复投递":
            continue
        mid = str(parse(raw).get("Message-ID") or "")
        [row] = [
            r
            for r in rows
            if (r["message_id"] == mid if mid else r["message_id"].startswith("<无 Message-ID"))
        ]
        found[what] = row
    return found


def sheet(path: Path, name: str) -> list[dict[str, Any]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    head, *body = [list(r) for r in wb[name].iter_rows(values_only=True)]
    wb.close()
    return [dict(zip(head, r, strict=True)) for r in body]


@pytest.fixture(scope="module")
def imap_run(
    dovecot: Imap, mail: dict[str, bytes], home: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Result, list[tuple[int, bytes]]]:
    dovecot.append(*mail.values())
    before = dovecot.state()
    out = tmp_path_factory.mktemp("bureau") / "2023报送"
    res = invoke(
        ["intake", dovecot.url, "-o", out, "--imap-cafile", dovecot.cafile, "--batch-size", "4"],
        env_for(home, XLPERF_IMAP_PASSWORD=dovecot.password),
    )
    return out, res, before


# ------------------------------------------------------------------------------ end to end


def test_imap_intake_statuses(imap_run: tuple[Path, Result, Any], mail: dict[str, bytes]) -> None:
    out, res, _ = imap_run
    assert res.exit_code == 1, res.output  # some messages are not valid submissions
    rows = by_message_id(out, mail)
    assert {k: r["status"] for k, r in rows.items()} == EXPECTED
    assert len(ledger(out)) == len(EXPECTED)  # the duplicate delivery was not taken in twice
    assert "已收过 1" in res.output
    from xlperf.workbook.printing import text_width

    lines = [line for line in res.output.splitlines() if line.startswith(("共 ", "新收的："))]
    assert len(lines) == 2 and all(text_width(line, ambiguous_wide=False) <= 80 for line in lines), lines
    assert (
        "SHA-256" in rows["乙改工作簿"]["reason"]
        and "部门整体支出绩效自评.xlsx" in rows["乙改工作簿"]["reason"]
    )
    assert "清单总分 99.99" in rows["丙改清单总分"]["reason"]
    assert "压缩炸弹" in rows["压缩炸弹"]["reason"]
    assert "实体" in rows["实体炸弹"]["reason"] or "DTD" in rows["实体炸弹"]["reason"]
    assert "没有 xlperf 报送包清单" in rows["普通邮件"]["reason"]


def test_summary_lists_each_department_once_valid(
    imap_run: tuple[Path, Result, Any], mail: dict[str, bytes]
) -> None:
    out, _, _ = imap_run
    rows = sheet(out / "汇总.xlsx", "汇总")
    assert sorted(r["部门"] for r in rows) == sorted(department(s) for s in SENDERS)
    assert {r["状态"] for r in rows} == {"有效"}
    ranking = sheet(out / "汇总.xlsx", "排名")
    assert sorted(r["部门"] for r in ranking) == sorted(department(s) for s in SENDERS)
    for r in ranking:
        assert r["总分"] == 98.57 and r["等级"] == "优"  # docs/DOMAIN.md §2: the seed's golden total
    log = sheet(out / "汇总.xlsx", "收件记录")
    assert len(log) == len(EXPECTED)
    assert Counter(r["状态"] for r in log) == Counter(EXPECTED.values())
    # the 汇总 links open the filed, verified workbook
    wb = openpyxl.load_workbook(out / "汇总.xlsx")
    links = [c.hyperlink.target for row in wb["排名"].iter_rows(min_row=2) for c in row if c.hyperlink]
    assert links and all((out / link).is_file() for link in links)


def test_later_valid_submission_supersedes_and_both_are_kept(
    imap_run: tuple[Path, Result, Any], mail: dict[str, bytes]
) -> None:
    out, _, _ = imap_run
    rows = by_message_id(out, mail)
    first, second = rows["甲1"], rows["甲2"]
    assert first["superseded_by"] == second["key"] and second["superseded_by"] is None
    assert (out / first["folder"]).is_dir() and (out / second["folder"]).is_dir()
    assert Path(second["folder"]).parts[:2] == ("2023", department("甲局"))
    [row] = [r for r in sheet(out / "汇总.xlsx", "汇总") if r["部门"] == department("甲局")]
    assert row["文件"].startswith(second["folder"])
    filed = sorted(p.name for p in (out / second["folder"]).iterdir())
    assert "message.eml" in filed and "scorecard.json" in filed and "intake.json" in filed
    assert any(n.endswith("_manifest.json") for n in filed)
    assert (out / second["folder"] / "message.eml").read_bytes().replace(b"\r\n", b"\n") == mail[
        "甲2"
    ].replace(b"\r\n", b"\n")


def test_mailbox_is_left_as_it_was(imap_run: tuple[Path, Result, Any], dovecot: Imap) -> None:
    _, _, before = imap_run
    after = dovecot.state()
    assert after == before  # nothing deleted, moved or flagged (\Seen included)
    assert all(b"\\Seen" not in flags for _, flags in after)


def test_rerun_takes_nothing_twice(imap_run: tuple[Path, Result, Any], dovecot: Imap, home: Path) -> None:
    out, _, _ = imap_run
    folders = sorted(str(p) for p in out.rglob("*") if p.is_dir())
    res = invoke(
        ["intake", dovecot.url, "-o", out, "--imap-cafile", dovecot.cafile],
        env_for(home, XLPERF_IMAP_PASSWORD=dovecot.password),
    )
    assert res.exit_code == 0, res.output
    assert f"已收过 {len(EXPECTED) + 1}" in res.output
    assert len(ledger(out)) == len(EXPECTED)
    assert sorted(str(p) for p in out.rglob("*") if p.is_dir()) == folders


def test_attachment_names_never_leave_dir(imap_run: tuple[Path, Result, Any], mail: dict[str, bytes]) -> None:
    out, _, _ = imap_run
    row = by_message_id(out, mail)["丙路径穿越"]
    folder = out / row["folder"]
    names = sorted(p.name for p in folder.iterdir())
    assert "逃逸.txt" in names and not any(".." in n or "/" in n or "\\" in n for n in names)
    assert not list(out.parent.glob("逃逸*")) and not list(out.parent.parent.glob("逃逸*"))
    for path in out.rglob("*"):
        assert path.resolve().is_relative_to(out.resolve())


def test_bombs_are_refused_before_opening(imap_run: tuple[Path, Result, Any], mail: dict[str, bytes]) -> None:
    out, _, _ = imap_run
    rows = by_message_id(out, mail)
    for what in ("压缩炸弹", "实体炸弹"):
        row = rows[what]
        assert row["outcome"] is None  # never scored
        assert "已拒绝打开" in row["reason"], row["reason"]


# ------------------------------------------------------------------------------ other sources


def test_eml_folder_and_mbox_give_the_same_statuses(
    mail: dict[str, bytes], home: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "导出的邮件"
    folder.mkdir()
    box = mailbox.mbox(str(tmp_path / "归档.mbox"))
    for n, raw in enumerate(mail.values()):
        (folder / f"{n:02d}.eml").write_bytes(raw)
        box.add(raw)
    box.flush()
    box.close()
    results = {}
    for name, source in (("eml", folder), ("mbox", tmp_path / "归档.mbox")):
        out = tmp_path / f"out-{name}"
        res = invoke(["intake", source, "-o", out], env_for(home))
        assert res.exit_code == 1, res.output
        results[name] = Counter(r["status"] for r in ledger(out))
        assert sorted(r["部门"] for r in sheet(out / "汇总.xlsx", "汇总")) == sorted(
            department(s) for s in SENDERS
        )
    assert results["eml"] == results["mbox"] == Counter(EXPECTED.values())


def test_receipts_at_most_once(mail: dict[str, bytes], home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "eml"
    folder.mkdir()
    for n, raw in enumerate(mail.values()):
        (folder / f"{n:02d}.eml").write_bytes(raw)
    out = tmp_path / "out"
    box_home = tmp_path / "receipt-home"
    for server in run_controller():
        env = env_for(
            box_home,
            XLPERF_SMTP_HOST="127.0.0.1",
            XLPERF_SMTP_PORT=str(server.port),
            XLPERF_SMTP_SECURITY="none",
            XLPERF_SMTP_FROM=BUREAU,
        )
        res = invoke(["intake", folder, "-o", out, "--receipt"], env)
        assert res.exit_code == 1, res.output
        got = server.recorder.parsed()
        wanted = [w for w in EXPECTED if w not in ("普通邮件", "不是MIME")]
        assert len(got) == len(wanted)
        to = Counter(str(m["To"]) for m in got)
        assert to == Counter(SENDERS[SENDER_OF[k]] for k in wanted)
        valid = [m for m in got if "有效" in str(m["Subject"])]
        assert len(valid) == 5
        body = valid[0].get_body(("plain",))
        assert body is not None
        text = body.get_content()
        assert "98.57" in text and "优" in text and "错误 0 条" in text
        bad = next(m for m in got if "文件与清单不符" in str(m["Subject"]))
        assert str(bad["In-Reply-To"]) == str(parse(mail["乙改工作簿"])["Message-ID"])
        again = invoke(["intake", folder, "-o", out, "--receipt"], env)
        assert again.exit_code == 0, again.output
        assert len(server.recorder.messages) == len(wanted)  # at most once per submission
    assert all(r["receipt"] for r in ledger(out) if r["status"] != "不是报送邮件")


# ------------------------------------------------------------------------------ failures: one line, exit 2


def one_chinese_line(res: Result) -> str:
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1, res.output
    assert lines[0].startswith("错误：") and "Traceback" not in res.output
    return lines[0]


def test_login_failure_is_one_line(dovecot: Imap, home: Path, tmp_path: Path) -> None:
    res = invoke(
        ["intake", dovecot.url, "-o", tmp_path / "o", "--imap-cafile", dovecot.cafile],
        env_for(home, XLPERF_IMAP_PASSWORD="wrong-password"),
    )
    assert res.exit_code == 2
    line = one_chinese_line(res)
    assert "登录失败" in line and dovecot.user in line and "wrong-password" not in line
    assert not (tmp_path / "o" / "汇总.xlsx").exists()


def test_tls_failure_is_one_line(dovecot: Imap, home: Path, tmp_path: Path) -> None:
    res = invoke(
        ["intake", dovecot.url, "-o", tmp_path / "o"], env_for(home, XLPERF_IMAP_PASSWORD=dovecot.password)
    )
    assert res.exit_code == 2
    line = one_chinese_line(res)
    assert "证书" in line and "--imap-cafile" in line


def test_missing_password_and_bad_sources(dovecot: Imap, home: Path, tmp_path: Path) -> None:
    res = invoke(["intake", dovecot.url, "-o", tmp_path / "o"], env_for(home))
    assert res.exit_code == 2 and "XLPERF_IMAP_PASSWORD" in one_chinese_line(res)
    res = invoke(["intake", "imaps://czj:pw@127.0.0.1/INBOX", "-o", tmp_path / "o"], env_for(home))
    assert (
        res.exit_code == 2
        and "不能写密码" in one_chinese_line(res)
        and "pw" not in res.output.split("不能")[0]
    )
    res = invoke(["intake", str(tmp_path / "没有这个"), "-o", tmp_path / "o"], env_for(home))
    assert res.exit_code == 2 and "找不到" in one_chinese_line(res)


# ------------------------------------------------------------------------- batches, folders, receipts failing


def test_mailbox_is_read_in_batches(dovecot: Imap, mail: dict[str, bytes]) -> None:
    """60 messages, batches of 25: three FETCH commands of at most 25 messages, each made only when needed."""
    from xlperf.intake.sources import ImapMailbox, imap_utf7

    conn = dovecot.client()
    conn.create(imap_utf7("批量"))
    conn.logout()
    bulk = []
    for n in range(60):
        msg = EmailMessage(policy=MAIL_POLICY)
        msg["From"], msg["Subject"], msg["Message-ID"] = (
            "a@example.cn",
            f"第 {n} 封",
            f"<bulk-{n}@example.cn>",
        )
        msg.set_content("x" * 2000)
        bulk.append(message_bytes(msg))
    dovecot.append(*bulk, mailbox=imap_utf7("批量"))
    source = ImapMailbox(
        f"imaps://{dovecot.user}@127.0.0.1:{dovecot.port}/批量",
        cafile=dovecot.cafile,
        env={"XLPERF_IMAP_PASSWORD": dovecot.password},
        batch_size=25,
    )
    source.open()
    assert source.count == 60
    assert source.conn is not None
    real_uid = source.conn.uid
    fetches: list[int] = []

    def spy(command: str, *args: Any) -> Any:
        if command == "FETCH":
            fetches.append(len(str(args[0]).split(",")))
        return real_uid(command, *args)

    source.conn.uid = spy  # type: ignore[method-assign]
    messages = iter(source)
    first = next(messages)
    assert fetches == [25] and b"bulk-0@" in first.data  # lazily: one batch fetched for the first message
    rest = list(messages)
    source.close()
    assert fetches == [25, 25, 10] and len(rest) == 59
    assert [parse(m.data)["Subject"] for m in [first, *rest]] == [f"第 {n} 封" for n in range(60)]


def test_chinese_mailbox_folder_through_the_command(
    dovecot: Imap, mail: dict[str, bytes], home: Path, tmp_path: Path
) -> None:
    from xlperf.intake.sources import imap_utf7

    conn = dovecot.client()
    conn.create(imap_utf7("报送邮件"))
    conn.logout()
    dovecot.append(mail["乙"], mailbox=imap_utf7("报送邮件"))
    url = f"imaps://{dovecot.user}@127.0.0.1:{dovecot.port}/报送邮件"
    res = invoke(
        ["intake", url, "-o", tmp_path / "o", "--imap-cafile", dovecot.cafile],
        env_for(home, XLPERF_IMAP_PASSWORD=dovecot.password),
    )
    assert res.exit_code == 0, res.output
    assert [r["status"] for r in ledger(tmp_path / "o")] == ["有效"]
    res = invoke(
        ["intake", url + "不存在", "-o", tmp_path / "o", "--imap-cafile", dovecot.cafile],
        env_for(home, XLPERF_IMAP_PASSWORD=dovecot.password),
    )
    assert res.exit_code == 2 and "无法打开邮箱文件夹" in one_chinese_line(res)


def test_failed_receipt_stays_in_the_outbox_and_is_not_queued_again(
    mail: dict[str, bytes], home: Path, tmp_path: Path
) -> None:
    from smtp_servers import free_port

    from xlperf.submission.outbox import Outbox

    (tmp_path / "eml").mkdir()
    (tmp_path / "eml" / "乙.eml").write_bytes(mail["乙"])
    box_home = tmp_path / "h"
    env = env_for(
        box_home,
        XLPERF_SMTP_HOST="127.0.0.1",
        XLPERF_SMTP_PORT=str(free_port()),
        XLPERF_SMTP_SECURITY="none",
        XLPERF_SMTP_FROM=BUREAU,
        XLPERF_SMTP_TIMEOUT="2",
    )
    res = invoke(["intake", tmp_path / "eml", "-o", tmp_path / "o", "--receipt"], env)
    assert res.exit_code == 0, res.output  # the submission is valid; the receipt is queued
    assert "回执发送失败" in res.output and "xlperf submit --retry" in res.output
    box = Outbox(box_home / "xlperf" / "outbox")
    assert len(box.pending()) == 1
    res = invoke(["intake", tmp_path / "eml", "-o", tmp_path / "o", "--receipt"], env)
    assert res.exit_code == 0 and len(box.pending()) == 1  # not queued a second time
    [row] = ledger(tmp_path / "o")
    assert row["receipt"] == box.pending()[0].id


def test_receipt_needs_smtp_settings_before_anything_is_taken_in(
    mail: dict[str, bytes], home: Path, tmp_path: Path
) -> None:
    (tmp_path / "eml").mkdir()
    (tmp_path / "eml" / "乙.eml").write_bytes(mail["乙"])
    res = invoke(["intake", tmp_path / "eml", "-o", tmp_path / "o", "--receipt"], env_for(home))
    assert res.exit_code == 2
    assert "邮件设置不完整" in one_chinese_line(res)
    assert not (tmp_path / "o").exists()


def test_imap_utf7_names() -> None:
    from xlperf.intake.sources import imap_utf7

    assert imap_utf7("~peter/mail/台北/日本語") == "~peter/mail/&U,BTFw-/&ZeVnLIqe-"  # RFC 3501 §5.1.3
    assert imap_utf7("INBOX") == "INBOX" and imap_utf7("A&B") == "A&-B"


def test_oversized_message_is_not_fetched(
    dovecot: Imap, mail: dict[str, bytes], home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the size limit only the header is read (IMAP: BODY.PEEK[HEADER]; files: the first bytes)."""
    import xlperf.intake.sources as sources
    from xlperf.intake.sources import imap_utf7

    monkeypatch.setattr(sources, "MAX_BYTES", len(mail["乙"]) - 1)
    conn = dovecot.client()
    conn.create(imap_utf7("大邮件"))
    conn.logout()
    dovecot.append(mail["乙"], mail["普通邮件"], mailbox=imap_utf7("大邮件"))
    (tmp_path / "eml").mkdir()
    (tmp_path / "eml" / "big.eml").write_bytes(mail["乙"])
    (tmp_path / "eml" / "plain.eml").write_bytes(mail["普通邮件"])
    url = f"imaps://{dovecot.user}@127.0.0.1:{dovecot.port}/大邮件"
    for name, source in (("imap", url), ("eml", str(tmp_path / "eml"))):
        out = tmp_path / name
        res = invoke(
            ["intake", source, "-o", out, "--imap-cafile", dovecot.cafile],
            env_for(home, XLPERF_IMAP_PASSWORD=dovecot.password),
        )
        assert res.exit_code == 1, res.output
        rows = {r["subject"]: r for r in ledger(out)}
        big = rows[str(parse(mail["乙"])["Subject"])]
        assert big["status"] == "无法读取" and "超过上限" in big["reason"], name
        assert big["message_id"] == str(parse(mail["乙"])["Message-ID"])  # the header was read
        filed = out / big["folder"] / "message.eml"
        assert filed.stat().st_size < 20_000 and not list((out / big["folder"]).glob("*.xlsx"))
        assert rows["请问报送截止时间？"]["status"] == "不是报送邮件"


def test_unexpected_error_in_one_message_is_recorded_not_fatal(
    mail: dict[str, bytes], home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import xlperf.pipeline

    real = xlperf.pipeline.assess

    def flaky(loaded: Any, framework: Any = None) -> Any:
        if loaded.evaluation.department.short_name == "乙局":
            raise RuntimeError("模拟的意外")
        return real(loaded, framework)

    monkeypatch.setattr(xlperf.pipeline, "assess", flaky)
    (tmp_path / "eml").mkdir()
    (tmp_path / "eml" / "1.eml").write_bytes(mail["乙"])
    (tmp_path / "eml" / "2.eml").write_bytes(mail["丙"])
    res = invoke(["intake", tmp_path / "eml", "-o", tmp_path / "o"], env_for(home))
    assert res.exit_code == 1, res.output
    rows = {r["status"]: r for r in ledger(tmp_path / "o")}
    assert set(rows) == {"无法读取", "有效"}
    assert "模拟的意外" in rows["无法读取"]["reason"] and "message.eml" in rows["无法读取"]["reason"]
    assert (tmp_path / "o" / rows["无法读取"]["folder"] / "message.eml").read_bytes() == mail["乙"]


def test_second_intake_into_the_same_folder_is_refused(
    mail: dict[str, bytes], home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xlperf.files import folder_lock_path, hold_lock

    (tmp_path / "eml").mkdir()
    (tmp_path / "eml" / "乙.eml").write_bytes(mail["乙"])
    out = tmp_path / "o"
    env = env_for(home)
    monkeypatch.setenv("XLPERF_HOME", str(env["XLPERF_HOME"]))  # the lock lives in the data folder
    with hold_lock(folder_lock_path("output", out)):  # as a running intake holds it
        res = invoke(["intake", tmp_path / "eml", "-o", out], env)
    assert res.exit_code == 2
    assert "另一个 xlperf 正在向输出文件夹" in one_chinese_line(res)
    assert not (out / "收件台账.sqlite").exists()
