"""The one description of the standard evaluation workbook.

The template builder, the openpyxl reader and writer, and the xlwings handlers all read this
module: single fields are found by **defined names**, lists by **Excel tables** and their header
texts, never by fixed coordinates (docs/DESIGN.md "Workbook"). Column order inside a table and the
position of a table on its sheet may change; the names and header texts are the contract.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from xlperf.core.framework import EXCESS_LABEL, EXCESS_LABEL_EXCLUSIVE, CompletionSpec, excess_label
from xlperf.core.quantity import normalise_text
from xlperf.workbook import look

if TYPE_CHECKING:
    from xlperf.core.framework import Framework

# ---------------------------------------------------------------------- sheet names
README = "填表说明"
BASIC = "基本信息"
TASKS = "重点工作"
BUDGET = "收支情况"
OUTPUTS = "产出指标"
BENEFITS = "效益指标"
SPENDING = "支出进度"
MANAGEMENT = "管理效率"
PROBLEMS = "问题与措施"
SCORES = "评分汇总"
FINDINGS = "校验结果"
REPORT = "自评报告"
HIDDEN = "_xlperf"

INPUT_SHEETS = (README, BASIC, TASKS, BUDGET, OUTPUTS, BENEFITS, SPENDING, MANAGEMENT, PROBLEMS)
OUTPUT_SHEETS = (SCORES, FINDINGS, REPORT)
ALL_SHEETS = (*INPUT_SHEETS, *OUTPUT_SHEETS)

# the colours of the cells a clerk fills and of the marks (xlperf.workbook.look, the one look)
INPUT_FILL, HEADER_FILL, ERROR_FILL, WARNING_FILL = look.INPUT, look.HEADER, look.ERROR, look.WARNING


class FieldType(StrEnum):
    """What a single input cell (:class:`Field`) holds, and so how it is read, formatted and written."""

    TEXT = "text"
    LONGTEXT = "longtext"  # wrapped, in a tall row
    INT = "int"
    AMOUNT = "amount"  # 万元
    RATE = "rate"  # a fraction in a percent-formatted cell
    BOOL = "bool"  # 是/否 from a dropdown
    COMPUTED = "computed"  # a formula the template writes; never read


class ColumnType(StrEnum):
    """What a table column (:class:`Column`) holds, and so how its cells are read and formatted."""

    TEXT = "text"
    LONGTEXT = "longtext"
    INT = "int"
    QUANTITY = "quantity"  # a number with its unit, kept as a Quantity
    DIRECTION = "direction"  # ≥ ≤ =
    INDICATOR_KIND = "kind"  # 定量/定性 (core.evaluation.Kind)
    GRADE = "grade"  # the framework's 完成等级
    ANSWER = "answer"  # 是/否/不适用
    RATE = "rate"
    AMOUNT = "amount"
    FIXED = "fixed"  # shown, never read (序号, the 管理效率 table's printed rules)
    FORMULA = "formula"  # a formula the template writes (完成率); never read

    @property
    def is_input(self) -> bool:
        """Whether a clerk fills the column in (it is read)."""
        return self not in (ColumnType.FIXED, ColumnType.FORMULA)


@dataclass(frozen=True)
class Field:
    """A single input cell, found by its defined name."""

    name: str  # defined name (xp_…)
    path: str  # model path, e.g. "department.name"
    label: str
    type: FieldType
    help: str = ""
    #: a field a clerk may leave empty (可不填): a workbook without its name (made from an older
    #: template) reads it as empty, with one 提醒 for all of them, never an error
    optional: bool = False


@dataclass(frozen=True)
class Heading:
    label: str


@dataclass(frozen=True)
class FieldSheet:
    title: str
    rows: tuple[Field | Heading, ...]
    intro: str


@dataclass(frozen=True)
class Column:
    """A table column, found by its header text."""

    header: str
    attr: str | None  # attribute of the row model; None for display-only columns
    type: ColumnType
    width: float = 12
    help: str = ""
    percent: bool = False  # a rate in percent: stored as a fraction in a percent-formatted cell
    #: other header texts (normalised) that name this column: the V13 column as any framework spells it
    spelled: re.Pattern[str] | None = None
    #: the header texts earlier templates gave this column (read, never written): a contract change
    #: renames a header and keeps the old text here, so every workbook made before still reads
    formerly: tuple[str, ...] = ()

    @property
    def is_input(self) -> bool:
        return self.type.is_input

    def matches(self, text: str) -> bool:
        """Whether a header cell's text names this column (compared as :func:`normalise_text` leaves it)."""
        key = normalise_text(text)
        return (
            key == normalise_text(self.header)
            or any(key == normalise_text(old) for old in self.formerly)
            or (self.spelled is not None and bool(self.spelled.fullmatch(key)))
        )


