"""Where project frameworks come from, and which one scores a project workbook.

The same four places as :mod:`xlperf.catalog` (bundled, the user's frameworks folder, a path typed
on the command line, the copy a workbook embeds) and the same findings (F01, F02) when the choice is
not the obvious one; a file is a project framework when it says ``form = "project"``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from xlperf.catalog import Recorded, is_id, keep_file, user_folder
from xlperf.core.decimals import plain
from xlperf.core.findings import Finding, finding
from xlperf.core.framework import FrameworkError, decode_framework
from xlperf.core.project.framework import (
    NATIONAL_ID,
    ProjectFramework,
    form_of_text,
    get_project_framework,
    load_project_framework,
    parse_project_canonical,
    project_bundled_ids,
)
from xlperf.core.project.rules import describe_all
from xlperf.core.rulebook import rating_text


def is_project_file(path: Path) -> bool:
    """Whether a framework file the user named says ``form = "project"`` (unreadable: no)."""
    try:
        text = decode_framework(path.read_bytes(), str(path))
    except (OSError, FrameworkError):
        return False
    return form_of_text(text) == "project"


def listing() -> list[tuple[ProjectFramework, str]]:
    """Every project framework this machine knows, with its origin (内置 / 本机添加)."""
    out = [(get_project_framework(fid), "内置") for fid in project_bundled_ids()]
    folder = user_folder()
    if folder.is_dir():
        for path in sorted(folder.glob("*.toml")):
            if not is_project_file(path):
                continue
            try:
                stat = path.stat()
                fw = _load_user(str(path), stat.st_mtime_ns, stat.st_size)
            except (FrameworkError, OSError):
                continue
            if fw.id not in project_bundled_ids():
                out.append((fw, "本机添加"))
    return out


@lru_cache(maxsize=32)
def _load_user(path: str, mtime_ns: int, size: int) -> ProjectFramework:
    del mtime_ns, size  # the cache key: an edited file is read again
    return load_project_framework(Path(path))


def find(framework_id: str) -> ProjectFramework | None:
    """A project framework by id, bundled or added by the user; None when there is none."""
    if not is_id(framework_id):
        return None
    if framework_id in project_bundled_ids():
        return get_project_framework(framework_id)
    path = user_folder() / f"{framework_id}.toml"
    if not path.is_file() or not is_project_file(path):
        return None
    stat = path.stat()
    fw = _load_user(str(path), stat.st_mtime_ns, stat.st_size)
    return fw if fw.id == framework_id else None


def from_option(value: str) -> ProjectFramework | None:
    """``--framework``: the project framework an id or a typed path names; None when it names a
    department framework (or nothing: the department catalog then says so)."""
    if value.lower().endswith(".toml") or "/" in value or "\\" in value:
        path = Path(value)
        return load_project_framework(path) if is_project_file(path) else None
    return find(value)


def known_ids() -> str:
    return "、".join(fw.id for fw, _ in listing())


def project_workbook_rules(recorded: Recorded) -> ProjectFramework | None:
    """The rules a project workbook itself carries: its embedded copy, else the framework its id names
    here (the national form's when it records none: a bureau's own form); None when neither can be
    had. What a 报送包's manifest is compared with (intake), whatever scores the workbook."""
    if recorded.embedded:
        try:
            return parse_project_canonical(recorded.embedded, "工作簿内嵌的评分规则")
        except FrameworkError:
            pass
    return find(recorded.framework_id or NATIONAL_ID)


