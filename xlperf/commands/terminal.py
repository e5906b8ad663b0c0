"""What the commands print: the score card and findings as tables, paragraphs wrapped to the terminal.

rich is imported inside the functions, so a command that prints nothing does not load it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


# Tokens a line is never broken inside: a file name or path with its extension; a “quoted term” or
# "quoted text"; a short [bracket] (click's "[默认：300]"); an option (--reason, -o); a number with its sign,
# thousands separators, decimals and
# percent sign; an extension (.xlsx); a Latin word, command, address, cell or variable (xlperf,
# kgs@example.cn, XLPERF_SMTP_HOST, 产出指标!J9's J9); blanks; any other single character (CJK
# breaks between any two). ASCII classes only: a Latin word never swallows the Chinese after it.
_WORD = r"[A-Za-z0-9_][A-Za-z0-9_.!:/@%+*#~-]*"
_INNER = (
    r"--?[A-Za-z][A-Za-z0-9_-]*(?:=[^\s，。；、]*)?"
    r"|[-−+]?\d[\d,]*(?:\.\d+)?%?(?![A-Za-z_])"  # not the start of a hash or id (0e37eee3: a word)
    r"|\.[A-Za-z]{2,5}(?![A-Za-z0-9])"
    rf"|{_WORD}|\s+|."
)
_FILE = r"[^\s、，。；：“”（）\"]+\.(?:xlsx|xlsm|xls|json|docx|csv|pdf|eml|zip|toml|et|ods|xlam)\b"
_TOKEN = re.compile(_FILE + r'|“[^“”]*”|"[^"\n]*"|\[[^\[\]\n]{1,24}\]|' + _INNER, re.S)
_INNER_TOKEN = re.compile(_INNER, re.S)
_NO_LINE_START = set("，。、；：？！）》」』】”’%…·—～")
_NO_LINE_END = set("（《「『【“‘")


def cells(text: str) -> int:
    """Terminal columns of ``text``: two for a wide (CJK) character, one otherwise (as rich counts)."""
    import unicodedata

    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def terminal_width(default: int = 80) -> int:
    """The terminal's columns (``COLUMNS`` wins; 80 when not a terminal)."""
    import shutil

    return shutil.get_terminal_size((default, 24)).columns


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` terminal columns, broken between CJK characters or at
    blanks — never inside a number (``150.00%``, ``-16.56%``), an option (``--reason``), a word or
    command (``submit``), an extension (``.xlsx``), a file name or an address; a quoted term
    (``“三线”整治``) stays whole when it fits a line; no line starts with closing punctuation."""
    tokens: list[str] = []
    for token in _TOKEN.findall(text):  # a quoted term longer than a line is broken like plain text
        tokens += _INNER_TOKEN.findall(token) if cells(token) > width else [token]
    units: list[str] = []
    for token in tokens:
        if units and (token[0] in _NO_LINE_START or units[-1][-1] in _NO_LINE_END):
            units[-1] += token
        else:
            units.append(token)
    lines: list[str] = []
    line = ""
    for unit in units:
        if cells(line + unit) <= width or not line.strip():
            line = (line + unit) if line.strip() else unit.lstrip()
        else:
            lines.append(line.rstrip())
            line = unit.lstrip()
        while cells(line) > width:  # a unit longer than a whole line: cut it where it must
            cut = width
            while cells(line[:cut]) > width:
                cut -= 1
            while cut > 1 and line[cut] in _NO_LINE_START:  # a closing mark stays with what it closes
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


def join_lines(lines: list[str]) -> str:
    """Lines of one paragraph as one text: a blank between two Latin characters, none in Chinese."""
    out = ""
    for line in (x.strip() for x in lines):
        if out and line and out[-1].isascii() and line[0].isascii():
            out += " "
        out += line
    return out


def hanging(line: str, width: int) -> list[str]:
    """A line of a help text's block (``\b``) that does not fit: wrapped under its own text — for a
    "term   description" line, under the description."""
    lead = len(line) - len(line.lstrip(" "))
    term = re.match(r"( *\S.*?\S {2,})(?=\S)", line)  # "xlperf demo    用内置示例…"
    marker = re.match(r" *(?:\d+[.、]|[-•*]) *", line)  # "  1. 校验计分；…"
    if term and cells(term.group(1)) <= width // 2:
        head = term.group(1)
    elif marker:
        head = marker.group(0)
    else:  # prose: its next lines under its first
        head = line[:lead]
    indent = cells(head)
    body = line[len(head) :]
    first, *rest = wrap(body, max(width - cells(head), 10))
    more = wrap(join_lines(rest), max(width - indent, 10)) if rest else []
    return [head + first, *(" " * indent + x for x in more)]


class HelpFormatter(click.HelpFormatter):
    """click's help formatter measuring Chinese as two columns and breaking lines with :func:`wrap`,
    so that a help text fits an 80-column terminal and no option, command, number or extension is
    split (click counts a Chinese character as one column and splits long words anywhere)."""

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        width = max(self.width - self.current_indent, 20)
        for i, block in enumerate(re.split(r"\n\s*\n", text.strip("\n"))):
            if i:
                self.write("\n")
            lines = block.splitlines()
            if lines and lines[0].strip() == "\b":
                for line in lines[1:]:
                    fitted = [line] if cells(line) <= width else hanging(line, width)
                    self.write("".join(f"{indent}{x}\n" for x in fitted))
            else:
                self.write("".join(f"{indent}{x}\n" for x in wrap(join_lines(lines), width)))

    def write_dl(self, rows: Any, col_max: int = 30, col_spacing: int = 2) -> None:
        rows = list(rows)
        first_col = min(max((cells(r[0]) for r in rows), default=0), col_max) + col_spacing
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if cells(first) <= first_col - col_spacing:
                self.write(" " * (first_col - cells(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            text_width = max(self.width - first_col - self.current_indent, 10)
            lines = wrap(join_lines(second.splitlines()), text_width)
            pad = " " * (first_col + self.current_indent)
            self.write(lines[0] + "\n" + "".join(f"{pad}{x}\n" for x in lines[1:]))


class Context(click.Context):
    formatter_class = HelpFormatter


def echo_wrapped(text: str, prefix: str = "", err: bool = False, fg: str | None = None) -> None:
    """One paragraph to the terminal (through :func:`shown`), wrapped by :func:`wrap` at the terminal's
    width; with ``prefix`` (a list mark such as "  3. ") its continuation lines are indented under
    the text."""
    indent = cells(prefix)
    lines = wrap(shown(text), max(20, terminal_width() - indent))
    click.secho(
        "\n".join((prefix if i == 0 else " " * indent) + line for i, line in enumerate(lines)), err=err, fg=fg
    )


def echo_message(text: str, err: bool = True, fg: str | None = None) -> None:
    """A message of one or more lines (an error with its list of findings): each line through
    :func:`shown`; wrapped by :func:`wrap` under its own indent when it goes to a terminal (never split
    inside an option, a file name or a number), kept whole when it goes to a file or a pipe."""
    import sys

    stream = sys.stderr if err else sys.stdout
    tty = bool(getattr(stream, "isatty", lambda: False)())
    for line in str(text).split("\n"):
        if tty:
            body = line.lstrip(" ")
            echo_wrapped(body, prefix=line[: len(line) - len(body)], err=err, fg=fg)
        else:
            click.secho(shown(line), err=err, fg=fg)
