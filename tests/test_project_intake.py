"""xlperf intake of project packages (issue 27), through the real servers of tests/test_intake.py:
``xlperf submit`` of 项目支出绩效自评表 → aiosmtpd → IMAP APPEND into a real Dovecot → ``xlperf intake
imaps://…``. A department's own 部门整体 submission arrives in the same mailbox: the two forms are
taken in apart — filed apart, current apart, summarised apart (汇总 / 项目自评汇总), never ranked
together.

Figures: 融媒体运行 is the 重庆 arithmetic (76 % → 7.6, total 97.6); 便民服务站 builds 10 of 12
service stations on a 15-point row (10 ÷ 12 × 15 = 12.5) → 97.5; both 优 (national bands).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import Result
from imap_server import Imap, run_dovecot
from smtp_servers import Server, run_controller
from test_intake import (
    SENDERS,
    attachments,
    department,
    env_for,
    invoke,
    ledger,
    manifest_name,
    parse,
    remail,
    sheet,
    submit,
)
from test_project_core import anhui, funds, info, row
from test_project_submit import chongqing
from test_submit import clean_evaluation

from xlperf.core.framework import get_framework
from xlperf.core.project.evaluation import ProjectEvaluation
from xlperf.core.project.framework import get_project_framework
from xlperf.intake.ledger import Entry
from xlperf.intake.receipt import receipt_text
from xlperf.intake.verify import compare_identity
from xlperf.project.template import build_project_workbook
from xlperf.workbook.template import build_workbook, save_workbook

pytestmark = pytest.mark.slow
FW = get_project_framework("national-project")
JIA = department("甲局")
YI = department("乙局")


@pytest.fixture(scope="module")
def smtp() -> Iterator[Server]:
    yield from run_controller()


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Imap]:
    yield from run_dovecot()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


def media(dep: str = JIA) -> ProjectEvaluation:
    ev = chongqing()
    ev.project.department = dep
    return ev


def stations(dep: str = JIA) -> ProjectEvaluation:
    ev = ProjectEvaluation(
        project=info("便民服务站", 2022),
        funds=funds("100", "100"),
        rows=[
            row("产出指标", "新建服务站", "≥12个", "10个", "15", reason="两个站点选址调整"),
            row("产出指标", "验收合格率", "≥100%", "100%", "35"),
            row("效益指标", "服务人次", "≥5000人次", "5000人次", "30"),
            row("满意度指标", "满意度", "≥90%", "92%", "10"),
        ],
    )
    ev.project.department = dep
    return ev


def forged(raw: bytes, sender: str, subject: str, **fields: Any) -> bytes:
    files = attachments(raw)
    name = manifest_name(files)
    manifest = json.loads(files[name])
    manifest.update(fields)
    files[name] = json.dumps(manifest, ensure_ascii=False).encode()
    return remail(files, sender, subject)


@pytest.fixture(scope="module")
def mail(smtp: Server, home: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    work = tmp_path_factory.mktemp("projects")
    msgs: dict[str, bytes] = {}
    ev = clean_evaluation()
    ev.department.name, ev.department.short_name = JIA, "甲局"
    own = save_workbook(build_workbook(get_framework("guangzhou-2023"), ev), work / "甲局自评表.xlsx")
    msgs["甲部门整体"] = submit(own, "甲局", smtp, home)

    folder = work / "甲局项目"
    folder.mkdir()
    media_wb = folder / "融媒体.xlsx"
    build_project_workbook(FW, media()).save(media_wb)
    msgs["融媒体1"] = submit(media_wb, "甲局", smtp, home)
    stations_wb = folder / "服务站.xlsx"
    build_project_workbook(FW, stations()).save(stations_wb)
    msgs["服务站"] = submit(stations_wb, "甲局", smtp, home)
    entrusted = anhui()
    entrusted.project.department = JIA
    entrusted_wb = folder / "委托业务.xlsx"
    build_project_workbook(FW, entrusted).save(entrusted_wb)
    msgs["委托业务强制"] = submit(entrusted_wb, "甲局", smtp, home, "--force", "--reason", "合计行待确认")

    yi = work / "乙局项目"
    yi.mkdir()
    yi_wb = yi / "融媒体.xlsx"
    build_project_workbook(FW, media(YI)).save(yi_wb)
    yi_raw = submit(yi_wb, "乙局", smtp, home)
    msgs["乙改项目名称"] = forged(yi_raw, SENDERS["乙局"], "乙局项目（改名）", project="另一个项目")
    msgs["乙改清单总分"] = forged(yi_raw, SENDERS["乙局"], "乙局项目（改总分）", total=99.0)
    msgs["乙改称部门表"] = forged(yi_raw, SENDERS["乙局"], "乙局项目（称部门表）", form="department")

    time.sleep(1.1)  # a later Date: header
    again = media()
    again.goal_actual = "全年播出1000小时，覆盖12万人；补充了说明"
    build_project_workbook(FW, again).save(media_wb)
    msgs["融媒体2"] = submit(media_wb, "甲局", smtp, home, "--overwrite")
    return msgs


EXPECTED = {
    "甲部门整体": "有效",
    "融媒体1": "有效",
    "服务站": "有效",
    "委托业务强制": "有效",  # forced with its errors: re-scored to the same findings, so verified
    "乙改项目名称": "清单与工作簿不符",
    "乙改清单总分": "得分与重算不符",
    "乙改称部门表": "清单与工作簿不符",
    "融媒体2": "有效",
}


@pytest.fixture(scope="module")
def intake(
    dovecot: Imap, mail: dict[str, bytes], home: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Result]:
    dovecot.append(*mail.values())
    out = tmp_path_factory.mktemp("bureau") / "2022报送"
    res = invoke(
        ["intake", dovecot.url, "-o", out, "--imap-cafile", dovecot.cafile],
        env_for(home, XLPERF_IMAP_PASSWORD=dovecot.password),
    )
    return out, res


@pytest.fixture(scope="module")
def taken(intake: tuple[Path, Result], mail: dict[str, bytes]) -> dict[str, dict[str, Any]]:
    """Ledger rows by what the message is (by Message-ID)."""
    by_mid = {r["message_id"]: r for r in ledger(intake[0])}
    return {what: by_mid[str(parse(raw)["Message-ID"])] for what, raw in mail.items()}


def test_project_packages_are_verified_and_filed_apart(
    intake: tuple[Path, Result], taken: dict[str, dict[str, Any]]
) -> None:
    out, res = intake
    assert res.exit_code == 1, res.output  # the forged ones
    assert {k: r["status"] for k, r in taken.items()} == EXPECTED
    assert "项目自评汇总" in res.output
    first, second = taken["融媒体1"], taken["融媒体2"]
    assert (first["form"], first["project"], first["department"], first["year"]) == (
        "project",
        "融媒体运行",
        JIA,
        2022,
    )
    assert Path(second["folder"]).parts[:4] == ("2022", JIA, "项目", "融媒体运行")
    assert Path(taken["甲部门整体"]["folder"]).parts[:2] == ("2023", JIA)
    assert taken["甲部门整体"]["form"] == "department"
    filed = sorted(p.name for p in (out / second["folder"]).iterdir())
    assert "融媒体运行_2022_项目支出绩效自评.xlsx" in filed and "scorecard.json" in filed
    card = json.loads((out / second["folder"] / "scorecard.json").read_text(encoding="utf-8"))
    assert card["form"] == "project" and card["total"] == 97.6 and card["project"] == "融媒体运行"
    record = json.loads((out / second["folder"] / "intake.json").read_text(encoding="utf-8"))
    assert record["form"] == "project" and record["project"] == "融媒体运行"
    # the reasons say what differs
    assert "项目名称" in taken["乙改项目名称"]["reason"] and "另一个项目" in taken["乙改项目名称"]["reason"]
    assert "清单总分 99.0" in taken["乙改清单总分"]["reason"]
    assert "项目支出绩效自评表" in taken["乙改称部门表"]["reason"]
    assert "“另一个项目”" in (taken["乙改项目名称"]["claimed"] or "")


def test_current_is_per_department_project_and_year(taken: dict[str, dict[str, Any]]) -> None:
    first, second = taken["融媒体1"], taken["融媒体2"]
    assert first["superseded_by"] == second["key"] and second["superseded_by"] is None
    # another project of the same department, and the department's own 自评, are not superseded
    assert taken["服务站"]["superseded_by"] is None and taken["甲部门整体"]["superseded_by"] is None


def test_the_department_summary_holds_no_project(intake: tuple[Path, Result]) -> None:
    out, _ = intake
    assert [r["部门"] for r in sheet(out / "汇总.xlsx", "汇总")] == [JIA]
    assert [(r["部门"], r["总分"]) for r in sheet(out / "汇总.xlsx", "排名")] == [(JIA, 98.57)]
    log = sheet(out / "汇总.xlsx", "收件记录")
    assert len(log) == len(EXPECTED)
    assert {r["项目"] for r in log if r["状态"] == "有效"} == {None, "融媒体运行", "便民服务站", "委托业务"}


def test_the_project_summary_counts_current_valid_projects(intake: tuple[Path, Result]) -> None:
    out, _ = intake
    path = out / "项目自评汇总.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["部门汇总", "项目清单", "未得满分指标"]
    by_dep = {r["主管部门"]: r for r in sheet(path, "部门汇总")}
    jia = by_dep[JIA]
    assert (jia["项目数"], jia["已计分"]) == (3, 3)  # the superseded 融媒体运行 is not counted twice
    assert Decimal(str(jia["平均得分"])) == Decimal("95.03")  # (97.6 + 97.5 + 90) ÷ 3
    assert jia["等级分布"] == "优 3、良 0、中 0、差 0" and jia["有错误的项目"] == 1
    assert Decimal(str(jia["最低执行率（%）"])) == 76
    yi = by_dep[YI]  # its only current submission failed its checks: listed, not counted
    assert (yi["项目数"], yi["已计分"]) == (1, 0)
    projects = sheet(path, "项目清单")
    assert sorted((r["主管部门"], r["项目名称"], r["状态"]) for r in projects) == sorted(
        [
            (JIA, "便民服务站", "有效"),
            (JIA, "融媒体运行", "有效"),
            (JIA, "委托业务", "有效"),
            (YI, "融媒体运行", "清单与工作簿不符"),
        ]
    )
    assert all((out / r["文件"]).is_dir() for r in projects)  # the submission's folder
    links = [c.hyperlink.target for r in wb["项目清单"].iter_rows(min_row=2) for c in r if c.hyperlink]
    assert len(links) == 4 and all((out / link).is_file() for link in links)  # its filed workbook
    below = sheet(path, "未得满分指标")
    assert [(r["项目名称"], r["三级指标"], r["得分"], r["偏差原因分析及改进措施"]) for r in below] == [
        ("便民服务站", "新建服务站", 12.5, "两个站点选址调整")
    ]  # 委托业务's rows are at full marks; its 10 missing points are in its weights (J20)


def test_a_receipt_names_the_project(taken: dict[str, dict[str, Any]]) -> None:
    r = dict(taken["融媒体2"])
    r["outcome"] = json.loads(r["outcome"])
    entry = Entry(**{k: r[k] for k in Entry.__dataclass_fields__})
    subject, body = receipt_text(entry)
    assert subject == f"回执：{JIA} 2022 年度“融媒体运行”项目支出绩效自评——有效"
    assert "“融媒体运行”项目支出绩效自评报送邮件" in body and "97.60" in body


def test_a_manifest_of_another_form_than_its_workbook() -> None:
    """Without ``form`` a manifest states a department's (one written before issue 27)."""
    card = {"form": "project", "department": JIA, "project": "融媒体运行", "year": 2022}
    assert compare_identity({"department": JIA, "year": 2022}, card) == [
        "清单所称为部门整体支出绩效自评表，附件工作簿是项目支出绩效自评表"
    ]
    assert (
        compare_identity({"form": "project", "department": JIA, "project": "融媒体运行", "year": 2022}, card)
        == []
    )
