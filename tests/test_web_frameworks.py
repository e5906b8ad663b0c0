"""The web page in a real Chromium: 新建自评表 offers this machine's frameworks, and an uploaded
workbook is scored by the rules it carries (the variant of test_frameworks_everywhere: 94.57, 优秀)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
from test_frameworks_everywhere import VARIANT_TOTAL, _filled, variant_toml
from test_web import CHROMIUM, SHOTS, browser, open_home, page, start_serve, upload_one  # noqa: F401 (fixtures)

from xlperf.core.framework import load_framework
from xlperf.workbook import layout as L

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed (.ci/run installs it)"
    ),
]


def test_new_workbook_for_a_chosen_framework_and_upload_scored_by_its_rules(
    page: Any,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    variant = tmp_path / "variant.toml"
    variant.write_text(variant_toml(), encoding="utf-8")
    home = tmp_path / "serve"
    (home / "home" / "frameworks").mkdir(parents=True)
    (home / "home" / "frameworks" / "variant-2024.toml").write_text(variant_toml(), encoding="utf-8")
    server = start_serve(home)
    try:
        open_home(page, server)
        options = page.eval_on_selector_all("#framework option", "els => els.map(e => e.value)")
        assert options == ["guangzhou-2023", "sichuan-example", "variant-2024"]
        page.select_option("#framework", "variant-2024")
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "frameworks_new.png"))
        with page.expect_download() as info:
            page.click("#new-workbook")
        blank = tmp_path / "blank.xlsx"
        info.value.save_as(blank)
        wb = openpyxl.load_workbook(blank)
        cell = wb.defined_names["xp_framework_sha256"].attr_text.split("!")[1].replace("$", "")
        assert wb[L.HIDDEN][cell].value == load_framework(variant).sha256

        filled = _filled(variant, tmp_path / "测试局_2024.xlsx")
        upload_one(page, server, filled)
        assert page.inner_text("#total") == f"{VARIANT_TOTAL:.2f}" and page.inner_text("#rating") == "优秀"
        page.screenshot(path=str(SHOTS / "frameworks_upload.png"), full_page=True)
        # a request naming a path is refused: a framework is chosen by id only
        page.goto(f"{server.base}/new.xlsx?framework=/etc/passwd.toml")
        assert "框架" in page.content()
    finally:
        server.stop()
