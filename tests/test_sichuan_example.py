"""The second bundled framework, ``sichuan-example``: a bureau's example that differs from guangzhou-2023
on every axis issue 23 lists, and says which of its parts are published and which are an example.

A department fills it (tests/framework_cases.py), and every command scores it by the rules the
workbook carries: totals come from tests/framework_calc.py, never from xlperf's output, and nothing
any command writes or prints carries a guangzhou-2023 fact. The web page, the Dovecot intake and the
aiosmtpd submit are in test_web_frameworks.py and test_intake_frameworks.py (slow lane).
"""

from __future__ import annotations

import json
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
from click.testing import CliRunner
from framework_calc import expected
from framework_cases import SICHUAN, SICHUAN_DEPARTMENT, SICHUAN_TOML, sichuan_evaluation

from xlperf.cli import main
from xlperf.core.framework import get_framework
from xlperf.workbook import layout as L
from xlperf.workbook.template import build_workbook, save_workbook

#: what only guangzhou-2023 says: its name and id, its rating and grade names as lists or ratings,
#: its counts and thresholds, its first section
GUANGZHOU_FACTS = (
    r"guangzhou",
    r"广州市部门整体支出绩效自评",
    r"[“（](优|良|中|差)[”）]",
    r"优/良/中/差",
    r"基本完成",
    r"(?<![\d.])22 ?个",
    r"150 ?%",
    r"以上的原因",
    r"履职效能",
)


def sweep(text: str) -> None:
    for pattern in GUANGZHOU_FACTS:
        hit = re.search(pattern, text)
        assert hit is None, (pattern, text[max(0, hit.start() - 60) : hit.end() + 60])


def workbook_text(path: Path, sheets: tuple[str, ...] | None = None) -> str:
    wb = openpyxl.load_workbook(path)
    titles = sheets or tuple(t for t in wb.sheetnames if t != L.HIDDEN)
    out = [str(c.value) for t in titles for row in wb[t].iter_rows() for c in row if c.value is not None]
    out += [c.comment.text for t in titles for row in wb[t].iter_rows() for c in row if c.comment]
    return "\n".join(out)


def test_the_example_differs_from_guangzhou_on_every_axis_and_says_what_is_published() -> None:
    gz, sc = get_framework(), get_framework(SICHUAN)
    assert [(s.name, s.full) for s in sc.sections] == [
        ("部门决策", 25),
        ("综合管理", 30),
        ("部门绩效情况", 45),
    ]  # published (FRAMEWORKS: 四川 25/30/45)
    assert len(sc.sections) > len(gz.sections)
    assert len(sc.management()) > len(gz.management())
    assert max(len(i.items) for i in sc.management()) > max(len(i.items) for i in gz.management())
    assert sc.completion.cap != gz.completion.cap
    assert sc.completion.excess_threshold != gz.completion.excess_threshold
    assert sc.completion.excess_inclusive != gz.completion.excess_inclusive
    assert not set(sc.rating_names()) & set(gz.rating_names())
    assert len(sc.rating_names()) != len(gz.rating_names())
    assert not set(sc.grade_names()) & set(gz.grade_names())
    assert len(sc.grade_names()) != len(gz.grade_names())
    assert sc.years != gz.years
    # honest: it calls itself an example, names what is published and what is not
    assert "示例" in sc.name
    assert any("公开" in s and "25" in s for s in sc.sources)
    assert any(s.startswith("示例（未经任何财政部门发布）") for s in sc.sources)
    shown = CliRunner().invoke(main, ["frameworks", "show", SICHUAN], env={"COLUMNS": "2000"})
    assert "未经任何财政部门发布" in shown.output and "超过 130%" in shown.output


def test_the_blank_workbook_follows_the_example(tmp_path: Path) -> None:
    blank = tmp_path / "blank.xlsx"
    made = CliRunner().invoke(main, ["new", "-o", str(blank), "--framework", SICHUAN])
    assert made.exit_code == 0, made.output
    wb = openpyxl.load_workbook(blank)
    headers = [c.value for c in wb[L.MANAGEMENT][4] if c.value]
    assert "子项5答复" in headers and "子项6答复" not in headers
    ids = [wb[L.MANAGEMENT].cell(row=r, column=1).value for r in range(5, 5 + 26)]
    assert ids[0] == "D01" and ids[-1] == "P06"
    assert "完成率超过130%的原因" in [c.value for c in wb[L.OUTPUTS][4]]
    ref = wb.defined_names["xp_list_grade"].attr_text.split("!")[1].replace("$", "")
    assert [c.value for row in wb[L.HIDDEN][ref] for c in row] == [
        "达成年度指标",
        "部分达成年度指标",
        "未达成年度指标",
    ]
    text = workbook_text(blank)
    assert "26 个三级指标已列出" in text and "优秀（90 分及以上）" in text
    sweep(text)


