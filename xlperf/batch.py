"""``xlperf batch``: process many workbooks, writing each one's scored workbook and score card, and one 汇总.xlsx / 汇总.csv.

- Inputs may be files, folders (searched recursively for .xlsx/.xlsm/.json, and for .xls/.et/.ods
  that look like spreadsheets) or glob patterns; results are sorted by input path, whatever the
  number of workers.
- Each workbook is processed on its own in a worker process (``process_one``): a file that cannot be
  read, or whose processing fails, only records its status (通过 / 有错误 / 未填写 / 无法读取 /
  处理失败) and a Chinese explanation; it never stops the batch.
- After processing, duplicates are judged over the whole batch (``mark_duplicates``): of several
  workbooks of one department and year only one is ranked, the others are marked 重复.
- The summary is :mod:`xlperf.summary` (shared by batch and intake).
- Every output is written atomically: it appears whole or not at all.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlperf.core.errors import XlperfError

if TYPE_CHECKING:
    from xlperf.core.framework import Framework
    from xlperf.ooxml.limits import Limits

INPUT_SUFFIXES = (".xlsx", ".xlsm", ".json")
#: files that look like spreadsheets but that xlperf does not read: listed as 无法读取 with the reason
FOREIGN_SUFFIXES = (".xls", ".et", ".ods")
CANDIDATE_SUFFIXES = INPUT_SUFFIXES + FOREIGN_SUFFIXES
SUMMARY_XLSX = "汇总.xlsx"
SUMMARY_CSV = "汇总.csv"
#: the same outcomes as 汇总.xlsx, for the reviewer page (schema ``SUMMARY_SCHEMA``)
SUMMARY_JSON = "汇总.json"
SUMMARY_SCHEMA = "xlperf.summary/1"
SCORED_SUFFIX = ".scored.xlsx"
CARD_SUFFIX = ".scorecard.json"
MAX_DEFAULT_JOBS = 16

#: statuses as the reviewer reads them in 汇总 (and on screen)
OK, ERRORS, BLANK, DUPLICATE, UNREADABLE, FAILED = "通过", "有错误", "未填写", "重复", "无法读取", "处理失败"
STATUSES = (OK, ERRORS, BLANK, DUPLICATE, UNREADABLE, FAILED)
#: ``xlperf intake``'s status of a verified submission (its other statuses are in xlperf.intake.verify)
VALID = "有效"
RANKED_STATUSES = (OK, ERRORS, VALID)
#: what every output shows where a figure does not exist (未填写, 无法读取, 处理失败, not ranked)
NONE = "—"


class NoInputsError(XlperfError):
    """No input to process was found (a usage error, exit code 2)."""


# ------------------------------------------------------------------------------ inputs


@dataclass(frozen=True)
class Job:
    """One input to process: its place in the results, its path and the stem of its output files (no suffix)."""

    index: int
    path: Path
    stem: str
    #: ``--framework``: the rules every input is scored by (None: each workbook's own)
    framework: Framework | None = None


def _is_candidate(path: Path, skip_dir: Path | None) -> bool:
    """Whether a file found in a folder is processed: Excel lock files, hidden/temporary files and xlperf's own outputs are skipped."""
    name = path.name
    if name.startswith(("~$", ".")) or path.suffix.lower() not in CANDIDATE_SUFFIXES:
        return False
    if skip_dir is not None and path.parent.resolve() == skip_dir:
        lower = name.lower()
        if lower.endswith((SCORED_SUFFIX, CARD_SUFFIX)) or name in (SUMMARY_XLSX, SUMMARY_CSV, SUMMARY_JSON):
            return False
    return path.is_file()


def _walk(folder: Path, skip_dir: Path | None) -> list[Path]:
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(p for p in (Path(root) / f for f in files) if _is_candidate(p, skip_dir))
    return found


