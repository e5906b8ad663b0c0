"""``submit --overwrite`` swaps package folders recoverably; killed runs leave nothing behind
(issue 12, case 6).

A real child process exports a package and gets a real SIGKILL at the chosen moment: between the
two renames of the swap (old package → hidden ``.…old``, new → its name), or while the package is
still being built in its hidden ``.…tmp`` folder. The next run restores or finishes the swap and
removes the leftovers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from xlperf.cli import main
from xlperf.core.framework import get_framework
from xlperf.submission.package import MANIFEST_SUFFIX, PackageResult, export_package
from xlperf.workbook.template import build_workbook, save_workbook

CHILD = r"""
import os, signal, sys
from pathlib import Path
import xlperf.submission.package
from xlperf.submission.package import export_package

wb, folder, stage = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
real_replace = os.replace

def replace(src, dst):
    real_replace(src, dst)
    if stage == "between" and str(dst).endswith(".old"):
        os.kill(os.getpid(), signal.SIGKILL)

os.replace = replace
if stage == "building":
    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)
    xlperf.submission.package.write_report_docx = die
export_package(wb, folder, overwrite=True)
print("not killed")
"""


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLPERF_HOME", str(tmp_path / "home"))


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    from test_submit import clean_evaluation

    ev = clean_evaluation()
    return save_workbook(
        build_workbook(get_framework(ev.framework), ev), tmp_path / "白云区科工商信局_2023.xlsx"
    )


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}."))


def kill_export(workbook: Path, folder: Path, stage: str) -> None:
    env = {**os.environ, "XLPERF_HOME": os.environ["XLPERF_HOME"]}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(workbook), str(folder), stage],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == -9, (done.stdout, done.stderr)


def manifest(folder: Path) -> dict[str, Any]:
    [path] = folder.glob(f"*{MANIFEST_SUFFIX}")
    return dict(json.loads(path.read_text(encoding="utf-8")))


def test_kill_between_the_renames_then_load_restores_the_old_package(workbook: Path, tmp_path: Path) -> None:
    folder = export_package(workbook, tmp_path / "报送包").folder
    first = manifest(folder)
    kill_export(workbook, folder, "between")
    assert not folder.exists()  # what the kill leaves: the old package only in a hidden folder
    assert [n.endswith(".old") for n in hidden(folder)].count(True) == 1

    package = PackageResult.load(folder)  # e.g. `xlperf submit 报送包/` after the crash
    assert package.manifest_data == first
    assert hidden(folder) == []


def test_kill_between_the_renames_then_export_again(workbook: Path, tmp_path: Path) -> None:
    folder = export_package(workbook, tmp_path / "报送包").folder
    first = manifest(folder)
    kill_export(workbook, folder, "between")
    result: Any = CliRunner().invoke(
        main, ["submit", str(workbook), "-o", str(folder), "--overwrite", "--eml", str(tmp_path / "草稿.eml")]
    )
    assert result.exit_code == 0, result.output
    assert manifest(folder)["created"] >= first["created"]
    assert PackageResult.load(folder).manifest_data == manifest(folder)
    assert hidden(folder) == []


def test_kill_while_building_leaves_no_temp_folder_after_the_next_run(workbook: Path, tmp_path: Path) -> None:
    folder = tmp_path / "报送包"
    kill_export(workbook, folder, "building")
    assert not folder.exists()
    assert [n.endswith(".tmp") for n in hidden(folder)] == [True]
    export_package(workbook, folder)
    assert hidden(folder) == []
    assert PackageResult.load(folder).folder == folder


def test_an_old_package_hidden_by_a_kill_is_never_lost_when_the_new_one_is_refused(
    workbook: Path, tmp_path: Path
) -> None:
    folder = export_package(workbook, tmp_path / "报送包").folder
    first = manifest(folder)
    kill_export(workbook, folder, "between")
    shutil.copy(workbook, tmp_path / "copy.xlsx")
    # an export without --overwrite finds the restored old package and refuses to mix
    result: Any = CliRunner().invoke(
        main, ["submit", str(workbook), "-o", str(folder), "--eml", str(tmp_path / "x.eml")]
    )
    assert result.exit_code == 2 and "已存在" in result.output
    assert manifest(folder) == first
    assert hidden(folder) == []


@pytest.mark.parametrize("next_run", ["errors", "unreadable", "usage"])
def test_any_next_submit_on_the_folder_restores_the_old_package(
    workbook: Path, tmp_path: Path, next_run: str
) -> None:
    """Issue 24: the next submit that names the folder restores it even when that run then refuses —
    the workbook now has error findings, cannot be read, or the options are wrong."""
    import openpyxl

    folder = export_package(workbook, tmp_path / "报送包").folder
    first = manifest(folder)
    kill_export(workbook, folder, "between")
    assert not folder.exists()
    changed = tmp_path / "改过.xlsx"
    if next_run == "errors":
        wb = openpyxl.load_workbook(workbook)
        wb["基本信息"]["B5"].value = None  # the department's name removed: an error finding
        wb.save(changed)
    elif next_run == "unreadable":
        changed.write_bytes(b"not a workbook")
    else:
        shutil.copy(workbook, changed)
    extra = ["--reason", "原因"] if next_run == "usage" else []  # --reason without --force
    result: Any = CliRunner().invoke(
        main,
        ["submit", str(changed), "-o", str(folder), "--overwrite", *extra, "--eml", str(tmp_path / "x.eml")],
    )
    assert result.exit_code != 0, result.output
    assert manifest(folder) == first, result.output
    assert hidden(folder) == []


def test_submit_naming_the_half_swapped_folder_restores_and_uses_it(workbook: Path, tmp_path: Path) -> None:
    folder = export_package(workbook, tmp_path / "报送包").folder
    first = manifest(folder)
    kill_export(workbook, folder, "between")
    assert not folder.exists()
    result: Any = CliRunner().invoke(main, ["submit", str(folder), "--eml", str(tmp_path / "草稿.eml")])
    assert result.exit_code == 0, result.output
    assert manifest(folder) == first and (tmp_path / "草稿.eml").is_file() and hidden(folder) == []
