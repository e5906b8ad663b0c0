"""Validation: every check of DOMAIN.md §3 that can be judged on an ``Evaluation``.

Each check appends findings to one list; nothing is raised. A finding's path names the field
(``budget.total_budget``, ``outputs[2].shortfall_reason``, ``management[M05].evidence``) so an
adapter can point at the cell.
"""

from __future__ import annotations

import re
from decimal import Decimal
from itertools import pairwise

from xlperf.decimals import ZERO, plain, round2
from xlperf.evaluation import Answer, Budget, Evaluation, IndicatorRow, Kind
from xlperf.findings import Finding, finding
from xlperf.framework import Framework
from xlperf.quantity import Direction, direction_in_text, normalise_text
from xlperf.result import Result, RowScore
from xlperf.rules import row_label

_FIELD_LABELS = {name: (f.description or name) for name, f in Budget.model_fields.items()}
_PUNCT = re.compile(r"[\s“”\"'‘’「」『』《》〈〉（）()【】\[\]、，,。.：:；;！!？?·…\-—]")


def validate(evaluation: Evaluation, framework: Framework, result: Result) -> list[Finding]:
    """All findings about the inputs, given the scores already computed."""
    out: list[Finding] = []
    _department(evaluation, out)
    _budget(evaluation.budget, framework, out)
    for ind in result.indicator_scores():
        if ind.rows:
            rows = evaluation.outputs if ind.spec.rows == "outputs" else evaluation.benefits
            for row, scored in zip(rows, ind.rows, strict=True):
                _indicator_row(ind.spec.rows or "", row, scored, framework, evaluation, out)
    if any(ind.rule == "monthly_mean" for ind in framework.indicators()):
        _spending(evaluation, out)
    _management(evaluation, framework, result, out)
    _claims(evaluation, result, out)
    return out


def _department(ev: Evaluation, out: list[Finding]) -> None:
    """The name and year head the report, the file names of the package and the 财政局's tables."""
    dep = ev.department
    if not dep.name.strip():
        out.append(finding("I01", "请在“基本信息”中填写部门全称（报告标题、报送文件名都要用到）", "department.name"))
    if dep.year is None:
        out.append(finding("I01", "请在“基本信息”中填写评价年度，如 2023", "department.year"))
    elif not 2000 <= dep.year <= 2100:
        out.append(finding("I01", f"评价年度 {dep.year} 不合理，请填写四位年份，如 2023", "department.year"))
    listed = len([u for u in dep.subordinate_units.splitlines() if u.strip()])
    if dep.subordinate_count is not None and listed and dep.subordinate_count != listed:
        out.append(finding(
            "V06", f"下属单位数量填的是 {dep.subordinate_count} 个，下属单位名单列了 {listed} 个，请核对；报告采用所填数量",
            "department.subordinate_count",
        ))


def _label(field: str) -> str:
    return _FIELD_LABELS.get(field, field)


def _missing(budget: Budget, fields: tuple[str, ...], code: str, out: list[Finding]) -> bool:
    missing = [f for f in fields if getattr(budget, f) is None]
    for f in missing:
        out.append(finding(code, f"请填写{_label(f)}（万元），没有请填 0", f"budget.{f}"))
    return bool(missing)