def collect_inputs(paths: Sequence[str | Path], out_dir: Path | None = None) -> tuple[list[Path], list[str]]:
    """Expand the paths given on the command line: a file is taken as is, a folder is searched
    recursively, anything else is matched as a glob pattern.

    Returns (the input files, sorted and without duplicates; the paths that matched nothing). Files
    xlperf wrote into ``out_dir`` are never taken as inputs.
    """
    skip_dir = out_dir.resolve() if out_dir is not None else None
    found: list[Path] = []
    missing: list[str] = []
    for raw in paths:
        text = str(raw)
        path = Path(text)
        if path.is_dir():
            found.extend(_walk(path, skip_dir))
        elif path.is_file():
            found.append(path)  # named explicitly: processed whatever its extension
        else:
            matches = sorted(glob.glob(text, recursive=True)) if glob.has_magic(text) else []
            hits: list[Path] = []
            for m in map(Path, matches):
                if m.is_dir():
                    hits.extend(_walk(m, skip_dir))
                elif _is_candidate(m, skip_dir):
                    hits.append(m)
            if hits:
                found.extend(hits)
            else:
                missing.append(text)
    unique: dict[str, Path] = {}
    for p in found:
        unique.setdefault(os.path.normcase(os.path.abspath(p)), p)
    return sorted(unique.values(), key=_sort_key), missing


def _sort_key(path: Path) -> tuple[str, ...]:
    return (*(part.casefold() for part in path.parts), str(path))


_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def output_stems(inputs: Sequence[Path]) -> list[str]:
    """Each input's output stem: usually its file name without the suffix; when names clash (ignoring
    case), the path relative to the common parent folder (with the suffix), and if they still clash a
    number in sorted order. Stems are unique and depend only on the input paths.
    """
    from xlperf.pipeline import output_stem

    stems = [_UNSAFE.sub("_", output_stem(p.name)) or "工作簿" for p in inputs]
    clashes = _duplicates(stems)
    if clashes:
        absolute = [Path(os.path.abspath(p)) for p in inputs]
        common = Path(os.path.commonpath([str(a.parent) for a in absolute])) if absolute else Path()
        for i, p in enumerate(absolute):
            if stems[i].casefold() in clashes:
                rel = p.relative_to(common)
                text = "__".join([*rel.parent.parts, rel.stem]) + (
                    f"_{p.suffix.lstrip('.')}" if p.suffix else ""
                )
                stems[i] = _UNSAFE.sub("_", text)
    seen: dict[str, int] = {}
    for i, stem in enumerate(stems):
        key = stem.casefold()
        if key in seen:
            n = seen[key] + 1
            while f"{stem}-{n}".casefold() in seen:
                n += 1
            seen[key] = n
            stems[i] = f"{stem}-{n}"
            seen[stems[i].casefold()] = 1
        else:
            seen[key] = 1
    return stems


def _duplicates(stems: Iterable[str]) -> set[str]:
    counts: dict[str, int] = {}
    for s in stems:
        counts[s.casefold()] = counts.get(s.casefold(), 0) + 1
    return {k for k, n in counts.items() if n > 1}


def default_jobs(n_inputs: int | None = None) -> int:
    """The default number of workers: the usable CPU cores, at most 16 and no more than the inputs."""
    try:
        cpus = len(os.sched_getaffinity(0))  # type: ignore[attr-defined,unused-ignore]
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    jobs = max(1, min(cpus, MAX_DEFAULT_JOBS))
    return max(1, min(jobs, n_inputs)) if n_inputs else jobs


# ------------------------------------------------------------------------------ one workbook


