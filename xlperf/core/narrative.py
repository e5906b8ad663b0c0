"""The 自评报告: the narrative xlperf writes from a ``Result`` (docs/DOMAIN.md §4).

Pure core: builds paragraphs of text, nothing else. ``xlperf.word`` turns a :class:`Report` into a
.docx and the workbook writer puts one paragraph per row on the 自评报告 sheet.

The text follows the published 2023 report of 白云区科工商信局 (the seed) closely; the clerk's own
texts (duties, tasks, targets, evidence, problems, measures) are used as typed, and every number
comes from the ``Result``, never from a figure the clerk stated by hand.

Number formats (one style throughout, so that :func:`check_report` can read them back):

* numbers are written as the seed writes them: at most two decimals, no trailing zeros, no
  thousands separators: ``79776.38万元``, ``3247.7万元``, ``48.57分``, ``评价得分3分``, ``得分率100%``,
  ``96.19%``, ``-16.56%``; when the clerk chose 亿元 (``Budget.unit_yi``) amounts of 1 亿元 or more
  are printed as ``7.98亿元``;
* what the framework states (分值, thresholds) is printed as written: ``指标分值2分``, ``总分50分``;
* counts are integers; Chinese ordinals ``一是、二是`` and ``六大重点工作任务``;
* 产出/效益 rows are numbered ① … ㊿ and ``(51)`` onwards; 管理效率 indicators ``（1）``.

As a careful clerk writes it (issue 25): a blank field is never printed as a placeholder — the
sentence or clause that would hold it is left out, and a finding points at the cell; a computed
management sentence ends as the seed's do, "根据既定的评分标准，该指标得X分。", naming the standard
where points were deducted; 存在的主要问题 is the clerk's items plus real failures only (a target not
met, a requirement answered 否), folded into the clerk's own item on unmet targets when there is one;
the 评价单位/填报人/日期 block closes the report. A report built while errors remain is a draft:
``Report.draft`` holds the notice every adapter shows (.docx header and first page, the 自评报告 sheet).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal, InvalidOperation

from xlperf.core.decimals import fmt2, plain, round2
from xlperf.core.evaluation import Budget, Evaluation
from xlperf.core.findings import Finding, finding
from xlperf.core.quantity import normalise_text, normalised_words
from xlperf.core.report import Paragraph, Report, Role
from xlperf.core.result import IndicatorScore, Result, SectionScore

TITLE = "部门整体支出绩效自评报告"
#: kept for adapters and messages outside the report; the report itself never prints a placeholder
MISSING = "（未填写）"
#: how the seed ends every computed management sentence
STANDARD_ENDING = "根据既定的评分标准，该指标得{score}分。"


SECTION_HEADINGS = ("一、部门基本情况", "二、绩效自评情况", "三、存在的主要问题", "四、下一步改进措施")


# ---------------------------------------------------------------------------------- formatting

_CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """A Chinese numeral for 0 ≤ n < 10000: 1 → 一, 10 → 十, 12 → 十二, 23 → 二十三, 105 → 一百零五."""
    if n < 0 or n >= 10000:
        return str(n)
    if n < 10:
        return _CN_DIGITS[n]
    if n < 20:
        return "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    parts: list[str] = []
    zero = False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // value % 10
        if digit:
            if zero and parts:
                parts.append("零")
            parts.append(_CN_DIGITS[digit] + unit)
            zero = False
        elif parts:
            zero = True
    return "".join(parts)


def circled(n: int) -> str:
    """The circled numeral of n: ① … ⑳ (U+2460), ㉑ … ㉟ (U+3251), ㊱ … ㊿ (U+32B1); ``(51)`` beyond."""
    if 1 <= n <= 20:
        return chr(0x2460 + n - 1)
    if 21 <= n <= 35:
        return chr(0x3251 + n - 21)
    if 36 <= n <= 50:
        return chr(0x32B1 + n - 36)
    return f"({n})"


def format_number(value: Decimal) -> str:
    """Rounded to 2 places, trailing zeros dropped, as the seed writes: ``48.57``, ``3``, ``3247.7``."""
    return fmt2(value)


def format_money(amount: Decimal | None, *, yi: bool = False, blank: str = MISSING) -> str:
    """``79776.38万元``; with ``yi`` amounts of 1 亿元 or more as ``7.98亿元``; none → ``blank``."""
    if amount is None:
        return blank
    if yi and abs(amount) >= 10000:
        return f"{format_number(amount / 10000)}亿元"
    return f"{format_number(amount)}万元"


def format_score(value: Decimal) -> str:
    """A score xlperf computed: ``48.57``, ``50``, ``18.8``."""
    return format_number(value)


def format_full(value: Decimal) -> str:
    """A 分值 or threshold the framework states, as written: ``2``, ``20``, ``2.5``."""
    return str(plain(value))


def format_percent(value: Decimal | None) -> str:
    """A computed rate and ``%``: ``96.19%``, ``100%``, ``-16.56%``; None → 无法计算."""
    return "无法计算" if value is None else f"{format_number(value)}%"


_END = "。！？；…"
_CLOSERS = "”’）)」』》"


def sentence(text: str) -> str:
    """The text ending in a full stop: adds "。" unless it already ends a sentence."""
    text = text.strip()
    if not text:
        return ""
    if text[-1] in "，,、；;：:":
        return text[:-1] + "。"
    if text[-1] in _END:
        return text
    if text[-1] in _CLOSERS and len(text) > 1 and text[-2] in _END:
        return text
    return text + "。"


def clause(text: str) -> str:
    """The text without its final punctuation, to be continued in a longer sentence."""
    return text.strip().rstrip("。，,；;：:、 ")


def quoted(name: str) -> str:
    """“name”, turning quotation marks inside into single ones: “‘三线’整治”."""
    return "“" + name.strip().replace("“", "‘").replace("”", "’") + "”"


def lines_of(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


_LEADING_NUMBER = re.compile(
    r"^\s*(?:\d+|[一二三四五六七八九十]+)\s*[.、．)）]\s*|^\s*[（(]\s*(?:\d+|[一二三四五六七八九十]+)\s*[)）]\s*"
)
_LEADING_SHI = re.compile(r"^\s*[一二三四五六七八九十]+是\s*")


def _unnumbered(text: str) -> str:
    """A list item without the number the clerk may have typed in front (1. / 1、 / （1） / 一是)."""
    return _LEADING_SHI.sub("", _LEADING_NUMBER.sub("", text, count=1), count=1)


_CJK_SPACE = re.compile(
    r"(?<=[\u3000-\u9fff\uff00-\uffef]) +(?=[-\d.%])|(?<=[\d.%]) +(?=[\u3000-\u9fff\uff00-\uffef])"
)


def tidy(text: str) -> str:
    """Drop the half-width spaces the core's messages put between Chinese and numbers."""
    return _CJK_SPACE.sub("", text)


