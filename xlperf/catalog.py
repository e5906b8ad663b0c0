"""Where scoring frameworks come from, and which one scores a workbook.

A framework file is read from four places only: the bundled set (``xlperf/frameworks/``), the
user's frameworks folder (``xlperf frameworks add``), a path the user types on the command line
(``--framework FILE``), and the copy a workbook embeds (``_xlperf``, written by ``xlperf new``).
A department's JSON or a workbook cell may *name* a framework by id; it never makes xlperf open a
file path it carries.

:func:`for_workbook` decides which rules score a workbook, and says so as findings whenever the
choice is not the obvious one (F01, F02): the embedded rules by default, ``--framework`` when given.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from xlperf.core.findings import Finding, finding
from xlperf.core.framework import (
    DEFAULT_ID,
    Framework,
    FrameworkError,
    bundled_ids,
    get_framework,
    load_framework,
    parse_canonical,
)
from xlperf.files import atomic_write_text, sha256_bytes
from xlperf.paths import data_dir

#: an id a workbook or a JSON may name: letters, digits, dot, dash, underscore (never a path)
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def user_folder() -> Path:
    """The user's frameworks folder (``xlperf frameworks add`` keeps files here)."""
    return data_dir() / "frameworks"


def is_id(text: str) -> bool:
    return bool(_ID.fullmatch(text)) and not text.lower().endswith(".toml")


@dataclass(frozen=True)
class Entry:
    framework: Framework
    origin: str  # 内置 | 本机添加


def listing() -> list[Entry]:
    """Every framework this machine knows: the bundled ones, then the user's (a broken file is skipped)."""
    out = [Entry(get_framework(fid), "内置") for fid in bundled_ids()]
    folder = user_folder()
    if folder.is_dir():
        for path in sorted(folder.glob("*.toml")):
            try:
                stat = path.stat()
                fw = _load_user(str(path), stat.st_mtime_ns, stat.st_size)
            except (FrameworkError, OSError):
                continue
            if fw.id not in bundled_ids():
                out.append(Entry(fw, "本机添加"))
    return out


def find(framework_id: str) -> Framework | None:
    """A framework by id, bundled or added by the user; None when this machine has none of that id."""
    if not is_id(framework_id):
        return None
    if framework_id in bundled_ids():
        return get_framework(framework_id)
    path = user_folder() / f"{framework_id}.toml"
    try:
        stat = path.stat()
    except OSError:
        return None
    fw = _load_user(str(path), stat.st_mtime_ns, stat.st_size)
    return fw if fw.id == framework_id else None


@lru_cache(maxsize=32)
def _load_user(path: str, mtime_ns: int, size: int) -> Framework:
    """A user's framework file, read once per version of it (a batch asks for it per workbook)."""
    del mtime_ns, size  # the cache key: an edited file is read again
    return load_framework(Path(path))


def known_ids() -> str:
    return "、".join(e.framework.id for e in listing())


def by_id(framework_id: str) -> Framework:
    """A framework by id (bundled or the user's), or a :class:`FrameworkError` listing what there is."""
    fw = find(framework_id)
    if fw is None:
        if not is_id(framework_id):
            raise FrameworkError(
                framework_id[:80],
                [
                    f"评分框架只能用编号指定（如 {DEFAULT_ID}）；框架文件请在命令行用 --framework "
                    "文件.toml 指定"
                ],
            )
        raise FrameworkError(
            framework_id,
            [
                f"本机没有这个评分框架（已有：{known_ids()}）；请向财政局索取框架文件，"
                "用 xlperf frameworks add 文件.toml 添加"
            ],
        )
    return fw


def from_option(value: str) -> Framework:
    """``--framework``: an id (bundled or the user's) or a TOML file path typed by the user."""
    if value.lower().endswith(".toml") or "/" in value or "\\" in value:
        return load_framework(Path(value))
    return by_id(value)


def add(path: Path, *, replace: bool = False) -> tuple[Framework, Path]:
    """Validate a framework file and keep a copy in the user's folder as ``<id>.toml``."""
    fw = load_framework(path)
    return fw, keep_file(path, fw.id, fw.sha256, load_framework, replace=replace)


def keep_file(
    path: Path, fid: str, sha256: str, reload: Callable[[Path], Any], *, replace: bool = False
) -> Path:
    """Keep a checked framework file (of either form) in the user's folder as ``<id>.toml``: never
    under a bundled id of either form, never over another file of the same id unless ``replace``
    (``reload`` reads the file already there, to tell the same rules from other ones)."""
    from xlperf.core.project.framework import project_bundled_ids

    if fid in bundled_ids() or fid in project_bundled_ids():
        raise FrameworkError(
            str(path), [f"编号 {fid} 是内置框架的编号；请在文件中把 id 改为新的编号（如加上年度或地区）"]
        )
    if not is_id(fid):
        raise FrameworkError(
            str(path),
            [f'id = "{fid[:40]}" 不能作为编号：只能用字母、数字、点、短横线和下划线，不超过 64 个字符'],
        )
    target = user_folder() / f"{fid}.toml"
    if target.exists() and not replace:
        try:
            same = reload(target).sha256 == sha256
        except FrameworkError:
            same = False
        if not same:
            raise FrameworkError(str(path), [f"本机已有编号为 {fid} 的另一份规则；确认要替换请加 --replace"])
    atomic_write_text(target, path.read_bytes().removeprefix(b"\xef\xbb\xbf").decode("utf-8"))
    return target


