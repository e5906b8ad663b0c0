"""报送 of a 项目支出绩效自评表 (issue 27): the same frozen, macro-free 报送包 as the department form's,
sent through a real aiosmtpd on 127.0.0.1.

The project is the 重庆 arithmetic (tests/test_project_core.py has the source): 全年预算数 100 万元,
全年执行数 76 万元 → 执行率 76 % → 7.6 of 10 points; its rows at full marks (50 + 30 + 10) → total
97.6, 优. The 安徽 table (its total row left at 0, its weights adding up to 90) is the form with
error findings that is refused unless forced.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import io
import json
import shutil
import zipfile
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result
from office import calamine_sheets, convert, error_cells
from smtp_servers import Server
from test_project_core import anhui, funds, info, row

from xlperf.cli import main
from xlperf.core.project.evaluation import ProjectEvaluation
from xlperf.core.project.framework import get_project_framework
from xlperf.ooxml.stream import open_stream
from xlperf.pipeline import assess, load_any
from xlperf.project.pipeline import ProjectLoaded
from xlperf.project.reader import read_project_book
from xlperf.project.template import build_project_workbook
from xlperf.submission.package import BlockingFindingsError, PackageResult, export_package

FW = get_project_framework("national-project")
DEP = "棠溪镇人民政府"
PROJECT = "融媒体运行"
STEM = f"{PROJECT}_2022"
FOLDER = f"报送包_{STEM}"
NAMES = [f"{STEM}_项目支出绩效自评.xlsx", f"{STEM}_项目支出绩效自评报告.docx", f"{STEM}_manifest.json"]
SENDER = "棠溪镇财政所 <czs@example.cn>"
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
)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XLPERF_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in SMTP_ENV:
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def chongqing() -> ProjectEvaluation:
    """The 重庆 arithmetic: 76 % executed → 7.6, every row at full marks → 97.6."""
    ev = ProjectEvaluation(
        project=info(PROJECT, 2022),
        funds=funds("100", "76", reason="设备款次年支付"),
        rows=[
            row("产出指标", "播出时长", "≥1000小时", "1000小时", "50", level2="数量指标"),
            row("效益指标", "覆盖人口", "≥10万人", "12万人", "30", level2="社会效益指标"),
            row("满意度指标", "满意度", "≥90%", "95%", "10", level2="服务对象满意度指标"),
        ],
        goal_expected="全年播出不少于1000小时",
        goal_actual="全年播出1000小时，覆盖12万人",
    )
    ev.project.department = DEP
    ev.project.preparer = "王五"
    return ev


def project_wb(folder: Path, ev: ProjectEvaluation | None = None, name: str = "融媒体.xlsx") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    build_project_workbook(FW, ev or chongqing()).save(path)
    return path


def cells_of(path: Path) -> dict[str, tuple[str, str]]:
    """Where the reader finds each field of the form (path → sheet, cell)."""
    _, _, source, _ = read_project_book(open_stream(path.read_bytes()))
    return dict(source.cells)


def invoke(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def smtp_env(port: int) -> dict[str, str]:
    return {
        "XLPERF_SMTP_HOST": "127.0.0.1",
        "XLPERF_SMTP_PORT": str(port),
        "XLPERF_SMTP_SECURITY": "none",
        "XLPERF_SMTP_FROM": SENDER,
        "XLPERF_SUBMIT_TO": TO,
        "XLPERF_SMTP_TIMEOUT": "3",
    }


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def formulas(path: Path) -> list[str]:
    wb = openpyxl.load_workbook(path)
    return [
        f"{ws.title}!{c.coordinate}"
        for ws in wb.worksheets
        for r in ws.iter_rows()
        for c in r
        if c.data_type == "f"
    ]


# ------------------------------------------------------------------ delivery


def test_a_project_form_is_submitted_by_smtp(plain_server: Server, tmp_path: Path) -> None:
    path = project_wb(tmp_path / "work")
    before = path.read_bytes()
    result = invoke("submit", path, "--operator", "王五", env=smtp_env(plain_server.port))
    assert result.exit_code == 0, result.output
    assert "已发送" in result.output and f"项目：{PROJECT}（{DEP}）" in result.output
    folder = path.parent / FOLDER
    assert sorted(p.name for p in folder.iterdir()) == sorted(NAMES)
    assert path.read_bytes() == before  # the input is never written to

    manifest = json.loads((folder / NAMES[2]).read_text(encoding="utf-8"))
    assert manifest["schema"] == "xlperf.package/1" and manifest["form"] == "project"
    assert (manifest["department"], manifest["project"], manifest["year"]) == (DEP, PROJECT, 2022)
    assert manifest["framework"] == "national-project" and manifest["framework_sha256"] == FW.sha256
    assert manifest["total"] == 97.6 and manifest["rating"] == "优" and manifest["errors"] == 0
    assert manifest["header"]["preparer"] == "王五" and manifest["operator"] == "王五"
    assert manifest["input"]["sha256"] == sha256(before)
    card = manifest["scorecard"]
    assert card["form"] == "project" and card["budget"]["rate"] == 76 and card["sections"]["budget"] == 7.6

    [msg] = plain_server.recorder.parsed()
    assert msg["Subject"] == f"【绩效自评报送】{DEP} 2022 年度项目支出绩效自评：{PROJECT}"
    parts = list(msg.iter_attachments())
    assert [p.get_filename() for p in parts] == NAMES
    for part in parts:
        payload = part.get_content()
        assert payload == (folder / str(part.get_filename())).read_bytes()
    body = msg.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    for fragment in (
        f"“{PROJECT}”项目支出绩效自评",
        f"项目：{PROJECT}",
        f"主管部门：{DEP}",
        "97.60",
        "优",
        *NAMES,
    ):
        assert fragment in text


def test_an_eml_draft_of_a_project_package(tmp_path: Path) -> None:
    path = project_wb(tmp_path / "work")
    eml = tmp_path / "报送.eml"
    result = invoke("submit", path, "--eml", eml, "--to", TO)
    assert result.exit_code == 0, result.output
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    assert PROJECT in str(msg["Subject"])
    assert [p.get_filename() for p in msg.iter_attachments()] == NAMES
    # the folder is a package like any: submit sends it as it is
    package = PackageResult.load(path.parent / FOLDER)
    assert (package.form, package.project, package.department) == ("project", PROJECT, DEP)


def test_a_project_form_with_errors_is_refused_unless_forced(plain_server: Server, tmp_path: Path) -> None:
    ev = anhui()
    ev.project.department = DEP
    path = project_wb(tmp_path / "work", ev, "委托业务.xlsx")
    result = invoke("submit", path, env=smtp_env(plain_server.port))
    assert result.exit_code == 1, result.output
    assert "拒绝报送" in result.output and "J03" in result.output and "--force" in result.output
    assert not any(p.name.startswith("报送包") for p in path.parent.iterdir())
    assert plain_server.recorder.messages == []
    with pytest.raises(BlockingFindingsError) as refused:
        export_package(path)
    assert {f.code for f in refused.value.findings} >= {"J03", "J20"}

    reason = "年度资金总额行按主管部门口径待财政确认"
    result = invoke("submit", path, "--force", "--reason", reason, env=smtp_env(plain_server.port))
    assert result.exit_code == 0, result.output
    manifest = json.loads(
        next((path.parent / "报送包_委托业务_2022").glob("*_manifest.json")).read_text("utf-8")
    )
    assert manifest["forced"] is True and manifest["reason"] == reason
    assert {f["code"] for f in manifest["blocking_findings"]} >= {"J03", "J20"}
    [msg] = plain_server.recorder.parsed()
    assert reason in str(msg.get_body(("plain",)).get_content())  # type: ignore[union-attr]


# ------------------------------------------------------------------ the frozen workbook


def with_formulas(path: Path, target: Path) -> Path:
    """The form as a clerk may have it: a formula in a 定量 row's 得分 (the scored copy keeps it, the
    freeze must not) with the result Excel stored, the 得分合计 as =SUM over the rows, and a cell of
    their own on another sheet."""
    wb = openpyxl.load_workbook(path)
    where = cells_of(path)
    sheet, score = where["rows[0].score"]
    ws = wb[sheet]
    weight = where["rows[0].weight"][1]
    ws[score] = f"={weight}*0.5+25"
    first, last = where["rows[0].score"][1], where["rows[2].score"][1]
    ws[where["claimed_total"][1]] = f"=SUM({first}:{last})+{where['funds.score'][1]}"
    wb.create_sheet("测算")["A1"] = "=1+2"
    wb.save(target)
    # Excel's cached results, as a saved workbook has them (openpyxl writes none)
    cached = {f"{weight}*0.5+25": "50", f"SUM({first}:{last})+{where['funds.score'][1]}": "97.6"}
    data = target.read_bytes()
    with (
        zipfile.ZipFile(target.with_suffix(".tmp"), "w", zipfile.ZIP_DEFLATED) as out,
        zipfile.ZipFile(io.BytesIO(data)) as z,
    ):
        for item in z.infolist():
            body = z.read(item)
            for formula, value in cached.items():
                body = body.replace(
                    f"<f>{formula}</f><v></v>".encode(), f"<f>{formula}</f><v>{value}</v>".encode()
                )
            out.writestr(item, body)
    target.with_suffix(".tmp").replace(target)
    return target


def test_the_frozen_project_workbook(tmp_path: Path) -> None:
    source = with_formulas(project_wb(tmp_path / "work"), tmp_path / "work" / "公式.xlsx")
    assert formulas(source)  # control: the input has formulas (the template's live 执行率 and ours)
    before = sha256(source.read_bytes())
    package = export_package(source, operator="王五")
    assert sha256(source.read_bytes()) == before
    frozen = package.workbook
    assert frozen.name == NAMES[0]
    assert formulas(frozen) == []
    with zipfile.ZipFile(frozen) as z:
        assert not any("vba" in n.lower() or "calcChain" in n for n in z.namelist())

    wb = openpyxl.load_workbook(frozen)
    assert wb.sheetnames[:3] == ["评分结果", "校验结果", "自评报告"] and wb.active.title == "评分结果"
    assert "填表说明" not in wb.sheetnames
    for ws in wb.worksheets:
        assert ws.protection.sheet is True and not ws.protection.password, ws.title
    assert wb["_xlperf"].sheet_state == "veryHidden"

    # the 执行率 is the core's; the clerk's formulas are computed as their Excel computes them, seeing
    # the scores the scored copy puts into the empty 得分 cells (SUM over 50 + 30 + 10, plus 7.6)
    where = cells_of(source)
    form = wb[where["funds.rate"][0]]
    assert form[where["funds.rate"][1]].value == pytest.approx(0.76)
    assert form[where["funds.score"][1]].value == pytest.approx(7.6)
    assert form[where["rows[0].score"][1]].value == 50
    assert form[where["rows[1].score"][1]].value == 30
    assert form[where["claimed_total"][1]].value == pytest.approx(97.6)
    assert form[where["claimed_rating"][1]].value == "优"
    assert wb["测算"]["A1"].value == 3
    report = package.manifest_data["freeze"]
    assert report["flagged"] == [] and report["cached"] == []
    assert report["by_core"] == 1 and report["evaluated"] >= 5

    props = {p.name: p.value for p in wb.custom_doc_props}
    assert props["xlperf.form"] == "project" and props["xlperf.core.framework"] == "national-project"
    assert props["xlperf.input_sha256"] == before and props["xlperf.total"] == "97.60"
    assert wb.properties.title == f"{PROJECT}（{DEP}） 2022 年度项目支出绩效自评（报送版）"
    fills = [
        f"{ws.title}!{c.coordinate}"
        for ws in wb.worksheets
        for r in ws.iter_rows()
        for c in r
        if c.fill.fill_type == "solid" and str(c.fill.fgColor.rgb or "").upper().endswith("FFF2CC")
    ]
    assert fills == []  # a record, not a form: no yellow input tint

    # the second reader sees the same numbers and no error value
    sheets = calamine_sheets(frozen)
    assert error_cells(sheets) == []
    [total] = [r for r in sheets["评分结果"] if r and r[0] == "总分"]
    assert total[1] == pytest.approx(97.6)

    # what the bureau re-scores: the frozen workbook reads as the same project, same score
    again = load_any(frozen)
    assert isinstance(again, ProjectLoaded)
    result = assess(again)
    assert float(result.total) == 97.6 and not result.errors
    assert again.evaluation.project.name == PROJECT


def test_a_forced_package_re_scores_to_the_same_findings(tmp_path: Path) -> None:
    """What the clerk typed is their claim: the 报送 form keeps it (flagged), so the bureau's re-score
    of the frozen workbook finds what the clerk's did (the 安徽 table: 执行率 and its 得分 typed 0)."""
    ev = anhui()
    ev.project.department = DEP
    path = project_wb(tmp_path / "work", ev, "委托业务.xlsx")
    package = export_package(path, force=True, reason="合计行待确认")
    original = assess(load_any(path))
    again = assess(load_any(package.workbook))
    assert sorted(f.code for f in again.errors) == sorted(f.code for f in original.errors)
    assert "J04" in {f.code for f in again.errors}
    assert package.manifest_data["errors"] == len(again.errors) and again.total == original.total
    where = cells_of(path)
    form = openpyxl.load_workbook(package.workbook)[where["funds.score"][0]]
    assert form[where["funds.score"][1]].value == 0  # typed 0, kept; 评分结果 says 10
    assert form[where["claimed_total"][1]].value == 90  # left empty: the core's


