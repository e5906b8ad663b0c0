"""openpyxl adapter: the standard workbook\x27s layout, template builder, reader and writer."""
