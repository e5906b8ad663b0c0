"""Benchmarks of xlperf's batch run: one command, every figure measured in the same run.

    python benchmarks/run.py [--n 200] [--small 24] [--profile]

Measured, on the same synthetic workbooks (benchmarks/generate.py):
  baseline  a process that loops bare openpyxl ``load_workbook`` + ``save`` over the files — the
            floor every re-saving implementation stands on (issue 17); it alternates with the batch
            run (``--repeat-small`` times at --small, ``--repeat`` at --n) and the median of the
            ratios between neighbouring runs is reported (the machine's speed moves both), in wall
            clock and in CPU time;
  batch     ``xlperf batch --jobs 1`` over the same files, at --small and at --n workbooks, and
            ``--jobs 2`` after each ``--jobs 1`` at --n (median speed-up), each process's peak RSS;
  ceiling   the same pure-Python loop in two processes at once against one alone: what two
            workers can gain on this machine at best;
  (a)/(b)   per workbook, in one process: bare openpyxl load+save against xlperf's full processing
            (load_input + assess + write_scored + write_scorecard);
  start-up  ``xlperf --help``;
  submit    per workbook, in one process: ``export_package`` (score, freeze, .docx, manifest)
            against bare openpyxl load+save of the same file, interleaved file by file;
  intake    ``xlperf intake`` over a folder of the submissions' .eml drafts, alternating with the
            baseline loop over the same workbooks (median of the ratios between neighbours).
Prints a table and writes benchmarks/out/results.json (``--only submission``: only submit and
intake, into benchmarks/out/submission.json). Goals (README, issue 17): batch ≤ 0.5× the
baseline at 200 workbooks and ≤ 0.8× at 24, ``--jobs 2`` ≥ 1.8× ``--jobs 1``, ≤ 150 MB per worker.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
TARGETS = {
    "batch_over_baseline_n": 0.5,
    "batch_over_baseline_small": 0.8,
    "b_over_a": 0.5,
    "speedup_jobs2": 1.8,
    "peak_worker_mb": 150.0,
    "help_seconds": 0.3,
}
BASELINE = """
import sys, pathlib, tempfile, openpyxl
out = pathlib.Path(tempfile.mkdtemp()) / "a.xlsx"
for p in sorted(pathlib.Path(sys.argv[1]).glob("部门_*.xlsx")):
    openpyxl.load_workbook(p).save(out)
"""


# ------------------------------------------------------------------------------ helpers


def _xlperf_cmd() -> list[str]:
    exe = shutil.which("xlperf")
    return [exe] if exe else [sys.executable, "-c", "from xlperf.cli import main; main()"]


def _descendants(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().decode(errors="replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        kids = parents.get(pid, [])
        out.extend(kids)
        todo.extend(kids)
    return out


def _hwm_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class TreeWatcher(threading.Thread):
    """Samples the peak RSS (VmHWM, monotonic) of a process and all its descendants (Linux /proc)."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peaks: dict[int, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        if not os.path.isdir("/proc"):
            return
        while not self.stop.is_set():
            for pid in [self.pid, *_descendants(self.pid)]:
                hwm = _hwm_mb(pid)
                if hwm is not None:
                    self.peaks[pid] = max(self.peaks.get(pid, 0.0), hwm)
            self.stop.wait(self.interval)


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``cmd``; wall time, exit code, peak RSS of the whole tree (wait4) and per process (/proc)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    watcher = TreeWatcher(proc.pid)
    watcher.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    watcher.stop.set()
    watcher.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    tree_peak = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    workers = {pid: mb for pid, mb in watcher.peaks.items() if pid != proc.pid}
    return {
        "seconds": wall,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "exit_code": proc.returncode,
        "stderr": stderr[-2000:],
        "peak_tree_mb": tree_peak,
        "peak_parent_mb": watcher.peaks.get(proc.pid),
        "peak_worker_mb": max(workers.values()) if workers else None,
        "workers_seen": len(workers),
    }


