"""The standard workbook's contract: its layout (sheets, defined names, tables, headers), the blank
template (built with openpyxl), the reader (a Book → Evaluation), the writer (the three output
sheets) and printing. The package level it stands on — zip parts, XML, the pre-open checks, the
stream reader — is :mod:`xlperf.ooxml`."""
