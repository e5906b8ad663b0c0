"""The package level: an .xlsx/.xlsm as a zip of XML parts, read and written without a spreadsheet
library's object model (shaped like python-docx's ``opc/`` + ``oxml/``).

Nothing here knows the standard workbook (that is :mod:`xlperf.workbook`) or scoring (:mod:`xlperf.core`).
This ``__init__`` imports nothing, so ``xlperf.ooxml.limits`` stays import-free for the command line.
"""