@dataclass(frozen=True)
class TableSheet:
    title: str
    table: str  # Excel table displayName
    #: model list: tasks | outputs | benefits | management | spending.monthly | problems | improvements
    path: str
    columns: tuple[Column, ...]
    blank_rows: int
    intro: str
    protect: bool = (
        False  # Excel cannot grow a table on a protected sheet: only fixed-size tables are protected
    )
    landscape: bool = False
    first_col: int = 1  # where the builder puts the table (the reader does not care)
    #: the 示例 row the template shows above the header (column attr, or header for a column
    #: without one → text); a column not named shows its help in brackets. Never read.
    example: tuple[tuple[str, str], ...] = ()
    #: where a wide table's second printed band begins (a column attr), and how many key columns
    #: both bands repeat; the intro spans the first band, so neither band cuts it
    print_split: str | None = None
    print_keys: int = 0
    #: a two-band table's intro in three parts: over the key columns (printed on both bands), the
    #: first band's and the second band's; ``intro`` is their whole (填表说明)
    intro_parts: tuple[str, str, str] | None = None

    def column(self, attr: str) -> Column:
        return next(c for c in self.columns if c.attr == attr)

    def column_named(self, text: str) -> Column | None:
        """The column a header cell's text names, if any."""
        return next((c for c in self.columns if c.matches(text)), None)


BASIC_SHEET = FieldSheet(
    BASIC,
    (
        Heading("单位信息"),
        Field(
            "xp_dept_name",
            "department.name",
            "部门全称",
            FieldType.TEXT,
            "如 广州市白云区科技工业商务和信息化局",
        ),
        Field(
            "xp_dept_short",
            "department.short_name",
            "部门简称",
            FieldType.TEXT,
            "如 区科工商信局；用于报送文件名",
        ),
        Field("xp_dept_self", "department.self_ref", "报告中的自称", FieldType.TEXT, "如 我局、我委、我中心"),
        Field("xp_year", "department.year", "评价年度", FieldType.INT, "如 2023"),
        Heading("部门职能"),
        Field(
            "xp_dept_intro", "department.intro", "职能概述", FieldType.LONGTEXT, "“主要职责是：”之前的一段"
        ),
        Field("xp_dept_duties", "department.duties", "主要职责", FieldType.LONGTEXT, "每行一条，不必编号"),
        Field(
            "xp_dept_units", "department.subordinate_units", "下属单位", FieldType.LONGTEXT, "每行一个单位"
        ),
        Field("xp_dept_staffing", "department.staffing", "编制情况", FieldType.TEXT, "如 事业编制 13 名"),
        Field(
            "xp_dept_unit_count",
            "department.subordinate_count",
            "下属单位数量",
            FieldType.INT,
            "可不填；填写后与上面的名单核对",
            optional=True,
        ),
        Field("xp_staff_quota", "department.staff_quota", "编制人数", FieldType.INT, "可不填", optional=True),
        Field(
            "xp_staff_actual",
            "department.staff_actual",
            "实有在职人数",
            FieldType.INT,
            "可不填",
            optional=True,
        ),
        Heading("绩效目标与管理"),
        Field("xp_goal", "department.performance_goal", "部门整体支出绩效目标", FieldType.LONGTEXT),
        Field(
            "xp_perf_mgmt", "department.performance_management", "部门整体绩效管理情况", FieldType.LONGTEXT
        ),
        Heading("填报信息（可不填；用于报告和报送包的表头）"),
        Field(
            "xp_evaluator",
            "department.evaluator",
            "评价单位（公章位置）",
            FieldType.TEXT,
            "不填则为部门全称",
            optional=True,
        ),
        Field("xp_preparer", "department.preparer", "填报人", FieldType.TEXT, optional=True),
        Field("xp_phone", "department.phone", "联系电话", FieldType.TEXT, optional=True),
        Field(
            "xp_fill_date",
            "department.fill_date",
            "填报日期",
            FieldType.TEXT,
            "如 2024年3月15日",
            optional=True,
        ),
        Field(
            "xp_notice_no",
            "department.notice_no",
            "评价通知文号",
            FieldType.TEXT,
            "如 X财绩〔2025〕5号",
            optional=True,
        ),
        Heading("自报结果（可不填；填写后 xlperf 会核对）"),
        Field(
            "xp_claim_total",
            "claims.total",
            "自报总分",
            FieldType.AMOUNT,
            "如沿用手工计算的总分，xlperf 会核对",
            optional=True,
        ),
        Field(
            "xp_claim_rating",
            "claims.rating",
            "自报等级",
            FieldType.TEXT,
            "优/良/中/差，xlperf 会按总分核对",
            optional=True,
        ),
    ),
    "填写部门的基本情况。浅黄色单元格为填写区，其余由 xlperf 生成。",
)