def ensure_inputs(n: int, folder: Path, seed: int) -> list[Path]:
    existing = sorted(folder.glob("部门_*.xlsx"))
    stamp = folder / ".generated.json"
    wanted = {"n": n, "seed": seed}
    if len(existing) == n and stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return existing
    if folder.exists():
        shutil.rmtree(folder)
    sys.path.insert(0, str(HERE))
    from generate import generate  # type: ignore[import-not-found]

    t0 = time.perf_counter()
    paths: list[Path] = generate(n, folder, seed)
    stamp.write_text(json.dumps(wanted))
    print(f"已生成 {n} 个合成工作簿（{time.perf_counter() - t0:.1f} 秒）", file=sys.stderr)
    return paths


SPIN = "x = 0\nfor i in range(20_000_000):\n    x += i\n"


def parallel_ceiling() -> float:
    """What two processes gain on this machine at best: the same pure-Python loop twice at once,
    against once alone (the best of three each), as a ratio of work per second."""
    alone, pair = [], []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", SPIN], check=True)
        alone.append(time.perf_counter() - t)
        t = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(2)]
        for proc in procs:
            proc.wait()
        pair.append(time.perf_counter() - t)
    return 2 * min(alone) / min(pair)


# ------------------------------------------------------------------------------ (a) and (b), in a child


def measure_in_process(folder: Path, result_file: Path, profile: bool) -> None:
    """(a) bare openpyxl load+save and (b) xlperf's full processing, interleaved file by file."""
    import openpyxl

    from xlperf.pipeline import assess, load_input, write_scorecard, write_scored

    paths = sorted(folder.glob("部门_*.xlsx"))
    a: list[float] = []
    b: list[float] = []
    a_cpu: list[float] = []
    b_cpu: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)

        def full(p: Path) -> None:
            loaded = load_input(p)
            result = assess(loaded)
            write_scored(loaded, result, out / "b.scored.xlsx")
            write_scorecard(loaded, result, out / "b.scorecard.json")

        full(paths[0])  # warm-up: imports, framework cache
        for p in paths:
            t, c = time.perf_counter(), time.process_time()
            wb = openpyxl.load_workbook(p)
            wb.save(out / "a.xlsx")
            a.append(time.perf_counter() - t)
            a_cpu.append(time.process_time() - c)
            t, c = time.perf_counter(), time.process_time()
            full(p)
            b.append(time.perf_counter() - t)
            b_cpu.append(time.process_time() - c)
        prof_text = ""
        if profile:
            import cProfile
            import io
            import pstats

            prof = cProfile.Profile()
            prof.enable()
            for p in paths[:30]:
                full(p)
            prof.disable()
            buf = io.StringIO()
            stats = pstats.Stats(prof, stream=buf)
            stats.sort_stats("cumulative").print_stats(30)
            stats.sort_stats("tottime").print_stats(15)
            prof_text = buf.getvalue()
    result_file.write_text(json.dumps({"a": a, "b": b, "a_cpu": a_cpu, "b_cpu": b_cpu, "profile": prof_text}))


# ------------------------------------------------------------------------------ submit and intake


def measure_submit_in_process(folder: Path, result_file: Path, count: int) -> None:
    """Per workbook, in this process: bare openpyxl load+save against ``export_package``, and against
    the freeze alone (the frozen workbook written from a workbook already read and scored)."""
    import openpyxl

    from xlperf.pipeline import assess, load_input
    from xlperf.submission.package import _write_frozen, export_package

    paths = sorted(folder.glob("部门_*.xlsx"))[:count]
    base: list[float] = []
    submit: list[float] = []
    freeze: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)

        def package(p: Path, i: int) -> None:
            export_package(p, out / f"pkg{i}", force=True, reason="基准测试", overwrite=True)

        package(paths[0], -1)  # warm-up: imports, framework cache
        for i, p in enumerate(paths):
            t = time.perf_counter()
            openpyxl.load_workbook(p).save(out / "a.xlsx")
            base.append(time.perf_counter() - t)
            t = time.perf_counter()
            package(p, i)
            submit.append(time.perf_counter() - t)
            loaded = load_input(p)
            result = assess(loaded)
            t = time.perf_counter()
            _write_frozen(loaded, result, out / "frozen.xlsx", "2024-01-01T00:00:00+08:00", "", "")
            freeze.append(time.perf_counter() - t)
    result_file.write_text(json.dumps({"baseline": base, "submit": submit, "freeze": freeze}))