# ---------------------------------------------------------------------------------- the builder


class Writer:
    def __init__(self, result: Result | None = None) -> None:
        self.paragraphs: list[Paragraph] = []
        #: field path → what the clerk typed, for every cell xlperf could not read (P01/P03)
        self.unreadable: dict[str, str] = {
            f.path: f.typed
            for f in (result.findings if result else ())
            if f.code in ("P01", "P03") and f.path
        }

    def unreadable_text(self, path: str) -> str:
        """Why a filled cell gives nothing: "所填“x”无法识别" (for a sentence saying why a row is
        not scored)."""
        typed = self.unreadable.get(path, "")
        return f"所填“{typed}”无法识别" if typed else "所填内容无法识别"

    def add(self, level: int, text: str, role: Role = Role.BODY) -> None:
        if text.strip():
            self.paragraphs.append(Paragraph(level, text.strip(), role))

    def heading(self, level: int, text: str) -> None:
        self.add(level, text, Role.HEADING)

    def body(self, text: str, role: Role = Role.BODY) -> None:
        self.add(0, text, role)

    def texts(self, text: str, first_prefix: str = "") -> None:
        """The clerk's multi-line text as paragraphs; the first one carries ``first_prefix``. Nothing
        when the text is blank (a finding points at it)."""
        for i, line in enumerate(lines_of(text)):
            self.body((first_prefix if i == 0 else "") + line)


