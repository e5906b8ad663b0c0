"""Grade names and rating are the framework's: any 完成等级 names, any rating names and count, or no
rating at all (湖北 "可以不评级"), from the blank workbook's dropdown to the score card, the report,
the .docx, 汇总 and the add-in's functions — nothing falls back to 完成/基本完成/… or 优/良/中/差.

Totals come from tests/framework_calc.py (a calculator written for the tests, checked here against
the published seed), never from xlperf's output.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import zipfile
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import SEED_RATING, SEED_TOTAL
from framework_calc import expected
from framework_cases import (
    GUANGZHOU_TOML,
    HUBEI_GRADES,
    HUBEI_LIKE,
    HUBEI_LIKE_TOML,
    hubei_like_evaluation,
)
from python_calamine import CalamineWorkbook

from xlperf.cli import main
from xlperf.core import evaluate
from xlperf.core.framework import NO_RATING, FrameworkError, parse_framework
from xlperf.examples import example_evaluation
from xlperf.workbook import layout as L
from xlperf.workbook.template import build_workbook, save_workbook

GUANGZHOU_GRADES = ("完成", "基本完成", "部分完成", "未完成")
GUANGZHOU_RATINGS = ("优", "良", "中", "差")


def test_the_test_calculator_reproduces_the_published_seed() -> None:
    got = expected(GUANGZHOU_TOML, example_evaluation())
    assert got.total == Decimal(str(SEED_TOTAL)) and got.rating == SEED_RATING


@pytest.fixture()
def hubei(tmp_path: Path) -> Path:
    path = tmp_path / "hubei.toml"
    path.write_text(HUBEI_LIKE_TOML, encoding="utf-8")
    return path


def _texts(path: Path, sheets: tuple[str, ...]) -> str:
    wb = openpyxl.load_workbook(path)
    return "\n".join(
        str(c.value) for title in sheets for row in wb[title].iter_rows() for c in row if c.value is not None
    )


def _docx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return re.sub(r"<[^>]+>", "", z.read("word/document.xml").decode("utf-8"))


def test_the_blank_workbook_offers_the_framework_s_grades(hubei: Path, tmp_path: Path) -> None:
    blank = tmp_path / "blank.xlsx"
    made = CliRunner().invoke(main, ["new", "-o", str(blank), "--framework", str(hubei)])
    assert made.exit_code == 0, made.output
    wb = openpyxl.load_workbook(blank)
    ref = wb.defined_names["xp_list_grade"].attr_text.split("!")[1].replace("$", "")
    listed = [c.value for row in wb[L.HIDDEN][ref] for c in row]
    assert listed == list(dict.fromkeys(HUBEI_GRADES.values()))
    # a second reader sees the same list on the very hidden sheet
    rows = CalamineWorkbook.from_path(str(blank)).get_sheet_by_name(L.HIDDEN).to_python()
    assert all(any(g in [str(v) for v in row] for row in rows) for g in listed)
    # the 完成等级 column's note and the 填表说明 name these grades, never the default ones
    header = next(c for c in wb[L.OUTPUTS][4] if c.value == "完成等级")
    assert header.comment is not None and "达成预期指标/" in header.comment.text
    readme = _texts(blank, (L.README, L.BASIC))
    assert "部分达成预期指标并具有一定效果 65%" in readme
    assert "不评级" in readme and not re.search(r"基本完成|(?<!未)完成 100%", readme)
    assert not any(f"{r}（" in readme for r in GUANGZHOU_RATINGS)


def test_no_rating_and_own_grades_through_every_command(hubei: Path, tmp_path: Path) -> None:
    ev = hubei_like_evaluation()
    want = expected(HUBEI_LIKE_TOML, ev)
    assert want.rating == ""  # the calculator's "no rating"
    fw = parse_framework(HUBEI_LIKE_TOML, "t")
    filled = save_workbook(build_workbook(fw, ev), tmp_path / "湖北测试局_2024.xlsx")

    card_path, scored, docx = tmp_path / "card.json", tmp_path / "scored.xlsx", tmp_path / "r.docx"
    ran = CliRunner().invoke(
        main,
        ["run", str(filled), "-o", str(scored), "--json", str(card_path), "--docx", str(docx)],
        terminal_width=100,
    )
    assert ran.exit_code == 0, ran.output
    card = json.loads(card_path.read_text(encoding="utf-8"))
    assert Decimal(str(card["total"])) == want.total
    assert card["rating"] == NO_RATING and card["rating_names"] == []
    assert card["sections"]["outputs"] == float(want.sections["outputs"])
    assert not [f for f in card["findings"] if f["code"] in ("V41", "V42", "P01", "V10")]
    assert f"{want.total}（{NO_RATING}）" in ran.output

    summary = _texts(scored, (L.SCORES, L.REPORT))
    report = _texts(scored, (L.REPORT,))
    assert NO_RATING in summary
    assert f"自评得分为{want.total}分（评分规则不评定等级）" in report
    assert "部分达成预期指标并具有一定效果" in report  # a 定性 row below 100 % names its grade
    text = _docx_text(docx)
    assert f"自评得分为{want.total}分（评分规则不评定等级）" in text
    for out in (summary, text, ran.output):
        assert "自评结果为" not in out
        assert not re.search(r"[“（](优|良|中|差)[”）]", out), out
        assert not re.search(r"基本完成|部分完成|未完成", out)

    # report, submit (the frozen copy re-scores the same), batch with 汇总
    reported = CliRunner().invoke(main, ["report", str(filled), "-o", str(tmp_path / "r2.docx")])
    assert reported.exit_code == 0 and NO_RATING in reported.output, reported.output
    out = tmp_path / "报送"
    sent = CliRunner().invoke(
        main,
        [
            "submit",
            str(filled),
            "-o",
            str(out),
            "--eml",
            str(tmp_path / "d.eml"),
            "--to",
            "czj@example.cn",
            "--from",
            "hb@example.cn",
        ],
    )
    assert sent.exit_code == 0, sent.output
    manifest = json.loads(next(out.glob("*manifest.json")).read_text(encoding="utf-8"))
    assert manifest["rating"] == NO_RATING and Decimal(str(manifest["total"])) == want.total
    draft = email.message_from_bytes((tmp_path / "d.eml").read_bytes(), policy=email.policy.default)
    assert isinstance(draft, EmailMessage)
    body = draft.get_body(("plain",))
    assert body is not None and f"自评等级：{NO_RATING}" in body.get_content()
    # the mail names the rules that scored it, as the manifest records them
    assert f"评分框架：{fw.name}（{HUBEI_LIKE}，校验值 {fw.sha256[:8]}）" in body.get_content()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / filled.name).write_bytes(filled.read_bytes())
    batch = tmp_path / "batch"
    done = CliRunner().invoke(main, ["batch", str(folder), "-o", str(batch), "-j", "1"])
    assert done.exit_code == 0, done.output
    book = openpyxl.load_workbook(batch / "汇总.xlsx")
    head = [c.value for c in book["汇总"][1]]
    [row] = [dict(zip(head, (c.value for c in r), strict=False)) for r in book["汇总"].iter_rows(min_row=2)]
    assert row["等级"] == NO_RATING and Decimal(str(row["总分"])) == want.total
    spread = [r[0] for r in book["等级分布"].iter_rows(min_row=2, values_only=True)]
    assert not set(GUANGZHOU_RATINGS) & set(spread), spread


def test_a_grade_of_other_rules_is_a_finding_naming_these_grades(hubei: Path, tmp_path: Path) -> None:
    fw = parse_framework(HUBEI_LIKE_TOML, "t")
    ev = hubei_like_evaluation()
    qual = next(i for i, r in enumerate(ev.outputs) if r.grade)
    # in a workbook: typed into the 完成等级 cell, it cannot be read (P01), and the message offers the list
    path = save_workbook(build_workbook(fw, ev), tmp_path / "typed.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb[L.OUTPUTS]
    col = next(c.column for c in ws[4] if c.value == "完成等级")
    ws.cell(row=5 + qual, column=col).value = "基本完成"
    wb.save(path)
    card_path = tmp_path / "c.json"
    res = CliRunner().invoke(main, ["check", str(path), "--json", str(card_path)])
    assert res.exit_code == 1 and "内部错误" not in res.output, res.output
    card = json.loads(card_path.read_text(encoding="utf-8"))
    p01 = [f for f in card["findings"] if f["code"] == "P01" and f["path"] == f"outputs[{qual}].grade"]
    assert p01 and "达成预期指标/部分达成预期指标并具有一定效果/未达成预期指标且效果较差" in p01[0]["message"]
    # from a JSON: scored as not completed with a V10 that names the grades, never a KeyError
    ev.outputs[qual].grade = "完成"
    result = evaluate(ev, fw, [])
    v10 = [f for f in result.findings if f.code == "V10" and f.path == f"outputs[{qual}].grade"]
    assert v10 and "不是本评分框架的等级" in v10[0].message and "达成预期指标" in v10[0].message
    data = tmp_path / "dept.json"
    data.write_text(ev.model_dump_json(), encoding="utf-8")
    res = CliRunner().invoke(main, ["check", str(data), "--framework", str(tmp_path / "hubei.toml")])
    assert res.exit_code == 1 and "不是本评分框架的等级" in res.output and "内部错误" not in res.output


def test_a_rating_typed_by_the_clerk_under_rules_that_do_not_rate_is_v41() -> None:
    fw = parse_framework(HUBEI_LIKE_TOML, "t")
    ev = hubei_like_evaluation()
    ev.claims.rating = "优"
    [v41] = [f for f in evaluate(ev, fw, []).findings if f.code == "V41"]
    assert "不评级" in v41.message and "清空" in v41.message


@pytest.mark.parametrize(
    ("edit", "expected_words"),
    [
        (("bands = []", 'bands = [{ name = "不评级", min = 0 }]'), "bands = []"),
        (("bands = []", 'bands = [{ name = "优秀", min = 80 }]'), "最低一档的下限应为 0"),
        (('"达成预期指标" = 1', '"达成 预期" = 1'), "请写作“达成预期”"),
        (('"达成预期指标" = 1', '"=达成" = 1'), "不能以 = + - @ 开头"),
        (('"达成预期指标" = 1', '"达成预期指标达成预期指标达成预期的" = 1'), "超过 16 个字"),
        (('id = "output"', 'id = "outputs"'), "与一个指标的编号相同"),
    ],
)
def test_names_a_dropdown_and_a_score_card_cannot_carry_are_refused(
    edit: tuple[str, str], expected_words: str
) -> None:
    with pytest.raises(FrameworkError) as info:
        parse_framework(HUBEI_LIKE_TOML.replace(*edit, 1), "t.toml")
    assert any(expected_words in p for p in info.value.problems), info.value.problems


def test_any_grade_names_and_an_empty_grade_table(tmp_path: Path) -> None:
    text = HUBEI_LIKE_TOML.replace(f'id = "{HUBEI_LIKE}"', 'id = "g"')
    two = re.sub(r"grades = \{.*\}", 'grades = { "A级" = 1, "C级" = 0.5 }', text)
    assert parse_framework(two, "t").grade_names() == ("A级", "C级")
    with pytest.raises(FrameworkError, match="至少要有一个完成等级"):
        parse_framework(re.sub(r"grades = \{.*\}", "grades = {}", text), "t")


MIXED = """
id = "mixed"
name = "测试框架（比率与月均执行率同组）"
total = 5
[rating]
bands = []
[completion]
grades = { "达成" = 1 }
[ratios]
exec = { name = "执行率", numerator = ["executed"], denominator = ["total_budget"] }
[[sections]]
id = "s1"
name = "预算执行"
full = 5
[[sections.indicators]]
id = "K1"
group = "执行"
name = "执行率控制"
full = 3
rule = "ratio_threshold"
ratio = "exec"
limit = "min"
threshold = 90
per_point = 0.1
[[sections.indicators]]
id = "spend"
group = "执行"
name = "月均执行率"
full = 2
rule = "monthly_mean"
"""


def test_one_indicator_s_ratio_is_not_read_in_the_next_one_s_paragraph(tmp_path: Path) -> None:
    """V42 reads back a ratio from its indicator's own paragraphs: the monthly mean's "执行率0%" that
    follows is not this indicator's 执行率 (it was: a false V42 error)."""
    from xlperf.core.evaluation import Evaluation, ManagementEntry

    ev = Evaluation(framework="mixed")
    ev.department.name, ev.department.year = "测试部门", 2024
    ev.budget.total_budget, ev.budget.executed = Decimal(100), Decimal(95)
    ev.spending.annual_mean = Decimal(0)
    ev.management = [ManagementEntry(indicator="K1", evidence="按月监控执行进度。")]
    result = evaluate(ev, parse_framework(MIXED, "t"), [])
    assert not [f.message for f in result.findings if f.code == "V42"]
    assert result.total == Decimal(3)  # 95 % ≥ 90 %: 3; an annual mean of 0: 0
    # 预算执行率 is a fact of 收支情况 even when the rules name no such ratio
    assert result.ratios["budget_execution"] == Decimal("95.00")
    assert any("预算执行率95%" in p.text for p in result.report.paragraphs)


