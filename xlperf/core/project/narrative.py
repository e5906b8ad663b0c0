"""The 项目支出绩效自评报告, written from a scored ``ProjectResult`` and read back (J40).

Outline (docs/DOMAIN.md §5.5): 一、项目基本情况 · 二、绩效目标实现情况 · 三、偏差原因分析 ·
四、存在问题及改进措施. The clerk's texts (年度总体目标, 实际完成情况, 偏差原因, 问题, 措施) are used as
typed; every number comes from the result, in the number style of the department report
(:mod:`xlperf.core.narrative`: at most two decimals, no trailing zeros).
"""

from __future__ import annotations

import re
from decimal import Decimal

from xlperf.core.decimals import ZERO, plain
from xlperf.core.findings import Finding, finding
from xlperf.core.narrative import (
    MISSING,
    Writer,
    circled,
    clause,
    cn_number,
    format_full,
    format_money,
    format_percent,
    format_score,
    lines_of,
    quoted,
    read_decimal,
    sentence,
)
from xlperf.core.project.evaluation import FUND_ROWS
from xlperf.core.project.result import ProjectResult, RowResult
from xlperf.core.report import Report, Role

TITLE = "项目支出绩效自评报告"
SECTION_HEADINGS = ("一、项目基本情况", "二、绩效目标实现情况", "三、偏差原因分析", "四、存在问题及改进措施")
#: the sentence of 二、（一） that carries the total and the rating (read back
#: by :func:`check_project_report`)
_CONCLUSION = re.compile(r"自评得分(?P<total>-?[\d.]+)分")
_BUDGET = re.compile(r"预算执行率为(?P<rate>[\d.]+)%，得分(?P<score>[\d.]+)分")
_NUMBERED = re.compile(r"^\s*\d+\s*[.、．]\s*")
_LEVEL = re.compile(r"^(?P<name>\S+?)：分值(?P<full>[\d.]+)分，得分(?P<score>[\d.]+)分")


def _writer(result: ProjectResult) -> Writer:
    w = Writer(None)
    w.unreadable = {f.path: f.typed for f in result.findings if f.code in ("P01", "P03") and f.path}
    return w


def build_project_report(result: ProjectResult) -> Report:
    ev = result.evaluation
    info = ev.project
    w = _writer(result)
    for label, value in (
        ("项目名称", info.name),
        ("主管部门", info.department),
        ("实施单位", info.unit),
        ("填报人", info.preparer),
        ("联系电话", info.phone),
        ("填报日期", info.fill_date),
    ):
        if value.strip():
            w.add(0, f"{label}：{value.strip()}", Role.META)
    year = f"{info.year}年度" if info.year else "本年度"
    name = quoted(info.name) if info.name.strip() else "本项目"

    w.heading(1, SECTION_HEADINGS[0])
    w.heading(2, "（一）项目概况")
    who = "、".join(
        part
        for part in (
            f"主管部门为{clause(info.department)}" if info.department.strip() else "",
            f"实施单位为{clause(info.unit)}" if info.unit.strip() else "",
        )
        if part
    )
    w.body(sentence(f"{name}是{year}项目支出" + (f"，{who}" if who else "")))
    w.heading(2, "（二）项目资金情况")
    w.body(_funds_sentence(result))
    w.heading(2, "（三）年度总体目标")
    w.texts(ev.goal_expected, "预期目标：")

    w.heading(1, SECTION_HEADINGS[1])
    w.heading(2, "（一）总体完成情况")
    w.texts(ev.goal_actual, "实际完成情况：")
    rating = f"，评价等级为“{result.rating}”" if result.rating else ""
    how = ""
    if result.applicable_full < result.framework.total:
        how = f"（不适用指标不计分，按适用指标得分{format_score(result.raw_total)}分折算为百分制）"
    if result.cap is not None:
        how += (
            f"（预算执行率为{format_percent(result.budget.rate)}，"
            f"总分按评分规则以{format_full(result.cap)}分封顶）"
        )
    w.body(
        f"按{result.framework.name}，{name}总分{format_full(result.framework.total)}分，自评得分{format_score(result.total)}分{how}{rating}。"
    )
    w.heading(2, "（二）预算执行情况")
    b = result.budget
    if b.rate is not None:
        w.body(
            f"全年预算数{format_money(b.budget)}，全年执行数{format_money(b.executed)}，"
            f"预算执行率为{format_percent(b.rate)}，得分{format_score(b.score)}分（分值{format_full(b.full)}分）。"
        )
    else:
        w.body(
            f"预算执行率无法计算（全年预算数或全年执行数{MISSING}），得分0分（分值{format_full(b.full)}分）。"
        )
    w.heading(2, "（三）绩效指标完成情况")
    for k, level in enumerate(result.levels, start=1):
        if not level.rows:
            continue
        w.heading(3, f"{k}.{level.name}")
        w.body(f"{level.name}：分值{format_full(level.full)}分，得分{format_score(level.score)}分。")
        for i, row in enumerate(level.rows, start=1):
            w.body(f"{circled(i)}{_row_sentence(result, row)}", Role.FIELD)
    unknown = [r for r in result.rows if not r.level]
    if unknown:
        w.heading(3, f"{len([lv for lv in result.levels if lv.rows]) + 1}.其他指标（一级指标未识别）")
        for i, row in enumerate(unknown, start=1):
            w.body(f"{circled(i)}{_row_sentence(result, row)}", Role.FIELD)

    w.heading(1, SECTION_HEADINGS[2])
    deviations = _deviations(result)
    if deviations:
        for i, text in enumerate(deviations, start=1):
            w.body(f"{cn_number(i)}是{text}", Role.ITEM)
    else:
        w.body("各项绩效指标均达到年度指标值，预算执行率达到评分要求，无偏差。")

    w.heading(1, SECTION_HEADINGS[3])
    w.heading(2, "（一）存在问题")
    _listed(w, ev.problems)
    w.heading(2, "（二）改进措施")
    _listed(w, ev.improvements)
    return Report(TITLE, tuple(w.paragraphs), department=info.department, year=info.year)


