"""Shared fixtures. Golden numbers come from docs/DOMAIN.md §2, never from our output."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from xlperf.core.evaluation import Evaluation

ROOT = Path(__file__).resolve().parents[1]

# Hypothesis profiles: "ci" (CI=true, as .ci/run runs) draws every example a test asks for; "dev"
# (the default at a desk) a fifth of them, so the fast lane stays fast. HYPOTHESIS_PROFILE overrides.
for _name in ("ci", "dev"):
    settings.register_profile(_name, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
settings.load_profile(PROFILE)


def examples(n: int) -> int:
    """How many examples a property test draws under the loaded profile."""
    return n if PROFILE == "ci" else max(3, n // 5)


EXAMPLE_JSON = ROOT / "xlperf" / "data" / "example_baiyun_2023.json"

# docs/DOMAIN.md §2: the figures the seed must reproduce.
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


# ---------------------------------------------------------------- real SMTP servers (tests/smtp_servers.py)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from smtp_servers import make_tls

    return make_tls(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def plain_server() -> Iterator[Any]:
    from smtp_servers import run_controller

    yield from run_controller()


@pytest.fixture
def silent_port() -> Iterator[int]:
    from smtp_servers import silent_listener

    yield from silent_listener()
