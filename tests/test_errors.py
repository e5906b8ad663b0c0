"""One error base (issue 13): every error xlperf shows a clerk is an XlperfError with its exit code,
and the command line shows it through one handler."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from click.testing import CliRunner

import xlperf
from xlperf.cli import main
from xlperf.core.errors import XlperfError

#: exceptions that never reach a clerk as such: caught and turned into something else where raised
INTERNAL = {"_HookFailed", "UdfInputError", "Unsupported"}


def _modules() -> list[object]:
    out = []
    for info in pkgutil.walk_packages(xlperf.__path__, "xlperf."):
        if info.name.startswith("xlperf.excel.vba") or info.name.endswith("__main__"):
            continue
        out.append(importlib.import_module(info.name))
    return out


def test_every_xlperf_exception_has_the_one_base() -> None:
    stray = sorted(
        f"{mod.__name__}.{name}"  # type: ignore[attr-defined]
        for mod in _modules()
        for name, cls in inspect.getmembers(mod, inspect.isclass)
        if issubclass(cls, Exception)
        and cls.__module__ == mod.__name__  # type: ignore[attr-defined]
        and not issubclass(cls, XlperfError)
        and name not in INTERNAL
    )
    assert stray == []


def test_the_command_line_shows_an_xlperf_error_as_one_chinese_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "没有这个文件.xlsx"
    result = CliRunner().invoke(main, ["check", str(missing)])
    assert result.exit_code == 2
    assert result.stderr.startswith("错误：") and "没有这个文件.xlsx" in result.stderr
    assert "Traceback" not in result.output + result.stderr and "内部错误" not in result.stderr
