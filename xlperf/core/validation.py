"""Validation: every check of docs/DOMAIN.md §3 that can be judged on an ``Evaluation``.

Each check appends findings to one list; nothing is raised. A finding's path names the field
(``budget.total_budget``, ``outputs[2].shortfall_reason``, ``management[M05].evidence``) so an
adapter can point at the cell.
"""

from __future__ import annotations

from decimal import Decimal

from xlperf.core.decimals import ZERO, round2
from xlperf.core.evaluation import Budget, Evaluation
from xlperf.core.findings import Finding, finding
from xlperf.core.framework import Framework
from xlperf.core.quantity import Direction
from xlperf.core.result import Result

_FIELD_LABELS = {name: (f.description or name) for name, f in Budget.model_fields.items()}


def validate(evaluation: Evaluation, framework: Framework, result: Result) -> list[Finding]:
    """All findings about the inputs, given the scores already computed."""
    out: list[Finding] = []
    _department(evaluation, out)
    _report_texts(evaluation, out)
    _budget(evaluation.budget, framework, out)
    for ind in result.indicator_scores():  # each rule kind owns the checks of its inputs
        out.extend(ind.spec.kind.validate(ind.spec, evaluation, ind, framework))
    _management(evaluation, framework, out)
    _claims(evaluation, result, out)
    return out


def _department(ev: Evaluation, out: list[Finding]) -> None:
    """The name and year head the report, the file names of the package and the 财政局's tables."""
    dep = ev.department
    if not dep.name.strip():
        out.append(
            finding("I01", "请在“基本信息”中填写部门全称（报告标题、报送文件名都要用到）", "department.name")
        )
    if dep.year is None:
        out.append(finding("I01", "请在“基本信息”中填写评价年度，如 2023", "department.year"))
    elif not 2000 <= dep.year <= 2100:
        out.append(finding("I01", f"评价年度 {dep.year} 不合理，请填写四位年份，如 2023", "department.year"))
    listed = len([u for u in dep.subordinate_units.splitlines() if u.strip()])
    if dep.subordinate_count is not None and listed and dep.subordinate_count != listed:
        out.append(
            finding(
                "V06",
                f"下属单位数量填的是 {dep.subordinate_count} 个，下属单位名单列了 {listed} 个，请核对；"
                "报告采用所填数量",
                "department.subordinate_count",
            )
        )


