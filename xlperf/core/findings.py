"""Findings: what validation says about an evaluation, collected and reported once.

A finding carries a stable code (docs/DOMAIN.md §3, plus xlperf's own P/R codes for reading), a
severity, a location and a Chinese message saying what to fix. The core only knows the field path
(``outputs[2].actual_value``); the adapters fill ``sheet`` and ``cell`` from their source map.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


#: Every code xlperf emits: severity and a short Chinese title (shown in 校验结果 and README).
CODES: dict[str, tuple[Severity, str]] = {
    "V01": (Severity.ERROR, "全年预算数应等于本年收入加上年结转"),
    "V02": (Severity.ERROR, "执行数应等于各资金来源支出之和"),
    "V03": (Severity.ERROR, "执行数应等于基本支出加项目支出"),
    "V04": (Severity.ERROR, "预算执行率由系统计算，不应手工填写"),
    "V05": (Severity.WARNING, "年初结转结余 + 本年决算收入 − 本年支出应等于年末结转结余"),
    "V06": (Severity.WARNING, "同一数字在两处填写不一致，需说明"),
    "V07": (Severity.ERROR, "金额不得为负，分项不得大于合计"),
    "V10": (Severity.ERROR, "指标行缺少必填项"),
    "V11": (Severity.ERROR, "目标值文字中的方向词与所选方向不一致"),
    "V12": (Severity.ERROR, "完成率低于100%，须填写未达标原因"),
    "V13": (Severity.ERROR, "完成率在评分框架规定的比例以上，须填写原因"),
    "V15": (Severity.WARNING, "目标值与批复目标值不同，需说明"),
    "V16": (Severity.WARNING, "目标包含多个子目标，需说明计分口径"),
    "V17": (Severity.WARNING, "未完全完成的指标应在“存在的主要问题”中说明"),
    "V18": (Severity.WARNING, "实际值与其文字说明不符，或完成率明显不合理（xlperf 增设）"),
    "V19": (Severity.WARNING, "序号缺失、重复或与表中顺序不一致（xlperf 增设）"),
    "V20": (Severity.ERROR, "须填写12个月执行率（或年度平均执行率），每个在0–100%之间"),
    "V21": (Severity.WARNING, "执行率逐月递增，疑似填写了累计执行率"),
    "V30": (Severity.ERROR, "管理效率须包含框架规定的全部指标及分值"),
    "V31": (Severity.ERROR, "得分须在0与分值之间"),
    "V32": (Severity.ERROR, "管理效率指标缺少评价说明或计算所需数据"),
    "V33": (Severity.WARNING, "“三公”经费执行率偏低，需说明原因"),
    "V40": (Severity.ERROR, "小计与总分应为各部分之和"),
    "V41": (Severity.ERROR, "评价等级应由总分得出"),
    "V42": (Severity.ERROR, "报告中的数字应与评分汇总一致"),
    "V43": (Severity.WARNING, "手工调整的得分或完成率须保留原值并写明理由"),
    # xlperf's own codes (not in docs/DOMAIN.md's list): identity, and reading a workbook
    "I01": (Severity.ERROR, "基本信息缺少部门名称或评价年度"),
    "I02": (Severity.WARNING, "自评报告所需的内容未填写"),
    "P01": (Severity.ERROR, "单元格内容无法识别为数值"),
    "P02": (Severity.WARNING, "已按约定换算的输入（请核对）"),
    "P03": (Severity.ERROR, "输入单元格含公式或错误值"),
    "R01": (Severity.ERROR, "工作簿结构不完整（缺少工作表、名称或表格）"),
    "R02": (Severity.WARNING, "工作簿结构与标准模板不同（已尽量读取）"),
    # the rules themselves: which framework scored the workbook
    "F01": (Severity.WARNING, "计分所用的评分框架与工作簿制作时的不同"),
    "F02": (Severity.ERROR, "工作簿内嵌的评分规则无法使用或被改动"),
    "F03": (Severity.WARNING, "评价年度不在评分框架的适用年度内"),
    # the 项目支出绩效自评表 (docs/DOMAIN.md §5.6): J0x 项目资金, J1x indicator rows, J2x weights, J3x totals
    "J01": (Severity.ERROR, "项目名称或年度未填写"),
    "J02": (Severity.ERROR, "项目资金缺少全年预算数或全年执行数，或为负数"),
    "J03": (Severity.ERROR, "年度资金总额应等于其下各项资金之和"),
    "J04": (Severity.ERROR, "填写的执行率或得分与计算不符"),
    "J05": (Severity.WARNING, "全年执行数超过全年预算数"),
    "J06": (Severity.ERROR, "预算执行率低于评分框架规定，须说明原因"),
    "J07": (Severity.ERROR, "预算执行率的分值与评分框架不符"),
    "J10": (Severity.ERROR, "绩效指标行缺少必填项"),
    "J11": (Severity.ERROR, "计算符号与年度指标值中的方向词不一致"),
    "J12": (Severity.ERROR, "得分低于分值，须填写偏差原因分析及改进措施"),
    "J13": (Severity.ERROR, "实际完成值远超年度指标值，须说明原因"),
    "J14": (Severity.ERROR, "定性指标须填写等级，得分须在等级区间内"),
    "J15": (Severity.ERROR, "年度指标值与实际完成值的单位不一致"),
    "J16": (Severity.WARNING, "实际完成值为负数，按 0 计分"),
    "J17": (Severity.ERROR, "填写的得分与按规则计算的不符"),
    "J18": (Severity.ERROR, "评分框架不允许不适用的指标"),
    "J19": (Severity.WARNING, "不适用的指标不计分，其余按百分制折算"),
    "J20": (Severity.ERROR, "各指标分值与预算执行率分值之和应等于总分"),
    "J21": (Severity.ERROR, "一级指标下各指标分值之和应等于评分框架规定的分值"),
    "J22": (Severity.WARNING, "一级指标的分值与评分框架的默认分值不同"),
    "J23": (Severity.ERROR, "一级指标无法识别"),
    "J24": (Severity.WARNING, "未写明计算符号，已按“≥”计分"),
    "J30": (Severity.ERROR, "填写的得分合计与计算不符"),
    "J31": (Severity.ERROR, "填写的评价等级与得分不符"),
    "J32": (Severity.WARNING, "总分已按预算执行率封顶"),
    "J40": (Severity.ERROR, "自评报告中的数字应与评分结果一致"),
}


@dataclass(frozen=True)
class Finding:
    """One thing to fix (error) or look at (warning)."""

    code: str
    message: str
    path: str = ""
    sheet: str = ""
    cell: str = ""
    typed: str = ""  # what the cell held, when the finding is about an unreadable entry

    @property
    def severity(self) -> Severity:
        return CODES[self.code][0]

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    @property
    def where(self) -> str:
        """Where to look, as a clerk reads it: ``产出指标!M9`` or the field path for JSON input."""
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or self.path

    def located(self, sheet: str, cell: str) -> Finding:
        return replace(self, sheet=sheet, cell=cell)

    def to_json(self) -> dict[str, str]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "sheet": self.sheet,
            "cell": self.cell,
            "path": self.path,
            "message": self.message,
        }


def finding(code: str, message: str, path: str = "", *, typed: str = "") -> Finding:
    """Make a finding; an unknown code is a programming error caught by the tests."""
    if code not in CODES:
        raise KeyError(f"unknown finding code {code}")
    return Finding(code=code, message=message, path=path, typed=typed)


def has_errors(findings: list[Finding]) -> bool:
    return any(f.is_error for f in findings)


def one_per_field(findings: list[Finding]) -> list[Finding]:
    """Drop a finding about a field (or cell) that an earlier reading finding (P/R) already names.

    A cell the clerk filled but xlperf could not read is reported once, as the reading problem;
    the checks that then see the field empty ("请填写…") would only contradict the clerk.
    """
    read_paths = {f.path for f in findings if f.code[0] in "PR" and f.path and f.is_error}
    read_cells = {
        (f.sheet, f.cell) for f in findings if f.code[0] in "PR" and f.sheet and f.cell and f.is_error
    }
    error_cells = {(f.sheet, f.cell) for f in findings if f.sheet and f.cell and f.is_error}
    out: list[Finding] = []
    merged: dict[tuple[str, str, str], int] = {}
    notes: dict[tuple[str, str], list[str]] = {}
    for f in findings:
        if f.code[0] not in "PR" and (f.path in read_paths or (f.sheet, f.cell) in read_cells):
            continue
        located = bool(f.sheet and f.cell)
        if located and not f.is_error and (f.sheet, f.cell) in error_cells:
            notes.setdefault((f.sheet, f.cell), []).append(f.message)  # said inside the cell's error
            continue
        key = (f.code, f.sheet, f.cell)
        if located and key in merged:  # e.g. one V17 naming every row missing from 存在的主要问题
            i = merged[key]
            out[i] = replace(out[i], message=f"{out[i].message}；{f.message}")
            continue
        if located:
            merged[key] = len(out)
        out.append(f)
    for i, f in enumerate(out):  # the first error of a cell carries that cell's warnings as notes
        if f.is_error and (f.sheet, f.cell) in notes:
            out[i] = replace(f, message=f"{f.message}（另：{'；'.join(notes.pop((f.sheet, f.cell)))}）")
    return out


#: the order of the model's parts, as the workbook's sheets come (基本信息 … 问题与措施, then checks)
_PATH_ORDER = (
    "department",
    "claims",
    "tasks",
    "budget",
    "outputs",
    "benefits",
    "spending",
    "management",
    "problems",
    "improvements",
    "report",
)


def _cell_key(cell: str) -> tuple[int, int]:
    letters = "".join(ch for ch in cell if ch.isalpha()).upper()
    digits = "".join(ch for ch in cell if ch.isdigit())
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return (int(digits) if digits else 0, col)


def _path_key(path: str) -> tuple[int, int, str]:
    head = path.split(".")[0].split("[")[0]
    rank = _PATH_ORDER.index(head) if head in _PATH_ORDER else len(_PATH_ORDER)
    index = path.split("[")[1].split("]")[0] if "[" in path else ""
    return (rank, int(index) if index.isdigit() else 0, path)


def ordered(findings: list[Finding], sheets: tuple[str, ...] = ()) -> tuple[Finding, ...]:
    """Findings in reading order: by sheet (in ``sheets`` order), then row and column; findings without
    a cell (JSON input, whole-workbook problems) by the part of the model they name. Stable."""

    def key(f: Finding) -> tuple[int, int, int, int, str, str]:
        if f.sheet and f.sheet in sheets:
            row, col = _cell_key(f.cell)
            return (0, sheets.index(f.sheet), row, col, "", f.code)
        rank, index, path = _path_key(f.path)
        return (1 if sheets else 0, rank, index, 0, path, f.code)

    return tuple(sorted(findings, key=key))


_ROW_PREFIX = re.compile(r"^第\d+行(?=“)")


def detail(f: Finding) -> str:
    """The message without the location a table already shows in its 位置 column.

    Messages name their place for readers that have nothing else (JSON, mail text): ``产出指标!R12
    （实际值）：…`` or ``第8行“…”``. Next to a 工作表/位置 column that is said twice, and the 序号
    "第8行" reads like a different row than the sheet row R12; so it is dropped there."""
    if not (f.sheet and f.cell):
        return f.message
    text = f.message
    where = f"{f.sheet}!{f.cell}"
    if text.startswith(where):
        text = text[len(where) :]
        label = re.match(r"^（([^）]*)）[：:]\s*", text)
        if label:
            text = f"{label.group(1)}：{text[label.end() :]}"
        return text.lstrip("：: ") or f.message
    return _ROW_PREFIX.sub("", text)