def for_project_workbook(
    recorded: Recorded, override: ProjectFramework | None = None
) -> tuple[ProjectFramework, list[Finding]]:
    """The rules that score a project workbook, with findings when the choice needs saying: as
    :func:`xlperf.catalog.for_workbook` — ``--framework`` wins (F01 when it differs), else the
    embedded copy (F02 when it was changed, F01 when it differs from this machine's), else the id
    it records (the national form when none: a bureau's own form carries no rules)."""
    findings: list[Finding] = []
    embedded: ProjectFramework | None = None
    if recorded.embedded:
        try:
            embedded = parse_project_canonical(recorded.embedded, "工作簿内嵌的评分规则")
        except FrameworkError as exc:
            findings.append(
                finding(
                    "F02",
                    f"工作簿内嵌的评分规则无法读取（{'；'.join(exc.problems)[:120]}）；已按框架编号查找本机的规则",
                    "framework",
                )
            )
    if embedded is not None and recorded.sha256 and embedded.sha256 != recorded.sha256:
        findings.append(
            finding(
                "F02",
                f"工作簿内嵌的评分规则（校验值 {embedded.sha256[:8]}）"
                f"与它记录的校验值 {recorded.sha256[:8]} 不符，"
                "可能在制表后被改动；财政局可用 --framework 指定本局的规则计分",
                "framework",
            )
        )
    workbook_id = embedded.id if embedded is not None else (recorded.framework_id or NATIONAL_ID)
    if override is not None:
        theirs = embedded or find(workbook_id)
        if theirs is None or theirs.sha256 != override.sha256:
            made = theirs.label if theirs is not None else workbook_id
            findings.append(
                finding(
                    "F01", f"工作簿按评分框架 {made} 制作，本次按指定的 {override.label} 计分", "framework"
                )
            )
        return override, findings
    if embedded is not None:
        local = find(embedded.id)
        if local is not None and local.sha256 != embedded.sha256:
            findings.append(
                finding(
                    "F01",
                    f"工作簿内嵌的 {embedded.label} 与本机同编号的规则 {local.label} 不同；"
                    f"已按工作簿内嵌的规则计分（要按本机规则计分，请加 --framework {embedded.id}）",
                    "framework",
                )
            )
        return embedded, findings
    fw = find(workbook_id)
    if fw is None:
        raise FrameworkError(
            workbook_id[:60],
            [
                f"工作簿按项目支出评分框架 {workbook_id[:40]} 制作，但其中没有内嵌规则，本机也没有这个框架"
                f"（已有：{known_ids()}）；请用 --framework 指定"
            ],
        )
    return fw, findings


def add(path: Path, *, replace: bool = False) -> tuple[ProjectFramework, Path]:
    """Check a project framework file and keep a copy in the user's folder (``xlperf frameworks add``)."""
    fw = load_project_framework(path)
    return fw, keep_file(path, fw.id, fw.sha256, load_project_framework, replace=replace)


def rule_lines(fw: ProjectFramework) -> list[str]:
    """A project framework as a clerk reads it (``xlperf frameworks show``; the 填表说明 sheet too)."""
    lines = [fw.name, f"编号 {fw.id}（项目支出绩效自评表）", f"校验值 {fw.sha256}"]
    if fw.years:
        lines.append(f"适用年度：{'、'.join(str(y) for y in fw.years)}")
    lines.append(points_text(fw))
    if fw.rated:
        lines.append(f"评价等级：{rating_text(fw)}")  # type: ignore[arg-type] # reads only .rating.bands
    else:
        lines.append("评价等级：不评级")
    lines += [f"依据：{s}" for s in fw.sources]
    lines.append("")
    lines.append("【计分规则】")
    lines += [f"  {i}. {text}" for i, text in enumerate(describe_all(fw), start=1)]
    lines.append("")
    lines.append("【一级与二级指标】")
    for lv in fw.levels:
        full = f"（{plain(lv.full)} 分）" if lv.full is not None else ""
        lines.append(f"  {lv.name}{full}：{'、'.join(lv.groups) or '—'}")
    return lines


def points_text(fw: ProjectFramework) -> str:
    """How the framework's 总分 is shared out: 预算执行率 and each 一级指标's points."""
    text = f"总分 {plain(fw.total)}：预算执行率 {plain(fw.budget.full)}"
    if all(lv.full is not None for lv in fw.levels):
        return text + "、" + "、".join(f"{lv.name} {plain(lv.full or fw.total)}" for lv in fw.levels)
    return text + f"、绩效指标 {plain(fw.indicators_full)}（各指标分值自行分配）"
