"""Two ``xlperf batch`` runs into one output folder (issue 12, case 14): the second is refused with a
message instead of silently mixing its 汇总 with the first one's. Real processes, real OS lock."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from xlperf.core.framework import get_framework
from xlperf.files import LockBusy, folder_lock_path, hold_lock
from xlperf.workbook.template import build_workbook, save_workbook

XLPERF = Path(sys.executable).with_name("xlperf")


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    from xlperf.examples import example_evaluation

    ev = example_evaluation()
    first, second = tmp_path / "甲", tmp_path / "乙"
    first.mkdir()
    second.mkdir()
    src = save_workbook(build_workbook(get_framework(ev.framework), ev), first / "部门01.xlsx")
    for i in range(2, 9):
        shutil.copy(src, first / f"部门{i:02d}.xlsx")
    shutil.copy(src, second / "另一批.xlsx")
    return first, second


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "XLPERF_HOME", str(tmp_path / "home")
    )  # where the lock lives, here and in the children


def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "XLPERF_HOME": str(tmp_path / "home"), "PYTHONIOENCODING": "utf-8"}


def wait_until_locked(lock: Path, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if lock.exists():
            try:
                with hold_lock(lock):
                    pass
            except LockBusy:
                return
        time.sleep(0.05)
    pytest.fail("the first batch never took the lock")


def summary_files(out: Path) -> list[str]:
    with (out / "汇总.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    column = rows[0].index("文件")
    return sorted(Path(r[column]).name for r in rows[1:])


def test_second_batch_into_the_same_folder_is_refused(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    first, second = inputs
    out = tmp_path / "结果"
    proc = subprocess.Popen(
        [str(XLPERF), "batch", str(first), "-o", str(out), "-j", "1"],
        env=env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until_locked(folder_lock_path("output", out), proc)
    done = subprocess.run(
        [str(XLPERF), "batch", str(second), "-o", str(out)],
        env=env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "另一个 xlperf 正在向输出文件夹" in done.stderr and str(out) in done.stderr
    assert "Traceback" not in done.stderr
    proc.communicate(timeout=300)
    assert proc.returncode in (0, 1)
    assert summary_files(out) == [f"部门{i:02d}.xlsx" for i in range(1, 9)]
    assert not (out / "另一批.scored.xlsx").exists()
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no lock file in the clerk's folder


def test_a_killed_batch_does_not_block_the_next(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    first, second = inputs
    out = tmp_path / "结果"
    proc = subprocess.Popen(
        [str(XLPERF), "batch", str(first), "-o", str(out), "-j", "1"],
        env=env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until_locked(folder_lock_path("output", out), proc)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    done = subprocess.run(
        [str(XLPERF), "batch", str(second), "-o", str(out)],
        env=env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert summary_files(out) == ["另一批.xlsx"]