def test_rules_with_nothing_to_answer_on_the_management_sheet_make_a_workbook(tmp_path: Path) -> None:
    only_months = (
        re.sub(r"\[\[sections.indicators\]\]\nid = \"K1\".*?per_point = 0.1\n", "", MIXED, flags=re.S)
        .replace("total = 5", "total = 2")
        .replace("full = 5", "full = 2")
    )
    path = tmp_path / "m.toml"
    path.write_text(only_months, encoding="utf-8")
    blank = tmp_path / "b.xlsx"
    made = CliRunner().invoke(main, ["new", "-o", str(blank), "--framework", str(path)])
    assert made.exit_code == 0 and "内部错误" not in made.output, made.output
    checked = CliRunner().invoke(main, ["check", str(blank)])
    assert checked.exit_code == 1 and "内部错误" not in checked.output, checked.output


def test_a_receipt_names_the_rules_the_bureau_re_scored_by() -> None:
    from xlperf.intake.ledger import Entry
    from xlperf.intake.receipt import receipt_text

    fields = {f: "" for f in Entry.__dataclass_fields__}
    fields.update(
        status="有效",
        reason="文件与清单一致",
        received="2025-03-01T09:00:00",
        department="湖北测试局",
        year=2024,
        outcome={"total": 91.48, "rating": NO_RATING, "framework": "hubei-like-test（0123abcd）"},
    )
    entry = Entry(**{k: v for k, v in fields.items() if k in Entry.__dataclass_fields__})
    _, body = receipt_text(entry)
    assert f"评价等级：{NO_RATING}" in body and "评分框架：hubei-like-test（0123abcd）" in body
