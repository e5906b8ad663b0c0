"""The ``Evaluation``: everything a department enters for one year's self-evaluation.

It is what every adapter produces (the openpyxl reader, the xlwings reader, a JSON file) and the
only input of the core. Money is in 万元, rates in percent (100 = 100 %), all as ``Decimal``.
The model holds what was entered, not what was computed: no score and no ratio lives here.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from xlperf.core.findings import Finding, finding
from xlperf.core.quantity import Direction, plausible

#: Decimals serialise as JSON strings so that no binary float ever touches money or scores.
Dec = Annotated[Decimal, PlainSerializer(lambda v: str(v), return_type=str, when_used="json")]


class Kind(StrEnum):
    """定量 rows are scored by numbers, 定性 rows by a grade."""

    QUANT = "定量"
    QUAL = "定性"


class Grade(StrEnum):
    """The grades of a 定性 row in the bundled framework (docs/DOMAIN.md §1.3). A framework names its
    own (``completion.grades``): a row holds the name as text, checked against its rules when scored."""

    DONE = "完成"
    MOSTLY = "基本完成"
    PARTLY = "部分完成"
    NOT_DONE = "未完成"


class Answer(StrEnum):
    """Answer to one checklist sub-item of a 管理效率 indicator."""

    YES = "是"
    NO = "否"
    NA = "不适用"


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, str_strip_whitespace=True, defer_build=True
    )


class Department(_Model):
    """基本信息: who the department is, its duties and the report's header fields."""

    name: str = ""
    short_name: str = Field("", description="简称，如 区科工商信局；用于文件名")
    self_ref: str = Field("我局", description="报告中的自称，如 我局、我委、我中心")
    year: int | None = None
    intro: str = Field("", description="部门职能的引言（职能列表之前的一段）")
    duties: str = Field("", description="主要职责，每行一条")
    subordinate_units: str = Field("", description="下属单位，每行一个")
    staffing: str = Field("", description="编制情况，如 事业编制 13 名")
    performance_goal: str = Field("", description="部门整体支出绩效目标")
    performance_management: str = Field("", description="部门整体绩效管理情况")
    # the header a bureau expects on the report and the package (all optional)
    subordinate_count: int | None = Field(None, description="下属单位数量（与下属单位名单核对）")
    staff_quota: int | None = Field(None, description="编制人数")
    staff_actual: int | None = Field(None, description="实有在职人数")
    evaluator: str = Field("", description="评价单位（公章位置），默认为部门全称")
    preparer: str = Field("", description="填报人")
    phone: str = Field("", description="联系电话")
    fill_date: str = Field("", description="填报日期")
    notice_no: str = Field("", description="评价通知文号，如 X财绩〔2025〕5号")


class KeyTask(_Model):
    """One 重点工作 task."""

    name: str = ""
    content: str = ""
    completion: str = ""


class Budget(_Model):
    """收支情况 (万元). Optional parts left empty count as 0; required ones are checked (V07)."""

    total_budget: Dec | None = Field(None, description="全年预算数")
    income_current: Dec | None = Field(None, description="本年收入")
    carryover_prior: Dec | None = Field(None, description="上年结转")
    executed: Dec | None = Field(None, description="全年实际执行数")
    spend_general: Dec | None = Field(None, description="一般公共预算财政拨款支出")
    spend_fund: Dec | None = Field(None, description="政府性基金支出")
    spend_other: Dec | None = Field(None, description="其他资金支出")
    spend_basic: Dec | None = Field(None, description="基本支出")
    spend_project: Dec | None = Field(None, description="项目支出")
    year_end_balance: Dec | None = Field(None, description="年末结转和结余")
    stated_execution_rate: Dec | None = Field(None, description="手工填写的预算执行率（应由系统计算）")
    opening_balance: Dec | None = Field(None, description="年初财政拨款结转和结余收入决算数")
    final_general: Dec | None = Field(None, description="一般公共预算财政拨款决算数")
    final_fund: Dec | None = Field(None, description="政府性基金预算财政拨款决算数")
    final_other: Dec | None = Field(None, description="其他收入决算数")
    closing_balance: Dec | None = Field(None, description="年末财政拨款结转和结余决算数")
    public_funds_actual: Dec | None = Field(None, description="实际支出公用经费总额")
    public_funds_budget: Dec | None = Field(None, description="预算安排公用经费总额")
    three_public_actual: Dec | None = Field(None, description="“三公”经费实际支出数")
    three_public_budget: Dec | None = Field(None, description="预算安排“三公”经费数")
    fixed_assets_total: Dec | None = Field(None, description="固定资产总额")
    fixed_assets_in_use: Dec | None = Field(None, description="实际在用固定资产总额")
    unit_yi: bool = Field(False, description="报告中以亿元表述大额（否则万元）")
    note: str = Field("", description="说明（同一数字两处不一致时的解释等）")