def build_report(result: Result) -> Report:
    """Write the whole 自评报告 of docs/DOMAIN.md §4 from a scored result."""
    ev = result.evaluation
    dep = ev.department
    w = Writer(result)
    w.heading(1, SECTION_HEADINGS[0])
    _basic(w, result)
    w.heading(1, SECTION_HEADINGS[1])
    _conclusion(w, result)
    for i, sec in enumerate(result.sections, start=2):
        w.heading(2, f"（{cn_number(i)}）{sec.name}分析")
        if _is_duty_like(sec):
            _duty_section(w, result, sec)
        else:
            _management_section(w, result, sec)
    w.heading(1, SECTION_HEADINGS[2])
    added = _problems(w, result)
    w.heading(1, SECTION_HEADINGS[3])
    _numbered(w, ev.improvements, added)
    _closing(w, result)
    errors = len(result.errors)
    return Report(TITLE, tuple(w.paragraphs), department=dep.name, year=dep.year, draft=draft_notice(errors))


def draft_notice(errors: int) -> str:
    """The mark of a report produced while ``errors`` error findings remain ("" when there are none)."""
    if not errors:
        return ""
    return (
        f"草稿：生成本报告时工作簿尚有 {errors} 条错误未改正（见“校验结果”），"
        "本稿仅供核对，不能作为正式报告报送；改正后重新生成。"
    )


def year_text(ev: Evaluation) -> str:
    return str(ev.department.year) if ev.department.year else "本"


def self_ref(ev: Evaluation) -> str:
    return ev.department.self_ref.strip() or "我单位"


def _basic(w: Writer, result: Result) -> None:
    ev = result.evaluation
    dep = ev.department
    year, me = year_text(ev), self_ref(ev)

    w.heading(2, "（一）部门职能")
    duties = [_unnumbered(d) for d in lines_of(dep.duties)]
    intro = _INTRO_TAIL.sub("", clause(dep.intro))  # the clerk may end with the phrase we add
    if duties:
        w.body(f"{intro}，主要职责是：" if intro else "主要职责是：")
        for i, duty in enumerate(duties, start=1):
            w.body(f"{i}.{duty}", Role.ITEM)
    elif intro:
        w.body(sentence(intro))
    units = [clause(u) for u in lines_of(dep.subordinate_units)]
    staffing = sentence(dep.staffing)
    if not staffing and (dep.staff_quota is not None or dep.staff_actual is not None):
        parts = [
            f"编制{dep.staff_quota}名" if dep.staff_quota is not None else "",
            f"实有在职人员{dep.staff_actual}名" if dep.staff_actual is not None else "",
        ]
        staffing = sentence("，".join(p for p in parts if p))
    count = dep.subordinate_count if dep.subordinate_count is not None else len(units)
    if units:
        w.body(f"下属单位{count}个，具体包括：{'、'.join(units)}。{staffing}")
    elif count:
        w.body(f"下属单位{count}个。{staffing}")
    elif staffing:
        w.body(staffing)

    w.heading(2, "（二）年度总体工作和重点工作任务")
    # a task without a name is listed by what it is about only (its name's cell has a finding)
    tasks = [t for t in ev.tasks if t.name.strip() or t.content.strip() or t.completion.strip()]
    names = [clause(t.name) for t in tasks]
    named = [n for n in names if n]
    if len(named) > 1:
        listed = "；".join(f"{cn_number(i)}是{n}" for i, n in enumerate(named, start=1))
        many = "两" if len(named) == 2 else cn_number(len(named))
        w.body(f"{year}年度{me}有{many}大重点工作任务，{listed}。具体内容及完成情况如下：")
    elif named:
        w.body(f"{year}年度{me}的重点工作任务是{named[0]}。具体内容及完成情况如下：")
    for i, (task, name) in enumerate(zip(tasks, names, strict=True), start=1):
        if name:
            w.heading(3, f"{i}.{name}")
        w.texts(task.content, "主要内容：")
        w.texts(task.completion, "实际完成情况：")

    w.heading(2, "（三）部门整体支出绩效目标")
    w.texts(dep.performance_goal, f"{year}年度{me}整体支出绩效目标是：")

    w.heading(2, "（四）部门整体收支情况（以决算数为统计口径）")
    w.body(_budget_paragraph(w, result))

    w.heading(2, "（五）部门整体绩效管理情况")
    w.texts(dep.performance_management)


