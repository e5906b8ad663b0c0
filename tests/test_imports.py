"""Start-up loads only what the command uses (issue 17): each command imports its libraries inside.

Every probe is a fresh interpreter (``sys.modules`` of this test process holds everything), which
lists the modules loaded when the command has finished. ``xlperf report`` loading python-docx is the
control that the probe sees a command's late imports at all.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from xlperf.core.framework import get_framework
from xlperf.examples import example_evaluation
from xlperf.workbook.template import build_workbook, save_workbook

#: what no command but the ones that need them may load
HEAVY = ("pandas", "starlette", "uvicorn", "jinja2", "docx", "xlwings")
#: what the group, --help and usage errors do not need: the models, the workbook library, numpy
#: (the option defaults come from the import-free xlperf.ooxml.limits)
CORE = (
    "pydantic",
    "openpyxl",
    "numpy",
    "lxml",
    "xlperf.core",
    "xlperf.ooxml.checks",
    "xlperf.workbook.reader",
    "xlperf.pipeline",
)

_PROBE = """
import atexit, json, sys
out = sys.argv.pop(1)
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
from xlperf.cli import main
main()
"""


def _loaded(tmp_path: Path, *args: str) -> set[str]:
    """The top-level and xlperf modules loaded by ``xlperf *args`` run to its end."""
    out = tmp_path / "modules.json"
    run = subprocess.run(
        [sys.executable, "-c", _PROBE, str(out), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert out.exists(), run.stderr
    names = set(json.loads(out.read_text()))
    return {n.split(".")[0] for n in names} | {n for n in names if n.startswith("xlperf.")}


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ev = example_evaluation()
    return save_workbook(
        build_workbook(get_framework(ev.framework), ev), tmp_path_factory.mktemp("imp") / "ex.xlsx"
    )


def test_importing_the_command_line_loads_no_library_a_command_would_load() -> None:
    code = "import json, sys; import xlperf.cli; print(json.dumps(sorted(sys.modules)))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    names = {n.split(".")[0] for n in json.loads(run.stdout)} | {
        n for n in json.loads(run.stdout) if n.startswith("xlperf.")
    }
    assert not names & {*HEAVY, *CORE}, names & {*HEAVY, *CORE}


@pytest.mark.parametrize(
    "args", [["--help"], ["submit", "--help"], ["batch", "--help"], ["serve", "--help"], ["nosuch"]]
)
def test_help_and_usage_errors_load_neither_the_models_nor_openpyxl(tmp_path: Path, args: list[str]) -> None:
    loaded = _loaded(tmp_path, *args)
    assert not loaded & {*HEAVY, *CORE}, loaded & {*HEAVY, *CORE}


def test_check_loads_no_pandas_web_or_word_library(tmp_path: Path, workbook: Path) -> None:
    loaded = _loaded(tmp_path, "check", str(workbook))
    assert "openpyxl" in loaded and "xlperf.core" in loaded  # it did read and score the workbook
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_run_without_docx_loads_no_pandas_web_or_word_library(tmp_path: Path, workbook: Path) -> None:
    loaded = _loaded(tmp_path, "run", str(workbook), "-o", str(tmp_path / "out.xlsx"))
    assert (tmp_path / "out.xlsx").exists()
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_frameworks_and_new_load_no_pandas_web_or_word_library(tmp_path: Path) -> None:
    assert not _loaded(tmp_path, "frameworks") & {*HEAVY, "openpyxl"}
    assert not _loaded(tmp_path, "new", "-o", str(tmp_path / "blank.xlsx")) & set(HEAVY)


def test_the_probe_sees_a_command_s_late_imports(tmp_path: Path, workbook: Path) -> None:
    loaded = _loaded(tmp_path, "report", str(workbook), "-o", str(tmp_path / "r.docx"))
    assert "docx" in loaded and "pandas" not in loaded
