"""What the commands print: the score card and findings as tables, paragraphs wrapped to the terminal.

rich is imported inside the functions, so a command that prints nothing does not load it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from xlperf.core.project.result import ProjectResult
    from xlperf.core.result import Result


#: what never reaches the terminal as itself: C0/C1 controls (ESC, CR, LF, BEL, DEL …), format characters
#: (bidi overrides U+202E, zero-width), line and paragraph separators, surrogates
_HIDDEN = ("Cc", "Cf", "Zl", "Zp", "Cs")


def shown(value: object) -> str:
    """Untrusted text — department names, file names, mail fields, reasons quoting them — as the terminal
    shows it: every control, escape, format or separator character as a visible escape (``\\x1b``,
    ``\\r``, ``\\n``, ``\\u202e``), so nothing from a workbook or a mail can move the cursor, set the
    window title, switch screens or reorder a line. The one such function: every table, progress bar,
    printed line and log line (:func:`xlperf.cli._setup_logging`) that carries such text uses it. Give
    the result to rich as ``Text`` (or a column without markup), never as markup."""
    import unicodedata

    text = str(value)
    if text.isprintable():
        return text
    out = []
    for c in text:
        if c == " " or unicodedata.category(c) not in _HIDDEN:
            out.append(c)
        elif c in "\r\n\t":
            out.append({"\r": "\\r", "\n": "\\n", "\t": "\\t"}[c])
        elif ord(c) < 0x100:
            out.append(f"\\x{ord(c):02x}")
        elif ord(c) < 0x10000:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(f"\\U{ord(c):08x}")
    return "".join(out)


def print_scorecard(result: Result | ProjectResult) -> None:
    """The score card as terminal tables."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from xlperf.core.project.result import ProjectResult

    if isinstance(result, ProjectResult):
        from xlperf.commands.project_view import print_project_scorecard

        print_project_scorecard(result)
        return
    console = Console()
    dep = result.evaluation.department
    title = Text(f"{shown(dep.name or '（未填写部门）')} {shown(dep.year or '')} 年度 部门整体支出绩效自评")
    table = Table(title=title, show_lines=False)
    table.add_column("指标")
    table.add_column("分值", justify="right")
    table.add_column("得分", justify="right")
    for sec in result.sections:
        table.add_row(f"[bold]{sec.name}[/bold]", f"{sec.full}", f"[bold]{sec.score:.2f}[/bold]")
        for ind in sec.indicators:
            if ind.spec.kind.subtotal:
                table.add_row(f"  {ind.spec.label}", f"{ind.full}", f"{ind.score:.2f}")
    table.add_row(
        "[bold]总分[/bold]",
        f"{result.framework.total}",
        f"[bold]{result.total:.2f}（{result.rating}）[/bold]",
    )
    console.print(table)
    ratios = Table(title="计算比率")
    ratios.add_column("比率")
    ratios.add_column("数值", justify="right")
    for key, spec in result.framework.ratios.items():
        value = result.ratios.get(key)
        ratios.add_row(spec.name, "无法计算" if value is None else f"{value:.2f}%")
    console.print(ratios)


