"""``xlperf batch``：一次处理许多工作簿，写出每个的计分工作簿和计分卡，以及一份 汇总.xlsx / 汇总.csv。

- 输入可以是文件、文件夹（递归查找 .xlsx/.xlsm/.json）或通配符；结果按输入路径排序，与并行数无关。
- 每个工作簿在工作进程中独立处理（``process_one``）：一个文件无法读取或处理出错，只记录它的
  状态（ok / errors / unreadable / failed）和中文说明，绝不中断整批。
- 汇总由 pandas（openpyxl 引擎）生成：总表、排名（并列同名次）与总分柱状图、等级分布、问题清单；
  同一张总表另存为带 BOM 的 UTF-8 CSV。来自填表人的文字一律按文本写入，决不成为公式。
- 所有输出都是原子写入：要么完整出现，要么不出现。
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

INPUT_SUFFIXES = (".xlsx", ".xlsm", ".json")
SUMMARY_XLSX = "汇总.xlsx"
SUMMARY_CSV = "汇总.csv"
SCORED_SUFFIX = ".scored.xlsx"
CARD_SUFFIX = ".scorecard.json"
MAX_DEFAULT_JOBS = 16

OK, ERRORS, UNREADABLE, FAILED = "ok", "errors", "unreadable", "failed"
STATUSES = (OK, ERRORS, UNREADABLE, FAILED)
RATINGS = ("优", "良", "中", "差")

#: 总表的列（汇总.xlsx 第一张表与 汇总.csv 相同）
COLUMNS = ("部门", "年度", "产出", "效益", "支出率", "履职效能", "管理效率", "总分", "排名", "等级",
           "错误数", "提醒数", "状态", "说明", "文件", "计分工作簿", "sha256")
SECTION_COLUMNS = {"output": "产出", "benefit": "效益", "spending": "支出率", "duty": "履职效能",
                   "management": "管理效率"}
TEXT_COLUMNS = ("部门", "等级", "状态", "说明", "文件", "计分工作簿", "sha256")
FINDING_COLUMNS = ("文件", "部门", "代码", "级别", "工作表", "单元格", "说明")
SEVERITY_LABELS = {"error": "错误", "warning": "提醒"}


class NoInputsError(Exception):
    """没有找到任何可处理的输入（命令行用法错误，退出码 2）。"""


# ------------------------------------------------------------------------------ inputs


@dataclass(frozen=True)
class Job:
    """一个要处理的输入：在结果中的位置、路径和输出文件的基本名（不含后缀）。"""

    index: int
    path: Path
    stem: str


def _is_candidate(path: Path, skip_dir: Path | None) -> bool:
    """文件夹中的文件是否应当处理：跳过 Excel 锁文件、隐藏/临时文件和本工具自己的输出。"""
    name = path.name
    if name.startswith(("~$", ".")) or path.suffix.lower() not in INPUT_SUFFIXES:
        return False
    if skip_dir is not None and path.parent.resolve() == skip_dir:
        lower = name.lower()
        if lower.endswith((SCORED_SUFFIX, CARD_SUFFIX)) or name in (SUMMARY_XLSX, SUMMARY_CSV):
            return False
    return path.is_file()


def _walk(folder: Path, skip_dir: Path | None) -> list[Path]:
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(p for p in (Path(root) / f for f in files) if _is_candidate(p, skip_dir))
    return found


def collect_inputs(paths: Sequence[str | Path], out_dir: Path | None = None) -> tuple[list[Path], list[str]]:
    """展开命令行给出的路径：文件原样收下，文件夹递归查找，其余按通配符匹配。

    返回（按路径排序、去重后的输入文件，找不到的路径）。``out_dir`` 中本工具写出的文件不会被当作输入。
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
    """每个输入的输出基本名：通常就是文件名（不含扩展名）；重名时（不分大小写）改用相对于
    共同上级文件夹的路径（连同扩展名），仍重复则按排序加序号。结果唯一且只取决于输入路径。"""
    stems = [_UNSAFE.sub("_", p.stem) or "工作簿" for p in inputs]
    clashes = _duplicates(stems)
    if clashes:
        absolute = [Path(os.path.abspath(p)) for p in inputs]
        common = Path(os.path.commonpath([str(a.parent) for a in absolute])) if absolute else Path()
        for i, p in enumerate(absolute):
            if stems[i].casefold() in clashes:
                rel = p.relative_to(common)
                text = "__".join([*rel.parent.parts, rel.stem]) + (f"_{p.suffix.lstrip('.')}" if p.suffix else "")
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
    """默认并行数：可用的 CPU 核数，最多 16，且不多于输入个数。"""
    try:
        cpus = len(os.sched_getaffinity(0))  # type: ignore[attr-defined,unused-ignore]
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    jobs = max(1, min(cpus, MAX_DEFAULT_JOBS))
    return max(1, min(jobs, n_inputs)) if n_inputs else jobs


