"""Issue 25: a clerk's workbook made from any template this repository ever shipped still works.

Every version of ``workbook_templates/部门整体支出绩效自评表.xlsx`` in the history is kept under
tests/shipped_templates/ (``python scripts/shipped_templates.py``). Each is filled like a clerk fills
it (tests/clerk.py) with the seed — plus the reasons the published report leaves out, so it has no
error — and taken through ``check`` (no R01, every finding with its sheet; an older template's
missing optional fields are one 提醒), ``upgrade`` (everything placed; the new workbook reads as the
old one did, is the current template and embeds the old rules), ``run`` (the seed's total from
docs/DOMAIN.md §2) and ``submit`` (a package without --force, from the old and the new workbook).
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from clerk import fill_like_a_clerk
from click.testing import CliRunner
from conftest import ROOT, SEED_SECTIONS, SEED_TOTAL

from xlperf.cli import main
from xlperf.core import evaluate
from xlperf.core.evaluation import Evaluation
from xlperf.core.framework import get_framework
from xlperf.pipeline import assess, load_input, upgrade_workbook
from xlperf.workbook import layout as L

SHIPPED = sorted((ROOT / "tests" / "shipped_templates").glob("v*.xlsx"))
#: the fields the first templates did not have (added in b050cb3, 2026-12-01): all 可不填
ADDED_LATER = {
    "下属单位数量",
    "编制人数",
    "实有在职人数",
    "评价单位（公章位置）",
    "填报人",
    "联系电话",
    "填报日期",
    "评价通知文号",
}
#: the oldest and the newest run in the fast lane, the rest with the slow tests
FAST = {SHIPPED[0].name, SHIPPED[-1].name}


def test_every_shipped_template_is_kept() -> None:
    assert len(SHIPPED) >= 13
    assert SHIPPED[0].name.startswith("v01_2026-11-28_82157ff")


@pytest.fixture(scope="module")
def clerk_evaluation() -> Evaluation:
    """The seed as a careful clerk completes it: the reasons V12/V13 ask for, and the header."""
    seed = Evaluation.load(ROOT / "xlperf" / "data" / "example_baiyun_2023.json")
    data = seed.model_dump(mode="json")
    result = evaluate(seed, get_framework(seed.framework))
    for f in result.errors:
        section, rest = f.path.split("[", 1)
        index, attr = rest.split("].", 1)
        assert attr in ("excess_reason", "shortfall_reason"), f
        data[section][int(index)][attr] = (
            "目标设置偏保守" if attr == "excess_reason" else "受场地改造影响延期"
        )
    data["department"].update(preparer="张敏", phone="020-86000000", notice_no="白财绩〔2024〕5号")
    return Evaluation.model_validate(data)


def _marks(path: Path) -> list[pytest.MarkDecorator]:
    return [] if path.name in FAST else [pytest.mark.slow]


@pytest.mark.parametrize("template", [pytest.param(p, id=p.stem[:3], marks=_marks(p)) for p in SHIPPED])
def test_a_shipped_template_filled_by_a_clerk_checks_upgrades_runs_and_submits(
    template: Path, clerk_evaluation: Evaluation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XLPERF_HOME", str(tmp_path / "home"))
    old = fill_like_a_clerk(template, clerk_evaluation, tmp_path / "old" / "白云区科工商信局_2023.xlsx")
    lacks = {f.label for f in L.all_fields() if f.name not in openpyxl.load_workbook(template).defined_names}

    # check: no error, no finding without its sheet; what an old template lacks is one 提醒
    loaded = load_input(old)
    result = assess(loaded)
    assert not result.errors, result.errors
    assert all(f.sheet for f in result.findings), [f for f in result.findings if not f.sheet]
    notes = [f for f in result.findings if f.code[0] == "R"]
    if lacks:
        assert lacks == ADDED_LATER
        [note] = notes
        assert note.code == "R02" and note.sheet == L.BASIC and "xlperf upgrade" in note.message
        assert all(label in note.message for label in lacks)
    else:
        assert notes == []
        assert loaded.evaluation.department.preparer == "张敏"
    assert float(result.total) == SEED_TOTAL
    run = CliRunner().invoke(main, ["check", str(old)])
    assert run.exit_code == 0, run.output
    assert "department" not in run.output  # 位置 names a sheet, never a model path

    # upgrade: everything placed, read back the same, the current template with the old rules
    new = tmp_path / "new" / "白云区科工商信局_2023.xlsx"
    new.parent.mkdir()
    report = upgrade_workbook(old, new)
    assert report.unplaced == [], report.lines()
    assert set(report.added) == lacks
    again = load_input(new)
    assert again.evaluation.model_dump() == loaded.evaluation.model_dump()
    assert [f for f in assess(again).findings if f.code[0] == "R"] == []
    book = openpyxl.load_workbook(new)
    version = next(iter(book.defined_names["xp_template_version"].destinations))
    assert book[version[0]][version[1].replace("$", "")].value == L.TEMPLATE_VERSION
    assert again.source.own_framework.sha256 == loaded.source.own_framework.sha256

    # run and submit, the old workbook and the new one
    for workbook in (old, new):
        scored = workbook.with_name("scored.xlsx")
        out = tmp_path / f"{workbook.parent.name}.json"
        run = CliRunner().invoke(main, ["run", str(workbook), "-o", str(scored), "--json", str(out)])
        assert run.exit_code == 0, run.output
        card = json.loads(out.read_text(encoding="utf-8"))
        assert card["total"] == SEED_TOTAL and card["sections"] == SEED_SECTIONS
        from xlperf.submission.package import export_package

        package = export_package(workbook)
        assert package.manifest_data["total"] == SEED_TOTAL and not package.manifest_data["forced"]


def test_what_has_no_place_is_listed_by_sheet_and_cell(clerk_evaluation: Evaluation, tmp_path: Path) -> None:
    """A note beside the form, an extra column, an extra sheet, a formula input and a renamed sheet."""
    old = fill_like_a_clerk(SHIPPED[0], clerk_evaluation, tmp_path / "old.xlsx")
    wb = openpyxl.load_workbook(old)
    wb[L.BASIC]["E5"] = "请王科长复核"
    outputs = wb[L.OUTPUTS]
    outputs.tables["tbl_outputs"].ref = outputs.tables["tbl_outputs"].ref.replace("R", "S", 1)
    outputs["S4"] = "备注"
    outputs["S6"] = "已与业务科室核对"
    outputs.title = "产出指标（定稿）"
    wb.create_sheet("附件1")["A1"] = "佐证材料清单"
    wb[L.BUDGET]["B6"] = "=B5-B7"  # 本年收入 as a formula (its cached result comes from LibreOffice)
    wb.save(old)
    from office import convert

    recalculated = convert(old, "xlsx", tmp_path / "lo", tmp_path / "profile")  # Excel would save a result

    run = CliRunner().invoke(main, ["check", str(recalculated)])
    assert "R01" not in run.output and "产出指标（定稿）" in run.output, run.output

    new = tmp_path / "new.xlsx"
    report = upgrade_workbook(recalculated, new)
    text = "\n".join(report.lines())
    assert "基本信息!E5“请王科长复核”不在填写区" in text
    assert "“备注”列不是当前模板的列，其中 1 个单元格" in text and "产出指标（定稿）!S6" in text
    assert "工作表“附件1”不是标准模板的一部分" in text
    assert "收支情况!B6 的公式“=B5-B7”已换为其计算结果" in text
    assert "“产出指标”的表格在原表的“产出指标（定稿）”工作表上找到" in text
    assert "读取结果与原表不同" not in text
    again = load_input(new)
    assert [r.name for r in again.evaluation.outputs] == [r.name for r in clerk_evaluation.outputs]
    assert again.evaluation.budget.income_current == clerk_evaluation.budget.income_current


def test_upgrade_on_the_command_line(clerk_evaluation: Evaluation, tmp_path: Path) -> None:
    old = fill_like_a_clerk(SHIPPED[0], clerk_evaluation, tmp_path / "部门.xlsx")
    run = CliRunner().invoke(main, ["upgrade", str(old)])
    assert run.exit_code == 0, run.output
    assert (tmp_path / "部门_新模板.xlsx").is_file()
    assert "原表为模板版本 1" in run.output and "填报人" in run.output and "已全部迁移" in run.output
    again = CliRunner().invoke(main, ["upgrade", str(old)])
    assert again.exit_code == 2 and "已存在" in again.output  # a filled-in workbook is never overwritten
    onto_itself = CliRunner().invoke(main, ["upgrade", str(old), "-o", str(old), "--force"])
    assert onto_itself.exit_code == 2
