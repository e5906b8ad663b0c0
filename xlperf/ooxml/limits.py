"""The bounds on what xlperf opens, with their defaults: the one place they are written.

Kept apart from :mod:`xlperf.ooxml.checks` (which enforces them) and free of imports, so the
command line takes its options' defaults from here without loading the workbook code at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Bounds on what xlperf will open; each is an option of the command line."""

    max_file_mb: float = 50
    max_expanded_mb: float = 300
    max_ratio: float = 200  # uncompressed / compressed for one part over 8 MB: far beyond any real workbook
    max_rows: int = 100_000
    max_cells: int = 1_000_000  # one openpyxl cell costs a few hundred bytes of memory
    max_workbook_cells: int = 1_000_000  # all sheets together (one full sheet's worth)
    max_merged_cells: int = 100_000  # cells covered by merged ranges, per sheet
    max_hyperlink_cells: int = 100_000  # cells covered by hyperlinks, per sheet
