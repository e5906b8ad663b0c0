"""What xlperf prints to an 80-column terminal: nothing split inside a number or a quoted term,
the demo's score table before a few findings, click's own texts in Chinese, batch progress totals."""

from __future__ import annotations

import itertools
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT
from rich.cells import cell_len

from xlperf.cli import main
from xlperf.commands.demo import DEMO_FINDINGS
from xlperf.commands.terminal import wrap

NUMBER_END = re.compile(r"[-−+]?\d[\d,]*\.?$|[-−+.]$")  # a line (or cell) ending in a number or a sign
NUMBER_START = re.compile(r"^(\d|%|\.\d)")  # … continued on the next line


def run_cli(*args: str, cwd: Path, columns: int = 80) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns), "LINES": "40", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "xlperf.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def cells_by_line(text: str) -> list[list[str]]:
    """Each output line as its table cells (a line outside a table is one cell)."""
    out = []
    for line in text.splitlines():
        if line.startswith("│"):
            out.append([c.strip() for c in line.strip("│").split("│")])
        else:
            out.append([line.strip()])
    return out


def splits(text: str) -> list[tuple[str, str]]:
    """(end, start) pairs where a number, or a number and its %, continues on the next line."""
    found = []
    rows = cells_by_line(text)
    for above, below in itertools.pairwise(rows):
        # a table row goes on when the next line's first cell is empty; plain lines run on
        if len(above) != len(below) or (len(below) > 1 and below[0]):
            continue
        for a, b in zip(above, below, strict=True):
            if a and b and NUMBER_END.search(a) and NUMBER_START.search(b):
                found.append((a, b))
    return found


def test_wrap_keeps_numbers_percent_signs_and_quoted_terms_whole() -> None:
    text = (
        "“开展主题促消费活动场次”完成率 150.00%，在 150% 以上，请填写“完成率在150%以上的原因”"
        "（如目标设置偏低）"
    )
    for width in range(12, 60):
        lines = wrap(text, width)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")  # nothing lost
        assert all(cell_len(line) <= width for line in lines), (width, lines)
        for a, b in itertools.pairwise(lines):
            assert not (NUMBER_END.search(a) and NUMBER_START.search(b)), (width, a, b)
            assert not b.startswith(("，", "。", "）", "”", "%")), (width, b)  # no closing mark opens a line
        if width >= cell_len("“完成率在150%以上的原因”（"):
            assert any("“完成率在150%以上的原因”" in line for line in lines), (width, lines)
    assert wrap("公用经费控制率 -16.56%，", 14) == ["公用经费控制率", "-16.56%，"]
    assert wrap("已写出：白云区科工商信局_2023.scored.xlsx、自评报告.docx", 40) == [
        "已写出：",
        "白云区科工商信局_2023.scored.xlsx、",
        "自评报告.docx",
    ]  # file names whole


def test_wrap_keeps_a_hash_that_starts_with_a_digit_whole() -> None:
    """A framework's hash (校验值 0e37eee3) is one token: it was split after its first digit."""
    for width in range(12, 30):
        lines = wrap("评分框架：广州（guangzhou-2023，校验值 0e37eee3）与清单不同", width)
        assert any("0e37eee3" in line for line in lines), (width, lines)
    assert any("-1,234.50" in line for line in wrap("金额 -1,234.50 万元", 12))  # numbers as before


def test_demo_at_80_columns_shows_the_table_then_a_few_findings(tmp_path: Path) -> None:
    done = run_cli("demo", "-o", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    lines = out.splitlines()
    assert max(cell_len(line) for line in lines) <= 80, [line for line in lines if cell_len(line) > 80]
    assert len(lines) <= 40, f"{len(lines)} lines: the score table scrolls off a 40-row terminal"
    assert splits(out) == []
    total = next(i for i, line in enumerate(lines) if "总分" in line)
    findings = next(i for i, line in enumerate(lines) if "校验结果：错误 4 条，提醒 3 条" in line)
    assert total < findings
    rows = [line for line in lines if line.startswith("│") and ("错误" in line or "提醒" in line)]
    assert len(rows) == DEMO_FINDINGS
    assert f"另有 {7 - DEMO_FINDINGS} 条；列出全部：xlperf check out" in out  # the command listing all
    # 说明 does not repeat the place 位置 shows (the address, or a "第22行" that reads like a sheet row)
    assert not re.search(r"第\d+行“", out)
    for line in rows:
        where, text = [c.strip() for c in line.strip("│").split("│")][2:4]
        assert "!" in where and where not in text and where.split("!")[1] not in text, line


def test_check_at_80_columns_splits_no_number(tmp_path: Path) -> None:
    example = ROOT / "workbook_templates" / "examples" / "白云区科工商信局_2023.xlsx"
    done = run_cli("check", str(example), cwd=tmp_path)
    assert done.returncode == 1, done.stderr  # the example has error findings
    lines = done.stdout.splitlines()
    assert max(cell_len(line) for line in lines) <= 80
    assert splits(done.stdout) == []
    assert sum(1 for line in lines if line.startswith("│") and re.search(r"│ (错误|提醒) │", line)) == 7
    narrow = run_cli("check", str(example), cwd=tmp_path, columns=60)
    assert splits(narrow.stdout) == [] and max(cell_len(line) for line in narrow.stdout.splitlines()) <= 60


def test_the_splits_check_can_fail() -> None:
    """The detector finds the breaks rich made before (a control for the two tests above)."""
    broken = "│ 错误 │ 完成率 150.00%，在 150 │\n│      │ % 以上，请填写     │\n"
    assert splits(broken) == [("完成率 150.00%，在 150", "% 以上，请填写")]
    assert splits("公用经费控制率为 -\n16.56%") == [("公用经费控制率为 -", "16.56%")]
    table = "│ 履职效能 │ 50 │\n│ 管理效率 │ 50 │\n"  # two rows of a column, not a split
    assert splits(table) == []


def test_click_usage_and_errors_are_chinese() -> None:
    runner = CliRunner()
    missing = runner.invoke(main, ["report", "x.xlsx"])
    assert missing.exit_code == 2
    assert "错误：缺少选项 '-o' / '--output'" in missing.output and "Missing" not in missing.output
    assert "用法:" in missing.output and "查看用法" in missing.output
    helped = runner.invoke(main, ["report", "-h"])
    assert "显示本帮助并退出。" in helped.output and "Show this message" not in helped.output
    assert "选项:" in helped.output and "[必填]" in helped.output
    # options stay aligned although a Chinese metavar is two columns a character
    starts = set()
    for line in helped.output.splitlines():
        m = re.match(r"  -\S.*?\s{2,}(\S)", line)
        if m:
            starts.add(cell_len(line[: m.start(1)]))
    assert len(starts) == 1, helped.output
    bad = runner.invoke(main, ["check", "--max-rows", "abc", "x.xlsx"])
    assert "不是有效的整数" in bad.output
    assert "没有命令 'nosuch'" in runner.invoke(main, ["nosuch"]).output


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_batch_progress_shows_its_total_before_the_first_file_is_done(tmp_path: Path) -> None:
    """The bar said 0/? until a file finished: the total is known as soon as the inputs are found."""
    example = ROOT / "workbook_templates" / "examples" / "白云区科工商信局_2023.xlsx"
    for i in range(3):
        (tmp_path / f"d{i}.xlsx").write_bytes(example.read_bytes())
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "80", "TERM": "xterm-256color"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "xlperf.cli",
            "batch",
            str(tmp_path),
            "-o",
            str(tmp_path / "out"),
            "--jobs",
            "1",
        ],
        stdin=slave,
        stdout=subprocess.DEVNULL,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        elif proc.poll() is not None:
            break
    proc.wait(timeout=60)
    os.close(master)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", seen.decode("utf-8", "replace"))
    assert "0/3" in text, text[-2000:]
    assert "/?" not in text