def _budget(b: Budget, fw: Framework, out: list[Finding]) -> None:
    tol = Decimal(str(fw.settings.get("tolerance", "0.01")))
    amounts = {name: getattr(b, name) for name in Budget.model_fields if name not in ("unit_yi", "note")}
    for name, value in amounts.items():
        if value is not None and value < 0 and name != "stated_execution_rate":
            out.append(finding("V07", f"{_label(name)}为 {value}，金额不得为负数，请更正", f"budget.{name}"))

    if not _missing(b, ("total_budget", "income_current", "carryover_prior"), "V01", out):
        assert b.total_budget is not None and b.income_current is not None and b.carryover_prior is not None
        expected = b.income_current + b.carryover_prior
        if abs(b.total_budget - expected) > tol:
            out.append(finding(
                "V01",
                f"全年预算数 {b.total_budget} 万元应等于本年收入 {b.income_current} + 上年结转 {b.carryover_prior}"
                f" = {expected} 万元，请核对",
                "budget.total_budget",
            ))
    if not _missing(b, ("executed", "spend_general"), "V02", out):
        assert b.executed is not None
        parts = [b.spend_general, b.spend_fund, b.spend_other]
        by_source = sum((p for p in parts if p is not None), ZERO)
        if abs(b.executed - by_source) > tol:
            out.append(finding(
                "V02",
                f"全年实际执行数 {b.executed} 万元应等于按资金来源分的支出之和 {by_source} 万元"
                "（一般公共预算 + 政府性基金 + 其他），请核对",
                "budget.executed",
            ))
    if not _missing(b, ("spend_basic", "spend_project"), "V03", out) and b.executed is not None:
        assert b.spend_basic is not None and b.spend_project is not None
        by_nature = b.spend_basic + b.spend_project
        if abs(b.executed - by_nature) > tol:
            out.append(finding(
                "V03",
                f"全年实际执行数 {b.executed} 万元应等于基本支出 {b.spend_basic} + 项目支出 {b.spend_project}"
                f" = {by_nature} 万元，请核对",
                "budget.spend_basic",
            ))
    if b.stated_execution_rate is not None:
        computed = (
            round2(b.executed / b.total_budget * 100) if b.executed is not None and b.total_budget else None
        )
        shown = f"{computed}%" if computed is not None else "（数据不全，暂无法计算）"
        out.append(finding(
            "V04",
            f"预算执行率由 xlperf 按 执行数 ÷ 全年预算数 计算为 {shown}，请删除手工填写的 {b.stated_execution_rate}%",
            "budget.stated_execution_rate",
        ))
    flow = (b.opening_balance, b.final_general, b.executed, b.closing_balance)
    if all(v is not None for v in flow):
        assert b.opening_balance is not None and b.final_general is not None
        assert b.executed is not None and b.closing_balance is not None
        income = b.final_general + (b.final_fund or ZERO) + (b.final_other or ZERO)
        expected = b.opening_balance + income - b.executed
        if abs(expected - b.closing_balance) > tol:
            out.append(finding(
                "V05",
                f"年初结转结余 {b.opening_balance} + 本年决算收入 {income} − 本年支出 {b.executed} = {expected} 万元，"
                f"与年末结转结余 {b.closing_balance} 万元不一致，请核对或在说明中解释",
                "budget.closing_balance",
            ))
    if not b.note.strip():
        for a, c in (("year_end_balance", "closing_balance"), ("carryover_prior", "opening_balance")):
            va, vc = getattr(b, a), getattr(b, c)
            if va is not None and vc is not None and va != vc:
                out.append(finding(
                    "V06",
                    f"{_label(a)} {va} 与 {_label(c)} {vc} 应为同一数字却不同，请核对或在“说明”中解释",
                    f"budget.{c}",
                ))
    for part, whole in (
        ("income_current", "total_budget"), ("carryover_prior", "total_budget"),
        ("spend_general", "executed"), ("spend_fund", "executed"), ("spend_other", "executed"),
        ("spend_basic", "executed"), ("spend_project", "executed"),
        ("fixed_assets_in_use", "fixed_assets_total"),
    ):
        vp, vw = getattr(b, part), getattr(b, whole)
        if vp is not None and vw is not None and vp > vw + tol:
            out.append(finding("V07", f"{_label(part)} {vp} 不能大于{_label(whole)} {vw}，请核对", f"budget.{part}"))


def _norm(text: str) -> str:
    return _PUNCT.sub("", text)


