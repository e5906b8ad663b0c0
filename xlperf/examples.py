"""The bundled example: the published 2023 report of 白云区科工商信局, transcribed (see scripts/)."""

from __future__ import annotations

from importlib import resources

from xlperf.core.evaluation import Evaluation

EXAMPLE_RESOURCE = "example_baiyun_2023.json"


def example_evaluation() -> Evaluation:
    """The seed as an ``Evaluation`` (docs/DOMAIN.md §2: it scores 98.57, 优)."""
    data = (resources.files("xlperf") / "data" / EXAMPLE_RESOURCE).read_bytes()
    return Evaluation.from_json(data)