@dataclass
class Outcome:
    """What processing one input gave (picklable, passed between processes). Scores are the score card's
    values, already rounded to two decimals.
    """

    index: int
    file: str
    status: str
    message: str
    department: str = ""
    year: int | None = None
    sections: dict[str, float] = field(default_factory=dict)
    total: float | None = None
    rating: str = ""
    errors: int = 0
    warnings: int = 0
    sha256: str = ""
    findings: list[dict[str, Any]] = field(default_factory=list)
    scored: str = ""
    scorecard: str = ""
    seconds: float = 0.0
    pid: int = 0
    peak_rss_mb: float = 0.0
    ratios: dict[str, float | None] = field(default_factory=dict)
    #: the 管理效率 indicators of the score card: {"id", "name", "full", "score"}
    management: list[dict[str, Any]] = field(default_factory=list)
    #: what the workbook itself states (填报人自报的总分与等级), as text so that no float enters
    claimed_total: str | None = None
    claimed_rating: str = ""
    modified: float = 0.0
    #: link targets relative to the 汇总 folder: the scored workbook, and the workbook holding 校验结果
    link: str = ""
    label: str = ""  # 文件 column: the path as the reviewer should see it (default: ``file``)
    #: the rules that scored it: shown as 评分框架; outcomes are ranked only against the same rules
    framework: str = ""
    framework_sha256: str = ""
    #: the framework's rating names, highest first, and its section names by id (for 汇总's columns)
    ratings: list[str] = field(default_factory=list)
    section_names: dict[str, str] = field(default_factory=dict)
    #: the project form (issue 27): "project", its 项目名称 and 实施单位, and its rows below full marks
    form: str = "department"
    project: str = ""
    unit: str = ""
    project_rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_scored(self) -> bool:
        """Ranked: scored, and neither blank nor a duplicate."""
        return self.status in RANKED_STATUSES and self.total is not None

    @property
    def has_score(self) -> bool:
        """Scores to show: scored, and not blank (a blank workbook's zeros are no score: every
        output shows "—" for them)."""
        return self.total is not None and self.status != BLANK

    @property
    def standing(self) -> str:
        """The 状态 shown beside a rank (排名 and the reviewer page): a score computed while errors
        remain is ranked but only indicative (docs/DESIGN.md §8)."""
        if self.is_scored and self.errors:
            return (
                f"{self.status}（有 {self.errors} 条错误，仅供参考）"
                if self.status == VALID
                else "有错误，仅供参考"
            )
        return self.status


def outcome_from_json(data: Any, **fixed: Any) -> Outcome | None:
    """An Outcome as 汇总.json or the intake ledger recorded it (``fixed``: fields the caller decides,
    such as ``index`` and ``status``); None when it cannot be one (another version's, damaged). Keys
    this version does not know are ignored."""
    if not isinstance(data, dict):
        return None
    known = {f.name for f in fields(Outcome)}
    values = {k: v for k, v in data.items() if k in known}
    values.update(fixed)
    try:
        outcome = Outcome(**values)
    except (TypeError, ValueError):
        return None
    return outcome if usable(outcome) else None


def usable(o: Outcome) -> bool:
    """Every figure 汇总 formats is a finite number, every count an integer, every text a text (the
    error boundary of one recorded outcome: a damaged or foreign one never stops 汇总 or a page)."""
    try:
        figures = [
            o.total,
            *o.sections.values(),
            *o.ratios.values(),
            *(m.get(k) for m in o.management for k in ("full", "score")),
        ]
        for value in figures:
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not Decimal(str(value)).is_finite()
            ):
                return False
        counts = (o.index, o.errors, o.warnings) + ((o.year,) if o.year is not None else ())
        texts = (o.file, o.status, o.message, o.department, o.rating, o.label, o.link, o.scored, o.scorecard)
        return (
            all(isinstance(n, int) and not isinstance(n, bool) for n in counts)
            and all(isinstance(t, str) for t in texts)
            and all(isinstance(f, dict) for f in o.findings)
            and all(isinstance(m, dict) for m in o.management)
            and all(isinstance(r, str) for r in o.ratings)
        )
    except (AttributeError, TypeError, ValueError, ArithmeticError):
        return False


def is_blank(ev: Any) -> bool:
    """Not filled in: 收支情况 has no number, 产出/效益指标 no row, 管理效率 no answer or count, and
    支出进度 no month.

    The department name and year do not count (a blank template often has only these two).
    """
    b = ev.budget
    budget = any(isinstance(v, Decimal) for v in (getattr(b, name) for name in type(b).model_fields))
    rows = any(
        r.target_value is not None
        or r.actual_value is not None
        or r.name.strip()
        or r.target_text.strip()
        or r.actual_text.strip()
        for r in (*ev.outputs, *ev.benefits)
    )
    management = any(
        any(a is not None for a in m.answers)
        or m.count_total is not None
        or m.count_done is not None
        or m.evidence.strip()
        or m.override_score is not None
        for m in ev.management
    )
    spending = any(v is not None for v in ev.spending.monthly) or ev.spending.annual_mean is not None
    return not (budget or rows or management or spending)


