"""click's own texts (usage, errors, the help option) in Chinese.

click marks its messages for gettext (``from gettext import gettext as _`` in each module) but
ships no translations, so a clerk would read "Error: Missing option '-o'" and "Show this message
and exit." :func:`install` points those modules' ``_``/``ngettext`` at the table below (an
untranslated message stays as click wrote it). Called once, before the commands are declared:
some texts (the help and version options) are taken when a decorator runs.
"""

from __future__ import annotations

ZH: dict[str, str] = {
    "Usage:": "用法:",
    "Options": "选项",
    "Commands": "命令",
    "Positional arguments": "参数",
    "Show this message and exit.": "显示本帮助并退出。",
    "Show the version and exit.": "显示版本号并退出。",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "运行 '{command} {option}' 查看用法。",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Missing command.": "缺少命令。",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "Did you mean {possibility}?": "是不是 {possibility}？",
    "(Did you mean one of: {possibilities}?)": "（是不是其中之一：{possibilities}？）",
    "Got unexpected extra argument ({args})": "多余的参数（{args}）",
    "Got unexpected extra arguments ({args})": "多余的参数（{args}）",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效：{message}",
    "Invalid value: {message}": "值无效：{message}",
    "Option {name!r} requires an argument.": "选项 {name!r} 后面需要一个值。",
    "Option {name!r} requires {nargs} arguments.": "选项 {name!r} 后面需要 {nargs} 个值。",
    "Option {name!r} does not take a value.": "选项 {name!r} 不带值。",
    "Argument {name!r} takes {nargs} values.": "参数 {name!r} 需要 {nargs} 个值。",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是文件夹，不是文件。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件，不是文件夹。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 无法读取。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 无法写入。",
    "{name} {filename!r} is not executable.": "{name} {filename!r} 不可执行。",
    "file": "文件",
    "directory": "文件夹",
    "path": "路径",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "{value!r} is not a valid boolean. "
    "Recognized values: {states}": "{value!r} 不是有效的是/否值，可用：{states}",
    "{value!r} is not one of {choices}.": "{value!r} 不在可选值 {choices} 中。",
    "{value!r} is not {choice}.": "{value!r} 不是 {choice}。",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内。",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "default: {default}": "默认：{default}",
    "required": "必填",
    "env var: {var}": "环境变量：{var}",
    "deprecated": "已弃用",
    "Aborted!": "已取消。",
    "Do you want to continue?": "是否继续？",
    "Confirm the action without prompting.": "不询问，直接确认。",
    "Error: invalid input": "错误：输入无效",
    "Error: The two entered values do not match.": "错误：两次输入不一致。",
    "Repeat for confirmation": "再输入一次以确认",
    "Press any key to continue...": "按任意键继续……",
}


def translate(message: str) -> str:
    return ZH.get(message, message)


def translate_n(singular: str, plural: str, n: int) -> str:
    return translate(singular if n == 1 else plural)


def install() -> None:
    """Give click's modules the Chinese table (idempotent)."""
    import click.core
    import click.decorators
    import click.exceptions
    import click.formatting
    import click.parser
    import click.termui
    import click.types

    for module in (
        click.core,
        click.decorators,
        click.exceptions,
        click.formatting,
        click.parser,
        click.termui,
        click.types,
    ):
        if hasattr(module, "_"):
            module._ = translate  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = translate_n  # type: ignore[attr-defined]
    # the number types name themselves in English ("is not a valid integer"), also as metavars
    click.types.IntParamType.name = "整数"
    click.types.FloatParamType.name = "数"
    # help columns are aligned by len(); a Chinese metavar is two columns a character
    click.formatting.term_len = _display_len


def _display_len(x: str) -> int:
    from click._compat import strip_ansi
    from rich.cells import cell_len

    return cell_len(strip_ansi(x))


__all__ = ["ZH", "install", "translate"]
