"""A workbook carries its rules: every command scores it by the framework it was made with.

The variant framework below differs from guangzhou-2023 on each axis a bureau edits: a third
section, fewer 管理效率 indicators, an indicator with four sub-items, other rating names and
bands, another excess threshold (exclusive), another year. Its expected total is derived from the
seed's published figures (docs/DOMAIN.md §2: 产出 18.79 of 20, 效益 19.78 of 20, 支出率 10 of 10,
every 管理效率 indicator in full) plus the four sub-items' points, never from xlperf's output.
"""

from __future__ import annotations

import json
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import SEED_RATING, SEED_TOTAL

from xlperf.catalog import by_id
from xlperf.cli import main
from xlperf.core.errors import InputError
from xlperf.core.evaluation import Answer, ManagementEntry
from xlperf.core.framework import FrameworkError, get_framework, load_framework, parse_framework
from xlperf.examples import example_evaluation
from xlperf.pipeline import assess, load_input
from xlperf.workbook import layout as L
from xlperf.workbook.template import build_workbook, save_workbook

GUANGZHOU = (Path(__file__).parents[1] / "xlperf" / "frameworks" / "guangzhou-2023.toml").read_text(
    encoding="utf-8"
)
DROPPED = ("M18", "M19", "M20", "M21", "M22")  # 2 points each: 管理效率 50 → 40

#: the variant's total by hand: 18.79 + 19.78 + 10 (docs/DOMAIN.md §2) + 40 (管理效率 in full) + 4 + 2
#: (S01: items of 4, 2, 2, 2 points answered 是/否/否/是). Losing the fourth answer would give 92.57.
VARIANT_TOTAL = 94.57


def variant_toml() -> str:
    text = GUANGZHOU.replace('id = "guangzhou-2023"', 'id = "variant-2024"')
    text = text.replace(
        'name = "广州市部门整体支出绩效自评（2023 年度）"', 'name = "测试市部门整体支出绩效自评（2024 年度）"'
    )
    text = text.replace("years = [2023]", "years = [2024]")
    text = text.replace('{ name = "优", min = 90 }', '{ name = "优秀", min = 92 }')
    text = text.replace('{ name = "良", min = 80 }', '{ name = "良好", min = 80 }')
    text = text.replace('{ name = "中", min = 60 }', '{ name = "合格", min = 60 }')
    text = text.replace('{ name = "差", min = 0 }', '{ name = "不合格", min = 0 }')
    text = text.replace("excess_threshold = 150", "excess_threshold = 120")
    text = text.replace("excess_inclusive = true", "excess_inclusive = false")
    # drop M18–M22 (the file's last five indicators)
    text = text[: text.index('[[sections.indicators]]\nid = "M18"')]
    text = text.replace(
        'id = "management"\nname = "管理效率"\nfull = 50', 'id = "management"\nname = "管理效率"\nfull = 40'
    )
    return (
        text
        + """
[[sections]]
id = "satisfaction"
name = "满意度"
full = 10

[[sections.indicators]]
id = "S01"
group = "满意度"
name = "服务对象满意度"
full = 10
rule = "checklist"
items = [
  { text = "开展了满意度调查", points = 4 },
  { text = "满意度达到 90%", points = 2 },
  { text = "调查结果已公开", points = 2 },
  { text = "针对意见制定了整改措施", points = 2 },
]
"""
    )


@pytest.fixture()
def variant(tmp_path: Path) -> Path:
    path = tmp_path / "variant.toml"
    path.write_text(variant_toml(), encoding="utf-8")
    return path


def _filled(fw_path: Path, out: Path) -> Path:
    fw = load_framework(fw_path)
    ev = example_evaluation()
    ev.department.year = 2024
    ev.management = [m for m in ev.management if m.indicator not in DROPPED]
    ev.management.append(
        ManagementEntry(
            indicator="S01",
            answers=[Answer.YES, Answer.NO, Answer.NO, Answer.YES],
            evidence="委托第三方开展满意度调查，结果已在门户网站公开。",
        )
    )
    ev = ev.model_copy(update={"framework": fw.id})
    save_workbook(build_workbook(fw, ev), out)
    return out


def _card(args: list[str], tmp_path: Path) -> dict:
    card = tmp_path / "card.json"
    result = CliRunner().invoke(main, [*args, "--json", str(card)], terminal_width=200)
    assert result.exit_code in (0, 1), result.output
    return json.loads(card.read_text(encoding="utf-8"))


