"""The Excel side of xlperf: the ribbon entry point, handlers, worksheet functions and installer.

``xlperf.xlam``'s one VBA callback runs
``RunPython "import xlperf.excel; xlperf.excel.on_ribbon('<button id>')"``; :func:`on_ribbon`
dispatches through :data:`xlperf.excel.registry.BUTTONS` to :data:`xlperf.excel.handlers.HANDLERS`.
Importing this package is cheap: xlwings, openpyxl and the core are imported when a button runs.
"""

from __future__ import annotations

from typing import Any

from xlperf.excel.registry import NO_WORKBOOK_MESSAGE

__all__ = ["NO_WORKBOOK_MESSAGE", "on_ribbon"]

_LOG_READY = False


def _log_file() -> Any:
    from xlperf.paths import data_dir

    return data_dir() / "logs" / "xlperf-excel.log"


def _setup_logging() -> None:
    """Log to ``data_dir()/logs/xlperf-excel.log`` (once per Python process)."""
    global _LOG_READY
    if _LOG_READY:
        return
    from loguru import logger

    try:
        path = _log_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        logger.add(
            path,
            level="DEBUG",
            rotation="1 MB",
            retention=5,
            encoding="utf-8",
            backtrace=False,
            diagnose=False,
        )
    except OSError:
        pass  # a read-only profile must not stop the button; Excel still gets the message
    _LOG_READY = True


def _domain_errors() -> tuple[type[BaseException], ...]:
    """Errors whose message is already a complete Chinese sentence for the clerk."""
    from xlperf.core.errors import XlperfError

    return (XlperfError,)


def _alert(book: Any, prompt: str, title: str, mode: str = "info") -> None:
    """Excel's own message box (``App.alert``); on the remote engine it is a recorded action."""
    from loguru import logger

    from xlperf.excel.handlers import MAX_ALERT

    if len(prompt) > MAX_ALERT:
        prompt = prompt[:MAX_ALERT] + "\n……（内容较长，其余见“校验结果”工作表或日志）"
    try:
        book.app.alert(prompt, title=title, mode=mode)
    except Exception as exc:  # no Excel to talk to: the log keeps the message
        logger.opt(exception=exc).warning("could not show the message in Excel: {}", prompt)


def on_ribbon(button_id: str, book: Any = None, blank: bool = False) -> None:
    """Run the ribbon button ``button_id`` on ``book`` (default: ``xlwings.Book.caller()``).

    Never raises into Excel: a problem the clerk can fix is shown as its Chinese message, anything
    else as a short internal-error message naming the log file, which gets the traceback.

    ``blank=True`` comes from the VBA ``OnRibbon`` when no workbook was open: it added a blank
    workbook for xlwings' ``RunPython`` to run on, and only for a button with
    ``needs_workbook=False``. The button then runs as if no workbook were open (``book=None``) and the
    blank workbook is closed, unsaved, at the end.
    """
    if not blank:
        _run_button(button_id, book)
        return
    if book is None:
        try:
            import xlwings as xw

            book = xw.Book.caller()
        except Exception:
            book = None
    try:
        _run_button(button_id, book, no_workbook=True)
    finally:
        if book is not None:
            try:
                book.close()
            except Exception as exc:  # the clerk can close it by hand; nothing is lost
                from loguru import logger

                logger.opt(exception=exc).warning("could not close the blank workbook")


def _run_button(button_id: str, book: Any, no_workbook: bool = False) -> None:
    _setup_logging()
    from loguru import logger

    if book is None:
        try:
            import xlwings as xw

            book = xw.Book.caller()
        except Exception as exc:
            logger.opt(exception=exc).error("on_ribbon({!r}): no calling workbook", button_id)
            return
    from xlperf.excel.registry import button_by_id

    try:
        button = button_by_id(button_id)
    except KeyError:
        logger.error("on_ribbon: unknown button {!r}", button_id)
        _alert(
            book,
            f"未知的按钮“{button_id}”。加载项与 xlperf 的版本可能不一致：请运行 xlperf addin install "
            "重新安装加载项。",
            "xlperf",
            "critical",
        )
        return
    title = f"xlperf · {button.label}"
    try:
        from xlperf.excel.handlers import HANDLERS

        handler = HANDLERS[button.action]
        if no_workbook and button.needs_workbook:
            _alert(book, NO_WORKBOOK_MESSAGE, title, "info")
            return
        logger.info(
            "ribbon {} ({}) on {}",
            button.id,
            button.action,
            "no workbook" if no_workbook else getattr(book, "name", "?"),
        )
        outcome = handler(None if no_workbook else book)
    except Exception as exc:
        try:
            known = isinstance(exc, _domain_errors())
        except Exception:  # pragma: no cover - the imports above are part of xlperf
            known = False
        if known:
            logger.info("ribbon {}: {}", button.id, exc)
            _alert(book, str(exc), title, "critical")
        else:
            logger.opt(exception=exc).error("ribbon {} failed", button.id)
            _alert(
                book,
                f"“{button.label}”没有完成：程序内部错误（{type(exc).__name__}: {exc}）。\n"
                f"工作簿的填写内容没有被改动。请把日志文件 {_log_file()} 发给维护人员。",
                title,
                "critical",
            )
        return
    _alert(book, outcome.message, title, outcome.mode)
