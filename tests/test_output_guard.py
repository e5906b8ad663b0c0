"""No output option of any command may name an input file or another output (issue 12, case 4).

The same file reached through ``./``, ``dir/..``, a symbolic link, a hard link or another case is
still the same file. Real files, real links; only the case-insensitive file system is a stand-in
(``xlperf.files._case_insensitive`` forced on): none can be mounted on this Linux machine, while
on Windows and macOS it is the default.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from xlperf.cli import main
from xlperf.core.framework import get_framework
from xlperf.workbook.template import build_workbook, save_workbook

# (command, output option); submit needs a workbook without error findings to get as far as writing
CASES = [
    ("check", "--json"),
    ("run", "-o"),
    ("run", "--json"),
    ("run", "--docx"),
    ("report", "-o"),
    ("submit", "--eml"),
]
FORMS = ["same", "dot", "dotdot", "symlink", "hardlink", "case"]


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLPERF_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from test_submit import clean_evaluation

    ev = clean_evaluation()
    return save_workbook(
        build_workbook(get_framework(ev.framework), ev), tmp_path_factory.mktemp("wb") / "wb.xlsx"
    )


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def spell(form: str, wb: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Another way to name ``wb`` (cwd is its folder)."""
    if form == "same":
        return str(wb)
    if form == "dot":
        return f"./{wb.name}"
    if form == "dotdot":
        (wb.parent / "sub").mkdir()
        return f"sub/../{wb.name}"
    if form == "symlink":
        (wb.parent / "link.xlsx").symlink_to(wb)
        return "link.xlsx"
    if form == "hardlink":
        os.link(wb, wb.parent / "hard.xlsx")
        return "hard.xlsx"
    monkeypatch.setattr("xlperf.files._case_insensitive", lambda folder: True)
    return wb.name.upper()


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(("command", "option"), CASES)
def test_output_onto_the_input_is_refused(
    clean: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, option: str, form: str
) -> None:
    wb = tmp_path / "work" / "wb.xlsx"
    wb.parent.mkdir()
    shutil.copy(clean, wb)
    monkeypatch.chdir(wb.parent)
    before = sha(wb)
    target = spell(form, wb, monkeypatch)
    args: list[str] = [command, str(wb), option, target]
    if command == "run" and option != "-o":
        args += ["-o", "out.xlsx"]
    result: Any = CliRunner().invoke(main, args, env={"XLPERF_SUBMIT_TO": "czj@example.gov.cn"})
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "内部错误" not in result.output
    assert "就是输入文件" in result.output and option in result.output
    assert sha(wb) == before
    assert not (wb.parent / "out.xlsx").exists()  # refused before anything is written


def test_two_outputs_onto_one_file_are_refused(clean: Path, tmp_path: Path) -> None:
    result: Any = CliRunner().invoke(
        main,
        ["run", str(clean), "-o", str(tmp_path / "a.xlsx"), "--json", str(tmp_path / "x" / ".." / "a.xlsx")],
    )
    assert result.exit_code == 2 and "是同一个文件" in result.output and "--json" in result.output
    assert not (tmp_path / "a.xlsx").exists()


def test_a_framework_file_is_an_input_too(tmp_path: Path) -> None:
    fw = tmp_path / "fw.toml"
    fw.write_text("# 自定义框架\n", encoding="utf-8")
    result: Any = CliRunner().invoke(main, ["new", "--framework", str(fw), "-o", str(fw), "--force"])
    assert result.exit_code == 2 and "就是输入文件" in result.output
    assert fw.read_text(encoding="utf-8") == "# 自定义框架\n"


def test_different_files_pass(tmp_path: Path) -> None:
    from xlperf.files import guard_outputs, same_file

    a, b = tmp_path / "a.xlsx", tmp_path / "A.xlsx"
    a.write_bytes(b"a")
    assert not same_file(a, b)  # this Linux file system tells case apart
    assert not same_file(a, tmp_path / "new.xlsx")
    guard_outputs([a], [("-o", b), ("--json", tmp_path / "a.json"), ("--docx", None)])


def test_batch_summary_onto_an_input_is_refused(
    clean: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wb = tmp_path / "汇总.xlsx"
    shutil.copy(clean, wb)
    monkeypatch.chdir(tmp_path)
    result: Any = CliRunner().invoke(main, ["batch", "./汇总.xlsx", "-o", "."])
    assert result.exit_code == 2 and "就是输入文件" in result.output, result.output
    assert sha(wb) == sha(clean)