class IndicatorRow(_Model):
    """One row of 产出指标 or 效益指标."""

    seq: int | None = None
    name: str = ""
    kind: Kind | None = None
    direction: Direction | None = None
    target_value: Dec | None = None
    unit: str = ""
    target_text: str = Field("", description="年度目标值（文字）")
    approved_target_text: str = Field("", description="批复的目标值（年初）")
    target_change_note: str = Field("", description="目标值调整说明")
    scored_measure: str = Field("", description="多个子目标时，说明计分的是哪一个")
    actual_value: Dec | None = None
    actual_text: str = Field("", description="年度实际值（文字）")
    grade: str | None = Field(None, description="完成等级（定性指标），评分框架 completion.grades 中的名称")
    override_rate: Dec | None = Field(None, description="手工完成率（%），须写明理由")
    override_reason: str = ""
    shortfall_reason: str = Field("", description="未达标原因")
    excess_reason: str = Field(
        "", description="完成率在评分框架规定的比例（completion.excess_threshold）以上的原因"
    )


class ManagementEntry(_Model):
    """One 管理效率 indicator as entered: sub-item answers, counts, the evidence text."""

    indicator: str = Field(description="框架中的指标编号，如 M01")
    name: str = ""
    stated_full: Dec | None = Field(None, description="表中显示的分值（须与框架一致）")
    answers: list[Answer | None] = Field(default_factory=list)
    count_total: Dec | None = Field(None, description="应完成数 N")
    count_done: Dec | None = Field(None, description="按时完成数 M")
    evidence: str = Field("", description="评价说明")
    explanation: str = Field("", description="情况说明（如“三公”执行率偏低的原因）")
    override_score: Dec | None = None
    override_reason: str = ""


class Spending(_Model):
    """支出进度: the 12 monthly 一般公共预算支出执行率 (percent) or one annual mean."""

    monthly: list[Dec | None] = Field(default_factory=lambda: list[Decimal | None]([None] * 12))
    annual_mean: Dec | None = None


class Claims(_Model):
    """Figures the clerk states by hand (e.g. copied from last year's report): checked, never used."""

    total: Dec | None = None
    rating: str = ""


#: the framework a workbook or a JSON that names none was made for: the one place its id is written
DEFAULT_FRAMEWORK = "guangzhou-2023"


class Evaluation(_Model):
    """One department's self-evaluation for one year."""

    framework: str = DEFAULT_FRAMEWORK
    department: Department = Field(default_factory=Department)
    tasks: list[KeyTask] = Field(default_factory=list)
    budget: Budget = Field(default_factory=Budget)
    outputs: list[IndicatorRow] = Field(default_factory=list)
    benefits: list[IndicatorRow] = Field(default_factory=list)
    spending: Spending = Field(default_factory=Spending)
    management: list[ManagementEntry] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)
    improvements: list[str] = Field(default_factory=list)
    claims: Claims = Field(default_factory=Claims)

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, text: str | bytes) -> Evaluation:
        return cls.read_json(text)[0]

    @classmethod
    def read_json(cls, text: str | bytes) -> tuple[Evaluation, list[Finding]]:
        """An Evaluation from JSON text, every number read exactly (``Decimal``, never through a float),
        and every figure no department can have — 1e999999, 1e-999999 (a float would make it 0),
        NaN, Infinity, a text "1e400" — a P01 finding on its field, which is left empty, instead of an
        error far away or a silent 0. Malformed JSON raises pydantic's ``ValidationError`` as before."""
        import json

        try:
            data = json.loads(text, parse_float=Decimal, parse_int=Decimal, parse_constant=Decimal)
        except (ValueError, RecursionError):
            return cls.model_validate_json(text), []  # raises the ValidationError that says where
        findings: list[Finding] = []
        data = _drop_non_finite(data, "", findings)  # pydantic would refuse the whole file for one
        ev = cls.model_validate(data)
        _drop_implausible(ev, "", findings)
        return ev, findings

    @classmethod
    def load(cls, path: Path) -> Evaluation:
        return cls.from_json(path.read_bytes())


def _implausible(value: Decimal, label: str, path: str) -> Finding:
    text = str(value)
    shown = text if len(text) <= 24 else f"{text[:12]}…（共 {len(text)} 个字符）"
    return finding("P01", f"{label}：数值 {shown} 超出合理范围，请核对是否多输或少输了位数", path)


def _drop_non_finite(value: Any, path: str, findings: list[Finding]) -> Any:
    """The parsed JSON with NaN and ±Infinity numbers replaced by None, each with a P01."""
    if isinstance(value, Decimal) and not value.is_finite():
        findings.append(_implausible(value, path, path))
        return None
    if isinstance(value, dict):
        return {k: _drop_non_finite(v, f"{path}.{k}" if path else str(k), findings) for k, v in value.items()}
    if isinstance(value, list):
        return [_drop_non_finite(v, f"{path}.{i}", findings) for i, v in enumerate(value)]
    return value


def _drop_implausible(model: BaseModel, where: str, findings: list[Finding]) -> None:
    """Empty every Decimal field of ``model`` (recursively) that :func:`plausible` refuses, with a P01
    naming the field as the workbook does (its description, e.g. 全年预算数)."""
    label = ""

    def check(value: Any, path: str) -> Any:
        if isinstance(value, Decimal) and not plausible(value):
            findings.append(_implausible(value, label or path, path))
            return None
        if isinstance(value, BaseModel):
            _drop_implausible(value, path, findings)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                value[i] = check(item, f"{path}.{i}")
        return value

    for name, info in type(model).model_fields.items():
        label = info.description or ""
        value = getattr(model, name)
        checked = check(value, f"{where}.{name}" if where else name)
        if checked is not value:
            object.__setattr__(model, name, checked)
