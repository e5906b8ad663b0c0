"""``xlperf batch`` over project forms: what one scored 项目支出绩效自评表 puts into its ``Outcome``."""

from __future__ import annotations

from typing import Any

from xlperf.core.project.evaluation import ProjectEvaluation
from xlperf.core.project.result import ProjectResult
from xlperf.outcome import BLANK, ERRORS, OK, Outcome


def is_blank_project(ev: ProjectEvaluation) -> bool:
    """Not filled in (:attr:`ProjectEvaluation.is_blank`; the score card says it as ``blank``)."""
    return ev.is_blank


def fill_project(
    out: Outcome, evaluation: ProjectEvaluation, result: ProjectResult, card: dict[str, Any]
) -> Outcome:
    """Copy what 汇总 and 项目自评汇总 need from a project's score card into ``out``."""
    fw = result.framework
    out.form = "project"
    out.department = str(card.get("department") or "")
    out.project = evaluation.project.name
    out.unit = evaluation.project.unit
    out.year = card.get("year")
    out.sections = {k: float(v) for k, v in card["sections"].items()}
    out.total = float(card["total"])
    out.rating = str(card["rating"])
    out.errors, out.warnings = int(card["errors"]), int(card["warnings"])
    out.findings = list(card["findings"])
    out.ratios = dict(card.get("ratios") or {})
    out.framework, out.framework_sha256 = fw.label, fw.sha256
    out.ratings = fw.rating_names()
    out.section_names = {"budget": "预算执行率", **{lv.id: lv.name for lv in fw.levels}}
    out.claimed_total = None if evaluation.claimed_total is None else format(evaluation.claimed_total, "f")
    out.claimed_rating = evaluation.claimed_rating.strip()
    out.project_rows = [
        {
            "level1": next((lv.name for lv in result.levels if lv.id == r.level), r.level1),
            "name": r.name,
            "target": r.target_text,
            "actual": r.actual_text,
            "full": float(r.full),
            "score": float(r.score),
            "reason": r.reason,
        }
        for r in result.rows
        if r.below_full
    ]
    if is_blank_project(evaluation):
        out.status = BLANK
        out.message = "未填写：项目资金和绩效指标都是空的（空白表或尚未填写），不参加统计"
    elif out.errors:
        out.status = ERRORS
        out.message = (
            f"有 {out.errors} 条错误、{out.warnings} 条提醒，得分仅供参考；请按校验结果修改后重新计分"
        )
    else:
        out.status = OK
        out.message = "通过校验" + (f"（有 {out.warnings} 条提醒，请核对）" if out.warnings else "")
    return out