def test_the_blank_workbook_carries_the_rules_and_follows_their_shape(variant: Path, tmp_path: Path) -> None:
    blank = tmp_path / "blank.xlsx"
    made = CliRunner().invoke(main, ["new", "-o", str(blank), "--framework", str(variant)])
    assert made.exit_code == 0, made.output
    fw = load_framework(variant)
    wb = openpyxl.load_workbook(blank)
    assert wb[L.HIDDEN].sheet_state == "veryHidden"
    cell = wb.defined_names["xp_framework_def"].attr_text.split("!")[1].replace("$", "")
    assert wb[L.HIDDEN][cell].value == fw.canonical()
    sha_cell = wb.defined_names["xp_framework_sha256"].attr_text.split("!")[1].replace("$", "")
    assert wb[L.HIDDEN][sha_cell].value == fw.sha256
    # the excess threshold is exclusive in this framework: 超过, never 以上
    assert "完成率超过120%的原因" in [c.value for c in wb[L.OUTPUTS][4]]
    headers = [c.value for c in wb[L.MANAGEMENT][4] if c.value]
    assert "子项4答复" in headers and "子项5答复" not in headers
    ids = [wb[L.MANAGEMENT].cell(row=r, column=1).value for r in range(5, 5 + 18)]
    assert ids[-1] == "S01" and not set(DROPPED) & set(ids)
    # a second reader sees the same embedded text (calamine reads the hidden sheet too)
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(blank)).get_sheet_by_name(L.HIDDEN).to_python()
    assert any(fw.canonical() in [str(v) for v in row] for row in rows)


def test_every_command_scores_by_the_embedded_rules(variant: Path, tmp_path: Path) -> None:
    filled = _filled(variant, tmp_path / "测试局_2024.xlsx")
    fw = load_framework(variant)
    card = _card(["check", str(filled)], tmp_path)
    assert card["total"] == VARIANT_TOTAL and card["rating"] == "优秀"
    assert card["framework"] == "variant-2024" and card["framework_sha256"] == fw.sha256
    assert {"duty", "management", "satisfaction"} <= set(card["sections"])
    assert not [f for f in card["findings"] if f["code"].startswith("F")]
    v13 = [f["message"] for f in card["findings"] if f["code"] == "V13"]
    assert v13 and all("超过 120%" in m and "以上" not in m for m in v13), v13

    scored = tmp_path / "scored.xlsx"
    card = _card(["run", str(filled), "-o", str(scored)], tmp_path)
    assert card["total"] == VARIANT_TOTAL
    again = assess(load_input(scored))  # the scored copy still carries the rules
    assert float(again.total) == VARIANT_TOTAL and again.framework.sha256 == fw.sha256

    docx = tmp_path / "report.docx"
    reported = CliRunner().invoke(main, ["report", str(filled), "-o", str(docx)])
    assert "94.57" in reported.output and "优秀" in reported.output, reported.output
    with zipfile.ZipFile(docx) as z:
        text = re.sub(r"<[^>]+>", "", z.read("word/document.xml").decode("utf-8"))
    assert "94.57" in text and "优秀" in text and "98.57" not in text

    out = tmp_path / "报送"
    sent = CliRunner().invoke(
        main,
        [
            "submit",
            str(filled),
            "-o",
            str(out),
            "--force",
            "--reason",
            "测试",
            "--eml",
            str(tmp_path / "draft.eml"),
            "--to",
            "czj@example.cn",
            "--from",
            "kgs@example.cn",
        ],
    )
    assert sent.exit_code == 0, sent.output
    manifest = json.loads(next(out.glob("*manifest.json")).read_text(encoding="utf-8"))
    assert manifest["total"] == VARIANT_TOTAL and manifest["framework_sha256"] == fw.sha256
    frozen = next(out.glob("*.xlsx"))
    assert float(assess(load_input(frozen)).total) == manifest["total"]  # re-scored by its own rules


def test_batch_scores_each_workbook_by_its_own_rules(variant: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    _filled(variant, folder / "测试局_2024.xlsx")
    ev = example_evaluation()
    save_workbook(build_workbook(get_framework(), ev), folder / "白云区科工商信局_2023.xlsx")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["batch", str(folder), "-o", str(out), "-j", "1"])
    assert result.exit_code in (0, 1), result.output
    cards = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in out.glob("*.scorecard.json")}
    by_fw = {c["framework"]: (c["total"], c["rating"]) for c in cards.values()}
    assert by_fw == {
        "variant-2024": (VARIANT_TOTAL, "优秀"),
        "guangzhou-2023": (float(SEED_TOTAL), SEED_RATING),
    }


