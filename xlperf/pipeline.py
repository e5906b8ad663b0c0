"""The headless path, shared by ``xlperf run``/``check``/``demo``/``batch``/``submit``:
load a workbook (or an Evaluation JSON) → evaluate → write the scored workbook, JSON and .docx.

Inputs are never written to: outputs go to other paths, atomically.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from pydantic import ValidationError

from xlperf.core import evaluate
from xlperf.core.errors import InputError
from xlperf.core.evaluation import Evaluation
from xlperf.core.findings import Finding, finding, one_per_field, ordered
from xlperf.core.framework import Framework, FrameworkError, get_framework
from xlperf.core.project.framework import ProjectFramework
from xlperf.core.project.result import ProjectResult
from xlperf.core.result import Result
from xlperf.files import atomic_write, atomic_write_text, output_error, sha256_bytes, sha256_file

if TYPE_CHECKING:  # the workbook code is imported where a workbook is read: a JSON input never loads it
    from xlperf.ooxml.limits import Limits
    from xlperf.ooxml.package import Parts
    from xlperf.ooxml.stream import StreamBook
    from xlperf.project.pipeline import ProjectLoaded
    from xlperf.workbook.reader import SourceMap
    from xlperf.workbook.upgrade import UpgradeReport


class Loaded:
    """One input, read: the Evaluation, the reading findings and where each value came from.

    ``data`` is the input file's bytes, read once (its sha256 and the book come from them); ``book``
    the stream reader's book of them — the one workbook model: scoring reads it, the 报送 freeze
    plans on it, and its ``package`` (the parts the pre-open checks decompressed) is what the
    package writer copies. Both are None for an Evaluation JSON, and for the add-in's snapshot of a
    live workbook (whose own reader made the Evaluation).
    """

    def __init__(
        self,
        path: Path,
        sha256: str,
        evaluation: Evaluation,
        findings: list[Finding],
        source: SourceMap | None = None,
        *,
        data: bytes | None = None,
        book: StreamBook | None = None,
        framework: Framework | None = None,
    ) -> None:
        self.path = path
        self.sha256 = sha256
        self.evaluation = evaluation
        self.findings = findings
        self.source = source  # evaluation field → sheet and cell, for workbooks
        self.data = data
        self.book = book
        #: the rules that score this input: the workbook's own, the JSON's id, or ``--framework``
        self.framework: Framework = (
            framework
            or (source.framework if source is not None else None)
            or get_framework(evaluation.framework)
        )


def load_input(path: Path, limits: Limits | None = None, framework: Framework | None = None) -> Loaded:
    """Read a workbook (.xlsx/.xlsm) or an Evaluation JSON file, with the rules that score it: the
    workbook's own (``catalog.for_workbook``), the framework a JSON names by id, or ``framework``
    (``--framework``) when given, a difference being a finding (F01)."""
    from xlperf.catalog import by_id

    path = Path(path)
    if path.suffix.lower() == ".json":
        if not path.exists():
            raise InputError(f"找不到文件 {path}；请检查路径和文件名")
        try:
            data = path.read_bytes()
            if framework is None and _is_project_json(data):
                raise InputError(PROJECT_ONLY.format(name=path.name))
            ev, found = Evaluation.read_json(data.removeprefix(b"\xef\xbb\xbf"))  # Notepad's UTF-8 BOM
            _refuse_invisible(path, ev)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise InputError(
                f"{path.name} 不是有效的自评数据 JSON：{where} {first['msg']}（共 {exc.error_count()} 处）；"
                "请用 xlperf 导出的格式"
            ) from exc
        except OSError as exc:
            raise InputError(f"无法读取 {path}：{exc.strerror}") from exc
        findings: list[Finding] = list(found)  # numbers no figure can be: P01 on the field
        try:
            # a JSON names its framework by id only: never a file path it carries
            named = by_id(ev.framework) if framework is None or ev.framework != framework.id else framework
        except FrameworkError as exc:
            if framework is None:
                raise InputError(f"{path.name} 的 framework 字段：{'；'.join(exc.problems)}") from exc
            named = None
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
        return Loaded(path, sha256_file(path), ev, findings, framework=fw)
    data, book = _read_package(path, limits)
    if framework is None:
        from xlperf.project.reader import is_project_book

        if is_project_book(book):  # the department form's reader; load_any takes either form
            raise InputError(PROJECT_ONLY.format(name=path.name))
    return _load_book(path, data, book, framework)


#: a project form given where only the department form's reader is used (every command takes either
#: form through load_any: this is for callers of the department reader alone, such as the demo)
PROJECT_ONLY = (
    "{name} 是项目支出绩效自评表，而这里只读取部门整体支出绩效自评表；"
    "项目表请用 xlperf check / run / report / submit / batch 或网页处理"
)


def _read_package(path: Path, limits: Limits | None) -> tuple[bytes, StreamBook]:
    from xlperf.ooxml.errors import WorkbookReadError
    from xlperf.ooxml.limits import Limits
    from xlperf.ooxml.stream import read_package

    try:
        return read_package(path, limits or Limits())
    except WorkbookReadError as exc:
        raise InputError(str(exc)) from exc


def _load_book(path: Path, data: bytes, book: StreamBook, framework: Framework | None) -> Loaded:
    from xlperf.ooxml.errors import WorkbookReadError
    from xlperf.workbook.reader import read_book

    try:
        ev, findings, source = read_book(book, framework=framework)
    except WorkbookReadError as exc:
        raise InputError(str(exc)) from exc
    except FrameworkError as exc:
        raise InputError(f"{path.name}：{exc}") from exc
    return Loaded(path, sha256_bytes(data), ev, findings, source, data=data, book=book)


# ------------------------------------------------------------------ either form (issue 27)


def load_any(
    path: Path,
    limits: Limits | None = None,
    framework: Framework | ProjectFramework | tuple[Framework | ProjectFramework, ...] | None = None,
    *,
    own_form: bool = False,
) -> Loaded | ProjectLoaded:
    """A department or a project input, decided by the input itself: a JSON's ``"form"``, a
    workbook's embedded rules or (a bureau's own form) its headers; ``--framework`` naming a project
    framework reads the workbook as a project form. With ``own_form`` the input decides its form
    and ``framework`` — one, or a tuple of at most one per form (``intake``/``batch --framework``
    given for both forms) — scores it only when it is of that form (intake: the bureau's rules bind the
    submissions of their form; the others are scored by their own)."""
    from xlperf.project.pipeline import load_project_book, load_project_json
    from xlperf.project.reader import is_project_book

    path = Path(path)
    rules = framework if isinstance(framework, tuple) else () if framework is None else (framework,)
    if len(rules) > 1 and not own_form:  # one per form only where the input decides its form
        raise ValueError("load_any takes one framework unless own_form")
    project: ProjectFramework | None = _of_form(rules, ProjectFramework)
    department: Framework | None = _of_form(rules, Framework)
    decides = own_form or not rules  # else --framework's form is the input's
    if path.suffix.lower() == ".json":
        try:
            data = path.read_bytes()
        except OSError:
            return load_input(path, limits, department)  # its messages for a missing or unreadable file
        if (project is not None and not own_form) or _is_project_json(data):
            return load_project_json(path, data, project)
        return load_input(path, limits, department)
    data, book = _read_package(path, limits)
    if is_project_book(book) if decides else project is not None:
        return load_project_book(path, data, book, project)
    return _load_book(path, data, book, department)


def _of_form(
    rules: tuple[Framework | ProjectFramework, ...], form: type[Framework] | type[ProjectFramework]
) -> Any:
    """The one of ``rules`` of that form (a department :class:`Framework` or a project one), or None."""
    return next((fw for fw in rules if isinstance(fw, form)), None)


def _is_project_json(data: bytes) -> bool:
    from xlperf.core.project.evaluation import is_project_json

    try:
        return is_project_json(json.loads(data.removeprefix(b"\xef\xbb\xbf")))
    except ValueError:
        return False


@overload
def assess(loaded: Loaded, framework: Framework | None = None) -> Result: ...
@overload
def assess(loaded: ProjectLoaded, framework: None = None) -> ProjectResult: ...
@overload
def assess(loaded: Loaded | ProjectLoaded, framework: None = None) -> Result | ProjectResult: ...
def assess(loaded: Loaded | ProjectLoaded, framework: Framework | None = None) -> Result | ProjectResult:
    """Evaluate, with the reading findings, every finding located on its sheet and cell."""
    from xlperf.catalog import year_findings

    if not isinstance(loaded, Loaded):
        from xlperf.project.pipeline import assess_project

        return assess_project(loaded)

    fw = framework or loaded.framework
    result = evaluate(
        loaded.evaluation, fw, [*loaded.findings, *year_findings(fw, loaded.evaluation.department.year)]
    )
    if loaded.source is not None:
        from xlperf.workbook.layout import ALL_SHEETS

        located = one_per_field([loaded.source.locate(f) for f in result.findings])
        order = getattr(loaded.source, "sheet_order", lambda: ALL_SHEETS)()  # a renamed sheet in its place
        result = result.with_findings(list(ordered(located, order)))
    return result


#: control characters XML cannot hold, non-characters, and the bidirectional overrides that can make a
#: name read differently from what it is (U+202E turns "gpj.exe" into "exe.jpg" on screen)
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\u202a-\u202e\u2066-\u2069]")


def _refuse_invisible(path: Path, ev: Evaluation) -> None:
    """A JSON text with such characters is refused, naming the field (a workbook cannot hold them)."""

    def walk(value: object, where: str) -> None:
        if isinstance(value, str):
            m = _INVISIBLE.search(value)
            if m:
                raise InputError(
                    f"{path.name} 的 {where} 含有不可见的控制字符 U+{ord(m.group(0)):04X}；"
                    "请删除该字符（可在记事本中重新输入这段文字）后再试"
                )
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{where}.{key}" if where else str(key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{where}[{i}]")

    walk(ev.model_dump(mode="json"), "")


#: what xlperf appends to a scored copy's name: ``部门.scored.xlsx``, and ``部门.scored-2.xlsx`` when
#: the scored copy itself is run again (it is the input then, and an input is never written over)
_SCORED_TAIL = re.compile(r"(?:\.scored(?:-\d+)?)+$", re.IGNORECASE)


def output_stem(name: str) -> str:
    """The name outputs are named after: the file's stem without xlperf's own ``.scored`` tails, so
    that scoring a corrected scored copy gives ``部门.scored.xlsx`` again, never
    ``部门.scored.scored.xlsx`` (command line, batch and the web page's downloads)."""
    stem = Path(name).stem
    return _SCORED_TAIL.sub("", stem) or stem


def default_output(path: Path) -> Path:
    """``<name>.scored.xlsx`` beside the input; ``<name>.scored-2.xlsx`` when the input is that file
    (a corrected scored copy run again: the two names take turns)."""
    base = output_stem(path.name)
    out = path.with_name(f"{base}.scored.xlsx")
    if out.name.casefold() == path.name.casefold():
        out = path.with_name(f"{base}.scored-2.xlsx")
    return out


def guard_output(inp: Path, out: Path) -> None:
    """Refuse to write onto the input file (also through a link, case or another spelling)."""
    from xlperf.files import guard_outputs

    guard_outputs([inp], [("输出文件", out)])


def write_scored(
    loaded: Loaded | ProjectLoaded, result: Result | ProjectResult, out: Path, scored_at: str | None = None
) -> Path:
    """The scored workbook: the input's sheets untouched plus 评分汇总/校验结果/自评报告 (a project
    form: its scores written back and 评分结果/校验结果/自评报告)."""
    from xlperf.workbook.writer import Provenance, scored_package

    guard_output(loaded.path, out)
    if not isinstance(loaded, Loaded) or not isinstance(result, Result):
        from xlperf.project.pipeline import ProjectLoaded, write_project_scored

        assert isinstance(loaded, ProjectLoaded) and isinstance(result, ProjectResult)
        return write_project_scored(loaded, result, out, scored_at or now())
    prov = Provenance(result.framework, loaded.sha256, scored_at or now())
    pkg = scored_package(
        input_package(loaded, result), result, prov, mark=loaded.source is not None, source=loaded.source
    )
    return atomic_write(out, pkg.write_to)


def input_package(loaded: Loaded, result: Result) -> Parts | bytes:
    """The input workbook's package: the parts the reader decompressed (:class:`~xlperf.ooxml.package.Parts`)
    or its bytes (for JSON input, the standard workbook holding it)."""
    if loaded.source is None:
        from xlperf.workbook.template import build_workbook, workbook_bytes

        return workbook_bytes(build_workbook(result.framework, result.evaluation))
    if loaded.book is not None and loaded.book.package is not None:
        return loaded.book.package
    return loaded.data if loaded.data is not None else loaded.path.read_bytes()


def write_scorecard(
    loaded: Loaded | ProjectLoaded,
    result: Result | ProjectResult,
    out: Path,
    card: dict[str, Any] | None = None,
) -> Path:
    """The score card JSON (``card``: ``result.scorecard(...)`` when the caller has made it already)."""
    guard_output(loaded.path, out)
    card = card if card is not None else result.scorecard(workbook=loaded.path.name, sha256=loaded.sha256)
    return atomic_write_text(out, json.dumps(card, ensure_ascii=False, indent=2) + "\n")


def write_report_docx(
    result: Result | ProjectResult, out: Path, loaded: Loaded | ProjectLoaded | None = None
) -> Path:
    from xlperf.word import write_docx

    if loaded is not None:
        guard_output(loaded.path, out)
    report = result.report
    try:
        return write_docx(report, out)
    except OSError as exc:  # a full disk or a read-only folder: one Chinese line, not an internal error
        raise output_error(exc, out) from exc


def now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def upgraded_name(path: Path) -> Path:
    """Where ``xlperf upgrade`` (and the 升级模板 buttons) put the upgraded copy by default."""
    stem = path.stem.removesuffix("_新模板")
    return path.with_name(f"{stem}_新模板.xlsx")


def upgrade_workbook(path: Path, out: Path, limits: Limits | None = None) -> UpgradeReport:
    """``xlperf upgrade``: what a clerk typed into ``path`` (a workbook made from an older template,
    or one whose names or tables got lost) moved into the current template at ``out``, with the
    rules ``path`` was made with embedded. Returns the :class:`xlperf.workbook.upgrade.UpgradeReport`.

    The new workbook is read back and compared with the old one: any difference in what the two
    read as is listed in the report (it would be a bug; the tests keep the list empty)."""
    import zipfile
    from io import BytesIO

    from xlperf.workbook.template import save_workbook
    from xlperf.workbook.upgrade import upgrade_book

    path, out = Path(path), Path(out)
    guard_output(path, out)
    if path.suffix.lower() == ".json":
        raise InputError(f"{path.name} 是自评数据 JSON，不是工作簿；升级只用于旧模板做的 .xlsx 自评表")
    loaded = load_input(path, limits)
    source = loaded.source
    own = getattr(source, "own_framework", None) or loaded.framework
    names = getattr(loaded.book, "defined_names", {})
    with zipfile.ZipFile(BytesIO(loaded.data or b"")) as zf:
        media = any(n.startswith(("xl/media/", "xl/charts/")) for n in zf.namelist())
    from xlperf.workbook.book import load_openpyxl

    assert loaded.book is not None and loaded.data is not None  # a workbook input (not JSON) here
    typed = load_openpyxl(loaded.data, path.name)  # the upgrade copies cells with their formats
    new, report = upgrade_book(
        typed, own, loaded.book.cached, embedded="xp_framework_def" in names, has_media=media
    )
    try:
        save_workbook(new, out)
    except OSError as exc:
        raise output_error(exc, out) from exc
    again = load_input(out, limits)
    for where in _differences(
        loaded.evaluation.model_dump(mode="json"), again.evaluation.model_dump(mode="json")
    ):
        report.unplaced.append(f"迁移后“{where}”的读取结果与原表不同，请核对新表")
    return report


def _differences(a: object, b: object, where: str = "") -> list[str]:
    """The paths at which two JSON values differ (a list grown or shrunk: the list itself)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in sorted(set(a) | set(b)):
            out += _differences(a.get(key), b.get(key), f"{where}.{key}" if where else str(key))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in _differences(x, y, f"{where}[{i}]")
        ]
    return [] if a == b else [where]
