"""报送 end to end: refuse / freeze / package / email (real aiosmtpd servers) / outbox retry / .eml draft.

Nothing is mocked: workbooks come from the bundled example (docs/DOMAIN.md seed, golden total 98.57),
servers are aiosmtpd on 127.0.0.1 (plain, and STARTTLS with a trustme certificate and AUTH), a
socket that never speaks gives the timeout, a closed port the refusal. The frozen workbook is opened
by openpyxl, python-calamine and LibreOffice (headless, fresh profile).
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from bad_inputs.make_corpus import sheet_part
from click.testing import CliRunner, Result
from conftest import SEED_TOTAL
from smtp_servers import Server, Tls, free_port, make_authenticator, run_controller

from xlperf.cli import main
from xlperf.core.framework import get_framework
from xlperf.examples import example_evaluation
from xlperf.ooxml.stream import open_stream
from xlperf.pipeline import assess, load_input
from xlperf.submission.formulas import Evaluator, parse
from xlperf.submission.freeze import looks_like_text
from xlperf.submission.outbox import Outbox
from xlperf.submission.package import (
    BlockingFindingsError,
    PackageError,
    PackageExistsError,
    PackageResult,
    export_package,
    safe_filename,
)
from xlperf.workbook.template import build_workbook, save_workbook, workbook_bytes

USER = "kgs@example.cn"
PASSWORD = "S3cr3t-pw-91c2"
SENDER = f"区科工商信局 <{USER}>"
TO = "财政局绩效科 <czj@example.gov.cn>"
DEPARTMENT = "广州市白云区科技工业商务和信息化局"
SHORT = "区科工商信局"
STEM = f"{SHORT}_2023"
NAMES = [f"{STEM}_部门整体支出绩效自评.xlsx", f"{STEM}_自评报告.docx", f"{STEM}_manifest.json"]
FOLDER = f"报送包_{STEM}"
ERROR_VALUES = ("#NAME?", "#VALUE!", "#REF!", "#DIV/0!", "#N/A", "#NUM!", "#NULL!")
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


# -- servers ----------------------------------------------------------------------------------


authenticator = make_authenticator(USER, PASSWORD)


def starttls_kwargs(tls: Tls) -> dict[str, Any]:
    return {
        "tls_context": tls.server_context,
        "require_starttls": True,
        "authenticator": authenticator,
        "auth_require_tls": True,
    }


@pytest.fixture
def starttls_server(tls: Tls) -> Iterator[Server]:
    yield from run_controller(**starttls_kwargs(tls))


# -- workbooks and environment --------------------------------------------------------------------


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Outbox, logs and the user config file live under tmp_path; no SMTP setting leaks in."""
    monkeypatch.setenv("XLPERF_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in SMTP_ENV:
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def clean_evaluation() -> Any:
    """The seed with the reasons the published report left out (V12/V13) filled in: no error findings."""
    ev = example_evaluation()
    ev.outputs[21].shortfall_reason = "受征拆进度影响，部分点位顺延至次年整治"
    for i in (7, 16, 20):
        ev.outputs[i].excess_reason = "年初目标设置偏保守，实际需求超出预期"
    return ev


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sources")
    clean = clean_evaluation()
    fw = get_framework(clean.framework)
    paths = {
        "clean": save_workbook(build_workbook(fw, clean), folder / "clean.xlsx"),
        "example": folder / "example.xlsx",
    }
    result = CliRunner().invoke(main, ["example", "-o", str(paths["example"])])
    assert result.exit_code == 0, result.output
    return paths


@pytest.fixture
def clean_wb(sources: dict[str, Path], tmp_path: Path) -> Path:
    target = tmp_path / "work" / "白云区科工商信局_2023.xlsx"
    target.parent.mkdir()
    shutil.copy(sources["clean"], target)
    return target


@pytest.fixture
def example_wb(sources: dict[str, Path], tmp_path: Path) -> Path:
    target = tmp_path / "work" / "example.xlsx"
    target.parent.mkdir(exist_ok=True)
    shutil.copy(sources["example"], target)
    return target


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def invoke(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def smtp_env(port: int, **extra: str) -> dict[str, str]:
    env = {
        "XLPERF_SMTP_HOST": "127.0.0.1",
        "XLPERF_SMTP_PORT": str(port),
        "XLPERF_SMTP_SECURITY": "none",
        "XLPERF_SMTP_FROM": SENDER,
        "XLPERF_SUBMIT_TO": TO,
        "XLPERF_SMTP_TIMEOUT": "3",
    }
    env.update(extra)
    return env


def outbox(tmp_path: Path) -> Outbox:
    return Outbox(tmp_path / "home" / "outbox")


def manifest_of(folder: Path) -> dict[str, Any]:
    data = json.loads((folder / NAMES[2]).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def assert_submission(msg: EmailMessage, folder: Path, reason: str | None = None) -> None:
    """Chinese subject, Chinese file names, every attachment byte-identical to the package."""
    assert msg["Subject"] == f"【绩效自评报送】{DEPARTMENT} 2023 年度部门整体支出绩效自评"
    parts = list(msg.iter_attachments())
    assert [p.get_filename() for p in parts] == NAMES
    manifest = manifest_of(folder)
    recorded = {f["name"]: f for f in manifest["files"]}
    for part in parts:
        payload = part.get_content()
        assert isinstance(payload, bytes)
        name = part.get_filename()
        assert name is not None
        if name in recorded:
            assert sha256(payload) == recorded[name]["sha256"]
            assert len(payload) == recorded[name]["bytes"]
        else:  # the manifest itself
            assert payload == (folder / name).read_bytes()
            assert json.loads(payload)["schema"] == "xlperf.package/1"
    body_part = msg.get_body(("plain",))
    assert body_part is not None
    body = body_part.get_content()
    for fragment in (DEPARTMENT, "2023", "98.57", "优", *NAMES):
        assert fragment in body
    if reason:
        assert reason in body


# -- delivery ------------------------------------------------------------------------------------


def test_plain_smtp_submission_end_to_end(plain_server: Server, clean_wb: Path, tmp_path: Path) -> None:
    before = clean_wb.read_bytes()
    result = invoke("submit", clean_wb, "--operator", "张三", env=smtp_env(plain_server.port))
    assert result.exit_code == 0, result.output
    assert "已发送" in result.output
    folder = clean_wb.parent / FOLDER
    assert sorted(p.name for p in folder.iterdir()) == sorted(NAMES)
    [msg] = plain_server.recorder.parsed()
    assert_submission(msg, folder)
    assert clean_wb.read_bytes() == before  # the input is never written to
    manifest = manifest_of(folder)
    assert manifest["input"]["sha256"] == sha256(before)
    assert manifest["total"] == SEED_TOTAL and manifest["rating"] == "优"
    assert manifest["operator"] == "张三" and manifest["forced"] is False
    box = outbox(tmp_path)
    assert box.pending() == [] and len(box.sent()) == 1


def test_starttls_with_login_and_options(starttls_server: Server, tls: Tls, clean_wb: Path) -> None:
    result = invoke(
        "submit",
        clean_wb,
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        str(starttls_server.port),
        "--smtp-security",
        "starttls",
        "--smtp-user",
        USER,
        "--smtp-cafile",
        tls.cafile,
        "--from",
        SENDER,
        "--to",
        TO,
        "--smtp-timeout",
        "3",
        env={"XLPERF_SMTP_PASSWORD": PASSWORD},
    )
    assert result.exit_code == 0, result.output
    [received] = starttls_server.recorder.messages
    raw, login = received.content, received.login
    assert login == USER
    assert PASSWORD.encode() not in raw
    assert_submission(starttls_server.recorder.parsed()[0], clean_wb.parent / FOLDER)


def test_failures_keep_the_message_and_retry_sends_each_exactly_once(
    tls: Tls, silent_port: int, clean_wb: Path, tmp_path: Path
) -> None:
    folder = clean_wb.parent / FOLDER
    refused = free_port()
    result = invoke("submit", clean_wb, env=smtp_env(refused))
    assert result.exit_code == 1
    assert (
        "连接被拒绝" in result.output
        and "发件箱" in result.output
        and "xlperf submit --retry" in result.output
    )
    assert folder.is_dir()  # the package is built whatever happens to the mail

    # the package folder is sent as it is (no new export)
    server_port = free_port()
    good = smtp_env(
        server_port,
        XLPERF_SMTP_SECURITY="starttls",
        XLPERF_SMTP_USER=USER,
        XLPERF_SMTP_CAFILE=str(tls.cafile),
    )
    servers = run_controller(server_port, **starttls_kwargs(tls))
    server = next(servers)
    try:
        result = invoke("submit", folder, env={**good, "XLPERF_SMTP_PASSWORD": "Wrong-pw-0"})
        assert result.exit_code == 1
        assert "用户名或密码错误" in result.output and "xlperf submit --retry" in result.output
        assert "Wrong-pw-0" not in result.output
    finally:
        next(servers, None)  # stop the server: the retry below first finds nobody there

    result = invoke("submit", folder, env=smtp_env(silent_port, XLPERF_SMTP_TIMEOUT="1"))
    assert result.exit_code == 1
    assert "超时" in result.output and "xlperf submit --retry" in result.output

    box = outbox(tmp_path)
    # one package is one mail (one Message-ID): the three attempts are of the same queued item
    [item] = box.pending()
    assert item.attempts == 3 and item.last_error_kind == "timeout" and item.status == "failed"
    assert server.recorder.messages == []

    result = invoke("submit", "--retry", env={**good, "XLPERF_SMTP_PASSWORD": PASSWORD})
    assert result.exit_code == 1  # the server is down: it is reported and stays queued
    assert result.output.count("仍未发送") == 1
    assert len(box.pending()) == 1

    servers = run_controller(server_port, **starttls_kwargs(tls))
    server = next(servers)
    try:
        result = invoke("submit", "--retry", env={**good, "XLPERF_SMTP_PASSWORD": PASSWORD})
        assert result.exit_code == 0, result.output
        assert result.output.count("已发送") == 1
        result = invoke("submit", "--retry", env={**good, "XLPERF_SMTP_PASSWORD": PASSWORD})
        assert result.exit_code == 0 and "没有待发送" in result.output
        result = invoke("submit", folder, env={**good, "XLPERF_SMTP_PASSWORD": PASSWORD})
        assert result.exit_code == 1 and "不再重复发送" in result.output
        [msg] = server.recorder.parsed()
        assert str(msg["Message-ID"]) == item.message_id
        assert_submission(msg, folder)
    finally:
        next(servers, None)
    assert box.pending() == [] and len(box.sent()) == 1


def test_missing_settings_builds_package_and_names_what_is_missing(clean_wb: Path, tmp_path: Path) -> None:
    result = invoke("submit", clean_wb)
    assert result.exit_code == 2
    for name in ("XLPERF_SMTP_HOST", "XLPERF_SMTP_FROM", "XLPERF_SUBMIT_TO", "--smtp-host", "--to", "--eml"):
        assert name in result.output
    assert (clean_wb.parent / FOLDER / NAMES[0]).is_file()
    assert outbox(tmp_path).items() == []


# -- refusing and forcing -----------------------------------------------------------------------------


def test_error_findings_refuse_without_force(plain_server: Server, example_wb: Path, tmp_path: Path) -> None:
    result = invoke("submit", example_wb, env=smtp_env(plain_server.port))
    assert result.exit_code == 1
    for where in ("产出指标!Q26", "产出指标!R12", "产出指标!R21", "产出指标!R25"):
        assert where in result.output
    assert "V12" in result.output and "V13" in result.output and "--force" in result.output
    assert not (example_wb.parent / FOLDER).exists()
    assert plain_server.recorder.messages == []
    assert outbox(tmp_path).items() == []

    with pytest.raises(BlockingFindingsError) as info:
        export_package(example_wb)
    assert len(info.value.findings) == 4 and "产出指标!Q26" in str(info.value)


def test_force_needs_a_reason(example_wb: Path) -> None:
    result = invoke("submit", example_wb, "--force")
    assert result.exit_code == 2
    assert "--reason" in result.output
    assert not (example_wb.parent / FOLDER).exists()
    with pytest.raises(PackageError, match="原因"):
        export_package(example_wb, force=True, reason="  ")


def test_forced_submission_records_the_reason_everywhere(plain_server: Server, example_wb: Path) -> None:
    reason = "V12/V13 缺漏已电话报告财政局，补充说明随后报送"
    result = invoke(
        "submit",
        example_wb,
        "--force",
        "--reason",
        reason,
        "--operator",
        "李四",
        env=smtp_env(plain_server.port),
    )
    assert result.exit_code == 0, result.output
    folder = example_wb.parent / FOLDER
    manifest = manifest_of(folder)
    assert manifest["forced"] is True and manifest["reason"] == reason and manifest["operator"] == "李四"
    assert sorted(f["code"] for f in manifest["blocking_findings"]) == ["V12", "V13", "V13", "V13"]
    wb = openpyxl.load_workbook(folder / NAMES[0])
    assert wb.custom_doc_props["xlperf.forced_reason"].value == reason
    assert wb.custom_doc_props["xlperf.forced"].value is True
    assert reason in (wb.properties.description or "")
    assert reason in [c.value for row in wb["_xlperf"].iter_rows() for c in row]
    [msg] = plain_server.recorder.parsed()
    assert_submission(msg, folder, reason=reason)


# -- the frozen workbook ---------------------------------------------------------------------------------


def make_xlsm(source: Path, target: Path) -> Path:
    """The same workbook as a macro-enabled .xlsm carrying a (dummy) VBA project."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "[Content_Types].xml":
                text = data.decode()
                text = text.replace(
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                )
                text = text.replace(
                    '<Default Extension="xml"',
                    '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
                    '<Default Extension="xml"',
                    1,
                )
                data = text.encode()
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/'
                    b'vbaProject" Target="vbaProject.bin"/></Relationships>',
                )
            zout.writestr(info, data)
        zout.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0not really vba" * 20)
    return target


def completion_column(ws: Any) -> str:
    for cell in ws[4]:
        if cell.value == "完成率":
            return str(cell.column_letter)
    raise AssertionError("no 完成率 column")


def test_frozen_workbook_values_only_no_macros_core_values(clean_wb: Path) -> None:
    xlsm = make_xlsm(clean_wb, clean_wb.with_suffix(".xlsm"))
    before = sha256(xlsm.read_bytes())
    with zipfile.ZipFile(xlsm) as z:
        assert "xl/vbaProject.bin" in z.namelist()
    package = export_package(xlsm, operator="张三")
    assert sha256(xlsm.read_bytes()) == before
    frozen = package.workbook
    assert frozen.name == NAMES[0] and frozen.suffix == ".xlsx"

    with zipfile.ZipFile(frozen) as z:
        names = z.namelist()
        content_types = z.read("[Content_Types].xml").decode()
    assert not any("vba" in n.lower() for n in names)
    assert "macroEnabled" not in content_types and "vbaProject" not in content_types
    assert "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml" in content_types

    wb = openpyxl.load_workbook(frozen)
    formulas = [
        f"{ws.title}!{c.coordinate}"
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.data_type == "f"
    ]
    assert formulas == []
    for title in ("基本信息", "收支情况", "产出指标", "效益指标", "支出进度", "管理效率"):
        assert wb[title].protection.sheet is True
        assert not wb[title].protection.password
    assert {"评分汇总", "校验结果", "自评报告", "_xlperf"} <= set(wb.sheetnames)
    assert wb["_xlperf"].sheet_state == "veryHidden"

    # the core's numbers, not stale cached ones (an openpyxl-built input has no cached values at all)
    result = assess(load_input(clean_wb))
    for section, title in (("output", "产出指标"), ("benefit", "效益指标")):
        ws = wb[title]
        col = completion_column(ws)
        rows = result.indicator(section).rows
        assert rows
        for rs in rows:
            value = ws[f"{col}{5 + rs.index}"].value
            assert rs.completion is not None
            assert value == pytest.approx(float(rs.completion), abs=1e-12)
        assert ws[f"{col}{5 + len(rows)}"].value is None  # a blank row stays blank
    ratio = result.ratios["budget_execution"]
    assert ratio is not None
    exec_name = wb.defined_names["xp_exec_rate"]
    sheet, coord = next(iter(exec_name.destinations))
    assert wb[sheet][coord.replace("$", "")].value == pytest.approx(float(ratio / 100))
    mean = result.indicator("spending").inputs["mean"]
    assert mean is not None
    spending = wb["支出进度"]
    [mean_cell] = [
        spending.cell(row=c.row, column=c.column + 1)
        for row in spending.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.startswith("月均执行率")
    ]
    assert mean_cell.value == pytest.approx(float(mean / 100))
    assert wb["重点工作"]["A5"].value == 1 and wb["重点工作"]["A6"].value == 2  # =ROW()-4

    # provenance: document properties, custom properties and the hidden sheet
    props = {p.name: p.value for p in wb.custom_doc_props}
    assert props["xlperf.input_sha256"] == before
    assert props["xlperf.core.framework"] == "guangzhou-2023"
    assert props["xlperf.operator"] == "张三"
    assert props["xlperf.forced"] is False
    assert props["xlperf.total"] == "98.57"
    assert wb.properties.identifier == before and wb.properties.lastModifiedBy == "张三"
    hidden = [c.value for row in wb["_xlperf"].iter_rows() for c in row]
    assert before in hidden and "张三" in hidden and "guangzhou-2023" in hidden

    # python-calamine reads the same total as the score card
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(frozen))
    summary = book.get_sheet_by_name("评分汇总").to_python()
    [total_row] = [r for r in summary if r and r[0] == "总分"]
    assert total_row[1] == pytest.approx(SEED_TOTAL) == package.total
    for name in book.sheet_names:
        for row in book.get_sheet_by_name(name).to_python():
            assert not any(isinstance(v, str) and v in ERROR_VALUES for v in row), name

    manifest = package.manifest_data
    assert manifest["schema"] == "xlperf.package/1"
    assert manifest["scorecard"]["total"] == SEED_TOTAL
    assert manifest["scorecard"]["sections"]["output"] == 18.79
    assert manifest["freeze"]["flagged"] == [] and manifest["freeze"]["cached"] == []
    for entry in manifest["files"]:
        path = package.folder / entry["name"]
        assert entry["sha256"] == sha256(path.read_bytes()) and entry["bytes"] == path.stat().st_size


def inject_formulas(source: Path, target: Path) -> Path:
    """UDF and ordinary formulas where xlperf's add-in or a clerk would put them."""
    wb = openpyxl.load_workbook(source)
    ws = wb["产出指标"]
    col = completion_column(ws)
    ws[f"{col}5"] = "=XLPERF_COMPLETION(E5,K5)"
    ws[f"{col}6"] = "=[1]!XLPERF_COMPLETION(E6,K6)"  # how Excel stores an add-in function
    sheet, coord = next(iter(wb.defined_names["xp_exec_rate"].destinations))
    wb[sheet][coord.replace("$", "")] = "=XLPERF_RATIO(xp_executed,xp_total_budget)"
    notes = wb.create_sheet("测算")  # a sheet of the clerk's own
    notes["D1"] = "=XLPERF_RATING(98.57)"
    notes["D2"] = "=ROUND(SUM(1,2,3)/4,1)"
    notes["D3"] = '=IF(D2>1,"大于一"&"！","否")'
    notes["D4"] = "=1/0"
    notes["D5"] = "=NOSUCHFUNCTION(1)"
    notes["D6"] = "=收支情况!B5*2"
    notes["D7"] = "=D8"
    notes["D8"] = "=D7"  # a cycle: never evaluated forever
    notes["D9"] = "=XLPERF_RATIO(1,3)"  # percent, as the add-in's function returns it
    wb.save(target)
    return target


def test_udf_formulas_are_frozen_to_the_core_values(clean_wb: Path) -> None:
    source = inject_formulas(clean_wb, clean_wb.with_name("udf.xlsx"))
    result = assess(load_input(source))
    package = export_package(source)
    wb = openpyxl.load_workbook(package.workbook)
    ws = wb["产出指标"]
    col = completion_column(ws)
    rows = result.indicator("output").rows
    for rs in rows[:2]:
        assert rs.completion is not None
        assert ws[f"{col}{5 + rs.index}"].value == pytest.approx(float(rs.completion))
    sheet, coord = next(iter(wb.defined_names["xp_exec_rate"].destinations))
    ratio = result.ratios["budget_execution"]
    assert ratio is not None
    assert wb[sheet][coord.replace("$", "")].value == pytest.approx(float(ratio / 100))
    notes = wb["测算"]
    assert notes["D1"].value == "优"
    assert notes["D2"].value == pytest.approx(1.5)
    assert notes["D3"].value == "大于一！"
    budget = wb["收支情况"]["B5"].value
    assert notes["D6"].value == pytest.approx(budget * 2)
    assert notes["D9"].value == pytest.approx(33.33)
    for coord in ("D4", "D5", "D7", "D8"):
        assert notes[coord].value is None
    flagged = {c["cell"] for c in package.manifest_data["freeze"]["flagged"] if c["sheet"] == "测算"}
    assert flagged == {"D4", "D5", "D7", "D8"}
    assert all(c.data_type != "f" for w in wb.worksheets for row in w.iter_rows() for c in row)


def tinted(path: Path) -> list[str]:
    """Cells filled with the pale-yellow input tint (``FFF2CC``), as sheet!cell."""
    wb = openpyxl.load_workbook(path)
    return [
        f"{ws.title}!{c.coordinate}"
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.fill.fill_type == "solid" and str(c.fill.fgColor.rgb or "").upper().endswith("FFF2CC")
    ]


def test_the_frozen_workbook_is_a_record_not_a_form(clean_wb: Path) -> None:
    """Issue 25: no 填表说明 and no yellow input tint in what the bureau receives; it still re-scores
    to the same result (the intake reads it like any workbook)."""
    assert "填表说明" in openpyxl.load_workbook(clean_wb).sheetnames and tinted(clean_wb)  # control
    package = export_package(clean_wb)
    wb = openpyxl.load_workbook(package.workbook)
    assert "填表说明" not in wb.sheetnames
    assert wb.sheetnames[:3] == ["评分汇总", "校验结果", "自评报告"] and wb.active.title == "评分汇总"
    assert not any("填表说明" in (d.attr_text or "") for d in wb.defined_names.values())
    assert tinted(package.workbook) == []
    again = assess(load_input(package.workbook))
    assert float(again.total) == package.total and len(again.errors) == 0


def test_the_freeze_plans_on_the_stream_book_not_on_openpyxl(
    clean_wb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One workbook model: the clerk's file is read once, by the stream reader, for scoring and freezing."""
    import openpyxl.reader.excel

    def no_openpyxl(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("openpyxl must not load the workbook being frozen")

    source = inject_formulas(clean_wb, clean_wb.with_name("udf.xlsx"))
    monkeypatch.setattr(openpyxl, "load_workbook", no_openpyxl)
    monkeypatch.setattr(openpyxl.reader.excel, "load_workbook", no_openpyxl)
    package = export_package(source)
    monkeypatch.undo()
    assert package.manifest_data["freeze"]["evaluated"] > 0


def test_an_error_value_cached_by_a_newer_excel_is_not_kept(clean_wb: Path) -> None:
    """A formula xlperf cannot compute whose cached result is a newer Excel's error (#SPILL!) is
    emptied, not kept as a value: no error value reaches the bureau."""
    source = inject_formulas(clean_wb, clean_wb.with_name("udf.xlsx"))
    data = source.read_bytes()
    part = sheet_part(data, "测算")
    out = clean_wb.with_name("spill.xlsx")
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            body = zin.read(info)
            if info.filename == part:
                body, n = re.subn(
                    rb'<c r="D5"([^>]*)><f>([^<]*)</f><v\s*/?>(?:</v>)?</c>',
                    rb'<c r="D5"\1 t="e"><f>\2</f><v>#SPILL!</v></c>',
                    body,
                )
                assert n == 1, body[:2000]
            zout.writestr(info, body)
    package = export_package(out)
    frozen = {(c["sheet"], c["cell"]): c for c in package.manifest_data["freeze"]["flagged"]}
    assert ("测算", "D5") in frozen and frozen[("测算", "D5")]["value"] is None
    assert openpyxl.load_workbook(package.workbook)["测算"]["D5"].value is None


def lo_csv(workbook: Path, tmp_path: Path) -> dict[str, str]:
    """Every sheet of ``workbook`` as LibreOffice computes and shows it (CSV per sheet)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.fail(
            "LibreOffice is not installed: .ci/run installs it (apt-get install libreoffice-calc "
            'python3-uno; pip install -e ".[test]")'
        )
    out = tmp_path / f"lo-{workbook.stem}"
    profile = (tmp_path / f"lo-profile-{workbook.stem}").as_uri()
    copy = tmp_path / "book.xlsx"
    shutil.copy(workbook, copy)
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
            "--outdir",
            str(out),
            str(copy),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    sheets = {p.stem.removeprefix("book-"): p.read_text(encoding="utf-8") for p in out.glob("*.csv")}
    assert sheets, "LibreOffice wrote nothing"
    return sheets


@pytest.mark.slow
def test_frozen_workbook_opens_in_libreoffice_without_error_values(clean_wb: Path, tmp_path: Path) -> None:
    source = inject_formulas(clean_wb, clean_wb.with_name("udf.xlsx"))
    package = export_package(source)
    sheets = lo_csv(package.workbook, tmp_path)
    assert {"评分汇总", "产出指标", "收支情况", "支出进度", "测算"} <= set(sheets)
    for name, text in sheets.items():
        for error in ERROR_VALUES:
            assert error not in text, f"{error} on sheet {name}"
    assert re.search(r"^总分,98\.57,评价等级,优", sheets["评分汇总"], re.M)
    # control: the unfrozen input does show #NAME? in LibreOffice — the check above can fail
    unfrozen = lo_csv(source, tmp_path)
    assert "#NAME?" in unfrozen["产出指标"] + unfrozen["测算"]


# -- .eml draft, package folder rules --------------------------------------------------------------------


def test_eml_draft_needs_no_server_and_has_the_attachments(clean_wb: Path, tmp_path: Path) -> None:
    eml = tmp_path / "草稿" / "报送.eml"
    result = invoke("submit", clean_wb, "--eml", eml, "--to", TO)
    assert result.exit_code == 0, result.output
    assert "草稿" in result.output
    data = eml.read_bytes()
    assert data.startswith(b"X-Unsent: 1\r\n")
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    assert str(msg["To"]) == TO
    assert_submission(msg, clean_wb.parent / FOLDER)
    assert outbox(tmp_path).items() == []


def test_existing_package_folder_is_never_mixed(clean_wb: Path, tmp_path: Path) -> None:
    first = export_package(clean_wb)
    stray = first.folder / "旧文件.txt"
    stray.write_text("old", encoding="utf-8")
    with pytest.raises(PackageExistsError, match="--overwrite"):
        export_package(clean_wb)
    result = invoke("submit", clean_wb, "--eml", tmp_path / "a.eml")
    assert result.exit_code == 2 and "--overwrite" in result.output
    second = export_package(clean_wb, overwrite=True)
    assert sorted(p.name for p in second.folder.iterdir()) == sorted(NAMES)  # replaced whole, not mixed
    assert not [p for p in clean_wb.parent.iterdir() if p.name.startswith(".")]  # no temporaries left

    other = tmp_path / "我的文件"
    other.mkdir()
    (other / "重要.docx").write_bytes(b"x")
    with pytest.raises(PackageExistsError, match="不是 xlperf 报送包"):
        export_package(clean_wb, other, overwrite=True)
    assert (other / "重要.docx").read_bytes() == b"x"

    (second.folder / NAMES[1]).write_bytes(b"tampered")
    with pytest.raises(PackageError, match="改动"):
        PackageResult.load(second.folder)


def test_file_names_are_safe_on_windows(tmp_path: Path) -> None:
    assert safe_filename('科工:商/信*局?<>|"') == "科工_商_信_局_____"
    assert safe_filename("CON") == "_CON"
    assert safe_filename(" 区局. ") == "区局"
    assert safe_filename("") == "未命名"
    ev = clean_evaluation()
    ev.department.short_name = ""
    ev.department.name = "白云区/科工商信局"
    path = save_workbook(build_workbook(get_framework(ev.framework), ev), tmp_path / "in.xlsx")
    package = export_package(path)
    assert package.folder.name == "报送包_白云区_科工商信局_2023"
    assert package.workbook.name == "白云区_科工商信局_2023_部门整体支出绩效自评.xlsx"


# -- the formula evaluator and the command's help ------------------------------------------------------------


def test_evaluator_small_excel_subset() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "S"
    ws["A1"], ws["A2"], ws["A3"] = 2, 3, "x"
    book = open_stream(workbook_bytes(wb), "s.xlsx")

    def ev(formula: str) -> Any:
        return Evaluator(book, {}).eval(parse(formula), "S", 7, 2)

    assert ev("=-A1^2") == 4  # Excel: negation binds tighter than ^
    assert ev("=A1+A2*2") == 8
    assert ev("=SUM(A1:A3)") == 5  # text in a range is skipped
    assert ev("=AVERAGE(A1:A2)") == Decimal("2.5")
    assert ev("=ROW()-4") == 3 and ev("=COLUMN()") == 2
    assert ev('=IFERROR(A1/0,"无")') == "无"
    assert ev('=A3&"y"') == "xy"
    assert ev("=50%") == Decimal("0.5")
    assert ev('=IF(A1>=2,"是","否")') == "是"
    assert ev("=ROUND(2.345,2)") == Decimal("2.35")
    # N(): the project template's live 执行率 =IF(N(D7)>0,E7/D7,"") (text and empty cells are 0)
    assert ev("=N(A1)") == 2 and ev("=N(A3)") == 0 and ev("=N(A9)") == 0 and ev("=N(TRUE)") == 1
    assert ev('=IF(N(A9)>0,A1/A9,"")') == ""
    assert looks_like_text("= 本年收入 + 上年结转（V01）")
    assert not looks_like_text('=IF(A1="（）",1,2)')


def test_submit_help_documents_every_option() -> None:
    from xlperf.commands.submit import submit

    result = invoke("submit", "--help")
    assert result.exit_code == 0
    for param in submit.params:
        if isinstance(param, __import__("click").Option):
            assert param.help, f"{param.name} has no help"
            assert re.search(r"[\u4e00-\u9fff]", param.help), f"{param.name}: help is not Chinese"
    for flag in ("--force", "--reason", "--eml", "--retry", "--to", "--overwrite", "--operator"):
        assert flag in result.output


def test_a_draft_without_recipient_says_so_and_the_body_names_who_to_call(tmp_path: Path) -> None:
    """Issue 25: ``--eml`` with no recipient anywhere warns (the bureau's address must be typed in the
    mail program); the body gives 填报人 and 联系电话 and lists the 提醒 that remain."""
    ev = clean_evaluation()
    ev.department.preparer, ev.department.phone = "王芳", "020-86660000"
    (tmp_path / "work").mkdir(exist_ok=True)
    wb = save_workbook(build_workbook(get_framework(ev.framework), ev), tmp_path / "work" / "带联系人.xlsx")
    eml = tmp_path / "无收件人.eml"
    result = invoke("submit", wb, "--eml", eml)
    assert result.exit_code == 0, result.output
    assert "草稿没有收件人" in result.output and "--to" in result.output
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert isinstance(msg, EmailMessage) and not msg["To"]
    body = msg.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "填报人：王芳" in text and "联系电话：020-86660000" in text
    warnings = [
        f for f in manifest_of(wb.parent / FOLDER)["scorecard"]["findings"] if f["severity"] == "warning"
    ]
    assert warnings and f"尚有 {len(warnings)} 条提醒" in text
    assert all(f["message"] in text for f in warnings)
    again = invoke("submit", wb.parent / FOLDER, "--eml", tmp_path / "有收件人.eml", "--to", TO)
    assert again.exit_code == 0 and "草稿没有收件人" not in again.output


def test_the_refusal_names_no_command_line_option_outside_the_command_line(example_wb: Path) -> None:
    """The web page and Excel show the message itself: no --force/--reason in it; the command line
    adds its own hint below."""
    with pytest.raises(BlockingFindingsError) as info:
        export_package(example_wb)
    assert "--" not in str(info.value) and "强制报送" in str(info.value)
    assert info.value.command_hint.startswith("命令行") and "--force --reason" in info.value.command_hint
    with pytest.raises(PackageError) as needs:
        export_package(example_wb, force=True, reason=" ")
    assert "--" not in str(needs.value) and "--reason" in needs.value.command_hint