_INTRO_TAIL = re.compile(r"[，,；;、]?\s*(?:其|本局|我局)?主要(?:职责|职能)(?:是|为|如下|包括)?[：:，,]?\s*$")


def _closing(w: Writer, result: Result) -> None:
    """The block a bureau expects at the end of the report: who evaluated (the seal goes there), who
    filled it in, the telephone, the date and the 文号 of the notice."""
    dep = result.evaluation.department
    pairs = (
        ("评价单位（盖章）", dep.evaluator.strip() or dep.name.strip()),
        ("填报人", dep.preparer.strip()),
        ("联系电话", dep.phone.strip()),
        ("填报日期", dep.fill_date.strip()),
        ("评价通知文号", dep.notice_no.strip()),
    )
    shown = [f"{label}：{value}" for label, value in pairs if value]
    if len(shown) > 1 or dep.preparer.strip() or dep.notice_no.strip():
        for line in shown:
            w.add(0, line, Role.META)


def _budget_paragraph(w: Writer, result: Result) -> str:
    """(四) 收支情况, as the seed writes it, with only the amounts that are filled in (a blank required
    amount has its finding; nothing is printed in its place, and no rate is computed from it)."""
    ev = result.evaluation
    b = ev.budget
    yi = b.unit_yi
    who = ev.department.short_name.strip() or ev.department.name.strip() or self_ref(ev)
    total = b.total_budget
    if total is None and b.income_current is not None and b.carryover_prior is not None:
        total = b.income_current + b.carryover_prior

    def m(v: Decimal | None) -> str:
        return format_money(v, yi=yi, blank="")

    def said(*parts: tuple[str, Decimal | None]) -> list[str]:
        return [f"{label}{m(v)}" for label, v in parts if v is not None]

    sentences = []
    parts = said(("本年收入为", b.income_current), ("上年结转为", b.carryover_prior))
    if total is not None:
        sentences.append(
            f"{who}{year_text(ev)}年全年预算数为{m(total)}" + ("，其中：" + "，".join(parts) if parts else "")
        )
    elif parts:
        sentences.append(f"{who}{year_text(ev)}年" + "，".join(parts))
    if b.executed is not None:
        rate = result.ratios.get("budget_execution")
        sentences.append(
            f"全年实际执行数{m(b.executed)}"
            + (f"，预算执行率{format_percent(rate)}" if rate is not None else "")
        )
    sources = said(("一般公共预算财政拨款支出", b.spend_general))
    sources += said(
        *((label, v) for label, v in (("政府性基金支出", b.spend_fund), ("其他资金支出", b.spend_other)) if v)
    )
    if sources:
        sentences.append("按资金来源分，" + "，".join(sources))
    nature = said(("基本支出", b.spend_basic), ("项目支出", b.spend_project))
    if nature:
        sentences.append("按支出性质分，" + "，".join(nature))
    sentences += said(("年末结转和结余", b.year_end_balance))
    return "".join(sentence(s) for s in sentences)


