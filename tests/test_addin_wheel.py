"""The add-in builds from the built wheel alone, outside the source tree (issue 15, item 1).

The wheel is built from this checkout (``pip wheel --no-build-isolation``) and installed with
``--no-deps`` into a fresh venv. The fresh venv reaches the third-party dependencies (xlwings,
openpyxl, ...) through a ``.pth`` line naming the development venv's site-packages: a plain path
line does not run the ``.pth`` files in that folder, so the editable install of xlperf there is not
seen, and the test checks that ``xlperf`` is imported from the fresh venv. This keeps the test
offline; it proves that everything xlperf itself needs (the VBA sources in ``xlperf/excel/macros``)
travels in the wheel.
"""

from __future__ import annotations

import os
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _bin(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / name


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    (whl,) = out.glob("xlperf-*.whl")
    return whl


@pytest.mark.slow
def test_wheel_carries_the_vba_sources(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    for name in ("ThisWorkbook.vba", "xlperf_ribbon.bas", "xlperf_selftest.bas"):
        assert f"xlperf/excel/macros/{name}" in names
    assert not any(n.startswith("macros/") for n in names)


@pytest.mark.slow
def test_addin_builds_from_a_fresh_venv_with_only_the_wheel(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    py = _bin(venv, "python")
    purelib = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(py),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    # Dependencies only (see the module docstring): the development venv's site-packages, as a plain path.
    Path(purelib, "zz_test_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n", encoding="utf-8")

    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    where = subprocess.run(
        [str(py), "-c", "import xlperf; print(xlperf.__file__)"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(venv), f"xlperf imported from {where}, not from the wheel"

    build = subprocess.run(
        [str(_bin(venv, "xlperf")), "addin", "build", "-o", str(work / "xlperf.xlam")],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    assert "已生成加载项" in build.stdout
    with zipfile.ZipFile(work / "xlperf.xlam") as zf:
        assert {"xl/vbaProject.bin", "customUI/customUI14.xml"} <= set(zf.namelist())
    # Same bytes as the add-in built from the source tree.
    from xlperf.excel.addin import build_addin

    assert (work / "xlperf.xlam").read_bytes() == build_addin(tmp_path / "src.xlam").read_bytes()
