Option Explicit
' Code of the ThisWorkbook document module of xlperf.xlam (the builder adds the Attribute lines).

Private Sub Workbook_Open()
    ' Chinese help for the worksheet functions in Excel's function wizard.
    xlperf_udfs.xlperf_RegisterUdfHelp
End Sub
