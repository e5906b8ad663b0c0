"""The headless path of the project form: read a 项目支出绩效自评表 (workbook or JSON) → evaluate →
write the scored copy, the score card and the .docx. :mod:`xlperf.pipeline` dispatches here on the
form (the workbook's embedded rules, its headers, a JSON's ``"form": "project"`` or ``--framework``).

As :mod:`xlperf.pipeline`, it imports the workbook code (reader, writer, template) inside the
functions that read or write a workbook: a project JSON never loads openpyxl or lxml (~0.4 s).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from xlperf.core.errors import InputError
from xlperf.core.findings import Finding, finding, one_per_field, ordered
from xlperf.core.framework import FrameworkError
from xlperf.core.project import evaluate_project
from xlperf.core.project.evaluation import ProjectEvaluation
from xlperf.core.project.framework import ProjectFramework
from xlperf.core.project.result import ProjectResult
from xlperf.files import atomic_write, sha256_bytes
from xlperf.project import layout as P
from xlperf.project.catalog import find, listing

if TYPE_CHECKING:  # the workbook code is imported where a workbook is read or written
    from xlperf.ooxml.package import Parts
    from xlperf.ooxml.stream import StreamBook
    from xlperf.workbook.reader import SourceMap


class ProjectLoaded:
    """One project input, read: as :class:`xlperf.pipeline.Loaded` for the department form."""

    form = "project"

    def __init__(
        self,
        path: Path,
        sha256: str,
        evaluation: ProjectEvaluation,
        findings: list[Finding],
        framework: ProjectFramework,
        source: SourceMap | None = None,
        *,
        data: bytes | None = None,
        book: StreamBook | None = None,
        own_framework: ProjectFramework | None = None,
    ) -> None:
        self.path = path
        self.sha256 = sha256
        self.evaluation = evaluation
        self.findings = findings
        self.framework = framework
        self.source = source
        self.data = data
        self.book = book
        #: the rules the workbook itself carries, whatever scores it (what intake compares a manifest with)
        self.own_framework = own_framework


def load_project_json(path: Path, data: bytes, framework: ProjectFramework | None) -> ProjectLoaded:
    """A ProjectEvaluation JSON file; its ``framework`` names a project framework by id only."""
    try:
        ev = ProjectEvaluation.read_json(data.removeprefix(b"\xef\xbb\xbf"))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(
            f"{path.name} 不是有效的项目自评数据 JSON：{where} {first['msg']}（共 {exc.error_count()} 处）"
        ) from exc
    findings: list[Finding] = []
    named = find(ev.framework)
    if framework is None and named is None:
        raise InputError(f"{path.name} 的 framework 字段：本机没有项目支出评分框架 {ev.framework[:40]}")
    fw = framework or named
    assert fw is not None
    if framework is not None and (named is None or named.sha256 != framework.sha256):
        findings.append(
            finding(
                "F01",
                f"数据按评分框架 {ev.framework[:40]} 填写，本次按指定的 {framework.label} 计分",
                "framework",
            )
        )
    ev = ev.model_copy(update={"framework": fw.id})
    return ProjectLoaded(path, sha256_bytes(data), ev, findings, fw, data=None)


def load_project_book(
    path: Path, data: bytes, book: StreamBook, framework: ProjectFramework | None
) -> ProjectLoaded:
    """A project workbook the stream reader opened (``data`` its bytes, ``book`` its StreamBook)."""
    from xlperf.project.reader import own_rules, read_project_book

    try:
        ev, findings, source, fw = read_project_book(book, framework)
    except FrameworkError as exc:
        raise InputError(f"{path.name}：{exc}") from exc
    own = fw if framework is None else own_rules(book)
    return ProjectLoaded(
        path, sha256_bytes(data), ev, findings, fw, source, data=data, book=book, own_framework=own
    )


def assess_project(loaded: ProjectLoaded) -> ProjectResult:
    """Evaluate, every finding located on its sheet and cell, in reading order."""
    fw = loaded.framework
    extra = [*loaded.findings, *year_findings(fw, loaded.evaluation.project.year)]
    result = evaluate_project(loaded.evaluation, fw, extra)
    if loaded.source is not None:
        located = one_per_field([loaded.source.locate(f) for f in result.findings])
        sheets = tuple(dict.fromkeys(sheet for sheet, _ in loaded.source.cells.values())) + P.ALL_SHEETS
        result = result.with_findings(list(ordered(located, sheets)))
    return result


def year_findings(fw: ProjectFramework, year: int | None) -> list[Finding]:
    """F03 when the form's 年度 is outside the framework's years, naming the project frameworks that fit."""
    if fw.fits_year(year):
        return []
    fitting = [f.id for f, _ in listing() if f.years and year in f.years]
    hint = (
        f"本机适用于 {year} 年度的项目框架：{'、'.join(fitting)}"
        if fitting
        else "请向财政局索取当年的框架文件"
    )
    years = "、".join(str(y) for y in fw.years)
    return [finding("F03", f"年度为 {year}，而评分框架 {fw.id} 适用于 {years} 年度；{hint}", "project.year")]


def write_project_scored(loaded: ProjectLoaded, result: ProjectResult, out: Path, scored_at: str) -> Path:
    """The scored copy: the clerk's workbook with the scores and the three sheets (a JSON input is
    first written into the standard form)."""
    from xlperf.project.writer import project_scored_package

    data: bytes | Parts | None
    source = loaded.source
    if source is None:
        from xlperf.ooxml.stream import open_stream
        from xlperf.project.reader import read_project_book
        from xlperf.project.template import build_project_workbook
        from xlperf.workbook.template import workbook_bytes

        data = workbook_bytes(build_project_workbook(result.framework, result.evaluation))
        _, _, source, _ = read_project_book(open_stream(data), result.framework)
        result = result.with_findings([source.locate(f) for f in result.findings])
    else:
        parts = loaded.book.package if loaded.book is not None else None
        data = parts if parts is not None else loaded.data
    if data is None:  # the add-in's snapshot: its sheets are written into the live book instead
        raise ValueError("a project workbook read without its file cannot be written as a scored copy")
    pkg = project_scored_package(data, result, source, loaded.sha256, scored_at)
    return atomic_write(out, pkg.write_to)