def fill_scored(out: Outcome, loaded: Any, result: Any, card: dict[str, Any]) -> Outcome:
    """Copy what 汇总 needs from a score card (and the workbook's own claims) into ``out``."""
    out.department = str(card.get("department") or "")
    out.year = card.get("year")
    out.sections = {k: float(v) for k, v in card["sections"].items()}
    out.total = float(card["total"])
    out.rating = str(card["rating"])
    out.errors, out.warnings = int(card["errors"]), int(card["warnings"])
    out.findings = list(card["findings"])
    out.ratios = dict(card.get("ratios") or {})
    fw = result.framework
    entries = {s.id for s in fw.management()}
    out.management = [
        {"id": i.get("id"), "name": i.get("name"), "full": i.get("full"), "score": i.get("score")}
        for i in card["indicators"]
        if i.get("id") in entries
    ]
    out.framework, out.framework_sha256 = fw.label, fw.sha256
    out.ratings = fw.rating_names()
    out.section_names = {sec.id: sec.name for sec in fw.sections}
    out.section_names.update({ind.id: ind.label for ind in fw.indicators() if ind.kind.subtotal})
    claims = loaded.evaluation.claims
    out.claimed_total = None if claims.total is None else format(claims.total, "f")
    out.claimed_rating = (claims.rating or "").strip()
    if is_blank(loaded.evaluation):
        out.status = BLANK
        out.message = "未填写：收支情况、指标、管理效率和支出进度都是空的（空白模板或尚未填写），不参加排名"
    elif out.errors:
        out.status = ERRORS
        out.message = (
            f"有 {out.errors} 条错误、{out.warnings} 条提醒，得分仅供参考；请按“问题清单”修改后重新计分"
        )
    else:
        out.status = OK
        out.message = "通过校验" + (f"（有 {out.warnings} 条提醒，请核对）" if out.warnings else "")
    return out


def process_one(
    job: Job, out_dir: Path, limits: Limits | None = None, scored_at: str | None = None
) -> Outcome:
    """Read, validate and score one input; write ``<stem>.scored.xlsx`` and ``<stem>.scorecard.json``.

    Never raises: an unreadable input is recorded as unreadable, an unexpected error as failed, with
    the explanation in ``message``.
    """
    from xlperf.files import OutputError, sha256_file
    from xlperf.pipeline import InputError, assess, load_any, write_scorecard, write_scored

    start = time.perf_counter()
    out = Outcome(index=job.index, file=str(job.path), status=FAILED, message="")
    with contextlib.suppress(OSError):
        out.modified = job.path.stat().st_mtime
    try:
        loaded = load_any(job.path, limits, job.framework)
        out.sha256 = loaded.sha256
        result = assess(loaded)
        card = result.scorecard(workbook=job.path.name, sha256=loaded.sha256)
        scored = out_dir / f"{job.stem}{SCORED_SUFFIX}"
        card_path = out_dir / f"{job.stem}{CARD_SUFFIX}"
        write_scored(loaded, result, scored, scored_at)
        write_scorecard(loaded, result, card_path, card)
        out.scored, out.scorecard, out.link = scored.name, card_path.name, scored.name
        from xlperf.project.pipeline import ProjectLoaded

        if isinstance(loaded, ProjectLoaded):
            from xlperf.project.batch import fill_project

            fill_project(out, loaded.evaluation, result, card)  # type: ignore[arg-type]
        else:
            fill_scored(out, loaded, result, card)
    except InputError as exc:
        out.status, out.message = UNREADABLE, f"无法读取：{exc}"
    except OutputError as exc:
        out.status, out.message = FAILED, f"无法写出结果：{exc}"
    except Exception as exc:  # one bad workbook never stops the batch
        out.status = FAILED
        out.message = f"处理时发生内部错误（{type(exc).__name__}: {str(exc)[:200]}）；请把该文件发给维护人员"
        if not out.sha256:
            with contextlib.suppress(OSError):
                out.sha256 = sha256_file(job.path)
    out.seconds = time.perf_counter() - start
    out.pid = os.getpid()
    out.peak_rss_mb = _peak_rss_mb()
    return out


