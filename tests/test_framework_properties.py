"""Any valid framework works from the blank workbook to 汇总, with no guangzhou-2023 fact.

Hypothesis writes framework files that vary everything a bureau edits: the number, names and points
of the sections; 产出/效益 row tables (or none), the completion cap, the excess threshold and whether
it is inclusive; the monthly mean; checklists of one to eight sub-items; count ratios; a ratio against
a threshold; the rating (names, count and bands, or none at all) and the 完成等级 (names, count and
rates). It fills a department's workbook for it (rows of every direction and grade, months, answers,
counts, amounts), and takes that through ``xlperf new`` → filled → ``run``, ``check``, ``report``,
``submit`` and ``batch`` with no ``--framework`` (the workbook's embedded rules). Every total is checked
against tests/framework_calc.py (the tests' own calculator, checked against the published seed), and
every output — the scored sheets, the .docx, the score card, 汇总, the terminal — is swept for
guangzhou-2023's facts.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from tempfile import TemporaryDirectory

import openpyxl
from click.testing import CliRunner
from conftest import examples
from framework_calc import expected
from hypothesis import given, settings
from hypothesis import strategies as st

from xlperf.cli import main
from xlperf.core.evaluation import Answer, Direction, Evaluation, IndicatorRow, Kind, ManagementEntry
from xlperf.core.framework import NO_RATING, load_framework
from xlperf.workbook import layout as L
from xlperf.workbook.template import build_workbook, save_workbook

RATINGS = ("甲等", "乙等", "丙等", "丁等", "优秀", "良好", "合格", "不合格", "A级", "B级", "较好")
GRADES = ("达成", "基本达成", "部分达成", "未达成", "好", "较好档", "一般", "A档", "B档", "C档")
SECTIONS = ("部门决策", "综合管理", "预算执行情况", "产出情况", "效益与满意度", "部门绩效情况")
ANSWERS = (Answer.YES, Answer.NO, Answer.NA, None)
GUANGZHOU_RATINGS = ("优", "良", "中", "差")
DIRECTIONS = (Direction.GE, Direction.LE, Direction.EQ)


@dataclass
class Case:
    toml: str
    evaluation: Evaluation
    threshold: Decimal
    inclusive: bool
    cap: Decimal
    ratings: list[str]
    grades: list[str]
    entries: int  # indicators answered on the 管理效率 sheet
    answer_columns: int


def _rows(draw: st.DrawFn, grades: list[str]) -> list[IndicatorRow]:
    rows = []
    for i in range(draw(st.integers(0, 5))):
        if draw(st.booleans()):
            rows.append(
                IndicatorRow(
                    seq=i + 1,
                    name=f"定性指标{i + 1}",
                    kind=Kind.QUAL,
                    target_text="按期完成",
                    grade=draw(st.sampled_from(grades)),
                )
            )
        else:
            target = Decimal(draw(st.integers(1, 200)))
            rows.append(
                IndicatorRow(
                    seq=i + 1,
                    name=f"定量指标{i + 1}",
                    kind=Kind.QUANT,
                    direction=draw(st.sampled_from(DIRECTIONS)),
                    target_value=target,
                    actual_value=Decimal(draw(st.integers(0, 400))),
                    unit="个",
                )
            )
    return rows


@st.composite
def cases(draw: st.DrawFn) -> Case:
    grade_names = draw(st.lists(st.sampled_from(GRADES), min_size=1, max_size=4, unique=True))
    rates = draw(
        st.lists(
            st.sampled_from(["0", "0.25", "0.5", "0.6", "0.8", "1"]),
            min_size=len(grade_names),
            max_size=len(grade_names),
        )
    )
    cap = draw(st.sampled_from(["1", "1", "1.1", "1.5"]))
    threshold = Decimal(draw(st.sampled_from([110, 120, 130, 150, 200])))
    inclusive = draw(st.booleans())

    ev = Evaluation(framework="gen")
    ev.department.name, ev.department.short_name, ev.department.year = "测试部门", "测试部门", 2024
    total_budget = Decimal(draw(st.integers(100, 10_000)))
    ev.budget.total_budget = total_budget
    ev.budget.executed = Decimal(draw(st.integers(0, int(total_budget))))

    names = draw(st.lists(st.sampled_from(SECTIONS), min_size=1, max_size=3, unique=True))
    sections: list[tuple[str, list[str], int]] = []
    entries = 0
    widest = 0
    n = 0
    row_tables = draw(st.sampled_from([(), ("outputs",), ("outputs", "benefits")]))
    monthly = draw(st.booleans())
    for s, name in enumerate(names):
        indicators: list[str] = []
        full = 0
        if s == 0:
            for table in row_tables:
                points = draw(st.sampled_from([5, 10, 20]))
                rows = _rows(draw, grade_names)
                setattr(ev, table, rows)
                indicators.append(
                    f'[[sections.indicators]]\nid = "{table[:3]}"\ngroup = "履职"\nname = '
                    f'"{table}目标实现情况"\n'
                    f'full = {points}\nrule = "completion_section"\nrows = "{table}"\n'
                )
                full += points
        if s == len(names) - 1 and monthly:
            points = draw(st.integers(1, 10))
            if draw(st.booleans()):
                ev.spending.monthly = [Decimal(draw(st.integers(0, 10000))) / 100 for _ in range(12)]
            else:
                ev.spending.annual_mean = Decimal(draw(st.integers(0, 10000))) / 100
            indicators.append(
                '[[sections.indicators]]\nid = "spend"\ngroup = "执行"\nname = "月均执行率"\nfull '
                f"= {points}\n"
                'rule = "monthly_mean"\n'
            )
            full += points
        for _ in range(draw(st.integers(1 if not indicators else 0, 4))):
            n += 1
            ind_id = f"K{n:02d}"
            entries += 1
            kind = draw(st.sampled_from(["checklist", "checklist", "count_ratio", "ratio_threshold"]))
            if kind == "checklist":
                points = draw(st.lists(st.integers(1, 4), min_size=1, max_size=8))
                answers = draw(st.lists(st.sampled_from(ANSWERS), min_size=len(points), max_size=len(points)))
                ev.management.append(
                    ManagementEntry(indicator=ind_id, answers=answers, evidence="情况说明。")
                )
                items = ", ".join(f'{{ text = "子项{j + 1}", points = {p} }}' for j, p in enumerate(points))
                body = f'rule = "checklist"\nitems = [{items}]\n'
                widest = max(widest, len(points))
                points_total = sum(points)
            elif kind == "count_ratio":
                points_total = draw(st.integers(1, 5))
                counted = draw(st.booleans())
                total = draw(st.integers(0, 9)) if counted else None
                done = draw(st.integers(0, total)) if total is not None else None
                ev.management.append(
                    ManagementEntry(
                        indicator=ind_id,
                        answers=[draw(st.sampled_from(ANSWERS))],
                        count_total=None if total is None else Decimal(total),
                        count_done=None if done is None else Decimal(done),
                        evidence="情况说明。",
                    )
                )
                body = (
                    'rule = "count_ratio"\ncount_labels = ["应办数", "按时办结数"]\n'
                    f'items = [{{ text = "均按时办结", points = {points_total} }}]\n'
                )
                widest = max(widest, 1)
            else:
                points_total = draw(st.integers(1, 5))
                limit = draw(st.sampled_from(["max", "min"]))
                ev.management.append(ManagementEntry(indicator=ind_id, evidence="情况说明。"))
                body = (
                    f'rule = "ratio_threshold"\nratio = "exec"\nlimit = "{limit}"\n'
                    f"threshold = {draw(st.sampled_from([80, 90, 95, 100]))}\n"
                    f"per_point = {draw(st.sampled_from(['0.1', '0.2', '0.5']))}\nfloor = 0\n"
                )
            indicators.append(
                f'[[sections.indicators]]\nid = "{ind_id}"\ngroup = "组{s + 1}"\nname = "指标{n}"\n'
                f"full = {points_total}\n{body}"
            )
            full += points_total
        sections.append(
            (f'[[sections]]\nid = "s{s + 1}"\nname = "{name}"\nfull = {full}\n', indicators, full)
        )
    total = sum(f for _, _, f in sections)

    if draw(st.integers(0, 4)) == 0:  # no rating (湖北: "可以不评级")
        bands: list[tuple[str, int]] = []
    else:
        # as many names as distinct cut points fit in 1..total (a small total cannot hold five bands)
        rating_names = draw(
            st.lists(st.sampled_from(RATINGS), min_size=1, max_size=min(5, total + 1), unique=True)
        )
        cuts = draw(
            st.lists(
                st.integers(1, total),
                min_size=len(rating_names) - 1,
                max_size=len(rating_names) - 1,
                unique=True,
            )
        )
        bands = list(zip(rating_names, [*sorted(cuts, reverse=True), 0], strict=True))
    band_text = ", ".join(f'{{ name = "{b}", min = {m} }}' for b, m in bands)
    grade_text = ", ".join(f'"{g}" = {r}' for g, r in zip(grade_names, rates, strict=True))
    text = (
        f'id = "gen"\nname = "生成的框架"\ntotal = {total}\nyears = [2024]\n'
        f"[rating]\nbands = [{band_text}]\n"
        f"[completion]\ncap = {cap}\nexcess_threshold = {threshold}\n"
        f"excess_inclusive = {'true' if inclusive else 'false'}\ngrades = {{ {grade_text} }}\n"
        '[ratios]\nexec = { name = "执行率", numerator = ["executed"], denominator = ["total_budget"] }\n'
    )
    text += "\n".join(head + "\n".join(inds) for head, inds, _ in sections)
    return Case(
        text,
        ev,
        threshold,
        inclusive,
        Decimal(cap),
        [b for b, _ in bands],
        grade_names,
        entries,
        max(3, widest),
    )


def _sweep(text: str, case: Case, *, blank: bool = False) -> None:
    """No guangzhou-2023 fact in ``text`` unless the generated framework says the same. The blank
    workbook's input hints may show an example department (如 广州市白云区…局): not a rule."""
    patterns = [r"guangzhou", r"广州市部门整体" if blank else r"广州", r"履职效能", r"基本完成", r"部分完成"]
    if not set(GUANGZHOU_RATINGS) & set(case.ratings):
        patterns += [r"[“（](优|良|中|差)[”）]", r"优/良/中/差"]
    if case.entries != 22:
        patterns.append(r"(?<![\d.])22 ?个")
    if 150 not in (case.threshold, case.cap * 100):
        patterns.append(r"(?<![\d.])150 ?%")
    if not case.inclusive:
        patterns.append(r"以上的原因")
    if case.ratings:
        patterns.append(NO_RATING)
    for pattern in patterns:
        hit = re.search(pattern, text)
        assert hit is None, (pattern, text[max(0, hit.start() - 80) : hit.end() + 80], case.toml)


