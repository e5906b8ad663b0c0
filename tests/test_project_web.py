"""The web page (``xlperf serve``) in a real Chromium with a 项目支出绩效自评表: 新建自评表 offers the
project frameworks, an upload is scored as a project form (the 安徽 table: 90, 优, J03 on the empty
total row), the scored copy and the report download, and no 报送包 is offered for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
from test_project_core import anhui
from test_web import CHROMIUM, SHOTS, browser, open_home, page, start_serve, upload_one  # noqa: F401 (fixtures)

from xlperf.core.project.framework import get_project_framework
from xlperf.project import layout as P
from xlperf.project.template import build_project_workbook

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed (.ci/run installs it)"
    ),
]


def test_project_form_on_the_web_page(page: Any, tmp_path: Path) -> None:  # noqa: F811 (fixture)
    server = start_serve(tmp_path / "serve")
    try:
        open_home(page, server)
        page.select_option("#framework", "national-project")
        with page.expect_download() as info:
            page.click("#new-workbook")
        blank = tmp_path / "blank.xlsx"
        info.value.save_as(blank)
        assert openpyxl.load_workbook(blank).sheetnames[0] == P.FORM_SHEET

        path = tmp_path / "棠溪镇委托业务.xlsx"
        build_project_workbook(get_project_framework(), anhui()).save(path)
        upload_one(page, server, path)
        assert page.inner_text("#total") == "90.00" and page.inner_text("#rating") == "优"
        assert "委托业务 2022 年度项目支出绩效自评" in page.inner_text("h1")
        codes = [c.strip() for c in page.locator("#findings td.code").all_inner_texts()]
        assert "J03" in codes and "J04" in codes
        where = page.locator("#findings tr.error td.where").all_inner_texts()
        assert f"{P.FORM_SHEET}!D6" in [w.strip() for w in where]
        assert page.locator("#package").count() == 0 and page.locator("#send").count() == 0
        assert "项目支出绩效自评表" in page.inner_text("#project-note")
        assert "一、项目基本情况" in page.inner_text("#s-report")
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "project_job.png"), full_page=True)
        with page.expect_download() as info:
            page.click("#dl-scored")
        scored = tmp_path / "scored.xlsx"
        info.value.save_as(scored)
        assert openpyxl.load_workbook(scored).sheetnames[:3] == list(P.OUTPUT_SHEETS)
        with page.expect_download() as info:
            page.click("#dl-docx")
        assert info.value.suggested_filename.endswith(".docx")
    finally:
        server.stop()