def _indicator_row(
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

    if row.kind is Kind.QUANT and row.direction is not None:
        stated = direction_in_text(row.target_text)
        if stated is not None and stated is not row.direction:
            out.append(finding(
                "V11",
                f"{where}的目标值文字“{row.target_text[:30]}”表示“{stated.value}”，但方向选择了“{row.direction.value}”，"
                "请改正其中之一",
                f"{path}.direction",
            ))
    r = scored.completion if scored.source != "override" else scored.used
    if r is not None:
        if r < 1 and not row.shortfall_reason.strip():
            out.append(finding(
                "V12", f"{where}完成率 {round2(r * 100)}%，未达 100%，请填写未达标原因", f"{path}.shortfall_reason"
            ))
        threshold = fw.completion.excess_threshold / 100
        over = r >= threshold if fw.completion.excess_inclusive else r > threshold
        if over and not row.excess_reason.strip():
            out.append(finding(
                "V13",
                f"{where}完成率 {round2(r * 100)}%，在 {fw.completion.excess_threshold}% 以上，"
                "请填写“完成率在150%以上的原因”（如目标设置偏低）",
                f"{path}.excess_reason",
            ))
    if (
        row.approved_target_text.strip()
        and _norm(row.approved_target_text) != _norm(row.target_text)
        and not row.target_change_note.strip()
    ):
        out.append(finding(
            "V15",
            f"{where}的目标值“{row.target_text[:30]}”与批复目标值“{row.approved_target_text[:30]}”不同，"
            "请在“目标调整说明”中说明原因",
            f"{path}.target_change_note",
        ))
    if len(re.findall(r"\d+(?:\.\d+)?", row.target_text)) >= 2 and not row.scored_measure.strip():
        out.append(finding(
            "V16",
            f"{where}的目标包含多个子目标，请在“计分口径”中说明按哪一个计分",
            f"{path}.scored_measure",
        ))
    if r is not None and scored.source == "value":
        _plausible(where, row, r, fw, path, out)
    if row.seq != i + 1:
        typed = "为空" if row.seq is None else f"填的是 {row.seq}，与它在表中的位置不一致（或重复）"
        out.append(finding(
            "V19", f"{where}的“序号”列{typed}；评分汇总、报告和提示都按表中顺序编为序号{i + 1}，"
            f"请把序号改为 {i + 1}",
            f"{path}.seq",
        ))
    if scored.used < 1 and row.name.strip() and r is not None:
        text = _norm("".join(ev.problems))
        if _norm(row.name) not in text:
            out.append(finding(
                "V17",
                f"{where}未完全完成（完成率 {round2(scored.used * 100)}%），“存在的主要问题”中未提及，请补充",
                "problems",
            ))


_NUMBER_IN_TEXT = re.compile(r"-?\d+(?:\.\d+)?")


def _plausible(where: str, row: IndicatorRow, r: Decimal, fw: Framework, path: str, out: list[Finding]) -> None:
    """V18: an actual value that its own text or the completion rate says is probably mistyped."""
    assert row.actual_value is not None and row.target_value is not None
    unit = row.unit.strip()
    typed = f"实际值 {plain(row.actual_value)}{unit}、目标值 {plain(row.target_value)}{unit}"
    rate = r * 100
    low, high = fw.completion.plausible_min, fw.completion.plausible_max
    if not low <= rate <= high:
        out.append(finding(
            "V18", f"{where}{typed}，完成率 {round2(rate)}% {'低于' if rate < low else '高于'} "
            f"{plain(low if rate < low else high)}%，很可能是输入有误（如多输或少输了位数、百分数写成了小数），请核对",
            f"{path}.actual_value",
        ))
        return
    # only numbers written with the row's own unit (“满意度95%”, “6场”) state the actual value
    text = normalise_text(row.actual_text).replace(",", "")
    numbers = {Decimal(m.group(0)) for m in _NUMBER_IN_TEXT.finditer(text)
               if unit and text[m.end():].startswith(normalise_text(unit))}
    if numbers and row.actual_value not in numbers:
        out.append(finding(
            "V18", f"{where}的“年度实际值（文字）”写的是“{row.actual_text.strip()[:30]}”，与计分用的实际值 "
            f"{plain(row.actual_value)}{unit} 不一致，请核对两处",
            f"{path}.actual_value",
        ))


def _spending(ev: Evaluation, out: list[Finding]) -> None:
    sp = ev.spending
    entered = [(i, m) for i, m in enumerate(sp.monthly) if m is not None]
    if not entered and sp.annual_mean is None:
        out.append(finding("V20", "请填写12个月的一般公共预算支出执行率，或填写年度平均执行率", "spending.monthly[0]"))
    elif entered and len(entered) < 12 and sp.annual_mean is None:
        absent = [str(i + 1) for i, m in enumerate(sp.monthly) if m is None]
        out.append(finding(
            "V20", f"缺少 {'、'.join(absent)} 月的执行率，请补齐12个月或改填年度平均执行率",
            f"spending.monthly[{int(absent[0]) - 1}]" if absent else "spending.monthly[0]",
        ))
    # the 0–100 % range of each rate is checked by the monthly_mean rule, which refuses to score it
    values = [m for _, m in entered]
    if len(values) == 12 and all(a < b for a, b in pairwise(values)) and values[0] < 50:
        out.append(finding(
            "V21",
            "执行率逐月递增，像是累计执行率；评分按各月执行率的平均值计算，请填写财政部门通报的各月执行率",
            "spending.monthly[0]",
        ))


def _management(ev: Evaluation, fw: Framework, result: Result, out: list[Finding]) -> None:
    specs = {s.id: s for s in fw.management()}
    entries = {m.indicator: m for m in ev.management}
    for key in entries:
        if key not in specs:
            out.append(finding("V30", f"管理效率中的“{key}”不是框架 {fw.id} 的指标，请删除该行", f"management[{key}]"))
    for key, spec in specs.items():
        entry = entries.get(key)
        if entry is None:
            out.append(finding("V30", f"缺少管理效率指标“{spec.name}”（{spec.full}分），请补上该行", f"management[{key}]"))
            continue
        p = f"management[{key}]"
        if entry.stated_full is not None and entry.stated_full != spec.full:
            out.append(finding(
                "V30", f"“{spec.name}”的分值应为 {spec.full} 分，表中为 {entry.stated_full}，请勿修改分值", f"{p}.stated_full"
            ))
        if not entry.evidence.strip():
            out.append(finding("V32", f"“{spec.name}”缺少评价说明，请写明本年度的实际情况和依据", f"{p}.evidence"))
        ind = result.indicator(key)
        if spec.rule == "checklist":
            for j, item in enumerate(spec.items):
                answer = entry.answers[j] if j < len(entry.answers) else None
                if answer is None:
                    out.append(finding(
                        "V32", f"“{spec.name}”的子项“{fw.item_text(item)}”未答复，请选择 是/否/不适用", f"{p}.answers[{j}]"
                    ))
        elif spec.rule == "count_ratio":
            n, m = entry.count_total, entry.count_done
            first = entry.answers[0] if entry.answers else None
            labels = spec.count_labels or ("N", "M")
            if n is None and first not in (Answer.YES, Answer.NA):
                out.append(finding(
                    "V32", f"“{spec.name}”请填写{labels[0]}和{labels[1]}，或在子项中选择“是”（全部按时）/“不适用”",
                    f"{p}.count_total",
                ))
            if n is not None and m is None and n != 0:
                out.append(finding("V32", f"“{spec.name}”请填写{labels[1]}", f"{p}.count_done"))
            if n is not None and m is not None and (m > n or m < 0 or n < 0):
                out.append(finding("V07", f"“{spec.name}”的{labels[1]} {m} 不能大于{labels[0]} {n}，也不能为负", f"{p}.count_done"))
        elif spec.rule == "ratio_threshold" and ind.ratio is None and not any(
            v is not None and v < 0 for v in ind.inputs.values()  # negative amounts: V07 says so
        ):
            blanks = [f for f, v in ind.inputs.items() if v is None]
            assert spec.ratio is not None
            ratio_spec = fw.ratios[spec.ratio]
            optional = {n.lstrip("-").rstrip("?") for n in (*ratio_spec.numerator, *ratio_spec.denominator) if n.endswith("?")}
            needed = [f for f in blanks if f not in optional]
            what = "、".join(_label(f) for f in needed) if needed else "分母不能为 0 的数据"
            out.append(finding(
                "V32", f"“{spec.name}”无法计算：请在“收支情况”中填写{what}",
                f"budget.{needed[0]}" if needed else f"{p}.evidence",
            ))
        low = spec.explain_below is not None and ind.ratio is not None and ind.ratio < spec.explain_below
        if low and not entry.explanation.strip():
            out.append(finding(
                "V33",
                f"{fw.ratios[spec.ratio or ''].name}为 {ind.ratio}%，低于 {spec.explain_below}%，请在“情况说明”中说明原因",
                f"{p}.explanation",
            ))


def _claims(ev: Evaluation, result: Result, out: list[Finding]) -> None:
    if ev.claims.total is not None and ev.claims.total != result.total:
        out.append(finding(
            "V40", f"填写的总分 {ev.claims.total} 与各部分得分之和 {result.total} 不一致，以计算结果为准，请更正",
            "claims.total",
        ))
    if ev.claims.rating.strip() and ev.claims.rating.strip() != result.rating:
        out.append(finding(
            "V41", f"填写的评价等级“{ev.claims.rating}”与总分 {result.total} 对应的等级“{result.rating}”不一致，请更正",
            "claims.rating",
        ))


__all__ = ["Direction", "validate"]
