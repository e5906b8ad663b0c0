"""Helpers for tests that use real second readers: LibreOffice headless and python-calamine."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

ERROR_VALUES = ("#NAME?", "#VALUE!", "#REF!", "#DIV/0!", "#N/A", "#NUM!", "#NULL!", "Err:")


def soffice() -> str:
    path = shutil.which("soffice") or shutil.which("libreoffice")
    assert path, "LibreOffice is required (.ci/run installs libreoffice-calc); install it with apt-get"
    return path


def convert(src: Path, fmt: str, outdir: Path, profile: Path, timeout: int = 180) -> Path:
    """LibreOffice opens ``src`` (recalculating formulas that have no cached value)
    and saves it as ``fmt``."""
    outdir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [
            soffice(),
            "--headless",
            "--norestore",
            f"-env:UserInstallation=file://{profile}",
            "--convert-to",
            fmt,
            "--outdir",
            str(outdir),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    out = outdir / f"{src.stem}.{fmt.split(':')[0]}"
    assert out.exists(), f"LibreOffice did not convert {src}: {done.stdout} {done.stderr}"
    return out


def calamine_sheets(path: Path) -> dict[str, list[list[Any]]]:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    return {name: wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names}


def error_cells(sheets: dict[str, list[list[Any]]]) -> list[tuple[str, int, int, str]]:
    bad = []
    for name, rows in sheets.items():
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, str) and value.startswith(ERROR_VALUES):
                    bad.append((name, r + 1, c + 1, value))
    return bad


def convert_many(
    srcs: list[Path], fmt: str, outdir: Path, profile: Path, timeout: int = 600
) -> dict[Path, Path]:
    """One LibreOffice run converts every file in ``srcs`` (a start of soffice costs seconds)."""
    outdir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [
            soffice(),
            "--headless",
            "--norestore",
            f"-env:UserInstallation=file://{profile}",
            "--convert-to",
            fmt,
            "--outdir",
            str(outdir),
            *map(str, srcs),
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    out = {src: outdir / f"{src.stem}.{fmt.split(':')[0]}" for src in srcs}
    missing = [str(s) for s, o in out.items() if not o.exists()]
    assert not missing, f"LibreOffice did not convert {missing}: {done.stdout} {done.stderr}"
    return out