@dataclass(frozen=True)
class Recorded:
    """What a workbook says of its rules (the ``_xlperf`` sheet): id, hash and the embedded copy."""

    framework_id: str = ""
    sha256: str = ""
    embedded: str = ""


def workbook_rules(recorded: Recorded) -> Framework | None:
    """The rules a workbook itself carries: its embedded copy, else the framework its id names here
    (None when neither can be had). What a manifest is compared with, whatever scores the workbook."""
    if recorded.embedded:
        try:
            return parse_canonical(recorded.embedded, "工作簿内嵌的评分规则")
        except FrameworkError:
            pass
    try:
        return find(recorded.framework_id or DEFAULT_ID)
    except FrameworkError:
        return None


def for_workbook(recorded: Recorded, override: Framework | None = None) -> tuple[Framework, list[Finding]]:
    """The rules that score a workbook, with findings whenever the choice needs saying.

    - ``override`` (``--framework``) wins; differing from what the workbook records is F01.
    - Otherwise the embedded copy; one whose hash differs from the recorded hash (edited after
      ``xlperf new``) is F02, and one differing from this machine's framework of the same id is F01.
    - A workbook with no embedded copy (made before embedding) is scored by the framework its id
      names (``DEFAULT_ID`` when it names none); an id this machine does not have is a
      :class:`FrameworkError`: no score is better than a score by the wrong rules.
    """
    findings: list[Finding] = []
    embedded: Framework | None = None
    if recorded.embedded:
        try:
            embedded = parse_canonical(recorded.embedded, "工作簿内嵌的评分规则")
        except FrameworkError as exc:
            findings.append(
                finding(
                    "F02",
                    f"工作簿内嵌的评分规则无法读取（{'；'.join(exc.problems)[:120]}）；"
                    "已按框架编号查找本机的规则。请用 xlperf new 重新生成工作簿，或用 --framework 指定",
                    "framework",
                )
            )
    if (
        embedded is not None
        and recorded.sha256
        and embedded.sha256 != recorded.sha256
        # the text as embedded is intact: an earlier xlperf wrote it in an earlier canonical form
        # (before defaults were left out), so its hash differs from today's canonical one
        and sha256_bytes(recorded.embedded.encode("utf-8")) != recorded.sha256
    ):
        findings.append(
            finding(
                "F02",
                f"工作簿内嵌的评分规则（校验值 {embedded.sha256[:8]}）与它记录的校验值 "
                f"{recorded.sha256[:8]} 不符，可能在制表后被改动；财政局可用 --framework 指定本局的规则计分",
                "framework",
            )
        )
    if embedded is not None and recorded.framework_id and recorded.framework_id != embedded.id:
        findings.append(
            finding(
                "F02",
                f"工作簿记录的评分框架编号“{recorded.framework_id[:40]}”与内嵌规则的编号 {embedded.id} "
                "不符，可能在制表后被改动；已按内嵌规则计分",
                "framework",
            )
        )
    workbook_id = embedded.id if embedded is not None else (recorded.framework_id or DEFAULT_ID)
    if override is not None:
        theirs = embedded
        if theirs is None:
            try:
                theirs = find(workbook_id)
            except FrameworkError:
                theirs = None
        if theirs is None or theirs.sha256 != override.sha256:
            made = theirs.label if theirs is not None else workbook_id
            findings.append(
                finding(
                    "F01", f"工作簿按评分框架 {made} 制作，本次按指定的 {override.label} 计分", "framework"
                )
            )
        return override, findings
    if embedded is not None:
        try:
            local = find(embedded.id)
        except FrameworkError:
            local = None
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
    if not is_id(workbook_id):
        raise FrameworkError(
            workbook_id[:60],
            ["工作簿记录的评分框架编号无效，且工作簿中没有内嵌规则；请用 --framework 指定评分框架"],
        )
    fw = find(workbook_id)
    if fw is None:
        raise FrameworkError(
            workbook_id,
            [
                f"工作簿按评分框架 {workbook_id} 制作，但其中没有内嵌规则，本机也没有这个框架（已有："
                f"{known_ids()}）；"
                "请向财政局索取框架文件，用 xlperf frameworks add 文件.toml 添加，"
                "或用 --framework 文件.toml 指定"
            ],
        )
    if recorded.sha256 and fw.sha256 != recorded.sha256:
        findings.append(
            finding(
                "F01",
                f"工作簿按 {workbook_id}（校验值 {recorded.sha256[:8]}）制作，本机的同编号规则为 "
                f"{fw.label}；已按本机规则计分",
                "framework",
            )
        )
    return fw, findings


def year_findings(fw: Framework, year: int | None) -> list[Finding]:
    """F03 when the evaluation's year is outside the framework's years, naming the frameworks that fit."""
    if fw.fits_year(year):
        return []
    fitting = [e.framework.id for e in listing() if e.framework.years and year in e.framework.years]
    years = "、".join(str(y) for y in fw.years)
    hint = (
        f"本机适用于 {year} 年度的框架：{'、'.join(fitting)}（用 --framework 指定，"
        "或用 xlperf new --framework 重新制表）"
        if fitting
        else f"本机没有适用于 {year} 年度的框架；请向财政局索取当年的框架文件（xlperf frameworks add）"
    )
    return [
        finding(
            "F03", f"评价年度为 {year}，而评分框架 {fw.id} 适用于 {years} 年度；{hint}", "department.year"
        )
    ]
