"""导出报送包 and 发送财政局 on the ribbon for a 项目支出绩效自评表 (issue 27), as for a department's.

Excel cannot run here: the buttons run on the desktop stand-in of tests/test_excel_handlers.py
(``_FakeBook``: a saved file, Excel's ``Saved`` flag and the clerk's answers to a question), so the
real submission code exports the file on disk. The package is read back by openpyxl and
python-calamine, compared with what ``xlperf submit`` makes of the same file, and the mail goes
through a real aiosmtpd on 127.0.0.1; what arrived is checked by the bureau's own intake
(:func:`xlperf.intake.verify.check_package`: every file against the manifest, the workbook
re-scored).

Figures: the 重庆 arithmetic (76 % executed → 7.6; rows at full marks → 97.6, 优) and the 安徽
table (its total row left empty: J03, J04, J20 — errors, so it is refused), sources in
tests/test_project_core.py.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from office import calamine_sheets, error_cells
from smtp_servers import Server
from test_excel_handlers import _FakeBook, remote_book, run_button, sheet_values
from test_project_core import anhui
from test_project_submit import DEP, FOLDER, NAMES, PROJECT, cells_of, project_wb

from xlperf.cli import main
from xlperf.excel import handlers, on_ribbon
from xlperf.intake.ledger import VALID
from xlperf.intake.verify import check_package, parse_message
from xlperf.project import layout as P

OPERATOR = "王五"
SUBJECT = f"【绩效自评报送】{DEP} 2022 年度项目支出绩效自评：{PROJECT}"
#: manifest keys that differ between two exports of the same file by design (time, the files' bytes
#: with that time in their properties)
PER_RUN = ("created", "files")
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A data folder and a config of the test's own; the clerk's login name fixed."""
    monkeypatch.setenv("XLPERF_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in ("XLPERF_SEND_VIA", "XLPERF_SMTP_USER", "XLPERF_SMTP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(handlers, "_operator", lambda: OPERATOR)


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch, plain_server: Server) -> Server:
    for key, value in {
        "XLPERF_SMTP_HOST": "127.0.0.1",
        "XLPERF_SMTP_PORT": str(plain_server.port),
        "XLPERF_SMTP_SECURITY": "none",
        "XLPERF_SMTP_FROM": "棠溪镇财政所 <czs@example.cn>",
        "XLPERF_SUBMIT_TO": "财政局绩效科 <czj@example.gov.cn>",
        "XLPERF_SMTP_TIMEOUT": "5",
    }.items():
        monkeypatch.setenv(key, value)
    return plain_server


def press(button: str, path: Path | str, **kw: Any) -> tuple[str, str, str]:
    """Press a button on the desktop stand-in; the last message box (prompt, title, mode)."""
    book = _FakeBook(str(path), **kw)
    on_ribbon(button, book)
    return book.app.alerts[-1]


def folders(path: Path) -> list[Path]:
    return [p for p in path.parent.iterdir() if p.is_dir()]


def manifest(folder: Path) -> dict[str, Any]:
    return dict(json.loads(next(folder.glob("*_manifest.json")).read_text("utf-8")))


def frozen_values(path: Path) -> dict[str, list[list[Any]]]:
    """Every sheet's values; on the hidden sheet the times of scoring and freezing (they differ per
    run) replaced by a mark."""
    wb = openpyxl.load_workbook(path)
    out = {ws.title: sheet_values(ws) for ws in wb.worksheets}
    out[P.HIDDEN] = [["时间" if TIME.match(str(v)) else v for v in r] for r in out[P.HIDDEN]]
    return out


def read_back(folder: Path) -> None:
    """The frozen workbook as the bureau's two readers see it: the 重庆 figures, no formula, no error."""
    workbook = folder / NAMES[0]
    wb = openpyxl.load_workbook(workbook)
    assert [
        c.coordinate for ws in wb.worksheets for r in ws.iter_rows() for c in r if c.data_type == "f"
    ] == []
    at = cells_of(workbook)
    form = wb[at["funds.rate"][0]]
    assert form[at["funds.rate"][1]].value == pytest.approx(0.76)
    assert form[at["funds.score"][1]].value == pytest.approx(7.6)
    assert form[at["claimed_total"][1]].value == pytest.approx(97.6)
    assert form[at["claimed_rating"][1]].value == "优"
    sheets = calamine_sheets(workbook)
    assert error_cells(sheets) == []
    [total] = [r for r in sheets[P.SCORES] if r and r[0] == "总分"]
    assert total[1] == pytest.approx(97.6)
    data = manifest(folder)
    assert (data["form"], data["project"], data["department"], data["year"]) == (
        "project",
        PROJECT,
        DEP,
        2022,
    )
    assert (data["total"], data["rating"], data["errors"], data["operator"]) == (97.6, "优", 0, OPERATOR)


