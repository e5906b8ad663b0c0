"""The 自评报告 as data: a title and its paragraphs (built by :mod:`xlperf.core.narrative`, written by the
.docx and workbook adapters). Kept apart from the builder so that ``Result.report`` can be typed."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """What a report paragraph is, which decides how the .docx, the 自评报告 sheet and the web page set it
    (docs/DESIGN.md, the glossary)."""

    #: a line of the closing block after 四、 (评价单位, 填报人, 联系电话, 填报日期, 文号)
    META = "meta"
    #: a heading line of its level
    HEADING = "heading"
    #: a paragraph that opens with a run-in heading (up to the first "。")
    LEAD = "lead"
    BODY = "body"
    #: a numbered body paragraph (职责, 问题, 措施)
    ITEM = "item"
    #: 年度目标值/年度实际值/未达标原因 lines
    FIELD = "field"
    #: a sentence xlperf adds because the clerk's text leaves something out (a row below 100 % not
    #: named in 存在的主要问题)
    ADDED = "added"


@dataclass(frozen=True)
class Paragraph:
    """One paragraph. ``level``: 0 body, 1 一、, 2 （一）, 3 1., 4 （1）/①; ``role``: what it is
    (:class:`Role`)."""

    level: int
    text: str
    role: Role = Role.BODY


@dataclass(frozen=True)
class Report:
    """The whole 自评报告: a title and its paragraphs in order."""

    title: str
    paragraphs: tuple[Paragraph, ...]
    department: str = ""
    year: int | None = None
    #: the 草稿 notice when the report was produced while errors remained ("": a final report); the
    #: adapters show it (the .docx header and first page, the 自评报告 sheet, the download's name)
    draft: str = ""

    def text(self) -> str:
        """Title and every paragraph, one per line."""
        return "\n".join([self.title, *(p.text for p in self.paragraphs)])

    def sections(self) -> dict[str, str]:
        """Text by top heading (``一、部门基本情况`` …), each without its heading line."""
        out: dict[str, list[str]] = {}
        current: list[str] | None = None
        for p in self.paragraphs:
            if p.level == 1:
                current = out.setdefault(p.text, [])
            elif current is not None and p.role != Role.META:  # the closing block belongs to no section
                current.append(p.text)
        return {k: "\n".join(v) for k, v in out.items()}


#: the report of a result that has not been narrated yet (``core.evaluate`` always narrates)
EMPTY_REPORT = Report("", ())
