"""Outputs are atomic (issue 8): a process killed while saving, a read-only folder or a full disk
leaves the previous output whole (or no output), never a half-written file, and no temporary file
that looks like an output.

Real conditions where the machine allows them (SIGKILL always; a read-only or tiny tmpfs when
running as root on Linux with ``mount``; ``chmod`` when not root). A full disk is also *simulated*
by making ``fsync``/``save`` raise ``OSError(ENOSPC)``: nothing can fill a real disk safely in a test,
and those simulations run everywhere.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from xlperf.cli import main
from xlperf.core.framework import get_framework
from xlperf.examples import example_evaluation
from xlperf.workbook.template import build_workbook, save_workbook

CHILD = """
import sys
from pathlib import Path
import openpyxl
from xlperf.files import atomic_path

wb = openpyxl.Workbook()
ws = wb.active
ws["A1"] = "新版本"
for r in range(2, int(sys.argv[2])):
    ws.append([r, f"第{r}行", r * 1.5, "部门整体支出绩效自评" * 3])
print("saving", flush=True)
with atomic_path(Path(sys.argv[1])) as tmp:
    wb.save(tmp)
print("done", flush=True)
"""


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLPERF_HOME", str(tmp_path / "home"))


def previous(path: Path, marker: str = "旧版本") -> str:
    wb = openpyxl.Workbook()
    wb.active["A1"] = marker
    wb.save(path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def temps(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def start_child(target: Path, rows: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(target), str(rows)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "saving"
    return proc


def test_sigkill_while_saving_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "out.xlsx"
    previous(target)
    proc = start_child(target, 120_000)
    deadline = time.monotonic() + 120
    caught = None
    while time.monotonic() < deadline and proc.poll() is None:
        found = [p for p in temps(tmp_path) if p.stat().st_size > 0]
        if found:
            caught = found[0]
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert caught is not None, "the save finished before the test could interrupt it"
    assert proc.returncode == -signal.SIGKILL
    wb = openpyxl.load_workbook(target)  # complete: the zip directory and every part are there
    assert wb.active["A1"].value == "旧版本"
    # the half-written temporary is hidden and does not look like a workbook to a folder scan
    assert caught.exists() and caught.name.startswith(".out.xlsx.") and caught.name.endswith(".tmp")
    assert sorted(tmp_path.glob("*.xlsx")) == [target]


@pytest.mark.slow
def test_sigkill_at_any_moment_leaves_old_or_new_complete(tmp_path: Path) -> None:
    seen = set()
    for i, delay in enumerate((0.0, 0.3, 0.8, 1.5, 30.0)):
        target = tmp_path / f"out{i}.xlsx"
        previous(target)
        proc = start_child(target, 40_000)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        value = openpyxl.load_workbook(target).active["A1"].value
        assert value in ("旧版本", "新版本")
        seen.add(value)
    assert "新版本" in seen  # the last one was allowed to finish


def test_sigkill_without_previous_file_leaves_no_output(tmp_path: Path) -> None:
    target = tmp_path / "out.xlsx"
    proc = start_child(target, 120_000)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not temps(tmp_path) and proc.poll() is None:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not target.exists()
    assert list(tmp_path.glob("*.xlsx")) == []


# ------------------------------------------------------------------ read-only folder, full disk


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ev = example_evaluation()
    return save_workbook(
        build_workbook(get_framework(ev.framework), ev), tmp_path_factory.mktemp("wb") / "自评.xlsx"
    )


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=True)


@contextlib.contextmanager
def tmpfs(path: Path, options: str) -> Iterator[bool]:
    """Mount a tmpfs at ``path`` when this machine lets us (Linux, root, mount works)."""
    path.mkdir(parents=True, exist_ok=True)
    if sys.platform != "linux" or os.geteuid() != 0 or shutil.which("mount") is None:
        yield False
        return
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    if done.returncode != 0:
        yield False
        return
    try:
        yield True
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def check_refused(result: Any, src: Path, src_hash: str, folder: Path, words: str) -> None:
    assert result.exit_code == 2, (result.stdout, result.stderr, result.exception)
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.startswith("错误：") and words in result.stderr
    assert hashlib.sha256(src.read_bytes()).hexdigest() == src_hash
    assert temps(folder) == []


def test_read_only_output_folder(workbook: Path, tmp_path: Path) -> None:
    src_hash = hashlib.sha256(workbook.read_bytes()).hexdigest()
    folder = tmp_path / "ro"
    if os.geteuid() != 0:
        folder.mkdir()
        folder.chmod(0o555)
        try:
            result = run("run", str(workbook), "-o", str(folder / "out.xlsx"))
        finally:
            folder.chmod(0o755)
    else:
        with tmpfs(folder, "ro,size=1m") as mounted:
            if not mounted:
                pytest.skip(
                    "root without mount: chmod cannot make a folder read-only for root (see the simulation)"
                )
            result = run("run", str(workbook), "-o", str(folder / "out.xlsx"))
            assert list(folder.iterdir()) == []
    check_refused(result, workbook, src_hash, folder, "没有权限写入")
    assert str(folder / "out.xlsx") in result.stderr or str(folder) in result.stderr


def test_read_only_output_folder_simulated(
    workbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import xlperf.files

    def denied(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(xlperf.files.tempfile, "mkstemp", denied)
    src_hash = hashlib.sha256(workbook.read_bytes()).hexdigest()
    out = tmp_path / "out" / "scored.xlsx"
    result = run("run", str(workbook), "-o", str(out))
    check_refused(result, workbook, src_hash, out.parent, "没有权限写入")
    assert not out.exists()


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")  # no ZipFile.__del__ traceback
def test_full_disk_real_tmpfs(workbook: Path, tmp_path: Path) -> None:
    src_hash = hashlib.sha256(workbook.read_bytes()).hexdigest()
    folder = tmp_path / "tiny"
    with tmpfs(folder, "size=32k") as mounted:
        if not mounted:
            pytest.skip("cannot mount a tiny tmpfs here (see the ENOSPC simulations)")
        out = folder / "scored.xlsx"
        old = previous(out)
        result = run("run", str(workbook), "-o", str(out))
        check_refused(result, workbook, src_hash, folder, "磁盘空间不足")
        assert hashlib.sha256(out.read_bytes()).hexdigest() == old
        assert [p.name for p in folder.iterdir()] == ["scored.xlsx"]


@pytest.mark.parametrize("where", ["fsync", "save"])
def test_full_disk_simulated(
    workbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """ENOSPC simulated: at fsync (delayed allocation reports it there) or half-way through writing."""
    import xlperf.files

    def no_space(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    def half_written(self: Any, fh: Any) -> None:  # the package writer, half-way through the zip
        fh.write(b"PK\3\4" + b"\0" * 4096)
        no_space()

    src_hash = hashlib.sha256(workbook.read_bytes()).hexdigest()
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "scored.xlsx"
    old = previous(out)
    if where == "fsync":
        monkeypatch.setattr(xlperf.files.os, "fsync", no_space)
    else:
        from xlperf.ooxml.package import Package

        monkeypatch.setattr(Package, "write_to", half_written)
    result = run("run", str(workbook), "-o", str(out), "--json", str(folder / "card.json"))
    check_refused(result, workbook, src_hash, folder, "磁盘空间不足")
    assert hashlib.sha256(out.read_bytes()).hexdigest() == old
    assert sorted(p.name for p in folder.iterdir()) == ["scored.xlsx"]


def test_docx_write_is_atomic_too(workbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import xlperf.files

    calls = {"n": 0}
    real_fsync = os.fsync

    def fail_on_third(fd: int) -> None:  # scored workbook, JSON, then the report (files only, not folders)
        calls["n"] += stat.S_ISREG(os.fstat(fd).st_mode)
        if calls["n"] == 3 and stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(xlperf.files.os, "fsync", fail_on_third)
    folder = tmp_path / "out"
    result = run(
        "run",
        str(workbook),
        "-o",
        str(folder / "scored.xlsx"),
        "--json",
        str(folder / "card.json"),
        "--docx",
        str(folder / "report.docx"),
    )
    assert result.exit_code == 2
    assert "磁盘空间不足" in result.stderr and "report.docx" in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["card.json", "scored.xlsx"]
    openpyxl.load_workbook(folder / "scored.xlsx").close()