# ------------------------------------------------------------------------------ one workbook


@dataclass
class Outcome:
    """处理一个输入的结果（可在进程间传递）。"""

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

    @property
    def is_scored(self) -> bool:
        return self.status in (OK, ERRORS) and self.total is not None


def process_one(job: Job, out_dir: Path, limits: Any = None, scored_at: str | None = None) -> Outcome:
    """读取、校验、计分一个输入，写出 ``<stem>.scored.xlsx`` 与 ``<stem>.scorecard.json``。

    从不抛出异常：无法读取记为 unreadable，意外错误记为 failed，说明写在 ``message`` 中。
    """
    from xlperf.files import OutputError, sha256_file
    from xlperf.pipeline import InputError, assess, load_input, write_scorecard, write_scored

    start = time.perf_counter()
    out = Outcome(index=job.index, file=str(job.path), status=FAILED, message="")
    try:
        loaded = load_input(job.path, limits)
        out.sha256 = loaded.sha256
        result = assess(loaded)
        card = result.scorecard(workbook=job.path.name, sha256=loaded.sha256)
        scored = out_dir / f"{job.stem}{SCORED_SUFFIX}"
        card_path = out_dir / f"{job.stem}{CARD_SUFFIX}"
        write_scored(loaded, result, scored, scored_at)
        write_scorecard(loaded, result, card_path)
        out.scored, out.scorecard = scored.name, card_path.name
        out.department = str(card.get("department") or "")
        out.year = card.get("year")
        out.sections = {k: float(v) for k, v in card["sections"].items()}
        out.total = float(card["total"])
        out.rating = str(card["rating"])
        out.errors, out.warnings = int(card["errors"]), int(card["warnings"])
        out.findings = list(card["findings"])
        if out.errors:
            out.status = ERRORS
            out.message = f"有 {out.errors} 条错误、{out.warnings} 条提醒，得分仅供参考；请按“问题清单”修改后重新计分"
        else:
            out.status = OK
            out.message = "通过校验" + (f"（有 {out.warnings} 条提醒，请核对）" if out.warnings else "")
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
        index=job.index, file=str(job.path), status=FAILED,
        message=f"处理该文件的进程意外退出（{type(exc).__name__}，可能是内存不足或文件异常）；其他文件不受影响",
    )


# ------------------------------------------------------------------------------ running


Progress = Callable[[Outcome], None]


def run_jobs(jobs: Sequence[Job], out_dir: Path, limits: Any = None, workers: int = 1,
             on_done: Progress | None = None, scored_at: str | None = None) -> list[Outcome]:
    """处理全部输入，返回按 ``Job.index`` 排序的结果。``workers == 1`` 时在本进程内逐个处理。"""
    from xlperf.pipeline import now

    stamp = scored_at or now()
    done: dict[int, Outcome] = {}

    def record(o: Outcome) -> None:
        done[o.index] = o
        if on_done is not None:
            on_done(o)

    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            record(process_one(job, out_dir, limits, stamp))
    else:
        lost = _run_pool(jobs, out_dir, limits, workers, stamp, record)
        for job in lost:  # a worker died: retry each alone so that only the culprit fails
            record(_run_isolated(job, out_dir, limits, stamp))
    return [done[j.index] for j in sorted(jobs, key=lambda j: j.index)]


def _run_pool(jobs: Sequence[Job], out_dir: Path, limits: Any, workers: int, stamp: str,
              record: Callable[[Outcome], None]) -> list[Job]:
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    # Import the heavy modules before the workers start: with "fork" they inherit them ready-made.
    import openpyxl  # noqa: F401

    import xlperf.workbook.reader
    import xlperf.workbook.writer  # noqa: F401

    lost: list[Job] = []
    pool = ProcessPoolExecutor(max_workers=min(workers, len(jobs)))
    try:
        pending: dict[Future[Outcome], Job] = {
            pool.submit(process_one, job, out_dir, limits, stamp): job for job in jobs
        }
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


def _run_isolated(job: Job, out_dir: Path, limits: Any, stamp: str) -> Outcome:
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1) as pool:
        try:
            return pool.submit(process_one, job, out_dir, limits, stamp).result()
        except Exception as exc:
            return _crashed(job, exc)


# ------------------------------------------------------------------------------ summary


