"""The one error the package level raises."""

from __future__ import annotations

from xlperf.core.errors import XlperfError


class WorkbookReadError(XlperfError):
    """The file cannot be read as a workbook at all (exit code 2). The message is for the clerk:
    Chinese, naming the file (and the part or sheet) and what to do."""
