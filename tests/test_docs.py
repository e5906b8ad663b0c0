"""The public surface is documented: README names every command, button and UDF with its help."""

from __future__ import annotations

import importlib.util
import re
from typing import Any

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
    assert (
        "placeholder" not in README.lower() and "BENCHMARK-FIGURES" not in README and "REFUSALS" not in README
    )


# ------------------------------------------------------------------ README's generated tables


def _readme_tables() -> Any:
    spec = importlib.util.spec_from_file_location("readme_tables", ROOT / "docs" / "readme_tables.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_tables_are_generated_from_the_code() -> None:
    """The command, button and function tables are what ``python docs/readme_tables.py`` writes."""
    tables = _readme_tables()
    for name in tables.TABLES:
        assert tables.current(README, name) == tables.block(name), (
            f"README's {name} table differs from the code: run python docs/readme_tables.py"
        )


# ------------------------------------------------------------------ citations of docs/ sections

DOCS = ROOT / "docs"

#: ``docs/DOMAIN.md §1.3``, ``§1.3–1.4``, ``docs/EXCEL.md section 4``, ``sections 1-2``,
#: ``docs/DOMAIN.md V42``,
#: ``docs/DESIGN.md "Workbook"``, ``docs/DOMAIN.md §3, "Input forms"`` — with or without a ``docs/`` in front
CITATION = re.compile(
    r"(?P<file>DESIGN|DOMAIN|EXCEL)\.md\s+(?:"
    r"§(?P<sec>\d+(?:\.\d+)*)(?:\s*[–-]\s*(?P<sec_to>\d+(?:\.\d+)*))?(?:,\s*[\"“](?P<sub>[^\"”\n]+)[\"”])?"
    r"|sections?\s+(?P<num>\d+)(?:\s*[–-]\s*(?P<num_to>\d+))?"
    r"|(?P<code>[VIPR]\d\d)\b"
    r"|[\"“](?P<title>[^\"”\n]+)[\"”]"
    r")"
)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.MULTILINE)
NUMBERED = re.compile(r"^(\d+(?:\.\d+)*)\.?(?:\s|$)")


def _headings(doc: str) -> list[str]:
    return [m.group(1).strip() for m in HEADING.finditer((DOCS / doc).read_text(encoding="utf-8"))]


def _has_section(doc: str, number: str) -> bool:
    return any((m := NUMBERED.match(h)) and m.group(1) == number for h in _headings(doc))


def _has_title(doc: str, title: str) -> bool:
    return any(NUMBERED.sub("", h).strip().startswith(title) for h in _headings(doc))


def _has_code(doc: str, code: str) -> bool:
    return (
        re.search(rf"^\|\s*{code}\s*\|", (DOCS / doc).read_text(encoding="utf-8"), re.MULTILINE) is not None
    )


def _unresolved(m: re.Match[str]) -> list[str]:
    doc = f"{m['file']}.md"
    missing: list[str] = []
    for number in (m["sec"], m["sec_to"], m["num"], m["num_to"]):
        if number and not _has_section(doc, number):
            missing.append(f"no heading numbered {number} in docs/{doc}")
    for title in (m["sub"], m["title"]):
        if title and not _has_title(doc, title):
            missing.append(f"no heading {title!r} in docs/{doc}")
    if m["code"] and not _has_code(doc, m["code"]):
        missing.append(f"no table row for {m['code']} in docs/{doc}")
    return missing


def _citations() -> list[tuple[str, int, re.Match[str]]]:
    found = []
    sources = [
        *sorted((ROOT / "xlperf").rglob("*")),
        *sorted((ROOT / "tests").rglob("*")),
        *sorted(DOCS.glob("*.md")),
        ROOT / "README.md",
    ]
    for path in sources:
        if not path.is_file() or path.suffix not in {
            ".py",
            ".toml",
            ".md",
            ".html",
            ".js",
            ".bas",
            ".txt",
            ".vba",
        }:
            continue
        if "out" in path.relative_to(ROOT).parts or path.name == "test_docs.py":
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for m in CITATION.finditer(text):
            found.append((str(path.relative_to(ROOT)), text.count("\n", 0, m.start()) + 1, m))
    return found


def test_every_cited_docs_section_exists() -> None:
    """Every ``docs/DESIGN.md``/``docs/DOMAIN.md``/``docs/EXCEL.md`` section the code,
    tests and docs cite is a heading
    (or, for a validation code, a table row) of that file in docs/ — whatever path the citation gives."""
    citations = _citations()
    assert len(citations) > 30, "the citation pattern found almost nothing: is it still right?"
    problems = [
        f"{where}:{line}: {m.group(0)!r}: {why}" for where, line, m in citations for why in _unresolved(m)
    ]
    assert not problems, "\n".join(problems)


def test_the_citation_check_rejects_a_missing_section() -> None:
    for bogus in (
        "docs/DOMAIN.md §9.9",
        "docs/EXCEL.md section 42",
        "docs/DOMAIN.md V99",
        'docs/DESIGN.md "No such heading"',
    ):
        m = CITATION.search(bogus)
        assert m and _unresolved(m), bogus
    for real in (
        "docs/DOMAIN.md §1.3–1.4",
        "docs/EXCEL.md sections 1-2",
        "docs/DOMAIN.md V42",
        'docs/DESIGN.md "Score card JSON"',
        'docs/DOMAIN.md §3, "Input forms"',
    ):
        m = CITATION.search(real)
        assert m and not _unresolved(m), real
