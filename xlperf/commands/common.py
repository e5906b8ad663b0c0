"""Options shared by several commands. Only click is imported here: ``xlperf --help`` stays fast."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from xlperf.ooxml.limits import Limits

if TYPE_CHECKING:
    from xlperf.core.framework import Framework
    from xlperf.core.project.framework import ProjectFramework

F = TypeVar("F", bound=Callable[..., Any])
_LIMITS = Limits()  # the defaults


def limits_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """The bounds on what xlperf opens; their defaults are :class:`xlperf.ooxml.limits.Limits`'s."""
    f = click.option(
        "--max-workbook-cells",
        type=click.IntRange(min=1),
        default=_LIMITS.max_workbook_cells,
        show_default=True,
        help="整个工作簿（各工作表合计，含合并单元格与超链接覆盖的单元格）允许的最多单元格数。",
    )(f)
    f = click.option(
        "--max-cells",
        type=int,
        default=_LIMITS.max_cells,
        show_default=True,
        help="单个工作表允许的最多单元格数（超过即拒绝打开）。",
    )(f)
    f = click.option(
        "--max-rows",
        type=int,
        default=_LIMITS.max_rows,
        show_default=True,
        help="单个工作表或表格允许的最多行数（超过即拒绝打开）。",
    )(f)
    f = click.option(
        "--max-expanded-mb",
        type=float,
        default=_LIMITS.max_expanded_mb,
        show_default=True,
        help="工作簿解压后的最大体积（MB），防止压缩炸弹。",
    )(f)
    f = click.option(
        "--max-file-mb",
        type=float,
        default=_LIMITS.max_file_mb,
        show_default=True,
        help="工作簿文件的最大体积（MB）。",
    )(f)
    return f


def guard_outputs(inputs: Any, outputs: Any) -> None:
    """Every command's output options go through :func:`xlperf.files.guard_outputs` (imported late)."""
    from xlperf.files import guard_outputs as guard

    guard(inputs, outputs)


def make_limits(
    max_file_mb: float,
    max_expanded_mb: float,
    max_rows: int,
    max_cells: int,
    max_workbook_cells: int = _LIMITS.max_workbook_cells,
) -> Limits:
    return Limits(
        max_file_mb=max_file_mb,
        max_expanded_mb=max_expanded_mb,
        max_rows=max_rows,
        max_cells=max_cells,
        max_workbook_cells=max_workbook_cells,
    )


def progress_bar(label: str) -> tuple[Any, Any]:
    """A progress bar on stderr (none when stderr is not a terminal), and its one task.

    Not auto-refreshed: no background thread, so batch's worker processes can fork safely. The
    caller sets the total as soon as it is known, so the bar never shows "0/?".
    """
    import sys

    if not sys.stderr.isatty():
        return None, None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    # descriptions are file and department names: plain text through terminal.shown, never markup
    progress = Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        auto_refresh=False,
        transient=True,
    )
    return progress, progress.add_task(label, total=None)


# Exit codes (docs/DESIGN.md): 0 success; 1 the workbook has error findings; 2 the input could not be read
# or the command was used wrongly. XlperfError subclasses carry theirs (xlperf.core.errors).
EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2


def framework_option(for_new: bool = False) -> Callable[[F], F]:
    """``--framework ID|FILE``, the same on every command that scores (default: the workbook's own
    rules); for ``new`` the default is the bundled default framework."""
    help_text = "评分框架：编号（见 xlperf frameworks）或框架 TOML 文件路径" + (
        "；默认为 xlperf 自带的默认框架。"
        if for_new
        else "；默认用工作簿内嵌的规则，指定后按指定的计分，不同处会列为提醒（F01）。"
    )
    return click.option("--framework", "framework_id", default=None, help=help_text)


