"""The public surface is documented: README names every command, button and UDF with its help."""

from __future__ import annotations

import re

from click.testing import CliRunner
from conftest import ROOT

from xlperf.cli import main
from xlperf.excel.registry import BUTTONS, UDFS

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_command_is_in_readme_and_has_help() -> None:
    for name, command in main.commands.items():
        assert f"xlperf {name}" in README, name
        assert command.help and command.help.strip(), name
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        for param in command.params:
            if param.param_type_name == "option" and not getattr(param, "hidden", False):
                assert getattr(param, "help", None), f"{name} {param.name} has no help text"


def test_every_button_and_udf_is_in_readme_with_its_help() -> None:
    for button in BUTTONS:
        assert f"| {button.label} | `{button.id}` | {button.help} |" in README, button.id
    for udf in UDFS:
        assert udf.name in README and udf.help in README, udf.name


def test_readme_gives_the_two_fresh_machine_commands_and_ci_runs_the_same_tests() -> None:
    assert "xlperf demo" in README
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = re.search(r"python -m pytest -q", README)
    assert test_command and "python -m pytest -q" in ci
    assert "placeholder" not in README.lower() and "BENCHMARK-FIGURES" not in README and "REFUSALS" not in README