def taken_in(raw: bytes, folder: Path) -> Any:
    """The bureau's intake of one received message: attachments written, package checked."""
    parsed = parse_message(raw)
    folder.mkdir()
    for att in parsed.attachments:
        (folder / att.name).write_bytes(att.data)
    return check_package(parsed, folder)


# ------------------------------------------------------------------ 导出报送包


def test_export_makes_the_package_xlperf_submit_makes(tmp_path: Path) -> None:
    path = project_wb(tmp_path / "ribbon")
    before = path.read_bytes()
    prompt, title, mode = press("xlperf_package", path)
    assert (title, mode) == ("xlperf · 导出报送包", "info")
    assert "报送包已导出" in prompt and f"项目：{PROJECT}（{DEP}）" in prompt and "总分 97.60（优）" in prompt
    assert path.read_bytes() == before  # the clerk's file is never written to
    [folder] = folders(path)
    assert folder.name == FOLDER and str(folder) in prompt
    assert sorted(p.name for p in folder.iterdir()) == sorted(NAMES)
    read_back(folder)

    # the command line on the same file (same name, another folder): the same package
    cli = tmp_path / "cli" / path.name
    cli.parent.mkdir()
    shutil.copy(path, cli)
    result = CliRunner().invoke(
        main,
        ["submit", str(cli), "--operator", OPERATOR, "--eml", str(tmp_path / "草稿.eml"), "--to", "czj@x.cn"],
    )
    assert result.exit_code == 0, result.output
    [cli_folder] = folders(cli)
    assert sorted(p.name for p in cli_folder.iterdir()) == sorted(NAMES)
    ours, theirs = manifest(folder), manifest(cli_folder)
    assert [f["name"] for f in ours["files"]] == [f["name"] for f in theirs["files"]]
    for key in PER_RUN:
        ours.pop(key), theirs.pop(key)
    assert ours == theirs
    assert frozen_values(folder / NAMES[0]) == frozen_values(cli_folder / NAMES[0])


@pytest.mark.parametrize(("answer", "replaced"), [("yes", True), ("no", False)])
def test_an_existing_package_is_replaced_only_when_the_clerk_says_yes(
    tmp_path: Path, answer: str, replaced: bool
) -> None:
    path = project_wb(tmp_path / "wb")
    press("xlperf_package", path)
    [folder] = folders(path)
    before = manifest(folder)["created"], (folder / NAMES[2]).stat().st_ino
    book = _FakeBook(str(path), answers=[answer])
    on_ribbon("xlperf_package", book)
    question, _, _ = book.app.alerts[0]
    assert "已存在" in question and "是否用新的报送包替换" in question
    assert ((folder / NAMES[2]).stat().st_ino != before[1]) is replaced
    last = book.app.alerts[-1][0]
    assert ("报送包已导出" in last) is replaced and ("已有的报送包保持不变" in last) is not replaced
    assert folders(path) == [folder] and sorted(p.name for p in folder.iterdir()) == sorted(NAMES)
    read_back(folder)


# ------------------------------------------------------------------ 发送财政局


def test_send_mails_the_package_and_the_bureau_takes_it_in(tmp_path: Path, smtp: Server) -> None:
    path = project_wb(tmp_path / "wb")
    prompt, title, mode = press("xlperf_send", path)
    assert (title, mode) == ("xlperf · 发送财政局", "info")
    assert "已发送到财政局" in prompt and "czj@example.gov.cn" in prompt and f"项目：{PROJECT}" in prompt
    [folder] = folders(path)
    read_back(folder)
    [received] = smtp.recorder.messages
    msg = received.parsed()
    assert msg["Subject"] == SUBJECT  # the subject `xlperf submit` gives a project form
    parts = list(msg.iter_attachments())
    assert [p.get_filename() for p in parts] == NAMES
    assert all(p.get_content() == (folder / str(p.get_filename())).read_bytes() for p in parts)
    body = msg.get_body(("plain",))
    assert body is not None and f"项目：{PROJECT}" in body.get_content() and "97.60" in body.get_content()

    checked = taken_in(received.content, tmp_path / "bureau")
    assert checked.status == VALID, checked.reason
    assert checked.card["form"] == "project" and checked.card["total"] == pytest.approx(97.6)
    assert checked.card["project"] == PROJECT and checked.card["department"] == DEP