def form_frameworks_option(what: str, scored: str) -> Callable[[F], F]:
    """``--framework ID|FILE`` on the commands that take many inputs of either form (``batch``,
    ``intake``): given at most once per form, each input scored by the one of its own form
    (:func:`bureau_frameworks`)."""
    return click.option(
        "--framework",
        "framework_ids",
        multiple=True,
        metavar="ID|FILE",
        help=f"{what}（编号或 TOML 文件）：{scored}按它计分，不按工作簿内嵌的规则。可给两次——"
        f"一个部门整体支出框架、一个项目支出框架，每份{scored}按其表类用对应的一个；"
        "只给一类时，另一类表按各自工作簿内嵌的规则计分。",
    )


def chosen_framework(value: str | None) -> Framework | None:
    """The framework ``--framework`` names (an id, or a file the user typed), or None."""
    from xlperf.catalog import from_option

    return from_option(value) if value else None


def chosen_any_framework(value: str | None) -> Framework | ProjectFramework | None:
    """``--framework`` for the commands that take either form: a project framework (``form =
    "project"``, bundled or the user's, or a file) or else a department one."""
    if not value:
        return None
    from xlperf.core.framework import FrameworkError
    from xlperf.project.catalog import from_option

    try:
        return from_option(value) or chosen_framework(value)
    except FrameworkError as exc:
        raise _unknown(value) or exc from exc


def bureau_frameworks(values: tuple[str, ...]) -> tuple[Any, ...]:
    """The bureau's rules from ``--framework`` (given once per form at most): a department and a
    project framework. The same rules twice are taken once; two different ones of one form are a
    usage error, since a workbook is scored by only one of them (intake, batch)."""
    from xlperf.core.evaluation import DEFAULT_FRAMEWORK
    from xlperf.core.project.framework import ProjectFramework

    chosen: dict[bool, tuple[str, Any]] = {}
    for value in values:
        fw = chosen_any_framework(value)
        assert fw is not None
        project = isinstance(fw, ProjectFramework)
        if project in chosen and chosen[project][1].sha256 != fw.sha256:  # the same rules twice: once
            form = "项目支出" if project else "部门整体支出"
            raise click.UsageError(
                f"--framework 给了两个{form}绩效自评的评分框架（{chosen[project][0]}、{value}），"
                f"而每份工作簿只能按一个框架计分；--framework 每类表只能给一个：一个部门整体支出框架、"
                f"一个项目支出框架（如 --framework {DEFAULT_FRAMEWORK} --framework national-project）"
            )
        chosen.setdefault(project, (value, fw))
    return tuple(fw for _, fw in chosen.values())


def _unknown(value: str) -> Exception | None:
    """An id neither catalog knows, said with the frameworks of both forms (the department catalog's
    own message lists only its own, while intake takes either form)."""
    from xlperf.catalog import find, is_id, known_ids
    from xlperf.core.framework import FrameworkError
    from xlperf.project.catalog import find as find_project
    from xlperf.project.catalog import known_ids as known_project_ids

    if path_option(value) is not None or not is_id(value):
        return None
    try:
        if find(value) is not None or find_project(value) is not None:
            return None
    except FrameworkError:  # a broken file of that id on this machine: its own message says so
        return None
    return FrameworkError(
        value[:80],
        [
            f"本机没有这个评分框架（部门整体支出：{known_ids()}；项目支出：{known_project_ids()}）；"
            "请用 xlperf frameworks 查看编号，或向财政局索取框架文件，用 xlperf frameworks add 文件.toml 添加"
        ],
    )


def path_option(value: str | None) -> Path | None:
    """An option that may name a file (``--framework``): the path when it looks like one."""
    return Path(value) if value and (value.endswith(".toml") or "/" in value or "\\" in value) else None


def refuse_overwrite(path: Path, force: bool) -> None:
    """A usage error when ``path`` exists and ``--force`` was not given (a filled-in workbook is
    not replaced)."""
    if path.exists() and not force:
        raise click.UsageError(f"{path} 已存在；为免覆盖已填写的内容，请换一个文件名，或加 --force 覆盖")
