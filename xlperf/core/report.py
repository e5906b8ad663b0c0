"""The 自评报告 as data: a title and its paragraphs (built by :mod:`xlperf.core.narrative`, written by the
.docx and workbook adapters). Kept apart from the builder so that ``Result.report`` can be typed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Paragraph:
    """One paragraph. ``level``: 0 body, 1 一、, 2 （一）, 3 1., 4 （1）/① (see :data:`KINDS`)."""

    level: int
    text: str
    kind: str = "body"


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
            elif current is not None and p.kind != "meta":  # the closing block belongs to no section
                current.append(p.text)
        return {k: "\n".join(v) for k, v in out.items()}


#: the report of a result that has not been narrated yet (``core.evaluate`` always narrates)
EMPTY_REPORT = Report("", ())