def test_send_after_scoring_on_the_ribbon_and_saving(tmp_path: Path, smtp: Server) -> None:
    """The clerk's way: 计算得分 writes the scores into the form and adds 评分结果/校验结果; the clerk
    saves; 发送财政局 sends that file. What the ribbon wrote is read as the clerk's claim and agrees."""
    path = project_wb(tmp_path / "wb")
    scored, _, alerts = run_button(path, "xlperf_score")  # the remote engine's writes, replayed
    assert "97.60" in alerts[0][0]
    scored.save(path)  # Ctrl+S
    at = cells_of(path)
    assert openpyxl.load_workbook(path)[P.FORM_SHEET][at["claimed_total"][1]].value == pytest.approx(97.6)
    prompt, _, mode = press("xlperf_send", path)
    assert mode == "info" and "已发送到财政局" in prompt
    [folder] = folders(path)
    read_back(folder)
    sheets = openpyxl.load_workbook(folder / NAMES[0]).sheetnames
    assert sheets[:3] == [P.SCORES, P.FINDINGS, P.REPORT] and len(sheets) == len(set(sheets))
    [received] = smtp.recorder.messages
    checked = taken_in(received.content, tmp_path / "bureau")
    assert checked.status == VALID, checked.reason


def test_send_replaces_the_earlier_package_without_asking(tmp_path: Path, smtp: Server) -> None:
    """As for a department: 发送财政局 always sends a fresh export of the saved file."""
    path = project_wb(tmp_path / "wb")
    press("xlperf_package", path)
    [folder] = folders(path)
    first = manifest(folder)["created"], (folder / NAMES[2]).stat().st_ino
    book = _FakeBook(str(path))
    on_ribbon("xlperf_send", book)
    assert len(book.app.alerts) == 1 and "已发送到财政局" in book.app.alerts[0][0]
    assert (folder / NAMES[2]).stat().st_ino != first[1]
    [received] = smtp.recorder.messages
    attached = {str(p.get_filename()): p.get_content() for p in received.parsed().iter_attachments()}
    assert attached[NAMES[2]] == (folder / NAMES[2]).read_bytes()  # the new package went


# ------------------------------------------------------------------ what is refused


@pytest.mark.parametrize("button", ["xlperf_package", "xlperf_send"])
def test_a_form_with_errors_is_refused_as_a_departments_is(tmp_path: Path, smtp: Server, button: str) -> None:
    ev = anhui()
    ev.project.department = DEP
    path = project_wb(tmp_path / "wb", ev, "委托业务.xlsx")
    prompt, title, mode = press(button, path)
    assert mode == "critical" and title.startswith("xlperf · ")
    assert "不能报送（须先改正）" in prompt
    assert all(code in prompt for code in ("J03", "J04", "J20"))
    assert f"{P.FORM_SHEET}!D6" in prompt  # the empty total row, by sheet and cell
    assert folders(path) == [] and smtp.recorder.messages == []


@pytest.mark.parametrize("button", ["xlperf_package", "xlperf_send"])
def test_an_unsaved_book_is_refused(tmp_path: Path, smtp: Server, button: str) -> None:
    path = project_wb(tmp_path / "wb")
    prompt, _, mode = press(button, path, saved=False)
    assert mode == "critical" and "未保存的修改" in prompt and "Ctrl+S" in prompt
    prompt, _, mode = press(button, tmp_path / "wb" / "工作簿1")  # never saved
    assert mode == "critical" and "请先保存" in prompt
    assert folders(path) == [] and smtp.recorder.messages == []


@pytest.mark.parametrize("button", ["xlperf_package", "xlperf_send"])
def test_online_excel_says_to_use_the_desktop(tmp_path: Path, smtp: Server, button: str) -> None:
    path = project_wb(tmp_path / "wb")
    book = remote_book(path)
    on_ribbon(button, book)
    [alert] = [a for a in book.json()["actions"] if a["func"] == "alert"]
    assert "在线 Excel 中无法" in alert["args"][0] and "xlperf submit" in alert["args"][0]
    assert folders(path) == [] and smtp.recorder.messages == []