def test_a_project_json_is_packaged_in_the_standard_form(tmp_path: Path) -> None:
    path = tmp_path / "融媒体.json"
    path.write_text(chongqing().model_dump_json(), encoding="utf-8")
    package = export_package(path)
    assert package.manifest_data["form"] == "project" and package.total == 97.6
    assert formulas(package.workbook) == []
    wb = openpyxl.load_workbook(package.workbook)
    assert "项目支出绩效自评表" in wb.sheetnames


def test_a_department_manifest_says_its_form(tmp_path: Path) -> None:
    """The department path is unchanged but for the new key: ``form`` is ``department``."""
    src = tmp_path / "部门.xlsx"
    assert invoke("example", "-o", src).exit_code == 0
    package = export_package(src, force=True, reason="示例")
    assert package.manifest_data["form"] == "department" and package.form == "department"
    assert package.project == "" and package.workbook.name.endswith("_部门整体支出绩效自评.xlsx")


@pytest.mark.slow
def test_the_frozen_project_workbook_in_libreoffice(tmp_path: Path) -> None:
    package = export_package(project_wb(tmp_path / "work"))
    copy = tmp_path / "frozen.xlsx"
    shutil.copy(package.workbook, copy)
    xlsx = convert(copy, "xlsx", tmp_path / "lo", tmp_path / "profile")
    sheets = calamine_sheets(xlsx)
    assert error_cells(sheets) == []
    form: list[list[Any]] = sheets["项目支出绩效自评表"]
    flat = [v for r in form for v in r]
    assert 0.76 in [pytest.approx(v) for v in flat if isinstance(v, float)]
    assert "优" in flat