def test_framework_option_overrides_and_says_so(variant: Path, tmp_path: Path) -> None:
    filled = _filled(variant, tmp_path / "测试局_2024.xlsx")
    card = _card(["check", str(filled), "--framework", "guangzhou-2023"], tmp_path)
    assert card["framework"] == "guangzhou-2023"
    f01 = [f for f in card["findings"] if f["code"] == "F01"]
    assert f01 and "variant-2024" in f01[0]["message"] and "guangzhou-2023" in f01[0]["message"]
    # and the year is outside guangzhou-2023's: F03 names the framework that fits, when this machine has it
    assert any(f["code"] == "F03" and "2024" in f["message"] for f in card["findings"])


def test_an_edited_embedded_copy_is_an_error_not_a_silent_score(variant: Path, tmp_path: Path) -> None:
    filled = _filled(variant, tmp_path / "x.xlsx")
    wb = openpyxl.load_workbook(filled)
    cell = wb.defined_names["xp_framework_def"].attr_text.split("!")[1].replace("$", "")
    wb[L.HIDDEN][cell].value = wb[L.HIDDEN][cell].value.replace('"min":"92"', '"min":"99"')
    wb.save(filled)
    card = _card(["check", str(filled)], tmp_path)
    assert any(f["code"] == "F02" for f in card["findings"])


def test_a_workbook_naming_an_unknown_framework_without_rules_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.xlsx"
    save_workbook(build_workbook(get_framework(), example_evaluation()), path)
    wb = openpyxl.load_workbook(path)
    for name in L.DEF_NAMES:
        wb.defined_names.pop(name, None)
    wb[L.HIDDEN]["H2"].value = "hubei-2025"
    wb.save(path)
    with pytest.raises(InputError, match=r"hubei-2025.*frameworks add"):
        load_input(path)
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 2 and "hubei-2025" in result.output and "内部错误" not in result.output


def test_a_json_names_a_framework_by_id_never_by_path(tmp_path: Path, variant: Path) -> None:
    data = json.loads(example_evaluation().model_dump_json())
    data["framework"] = str(variant)
    path = tmp_path / "dept.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(InputError, match="framework"):
        load_input(path)
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 2 and "--framework" in result.output


def test_frameworks_add_show_and_list(variant: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLPERF_HOME", str(tmp_path / "home"))
    added = CliRunner().invoke(main, ["frameworks", "add", str(variant)])
    assert added.exit_code == 0, added.output
    listed = CliRunner().invoke(main, ["frameworks"])
    assert "variant-2024" in listed.output and "本机添加" in listed.output
    assert by_id("variant-2024").sha256 == load_framework(variant).sha256
    shown = CliRunner().invoke(main, ["frameworks", "show", "variant-2024"], env={"COLUMNS": "2000"})
    assert "优秀（92 分及以上）" in shown.output and "针对意见制定了整改措施（2分）" in shown.output
    assert "满意度" in shown.output and "完成率超过 120%时须写明原因" in shown.output
    # the id is usable everywhere now, and a bundled id cannot be taken
    blank = tmp_path / "b.xlsx"
    assert CliRunner().invoke(main, ["new", "-o", str(blank), "--framework", "variant-2024"]).exit_code == 0
    clash = tmp_path / "clash.toml"
    clash.write_text(GUANGZHOU.replace("cap = 1.0", "cap = 1.1"), encoding="utf-8")
    refused = CliRunner().invoke(main, ["frameworks", "add", str(clash)])
    assert refused.exit_code == 2 and "内置框架" in refused.output
    # nor a bundled id of the other form: a department file named national-project once slipped in
    # under the project form's id (the two forms' `add` had each their own copy of the checks)
    clash.write_text(GUANGZHOU.replace('id = "guangzhou-2023"', 'id = "national-project"'), encoding="utf-8")
    refused = CliRunner().invoke(main, ["frameworks", "add", str(clash)])
    assert refused.exit_code == 2 and "内置框架" in refused.output, refused.output


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("cap = 1.0", "cap = 120"), "请写 1.2"),
        (('"完成" = 1.0', '"=完成" = 1.0'), "不能以 = + - @ 开头"),
        (('"完成" = 1.0', '"完 成" = 1.0'), "请写作“完成”"),
        (('"未完成" = 0', '"未完成" = 1.5'), "应在 0 与 1 之间"),
        (('{ name = "差", min = 0 }', '{ name = "不评级", min = 0 }'), "bands = []"),
        (("excess_threshold = 150", "excess_threshold = 1.5"), "应大于 100"),
        (('{ name = "良", min = 80 }', '{ name = "良", min = 95 }'), "从高到低"),
        (("per_point = 0.2", 'per_point = "abc"'), "应为数字"),
        (('limit = "max"', 'limit = "maximum"'), '只能是 "max"、"min"'),
        (("floor = 0", "flor = 0"), "不认识这个键"),
        (("{contract_signing_days}", "{contract_days}"), "没有在 [settings] 中定义"),
        (("full = 50\n", "full = 45\n"), "不等于"),
    ],
)
def test_framework_problems_are_named_in_chinese(edit: tuple[str, str], expected: str) -> None:
    text = GUANGZHOU.replace(*edit, 1)
    with pytest.raises(FrameworkError) as info:
        parse_framework(text, "t.toml")
    problems = info.value.problems
    assert any(expected in p for p in problems), problems
    for p in problems:
        assert not re.search(r"Input should|Field required|Extra inputs", p), p
        assert re.search(r"第\d+行", p), p  # a 1-based line a bureau's staff can go to


