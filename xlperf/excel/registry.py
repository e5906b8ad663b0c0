"""The one registry of what the xlperf add-in shows in Excel: ribbon buttons and worksheet functions.

The ribbon XML (``customUI14.xml``), the VBA UDF wrappers and the ribbon dispatcher are all
generated from / checked against these tuples, so ids and names cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BUTTONS",
    "GROUPS",
    "NO_WORKBOOK_MESSAGE",
    "PROTECTED_VIEW_MESSAGE",
    "RIBBON_TAB_ID",
    "RIBBON_TAB_LABEL",
    "UDFS",
    "UDF_CATEGORY",
    "RibbonButton",
    "RibbonGroup",
    "Udf",
    "UdfArg",
    "button_by_id",
    "udf_by_name",
]

RIBBON_TAB_ID = "xlperf_tab"

# What the VBA OnRibbon says when a button needs a workbook and there is none (ActiveWorkbook Is
# Nothing), or the workbook is open in Protected View. xlperf_ribbon.bas spells them in ChrW form;
# the add-in builder checks that it spells exactly these.
NO_WORKBOOK_MESSAGE = "请先打开自评表，再点击此按钮。"
PROTECTED_VIEW_MESSAGE = "自评表在受保护的视图中打开：请先点击提示栏上的“启用编辑”，再点击此按钮。"
RIBBON_TAB_LABEL = "绩效自评"


@dataclass(frozen=True)
class RibbonGroup:
    """A group of buttons on the xlperf tab."""

    id: str
    label: str


@dataclass(frozen=True)
class RibbonButton:
    """One ribbon button. ``id`` is what ``xlperf.excel.on_ribbon(id)`` receives from VBA.

    ``action`` is the short name of the command (the same word the CLI uses), ``group`` the id of
    its :class:`RibbonGroup`, ``image_mso`` a built-in Excel image name. ``needs_workbook=False``
    marks the buttons that also work with no workbook open (the VBA ``OnRibbon`` lets only these
    through when ``ActiveWorkbook Is Nothing``; the others say 请先打开自评表).
    """

    id: str
    action: str
    label: str
    help: str
    image_mso: str
    group: str
    needs_workbook: bool = True


GROUPS: tuple[RibbonGroup, ...] = (
    RibbonGroup("xlperf_group_assess", "自评"),
    RibbonGroup("xlperf_group_submit", "报送"),
    RibbonGroup("xlperf_group_tools", "工具"),
)

# Order matters: it is the order on the ribbon.
BUTTONS: tuple[RibbonButton, ...] = (
    RibbonButton(
        id="xlperf_validate",
        action="validate",
        label="校验",
        help="检查自评表的填写是否完整、数值是否合规，并标出问题单元格。",
        image_mso="DataValidation",
        group="xlperf_group_assess",
    ),
    RibbonButton(
        id="xlperf_score",
        action="score",
        label="计算得分",
        help="按评分规则计算各项指标得分和总分，并写回自评表。",
        image_mso="CalculateNow",
        group="xlperf_group_assess",
    ),
    RibbonButton(
        id="xlperf_report",
        action="report",
        label="生成报告",
        help="根据自评表生成部门整体支出绩效自评报告。",
        image_mso="FileProperties",
        group="xlperf_group_assess",
    ),
    RibbonButton(
        id="xlperf_package",
        action="package",
        label="导出报送包",
        help="把自评表（公式转为数值）和报告打包成报送文件。",
        image_mso="FileSaveAs",
        group="xlperf_group_submit",
    ),
    RibbonButton(
        id="xlperf_send",
        action="send",
        label="发送财政局",
        help="通过电子邮件把报送包发送给财政局。",
        image_mso="FileSendAsAttachment",
        group="xlperf_group_submit",
    ),
    RibbonButton(
        id="xlperf_new",
        action="new",
        label="新建自评表",
        help="按所选评价框架新建一份空白自评表。",
        image_mso="FileNew",
        group="xlperf_group_tools",
        needs_workbook=False,
    ),
    RibbonButton(
        id="xlperf_upgrade",
        action="upgrade",
        label="升级模板",
        help="把旧模板填写的自评表迁移到当前模板（另存为新文件，原表不变），并列出无法迁移的内容。",
        image_mso="UpgradeWorkbook",
        group="xlperf_group_tools",
    ),
    RibbonButton(
        id="xlperf_help",
        action="help",
        label="帮助",
        help="打开 xlperf 使用说明。",
        image_mso="Help",
        group="xlperf_group_tools",
        needs_workbook=False,
    ),
)


@dataclass(frozen=True)
class UdfArg:
    """One argument of a worksheet function; ``help`` is shown in Excel's function wizard."""

    name: str
    help: str
    optional: bool = False


@dataclass(frozen=True)
class Udf:
    """A worksheet function implemented in ``xlperf.excel.udfs`` and wrapped in VBA."""

    name: str
    args: tuple[UdfArg, ...]
    help: str
    #: takes xlwings' reserved ``caller`` argument last (the calling cell, to score by the rules of its
    #: workbook); the VBA wrapper passes ``Nothing`` in its place, as xlwings' own generator does
    caller: bool = False


UDF_CATEGORY = "绩效自评"
UDF_MODULE = "xlperf.excel.udfs"

UDFS: tuple[Udf, ...] = (
    Udf(
        "XLPERF_COMPLETION",
        (
            UdfArg("target", "年度指标值（目标值）。"),
            UdfArg("actual", "实际完成值；定性指标填完成等级。"),
            UdfArg("direction", "指标方向：≥（越大越好）、≤（越小越好）或 =，省略时为 ≥。", optional=True),
        ),
        "按指标方向计算完成率（实际值相对目标值的比例）；完成等级按本工作簿评分规则中的比例折算。",
        caller=True,
    ),
    Udf(
        "XLPERF_SECTION_SCORE",
        (
            UdfArg("targets", "一组指标的目标值区域。"),
            UdfArg("actuals", "与目标值一一对应的实际值区域。"),
            UdfArg("full", "这组指标的分值（见“填表说明”中的评分规则）。"),
            UdfArg("directions", "每项指标的方向区域（≥/≤/=），省略时均为 ≥。", optional=True),
        ),
        "按规则 R-a 计算一组产出或效益指标的得分：每行权重 = 分值 ÷ 行数，每行扣分四舍五入到两位；"
        "完成率封顶值和完成等级按本工作簿的评分规则。",
        caller=True,
    ),
    Udf(
        "XLPERF_RATING",
        (UdfArg("total", "自评总分。"),),
        "按本工作簿的评分规则，根据总分给出评价等级（规则不评级时为“不评级”）。",
        caller=True,
    ),
    Udf(
        "XLPERF_RATIO",
        (
            UdfArg("numerator", "分子，例如实际支出。"),
            UdfArg("denominator", "分母，例如预算数；为 0 时返回空值。"),
        ),
        "计算两个数的比率（如预算执行率），分母为 0 时不报错。",
    ),
)


def button_by_id(button_id: str) -> RibbonButton:
    """Return the registered button with this id; ``KeyError`` names the known ids otherwise."""
    for b in BUTTONS:
        if b.id == button_id:
            return b
    raise KeyError(f"unknown ribbon button {button_id!r}; known: {', '.join(b.id for b in BUTTONS)}")


def udf_by_name(name: str) -> Udf:
    """Return the registered worksheet function with this (upper-case) name."""
    for u in UDFS:
        if u.name == name:
            return u
    raise KeyError(f"unknown worksheet function {name!r}; known: {', '.join(u.name for u in UDFS)}")