BUDGET_SHEET = FieldSheet(
    BUDGET,
    (
        Heading("预算与执行（万元，以决算数为统计口径）"),
        Field(
            "xp_total_budget", "budget.total_budget", "全年预算数", FieldType.AMOUNT, "= 本年收入 + 上年结转"
        ),
        Field("xp_income_current", "budget.income_current", "本年收入", FieldType.AMOUNT),
        Field("xp_carryover_prior", "budget.carryover_prior", "上年结转", FieldType.AMOUNT),
        Field("xp_executed", "budget.executed", "全年实际执行数", FieldType.AMOUNT),
        Field(
            "xp_exec_rate",
            "budget.stated_execution_rate",
            "预算执行率（自动计算）",
            FieldType.COMPUTED,
            "由公式计算，请勿改写",
        ),
        Heading("按资金来源分（万元）"),
        Field("xp_spend_general", "budget.spend_general", "一般公共预算财政拨款支出", FieldType.AMOUNT),
        Field("xp_spend_fund", "budget.spend_fund", "政府性基金支出", FieldType.AMOUNT, "没有填 0"),
        Field("xp_spend_other", "budget.spend_other", "其他资金支出", FieldType.AMOUNT, "没有填 0"),
        Heading("按支出性质分（万元）"),
        Field("xp_spend_basic", "budget.spend_basic", "基本支出", FieldType.AMOUNT),
        Field("xp_spend_project", "budget.spend_project", "项目支出", FieldType.AMOUNT),
        Field("xp_year_end_balance", "budget.year_end_balance", "年末结转和结余", FieldType.AMOUNT),
        Heading("结转结余率计算数据（万元，决算口径）"),
        Field("xp_opening_balance", "budget.opening_balance", "年初财政拨款结转和结余", FieldType.AMOUNT),
        Field("xp_final_general", "budget.final_general", "一般公共预算财政拨款决算数", FieldType.AMOUNT),
        Field("xp_final_fund", "budget.final_fund", "政府性基金预算财政拨款决算数", FieldType.AMOUNT),
        Field("xp_final_other", "budget.final_other", "其他收入", FieldType.AMOUNT),
        Field("xp_closing_balance", "budget.closing_balance", "年末财政拨款结转和结余", FieldType.AMOUNT),
        Heading("运行成本与资产（万元）"),
        Field("xp_public_actual", "budget.public_funds_actual", "实际支出公用经费总额", FieldType.AMOUNT),
        Field("xp_public_budget", "budget.public_funds_budget", "预算安排公用经费总额", FieldType.AMOUNT),
        Field("xp_three_actual", "budget.three_public_actual", "“三公”经费实际支出数", FieldType.AMOUNT),
        Field("xp_three_budget", "budget.three_public_budget", "预算安排“三公”经费数", FieldType.AMOUNT),
        Field("xp_assets_total", "budget.fixed_assets_total", "固定资产总额", FieldType.AMOUNT),
        Field("xp_assets_in_use", "budget.fixed_assets_in_use", "实际在用固定资产总额", FieldType.AMOUNT),
        Heading("其他"),
        Field("xp_unit_yi", "budget.unit_yi", "报告中大额以亿元表述", FieldType.BOOL, "是/否"),
        Field(
            "xp_budget_note", "budget.note", "说明", FieldType.LONGTEXT, "两处填写的同一数字不一致时在此说明"
        ),
    ),
    "金额单位为万元，保留两位小数。预算执行率由公式计算，不需要填写。",
)