def _conclusion(w: Writer, result: Result) -> None:
    ev = result.evaluation
    w.heading(2, "（一）自评结论")
    if not result.framework.rated:  # rules that score without rating (湖北: "可以不评级")
        w.body(
            f"经综合自评，{self_ref(ev)}{year_text(ev)}年部门整体支出绩效自评得分为{format_score(result.total)}分"
            f"（评分规则不评定等级）。"
        )
        return
    w.body(
        f"经综合自评，{self_ref(ev)}{year_text(ev)}年部门整体支出绩效自评结果为“{result.rating}”，"
        f"自评得分为{format_score(result.total)}分。"
    )


def situation(name: str) -> str:
    """How a section's paragraph opens: 履职效能情况, and 预算执行情况 for a name that already says 情况."""
    return name if name.endswith("情况") else f"{name}情况"


def _is_duty_like(sec: SectionScore) -> bool:
    return all(i.spec.kind.subtotal for i in sec.indicators)


def _duty_section(w: Writer, result: Result, sec: SectionScore) -> None:
    names = "、".join(i.spec.name for i in sec.indicators)
    w.add(
        0,
        f"1.{situation(sec.name)}。主要包括{names}等{len(sec.indicators)}个三级指标，"
        f"总分{format_full(sec.full)}分，自评得分{format_score(sec.score)}分。",
        Role.LEAD,
    )
    for k, ind in enumerate(sec.indicators, start=1):
        ind.spec.kind.narrate(w, result, k, ind)


def _groups(sec: SectionScore) -> list[tuple[str, list[IndicatorScore]]]:
    groups: dict[str, list[IndicatorScore]] = {}
    for ind in sec.indicators:
        groups.setdefault(ind.spec.group, []).append(ind)
    return list(groups.items())


def _management_section(w: Writer, result: Result, sec: SectionScore) -> None:
    groups = _groups(sec)
    below = [i for i in sec.indicators if i.score < i.full]
    overall = "总体完成情况较好。" if not below else f"其中{len(below)}个指标未得满分。"
    w.add(
        0,
        f"{situation(sec.name)}。主要包括{'、'.join(g for g, _ in groups)}，"
        f"下设{len(sec.indicators)}个三级指标，"
        f"总分{format_full(sec.full)}分，自评得分{format_score(sec.score)}分。{overall}具体情况如下：",
        Role.LEAD,
    )
    for g, (group, inds) in enumerate(groups, start=1):
        w.heading(3, f"{g}.{group}")
        for j, ind in enumerate(inds, start=1):
            ind.spec.kind.narrate(w, result, j, ind)


def management_indicator(
    w: Writer,
    result: Result,
    j: int,
    ind: IndicatorScore,
    computed_sentence: Callable[[Result, IndicatorScore, str], str],
    lost_items: Callable[[Result, IndicatorScore], list[str]],
) -> None:
    """The paragraphs of one 管理效率 indicator; its kind supplies the computed sentence and lost items."""
    spec = ind.spec
    entry = next((m for m in result.evaluation.management if m.indicator == ind.id), None)
    w.heading(4, f"（{j}）{spec.name}。")
    assesses = f"该指标主要考核{clause(spec.assesses)}。" if spec.assesses.strip() else ""
    w.body(
        f"{assesses}指标分值{format_full(spec.full)}分，评价得分{format_score(ind.score)}分，"
        f"得分率{format_percent(ind.rate_pct)}。"
    )
    evidence = lines_of(entry.evidence if entry else "")
    # one paragraph per indicator, as the seed writes: the clerk's evidence, completed by the
    # computation only where the evidence does not already state it (a blank 评价说明 has its finding)
    computed = computed_sentence(result, ind, " ".join(evidence))
    lost = lost_items(result, ind)
    if lost:
        computed = (clause(computed) + "；" if computed else "") + "其中" + "；".join(lost) + "。"
        if not states_score(" ".join(evidence), ind.score):
            computed += STANDARD_ENDING.format(score=format_score(ind.score))
    if evidence:
        for line in evidence[:-1]:
            w.body(line)
        ending = _CLERK_ENDING.search(evidence[-1]) if computed else None
        if ending is not None and ending.start() > 0:
            # the clerk ends on the seed's conclusion already: the computation goes before it
            head = evidence[-1][: ending.start()]
            w.body(f"{clause(head)}，{clause(computed)}，{evidence[-1][ending.start() :].lstrip('，, ')}")
        else:
            w.body(sentence(evidence[-1]) + computed if computed else evidence[-1])
    elif computed:
        w.body(computed)
    if ind.computed_score is not None and ind.computed_score != ind.score and entry is not None:
        why = sentence(entry.override_reason)
        w.body(
            f"按评分标准计算得分为{format_score(ind.computed_score)}分，经调整按{format_score(ind.score)}分计"
            + (f"，理由：{why}" if why else "。"),
            Role.ADDED,
        )
    if entry is not None:
        w.texts(entry.explanation)