def test_every_command_scores_the_example_by_its_embedded_rules(tmp_path: Path) -> None:
    ev = sichuan_evaluation()
    want = expected(SICHUAN_TOML, ev)
    assert (want.total, want.rating) == (Decimal("96.25"), "优秀")  # by hand: 25−2, 30−0.25, 45−1.5
    filled = save_workbook(build_workbook(get_framework(SICHUAN), ev), tmp_path / "示例县科经信局_2024.xlsx")

    card_path, scored, docx = tmp_path / "card.json", tmp_path / "scored.xlsx", tmp_path / "r.docx"
    ran = CliRunner().invoke(
        main,
        ["run", str(filled), "-o", str(scored), "--json", str(card_path), "--docx", str(docx)],
        terminal_width=100,
    )
    assert ran.exit_code == 0, ran.output  # no error finding: every reason the thresholds ask is written
    card = json.loads(card_path.read_text(encoding="utf-8"))
    assert Decimal(str(card["total"])) == want.total and card["rating"] == want.rating
    assert card["framework"] == SICHUAN and card["rating_names"] == ["优秀", "合格", "不合格"]
    for key in ("decision", "management", "performance"):
        assert Decimal(str(card["sections"][key])) == want.sections[key], key
    scored_ids = {i["id"] for i in card["indicators"] if "id" in i}
    assert {"D01", "G16", "P06"} <= scored_ids
    [p06] = [i for i in card["indicators"] if i.get("id") == "P06"]
    assert Decimal(str(p06["score"])) == want.indicators["P06"] == Decimal("2.5")

    with zipfile.ZipFile(docx) as z:
        report = re.sub(r"<[^>]+>", "", z.read("word/document.xml").decode("utf-8"))
    assert f"自评结果为“优秀”，自评得分为{want.total}分" in report
    assert "部门绩效情况。主要包括" in report and "情况情况" not in report
    assert "完成率超过130%的原因" in report and "社会公众满意度" in report
    for text in (ran.output, card_path.read_text(encoding="utf-8"), workbook_text(scored), report):
        sweep(text)

    # check and report agree; submit freezes a copy that re-scores to its manifest; batch ranks it
    checked = CliRunner().invoke(main, ["check", str(filled), "--json", str(card_path)], terminal_width=100)
    assert checked.exit_code == 0, checked.output
    assert json.loads(card_path.read_text(encoding="utf-8"))["total"] == card["total"]
    sweep(checked.output)
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
            "sc@example.cn",
        ],
    )
    assert sent.exit_code == 0, sent.output
    manifest = json.loads(next(out.glob("*manifest.json")).read_text(encoding="utf-8"))
    assert Decimal(str(manifest["total"])) == want.total and manifest["framework"] == SICHUAN
    frozen = next(out.glob("*.xlsx"))
    again = CliRunner().invoke(main, ["check", str(frozen), "--json", str(card_path)])
    assert again.exit_code == 0, again.output
    assert Decimal(str(json.loads(card_path.read_text(encoding="utf-8"))["total"])) == want.total
    sweep(sent.output + (tmp_path / "d.eml").read_text(encoding="utf-8", errors="replace"))

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / filled.name).write_bytes(filled.read_bytes())
    batch = tmp_path / "batch"
    done = CliRunner().invoke(main, ["batch", str(folder), "-o", str(batch), "-j", "1"], terminal_width=100)
    assert done.exit_code == 0, done.output
    book = openpyxl.load_workbook(batch / "汇总.xlsx")
    head = [c.value for c in book["汇总"][1]]
    [row] = [dict(zip(head, (c.value for c in r), strict=False)) for r in book["汇总"].iter_rows(min_row=2)]
    assert row["部门"] == SICHUAN_DEPARTMENT and Decimal(str(row["总分"])) == want.total
    assert row["等级"] == "优秀" and row["排名"] == 1
    assert {"部门决策", "综合管理", "部门绩效情况"} <= set(head)
    summary = "\n".join(
        str(c.value) for ws in book.worksheets for r in ws.iter_rows() for c in r if c.value is not None
    )
    sweep(summary + done.output)

    # the reviewer pages' data: every sheet-answered indicator of every section, the rows by table
    from xlperf.web.folder import Folder

    [entry] = Folder.scan(batch).current
    answered = {i["id"]: i for i in entry.answered()}
    assert {"D01", "G16", "P06"} <= set(answered) and "G04" not in answered  # G04: the monthly mean
    sheet_answered = sum(
        (v for k, v in want.indicators.items() if k in answered), Decimal(0)
    )  # the calculator's scores of the same indicators
    assert entry.answered_total() == sheet_answered
    assert {label for label, _ in entry.rows()} == {"产出", "效益"}