_INDICATOR_COLUMNS = (
    Column("序号", "seq", ColumnType.INT, 6),
    Column("指标名称", "name", ColumnType.TEXT, 28),
    Column("类型", "kind", ColumnType.INDICATOR_KIND, 8, "定量 / 定性"),
    Column("方向", "direction", ColumnType.DIRECTION, 7, "≥ 越大越好；≤ 越小越好；= 越接近越好"),
    Column(
        "目标值", "target_value", ColumnType.QUANTITY, 11, "计分用的一个数，可带单位，如 180 或 不少于180家"
    ),
    Column("单位", "unit", ColumnType.TEXT, 8, "如 个、家、项、万元、%；目标值已带单位时可不填"),
    Column("年度目标值（文字）", "target_text", ColumnType.LONGTEXT, 34),
    Column(
        "批复目标值",
        "approved_target_text",
        ColumnType.LONGTEXT,
        20,
        "年初批复的目标；与年度目标不同时在“目标调整说明”中写明",
    ),
    Column("目标调整说明", "target_change_note", ColumnType.LONGTEXT, 24, "年中调整了目标时写明调整情况"),
    Column("计分口径", "scored_measure", ColumnType.LONGTEXT, 20, "目标有多个子目标时，说明按哪一个计分"),
    Column("实际值", "actual_value", ColumnType.QUANTITY, 11),
    Column("年度实际值（文字）", "actual_text", ColumnType.LONGTEXT, 40),
    Column("完成等级", "grade", ColumnType.GRADE, 10, "定性指标填写：完成/基本完成/部分完成/未完成"),
    Column("完成率", None, ColumnType.FORMULA, 10, "自动计算"),
    Column(
        "手工完成率(%)", "override_rate", ColumnType.QUANTITY, 10, "确需调整时填写，并写明理由", percent=True
    ),
    Column("调整理由", "override_reason", ColumnType.LONGTEXT, 20),
    Column("未达标原因", "shortfall_reason", ColumnType.LONGTEXT, 28, "完成率低于100%时必填"),
)

# The V13 column's header is framework data (completion.excess_threshold): the template writes the
# framework's own spelling; a reader accepts it spelled with any threshold, so a workbook made for
# another framework (or before the framework changed) still reads. The static tables below carry the
# framework model's default threshold; :func:`table_for` gives a framework's own.
_EXCESS_SPELLED = re.compile(
    "|".join(
        re.escape(normalise_text(label)).replace(re.escape("{}"), r"\d+(?:\.\d+)?")
        for label in (EXCESS_LABEL, EXCESS_LABEL_EXCLUSIVE)
    )
)


