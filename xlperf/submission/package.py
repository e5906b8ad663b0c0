"""The 报送包 (submission package): frozen workbook + Word report + manifest, and its delivery.

``export_package`` is the ribbon's 导出报送包 and the first half of ``xlperf submit``;
``send_package`` is 发送财政局 and the second half. Both raise :class:`PackageError` subclasses whose
``str()`` is a complete Chinese message for the clerk.

Package folder (default ``<workbook folder>/报送包_<简称>_<年度>/``)::

    <简称>_<年度>_部门整体支出绩效自评.xlsx   frozen: values only, no macros, sheets protected
    <简称>_<年度>_自评报告.docx
    <简称>_<年度>_manifest.json               schema "xlperf.package/1"

A 项目支出绩效自评表 (issue 27) is packaged the same way, named by its 项目名称
(``报送包_<项目名称>_<年度>/``: ``…_项目支出绩效自评.xlsx``, ``…_项目支出绩效自评报告.docx``, the
manifest); the manifest's ``form`` says which form it holds (``department`` or ``project``).

The folder is built complete in a hidden temporary folder beside it and then renamed into place, so
a package folder is never half-written nor a mix of two exports. An existing package folder is
replaced only with ``overwrite=True`` (``--overwrite``), and only when it is empty or an xlperf
package; any other existing folder is refused.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import unicodedata
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from loguru import logger

from xlperf import __version__
from xlperf.core.errors import InputError, XlperfError
from xlperf.core.findings import Finding
from xlperf.core.framework import Framework
from xlperf.core.project.framework import ProjectFramework
from xlperf.core.project.result import ProjectResult
from xlperf.core.result import Result
from xlperf.files import (
    LockBusy,
    OutputError,
    atomic_write,
    atomic_write_text,
    folder_lock_path,
    fsync_dir,
    glob_escape,
    hold_lock,
    remove_stale_temps,
    sha256_file,
)
from xlperf.ooxml.limits import Limits
from xlperf.ooxml.stream import open_stream
from xlperf.pipeline import Loaded, assess, load_any, now, write_report_docx
from xlperf.project.pipeline import ProjectLoaded
from xlperf.submission.freeze import FreezeProvenance, FreezeReport, freeze_package, plan_freeze
from xlperf.submission.mail import SendError, build_message, package_body, subject_text, write_eml
from xlperf.submission.outbox import Outbox, OutboxItem, default_outbox_dir
from xlperf.submission.settings import SmtpSettings, draft_addresses, resolve_settings
from xlperf.workbook.reader import read_book
from xlperf.workbook.template import build_workbook, workbook_bytes
from xlperf.workbook.writer import Provenance, scored_package

PACKAGE_SCHEMA = "xlperf.package/1"
WORKBOOK_SUFFIX = "_部门整体支出绩效自评.xlsx"
REPORT_SUFFIX = "_自评报告.docx"
PROJECT_WORKBOOK_SUFFIX = "_项目支出绩效自评.xlsx"
PROJECT_REPORT_SUFFIX = "_项目支出绩效自评报告.docx"
MANIFEST_SUFFIX = "_manifest.json"
FOLDER_PREFIX = "报送包_"

_ILLEGAL = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}


# ----------------------------------------------------------------------------------- errors


class PackageError(XlperfError):
    """Export or delivery cannot go on; ``str(error)`` is the Chinese message for the clerk."""


class BlockingFindingsError(PackageError):
    """The workbook still has error findings and ``force`` was not given."""

    exit_code = 1
    prefix = "拒绝报送："
    note = "未生成报送包，未发送任何邮件。"

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        lines = [f"工作簿仍有 {len(findings)} 条错误，不能报送（须先改正）："]
        lines += [f"  [{f.code}] {f.where}：{f.message}" for f in findings]
        lines.append("改正后重新导出；确需带错报送时，须选择“强制报送”并写明原因。")
        super().__init__("\n".join(lines))
        self.command_hint = '命令行强制报送：加 --force --reason "原因"'


class PackageExistsError(PackageError):
    """The package folder exists already and may not be replaced."""


class SettingsError(PackageError):
    """SMTP settings are missing or invalid; ``problems`` lists each one in Chinese."""

    prefix = ""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("邮件发送设置不完整，无法发送：\n" + "\n".join(f"  - {p}" for p in problems))


class DeliveryError(PackageError):
    """Sending failed; the message stays in the outbox (``item``) for ``xlperf submit --retry``."""

    exit_code = 1
    prefix = ""

    def __init__(self, error: Exception, item: OutboxItem) -> None:
        self.item = item
        self.kind = getattr(error, "kind", "other")
        self.reason = str(error)
        if self.kind in ("uncertain", "already_sent", "locked"):
            text = f"未发送：{error}"  # the message says it all; "retry" would be the wrong advice
        else:
            text = (
                f"发送失败：{error}\n邮件已保存在发件箱（编号 {item.id}），没有丢失；问题解决后运行 "
                "xlperf submit --retry（或在 Excel 中再次点击“发送财政局”）即可重发。"
            )
        super().__init__(text)


# ---------------------------------------------------------------------------------- package


@dataclass
class PackageResult:
    """One exported package: where its files are and what its manifest says."""

    folder: Path
    workbook: Path
    report: Path
    manifest: Path
    manifest_data: dict[str, Any]
    result: Result | ProjectResult | None = field(default=None, repr=False)
    freeze: FreezeReport | None = field(default=None, repr=False)

    @property
    def files(self) -> list[Path]:
        """The attachments, in order: workbook, report, manifest."""
        return [self.workbook, self.report, self.manifest]

    @property
    def department(self) -> str:
        return str(self.manifest_data.get("department") or self.manifest_data.get("short_name") or "")

    @property
    def form(self) -> str:
        """``department`` or ``project`` (a manifest written before issue 27 has no ``form``: department)."""
        return "project" if self.manifest_data.get("form") == "project" else "department"

    @property
    def project(self) -> str:
        """The 项目名称 of a project package ("" for a department's)."""
        return str(self.manifest_data.get("project") or "") if self.form == "project" else ""

    @property
    def year(self) -> int | str:
        year = self.manifest_data.get("year")
        return year if isinstance(year, int) else str(year or "")

    @property
    def total(self) -> float:
        return float(self.manifest_data["total"])

    @property
    def rating(self) -> str:
        return str(self.manifest_data["rating"] or "")

    @property
    def forced(self) -> bool:
        return bool(self.manifest_data.get("forced"))

    @property
    def reason(self) -> str:
        return str(self.manifest_data.get("reason") or "")

    @classmethod
    def load(cls, folder: Path) -> PackageResult:
        """Open an exported package folder, checking every file against its manifest.

        A package left hidden by an export killed in the middle of ``--overwrite`` is restored first.
        """
        folder = Path(folder)
        if not folder.exists():
            with _package_lock(folder):
                recover_swap(folder)
        manifests = sorted(folder.glob(f"*{MANIFEST_SUFFIX}")) if folder.is_dir() else []
        if len(manifests) != 1:
            raise PackageError(
                f"{folder} 不是报送包文件夹（应有且只有一个 *{MANIFEST_SUFFIX}）；请先导出报送包"
            )
        try:
            data = json.loads(manifests[0].read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise PackageError(f"无法读取 {manifests[0].name}：{exc}；请重新导出报送包") from exc
        if not isinstance(data, dict) or data.get("schema") != PACKAGE_SCHEMA:
            raise PackageError(f"{manifests[0].name} 不是 xlperf 报送包清单（schema 应为 {PACKAGE_SCHEMA}）")
        by_role = {f.get("role"): folder / str(f.get("name")) for f in data.get("files", [])}
        if "workbook" not in by_role or "report" not in by_role:
            raise PackageError(f"{manifests[0].name} 缺少文件记录；请重新导出报送包")
        package = cls(folder, by_role["workbook"], by_role["report"], manifests[0], data)
        package.verify()
        return package

    def verify(self) -> None:
        """Every listed file exists with the recorded size and SHA-256 (nothing changed since export)."""
        for entry in self.manifest_data.get("files", []):
            path = self.folder / str(entry["name"])
            if not path.is_file():
                raise PackageError(f"报送包中缺少文件 {path.name}；请重新导出报送包")
            if sha256_file(path) != entry["sha256"]:
                raise PackageError(
                    f"报送包中的 {path.name} 在导出后被改动过（与清单记录的 SHA-256 不符）；"
                    "为保证报送内容与计分一致，请重新导出报送包"
                )


#: bytes of UTF-8 one name part may take: file systems limit a name to 255 bytes (not characters),
#: and ``<简称>_<年度>_部门整体支出绩效自评.xlsx`` adds about 40 more
NAME_BYTES = 150


def safe_filename(text: str, fallback: str = "未命名") -> str:
    """``text`` usable as a file name on Windows, macOS and Linux (Chinese kept).

    Line breaks become spaces; invisible format characters (the U+202E right-to-left override that
    makes ``gpj.exe`` show as ``exe.jpg``, zero-width spaces) are dropped; the result is cut to
    :data:`NAME_BYTES` bytes of UTF-8 without splitting a character.
    """
    visible = "".join(ch for ch in str(text) if unicodedata.category(ch) not in ("Cf", "Co", "Cs", "Cn"))
    clean = _ILLEGAL.sub("_", re.sub(r"\s+", " ", visible)).strip().rstrip(". ")
    if not clean:
        clean = fallback
    if clean.split(".")[0].upper() in _RESERVED:
        clean = f"_{clean}"
    while len(clean.encode("utf-8")) > NAME_BYTES:
        clean = clean[:-1]
    return clean.rstrip(". ") or fallback


def package_stem(short_name: str, year: int | str | None) -> str:
    """``<简称>_<年度>``, sanitised."""
    return f"{safe_filename(short_name, '未命名单位')}_{safe_filename(str(year or ''), '未填年度')}"


def default_package_dir(workbook_path: Path, short_name: str, year: int | str | None) -> Path:
    """``<workbook folder>/报送包_<简称>_<年度>``."""
    return Path(workbook_path).parent / f"{FOLDER_PREFIX}{package_stem(short_name, year)}"


def export_package(
    workbook_path: Path | str,
    out_dir: Path | str | None = None,
    *,
    force: bool = False,
    reason: str = "",
    operator: str = "",
    overwrite: bool = False,
    limits: Limits | None = None,
    framework: Framework | ProjectFramework | None = None,
) -> PackageResult:
    """Validate, score, freeze and package one workbook (the ribbon's 导出报送包): a 部门整体 or a
    项目支出绩效自评表, decided by the workbook itself (:func:`xlperf.pipeline.load_any`) or by
    ``framework``'s form.

    Raises :class:`BlockingFindingsError` when error findings remain and ``force`` is false,
    :class:`PackageError` when ``force`` has no ``reason``, the input cannot be read, or the folder
    exists (:class:`PackageExistsError`). The input file is never written to.
    """
    if out_dir is not None:  # a swap a killed run left half done is undone before this run may refuse
        recover_package(Path(out_dir))
    reason = (reason or "").strip()
    operator = (operator or "").strip()
    if force and not reason:
        error = PackageError("强制报送必须写明原因；原因会记入清单、工作簿属性和邮件正文")
        error.command_hint = '命令行：加 --reason "原因"'
        raise error
    if reason and not force:
        error = PackageError("只有强制报送时才填写原因")
        error.command_hint = "命令行：加 --force，或去掉 --reason"
        raise error
    path = Path(workbook_path)
    try:
        loaded = load_any(path, limits, framework)
    except InputError as exc:
        raise PackageError(str(exc)) from exc
    result = assess(loaded)
    errors = result.errors
    naming = Naming.of(result)
    folder = Path(out_dir) if out_dir is not None else default_package_dir(path, naming.short, naming.year)
    if errors and not force:
        recover_package(folder)  # the default folder is known only now
        raise BlockingFindingsError(errors)
    with _package_lock(folder):
        recover_swap(folder)
        return _export_locked(loaded, result, path, folder, naming, overwrite, operator, reason)


@dataclass(frozen=True)
class Naming:
    """What a form's package is called: the name its files start with, its year, the two suffixes."""

    short: str
    year: int | None
    workbook_suffix: str
    report_suffix: str

    @classmethod
    def of(cls, result: Result | ProjectResult) -> Naming:
        if isinstance(result, ProjectResult):
            info = result.evaluation.project
            return cls(info.name or "未命名项目", info.year, PROJECT_WORKBOOK_SUFFIX, PROJECT_REPORT_SUFFIX)
        dep = result.evaluation.department
        return cls(dep.short_name or dep.name, dep.year, WORKBOOK_SUFFIX, REPORT_SUFFIX)


def _export_locked(
    loaded: Loaded | ProjectLoaded,
    result: Result | ProjectResult,
    path: Path,
    folder: Path,
    naming: Naming,
    overwrite: bool,
    operator: str,
    reason: str,
) -> PackageResult:
    _check_target(folder, path, overwrite)
    stem = package_stem(naming.short, naming.year)
    short = naming.short
    created = now()

    tmp = folder.parent / f".{folder.name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        tmp.mkdir(parents=True)
    except OSError as exc:
        raise PackageError(
            f"无法创建文件夹 {folder.parent}：{exc.strerror or exc}；请换一个可写的位置（-o）"
        ) from exc
    try:
        workbook, freeze = _write_frozen(
            loaded, result, tmp / f"{stem}{naming.workbook_suffix}", created, operator, reason
        )
        report = write_report_docx(result, tmp / f"{stem}{naming.report_suffix}", loaded)
        manifest_path = tmp / f"{stem}{MANIFEST_SUFFIX}"
        data = _manifest(
            loaded,
            result,
            freeze,
            [("workbook", workbook), ("report", report)],
            created=created,
            operator=operator,
            reason=reason,
            short=short,
        )
        atomic_write_text(manifest_path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        if sha256_file(path) != loaded.sha256:
            raise PackageError(
                f"{path.name} 在导出期间被修改（可能正在 Excel 中保存）；请保存并关闭后重新导出"
            )
        _move_into_place(tmp, folder, overwrite)
    except OutputError as exc:
        raise PackageError(str(exc)) from exc
    except OSError as exc:
        raise PackageError(
            f"无法写入报送包 {folder}：{exc.strerror or exc}；请换一个可写的位置（-o）"
        ) from exc
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return PackageResult(
        folder,
        folder / workbook.name,
        folder / report.name,
        folder / manifest_path.name,
        data,
        result,
        freeze,
    )


@contextlib.contextmanager
def _package_lock(folder: Path) -> Iterator[None]:
    """One export (or recovery) of a package folder at a time, across processes.

    The lock file lives in the data folder (``locks/``), not beside the clerk's files; it is an OS
    lock, so a killed export never blocks the next one.
    """
    lock = folder_lock_path("package", folder)
    try:
        held = hold_lock(lock, wait=30)
        held.__enter__()
    except LockBusy:
        raise PackageError(f"另一个 xlperf 正在导出报送包 {folder}；请等它结束后再试") from None
    except OSError as exc:  # an unusable data folder must not stop an export (or an .eml draft)
        logger.warning("无法在 {} 中加锁（{}），本次导出不加锁", lock.parent, exc)
        yield
        return
    try:
        yield
    finally:
        held.__exit__(None, None, None)


def recover_package(folder: Path) -> None:
    """:func:`recover_swap` under the folder's lock: every submit that names a package folder — or whose
    workbook's default folder it is — leaves it whole, whatever it does next (a journal's replay)."""
    with _package_lock(folder):
        recover_swap(folder)


def recover_swap(folder: Path) -> None:
    """Finish or undo what a killed export left beside ``folder`` (call under :func:`_package_lock`).

    ``--overwrite`` swaps with two renames (old package → hidden ``.<name>.<id>.old``, new → name).
    Killed between them, the package folder is missing and the old one hidden: it is restored.
    Killed after them, the hidden old one is removed. Hidden ``.<name>.<id>.tmp`` folders are
    unfinished exports of killed runs (none can be running: we hold the lock) and are removed.
    """
    parent = folder.parent if str(folder.parent) else Path(".")
    olds = sorted(parent.glob(f".{glob_escape(folder.name)}.*.old"), key=_mtime, reverse=True)
    if olds and not folder.exists():
        newest = olds.pop(0)
        if any(newest.glob(f"*{MANIFEST_SUFFIX}")):
            os.replace(newest, folder)
            fsync_dir(parent)
            logger.warning("上次导出在替换报送包时中断：已恢复原来的报送包 {}", folder)
        else:
            olds.insert(0, newest)
    for old in olds:
        shutil.rmtree(old, ignore_errors=True)
    for tmp in remove_stale_temps(parent, folder.name, older_than=0):
        logger.info("removed the temporary folder {} left by an interrupted export", tmp)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _check_target(folder: Path, source: Path, overwrite: bool) -> None:
    with contextlib.suppress(OSError):
        if source.resolve().is_relative_to(folder.resolve()):
            raise PackageExistsError(
                f"工作簿 {source.name} 位于报送包文件夹 {folder} 中；请把工作簿移出，或用 -o 指定别的文件夹"
            )
    if not folder.exists():
        return
    if not folder.is_dir():
        raise PackageExistsError(f"{folder} 已存在且不是文件夹；请用 -o 指定另一个报送包文件夹")
    entries = list(folder.iterdir())
    if not entries:
        return
    if not overwrite:
        raise PackageExistsError(
            f"报送包文件夹 {folder} 已存在；为免新旧文件混在一起，请删除或改名该文件夹，"
            "或加 --overwrite 用新的报送包整体替换它（或用 -o 指定另一个文件夹）"
        )
    if not any(e.name.endswith(MANIFEST_SUFFIX) for e in entries):
        raise PackageExistsError(
            f"{folder} 不是 xlperf 报送包文件夹（没有 *{MANIFEST_SUFFIX}），--overwrite 不会替换它；"
            "请用 -o 指定另一个文件夹"
        )


def _move_into_place(tmp: Path, folder: Path, overwrite: bool) -> None:
    """Rename the finished temporary folder to ``folder`` (replacing an old package when allowed)."""
    old: Path | None = None
    if folder.exists():
        if any(folder.iterdir()) and not overwrite:  # appeared while we worked
            raise PackageExistsError(f"报送包文件夹 {folder} 在导出期间被创建；请重新导出")
        old = folder.parent / f".{folder.name}.{uuid.uuid4().hex[:8]}.old"
        os.replace(folder, old)  # a kill from here to the next rename is undone by recover_swap
    try:
        os.replace(tmp, folder)
    except OSError as exc:
        if old is not None:
            os.replace(old, folder)
        raise PackageError(f"无法写入报送包文件夹 {folder}：{exc.strerror or exc}") from exc
    fsync_dir(folder.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _write_frozen(
    loaded: Loaded | ProjectLoaded,
    result: Result | ProjectResult,
    out: Path,
    created: str,
    operator: str,
    reason: str,
) -> tuple[Path, FreezeReport]:
    """The 报送 workbook: the scored package (the clerk's parts kept byte for byte), frozen. The
    formulas are planned on the stream reader's book of the clerk's file — the one read for scoring,
    through the same pre-open checks; only the package is written."""
    if isinstance(loaded, ProjectLoaded) or isinstance(result, ProjectResult):
        assert isinstance(loaded, ProjectLoaded) and isinstance(result, ProjectResult)
        return _write_frozen_project(loaded, result, out, created, operator, reason)
    assert isinstance(result, Result)
    if loaded.book is not None:
        book, source = loaded.book, loaded.source
    else:  # JSON input: the standard workbook holding the evaluation, read as any workbook is
        data = workbook_bytes(build_workbook(result.framework, result.evaluation))
        book = open_stream(data, loaded.path.name)
        source = read_book(book)[2]
    assert book.package is not None
    pkg = scored_package(book.package, result, Provenance(result.framework, loaded.sha256, created))
    prov = FreezeProvenance(result.framework.id, loaded.path.name, loaded.sha256, created, operator, reason)
    report, writes = plan_freeze(book, result, source)
    freeze_package(pkg, writes, report, result, prov)
    atomic_write(out, pkg.write_to)
    return out, report


def _write_frozen_project(
    loaded: ProjectLoaded, result: ProjectResult, out: Path, created: str, operator: str, reason: str
) -> tuple[Path, FreezeReport]:
    """The same for a 项目支出绩效自评表: its scored copy (评分结果/校验结果/自评报告; the core's scores
    only in the form's empty 得分, 得分合计 and 评价等级 cells: what the clerk typed is their claim,
    flagged where it differs), frozen with the 执行率 the core's."""
    from xlperf.project.reader import read_project_book
    from xlperf.project.template import build_project_workbook
    from xlperf.project.writer import fill_values, project_scored_package

    if loaded.book is not None and loaded.source is not None:
        book, source = loaded.book, loaded.source
    else:  # JSON input: the standard form holding the evaluation, read as any project workbook is
        book = open_stream(workbook_bytes(build_project_workbook(result.framework, result.evaluation)))
        source = read_project_book(book, result.framework)[2]
        result = result.with_findings([source.locate(f) for f in result.findings])
    assert book.package is not None
    filled = fill_values(book, result, source)
    pkg = project_scored_package(book.package, result, source, loaded.sha256, created, only=set(filled))
    prov = FreezeProvenance(result.framework.id, loaded.path.name, loaded.sha256, created, operator, reason)
    report, writes = plan_freeze(book, result, source)
    freeze_package(pkg, writes, report, result, prov)
    atomic_write(out, pkg.write_to)
    return out, report


def _file_entry(role: str, path: Path) -> dict[str, Any]:
    return {"name": path.name, "role": role, "bytes": path.stat().st_size, "sha256": sha256_file(path)}


def _identity(result: Result | ProjectResult, short: str) -> dict[str, Any]:
    """The manifest's first keys: which form, whose, which year, and the header a bureau expects."""
    if isinstance(result, ProjectResult):
        info = result.evaluation.project
        return {
            "form": "project",
            "department": info.department,  # 主管部门: a bureau groups a department's projects by it
            "project": info.name,
            "unit": info.unit,
            "short_name": short,
            "year": info.year,
            "header": {"preparer": info.preparer, "phone": info.phone, "fill_date": info.fill_date},
        }
    dep = result.evaluation.department
    return {
        "form": "department",
        "department": dep.name,
        "short_name": short,
        "year": dep.year,
        # the header a bureau expects on a submission (基本信息, optional; empty when not filled in)
        "header": {
            "evaluator": dep.evaluator or dep.name,
            "preparer": dep.preparer,
            "phone": dep.phone,
            "fill_date": dep.fill_date,
            "notice_no": dep.notice_no,
            "subordinate_count": dep.subordinate_count,
            "staff_quota": dep.staff_quota,
            "staff_actual": dep.staff_actual,
        },
    }


def _manifest(
    loaded: Any,
    result: Result | ProjectResult,
    freeze: FreezeReport,
    files: list[tuple[str, Path]],
    *,
    created: str,
    operator: str,
    reason: str,
    short: str,
) -> dict[str, Any]:
    identity = _identity(result, short)
    return {
        "schema": PACKAGE_SCHEMA,
        "form": identity.pop("form"),
        "tool_version": __version__,
        "created": created,
        **identity,
        "framework": result.framework.id,
        "framework_name": result.framework.name,
        "framework_sha256": result.framework.sha256,
        "total": float(result.total),
        "rating": result.rating,
        "errors": len(result.errors),
        "warnings": len(result.warnings),
        "forced": bool(reason),
        "reason": reason or None,
        "operator": operator or None,
        "input": {"name": loaded.path.name, "bytes": loaded.path.stat().st_size, "sha256": loaded.sha256},
        "files": [_file_entry(role, path) for role, path in files],
        "freeze": freeze.to_json(),
        "blocking_findings": [f.to_json() for f in result.errors],
        "scorecard": result.scorecard(workbook=loaded.path.name, sha256=loaded.sha256),
    }


# --------------------------------------------------------------------------------- delivery


def _as_package(package: PackageResult | Path | str) -> PackageResult:
    if isinstance(package, PackageResult):
        package.verify()
        return package
    return PackageResult.load(Path(package))


def package_message(package: PackageResult, sender: str, to: list[str] | tuple[str, ...]) -> EmailMessage:
    """The 报送 email: Chinese subject, body with total/rating/attachments/forced reason, three files."""
    department = package.department
    body = package_body(package)
    msg = build_message(
        sender=sender or "xlperf@localhost",
        to=list(to),
        subject=subject_text(department, package.year, project=package.project),
        body=body,
        attachments=package.files,
        message_id=package_message_id(package, sender),
    )
    if not sender:
        del msg["From"]  # a draft: the mail program fills in the sender
    return msg


def package_message_id(package: PackageResult, sender: str = "") -> str:
    """One Message-ID per package, forever: derived from its manifest (which holds every file's SHA-256).

    Sending, retrying, re-sending an uncertain mail or writing a draft of the same package always
    uses the same id, so a bureau mailbox can drop duplicates; a re-exported package is a new mail.
    """
    digest = sha256_file(package.manifest)[:32]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "xlperf.invalid"
    return f"<xlperf.{digest}@{domain}>"


def default_outbox() -> Outbox:
    """``Outbox(<data dir>/outbox)``; the data dir honours ``$XLPERF_HOME``."""
    return Outbox(default_outbox_dir())


def resolve(
    settings_options: Mapping[str, Any] | None,
    env: Mapping[str, str] | None = None,
    config_path: Path | None = None,
) -> SmtpSettings:
    """SMTP settings (options > XLPERF_SMTP_* > config file) or :class:`SettingsError`."""
    settings, problems = resolve_settings(settings_options, env, config_path)
    if settings is None:
        raise SettingsError(problems)
    return settings


def send_package(
    package: PackageResult | Path | str,
    settings_options: Mapping[str, Any] | None = None,
    *,
    outbox: Outbox | None = None,
    env: Mapping[str, str] | None = None,
    config_path: Path | None = None,
    resend_uncertain: bool = False,
    content_key: str = "",
) -> OutboxItem:
    """Email an exported package to the finance bureau (the ribbon's 发送财政局).

    ``package`` is a :class:`PackageResult` or a package folder. The message is put into the outbox
    before the first attempt. The same package is one mail (:func:`package_message_id`): if the
    outbox already holds it, that item is sent instead of a new copy — or refused when it was
    sent already, or when its delivery is uncertain and ``resend_uncertain`` is not given.
    Raises :class:`SettingsError` (nothing queued), :class:`DeliveryError` (the message stays
    queued for ``xlperf submit --retry``) or :class:`PackageError`. With ``content_key`` (the web
    page: workbook SHA-256 and department) a mail queued earlier under that key counts as the same
    mail too, whatever package (and Message-ID) a later upload made.
    """
    pkg = _as_package(package)
    settings = resolve(settings_options, env, config_path)
    box = outbox or default_outbox()
    msg = package_message(pkg, settings.sender, settings.to)
    item = box.find(str(msg["Message-ID"])) or box.find_content(content_key)
    if item is not None and item.status == "sent":
        raise DeliveryError(
            SendError(
                f"这个报送包已于 {item.sent_at} 发送过（发件箱编号 {item.id}，"
                f"Message-ID {item.message_id}），"
                "不再重复发送。如财政局确认没有收到，请重新导出报送包（--overwrite）后再发送。",
                "already_sent",
            ),
            item,
        )
    if item is None:
        try:
            item = box.enqueue(msg, content_key)
        except (OutputError, OSError) as exc:
            raise PackageError(
                f"无法把邮件存入发件箱 {box.root}（{exc}）；未发送。请检查数据文件夹是否可写、磁盘是否已满"
                "（可用环境变量 XLPERF_HOME 指定另一个数据文件夹）"
            ) from exc
    try:
        return box.send(item, settings, resend_uncertain=resend_uncertain)
    except SendError as exc:
        raise DeliveryError(exc, box.get(item.id) or item) from exc


def write_package_eml(
    package: PackageResult | Path | str,
    path: Path | str,
    settings_options: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    config_path: Path | None = None,
) -> Path:
    """Write the 报送 email as an .eml draft instead of sending it (no server settings needed)."""
    pkg = _as_package(package)
    sender, to = draft_addresses(settings_options, env, config_path)
    try:
        return write_eml(package_message(pkg, sender, to), Path(path))
    except OSError as exc:
        raise PackageError(f"无法写入邮件草稿 {path}：{exc.strerror or exc}") from exc


def retry_outbox(
    settings_options: Mapping[str, Any] | None = None,
    *,
    outbox: Outbox | None = None,
    env: Mapping[str, str] | None = None,
    config_path: Path | None = None,
    resend_uncertain: bool = False,
) -> list[tuple[OutboxItem, Exception | None]]:
    """Send every pending or failed message of the outbox; one failure does not stop the others.

    Messages whose delivery is uncertain are reported, not sent, unless ``resend_uncertain``.
    """
    box = outbox or default_outbox()
    if not box.pending():
        return []
    settings = resolve(settings_options, env, config_path)
    return list(box.retry_all(settings, resend_uncertain=resend_uncertain))