def measure_submission(inputs: list[Path], count: int, repeat: int) -> dict[str, Any]:
    """``submit`` per workbook in one process, and ``xlperf intake`` over their .eml drafts as a
    command, each against the openpyxl load+save baseline measured in the same run."""
    folder = OUT / "submission"
    if folder.exists():
        shutil.rmtree(folder)
    books, eml = folder / "books", folder / "eml"
    books.mkdir(parents=True)
    eml.mkdir()
    chosen = inputs[:count]
    for p in chosen:
        shutil.copy2(p, books / p.name)
    env = {**os.environ, "XLPERF_HOME": str(folder / "home")}
    xlperf = _xlperf_cmd()
    with tempfile.TemporaryDirectory() as tmp:
        result_file = Path(tmp) / "submit.json"
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--submit-in-process",
            str(books),
            str(result_file),
        ]
        run = run_measured([*cmd, str(count)], env=env)
        if run["exit_code"] != 0:
            raise SystemExit(run["stderr"])
        per = json.loads(result_file.read_text())
    for p in chosen:  # the drafts the bureau's mailbox would hold (not timed)
        subprocess.run(
            [
                *xlperf,
                "submit",
                str(books / p.name),
                "--force",
                "--reason",
                "基准测试",
                "--overwrite",
                "-o",
                str(folder / "pkg" / p.stem),
                "--eml",
                str(eml / f"{p.stem}.eml"),
                "--to",
                "bureau@example.org",
            ],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
    ratios: list[float] = []
    intake_runs: list[float] = []
    base_runs: list[float] = []
    for i in range(repeat):
        base = run_measured([sys.executable, "-c", BASELINE, str(books)])
        out_dir = folder / f"intake-{i}"
        took = run_measured([*xlperf, "intake", str(eml), "-o", str(out_dir)], env=env)
        if took["exit_code"] != 0:
            raise SystemExit(f"xlperf intake 退出码 {took['exit_code']}：\n{took['stderr']}")
        shutil.rmtree(out_dir, ignore_errors=True)
        base_runs.append(base["seconds"])
        intake_runs.append(took["seconds"])
        ratios.append(took["seconds"] / base["seconds"])
    med_base, med_submit = statistics.median(per["baseline"]), statistics.median(per["submit"])
    return {
        "count": len(chosen),
        "submit_median_s": med_submit,
        "submit_baseline_median_s": med_base,
        "submit_over_baseline": med_submit / med_base,
        "submit_ratios": [s / b for s, b in zip(per["submit"], per["baseline"], strict=True)],
        "freeze_median_s": statistics.median(per["freeze"]),
        "freeze_over_baseline": statistics.median(per["freeze"]) / med_base,
        "peak_submit_mb": run["peak_tree_mb"],
        "intake_fastest_s": min(intake_runs),
        "intake_baseline_fastest_s": min(base_runs),
        "intake_over_baseline": statistics.median(ratios),
        "intake_ratios": ratios,
    }


def _print_submission(f: dict[str, Any]) -> None:
    k = f["count"]
    rows = [
        (f"(a) openpyxl 打开+保存，每个中位数（{k} 个）", f"{f['submit_baseline_median_s'] * 1000:.0f} ms"),
        ("(s) 导出报送包 export_package，每个中位数", f"{f['submit_median_s'] * 1000:.0f} ms"),
        ("  s/a", f"{f['submit_over_baseline']:.2f}"),
        ("(f) 其中冻结一步（已读已评分后），每个中位数", f"{f['freeze_median_s'] * 1000:.0f} ms"),
        ("  f/a", f"{f['freeze_over_baseline']:.2f}"),
        ("峰值 RSS：导出报送包的进程", f"{f['peak_submit_mb']:.0f} MB"),
        (f"基线：openpyxl 打开+保存循环（{k} 个，最快一次）", f"{f['intake_baseline_fastest_s']:.1f} s"),
        (f"xlperf intake（{k} 封 .eml，最快一次）", f"{f['intake_fastest_s']:.1f} s"),
        (
            f"  intake / 基线（交替 {len(f['intake_ratios'])} 次的中位数）",
            f"{f['intake_over_baseline']:.2f}×",
        ),
    ]
    width = max(len(r[0]) for r in rows) + 2
    print("\n报送与收件")
    for label, value in rows:
        print(f"  {label.ljust(width)}{value}")


# ------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="xlperf 批量处理基准测试")
    parser.add_argument("--n", type=int, default=200, help="合成工作簿个数（默认 200）")
    parser.add_argument("--small", type=int, default=24, help="较小批次的工作簿个数（默认 24）")
    parser.add_argument(
        "--repeat", type=int, default=5, help="N 个工作簿时基线与 batch 交替运行的次数（取比值中位数）"
    )
    parser.add_argument("--repeat-small", type=int, default=7, help="较小批次时基线与 batch 交替运行的次数")
    parser.add_argument("--seed", type=int, default=7, help="生成数据的随机种子")
    parser.add_argument("--help-runs", type=int, default=9, help="测 xlperf --help 启动时间的次数")
    parser.add_argument(
        "--profile", action="store_true", help="另用 cProfile 剖析 (b) 的前 30 个工作簿并打印"
    )
    parser.add_argument(
        "--only", choices=("all", "batch", "submission"), default="all", help="只测批量处理或只测报送与收件"
    )
    parser.add_argument("--submit-n", type=int, default=24, help="报送与收件所用的工作簿个数（默认 24）")
    parser.add_argument("--repeat-intake", type=int, default=5, help="intake 与基线交替运行的次数")
    parser.add_argument("--in-process", nargs=2, metavar=("FOLDER", "RESULT"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--submit-in-process", nargs=3, metavar=("FOLDER", "RESULT", "N"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.in_process:
        measure_in_process(Path(args.in_process[0]), Path(args.in_process[1]), args.profile)
        return 0
    if args.submit_in_process:
        folder, result, count = args.submit_in_process
        measure_submit_in_process(Path(folder), Path(result), int(count))
        return 0

    OUT.mkdir(parents=True, exist_ok=True)
    # an installed xlperf has its bytecode compiled (pip does it at install); a checkout run with
    # PYTHONDONTWRITEBYTECODE=1 would compile every module again at each start
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(HERE.parent / "xlperf")], check=True)
    load_before = _loadavg()
    inputs = ensure_inputs(args.n, OUT / f"inputs-{args.n}", args.seed)
    folder = inputs[0].parent
    xlperf = _xlperf_cmd()
    submission = None
    if args.only in ("all", "submission"):
        submission = measure_submission(inputs, args.submit_n, args.repeat_intake)
        _print_submission(submission)
    if args.only == "submission":
        assert submission is not None
        (OUT / "submission.json").write_text(
            json.dumps({"machine": _machine(), "figures": submission}, ensure_ascii=False, indent=2) + "\n",
            encoding="utf-8",
        )
        print(f"\n已写出 {OUT / 'submission.json'}")
        return 0

    # start-up time of `xlperf --help`
    help_times = []
    for _ in range(args.help_runs):
        t = time.perf_counter()
        subprocess.run([*xlperf, "--help"], check=True, stdout=subprocess.DEVNULL)
        help_times.append(time.perf_counter() - t)
    py_times = []
    for _ in range(args.help_runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        py_times.append(time.perf_counter() - t)

    # (a) + (b) in a child process of their own, so that their peak RSS is theirs alone
    with tempfile.TemporaryDirectory() as tmp:
        result_file = Path(tmp) / "ab.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--in-process", str(folder), str(result_file)]
        ab_run = run_measured([*cmd, *(["--profile"] if args.profile else [])])
        if ab_run["exit_code"] != 0:
            print(ab_run["stderr"], file=sys.stderr)
            return 1
        ab = json.loads(result_file.read_text())

    # baseline and xlperf batch on the same files: --small and --n workbooks
    small = OUT / f"inputs-{args.n}-first-{args.small}"
    if small.exists():
        shutil.rmtree(small)
    small.mkdir(parents=True)
    for p in inputs[: args.small]:
        shutil.copy2(p, small / p.name)
    baseline: dict[str, dict[str, Any]] = {}
    batch: dict[str, dict[str, Any]] = {}
    ratios: dict[str, list[float]] = {"small": [], "n": []}

    def run_batch(label: str, src: Path, jobs: int) -> dict[str, Any]:
        out_dir = OUT / f"batch-{label}"
        if out_dir.exists():
            shutil.rmtree(out_dir)
        run = run_measured([*xlperf, "batch", str(src), "-o", str(out_dir), "--jobs", str(jobs)])
        if run["exit_code"] not in (0, 1):
            print(f"xlperf batch --jobs {jobs} 退出码 {run['exit_code']}：\n{run['stderr']}", file=sys.stderr)
        return run

    # baseline and batch alternate (and at --n, --jobs 2 after each --jobs 1): a change in the
    # machine's speed hits neighbouring runs alike, so each ratio is taken between neighbours and
    # the median of the ratios is reported (single runs on this shared machine moved by ±15 %)
    cpu_ratios: dict[str, list[float]] = {"small": [], "n": []}
    speedups: list[float] = []
    for label, src, repeat in (("small", small, args.repeat_small), ("n", folder, args.repeat)):
        for _ in range(repeat):
            base = run_measured([sys.executable, "-c", BASELINE, str(src)])
            run = run_batch(label, src, 1)
            ratios[label].append(run["seconds"] / base["seconds"])
            cpu_ratios[label].append(run["cpu_seconds"] / base["cpu_seconds"])
            if label not in batch or run["seconds"] < batch[label]["seconds"]:
                batch[label] = run
            if label not in baseline or base["seconds"] < baseline[label]["seconds"]:
                baseline[label] = base
            if label == "n":
                two = run_batch("n_j2", folder, 2)
                speedups.append(run["seconds"] / two["seconds"])
                if "n_j2" not in batch or two["seconds"] < batch["n_j2"]["seconds"]:
                    batch["n_j2"] = two
    shutil.rmtree(small)
    ceiling = parallel_ceiling()

    med_a, med_b = statistics.median(ab["a"]), statistics.median(ab["b"])
    cpu_a, cpu_b = statistics.median(ab["a_cpu"]), statistics.median(ab["b_cpu"])
    n = len(inputs)
    figures = {
        "median_a_openpyxl_s": med_a,
        "median_b_xlperf_s": med_b,
        "b_over_a": med_b / med_a,
        "median_a_openpyxl_cpu_s": cpu_a,
        "median_b_xlperf_cpu_s": cpu_b,
        "b_over_a_cpu": cpu_b / cpu_a,
        "sum_a_s": sum(ab["a"]),
        "sum_b_s": sum(ab["b"]),
        "baseline_small_s": baseline["small"]["seconds"],
        "baseline_n_s": baseline["n"]["seconds"],
        "batch_small_s": batch["small"]["seconds"],
        "batch_jobs1_s": batch["n"]["seconds"],
        "batch_jobs2_s": batch["n_j2"]["seconds"],
        "batch_over_baseline_small": statistics.median(ratios["small"]),
        "batch_over_baseline_n": statistics.median(ratios["n"]),
        "ratios_small": ratios["small"],
        "ratios_n": ratios["n"],
        "batch_jobs1_per_workbook_s": batch["n"]["seconds"] / n,
        "speedup_jobs2": statistics.median(speedups),
        "speedups_jobs2": speedups,
        "cpu_ratio_small": statistics.median(cpu_ratios["small"]),
        "cpu_ratio_n": statistics.median(cpu_ratios["n"]),
        "parallel_ceiling": ceiling,
        "batch_jobs1_cpu_s": batch["n"]["cpu_seconds"],
        "batch_jobs2_cpu_s": batch["n_j2"]["cpu_seconds"],
        "small_n": min(args.small, n),
        "loadavg_before": load_before,
        "loadavg_after": _loadavg(),
        "peak_in_process_ab_mb": ab_run["peak_tree_mb"],
        "peak_baseline_mb": baseline["n"]["peak_tree_mb"],
        "peak_jobs1_process_mb": batch["n"]["peak_tree_mb"],
        "peak_jobs2_parent_mb": batch["n_j2"]["peak_parent_mb"],
        "peak_jobs2_worker_mb": batch["n_j2"]["peak_worker_mb"],
        "peak_jobs2_tree_max_mb": batch["n_j2"]["peak_tree_mb"],
        "workers_seen_jobs2": batch["n_j2"]["workers_seen"],
        "help_median_s": statistics.median(help_times),
        "python_bare_startup_median_s": statistics.median(py_times),
        "exit_codes": {k: v["exit_code"] for k, v in batch.items()},
    }
    worker_peak = figures["peak_jobs2_worker_mb"] or figures["peak_jobs2_tree_max_mb"]
    checks = {
        "batch_over_baseline_n": (
            figures["batch_over_baseline_n"],
            figures["batch_over_baseline_n"] <= TARGETS["batch_over_baseline_n"],
            "≤",
        ),
        "batch_over_baseline_small": (
            figures["batch_over_baseline_small"],
            figures["batch_over_baseline_small"] <= TARGETS["batch_over_baseline_small"],
            "≤",
        ),
        "b_over_a": (figures["b_over_a"], figures["b_over_a"] <= TARGETS["b_over_a"], "≤"),
        "speedup_jobs2": (
            figures["speedup_jobs2"],
            figures["speedup_jobs2"] >= TARGETS["speedup_jobs2"],
            "≥",
        ),
        "peak_worker_mb": (
            worker_peak,
            max(worker_peak, figures["peak_jobs1_process_mb"]) <= TARGETS["peak_worker_mb"],
            "≤",
        ),
        "help_seconds": (figures["help_median_s"], figures["help_median_s"] <= TARGETS["help_seconds"], "≤"),
    }
    machine = _machine()
    _print_table(n, figures, checks, machine)
    if ab.get("profile"):
        print("\n==== cProfile：(b) 前 30 个工作簿 ====\n" + ab["profile"])
    results = {
        "n": n,
        "machine": machine,
        "figures": figures,
        "targets": TARGETS,
        "met": {k: v[1] for k, v in checks.items()},
        "per_workbook": {"a": ab["a"], "b": ab["b"]},
        "submission": submission,
    }
    (OUT / "results.json").write_text(
        json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    print(f"\n已写出 {OUT / 'results.json'}")
    return 0


def _machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
    }


def _print_table(
    n: int, f: dict[str, Any], checks: dict[str, tuple[float, bool, str]], machine: dict[str, Any]
) -> None:
    def mb(v: float | None) -> str:
        return "—" if v is None else f"{v:.0f} MB"

    small = f.get("small_n", 24)
    rows = [
        (f"基线：openpyxl 打开+保存循环（{small} 个，最快一次）", f"{f['baseline_small_s']:.1f} s", ""),
        (f"xlperf batch --jobs 1（{small} 个，最快一次）", f"{f['batch_small_s']:.1f} s", ""),
        (
            f"  batch / 基线（{small} 个，交替 {len(f['ratios_small'])} 次的中位数）",
            f"{f['batch_over_baseline_small']:.2f}×",
            _mark(checks["batch_over_baseline_small"], TARGETS["batch_over_baseline_small"]),
        ),
        ("    （CPU 时间之比，中位数）", f"{f['cpu_ratio_small']:.2f}×", ""),
        (f"基线：openpyxl 打开+保存循环（{n} 个，最快一次）", f"{f['baseline_n_s']:.1f} s", ""),
        (
            f"xlperf batch --jobs 1（{n} 个，最快一次）",
            f"{f['batch_jobs1_s']:.1f} s",
            f"每个 {f['batch_jobs1_per_workbook_s'] * 1000:.0f} ms",
        ),
        (
            f"  batch / 基线（{n} 个，交替 {len(f['ratios_n'])} 次的中位数）",
            f"{f['batch_over_baseline_n']:.2f}×",
            _mark(checks["batch_over_baseline_n"], TARGETS["batch_over_baseline_n"]),
        ),
        ("    （CPU 时间之比，中位数）", f"{f['cpu_ratio_n']:.2f}×", ""),
        (f"xlperf batch --jobs 2（{n} 个，最快一次）", f"{f['batch_jobs2_s']:.1f} s", ""),
        (
            f"  加速比 jobs 1 / jobs 2（相邻两次之比，{len(f['speedups_jobs2'])} 次的中位数）",
            f"{f['speedup_jobs2']:.2f}×",
            _mark(checks["speedup_jobs2"], TARGETS["speedup_jobs2"]),
        ),
        (
            "  （对照）本机两个进程并行的上限",
            f"{f['parallel_ceiling']:.2f}×",
            "同一纯 Python 循环：两个同时跑 / 一个单独跑",
        ),
        (
            "  全部进程 CPU 时间 jobs 1 / jobs 2",
            f"{f['batch_jobs1_cpu_s']:.0f}/{f['batch_jobs2_cpu_s']:.0f} s",
            "",
        ),
        ("(a) openpyxl 打开+保存，每个中位数", f"{f['median_a_openpyxl_s'] * 1000:.0f} ms", ""),
        ("(b) xlperf 完整处理，每个中位数", f"{f['median_b_xlperf_s'] * 1000:.0f} ms", ""),
        ("  b/a（墙钟）", f"{f['b_over_a']:.2f}", _mark(checks["b_over_a"], TARGETS["b_over_a"])),
        ("  b/a（CPU 时间）", f"{f['b_over_a_cpu']:.2f}", ""),
        ("峰值 RSS：基线进程", mb(f["peak_baseline_mb"]), ""),
        ("峰值 RSS：--jobs 1 进程", mb(f["peak_jobs1_process_mb"]), ""),
        ("峰值 RSS：--jobs 2 主进程", mb(f["peak_jobs2_parent_mb"]), ""),
        (
            f"峰值 RSS：--jobs 2 每个工作进程（最大，{f['workers_seen_jobs2']} 个）",
            mb(f["peak_jobs2_worker_mb"]),
            _mark(checks["peak_worker_mb"], TARGETS["peak_worker_mb"]),
        ),
        (
            "xlperf --help 启动，中位数",
            f"{f['help_median_s'] * 1000:.0f} ms",
            _mark(checks["help_seconds"], TARGETS["help_seconds"]),
        ),
        ("（对照）python -c pass 启动", f"{f['python_bare_startup_median_s'] * 1000:.0f} ms", ""),
    ]
    print(
        f"\n机器：{machine['cpus']} 核，{machine['platform']}，Python {machine['python']}；N = {n}；"
        f"系统负载（1 分钟平均）开始 {f['loadavg_before']} / 结束 {f['loadavg_after']}"
    )
    width = max(_w(r[0]) for r in rows) + 2
    for label, value, note in rows:
        print(f"{label}{' ' * (width - _w(label))}{value:>10}   {note}")


def _loadavg() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _mark(check: tuple[float, bool, str], target: float) -> str:
    return f"{'达标' if check[1] else '未达标'}（目标 {check[2]} {target:g}）"


def _w(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


if __name__ == "__main__":
    sys.exit(main())
