"""``xlperf batch``: process many workbooks, writing each one's scored workbook and score card,
and one 汇总.xlsx / 汇总.csv.

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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from xlperf.core.errors import InputError, XlperfError
from xlperf.outcome import (  # noqa: F401 (re-exported: batch's callers name them from here)
    BLANK,
    CARD_SUFFIX,
    DUPLICATE,
    ERRORS,
    FAILED,
    LEDGER_NAME,
    NONE,
    OK,
    RANKED_STATUSES,
    SCORED_SUFFIX,
    STATUSES,
    SUMMARY_CSV,
    SUMMARY_JSON,
    SUMMARY_SCHEMA,
    SUMMARY_XLSX,
    UNREADABLE,
    VALID,
    Outcome,
    fill_scored,
    is_blank,
    mark_duplicates,
    outcome_from_json,
    usable,
)

if TYPE_CHECKING:
    from xlperf.core.framework import Framework
    from xlperf.core.project.framework import ProjectFramework
    from xlperf.ooxml.limits import Limits

INPUT_SUFFIXES = (".xlsx", ".xlsm", ".json")
#: files that look like spreadsheets but that xlperf does not read: listed as 无法读取 with the reason
FOREIGN_SUFFIXES = (".xls", ".et", ".ods")
CANDIDATE_SUFFIXES = INPUT_SUFFIXES + FOREIGN_SUFFIXES
MAX_DEFAULT_JOBS = 16


class NoInputsError(XlperfError):
    """No input to process was found (a usage error, exit code 2)."""


# ------------------------------------------------------------------------------ inputs


@dataclass(frozen=True)
class Job:
    """One input to process: its place in the results, its path and the stem of its output files
    (no suffix)."""

    index: int
    path: Path
    stem: str
    #: ``--framework``: at most one per form; an input of that form is scored by it, any other by its
    #: own rules (empty: each workbook's own)
    frameworks: tuple[Framework | ProjectFramework, ...] = ()


def _is_candidate(path: Path, skip_dir: Path | None) -> bool:
    """Whether a file found in a folder is processed: Excel lock files, hidden/temporary files and xlperf's
    own outputs are skipped."""
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


def process_one(
    job: Job, out_dir: Path, limits: Limits | None = None, scored_at: str | None = None
) -> Outcome:
    """Read, validate and score one input; write ``<stem>.scored.xlsx`` and ``<stem>.scorecard.json``.

    Never raises: an unreadable input is recorded as unreadable, an unexpected error as failed, with
    the explanation in ``message``.
    """
    from xlperf.files import OutputError, sha256_file
    from xlperf.pipeline import assess, load_any, write_scorecard, write_scored

    start = time.perf_counter()
    out = Outcome(index=job.index, file=str(job.path), status=FAILED, message="")
    with contextlib.suppress(OSError):
        out.modified = job.path.stat().st_mtime
    try:
        loaded = load_any(job.path, limits, job.frameworks, own_form=True)
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
    """Process every input; the outcomes sorted by ``Job.index``. With ``workers == 1`` one by one in
    this process.

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
    frameworks: tuple[Framework | ProjectFramework, ...] = (),
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
        Job(i, p, s, frameworks) for i, (p, s) in enumerate(zip(inputs, output_stems(inputs), strict=True))
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
