"""The one description of the 项目支出绩效自评表 as a workbook: labels, headers and their spellings.

The template writes these labels; the reader finds the form by them — never by fixed addresses —
so that a bureau's own distributed form (other columns, other rows, a title row more, merged
一级/二级) reads as well as xlperf's. Spellings a bureau may use are listed as aliases, compared
after :func:`xlperf.core.quantity.normalise_text` and with parenthesised notes (（万元）, (A)) dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from xlperf.core.quantity import normalise_text

FORM_SHEET = "项目支出绩效自评表"
README = "填表说明"
SCORES = "评分结果"
FINDINGS = "校验结果"
REPORT = "自评报告"
HIDDEN = "_xlperf"
TITLE = "项目支出绩效自评表"
INPUT_SHEETS = (FORM_SHEET, README)
OUTPUT_SHEETS = (SCORES, FINDINGS, REPORT)
ALL_SHEETS = (*OUTPUT_SHEETS, *INPUT_SHEETS)
#: the version of the project template (``xp_template_version``: "P" + number, apart from the department's)
TEMPLATE_VERSION = "P1"
#: the form's note beside 年度 (the template's D4): for the clerk filling it in; the 报送 copy says
#: another (:data:`xlperf.submission.freeze.FROZEN_NOTES`)
FORM_NOTE = "金额单位：万元；黄色单元格由填表人填写，灰色单元格由 xlperf 计算"


class LabelType(StrEnum):
    """What a labelled field (:class:`Label`) holds and where its value is."""

    TEXT = "text"
    LONGTEXT = "longtext"
    INT = "int"  # a year: its four digits are read
    BELOW = "below"  # text in the cell under the label (not to its right)


@dataclass(frozen=True)
class Label:
    """A single field found by the label beside it (项目名称 → the cell to its right)."""

    path: str
    label: str
    aliases: tuple[str, ...] = ()
    type: LabelType = LabelType.TEXT

    def matches(self, text: str) -> bool:
        return key(text) in {key(self.label), *(key(a) for a in self.aliases)}


HEADER_FIELDS = (
    Label("project.name", "项目名称"),
    Label("project.department", "主管部门", ("主管单位",)),
    Label("project.unit", "实施单位", ("项目实施单位", "执行单位")),
    Label("project.year", "年度", ("评价年度", "自评年度", "项目年度"), LabelType.INT),
)
FOOTER_FIELDS = (
    Label("funds.reason", "预算执行偏差原因", ("执行率偏低原因", "预算执行偏差原因说明", "预算执行情况说明")),
    Label("problems", "存在问题", ("存在的问题", "存在的主要问题"), LabelType.LONGTEXT),
    Label("improvements", "改进措施", ("下一步改进措施", "整改措施"), LabelType.LONGTEXT),
    Label("claimed_rating", "评价等级", ("自评等级", "自评结论", "等级")),
    Label("project.preparer", "填报人", ("填表人", "联系人")),
    Label("project.phone", "联系电话", ("电话",)),
    Label("project.fill_date", "填报日期", ("填表日期",)),
)
GOAL_FIELDS = (
    Label("goal_expected", "预期目标", ("年度预期目标", "年初设定目标"), LabelType.BELOW),
    Label("goal_actual", "实际完成情况", ("全年实际完成情况", "实际完成"), LabelType.BELOW),
)


@dataclass(frozen=True)
class Header:
    """A column of a table, found by its header text."""

    attr: str
    text: str
    aliases: tuple[str, ...] = ()
    required: bool = True
    width: float = 12

    def matches(self, text: str) -> bool:
        k = key(text)
        return bool(k) and k in {key(self.text), *(key(a) for a in self.aliases)}


#: the 绩效指标 table's columns, in the template's order
INDICATOR_COLUMNS = (
    Header("level1", "一级指标", ("一级",), required=False, width=10),
    Header("level2", "二级指标", ("二级",), required=False, width=11),
    Header("name", "三级指标", ("三级", "指标名称", "绩效指标名称"), width=18),
    Header("operator", "计算符号", ("符号", "指标方向", "计算方式"), required=False, width=9),
    Header(
        "target",
        "年度指标值",
        ("年度目标值", "年度指标值（A）", "指标值", "预期指标值", "年初指标值"),
        width=12,
    ),
    Header(
        "actual",
        "实际完成值",
        ("全年实际值", "实际值", "完成值", "全年实际完成值", "实际完成值（B）"),
        width=14,
    ),
    Header("weight", "分值", ("权重", "指标分值", "分值（分）"), width=9),
    Header("score", "得分", ("自评得分", "评分"), required=False, width=8),
    Header(
        "reason",
        "偏差原因分析及改进措施",
        ("偏差原因分析", "偏差原因", "未完成原因分析", "未完成原因和改进措施", "原因分析及改进措施"),
        required=False,
        width=24,
    ),
)
#: the 项目资金 block's columns
FUND_COLUMNS = (
    Header("initial", "年初预算数", ("年初预算",), required=False),
    Header("budget", "全年预算数", ("调整后预算数", "全年预算", "预算数", "调整后预算")),
    Header("executed", "全年执行数", ("预算执行数", "执行数", "全年执行", "实际支出数")),
    Header("full", "分值", ("权重",), required=False),
    Header("rate", "执行率", ("预算执行率",), required=False),
    Header("score", "得分", (), required=False),
)
#: the rows of the 项目资金 block, by the label in their first cells
FUND_ROW_LABELS = {
    "total": ("年度资金总额", "资金总额", "年度资金总额（万元）", "合计"),
    "current": (
        "其中：当年财政拨款",
        "当年财政拨款",
        "本年财政拨款",
        "其中：本年财政拨款",
        "财政拨款",
        "其中：财政拨款",
    ),
    "carryover": ("上年结转资金", "上年结转", "其中：上年结转资金"),
    "other": ("其他资金", "其他", "其中：其他资金"),
}
#: what ends the 绩效指标 table (the footer's first cells)
FOOTER_WORDS = ("总分", "合计", "得分合计", "总计")
#: the 计算符号 the template's list offers
OPERATOR_LIST = ("≥", ">", "=", "≤", "<", "定性", "不适用")
#: hidden-sheet list names of the project template
LIST_OPERATOR = "xpj_list_operator"
LIST_GRADE = "xpj_list_grade"


_NOTE = re.compile(r"[（(][^）)]*[）)]")


def key(text: object) -> str:
    """A label or header as compared: normalised, notes in brackets dropped, trailing colon dropped."""
    if text is None:
        return ""
    norm = normalise_text(str(text))
    stripped = _NOTE.sub("", norm).rstrip(":：")
    return stripped or norm
