"""Small frictions a clerk and a reviewer met (issue 25 §"Small frictions"), each fixed and tested:
output names of a corrected scored copy, the reading notes of typed rates, the punctuation of
messages, terminal text at 80 columns (never split inside an option, command, number or extension),
and how 汇总 keeps numbers apart from the text beside them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import ROOT
from test_clerk_input import _assess_edit, _cell, _on_cell, _text, example_book

from xlperf.cli import main
from xlperf.commands.terminal import cells, wrap
from xlperf.core.quantity import parse_quantity, parse_rate
from xlperf.pipeline import default_output, output_stem
from xlperf.workbook import layout as L

# ------------------------------------------------------------------------------ names of outputs


def test_a_corrected_scored_copy_is_never_scored_scored(tmp_path: Path) -> None:
    assert output_stem("部门.scored.xlsx") == output_stem("部门.xlsx") == "部门"
    assert output_stem("部门.scored-2.xlsx") == output_stem("部门.Scored.scored.xlsx") == "部门"
    assert default_output(tmp_path / "部门.xlsx").name == "部门.scored.xlsx"
    # the scored copy itself is the input: the other name, never .scored.scored and never itself
    assert default_output(tmp_path / "部门.scored.xlsx").name == "部门.scored-2.xlsx"
    assert default_output(tmp_path / "部门.scored-2.xlsx").name == "部门.scored.xlsx"
    first = tmp_path / "部门.xlsx"
    assert CliRunner().invoke(main, ["example", "-o", str(first)]).exit_code == 0
    assert CliRunner().invoke(main, ["run", str(first)]).exit_code in (0, 1)
    scored = tmp_path / "部门.scored.xlsx"
    result = CliRunner().invoke(main, ["run", str(scored)])
    assert result.exit_code in (0, 1), result.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["部门.scored-2.xlsx", "部门.scored.xlsx", "部门.xlsx"], names


def test_batch_names_a_scored_copy_s_outputs_after_the_workbook(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    assert CliRunner().invoke(main, ["example", "-o", str(folder / "白云.scored.xlsx")]).exit_code == 0
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["batch", str(folder), "-o", str(out), "-j", "1"]).exit_code in (0, 1)
    assert (out / "白云.scored.xlsx").exists() and (out / "白云.scorecard.json").exists()
    assert not list(out.glob("*.scored.scored.xlsx"))


# ------------------------------------------------------------------------------ messages


def test_a_correct_percent_is_no_news_and_a_reading_is_said_once() -> None:
    assert parse_rate("96.5%").note is None and parse_rate("９６．５％").note is None
    assert parse_quantity("96.50%").note is None
    assert parse_quantity("不少于 180 家").note == "已将“不少于 180 家”识别为 180家"
    assert parse_quantity("5%以上").note == "已将“5%以上”识别为 5%"
    shown_as_percent = parse_rate(Decimal("96"), percent_cell=True)  # a % cell showing 9600 %
    assert shown_as_percent.value == Decimal("96") and shown_as_percent.note is not None
    assert shown_as_percent.note.count("请核对") == 1


def test_no_message_asks_to_check_twice(tmp_path: Path) -> None:
    def typed(wb: openpyxl.Workbook) -> None:
        for month, value in ((5, "96.5%"), (6, 96)):
            cell = _cell(wb, L.SPENDING, "一般公共预算支出执行率", month)
            if isinstance(value, str):
                _text(cell, value)
            else:
                cell.value, cell.number_format = value, "0%"
        for i in range(12):
            if i not in (5, 6):
                _cell(wb, L.SPENDING, "一般公共预算支出执行率", i).value = 1
                _cell(wb, L.SPENDING, "一般公共预算支出执行率", i).number_format = "0%"

    result = _assess_edit(tmp_path, typed, "rates")
    wb = example_book()
    typed_cell = _cell(wb, L.SPENDING, "一般公共预算支出执行率", 5)
    assert _on_cell(result, typed_cell) == []  # "96.5%" typed as text is right: nothing to check
    assert all(f.message.count("请核对") <= 1 for f in result.findings), [f.message for f in result.findings]
    assert any(
        "请核对" in f.message for f in _on_cell(result, _cell(wb, L.SPENDING, "一般公共预算支出执行率", 6))
    )


def test_v06_is_punctuated(tmp_path: Path) -> None:
    def contradict(wb: openpyxl.Workbook) -> None:
        _cell(wb, L.MANAGEMENT, "应完成数", 11).value = 14
        _cell(wb, L.MANAGEMENT, "按时完成数", 11).value = 12
        _text(_cell(wb, L.MANAGEMENT, "子项1答复", 11), "是")

    result = _assess_edit(tmp_path, contradict, "v06")
    (v06,) = [f for f in result.findings if f.code == "V06" and "M12" in f.path]
    assert "12 / 应签订合同数 14，并非全部完成" in v06.message or re.search(r"\d，并非全部完成", v06.message)
    assert not re.search(r"\d并非", v06.message)


# ------------------------------------------------------------------------------ 80 columns

PROTECTED = re.compile(
    r"--[a-z][a-z-]*[a-z]|xlperf|submit|\.xlsx|\.xls\b|\.docx|\.json|\.eml|[-−]?\d+(?:\.\d+)?%|"
    r"XLPERF_[A-Z_]+|kgs@example\.cn|“[^”]{1,12}”"
)
SAMPLES = [
    "请运行 xlperf submit --retry 重发；或加 --resend-uncertain（财政局核实后），见 XLPERF_SMTP_HOST。",
    "旧格式.xls 是旧版 .xls 格式（Excel 97-2003 工作簿），xlperf 只读 .xlsx；请另存为 .xlsx 后再试",
    "公用经费控制率为-16.56%，“三公”经费执行率为58.87%，发件人 kgs@example.cn，强制报送加 --force --reason",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_wrap_never_splits_an_option_command_number_or_extension(text: str) -> None:
    wanted = PROTECTED.findall(text)
    for width in range(24, 81):
        lines = wrap(text, width)
        assert all(cells(line) <= width for line in lines), (width, lines)
        found = [m for line in lines for m in PROTECTED.findall(line)]
        assert found == wanted, (width, lines)


def _help(*args: str) -> str:
    env = {**os.environ, "COLUMNS": "80", "LINES": "40"}
    done = subprocess.run(
        [sys.executable, "-m", "xlperf.cli", *args, "--help"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(
    "command",
    ["", "submit", "batch", "run", "intake", "serve", "new", "frameworks", "addin", "check", "report"],
)
def test_help_fits_80_columns_and_keeps_options_whole(command: str) -> None:
    """Every line of every help text fits 80 columns as the terminal counts Chinese, and every option
    name in it is one of the command's own (none cut to "--reaso" / "n")."""
    text = _help(*command.split())
    options = set(re.findall(r"--[a-z][a-z-]*", _help("submit") + _help("batch") + _help("intake") + text))
    for line in text.splitlines():
        assert cells(line) <= 80, line
        for option in re.findall(r"(?<![\w-])--[a-z][a-z-]*", line):
            assert option in options, (option, line)
        assert not re.search(r"\.xl$|\.xls$|--$|xlperf\s+s$", line), line
    for first, second in zip(text.splitlines(), text.splitlines()[1:], strict=False):
        joined = first.rstrip() + second.strip()
        # a line never ends inside an ASCII word that the next line goes on with
        if re.search(r"[A-Za-z0-9_.-]$", first.rstrip()) and re.match(r"[a-z0-9_.-]", second.strip()):
            assert " " in first, (first, second)
            broken = re.search(r"([A-Za-z0-9_.-]+)$", first.rstrip())
            assert broken and joined.count(broken.group(1)) >= 1


# ------------------------------------------------------------------------------ 汇总


def test_summary_centres_short_columns_so_a_rank_never_runs_into_its_rating(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    assert CliRunner().invoke(main, ["example", "-o", str(folder / "a.xlsx")]).exit_code == 0
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["batch", str(folder), "-o", str(out), "-j", "1"]).exit_code in (0, 1)
    wb = openpyxl.load_workbook(out / "汇总.xlsx")
    for sheet in ("汇总", "排名"):
        ws = wb[sheet]
        heads = [c.value for c in ws[1]]
        for name in ("排名", "等级", "错误数", "提醒数"):
            cell = ws.cell(2, heads.index(name) + 1)
            assert cell.alignment.horizontal == "center", (sheet, name)
        # "1优": the rank was right-aligned against the left-aligned rating beside it
        rank, rating = heads.index("排名"), heads.index("等级")
        if abs(rank - rating) == 1:
            assert ws.cell(2, rank + 1).alignment.horizontal == "center"
