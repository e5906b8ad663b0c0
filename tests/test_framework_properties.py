"""Any valid framework works from the blank workbook to the score card, with no guangzhou-2023 fact.

Hypothesis writes framework files (sections, weights, indicator and sub-item counts, rating names,
counts and bands), each is taken through ``xlperf new`` → filled → ``xlperf run`` with no
``--framework`` (the workbook's embedded rules), and the total and rating are checked against a
small calculator written here (sub-items answered 是 or 不适用 earn their points; an 产出 table
left empty earns nothing; a ratio indicator loses per_point for each point beyond its threshold), not
the engine's code. Every output is swept for guangzhou-2023 text.
"""

from __future__ import annotations

import json
import re
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from tempfile import TemporaryDirectory

import openpyxl
from click.testing import CliRunner
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from xlperf.cli import main
from xlperf.core.evaluation import Answer, Evaluation, ManagementEntry
from xlperf.core.framework import load_framework
from xlperf.workbook import layout as L
from xlperf.workbook.template import build_workbook, save_workbook

NAMES = ("甲等", "乙等", "丙等", "丁等", "优秀", "良好", "合格", "不合格", "A级", "B级")
ANSWERS = (Answer.YES, Answer.NO, Answer.NA, None)


@st.composite
def frameworks(
    draw: st.DrawFn,
) -> tuple[str, dict[str, list[Answer | None]], Decimal, list[tuple[str, Decimal]], int]:
    """(TOML text, answers by indicator id, expected total, bands, budget (全年预算数, 执行数))."""
    sections = []
    answers: dict[str, list[Answer | None]] = {}
    earned = Decimal(0)
    n = 0
    outputs = draw(st.sampled_from([0, 0, 5, 10]))  # an 产出 indicator on an empty table earns 0
    for s in range(draw(st.integers(1, 3))):
        indicators = []
        if s == 0 and outputs:
            indicators.append(
                f'[[sections.indicators]]\nid = "out"\ngroup = "履职"\nname = "产出目标实现情况"\n'
                f'full = {outputs}\nrule = "completion_section"\nrows = "outputs"\n'
            )
        full = outputs if s == 0 else 0
        for _ in range(draw(st.integers(1, 4))):
            n += 1
            points = draw(st.lists(st.integers(1, 4), min_size=1, max_size=6))
            given_answers = draw(
                st.lists(st.sampled_from(ANSWERS), min_size=len(points), max_size=len(points))
            )
            ind_id = f"K{n:02d}"
            answers[ind_id] = given_answers
            earned += sum(
                (
                    Decimal(p)
                    for p, a in zip(points, given_answers, strict=True)
                    if a in (Answer.YES, Answer.NA)
                ),
                Decimal(0),
            )
            items = ", ".join(f'{{ text = "子项{j + 1}", points = {p} }}' for j, p in enumerate(points))
            indicators.append(
                f'[[sections.indicators]]\nid = "{ind_id}"\ngroup = "组{s + 1}"\nname = "指标{n}"\n'
                f'full = {sum(points)}\nrule = "checklist"\nitems = [{items}]\n'
            )
            full += sum(points)
        sections.append(
            (f'[[sections]]\nid = "s{s + 1}"\nname = "部分{s + 1}"\nfull = {full}\n', indicators, full)
        )
    # a ratio indicator in the last section: 执行数 ÷ 全年预算数 against a threshold (docs/DOMAIN.md §1.4)
    budget = (draw(st.integers(100, 10_000)), 0)
    budget = (budget[0], draw(st.integers(0, budget[0])))
    if draw(st.booleans()):
        full = draw(st.integers(1, 5))
        limit = draw(st.sampled_from(["max", "min"]))
        threshold = draw(st.sampled_from([80, 90, 95, 100]))
        per_point = Decimal(draw(st.sampled_from(["0.1", "0.2", "0.5"])))
        ratio = (Decimal(budget[1]) / Decimal(budget[0]) * 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
        beyond = ratio - threshold if limit == "max" else threshold - ratio
        earned += (
            full
            if beyond <= 0
            else max(Decimal(0), (full - per_point * beyond).quantize(Decimal("0.01"), ROUND_HALF_UP))
        )
        head, inds, sec_full = sections[-1]
        inds.append(
            f'[[sections.indicators]]\nid = "R1"\ngroup = "执行"\nname = "执行率"\nfull = {full}\n'
            f'rule = "ratio_threshold"\nratio = "exec"\nlimit = "{limit}"\nthreshold = {threshold}\n'
            f"per_point = {per_point}\nfloor = 0\n"
        )
        sections[-1] = (
            head.replace(f"full = {sec_full}\n", f"full = {sec_full + full}\n"),
            inds,
            sec_full + full,
        )
    total = sum(f for _, _, f in sections)
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    cuts = sorted(
        draw(st.lists(st.integers(1, total), min_size=len(names) - 1, max_size=len(names) - 1, unique=True)),
        reverse=True,
    )
    bands = [(name, Decimal(m)) for name, m in zip(names, [*cuts, 0], strict=True)]
    band_text = ", ".join(f'{{ name = "{name}", min = {m} }}' for name, m in bands)
    text = (
        f'id = "gen-{n}"\nname = "生成的框架"\ntotal = {total}\n[rating]\nbands = [{band_text}]\n'
        '[completion]\ngrades = { "完成" = 1, "基本完成" = 0.8, "部分完成" = 0.5, "未完成" = 0 }\n[ratios]\n'
        'exec = { name = "执行率", numerator = ["executed"], denominator = ["total_budget"] }\n'
    )
    text += "\n".join(head + "\n".join(inds) for head, inds, _ in sections)
    return text, answers, earned, bands, budget


def _expected_rating(total: Decimal, bands: list[tuple[str, Decimal]]) -> str:
    return next(name for name, low in bands if total >= low)


@settings(max_examples=examples(25))
@given(frameworks())
def test_any_framework_from_blank_workbook_to_score_card(case: tuple) -> None:
    text, answers, earned, bands, budget = case
    with TemporaryDirectory() as tmp:
        folder = Path(tmp)
        fw_path = folder / "gen.toml"
        fw_path.write_text(text, encoding="utf-8")
        blank = folder / "blank.xlsx"
        made = CliRunner().invoke(main, ["new", "-o", str(blank), "--framework", str(fw_path)])
        assert made.exit_code == 0, made.output
        fw = load_framework(fw_path)
        columns = max(3, *(len(a) for a in answers.values()))
        headers = [c.value for c in openpyxl.load_workbook(blank)[L.MANAGEMENT][4] if c.value]
        assert sum(1 for h in headers if re.fullmatch(r"子项\d+答复", str(h))) == columns

        ev = Evaluation(framework=fw.id)
        ev.department.name, ev.department.year = "测试部门", 2024
        ev.budget.total_budget, ev.budget.executed = Decimal(budget[0]), Decimal(budget[1])
        ev.management = [
            ManagementEntry(indicator=k, answers=list(a), evidence="情况说明。") for k, a in answers.items()
        ]
        filled = folder / "filled.xlsx"
        save_workbook(build_workbook(fw, ev), filled)
        card_path, scored, docx = folder / "card.json", folder / "scored.xlsx", folder / "r.docx"
        ran = CliRunner().invoke(
            main,
            ["run", str(filled), "-o", str(scored), "--json", str(card_path), "--docx", str(docx)],
            terminal_width=200,
        )
        assert ran.exit_code in (0, 1), ran.output
        card = json.loads(card_path.read_text(encoding="utf-8"))

        total = earned.quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert Decimal(str(card["total"])) == total, (card["total"], total, text)
        assert card["rating"] == _expected_rating(total, bands)
        assert card["framework"] == fw.id and card["framework_sha256"] == fw.sha256

        # no guangzhou-2023 fact in anything this run wrote or printed
        texts = [ran.output, card_path.read_text(encoding="utf-8")]
        book = openpyxl.load_workbook(scored)
        for title in L.OUTPUT_SHEETS:
            texts += [str(c.value) for row in book[title].iter_rows() for c in row if c.value is not None]
        with zipfile.ZipFile(docx) as z:
            texts.append(re.sub(r"<[^>]+>", "", z.read("word/document.xml").decode("utf-8")))
        joined = "\n".join(texts)
        assert "guangzhou" not in joined and "广州" not in joined
        for word in ("（优）", "（良）", "（中）", "（差）"):
            if word[1] not in [b[0] for b in bands]:
                assert word not in joined, word
