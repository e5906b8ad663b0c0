"""One of each mechanism (issue 13): the helpers are written once and reused, never copied.

A source scan: each mechanism's tell-tale call or constant appears only in its one home module.
"""

from __future__ import annotations

import re

import click
import pytest
from conftest import ROOT

from xlperf.cli import main
from xlperf.ooxml.limits import Limits

SOURCES = {
    p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8") for p in (ROOT / "xlperf").rglob("*.py")
}

#: mechanism: (pattern, the one module allowed to contain it)
HOMES = {
    "SHA-256": (r"hashlib\.sha256\(", "xlperf/core/digest.py"),
    "atomic write (temporary file)": (r"mkstemp\(|NamedTemporaryFile\(", "xlperf/files.py"),
    "Excel's cell text limit": (r"\b32767\b|\b32_767\b", "xlperf/workbook/cells.py"),
    "Excel's control-character filter": (r"ILLEGAL_CHARACTERS_RE\.sub", "xlperf/workbook/cells.py"),
    "text normaliser": (r"normalize\(\s*[\"']NFKC[\"']", "xlperf/core/quantity.py"),
    "the data folder": (r"user_data_dir\(", "xlperf/paths.py"),
    "the Limits defaults": (r"class Limits\b", "xlperf/ooxml/limits.py"),
}


@pytest.mark.parametrize("mechanism", sorted(HOMES))
def test_a_mechanism_lives_in_one_module(mechanism: str) -> None:
    pattern, home = HOMES[mechanism]
    where = sorted(path for path, text in SOURCES.items() if re.search(pattern, text))
    assert where == [home], f"{mechanism}: {where}"


def test_the_command_line_defaults_are_the_limits_defaults() -> None:
    check = main.commands["check"]
    defaults = {
        p.name: p.default for p in check.params if isinstance(p, click.Option) and p.name.startswith("max_")
    }
    limits = Limits()
    assert defaults and all(getattr(limits, name) == value for name, value in defaults.items()), defaults