def _funds_sentence(result: ProjectResult) -> str:
    funds = result.evaluation.funds
    b = result.budget
    parts = []
    for key, label in FUND_ROWS[1:]:
        row = getattr(funds, key)
        if row.empty:
            continue
        plain_label = label.removeprefix("其中：")
        parts.append(f"{plain_label}{format_money(row.budget, blank='（未填写）')}")
    text = f"项目全年预算数{format_money(b.budget)}"
    if parts:
        text += f"（{'，'.join(parts)}）"
    text += f"，全年执行数{format_money(b.executed)}"
    initial = funds.total.initial
    if b.from_parts:
        given = [row.initial for _, row in funds.parts() if row.initial is not None]
        initial = sum(given, ZERO) if given else None
    if initial is not None:
        text = f"项目年初预算数{format_money(initial)}，" + text
    return text + "。"


def _value(value: Decimal | None, unit: str, typed: str) -> str:
    if value is None:
        return typed.strip() or MISSING
    return f"{plain(value)}{unit}"


def _row_sentence(result: ProjectResult, row: RowResult) -> str:
    label = quoted(row.name) if row.name.strip() else "（未命名指标）"
    if not row.applicable:
        return f"{label}：不适用，不计分。"
    head = f"{label}（{row.level2}）" if row.level2.strip() else label
    if row.operator == "定性":
        what = (
            f"年度指标值{row.target_text.strip() or MISSING}，"
            f"实际完成情况{row.actual_text.strip() or MISSING}"
        )
        if row.grade:
            what += f"（{row.grade}）"
    else:
        target = row.target_text.strip() or MISSING
        what = f"年度指标值{target}，实际完成值{_value(row.actual, row.unit, row.actual_text)}"
    score = f"分值{format_full(row.full)}分，得分{format_score(row.score)}分"
    if row.deduction:
        score += f"（含超出指标值扣{format_score(row.deduction)}分）"
    if not row.scored:
        score += "（数据不完整，暂按计算结果计）"
    return f"{head}：{what}；{score}。"


def _deviations(result: ProjectResult) -> list[str]:
    """Every row below its 分值 or far above its target, and a low 执行率, with the clerk's reason."""
    out = []
    b = result.budget
    fw = result.framework
    reason = result.evaluation.funds.reason.strip()
    if b.rate is not None and b.score < b.full:
        text = (
            f"预算执行率{format_percent(b.rate)}，得分{format_score(b.score)}分，"
            f"低于分值{format_full(b.full)}分"
        )
        out.append(sentence(f"{text}。原因：{clause(reason)}" if reason else f"{text}（未说明原因）"))
    threshold = fw.rows.excess_threshold
    for row in result.rows:
        if not row.applicable:
            continue
        over = (
            threshold is not None
            and row.completion is not None
            and row.completion >= threshold
            and row.operator in ("≥", ">", "=")
        )
        if not (row.below_full or over):
            continue
        label = quoted(row.name) if row.name.strip() else "（未命名指标）"
        if over:
            text = f"{label}实际完成值为年度指标值的{format_percent(row.completion)}，超出较多"
        else:
            text = f"{label}得分{format_score(row.score)}分，低于分值{format_full(row.full)}分"
        cause = clause(row.reason)
        out.append(sentence(f"{text}。原因及改进措施：{cause}" if cause else f"{text}（未说明原因）"))
    return out


def _listed(w: Writer, text: str) -> None:
    lines = lines_of(text)
    if not lines:
        w.body("无。")
        return
    if len(lines) == 1:
        w.body(sentence(lines[0]))
        return
    for i, line in enumerate(lines, start=1):
        w.body(f"{i}.{sentence(_NUMBERED.sub('', line))}", Role.ITEM)


def check_project_report(result: ProjectResult, report: Report) -> list[Finding]:
    """J40: the total, the 执行率 and its score, and each 一级's 分值 and 得分 read back out of the
    report's text equal the result it was written from."""
    problems: list[str] = []
    text = report.text()
    m = _CONCLUSION.search(text)
    if m is None or read_decimal(m["total"]) != _shown(result.total):
        problems.append(f"自评得分（应为 {format_score(result.total)} 分）")
    b = result.budget
    m = _BUDGET.search(text)
    if b.rate is not None and (
        m is None or read_decimal(m["rate"]) != _shown(b.rate) or read_decimal(m["score"]) != _shown(b.score)
    ):
        problems.append(f"预算执行率及得分（应为 {format_percent(b.rate)}、{format_score(b.score)} 分）")
    levels = {lv.name: lv for lv in result.levels}
    seen = set()
    for p in report.paragraphs:
        m = _LEVEL.match(p.text)
        if m is None or m["name"] not in levels:
            continue
        lv = levels[m["name"]]
        seen.add(lv.name)
        if read_decimal(m["full"]) != _shown(lv.full) or read_decimal(m["score"]) != _shown(lv.score):
            problems.append(f"{lv.name}的分值与得分")
    for lv in result.levels:
        if lv.rows and lv.name not in seen:
            problems.append(f"{lv.name}的得分")
    return [
        finding("J40", f"自评报告中的{p}与评分结果不一致（xlperf 的缺陷，请报告）", "report")
        for p in problems
    ]


def _shown(value: Decimal) -> Decimal:
    """A number as the report writes it (2 places, no trailing zeros), for comparing what is read back."""
    number = read_decimal(format_score(value))
    return number if number is not None else ZERO
