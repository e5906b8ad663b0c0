"""Shared fixtures. Golden numbers come from ../shared/spec/DOMAIN.md §2, never from our output."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xlperf.evaluation import Evaluation

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_JSON = ROOT / "xlperf" / "data" / "example_baiyun_2023.json"

# DOMAIN.md §2: the figures the seed must reproduce.
SEED_SECTIONS = {"output": 18.79, "benefit": 19.78, "spending": 10.00, "duty": 48.57, "management": 50.00}
SEED_TOTAL = 98.57
SEED_RATING = "优"
SEED_RATIOS = {
    "budget_execution": 96.19,
    "carryover": 0.02,
    "public_funds_control": -16.56,
    "three_public_execution": 58.87,
    "fixed_asset_utilization": 100.00,
}

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")


@pytest.fixture
def seed() -> Evaluation:
    return Evaluation.load(EXAMPLE_JSON)