def _excess_column(threshold: Decimal, inclusive: bool = True) -> Column:
    label = excess_label(threshold, inclusive)
    return Column(
        label,
        "excess_reason",
        ColumnType.LONGTEXT,
        28,
        f"{label.removesuffix('的原因')}时必填",
        spelled=_EXCESS_SPELLED,
    )


def _indicator_columns(threshold: Decimal, inclusive: bool = True) -> tuple[Column, ...]:
    return (*_INDICATOR_COLUMNS, _excess_column(threshold, inclusive))


_DEFAULT_EXCESS: Decimal = CompletionSpec.model_fields["excess_threshold"].default
_RESULTS_INTRO = (
    "“实际值”填计分用的一个数（可带单位），“年度实际值（文字）”写报告中引用的完成情况；定性指标选"
    "“完成等级”。灰色的“完成率”自动计算。完成率低于100%或超过规定比例时在右侧两列写明原因；确需调整"
    "完成率时填“手工完成率”并写明理由。"
)
_OUTPUT_INTRO = (
    "每行一个产出指标。",
    "三个目标列：“目标值”是计分用的一个数（可带单位，如 8 或 不少于8个）；“年度目标值（文字）”是报告中"
    "引用的目标原文；“批复目标值”是年初批复的目标，与年度目标不同时在“目标调整说明”中写明。“单位”填 个、"
    "家、项、万元、% 等。定量指标填方向、目标值和实际值。第 3 行是示例，不会被读取。",
    _RESULTS_INTRO,
)
_BENEFIT_INTRO = (
    "每行一个效益指标。",
    "填法同“产出指标”（三个目标列、单位的说明见该表）。增长类目标按增长数填写：目标 7%，实际 7.1%，"
    "单位 %。第 3 行是示例，不会被读取。",
    _RESULTS_INTRO,
)
_INDICATOR_EXAMPLE = (
    ("seq", "示例"),
    ("name", "新增孵化育成平台数量"),
    ("kind", "定量"),
    ("direction", "≥"),
    ("target_value", "8"),
    ("unit", "个"),
    ("target_text", "新增孵化育成平台不少于8个"),
    ("approved_target_text", "新增孵化育成平台不少于8个"),
    ("actual_value", "11"),
    ("actual_text", "新增孵化育成平台11个"),
    ("grade", "（定性指标填写）"),
    ("完成率", "自动计算"),
)

TASKS_TABLE = TableSheet(
    TASKS,
    "tbl_tasks",
    "tasks",
    (
        Column("序号", None, ColumnType.FIXED, 6),
        Column("重点工作任务", "name", ColumnType.TEXT, 30),
        Column("主要内容", "content", ColumnType.LONGTEXT, 50),
        Column("实际完成情况", "completion", ColumnType.LONGTEXT, 70),
    ),
    8,
    "每行一项重点工作任务。可插入或删除行（在表格内右键 → 插入 → 表格行）。第 3 行是示例，不会被读取。",
    landscape=True,
    example=(
        ("序号", "示例"),
        ("name", "推进科技创新平台建设"),
        ("content", "新增孵化育成平台，完善科技企业孵化服务体系"),
        ("completion", "全年新增孵化育成平台11个，完成年度目标"),
    ),
)
OUTPUTS_TABLE = TableSheet(
    OUTPUTS,
    "tbl_outputs",
    "outputs",
    _indicator_columns(_DEFAULT_EXCESS),
    30,
    "".join(_OUTPUT_INTRO),
    landscape=True,
    example=_INDICATOR_EXAMPLE,
    print_split="actual_value",
    print_keys=2,
    intro_parts=_OUTPUT_INTRO,
)
BENEFITS_TABLE = TableSheet(
    BENEFITS,
    "tbl_benefits",
    "benefits",
    _indicator_columns(_DEFAULT_EXCESS),
    12,
    "".join(_BENEFIT_INTRO),
    landscape=True,
    example=(
        ("seq", "示例"),
        ("name", "规上工业总产值增长率"),
        ("kind", "定量"),
        ("direction", "≥"),
        ("target_value", "7"),
        ("unit", "%"),
        ("target_text", "规上工业总产值同比增长7%"),
        ("approved_target_text", "规上工业总产值同比增长7%"),
        ("actual_value", "7.1"),
        ("actual_text", "规上工业总产值同比增长7.1%"),
        ("完成率", "自动计算"),
    ),
    print_split="actual_value",
    print_keys=2,
    intro_parts=_BENEFIT_INTRO,
)
MONTHS_TABLE = TableSheet(
    SPENDING,
    "tbl_months",
    "spending.monthly",
    (
        Column("月份", None, ColumnType.FIXED, 10),
        Column(
            "一般公共预算支出执行率",
            "rate",
            ColumnType.RATE,
            22,
            "财政部门通报的当月执行率，如 100% 或 92.13%",
        ),
    ),
    12,
    "填写财政部门通报的各月一般公共预算支出执行率（不是累计数）。也可只填年度平均执行率。",
    protect=True,
)
SPENDING_FIELDS = (
    Field("xp_annual_mean", "spending.annual_mean", "年度平均执行率（只在没有月度数时填写）", FieldType.RATE),
)

