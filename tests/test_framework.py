"""Frameworks are data: the bundled one is complete and a new file works without Python changes."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from xlperf.core import evaluate
from xlperf.core.evaluation import Answer, Evaluation, IndicatorRow, Kind, ManagementEntry
from xlperf.core.framework import FrameworkError, bundled_ids, get_framework, load_framework, parse_framework
from xlperf.core.quantity import Direction

SMALL = """
id = "tiny-2025"
name = "测试框架"
total = 10
[rating]
bands = [{ name = "合格", min = 6 }, { name = "不合格", min = 0 }]
[completion]
cap = 1.2
excess_threshold = 200
excess_inclusive = false
grades = { "完成" = 1, "基本完成" = 0.6, "部分完成" = 0.3, "未完成" = 0 }
[ratios]
exec = { name = "执行率", numerator = ["executed"], denominator = ["total_budget"] }
[[sections]]
id = "perf"
name = "绩效"
full = 6
[[sections.indicators]]
id = "output"
group = "绩效"
name = "产出"
full = 6
rule = "completion_section"
rows = "outputs"
[[sections]]
id = "mgmt"
name = "管理"
full = 4
[[sections.indicators]]
id = "K1"
group = "管理"
name = "执行率"
full = 3
rule = "ratio_threshold"
ratio = "exec"
limit = "min"
threshold = 90
per_point = 0.5
[[sections.indicators]]
id = "K2"
group = "管理"
name = "制度"
full = 1
rule = "checklist"
items = [{ text = "有制度", points = 1 }]
"""


def test_bundled_framework_is_complete() -> None:
    fw = get_framework("guangzhou-2023")
    assert "guangzhou-2023" in bundled_ids()
    assert [(s.name, s.full) for s in fw.sections] == [("履职效能", 50), ("管理效率", 50)]
    assert len(fw.management()) == 22
    assert fw.settings["contract_signing_days"] == 30
    groups = {}
    for ind in fw.management():
        groups[ind.group] = groups.get(ind.group, 0) + ind.full
    # docs/DOMAIN.md §1.2: 3 + 4 + 4 + 15 + 10 + 10 + 4
    assert list(groups.values()) == [3, 4, 4, 15, 10, 10, 4]


def test_new_framework_file_works_without_python(tmp_path: Path) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text(SMALL, encoding="utf-8")
    fw = load_framework(path)
    e = Evaluation(framework=str(path))
    e.outputs = [
        IndicatorRow(
            name="a",
            kind=Kind.QUANT,
            direction=Direction.GE,
            target_value=Decimal(10),
            unit="个",
            actual_value=Decimal(11),
        )
    ]
    e.budget.total_budget, e.budget.executed = Decimal(100), Decimal(86)
    e.management = [
        ManagementEntry(indicator="K1", evidence="e"),
        ManagementEntry(indicator="K2", answers=[Answer.YES], evidence="e"),
    ]
    result = evaluate(e, fw)
    # 86 % is 4 points under 90 → 3 − 2.0; the cap of 1.2 lets 110 % score in full; total 6 + 1 + 1
    assert result.indicator("K1").score == Decimal("1.00")
    assert result.indicator("output").score == Decimal(6)
    assert result.total == Decimal(8)
    assert result.rating == "合格"


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (("full = 4\n", "full = 5\n"), "不等于"),
        (('rule = "checklist"', 'rule = "no_such_rule"'), "未知的计分规则"),
        (("points = 1 }", "points = 2 }"), "子项分值之和"),
        (('numerator = ["executed"]', 'numerator = ["nonsense"]'), "未知的收支字段"),
        (("total = 10", "total = "), "TOML"),
    ],
)
def test_inconsistent_framework_is_refused_with_every_reason(change: tuple[str, str], fragment: str) -> None:
    text = SMALL.replace(*change, 1)
    with pytest.raises(FrameworkError) as info:
        parse_framework(text, "t")
    assert any(fragment in p for p in info.value.problems), info.value.problems


def test_unknown_framework_id() -> None:
    with pytest.raises(FrameworkError, match="没有这个评分框架"):
        get_framework("nowhere-1999")
