"""``xlperf`` on the command line: the group, its shared options, logging, the one error handler,
and the registration of the commands, which live in :mod:`xlperf.commands` (one module per command
or related group).

Exit codes (docs/DESIGN.md, :mod:`xlperf.commands.common`): 0 success; 1 the workbook has error findings;
2 the input could not be read or the command was used wrongly. Heavy libraries (openpyxl, pandas,
python-docx, xlwings, starlette) are imported inside the commands that need them, so ``xlperf --help``
starts fast (tests/test_imports.py).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from xlperf import __version__
from xlperf.commands.common import EXIT_INPUT
from xlperf.commands.terminal import Context, echo_message, shown
from xlperf.paths import LogFile, data_dir

if TYPE_CHECKING:
    from xlperf.core.errors import XlperfError


def _setup_logging(verbose: bool) -> None:
    from loguru import logger

    logger.remove()
    # every log line's message through terminal.shown: file and department names in it are untrusted
    logger.configure(patcher=_shown_message)
    logger.add(sys.stderr, level="DEBUG" if verbose else "WARNING", format="<level>{message}</level>")
    try:
        log_dir = data_dir() / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        logger.add(
            LogFile(log_dir / "xlperf.log"), level="DEBUG", enqueue=False, backtrace=False, diagnose=False
        )
    except OSError:
        pass  # a read-only home must not stop the work; the terminal still gets the messages


def _shown_message(record: Any) -> None:
    record["message"] = shown(record["message"])


class XlperfGroup(click.Group):
    """Turns domain errors into one Chinese line and exit code 2 (traceback only with --debug)."""

    context_class = Context  # help texts measured and broken as a terminal shows Chinese

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # a command's options, or what the command found wrong in them
            _show_usage_error(exc)
            ctx.exit(exc.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except _xlperf_error() as exc:  # the one place a command's expected errors are shown
            if ctx.obj and ctx.obj.get("debug"):
                raise
            _log_exception(exc)
            echo_message(f"{exc.prefix}{exc}", fg="red")  # one line per line of the message
            if exc.command_hint:
                echo_message(exc.command_hint)
            if exc.note:
                echo_message(exc.note)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.secho("已中断；已经写出的文件都是完整的，未完成的输出没有留下。", fg="yellow", err=True)
            ctx.exit(130)
        except BrokenPipeError:  # the reader of the output went away (xlperf … | head): nothing to say
            import os

            devnull = os.open(os.devnull, os.O_WRONLY)  # Python's own advice: no second error at exit
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(0)
        except Exception as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            _log_exception(exc)
            click.secho(
                f"内部错误：{type(exc).__name__}: {shown(exc)}\n请加 --debug 重新运行查看详情，并把日志 "
                f"{data_dir() / 'logs' / 'xlperf.log'} 发给维护人员。输入文件未被改动。",
                fg="red",
                err=True,
            )
            ctx.exit(EXIT_INPUT)


def _show_usage_error(exc: click.UsageError) -> None:
    """click's own text for a usage error (its usage line, the --help hint, "错误：…"), each line wrapped
    at the terminal's width by :func:`echo_message` like every other message: click prints the error
    line whole, and a terminal then breaks it inside an option or a framework id."""
    import io

    text = io.StringIO()
    exc.show(file=text)
    echo_message(text.getvalue().rstrip("\n"))


def _xlperf_error() -> type[XlperfError]:
    """The base of the expected errors, imported only when an exception reaches the handler: it lives
    in the core package, whose import builds the models, and ``xlperf --help`` needs none of it."""
    from xlperf.core.errors import XlperfError

    return XlperfError


def _log_exception(exc: BaseException) -> None:
    from loguru import logger

    logger.opt(exception=exc).debug("command failed")


@click.group(
    cls=XlperfGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(__version__, "-V", "--version", message="xlperf %(version)s")
@click.option("--debug", is_flag=True, help="出错时显示完整的 Python 调用栈（向维护人员报告问题时使用）。")
@click.option("-v", "--verbose", is_flag=True, help="在终端显示详细日志。")
@click.pass_context
def main(ctx: click.Context, debug: bool, verbose: bool) -> None:
    """xlperf：部门整体支出绩效自评的校验、计分、报告与报送。

    \b
    常用：
      xlperf demo                 用内置示例（白云区科工商信局 2023）跑一遍全流程
      xlperf new -o 自评表.xlsx   生成空白的标准自评表
      xlperf run 自评表.xlsx      校验、计分，写出 评分汇总/校验结果/自评报告
      xlperf submit 自评表.xlsx   冻结、打包并发送到财政局

    退出码：0 成功；1 工作簿有错误类问题；2 文件无法读取或命令用法有误。
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    _setup_logging(verbose)


def _register() -> None:
    from xlperf.commands.addin import addin
    from xlperf.commands.batch import batch
    from xlperf.commands.demo import demo
    from xlperf.commands.frameworks import frameworks
    from xlperf.commands.intake import intake
    from xlperf.commands.new import example, new
    from xlperf.commands.run import check, report, run
    from xlperf.commands.serve import serve
    from xlperf.commands.submit import submit
    from xlperf.commands.upgrade import upgrade

    def every(command: click.Command) -> Any:
        yield command
        for sub in getattr(command, "commands", {}).values():
            yield from every(sub)

    for command in (
        new,
        example,
        check,
        run,
        report,
        upgrade,
        demo,
        frameworks,
        batch,
        intake,
        submit,
        addin,
        serve,
    ):
        main.add_command(command)
        for each in every(command):
            each.context_class = Context


_register()

if __name__ == "__main__":  # pragma: no cover
    main()
