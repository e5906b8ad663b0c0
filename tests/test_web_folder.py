"""The reviewer's reading of a batch folder (xlperf/web/folder.py), without a browser: what is listed,
what is refused, and that a request can only name files found inside DIR."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SEED_TOTAL

from xlperf.web.folder import Folder


@pytest.fixture(scope="module")
def batch_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("review")
    example = root / "example.xlsx"
    for args in (["example", "-o", str(example)], ["batch", str(example), "-o", str(root / "out"), "--jobs", "1"]):
        run = subprocess.run([sys.executable, "-m", "xlperf.cli", *args], capture_output=True, text=True)
        assert run.returncode in (0, 1), run.stdout + run.stderr
    return root / "out"


def test_score_cards_are_read_and_ranked(batch_out: Path) -> None:
    f = Folder.scan(batch_out)
    assert [e.total for e in f.entries] == [SEED_TOTAL]
    e = f.entries[0]
    assert e.rank == 1 and e.rating == "优" and e.errors == 4
    assert e.scored_file is not None and e.scored_file.path.name == "example.scored.xlsx"
    assert len(e.indicators("management")) == 22
    assert [(s["code"], s["times"]) for s in f.finding_statistics()][:2] == [("V13", 3), ("V16", 2)]


def test_unreadable_cards_are_reported_and_outside_files_never_listed(batch_out: Path, tmp_path: Path) -> None:
    folder = tmp_path / "dir"
    folder.mkdir()
    for p in batch_out.iterdir():
        (folder / p.name).write_bytes(p.read_bytes())
    (folder / "broken.scorecard.json").write_text("{not json", encoding="utf-8")
    (folder / "other.scorecard.json").write_text(json.dumps({"schema": "something/1"}), encoding="utf-8")
    secret = tmp_path / "secret.csv"
    secret.write_text("机密\n", encoding="utf-8")
    os.symlink(secret, folder / "link.csv")
    (folder / ".hidden").mkdir()
    (folder / ".hidden" / "x.csv").write_text("x", encoding="utf-8")
    f = Folder.scan(folder)
    assert len(f.entries) == 1
    assert len(f.problems) == 2 and any("broken.scorecard.json" in p and "无法读取" in p for p in f.problems)
    assert any("other.scorecard.json" in p and "不是 xlperf 计分卡" in p for p in f.problems)
    names = [x.relative for x in f.files]
    assert "link.csv" not in names and ".hidden/x.csv" not in names and "汇总.csv" in names
    assert f.file(-1) is None and f.file(len(f.files)) is None
    # a listed file replaced afterwards by a link to the outside is refused when asked for
    index = names.index("汇总.csv")
    (folder / "汇总.csv").unlink()
    os.symlink(secret, folder / "汇总.csv")
    assert f.file(index) is None