def _report_texts(ev: Evaluation, out: list[Finding]) -> None:
    """I02: what the 自评报告 is written from. The report leaves a blank out (it never prints a
    placeholder), so each blank is said here, on its cell."""
    dep = ev.department
    blanks = [
        (not (dep.intro.strip() or dep.duties.strip()), "部门职能和主要职责", "department.duties"),
        (not any(t.name.strip() or t.content.strip() for t in ev.tasks), "重点工作任务", "tasks"),
        (not dep.performance_goal.strip(), "部门整体支出绩效目标", "department.performance_goal"),
        (not dep.performance_management.strip(), "部门整体绩效管理情况", "department.performance_management"),
        (not any(p.strip() for p in ev.problems), "存在的主要问题", "problems"),
        (not any(t.strip() for t in ev.improvements), "下一步改进措施", "improvements"),
    ]
    for blank, what, path in blanks:
        if blank:
            out.append(finding("I02", f"“{what}”未填写，自评报告中这一部分将是空的；请填写", path))
    for i, t in enumerate(ev.tasks):
        if not t.name.strip() and (t.content.strip() or t.completion.strip()):
            out.append(
                finding(
                    "I02",
                    f"第{i + 1}项重点工作缺少任务名称，自评报告中不列其标题；请填写",
                    f"tasks[{i}].name",
                )
            )
    if ev.budget.year_end_balance is None:
        out.append(
            finding(
                "I02",
                "请填写年末结转和结余（万元），没有请填 0；自评报告的收支情况要写到它",
                "budget.year_end_balance",
            )
        )


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
            out.append(
                finding(
                    "V01",
                    f"全年预算数 {b.total_budget} 万元应等于本年收入 {b.income_current} + 上年结转 "
                    f"{b.carryover_prior}"
                    f" = {expected} 万元，请核对",
                    "budget.total_budget",
                )
            )
    if not _missing(b, ("executed", "spend_general"), "V02", out):
        assert b.executed is not None
        parts = [b.spend_general, b.spend_fund, b.spend_other]
        by_source = sum((p for p in parts if p is not None), ZERO)
        if abs(b.executed - by_source) > tol:
            out.append(
                finding(
                    "V02",
                    f"全年实际执行数 {b.executed} 万元应等于按资金来源分的支出之和 {by_source} 万元"
                    "（一般公共预算 + 政府性基金 + 其他），请核对",
                    "budget.executed",
                )
            )
    if not _missing(b, ("spend_basic", "spend_project"), "V03", out) and b.executed is not None:
        assert b.spend_basic is not None and b.spend_project is not None
        by_nature = b.spend_basic + b.spend_project
        if abs(b.executed - by_nature) > tol:
            out.append(
                finding(
                    "V03",
                    f"全年实际执行数 {b.executed} 万元应等于基本支出 {b.spend_basic} + 项目支出 "
                    f"{b.spend_project}"
                    f" = {by_nature} 万元，请核对",
                    "budget.spend_basic",
                )
            )
    if b.stated_execution_rate is not None:
        computed = (
            round2(b.executed / b.total_budget * 100) if b.executed is not None and b.total_budget else None
        )
        shown = f"{computed}%" if computed is not None else "（数据不全，暂无法计算）"
        out.append(
            finding(
                "V04",
                f"预算执行率由 xlperf 按 执行数 ÷ 全年预算数 计算为 {shown}，"
                f"请删除手工填写的 {b.stated_execution_rate}%",
                "budget.stated_execution_rate",
            )
        )
    flow = (b.opening_balance, b.final_general, b.executed, b.closing_balance)
    if all(v is not None for v in flow):
        assert b.opening_balance is not None and b.final_general is not None
        assert b.executed is not None and b.closing_balance is not None
        income = b.final_general + (b.final_fund or ZERO) + (b.final_other or ZERO)
        expected = b.opening_balance + income - b.executed
        if abs(expected - b.closing_balance) > tol:
            out.append(
                finding(
                    "V05",
                    f"年初结转结余 {b.opening_balance} + 本年决算收入 {income} − 本年支出 {b.executed} = "
                    f"{expected} 万元，"
                    f"与年末结转结余 {b.closing_balance} 万元不一致，请核对或在说明中解释",
                    "budget.closing_balance",
                )
            )
    if not b.note.strip():
        for a, c in (("year_end_balance", "closing_balance"), ("carryover_prior", "opening_balance")):
            va, vc = getattr(b, a), getattr(b, c)
            if va is not None and vc is not None and va != vc:
                out.append(
                    finding(
                        "V06",
                        f"{_label(a)} {va} 与 {_label(c)} {vc} 应为同一数字却不同，请核对或在“说明”中解释",
                        f"budget.{c}",
                    )
                )
    for part, whole in (
        ("income_current", "total_budget"),
        ("carryover_prior", "total_budget"),
        ("spend_general", "executed"),
        ("spend_fund", "executed"),
        ("spend_other", "executed"),
        ("spend_basic", "executed"),
        ("spend_project", "executed"),
        ("fixed_assets_in_use", "fixed_assets_total"),
    ):
        vp, vw = getattr(b, part), getattr(b, whole)
        if vp is not None and vw is not None and vp > vw + tol:
            out.append(
                finding("V07", f"{_label(part)} {vp} 不能大于{_label(whole)} {vw}，请核对", f"budget.{part}")
            )


def _management(ev: Evaluation, fw: Framework, out: list[Finding]) -> None:
    """The checks every 管理效率 row shares: known indicator, its 分值, its 评价说明 (V30, V32)."""
    specs = {s.id: s for s in fw.management()}
    entries = {m.indicator: m for m in ev.management}
    for key in entries:
        if key not in specs:
            out.append(
                finding(
                    "V30", f"管理效率中的“{key}”不是框架 {fw.id} 的指标，请删除该行", f"management[{key}]"
                )
            )
    for key, spec in specs.items():
        entry = entries.get(key)
        if entry is None:
            out.append(
                finding(
                    "V30", f"缺少管理效率指标“{spec.name}”（{spec.full}分），请补上该行", f"management[{key}]"
                )
            )
            continue
        p = f"management[{key}]"
        if entry.stated_full is not None and entry.stated_full != spec.full:
            out.append(
                finding(
                    "V30",
                    f"“{spec.name}”的分值应为 {spec.full} 分，表中为 {entry.stated_full}，请勿修改分值",
                    f"{p}.stated_full",
                )
            )
        if not entry.evidence.strip():
            out.append(
                finding("V32", f"“{spec.name}”缺少评价说明，请写明本年度的实际情况和依据", f"{p}.evidence")
            )


def _claims(ev: Evaluation, result: Result, out: list[Finding]) -> None:
    if ev.claims.total is not None and ev.claims.total != result.total:
        out.append(
            finding(
                "V40",
                f"填写的总分 {ev.claims.total} 与各部分得分之和 {result.total} 不一致，"
                "以计算结果为准，请更正",
                "claims.total",
            )
        )
    if ev.claims.rating.strip() and not result.framework.rated:
        out.append(
            finding(
                "V41",
                f"填写了评价等级“{ev.claims.rating[:20]}”，但本评分框架不评级（只计分）；请清空“自报等级”",
                "claims.rating",
            )
        )
    elif ev.claims.rating.strip() and ev.claims.rating.strip() != result.rating:
        out.append(
            finding(
                "V41",
                f"填写的评价等级“{ev.claims.rating}”与总分 {result.total} 对应的等级“{result.rating}”"
                "不一致，请更正",
                "claims.rating",
            )
        )


__all__ = ["Direction", "validate"]