def print_findings(
    result: Result | ProjectResult,
    limit: int | None = None,
    source: Path | None = None,
    more: str | None = None,
) -> None:
    """The findings as a table that fits the terminal: 说明 wrapped by :func:`wrap` (never inside a
    number or a quoted term) and without the place already shown in 位置. With ``limit`` only
    the first ones, then a line saying how many there are and ``more``, the command listing all."""
    from rich.cells import cell_len
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from xlperf.core.findings import detail

    console = Console()
    findings = list(result.findings)
    if not findings:
        console.print(
            Text(
                f"{shown(source.name) + ' ' if source is not None else ''}校验通过：没有错误和提醒。",
                style="green",
            )
        )
        return
    named = f"{shown(source.name)} " if source is not None else ""
    listed = findings if limit is None else findings[:limit]
    title = f"{named}校验结果：错误 {len(result.errors)} 条，提醒 {len(result.warnings)} 条"
    if len(listed) < len(findings):
        title += f"（前 {len(listed)} 条）"
    table = Table(title=Text(title), title_justify="left")
    code_w = max(4, *(cell_len(f.code) for f in listed))
    where_w = min(max(max(cell_len(shown(f.where)) for f in listed), 4), 24)
    # rich's box: a border before every column and after the last, one space either side of each cell
    text_w = max(console.width - (5 + 2 * 4) - 4 - code_w - where_w, 16)
    table.add_column("级别", width=4, no_wrap=True)
    table.add_column("代码", width=code_w, no_wrap=True)
    table.add_column("位置", width=where_w, overflow="fold")
    table.add_column("说明", width=text_w, overflow="fold")
    for f in listed:
        level = "[red]错误[/red]" if f.is_error else "[yellow]提醒[/yellow]"
        table.add_row(
            level, Text(shown(f.code)), Text(shown(f.where)), Text("\n".join(wrap(shown(detail(f)), text_w)))
        )
    console.print(table)
    if len(listed) < len(findings):
        rest = f"另有 {len(findings) - len(listed)} 条"
        echo_wrapped(
            f"{rest}；列出全部：{more}" if more else f"{rest}，见输出工作簿的“校验结果”表或 --json。"
        )


# a file name; a “quoted term”; a number with its sign, thousands separators, decimals and percent
# sign; a Latin word or cell address; blanks; any other single character (CJK breaks between any two)
_INNER = r"[-−+]?\d[\d,]*(?:\.\d+)?%?|[A-Za-z_][\w.!:/-]*|\s+|."
_FILE = r"[^\s、，。；：“”（）]+\.(?:xlsx|xlsm|json|docx|csv|pdf)\b"  # a file name or path, whole
_TOKEN = re.compile(_FILE + r"|“[^“”]*”|" + _INNER, re.S)
_INNER_TOKEN = re.compile(_INNER, re.S)
_NO_LINE_START = set("，。、；：？！）》」』】”’%…·—～")
_NO_LINE_END = set("（《「『【“‘")


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` terminal columns, broken between CJK characters or at
    blanks, never inside a number (``150.00%``, ``-16.56%``), a quoted term (``“三线”整治``
    stays whole when it fits a line) or a word, and without a line starting with closing punctuation."""
    from rich.cells import cell_len

    tokens: list[str] = []
    for token in _TOKEN.findall(text):  # a quoted term longer than a line is broken like plain text
        tokens += _INNER_TOKEN.findall(token) if cell_len(token) > width else [token]
    units: list[str] = []
    for token in tokens:
        if units and (token[0] in _NO_LINE_START or units[-1][-1] in _NO_LINE_END):
            units[-1] += token
        else:
            units.append(token)
    lines: list[str] = []
    line = ""
    for unit in units:
        if cell_len(line + unit) <= width or not line.strip():
            line = (line + unit) if line.strip() else unit.lstrip()
        else:
            lines.append(line.rstrip())
            line = unit.lstrip()
        while cell_len(line) > width:  # a unit longer than a whole line: cut it where it must
            cut = width
            while cell_len(line[:cut]) > width:
                cut -= 1
            while cut > 1 and line[cut] in _NO_LINE_START:  # a closing mark stays with what it closes
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


def echo_wrapped(text: str, prefix: str = "", err: bool = False) -> None:
    """One paragraph to the terminal (through :func:`shown`), wrapped by :func:`wrap` at the terminal's
    width; with ``prefix`` (a list mark such as "  3. ") its continuation lines are indented under the text."""
    from rich.cells import cell_len
    from rich.console import Console

    indent = cell_len(prefix)
    lines = wrap(shown(text), max(20, Console().width - indent))
    click.echo(
        "\n".join((prefix if i == 0 else " " * indent) + line for i, line in enumerate(lines)), err=err
    )