_CLERK_ENDING = re.compile(r"[，,]?\s*根据既定的评分标准[，,]\s*该指标得\s*-?[\d.]+\s*分[。.]?\s*$")


def states_score(text: str, score: Decimal) -> bool:
    """Whether the clerk's text already ends on the score (“该指标得 2 分”), so it is not said twice."""
    flat = normalise_text(text).replace(",", "")
    return any(
        re.search(rf"该指标得{re.escape(f)}分", flat) or re.search(rf"得{re.escape(f)}分[。；]?$", flat)
        for f in {fmt2(score), f"{round2(score):.2f}"}
    )


def standard_ending(text: str, score: Decimal) -> str:
    """The seed's ending of a computed sentence, unless ``text`` (the clerk's evidence) already says it."""
    return "" if states_score(text, score) else STANDARD_ENDING.format(score=format_score(score))


BUDGET_LABELS = {name: (f.description or name) for name, f in Budget.model_fields.items()}


def mentions(text: str, value: Decimal | None, suffix: str = "") -> bool:
    """Whether the clerk's text already states ``value`` (as 100, 100.00, 1,957 …) followed by ``suffix``."""
    if value is None:
        return False
    flat = normalise_text(text).replace(",", "")  # the one normaliser: NFKC, one minus sign, no blanks
    forms = {fmt2(value), f"{round2(value):.2f}"}
    return any(re.search(rf"(?<![\d.]){re.escape(f)}(?![\d]){re.escape(suffix)}", flat) for f in forms)


#: a clerk's problem item about targets not met: the unmet rows xlperf finds are added to it
_UNMET = re.compile(r"未达标|未完成|未达到|未能完成|没有完成|未实现|未按期")


def _problems(w: Writer, result: Result) -> list[str]:
    """三、存在的主要问题: the clerk's items, numbered 一是、二是; the real failures the clerk does not
    mention (a row below its target, a requirement answered 否 or done in part) are added — to the
    clerk's own item on unmet targets when there is one, else as one item of their own. A deduction
    by a standard (a 97.88 % spending rate, a ratio beyond its threshold) is explained in 二、, not
    called a failure here. Returns the subjects of the items xlperf added (for a measure each)."""
    ev = result.evaluation
    items = [_unnumbered(p) for p in ev.problems if p.strip()]
    mentioned = normalised_words("".join(ev.problems))
    unmet = list(_unmet_rows(result, mentioned))
    unmet_items = [i for i, text in enumerate(items) if _UNMET.search(text)]
    added: list[str] = []
    texts = [sentence(t) for t in items]
    if unmet and unmet_items:
        at = unmet_items[-1]
        texts[at] += "此外，" + "，".join(unmet) + ("，均" if len(unmet) > 1 else "，") + "未达到年度目标值。"
    elif unmet:
        texts.append("部分绩效指标未达到年度目标值：" + "；".join(unmet) + "。")
        added.append("unmet")
    lapses = list(_lapses(result, mentioned))
    if lapses:
        texts.append("部分管理要求未落实到位。" + "；".join(lapses) + "。")
        added.append("lapses")
    for i, text in enumerate(texts, start=1):
        w.body(f"{cn_number(i)}是{text}", Role.ITEM if i <= len(items) else Role.ADDED)
    return added


