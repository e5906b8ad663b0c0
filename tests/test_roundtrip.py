"""Round trip, property-tested: Evaluation → template → reader gives back an equal Evaluation."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlperf.core.evaluation import (
    Answer,
    Budget,
    Claims,
    Department,
    Evaluation,
    Grade,
    IndicatorRow,
    KeyTask,
    Kind,
    ManagementEntry,
    Spending,
)
from xlperf.core.framework import get_framework
from xlperf.core.quantity import Direction
from xlperf.workbook.reader import read_workbook
from xlperf.workbook.template import build_workbook, save_workbook

FW = get_framework()

# CJK, Latin, digits, Chinese punctuation, line breaks; formula-looking starts are included
chars = st.characters(categories=("Lo", "Lu", "Ll", "Nd", "Po", "Ps", "Pe", "Sm"), exclude_characters="\x00")
text = st.text(
    alphabet=st.one_of(chars, st.sampled_from(["\n", " ", "=", "+", "-", "@", "％", "，"])), max_size=60
)
long_text = st.one_of(
    text, st.integers(400, 1000).map(lambda n: "部门整体绩效，" * n + "完。")
)  # 2,800–7,000 characters
name = text.filter(lambda s: s.strip() != "")
# up to 13 integer digits and 2 decimals: 15 significant digits, what Excel holds exactly
amount = st.one_of(
    st.just(Decimal(0)), st.decimals(min_value=0, max_value=Decimal("9999999999999.99"), places=2)
)
opt_amount = st.one_of(st.none(), amount)
quantity = st.one_of(st.none(), st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e12"), places=3))
count = st.one_of(st.none(), st.integers(0, 10_000).map(Decimal))  # counts are whole numbers
rate = st.one_of(st.none(), st.decimals(min_value=0, max_value=100, places=2))


@st.composite
def rows(draw: st.DrawFn) -> list[IndicatorRow]:
    out = []
    for i in range(draw(st.integers(0, 8))):
        out.append(
            IndicatorRow(
                seq=draw(st.one_of(st.none(), st.integers(1, 999))) if i else i + 1,
                name=draw(name),
                kind=draw(st.one_of(st.none(), st.sampled_from(list(Kind)))),
                direction=draw(st.one_of(st.none(), st.sampled_from(list(Direction)))),
                target_value=draw(quantity),
                unit=draw(st.sampled_from(["", "个", "家", "%", "亿元", "万元"])),
                target_text=draw(text),
                approved_target_text=draw(text),
                target_change_note=draw(text),
                scored_measure=draw(text),
                actual_value=draw(quantity),
                actual_text=draw(long_text),
                grade=draw(st.one_of(st.none(), st.sampled_from(list(Grade)))),
                override_rate=draw(st.one_of(st.none(), st.decimals(min_value=0, max_value=300, places=2))),
                override_reason=draw(text),
                shortfall_reason=draw(text),
                excess_reason=draw(text),
            )
        )
    return out


@st.composite
def evaluations(draw: st.DrawFn) -> Evaluation:
    budget = Budget(
        **{
            f: draw(opt_amount)
            for f in Budget.model_fields
            if f not in ("unit_yi", "note", "stated_execution_rate")
        },
        unit_yi=draw(st.booleans()),
        note=draw(text),
    )
    management = []
    for spec in FW.management():
        counted = spec.rule == "count_ratio"
        management.append(
            ManagementEntry(
                indicator=spec.id,
                answers=[draw(st.one_of(st.none(), st.sampled_from(list(Answer)))) for _ in spec.items],
                count_total=draw(count) if counted else None,
                count_done=draw(count) if counted else None,
                evidence=draw(long_text),
                explanation=draw(text),
                override_score=draw(st.one_of(st.none(), st.decimals(min_value=0, max_value=7, places=2))),
                override_reason=draw(text),
            )
        )
    monthly = draw(st.lists(rate, min_size=12, max_size=12))
    return Evaluation(
        department=Department(
            name=draw(text),
            short_name=draw(text),
            self_ref=draw(name),  # blank means the default 我局
            year=draw(st.one_of(st.none(), st.integers(1990, 2100))),
            intro=draw(long_text),
            duties=draw(long_text),
            subordinate_units=draw(text),
            staffing=draw(text),
            performance_goal=draw(long_text),
            performance_management=draw(text),
        ),
        tasks=[
            KeyTask(name=draw(name), content=draw(text), completion=draw(long_text))
            for _ in range(draw(st.integers(0, 4)))
        ],
        budget=budget,
        outputs=draw(rows()),
        benefits=draw(rows()),
        spending=Spending(monthly=monthly, annual_mean=draw(rate)),
        management=management,
        problems=draw(st.lists(name, max_size=4)),
        improvements=draw(st.lists(name, max_size=4)),
        claims=Claims(
            total=draw(st.one_of(st.none(), st.decimals(min_value=0, max_value=100, places=2))),
            rating=draw(st.sampled_from(["", "优", "良"])),
        ),
    )


@pytest.mark.slow
@settings(
    max_examples=examples(25),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(evaluations())
def test_evaluation_template_reader_round_trip(ev: Evaluation) -> None:
    with TemporaryDirectory() as tmp:
        path = save_workbook(build_workbook(FW, ev), Path(tmp) / "rt.xlsx")
        back, findings, _ = read_workbook(path)
    assert not [f for f in findings if f.code.startswith(("P", "R"))], findings
    for field in Evaluation.model_fields:
        if field == "management":
            for got, want in zip(back.management, ev.management, strict=True):
                for attr in ManagementEntry.model_fields:
                    assert getattr(got, attr) == getattr(want, attr), (got.indicator, attr)
        assert getattr(back, field) == getattr(ev, field), field
    assert back == ev


def test_extremes_round_trip(tmp_path: Path) -> None:
    ev = Evaluation()
    ev.department.name = '=HYPERLINK("http://x")'  # formula-looking text stays text
    ev.department.staffing = "#NUM!"  # so does text that reads like an Excel error value
    ev.department.duties = "职" * 32000
    ev.budget.total_budget = Decimal("9999999999999.99")
    ev.budget.income_current = Decimal(0)
    ev.outputs = [IndicatorRow(name="+1", kind=Kind.QUANT, target_value=Decimal("0.001"), unit="%")]
    # the template always lists the framework's 22 indicators: unanswered rows read back as empty entries
    ev.management = [ManagementEntry(indicator=s.id, answers=[None] * len(s.items)) for s in FW.management()]
    path = save_workbook(build_workbook(FW, ev), tmp_path / "x.xlsx")
    back, _, _ = read_workbook(path)
    assert back == ev
