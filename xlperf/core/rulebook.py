"""A framework's rules as a clerk reads them: ``xlperf frameworks show`` and the blank workbook's
评分规则 sheet print the same lines, so what the bureau publishes and what the workbook says agree."""

from __future__ import annotations

from xlperf.core.decimals import plain
from xlperf.core.framework import NO_RATING, Framework


def rating_text(fw: Framework) -> str:
    """The rating bands in words: 优（90 分以上）、良（80–90 分）… (every boundary belongs to the
    higher band)."""
    if not fw.rated:
        return f"{NO_RATING}（只计分，不评定等级）"
    bands = sorted(fw.rating.bands, key=lambda b: b.min, reverse=True)
    parts = []
    for i, band in enumerate(bands):
        if i == 0:
            parts.append(f"{band.name}（{plain(band.min)} 分及以上）")
        elif band.min == 0:
            parts.append(f"{band.name}（{plain(bands[i - 1].min)} 分以下）")
        else:
            parts.append(f"{band.name}（{plain(band.min)} 分至不足 {plain(bands[i - 1].min)} 分）")
    return "、".join(parts)


def rule_rows(fw: Framework) -> list[tuple[str, str, str, str, str]]:
    """(一级, 二级, 三级, 分值, 计分方法) for every indicator, in the framework's order."""
    rows = []
    for sec in fw.sections:
        for ind in sec.indicators:
            rows.append(
                (
                    f"{sec.name}（{plain(sec.full)}）",
                    ind.group,
                    ind.name,
                    str(plain(ind.full)),
                    ind.kind.describe(ind, fw),
                )
            )
    return rows


def rule_lines(fw: Framework) -> list[str]:
    """The whole framework as plain lines (``xlperf frameworks show``)."""
    lines = [f"{fw.name}", f"编号 {fw.id}", f"校验值 {fw.sha256}"]
    if fw.years:
        lines.append(f"适用年度：{'、'.join(str(y) for y in fw.years)}")
    lines.append(f"总分 {plain(fw.total)}：" + "、".join(f"{s.name} {plain(s.full)}" for s in fw.sections))
    lines.append(f"评价等级：{rating_text(fw)}")
    for source in fw.sources:
        lines.append(f"依据：{source}")
    section = ""
    for first, group, name, full, how in rule_rows(fw):
        if first != section:
            section = first
            lines.append("")
            lines.append(f"【{first}】")
        lines.append(f"  {group} · {name}（{full} 分）")
        if how:
            lines.append(f"    {how}")
    return lines