#: answer columns the 管理效率 table has at least (a framework with more sub-items gets more)
MIN_ANSWER_COLUMNS = 3


def _management_columns(answers: int) -> tuple[Column, ...]:
    items: list[Column] = []
    for i in range(answers):
        items += [
            Column(f"子项{i + 1}", None, ColumnType.FIXED, 30 if i == 0 else 26),
            Column(f"子项{i + 1}答复", f"answers.{i}", ColumnType.ANSWER, 9),
        ]
    return (
        Column("编号", "indicator", ColumnType.FIXED, 7),
        Column("二级指标", None, ColumnType.FIXED, 10),
        Column("三级指标", "name", ColumnType.FIXED, 20),
        Column("分值", "stated_full", ColumnType.FIXED, 6),
        *items,
        Column(
            "应完成数", "count_total", ColumnType.QUANTITY, 9, "计数类指标：应完成的数量", formerly=("数量N",)
        ),
        Column(
            "按时完成数",
            "count_done",
            ColumnType.QUANTITY,
            9,
            "计数类指标：按时完成的数量",
            formerly=("数量M",),
        ),
        Column("评价说明", "evidence", ColumnType.LONGTEXT, 60, "本年度的实际情况和依据，成为报告中的段落"),
        Column("情况说明", "explanation", ColumnType.LONGTEXT, 40, "如“三公”经费执行率偏低的原因"),
        Column("手工得分", "override_score", ColumnType.QUANTITY, 9, "确需调整时填写，并写明理由"),
        Column("调整理由", "override_reason", ColumnType.LONGTEXT, 20),
    )


def _management_intro(count: int) -> tuple[str, str, str]:
    return (
        f"{count} 个三级指标已列出。",
        "子项答复选择 是/否/不适用；“应完成数”“按时完成数”只有计数类指标填写（子项1写明数的是什么）；"
        "写着“自动计算”的指标由“收支情况”中的金额算出，不需答复。灰色格不需填写。",
        "每项都在“评价说明”中写明本年度的实际情况和依据（成为报告中的段落）；“情况说明”写执行率偏低等的"
        "原因；确需调整得分时填“手工得分”并写明理由。",
    )


MANAGEMENT_TABLE = TableSheet(
    MANAGEMENT,
    "tbl_management",
    "management",
    _management_columns(MIN_ANSWER_COLUMNS),
    22,
    "".join(_management_intro(22)),
    protect=True,
    landscape=True,
    print_split="evidence",
    print_keys=3,
    intro_parts=_management_intro(22),
)


def answer_columns(fw: Framework) -> int:
    """Answer columns of ``fw``'s 管理效率 table: its largest sub-item count, at least three."""
    return max([MIN_ANSWER_COLUMNS, *(len(s.items) for s in fw.management())])


