"""The web page in a real Chromium: a workbook made from the first template this repository shipped is
offered 升级到当前模板; the button downloads the current template holding what the clerk typed, and
the page lists what the upgrade says (issue 25). A workbook of the current template is not offered it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
from clerk import fill_like_a_clerk
from conftest import ROOT, SEED_TOTAL
from test_web import CHROMIUM, SHOTS, browser, page, start_serve, upload_one  # noqa: F401 (fixtures)

from xlperf.core.evaluation import Evaluation
from xlperf.pipeline import load_input
from xlperf.workbook import layout as L

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed (.ci/run installs it)"
    ),
]
FIRST = sorted((ROOT / "tests" / "shipped_templates").glob("v01_*.xlsx"))[0]


def test_an_old_workbook_is_upgraded_from_the_page(
    page: Any,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    seed = Evaluation.load(ROOT / "xlperf" / "data" / "example_baiyun_2023.json")
    old = fill_like_a_clerk(FIRST, seed, tmp_path / "白云区_2023.xlsx")
    current = tmp_path / "current.xlsx"
    from xlperf.core.framework import get_framework
    from xlperf.workbook.template import build_workbook, save_workbook

    save_workbook(build_workbook(get_framework(seed.framework), seed), current)
    server = start_serve(tmp_path / "serve")
    try:
        upload_one(page, server, current)
        assert page.locator("#upgrade").count() == 0  # nothing to upgrade
        upload_one(page, server, old)
        assert page.inner_text("#total") == f"{SEED_TOTAL:.2f}"
        box = page.inner_text("#upgrade-box")
        assert "较早版本的模板（版本 1）" in box
        assert "department" not in page.inner_text("#findings")  # 位置 names a sheet
        with page.expect_download() as info:
            page.click("#upgrade")
        assert info.value.suggested_filename == "白云区_2023_新模板.xlsx"
        upgraded = tmp_path / "upgraded.xlsx"
        info.value.save_as(upgraded)
        page.wait_for_selector("#upgrade-report li")
        report = page.inner_text("#upgrade-report")
        assert "原表为模板版本 1" in report and "填报人" in report and "已全部迁移" in report
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "upgrade_from_the_page.png"), full_page=False)
        again, before = load_input(upgraded), load_input(old)
        assert again.evaluation == before.evaluation
        wb = openpyxl.load_workbook(upgraded)
        sheet, cell = next(iter(wb.defined_names["xp_template_version"].destinations))
        assert wb[sheet][cell.replace("$", "")].value == L.TEMPLATE_VERSION
        assert "xp_preparer" in wb.defined_names  # the fields the old template lacked are there to fill
    finally:
        server.stop()