def _unmet_rows(result: Result, mentioned: str) -> Iterator[str]:
    """Every 产出/效益 row below its target (completion under 100 %) the clerk's problems do not name."""
    for ind in result.indicator_scores():
        what = ind.spec.row_noun
        for row in ind.rows:
            name = row.name.strip()
            if row.used >= 1 or not name or normalised_words(name) in mentioned:
                continue
            r = row.completion if row.source != "override" else row.used
            if r is not None:
                yield f"{what}{quoted(name)}完成率为{format_percent(r * 100)}"


def _lapses(result: Result, mentioned: str) -> Iterator[str]:
    """Every 管理效率 requirement not met (a sub-item answered 否, fewer done than due) whose indicator
    the clerk's problems do not name; an unanswered one is a blank with its finding, not a lapse."""
    for ind in result.indicator_scores():
        if ind.rows or ind.spec.kind.subtotal or normalised_words(ind.spec.name) in mentioned:
            continue
        failed = ind.spec.kind.failed_items(result, ind)
        if failed:
            yield f"{quoted(ind.spec.name)}方面，" + "，".join(failed)


#: the measure that answers each kind of problem xlperf adds, so that problems and measures stay paired
_MEASURES = {
    "unmet": "对未达到年度目标值的绩效指标逐项分析原因，加强跟踪督办，确保下一年度按期完成。",
    "lapses": "对照管理效率各项要求逐项整改，完善内部管理制度并按规定执行。",
}


def _numbered(w: Writer, texts: Iterable[str], added: Iterable[str] = ()) -> None:
    """四、下一步改进措施: the clerk's items, then one measure for each problem xlperf added."""
    items = [_unnumbered(t) for t in texts if t.strip()]
    for i, text in enumerate(items, start=1):
        w.body(f"{cn_number(i)}是{sentence(text)}", Role.ITEM)
    for i, subject in enumerate(added, start=len(items) + 1):
        w.body(f"{cn_number(i)}是{_MEASURES[subject]}", Role.ADDED)


# ---------------------------------------------------------------------------------- V42

NUM = r"(-?[\d,]+(?:\.\d+)?)"


def read_decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None


_HEADING = re.compile(r"（\d+）(.*)。")


class Checker:
    def __init__(self, report: Report) -> None:
        self.texts = [p.text for p in report.paragraphs]
        #: where each paragraph's block ends: the next heading or lead paragraph (another indicator's)
        self.ends: list[int] = []
        end = len(self.texts)
        for i in range(len(self.texts) - 1, -1, -1):
            self.ends.append(end)
            if report.paragraphs[i].role in (Role.HEADING, Role.LEAD):
                end = i
        self.ends.reverse()
        self.findings: list[Finding] = []
        #: an indicator's name → the paragraphs that are its heading "（N）name。" (read once)
        self.headings: dict[str, list[int]] = {}
        for i, text in enumerate(self.texts):
            m = _HEADING.fullmatch(text)
            if m is not None:
                self.headings.setdefault(m.group(1), []).append(i)

    def fail(self, message: str, path: str) -> None:
        self.findings.append(finding("V42", message, path))

    def find(self, pattern: str, within: str = "") -> list[re.Match[str]]:
        """Matches of ``pattern``, one per paragraph, in paragraphs containing ``within``."""
        rx = re.compile(pattern)
        return [m for t in self.texts if within in t and (m := rx.search(t))]

    def number(self, what: str, pattern: str, expected: Decimal | None, path: str, within: str = "") -> None:
        """Every paragraph matching ``pattern`` must print ``expected`` in its first group."""
        matches = self.find(pattern, within)
        if not matches:
            self.fail(f"报告中找不到{what}，请重新生成报告", path)
        for m in matches:
            printed = read_decimal(m.group(1))
            if expected is None or printed is None or printed != round2(expected):
                shown = "无法计算" if expected is None else format_score(expected)
                self.fail(f"报告中{what}为 {m.group(1)}，评分结果为 {shown}，请重新生成报告", path)