PROBLEMS_TABLE = TableSheet(
    PROBLEMS,
    "tbl_problems",
    "problems",
    (Column("序号", None, ColumnType.FIXED, 6), Column("存在的主要问题", "text", ColumnType.LONGTEXT, 70)),
    6,
    "左表填写存在的主要问题，右表填写下一步改进措施，每行一条。",
    landscape=True,
)
IMPROVEMENTS_TABLE = TableSheet(
    PROBLEMS,
    "tbl_improvements",
    "improvements",
    (Column("序号", None, ColumnType.FIXED, 6), Column("下一步改进措施", "text", ColumnType.LONGTEXT, 70)),
    6,
    "",
    landscape=True,
    first_col=4,
)

FIELD_SHEETS = (BASIC_SHEET, BUDGET_SHEET)
TABLES = (
    TASKS_TABLE,
    OUTPUTS_TABLE,
    BENEFITS_TABLE,
    MONTHS_TABLE,
    MANAGEMENT_TABLE,
    PROBLEMS_TABLE,
    IMPROVEMENTS_TABLE,
)


def table_for(table: TableSheet, fw: Framework) -> TableSheet:
    """``table`` as ``fw`` shapes it: the V13 column's header of the indicator tables, the 管理效率
    table's rows, answer columns and intro."""
    if table.path == "management":
        count = len(fw.management())
        return replace(
            table,
            columns=_management_columns(answer_columns(fw)),
            blank_rows=count,
            intro="".join(_management_intro(count)),
            intro_parts=_management_intro(count),
        )
    if table.path not in ("outputs", "benefits"):
        return table
    grade_help = f"定性指标填写：{'/'.join(fw.grade_names())}"
    columns = tuple(
        replace(c, help=grade_help) if c.type is ColumnType.GRADE else c
        for c in _indicator_columns(fw.completion.excess_threshold, fw.completion.excess_inclusive)
    )
    return replace(table, columns=columns)


def tables_for(fw: Framework) -> tuple[TableSheet, ...]:
    """Every table as the template builds it for ``fw``."""
    return tuple(table_for(t, fw) for t in TABLES)


# hidden sheet: dropdown lists (named ranges) and provenance
LISTS = {
    "xp_list_kind": ("定量", "定性"),
    "xp_list_direction": ("≥", "≤", "="),
    "xp_list_grade": ("完成", "基本完成", "部分完成", "未完成"),
    "xp_list_answer": ("是", "否", "不适用"),
    "xp_list_bool": ("是", "否"),
}


def lists_for(fw: Framework) -> dict[str, tuple[str, ...]]:
    """The dropdown lists of a workbook made for ``fw``: its 完成等级 are the framework's own."""
    return {**LISTS, "xp_list_grade": fw.grade_names()}


#: the dropdown list of each column type chosen from a list (a BOOL field's list is xp_list_bool)
LIST_FOR_COLUMN: dict[ColumnType, str] = {
    ColumnType.INDICATOR_KIND: "xp_list_kind",
    ColumnType.DIRECTION: "xp_list_direction",
    ColumnType.GRADE: "xp_list_grade",
    ColumnType.ANSWER: "xp_list_answer",
}
PROVENANCE = (
    ("xp_framework", "评分框架"),
    ("xp_tool_version", "xlperf 版本"),
    ("xp_input_sha256", "输入文件 SHA-256"),
    ("xp_scored_at", "计分时间"),
    ("xp_template_version", "模板版本"),
    ("xp_framework_sha256", "评分规则校验值"),
    ("xp_framework_def", "评分规则（内嵌，勿改）"),
)
#: 1: the first templates; 2: the rules embedded (xp_framework_sha256, xp_framework_def); 3: 管理效率's
#: 数量N/数量M headers renamed 应完成数/按时完成数 (read either way), the 示例 rows, the 月均执行率
#: formula that reads rates as xlperf does (docs/DESIGN.md "Workbook", template versions)
TEMPLATE_VERSION = "3"
#: the embedded rules (``Framework.canonical()``) in cells of at most this many characters, under the
#: names xp_framework_def, xp_framework_def2, … (a cell holds 32,767 characters)
DEF_CHUNK = 30000
DEF_NAMES = ("xp_framework_def", *(f"xp_framework_def{i}" for i in range(2, 9)))