def _workbook_text(path: Path, titles: tuple[str, ...]) -> str:
    wb = openpyxl.load_workbook(path)
    return "\n".join(
        str(c.value)
        for t in titles
        if t in wb.sheetnames
        for row in wb[t].iter_rows()
        for c in row
        if c.value
    )


def _docx(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return re.sub(r"<[^>]+>", "", z.read("word/document.xml").decode("utf-8"))


@settings(max_examples=examples(10))
@given(cases())
def test_any_framework_from_blank_workbook_to_summary(case: Case) -> None:
    want = expected(case.toml, case.evaluation)
    with TemporaryDirectory() as tmp:
        folder = Path(tmp)
        fw_path = folder / "gen.toml"
        fw_path.write_text(case.toml, encoding="utf-8")
        blank = folder / "blank.xlsx"
        made = CliRunner().invoke(main, ["new", "-o", str(blank), "--framework", str(fw_path)])
        assert made.exit_code == 0, made.output
        book = openpyxl.load_workbook(blank)
        headers = [str(c.value) for c in book[L.MANAGEMENT][4] if c.value]
        assert sum(1 for h in headers if re.fullmatch(r"子项\d+答复", h)) == case.answer_columns
        ref = book.defined_names["xp_list_grade"].attr_text.split("!")[1].replace("$", "")
        assert sorted(str(c.value) for row in book[L.HIDDEN][ref] for c in row) == sorted(case.grades)
        _sweep(_workbook_text(blank, tuple(book.sheetnames)), case, blank=True)

        fw = load_framework(fw_path)
        filled = save_workbook(build_workbook(fw, case.evaluation), folder / "测试部门_2024.xlsx")
        card_path, scored, docx = folder / "card.json", folder / "scored.xlsx", folder / "r.docx"
        ran = CliRunner().invoke(
            main,
            ["run", str(filled), "-o", str(scored), "--json", str(card_path), "--docx", str(docx)],
            terminal_width=100,
        )
        assert ran.exit_code in (0, 1), ran.output
        card = json.loads(card_path.read_text(encoding="utf-8"))
        assert Decimal(str(card["total"])) == want.total, (card["total"], want.total, case.toml)
        assert card["rating"] == (want.rating or NO_RATING)
        assert card["framework_sha256"] == fw.sha256
        for key, score in want.sections.items():
            assert Decimal(str(card["sections"][key])) == score, (key, case.toml)
        bad = [f["message"] for f in card["findings"] if f["code"] in ("V42", "F01", "F02")]
        assert not bad, (bad, case.toml)
        outputs = [
            ran.output,
            card_path.read_text(encoding="utf-8"),
            _workbook_text(scored, L.OUTPUT_SHEETS),
            _docx(docx),
        ]

        checked = CliRunner().invoke(main, ["check", str(filled)], terminal_width=100)
        reported = CliRunner().invoke(main, ["report", str(filled), "-o", str(folder / "r2.docx")])
        assert reported.exit_code in (0, 1) and f"{want.total}" in reported.output, reported.output
        package = folder / "报送"
        sent = CliRunner().invoke(
            main,
            [
                "submit",
                str(filled),
                "-o",
                str(package),
                "--force",
                "--reason",
                "测试",
                "--eml",
                str(folder / "d.eml"),
                "--to",
                "czj@example.cn",
                "--from",
                "cs@example.cn",
            ],
        )
        assert sent.exit_code == 0, sent.output
        manifest = json.loads(next(package.glob("*manifest.json")).read_text(encoding="utf-8"))
        assert Decimal(str(manifest["total"])) == want.total
        (folder / "in").mkdir()
        (folder / "in" / filled.name).write_bytes(filled.read_bytes())
        batch = CliRunner().invoke(main, ["batch", str(folder / "in"), "-o", str(folder / "out"), "-j", "1"])
        assert batch.exit_code in (0, 1), batch.output
        summary = openpyxl.load_workbook(folder / "out" / "汇总.xlsx")
        head = [c.value for c in summary["汇总"][1]]
        [row] = [
            dict(zip(head, (c.value for c in r), strict=False)) for r in summary["汇总"].iter_rows(min_row=2)
        ]
        assert Decimal(str(row["总分"])) == want.total and row["等级"] == (want.rating or NO_RATING)
        outputs += [
            checked.output,
            reported.output,
            _docx(folder / "r2.docx"),
            sent.output,
            batch.output,
            _workbook_text(folder / "out" / "汇总.xlsx", tuple(summary.sheetnames)),
        ]
        for text in outputs:
            _sweep(text, case)