def test_framework_file_encodings_and_nesting(tmp_path: Path) -> None:
    bom = tmp_path / "bom.toml"
    bom.write_bytes(b"\xef\xbb\xbf" + GUANGZHOU.encode("utf-8"))
    assert load_framework(bom).sha256 == get_framework().sha256  # a BOM changes nothing
    for name, data, words in [
        ("u16.toml", GUANGZHOU.encode("utf-16"), "UTF-16"),
        ("gbk.toml", GUANGZHOU.encode("gbk"), "GBK"),
        ("deep.toml", ("x = " + "[" * 5000 + "]" * 5000).encode(), "嵌套"),
    ]:
        path = tmp_path / name
        path.write_bytes(data)
        result = CliRunner().invoke(main, ["frameworks", "check", str(path)])
        assert result.exit_code == 2 and words in result.output and "内部错误" not in result.output, (
            result.output
        )


def test_the_embedded_copy_reads_back_as_the_same_rules(variant: Path) -> None:
    for fw in (get_framework(), load_framework(variant)):
        from xlperf.core.framework import parse_canonical

        again = parse_canonical(fw.canonical(), "内嵌")
        assert again == fw and again.sha256 == fw.sha256
        assert all(isinstance(v, Decimal) for v in again.settings.values())
    # writing out a default changes nothing: a later xlperf adding an optional key keeps every hash
    explicit = GUANGZHOU.replace('rule = "checklist"', 'rule = "checklist"\nnoun = ""\nfloor = 0', 1)
    assert parse_framework(explicit, "t").sha256 == get_framework().sha256


def test_the_reviewer_page_counts_each_framework_s_ratings(variant: Path, tmp_path: Path) -> None:
    from xlperf.web.folder import Folder

    folder = tmp_path / "in"
    folder.mkdir()
    _filled(variant, folder / "测试局_2024.xlsx")
    save_workbook(
        build_workbook(get_framework(), example_evaluation()), folder / "白云区科工商信局_2023.xlsx"
    )
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["batch", str(folder), "-o", str(out), "-j", "1"]).exit_code in (0, 1)
    f = Folder.scan(out)
    counts = dict(f.distribution())
    assert counts["优秀"] == 1 and counts[SEED_RATING] == 1 and sum(counts.values()) == 2
    names = f.rating_names()
    assert names.index("优秀") < names.index("不合格") and names.index("优") < names.index("差")
    # 汇总.xlsx: each framework's workbooks ranked on their own, and said which framework scored them
    summary = openpyxl.load_workbook(out / "汇总.xlsx")["汇总"]
    header = [c.value for c in summary[1]]
    rows = [dict(zip(header, (c.value for c in row), strict=False)) for row in summary.iter_rows(min_row=2)]
    assert "评分框架" in header and "满意度" in header
    assert sorted(r["排名"] for r in rows) == [1, 1]
    grades = dict(summary.parent["等级分布"].iter_rows(min_row=2, values_only=True))
    assert grades["优秀"] == 1 and grades[SEED_RATING] == 1