def framework_chunks(canonical: str) -> list[str]:
    """The embedded rules cut into cells (:data:`DEF_CHUNK`), at most :data:`DEF_NAMES` of them."""
    chunks = [canonical[i : i + DEF_CHUNK] for i in range(0, len(canonical), DEF_CHUNK)] or [""]
    if len(chunks) > len(DEF_NAMES):
        raise ValueError("framework too large to embed")
    return chunks


MEAN_LABEL = "月均执行率（自动计算）"  # the label left of 支出进度's live mean (found by it in any version)


def completion_formula(kind: str, direction: str, target: str, actual: str, grade: str, fw: Framework) -> str:
    """The 完成率 column's live formula for one row (cell references of its 类型, 方向, 目标值, 实际值,
    完成等级), for Excel, WPS and LibreOffice: the core's completion (docs/DOMAIN.md §1.3) of what the
    row holds as numbers — a grade's value; ≥ a/t, ≤ t/a (a = 0: 100 %), = min/max; blank for a
    target of 0 or less (≥, =) or below 0 (≤), as the core leaves such a row unscored. Text with
    units the formula cannot read; the scored copy shows xlperf's value there (writer)."""
    k, d, t, a, g = kind, direction, target, actual, grade
    grades = fw.completion.grades
    graded = '""'
    for name in reversed(list(grades)):
        graded = f'IF({g}="{name}",{grades[name]},{graded})'
    quant = (
        f'IF(OR({t}="",{a}=""),"",IF({d}="≤",IF({t}<0,"",IF({a}=0,1,{t}/{a})),'
        f'IF({t}<=0,"",IF({d}="=",MIN({t},{a})/MAX({t},{a}),{a}/{t}))))'
    )
    return f'=IFERROR(IF({k}="定性",{graded},{quant}),"")'


def mean_formula(months: str, annual: str = "xp_annual_mean") -> str:
    """支出进度's live 月均执行率 over the range ``months``, read as xlperf reads each rate: a number
    above 1.5 is percent points (96 typed into a % cell by LibreOffice or WPS is 96 %, not 9600 %),
    text such as “96%” counts as the number it shows; with no month, the annual mean (``annual``)."""
    norm = f"{months}*1/(1+99*({months}*1>1.5))"
    single = f"{annual}*1/(1+99*({annual}*1>1.5))"
    return (
        f'=IFERROR(IF(COUNTA({months})=0,IF({annual}="","",{single}),SUMPRODUCT({norm})/COUNTA({months})),"")'
    )


def management_input(attr: str | None, spec: Any) -> bool:
    """Whether a 管理效率 column is an input for one indicator ``spec`` (a framework IndicatorSpec):
    answers past its sub-items and counts of a non-count indicator are locked in the template."""
    if attr and attr.startswith("answers."):
        return int(attr.split(".")[1]) < len(spec.items)
    if attr in ("count_total", "count_done"):
        return bool(spec.kind.counts)
    return True


def all_fields() -> list[Field]:
    return [f for sheet in FIELD_SHEETS for f in sheet.rows if isinstance(f, Field)] + list(SPENDING_FIELDS)


def sheet_of(item: Field) -> str:
    """The sheet the template puts a field on (where a finding about a missing name points)."""
    for sheet in FIELD_SHEETS:
        if item in sheet.rows:
            return sheet.title
    return SPENDING


def field_by_path(path: str) -> Field | None:
    return next((f for f in all_fields() if f.path == path), None)
