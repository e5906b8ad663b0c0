"""The ``ProjectEvaluation``: everything one 项目支出绩效自评表 holds, as entered.

What every adapter of the project form produces (the workbook reader, a JSON file) and the only
input of :func:`xlperf.core.project.evaluate_project`. Amounts in 万元 as ``Decimal``; 年度指标值 and
实际完成值 are kept as typed (text such as ``≥50个``, ``≤90万元``, ``达成预期指标``): the core reads
the number, unit and direction word out of them with :mod:`xlperf.core.quantity`, so a JSON file
and a workbook are read by one parser. Typed scores and rates are the clerk's own figures, kept to
be compared with the computed ones; no computed value lives here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from xlperf.core.evaluation import Dec
from xlperf.core.project.framework import FORM, NATIONAL_ID


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, str_strip_whitespace=True, defer_build=True
    )


class ProjectInfo(_Model):
    """The header of the form and the report's header lines."""

    name: str = Field("", description="项目名称")
    department: str = Field("", description="主管部门")
    unit: str = Field("", description="实施单位")
    year: int | None = Field(None, description="年度")
    preparer: str = Field("", description="填报人")
    phone: str = Field("", description="联系电话")
    fill_date: str = Field("", description="填报日期")


class FundRow(_Model):
    """One row of 项目资金（万元）: 年初预算数, 全年预算数 (A), 全年执行数 (B)."""

    initial: Dec | None = None
    budget: Dec | None = None
    executed: Dec | None = None

    @property
    def empty(self) -> bool:
        """Nothing entered, or only zeros (the 安徽 table's total row: 0 | 0 | 0)."""
        return not any(v for v in (self.initial, self.budget, self.executed))


#: the rows of 项目资金, as the form names them (the first is the total)
FUND_ROWS = (
    ("total", "年度资金总额"),
    ("current", "其中：当年财政拨款"),
    ("carryover", "上年结转资金"),
    ("other", "其他资金"),
)


class Funds(_Model):
    """项目资金（万元）: the total row and its parts, and the clerk's own 分值/执行率/得分."""

    total: FundRow = Field(default_factory=FundRow)
    current: FundRow = Field(default_factory=FundRow)
    carryover: FundRow = Field(default_factory=FundRow)
    other: FundRow = Field(default_factory=FundRow)
    full: Dec | None = Field(None, description="分值（表上填写的）")
    rate: Dec | None = Field(None, description="执行率（表上填写的，百分数）")
    score: Dec | None = Field(None, description="得分（表上填写的）")
    reason: str = Field("", description="预算执行偏差原因（执行率低于框架规定时须填写）")

    def parts(self) -> list[tuple[str, FundRow]]:
        return [(key, getattr(self, key)) for key, _ in FUND_ROWS[1:]]


class ProjectRow(_Model):
    """One 绩效指标 row."""

    level1: str = Field("", description="一级指标（产出指标、效益指标、满意度指标）")
    level2: str = Field("", description="二级指标")
    name: str = Field("", description="三级指标")
    operator: str = Field("", description="计算符号：≥ > = ≤ < 定性；空则按年度指标值中的方向词")
    target: str = Field("", description="年度指标值，如 ≥50个")
    actual: str = Field("", description="实际完成值，如 52个；定性指标填等级，如 达成年度指标")
    weight: Dec | None = Field(None, description="分值")
    score: Dec | None = Field(None, description="得分（定性指标由填表人在等级区间内填写）")
    reason: str = Field("", description="偏差原因分析及改进措施")


class ProjectEvaluation(_Model):
    """Everything entered in one 项目支出绩效自评表."""

    form: Literal["project"] = FORM
    framework: str = NATIONAL_ID
    project: ProjectInfo = Field(default_factory=ProjectInfo)
    funds: Funds = Field(default_factory=Funds)
    goal_expected: str = Field("", description="年度总体目标：预期目标")
    goal_actual: str = Field("", description="年度总体目标：实际完成情况")
    rows: list[ProjectRow] = Field(default_factory=list)
    claimed_total: Dec | None = Field(None, description="表上填写的得分合计")
    claimed_rating: str = Field("", description="表上填写的评价等级")
    problems: str = Field("", description="存在问题")
    improvements: str = Field("", description="改进措施")

    @classmethod
    def read_json(cls, data: bytes | str) -> ProjectEvaluation:
        return cls.model_validate_json(data)

    @property
    def is_blank(self) -> bool:
        """Not filled in: no indicator row has a name, target or actual, and 项目资金 has no amount (the
        header alone does not count: a bureau often fills it before sending the form out)."""
        rows = any(r.name.strip() or r.target.strip() or r.actual.strip() for r in self.rows)
        funds = self.funds
        amounts = any(
            v is not None
            for row in (funds.total, funds.current, funds.carryover, funds.other)
            for v in (row.initial, row.budget, row.executed)
        )
        return not (rows or amounts)


def is_project_json(data: Any) -> bool:
    """Whether a parsed JSON document is a project evaluation (``"form": "project"``)."""
    return isinstance(data, dict) and data.get("form") == FORM
