"""产出/效益: weight w = full / n; deduction per row round_half_up(w × (1 − r), 2) (rule R-a).

The kind owns its rows: their checks (V10–V19), their paragraphs in the report and their score-card
entries.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from xlperf.core.decimals import ONE, ZERO, plain, round2
from xlperf.core.evaluation import Evaluation, IndicatorRow, Kind
from xlperf.core.findings import Finding, finding
from xlperf.core.framework import Framework, IndicatorSpec
from xlperf.core.narrative import (
    Writer,
    circled,
    format_full,
    format_percent,
    format_score,
    self_ref,
    sentence,
)
from xlperf.core.quantity import direction_in_text, normalise_text, normalised_words
from xlperf.core.report import Role
from xlperf.core.result import IndicatorScore, Result, RowScore
from xlperf.core.rules import Context, RuleKind, completion, register, row_label, row_path


@register
class CompletionSection(RuleKind):
    """产出/效益: weight w = full / n; deduction per row round_half_up(w × (1 − r), 2) (rule R-a)."""

    name = "completion_section"
    subtotal = True
    management_entry = False

    def describe(self, spec: IndicatorSpec, fw: Framework) -> str:
        c = fw.completion
        table = "产出指标" if spec.rows == "outputs" else "效益指标"
        grades = "、".join(f"{g} {plain(c.grades[g] * 100)}%" for g in fw.grade_names())
        return (
            f"按“{table}”表各行计分：每行权重 = 分值 ÷ 行数，扣分 = 权重 ×（1 − 完成率）。"
            "定量指标完成率 = 实际值 ÷ 目标值（“≤”类为目标值 ÷ 实际值，“=”类为两者中小数 ÷ 大数），"
            f"计分时最高按 {plain(c.cap * 100)}%；"
            f"定性指标按完成等级：{grades}。完成率低于 100% 须写未达标原因；"
            f"完成率{c.excess_words}时须写明原因。"
        )

    def check(self, spec: IndicatorSpec, fw: Framework) -> list[str]:
        return [] if spec.rows else ['completion_section 规则须指定 rows = "outputs" 或 "benefits"']

    def score(self, spec: IndicatorSpec, ctx: Context) -> tuple[IndicatorScore, list[Finding]]:
        rows = ctx.evaluation.outputs if spec.rows == "outputs" else ctx.evaluation.benefits
        fw = ctx.framework
        findings: list[Finding] = []
        scored: list[RowScore] = []
        n = len(rows)
        weight = spec.full / n if n else ZERO
        for index, row in enumerate(rows):
            r, source = completion(row, fw)
            computed = None
            if row.override_rate is not None:
                path = row_path(spec.rows or "", index, "override_rate")
                if row.override_reason.strip():
                    computed = r
                    r, source = row.override_rate / 100, "override"
                    shown = "无法计算" if computed is None else f"{round2(computed * 100)}%"
                    findings.append(
                        finding(
                            "V43",
                            f"{row_label(index, row)}使用手工完成率 {row.override_rate}%"
                            f"（公式计算为 {shown}），理由：{row.override_reason.strip()}",
                            path,
                        )
                    )
                else:
                    findings.append(
                        finding(
                            "V43",
                            f"{row_label(index, row)}填写了手工完成率但没有理由，已忽略，"
                            "按公式计分；如需调整请在“调整理由”列写明理由",
                            path,
                        )
                    )
            used = ZERO if r is None else min(max(r, ZERO), fw.completion.cap)
            deduction = round2(weight * (ONE - used))
            scored.append(
                RowScore(spec.id, index, index + 1, row.name, weight, r, computed, used, deduction, source)
            )
        # a framework may cap r above 1: a bonus can offset other rows, never lift the section past full
        total = min(spec.full, max(ZERO, spec.full - sum((s.deduction for s in scored), ZERO)))
        if n == 0:
            findings.append(finding("V10", f"没有填写任何{spec.row_noun}，该项得 0 分", spec.rows or ""))
            total = ZERO
        return IndicatorScore(spec, ctx.section, total, rows=tuple(scored)), findings

    def validate(
        self, spec: IndicatorSpec, ev: Evaluation, ind: IndicatorScore, fw: Framework
    ) -> list[Finding]:
        rows = ev.outputs if spec.rows == "outputs" else ev.benefits
        out: list[Finding] = []
        for row, scored in zip(rows, ind.rows, strict=True):
            _validate_row(spec.rows or "", row, scored, fw, ev, out)
        return out

    def narrate(self, w: Writer, result: Result, k: int, ind: IndicatorScore) -> None:
        _narrate_rows(w, result, k, ind)

    def card(self, ind: IndicatorScore, section: str) -> list[dict[str, Any]]:
        return [
            {
                "section": row.section,
                "seq": row.seq,
                "name": row.name,
                "full": float(row.full_display),
                "completion": None
                if row.completion is None
                else float(row.completion.quantize(Decimal("0.0001"))),
                "deduction": float(row.deduction),
                "score": float(row.score),
            }
            for row in ind.rows
        ]


def _validate_row(
    rows: str, row: IndicatorRow, scored: RowScore, fw: Framework, ev: Evaluation, out: list[Finding]
) -> None:
    i = scored.index
    where = row_label(i, row)
    path = f"{rows}[{i}]"
    missing: list[tuple[str, str]] = []
    if not row.name.strip():
        missing.append(("name", "指标名称"))
    if row.kind is None:
        missing.append(("kind", "指标类型（定量/定性）"))
    if row.kind is Kind.QUAL:
        if row.grade is None and row.override_rate is None:
            missing.append(("grade", "完成等级"))
        if not row.target_text.strip():
            missing.append(("target_text", "年度目标值（文字）"))
    elif row.kind is Kind.QUANT:
        if row.direction is None:
            missing.append(("direction", "方向（≥/≤/=）"))
        if row.target_value is None:
            missing.append(("target_value", "目标值"))
        if not row.unit.strip():
            missing.append(("unit", "单位"))
        if row.actual_value is None and row.override_rate is None:
            missing.append(("actual_value", "实际值"))
    for field, label in missing:
        out.append(finding("V10", f"{where}缺少{label}，请填写", f"{path}.{field}"))
    if scored.source == "bad_grade" and row.grade is not None:
        out.append(
            finding(
                "V10",
                f"{where}的完成等级“{row.grade[:20]}”不是本评分框架的等级，本指标暂未计分；"
                f"请选择 {'/'.join(fw.grade_names())}",
                f"{path}.grade",
            )
        )
    if scored.source == "bad_target" and row.target_value is not None:
        out.append(
            finding(
                "V10",
                f"{where}的目标值为 {plain(row.target_value)}，无法计算完成率（任何实际值都算完成）；"
                "请填写计分用的年度目标数，本指标暂未计分",
                f"{path}.target_value",
            )
        )

    if row.kind is Kind.QUANT and row.direction is not None:
        stated = direction_in_text(row.target_text)
        if stated is not None and stated is not row.direction:
            out.append(
                finding(
                    "V11",
                    f"{where}的目标值文字“{row.target_text[:30]}”表示“{stated.value}”，但方向选择了“{row.direction.value}”，"
                    "请改正其中之一",
                    f"{path}.direction",
                )
            )
    r = scored.completion if scored.source != "override" else scored.used
    if r is not None:
        if r < 1 and not row.shortfall_reason.strip():
            out.append(
                finding(
                    "V12",
                    f"{where}完成率 {round2(r * 100)}%，未达 100%，请填写未达标原因",
                    f"{path}.shortfall_reason",
                )
            )
        if fw.completion.is_excess(r) and not row.excess_reason.strip():
            out.append(
                finding(
                    "V13",
                    f"{where}完成率 {round2(r * 100)}%，{fw.completion.excess_words}，"
                    f"请填写“{fw.completion.excess_label}”（如目标设置偏低）",
                    f"{path}.excess_reason",
                )
            )
    if (
        row.approved_target_text.strip()
        and normalised_words(row.approved_target_text) != normalised_words(row.target_text)
        and not row.target_change_note.strip()
    ):
        out.append(
            finding(
                "V15",
                f"{where}的目标值“{row.target_text[:30]}”与批复目标值“{row.approved_target_text[:30]}”不同，"
                "请在“目标调整说明”中说明原因",
                f"{path}.target_change_note",
            )
        )
    if len(re.findall(r"\d+(?:\.\d+)?", row.target_text)) >= 2 and not row.scored_measure.strip():
        out.append(
            finding(
                "V16",
                f"{where}的目标包含多个子目标，请在“计分口径”中说明按哪一个计分",
                f"{path}.scored_measure",
            )
        )
    if r is not None and scored.source == "value":
        _plausible(where, row, r, fw, path, out)
    if row.seq != i + 1:
        typed = "为空" if row.seq is None else f"填的是 {row.seq}，与它在表中的位置不一致（或重复）"
        out.append(
            finding(
                "V19",
                f"{where}的“序号”列{typed}；评分汇总、报告和提示都按表中顺序编为序号{i + 1}，"
                f"请把序号改为 {i + 1}",
                f"{path}.seq",
            )
        )
    if scored.used < 1 and row.name.strip() and r is not None:
        text = normalised_words("".join(ev.problems))
        if normalised_words(row.name) not in text:
            out.append(
                finding(
                    "V17",
                    f"{where}未完全完成（完成率 {round2(r * 100)}%），“存在的主要问题”中未提及，请补充",
                    "problems",
                )
            )


_NUMBER_IN_TEXT = re.compile(r"-?\d+(?:\.\d+)?")


def _plausible(
    where: str, row: IndicatorRow, r: Decimal, fw: Framework, path: str, out: list[Finding]
) -> None:
    """V18: an actual value that its own text or the completion rate says is probably mistyped."""
    assert row.actual_value is not None and row.target_value is not None
    unit = row.unit.strip()
    typed = f"实际值 {plain(row.actual_value)}{unit}、目标值 {plain(row.target_value)}{unit}"
    rate = r * 100
    low, high = fw.completion.plausible_min, fw.completion.plausible_max
    if not low <= rate <= high:
        out.append(
            finding(
                "V18",
                f"{where}{typed}，完成率 {round2(rate)}% {'低于' if rate < low else '高于'} "
                f"{plain(low if rate < low else high)}%，很可能是输入有误（如多输或少输了位数、"
                "百分数写成了小数），请核对",
                f"{path}.actual_value",
            )
        )
        return
    # only numbers written with the row's own unit (“满意度95%”, “6场”) state a value
    for field, label, value, text in (
        ("actual_value", "年度实际值（文字）", row.actual_value, row.actual_text),
        ("target_value", "年度目标值（文字）", row.target_value, row.target_text),
    ):
        if value not in _numbers_with_unit(text, unit) and _numbers_with_unit(text, unit):
            what = "实际值" if field == "actual_value" else "目标值"
            out.append(
                finding(
                    "V18",
                    f"{where}的“{label}”写的是“{text.strip()[:30]}”，与计分用的{what} "
                    f"{plain(value)}{unit} 不一致，请核对两处",
                    f"{path}.{field}",
                )
            )


def _numbers_with_unit(text: str, unit: str) -> set[Decimal]:
    """The numbers in ``text`` followed by ``unit`` (linear in the text: a pasted report is long)."""
    if not unit:
        return set()
    flat, tail = normalise_text(text).replace(",", ""), normalise_text(unit)
    return {Decimal(m.group(0)) for m in _NUMBER_IN_TEXT.finditer(flat) if flat.startswith(tail, m.end())}


def _narrate_rows(w: Writer, result: Result, k: int, ind: IndicatorScore) -> None:
    ev, fw = result.evaluation, result.framework
    spec = ind.spec
    rows = ev.outputs if spec.rows == "outputs" else ev.benefits
    what = spec.row_noun
    w.add(
        4,
        f"（{k}）{spec.name}。根据{self_ref(ev)}工作职能设置了{len(rows)}个{what}，"
        f"总分{format_full(spec.full)}分，自评得分{format_score(ind.score)}分。"
        + ("具体情况如下：" if rows else ""),
        Role.LEAD,
    )
    for i, (row, scored) in enumerate(zip(rows, ind.rows, strict=True), start=1):
        at = f"{spec.rows}[{i - 1}]"
        # a blank name, target, actual or reason is left out: its finding (V10/V12/V13) asks for it
        w.heading(4, f"{circled(i)}{row.name.strip()}")
        if target_text(row):
            w.body(f"年度目标值：{sentence(target_text(row))}", Role.FIELD)
        if actual_text(row):
            w.body(f"年度实际值：{sentence(actual_text(row))}", Role.FIELD)
        if scored.completion is None and scored.source != "override":
            w.body(f"完成情况：{unscored_reason(w, row, scored, at)}，本指标暂未计分。", Role.FIELD)
            continue
        if row.kind is Kind.QUAL and row.grade is not None and scored.used < 1:
            w.body(f"完成情况：{row.grade}（完成率按{format_percent(scored.used * 100)}计）。", Role.FIELD)
        if scored.source == "override":
            computed = (
                "无法计算"
                if scored.computed_completion is None
                else format_percent(scored.computed_completion * 100)
            )
            w.body(
                f"完成率：按{format_percent(scored.used * 100)}计（公式计算为{computed}），"
                f"理由：{sentence(row.override_reason)}",
                Role.FIELD,
            )
        r = scored.completion if scored.source != "override" else scored.used
        if (r is None or r < 1) and row.shortfall_reason.strip():
            w.body(f"未达标原因：{sentence(row.shortfall_reason)}", Role.FIELD)
        if r is not None and fw.completion.is_excess(r) and row.excess_reason.strip():
            w.body(f"{fw.completion.excess_label}：{sentence(row.excess_reason)}", Role.FIELD)


def unscored_reason(w: Writer, row: IndicatorRow, scored: RowScore, at: str) -> str:
    """Why a row could not be scored, in the clerk's terms (never an impossible number)."""
    if scored.source == "conflict":
        return "目标值文字中的方向词与“方向”列不一致"
    if scored.source == "bad_target":
        return f"目标值 {plain(row.target_value or ZERO)} 无法计算完成率"
    if scored.source == "bad_grade":
        return f"完成等级“{(row.grade or '')[:20]}”不是本评分框架的等级"
    fields = (
        (("kind", "指标类型"), ("grade", "完成等级"))
        if row.kind is Kind.QUAL
        else (("kind", "指标类型"), ("target_value", "目标值"), ("actual_value", "实际值"))
    )
    for field, label in fields:
        path = f"{at}.{field}"
        if path in w.unreadable:
            return f"{label}{w.unreadable_text(path)}"
    missing = [label for field, label in fields if getattr(row, field) is None]
    return f"缺少{'、'.join(missing)}" if missing else "数据不全"


def target_text(row: IndicatorRow) -> str:
    if row.target_text.strip():
        return row.target_text.strip()
    if row.target_value is not None:
        return f"{plain(row.target_value)}{row.unit.strip()}"
    return ""


def actual_text(row: IndicatorRow) -> str:
    if row.actual_text.strip():
        return row.actual_text.strip()
    if row.kind is Kind.QUAL and row.grade is not None:
        return row.grade
    if row.actual_value is not None:
        return f"{plain(row.actual_value)}{row.unit.strip()}"
    return ""