def _peak_rss_mb() -> float:
    try:
        import resource
    except ImportError:  # Windows
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    import sys

    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _crashed(job: Job, exc: BaseException) -> Outcome:
    return Outcome(
        index=job.index,
        file=str(job.path),
        status=FAILED,
        message=f"处理该文件的进程意外退出（{type(exc).__name__}，可能是内存不足或文件异常）；其他文件不受影响",
    )


# ------------------------------------------------------------------------------ running


Progress = Callable[[Outcome], None]


def run_jobs(
    jobs: Sequence[Job],
    out_dir: Path,
    limits: Limits | None = None,
    workers: int = 1,
    on_done: Progress | None = None,
    scored_at: str | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> list[Outcome]:
    """Process every input; the outcomes sorted by ``Job.index``. With ``workers == 1`` one by one in this process.

    ``meanwhile``: work for this process while the workers score (it would wait idle otherwise), such
    as the summary's imports; whatever it raises is left for the caller to meet again later.
    """
    from xlperf.pipeline import now

    stamp = scored_at or now()
    done: dict[int, Outcome] = {}
    _prepare_process()

    def record(o: Outcome) -> None:
        done[o.index] = o
        if on_done is not None:
            on_done(o)

    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            record(process_one(job, out_dir, limits, stamp))
    else:
        lost = _run_pool(jobs, out_dir, limits, workers, stamp, record, meanwhile)
        for job in lost:  # a worker died: retry each alone so that only the culprit fails
            record(_run_isolated(job, out_dir, limits, stamp))
    return [done[j.index] for j in sorted(jobs, key=lambda j: j.index)]


def _prepare_process() -> None:
    """Import what processing needs, then take it out of the garbage collector's sight.

    With "fork" the workers inherit the modules ready-made. ``gc.freeze`` moves every object that
    exists now (the imported modules, the framework) to the permanent generation, so the full
    collections a batch triggers no longer walk them, and a larger first threshold lets a workbook's
    short-lived objects go by reference counting before a collection looks at them. Measured on the
    benchmark's workbooks: the collector took ~7 ms of each workbook's ~70 ms before, ~2 ms after.
    """
    import gc

    import openpyxl  # noqa: F401

    import xlperf.ooxml.stream
    import xlperf.pipeline
    import xlperf.workbook.reader
    import xlperf.workbook.writer  # noqa: F401

    gc.freeze()
    first, second, third = gc.get_threshold()
    gc.set_threshold(max(first, 10_000), second, third)


def _run_pool(
    jobs: Sequence[Job],
    out_dir: Path,
    limits: Limits | None,
    workers: int,
    stamp: str,
    record: Callable[[Outcome], None],
    meanwhile: Callable[[], None] | None = None,
) -> list[Job]:
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    lost: list[Job] = []
    pool = ProcessPoolExecutor(max_workers=min(workers, len(jobs)))
    try:
        pending: dict[Future[Outcome], Job] = {
            pool.submit(process_one, job, out_dir, limits, stamp): job for job in jobs
        }
        if meanwhile is not None:  # the workers are forked by now: they do not carry what it loads
            with contextlib.suppress(Exception):
                meanwhile()
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                job = pending.pop(fut)
                try:
                    record(fut.result())
                except BrokenProcessPool:
                    lost.append(job)
                except Exception as exc:  # e.g. an Outcome that could not be sent back
                    record(_crashed(job, exc))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return lost


def _run_isolated(job: Job, out_dir: Path, limits: Limits | None, stamp: str) -> Outcome:
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1) as pool:
        try:
            return pool.submit(process_one, job, out_dir, limits, stamp).result()
        except Exception as exc:
            return _crashed(job, exc)


# ------------------------------------------------------------------------------ whole batch


def _preference(o: Outcome) -> tuple[int, float, int]:
    """Which of several workbooks of one department and year is ranked: fewest errors, then the newest file."""
    return (o.errors, -o.modified, o.index)


