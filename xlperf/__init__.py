"""xlperf — 部门整体支出绩效自评的校验、计分、报告与报送.

The core (``evaluation``, ``framework``, ``quantity``, ``scoring``, ``validation``, ``result``,
``narrative``) is pure Python and imports neither xlwings nor openpyxl; adapters live in
``xlperf.workbook`` (openpyxl), ``xlperf.excel`` (xlwings), ``xlperf.word`` and ``xlperf.submission``.
"""

__version__ = "0.1.0"
