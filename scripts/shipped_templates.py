"""Copy every version of the blank template this repository ever committed into tests/shipped_templates/.

    python scripts/shipped_templates.py

The files are named ``vNN_<date>_<commit>.xlsx`` in the order they were committed (distinct contents
only). ``tests/test_upgrade.py`` fills each like a clerk and takes it through check, upgrade, run and
submit, so a change of the workbook contract that would strand a clerk's old workbook fails there.
Run it again after committing a regenerated template (``python -m xlperf.workbook.template``).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = "workbook_templates/部门整体支出绩效自评表.xlsx"
TARGET = ROOT / "tests" / "shipped_templates"


def git(*args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, check=True).stdout


def main() -> None:
    commits = git("log", "--all", "--reverse", "--format=%h %cs", "--", TEMPLATE).decode().split("\n")
    seen: set[str] = set()
    TARGET.mkdir(parents=True, exist_ok=True)
    n = 0
    for line in filter(None, commits):
        commit, day = line.split()
        try:
            blob = git("rev-parse", f"{commit}:{TEMPLATE}").decode().strip()
        except subprocess.CalledProcessError:
            continue  # the commit deleted or moved it
        if blob in seen:
            continue
        seen.add(blob)
        n += 1
        target = TARGET / f"v{n:02d}_{day}_{commit}.xlsx"
        target.write_bytes(git("show", f"{commit}:{TEMPLATE}"))
        print(target.relative_to(ROOT))


if __name__ == "__main__":
    main()