def mark_duplicates(outcomes: Sequence[Outcome]) -> None:
    """When one department and year has several scored workbooks, rank only one (the one with the
    fewest errors; on a tie the most recently modified) and mark the others 重复, their message saying
    which file they duplicate and why that one is ranked.
    """
    groups: dict[tuple[str, int | None, str], list[Outcome]] = {}
    for o in outcomes:
        if o.is_scored and o.department.strip():  # a project form: one per project of a department
            groups.setdefault((o.department.strip(), o.year, o.project.strip()), []).append(o)
    for (dep, year, project), group in groups.items():
        if len(group) < 2:
            continue
        kept, *others = sorted(group, key=_preference)
        why = (
            "错误最少"
            if any(o.errors != kept.errors for o in others)
            else "错误数相同，文件修改时间最新"
            if any(o.modified != kept.modified for o in others)
            else "各方面相同，按文件路径取第一份"
        )
        for o in others:
            o.status = DUPLICATE
            o.message = (
                f"重复：与 {kept.file} 同为 {dep}{'“' + project + '”' if project else ''} {year or ''} 年度的自评表；排名采用那一份（{why}），"
                f"本份不参加排名（本份得分 {o.total:.2f}，{o.errors} 条错误）"
            )
        kept.message += f"；另有 {len(others)} 份同部门同年度的重复文件（{'、'.join(o.file for o in others)}），排名采用本份（{why}）"


@dataclass
class BatchReport:
    outcomes: list[Outcome]
    missing: list[str]
    summary_xlsx: Path
    summary_csv: Path
    seconds: float
    #: 项目自评汇总.xlsx when project forms were among the inputs
    project_summary: Path | None = None

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        """0: everything passed (the extra copies of a duplicate are no problem); 1: a workbook has errors, is
        blank, unreadable or failed, or a path matched nothing.
        """
        good = self.count(OK) + self.count(DUPLICATE)
        return 0 if good == len(self.outcomes) and not self.missing else 1


def run_batch(
    paths: Sequence[str | Path],
    out_dir: Path,
    workers: int | None = None,
    limits: Limits | None = None,
    on_start: Callable[[int], None] | None = None,
    on_done: Progress | None = None,
    framework: Framework | None = None,
) -> BatchReport:
    """The whole batch: find the inputs → process them one by one (or in parallel) → mark duplicates →
    write the summary. Raises :class:`NoInputsError` when there is no input at all.
    """
    from xlperf.summary import write_summary

    start = time.perf_counter()
    inputs, missing = collect_inputs(paths, out_dir)
    if not inputs:
        named = "、".join(str(p) for p in paths) or "（未给出）"
        raise NoInputsError(
            f"在 {named} 中没有找到可处理的工作簿（.xlsx / .xlsm / .xls / .et / .ods）或自评数据 JSON；"
            "请检查路径、文件夹或通配符"
        )
    from xlperf.files import OutputError
    from xlperf.intake.ledger import LEDGER_NAME

    if (out_dir / LEDGER_NAME).exists():  # its 汇总 is the intake's, over the ledger: never replace it
        raise OutputError(
            f"输出文件夹 {out_dir} 是 xlperf intake 的收件文件夹（有 {LEDGER_NAME}），"
            "batch 会用自己的结果替换其中的汇总；请用 -o 指定另一个输出文件夹"
        )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"无法创建输出文件夹 {out_dir}：{exc.strerror or exc}；请换一个可写的位置") from exc
    jobs = [
        Job(i, p, s, framework) for i, (p, s) in enumerate(zip(inputs, output_stems(inputs), strict=True))
    ]
    n_workers = max(1, min(workers or default_jobs(), len(jobs)))
    if on_start is not None:
        on_start(len(jobs))
    from xlperf.summary import prepare_summary

    outcomes = run_jobs(jobs, out_dir, limits, n_workers, on_done, meanwhile=prepare_summary)
    mark_duplicates(outcomes)
    projects = [o for o in outcomes if o.form == "project"]
    xlsx, csv = write_summary([o for o in outcomes if o.form != "project"], out_dir)
    project_summary = None
    if projects:
        from xlperf.project.summary import write_project_summary

        project_summary, _ = write_project_summary(projects, out_dir)
    return BatchReport(outcomes, missing, xlsx, csv, time.perf_counter() - start, project_summary)