def check_report(result: Result, report: Report) -> list[Finding]:
    """V42: the total, rating, section scores, 预算执行率 and every indicator's 分值/得分/得分率
    printed in ``report`` must equal ``result``'s. Reads them back out of the text."""
    c = Checker(report)
    conclusion = (
        c.find(r"自评结果为“([^”]*)”，自评得分为" + NUM + "分")
        if result.framework.rated
        else c.find(r"(?:经综合自评).*?支出绩效自评(?:结果为“([^”]*)”，自评)?得分为" + NUM + "分")
    )
    if not conclusion:
        c.fail("报告中找不到自评结论（评价等级和自评得分），请重新生成报告", "report.conclusion")
    for m in conclusion:
        # rules that do not rate: the conclusion must name no rating at all
        if (m.group(1) != result.rating) if result.framework.rated else m.group(1) is not None:
            c.fail(
                f"报告中的评价等级为“{m.group(1)}”，评分结果为“{result.rating}”，请重新生成报告",
                "report.conclusion",
            )
        if read_decimal(m.group(2)) != round2(result.total):
            c.fail(
                f"报告中的自评得分为 {m.group(2)}，评分结果为 {format_score(result.total)}，请重新生成报告",
                "report.conclusion",
            )

    for sec in result.sections:
        c.number(
            f"“{sec.name}”的自评得分",
            rf"^(?:\d+\.)?{re.escape(situation(sec.name))}。.*?自评得分{NUM}分",
            sec.score,
            f"report.{sec.id}",
        )
        if not _is_duty_like(sec):
            continue
        for ind in sec.indicators:
            c.number(
                f"“{ind.spec.name}”的自评得分",
                rf"^（\d+）{re.escape(ind.spec.name)}。.*?自评得分{NUM}分",
                ind.score,
                f"report.{ind.id}",
            )
            ind.spec.kind.verify(c, result, ind, "")

    rate = result.ratios.get("budget_execution")
    budget = "全年实际执行数"  # the (四) 收支情况 paragraph; the clerk's own texts may cite other rates
    if rate is not None:
        c.number("预算执行率", rf"预算执行率{NUM}%", rate, "report.budget_execution", within=budget)
    elif c.find(rf"预算执行率{NUM}%", within=budget):
        c.fail("报告中写有预算执行率，但按填报数据无法计算，请重新生成报告", "report.budget_execution")

    scores = re.compile(rf"指标分值{NUM}分，评价得分{NUM}分，得分率{NUM}%")
    for ind in result.indicator_scores():
        if ind.spec.kind.subtotal:
            continue
        at = c.headings.get(ind.spec.name, [])
        path = f"report.{ind.id}"
        if not at:
            c.fail(f"报告中找不到指标“{ind.spec.name}”，请重新生成报告", path)
            continue
        for i in at:
            following = c.texts[i + 1] if i + 1 < len(c.texts) else ""
            hit = scores.search(following)
            if hit is None:
                c.fail(f"报告中找不到“{ind.spec.name}”的指标分值、评价得分和得分率，请重新生成报告", path)
                continue
            for label, printed, expected in (
                ("指标分值", hit.group(1), ind.full),
                ("评价得分", hit.group(2), ind.score),
                ("得分率", hit.group(3), ind.rate_pct),
            ):
                if read_decimal(printed) != round2(expected):
                    c.fail(
                        f"报告中“{ind.spec.name}”的{label}为 {printed}，"
                        f"评分结果为 {format_score(expected)}，请重新生成报告",
                        path,
                    )
            block = c.texts[i + 1 : min(i + 8, c.ends[i])]  # this indicator's paragraphs only
            ind.spec.kind.verify(c, result, ind, "\n".join(block))
    return c.findings


__all__ = [
    "SECTION_HEADINGS",
    "TITLE",
    "Paragraph",
    "Report",
    "build_report",
    "check_report",
    "circled",
    "cn_number",
    "format_full",
    "format_money",
    "format_percent",
    "format_score",
    "quoted",
    "sentence",
]