def rank(outcomes: Sequence[Outcome]) -> dict[int, int]:
    """按总分排名（只排已计分的；并列者名次相同，下一名次跳过，如 1、2、2、4）。"""
    scored = [o for o in outcomes if o.is_scored]
    totals = sorted((round(o.total or 0.0, 2) for o in scored), reverse=True)
    first: dict[float, int] = {}
    for i, t in enumerate(totals, start=1):
        first.setdefault(t, i)
    return {o.index: first[round(o.total or 0.0, 2)] for o in scored}


def summary_rows(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    """总表：每个输入一行，列见 ``COLUMNS``。"""
    ranks = rank(outcomes)
    rows = []
    for o in outcomes:
        row: dict[str, Any] = {
            "部门": o.department or None,
            "年度": o.year,
            **{label: o.sections.get(key) for key, label in SECTION_COLUMNS.items()},
            "总分": o.total,
            "排名": ranks.get(o.index),
            "等级": o.rating or None,
            "错误数": o.errors if o.is_scored else None,
            "提醒数": o.warnings if o.is_scored else None,
            "状态": o.status,
            "说明": o.message,
            "文件": o.file,
            "计分工作簿": o.scored or None,
            "sha256": o.sha256 or None,
        }
        rows.append(row)
    return rows


def distribution(outcomes: Sequence[Outcome]) -> list[tuple[str, int]]:
    """等级分布：优/良/中/差 的个数（已计分者），以及无法读取、处理失败的个数。"""
    counts = dict.fromkeys(RATINGS, 0)
    for o in outcomes:
        if o.is_scored:
            counts[o.rating] = counts.get(o.rating, 0) + 1
    rows = list(counts.items())
    rows.append(("其中有错误", sum(o.status == ERRORS for o in outcomes)))
    rows.append(("无法读取", sum(o.status == UNREADABLE for o in outcomes)))
    rows.append(("处理失败", sum(o.status == FAILED for o in outcomes)))
    rows.append(("合计", len(outcomes)))
    return rows


def finding_rows(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    rows = []
    for o in outcomes:
        for f in o.findings:
            rows.append({
                "文件": o.file, "部门": o.department or None, "代码": f.get("code"),
                "级别": SEVERITY_LABELS.get(str(f.get("severity")), f.get("severity")),
                "工作表": f.get("sheet") or None, "单元格": f.get("cell") or None, "说明": f.get("message"),
            })
    return rows


def _clean(value: Any) -> Any:
    """文本去掉 Excel 不允许的控制字符并截断到单元格上限（openpyxl 否则会拒绝写入）。"""
    if isinstance(value, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        return ILLEGAL_CHARACTERS_RE.sub("", value)[:32767]
    return value


def _frame(rows: list[dict[str, Any]], columns: Sequence[str]) -> Any:
    import pandas as pd

    df = pd.DataFrame([{c: _clean(r.get(c)) for c in columns} for r in rows], columns=list(columns))
    return df


def main_frame(outcomes: Sequence[Outcome]) -> Any:
    """总表的 DataFrame（数值列为数字，空值为 NA）。"""
    import pandas as pd

    df = _frame(summary_rows(outcomes), COLUMNS)
    for col in ("年度", "排名", "错误数", "提醒数"):
        df[col] = df[col].astype("Int64")
    for col in (*SECTION_COLUMNS.values(), "总分"):
        df[col] = pd.to_numeric(df[col]).astype("Float64")
    return df


def write_summary(outcomes: Sequence[Outcome], out_dir: Path) -> tuple[Path, Path]:
    """写出 汇总.xlsx 与 汇总.csv（原子写入），返回两者的路径。"""
    from xlperf.files import atomic_path, atomic_write_bytes

    df = main_frame(outcomes)
    xlsx, csv = out_dir / SUMMARY_XLSX, out_dir / SUMMARY_CSV
    with atomic_path(xlsx) as tmp:
        _write_xlsx(tmp, df, outcomes)
    atomic_write_bytes(csv, csv_bytes(df))
    return xlsx, csv


def csv_bytes(df: Any) -> bytes:
    """总表的 CSV：UTF-8 带 BOM（Excel 直接打开不乱码），CRLF 换行；以 = + - @ 开头的文字前加 '
    （OWASP 建议的 CSV 公式注入防护），使 Excel 把它显示为文字而不是执行公式。"""
    safe = df.copy()
    for col in TEXT_COLUMNS:
        safe[col] = safe[col].map(_csv_text, na_action="ignore")
    text: str = safe.to_csv(index=False, lineterminator="\r\n")
    return ("\ufeff" + text).encode("utf-8")


def _csv_text(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _write_xlsx(path: Path, df: Any, outcomes: Sequence[Outcome]) -> None:
    import pandas as pd

    ranked = df[df["排名"].notna()].sort_values(["排名", "文件"], kind="stable")
    ranking = ranked[["排名", "部门", "总分", "等级", "状态", "文件"]].copy()
    dist = pd.DataFrame(distribution(outcomes), columns=["等级", "个数"])
    findings = _frame(finding_rows(outcomes), FINDING_COLUMNS)
    sheets = {"汇总": df, "排名": ranking, "等级分布": dist, "问题清单": findings}
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for name, frame in sheets.items():
            frame.to_excel(xw, sheet_name=name, index=False)
        book = xw.book
        for name, frame in sheets.items():
            _format_sheet(book[name], frame)
        _chart(book["排名"], len(ranking))


def _format_sheet(ws: Any, frame: Any) -> None:
    """文字按文本写（以 = 开头也不成为公式）；表头加粗、冻结首行、自动筛选、合适的列宽与数字格式。"""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    from xlperf.workbook.cells import put_text

    head_font, head_fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    columns = list(frame.columns)
    for c, name in enumerate(columns, start=1):
        head = ws.cell(row=1, column=c)
        put_text(head, str(name))
        head.font, head.fill = head_font, head_fill
        head.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        numeric = name in (*SECTION_COLUMNS.values(), "总分")
        width = 10
        for r, value in enumerate(frame[name].tolist(), start=2):
            cell = ws.cell(row=r, column=c)
            if isinstance(value, str):
                put_text(cell, value)
                width = max(width, min(60, _display_width(value) + 2))
            elif numeric and cell.value is not None:
                cell.number_format = "0.00"
        if name in ("说明", "文件"):
            width = min(width, 60)
        elif name == "sha256":
            width = 20
        ws.column_dimensions[get_column_letter(c)].width = width
    ws.freeze_panes = "A2"
    if ws.max_row > 1:
        ws.auto_filter.ref = ws.dimensions


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text[:80])


def _chart(ws: Any, n: int) -> None:
    """排名表旁边的总分柱状图（已计分的工作簿，按名次）。"""
    if n == 0:
        return
    from openpyxl.chart import BarChart, Reference

    chart = BarChart()
    chart.type = "bar" if n > 25 else "col"
    chart.title = "各部门总分"
    chart.y_axis.title = "总分"
    chart.y_axis.scaling.min = 0
    chart.y_axis.scaling.max = 100
    chart.legend = None
    data = Reference(ws, min_col=3, min_row=1, max_row=n + 1)  # 总分, with its header as the series name
    cats = Reference(ws, min_col=2, min_row=2, max_row=n + 1)  # 部门
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(cats)
    if chart.type == "bar":
        chart.x_axis.scaling.orientation = "maxMin"  # rank 1 at the top
    chart.width = 24
    chart.height = max(8.0, min(0.5 * n + 3, 200.0)) if chart.type == "bar" else 10.0
    ws.add_chart(chart, "H2")


# ------------------------------------------------------------------------------ whole batch


@dataclass
class BatchReport:
    outcomes: list[Outcome]
    missing: list[str]
    summary_xlsx: Path
    summary_csv: Path
    seconds: float

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        """0：全部通过；1：有工作簿带错误、无法读取、处理失败，或有路径找不到。"""
        return 0 if self.count(OK) == len(self.outcomes) and not self.missing else 1


def run_batch(paths: Sequence[str | Path], out_dir: Path, workers: int | None = None, limits: Any = None,
              on_start: Callable[[int], None] | None = None, on_done: Progress | None = None) -> BatchReport:
    """整批处理：查找输入 → 逐个（或并行）处理 → 写出汇总。没有任何输入时抛出 :class:`NoInputsError`。"""
    start = time.perf_counter()
    inputs, missing = collect_inputs(paths, out_dir)
    if not inputs:
        named = "、".join(str(p) for p in paths) or "（未给出）"
        raise NoInputsError(
            f"在 {named} 中没有找到可处理的工作簿（.xlsx / .xlsm）或自评数据 JSON；请检查路径、文件夹或通配符"
        )
    from xlperf.files import OutputError

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"无法创建输出文件夹 {out_dir}：{exc.strerror or exc}；请换一个可写的位置") from exc
    jobs = [Job(i, p, s) for i, (p, s) in enumerate(zip(inputs, output_stems(inputs), strict=True))]
    n_workers = max(1, min(workers or default_jobs(), len(jobs)))
    if on_start is not None:
        on_start(len(jobs))
    outcomes = run_jobs(jobs, out_dir, limits, n_workers, on_done)
    xlsx, csv = write_summary(outcomes, out_dir)
    return BatchReport(outcomes, missing, xlsx, csv, time.perf_counter() - start)