# ------------------------------------------------------------------------------ untrusted text (issue 24)

HOSTILE = "坏\x1b]0;owned\x07\x1b[?1049h\r\n\u202e[/red]"


def test_shown_makes_every_control_and_escape_visible() -> None:
    from xlperf.commands.terminal import shown

    assert shown(HOSTILE) == "坏\\x1b]0;owned\\x07\\x1b[?1049h\\r\\n\\u202e[/red]"
    assert shown("\x9b2J\x7f\u2028\U000e0041") == "\\x9b2J\\x7f\\u2028\\U000e0041"  # C1 CSI, DEL, LS, tag
    assert shown("广州市白云区　科工商信局 (2023) 98.57%") == "广州市白云区　科工商信局 (2023) 98.57%"


def pty_run(args: list[str], cwd: Path) -> str:
    """Everything a command writes to a real terminal (stdout and stderr on a pty)."""
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "80", "LINES": "40", "TERM": "xterm-256color"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "xlperf.cli", *args], cwd=cwd, stdin=slave, stdout=slave, stderr=slave, env=env
    )
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        elif proc.poll() is not None:
            break
    proc.wait(timeout=60)
    os.close(master)
    return seen.decode("utf-8", "replace")


def test_file_names_reach_the_terminal_only_as_visible_escapes(tmp_path: Path) -> None:
    """batch on a terminal: the progress bar, the table and the 汇总 line name a file whose name sets the
    window title, switches to the alternate screen and carries rich markup — none of it acts."""
    example = ROOT / "workbook_templates" / "examples" / "白云区科工商信局_2023.xlsx"
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "好.xlsx").write_bytes(example.read_bytes())
    (tmp_path / "in" / f"{HOSTILE.replace('/', '')}.xlsx").write_bytes(b"not a workbook")  # "/" separates
    text = pty_run(["batch", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--jobs", "1"], tmp_path)
    assert "\x1b]0;owned" not in text and "\x1b[?1049h" not in text and "\u202e" not in text, text[-1500:]
    assert "\\x1b]0;owned\\x07" in text and "内部错误" not in text and "Traceback" not in text


def test_log_lines_show_untrusted_text_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    from loguru import logger

    from xlperf.cli import _setup_logging

    _setup_logging(False)
    logger.warning("file {}", HOSTILE)
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\x1b]0;owned\\x07" in err
    logger.remove()


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_a_usage_error_is_wrapped_at_the_terminal_width_like_every_message(tmp_path: Path) -> None:
    """click printed its usage errors whole, so a terminal broke "sichua|n-example" and "nati|onal-project"
    (issue 25's leftover, visible once batch and intake refuse two frameworks of one form)."""
    framework = ["--framework", "guangzhou-2023", "--framework", "sichuan-example"]
    text = pty_run(
        ["batch", str(tmp_path), "-o", str(tmp_path / "out"), *framework],
        cwd=tmp_path,
    )
    lines = [x for x in re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).replace("\r", "").split("\n") if x]
    assert any(line.startswith("用法:") for line in lines), lines  # click's own usage line and hint stay
    assert any("错误：--framework 给了两个部门整体支出" in line for line in lines), lines
    assert max(cell_len(line) for line in lines) <= 80, lines
    for token in ("sichuan-example", "guangzhou-2023", "national-project"):
        assert any(token in line for line in lines), (token, lines)  # never split inside an id
